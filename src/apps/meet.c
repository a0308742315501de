/* meet.c — calls that meet other calls: conference, join, park, pickup.
 * The state they share across calls (rooms, sessions, slots) is the
 * engine's (engine/conference.c, join.c, park.c); here the parameters are
 * rendered, checked and handed over. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "apps/registry.h"
#include "engine/engine.h"
#include "scenario/compile.h"
#include "scenario/param.h"
#include "util/alloc.h"

#define F(type, field) offsetof(type, field)

typedef struct conference_params {
    const scn_template *room;
    bool muted, moderator;
    const scn_template *pin_prompt;
    long pin_tries;
} conference_params;

typedef struct join_params {
    const scn_template *call;
    const scn_template *agent;
    int mode;                 /* eng_join_mode */
} join_params;

typedef struct park_params {
    const scn_template *slot;
    double timeout;
    const scn_template *music;
    const scn_template *announce;
    const scn_template *parker;
    scn_cases on;             /* timeout: actions */
} park_params;

typedef struct pickup_params {
    const scn_template *slot;
    const scn_template *agent;
    const char *group;
} pickup_params;

static const scn_param conference_spec[] = {
    {.name = "room", .type = P_TEMPLATE, .offset = F(conference_params, room), .flags = P_REQ,
     .doc = "the room (a template): one of `conferences:`, or any name (the defaults apply)"},
    {.name = "muted", .type = P_BOOL, .offset = F(conference_params, muted), .def = "false",
     .doc = "join muted: heard by nobody until unmuted (its mute key, the admin API)"},
    {.name = "moderator", .type = P_BOOL, .offset = F(conference_params, moderator), .def = "false",
     .doc = "join as a moderator: no PIN asked, a full room still takes it"},
    {.name = "pin_prompt", .type = P_TEMPLATE, .offset = F(conference_params, pin_prompt),
     .def = "Please enter the conference PIN, then press the pound key.",
     .doc = "spoken when the room has a pin (text, a template)"},
    {.name = "pin_tries", .type = P_INT, .offset = F(conference_params, pin_tries), .def = "3", .min = 1,
     .max = 10, .doc = "attempts at the PIN before the action fails (wrong_pin)"},
    SCN_PARAM_END,
};

static const scn_param join_spec[] = {
    {.name = "call", .type = P_TEMPLATE, .offset = F(join_params, call), .flags = P_EXACTLY_ONE,
     .doc = "the call to join: its call id (a template, e.g. from a variable)"},
    {.name = "agent", .type = P_TEMPLATE, .offset = F(join_params, agent), .flags = P_EXACTLY_ONE,
     .doc = "or: the call this user is on (a user number, a template)"},
    {.name = "mode", .type = P_ENUM, .offset = F(join_params, mode), .choices = eng_join_mode_names,
     .def = "bridge",
     .doc = "bridge: take the agent's place; listen: hear both, unheard; whisper: heard by the agent only; "
            "barge: a three-way call"},
    SCN_PARAM_END,
};

static const scn_param park_spec[] = {
    {.name = "slot", .type = P_TEMPLATE, .offset = F(park_params, slot),
     .doc = "the slot (digits; a template); none: the first free of settings.park.slots"},
    {.name = "timeout", .type = P_DURATION, .offset = F(park_params, timeout), .def = "0", .min = 0,
     .max = 86400, .doc = "how long it stays parked (0: until picked up or hung up)"},
    {.name = "music", .type = P_TEMPLATE, .offset = F(park_params, music), .flags = P_FILE_SOUNDS,
     .doc = "played over and over while parked; default settings.park.music"},
    {.name = "announce", .type = P_TEMPLATE, .offset = F(park_params, announce),
     .doc = "spoken when parked (to the agent when the call was bridged); default \"Parked at\" and the "
            "slot; \"\": none"},
    {.name = "parker", .type = P_TEMPLATE, .offset = F(park_params, parker),
     .doc = "who the call returns to on the timeout; default the agent it was bridged to"},
    {.name = "on", .type = P_CASES, .offset = F(park_params, on),
     .doc = "timeout: actions run (in this strand) instead of returning the call to the parker"},
    SCN_PARAM_END,
};

static const scn_param pickup_spec[] = {
    {.name = "slot", .type = P_TEMPLATE, .offset = F(pickup_params, slot), .flags = P_EXACTLY_ONE,
     .doc = "take the call parked in this slot"},
    {.name = "agent", .type = P_TEMPLATE, .offset = F(pickup_params, agent), .flags = P_EXACTLY_ONE,
     .doc = "or: a call ringing this user (directed pickup)"},
    {.name = "group", .type = P_STRING, .offset = F(pickup_params, group), .flags = P_EXACTLY_ONE,
     .doc = "or: a call ringing a member of this group (group pickup)"},
    SCN_PARAM_END,
};

/* ---- conference ---- */

static app_status conference_run(eng_strand *s, const scn_action *a)
{
    const conference_params *p = a->params;
    const char *room = eng_render(s, p->room, SCN_ESC_NONE);
    eng_conf_join j = {
        .room = room,
        .conf = scn_program_conference(eng_call_program(eng_strand_call(s)), room),
        .muted = p->muted,
        .moderator = p->moderator,
        .pin_prompt = eng_render(s, p->pin_prompt, SCN_ESC_NONE),
        .pin_tries = (int)p->pin_tries,
    };
    return eng_conf_start(s, &j);
}

static void conference_cancel(eng_strand *s, const scn_action *a)
{
    (void)a;
    eng_conf_cancel(s);
}

/* ---- join ---- */

static app_status join_run(eng_strand *s, const scn_action *a)
{
    const join_params *p = a->params;
    eng_call *c = eng_strand_call(s);
    eng_engine *e = eng_strand_engine(s);
    eng_join_mode mode = (eng_join_mode)p->mode;
    eng_strand_var_set(s, "join_mode", cr_val_cstr(eng_join_mode_names[mode]));
    if (mode != ENG_JOIN_BRIDGE) {
        /* Hearing another's call is for the configured group's users only. */
        const char *group = eng_call_program(c)->settings.join_group;
        if (!eng_call_user_in_group(c, group)) {
            eng_strand_var_set(s, "join_status", cr_val_cstr("denied"));
            return eng_fail(s, "%s is not allowed: only users of group '%s' (settings.join.group) may listen, "
                            "whisper or barge", eng_join_mode_names[mode], group ? group : "");
        }
    }
    tel_leg *agent = NULL;
    eng_call *t;
    const char *what;
    if (p->call) {
        what = eng_render(s, p->call, SCN_ESC_NONE);
        t = eng_call_find(e, what);
    } else {
        what = eng_render(s, p->agent, SCN_ESC_NONE);
        t = *what ? eng_call_of_user(e, what, &agent) : NULL;
    }
    if (!t) {
        eng_strand_var_set(s, "join_status", cr_val_cstr("not_found"));
        return eng_fail(s, "no live call %s '%.80s'", p->call ? "with id" : "of user", what);
    }
    return eng_join_start(s, t, agent, mode);
}

static void join_cancel(eng_strand *s, const scn_action *a)
{
    (void)a;
    eng_join_cancel(s);
}

/* ---- park ---- */

static bool park_check(scn_compile_ctx *cx, const scn_node *action, void *params)
{
    const park_params *p = params;
    for (size_t i = 0; i < p->on.count; i++)
        if (strcmp(p->on.keys[i], "timeout") != 0) {
            scn_cx_error(cx, scn_map_get(action, "on"), "park's `on` takes `timeout` only, got '%s'",
                         p->on.keys[i]);
            return false;
        }
    return true;
}

static app_status park_run(eng_strand *s, const scn_action *a)
{
    const park_params *p = a->params;
    const char *music = NULL, *why = NULL;
    if (p->music && !(music = eng_file_path(s, ENG_DIR_SOUNDS, "music", p->music, &why)))
        return eng_fail(s, "cannot park: %s", why);
    cr_arena *ar = eng_call_arena(eng_strand_call(s));
    eng_park_req r = {
        .slot = p->slot ? eng_render_keep(s, p->slot, SCN_ESC_NONE) : NULL,
        .music = music ? cr_arena_strdup(ar, music) : NULL,
        .announce = p->announce ? eng_render_keep(s, p->announce, SCN_ESC_NONE) : NULL,
        .timeout = p->timeout,
        .on_timeout = p->on.count ? &p->on.lists[0] : NULL,
        .parker = p->parker ? eng_render_keep(s, p->parker, SCN_ESC_NONE) : NULL,
    };
    if (r.slot && !*r.slot)
        r.slot = NULL;
    return eng_park_start(s, &r);
}

static void park_cancel(eng_strand *s, const scn_action *a)
{
    (void)a;
    eng_park_cancel(s);
}

static bool park_frame_end(eng_strand *s, const scn_action *a, long *counter)
{
    (void)a, (void)counter;
    eng_park_frame_end(s);
    return false;
}

/* ---- pickup ---- */

static bool pickup_check(scn_compile_ctx *cx, const scn_node *action, void *params)
{
    const pickup_params *p = params;
    if (p->group && !scn_program_group(cx->prog, p->group)) {
        scn_cx_error(cx, scn_map_get(action, "group"), "unknown group '%s' (not in groups:)", p->group);
        return false;
    }
    return true;
}

static app_status pickup_run(eng_strand *s, const scn_action *a)
{
    const pickup_params *p = a->params;
    if (p->slot)
        return eng_pickup_slot(s, eng_render(s, p->slot, SCN_ESC_NONE));
    if (p->agent) {
        const char *who = eng_render(s, p->agent, SCN_ESC_NONE);
        return eng_pickup_ringing(s, &who, 1);
    }
    const scn_group *g = scn_program_group(eng_call_program(eng_strand_call(s)), p->group);
    return eng_pickup_ringing(s, g->members, g->member_count);
}

static void pickup_cancel(eng_strand *s, const scn_action *a)
{
    (void)a;
    if (eng_strand_pending(s))
        eng_dial_cancel(s);
}

const app_def app_meet_table[] = {
    {.name = "conference", .family = "meet",
     .summary = "Join a conference room: everyone hears everyone else; mute and leave keys, PINs, moderators.",
     .params = conference_spec, .params_size = sizeof(conference_params),
     .flags = APP_CALL_CONTROL | APP_MEDIA | APP_WAITS, .run = conference_run, .cancel = conference_cancel},
    {.name = "join", .family = "meet",
     .summary = "Join a live call: take an agent's place (bridge), or listen, whisper or barge in.",
     .params = join_spec, .params_size = sizeof(join_params),
     .flags = APP_CALL_CONTROL | APP_MEDIA | APP_WAITS, .run = join_run, .cancel = join_cancel},
    {.name = "park", .family = "meet",
     .summary = "Park the caller in a slot with music until someone picks it up, or the timeout.",
     .params = park_spec, .params_size = sizeof(park_params),
     .flags = APP_CALL_CONTROL | APP_MEDIA | APP_WAITS | APP_OWN_TIMEOUT | APP_NESTS,
     .check = park_check, .run = park_run, .cancel = park_cancel, .frame_end = park_frame_end},
    {.name = "pickup", .family = "meet",
     .summary = "Take a parked call, or one ringing a user or a group, and talk to it.",
     .params = pickup_spec, .params_size = sizeof(pickup_params),
     .flags = APP_CALL_CONTROL | APP_WAITS, .check = pickup_check, .run = pickup_run,
     .cancel = pickup_cancel},
    APP_END,
};
