/* recording.c — record_call: both sides of a bridged call into one WAV
 * file, stereo (caller left, agent right) or mixed. The driver's tap gives
 * 20 ms of each side at a time, aligned (silence where a side sent
 * nothing); frames go to a media/wav_writer, which writes on the worker
 * pool. Started before the bridge, it waits for the answer (dial calls
 * eng_record_bridged). One recording per call, kept in a call slot. */
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"
#include "media/wav_writer.h"
#include "util/alloc.h"

typedef struct eng_rec {
    eng_call *c;
    tel_op *op;
    media_wav_writer *w;
    bool stereo, paused, done;
    double started;
} eng_rec;

static const char rec_key[] = "record_call";

static void rec_frames_cb(void *arg, const int16_t *a, const int16_t *b, size_t n)
{
    eng_rec *r = arg;
    int16_t out[2 * 160];
    if (n > 160)
        n = 160;
    for (size_t i = 0; i < n; i++) {
        int32_t x = r->paused ? 0 : a[i], y = r->paused ? 0 : b[i];
        if (r->stereo) {
            out[2 * i] = (int16_t)x;
            out[2 * i + 1] = (int16_t)y;
        } else {
            int32_t m = x + y;
            out[i] = (int16_t)(m > 32767 ? 32767 : m < -32768 ? -32768 : m);
        }
    }
    media_wav_write(r->w, out, n);
}

/* The recording is over (stop, or a leg ended): the file is closed on the
 * pool, record_call_duration set. */
static void rec_end(eng_rec *r)
{
    if (r->done)
        return;
    r->done = true;
    if (r->op) {
        tel_driver *d = r->c->e->tel;
        d->ops->op_cancel(d, r->op);
        r->op = NULL;
    }
    double dur = r->started > 0 ? loop_now(r->c->e->l) - r->started : 0;
    eng_var_set_num(r->c, "record_call_duration", dur);
    media_wav_close(r->w, NULL, NULL);
    r->w = NULL;
}

static void rec_done_cb(void *arg, int status, const char *msg, char digit)
{
    (void)status, (void)msg, (void)digit;
    eng_rec *r = arg;
    r->op = NULL;
    rec_end(r);
}

static void rec_finish(void *value)
{
    eng_rec *r = value;
    rec_end(r);   /* never bridged: an empty file, duration 0 */
    free(r);
}

/* Starts the tap if the call is bridged. */
static void rec_tap(eng_rec *r)
{
    eng_call *c = r->c;
    tel_leg *agent = eng_call_agent_leg(c);
    if (r->op || r->done || !agent || !c->leg)
        return;
    tel_driver *d = c->e->tel;
    r->op = d->ops->tap(d, c->leg, agent, rec_frames_cb, rec_done_cb, r);
    if (r->op && r->started == 0)
        r->started = loop_now(c->e->l);
}

int eng_record_call_start(eng_strand *s, const char *path, bool stereo, const char **why)
{
    eng_call *c = s->call;
    eng_rec *r = eng_call_slot(c, rec_key);
    if (r && !r->done) {
        *why = "the call is already being recorded";
        return -1;
    }
    if (r)
        free(r);
    r = cr_xcalloc(1, sizeof *r);
    r->c = c;
    r->stereo = stereo;
    r->w = media_wav_open(c->e->l, path, stereo ? 2 : 1);
    eng_call_set_slot(c, rec_key, r, rec_finish);
    eng_var_set_str(c, "record_call_file", path);
    rec_tap(r);
    return 0;
}

int eng_record_call_control(eng_strand *s, eng_record_action act, const char **why)
{
    eng_rec *r = eng_call_slot(s->call, rec_key);
    if (!r || r->done) {
        *why = "the call is not being recorded";
        return -1;
    }
    switch (act) {
    case ENG_REC_STOP: rec_end(r); break;
    case ENG_REC_PAUSE: r->paused = true; break;
    case ENG_REC_RESUME: r->paused = false; break;
    }
    return 0;
}

void eng_record_bridged(eng_call *c)
{
    eng_rec *r = eng_call_slot(c, rec_key);
    if (r)
        rec_tap(r);
}
