/* sip_source.h — the caller's own address as the cluster's front end
 * (Kamailio) passes it on: "X-Callroute-Source: IP:PORT" (docs/cluster.md).
 * Parsing only (pure, unit tested); the driver believes the header only on
 * a request that came from settings.cluster.proxy. */
#ifndef SIP_SOURCE_H
#define SIP_SOURCE_H

#include <netinet/in.h>
#include <stdbool.h>

#define SIP_SOURCE_HEADER "X-Callroute-Source"

/* "IPV4:PORT" (dotted quad, port 1..65535, nothing else but surrounding
 * blanks) into OUT; false for anything else. */
bool sip_source_parse(const char *s, struct sockaddr_in *out);
/* "HOST:PORT" of settings.cluster.proxy (checked at load) into OUT. */
bool sip_source_proxy(const char *s, struct sockaddr_in *out);

#endif
