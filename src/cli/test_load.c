/* test_load.c — reading a `callroute test` file (SCENARIO.md "Scenario
 * tests"): cases with the call, caller/parties specs, mocks and
 * expectations, each checked for unknown keys and wrong shapes with
 * file:line:col, so a typo in a test never passes silently. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/test_int.h"
#include "scenario/compile.h"
#include "scenario/diag.h"
#include "util/time.h"

typedef struct rd {
    tc_file *f;
    cr_arena *a;
    char *err;                       /* first problem in the current case */
} rd;

static bool fail(rd *r, const scn_node *n, const char *fmt, const char *arg)
{
    if (!r->err) {
        char msg[512];
        snprintf(msg, sizeof msg, fmt, arg ? arg : "");
        r->err = cr_arena_printf(r->a, "%s:%u:%u: %s", n ? n->file : "?", n ? n->line : 0, n ? n->col : 0, msg);
    }
    return false;
}

static const char *scalar(rd *r, const scn_node *n, const char *what)
{
    if (!n || n->kind != SCN_NODE_SCALAR) {
        fail(r, n, "expected %s", what);
        return NULL;
    }
    return n->str;
}

static bool check_keys(rd *r, const scn_node *map, const char *const *keys, const char *where)
{
    if (!map || map->kind != SCN_NODE_MAP)
        return fail(r, map, "expected a mapping for %s", where);
    for (size_t i = 0; i < map->count; i++) {
        const char *k = map->pairs[i].key->str;
        bool known = false;
        for (const char *const *p = keys; *p; p++)
            known = known || strcmp(*p, k) == 0;
        if (!known) {
            const char *s = scn_suggest(k, keys);
            char msg[256];
            snprintf(msg, sizeof msg, "unknown key '%s' in %s%s%s%s", k, where, s ? " (did you mean '" : "",
                     s ? s : "", s ? "'?)" : "");
            return fail(r, map->pairs[i].key, "%s", msg);
        }
    }
    return true;
}

/* A list of scalars, or one scalar. */
static const char **strings(rd *r, const scn_node *n, size_t *count, const char *what)
{
    *count = 0;
    if (!n)
        return NULL;
    if (n->kind == SCN_NODE_SCALAR) {
        const char **out = cr_arena_alloc(r->a, sizeof *out);
        out[0] = n->str;
        *count = 1;
        return out;
    }
    if (n->kind != SCN_NODE_SEQ) {
        fail(r, n, "expected %s (a string or a list)", what);
        return NULL;
    }
    const char **out = cr_arena_alloc(r->a, (n->count + 1) * sizeof *out);
    for (size_t i = 0; i < n->count; i++)
        if (!(out[i] = scalar(r, n->items[i], what)))
            return NULL;
    *count = n->count;
    return out;
}

/* A { name: value } map of scalars into two arrays (null values: NULL). */
static size_t pairs(rd *r, const scn_node *n, const char ***names, const char ***vals, const char *what)
{
    *names = *vals = NULL;
    if (!n)
        return 0;
    if (n->kind != SCN_NODE_MAP) {
        fail(r, n, "expected a mapping for %s", what);
        return 0;
    }
    *names = cr_arena_alloc(r->a, (n->count + 1) * sizeof **names);
    *vals = cr_arena_alloc(r->a, (n->count + 1) * sizeof **vals);
    for (size_t i = 0; i < n->count; i++) {
        (*names)[i] = n->pairs[i].key->str;
        const scn_node *v = n->pairs[i].val;
        if (v->kind != SCN_NODE_SCALAR)
            fail(r, v, "expected a single value in %s", what);
        (*vals)[i] = scn_is_null(v) ? NULL : v->str;
    }
    return n->count;
}

static bool duration(rd *r, const scn_node *n, double *out)
{
    const char *s = scalar(r, n, "a duration (10, 2.5, 500ms)");
    if (s && scn_parse_duration(s, strlen(s), out))
        return true;
    return s ? fail(r, n, "expected a duration (10, 2.5, 500ms), got '%s'", s) : false;
}

/* A YAML value as JSON (plain scalars keep YAML's null/bool/number). */
static json_t *to_json(const scn_node *n)
{
    if (n->kind == SCN_NODE_MAP) {
        json_t *o = json_object();
        for (size_t i = 0; i < n->count; i++)
            json_object_set_new(o, n->pairs[i].key->str, to_json(n->pairs[i].val));
        return o;
    }
    if (n->kind == SCN_NODE_SEQ) {
        json_t *a = json_array();
        for (size_t i = 0; i < n->count; i++)
            json_array_append_new(a, to_json(n->items[i]));
        return a;
    }
    bool b;
    double d;
    if (!n->quoted && scn_is_null(n))
        return json_null();
    if (!n->quoted && scn_scalar_bool(n, &b))
        return json_boolean(b);
    if (!n->quoted && scn_scalar_number(n, &d))
        return d == (double)(json_int_t)d && strchr(n->str, '.') == NULL ? json_integer((json_int_t)d) : json_real(d);
    json_t *s = json_string(n->str);
    return s ? s : json_string("");
}

static void http_mock(rd *r, const scn_node *n, svc_http_mock *m)
{
    static const char *const keys[] = {"method", "url", "status", "json", "body", "content_type", "delay",
                                       "error", NULL};
    if (!check_keys(r, n, keys, "an http mock"))
        return;
    const scn_node *v;
    if ((v = scn_map_get(n, "method")))
        m->method = scalar(r, v, "an HTTP method");
    if (!(v = scn_map_get(n, "url")))
        fail(r, n, "an http mock needs `url` (a pattern with * wildcards)", NULL);
    else
        m->url = scalar(r, v, "a URL pattern");
    double d;
    if ((v = scn_map_get(n, "status"))) {
        if (!scn_scalar_number(v, &d) || d < 100 || d > 599)
            fail(r, v, "expected an HTTP status (100-599)", NULL);
        m->status = (long)d;
    }
    if ((v = scn_map_get(n, "json"))) {
        json_t *j = to_json(v);
        char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        m->body = cr_arena_strdup(r->a, s ? s : "null");
        free(s);
        json_decref(j);
        m->content_type = "application/json";
        if (scn_map_get(n, "body"))
            fail(r, v, "an http mock has `json` or `body`, not both", NULL);
    } else if ((v = scn_map_get(n, "body"))) {
        m->body = scalar(r, v, "a response body");
    }
    if ((v = scn_map_get(n, "content_type")))
        m->content_type = scalar(r, v, "a content type");
    if ((v = scn_map_get(n, "delay")))
        duration(r, v, &m->delay);
    if ((v = scn_map_get(n, "error")))
        m->error = scalar(r, v, "an error message");
}

static void db_mock(rd *r, const scn_node *n, svc_db_mock *m)
{
    static const char *const keys[] = {"database", "query", "rows", "error", "delay", NULL};
    if (!check_keys(r, n, keys, "a db mock"))
        return;
    const scn_node *v;
    if ((v = scn_map_get(n, "database")))
        m->database = scalar(r, v, "a database name");
    if (!(v = scn_map_get(n, "query")))
        fail(r, n, "a db mock needs `query` (a pattern with * wildcards)", NULL);
    else
        m->query = scalar(r, v, "a query pattern");
    if ((v = scn_map_get(n, "rows"))) {
        if (v->kind != SCN_NODE_SEQ) {
            fail(r, v, "expected `rows` as a list of mappings: [ { tier: gold } ]", NULL);
        } else {
            m->rows = v->count;
            if (v->count) {
                const scn_node *row = v->items[0];
                const char **names, **vals;
                m->ncols = pairs(r, row, &names, &vals, "a row");
                m->cols = names;
                m->vals = vals;
            }
            for (size_t i = 1; i < v->count; i++)
                if (v->items[i]->kind != SCN_NODE_MAP)
                    fail(r, v->items[i], "expected a row mapping", NULL);
        }
    }
    if ((v = scn_map_get(n, "error")))
        m->error = scalar(r, v, "an error message");
    if ((v = scn_map_get(n, "delay")))
        duration(r, v, &m->delay);
}

static void read_mocks(rd *r, const scn_node *n, tc_case *c)
{
    static const char *const keys[] = {"http", "db", "email", NULL};
    if (!check_keys(r, n, keys, "mocks"))
        return;
    const scn_node *h = scn_map_get(n, "http"), *d = scn_map_get(n, "db");
    if (h && h->kind != SCN_NODE_SEQ)
        fail(r, h, "expected a list of http mocks", NULL);
    else if (h) {
        c->http = cr_arena_alloc(r->a, (h->count + 1) * sizeof *c->http);
        c->http_count = h->count;
        for (size_t i = 0; i < h->count; i++)
            http_mock(r, h->items[i], &c->http[i]);
    }
    if (d && d->kind != SCN_NODE_SEQ)
        fail(r, d, "expected a list of db mocks", NULL);
    else if (d) {
        c->db = cr_arena_alloc(r->a, (d->count + 1) * sizeof *c->db);
        c->db_count = d->count;
        for (size_t i = 0; i < d->count; i++)
            db_mock(r, d->items[i], &c->db[i]);
    }
    /* `email:` is accepted for symmetry: mail is always captured. */
}

static void read_expect(rd *r, const scn_node *n, tc_case *c)
{
    static const char *const keys[] = {"route", "ran", "not_ran", "vars", "emails", "dial", "hangup", NULL};
    if (!check_keys(r, n, keys, "expect"))
        return;
    const scn_node *v;
    if ((v = scn_map_get(n, "route"))) {
        c->has_route = true;
        c->route = scn_is_null(v) ? NULL : scalar(r, v, "a route name (or null: no route)");
    }
    c->ran = strings(r, scn_map_get(n, "ran"), &c->ran_count, "application names or ids");
    c->not_ran = strings(r, scn_map_get(n, "not_ran"), &c->not_ran_count, "application names or ids");
    c->var_expect_count = pairs(r, scn_map_get(n, "vars"), &c->var_expect_names, &c->var_expect_values, "vars");
    if ((v = scn_map_get(n, "emails"))) {
        c->has_emails = true;
        if (v->kind != SCN_NODE_SEQ) {
            fail(r, v, "expected a list of e-mails: [ { to: ..., body: ... } ]", NULL);
        } else {
            c->emails = cr_arena_alloc(r->a, (v->count + 1) * sizeof *c->emails);
            c->email_count = v->count;
            static const char *const ekeys[] = {"to", "cc", "subject", "body", NULL};
            for (size_t i = 0; i < v->count; i++) {
                const scn_node *e = v->items[i];
                tc_email *m = &c->emails[i];
                m->node = e;
                if (!check_keys(r, e, ekeys, "an expected e-mail"))
                    continue;
                const scn_node *x;
                if ((x = scn_map_get(e, "to")))
                    m->to = scalar(r, x, "an address");
                if ((x = scn_map_get(e, "cc")))
                    m->cc = scalar(r, x, "an address");
                if ((x = scn_map_get(e, "subject")))
                    m->subject = scalar(r, x, "a subject");
                if ((x = scn_map_get(e, "body")))
                    m->body = scalar(r, x, "a body");
            }
        }
    }
    if ((v = scn_map_get(n, "dial"))) {
        if (v->kind == SCN_NODE_MAP) {
            static const char *const dkeys[] = {"status", NULL};
            if (check_keys(r, v, dkeys, "expect.dial") && scn_map_get(v, "status"))
                c->dial_status = scalar(r, scn_map_get(v, "status"), "a dial status");
        } else {
            c->dial_status = scalar(r, v, "a dial status (answered, busy, no_answer, failed, cancelled)");
        }
    }
    if ((v = scn_map_get(n, "hangup"))) {
        if (v->kind == SCN_NODE_MAP) {
            static const char *const hkeys[] = {"by", "cause", NULL};
            if (check_keys(r, v, hkeys, "expect.hangup")) {
                const scn_node *x;
                if ((x = scn_map_get(v, "by")))
                    c->hangup_by = scalar(r, x, "caller, scenario, system or transfer");
                if ((x = scn_map_get(v, "cause")))
                    c->hangup_cause = scalar(r, x, "a hangup cause");
            }
        } else {
            c->hangup_by = scalar(r, v, "caller, scenario, system or transfer");
        }
    }
}

static void read_call(rd *r, const scn_node *n, tc_case *c)
{
    static const char *const keys[] = {"from", "to", "source", "at", "caller_name", "call_id", "headers", NULL};
    if (!check_keys(r, n, keys, "call"))
        return;
    const scn_node *v;
    simrun_params *p = &c->run;
    if ((v = scn_map_get(n, "from")))
        p->from = scalar(r, v, "the caller's number");
    if ((v = scn_map_get(n, "to")))
        p->to = scalar(r, v, "the called number");
    if (!p->from || !p->to)
        fail(r, n, "call needs `from` and `to`", NULL);
    if ((v = scn_map_get(n, "source")))
        p->source = scalar(r, v, "a gateway name or user:EXT");
    if ((v = scn_map_get(n, "caller_name")))
        p->caller_name = scalar(r, v, "a name");
    if ((v = scn_map_get(n, "call_id")))
        p->call_id = scalar(r, v, "a call id");
    if ((v = scn_map_get(n, "at"))) {
        const char *s = scalar(r, v, "a time like 2026-11-26T10:00:00+03:00");
        if (s && !cr_parse_time(s, &p->at, &p->utc_offset, &p->utc_offset_set))
            fail(r, v, "expected a time like 2026-11-26T10:00:00+03:00, got '%s'", s);
    }
    p->header_count = pairs(r, scn_map_get(n, "headers"), &c->header_names, &c->header_values, "headers");
}

static void read_case(rd *r, const scn_node *n, tc_case *c, size_t index)
{
    static const char *const keys[] = {"name", "call", "caller", "parties", "vars", "mocks", "expect",
                                       "max_time", NULL};
    c->node = n;
    c->name = cr_arena_printf(r->a, "case %zu", index + 1);
    if (!check_keys(r, n, keys, "a test case"))
        return;
    const scn_node *v;
    if ((v = scn_map_get(n, "name")))
        c->name = scalar(r, v, "a case name") ? v->str : c->name;
    if (!(v = scn_map_get(n, "call")))
        fail(r, n, "a case needs `call: { from: ..., to: ... }`", NULL);
    else
        read_call(r, v, c);
    if ((v = scn_map_get(n, "caller")))
        c->run.caller = scalar(r, v, "a caller SPEC like \"hangup@60\"");
    const char **vals;
    c->run.party_count = pairs(r, scn_map_get(n, "parties"), &c->party_targets, &vals, "parties");
    c->party_specs = vals;
    for (size_t i = 0; i < c->run.party_count; i++)
        if (!vals[i])
            fail(r, scn_map_get(n, "parties"), "party '%s' needs a SPEC", c->party_targets[i]);
    c->run.var_count = pairs(r, scn_map_get(n, "vars"), &c->var_names, &c->var_values, "vars");
    for (size_t i = 0; i < c->run.var_count; i++)
        if (!c->var_values[i])
            c->var_values[i] = "";
    if ((v = scn_map_get(n, "max_time")))
        duration(r, v, &c->run.max_time);
    if ((v = scn_map_get(n, "mocks")))
        read_mocks(r, v, c);
    if ((v = scn_map_get(n, "expect")))
        read_expect(r, v, c);
    else
        fail(r, n, "a case needs `expect:` (what should happen)", NULL);
    c->run.party_targets = c->party_targets;
    c->run.party_specs = c->party_specs;
    c->run.var_names = c->var_names;
    c->run.var_values = c->var_values;
    c->run.header_names = c->header_names;
    c->run.header_values = c->header_values;
}

bool tc_file_load(tc_file *f, const char *path)
{
    memset(f, 0, sizeof *f);
    cr_arena_init(&f->arena, 16384);
    scn_diags d;
    scn_diags_init(&d);
    bool unreadable = false;
    scn_node *root = scn_load_file(&f->arena, path, &d, &unreadable);
    if (!root) {
        const scn_diag *g = d.count ? &d.items[0] : NULL;
        f->error = g ? cr_arena_printf(&f->arena, "%s:%u:%u: %s", g->file, g->line, g->col, g->msg)
                     : cr_arena_printf(&f->arena, "%s: cannot read the test file", path);
        scn_diags_free(&d);
        return false;
    }
    scn_diags_free(&d);
    rd r = {.f = f, .a = &f->arena};
    static const char *const keys[] = {"cases", NULL};
    const scn_node *cases = scn_map_get(root, "cases");
    if (!check_keys(&r, root, keys, "the test file") || !cases || cases->kind != SCN_NODE_SEQ) {
        f->error = r.err ? r.err
                         : cr_arena_printf(&f->arena, "%s:%u:%u: expected `cases:` with a list of test cases", path,
                                           root->line, root->col);
        return false;
    }
    f->count = cases->count;
    f->cases = cr_arena_alloc(&f->arena, (f->count + 1) * sizeof *f->cases);
    f->case_errors = cr_arena_alloc(&f->arena, (f->count + 1) * sizeof *f->case_errors);
    for (size_t i = 0; i < f->count; i++) {
        r.err = NULL;
        read_case(&r, cases->items[i], &f->cases[i], i);
        f->case_errors[i] = r.err;
    }
    return true;
}

void tc_file_free(tc_file *f)
{
    cr_arena_free(&f->arena);
}
