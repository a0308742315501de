/* test_svc_db.c — databases through the services layer: the `?` scanner,
 * SQLite on a real file (worker pool, bound params, timeout, cancel), and a
 * real PostgreSQL started for the test (pool, literal `?`, the server
 * killed mid-query and started again), plus the db mocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "services/svc.h"
#include "svc_testlib.h"

typedef struct qres {
    volatile bool done;
    int calls;
    long rows;
    char error[512];
    char cols[8][64];
    char vals[8][64];   /* "<null>" for SQL NULL */
    size_t ncols;
    double at;
} qres;

static void q_cb(void *arg, const svc_db_res *r)
{
    qres *x = arg;
    x->calls++;
    x->done = true;
    x->rows = r->rows;
    snprintf(x->error, sizeof x->error, "%s", r->error ? r->error : "");
    x->ncols = r->ncols;
    for (size_t i = 0; i < r->ncols && i < 8; i++) {
        snprintf(x->cols[i], 64, "%s", r->cols[i]);
        snprintf(x->vals[i], 64, "%s", r->vals[i] ? r->vals[i] : "<null>");
    }
    x->at = tl_mono();
}

/* Runs SQL and waits for it. */
static void run(svc_ctx *c, loop *l, const cfg_database *db, const char *sql, const char *const *params,
                size_t n, qres *r)
{
    memset(r, 0, sizeof *r);
    svc_db_query(c, db, sql, params, n, 5, q_cb, r);
    assert_true(tl_run_until(l, &r->done, 10));
}

/* ---- placeholders --------------------------------------------------- */

static void test_placeholders(void **state)
{
    (void)state;
    static const struct { const char *sql; size_t n; const char *pg; } cases[] = {
        {"SELECT a FROM t WHERE b = ? AND c = ?", 2, "SELECT a FROM t WHERE b = $1 AND c = $2"},
        {"SELECT '?', ? FROM t", 1, "SELECT '?', $1 FROM t"},
        {"SELECT 'it''s ?', ?", 1, "SELECT 'it''s ?', $1"},
        {"SELECT E'\\'?', ?", 1, "SELECT E'\\'?', $1"},
        {"SELECT \"odd?col\" FROM t WHERE x = ?", 1, "SELECT \"odd?col\" FROM t WHERE x = $1"},
        {"SELECT $$ ? $$, $tag$ '?' $tag$, ?", 1, "SELECT $$ ? $$, $tag$ '?' $tag$, $1"},
        {"SELECT ? -- why?\n, /* what? /* nested? */ */ ?", 2, "SELECT $1 -- why?\n, /* what? /* nested? */ */ $2"},
        {"SELECT a$b$c FROM t WHERE x = ?", 1, "SELECT a$b$c FROM t WHERE x = $1"},
        {"SELECT 'unterminated ?", 0, "SELECT 'unterminated ?"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(svc_sql_placeholders(cases[i].sql), cases[i].n);
        char *pg = svc_sql_to_pg(cases[i].sql);
        assert_string_equal(pg, cases[i].pg);
        free(pg);
    }
}

/* ---- SQLite --------------------------------------------------------- */

static void test_sqlite_real_file(void **state)
{
    (void)state;
    char *dir = tl_tmpdir();
    char path[256];
    snprintf(path, sizeof path, "%s/crm.db", dir);
    cfg_database db = {.name = "crm", .kind = CFG_DB_SQLITE, .url = "sqlite:crm.db", .target = path};
    svc_config cfg = {.databases = &db, .database_count = 1};
    loop *l = loop_new_real();
    char err[128];
    svc_options o = {.mail = SVC_MAIL_CAPTURE};
    svc_ctx *c = svc_new(l, &cfg, &o, err, sizeof err);
    qres r;
    run(c, l, &db, "CREATE TABLE customers(phone TEXT PRIMARY KEY, agent TEXT, tier TEXT)", NULL, 0, &r);
    assert_string_equal(r.error, "");
    const char *p1[] = {"79165551234", "101", "gold"};
    run(c, l, &db, "INSERT INTO customers VALUES(?, ?, ?)", p1, 3, &r);
    assert_string_equal(r.error, "");
    assert_int_equal(r.rows, 1);                    /* rows changed */
    const char *p2[] = {"79160000000", "102", NULL};
    run(c, l, &db, "INSERT INTO customers VALUES(?, ?, NULL)", p2, 2, &r);
    /* A parameter is data, never SQL. */
    const char *evil[] = {"x'; DROP TABLE customers; --"};
    run(c, l, &db, "SELECT agent FROM customers WHERE phone = ?", evil, 1, &r);
    assert_string_equal(r.error, "");
    assert_int_equal(r.rows, 0);
    assert_int_equal(r.ncols, 0);

    const char *p3[] = {"79165551234"};
    run(c, l, &db, "SELECT agent, tier FROM customers WHERE phone = ?", p3, 1, &r);
    assert_int_equal(r.rows, 1);
    assert_int_equal(r.ncols, 2);
    assert_string_equal(r.cols[0], "agent");
    assert_string_equal(r.vals[0], "101");
    assert_string_equal(r.vals[1], "gold");
    run(c, l, &db, "SELECT tier FROM customers ORDER BY phone", NULL, 0, &r);
    assert_int_equal(r.rows, 2);
    assert_string_equal(r.vals[0], "<null>");       /* first row: 7916000..., tier NULL */

    run(c, l, &db, "SELEC nonsense", NULL, 0, &r);
    assert_non_null(strstr(r.error, "syntax error"));
    run(c, l, &db, "SELECT ?", NULL, 0, &r);
    assert_non_null(strstr(r.error, "1 placeholder but 0 params"));
    run(c, l, &db, "SELECT 1; DROP TABLE customers", NULL, 0, &r);
    assert_string_equal(r.error, "one statement per query");
    run(c, l, &db, "SELECT count(*) AS n FROM customers", NULL, 0, &r);
    assert_string_equal(r.vals[0], "2");
    assert_int_equal(l->real_pending, 0);
    svc_free(c);
    loop_destroy(l);
    tl_rmrf(dir);
    free(dir);
}

static const char slow_sql[] =
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000000) SELECT count(*) FROM n";

static void cancel_cb(loop *l, void *arg)
{
    (void)l;
    svc_db_cancel(arg);
}

static void test_sqlite_timeout_cancel_and_concurrency(void **state)
{
    (void)state;
    cfg_database db = {.name = "mem", .kind = CFG_DB_SQLITE, .target = ":memory:"};
    svc_config cfg = {.databases = &db, .database_count = 1};
    loop *l = loop_new_real();
    char err[128];
    svc_ctx *c = svc_new(l, &cfg, &(svc_options){.mail = SVC_MAIL_CAPTURE}, err, sizeof err);
    qres slow = {0}, fast = {0}, cancelled = {0};
    double t0 = tl_mono();
    svc_db_query(c, &db, slow_sql, NULL, 0, 0.3, q_cb, &slow);
    svc_db *q = svc_db_query(c, &db, slow_sql, NULL, 0, 0, q_cb, &cancelled);
    svc_db_query(c, &db, "SELECT 42 AS answer", NULL, 0, 5, q_cb, &fast);
    loop_timer_start(l, 0.1, cancel_cb, q);
    assert_true(tl_run_until(l, &slow.done, 10));
    assert_true(fast.done);
    assert_string_equal(fast.vals[0], "42");
    assert_true(fast.at - t0 < 0.3);                /* not behind the slow ones */
    assert_string_equal(slow.error, "timeout");
    assert_true(slow.at - t0 < 2);
    /* The cancelled query stops on the worker; its completion is silent. */
    while (l->real_pending > 0 && tl_mono() - t0 < 5)
        tl_run_for(l, 0.05);
    assert_int_equal(l->real_pending, 0);
    assert_int_equal(cancelled.calls, 0);
    svc_free(c);
    loop_destroy(l);
}

/* ---- PostgreSQL ----------------------------------------------------- */

static char *pgdir;
static char pgurl[256];
static char pgcmd[1024];

static void pg(const char *what)
{
    snprintf(pgcmd, sizeof pgcmd, "sh %s/tests/services/pg.sh %s %s/pg >/dev/null", tl_root(), what, pgdir);
    assert_int_equal(system(pgcmd), 0);
}

static int pg_setup(void **state)
{
    (void)state;
    pgdir = tl_tmpdir();
    snprintf(pgcmd, sizeof pgcmd, "sh %s/tests/services/pg.sh start %s/pg", tl_root(), pgdir);
    long port = tl_sh_num(pgcmd);
    if (port <= 0)
        return -1;
    snprintf(pgurl, sizeof pgurl, "postgresql://postgres@127.0.0.1:%ld/test", port);
    return 0;
}

static int pg_teardown(void **state)
{
    (void)state;
    snprintf(pgcmd, sizeof pgcmd, "sh %s/tests/services/pg.sh stop %s/pg immediate", tl_root(), pgdir);
    if (system(pgcmd) != 0) {
        /* already down */
    }
    tl_rmrf(pgdir);
    free(pgdir);
    return 0;
}

typedef struct pgfix {
    cfg_database db;
    svc_config cfg;
    loop *l;
    svc_ctx *c;
} pgfix;

static void pg_open(pgfix *f)
{
    f->db = (cfg_database){.name = "billing", .kind = CFG_DB_POSTGRESQL, .url = pgurl, .target = pgurl};
    f->cfg = (svc_config){.databases = &f->db, .database_count = 1};
    f->l = loop_new_real();
    char err[128];
    f->c = svc_new(f->l, &f->cfg, &(svc_options){.mail = SVC_MAIL_CAPTURE, .db_pool_size = 4}, err, sizeof err);
}

static void pg_close(pgfix *f)
{
    svc_free(f->c);
    loop_destroy(f->l);
}

static void test_pg_queries(void **state)
{
    (void)state;
    pgfix f;
    pg_open(&f);
    qres r;
    run(f.c, f.l, &f.db, "CREATE TABLE IF NOT EXISTS customers(phone text primary key, agent text, tier text)",
        NULL, 0, &r);
    assert_string_equal(r.error, "");
    const char *p1[] = {"79165551234", "101", "gold"};
    run(f.c, f.l, &f.db, "INSERT INTO customers VALUES(?, ?, ?) ON CONFLICT DO NOTHING", p1, 3, &r);
    assert_string_equal(r.error, "");
    const char *evil[] = {"x'); DROP TABLE customers; --"};
    run(f.c, f.l, &f.db, "SELECT agent FROM customers WHERE phone = ?", evil, 1, &r);
    assert_int_equal(r.rows, 0);
    const char *p2[] = {"79165551234"};
    run(f.c, f.l, &f.db, "SELECT '?' AS q, agent, tier, NULL AS nothing FROM customers WHERE phone = ?", p2, 1, &r);
    assert_string_equal(r.error, "");
    assert_int_equal(r.rows, 1);
    assert_string_equal(r.vals[0], "?");
    assert_string_equal(r.cols[1], "agent");
    assert_string_equal(r.vals[1], "101");
    assert_string_equal(r.vals[3], "<null>");
    const char *p3[] = {"silver", "79165551234"};
    run(f.c, f.l, &f.db, "UPDATE customers SET tier = ? WHERE phone = ?", p3, 2, &r);
    assert_int_equal(r.rows, 1);
    run(f.c, f.l, &f.db, "SELECT nope FROM customers", NULL, 0, &r);
    assert_non_null(strstr(r.error, "nope"));
    run(f.c, f.l, &f.db, "SELECT ?::int", NULL, 0, &r);
    assert_non_null(strstr(r.error, "placeholder"));
    pg_close(&f);
}

/* 20 queries of 0.2 s on 4 connections: all answer, in about 5 rounds. */
static void test_pg_pool(void **state)
{
    (void)state;
    pgfix f;
    pg_open(&f);
    qres r[20];
    memset(r, 0, sizeof r);
    double t0 = tl_mono();
    for (int i = 0; i < 20; i++) {
        const char *p[] = {"x"};
        svc_db_query(f.c, &f.db, "SELECT pg_sleep(0.2), ? AS v", p, 1, 10, q_cb, &r[i]);
    }
    for (int i = 0; i < 20; i++) {
        assert_true(tl_run_until(f.l, &r[i].done, 10));
        assert_string_equal(r[i].error, "");
        assert_string_equal(r[i].vals[1], "x");
    }
    double took = tl_mono() - t0;
    assert_true(took >= 0.95 && took < 3);
    pg_close(&f);
}

static void stop_server_cb(loop *l, void *arg)
{
    (void)l;
    (void)arg;
    pg("stop");   /* fast shutdown: sessions are terminated */
}

/* Killed mid-query: the calls get db_error at once, not a hang; queries
 * while it is down fail fast; once it is back, the pool reconnects. */
static void test_pg_server_dies_and_comes_back(void **state)
{
    (void)state;
    pgfix f;
    pg_open(&f);
    qres warm;
    run(f.c, f.l, &f.db, "SELECT 1", NULL, 0, &warm);   /* an idle pooled connection */
    assert_string_equal(warm.error, "");
    qres r[3];
    memset(r, 0, sizeof r);
    double t0 = tl_mono();
    for (int i = 0; i < 3; i++)
        svc_db_query(f.c, &f.db, "SELECT pg_sleep(5)", NULL, 0, 10, q_cb, &r[i]);
    loop_timer_start(f.l, 0.3, stop_server_cb, NULL);
    for (int i = 0; i < 3; i++) {
        assert_true(tl_run_until(f.l, &r[i].done, 8));
        assert_true(r[i].error[0] != '\0');
        assert_true(r[i].at - t0 < 3);
    }
    qres down;
    run(f.c, f.l, &f.db, "SELECT 1", NULL, 0, &down);
    assert_true(down.error[0] != '\0');
    assert_true(down.at - t0 < 4);

    pg("start");
    qres back;
    run(f.c, f.l, &f.db, "SELECT 2 AS two", NULL, 0, &back);
    assert_string_equal(back.error, "");
    assert_string_equal(back.vals[0], "2");
    assert_int_equal(f.l->real_pending, 0);
    pg_close(&f);
}

static void test_pg_timeout_and_cancel(void **state)
{
    (void)state;
    pgfix f;
    pg_open(&f);
    qres slow = {0}, cancelled = {0}, after;
    double t0 = tl_mono();
    svc_db_query(f.c, &f.db, "SELECT pg_sleep(3)", NULL, 0, 0.3, q_cb, &slow);
    svc_db *q = svc_db_query(f.c, &f.db, "SELECT pg_sleep(3)", NULL, 0, 0, q_cb, &cancelled);
    loop_timer_start(f.l, 0.1, cancel_cb, q);
    assert_true(tl_run_until(f.l, &slow.done, 5));
    assert_string_equal(slow.error, "timeout");
    assert_true(slow.at - t0 < 1.5);
    run(f.c, f.l, &f.db, "SELECT 3 AS three", NULL, 0, &after);
    assert_string_equal(after.vals[0], "3");
    assert_int_equal(cancelled.calls, 0);
    assert_int_equal(f.l->real_pending, 0);
    pg_close(&f);
}

/* ---- mocks ---------------------------------------------------------- */

static void test_db_mocks(void **state)
{
    (void)state;
    cfg_database db = {.name = "crm", .kind = CFG_DB_POSTGRESQL, .target = "postgresql://nowhere.invalid/x"};
    svc_config cfg = {.databases = &db, .database_count = 1};
    static const char *const cols[] = {"tier"}, *const vals[] = {"gold"};
    svc_db_mock dm[] = {
        {.database = "crm", .query = "SELECT tier*", .rows = 1, .ncols = 1, .cols = cols, .vals = vals},
        {.query = "UPDATE*", .error = "deadlock detected", .delay = 2},
    };
    svc_mocks mk = {.db = dm, .db_count = 2};
    loop *l = loop_new_virtual(0);
    char err[128];
    svc_ctx *c = svc_new(l, &cfg, &(svc_options){.mail = SVC_MAIL_CAPTURE, .mocks = &mk}, err, sizeof err);
    qres a = {0}, b = {0}, none = {0};
    svc_db_query(c, &db, "SELECT tier FROM customers WHERE phone = ?", (const char *[]){"1"}, 1, 5, q_cb, &a);
    svc_db_query(c, &db, "UPDATE x SET y = 1", NULL, 0, 5, q_cb, &b);
    svc_db_query(c, &db, "DELETE FROM x", NULL, 0, 5, q_cb, &none);
    loop_run(l);
    assert_int_equal(a.rows, 1);
    assert_string_equal(a.vals[0], "gold");
    assert_string_equal(b.error, "deadlock detected");
    assert_true(loop_now(l) >= 2);
    assert_string_equal(none.error, "no mock for db crm: DELETE FROM x");
    svc_free(c);
    loop_destroy(l);
}

int main(void)
{
    const struct CMUnitTest plain[] = {
        cmocka_unit_test(test_placeholders),
        cmocka_unit_test(test_sqlite_real_file),
        cmocka_unit_test(test_sqlite_timeout_cancel_and_concurrency),
        cmocka_unit_test(test_db_mocks),
    };
    const struct CMUnitTest pgtests[] = {
        cmocka_unit_test(test_pg_queries),
        cmocka_unit_test(test_pg_pool),
        cmocka_unit_test(test_pg_timeout_and_cancel),
        cmocka_unit_test(test_pg_server_dies_and_comes_back),
    };
    int failed = cmocka_run_group_tests(plain, NULL, NULL);
    failed += cmocka_run_group_tests(pgtests, pg_setup, pg_teardown);
    return failed;
}
