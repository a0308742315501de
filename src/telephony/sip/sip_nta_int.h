/* sip_nta_int.h — what the files of the NTA core (sip_nta.c and the
 * sip_nta_*.c beside it) share: requests in a leg's dialog and the hooks
 * sip_nta.c calls. Include after sip_int.h and after defining NTA's magic
 * types as sip_nta.c does (legs are the magic of transactions). */
#ifndef SIP_NTA_INT_H
#define SIP_NTA_INT_H

#include <sofia-sip/nta.h>
#include <sofia-sip/su_tag.h>

#include "telephony/sip/sip_int.h"

/* What a request handler returns once it has answered itself (sip_nta.c's
 * ANSWERED): a final status only makes NTA destroy the transaction. */
#define SIP_NTA_ANSWERED 500

/* A request METHOD (NAME) in LEG's dialog with our next CSeq, our Contact
 * and the headers of TAGS; CB gets its responses with LEG as magic (the
 * caller destroys the transaction before LEG goes). NULL: no dialog, or it
 * could not be built. */
nta_outgoing_t *sip_nta_request(sip_leg *leg, sip_method_t method, const char *name, nta_response_f *cb,
                                tag_type_t tag, tag_value_t value, ...);
/* Our Contact ("<sip:HOST:PORT>") for responses that need one. */
const char *sip_nta_contact(sip_driver *d);
/* LEG's Session-Expires for a 2xx that refreshes its session (RFC 4028
 * 9: "10;refresher=uac"), or "" when it has no session timer. */
void sip_nta_session_expires(const sip_leg *leg, char *buf, size_t n);

/* ---- sip_nta_uas.c: RFC 3261 8.2.2's checks of every request ---- */
/* 0: SIP may be acted on; SIP_NTA_ANSWERED: refused here (416 for its
 * Request-URI scheme, 420 for its Require). */
int sip_nta_uas_check(nta_incoming_t *irq, const sip_t *sip);

/* ---- sip_nta_refer.c: REFER both ways (transfer) ---- */
/* sip_nta_refer_out is in sip_int.h (sip_leg.c calls it). */
/* A REFER or NOTIFY in LEG's dialog (it matches, its CSeq is in order):
 * answered here; returns SIP_NTA_ANSWERED. */
int sip_nta_refer_in(sip_leg *leg, nta_incoming_t *irq, const sip_t *sip);

/* ---- sip_nta_bypass.c: media: bypass, a re-INVITE or UPDATE relayed ---- */
/* A re-INVITE or UPDATE (with SDP, or a re-INVITE without) from LEG's
 * remote in a bypassed call: answered here (returns SIP_NTA_ANSWERED), or
 * its offer relayed to the peer and IRQ kept until the peer answers
 * (returns 0: NTA keeps the transaction for us). */
int sip_nta_bypass_offer(sip_leg *leg, nta_incoming_t *irq, const sip_t *sip);
/* LEG's re-INVITE (an offer relayed through it) got STATUS (SIP: the
 * response, NULL when NTA made it): the answer goes back to the peer's
 * remote. */
void sip_nta_bypass_answered(sip_leg *leg, int status, const sip_t *sip);
/* sip_nta_bypass_unpend is in sip_int.h (sip_bypass.c calls it). */

#endif
