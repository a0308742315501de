/* test_svc_durable.c — durable jobs through the services layer against real
 * peers: an SQLite file held locked by another connection, PostgreSQL
 * stopped and started (tests/services/pg.sh), and the Python HTTP service
 * answering 503 before it accepts (tests/services/http_server.py). Jobs are
 * stored before the caller hears "queued", retried until done, done once
 * across a restart, kept when they fail for good, run in their lane's
 * order, and an attempt in flight at shutdown finishes instead of being
 * sent again. Also: the idempotency key, which SQL is a read, and when a
 * cancelled request may have been carried out (`unknown`). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "services/svc.h"
#include "svc_testlib.h"

typedef struct fix {
    char *dir;
    char outbox[256], dbpath[256];
    cfg_database db[2];              /* crm (SQLite), billing (PostgreSQL, when up) */
    svc_config cfg;
    loop *l;
    svc_ctx *c;
    int http_port;
    pid_t http;
} fix;

static char pgurl[256];
/* What a test started, for the teardown to stop even when it failed half
 * way (an orphaned server would hold the output pipe open). */
static pid_t live_http;
static char *live_dir;

static void fix_init(fix *f)
{
    memset(f, 0, sizeof *f);
    f->dir = live_dir = tl_tmpdir();
    snprintf(f->outbox, sizeof f->outbox, "%s/var/outbox", f->dir);
    snprintf(f->dbpath, sizeof f->dbpath, "%s/crm.db", f->dir);
    f->db[0] = (cfg_database){.name = "crm", .kind = CFG_DB_SQLITE, .url = "sqlite:crm.db", .target = f->dbpath};
    f->db[1] = (cfg_database){.name = "billing", .kind = CFG_DB_POSTGRESQL, .url = pgurl, .target = pgurl};
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(k TEXT, v TEXT)", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
}

/* The services' log lines of the current test, one after the other. */
static char logged[8192];

static void log_cb(void *arg, svc_log_level level, const char *msg)
{
    (void)arg;
    size_t n = strlen(logged);
    snprintf(logged + n, sizeof logged - n, "%d %s\n", (int)level, msg);
}

static void svc_open(fix *f, svc_mail_mode mode)
{
    f->cfg = (svc_config){.databases = f->db, .database_count = pgurl[0] ? 2 : 1};
    f->cfg.outbox = f->outbox;
    f->l = loop_new_real();
    char err[256];
    logged[0] = '\0';
    f->c = svc_new(f->l, &f->cfg, &(svc_options){.mail = mode, .log = log_cb}, err, sizeof err);
    assert_non_null(f->c);
}

static void svc_close(fix *f)
{
    svc_free(f->c);
    loop_destroy(f->l);
    f->c = NULL;
}

static void fix_free(fix *f)
{
    tl_kill(f->http);
    tl_rmrf(f->dir);
    free(f->dir);
    live_http = 0;
    live_dir = NULL;
}

/* After each test: a failed one returned early, its fixture still set. */
static int teardown(void **state)
{
    (void)state;
    if (live_dir) {
        tl_kill(live_http);
        tl_rmrf(live_dir);
        free(live_dir);
        live_http = 0;
        live_dir = NULL;
    }
    return 0;
}

static void http_start(fix *f)
{
    f->http_port = tl_http_server(&f->http);
    live_http = f->http;
    assert_true(f->http_port > 0);
}

/* One number from an SQLite file (-1 when it cannot be read). */
static long sqlite_num(const char *path, const char *sql)
{
    sqlite3 *db;
    long n = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return n;
}

static long outbox_jobs(const fix *f)
{
    char path[300];
    snprintf(path, sizeof path, "%s/outbox.sqlite", f->outbox);
    return sqlite_num(path, "SELECT count(*) FROM job");
}

typedef struct queued {
    volatile bool done;
    char error[256];
} queued;

static void queued_cb(void *arg, const char *error)
{
    queued *q = arg;
    q->done = true;
    snprintf(q->error, sizeof q->error, "%s", error ? error : "");
}

/* Queues INSERT INTO t(k, v) (or SQL) on crm in LANE; waits until stored. */
static void db_job(fix *f, const char *lane, const char *sql, const char *k, const char *v)
{
    const char *params[] = {k, v};
    char key[SVC_JOB_KEY_LEN + 1];
    svc_job_key(key);
    svc_job j = {.key = key, .lane = lane, .timeout = 0.3, .database = "crm",
                 .sql = sql ? sql : "INSERT INTO t(k, v) VALUES(?, ?)", .params = params, .nparams = 2};
    queued q = {0};
    svc_job_queue(f->c, &j, queued_cb, &q);
    assert_true(tl_run_until(f->l, &q.done, 5));
    assert_string_equal(q.error, "");
}

static bool wait_for(fix *f, bool (*cond)(fix *f), double seconds)
{
    double end = tl_mono() + seconds;
    while (!cond(f) && tl_mono() < end)
        tl_run_for(f->l, 0.02);
    return cond(f);
}

static long want;
static bool failed_enough(fix *f) { return svc_job_stats_of(f->c).failed_attempts >= want; }
static bool all_done(fix *f) { return svc_job_stats_of(f->c).queued == 0; }
static bool one_done(fix *f) { return svc_job_stats_of(f->c).done >= 1; }
static bool in_flight(fix *f) { return svc_job_stats_of(f->c).in_flight >= want; }

/* ---- no peers ------------------------------------------------------- */

static void test_key(void **state)
{
    (void)state;
    char keys[200][SVC_JOB_KEY_LEN + 1];
    for (int i = 0; i < 200; i++) {
        svc_job_key(keys[i]);
        assert_int_equal(strlen(keys[i]), 36);
        assert_true(keys[i][8] == '-' && keys[i][13] == '-' && keys[i][18] == '-' && keys[i][23] == '-');
        assert_true(keys[i][14] == '4');
        assert_non_null(strchr("89ab", keys[i][19]));
        for (int j = 0; j < i; j++)
            assert_string_not_equal(keys[i], keys[j]);
    }
}

static void test_sql_is_read(void **state)
{
    (void)state;
    static const struct { const char *sql; bool read; } cases[] = {
        {"SELECT 1", true},
        {"  select * from t where k = ?", true},
        {"-- a comment\nSELECT 'INSERT'", true},
        {"/* DELETE */ VALUES (1)", true},
        {"WITH x AS (SELECT 1) SELECT * FROM x", true},
        {"EXPLAIN SELECT 1", true},
        {"INSERT INTO t VALUES(?, ?)", false},
        {"update t set v = 'SELECT'", false},
        {"DELETE FROM t", false},
        {"WITH gone AS (DELETE FROM t RETURNING k) SELECT count(*) FROM gone", false},
        {"CREATE TABLE x(a int)", false},
        {"SELECT \"updated\", updated_at FROM t", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(svc_sql_is_read(cases[i].sql), cases[i].read);
}

/* ---- SQLite: a locked database -------------------------------------- */

/* Another connection holds the write lock, as another process would. */
static sqlite3 *lock_db(const fix *f)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    return db;
}

static void unlock_db(sqlite3 *db)
{
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
}

/* A lane's jobs run in order: the UPDATE queued after the INSERT must not
 * run first, even though the INSERT failed (the database was locked) and
 * waits for its retry. Both end up done once. */
static void test_locked_database_retried_in_lane_order(void **state)
{
    (void)state;
    fix f;
    fix_init(&f);
    svc_open(&f, SVC_MAIL_SEND);
    sqlite3 *lock = lock_db(&f);
    db_job(&f, "call-1", NULL, "k1", "a");
    db_job(&f, "call-1", "UPDATE t SET v = ? WHERE k = ?", "b", "k1");
    want = 1;
    assert_true(wait_for(&f, failed_enough, 5));
    assert_int_equal(svc_job_stats_of(f.c).queued, 2);
    /* /metrics: how long the oldest has waited; the locked write is a
     * failed sqlite request */
    double oldest = svc_job_stats_of(f.c).oldest;
    assert_true(oldest > 0 && oldest <= (double)time(NULL) + 1);
    assert_true(svc_request_stats_of(f.c, SVC_K_SQLITE)->failures >= 1);
    unlock_db(lock);
    assert_true(wait_for(&f, all_done, 10));
    assert_true(svc_job_stats_of(f.c).oldest == 0);
    const svc_request_stats *rs = svc_request_stats_of(f.c, SVC_K_SQLITE);
    assert_true(rs->seconds.count >= 3 && rs->seconds.count > rs->failures);
    assert_int_equal(sqlite_num(f.dbpath, "SELECT count(*) FROM t"), 1);
    assert_int_equal(sqlite_num(f.dbpath, "SELECT count(*) FROM t WHERE k = 'k1' AND v = 'b'"), 1);
    svc_close(&f);
    assert_int_equal(outbox_jobs(&f), 0);
    fix_free(&f);
}

/* Stored before "queued": jobs left when callroute stops are done by the
 * next start, each once; a third start does nothing. */
static void test_survives_restart_exactly_once(void **state)
{
    (void)state;
    fix f;
    fix_init(&f);
    svc_open(&f, SVC_MAIL_SEND);
    sqlite3 *lock = lock_db(&f);
    char k[5][16];
    for (int i = 0; i < 5; i++) {
        snprintf(k[i], sizeof k[i], "r%d", i);
        db_job(&f, k[i], NULL, k[i], "x");   /* five lanes: they run side by side */
    }
    want = 5;
    assert_true(wait_for(&f, failed_enough, 5));
    svc_close(&f);                           /* "callroute stops" */
    assert_int_equal(outbox_jobs(&f), 5);
    unlock_db(lock);

    svc_open(&f, SVC_MAIL_SEND);
    /* what was left is as old as its rows say (stored in this test) */
    double oldest = svc_job_stats_of(f.c).oldest;
    assert_true(oldest > (double)time(NULL) - 60 && oldest <= (double)time(NULL));
    assert_true(wait_for(&f, all_done, 10));
    assert_int_equal(svc_job_stats_of(f.c).done, 5);
    svc_close(&f);
    assert_int_equal(outbox_jobs(&f), 0);
    assert_int_equal(sqlite_num(f.dbpath, "SELECT count(*) FROM t"), 5);

    svc_open(&f, SVC_MAIL_SEND);
    tl_run_for(f.l, 0.3);
    assert_int_equal(svc_job_stats_of(f.c).done, 0);
    svc_close(&f);
    assert_int_equal(sqlite_num(f.dbpath, "SELECT count(*) FROM t"), 5);
    assert_int_equal(sqlite_num(f.dbpath, "SELECT count(DISTINCT k) FROM t"), 5);
    fix_free(&f);
}

/* An error of the query's own is not retried; the job stays with it. */
static void test_permanent_error_kept(void **state)
{
    (void)state;
    fix f;
    fix_init(&f);
    svc_open(&f, SVC_MAIL_SEND);
    db_job(&f, "p", "INSERT INTO nope(k, v) VALUES(?, ?)", "k", "v");
    db_job(&f, "p", NULL, "after", "v");      /* its lane goes on past it */
    want = 1;
    assert_true(wait_for(&f, failed_enough, 5));
    assert_true(wait_for(&f, one_done, 5));
    tl_run_for(f.l, 2.5);                     /* a retry would come after 1 s */
    svc_job_stats st = svc_job_stats_of(f.c);
    assert_int_equal(st.failed_attempts, 1);
    assert_int_equal(st.queued, 1);
    assert_int_equal(st.done, 1);
    svc_close(&f);
    char path[300];
    snprintf(path, sizeof path, "%s/outbox.sqlite", f.outbox);
    assert_int_equal(sqlite_num(path, "SELECT count(*) FROM job WHERE last_error LIKE '%no such table%'"), 1);
    assert_int_equal(sqlite_num(f.dbpath, "SELECT count(*) FROM t WHERE k = 'after'"), 1);
    fix_free(&f);
}

/* Capture mode (simulate, callroute test): done at once, nothing stored. */
static void test_capture_runs_once_stores_nothing(void **state)
{
    (void)state;
    fix f;
    fix_init(&f);
    svc_open(&f, SVC_MAIL_CAPTURE);
    db_job(&f, "c", NULL, "cap", "x");
    double end = tl_mono() + 5;
    while (svc_job_stats_of(f.c).done < 1 && tl_mono() < end)
        tl_run_for(f.l, 0.02);
    assert_int_equal(svc_job_stats_of(f.c).done, 1);
    svc_close(&f);
    assert_int_equal(sqlite_num(f.dbpath, "SELECT count(*) FROM t WHERE k = 'cap'"), 1);
    struct stat st;
    assert_int_not_equal(stat(f.outbox, &st), 0);
    fix_free(&f);
}

/* A configuration on the heap, as a reload builds it from a program that
 * may go away: database "crm" at PATH. */
static svc_config *config_new(const char *path)
{
    cfg_database *db = calloc(1, sizeof *db);
    *db = (cfg_database){.name = strdup("crm"), .kind = CFG_DB_SQLITE, .url = strdup("sqlite:crm.db"),
                         .target = strdup(path)};
    svc_config *cfg = calloc(1, sizeof *cfg);
    *cfg = (svc_config){.databases = db, .database_count = 1};
    return cfg;
}

static void config_free(svc_config *cfg)
{
    cfg_database *db = (cfg_database *)cfg->databases;
    free((char *)db->name);
    free((char *)db->url);
    free((char *)db->target);
    free(db);
    free(cfg);
}

/* The services copy their configuration (svc_new, svc_set_config): the
 * caller frees it at once (ASan sees any later read). A reload that moves
 * a database applies to the next job; a NULL configuration changes
 * nothing. */
static void test_reload_config_copied_and_applied(void **state)
{
    (void)state;
    fix f;
    fix_init(&f);
    char old_path[300];
    snprintf(old_path, sizeof old_path, "%s/old.db", f.dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(old_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(k TEXT, v TEXT)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    svc_config *cfg = config_new(old_path);
    cfg->outbox = f.outbox;
    f.l = loop_new_real();
    char err[256];
    logged[0] = '\0';
    f.c = svc_new(f.l, cfg, &(svc_options){.mail = SVC_MAIL_SEND, .log = log_cb}, err, sizeof err);
    assert_non_null(f.c);
    config_free(cfg);
    db_job(&f, "r", NULL, "before", "x");
    assert_true(wait_for(&f, all_done, 5));

    cfg = config_new(f.dbpath);              /* the reload moves crm */
    svc_set_config(f.c, cfg);
    config_free(cfg);
    db_job(&f, "r", NULL, "after", "x");
    assert_true(wait_for(&f, all_done, 5));
    svc_set_config(f.c, NULL);
    db_job(&f, "r", NULL, "again", "x");
    assert_true(wait_for(&f, all_done, 5));
    assert_int_equal(svc_job_stats_of(f.c).done, 3);
    svc_close(&f);
    assert_int_equal(sqlite_num(old_path, "SELECT count(*) FROM t"), 1);
    assert_int_equal(sqlite_num(old_path, "SELECT count(*) FROM t WHERE k = 'before'"), 1);
    assert_int_equal(sqlite_num(f.dbpath, "SELECT count(*) FROM t"), 2);
    assert_int_equal(sqlite_num(f.dbpath, "SELECT count(*) FROM t WHERE k IN ('after', 'again')"), 2);
    fix_free(&f);
}

/* ---- HTTP ----------------------------------------------------------- */

/* How many logged requests to PATH carried KEY and got STATUS (0: any). */
static long http_count(const fix *f, const char *path, const char *key, int status)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import json,urllib.request,sys; "
             "log=json.load(urllib.request.urlopen(\"http://127.0.0.1:%d/__log\")); "
             "print(sum(1 for r in log if r[\"path\"]==sys.argv[1] and r[\"headers\"].get(\"Idempotency-Key\")==sys.argv[2] "
             "and (%d==0 or r.get(\"status\")==%d)))' '%s' '%s'",
             f->http_port, status, status, path, key);
    return tl_sh_num(cmd);
}

static void http_job_in(fix *f, const char *key, const char *lane, const char *path, const char *method)
{
    char url[128], hdr[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", f->http_port, path);
    snprintf(hdr, sizeof hdr, "Idempotency-Key: %s", key);
    const char *headers[] = {hdr, "Content-Type: application/json"};
    char body[128];
    snprintf(body, sizeof body, "{\"key\":\"%s\"}", key);
    svc_http_req req = {.method = method, .url = url, .headers = headers, .header_count = 2, .body = body,
                        .body_len = strlen(body), .verify_tls = true};
    svc_job j = {.key = key, .lane = lane, .timeout = 5, .http = &req};
    queued q = {0};
    svc_job_queue(f->c, &j, queued_cb, &q);
    assert_true(tl_run_until(f->l, &q.done, 5));
    assert_string_equal(q.error, "");
}

static void http_job(fix *f, const char *key, const char *path, const char *method)
{
    http_job_in(f, key, key, path, method);
}

/* 503 twice, then accepted: each job reaches the server three times and
 * is accepted exactly once, always with its key. A 404 is kept. */
static void test_http_retried_until_accepted(void **state)
{
    (void)state;
    fix f;
    fix_init(&f);
    http_start(&f);
    svc_open(&f, SVC_MAIL_SEND);
    char keys[3][SVC_JOB_KEY_LEN + 1];
    for (int i = 0; i < 3; i++) {
        svc_job_key(keys[i]);
        http_job(&f, keys[i], "/flaky/2", "POST");
    }
    char gone[SVC_JOB_KEY_LEN + 1];
    svc_job_key(gone);
    http_job(&f, gone, "/status/404", "PUT");
    double end = tl_mono() + 15;
    while (svc_job_stats_of(f.c).queued > 1 && tl_mono() < end)
        tl_run_for(f.l, 0.05);
    svc_job_stats st = svc_job_stats_of(f.c);
    assert_int_equal(st.queued, 1);           /* the 404, set aside */
    assert_int_equal(st.done, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(http_count(&f, "/flaky/2", keys[i], 201), 1);
        assert_int_equal(http_count(&f, "/flaky/2", keys[i], 503), 2);
        assert_int_equal(http_count(&f, "/flaky/2", keys[i], 0), 3);
    }
    tl_run_for(f.l, 1.5);                     /* a retry of the 404 would come after 1 s */
    assert_int_equal(http_count(&f, "/status/404", gone, 0), 1);
    svc_close(&f);
    assert_int_equal(outbox_jobs(&f), 1);
    fix_free(&f);
}

/* Seconds between the arrivals of the requests carrying KEY1 and KEY2. */
static double http_gap(const fix *f, const char *key1, const char *key2)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import json,urllib.request,sys; "
             "log=json.load(urllib.request.urlopen(\"http://127.0.0.1:%d/__log\")); "
             "t={r[\"headers\"].get(\"Idempotency-Key\"): r[\"time\"] for r in log}; "
             "print(int(1000*(t[sys.argv[2]]-t[sys.argv[1]])))' '%s' '%s'",
             f->http_port, key1, key2);
    return (double)tl_sh_num(cmd) / 1000;
}

/* Two jobs of one lane (one call's writes): the second starts only once
 * the first is done, as the call's own writes would; another lane's job
 * does not wait. */
static void test_lane_one_at_a_time(void **state)
{
    (void)state;
    fix f;
    fix_init(&f);
    http_start(&f);
    svc_open(&f, SVC_MAIL_SEND);
    char a[SVC_JOB_KEY_LEN + 1], b[SVC_JOB_KEY_LEN + 1], other[SVC_JOB_KEY_LEN + 1];
    svc_job_key(a);
    svc_job_key(b);
    svc_job_key(other);
    http_job_in(&f, a, "call-1", "/delay/1", "POST");
    http_job_in(&f, b, "call-1", "/echo", "POST");
    http_job_in(&f, other, "call-2", "/echo", "POST");
    assert_true(wait_for(&f, all_done, 10));
    svc_close(&f);
    assert_true(http_gap(&f, a, b) >= 0.9);
    assert_true(http_gap(&f, a, other) < 0.9);
    fix_free(&f);
}

/* SIGTERM with a request on the wire: it gets to finish (the drain), its
 * success is recorded, and the next start does not send it again. */
static void test_shutdown_lets_attempt_finish(void **state)
{
    (void)state;
    fix f;
    fix_init(&f);
    http_start(&f);
    svc_open(&f, SVC_MAIL_SEND);
    char key[SVC_JOB_KEY_LEN + 1];
    svc_job_key(key);
    http_job(&f, key, "/delay/1", "POST");
    want = 1;
    assert_true(wait_for(&f, in_flight, 5));
    tl_run_for(f.l, 0.3);                     /* on the wire */
    double t0 = tl_mono();
    svc_close(&f);
    assert_true(tl_mono() - t0 >= 0.4);       /* it waited for the answer */
    assert_int_equal(outbox_jobs(&f), 0);
    svc_open(&f, SVC_MAIL_SEND);
    tl_run_for(f.l, 0.5);
    svc_close(&f);
    assert_int_equal(http_count(&f, "/delay/1", key, 0), 1);
    fix_free(&f);
}

/* ---- unknown outcomes ------------------------------------------------ */

typedef struct hres {
    volatile bool done;
    bool unknown;
    char error[256];
} hres;

static void h_cb(void *arg, const svc_http_res *r)
{
    hres *h = arg;
    h->done = true;
    h->unknown = r->unknown;
    snprintf(h->error, sizeof h->error, "%s", r->error ? r->error : "");
}

/* A request cancelled before a byte went out cannot have been done; one
 * cancelled or timed out while the server works on it may have been. */
static void test_http_sent_or_not(void **state)
{
    (void)state;
    fix f;
    fix_init(&f);
    http_start(&f);
    svc_open(&f, SVC_MAIL_CAPTURE);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/delay/2", f.http_port);
    svc_http_req req = {.method = "POST", .url = url, .body = "x", .body_len = 1};
    hres h = {0};
    svc_http *r = svc_http_start(f.c, &req, h_cb, &h);
    assert_false(svc_http_cancel(r));         /* not even connected */
    r = svc_http_start(f.c, &req, h_cb, &h);
    tl_run_for(f.l, 0.4);
    assert_true(svc_http_cancel(r));
    req.timeout = 0.4;
    svc_http_start(f.c, &req, h_cb, &h);
    assert_true(tl_run_until(f.l, &h.done, 5));
    assert_string_equal(h.error, "timeout");
    assert_true(h.unknown);
    req.url = "http://127.0.0.1:1/refused";
    memset(&h, 0, sizeof h);
    svc_http_start(f.c, &req, h_cb, &h);
    assert_true(tl_run_until(f.l, &h.done, 5));
    assert_true(h.error[0] != '\0');
    assert_false(h.unknown);
    assert_true(svc_http_method_safe("GET") && svc_http_method_safe("HEAD"));
    assert_false(svc_http_method_safe("POST") || svc_http_method_safe("DELETE"));
    svc_close(&f);
    fix_free(&f);
}

/* ---- PostgreSQL ----------------------------------------------------- */

static char *pgdir;
static char pgcmd[1024];

static void pg(const char *what)
{
    snprintf(pgcmd, sizeof pgcmd, "sh %s/tests/services/pg.sh %s %s/pg >/dev/null", tl_root(), what, pgdir);
    assert_int_equal(system(pgcmd), 0);
}

static long pg_num(const char *sql)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "psql -qtAX '%s' -c \"%s\" 2>/dev/null", pgurl, sql);
    return tl_sh_num(cmd);
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
    pgurl[0] = '\0';
    return 0;
}

typedef struct qres {
    volatile bool done;
    bool unknown, transient;
    char error[256];
} qres;

static void q_cb(void *arg, const svc_db_res *r)
{
    qres *q = arg;
    q->done = true;
    q->unknown = r->unknown;
    q->transient = r->transient;
    snprintf(q->error, sizeof q->error, "%s", r->error ? r->error : "");
}

/* The server stops while calls queue writes, then comes back: every write
 * is done, once. */
static void test_pg_outage_loses_nothing(void **state)
{
    (void)state;
    fix f;
    fix_init(&f);
    assert_true(pg_num("CREATE TABLE IF NOT EXISTS outage(k text, n int); SELECT 0") == 0);
    svc_open(&f, SVC_MAIL_SEND);
    pg("stop");
    enum { N = 20 };
    for (int i = 0; i < N; i++) {
        char key[SVC_JOB_KEY_LEN + 1], n[16], lane[32];
        svc_job_key(key);
        snprintf(n, sizeof n, "%d", i);
        snprintf(lane, sizeof lane, "call-%d", i);
        const char *params[] = {key, n};
        svc_job j = {.key = key, .lane = lane, .timeout = 2, .database = "billing",
                     .sql = "INSERT INTO outage(k, n) VALUES(?, ?)", .params = params, .nparams = 2};
        queued q = {0};
        svc_job_queue(f.c, &j, queued_cb, &q);
        assert_true(tl_run_until(f.l, &q.done, 5));
    }
    want = N;
    assert_true(wait_for(&f, failed_enough, 10));
    pg("start");
    assert_true(wait_for(&f, all_done, 15));
    svc_close(&f);
    assert_int_equal(pg_num("SELECT count(*) FROM outage"), N);
    assert_int_equal(pg_num("SELECT count(DISTINCT k) FROM outage"), N);
    assert_int_equal(outbox_jobs(&f), 0);
    fix_free(&f);
}

/* A job that fails for good is logged once, on one line, even when the
 * server's message quotes a value with a line break in it. */
static void test_pg_permanent_failure_logged_on_one_line(void **state)
{
    (void)state;
    fix f;
    fix_init(&f);
    assert_true(pg_num("CREATE TABLE IF NOT EXISTS uniq(k text PRIMARY KEY); SELECT 0") == 0);
    svc_open(&f, SVC_MAIL_SEND);
    for (int i = 0; i < 2; i++) {
        char key[SVC_JOB_KEY_LEN + 1];
        svc_job_key(key);
        const char *params[] = {"x\nERROR serve: forged line"};
        svc_job j = {.key = key, .lane = "one-call", .timeout = 2, .database = "billing",
                     .sql = "INSERT INTO uniq(k) VALUES(?)", .params = params, .nparams = 1};
        queued q = {0};
        svc_job_queue(f.c, &j, queued_cb, &q);
        assert_true(tl_run_until(f.l, &q.done, 5));
    }
    want = 1;
    assert_true(wait_for(&f, failed_enough, 10));
    assert_true(wait_for(&f, one_done, 10));
    svc_close(&f);
    assert_non_null(strstr(logged, "failed for good"));
    assert_non_null(strstr(logged, "duplicate key"));
    assert_null(strstr(logged, "\nERROR serve"));
    assert_int_equal(strchr(logged, '\n') - logged, (long)strlen(logged) - 1);   /* one line */
    assert_int_equal(outbox_jobs(&f), 1);
    fix_free(&f);
}

static void cancel_later_cb(loop *l, void *arg)
{
    (void)l;
    *(bool *)arg = true;
}

/* One connection: a query on the wire may have run when cancelled or timed
 * out; the one queued behind it cannot have. */
static void test_pg_sent_or_not(void **state)
{
    (void)state;
    cfg_database db = {.name = "billing", .kind = CFG_DB_POSTGRESQL, .url = pgurl, .target = pgurl};
    svc_config cfg = {.databases = &db, .database_count = 1};
    loop *l = loop_new_real();
    char err[128];
    svc_ctx *c = svc_new(l, &cfg, &(svc_options){.mail = SVC_MAIL_CAPTURE, .db_pool_size = 1}, err, sizeof err);
    qres a = {0}, b = {0};
    svc_db *qa = svc_db_query(c, &db, "SELECT pg_sleep(2)", NULL, 0, 0, q_cb, &a);
    svc_db *qb = svc_db_query(c, &db, "SELECT 1", NULL, 0, 0, q_cb, &b);
    volatile bool tick = false;
    loop_timer_start(l, 0.5, cancel_later_cb, (void *)&tick);
    assert_true(tl_run_until(l, &tick, 5));
    assert_false(svc_db_cancel(qb));
    assert_true(svc_db_cancel(qa));
    qres t = {0};
    svc_db_query(c, &db, "SELECT pg_sleep(2)", NULL, 0, 0.3, q_cb, &t);
    assert_true(tl_run_until(l, &t.done, 5));
    assert_string_equal(t.error, "timeout");
    assert_true(t.unknown && t.transient);
    qres e = {0};
    svc_db_query(c, &db, "SELECT nope", NULL, 0, 2, q_cb, &e);
    assert_true(tl_run_until(l, &e.done, 5));
    assert_false(e.unknown || e.transient);   /* the query's own: permanent */
    svc_free(c);
    loop_destroy(l);
}

int main(void)
{
    const struct CMUnitTest plain[] = {
        cmocka_unit_test_teardown(test_key, teardown),
        cmocka_unit_test_teardown(test_sql_is_read, teardown),
        cmocka_unit_test_teardown(test_locked_database_retried_in_lane_order, teardown),
        cmocka_unit_test_teardown(test_survives_restart_exactly_once, teardown),
        cmocka_unit_test_teardown(test_permanent_error_kept, teardown),
        cmocka_unit_test_teardown(test_capture_runs_once_stores_nothing, teardown),
        cmocka_unit_test_teardown(test_reload_config_copied_and_applied, teardown),
        cmocka_unit_test_teardown(test_http_retried_until_accepted, teardown),
        cmocka_unit_test_teardown(test_lane_one_at_a_time, teardown),
        cmocka_unit_test_teardown(test_shutdown_lets_attempt_finish, teardown),
        cmocka_unit_test_teardown(test_http_sent_or_not, teardown),
    };
    const struct CMUnitTest pgtests[] = {
        cmocka_unit_test_teardown(test_pg_outage_loses_nothing, teardown),
        cmocka_unit_test_teardown(test_pg_permanent_failure_logged_on_one_line, teardown),
        cmocka_unit_test_teardown(test_pg_sent_or_not, teardown),
    };
    int failed = cmocka_run_group_tests(plain, NULL, NULL);
    failed += cmocka_run_group_tests(pgtests, pg_setup, pg_teardown);
    return failed;
}
