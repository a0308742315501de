/* tts_cache.h — synthesised speech, cached: (text, language, voice) -> 8 kHz
 * samples, bounded by bytes (least recently used first out). A miss is
 * synthesised on the loop's worker pool; requests for a text already being
 * synthesised wait for that one. Loop thread only. */
#ifndef MEDIA_TTS_CACHE_H
#define MEDIA_TTS_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "loop/loop.h"
#include "media/audio.h"

typedef struct media_tts_cache media_tts_cache;
typedef struct media_tts_req media_tts_req;

/* AUDIO (a reference the callee owns: unref it) or NULL with ERR; CACHED:
 * it came from the cache without synthesis. */
typedef void (*media_tts_cb)(void *arg, media_audio *audio, bool cached, const char *err);

media_tts_cache *media_tts_cache_new(loop *l, size_t max_bytes);
void media_tts_cache_set_max(media_tts_cache *c, size_t max_bytes);
/* Frees it; a synthesis still running finishes on the pool and is dropped. */
void media_tts_cache_free(media_tts_cache *c);

/* Asks for TEXT spoken; CB runs later (never inside this call), unless the
 * request is cancelled first. Returns the request. */
media_tts_req *media_tts_get(media_tts_cache *c, const char *text, const char *language,
                             const char *voice, media_tts_cb cb, void *arg);
void media_tts_cancel(media_tts_req *r);

typedef struct media_tts_stats {
    unsigned long hits, syntheses, failures;
    size_t bytes, entries;
} media_tts_stats;
void media_tts_cache_stats(const media_tts_cache *c, media_tts_stats *out);

#endif
