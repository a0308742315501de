/* cluster_queues.c — merging the nodes' queue figures (cluster_queues.h).
 * Pure: jansson in, jansson out; tests/unit/test_cluster_queues.c. */
#include "admin/cluster_queues.h"

#include <string.h>

static const char *const summed[] = {"waiting", "answered", "answered_in_sla", "abandoned", "timeouts", "exits",
                                     "refused"};
#define NSUMMED (sizeof summed / sizeof summed[0])

/* Most engaged first: the merged state is the lowest rank any node says. */
static int state_rank(const char *state)
{
    static const char *const order[] = {"busy", "ringing", "paused", "logged_out", "wrapup", "available"};
    for (int i = 0; state && i < (int)(sizeof order / sizeof order[0]); i++)
        if (strcmp(state, order[i]) == 0)
            return i;
    return 99;
}

static json_int_t int_of(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? json_integer_value(v) : 0;
}

static double num_of(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : 0;
}

static double round1(double x) { return (double)(long long)(x * 10 + 0.5) / 10; }

static json_t *find_named(json_t *list, const char *key, const char *name)
{
    size_t i;
    json_t *o;
    json_array_foreach(list, i, o) {
        const char *s = json_string_value(json_object_get(o, key));
        if (s && strcmp(s, name) == 0)
            return o;
    }
    return NULL;
}

static void merge_agent(json_t *agents, const char *node, const json_t *a)
{
    const char *number = json_string_value(json_object_get(a, "number"));
    const char *state = json_string_value(json_object_get(a, "state"));
    if (!number || !state)
        return;
    json_t *m = find_named(agents, "number", number);
    if (!m) {
        m = json_object();
        json_object_set_new(m, "number", json_string(number));
        json_object_set_new(m, "name", json_null());
        json_object_set_new(m, "state", json_string(state));
        json_object_set_new(m, "calls", json_integer(0));
        json_object_set_new(m, "last_call_end", json_null());
        json_object_set_new(m, "states", json_object());
        json_array_append_new(agents, m);
    } else if (state_rank(state) < state_rank(json_string_value(json_object_get(m, "state")))) {
        json_object_set_new(m, "state", json_string(state));
        json_object_del(m, "reason");
    }
    if (strcmp(json_string_value(json_object_get(m, "state")), state) == 0 && json_is_string(json_object_get(a, "reason")))
        json_object_set(m, "reason", json_object_get(a, "reason"));
    if (json_is_null(json_object_get(m, "name")) && json_is_string(json_object_get(a, "name")))
        json_object_set(m, "name", json_object_get(a, "name"));
    json_object_set_new(m, "calls", json_integer(int_of(m, "calls") + int_of(a, "calls")));
    /* The same ISO 8601 UTC form everywhere: the latest sorts last. */
    const char *end = json_string_value(json_object_get(a, "last_call_end"));
    const char *had = json_string_value(json_object_get(m, "last_call_end"));
    if (end && (!had || strcmp(end, had) > 0))
        json_object_set_new(m, "last_call_end", json_string(end));
    json_object_set_new(json_object_get(m, "states"), node, json_string(state));
}

static json_t *node_figures(const char *node, const json_t *q)
{
    json_t *o = json_pack("{s:s}", "node", node);
    for (size_t i = 0; i < NSUMMED; i++)
        json_object_set_new(o, summed[i], json_integer(int_of(q, summed[i])));
    json_object_set_new(o, "longest_wait", json_real(num_of(q, "longest_wait")));
    json_t *sl = json_object_get(q, "service_level");
    json_object_set_new(o, "service_level", json_is_number(sl) ? json_real(json_number_value(sl)) : json_null());
    json_object_set_new(o, "average_wait", json_real(num_of(q, "average_wait")));
    return o;
}

static json_t *new_merged(const char *name, const json_t *q)
{
    json_t *m = json_pack("{s:s}", "name", name);
    json_t *strategy = json_object_get(q, "strategy");
    json_object_set_new(m, "strategy", json_is_string(strategy) ? json_copy(strategy) : json_null());
    for (size_t i = 0; i < NSUMMED; i++)
        json_object_set_new(m, summed[i], json_integer(0));
    json_object_set_new(m, "longest_wait", json_real(0));
    json_object_set_new(m, "sla", json_real(json_is_number(json_object_get(q, "sla")) ? num_of(q, "sla") : 20));
    json_object_set_new(m, "wait_sum", json_real(0));   /* removed when done */
    json_object_set_new(m, "nodes", json_array());
    json_object_set_new(m, "agents", json_array());
    return m;
}

json_t *admin_cluster_queues_merge(const json_t *per_node)
{
    json_t *out = json_array();
    size_t i, j, k;
    json_t *n, *q, *a;
    json_array_foreach(per_node, i, n) {
        const char *node = json_string_value(json_object_get(n, "node"));
        json_t *queues = json_object_get(n, "queues");
        if (!node || !json_is_array(queues))
            continue;
        json_array_foreach(queues, j, q) {
            const char *name = json_string_value(json_object_get(q, "name"));
            if (!name)
                continue;
            json_t *m = find_named(out, "name", name);
            if (!m) {
                m = new_merged(name, q);
                json_array_append_new(out, m);
            }
            for (size_t s = 0; s < NSUMMED; s++)
                json_object_set_new(m, summed[s], json_integer(int_of(m, summed[s]) + int_of(q, summed[s])));
            if (num_of(q, "longest_wait") > num_of(m, "longest_wait"))
                json_object_set_new(m, "longest_wait", json_real(num_of(q, "longest_wait")));
            json_object_set_new(m, "wait_sum",
                                json_real(num_of(m, "wait_sum") + num_of(q, "average_wait") * (double)int_of(q, "answered")));
            json_array_append_new(json_object_get(m, "nodes"), node_figures(node, q));
            json_array_foreach(json_object_get(q, "agents"), k, a)
                merge_agent(json_object_get(m, "agents"), node, a);
        }
    }
    json_array_foreach(out, i, q) {
        json_int_t answered = int_of(q, "answered");
        json_int_t left = answered + int_of(q, "abandoned") + int_of(q, "timeouts") + int_of(q, "exits");
        json_object_set_new(q, "service_level",
                            left ? json_real(round1(100.0 * (double)int_of(q, "answered_in_sla") / (double)left))
                                 : json_null());
        json_object_set_new(q, "average_wait",
                            json_real(answered ? round1(num_of(q, "wait_sum") / (double)answered) : 0));
        json_object_del(q, "wait_sum");
    }
    return out;
}
