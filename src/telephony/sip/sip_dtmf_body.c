/* sip_dtmf_body.c — the digit of a SIP INFO body (see sip_dtmf_body.h).
 * sip_in.c acts on it; tests/fuzz/fuzz_dtmf_body.c runs it on anything. */
#include "telephony/sip/sip_dtmf_body.h"

#include <string.h>
#include <strings.h>

char sip_dtmf_body_digit(const char *content_type, const char *body, size_t len)
{
    if (!content_type || !body)
        return 0;
    char digit = 0;
    if (strcasecmp(content_type, "application/dtmf-relay") == 0) {
        /* "Signal=5\r\nDuration=160\r\n" */
        for (size_t i = 0; i + 7 < len; i++) {
            if (strncasecmp(body + i, "signal=", 7) == 0) {
                size_t j = i + 7;
                while (j < len && body[j] == ' ')
                    j++;
                if (j < len)
                    digit = body[j];
                break;
            }
        }
    } else if (strcasecmp(content_type, "application/dtmf") == 0) {
        for (size_t i = 0; i < len && !digit; i++)
            if (body[i] != ' ' && body[i] != '\r' && body[i] != '\n')
                digit = body[i];
    }
    if (digit >= 'a' && digit <= 'd')
        digit = (char)(digit - 'a' + 'A');
    return digit && strchr("0123456789*#ABCD", digit) ? digit : 0;
}
