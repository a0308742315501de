/* sip_fmt.h — the few snprintf formats sofia-sip prints every message
 * with, without libc's printf machinery (sip_guard.c interposes
 * __snprintf_chk; docs/decisions/sip-core.md, "CPU per call, cut again:
 * sofia's libc calls"). */
#ifndef SIP_FMT_H
#define SIP_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* vsnprintf(BUF, SIZE, FMT, AP) when FMT holds only literal text and the
 * conversions %s (a non-NULL string), %u, %lu and %03u: the same bytes
 * written, the same length returned. -1, with BUF untouched, for any other
 * format or a NULL string (AP is then partly read: the caller keeps a
 * copy and asks libc). */
int sip_fmt_simple(char *buf, size_t size, const char *fmt, va_list ap);

#endif
