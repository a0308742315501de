/* test_sip_in_parse.c — what callroute takes from an incoming INVITE once
 * sofia-sip has parsed it (src/telephony/sip/sip_in_parse.c): the headers
 * scenarios see as sip.header.*, display names unquoted, the caller from
 * From or, from a trusted gateway only, P-Asserted-Identity, the callee
 * from the Request-URI; messages straight from RFC 4475 and hostile ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip_extra.h>

#include "telephony/sip/sip_in_parse.h"

static msg_t *msg;

/* TEXT parsed as the SIP driver's stack parses it (extra headers such as
 * P-Asserted-Identity included). */
static const sip_t *parse(const char *text)
{
    if (msg)
        msg_destroy(msg);
    msg = msg_make(sip_default_mclass(), 0, text, (isize_t)strlen(text));
    assert_non_null(msg);
    const sip_t *sip = sip_object(msg);
    assert_non_null(sip);
    assert_non_null(sip->sip_request);
    return sip;
}

static int setup(void **state)
{
    (void)state;
    sip_update_default_mclass(sip_extend_mclass(NULL));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (msg)
        msg_destroy(msg);
    msg = NULL;
    return 0;
}

#define HEAD(ruri) "INVITE " ruri " SIP/2.0\r\n" \
    "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n" \
    "To: <sip:100@192.0.2.2>\r\nCall-ID: t1@192.0.2.1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"

static const char *value_of(const sip_in_headers *h, const char *name)
{
    for (size_t i = 0; i < h->count; i++)
        if (strcmp(h->names[i], name) == 0)
            return h->values[i];
    return NULL;
}

/* RFC 4475 3.1.1.1 (wsinv), adapted only in its top Via: folding, compact
 * forms, odd case and LWS everywhere. */
static const char wsinv[] =
    "INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0\r\n"
    "TO :\r\n sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n\r\n"
    "from   : \"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8\r\n"
    "MaX-fOrWaRdS: 0068\r\n"
    "Call-ID: wsinv.ndaksdj@192.0.2.1\r\n"
    "Content-Length   : 150\r\n"
    "cseq: 0009\r\n  INVITE\r\n"
    "Via  : SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw\r\n"
    "s :\r\n"
    "NewFangledHeader:   newfangled value\r\n continued newfangled value\r\n"
    "UnknownHeaderWithUnusualValue: ;;,,;;,;\r\n"
    "Content-Type: application/sdp\r\n"
    "Route:\r\n <sip:services.example.com;lr;unknownwith=value;unknown-no-value>\r\n"
    "v:  SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  ,\r\n"
    " SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239\r\n"
    "m:\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =\r\n      newvalue ;\r\n"
    "  secondparam ; q = 0.33\r\n"
    "\r\n"
    "v=0\r\no=mhandley 29739 7272939 IN IP4 192.0.2.3\r\ns=-\r\nc=IN IP4 192.0.2.4\r\n"
    "t=0 0\r\nm=audio 49217 RTP/AVP 0 12\r\nm=video 3227 RTP/AVP 31\r\na=rtpmap:31 LPC\r\n";

static void test_headers_in_order_canonical(void **state)
{
    (void)state;
    const sip_t *sip = parse(wsinv);
    sip_in_headers h;
    sip_in_collect_headers(sip, NULL, NULL, &h);
    /* every header once per value, the request line and the body left out */
    assert_int_equal(h.count, 15);
    assert_string_equal(h.names[0], "To");
    assert_string_equal(h.values[0], "sip:vivekg@chair-dnrc.example.com;tag=1918181833n");
    assert_string_equal(h.names[1], "From");
    assert_string_equal(h.values[1], "\"J Rosenberg \\\\\\\"\" <sip:jdrosen@example.com>;tag=98asjd8");
    assert_string_equal(value_of(&h, "Max-Forwards"), "68");
    assert_string_equal(value_of(&h, "CSeq"), "9 INVITE");
    assert_string_equal(value_of(&h, "Subject"), "");
    assert_string_equal(value_of(&h, "UnknownHeaderWithUnusualValue"), ";;,,;;,;");
    /* folded: one space (RFC 3261 7.3.1), no CR/LF for a scenario to pass on */
    assert_string_equal(value_of(&h, "NewFangledHeader"), "newfangled value continued newfangled value");
    assert_string_equal(value_of(&h, "Contact"),
                        "\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com>;newparam=newvalue;secondparam;q=0.33");
    size_t vias = 0;
    for (size_t i = 0; i < h.count; i++) {
        vias += strcmp(h.names[i], "Via") == 0;
        assert_string_not_equal(h.names[i], "v=0");
        assert_null(strstr(h.values[i], "m=audio"));
    }
    assert_int_equal(vias, 3);   /* v: holds two values: each one is a header */
}

/* An INVITE with 60 headers X-H0: v0 ... X-H59: v59 after From, into TEXT. */
static void sixty_headers(char *text, size_t size)
{
    size_t n = (size_t)snprintf(text, size, "%s", HEAD("sip:100@192.0.2.2") "From: <sip:1@x>;tag=a\r\n");
    for (int i = 0; i < 60; i++)
        n += (size_t)snprintf(text + n, size - n, "X-H%d: v%d\r\n", i, i);
    snprintf(text + n, size - n, "Content-Length: 0\r\n\r\n");
}

static void test_header_limits(void **state)
{
    (void)state;
    /* 60 headers: the first SIP_IN_MAX_HEADERS are kept */
    char text[8192];
    sixty_headers(text, sizeof text);
    sip_in_headers h;
    sip_in_collect_headers(parse(text), NULL, NULL, &h);
    assert_int_equal(h.count, SIP_IN_MAX_HEADERS);
    assert_string_equal(h.names[SIP_IN_MAX_HEADERS - 1], "X-H41");   /* after the 6 known ones */

    /* values that do not all fit in the buffer: the ones that fit, whole */
    static char big[40000];
    static char line[3000];
    memset(line, 'a', sizeof line - 1);
    line[sizeof line - 1] = '\0';
    size_t n = (size_t)snprintf(big, sizeof big, "%s", HEAD("sip:100@192.0.2.2") "From: <sip:1@x>;tag=a\r\n");
    for (int i = 0; i < 10; i++)
        n += (size_t)snprintf(big + n, sizeof big - n, "X-Big%d: %s\r\n", i, line);
    snprintf(big + n, sizeof big - n, "Content-Length: 0\r\n\r\n");
    sip_in_collect_headers(parse(big), NULL, NULL, &h);
    assert_true(h.count >= 6 && h.count < 18);
    for (size_t i = 0; i < h.count; i++) {
        assert_true(h.values[i] >= h.buf && h.values[i] + strlen(h.values[i]) < h.buf + sizeof h.buf);
        if (strncmp(h.names[i], "X-Big", 5) == 0)
            assert_int_equal(strlen(h.values[i]), sizeof line - 1);
    }
}

/* A program that reads X-H3, X-H41 and X-H50 (strcasecmp: as
 * scn_program_reads_header matches). */
static bool wants_three(void *arg, const char *name)
{
    int *asked = arg;
    (*asked)++;
    return strcasecmp(name, "x-h3") == 0 || strcasecmp(name, "X-H41") == 0 || strcasecmp(name, "X-H50") == 0;
}

static void test_headers_wanted_only(void **state)
{
    (void)state;
    char text[8192];
    sixty_headers(text, sizeof text);
    sip_in_headers h;
    int asked = 0;
    sip_in_collect_headers(parse(text), wants_three, &asked, &h);
    /* Only the wanted ones, and of the same first SIP_IN_MAX_HEADERS as
     * when all are kept: X-H50 is past them, as it is then. */
    assert_int_equal(asked, SIP_IN_MAX_HEADERS);
    assert_int_equal(h.count, 2);
    assert_string_equal(h.names[0], "X-H3");
    assert_string_equal(h.values[0], "v3");
    assert_string_equal(h.names[1], "X-H41");
    assert_string_equal(h.values[1], "v41");
    /* nothing of the unwanted ones in the buffer */
    assert_ptr_equal(h.values[0], h.buf);
    assert_ptr_equal(h.values[1], h.buf + sizeof "v3");
}

static void test_unquote(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"\"J Rosenberg \\\\\\\"\"", "J Rosenberg \\\""},   /* RFC 4475 wsinv */
        {"\"Quoted string \\\"\\\"\"", "Quoted string \"\""},
        {"Bob", "Bob"},                                       /* token display names as they are */
        {"\"\"", ""},
        {"\"", "\""},                                         /* one quote is no quoted string */
        {"\"a\\\"", "a\\"},                                    /* a final backslash stays */
        {"\"x\" y\"", "x\" y"},
        {"%Z%45", "%Z%45"},                                   /* RFC 4475 esc02: no %-unescaping */
        {"\"Line\r\n\t folded\"", "Line folded"},              /* folding is one space */
        {"\"a\rb\nc\r\n\"", "a b c"},                             /* no CR/LF left at all */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *r = sip_in_unquote(cases[i].in);
        assert_non_null(r);
        assert_string_equal(r, cases[i].out);
        free(r);
    }
    assert_null(sip_in_unquote(NULL));
}

static void test_parties_from_and_request_uri(void **state)
{
    (void)state;
    sip_in_parties p;
    sip_in_parties_get(parse(wsinv), false, &p);
    assert_string_equal(p.caller, "jdrosen");
    assert_string_equal(p.caller_name, "J Rosenberg \\\"");
    assert_string_equal(p.callee, "vivekg");
    sip_in_parties_free(&p);
    assert_null(p.caller);

    /* no display name: NULL for an addr-spec, "" for <URI>; a
     * Request-URI without a user: "" */
    sip_in_parties_get(parse(HEAD("sip:192.0.2.2") "From: sip:5551234@192.0.2.1;tag=a\r\n"
                                                     "Content-Length: 0\r\n\r\n"),
                       false, &p);
    assert_string_equal(p.caller, "5551234");
    assert_null(p.caller_name);
    assert_string_equal(p.callee, "");
    sip_in_parties_free(&p);
    sip_in_parties_get(parse(HEAD("sip:192.0.2.2") "From: <sip:5551234@192.0.2.1>;tag=a\r\n"
                                                     "Content-Length: 0\r\n\r\n"),
                       false, &p);
    assert_string_equal(p.caller_name, "");
    sip_in_parties_free(&p);

    /* RFC 4475 esc01: escapes that must stay escaped are kept */
    sip_in_parties_get(parse(HEAD("sip:sips%3Auser%40example.com@example.net")
                             "From: <sip:I%20have%20spaces@example.net>;tag=938\r\n"
                             "Content-Length: 0\r\n\r\n"),
                       false, &p);
    assert_string_equal(p.caller, "I%20have%20spaces");
    assert_string_equal(p.callee, "sips%3Auser%40example.com");
    sip_in_parties_free(&p);
}

/* Found by fuzz_sip_msg: sofia keeps a URI folded inside <...> with its
 * CRLF in the user part, which then was caller_number (and the log line). */
static void test_parties_folded_uri(void **state)
{
    (void)state;
    sip_in_parties p;
    sip_in_parties_get(parse(HEAD("sip:100@192.0.2.2")
                             "From: \"Bell\" <sip:a.\r\n g.bell@example.com>;tag=630214\r\n"
                             "P-Asserted-Identity: <sip:55\r\n\t51@192.0.2.1>\r\n"
                             "Content-Length: 0\r\n\r\n"),
                       true, &p);
    assert_string_equal(p.caller, "55 51");
    sip_in_parties_free(&p);
    sip_in_parties_get(parse(HEAD("sip:100@192.0.2.2")
                             "From: \"Bell\" <sip:a.\r\n g.bell@example.com>;tag=630214\r\n"
                             "Content-Length: 0\r\n\r\n"),
                       false, &p);
    assert_null(strpbrk(p.caller, "\r\n"));
    assert_string_equal(p.caller, "a. g.bell");
    sip_in_parties_free(&p);
}

static void test_parties_asserted_identity_only_when_trusted(void **state)
{
    (void)state;
    const char *text = HEAD("sip:100@192.0.2.2")
        "From: \"Mallory\" <sip:666@192.0.2.1>;tag=a\r\n"
        "P-Asserted-Identity: \"Alice \\\"A\\\"\" <sip:+15551000@192.0.2.1>\r\n"
        "Content-Length: 0\r\n\r\n";
    sip_in_parties p;
    sip_in_parties_get(parse(text), false, &p);
    assert_string_equal(p.caller, "666");   /* anyone could assert anything */
    assert_string_equal(p.caller_name, "Mallory");
    sip_in_parties_free(&p);
    sip_in_parties_get(parse(text), true, &p);
    assert_string_equal(p.caller, "+15551000");
    assert_string_equal(p.caller_name, "Alice \"A\"");
    sip_in_parties_free(&p);

    /* an asserted identity without a display name takes From's */
    sip_in_parties_get(parse(HEAD("sip:100@192.0.2.2")
                             "From: \"Bob\" <sip:101@192.0.2.1>;tag=a\r\n"
                             "P-Asserted-Identity: <sip:+15552000@192.0.2.1>\r\n"
                             "Content-Length: 0\r\n\r\n"),
                       true, &p);
    assert_string_equal(p.caller, "+15552000");
    assert_string_equal(p.caller_name, "Bob");
    sip_in_parties_free(&p);

    /* a tel: URI's number is its user part; an asserted identity without
     * one leaves the caller to From */
    sip_in_parties_get(parse(HEAD("sip:100@192.0.2.2")
                             "From: \"Bob\" <sip:101@192.0.2.1>;tag=a\r\n"
                             "P-Asserted-Identity: <tel:+15552000>\r\n"
                             "Content-Length: 0\r\n\r\n"),
                       true, &p);
    assert_string_equal(p.caller, "+15552000");
    sip_in_parties_free(&p);
    sip_in_parties_get(parse(HEAD("sip:100@192.0.2.2")
                             "From: \"Bob\" <sip:101@192.0.2.1>;tag=a\r\n"
                             "P-Asserted-Identity: <sip:192.0.2.1>\r\n"
                             "Content-Length: 0\r\n\r\n"),
                       true, &p);
    assert_string_equal(p.caller, "101");
    assert_string_equal(p.caller_name, "Bob");
    sip_in_parties_free(&p);
}

static void test_parties_missing_from(void **state)
{
    (void)state;
    /* the stack answers 400 before callroute sees this; still no crash */
    sip_in_parties p;
    sip_in_parties_get(parse(HEAD("sip:100@192.0.2.2") "Content-Length: 0\r\n\r\n"), true, &p);
    assert_string_equal(p.caller, "");
    assert_null(p.caller_name);
    assert_string_equal(p.callee, "100");
    sip_in_parties_free(&p);
}

/* What callroute cannot use: a body of another type than SDP (RFC 4475
 * 3.3.6 invut: 415), an Accept without SDP (3.3.15 sdp01: 406). */
static void test_body_check(void **state)
{
    (void)state;
#define SDP_BODY "v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
#define WITH(headers, body) HEAD("sip:100@192.0.2.2") "From: <sip:1@x>;tag=a\r\n" headers "\r\n" body
    char text[1024];
    snprintf(text, sizeof text, WITH("Content-Type: application/sdp\r\nContent-Length: %zu\r\n", SDP_BODY),
             strlen(SDP_BODY));
    assert_int_equal(sip_in_body_check(parse(text)), 0);
    snprintf(text, sizeof text, WITH("Content-Type: Application/SDP\r\nContent-Length: %zu\r\n", SDP_BODY),
             strlen(SDP_BODY));
    assert_int_equal(sip_in_body_check(parse(text)), 0);
    snprintf(text, sizeof text, WITH("Content-Length: %zu\r\n", SDP_BODY), strlen(SDP_BODY));
    assert_int_equal(sip_in_body_check(parse(text)), 0);   /* no type: read as SDP, as phones mean */
    assert_int_equal(sip_in_body_check(parse(WITH("Content-Length: 0\r\n", ""))), 0);   /* no offer */
    assert_int_equal(sip_in_body_check(parse(WITH("Content-Type: application/unknownformat\r\n"
                                                  "Content-Length: 40\r\n",
                                                  "<audio>\r\n <pcmu port=\"443\"/>\r\n</audio>\r\n"))),
                     415);
    assert_int_equal(sip_in_body_check(parse(WITH("Content-Type: multipart/mixed;boundary=x\r\n"
                                                  "Content-Length: 4\r\n", "--x\n"))),
                     415);
    /* a type without a body is no body */
    assert_int_equal(sip_in_body_check(parse(WITH("Content-Type: text/plain\r\nContent-Length: 0\r\n", ""))), 0);

    assert_int_equal(sip_in_body_check(parse(WITH("Accept: text/nobodyKnowsThis\r\nContent-Length: 0\r\n", ""))),
                     406);
    assert_int_equal(sip_in_body_check(parse(WITH("Accept: application/dtmf-relay\r\nAccept: text/plain\r\n"
                                                  "Content-Length: 0\r\n", ""))),
                     406);
    static const char *const fine[] = {"application/sdp", "application/SDP;level=1", "text/plain, application/sdp",
                                       "application/*", "*/*", ""};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        snprintf(text, sizeof text, WITH("Accept: %s\r\nContent-Length: 0\r\n", ""), fine[i]);
        assert_int_equal(sip_in_body_check(parse(text)), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_headers_in_order_canonical, teardown),
        cmocka_unit_test_teardown(test_header_limits, teardown),
        cmocka_unit_test_teardown(test_headers_wanted_only, teardown),
        cmocka_unit_test(test_unquote),
        cmocka_unit_test_teardown(test_parties_from_and_request_uri, teardown),
        cmocka_unit_test_teardown(test_parties_folded_uri, teardown),
        cmocka_unit_test_teardown(test_parties_asserted_identity_only_when_trusted, teardown),
        cmocka_unit_test_teardown(test_parties_missing_from, teardown),
        cmocka_unit_test_teardown(test_body_check, teardown),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
