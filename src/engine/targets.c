/* targets.c — what dial's `to:` names, as targets to ring: a user, a
 * group's members in the order of its strategy, a SIP URI, a number through
 * gateways. Shared by `dial` (apps/call.c) and originate (originate.c), so
 * a callback reaches a party exactly as a dial would. */
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

/* Members in the order the group's strategy rings them. */
static void add_group(eng_engine *e, const scn_program *prog, eng_targets *t, const scn_group *g, bool alone)
{
    size_t n = g->member_count;
    if (n == 0)
        return;
    const char **order = cr_xmalloc(n * sizeof *order);
    size_t start = 0;
    if (g->strategy == SCN_GROUP_ROUND_ROBIN)
        start = eng_group_next(e, g->name) % n;
    for (size_t i = 0; i < n; i++)
        order[i] = g->members[(start + i) % n];
    if (g->strategy == SCN_GROUP_LONGEST_IDLE) {
        for (size_t i = 1; i < n; i++) {   /* stable insertion sort by idle-since */
            const char *x = order[i];
            double xi = eng_agent_idle_since(e, x);
            size_t j = i;
            while (j > 0 && eng_agent_idle_since(e, order[j - 1]) > xi) {
                order[j] = order[j - 1];
                j--;
            }
            order[j] = x;
        }
    } else if (g->strategy == SCN_GROUP_RANDOM) {
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = eng_random(e) % (i + 1);
            const char *x = order[i];
            order[i] = order[j];
            order[j] = x;
        }
    }
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
