/* sip_dtmf_body.h — the digit a SIP INFO body carries (application/dtmf-relay
 * "Signal=5\r\nDuration=160", application/dtmf "5"). A pure function of the
 * Content-Type and body (no driver, no I/O), unit tested and fuzzed apart
 * from sip_in.c, which passes the digit on to the call. */
#ifndef SIP_DTMF_BODY_H
#define SIP_DTMF_BODY_H

#include <stddef.h>

/* The digit ('0'-'9', '*', '#', 'A'-'D') in BODY (LEN bytes, not
 * NUL-terminated) of type CONTENT_TYPE (type/subtype, any case), or 0 when
 * the type is neither DTMF type or the body names no digit. The event is
 * the character or its RFC 4733 number: "Signal=11" and "11" are '#'. */
char sip_dtmf_body_digit(const char *content_type, const char *body, size_t len);

#endif
