/* audio.c — shared sample blocks. */
#include "media/audio.h"

#include <stdlib.h>

#include "util/alloc.h"

media_audio *media_audio_new(int16_t *pcm, size_t count)
{
    media_audio *a = cr_xcalloc(1, sizeof *a);
    a->refs = 1;
    a->pcm = pcm;
    a->count = count;
    return a;
}

media_audio *media_audio_ref(media_audio *a)
{
    if (a)
        a->refs++;
    return a;
}

void media_audio_unref(media_audio *a)
{
    if (!a || --a->refs > 0)
        return;
    free(a->pcm);
    free(a);
}
