/* sip_in_parse.c — what callroute takes from an incoming INVITE (see
 * sip_in_parse.h). sip_in.c acts on it; this file only reads the message
 * sofia-sip parsed, so tests/fuzz/fuzz_sip_msg.c runs it on anything. */
#include "telephony/sip/sip_in_parse.h"
#include "util/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_extra.h>
#include <sofia-sip/sip_hclasses.h>

/* Line folding (CR or LF, then any spaces and tabs) becomes one space, as
 * RFC 3261 7.3.1 reads it; a CR or LF left anywhere else, too: no value
 * callroute hands on can end a header or a log line. In place; the length. */
static size_t unfold(char *s)
{
    /* Most values have no CR or LF: found by strcspn, not a byte loop
     * that copies each byte onto itself. */
    size_t plain = strcspn(s, "\r\n");
    if (!s[plain])
        return plain;
    char *w = s + plain;
    for (const char *p = w; *p;) {
        if (*p == '\r' || *p == '\n') {
            while (*p == '\r' || *p == '\n' || *p == ' ' || *p == '\t')
                p++;
            if (*p)
                *w++ = ' ';
        } else {
            *w++ = *p++;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

char *sip_in_unquote(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        char *r = cr_xstrndup(s + 1, n - 2);
        /* "\x" escapes inside a quoted display name */
        char *w = r;
        for (char *p = r; *p; p++) {
            if (*p == '\\' && p[1])
                p++;
            *w++ = *p;
        }
        *w = '\0';
        unfold(r);
        return r;
    }
    char *r = cr_xstrdup(s);
    unfold(r);
    return r;
}

void sip_in_collect_headers(const sip_t *sip, sip_in_header_wanted *wanted, void *arg, sip_in_headers *out)
{
    size_t used = 0, seen = 0;
    out->count = 0;
    for (const msg_header_t *h = (const msg_header_t *)sip->sip_request; h; h = h->sh_succ) {
        const msg_hclass_t *hc = h->sh_class;
        const char *name = hc->hc_name;
        if (hc == sip_request_class || hc == sip_separator_class || hc == sip_payload_class)
            continue;
        if (hc == sip_unknown_class)
            name = h->sh_unknown->un_name;
        if (!name || !*name || seen == SIP_IN_MAX_HEADERS)
            continue;
        seen++;
        if (wanted && !wanted(arg, name))
            continue;
        issize_t n;
        if (hc == sip_unknown_class) {   /* the field of an unknown header is its raw value */
            const char *v = h->sh_unknown->un_value ? h->sh_unknown->un_value : "";
            n = (issize_t)snprintf(out->buf + used, sizeof out->buf - used, "%s", v);
        } else {
            n = msg_header_field_e(out->buf + used, sizeof out->buf - used, h, 0);
        }
        if (n < 0 || used + (size_t)n + 1 >= sizeof out->buf)
            break;
        out->names[out->count] = name;
        out->values[out->count] = out->buf + used;
        out->count++;
        used += unfold(out->buf + used) + 1;
    }
}

/* A user part as we pass it on: sofia keeps a URI folded inside <...>
 * ("<sip:1\r\n 2@x>") with its CRLF in url_user. */
static char *dup_or_empty(const char *s)
{
    char *r = cr_xstrdup(s ? s : "");
    unfold(r);
    return r;
}

void sip_in_parties_get(const sip_t *sip, bool trust_identity, sip_in_parties *out)
{
    memset(out, 0, sizeof *out);
    const sip_from_t *from = sip->sip_from;
    const char *from_display = from ? from->a_display : NULL;
    /* The number: P-Asserted-Identity before From, from a gateway trusted
     * to assert it; anyone else (a phone, too) could name any caller. */
    const sip_p_asserted_identity_t *pai = trust_identity ? sip_p_asserted_identity(sip) : NULL;
    const char *display = from_display;
    if (pai && pai->paid_url->url_user) {
        out->caller = dup_or_empty(pai->paid_url->url_user);
        /* <URI> alone has an empty display name: From's is the caller's then */
        display = pai->paid_display && pai->paid_display[0] ? pai->paid_display : from_display;
    } else {
        out->caller = dup_or_empty(from ? from->a_url->url_user : NULL);
    }
    out->caller_name = sip_in_unquote(display);
    const sip_request_t *rq = sip->sip_request;
    out->callee = dup_or_empty(rq ? rq->rq_url->url_user : NULL);
}

void sip_in_parties_free(sip_in_parties *p)
{
    free(p->caller);
    free(p->caller_name);
    free(p->callee);
    memset(p, 0, sizeof *p);
}

static bool covers_sdp(const sip_accept_t *ac)
{
    const char *t = ac->ac_type;
    return strcasecmp(t, "application/sdp") == 0 || strcasecmp(t, "application/*") == 0 ||
           strcmp(t, "*/*") == 0;
}

int sip_in_body_check(const sip_t *sip)
{
    const sip_content_type_t *ct = sip->sip_content_type;
    if (sip->sip_payload && sip->sip_payload->pl_len && ct && ct->c_type &&
        strcasecmp(ct->c_type, "application/sdp") != 0)
        return 415;
    bool listed = false;
    for (const sip_accept_t *ac = sip->sip_accept; ac; ac = ac->ac_next) {
        if (!ac->ac_type || !ac->ac_type[0])
            continue;
        if (covers_sdp(ac))
            return 0;
        listed = true;
    }
    return listed ? 406 : 0;
}
