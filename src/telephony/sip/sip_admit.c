/* sip_admit.c — what a new call or request is let in by: admission
 * (shutdown, draining, max_calls, the RTP sessions left, the intake rate)
 * with the refusal's log line, the per-source request limit every UDP
 * datagram meets before sofia parses it (settings.sip.flood), and the
 * driver's counters for the metrics. */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <sofia-sip/sip_header.h>

#include "telephony/sip/sip_flood.h"
#include "telephony/sip/sip_int.h"

/* ---- admission ---- */

/* The calls admitted at most now (0: no limit). */
static size_t max_calls(sip_driver *d)
{
    const cfg_tel_settings *s = &d->cfg->settings;
    /* A call takes up to two RTP sessions (the caller's leg and the one it
     * dials), a port each; by default admit what the range (and the
     * open-files limit) holds, so a call is refused before its dial would
     * find no port. */
    return s->max_calls >= 0 ? (size_t)s->max_calls : rtp_ctx_capacity(d->rtp) / 2;
}

/* Whether a new call could be taken now, apart from the intake rate: what
 * an INVITE is refused for, and what OPTIONS tells the front end. */
static int capacity(sip_driver *d, int *retry_after, const char **reason)
{
    const cfg_tel_settings *s = &d->cfg->settings;
    if (d->shutting_down || d->draining) {
        *retry_after = 30;
        *reason = d->shutting_down ? "shutdown" : "draining";
        return 503;
    }
    size_t max = max_calls(d);
    if ((max > 0 || s->max_calls < 0) && d->incoming_count >= max) {
        *retry_after = 5;
        *reason = "max_calls";
        return 503;
    }
    /* Whatever the limit says, not without two RTP sessions for it beyond
     * those kept for calls already admitted: one for its own leg, one kept
     * for its first dial (sip_leg_media), so that dial cannot be the one
     * that finds no port (ring-all members after the first take theirs
     * from what is left). */
    if (rtp_ctx_available(d->rtp) < d->rtp_reserved + 2) {
        *retry_after = 5;
        *reason = rtp_limit_reason(rtp_ctx_short(d->rtp));
        return 503;
    }
    return 0;
}

void sip_load_header(sip_driver *d, char *out, size_t n)
{
    snprintf(out, n, "X-Callroute-Load: calls=%zu;max=%zu", d->incoming_count, max_calls(d));
}

int sip_admit(sip_driver *d, int *retry_after, const char **reason)
{
    const cfg_tel_settings *s = &d->cfg->settings;
    int code = capacity(d, retry_after, reason);
    if (code)
        return code;
    if (s->calls_per_second > 0) {
        double now = loop_now(d->l), burst = fmax(1.0, s->calls_per_second);
        d->tokens = fmin(burst, d->tokens + (now - d->tokens_at) * s->calls_per_second);
        d->tokens_at = now;
        if (d->tokens < 1.0) {
            *retry_after = 1;
            *reason = "calls_per_second";
            return 503;
        }
        d->tokens -= 1.0;
    }
    return 0;
}

int sip_admit_call(sip_driver *d, const sip_t *sip, sip_refusal *r)
{
    const char *why = NULL;
    int retry = 0, code = sip_admit(d, &retry, &why);
    if (code) {
        snprintf(r->retry_after, sizeof r->retry_after, "%d", retry);
        sip_load_header(d, r->load, sizeof r->load);
        sip_report_refused(d, sip, code, why);
    }
    return code;
}

void sip_report_refused(sip_driver *d, const sip_t *sip, int code, const char *reason)
{
    struct sockaddr_in src;
    char from[INET_ADDRSTRLEN + 8] = "-";
    if (sip_request_source(d, &src)) {
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &src.sin_addr, ip, sizeof ip);
        snprintf(from, sizeof from, "%s:%u", ip, ntohs(src.sin_port));
    }
    /* The Call-ID is the peer's text: sofia's parser keeps it to token
     * characters, so it cannot break the log line. */
    const char *id = sip && sip->sip_call_id ? sip->sip_call_id->i_id : "";
    /* A limit is named with its size (the range, the open-files limit,
     * max_calls and where its default comes from). */
    char detail[200] = "";
    if (strcmp(reason, "rtp_ports") == 0 || strcmp(reason, "open_files") == 0) {
        detail[0] = ':', detail[1] = ' ';
        rtp_ctx_limit_text(d->rtp, strcmp(reason, "open_files") == 0 ? RTP_LIMIT_FILES : RTP_LIMIT_PORTS,
                           detail + 2, sizeof detail - 2);
    } else if (strcmp(reason, "max_calls") == 0) {
        size_t cap = rtp_ctx_capacity(d->rtp);
        if (d->cfg->settings.max_calls >= 0)
            snprintf(detail, sizeof detail, ": settings.limits.max_calls %d", d->cfg->settings.max_calls);
        else
            snprintf(detail, sizeof detail, ": %zu, the default: half the %zu RTP sessions %s", max_calls(d),
                     cap, cap < rtp_ctx_ports(d->rtp) ? "the open-files limit (RLIMIT_NOFILE) allows"
                                                     : "settings.media.rtp_ports holds");
    }
    sip_log(d, SIP_LOG_WARN, "call %s from %s refused: %d %s%s", id[0] ? id : "-", from, code, reason,
            detail);
    if (d->opt.refused)
        d->opt.refused(d->opt.refused_arg, id, from, code, reason);
}

/* ---- per-source request limit (settings.sip.flood) ---- */

/* Every UDP datagram, before sofia parses it (sip_guard.c): counted by
 * its method or status code, then held against the flood limit. */
bool sip_recv_filter_cb(void *arg, const struct sockaddr_in *src, const void *data, size_t n)
{
    sip_driver *d = arg;
    const cfg_tel_settings *s = &d->cfg->settings;
    sip_peek_method method;
    int code;
    switch (sip_peek(data, n, &method, &code)) {
    case SIP_PEEK_REQUEST:
        d->requests[method]++;
        break;
    case SIP_PEEK_RESPONSE:
        d->responses[code - SIP_PEEK_CODE_MIN]++;
        break;
    case SIP_PEEK_NOTHING:
        break;
    }
    /* The front end forwards every caller's requests: it keeps its own
     * limits (pike), and holding them against one address would refuse all. */
    if (s->flood_rate <= 0 || !sip_flood_counts(data, n) || sip_gw_is_source(d, src) || sip_is_proxy(d, src))
        return true;
    sip_flood_verdict v = sip_flood_hit(d->flood, src->sin_addr.s_addr, loop_now(d->l), s->flood_rate,
                                        s->flood_burst);
    if (v == SIP_FLOOD_OK)
        return true;
    if (v == SIP_FLOOD_STARTS) {
        /* One line per episode, in a fixed form for fail2ban's failregex. */
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &src->sin_addr, ip, sizeof ip);
        sip_log(d, SIP_LOG_WARN, "callroute: flood from %s: over %.0f requests/s, %s", ip, s->flood_rate,
                s->flood_drop ? "dropping" : "answering 503");
    }
    if (!s->flood_drop)
        return true;   /* the request handler answers 503 (sip_flood_refuse) */
    d->flood_dropped++;
    return false;
}

void sip_driver_stats(tel_driver *td, sip_stats *out)
{
    const sip_driver *d = (const sip_driver *)td;
    out->flood_dropped = d->flood_dropped;
    out->flood_refused = d->flood_refused;
    out->names_refused = sip_dns_guard_refused();
    out->method_names = sip_peek_method_names;
    out->requests = d->requests;
    out->method_count = SIP_PM_COUNT;
    out->responses = d->responses;
    out->code_min = SIP_PEEK_CODE_MIN;
    out->code_max = SIP_PEEK_CODE_MAX;
    sip_registrar_count(d->reg, loop_now(d->l), &out->registered_users, &out->registered_contacts);
    rtp_totals rt;
    rtp_ctx_totals(d->rtp, &rt);
    out->rtp_received = rt.received;
    out->rtp_sent = rt.sent;
    out->rtp_lost = rt.lost;
    out->rtp_dropped = rt.dropped;
    out->rtp_jitter = rt.jitter;
    out->rtp_open = rtp_ctx_open_count(d->rtp);
}
