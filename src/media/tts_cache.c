/* tts_cache.c — the speech cache (tts_cache.h). Entries are in one list,
 * most recently used first; a linear lookup is fine for the few hundred
 * distinct prompts a PBX says (the bound is in bytes). An entry being
 * synthesised has its waiters; the job on the pool sees only its own
 * strings and writes its result into the job, read back on the loop. */
#include "media/tts_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/tts.h"
#include "util/alloc.h"

struct media_tts_req {
    media_tts_req *next;
    struct entry *e;
    media_tts_cb cb;
    void *arg;
    loop_timer *timer;         /* a hit: answered on the next loop turn */
    media_tts_cache *c;
    media_audio *audio;
};

typedef struct entry {
    struct entry *prev, *next;
    char *text, *language, *voice;
    media_audio *audio;        /* NULL while synthesising */
    media_tts_req *waiters;
    struct job *job;
} entry;

typedef struct job {
    media_tts_cache *c;        /* NULL: the cache is gone, drop the result */
    entry *e;                  /* NULL: the entry was evicted meanwhile */
    char *text, *language, *voice;
    int16_t *pcm;
    size_t count;
    int rc;
    char err[200];
} job;

struct media_tts_cache {
    loop *l;
    size_t max_bytes, bytes, entries;
    entry *head, *tail;
    media_tts_req *hits;       /* hits waiting for their turn */
    unsigned long n_hits, n_synth, n_fail;
};

media_tts_cache *media_tts_cache_new(loop *l, size_t max_bytes)
{
    media_tts_cache *c = cr_xcalloc(1, sizeof *c);
    c->l = l;
    c->max_bytes = max_bytes;
    return c;
}

static void unlink_entry(media_tts_cache *c, entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void push_front(media_tts_cache *c, entry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

static size_t entry_bytes(const entry *e) { return e->audio ? e->audio->count * sizeof(int16_t) : 0; }

static void entry_free(media_tts_cache *c, entry *e)
{
    unlink_entry(c, e);
    c->bytes -= entry_bytes(e);
    c->entries--;
    if (e->job)
        e->job->e = NULL;
    media_audio_unref(e->audio);
    free(e->text);
    free(e->language);
    free(e->voice);
    free(e);
}

/* Oldest ready entries out until the cache fits (entries being made stay). */
static void evict(media_tts_cache *c)
{
    entry *e = c->tail;
    while (c->bytes > c->max_bytes && e) {
        entry *prev = e->prev;
        if (e->audio && !e->waiters)
            entry_free(c, e);
        e = prev;
    }
}

void media_tts_cache_set_max(media_tts_cache *c, size_t max_bytes)
{
    c->max_bytes = max_bytes;
    evict(c);
}

static void hit_cb(loop *l, void *arg)
{
    (void)l;
    media_tts_req *r = arg;
    media_tts_cache *c = r->c;
    for (media_tts_req **p = &c->hits; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
    media_tts_cb cb = r->cb;
    void *a = r->arg;
    media_audio *audio = r->audio;
    free(r);
    cb(a, audio, true, NULL);
}

static void synth_work(void *arg)
{
    job *j = arg;
    j->rc = media_tts_synth(j->text, j->language, j->voice, &j->pcm, &j->count, j->err, sizeof j->err);
}

static void job_free(job *j)
{
    free(j->pcm);
    free(j->text);
    free(j->language);
    free(j->voice);
    free(j);
}

static void synth_done(loop *l, void *arg)
{
    (void)l;
    job *j = arg;
    media_tts_cache *c = j->c;
    entry *e = j->e;
    if (!c || !e) {
        job_free(j);
        return;
    }
    e->job = NULL;
    media_tts_req *w = e->waiters;
    e->waiters = NULL;
    media_audio *audio = NULL;
    if (j->rc == 0) {
        c->n_synth++;
        audio = media_audio_new(j->pcm, j->count);
        j->pcm = NULL;
        e->audio = audio;
        c->bytes += entry_bytes(e);
    } else {
        c->n_fail++;
        entry_free(c, e);   /* not cached: the next request tries again */
    }
    /* Waiters in the order they asked. */
    media_tts_req *rev = NULL;
    while (w) {
        media_tts_req *n = w->next;
        w->next = rev;
        rev = w;
        w = n;
    }
    while (rev) {
        media_tts_req *r = rev;
        rev = r->next;
        r->cb(r->arg, media_audio_ref(audio), false, audio ? NULL : j->err);
        free(r);
    }
    if (audio)
        evict(c);
    job_free(j);
}

media_tts_req *media_tts_get(media_tts_cache *c, const char *text, const char *language,
                             const char *voice, media_tts_cb cb, void *arg)
{
    language = language && *language ? language : "en-us";
    voice = voice ? voice : "";
    media_tts_req *r = cr_xcalloc(1, sizeof *r);
    r->cb = cb;
    r->arg = arg;
    r->c = c;
    entry *e = c->head;
    while (e && !(strcmp(e->text, text) == 0 && strcmp(e->language, language) == 0 &&
                  strcmp(e->voice, voice) == 0))
        e = e->next;
    if (e && e->audio) {
        c->n_hits++;
        unlink_entry(c, e);
        push_front(c, e);
        r->audio = media_audio_ref(e->audio);
        r->next = c->hits;
        c->hits = r;
        r->timer = loop_timer_start(c->l, 0, hit_cb, r);
        return r;
    }
    if (!e) {
        e = cr_xcalloc(1, sizeof *e);
        e->text = cr_xstrdup(text);
        e->language = cr_xstrdup(language);
        e->voice = cr_xstrdup(voice);
        push_front(c, e);
        c->entries++;
        job *j = cr_xcalloc(1, sizeof *j);
        j->c = c;
        j->e = e;
        j->text = cr_xstrdup(text);
        j->language = cr_xstrdup(language);
        j->voice = cr_xstrdup(voice);
        e->job = j;
        loop_work(c->l, synth_work, synth_done, j);
    }
    r->e = e;
    r->next = e->waiters;
    e->waiters = r;
    return r;
}

void media_tts_cancel(media_tts_req *r)
{
    if (!r)
        return;
    if (r->timer) {
        media_tts_cache *c = r->c;
        loop_timer_stop(c->l, r->timer);
        for (media_tts_req **p = &c->hits; *p; p = &(*p)->next)
            if (*p == r) {
                *p = r->next;
                break;
            }
        media_audio_unref(r->audio);
        free(r);
        return;
    }
    for (media_tts_req **p = &r->e->waiters; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
    free(r);
}

void media_tts_cache_stats(const media_tts_cache *c, media_tts_stats *out)
{
    out->hits = c->n_hits;
    out->syntheses = c->n_synth;
    out->failures = c->n_fail;
    out->bytes = c->bytes;
    out->entries = c->entries;
}

void media_tts_cache_free(media_tts_cache *c)
{
    if (!c)
        return;
    while (c->hits) {
        media_tts_req *r = c->hits;
        c->hits = r->next;
        loop_timer_stop(c->l, r->timer);
        media_audio_unref(r->audio);
        free(r);
    }
    while (c->head) {
        entry *e = c->head;
        while (e->waiters) {
            media_tts_req *r = e->waiters;
            e->waiters = r->next;
            free(r);
        }
        if (e->job)
            e->job->c = NULL;
        entry_free(c, e);
    }
    free(c);
}
