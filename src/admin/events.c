/* events.c — GET /events: what happens in every call as Server-Sent
 * Events, one JSON object per `data:` line: call_start, every trace record
 * (leg events, each action's start and end: the records of GET /calls/ID),
 * call_end. `?call=ID` keeps one call's.
 *
 * The calls never wait for a client. Each stream has its own buffer of at
 * most ADMIN_EVENTS_BUFFER bytes (and a small socket send buffer): an event
 * is appended to it, and a client that has fallen that far behind is cut
 * off (its connection closed), never waited for. The body comes from a
 * content reader (MHD_create_response_from_callback); with nothing to send
 * the connection is suspended, and an event resumes it from a zero-delay
 * loop timer, never from inside the engine's hook (MHD runs request
 * handlers, which may steer calls, only from the loop). A comment line
 * every ADMIN_EVENTS_PING seconds keeps idle streams open through proxies
 * and finds clients that went away. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "admin/admin_int.h"
#include "util/alloc.h"

#define ADMIN_EVENTS_MAX_STREAMS 16
#define ADMIN_EVENTS_BUFFER (256 * 1024)
#define ADMIN_EVENTS_SNDBUF (64 * 1024)
#define ADMIN_EVENTS_PING 15.0
#define ADMIN_EVENTS_FILTER_MAX 512

typedef struct client {
    admin_events *ev;            /* NULL once the admin API is going away */
    struct client *prev, *next;
    struct MHD_Connection *conn;
    char *call;                  /* ?call=ID, or NULL: every call */
    cr_strbuf buf;               /* what is to be sent, from SENT on */
    size_t sent;
    int owners;                  /* the request and the response: freed when both let go */
    bool suspended, wake, cut;
    /* While suspended MHD does not look at the socket: we watch it, so a
     * client that goes away frees its stream at once, not at the next ping. */
    int fd;
    loop *l;
    loop_watch *hangup;
    bool gone;
} client;

struct admin_events {
    admin *a;
    client *clients;
    size_t count;
    unsigned long cut_total;
    loop_timer *kick, *ping;
};

admin_events *admin_events_new(admin *a)
{
    admin_events *ev = cr_xcalloc(1, sizeof *ev);
    ev->a = a;
    return ev;
}

bool admin_events_wanted(const admin_events *ev) { return ev && ev->clients; }

void admin_events_counts(const admin_events *ev, size_t *open, unsigned long *cut)
{
    *open = ev ? ev->count : 0;
    *cut = ev ? ev->cut_total : 0;
}

/* ---- waking suspended streams ---- */

static void unwatch_hangup(client *c);

static void kick_cb(loop *l, void *arg)
{
    (void)l;
    admin_events *ev = arg;
    ev->kick = NULL;
    for (client *c = ev->clients; c; c = c->next)
        if (c->suspended && c->wake) {
            c->suspended = c->wake = false;
            unwatch_hangup(c);
            MHD_resume_connection(c->conn);
        }
    admin_run(ev->a);
}

static void wake(client *c)
{
    if (!c->suspended || c->wake)
        return;
    c->wake = true;
    if (!c->ev->kick)
        c->ev->kick = loop_timer_start(c->ev->a->l, 0, kick_cb, c->ev);
}

static void unwatch_hangup(client *c)
{
    if (c->hangup)
        loop_unwatch(c->l, c->hangup);
    c->hangup = NULL;
}

static void hangup_cb(loop *l, int fd, unsigned events, void *arg)
{
    (void)events;
    client *c = arg;
    char b;
    ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    loop_unwatch(l, c->hangup);
    c->hangup = NULL;
    if (n > 0)
        return;   /* a client that talks on an event stream: the ping finds out */
    c->gone = true;
    wake(c);
}

/* ---- buffers ---- */

static void cut_off(client *c)
{
    c->cut = true;
    c->ev->cut_total++;
    cr_strbuf_free(&c->buf);
    c->sent = 0;
    fprintf(stderr, "callroute serve: admin API: an /events client fell %d KB behind: cut off\n",
            ADMIN_EVENTS_BUFFER / 1024);
    wake(c);
}

/* Appends TEXT (LEN bytes) to C's buffer, or cuts C off when it would not fit. */
static void put(client *c, const char *text, size_t len)
{
    if (c->cut)
        return;
    if (c->buf.len - c->sent + len > ADMIN_EVENTS_BUFFER) {
        cut_off(c);
        return;
    }
    if (c->sent == c->buf.len) {
        cr_strbuf_reset(&c->buf);
        c->sent = 0;
    } else if (c->sent > ADMIN_EVENTS_BUFFER / 4) {
        /* what was sent goes: the buffer stays within its bound */
        memmove(c->buf.s, c->buf.s + c->sent, c->buf.len - c->sent);
        c->buf.len -= c->sent;
        c->sent = 0;
    }
    cr_strbuf_append(&c->buf, text, len);
    wake(c);
}

void admin_events_publish(admin_events *ev, const char *call_id, const char *json, size_t len)
{
    if (!ev)
        return;
    /* One `data:` line: the JSON has no raw newline (strings escape it). */
    cr_strbuf line = CR_STRBUF_INIT;
    cr_strbuf_puts(&line, "data: ");
    cr_strbuf_append(&line, json, len);
    cr_strbuf_puts(&line, "\n\n");
    for (client *c = ev->clients; c; c = c->next)
        if (!c->call || strcmp(c->call, call_id) == 0)
            put(c, line.s, line.len);
    cr_strbuf_free(&line);
}

static void ping_cb(loop *l, void *arg)
{
    (void)l;
    admin_events *ev = arg;
    ev->ping = NULL;
    static const char ping[] = ": ping\n\n";
    for (client *c = ev->clients; c; c = c->next)
        put(c, ping, sizeof ping - 1);
    if (ev->clients)
        ev->ping = loop_timer_start(ev->a->l, ADMIN_EVENTS_PING, ping_cb, ev);
}

/* ---- the stream ---- */

static ssize_t reader_cb(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    client *c = cls;
    if (!c->ev)
        return MHD_CONTENT_READER_END_WITH_ERROR;   /* the admin API stops */
    size_t pending = c->buf.len - c->sent;
    if (pending) {
        size_t n = pending < max ? pending : max;
        memcpy(out, c->buf.s + c->sent, n);
        c->sent += n;
        return (ssize_t)n;
    }
    if (c->cut || c->gone)
        return MHD_CONTENT_READER_END_WITH_ERROR;   /* closed, not ended: it lost events */
    c->suspended = true;
    MHD_suspend_connection(c->conn);
    if (!c->hangup && c->fd >= 0)
        c->hangup = loop_watch_fd(c->l, c->fd, LOOP_READ, hangup_cb, c);
    return 0;
}

static void release(client *c)
{
    unwatch_hangup(c);
    if (c->ev) {
        admin_events *ev = c->ev;
        if (c->prev)
            c->prev->next = c->next;
        else
            ev->clients = c->next;
        if (c->next)
            c->next->prev = c->prev;
        ev->count--;
        c->ev = NULL;
    }
    if (--c->owners > 0)
        return;
    cr_strbuf_free(&c->buf);
    free(c->call);
    free(c);
}

static void response_free_cb(void *cls) { release(cls); }

static void request_gone(admin_req *r)
{
    client *c = r->op;
    r->op = NULL;
    c->conn = NULL;
    release(c);
}

void admin_get_events(admin_req *r)
{
    admin_events *ev = r->a->events;
    if (!ev) {
        admin_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "the event stream is not available", NULL);
        return;
    }
    if (ev->count >= ADMIN_EVENTS_MAX_STREAMS) {
        json_t *x = json_object();
        json_object_set_new(x, "max_streams", json_integer(ADMIN_EVENTS_MAX_STREAMS));
        admin_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "too many /events streams are open", x);
        return;
    }
    const char *call = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "call");
    if (call && (!*call || strlen(call) > ADMIN_EVENTS_FILTER_MAX)) {
        admin_reply_error(r, MHD_HTTP_BAD_REQUEST, "?call= needs a call id (at most 512 bytes)", NULL);
        return;
    }
    client *c = cr_xcalloc(1, sizeof *c);
    c->call = cr_xstrdup(call);
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, reader_cb, c, response_free_cb);
    if (!resp) {
        free(c->call);
        free(c);
        admin_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot start the stream", NULL);
        return;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    c->ev = ev;
    c->conn = r->conn;
    c->owners = 2;
    c->next = ev->clients;
    if (ev->clients)
        ev->clients->prev = c;
    ev->clients = c;
    ev->count++;
    /* What the kernel holds for a client that does not read is bounded too. */
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    c->fd = ci ? ci->connect_fd : -1;
    c->l = ev->a->l;
    if (ci) {
        int size = ADMIN_EVENTS_SNDBUF;
        setsockopt(ci->connect_fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    }
    /* The first bytes tell the client the stream is open. */
    static const char hello[] = ": callroute events\n\n";
    put(c, hello, sizeof hello - 1);
    if (!ev->ping)
        ev->ping = loop_timer_start(ev->a->l, ADMIN_EVENTS_PING, ping_cb, ev);
    admin_reply_stream(r, resp, request_gone, c);
}

void admin_events_free(admin_events *ev)
{
    if (!ev)
        return;
    /* MHD may not stop with suspended connections: each stream is resumed
     * to end (its reader sees no owner), and forgets this struct. */
    while (ev->clients) {
        client *c = ev->clients;
        ev->clients = c->next;
        unwatch_hangup(c);
        if (c->suspended && c->conn)
            MHD_resume_connection(c->conn);
        c->suspended = false;
        c->ev = NULL;
        c->prev = c->next = NULL;
    }
    if (ev->kick)
        loop_timer_stop(ev->a->l, ev->kick);
    if (ev->ping)
        loop_timer_stop(ev->a->l, ev->ping);
    free(ev);
}
