/* sip_dialog.c — the NTA core's dialog record (sip_dialog.h): text taken
 * from parsed headers into one buffer, then one allocation. Nothing is
 * written twice: the tags point at the ends of their addresses, the next
 * hop without a route set at the target (a held call keeps two records:
 * docs/decisions/sip-core.md, "Held-call memory (nta)"). */
#include "telephony/sip/sip_dialog.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/url.h>

#include "util/alloc.h"

/* The strings being built, as offsets into BUF (the buffer moves once). */
typedef struct builder {
    char buf[SIP_DIALOG_MAX];
    size_t used;
    bool full;
} builder;

enum { F_CALL_ID, F_LOCAL, F_REMOTE, F_LOCAL_TAG, F_REMOTE_TAG, F_TARGET, F_ROUTE, F_NEXT_HOP, F_COUNT };

/* Starts a string at the builder's end; its offset. */
static size_t b_start(builder *b) { return b->used; }

static void b_add(builder *b, const char *s, size_t n)
{
    if (b->full || b->used + n + 1 > sizeof b->buf) {
        b->full = true;
        return;
    }
    memcpy(b->buf + b->used, s, n);
    b->used += n;
}

static void b_str(builder *b, const char *s) { b_add(b, s, strlen(s)); }

static void b_end(builder *b)
{
    if (b->full || b->used + 1 > sizeof b->buf) {
        b->full = true;
        return;
    }
    b->buf[b->used++] = '\0';
}

/* One header's value (one element of a list header) as sofia encodes it. */
static void b_header(builder *b, const void *h)
{
    if (b->full)
        return;
    issize_t n = msg_header_field_e(b->buf + b->used, (isize_t)(sizeof b->buf - b->used), h, 0);
    if (n < 0 || b->used + (size_t)n + 1 >= sizeof b->buf)
        b->full = true;
    else
        b->used += (size_t)n;
}

static void b_url(builder *b, const url_t *u)
{
    if (b->full)
        return;
    issize_t n = url_e(b->buf + b->used, (isize_t)(sizeof b->buf - b->used), u);
    if (n < 0 || b->used + (size_t)n + 1 >= sizeof b->buf)
        b->full = true;
    else
        b->used += (size_t)n;
}

static bool sip_url(const url_t *u) { return u && (u->url_type == url_sip || u->url_type == url_sips) && u->url_host; }

/* A tag as it may go into a header: token characters only (sofia's parser
 * keeps them so; a tag we make is [0-9a-v], sip_nta_random_token). No length of its own: RFC 4475's
 * longreq has a 160-character one; SIP_DIALOG_MAX bounds the whole. */
static bool tag_ok(const char *t)
{
    if (!t || !*t)
        return false;
    for (const char *p = t; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~", *p))
            return false;
    return true;
}

/* An address (From or To) without its tag (kept apart: sip_dialog_from). */
static void b_addr(builder *b, const sip_addr_t *a)
{
    sip_addr_t copy = *a;
    copy.a_params = NULL;   /* the tag goes back below; other parameters are not the dialog's */
    copy.a_tag = NULL;
    copy.a_common->h_data = NULL;
    copy.a_common->h_len = 0;
    b_header(b, &copy);
    b_end(b);
}

/* The route set: Record-Route in order (UAS) or reversed (UAC). */
static void b_routes(builder *b, const sip_record_route_t *rr, bool reverse)
{
    const sip_record_route_t *list[32];
    size_t n = 0;
    for (; rr; rr = rr->r_next) {
        if (n == sizeof list / sizeof list[0] || !sip_url(rr->r_url)) {
            b->full = true;
            return;
        }
        list[n++] = rr;
    }
    for (size_t i = 0; i < n; i++) {
        const sip_record_route_t *r = list[reverse ? n - 1 - i : i];
        if (i)
            b_str(b, ", ");
        sip_record_route_t copy = *r;
        copy.r_next = NULL;
        copy.r_common->h_data = NULL;
        copy.r_common->h_len = 0;
        b_header(b, &copy);
    }
}

/* Where our requests are sent: the first route's URI, written at the
 * end; without a route set, the target, already written at TARGET_OFF
 * (the offset of the string either way). */
static size_t b_next_hop_at(builder *b, const sip_record_route_t *rr, bool reverse, size_t target_off)
{
    if (!rr)
        return target_off;
    const sip_record_route_t *first = rr;
    if (reverse)
        while (first->r_next)
            first = first->r_next;
    size_t off = b_start(b);
    b_url(b, first->r_url);
    b_end(b);
    return off;
}

static bool byte_clean(unsigned char c)
{
    return !((c < 0x20 && c != '\0' && c != '\t') || c == 0x7f);
}

/* No byte of S[0..N) is a control character but NUL and tab (finish says
 * why). Eight bytes at a time: a word with no byte below 0x20 and none
 * 0x7f is clean as a whole, and only the words with a NUL (the builder's
 * separators) or a tab are looked at byte by byte (the byte loop alone was
 * ~1,800 instructions a dialog, two a call). */
static bool text_clean(const char *s, size_t n)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, sizeof w);
        uint64_t below20 = (w - 0x20 * ones) & ~w & highs;   /* some byte < 0x20 (may flag more) */
        uint64_t x = w ^ (0x7f * ones);
        uint64_t is7f = (x - ones) & ~x & highs;              /* some byte == 0x7f (may flag more) */
        if (below20 | is7f)
            for (size_t k = 0; k < 8; k++)
                if (!byte_clean((unsigned char)s[i + k]))
                    return false;
    }
    for (; i < n; i++)
        if (!byte_clean((unsigned char)s[i]))
            return false;
    return true;
}

/* SHARED: the Call-ID the caller keeps (not in the text), or NULL. */
static int finish(sip_dialog *dl, builder *b, const size_t off[F_COUNT], const char *shared)
{
    if (b->full)
        return -1;
    /* Every string goes into headers and request lines we send: a control
     * character (sofia keeps the CRLF of a folded <URI>, fuzz_sip_dialog
     * found it in a Contact) would split them. The NULs between fields are
     * the builder's own; a tab is a header's whitespace (a quoted display
     * name may hold one, RFC 3261 25.1) and splits nothing. */
    if (!text_clean(b->buf, b->used))
        return -1;
    memset(dl, 0, sizeof *dl);
    dl->text = cr_xmalloc(b->used);
    memcpy(dl->text, b->buf, b->used);
    const char **field[F_COUNT] = {&dl->call_id, &dl->local,  &dl->remote, &dl->local_tag,
                                   &dl->remote_tag, &dl->target, &dl->route, &dl->next_hop};
    for (int i = 0; i < F_COUNT; i++)
        *field[i] = dl->text + off[i];
    if (shared)
        dl->call_id = shared;
    return 0;
}

/* The Call-ID the caller offers to keep for a dialog built from SIP's:
 * used when it is the same string, else NULL (the dialog copies it). */
static const char *shared_call_id(const char *call_id, const sip_t *sip)
{
    return call_id && sip && sip->sip_call_id && strcmp(call_id, sip->sip_call_id->i_id) == 0 ? call_id : NULL;
}

int sip_dialog_uas(sip_dialog *dl, const sip_t *invite, const char *local_tag)
{
    return sip_dialog_uas_keyed(dl, invite, local_tag, NULL);
}

int sip_dialog_uac(sip_dialog *dl, const sip_t *request, const sip_t *response)
{
    return sip_dialog_uac_keyed(dl, request, response, NULL);
}

int sip_dialog_uas_keyed(sip_dialog *dl, const sip_t *invite, const char *local_tag, const char *call_id)
{
    memset(dl, 0, sizeof *dl);
    if (!invite || !invite->sip_call_id || !invite->sip_from || !invite->sip_to || !invite->sip_cseq)
        return 400;
    /* An RFC 2543 caller may send no From tag (the remote tag is then
     * null, RFC 3261 12.1.1) and no Contact (its requests then go to the
     * From address, as RFC 2543 had it). */
    const char *from_tag = invite->sip_from->a_tag;
    const url_t *target = invite->sip_contact ? invite->sip_contact->m_url : invite->sip_from->a_url;
    if ((from_tag && !tag_ok(from_tag)) || !tag_ok(local_tag) || !sip_url(target))
        return 400;
    builder b = {.used = 0};
    size_t off[F_COUNT];
    const char *shared = shared_call_id(call_id, invite);
    off[F_CALL_ID] = b_start(&b);
    if (!shared)
        b_str(&b, invite->sip_call_id->i_id), b_end(&b);
    off[F_LOCAL] = b_start(&b), b_addr(&b, invite->sip_to);
    off[F_LOCAL_TAG] = b_start(&b), b_str(&b, local_tag), b_end(&b);
    off[F_REMOTE] = b_start(&b), b_addr(&b, invite->sip_from);
    off[F_REMOTE_TAG] = b_start(&b), b_str(&b, from_tag ? from_tag : ""), b_end(&b);   /* none: "" */
    off[F_TARGET] = b_start(&b), b_url(&b, target), b_end(&b);
    off[F_ROUTE] = b_start(&b), b_routes(&b, invite->sip_record_route, false), b_end(&b);
    off[F_NEXT_HOP] = b_next_hop_at(&b, invite->sip_record_route, false, off[F_TARGET]);
    if (finish(dl, &b, off, shared) < 0)
        return 400;
    dl->remote_cseq = invite->sip_cseq->cs_seq;
    /* Our own requests start from a number of ours (RFC 3261 12.1.1 leaves
     * it to us); 1, as the local sequence is ours alone. */
    dl->local_cseq = 0;
    return 0;
}

int sip_dialog_uac_keyed(sip_dialog *dl, const sip_t *request, const sip_t *response, const char *call_id)
{
    memset(dl, 0, sizeof *dl);
    if (!request || !response || !request->sip_call_id || !request->sip_from || !request->sip_cseq ||
        !response->sip_to || !tag_ok(request->sip_from->a_tag) || !tag_ok(response->sip_to->a_tag) ||
        !request->sip_request)
        return -1;
    /* A 2xx without a Contact is broken; its target is then where the
     * INVITE went (what every UA does rather than leave a call it cannot end). */
    const url_t *target = response->sip_contact ? response->sip_contact->m_url : request->sip_request->rq_url;
    if (!sip_url(target))
        return -1;
    builder b = {.used = 0};
    size_t off[F_COUNT];
    const char *shared = shared_call_id(call_id, request);
    off[F_CALL_ID] = b_start(&b);
    if (!shared)
        b_str(&b, request->sip_call_id->i_id), b_end(&b);
    off[F_LOCAL] = b_start(&b), b_addr(&b, request->sip_from);
    off[F_LOCAL_TAG] = b_start(&b), b_str(&b, request->sip_from->a_tag), b_end(&b);
    off[F_REMOTE] = b_start(&b), b_addr(&b, response->sip_to);
    off[F_REMOTE_TAG] = b_start(&b), b_str(&b, response->sip_to->a_tag), b_end(&b);
    off[F_TARGET] = b_start(&b), b_url(&b, target), b_end(&b);
    off[F_ROUTE] = b_start(&b), b_routes(&b, response->sip_record_route, true), b_end(&b);
    off[F_NEXT_HOP] = b_next_hop_at(&b, response->sip_record_route, true, off[F_TARGET]);
    if (finish(dl, &b, off, shared) < 0)
        return -1;
    dl->local_cseq = request->sip_cseq->cs_seq;
    dl->remote_cseq = 0;
    return 0;
}

bool sip_dialog_matches(const sip_dialog *dl, const sip_t *req)
{
    /* A null remote tag (RFC 2543 caller) matches a From without one. */
    return dl && dl->text && req && req->sip_call_id && req->sip_from && req->sip_to && req->sip_to->a_tag &&
           strcmp(req->sip_call_id->i_id, dl->call_id) == 0 && strcasecmp(req->sip_to->a_tag, dl->local_tag) == 0 &&
           (req->sip_from->a_tag ? strcasecmp(req->sip_from->a_tag, dl->remote_tag) == 0 : !*dl->remote_tag);
}

int sip_dialog_request_in(sip_dialog *dl, const sip_t *req)
{
    if (!req || !req->sip_cseq || !req->sip_request)
        return 400;
    sip_method_t m = req->sip_request->rq_method;
    if (m == sip_method_ack || m == sip_method_cancel)
        return 0;
    uint32_t seq = req->sip_cseq->cs_seq;
    if (seq < dl->remote_cseq)
        return 500;
    dl->remote_cseq = seq;
    return 0;
}

/* ADDR;tag=TAG (TAG "": ADDR alone) into BUF: both lie in one record of
 * at most SIP_DIALOG_MAX bytes with a NUL each, so they fit with room for
 * the ";tag=" (the record holds two NULs of other fields at least). */
static size_t put_cut(char *buf, size_t n, const char *s)
{
    size_t len = strlen(s), room = SIP_DIALOG_MAX - 1 - n;
    memcpy(buf + n, s, len < room ? len : room);
    return n + (len < room ? len : room);
}

/* As snprintf(BUF, SIP_DIALOG_MAX, "%s;tag=%s") did, cut alike, without
 * its ~900 instructions (four a call). */
static const char *with_tag(char *buf, const char *addr, const char *tag)
{
    size_t n = put_cut(buf, 0, addr);
    if (*tag) {
        n = put_cut(buf, n, ";tag=");
        n = put_cut(buf, n, tag);
    }
    buf[n] = '\0';
    return buf;
}

const char *sip_dialog_from(const sip_dialog *dl, char *buf) { return with_tag(buf, dl->local, dl->local_tag); }

const char *sip_dialog_to(const sip_dialog *dl, char *buf) { return with_tag(buf, dl->remote, dl->remote_tag); }

uint32_t sip_dialog_next_cseq(sip_dialog *dl) { return ++dl->local_cseq; }

void sip_dialog_free(sip_dialog *dl)
{
    free(dl->text);
    memset(dl, 0, sizeof *dl);
}

int sip_dialog_target_refresh(sip_dialog *dl, const sip_t *req)
{
    if (!req || !req->sip_contact)
        return 0;   /* no Contact: the target stays */
    const url_t *target = req->sip_contact->m_url;
    if (!sip_url(target))
        return 400;
    /* The route set is fixed when the dialog is made (RFC 3261 12.2.1.1):
     * only the target, and the next hop when there is no route, change. */
    builder b = {.used = 0};
    size_t off[F_COUNT];
    const char *keep[F_COUNT] = {dl->call_id, dl->local, dl->remote, dl->local_tag, dl->remote_tag, NULL, dl->route,
                                 *dl->route ? dl->next_hop : NULL};
    for (int i = 0; i < F_COUNT; i++) {
        off[i] = b_start(&b);
        if (keep[i])
            b_str(&b, keep[i]);
        else
            b_url(&b, target);
        b_end(&b);
    }
    sip_dialog fresh;
    if (finish(&fresh, &b, off, NULL) < 0)   /* every string copied: the Call-ID too */
        return 400;
    fresh.local_cseq = dl->local_cseq;
    fresh.remote_cseq = dl->remote_cseq;
    free(dl->text);
    *dl = fresh;
    return 0;
}
