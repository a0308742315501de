/* sip_source.c — X-Callroute-Source values (sip_source.h). */
#include "telephony/sip/sip_source.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static bool blank(char c) { return c == ' ' || c == '\t'; }

bool sip_source_parse(const char *s, struct sockaddr_in *out)
{
    if (!s)
        return false;
    while (blank(*s))
        s++;
    size_t n = strlen(s);
    while (n && blank(s[n - 1]))
        n--;
    const char *colon = memchr(s, ':', n);
    if (!colon || colon == s || (size_t)(colon - s) >= INET_ADDRSTRLEN)
        return false;
    char ip[INET_ADDRSTRLEN];
    memcpy(ip, s, (size_t)(colon - s));
    ip[colon - s] = '\0';
    const char *p = colon + 1, *end = s + n;
    if (p == end || end - p > 5)
        return false;
    unsigned port = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return false;
        port = port * 10 + (unsigned)(*p - '0');
    }
    struct in_addr a;
    if (port < 1 || port > 65535 || inet_pton(AF_INET, ip, &a) != 1)
        return false;
    memset(out, 0, sizeof *out);
    out->sin_family = AF_INET;
    out->sin_addr = a;
    out->sin_port = htons((uint16_t)port);
    return true;
}

bool sip_source_proxy(const char *s, struct sockaddr_in *out) { return sip_source_parse(s, out); }
