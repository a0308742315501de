/* test_loop.c — the event loop: timer order and ties, stop/cancel, the
 * virtual clock jumping (and waiting in real time while real I/O is in
 * flight), fd watches, the worker pool, and 200,000 timers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "loop/loop.h"

typedef struct rec {
    loop *l;
    int order[64];
    double when[64];
    int n;
} rec;

typedef struct tcase {
    rec *r;
    int id;
} tcase;

static void note_cb(loop *l, void *arg)
{
    tcase *c = arg;
    c->r->order[c->r->n] = c->id;
    c->r->when[c->r->n] = loop_now(l);
    c->r->n++;
}

static void test_virtual_order_and_jump(void **state)
{
    (void)state;
    loop *l = loop_new_virtual(1000.0);
    rec r = {.l = l};
    tcase c[5] = {{&r, 0}, {&r, 1}, {&r, 2}, {&r, 3}, {&r, 4}};
    loop_timer_start(l, 600.0, note_cb, &c[0]);   /* ten minutes */
    loop_timer_start(l, 5.0, note_cb, &c[1]);
    loop_timer_start(l, 5.0, note_cb, &c[2]);     /* tie: start order */
    loop_timer_start(l, 0.0, note_cb, &c[3]);
    loop_timer *gone = loop_timer_start(l, 1.0, note_cb, &c[4]);
    loop_timer_stop(l, gone);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    loop_run(l);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(r.n, 4);
    assert_int_equal(r.order[0], 3);
    assert_int_equal(r.order[1], 1);
    assert_int_equal(r.order[2], 2);
    assert_int_equal(r.order[3], 0);
    assert_true(r.when[0] == 1000.0);
    assert_true(r.when[1] == 1005.0);
    assert_true(r.when[3] == 1600.0);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(took < 0.5);   /* ten virtual minutes cost no real time */
    assert_true(loop_now(l) == 1600.0);
    loop_destroy(l);
}

/* A callback that starts a zero timer runs it in a later pass, at the same
 * virtual time. */
typedef struct chain {
    loop *l;
    int left;
    double last;
} chain;

static void chain_cb(loop *l, void *arg)
{
    chain *c = arg;
    c->last = loop_now(l);
    if (--c->left > 0)
        loop_timer_start(l, c->left % 2 ? 0.0 : 0.25, chain_cb, c);
}

static void test_virtual_chain(void **state)
{
    (void)state;
    loop *l = loop_new_virtual(0);
    chain c = {l, 10, -1};
    loop_timer_start(l, 1.0, chain_cb, &c);
    loop_run(l);
    assert_int_equal(c.left, 0);
    /* 9 more timers, four of them 0.25 s apart (even `left` values 8,6,4,2). */
    assert_true(c.last == 2.0);
    loop_destroy(l);
}

static void stop_cb(loop *l, void *arg)
{
    (void)arg;
    loop_stop(l);
}

static void test_stop(void **state)
{
    (void)state;
    loop *l = loop_new_virtual(0);
    rec r = {.l = l};
    tcase late = {&r, 7};
    loop_timer_start(l, 1.0, stop_cb, NULL);
    loop_timer_start(l, 2.0, note_cb, &late);
    loop_run(l);
    assert_int_equal(r.n, 0);
    assert_true(loop_now(l) == 1.0);
    loop_run(l);   /* goes on where it stopped */
    assert_int_equal(r.n, 1);
    loop_destroy(l);
}

/* Timers left at destroy are freed without running. */
static void test_destroy_with_timers(void **state)
{
    (void)state;
    loop *l = loop_new_virtual(0);
    rec r = {.l = l};
    tcase c = {&r, 1};
    for (int i = 0; i < 100; i++)
        loop_timer_start(l, i, note_cb, &c);
    loop_destroy(l);
    assert_int_equal(r.n, 0);
}

/* While real I/O is pending the virtual clock waits for the fd in real
 * time; the timer due later still fires at its own virtual time. */
typedef struct io {
    int efd;
    loop_watch *w;
    double got_at;
    double timer_at;
} io;

static void io_cb(loop *l, int fd, unsigned events, void *arg)
{
    io *x = arg;
    assert_true(events & LOOP_READ);
    uint64_t v;
    assert_int_equal(read(fd, &v, sizeof v), (ssize_t)sizeof v);
    x->got_at = loop_now(l);
    loop_unwatch(l, x->w);
    l->real_pending--;
}

static void io_timer_cb(loop *l, void *arg)
{
    io *x = arg;
    x->timer_at = loop_now(l);
}

static void io_write_work(void *arg)
{
    struct timespec ts = {0, 30 * 1000 * 1000};
    nanosleep(&ts, NULL);   /* a slow peer, in a worker thread */
    uint64_t one = 1;
    assert_int_equal(write(((io *)arg)->efd, &one, sizeof one), (ssize_t)sizeof one);
}

static void test_virtual_waits_for_real_io(void **state)
{
    (void)state;
    loop *l = loop_new_virtual(0);
    io x = {.efd = eventfd(0, EFD_NONBLOCK), .got_at = -1, .timer_at = -1};
    x.w = loop_watch_fd(l, x.efd, LOOP_READ, io_cb, &x);
    l->real_pending++;
    loop_timer_start(l, 10.0, io_timer_cb, &x);
    loop_work(l, io_write_work, NULL, &x);
    loop_run(l);
    /* The answer came after ~30 ms of real time, before the 10 s timer. */
    assert_true(x.got_at >= 0.02 && x.got_at < 5.0);
    assert_true(x.timer_at == 10.0);
    assert_int_equal(l->real_pending, 0);
    close(x.efd);
    loop_destroy(l);
}

/* The clock never runs past a timer while it waits for real I/O. */
static void test_virtual_clamps_to_timer(void **state)
{
    (void)state;
    loop *l = loop_new_virtual(0);
    io x = {.efd = eventfd(0, EFD_NONBLOCK), .got_at = -1, .timer_at = -1};
    x.w = loop_watch_fd(l, x.efd, LOOP_READ, io_cb, &x);
    l->real_pending++;
    loop_timer_start(l, 0.01, io_timer_cb, &x);
    loop_work(l, io_write_work, NULL, &x);
    loop_run(l);
    assert_true(x.timer_at == 0.01);
    assert_true(x.got_at >= 0.01);
    close(x.efd);
    loop_destroy(l);
}

typedef struct job {
    int in, out;
    int *done_count;
} job;

static void square_work(void *arg)
{
    job *j = arg;
    j->out = j->in * j->in;
}

static void square_done(loop *l, void *arg)
{
    (void)l;
    job *j = arg;
    (*j->done_count)++;
}

static void test_pool(void **state)
{
    (void)state;
    for (int flavour = 0; flavour < 2; flavour++) {
        loop *l = flavour ? loop_new_real() : loop_new_virtual(0);
        int done = 0;
        job jobs[50];
        for (int i = 0; i < 50; i++) {
            jobs[i] = (job){.in = i, .done_count = &done};
            loop_work(l, square_work, square_done, &jobs[i]);
        }
        assert_int_equal(l->real_pending, 50);
        loop_run(l);   /* returns once every completion ran */
        assert_int_equal(done, 50);
        assert_int_equal(l->real_pending, 0);
        for (int i = 0; i < 50; i++)
            assert_int_equal(jobs[i].out, i * i);
        loop_destroy(l);
    }
}

static void test_real_timers(void **state)
{
    (void)state;
    loop *l = loop_new_real();
    rec r = {.l = l};
    tcase a = {&r, 1}, b = {&r, 2};
    double start = loop_now(l);
    loop_timer_start(l, 0.03, note_cb, &b);
    loop_timer_start(l, 0.01, note_cb, &a);
    loop_run(l);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.order[0], 1);
    assert_int_equal(r.order[1], 2);
    assert_true(r.when[1] - start >= 0.029);
    assert_true(start > 1.7e9);   /* seconds since the epoch */
    loop_destroy(l);
}

/* Unwatching another fd from a callback in the same batch is safe. */
typedef struct pair {
    int fds[2];
    loop_watch *w[2];
    int calls;
} pair;

static void pair_cb(loop *l, int fd, unsigned events, void *arg)
{
    (void)fd;
    (void)events;
    pair *p = arg;
    p->calls++;
    loop_unwatch(l, p->w[0]);
    loop_unwatch(l, p->w[1]);
    p->w[0] = p->w[1] = NULL;
}

static void test_unwatch_in_batch(void **state)
{
    (void)state;
    loop *l = loop_new_real();
    pair p = {.fds = {eventfd(1, 0), eventfd(1, 0)}};
    p.w[0] = loop_watch_fd(l, p.fds[0], LOOP_READ, pair_cb, &p);
    p.w[1] = loop_watch_fd(l, p.fds[1], LOOP_READ, pair_cb, &p);
    loop_run(l);   /* ends when no watch is left */
    assert_int_equal(p.calls, 1);
    close(p.fds[0]);
    close(p.fds[1]);
    loop_destroy(l);
}

/* 200,000 timers, half of them stopped at random: the rest fire in order. */
typedef struct many {
    double last;
    int fired;
    int bad;
} many;

static void many_cb(loop *l, void *arg)
{
    many *m = arg;
    double now = loop_now(l);
    if (now < m->last)
        m->bad++;
    m->last = now;
    m->fired++;
}

static void test_many_timers(void **state)
{
    (void)state;
    enum { N = 200000 };
    loop *l = loop_new_virtual(0);
    many m = {0};
    loop_timer **ts = malloc(N * sizeof *ts);
    unsigned seed = 7;
    for (int i = 0; i < N; i++)
        ts[i] = loop_timer_start(l, (double)(rand_r(&seed) % 100000) / 10.0, many_cb, &m);
    int stopped = 0;
    for (int i = 0; i < N; i += 2) {
        loop_timer_stop(l, ts[i]);
        stopped++;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    loop_run(l);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(m.fired, N - stopped);
    assert_int_equal(m.bad, 0);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(took < 5.0);
    free(ts);
    loop_destroy(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_virtual_order_and_jump),
        cmocka_unit_test(test_virtual_chain),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_destroy_with_timers),
        cmocka_unit_test(test_virtual_waits_for_real_io),
        cmocka_unit_test(test_virtual_clamps_to_timer),
        cmocka_unit_test(test_pool),
        cmocka_unit_test(test_real_timers),
        cmocka_unit_test(test_unwatch_in_batch),
        cmocka_unit_test(test_many_timers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
