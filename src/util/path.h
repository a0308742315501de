/* path.h — file paths that must stay under a base directory (prompts under
 * settings.media.sounds, recordings and attachments under
 * settings.media.recordings). Values rendered into a path template are
 * escaped first (SCN_ESC_PATH, template.h); this is the second half: join
 * the rendered name to its base once, normalise it, and refuse it when the
 * file it names — after symlinks — is not below the base.
 *
 * cr_path_normalize, cr_path_below and cr_path_resolve work on the text
 * (the load-time check of a scenario's own file names);
 * cr_path_canonical and cr_path_confine look at the file system (realpath of
 * the longest existing prefix; the part that does not exist yet is taken
 * lexically, so a recording's directories may be created afterwards). */
#ifndef CR_PATH_H
#define CR_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Lexical normalisation into OUT (size N): "//" and "." components go, ".."
 * removes the component before it; an absolute path never goes above "/", a
 * relative one keeps the ".." it cannot remove ("../a"); no trailing '/'
 * (except "/" itself); "" and "a/.." become ".". False when OUT is too small. */
bool cr_path_normalize(const char *path, char *out, size_t n);

/* True when PATH is strictly below DIR, component by component ("/a/bc" is
 * not below "/a/b"; "/a/b" is not below itself). Both normalised, and both
 * absolute or both relative. */
bool cr_path_below(const char *path, const char *dir);

/* The canonical absolute form of PATH (relative: to the working directory):
 * the longest prefix that exists goes through realpath(), so symlinks in it
 * are followed; the rest is appended lexically. False (errno set) when it
 * cannot be resolved (a symlink loop, no permission, too long). */
bool cr_path_canonical(const char *path, char *out, size_t n);

typedef enum {
    CR_PATH_OK,
    CR_PATH_EMPTY,       /* no file name */
    CR_PATH_OUTSIDE,     /* not below the base (.., an absolute path elsewhere, a symlink out) */
    CR_PATH_TOO_LONG,
    CR_PATH_UNRESOLVED,  /* the base or the file could not be resolved (errno) */
} cr_path_status;

/* Joins NAME to BASE — an absolute NAME as is, otherwise BASE/NAME — and
 * normalises it into OUT (size N): the path to open. CR_PATH_OK when it is
 * lexically strictly below BASE (a relative one and an absolute one are
 * compared from the working directory); the file system is not looked at. */
cr_path_status cr_path_resolve(const char *base, const char *name, char *out, size_t n);

/* cr_path_resolve, then the same check on the canonical forms of both (after
 * symlinks): CR_PATH_OK only when the file is strictly below BASE both ways. */
cr_path_status cr_path_confine(const char *base, const char *name, char *out, size_t n);

/* Creates directory DIR and the ones above it that are missing (MODE):
 * 0, or -1 with errno. */
int cr_path_mkdirs(const char *dir, mode_t mode);

/* The directories above FILE, created as cr_path_mkdirs does. */
int cr_path_mkparents(const char *file, mode_t mode);

/* "outside the directory", ... */
const char *cr_path_status_text(cr_path_status st);

#endif
