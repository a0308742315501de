/* mixer.h — what a room of legs hears, one 20 ms frame at a time: pure
 * mixing of linear PCM (no SIP, no sockets, no clock), so it is unit tested
 * and measured alone (bench/mixer_bench.c; docs/decisions/mixing.md).
 *
 * Each member gives what it said this frame (linear, 8 kHz) and gets back
 * what it hears, G.711-encoded in its own codec: the sum of every other
 * member it may hear, never its own voice. Flags say who hears whom:
 *   MUTED            nobody hears it (a listener, a muted conference member)
 *   DEAF             it hears nobody (silence is still sent)
 *   WHISPER          only WHISPER_TARGET members hear it (a supervisor who
 *                    coaches an agent without the caller hearing)
 *   WHISPER_TARGET   hears WHISPER members besides everyone else
 * A member may also have a prompt of its own (a tone, music when alone)
 * added to what it hears, and nobody else's.
 *
 * Sums are 32-bit and clipped to 16 bits once, per member. Members whose
 * voice is not in the sum and who have nothing of their own hear the same
 * frame: it is encoded once per codec and shared (most members of a large
 * room are silent at any moment). */
#ifndef MEDIA_MIXER_H
#define MEDIA_MIXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEDIA_MIX_FRAME 160   /* samples: 20 ms at 8 kHz */

enum {
    MEDIA_MIX_MUTED = 1u << 0,
    MEDIA_MIX_DEAF = 1u << 1,
    MEDIA_MIX_WHISPER = 1u << 2,
    MEDIA_MIX_WHISPER_TARGET = 1u << 3,
};

/* RTP payload types of G.711. */
enum { MEDIA_PCMU = 0, MEDIA_PCMA = 8 };

typedef struct media_mix_member {
    /* in */
    const int16_t *in;       /* MEDIA_MIX_FRAME samples it said; NULL: nothing (silence) */
    const int16_t *own;      /* MEDIA_MIX_FRAME samples for it alone (a prompt); NULL: none */
    unsigned flags;          /* MEDIA_MIX_* */
    int codec;               /* MEDIA_PCMU or MEDIA_PCMA */
    int16_t *pcm_out;        /* optional: also gets what it hears, linear */
    /* out */
    const uint8_t *out;      /* MEDIA_MIX_FRAME encoded bytes: valid until the next media_mix */
} media_mix_member;

typedef struct media_mixer media_mixer;

media_mixer *media_mixer_new(void);
void media_mixer_free(media_mixer *m);

/* One frame for N members: fills each member's `out` (and pcm_out). */
void media_mix(media_mixer *m, media_mix_member *members, size_t n);

/* G.711 by table (the mixer's own): exactly what spandsp's g711.h gives,
 * sample for sample (tests/unit/test_mixer.c checks every value). */
void media_g711_decode(int codec, const uint8_t *in, size_t n, int16_t *out);
void media_g711_encode(int codec, const int16_t *in, size_t n, uint8_t *out);
/* The code of silence (linear 0) in CODEC. */
uint8_t media_g711_silence(int codec);

#endif
