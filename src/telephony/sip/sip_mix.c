/* sip_mix.c — legs in a mix (tel.h): conference rooms and listen/whisper/
 * barge. A leg in a room sends its decoded audio (the RTP module's audio
 * callback) into a short queue; every 20 ms media tick (sip_media.c) takes
 * one frame from each member's queue, the mixer (src/media/mixer.c) makes
 * what each member hears, and it goes out on the member's RTP session in
 * its codec. A member's own prompt of that tick (play, tone, play_pcm on
 * its leg) is added to what it alone hears. While in a room a leg's
 * bridge relay is off in both directions; it comes back when both bridged
 * legs have left (sip_leg_update_relay). */
#include <stdlib.h>
#include <string.h>

#include "media/mixer.h"
#include "telephony/sip/sip_int.h"
#include "util/alloc.h"

_Static_assert((unsigned)TEL_MIX_MUTED == (unsigned)MEDIA_MIX_MUTED &&
                   (unsigned)TEL_MIX_DEAF == (unsigned)MEDIA_MIX_DEAF &&
                   (unsigned)TEL_MIX_WHISPER == (unsigned)MEDIA_MIX_WHISPER &&
                   (unsigned)TEL_MIX_WHISPER_TARGET == (unsigned)MEDIA_MIX_WHISPER_TARGET,
               "tel.h's mix flags are the mixer's");

#define FRAME MEDIA_MIX_FRAME
/* A member's queue: what arrived since the last tick. Past QUEUE_KEEP at a
 * tick the oldest is dropped, so a peer whose clock runs fast (or a burst
 * after a stall) adds at most ~40 ms of delay. */
#define QUEUE_MAX (6 * FRAME)
#define QUEUE_KEEP (2 * FRAME)

/* A leg's part in a room, made when it joins (the leg's `mix`; NULL
 * outside a room). */
struct sip_mix {
    sip_room *room;
    unsigned flags;
    int16_t in[QUEUE_MAX];
    size_t n;
    int16_t frame[FRAME];      /* this tick's, taken from the queue */
    int16_t own[FRAME];        /* its prompt this tick */
    bool has_own;
};

struct sip_room {
    sip_room *next;
    char name[TEL_ROOM_MAX + 1];
    sip_leg **legs;
    size_t count, cap;
    media_mixer *mx;
    media_mix_member *mb;      /* cap */
};

static sip_room *room_find(sip_driver *d, const char *name)
{
    for (sip_room *r = d->rooms; r; r = r->next)
        if (strcmp(r->name, name) == 0)
            return r;
    return NULL;
}

static void room_free(sip_driver *d, sip_room *r)
{
    for (sip_room **p = &d->rooms; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
    media_mixer_free(r->mx);
    free(r->legs);
    free(r->mb);
    free(r);
}

void sip_mix_leave(sip_leg *leg)
{
    sip_mix *m = sip_leg_mix(leg);
    sip_room *r = m ? m->room : NULL;
    if (!r)
        return;
    for (size_t i = 0; i < r->count; i++)
        if (r->legs[i] == leg) {
            r->legs[i] = r->legs[--r->count];
            break;
        }
    free(m);
    leg->anchor->mix = NULL;
    if (r->count == 0)
        room_free(leg->d, r);
    sip_leg_media_update(leg);
}

int sip_mix_join(sip_leg *leg, const char *name, unsigned flags)
{
    sip_driver *d = leg->d;
    if (leg->state == LEG_ENDED || !name || !*name || strlen(name) > TEL_ROOM_MAX || sip_leg_media(leg) < 0)
        return -1;
    struct sip_anchor *a = leg->anchor;   /* sip_leg_media made it */
    if (a->mix && strcmp(a->mix->room->name, name) == 0) {
        a->mix->flags = flags;
        return 0;
    }
    sip_mix_leave(leg);
    sip_room *r = room_find(d, name);
    if (!r) {
        r = cr_xcalloc(1, sizeof *r);
        memcpy(r->name, name, strlen(name) + 1);
        r->mx = media_mixer_new();
        r->next = d->rooms;
        d->rooms = r;
    }
    if (r->count == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 4;
        r->legs = cr_xrealloc(r->legs, r->cap * sizeof *r->legs);
        r->mb = cr_xrealloc(r->mb, r->cap * sizeof *r->mb);
    }
    r->legs[r->count++] = leg;
    a->mix = cr_xcalloc(1, sizeof *a->mix);
    a->mix->room = r;
    a->mix->flags = flags;
    sip_leg_media_update(leg);
    sip_media_tick_arm(d);
    return 0;
}

void sip_mix_audio(sip_leg *leg, const int16_t *pcm, size_t n)
{
    sip_mix *m = sip_leg_mix(leg);
    if (!m)
        return;
    if (n > QUEUE_MAX) {
        pcm += n - QUEUE_MAX;
        n = QUEUE_MAX;
    }
    if (m->n + n > QUEUE_MAX) {
        size_t drop = m->n + n - QUEUE_MAX;
        memmove(m->in, m->in + drop, (m->n - drop) * sizeof *m->in);
        m->n -= drop;
    }
    memcpy(m->in + m->n, pcm, n * sizeof *pcm);
    m->n += n;
}

bool sip_mix_own(sip_leg *leg, const int16_t *pcm)
{
    sip_mix *m = sip_leg_mix(leg);
    if (!m)
        return false;
    memcpy(m->own, pcm, sizeof m->own);
    m->has_own = true;
    return true;
}

/* The frame M said this tick, or NULL (nothing queued). */
static const int16_t *take(sip_mix *m)
{
    if (m->n > QUEUE_KEEP + FRAME) {
        size_t drop = m->n - (QUEUE_KEEP + FRAME);
        memmove(m->in, m->in + drop, (m->n - drop) * sizeof *m->in);
        m->n -= drop;
    }
    if (m->n == 0)
        return NULL;
    size_t k = m->n < FRAME ? m->n : FRAME;
    memcpy(m->frame, m->in, k * sizeof *m->in);
    memset(m->frame + k, 0, (FRAME - k) * sizeof *m->in);
    memmove(m->in, m->in + k, (m->n - k) * sizeof *m->in);
    m->n -= k;
    return m->frame;
}

static bool sends(const sip_leg *leg)
{
    return sip_leg_rtp(leg) && leg->state == LEG_UP && !leg->held;
}

void sip_mix_tick(sip_driver *d)
{
    for (sip_room *r = d->rooms; r; r = r->next) {
        for (size_t i = 0; i < r->count; i++) {
            sip_leg *leg = r->legs[i];
            sip_mix *m = leg->anchor->mix;   /* a room's legs have theirs */
            /* An ended or held leg is silent; it stays until the engine lets it go. */
            const int16_t *in = take(m);
            r->mb[i] = (media_mix_member){
                .in = leg->state == LEG_UP && !leg->held ? in : NULL,
                .own = m->has_own ? m->own : NULL,
                .flags = m->flags,
                .codec = sip_leg_rtp(leg) ? rtp_payload_type(sip_leg_rtp(leg)) : MEDIA_PCMU,
            };
        }
        media_mix(r->mx, r->mb, r->count);
        for (size_t i = 0; i < r->count; i++) {
            sip_leg *leg = r->legs[i];
            leg->anchor->mix->has_own = false;
            if (sends(leg))
                rtp_send_payload(sip_leg_rtp(leg), r->mb[i].out, FRAME);
        }
    }
}

void sip_mix_free_all(sip_driver *d)
{
    while (d->rooms) {
        sip_room *r = d->rooms;
        for (size_t i = 0; i < r->count; i++) {
            sip_leg *leg = r->legs[i];
            free(leg->anchor->mix);
            leg->anchor->mix = NULL;
        }
        room_free(d, r);
    }
}
