/* services_bench.c — 10,000 simulated calls all at once on one loop, each
 * waiting on a real service: an HTTP service that answers after 1 s, then a
 * PostgreSQL lookup (a pool of connections). All must complete; prints wall
 * time, CPU, peak RSS and memory per waiting call as JSON lines
 * {"bench":"services",...}. Run by bench/services_bench.sh, which starts
 * the servers:
 *   services_bench --http http://127.0.0.1:PORT [--pg postgresql://...] [--calls N] [--quick] */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "apps/registry.h"
#include "engine/engine.h"
#include "scenario/diag.h"
#include "services/svc.h"
#include "telephony/sim/sim.h"

typedef struct tally {
    long done, ok;
    const char *var, *want;       /* the variable each call must end with */
    long peak_waiting_rss_kb;
    size_t peak_heap;             /* live heap bytes (mallinfo2) while waiting */
} tally;

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2)
            res = 0;
        fclose(f);
    }
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static long peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void done_cb(void *arg, eng_call *c)
{
    tally *t = arg;
    t->done++;
    cr_value v;
    if (eng_var_get(c, t->var, &v)) {
        cr_strbuf b = CR_STRBUF_INIT;
        cr_val_to_text(v, &b);
        if (strcmp(cr_strbuf_cstr(&b), t->want) == 0)
            t->ok++;
        cr_strbuf_free(&b);
    }
}

/* Samples RSS while the calls wait (their memory is live then). */
static void sample_cb(loop *l, void *arg)
{
    tally *t = arg;
    long r = rss_kb();
    if (r > t->peak_waiting_rss_kb)
        t->peak_waiting_rss_kb = r;
    size_t h = mallinfo2().uordblks;
    if (h > t->peak_heap)
        t->peak_heap = h;
    if (t->done == 0)
        loop_timer_start(l, 0.1, sample_cb, t);
}

static scn_program *load(const char *yaml)
{
    char path[] = "/tmp/services-bench-XXXXXX.yaml";
    int fd = mkstemps(path, 5);
    if (fd < 0 || write(fd, yaml, strlen(yaml)) != (ssize_t)strlen(yaml))
        return NULL;
    close(fd);
    scn_diags d;
    scn_diags_init(&d);
    bool unreadable;
    scn_program *p = scn_program_load(path, app_registry, &d, &unreadable);
    if (!p)
        scn_diags_print(&d, stderr);
    scn_diags_free(&d);
    unlink(path);
    return p;
}

/* Places CALLS calls at once on one virtual loop and runs them to the end. */
static void run(const char *phase, scn_program *p, long calls, const char *var, const char *want, int pool)
{
    loop *l = loop_new_virtual((double)time(NULL));
    sim_driver *sd = sim_driver_new(l);
    char err[256];
    svc_options so = {.mail = SVC_MAIL_CAPTURE, .db_pool_size = pool};
    svc_ctx *svc = svc_new(l, p, &so, err, sizeof err);
    tally t = {.var = var, .want = want};
    eng_options eo = {.call_done = done_cb, .call_done_arg = &t, .random_seed = 1};
    eng_engine *e = eng_engine_new(l, sim_driver_tel(sd), svc, p, &eo);
    long rss0 = rss_kb();
    size_t heap0 = mallinfo2().uordblks;
    double t0 = mono(), c0 = cpu();
    for (long i = 0; i < calls; i++) {
        char id[32], from[32];
        snprintf(id, sizeof id, "bench-%ld", i);
        snprintf(from, sizeof from, "7916%07ld", i);
        tel_call_info info = {.call_id = id, .caller_number = from, .caller_name = "", .called_number = "1000",
                              .source = ""};
        sim_call(sd, &info, NULL, err, sizeof err);
    }
    double placed = mono() - t0;
    sample_cb(l, &t);
    loop_run(l);
    double wall = mono() - t0, used = cpu() - c0;
    long waiting = t.peak_waiting_rss_kb > rss0 ? t.peak_waiting_rss_kb - rss0 : 0;
    double heap = t.peak_heap > heap0 ? (double)(t.peak_heap - heap0) : 0;
    printf("{\"bench\":\"services\",\"phase\":\"%s\",\"calls\":%ld,\"completed\":%ld,\"ok\":%ld,"
           "\"all_complete\":%s,\"place_s\":%.3f,\"wall_s\":%.3f,\"cpu_s\":%.3f,\"cpu_us_per_call\":%.1f,"
           "\"waiting_rss_kb\":%ld,\"heap_bytes_per_waiting_call\":%.0f,\"peak_rss_kb\":%ld}\n",
           phase, calls, t.done, t.ok, t.done == calls && t.ok == calls ? "true" : "false", placed, wall, used,
           used * 1e6 / (double)calls, waiting, heap / (double)calls, peak_rss_kb());
    fflush(stdout);
    eng_engine_free(e);
    svc_free(svc);
    sim_driver_free(sd);
    loop_destroy(l);
}

int main(int argc, char **argv)
{
    const char *http = NULL, *pg = NULL;
    long calls = 10000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--http") == 0 && i + 1 < argc)
            http = argv[++i];
        else if (strcmp(argv[i], "--pg") == 0 && i + 1 < argc)
            pg = argv[++i];
        else if (strcmp(argv[i], "--calls") == 0 && i + 1 < argc)
            calls = atol(argv[++i]);
        else if (strcmp(argv[i], "--quick") == 0)
            continue;
        else {
            fprintf(stderr, "usage: services_bench --http URL [--pg URL] [--calls N] [--quick]\n");
            return 2;
        }
    }
    /* One socket per waiting HTTP call. */
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < (rlim_t)calls + 100)
        fprintf(stderr, "services_bench: only %ld file descriptors for %ld calls\n", (long)rl.rlim_cur, calls);

    char yaml[2048];
    if (http) {
        snprintf(yaml, sizeof yaml,
                 "version: 1\nroutes:\n  - name: main\n    script:\n"
                 "      - app: http\n        url: \"%s/delay/1?caller={caller_number}\"\n"
                 "        timeout: 60\n        save: { agent: \"$.agent.extension\" }\n"
                 "      - app: hangup\n",
                 http);
        scn_program *p = load(yaml);
        if (!p)
            return 1;
        run("http", p, calls, "agent", "101", 0);
        scn_program_unref(p);
    }
    if (pg) {
        snprintf(yaml, sizeof yaml,
                 "version: 1\nsettings:\n  databases:\n    billing: \"%s\"\nroutes:\n  - name: main\n    script:\n"
                 "      - app: db\n        database: billing\n"
                 "        query: \"SELECT agent FROM customers WHERE phone = ?\"\n"
                 "        params: [\"{caller_number}\"]\n        timeout: 60\n        save: { agent: agent }\n"
                 "      - app: hangup\n",
                 pg);
        scn_program *p = load(yaml);
        if (!p)
            return 1;
        run("postgresql", p, calls, "agent", "101", 8);
        scn_program_unref(p);
    }
    return 0;
}
