/* wav_writer.c — see wav_writer.h. Chunks queue on the loop; a job on the
 * pool writes one chunk (opening the file first if needed); its completion
 * starts the next. Close waits for the queue to drain. */
#include "media/wav_writer.h"

#include <errno.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/path.h"

#define CHUNK_FRAMES 8000   /* one second */

typedef struct chunk {
    struct chunk *next;
    size_t frames;
    int16_t s[];
} chunk;

struct media_wav_writer {
    loop *l;
    char *path;
    int channels;
    SNDFILE *sf;               /* touched only by the job in flight */
    chunk *cur;                /* being filled on the loop */
    chunk *head, *tail;        /* full, waiting */
    chunk *writing;            /* the job's */
    bool busy, closing, failed;
    char err[300];
    media_wav_done_cb done;
    void *done_arg;
};

static chunk *chunk_new(int channels)
{
    chunk *c = cr_xmalloc(sizeof *c + (size_t)CHUNK_FRAMES * (size_t)channels * sizeof(int16_t));
    c->next = NULL;
    c->frames = 0;
    return c;
}

media_wav_writer *media_wav_open(loop *l, const char *path, int channels)
{
    media_wav_writer *w = cr_xcalloc(1, sizeof *w);
    w->l = l;
    w->path = cr_xstrdup(path);
    w->channels = channels;
    return w;
}

/* On the pool: open if needed, write the chunk; or (chunk NULL, closing) close. */
static void write_job(void *arg)
{
    media_wav_writer *w = arg;
    if (!w->sf && !w->failed) {
        SF_INFO info = {.samplerate = 8000, .channels = w->channels, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
        cr_path_mkparents(w->path, 0755);
        w->sf = sf_open(w->path, SFM_WRITE, &info);
        if (!w->sf) {
            w->failed = true;
            snprintf(w->err, sizeof w->err, "cannot write recording %s: %s", w->path, sf_strerror(NULL));
        }
    }
    if (w->sf && w->writing &&
        sf_writef_short(w->sf, w->writing->s, (sf_count_t)w->writing->frames) != (sf_count_t)w->writing->frames &&
        !w->failed) {
        w->failed = true;
        snprintf(w->err, sizeof w->err, "writing recording %s failed: %s", w->path, sf_strerror(w->sf));
    }
    if (!w->writing && w->closing && w->sf) {
        sf_close(w->sf);
        w->sf = NULL;
    }
}

static void kick(media_wav_writer *w);

static void write_done(loop *l, void *arg)
{
    (void)l;
    media_wav_writer *w = arg;
    w->busy = false;
    bool was_close = !w->writing;
    free(w->writing);
    w->writing = NULL;
    if (was_close && w->closing) {
        if (w->done)
            w->done(w->done_arg, w->failed ? w->err : NULL);
        free(w->path);
        free(w);
        return;
    }
    kick(w);
}

/* Starts the next job: a waiting chunk, else the close once asked. */
static void kick(media_wav_writer *w)
{
    if (w->busy)
        return;
    if (w->head) {
        w->writing = w->head;
        w->head = w->head->next;
        if (!w->head)
            w->tail = NULL;
    } else if (!w->closing) {
        return;
    }
    w->busy = true;
    loop_work(w->l, write_job, write_done, w);
}

static void queue_cur(media_wav_writer *w)
{
    if (!w->cur || !w->cur->frames)
        return;
    if (w->tail)
        w->tail->next = w->cur;
    else
        w->head = w->cur;
    w->tail = w->cur;
    w->cur = NULL;
}

void media_wav_write(media_wav_writer *w, const int16_t *frames, size_t count)
{
    while (count) {
        if (!w->cur)
            w->cur = chunk_new(w->channels);
        size_t room = CHUNK_FRAMES - w->cur->frames, n = count < room ? count : room;
        memcpy(w->cur->s + w->cur->frames * (size_t)w->channels, frames, n * (size_t)w->channels * sizeof *frames);
        w->cur->frames += n;
        frames += n * (size_t)w->channels;
        count -= n;
        if (w->cur->frames == CHUNK_FRAMES) {
            queue_cur(w);
            kick(w);
        }
    }
}

void media_wav_close(media_wav_writer *w, media_wav_done_cb done, void *arg)
{
    queue_cur(w);
    free(w->cur);
    w->cur = NULL;
    w->closing = true;
    w->done = done;
    w->done_arg = arg;
    kick(w);
}
