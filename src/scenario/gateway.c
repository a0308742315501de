/* gateway.c — a gateway's number_pattern: compiled at load (an invalid
 * pattern is a FILE:LINE:COL error), matched before a number is sent
 * through the gateway. The number is usually rendered from something the
 * caller controls (the called number, a SIP header, an HTTP answer), so the
 * pattern is anchored at both ends whatever the author wrote: "1@evil.example"
 * must not pass a pattern like "[0-9]+" because it starts with a digit. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>

#include "scenario/compile_int.h"

/* A hostile number must not make a careless pattern backtrack for long. */
#define NUMBER_MATCH_LIMIT 100000
#define NUMBER_HEAP_LIMIT_KIB 1024

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

bool scn_gateway_number_ok(const scn_gateway *g, const char *number)
{
    if (!g || !g->number_re || !number)
        return false;
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    int rc = PCRE2_ERROR_NOMEMORY;
    if (md && mc) {
        pcre2_set_match_limit(mc, NUMBER_MATCH_LIMIT);
        pcre2_set_heap_limit(mc, NUMBER_HEAP_LIMIT_KIB);
        rc = pcre2_match(g->number_re, (PCRE2_SPTR)number, strlen(number), 0, 0, md, mc);
    }
    pcre2_match_context_free(mc);
    pcre2_match_data_free(md);
    return rc >= 0;   /* no match, a limit or no memory: not sent */
}
