/* histogram.h — a histogram with fixed buckets, for the numbers each layer
 * keeps about itself (request latencies, call setup time, loop lag, RTP
 * jitter) and the admin API exposes at GET /metrics. Observing is a few
 * comparisons and additions: no allocation, no I/O. The bucket bounds are
 * the caller's static array; counts are kept per bucket (not cumulative:
 * cr_hist_cumulative adds them up for the exposition). */
#ifndef CR_HISTOGRAM_H
#define CR_HISTOGRAM_H

#include <stddef.h>

#define CR_HIST_MAX 16          /* bounds at most; more are ignored */

typedef struct cr_histogram {
    const double *bounds;       /* upper bounds, ascending (+Inf is implied) */
    size_t n;
    unsigned long long counts[CR_HIST_MAX + 1];   /* [i]: bounds[i-1] < v <= bounds[i]; [n]: above all */
    unsigned long long count;
    double sum;
} cr_histogram;

/* Empties H and gives it the N ascending BOUNDS (static storage). */
void cr_hist_init(cr_histogram *h, const double *bounds, size_t n);
/* Counts V (NaN is ignored: it belongs in no bucket and would spoil the sum). */
void cr_hist_observe(cr_histogram *h, double v);
/* Observations <= bounds[I]; I == h->n: all of them (the +Inf bucket). */
unsigned long long cr_hist_cumulative(const cr_histogram *h, size_t i);

#endif
