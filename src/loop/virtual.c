/* virtual.c — the virtual clock (DESIGN.md): when no real I/O is in flight
 * (loop->real_pending == 0) time jumps to the next timer, so a 10-minute
 * simulated call runs in milliseconds; while real I/O is in flight (an HTTP
 * request, a worker job) it waits for the fds in real time and advances the
 * virtual clock by the real time that passed, never past the next timer. */
#include "loop/loop_int.h"
#include "util/alloc.h"

#include <stdlib.h>

typedef struct virt_loop {
    loop_base base;
    double now;
    double wait_start;   /* monotonic time a real-time wait began; < 0: none */
} virt_loop;

/* A real-time wait ended: advance by the real time that passed, never past
 * the next timer, before the fd callbacks see the clock. */
static void virt_woke(loop_base *b)
{
    virt_loop *v = (virt_loop *)b;
    if (v->wait_start < 0)
        return;
    double target = v->now + (loop_monotonic() - v->wait_start);
    v->wait_start = -1;
    double at;
    if (loop_base_next(b, &at) && target > at)
        target = at > v->now ? at : v->now;
    v->now = target;
}

static double virt_clock(loop_base *b)
{
    return ((virt_loop *)b)->now;
}

static double virt_now(loop *l)
{
    return ((virt_loop *)l)->now;
}

static void virt_run(loop *l)
{
    virt_loop *v = (virt_loop *)l;
    loop_base *b = &v->base;
    b->stopped = false;
    while (!b->stopped) {
        double at;
        bool has_timer = loop_base_next(b, &at);
        if (l->real_pending > 0) {
            double wait = -1;
            if (has_timer) {
                wait = at - v->now;
                if (wait < 0)
                    wait = 0;
            }
            v->wait_start = loop_monotonic();
            loop_base_poll(b, wait);
            v->wait_start = -1;
        } else {
            /* Deliver whatever is ready without waiting, then jump. */
            if (b->watches)
                loop_base_poll(b, 0);
            if (b->stopped || l->real_pending > 0)
                continue;
            if (!loop_base_next(b, &at))
                break;
            if (at > v->now)
                v->now = at;
        }
        if (!b->stopped)
            loop_base_fire(b, v->now);
    }
}

static void virt_destroy(loop *l)
{
    loop_base_fini((loop_base *)l);
    free(l);
}

static const loop_ops virt_ops = {
    .name = "virtual",
    .now = virt_now,
    .timer_start = loop_base_timer_start,
    .timer_stop = loop_base_timer_stop,
    .watch = loop_base_watch,
    .watch_modify = loop_base_watch_modify,
    .unwatch = loop_base_unwatch,
    .run = virt_run,
    .stop = loop_base_stop,
    .destroy = virt_destroy,
};

loop *loop_new_virtual(double start)
{
    virt_loop *v = cr_xmalloc(sizeof *v);
    loop_base_init(&v->base, &virt_ops, virt_clock);
    v->base.woke = virt_woke;
    v->now = start;
    v->wait_start = -1;
    return &v->base.pub;
}
