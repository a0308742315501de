/* voicemail_main.c — the Contact-centre family, the box owner's side of
 * voicemail (voicemail.c takes the messages): `voicemail_main` lets the
 * owner in with the PIN, plays the messages (keep, delete, skip) and records
 * the greeting. The boxes themselves (files, index, MWI) are the engine's
 * (mailbox.c); prompts are spoken (settings.media.tts_*). */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apps/registry.h"
#include "apps/voicemail.h"
#include "engine/engine.h"
#include "scenario/param.h"
#include "util/alloc.h"

#define F(type, field) offsetof(type, field)

typedef struct vmm_params {
    const scn_template *box;
} vmm_params;

static const scn_param vmm_spec[] = {
    {.name = "box", .type = P_TEMPLATE, .offset = F(vmm_params, box),
     .doc = "the box (a template); absent: the calling user's own, else asked for by DTMF"},
    SCN_PARAM_END,
};

typedef enum { MM_ASK, MM_SAY, MM_PLAY, MM_RECORD } mm_mode;

typedef struct vmm vmm;
typedef void (*mm_next)(vmm *m, const char *digits);

typedef struct mm_msg {
    eng_vm_msg msg;            /* strings in the call arena */
    bool deleted;
} mm_msg;

struct vmm {
    eng_strand *s;
    mm_mode mode;
    mm_next next;              /* what a prompt, a message or a question leads to */
    eng_speech *speech;
    tel_op *op;
    loop_timer *timer;
    char digits[20];
    size_t nd, max;
    char term;
    double timeout;
    bool collecting;
    /* who */
    const char *box_name;
    bool ask_box;
    int tries, menu_tries;
    eng_vm_box *box;
    const scn_user *user;
    /* messages being listened to */
    mm_msg *list;
    size_t n, i;
    bool listen_old;
    /* greeting */
    const char *tmp;
    double rec_start;
    eng_vm_job *job;
};

static void mm_stop(vmm *m)
{
    tel_driver *d = eng_strand_driver(m->s);
    if (m->speech) {
        eng_speech_cancel(m->speech);
        m->speech = NULL;
    }
    if (m->op) {
        d->ops->op_cancel(d, m->op);
        m->op = NULL;
    }
    if (m->timer) {
        loop_timer_stop(eng_strand_loop(m->s), m->timer);
        m->timer = NULL;
    }
}

static void mm_done(vmm *m)
{
    mm_stop(m);
    eng_dtmf_unwatch(m->s);
    eng_strand_resume(m->s, APP_DONE);
}

/* The step ends with DIGITS (a question's answer, the key that stopped a
 * prompt or a message, "" for none). */
static void mm_then(vmm *m, const char *digits)
{
    mm_stop(m);
    mm_next next = m->next;
    m->next = NULL;
    if (next)
        next(m, digits);
}

static void ask_timer_cb(loop *l, void *arg)
{
    (void)l;
    vmm *m = arg;
    m->timer = NULL;
    m->digits[m->nd] = '\0';
    mm_then(m, m->digits);
}

static void ask_arm(vmm *m)
{
    if (m->timer)
        loop_timer_stop(eng_strand_loop(m->s), m->timer);
    m->timer = loop_timer_start(eng_strand_loop(m->s), m->timeout, ask_timer_cb, m);
}

static void mm_spoken_cb(void *arg, int status, const char *msg, char digit)
{
    (void)digit, (void)msg;
    vmm *m = arg;
    m->speech = NULL;
    if (status < 0 && eng_call_ended(eng_strand_call(m->s)))
        return;   /* the strand is being cancelled */
    if (m->mode == MM_ASK) {
        m->collecting = true;
        ask_arm(m);
    } else {
        mm_then(m, "");
    }
}

static void mm_played_cb(void *arg, int status, const char *msg, char digit)
{
    vmm *m = arg;
    m->op = NULL;
    if (status < 0)
        eng_trace_log(m->s, "warning", "voicemail_main: %s", msg ? msg : "cannot play the message");
    char d[2] = {digit, 0};
    mm_then(m, d);
}

static void mm_rec_done(vmm *m);

static void mm_recorded_cb(void *arg, int status, const char *msg, char digit)
{
    (void)digit;
    vmm *m = arg;
    m->op = NULL;
    if (status < 0)
        eng_trace_log(m->s, "warning", "voicemail_main: %s", msg ? msg : "recording failed");
    mm_rec_done(m);
}

static void mm_dtmf_cb(eng_strand *s, char digit, void *arg)
{
    (void)s;
    vmm *m = arg;
    switch (m->mode) {
    case MM_ASK:
        if (m->speech) {   /* a key during the question stops it and counts */
            eng_speech_cancel(m->speech);
            m->speech = NULL;
        }
        m->collecting = true;
        if (m->term && digit == m->term) {
            m->digits[m->nd] = '\0';
            mm_then(m, m->digits);
            return;
        }
        if (m->nd < sizeof m->digits - 1)
            m->digits[m->nd++] = digit;
        if (m->nd >= m->max) {
            m->digits[m->nd] = '\0';
            mm_then(m, m->digits);
            return;
        }
        ask_arm(m);
        break;
    case MM_SAY:
    case MM_PLAY: {
        char d[2] = {digit, 0};
        mm_then(m, d);
        break;
    }
    case MM_RECORD:
        if (digit == '#' && m->op) {
            tel_driver *drv = eng_strand_driver(m->s);
            drv->ops->op_cancel(drv, m->op);
            m->op = NULL;
            mm_rec_done(m);
        }
        break;
    }
}

/* Speaks TEXT; a key stops it and NEXT gets it ("" when none came). */
static void mm_say(vmm *m, const char *text, mm_next next)
{
    m->mode = MM_SAY;
    m->next = next;
    m->speech = eng_speak(m->s, text, NULL, NULL, mm_spoken_cb, m);
}

/* Speaks TEXT, then collects up to MAX digits (TERM ends them early)
 * with TIMEOUT seconds for each; NEXT gets them ("" for none). */
static void mm_ask(vmm *m, const char *text, size_t max, char term, double timeout, mm_next next)
{
    m->mode = MM_ASK;
    m->next = next;
    m->nd = 0;
    m->max = max;
    m->term = term;
    m->timeout = timeout;
    m->collecting = false;
    m->speech = eng_speak(m->s, text, NULL, NULL, mm_spoken_cb, m);
}

static const char *mm_text(vmm *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *mm_text(vmm *m, const char *fmt, ...)
{
    char buf[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return cr_arena_strdup(eng_call_arena(eng_strand_call(m->s)), buf);
}

static void mm_menu(vmm *m, const char *digits);
static void mm_pin(vmm *m, const char *digits);
static void mm_got_box(vmm *m, const char *digits);
static void mm_play(vmm *m, const char *digits);

static void mm_hangup(vmm *m, const char *digits)
{
    (void)digits;
    eng_dtmf_unwatch(m->s);
    eng_call_hangup(eng_strand_call(m->s), "scenario", "normal", 0);
    eng_strand_resume(m->s, APP_STOP);
}

static void mm_login(vmm *m)
{
    if (m->ask_box)
        mm_ask(m, "Please enter your mailbox number, then press pound.", 16, '#', 10, mm_got_box);
    else
        mm_ask(m, "Please enter your password, then press pound.", 16, '#', 10, mm_pin);
}

static void mm_retry(vmm *m, const char *digits)
{
    (void)digits;
    mm_login(m);
}

static void mm_got_box(vmm *m, const char *digits)
{
    m->box_name = cr_arena_strdup(eng_call_arena(eng_strand_call(m->s)), digits);
    mm_ask(m, "Please enter your password, then press pound.", 16, '#', 10, mm_pin);
}

static void mm_loaded(void *arg)
{
    vmm *m = arg;
    mm_menu(m, NULL);
}

static void mm_pin(vmm *m, const char *digits)
{
    eng_call *c = eng_strand_call(m->s);
    const scn_user *u = m->box_name ? scn_program_user(eng_call_program(c), m->box_name) : NULL;
    bool ok = u && u->voicemail && u->voicemail->pin && *digits && strcmp(u->voicemail->pin, digits) == 0;
    if (!ok) {
        m->tries++;
        /* The box number is the caller's to know: it is not logged as
         * existing or not, and the same answer is given either way. */
        eng_trace_log(m->s, "info", "voicemail_main: login failed (%d of 3)", m->tries);
        if (m->tries >= 3)
            mm_say(m, "Login incorrect. Goodbye.", mm_hangup);
        else
            mm_say(m, "Login incorrect.", mm_retry);
        return;
    }
    m->user = u;
    m->box = eng_vm_box_get(c, m->box_name);
    eng_strand_var_set(m->s, "voicemail_box", cr_val_cstr(m->box_name));
    eng_trace_log(m->s, "info", "voicemail_main: box %s logged in", m->box_name);
    m->mode = MM_SAY;
    eng_vm_box_load(m->box, mm_loaded, m);
}

/* The messages of one folder, as they are now (copied: the box changes
 * while they are listened to). */
static void mm_list(vmm *m, bool old)
{
    cr_arena *a = eng_call_arena(eng_strand_call(m->s));
    const eng_vm_msg *all;
    size_t n = eng_vm_box_messages(m->box, &all);
    m->list = cr_arena_alloc(a, (n ? n : 1) * sizeof *m->list);
    m->n = 0;
    for (size_t i = 0; i < n; i++)
        if (all[i].old == old) {
            mm_msg *x = &m->list[m->n++];
            x->msg = all[i];
            x->msg.id = cr_arena_strdup(a, all[i].id);
            x->msg.caller = cr_arena_strdup(a, all[i].caller);
            x->msg.caller_name = cr_arena_strdup(a, all[i].caller_name);
            x->msg.call_id = NULL;
            x->deleted = false;
        }
    m->i = 0;
    m->listen_old = old;
}

static void mm_greeting(vmm *m, const char *digits);

static void mm_menu_choice(vmm *m, const char *digits)
{
    if (!*digits) {
        if (++m->menu_tries >= 3) {
            mm_say(m, "Goodbye.", mm_hangup);
            return;
        }
        mm_menu(m, NULL);
        return;
    }
    m->menu_tries = 0;
    switch (digits[0]) {
    case '1':
    case '2':
        mm_list(m, digits[0] == '2');
        if (m->n == 0) {
            mm_say(m, digits[0] == '1' ? "You have no new messages." : "You have no saved messages.", mm_menu);
            return;
        }
        mm_play(m, NULL);
        return;
    case '0':
        mm_say(m, "After the tone, say your greeting, then press pound.", mm_greeting);
        return;
    case '#':
        eng_trace_log(m->s, "info", "voicemail_main: box %s: the caller leaves", m->box_name);
        mm_done(m);
        return;
    default:
        mm_menu(m, NULL);
    }
}

static void mm_menu(vmm *m, const char *digits)
{
    (void)digits;
    unsigned n, o;
    eng_vm_box_counts(m->box, &n, &o);
    mm_ask(m,
           mm_text(m,
                   "You have %u new message%s and %u saved message%s. Press 1 to listen to your new messages, 2 "
                   "for saved messages, 0 to record your greeting, or pound to leave.",
                   n, n == 1 ? "" : "s", o, o == 1 ? "" : "s"),
           1, 0, 8, mm_menu_choice);
}

/* ---- listening ---- */

static void mm_command(vmm *m, const char *digits);

static mm_msg *mm_cur(vmm *m) { return m->i < m->n ? &m->list[m->i] : NULL; }

/* The box changed: its counts, as the phones are told them (MWI). */
static void mm_counts(vmm *m)
{
    unsigned n, o;
    eng_vm_box_counts(m->box, &n, &o);
    eng_trace_log(m->s, "info", "voicemail %s: %u new, %u old", m->box_name, n, o);
}

/* The message was heard (or started): a new one is old from now on. */
static void mm_heard(vmm *m)
{
    mm_msg *x = mm_cur(m);
    if (x && !x->deleted && !x->msg.old) {
        eng_vm_mark_old(m->box, x->msg.id);
        x->msg.old = true;
        mm_counts(m);
    }
}

static void mm_options(vmm *m, const char *digits)
{
    if (digits && *digits) {
        mm_command(m, digits);
        return;
    }
    mm_ask(m, "Press 7 to delete this message, 9 to save it, 4 for the previous message, 6 for the next, or "
              "pound for the main menu.",
           1, 0, 6, mm_command);
}

static void mm_after_play(vmm *m, const char *digits)
{
    mm_heard(m);
    mm_options(m, digits);
}

/* The header said (or cut short by a key): the message itself. */
static void mm_play_file(vmm *m, const char *digits)
{
    if (digits && *digits) {
        mm_heard(m);
        mm_command(m, digits);
        return;
    }
    eng_call *c = eng_strand_call(m->s);
    mm_msg *x = mm_cur(m);
    /* Where it is now: listening moved it to old/ meanwhile, maybe. */
    eng_vm_msg where = x->msg;
    const eng_vm_msg *all;
    size_t n = eng_vm_box_messages(m->box, &all);
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i].id, x->msg.id) == 0)
            where.old = all[i].old;
    const char *path = eng_vm_msg_path(m->s, m->box, &where);
    tel_driver *d = eng_strand_driver(m->s);
    m->mode = MM_PLAY;
    m->next = mm_after_play;
    eng_trace_log(m->s, "info", "voicemail_main: box %s: playing message %s", m->box_name, x->msg.id);
    m->op = path ? d->ops->play(d, eng_call_leg(c), path, false, mm_played_cb, m) : NULL;
    if (!m->op)
        mm_then(m, "");
}

static void mm_play(vmm *m, const char *digits)
{
    (void)digits;
    while (m->i < m->n && m->list[m->i].deleted)
        m->i++;
    mm_msg *x = mm_cur(m);
    if (!x) {
        mm_say(m, "No more messages.", mm_menu);
        return;
    }
    const scn_env *env = eng_strand_env(m->s);
    static const char *const months[] = {"January", "February", "March",     "April",   "May",      "June",
                                         "July",    "August",   "September", "October", "November", "December"};
    /* The time comes from the message's metadata file: a value no calendar
     * has (a damaged or hand-edited file) is said as unknown. */
    char when[64] = "at an unknown time";
    double secs = x->msg.time;
    struct tm tm;
    if (secs >= 0 && secs < 253402300800.0) {   /* before the year 10000 */
        time_t t = (time_t)secs + env->utc_offset;
        if (gmtime_r(&t, &tm) && tm.tm_mon >= 0 && tm.tm_mon < 12)
            snprintf(when, sizeof when, "%s %d at %d %02d", months[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min);
    }
    cr_arena *a = eng_call_arena(eng_strand_call(m->s));
    const char *from = *x->msg.caller ? vm_spaced_digits(a, x->msg.caller) : "";
    mm_say(m,
           mm_text(m, "%s message %zu. Received %s, from %s.", m->listen_old ? "Saved" : "New", m->i + 1, when,
                   *from ? from : "an unknown caller"),
           mm_play_file);
}

static void mm_next_msg(vmm *m, const char *digits)
{
    (void)digits;
    m->i++;
    mm_play(m, NULL);
}

static void mm_command(vmm *m, const char *digits)
{
    mm_msg *x = mm_cur(m);
    char k = digits && *digits ? digits[0] : '6';   /* no answer: the next message */
    switch (k) {
    case '7':
        if (x && !x->deleted) {
            eng_vm_delete(m->box, x->msg.id);
            x->deleted = true;
            eng_trace_log(m->s, "info", "voicemail_main: box %s: message %s deleted", m->box_name, x->msg.id);
            mm_counts(m);
        }
        mm_say(m, "Message deleted.", mm_next_msg);
        return;
    case '9':
        mm_heard(m);
        mm_say(m, "Message saved.", mm_next_msg);
        return;
    case '4':
        while (m->i > 0) {
            m->i--;
            if (!m->list[m->i].deleted)
                break;
        }
        mm_play(m, NULL);
        return;
    case '6':
        mm_next_msg(m, NULL);
        return;
    case '#':
        mm_menu(m, NULL);
        return;
    default:
        mm_options(m, NULL);
    }
}

/* ---- the greeting ---- */

static void mm_greeting_saved(void *arg, const char *err)
{
    vmm *m = arg;
    m->job = NULL;
    if (err)
        eng_trace_log(m->s, "warning", "voicemail_main: box %s: greeting not saved: %s", m->box_name, err);
    else
        eng_trace_log(m->s, "info", "voicemail_main: box %s: greeting saved", m->box_name);
    mm_say(m, err ? "Your greeting could not be saved." : "Your greeting has been saved.", mm_menu);
}

static void mm_rec_done(vmm *m)
{
    double len = loop_now(eng_strand_loop(m->s)) - m->rec_start;
    eng_call *c = eng_strand_call(m->s);
    if (eng_call_ended(c)) {
        eng_vm_discard(c, m->tmp);
        return;
    }
    if (len < 1) {
        eng_vm_discard(c, m->tmp);
        mm_say(m, "Your greeting was too short.", mm_menu);
        return;
    }
    m->mode = MM_SAY;
    m->job = eng_vm_set_greeting(m->s, m->box, m->tmp, mm_greeting_saved, m);
}

static void mm_greeting(vmm *m, const char *digits)
{
    (void)digits;
    eng_call *c = eng_strand_call(m->s);
    const char *why, *path = eng_vm_record_path(m->s, m->box, &why);
    tel_driver *d = eng_strand_driver(m->s);
    if (!path) {
        eng_trace_log(m->s, "warning", "voicemail_main: %s", why);
        mm_menu(m, NULL);
        return;
    }
    m->tmp = cr_arena_strdup(eng_call_arena(c), path);
    m->mode = MM_RECORD;
    m->rec_start = loop_now(eng_strand_loop(m->s)) + TEL_BEEP_SECONDS;
    m->op = d->ops->record(d, eng_call_leg(c), m->tmp, 60, true, VM_SILENCE_SECONDS, mm_recorded_cb, m);
    if (!m->op)
        mm_menu(m, NULL);
}

static app_status vmm_run(eng_strand *s, const scn_action *a)
{
    const vmm_params *p = a->params;
    eng_call *c = eng_strand_call(s);
    if (!eng_call_leg(c) || eng_call_answer(c) < 0)
        return eng_fail(s, "cannot answer the call");
    vmm *m = cr_arena_alloc(eng_call_arena(c), sizeof *m);
    m->s = s;
    cr_value v;
    if (p->box)
        m->box_name = eng_render_keep(s, p->box, SCN_ESC_NONE);
    else if (eng_var_get(c, "source", &v) && v.kind == CR_VAL_STR && strncmp(v.str, "user:", 5) == 0)
        m->box_name = cr_arena_strdup(eng_call_arena(c), v.str + 5);
    m->ask_box = !m->box_name || !*m->box_name;
    eng_strand_set_pending(s, m);
    eng_dtmf_watch(s, mm_dtmf_cb, m);
    mm_login(m);
    return APP_PENDING;
}

static void vmm_cancel(eng_strand *s, const scn_action *a)
{
    (void)a;
    vmm *m = eng_strand_pending(s);
    if (!m)
        return;
    mm_stop(m);
    eng_vm_box_load_cancel(m->box, m);   /* a load asked for after the PIN must not call back into freed memory */
    eng_vm_job_detach(m->job);
    m->job = NULL;
    if (m->mode == MM_RECORD && m->tmp)
        eng_vm_discard(eng_strand_call(s), m->tmp);
}

const app_def app_voicemail_main_table[] = {
    {.name = "voicemail_main", .family = "contact",
     .summary = "The box owner's menu: PIN, listen to (keep, delete) messages, record the greeting.",
     .params = vmm_spec, .params_size = sizeof(vmm_params), .flags = APP_MEDIA, .run = vmm_run,
     .cancel = vmm_cancel},
    APP_END,
};
