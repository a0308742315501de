/* admin_route.c — method + URL -> admin API resource (see admin_route.h).
 * One table: a path pattern is literal, or has one `*` standing for a
 * non-empty part (which may hold '/': call ids do), and a literal tail; a
 * tail with a `*` of its own makes two parts around its literal middle,
 * each one path segment: /conferences/ROOM/members/ID,
 * /queues/NAME/agents/NUMBER. */
#include "admin/admin_route.h"

#include <stdbool.h>
#include <string.h>

typedef struct route {
    unsigned method;
    const char *head, *tail;   /* pattern head, then '*' and tail when tail != NULL */
    admin_resource res;
} route;

static const route routes[] = {
    {ADMIN_M_GET, "/health", NULL, ADMIN_R_HEALTH},
    {ADMIN_M_GET, "/refused", NULL, ADMIN_R_REFUSED},
    {ADMIN_M_GET, "/cdr", NULL, ADMIN_R_CDR},
    {ADMIN_M_GET, "/metrics", NULL, ADMIN_R_METRICS},
    {ADMIN_M_GET, "/calls", NULL, ADMIN_R_CALLS},
    {ADMIN_M_GET, "/calls/", NULL, ADMIN_R_CALLS},
    {ADMIN_M_GET, "/calls/", "", ADMIN_R_CALL},
    {ADMIN_M_GET, "/scenario", NULL, ADMIN_R_SCENARIO},
    {ADMIN_M_PUT, "/scenario", NULL, ADMIN_R_SCENARIO_PUT},
    {ADMIN_M_POST, "/scenario/validate", NULL, ADMIN_R_VALIDATE},
    {ADMIN_M_POST, "/reload", NULL, ADMIN_R_RELOAD},
    {ADMIN_M_GET, "/revisions", NULL, ADMIN_R_REVISIONS},
    {ADMIN_M_GET, "/revisions/", NULL, ADMIN_R_REVISIONS},
    {ADMIN_M_POST, "/revisions/", "/restore", ADMIN_R_RESTORE},
    {ADMIN_M_GET, "/revisions/", "", ADMIN_R_REVISION},
    {ADMIN_M_POST, "/calls", NULL, ADMIN_R_ORIGINATE},
    {ADMIN_M_POST, "/calls/", "/events", ADMIN_R_CALL_EVENT},
    {ADMIN_M_POST, "/calls/", "/hangup", ADMIN_R_CALL_HANGUP},
    {ADMIN_M_POST, "/calls/", "/transfer", ADMIN_R_CALL_TRANSFER},
    {ADMIN_M_POST, "/calls/", "/vars", ADMIN_R_CALL_VARS},
    {ADMIN_M_GET, "/events", NULL, ADMIN_R_EVENTS},
    {ADMIN_M_GET, "/editor", NULL, ADMIN_R_EDITOR},
    {ADMIN_M_GET, "/editor/", NULL, ADMIN_R_EDITOR},
    {ADMIN_M_GET, "/editor/", "", ADMIN_R_EDITOR},
    {ADMIN_M_POST, "/simulate", NULL, ADMIN_R_SIMULATE},
    {ADMIN_M_POST, "/drain", NULL, ADMIN_R_DRAIN},
    {ADMIN_M_GET, "/cluster", NULL, ADMIN_R_CLUSTER},
    {ADMIN_M_GET, "/cluster/calls", NULL, ADMIN_R_CLUSTER_CALLS},
    {ADMIN_M_GET, "/cluster/queues", NULL, ADMIN_R_CLUSTER_QUEUES},
    {ADMIN_M_GET, "/conferences", NULL, ADMIN_R_CONFERENCES},
    {ADMIN_M_GET, "/conferences/", NULL, ADMIN_R_CONFERENCES},
    {ADMIN_M_POST, "/conferences/", "/members/*", ADMIN_R_CONF_MEMBER},
    {ADMIN_M_DELETE, "/conferences/", "/members/*", ADMIN_R_CONF_KICK},
    {ADMIN_M_GET, "/queues", NULL, ADMIN_R_QUEUES},
    {ADMIN_M_POST, "/queues/", "/agents/*", ADMIN_R_QUEUE_AGENT},
    {ADMIN_M_GET, "/phone", NULL, ADMIN_R_PHONE},
    {ADMIN_M_GET, "/phone/", NULL, ADMIN_R_PHONE},
    {ADMIN_M_GET, "/phone/", "", ADMIN_R_PHONE},
};

static unsigned method_bit(const char *m)
{
    if (!m)
        return 0;
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
        return ADMIN_M_GET;
    if (strcmp(m, "POST") == 0)
        return ADMIN_M_POST;
    if (strcmp(m, "PUT") == 0)
        return ADMIN_M_PUT;
    if (strcmp(m, "DELETE") == 0)
        return ADMIN_M_DELETE;
    return 0;
}

/* URL matches R; the `*` part in *P, *N (and the second in *P2, *N2). */
static bool matches(const route *r, const char *url, const char **p, size_t *n, const char **p2, size_t *n2)
{
    size_t hl = strlen(r->head), ul = strlen(url);
    if (strncmp(url, r->head, hl) != 0)
        return false;
    if (!r->tail)
        return ul == hl;
    const char *star = strchr(r->tail, '*');
    if (star) {
        /* head A mid B tail: A and B without '/' */
        size_t ml = (size_t)(star - r->tail), tl = strlen(star + 1);
        const char *a = url + hl, *m = strchr(a, '/');
        if (!m || m == a || strncmp(m, r->tail, ml) != 0)
            return false;
        const char *b = m + ml;
        size_t bl = strlen(b);
        if (bl <= tl || strcmp(b + bl - tl, star + 1) != 0 || memchr(b, '/', bl - tl))
            return false;
        *p = a;
        *n = (size_t)(m - a);
        *p2 = b;
        *n2 = bl - tl;
        return true;
    }
    size_t tl = strlen(r->tail);
    if (ul <= hl + tl || strcmp(url + ul - tl, r->tail) != 0)
        return false;
    *p = url + hl;
    *n = ul - hl - tl;
    return true;
}

admin_match admin_route(const char *method, const char *url)
{
    admin_match m = {.res = ADMIN_R_NOT_FOUND};
    if (!url)
        return m;
    unsigned want = method_bit(method);
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const char *p = NULL, *p2 = NULL;
        size_t n = 0, n2 = 0;
        if (!matches(&routes[i], url, &p, &n, &p2, &n2))
            continue;
        if (routes[i].method & want) {
            m.res = routes[i].res;
            m.param = p;
            m.param_len = n;
            m.param2 = p2;
            m.param2_len = n2;
            m.allow = 0;
            return m;
        }
        m.allow |= routes[i].method;
    }
    if (m.allow)
        m.res = ADMIN_R_NOT_ALLOWED;
    return m;
}

const char *admin_allow_header(unsigned allow)
{
    static const char *const names[16] = {
        "",          "GET, HEAD",        "POST",        "GET, HEAD, POST", "PUT",
        "GET, HEAD, PUT",       "POST, PUT",    "GET, HEAD, POST, PUT", "DELETE",
        "GET, HEAD, DELETE",    "POST, DELETE", "GET, HEAD, POST, DELETE", "PUT, DELETE",
        "GET, HEAD, PUT, DELETE", "POST, PUT, DELETE", "GET, HEAD, POST, PUT, DELETE",
    };
    return names[allow & 15];
}
