/* sip_loop.c — a loop backend on sofia-sip's su_root. The SIP stack owns
 * the wait (su_root's epoll port and its timer tree); our timers and fd
 * watches are registered with it, so SIP, RTP, HTTP and DB share one thread
 * (docs/decisions/0010-sip-loop-integration.md). */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define SU_ROOT_MAGIC_T void
#define SU_TIMER_ARG_T void
#define SU_WAKEUP_ARG_T void
#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>

#include "telephony/sip/sip_int.h"
#include "util/alloc.h"

typedef struct sip_loop {
    loop base;
    su_root_t *root;
    bool stopped;
    size_t timers, watches;     /* live ones: run() returns when both are 0 */
    /* Idle timers kept with their su_timer for reuse: a call starts and
     * stops a few timers, and each su_timer costs a malloc and a free. */
    struct loop_timer *idle;
    size_t idle_count;
    int epfd;                   /* su_root's epoll descriptor, or -1 */
    su_timer_t *wake;           /* makes a step that is waiting return (stop) */
} sip_loop;

/* The idle list holds at most IDLE_TIMERS_MAX, and no more than
 * IDLE_TIMERS_SLACK beyond the timers running: a burst of set-ups (each
 * with a timer that lingers 32 s) left 1,005 idle timers, 112 B each, for
 * the rest of the process's life; now they go as the load falls, and a
 * steady load still reuses (docs/decisions/sip-core.md, "Held-call memory:
 * the loop's idle timers"). */
#define IDLE_TIMERS_MAX 1024
#define IDLE_TIMERS_SLACK 64

/* 24 B: the loop is the su_root's magic (every su_timer callback gets
 * it), and an idle timer has no callback, so the idle list's link takes
 * its place. */
struct loop_timer {
    su_timer_t *t;
    union {
        loop_timer_cb cb;       /* running */
        struct loop_timer *next;   /* idle: in sl->idle */
    } u;
    void *arg;
};

struct loop_watch {
    su_wait_t wait;
    int index;
    int fd;
    loop_fd_cb cb;
    void *arg;
    sip_loop *sl;
};

static const loop_ops sip_loop_ops;

bool sip_loop_is(const loop *l) { return l && l->ops == &sip_loop_ops; }

size_t sip_loop_idle_timers(const loop *l) { return sip_loop_is(l) ? ((const sip_loop *)l)->idle_count : 0; }

su_root_t *sip_loop_root(loop *l) { return sip_loop_is(l) ? ((sip_loop *)l)->root : NULL; }

static double now_op(loop *l)
{
    (void)l;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An expired or reset timer is no longer running: back to the idle list,
 * which then gives up what is beyond the limits above (at most two a
 * release, as the running timers fall by one). */
static void timer_release(sip_loop *sl, loop_timer *lt)
{
    sl->timers--;
    lt->arg = NULL;
    lt->u.next = sl->idle;
    sl->idle = lt;
    sl->idle_count++;
    while (sl->idle_count > IDLE_TIMERS_MAX || sl->idle_count > sl->timers + IDLE_TIMERS_SLACK) {
        loop_timer *gone = sl->idle;
        sl->idle = gone->u.next;
        sl->idle_count--;
        su_timer_destroy(gone->t);
        free(gone);
    }
}

static void timer_fire_cb(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
    (void)t;
    loop_timer *lt = arg;
    sip_loop *sl = magic;   /* the root's (sip_loop_new) */
    loop_timer_cb cb = lt->u.cb;
    void *cbarg = lt->arg;
    /* Released before the callback: a fired timer may not be stopped, and
     * the callback may start new ones (reusing this one is fine: the su_timer
     * has expired and su_timer_expire does not touch it again). */
    timer_release(sl, lt);
    cb(&sl->base, cbarg);
}

/* The step's first zero-timeout wait on su_root's descriptor may wait up
 * to 1 ms (run_op, epoll_wait below): armed for each step, used once. */
static _Thread_local int stretch_epfd = -1;
static _Thread_local bool stretch_armed;

static loop_timer *timer_start_op(loop *l, double after, loop_timer_cb cb, void *arg)
{
    sip_loop *sl = (sip_loop *)l;
    double ms = after > 0 ? ceil(after * 1000.0) : 0;
    if (ms > 2e9)
        ms = 2e9;
    loop_timer *lt = sl->idle;
    if (lt) {
        sl->idle = lt->u.next;
        sl->idle_count--;
    } else {
        lt = cr_xcalloc(1, sizeof *lt);
        lt->t = su_timer_create(su_root_task(sl->root), 0);
        if (!lt->t)   /* only its allocation can fail: never NULL (loop.h) */
            cr_oom("SIP timer");
    }
    lt->u.cb = cb;
    lt->arg = arg;
    su_timer_set_interval(lt->t, timer_fire_cb, lt, (su_duration_t)ms);
    sl->timers++;
    /* Due now, set by a timer the step ran before its wait (a strand's
     * kick from a timer): the wait must not hold it back up to 1 ms. */
    if (ms == 0)
        stretch_armed = false;
    return lt;
}

static void timer_stop_op(loop *l, loop_timer *lt)
{
    if (!lt)
        return;
    sip_loop *sl = (sip_loop *)l;
    su_timer_reset(lt->t);
    timer_release(sl, lt);
}

static int wait_events(unsigned ev)
{
    return ((ev & LOOP_READ) ? SU_WAIT_IN : 0) | ((ev & LOOP_WRITE) ? SU_WAIT_OUT : 0);
}

static int watch_fire_cb(su_root_magic_t *magic, su_wait_t *w, su_wakeup_arg_t *arg)
{
    (void)magic;
    loop_watch *lw = arg;
    int re = su_wait_events(w, lw->fd);
    unsigned ev = 0;
    if (re & (SU_WAIT_IN | SU_WAIT_HUP | SU_WAIT_ERR))
        ev |= LOOP_READ;
    if (re & SU_WAIT_OUT)
        ev |= LOOP_WRITE;
    if (re & (SU_WAIT_HUP | SU_WAIT_ERR))
        ev |= LOOP_WRITE;
    lw->cb(&lw->sl->base, lw->fd, ev, lw->arg);
    return 0;
}

static loop_watch *watch_op(loop *l, int fd, unsigned events, loop_fd_cb cb, void *arg)
{
    sip_loop *sl = (sip_loop *)l;
    loop_watch *lw = cr_xcalloc(1, sizeof *lw);
    lw->fd = fd;
    lw->cb = cb;
    lw->arg = arg;
    lw->sl = sl;
    /* Never NULL (loop.h): su_root refuses only a bad or already watched
     * fd (a bug) or when it has no memory or room for another. */
    if (su_wait_create(&lw->wait, fd, wait_events(events)) < 0 ||
        (lw->index = su_root_register(sl->root, &lw->wait, watch_fire_cb, lw, 0)) <= 0) {
        if (errno == ENOMEM)
            cr_oom("SIP fd watch");
        fprintf(stderr, "callroute: cannot watch fd %d: %s\n", fd, strerror(errno));
        abort();
    }
    sl->watches++;
    return lw;
}

static void watch_modify_op(loop *l, loop_watch *lw, unsigned events)
{
    su_root_eventmask(((sip_loop *)l)->root, lw->index, lw->fd, wait_events(events));
}

static void unwatch_op(loop *l, loop_watch *lw)
{
    if (!lw)
        return;
    sip_loop *sl = (sip_loop *)l;
    /* Deregistering inside a callback is safe: the epoll port notices the
     * change and stops dispatching the batch it is in. */
    su_root_deregister(sl->root, lw->index);
    free(lw);
    sl->watches--;
}

/* su_root_step waits for the next timer in whole milliseconds, rounded
 * down: with a timer due in under 1 ms it waits with timeout 0, and under
 * load (a transaction timer per call, thousands live) one is nearly always
 * that close. Waiting 0 there made the loop spin (half the CPU); waiting
 * again ourselves (poll, 1 ms) after such a step cost a second system call
 * per wake-up, six a call — and a system call costs ~1 us on a
 * paravirtualised VM. Instead the step's own first epoll_wait on su_root's
 * descriptor, when it asks for 0 ms, waits up to 1 ms: any I/O wakes it at
 * once, timers keep their 1 ms precision (docs/decisions/sip-core.md,
 * "One wait a wake-up"). Only the loop thread's step, only su_root's
 * descriptor, only the first wait of a step (a second, after su_msg
 * messages, stays 0), and not when a timer due now was set in the step
 * (timer_start_op). */
typedef int (*epoll_wait_fn)(int, struct epoll_event *, int, int);
static epoll_wait_fn real_epoll_wait;

__attribute__((constructor)) static void find_epoll_wait(void)
{
    real_epoll_wait = (epoll_wait_fn)dlsym(RTLD_NEXT, "epoll_wait");
}

int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{
    if (!real_epoll_wait) {
        errno = ENOSYS;
        return -1;
    }
    if (stretch_armed && epfd == stretch_epfd) {
        stretch_armed = false;
        if (timeout == 0)
            timeout = 1;
    }
    return real_epoll_wait(epfd, events, maxevents, timeout);
}

static void run_op(loop *l)
{
    sip_loop *sl = (sip_loop *)l;
    sl->stopped = false;
    /* Like the real loop: until stopped or nothing is left to wait for (the
     * worker pool's own wakeup fd does not count). */
    while (!sl->stopped &&
           (sl->timers > 0 || sl->watches > (l->pool ? 1u : 0u) || l->real_pending > 0)) {
        stretch_epfd = sl->epfd;
        stretch_armed = sl->epfd >= 0;
        (void)su_root_step(sl->root, 1000);
        stretch_armed = false;
    }
}

static void wake_cb(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
    (void)magic;
    (void)t;
    (void)arg;
}

static void stop_op(loop *l)
{
    sip_loop *sl = (sip_loop *)l;
    sl->stopped = true;
    stretch_armed = false;
    su_root_break(sl->root);
    /* su_root_break ends su_root_run, not a step: a step whose timer called
     * this would still wait for I/O (up to a second). A timer due now makes
     * that wait return at once. */
    if (!sl->wake)
        sl->wake = su_timer_create(su_root_task(sl->root), 0);
    if (sl->wake)
        su_timer_set_interval(sl->wake, wake_cb, NULL, 0);
}

static void destroy_op(loop *l)
{
    sip_loop *sl = (sip_loop *)l;
    while (sl->idle) {
        loop_timer *lt = sl->idle;
        sl->idle = lt->u.next;
        su_timer_destroy(lt->t);
        free(lt);
    }
    if (sl->wake)
        su_timer_destroy(sl->wake);
    su_root_destroy(sl->root);
    free(sl);
    su_deinit();
}

static const loop_ops sip_loop_ops = {
    .name = "sofia-su_root",
    .now = now_op,
    .timer_start = timer_start_op,
    .timer_stop = timer_stop_op,
    .watch = watch_op,
    .watch_modify = watch_modify_op,
    .unwatch = unwatch_op,
    .run = run_op,
    .stop = stop_op,
    .destroy = destroy_op,
};

/* The epoll descriptors open now, as a bitmap over fds < 1024 (sofia does
 * not expose its port's descriptor: it is the one su_root_create adds). */
static void epoll_fds(unsigned char *map)
{
    memset(map, 0, 1024 / 8);
    DIR *dir = opendir("/proc/self/fd");
    if (!dir)
        return;
    struct dirent *de;
    while ((de = readdir(dir))) {
        int fd = atoi(de->d_name);
        char path[64], target[64];
        if (fd <= 0 || fd >= 1024)
            continue;
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n > 0) {
            target[n] = '\0';
            if (strcmp(target, "anon_inode:[eventpoll]") == 0)
                map[fd / 8] |= (unsigned char)(1u << (fd % 8));
        }
    }
    closedir(dir);
}

static int new_epoll_fd(const unsigned char *before)
{
    unsigned char after[1024 / 8];
    epoll_fds(after);
    int found = -1;
    for (int fd = 0; fd < 1024; fd++)
        if ((after[fd / 8] & ~before[fd / 8]) & (1u << (fd % 8))) {
            if (found >= 0)
                return -1;   /* not sure which: keep su_root's own wait */
            found = fd;
        }
    return found;
}

loop *sip_loop_new(void)
{
    if (su_init() != 0)
        return NULL;
    sip_loop *sl = cr_xcalloc(1, sizeof *sl);
    unsigned char before[1024 / 8];
    epoll_fds(before);
    sl->root = su_root_create(sl);   /* the magic every timer callback gets */
    sl->epfd = sl->root ? new_epoll_fd(before) : -1;
    if (!sl->root) {
        free(sl);
        su_deinit();
        return NULL;
    }
    /* The stack runs in our thread: no second thread waking us through a
     * socket for every event (the biggest single cost, notes/sofia-sip.md). */
    su_root_threading(sl->root, 0);
    sl->base.ops = &sip_loop_ops;
    return &sl->base;
}
