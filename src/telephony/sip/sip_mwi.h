/* sip_mwi.h — what sip_mwi.c (message-summary, RFC 3842 over RFC 6665)
 * decides for the subscriptions of sip_nta_mwi.c: who may subscribe, to
 * which box, for how long, and the body of a NOTIFY. */
#ifndef CALLROUTE_SIP_MWI_H
#define CALLROUTE_SIP_MWI_H

#include "telephony/sip/sip_int.h"

#define MWI_EVENT "message-summary"
#define MWI_TYPE "application/simple-message-summary"
#define MWI_MAX_EXPIRES 3600

/* A new SUBSCRIBE (SIP): 0 with *USER the user it is from (NULL: unknown,
 * challenged all the same), or the status to refuse it with (489: not
 * message-summary; 403: From and To not the same user). */
int sip_mwi_who(sip_driver *d, const sip_t *sip, const cfg_user **user);
/* User U's box (authenticated): 0 with its counts *N new, *O old and the
 * subscription's *EXPIRES (SIP's Expires, at most MWI_MAX_EXPIRES); 404:
 * no voicemail box. */
int sip_mwi_box(sip_driver *d, const cfg_user *u, const sip_t *sip, unsigned *n, unsigned *o, unsigned long *expires);
/* The message-summary body for USER's counts. */
void sip_mwi_summary(sip_driver *d, const char *user, unsigned n, unsigned o, char *buf, size_t size);

/* ---- sip_nta_mwi.c ---- */
struct nta_incoming_s;
/* A SUBSCRIBE outside a call (IRQ, SIP): a new subscription (no To tag;
 * past the flood limit), or a refresh or unsubscribe (Expires: 0) in one
 * of ours (else 481): what the request callback returns. */
int sip_nta_subscribe(sip_driver *d, struct nta_incoming_s *irq, const sip_t *sip);
/* tel.h mwi. */
void sip_nta_mwi_changed(sip_driver *d, const char *user, unsigned n, unsigned o, bool unsolicited);
void sip_nta_mwi_free_all(sip_driver *d);

#endif
