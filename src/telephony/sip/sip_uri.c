/* sip_uri.c — URIs and name-addrs for what callroute sends (see sip_uri.h).
 * Everything here is built by sofia (url_make/url_e, url_escape,
 * msg_unquoted_e); the final check refuses any result a header could be
 * split or re-targeted by, in case a parser lets something through. */
#include "telephony/sip/sip_uri.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/msg_parser.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/url.h>

#include "util/alloc.h"

/* What a user part may not carry as-is (beyond what URIs exclude, which
 * url_escape always escapes): the characters that end the user part or
 * start a password, parameter or header. '+' stays: E.164 numbers. */
#define USER_RESERVED ":@;/?&=$,"

/* Longest display name kept (bytes): enough for any real name. */
#define DISPLAY_MAX 128

static bool fail(char *out, size_t n)
{
    if (n)
        out[0] = '\0';
    return false;
}

/* A URI as we send it: nothing that ends the header value, quotes or
 * brackets it, or is a control character. */
static bool uri_text_ok(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || strchr("<>\"\\", *p))
            return false;
    return true;
}

bool sip_uri_escape_user(char *out, size_t n, const char *user)
{
    if (!user || !*user || n == 0)
        return fail(out, n);
    isize_t len = url_esclen(user, USER_RESERVED);
    if (len < 0 || (size_t)len >= n)
        return fail(out, n);
    url_escape(out, user, USER_RESERVED);
    return true;
}

static bool sip_type(const url_t *u)
{
    /* A SIP URI has no path or fragment (url_e would print them glued to
     * the host). */
    return u && (u->url_type == url_sip || u->url_type == url_sips) && u->url_host && *u->url_host &&
           !u->url_path && !u->url_fragment;
}

/* Encodes U into OUT, checked: printable, and sofia reads it back as a SIP
 * URI without headers. */
static bool encode(char *out, size_t n, const url_t *u)
{
    issize_t len = url_e(out, (isize_t)n, u);
    if (len <= 0 || (size_t)len >= n || !uri_text_ok(out))
        return fail(out, n);
    out[len] = '\0';
    su_home_t home[1] = {SU_HOME_INIT(home)};
    const url_t *back = url_make(home, out);
    bool ok = sip_type(back) && !back->url_headers;
    su_home_deinit(home);
    return ok || fail(out, n);
}

/* The old way, every step by sofia: GW_URI parsed, NUMBER put in as the
 * user, encoded and read back. */
static bool gateway_parsed(char *out, size_t n, const char *gw_uri, const char *user)
{
    su_home_t home[1] = {SU_HOME_INIT(home)};
    url_t *u = url_make(home, gw_uri);
    bool ok = false;
    if (sip_type(u)) {
        u->url_user = user;
        u->url_password = NULL;
        u->url_headers = NULL;
        ok = encode(out, n, u);
    }
    su_home_deinit(home);
    return ok;
}

/* A gateway's URI as we send it, split where the user goes ("sip:" and
 * "@192.0.2.1:5070;transport=udp"): the same for every call to the
 * gateway, so made once (parse, encode, read back: ~5,000 instructions a
 * call) and kept for the last GW_SPLITS gateway URIs. Used from the
 * loop's thread only. */
enum { GW_SPLITS = 8, GW_URI_MAX = 512 };
static struct gw_split {
    char *uri;      /* the gateway's URI text as configured; NULL: free slot */
    char *text;     /* the URI as url_e writes it with the user left out */
    size_t at;      /* where the user goes in TEXT */
    bool usable;    /* false: no split (not a SIP URI we send, or too long): the old way */
} gw_splits[GW_SPLITS];
static unsigned gw_next;

static const struct gw_split *gw_split_of(const char *gw_uri)
{
    for (unsigned i = 0; i < GW_SPLITS; i++)
        if (gw_splits[i].uri && strcmp(gw_splits[i].uri, gw_uri) == 0)
            return &gw_splits[i];
    struct gw_split *g = &gw_splits[gw_next++ % GW_SPLITS];
    free(g->uri);
    free(g->text);
    *g = (struct gw_split){.uri = cr_xstrdup(gw_uri)};
    /* url_e writes the user as it is: a marker no escaped user holds
     * shows where. The split is usable when the whole old way passes with
     * a user ("0") and the marker is there once. */
    char text[GW_URI_MAX], check[GW_URI_MAX];
    if (gateway_parsed(check, sizeof check, gw_uri, "0")) {
        su_home_t home[1] = {SU_HOME_INIT(home)};
        url_t *u = url_make(home, gw_uri);
        if (u) {
            u->url_user = "\x01";
            u->url_password = NULL;
            u->url_headers = NULL;
            issize_t len = url_e(text, (isize_t)sizeof text, u);
            const char *mark = len > 0 && (size_t)len < sizeof text ? memchr(text, '\x01', (size_t)len) : NULL;
            if (mark && !memchr(mark + 1, '\x01', (size_t)len - (size_t)(mark - text) - 1)) {
                g->at = (size_t)(mark - text);
                g->text = cr_xmalloc((size_t)len);
                memcpy(g->text, text, g->at);
                memcpy(g->text + g->at, mark + 1, (size_t)len - g->at);   /* with the NUL */
                g->usable = true;
            }
        }
        su_home_deinit(home);
    }
    return g;
}

/* USER (escaped) holds only what a SIP URI's user part carries as it is:
 * unreserved characters, '+' and %-escapes. Such a user cannot change how
 * the rest of the URI reads, so a split checked once stays good. */
static bool user_plain(const char *user)
{
    for (const char *p = user; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || strchr("-_.!~*'()+", c))
            continue;
        if (c == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
            p += 2;
            continue;
        }
        return false;
    }
    return true;
}

bool sip_uri_gateway(char *out, size_t n, const char *gw_uri, const char *number)
{
    char user[256];
    if (!gw_uri || !sip_uri_escape_user(user, sizeof user, number))
        return fail(out, n);
    const struct gw_split *g = strlen(gw_uri) < GW_URI_MAX ? gw_split_of(gw_uri) : NULL;
    if (!g || !g->usable || !user_plain(user))
        return gateway_parsed(out, n, gw_uri, user) || fail(out, n);
    size_t ulen = strlen(user), tail = strlen(g->text + g->at);
    if (g->at + ulen + tail >= n)
        return fail(out, n);
    memcpy(out, g->text, g->at);
    memcpy(out + g->at, user, ulen);
    memcpy(out + g->at + ulen, g->text + g->at, tail + 1);
    return true;
}

bool sip_uri_clean(char *out, size_t n, const char *uri)
{
    if (!uri)
        return fail(out, n);
    su_home_t home[1] = {SU_HOME_INIT(home)};
    url_t *u = url_make(home, uri);
    char user[256];
    bool ok = false;
    if (sip_type(u)) {
        ok = true;
        if (u->url_user) {
            /* As sent it may hold raw characters the parser let through:
             * decoded, then escaped our way. */
            char *raw = su_strdup(home, u->url_user);
            ok = raw && url_unescape(raw, u->url_user) && sip_uri_escape_user(user, sizeof user, raw);
            u->url_user = user;
        }
        u->url_password = NULL;
        u->url_headers = NULL;   /* ?Header=value would be added to the request */
        ok = ok && encode(out, n, u);
    }
    su_home_deinit(home);
    return ok || fail(out, n);
}

bool sip_uri_user_at(char *out, size_t n, const char *user, const char *host, int port)
{
    char esc[256];
    if (!host || !*host || !sip_uri_escape_user(esc, sizeof esc, user))
        return fail(out, n);
    int len = port > 0 ? snprintf(out, n, "sip:%s@%s:%d", esc, host, port)
                       : snprintf(out, n, "sip:%s@%s", esc, host);
    if (len < 0 || (size_t)len >= n || !uri_text_ok(out))
        return fail(out, n);
    return true;
}

bool sip_uri_name_addr(char *out, size_t n, const char *display, const char *uri)
{
    if (!uri || !*uri || !uri_text_ok(uri))
        return fail(out, n);
    char name[DISPLAY_MAX + 1];
    size_t j = 0;
    for (const char *p = display ? display : ""; *p && j < DISPLAY_MAX; p++) {
        unsigned char ch = (unsigned char)*p;
        name[j++] = ch < ' ' || ch == 0x7f ? ' ' : (char)ch;
    }
    if (display && display[j]) {
        /* Cut short: not inside a UTF-8 sequence (the last one may go whole). */
        while (j > 0 && ((unsigned char)name[j - 1] & 0xC0) == 0x80)
            j--;
        if (j > 0 && ((unsigned char)name[j - 1] & 0xC0) == 0xC0)
            j--;
    }
    while (j > 0 && name[j - 1] == ' ')
        j--;
    name[j] = '\0';
    size_t start = strspn(name, " ");
    size_t len = strlen(uri) + 2;   /* <uri> */
    if (!name[start]) {
        if (len >= n)
            return fail(out, n);
        out[0] = '<';   /* fits: checked above */
        memcpy(out + 1, uri, len - 2);
        memcpy(out + len - 1, ">", 2);
        return true;
    }
    issize_t qlen = msg_unquoted_e(NULL, 0, name + start);
    if (qlen <= 0 || (size_t)qlen + 1 + len >= n)
        return fail(out, n);
    msg_unquoted_e(out, (isize_t)n, name + start);
    char *at = out + qlen;   /* " <uri>" fits: checked above */
    at[0] = ' ';
    at[1] = '<';
    memcpy(at + 2, uri, len - 2);
    memcpy(at + len, ">", 2);
    return true;
}
