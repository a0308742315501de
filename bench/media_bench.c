/* media_bench.c — how many bridged G.711 calls a relay carries on one core
 * with < 0.1% loss, and its CPU per packet: callroute's relay (issue 7's
 * media goal) and, with --rtpengine, rtpengine's userspace relay on the
 * same generator (issue 17 goal 5).
 *
 * callroute: the relay is the driver's own RTP module
 * (src/telephony/sip/sip_rtp.c) on the su_root loop of this process, pinned
 * to CPU 0: N bridged calls = N pairs of sessions, each relaying to the
 * other (every session's remote is the generator's socket, so strict source
 * lets its packets in). Its sockets are held as the product holds them by
 * default (settings.media.rtp_io: auto, io_uring where the kernel allows:
 * "rtp_io" in each step says which); --epoll measures the epoll path.
 * rtpengine: a running rtpengine (--table=-1, pinned to CPU 0 by its
 * runner, bench/media_bench.sh) given N calls over its NG control protocol
 * (offer and answer, both sides' SDP naming the generator's socket); its
 * CPU is read from /proc/PID (every thread).
 * The generator is the same process for both, pinned to CPU 1, playing both
 * phones of every call: each leg sends one 20 ms PCMU packet every 20 ms
 * (50 packets/s per direction, 100 per call) from one socket with
 * sendmmsg, spread over the 20 ms, and counts what comes back relayed.
 * No SIP: this measures the media path alone.
 *
 * --srtp (issue 19): the same bridged calls with phone A's leg SRTP (SDES,
 * AES_CM_128_HMAC_SHA1_80) and phone B's plain RTP, so the relay decrypts
 * A's packets toward B and encrypts B's toward A. callroute: the A session
 * of each pair gets keys (rtp_set_srtp, as an SDES offer/answer would give
 * it); rtpengine: the offer is RTP/SAVP with A's a=crypto and
 * "transport-protocol": "RTP/AVP" toward B, and A's receiving key is the
 * a=crypto of rtpengine's answer. The generator does phone A's crypto with
 * libsrtp2 (one context each way per call): it encrypts what A sends and
 * counts what A receives only when it authenticates and decrypts, and what
 * B receives only when it arrives in the clear. Peers "callroute-srtp" and
 * "rtpengine-srtp".
 *
 * JSON lines: {"bench":"media","peer":P,"phase":"step","calls":N,
 * "loss_pct":...,"relay_cpu_pct":...,"relay_ns_per_packet":...,
 * "gen_cpu_pct":...,"load_offered":bool}, then
 * {"bench":"media","peer":P,"phase":"best","calls":N,...}: the most calls
 * with loss < 0.1% at the full offered load (a step the generator could
 * not feed ends the ladder: "limited_by_generator").
 *   build/bench/bench/media_bench [--quick]
 *   build/bench/bench/media_bench [--quick] [--srtp] --rtpengine 127.0.0.1:PORT --relay-pid PID
 * --srtp-crypto: the relay's SRTP work alone, no sockets or generator:
 * N calls' SRTP sessions made as --srtp makes them, then, round robin over
 * the calls as the relay meets them, one packet phone A sent opened
 * (sess_srtp_open) and one toward phone A sealed (sess_srtp_seal); CPU ns
 * per SRTP packet ("srtp_ns_per_packet"), peer "callroute-srtp-crypto".
 * Phone A's packets are encrypted before the clock starts and its contexts
 * freed, so only the relay's contexts live, as in callroute.
 * --steps N,N,...: only these numbers of calls, each measured even after
 * one lost packets (to compare the CPU per packet at two sizes: a relay
 * near its core's limit still reports what a packet cost it). */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <srtp2/srtp.h>

#include "bench_clock.h"
#include "rtpengine_ng.h"
#include "telephony/sip/sip_int.h"
#include "telephony/sip/sip_rtp_sess.h"
#include "telephony/sip/sip_sdes.h"

#define PORT_MIN 20000
#define PORT_MAX 44000
#define BATCH 64

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
    long srtp_failed;   /* came back but did not authenticate, or encrypted where it should not be */
    double cpu;
} gen_result;

/* Phone A's crypto for every call (--srtp): TX[i] encrypts what phone A of
 * call i sends, RX[i] decrypts what it receives. NULL: plain calls. */
typedef struct phone_keys {
    srtp_t *tx, *rx;
} phone_keys;

/* What came back (N bytes): counted as relayed when it is what the phone
 * expects. The SSRC is the sending leg (see generate): an even leg is
 * phone A, so its packet arrived at phone B and must be in the clear; an
 * odd leg's arrived at phone A, encrypted, and must decrypt. */
static bool srtp_check(const phone_keys *k, uint8_t *pkt, unsigned n, int legs)
{
    int leg;
    if (n < 12)
        return false;
    memcpy(&leg, pkt + 8, 4);
    if (leg < 0 || leg >= legs)
        return false;
    if (leg % 2 == 0)
        return n == 172;
    int len = (int)n;
    return srtp_unprotect(k->rx[leg / 2], pkt, &len) == srtp_err_status_ok && len == 172;
}

static void count_back(gen_result *r, const phone_keys *k, struct mmsghdr *m, int got, int legs)
{
    if (!k->tx) {
        r->received += got;
        return;
    }
    for (int i = 0; i < got; i++) {
        if (srtp_check(k, m[i].msg_hdr.msg_iov->iov_base, m[i].msg_len, legs))
            r->received++;
        else
            r->srtp_failed++;
    }
}

/* The phones: every 5 ms a quarter of the legs send their packet. */
static gen_result generate(int fd, const int *ports, int legs, double seconds, const phone_keys *keys)
{
    gen_result r = {0};
    double c0 = cpu_self();
    static uint8_t pkt[BATCH][172 + SRTP_MAX_TRAILER_LEN];
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
            int len = 172;
            if (keys->tx && leg % 2 == 0 && srtp_protect(keys->tx[leg / 2], p, &len) != srtp_err_status_ok)
                continue;   /* never: a fresh stream with room for the tag */
            to[n] = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)ports[leg]),
                                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
            iov[n] = (struct iovec){p, (size_t)len};
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
        /* drain what came back until the next quarter is due */
        for (;;) {
            double wait = next - now_mono();
            int got = recvmmsg(fd, rmsgs, BATCH, MSG_DONTWAIT, NULL);
            if (got > 0) {
                count_back(&r, keys, rmsgs, got, legs);
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
            count_back(&r, keys, rmsgs, got, legs);
        else {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
    r.cpu = cpu_self() - c0;
    return r;
}

/* CPU seconds of every thread of process PID (schedstat: ns resolution). */
static double cpu_of_pid(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    double sum = 0;
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
    }
    closedir(d);
    return sum;
}

/* One of phone A's libsrtp2 contexts for KEY: its sender (outbound) or its
 * receiver (inbound), as the far phone of test_sip_rtp.c's SRTP tests. */
static srtp_t phone_srtp(const sdes_crypto *key, srtp_ssrc_type_t type)
{
    srtp_policy_t p;
    memset(&p, 0, sizeof p);
    srtp_crypto_policy_set_rtp_default(&p.rtp);   /* AES_CM_128_HMAC_SHA1_80 */
    srtp_crypto_policy_set_rtcp_default(&p.rtcp);
    p.ssrc.type = type;
    p.key = (unsigned char *)key->key;
    p.window_size = 128;
    srtp_t ctx = NULL;
    return srtp_create(&ctx, &p) == srtp_err_status_ok ? ctx : NULL;
}

/* The relay under test: callroute's (in this process) or a running rtpengine. */
typedef struct relay {
    const char *peer;
    bool rtpengine;
    bool srtp;          /* phone A's leg SRTP, phone B's plain */
    bool epoll;         /* callroute's sockets in epoll, not io_uring's tables (settings.media.rtp_io) */
    const char *rtp_io; /* what callroute's relay used ("" for rtpengine) */
    ng_client ng;
    pid_t pid;
    int step;           /* call-ids are unique per step (and per run and peer: rtpengine outlives us) */
} relay;

static void stop_cb(loop *l, void *arg)
{
    (void)arg;
    loop_stop(l);
}

/* The first a=crypto line of SDP (NUL-terminated) into *OUT. */
static bool sdp_crypto(const char *sdp, sdes_crypto *out)
{
    const char *a = strstr(sdp, "a=crypto:");
    if (!a)
        return false;
    a += strlen("a=crypto:");
    return sdes_parse(a, strcspn(a, "\r\n"), out) == SDES_OK;
}

/* rtpengine's set-up for CALLS calls: an offer and an answer each, both
 * sides' SDP naming the generator's socket GA. PORTS[2i]: where phone A of
 * call i sends (rtpengine's port in the answer), PORTS[2i+1]: phone B's
 * (rtpengine's port in the offer). With --srtp, phone A offers RTP/SAVP
 * with its key TX[i], rtpengine is told to speak RTP/AVP to B, and RX[i]
 * is the key of rtpengine's answer toward A. Returns the calls set up. */
static int rtpengine_setup(relay *r, const struct sockaddr_in *ga, int calls, int *ports, sdes_crypto *tx,
                           sdes_crypto *rx)
{
    char plain[512], offer[640], answer[NG_MAX], cid[64], crypto[128];
    ng_sdp(plain, sizeof plain, ga, "RTP/AVP", "");
    for (int i = 0; i < calls; i++) {
        const char *why = "";
        snprintf(cid, sizeof cid, "media-bench-%s-%d-%d-%d", r->peer, (int)getpid(), r->step, i);
        const char *a_sdp = plain;
        if (r->srtp) {
            if (sdes_new_key(&tx[i], 1, SDES_AES_CM_128_HMAC_SHA1_80) < 0 ||
                !sdes_format(crypto, sizeof crypto, &tx[i])) {
                fprintf(stderr, "media_bench: no SRTP key\n");
                return i;
            }
            ng_sdp(offer, sizeof offer, ga, "RTP/SAVP", crypto);
            a_sdp = offer;
        }
        int to_b = ng_offer_answer_sdp(&r->ng, "offer", cid, a_sdp, r->srtp ? "RTP/AVP" : NULL, NULL, 0, &why);
        int to_a = to_b < 0 ? -1 : ng_offer_answer_sdp(&r->ng, "answer", cid, plain, NULL, answer, sizeof answer,
                                                       &why);
        if (to_a >= 0 && r->srtp && !sdp_crypto(answer, &rx[i])) {
            why = "no usable a=crypto in the answer toward the SRTP side";
            for (char *c = answer; *c; c++)   /* shown below: printable only */
                if ((*c < ' ' || *c > '~') && *c != '\n')
                    *c = ' ';
            fprintf(stderr, "media_bench: rtpengine's answer:\n%.600s\n", answer);
            to_a = -1;
        }
        if (to_a < 0) {
            fprintf(stderr, "media_bench: rtpengine: call %d of %d: %s\n", i + 1, calls, why);
            return i;
        }
        ports[2 * i] = to_a;
        ports[2 * i + 1] = to_b;
    }
    return calls;
}

static void rtpengine_teardown(relay *r, int calls)
{
    char cid[64];
    for (int i = 0; i < calls; i++) {
        snprintf(cid, sizeof cid, "media-bench-%s-%d-%d-%d", r->peer, (int)getpid(), r->step, i);
        if (!ng_delete(&r->ng, cid))
            fprintf(stderr, "media_bench: rtpengine: delete %s failed\n", cid);
    }
}

/* One step: N calls for SECONDS; returns loss in percent. *FULL: the
 * generator offered the whole load (else the step says nothing). */
static double step(relay *rl, int calls, double seconds, bool *ok, bool *full)
{
    loop *l = NULL;
    rtp_ctx *c = NULL;
    int legs = calls * 2, set_up = 0;
    rtp_sess **s = calloc((size_t)legs, sizeof *s);
    int *ports = calloc((size_t)legs, sizeof *ports);
    /* phone A's keys per call (--srtp): what it sends with, receives with */
    sdes_crypto *ktx = calloc((size_t)calls, sizeof *ktx), *krx = calloc((size_t)calls, sizeof *krx);
    phone_keys keys = {0};
    int keyed = 0;
    int g = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in ga = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int big = 4 << 20;
    setsockopt(g, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    setsockopt(g, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    bind(g, (struct sockaddr *)&ga, sizeof ga);
    socklen_t gl = sizeof ga;
    getsockname(g, (struct sockaddr *)&ga, &gl);
    *ok = true;
    rl->step++;
    if (rl->rtpengine) {
        set_up = rtpengine_setup(rl, &ga, calls, ports, ktx, krx);
        *ok = set_up == calls;
    } else {
        l = sip_loop_new();
        c = rtp_ctx_new(l, "127.0.0.1", PORT_MIN, PORT_MAX, rl->epoll ? CFG_RTP_IO_EPOLL : CFG_RTP_IO_AUTO);
        rl->rtp_io = c && rtp_ctx_uses_io_uring(c) ? "io_uring" : "epoll";
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
            /* A's session: our key toward phone A (krx: what A decrypts
             * with), phone A's key (ktx), as an SDES offer/answer gives them */
            if (rl->srtp && (sdes_new_key(&krx[i / 2], 1, SDES_AES_CM_128_HMAC_SHA1_80) < 0 ||
                             sdes_new_key(&ktx[i / 2], 1, SDES_AES_CM_128_HMAC_SHA1_80) < 0 ||
                             rtp_set_srtp(s[i], &krx[i / 2], &ktx[i / 2]) < 0))
                *ok = false;
        }
    }
    /* The generator's side of the crypto, made before it starts its clock. */
    if (*ok && rl->srtp) {
        keys.tx = calloc((size_t)calls, sizeof *keys.tx);
        keys.rx = calloc((size_t)calls, sizeof *keys.rx);
        for (; keyed < calls; keyed++) {
            keys.tx[keyed] = phone_srtp(&ktx[keyed], ssrc_any_outbound);
            keys.rx[keyed] = phone_srtp(&krx[keyed], ssrc_any_inbound);
            if (!keys.tx[keyed] || !keys.rx[keyed]) {
                *ok = false;
                keyed++;
                break;
            }
        }
    }
    int pfd[2] = {-1, -1};
    double loss = 100;
    if (!*ok || pipe(pfd) < 0) {
        *ok = false;
        goto out;
    }
    pid_t pid = fork();
    if (pid == 0) {
        pin(1);
        gen_result r = generate(g, ports, legs, seconds, &keys);
        if (write(pfd[1], &r, sizeof r) != sizeof r)
            _exit(1);
        _exit(0);
    }
    double relay_cpu, window;
    if (rl->rtpengine) {
        /* rtpengine relays on CPU 0 by itself: this process only waits. */
        pin(1);
        double t0 = now_mono(), c0 = cpu_of_pid(rl->pid);
        waitpid(pid, NULL, 0);
        relay_cpu = cpu_of_pid(rl->pid) - c0;
        window = now_mono() - t0;
    } else {
        pin(0);
        double c0 = cpu_self();
        loop_timer_start(l, seconds + 0.5, stop_cb, NULL);
        loop_run(l);
        relay_cpu = cpu_self() - c0;
        window = seconds + 0.5;
        waitpid(pid, NULL, 0);
    }
    gen_result r = {0};
    if (read(pfd[0], &r, sizeof r) != sizeof r)
        *ok = false;
    loss = r.sent ? 100.0 * (double)(r.sent - r.received) / (double)r.sent : 100;
    if (loss < 0)
        loss = 0;
    /* 100 packets/s per call; under 99% of that the generator ran short */
    *full = (double)r.sent >= 0.99 * calls * 100 * seconds;
    /* A step the generator could not feed has no loss figure (the report
     * must not count it). */
    char lossbuf[32];
    snprintf(lossbuf, sizeof lossbuf, *full ? "%.4f" : "null", loss);
    printf("{\"bench\":\"media\",\"peer\":\"%s\",\"phase\":\"step\",\"calls\":%d,\"seconds\":%.1f,"
           "\"packets_sent\":%ld,\"packets_relayed\":%ld,\"loss_pct\":%s,\"relay_cpu_pct\":%.1f,"
           "\"relay_ns_per_packet\":%.0f,\"gen_cpu_pct\":%.1f,\"load_offered\":%s,\"srtp\":%s,"
           "\"srtp_failed\":%ld,\"rtp_io\":\"%s\"}\n",
           rl->peer, calls, seconds, r.sent, r.received, lossbuf, 100 * relay_cpu / window,
           r.received ? 1e9 * relay_cpu / (double)r.received : 0.0, 100 * r.cpu / (seconds + 0.3),
           *full ? "true" : "false", rl->srtp ? "true" : "false", r.srtp_failed, rl->rtp_io);
    fflush(stdout);
out:
    if (pfd[0] >= 0) {
        close(pfd[0]);
        close(pfd[1]);
    }
    if (rl->rtpengine)
        rtpengine_teardown(rl, set_up);
    for (int i = 0; i < legs && !rl->rtpengine; i++)
        rtp_close(s[i]);
    for (int i = 0; i < keyed; i++) {
        if (keys.tx[i])
            srtp_dealloc(keys.tx[i]);
        if (keys.rx[i])
            srtp_dealloc(keys.rx[i]);
    }
    free(keys.tx);
    free(keys.rx);
    free(ktx);
    free(krx);
    free(s);
    free(ports);
    close(g);
    if (c)
        rtp_ctx_free(c);
    if (l)
        loop_destroy(l);
    return loss;
}

/* --srtp-crypto: one step of CALLS calls; false if it could not be set up. */
static bool crypto_step(int calls)
{
    enum { PKT = 172, ROOM = PKT + SRTP_MAX_TRAILER_LEN };
    int rounds = 400000 / (2 * calls);
    if (rounds < 20)
        rounds = 20;
    loop *l = sip_loop_new();
    rtp_ctx *c = rtp_ctx_new(l, "127.0.0.1", PORT_MIN, PORT_MAX, CFG_RTP_IO_EPOLL);
    rtp_sess **s = calloc((size_t)calls, sizeof *s);
    uint8_t *sent = malloc((size_t)calls * (size_t)rounds * ROOM);   /* phone A's packets, encrypted */
    int *sent_len = malloc((size_t)calls * (size_t)rounds * sizeof *sent_len);
    bool ok = c && s && sent && sent_len;
    int opened = 0;
    for (; ok && opened < calls; opened++) {
        sdes_crypto ours, theirs;
        s[opened] = rtp_open(c, &ops, NULL);
        if (!s[opened] || sdes_new_key(&ours, 1, SDES_AES_CM_128_HMAC_SHA1_80) < 0 ||
            sdes_new_key(&theirs, 1, SDES_AES_CM_128_HMAC_SHA1_80) < 0 || rtp_set_srtp(s[opened], &ours, &theirs) < 0) {
            ok = false;
            break;
        }
        srtp_t phone = phone_srtp(&theirs, ssrc_any_outbound);
        for (int r = 0; ok && r < rounds; r++) {
            uint8_t *p = sent + ((size_t)r * (size_t)calls + (size_t)opened) * ROOM;
            p[0] = 0x80, p[1] = 0, p[2] = (uint8_t)(r >> 8), p[3] = (uint8_t)r;
            memset(p + 4, 0, 4);
            memcpy(p + 8, &opened, 4);
            memset(p + 12, 0xff, PKT - 12);
            int len = PKT;
            ok = phone && srtp_protect(phone, p, &len) == srtp_err_status_ok;
            sent_len[(size_t)r * (size_t)calls + (size_t)opened] = len;
        }
        if (phone)
            srtp_dealloc(phone);
    }
    double ns = 0;
    if (ok) {
        pin(0);
        uint8_t buf[ROOM];
        double c0 = cpu_self();
        for (int r = 0; ok && r < rounds; r++) {
            for (int i = 0; i < calls; i++) {
                size_t k = (size_t)r * (size_t)calls + (size_t)i, n = (size_t)sent_len[k];
                memcpy(buf, sent + k * ROOM, n);
                ok = ok && sess_srtp_open(s[i], buf, &n) && n == PKT;
                buf[0] = 0x80, buf[1] = 0, buf[2] = (uint8_t)(r >> 8), buf[3] = (uint8_t)r;
                uint32_t ssrc = 0x10000u + (uint32_t)i;
                memcpy(buf + 8, &ssrc, 4);
                n = PKT;
                ok = ok && sess_srtp_seal(s[i], buf, &n) && n > PKT;
            }
        }
        ns = 1e9 * (cpu_self() - c0) / (2.0 * calls * rounds);
    }
    if (ok)
        printf("{\"bench\":\"media\",\"peer\":\"callroute-srtp-crypto\",\"phase\":\"step\",\"calls\":%d,"
               "\"packets\":%ld,\"srtp_ns_per_packet\":%.0f}\n",
               calls, 2L * calls * rounds, ns);
    fflush(stdout);
    for (int i = 0; i < opened && s; i++)
        if (s[i])
            rtp_close(s[i]);
    free(s);
    free(sent);
    free(sent_len);
    if (c)
        rtp_ctx_free(c);
    loop_destroy(l);
    return ok;
}

static void usage(void)
{
    fprintf(stderr, "usage: media_bench [--quick] [--srtp | --srtp-crypto] [--steps N,N,...] [--epoll | --rtpengine HOST:PORT --relay-pid PID]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    bool quick = false, crypto = false;
    int chosen[16] = {0};
    bool all_steps = false;
    relay rl = {.peer = "callroute", .rtp_io = ""};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = true;
        else if (strcmp(argv[i], "--srtp") == 0)
            rl.srtp = true;
        else if (strcmp(argv[i], "--epoll") == 0) {
            rl.epoll = true;   /* by hand, not in make bench: docs/decisions/rtp-ports.md */
            rl.peer = "callroute-epoll";
        }
        else if (strcmp(argv[i], "--srtp-crypto") == 0)
            crypto = true;
        else if (strcmp(argv[i], "--rtpengine") == 0 && i + 1 < argc) {
            if (!ng_open(&rl.ng, argv[++i]))
                usage();
            rl.rtpengine = true;
            rl.peer = "rtpengine";
        } else if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc) {
            char *p = argv[++i];
            int n = 0;
            while (*p && n < 15) {
                char *end;
                long v = strtol(p, &end, 10);
                if (end == p || v <= 0 || v > 20000 || (*end && *end != ','))
                    usage();
                chosen[n++] = (int)v;
                p = *end ? end + 1 : end;
            }
            if (!n || *p)
                usage();
            all_steps = true;
        } else if (strcmp(argv[i], "--relay-pid") == 0 && i + 1 < argc)
            rl.pid = (pid_t)atoi(argv[++i]);
        else
            usage();
    }
    if (rl.srtp) {
        rl.peer = rl.rtpengine ? "rtpengine-srtp" : rl.epoll ? "callroute-epoll-srtp" : "callroute-srtp";
        if (!rtp_srtp_init()) {   /* as callroute does it; the generator's contexts, even without our relay */
            fprintf(stderr, "media_bench: srtp_init failed\n");
            return 1;
        }
    }
    if (rl.rtpengine && (rl.pid <= 0 || cpu_of_pid(rl.pid) < 0)) {
        fprintf(stderr, "media_bench: --rtpengine needs --relay-pid of the running rtpengine\n");
        return 2;
    }
    static const int full[] = {100, 250, 500, 750, 1000, 1500, 2000, 3000, 4000, 0};
    static const int fast[] = {250, 500, 1000, 0};
    const int *steps = all_steps ? chosen : quick ? fast : full;
    double seconds = quick ? 2 : 5;
    struct rlimit rlim;
    getrlimit(RLIMIT_NOFILE, &rlim);
    rlim.rlim_cur = rlim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rlim);
    if (crypto) {
        if (!rtp_srtp_init()) {
            fprintf(stderr, "media_bench: srtp_init failed\n");
            return 1;
        }
        for (int i = 0; steps[i]; i++)
            if (!crypto_step(steps[i])) {
                fprintf(stderr, "media_bench: --srtp-crypto: %d calls: could not set up\n", steps[i]);
                return 1;
            }
        return 0;
    }
    int best = 0;
    double best_loss = 0;
    bool limited = false;
    for (int i = 0; steps[i]; i++) {
        bool ok, full;
        double loss = step(&rl, steps[i], seconds, &ok, &full);
        if (!ok) {
            fprintf(stderr, "media_bench: %s: %d calls: could not set up (ports or fds)\n", rl.peer, steps[i]);
            break;
        }
        if (!full) {
            fprintf(stderr, "media_bench: %s: %d calls: the generator could not offer the load: "
                    "the figure is limited by the generator\n", rl.peer, steps[i]);
            limited = true;
            break;
        }
        if (loss >= 0.1) {
            if (all_steps)
                continue;
            break;
        }
        best = steps[i];
        best_loss = loss;
    }
    printf("{\"bench\":\"media\",\"peer\":\"%s\",\"phase\":\"best\",\"calls\":%d,\"loss_pct\":%.4f,"
           "\"limited_by_generator\":%s}\n", rl.peer, best, best_loss, limited ? "true" : "false");
    return 0;
}
