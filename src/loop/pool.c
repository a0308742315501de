/* pool.c — a small worker pool for work that can only block (SQLite, large
 * file writes). Jobs run on 2-4 threads; completions are queued and an
 * eventfd wakes the loop, which runs each DONE callback on the loop thread.
 * A job counts as real I/O pending (loop->real_pending) until DONE has run,
 * so the virtual clock waits for it in real time. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "loop/loop.h"
#include "util/alloc.h"

#define POOL_MIN_THREADS 2
#define POOL_MAX_THREADS 4

typedef struct pool_job {
    struct pool_job *next;
    loop_work_fn work;
    loop_done_cb done;
    void *arg;
} pool_job;

struct loop_pool {
    loop *l;
    pthread_t threads[POOL_MAX_THREADS];
    int nthreads, idle;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pool_job *todo, *todo_tail;
    pool_job *done, *done_tail;
    int efd;
    loop_watch *w;
    bool quit;
};

void loop_pool_destroy(struct loop_pool *p);

static void *worker_main(void *arg)
{
    struct loop_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->todo && !p->quit) {
            p->idle++;
            pthread_cond_wait(&p->cv, &p->mu);
            p->idle--;
        }
        if (p->quit)
            break;
        pool_job *j = p->todo;
        p->todo = j->next;
        if (!p->todo)
            p->todo_tail = NULL;
        pthread_mutex_unlock(&p->mu);
        j->work(j->arg);
        pthread_mutex_lock(&p->mu);
        j->next = NULL;
        if (p->done_tail)
            p->done_tail->next = j;
        else
            p->done = j;
        p->done_tail = j;
        uint64_t one = 1;
        if (write(p->efd, &one, sizeof one) < 0) {
            /* the counter cannot overflow in practice; nothing to do */
        }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void pool_wake_cb(loop *l, int fd, unsigned events, void *arg)
{
    (void)events;
    struct loop_pool *p = arg;
    uint64_t n;
    if (read(fd, &n, sizeof n) < 0) {
        /* spurious wake-up: the queue below is the truth */
    }
    pthread_mutex_lock(&p->mu);
    pool_job *j = p->done;
    p->done = p->done_tail = NULL;
    pthread_mutex_unlock(&p->mu);
    while (j) {
        pool_job *next = j->next;
        l->real_pending--;
        if (j->done)
            j->done(l, j->arg);
        free(j);
        j = next;
    }
}

static void spawn_thread(struct loop_pool *p)
{
    if (pthread_create(&p->threads[p->nthreads], NULL, worker_main, p) == 0)
        p->nthreads++;
}

static struct loop_pool *pool_new(loop *l)
{
    struct loop_pool *p = cr_xcalloc(1, sizeof *p);
    p->l = l;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->efd < 0) {
        perror("callroute: eventfd");
        abort();
    }
    l->pool = p;   /* before the watch: the loop excludes it from "user" watches */
    p->w = loop_watch_fd(l, p->efd, LOOP_READ, pool_wake_cb, p);
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < POOL_MIN_THREADS; i++)
        spawn_thread(p);
    pthread_mutex_unlock(&p->mu);
    return p;
}

void loop_work(loop *l, loop_work_fn work, loop_done_cb done, void *arg)
{
    struct loop_pool *p = l->pool ? l->pool : pool_new(l);
    pool_job *j = cr_xmalloc(sizeof *j);
    j->next = NULL;
    j->work = work;
    j->done = done;
    j->arg = arg;
    l->real_pending++;
    pthread_mutex_lock(&p->mu);
    if (p->todo_tail)
        p->todo_tail->next = j;
    else
        p->todo = j;
    p->todo_tail = j;
    /* Grow up to the maximum while jobs queue up behind busy workers. */
    if (p->idle == 0 && p->nthreads < POOL_MAX_THREADS)
        spawn_thread(p);
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* Stops the workers (a job in progress finishes first); jobs not yet run
 * and completions not yet delivered are dropped without their callbacks. */
void loop_pool_destroy(struct loop_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->quit = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    for (pool_job *lists[2] = {p->todo, p->done}, **lp = lists; lp < lists + 2; lp++) {
        pool_job *j = *lp;
        while (j) {
            pool_job *next = j->next;
            p->l->real_pending--;
            free(j);
            j = next;
        }
    }
    if (p->w)
        loop_unwatch(p->l, p->w);
    close(p->efd);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}
