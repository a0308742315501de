/* compile_queues.c — the `queues:` section: automatic call distribution.
 * Each queue names its agents (users, or `group:NAME` for a group's
 * members), how they are offered calls (the groups' strategies) and the
 * caller's side of waiting (music, announcements, limits). Agents are
 * expanded here, once; the live state (who is logged in, paused, busy)
 * is the engine's (engine/queue.c). */
#include <ctype.h>
#include <string.h>

#include "scenario/compile_int.h"

static const char *const queue_keys[] = {"agents", "strategy", "ring_timeout", "wrapup", "max_wait", "music",
                                         "announce_position", "announce_text", "exit_digit", "max_waiting",
                                         "sla", NULL};

/* A queue's name goes into URLs (/queues/NAME), metrics labels and log
 * lines: short and plain. */
static bool queue_name_ok(const char *s)
{
    if (!*s || strlen(s) > 64)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_-.", *s))
            return false;
    return true;
}

static void agent_add(scn_queue *q, const char *number, size_t cap)
{
    for (size_t i = 0; i < q->agent_count; i++)
        if (strcmp(q->agents[i], number) == 0)
            return;   /* in two of its groups, or named twice: offered once */
    if (q->agent_count < cap)
        q->agents[q->agent_count++] = number;
}

/* agents: ["101", "group:sales"]: users, and groups' members. */
static void compile_agents(scn_cx *x, const scn_node *m, scn_queue *q)
{
    scn_program *p = x->pub.prog;
    if (m->kind != SCN_NODE_SEQ || m->count == 0) {
        char buf[64];
        scn_cx_error(&x->pub, m, "expected a non-empty list of user numbers or \"group:NAME\", got %s",
                     m->kind == SCN_NODE_SEQ ? "an empty list" : scn_node_describe(m, buf, sizeof buf));
        return;
    }
    size_t cap = 0;
    for (size_t j = 0; j < m->count; j++) {
        const scn_node *it = m->items[j];
        const char *s = it->kind == SCN_NODE_SCALAR ? it->str : "";
        const scn_group *g = strncmp(s, "group:", 6) == 0 ? scn_program_group(p, s + 6) : NULL;
        cap += g ? g->member_count : 1;
    }
    q->agents = cr_arena_alloc(x->pub.arena, (cap + 1) * sizeof *q->agents);
    for (size_t j = 0; j < m->count; j++)
        SCN_WITH_INDEX(x, j) {
            const char *s = scn_expect_string(x, m->items[j], "a user number or \"group:NAME\"");
            if (!s)
                continue;
            if (strncmp(s, "group:", 6) == 0) {
                const scn_group *g = scn_program_group(p, s + 6);
                if (!g) {
                    scn_cx_error(&x->pub, m->items[j], "unknown group '%s' in queue '%s' (not in groups:)", s + 6,
                                 q->name);
                    continue;
                }
                for (size_t k = 0; k < g->member_count; k++)
                    agent_add(q, g->members[k], cap);
            } else if (!scn_program_user(p, s)) {
                scn_cx_error(&x->pub, m->items[j],
                             "unknown user '%s' in queue '%s' (agents are users, or \"group:NAME\")", s, q->name);
            } else {
                agent_add(q, s, cap);
            }
        }
}

/* A duration KEY of queue map V within MIN..MAX into *OUT. */
static void queue_duration(scn_cx *x, const scn_node *v, const char *key, double min, double max, double *out)
{
    const scn_node *f = scn_map_get(v, key);
    if (!f)
        return;
    SCN_WITH_KEY(x, key) {
        double d;
        if (scn_compile_duration(&x->pub, f, &d)) {
            if (d < min || d > max)
                scn_cx_error(&x->pub, f, "expected a duration from %gs to %gs, got %s", min, max, f->str);
            else
                *out = d;
        }
    }
}

static void compile_queue(scn_cx *x, const scn_node *v, scn_queue *q)
{
    q->strategy = SCN_GROUP_RING_ALL;
    q->ring_timeout = 15;
    q->sla = 20;
    if (!scn_expect_map(x, v, "a queue ({agents, strategy, ring_timeout, ...})"))
        return;
    scn_check_keys(x, v, queue_keys, "a queue");
    const scn_node *f;
    if (!(f = scn_map_get(v, "agents")))
        scn_cx_error(&x->pub, v, "queue '%s' needs 'agents' (user numbers or \"group:NAME\")", q->name);
    else
        SCN_WITH_KEY(x, "agents") compile_agents(x, f, q);
    if ((f = scn_map_get(v, "strategy")))
        SCN_WITH_KEY(x, "strategy") {
            int e;
            if (scn_expect_enum(x, f, scn_group_strategy_names, &e))
                q->strategy = (scn_group_strategy)e;
        }
    queue_duration(x, v, "ring_timeout", 1, 600, &q->ring_timeout);
    queue_duration(x, v, "wrapup", 0, 3600, &q->wrapup);
    queue_duration(x, v, "max_wait", 0, 86400, &q->max_wait);
    queue_duration(x, v, "announce_position", 0, 3600, &q->announce_position);
    queue_duration(x, v, "sla", 1, 3600, &q->sla);
    if (q->announce_position > 0 && q->announce_position < 5) {
        SCN_WITH_KEY(x, "announce_position")
            scn_cx_error(&x->pub, scn_map_get(v, "announce_position"),
                         "announce_position is 0 (none) or at least 5s, got %gs", q->announce_position);
    }
    if ((f = scn_map_get(v, "music")))
        SCN_WITH_KEY(x, "music") {
            q->music = scn_expect_string(x, f, "a prompt file (8 kHz mono WAV) below settings.media.sounds");
            if (q->music)
                scn_check_sound_file(x, f, "music", q->music);
        }
    if ((f = scn_map_get(v, "announce_text")))
        SCN_WITH_KEY(x, "announce_text") q->announce_text = scn_compile_template(&x->pub, f);
    if ((f = scn_map_get(v, "exit_digit")))
        SCN_WITH_KEY(x, "exit_digit") {
            const char *d = scn_expect_string(x, f, "one DTMF digit (0-9, *, #)");
            if (d && (strlen(d) != 1 || !strchr("0123456789*#", d[0])))
                scn_cx_error(&x->pub, f, "expected one DTMF digit (0-9, *, #; quote it: exit_digit: \"0\"), got '%s'",
                             d);
            else if (d)
                q->exit_digit = d[0];
        }
    if ((f = scn_map_get(v, "max_waiting")))
        SCN_WITH_KEY(x, "max_waiting") scn_expect_int(x, f, 0, 1000000, &q->max_waiting);
}

void scn_compile_queues(scn_cx *x, const scn_node *n)
{
    scn_program *p = x->pub.prog;
    if (!n || scn_is_null(n))
        return;
    SCN_WITH_KEY(x, "queues") {
        if (scn_expect_map(x, n, "queues (name: {agents, strategy, ...})")) {
            p->queues = cr_arena_alloc(x->pub.arena, (n->count + 1) * sizeof *p->queues);
            for (size_t i = 0; i < n->count; i++) {
                const scn_node *k = n->pairs[i].key;
                scn_queue *q = &p->queues[p->queue_count];
                q->name = k->str;
                SCN_WITH_KEY(x, k->str) {
                    if (!queue_name_ok(k->str))
                        scn_cx_error(&x->pub, k, "bad queue name '%s': use at most 64 letters, digits, '_', '-' or '.'", k->str);
                    compile_queue(x, n->pairs[i].val, q);
                }
                if (!scn_strmap_put(x->pub.arena, &p->lookup->queues, q->name, q))
                    p->queue_count++;
            }
        }
    }
}
