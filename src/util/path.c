/* path.c — confining file paths to a base directory (path.h). */
#include "util/path.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool cr_path_normalize(const char *path, char *out, size_t n)
{
    if (n < 2)
        return false;
    bool abs = path[0] == '/';
    size_t len = 0, floor = 0;   /* out[0..floor) is never removed: "/" or leading ".." */
    if (abs)
        out[len++] = '/', floor = 1;
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *c = p;
        while (*p && *p != '/')
            p++;
        size_t cl = (size_t)(p - c);
        if (cl == 1 && c[0] == '.')
            continue;
        if (cl == 2 && c[0] == '.' && c[1] == '.') {
            if (len > floor) {   /* drop the last component and its separator */
                while (len > floor && out[len - 1] != '/')
                    len--;
                if (len > floor)
                    len--;
                continue;
            }
            if (abs)
                continue;        /* "/.." is "/" */
        }
        bool sep = len > 0 && out[len - 1] != '/';
        if (len + sep + cl + 1 > n)
            return false;
        if (sep)
            out[len++] = '/';
        memcpy(out + len, c, cl);
        len += cl;
        if (cl == 2 && c[0] == '.' && c[1] == '.')
            floor = len;         /* a relative path's ".." stays */
    }
    if (len == 0)
        out[len++] = '.';
    out[len] = '\0';
    return true;
}

static bool is_dotdot(const char *p) { return p[0] == '.' && p[1] == '.' && (p[2] == '\0' || p[2] == '/'); }

bool cr_path_below(const char *path, const char *dir)
{
    if (strcmp(dir, "/") == 0)
        return path[0] == '/' && path[1] != '\0';
    if (strcmp(dir, ".") == 0)
        return path[0] != '/' && strcmp(path, ".") != 0 && !is_dotdot(path);
    size_t dl = strlen(dir);
    return strncmp(path, dir, dl) == 0 && path[dl] == '/' && path[dl + 1] != '\0';
}

bool cr_path_canonical(const char *path, char *out, size_t n)
{
    char abs[PATH_MAX], norm[PATH_MAX], real[PATH_MAX];
    if (path[0] == '/') {
        if (strlen(path) >= sizeof abs)
            return errno = ENAMETOOLONG, false;
        strcpy(abs, path);
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd))
            return false;
        if ((size_t)snprintf(abs, sizeof abs, "%s/%s", cwd, path) >= sizeof abs)
            return errno = ENAMETOOLONG, false;
    }
    /* The working directory is physical, so ".." may go lexically. */
    if (!cr_path_normalize(abs, norm, sizeof norm))
        return errno = ENAMETOOLONG, false;
    size_t cut = strlen(norm);
    for (;;) {
        char save = norm[cut];
        norm[cut] = '\0';
        const char *head = cut ? norm : "/";
        bool ok = realpath(head, real) != NULL;
        int err = errno;
        struct stat st;
        /* An entry that exists but does not resolve is a dangling symlink:
         * what it would create is unknown, so it is not taken lexically. */
        bool dangling = !ok && err == ENOENT && lstat(head, &st) == 0;
        norm[cut] = save;
        if (ok)
            break;
        if (dangling)
            return errno = ENOENT, false;
        if ((err != ENOENT && err != ENOTDIR) || cut <= 1)
            return errno = err, false;
        while (cut > 1 && norm[cut - 1] != '/')
            cut--;
        if (cut > 1)
            cut--;               /* the separator, except the root's */
    }
    const char *rest = norm + cut;
    while (*rest == '/')
        rest++;
    bool root = strcmp(real, "/") == 0;
    int w = *rest ? snprintf(out, n, "%s%s%s", real, root ? "" : "/", rest) : snprintf(out, n, "%s", real);
    if (w < 0 || (size_t)w >= n)
        return errno = ENAMETOOLONG, false;
    return true;
}

/* PATH (normalised) made absolute from the working directory, lexically. */
static bool absolute(const char *path, char *out, size_t n)
{
    if (path[0] == '/')
        return (size_t)snprintf(out, n, "%s", path) < n;
    char cwd[PATH_MAX], joined[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd) || (size_t)snprintf(joined, sizeof joined, "%s/%s", cwd, path) >= sizeof joined)
        return false;
    return cr_path_normalize(joined, out, n);
}

cr_path_status cr_path_resolve(const char *base, const char *name, char *out, size_t n)
{
    if (!name || !*name)
        return CR_PATH_EMPTY;
    char joined[PATH_MAX], nbase[PATH_MAX];
    int w = name[0] == '/' ? snprintf(joined, sizeof joined, "%s", name)
                           : snprintf(joined, sizeof joined, "%s/%s", base, name);
    if (w < 0 || (size_t)w >= sizeof joined || !cr_path_normalize(joined, out, n) ||
        !cr_path_normalize(base, nbase, sizeof nbase))
        return CR_PATH_TOO_LONG;
    if ((out[0] == '/') == (nbase[0] == '/'))
        return cr_path_below(out, nbase) ? CR_PATH_OK : CR_PATH_OUTSIDE;
    char afile[PATH_MAX], abase[PATH_MAX];
    if (!absolute(out, afile, sizeof afile) || !absolute(nbase, abase, sizeof abase))
        return CR_PATH_TOO_LONG;
    return cr_path_below(afile, abase) ? CR_PATH_OK : CR_PATH_OUTSIDE;
}

cr_path_status cr_path_confine(const char *base, const char *name, char *out, size_t n)
{
    cr_path_status st = cr_path_resolve(base, name, out, n);
    if (st != CR_PATH_OK)
        return st;
    char nbase[PATH_MAX], cbase[PATH_MAX], cfile[PATH_MAX];
    if (!cr_path_normalize(base, nbase, sizeof nbase))
        return CR_PATH_TOO_LONG;
    if (!cr_path_canonical(nbase, cbase, sizeof cbase) || !cr_path_canonical(out, cfile, sizeof cfile))
        return errno == ENAMETOOLONG ? CR_PATH_TOO_LONG : CR_PATH_UNRESOLVED;
    return cr_path_below(cfile, cbase) ? CR_PATH_OK : CR_PATH_OUTSIDE;
}

const char *cr_path_status_text(cr_path_status st)
{
    switch (st) {
    case CR_PATH_OK:
        return "ok";
    case CR_PATH_EMPTY:
        return "the file name is empty";
    case CR_PATH_OUTSIDE:
        return "it is outside the directory";
    case CR_PATH_TOO_LONG:
        return "the path is too long";
    case CR_PATH_UNRESOLVED:
        return "it cannot be resolved (a dangling symlink, a symlink loop or no permission)";
    }
    return "?";
}

int cr_path_mkdirs(const char *dir, mode_t mode)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, mode) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(tmp, mode) == 0 || errno == EEXIST ? 0 : -1;
}

int cr_path_mkparents(const char *file, mode_t mode)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", file) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    char *slash = strrchr(tmp, '/');
    if (!slash || slash == tmp)
        return 0;   /* in the working directory, or in / */
    *slash = '\0';
    return cr_path_mkdirs(tmp, mode);
}
