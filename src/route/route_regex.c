/* route_regex.c — the literal prefix of an anchored regex, so that routes
 * with `matches: '^7495...'` can be indexed like prefixes. Conservative: any
 * construct it does not understand ends the prefix, and any `|` (which may
 * be a top-level alternative) gives up. */
#include "route/route_int.h"

#include <stdbool.h>
#include <string.h>

static bool is_meta(char c)
{
    return strchr("\\^$.[]|()?*+{}", c) != NULL;
}

const char *route_regex_prefix(const char *src, size_t len, size_t *plen, cr_arena *arena)
{
    static char buf[256];
    char tmp[256];
    size_t n = 0;
    if (len == 0 || src[0] != '^' || memchr(src, '|', len))
        return NULL;
    size_t i = 1;
    while (i < len && n < sizeof tmp) {
        char c = src[i];
        size_t step = 1;
        if ((unsigned char)c >= 0x80)
            break;                          /* one byte of a multi-byte character */
        if (c == '\\') {
            if (i + 1 >= len)
                break;
            char e = src[i + 1];
            if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9') ||
                (unsigned char)e >= 0x80)
                break;                      /* \d, \x41, \Q ... */
            c = e;
            step = 2;
        } else if (is_meta(c)) {
            break;
        }
        char next = i + step < len ? src[i + step] : '\0';
        if (next == '?' || next == '*' || next == '{')
            break;                          /* this character may be absent */
        tmp[n++] = c;
        i += step;
        if (next == '+')
            break;                          /* present, but what follows is not fixed */
    }
    *plen = n;
    if (arena)
        return cr_arena_strndup(arena, tmp, n);
    memcpy(buf, tmp, n);
    buf[n] = '\0';
    return buf;
}
