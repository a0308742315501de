/* node.h — a loaded YAML/JSON document as a tree that remembers where every
 * node came from (file:line:col), so every later error can point at it. */
#ifndef SCN_NODE_H
#define SCN_NODE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/arena.h"

typedef enum { SCN_NODE_SCALAR, SCN_NODE_MAP, SCN_NODE_SEQ } scn_node_kind;

typedef struct scn_node scn_node;
typedef struct scn_pair {
    scn_node *key;   /* always a scalar */
    scn_node *val;
} scn_pair;

struct scn_node {
    scn_node_kind kind;
    const char *file;     /* the file it was read from (shared string) */
    unsigned line, col;   /* 1-based */
    /* SCALAR: text as written (escapes resolved), NUL-terminated. */
    const char *str;
    size_t len;
    bool quoted;          /* '...', "...", | or > blocks, !!str: never null/bool/number */
    /* MAP: pairs in file order; SEQ: items. */
    size_t count;
    scn_pair *pairs;
    scn_node **items;
};

/* Limits that keep hostile input from exhausting the process. */
#define SCN_MAX_DEPTH 64            /* nesting of maps/sequences */
#define SCN_MAX_FILE_BYTES (16u << 20)
#define SCN_MAX_INCLUDE_DEPTH 16

struct scn_diags;

/* Loads FILE (YAML or JSON), resolving top-level `include:` (globs relative
 * to the including file; cycles are errors) by merging the included files'
 * top-level sections: lists are concatenated, maps merged (a duplicate name
 * is an error). All nodes live in ARENA. Returns NULL when any error was
 * reported to DIAGS. *UNREADABLE is set when the top file cannot be read at
 * all (the CLI exits 2 then). */
scn_node *scn_load_file(cr_arena *arena, const char *path, struct scn_diags *diags,
                        bool *unreadable);
/* TEXT as if it were the content of the file PATH: diagnostics name PATH
 * and its `include:` resolves as scn_load_file's would (the included files
 * are read from disk). What `callroute serve` checks before it writes a new
 * text over the file. */
scn_node *scn_load_text(cr_arena *arena, const char *path, const char *text, size_t len,
                        struct scn_diags *diags);
/* The bytes of PATH as scn_load_file reads them (malloc'd, NUL-terminated,
 * at most SCN_MAX_FILE_BYTES, *LEN set); NULL with the reason reported to
 * DIAGS, *UNREADABLE as in scn_load_file. With scn_load_text, a loader
 * knows exactly which bytes it compiled. */
char *scn_read_source(const char *path, size_t *len, struct scn_diags *diags, bool *unreadable);
/* Loads from memory (NAME is used in diagnostics); no includes. */
scn_node *scn_load_buffer(cr_arena *arena, const char *name, const char *buf, size_t len,
                          struct scn_diags *diags);

/* Lookups and scalar interpretation (YAML 1.2 core schema for plain scalars). */
const scn_node *scn_map_get(const scn_node *map, const char *key);
bool scn_is_null(const scn_node *n);                 /* ~, null, empty plain; NULL too */
bool scn_scalar_bool(const scn_node *n, bool *out);  /* true/false (plain) */
bool scn_scalar_number(const scn_node *n, double *out); /* plain numeric */
bool scn_scalar_is(const scn_node *n, const char *s);

#endif
