/* sip_auth.h — digest authentication state and checks, apart from the
 * SIP stack: nonces bound to a per-process secret, their expiry and
 * nonce-counts, the check of an Authorization/Proxy-Authorization's
 * parameters against a request, and the per-source failure count that
 * bans a guessing peer. Pure: the caller passes the clock and the request's
 * parts and acts on the result (sip_registrar.c). */
#ifndef SIP_AUTH_H
#define SIP_AUTH_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct sip_auth sip_auth;

typedef struct sip_auth_limits {
    double nonce_lifetime;   /* seconds a nonce is accepted */
    unsigned max_failures;   /* failures from one address ... */
    double window;           /* ... within this many seconds ... */
    double ban;              /* ... ignore it for this long; max_failures 0: never */
} sip_auth_limits;

typedef enum {
    SIP_AUTH_OK,
    SIP_AUTH_MISSING,        /* no usable credentials: challenge */
    SIP_AUTH_STALE,          /* a nonce of ours, expired or forgotten: challenge, stale=true */
    SIP_AUTH_FAILED,         /* wrong password, unknown user, replay, wrong uri: challenge, counts */
} sip_auth_result;

/* A random secret is drawn here: nonces of an earlier run are not accepted. */
sip_auth *sip_auth_new(const char *realm, const sip_auth_limits *lim);
void sip_auth_free(sip_auth *a);
void sip_auth_set_limits(sip_auth *a, const sip_auth_limits *lim);

/* The value of a WWW-/Proxy-Authenticate header with a fresh nonce. */
size_t sip_auth_challenge(sip_auth *a, double now, bool stale, char *buf, size_t size);

/* Checks digest PARAMS (the header's au_params, NULL-terminated) of a
 * request METHOD to REQUEST_URI from USER, whose password is PASSWORD
 * (NULL: unknown user, which fails like a wrong password). On OK the
 * nonce-count is used up: the same Authorization does not pass twice. */
sip_auth_result sip_auth_check(sip_auth *a, double now, const char *const *params,
                               const char *method, const char *request_uri, const char *user,
                               const char *password);

/* A failed attempt from SRC; true when it starts a ban (log it once). */
bool sip_auth_failure(sip_auth *a, double now, struct in_addr src);
/* Is SRC banned now? */
bool sip_auth_banned(sip_auth *a, double now, struct in_addr src);

#endif
