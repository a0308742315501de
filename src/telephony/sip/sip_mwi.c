/* sip_mwi.c — message waiting (RFC 3842 over RFC 6665 events): a user's
 * phone SUBSCRIBEs to message-summary for its own voicemail box (digest
 * authenticated as for REGISTER: a box's counts are its owner's business);
 * the subscription is accepted, NOTIFY tells the counts at once and again
 * whenever the engine says they changed (tel.h mwi). A user with
 * `voicemail: {unsolicited: true}` gets NOTIFY out of any subscription at
 * each of its registered contacts while none of its phones subscribed.
 * NUA keeps each subscription's dialog, refreshes and expiry; a
 * subscription's handle is bound to a sip_sub. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tagarg.h>

#include "telephony/sip/sip_int.h"
#include "telephony/sip/sip_mwi.h"
#include "util/alloc.h"


struct sip_sub {
    sip_hctx hc;               /* HC_SUB */
    sip_driver *d;
    nua_handle_t *nh;
    char *user;
    bool unsolicited;          /* one NOTIFY outside a subscription */
    bool ended;                /* terminated: waiting for the handle to go */
    sip_sub *next, *prev;
};

static sip_sub *sub_new(sip_driver *d, nua_handle_t *nh, const char *user, bool unsolicited)
{
    sip_sub *s = cr_xcalloc(1, sizeof *s);
    s->hc.kind = HC_SUB;
    s->d = d;
    s->nh = nh;
    s->user = cr_xstrdup(user);
    s->unsolicited = unsolicited;
    s->next = d->subs;
    if (d->subs)
        d->subs->prev = s;
    d->subs = s;
    return s;
}

static void sub_free(sip_sub *s)
{
    sip_driver *d = s->d;
    if (s->prev)
        s->prev->next = s->next;
    else
        d->subs = s->next;
    if (s->next)
        s->next->prev = s->prev;
    if (s->nh) {
        nua_handle_bind(s->nh, NULL);
        nua_handle_destroy(s->nh);
    }
    free(s->user);
    free(s);
}

void sip_mwi_summary(sip_driver *d, const char *user, unsigned n, unsigned o, char *buf, size_t size)
{
    snprintf(buf, size, "Messages-Waiting: %s\r\nMessage-Account: sip:%s@%s\r\nVoice-Message: %u/%u\r\n",
             n ? "yes" : "no", user, d->sip_host, n, o);
}

static void notify(sip_sub *s, unsigned n, unsigned o)
{
    char body[256];
    sip_mwi_summary(s->d, s->user, n, o, body, sizeof body);
    if (s->unsolicited)   /* no subscription to keep: it says terminated (NUA's own choice too) */
        nua_notify(s->nh, NUTAG_NEWSUB(1), NUTAG_SUBSTATE(nua_substate_terminated), SIPTAG_EVENT_STR(MWI_EVENT),
                   SIPTAG_CONTENT_TYPE_STR(MWI_TYPE), SIPTAG_PAYLOAD_STR(body), TAG_END());
    else
        nua_notify(s->nh, NUTAG_SUBSTATE(nua_substate_active), SIPTAG_EVENT_STR(MWI_EVENT),
                   SIPTAG_CONTENT_TYPE_STR(MWI_TYPE), SIPTAG_PAYLOAD_STR(body), TAG_END());
    sip_log(s->d, SIP_LOG_INFO, "user %s: NOTIFY message-summary %u/%u%s", s->user, n, o,
            s->unsolicited ? " (unsolicited)" : "");
}

static void respond(sip_driver *d, nua_handle_t *nh, int code)
{
    nua_respond(nh, code, sip_status_phrase(code), NUTAG_WITH_THIS(d->nua), TAG_END());
}

int sip_mwi_who(sip_driver *d, const sip_t *sip, const cfg_user **user)
{
    *user = NULL;
    if (!sip->sip_event || strcmp(sip->sip_event->o_type, MWI_EVENT) != 0)
        return 489;
    /* A phone subscribes to its own box: From and To name the same user,
     * who answers the digest challenge as for REGISTER. */
    const char *from = sip->sip_from && sip->sip_from->a_url->url_user ? sip->sip_from->a_url->url_user : NULL;
    const char *to = sip->sip_to && sip->sip_to->a_url->url_user ? sip->sip_to->a_url->url_user : NULL;
    if (!from || !to || strcmp(from, to) != 0)
        return 403;
    const cfg_user *u = tel_config_user(d->cfg, to);
    *user = u && u->password ? u : NULL;
    return 0;
}

int sip_mwi_box(sip_driver *d, const cfg_user *u, const sip_t *sip, unsigned *n, unsigned *o, unsigned long *expires)
{
    *n = *o = 0;
    if (!u || !d->have_handler || !d->h.mailbox || !d->h.mailbox(d->h.eng, u->number, n, o))
        return 404;
    unsigned long exp = sip->sip_expires ? sip->sip_expires->ex_delta : MWI_MAX_EXPIRES;
    *expires = exp > MWI_MAX_EXPIRES ? MWI_MAX_EXPIRES : exp;
    return 0;
}

void sip_mwi_subscribe(sip_driver *d, nua_handle_t *nh, sip_hctx *hc, int status, const sip_t *sip, tagi_t tags[])
{
    if (hc && hc->kind != HC_SUB) {
        /* A SUBSCRIBE inside a call's dialog (or another usage of ours):
         * subscriptions live in dialogs of their own here. It must still
         * get its final response, or its transaction lingers until the
         * call ends; the call's handle is not ours to destroy. */
        if (status < 200 && sip && sip->sip_request)
            respond(d, nh, 489);
        return;
    }
    if (hc) {
        /* A refresh NUA answered, or the end of one of ours. */
        const tagi_t *t = tl_find(tags, nutag_substate);
        if (hc->kind == HC_SUB && t && t->t_value == nua_substate_terminated)
            ((sip_sub *)hc)->ended = true;
        return;
    }
    if (status >= 200 || !sip || !sip->sip_request) {
        nua_handle_destroy(nh);
        return;
    }
    const cfg_user *u = NULL;
    int code = sip_mwi_who(d, sip, &u);
    if (code) {
        respond(d, nh, code);
        nua_handle_destroy(nh);
        return;
    }
    if (!sip_registrar_auth_request(d->reg, nh, sip, u)) {
        nua_handle_destroy(nh);
        return;
    }
    unsigned n = 0, o = 0;
    unsigned long exp = 0;
    if (sip_mwi_box(d, u, sip, &n, &o, &exp)) {
        respond(d, nh, 404);   /* no voicemail box */
        nua_handle_destroy(nh);
        return;
    }
    char expires[16];
    snprintf(expires, sizeof expires, "%lu", exp);
    sip_sub *s = sub_new(d, nh, u->number, false);
    nua_handle_bind(nh, &s->hc);
    nua_respond(nh, 200, sip_status_phrase(200), NUTAG_WITH_THIS(d->nua), SIPTAG_EXPIRES_STR(expires), TAG_END());
    sip_log(d, SIP_LOG_INFO, "user %s: subscribed to message-summary for %lus", u->number, exp);
    notify(s, n, o);   /* at once (RFC 6665 4.2.1.1) */
}

void sip_mwi_notify_response(sip_driver *d, sip_hctx *hc, int status, tagi_t tags[])
{
    (void)d;
    if (!hc || hc->kind != HC_SUB || status < 200)
        return;
    sip_sub *s = (sip_sub *)hc;
    const tagi_t *t = tl_find(tags, nutag_substate);
    if (s->unsolicited || s->ended || status >= 300 || (t && t->t_value == nua_substate_terminated))
        sub_free(s);
}

/* tel.h mwi */
void sip_mwi_changed(sip_driver *d, const char *user, unsigned n, unsigned o, bool unsolicited)
{
    if (d->nta) {   /* settings.sip.core: nta */
        sip_nta_mwi_changed(d, user, n, o, unsolicited);
        return;
    }
    bool subscribed = false;
    sip_enter(d);
    for (sip_sub *s = d->subs; s; s = s->next)
        if (!s->unsolicited && !s->ended && strcmp(s->user, user) == 0) {
            notify(s, n, o);
            subscribed = true;
        }
    const char *const *contacts = unsolicited && !subscribed ? sip_registrar_contacts(d->reg, user) : NULL;
    for (size_t i = 0; contacts && contacts[i]; i++) {
        char aor[256];
        snprintf(aor, sizeof aor, "<sip:%s@%s:%d>", user, d->sip_host, d->sip_port);
        nua_handle_t *nh = nua_handle(d->nua, NULL, NUTAG_URL(contacts[i]), SIPTAG_TO_STR(aor),
                                      SIPTAG_FROM_STR(aor), TAG_END());
        if (!nh)
            continue;
        sip_sub *s = sub_new(d, nh, user, true);
        nua_handle_bind(nh, &s->hc);
        notify(s, n, o);
    }
    sip_leave(d);
}

void sip_mwi_free_all(sip_driver *d)
{
    sip_nta_mwi_free_all(d);
    while (d->subs)
        sub_free(d->subs);
}
