/* fuzz_sip_peek.c — libFuzzer target for the first look at every UDP
 * datagram the SIP port receives (src/telephony/sip/sip_peek.c): whatever
 * the bytes, the answer is in range (a method of the list, a code from
 * 100 to 699) and nothing past the datagram is read (it is copied to a
 * buffer of exactly its size). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "telephony/sip/sip_peek.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    sip_peek_method m = SIP_PM_COUNT;
    int code = 0;
    switch (sip_peek(buf, size, &m, &code)) {
    case SIP_PEEK_REQUEST:
        if ((int)m < 0 || m >= SIP_PM_COUNT)
            abort();
        break;
    case SIP_PEEK_RESPONSE:
        if (code < SIP_PEEK_CODE_MIN || code > SIP_PEEK_CODE_MAX || size < 11)
            abort();
        break;
    case SIP_PEEK_NOTHING:
        break;
    }
    free(buf);
    return 0;
}
