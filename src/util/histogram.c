/* histogram.c — fixed-bucket histograms (histogram.h). */
#include "util/histogram.h"

#include <math.h>
#include <string.h>

void cr_hist_init(cr_histogram *h, const double *bounds, size_t n)
{
    memset(h, 0, sizeof *h);
    h->bounds = bounds;
    h->n = n < CR_HIST_MAX ? n : CR_HIST_MAX;
}

void cr_hist_observe(cr_histogram *h, double v)
{
    if (isnan(v))
        return;
    size_t i = 0;
    while (i < h->n && v > h->bounds[i])
        i++;
    h->counts[i]++;
    h->count++;
    h->sum += v;
}

unsigned long long cr_hist_cumulative(const cr_histogram *h, size_t i)
{
    if (i >= h->n)
        return h->count;
    unsigned long long c = 0;
    for (size_t k = 0; k <= i; k++)
        c += h->counts[k];
    return c;
}
