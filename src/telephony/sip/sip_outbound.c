/* sip_outbound.c — a REGISTER Contact's RFC 5626 parameters, validated:
 * they come from the network and are written back into our 200 OK and
 * our log, so only a plain URN and a small number get through. */
#include <string.h>

#include "telephony/sip/sip_outbound.h"

static bool urn_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr(":.-_+%", c);
}

bool sip_outbound_parse(const char *instance, const char *reg_id, sip_outbound_id *id)
{
    if (!instance || !reg_id)
        return false;
    /* "+sip.instance" value: DQUOTE "<" URN ">" DQUOTE */
    size_t len = strlen(instance);
    if (len < 5 || instance[0] != '"' || instance[1] != '<' || instance[len - 2] != '>' ||
        instance[len - 1] != '"')
        return false;
    size_t urn = len - 4;
    if (urn >= sizeof id->instance)
        return false;
    for (size_t i = 0; i < urn; i++)
        if (!urn_char(instance[2 + i]))
            return false;
    /* reg-id = 1*DIGIT, not 0 (RFC 5626 section 4.2), at most 2^31-1 */
    unsigned long v = 0;
    size_t digits = strspn(reg_id, "0123456789");
    if (digits == 0 || digits > 10 || reg_id[digits] != '\0')
        return false;
    for (size_t i = 0; i < digits; i++)
        v = v * 10 + (unsigned long)(reg_id[i] - '0');
    if (v == 0 || v > 0x7fffffffUL)
        return false;
    memcpy(id->instance, instance + 2, urn);
    id->instance[urn] = '\0';
    id->reg_id = (unsigned)v;
    return true;
}
