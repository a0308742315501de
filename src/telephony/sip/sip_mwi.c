/* sip_mwi.c — message waiting (RFC 3842 over RFC 6665 events): a user's
 * phone SUBSCRIBEs to message-summary for its own voicemail box (digest
 * authenticated as for REGISTER: a box's counts are its owner's business);
 * the subscription is accepted, NOTIFY tells the counts at once and again
 * whenever the engine says they changed (tel.h mwi). A user with
 * `voicemail: {unsolicited: true}` gets NOTIFY out of any subscription at
 * each of its registered contacts while none of its phones subscribed.
 * Here: the decisions; sip_nta_mwi.c keeps the subscriptions' dialogs,
 * refreshes and expiry, and sends the NOTIFYs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "telephony/sip/sip_int.h"
#include "telephony/sip/sip_mwi.h"

void sip_mwi_summary(sip_driver *d, const char *user, unsigned n, unsigned o, char *buf, size_t size)
{
    snprintf(buf, size, "Messages-Waiting: %s\r\nMessage-Account: sip:%s@%s\r\nVoice-Message: %u/%u\r\n",
             n ? "yes" : "no", user, d->sip_host, n, o);
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
