/* sip_numeric_ai.c — the one-entry answer of getaddrinfo() for a numeric
 * host and port. sofia resolves the destination of every message it sends
 * (tport_resolve: six a call, each a numeric address from a Via or a
 * Contact) through libc's getaddrinfo, ~1,100 instructions each for what
 * inet_pton answers in ~100 (it also walks the resolver's configuration
 * and locks). The answer is built exactly as glibc's: one allocation
 * holding the entry and its address, so freeaddrinfo() (free of the entry
 * and of its NULL ai_canonname) releases it. test_sip_numeric_ai compares
 * it with libc's over many inputs. */
#include "telephony/sip/sip_numeric_ai.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "util/alloc.h"

/* SERVICE as a port: NULL is 0; otherwise 1 to 5 decimal digits up to
 * 65535 (glibc reads more — signs, spaces, wrap-around — that libc keeps). */
static int port_of(const char *service, in_port_t *port)
{
    if (!service) {
        *port = 0;
        return 0;
    }
    unsigned long n = 0;
    size_t i = 0;
    for (; service[i]; i++) {
        if (i == 5 || service[i] < '0' || service[i] > '9')
            return -1;
        n = n * 10 + (unsigned long)(service[i] - '0');
    }
    if (i == 0 || n > 65535)
        return -1;
    *port = htons((in_port_t)n);
    return 0;
}

/* The protocol glibc reports for SOCKTYPE and the asked PROTOCOL, or 0
 * when it is not a pair handled here. */
static int protocol_of(int socktype, int protocol)
{
    if (socktype == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP))
        return IPPROTO_UDP;
    if (socktype == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP))
        return IPPROTO_TCP;
    return 0;
}

int sip_numeric_addrinfo(const char *node, const char *service, const struct addrinfo *hints,
                         struct addrinfo **res)
{
    if (!node || !hints || (hints->ai_flags & ~(AI_NUMERICHOST | AI_NUMERICSERV)))
        return -1;
    int protocol = protocol_of(hints->ai_socktype, hints->ai_protocol);
    in_port_t port;
    if (!protocol || port_of(service, &port) < 0)
        return -1;
    struct in_addr v4;
    struct in6_addr v6;
    int family;
    if ((hints->ai_family == AF_UNSPEC || hints->ai_family == AF_INET) && inet_pton(AF_INET, node, &v4) == 1)
        family = AF_INET;
    else if ((hints->ai_family == AF_UNSPEC || hints->ai_family == AF_INET6) && inet_pton(AF_INET6, node, &v6) == 1)
        family = AF_INET6;
    else
        return -1;
    socklen_t addrlen = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    /* glibc's layout: the entry, then its address, in one block */
    struct addrinfo *ai = cr_xcalloc(1, sizeof *ai + addrlen);
    ai->ai_flags = hints->ai_flags;
    ai->ai_family = family;
    ai->ai_socktype = hints->ai_socktype;
    ai->ai_protocol = protocol;
    ai->ai_addrlen = addrlen;
    ai->ai_addr = (struct sockaddr *)(ai + 1);
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ai->ai_addr;
        sin->sin_family = AF_INET;
        sin->sin_port = port;
        sin->sin_addr = v4;
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ai->ai_addr;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = port;
        sin6->sin6_addr = v6;
    }
    *res = ai;
    return 0;
}

const char *sip_ntop4(const void *src, char *dst, socklen_t size)
{
    const unsigned char *a = src;
    char text[sizeof "255.255.255.255"];
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        unsigned v = a[i];
        if (i)
            text[n++] = '.';
        if (v >= 100)
            text[n++] = (char)('0' + v / 100);
        if (v >= 10)
            text[n++] = (char)('0' + v / 10 % 10);
        text[n++] = (char)('0' + v % 10);
    }
    text[n] = '\0';
    if (n >= size) {
        errno = ENOSPC;
        return NULL;
    }
    return memcpy(dst, text, n + 1);
}
