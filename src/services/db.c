/* db.c — database queries: dispatch to the backend (SQLite, PostgreSQL) or
 * to a mock, and the `?` placeholder scanner shared by the load-time check
 * and the PostgreSQL rewrite. */
#include "services/svc_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/strbuf.h"

/* ---- immediate failures and mocks ---------------------------------- */

typedef struct simple_q {
    svc_db base;
    loop_timer *timer;
    char *error;
    const svc_db_mock *mock;
} simple_q;

/* A mock that answers is the database: it "ran" the query. */
static bool simple_cancel(svc_db *q)
{
    simple_q *s = (simple_q *)q;
    bool ran = s->mock && !s->mock->error;
    loop_timer_stop(q->c->l, s->timer);
    free(s->error);
    free(s);
    return ran;
}

static void simple_cb(loop *l, void *arg)
{
    (void)l;
    simple_q *s = arg;
    svc_db_res res = {.error = s->error};
    const svc_db_mock *m = s->mock;
    if (m && !m->error) {
        res.rows = (long)m->rows;
        if (m->rows > 0) {
            res.ncols = m->ncols;
            res.cols = m->cols;
            res.vals = m->vals;
        }
    } else if (m) {
        res.error = m->error;
    }
    svc_db_ended(&s->base, &res);
    s->base.cb(s->base.arg, &res);
    free(s->error);
    free(s);
}

static svc_db *simple_start(svc_ctx *c, const char *error, const svc_db_mock *m, double delay,
                            svc_db_cb cb, void *arg)
{
    simple_q *s = svc_alloc(sizeof *s);
    s->base.c = c;
    s->base.cb = cb;
    s->base.arg = arg;
    s->base.cancel = simple_cancel;
    s->error = error ? svc_strdup(error) : NULL;
    s->mock = m;
    s->timer = loop_timer_start(c->l, delay > 0 ? delay : 0, simple_cb, s);
    return &s->base;
}

svc_db *svc_db_fail(svc_ctx *c, const char *error, svc_db_cb cb, void *arg)
{
    return simple_start(c, error, NULL, 0, cb, arg);
}

static svc_db *mock_query(svc_ctx *c, const cfg_database *db, const char *sql, svc_db_cb cb,
                          void *arg)
{
    const svc_mocks *mk = c->opt.mocks;
    for (size_t i = 0; i < mk->db_count; i++) {
        const svc_db_mock *m = &mk->db[i];
        if (m->database && strcmp(m->database, db->name) != 0)
            continue;
        if (!svc_glob(m->query, sql))
            continue;
        return simple_start(c, NULL, m, m->delay, cb, arg);
    }
    cr_strbuf what = CR_STRBUF_INIT;
    cr_strbuf_printf(&what, "db %s: %s", db->name, sql);
    if (mk->unmatched)
        mk->unmatched(mk->arg, what.s);
    cr_strbuf_reset(&what);
    cr_strbuf_printf(&what, "no mock for db %s: %s", db->name, sql);
    svc_db *q = svc_db_fail(c, what.s, cb, arg);
    cr_strbuf_free(&what);
    return q;
}

/* ---- dispatch ------------------------------------------------------- */

svc_db *svc_db_query_in(svc_ctx *c, svc_dbentry **list, int pool, const cfg_database *db, const char *sql,
                        const char *const *params, size_t nparams, double timeout, svc_db_cb cb, void *arg)
{
    if (c->opt.mocks)
        return mock_query(c, db, sql, cb, arg);
    const char *target = db->target ? db->target : db->url;
    if (!target)
        return svc_db_fail(c, "the database has no target", cb, arg);
    svc_dbentry *d = *list;
    while (d && (d->kind != db->kind || strcmp(d->target, target) != 0))
        d = d->next;
    if (!d) {
        d = svc_alloc(sizeof *d);
        d->kind = db->kind;
        d->target = svc_strdup(target);
        d->st = db->kind == CFG_DB_SQLITE ? svc_sqlite_open(c, db) : svc_pg_open(c, db, pool);
        d->next = *list;
        *list = d;
    }
    double started = loop_now(c->l);
    /* No backend calls back before it returns: Q is still there. */
    svc_db *q = db->kind == CFG_DB_SQLITE ? svc_sqlite_query(d->st, sql, params, nparams, timeout, cb, arg)
                                          : svc_pg_query(d->st, sql, params, nparams, timeout, cb, arg);
    q->timed = true;
    q->kind = db->kind == CFG_DB_SQLITE ? SVC_K_SQLITE : SVC_K_POSTGRESQL;
    q->started = started;
    return q;
}

void svc_db_ended(svc_db *q, const svc_db_res *res)
{
    if (q->timed)
        svc_observe(q->c, q->kind, q->started, res->error != NULL);
}

svc_db *svc_db_query(svc_ctx *c, const cfg_database *db, const char *sql,
                     const char *const *params, size_t nparams, double timeout,
                     svc_db_cb cb, void *arg)
{
    return svc_db_query_in(c, &c->dbs, c->opt.db_pool_size > 0 ? c->opt.db_pool_size : 4, db, sql, params,
                           nparams, timeout, cb, arg);
}

void svc_dbs_close(svc_dbentry **list)
{
    while (*list) {
        svc_dbentry *d = *list;
        *list = d->next;
        if (d->kind == CFG_DB_SQLITE)
            svc_sqlite_close(d->st);
        else
            svc_pg_close(d->st);
        free(d->target);
        free(d);
    }
}

bool svc_db_cancel(svc_db *q)
{
    return q ? q->cancel(q) : false;
}

/* ---- placeholders ---------------------------------------------------- */

/* Calls FN at each `?` that is a placeholder: not inside '...' (with ''),
 * E'...' (with backslash escapes), "identifiers", $tag$...$tag$ bodies,
 * -- line comments or nested block comments. Returns the count. */
static bool ident_char(char ch)
{
    return ch == '_' || ch == '$' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || (unsigned char)ch >= 0x80;
}

/* FN is called at each `?`; WORD (may be NULL) at the start of each
 * word outside literals, identifiers and comments. */
static size_t scan_words(const char *sql, void (*fn)(void *arg, const char *at),
                         bool (*word)(void *arg, const char *at), void *arg)
{
    size_t n = 0;
    const char *p = sql;
    while (*p) {
        char ch = *p;
        if (ch == '\'') {
            bool backslash = p > sql && (p[-1] == 'E' || p[-1] == 'e') &&
                             (p - 1 == sql || !ident_char(p[-2]));
            for (p++; *p; p++) {
                if (backslash && *p == '\\' && p[1]) {
                    p++;
                } else if (*p == '\'') {
                    if (p[1] == '\'') { p++; continue; }
                    break;
                }
            }
            if (*p)
                p++;
        } else if (ch == '"') {
            for (p++; *p && *p != '"'; p++)
                ;
            if (*p)
                p++;
        } else if (ch == '-' && p[1] == '-') {
            while (*p && *p != '\n')
                p++;
        } else if (ch == '/' && p[1] == '*') {
            int depth = 1;
            for (p += 2; *p && depth; p++) {
                if (*p == '/' && p[1] == '*') { depth++; p++; }
                else if (*p == '*' && p[1] == '/') { depth--; p++; }
            }
        } else if (ch == '$' && !(p > sql && ident_char(p[-1]))) {
            /* $tag$ ... $tag$ (tag may be empty); $1 is not a quote. */
            const char *t = p + 1;
            while (*t == '_' || (*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') ||
                   (t > p + 1 && *t >= '0' && *t <= '9'))
                t++;
            if (*t == '$') {
                size_t taglen = (size_t)(t - p) + 1;
                const char *end = NULL;
                for (const char *q = t + 1; *q && !end; q++)
                    if (*q == '$' && strncmp(q, p, taglen) == 0)
                        end = q;
                p = end ? end + taglen : p + strlen(p);
            } else {
                p++;
            }
        } else if (ch == '?') {
            n++;
            if (fn)
                fn(arg, p);
            p++;
        } else if (word && ident_char(ch) && ch != '$' && !(p > sql && ident_char(p[-1]))) {
            if (!word(arg, p))
                break;
            while (*p && ident_char(*p))
                p++;
        } else {
            p++;
        }
    }
    return n;
}

static size_t scan(const char *sql, void (*fn)(void *arg, const char *at), void *arg)
{
    return scan_words(sql, fn, NULL, arg);
}

size_t svc_sql_placeholders(const char *sql)
{
    return scan(sql, NULL, NULL);
}

/* ---- reads and writes ----------------------------------------------- */

typedef struct words {
    int n;                           /* words seen */
    bool read, writes;
} words;

static bool is_word(const char *at, const char *w)
{
    size_t n = strlen(w);
    return strncasecmp(at, w, n) == 0 && !ident_char(at[n]);
}

static bool word_fn(void *arg, const char *at)
{
    words *w = arg;
    static const char *const reads[] = {"SELECT", "VALUES", "TABLE", "SHOW", "EXPLAIN", NULL};
    static const char *const writes[] = {"INSERT", "UPDATE", "DELETE", "MERGE", NULL};
    if (w->n++ == 0) {
        for (int i = 0; reads[i]; i++)
            if (is_word(at, reads[i]))
                w->read = true;
        if (is_word(at, "WITH"))
            w->read = true;          /* unless a write follows */
        else
            return false;            /* the first word decides */
    }
    for (int i = 0; writes[i]; i++)
        if (is_word(at, writes[i]))
            w->writes = true;
    return !w->writes;
}

bool svc_sql_is_read(const char *sql)
{
    words w = {0};
    scan_words(sql, NULL, word_fn, &w);
    return w.read && !w.writes;
}

typedef struct rewrite {
    cr_strbuf out;
    const char *from;   /* copied up to here */
    size_t n;
} rewrite;

static void rewrite_fn(void *arg, const char *at)
{
    rewrite *r = arg;
    cr_strbuf_append(&r->out, r->from, (size_t)(at - r->from));
    cr_strbuf_printf(&r->out, "$%zu", ++r->n);
    r->from = at + 1;
}

char *svc_sql_to_pg(const char *sql)
{
    rewrite r = {CR_STRBUF_INIT, sql, 0};
    scan(sql, rewrite_fn, &r);
    cr_strbuf_puts(&r.out, r.from);
    return r.out.s ? r.out.s : svc_strdup("");
}
