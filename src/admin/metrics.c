/* metrics.c — GET /metrics: the Prometheus text exposition (prom.h) of
 * what every layer counts, written here and nowhere else
 * (docs/decisions/metrics.md). The calls are counted from the engine's
 * hooks, wrapped as calls.c wraps them: each call once when it ends, by its
 * route and its disposition (the records layer's words, whether records
 * are kept or not), its setup time, each dial attempt by gateway and
 * outcome, each action that ended in an error by application. The loop's
 * lag is measured by a timer of our own. The rest is read from the layers
 * when asked: refusals (status.c), the SIP edge (through
 * admin_options.sip_metrics), the services, the call record spool.
 *
 * Label values are bounded: route, gateway and application names come from
 * the scenario and the application registry; SIP methods are a fixed list,
 * response codes 100-699; no call ids, numbers or addresses. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin/admin_int.h"
#include "util/alloc.h"
#include "util/hash.h"
#include "admin/prom.h"
#include "records/cdr.h"
#include "services/svc.h"
#include "util/version.h"

/* ---- tallies: counters by one label value ----------------------------- */

#define TALLY_SLOTS 5
/* Names come from scenario files; reloads that keep renaming routes could
 * still add up: past this many, new names count under OTHER_NAME. */
#define TALLY_MAX_NAMES 10000
#define OTHER_NAME "(other)"

typedef struct tally {
    char *name;
    long long active;                     /* routes: calls up now */
    unsigned long long n[TALLY_SLOTS];    /* by a second label (disposition, status) */
} tally;

typedef struct tally_set {
    tally *v;                  /* in the order first seen */
    size_t count, cap;
    size_t *index;             /* open addressing: position in v + 1; 0 empty */
    size_t index_cap;          /* a power of two, over twice count */
} tally_set;

static size_t name_hash(const char *s)
{
    return cr_fnv1a32_str(CR_FNV32_BASIS, s);
}

static void index_put(tally_set *t, size_t pos)
{
    size_t i = name_hash(t->v[pos].name) & (t->index_cap - 1);
    while (t->index[i])
        i = (i + 1) & (t->index_cap - 1);
    t->index[i] = pos + 1;
}

/* NAME's tally (created at 0); valid until the next call on T. NULL only
 * when memory ran out. */
static tally *tally_get(tally_set *t, const char *name)
{
    if (t->index_cap) {
        for (size_t i = name_hash(name) & (t->index_cap - 1); t->index[i]; i = (i + 1) & (t->index_cap - 1))
            if (strcmp(t->v[t->index[i] - 1].name, name) == 0)
                return &t->v[t->index[i] - 1];
    }
    if (t->count >= TALLY_MAX_NAMES && strcmp(name, OTHER_NAME) != 0)
        return tally_get(t, OTHER_NAME);
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        t->v = cr_xrealloc(t->v, cap * sizeof *t->v);
        t->cap = cap;
    }
    if (2 * (t->count + 1) > t->index_cap) {
        size_t cap = t->index_cap ? t->index_cap * 2 : 64;
        size_t *index = cr_xcalloc(cap, sizeof *index);
        free(t->index);
        t->index = index;
        t->index_cap = cap;
        for (size_t i = 0; i < t->count; i++)
            index_put(t, i);
    }
    char *copy = cr_xstrdup(name);
    tally *e = &t->v[t->count];
    memset(e, 0, sizeof *e);
    e->name = copy;
    index_put(t, t->count++);
    return e;
}

static void tally_free(tally_set *t)
{
    for (size_t i = 0; i < t->count; i++)
        free(t->v[i].name);
    free(t->v);
    free(t->index);
}

/* The position of S in the NULL-terminated WORDS, or -1. */
static int word_index(const char *const *words, const char *s)
{
    for (int i = 0; s && words[i]; i++)
        if (strcmp(words[i], s) == 0)
            return i;
    return -1;
}

static const char *const dispositions[] = {"ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CANCELLED", NULL};
static const char *const dial_statuses[] = {"answered", "busy", "no_answer", "failed", "cancelled", NULL};
static const char *const app_failures[] = {"error", "timeout", NULL};

/* ---- buckets ------------------------------------------------------------ */

/* Start to answer: an IVR answers at once, a dial rings for a while. */
static const double setup_bounds[] = {0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60};
/* How late a timer fires: the loop's responsiveness for SIP, RTP, HTTP. */
static const double lag_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
#define LAG_EVERY 0.5
#define N(a) (sizeof(a) / sizeof((a)[0]))

struct admin_metrics {
    admin *a;
    tally_set routes;          /* active; n[] by dispositions[] */
    tally_set gateways;        /* n[] by dial_statuses[]; "" for users and URIs */
    tally_set apps;            /* n[] by app_failures[] */
    cr_histogram setup, lag;
    loop_timer *lag_timer;
    double lag_due;            /* CLOCK_MONOTONIC seconds */
    double start_time;         /* the process's, epoch seconds */
};

/* ---- the engine's hooks --------------------------------------------------- */

static void trace_cb(void *arg, const eng_trace_rec *r)
{
    admin_metrics *m = arg;
    if (r->kind == ENG_TR_ROUTE && r->call && !r->leg) {
        /* once per call, right after it began; "" when no route matched */
        tally *t = tally_get(&m->routes, r->route ? r->route : "");
        if (t)
            t->active++;
    } else if (r->kind == ENG_TR_APP && r->app && r->phase && strcmp(r->phase, "end") == 0) {
        int k = word_index(app_failures, r->status);
        tally *t = k >= 0 ? tally_get(&m->apps, r->app) : NULL;
        if (t)
            t->n[k]++;
    }
}

static void call_done_cb(void *arg, eng_call *c)
{
    admin_metrics *m = arg;
    size_t n = 0;
    const eng_leg_log *legs = eng_call_legs(c, &n);
    double answer = eng_call_answer_time(c);
    const char *route = eng_call_route(c);
    tally *t = tally_get(&m->routes, route ? route : "");
    if (t) {
        t->active--;
        int d = word_index(dispositions, rec_disposition_of(answer, eng_call_hangup_by(c), eng_call_hangup_cause(c),
                                                            eng_call_hangup_code(c), n ? legs[n - 1].status : NULL));
        if (d >= 0)
            t->n[d]++;
    }
    if (answer > 0)
        cr_hist_observe(&m->setup, answer - eng_call_start(c));
    for (size_t i = 0; i < n; i++) {
        int k = word_index(dial_statuses, legs[i].status);
        tally *g = k >= 0 ? tally_get(&m->gateways, legs[i].gateway ? legs[i].gateway : "") : NULL;
        if (g)
            g->n[k]++;
    }
}

void admin_metrics_hook(admin_metrics *m, eng_options *eo)
{
    if (!m)
        return;
    eng_observer o = {.trace = trace_cb, .call_done = call_done_cb, .arg = m};
    eng_observe(eo, &o);
}

/* ---- the loop's lag ------------------------------------------------------ */

static double monotonic(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void lag_cb(loop *l, void *arg)
{
    admin_metrics *m = arg;
    double now = monotonic();
    cr_hist_observe(&m->lag, now > m->lag_due ? now - m->lag_due : 0);
    m->lag_due = now + LAG_EVERY;
    m->lag_timer = loop_timer_start(l, LAG_EVERY, lag_cb, m);
}

/* When this process started (what client libraries report as
 * process_start_time_seconds): its start in clock ticks after boot
 * (/proc/self/stat, field 22) plus the boot time (/proc/stat btime). */
static double process_start_time(double fallback)
{
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    /* after the command name in parentheses (which may hold anything) */
    char *p = strrchr(buf, ')');
    unsigned long long ticks = 0;
    int field = 2;
    for (; p && *p && field < 22; p++)
        if (*p == ' ')
            field++;
    if (!p || field != 22 || sscanf(p, "%llu", &ticks) != 1)
        return fallback;
    f = fopen("/proc/stat", "r");
    unsigned long long btime = 0;
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "btime %llu", &btime) == 1)
            break;
    if (f)
        fclose(f);
    long hz = sysconf(_SC_CLK_TCK);
    if (!btime || hz <= 0)
        return fallback;
    return (double)btime + (double)ticks / (double)hz;
}

admin_metrics *admin_metrics_new(admin *a)
{
    admin_metrics *m = cr_xcalloc(1, sizeof *m);
    m->a = a;
    cr_hist_init(&m->setup, setup_bounds, N(setup_bounds));
    cr_hist_init(&m->lag, lag_bounds, N(lag_bounds));
    m->start_time = process_start_time(loop_now(a->l));
    m->lag_due = monotonic() + LAG_EVERY;
    m->lag_timer = loop_timer_start(a->l, LAG_EVERY, lag_cb, m);
    return m;
}

void admin_metrics_free(admin_metrics *m)
{
    if (!m)
        return;
    if (m->lag_timer)
        loop_timer_stop(m->a->l, m->lag_timer);
    tally_free(&m->routes);
    tally_free(&m->gateways);
    tally_free(&m->apps);
    free(m);
}

/* ---- the exposition ------------------------------------------------------ */

static void one(cr_strbuf *b, const char *name, const char *type, const char *help, double v)
{
    prom_family(b, name, type, help);
    prom_sample(b, name, NULL, 0, v);
}

static void write_calls(admin_metrics *m, cr_strbuf *b)
{
    const scn_program *p = m->a->prog;
    /* The routes calls can take show from the start, at 0. */
    for (size_t i = 0; p && i < p->route_count; i++)
        if (p->routes[i].type == SCN_ROUTE_FROM_GATEWAY || p->routes[i].type == SCN_ROUTE_FROM_USER)
            tally_get(&m->routes, p->routes[i].name);
    for (size_t i = 0; p && i < p->gateway_count; i++)
        tally_get(&m->gateways, p->gateways[i].name);
    const tally_set *rt = &m->routes, *gw = &m->gateways, *ap = &m->apps;

    prom_family(b, "callroute_calls_active", "gauge", "Calls up now, by the route they took (\"\": none matched yet).");
    for (size_t i = 0; i < rt->count; i++)
        prom_sample(b, "callroute_calls_active", (prom_label[]){{"route", rt->v[i].name}}, 1,
                    (double)rt->v[i].active);
    prom_family(b, "callroute_calls_total", "counter",
                "Calls that ended, by route and disposition (ANSWERED, NO ANSWER, BUSY, FAILED, CANCELLED).");
    for (size_t i = 0; i < rt->count; i++)
        for (int d = 0; dispositions[d]; d++)
            prom_sample(b, "callroute_calls_total",
                        (prom_label[]){{"route", rt->v[i].name}, {"disposition", dispositions[d]}}, 2,
                        (double)rt->v[i].n[d]);
    prom_family(b, "callroute_call_setup_seconds", "histogram", "Answered calls: from the INVITE to the answer.");
    prom_histogram(b, "callroute_call_setup_seconds", NULL, 0, &m->setup);
    prom_family(b, "callroute_dial_attempts_total", "counter",
                "Parties dialled, by gateway (\"\": users and SIP URIs) and outcome.");
    for (size_t i = 0; i < gw->count; i++)
        for (int s = 0; dial_statuses[s]; s++)
            prom_sample(b, "callroute_dial_attempts_total",
                        (prom_label[]){{"gateway", gw->v[i].name}, {"status", dial_statuses[s]}}, 2,
                        (double)gw->v[i].n[s]);
    prom_family(b, "callroute_action_errors_total", "counter",
                "Actions that ended in an error or a timeout, by application.");
    for (size_t i = 0; i < ap->count; i++)
        for (int s = 0; app_failures[s]; s++)
            prom_sample(b, "callroute_action_errors_total",
                        (prom_label[]){{"app", ap->v[i].name}, {"status", app_failures[s]}}, 2,
                        (double)ap->v[i].n[s]);
}

static void refusal_cb(void *arg, const char *reason, long long n)
{
    prom_sample(arg, "callroute_calls_refused_total", (prom_label[]){{"reason", reason}}, 1, (double)n);
}

static void write_sip(admin *a, cr_strbuf *b)
{
    prom_family(b, "callroute_calls_refused_total", "counter",
                "Calls refused before a scenario ran, by reason (max_calls, calls_per_second, draining, shutdown, "
                "rtp_ports, open_files, rtp_socket: 503; unknown_source: 403).");
    admin_status_each_refusal(a, refusal_cb, b);
    if (!a->opt.sip_metrics)
        return;
    admin_sip_metrics s = {0};
    a->opt.sip_metrics(a->opt.sip_metrics_arg, &s);
    one(b, "callroute_sip_flood_dropped_total", "counter",
        "UDP datagrams dropped unanswered: their source was over settings.sip.flood.", (double)s.flood_dropped);
    one(b, "callroute_sip_flood_refused_total", "counter",
        "Requests answered 503: their source was over settings.sip.flood.", (double)s.flood_refused);
    one(b, "callroute_sip_names_refused_total", "counter",
        "Host names in requests that were not resolved (only numeric addresses are).", (double)s.names_refused);
    prom_family(b, "callroute_sip_requests_received_total", "counter",
                "SIP requests received over UDP, by method (\"other\": any other, or no SIP).");
    for (size_t i = 0; i < s.method_count; i++)
        prom_sample(b, "callroute_sip_requests_received_total", (prom_label[]){{"method", s.method_names[i]}}, 1,
                    (double)s.requests[i]);
    prom_family(b, "callroute_sip_responses_received_total", "counter",
                "SIP responses received over UDP, by status code (codes seen so far).");
    for (int c = s.code_min; s.responses && c <= s.code_max; c++)
        if (s.responses[c - s.code_min]) {
            char code[8];
            snprintf(code, sizeof code, "%d", c);
            prom_sample(b, "callroute_sip_responses_received_total", (prom_label[]){{"code", code}}, 1,
                        (double)s.responses[c - s.code_min]);
        }
    one(b, "callroute_sip_registered_users", "gauge", "Users with at least one registered contact.",
        (double)s.registered_users);
    one(b, "callroute_sip_registered_contacts", "gauge", "Registered contacts (bindings) that have not expired.",
        (double)s.registered_contacts);
    one(b, "callroute_rtp_sessions_open", "gauge", "RTP sessions (one per call leg with media) open now.",
        (double)s.rtp_open);
    one(b, "callroute_rtp_packets_received_total", "counter", "RTP packets received from the peers.",
        (double)s.rtp_received);
    one(b, "callroute_rtp_packets_sent_total", "counter", "RTP packets sent (played, relayed).", (double)s.rtp_sent);
    one(b, "callroute_rtp_packets_lost_total", "counter",
        "RTP packets lost on the way in (RFC 3550: expected - received, per stream).", (double)s.rtp_lost);
    one(b, "callroute_rtp_packets_dropped_total", "counter",
        "RTP packets dropped: they came from another address than the peer's.", (double)s.rtp_dropped);
    if (s.rtp_jitter) {
        prom_family(b, "callroute_rtp_jitter_seconds", "histogram",
                    "Interarrival jitter (RFC 3550) of each received RTP stream, when it ended.");
        prom_histogram(b, "callroute_rtp_jitter_seconds", NULL, 0, s.rtp_jitter);
    }
}

static void write_services(admin *a, cr_strbuf *b)
{
    svc_ctx *svc = a->opt.svc;
    if (!svc)
        return;
    prom_family(b, "callroute_service_request_seconds", "histogram",
                "HTTP requests, database queries and SMTP transfers, from start to end, by service.");
    for (int k = 0; k < SVC_K_COUNT; k++)
        prom_histogram(b, "callroute_service_request_seconds", (prom_label[]){{"service", svc_kind_names[k]}}, 1,
                       &svc_request_stats_of(svc, (svc_kind)k)->seconds);
    prom_family(b, "callroute_service_failures_total", "counter",
                "Requests that failed, by service: no HTTP answer, a database error, mail the server did not take.");
    for (int k = 0; k < SVC_K_COUNT; k++)
        prom_sample(b, "callroute_service_failures_total", (prom_label[]){{"service", svc_kind_names[k]}}, 1,
                    (double)svc_request_stats_of(svc, (svc_kind)k)->failures);
    svc_mail_stats ms = svc_mail_stats_of(svc);
    svc_job_stats js = svc_job_stats_of(svc);
    double now = loop_now(a->l);
    prom_family(b, "callroute_outbox_depth", "gauge", "Mail and durable jobs waiting in the outbox.");
    prom_sample(b, "callroute_outbox_depth", (prom_label[]){{"queue", "mail"}}, 1, (double)ms.queued);
    prom_sample(b, "callroute_outbox_depth", (prom_label[]){{"queue", "job"}}, 1, (double)js.queued);
    prom_family(b, "callroute_outbox_oldest_age_seconds", "gauge",
                "How long the oldest item of the outbox has waited (0: empty).");
    prom_sample(b, "callroute_outbox_oldest_age_seconds", (prom_label[]){{"queue", "mail"}}, 1,
                ms.oldest > 0 ? fmax(0, now - ms.oldest) : 0);
    prom_sample(b, "callroute_outbox_oldest_age_seconds", (prom_label[]){{"queue", "job"}}, 1,
                js.oldest > 0 ? fmax(0, now - js.oldest) : 0);
}

static void write_records(admin *a, cr_strbuf *b)
{
    if (!a->rec)
        return;
    rec_stats rs = rec_stats_of(a->rec);
    one(b, "callroute_cdr_spool_depth", "gauge", "Call records in the local spool (calls up, and ended ones not shipped).",
        (double)rs.spooled);
    one(b, "callroute_cdr_shipped_total", "counter", "Call records written to the store.", (double)rs.shipped);
    one(b, "callroute_cdr_store_failures_total", "counter", "Writes to the call record store that failed.",
        (double)rs.store_failures);
}

/* ---- queues ---- */

static const char *const agent_states[] = {"available", "ringing", "busy", "wrapup", "paused", "logged_out"};
#define AGENT_STATES (sizeof agent_states / sizeof agent_states[0])

typedef struct queue_snap {
    char *name;
    double waiting, longest, service_level;
    double outcomes[5];        /* answered, abandoned, timeout, exit, refused */
    double agents[AGENT_STATES];
} queue_snap;

typedef struct queue_snaps {
    queue_snap *v;
    size_t n;
} queue_snaps;

static void snap_queue(void *arg, const eng_queue_info *q)
{
    queue_snaps *qs = arg;
    qs->v = cr_xrealloc(qs->v, (qs->n + 1) * sizeof *qs->v);
    queue_snap *x = &qs->v[qs->n++];
    memset(x, 0, sizeof *x);
    x->name = cr_xstrdup(q->name);
    x->waiting = (double)q->waiting;
    x->longest = q->longest_wait;
    x->service_level = q->service_level >= 0 ? q->service_level / 100 : -1;
    x->outcomes[0] = (double)q->answered;
    x->outcomes[1] = (double)q->abandoned;
    x->outcomes[2] = (double)q->timeouts;
    x->outcomes[3] = (double)q->exits;
    x->outcomes[4] = (double)q->refused;
    for (size_t i = 0; i < q->agent_count; i++)
        for (size_t k = 0; k < AGENT_STATES; k++)
            if (strcmp(q->agents[i].state, agent_states[k]) == 0)
                x->agents[k]++;
}

static void write_queues(admin *a, cr_strbuf *b)
{
    if (!a->eng)
        return;
    queue_snaps qs = {0};
    eng_queues_each(a->eng, snap_queue, &qs);
    static const char *const outcomes[] = {"answered", "abandoned", "timeout", "exit", "refused"};
    prom_family(b, "callroute_queue_waiting", "gauge", "Callers waiting in a queue now.");
    for (size_t i = 0; i < qs.n; i++)
        prom_sample(b, "callroute_queue_waiting", (prom_label[]){{"queue", qs.v[i].name}}, 1, qs.v[i].waiting);
    prom_family(b, "callroute_queue_longest_wait_seconds", "gauge", "How long the caller waiting longest has waited.");
    for (size_t i = 0; i < qs.n; i++)
        prom_sample(b, "callroute_queue_longest_wait_seconds", (prom_label[]){{"queue", qs.v[i].name}}, 1,
                    qs.v[i].longest);
    prom_family(b, "callroute_queue_calls_total", "counter",
                "Callers that left a queue, by how: answered, abandoned, timeout, exit, refused (full, no agents).");
    for (size_t i = 0; i < qs.n; i++)
        for (size_t k = 0; k < 5; k++)
            prom_sample(b, "callroute_queue_calls_total",
                        (prom_label[]){{"queue", qs.v[i].name}, {"outcome", outcomes[k]}}, 2, qs.v[i].outcomes[k]);
    prom_family(b, "callroute_queue_service_level", "gauge",
                "Share (0-1) of the callers that left a queue who were answered within its sla.");
    for (size_t i = 0; i < qs.n; i++)
        if (qs.v[i].service_level >= 0)
            prom_sample(b, "callroute_queue_service_level", (prom_label[]){{"queue", qs.v[i].name}}, 1,
                        qs.v[i].service_level);
    prom_family(b, "callroute_queue_agents", "gauge", "A queue's agents by state now.");
    for (size_t i = 0; i < qs.n; i++)
        for (size_t k = 0; k < AGENT_STATES; k++)
            prom_sample(b, "callroute_queue_agents", (prom_label[]){{"queue", qs.v[i].name}, {"state", agent_states[k]}},
                        2, qs.v[i].agents[k]);
    for (size_t i = 0; i < qs.n; i++)
        free(qs.v[i].name);
    free(qs.v);
}

void admin_get_metrics(admin_req *r)
{
    admin *a = r->a;
    admin_metrics *m = a->metrics;
    if (!m) {
        admin_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory", NULL);
        return;
    }
    cr_strbuf b = CR_STRBUF_INIT;
    prom_family(&b, "callroute_build_info", "gauge", "The version running (always 1).");
    prom_sample(&b, "callroute_build_info", (prom_label[]){{"version", CALLROUTE_VERSION}}, 1, 1);
    one(&b, "process_start_time_seconds", "gauge", "When the process started, seconds since the epoch.",
        m->start_time);
    one(&b, "callroute_scenario_revision", "gauge", "The revision of the scenario in force (1 at start, +1 a reload).",
        a->prog ? (double)a->prog->revision : 0);
    write_calls(m, &b);
    write_sip(a, &b);
    write_services(a, &b);
    write_records(a, &b);
    write_queues(a, &b);
    prom_family(&b, "callroute_loop_lag_seconds", "histogram",
                "How late a timer fired on the event loop (one every 0.5 s).");
    prom_histogram(&b, "callroute_loop_lag_seconds", NULL, 0, &m->lag);
    admin_reply_body(r, MHD_HTTP_OK, PROM_CONTENT_TYPE, b.s);
}
