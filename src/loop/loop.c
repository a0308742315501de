/* loop.c — the parts both clocks share: the timer heap (O(log n) start and
 * stop, so 100,000 waiting calls cost nothing per tick) and epoll watches. */
#include "loop/loop_int.h"
#include "util/alloc.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

void loop_pool_destroy(struct loop_pool *p);

double loop_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void loop_base_init(loop_base *b, const loop_ops *ops, double (*clock)(loop_base *))
{
    memset(b, 0, sizeof *b);
    b->pub.ops = ops;
    b->clock = clock;
    b->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (b->epfd < 0) {
        perror("callroute: epoll_create1");
        abort();
    }
}

void loop_base_fini(loop_base *b)
{
    for (size_t i = 0; i < b->count; i++)
        free(b->heap[i].t);
    free(b->heap);
    b->heap = NULL;
    b->count = b->cap = 0;
    while (b->dead) {
        loop_watch *w = b->dead;
        b->dead = w->next_dead;
        free(w);
    }
    if (b->epfd >= 0)
        close(b->epfd);
    b->epfd = -1;
}

/* ---- timer heap ----
 * A 4-ary min-heap whose entries carry their keys: sifting compares keys in
 * the array (no pointer chase per comparison) and the tree is half as deep
 * as a binary one; with 100,000 waiting calls that is what a tick costs. */

static bool earlier(const loop_heap_ent *a, const loop_heap_ent *b)
{
    return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void heap_set(loop_base *b, size_t i, loop_heap_ent e)
{
    b->heap[i] = e;
    e.t->idx = i;
}

static void sift_up(loop_base *b, size_t i)
{
    loop_heap_ent e = b->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 4;
        if (!earlier(&e, &b->heap[parent]))
            break;
        heap_set(b, i, b->heap[parent]);
        i = parent;
    }
    heap_set(b, i, e);
}

static void sift_down(loop_base *b, size_t i)
{
    loop_heap_ent e = b->heap[i];
    for (;;) {
        size_t first = 4 * i + 1, m = i;
        const loop_heap_ent *best = &e;
        for (size_t c = first; c < first + 4 && c < b->count; c++)
            if (earlier(&b->heap[c], best)) {
                m = c;
                best = &b->heap[c];
            }
        if (m == i)
            break;
        heap_set(b, i, b->heap[m]);
        i = m;
    }
    heap_set(b, i, e);
}

static void heap_remove(loop_base *b, loop_timer *t)
{
    size_t i = t->idx;
    t->idx = LOOP_NOT_QUEUED;
    b->count--;
    if (i == b->count)
        return;
    heap_set(b, i, b->heap[b->count]);
    if (i > 0 && earlier(&b->heap[i], &b->heap[(i - 1) / 4]))
        sift_up(b, i);
    else
        sift_down(b, i);
}

loop_timer *loop_base_timer_start(loop *l, double after, loop_timer_cb cb, void *arg)
{
    loop_base *b = (loop_base *)l;
    if (!(after >= 0) || isinf(after))
        after = after > 0 ? 1e9 : 0;   /* NaN and negatives fire at once */
    if (b->count == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->heap = cr_xrealloc(b->heap, b->cap * sizeof *b->heap);
    }
    loop_timer *t = cr_xmalloc(sizeof *t);
    t->at = b->clock(b) + after;
    t->seq = b->seq++;
    t->cb = cb;
    t->arg = arg;
    b->heap[b->count] = (loop_heap_ent){t->at, t->seq, t};
    t->idx = b->count++;
    sift_up(b, t->idx);
    return t;
}

void loop_base_timer_stop(loop *l, loop_timer *t)
{
    loop_base *b = (loop_base *)l;
    if (!t || t->idx == LOOP_NOT_QUEUED)
        return;   /* already firing: its memory goes after the callback */
    heap_remove(b, t);
    free(t);
}

bool loop_base_next(const loop_base *b, double *at)
{
    if (b->count == 0)
        return false;
    *at = b->heap[0].at;
    return true;
}

void loop_base_fire(loop_base *b, double now)
{
    uint64_t limit = b->seq;
    while (b->count > 0 && !b->stopped) {
        loop_timer *t = b->heap[0].t;
        if (t->at > now || t->seq >= limit)
            break;
        heap_remove(b, t);
        t->cb(&b->pub, t->arg);
        free(t);
    }
}

/* ---- fd watches ---- */

static uint32_t to_epoll(unsigned events)
{
    uint32_t e = 0;
    if (events & LOOP_READ)
        e |= EPOLLIN;
    if (events & LOOP_WRITE)
        e |= EPOLLOUT;
    return e;
}

loop_watch *loop_base_watch(loop *l, int fd, unsigned events, loop_fd_cb cb, void *arg)
{
    loop_base *b = (loop_base *)l;
    loop_watch *w = cr_xcalloc(1, sizeof *w);
    w->fd = fd;
    w->events = events;
    w->cb = cb;
    w->arg = arg;
    struct epoll_event ev = {.events = to_epoll(events), .data.ptr = w};
    if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        /* Never NULL (loop.h): the fd is bad or already watched (a bug),
         * or the kernel has no room for another watch. */
        if (errno == ENOMEM)
            cr_oom("epoll watch");
        fprintf(stderr, "callroute: cannot watch fd %d: %s\n", fd, strerror(errno));
        abort();
    }
    b->watches++;
    return w;
}

void loop_base_watch_modify(loop *l, loop_watch *w, unsigned events)
{
    loop_base *b = (loop_base *)l;
    w->events = events;
    struct epoll_event ev = {.events = to_epoll(events), .data.ptr = w};
    epoll_ctl(b->epfd, EPOLL_CTL_MOD, w->fd, &ev);
}

void loop_base_unwatch(loop *l, loop_watch *w)
{
    loop_base *b = (loop_base *)l;
    if (!w || w->dead)
        return;
    epoll_ctl(b->epfd, EPOLL_CTL_DEL, w->fd, NULL);
    b->watches--;
    if (b->dispatching) {
        /* An event for it may still sit in the batch being dispatched. */
        w->dead = true;
        w->next_dead = b->dead;
        b->dead = w;
    } else {
        free(w);
    }
}

size_t loop_base_user_watches(const loop_base *b)
{
    return b->watches - (b->pub.pool ? 1 : 0);
}

void loop_base_poll(loop_base *b, double timeout)
{
    struct epoll_event evs[64];
    int ms;
    if (timeout < 0)
        ms = -1;
    else if (timeout > 86400.0 * 24)
        ms = 86400 * 24 * 1000;
    else
        ms = (int)ceil(timeout * 1000.0);
    int n = epoll_wait(b->epfd, evs, 64, ms);
    if (b->woke)
        b->woke(b);
    if (n < 0) {
        if (errno != EINTR)
            perror("callroute: epoll_wait");
        return;
    }
    b->dispatching = true;
    for (int i = 0; i < n && !b->stopped; i++) {
        loop_watch *w = evs[i].data.ptr;
        if (w->dead)
            continue;
        unsigned e = 0;
        if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
            e |= LOOP_READ;
        if (evs[i].events & (EPOLLOUT | EPOLLERR))
            e |= LOOP_WRITE;
        e &= w->events ? w->events : e;
        if (e)
            w->cb(&b->pub, w->fd, e, w->arg);
    }
    b->dispatching = false;
    while (b->dead) {
        loop_watch *w = b->dead;
        b->dead = w->next_dead;
        free(w);
    }
}

void loop_base_stop(loop *l)
{
    ((loop_base *)l)->stopped = true;
}

void loop_destroy(loop *l)
{
    if (!l)
        return;
    if (l->pool)
        loop_pool_destroy(l->pool);
    l->pool = NULL;
    l->ops->destroy(l);
}
