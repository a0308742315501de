/* media.c — the Media family: play, read_digits, record, tone. Each runs a
 * driver operation on the caller's leg; DTMF interrupts (play
 * interruptible, read_digits prompts) are handled here from the caller's
 * DTMF events, so every driver behaves the same. */
#include <stddef.h>
#include <time.h>
#include <stdio.h>
#include <string.h>

#include "apps/registry.h"
#include "engine/engine.h"
#include "scenario/compile.h"
#include "scenario/param.h"

#define F(type, field) offsetof(type, field)

typedef struct play_params {
    scn_templates file;
    scn_templates tts;
    bool interruptible;
} play_params;

typedef struct read_digits_params {
    scn_templates prompt;
    scn_templates tts;
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
    {.name = "file", .type = P_TEMPLATES, .offset = F(play_params, file),
     .flags = P_EXACTLY_ONE | P_NONEMPTY | P_FILE_SOUNDS,
     .doc = "a prompt (8 kHz mono WAV) or a list played in order; a path below settings.media.sounds"},
    {.name = "tts", .type = P_TEMPLATES, .offset = F(play_params, tts), .flags = P_EXACTLY_ONE | P_NONEMPTY,
     .doc = "text (a template) spoken instead of a file, or a list; settings.media.tts_language/tts_voice"},
    {.name = "interruptible", .type = P_BOOL, .offset = F(play_params, interruptible), .def = "false",
     .doc = "a DTMF digit stops the prompt and is kept in `dtmf`"},
    SCN_PARAM_END,
};

static const scn_param read_digits_spec[] = {
    {.name = "prompt", .type = P_TEMPLATES, .offset = F(read_digits_params, prompt),
     .flags = P_FILE_SOUNDS | P_AT_MOST_ONE,
     .doc = "prompt played (interruptibly) before collecting; a path below settings.media.sounds"},
    {.name = "tts", .type = P_TEMPLATES, .offset = F(read_digits_params, tts), .flags = P_AT_MOST_ONE,
     .doc = "text spoken (interruptibly) instead of a prompt file"},
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
    eng_speech *speech;      /* a tts item being synthesised or spoken */
    const char **files;      /* resolved paths or rendered texts, in the call arena */
    bool tts;                /* the items are texts to speak */
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
    tel_op_done_cb item_done;
} media_op;


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

/* Renders each text of T into the call arena (speech items). */
static void render_texts(eng_strand *s, const scn_templates *t, const char ***items, size_t *n)
{
    cr_arena *a = eng_call_arena(eng_strand_call(s));
    *items = cr_arena_alloc(a, (t->count ? t->count : 1) * sizeof **items);
    *n = 0;
    for (size_t i = 0; i < t->count; i++)
        (*items)[(*n)++] = eng_render_keep(s, t->items[i], SCN_ESC_NONE);
}

static void speech_done_cb(void *arg, int status, const char *msg, char digit);
static void finish(media_op *m, app_status st);

/* Starts item M->files[M->next++] (a file, or a text to speak); DONE gets
 * its end. False (the action failed) when it cannot start. */
static bool start_item(media_op *m, tel_op_done_cb done)
{
    tel_driver *d = eng_strand_driver(m->s);
    const char *f = m->files[m->next++];
    m->item_done = done;
    if (m->tts) {
        m->speech = eng_speak(m->s, f, NULL, NULL, speech_done_cb, m);
        return m->speech != NULL;
    }
    m->op = d->ops->play(d, eng_call_leg(eng_strand_call(m->s)), f, false, done, m);
    if (!m->op) {
        finish(m, eng_fail(m->s, "cannot play '%s'", f));
        return false;
    }
    return true;
}

static void speech_done_cb(void *arg, int status, const char *msg, char digit)
{
    media_op *m = arg;
    m->speech = NULL;
    m->item_done(m, status, msg, digit);
}

static void op_stop(media_op *m)
{
    if (m->speech) {
        eng_speech_cancel(m->speech);
        m->speech = NULL;
    }
    if (m->op) {
        tel_driver *d = eng_strand_driver(m->s);
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
    start_item(m, play_done_cb);
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
    if (p->tts.count)
        render_texts(s, &p->tts, &files, &nfiles);
    else if (!resolve_files(s, &p->file, &files, &nfiles, &why))
        return eng_fail(s, "cannot play: %s", why);
    media_op *m = op_new(s);
    m->tts = p->tts.count > 0;
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
            tel_driver *d = eng_strand_driver(m->s);
            d->ops->op_cancel(d, m->op);
            m->op = NULL;
        }
        if (m->speech) {
            eng_speech_cancel(m->speech);
            m->speech = NULL;
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
    start_item(m, rd_prompt_cb);
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
    if (p->tts.count)
        render_texts(s, &p->tts, &files, &nfiles);
    else if (!resolve_files(s, &p->prompt, &files, &nfiles, &why))
        return eng_fail(s, "cannot play: %s", why);
    media_op *m = op_new(s);
    m->tts = p->tts.count > 0;
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
    tel_driver *d = eng_strand_driver(s);
    m->op = d->ops->record(d, eng_call_leg(c), path, p->max_seconds, p->beep, 0, record_done_cb, m);
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

/* ---- say ---- */

typedef struct say_params {
    const scn_template *text, *number, *digits, *date;
    const char *language, *voice;
    bool interruptible;
} say_params;

static const scn_param say_spec[] = {
    {.name = "text", .type = P_TEMPLATE, .offset = F(say_params, text), .flags = P_EXACTLY_ONE,
     .doc = "what to say (a template)"},
    {.name = "number", .type = P_TEMPLATE, .offset = F(say_params, number), .flags = P_EXACTLY_ONE,
     .doc = "a number said as one (42: forty-two)"},
    {.name = "digits", .type = P_TEMPLATE, .offset = F(say_params, digits), .flags = P_EXACTLY_ONE,
     .doc = "digits said one by one (a phone number, a PIN); other characters are skipped"},
    {.name = "date", .type = P_TEMPLATE, .offset = F(say_params, date), .flags = P_EXACTLY_ONE,
     .doc = "a date YYYY-MM-DD (or `today`): month by name in English, as digits otherwise"},
    {.name = "language", .type = P_STRING, .offset = F(say_params, language),
     .doc = "an espeak-ng language (en-us, en, ru, de, ...); default settings.media.tts_language"},
    {.name = "voice", .type = P_STRING, .offset = F(say_params, voice),
     .doc = "an espeak-ng voice variant (f3, m2, ...); default settings.media.tts_voice"},
    {.name = "interruptible", .type = P_BOOL, .offset = F(say_params, interruptible), .def = "false",
     .doc = "a DTMF digit stops it and is kept in `dtmf`"},
    SCN_PARAM_END,
};

static bool name_ok(const char *s)
{
    return !s || (strlen(s) <= 40 && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                               "0123456789-_") == strlen(s));
}

static bool say_check(scn_compile_ctx *cx, const scn_node *action, void *params)
{
    const say_params *p = params;
    bool ok = true;
    if (!name_ok(p->language)) {
        scn_cx_error(cx, scn_map_get(action, "language"), "language is an espeak-ng name (en-us, ru, ...), "
                     "got '%s'", p->language);
        ok = false;
    }
    if (!name_ok(p->voice)) {
        scn_cx_error(cx, scn_map_get(action, "voice"), "voice is an espeak-ng variant (f3, m2, ...), got '%s'",
                     p->voice);
        ok = false;
    }
    return ok;
}

static const char *const months[] = {"January", "February", "March", "April", "May", "June", "July",
                                     "August", "September", "October", "November", "December"};

/* The text to speak, in the scratch arena; NULL (the action failed) when
 * the rendered value is not what the parameter takes. */
static const char *say_text(eng_strand *s, const say_params *p, app_status *st)
{
    cr_arena *a = eng_call_arena(eng_strand_call(s));
    const char *lang = p->language ? p->language : eng_call_program(eng_strand_call(s))->settings.tts_language;
    if (p->text)
        return eng_render(s, p->text, SCN_ESC_NONE);
    if (p->number) {
        const char *v = eng_render(s, p->number, SCN_ESC_NONE);
        double d;
        if (!cr_val_as_number(cr_val_cstr(v), &d)) {
            *st = eng_fail(s, "say: '%s' is not a number", v);
            return NULL;
        }
        return v;
    }
    if (p->digits) {
        const char *v = eng_render(s, p->digits, SCN_ESC_NONE);
        size_t n = strlen(v);
        char *out = cr_arena_alloc(a, 2 * n + 1), *w = out;
        for (size_t i = 0; i < n; i++)
            if (v[i] >= '0' && v[i] <= '9') {
                if (w > out)
                    *w++ = ' ';
                *w++ = v[i];
            }
        *w = '\0';
        if (w == out) {
            *st = eng_fail(s, "say: '%s' has no digits", v);
            return NULL;
        }
        return out;
    }
    const char *v = eng_render(s, p->date, SCN_ESC_NONE);
    int y, m, d, used = 0;
    if (strcmp(v, "today") == 0) {
        const scn_env *env = eng_strand_env(s);
        time_t t = (time_t)env->now + env->utc_offset;
        struct tm tm;
        gmtime_r(&t, &tm);
        y = tm.tm_year + 1900, m = tm.tm_mon + 1, d = tm.tm_mday;
    } else if (sscanf(v, "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3 || v[used] || m < 1 || m > 12 || d < 1 ||
               d > 31) {
        *st = eng_fail(s, "say: '%s' is not a date (YYYY-MM-DD or today)", v);
        return NULL;
    }
    if (strncmp(lang ? lang : "en", "en", 2) == 0)
        return cr_arena_printf(a, "%s %d, %d", months[m - 1], d, y);
    return cr_arena_printf(a, "%d.%d.%d", d, m, y);
}

static void say_done_cb(void *arg, int status, const char *msg, char digit)
{
    (void)digit;
    media_op *m = arg;
    m->speech = NULL;
    finish(m, status < 0 ? eng_fail(m->s, "%s", msg ? msg : "say failed") : APP_DONE);
}

static app_status say_run(eng_strand *s, const scn_action *a)
{
    const say_params *p = a->params;
    if (!eng_call_leg(eng_strand_call(s)))
        return eng_fail(s, "no caller leg");
    app_status st = APP_FAILED;
    const char *text = say_text(s, p, &st);
    if (!text)
        return st;
    eng_strand_var_set(s, "say_text", cr_val_cstr(text));
    media_op *m = op_new(s);
    if (p->interruptible) {
        eng_strand_var_set(s, "dtmf", cr_val_cstr(""));
        eng_dtmf_watch(s, play_dtmf_cb, m);
    }
    m->speech = eng_speak(s, text, p->language, p->voice, say_done_cb, m);
    return APP_PENDING;
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
    tel_driver *d = eng_strand_driver(s);
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
    {.name = "say", .family = "media", .summary = "Say text, a number, digits or a date (speech synthesis).",
     .params = say_spec, .params_size = sizeof(say_params), .flags = APP_MEDIA | APP_WAITS,
     .check = say_check, .run = say_run, .cancel = media_cancel},
    {.name = "tone", .family = "media", .summary = "Play a tone (ringback, busy, beep).",
     .params = tone_spec, .params_size = sizeof(tone_params), .flags = APP_MEDIA | APP_WAITS,
     .run = tone_run, .cancel = media_cancel},
    APP_END,
};
