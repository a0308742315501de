/* recording.c — record_call: the recording of a bridged call (both sides),
 * started, stopped, paused and resumed by actions (a `dtmf` handler can
 * pause it while the caller reads a card number). The work is the engine's
 * (engine/recording.c); the file name is resolved as record's. */
#include <stddef.h>

#include "apps/registry.h"
#include "engine/engine.h"
#include "scenario/param.h"

#define F(type, field) offsetof(type, field)

static const char *const formats[] = {"stereo", "mixed", NULL};
static const char *const actions[] = {"start", "stop", "pause", "resume", NULL};

typedef struct record_call_params {
    const scn_template *file;
    int format;
    int action;
} record_call_params;

static const scn_param record_call_spec[] = {
    {.name = "file", .type = P_TEMPLATE, .offset = F(record_call_params, file), .flags = P_FILE_RECORDINGS,
     .doc = "WAV file to write (action start), a path below settings.media.recordings, e.g. calls/{call_id}.wav"},
    {.name = "format", .type = P_ENUM, .offset = F(record_call_params, format), .choices = formats,
     .def = "stereo", .doc = "stereo (caller left, agent right) or mixed (one channel)"},
    {.name = "action", .type = P_ENUM, .offset = F(record_call_params, action), .choices = actions,
     .def = "start", .doc = "start, stop, pause (silence is written meanwhile) or resume"},
    SCN_PARAM_END,
};

static app_status record_call_run(eng_strand *s, const scn_action *a)
{
    const record_call_params *p = a->params;
    const char *why;
    if (p->action == 0) {
        if (!p->file)
            return eng_fail(s, "record_call: start needs file");
        const char *path = eng_file_path(s, ENG_DIR_RECORDINGS, "recording", p->file, &why);
        if (!path)
            return eng_fail(s, "cannot record: %s", why);
        if (eng_record_call_start(s, path, p->format == 0, &why) < 0)
            return eng_fail(s, "%s", why);
        return APP_DONE;
    }
    static const eng_record_action map[] = {ENG_REC_STOP, ENG_REC_STOP, ENG_REC_PAUSE, ENG_REC_RESUME};
    if (eng_record_call_control(s, map[p->action], &why) < 0)
        return eng_fail(s, "%s", why);
    return APP_DONE;
}

const app_def app_recording_table[] = {
    {.name = "record_call", .family = "media",
     .summary = "Record both sides of the bridged call (stereo or mixed) until it ends or stop.",
     .params = record_call_spec, .params_size = sizeof(record_call_params), .flags = APP_MEDIA,
     .run = record_call_run},
    APP_END,
};
