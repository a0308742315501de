/* conference.c — conference rooms: state shared across calls. A room is
 * made by its first member and goes with its last; each member is a call
 * whose strand waits in `conference`. The audio is the driver's: every
 * member's leg is in the driver's mix named "conf:ROOM" (tel.h), muted
 * members with TEL_MIX_MUTED. Here: who is in which room, mute and leave
 * keys, join/leave tones or names, music for a member alone, the
 * conference_join/conference_leave events in every member's call, and the
 * admin API's view (list, mute, kick). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"
#include "media/tts_cache.h"
#include "scenario/events.h"
#include "util/alloc.h"

typedef struct eng_conf eng_conf;
typedef struct eng_conf_member eng_conf_member;

/* A name said to the room: synthesised once, then played to each member. */
typedef struct announce {
    struct announce *next;
    eng_conf *room;
    media_tts_req *req;
    unsigned subject;          /* the member it is about: not played to it */
    char text[200];
} announce;

struct eng_conf {
    eng_conf *next;
    eng_engine *e;
    char *name;
    char mix[TEL_ROOM_MAX + 1];
    int max_members;
    scn_announce announce_mode;
    char *music_path;          /* for a member alone, NULL: none */
    char *language, *voice;    /* of names said (the first member's settings) */
    double created;
    unsigned next_id;
    eng_conf_member *members, *tail;
    size_t count;
    eng_music *music;          /* on the one member while it is alone */
    eng_conf_member *music_on;
    announce *announces;
};

struct eng_conf_member {
    eng_conf *room;
    eng_conf_member *next, *prev;
    unsigned id;
    eng_call *c;
    eng_strand *s;
    tel_leg *leg;
    bool muted, moderator;
    double joined;
    char *number, *name;
    const char *mute_key, *leave_key;
    char keys[5];              /* the last DTMF keys, for *6 / *# */
    tel_op *note_op;           /* a tone or a name played to it */
    media_audio *note_audio;
};

static tel_driver *drv(eng_conf *r) { return r->e->tel; }

static unsigned mix_flags(const eng_conf_member *m) { return m->muted ? TEL_MIX_MUTED : 0; }

static eng_conf *room_find(eng_engine *e, const char *name)
{
    for (eng_conf *r = e->confs; r; r = r->next)
        if (strcmp(r->name, name) == 0)
            return r;
    return NULL;
}

static eng_conf *room_new(eng_engine *e, const char *name, const scn_conference *conf, const scn_program *p)
{
    eng_conf *r = cr_xcalloc(1, sizeof *r);
    r->e = e;
    r->name = cr_xstrdup(name);
    snprintf(r->mix, sizeof r->mix, "conf:%s", name);
    r->max_members = conf ? conf->max_members : SCN_CONFERENCE_MAX_MEMBERS;
    r->announce_mode = conf ? conf->announce : SCN_ANNOUNCE_NONE;
    r->music_path = conf && conf->music_when_alone ? cr_xstrdup(conf->music_when_alone) : NULL;
    r->language = cr_xstrdup(p->settings.tts_language ? p->settings.tts_language : "en-us");
    r->voice = cr_xstrdup(p->settings.tts_voice ? p->settings.tts_voice : "");
    r->created = loop_now(e->l);
    r->next = e->confs;
    e->confs = r;
    return r;
}

static void room_free(eng_conf *r)
{
    for (eng_conf **p = &r->e->confs; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
    while (r->announces) {
        announce *a = r->announces;
        r->announces = a->next;
        media_tts_cancel(a->req);
        free(a);
    }
    eng_music_stop(r->music);
    free(r->name);
    free(r->music_path);
    free(r->language);
    free(r->voice);
    free(r);
}

/* ---- notes: tones and names played to members ---- */

static void note_stop(eng_conf_member *m)
{
    if (m->note_op)
        drv(m->room)->ops->op_cancel(drv(m->room), m->note_op);
    m->note_op = NULL;
    media_audio_unref(m->note_audio);
    m->note_audio = NULL;
}

static void note_done_cb(void *arg, int status, const char *msg, char digit)
{
    (void)status, (void)msg, (void)digit;
    eng_conf_member *m = arg;
    m->note_op = NULL;
    media_audio_unref(m->note_audio);
    m->note_audio = NULL;
}

static void note_tone(eng_conf_member *m)
{
    if (m->room->music_on == m)
        return;   /* alone: its music says enough */
    note_stop(m);
    m->note_op = drv(m->room)->ops->tone(drv(m->room), m->leg, TEL_TONE_BEEP, TEL_BEEP_SECONDS, note_done_cb, m);
}

static void announce_cb(void *arg, media_audio *audio, bool cached, const char *err)
{
    (void)cached, (void)err;
    announce *a = arg;
    eng_conf *r = a->room;
    for (announce **p = &r->announces; *p; p = &(*p)->next)
        if (*p == a) {
            *p = a->next;
            break;
        }
    if (audio) {
        size_t told = 0;
        eng_conf_member *subject = NULL;
        for (eng_conf_member *m = r->members; m; m = m->next) {
            if (m->id == a->subject)
                subject = m;
            if (m->id == a->subject || r->music_on == m)
                continue;
            note_stop(m);
            m->note_audio = media_audio_ref(audio);
            m->note_op = drv(r)->ops->play_pcm(drv(r), m->leg, audio->pcm, audio->count, note_done_cb, m);
            told++;
        }
        media_audio_unref(audio);
        /* One record, in the call it is about (while it is in the room). */
        if (subject)
            eng_trace_log(subject->s, "info", "conference %s: \"%s\" said to %zu member(s)", r->name, a->text, told);
    }
    free(a);
}

/* The others hear that M joined or left: a tone, or its name. */
static void tell_others(eng_conf_member *m, bool joined)
{
    eng_conf *r = m->room;
    if (r->announce_mode == SCN_ANNOUNCE_TONE) {
        for (eng_conf_member *o = r->members; o; o = o->next)
            if (o != m)
                note_tone(o);
    } else if (r->announce_mode == SCN_ANNOUNCE_NAME && r->count > (joined ? 1u : 0u)) {
        const char *who = m->name && *m->name ? m->name : m->number;
        announce *a = cr_xcalloc(1, sizeof *a);
        snprintf(a->text, sizeof a->text, "%.120s %s the conference.", who && *who ? who : "Someone",
                 joined ? "joined" : "left");
        a->room = r;
        a->subject = m->id;
        a->next = r->announces;
        r->announces = a;
        a->req = media_tts_get(eng_tts(r->e, m->c->prog), a->text, r->language, r->voice, announce_cb, a);
    }
}

/* Music for a member alone in the room; none once another joins. */
static void music_update(eng_conf *r)
{
    eng_conf_member *alone = r->count == 1 ? r->members : NULL;
    if (r->music_on == alone)
        return;
    eng_music_stop(r->music);
    r->music = NULL;
    r->music_on = NULL;
    if (alone && r->music_path) {
        note_stop(alone);
        r->music = eng_music_start(r->e, alone->leg, r->music_path);
        r->music_on = alone;
    }
}

/* ---- events in every member's call ---- */

static void room_event(eng_conf *r, const eng_conf_member *who, int ev)
{
    const char *names[] = {"conference_room", "conference_members", "conference_member",
                           "conference_member_id"};
    /* Variables of other calls are the engine's writes, not this strand's. */
    eng_strand *was = r->e->running;
    r->e->running = &eng_sys_strand;
    for (eng_conf_member *m = r->members; m; m = m->next) {
        eng_call *c = m->c;
        cr_value v[4] = {cr_val_cstr(r->name), cr_val_num((double)r->count),
                         cr_val_cstr(who->number ? who->number : ""), cr_val_num(who->id)};
        for (int i = 0; i < 4; i++)
            eng_var_set(c, names[i], v[i]);
        eng_trace_var tv[4];
        for (int i = 0; i < 4; i++)
            tv[i] = (eng_trace_var){names[i], v[i]};
        eng_call_raise(c, ev, NULL, NULL, NULL, NULL, tv, 4);
    }
    r->e->running = was;
}

static void trace_member(eng_conf_member *m, const char *phase, const char *cause)
{
    eng_trace_rec r = {.event = "conference", .phase = phase, .room = m->room->name, .member = m->id,
                       .cause = cause};
    eng_trace_meet(m->c, m->s, &r);
}

/* ---- joining and leaving ---- */

static void member_leave(eng_conf_member *m, const char *status)
{
    eng_conf *r = m->room;
    eng_call *c = m->c;
    note_stop(m);
    if (r->music_on == m) {
        eng_music_stop(r->music);
        r->music = NULL;
        r->music_on = NULL;
    }
    if (m->leg)
        drv(r)->ops->mix_leave(drv(r), m->leg);
    if (m->prev)
        m->prev->next = m->next;
    else
        r->members = m->next;
    if (m->next)
        m->next->prev = m->prev;
    else
        r->tail = m->prev;
    r->count--;
    eng_rare_mut(c)->conf = NULL;
    eng_dtmf_unwatch(m->s);
    eng_strand_var_set(m->s, "conference_status", cr_val_cstr(status));
    eng_strand_var_set(m->s, "conference_members", cr_val_num((double)r->count));
    trace_member(m, "end", status);
    /* The others hear of it, and their calls get the event. */
    tell_others(m, false);
    room_event(r, m, SCN_EV_CONFERENCE_LEAVE);
    if (!c->ending) {
        cr_value v = cr_val_cstr(m->number ? m->number : "");
        eng_var_set(c, "conference_member", v);
        eng_var_set(c, "conference_member_id", cr_val_num(m->id));
        eng_trace_var tv[] = {{"conference_room", cr_val_cstr(r->name)},
                              {"conference_members", cr_val_num((double)r->count)},
                              {"conference_member", v},
                              {"conference_member_id", cr_val_num(m->id)}};
        eng_call_raise(c, SCN_EV_CONFERENCE_LEAVE, NULL, NULL, NULL, NULL, tv, 4);
    }
    music_update(r);
    free(m->number);
    free(m->name);
    free(m);
    if (r->count == 0)
        room_free(r);
}

/* The member M's keys: the mute key toggles, the leave key leaves. */
static bool key_hit(const char *keys, const char *key)
{
    size_t n = strlen(keys), k = key ? strlen(key) : 0;
    return k && n >= k && strcmp(keys + n - k, key) == 0;
}

static void set_muted(eng_conf_member *m, bool muted)
{
    m->muted = muted;
    drv(m->room)->ops->mix_join(drv(m->room), m->leg, m->room->mix, mix_flags(m));
}

static void dtmf_cb(eng_strand *s, char digit, void *arg)
{
    eng_conf_member *m = arg;
    size_t n = strlen(m->keys);
    if (n == sizeof m->keys - 1) {
        memmove(m->keys, m->keys + 1, n - 1);
        n--;
    }
    m->keys[n] = digit;
    m->keys[n + 1] = '\0';
    if (key_hit(m->keys, m->leave_key)) {
        member_leave(m, "left");
        eng_strand_resume(s, APP_DONE);
        return;
    }
    if (key_hit(m->keys, m->mute_key)) {
        m->keys[0] = '\0';
        set_muted(m, !m->muted);
        eng_strand_var_set(s, "conference_muted", cr_val_bool(m->muted));
        eng_trace_log(s, "info", "conference %s: member %u %s (%s)", m->room->name, m->id,
                      m->muted ? "muted" : "unmuted", m->mute_key);
    }
}

/* ---- the PIN ---- */

#define PIN_MAX 16
#define PIN_WAIT 5.0

typedef struct eng_conf_pin {
    eng_strand *s;
    eng_conf_join j;           /* strings in the call's arena */
    eng_speech *speech;
    loop_timer *timer;
    char digits[PIN_MAX + 1];
    size_t n;
    int tries;
} eng_conf_pin;

static app_status enter(eng_strand *s, const eng_conf_join *j);

static void pin_stop(eng_conf_pin *w)
{
    if (w->speech)
        eng_speech_cancel(w->speech);
    w->speech = NULL;
    if (w->timer)
        loop_timer_stop(w->s->call->e->l, w->timer);
    w->timer = NULL;
    eng_dtmf_unwatch(w->s);
}

static void pin_ask(eng_conf_pin *w);

/* The digits so far are the PIN (or not): join, ask again, or give up. */
static void pin_check(eng_conf_pin *w)
{
    eng_strand *s = w->s;
    eng_call *c = s->call;
    const scn_conference *cf = w->j.conf;
    w->digits[w->n] = '\0';
    bool member = cf->pin && strcmp(w->digits, cf->pin) == 0;
    bool moderator = cf->moderator_pin && strcmp(w->digits, cf->moderator_pin) == 0;
    if (member || moderator) {
        pin_stop(w);
        eng_rare_mut(c)->conf_pin = NULL;
        eng_conf_join j = w->j;
        j.moderator = j.moderator || moderator;
        app_status st = enter(s, &j);
        if (st != APP_PENDING)
            eng_strand_resume(s, st);
        return;
    }
    eng_trace_log(s, "info", "conference %s: wrong PIN (attempt %d of %d)", w->j.room, w->tries + 1,
                  w->j.pin_tries);
    if (++w->tries < w->j.pin_tries) {
        pin_ask(w);
        return;
    }
    pin_stop(w);
    eng_rare_mut(c)->conf_pin = NULL;
    eng_strand_var_set(s, "conference_status", cr_val_cstr("wrong_pin"));
    eng_strand_resume(s, eng_fail(s, "wrong PIN for conference %s", w->j.room));
}

static void pin_timer_cb(loop *l, void *arg)
{
    (void)l;
    eng_conf_pin *w = arg;
    w->timer = NULL;
    pin_check(w);
}

static void pin_arm(eng_conf_pin *w)
{
    if (w->timer)
        loop_timer_stop(w->s->call->e->l, w->timer);
    w->timer = loop_timer_start(w->s->call->e->l, PIN_WAIT, pin_timer_cb, w);
}

static void pin_dtmf_cb(eng_strand *s, char digit, void *arg)
{
    (void)s;
    eng_conf_pin *w = arg;
    if (w->speech) {   /* a key during the prompt stops it */
        eng_speech_cancel(w->speech);
        w->speech = NULL;
    }
    if (digit == '#' || w->n == PIN_MAX) {
        pin_check(w);
        return;
    }
    w->digits[w->n++] = digit;
    pin_arm(w);
}

static void pin_prompted_cb(void *arg, int status, const char *msg, char digit)
{
    (void)status, (void)msg, (void)digit;
    eng_conf_pin *w = arg;
    w->speech = NULL;
    if (!w->timer)
        pin_arm(w);
}

static void pin_ask(eng_conf_pin *w)
{
    w->n = 0;
    if (w->timer)
        loop_timer_stop(w->s->call->e->l, w->timer);
    w->timer = NULL;
    w->speech = w->j.pin_prompt && *w->j.pin_prompt ? eng_speak(w->s, w->j.pin_prompt, NULL, NULL, pin_prompted_cb, w)
                                                    : NULL;
    if (!w->speech)
        pin_arm(w);
}

app_status eng_conf_start(eng_strand *s, const eng_conf_join *j)
{
    eng_call *c = s->call;
    if (!c->leg || c->ending)
        return eng_fail(s, "the call has ended");
    if (eng_rare(c)->conf || eng_rare(c)->conf_pin || eng_rare(c)->joined || eng_rare(c)->joining || eng_rare(c)->parked)
        return eng_fail(s, "the call is already in a conference, a join or a park slot");
    if (c->bridged)
        return eng_fail(s, "the call is bridged to an agent");
    if (!scn_room_name_ok(j->room))
        return eng_fail(s, "'%.80s' is not a room name (letters, digits, '_', '-', '.'; at most %d)", j->room,
                        SCN_ROOM_NAME_MAX);
    eng_strand_var_set(s, "conference_room", cr_val_cstr(j->room));
    if (!j->conf || !j->conf->pin || j->moderator)
        return enter(s, j);
    if (eng_call_answer(c) < 0)
        return eng_fail(s, "cannot answer the call");
    eng_conf_pin *w = cr_arena_alloc(&c->arena, sizeof *w);
    w->s = s;
    w->j = *j;
    w->j.room = cr_arena_strdup(&c->arena, j->room);
    w->j.pin_prompt = j->pin_prompt ? cr_arena_strdup(&c->arena, j->pin_prompt) : NULL;
    if (w->j.pin_tries < 1)
        w->j.pin_tries = 1;
    eng_rare_mut(c)->conf_pin = w;
    eng_strand_set_pending(s, w);
    eng_dtmf_watch(s, pin_dtmf_cb, w);
    pin_ask(w);
    return APP_PENDING;
}

/* S's caller enters the room (its PIN, if any, was right). */
static app_status enter(eng_strand *s, const eng_conf_join *j)
{
    eng_call *c = s->call;
    eng_engine *e = c->e;
    eng_conf *r = room_find(e, j->room);
    if (r && (int)r->count >= r->max_members && !j->moderator) {
        eng_strand_var_set(s, "conference_status", cr_val_cstr("full"));
        return eng_fail(s, "conference %s is full (%d members)", r->name, r->max_members);
    }
    if (eng_call_answer(c) < 0)
        return eng_fail(s, "cannot answer the call");
    bool made = !r;
    if (made)
        r = room_new(e, j->room, j->conf, c->prog);
    eng_conf_member *m = cr_xcalloc(1, sizeof *m);
    m->room = r;
    m->c = c;
    m->s = s;
    m->leg = c->leg;
    m->muted = j->muted;
    m->moderator = j->moderator;
    m->joined = loop_now(e->l);
    m->mute_key = j->conf ? j->conf->mute_key : "*6";
    m->leave_key = j->conf ? j->conf->leave_key : "*#";
    cr_value v;
    if (eng_var_get(c, "caller_number", &v) && v.kind == CR_VAL_STR)
        m->number = cr_xstrndup(v.str, v.len);
    if (eng_var_get(c, "caller_name", &v) && v.kind == CR_VAL_STR)
        m->name = cr_xstrndup(v.str, v.len);
    if (e->tel->ops->mix_join(e->tel, m->leg, r->mix, mix_flags(m)) < 0) {
        free(m->number);
        free(m->name);
        free(m);
        if (made)
            room_free(r);
        return eng_fail(s, "cannot join the room's media");
    }
    m->id = ++r->next_id;
    m->prev = r->tail;
    if (r->tail)
        r->tail->next = m;
    else
        r->members = m;
    r->tail = m;
    r->count++;
    eng_rare_mut(c)->conf = m;
    eng_strand_set_pending(s, m);
    eng_strand_var_set(s, "conference_member_id", cr_val_num(m->id));
    eng_strand_var_set(s, "conference_moderator", cr_val_bool(m->moderator));
    eng_strand_var_set(s, "conference_muted", cr_val_bool(m->muted));
    eng_strand_var_set(s, "conference_members", cr_val_num((double)r->count));
    trace_member(m, "start", NULL);
    eng_dtmf_watch(s, dtmf_cb, m);
    tell_others(m, true);
    room_event(r, m, SCN_EV_CONFERENCE_JOIN);
    music_update(r);
    return APP_PENDING;
}

void eng_conf_cancel(eng_strand *s)
{
    eng_call *c = s->call;
    eng_conf_member *m = eng_rare(c)->conf;
    if (m && m->s == s)
        member_leave(m, c->ending ? "hangup" : "cancelled");
    if (eng_rare(c)->conf_pin && eng_rare(c)->conf_pin->s == s) {
        pin_stop(eng_rare(c)->conf_pin);
        eng_rare_mut(c)->conf_pin = NULL;
    }
}

/* ---- the admin API ---- */

static eng_conf_member *member_find(eng_engine *e, const char *room, unsigned id, int *rc)
{
    eng_conf *r = room ? room_find(e, room) : NULL;
    *rc = r ? -2 : -1;
    for (eng_conf_member *m = r ? r->members : NULL; m; m = m->next)
        if (m->id == id) {
            *rc = 0;
            return m;
        }
    return NULL;
}

void eng_conf_each(eng_engine *e, void (*fn)(void *arg, const eng_conf_room_info *r), void *arg)
{
    for (eng_conf *r = e->confs; r; r = r->next) {
        eng_conf_member_info *mi = cr_xcalloc(r->count ? r->count : 1, sizeof *mi);
        size_t n = 0;
        for (eng_conf_member *m = r->members; m; m = m->next)
            mi[n++] = (eng_conf_member_info){.id = m->id, .call_id = eng_call_idp(m->c), .number = m->number,
                                             .name = m->name, .muted = m->muted, .moderator = m->moderator,
                                             .joined = m->joined};
        eng_conf_room_info ri = {.name = r->name, .max_members = r->max_members, .created = r->created,
                                 .count = n, .members = mi};
        fn(arg, &ri);
        free(mi);
    }
}

int eng_conf_set_muted(eng_engine *e, const char *room, unsigned member, bool muted, const char *by)
{
    int rc;
    eng_conf_member *m = member_find(e, room, member, &rc);
    if (!m)
        return rc;
    if (m->muted != muted)
        set_muted(m, muted);
    const char *name = "conference_muted";
    cr_value v = cr_val_bool(muted);
    eng_call_set_vars(m->c, by, &name, &v, 1);
    return 0;
}

int eng_conf_kick(eng_engine *e, const char *room, unsigned member, const char *by)
{
    int rc;
    eng_conf_member *m = member_find(e, room, member, &rc);
    if (!m)
        return rc;
    eng_strand *s = m->s;
    eng_trace_log(s, "info", "conference %s: member %u removed by %s", m->room->name, m->id, by);
    member_leave(m, "kicked");
    eng_strand_resume(s, APP_DONE);
    return 0;
}
