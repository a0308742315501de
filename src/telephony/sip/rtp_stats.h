/* rtp_stats.h — receive statistics of one RTP stream as RFC 3550 keeps
 * them: packets expected from the extended highest sequence number (A.1,
 * with its rules for wrap-around, misordering and a source that restarts)
 * and the interarrival jitter estimate (A.8). Pure functions on a small
 * struct (no allocation, no clock: the caller passes the arrival time), so
 * the per-packet cost is a few comparisons; sip_rtp.c keeps one per session
 * and adds each stream to the totals GET /metrics shows when it ends.
 * Tested in tests/unit/test_rtp_stats.c. */
#ifndef RTP_STATS_H
#define RTP_STATS_H

#include <stdbool.h>
#include <stdint.h>

/* Widest fields first: no padding (48 B, not 56: it is part of every RTP
 * session, docs/decisions/sip-core.md "Held-call memory (nta)"). */
typedef struct rtp_rx_stats {
    uint64_t received;         /* packets counted (duplicates too, as RFC 3550 does) */
    uint64_t timed;            /* packets given to rtp_rx_timing */
    double jitter;             /* clock units */
    uint32_t ssrc;
    uint32_t cycles;           /* wraps of the sequence number, shifted by 16 */
    uint32_t base_seq;         /* the first one */
    uint32_t bad_seq;          /* after a large jump: the one that would confirm a restart */
    uint32_t transit;          /* arrival - RTP timestamp of the previous packet, clock units */
    uint16_t max_seq;          /* highest sequence number seen */
    bool started;
} rtp_rx_stats;

typedef enum {
    RTP_RX_COUNTED,            /* the packet is part of the stream */
    RTP_RX_IGNORED,            /* a large jump not confirmed (yet): not counted */
    /* Another SSRC, or a jump the next packet confirmed (the source
     * restarted): the stream so far is over. Take what it says, then
     * rtp_rx_reset and give the packet again: it starts the next. */
    RTP_RX_NEW_STREAM,
} rtp_rx_result;

void rtp_rx_reset(rtp_rx_stats *s);
/* A packet of SSRC with sequence number SEQ arrived. */
rtp_rx_result rtp_rx_packet(rtp_rx_stats *s, uint32_t ssrc, uint16_t seq);
/* Its RTP timestamp TS and its arrival ARRIVAL, both in units of the
 * payload's clock (8000 Hz for G.711), for the jitter estimate. Only for
 * packets whose timestamps advance with the audio (not telephone-events). */
void rtp_rx_timing(rtp_rx_stats *s, uint32_t ts, uint32_t arrival);

/* Packets expected (highest extended sequence number - first + 1), 0 for
 * a stream that has not started. */
uint64_t rtp_rx_expected(const rtp_rx_stats *s);
/* Expected - received, never below 0 (duplicates cannot undo a loss). */
uint64_t rtp_rx_lost(const rtp_rx_stats *s);
/* The jitter estimate in seconds for CLOCK_RATE (Hz); -1 when fewer than
 * two packets were timed. */
double rtp_rx_jitter_seconds(const rtp_rx_stats *s, unsigned clock_rate);

#endif
