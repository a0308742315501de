/* media.c — the Media family: play, read_digits, record, tone. Each runs a
 * driver operation on the caller's leg; DTMF interrupts (play
 * interruptible, read_digits prompts) are handled here from the caller's
 * DTMF events, so every driver behaves the same. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "apps/registry.h"
#include "engine/engine.h"
#include "scenario/compile.h"
#include "scenario/param.h"

#define F(type, field) offsetof(type, field)

typedef struct play_params {
    scn_templates file;
    bool interruptible;
} play_params;

typedef struct read_digits_params {
    scn_templates prompt;
    long max_digits;
    double timeout;
    const char *terminator;
    const char *var;
    long retries;
} read_digits_params;

typedef struct record_params {
    const scn_template *file;
    double max_seconds;
    bool beep;
    const char *terminators;
} record_params;

static const char *const tones[] = {"ringback", "busy", "beep", NULL};

typedef struct tone_params {
    int tone;
    double seconds;
} tone_params;

static const scn_param play_spec[] = {
    {.name = "file", .type = P_TEMPLATES, .offset = F(play_params, file), .flags = P_REQ | P_NONEMPTY | P_FILE_SOUNDS,
     .doc = "a prompt (8 kHz mono WAV) or a list played in order; a path below settings.media.sounds"},
    {.name = "interruptible", .type = P_BOOL, .offset = F(play_params, interruptible), .def = "false",
     .doc = "a DTMF digit stops the prompt and is kept in `dtmf`"},
    SCN_PARAM_END,
};

static const scn_param read_digits_spec[] = {
    {.name = "prompt", .type = P_TEMPLATES, .offset = F(read_digits_params, prompt), .flags = P_FILE_SOUNDS,
     .doc = "prompt played (interruptibly) before collecting; a path below settings.media.sounds"},
    {.name = "max_digits", .type = P_INT, .offset = F(read_digits_params, max_digits), .def = "1",
     .min = 1, .max = 64, .doc = "stop after this many digits"},
    {.name = "timeout", .type = P_DURATION, .offset = F(read_digits_params, timeout), .def = "5",
     .min = 0.1, .max = 3600, .doc = "how long to wait for each digit"},
    {.name = "terminator", .type = P_STRING, .offset = F(read_digits_params, terminator), .def = "#",
     .doc = "digit that ends the input early"},
    {.name = "var", .type = P_STRING, .offset = F(read_digits_params, var), .def = "digits",
     .doc = "variable that receives the digits"},
    {.name = "retries", .type = P_INT, .offset = F(read_digits_params, retries), .def = "0",
     .min = 0, .max = 100, .doc = "extra attempts (prompt again) when nothing was entered"},
    SCN_PARAM_END,
};

static const scn_param record_spec[] = {
    {.name = "file", .type = P_TEMPLATE, .offset = F(record_params, file), .flags = P_REQ | P_FILE_RECORDINGS,
     .doc = "WAV file to write, a path below settings.media.recordings, e.g. {call_id}.wav"},
    {.name = "max_seconds", .type = P_DURATION, .offset = F(record_params, max_seconds), .def = "60",
     .min = 0.1, .max = 86400, .doc = "longest recording"},
    {.name = "beep", .type = P_BOOL, .offset = F(record_params, beep), .def = "true",
     .doc = "play a beep first"},
    {.name = "terminators", .type = P_STRING, .offset = F(record_params, terminators), .def = "#",
     .doc = "DTMF digits that end the recording (\"\": none); other digits are ignored"},
    SCN_PARAM_END,
};

static const scn_param tone_spec[] = {
    {.name = "tone", .type = P_ENUM, .offset = F(tone_params, tone), .choices = tones, .flags = P_REQ,
     .doc = "ringback, busy or beep"},
    {.name = "seconds", .type = P_DURATION, .offset = F(tone_params, seconds), .def = "1",
     .min = 0, .max = 3600, .doc = "how long to play it"},
    SCN_PARAM_END,
};

/* ---- shared ---- */

typedef struct media_op {
    eng_strand *s;
    tel_op *op;
    const char **files;      /* resolved paths, in the call arena */
    size_t nfiles, next;
    bool interruptible;
    /* read_digits */
    const read_digits_params *rd;
    char digits[65];
    size_t ndigits;
    long attempt;
    loop_timer *timer;
    bool collecting;
    double started;
    const char *terminators; /* record */
} media_op;

static tel_driver *drv_of(eng_strand *s) { return eng_engine_driver(eng_strand_engine(s)); }

static media_op *op_new(eng_strand *s)
{
    media_op *m = cr_arena_alloc(eng_call_arena(eng_strand_call(s)), sizeof *m);
    m->s = s;
    eng_strand_set_pending(s, m);
    return m;
}

/* Every prompt is resolved before the first plays: one outside
 * settings.media.sounds fails the action (WHY) and nothing is played. */
static bool resolve_files(eng_strand *s, const scn_templates *t, const char ***files, size_t *n,
                          const char **why)
{
    cr_arena *a = eng_call_arena(eng_strand_call(s));
    *files = cr_arena_alloc(a, (t->count ? t->count : 1) * sizeof **files);
    *n = 0;
    for (size_t i = 0; i < t->count; i++) {
        const char *f = eng_file_path(s, ENG_DIR_SOUNDS, "prompt", t->items[i], why);
        if (!f)
            return false;
        (*files)[(*n)++] = cr_arena_strdup(a, f);
    }
    return true;
}

static void op_stop(media_op *m)
{
    if (m->op) {
        tel_driver *d = drv_of(m->s);
        d->ops->op_cancel(d, m->op);
        m->op = NULL;
    }
    if (m->timer) {
        loop_timer_stop(eng_strand_loop(m->s), m->timer);
        m->timer = NULL;
    }
    eng_dtmf_unwatch(m->s);
}

static void media_cancel(eng_strand *s, const scn_action *a)
{
    (void)a;
    media_op *m = eng_strand_pending(s);
    if (m)
        op_stop(m);
}

static void finish(media_op *m, app_status st)
{
    op_stop(m);
    eng_strand_resume(m->s, st);
}

/* ---- play ---- */

static void play_next(media_op *m);

static void play_done_cb(void *arg, int status, const char *msg, char digit)
{
    media_op *m = arg;
    m->op = NULL;
    if (status < 0) {
        finish(m, eng_fail(m->s, "%s", msg ? msg : "cannot play"));
        return;
    }
    if (digit && m->interruptible) {
        char d[2] = {digit, 0};
        eng_strand_var_set(m->s, "dtmf", cr_val_cstr(d));
        finish(m, APP_DONE);
        return;
    }
    play_next(m);
}

static void play_next(media_op *m)
{
    if (m->next >= m->nfiles) {
        finish(m, APP_DONE);
        return;
    }
    tel_driver *d = drv_of(m->s);
    const char *f = m->files[m->next++];
    m->op = d->ops->play(d, eng_call_leg(eng_strand_call(m->s)), f, false, play_done_cb, m);
    if (!m->op)
        finish(m, eng_fail(m->s, "cannot play '%s'", f));
}

static void play_dtmf_cb(eng_strand *s, char digit, void *arg)
{
    (void)s;
    media_op *m = arg;
    char d[2] = {digit, 0};
    eng_strand_var_set(m->s, "dtmf", cr_val_cstr(d));
    finish(m, APP_DONE);
}

static app_status play_run(eng_strand *s, const scn_action *a)
{
    const play_params *p = a->params;
    if (!eng_call_leg(eng_strand_call(s)))
        return eng_fail(s, "no caller leg");
    const char **files, *why;
    size_t nfiles;
    if (!resolve_files(s, &p->file, &files, &nfiles, &why))
        return eng_fail(s, "cannot play: %s", why);
    media_op *m = op_new(s);
    m->interruptible = p->interruptible;
    m->files = files;
    m->nfiles = nfiles;
    if (p->interruptible) {
        eng_strand_var_set(s, "dtmf", cr_val_cstr(""));
        eng_dtmf_watch(s, play_dtmf_cb, m);
    }
    play_next(m);
    return APP_PENDING;
}

/* ---- read_digits ---- */

static void rd_attempt(media_op *m);

static void rd_finish(media_op *m)
{
    m->digits[m->ndigits] = '\0';
    eng_strand_var_set(m->s, m->rd->var, cr_val_cstr(m->digits));
    if (m->ndigits == 0) {
        finish(m, eng_fail(m->s, "timeout"));
        return;
    }
    finish(m, APP_DONE);
}

static void rd_timer_cb(loop *l, void *arg)
{
    (void)l;
    media_op *m = arg;
    m->timer = NULL;
    if (m->ndigits == 0 && m->attempt < m->rd->retries) {
        m->attempt++;
        rd_attempt(m);
        return;
    }
    rd_finish(m);
}

static void rd_arm(media_op *m)
{
    if (m->timer)
        loop_timer_stop(eng_strand_loop(m->s), m->timer);
    m->timer = loop_timer_start(eng_strand_loop(m->s), m->rd->timeout, rd_timer_cb, m);
}

/* Returns false when the input is complete (the action finished). */
static bool rd_digit(media_op *m, char digit)
{
    const char *term = m->rd->terminator;
    if (term && *term && digit == term[0]) {
        rd_finish(m);
        return false;
    }
    if (m->ndigits < sizeof m->digits - 1)
        m->digits[m->ndigits++] = digit;
    if ((long)m->ndigits >= m->rd->max_digits) {
        rd_finish(m);
        return false;
    }
    return true;
}

static void rd_dtmf_cb(eng_strand *s, char digit, void *arg)
{
    (void)s;
    media_op *m = arg;
    if (!m->collecting) {
        /* A digit during the prompt stops it and counts as the first. */
        if (m->op) {
            tel_driver *d = drv_of(m->s);
            d->ops->op_cancel(d, m->op);
            m->op = NULL;
        }
        m->collecting = true;
    }
    if (rd_digit(m, digit))
        rd_arm(m);
}

static void rd_prompt_next(media_op *m);

static void rd_prompt_cb(void *arg, int status, const char *msg, char digit)
{
    media_op *m = arg;
    m->op = NULL;
    if (status < 0) {
        finish(m, eng_fail(m->s, "%s", msg ? msg : "cannot play prompt"));
        return;
    }
    if (digit) {
        rd_dtmf_cb(m->s, digit, m);
        return;
    }
    rd_prompt_next(m);
}

static void rd_prompt_next(media_op *m)
{
    if (m->next >= m->nfiles) {
        m->collecting = true;
        rd_arm(m);
        return;
    }
    tel_driver *d = drv_of(m->s);
    const char *f = m->files[m->next++];
    m->op = d->ops->play(d, eng_call_leg(eng_strand_call(m->s)), f, false, rd_prompt_cb, m);
    if (!m->op)
        finish(m, eng_fail(m->s, "cannot play '%s'", f));
}

static void rd_attempt(media_op *m)
{
    m->ndigits = 0;
    m->next = 0;
    m->collecting = false;
    rd_prompt_next(m);
}

static app_status read_digits_run(eng_strand *s, const scn_action *a)
{
    const read_digits_params *p = a->params;
    if (!eng_call_leg(eng_strand_call(s)))
        return eng_fail(s, "no caller leg");
    const char **files, *why;
    size_t nfiles;
    if (!resolve_files(s, &p->prompt, &files, &nfiles, &why))
        return eng_fail(s, "cannot play: %s", why);
    media_op *m = op_new(s);
    m->rd = p;
    m->files = files;
    m->nfiles = nfiles;
    eng_dtmf_watch(s, rd_dtmf_cb, m);
    rd_attempt(m);
    return APP_PENDING;
}

/* ---- record ---- */

/* record_duration: from the end of the beep (m->started) to now. */
static void record_set_duration(media_op *m)
{
    double d = loop_now(eng_strand_loop(m->s)) - m->started;
    eng_strand_var_set(m->s, "record_duration", cr_val_num(d > 0 ? d : 0));
}

static void record_done_cb(void *arg, int status, const char *msg, char digit)
{
    (void)digit;
    media_op *m = arg;
    m->op = NULL;
    record_set_duration(m);
    if (status < 0)
        finish(m, eng_fail(m->s, "%s", msg ? msg : "recording failed"));
    else
        finish(m, APP_DONE);
}

/* A terminator ends the recording (the driver keeps the file); any other
 * digit is ignored. */
static void record_dtmf_cb(eng_strand *s, char digit, void *arg)
{
    (void)s;
    media_op *m = arg;
    if (!digit || !strchr(m->terminators, digit))
        return;
    record_set_duration(m);
    finish(m, APP_DONE);
}

static app_status record_run(eng_strand *s, const scn_action *a)
{
    const record_params *p = a->params;
    eng_call *c = eng_strand_call(s);
    if (!eng_call_leg(c))
        return eng_fail(s, "no caller leg");
    const char *why, *path = eng_file_path(s, ENG_DIR_RECORDINGS, "recording", p->file, &why);
    if (!path)
        return eng_fail(s, "cannot record: %s", why);
    eng_strand_var_set(s, "record_file", cr_val_cstr(path));
    media_op *m = op_new(s);
    m->started = loop_now(eng_strand_loop(s)) + (p->beep ? TEL_BEEP_SECONDS : 0);
    m->terminators = p->terminators ? p->terminators : "";
    tel_driver *d = drv_of(s);
    m->op = d->ops->record(d, eng_call_leg(c), path, p->max_seconds, p->beep, record_done_cb, m);
    if (!m->op)
        return eng_fail(s, "cannot record to '%s'", path);
    if (*m->terminators)
        eng_dtmf_watch(s, record_dtmf_cb, m);
    return APP_PENDING;
}

static bool record_check(scn_compile_ctx *cx, const scn_node *action, void *params)
{
    const record_params *p = params;
    if (!p->terminators || strspn(p->terminators, "0123456789*#ABCD") == strlen(p->terminators))
        return true;
    scn_cx_error(cx, scn_map_get(action, "terminators"),
                 "terminators are DTMF digits (0-9, *, #, A-D), got '%s'", p->terminators);
    return false;
}

/* ---- tone ---- */

static void tone_done_cb(void *arg, int status, const char *msg, char digit)
{
    (void)digit;
    media_op *m = arg;
    m->op = NULL;
    finish(m, status < 0 ? eng_fail(m->s, "%s", msg ? msg : "tone failed") : APP_DONE);
}

static app_status tone_run(eng_strand *s, const scn_action *a)
{
    const tone_params *p = a->params;
    eng_call *c = eng_strand_call(s);
    if (!eng_call_leg(c))
        return eng_fail(s, "no caller leg");
    static const tel_tone map[] = {TEL_TONE_RINGBACK, TEL_TONE_BUSY, TEL_TONE_BEEP};
    media_op *m = op_new(s);
    tel_driver *d = drv_of(s);
    m->op = d->ops->tone(d, eng_call_leg(c), map[p->tone], p->seconds, tone_done_cb, m);
    if (!m->op)
        return eng_fail(s, "cannot play tone");
    return APP_PENDING;
}

const app_def app_media_table[] = {
    {.name = "play", .family = "media", .summary = "Play prompts to the caller.",
     .params = play_spec, .params_size = sizeof(play_params), .flags = APP_MEDIA | APP_WAITS,
     .run = play_run, .cancel = media_cancel},
    {.name = "read_digits", .family = "media", .summary = "Collect DTMF digits into a variable.",
     .params = read_digits_spec, .params_size = sizeof(read_digits_params),
     .flags = APP_MEDIA | APP_WAITS | APP_OWN_TIMEOUT, .run = read_digits_run, .cancel = media_cancel},
    {.name = "record", .family = "media", .summary = "Record the caller to a WAV file.",
     .params = record_spec, .params_size = sizeof(record_params),
     .flags = APP_MEDIA | APP_WAITS | APP_OUTLIVES_HANGUP, .check = record_check, .run = record_run,
     .cancel = media_cancel},
    {.name = "tone", .family = "media", .summary = "Play a tone (ringback, busy, beep).",
     .params = tone_spec, .params_size = sizeof(tone_params), .flags = APP_MEDIA | APP_WAITS,
     .run = tone_run, .cancel = media_cancel},
    APP_END,
};
