/* mail_outbox.c — queuing mail: capture (simulate, tests) or the durable
 * outbox (queue_int.h). Messages are stored fully formed — envelope,
 * headers, body, attachment bytes — so what is sent later does not depend
 * on files that may change or go away. */
#include "services/mail_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "util/strbuf.h"

#define MAX_ATTACHMENT (20u << 20)

const char mail_schema[] =
    "CREATE TABLE IF NOT EXISTS message("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, created REAL NOT NULL, message_id TEXT NOT NULL,"
    " date TEXT NOT NULL, mail_from TEXT NOT NULL, rcpt TEXT NOT NULL, to_hdr TEXT NOT NULL,"
    " cc_hdr TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT);"
    "CREATE TABLE IF NOT EXISTS attachment("
    " message INTEGER NOT NULL REFERENCES message(id) ON DELETE CASCADE, seq INTEGER NOT NULL,"
    " name TEXT NOT NULL, content_type TEXT NOT NULL, data BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS attachment_message ON attachment(message);";

/* ---- settings and opening ------------------------------------------ */

static void settings_free(svc_mailer *m)
{
    free(m->url);
    free(m->from);
    free(m->user);
    free(m->password);
}

/* New SMTP settings (a reload) apply to the next delivery attempt; the
 * outbox stays where it was opened. */
void svc_mail_settings(svc_mailer *m, const svc_config *cfg)
{
    settings_free(m);
    m->url = svc_strdup(cfg && cfg->smtp_url ? cfg->smtp_url : "smtp://127.0.0.1:25");
    m->from = svc_strdup(cfg && cfg->smtp_from ? cfg->smtp_from : "callroute@localhost");
    m->user = cfg ? svc_strdup(cfg->smtp_user) : NULL;
    m->password = cfg ? svc_strdup(cfg->smtp_password) : NULL;
    m->starttls = cfg && cfg->smtp_starttls;
}

/* In a send mode the outbox (svc.c opened it) gets the mail queue, which
 * starts delivering what an earlier run left. */
svc_mailer *svc_mail_open(svc_ctx *c, const svc_config *cfg, char *err, size_t errlen)
{
    svc_mailer *m = svc_alloc(sizeof *m);
    m->c = c;
    m->mode = c->opt.mail;
    svc_mail_settings(m, cfg);
    if (m->mode == SVC_MAIL_CAPTURE)
        return m;
    m->q = queue_open(c, &mail_kind, m, err, errlen);
    if (!m->q) {
        settings_free(m);
        free(m);
        return NULL;
    }
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

/* The queue itself is closed (drained) with the outbox, before this. */
void svc_mail_close(svc_mailer *m)
{
    captured_free(m->cap_head);
    settings_free(m);
    free(m);
}

/* ---- queuing -------------------------------------------------------- */

typedef struct write_job {
    queue_write w;                   /* first: queue.c sees only this */
    svc_mail_cb cb;
    void *arg;
    char *message_id, *date, *from, *rcpt, *to, *cc, *subject, *body;
    char **attach;
    size_t attach_count;
    char **data;                     /* attachment bytes, read by prepare */
    size_t *lens;
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

static bool has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcmp(s + n - k, suf) == 0;
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

/* Worker, outside the transaction: the attachments are read first. */
static void write_prepare(queue_write *w)
{
    write_job *j = (write_job *)w;
    j->data = svc_alloc((j->attach_count + 1) * sizeof *j->data);
    j->lens = svc_alloc((j->attach_count + 1) * sizeof *j->lens);
    for (size_t i = 0; i < j->attach_count && !w->error; i++)
        j->data[i] = read_file(j->attach[i], &j->lens[i], &w->error);
}

static int write_insert(queue_write *w, sqlite3 *db)
{
    write_job *j = (write_job *)w;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "INSERT INTO message(created, message_id, date, mail_from, rcpt, to_hdr,"
                                " cc_hdr, subject, body) VALUES(?,?,?,?,?,?,?,?,?)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        const char *texts[] = {j->message_id, j->date, j->from, j->rcpt, j->to, j->cc, j->subject, j->body};
        sqlite3_bind_double(st, 1, (double)time(NULL));
        for (int i = 0; i < 8; i++)
            sqlite3_bind_text(st, i + 2, texts[i], -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        w->id = sqlite3_last_insert_rowid(db);
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
        sqlite3_bind_int64(st, 1, w->id);
        sqlite3_bind_int(st, 2, (int)i);
        sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, content_type_of(name), -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 5, j->data[i], (int)j->lens[i], SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize(st);
    return rc;
}

static void write_done(queue_write *w)
{
    write_job *j = (write_job *)w;
    if (j->cb)
        j->cb(j->arg, w->error);
}

static void write_free(queue_write *w)
{
    write_job *j = (write_job *)w;
    char *strs[] = {j->message_id, j->date, j->from, j->rcpt, j->to, j->cc, j->subject, j->body};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        free(strs[i]);
    for (size_t i = 0; i < j->attach_count; i++) {
        free(j->attach[i]);
        if (j->data)
            free(j->data[i]);
    }
    free(j->attach);
    free(j->data);
    free(j->lens);
    free(j);
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
    j->w.prepare = write_prepare;
    j->w.insert = write_insert;
    j->w.done = write_done;
    j->w.free = write_free;
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
    queue_write_start(m->q, &j->w);
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
    const svc_queue *q = c->mail->q;
    svc_mail_stats s = {0};
    if (q) {
        s.queued = q->count;
        s.in_flight = q->active;
        s.sent = q->done;
        s.failed_attempts = q->failed_attempts;
        s.oldest = queue_oldest(q);
    }
    return s;
}

void svc_mail_flush(svc_ctx *c, void (*done)(void *arg), void *arg)
{
    if (c->mail->q)
        queue_flush(c->mail->q, done, arg);
    else
        svc_later(c, done, arg);   /* capture: nothing is ever in flight */
}
