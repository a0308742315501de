/* server.c — the admin API's HTTP server (admin.h). libmicrohttpd runs
 * without threads of its own: its epoll fd is watched by serve's loop and
 * MHD_run is called when it is readable or when its timeout expires. A
 * request's body is gathered (up to ADMIN_MAX_BODY), the token checked here
 * and nowhere else, then one handler per resource answers, at once or after
 * work on the loop (the connection is suspended meanwhile). */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin/admin_int.h"
#include "util/alloc.h"

/* ---- replies ---- */

json_t *admin_jstr(const char *s)
{
    json_t *j = s ? json_string(s) : NULL;
    return j ? j : json_null();
}

bool admin_clean_text(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return false;
    }
    return true;
}

json_t *admin_jtime(double t)
{
    time_t sec = (time_t)t;
    struct tm tm;
    char buf[40];
    gmtime_r(&sec, &tm);
    size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, sizeof buf - n, ".%03dZ", (int)((t - (double)sec) * 1000) % 1000);
    return json_string(buf);
}

char *admin_dump(json_t *o)
{
    /* Seconds to the millisecond: no 1.4019999999999999. */
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(12));
    json_decref(o);
    return s;
}

static void run(admin *a);

/* R is answered with CODE (the body is set); a suspended request is
 * resumed to send it. */
static void answered(admin_req *r, unsigned code)
{
    r->answered = true;
    r->code = code;
    r->cancel = NULL;
    if (r->suspended) {
        /* MHD calls the request handler again, which sends it. */
        for (admin_req **p = &r->a->waiting; *p; p = &(*p)->next_waiting)
            if (*p == r) {
                *p = r->next_waiting;
                break;
            }
        r->suspended = false;
        MHD_resume_connection(r->conn);
        run(r->a);
    }
}

void admin_reply_text(admin_req *r, unsigned code, char *json)
{
    if (r->answered) {
        free(json);
        return;
    }
    r->reply = json;
    answered(r, code);
}

void admin_reply_raw(admin_req *r, unsigned code, const admin_raw *raw)
{
    if (r->answered)
        return;
    r->raw = *raw;
    r->has_raw = true;
    answered(r, code);
}

void admin_reply_body(admin_req *r, unsigned code, const char *content_type, char *body)
{
    if (!r->answered)
        r->content_type = content_type;
    admin_reply_text(r, code, body);
}

void admin_reply(admin_req *r, unsigned code, json_t *o) { admin_reply_text(r, code, admin_dump(o)); }

void admin_reply_error(admin_req *r, unsigned code, const char *msg, json_t *extra)
{
    json_t *o = extra ? extra : json_object();
    json_object_set_new(o, "error", admin_jstr(msg));
    admin_reply(r, code, o);
}

void admin_reply_stream(admin_req *r, struct MHD_Response *resp, void (*gone)(admin_req *r), void *op)
{
    r->answered = true;
    r->code = MHD_HTTP_OK;
    r->stream = resp;
    r->cancel = gone;
    r->op = op;
}

static enum MHD_Result send_raw(admin_req *r)
{
    const admin_raw *w = &r->raw;
    struct MHD_Response *resp = MHD_create_response_from_buffer(w->len, (void *)w->data, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, w->content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, w->cache_control);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_X_CONTENT_TYPE_OPTIONS, "nosniff");
    if (w->content_encoding)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, w->content_encoding);
    if (w->vary_encoding)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    if (w->location)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, w->location);
    if (w->csp) {
        MHD_add_response_header(resp, "Content-Security-Policy", w->csp);
        MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    }
    if (r->etag[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, r->etag);
    enum MHD_Result ret = MHD_queue_response(r->conn, r->code, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result send_reply(admin_req *r)
{
    if (r->stream) {
        enum MHD_Result ret = MHD_queue_response(r->conn, r->code, r->stream);
        MHD_destroy_response(r->stream);   /* the connection holds it now */
        r->stream = NULL;
        return ret;
    }
    if (r->has_raw)
        return send_raw(r);
    if (!r->reply)
        return MHD_NO;
    size_t n = strlen(r->reply);
    /* One line of JSON: the terminating NUL becomes the newline. */
    if (!r->content_type)
        r->reply[n++] = '\n';
    struct MHD_Response *resp = MHD_create_response_from_buffer(n, r->reply, MHD_RESPMEM_MUST_FREE);
    if (!resp)
        return MHD_NO;
    r->reply = NULL;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            r->content_type ? r->content_type : "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (r->allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    if (r->etag[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, r->etag);
    if (r->code == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"callroute\"");
    enum MHD_Result ret = MHD_queue_response(r->conn, r->code, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- the token ---- */

/* Equal without telling how much of it matched by how long it took. */
static bool same(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = la != lb;
    for (size_t i = 0; i < la; i++)
        d |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
    return d == 0;
}

/* A change needs the token everywhere; on a listener that is not loopback,
 * so does everything else. False: R has been answered. */
static bool authorized(admin_req *r)
{
    admin *a = r->a;
    bool change = strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0;
    if (!change && a->loopback)
        return true;
    if (!a->token) {
        admin_reply_error(r, MHD_HTTP_FORBIDDEN,
                          change ? "changes need a token: set settings.admin.token_file (a file only its owner can "
                                   "read) or settings.admin.token_env (an environment variable), then send "
                                   "Authorization: Bearer TOKEN"
                                 : "this listener is not on loopback: every request needs a token; set "
                                   "settings.admin.token_file or settings.admin.token_env",
                          NULL);
        return false;
    }
    const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (h && strncasecmp(h, "Bearer ", 7) == 0 && same(h + 7, a->token))
        return true;
    admin_reply_error(r, MHD_HTTP_UNAUTHORIZED, "missing or wrong token (Authorization: Bearer TOKEN)", NULL);
    return false;
}

bool admin_load_token(const scn_settings *s, char **out, char *err, size_t errlen)
{
    *out = NULL;
    char buf[512] = "";
    if (s->admin_token_env) {
        const char *v = getenv(s->admin_token_env);
        if (!v) {
            snprintf(err, errlen, "settings.admin.token_env: the environment has no %s", s->admin_token_env);
            return false;
        }
        snprintf(buf, sizeof buf, "%s", v);
    } else if (s->admin_token_file) {
        FILE *f = fopen(s->admin_token_file, "r");
        struct stat st;
        if (!f || fstat(fileno(f), &st) != 0) {
            snprintf(err, errlen, "settings.admin.token_file %s: %s", s->admin_token_file, strerror(errno));
            if (f)
                fclose(f);
            return false;
        }
        if (st.st_mode & (S_IRWXG | S_IRWXO)) {
            snprintf(err, errlen, "settings.admin.token_file %s: others may read it (chmod 600 %s)",
                     s->admin_token_file, s->admin_token_file);
            fclose(f);
            return false;
        }
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = '\0';
        fclose(f);
    } else {
        return true;
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    if (strlen(buf) < 16) {
        snprintf(err, errlen, "the admin token is shorter than 16 characters (%s)",
                 s->admin_token_env ? "settings.admin.token_env" : "settings.admin.token_file");
        return false;
    }
    *out = cr_xstrdup(buf);
    return true;
}

/* ---- requests ---- */

static void dispatch(admin_req *r)
{
    switch (r->res) {
    case ADMIN_R_HEALTH:
        admin_get_health(r);
        return;
    case ADMIN_R_REFUSED:
        admin_get_refused(r);
        return;
    case ADMIN_R_CALLS:
        admin_get_calls(r);
        return;
    case ADMIN_R_CALL:
        admin_get_call(r);
        return;
    case ADMIN_R_CDR:
        admin_get_cdr(r);
        return;
    case ADMIN_R_SCENARIO:
        admin_get_scenario(r);
        return;
    case ADMIN_R_SCENARIO_PUT:
        admin_put_scenario(r);
        return;
    case ADMIN_R_VALIDATE:
        admin_validate_scenario(r);
        return;
    case ADMIN_R_RELOAD:
        admin_reload(r);
        return;
    case ADMIN_R_REVISIONS:
        admin_get_revisions(r);
        return;
    case ADMIN_R_REVISION:
        admin_get_revision(r);
        return;
    case ADMIN_R_RESTORE:
        admin_restore_revision(r);
        return;
    case ADMIN_R_ORIGINATE:
        admin_post_originate(r);
        return;
    case ADMIN_R_CALL_EVENT:
        admin_post_call_event(r);
        return;
    case ADMIN_R_CALL_HANGUP:
        admin_post_call_hangup(r);
        return;
    case ADMIN_R_CALL_TRANSFER:
        admin_post_call_transfer(r);
        return;
    case ADMIN_R_CALL_VARS:
        admin_post_call_vars(r);
        return;
    case ADMIN_R_EVENTS:
        admin_get_events(r);
        return;
    case ADMIN_R_METRICS:
        admin_get_metrics(r);
        return;
    case ADMIN_R_EDITOR:
        admin_get_editor(r);
        return;
    case ADMIN_R_PHONE:
        admin_get_phone(r);
        return;
    case ADMIN_R_SIMULATE:
        admin_simulate(r);
        return;
    case ADMIN_R_DRAIN:
        admin_post_drain(r);
        return;
    case ADMIN_R_CLUSTER:
        admin_get_cluster(r);
        return;
    case ADMIN_R_CLUSTER_CALLS:
        admin_get_cluster_calls(r);
        return;
    case ADMIN_R_CLUSTER_QUEUES:
        admin_get_cluster_queues(r);
        return;
    case ADMIN_R_CONFERENCES:
        admin_get_conferences(r);
        return;
    case ADMIN_R_CONF_MEMBER:
        admin_post_conf_member(r);
        return;
    case ADMIN_R_CONF_KICK:
        admin_delete_conf_member(r);
        return;
    case ADMIN_R_QUEUES:
        admin_get_queues(r);
        return;
    case ADMIN_R_QUEUE_AGENT:
        admin_post_queue_agent(r);
        return;
    case ADMIN_R_NOT_ALLOWED:
        admin_reply_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed on this path", NULL);
        return;
    case ADMIN_R_NOT_FOUND:
        break;
    }
    admin_reply_error(r, MHD_HTTP_NOT_FOUND, "not found (the resources are in README's Admin API section)", NULL);
}

static enum MHD_Result request_cb(void *arg, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **state)
{
    (void)version;
    admin *a = arg;
    admin_req *r = *state;
    if (!r) {   /* the headers: nothing is answered before the body is in */
        r = cr_xcalloc(1, sizeof *r);
        r->a = a;
        r->conn = conn;
        r->method = method;
        r->url = url;
        *state = r;
        return MHD_YES;
    }
    if (*upload_size) {
        if (r->body.len + *upload_size > ADMIN_MAX_BODY)
            r->too_large = true;
        else
            cr_strbuf_append(&r->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->answered)
        return send_reply(r);
    if (r->suspended)
        return MHD_YES;
    admin_match m = admin_route(method, url);
    r->res = m.res;
    if (m.res == ADMIN_R_NOT_ALLOWED)
        r->allow = admin_allow_header(m.allow);
    char *param = m.param ? cr_xstrndup(m.param, m.param_len) : NULL;
    char *param2 = m.param2 ? cr_xstrndup(m.param2, m.param2_len) : NULL;
    r->param = param;
    r->param2 = param2;
    /* The editor's and the phone's files are public code, no data: a
     * browser cannot send the token with a page load, so on a listener
     * that is not loopback they need none; what the editor then asks for
     * does (the phone asks this server nothing). */
    if (r->too_large)
        admin_reply_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "the body is over 1 MB", NULL);
    else if (m.res == ADMIN_R_EDITOR || m.res == ADMIN_R_PHONE || authorized(r))
        dispatch(r);
    r->param = NULL;   /* handlers that go on keep their own copy */
    r->param2 = NULL;
    free(param);
    free(param2);
    if (r->answered)
        return send_reply(r);
    r->suspended = true;
    r->next_waiting = a->waiting;
    a->waiting = r;
    MHD_suspend_connection(conn);
    return MHD_YES;
}

static void completed_cb(void *arg, struct MHD_Connection *conn, void **state,
                         enum MHD_RequestTerminationCode why)
{
    (void)arg;
    (void)conn;
    (void)why;
    admin_req *r = *state;
    if (!r)
        return;
    if (r->cancel)
        r->cancel(r);
    if (r->stream)
        MHD_destroy_response(r->stream);
    cr_strbuf_free(&r->body);
    free(r->reply);
    free(r);
    *state = NULL;
}

/* ---- the daemon on the loop ---- */

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

void admin_run(admin *a) { run(a); }

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

static bool is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    if (ss->ss_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
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

admin *admin_new(loop *l, const admin_options *o, char *err, size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    const char *addr = o ? o->listen : NULL;
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
    a->opt = *o;
    a->opt.token = NULL;
    a->token = cr_xstrdup(o->token);
    a->loopback = is_loopback(&ss);
    a->calls = admin_calls_new(a);
    a->events = admin_events_new(a);
    a->metrics = admin_metrics_new(a);
    admin_status_init(a);
    a->err = err;
    a->errlen = errlen;
    a->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL,
                            request_cb, a,
                            MHD_OPTION_EXTERNAL_LOGGER, log_cb, a,   /* first: MHD wants it so */
                            MHD_OPTION_LISTEN_SOCKET, fd,
                            MHD_OPTION_NOTIFY_COMPLETED, completed_cb, a,
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
    admin_cluster_start(a);
    run(a);
    return a;
}

void admin_hook(admin *a, eng_options *eo)
{
    if (!a)
        return;
    admin_calls_hook(a->calls, eo);
    admin_metrics_hook(a->metrics, eo);
}

void admin_set_engine(admin *a, eng_engine *e)
{
    if (a)
        a->eng = e;
}

void admin_refuse_new(admin *a)
{
    if (a)
        a->refuse_new = true;
}

void admin_set_program(admin *a, scn_program *p)
{
    if (!a)
        return;
    scn_program *old = a->prog;
    a->prog = p ? scn_program_ref(p) : NULL;
    if (old)
        scn_program_unref(old);
}

void admin_set_records(admin *a, struct rec_ctx *rec)
{
    if (a)
        a->rec = rec;
}

int admin_port(const admin *a) { return a ? a->port : 0; }

void admin_free(admin *a)
{
    if (!a)
        return;
    admin_cluster_stop(a);
    /* Requests waiting for work: the work is cancelled and they are let go
     * (MHD cannot stop with suspended connections). */
    while (a->waiting) {
        admin_req *r = a->waiting;
        a->waiting = r->next_waiting;
        if (r->cancel)
            r->cancel(r);
        r->cancel = NULL;
        r->suspended = false;
        MHD_resume_connection(r->conn);
    }
    /* The event streams end (a suspended one is resumed to close). */
    admin_events_free(a->events);
    a->events = NULL;
    if (a->timer)
        loop_timer_stop(a->l, a->timer);
    if (a->w)
        loop_unwatch(a->l, a->w);
    if (a->d)
        MHD_stop_daemon(a->d);
    admin_calls_free(a->calls);
    admin_metrics_free(a->metrics);
    admin_status_free(a);
    if (a->prog)
        scn_program_unref(a->prog);
    free(a->token);
    free(a);
}
