/* gateway.c — a gateway's number_pattern: compiled at load (an invalid
 * pattern is a FILE:LINE:COL error), matched before a number is sent
 * through the gateway. The number is usually rendered from something the
 * caller controls (the called number, a SIP header, an HTTP answer), so the
 * pattern is anchored at both ends whatever the author wrote: "1@evil.example"
 * must not pass a pattern like "[0-9]+" because it starts with a digit.
 * The match itself is cfg_gateway_number_ok (config/telephony.c). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>

#include "scenario/compile_int.h"

static void number_re_release_cb(void *arg)
{
    scn_gateway *g = arg;
    pcre2_code_free(g->number_re);
    g->number_re = NULL;
}

bool scn_gateway_compile_number_pattern(scn_compile_ctx *cx, scn_gateway *g, const scn_node *n)
{
    const char *pattern = n ? n->str : SCN_GATEWAY_NUMBER_PATTERN;
    size_t len = n ? n->len : strlen(pattern);
    int errcode;
    PCRE2_SIZE erroff;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, len,
                                   PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_DOLLAR_ENDONLY |
                                       PCRE2_UTF | PCRE2_MATCH_INVALID_UTF,
                                   &errcode, &erroff, NULL);
    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(errcode, msg, sizeof msg);
        scn_node at = n ? *n : (scn_node){0};
        /* The column is exact only when no escape precedes the offset. */
        if (n && erroff <= n->len && !memchr(n->str, '\n', erroff) && !memchr(n->str, '\\', erroff))
            at.col += (unsigned)erroff + (n->quoted ? 1u : 0u);
        scn_cx_error(cx, n ? &at : NULL, "invalid number_pattern: %s", (const char *)msg);
        return false;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);   /* falls back to the interpreter */
    /* A slot reused after a duplicate gateway name keeps no stale pattern. */
    pcre2_code_free(g->number_re);
    g->number_pattern = pattern;
    g->number_re = re;
    if (cx->prog)
        scn_program_on_release(cx->prog, number_re_release_cb, g);
    return true;
}
