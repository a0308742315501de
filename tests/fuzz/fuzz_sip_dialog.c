/* fuzz_sip_dialog.c — libFuzzer target for the NTA core's dialog record
 * (src/telephony/sip/sip_dialog.c): the input is two SIP messages split at
 * the first NUL byte — a request (the INVITE we answer, or the one we
 * sent) and a second message (a 2xx to it, or a request in the dialog) —
 * parsed by sofia-sip as the driver's stack parses them. Whatever they
 * hold: no crash, no leak, a dialog built or refused as a whole, its text
 * within SIP_DIALOG_MAX and free of CR/LF (it goes into headers we send),
 * and a request out of CSeq order never moving the remote CSeq back. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_extra.h>
#include <sofia-sip/sip_header.h>

#include "telephony/sip/sip_dialog.h"

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

static void check_text(const sip_dialog *dl)
{
    const char *f[] = {dl->call_id, dl->local, dl->remote, dl->local_tag, dl->remote_tag, dl->target, dl->route,
                       dl->next_hop};
    /* Every string is in the one allocation of at most SIP_DIALOG_MAX
     * bytes (the next hop may be the target: they share bytes). */
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        check(f[i] != NULL);
        check(!strpbrk(f[i], "\r\n"));
        check(f[i] >= dl->text && f[i] + strlen(f[i]) < dl->text + SIP_DIALOG_MAX);
    }
    /* From and To, each an address and its tag kept apart, fit whole. */
    char buf[SIP_DIALOG_MAX];
    check(strlen(sip_dialog_from(dl, buf)) == strlen(dl->local) + strlen(";tag=") + strlen(dl->local_tag));
    check(strlen(sip_dialog_to(dl, buf)) ==
          strlen(dl->remote) + (*dl->remote_tag ? strlen(";tag=") + strlen(dl->remote_tag) : 0));
}

static void in_dialog(sip_dialog *dl, const sip_t *req)
{
    if (!req || !req->sip_request)
        return;
    (void)sip_dialog_matches(dl, req);
    uint32_t before = dl->remote_cseq;
    int rc = sip_dialog_request_in(dl, req);
    check(rc != 0 || dl->remote_cseq >= before || (req->sip_request->rq_method == sip_method_ack ||
                                                  req->sip_request->rq_method == sip_method_cancel));
    if (rc != 0)
        check(dl->remote_cseq == before);
}

/* B as a target refresh of DL (a SUBSCRIBE's refresh, RFC 6665
 * 4.1.2.2): 0 or 400, the record as consistent as a new one, and only
 * the target (and the next hop without a route set) may move. */
static void refresh(sip_dialog *dl, const sip_t *req)
{
    if (!req)
        return;
    char keep[4][SIP_DIALOG_MAX];
    const char *was[4] = {dl->call_id, dl->route, dl->local_tag, dl->remote_tag};
    for (int i = 0; i < 4; i++)
        snprintf(keep[i], sizeof keep[i], "%s", was[i]);
    int rc = sip_dialog_target_refresh(dl, req);
    check(rc == 0 || rc == 400);
    check_text(dl);
    const char *now[4] = {dl->call_id, dl->route, dl->local_tag, dl->remote_tag};
    for (int i = 0; i < 4; i++)
        check(strcmp(keep[i], now[i]) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 65535)
        return 0;
    const uint8_t *nul = memchr(data, 0, size);
    size_t n1 = nul ? (size_t)(nul - data) : size;
    msg_t *m1 = msg_make(sip_default_mclass(), 0, (const char *)data, (isize_t)n1);
    msg_t *m2 = nul ? msg_make(sip_default_mclass(), 0, (const char *)nul + 1, (isize_t)(size - n1 - 1)) : NULL;
    const sip_t *a = m1 ? sip_object(m1) : NULL;
    const sip_t *b = m2 ? sip_object(m2) : NULL;
    sip_dialog dl = {0};   /* a failed build leaves it empty too */
    if (a && sip_dialog_uas(&dl, a, "f00d") == 0) {
        check_text(&dl);
        in_dialog(&dl, b);
        (void)sip_dialog_next_cseq(&dl);
        refresh(&dl, b);
        sip_dialog_free(&dl);
    } else {
        check(dl.text == NULL);
    }
    if (a && b && sip_dialog_uac(&dl, a, b) == 0) {
        check_text(&dl);
        in_dialog(&dl, a);
        sip_dialog_free(&dl);
    } else {
        check(dl.text == NULL);
    }
    if (m1)
        msg_destroy(m1);
    if (m2)
        msg_destroy(m2);
    return 0;
}
