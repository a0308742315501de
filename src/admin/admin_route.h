/* admin_route.h — which resource of the admin API a request names: the
 * routing decision as a pure function of the method and URL (no daemon, no
 * calls), so it is unit tested and fuzzed apart from the code that answers.
 * The URL is what libmicrohttpd hands over: the path, %-decoded, without
 * the query string; anything the client sent. */
#ifndef ADMIN_ROUTE_H
#define ADMIN_ROUTE_H

#include <stddef.h>

typedef enum admin_resource {
    ADMIN_R_HEALTH,         /* GET /health */
    ADMIN_R_CALLS,          /* GET /calls, /calls/ */
    ADMIN_R_CALL,           /* GET /calls/CALL_ID */
    ADMIN_R_REFUSED,        /* GET /refused */
    ADMIN_R_CDR,            /* GET /cdr */
    ADMIN_R_SCENARIO,       /* GET /scenario */
    ADMIN_R_SCENARIO_PUT,   /* PUT /scenario */
    ADMIN_R_VALIDATE,       /* POST /scenario/validate */
    ADMIN_R_RELOAD,         /* POST /reload */
    ADMIN_R_REVISIONS,      /* GET /revisions, /revisions/ */
    ADMIN_R_REVISION,       /* GET /revisions/N */
    ADMIN_R_RESTORE,        /* POST /revisions/N/restore */
    ADMIN_R_ORIGINATE,      /* POST /calls */
    ADMIN_R_CALL_EVENT,     /* POST /calls/CALL_ID/events */
    ADMIN_R_CALL_HANGUP,    /* POST /calls/CALL_ID/hangup */
    ADMIN_R_CALL_TRANSFER,  /* POST /calls/CALL_ID/transfer */
    ADMIN_R_CALL_VARS,      /* POST /calls/CALL_ID/vars */
    ADMIN_R_EVENTS,         /* GET /events (Server-Sent Events) */
    ADMIN_R_METRICS,        /* GET /metrics */
    ADMIN_R_EDITOR,         /* GET /editor, /editor/, /editor/FILE (the editor's static files) */
    ADMIN_R_SIMULATE,       /* POST /simulate */
    ADMIN_R_DRAIN,          /* POST /drain */
    ADMIN_R_CLUSTER,        /* GET /cluster */
    ADMIN_R_CLUSTER_CALLS,  /* GET /cluster/calls */
    ADMIN_R_CLUSTER_QUEUES, /* GET /cluster/queues */
    ADMIN_R_CONFERENCES,    /* GET /conferences */
    ADMIN_R_CONF_MEMBER,    /* POST /conferences/ROOM/members/ID */
    ADMIN_R_CONF_KICK,      /* DELETE /conferences/ROOM/members/ID */
    ADMIN_R_QUEUES,         /* GET /queues */
    ADMIN_R_QUEUE_AGENT,    /* POST /queues/NAME/agents/NUMBER */
    ADMIN_R_PHONE,          /* GET /phone, /phone/, /phone/FILE (the browser phone's static files) */
    ADMIN_R_NOT_FOUND,      /* 404: no resource has this path */
    ADMIN_R_NOT_ALLOWED,    /* 405: the path is known, the method is not */
} admin_resource;

/* HTTP methods as bits, for the Allow header of a 405. */
enum { ADMIN_M_GET = 1, ADMIN_M_POST = 2, ADMIN_M_PUT = 4, ADMIN_M_DELETE = 8 };

typedef struct admin_match {
    admin_resource res;
    /* The variable part of the path (a call id, a revision number): points
     * into the URL, LEN bytes, never empty; NULL when the path has none. A
     * call id may hold any byte but NUL, '/' too, as Call-IDs may: POST
     * /calls/a/b/hangup is call "a/b" (a GET of it is call "a/b/hangup"). */
    const char *param;
    size_t param_len;
    /* A second variable part (/conferences/ROOM/members/ID: PARAM is the
     * room, PARAM2 the member; /queues/NAME/agents/NUMBER): one path
     * segment each, never empty; NULL when the path has none. */
    const char *param2;
    size_t param2_len;
    unsigned allow;         /* ADMIN_R_NOT_ALLOWED: the methods the path takes */
} admin_match;

/* The resource METHOD URL names. HEAD routes as GET. */
admin_match admin_route(const char *method, const char *url);
/* "GET, HEAD, POST" for ALLOW (static storage). */
const char *admin_allow_header(unsigned allow);

#endif
