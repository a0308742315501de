/* sip_outbound.h — RFC 5626 (SIP outbound) on the registrar's side, the
 * pure part: a REGISTER Contact's +sip.instance and reg-id read from
 * hostile input (sip_outbound.c, unit-tested). */
#ifndef SIP_OUTBOUND_H
#define SIP_OUTBOUND_H

#include <stdbool.h>

/* A flow's identity: the phone (its instance URN) and which of its flows. */
typedef struct sip_outbound_id {
    char instance[101];   /* the URN inside "<...>": letters, digits and :.-_+% only */
    unsigned reg_id;      /* 1..2^31-1 */
} sip_outbound_id;

/* INSTANCE and REG_ID: the parameters' values as they arrived (NULL: absent;
 * +sip.instance is a quoted "<urn:...>"). true, ID filled: both present and
 * well-formed. false: no outbound for this Contact (RFC 5626 section 6:
 * a reg-id without an instance is not a flow). */
bool sip_outbound_parse(const char *instance, const char *reg_id, sip_outbound_id *id);

#endif
