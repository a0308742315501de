/* fuzz_admin_route.c — libFuzzer target for the admin API's request path
 * (src/admin/admin_route.c): the input up to the first space is the method,
 * the rest up to a NUL the URL, as libmicrohttpd hands them over. Whatever
 * they are: a resource only for its own path and methods, 405 with the
 * methods a known path takes, else 404; a parameter (a call id, a
 * revision) only where the path has one, inside the URL and never empty;
 * POST /calls/ID/ACTION with the id whole between; POST
 * /queues/NAME/agents/NUMBER with two parameters of one segment each. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_route.h"

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1);
    if (!in)
        return 0;
    memcpy(in, data, size);
    in[size] = '\0';
    char *sp = strchr(in, ' ');
    const char *method = in, *url = "";
    if (sp) {
        *sp = '\0';
        url = sp + 1;
    }
    admin_match m = admin_route(method, url);
    bool readable = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    bool post = strcmp(method, "POST") == 0;
    size_t ul = strlen(url);
    /* a parameter lies inside the URL, is never empty, and only some
     * resources have one */
    static const struct {
        admin_resource res;
        const char *tail;
    } actions[] = {
        {ADMIN_R_CALL_EVENT, "/events"},
        {ADMIN_R_CALL_HANGUP, "/hangup"},
        {ADMIN_R_CALL_TRANSFER, "/transfer"},
        {ADMIN_R_CALL_VARS, "/vars"},
    };
    bool action = false;
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
        if (m.res != actions[i].res)
            continue;
        /* POST /calls/ID/ACTION: the id is everything between */
        size_t tl = strlen(actions[i].tail);
        action = true;
        check(post && strncmp(url, "/calls/", 7) == 0 && ul > 7 + tl && strcmp(url + ul - tl, actions[i].tail) == 0 &&
              m.param == url + 7 && m.param_len == ul - 7 - tl);
    }
    bool member = m.res == ADMIN_R_CONF_MEMBER || m.res == ADMIN_R_CONF_KICK;
    bool agent = m.res == ADMIN_R_QUEUE_AGENT;
    check((m.param != NULL) ==
          (m.res == ADMIN_R_CALL || m.res == ADMIN_R_REVISION || m.res == ADMIN_R_RESTORE || action || member || agent ||
           (m.res == ADMIN_R_EDITOR && strlen(url) > 8) || (m.res == ADMIN_R_PHONE && strlen(url) > 7)));
    check((m.param2 != NULL) == (member || agent));
    if (member) {
        /* /conferences/ROOM/members/ID: ROOM and ID inside the URL, non-empty, no '/' */
        check((m.res == ADMIN_R_CONF_MEMBER ? post : strcmp(method, "DELETE") == 0) &&
              strncmp(url, "/conferences/", 13) == 0 && m.param == url + 13 && m.param_len > 0 &&
              !memchr(m.param, '/', m.param_len) && strncmp(m.param + m.param_len, "/members/", 9) == 0 &&
              m.param2 == m.param + m.param_len + 9 && m.param2_len > 0 && m.param2 + m.param2_len == url + ul &&
              !memchr(m.param2, '/', m.param2_len));
    }
    if (m.res == ADMIN_R_CONFERENCES)
        check(readable && (strcmp(url, "/conferences") == 0 || strcmp(url, "/conferences/") == 0));
    if (m.param)
        check(m.param >= url && m.param + m.param_len <= url + ul && m.param_len > 0);
    if (m.res == ADMIN_R_QUEUE_AGENT)
        check(post && strncmp(url, "/queues/", 8) == 0 && m.param == url + 8 && !memchr(m.param, '/', m.param_len) &&
              strncmp(m.param + m.param_len, "/agents/", 8) == 0 && m.param2 == m.param + m.param_len + 8 &&
              m.param2_len > 0 && m.param2 + m.param2_len == url + ul && !memchr(m.param2, '/', m.param2_len));
    if (m.res == ADMIN_R_QUEUES)
        check(readable && strcmp(url, "/queues") == 0);
    if (m.res == ADMIN_R_CALL)
        check(readable && strncmp(url, "/calls/", 7) == 0 && m.param == url + 7);
    if (m.res == ADMIN_R_ORIGINATE)
        check(post && strcmp(url, "/calls") == 0);
    if (m.res == ADMIN_R_EVENTS)
        check(readable && strcmp(url, "/events") == 0);
    if (m.res == ADMIN_R_HEALTH)
        check(readable && strcmp(url, "/health") == 0);
    if (m.res == ADMIN_R_REFUSED)
        check(readable && strcmp(url, "/refused") == 0);
    if (m.res == ADMIN_R_CDR)
        check(readable && strcmp(url, "/cdr") == 0);
    if (m.res == ADMIN_R_CALLS)
        check(readable && (strcmp(url, "/calls") == 0 || strcmp(url, "/calls/") == 0));
    if (m.res == ADMIN_R_SCENARIO)
        check(readable && strcmp(url, "/scenario") == 0);
    if (m.res == ADMIN_R_SCENARIO_PUT)
        check(strcmp(method, "PUT") == 0 && strcmp(url, "/scenario") == 0);
    if (m.res == ADMIN_R_VALIDATE)
        check(post && strcmp(url, "/scenario/validate") == 0);
    if (m.res == ADMIN_R_RELOAD)
        check(post && strcmp(url, "/reload") == 0);
    if (m.res == ADMIN_R_REVISIONS)
        check(readable && (strcmp(url, "/revisions") == 0 || strcmp(url, "/revisions/") == 0));
    if (m.res == ADMIN_R_REVISION)
        check(readable && strncmp(url, "/revisions/", 11) == 0 && m.param == url + 11);
    if (m.res == ADMIN_R_RESTORE)
        check(post && strncmp(url, "/revisions/", 11) == 0 && m.param == url + 11 &&
              strcmp(m.param + m.param_len, "/restore") == 0);
    /* the editor: /editor, /editor/ or a name below it (only known names
     * are served, by editor.c) */
    if (m.res == ADMIN_R_EDITOR)
        check(readable && (strcmp(url, "/editor") == 0 || strcmp(url, "/editor/") == 0 ||
                           (strncmp(url, "/editor/", 8) == 0 && m.param == url + 8)));
    /* the browser phone: the same below /phone */
    if (m.res == ADMIN_R_PHONE)
        check(readable && (strcmp(url, "/phone") == 0 || strcmp(url, "/phone/") == 0 ||
                           (strncmp(url, "/phone/", 7) == 0 && m.param == url + 7)));
    if (m.res == ADMIN_R_SIMULATE)
        check(post && strcmp(url, "/simulate") == 0);
    /* 405 only for a path some method takes, and never for GET then */
    check((m.res == ADMIN_R_NOT_ALLOWED) == (m.allow != 0));
    if (m.res == ADMIN_R_NOT_ALLOWED)
        check(!(readable && (m.allow & ADMIN_M_GET)));
    free(in);
    return 0;
}
