/* call_events.c — what happens in a call, to its handlers: call events
 * raised (by the driver, an application or a script) to the `event`
 * handlers registered for them, each run as a strand of its own; DTMF
 * watches; the caller's leg's events turned into call events. The rest of
 * a call's life is calls.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"
#include "scenario/events.h"

/* Handlers of EV run after the call ended: hangup, and a transfer the
 * scenario or a client made (the caller is gone once it succeeds). */
static bool ends_call(int ev, const char *by)
{
    return ev == SCN_EV_HANGUP ||
           (ev == SCN_EV_TRANSFER && by && (strcmp(by, "scenario") == 0 || strcmp(by, "admin") == 0));
}

eng_strand *eng_handler_strand(eng_call *c, int kind, const scn_actions *list, const char *name, int ev)
{
    eng_strand *s = eng_strand_new(c, (eng_strand_kind)kind, list, name);
    s->event = scn_event_names[ev];
    return s;
}

/* H handles an `app` event named APP_NAME. */
static bool name_matches(const eng_handler *h, const char *app_name)
{
    if (!h->name_count)
        return true;
    for (size_t i = 0; app_name && i < h->name_count; i++)
        if (strcmp(h->names[i], app_name) == 0)
            return true;
    return false;
}

int eng_call_raise(eng_call *c, int ev, const char *by, const char *leg, const char *digit, const char *app_name,
                   const eng_trace_var *vars, size_t nvars)
{
    if (c->ending && !ends_call(ev, by))
        return 0;
    if (ev != SCN_EV_HANGUP) {
        eng_trace_rec r = {.kind = ENG_TR_EVENT, .event = scn_event_names[ev], .by = by,
                           .leg = leg, .digit = digit, .vars = vars, .var_count = nvars};
        eng_emit(c, NULL, &r);
    }
    int max = eng_settings_streams(c->prog), started = 0;
    const char *name = NULL;   /* the strands' name, made once when needed */
    for (eng_handler *h = c->handlers; h; h = h->next) {
        if (h->dead || !(h->mask & (1u << ev)) || (ev == SCN_EV_APP && !name_matches(h, app_name)))
            continue;
        if (h->once)
            h->dead = true;
        if (!name)
            name = cr_arena_printf(&c->arena, "event:%s", scn_event_names[ev]);
        if (ends_call(ev, by)) {
            eng_handler_strand(c, SK_HANGUP, h->list, ev == SCN_EV_HANGUP ? "hangup" : name, ev);
            started++;
            continue;
        }
        if ((int)c->live_streams >= max) {
            char msg[160];
            snprintf(msg, sizeof msg, "max_streams limit (%d) reached: %s handler not started", max,
                     scn_event_names[ev]);
            eng_trace_rec r = {.kind = ENG_TR_ERROR, .level = "error", .message = msg};
            eng_emit(c, NULL, &r);
            continue;
        }
        eng_handler_strand(c, SK_HANDLER, h->list, name, ev);
        started++;
    }
    return started;
}

eng_strand *eng_call_spawn(eng_call *c, const scn_actions *list, const char *name)
{
    if (c->ending || !list || list->count == 0)
        return NULL;
    int max = eng_settings_streams(c->prog);
    if ((int)c->live_streams >= max) {
        char msg[200];
        snprintf(msg, sizeof msg, "max_streams limit (%d) reached: %.100s not started", max, name);
        eng_trace_rec r = {.kind = ENG_TR_ERROR, .level = "error", .message = msg};
        eng_emit(c, NULL, &r);
        return NULL;
    }
    return eng_strand_new(c, SK_HANDLER, list, cr_arena_strdup(&c->arena, name));
}

void eng_call_event(eng_call *c, int ev, const char *by, const char *leg, const char *digit)
{
    eng_call_raise(c, ev, by, leg, digit, NULL, NULL, 0);
}

void eng_call_handler_add(eng_call *c, unsigned mask, bool once, const scn_actions *list,
                          const char *const *names, size_t n)
{
    eng_handler *h = cr_arena_alloc(&c->arena, sizeof *h);
    h->mask = mask;
    h->once = once;
    h->list = list;
    if (n) {
        h->names = cr_arena_alloc(&c->arena, n * sizeof *h->names);
        for (size_t i = 0; i < n; i++)
            h->names[i] = cr_arena_strdup(&c->arena, names[i]);
        h->name_count = n;
    }
    /* Appended: handlers of one event start in the order they were registered. */
    eng_handler **p = &c->handlers;
    while (*p)
        p = &(*p)->next;
    *p = h;
}

void eng_event_register(eng_strand *s, unsigned mask, bool once, const scn_actions *list,
                        const char *const *names, size_t n)
{
    eng_call_handler_add(s->call, mask, once, list, names, n);
}

void eng_dtmf_watch(eng_strand *s, eng_dtmf_cb cb, void *arg)
{
    eng_rare_mut(s->call)->dtmf_strand = s;
    eng_rare_mut(s->call)->dtmf_cb = cb;
    eng_rare_mut(s->call)->dtmf_arg = arg;
}

void eng_dtmf_unwatch(eng_strand *s)
{
    if (eng_rare(s->call)->dtmf_strand == s)
        eng_rare_mut(s->call)->dtmf_strand = NULL;
}

void eng_call_caller_event(eng_call *c, const tel_event *ev)
{
    if (c->ending)
        return;
    switch (ev->kind) {
    case TEL_EV_HANGUP:
        eng_call_hangup(c, ev->by_system ? "system" : "caller", ev->cause ? ev->cause : "normal",
                        ev->sip_code);
        break;
    case TEL_EV_HOLD:
    case TEL_EV_UNHOLD:
        if (ev->kind == TEL_EV_HOLD)
            eng_moh_hold(c, false);
        else
            eng_moh_unhold(c, false);
        eng_var_set_str(c, "hold_by", "caller");
        eng_call_event(c, ev->kind == TEL_EV_HOLD ? SCN_EV_HOLD : SCN_EV_UNHOLD, "caller", NULL, NULL);
        break;
    case TEL_EV_DTMF: {
        char d[2] = {ev->digit, 0};
        eng_var_set_str(c, "dtmf_digit", d);
        eng_call_event(c, SCN_EV_DTMF, "caller", NULL, d);
        if (eng_rare(c)->dtmf_strand)
            eng_rare(c)->dtmf_cb(eng_rare(c)->dtmf_strand, ev->digit, eng_rare(c)->dtmf_arg);
        break;
    }
    case TEL_EV_TRANSFER:
        eng_var_set_str(c, "transfer_to", ev->refer_to);
        eng_var_set_str(c, "transfer_by", "caller");
        eng_call_event(c, SCN_EV_TRANSFER, "caller", NULL, NULL);
        break;
    default:
        break;
    }
}
