/* drain.c — `callroute serve FILE --drain`: what an operator's rolling
 * upgrade script runs on a node (docs/cluster.md). It finds the running
 * serve through FILE (settings.admin.listen or --admin, the token from
 * settings.admin), sends POST /drain, then waits until that serve has
 * stopped answering: its live calls have finished and it has exited.
 * Blocking libcurl: this process serves nothing. */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin/admin.h"
#include "cli/cli.h"
#include "scenario/compile.h"
#include "util/strbuf.h"

static size_t sink(char *data, size_t size, size_t n, void *arg)
{
    cr_strbuf_append(arg, data, size * n);
    return size * n;
}

/* One request; the HTTP status (0: no answer), the body in OUT. */
static long request(const char *url, const char *method, const char *token, const char *body, cr_strbuf *out)
{
    CURL *e = curl_easy_init();
    if (!e)
        return 0;
    struct curl_slist *h = NULL;
    char auth[600];
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
    }
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
    if (body)
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    long code = 0;
    if (curl_easy_perform(e) == CURLE_OK)
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(h);
    curl_easy_cleanup(e);
    return code;
}

/* HOST:PORT (or :PORT, PORT) as the admin API takes it -> a base URL. */
static bool base_url(const char *addr, char *out, size_t n)
{
    const char *colon = strrchr(addr, ':');
    const char *port = colon ? colon + 1 : addr;
    if (!*port || strspn(port, "0123456789") != strlen(port))
        return false;
    if (!colon || colon == addr)
        return snprintf(out, n, "http://127.0.0.1:%s", port) < (int)n;
    char host[256];
    snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
    if (strcmp(host, "0.0.0.0") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    else if (strcmp(host, "[::]") == 0)
        snprintf(host, sizeof host, "[::1]");
    return snprintf(out, n, "http://%s:%s", host, port) < (int)n;
}

int cli_drain_remote(const scn_program *p, const char *admin, const char *timeout)
{
    const char *addr = admin ? admin : p->settings.admin_listen;
    char base[400], url[450], err[300] = "";
    if (!addr || strcmp(addr, "off") == 0 || !base_url(addr, base, sizeof base)) {
        fprintf(stderr, "callroute serve --drain: no admin API address (settings.admin.listen or --admin HOST:PORT)\n");
        return CLI_USAGE;
    }
    double t;
    if (timeout && !scn_parse_duration(timeout, strlen(timeout), &t)) {
        fprintf(stderr, "callroute serve --drain: --drain-timeout takes a duration like 30m\n");
        return CLI_USAGE;
    }
    char *token = NULL;
    if (!admin_load_token(&p->settings, &token, err, sizeof err)) {
        fprintf(stderr, "callroute serve --drain: %s\n", err);
        return 1;
    }
    char body[128] = "{}";
    if (timeout)
        snprintf(body, sizeof body, "{\"timeout\":%.3f}", t);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    cr_strbuf out = CR_STRBUF_INIT;
    snprintf(url, sizeof url, "%s/drain", base);
    long code = request(url, "POST", token, body, &out);
    int rc = 1;
    if (code != 202) {
        fprintf(stderr, "callroute serve --drain: %s: %s %s\n", url, code ? "answered" : "no answer",
                code ? cr_strbuf_cstr(&out) : "(is it running?)");
        goto out;
    }
    json_t *o = json_loads(cr_strbuf_cstr(&out), 0, NULL);
    printf("draining: %lld live call(s)\n", (long long)json_integer_value(json_object_get(o, "calls")));
    json_decref(o);
    fflush(stdout);
    /* It exits when its last call has ended: until then /health answers. */
    snprintf(url, sizeof url, "%s/health", base);
    for (;;) {
        out.len = 0;
        if (request(url, "GET", token, NULL, &out) == 0)
            break;
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    printf("stopped\n");
    rc = 0;
out:
    cr_strbuf_free(&out);
    if (token) {
        memset(token, 0, strlen(token));
        free(token);
    }
    curl_global_cleanup();
    return rc;
}
