/* loop_int.h — what the real and virtual backends share: an epoll set for fd
 * watches and a binary min-heap of timers. Private to src/loop/. */
#ifndef LOOP_INT_H
#define LOOP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "loop/loop.h"

struct loop_timer {
    double at;              /* deadline on the backend's timer clock */
    uint64_t seq;           /* ties fire in start order: deterministic */
    size_t idx;             /* position in the heap; LOOP_NOT_QUEUED once popped */
    loop_timer_cb cb;
    void *arg;
};

#define LOOP_NOT_QUEUED ((size_t)-1)

struct loop_watch {
    int fd;
    unsigned events;
    loop_fd_cb cb;
    void *arg;
    bool dead;              /* unwatched while events were being dispatched */
    loop_watch *next_dead;
};

typedef struct loop_heap_ent {
    double at;
    uint64_t seq;
    loop_timer *t;
} loop_heap_ent;

typedef struct loop_base {
    loop pub;
    int epfd;
    loop_heap_ent *heap;
    size_t count, cap;
    uint64_t seq;
    size_t watches;         /* live fd watches */
    loop_watch *dead;       /* freed after the current dispatch */
    bool dispatching;
    bool stopped;
    double (*clock)(struct loop_base *b);   /* timer clock: monotonic or virtual */
    /* Called when a wait for fds returns, before any callback runs (the
     * virtual clock advances here); may be NULL. */
    void (*woke)(struct loop_base *b);
} loop_base;

void loop_base_init(loop_base *b, const loop_ops *ops, double (*clock)(loop_base *));
void loop_base_fini(loop_base *b);

loop_timer *loop_base_timer_start(loop *l, double after, loop_timer_cb cb, void *arg);
void loop_base_timer_stop(loop *l, loop_timer *t);
loop_watch *loop_base_watch(loop *l, int fd, unsigned events, loop_fd_cb cb, void *arg);
void loop_base_watch_modify(loop *l, loop_watch *w, unsigned events);
void loop_base_unwatch(loop *l, loop_watch *w);
void loop_base_stop(loop *l);

/* Deadline of the earliest timer; false when there is none. */
bool loop_base_next(const loop_base *b, double *at);
/* Waits for fd events up to TIMEOUT seconds (< 0: forever, 0: just look)
 * and dispatches them. */
void loop_base_poll(loop_base *b, double timeout);
/* Fires every timer due at NOW that existed when the call began (timers a
 * callback starts wait for the next pass, so I/O is never starved). */
void loop_base_fire(loop_base *b, double now);
/* Fd watches other than the worker pool's own eventfd. */
size_t loop_base_user_watches(const loop_base *b);

double loop_monotonic(void);

#endif
