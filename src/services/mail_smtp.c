/* mail_smtp.c — the mail kind of the outbox: a message is loaded (worker)
 * and sent over SMTP with libcurl on the shared multi handle (loop); the
 * queue (queue.c) deletes it only once the server accepted it, or records
 * the failure and retries with exponential backoff, so a slow or dead
 * server never touches a call and a message is never lost. */
#include "services/mail_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"

#define MAX_PARALLEL 4

typedef struct mail_att {
    char *name, *type;
    void *data;
    size_t len;
} mail_att;

/* A loaded message. */
typedef struct mail_msg {
    char *f[8];                      /* message_id date mail_from rcpt to cc subject body */
    mail_att *att;
    size_t natt;
} mail_msg;

struct mail_smtp_xfer {
    svc_xfer x;
    svc_queue *q;
    qitem *it;
    mail_msg *msg;                   /* owns the strings the transfer uses */
    struct curl_slist *rcpt, *headers;
    curl_mime *mime;
    char errbuf[CURL_ERROR_SIZE];
    double started;                  /* loop time (svc_request_stats) */
};

static void msg_free(void *p)
{
    mail_msg *j = p;
    for (int i = 0; i < 8; i++)
        free(j->f[i]);
    for (size_t i = 0; i < j->natt; i++) {
        free(j->att[i].name);
        free(j->att[i].type);
        free(j->att[i].data);
    }
    free(j->att);
    free(j);
}

static char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return svc_strdup(t ? (const char *)t : "");
}

/* ---- worker side ---------------------------------------------------- */

static void *msg_load(sqlite3 *db, long long id)
{
    mail_msg *j = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT message_id, date, mail_from, rcpt, to_hdr, cc_hdr, subject, body"
                               " FROM message WHERE id = ?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW) {
            j = svc_alloc(sizeof *j);
            for (int i = 0; i < 8; i++)
                j->f[i] = col_text(st, i);
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    if (j && sqlite3_prepare_v2(db, "SELECT name, content_type, data FROM attachment WHERE message = ? ORDER BY seq",
                                -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        size_t cap = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            if (j->natt == cap) {
                cap = cap ? cap * 2 : 2;
                j->att = cr_xrealloc(j->att, cap * sizeof *j->att);
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
    return j;
}

/* ---- loop side ------------------------------------------------------ */

static void xfer_free(struct mail_smtp_xfer *t)
{
    if (t->x.easy)
        curl_easy_cleanup(t->x.easy);
    curl_mime_free(t->mime);
    curl_slist_free_all(t->rcpt);
    curl_slist_free_all(t->headers);
    if (t->msg)
        msg_free(t->msg);
    free(t);
}

/* A failure is retried with backoff (queue.c); a PERMANENT refusal (an
 * SMTP 5xx) is not retried in this run: the message stays in the outbox
 * with its error, and the next start tries it again (after the admin fixed
 * the address or the server's configuration). */
static void smtp_done(svc_xfer *x, CURLcode rc)
{
    struct mail_smtp_xfer *t = (struct mail_smtp_xfer *)x;
    svc_queue *q = t->q;
    q->c->l->real_pending--;
    svc_observe(q->c, SVC_K_SMTP, t->started, rc != CURLE_OK);
    if (rc == CURLE_OK) {
        queue_attempt_done(q, t->it, NULL, false);
    } else {
        long code = 0;
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
        char why[CURL_ERROR_SIZE + 64];
        snprintf(why, sizeof why, "%s%s (SMTP %ld)", code >= 500 ? "permanent: " : "",
                 t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc), code);
        queue_attempt_done(q, t->it, why, code >= 500);
    }
    xfer_free(t);
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

static void start_transfer(svc_queue *q, qitem *it, void *payload)
{
    svc_mailer *m = q->owner;
    mail_msg *j = payload;
    struct mail_smtp_xfer *t = svc_alloc(sizeof *t);
    t->q = q;
    t->it = it;
    t->msg = j;
    t->started = loop_now(q->c->l);
    CURL *e = t->x.easy = curl_easy_init();
    t->x.done = smtp_done;
    if (!e) {
        svc_observe(q->c, SVC_K_SMTP, t->started, true);
        xfer_free(t);
        queue_attempt_done(q, it, "cannot create an SMTP transfer", false);
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

    it->run = t;
    q->c->l->real_pending++;
    svc_curl_add(q->c, &t->x);
}

static void smtp_abort(svc_queue *q, qitem *it)
{
    struct mail_smtp_xfer *t = it->run;
    svc_curl_remove(q->c, &t->x);
    q->c->l->real_pending--;
    xfer_free(t);
}

const queue_kind mail_kind = {
    .name = "mail",
    .schema = mail_schema,
    .list_sql = "SELECT id, attempts, created FROM message ORDER BY id",
    .delete_sql = "DELETE FROM message WHERE id = ?",
    .failed_sql = "UPDATE message SET attempts = ?, last_error = ? WHERE id = ?",
    .max_parallel = MAX_PARALLEL,
    .load = msg_load,
    .payload_free = msg_free,
    .start = start_transfer,
    .abort = smtp_abort,
};
