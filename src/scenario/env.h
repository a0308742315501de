/* env.h — what an expression, template or condition may read while it is
 * evaluated: the call's variables and the clock. The engine supplies it; the
 * scenario layer never knows about calls. */
#ifndef SCN_ENV_H
#define SCN_ENV_H

#include <stdbool.h>
#include <stddef.h>

#include "scenario/value.h"

typedef struct scn_env {
    /* Looks NAME up (a dotted path, not NUL-terminated); false when undefined. */
    bool (*lookup)(void *ctx, const char *name, size_t len, cr_value *out);
    /* Told about each undefined variable a template renders (may be NULL). */
    void (*undefined)(void *ctx, const char *name, size_t len);
    void *ctx;
    double now;          /* seconds since the epoch: the loop's (possibly virtual) clock */
    int utc_offset;      /* seconds east of UTC for hour()/weekday()/date() */
    cr_arena *scratch;   /* strings made during evaluation go here */
} scn_env;

/* A parse failure inside a string: OFFSET is the byte offset in the source
 * where it went wrong; MSG says what was expected. */
typedef struct scn_parse_error {
    size_t offset;
    char msg[160];
} scn_parse_error;

#endif
