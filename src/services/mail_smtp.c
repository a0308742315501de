/* mail_smtp.c — background delivery of the outbox over SMTP with libcurl
 * on the shared multi handle: load a message (worker), send it (loop),
 * delete it only once the server accepted it (worker). A failure is
 * recorded in the outbox and retried with exponential backoff, so a slow
 * or dead server never touches a call and a message is never lost. */
#include "services/mail_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"

#define MAX_PARALLEL 4
#define BACKOFF_FIRST 1.0
#define BACKOFF_MAX 300.0

typedef struct mail_att {
    char *name, *type;
    void *data;
    size_t len;
} mail_att;

/* A worker job on one message: load, delete or record a failure. */
typedef struct msg_job {
    mail_outbox *ob;
    svc_mailer *m;
    mail_item *it;
    long long id;
    int attempts;
    char *error;
    bool found;
    char *f[8];                      /* message_id date mail_from rcpt to cc subject body */
    mail_att *att;
    size_t natt;
} msg_job;

struct mail_smtp_xfer {
    svc_xfer x;
    svc_mailer *m;
    mail_item *it;
    msg_job *msg;                    /* owns the strings the transfer uses */
    struct curl_slist *rcpt, *headers;
    curl_mime *mime;
    char errbuf[CURL_ERROR_SIZE];
};

static void msg_job_free(msg_job *j)
{
    for (int i = 0; i < 8; i++)
        free(j->f[i]);
    for (size_t i = 0; i < j->natt; i++) {
        free(j->att[i].name);
        free(j->att[i].type);
        free(j->att[i].data);
    }
    free(j->att);
    free(j->error);
    mail_outbox_unref(j->ob);
    free(j);
}

static msg_job *msg_job_new(svc_mailer *m, mail_item *it)
{
    msg_job *j = svc_alloc(sizeof *j);
    j->ob = mail_outbox_ref(m->ob);
    j->m = m;
    j->it = it;
    j->id = it->id;
    j->attempts = it->attempts;
    m->jobs++;
    return j;
}

/* A job's completion; false when the mailer is gone (J freed). */
static bool job_back(msg_job *j)
{
    if (atomic_load(&j->ob->closed)) {
        msg_job_free(j);
        return false;
    }
    j->m->jobs--;
    return true;
}

static char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return svc_strdup(t ? (const char *)t : "");
}

/* ---- worker side ---------------------------------------------------- */

static void load_work(void *arg)
{
    msg_job *j = arg;
    sqlite3 *db = j->ob->db;
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&j->ob->mu);
    if (sqlite3_prepare_v2(db, "SELECT message_id, date, mail_from, rcpt, to_hdr, cc_hdr, subject, body"
                               " FROM message WHERE id = ?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, j->id);
        if (sqlite3_step(st) == SQLITE_ROW) {
            j->found = true;
            for (int i = 0; i < 8; i++)
                j->f[i] = col_text(st, i);
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    if (j->found &&
        sqlite3_prepare_v2(db, "SELECT name, content_type, data FROM attachment WHERE message = ? ORDER BY seq",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, j->id);
        size_t cap = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            if (j->natt == cap) {
                cap = cap ? cap * 2 : 2;
                mail_att *a = realloc(j->att, cap * sizeof *a);
                if (!a)
                    abort();
                j->att = a;
            }
            mail_att *a = &j->att[j->natt++];
            a->name = col_text(st, 0);
            a->type = col_text(st, 1);
            a->len = (size_t)sqlite3_column_bytes(st, 2);
            a->data = svc_alloc(a->len);
            if (a->len)
                memcpy(a->data, sqlite3_column_blob(st, 2), a->len);
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&j->ob->mu);
}

static void delete_work(void *arg)
{
    msg_job *j = arg;
    pthread_mutex_lock(&j->ob->mu);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(j->ob->db, "DELETE FROM message WHERE id = ?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, j->id);
        sqlite3_step(st);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&j->ob->mu);
}

static void failed_work(void *arg)
{
    msg_job *j = arg;
    pthread_mutex_lock(&j->ob->mu);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(j->ob->db, "UPDATE message SET attempts = ?, last_error = ? WHERE id = ?", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_int(st, 1, j->attempts);
        sqlite3_bind_text(st, 2, j->error, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, j->id);
        sqlite3_step(st);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&j->ob->mu);
}

/* ---- loop side ------------------------------------------------------ */

static void job_only_done(loop *l, void *arg)
{
    (void)l;
    msg_job *j = arg;
    if (job_back(j)) {
        svc_mailer *m = j->m;
        msg_job_free(j);
        mail_schedule(m);
    }
}

static void delete_done(loop *l, void *arg)
{
    (void)l;
    msg_job *j = arg;
    if (!job_back(j))
        return;
    svc_mailer *m = j->m;
    m->active--;
    mail_item_remove(m, j->it);
    msg_job_free(j);
    mail_schedule(m);
}

static void xfer_free(struct mail_smtp_xfer *t)
{
    if (t->x.easy)
        curl_easy_cleanup(t->x.easy);
    curl_mime_free(t->mime);
    curl_slist_free_all(t->rcpt);
    curl_slist_free_all(t->headers);
    if (t->msg)
        msg_job_free(t->msg);
    free(t);
}

/* A failed attempt: retried after 1, 2, 4 ... BACKOFF_MAX seconds. A
 * PERMANENT refusal (an SMTP 5xx) is not retried in this run: the message
 * stays in the outbox with its error, and the next start tries it again
 * (after the admin fixed the address or the server's configuration). */
static void attempt_failed(svc_mailer *m, mail_item *it, const char *why, bool permanent)
{
    it->attempts++;
    it->tried = true;
    double delay = BACKOFF_FIRST;
    for (int i = 1; i < it->attempts && delay < BACKOFF_MAX; i++)
        delay *= 2;
    if (delay > BACKOFF_MAX)
        delay = BACKOFF_MAX;
    it->next_try = permanent ? INFINITY : loop_now(m->c->l) + delay;
    it->state = MI_WAIT;
    m->active--;
    m->failed_attempts++;
    msg_job *j = msg_job_new(m, it);
    j->error = svc_strdup(why);
    loop_work(m->c->l, failed_work, job_only_done, j);
}

static void smtp_done(svc_xfer *x, CURLcode rc)
{
    struct mail_smtp_xfer *t = (struct mail_smtp_xfer *)x;
    svc_mailer *m = t->m;
    mail_item *it = t->it;
    m->c->l->real_pending--;
    it->xfer = NULL;
    if (rc == CURLE_OK) {
        it->state = MI_DELETE;
        msg_job *j = msg_job_new(m, it);
        loop_work(m->c->l, delete_work, delete_done, j);
        m->sent++;
    } else {
        long code = 0;
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
        char why[CURL_ERROR_SIZE + 64];
        snprintf(why, sizeof why, "%s%s (SMTP %ld)", code >= 500 ? "permanent: " : "",
                 t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc), code);
        attempt_failed(m, it, why, code >= 500);
    }
    xfer_free(t);
    mail_schedule(m);
}

/* RFC 2047 encoded-word (Q encoding) for a header value that is not plain
 * ASCII; plain values pass as they are. */
static void header_value(cr_strbuf *b, const char *v)
{
    bool plain = true;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p >= 0x80 || *p < 0x20)
            plain = false;
    if (plain) {
        cr_strbuf_puts(b, v);
        return;
    }
    cr_strbuf_puts(b, "=?UTF-8?Q?");
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == ' ')
            cr_strbuf_putc(b, '_');
        else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                 strchr("!*+-/", *p))
            cr_strbuf_putc(b, (char)*p);
        else
            cr_strbuf_printf(b, "=%02X", *p);
    }
    cr_strbuf_puts(b, "?=");
}

static struct curl_slist *add_header(struct curl_slist *l, const char *name, const char *v, bool encode)
{
    cr_strbuf b = CR_STRBUF_INIT;
    cr_strbuf_printf(&b, "%s: ", name);
    if (encode)
        header_value(&b, v);
    else
        cr_strbuf_puts(&b, v);
    l = curl_slist_append(l, b.s);
    cr_strbuf_free(&b);
    return l;
}

static void start_transfer(svc_mailer *m, mail_item *it, msg_job *j)
{
    struct mail_smtp_xfer *t = svc_alloc(sizeof *t);
    t->m = m;
    t->it = it;
    t->msg = j;
    CURL *e = t->x.easy = curl_easy_init();
    t->x.done = smtp_done;
    if (!e) {
        xfer_free(t);
        attempt_failed(m, it, "cannot create an SMTP transfer", false);
        return;
    }
    /* f: 0 message_id 1 date 2 from 3 rcpt 4 to 5 cc 6 subject 7 body */
    cr_strbuf from = CR_STRBUF_INIT;
    cr_strbuf_putc(&from, '<');
    const char *lt = strrchr(j->f[2], '<');
    cr_strbuf_puts(&from, lt ? lt + 1 : j->f[2]);
    if (!lt)
        cr_strbuf_putc(&from, '>');
    for (char *r = j->f[3], *nl; r && *r; r = nl ? nl + 1 : NULL) {
        nl = strchr(r, '\n');
        cr_strbuf a = CR_STRBUF_INIT;
        cr_strbuf_putc(&a, '<');
        cr_strbuf_append(&a, r, nl ? (size_t)(nl - r) : strlen(r));
        cr_strbuf_putc(&a, '>');
        t->rcpt = curl_slist_append(t->rcpt, a.s);
        cr_strbuf_free(&a);
    }
    t->headers = add_header(t->headers, "Date", j->f[1], false);
    t->headers = add_header(t->headers, "From", j->f[2], false);
    t->headers = add_header(t->headers, "To", j->f[4], false);
    if (j->f[5][0])
        t->headers = add_header(t->headers, "Cc", j->f[5], false);
    t->headers = add_header(t->headers, "Subject", j->f[6], true);
    t->headers = add_header(t->headers, "Message-ID", j->f[0], false);

    /* libcurl builds the MIME message and does the transfer encodings. */
    t->mime = curl_mime_init(e);
    curl_mimepart *part = curl_mime_addpart(t->mime);
    /* Text lines end in CRLF on the wire; quoted-printable would encode a
     * bare LF as =0A. */
    cr_strbuf body = CR_STRBUF_INIT;
    for (const char *p = j->f[7]; *p; p++) {
        if (*p == '\n' && (p == j->f[7] || p[-1] != '\r'))
            cr_strbuf_putc(&body, '\r');
        cr_strbuf_putc(&body, *p);
    }
    curl_mime_data(part, cr_strbuf_cstr(&body), body.len);
    cr_strbuf_free(&body);
    curl_mime_type(part, "text/plain; charset=utf-8");
    curl_mime_encoder(part, "quoted-printable");
    for (size_t i = 0; i < j->natt; i++) {
        part = curl_mime_addpart(t->mime);
        curl_mime_data(part, j->att[i].data, j->att[i].len);
        curl_mime_filename(part, j->att[i].name);
        curl_mime_type(part, j->att[i].type);
        curl_mime_encoder(part, "base64");
    }

    curl_easy_setopt(e, CURLOPT_URL, m->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, from.s);
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, t->rcpt);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_MIMEPOST, t->mime);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 120L);
    if (m->starttls)
        curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    if (m->user)
        curl_easy_setopt(e, CURLOPT_USERNAME, m->user);
    if (m->password)
        curl_easy_setopt(e, CURLOPT_PASSWORD, m->password);
    cr_strbuf_free(&from);   /* curl copies string options */

    it->state = MI_SEND;
    it->xfer = t;
    m->c->l->real_pending++;
    svc_curl_add(m->c, &t->x);
}

static void load_done(loop *l, void *arg)
{
    (void)l;
    msg_job *j = arg;
    if (!job_back(j))
        return;
    svc_mailer *m = j->m;
    mail_item *it = j->it;
    if (j->found && m->draining) {
        /* Closing: no new transfer; the message waits for the next start. */
        it->state = MI_WAIT;
        m->active--;
        msg_job_free(j);
    } else if (!j->found) {
        /* Gone from the outbox (delivered by an earlier process): forget it. */
        m->active--;
        mail_item_remove(m, it);
        msg_job_free(j);
    } else {
        start_transfer(m, it, j);
    }
    mail_schedule(m);
}

void mail_smtp_abort(svc_mailer *m, mail_item *it)
{
    struct mail_smtp_xfer *t = it->xfer;
    if (!t)
        return;
    svc_curl_remove(m->c, &t->x);
    m->c->l->real_pending--;
    it->xfer = NULL;
    it->state = MI_WAIT;
    m->active--;
    xfer_free(t);
}

/* ---- scheduling ----------------------------------------------------- */

static void retry_cb(loop *l, void *arg)
{
    (void)l;
    svc_mailer *m = arg;
    m->retry_timer = NULL;
    mail_schedule(m);
}

static void flush_cb(loop *l, void *arg)
{
    (void)l;
    svc_mailer *m = arg;
    m->flush_timer = NULL;
    flush_waiter *w = m->waiters;
    m->waiters = NULL;
    while (w) {
        flush_waiter *next = w->next;
        w->done(w->arg);
        free(w);
        w = next;
    }
}

void mail_schedule(svc_mailer *m)
{
    double now = loop_now(m->c->l), next = -1;
    bool due = false;
    for (mail_item *it = m->items; it && !m->draining; it = it->next) {
        if (it->state != MI_WAIT)
            continue;
        if ((m->mode == SVC_MAIL_SEND_ONCE && it->tried) || isinf(it->next_try))
            continue;
        if (it->next_try <= now) {
            if (m->active >= MAX_PARALLEL) {
                due = true;
                continue;
            }
            it->state = MI_LOAD;
            m->active++;
            loop_work(m->c->l, load_work, load_done, msg_job_new(m, it));
        } else if (next < 0 || it->next_try < next) {
            next = it->next_try;
        }
    }
    if (m->retry_timer) {
        loop_timer_stop(m->c->l, m->retry_timer);
        m->retry_timer = NULL;
    }
    if (next >= 0 && m->mode == SVC_MAIL_SEND)
        m->retry_timer = loop_timer_start(m->c->l, next - now, retry_cb, m);
    /* A flush is answered when nothing is in flight and nothing is due. */
    if (m->waiters && !m->flush_timer && m->jobs == 0 && m->active == 0 && !due && !m->draining)
        m->flush_timer = svc_soon(m->c, flush_cb, m);
    mail_drain_check(m);
}

void mail_drain_check(svc_mailer *m)
{
    if (m->drain_running && m->jobs == 0 && (!m->drain_transfers || m->active == 0))
        loop_stop(m->c->l);
}
