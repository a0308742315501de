/* scenario.c — the scenario file and its revisions: GET /scenario, POST
 * /scenario/validate, PUT /scenario, POST /reload, GET /revisions and
 * /revisions/N, POST /revisions/N/restore. Compiling and installing a
 * program is serve's (admin_options: compile, install, reload), so a change
 * made here takes the same path as SIGHUP; the files are revisions.c's.
 * Errors come in the shape of `callroute check --json`, one object per
 * diagnostic, with "col" beside "column". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "admin/admin_etag.h"
#include "admin/admin_int.h"
#include "admin/revisions.h"
#include "scenario/diag.h"

/* False (answered 503) when serve gave no revisions or no way to load. */
static bool ready(admin_req *r)
{
    const admin_options *o = &r->a->opt;
    if (o->revisions && o->compile && o->install && o->reload && admin_revisions_current(o->revisions))
        return true;
    admin_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "the scenario is not managed by this server", NULL);
    return false;
}

static long current(admin *a) { return admin_revisions_current(a->opt.revisions)->number; }

/* Text from the scenario (messages quote it) is UTF-8, but a message may
 * cut a character in two: such bytes become '?'. */
static json_t *text(const char *s)
{
    json_t *j = json_string(s ? s : "");
    if (j)
        return j;
    char *copy = cr_xstrdup(s);
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(copy);
    free(copy);
    return j ? j : json_null();
}

/* `callroute check --json`'s object for one diagnostic, and "col". */
static json_t *diag_json(const scn_diag *g)
{
    json_t *o = json_object();
    json_object_set_new(o, "file", text(g->file));
    json_object_set_new(o, "line", json_integer(g->line));
    json_object_set_new(o, "col", json_integer(g->col));
    json_object_set_new(o, "column", json_integer(g->col));
    json_object_set_new(o, "severity", json_string(g->sev == SCN_SEV_ERROR ? "error" : "warning"));
    json_object_set_new(o, "message", text(g->msg));
    json_object_set_new(o, "path", text(g->path));
    return o;
}

/* {"ok":OK,"errors":[...],"warnings":[...]} from D, in file order. */
static json_t *diags_json(scn_diags *d, bool ok)
{
    scn_diags_sort(d);
    json_t *errors = json_array(), *warnings = json_array();
    for (size_t i = 0; i < d->count; i++)
        json_array_append_new(d->items[i].sev == SCN_SEV_ERROR ? errors : warnings, diag_json(&d->items[i]));
    json_t *o = json_object();
    json_object_set_new(o, "ok", json_boolean(ok));
    if (!ok)
        json_object_set_new(o, "errors", errors);
    else
        json_decref(errors);
    json_object_set_new(o, "warnings", warnings);
    if (d->truncated)
        json_object_set_new(o, "truncated", json_true());
    return o;
}

/* 422 with the errors of D; the revision that goes on running. */
static void reply_invalid(admin_req *r, scn_diags *d)
{
    json_t *o = diags_json(d, false);
    json_object_set_new(o, "revision", json_integer(current(r->a)));
    admin_reply(r, MHD_HTTP_UNPROCESSABLE_CONTENT, o);
}

static json_t *revision_json(admin *a, const admin_revision *v)
{
    json_t *o = json_object();
    json_object_set_new(o, "revision", json_integer(v->number));
    json_object_set_new(o, "sha256", json_string(v->sha256));
    json_object_set_new(o, "loaded_at", admin_jtime(v->loaded_at));
    json_object_set_new(o, "live_calls", json_integer((json_int_t)admin_calls_on_revision(a->calls, v->number)));
    json_object_set_new(o, "current", json_boolean(v->number == current(a)));
    json_object_set_new(o, "loaded", json_boolean(v->loaded));
    json_object_set_new(o, "kept", json_boolean(v->kept));
    return o;
}

static const char *format_of(const char *file)
{
    const char *dot = strrchr(file, '.');
    return dot && strcasecmp(dot, ".json") == 0 ? "json" : "yaml";
}

/* The If-Match of R against the current revision. REQUIRED: a missing one
 * is 428. False: answered (428, 409 stale, 400 malformed). */
static bool precondition(admin_req *r, bool required)
{
    long cur = current(r->a);
    const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_MATCH);
    json_t *x = json_object();
    json_object_set_new(x, "revision", json_integer(cur));
    switch (admin_check_if_match(h, cur)) {
    case ADMIN_IF_MATCH_OK:
        json_decref(x);
        return true;
    case ADMIN_IF_MATCH_MISSING:
        if (!required) {
            json_decref(x);
            return true;
        }
        admin_reply_error(r, MHD_HTTP_PRECONDITION_REQUIRED,
                          "a change needs If-Match: \"N\", the ETag of GET /scenario (the revision it edits)", x);
        return false;
    case ADMIN_IF_MATCH_STALE:
        admin_reply_error(r, MHD_HTTP_CONFLICT,
                          "the scenario has changed since that revision: GET /scenario for the current one", x);
        return false;
    case ADMIN_IF_MATCH_BAD:
        break;
    }
    admin_reply_error(r, MHD_HTTP_BAD_REQUEST, "If-Match must be \"N\" (a revision) or *", x);
    return false;
}

/* ---- in a cluster: stored in the database first ---- */

/* A change waiting for the cluster database to store it as the next
 * revision (admin_options.publish); then it is written and installed as
 * write_and_install does, under the number the database gave. */
typedef struct publish_op {
    admin_req *r;
    void *handle;
    scn_program *p;
    char *src;
    size_t len;
    char why[64];
    json_t *answer;              /* the warnings and EXTRA */
    bool write_file;
} publish_op;

static void publish_free(publish_op *op)
{
    scn_program_unref(op->p);
    free(op->src);
    json_decref(op->answer);
    free(op);
}

static void publish_cancel_cb(admin_req *r)
{
    publish_op *op = r->op;
    r->a->opt.publish_cancel(r->a->opt.scenario_arg, op->handle);
    publish_free(op);
}

static void published_cb(void *arg, long n, bool conflict, const char *error)
{
    publish_op *op = arg;
    admin_req *r = op->r;
    admin *a = r->a;
    r->cancel = NULL;
    char err[600];
    json_t *x = json_object();
    if (conflict) {
        json_object_set_new(x, "revision", json_integer(current(a)));
        admin_reply_error(r, MHD_HTTP_CONFLICT,
                          "another node changed the scenario first: GET /scenario (within a second) for the new one", x);
    } else if (!n) {
        json_object_set_new(x, "detail", admin_jstr(error));
        json_object_set_new(x, "revision", json_integer(current(a)));
        admin_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
                          "the cluster database did not take the new revision: nothing changed", x);
    } else if (op->write_file && !admin_revisions_write_file(a->opt.revisions, op->src, op->len, err, sizeof err)) {
        /* Stored: every other node runs it within a second; this one says why it cannot. */
        json_object_set_new(x, "revision", json_integer(n));
        admin_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, err, x);
    } else {
        json_decref(x);
        long got = a->opt.install_as(a->opt.scenario_arg, op->p, op->src, op->len, n, op->why);
        json_t *o = op->answer;
        op->answer = NULL;
        json_object_set_new(o, "revision", json_integer(got));
        admin_etag(r->etag, sizeof r->etag, got);
        admin_reply(r, MHD_HTTP_OK, o);
    }
    publish_free(op);
}

/* P (compiled from SRC) goes to the cluster database as the revision after
 * the current one; answered when it has been stored (or not). Takes P. */
static void publish(admin_req *r, scn_program *p, const char *src, size_t len, scn_diags *d, const char *why,
                    json_t *extra, bool write_file)
{
    admin *a = r->a;
    publish_op *op = cr_xcalloc(1, sizeof *op);
    op->r = r;
    op->p = p;
    op->src = cr_xmalloc(len + 1);
    memcpy(op->src, src, len);
    op->src[len] = '\0';
    op->len = len;
    snprintf(op->why, sizeof op->why, "%s", why);
    op->answer = diags_json(d, true);
    json_object_del(op->answer, "ok");
    json_object_update(op->answer, extra);
    json_decref(extra);
    op->write_file = write_file;
    r->op = op;
    r->cancel = publish_cancel_cb;
    op->handle = a->opt.publish(a->opt.scenario_arg, op->src, op->len, current(a), published_cb, op);
}

/* TEXT, compiled as P, written over the file and installed; answered.
 * Takes P. Nothing changes unless it all works; a file changed on disk
 * since the running revision was loaded is not overwritten (409). In a
 * cluster, the database stores it first (publish). */
static void write_and_install(admin_req *r, scn_program *p, const char *src, size_t len, scn_diags *d,
                              const char *why, json_t *extra)
{
    admin *a = r->a;
    admin_revisions *rs = a->opt.revisions;
    char err[600];
    if (!admin_revisions_file_unchanged(rs, err, sizeof err)) {
        scn_program_unref(p);
        json_object_set_new(extra, "revision", json_integer(current(a)));
        admin_reply_error(r, MHD_HTTP_CONFLICT, err, extra);
        return;
    }
    if (a->opt.publish) {
        if (!admin_revisions_keep_current(rs, err, sizeof err)) {
            scn_program_unref(p);
            admin_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, err, extra);
            return;
        }
        publish(r, p, src, len, d, why, extra, true);
        return;
    }
    if (!admin_revisions_keep_current(rs, err, sizeof err) || !admin_revisions_write_file(rs, src, len, err, sizeof err)) {
        scn_program_unref(p);
        admin_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, err, extra);
        return;
    }
    long n = a->opt.install(a->opt.scenario_arg, p, src, len, why);
    scn_program_unref(p);
    json_t *o = diags_json(d, true);
    json_object_del(o, "ok");
    json_object_set_new(o, "revision", json_integer(n));
    json_object_update(o, extra);
    json_decref(extra);
    admin_etag(r->etag, sizeof r->etag, n);
    admin_reply(r, MHD_HTTP_OK, o);
}

/* ---- resources ---- */

void admin_get_scenario(admin_req *r)
{
    if (!ready(r))
        return;
    admin_revisions *rs = r->a->opt.revisions;
    const admin_revision *v = admin_revisions_current(rs);
    size_t len = 0;
    const char *src = admin_revisions_current_source(rs, &len);
    json_t *o = json_object();
    json_object_set_new(o, "revision", json_integer(v->number));
    json_object_set_new(o, "sha256", json_string(v->sha256));
    json_object_set_new(o, "path", text(admin_revisions_file(rs)));
    json_object_set_new(o, "loaded_at", admin_jtime(v->loaded_at));
    json_object_set_new(o, "format", json_string(format_of(admin_revisions_file(rs))));
    /* The loader took only UTF-8 without NULs: it is a JSON string. */
    json_object_set_new(o, "source", src ? json_stringn(src, len) : json_null());
    admin_etag(r->etag, sizeof r->etag, v->number);
    admin_reply(r, MHD_HTTP_OK, o);
}

void admin_validate_scenario(admin_req *r)
{
    if (!ready(r))
        return;
    admin *a = r->a;
    scn_diags d;
    scn_diags_init(&d);
    scn_program *p = a->opt.compile(a->opt.scenario_arg, cr_strbuf_cstr(&r->body), r->body.len, &d);
    json_t *o = diags_json(&d, p != NULL);
    admin_reply(r, p ? MHD_HTTP_OK : MHD_HTTP_UNPROCESSABLE_CONTENT, o);
    scn_program_unref(p);
    scn_diags_free(&d);
}

void admin_put_scenario(admin_req *r)
{
    if (!ready(r) || !precondition(r, true))
        return;
    admin *a = r->a;
    scn_diags d;
    scn_diags_init(&d);
    const char *src = cr_strbuf_cstr(&r->body);
    scn_program *p = a->opt.compile(a->opt.scenario_arg, src, r->body.len, &d);
    if (!p)
        reply_invalid(r, &d);
    else
        write_and_install(r, p, src, r->body.len, &d, "PUT /scenario", json_object());
    scn_diags_free(&d);
}

void admin_reload(admin_req *r)
{
    if (!ready(r))
        return;
    admin *a = r->a;
    scn_diags d;
    scn_diags_init(&d);
    if (a->opt.publish) {
        /* In a cluster the file's text becomes the cluster's next revision. */
        size_t len = 0;
        char err[300];
        char *src = admin_revisions_read_file(a->opt.revisions, &len, err, sizeof err);
        scn_program *p = src ? a->opt.compile(a->opt.scenario_arg, src, len, &d) : NULL;
        if (!src)
            admin_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, err, json_pack("{s:I}", "revision", (json_int_t)current(a)));
        else if (!p)
            reply_invalid(r, &d);
        else
            publish(r, p, src, len, &d, "POST /reload", json_object(), false);
        free(src);
        scn_diags_free(&d);
        return;
    }
    long n = a->opt.reload(a->opt.scenario_arg, &d, "POST /reload");
    if (!n) {
        reply_invalid(r, &d);
    } else {
        json_t *o = diags_json(&d, true);
        json_object_del(o, "ok");
        json_object_set_new(o, "revision", json_integer(n));
        admin_etag(r->etag, sizeof r->etag, n);
        admin_reply(r, MHD_HTTP_OK, o);
    }
    scn_diags_free(&d);
}

void admin_get_revisions(admin_req *r)
{
    if (!ready(r))
        return;
    admin_revisions *rs = r->a->opt.revisions;
    json_t *arr = json_array();
    size_t n = 0;
    while (admin_revisions_at(rs, n))
        n++;
    while (n--)   /* newest first */
        json_array_append_new(arr, revision_json(r->a, admin_revisions_at(rs, n)));
    admin_reply(r, MHD_HTTP_OK, arr);
}

/* The revision R's path names; NULL when answered 404. */
static const admin_revision *named(admin_req *r, long *number)
{
    const admin_revision *v = NULL;
    if (admin_parse_revision(r->param, number))
        v = admin_revisions_find(r->a->opt.revisions, *number);
    if (!v)
        admin_reply_error(r, MHD_HTTP_NOT_FOUND, "no such revision (GET /revisions lists them)", NULL);
    return v;
}

void admin_get_revision(admin_req *r)
{
    long number;
    const admin_revision *v;
    if (!ready(r) || !(v = named(r, &number)))
        return;
    json_t *o = revision_json(r->a, v);
    size_t len = 0;
    char err[200];
    char *src = admin_revisions_source(r->a->opt.revisions, number, &len, err, sizeof err);
    json_object_set_new(o, "source", src ? json_stringn(src, len) : json_null());
    free(src);
    admin_reply(r, MHD_HTTP_OK, o);
}

void admin_restore_revision(admin_req *r)
{
    long number;
    if (!ready(r) || !named(r, &number) || !precondition(r, false))
        return;
    admin *a = r->a;
    size_t len = 0;
    char err[300];
    char *src = admin_revisions_source(a->opt.revisions, number, &len, err, sizeof err);
    if (!src) {
        admin_reply_error(r, MHD_HTTP_GONE, err, NULL);
        return;
    }
    /* Compiled again, not taken as it was: its includes, prompts and
     * databases are today's. */
    scn_diags d;
    scn_diags_init(&d);
    scn_program *p = a->opt.compile(a->opt.scenario_arg, src, len, &d);
    if (!p) {
        reply_invalid(r, &d);
    } else {
        char why[64];
        snprintf(why, sizeof why, "restore of revision %ld", number);
        json_t *extra = json_object();
        json_object_set_new(extra, "restored", json_integer(number));
        write_and_install(r, p, src, len, &d, why, extra);
    }
    scn_diags_free(&d);
    free(src);
}
