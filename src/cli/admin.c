/* admin.c — the admin API (admin.h). libmicrohttpd runs without threads
 * of its own: its epoll fd is watched by serve's loop and MHD_run is called
 * when it is readable or when its timeout (MHD_get_timeout) expires. The
 * trace of each call is kept as the JSON records `simulate --json` prints,
 * bounded per call; the last ADMIN_KEEP finished calls are kept. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "admin/admin_route.h"
#include "cli/admin.h"
#include "cli/cli.h"
#include "telephony/sip/sip.h"
#include "util/alloc.h"

#define BUCKETS 1024

typedef struct entry {
    struct entry *hnext;          /* hash chain (by call id) */
    struct entry *prev, *next;    /* live list or finished list */
    char *call_id, *from, *to, *source, *route, *hangup_by, *cause;
    eng_call *call;               /* live only */
    double start, duration;
    bool answered, bridged, truncated;
    size_t records;
    cr_strbuf trace;              /* JSON records, comma-separated */
} entry;

/* A call refused before a scenario ran: a ring of the last ADMIN_KEEP. */
typedef struct refusal {
    double at;
    int code;
    char call_id[128], source[64], reason[32];
} refusal;

typedef struct list {
    entry *head, *tail;
    size_t count;
} list;

struct admin {
    loop *l;
    struct MHD_Daemon *d;
    loop_watch *w;
    loop_timer *timer;
    int port;
    entry *hash[BUCKETS];
    list live, done;
    refusal refused[ADMIN_KEEP];
    size_t refused_total;         /* the ring's next slot is total % ADMIN_KEEP */
    json_t *refused_by_reason;    /* {"max_calls": N, ...} */
    tel_driver *sip;
    /* what admin_hook wrapped */
    eng_trace_cb trace;
    void *trace_arg;
    void (*call_start)(void *arg, eng_call *c);
    void *call_start_arg;
    void (*call_done)(void *arg, eng_call *c);
    void *call_done_arg;
    /* MHD's messages: into the caller's buffer while starting, then stderr */
    char *err;
    size_t errlen;
};

/* ---- the calls ---- */

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % BUCKETS;
}

/* The entry of this live call. Two calls may share a Call-ID (a forked
 * INVITE, or a hostile one): entries are found by the call, not its id. */
static entry *find_live(admin *a, const eng_call *c)
{
    for (entry *e = a->hash[hash(eng_call_id(c))]; e; e = e->hnext)
        if (e->call == c)
            return e;
    return NULL;
}

/* The newest entry with this id (a live one before a finished one). */
static entry *find(admin *a, const char *id)
{
    for (entry *e = a->hash[hash(id)]; e; e = e->hnext)
        if (strcmp(e->call_id, id) == 0)
            return e;
    return NULL;
}

static void list_add(list *l, entry *e)
{
    e->next = NULL;
    e->prev = l->tail;
    if (l->tail)
        l->tail->next = e;
    else
        l->head = e;
    l->tail = e;
    l->count++;
}

static void list_del(list *l, entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        l->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        l->tail = e->prev;
    l->count--;
}

static void entry_free(entry *e)
{
    free(e->call_id);
    free(e->from);
    free(e->to);
    free(e->source);
    free(e->route);
    free(e->hangup_by);
    free(e->cause);
    cr_strbuf_free(&e->trace);
    free(e);
}

static void forget(admin *a, entry *e)
{
    for (entry **p = &a->hash[hash(e->call_id)]; *p; p = &(*p)->hnext)
        if (*p == e) {
            *p = e->hnext;
            break;
        }
    list_del(&a->done, e);
    entry_free(e);
}

static char *var_dup(eng_call *c, const char *name)
{
    cr_value v;
    if (!eng_var_get(c, name, &v) || !v.str)
        return NULL;
    return cr_xstrndup(v.str, v.len);
}

static void call_start_cb(void *arg, eng_call *c)
{
    admin *a = arg;
    entry *e = cr_xcalloc(1, sizeof *e);
    e->call_id = cr_xstrdup(eng_call_id(c));
    e->call = c;
    e->start = eng_call_start(c);
    e->from = var_dup(c, "caller_number");
    e->to = var_dup(c, "called_number");
    e->source = var_dup(c, "source");
    unsigned h = hash(e->call_id);
    e->hnext = a->hash[h];
    a->hash[h] = e;
    list_add(&a->live, e);
    if (a->call_start)
        a->call_start(a->call_start_arg, c);
}

static void call_done_cb(void *arg, eng_call *c)
{
    admin *a = arg;
    if (a->call_done)
        a->call_done(a->call_done_arg, c);
    entry *e = find_live(a, c);
    if (!e)
        return;
    e->call = NULL;
    e->answered = eng_call_answered(c);
    e->bridged = e->bridged || eng_call_bridged(c);
    list_del(&a->live, e);
    list_add(&a->done, e);
    if (a->done.count > ADMIN_KEEP)
        forget(a, a->done.head);
}

static void keep(char **field, const char *v)
{
    if (!v)
        return;
    free(*field);
    *field = cr_xstrdup(v);
}

static void trace_cb(void *arg, const eng_trace_rec *r)
{
    admin *a = arg;
    entry *e = r->call ? find_live(a, r->call) : NULL;
    if (e) {
        if (r->kind == ENG_TR_ROUTE && !r->leg)
            keep(&e->route, r->route);
        else if (r->kind == ENG_TR_EVENT && r->event && strcmp(r->event, "bridge") == 0)
            e->bridged = true;
        else if (r->kind == ENG_TR_CALL) {
            keep(&e->hangup_by, r->by);
            keep(&e->cause, r->cause);
            e->duration = r->duration;
        }
        /* Over the bound only the hangup and the call record are kept:
         * how the call ended is always there. */
        bool full = e->records >= ADMIN_MAX_RECORDS || e->trace.len >= ADMIN_MAX_BYTES;
        if (full && r->kind != ENG_TR_HANGUP && r->kind != ENG_TR_CALL) {
            e->truncated = true;
        } else {
            if (e->records)
                cr_strbuf_putc(&e->trace, ',');
            eng_trace_json(r, &e->trace);
            e->records++;
        }
    }
    if (a->trace)
        a->trace(a->trace_arg, r);
}

void admin_hook(admin *a, eng_options *eo)
{
    if (!a)
        return;
    a->trace = eo->trace;
    a->trace_arg = eo->trace_arg;
    a->call_start = eo->call_start;
    a->call_start_arg = eo->call_start_arg;
    a->call_done = eo->call_done;
    a->call_done_arg = eo->call_done_arg;
    eo->trace = trace_cb;
    eo->trace_arg = a;
    eo->call_start = call_start_cb;
    eo->call_start_arg = a;
    eo->call_done = call_done_cb;
    eo->call_done_arg = a;
}

/* ---- JSON ---- */

/* A string from the network may not be UTF-8: jansson refuses it, and the
 * field is then null rather than missing. */
static json_t *jstr(const char *s)
{
    json_t *j = s ? json_string(s) : NULL;
    return j ? j : json_null();
}

static json_t *jtime(double t)
{
    time_t sec = (time_t)t;
    struct tm tm;
    char buf[40];
    gmtime_r(&sec, &tm);
    size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, sizeof buf - n, ".%03dZ", (int)((t - (double)sec) * 1000) % 1000);
    return json_string(buf);
}

static json_t *summary(admin *a, const entry *e)
{
    bool live = e->call != NULL;
    json_t *o = json_object();
    json_object_set_new(o, "call_id", jstr(e->call_id));
    json_object_set_new(o, "live", json_boolean(live));
    json_object_set_new(o, "from", jstr(e->from));
    json_object_set_new(o, "to", jstr(e->to));
    json_object_set_new(o, "source", jstr(e->source));
    json_object_set_new(o, "route", jstr(e->route));
    json_object_set_new(o, "start", jtime(e->start));
    json_object_set_new(o, "answered", json_boolean(live ? eng_call_answered(e->call) : e->answered));
    json_object_set_new(o, "bridged", json_boolean(live ? eng_call_bridged(e->call) : e->bridged));
    double dur = live ? loop_now(a->l) - e->start : e->duration;
    json_object_set_new(o, "duration", json_real((double)(long long)(dur * 1000) / 1000));
    if (!live) {
        json_object_set_new(o, "hangup_by", jstr(e->hangup_by));
        json_object_set_new(o, "hangup_cause", jstr(e->cause));
    }
    return o;
}

static char *dump(json_t *o)
{
    /* Seconds to the millisecond: no 1.4019999999999999. */
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(12));
    json_decref(o);
    return s;
}

static char *health(admin *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "status", json_string("ok"));
    json_object_set_new(o, "calls", json_integer((json_int_t)a->live.count));
    json_object_set_new(o, "version", json_string(CALLROUTE_VERSION));
    json_object_set_new(o, "refused", json_integer((json_int_t)a->refused_total));
    json_object_set(o, "refused_by_reason", a->refused_by_reason);
    if (a->sip) {
        sip_stats st;
        sip_driver_stats(a->sip, &st);
        json_object_set_new(o, "flood_dropped", json_integer((json_int_t)st.flood_dropped));
        json_object_set_new(o, "flood_refused", json_integer((json_int_t)st.flood_refused));
        json_object_set_new(o, "names_refused", json_integer((json_int_t)st.names_refused));
    }
    return dump(o);
}

void admin_watch_sip(admin *a, tel_driver *sip)
{
    if (a)
        a->sip = sip;
}

void admin_refused(admin *a, const char *call_id, const char *source, int code, const char *reason)
{
    if (!a)
        return;
    refusal *r = &a->refused[a->refused_total++ % ADMIN_KEEP];
    r->at = loop_now(a->l);
    r->code = code;
    snprintf(r->call_id, sizeof r->call_id, "%s", call_id ? call_id : "");
    snprintf(r->source, sizeof r->source, "%s", source ? source : "");
    snprintf(r->reason, sizeof r->reason, "%s", reason ? reason : "");
    json_t *n = json_object_get(a->refused_by_reason, r->reason);
    json_object_set_new(a->refused_by_reason, r->reason, json_integer(n ? json_integer_value(n) + 1 : 1));
}

static char *refused(admin *a)
{
    json_t *arr = json_array();
    size_t kept = a->refused_total < ADMIN_KEEP ? a->refused_total : ADMIN_KEEP;
    for (size_t i = 1; i <= kept; i++) {   /* newest first */
        const refusal *r = &a->refused[(a->refused_total - i) % ADMIN_KEEP];
        json_t *o = json_object();
        json_object_set_new(o, "call_id", jstr(r->call_id));
        json_object_set_new(o, "source", jstr(r->source));
        json_object_set_new(o, "code", json_integer(r->code));
        json_object_set_new(o, "reason", jstr(r->reason));
        json_object_set_new(o, "time", jtime(r->at));
        json_array_append_new(arr, o);
    }
    json_t *o = json_object();
    json_object_set_new(o, "refused", arr);
    json_object_set_new(o, "total", json_integer((json_int_t)a->refused_total));
    return dump(o);
}

static char *calls(admin *a)
{
    json_t *live = json_array(), *done = json_array();
    for (entry *e = a->live.head; e; e = e->next)
        json_array_append_new(live, summary(a, e));
    for (entry *e = a->done.tail; e; e = e->prev)   /* newest first */
        json_array_append_new(done, summary(a, e));
    json_t *o = json_object();
    json_object_set_new(o, "calls", live);
    json_object_set_new(o, "finished", done);
    return dump(o);
}

/* The summary, then "trace": the stored records spliced in as they are. */
static char *one_call(admin *a, const entry *e)
{
    json_t *o = summary(a, e);
    json_object_set_new(o, "truncated", json_boolean(e->truncated));
    json_object_set_new(o, "records", json_integer((json_int_t)e->records));
    char *head = dump(o);
    if (!head)
        return NULL;
    cr_strbuf b = CR_STRBUF_INIT;
    cr_strbuf_append(&b, head, strlen(head) - 1);   /* without its '}' */
    free(head);
    cr_strbuf_puts(&b, ",\"trace\":[");
    cr_strbuf_append(&b, e->trace.s ? e->trace.s : "", e->trace.len);
    cr_strbuf_puts(&b, "]}");
    return b.s;
}

static char *error(const char *msg, const char *id)
{
    json_t *o = json_object();
    json_object_set_new(o, "error", json_string(msg));
    if (id)
        json_object_set_new(o, "call_id", jstr(id));
    return dump(o);
}

/* ---- HTTP ---- */

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned code, char *body)
{
    if (!body)
        return MHD_NO;
    size_t n = strlen(body);
    /* One line of JSON: the terminating NUL becomes the newline. */
    body[n] = '\n';
    struct MHD_Response *r = MHD_create_response_from_buffer(n + 1, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result request_cb(void *arg, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **state)
{
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)state;
    admin *a = arg;
    const char *id;
    switch (admin_route(method, url, &id)) {
    case ADMIN_R_NOT_ALLOWED:
        return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, error("method not allowed: the admin API is read-only", NULL));
    case ADMIN_R_HEALTH:
        return reply(conn, MHD_HTTP_OK, health(a));
    case ADMIN_R_REFUSED:
        return reply(conn, MHD_HTTP_OK, refused(a));
    case ADMIN_R_CALLS:
        return reply(conn, MHD_HTTP_OK, calls(a));
    case ADMIN_R_CALL: {
        const entry *e = find(a, id);
        return e ? reply(conn, MHD_HTTP_OK, one_call(a, e))
                 : reply(conn, MHD_HTTP_NOT_FOUND, error("no such call (live or recently finished)", id));
    }
    case ADMIN_R_NOT_FOUND:
        break;
    }
    return reply(conn, MHD_HTTP_NOT_FOUND, error("not found: GET /health, /calls, /calls/CALL_ID or /refused", NULL));
}

static void run(admin *a);

static unsigned connections(admin *a)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(a->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return i ? i->num_connections : 0;
}

static void timer_cb(loop *l, void *arg)
{
    (void)l;
    admin *a = arg;
    a->timer = NULL;
    run(a);
}

static void fd_cb(loop *l, int fd, unsigned events, void *arg)
{
    (void)l;
    (void)fd;
    (void)events;
    run(arg);
}

/* Runs what is ready, then wakes up again when MHD wants to (a connection
 * with work left, a timeout). */
static void run(admin *a)
{
    /* MHD stops accepting at the connection limit and resumes only on its
     * next run; a run that closed connections (timed out clients) runs
     * again, or connections waiting in the backlog would never be seen. */
    unsigned before, after = connections(a);
    do {
        before = after;
        MHD_run(a->d);
        after = connections(a);
    } while (after < before && before >= ADMIN_MAX_CONNECTIONS);
    if (a->timer)
        loop_timer_stop(a->l, a->timer);
    a->timer = NULL;
    MHD_UNSIGNED_LONG_LONG ms;
    if (MHD_get_timeout(a->d, &ms) == MHD_YES)
        a->timer = loop_timer_start(a->l, (double)ms / 1000.0, timer_cb, a);
}

static void log_cb(void *arg, const char *fmt, va_list ap)
{
    admin *a = arg;
    if (!a->err) {
        fputs("callroute serve: admin API: ", stderr);
        vfprintf(stderr, fmt, ap);
    } else if (a->errlen && !a->err[0]) {
        vsnprintf(a->err, a->errlen, fmt, ap);
        a->err[strcspn(a->err, "\n")] = '\0';
    }
}

static bool parse_addr(const char *addr, struct sockaddr_storage *ss, char *err, size_t errlen)
{
    char host[256] = "127.0.0.1";
    const char *port = addr;
    const char *colon = strrchr(addr, ':');
    if (addr[0] == '[') {
        const char *end = strchr(addr, ']');
        if (!end || end[1] != ':' || (size_t)(end - addr - 1) >= sizeof host)
            goto bad;
        snprintf(host, sizeof host, "%.*s", (int)(end - addr - 1), addr + 1);
        port = end + 2;
    } else if (colon) {
        if ((size_t)(colon - addr) >= sizeof host)
            goto bad;
        if (colon > addr)
            snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
        port = colon + 1;
    }
    if (!port[0] || strspn(port, "0123456789") != strlen(port) || atoi(port) > 65535)
        goto bad;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV}, *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "admin API address '%s': %s", addr, gai_strerror(rc));
        return false;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return true;
bad:
    snprintf(err, errlen, "admin API address '%s': expected HOST:PORT, [IPV6]:PORT or off", addr);
    return false;
}

/* Our own listen socket: a clear error ("Address already in use"), and no
 * IPv6 flag juggling for MHD. */
static int listen_on(const struct sockaddr_storage *ss, char *err, size_t errlen, const char *addr)
{
    socklen_t len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (const struct sockaddr *)ss, len) < 0 || listen(fd, 64) < 0) {
        snprintf(err, errlen, "admin API on %s: %s", addr, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

admin *admin_new(loop *l, const char *addr, char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    if (!addr || !addr[0] || strcmp(addr, "off") == 0)
        return NULL;
    struct sockaddr_storage ss = {0};
    if (!parse_addr(addr, &ss, err, errlen))
        return NULL;
    int fd = listen_on(&ss, err, errlen, addr);
    if (fd < 0)
        return NULL;
    admin *a = cr_xcalloc(1, sizeof *a);
    a->l = l;
    a->refused_by_reason = json_object();
    a->err = err;
    a->errlen = errlen;
    a->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, request_cb, a,
                            MHD_OPTION_EXTERNAL_LOGGER, log_cb, a,   /* first: MHD wants it so */
                            MHD_OPTION_LISTEN_SOCKET, fd,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)ADMIN_MAX_CONNECTIONS,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)ADMIN_MAX_PER_ADDRESS,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)ADMIN_IDLE_TIMEOUT,
                            MHD_OPTION_END);
    if (!a->d)
        close(fd);   /* MHD owns it only once started */
    const union MHD_DaemonInfo *info = a->d ? MHD_get_daemon_info(a->d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
    if (info)
        a->w = loop_watch_fd(l, info->epoll_fd, LOOP_READ, fd_cb, a);
    if (!a->w) {
        char why[200];
        snprintf(why, sizeof why, "%s", err[0] ? err : "cannot start the HTTP server");
        snprintf(err, errlen, "admin API on %s: %s", addr, why);
        admin_free(a);
        return NULL;
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    if (getsockname(fd, (struct sockaddr *)&bound, &blen) == 0)
        a->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                    : ((struct sockaddr_in *)&bound)->sin_port);
    a->err = NULL;
    run(a);
    return a;
}

int admin_port(const admin *a) { return a ? a->port : 0; }

static void free_list(list *l)
{
    for (entry *e = l->head, *n; e; e = n) {
        n = e->next;
        entry_free(e);
    }
}

void admin_free(admin *a)
{
    if (!a)
        return;
    if (a->timer)
        loop_timer_stop(a->l, a->timer);
    if (a->w)
        loop_unwatch(a->l, a->w);
    if (a->d)
        MHD_stop_daemon(a->d);
    free_list(&a->live);
    free_list(&a->done);
    json_decref(a->refused_by_reason);
    free(a);
}
