/* compile_settings.c — the `settings` section (and settings.databases):
 * fills the program's settings; defaults are set first so an absent
 * section means "all defaults" (docs/scenario.md lists them). The
 * directory sections (users, groups, gateways) are compile_directory.c. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/compile_int.h"

void scn_settings_defaults(scn_program *p)
{
    static const char *const listen[] = {"udp:0.0.0.0:5060"};
    scn_settings *s = &p->settings;
    s->sip_listen = (const char **)listen;
    s->sip_listen_count = 1;
    bool here = strcmp(p->dir, ".") == 0;
    s->sounds = here ? "sounds" : cr_arena_printf(&p->arena, "%s/sounds", p->dir);
    s->recordings = here ? "recordings" : cr_arena_printf(&p->arena, "%s/recordings", p->dir);
    s->rtp_port_min = 10000;
    s->rtp_port_max = 20000;
    s->media_address = NULL;
    s->rtp_timeout = 60;
    s->srtp = SCN_SRTP_OFF;
    s->tts_language = "en-us";
    s->tts_voice = "";
    s->tts_cache_mb = 32;
    s->smtp_url = "smtp://127.0.0.1:25";
    s->smtp_from = "callroute@localhost";
    s->smtp_outbox = here ? "var/outbox" : cr_arena_printf(&p->arena, "%s/var/outbox", p->dir);
    s->smtp_starttls = false;
    s->steps_per_second = 10000;
    s->max_streams = 16;
    s->hangup_grace = 30;
    s->max_calls = -1;         /* derived from the RTP port range by the SIP driver */
    s->max_call_duration = 4 * 3600;
    s->drain_timeout = 0;
    s->cdr.enabled = true;
    s->cdr.db = (scn_database){.name = "cdr", .kind = CFG_DB_SQLITE, .url = "sqlite:var/cdr.db",
                               .target = here ? "var/cdr.db" : cr_arena_printf(&p->arena, "%s/var/cdr.db", p->dir)};
    s->cdr.spool = here ? "var/cdr-spool.db" : cr_arena_printf(&p->arena, "%s/var/cdr-spool.db", p->dir);
    s->calls_per_second = 0;
    s->admin_listen = "127.0.0.1:8080";
    s->auth_fail_max = 10;
    s->auth_fail_window = 60;
    s->auth_ban = 600;
    s->session_expires = 1800;
    s->session_min_se = 90;
    s->flood_rate = 20;
    s->flood_burst = 40;
    s->flood_drop = true;
    s->park_first = 701;
    s->park_last = 720;
    s->park_music = NULL;
    s->join_group = "supervisors";
}

/* HOST:PORT with a non-empty host (IPv6 in brackets) and a port 1..65535. */
static bool host_port_ok(const char *s)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || !colon[1])
        return false;
    if (s[0] == '[' && colon[-1] != ']')
        return false;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    return *end == 0 && port >= 1 && port <= 65535 && isdigit((unsigned char)colon[1]);
}

static void compile_listen(scn_cx *x, const scn_node *n)
{
    const scn_node *one[1] = {n};
    const scn_node *const *items = one;
    size_t count = 1;
    if (n->kind == SCN_NODE_SEQ) {
        items = (const scn_node *const *)n->items;
        count = n->count;
        if (count == 0) {
            scn_cx_error(&x->pub, n, "expected at least one address like \"udp:0.0.0.0:5060\"");
            return;
        }
    }
    const char **out = cr_arena_alloc(x->pub.arena, count * sizeof *out);
    for (size_t i = 0; i < count; i++) {
        const scn_node *it = items[i];
        size_t old = n->kind == SCN_NODE_SEQ ? scn_path_index(&x->pub.path, i) : x->pub.path.len;
        const char *s = scn_expect_string(x, it, "an address like \"udp:0.0.0.0:5060\"");
        if (s && !((strncmp(s, "udp:", 4) == 0 || strncmp(s, "tcp:", 4) == 0 || strncmp(s, "tls:", 4) == 0) &&
                   host_port_ok(s + 4)))
            scn_cx_error(&x->pub, it, "expected \"udp:HOST:PORT\", \"tcp:HOST:PORT\" or \"tls:HOST:PORT\", got '%s'", s);
        out[i] = s;
        scn_path_pop(&x->pub.path, old);
    }
    x->pub.prog->settings.sip_listen = out;
    x->pub.prog->settings.sip_listen_count = count;
}

/* A duration from 1 s to 1 day (auth failure window and ban). */
static void compile_auth_duration(scn_cx *x, const scn_node *v, double *out)
{
    double d;
    if (!scn_compile_duration(&x->pub, v, &d))
        return;
    if (d < 1 || d > 86400)
        scn_cx_error(&x->pub, v, "expected a duration from 1s to 24h, got %s", v->str);
    else
        *out = d;
}

static void compile_auth_failures(scn_cx *x, const scn_node *n)
{
    static const char *const keys[] = {"max", "window", "ban", NULL};
    scn_settings *s = &x->pub.prog->settings;
    if (!scn_expect_map(x, n, "settings.sip.auth_failures ({max, window, ban})"))
        return;
    scn_check_keys(x, n, keys, "settings.sip.auth_failures");
    const scn_node *v;
    long l;
    if ((v = scn_map_get(n, "max")))
        SCN_WITH_KEY(x, "max") if (scn_expect_int(x, v, 0, 1000000, &l)) s->auth_fail_max = (int)l;
    if ((v = scn_map_get(n, "window")))
        SCN_WITH_KEY(x, "window") compile_auth_duration(x, v, &s->auth_fail_window);
    if ((v = scn_map_get(n, "ban")))
        SCN_WITH_KEY(x, "ban") compile_auth_duration(x, v, &s->auth_ban);
}

static void compile_flood(scn_cx *x, const scn_node *n)
{
    static const char *const keys[] = {"rate", "burst", "action", NULL};
    static const char *const actions[] = {"drop", "503", NULL};
    scn_settings *s = &x->pub.prog->settings;
    if (!scn_expect_map(x, n, "settings.sip.flood ({rate, burst, action})"))
        return;
    scn_check_keys(x, n, keys, "settings.sip.flood");
    const scn_node *v;
    long l;
    if ((v = scn_map_get(n, "rate")))
        SCN_WITH_KEY(x, "rate") if (scn_expect_int(x, v, 0, 1000000, &l)) s->flood_rate = (double)l;
    if ((v = scn_map_get(n, "burst")))
        SCN_WITH_KEY(x, "burst") if (scn_expect_int(x, v, 1, 1000000, &l)) s->flood_burst = (double)l;
    if ((v = scn_map_get(n, "action")))
        SCN_WITH_KEY(x, "action") {
            int i;
            if (scn_expect_enum(x, v, actions, &i))
                s->flood_drop = i == 0;
        }
}

static void compile_session_timer(scn_cx *x, const scn_node *n)
{
    static const char *const keys[] = {"expires", "min_se", NULL};
    scn_settings *s = &x->pub.prog->settings;
    if (!scn_expect_map(x, n, "settings.sip.session_timer ({expires, min_se})"))
        return;
    scn_check_keys(x, n, keys, "settings.sip.session_timer");
    const scn_node *v, *e = scn_map_get(n, "expires");
    double d;
    if ((v = scn_map_get(n, "min_se")))
        SCN_WITH_KEY(x, "min_se") if (scn_compile_duration(&x->pub, v, &d)) {
            if (d < 10 || d > 86400)
                scn_cx_error(&x->pub, v, "expected a duration from 10s to 24h (RFC 4028 asks for 90s or more), got %s",
                             v->str);
            else
                s->session_min_se = d;
        }
    if (e)
        SCN_WITH_KEY(x, "expires") if (scn_compile_duration(&x->pub, e, &d)) {
            if (d != 0 && (d < s->session_min_se || d > 86400))
                scn_cx_error(&x->pub, e, "expected 0 (no session timer) or a duration from min_se (%.0fs) to 24h, got %s",
                             s->session_min_se, e->str);
            else
                s->session_expires = d;
        }
}

/* One file of settings.sip.tls: resolved, and where it was named. */
static void compile_tls_file(scn_cx *x, const scn_node *v, const char *what, scn_tls_file *out)
{
    const char *p = scn_expect_string(x, v, what);
    if (!p)
        return;
    if (!*p) {
        scn_cx_error(&x->pub, v, "expected %s, got an empty name", what);
        return;
    }
    out->path = scn_resolve_path(x, p);
    out->file = v->file;
    out->line = v->line;
    out->col = v->col;
    out->at = cr_arena_strdup(x->pub.arena, scn_path_str(&x->pub.path));
}

static void compile_tls(scn_cx *x, const scn_node *n)
{
    static const char *const keys[] = {"cert", "key", "ca", "verify_peer", "verify_server", "min_version", NULL};
    scn_tls_settings *t = &x->pub.prog->settings.sip_tls;
    if (!scn_expect_map(x, n, "settings.sip.tls ({cert, key, ca, verify_peer, min_version})"))
        return;
    scn_check_keys(x, n, keys, "settings.sip.tls");
    t->enabled = true;
    t->verify_server = true;
    const scn_node *v;
    if (!(v = scn_map_get(n, "cert")))
        scn_cx_error(&x->pub, n, "settings.sip.tls needs 'cert' (a PEM certificate file)");
    else
        SCN_WITH_KEY(x, "cert") compile_tls_file(x, v, "a PEM certificate file", &t->cert);
    if (!(v = scn_map_get(n, "key")))
        scn_cx_error(&x->pub, n, "settings.sip.tls needs 'key' (the certificate's PEM private key file)");
    else
        SCN_WITH_KEY(x, "key") compile_tls_file(x, v, "a PEM private key file", &t->key);
    if ((v = scn_map_get(n, "ca")))
        SCN_WITH_KEY(x, "ca") compile_tls_file(x, v, "a PEM file of CA certificates", &t->ca);
    if ((v = scn_map_get(n, "verify_peer")))
        SCN_WITH_KEY(x, "verify_peer") scn_expect_bool(x, v, &t->verify_peer);
    if ((v = scn_map_get(n, "verify_server")))
        SCN_WITH_KEY(x, "verify_server") scn_expect_bool(x, v, &t->verify_server);
    if ((v = scn_map_get(n, "min_version")))
        SCN_WITH_KEY(x, "min_version") {
            /* sofia-sip 1.12 has no tag for a minimum version: the SIP
             * driver raises it on the listener's own SSL_CTX (sip_tls.c).
             * Below 1.2 is not offered: Debian's OpenSSL refuses it anyway. */
            const char *s = scn_expect_string(x, v, "\"1.2\" or \"1.3\"");
            if (s && strcmp(s, "1.2") != 0 && strcmp(s, "1.3") != 0)
                scn_cx_error(&x->pub, v, "min_version: \"1.2\" or \"1.3\" (older versions are refused by OpenSSL "
                             "anyway), got '%s'", s);
            t->min_tls13 = s && strcmp(s, "1.3") == 0;
        }
    if (t->verify_peer && !t->ca.path)
        scn_cx_error(&x->pub, n, "settings.sip.tls: verify_peer needs 'ca' (the CAs phones' certificates come from)");
}

static void compile_sip(scn_cx *x, const scn_node *n)
{
    static const char *const keys[] = {"listen", "auth_failures", "flood", "session_timer", "tls", "core", NULL};
    if (!scn_expect_map(x, n, "settings.sip"))
        return;
    scn_check_keys(x, n, keys, "settings.sip");
    /* core: kept so files that name it load; nta is the only core now
     * (docs/decisions/sip-core.md, stage 4). */
    const scn_node *v = scn_map_get(n, "core");
    if (v)
        SCN_WITH_KEY(x, "core") {
            static const char *const cores[] = {"nta", NULL};
            int i;
            if (v->str && strcmp(v->str, "nua") == 0)
                scn_cx_error(&x->pub, v, "the nua core was removed in this version (nta is the only SIP core): "
                                         "delete this line");
            else
                scn_expect_enum(x, v, cores, &i);
        }
    v = scn_map_get(n, "listen");
    if (v)
        SCN_WITH_KEY(x, "listen") compile_listen(x, v);
    if ((v = scn_map_get(n, "auth_failures")))
        SCN_WITH_KEY(x, "auth_failures") compile_auth_failures(x, v);
    if ((v = scn_map_get(n, "flood")))
        SCN_WITH_KEY(x, "flood") compile_flood(x, v);
    if ((v = scn_map_get(n, "session_timer")))
        SCN_WITH_KEY(x, "session_timer") compile_session_timer(x, v);
    if ((v = scn_map_get(n, "tls")))
        SCN_WITH_KEY(x, "tls") compile_tls(x, v);
}

void scn_compile_srtp(scn_cx *x, const scn_node *v, scn_srtp *out)
{
    int e;
    SCN_WITH_KEY(x, "srtp")
        if (scn_expect_enum(x, v, scn_srtp_names, &e))
            *out = (scn_srtp)(SCN_SRTP_OFF + e);
}

static void compile_media(scn_cx *x, const scn_node *n)
{
    static const char *const keys[] = {"sounds", "recordings", "rtp_ports", "address", "rtp_timeout",
                                       "tts_language", "tts_voice", "tts_cache", "hold_music", "mode", "srtp", "rtp_io", NULL};
    static const char *const modes[] = {"anchor", "bypass", NULL};
    static const char *const rtp_ios[] = {"auto", "epoll", "io_uring", NULL};
    scn_settings *s = &x->pub.prog->settings;
    if (!scn_expect_map(x, n, "settings.media"))
        return;
    scn_check_keys(x, n, keys, "settings.media");
    const scn_node *v;
    if ((v = scn_map_get(n, "sounds")))
        SCN_WITH_KEY(x, "sounds") {
            const char *p = scn_expect_string(x, v, "a directory");
            if (p)
                s->sounds = scn_resolve_path(x, p);
        }
    if ((v = scn_map_get(n, "recordings")))
        SCN_WITH_KEY(x, "recordings") {
            const char *p = scn_expect_string(x, v, "a directory");
            if (p)
                s->recordings = scn_resolve_path(x, p);
        }
    if ((v = scn_map_get(n, "rtp_ports")))
        SCN_WITH_KEY(x, "rtp_ports") {
            const char *p = scn_expect_string(x, v, "a port range like \"10000-20000\"");
            int lo, hi, used = 0;
            if (p && (sscanf(p, "%d-%d%n", &lo, &hi, &used) != 2 || p[used] || lo < 1024 || hi > 65535 ||
                      hi - lo < 1))
                scn_cx_error(&x->pub, v, "expected a port range like \"10000-20000\" within 1024-65535, got '%s'", p);
            else if (p) {
                s->rtp_port_min = lo;
                s->rtp_port_max = hi;
            }
        }
    if ((v = scn_map_get(n, "srtp")))
        scn_compile_srtp(x, v, &s->srtp);
    if ((v = scn_map_get(n, "address")))
        SCN_WITH_KEY(x, "address") {
            /* What RTP binds and SDP announces: one unicast IPv4 address of
             * this host (0.0.0.0 would announce nothing a peer can reach). */
            const char *a = scn_expect_string(x, v, "an IPv4 address like \"192.0.2.10\"");
            struct in_addr in;
            if (a && (inet_pton(AF_INET, a, &in) != 1 || in.s_addr == htonl(INADDR_ANY) ||
                      IN_MULTICAST(ntohl(in.s_addr)) || in.s_addr == htonl(INADDR_BROADCAST)))
                scn_cx_error(&x->pub, v, "expected a unicast IPv4 address of this host like \"192.0.2.10\", got '%s'", a);
            else if (a)
                s->media_address = a;
        }
    for (int i = 0; i < 2; i++) {
        const char *key = i ? "tts_voice" : "tts_language";
        if ((v = scn_map_get(n, key)))
            SCN_WITH_KEY(x, key) {
                const char *p = scn_expect_string(x, v, "an espeak-ng name like en-us");
                if (p && (strlen(p) > 40 || strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                      "0123456789-_") != strlen(p)))
                    scn_cx_error(&x->pub, v, "expected an espeak-ng name (letters, digits, '-', '_'), got '%s'", p);
                else if (p)
                    *(i ? &s->tts_voice : &s->tts_language) = p;
            }
    }
    if ((v = scn_map_get(n, "mode")))
        SCN_WITH_KEY(x, "mode") {
            int e;
            if (scn_expect_enum(x, v, modes, &e))
                s->media_bypass = e == 1;
        }
    if ((v = scn_map_get(n, "rtp_io")))
        SCN_WITH_KEY(x, "rtp_io") {
            int e;
            if (scn_expect_enum(x, v, rtp_ios, &e))
                s->rtp_io = e;
        }
    if ((v = scn_map_get(n, "hold_music")))
        SCN_WITH_KEY(x, "hold_music") {
            const char *f = scn_expect_string(x, v, "a prompt file (8 kHz mono WAV) below settings.media.sounds");
            if (f) {
                s->hold_music = f;
                scn_check_sound_file(x, v, "hold_music", f);
            }
        }
    if ((v = scn_map_get(n, "tts_cache")))
        SCN_WITH_KEY(x, "tts_cache") {
            long mb;
            int used = 0;
            if (v->kind != SCN_NODE_SCALAR || sscanf(v->str, "%ld%n", &mb, &used) != 1 ||
                (v->str[used] && strcmp(v->str + used, "MB") != 0) || mb < 0 || mb > 4096)
                scn_cx_error(&x->pub, v, "expected megabytes from 0 to 4096 (e.g. 32 or \"32MB\"), got '%s'",
                             v->kind == SCN_NODE_SCALAR ? v->str : "a collection");
            else
                s->tts_cache_mb = (int)mb;
        }
    if ((v = scn_map_get(n, "rtp_timeout")))
        SCN_WITH_KEY(x, "rtp_timeout") {
            double d;
            if (scn_compile_duration(&x->pub, v, &d)) {
                if (d != 0 && (d < 1 || d > 86400))
                    scn_cx_error(&x->pub, v, "expected 0 (off) or a duration from 1s to 24h, got %s", v->str);
                else
                    s->rtp_timeout = d;
            }
        }
}

static void compile_smtp(scn_cx *x, const scn_node *n)
{
    static const char *const keys[] = {"url", "from", "outbox", "username", "password", "starttls", NULL};
    scn_settings *s = &x->pub.prog->settings;
    if (!scn_expect_map(x, n, "settings.smtp"))
        return;
    scn_check_keys(x, n, keys, "settings.smtp");
    const scn_node *v;
    if ((v = scn_map_get(n, "url")))
        SCN_WITH_KEY(x, "url") {
            const char *u = scn_expect_string(x, v, "an SMTP URL like \"smtp://127.0.0.1:25\"");
            if (u && strncmp(u, "smtp://", 7) != 0 && strncmp(u, "smtps://", 8) != 0)
                scn_cx_error(&x->pub, v, "expected an smtp:// or smtps:// URL, got '%s'", u);
            else if (u)
                s->smtp_url = u;
        }
    if ((v = scn_map_get(n, "from")))
        SCN_WITH_KEY(x, "from") {
            const char *f = scn_expect_string(x, v, "a sender address");
            if (f && !strchr(f, '@'))
                scn_cx_error(&x->pub, v, "expected an e-mail address, got '%s'", f);
            else if (f)
                s->smtp_from = f;
        }
    if ((v = scn_map_get(n, "outbox")))
        SCN_WITH_KEY(x, "outbox") {
            const char *o = scn_expect_string(x, v, "a directory");
            if (o)
                s->smtp_outbox = scn_resolve_path(x, o);
        }
    if ((v = scn_map_get(n, "username")))
        SCN_WITH_KEY(x, "username") s->smtp_user = scn_expect_string(x, v, "a user name");
    if ((v = scn_map_get(n, "password")))
        SCN_WITH_KEY(x, "password") s->smtp_password = scn_expect_string(x, v, "a password");
    if ((v = scn_map_get(n, "starttls")))
        SCN_WITH_KEY(x, "starttls") scn_expect_bool(x, v, &s->smtp_starttls);
}

bool scn_name_ok(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_-.+", *s))
            return false;
    return true;
}

/* URL (node V) into D: "sqlite:PATH" (relative to the file) or a PostgreSQL
 * URL; false when reported. */
static bool database_url(scn_cx *x, const scn_node *v, const char *url, scn_database *d)
{
    d->url = url;
    if (!url)
        return false;   /* reported */
    if (strncmp(url, "sqlite:", 7) == 0 && url[7]) {
        d->kind = CFG_DB_SQLITE;
        d->target = strcmp(url + 7, ":memory:") == 0 ? url + 7 : scn_resolve_path(x, url + 7);
        return true;
    }
    if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0) {
        d->kind = CFG_DB_POSTGRESQL;
        d->target = url;
        return true;
    }
    scn_cx_error(&x->pub, v, "expected \"sqlite:PATH\" or \"postgresql://...\", got '%s'", url);
    return false;
}

static void compile_cdr(scn_cx *x, const scn_node *n)
{
    static const char *const keys[] = {"database", "spool", NULL};
    scn_cdr_settings *cdr = &x->pub.prog->settings.cdr;
    if (!scn_expect_map(x, n, "settings.cdr ({database, spool})"))
        return;
    scn_check_keys(x, n, keys, "settings.cdr");
    const scn_node *v;
    if ((v = scn_map_get(n, "database")))
        SCN_WITH_KEY(x, "database") {
            const char *url = scn_expect_string(x, v, "\"sqlite:PATH\", \"postgresql://...\" or off");
            if (url && strcmp(url, "off") == 0)
                cdr->enabled = false;
            else
                database_url(x, v, url, &cdr->db);
        }
    if ((v = scn_map_get(n, "spool")))
        SCN_WITH_KEY(x, "spool") {
            const char *p = scn_expect_string(x, v, "a file");
            if (p)
                cdr->spool = scn_resolve_path(x, p);
        }
}

/* settings.cluster: {node, database, proxy}. The node's name goes into
 * call records and SQL parameters; the database must be PostgreSQL (every
 * node reaches it); the proxy is an IPv4 address and port. */
static void compile_cluster(scn_cx *x, const scn_node *n)
{
    static const char *const keys[] = {"node", "database", "proxy", NULL};
    scn_cluster_settings *cl = &x->pub.prog->settings.cluster;
    if (!scn_expect_map(x, n, "settings.cluster ({node, database, proxy})"))
        return;
    scn_check_keys(x, n, keys, "settings.cluster");
    cl->enabled = true;
    cl->db.name = "cluster";
    const scn_node *v;
    if ((v = scn_map_get(n, "node")))
        SCN_WITH_KEY(x, "node") {
            const char *s = scn_expect_string(x, v, "a node name like \"cr1\"");
            if (s && (!scn_name_ok(s) || strlen(s) > 64))
                scn_cx_error(&x->pub, v, "bad node name '%s': 1-64 letters, digits, '_', '-', '.' or '+'", s);
            else if (s)
                cl->node = s;
        }
    if ((v = scn_map_get(n, "database")))
        SCN_WITH_KEY(x, "database") {
            const char *url = scn_expect_string(x, v, "\"postgresql://...\"");
            if (url && database_url(x, v, url, &cl->db) && cl->db.kind != CFG_DB_POSTGRESQL)
                scn_cx_error(&x->pub, v, "settings.cluster.database must be PostgreSQL (every node reaches it)");
        }
    else
        scn_cx_error(&x->pub, n, "settings.cluster needs database: (\"postgresql://...\", shared by the nodes)");
    if ((v = scn_map_get(n, "proxy")))
        SCN_WITH_KEY(x, "proxy") {
            const char *s = scn_expect_string(x, v, "the front end's address like \"192.0.2.5:5060\"");
            struct in_addr ia;
            char host[64];
            const char *colon = s ? strrchr(s, ':') : NULL;
            if (s && (!host_port_ok(s) || (size_t)(colon - s) >= sizeof host ||
                      (snprintf(host, sizeof host, "%.*s", (int)(colon - s), s), inet_pton(AF_INET, host, &ia) != 1)))
                scn_cx_error(&x->pub, v, "expected IPV4:PORT like \"192.0.2.5:5060\", got '%s'", s);
            else if (s)
                cl->proxy = s;
        }
}

static void compile_databases(scn_cx *x, const scn_node *n)
{
    scn_program *p = x->pub.prog;
    if (!scn_expect_map(x, n, "settings.databases"))
        return;
    p->databases = cr_arena_alloc(x->pub.arena, (n->count + 1) * sizeof *p->databases);
    for (size_t i = 0; i < n->count; i++) {
        const scn_node *k = n->pairs[i].key, *v = n->pairs[i].val;
        SCN_WITH_KEY(x, k->str) {
            const char *url = scn_expect_string(x, v, "\"sqlite:PATH\" or \"postgresql://...\"");
            scn_database *d = &p->databases[p->database_count];
            d->name = k->str;
            if (!scn_name_ok(k->str))
                scn_cx_error(&x->pub, k, "bad database name '%s': use letters, digits, '_', '-' or '.'", k->str);
            if (database_url(x, v, url, d)) {
                scn_strmap_put(x->pub.arena, &p->lookup->databases, d->name, d);
                p->database_count++;
            }
        }
    }
}

static void compile_limits(scn_cx *x, const scn_node *n)
{
    static const char *const keys[] = {"steps_per_second", "max_streams", "hangup_grace", "max_calls",
                                       "calls_per_second", "max_call_duration", "drain_timeout", NULL};
    scn_settings *s = &x->pub.prog->settings;
    if (!scn_expect_map(x, n, "settings.limits"))
        return;
    scn_check_keys(x, n, keys, "settings.limits");
    const scn_node *v;
    long l;
    if ((v = scn_map_get(n, "steps_per_second")))
        SCN_WITH_KEY(x, "steps_per_second") scn_expect_number(x, v, 1, 1e9, &s->steps_per_second);
    if ((v = scn_map_get(n, "max_streams")))
        SCN_WITH_KEY(x, "max_streams") if (scn_expect_int(x, v, 1, 10000, &l)) s->max_streams = (int)l;
    if ((v = scn_map_get(n, "hangup_grace")))
        SCN_WITH_KEY(x, "hangup_grace") {
            double d;
            if (scn_compile_duration(&x->pub, v, &d)) {
                if (d > 3600)
                    scn_cx_error(&x->pub, v, "expected a duration of at most 1h, got %s", v->str);
                else
                    s->hangup_grace = d;
            }
        }
    if ((v = scn_map_get(n, "max_calls")))
        SCN_WITH_KEY(x, "max_calls") if (scn_expect_int(x, v, 0, 10000000, &l)) s->max_calls = (int)l;
    if ((v = scn_map_get(n, "max_call_duration")))
        SCN_WITH_KEY(x, "max_call_duration") {
            double d;
            if (scn_compile_duration(&x->pub, v, &d)) {
                if (d > 168 * 3600)
                    scn_cx_error(&x->pub, v, "expected a duration of at most 168h (0: no limit), got %s", v->str);
                else
                    s->max_call_duration = d;
            }
        }
    if ((v = scn_map_get(n, "drain_timeout")))
        SCN_WITH_KEY(x, "drain_timeout") {
            double d;
            if (scn_compile_duration(&x->pub, v, &d)) {
                if (d > 86400)
                    scn_cx_error(&x->pub, v, "expected a duration of at most 24h, got %s", v->str);
                else
                    s->drain_timeout = d;
            }
        }
    if ((v = scn_map_get(n, "calls_per_second")))
        SCN_WITH_KEY(x, "calls_per_second") {
            double d;
            if (scn_expect_number(x, v, 0, 1e6, &d))
                s->calls_per_second = d;
        }
}

static void compile_admin(scn_cx *x, const scn_node *n)
{
    static const char *const keys[] = {"listen", "token_file", "token_env", "revisions", "editor", NULL};
    scn_settings *s = &x->pub.prog->settings;
    if (!scn_expect_map(x, n, "settings.admin"))
        return;
    scn_check_keys(x, n, keys, "settings.admin");
    const scn_node *v = scn_map_get(n, "token_file");
    if (v)
        SCN_WITH_KEY(x, "token_file") {
            const char *p = scn_expect_string(x, v, "a file holding the token");
            if (p)
                s->admin_token_file = scn_resolve_path(x, p);
        }
    if ((v = scn_map_get(n, "token_env")))
        SCN_WITH_KEY(x, "token_env") s->admin_token_env = scn_expect_string(x, v, "an environment variable's name");
    if (s->admin_token_file && s->admin_token_env)
        scn_cx_error(&x->pub, n, "settings.admin: give token_file or token_env, not both");
    if ((v = scn_map_get(n, "editor")))
        SCN_WITH_KEY(x, "editor") {
            bool on;
            if (scn_expect_bool(x, v, &on))
                s->admin_editor_off = !on;
        }
    if ((v = scn_map_get(n, "revisions")))
        SCN_WITH_KEY(x, "revisions") {
            const char *p = scn_expect_string(x, v, "a directory");
            if (p)
                s->admin_revisions = scn_resolve_path(x, p);
        }
    v = scn_map_get(n, "listen");
    if (v)
        SCN_WITH_KEY(x, "listen") {
            const char *s = scn_expect_string(x, v, "an address like \"127.0.0.1:8080\"");
            if (s && !host_port_ok(s))
                scn_cx_error(&x->pub, v, "expected HOST:PORT like \"127.0.0.1:8080\", got '%s'", s);
            else if (s)
                x->pub.prog->settings.admin_listen = s;
        }
}

void scn_compile_settings(scn_cx *x, const scn_node *n)
{
    static const char *const keys[] = {"sip", "media", "smtp", "databases", "limits", "admin", "cdr", "cluster",
                                       "park", "join", NULL};
    static const struct {
        const char *key;
        void (*fn)(scn_cx *, const scn_node *);
    } parts[] = {
        {"sip", compile_sip},             {"media", compile_media}, {"smtp", compile_smtp},
        {"databases", compile_databases}, {"limits", compile_limits}, {"admin", compile_admin},
        {"cdr", compile_cdr},             {"cluster", compile_cluster}, {"park", scn_compile_park},
        {"join", scn_compile_join},
    };
    if (!n || scn_is_null(n))
        return;
    SCN_WITH_KEY(x, "settings") {
        if (scn_expect_map(x, n, "settings")) {
            /* Process-wide settings belong to the top file, where a reader looks for them. */
            for (size_t i = 0; i < n->count; i++)
                if (n->pairs[i].key->file != x->top_file && strcmp(n->pairs[i].key->file, x->top_file) != 0)
                    scn_cx_error(&x->pub, n->pairs[i].key,
                                 "settings belong in the top file (%s), not in an included file", x->top_file);
            scn_check_keys(x, n, keys, "settings");
            for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
                const scn_node *v = scn_map_get(n, parts[i].key);
                if (v)
                    SCN_WITH_KEY(x, parts[i].key) parts[i].fn(x, v);
            }
        }
    }
}
