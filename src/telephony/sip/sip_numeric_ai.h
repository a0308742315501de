/* sip_numeric_ai.h — getaddrinfo() for a numeric address, without libc's
 * resolver machinery (sip_guard.c; docs/decisions/sip-core.md, "CPU per
 * call, cut again"). */
#ifndef SIP_NUMERIC_AI_H
#define SIP_NUMERIC_AI_H

#include <netdb.h>
#include <sys/socket.h>

/* The answer glibc's getaddrinfo(NODE, SERVICE, HINTS, RES) gives when NODE
 * is an IPv4 or IPv6 literal, SERVICE a port number (or NULL), and HINTS
 * asks for one UDP or TCP socket type: 0 and *RES set to one entry that
 * libc's freeaddrinfo() frees (one allocation, ai_canonname NULL). -1 for
 * anything else (a name, a service name, other flags or socket types):
 * then ask libc, which answers those. */
int sip_numeric_addrinfo(const char *node, const char *service, const struct addrinfo *hints,
                         struct addrinfo **res);

/* inet_ntop(AF_INET, SRC, DST, SIZE) as glibc answers it: the dotted quad
 * ("%u.%u.%u.%u") copied to DST when it fits with its NUL, DST returned;
 * otherwise NULL with errno ENOSPC and DST untouched. sofia prints the
 * source of every datagram it receives this way (tport_deliver,
 * tport_hostport: nine a call), and glibc's goes through sprintf (~1,700
 * instructions; this, ~100). */
const char *sip_ntop4(const void *src, char *dst, socklen_t size);

#endif
