/* sip_driver.c — the `sip` driver: sofia's NTA agent set up for a B2BUA
 * that keeps SDP to itself (sip_nta.c), gateways, shutdown and the
 * tel_driver_ops table; admission control and the per-source limit are
 * sip_admit.c. Calls live in sip_nta.c /
 * sip_out.c / sip_leg.c. */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_tag_io.h>
#include <sofia-sip/tport_tag.h>
#include <sofia-sip/url.h>

#include "telephony/sip/sip_flood.h"
#include "telephony/sip/sip_int.h"
#include "telephony/sip/sip_mwi.h"
#include "telephony/sip/sip_tls.h"
#include "telephony/sip/sip_source.h"
#include "util/alloc.h"


/* Exported by libsofia-sip-ua but declared in no installed header. */
extern su_log_t nta_log[], tport_log[], su_log_global[];

static void grow_udp_rcvbuf(int port);

/* ---- logging ---- */

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void sip_log(sip_driver *d, sip_log_level lvl, const char *fmt, ...)
{
    if (d && lvl > d->log_level)
        return;
    char ts[32];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    localtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s.%03ld %s sip: ", ts, now.tv_nsec / 1000000, level_names[lvl]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- events to the engine ---- */

void sip_raise(sip_leg *leg, const tel_event *ev)
{
    sip_driver *d = leg->d;
    if (leg->released || !d->have_handler)
        return;
    sip_log(d, SIP_LOG_DEBUG, "%s %s: event %s (%d)", leg->outgoing ? "out" : "in",
            leg->call_id ? leg->call_id : "-", tel_event_names[ev->kind], ev->sip_code);
    sip_enter(d);
    d->h.event(d->h.eng, leg, leg->user, ev);
    sip_leave(d);
}

void sip_raise_kind(sip_leg *leg, tel_event_kind kind, int code, const char *cause)
{
    tel_event ev = {.kind = kind, .sip_code = code, .cause = cause};
    sip_raise(leg, &ev);
}

static void reap_cb(loop *l, void *arg)
{
    (void)l;
    sip_driver *d = arg;
    d->reap_timer = NULL;
    sip_leg_reap(d);
}

void sip_enter(sip_driver *d) { d->depth++; }

void sip_leave(sip_driver *d)
{
    if (--d->depth == 0 && d->reap) {
        /* Freed from a fresh stack: the engine may still hold the pointer
         * in the frame that released it. */
        if (!d->reap_timer)
            d->reap_timer = loop_timer_start(d->l, 0, reap_cb, d);
    }
}

/* ---- RTP inactivity (settings.media.rtp_timeout) ---- */

/* A leg whose peer should be sending: answered, neither side holding, the
 * peer not receive-only. Counters are compared once a second: nothing is
 * done per packet. */
static bool rtp_watched(const sip_leg *leg)
{
    return leg->state == LEG_UP && sip_leg_rtp(leg) && leg->have_remote && !leg->held && !leg->remote.null_addr &&
           leg->remote.mode == SDP_SENDRECV && (!leg->sent_once || leg->sent_mode == SDP_SENDRECV);
}

/* The call ends as a whole, by the system: hung up from the caller's leg
 * when it is still there (the engine ends the dial), else LEG alone. */
static void rtp_timed_out(sip_driver *d, sip_leg *leg, double silent)
{
    sip_leg *t = leg;
    sip_leg *from = sip_leg_from(leg);
    if (from && from->state != LEG_ENDED && !from->released)
        t = from;
    sip_log(d, SIP_LOG_INFO, "%s %s: no RTP for %.0fs: hanging up (rtp_timeout)", leg->outgoing ? "leg" : "call",
            leg->call_id ? leg->call_id : "-", silent);
    sip_nta_hangup(t, 408);
    if (!t->hangup_raised) {
        t->hangup_raised = true;
        tel_event ev = {.kind = TEL_EV_HANGUP, .sip_code = 408, .cause = "rtp_timeout", .by_system = true};
        sip_raise(t, &ev);
    }
}

static void rtp_watch_cb(loop *l, void *arg)
{
    sip_driver *d = arg;
    d->rtp_watch = NULL;
    double now = loop_now(l), limit = d->cfg->settings.rtp_timeout;
    sip_enter(d);   /* legs are only reaped once this returns */
    for (sip_leg *leg = d->legs; leg; leg = leg->next) {
        /* A leg without an anchor has no RTP to time out: it starts
         * counting when it gets one (sip_anchor_of). */
        struct sip_anchor *a = leg->anchor;
        if (!a)
            continue;
        unsigned long rx = 0, tx = 0;
        if (a->rtp)
            rtp_counters(a->rtp, &rx, &tx);
        if (limit <= 0 || !rtp_watched(leg) || rx != a->rx_seen) {
            a->rx_seen = rx;
            a->rx_at = now;
        } else if (now - a->rx_at >= limit) {
            rtp_timed_out(d, leg, now - a->rx_at);
            if (leg->anchor)
                leg->anchor->rx_at = now;
        }
    }
    sip_leave(d);
    sip_rtp_watch(d);
}

void sip_rtp_watch(sip_driver *d)
{
    if (!d->rtp_watch && d->legs && !d->shutting_down)
        d->rtp_watch = loop_timer_start(d->l, 1.0, rtp_watch_cb, d);
}

bool sip_is_proxy(const sip_driver *d, const struct sockaddr_in *a)
{
    return d->have_proxy && a->sin_addr.s_addr == d->proxy.sin_addr.s_addr && a->sin_port == d->proxy.sin_port;
}

/* Where the request being handled comes from. From the cluster's front
 * end (settings.cluster.proxy), the caller's own address it passes on in
 * X-Callroute-Source, so gateways are told by their address and bans hit
 * the phone, not the proxy; a header from anyone else is ignored. */
bool sip_request_source(sip_driver *d, struct sockaddr_in *out)
{
    msg_t *m = sip_nta_current_request(d);
    su_addrinfo_t *ai = m ? msg_addrinfo(m) : NULL;
    if (!ai || !ai->ai_addr || ai->ai_addr->sa_family != AF_INET)
        return false;
    memcpy(out, ai->ai_addr, sizeof *out);
    if (!sip_is_proxy(d, out))
        return true;
    const sip_t *sip = sip_object(m);
    for (const sip_unknown_t *u = sip ? sip->sip_unknown : NULL; u; u = u->un_next)
        if (u->un_name && strcasecmp(u->un_name, SIP_SOURCE_HEADER) == 0) {
            struct sockaddr_in orig;
            if (sip_source_parse(u->un_value, &orig))
                *out = orig;
            break;
        }
    return true;
}

/* ---- driver ops ---- */

#define DRV(td) ((sip_driver *)(td))

static void set_handler_op(tel_driver *td, const tel_handler *h)
{
    DRV(td)->h = *h;
    DRV(td)->have_handler = h->incoming && h->event;
}

static void leg_set_user_op(tel_driver *td, tel_leg *leg, void *user)
{
    (void)td;
    leg->user = user;
}

static int answer_op(tel_driver *td, tel_leg *leg)
{
    (void)td;
    return leg->outgoing ? -1 : sip_nta_answer(leg);
}

static int ringing_op(tel_driver *td, tel_leg *leg, bool early)
{
    (void)td;
    return leg->outgoing ? -1 : sip_nta_ringing(leg, early);
}

static int hangup_op(tel_driver *td, tel_leg *leg, int code)
{
    sip_enter(DRV(td));
    int rc = sip_nta_hangup(leg, code);
    sip_leave(DRV(td));
    return rc;
}

static tel_leg *dial_op(tel_driver *td, const tel_dial_req *req, void *user)
{
    sip_enter(DRV(td));
    tel_leg *leg = sip_out_dial(DRV(td), req, user);
    sip_leave(DRV(td));
    return leg;
}

static int bridge_op(tel_driver *td, tel_leg *a, tel_leg *b)
{
    (void)td;
    return sip_leg_bridge(a, b);
}

static int media_bypass_op(tel_driver *td, tel_leg *leg)
{
    (void)td;
    return sip_bypass_start(leg);
}

static int unbridge_op(tel_driver *td, tel_leg *a, tel_leg *b)
{
    (void)td;
    return sip_leg_unbridge(a, b);
}

static int transfer_op(tel_driver *td, tel_leg *leg, const char *to)
{
    (void)td;
    return sip_leg_transfer(leg, to);
}

static tel_op *play_op(tel_driver *td, tel_leg *leg, const char *path, bool interruptible,
                       tel_op_done_cb cb, void *arg)
{
    (void)td;
    return sip_media_play(leg, path, interruptible, cb, arg);
}

static tel_op *tone_op(tel_driver *td, tel_leg *leg, tel_tone tone, double seconds,
                       tel_op_done_cb cb, void *arg)
{
    (void)td;
    return sip_media_tone(leg, tone, seconds, cb, arg);
}

static tel_op *play_pcm_op(tel_driver *td, tel_leg *leg, const int16_t *pcm, size_t count,
                           tel_op_done_cb cb, void *arg)
{
    (void)td;
    return sip_media_play_pcm(leg, pcm, count, cb, arg);
}

static tel_op *record_op(tel_driver *td, tel_leg *leg, const char *path, double max_seconds,
                         bool beep, double silence, tel_op_done_cb cb, void *arg)
{
    (void)td;
    return sip_media_record(leg, path, max_seconds, beep, silence, cb, arg);
}

static tel_op *music_op(tel_driver *td, tel_leg *leg, const char *path, tel_op_done_cb cb, void *arg)
{
    sip_enter(DRV(td));
    tel_op *op = sip_media_music(leg, path, cb, arg);
    sip_leave(DRV(td));
    return op;
}

static tel_op *tap_op(tel_driver *td, tel_leg *a, tel_leg *b,
                      void (*frames)(void *arg, const int16_t *a, const int16_t *b, size_t n),
                      tel_op_done_cb done, void *arg)
{
    (void)td;
    return sip_media_tap(a, b, frames, done, arg);
}

static void op_cancel_op(tel_driver *td, tel_op *op) { sip_media_cancel(DRV(td), op); }

static int mix_join_op(tel_driver *td, tel_leg *leg, const char *room, unsigned flags)
{
    (void)td;
    return sip_mix_join(leg, room, flags);
}

static void mix_leave_op(tel_driver *td, tel_leg *leg)
{
    (void)td;
    sip_mix_leave(leg);
}

static void mwi_op(tel_driver *td, const char *user, unsigned n, unsigned o, bool unsolicited)
{
    sip_nta_mwi_changed(DRV(td), user, n, o, unsolicited);
}

static void leg_release_op(tel_driver *td, tel_leg *leg)
{
    (void)td;
    leg->released = true;
    leg->user = NULL;
    sip_leg_maybe_free(leg);
}

static void destroy_op(tel_driver *td);

static const tel_driver_ops sip_ops = {
    .name = "sip",
    .set_handler = set_handler_op,
    .leg_set_user = leg_set_user_op,
    .answer = answer_op,
    .ringing = ringing_op,
    .hangup = hangup_op,
    .dial = dial_op,
    .bridge = bridge_op,
    .media_bypass = media_bypass_op,
    .unbridge = unbridge_op,
    .transfer = transfer_op,
    .play = play_op,
    .tone = tone_op,
    .play_pcm = play_pcm_op,
    .tap = tap_op,
    .record = record_op,
    .music = music_op,
    .mwi = mwi_op,
    .op_cancel = op_cancel_op,
    .mix_join = mix_join_op,
    .mix_leave = mix_leave_op,
    .message = sip_msg_send,
    .message_cancel = sip_msg_cancel,
    .leg_release = leg_release_op,
    .destroy = destroy_op,
};

/* ---- create, reload, shutdown, destroy ---- */

/* "udp:H:P" / "tcp:H:P" / "tls:H:P" / "H:P" / "sip:H:P" -> the agent's URL; host
 * and port out. */
static bool listen_url(const char *spec, char *url, size_t n, char *host, size_t hn, int *port)
{
    const char *transport = NULL, *hp = spec;
    if (strncmp(spec, "udp:", 4) == 0)
        transport = "udp", hp = spec + 4;
    else if (strncmp(spec, "tcp:", 4) == 0)
        transport = "tcp", hp = spec + 4;
    else if (strncmp(spec, "tls:", 4) == 0)
        transport = "tls", hp = spec + 4;
    else if (strncmp(spec, "sip:", 4) == 0)
        hp = spec + 4;
    const char *colon = strrchr(hp, ':');
    if (!colon)
        return false;
    size_t hl = (size_t)(colon - hp);
    if (hl == 0 || hl >= hn)
        return false;
    memcpy(host, hp, hl);
    host[hl] = '\0';
    *port = atoi(colon + 1);
    if (*port <= 0 || *port > 65535)
        return false;
    /* NTA binds TLS only for a sips: URL (sip: means udp, tcp and sctp). */
    if (transport && strcmp(transport, "tls") == 0)
        snprintf(url, n, "sips:%s:%d", host, *port);
    else
        snprintf(url, n, "sip:%s:%d%s%s", host, *port, transport ? ";transport=" : "",
                 transport ? transport : "");
    return true;
}

static void pick_local_ip(char *out, size_t n)
{
    struct ifaddrs *ifs = NULL;
    snprintf(out, n, "127.0.0.1");
    if (getifaddrs(&ifs) != 0)
        return;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
            continue;
        struct in_addr a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
        if ((ntohl(a.s_addr) >> 24) == 127)
            continue;
        inet_ntop(AF_INET, &a, out, (socklen_t)n);
        break;
    }
    freeifaddrs(ifs);
}

/* IP is an IPv4 address of this host: a UDP socket binds it. */
static bool media_ip_usable(const char *ip)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    if (inet_pton(AF_INET, ip, &a.sin_addr) != 1 || a.sin_addr.s_addr == htonl(INADDR_ANY))
        return false;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

tel_driver *sip_driver_new(loop *l, tel_config *cfg, const sip_options *opt, char *err,
                           size_t errlen)
{
    su_root_t *root = sip_loop_root(l);
    if (!root) {
        snprintf(err, errlen, "the SIP driver needs the su_root loop (sip_loop_new)");
        return NULL;
    }
    sip_driver *d = cr_xcalloc(1, sizeof *d);
    d->base.ops = &sip_ops;
    d->l = l;
    d->root = root;
    su_home_init(d->home);
    d->cfg = tel_config_ref(cfg);
    if (opt)
        d->opt = *opt;
    d->log_level = d->opt.log_level;
    d->tokens_at = loop_now(l);
    d->tokens = fmax(1.0, cfg->settings.calls_per_second);
    d->have_proxy = cfg->settings.cluster_proxy && sip_source_proxy(cfg->settings.cluster_proxy, &d->proxy);

    /* Keep sofia quiet unless we debug (its own trace goes to stderr). */
    int sofia_level = d->log_level >= SIP_LOG_DEBUG && getenv("CALLROUTE_SOFIA_DEBUG") ? 5 : 0;
    su_log_set_level(su_log_default, (unsigned)sofia_level);
    su_log_set_level(su_log_global, (unsigned)sofia_level);
    su_log_set_level(nta_log, (unsigned)sofia_level);
    su_log_set_level(tport_log, (unsigned)sofia_level);

    const char *const *specs = d->opt.listen;
    size_t nspec = d->opt.listen_count;
    static const char *const dflt[] = {"0.0.0.0:5060"};
    if (nspec == 0 && cfg->settings.sip_listen_count > 0) {
        specs = cfg->settings.sip_listen;
        nspec = cfg->settings.sip_listen_count;
    }
    if (nspec == 0) {
        specs = dflt;
        nspec = 1;
    }
    char urls[4][128];
    if (nspec > 4)
        nspec = 4;
    for (size_t i = 0; i < nspec; i++) {
        char host[64];
        int port;
        if (!listen_url(specs[i], urls[i], sizeof urls[i], host, sizeof host, &port)) {
            snprintf(err, errlen, "bad SIP listen address '%s' (expected udp:HOST:PORT, tcp:HOST:PORT, tls:HOST:PORT or HOST:PORT)",
                     specs[i]);
            destroy_op(&d->base);
            return NULL;
        }
        if (strncmp(urls[i], "sips:", 5) == 0 && !d->tls_contact[0]) {
            /* Phones with sip: Contacts called over TLS need a sip: Contact
             * back (RFC 3261 12.1.1: sips: only when the request was sips:);
             * sofia's own is sips:. A wildcard host: this host's address. */
            char addr[64];
            if (strcmp(host, "0.0.0.0") == 0)
                pick_local_ip(addr, sizeof addr);
            else
                snprintf(addr, sizeof addr, "%s", host);
            snprintf(d->tls_contact, sizeof d->tls_contact, "<sip:%s:%d;transport=tls>", addr, port);
        }
        if (i == 0) {
            d->sip_port = port;
            if (strcmp(host, "0.0.0.0") == 0)
                pick_local_ip(d->sip_host, sizeof d->sip_host);
            else
                snprintf(d->sip_host, sizeof d->sip_host, "%s", host);
        }
    }
    /* RTP binds the address SDP announces, never all of them: settings'
     * media address, else the SIP address (a wildcard or a name: this
     * host's first IPv4 address). Read at start; a reload does not move it. */
    struct in_addr media;
    if (cfg->settings.media_address)
        snprintf(d->media_ip, sizeof d->media_ip, "%s", cfg->settings.media_address);
    else if (inet_pton(AF_INET, d->sip_host, &media) == 1)
        snprintf(d->media_ip, sizeof d->media_ip, "%s", d->sip_host);
    else
        pick_local_ip(d->media_ip, sizeof d->media_ip);
    if (!media_ip_usable(d->media_ip)) {
        snprintf(err, errlen, "cannot bind RTP to %s (settings.media.address: not an IPv4 address of this host?)",
                 d->media_ip);
        destroy_op(&d->base);
        return NULL;
    }
    d->rtp = rtp_ctx_new(l, d->media_ip, cfg->settings.rtp_port_min, cfg->settings.rtp_port_max,
                         cfg->settings.rtp_io);
    d->reg = sip_registrar_new(d);
    d->flood = sip_flood_new();
    if (!d->rtp || !d->reg || !d->flood) {
        snprintf(err, errlen, "cannot set up media or the registrar");
        destroy_op(&d->base);
        return NULL;
    }
    sip_registrar_set_users(d->reg, cfg);
    sip_gw_load(d);
    char io[256];
    rtp_ctx_io_text(d->rtp, io, sizeof io);
    sip_log(d, SIP_LOG_INFO, "RTP sockets: %s", io);
    if (rtp_ctx_capacity(d->rtp) < rtp_ctx_ports(d->rtp))
        sip_log(d, SIP_LOG_WARN,
                "the open-files limit (RLIMIT_NOFILE, not raised further) allows %zu RTP sockets of the %zu "
                "ports of settings.media.rtp_ports: calls beyond %zu get 503 (raise LimitNOFILE)",
                rtp_ctx_capacity(d->rtp), rtp_ctx_ports(d->rtp), rtp_ctx_capacity(d->rtp) / 2);

    /* P-Asserted-Identity and the other extension headers get parsed. */
    sip_update_default_mclass(sip_extend_mclass(NULL));

    unsigned t1x64 = d->opt.t1x64_ms ? d->opt.t1x64_ms : 8000;
    /* A tls: listener reads its certificate from a private directory made
     * for the moment sofia reads it (sip_tls.c). */
    bool tls = false;
    for (size_t i = 0; i < nspec; i++)
        tls = tls || strncmp(urls[i], "sips:", 5) == 0;
    const cfg_tls_settings *ts = &cfg->settings.sip_tls;
    char tls_dir[300] = "";
    if (tls && !ts->enabled) {
        snprintf(err, errlen, "a tls: SIP listener needs settings.sip.tls (cert and key)");
        destroy_op(&d->base);
        return NULL;
    }
    if (tls && !sip_tls_dir_make(ts, tls_dir, sizeof tls_dir, err, errlen)) {
        destroy_op(&d->base);
        return NULL;
    }
    if (tls)
        sip_tls_log_attach(d);
    /* The agent binds one sip: URL and one sips: URL (the TLS listener):
     * the first of each kind is taken. */
    const char *plain_url = NULL, *tls_url = NULL;
    size_t unused = 0;
    for (size_t i = 0; i < nspec; i++) {
        const char **slot = strncmp(urls[i], "sips:", 5) == 0 ? &tls_url : &plain_url;
        if (*slot)
            unused++;
        else
            *slot = urls[i];
    }
    if (tls)
        sip_tls_ctx_catch();   /* the listener's OpenSSL context, for min_version and reload */
    /* sofia's NTA (sip_nta.c), its tls: listener (sip_nta_tls.c) from the
     * certificate directory and policy made above. */
    if (!plain_url || sip_nta_start(d, plain_url, t1x64, err, errlen) < 0 ||
        (tls_url && !sip_nta_tls_listen(d, tls_url, tls_dir, sip_tls_policy(ts), err, errlen))) {
        if (!plain_url)
            snprintf(err, errlen, "SIP needs a udp: or tcp: listen address (beside a tls: one)");
        sip_tls_dir_remove(tls_dir);
        destroy_op(&d->base);
        return NULL;
    }
    sip_tls_dir_remove(tls_dir);
    if (tls && !sip_tls_ctx_caught(ts, err, errlen)) {
        destroy_op(&d->base);
        return NULL;
    }
    sip_tls_check_gateways(d, tls);
    if (unused)
        sip_log(d, SIP_LOG_WARN, "SIP listens on %s%s%s only: sofia takes one udp/tcp and one tls address",
                plain_url ? plain_url : "", plain_url && tls_url ? " and " : "", tls_url ? tls_url : "");
    grow_udp_rcvbuf(d->sip_port);
    /* From now on a name in a request (Via host, maddr) is never looked up
     * with a blocking call on the loop (sip_guard.c). */
    sip_dns_guard(true);
    sip_guard_recv_filter(sip_recv_filter_cb, d);
    sip_gw_register_all(d);   /* sip_nta_gwreg.c */
    return &d->base;
}

/* sofia's UDP listeners keep the kernel's default receive buffer (~200 KB,
 * about 14 ms of traffic at 1,000 calls/s), and a short stall then drops
 * INVITEs (UdpRcvbufErrors). sofia has no tag for it and does not expose its
 * sockets, so find the UDP sockets bound to the SIP port and enlarge them
 * (capped by net.core.rmem_max), as Kamailio sizes its own buffers. */
static void grow_udp_rcvbuf(int port)
{
    for (int fd = 3; fd < 1024; fd++) {
        struct stat st;
        if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
            continue;
        int type = 0;
        socklen_t len = sizeof type;
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_DGRAM)
            continue;
        struct sockaddr_storage ss;
        len = sizeof ss;
        if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
            continue;
        int bound = ss.ss_family == AF_INET    ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
                    : ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                               : -1;
        if (bound != port)
            continue;
        int size = 4 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
}

void sip_driver_set_config(tel_driver *td, tel_config *cfg)
{
    sip_driver *d = DRV(td);
    tel_config *old = d->cfg;
    d->cfg = tel_config_ref(cfg);
    sip_registrar_set_users(d->reg, cfg);
    sip_gw_load(d);
    sip_gw_register_all(d);
    sip_tls_reloaded(d, &cfg->settings.sip_tls);
    tel_config_unref(old);
}

int sip_driver_port(tel_driver *td) { return DRV(td)->sip_port; }

static void shutdown_finish(sip_driver *d)
{
    if (!d->shutdown_done || !d->agent_down)
        return;
    void (*done)(void *) = d->shutdown_done;
    d->shutdown_done = NULL;
    done(d->shutdown_arg);
}

static void shutdown_poll_cb(loop *l, void *arg)
{
    (void)l;
    sip_driver *d = arg;
    d->shutdown_timer = NULL;
    /* Legs go when the engine has released them and their dialogs are
     * over; a peer that never answers our BYE or CANCEL is not waited for
     * beyond the transaction timeout. */
    if (d->leg_count > 0 && loop_now(d->l) - d->shutdown_at < (d->opt.t1x64_ms ? d->opt.t1x64_ms : 8000) / 1000.0 + 2) {
        d->shutdown_timer = loop_timer_start(d->l, 0.05, shutdown_poll_cb, d);
        return;
    }
    if (d->leg_count > 0)
        sip_log(d, SIP_LOG_WARN, "shutdown: %zu legs still waiting for their peers: dropped", d->leg_count);
    /* Our registrations are withdrawn: their unREGISTERs answered (or
     * timed out, 64*T1) before we go. */
    if (!d->nta_unregistering) {
        d->nta_unregistering = true;
        sip_nta_gwreg_withdraw_all(d);
    }
    if (sip_nta_gwreg_pending(d)) {
        d->shutdown_timer = loop_timer_start(d->l, 0.05, shutdown_poll_cb, d);
        return;
    }
    d->agent_down = true;   /* the agent goes with the driver */
    shutdown_finish(d);
}

void sip_driver_refuse_new(tel_driver *td)
{
    DRV(td)->draining = true;
}

void sip_driver_shutdown(tel_driver *td, void (*done)(void *), void *arg)
{
    sip_driver *d = DRV(td);
    if (d->shutting_down)
        return;
    d->shutting_down = true;
    d->shutdown_at = loop_now(d->l);
    d->shutdown_done = done;
    d->shutdown_arg = arg;
    sip_log(d, SIP_LOG_INFO, "shutting down: %zu legs to end", d->leg_count);
    sip_enter(d);
    for (sip_leg *leg = d->legs; leg; leg = leg->next) {
        if (leg->state == LEG_ENDED)
            continue;
        sip_nta_hangup(leg, 503);
        /* The engine hears of it like a hangup from the far side, so its
         * hangup handlers run and the call record is written. */
        if (!leg->hangup_raised) {
            leg->hangup_raised = true;
            tel_event ev = {.kind = TEL_EV_HANGUP, .sip_code = 503, .cause = "shutdown",
                            .by_system = true};
            sip_raise(leg, &ev);
        }
    }
    sip_leave(d);
    d->shutdown_timer = loop_timer_start(d->l, 0, shutdown_poll_cb, d);
}

static void destroy_op(tel_driver *td)
{
    sip_driver *d = DRV(td);
    if (d->shutdown_timer)
        loop_timer_stop(d->l, d->shutdown_timer);
    if (d->reap_timer)
        loop_timer_stop(d->l, d->reap_timer);
    if (d->tick_timer)
        loop_timer_stop(d->l, d->tick_timer);
    if (d->rtp_watch)
        loop_timer_stop(d->l, d->rtp_watch);
    sip_media_free_all(d);
    sip_mix_free_all(d);
    sip_msg_free_all(d);
    sip_nta_mwi_free_all(d);
    while (d->legs) {
        sip_leg *leg = d->legs;
        leg->released = true;
        leg->sip_done = true;
        for (sip_fork *f = leg->outgoing ? sip_dial_of(leg)->forks : NULL; f; f = f->next)
            f->terminated = true;
        sip_leg_maybe_free(leg);
        sip_leg_reap(d);
    }
    sip_dns_guard(false);
    sip_guard_recv_filter(NULL, NULL);
    sip_nta_stop(d);
    sip_tls_log_detach();
    if (d->reg)
        sip_registrar_free(d->reg);
    rtp_ctx_free(d->rtp);
    sip_flood_free(d->flood);
    sip_gw_free(d);
    su_home_deinit(d->home);
    if (d->cfg)
        tel_config_unref(d->cfg);
    free(d);
}
