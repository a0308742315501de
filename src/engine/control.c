/* control.c — a live call steered from outside (engine.h: control from
 * outside the call): variables set by a client, the `app` event. What a
 * client may name is decided here, once, for the admin API and simulate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"
#include "util/alloc.h"
#include "scenario/events.h"

/* Set by the engine for every call: a client overwriting one would make
 * the call lie about itself (its records, its trace, its routes). */
static const char *const reserved[] = {
    "call_id",    "caller_number", "caller_name",  "called_number", "source",    "route",     "cdr_id",
    "originated_by", "parent_call_id", "hangup_by", "hangup_cause", "event_name", "app_event", NULL,
};
static const char *const reserved_prefixes[] = {"app_event_data.", "sip.", NULL};

/* A template variable name (scenario/template.c): a letter or '_', then
 * letters, digits, '_', '-' and dots, never two dots or a dot at the end. */
static bool name_syntax(const char *n, size_t max)
{
    size_t len = strlen(n);
    if (len == 0 || len > max)
        return false;
    if (!((n[0] >= 'a' && n[0] <= 'z') || (n[0] >= 'A' && n[0] <= 'Z') || n[0] == '_'))
        return false;
    for (size_t i = 1; i < len; i++) {
        char ch = n[i];
        bool word = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
                    ch == '-';
        if (ch == '.' && n[i - 1] != '.' && i + 1 < len)
            continue;
        if (!word)
            return false;
    }
    return true;
}

bool eng_app_name_ok(const char *name) { return name && name_syntax(name, ENG_EXT_NAME_MAX); }

bool eng_var_name_settable(const char *name, const char **why)
{
    if (!name || !name_syntax(name, ENG_EXT_NAME_MAX)) {
        *why = "a variable name is a letter or '_', then letters, digits, '_', '-' or single dots, "
               "at most 64 bytes";
        return false;
    }
    for (size_t i = 0; reserved[i]; i++)
        if (strcmp(name, reserved[i]) == 0) {
            *why = "the engine keeps this variable: it says what the call is or how it ended";
            return false;
        }
    for (size_t i = 0; reserved_prefixes[i]; i++)
        if (strncmp(name, reserved_prefixes[i], strlen(reserved_prefixes[i])) == 0) {
            *why = "app_event_data.* comes only with an app event, sip.* only from the network";
            return false;
        }
    return true;
}

/* Writes by the engine itself: not an action's result in the trace. */
static eng_strand *as_engine(eng_call *c)
{
    eng_strand *was = c->e->running;
    c->e->running = &eng_sys_strand;
    return was;
}

int eng_call_set_vars(eng_call *c, const char *by, const char *const *names, const cr_value *values, size_t n)
{
    if (c->ending)
        return -1;
    eng_strand *was = as_engine(c);
    eng_trace_var *tv = cr_xcalloc(n ? n : 1, sizeof *tv);
    for (size_t i = 0; i < n; i++) {
        eng_var_set(c, names[i], values[i]);
        tv[i] = (eng_trace_var){names[i], values[i]};
    }
    eng_trace_rec r = {.kind = ENG_TR_VARS, .by = by, .vars = tv, .var_count = n};
    eng_emit(c, NULL, &r);
    free(tv);
    c->e->running = was;
    return 0;
}

int eng_call_app_event(eng_call *c, const char *by, const char *name, const char *const *keys,
                       const cr_value *values, size_t n)
{
    if (c->ending)
        return -1;
    if (!eng_app_name_ok(name))
        return -2;
    for (size_t i = 0; i < n; i++)
        if (!eng_app_name_ok(keys[i]))
            return -2;
    eng_strand *was = as_engine(c);
    /* A key of an earlier event that this one lacks must not pass for this
     * one's: it becomes null. */
    static const char prefix[] = "app_event_data.";
    const size_t plen = sizeof prefix - 1;
    for (eng_var *v = c->vars; v; v = v->next) {
        if (v->kind == CR_VAL_NULL || strncmp(v->name, prefix, plen) != 0 || v->name[plen] == '\0')
            continue;
        bool again = false;
        for (size_t i = 0; i < n && !again; i++)
            again = strcmp(v->name + plen, keys[i]) == 0;
        if (!again)
            eng_var_set(c, v->name, cr_val_null());
    }
    eng_trace_var *tv = cr_xcalloc(n + 1, sizeof *tv);
    char **full = cr_xcalloc(n + 1, sizeof *full);
    eng_var_set_str(c, "app_event", name);
    tv[0] = (eng_trace_var){"app_event", cr_val_cstr(name)};
    for (size_t i = 0; i < n; i++) {
        size_t len = plen + strlen(keys[i]) + 1;
        full[i] = cr_xmalloc(len);
        snprintf(full[i], len, "%s%s", prefix, keys[i]);
        eng_var_set(c, full[i], values[i]);
        tv[i + 1] = (eng_trace_var){full[i], values[i]};
    }
    int started = eng_call_raise(c, SCN_EV_APP, by, NULL, NULL, name, tv, n + 1);
    if (started == 0) {
        char msg[200];
        snprintf(msg, sizeof msg, "app event '%s': no handler (no `event` with on: app for it)", name);
        eng_trace_rec r = {.kind = ENG_TR_LOG, .level = "warning", .message = msg};
        eng_emit(c, NULL, &r);
    }
    for (size_t i = 0; i < n; i++)
        free(full[i]);
    free(full);
    free(tv);
    c->e->running = was;
    return started;
}
