/* sip_msg.h — what sip_msg.c (MESSAGE, RFC 3428) shares with its sending
 * and receiving on the agent (sip_nta_msg.c): one MESSAGE per fork. */
#ifndef CALLROUTE_SIP_MSG_H
#define CALLROUTE_SIP_MSG_H

#include "telephony/sip/sip_int.h"

struct nta_outgoing_s;
struct nta_incoming_s;

/* One MESSAGE of a tel_msg (one per registered contact of a user). */
typedef struct sip_msg_fork {
    sip_driver *d;
    struct tel_msg *m;
    struct sip_msg_fork *next;
    struct nta_outgoing_s *orq;   /* its transaction (sip_nta_msg.c) */
    char *uri;
    bool done, auth_tried;
} sip_msg_fork;

/* F's 401/407: the gateway's credentials (*USER, *PASS) when F may answer
 * it (once); false: the status is F's final one. */
bool sip_msg_auth_wanted(sip_msg_fork *f, const char **user, const char **pass);
/* F's final STATUS: the message is reported once one fork took it or all
 * failed (then F and its tel_msg are freed). */
void sip_msg_fork_done(sip_msg_fork *f, int status);
/* An incoming MESSAGE is taken at all (not while shutting down, with a
 * `message` route to run): else 503. */
bool sip_msg_accepting(const sip_driver *d);
/* An incoming MESSAGE from SOURCE (a gateway GW or NULL), identified
 * already: its body checked, handed to the engine: the status to answer
 * (200, 404, the route's refusal, 413, 415 — then with Accept: text/plain). */
int sip_msg_deliver(sip_driver *d, const sip_t *sip, const char *source, const struct sip_gw *gw);

/* ---- sip_nta_msg.c ---- */
/* F's MESSAGE to F->uri on the agent: 0, or -1 (not sent). */
int sip_nta_msg_send(sip_driver *d, sip_msg_fork *f, const char *to, const char *from, const char *text);
/* F's transaction goes (the message is over). */
void sip_nta_msg_drop(sip_msg_fork *f);
/* A MESSAGE outside a dialog (IRQ, SIP), past the flood limit: identified
 * (a gateway by its address, a user by the 407 digest challenge), handed
 * on, answered: what the request callback returns. */
int sip_nta_message(sip_driver *d, struct nta_incoming_s *irq, const sip_t *sip);

#endif
