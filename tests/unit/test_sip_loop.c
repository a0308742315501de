/* test_sip_loop.c — the loop backend on sofia-sip's su_root: timers in
 * order (and stopped ones never fire), fd watches (changed and removed
 * from inside a callback), the worker pool, loop_stop, and run() returning
 * once nothing is left to wait for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "telephony/sip/sip.h"

typedef struct rec {
    int order[16];
    int n;
    double at[16];
} rec;

typedef struct tc {
    rec *r;
    int id;
} tc;

static void note_cb(loop *l, void *arg)
{
    tc *c = arg;
    c->r->at[c->r->n] = loop_now(l);
    c->r->order[c->r->n++] = c->id;
}

static void test_timers(void **state)
{
    (void)state;
    loop *l = sip_loop_new();
    assert_non_null(l);
    assert_true(sip_loop_is(l));
    rec r = {0};
    tc c[4] = {{&r, 0}, {&r, 1}, {&r, 2}, {&r, 3}};
    double t0 = loop_now(l);
    assert_true(t0 > 1.7e9);   /* seconds since the epoch */
    loop_timer_start(l, 0.06, note_cb, &c[2]);
    loop_timer_start(l, 0.02, note_cb, &c[0]);
    loop_timer *gone = loop_timer_start(l, 0.03, note_cb, &c[3]);
    loop_timer_start(l, 0.04, note_cb, &c[1]);
    loop_timer_stop(l, gone);
    loop_run(l);   /* returns: nothing left */
    assert_int_equal(r.n, 3);
    assert_int_equal(r.order[0], 0);
    assert_int_equal(r.order[1], 1);
    assert_int_equal(r.order[2], 2);
    assert_true(r.at[0] - t0 >= 0.019);
    assert_true(r.at[2] - t0 >= 0.059 && r.at[2] - t0 < 1.0);
    loop_destroy(l);
}

typedef struct wstate {
    loop *l;
    loop_watch *w;
    int efd;
    int reads;
} wstate;

static void read_cb(loop *l, int fd, unsigned ev, void *arg)
{
    wstate *s = arg;
    assert_true(ev & LOOP_READ);
    uint64_t v;
    assert_int_equal(read(fd, &v, sizeof v), sizeof v);
    if (++s->reads == 2) {
        loop_unwatch(l, s->w);   /* from inside its own callback */
        s->w = NULL;
    }
}

static void poke_cb(loop *l, void *arg)
{
    (void)l;
    wstate *s = arg;
    uint64_t one = 1;
    assert_int_equal(write(s->efd, &one, sizeof one), sizeof one);
}

static void test_watch(void **state)
{
    (void)state;
    loop *l = sip_loop_new();
    wstate s = {.l = l, .efd = eventfd(0, EFD_NONBLOCK)};
    s.w = loop_watch_fd(l, s.efd, LOOP_READ, read_cb, &s);
    assert_non_null(s.w);
    loop_watch_modify(l, s.w, LOOP_READ);
    loop_timer_start(l, 0.01, poke_cb, &s);
    loop_timer_start(l, 0.03, poke_cb, &s);
    loop_run(l);   /* ends once the watch is gone and the timers fired */
    assert_int_equal(s.reads, 2);
    assert_null(s.w);
    close(s.efd);
    loop_destroy(l);
}

static void work_fn(void *arg) { *(int *)arg += 40; }
static void done_cb(loop *l, void *arg)
{
    (void)l;
    *(int *)arg += 2;
}

static void stop_cb(loop *l, void *arg)
{
    (void)arg;
    loop_stop(l);
}

static void test_pool_and_stop(void **state)
{
    (void)state;
    loop *l = sip_loop_new();
    int v = 0;
    loop_work(l, work_fn, done_cb, &v);
    loop_run(l);   /* waits for the job: it counts as real I/O */
    assert_int_equal(v, 42);
    /* loop_stop from a timer while a far timer is pending */
    rec r = {0};
    tc far = {&r, 9};
    loop_timer *t = loop_timer_start(l, 30, note_cb, &far);
    loop_timer_start(l, 0.01, stop_cb, NULL);
    loop_run(l);
    assert_int_equal(r.n, 0);
    loop_timer_stop(l, t);
    loop_destroy(l);
}

static void count_cb(loop *l, void *arg)
{
    (void)l;
    (*(int *)arg)++;
}

/* A burst of timers (a burst of calls, each with one) leaves no more idle
 * timers than IDLE_TIMERS_SLACK (64) beyond those still running: the rest
 * are freed as they end, not kept for the process's life. */
static void test_idle_timers_follow_the_load(void **state)
{
    (void)state;
    loop *l = sip_loop_new();
    int fired = 0;
    for (int i = 0; i < 500; i++)
        loop_timer_start(l, 0.001 * (i % 20), count_cb, &fired);
    loop_run(l);
    assert_int_equal(fired, 500);
    assert_true(sip_loop_idle_timers(l) <= 64);
    assert_true(sip_loop_idle_timers(l) > 0);   /* some kept for reuse */
    /* With timers running, the idle list may hold as many again plus 64. */
    loop_timer *run[200];
    for (int i = 0; i < 200; i++)
        run[i] = loop_timer_start(l, 30, count_cb, &fired);
    loop_timer *churn[200];
    for (int i = 0; i < 200; i++)
        churn[i] = loop_timer_start(l, 30, count_cb, &fired);
    for (int i = 0; i < 200; i++)
        loop_timer_stop(l, churn[i]);
    assert_int_equal(sip_loop_idle_timers(l), 200);
    for (int i = 0; i < 200; i++)
        loop_timer_stop(l, run[i]);
    assert_true(sip_loop_idle_timers(l) <= 64);
    assert_int_equal(fired, 500);
    loop_destroy(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timers),
        cmocka_unit_test(test_watch),
        cmocka_unit_test(test_pool_and_stop),
        cmocka_unit_test(test_idle_timers_follow_the_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
