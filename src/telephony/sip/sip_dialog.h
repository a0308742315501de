/* sip_dialog.h — a SIP dialog as the NTA core keeps it (RFC 3261 12):
 * Call-ID, the local and remote addresses with their tags, CSeq both ways,
 * the route set from Record-Route and the remote target from Contact.
 * Built from messages sofia has parsed, as text in one allocation (a held
 * call's dialog is a few hundred bytes, not NUA's handle, usage and
 * copies of headers); pure: no agent, no I/O, so it is unit tested and
 * fuzzed. Everything it is built from comes from the network: a field
 * that is missing, too long or not a SIP URI makes the build fail. */
#ifndef SIP_DIALOG_H
#define SIP_DIALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sofia-sip/sip.h>

/* What a dialog's text may take at most (all of it together). */
#define SIP_DIALOG_MAX 4096

typedef struct sip_dialog {
    const char *call_id;
    const char *local;        /* our name-addr (no tag): sip_dialog_from */
    const char *remote;       /* theirs (no tag): sip_dialog_to */
    const char *local_tag, *remote_tag;   /* remote_tag "": none (RFC 2543) */
    const char *target;       /* the remote target (Contact): our requests' Request-URI */
    const char *route;        /* the Route header value of our requests; "" none */
    const char *next_hop;     /* where our requests go: the first route, or the target */
    uint32_t local_cseq;      /* the last CSeq we sent */
    uint32_t remote_cseq;     /* the last CSeq received from the remote */
    char *text;               /* the one allocation behind every string above (call_id: but a kept one) */
} sip_dialog;

/* We answer INVITE (UAS, RFC 3261 12.1.1) with LOCAL_TAG (our To tag):
 * 0, or the status to refuse the INVITE with (400: a Contact or
 * Record-Route that is not a sip:/sips: URI, or more text than
 * SIP_DIALOG_MAX). An RFC 2543 caller's INVITE without a From tag makes a
 * dialog with a null (empty) remote tag, one without a Contact has the
 * From address as its remote target. */
int sip_dialog_uas(sip_dialog *dl, const sip_t *invite, const char *local_tag);
/* Our REQUEST (an INVITE we sent) was answered by RESPONSE (2xx or a
 * 1xx with a To tag; RFC 3261 12.1.2): 0, or -1 when the response cannot
 * make a dialog (no To tag, a bad Contact or Record-Route). */
int sip_dialog_uac(sip_dialog *dl, const sip_t *request, const sip_t *response);
/* The same, with DL's call_id the string CALL_ID (the message's Call-ID,
 * which the caller keeps as long as DL: a held call's legs keep theirs)
 * instead of a copy in DL's text; a CALL_ID that is NULL or not the
 * message's is copied as above. */
int sip_dialog_uas_keyed(sip_dialog *dl, const sip_t *invite, const char *local_tag, const char *call_id);
int sip_dialog_uac_keyed(sip_dialog *dl, const sip_t *request, const sip_t *response, const char *call_id);
/* REQ (a request received) belongs to DL: its Call-ID, its To tag ours,
 * its From tag theirs (none when theirs is null). */
bool sip_dialog_matches(const sip_dialog *dl, const sip_t *req);
/* A request REQ of DL's remote arrives (RFC 3261 12.2.2): 0, or 500 when
 * its CSeq is lower than one already received (out of order). ACK and
 * CANCEL carry the CSeq of their INVITE and are always 0. */
int sip_dialog_request_in(sip_dialog *dl, const sip_t *req);
/* REQ, a target refresh request in DL (a re-INVITE, a SUBSCRIBE's
 * refresh: RFC 3261 12.2.2, RFC 6665 4.1.2.2), moves DL's remote target to
 * its Contact (none: it stays): 0, or 400 (not a SIP URI, too long; DL
 * unchanged). The route set stays as the dialog was made. */
int sip_dialog_target_refresh(sip_dialog *dl, const sip_t *req);
/* The From (our address and tag) and To (theirs) of our requests in DL,
 * written into BUF (SIP_DIALOG_MAX bytes) as "NAME-ADDR;tag=TAG". The
 * record keeps each address apart from its tag: ";tag=" twice is 8 B of
 * a held call's record (docs/decisions/sip-core.md, "Held-call memory:
 * tags and Call-IDs"). */
const char *sip_dialog_from(const sip_dialog *dl, char *buf);
const char *sip_dialog_to(const sip_dialog *dl, char *buf);
/* The CSeq of our next request in DL. */
uint32_t sip_dialog_next_cseq(sip_dialog *dl);
void sip_dialog_free(sip_dialog *dl);

#endif
