/* http.c — the `http` application: a request on the loop (libcurl multi,
 * through the services layer), its answer in variables.
 *
 * Results: http_status (0 when no answer came), http_body, http_error
 * ("" on success; "timeout" or "cancelled" when the engine stopped it;
 * "unknown" when a POST/PUT/PATCH/DELETE went out and no answer came: the
 * server may have acted on it). A transport failure, a timeout or a status
 * >= 400 fails the action (on_error runs). A JSON answer is also flattened into
 * http.json.<path> variables (http.json.agent.extension,
 * http.json.items.0.name; at most 256 leaves), and `save:` picks values
 * with JSONPath-like paths ($.agent.extension, $.items[0].name,
 * $['odd key']). With `save:`, an answer that is not JSON fails the action;
 * a path that is not in the answer sets its variable to null (renders "")
 * and is noted in the trace.
 *
 * `durable: true` (not GET/HEAD): the request becomes a durable job
 * (apps/durable.c): durable_id, durable_status. */
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/durable.h"
#include "apps/registry.h"
#include "engine/engine.h"
#include "scenario/compile.h"
#include "scenario/param.h"
#include "services/svc.h"
#include "util/alloc.h"

#define F(type, field) offsetof(type, field)
#define MAX_FLAT 256
#define MAX_FLAT_DEPTH 8

static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", NULL};

typedef struct http_params {
    int method;
    const scn_template *url;
    scn_template_map headers;
    const scn_template *body;
    const scn_jval *json;
    scn_string_map save;      /* variable -> JSONPath-like path ($.agent.extension) */
    bool verify_tls;
    bool durable;
} http_params;

/* ---- JSONPath-like paths ------------------------------------------- */

/* Walks PATH from ROOT; with ROOT NULL only checks the syntax. Returns
 * false on a syntax error; *OUT is NULL when the path is not there. */
static bool path_eval(const char *path, json_t *root, json_t **out)
{
    const char *p = path;
    json_t *cur = root;
    bool bare = *p != '$';      /* "agent.extension" reads as "$.agent.extension" */
    if (!bare)
        p++;
    else if (!*p || *p == '.' || *p == '[')
        return false;
    while (*p) {
        char key[256];
        size_t klen = 0;
        long index = 0;
        bool is_index = false;
        if (bare || *p == '.') {
            p += bare ? 0 : 1;
            bare = false;
            while (*p && *p != '.' && *p != '[' && klen < sizeof key - 1)
                key[klen++] = *p++;
            if (klen == 0)
                return false;
        } else if (*p == '[' && (p[1] == '\'' || p[1] == '"')) {
            char q = p[1];
            p += 2;
            while (*p && *p != q && klen < sizeof key - 1)
                key[klen++] = *p++;
            if (*p != q || p[1] != ']')
                return false;
            p += 2;
        } else if (*p == '[') {
            char *end;
            index = strtol(p + 1, &end, 10);
            if (end == p + 1 || *end != ']')
                return false;
            p = end + 1;
            is_index = true;
        } else {
            return false;
        }
        key[klen] = '\0';
        if (!cur)
            continue;   /* keep checking the syntax */
        if (is_index) {
            long n = json_is_array(cur) ? (long)json_array_size(cur) : 0;
            if (index < 0)
                index += n;
            cur = index >= 0 && index < n ? json_array_get(cur, (size_t)index) : NULL;
        } else {
            cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
        }
    }
    if (out)
        *out = cur;
    return true;
}

/* A JSON value as a variable: integers keep their exact digits (as text,
 * which compares numerically), objects and arrays become compact JSON. */
static cr_value json_to_value(json_t *v, cr_arena *a)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return cr_val_str(json_string_value(v), json_string_length(v));
    case JSON_INTEGER: {
        const char *s = cr_arena_printf(a, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return cr_val_cstr(s);
    }
    case JSON_REAL:
        return cr_val_num(json_real_value(v));
    case JSON_TRUE:
        return cr_val_bool(true);
    case JSON_FALSE:
        return cr_val_bool(false);
    case JSON_NULL:
        return cr_val_null();
    default: {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        cr_value r = cr_val_cstr(s ? cr_arena_strdup(a, s) : "");
        free(s);
        return r;
    }
    }
}

typedef struct flat_ctx {
    eng_strand *s;
    cr_arena *a;
    int left;
} flat_ctx;

static void flatten(flat_ctx *f, json_t *v, const char *name, int depth)
{
    if (f->left <= 0)
        return;
    if ((json_is_object(v) || json_is_array(v)) && depth < MAX_FLAT_DEPTH) {
        if (json_is_object(v)) {
            const char *k;
            json_t *item;
            json_object_foreach(v, k, item) flatten(f, item, cr_arena_printf(f->a, "%s.%s", name, k), depth + 1);
        } else {
            size_t i;
            json_t *item;
            json_array_foreach(v, i, item) flatten(f, item, cr_arena_printf(f->a, "%s.%zu", name, i), depth + 1);
        }
        return;
    }
    f->left--;
    eng_strand_var_set(f->s, name, json_to_value(v, f->a));
}

/* ---- the request ---------------------------------------------------- */

typedef struct http_op {
    eng_strand *s;
    const scn_action *a;
    svc_http *h;
} http_op;

static json_t *build_json(eng_strand *s, const scn_jval *j)
{
    switch (j->kind) {
    case SCN_J_NULL:
        return json_null();
    case SCN_J_BOOL:
        return json_boolean(j->b);
    case SCN_J_NUM:
        if (j->num == (double)(json_int_t)j->num)
            return json_integer((json_int_t)j->num);
        return json_real(j->num);
    case SCN_J_STR: {
        const char *t = eng_render(s, j->str, SCN_ESC_NONE);
        json_t *r = json_string(t);
        return r ? r : json_stringn_nocheck("", 0);
    }
    case SCN_J_OBJ: {
        json_t *o = json_object();
        for (size_t i = 0; i < j->count; i++)
            json_object_set_new(o, j->keys[i], build_json(s, &j->items[i]));
        return o;
    }
    case SCN_J_ARR: {
        json_t *arr = json_array();
        for (size_t i = 0; i < j->count; i++)
            json_array_append_new(arr, build_json(s, &j->items[i]));
        return arr;
    }
    }
    return json_null();
}

static void set_results(eng_strand *s, long status, const char *body, size_t len, const char *error)
{
    eng_strand_var_set(s, "http_status", cr_val_num((double)status));
    eng_strand_var_set(s, "http_body", cr_val_str(body, len));
    eng_strand_var_set(s, "http_error", cr_val_cstr(error ? error : ""));
}

static app_status answer(eng_strand *s, const http_params *p, const svc_http_res *res)
{
    if (res->error && res->unknown && !svc_http_method_safe(methods[p->method])) {
        set_results(s, 0, "", 0, NULL);
        return app_unknown(s, "http_error", res->error);
    }
    if (res->error) {
        set_results(s, 0, "", 0, res->error);
        return eng_fail(s, "%s", res->error);
    }
    if (res->status >= 400) {
        char msg[64];
        snprintf(msg, sizeof msg, "HTTP %ld", res->status);
        set_results(s, res->status, res->body, res->body_len, msg);
        return eng_fail(s, "%s", msg);
    }
    set_results(s, res->status, res->body, res->body_len, NULL);

    const char *b = res->body;
    while (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n')
        b++;
    bool looks_json = *b == '{' || *b == '[' || (res->content_type && strstr(res->content_type, "json"));
    if (!looks_json && p->save.count == 0)
        return APP_DONE;
    json_error_t jerr;
    json_t *root = json_loadb(res->body, res->body_len, JSON_DECODE_ANY, &jerr);
    if (!root) {
        if (p->save.count == 0)
            return APP_DONE;
        char msg[256];
        snprintf(msg, sizeof msg, "the answer is not valid JSON (%s at line %d column %d): cannot save",
                 jerr.text, jerr.line, jerr.column);
        eng_strand_var_set(s, "http_error", cr_val_cstr(msg));
        return eng_fail(s, "%s", msg);
    }
    cr_arena *a = eng_call_arena(eng_strand_call(s));
    flat_ctx f = {s, a, MAX_FLAT};
    flatten(&f, root, "http.json", 0);
    for (size_t i = 0; i < p->save.count; i++) {
        json_t *v = NULL;
        path_eval(p->save.items[i], root, &v);
        if (!v) {
            eng_trace_log(s, "warning", "save %s: %s is not in the answer", p->save.names[i], p->save.items[i]);
            eng_strand_var_set(s, p->save.names[i], cr_val_null());
        } else {
            eng_strand_var_set(s, p->save.names[i], json_to_value(v, a));
        }
    }
    json_decref(root);
    return APP_DONE;
}

static void http_done_cb(void *arg, const svc_http_res *res)
{
    http_op *op = arg;
    eng_strand *s = op->s;
    const http_params *p = op->a->params;
    free(op);
    eng_strand_set_pending(s, NULL);
    eng_strand_resume(s, answer(s, p, res));
}

static app_status http_run(eng_strand *s, const scn_action *a)
{
    const http_params *p = a->params;
    struct svc_ctx *svc = eng_engine_services(eng_strand_engine(s));
    if (!svc)
        return eng_fail(s, "no HTTP service in this run");
    /* The key is set before rendering: the URL, headers or body may carry it. */
    const char *key = p->durable ? app_durable_key(s) : NULL;

    svc_http_req req = {.method = methods[p->method], .verify_tls = p->verify_tls};
    req.url = eng_render(s, p->url, SCN_ESC_URL);
    const char **headers = cr_xcalloc(p->headers.count + 1, sizeof *headers);
    bool has_ct = false;
    cr_strbuf hb = CR_STRBUF_INIT;
    size_t *offs = cr_xcalloc(p->headers.count + 1, sizeof *offs);
    for (size_t i = 0; i < p->headers.count; i++) {
        offs[i] = hb.len;
        cr_strbuf_printf(&hb, "%s: %s", p->headers.names[i], eng_render(s, p->headers.items[i], SCN_ESC_HEADER));
        cr_strbuf_putc(&hb, '\0');
        if (strcasecmp(p->headers.names[i], "Content-Type") == 0)
            has_ct = true;
    }
    for (size_t i = 0; i < p->headers.count; i++)
        headers[i] = hb.s + offs[i];
    size_t nh = p->headers.count;
    if (p->json && !has_ct)
        headers[nh++] = "Content-Type: application/json";
    req.headers = headers;
    req.header_count = nh;

    char *json_body = NULL;
    if (p->json) {
        json_t *j = build_json(s, p->json);
        json_body = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(j);
        req.body = json_body;
        req.body_len = json_body ? strlen(json_body) : 0;
    } else if (p->body) {
        req.body = eng_render(s, p->body, SCN_ESC_NONE);
        req.body_len = strlen(req.body);
    }
    double t = a->timeout >= 0 ? a->timeout : a->app->default_timeout;
    app_status st = APP_PENDING;
    if (p->durable) {
        /* The action's timeout bounds each attempt in the background. */
        req.timeout = t;
        svc_job j = {.key = key, .timeout = t, .http = &req};
        st = app_durable_queue(s, &j);   /* copies REQ */
    } else {
        /* The engine's `timeout:` cancels first; libcurl's is the backstop. */
        req.timeout = t > 0 ? t + 1 : 0;
        http_op *op = cr_xcalloc(1, sizeof *op);
        op->s = s;
        op->a = a;
        op->h = svc_http_start(svc, &req, http_done_cb, op);   /* copies REQ */
        eng_strand_set_pending(s, op);
    }
    free(json_body);
    free(headers);
    free(offs);
    cr_strbuf_free(&hb);
    return st;
}

static void http_cancel(eng_strand *s, const scn_action *a)
{
    const http_params *p = a->params;
    if (p->durable) {
        app_durable_cancel(s);
        return;
    }
    http_op *op = eng_strand_pending(s);
    if (!op)
        return;
    eng_strand_set_pending(s, NULL);
    bool sent = svc_http_cancel(op->h);
    free(op);
    /* Cancelled by a hangup, or else by the action's timeout: a request
     * that changes something and reached the server may have been done. */
    if (eng_call_ended(eng_strand_call(s))) {
        set_results(s, 0, "", 0, "cancelled");
    } else if (sent && !svc_http_method_safe(methods[p->method])) {
        set_results(s, 0, "", 0, NULL);
        app_unknown(s, "http_error", "timeout");
    } else {
        set_results(s, 0, "", 0, "timeout");
    }
}

/* Load time: header names are tokens, save paths parse; a durable request
 * changes something (not GET/HEAD) and saves nothing (its answer comes
 * after the strand went on). */
static bool http_check(scn_compile_ctx *cx, const scn_node *action, void *params)
{
    const http_params *p = params;
    bool ok = true;
    if (p->durable && svc_http_method_safe(methods[p->method])) {
        scn_cx_error(cx, scn_map_get(action, "durable"),
                     "durable: true is for requests that change something, not %s: a durable job runs after "
                     "the call went on, so nothing could use its answer; remove durable: true, or use "
                     "method: POST, PUT, PATCH or DELETE",
                     methods[p->method]);
        ok = false;
    }
    if (p->durable && p->save.count) {
        scn_cx_error(cx, scn_map_get(action, "save"),
                     "save: cannot be used with durable: true (the request happens in the background, after "
                     "the call went on); remove save:, or durable: true to wait for the answer");
        ok = false;
    }
    const scn_node *hn = scn_map_get(action, "headers");
    for (size_t i = 0; i < p->headers.count; i++) {
        const char *n = p->headers.names[i];
        bool good = *n != '\0';
        for (const char *c = n; *c; c++)
            if (*c <= ' ' || *c == ':' || *c >= 127)
                good = false;
        if (!good) {
            scn_cx_error(cx, hn, "'%s' is not a valid header name", n);
            ok = false;
        }
    }
    const scn_node *sn = scn_map_get(action, "save");
    for (size_t i = 0; i < p->save.count; i++) {
        if (!path_eval(p->save.items[i], NULL, NULL)) {
            scn_cx_error(cx, sn, "save %s: '%s' is not a JSON path like $.agent.extension or $.items[0].name",
                         p->save.names[i], p->save.items[i]);
            ok = false;
        }
    }
    return ok;
}

static const scn_param http_spec[] = {
    {.name = "method", .type = P_ENUM, .offset = F(http_params, method), .choices = methods, .def = "GET",
     .doc = "GET, POST, PUT, PATCH, DELETE or HEAD"},
    {.name = "url", .type = P_TEMPLATE, .offset = F(http_params, url), .flags = P_REQ,
     .doc = "the URL; variables in it are percent-encoded"},
    {.name = "headers", .type = P_TEMPLATE_MAP, .offset = F(http_params, headers),
     .doc = "request headers (templates; CR/LF removed)"},
    {.name = "body", .type = P_TEMPLATE, .offset = F(http_params, body), .flags = P_AT_MOST_ONE,
     .doc = "request body (a template)"},
    {.name = "json", .type = P_JSON, .offset = F(http_params, json), .flags = P_AT_MOST_ONE,
     .doc = "a map sent as a JSON body; its strings are templates"},
    {.name = "save", .type = P_STRING_MAP, .offset = F(http_params, save),
     .doc = "variable: path into the JSON answer ($.agent.extension, $.items[0].name)"},
    {.name = "verify_tls", .type = P_BOOL, .offset = F(http_params, verify_tls), .def = "true",
     .doc = "verify the server's TLS certificate"},
    {.name = "durable", .type = P_BOOL, .offset = F(http_params, durable), .def = "false",
     .doc = "a request done in the background until it succeeds, across outages and restarts "
            "(durable_id, durable_status; not GET/HEAD)"},
    SCN_PARAM_END,
};

const app_def app_http_table[] = {
    {.name = "http", .family = "integration",
     .summary = "Call an HTTP service; results in http_status, http_body, http_error, http.json.* and `save` "
                "(durable: in the background).",
     .params = http_spec, .params_size = sizeof(http_params), .flags = APP_WAITS, .default_timeout = 5,
     .check = http_check, .run = http_run, .cancel = http_cancel},
    APP_END,
};
