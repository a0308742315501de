/* audio.h — a block of 8 kHz 16-bit mono samples shared by reference
 * (synthesised speech in the cache and the operations playing it). Counted
 * on the loop thread only. */
#ifndef MEDIA_AUDIO_H
#define MEDIA_AUDIO_H

#include <stddef.h>
#include <stdint.h>

typedef struct media_audio {
    unsigned refs;
    size_t count;              /* samples */
    int16_t *pcm;
} media_audio;

/* Takes PCM (malloc'd) over; one reference. */
media_audio *media_audio_new(int16_t *pcm, size_t count);
media_audio *media_audio_ref(media_audio *a);
void media_audio_unref(media_audio *a);
static inline double media_audio_seconds(const media_audio *a) { return (double)a->count / 8000.0; }

#endif
