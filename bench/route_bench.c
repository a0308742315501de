/* route_bench.c — route selection time per call with the index, side by
 * side with a plain linear scan (every route's conditions evaluated in
 * priority order until one holds: FreeSWITCH's XML dialplan walks its
 * extensions the same way), at 10, 1,000, 10,000 and 100,000 routes.
 *
 * The tables are a realistic mix (see gen_table): DIDs by exact number,
 * VIP caller lists, area-code prefixes, dial patterns, anchored regexes,
 * office hours per DID, and a few unindexable routes (night schedules,
 * unanchored regexes, expressions) as low-priority fallbacks. Calls hit
 * each kind and sometimes nothing. Both selections must pick the same route
 * for every call, or the benchmark fails.
 *
 * Output: one JSON line per size,
 *   {"bench":"route","routes":N,"index_ns":..,"linear_ns":..,"ratio":linear/index,...}
 * Usage: route_bench [--quick] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apps/registry.h"
#include "route/route.h"
#include "scenario/diag.h"

#define NCALLS 4096

static uint64_t rng = 88172645463325252ull;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

/* CPU time of this thread: the machine is shared, and time other
 * processes take must not count. */
static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

enum { K_DID, K_VIP, K_PREFIX, K_PATTERN, K_REGEX, K_OFFICE, K_FALLBACK };

/* Route i; the kinds by share: 35% DIDs by exact number, 10% VIP caller
 * lists, 15% area-code prefixes, 15% dial patterns, 12% anchored regexes,
 * 13% office hours on a DID. Priorities spread over 10..99 so ranks
 * interleave. Every 100th route among the first 3,000 (at most 30) is a
 * fallback the index cannot narrow (an unanchored regex with a schedule or
 * an expression), at low priority, as fallbacks are; the last route is a
 * catch-all. Returns the kind. */
static int gen_route(cr_strbuf *y, unsigned i, unsigned n)
{
    unsigned k = rnd(100);
    int kind = k < 35 ? K_DID : k < 45 ? K_VIP : k < 60 ? K_PREFIX : k < 75 ? K_PATTERN
             : k < 87 ? K_REGEX : K_OFFICE;
    if (i % 100 == 99 && i < 3000)
        kind = K_FALLBACK;
    if (i == n - 1) {
        cr_strbuf_printf(y, "  - { name: r%u, priority: 0, script: [ { app: answer } ] }\n", i);
        return K_FALLBACK;
    }
    cr_strbuf_printf(y, "  - name: r%u\n    priority: %u\n    conditions:\n", i,
                     kind == K_FALLBACK ? 1 + rnd(9) : 10 + rnd(90));
    switch (kind) {
    case K_DID:
        cr_strbuf_printf(y, "      - { var: called_number, op: equals, value: '7495%07u' }\n", i);
        break;
    case K_VIP:
        cr_strbuf_printf(y, "      - { var: caller_number, op: in, value: ['7916%07u', '7903%07u', '7926%07u'] }\n",
                         i, i, i);
        break;
    case K_PREFIX:
        cr_strbuf_printf(y, "      - { var: called_number, op: starts_with, value: '8%06u' }\n", i);
        break;
    case K_PATTERN:
        cr_strbuf_printf(y, "      - { var: called_number, op: pattern, value: '_9%06uXXXX' }\n", i);
        break;
    case K_REGEX:
        cr_strbuf_printf(y, "      - { var: called_number, op: matches, value: '^6%06u[0-9]{3}$' }\n", i);
        break;
    case K_OFFICE:
        cr_strbuf_printf(y, "      - { var: called_number, op: equals, value: '7812%07u' }\n"
                            "      - { schedule: { days: mon-fri, time: '09:00-18:00', tz: Europe/Moscow } }\n",
                         i);
        break;
    default:
        cr_strbuf_printf(y, "      - { var: caller_number, op: matches, value: '%02u$' }\n", i % 100);
        switch (rnd(3)) {
        case 0: cr_strbuf_puts(y, "      - { schedule: { time: '22:00-06:00', tz: Europe/Moscow } }\n"); break;
        case 1: cr_strbuf_puts(y, "      - { expr: \"len(caller_number) > 12\" }\n"); break;
        default: cr_strbuf_puts(y, "      - { schedule: { dates: ['2026-12-31', '01-01..01-08'] } }\n"); break;
        }
        break;
    }
    cr_strbuf_puts(y, "    script: [ { app: answer } ]\n");
    return kind;
}

typedef struct {
    char from[24], to[24];
    double now;
} call_spec;

/* A call aimed at a random route (92%; office hours may be closed) or at
 * no particular route (8%: the fallbacks and the catch-all take it). */
static void gen_call(call_spec *c, const int *kinds, unsigned n)
{
    unsigned i = rnd(n);
    snprintf(c->from, sizeof c->from, "7999%07u", rnd(10000000));
    snprintf(c->to, sizeof c->to, "5%09u", rnd(1000000000));
    if (rnd(100) < 92) {
        switch (kinds[i]) {
        case K_DID: snprintf(c->to, sizeof c->to, "7495%07u", i); break;
        case K_VIP: snprintf(c->from, sizeof c->from, "7903%07u", i); break;
        case K_PREFIX: snprintf(c->to, sizeof c->to, "8%06u%04u", i, rnd(10000)); break;
        case K_PATTERN: snprintf(c->to, sizeof c->to, "9%06u%04u", i, rnd(10000)); break;
        case K_REGEX: snprintf(c->to, sizeof c->to, "6%06u%03u", i, rnd(1000)); break;
        case K_OFFICE: snprintf(c->to, sizeof c->to, "7812%07u", i); break;
        default: break;
        }
    }
    /* Weekdays and weekends, day and night, late 2026. */
    c->now = 1793000000.0 + rnd(60 * 86400);
}

typedef struct {
    const call_spec *c;
} lookup_ctx;

static bool lookup_cb(void *ctx, const char *name, size_t len, cr_value *out)
{
    const call_spec *c = ((lookup_ctx *)ctx)->c;
    if (len == 13 && memcmp(name, "caller_number", 13) == 0)
        *out = cr_val_cstr(c->from);
    else if (len == 13 && memcmp(name, "called_number", 13) == 0)
        *out = cr_val_cstr(c->to);
    else if (len == 6 && memcmp(name, "source", 6) == 0)
        *out = cr_val_cstr("provider");
    else
        return false;
    return true;
}

/* Selects a route for each call, pass after pass, until BUDGET_NS has
 * passed (at least one pass); returns ns per call. PICKED gets the first
 * pass's choices. */
static double measure(const scn_program *p, const call_spec *calls, size_t ncalls, bool linear,
                      double budget_ns, const scn_route **picked)
{
    cr_arena scratch;
    cr_arena_init(&scratch, 4096);
    lookup_ctx lc;
    scn_env env = {.lookup = lookup_cb, .ctx = &lc, .scratch = &scratch};
    size_t done = 0;
    double t0 = now_ns(), t;
    for (;;) {
        for (size_t i = 0; i < ncalls; i++) {
            lc.c = &calls[i];
            env.now = calls[i].now;
            const scn_route *r = linear ? route_select_linear(p, SCN_ROUTE_FROM_GATEWAY, &env)
                                        : route_select(p, SCN_ROUTE_FROM_GATEWAY, &env, NULL);
            if (done < ncalls)
                picked[done] = r;
            done++;
        }
        t = now_ns() - t0;
        if (t >= budget_ns || done >= 200 * ncalls)
            break;
    }
    cr_arena_free(&scratch);
    return t / (double)done;
}

int main(int argc, char **argv)
{
    bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    static const unsigned sizes[] = {10, 1000, 10000, 100000};
    double budget = quick ? 0.25e9 : 1e9;
    int rc = 0;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        unsigned n = sizes[s];
        rng = 88172645463325252ull + n;
        cr_strbuf y = CR_STRBUF_INIT;
        cr_strbuf_puts(&y, "version: 1\ngateways: { provider: { uri: 'sip:192.0.2.1' } }\nroutes:\n");
        int *kinds = malloc(n * sizeof *kinds);
        for (unsigned i = 0; i < n; i++)
            kinds[i] = gen_route(&y, i, n);
        scn_diags d;
        scn_diags_init(&d);
        double t0 = now_ns();
        scn_program *p = scn_program_load_buffer("bench.yaml", y.s, y.len, app_registry, &d);
        double load_ms = (now_ns() - t0) / 1e6;
        if (!p) {
            scn_diags_print(&d, stderr);
            return 1;
        }
        scn_diags_free(&d);
        cr_strbuf_free(&y);
        t0 = now_ns();
        route_prepare(p);
        double prepare_ms = (now_ns() - t0) / 1e6;

        call_spec *calls = malloc(NCALLS * sizeof *calls);
        const scn_route **a = calloc(NCALLS, sizeof *a), **b = calloc(NCALLS, sizeof *b);
        for (size_t i = 0; i < NCALLS; i++)
            gen_call(&calls[i], kinds, n);
        free(kinds);
        /* The linear scan at 100,000 routes takes milliseconds per call:
         * measure it on fewer calls. */
        size_t lin_calls = n >= 100000 ? (quick ? 32 : 128) : n >= 10000 ? 512 : NCALLS;
        double index_ns = measure(p, calls, NCALLS, false, budget, a);
        double linear_ns = measure(p, calls, lin_calls, true, budget, b);
        size_t matched = 0;   /* by something better than the catch-all */
        for (size_t i = 0; i < lin_calls; i++) {
            if (a[i] != b[i]) {
                fprintf(stderr, "route_bench: %u routes, call %zu (%s -> %s): index %s, linear %s\n", n, i,
                        calls[i].from, calls[i].to, a[i] ? a[i]->name : "-", b[i] ? b[i]->name : "-");
                rc = 1;
                break;
            }
            matched += a[i] != NULL && a[i]->priority > 0;
        }
        printf("{\"bench\":\"route\",\"routes\":%u,\"index_ns\":%.1f,\"linear_ns\":%.1f,\"ratio\":%.1f,"
               "\"matched_pct\":%.0f,\"load_ms\":%.1f,\"prepare_ms\":%.2f}\n",
               n, index_ns, linear_ns, linear_ns / index_ns, 100.0 * matched / lin_calls, load_ms,
               prepare_ms);
        fflush(stdout);
        free(calls);
        free(a);
        free(b);
        scn_program_unref(p);
    }
    return rc;
}
