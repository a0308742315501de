/* prom.h — the Prometheus text exposition format (version 0.0.4), written
 * by hand as Kamailio's xhttp_prom does (Debian has no C client library):
 * a family's HELP and TYPE lines, samples with labels, histograms as their
 * _bucket/_sum/_count series. Pure functions on a buffer, unit tested
 * (tests/unit/test_prom.c); admin/metrics.c decides what is exposed.
 *
 * Label values may come from the scenario file (route, gateway names):
 * they are escaped as the format says (backslash, double quote, line feed)
 * and bytes that are not UTF-8 become U+FFFD, so any text gives a valid
 * exposition. Metric and label names are the caller's constants. */
#ifndef ADMIN_PROM_H
#define ADMIN_PROM_H

#include <stddef.h>

#include "util/histogram.h"
#include "util/strbuf.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

typedef struct prom_label {
    const char *name, *value;
} prom_label;

/* "# HELP NAME HELP" and "# TYPE NAME TYPE" (counter, gauge, histogram). */
void prom_family(cr_strbuf *b, const char *name, const char *type, const char *help);
/* "NAME{l1="v1",...} VALUE" (no braces without labels). */
void prom_sample(cr_strbuf *b, const char *name, const prom_label *labels, size_t nlabels, double value);
/* NAME_bucket{...,le="B"} for each bound and +Inf (cumulative), NAME_sum,
 * NAME_count. */
void prom_histogram(cr_strbuf *b, const char *name, const prom_label *labels, size_t nlabels,
                    const cr_histogram *h);

/* The pieces, for tests: a label value between its quotes; HELP text; a
 * number (integers as integers, NaN, +Inf, -Inf, else the shortest of
 * %.15g / %.17g that reads back the same). */
void prom_escape_label(cr_strbuf *b, const char *s);
void prom_escape_help(cr_strbuf *b, const char *s);
void prom_value(cr_strbuf *b, double v);

#endif
