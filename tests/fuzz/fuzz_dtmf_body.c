/* fuzz_dtmf_body.c — libFuzzer target for SIP INFO DTMF bodies
 * (src/telephony/sip/sip_dtmf_body.c). The first input byte picks the
 * Content-Type, the rest is the body, passed with its length and no NUL
 * after it (as sofia hands a payload over: ASan sees any read past it).
 * Whatever the body: a DTMF digit or none, and none for other types. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "telephony/sip/sip_dtmf_body.h"

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const types[] = {"application/dtmf-relay", "application/dtmf",
                                        "Application/DTMF-Relay", "application/sdp", "text/plain"};
    if (size == 0)
        return 0;
    const char *type = types[data[0] % (sizeof types / sizeof types[0])];
    size_t len = size - 1;
    char *body = malloc(len ? len : 1);   /* exactly the body: no terminator to lean on */
    if (!body)
        return 0;
    memcpy(body, data + 1, len);
    char d = sip_dtmf_body_digit(type, body, len);
    check(!d || strchr("0123456789*#ABCD", d));
    if (data[0] % 5 >= 3)
        check(d == 0);
    free(body);
    return 0;
}
