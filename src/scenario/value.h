/* value.h — the run-time value of expressions, templates and call variables.
 * Strings are (pointer, length) and not owned: they point into a program,
 * a call arena, or an evaluation scratch arena. */
#ifndef SCN_VALUE_H
#define SCN_VALUE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/arena.h"
#include "util/strbuf.h"

/* X-macro: the enum and its names stay in step (STYLE.md). */
#define CR_VAL_KINDS(X) \
    X(NULL, "null")     \
    X(BOOL, "bool")     \
    X(NUM, "number")    \
    X(STR, "string")    \
    X(ERR, "error")

typedef enum {
#define CR_VAL_ENUM(k, s) CR_VAL_##k,
    CR_VAL_KINDS(CR_VAL_ENUM)
#undef CR_VAL_ENUM
} cr_val_kind;

typedef struct cr_value {
    cr_val_kind kind;
    bool b;             /* BOOL */
    double num;         /* NUM */
    const char *str;    /* STR: the text; ERR: the message (NUL-terminated) */
    size_t len;
} cr_value;

const char *cr_val_kind_name(cr_val_kind k);

static inline cr_value cr_val_null(void) { cr_value v = {CR_VAL_NULL, false, 0, NULL, 0}; return v; }
static inline cr_value cr_val_bool(bool b) { cr_value v = {CR_VAL_BOOL, b, 0, NULL, 0}; return v; }
static inline cr_value cr_val_num(double n) { cr_value v = {CR_VAL_NUM, false, n, NULL, 0}; return v; }
static inline cr_value cr_val_str(const char *s, size_t len) { cr_value v = {CR_VAL_STR, false, 0, s, len}; return v; }
cr_value cr_val_cstr(const char *s);
cr_value cr_val_err(cr_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Truthiness: false, null, 0, "" and errors are false. */
bool cr_val_truthy(cr_value v);
/* A number, or a string that is entirely a decimal number ("42", "-1.5"). */
bool cr_val_as_number(cr_value v, double *out);
/* Text form: numbers without trailing zeros ("3", "2.5"), true/false, "" for null. */
void cr_val_to_text(cr_value v, cr_strbuf *out);
/* Text form without allocating: STR and ERR return their own text; other
 * kinds are formatted into BUF (CR_VAL_TEXT_MAX bytes), which is returned.
 * *LEN gets the length; the result is NUL-terminated except for STR. */
#define CR_VAL_TEXT_MAX 32
const char *cr_val_text(cr_value v, char *buf, size_t *len);
/* Same, into an arena; returns the string and its length. */
const char *cr_val_to_cstr(cr_value v, cr_arena *a, size_t *len);
/* Equality of expressions and conditions: two strings compare as text
 * ("0044" != "44": phone numbers); a number against a numeric string
 * compares numerically ("42" == 42); null equals only null, a bool only a
 * bool. */
bool cr_val_equal(cr_value a, cr_value b);
/* Deep copy of the string part into an arena (for storing into variables). */
cr_value cr_val_copy(cr_value v, cr_arena *a);

#endif
