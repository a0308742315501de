/* loop.h — the one event loop: timers, fd watches, now(), a worker pool.
 * Two clocks behind one interface (DESIGN.md): the real one, and a virtual
 * one that jumps to the next timer when no real I/O is pending, so a
 * 10-minute simulated call runs in milliseconds. Backends implement
 * loop_ops; the SIP driver may provide one built on sofia-sip's su_root. */
#ifndef LOOP_H
#define LOOP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct loop loop;
typedef struct loop_timer loop_timer;
typedef struct loop_watch loop_watch;

typedef void (*loop_timer_cb)(loop *l, void *arg);
typedef void (*loop_fd_cb)(loop *l, int fd, unsigned events, void *arg);
typedef void (*loop_work_fn)(void *arg);            /* runs on a worker thread */
typedef void (*loop_done_cb)(loop *l, void *arg);   /* runs on the loop afterwards */

enum { LOOP_READ = 1u << 0, LOOP_WRITE = 1u << 1 };

/* Backend operations; the public functions below dispatch to these. */
typedef struct loop_ops {
    const char *name;
    double (*now)(loop *l);
    loop_timer *(*timer_start)(loop *l, double after, loop_timer_cb cb, void *arg);
    void (*timer_stop)(loop *l, loop_timer *t);
    loop_watch *(*watch)(loop *l, int fd, unsigned events, loop_fd_cb cb, void *arg);
    void (*watch_modify)(loop *l, loop_watch *w, unsigned events);
    void (*unwatch)(loop *l, loop_watch *w);
    /* Runs until loop_stop() or nothing is left to wait for. */
    void (*run)(loop *l);
    void (*stop)(loop *l);
    void (*destroy)(loop *l);
} loop_ops;

struct loop {
    const loop_ops *ops;
    /* Real I/O in flight (HTTP, DB, SMTP): while > 0 the virtual clock
     * waits for it in real time instead of jumping. */
    int real_pending;
    struct loop_pool *pool;   /* worker pool, created on first loop_work */
};

loop *loop_new_real(void);
/* A virtual clock starting at START (seconds since the epoch). */
loop *loop_new_virtual(double start);
void loop_destroy(loop *l);

static inline double loop_now(loop *l) { return l->ops->now(l); }
/* One-shot timer AFTER seconds from now. Stopping a fired timer is an error;
 * a timer is freed by the loop after its callback returns.
 * loop_timer_start and loop_watch_fd never return NULL: every backend ends
 * the process when it cannot (out of memory, or an fd that cannot be
 * watched: docs/decisions/allocation-policy.md), so callers do not check. */
static inline loop_timer *loop_timer_start(loop *l, double after, loop_timer_cb cb, void *arg)
{
    return l->ops->timer_start(l, after, cb, arg);
}
static inline void loop_timer_stop(loop *l, loop_timer *t) { l->ops->timer_stop(l, t); }
static inline loop_watch *loop_watch_fd(loop *l, int fd, unsigned events, loop_fd_cb cb, void *arg)
{
    return l->ops->watch(l, fd, events, cb, arg);
}
static inline void loop_watch_modify(loop *l, loop_watch *w, unsigned events) { l->ops->watch_modify(l, w, events); }
static inline void loop_unwatch(loop *l, loop_watch *w) { l->ops->unwatch(l, w); }
static inline void loop_run(loop *l) { l->ops->run(l); }
static inline void loop_stop(loop *l) { l->ops->stop(l); }

/* Runs WORK on a small worker pool (blocking work: SQLite, file writes),
 * then DONE on the loop thread. Counts as real I/O pending until DONE. */
void loop_work(loop *l, loop_work_fn work, loop_done_cb done, void *arg);

#endif
