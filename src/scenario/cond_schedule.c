/* cond_schedule.c — `schedule:` conditions: days, time ranges (may cross
 * midnight), dates and date ranges (also yearly `12-31`), in a tzdata zone.
 *
 * Time zones and their offsets: cond_tz.c. */
#include "scenario/cond_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scenario/compile.h"

#define TZ_DIR "/usr/share/zoneinfo"

typedef struct { short from, to; } time_range;          /* minutes of the day */
typedef struct { int from, to; bool yearly; } date_range; /* yyyymmdd, or mmdd when yearly */

struct scn_schedule {
    unsigned days;           /* bit per tm_wday (0 = sunday); 0: any day */
    const char *days_src;
    time_range *times;
    size_t time_count;
    const char *times_src;
    date_range *dates;
    size_t date_count;
    const char *dates_src;
    scn_tz *zone;
};

static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};
static const char *const day_long[] = {"sunday", "monday", "tuesday", "wednesday",
                                       "thursday", "friday", "saturday", NULL};
static const char *const schedule_keys[] = {"days", "time", "dates", "tz", NULL};

/* ---- compile ---- */

static int day_index(const char *s, size_t n)
{
    char w[16];
    if (n == 0 || n >= sizeof w)
        return -1;
    for (size_t i = 0; i < n; i++)
        w[i] = (char)tolower((unsigned char)s[i]);
    w[n] = '\0';
    for (int i = 0; i < 7; i++)
        if (strcmp(w, day_names[i]) == 0 || strcmp(w, day_long[i]) == 0)
            return i;
    return -1;
}

static void trim(const char **s, size_t *n)
{
    while (*n && isspace((unsigned char)**s))
        (*s)++, (*n)--;
    while (*n && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

static const char *const day_words[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat",
                                        "sunday", "monday", "tuesday", "wednesday", "thursday",
                                        "friday", "saturday", NULL};

static int day_or_error(scn_compile_ctx *cx, const scn_node *n, const char *s, size_t len)
{
    int d = day_index(s, len);
    if (d >= 0)
        return d;
    char w[32];
    snprintf(w, sizeof w, "%.*s", (int)(len < 31 ? len : 31), s);
    const char *hint = scn_suggest(w, day_words);
    if (hint)
        scn_cx_error(cx, n, "unknown day '%s'; did you mean '%s'?", w, hint);
    else
        scn_cx_error(cx, n, "unknown day '%s' (expected mon, tue, wed, thu, fri, sat, sun)", w);
    return -1;
}

/* One item of `days`: "mon", "mon-fri" (wraps: "fri-mon"). */
static bool parse_days_item(scn_compile_ctx *cx, const scn_node *n, const char *s, size_t len,
                            unsigned *mask)
{
    trim(&s, &len);
    const char *dash = memchr(s, '-', len);
    size_t alen = dash ? (size_t)(dash - s) : len;
    const char *a = s;
    trim(&a, &alen);
    int from = day_or_error(cx, n, a, alen), to = from;
    if (from < 0)
        return false;
    if (dash) {
        const char *b = dash + 1;
        size_t blen = (size_t)(s + len - b);
        trim(&b, &blen);
        if ((to = day_or_error(cx, n, b, blen)) < 0)
            return false;
    }
    for (int d = from;; d = (d + 1) % 7) {
        *mask |= 1u << d;
        if (d == to)
            break;
    }
    return true;
}

/* A scalar with comma-separated items, or a list of scalars: calls ITEM on
 * each; SRC gets the text for explanations. */
typedef bool (*item_fn)(scn_compile_ctx *cx, const scn_node *n, const char *s, size_t len,
                        void *out);

static bool each_item(scn_compile_ctx *cx, const scn_node *n, const char *what, item_fn fn,
                      void *out, const char **src)
{
    cr_strbuf text = CR_STRBUF_INIT;
    bool ok = true;
    if (n->kind == SCN_NODE_SCALAR) {
        const char *s = n->str;
        size_t len = n->len;
        if (len == 0) {
            scn_cx_error(cx, n, "empty %s", what);
            ok = false;
        }
        while (ok && len) {
            const char *comma = memchr(s, ',', len);
            size_t il = comma ? (size_t)(comma - s) : len;
            ok = fn(cx, n, s, il, out);
            if (!comma)
                break;
            s = comma + 1;
            len -= il + 1;
        }
        cr_strbuf_append(&text, n->str, n->len);
    } else if (n->kind == SCN_NODE_SEQ && n->count > 0) {
        for (size_t i = 0; i < n->count; i++) {
            const scn_node *it = n->items[i];
            size_t mark = scn_path_index(&cx->path, i);
            if (it->kind != SCN_NODE_SCALAR) {
                scn_cx_error(cx, it, "expected a string in %s", what);
                ok = false;
            } else if (!fn(cx, it, it->str, it->len, out)) {
                ok = false;
            }
            scn_path_pop(&cx->path, mark);
            if (i)
                cr_strbuf_putc(&text, ',');
            if (it->kind == SCN_NODE_SCALAR)
                cr_strbuf_append(&text, it->str, it->len);
        }
    } else {
        scn_cx_error(cx, n, "expected %s as a string or a non-empty list", what);
        ok = false;
    }
    *src = cr_arena_strdup(cx->arena, cr_strbuf_cstr(&text));
    cr_strbuf_free(&text);
    return ok;
}

static bool days_cb(scn_compile_ctx *cx, const scn_node *n, const char *s, size_t len, void *out)
{
    return parse_days_item(cx, n, s, len, out);
}

/* "09:00" / "9:30" / "24:00" -> minutes; -1 when malformed. */
static int parse_hhmm(const char *s, size_t len)
{
    trim(&s, &len);
    int h = 0, m = 0;
    size_t i = 0;
    size_t hd = 0;
    while (i < len && isdigit((unsigned char)s[i]) && hd < 2)
        h = h * 10 + (s[i++] - '0'), hd++;
    if (hd == 0 || i >= len || s[i] != ':')
        return -1;
    i++;
    if (i + 2 != len || !isdigit((unsigned char)s[i]) || !isdigit((unsigned char)s[i + 1]))
        return -1;
    m = (s[i] - '0') * 10 + (s[i + 1] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0))
        return -1;
    return h * 60 + m;
}

typedef struct { cr_arena *a; time_range *items; size_t count, cap; } time_list;

static bool time_cb(scn_compile_ctx *cx, const scn_node *n, const char *s, size_t len, void *out)
{
    time_list *tl = out;
    const char *dash = memchr(s, '-', len);
    int from = dash ? parse_hhmm(s, (size_t)(dash - s)) : -1;
    int to = dash ? parse_hhmm(dash + 1, (size_t)(s + len - dash - 1)) : -1;
    if (from < 0 || to < 0 || from == 24 * 60) {
        scn_cx_error(cx, n, "invalid time range '%.*s' (expected HH:MM-HH:MM, e.g. 09:00-18:00)",
                     (int)len, s);
        return false;
    }
    if (from == to) {
        scn_cx_error(cx, n, "empty time range '%.*s' (start equals end)", (int)len, s);
        return false;
    }
    if (tl->count == tl->cap) {
        size_t cap = tl->cap ? tl->cap * 2 : 4;
        time_range *ni = cr_arena_alloc(tl->a, cap * sizeof *ni);
        if (tl->count)
            memcpy(ni, tl->items, tl->count * sizeof *ni);
        tl->items = ni;
        tl->cap = cap;
    }
    tl->items[tl->count++] = (time_range){(short)from, (short)to};
    return true;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

/* "2026-12-31" -> 20261231 (*yearly false); "12-31" -> 1231 (*yearly true). */
static int parse_date(const char *s, size_t len, bool *yearly)
{
    trim(&s, &len);
    int y = 0, m, d;
    if (len == 10 && s[4] == '-' && s[7] == '-') {
        for (int i = 0; i < 10; i++)
            if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
                return -1;
        y = atoi(s);
        m = (s[5] - '0') * 10 + (s[6] - '0');
        d = (s[8] - '0') * 10 + (s[9] - '0');
        *yearly = false;
    } else if (len == 5 && s[2] == '-') {
        for (int i = 0; i < 5; i++)
            if (i != 2 && !isdigit((unsigned char)s[i]))
                return -1;
        m = (s[0] - '0') * 10 + (s[1] - '0');
        d = (s[3] - '0') * 10 + (s[4] - '0');
        *yearly = true;
    } else {
        return -1;
    }
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(*yearly ? 2000 : y, m) || (!*yearly && y < 1970))
        return -1;
    return y * 10000 + m * 100 + d;
}

typedef struct { cr_arena *a; date_range *items; size_t count, cap; } date_list;

static bool date_cb(scn_compile_ctx *cx, const scn_node *n, const char *s, size_t len, void *out)
{
    date_list *dl = out;
    const char *dots = NULL;
    for (size_t i = 0; i + 1 < len; i++)
        if (s[i] == '.' && s[i + 1] == '.') {
            dots = s + i;
            break;
        }
    bool y1 = false, y2 = false;
    int from = parse_date(s, dots ? (size_t)(dots - s) : len, &y1), to = from;
    if (dots)
        to = parse_date(dots + 2, (size_t)(s + len - dots - 2), &y2);
    else
        y2 = y1;
    if (from < 0 || to < 0 || y1 != y2) {
        scn_cx_error(cx, n, "invalid date '%.*s' (expected YYYY-MM-DD, YYYY-MM-DD..YYYY-MM-DD, "
                     "or MM-DD for every year)", (int)len, s);
        return false;
    }
    if (!y1 && to < from) {
        scn_cx_error(cx, n, "date range '%.*s' ends before it starts", (int)len, s);
        return false;
    }
    if (dl->count == dl->cap) {
        size_t cap = dl->cap ? dl->cap * 2 : 4;
        date_range *ni = cr_arena_alloc(dl->a, cap * sizeof *ni);
        if (dl->count)
            memcpy(ni, dl->items, dl->count * sizeof *ni);
        dl->items = ni;
        dl->cap = cap;
    }
    dl->items[dl->count++] = (date_range){from, to, y1};
    return true;
}

scn_schedule *scn_schedule_compile(scn_compile_ctx *cx, const scn_node *n)
{
    if (n->kind != SCN_NODE_MAP) {
        scn_cx_error(cx, n, "schedule must be a mapping with days, time, dates and/or tz");
        return NULL;
    }
    scn_schedule *s = cr_arena_alloc(cx->arena, sizeof *s);
    s->zone = scn_tz_get(NULL);
    bool ok = true, any = false;
    for (size_t i = 0; i < n->count; i++) {
        const scn_node *k = n->pairs[i].key, *v = n->pairs[i].val;
        bool known = false;
        for (size_t j = 0; schedule_keys[j]; j++)
            known |= strcmp(k->str, schedule_keys[j]) == 0;
        size_t mark = known ? scn_path_key(&cx->path, k->str) : cx->path.len;
        if (strcmp(k->str, "days") == 0) {
            ok &= each_item(cx, v, "days", days_cb, &s->days, &s->days_src);
            any = true;
        } else if (strcmp(k->str, "time") == 0) {
            time_list tl = {cx->arena, NULL, 0, 0};
            ok &= each_item(cx, v, "time", time_cb, &tl, &s->times_src);
            s->times = tl.items;
            s->time_count = tl.count;
            any = true;
        } else if (strcmp(k->str, "dates") == 0) {
            date_list dl = {cx->arena, NULL, 0, 0};
            ok &= each_item(cx, v, "dates", date_cb, &dl, &s->dates_src);
            s->dates = dl.items;
            s->date_count = dl.count;
            any = true;
        } else if (strcmp(k->str, "tz") == 0) {
            if (v->kind != SCN_NODE_SCALAR || v->len == 0) {
                scn_cx_error(cx, v, "tz must be a time zone name such as Europe/Moscow");
                ok = false;
            } else if (!scn_tz_exists(v->str)) {
                scn_cx_error(cx, v, "unknown time zone '%s' (not in %s)", v->str, TZ_DIR);
                ok = false;
            } else {
                s->zone = scn_tz_get(v->str);
            }
        } else {
            const char *hint = scn_suggest(k->str, schedule_keys);
            if (hint)
                scn_cx_error(cx, k, "unknown schedule key '%s'; did you mean '%s'?", k->str, hint);
            else
                scn_cx_error(cx, k, "unknown schedule key '%s' (expected days, time, dates, tz)",
                             k->str);
            ok = false;
        }
        scn_path_pop(&cx->path, mark);
    }
    if (ok && !any) {
        scn_cx_error(cx, n, "schedule needs at least one of days, time, dates");
        ok = false;
    }
    return ok ? s : NULL;
}

/* ---- evaluate ---- */

static void saw(const scn_schedule *s, const struct tm *tm, cr_strbuf *why)
{
    cr_strbuf_printf(why, " (saw %s %04d-%02d-%02d %02d:%02d %s)", day_names[tm->tm_wday],
                     tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min,
                     scn_tz_name(s->zone) ? scn_tz_name(s->zone) : "local time");
}

/* The local time of NOW in the schedule's zone. */
static void local_tm(const scn_schedule *s, double now, struct tm *tm)
{
    time_t t = (time_t)(now < 0 ? now - 1 : now);   /* floor for the odd pre-1970 clock */
    time_t local = t + scn_tz_offset(s->zone, t);
    gmtime_r(&local, tm);
}

void scn_schedule_saw(const scn_schedule *s, double now, cr_strbuf *out)
{
    struct tm tm;
    local_tm(s, now, &tm);
    saw(s, &tm, out);
}

bool scn_schedule_eval(const scn_schedule *s, double now, cr_strbuf *why)
{
    struct tm tm;
    local_tm(s, now, &tm);
    if (s->days && !(s->days >> tm.tm_wday & 1u)) {
        if (why) {
            cr_strbuf_printf(why, "schedule days %s", s->days_src);
            saw(s, &tm, why);
        }
        return false;
    }
    if (s->time_count) {
        int m = tm.tm_hour * 60 + tm.tm_min;
        bool in = false;
        for (size_t i = 0; i < s->time_count && !in; i++) {
            const time_range *r = &s->times[i];
            in = r->from < r->to ? (m >= r->from && m < r->to) : (m >= r->from || m < r->to);
        }
        if (!in) {
            if (why) {
                cr_strbuf_printf(why, "schedule time %s", s->times_src);
                saw(s, &tm, why);
            }
            return false;
        }
    }
    if (s->date_count) {
        int md = (tm.tm_mon + 1) * 100 + tm.tm_mday;
        int ymd = (tm.tm_year + 1900) * 10000 + md;
        bool in = false;
        for (size_t i = 0; i < s->date_count && !in; i++) {
            const date_range *r = &s->dates[i];
            if (!r->yearly)
                in = ymd >= r->from && ymd <= r->to;
            else if (r->from <= r->to)
                in = md >= r->from && md <= r->to;
            else
                in = md >= r->from || md <= r->to;   /* 12-31..01-02 */
        }
        if (!in) {
            if (why) {
                cr_strbuf_printf(why, "schedule dates %s", s->dates_src);
                saw(s, &tm, why);
            }
            return false;
        }
    }
    return true;
}

void scn_schedule_describe(const scn_schedule *s, cr_strbuf *out)
{
    cr_strbuf_puts(out, "schedule");
    if (s->days)
        cr_strbuf_printf(out, " days %s", s->days_src);
    if (s->time_count)
        cr_strbuf_printf(out, " time %s", s->times_src);
    if (s->date_count)
        cr_strbuf_printf(out, " dates %s", s->dates_src);
    if (scn_tz_name(s->zone))
        cr_strbuf_printf(out, " tz %s", scn_tz_name(s->zone));
}
