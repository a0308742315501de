/* revisions.h — the scenario file `callroute serve` runs, and its
 * revisions. Every program serve installs (at start, on SIGHUP, POST
 * /reload, PUT /scenario, a restore) is a revision: a number for the life
 * of the process (1, 2, ...), the SHA-256 of its source, when it was
 * loaded. Calls hold a reference to the program they started on, so a
 * revision stays in memory — its source too — while calls run on it, and
 * goes with the last of them (scn_program's reference count decides; this
 * store only hears of it). Each source is also written, when loaded, to
 * the revision directory next to the file (.callroute-revisions/, only the
 * owner may read it: sources hold passwords), where the newest
 * ADMIN_REVISIONS_KEEP stay, so an older one can be restored — through the
 * API while this process knows it, by hand after a restart.
 *
 * The file I/O of revisions lives here (admin/), not in scenario/ (which
 * only reads the scenario file): writing sources to the directory, reading
 * them back, and writing a new text over the scenario file atomically. */
#ifndef ADMIN_REVISIONS_H
#define ADMIN_REVISIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "scenario/program.h"

#define ADMIN_REVISIONS_KEEP 20
#define ADMIN_REVISIONS_DIR ".callroute-revisions"

typedef struct admin_revisions admin_revisions;

typedef struct admin_revision {
    long number;
    char sha256[65];          /* lowercase hex */
    double loaded_at;         /* wall clock, seconds since the epoch */
    bool loaded;              /* its program is in memory (current, or calls run on it) */
    bool kept;                /* its source is in the revision directory */
} admin_revision;

/* The revisions of the scenario FILE (as serve was given it); their
 * sources go to DIR (NULL: FILE's directory/.callroute-revisions), the
 * newest KEEP of them (0: ADMIN_REVISIONS_KEEP). */
admin_revisions *admin_revisions_new(const char *file, const char *dir, size_t keep);
/* Programs that outlive it stop telling it (they may be freed later). */
void admin_revisions_free(admin_revisions *rs);

/* P, compiled from TEXT (LEN bytes), becomes the current revision: P's
 * `revision` is set to the next number (returned). The text is kept while
 * P lives and written to the directory; files beyond the newest KEEP are
 * removed. A directory that cannot be written is not fatal: WARN (may be
 * NULL) says why, and is "" otherwise. */
long admin_revisions_add(admin_revisions *rs, scn_program *p, const char *text, size_t len, char *warn,
                         size_t warnlen);

/* The revisions known, oldest first: the newest KEEP and any older one
 * still in memory. NULL past the end. */
const admin_revision *admin_revisions_at(const admin_revisions *rs, size_t i);
const admin_revision *admin_revisions_find(const admin_revisions *rs, long number);
const admin_revision *admin_revisions_current(const admin_revisions *rs);
/* The current revision's source (LEN bytes, NUL-terminated; NULL before
 * the first add). */
const char *admin_revisions_current_source(const admin_revisions *rs, size_t *len);
/* Revision NUMBER's source, malloc'd (NUL-terminated, *LEN bytes): from
 * memory while it is loaded, else from its file, which must still hash to
 * its SHA-256. NULL with ERR: unknown, or its source no longer kept. */
char *admin_revisions_source(const admin_revisions *rs, long number, size_t *len, char *err, size_t errlen);

/* TEXT written over the scenario file atomically: a temporary file in its
 * directory (the file's mode and owner), fsync'd, renamed over it (a
 * symlink is followed: the file it points to is replaced), the directory
 * fsync'd. False with ERR, the file untouched. */
bool admin_revisions_write_file(const admin_revisions *rs, const char *text, size_t len, char *err,
                                size_t errlen);
/* Before the file is replaced. False with ERR when it no longer holds the
 * current revision's source (edited by hand since it was loaded: what the
 * API would overwrite was never a revision). */
bool admin_revisions_file_unchanged(const admin_revisions *rs, char *err, size_t errlen);
/* The current revision's source is in the directory (written now if it
 * could not be when it was loaded); false with ERR when it cannot be. */
bool admin_revisions_keep_current(admin_revisions *rs, char *err, size_t errlen);
const char *admin_revisions_file(const admin_revisions *rs);
/* The scenario file's text now (malloc'd, NUL-terminated); NULL with ERR. */
char *admin_revisions_read_file(const admin_revisions *rs, size_t *len, char *err, size_t errlen);
/* The next revision added is number N (the cluster's numbering: its
 * database gives the numbers); ignored unless N is above the last. */
void admin_revisions_number_next(admin_revisions *rs, long n);
const char *admin_revisions_dir(const admin_revisions *rs);

/* ---- pure parts (unit tested) ---- */

/* SHA-256 of BUF as 64 lowercase hex digits and a NUL. */
void admin_sha256_hex(const void *buf, size_t len, char out[65]);
/* The name of revision NUMBER's file: "20250102T030405.678Z-r3-<12 hex of
 * SHA>-BASE" (BASE: the scenario file's name), so names sort by load time.
 * False when it does not fit in N. */
bool admin_revision_file_name(char *out, size_t n, double when, long number, const char *sha,
                              const char *base);
/* Of the directory entries NAMES, those that are revision files of BASE
 * are moved to the front, oldest first; returns how many of them (from
 * names[0]) to remove so that KEEP remain. Other names are never chosen. */
size_t admin_revisions_prune(char **names, size_t count, const char *base, size_t keep);

#endif
