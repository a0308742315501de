/* bench_clock.h — wall time, own CPU time and CPU pinning for the bench
 * programs (media_bench, mixer_bench, uring/uring_relay_bench): one copy
 * instead of one per program. Header-only: the io_uring experiments are
 * built standalone, without libcallroute (each file there says how). */
#ifndef BENCH_CLOCK_H
#define BENCH_CLOCK_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>
#include <sys/resource.h>
#include <time.h>

/* Seconds on the monotonic clock. */
static inline double now_mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* User plus system CPU seconds of this process. */
static inline double cpu_self(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_stime.tv_sec +
           ((double)u.ru_utime.tv_usec + (double)u.ru_stime.tv_usec) / 1e6;
}

/* Runs the calling process on CPU only (best effort). */
static inline void pin(int cpu)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    sched_setaffinity(0, sizeof s, &s);
}

#endif
