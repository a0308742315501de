/* serve.c — `callroute serve FILE`: the SIP service. One loop (sofia-sip's
 * su_root, see src/telephony/sip/sip_loop.c) runs the SIP driver, the
 * engine and the services. SIGTERM/SIGINT: stop taking calls, let the
 * running ones go on for settings.limits.drain_timeout, then end them
 * cleanly (their hangup handlers run), exit 0. SIGHUP: reload the file; a
 * file that fails validation changes nothing. The admin API's POST /reload,
 * PUT /scenario and restores go through the same install(): each load is a
 * revision (admin/revisions.h); live calls finish on theirs. SIGUSR1:
 * reopen --log-file.
 * Under systemd (Type=notify) it says READY, RELOADING, STOPPING and pets
 * the watchdog from the loop, so a stalled loop is restarted. As a node
 * of a cluster (settings.cluster) its wiring is in serve_cluster.c. */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "admin/admin.h"
#include "admin/revisions.h"
#include "cli/cluster.h"
#include "cli/cluster_agents.h"
#include "cli/records_hook.h"
#include "cli/cli.h"
#include "cli/serve_int.h"
#include "config/from_program.h"
#include "engine/engine.h"
#include "scenario/diag.h"
#include "scenario/program.h"
#include "services/svc.h"
#include "telephony/sip/sip.h"
#include "util/heap.h"
#include "util/strbuf.h"

#define MAX_LISTEN 4

static void usage(FILE *out)
{
    fputs("usage: callroute serve FILE [--sip ADDR]... [--admin ADDR] [--log-level LEVEL]\n"
          "                       [--log-file PATH] [--node NAME] [--heap-prefault SIZE]\n"
          "       callroute serve FILE --drain [--admin ADDR] [--drain-timeout DURATION]\n\n"
          "Runs the SIP service for the scenario FILE: takes calls from the gateways\n"
          "and the registered users it names, routes them and runs their scripts.\n\n"
          "  --sip ADDR         where to listen: udp:HOST:PORT, tcp:HOST:PORT,\n"
          "                     HOST:PORT (UDP and TCP) or tls:HOST:PORT (with\n"
          "                     settings.sip.tls); one of udp/tcp and one tls:\n"
          "                     repeatable. Default: settings.sip.listen, else\n"
          "                     0.0.0.0:5060\n"
          "  --admin ADDR       the admin API (HTTP): HOST:PORT, or off.\n"
          "                     Default: settings.admin.listen (127.0.0.1:8080)\n"
          "  --log-level LEVEL  error | warn | info (default: one line per call start,\n"
          "                     route and end) | debug (the full trace and SIP events)\n"
          "  --log-file PATH    log there instead of stderr (reopened on SIGUSR1)\n"
          "  --node NAME        this node's name in a cluster (settings.cluster; default:\n"
          "                     settings.cluster.node, else the host name)\n"
          "  --heap-prefault SIZE  write SIZE of heap (512M, 2G, ...) before the first\n"
          "                     call, so heap growth under load costs no page faults\n"
          "                     (README.md, memory): the process holds SIZE from start\n"
          "  --drain            do not serve: tell the serve already running FILE (its\n"
          "                     admin API, with FILE's token) to drain: it stops taking\n"
          "                     calls, the live ones finish, it exits. Waits for that;\n"
          "                     exit 0 once it has stopped\n"
          "  --drain-timeout D  with --drain: end calls still up after D (default: none)\n"
          "  --help             this text\n\n"
          "SIGTERM or SIGINT: new calls are refused (503), running calls may go on for\n"
          "settings.limits.drain_timeout, then they are ended cleanly and the process\n"
          "exits 0 (a second signal exits at once).\n"
          "SIGHUP: reloads FILE (as the admin API's POST /reload does); running calls\n"
          "finish on the revision they started on.\n"
          "SIGUSR1: reopens the log file (logrotate).\n\n"
          "Exit status: 0 after a signal, 1 invalid FILE, cannot listen or cannot\n"
          "prefault the heap, 2 usage error or unreadable FILE.\n",
          out);
}

static void stamp(FILE *out)
{
    struct timespec now;
    struct tm tm;
    char ts[32];
    clock_gettime(CLOCK_REALTIME, &now);
    localtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
    fprintf(out, "%s.%03ld ", ts, now.tv_nsec / 1000000);
}

void say(serve *s, sip_log_level lvl, const char *fmt, ...)
{
    static const char *const names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    if (lvl > s->level)
        return;
    va_list ap;
    va_start(ap, fmt);
    stamp(stderr);
    fprintf(stderr, "%s serve: ", names[lvl]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* The services' background work (the outbox: durable jobs, mail). */
/* /health: what the SIP edge refused and where the call records stand. */
static void health_cb(void *arg, json_t *o)
{
    serve *s = arg;
    sip_stats st;
    sip_driver_stats(s->drv, &st);
    json_object_set_new(o, "flood_dropped", json_integer((json_int_t)st.flood_dropped));
    json_object_set_new(o, "flood_refused", json_integer((json_int_t)st.flood_refused));
    json_object_set_new(o, "names_refused", json_integer((json_int_t)st.names_refused));
    if (s->rec) {
        rec_stats rs = rec_stats_of(s->rec);
        json_object_set_new(o, "cdr_spooled", json_integer(rs.spooled));
    }
}

/* /metrics: the SIP edge's numbers, handed over as the admin layer's
 * struct (it includes no SIP header). */
static void sip_metrics_cb(void *arg, admin_sip_metrics *out)
{
    serve *s = arg;
    sip_stats st;
    sip_driver_stats(s->drv, &st);
    *out = (admin_sip_metrics){
        .flood_dropped = st.flood_dropped, .flood_refused = st.flood_refused,
        .names_refused = st.names_refused, .method_names = st.method_names,
        .requests = st.requests, .method_count = st.method_count,
        .responses = st.responses, .code_min = st.code_min, .code_max = st.code_max,
        .registered_users = st.registered_users, .registered_contacts = st.registered_contacts,
        .rtp_received = st.rtp_received, .rtp_sent = st.rtp_sent, .rtp_lost = st.rtp_lost,
        .rtp_dropped = st.rtp_dropped, .rtp_jitter = st.rtp_jitter, .rtp_open = st.rtp_open};
}

static void rec_log_cb(void *arg, int level, const char *msg)
{
    say(arg, level == 0 ? SIP_LOG_ERROR : level == 1 ? SIP_LOG_WARN : SIP_LOG_INFO, "%s", msg);
}

static void svc_log_cb(void *arg, svc_log_level level, const char *msg)
{
    /* svc_log_level's ERROR, WARN, INFO are sip_log_level's. */
    say(arg, (sip_log_level)level, "%s", msg);
}

/* The level a trace record is logged at: a `log` action's own level; errors
 * at error; the route and the end of each call at info; the rest at debug. */
static sip_log_level record_level(const eng_trace_rec *r)
{
    switch (r->kind) {
    case ENG_TR_ERROR:
        return SIP_LOG_ERROR;
    case ENG_TR_ROUTE:
    case ENG_TR_MEET:
    case ENG_TR_CALL:
        return SIP_LOG_INFO;
    case ENG_TR_LOG:
        if (r->level && strcmp(r->level, "error") == 0)
            return SIP_LOG_ERROR;
        if (r->level && strcmp(r->level, "warning") == 0)
            return SIP_LOG_WARN;
        if (r->level && strcmp(r->level, "info") == 0)
            return SIP_LOG_INFO;
        return SIP_LOG_DEBUG;
    default:
        return SIP_LOG_DEBUG;
    }
}

/* The trace, one line a record: timestamp, level, call id, the record. */
static void trace_cb(void *arg, const eng_trace_rec *r)
{
    static const char *const names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    serve *s = arg;
    sip_log_level lvl = record_level(r);
    if (lvl > s->level)
        return;
    /* At info the route line names the route; why (route by route) is debug. */
    eng_trace_rec brief = *r;
    if (s->level < SIP_LOG_DEBUG)
        brief.explain = NULL;
    cr_strbuf line = CR_STRBUF_INIT;
    eng_trace_text(&brief, &line);
    stamp(stderr);
    fprintf(stderr, "%s trace %s: %s\n", names[lvl], r->call_id ? r->call_id : "-", cr_strbuf_cstr(&line));
    cr_strbuf_free(&line);
}

static void refused_cb(void *arg, const char *call_id, const char *source, int code, const char *reason)
{
    serve *s = arg;
    admin_refused(s->admin, call_id, source, code, reason);
}

/* ---- stopping ---- */

static void drain_cb(loop *l, void *arg)
{
    serve *s = arg;
    s->drain_timer = NULL;
    /* Hangup handlers may still run after the driver let its legs go. */
    if (s->driver_down && eng_engine_call_count(s->eng) == 0) {
        say(s, SIP_LOG_INFO, "stopped");
        loop_stop(l);
        return;
    }
    s->drain_timer = loop_timer_start(l, 0.05, drain_cb, s);
}

static void driver_down_cb(void *arg)
{
    serve *s = arg;
    s->driver_down = true;
    if (!s->drain_timer)
        s->drain_timer = loop_timer_start(s->l, 0, drain_cb, s);
}

/* After SIGTERM: live calls go on until they end or drain_timeout passes;
 * then the driver ends what is left. */
static void draining_cb(loop *l, void *arg)
{
    serve *s = arg;
    s->drain_timer = NULL;
    size_t live = eng_engine_call_count(s->eng);
    if (live > 0 && loop_now(l) < s->drain_until) {
        s->drain_timer = loop_timer_start(l, 0.1, draining_cb, s);
        return;
    }
    if (live > 0)
        say(s, SIP_LOG_INFO, "drain time over: ending %zu running calls", live);
    sip_driver_shutdown(s->drv, driver_down_cb, s);
}

static void watchdog_cb(loop *l, void *arg)
{
    serve *s = arg;
    sd_notify(0, "WATCHDOG=1");
    s->watchdog_timer = loop_timer_start(l, s->watchdog_every, watchdog_cb, s);
}

static void reopen_log(serve *s)
{
    if (s->log_file && !freopen(s->log_file, "a", stderr))
        s->log_file = NULL;   /* nowhere left to say so */
    else if (s->log_file)
        setvbuf(stderr, NULL, _IOLBF, 0);
}

/* P (compiled from TEXT) becomes the program new calls take: a new
 * revision, then every part of the service in one order. Running calls
 * keep the program they hold. Takes its own reference to P. */
long install(serve *s, scn_program *p, const char *text, size_t len, const char *why)
{
    char warn[600];
    long n = admin_revisions_add(s->revs, p, text, len, warn, sizeof warn);
    if (warn[0])
        say(s, SIP_LOG_WARN, "%s", warn);
    rec_set_settings(s->rec, &p->settings.cdr);
    svc_config sc = cfg_services_of(p);
    svc_set_config(s->svc, &sc);
    eng_engine_set_program(s->eng, p);
    admin_set_program(s->admin, p);
    tel_config *tc = cfg_telephony_of(p);
    sip_driver_set_config(s->drv, tc);
    tel_config_unref(tc);   /* the driver holds its own reference */
    scn_program_unref(s->prog);
    s->prog = scn_program_ref(p);
    say(s, SIP_LOG_INFO, "reloaded %s: revision %ld (%s, sha256 %.12s), %zu routes", s->file, n, why,
        admin_revisions_current(s->revs)->sha256, p->route_count);
    return n;
}

/* SIGHUP and POST /reload: the file read again, compiled, installed. The
 * new revision, or 0 (diagnostics in D and the log; the running one stays). */
static long reload(serve *s, scn_diags *d, const char *why)
{
    sd_notify(0, "RELOADING=1");
    size_t len = 0;
    char *text = scn_read_source(s->file, &len, d, NULL);
    scn_program *p = text ? cli_compile_text(s->file, text, len, d) : NULL;
    scn_diags_print(d, stderr);
    long n = 0;
    if (p)
        n = install(s, p, text, len, why);
    else
        say(s, SIP_LOG_ERROR, "reload of %s (%s) failed: keeping revision %ld", s->file, why, s->prog->revision);
    sd_notify(0, "READY=1");
    scn_program_unref(p);
    free(text);
    return n;
}

/* The admin API's side (admin_options). */
static scn_program *compile_cb(void *arg, const char *text, size_t len, scn_diags *d)
{
    serve *s = arg;
    return cli_compile_text(s->file, text, len, d);
}

static long install_cb(void *arg, scn_program *p, const char *text, size_t len, const char *why)
{
    return install(arg, p, text, len, why);
}

static long reload_cb(void *arg, scn_diags *d, const char *why) { return reload(arg, d, why); }

/* New calls are refused (INVITE and OPTIONS 503: the front end sends them
 * elsewhere), the live ones may go on for LIMIT seconds; the process
 * exits once none is left. */
static void begin_drain(serve *s, double limit, const char *why)
{
    size_t live = eng_engine_call_count(s->eng);
    sd_notify(0, "STOPPING=1");
    if (limit > 0 && live > 0 && limit < 1e11)
        say(s, SIP_LOG_INFO, "%s: refusing new calls; %zu running may go on for %.0fs", why, live, limit);
    else if (limit > 0 && live > 0)
        say(s, SIP_LOG_INFO, "%s: refusing new calls; %zu running may go on to their end", why, live);
    else
        say(s, SIP_LOG_INFO, "%s: refusing new calls, ending %zu running", why, live);
    s->draining = true;
    sip_driver_refuse_new(s->drv);
    admin_refuse_new(s->admin);
    s->drain_until = loop_now(s->l) + limit;
    if (s->drain_timer)
        loop_timer_stop(s->l, s->drain_timer);
    s->drain_timer = loop_timer_start(s->l, 0, draining_cb, s);
}

static void signal_cb(loop *l, int fd, unsigned events, void *arg)
{
    (void)events;
    serve *s = arg;
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGHUP && s->cl) {
            serve_cluster_reload(s);
            continue;
        }
        if (si.ssi_signo == SIGHUP) {
            scn_diags d;
            scn_diags_init(&d);
            reload(s, &d, "SIGHUP");
            scn_diags_free(&d);
            continue;
        }
        if (si.ssi_signo == SIGUSR1) {
            reopen_log(s);
            say(s, SIP_LOG_INFO, "log reopened");
            continue;
        }
        if (++s->stops > 1) {
            say(s, SIP_LOG_WARN, "second signal: stopping now");
            loop_stop(l);
            return;
        }
        char why[32];
        snprintf(why, sizeof why, "signal %u", si.ssi_signo);
        begin_drain(s, s->prog->settings.drain_timeout, why);
    }
}

/* POST /drain: like SIGTERM, but the live calls may run to their end
 * (TIMEOUT 0) or for TIMEOUT seconds. */
static bool drain_req_cb(void *arg, double timeout, size_t *live)
{
    serve *s = arg;
    *live = eng_engine_call_count(s->eng);
    if (s->draining)
        return false;
    begin_drain(s, timeout > 0 ? timeout : 1e12, "POST /drain");
    return true;
}

/* ---- main ---- */

static bool parse_level(const char *v, sip_log_level *out)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(v, names[i]) == 0 || (i == 1 && strcmp(v, "warning") == 0)) {
            *out = (sip_log_level)i;
            return true;
        }
    return false;
}

int cli_serve(int argc, char **argv)
{
    serve s = {.level = SIP_LOG_INFO, .sigfd = -1};
    const char *listen[MAX_LISTEN];
    size_t nlisten = 0;
    const char *admin_addr = NULL, *node = NULL, *drain_timeout = NULL;
    bool drain = false;
    size_t prefault = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return CLI_OK;
        } else if (strcmp(a, "--sip") == 0 && i + 1 < argc) {
            if (nlisten == MAX_LISTEN) {
                fprintf(stderr, "callroute serve: at most %d --sip addresses\n", MAX_LISTEN);
                return CLI_USAGE;
            }
            listen[nlisten++] = argv[++i];
        } else if (strcmp(a, "--admin") == 0 && i + 1 < argc) {
            admin_addr = argv[++i];
        } else if (strcmp(a, "--heap-prefault") == 0 && i + 1 < argc) {
            if (!heap_size_parse(argv[++i], &prefault)) {
                fprintf(stderr, "callroute serve: --heap-prefault '%s': expected a size like 512M or 2G "
                                "(mebibytes or gibibytes, 64M to 1024G)\n", argv[i]);
                return CLI_USAGE;
            }
        } else if (strcmp(a, "--node") == 0 && i + 1 < argc) {
            node = argv[++i];
        } else if (strcmp(a, "--drain") == 0) {
            drain = true;
        } else if (strcmp(a, "--drain-timeout") == 0 && i + 1 < argc) {
            drain_timeout = argv[++i];
        } else if (strcmp(a, "--log-file") == 0 && i + 1 < argc) {
            s.log_file = argv[++i];
        } else if (strcmp(a, "--log-level") == 0 && i + 1 < argc) {
            if (!parse_level(argv[++i], &s.level)) {
                fprintf(stderr, "callroute serve: unknown log level '%s' (error, warn, info, debug)\n", argv[i]);
                return CLI_USAGE;
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "callroute serve: unknown option '%s'\n", a);
            usage(stderr);
            return CLI_USAGE;
        } else if (!s.file) {
            s.file = a;
        } else {
            fprintf(stderr, "callroute serve: one scenario file only ('%s')\n", a);
            return CLI_USAGE;
        }
    }
    if (!s.file) {
        fputs("callroute serve: no scenario file given\n", stderr);
        usage(stderr);
        return CLI_USAGE;
    }
    /* The bytes compiled are the bytes kept: revision 1's source. */
    scn_diags diags;
    scn_diags_init(&diags);
    bool unreadable = false;
    size_t source_len = 0;
    char *source = scn_read_source(s.file, &source_len, &diags, &unreadable);
    s.prog = source ? cli_compile_text(s.file, source, source_len, &diags) : NULL;
    scn_diags_print(&diags, stderr);
    scn_diags_free(&diags);
    if (!s.prog) {
        free(source);
        return unreadable ? CLI_USAGE : CLI_INVALID;
    }
    if (drain || drain_timeout) {
        free(source);
        int drc = cli_drain_remote(s.prog, admin_addr, drain_timeout);
        scn_program_unref(s.prog);
        return drc;
    }
    /* Where sources are kept is read at start, as the admin address is. */
    s.revs = admin_revisions_new(s.file, s.prog->settings.admin_revisions, 0);
    if (!s.revs)
        abort();
    if (s.prog->settings.cluster.enabled && !serve_cluster_boot(&s, node, &source, &source_len)) {
        scn_program_unref(s.prog);
        admin_revisions_free(s.revs);
        free(source);
        return 1;
    }

    setvbuf(stderr, NULL, _IOLBF, 0);
    if (s.log_file) {
        reopen_log(&s);
        if (!s.log_file) {
            fprintf(stdout, "callroute serve: cannot open the log file: %s\n", strerror(errno));
            scn_program_unref(s.prog);
            free(source);
            return CLI_USAGE;
        }
    }
    /* Calls come and go by the thousand: keep freed heap instead of giving
     * it back and faulting it in again (measured: fewer page faults). */
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGUSR1);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);

    int rc = CLI_OK;
    char err[256] = "", heap_note[160] = "";
    if (prefault) {
        int pr = heap_prefault(prefault, heap_note, sizeof heap_note);
        if (pr == -1) {
            fprintf(stderr, "callroute serve: --heap-prefault: %s\n", heap_note);
            scn_program_unref(s.prog);
            admin_revisions_free(s.revs);
            free(source);
            return 1;
        }
        if (pr == -2) {
            say(&s, SIP_LOG_WARN, "--heap-prefault %s", heap_note);
            heap_note[0] = '\0';
        }
    }
    s.l = sip_loop_new();
    if (!s.l) {
        fputs("callroute serve: cannot create the event loop\n", stderr);
        scn_program_unref(s.prog);
        free(source);
        return 1;
    }
    svc_options so = {.mail = SVC_MAIL_SEND, .log = svc_log_cb, .log_arg = &s};
    admin_revisions_add(s.revs, s.prog, source, source_len, err, sizeof err);
    free(source);
    if (err[0])
        say(&s, SIP_LOG_WARN, "%s", err);
    err[0] = '\0';
    svc_config sc = cfg_services_of(s.prog);
    s.svc = svc_new(s.l, &sc, &so, err, sizeof err);
    if (!s.svc) {
        fprintf(stderr, "callroute serve: %s\n", err);
        rc = 1;
        goto out;
    }
    sip_options opt = {.listen = listen, .listen_count = nlisten, .log_level = s.level,
                       .refused = refused_cb, .refused_arg = &s};
    tel_config *tc = cfg_telephony_of(s.prog);
    s.drv = sip_driver_new(s.l, tc, &opt, err, sizeof err);
    tel_config_unref(tc);   /* the driver holds its own reference */
    if (!s.drv) {
        fprintf(stderr, "callroute serve: %s\n", err);
        rc = 1;
        goto out;
    }
    eng_options eo = {.trace = trace_cb, .trace_arg = &s};
    if (s.node[0])
        serve_cluster_start(&s, &eo, listen, nlisten);
    /* A token that is configured but cannot be used is fatal: the admin
     * API would refuse every change. An explicit --admin that cannot
     * listen is fatal; the default is not. */
    char *token = NULL;
    if (!admin_load_token(&s.prog->settings, &token, err, sizeof err)) {
        fprintf(stderr, "callroute serve: %s\n", err);
        rc = 1;
        goto out;
    }
    admin_options ao = {.listen = admin_addr ? admin_addr : s.prog->settings.admin_listen, .token = token,
                        .health = health_cb, .health_arg = &s, .svc = s.svc, .revisions = s.revs,
                        .compile = compile_cb, .install = install_cb, .reload = reload_cb,
                        .scenario_arg = &s, .sip_metrics = sip_metrics_cb, .sip_metrics_arg = &s,
                        .drain = drain_req_cb, .drain_arg = &s};
    serve_cluster_admin(&s, &ao);
    s.admin = admin_new(s.l, &ao, err, sizeof err);
    if (token) {
        memset(token, 0, strlen(token));
        free(token);
    }
    if (!s.admin && err[0] && admin_addr) {
        fprintf(stderr, "callroute serve: %s\n", err);
        rc = 1;
        goto out;
    }
    if (!s.admin && err[0])
        say(&s, SIP_LOG_WARN, "%s", err);
    else if (s.admin)
        say(&s, SIP_LOG_INFO, "admin API on port %d", admin_port(s.admin));
    if (s.prog->settings.cdr.enabled) {
        s.rec = rec_new(s.l, s.svc, &s.prog->settings.cdr, rec_log_cb, &s, err, sizeof err);
        if (!s.rec) {
            fprintf(stderr, "callroute serve: %s\n", err);
            rc = 1;
            goto out;
        }
    }
    admin_set_records(s.admin, s.rec);
    s.rec_hook = records_hook_new(s.rec, s.node[0] ? s.node : NULL, &eo);
    admin_hook(s.admin, &eo);
    admin_set_program(s.admin, s.prog);
    /* Why a route was chosen (every route of the type evaluated and
     * described) is shown only in the debug log and the admin API's
     * trace: without either, nobody reads it. */
    eo.no_route_explain = !s.admin && s.level < SIP_LOG_DEBUG;
    s.eng = eng_engine_new(s.l, s.drv, s.svc, s.prog, &eo);
    admin_set_engine(s.admin, s.eng);
    s.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (!s.eng || s.sigfd < 0) {
        fprintf(stderr, "callroute serve: cannot start: %s\n", strerror(errno));
        rc = 1;
        goto out;
    }
    s.sigw = loop_watch_fd(s.l, s.sigfd, LOOP_READ, signal_cb, &s);
    say(&s, SIP_LOG_INFO, "%s: listening for SIP on port %d (%zu routes, %zu users, %zu gateways)",
        s.file, sip_driver_port(s.drv), s.prog->route_count, s.prog->user_count,
        s.prog->gateway_count);
    say(&s, SIP_LOG_INFO, "heap: %s%s%s", heap_pages(), heap_note[0] ? "; " : "", heap_note);
    sd_notifyf(0, "READY=1\nSTATUS=listening for SIP on port %d", sip_driver_port(s.drv));
    uint64_t wd_usec = 0;
    if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec > 0) {
        s.watchdog_every = (double)wd_usec / 2e6;
        s.watchdog_timer = loop_timer_start(s.l, s.watchdog_every, watchdog_cb, &s);
    }
    loop_run(s.l);

out:
    if (s.watchdog_timer)
        loop_timer_stop(s.l, s.watchdog_timer);
    if (s.drain_timer)
        loop_timer_stop(s.l, s.drain_timer);
    if (s.sigw)
        loop_unwatch(s.l, s.sigw);
    if (s.sigfd >= 0)
        close(s.sigfd);
    admin_set_engine(s.admin, NULL);
    cluster_publish_cancel(s.reload_publish);
    scn_program_unref(s.reload_prog);
    free(s.reload_text);
    if (s.eng)
        eng_engine_free(s.eng);
    if (s.drv)
        s.drv->ops->destroy(s.drv);
    rec_free(s.rec);
    records_hook_free(s.rec_hook);
    admin_free(s.admin);
    cluster_agents_free(s.agents);
    cluster_free(s.cl);
    if (s.svc)
        svc_free(s.svc);
    loop_destroy(s.l);
    scn_program_unref(s.prog);
    admin_revisions_free(s.revs);
    return rc;
}
