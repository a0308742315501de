/* sip_nta_uas.c — what a UAS checks of every request before acting on it
 * (RFC 3261 8.2.2), which NUA did (nua_stack_process_request) while
 * it was a core and the agent's request callback does itself: a
 * Request-URI scheme we do not handle is refused 416 (8.2.2.1: sip, sips,
 * tel, im and pres pass, as under NUA), a Require naming an extension we
 * do not support 420 with Unsupported listing it (8.2.2.3; we support
 * `timer`, RFC 4028). ACK and CANCEL are never refused for either. */
#define NTA_AGENT_MAGIC_T struct sip_driver
#define NTA_LEG_MAGIC_T struct sip_driver
#define NTA_INCOMING_MAGIC_T struct tel_leg
#define NTA_OUTGOING_MAGIC_T struct tel_leg

#include "telephony/sip/sip_int.h"
#include "telephony/sip/sip_nta_int.h"

#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>

/* The option tags the nta core supports (our Supported). */
#define NTA_SUPPORTED "timer"

int sip_nta_uas_check(nta_incoming_t *irq, const sip_t *sip)
{
    sip_method_t m = sip->sip_request->rq_method;
    if (m == sip_method_ack || m == sip_method_cancel)
        return 0;
    switch (sip->sip_request->rq_url->url_type) {
    case url_sip:
    case url_sips:
    case url_tel:
    case url_im:
    case url_pres:
        break;
    default:
        nta_incoming_treply(irq, 416, sip_status_phrase(416), TAG_END());
        return SIP_NTA_ANSWERED;
    }
    if (!sip->sip_require)
        return 0;
    su_home_t home[1] = {SU_HOME_INIT(home)};
    sip_supported_t *ours = sip_supported_make(home, NTA_SUPPORTED);
    /* answers 420 with Unsupported itself when an option is not ours */
    int rc = ours ? nta_check_required(irq, sip, ours, TAG_END()) : 500;
    su_home_deinit(home);
    return rc ? SIP_NTA_ANSWERED : 0;
}
