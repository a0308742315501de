/* sip_uri.h — the URIs and name-addrs callroute puts in the requests it
 * sends (Request-URI, To, From, Refer-To), built from values that are often
 * rendered from what a caller sent. Pure functions (no driver, no I/O), so
 * they are unit tested and fuzzed apart from the code that sends. Each
 * writes a NUL-terminated string into OUT (N bytes) and returns false when
 * the value cannot be used (then OUT holds ""). */
#ifndef SIP_URI_H
#define SIP_URI_H

#include <stdbool.h>
#include <stddef.h>

/* USER as a SIP URI user part: every character that would end or change
 * the user part (@ ; ? : / & = $ , and what URIs exclude: space, " < > #
 * %, controls, non-ASCII) %-escaped with sofia's url_escape, so "1@evil"
 * stays one user at our host. False: empty or too long. */
bool sip_uri_escape_user(char *out, size_t n, const char *user);

/* The Request-URI for NUMBER through the gateway at GW_URI: GW_URI's
 * scheme, host, port and parameters with NUMBER (escaped) as the user.
 * False: GW_URI is not a SIP URI with a host, or NUMBER is empty. It keeps
 * the last few gateway URIs split where the user goes (made once, not
 * parsed again each call): call it from one thread (the loop's). */
bool sip_uri_gateway(char *out, size_t n, const char *gw_uri, const char *number);

/* A SIP or SIPS URI given whole (dial to "sip:...", a transfer target),
 * parsed and encoded again by sofia: its user part re-escaped, any
 * ?headers dropped (they would be copied into the request). False: not a
 * sip:/sips: URI with a host. */
bool sip_uri_clean(char *out, size_t n, const char *uri);

/* A name-addr for To/From: <URI> or "DISPLAY" <URI>. DISPLAY (may be NULL
 * or empty) is quoted with sofia's msg_unquoted_e after CR, LF and other
 * control characters are turned into spaces (a quoted-pair cannot carry
 * them). URI must come from the functions above. */
bool sip_uri_name_addr(char *out, size_t n, const char *display, const char *uri);

/* "sip:USER@HOST" or, with PORT > 0, "sip:USER@HOST:PORT", USER escaped. */
bool sip_uri_user_at(char *out, size_t n, const char *user, const char *host, int port);

#endif
