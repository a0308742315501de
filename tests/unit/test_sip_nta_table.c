/* test_sip_nta_table.c — the NTA core's legs by Call-ID
 * (src/telephony/sip/sip_nta_table.c): every leg found again as the table
 * grows past its first 1,024 buckets, removed legs gone and removing twice
 * harmless, two callers' dialogs under one Call-ID told apart by their
 * tags, RFC 3261 8.2.2.2's merged INVITE (same Call-ID and From tag, a
 * live caller) against another caller's, and the hash's secret key drawn
 * for each table, so that Call-IDs that share a chain in one process do
 * not in the next. */
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
#include "telephony/sip/sip_nta_int.h"

enum { MANY = 3000 };

static msg_t *msgs[16];
static int nmsgs;

static const sip_t *parse(const char *text)
{
    msg_t *m = msg_make(sip_default_mclass(), 0, text, (isize_t)strlen(text));
    assert_non_null(m);
    assert_true(nmsgs < (int)(sizeof msgs / sizeof msgs[0]));
    msgs[nmsgs++] = m;
    const sip_t *sip = sip_object(m);
    assert_non_null(sip);
    return sip;
}

/* A leg as the table sees it: a Call-ID (the caller's, or OWN_KEY for one
 * we dialled), its direction, and its NTA state. */
typedef struct {
    sip_leg leg;
    struct sip_nta_leg nl;
    char call_id[64];
} test_leg;

static void leg_init(test_leg *l, const char *call_id, bool outgoing)
{
    memset(l, 0, sizeof *l);
    snprintf(l->call_id, sizeof l->call_id, "%s", call_id);
    l->leg.nta = &l->nl;
    l->leg.outgoing = outgoing;
    if (outgoing)
        l->nl.own_key = l->call_id;
    else
        l->leg.call_id = l->call_id;
}

/* A leg (OUTGOING: one we dialled) whose dialog an INVITE with From tag
 * FROM_TAG made. */
static void leg_with_dialog(test_leg *l, const char *call_id, const char *from_tag, bool outgoing)
{
    char text[512];
    snprintf(text, sizeof text,
             "INVITE sip:100@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK%s\r\n"
             "From: <sip:alice@192.0.2.1>;tag=%s\r\nTo: <sip:100@192.0.2.2>\r\nCall-ID: %s\r\n"
             "CSeq: 1 INVITE\r\nContact: <sip:alice@192.0.2.1>\r\nContent-Length: 0\r\n\r\n",
             from_tag, from_tag, call_id);
    leg_init(l, call_id, outgoing);
    assert_int_equal(sip_dialog_uas(&l->nl.dlg, parse(text), "b2"), 0);
    l->nl.have_dlg = true;
}

static const sip_t *bye(const char *call_id, const char *from_tag, const char *to_tag)
{
    char text[512];
    snprintf(text, sizeof text,
             "BYE sip:100@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKbye\r\n"
             "From: <sip:alice@192.0.2.1>;tag=%s\r\nTo: <sip:100@192.0.2.2>;tag=%s\r\nCall-ID: %s\r\n"
             "CSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
             from_tag, to_tag, call_id);
    return parse(text);
}

static const sip_t *invite(const char *call_id, const char *from_tag)
{
    char text[512];
    snprintf(text, sizeof text,
             "INVITE sip:100@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKother\r\n"
             "From: <sip:alice@192.0.2.1>;tag=%s\r\nTo: <sip:100@192.0.2.2>\r\nCall-ID: %s\r\n"
             "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
             from_tag, call_id);
    return parse(text);
}

static void table_free(struct sip_nta *t, test_leg *legs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (legs[i].nl.have_dlg)
            sip_dialog_free(&legs[i].nl.dlg);
    free(t->buckets);
}

static int teardown(void **state)
{
    (void)state;
    while (nmsgs)
        msg_destroy(msgs[--nmsgs]);
    return 0;
}

static void test_empty(void **state)
{
    (void)state;
    struct sip_nta t = {0};
    assert_null(sip_nta_table_find(&t, "c1@192.0.2.1"));
    assert_null(sip_nta_table_find_dialog(&t, bye("c1@192.0.2.1", "a1", "b2")));
    assert_false(sip_nta_table_merged(&t, invite("c1@192.0.2.1", "a1")));
}

static void test_many_legs(void **state)
{
    (void)state;
    struct sip_nta t = {0};
    test_leg *legs = calloc(MANY, sizeof *legs);
    assert_non_null(legs);
    char id[64];
    for (int i = 0; i < MANY; i++) {
        snprintf(id, sizeof id, "%d-%d@192.0.2.1", i, i * 7919);
        leg_init(&legs[i], id, i % 3 == 0);   /* dialled legs are found by the Call-ID we made */
        sip_nta_table_add(&t, &legs[i].leg);
    }
    assert_int_equal(t.count, MANY);
    assert_true(t.nbuckets >= MANY);   /* grown past the first 1,024, every leg moved */
    size_t longest = 0;
    for (size_t b = 0; b < t.nbuckets; b++) {
        size_t n = 0;
        for (sip_leg *l = t.buckets[b]; l; l = l->nta->hnext)
            n++;
        if (n > longest)
            longest = n;
    }
    assert_true(longest <= 12);   /* 3,000 in 4,096: no chain holds many */
    for (int i = 0; i < MANY; i++)
        assert_ptr_equal(sip_nta_table_find(&t, legs[i].call_id), &legs[i].leg);
    for (int i = 0; i < MANY; i += 2)
        sip_nta_table_remove(&t, &legs[i].leg);
    sip_nta_table_remove(&t, &legs[0].leg);   /* again: no-op */
    assert_int_equal(t.count, MANY / 2);
    for (int i = 0; i < MANY; i++) {
        if (i % 2)
            assert_ptr_equal(sip_nta_table_find(&t, legs[i].call_id), &legs[i].leg);
        else
            assert_null(sip_nta_table_find(&t, legs[i].call_id));
    }
    assert_null(sip_nta_table_find(&t, NULL));
    table_free(&t, legs, MANY);
    free(legs);
}

/* Keys compared whole: in a one-bucket table every lookup meets the leg,
 * so only the comparison can tell a longer or shorter Call-ID from its
 * key. */
static void test_whole_key(void **state)
{
    (void)state;
    struct sip_nta t = {0};
    t.nbuckets = 1;
    t.buckets = calloc(1, sizeof *t.buckets);
    assert_non_null(t.buckets);
    test_leg l;
    leg_init(&l, "c1@192.0.2.1", false);
    sip_nta_table_add(&t, &l.leg);
    assert_int_equal(t.nbuckets, 1);
    assert_ptr_equal(sip_nta_table_find(&t, "c1@192.0.2.1"), &l.leg);
    assert_null(sip_nta_table_find(&t, "c1@192.0.2.1x"));
    assert_null(sip_nta_table_find(&t, "c1@192.0.2."));
    assert_null(sip_nta_table_find(&t, ""));
    free(t.buckets);
}

static void test_two_callers_one_call_id(void **state)
{
    (void)state;
    struct sip_nta t = {0};
    test_leg legs[2];
    leg_with_dialog(&legs[0], "c1@192.0.2.1", "a1", false);
    leg_with_dialog(&legs[1], "c1@192.0.2.1", "z9", false);
    sip_nta_table_add(&t, &legs[0].leg);
    sip_nta_table_add(&t, &legs[1].leg);
    assert_ptr_equal(sip_nta_table_find_dialog(&t, bye("c1@192.0.2.1", "a1", "b2")), &legs[0].leg);
    assert_ptr_equal(sip_nta_table_find_dialog(&t, bye("c1@192.0.2.1", "z9", "b2")), &legs[1].leg);
    /* no dialog matches: the first with the Call-ID, which answers 481 */
    sip_leg *first = sip_nta_table_find_dialog(&t, bye("c1@192.0.2.1", "q7", "b2"));
    assert_true(first == &legs[0].leg || first == &legs[1].leg);
    assert_null(sip_nta_table_find_dialog(&t, bye("c2@192.0.2.1", "a1", "b2")));
    table_free(&t, legs, 2);
}

static void test_merged(void **state)
{
    (void)state;
    struct sip_nta t = {0};
    test_leg legs[2];
    leg_with_dialog(&legs[0], "c1@192.0.2.1", "a1", false);
    /* one we dialled, its dialog's remote tag a1 all the same: never a
     * caller's merged INVITE */
    leg_with_dialog(&legs[1], "c9@192.0.2.2", "a1", true);
    sip_nta_table_add(&t, &legs[0].leg);
    sip_nta_table_add(&t, &legs[1].leg);
    assert_true(sip_nta_table_merged(&t, invite("c1@192.0.2.1", "a1")));
    assert_true(sip_nta_table_merged(&t, invite("c1@192.0.2.1", "A1")));   /* tags compare without case */
    assert_false(sip_nta_table_merged(&t, invite("c1@192.0.2.1", "a2")));   /* another caller's dialog */
    assert_false(sip_nta_table_merged(&t, invite("c9@192.0.2.2", "a1")));
    sip_nta_table_remove(&t, &legs[0].leg);
    assert_false(sip_nta_table_merged(&t, invite("c1@192.0.2.1", "a1")));   /* the call is gone */
    table_free(&t, legs, 2);
}

static void test_key_per_table(void **state)
{
    (void)state;
    struct sip_nta t1 = {0}, t2 = {0};
    test_leg a, b;
    leg_init(&a, "c1@192.0.2.1", false);
    leg_init(&b, "c1@192.0.2.1", false);
    sip_nta_table_add(&t1, &a.leg);
    sip_nta_table_add(&t2, &b.leg);
    /* drawn when each table was first made: a fixed key would let a
     * caller compute Call-IDs that share one chain */
    assert_memory_not_equal(&t1.key, &t2.key, sizeof t1.key);
    assert_ptr_equal(sip_nta_table_find(&t1, "c1@192.0.2.1"), &a.leg);
    assert_ptr_equal(sip_nta_table_find(&t2, "c1@192.0.2.1"), &b.leg);
    free(t1.buckets);
    free(t2.buckets);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_empty, teardown),
        cmocka_unit_test_teardown(test_many_legs, teardown),
        cmocka_unit_test_teardown(test_whole_key, teardown),
        cmocka_unit_test_teardown(test_two_callers_one_call_id, teardown),
        cmocka_unit_test_teardown(test_merged, teardown),
        cmocka_unit_test_teardown(test_key_per_table, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
