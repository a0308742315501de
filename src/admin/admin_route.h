/* admin_route.h — which resource of the admin API a request names: the
 * routing decision of src/cli/admin.c's request handler as a pure function
 * of the method and URL (no daemon, no calls), so it is unit tested and
 * fuzzed apart from the code that answers. The URL is what libmicrohttpd
 * hands over: the path, %-decoded, without the query string; anything the
 * client sent. */
#ifndef ADMIN_ROUTE_H
#define ADMIN_ROUTE_H

typedef enum admin_resource {
    ADMIN_R_HEALTH,         /* GET /health */
    ADMIN_R_CALLS,          /* GET /calls, /calls/ */
    ADMIN_R_CALL,           /* GET /calls/CALL_ID */
    ADMIN_R_REFUSED,        /* GET /refused */
    ADMIN_R_NOT_FOUND,      /* 404: any other path */
    ADMIN_R_NOT_ALLOWED,    /* 405: a method but GET and HEAD (read-only) */
} admin_resource;

/* The resource METHOD URL names. For ADMIN_R_CALL, *CALL_ID is the call id:
 * the rest of URL after "/calls/" (never empty; it may hold any byte but
 * NUL, '/' too, as Call-IDs may); else NULL. HEAD routes as GET. */
admin_resource admin_route(const char *method, const char *url, const char **call_id);

#endif
