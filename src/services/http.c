/* http.c — HTTP requests on the shared curl multi handle, or answered by a
 * mock (callroute test). A request counts in loop->real_pending while it is
 * on the wire, so a virtual clock waits for the answer in real time. */
#include "services/svc_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"

/* Answers larger than this fail the request: a call never holds more. */
#define MAX_BODY (4u << 20)

struct svc_http {
    svc_xfer x;
    svc_ctx *c;
    svc_http *prev, *next;           /* the context's live requests */
    svc_http_cb cb;
    void *arg;
    struct curl_slist *headers;
    char *req_body;
    cr_strbuf body;
    bool too_large;
    bool counted;                    /* in real_pending */
    bool own;                        /* the services' own: not on c->https */
    loop_timer *timer;               /* mock delay or immediate failure */
    double started;                  /* loop time (svc_request_stats) */
    const svc_http_mock *mock;
    char *error;                     /* set before TIMER for a failure */
    char errbuf[CURL_ERROR_SIZE];
};

static void http_free(svc_http *h)
{
    if (h->prev)
        h->prev->next = h->next;
    else if (!h->own)
        h->c->https = h->next;
    if (h->next)
        h->next->prev = h->prev;
    if (h->counted)
        h->c->l->real_pending--;
    if (h->x.easy)
        curl_easy_cleanup(h->x.easy);
    curl_slist_free_all(h->headers);
    free(h->req_body);
    cr_strbuf_free(&h->body);
    free(h->error);
    free(h);
}

/* Calls H's callback, then frees H: RES points into it. The request has
 * ended before the callback runs (it must not cancel H). */
static void http_finish(svc_http *h, svc_http_res *res)
{
    if (h->counted) {
        h->counted = false;
        h->c->l->real_pending--;
    }
    if (!h->c->opt.mocks)
        svc_observe(h->c, SVC_K_HTTP, h->started, res->error != NULL);
    h->cb(h->arg, res);
    http_free(h);
}

static size_t write_cb(char *data, size_t size, size_t n, void *arg)
{
    svc_http *h = arg;
    size_t len = size * n;
    if (h->body.len + len > MAX_BODY) {
        h->too_large = true;
        return 0;   /* makes curl stop with CURLE_WRITE_ERROR */
    }
    cr_strbuf_append(&h->body, data, len);
    return len;
}

/* Some of the request went out (libcurl counts the request bytes it wrote,
 * CURLINFO_REQUEST_SIZE): from then on the server may act on it. */
static bool request_sent(CURL *e)
{
    long n = 0;
    return e && curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &n) == CURLE_OK && n > 0;
}

static void done_cb(svc_xfer *x, CURLcode rc)
{
    svc_http *h = (svc_http *)x;
    svc_http_res res = {.body = cr_strbuf_cstr(&h->body), .body_len = h->body.len};
    char msg[CURL_ERROR_SIZE + 64];
    if (rc == CURLE_OK) {
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &res.status);
        char *ct = NULL;
        curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct);
        res.content_type = ct;
    } else {
        if (h->too_large)
            snprintf(msg, sizeof msg, "response larger than %u bytes", MAX_BODY);
        else if (rc == CURLE_OPERATION_TIMEDOUT)
            snprintf(msg, sizeof msg, "timeout");
        else
            snprintf(msg, sizeof msg, "%s", h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
        res.error = msg;
        res.unknown = !h->too_large && request_sent(x->easy);
        res.body = "";
        res.body_len = 0;
    }
    http_finish(h, &res);
}

static void fail_cb(loop *l, void *arg)
{
    (void)l;
    svc_http *h = arg;
    h->timer = NULL;
    svc_http_res res = {.body = "", .error = h->error};
    http_finish(h, &res);
}

static svc_http *fail_soon(svc_http *h, const char *error)
{
    h->error = svc_strdup(error);
    h->timer = svc_soon(h->c, fail_cb, h);
    return h;
}

/* ---- mocks ---------------------------------------------------------- */

static void mock_cb(loop *l, void *arg)
{
    (void)l;
    svc_http *h = arg;
    const svc_http_mock *m = h->mock;
    h->timer = NULL;
    svc_http_res res = {.body = "", .error = m->error};
    if (!m->error) {
        res.status = m->status ? m->status : 200;
        res.body = m->body ? m->body : "";
        res.body_len = strlen(res.body);
        res.content_type = m->content_type;
    }
    http_finish(h, &res);
}

static svc_http *mock_start(svc_http *h, const svc_http_req *req)
{
    const svc_mocks *mk = h->c->opt.mocks;
    for (size_t i = 0; i < mk->http_count; i++) {
        const svc_http_mock *m = &mk->http[i];
        if (m->method && strcasecmp(m->method, req->method) != 0)
            continue;
        if (!svc_glob(m->url, req->url))
            continue;
        h->mock = m;
        h->timer = loop_timer_start(h->c->l, m->delay > 0 ? m->delay : 0, mock_cb, h);
        return h;
    }
    cr_strbuf what = CR_STRBUF_INIT;
    cr_strbuf_printf(&what, "http %s %s", req->method, req->url);
    if (mk->unmatched)
        mk->unmatched(mk->arg, what.s);
    cr_strbuf_reset(&what);
    cr_strbuf_printf(&what, "no mock for http %s %s", req->method, req->url);
    fail_soon(h, what.s);
    cr_strbuf_free(&what);
    return h;
}

/* ---- real requests -------------------------------------------------- */

bool svc_http_method_safe(const char *method)
{
    return !method || strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

static svc_http *start(svc_ctx *c, const svc_http_req *req, svc_http_cb cb, void *arg, bool own)
{
    svc_http *h = svc_alloc(sizeof *h);
    h->c = c;
    h->cb = cb;
    h->arg = arg;
    h->own = own;
    h->started = loop_now(c->l);
    if (!own) {
        h->next = c->https;
        if (c->https)
            c->https->prev = h;
        c->https = h;
    }
    if (c->opt.mocks)
        return mock_start(h, req);

    CURL *e = curl_easy_init();
    if (!e)
        return fail_soon(h, "cannot create an HTTP request");
    h->x.easy = e;
    h->x.done = done_cb;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    /* Only web protocols: a URL template must not reach file:// or gopher. */
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_USERAGENT, "callroute");
    /* A small receive buffer keeps 10,000 waiting requests cheap. */
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 4096L);
    if (!req->verify_tls) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (req->timeout > 0)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(req->timeout * 1000));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);

    const char *m = req->method ? req->method : "GET";
    if (strcmp(m, "GET") == 0)
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    else if (strcmp(m, "HEAD") == 0)
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    bool bodyless = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "DELETE") == 0;
    if (req->body || !bodyless) {
        /* POST/PUT/PATCH without a body still send Content-Length: 0. */
        size_t n = req->body ? req->body_len : 0;
        h->req_body = svc_alloc(n + 1);
        if (n)
            memcpy(h->req_body, req->body, n);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, h->req_body);
        /* POSTFIELDS turns the request into a POST: keep the method asked for. */
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    }
    for (size_t i = 0; i < req->header_count; i++)
        h->headers = curl_slist_append(h->headers, req->headers[i]);
    /* curl would add "Expect: 100-continue" to large POSTs and wait for it. */
    h->headers = curl_slist_append(h->headers, "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->headers);

    h->counted = true;
    c->l->real_pending++;
    svc_curl_add(c, &h->x);
    return h;
}

svc_http *svc_http_start(svc_ctx *c, const svc_http_req *req, svc_http_cb cb, void *arg)
{
    return start(c, req, cb, arg, false);
}

svc_http *svc_http_start_own(svc_ctx *c, const svc_http_req *req, svc_http_cb cb, void *arg)
{
    return start(c, req, cb, arg, true);
}

void svc_http_cancel_all(svc_ctx *c)
{
    while (c->https)
        svc_http_cancel(c->https);
}

/* A mock that answers is the server: it got the request. */
bool svc_http_cancel(svc_http *h)
{
    if (!h)
        return false;
    bool sent;
    if (h->timer) {
        sent = h->mock && !h->mock->error;
        loop_timer_stop(h->c->l, h->timer);
    } else {
        sent = request_sent(h->x.easy);
        if (h->x.easy)
            svc_curl_remove(h->c, &h->x);
    }
    http_free(h);
    return sent;
}
