/* tts.h — speech synthesis behind one interface (docs/decisions/tts.md):
 * text in, 8 kHz 16-bit mono samples out. One implementation, espeak-ng's
 * library, resampled from its native rate with libsamplerate. Blocking and
 * CPU-bound: call it on the worker pool (loop_work), never on the loop.
 * Thread-safe (espeak-ng is not: calls are serialised inside). */
#ifndef MEDIA_TTS_H
#define MEDIA_TTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEDIA_RATE 8000

/* Speaks TEXT (UTF-8) in LANGUAGE (an espeak-ng voice name: "en-us", "ru",
 * "de"; NULL or "": en-us) with VOICE (a variant: "f3", "m2"; NULL or "":
 * the language's own). On success returns 0 with *PCM (malloc'd, 8 kHz
 * mono) and *COUNT samples; otherwise -1 with a message in ERR. */
int media_tts_synth(const char *text, const char *language, const char *voice, int16_t **pcm,
                    size_t *count, char *err, size_t errlen);

/* LANGUAGE and VOICE are names espeak-ng could know: letters, digits, '-'
 * and '_' only, at most 40 bytes (they go into a voice name). */
bool media_tts_name_ok(const char *name);

#endif
