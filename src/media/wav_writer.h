/* wav_writer.h — a WAV file written on the worker pool: the loop appends
 * 16-bit 8 kHz frames to memory; every second of audio goes to the pool to
 * be written (libsndfile), one write at a time, in order; the file is
 * created (with its missing directories) by the first job and closed by
 * the last. Nothing here blocks the loop. Loop thread only. */
#ifndef MEDIA_WAV_WRITER_H
#define MEDIA_WAV_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "loop/loop.h"

typedef struct media_wav_writer media_wav_writer;

/* Called on the loop once the file is closed: ERR NULL, or why it failed. */
typedef void (*media_wav_done_cb)(void *arg, const char *err);

media_wav_writer *media_wav_open(loop *l, const char *path, int channels);
/* FRAMES interleaved frames of CHANNELS samples each. */
void media_wav_write(media_wav_writer *w, const int16_t *frames, size_t count);
/* Flushes and closes; the writer frees itself afterwards. DONE may be NULL. */
void media_wav_close(media_wav_writer *w, media_wav_done_cb done, void *arg);

#endif
