/* mixer.c — conference mixing on linear frames (mixer.h). G.711 through
 * tables built once from spandsp's own conversions: a decode is one load
 * from a 256-entry table, an encode one load from a 64 K-entry table
 * indexed by the 16-bit sample, so they agree with spandsp on every value
 * (docs/decisions/mixing.md has the figures against spandsp's functions). */
#include "media/mixer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp.h>

#include "util/alloc.h"

#define N MEDIA_MIX_FRAME

static int16_t dec_ulaw[256], dec_alaw[256];
static uint8_t enc_ulaw[65536], enc_alaw[65536];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_build(void)
{
    for (int i = 0; i < 256; i++) {
        dec_ulaw[i] = ulaw_to_linear((uint8_t)i);
        dec_alaw[i] = alaw_to_linear((uint8_t)i);
    }
    for (int i = 0; i < 65536; i++) {
        int16_t s = (int16_t)(uint16_t)i;
        enc_ulaw[i] = linear_to_ulaw(s);
        enc_alaw[i] = linear_to_alaw(s);
    }
}

static void tables(void) { pthread_once(&tables_once, tables_build); }

void media_g711_decode(int codec, const uint8_t *in, size_t n, int16_t *out)
{
    tables();
    const int16_t *t = codec == MEDIA_PCMA ? dec_alaw : dec_ulaw;
    for (size_t i = 0; i < n; i++)
        out[i] = t[in[i]];
}

void media_g711_encode(int codec, const int16_t *in, size_t n, uint8_t *out)
{
    tables();
    const uint8_t *t = codec == MEDIA_PCMA ? enc_alaw : enc_ulaw;
    for (size_t i = 0; i < n; i++)
        out[i] = t[(uint16_t)in[i]];
}

uint8_t media_g711_silence(int codec)
{
    tables();
    return codec == MEDIA_PCMA ? enc_alaw[0] : enc_ulaw[0];
}

struct media_mixer {
    int32_t total[N];          /* every voice that everyone hears */
    int32_t whisper[N];        /* voices only whisper targets hear */
    int16_t shared_pcm[N];     /* the total, clipped */
    uint8_t shared[2][N];      /* ... encoded, per codec (0: PCMU, 1: PCMA) */
    uint8_t silence[2][N];
    uint8_t *outs;             /* N bytes per member */
    size_t cap;
};

media_mixer *media_mixer_new(void)
{
    tables();
    media_mixer *m = cr_xcalloc(1, sizeof *m);
    memset(m->silence[0], enc_ulaw[0], N);
    memset(m->silence[1], enc_alaw[0], N);
    return m;
}

void media_mixer_free(media_mixer *m)
{
    if (!m)
        return;
    free(m->outs);
    free(m);
}

static inline int16_t clip16(int32_t v) { return v > 32767 ? 32767 : v < -32768 ? -32768 : (int16_t)v; }

static int codec_index(int codec) { return codec == MEDIA_PCMA ? 1 : 0; }

/* The voice of MB is in the total everyone hears. */
static bool counted(const media_mix_member *mb)
{
    return mb->in && !(mb->flags & (MEDIA_MIX_MUTED | MEDIA_MIX_WHISPER));
}

static bool whispers(const media_mix_member *mb)
{
    return mb->in && (mb->flags & MEDIA_MIX_WHISPER) && !(mb->flags & MEDIA_MIX_MUTED);
}

void media_mix(media_mixer *m, media_mix_member *mbs, size_t n)
{
    if (n > m->cap) {
        m->cap = n < 8 ? 8 : n * 2;
        free(m->outs);
        m->outs = cr_xmalloc(m->cap * N);
    }
    memset(m->total, 0, sizeof m->total);
    bool any_whisper = false;
    for (size_t k = 0; k < n; k++) {
        const media_mix_member *mb = &mbs[k];
        if (counted(mb)) {
            for (int i = 0; i < N; i++)
                m->total[i] += mb->in[i];
        } else if (whispers(mb)) {
            if (!any_whisper)
                memset(m->whisper, 0, sizeof m->whisper);
            any_whisper = true;
            for (int i = 0; i < N; i++)
                m->whisper[i] += mb->in[i];
        }
    }
    for (int i = 0; i < N; i++)
        m->shared_pcm[i] = clip16(m->total[i]);
    bool shared_done[2] = {false, false};
    for (size_t k = 0; k < n; k++) {
        media_mix_member *mb = &mbs[k];
        int ci = codec_index(mb->codec);
        const uint8_t *enc = ci ? enc_alaw : enc_ulaw;
        if (mb->flags & MEDIA_MIX_DEAF) {
            mb->out = m->silence[ci];
            if (mb->pcm_out)
                memset(mb->pcm_out, 0, N * sizeof *mb->pcm_out);
            continue;
        }
        bool self = counted(mb);
        bool hears_whisper = any_whisper && (mb->flags & MEDIA_MIX_WHISPER_TARGET);
        if (!self && !mb->own && !hears_whisper) {
            /* It hears the plain total: one encoding per codec for all such. */
            if (!shared_done[ci]) {
                for (int i = 0; i < N; i++)
                    m->shared[ci][i] = enc[(uint16_t)m->shared_pcm[i]];
                shared_done[ci] = true;
            }
            mb->out = m->shared[ci];
            if (mb->pcm_out)
                memcpy(mb->pcm_out, m->shared_pcm, sizeof m->shared_pcm);
            continue;
        }
        bool self_whisper = hears_whisper && whispers(mb);
        uint8_t *out = m->outs + k * N;
        for (int i = 0; i < N; i++) {
            int32_t v = m->total[i];
            if (self)
                v -= mb->in[i];
            if (hears_whisper)
                v += m->whisper[i] - (self_whisper ? mb->in[i] : 0);
            if (mb->own)
                v += mb->own[i];
            int16_t s = clip16(v);
            out[i] = enc[(uint16_t)s];
            if (mb->pcm_out)
                mb->pcm_out[i] = s;
        }
        mb->out = out;
    }
}
