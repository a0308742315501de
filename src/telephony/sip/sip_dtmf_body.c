/* sip_dtmf_body.c — the digit of a SIP INFO body (see sip_dtmf_body.h).
 * sip_in.c acts on it; tests/fuzz/fuzz_dtmf_body.c runs it on anything. */
#include "telephony/sip/sip_dtmf_body.h"

#include <string.h>
#include <strings.h>

/* One DTMF event as phones write it (P: N bytes): the character ("5", "*",
 * "#", "A"-"D" in any case) or its RFC 4733 event number ("10" is *, "11"
 * #, "12"-"15" A-D), as Asterisk and FreeSWITCH read both. 16 (flash) and
 * anything else: no digit. */
static char event_digit(const char *p, size_t n)
{
    if (n == 0)
        return 0;
    char c = p[0];
    if (c >= 'a' && c <= 'd')
        c = (char)(c - 'a' + 'A');
    if (c == '*' || c == '#' || (c >= 'A' && c <= 'D'))
        return c;
    unsigned v = 0;
    size_t i = 0;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        if (i == 2)
            return 0;   /* three digits or more: no event */
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    if (i == 0)
        return 0;
    if (v <= 9)
        return (char)('0' + v);
    if (v == 10)
        return '*';
    if (v == 11)
        return '#';
    return v <= 15 ? (char)('A' + (v - 12)) : 0;
}

static size_t skip_blanks(const char *body, size_t i, size_t len, const char *blanks)
{
    while (i < len && body[i] && strchr(blanks, body[i]))
        i++;
    return i;
}

char sip_dtmf_body_digit(const char *content_type, const char *body, size_t len)
{
    if (!content_type || !body)
        return 0;
    if (strcasecmp(content_type, "application/dtmf-relay") == 0) {
        /* "Signal=5\r\nDuration=160\r\n"; spaces after '=' (VegaStream) */
        for (size_t i = 0; i + 7 < len; i++) {
            if (strncasecmp(body + i, "signal=", 7) == 0) {
                size_t j = skip_blanks(body, i + 7, len, " \t");
                return event_digit(body + j, len - j);
            }
        }
    } else if (strcasecmp(content_type, "application/dtmf") == 0) {
        /* the event alone: "5", "#", "11" */
        size_t j = skip_blanks(body, 0, len, " \t\r\n");
        return event_digit(body + j, len - j);
    }
    return 0;
}
