/* svc_testlib.h — helpers for the services tests: start the real peers
 * (the Python servers and pg.sh in tests/services) on 127.0.0.1, run a loop until a condition
 * holds. Header-only: each test_svc_*.c is its own program. */
#ifndef SVC_TESTLIB_H
#define SVC_TESTLIB_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "loop/loop.h"

static inline const char *tl_root(void)
{
    const char *r = getenv("ROOT");
    return r && *r ? r : ".";
}

static inline double tl_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Starts ARGV (NULL-terminated) with stdout on a pipe and waits for its
 * "PORT <n>" line. Returns the port (0 on failure); *PID is the child. */
static inline int tl_spawn(char *const argv[], pid_t *pid)
{
    int fds[2];
    if (pipe(fds) < 0)
        return 0;
    pid_t p = fork();
    if (p == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        setpgid(0, 0);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    *pid = p;
    FILE *f = fdopen(fds[0], "r");
    char line[128];
    int port = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "PORT %d", &port) == 1)
            break;
    if (f)
        fclose(f);
    return port;
}

/* SIGTERM, and SIGKILL when it is not gone within 3 s. */
static inline void tl_kill(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    int st;
    for (int i = 0; i < 300; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
}

/* The HTTP test service (tests/services/http_server.py). */
static inline int tl_http_server(pid_t *pid)
{
    char script[1024];
    snprintf(script, sizeof script, "%s/tests/services/http_server.py", tl_root());
    char *argv[] = {"/usr/bin/python3", script, NULL};
    return tl_spawn(argv, pid);
}

/* The capturing SMTP server on PORT (0: a free one), writing to DIR. */
static inline int tl_smtp_server(const char *dir, int port, pid_t *pid)
{
    char script[1024], p[16];
    snprintf(script, sizeof script, "%s/tests/services/smtp_server.py", tl_root());
    snprintf(p, sizeof p, "%d", port);
    char *argv[] = {"/usr/bin/python3", script, (char *)dir, p, NULL};
    return tl_spawn(argv, pid);
}

/* A temporary directory the postgres user can enter. */
static inline char *tl_tmpdir(void)
{
    char *d = strdup("/tmp/svc-test-XXXXXX");
    if (!mkdtemp(d))
        abort();
    chmod(d, 0755);
    return d;
}

static inline void tl_rmrf(const char *dir)
{
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        /* leftovers in /tmp are harmless */
    }
}

/* Runs a shell command; returns its first output line as a number. */
static inline long tl_sh_num(const char *cmd)
{
    FILE *f = popen(cmd, "r");
    long n = -1;
    if (f) {
        if (fscanf(f, "%ld", &n) != 1)
            n = -1;
        pclose(f);
    }
    return n;
}

/* Runs L until *FLAG is true or SECONDS of real time passed. */
typedef struct tl_wait {
    loop *l;
    volatile bool *flag;
    double deadline;
    bool timed_out;
} tl_wait;

static inline void tl_check_cb(loop *l, void *arg)
{
    tl_wait *w = arg;
    if (*w->flag) {
        loop_stop(l);
        return;
    }
    if (tl_mono() > w->deadline) {
        w->timed_out = true;
        loop_stop(l);
        return;
    }
    loop_timer_start(l, 0.01, tl_check_cb, w);
}

/* True when FLAG became true in time. Leaves no timer behind only if the
 * loop is stopped by the check itself; the next run cleans up. */
static inline bool tl_run_until(loop *l, volatile bool *flag, double seconds)
{
    tl_wait w = {l, flag, tl_mono() + seconds, false};
    loop_timer *t = loop_timer_start(l, 0, tl_check_cb, &w);
    (void)t;
    loop_run(l);
    return *flag && !w.timed_out;
}

static inline void tl_stop_cb(loop *l, void *arg)
{
    (void)arg;
    loop_stop(l);
}

/* Runs L for SECONDS of loop time. */
static inline void tl_run_for(loop *l, double seconds)
{
    loop_timer_start(l, seconds, tl_stop_cb, NULL);
    loop_run(l);
}

#endif
