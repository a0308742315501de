/* config/telephony.h — what the telephony drivers are configured with, as
 * plain data: gateways, users, and the SIP and media settings they read.
 * scenario/ compiles users, gateways and settings.sip.tls into exactly
 * these types (scn_user, scn_gateway, scn_tls_settings are typedefs of
 * them); config/from_program.c builds a tel_config from a program. A leaf
 * header: it includes nothing of the project, so the SIP core does not
 * depend on the scenario language (docs/decisions/telephony-config.md). */
#ifndef CONFIG_TELEPHONY_H
#define CONFIG_TELEPHONY_H

#include <stdbool.h>
#include <stddef.h>

/* SRTP (SDES) on a leg: settings.media.srtp, overridden per user/gateway
 * (docs/decisions/srtp.md). INHERIT: a user/gateway without `srtp:`. */
typedef enum { CFG_SRTP_INHERIT = 0, CFG_SRTP_OFF, CFG_SRTP_OPTIONAL, CFG_SRTP_REQUIRED } cfg_srtp;

/* settings.media.rtp_io: how RTP sockets are held (docs/decisions/rtp-ports.md,
 * "io_uring: the fixed-file backend", "io_uring by default"). AUTO:
 * io_uring where the kernel allows it (6.1+), epoll elsewhere. */
typedef enum { CFG_RTP_IO_AUTO = 0, CFG_RTP_IO_EPOLL, CFG_RTP_IO_URING } cfg_rtp_io;
/* "off", "optional", "required", in cfg_srtp order from CFG_SRTP_OFF; NULL-terminated. */
extern const char *const cfg_srtp_names[];

/* users.N.voicemail: the user's voicemail box (apps/voicemail.c). */
typedef struct cfg_voicemail {
    const char *pin;           /* digits, for voicemail_main */
    const char *email;         /* where messages go (NULL: the user's email; neither: none) */
    bool unsolicited;          /* MWI NOTIFY to its registered phones that did not subscribe too */
} cfg_voicemail;

typedef struct cfg_user {
    const char *number;        /* the extension, e.g. "101" */
    const char *name, *password, *email, *mobile;
    bool symmetric_rtp;        /* behind NAT: its RTP source is learned early in the call */
    cfg_srtp srtp;             /* INHERIT: settings.media.srtp */
    const cfg_voicemail *voicemail;   /* NULL: no voicemail box */
} cfg_user;

typedef struct cfg_gateway {
    const char *name;
    const char *uri;           /* sip:198.51.100.7:5060 */
    const char *auth_user, *auth_password;   /* NULL: no digest auth */
    bool register_;
    bool accept_any_source;    /* calls from any address count as this gateway */
    bool match_ip;             /* `match: ip`: its calls come from any port of its address */
    bool trust_identity;       /* its P-Asserted-Identity/Remote-Party-ID name the caller */
    bool symmetric_rtp;        /* behind NAT: its RTP source is learned early in the call */
    cfg_srtp srtp;             /* INHERIT: settings.media.srtp */
    /* What a number sent through it may look like (the whole number must
     * match), so a rendered value such as "1@evil.example" never reaches
     * the Request-URI. number_re: its pcre2_code, compiled at load (by
     * scenario/gateway.c; the code lives as long as the gateway). */
    const char *number_pattern;
    void *number_re;
} cfg_gateway;

/* NUMBER matches G's number_pattern (false without a compiled pattern, on
 * no match, or when a match limit is hit: then it is not sent). */
bool cfg_gateway_number_ok(const cfg_gateway *g, const char *number);

/* settings.sip.tls: a file it names, and where the scenario names it (the
 * scenario layer reads no file: check and the SIP driver open them and
 * point at FILE:LINE:COL when one cannot be read). */
typedef struct cfg_tls_file {
    const char *path;          /* resolved; NULL: not given */
    const char *file, *at;     /* the scenario file and the node's path */
    unsigned line, col;
} cfg_tls_file;

/* settings.sip.tls: what tls: listeners present and how peers are checked
 * (src/telephony/sip/sip_tls.c, docs/decisions/sip-tls.md). */
typedef struct cfg_tls_settings {
    bool enabled;              /* the section is present */
    cfg_tls_file cert, key;    /* our certificate (chain) and its private key, PEM */
    cfg_tls_file ca;           /* CAs peers' certificates must chain to; NULL: the system's */
    bool verify_peer;          /* phones must present a certificate from ca (mutual TLS) */
    bool verify_server;        /* gateways' certificates are verified (default; off: trust any) */
    bool min_tls13;            /* min_version "1.3": TLS 1.2 refused too (default "1.2") */
} cfg_tls_settings;

/* The settings the SIP driver reads. Field names are the program's
 * (scn_settings) so the two read alike; strings are borrowed from the
 * tel_config's owner. */
typedef struct cfg_tel_settings {
    /* settings.sip */
    const char **sip_listen;   /* "udp:0.0.0.0:5060", ... */
    size_t sip_listen_count;
    cfg_tls_settings sip_tls;
    int auth_fail_max;         /* settings.sip.auth_failures; 0: never ban */
    double auth_fail_window, auth_ban;
    double session_expires;    /* settings.sip.session_timer; 0: none */
    double session_min_se;
    double flood_rate;         /* settings.sip.flood, per source; 0: no limit */
    double flood_burst;
    bool flood_drop;
    /* settings.media */
    int rtp_port_min, rtp_port_max;
    cfg_rtp_io rtp_io;         /* how RTP sockets are held: settings.media.rtp_io */
    const char *media_address; /* IPv4 that RTP binds and SDP announces; NULL: the SIP address */
    cfg_srtp srtp;             /* legs without a user/gateway override (default OFF) */
    double rtp_timeout;        /* seconds without RTP on an answered leg not on hold; 0: off */
    /* settings.limits */
    int max_calls;             /* 0: unlimited; -1: what the RTP port range holds */
    double calls_per_second;   /* intake limit; 0: unlimited */
    /* settings.cluster.proxy: the SIP front end as HOST:PORT; NULL: none */
    const char *cluster_proxy;
} cfg_tel_settings;

/* What a telephony driver is configured with: one per loaded program.
 * Reference-counted: the driver keeps one for as long as it reads it, and
 * OWNER (what the strings and tables are borrowed from; the program) is
 * released with the last reference, so a reload can swap configurations
 * while calls of the older one run. */
typedef struct tel_config {
    int refcount;
    cfg_tel_settings settings;
    const cfg_gateway *gateways;   size_t gateway_count;   /* file order */
    const cfg_user *users;         size_t user_count;
    const cfg_user **users_by_number;   /* sorted by number: tel_config_user */
    size_t users_indexed;
    void *owner;
    void (*owner_release)(void *owner);
} tel_config;

/* A new configuration (refcount 1) over USERS and GATEWAYS (borrowed;
 * OWNER_RELEASE(OWNER) runs when the last reference goes). */
tel_config *tel_config_new(const cfg_tel_settings *settings, const cfg_user *users, size_t user_count,
                           const cfg_gateway *gateways, size_t gateway_count, void *owner,
                           void (*owner_release)(void *owner));
tel_config *tel_config_ref(tel_config *c);   /* NULL in, NULL out */
void tel_config_unref(tel_config *c);        /* NULL: nothing */
/* The user with extension NUMBER; NULL when C or NUMBER is NULL or none. */
const cfg_user *tel_config_user(const tel_config *c, const char *number);

#endif
