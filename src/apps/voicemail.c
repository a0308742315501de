/* voicemail.c — the Contact-centre family, voicemail: `voicemail` takes a
 * message for a user's box (greeting, beep, recording until `#`,
 * max_seconds, 5 s of silence or the caller's hangup; saved with its
 * metadata, e-mailed with the WAV through the durable outbox, the phones'
 * message-waiting light set); `voicemail_main` (voicemail_main.c) is the
 * owner's side. The boxes themselves (files, index, MWI) are the engine's
 * (mailbox.c). Prompts are spoken (speech synthesis, settings.media.tts_*). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "apps/registry.h"
#include "apps/voicemail.h"
#include "engine/engine.h"
#include "scenario/param.h"
#include "services/svc.h"
#include "util/alloc.h"

#define F(type, field) offsetof(type, field)


/* Digits said one by one ("7 9 1 6"), for numbers read out. */
const char *vm_spaced_digits(cr_arena *a, const char *v)
{
    size_t n = strlen(v);
    char *out = cr_arena_alloc(a, 2 * n + 1), *w = out;
    for (size_t i = 0; i < n; i++)
        if ((v[i] >= '0' && v[i] <= '9') || v[i] == '+') {
            if (w > out)
                *w++ = ' ';
            *w++ = v[i] == '+' ? ' ' : v[i];
        }
    *w = '\0';
    return out;
}

/* A value from the network (the caller's number and name) for a mail:
 * control characters become spaces (a header line or the body cannot be
 * broken up by them). In the call arena. */
static const char *mail_text(cr_arena *a, const char *v)
{
    char *out = cr_arena_strdup(a, v ? v : "");
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    return out;
}

/* ---- the owner's mail ---- */

/* The strand waits for the outbox to hold the message; a call that goes
 * away only detaches (the message is queued all the same). */
typedef struct mail_wait {
    eng_strand *s;
    void (*done)(eng_strand *s, void *arg);
    void *arg;
} mail_wait;

static void mail_queued_cb(void *arg, const char *error)
{
    mail_wait *mw = arg;
    if (mw->s) {
        if (error)
            eng_trace_log(mw->s, "warning", "voicemail: the e-mail was not queued: %s", error);
        mw->done(mw->s, mw->arg);
    }
    free(mw);
}

/* ---- voicemail ---- */

typedef struct vm_params {
    const scn_template *box;
    const char *greeting;
    double max_seconds, min_seconds;
} vm_params;

static const char *const greeting_words[] = {"unavailable", "busy", NULL};

static const scn_param vm_spec[] = {
    {.name = "box", .type = P_TEMPLATE, .offset = F(vm_params, box), .def = "{called_number}",
     .doc = "the box: a user with `voicemail:` (a template)"},
    {.name = "greeting", .type = P_STRING, .offset = F(vm_params, greeting), .def = "unavailable",
     .flags = P_FILE_SOUNDS, .choices = greeting_words,
     .doc = "`unavailable` or `busy` (the box's recorded greeting, else a spoken default for that case), or a "
            "prompt file below settings.media.sounds"},
    {.name = "max_seconds", .type = P_DURATION, .offset = F(vm_params, max_seconds), .def = "120", .min = 1,
     .max = 3600, .doc = "longest message"},
    {.name = "min_seconds", .type = P_DURATION, .offset = F(vm_params, min_seconds), .def = "1", .min = 0,
     .max = 60, .doc = "a shorter message is not kept (voicemail_status too_short)"},
    SCN_PARAM_END,
};

typedef enum { VM_GREETING, VM_RECORD, VM_SAVE, VM_MAIL } vm_stage;

typedef struct vmop {
    eng_strand *s;
    const vm_params *p;
    eng_vm_box *box;
    const scn_user *user;
    vm_stage stage;
    tel_op *op;
    eng_speech *speech;
    eng_vm_job *job;
    mail_wait *mail;
    const char *tmp;           /* the recording (call arena) */
    const char *saved;         /* the saved WAV (call arena) */
    double rec_start, duration;
} vmop;

static void vm_stop(vmop *m)
{
    tel_driver *d = eng_strand_driver(m->s);
    if (m->op) {
        d->ops->op_cancel(d, m->op);
        m->op = NULL;
    }
    if (m->speech) {
        eng_speech_cancel(m->speech);
        m->speech = NULL;
    }
    eng_dtmf_unwatch(m->s);
}

static void vm_finish(vmop *m, const char *status, const char *error)
{
    vm_stop(m);
    eng_strand_var_set(m->s, "voicemail_status", cr_val_cstr(status));
    eng_strand_var_set(m->s, "voicemail_duration", cr_val_num(m->duration));
    if (!m->saved)
        eng_strand_var_set(m->s, "voicemail_file", cr_val_cstr(""));
    eng_strand_resume(m->s, error ? eng_fail(m->s, "%s", error) : APP_DONE);
}

static void mailed(eng_strand *s, void *arg)
{
    (void)s;
    vmop *m = arg;
    m->mail = NULL;
    vm_finish(m, "saved", NULL);
}

/* The message, saved as PATH, goes to the box's e-mail address. */
static void vm_mail(vmop *m)
{
    eng_strand *s = m->s;
    eng_call *c = eng_strand_call(s);
    const char *to = m->user->voicemail->email ? m->user->voicemail->email : m->user->email;
    struct svc_ctx *svc = eng_engine_services(eng_strand_engine(s));
    if (!to) {
        vm_finish(m, "saved", NULL);
        return;
    }
    cr_arena *a = eng_call_arena(c);
    cr_value v;
    const char *caller = mail_text(a, eng_var_get(c, "caller_number", &v) && v.kind == CR_VAL_STR ? v.str : "");
    const char *name = mail_text(a, eng_var_get(c, "caller_name", &v) && v.kind == CR_VAL_STR ? v.str : "");
    const scn_env *env = eng_strand_env(s);
    time_t t = (time_t)env->now + env->utc_offset;
    struct tm tm;
    gmtime_r(&t, &tm);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
    const char *subject = cr_arena_printf(a, "Voicemail from %s%s%s%s for %s", *name ? name : caller,
                                          *name ? " (" : "", *name ? caller : "", *name ? ")" : "",
                                          eng_vm_box_name(m->box));
    const char *body = cr_arena_printf(a,
                                       "%s (%s) left a message of %.0f seconds for %s on %s.\n"
                                       "It is attached (%s).\n",
                                       *name ? name : "A caller", *caller ? caller : "unknown number", m->duration,
                                       eng_vm_box_name(m->box), when,
                                       strrchr(m->saved, '/') ? strrchr(m->saved, '/') + 1 : m->saved);
    const char *const tos[] = {to};
    const char *const attach[] = {m->saved};
    svc_mail mail = {.to = tos, .to_count = 1, .subject = subject, .body = body, .attach = attach, .attach_count = 1};
    eng_trace_email(s, to, subject, body);
    m->stage = VM_MAIL;
    if (!svc) {
        vm_finish(m, "saved", NULL);
        return;
    }
    m->mail = cr_xcalloc(1, sizeof *m->mail);
    m->mail->s = s;
    m->mail->done = mailed;
    m->mail->arg = m;
    svc_mail_queue(svc, &mail, mail_queued_cb, m->mail);   /* capture mode: done before it returns */
}

static void saved_cb(void *arg, const char *path, const char *err)
{
    vmop *m = arg;
    m->job = NULL;
    if (!path) {
        vm_finish(m, "failed", err ? err : "the message could not be saved");
        return;
    }
    m->saved = cr_arena_strdup(eng_call_arena(eng_strand_call(m->s)), path);
    eng_strand_var_set(m->s, "voicemail_file", cr_val_cstr(m->saved));
    unsigned n, o;
    eng_vm_box_counts(m->box, &n, &o);
    eng_trace_log(m->s, "info", "voicemail %s: message saved (%.1f s): %u new, %u old", eng_vm_box_name(m->box),
                  m->duration, n, o);
    vm_mail(m);
}

/* The recording is over (STATUS < 0: it failed). */
static void recorded(vmop *m, int status, const char *msg)
{
    eng_dtmf_unwatch(m->s);
    double now = loop_now(eng_strand_loop(m->s));
    m->duration = now > m->rec_start ? now - m->rec_start : 0;
    m->duration = (double)(long)(m->duration * 10 + 0.5) / 10;
    if (status < 0) {
        eng_vm_discard(eng_strand_call(m->s), m->tmp);
        vm_finish(m, "failed", msg ? msg : "the recording failed");
        return;
    }
    if (m->duration < m->p->min_seconds) {
        eng_trace_log(m->s, "info", "voicemail %s: %.1f s is too short: not kept", eng_vm_box_name(m->box),
                      m->duration);
        eng_vm_discard(eng_strand_call(m->s), m->tmp);
        vm_finish(m, "too_short", NULL);
        return;
    }
    m->stage = VM_SAVE;
    m->job = eng_vm_save(m->s, m->box, m->tmp, m->duration, saved_cb, m);
}

static void record_done_cb(void *arg, int status, const char *msg, char digit)
{
    (void)digit;
    vmop *m = arg;
    m->op = NULL;
    recorded(m, status, msg);
}

static void vm_dtmf_cb(eng_strand *s, char digit, void *arg);

static void record_start(vmop *m)
{
    eng_strand *s = m->s;
    eng_call *c = eng_strand_call(s);
    if (eng_call_ended(c) || !eng_call_leg(c)) {
        vm_finish(m, "too_short", NULL);   /* gone before the beep: nothing to keep */
        return;
    }
    const char *why, *path = eng_vm_record_path(s, m->box, &why);
    if (!path) {
        vm_finish(m, "failed", why);
        return;
    }
    m->tmp = cr_arena_strdup(eng_call_arena(c), path);
    m->stage = VM_RECORD;
    m->rec_start = loop_now(eng_strand_loop(s)) + TEL_BEEP_SECONDS;
    tel_driver *d = eng_strand_driver(s);
    m->op = d->ops->record(d, eng_call_leg(c), m->tmp, m->p->max_seconds, true, VM_SILENCE_SECONDS, record_done_cb, m);
    if (!m->op) {
        vm_finish(m, "failed", "cannot record");
        return;
    }
    eng_dtmf_watch(s, vm_dtmf_cb, m);
}

static void greeting_done_cb(void *arg, int status, const char *msg, char digit)
{
    (void)digit;
    vmop *m = arg;
    m->op = NULL;
    m->speech = NULL;
    if (status < 0 && !eng_call_ended(eng_strand_call(m->s)))
        eng_trace_log(m->s, "warning", "voicemail %s: greeting failed: %s", eng_vm_box_name(m->box),
                      msg ? msg : "");
    record_start(m);
}

/* During the greeting a key skips to the beep; during the recording `#`
 * ends it (the file is kept). */
static void vm_dtmf_cb(eng_strand *s, char digit, void *arg)
{
    (void)s;
    vmop *m = arg;
    if (m->stage == VM_GREETING) {
        vm_stop(m);
        record_start(m);
    } else if (m->stage == VM_RECORD && digit == '#' && m->op) {
        tel_driver *d = eng_strand_driver(m->s);
        d->ops->op_cancel(d, m->op);
        m->op = NULL;
        recorded(m, 0, NULL);
    }
}

static void greeting_start(vmop *m)
{
    eng_strand *s = m->s;
    eng_call *c = eng_strand_call(s);
    tel_driver *d = eng_strand_driver(s);
    const vm_params *p = m->p;
    const char *why, *file = NULL;
    bool word = strcmp(p->greeting, "unavailable") == 0 || strcmp(p->greeting, "busy") == 0;
    if (!word) {
        file = eng_file_resolve(s, ENG_DIR_SOUNDS, "greeting", p->greeting, &why);
        if (!file)
            eng_trace_log(s, "warning", "voicemail: greeting refused: %s", why);
    } else {
        const char *own = eng_vm_greeting_path(s, m->box, &why);
        struct stat st;
        if (own && stat(own, &st) == 0 && S_ISREG(st.st_mode))
            file = own;   /* the owner's recorded greeting */
    }
    m->stage = VM_GREETING;
    eng_dtmf_watch(s, vm_dtmf_cb, m);
    if (file) {
        m->op = d->ops->play(d, eng_call_leg(c), file, false, greeting_done_cb, m);
        if (m->op)
            return;
    }
    const scn_user *u = m->user;
    const char *who = u->name && strcmp(u->name, u->number) != 0
                          ? u->name
                          : cr_arena_printf(eng_call_arena(c), "extension %s",
                                            vm_spaced_digits(eng_call_arena(c), u->number));
    const char *text = cr_arena_printf(eng_call_arena(c), "%s is %s. Please leave a message after the tone.", who,
                                       strcmp(p->greeting, "busy") == 0 ? "on the phone" : "not available");
    m->speech = eng_speak(s, text, NULL, NULL, greeting_done_cb, m);
}

static app_status vm_run(eng_strand *s, const scn_action *a)
{
    const vm_params *p = a->params;
    eng_call *c = eng_strand_call(s);
    const char *name = eng_render(s, p->box, SCN_ESC_NONE);
    eng_strand_var_set(s, "voicemail_box", cr_val_cstr(name));
    eng_strand_var_set(s, "voicemail_duration", cr_val_num(0));
    eng_strand_var_set(s, "voicemail_file", cr_val_cstr(""));
    eng_vm_box *box = eng_vm_box_get(c, name);
    if (!box) {
        eng_strand_var_set(s, "voicemail_status", cr_val_cstr("failed"));
        return eng_fail(s, "no voicemail box '%s' (a user with voicemail:)", name);
    }
    if (!eng_call_leg(c) || eng_call_answer(c) < 0) {
        eng_strand_var_set(s, "voicemail_status", cr_val_cstr("failed"));
        return eng_fail(s, "cannot answer the call");
    }
    vmop *m = cr_arena_alloc(eng_call_arena(c), sizeof *m);
    m->s = s;
    m->p = p;
    m->box = box;
    m->user = scn_program_user(eng_call_program(c), name);
    eng_strand_set_pending(s, m);
    greeting_start(m);
    return APP_PENDING;
}

static void vm_cancel(eng_strand *s, const scn_action *a)
{
    (void)a;
    vmop *m = eng_strand_pending(s);
    if (!m)
        return;
    vm_stop(m);
    eng_vm_job_detach(m->job);
    m->job = NULL;
    if (m->mail)
        m->mail->s = NULL;
    m->mail = NULL;
}

const app_def app_voicemail_table[] = {
    {.name = "voicemail", .family = "contact",
     .summary = "Take a message for a user's voicemail box: greeting, beep, recording; saved, e-mailed, MWI.",
     .params = vm_spec, .params_size = sizeof(vm_params), .flags = APP_MEDIA | APP_OUTLIVES_HANGUP,
     .run = vm_run, .cancel = vm_cancel},
    APP_END,
};
