/* load_int.h — private to the loader (load.c, load_include.c, node.c). */
#ifndef SCN_LOAD_INT_H
#define SCN_LOAD_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "scenario/diag.h"
#include "scenario/node.h"

/* Reads a whole regular file of at most SCN_MAX_FILE_BYTES into a malloc'd,
 * NUL-terminated buffer. On failure returns NULL and sets *ERR to an errno
 * value (EFBIG: too large, *SIZE then holds the size). */
char *scn_read_file(const char *path, size_t *size, int *err);

/* Parses one YAML/JSON document; FILE must already live in ARENA (nodes share
 * it). Reports to DIAGS and returns NULL on any error. */
scn_node *scn_parse_buffer(cr_arena *arena, const char *file, const char *buf, size_t len,
                           scn_diags *diags);

/* Makes an empty (null) plain scalar at the position of AT. */
scn_node *scn_node_null(cr_arena *arena, const scn_node *at);

#endif
