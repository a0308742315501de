/* test_sip_dialog.c — the NTA core's dialog record
 * (src/telephony/sip/sip_dialog.c): built from an INVITE we answer (UAS)
 * or from our INVITE and its 2xx (UAC) as RFC 3261 12.1 says — tags, CSeq,
 * route set in order or reversed, remote target —, matching in-dialog
 * requests, CSeq ordering (12.2.2), and hostile or missing fields refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip_header.h>

#include "telephony/sip/sip_dialog.h"
#include "telephony/sip/sip_int.h"

static msg_t *msgs[16];
static int nmsgs;

static const sip_t *parse(const char *text)
{
    msg_t *m = msg_make(sip_default_mclass(), 0, text, (isize_t)strlen(text));
    assert_non_null(m);
    msgs[nmsgs++] = m;
    const sip_t *sip = sip_object(m);
    assert_non_null(sip);
    return sip;
}

static int teardown(void **state)
{
    (void)state;
    while (nmsgs)
        msg_destroy(msgs[--nmsgs]);
    return 0;
}

#define INVITE_HEAD                                                                 \
    "INVITE sip:100@192.0.2.2 SIP/2.0\r\n"                                          \
    "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"                                \
    "From: \"Alice\" <sip:alice@192.0.2.1>;tag=a1;x=y\r\n"                          \
    "To: <sip:100@192.0.2.2>\r\n"                                                   \
    "Call-ID: c1@192.0.2.1\r\nCSeq: 7 INVITE\r\nMax-Forwards: 70\r\n"

static void test_uas_from_invite(void **state)
{
    (void)state;
    const sip_t *inv = parse(INVITE_HEAD "Contact: <sip:alice@192.0.2.1:5070;transport=udp>\r\n"
                                         "Record-Route: <sip:p1.example;lr>, <sip:p2.example;lr>\r\n"
                                         "Record-Route: <sip:p3.example;lr>\r\nContent-Length: 0\r\n\r\n");
    sip_dialog dl;
    assert_int_equal(sip_dialog_uas(&dl, inv, "b2"), 0);
    assert_string_equal(dl.call_id, "c1@192.0.2.1");
    assert_string_equal(dl.local, "<sip:100@192.0.2.2>");
    /* the remote's other parameters are not the dialog's */
    assert_string_equal(dl.remote, "\"Alice\" <sip:alice@192.0.2.1>");
    char buf[SIP_DIALOG_MAX];
    assert_string_equal(sip_dialog_from(&dl, buf), "<sip:100@192.0.2.2>;tag=b2");
    assert_string_equal(sip_dialog_to(&dl, buf), "\"Alice\" <sip:alice@192.0.2.1>;tag=a1");
    assert_string_equal(dl.local_tag, "b2");
    assert_string_equal(dl.remote_tag, "a1");
    assert_string_equal(dl.target, "sip:alice@192.0.2.1:5070;transport=udp");
    /* UAS: the route set is Record-Route in order (12.1.1) */
    assert_string_equal(dl.route, "<sip:p1.example;lr>, <sip:p2.example;lr>, <sip:p3.example;lr>");
    assert_string_equal(dl.next_hop, "sip:p1.example;lr");
    assert_int_equal(dl.remote_cseq, 7);
    assert_int_equal(sip_dialog_next_cseq(&dl), 1);
    assert_int_equal(sip_dialog_next_cseq(&dl), 2);
    sip_dialog_free(&dl);
    assert_null(dl.text);
}

static void test_uas_no_route_set(void **state)
{
    (void)state;
    const sip_t *inv = parse(INVITE_HEAD "Contact: <sip:alice@192.0.2.1>\r\nContent-Length: 0\r\n\r\n");
    sip_dialog dl;
    assert_int_equal(sip_dialog_uas(&dl, inv, "b2"), 0);
    assert_string_equal(dl.route, "");
    assert_string_equal(dl.next_hop, "sip:alice@192.0.2.1");
    /* Nothing written twice (a held call keeps two records): the next hop
     * without a route set is the target; an address is kept without
     * ";tag=", its tag right after it. The record is the five strings
     * with their NULs and nothing else. */
    assert_ptr_equal(dl.next_hop, dl.target);
    assert_ptr_equal(dl.local_tag, dl.local + strlen(dl.local) + 1);
    assert_ptr_equal(dl.remote_tag, dl.remote + strlen(dl.remote) + 1);
    assert_ptr_equal(dl.route, dl.target + strlen(dl.target) + 1);
    assert_int_equal((size_t)(dl.route - dl.text) + 1,
                     strlen("c1@192.0.2.1") + 1 + strlen("\"Alice\" <sip:alice@192.0.2.1>") + 1 + 3 +
                         strlen("<sip:100@192.0.2.2>") + 1 + 3 + strlen("sip:alice@192.0.2.1") + 1 + 1);
    sip_dialog_free(&dl);
}

/* A Call-ID the caller keeps (a leg's) is the dialog's, not copied into
 * its text; one that is not the message's is copied. */
static void test_keyed_call_id(void **state)
{
    (void)state;
    const sip_t *inv = parse(INVITE_HEAD "Contact: <sip:alice@192.0.2.1>\r\nContent-Length: 0\r\n\r\n");
    char kept[] = "c1@192.0.2.1", other[] = "c2@192.0.2.1";
    sip_dialog dl;
    assert_int_equal(sip_dialog_uas_keyed(&dl, inv, "b2", kept), 0);
    assert_ptr_equal(dl.call_id, kept);
    assert_true(dl.call_id < dl.text || dl.call_id > dl.text + 4096);
    assert_string_equal(dl.local, "<sip:100@192.0.2.2>");
    assert_string_equal(dl.local_tag, "b2");
    assert_true(sip_dialog_matches(&dl, parse("BYE sip:100@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1\r\n"
                                              "From: <sip:alice@192.0.2.1>;tag=a1\r\nTo: <sip:100@192.0.2.2>;tag=b2\r\n"
                                              "Call-ID: c1@192.0.2.1\r\nCSeq: 8 BYE\r\nContent-Length: 0\r\n\r\n")));
    sip_dialog_free(&dl);
    assert_int_equal(sip_dialog_uas_keyed(&dl, inv, "b2", other), 0);
    assert_ptr_equal(dl.call_id, dl.text);
    assert_string_equal(dl.call_id, "c1@192.0.2.1");
    sip_dialog_free(&dl);
}

/* An RFC 2543 caller (RFC 4475 3.4.1): no From tag, no Contact. The remote
 * tag is null (RFC 3261 12.1.1) and the From address is the remote target;
 * a request without a From tag is in the dialog, one with a tag is not. */
static void test_uas_rfc2543(void **state)
{
    (void)state;
    sip_dialog dl;
    const char *head = "INVITE sip:100@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1\r\n"
                       "From: <sip:alice@192.0.2.1:5062>\r\nTo: <sip:100@192.0.2.2>\r\n"
                       "Call-ID: c2543\r\nCSeq: 56 INVITE\r\nContent-Length: 0\r\n\r\n";
    assert_int_equal(sip_dialog_uas(&dl, parse(head), "b2"), 0);
    assert_string_equal(dl.remote_tag, "");
    assert_string_equal(dl.remote, "<sip:alice@192.0.2.1:5062>");
    char buf[SIP_DIALOG_MAX];
    assert_string_equal(sip_dialog_to(&dl, buf), "<sip:alice@192.0.2.1:5062>");   /* no ";tag=" */
    assert_string_equal(dl.target, "sip:alice@192.0.2.1:5062");
    const sip_t *bye = parse("BYE sip:100@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1\r\n"
                             "From: <sip:alice@192.0.2.1:5062>\r\nTo: <sip:100@192.0.2.2>;tag=b2\r\n"
                             "Call-ID: c2543\r\nCSeq: 57 BYE\r\nContent-Length: 0\r\n\r\n");
    assert_true(sip_dialog_matches(&dl, bye));
    const sip_t *tagged = parse("BYE sip:100@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1\r\n"
                                "From: <sip:alice@192.0.2.1:5062>;tag=x\r\nTo: <sip:100@192.0.2.2>;tag=b2\r\n"
                                "Call-ID: c2543\r\nCSeq: 57 BYE\r\nContent-Length: 0\r\n\r\n");
    assert_false(sip_dialog_matches(&dl, tagged));
    sip_dialog_free(&dl);
}

static void test_uas_refused(void **state)
{
    (void)state;
    sip_dialog dl;
    /* a Contact that is not a SIP URI */
    assert_int_equal(sip_dialog_uas(&dl, parse(INVITE_HEAD "Contact: <tel:+123>\r\nContent-Length: 0\r\n\r\n"), "b2"),
                     400);
    assert_null(dl.text);
    /* a folded Contact: sofia keeps its CRLF inside the URI, which would
     * split our Request-URI (found by tests/fuzz/fuzz_sip_dialog.c) */
    assert_int_equal(sip_dialog_uas(&dl, parse(INVITE_HEAD "Contact: <sip:a@192.0.2.\r\n 1>\r\nContent-Length: 0\r\n\r\n"),
                                    "b2"),
                     400);
    assert_null(dl.text);
    /* a tag of ours that could break a header */
    const sip_t *ok = parse(INVITE_HEAD "Contact: <sip:alice@192.0.2.1>\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(sip_dialog_uas(&dl, ok, "b2\r\nX: y"), 400);
}

static void test_uas_too_long(void **state)
{
    (void)state;
    /* 40 Record-Routes: more than the route set keeps */
    char text[8192];
    size_t n = (size_t)snprintf(text, sizeof text, "%s", INVITE_HEAD "Contact: <sip:alice@192.0.2.1>\r\n");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "Record-Route: <sip:p%d.example;lr>\r\n", i);
    snprintf(text + n, sizeof text - n, "Content-Length: 0\r\n\r\n");
    sip_dialog dl;
    assert_int_equal(sip_dialog_uas(&dl, parse(text), "b2"), 400);
    assert_null(dl.text);
}

static void test_uac_from_2xx(void **state)
{
    (void)state;
    const sip_t *req = parse("INVITE sip:1000@192.0.2.9:5080 SIP/2.0\r\n"
                             "Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK2\r\n"
                             "From: <sip:alice@192.0.2.2>;tag=ours\r\nTo: <sip:1000@192.0.2.9:5080>\r\n"
                             "Call-ID: out1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
    const sip_t *ok = parse("SIP/2.0 200 OK\r\n"
                            "Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK2\r\n"
                            "From: <sip:alice@192.0.2.2>;tag=ours\r\nTo: <sip:1000@192.0.2.9:5080>;tag=theirs\r\n"
                            "Call-ID: out1\r\nCSeq: 1 INVITE\r\nContact: <sip:1000@192.0.2.9:5090>\r\n"
                            "Record-Route: <sip:q1.example;lr>, <sip:q2.example;lr>\r\nContent-Length: 0\r\n\r\n");
    sip_dialog dl;
    assert_int_equal(sip_dialog_uac(&dl, req, ok), 0);
    char buf[SIP_DIALOG_MAX];
    assert_string_equal(sip_dialog_from(&dl, buf), "<sip:alice@192.0.2.2>;tag=ours");
    assert_string_equal(sip_dialog_to(&dl, buf), "<sip:1000@192.0.2.9:5080>;tag=theirs");
    assert_string_equal(dl.remote_tag, "theirs");
    assert_string_equal(dl.target, "sip:1000@192.0.2.9:5090");
    /* UAC: the route set is Record-Route reversed (12.1.2) */
    assert_string_equal(dl.route, "<sip:q2.example;lr>, <sip:q1.example;lr>");
    assert_string_equal(dl.next_hop, "sip:q2.example;lr");
    /* the BYE after the INVITE's CSeq 1 */
    assert_int_equal(sip_dialog_next_cseq(&dl), 2);
    sip_dialog_free(&dl);

    /* a 2xx without a To tag makes no dialog */
    const sip_t *untagged = parse("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK2\r\n"
                                  "From: <sip:alice@192.0.2.2>;tag=ours\r\nTo: <sip:1000@192.0.2.9:5080>\r\n"
                                  "Call-ID: out1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(sip_dialog_uac(&dl, req, untagged), -1);

    /* a tab in a quoted display name is whitespace of the header (a
     * gateway naming who answered sent one: tests/sip agent_name), not a
     * control character that splits a line */
    const sip_t *named = parse("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK2\r\n"
                               "From: <sip:alice@192.0.2.2>;tag=ours\r\n"
                               "To: \"Sales \\\"Desk\\\" 7\t\" <sip:1000@192.0.2.9:5080>;tag=theirs\r\n"
                               "Call-ID: out1\r\nCSeq: 1 INVITE\r\nContact: <sip:1000@192.0.2.9:5090>\r\n"
                               "Content-Length: 0\r\n\r\n");
    assert_int_equal(sip_dialog_uac(&dl, req, named), 0);
    assert_string_equal(sip_dialog_to(&dl, buf), "\"Sales \\\"Desk\\\" 7\t\" <sip:1000@192.0.2.9:5080>;tag=theirs");
    sip_dialog_free(&dl);
}

static void test_matches_and_cseq(void **state)
{
    (void)state;
    const sip_t *inv = parse(INVITE_HEAD "Contact: <sip:alice@192.0.2.1>\r\nContent-Length: 0\r\n\r\n");
    sip_dialog dl;
    assert_int_equal(sip_dialog_uas(&dl, inv, "b2"), 0);
#define BYE(cseq, ftag, ttag)                                                                      \
    "BYE sip:100@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK9\r\n"              \
    "From: <sip:alice@192.0.2.1>;tag=" ftag "\r\nTo: <sip:100@192.0.2.2>;tag=" ttag "\r\n"         \
    "Call-ID: c1@192.0.2.1\r\nCSeq: " cseq " BYE\r\nContent-Length: 0\r\n\r\n"
    const sip_t *bye = parse(BYE("8", "a1", "b2"));
    assert_true(sip_dialog_matches(&dl, bye));
    assert_false(sip_dialog_matches(&dl, parse(BYE("8", "a1", "zz"))));   /* another dialog: 481 */
    assert_false(sip_dialog_matches(&dl, inv));                           /* no To tag */
    assert_int_equal(sip_dialog_request_in(&dl, bye), 0);
    assert_int_equal(dl.remote_cseq, 8);
    sip_dialog_free(&dl);
    teardown(NULL);

    inv = parse(INVITE_HEAD "Contact: <sip:alice@192.0.2.1>\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(sip_dialog_uas(&dl, inv, "b2"), 0);
    /* lower than the INVITE's 7: out of order */
    assert_int_equal(sip_dialog_request_in(&dl, parse(BYE("3", "a1", "b2"))), 500);
    assert_int_equal(dl.remote_cseq, 7);
    sip_dialog_free(&dl);
}

/* A target refresh (a SUBSCRIBE's refresh, RFC 6665 4.1.2.2) moves the
 * target, and the next hop only without a route set; the route set and
 * the CSeqs stay; a Contact that is no SIP URI leaves the dialog as it was. */
static void test_target_refresh(void **state)
{
    (void)state;
    const sip_t *inv = parse(INVITE_HEAD "Contact: <sip:alice@192.0.2.1>\r\nContent-Length: 0\r\n\r\n");
    sip_dialog dl;
    assert_int_equal(sip_dialog_uas(&dl, inv, "b2"), 0);
    (void)sip_dialog_next_cseq(&dl);
#define REFRESH(contact)                                                                          \
    "SUBSCRIBE sip:100@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK9\r\n"        \
    "From: <sip:alice@192.0.2.1>;tag=a1\r\nTo: <sip:100@192.0.2.2>;tag=b2\r\n"                     \
    "Call-ID: c1@192.0.2.1\r\nCSeq: 9 SUBSCRIBE\r\n" contact "Content-Length: 0\r\n\r\n"
    assert_int_equal(sip_dialog_target_refresh(&dl, parse(REFRESH("Contact: <sip:alice@198.51.100.7:5062>\r\n"))), 0);
    assert_string_equal(dl.target, "sip:alice@198.51.100.7:5062");
    assert_string_equal(dl.next_hop, "sip:alice@198.51.100.7:5062");
    assert_string_equal(dl.remote, "\"Alice\" <sip:alice@192.0.2.1>");
    assert_string_equal(dl.remote_tag, "a1");
    assert_string_equal(dl.local_tag, "b2");
    assert_int_equal(dl.remote_cseq, 7);
    assert_int_equal(sip_dialog_next_cseq(&dl), 2);
    assert_int_equal(sip_dialog_target_refresh(&dl, parse(REFRESH(""))), 0);   /* no Contact: stays */
    assert_string_equal(dl.target, "sip:alice@198.51.100.7:5062");
    assert_int_equal(sip_dialog_target_refresh(&dl, parse(REFRESH("Contact: <tel:+123>\r\n"))), 400);
    assert_string_equal(dl.target, "sip:alice@198.51.100.7:5062");
    sip_dialog_free(&dl);
    teardown(NULL);

    inv = parse(INVITE_HEAD "Contact: <sip:alice@192.0.2.1>\r\nRecord-Route: <sip:p1.example;lr>\r\n"
                            "Content-Length: 0\r\n\r\n");
    assert_int_equal(sip_dialog_uas(&dl, inv, "b2"), 0);
    assert_int_equal(sip_dialog_target_refresh(&dl, parse(REFRESH("Contact: <sip:alice@198.51.100.7>\r\n"))), 0);
    assert_string_equal(dl.target, "sip:alice@198.51.100.7");
    assert_string_equal(dl.route, "<sip:p1.example;lr>");
    assert_string_equal(dl.next_hop, "sip:p1.example;lr");
    sip_dialog_free(&dl);
}

/* Our tags: 8 characters of [0-9a-v], 40 random bits (RFC 3261 19.3: at
 * least 32), case-insensitive like sofia's comparison; 8 B shorter than 16
 * hex digits, which each dialog record keeps (a 128 B block, not 160, for
 * the bench's calls). Call-IDs: 20 characters, 100 bits. */
static void test_our_tags(void **state)
{
    (void)state;
    char seen[200][SIP_NTA_TAG_CHARS + 1];
    for (int i = 0; i < 200; i++) {
        sip_nta_random_token(seen[i], SIP_NTA_TAG_CHARS);
        assert_int_equal(strlen(seen[i]), 8);
        assert_int_equal(strspn(seen[i], "0123456789abcdefghijklmnopqrstuv"), 8);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(seen[i], seen[j]);
    }
    /* every one of the 32 characters comes up */
    char all[33] = "";
    for (int i = 0; i < 200; i++)
        for (const char *c = seen[i]; *c; c++)
            if (!strchr(all, *c))
                all[strlen(all)] = *c;
    assert_int_equal(strlen(all), 32);
    char id[SIP_NTA_CALL_ID_CHARS + 1];
    sip_nta_random_token(id, SIP_NTA_CALL_ID_CHARS);
    assert_int_equal(strlen(id), 20);
    assert_int_equal(strspn(id, "0123456789abcdefghijklmnopqrstuv"), 20);
}

/* sip_dialog_from/_to write what snprintf("%s;tag=%s") wrote, cut alike
 * at SIP_DIALOG_MAX, for addresses and tags of every length around it. */
static void test_from_to_as_snprintf(void **state)
{
    (void)state;
    static char addr[SIP_DIALOG_MAX + 8], tag[SIP_DIALOG_MAX + 8];
    static const size_t lens[] = {0, 1, 2, 30, 4000, 4089, 4090, 4091, 4094, 4095, 4096, 4100};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
        for (size_t j = 0; j < sizeof lens / sizeof lens[0]; j++) {
            memset(addr, 'a' + (int)(i % 26), lens[i]);
            addr[lens[i]] = '\0';
            memset(tag, 'A' + (int)(j % 26), lens[j]);
            tag[lens[j]] = '\0';
            sip_dialog dl = {.local = addr, .local_tag = tag, .remote = tag, .remote_tag = addr};
            static char ours[SIP_DIALOG_MAX], want[SIP_DIALOG_MAX];
            snprintf(want, sizeof want, *tag ? "%s;tag=%s" : "%s", addr, tag);
            assert_string_equal(sip_dialog_from(&dl, ours), want);
            snprintf(want, sizeof want, *addr ? "%s;tag=%s" : "%s", tag, addr);
            assert_string_equal(sip_dialog_to(&dl, ours), want);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_to_as_snprintf),
        cmocka_unit_test_teardown(test_uas_from_invite, teardown),
        cmocka_unit_test_teardown(test_uas_no_route_set, teardown),
        cmocka_unit_test_teardown(test_keyed_call_id, teardown),
        cmocka_unit_test_teardown(test_uas_refused, teardown),
        cmocka_unit_test_teardown(test_uas_rfc2543, teardown),
        cmocka_unit_test_teardown(test_uas_too_long, teardown),
        cmocka_unit_test_teardown(test_uac_from_2xx, teardown),
        cmocka_unit_test_teardown(test_matches_and_cseq, teardown),
        cmocka_unit_test_teardown(test_target_refresh, teardown),
        cmocka_unit_test(test_our_tags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
