/* test_svc_mail.c — mail through the services layer against a real SMTP
 * server (python3-aiosmtpd, tests/services/smtp_server.py): capture mode,
 * delivery with MIME and an attachment, a hung server never delaying the
 * queueing, retries when the server comes back, and the outbox surviving a
 * restart of the process so every message arrives exactly once. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "services/svc.h"
#include "svc_testlib.h"

typedef struct fix {
    char *dir;                 /* outbox + maildir + attachment */
    char maildir[256], outbox[256], smtp_url[64];
    int port;
    pid_t smtp;
    svc_config cfg;
    loop *l;
    svc_ctx *c;
} fix;

static void fix_init(fix *f)
{
    memset(f, 0, sizeof *f);
    f->dir = tl_tmpdir();
    snprintf(f->maildir, sizeof f->maildir, "%s/mail", f->dir);
    snprintf(f->outbox, sizeof f->outbox, "%s/var/outbox", f->dir);
    mkdir(f->maildir, 0755);
}

static void smtp_start(fix *f)
{
    f->port = tl_smtp_server(f->maildir, f->port, &f->smtp);
    assert_true(f->port > 0);
    snprintf(f->smtp_url, sizeof f->smtp_url, "smtp://127.0.0.1:%d", f->port);
}

static void smtp_stop(fix *f)
{
    tl_kill(f->smtp);
    f->smtp = 0;
}

static void svc_open(fix *f, svc_mail_mode mode)
{
    f->cfg = (svc_config){0};
    f->cfg.smtp_url = f->smtp_url;
    f->cfg.smtp_from = "PBX <pbx@example.com>";
    f->cfg.outbox = f->outbox;
    f->l = loop_new_real();
    char err[256];
    f->c = svc_new(f->l, &f->cfg, &(svc_options){.mail = mode}, err, sizeof err);
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
    smtp_stop(f);
    tl_rmrf(f->dir);
    free(f->dir);
}

static int count_mail(const fix *f)
{
    DIR *d = opendir(f->maildir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strstr(e->d_name, ".eml") != NULL;
    if (d)
        closedir(d);
    return n;
}

static char *read_mail(const fix *f, int n)
{
    char path[300];
    snprintf(path, sizeof path, "%s/%d.eml", f->maildir, n);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char *buf = calloc(1, 65536);
    size_t len = fread(buf, 1, 65535, fp);
    buf[len] = '\0';
    fclose(fp);
    return buf;
}

static long outbox_rows(const fix *f)
{
    char path[300];
    snprintf(path, sizeof path, "%s/outbox.sqlite", f->outbox);
    sqlite3 *db;
    long n = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM message", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return n;
}

/* The outbox's last_error of its first message ("" when none). */
static void outbox_last_error(const fix *f, char *out, size_t n)
{
    char path[300];
    snprintf(path, sizeof path, "%s/outbox.sqlite", f->outbox);
    sqlite3 *db;
    out[0] = '\0';
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, "SELECT last_error FROM message ORDER BY id", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
            snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
}

typedef struct queued {
    volatile bool done;
    char error[256];
    double at;
} queued;

static void queued_cb(void *arg, const char *error)
{
    queued *q = arg;
    q->done = true;
    q->at = tl_mono();
    snprintf(q->error, sizeof q->error, "%s", error ? error : "");
}

static void send_one(fix *f, const char *subject, queued *q)
{
    const char *to[] = {"Supervisor <supervisor@example.com>"};
    svc_mail m = {.to = to, .to_count = 1, .subject = subject, .body = "A call is on hold."};
    svc_mail_queue(f->c, &m, queued_cb, q);
}

/* Runs the loop until COND(F) or SECONDS pass. */
static bool wait_for(fix *f, bool (*cond)(fix *f), double seconds)
{
    double end = tl_mono() + seconds;
    while (!cond(f) && tl_mono() < end)
        tl_run_for(f->l, 0.02);
    return cond(f);
}

static long want_sent;
static bool sent_enough(fix *f) { return svc_mail_stats_of(f->c).sent >= want_sent && svc_mail_stats_of(f->c).queued == 0; }
static long want_failed;
static bool failed_enough(fix *f) { return svc_mail_stats_of(f->c).failed_attempts >= want_failed; }

static void test_capture(void **state)
{
    (void)state;
    loop *l = loop_new_virtual(0);
    char err[64];
    svc_ctx *c = svc_new(l, NULL, &(svc_options){.mail = SVC_MAIL_CAPTURE}, err, sizeof err);
    const char *to[] = {"a@example.com", "b@example.com"}, *cc[] = {"c@example.com"};
    svc_mail m = {.to = to, .to_count = 2, .cc = cc, .cc_count = 1, .subject = "Hi", .body = "Body"};
    queued q = {0};
    svc_mail_queue(c, &m, queued_cb, &q);
    assert_true(q.done);
    const svc_captured_mail *cm = svc_mail_captured(c);
    assert_non_null(cm);
    assert_string_equal(cm->to, "a@example.com, b@example.com");
    assert_string_equal(cm->cc, "c@example.com");
    assert_string_equal(cm->body, "Body");
    assert_null(cm->next);
    svc_mail_captured_clear(c);
    assert_null(svc_mail_captured(c));
    svc_free(c);
    loop_destroy(l);
}

static void test_delivery_mime_attachment(void **state)
{
    (void)state;
    fix f;
    fix_init(&f);
    smtp_start(&f);
    svc_open(&f, SVC_MAIL_SEND);
    char att[300];
    snprintf(att, sizeof att, "%s/rec-1.wav", f.dir);
    FILE *fp = fopen(att, "w");
    fputs("hello attachment\n", fp);
    fclose(fp);
    const char *to[] = {"Supervisor <supervisor@example.com>"}, *cc[] = {"boss@example.com"};
    const char *attach[] = {att};
    svc_mail m = {.to = to, .to_count = 1, .cc = cc, .cc_count = 1, .subject = "Звонок на удержании",
                  .body = "User Alice Smith put on hold 79165551234.\nSecond line.", .attach = attach, .attach_count = 1};
    queued q = {0};
    svc_mail_queue(f.c, &m, queued_cb, &q);
    want_sent = 1;
    assert_true(wait_for(&f, sent_enough, 10));
    assert_string_equal(q.error, "");
    assert_int_equal(count_mail(&f), 1);
    assert_int_equal(outbox_rows(&f), 0);            /* removed once accepted */
    char *msg = read_mail(&f, 1);
    assert_non_null(strstr(msg, "X-Envelope-From: pbx@example.com"));
    assert_non_null(strstr(msg, "X-Envelope-To: supervisor@example.com, boss@example.com"));
    assert_non_null(strstr(msg, "To: Supervisor <supervisor@example.com>"));
    assert_non_null(strstr(msg, "Cc: boss@example.com"));
    assert_non_null(strstr(msg, "Subject: =?UTF-8?Q?=D0=97"));
    assert_non_null(strstr(msg, "Message-ID: <"));
    assert_non_null(strstr(msg, "put on hold 79165551234.\r\nSecond line."));
    assert_null(strstr(msg, "=0A"));
    assert_non_null(strstr(msg, "filename=\"rec-1.wav\""));
    assert_non_null(strstr(msg, "aGVsbG8gYXR0YWNobWVudAo="));   /* base64 of the file */
    free(msg);

    /* A missing attachment fails the queueing, visibly. */
    attach[0] = "/nonexistent/rec.wav";
    queued bad = {0};
    svc_mail_queue(f.c, &m, queued_cb, &bad);
    assert_true(tl_run_until(f.l, &bad.done, 5));
    assert_non_null(strstr(bad.error, "cannot read attachment"));
    svc_close(&f);
    fix_free(&f);
}

/* A hung server (stopped process: TCP connects, nothing answers) never
 * delays queueing; once it runs again the message goes out. */
static void test_hung_server_never_delays(void **state)
{
    (void)state;
    fix f;
    fix_init(&f);
    smtp_start(&f);
    kill(f.smtp, SIGSTOP);
    svc_open(&f, SVC_MAIL_SEND);
    queued q[3] = {{0}};
    double t0 = tl_mono();
    for (int i = 0; i < 3; i++)
        send_one(&f, "hung", &q[i]);
    for (int i = 0; i < 3; i++) {
        assert_true(tl_run_until(f.l, &q[i].done, 5));
        assert_true(q[i].at - t0 < 1.0);
        assert_string_equal(q[i].error, "");
    }
    tl_run_for(f.l, 0.3);
    assert_true(svc_mail_stats_of(f.c).in_flight > 0);
    assert_int_equal(count_mail(&f), 0);
    kill(f.smtp, SIGCONT);
    want_sent = 3;
    assert_true(wait_for(&f, sent_enough, 10));
    assert_int_equal(count_mail(&f), 3);
    svc_close(&f);
    fix_free(&f);
}

/* Server down while callroute runs: attempts fail and are retried with
 * backoff; the server comes back and the retry delivers. */
static void test_retry_when_server_returns(void **state)
{
    (void)state;
    fix f;
    fix_init(&f);
    smtp_start(&f);
    smtp_stop(&f);                                   /* the port is known and dead */
    svc_open(&f, SVC_MAIL_SEND);
    queued q = {0};
    send_one(&f, "retry", &q);
    want_failed = 1;
    assert_true(wait_for(&f, failed_enough, 5));
    /* /metrics: the message waits (since it was stored), the attempt is a
     * failed smtp request */
    double oldest = svc_mail_stats_of(f.c).oldest;
    assert_true(oldest > 0 && oldest <= (double)time(NULL) + 1);
    assert_true(svc_request_stats_of(f.c, SVC_K_SMTP)->failures >= 1);
    smtp_start(&f);
    want_sent = 1;
    assert_true(wait_for(&f, sent_enough, 8));
    assert_int_equal(count_mail(&f), 1);
    const svc_request_stats *rs = svc_request_stats_of(f.c, SVC_K_SMTP);
    assert_true(rs->seconds.count == rs->failures + 1);
    assert_true(svc_mail_stats_of(f.c).oldest == 0);
    svc_close(&f);
    fix_free(&f);
}

/* The server is down; callroute queues mail and stops. Started again with
 * the server up, it delivers everything once; a third start sends nothing. */
static void test_outbox_survives_restart_exactly_once(void **state)
{
    (void)state;
    fix f;
    fix_init(&f);
    smtp_start(&f);
    smtp_stop(&f);
    svc_open(&f, SVC_MAIL_SEND);
    queued q[3] = {{0}};
    for (int i = 0; i < 3; i++)
        send_one(&f, "restart", &q[i]);
    want_failed = 3;
    assert_true(wait_for(&f, failed_enough, 5));
    svc_close(&f);                                   /* "callroute stops" */
    assert_int_equal(outbox_rows(&f), 3);

    smtp_start(&f);
    svc_open(&f, SVC_MAIL_SEND);
    assert_int_equal(svc_mail_stats_of(f.c).queued, 3);
    want_sent = 3;
    assert_true(wait_for(&f, sent_enough, 8));
    svc_close(&f);
    assert_int_equal(count_mail(&f), 3);
    assert_int_equal(outbox_rows(&f), 0);

    svc_open(&f, SVC_MAIL_SEND);
    tl_run_for(f.l, 0.5);
    assert_int_equal(svc_mail_stats_of(f.c).sent, 0);
    svc_close(&f);
    assert_int_equal(count_mail(&f), 3);             /* exactly once */
    fix_free(&f);
}

/* A permanent refusal (550) is not retried; the message stays queued. */
static void test_permanent_refusal_not_retried(void **state)
{
    (void)state;
    fix f;
    fix_init(&f);
    smtp_start(&f);
    svc_open(&f, SVC_MAIL_SEND);
    const char *to[] = {"reject-me@example.com"};
    svc_mail m = {.to = to, .to_count = 1, .subject = "x", .body = "y"};
    queued q = {0};
    svc_mail_queue(f.c, &m, queued_cb, &q);
    want_failed = 1;
    assert_true(wait_for(&f, failed_enough, 5));
    tl_run_for(f.l, 2.5);                            /* a retry would come after 1 s */
    svc_mail_stats st = svc_mail_stats_of(f.c);
    assert_int_equal(st.failed_attempts, 1);
    assert_int_equal(st.queued, 1);
    svc_close(&f);
    assert_int_equal(outbox_rows(&f), 1);
    assert_int_equal(count_mail(&f), 0);
    char err[512];
    outbox_last_error(&f, err, sizeof err);
    assert_non_null(strstr(err, "permanent"));
    assert_non_null(strstr(err, "550"));
    fix_free(&f);
}

static void flushed_cb(void *arg)
{
    *(volatile bool *)arg = true;
}

/* simulate --send-mail: one attempt per message, no retry timers; what
 * failed stays for the next run. */
static void test_send_once_and_flush(void **state)
{
    (void)state;
    fix f;
    fix_init(&f);
    smtp_start(&f);
    smtp_stop(&f);
    svc_open(&f, SVC_MAIL_SEND_ONCE);
    queued q = {0};
    send_one(&f, "once", &q);
    volatile bool flushed = false;
    svc_mail_flush(f.c, flushed_cb, (void *)&flushed);
    assert_true(tl_run_until(f.l, &flushed, 5));
    svc_mail_stats st = svc_mail_stats_of(f.c);
    assert_int_equal(st.failed_attempts, 1);
    assert_int_equal(st.queued, 1);
    assert_int_equal(st.in_flight, 0);
    svc_close(&f);

    smtp_start(&f);
    svc_open(&f, SVC_MAIL_SEND_ONCE);
    flushed = false;
    svc_mail_flush(f.c, flushed_cb, (void *)&flushed);
    assert_true(tl_run_until(f.l, &flushed, 5));
    assert_int_equal(svc_mail_stats_of(f.c).sent, 1);
    svc_close(&f);
    assert_int_equal(count_mail(&f), 1);
    fix_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capture),
        cmocka_unit_test(test_delivery_mime_attachment),
        cmocka_unit_test(test_hung_server_never_delays),
        cmocka_unit_test(test_retry_when_server_returns),
        cmocka_unit_test(test_outbox_survives_restart_exactly_once),
        cmocka_unit_test(test_send_once_and_flush),
        cmocka_unit_test(test_permanent_refusal_not_retried),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
