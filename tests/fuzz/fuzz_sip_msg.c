/* fuzz_sip_msg.c — libFuzzer target for SIP messages as callroute handles
 * them: one datagram parsed by sofia-sip as the driver's stack parses it
 * (msg_make on the default mclass with the extra headers, canonic URLs),
 * then for a request what src/telephony/sip/sip_in_parse.c takes from it
 * (the sip.header.* list, caller, display name, callee, whether the body
 * can be used) and the body handed to the SDP and DTMF parsers. The stack
 * refuses some of these messages before callroute sees them; the parsers
 * here must not care. Whatever the input: no crash, no leak, the header
 * list stays inside its buffer, and no value callroute passes on holds CR
 * or LF (a scenario may put it in a header, a log line or an e-mail). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_extra.h>

#include "telephony/sip/sip_dtmf_body.h"
#include "telephony/sip/sip_in_parse.h"
#include "telephony/sip/sip_int.h"

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    sip_update_default_mclass(sip_extend_mclass(NULL));   /* as sip_driver.c does */
    return 0;
}

static void parties(const sip_t *sip, bool trust)
{
    sip_in_parties p;
    sip_in_parties_get(sip, trust, &p);
    check(p.caller && p.callee);
    check(!strpbrk(p.caller, "\r\n") && !strpbrk(p.callee, "\r\n"));
    check(!p.caller_name || !strpbrk(p.caller_name, "\r\n"));
    sip_in_parties_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 65535)   /* one UDP datagram */
        return 0;
    msg_t *msg = msg_make(sip_default_mclass(), MSG_DO_CANONIC, data, (ssize_t)size);
    if (!msg)
        return 0;
    const sip_t *sip = sip_object(msg);
    if (sip && sip->sip_request) {
        static sip_in_headers h;
        sip_in_collect_headers(sip, NULL, NULL, &h);
        check(h.count <= SIP_IN_MAX_HEADERS);
        for (size_t i = 0; i < h.count; i++) {
            check(h.names[i] && h.names[i][0]);
            check(h.values[i] >= h.buf && h.values[i] + strlen(h.values[i]) < h.buf + sizeof h.buf);
            check(!strpbrk(h.values[i], "\r\n"));
        }
        parties(sip, false);
        parties(sip, true);
        int unusable = sip_in_body_check(sip);
        check(unusable == 0 || unusable == 415 || unusable == 406);

        const sip_payload_t *pl = sip->sip_payload;
        const char *type = sip->sip_content_type ? sip->sip_content_type->c_type : NULL;
        if (pl && pl->pl_len) {
            sip_media_desc m;
            char err[128];
            if (sip_sdp_parse(pl->pl_data, pl->pl_len, &m, err, sizeof err) == 0)
                check(m.npt > 0 && m.addr.sin_port != 0);
            if (type) {
                char d = sip_dtmf_body_digit(type, pl->pl_data, pl->pl_len);
                check(!d || strchr("0123456789*#ABCD", d));
            }
        }
    }
    msg_destroy(msg);
    return 0;
}
