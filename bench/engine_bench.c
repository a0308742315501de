/* engine_bench.c — the engine on the virtual clock (bench/README.md):
 *   1. simulated calls per second and time per action step through the
 *      20-action scenario of bench/lua/scenario.lua (a stream, events on
 *      hold and DTMF; the caller holds at 2 s and sends "1" at 4 s), calls
 *      arriving at 1,000/s of virtual time;
 *   2. memory with 100,000 calls waiting at once (main strand in `wait 10`,
 *      stream in `wait 1`): live heap per call (mallinfo2) and peak RSS.
 * Prints JSON lines {"bench":"engine",...}. --quick: fewer calls in 1. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "apps/registry.h"
#include "engine/engine.h"
#include "route/route.h"
#include "scenario/diag.h"
#include "telephony/sim/sim.h"

static const char scenario[] =
    "version: 1\n"
    "routes:\n"
    "  - name: bench\n"
    "    script:\n"
    "      - { app: set, vars: { greeting: \"Hello {caller_number}\", tier: standard } }\n"
    "      - app: condition\n"
    "        if: [ { var: caller_number, op: starts_with, value: \"7916\" } ]\n"
    "        then: [ { app: set, vars: { tier: vip } } ]\n"
    "      - { app: answer }\n"
    "      - app: event\n"
    "        on: hold\n"
    "        do:\n"
    "          - { app: set, vars: { held: \"yes\" } }\n"
    "          - { app: log, message: \"hold {caller_number}\" }\n"
    "      - app: event\n"
    "        on: dtmf\n"
    "        do: [ { app: set, vars: { digit: \"{dtmf_digit}\" } } ]\n"
    "      - app: stream\n"
    "        name: ticker\n"
    "        do:\n"
    "          - app: loop\n"
    "            times: 3\n"
    "            do:\n"
    "              - { app: wait, seconds: 1 }\n"
    "              - { app: set, var: ticks, expr: \"loop_index + 1\" }\n"
    "      - { app: wait, seconds: 10 }\n"
    "      - app: condition\n"
    "        if: \"held == 'yes'\"\n"
    "        then: [ { app: log, message: \"was held\" } ]\n"
    "      - app: switch\n"
    "        value: \"{digit}\"\n"
    "        cases: { \"1\": [ { app: set, vars: { dept: sales } } ] }\n"
    "        default: [ { app: set, vars: { dept: support } } ]\n"
    "      - { app: hangup }\n";

typedef struct feeder {
    sim_driver *sd;
    long next, total;
    double rate;
    const char *caller;
} feeder;

static void place_call(feeder *f, long i)
{
    char id[32], num[32], err[128];
    snprintf(id, sizeof id, "call-%ld", i);
    snprintf(num, sizeof num, "7916%07ld", i % 10000000);
    tel_call_info info = {.call_id = id, .caller_number = num, .called_number = "1000",
                          .source = "provider"};
    if (sim_call(f->sd, &info, f->caller, err, sizeof err) != 0) {
        fprintf(stderr, "engine_bench: call rejected: %s\n", err);
        exit(1);
    }
}

/* Calls arrive at RATE per virtual second: one timer places the next. */
static void feed_cb(loop *l, void *arg)
{
    feeder *f = arg;
    place_call(f, f->next++);
    if (f->next < f->total)
        loop_timer_start(l, 1.0 / f->rate, feed_cb, f);
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static scn_program *load(void)
{
    char path[] = "/tmp/engine_bench_XXXXXX.yaml";
    int fd = mkstemps(path, 5);
    if (fd < 0 || write(fd, scenario, sizeof scenario - 1) != (ssize_t)(sizeof scenario - 1)) {
        perror("engine_bench: temp file");
        exit(1);
    }
    close(fd);
    scn_diags d;
    scn_diags_init(&d);
    bool unreadable;
    scn_program *p = scn_program_load(path, app_registry, &d, &unreadable);
    unlink(path);
    if (!p) {
        scn_diags_print(&d, stderr);
        exit(1);
    }
    scn_diags_free(&d);
    route_prepare(p);
    return p;
}

static void throughput(scn_program *p, long calls)
{
    loop *l = loop_new_virtual(1.8e9);
    sim_driver *sd = sim_driver_new(l);
    eng_options o = {.max_duration = 3600, .random_seed = 1};
    eng_engine *e = eng_engine_new(l, sim_driver_tel(sd), NULL, p, &o);
    feeder f = {.sd = sd, .total = calls, .rate = 1000, .caller = "hold@2,dtmf:1@4"};
    loop_timer_start(l, 0, feed_cb, &f);
    double c0 = cpu_seconds(), w0 = wall_seconds();
    loop_run(l);
    double cpu = cpu_seconds() - c0, wall = wall_seconds() - w0;
    unsigned long long steps = eng_engine_actions(e);
    printf("{\"bench\":\"engine\",\"phase\":\"throughput\",\"calls\":%ld,\"steps\":%llu,"
           "\"steps_per_call\":%.2f,\"calls_per_second\":%.0f,\"ns_per_step\":%.1f,"
           "\"virtual_seconds\":%.1f,\"wall_seconds\":%.3f}\n",
           calls, steps, (double)steps / (double)calls, (double)calls / wall, cpu * 1e9 / (double)steps,
           loop_now(l) - 1.8e9, wall);
    if (eng_engine_call_count(e) != 0) {
        fprintf(stderr, "engine_bench: %zu calls did not end\n", eng_engine_call_count(e));
        exit(1);
    }
    eng_engine_free(e);
    sim_driver_free(sd);
    loop_destroy(l);
}

static void stop_cb(loop *l, void *arg)
{
    (void)arg;
    loop_stop(l);
}

static void memory(scn_program *p, long calls)
{
    malloc_trim(0);
    struct mallinfo2 m0 = mallinfo2();
    size_t before = m0.uordblks + m0.hblkhd;   /* mmapped blocks too (the timer heap) */
    loop *l = loop_new_virtual(1.8e9);
    sim_driver *sd = sim_driver_new(l);
    eng_options o = {.max_duration = 3600, .random_seed = 1};
    eng_engine *e = eng_engine_new(l, sim_driver_tel(sd), NULL, p, &o);
    feeder f = {.sd = sd, .caller = "hold@2,dtmf:1@4"};
    for (long i = 0; i < calls; i++)
        place_call(&f, i);
    /* At 0.5 s every main strand waits in `wait 10`, every stream in `wait 1`. */
    loop_timer_start(l, 0.5, stop_cb, NULL);
    loop_run(l);
    struct mallinfo2 m1 = mallinfo2();
    size_t live = m1.uordblks + m1.hblkhd - before;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"bench\":\"engine\",\"phase\":\"memory\",\"calls\":%ld,\"waiting\":%zu,"
           "\"bytes_per_call\":%.0f,\"peak_rss_kb\":%ld}\n",
           calls, eng_engine_call_count(e), (double)live / (double)calls, ru.ru_maxrss);
    eng_engine_free(e);
    sim_driver_free(sd);
    loop_destroy(l);
}

int main(int argc, char **argv)
{
    bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    scn_program *p = load();
    /* ENGINE_BENCH_PHASE=throughput|memory runs one phase (for profiling). */
    const char *only = getenv("ENGINE_BENCH_PHASE");
    if (!only || strcmp(only, "throughput") == 0)
        throughput(p, quick ? 20000 : 100000);
    if (!only || strcmp(only, "memory") == 0)
        memory(p, 100000);
    scn_program_unref(p);
    return 0;
}
