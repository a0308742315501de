/* media_bench.c — how many bridged G.711 calls the SIP driver's RTP relay
 * carries on one core with < 0.1% loss (issue 7's media goal).
 *
 * The relay is the driver's own RTP module (src/telephony/sip/sip_rtp.c) on
 * the su_root loop, pinned to CPU 0: N bridged calls = N pairs of sessions,
 * each relaying to the other. A generator process pinned to CPU 1 plays
 * both phones of every call: each leg sends one 20 ms PCMU packet every
 * 20 ms (50 packets/s per direction, 100 per call) from one socket with
 * sendmmsg, spread over the 20 ms, and counts what comes back relayed
 * (every session's remote is the generator's socket, so strict source lets
 * its packets in).
 * No SIP: this measures the media path alone.
 *
 * JSON lines: {"bench":"media","phase":"step","calls":N,"loss_pct":...,
 * "relay_cpu_pct":...,"gen_cpu_pct":...,"load_offered":bool}, then
 * {"bench":"media","phase":"best","calls":N,...}: the most calls with loss
 * < 0.1% at the full offered load (a step the generator could not feed
 * ends the ladder: "limited_by_generator").
 *   build/bench/bench/media_bench [--quick] */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "telephony/sip/sip_int.h"

#define PORT_MIN 20000
#define PORT_MAX 44000
#define BATCH 64

static double now_mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_self(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_stime.tv_sec +
           ((double)u.ru_utime.tv_usec + (double)u.ru_stime.tv_usec) / 1e6;
}

static void pin(int cpu)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    sched_setaffinity(0, sizeof s, &s);
}

static void nop_dtmf(void *o, char d)
{
    (void)o;
    (void)d;
}
static void nop_audio(void *o, const int16_t *p, size_t n)
{
    (void)o;
    (void)p;
    (void)n;
}
static const rtp_owner_ops ops = {.dtmf = nop_dtmf, .audio = nop_audio};

typedef struct gen_result {
    long sent, received;
    double cpu;
} gen_result;

/* The phones: every 5 ms a quarter of the legs send their packet. */
static gen_result generate(int fd, const int *ports, int legs, double seconds)
{
    gen_result r = {0};
    double c0 = cpu_self();
    static uint8_t pkt[BATCH][172];
    static struct sockaddr_in to[BATCH];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    uint8_t rbuf[BATCH][256];
    struct mmsghdr rmsgs[BATCH];
    struct iovec riov[BATCH];
    for (int i = 0; i < BATCH; i++) {
        riov[i] = (struct iovec){rbuf[i], sizeof rbuf[i]};
        memset(&rmsgs[i], 0, sizeof rmsgs[i]);
        rmsgs[i].msg_hdr.msg_iov = &riov[i];
        rmsgs[i].msg_hdr.msg_iovlen = 1;
    }
    uint16_t seq = 0;
    double start = now_mono(), next = start;
    int phase = 0;
    while (now_mono() - start < seconds) {
        /* send this quarter */
        int n = 0;
        for (int leg = phase; leg < legs; leg += 4) {
            uint8_t *p = pkt[n];
            p[0] = 0x80, p[1] = 0;
            p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
            memset(p + 4, 0, 4);
            memcpy(p + 8, &leg, 4);
            memset(p + 12, 0xff, 160);
            to[n] = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)ports[leg]),
                                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
            iov[n] = (struct iovec){p, 172};
            memset(&msgs[n], 0, sizeof msgs[n]);
            msgs[n].msg_hdr = (struct msghdr){.msg_name = &to[n], .msg_namelen = sizeof to[n],
                                              .msg_iov = &iov[n], .msg_iovlen = 1};
            if (++n == BATCH || leg + 4 >= legs) {
                int s = sendmmsg(fd, msgs, (unsigned)n, 0);
                r.sent += s > 0 ? s : 0;
                n = 0;
            }
        }
        if (++phase == 4) {
            phase = 0;
            seq++;
        }
        next += 0.005;
        /* drain what came back until the next quarter is due */
        for (;;) {
            double wait = next - now_mono();
            int got = recvmmsg(fd, rmsgs, BATCH, MSG_DONTWAIT, NULL);
            if (got > 0) {
                r.received += got;
                continue;
            }
            if (wait <= 0)
                break;
            struct timespec ts = {0, (long)(wait > 0.0005 ? 500000 : wait * 1e9)};
            nanosleep(&ts, NULL);
        }
    }
    /* late packets */
    double end = now_mono() + 0.3;
    while (now_mono() < end) {
        int got = recvmmsg(fd, rmsgs, BATCH, MSG_DONTWAIT, NULL);
        if (got > 0)
            r.received += got;
        else {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
    r.cpu = cpu_self() - c0;
    return r;
}

static void stop_cb(loop *l, void *arg)
{
    (void)arg;
    loop_stop(l);
}

/* One step: N calls for SECONDS; returns loss in percent. *FULL: the
 * generator offered the whole load (else the step says nothing). */
static double step(int calls, double seconds, bool *ok, bool *full)
{
    loop *l = sip_loop_new();
    rtp_ctx *c = rtp_ctx_new(l, "127.0.0.1", PORT_MIN, PORT_MAX);
    int legs = calls * 2;
    rtp_sess **s = calloc((size_t)legs, sizeof *s);
    int *ports = calloc((size_t)legs, sizeof *ports);
    int g = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in ga = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int big = 4 << 20;
    setsockopt(g, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    setsockopt(g, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    bind(g, (struct sockaddr *)&ga, sizeof ga);
    socklen_t gl = sizeof ga;
    getsockname(g, (struct sockaddr *)&ga, &gl);
    *ok = true;
    for (int i = 0; i < legs; i++) {
        s[i] = rtp_open(c, &ops, NULL);
        if (!s[i]) {
            *ok = false;
            legs = i;
            break;
        }
        ports[i] = rtp_local_port(s[i]);
        rtp_set_remote(s[i], &ga, 0, -1);
    }
    for (int i = 0; i + 1 < legs; i += 2) {
        rtp_set_relay(s[i], s[i + 1]);
        rtp_set_relay(s[i + 1], s[i]);
    }
    int pfd[2];
    if (!*ok || pipe(pfd) < 0) {
        *ok = false;
        return 100;
    }
    pid_t pid = fork();
    if (pid == 0) {
        pin(1);
        gen_result r = generate(g, ports, legs, seconds);
        if (write(pfd[1], &r, sizeof r) != sizeof r)
            _exit(1);
        _exit(0);
    }
    pin(0);
    double c0 = cpu_self();
    loop_timer_start(l, seconds + 0.5, stop_cb, NULL);
    loop_run(l);
    double relay_cpu = cpu_self() - c0;
    gen_result r = {0};
    if (read(pfd[0], &r, sizeof r) != sizeof r)
        *ok = false;
    waitpid(pid, NULL, 0);
    close(pfd[0]);
    close(pfd[1]);
    double loss = r.sent ? 100.0 * (double)(r.sent - r.received) / (double)r.sent : 100;
    if (loss < 0)
        loss = 0;
    /* 100 packets/s per call; under 99% of that the generator ran short */
    *full = (double)r.sent >= 0.99 * calls * 100 * seconds;
    /* A step the generator could not feed has no loss figure (the report
     * must not count it). */
    char lossbuf[32];
    snprintf(lossbuf, sizeof lossbuf, *full ? "%.4f" : "null", loss);
    printf("{\"bench\":\"media\",\"phase\":\"step\",\"calls\":%d,\"seconds\":%.1f,\"packets_sent\":%ld,"
           "\"packets_relayed\":%ld,\"loss_pct\":%s,\"relay_cpu_pct\":%.1f,\"gen_cpu_pct\":%.1f,"
           "\"load_offered\":%s}\n",
           calls, seconds, r.sent, r.received, lossbuf, 100 * relay_cpu / (seconds + 0.5),
           100 * r.cpu / (seconds + 0.3), *full ? "true" : "false");
    fflush(stdout);
    for (int i = 0; i < legs; i++)
        rtp_close(s[i]);
    free(s);
    free(ports);
    close(g);
    rtp_ctx_free(c);
    loop_destroy(l);
    return loss;
}

int main(int argc, char **argv)
{
    bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    static const int full[] = {100, 250, 500, 750, 1000, 1500, 2000, 3000, 4000, 0};
    static const int fast[] = {250, 500, 1000, 0};
    const int *steps = quick ? fast : full;
    double seconds = quick ? 2 : 5;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    int best = 0;
    double best_loss = 0;
    bool limited = false;
    for (int i = 0; steps[i]; i++) {
        bool ok, full;
        double loss = step(steps[i], seconds, &ok, &full);
        if (!ok) {
            fprintf(stderr, "media_bench: %d calls: could not set up (ports or fds)\n", steps[i]);
            break;
        }
        if (!full) {
            fprintf(stderr, "media_bench: %d calls: the generator could not offer the load: "
                    "the figure is limited by the generator\n", steps[i]);
            limited = true;
            break;
        }
        if (loss >= 0.1)
            break;
        best = steps[i];
        best_loss = loss;
    }
    printf("{\"bench\":\"media\",\"phase\":\"best\",\"calls\":%d,\"loss_pct\":%.4f,"
           "\"limited_by_generator\":%s}\n", best, best_loss, limited ? "true" : "false");
    return 0;
}
