/* speech.c — speech for the media apps: text to the engine's speech cache
 * (media/tts_cache: synthesis on the worker pool, never on the loop), then
 * the samples to the driver's play_pcm on the caller's leg. A speech object
 * holds its cache request or its driver operation, and a reference on the
 * samples while they play. */
#include <stdio.h>
#include <stdlib.h>

#include "engine/engine_int.h"
#include "media/tts_cache.h"
#include "util/alloc.h"

struct eng_speech {
    eng_strand *s;
    eng_call *c;
    tel_leg *leg;              /* where it is played: the call's leg, or another (eng_speak_to) */
    media_tts_req *req;
    tel_op *op;
    media_audio *audio;
    tel_op_done_cb done;
    void *arg;
    char *text, *language, *voice;
};

static void speech_free(eng_speech *sp)
{
    media_audio_unref(sp->audio);
    free(sp->text);
    free(sp->language);
    free(sp->voice);
    free(sp);
}

static void played_cb(void *arg, int status, const char *msg, char digit)
{
    eng_speech *sp = arg;
    tel_op_done_cb done = sp->done;
    void *a = sp->arg;
    sp->op = NULL;
    speech_free(sp);
    done(a, status, msg, digit);
}

static void spoken_cb(void *arg, media_audio *audio, bool cached, const char *err)
{
    eng_speech *sp = arg;
    sp->req = NULL;
    eng_call *c = sp->c;
    char msg[600];
    if (!audio) {
        tel_op_done_cb done = sp->done;
        void *a = sp->arg;
        snprintf(msg, sizeof msg, "cannot say '%.200s': %s", sp->text, err ? err : "synthesis failed");
        speech_free(sp);
        done(a, -1, msg, 0);
        return;
    }
    sp->audio = audio;
    snprintf(msg, sizeof msg, "say \"%.400s\" (%s%s%s, %.2f s, %s)", sp->text, sp->language,
             *sp->voice ? "+" : "", sp->voice, media_audio_seconds(audio), cached ? "cached" : "synthesized");
    eng_trace_rec r = {.kind = ENG_TR_LOG, .level = "info", .message = msg};
    eng_emit(c, sp->s, &r);
    tel_driver *d = c->e->tel;
    tel_leg *leg = sp->leg ? sp->leg : c->leg;
    if (!leg || c->ending) {
        tel_op_done_cb done = sp->done;
        void *a = sp->arg;
        speech_free(sp);
        done(a, -1, "the call has ended", 0);
        return;
    }
    sp->op = d->ops->play_pcm(d, leg, audio->pcm, audio->count, played_cb, sp);
    if (!sp->op) {
        tel_op_done_cb done = sp->done;
        void *a = sp->arg;
        speech_free(sp);
        done(a, -1, "cannot play speech", 0);
    }
}

struct media_tts_cache *eng_tts(eng_engine *e, const scn_program *prog)
{
    size_t max = (size_t)(prog->settings.tts_cache_mb > 0 ? prog->settings.tts_cache_mb : 0) << 20;
    if (!e->tts)
        e->tts = media_tts_cache_new(e->l, max);
    else
        media_tts_cache_set_max(e->tts, max);
    return e->tts;
}

eng_speech *eng_speak(eng_strand *s, const char *text, const char *language, const char *voice,
                      tel_op_done_cb done, void *arg)
{
    eng_call *c = s->call;
    eng_engine *e = c->e;
    const scn_settings *set = &c->prog->settings;
    if (!language || !*language)
        language = set->tts_language ? set->tts_language : "en-us";
    if (!voice || !*voice)
        voice = set->tts_voice ? set->tts_voice : "";
    eng_tts(e, c->prog);
    eng_speech *sp = cr_xcalloc(1, sizeof *sp);
    sp->s = s;
    sp->c = c;
    sp->done = done;
    sp->arg = arg;
    sp->text = cr_xstrdup(text);
    sp->language = cr_xstrdup(language);
    sp->voice = cr_xstrdup(voice);
    sp->req = media_tts_get(e->tts, text, language, voice, spoken_cb, sp);
    return sp;
}

eng_speech *eng_speak_to(eng_strand *s, tel_leg *leg, const char *text, tel_op_done_cb done, void *arg)
{
    eng_speech *sp = eng_speak(s, text, NULL, NULL, done, arg);
    if (sp)
        sp->leg = leg;
    return sp;
}

void eng_speech_cancel(eng_speech *sp)
{
    if (!sp)
        return;
    if (sp->req)
        media_tts_cancel(sp->req);
    if (sp->op) {
        tel_driver *d = sp->c->e->tel;
        d->ops->op_cancel(d, sp->op);
    }
    speech_free(sp);
}
