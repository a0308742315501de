/* mail_outbox.c — queuing mail: capture (simulate, tests) or the durable
 * outbox (an SQLite file; mail_int.h says why). Messages are stored fully
 * formed — envelope, headers, body, attachment bytes — so what is sent
 * later does not depend on files that may change or go away. */
#include "services/mail_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/strbuf.h"

#define MAX_ATTACHMENT (20u << 20)
/* How long a shutdown waits for SMTP transfers in flight (svc_mail_close). */
#define MAIL_DRAIN_SECONDS 10.0

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS message("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, created REAL NOT NULL, message_id TEXT NOT NULL,"
    " date TEXT NOT NULL, mail_from TEXT NOT NULL, rcpt TEXT NOT NULL, to_hdr TEXT NOT NULL,"
    " cc_hdr TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT);"
    "CREATE TABLE IF NOT EXISTS attachment("
    " message INTEGER NOT NULL REFERENCES message(id) ON DELETE CASCADE, seq INTEGER NOT NULL,"
    " name TEXT NOT NULL, content_type TEXT NOT NULL, data BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS attachment_message ON attachment(message);";

/* ---- the shared outbox handle -------------------------------------- */

mail_outbox *mail_outbox_ref(mail_outbox *ob)
{
    pthread_mutex_lock(&ob->mu);
    ob->refs++;
    pthread_mutex_unlock(&ob->mu);
    return ob;
}

void mail_outbox_unref(mail_outbox *ob)
{
    pthread_mutex_lock(&ob->mu);
    int left = --ob->refs;
    pthread_mutex_unlock(&ob->mu);
    if (left)
        return;
    sqlite3_close(ob->db);
    pthread_mutex_destroy(&ob->mu);
    free(ob);
}

/* ---- the in-memory delivery list ----------------------------------- */

void mail_item_add(svc_mailer *m, long long id, int attempts)
{
    mail_item *it = svc_alloc(sizeof *it);
    it->id = id;
    it->attempts = attempts;
    it->next_try = loop_now(m->c->l);
    /* Keep the list in id order: older mail goes first. */
    mail_item **pp = &m->items, *prev = NULL;
    while (*pp && (*pp)->id < id) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    it->next = *pp;
    it->prev = prev;
    if (*pp)
        (*pp)->prev = it;
    *pp = it;
    m->count++;
}

void mail_item_remove(svc_mailer *m, mail_item *it)
{
    if (it->prev)
        it->prev->next = it->next;
    else
        m->items = it->next;
    if (it->next)
        it->next->prev = it->prev;
    m->count--;
    free(it);
}

/* ---- opening -------------------------------------------------------- */

static int mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

static bool has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcmp(s + n - k, suf) == 0;
}

/* settings.smtp.outbox names a directory (the outbox file goes inside)
 * unless it ends in .db/.sqlite/.sqlite3 or is an existing file. */
static char *outbox_file(const char *path, char *err, size_t errlen)
{
    struct stat st;
    bool is_file = has_suffix(path, ".db") || has_suffix(path, ".sqlite") || has_suffix(path, ".sqlite3") ||
                   (stat(path, &st) == 0 && S_ISREG(st.st_mode));
    cr_strbuf b = CR_STRBUF_INIT;
    if (is_file) {
        const char *slash = strrchr(path, '/');
        if (slash && slash != path) {
            cr_strbuf_append(&b, path, (size_t)(slash - path));
            if (mkdir_p(b.s) < 0) {
                snprintf(err, errlen, "outbox %s: cannot create its directory: %s", path, strerror(errno));
                cr_strbuf_free(&b);
                return NULL;
            }
            cr_strbuf_reset(&b);
        }
        cr_strbuf_puts(&b, path);
    } else {
        if (mkdir_p(path) < 0) {
            snprintf(err, errlen, "outbox %s: cannot create the directory: %s", path, strerror(errno));
            return NULL;
        }
        cr_strbuf_printf(&b, "%s/outbox.sqlite", path);
    }
    return b.s;
}

static bool outbox_open(svc_mailer *m, const char *path, char *err, size_t errlen)
{
    char *file = outbox_file(path, err, errlen);
    if (!file)
        return false;
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(file, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        rc = sqlite3_exec(db, schema, NULL, NULL, NULL);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "outbox %s: %s", file, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        free(file);
        return false;
    }
    free(file);
    mail_outbox *ob = svc_alloc(sizeof *ob);
    pthread_mutex_init(&ob->mu, NULL);
    ob->refs = 1;
    ob->db = db;
    atomic_init(&ob->closed, false);
    m->ob = ob;

    /* What an earlier run left behind is due now. */
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT id, attempts FROM message ORDER BY id", -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW)
            mail_item_add(m, sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1));
        sqlite3_finalize(st);
    }
    return true;
}

static void settings_free(svc_mailer *m)
{
    free(m->url);
    free(m->from);
    free(m->user);
    free(m->password);
}

/* New SMTP settings (a reload) apply to the next delivery attempt; the
 * outbox stays where it was opened. */
void svc_mail_settings(svc_mailer *m, const scn_settings *s)
{
    settings_free(m);
    m->url = svc_strdup(s && s->smtp_url ? s->smtp_url : "smtp://127.0.0.1:25");
    m->from = svc_strdup(s && s->smtp_from ? s->smtp_from : "callroute@localhost");
    m->user = s ? svc_strdup(s->smtp_user) : NULL;
    m->password = s ? svc_strdup(s->smtp_password) : NULL;
    m->starttls = s && s->smtp_starttls;
}

svc_mailer *svc_mail_open(svc_ctx *c, const scn_settings *s, char *err, size_t errlen)
{
    svc_mailer *m = svc_alloc(sizeof *m);
    m->c = c;
    m->mode = c->opt.mail;
    svc_mail_settings(m, s);
    if (m->mode == SVC_MAIL_CAPTURE)
        return m;
    const char *path = c->opt.outbox ? c->opt.outbox : s && s->smtp_outbox ? s->smtp_outbox : "var/outbox";
    if (!outbox_open(m, path, err, errlen)) {
        settings_free(m);
        free(m);
        return NULL;
    }
    mail_schedule(m);
    return m;
}

static void captured_free(svc_captured_mail *cm)
{
    while (cm) {
        svc_captured_mail *next = cm->next;
        free((char *)cm->to);
        free((char *)cm->cc);
        free((char *)cm->subject);
        free((char *)cm->body);
        free((char *)cm->attach);
        free(cm);
        cm = next;
    }
}

static void drain_deadline_cb(loop *l, void *arg)
{
    svc_mailer *m = arg;
    m->drain_timer = NULL;
    loop_stop(l);
}

/* Runs the loop until the outbox jobs in flight are back and, with
 * TRANSFERS, every delivery attempt has its answer and the outbox knows it
 * (mail_drain_check stops the loop), or SECONDS passed (<= 0: no limit). */
static void drain(svc_mailer *m, bool transfers, double seconds)
{
    m->drain_transfers = transfers;
    if (m->jobs == 0 && (!transfers || m->active == 0))
        return;
    if (seconds > 0)
        m->drain_timer = loop_timer_start(m->c->l, seconds, drain_deadline_cb, m);
    m->drain_running = true;
    loop_run(m->c->l);
    m->drain_running = false;
    if (m->drain_timer)
        loop_timer_stop(m->c->l, m->drain_timer);
    m->drain_timer = NULL;
}

/* Shutdown. A transfer aborted half-way may already be stored by the
 * server (it got the message, its 250 had not come back yet), and the next
 * start would send it again: so transfers in flight get up to
 * MAIL_DRAIN_SECONDS to finish, and a message the server accepted is
 * deleted from the outbox before the loop lets go (smtp_done starts that
 * delete first thing). No new delivery starts meanwhile. Outbox writes in
 * flight (mail a call just queued) always finish: dropping them would lose
 * the message, and leak their jobs. */
void svc_mail_close(svc_mailer *m)
{
    m->draining = true;
    if (m->retry_timer)
        loop_timer_stop(m->c->l, m->retry_timer);
    m->retry_timer = NULL;
    if (m->flush_timer)
        loop_timer_stop(m->c->l, m->flush_timer);
    m->flush_timer = NULL;
    if (m->ob) {
        drain(m, m->mode == SVC_MAIL_SEND, MAIL_DRAIN_SECONDS);
        /* Past the deadline: abort, the next start sends them again. */
        for (mail_item *it = m->items; it; it = it->next)
            mail_smtp_abort(m, it);
        drain(m, false, 0);   /* SQLite jobs: bounded by its busy timeout */
    }
    while (m->items)
        mail_item_remove(m, m->items);
    if (m->flush_timer)
        loop_timer_stop(m->c->l, m->flush_timer);
    while (m->waiters) {
        flush_waiter *w = m->waiters;
        m->waiters = w->next;
        free(w);
    }
    captured_free(m->cap_head);
    settings_free(m);
    if (m->ob) {
        atomic_store(&m->ob->closed, true);
        mail_outbox_unref(m->ob);
    }
    free(m);
}

/* ---- queuing -------------------------------------------------------- */

typedef struct write_job {
    mail_outbox *ob;
    svc_mailer *m;                   /* valid while !ob->closed */
    svc_mail_cb cb;
    void *arg;
    char *message_id, *date, *from, *rcpt, *to, *cc, *subject, *body;
    char **attach;
    size_t attach_count;
    long long id;
    char *error;
} write_job;

static void join(cr_strbuf *b, const char *const *items, size_t n, const char *sep)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            cr_strbuf_puts(b, sep);
        cr_strbuf_puts(b, items[i]);
    }
}

static char *joined(const char *const *items, size_t n, const char *sep)
{
    cr_strbuf b = CR_STRBUF_INIT;
    join(&b, items, n, sep);
    return b.s ? b.s : svc_strdup("");
}

/* The bare address of "Name <a@b>" or "a@b", for RCPT TO. */
static void append_addr(cr_strbuf *b, const char *s)
{
    const char *lt = strrchr(s, '<'), *gt = lt ? strchr(lt, '>') : NULL;
    if (lt && gt) {
        cr_strbuf_append(b, lt + 1, (size_t)(gt - lt - 1));
        return;
    }
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    cr_strbuf_append(b, s, n);
}

static const char *content_type_of(const char *name)
{
    static const struct { const char *ext, *type; } types[] = {
        {".wav", "audio/wav"},  {".mp3", "audio/mpeg"},     {".ogg", "audio/ogg"},
        {".pdf", "application/pdf"}, {".txt", "text/plain"}, {".csv", "text/csv"},
        {".json", "application/json"}, {".png", "image/png"}, {".jpg", "image/jpeg"},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (has_suffix(name, types[i].ext))
            return types[i].type;
    return "application/octet-stream";
}

static char *read_file(const char *path, size_t *len, char **error)
{
    FILE *f = fopen(path, "rb");
    cr_strbuf msg = CR_STRBUF_INIT;
    if (!f) {
        cr_strbuf_printf(&msg, "cannot read attachment %s: %s", path, strerror(errno));
        *error = msg.s;
        return NULL;
    }
    cr_strbuf b = CR_STRBUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + n > MAX_ATTACHMENT) {
            cr_strbuf_printf(&msg, "attachment %s is larger than %u bytes", path, MAX_ATTACHMENT);
            *error = msg.s;
            cr_strbuf_free(&b);
            fclose(f);
            return NULL;
        }
        cr_strbuf_append(&b, chunk, n);
    }
    fclose(f);
    *len = b.len;
    return b.s ? b.s : svc_strdup("");
}

static void write_work(void *arg)
{
    write_job *j = arg;
    char **data = svc_alloc((j->attach_count + 1) * sizeof *data);
    size_t *lens = svc_alloc((j->attach_count + 1) * sizeof *lens);
    for (size_t i = 0; i < j->attach_count && !j->error; i++)
        data[i] = read_file(j->attach[i], &lens[i], &j->error);
    if (j->error)
        goto out;

    mail_outbox *ob = j->ob;
    pthread_mutex_lock(&ob->mu);   /* one transaction at a time on the shared handle */
    sqlite3 *db = ob->db;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db,
                                "INSERT INTO message(created, message_id, date, mail_from, rcpt, to_hdr,"
                                " cc_hdr, subject, body) VALUES(?,?,?,?,?,?,?,?,?)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        const char *texts[] = {j->message_id, j->date, j->from, j->rcpt, j->to, j->cc, j->subject, j->body};
        sqlite3_bind_double(st, 1, (double)time(NULL));
        for (int i = 0; i < 8; i++)
            sqlite3_bind_text(st, i + 2, texts[i], -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        j->id = sqlite3_last_insert_rowid(db);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == SQLITE_OK && j->attach_count)
        rc = sqlite3_prepare_v2(db, "INSERT INTO attachment(message, seq, name, content_type, data) VALUES(?,?,?,?,?)",
                                -1, &st, NULL);
    for (size_t i = 0; rc == SQLITE_OK && i < j->attach_count; i++) {
        const char *slash = strrchr(j->attach[i], '/');
        const char *name = slash ? slash + 1 : j->attach[i];
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, j->id);
        sqlite3_bind_int(st, 2, (int)i);
        sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, content_type_of(name), -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 5, data[i], (int)lens[i], SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        cr_strbuf msg = CR_STRBUF_INIT;
        cr_strbuf_printf(&msg, "outbox: %s", sqlite3_errmsg(db));
        j->error = msg.s;
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
    pthread_mutex_unlock(&ob->mu);
out:
    for (size_t i = 0; i < j->attach_count; i++)
        free(data[i]);
    free(data);
    free(lens);
}

static void write_job_free(write_job *j)
{
    char *strs[] = {j->message_id, j->date, j->from, j->rcpt, j->to, j->cc, j->subject, j->body, j->error};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        free(strs[i]);
    for (size_t i = 0; i < j->attach_count; i++)
        free(j->attach[i]);
    free(j->attach);
    mail_outbox_unref(j->ob);
    free(j);
}

static void write_done(loop *l, void *arg)
{
    (void)l;
    write_job *j = arg;
    if (!atomic_load(&j->ob->closed)) {
        svc_mailer *m = j->m;
        m->jobs--;
        if (!j->error)
            mail_item_add(m, j->id, 0);
        if (j->cb)
            j->cb(j->arg, j->error);
        mail_schedule(m);
    }
    write_job_free(j);
}

static char *make_message_id(const char *from)
{
    unsigned char rnd[8] = {0};
    if (getrandom(rnd, sizeof rnd, 0) < 0) {
        /* fall back on the time and pid below: still unique enough */
    }
    const char *at = strrchr(from, '@');
    const char *end = at ? strchr(at, '>') : NULL;
    cr_strbuf b = CR_STRBUF_INIT;
    cr_strbuf_printf(&b, "<%ld.%d.", (long)time(NULL), (int)getpid());
    for (size_t i = 0; i < sizeof rnd; i++)
        cr_strbuf_printf(&b, "%02x", rnd[i]);
    if (at)
        cr_strbuf_append(&b, at, end ? (size_t)(end - at) : strlen(at));
    else
        cr_strbuf_puts(&b, "@callroute");
    cr_strbuf_putc(&b, '>');
    return b.s;
}

static char *make_date(void)
{
    char buf[64];
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    /* RFC 5322 wants English day and month names, whatever the locale. */
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    long off = tm.tm_gmtoff / 60;
    snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+',
             labs(off) / 60, labs(off) % 60);
    return svc_strdup(buf);
}

static void capture(svc_mailer *m, const svc_mail *mail)
{
    svc_captured_mail *cm = svc_alloc(sizeof *cm);
    cm->to = joined(mail->to, mail->to_count, ", ");
    cm->cc = joined(mail->cc, mail->cc_count, ", ");
    cm->subject = svc_strdup(mail->subject ? mail->subject : "");
    cm->body = svc_strdup(mail->body ? mail->body : "");
    cm->attach = joined(mail->attach, mail->attach_count, ", ");
    if (m->cap_tail)
        m->cap_tail->next = cm;
    else
        m->cap_head = cm;
    m->cap_tail = cm;
}

void svc_mail_queue(svc_ctx *c, const svc_mail *mail, svc_mail_cb cb, void *arg)
{
    svc_mailer *m = c->mail;
    if (m->mode == SVC_MAIL_CAPTURE) {
        capture(m, mail);
        if (cb)
            cb(arg, NULL);
        return;
    }
    write_job *j = svc_alloc(sizeof *j);
    j->ob = mail_outbox_ref(m->ob);
    j->m = m;
    j->cb = cb;
    j->arg = arg;
    j->from = svc_strdup(m->from);
    j->message_id = make_message_id(m->from);
    j->date = make_date();
    cr_strbuf rcpt = CR_STRBUF_INIT;
    for (size_t i = 0; i < mail->to_count + mail->cc_count; i++) {
        const char *a = i < mail->to_count ? mail->to[i] : mail->cc[i - mail->to_count];
        if (rcpt.len)
            cr_strbuf_putc(&rcpt, '\n');
        append_addr(&rcpt, a);
    }
    j->rcpt = rcpt.s ? rcpt.s : svc_strdup("");
    j->to = joined(mail->to, mail->to_count, ", ");
    j->cc = joined(mail->cc, mail->cc_count, ", ");
    j->subject = svc_strdup(mail->subject ? mail->subject : "");
    j->body = svc_strdup(mail->body ? mail->body : "");
    j->attach_count = mail->attach_count;
    j->attach = svc_alloc((mail->attach_count + 1) * sizeof *j->attach);
    for (size_t i = 0; i < mail->attach_count; i++)
        j->attach[i] = svc_strdup(mail->attach[i]);
    m->jobs++;
    loop_work(c->l, write_work, write_done, j);
}

const svc_captured_mail *svc_mail_captured(const svc_ctx *c)
{
    return c->mail->cap_head;
}

void svc_mail_captured_clear(svc_ctx *c)
{
    captured_free(c->mail->cap_head);
    c->mail->cap_head = c->mail->cap_tail = NULL;
}

svc_mail_stats svc_mail_stats_of(const svc_ctx *c)
{
    const svc_mailer *m = c->mail;
    svc_mail_stats s = {.queued = m->count, .in_flight = m->active, .sent = m->sent,
                        .failed_attempts = m->failed_attempts};
    return s;
}

void svc_mail_flush(svc_ctx *c, void (*done)(void *arg), void *arg)
{
    svc_mailer *m = c->mail;
    flush_waiter *w = svc_alloc(sizeof *w);
    w->done = done;
    w->arg = arg;
    w->next = m->waiters;
    m->waiters = w;
    mail_schedule(m);
}
