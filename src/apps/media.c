/* media.c — the Media family: play, read_digits, record, tone. */
#include <stddef.h>

#include "apps/registry.h"
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
} record_params;

static const char *const tones[] = {"ringback", "busy", "beep", NULL};

typedef struct tone_params {
    int tone;
    double seconds;
} tone_params;

static const scn_param play_spec[] = {
    {.name = "file", .type = P_TEMPLATES, .offset = F(play_params, file), .flags = P_REQ | P_NONEMPTY,
     .doc = "a prompt (8 kHz mono WAV) or a list played in order; relative to settings.media.sounds"},
    {.name = "interruptible", .type = P_BOOL, .offset = F(play_params, interruptible), .def = "false",
     .doc = "a DTMF digit stops the prompt and is kept in `dtmf`"},
    SCN_PARAM_END,
};

static const scn_param read_digits_spec[] = {
    {.name = "prompt", .type = P_TEMPLATES, .offset = F(read_digits_params, prompt),
     .doc = "prompt played (interruptibly) before collecting"},
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
    {.name = "file", .type = P_TEMPLATE, .offset = F(record_params, file), .flags = P_REQ,
     .doc = "WAV file to write, e.g. recordings/{call_id}.wav"},
    {.name = "max_seconds", .type = P_DURATION, .offset = F(record_params, max_seconds), .def = "60",
     .min = 0.1, .max = 86400, .doc = "longest recording"},
    {.name = "beep", .type = P_BOOL, .offset = F(record_params, beep), .def = "true",
     .doc = "play a beep first"},
    SCN_PARAM_END,
};

static const scn_param tone_spec[] = {
    {.name = "tone", .type = P_ENUM, .offset = F(tone_params, tone), .choices = tones, .flags = P_REQ,
     .doc = "ringback, busy or beep"},
    {.name = "seconds", .type = P_DURATION, .offset = F(tone_params, seconds), .def = "1",
     .min = 0, .max = 3600, .doc = "how long to play it"},
    SCN_PARAM_END,
};

const app_def app_media_table[] = {
    {.name = "play", .family = "media", .summary = "Play prompts to the caller.",
     .params = play_spec, .params_size = sizeof(play_params), .flags = APP_MEDIA | APP_WAITS},
    {.name = "read_digits", .family = "media", .summary = "Collect DTMF digits into a variable.",
     .params = read_digits_spec, .params_size = sizeof(read_digits_params),
     .flags = APP_MEDIA | APP_WAITS | APP_OWN_TIMEOUT},
    {.name = "record", .family = "media", .summary = "Record the caller to a WAV file.",
     .params = record_spec, .params_size = sizeof(record_params), .flags = APP_MEDIA | APP_WAITS},
    {.name = "tone", .family = "media", .summary = "Play a tone (ringback, busy, beep).",
     .params = tone_spec, .params_size = sizeof(tone_params), .flags = APP_MEDIA | APP_WAITS},
    APP_END,
};
