/* rtp_ports.c — the free ports of the RTP range (rtp_ports.h). Each parity
 * is a dense array of its free ports plus, per port, its index in that
 * array: a take picks a random index and moves the last free port into the
 * hole, a put appends; both O(1). 4 bytes per port of the range. */
#include "telephony/sip/rtp_ports.h"

#include <stdlib.h>

#include "util/alloc.h"

#define TAKEN 0xFFFFu   /* index of a port that is not free (sets hold <= 32768) */

typedef struct port_set {
    uint16_t *free;     /* the set's free ports, in no order */
    size_t n;
} port_set;

struct rtp_ports {
    int lo, hi;
    port_set set[2];    /* [0] even ports, [1] odd ports */
    uint16_t *index;    /* per port (port - lo): its place in its set's array, or TAKEN */
};

rtp_ports *rtp_ports_new(int lo, int hi)
{
    if (lo < 1 || hi > 65535 || hi < lo)
        return NULL;
    rtp_ports *p = cr_xcalloc(1, sizeof *p);
    p->lo = lo;
    p->hi = hi;
    size_t total = (size_t)(hi - lo + 1);
    p->index = cr_xcalloc(total, sizeof *p->index);
    for (int k = 0; k < 2; k++)
        p->set[k].free = cr_xcalloc(total / 2 + 1, sizeof *p->set[k].free);
    for (int port = lo; port <= hi; port++) {
        port_set *s = &p->set[port & 1];
        p->index[port - lo] = (uint16_t)s->n;
        s->free[s->n++] = (uint16_t)port;
    }
    return p;
}

void rtp_ports_free(rtp_ports *p)
{
    if (!p)
        return;
    free(p->set[0].free);
    free(p->set[1].free);
    free(p->index);
    free(p);
}

size_t rtp_ports_total(const rtp_ports *p) { return (size_t)(p->hi - p->lo + 1); }
size_t rtp_ports_available(const rtp_ports *p) { return p->set[0].n + p->set[1].n; }
size_t rtp_ports_available_even(const rtp_ports *p) { return p->set[0].n; }

bool rtp_ports_is_free(const rtp_ports *p, int port)
{
    return port >= p->lo && port <= p->hi && p->index[port - p->lo] != TAKEN;
}

int rtp_ports_take(rtp_ports *p, bool even, uint64_t random)
{
    port_set *s = &p->set[even ? 0 : 1];
    if (s->n == 0)
        s = &p->set[even ? 1 : 0];
    if (s->n == 0)
        return -1;
    /* The high bits: xorshift-style generators are weakest in the low ones. */
    size_t i = (size_t)((random >> 32) % s->n);
    int port = s->free[i];
    uint16_t last = s->free[--s->n];
    s->free[i] = last;
    p->index[last - p->lo] = (uint16_t)i;
    p->index[port - p->lo] = TAKEN;
    return port;
}

void rtp_ports_put(rtp_ports *p, int port)
{
    if (port < p->lo || port > p->hi || p->index[port - p->lo] != TAKEN)
        return;
    port_set *s = &p->set[port & 1];
    p->index[port - p->lo] = (uint16_t)s->n;
    s->free[s->n++] = (uint16_t)port;
}
