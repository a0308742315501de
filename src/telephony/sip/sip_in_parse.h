/* sip_in_parse.h — what callroute takes from an incoming INVITE that
 * sofia-sip has parsed: the headers scenarios read as sip.header.<Name>,
 * the caller's number and display name, the called number. Pure functions
 * of the parsed message (no driver, no I/O), so they are unit tested and
 * fuzzed apart from sip_in.c, which acts on what they return. Everything
 * here comes from the network: any field may be missing or hostile. */
#ifndef SIP_IN_PARSE_H
#define SIP_IN_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/sip.h>

#define SIP_IN_MAX_HEADERS 48

/* The INVITE's headers as name/value pairs, in message order: the request
 * line, the body and its separator left out; an unknown header by the name
 * and raw value it was sent with, a known one by its canonical name and
 * value as sofia encodes it. Line folding is one space (RFC 3261 7.3.1):
 * no value holds CR or LF. Only the headers WANTED(ARG, name) keeps (all
 * when WANTED is NULL): encoding a header nobody reads was ~700
 * instructions each (docs/decisions/sip-core.md, "CPU per call, cut
 * again: engine"). Of the first SIP_IN_MAX_HEADERS headers (wanted or
 * not: the same ones whether a program reads few or all), what fits in
 * BUF: the rest is dropped. Values point into BUF. */
typedef struct sip_in_headers {
    const char *names[SIP_IN_MAX_HEADERS];
    const char *values[SIP_IN_MAX_HEADERS];
    size_t count;
    char buf[8192];
} sip_in_headers;

typedef bool sip_in_header_wanted(void *arg, const char *name);

void sip_in_collect_headers(const sip_t *sip, sip_in_header_wanted *wanted, void *arg, sip_in_headers *out);

/* A display name without its quotes: "\"J \\\"R\\\"\"" -> J "R" (each
 * quoted-pair gives its character), line folding one space (no CR or LF).
 * Unquoted text is copied as it is otherwise. malloc'd; NULL for NULL. */
char *sip_in_unquote(const char *s);

/* Who calls whom. CALLER is the From user, or with TRUST_IDENTITY (a
 * gateway trusted to assert it) the P-Asserted-Identity user, and
 * CALLER_NAME the matching display name unquoted (From's when the asserted
 * identity has none; NULL when there is none at all); CALLEE the
 * Request-URI user. User parts are as sofia keeps them (%-escapes that
 * must stay escaped are kept, so no NUL), line folding one space (sofia
 * keeps a folded <URI>'s CRLF): no CR or LF. Missing parts are "". All
 * malloc'd, owned by the caller (sip_in_parties_free). */
typedef struct sip_in_parties {
    char *caller, *caller_name, *callee;
} sip_in_parties;

/* Whether callroute can use the INVITE's body and answer it: 0; 415 when
 * the body is of another type than application/sdp (callroute would read
 * it as SDP; the answer must carry Accept: application/sdp, RFC 3261
 * 21.4.13); 406 when Accept names media types and none covers
 * application/sdp, the only body callroute answers with. A body without a
 * Content-Type is taken for SDP; an Accept without media types is as good
 * as none (RFC 3261 would refuse every body; callers mean no preference). */
int sip_in_body_check(const sip_t *sip);

void sip_in_parties_get(const sip_t *sip, bool trust_identity, sip_in_parties *out);
void sip_in_parties_free(sip_in_parties *p);

#endif
