/* sip_fmt.c — snprintf for the formats sofia-sip encodes every message
 * with: the request line ("%s " + 14 × "%s" of the URL + " %s\r\n"), the
 * status line ("%s %03u %s\r\n"), CSeq ("%u %s"), Content-Length and the
 * other numbers ("%lu"). Through glibc each costs 650-4,900 instructions
 * (vfprintf's set-up, a jump per conversion, a FILE over the buffer):
 * ~31,000 a call, 23 calls. Here the format is read once, byte by byte;
 * any other conversion is refused with the caller's buffer untouched, so
 * libc answers it. test_sip_fmt compares with libc. */
#include "telephony/sip/sip_fmt.h"

#include <string.h>

int sip_fmt_simple(char *buf, size_t size, const char *fmt, va_list ap)
{
    /* Written into a scratch buffer, so that a refusal met half-way (a
     * NULL string, another conversion) leaves BUF untouched; byte by byte,
     * as sofia's pieces are a few bytes each (a call of strlen and memcpy
     * per piece cost more than the copy). A result of 1 KB or more goes to
     * libc too. */
    char out[1024];
    size_t len = 0;
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            if (len == sizeof out)
                return -1;
            out[len++] = *p;
            continue;
        }
        p++;
        if (*p == 's') {
            const char *s = va_arg(ap, const char *);
            if (!s)
                return -1;   /* glibc prints "(null)": libc's */
            for (; *s; s++) {
                if (len == sizeof out)
                    return -1;
                out[len++] = *s;
            }
            continue;
        }
        unsigned long v;
        size_t width = 1;
        if (p[0] == 'u') {
            v = va_arg(ap, unsigned);
        } else if (p[0] == 'l' && p[1] == 'u') {
            v = va_arg(ap, unsigned long);
            p += 1;
        } else if (p[0] == '0' && p[1] == '3' && p[2] == 'u') {
            v = va_arg(ap, unsigned);
            width = 3;
            p += 2;
        } else {
            return -1;
        }
        char digits[24];
        size_t n = sizeof digits;
        do {
            digits[--n] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        while (sizeof digits - n < width)
            digits[--n] = '0';
        if (len + (sizeof digits - n) > sizeof out)
            return -1;
        memcpy(out + len, digits + n, sizeof digits - n);
        len += sizeof digits - n;
    }
    if (size) {
        size_t n = len < size ? len : size - 1;
        memcpy(buf, out, n);
        buf[n] = '\0';
    }
    return (int)len;
}
