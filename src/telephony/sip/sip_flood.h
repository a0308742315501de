/* sip_flood.h — per-source request limits (sip_flood.c). Pure functions,
 * apart from the driver, so they can be unit tested. */
#ifndef SIP_FLOOD_H
#define SIP_FLOOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sip_flood sip_flood;

typedef enum {
    SIP_FLOOD_OK,         /* within the limit */
    SIP_FLOOD_STARTS,     /* over it, and the previous request was not: log once */
    SIP_FLOOD_OVER,       /* still over it */
} sip_flood_verdict;

sip_flood *sip_flood_new(void);
void sip_flood_free(sip_flood *f);
/* One request from IP (network order) at NOW (seconds): within RATE per
 * second with bursts of BURST? RATE 0: no limit. */
sip_flood_verdict sip_flood_hit(sip_flood *f, uint32_t ip, double now, double rate, double burst);
/* IP's last request was over the limit (no request counted). */
bool sip_flood_is_over(const sip_flood *f, uint32_t ip);
/* The datagram is a request that counts against the limit (not a response,
 * not a request inside a dialog or transaction already begun). */
bool sip_flood_counts(const void *datagram, size_t n);

#endif
