/* uring_relay_bench.c — would an io_uring RTP relay cost less CPU per packet
 * than today's epoll relay (issue 17 goal 5)? An experiment, not part of
 * callroute: both relays are written out here in a few lines each, with no
 * RTP logic, so that what differs is only how packets get in and out.
 *
 * N bridged calls = 2N UDP sockets on 127.0.0.1, each connected to the
 * generator's socket (the "phones"); leg 2i and 2i+1 relay to each other.
 * The relay runs in a child process pinned to CPU 0; the generator (this
 * process, CPU 1) sends one 172-byte packet every 20 ms per leg (as
 * bench/media_bench.c: a quarter of the legs every 5 ms, sendmmsg) and
 * counts what comes back. Relay CPU is read from /proc/PID/task/TID/schedstat
 * (every thread of the relay, io-wq workers too) over the step.
 *
 * Relays:
 *   epoll        today's design (sip_rtp_recv.c): level-triggered epoll,
 *                64 events a wait, one recv per readiness, send on the
 *                connected peer socket.
 *   uring        one multishot recvmsg per socket into a provided-buffer
 *                ring; each packet's send is an SQE (MSG_DONTWAIT, so it is
 *                issued inline or fails: never parked on a poll;
 *                IOSQE_CQE_SKIP_SUCCESS); io_uring_submit_and_wait sends the
 *                batch and waits for the next receives.
 *   uring-defer  the same with IORING_SETUP_SINGLE_ISSUER|DEFER_TASKRUN
 *                (6.1+): receive completions run when the relay waits.
 *   uring-fixed  uring-defer with the sockets in the fixed file table and
 *                their descriptors closed (what goal 4 would need).
 *
 *   cc -O2 -Wall -Wextra -Werror -o uring_relay_bench bench/uring/uring_relay_bench.c -luring
 *   uring_relay_bench [--seconds S] [--rounds R] [--modes epoll,uring,...] N...
 * One JSON line per step; rounds alternate the modes. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <liburing.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../bench_clock.h"

#define BATCH 64
#define PKT 172
#define NBUFS 8192          /* provided buffers (power of two) */
#define BUFSZ 256           /* io_uring_recvmsg_out + 172 bytes + SRTP trailer room */

enum mode { M_EPOLL, M_URING, M_URING_DEFER, M_URING_FIXED };
static const char *mode_name[] = {"epoll", "uring", "uring-defer", "uring-fixed"};

/* What the relay tells the parent (shared memory). */
typedef struct relay_stats {
    volatile long ready;      /* set up: the generator may start */
    long relayed, dropped;    /* sends made / refused */
    long syscalls;            /* epoll_wait+recv+send, or io_uring_enter */
    long enobufs;             /* multishot ended for want of buffers */
    int err;                  /* setup failure: errno */
} relay_stats;

/* CPU seconds of every thread of PID (schedstat: ns resolution). */
static double cpu_of_pid(pid_t pid, int *threads)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    double sum = 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char f[128];
        snprintf(f, sizeof f, "/proc/%d/task/%.20s/schedstat", (int)pid, e->d_name);
        FILE *fp = fopen(f, "r");
        unsigned long long ns = 0;
        if (fp) {
            if (fscanf(fp, "%llu", &ns) == 1)
                sum += (double)ns / 1e9;
            fclose(fp);
        }
        n++;
    }
    closedir(d);
    if (threads)
        *threads = n;
    return sum;
}

/* 2N sockets bound on 127.0.0.1 (kernel's port), connected to PHONE. */
static int open_legs(int legs, const struct sockaddr_in *phone, int *fds, int *ports)
{
    for (int i = 0; i < legs; i++) {
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t al = sizeof a;
        if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
            getsockname(fd, (struct sockaddr *)&a, &al) < 0 ||
            connect(fd, (const struct sockaddr *)phone, sizeof *phone) < 0)
            return -1;
        fds[i] = fd;
        ports[i] = ntohs(a.sin_port);
    }
    return 0;
}

/* ---- (a) today's relay ---- */

static void relay_epoll(const int *fds, int legs, relay_stats *st)
{
    int ep = epoll_create1(0);
    for (int i = 0; i < legs; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
    }
    st->ready = 1;
    struct epoll_event evs[64];
    uint8_t buf[BUFSZ];
    for (;;) {
        int n = epoll_wait(ep, evs, 64, -1);
        st->syscalls++;
        for (int k = 0; k < n; k++) {
            int leg = (int)evs[k].data.u32;
            ssize_t got = recvfrom(fds[leg], buf, sizeof buf, 0, NULL, NULL);
            st->syscalls++;
            if (got <= 0)
                continue;
            st->syscalls++;
            if (send(fds[leg ^ 1], buf, (size_t)got, MSG_DONTWAIT) == got)
                st->relayed++;
            else
                st->dropped++;
        }
    }
}

/* ---- (b), (c) io_uring relays ---- */

#define UD_SEND (1ull << 62)   /* user_data of a send (only failures complete) */

typedef struct uring_relay {
    struct io_uring ring;
    struct io_uring_buf_ring *br;
    uint8_t *bufs;
    struct msghdr mh;         /* multishot recvmsg: no name, no control */
    bool fixed;
    const int *fds;
    int pending[NBUFS];       /* buffers whose sends were queued, not yet submitted */
    int npending;
} uring_relay;

static struct io_uring_sqe *sqe_get(uring_relay *r, relay_stats *st);

/* Every queued send has been issued by io_uring_submit (MSG_DONTWAIT: it
 * copied the packet into an skb or failed), so its buffer goes back. */
static void recycle(uring_relay *r)
{
    int mask = io_uring_buf_ring_mask(NBUFS);
    for (int i = 0; i < r->npending; i++)
        io_uring_buf_ring_add(r->br, r->bufs + (size_t)r->pending[i] * BUFSZ, BUFSZ,
                              (unsigned short)r->pending[i], mask, i);
    io_uring_buf_ring_advance(r->br, r->npending);
    r->npending = 0;
}

static struct io_uring_sqe *sqe_get(uring_relay *r, relay_stats *st)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
    if (!sqe) {
        io_uring_submit(&r->ring);
        st->syscalls++;
        recycle(r);
        sqe = io_uring_get_sqe(&r->ring);
    }
    return sqe;
}

static void arm_recv(uring_relay *r, int leg, relay_stats *st)
{
    struct io_uring_sqe *sqe = sqe_get(r, st);
    io_uring_prep_recvmsg_multishot(sqe, r->fixed ? leg : r->fds[leg], &r->mh, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT | (r->fixed ? IOSQE_FIXED_FILE : 0);
    sqe->buf_group = 0;
    io_uring_sqe_set_data64(sqe, (uint64_t)leg);
}

static void relay_uring(int *fds, int legs, enum mode m, relay_stats *st)
{
    static uring_relay r;
    struct io_uring_params p = {0};
    p.flags = IORING_SETUP_CQSIZE;
    p.cq_entries = 32768;
    if (m != M_URING)
        p.flags |= IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    int ret = io_uring_queue_init_params(4096, &r.ring, &p);
    if (ret < 0) {
        st->err = -ret;
        return;
    }
    r.fds = fds;
    r.fixed = m == M_URING_FIXED;
    if (r.fixed) {
        if ((ret = io_uring_register_files(&r.ring, fds, (unsigned)legs)) < 0) {
            st->err = -ret;
            return;
        }
        for (int i = 0; i < legs; i++)
            close(fds[i]);   /* the ring's table holds the sockets now */
    }
    r.bufs = mmap(NULL, (size_t)NBUFS * BUFSZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    r.br = mmap(NULL, NBUFS * sizeof(struct io_uring_buf), PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r.bufs == MAP_FAILED || r.br == MAP_FAILED) {
        st->err = ENOMEM;
        return;
    }
    struct io_uring_buf_reg reg = {.ring_addr = (uint64_t)(uintptr_t)r.br, .ring_entries = NBUFS, .bgid = 0};
    if ((ret = io_uring_register_buf_ring(&r.ring, &reg, 0)) < 0) {
        st->err = -ret;
        return;
    }
    io_uring_buf_ring_init(r.br);
    for (int i = 0; i < NBUFS; i++)
        r.pending[r.npending++] = i;
    recycle(&r);
    for (int i = 0; i < legs; i++)
        arm_recv(&r, i, st);
    io_uring_submit(&r.ring);
    st->ready = 1;
    for (;;) {
        io_uring_submit_and_wait(&r.ring, 1);
        st->syscalls++;
        recycle(&r);
        struct io_uring_cqe *cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&r.ring, head, cqe) {
            seen++;
            uint64_t ud = io_uring_cqe_get_data64(cqe);
            if (ud & UD_SEND) {   /* only a failed send completes */
                st->dropped++;
                st->relayed--;
                continue;
            }
            int leg = (int)ud;
            if (!(cqe->flags & IORING_CQE_F_MORE)) {
                if (cqe->res == -ENOBUFS)
                    st->enobufs++;
                arm_recv(&r, leg, st);   /* the multishot ended: arm it again */
            }
            if (cqe->res <= 0 || !(cqe->flags & IORING_CQE_F_BUFFER))
                continue;
            int bid = (int)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
            uint8_t *b = r.bufs + (size_t)bid * BUFSZ;
            struct io_uring_recvmsg_out *o = io_uring_recvmsg_validate(b, cqe->res, &r.mh);
            if (!o) {
                r.pending[r.npending++] = bid;
                continue;
            }
            void *payload = io_uring_recvmsg_payload(o, &r.mh);
            unsigned len = io_uring_recvmsg_payload_length(o, cqe->res, &r.mh);
            struct io_uring_sqe *sqe = sqe_get(&r, st);
            int peer = leg ^ 1;
            io_uring_prep_send(sqe, r.fixed ? peer : fds[peer], payload, len, MSG_DONTWAIT);
            sqe->flags |= IOSQE_CQE_SKIP_SUCCESS | (r.fixed ? IOSQE_FIXED_FILE : 0);
            io_uring_sqe_set_data64(sqe, UD_SEND | (uint64_t)bid);
            r.pending[r.npending++] = bid;
            st->relayed++;
        }
        io_uring_cq_advance(&r.ring, seen);
    }
}

/* ---- the generator (bench/media_bench.c's, plain RTP) ---- */

typedef struct gen_result {
    long sent, received;
} gen_result;

static gen_result generate(int fd, const int *ports, int legs, double seconds)
{
    gen_result r = {0};
    static uint8_t pkt[BATCH][PKT];
    static struct sockaddr_in to[BATCH];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    static uint8_t rbuf[BATCH][256];
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
        int n = 0;
        for (int leg = phase; leg < legs; leg += 4) {
            uint8_t *p = pkt[n];
            p[0] = 0x80, p[1] = 0;
            p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
            memcpy(p + 8, &leg, 4);
            memset(p + 12, 0xff, PKT - 12);
            to[n] = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)ports[leg]),
                                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
            iov[n] = (struct iovec){p, PKT};
            memset(&msgs[n], 0, sizeof msgs[n]);
            msgs[n].msg_hdr = (struct msghdr){.msg_name = &to[n], .msg_namelen = sizeof to[n],
                                              .msg_iov = &iov[n], .msg_iovlen = 1};
            if (++n == BATCH) {
                int s = sendmmsg(fd, msgs, (unsigned)n, 0);
                r.sent += s > 0 ? s : 0;
                n = 0;
            }
        }
        if (n > 0) {
            int s = sendmmsg(fd, msgs, (unsigned)n, 0);
            r.sent += s > 0 ? s : 0;
        }
        if (++phase == 4) {
            phase = 0;
            seq++;
        }
        next += 0.005;
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
    double end = now_mono() + 0.3;   /* late packets */
    while (now_mono() < end) {
        int got = recvmmsg(fd, rmsgs, BATCH, MSG_DONTWAIT, NULL);
        if (got > 0)
            r.received += got;
        else {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
    return r;
}

/* One step: the relay in a child on CPU 0, the generator here on CPU 1. */
static int step(enum mode m, int calls, double seconds)
{
    int legs = calls * 2;
    int *fds = calloc((size_t)legs, sizeof *fds), *ports = calloc((size_t)legs, sizeof *ports);
    relay_stats *st = mmap(NULL, sizeof *st, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (!fds || !ports || st == MAP_FAILED)
        return -1;
    memset(st, 0, sizeof *st);
    int g = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in ga = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int big = 4 << 20;
    setsockopt(g, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    setsockopt(g, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    socklen_t gl = sizeof ga;
    if (bind(g, (struct sockaddr *)&ga, sizeof ga) < 0 || getsockname(g, (struct sockaddr *)&ga, &gl) < 0 ||
        open_legs(legs, &ga, fds, ports) < 0) {
        fprintf(stderr, "sockets: %s\n", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        pin(0);
        close(g);
        if (m == M_EPOLL)
            relay_epoll(fds, legs, st);
        else
            relay_uring(fds, legs, m, st);
        _exit(1);
    }
    for (int i = 0; i < legs; i++)
        close(fds[i]);
    pin(1);
    double deadline = now_mono() + 10;
    while (!st->ready && !st->err && now_mono() < deadline) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    int rc = 0;
    if (!st->ready) {
        fprintf(stderr, "%s: relay not ready: %s\n", mode_name[m], strerror(st->err));
        rc = -1;
    } else {
        long sc0 = st->syscalls;
        double c0 = cpu_of_pid(pid, NULL), gc0 = cpu_self(), t0 = now_mono();
        gen_result r = generate(g, ports, legs, seconds);
        int threads = 0;
        double relay_cpu = cpu_of_pid(pid, &threads) - c0, window = now_mono() - t0;
        double gen_cpu = cpu_self() - gc0;
        long sc = st->syscalls - sc0;
        double loss = r.sent ? 100.0 * (double)(r.sent - r.received) / (double)r.sent : 100;
        printf("{\"mode\":\"%s\",\"calls\":%d,\"seconds\":%.1f,\"sent\":%ld,\"relayed\":%ld,\"loss_pct\":%.4f,"
               "\"relay_cpu_pct\":%.1f,\"relay_ns_per_packet\":%.0f,\"syscalls_per_packet\":%.3f,"
               "\"gen_cpu_pct\":%.1f,\"relay_threads\":%d,\"enobufs\":%ld,\"dropped\":%ld}\n",
               mode_name[m], calls, seconds, r.sent, r.received, loss < 0 ? 0 : loss,
               100 * relay_cpu / window, r.received ? 1e9 * relay_cpu / (double)r.received : 0.0,
               r.received ? (double)sc / (double)r.received : 0.0, 100 * gen_cpu / window, threads,
               st->enobufs, st->dropped);
        fflush(stdout);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(g);
    munmap(st, sizeof *st);
    free(fds);
    free(ports);
    return rc;
}

int main(int argc, char **argv)
{
    double seconds = 10;
    int rounds = 3;
    enum mode modes[4] = {M_EPOLL, M_URING, M_URING_DEFER, M_URING_FIXED};
    int nmodes = 4;
    int calls[16], ncalls = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--modes") && i + 1 < argc) {
            nmodes = 0;
            for (char *t = strtok(argv[++i], ","); t && nmodes < 4; t = strtok(NULL, ","))
                for (int k = 0; k < 4; k++)
                    if (!strcmp(t, mode_name[k]))
                        modes[nmodes++] = (enum mode)k;
        } else if (ncalls < 16 && atoi(argv[i]) > 0)
            calls[ncalls++] = atoi(argv[i]);
        else {
            fprintf(stderr, "usage: %s [--seconds S] [--rounds R] [--modes epoll,uring,uring-defer,uring-fixed] N...\n",
                    argv[0]);
            return 2;
        }
    }
    if (!ncalls) {
        calls[0] = 250, calls[1] = 500, calls[2] = 1000;
        ncalls = 3;
    }
    signal(SIGPIPE, SIG_IGN);
    for (int r = 0; r < rounds; r++)
        for (int c = 0; c < ncalls; c++)
            for (int k = 0; k < nmodes; k++) {
                /* alternate the order each round so neither relay always runs first */
                int mk = r % 2 ? nmodes - 1 - k : k;
                if (step(modes[mk], calls[c], seconds) < 0)
                    return 1;
            }
    return 0;
}
