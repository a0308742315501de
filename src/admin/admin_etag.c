/* admin_etag.c — ETag, If-Match and revision numbers (admin_etag.h). */
#include "admin/admin_etag.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void admin_etag(char *out, size_t size, long revision) { snprintf(out, size, "\"%ld\"", revision); }

static const char *skip_ows(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* etagc (RFC 9110): %x21 / %x23-7E / obs-text — no space, no quote, no DEL. */
static bool etagc(unsigned char c) { return c == 0x21 || (c >= 0x23 && c != 0x7F); }

admin_if_match admin_check_if_match(const char *h, long current)
{
    if (!h)
        return ADMIN_IF_MATCH_MISSING;
    const char *s = skip_ows(h);
    if (!*s)
        return ADMIN_IF_MATCH_MISSING;
    if (*s == '*')
        return *skip_ows(s + 1) ? ADMIN_IF_MATCH_BAD : ADMIN_IF_MATCH_OK;
    char want[24];
    snprintf(want, sizeof want, "%ld", current);
    size_t want_len = strlen(want);
    bool match = false, any = false;
    for (;;) {
        s = skip_ows(s);
        if (*s == ',') {   /* empty list elements are allowed: "a", , "b" */
            s++;
            continue;
        }
        if (!*s)
            break;
        bool weak = false;
        if (s[0] == 'W' && s[1] == '/') {
            weak = true;
            s += 2;
        }
        if (*s != '"')
            return ADMIN_IF_MATCH_BAD;
        const char *tag = ++s;
        while (*s && *s != '"') {
            if (!etagc((unsigned char)*s))
                return ADMIN_IF_MATCH_BAD;
            s++;
        }
        if (*s != '"')
            return ADMIN_IF_MATCH_BAD;
        size_t len = (size_t)(s - tag);
        if (!weak && len == want_len && memcmp(tag, want, len) == 0)
            match = true;
        any = true;
        s = skip_ows(s + 1);
        if (*s && *s != ',')
            return ADMIN_IF_MATCH_BAD;
    }
    if (!any)
        return ADMIN_IF_MATCH_BAD;   /* only commas */
    return match ? ADMIN_IF_MATCH_OK : ADMIN_IF_MATCH_STALE;
}

bool admin_parse_revision(const char *s, long *out)
{
    if (!s || *s < '1' || *s > '9' || strspn(s, "0123456789") != strlen(s) || strlen(s) > 19)
        return false;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno || v > LONG_MAX)
        return false;
    *out = (long)v;
    return true;
}
