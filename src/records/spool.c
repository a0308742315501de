/* spool.c — the record pipeline (cdr.h): calls' records into the local
 * spool in group commits, finished ones shipped to the store in batches.
 *
 * One worker job at a time owns the spool file: a cycle commits every
 * change that waited (one transaction, one fsync, however many calls),
 * deletes what the store has acknowledged, and reads the next batch of
 * finished records to ship. The store gets each batch as one INSERT ... ON
 * CONFLICT (id) DO NOTHING through the services layer (SQLite on the pool,
 * PostgreSQL on the loop), so a batch sent twice (a crash after the store
 * took it, before the spool forgot it) is written once. */
#include <math.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records/cdr_int.h"
#include "services/svc.h"
#include "util/alloc.h"

#define BATCH 200            /* records per store write */
#define BACKOFF_MIN 1.0
#define BACKOFF_MAX 30.0

typedef struct op {
    struct op *next;
    char *id, *row;
    bool done;
    double seen;
} op;

typedef struct cycle {
    rec_ctx *c;
    op *ops;                  /* to commit */
    char **forget;            /* shipped: delete from the spool */
    size_t nforget;
    bool read;                /* then read the next batch */
    bool finished;            /* OPS end some record */
    /* out */
    char **ids, **rows;
    size_t n;
    long spooled;
    char *error;
} cycle;

struct rec_ctx {
    loop *l;
    svc_ctx *svc;
    scn_database store;       /* copied strings below */
    char *store_url, *store_target;
    bool enabled;
    sqlite3 *db;
    rec_log_fn log;
    void *log_arg;
    op *pending, *pending_tail;
    size_t npending;
    bool busy;                /* a cycle job is out */
    /* The spool may hold finished records not shipped yet: set when one is
     * committed (and at start), cleared by a read that found less than a
     * batch. Without it an idle spool would be read again and again. */
    bool to_ship;
    /* shipping */
    bool schema_done, shipping;
    size_t schema_step;
    char **shipped;           /* acknowledged by the store, to forget */
    size_t nshipped;
    loop_timer *retry;
    double backoff;
    bool failing;             /* the last store write failed (logged once) */
    struct batch *inflight;   /* the batch the store has now */
    struct svc_db *query;
    /* closing: nothing new is read or shipped; the loop runs until the
     * work out comes back (rec_free) */
    bool closing;
    loop_timer *drain_timer;
    rec_stats st;
};

static void say(rec_ctx *c, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(rec_ctx *c, int level, const char *fmt, ...)
{
    if (!c->log)
        return;
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)   /* a store's error quotes values callers chose */
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    c->log(c->log_arg, level, msg);
}

static void free_strs(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void free_ops(op *o)
{
    while (o) {
        op *n = o->next;
        free(o->id);
        free(o->row);
        free(o);
        o = n;
    }
}

/* ---- the spool file (worker thread, or the loop at start and exit) -------- */

static const char spool_schema[] =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS spool (id TEXT PRIMARY KEY, done INTEGER NOT NULL, seen REAL NOT NULL,"
    " row TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS spool_done ON spool (done, seen);";

static char *sql_error(sqlite3 *db, const char *what)
{
    char buf[400];
    snprintf(buf, sizeof buf, "%s: %s", what, sqlite3_errmsg(db));
    return cr_xstrdup(buf);
}

/* Commits OPS and forgets FORGET in one transaction. */
static char *spool_commit(sqlite3 *db, const op *ops, char *const *forget, size_t nforget)
{
    if (!ops && !nforget)
        return NULL;
    sqlite3_stmt *up = NULL, *del = NULL;
    char *err = NULL;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return sql_error(db, "spool");
    /* A record already finished is never reopened (an update that raced
     * the end, or a record a crash ended before this process). */
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO spool (id, done, seen, row) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE"
                           " SET done = excluded.done, seen = excluded.seen, row = excluded.row WHERE spool.done = 0",
                           -1, &up, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "DELETE FROM spool WHERE id = ?", -1, &del, NULL) != SQLITE_OK) {
        err = sql_error(db, "spool");
        goto out;
    }
    for (const op *o = ops; o; o = o->next) {
        sqlite3_bind_text(up, 1, o->id, -1, SQLITE_STATIC);
        sqlite3_bind_int(up, 2, o->done);
        sqlite3_bind_double(up, 3, o->seen);
        sqlite3_bind_text(up, 4, o->row, -1, SQLITE_STATIC);
        if (sqlite3_step(up) != SQLITE_DONE) {
            err = sql_error(db, "spool write");
            goto out;
        }
        sqlite3_reset(up);
    }
    for (size_t i = 0; i < nforget; i++) {
        sqlite3_bind_text(del, 1, forget[i], -1, SQLITE_STATIC);
        if (sqlite3_step(del) != SQLITE_DONE) {
            err = sql_error(db, "spool delete");
            goto out;
        }
        sqlite3_reset(del);
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        err = sql_error(db, "spool commit");
out:
    sqlite3_finalize(up);
    sqlite3_finalize(del);
    if (err)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return err;
}

static void spool_read(sqlite3 *db, cycle *cy)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, "SELECT id, row FROM spool WHERE done = 1 ORDER BY seen LIMIT ?", -1, &q, NULL) !=
        SQLITE_OK) {
        cy->error = sql_error(db, "spool read");
        return;
    }
    sqlite3_bind_int(q, 1, BATCH);
    cy->ids = cr_xcalloc(BATCH, sizeof *cy->ids);
    cy->rows = cr_xcalloc(BATCH, sizeof *cy->rows);
    while (cy->n < BATCH && sqlite3_step(q) == SQLITE_ROW) {
        cy->ids[cy->n] = cr_xstrdup((const char *)sqlite3_column_text(q, 0));
        cy->rows[cy->n] = cr_xstrdup((const char *)sqlite3_column_text(q, 1));
        cy->n++;
    }
    sqlite3_finalize(q);
}

static long spool_count(sqlite3 *db)
{
    sqlite3_stmt *q = NULL;
    long n = 0;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM spool", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return n;
}

/* At start: what a crash left unfinished ended when it was last seen. */
static long spool_recover(sqlite3 *db)
{
    sqlite3_stmt *q = NULL;
    op *ops = NULL;
    long n = 0;
    if (sqlite3_prepare_v2(db, "SELECT id, row, seen FROM spool WHERE done = 0", -1, &q, NULL) != SQLITE_OK)
        return 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        json_t *row = json_loads((const char *)sqlite3_column_text(q, 1), 0, NULL);
        if (!json_is_array(row) || json_array_size(row) != REC_NCOLS) {
            json_decref(row);
            continue;
        }
        op *o = cr_xcalloc(1, sizeof *o);
        o->id = cr_xstrdup((const char *)sqlite3_column_text(q, 0));
        o->seen = sqlite3_column_double(q, 2);
        o->row = json_dumps(rec_row_end_abandoned(row, o->seen), JSON_COMPACT);
        o->done = true;
        o->next = ops;
        ops = o;
        json_decref(row);
        n++;
    }
    sqlite3_finalize(q);
    /* ends them: the upsert would not touch a finished one, these are not */
    char *err = spool_commit(db, ops, NULL, 0);
    free(err);
    free_ops(ops);
    return n;
}

static void cycle_work(void *arg)
{
    cycle *cy = arg;
    cy->error = spool_commit(cy->c->db, cy->ops, cy->forget, cy->nforget);
    if (!cy->error && cy->read)
        spool_read(cy->c->db, cy);
    cy->spooled = spool_count(cy->c->db);
}

/* ---- the loop side --------------------------------------------------------- */

static void kick(rec_ctx *c);
static void ship(rec_ctx *c, char **ids, char **rows, size_t n);
static void retry_cb(loop *l, void *arg);

/* While rec_free drains: the loop stops once no work is out. */
static void settle_check(rec_ctx *c)
{
    if (c->closing && !c->busy && !c->shipping)
        loop_stop(c->l);
}

static void cycle_done(loop *l, void *arg)
{
    (void)l;
    cycle *cy = arg;
    rec_ctx *c = cy->c;
    c->busy = false;
    if (cy->error) {
        say(c, 0, "call records: %s (kept in memory, tried again)", cy->error);
        /* put the changes back in front of what came since */
        op *last = cy->ops;
        while (last && last->next)
            last = last->next;
        if (last) {
            last->next = c->pending;
            if (!c->pending)
                c->pending_tail = last;
            c->pending = cy->ops;
        }
        cy->ops = NULL;
        for (size_t i = 0; i < cy->nforget; i++) {
            c->shipped = cr_xrealloc(c->shipped, (c->nshipped + 1) * sizeof *c->shipped);
            c->shipped[c->nshipped++] = cy->forget[i];
            cy->forget[i] = NULL;
        }
        free(cy->error);
        if (!c->retry && !c->closing)
            c->retry = loop_timer_start(c->l, BACKOFF_MIN, retry_cb, c);
    } else if (cy->read && cy->n < BATCH) {
        c->to_ship = false;   /* the read saw the records this cycle finished too */
    } else if (cy->finished) {
        c->to_ship = true;
    }
    free_ops(cy->ops);
    free_strs(cy->forget, cy->nforget);
    if (cy->n > 0)
        ship(c, cy->ids, cy->rows, cy->n);
    else {
        free(cy->ids);
        free(cy->rows);
    }
    c->st.spooled = cy->spooled;
    free(cy);
    kick(c);
    settle_check(c);
}

static void kick(rec_ctx *c)
{
    if (c->busy || (!c->pending && !c->nshipped && (c->shipping || c->retry)))
        return;
    bool read = c->to_ship && !c->shipping && !c->retry && c->enabled && !c->closing;
    if (!c->pending && !c->nshipped && !read)
        return;
    cycle *cy = cr_xcalloc(1, sizeof *cy);
    cy->c = c;
    cy->ops = c->pending;
    c->pending = c->pending_tail = NULL;
    c->npending = 0;
    cy->forget = c->shipped;
    cy->nforget = c->nshipped;
    c->shipped = NULL;
    c->nshipped = 0;
    cy->read = read;
    for (op *o = cy->ops; o && !cy->finished; o = o->next)
        cy->finished = o->done;
    c->busy = true;
    loop_work(c->l, cycle_work, cycle_done, cy);
}

/* ---- shipping to the store ------------------------------------------------- */

typedef struct batch {
    rec_ctx *c;
    char **ids, **rows;
    size_t n;
    char *sql;
    const char **params;
    json_t **parsed;
} batch;

static void batch_free(batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        json_decref(b->parsed ? b->parsed[i] : NULL);
    free(b->parsed);
    free(b->params);
    free(b->sql);
    free_strs(b->rows, b->n);
    free(b);
}

static void retry_cb(loop *l, void *arg)
{
    (void)l;
    rec_ctx *c = arg;
    c->retry = NULL;
    kick(c);
}

static void store_failed(rec_ctx *c, const char *what, const char *error)
{
    c->st.store_failures++;
    c->to_ship = true;   /* the batch is still in the spool */
    if (!c->failing)
        say(c, 1, "call records: the store (%s) %s: %s; records wait in the spool and are tried again",
            c->store.url ? c->store.url : "?", what, error ? error : "failed");
    c->failing = true;
    c->backoff = c->backoff > 0 ? fmin(c->backoff * 2, BACKOFF_MAX) : BACKOFF_MIN;
    if (c->retry)
        loop_timer_stop(c->l, c->retry);
    c->retry = loop_timer_start(c->l, c->backoff, retry_cb, c);
}

static void store_ok(rec_ctx *c)
{
    if (c->failing)
        say(c, 2, "call records: the store answers again");
    c->failing = false;
    c->backoff = 0;
}

static void batch_done(void *arg, const svc_db_res *res)
{
    batch *b = arg;
    rec_ctx *c = b->c;
    c->shipping = false;
    c->inflight = NULL;
    c->query = NULL;
    if (res->error) {
        store_failed(c, "refused a batch", res->error);
        free_strs(b->ids, b->n);
    } else {
        store_ok(c);
        c->st.shipped += (long)b->n;
        c->to_ship = true;   /* a full batch may have more behind it */
        if (!b->n) {
            free(b->ids);
        } else {
            c->shipped = cr_xrealloc(c->shipped, (c->nshipped + b->n) * sizeof *c->shipped);
            memcpy(c->shipped + c->nshipped, b->ids, b->n * sizeof *b->ids);
            c->nshipped += b->n;
            free(b->ids);
        }
    }
    b->ids = NULL;
    batch_free(b);
    kick(c);
    settle_check(c);
}

static void ship_batch(rec_ctx *c, batch *b)
{
    cr_strbuf sql = CR_STRBUF_INIT;
    cr_strbuf_puts(&sql, "INSERT INTO cdr (");
    for (size_t k = 0; k < REC_NCOLS; k++)
        cr_strbuf_printf(&sql, "%s%s", k ? ", " : "", rec_columns[k]);
    cr_strbuf_puts(&sql, ") VALUES ");
    b->params = cr_xcalloc(b->n * REC_NCOLS, sizeof *b->params);
    b->parsed = cr_xcalloc(b->n, sizeof *b->parsed);
    size_t np = 0, rows = 0;
    for (size_t i = 0; i < b->n; i++) {
        json_t *row = json_loads(b->rows[i], 0, NULL);
        if (!json_is_array(row) || json_array_size(row) != REC_NCOLS) {
            json_decref(row);
            continue;   /* not a record: forgotten with the batch */
        }
        b->parsed[i] = row;
        cr_strbuf_puts(&sql, rows++ ? ", (" : "(");
        for (size_t k = 0; k < REC_NCOLS; k++) {
            b->params[np++] = json_string_value(json_array_get(row, k));   /* NULL: SQL NULL */
            cr_strbuf_puts(&sql, k ? ", ?" : "?");
        }
        cr_strbuf_putc(&sql, ')');
    }
    cr_strbuf_puts(&sql, " ON CONFLICT (id) DO NOTHING");
    b->sql = cr_xstrdup(cr_strbuf_cstr(&sql));
    cr_strbuf_free(&sql);
    if (rows == 0) {
        svc_db_res ok = {.rows = 0};
        batch_done(b, &ok);
        return;
    }
    c->shipping = true;
    c->inflight = b;
    c->query = svc_db_query(c->svc, &c->store, b->sql, b->params, np, 30, batch_done, b);
}

static void schema_done(void *arg, const svc_db_res *res);

static void schema_next(rec_ctx *c, batch *b)
{
    if (!rec_schema_sql[c->schema_step]) {
        c->schema_done = true;
        ship_batch(c, b);
        return;
    }
    c->shipping = true;
    c->inflight = b;
    c->query = svc_db_query(c->svc, &c->store, rec_schema_sql[c->schema_step], NULL, 0, 30, schema_done, b);
}

static void schema_done(void *arg, const svc_db_res *res)
{
    batch *b = arg;
    rec_ctx *c = b->c;
    c->shipping = false;
    c->inflight = NULL;
    c->query = NULL;
    if (res->error || c->closing) {
        if (res->error)
            store_failed(c, "could not create the cdr table", res->error);
        free_strs(b->ids, b->n);
        b->ids = NULL;
        batch_free(b);
        settle_check(c);
        return;
    }
    c->schema_step++;
    schema_next(c, b);
}

static void ship(rec_ctx *c, char **ids, char **rows, size_t n)
{
    batch *b = cr_xcalloc(1, sizeof *b);
    b->c = c;
    b->ids = ids;
    b->rows = rows;
    b->n = n;
    if (!c->schema_done)
        schema_next(c, b);
    else
        ship_batch(c, b);
}

/* ---- the API --------------------------------------------------------------- */

static void set_store(rec_ctx *c, const scn_cdr_settings *cdr)
{
    free(c->store_url);
    free(c->store_target);
    c->store_url = cr_xstrdup(cdr->db.url);
    c->store_target = cr_xstrdup(cdr->db.target);
    c->store = (scn_database){.name = "cdr", .kind = cdr->db.kind, .url = c->store_url,
                              .target = c->store_target};
    c->enabled = cdr->enabled;
}

rec_ctx *rec_new(loop *l, svc_ctx *svc, const scn_cdr_settings *cdr, rec_log_fn log, void *log_arg, char *err,
                 size_t errlen)
{
    rec_ctx *c = cr_xcalloc(1, sizeof *c);
    c->l = l;
    c->svc = svc;
    c->log = log;
    c->log_arg = log_arg;
    set_store(c, cdr);
    /* the spool's folder may not exist yet (var/) */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", cdr->spool);
    for (char *p = dir + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            (void)mkdir(dir, 0750);
            *p = '/';
        }
    if (sqlite3_open_v2(cdr->spool, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK ||
        sqlite3_exec(c->db, spool_schema, NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "call record spool %s: %s", cdr->spool, c->db ? sqlite3_errmsg(c->db) : "cannot open");
        sqlite3_close(c->db);
        free(c->store_url);
        free(c->store_target);
        free(c);
        return NULL;
    }
    sqlite3_busy_timeout(c->db, 5000);
    long ended = spool_recover(c->db);
    if (ended > 0)
        say(c, 1, "call records: %ld call(s) were still up when callroute last stopped: recorded as ended by"
                  " system (restart)", ended);
    c->st.spooled = spool_count(c->db);
    c->to_ship = true;   /* what an earlier run left */
    if (c->enabled) {
        /* The table is made now, so `history` finds it from the first call. */
        batch *b = cr_xcalloc(1, sizeof *b);
        b->c = c;
        schema_next(c, b);
    }
    kick(c);
    return c;
}

void rec_call_update(rec_ctx *c, const rec_cdr *r, bool ended)
{
    if (!c)
        return;
    json_t *row = rec_to_row(r, ended);
    char *text = json_dumps(row, JSON_COMPACT);
    json_decref(row);
    if (!text)
        return;
    /* A newer state of a record still waiting replaces the older one. */
    for (op *o = c->pending; o; o = o->next)
        if (strcmp(o->id, r->id) == 0) {
            free(o->row);
            o->row = text;
            o->done = ended;
            o->seen = loop_now(c->l);
            return;
        }
    op *o = cr_xcalloc(1, sizeof *o);
    o->id = cr_xstrdup(r->id);
    o->row = text;
    o->done = ended;
    o->seen = loop_now(c->l);
    if (c->pending_tail)
        c->pending_tail->next = o;
    else
        c->pending = o;
    c->pending_tail = o;
    c->npending++;
    kick(c);
}

void rec_set_settings(rec_ctx *c, const scn_cdr_settings *cdr)
{
    if (!c)
        return;
    if (!c->shipping)
        set_store(c, cdr);
    c->schema_done = false;
    c->schema_step = 0;
}

rec_stats rec_stats_of(const rec_ctx *c)
{
    rec_stats s = {0};
    if (c)
        s = c->st;
    return s;
}

static void drain_deadline_cb(loop *l, void *arg)
{
    rec_ctx *c = arg;
    c->drain_timer = NULL;
    loop_stop(l);
}

void rec_free(rec_ctx *c)
{
    if (!c)
        return;
    c->closing = true;
    if (c->retry)
        loop_timer_stop(c->l, c->retry);
    c->retry = NULL;
    /* A batch the store has now gets a while to be acknowledged (else it is
     * shipped again next time, and written once); a spool cycle out always
     * comes back (bounded by SQLite's busy timeout). */
    if (c->shipping) {
        c->drain_timer = loop_timer_start(c->l, 10, drain_deadline_cb, c);
        loop_run(c->l);
        if (c->drain_timer)
            loop_timer_stop(c->l, c->drain_timer);
        c->drain_timer = NULL;
    }
    if (c->shipping) {
        svc_db_cancel(c->query);
        free_strs(c->inflight->ids, c->inflight->n);
        c->inflight->ids = NULL;
        batch_free(c->inflight);
        c->shipping = false;
    }
    while (c->busy)
        loop_run(c->l);
    /* What waited is committed here (the loop runs no more), and what the
     * store took is forgotten. */
    char *err = spool_commit(c->db, c->pending, c->shipped, c->nshipped);
    if (err)
        say(c, 0, "call records: %s: %zu change(s) lost", err, c->npending);
    free(err);
    free_ops(c->pending);
    free_strs(c->shipped, c->nshipped);
    sqlite3_close(c->db);
    free(c->store_url);
    free(c->store_target);
    free(c);
}
