/* sip.h — the `sip` telephony driver (sofia-sip signalling + our own RTP)
 * and the loop backend it runs on. Only src/cli/serve.c and the SIP tests
 * include this; nothing here exposes a sofia-sip type, and the engine sees
 * the driver only through tel.h. */
#ifndef TEL_SIP_H
#define TEL_SIP_H

#include <stdbool.h>
#include <stddef.h>

#include "loop/loop.h"
#include "telephony/tel.h"

struct tel_config;

/* A loop backend built on sofia-sip's su_root (threading off): SIP
 * signalling, RTP, timers and every other fd (libcurl, libpq) share one
 * thread (docs/decisions/: SIP loop integration). The SIP driver needs it. */
loop *sip_loop_new(void);
bool sip_loop_is(const loop *l);
/* Idle timers L keeps for reuse (tests: the list shrinks with the load). */
size_t sip_loop_idle_timers(const loop *l);

typedef enum { SIP_LOG_ERROR, SIP_LOG_WARN, SIP_LOG_INFO, SIP_LOG_DEBUG } sip_log_level;

typedef struct sip_options {
    /* "udp:127.0.0.1:5060", "tcp:0.0.0.0:5060", "127.0.0.1:5060" (both);
     * none: the configuration's settings.sip.listen, else udp+tcp on 0.0.0.0:5060. */
    const char *const *listen;
    size_t listen_count;
    sip_log_level log_level;
    /* Transaction lifetime (T1x64) in ms; 0: 8000. */
    unsigned t1x64_ms;
    /* Told of every call refused before it reached a scenario (a limit, no
     * RTP port, shutdown, an unknown source): the request's Call-ID (may be
     * empty), its source "IP:PORT", the SIP code sent and a reason word
     * ("max_calls", "calls_per_second", "shutdown", "rtp_ports",
     * "open_files", "rtp_socket", "unknown_source", ...). Optional. */
    void (*refused)(void *arg, const char *call_id, const char *source, int code,
                    const char *reason);
    void *refused_arg;
} sip_options;

/* Creates the driver on L (from sip_loop_new) with CFG (config/telephony.h,
 * built by cfg_telephony_of; referenced until destroy or the next
 * sip_driver_set_config). NULL with ERR filled when a listener cannot be
 * opened. */
tel_driver *sip_driver_new(loop *l, struct tel_config *cfg, const sip_options *opt,
                           char *err, size_t errlen);
/* New calls use CFG (users, gateways, limits) from now on (a reload); the
 * driver holds a reference, the caller keeps or drops its own. */
void sip_driver_set_config(tel_driver *d, struct tel_config *cfg);
/* New INVITEs get 503 (reason "draining"); calls up go on. */
void sip_driver_refuse_new(tel_driver *d);
/* Graceful stop: new INVITEs get 503; DONE runs once no call is left and
 * the stack has shut down (then destroy the driver, then the loop). */
void sip_driver_shutdown(tel_driver *d, void (*done)(void *arg), void *arg);
/* What the edge refused and saw, since the start (for /health and
 * /metrics). Arrays point into the driver: read them before the next loop
 * turn. */
typedef struct sip_stats {
    unsigned long flood_dropped;   /* datagrams over settings.sip.flood, dropped */
    unsigned long flood_refused;   /* requests over it, answered 503 */
    unsigned long names_refused;   /* names in requests sofia was not let resolve */
    /* UDP datagrams received (before flood checks): requests by method
     * (method_names[i]: "INVITE", ..., "other"), responses by status code
     * (responses[code - code_min], code_min..code_max) */
    const char *const *method_names;
    const unsigned long *requests;
    size_t method_count;
    const unsigned long *responses;
    int code_min, code_max;
    /* the registrar now: users with a binding, bindings */
    size_t registered_users, registered_contacts;
    /* RTP of every session so far (closed ones too): packets received from
     * peers, sent, lost (RFC 3550), dropped (not from the peer); each
     * stream's interarrival jitter when it ended, seconds */
    unsigned long long rtp_received, rtp_sent, rtp_lost, rtp_dropped;
    const struct cr_histogram *rtp_jitter;
    size_t rtp_open;               /* sessions open now */
} sip_stats;
void sip_driver_stats(tel_driver *d, sip_stats *out);
/* The first bound SIP port (useful with port 0 in tests). */
int sip_driver_port(tel_driver *d);

#endif
