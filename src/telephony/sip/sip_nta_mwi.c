/* sip_nta_mwi.c — message waiting (RFC 3842 over RFC 6665) on the
 * agent. Who may subscribe to which box, for how long, and what a NOTIFY
 * says are sip_mwi.c's; here each
 * subscription keeps its dialog in our own record (sip_dialog.c: the tags,
 * CSeq both ways, the route set, the phone's Contact as target), which NUA
 * kept before: a new SUBSCRIBE is digest-authenticated (401), accepted
 * (200 with its Expires, our To tag) and told the counts at once (RFC 6665
 * 4.2.1.1); a SUBSCRIBE in its dialog refreshes it (200, a NOTIFY: 4.2.1.2;
 * its Contact is the dialog's new target, 4.1.2.2) or, with Expires: 0,
 * ends it (the last NOTIFY says terminated, with no reason: RFC 6665's
 * reasons are all the notifier's, and "timeout" would say the phone failed
 * to refresh); when its time is up without a refresh it ends with
 * reason=timeout. A user has at most MAX_SUBS_PER_USER subscriptions at
 * once: one more is refused 403.
 * The counts are told again whenever they change, one NOTIFY in flight per
 * subscription (the next waits for its answer and tells the latest
 * counts); a NOTIFY refused (481, a timeout...) ends the subscription. A
 * user with `voicemail: {unsolicited: true}` and no subscription gets one
 * NOTIFY outside any dialog at each registered contact. A subscription
 * that came over TLS is answered, and NOTIFYed, with our Contact at the
 * TLS listener (sip_nta_tls.c), so the phone's refreshes stay on TLS; a
 * phone registered over TLS (or an outbound flow) is NOTIFYed over its own
 * connection (sip_registrar_hop), as it is called. */
#define NTA_OUTGOING_MAGIC_T struct sip_nta_sub

#include "telephony/sip/sip_mwi.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>

#include "telephony/sip/sip_dialog.h"
#include "telephony/sip/sip_uri.h"
#include "util/alloc.h"

#define ANSWERED 500   /* sip_nta.c's: answered already, NTA sends nothing more */
/* A user's live subscriptions at most: a desk phone, a softphone or two
 * and a sidecar each keep one; a phone that keeps making new ones (a
 * hostile or broken one; each is a record and a NOTIFY per change) is
 * refused the ninth. */
#define MAX_SUBS_PER_USER 8

typedef struct sip_nta_sub {
    sip_driver *d;
    struct sip_nta_sub *next;
    char *user;
    sip_dialog dlg;            /* the subscription's dialog (an unsolicited NOTIFY has none) */
    bool have_dlg, unsolicited;
    bool ending;               /* its last NOTIFY (terminated) is sent or due: it goes with the answer */
    bool unsubscribed;         /* ending because the phone asked (Expires: 0), not by expiry */
    bool again;                /* the counts changed while a NOTIFY was in flight: tell them after it */
    unsigned n, o;             /* the counts the next NOTIFY tells */
    double expires_at;
    loop_timer *expiry;
    nta_outgoing_t *notify;    /* our NOTIFY, until its final response */
    char *contact;             /* our Contact over TLS (sip_nta_tls.c), or NULL: the agent's plain one */
    char *hop;                 /* the phone's own connection (sip_registrar_hop), or NULL */
} sip_nta_sub;

static void our_contact(const sip_nta_sub *s, char *buf, size_t n)
{
    if (s->contact)
        snprintf(buf, n, "%s", s->contact);
    else
        snprintf(buf, n, "<sip:%s:%d>", s->d->sip_host, s->d->sip_port);
}

/* S's NOTIFYs to TARGET go over the phone's own connection when it
 * registered TARGET over TLS or as an outbound flow (its Contact is often
 * unreachable otherwise), as a call to it does (sip_out.c). */
static void sub_route(sip_nta_sub *s, const char *target)
{
    char clean[512], hop[128];
    free(s->hop);
    s->hop = NULL;
    if (!s->d->have_proxy && target && sip_uri_clean(clean, sizeof clean, target) &&
        sip_registrar_hop(s->d->reg, s->user, clean, hop, sizeof hop))
        s->hop = cr_xstrdup(hop);
}

static sip_nta_sub *sub_new(sip_driver *d, const char *user, unsigned n, unsigned o)
{
    sip_nta_sub *s = cr_xcalloc(1, sizeof *s);
    s->d = d;
    s->user = cr_xstrdup(user);
    s->n = n;
    s->o = o;
    s->next = d->nta_subs;
    d->nta_subs = s;
    return s;
}

static void sub_free(sip_nta_sub *s)
{
    sip_driver *d = s->d;
    for (sip_nta_sub **p = &d->nta_subs; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    if (s->expiry)
        loop_timer_stop(d->l, s->expiry);
    if (s->notify)
        nta_outgoing_destroy(s->notify);
    if (s->have_dlg)
        sip_dialog_free(&s->dlg);
    free(s->contact);
    free(s->hop);
    free(s->user);
    free(s);
}

static int notify_response_cb(sip_nta_sub *s, nta_outgoing_t *orq, const sip_t *sip);

/* A NOTIFY with S's counts, in Subscription-State STATE. */
static nta_outgoing_t *notify_request(sip_nta_sub *s, const char *target, const char *from, const char *to,
                                      const char *call_id, uint32_t cseq, const char *route, const char *state)
{
    sip_driver *d = s->d;
    nta_agent_t *agent = sip_nta_agent(d);
    char body[256], contact[160];
    sip_mwi_summary(d, s->user, s->n, s->o, body, sizeof body);
    our_contact(s, contact, sizeof contact);
    msg_t *msg = sip_nta_new_request(d, sip_method_notify, "NOTIFY", target, cseq);
    if (!msg)
        return NULL;
    sip_t *sip = sip_object(msg);
    if (sip_add_tl(msg, sip, SIPTAG_FROM_STR(from), SIPTAG_TO_STR(to), SIPTAG_CALL_ID_STR(call_id),
                   TAG_IF(route && *route, SIPTAG_ROUTE_STR(route)), SIPTAG_MAX_FORWARDS_STR("70"),
                   SIPTAG_CONTACT_STR(contact), SIPTAG_EVENT_STR(MWI_EVENT), SIPTAG_SUBSCRIPTION_STATE_STR(state),
                   SIPTAG_CONTENT_TYPE_STR(MWI_TYPE), SIPTAG_PAYLOAD_STR(body), TAG_END()) < 0) {
        msg_destroy(msg);
        return NULL;
    }
    sip_log(d, SIP_LOG_INFO, "user %s: NOTIFY message-summary %u/%u%s", s->user, s->n, s->o,
            s->unsolicited ? " (unsolicited)" : s->ending ? " (terminated)" : "");
    return nta_outgoing_mcreate(agent, notify_response_cb, s, s->hop ? URL_STRING_MAKE(s->hop) : NULL, msg,
                                TAG_END());
}

/* S's counts in its dialog, now or (one in flight) after the NOTIFY in
 * flight is answered. May free S (a last NOTIFY that cannot be sent). */
static void notify(sip_nta_sub *s)
{
    if (s->notify) {
        s->again = true;
        return;
    }
    s->again = false;
    char state[48];
    if (s->ending) {
        snprintf(state, sizeof state, s->unsubscribed ? "terminated" : "terminated;reason=timeout");
    } else {
        double left = ceil(s->expires_at - loop_now(s->d->l));
        snprintf(state, sizeof state, "active;expires=%.0f", left > 0 ? left : 0);
    }
    const sip_dialog *dl = &s->dlg;
    char from[SIP_DIALOG_MAX], to[SIP_DIALOG_MAX];
    s->notify = notify_request(s, dl->target, sip_dialog_from(dl, from), sip_dialog_to(dl, to), dl->call_id,
                               sip_dialog_next_cseq(&s->dlg),
                               dl->route, state);
    if (!s->notify && s->ending)
        sub_free(s);
}

static int notify_response_cb(sip_nta_sub *s, nta_outgoing_t *orq, const sip_t *sip)
{
    /* NTA's own final status (408, 503) when no response came. */
    int status = sip_nta_response_status(orq, sip);
    if (status < 200)
        return 0;
    sip_driver *d = s->d;
    sip_enter(d);
    nta_outgoing_destroy(orq);
    s->notify = NULL;
    if (status >= 300) {
        /* RFC 6665 4.2.2: a refused NOTIFY (481: the phone forgot it) ends the subscription. */
        if (!s->unsolicited && !s->ending)
            sip_log(d, SIP_LOG_INFO, "user %s: NOTIFY answered %d: subscription ended", s->user, status);
        sub_free(s);
    } else if (s->again) {
        notify(s);
    } else if (s->unsolicited || s->ending) {
        sub_free(s);
    }
    sip_leave(d);
    return 0;
}

static void expiry_cb(loop *l, void *arg)
{
    (void)l;
    sip_nta_sub *s = arg;
    s->expiry = NULL;
    sip_enter(s->d);
    sip_driver *d = s->d;
    sip_log(d, SIP_LOG_INFO, "user %s: message-summary subscription expired", s->user);
    s->ending = true;
    notify(s);
    sip_leave(d);
}

/* S lasts EXP seconds more (0: it ends now, with its last NOTIFY). */
static void sub_expires_in(sip_nta_sub *s, unsigned long exp)
{
    if (s->expiry)
        loop_timer_stop(s->d->l, s->expiry);
    s->expiry = NULL;
    if (exp == 0) {
        s->ending = s->unsubscribed = true;
        return;
    }
    s->expires_at = loop_now(s->d->l) + (double)exp;
    s->expiry = loop_timer_start(s->d->l, (double)exp, expiry_cb, s);
}

static void reply_ok(const sip_nta_sub *s, nta_incoming_t *irq, unsigned long exp)
{
    char expires[24], contact[160];
    snprintf(expires, sizeof expires, "%lu", exp);
    our_contact(s, contact, sizeof contact);
    nta_incoming_treply(irq, 200, sip_status_phrase(200), SIPTAG_EXPIRES_STR(expires), SIPTAG_CONTACT_STR(contact),
                        TAG_END());
}

/* A SUBSCRIBE in the dialog of one of our subscriptions: a refresh, or
 * with Expires: 0 its end (RFC 6665 4.1.2.2, 4.1.2.3). */
static int in_subscription(sip_driver *d, nta_incoming_t *irq, const sip_t *sip)
{
    sip_nta_sub *s = d->nta_subs;
    while (s && !(s->have_dlg && !s->ending && sip_dialog_matches(&s->dlg, sip)))
        s = s->next;
    if (!s)
        return 481;
    int order = sip_dialog_request_in(&s->dlg, sip);
    if (order)
        return order;
    if (!sip->sip_event || strcmp(sip->sip_event->o_type, MWI_EVENT) != 0)
        return 489;
    unsigned n, o;
    unsigned long exp = 0;
    if (sip_mwi_box(d, tel_config_user(d->cfg, s->user), sip, &n, &o, &exp)) {
        sub_free(s);   /* the box is gone (a reload) */
        return 404;
    }
    if (sip_dialog_target_refresh(&s->dlg, sip) != 0)
        return 400;    /* a Contact we cannot send to: the subscription keeps its target */
    sub_route(s, s->dlg.target);
    s->n = n;
    s->o = o;
    reply_ok(s, irq, exp);
    sub_expires_in(s, exp);
    sip_log(d, SIP_LOG_INFO, "user %s: message-summary %s", s->user, exp ? "refreshed" : "unsubscribed");
    notify(s);
    return ANSWERED;
}

/* USER's subscriptions that are not ending. */
static int live_subs(const sip_driver *d, const char *user)
{
    int n = 0;
    for (const sip_nta_sub *s = d->nta_subs; s; s = s->next)
        n += s->have_dlg && !s->ending && strcmp(s->user, user) == 0;
    return n;
}

int sip_nta_subscribe(sip_driver *d, nta_incoming_t *irq, const sip_t *sip)
{
    if (sip->sip_to->a_tag)
        return in_subscription(d, irq, sip);
    const cfg_user *u = NULL;
    int code = sip_mwi_who(d, sip, &u);
    if (code)
        return code;
    if (!sip_nta_auth(d, irq, sip, u, false))
        return ANSWERED;   /* challenged (401), or a banned source: 500 */
    unsigned n, o;
    unsigned long exp = 0;
    if (sip_mwi_box(d, u, sip, &n, &o, &exp))
        return 404;   /* no voicemail box */
    if (exp && live_subs(d, u->number) >= MAX_SUBS_PER_USER) {
        /* 403, not 503: the limit is this user's, by policy, and holds
         * until its phones' subscriptions end; 503 says the whole server
         * is overloaded (RFC 3261 21.5.4), sends a proxy to another one
         * (RFC 3263 4.3), and its Retry-After would schedule the next try. */
        sip_log(d, SIP_LOG_WARN, "user %s: SUBSCRIBE refused 403: %d message-summary subscriptions already",
                u->number, MAX_SUBS_PER_USER);
        return 403;
    }
    char tag[24];
    sip_nta_random_hex(tag, sizeof tag, 2);
    sip_nta_sub *s = sub_new(d, u->number, n, o);
    if (sip_dialog_uas(&s->dlg, sip, tag) != 0) {
        sub_free(s);
        return 400;   /* no From tag, no Contact, not a SIP URI... */
    }
    s->have_dlg = true;
    s->contact = sip_nta_tls_contact_in(d, sip);
    sub_route(s, s->dlg.target);
    nta_incoming_tag(irq, tag);
    reply_ok(s, irq, exp);
    sip_log(d, SIP_LOG_INFO, "user %s: subscribed to message-summary for %lus", u->number, exp);
    sub_expires_in(s, exp);   /* 0: a fetch (RFC 6665 4.4.3), one NOTIFY and done */
    notify(s);                /* at once (RFC 6665 4.2.1.1) */
    return ANSWERED;
}

/* tel.h mwi */
void sip_nta_mwi_changed(sip_driver *d, const char *user, unsigned n, unsigned o, bool unsolicited)
{
    bool subscribed = false;
    sip_enter(d);
    for (sip_nta_sub *s = d->nta_subs, *next; s; s = next) {
        next = s->next;
        if (s->unsolicited || s->ending || strcmp(s->user, user) != 0)
            continue;
        s->n = n;
        s->o = o;
        subscribed = true;
        notify(s);
    }
    const char *const *contacts = unsolicited && !subscribed ? sip_registrar_contacts(d->reg, user) : NULL;
    for (size_t i = 0; contacts && contacts[i]; i++) {
        /* No subscription to keep: it says terminated (as NUA's does). */
        char aor[256], from[300], tag[24], call_id[120];
        snprintf(aor, sizeof aor, "<sip:%s@%s:%d>", user, d->sip_host, d->sip_port);
        sip_nta_random_hex(tag, sizeof tag, 2);
        snprintf(from, sizeof from, "%s;tag=%s", aor, tag);
        sip_nta_new_call_id(d, call_id, sizeof call_id);
        sip_nta_sub *s = sub_new(d, user, n, o);
        s->unsolicited = true;
        s->contact = sip_nta_tls_contact_out(d, contacts[i]);
        sub_route(s, contacts[i]);
        s->notify = notify_request(s, contacts[i], from, aor, call_id, 1, NULL, "terminated;reason=timeout");
        if (!s->notify)
            sub_free(s);
    }
    sip_leave(d);
}

void sip_nta_mwi_free_all(sip_driver *d)
{
    while (d->nta_subs)
        sub_free(d->nta_subs);
}
