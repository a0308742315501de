/* diag.h — diagnostics: every error and warning names file:line:col, the path
 * of the node in the scenario (routes[2].script[4].then[0]) and what to do. */
#ifndef SCN_DIAG_H
#define SCN_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "scenario/node.h"
#include "util/arena.h"
#include "util/strbuf.h"

typedef enum { SCN_SEV_ERROR, SCN_SEV_WARNING } scn_severity;

typedef struct scn_diag {
    scn_severity sev;
    const char *file;
    unsigned line, col;
    const char *path;   /* "" when not inside the document tree */
    const char *msg;
} scn_diag;

#define SCN_MAX_ERRORS 50

typedef struct scn_diags {
    cr_arena arena;
    scn_diag *items;
    size_t count, cap;
    size_t errors, warnings;
    bool truncated;     /* more than SCN_MAX_ERRORS errors: the rest dropped */
} scn_diags;

void scn_diags_init(scn_diags *d);
void scn_diags_free(scn_diags *d);

void scn_diag_at(scn_diags *d, scn_severity sev, const char *file, unsigned line, unsigned col,
                 const char *path, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* At a node (file/line/col taken from it; N may be NULL). */
void scn_error(scn_diags *d, const scn_node *n, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void scn_warning(scn_diags *d, const scn_node *n, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* GNU style: FILE:LINE:COL: error: MESSAGE (at PATH) — sorted by position. */
void scn_diags_print(scn_diags *d, FILE *out);
/* Puts ITEMS in the order scn_diags_print uses (for callers that format
 * them themselves: the admin API). */
void scn_diags_sort(scn_diags *d);
/* {"diagnostics":[{"file":..,"line":..,"column":..,"severity":..,"message":..,"path":..}],
 *  "errors":N,"warnings":N,"truncated":BOOL} — same order as scn_diags_print. */
void scn_diags_json(const scn_diags *d, cr_strbuf *out);

/* The candidate closest to WORD by edit distance, or NULL when none is close
 * enough to be a likely misspelling. CANDIDATES is NULL-terminated. */
const char *scn_suggest(const char *word, const char *const *candidates);

/* The path of the node being compiled, built as the compiler walks down.
 * Start from { .len = 0 } (buf[0] zero). A path longer than buf is cut. */
typedef struct scn_path {
    char buf[1024];
    size_t len;
} scn_path;

/* Each push returns the old length; pass it to pop. */
size_t scn_path_key(scn_path *p, const char *key);     /* appends ".key" (or "key" at the root) */
size_t scn_path_index(scn_path *p, size_t i);          /* appends "[i]" */
void scn_path_pop(scn_path *p, size_t old_len);
static inline const char *scn_path_str(const scn_path *p) { return p->buf; }

#endif
