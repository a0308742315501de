/* tts.c — espeak-ng synthesis to 8 kHz (docs/decisions/tts.md). espeak-ng
 * keeps global state: one mutex serialises every call; it is initialised
 * once, on first use, in synchronous mode (samples come to our callback in
 * the calling thread). Its native rate (22050 Hz) goes to 8 kHz with
 * libsamplerate's sinc converter, which low-passes below 4 kHz. */
#include "media/tts.h"

#include <espeak-ng/espeak_ng.h>
#include <pthread.h>
#include <samplerate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

static pthread_mutex_t tts_mu = PTHREAD_MUTEX_INITIALIZER;
static int tts_state;          /* 0: not yet, 1: ready, -1: failed */
static int tts_rate;

typedef struct {
    int16_t *s;
    size_t n, cap;
    bool too_long;
} pcm_buf;

/* At most 10 minutes of speech for one text (22050 Hz). */
#define MAX_NATIVE_SAMPLES (22050u * 600u)

static int synth_cb(short *wav, int n, espeak_EVENT *ev)
{
    pcm_buf *b = ev ? ev->user_data : NULL;
    if (!b || !wav || n <= 0)
        return 0;
    if (b->n + (size_t)n > MAX_NATIVE_SAMPLES) {
        b->too_long = true;
        return 1;   /* stop */
    }
    if (b->n + (size_t)n > b->cap) {
        b->cap = (b->n + (size_t)n) * 2;
        b->s = cr_xrealloc(b->s, b->cap * sizeof *b->s);
    }
    memcpy(b->s + b->n, wav, (size_t)n * sizeof *wav);
    b->n += (size_t)n;
    return 0;
}

static int init_locked(char *err, size_t errlen)
{
    if (tts_state == 0) {
        espeak_ng_InitializePath(NULL);
        espeak_ng_STATUS st = espeak_ng_Initialize(NULL);
        if (st == ENS_OK)
            st = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 0, NULL);
        if (st != ENS_OK) {
            tts_state = -1;
        } else {
            espeak_SetSynthCallback(synth_cb);
            tts_rate = espeak_ng_GetSampleRate();
            tts_state = tts_rate > 0 ? 1 : -1;
        }
    }
    if (tts_state < 0)
        snprintf(err, errlen, "speech synthesis is not available (espeak-ng could not start: is "
                 "espeak-ng-data installed?)");
    return tts_state > 0 ? 0 : -1;
}

bool media_tts_name_ok(const char *name)
{
    if (!name)
        return true;
    size_t n = strlen(name);
    return n <= 40 && strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
}

/* NATIVE samples at RATE -> 8 kHz. */
static int16_t *to_8k(const int16_t *in, size_t n, int rate, size_t *out_n)
{
    if (rate == MEDIA_RATE) {
        int16_t *r = cr_xmalloc((n ? n : 1) * sizeof *r);
        memcpy(r, in, n * sizeof *r);
        *out_n = n;
        return r;
    }
    double ratio = (double)MEDIA_RATE / rate;
    size_t cap = (size_t)((double)n * ratio) + 64;
    float *fi = cr_xmalloc((n ? n : 1) * sizeof *fi), *fo = cr_xmalloc(cap * sizeof *fo);
    src_short_to_float_array(in, fi, (int)n);
    SRC_DATA d = {.data_in = fi, .data_out = fo, .input_frames = (long)n, .output_frames = (long)cap,
                  .src_ratio = ratio, .end_of_input = 1};
    int16_t *r = NULL;
    if (src_simple(&d, SRC_SINC_MEDIUM_QUALITY, 1) == 0) {
        r = cr_xmalloc(((size_t)d.output_frames_gen ? (size_t)d.output_frames_gen : 1) * sizeof *r);
        src_float_to_short_array(fo, r, (int)d.output_frames_gen);
        *out_n = (size_t)d.output_frames_gen;
    }
    free(fi);
    free(fo);
    return r;
}

int media_tts_synth(const char *text, const char *language, const char *voice, int16_t **pcm,
                    size_t *count, char *err, size_t errlen)
{
    *pcm = NULL;
    *count = 0;
    if (!media_tts_name_ok(language) || !media_tts_name_ok(voice)) {
        snprintf(err, errlen, "invalid language or voice name");
        return -1;
    }
    char name[100];
    snprintf(name, sizeof name, "%s%s%s", language && *language ? language : "en-us",
             voice && *voice ? "+" : "", voice && *voice ? voice : "");
    pcm_buf b = {0};
    int rate = 0, rc = -1;
    pthread_mutex_lock(&tts_mu);
    if (init_locked(err, errlen) == 0) {
        if (espeak_ng_SetVoiceByName(name) != ENS_OK) {
            snprintf(err, errlen, "unknown language/voice '%s' (espeak-ng --voices lists them)", name);
        } else {
            espeak_ng_STATUS st = espeak_ng_Synthesize(text, strlen(text) + 1, 0, POS_CHARACTER, 0,
                                                       espeakCHARS_UTF8, NULL, &b);
            if (st != ENS_OK && !b.too_long) {
                char m[160];
                espeak_ng_GetStatusCodeMessage(st, m, sizeof m);
                snprintf(err, errlen, "speech synthesis failed: %s", m);
            } else {
                rate = tts_rate;
                rc = 0;
            }
        }
    }
    pthread_mutex_unlock(&tts_mu);
    if (rc == 0) {
        *pcm = to_8k(b.s, b.n, rate, count);
        if (!*pcm) {
            snprintf(err, errlen, "resampling to 8 kHz failed");
            rc = -1;
        }
    }
    free(b.s);
    return rc;
}
