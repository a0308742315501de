/* test_cluster_queues.c — GET /cluster/queues' merge of the nodes' queue
 * figures (src/admin/cluster_queues.c): sums and maxima over nodes, the
 * service level and average wait recomputed from the sums (not averaged
 * percentages), each node's own figures kept, agents merged (busy on any
 * node is busy; calls summed; the latest call end), queues one node lacks,
 * and entries of the wrong shape passed over. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "admin/cluster_queues.h"

static json_t *load(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    assert_non_null(j);
    return j;
}

static json_t *queue(json_t *out, size_t i) { return json_array_get(out, i); }
static json_int_t ival(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }
static double rval(json_t *o, const char *k) { return json_number_value(json_object_get(o, k)); }
static const char *sval(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

static void test_sums_and_levels(void **state)
{
    (void)state;
    json_t *in = load(
        "[{\"node\":\"cr1\",\"queues\":[{\"name\":\"support\",\"strategy\":\"ring-all\",\"waiting\":2,"
        "\"longest_wait\":12.5,\"answered\":8,\"answered_in_sla\":8,\"abandoned\":0,\"timeouts\":0,\"exits\":0,"
        "\"refused\":1,\"sla\":20,\"service_level\":100.0,\"average_wait\":5.0,\"agents\":["
        "{\"number\":\"101\",\"name\":\"Alice\",\"state\":\"available\",\"calls\":5,\"last_call_end\":\"2026-12-04T10:00:00.000Z\"},"
        "{\"number\":\"102\",\"name\":null,\"state\":\"paused\",\"reason\":\"lunch\",\"calls\":3,\"last_call_end\":null}]}]},"
        " {\"node\":\"cr2\",\"queues\":[{\"name\":\"support\",\"strategy\":\"ring-all\",\"waiting\":1,"
        "\"longest_wait\":30.0,\"answered\":2,\"answered_in_sla\":0,\"abandoned\":2,\"timeouts\":1,\"exits\":1,"
        "\"refused\":0,\"sla\":20,\"service_level\":0.0,\"average_wait\":40.0,\"agents\":["
        "{\"number\":\"101\",\"name\":\"Alice\",\"state\":\"busy\",\"calls\":1,\"last_call_end\":\"2026-12-04T11:00:00.000Z\"},"
        "{\"number\":\"102\",\"name\":null,\"state\":\"paused\",\"reason\":\"lunch\",\"calls\":0,\"last_call_end\":null}]},"
        " {\"name\":\"sales\",\"waiting\":0,\"answered\":0,\"agents\":[]}]}]");
    json_t *out = admin_cluster_queues_merge(in);
    assert_int_equal(json_array_size(out), 2);
    json_t *q = queue(out, 0);
    assert_string_equal(sval(q, "name"), "support");
    assert_string_equal(sval(q, "strategy"), "ring-all");
    assert_int_equal(ival(q, "waiting"), 3);
    assert_true(rval(q, "longest_wait") == 30.0);
    assert_int_equal(ival(q, "answered"), 10);
    assert_int_equal(ival(q, "answered_in_sla"), 8);
    assert_int_equal(ival(q, "abandoned"), 2);
    assert_int_equal(ival(q, "timeouts"), 1);
    assert_int_equal(ival(q, "exits"), 1);
    assert_int_equal(ival(q, "refused"), 1);
    /* 8 within sla of 14 that left: 57.1 %, not the mean of 100 and 0 */
    assert_true(rval(q, "service_level") == 57.1);
    /* (8 * 5 + 2 * 40) / 10 */
    assert_true(rval(q, "average_wait") == 12.0);
    assert_null(json_object_get(q, "wait_sum"));
    json_t *nodes = json_object_get(q, "nodes");
    assert_int_equal(json_array_size(nodes), 2);
    assert_string_equal(sval(json_array_get(nodes, 1), "node"), "cr2");
    assert_int_equal(ival(json_array_get(nodes, 1), "waiting"), 1);
    assert_true(rval(json_array_get(nodes, 0), "service_level") == 100.0);
    json_t *agents = json_object_get(q, "agents");
    assert_int_equal(json_array_size(agents), 2);
    json_t *alice = json_array_get(agents, 0);
    assert_string_equal(sval(alice, "number"), "101");
    assert_string_equal(sval(alice, "name"), "Alice");
    assert_string_equal(sval(alice, "state"), "busy");
    assert_int_equal(ival(alice, "calls"), 6);
    assert_string_equal(sval(alice, "last_call_end"), "2026-12-04T11:00:00.000Z");
    assert_string_equal(sval(json_object_get(alice, "states"), "cr1"), "available");
    assert_string_equal(sval(json_object_get(alice, "states"), "cr2"), "busy");
    json_t *bob = json_array_get(agents, 1);
    assert_string_equal(sval(bob, "state"), "paused");
    assert_string_equal(sval(bob, "reason"), "lunch");
    assert_true(json_is_null(json_object_get(bob, "last_call_end")));
    /* only cr2 has it; nobody left yet: no service level */
    json_t *sales = queue(out, 1);
    assert_string_equal(sval(sales, "name"), "sales");
    assert_int_equal(json_array_size(json_object_get(sales, "nodes")), 1);
    assert_true(json_is_null(json_object_get(sales, "service_level")));
    assert_true(rval(sales, "average_wait") == 0);
    json_decref(out);
    json_decref(in);
}

/* A state met later that ranks lower does not replace one more engaged;
 * a pause's reason goes with the pause. */
static void test_agent_precedence(void **state)
{
    (void)state;
    json_t *in = load(
        "[{\"node\":\"a\",\"queues\":[{\"name\":\"q\",\"agents\":[{\"number\":\"7\",\"state\":\"ringing\",\"calls\":0}]}]},"
        " {\"node\":\"b\",\"queues\":[{\"name\":\"q\",\"agents\":[{\"number\":\"7\",\"state\":\"paused\",\"reason\":\"x\",\"calls\":0}]}]},"
        " {\"node\":\"c\",\"queues\":[{\"name\":\"q\",\"agents\":[{\"number\":\"7\",\"state\":\"available\",\"calls\":0}]}]}]");
    json_t *out = admin_cluster_queues_merge(in);
    json_t *a = json_array_get(json_object_get(queue(out, 0), "agents"), 0);
    assert_string_equal(sval(a, "state"), "ringing");
    assert_null(json_object_get(a, "reason"));
    assert_int_equal(json_object_size(json_object_get(a, "states")), 3);
    json_decref(out);
    json_decref(in);
}

static void test_wrong_shapes(void **state)
{
    (void)state;
    json_t *in = load("[1, {\"node\":5}, {\"node\":\"x\",\"queues\":{}}, {\"node\":\"y\",\"queues\":[7, {\"nameless\":1},"
                      " {\"name\":\"q\",\"waiting\":\"3\",\"agents\":[{\"number\":1}, \"z\"]}]}]");
    json_t *out = admin_cluster_queues_merge(in);
    assert_int_equal(json_array_size(out), 1);
    assert_int_equal(ival(queue(out, 0), "waiting"), 0);
    assert_int_equal(json_array_size(json_object_get(queue(out, 0), "agents")), 0);
    json_decref(out);
    json_decref(in);
    out = admin_cluster_queues_merge(NULL);
    assert_int_equal(json_array_size(out), 0);
    json_decref(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sums_and_levels),
        cmocka_unit_test(test_agent_precedence),
        cmocka_unit_test(test_wrong_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
