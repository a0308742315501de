/* targets.c — what dial's `to:` names, as targets to ring: a user, a
 * group's members in the order of its strategy, a SIP URI, a number through
 * gateways. Shared by `dial` (apps/call.c) and originate (originate.c), so
 * a callback reaches a party exactly as a dial would; the strategies'
 * order is the queues' too (queue.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"
#include "util/alloc.h"

static void add(eng_targets *t, tel_dial_kind kind, const char *target, const char *name,
                const scn_gateway *const *gws, size_t gw_count)
{
    if (t->count == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 4;
        t->items = cr_xrealloc(t->items, t->cap * sizeof *t->items);
    }
    t->items[t->count++] = (eng_dial_target){.kind = kind, .target = target, .agent_name = name,
                                             .gateways = gws, .gateway_count = gw_count};
}

static unsigned long engine_calls(void *arg, const char *number) { return eng_agent_calls(arg, number); }

/* Stable insertion sort of ORDER by KEY (ascending): ties keep their order. */
static void sort_by(const char **order, double *key, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        const char *x = order[i];
        double k = key[i];
        size_t j = i;
        while (j > 0 && key[j - 1] > k) {
            order[j] = order[j - 1];
            key[j] = key[j - 1];
            j--;
        }
        order[j] = x;
        key[j] = k;
    }
}

void eng_strategy_order(eng_engine *e, scn_group_strategy st, const char **order, size_t n, unsigned cursor,
                        unsigned long (*calls)(void *arg, const char *number), void *arg)
{
    if (n < 2)
        return;
    if (st == SCN_GROUP_ROUND_ROBIN && cursor % n) {
        const char **tmp = cr_xmalloc(n * sizeof *tmp);
        for (size_t i = 0; i < n; i++)
            tmp[i] = order[(cursor + i) % n];
        memcpy(order, tmp, n * sizeof *tmp);
        free(tmp);
    } else if (st == SCN_GROUP_LONGEST_IDLE || st == SCN_GROUP_FEWEST_CALLS) {
        double *key = cr_xmalloc(n * sizeof *key);
        for (size_t i = 0; i < n; i++)
            key[i] = st == SCN_GROUP_LONGEST_IDLE ? eng_agent_idle_since(e, order[i])
                                                  : (double)(calls ? calls : engine_calls)(calls ? arg : e, order[i]);
        sort_by(order, key, n);
        free(key);
    } else if (st == SCN_GROUP_RANDOM) {
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = eng_random(e) % (i + 1);
            const char *x = order[i];
            order[i] = order[j];
            order[j] = x;
        }
    }
    /* ring-all and linear: the order as written */
}

/* Members in the order the group's strategy rings them. */
static void add_group(eng_engine *e, const scn_program *prog, eng_targets *t, const scn_group *g, bool alone)
{
    size_t n = g->member_count;
    if (n == 0)
        return;
    const char **order = cr_xmalloc(n * sizeof *order);
    memcpy(order, g->members, n * sizeof *order);
    eng_strategy_order(e, g->strategy, order, n, g->strategy == SCN_GROUP_ROUND_ROBIN ? eng_group_next(e, g->name) : 0,
                       NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        const scn_user *u = scn_program_user(prog, order[i]);
        add(t, TEL_DIAL_USER, order[i], u ? u->name : NULL, NULL, 0);
    }
    if (alone && g->strategy != SCN_GROUP_RING_ALL)
        t->sequential = true;   /* a hunt: one member after another */
    free(order);
}

bool eng_targets_add(eng_engine *e, const scn_program *prog, eng_targets *t, const char *to,
                     const scn_gateway *const *gws, size_t gw_count, bool alone, char *err, size_t errlen)
{
    while (*to == ' ')
        to++;
    if (!*to)
        return true;
    if (gw_count == 0 && prog->gateway_count) {
        /* No gateway named: numbers go out through the program's gateways
         * in file order (kept with T: a dial copies what it uses). */
        if (!t->all_gws) {
            t->all_gws = cr_xmalloc(prog->gateway_count * sizeof *t->all_gws);
            for (size_t i = 0; i < prog->gateway_count; i++)
                t->all_gws[i] = &prog->gateways[i];
        }
        gws = t->all_gws;
        gw_count = prog->gateway_count;
    }
    const scn_user *u = scn_program_user(prog, to);
    const scn_group *g = u ? NULL : scn_program_group(prog, to);
    if (u) {
        add(t, TEL_DIAL_USER, to, u->name, NULL, 0);
    } else if (g) {
        add_group(e, prog, t, g, alone);
    } else if (strncmp(to, "sip:", 4) == 0 || strncmp(to, "sips:", 5) == 0) {
        add(t, TEL_DIAL_URI, to, NULL, NULL, 0);
    } else if (gw_count == 0) {
        snprintf(err, errlen, "no gateway to dial %s through", to);
        return false;
    } else {
        add(t, TEL_DIAL_GATEWAY, to, NULL, gws, gw_count);
    }
    return true;
}

void eng_targets_free(eng_targets *t)
{
    free(t->items);
    free(t->all_gws);
    memset(t, 0, sizeof *t);
}
