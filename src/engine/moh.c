/* moh.c — music on hold. When one party of a bridged call puts the other
 * on hold, the driver passes the hold on (the held phone learns it is held)
 * and, with hold music configured — the call's route's `hold_music`, else
 * settings.media.hold_music — the held party hears the music instead of
 * silence until the hold ends or the bridge does. The driver's music op
 * plays it over the bridge: the relay into the held party pauses
 * meanwhile. One music op per direction, kept in a call slot. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/engine_int.h"
#include "util/alloc.h"
#include "util/path.h"

typedef struct moh_side {
    eng_call *c;
    tel_op *op;
    bool to_caller;
} moh_side;

typedef struct moh_state {
    moh_side side[2];          /* [0]: music to the caller (the agent holds), [1]: to the agent */
} moh_state;

static const char moh_key[] = "music_on_hold";

static void moh_log(eng_call *c, const char *level, const char *fmt, const char *a, const char *b)
{
    char msg[PATH_MAX + 200];
    snprintf(msg, sizeof msg, fmt, a, b);
    eng_trace_rec r = {.kind = ENG_TR_LOG, .level = level, .message = msg};
    eng_emit(c, NULL, &r);
}

const char *eng_hold_music(eng_call *c, char *out, size_t n, const char **why)
{
    *why = NULL;
    const scn_route *r = c->route;
    const scn_settings *set = &c->prog->settings;
    if (r && r->hold_music_off)
        return NULL;
    const char *name = r && r->hold_music ? r->hold_music : set->hold_music;
    if (!name)
        return NULL;
    cr_path_status st = cr_path_confine(set->sounds && *set->sounds ? set->sounds : ".", name, out, n);
    if (st != CR_PATH_OK) {
        *why = cr_path_status_text(st);
        return NULL;
    }
    return out;
}

static void side_stop(moh_side *sd)
{
    if (!sd->op)
        return;
    tel_driver *d = sd->c->e->tel;
    d->ops->op_cancel(d, sd->op);
    sd->op = NULL;
}

static void music_done_cb(void *arg, int status, const char *msg, char digit)
{
    (void)digit;
    moh_side *sd = arg;
    sd->op = NULL;
    if (status < 0)
        moh_log(sd->c, "warning", "music on hold failed: %s%s", msg ? msg : "cannot play it", "");
}

static void moh_finish(void *value)
{
    moh_state *m = value;
    side_stop(&m->side[0]);
    side_stop(&m->side[1]);
    free(m);
}

static moh_state *state(eng_call *c, bool create)
{
    moh_state *m = eng_call_slot(c, moh_key);
    if (!m && create) {
        m = cr_xcalloc(1, sizeof *m);
        for (int i = 0; i < 2; i++) {
            m->side[i].c = c;
            m->side[i].to_caller = i == 0;
        }
        eng_call_set_slot(c, moh_key, m, moh_finish);
    }
    return m;
}

void eng_moh_hold(eng_call *c, bool agent_holds)
{
    tel_leg *held = agent_holds ? c->leg : eng_call_agent_leg(c);
    if (!held || c->ending || !c->e->tel->ops->music)
        return;
    char buf[PATH_MAX];
    const char *why, *path = eng_hold_music(c, buf, sizeof buf, &why);
    if (!path) {
        if (why)
            moh_log(c, "warning", "hold music refused: %s (settings.media.sounds: %s)", why,
                    c->prog->settings.sounds ? c->prog->settings.sounds : ".");
        return;
    }
    moh_side *sd = &state(c, true)->side[agent_holds ? 0 : 1];
    if (sd->op)
        return;
    tel_driver *d = c->e->tel;
    sd->op = d->ops->music(d, held, path, music_done_cb, sd);
    if (sd->op)
        moh_log(c, "info", "music on hold to the %s: %s", agent_holds ? "caller" : "agent", path);
}

void eng_moh_unhold(eng_call *c, bool agent_holds)
{
    moh_state *m = state(c, false);
    moh_side *sd = m ? &m->side[agent_holds ? 0 : 1] : NULL;
    if (!sd || !sd->op)
        return;
    side_stop(sd);
    moh_log(c, "info", "music on hold to the %s stopped", agent_holds ? "caller" : "agent", "");
}

void eng_moh_stop(eng_call *c)
{
    moh_state *m = state(c, false);
    if (!m)
        return;
    side_stop(&m->side[0]);
    side_stop(&m->side[1]);
}
