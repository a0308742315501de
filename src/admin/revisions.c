/* revisions.c — the scenario file's revisions (revisions.h): the list, the
 * sources kept in memory while their programs live, the revision directory,
 * SHA-256 (OpenSSL's EVP), and writing the scenario file atomically. */
#include "util/alloc.h"
#include "admin/revisions.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "scenario/node.h"   /* SCN_MAX_FILE_BYTES */

/* What a program carries to tell the store it is gone (scn_program_on_release):
 * its revision's source lives exactly as long as the program. */
typedef struct ticket {
    admin_revisions *rs;      /* NULL once the store is freed */
    long number;
    char *text;
    size_t len;
} ticket;

typedef struct entry {
    admin_revision pub;
    char *kept_path;          /* its file in the directory, NULL: none */
    ticket *t;                /* while its program lives */
} entry;

struct admin_revisions {
    char *file;               /* as serve was given it */
    char *dir;
    char *base;               /* the file's name, without the directory */
    size_t keep;
    entry *items;             /* oldest first */
    size_t count, cap;
    long last;                /* the newest number given */
};

/* ---- pure parts ---- */

void admin_sha256_hex(const void *buf, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL) || n != 32) {
        /* Only when OpenSSL cannot allocate: no revision can be trusted. */
        fputs("callroute: SHA-256 failed\n", stderr);
        abort();
    }
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

bool admin_revision_file_name(char *out, size_t n, double when, long number, const char *sha,
                              const char *base)
{
    long long total_ms = llround(when * 1000);
    time_t sec = (time_t)(total_ms / 1000);
    struct tm tm;
    char stamp[32];
    if (total_ms < 0 || !gmtime_r(&sec, &tm))
        return false;
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
    int k = snprintf(out, n, "%s.%03dZ-r%ld-%.12s-%s", stamp, (int)(total_ms % 1000), number, sha, base);
    return k > 0 && (size_t)k < n;
}

/* NAME is a revision file of BASE: what admin_revision_file_name makes. */
static bool is_revision_file(const char *name, const char *base)
{
    const char *s = name;
    /* YYYYMMDD T HHMMSS . mmm Z -r N - SHA12 - BASE */
    for (int i = 0; i < 8; i++)
        if (!isdigit((unsigned char)*s++))
            return false;
    if (*s++ != 'T')
        return false;
    for (int i = 0; i < 6; i++)
        if (!isdigit((unsigned char)*s++))
            return false;
    if (*s++ != '.')
        return false;
    for (int i = 0; i < 3; i++)
        if (!isdigit((unsigned char)*s++))
            return false;
    if (strncmp(s, "Z-r", 3) != 0)
        return false;
    s += 3;
    if (!isdigit((unsigned char)*s))
        return false;
    while (isdigit((unsigned char)*s))
        s++;
    if (*s++ != '-')
        return false;
    for (int i = 0; i < 12; i++)
        if (!isxdigit((unsigned char)*s++))
            return false;
    return *s == '-' && strcmp(s + 1, base) == 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t admin_revisions_prune(char **names, size_t count, const char *base, size_t keep)
{
    size_t ours = 0;
    for (size_t i = 0; i < count; i++) {
        if (!is_revision_file(names[i], base))
            continue;
        char *x = names[ours];
        names[ours++] = names[i];
        names[i] = x;
    }
    qsort(names, ours, sizeof *names, name_cmp);
    return ours > keep ? ours - keep : 0;
}

/* ---- files ---- */

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = cr_xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static bool write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* BUF to PATH (in DIR) so that PATH is, at every moment, either the old
 * file or the whole new one: a temporary file beside it, fsync'd, renamed
 * over it. A new file gets MODE; an existing one keeps its mode and, when
 * we may, its owner. */
static bool write_atomic(const char *dir, const char *path, const char *buf, size_t len, mode_t mode,
                         char *err, size_t errlen)
{
    const char *slash = strrchr(path, '/');
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, slash ? slash + 1 : path) >= (int)sizeof tmp) {
        snprintf(err, errlen, "%s: path too long", path);
        return false;
    }
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write in %s: %s", dir, strerror(errno));
        return false;
    }
    struct stat st;
    bool ok;
    if (stat(path, &st) == 0) {
        ok = fchmod(fd, st.st_mode & 07777) == 0;
        if (ok && (st.st_uid != geteuid() || st.st_gid != getegid()) && fchown(fd, st.st_uid, st.st_gid) != 0)
            ok = true;   /* not ours to give away: the file becomes serve's */
    } else {
        ok = fchmod(fd, mode) == 0;
    }
    ok = ok && write_all(fd, buf, len) && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        unlink(tmp);
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(saved));
        return false;
    }
    fsync_dir(dir);
    return true;
}

/* The whole of PATH (at most SCN_MAX_FILE_BYTES), malloc'd, NUL-terminated. */
static char *read_whole(const char *path, size_t *len, bool follow)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW));
    struct stat st;
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (unsigned long long)st.st_size > SCN_MAX_FILE_BYTES) {
        close(fd);
        return NULL;
    }
    size_t cap = (size_t)st.st_size, n = 0;
    char *buf = cr_xmalloc(cap + 1);
    while (n < cap) {
        ssize_t k = read(fd, buf + n, cap - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    close(fd);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* ---- the store ---- */

admin_revisions *admin_revisions_new(const char *file, const char *dir, size_t keep)
{
    admin_revisions *rs = cr_xcalloc(1, sizeof *rs);
    rs->file = cr_xstrdup(file);
    const char *slash = strrchr(file, '/');
    rs->base = cr_xstrdup(slash ? slash + 1 : file);
    if (dir) {
        rs->dir = cr_xstrdup(dir);
    } else {
        char *fdir = slash ? cr_xstrndup(file, slash == file ? 1 : (size_t)(slash - file)) : cr_xstrdup(".");
        rs->dir = join(fdir, ADMIN_REVISIONS_DIR);
        free(fdir);
    }
    rs->keep = keep ? keep : ADMIN_REVISIONS_KEEP;
    return rs;
}

static entry *find(const admin_revisions *rs, long number)
{
    for (size_t i = 0; i < rs->count; i++)
        if (rs->items[i].pub.number == number)
            return &rs->items[i];
    return NULL;
}

/* The list keeps the newest KEEP and whatever is still in memory. */
static void forget_old(admin_revisions *rs)
{
    size_t out = 0;
    for (size_t i = 0; i < rs->count; i++) {
        entry *e = &rs->items[i];
        if (e->pub.loaded || e->pub.number > rs->last - (long)rs->keep)
            rs->items[out++] = *e;   /* tickets find their entry by number */
        else
            free(e->kept_path);
    }
    rs->count = out;
}

static void released_cb(void *arg)
{
    ticket *t = arg;
    if (t->rs) {
        entry *e = find(t->rs, t->number);
        if (e) {
            e->t = NULL;
            e->pub.loaded = false;
        }
        forget_old(t->rs);
    }
    free(t->text);
    free(t);
}

void admin_revisions_free(admin_revisions *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->count; i++) {
        if (rs->items[i].t)
            rs->items[i].t->rs = NULL;   /* the program frees its ticket when it goes */
        free(rs->items[i].kept_path);
    }
    free(rs->items);
    free(rs->file);
    free(rs->dir);
    free(rs->base);
    free(rs);
}

/* The directory's revision files beyond the newest KEEP go; entries whose
 * file went are no longer `kept`. */
static void prune_dir(admin_revisions *rs)
{
    DIR *d = opendir(rs->dir);
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            names = cr_xrealloc(names, cap * sizeof *names);
        }
        names[n++] = cr_xstrdup(de->d_name);
    }
    closedir(d);
    size_t drop = admin_revisions_prune(names, n, rs->base, rs->keep);
    for (size_t i = 0; i < drop; i++) {
        char *path = join(rs->dir, names[i]);
        unlink(path);
        for (size_t k = 0; k < rs->count; k++) {
            entry *e = &rs->items[k];
            if (e->kept_path && strcmp(e->kept_path, path) == 0) {
                free(e->kept_path);
                e->kept_path = NULL;
                e->pub.kept = false;
            }
        }
        free(path);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Writes the source of E to the directory; false with WARN. */
static bool keep_source(admin_revisions *rs, entry *e, const char *text, size_t len, char *warn, size_t warnlen)
{
    if (mkdir(rs->dir, 0700) != 0 && errno != EEXIST) {
        snprintf(warn, warnlen, "revision %ld not kept: cannot create %s: %s", e->pub.number, rs->dir,
                 strerror(errno));
        return false;
    }
    char name[NAME_MAX + 1];
    if (!admin_revision_file_name(name, sizeof name, e->pub.loaded_at, e->pub.number, e->pub.sha256, rs->base)) {
        snprintf(warn, warnlen, "revision %ld not kept: the file name is too long", e->pub.number);
        return false;
    }
    char *path = join(rs->dir, name), why[PATH_MAX + 100];
    if (!write_atomic(rs->dir, path, text, len, 0600, why, sizeof why)) {
        snprintf(warn, warnlen, "revision %ld not kept: %s", e->pub.number, why);
        free(path);
        return false;
    }
    e->kept_path = path;
    e->pub.kept = true;
    return true;
}

long admin_revisions_add(admin_revisions *rs, scn_program *p, const char *text, size_t len, char *warn,
                         size_t warnlen)
{
    char dummy[1];
    if (!warn) {
        warn = dummy;
        warnlen = sizeof dummy;
    }
    warn[0] = '\0';
    if (rs->count == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 32;
        rs->items = cr_xrealloc(rs->items, cap * sizeof *rs->items);
        rs->cap = cap;
    }
    entry *e = &rs->items[rs->count++];
    memset(e, 0, sizeof *e);
    e->pub.number = ++rs->last;
    admin_sha256_hex(text, len, e->pub.sha256);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    e->pub.loaded_at = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
    e->pub.loaded = true;
    ticket *t = cr_xcalloc(1, sizeof *t);
    char *copy = cr_xmalloc(len + 1);
    memcpy(copy, text, len);
    copy[len] = '\0';
    *t = (ticket){.rs = rs, .number = e->pub.number, .text = copy, .len = len};
    e->t = t;
    p->revision = e->pub.number;
    scn_program_on_release(p, released_cb, t);
    if (keep_source(rs, e, text, len, warn, warnlen))
        prune_dir(rs);
    long number = e->pub.number;
    forget_old(rs);
    return number;
}

const admin_revision *admin_revisions_at(const admin_revisions *rs, size_t i)
{
    return rs && i < rs->count ? &rs->items[i].pub : NULL;
}

const admin_revision *admin_revisions_find(const admin_revisions *rs, long number)
{
    const entry *e = rs ? find(rs, number) : NULL;
    return e ? &e->pub : NULL;
}

const admin_revision *admin_revisions_current(const admin_revisions *rs)
{
    return rs ? admin_revisions_find(rs, rs->last) : NULL;
}

const char *admin_revisions_current_source(const admin_revisions *rs, size_t *len)
{
    const entry *e = rs ? find(rs, rs->last) : NULL;
    if (!e || !e->t)
        return NULL;
    *len = e->t->len;
    return e->t->text;
}

char *admin_revisions_source(const admin_revisions *rs, long number, size_t *len, char *err, size_t errlen)
{
    const entry *e = find(rs, number);
    if (!e) {
        snprintf(err, errlen, "no revision %ld (GET /revisions lists them)", number);
        return NULL;
    }
    if (e->t) {
        char *copy = cr_xmalloc(e->t->len + 1);
        memcpy(copy, e->t->text, e->t->len + 1);
        *len = e->t->len;
        return copy;
    }
    char *text = e->kept_path ? read_whole(e->kept_path, len, false) : NULL;
    if (!text) {
        snprintf(err, errlen, "the source of revision %ld is no longer kept", number);
        return NULL;
    }
    char sha[65];
    admin_sha256_hex(text, *len, sha);
    if (strcmp(sha, e->pub.sha256) != 0) {
        free(text);
        snprintf(err, errlen, "the kept source of revision %ld was changed on disk (SHA-256 differs)", number);
        return NULL;
    }
    return text;
}

bool admin_revisions_write_file(const admin_revisions *rs, const char *text, size_t len, char *err,
                                size_t errlen)
{
    /* Through a symlink to the file it names: the link stays. */
    char *real = realpath(rs->file, NULL);
    const char *path = real ? real : rs->file;
    const char *slash = strrchr(path, '/');
    char *dir = slash ? cr_xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : cr_xstrdup(".");
    bool ok = write_atomic(dir, path, text, len, 0640, err, errlen);
    free(dir);
    free(real);
    return ok;
}

bool admin_revisions_file_unchanged(const admin_revisions *rs, char *err, size_t errlen)
{
    const entry *e = find(rs, rs->last);
    size_t len = 0;
    char *now = read_whole(rs->file, &len, true);
    if (!e || !now)
        return true;   /* gone or unreadable: nothing there to lose */
    char sha[65];
    admin_sha256_hex(now, len, sha);
    free(now);
    if (strcmp(sha, e->pub.sha256) == 0)
        return true;
    snprintf(err, errlen,
             "%s was changed on disk since revision %ld was loaded: POST /reload loads it (a new revision), "
             "then change that one",
             rs->file, e->pub.number);
    return false;
}

bool admin_revisions_keep_current(admin_revisions *rs, char *err, size_t errlen)
{
    entry *e = find(rs, rs->last);
    if (!e || e->pub.kept)
        return true;
    char why[PATH_MAX + 200];
    if (!e->t || !keep_source(rs, e, e->t->text, e->t->len, why, sizeof why)) {
        snprintf(err, errlen, "the running revision cannot be kept, so it is not replaced: %s",
                 e->t ? why : "its source is gone");
        return false;
    }
    prune_dir(rs);
    return true;
}

const char *admin_revisions_file(const admin_revisions *rs) { return rs->file; }

char *admin_revisions_read_file(const admin_revisions *rs, size_t *len, char *err, size_t errlen)
{
    char *text = read_whole(rs->file, len, true);
    if (!text)
        snprintf(err, errlen, "cannot read %s (or it is not a regular file under the size limit)", rs->file);
    return text;
}

void admin_revisions_number_next(admin_revisions *rs, long n)
{
    if (n - 1 > rs->last)
        rs->last = n - 1;
}
const char *admin_revisions_dir(const admin_revisions *rs) { return rs->dir; }
