/* sip_peek.c — a datagram's kind from its first line (sip_peek.h). */
#include "telephony/sip/sip_peek.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

const char *const sip_peek_method_names[SIP_PM_COUNT] = {
#define SIP_PM_NAME(m) #m,
    SIP_PEEK_METHODS(SIP_PM_NAME)
#undef SIP_PM_NAME
    "other",
};

static bool digit(char c) { return c >= '0' && c <= '9'; }

sip_peek_kind sip_peek(const void *data, size_t n, sip_peek_method *method, int *code)
{
    const char *p = data;
    size_t blank = 0;
    while (blank < n && (p[blank] == '\r' || p[blank] == '\n' || p[blank] == ' ' || p[blank] == '\t'))
        blank++;
    if (blank == n)
        return SIP_PEEK_NOTHING;
    /* "SIP/2.0 200 OK": the version, a space, three digits, a space (or the
     * end of the line: the reason phrase may be empty). */
    if (n >= 11 && strncasecmp(p, "SIP/2.0 ", 8) == 0 && digit(p[8]) && digit(p[9]) && digit(p[10]) &&
        (n == 11 || p[11] == ' ' || p[11] == '\r' || p[11] == '\n')) {
        int c = (p[8] - '0') * 100 + (p[9] - '0') * 10 + (p[10] - '0');
        if (c >= SIP_PEEK_CODE_MIN && c <= SIP_PEEK_CODE_MAX) {
            *code = c;
            return SIP_PEEK_RESPONSE;
        }
    }
    *method = SIP_PM_OTHER;
    for (int m = 0; m < SIP_PM_OTHER; m++) {
        size_t len = strlen(sip_peek_method_names[m]);
        if (n > len && memcmp(p, sip_peek_method_names[m], len) == 0 && p[len] == ' ') {
            *method = (sip_peek_method)m;
            break;
        }
    }
    return SIP_PEEK_REQUEST;
}
