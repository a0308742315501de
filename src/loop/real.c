/* real.c — the real clock: epoll for fds, CLOCK_MONOTONIC for timers,
 * CLOCK_REALTIME for now(). */
#include "loop/loop_int.h"
#include "util/alloc.h"

#include <stdlib.h>
#include <time.h>

static double real_clock(loop_base *b)
{
    (void)b;
    return loop_monotonic();
}

static double real_now(loop *l)
{
    (void)l;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void real_run(loop *l)
{
    loop_base *b = (loop_base *)l;
    b->stopped = false;
    while (!b->stopped) {
        double at;
        bool has_timer = loop_base_next(b, &at);
        if (!has_timer && loop_base_user_watches(b) == 0 && l->real_pending <= 0)
            break;
        double timeout = -1;
        if (has_timer) {
            timeout = at - loop_monotonic();
            if (timeout < 0)
                timeout = 0;
        }
        loop_base_poll(b, timeout);
        if (!b->stopped)
            loop_base_fire(b, loop_monotonic());
    }
}

static void real_destroy(loop *l)
{
    loop_base_fini((loop_base *)l);
    free(l);
}

static const loop_ops real_ops = {
    .name = "real",
    .now = real_now,
    .timer_start = loop_base_timer_start,
    .timer_stop = loop_base_timer_stop,
    .watch = loop_base_watch,
    .watch_modify = loop_base_watch_modify,
    .unwatch = loop_base_unwatch,
    .run = real_run,
    .stop = loop_base_stop,
    .destroy = real_destroy,
};

loop *loop_new_real(void)
{
    loop_base *b = cr_xmalloc(sizeof *b);
    loop_base_init(b, &real_ops, real_clock);
    return &b->pub;
}
