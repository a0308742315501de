/* rtp_ports.h — which RTP port a new session binds: a pure set of the free
 * ports of settings.media.rtp_ports (docs/decisions/rtp-ports.md). No
 * sockets here: sip_rtp.c binds what it is given and hands back what it
 * closes. One port per session (we neither read nor send RTCP): even ports
 * for peers that may send RTCP to port+1 (RFC 3550 11: RTP on an even
 * port), odd ones first for peers that multiplex RTCP (RFC 5761), and
 * either parity once the wanted one is used up. A take is O(1), uniformly
 * random among the free ports of its parity: no scan that grows with the
 * sessions held, and exhaustion is exact (free count 0), not a guess after
 * a number of misses. */
#ifndef RTP_PORTS_H
#define RTP_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rtp_ports rtp_ports;

/* Every port of LO-HI (1 <= LO <= HI <= 65535), all free; NULL otherwise. */
rtp_ports *rtp_ports_new(int lo, int hi);
void rtp_ports_free(rtp_ports *p);
size_t rtp_ports_total(const rtp_ports *p);
/* Free ports: all, and the even ones among them. */
size_t rtp_ports_available(const rtp_ports *p);
size_t rtp_ports_available_even(const rtp_ports *p);
/* Takes a free port chosen with RANDOM (any 64-bit random number): an even
 * one when EVEN and one is free, an odd one when !EVEN and one is free,
 * else one of the other parity; -1 when none is free. */
int rtp_ports_take(rtp_ports *p, bool even, uint64_t random);
/* PORT is free again (a port outside the range or already free: no-op). */
void rtp_ports_put(rtp_ports *p, int port);
bool rtp_ports_is_free(const rtp_ports *p, int port);

#endif
