/* cond_tz.c — UTC offsets of tzdata zones for schedules, fast and correct
 * across daylight-saving changes.
 *
 * The C library's tz support, not a TZif parser of our own. localtime_r
 * only follows the process-wide TZ, so a zone's offset is computed by
 * switching TZ (setenv + tzset) under a mutex and restoring it. That is slow
 * (tzset reads the zone file), so each zone caches "spans": intervals in
 * which its offset does not change, found by probing day by day (up to 400
 * days each way) and bisecting to the second where it changes — a span is
 * thus a whole DST period. A lookup is a mutex and a scan of a few spans;
 * a zone's file is read again only for a time outside every cached span.
 * Assumes no zone changes its offset twice within one day (true of tzdata).
 * Other threads must not rely on localtime() while a refresh runs (the
 * engine evaluates conditions on its loop thread). */
#include "scenario/cond_int.h"
#include "util/alloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TZ_DIR "/usr/share/zoneinfo"
#define MAX_SPANS 32
#define PROBE_DAYS 400

typedef struct {
    time_t lo, hi;           /* the offset holds for lo <= t < hi */
    long off;                /* seconds east of UTC */
} tz_span;

struct scn_tz {
    char *name;              /* NULL: the process's local zone */
    char *local_tz;          /* local zone: the TZ value the spans were built under */
    tz_span spans[MAX_SPANS];
    size_t count, last;      /* LAST: the span that answered last */
    struct scn_tz *next;
};

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;
static scn_tz *tz_zones;     /* process-wide, never freed: a handful of zones */
static scn_tz tz_local;

bool scn_tz_exists(const char *name)
{
    if (!name || !*name || name[0] == '/' || strstr(name, "..") || strlen(name) > 200)
        return false;
    char path[300];
    snprintf(path, sizeof path, "%s/%s", TZ_DIR, name);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return false;
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    char magic[4];
    bool ok = fread(magic, 1, 4, f) == 4 && memcmp(magic, "TZif", 4) == 0;
    fclose(f);
    return ok;
}

scn_tz *scn_tz_get(const char *name)
{
    if (!name)
        return &tz_local;
    pthread_mutex_lock(&tz_lock);
    scn_tz *z = tz_zones;
    while (z && strcmp(z->name, name) != 0)
        z = z->next;
    if (!z) {
        z = cr_xcalloc(1, sizeof *z);
        z->name = cr_xstrdup(name);
        z->next = tz_zones;
        tz_zones = z;
    }
    pthread_mutex_unlock(&tz_lock);
    return z;
}

const char *scn_tz_name(const scn_tz *z)
{
    return z->name;
}

static long offset_at(time_t t)
{
    struct tm tm;
    localtime_r(&t, &tm);
    return tm.tm_gmtoff;
}

/* The first second in (a, b] whose offset is not OFF (offset_at(a) == OFF). */
static time_t bisect(time_t a, time_t b, long off)
{
    while (b - a > 1) {
        time_t m = a + (b - a) / 2;
        if (offset_at(m) == off)
            a = m;
        else
            b = m;
    }
    return b;
}

/* The span around T; TZ is already set to the zone. */
static tz_span find_span(time_t t)
{
    long off = offset_at(t);
    tz_span s = {t - (time_t)PROBE_DAYS * 86400, t + (time_t)PROBE_DAYS * 86400, off};
    for (int k = 1; k <= PROBE_DAYS; k++) {
        time_t p = t + (time_t)k * 86400;
        if (offset_at(p) != off) {
            s.hi = bisect(p - 86400, p, off);
            break;
        }
    }
    for (int k = 1; k <= PROBE_DAYS; k++) {
        time_t p = t - (time_t)k * 86400;
        if (offset_at(p) != off) {
            /* The last change is in (p, p + 1 day]: its first second. */
            s.lo = bisect(p, p + 86400, offset_at(p));
            break;
        }
    }
    return s;
}

long scn_tz_offset(scn_tz *z, time_t t)
{
    pthread_mutex_lock(&tz_lock);
    if (!z->name) {
        /* The local zone follows TZ: a changed TZ drops the spans. */
        const char *cur = getenv("TZ");
        if ((cur == NULL) != (z->local_tz == NULL) || (cur && strcmp(cur, z->local_tz) != 0)) {
            free(z->local_tz);
            z->local_tz = cr_xstrdup(cur);
            z->count = 0;
        }
    }
    const tz_span *hit = NULL;
    if (z->last < z->count && t >= z->spans[z->last].lo && t < z->spans[z->last].hi)
        hit = &z->spans[z->last];
    for (size_t i = 0; !hit && i < z->count; i++)
        if (t >= z->spans[i].lo && t < z->spans[i].hi) {
            hit = &z->spans[i];
            z->last = i;
        }
    if (!hit) {
        tz_span s;
        if (z->name) {
            const char *old = getenv("TZ");
            char *saved = cr_xstrdup(old);
            setenv("TZ", z->name, 1);
            tzset();
            s = find_span(t);
            if (saved)
                setenv("TZ", saved, 1);
            else
                unsetenv("TZ");
            tzset();
            free(saved);
        } else {
            tzset();
            s = find_span(t);
        }
        if (z->count == MAX_SPANS)
            z->count = 0;   /* a long-running process wandering in time: start over */
        z->last = z->count;
        z->spans[z->count++] = s;
        hit = &z->spans[z->last];
    }
    long off = hit->off;
    pthread_mutex_unlock(&tz_lock);
    return off;
}
