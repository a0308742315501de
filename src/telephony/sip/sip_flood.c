/* sip_flood.c — how many requests each source address may send (a token
 * bucket per IPv4 address, like Kamailio's pike), in a table of fixed size:
 * a flood from spoofed addresses cannot make it grow. When the table is
 * full, the source seen longest ago gives up its slot. Pure: time is an
 * argument, nothing here does I/O. */
#include <stdlib.h>
#include <string.h>

#include "telephony/sip/sip_flood.h"
#include "util/alloc.h"

#define SLOTS 8192        /* a power of two */
#define PROBE 8           /* slots looked at per address */

typedef struct slot {
    uint32_t ip;          /* network order; 0: free */
    bool over;            /* the last request was over the limit */
    double tokens, at;    /* bucket content at time AT */
} slot;

struct sip_flood {
    slot slots[SLOTS];
};

sip_flood *sip_flood_new(void) { return cr_xcalloc(1, sizeof(sip_flood)); }
void sip_flood_free(sip_flood *f) { free(f); }

static uint32_t hash(uint32_t ip)
{
    ip ^= ip >> 16;
    ip *= 0x7feb352dU;
    ip ^= ip >> 15;
    ip *= 0x846ca68bU;
    return ip ^ (ip >> 16);
}

static slot *find(sip_flood *f, uint32_t ip, bool make)
{
    uint32_t h = hash(ip);
    slot *victim = NULL;
    for (unsigned i = 0; i < PROBE; i++) {
        slot *s = &f->slots[(h + i) & (SLOTS - 1)];
        if (s->ip == ip)
            return s;
        if (!victim || (victim->ip && (!s->ip || s->at < victim->at)))
            victim = s;
    }
    if (!make)
        return NULL;
    memset(victim, 0, sizeof *victim);
    victim->ip = ip;
    return victim;
}

sip_flood_verdict sip_flood_hit(sip_flood *f, uint32_t ip, double now, double rate, double burst)
{
    if (!f || rate <= 0 || ip == 0)
        return SIP_FLOOD_OK;
    if (burst < 1)
        burst = 1;
    slot *s = find(f, ip, true);
    if (s->at == 0)
        s->tokens = burst;
    else if (now > s->at)
        s->tokens += (now - s->at) * rate;
    if (s->tokens > burst)
        s->tokens = burst;
    s->at = now;
    bool was_over = s->over;
    s->over = s->tokens < 1;
    if (s->over)
        return was_over ? SIP_FLOOD_OVER : SIP_FLOOD_STARTS;
    s->tokens -= 1;
    return SIP_FLOOD_OK;
}

bool sip_flood_is_over(const sip_flood *f, uint32_t ip)
{
    const slot *s = f ? find((sip_flood *)f, ip, false) : NULL;
    return s && s->over;
}

/* Requests that start something (INVITE, REGISTER, OPTIONS, MESSAGE: an
 * instant message runs a route); what belongs to a dialog or transaction
 * already begun (ACK, BYE, CANCEL, in-dialog updates) and responses pass. */
bool sip_flood_counts(const void *datagram, size_t n)
{
    static const char *const exempt[] = {"ACK ", "BYE ", "CANCEL ", "INFO ", "UPDATE ", "PRACK ",
                                         "NOTIFY ", "REFER ", "SIP/", NULL};
    const char *p = datagram;
    for (size_t i = 0; exempt[i]; i++) {
        size_t len = strlen(exempt[i]);
        if (n >= len && memcmp(p, exempt[i], len) == 0)
            return false;
    }
    /* keep-alives (CRLF, a few bytes) are not requests either */
    return n > 4;
}
