/* template.h — string templates: "User {agent_name} put on hold {caller_number}."
 * `{{` and `}}` are literal braces. Compiled once into literal and variable
 * pieces; rendering never re-parses. */
#ifndef SCN_TEMPLATE_H
#define SCN_TEMPLATE_H

#include <stdbool.h>

#include "scenario/env.h"
#include "util/strbuf.h"

typedef struct scn_template scn_template;

typedef enum {
    SCN_ESC_NONE,
    SCN_ESC_URL,     /* variable values percent-encoded (RFC 3986 unreserved kept) */
    SCN_ESC_HEADER,  /* CR and LF removed from variable values */
    SCN_ESC_PATH,    /* '/', '\\', NUL and a value's leading '.' become '_' (file
                        names: a value is never more than part of one component) */
} scn_escape;

scn_template *scn_template_compile(cr_arena *arena, const char *src, size_t len,
                                   scn_parse_error *err);
/* Appends the rendering to OUT. Undefined variables render empty and are
 * reported through env->undefined. */
void scn_template_render(const scn_template *t, const scn_env *env, scn_escape esc,
                         cr_strbuf *out);
/* Renders into env->scratch; returns a NUL-terminated string. */
const char *scn_template_render_cstr(const scn_template *t, const scn_env *env, scn_escape esc);
/* Escapes one whole value S (N bytes) as a template renders it into DST
 * (NULL: only counts; at most 3 bytes per byte); returns the length. */
size_t scn_escape_value(const char *s, size_t n, scn_escape esc, char *dst);
/* True (and the text) when the template has no variables. */
bool scn_template_literal(const scn_template *t, const char **s, size_t *len);
/* The template's source text, as written. */
const char *scn_template_source(const scn_template *t);
void scn_template_vars(const scn_template *t, void (*fn)(void *arg, const char *name), void *arg);

#endif
