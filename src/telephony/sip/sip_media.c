/* sip_media.c — media operations on a leg: play an 8 kHz mono WAV
 * (libsndfile), generate a tone, record what the leg sends to a WAV file
 * (until a silence, when asked), play music in a loop over a bridge.
 * Paths arrive resolved and confined by the engine (eng_file_path) and are
 * opened as they are; a recording's missing directories are created.
 * One 20 ms tick for the whole driver drives every active operation; the
 * tick stops when none is left. A bridged (or early-media) leg hears its
 * peer: our own prompts to it are muted meanwhile but keep their time;
 * music is the exception (music on hold): while it plays the leg hears it
 * and the relay from its peer pauses. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sndfile.h>

#include "telephony/sip/sip_int.h"
#include "util/alloc.h"
#include "util/path.h"

#define TICK 0.02
#define FRAME 160
#define RATE 8000

typedef enum { OP_PLAY, OP_TONE, OP_RECORD, OP_PCM, OP_TAP, OP_MUSIC } op_kind;

/* A 20 ms frame quieter than this (RMS of 16-bit samples) is silence for a
 * recording's silence limit: line noise and comfort noise stay below it,
 * speech does not. */
#define SILENCE_RMS 256

/* A tap's side: what one leg sent since the last tick (at most 200 ms:
 * a side that sends faster than real time loses its oldest samples). */
#define TAP_MAX 1600
typedef struct tap_side {
    int16_t s[TAP_MAX];
    size_t n;
} tap_side;

struct tel_op {
    sip_driver *d;
    sip_leg *leg;
    op_kind kind;
    tel_op_done_cb cb;
    void *arg;
    bool interruptible;
    char *error;               /* fails on the first tick with this message */
    SNDFILE *sf;
    /* tone */
    double f1, f2, ph1, ph2;
    long on, period;           /* samples; period 0: continuous */
    long pos, limit;           /* samples produced; limit 0: until cancelled */
    /* record */
    long beep_left, rec_limit, rec_ticks;
    long silence_limit, quiet;  /* samples; silence_limit 0: no silence end */
    bool loud;                 /* audio above SILENCE_RMS since the last tick */
    /* pcm: the caller's samples */
    const int16_t *pcm;
    size_t pcm_count, pcm_pos;
    /* tap: the second leg, what each side sent, where frames go */
    sip_leg *leg2;
    tap_side *side;            /* [2]: leg, leg2 */
    void (*frames)(void *arg, const int16_t *a, const int16_t *b, size_t n);
    unsigned gen;
    struct tel_op *next, *prev;
};

static unsigned tick_gen;

static void link_op(sip_driver *d, tel_op *op)
{
    op->next = d->ops;
    if (d->ops)
        d->ops->prev = op;
    d->ops = op;
}

bool sip_media_rec_beeping(const sip_leg *leg)
{
    const tel_op *rec = SIP_LEG_OP(leg, rec);
    return rec && rec->beep_left > 0;
}

struct sip_leg_ops *sip_leg_ops_of(sip_leg *leg)
{
    struct sip_anchor *a = sip_anchor_of(leg);
    if (!a->media_ops)
        a->media_ops = cr_xcalloc(1, sizeof *a->media_ops);
    return a->media_ops;
}

/* Decoded audio is wanted while a recording (past its beep), a tap or a
 * mix needs it. */
static void audio_update(sip_leg *leg)
{
    if (sip_leg_rtp(leg))
        rtp_want_audio(sip_leg_rtp(leg), sip_leg_mix(leg) || SIP_LEG_OP(leg, tap) ||
                                     (SIP_LEG_OP(leg, rec) && SIP_LEG_OP(leg, rec)->beep_left <= 0));
}

static void unlink_op(tel_op *op)
{
    sip_driver *d = op->d;
    if (op->prev)
        op->prev->next = op->next;
    else if (d->ops == op)
        d->ops = op->next;
    if (op->next)
        op->next->prev = op->prev;
    op->next = op->prev = NULL;
    for (int i = 0; i < 2 && op->kind == OP_TAP; i++) {
        sip_leg *l = i ? op->leg2 : op->leg;
        if (l && SIP_LEG_OP(l, tap) == op) {
            l->anchor->media_ops->tap = NULL;
            audio_update(l);
        }
    }
    if (op->leg) {
        if (SIP_LEG_OP(op->leg, play) == op)
            op->leg->anchor->media_ops->play = NULL;
        if (SIP_LEG_OP(op->leg, music) == op)
            op->leg->anchor->media_ops->music = NULL;
        if (SIP_LEG_OP(op->leg, rec) == op) {
            op->leg->anchor->media_ops->rec = NULL;
            audio_update(op->leg);
        }
    }
}

static void op_free(tel_op *op)
{
    free(op->side);
    if (op->sf)
        sf_close(op->sf);
    free(op->error);
    free(op);
}

/* Music stopped on LEG: its peer is heard again, and a hold that made us
 * send music (sendonly instead of inactive) is passed on as it was. */
static void music_stopped(sip_leg *leg)
{
    if (!leg->peer || leg->state != LEG_UP)
        return;
    sip_leg_update_relay(leg);
    sip_leg_push_mode(leg, sip_leg_hold_mode(leg->peer));
}

static void complete(tel_op *op, int status, const char *msg, char digit)
{
    bool music = op->kind == OP_MUSIC && op->leg && SIP_LEG_OP(op->leg, music) == op;
    unlink_op(op);
    if (music)
        music_stopped(op->leg);
    tel_op_done_cb cb = op->cb;
    void *arg = op->arg;
    char *m = op->error ? op->error : cr_xstrdup(msg);
    op->error = NULL;
    if (op->sf) {
        sf_close(op->sf);
        op->sf = NULL;
    }
    free(op->side);
    free(op);
    if (cb)
        cb(arg, status, m, digit);
    free(m);
}

/* ---- the tick ---- */

static void tone_fill(tel_op *op, int16_t *pcm, size_t n)
{
    for (size_t i = 0; i < n; i++, op->pos++) {
        bool on = op->period == 0 || (op->pos % op->period) < op->on;
        double s = 0;
        if (on) {
            s = sin(op->ph1) + (op->f2 > 0 ? sin(op->ph2) : 0);
            s *= op->f2 > 0 ? 4000.0 : 8000.0;
        }
        op->ph1 = fmod(op->ph1 + 2 * M_PI * op->f1 / RATE, 2 * M_PI);
        op->ph2 = fmod(op->ph2 + 2 * M_PI * op->f2 / RATE, 2 * M_PI);
        pcm[i] = (int16_t)s;
    }
}

static bool can_send(const sip_leg *leg)
{
    return sip_leg_rtp(leg) && !leg->peer && (leg->state == LEG_UP || leg->state == LEG_EARLY);
}

/* A frame of LEG's own prompt: into its mix when it is in a room (it hears
 * it over the room), else sent unless a bridged peer's audio has the leg. */
static void out(sip_leg *leg, const int16_t *pcm)
{
    if (sip_mix_own(leg, pcm))
        return;
    if (can_send(leg))
        rtp_send_pcm(sip_leg_rtp(leg), pcm, FRAME);
}

/* Music goes to a leg with a peer too (music on hold). */
static bool can_send_music(const sip_leg *leg)
{
    return sip_leg_rtp(leg) && (leg->state == LEG_UP || leg->state == LEG_EARLY);
}

/* One 20 ms step; true when the operation is finished. */
static bool step(tel_op *op)
{
    int16_t pcm[FRAME];
    sip_leg *leg = op->leg;
    switch (op->kind) {
    case OP_PLAY: {
        sf_count_t n = sf_read_short(op->sf, pcm, FRAME);
        if (n <= 0)
            return true;
        if (n < FRAME)
            memset(pcm + n, 0, (size_t)(FRAME - n) * sizeof pcm[0]);
        out(leg, pcm);
        return n < FRAME;
    }
    case OP_PCM: {
        size_t n = op->pcm_count - op->pcm_pos;
        if (n == 0)
            return true;
        if (n > FRAME)
            n = FRAME;
        memcpy(pcm, op->pcm + op->pcm_pos, n * sizeof pcm[0]);
        if (n < FRAME)
            memset(pcm + n, 0, (FRAME - n) * sizeof pcm[0]);
        op->pcm_pos += n;
        out(leg, pcm);
        return op->pcm_pos >= op->pcm_count;
    }
    case OP_TAP: {
        int16_t f[2][FRAME];
        for (int i = 0; i < 2; i++) {
            tap_side *sd = &op->side[i];
            size_t n = sd->n < FRAME ? sd->n : FRAME;
            memcpy(f[i], sd->s, n * sizeof(int16_t));
            memset(f[i] + n, 0, (FRAME - n) * sizeof(int16_t));
            memmove(sd->s, sd->s + n, (sd->n - n) * sizeof(int16_t));
            sd->n -= n;
        }
        op->frames(op->arg, f[0], f[1], FRAME);
        return false;
    }
    case OP_TONE:
        tone_fill(op, pcm, FRAME);
        out(leg, pcm);
        return op->limit > 0 && op->pos >= op->limit;
    case OP_RECORD:
        if (op->beep_left > 0) {
            tone_fill(op, pcm, FRAME);
            op->beep_left -= FRAME;
            out(leg, pcm);
            if (op->beep_left <= 0)
                audio_update(leg);
            return false;
        }
        op->rec_ticks++;
        if (op->silence_limit > 0) {
            /* A tick in which nothing loud came (or nothing at all) is quiet. */
            op->quiet = op->loud ? 0 : op->quiet + FRAME;
            op->loud = false;
            if (op->quiet >= op->silence_limit)
                return true;
        }
        return op->rec_limit > 0 && op->rec_ticks * FRAME >= op->rec_limit;
    case OP_MUSIC: {
        sf_count_t n = sf_read_short(op->sf, pcm, FRAME);
        if (n < FRAME) {   /* the end: on from the start */
            sf_seek(op->sf, 0, SEEK_SET);
            sf_count_t m = sf_read_short(op->sf, pcm + (n > 0 ? n : 0), FRAME - (n > 0 ? n : 0));
            if (m < 0)
                m = 0;
            n = (n > 0 ? n : 0) + m;
            if (n < FRAME)
                memset(pcm + n, 0, (size_t)(FRAME - n) * sizeof pcm[0]);
        }
        if (can_send_music(leg))
            rtp_send_pcm(sip_leg_rtp(leg), pcm, FRAME);
        return false;
    }
    }
    return true;
}

static void tick_cb(loop *l, void *arg);

void sip_media_tick_arm(sip_driver *d)
{
    if (d->tick_timer || (!d->ops && !d->rooms))
        return;
    double now = loop_now(d->l);
    if (d->tick_next < now - 0.1 || d->tick_next > now + 1)
        d->tick_next = now;   /* idle or far behind: start afresh */
    d->tick_next += TICK;
    double wait = d->tick_next - now;
    d->tick_timer = loop_timer_start(d->l, wait > 0 ? wait : 0, tick_cb, d);
}

static void tick_cb(loop *l, void *arg)
{
    (void)l;
    sip_driver *d = arg;
    d->tick_timer = NULL;
    sip_enter(d);
    unsigned gen = ++tick_gen;
again:
    for (tel_op *op = d->ops; op; op = op->next) {
        if (op->gen == gen)
            continue;
        op->gen = gen;
        if (op->error) {
            complete(op, -1, NULL, 0);
            goto again;   /* the callback may have changed the list */
        }
        if (step(op)) {
            complete(op, 0, NULL, 0);
            goto again;
        }
    }
    /* then the rooms: each member's prompt of this tick is in its mix now */
    sip_mix_tick(d);
    sip_media_tick_arm(d);
    sip_leave(d);
}

/* ---- starting operations ---- */

static tel_op *op_new(sip_leg *leg, op_kind kind, tel_op_done_cb cb, void *arg)
{
    tel_op *op = cr_xcalloc(1, sizeof *op);
    op->d = leg->d;
    op->leg = leg;
    op->kind = kind;
    op->cb = cb;
    op->arg = arg;
    op->gen = tick_gen;
    if (leg->state == LEG_ENDED)
        op->error = cr_xstrdup("the call has ended");
    if (kind == OP_RECORD) {
        if (SIP_LEG_OP(leg, rec))
            complete(SIP_LEG_OP(leg, rec), -1, "replaced by another recording", 0);
        sip_leg_ops_of(leg)->rec = op;
    } else if (kind == OP_TAP) {
        /* set up by sip_media_tap */
    } else if (kind == OP_MUSIC) {
        if (SIP_LEG_OP(leg, music))
            complete(SIP_LEG_OP(leg, music), -1, "replaced by other music", 0);
        sip_leg_ops_of(leg)->music = op;
    } else {
        if (SIP_LEG_OP(leg, play))
            complete(SIP_LEG_OP(leg, play), -1, "replaced by another prompt", 0);
        sip_leg_ops_of(leg)->play = op;
    }
    link_op(leg->d, op);
    sip_media_tick_arm(leg->d);
    return op;
}

tel_op *sip_media_play(sip_leg *leg, const char *path, bool interruptible, tel_op_done_cb cb, void *arg)
{
    tel_op *op = op_new(leg, OP_PLAY, cb, arg);
    if (op->error)
        return op;
    op->interruptible = interruptible;
    SF_INFO info = {0};
    char msg[700];
    op->sf = path ? sf_open(path, SFM_READ, &info) : NULL;
    if (!op->sf) {
        snprintf(msg, sizeof msg, "cannot open prompt %s: %s", path ? path : "(none)", sf_strerror(NULL));
        op->error = cr_xstrdup(msg);
    } else if ((info.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_WAV || info.samplerate != RATE ||
               info.channels != 1) {
        snprintf(msg, sizeof msg, "prompt %s is not an 8 kHz mono WAV (%d Hz, %d channel(s)): convert it, "
                 "e.g. sox IN -r 8000 -c 1 OUT.wav", path, info.samplerate, info.channels);
        op->error = cr_xstrdup(msg);
    }
    return op;
}

/* An 8 kHz mono WAV, or an error message (malloc'd) for it; WHAT names it. */
static SNDFILE *open_prompt(const char *path, const char *what, char **error)
{
    SF_INFO info = {0};
    char msg[700];
    SNDFILE *sf = path ? sf_open(path, SFM_READ, &info) : NULL;
    if (!sf) {
        snprintf(msg, sizeof msg, "cannot open %s %s: %s", what, path ? path : "(none)", sf_strerror(NULL));
        *error = cr_xstrdup(msg);
    } else if ((info.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_WAV || info.samplerate != RATE ||
               info.channels != 1 || info.frames < FRAME) {
        snprintf(msg, sizeof msg, "%s %s is not an 8 kHz mono WAV of 20 ms or more (%d Hz, %d channel(s)): "
                 "convert it, e.g. sox IN -r 8000 -c 1 OUT.wav", what, path, info.samplerate, info.channels);
        *error = cr_xstrdup(msg);
        sf_close(sf);
        sf = NULL;
    }
    return sf;
}

tel_op *sip_media_music(sip_leg *leg, const char *path, tel_op_done_cb cb, void *arg)
{
    tel_op *op = op_new(leg, OP_MUSIC, cb, arg);
    if (op->error)
        return op;
    op->sf = open_prompt(path, "music", &op->error);
    if (op->sf && leg->peer) {
        /* Heard instead of the peer: no relay into LEG, and a hold the
         * peer made inactive lets our music through. */
        sip_leg_update_relay(leg);
        if (leg->local_mode == SDP_INACTIVE)
            sip_leg_push_mode(leg, SDP_SENDONLY);
    }
    return op;
}

tel_op *sip_media_play_pcm(sip_leg *leg, const int16_t *pcm, size_t count, tel_op_done_cb cb, void *arg)
{
    tel_op *op = op_new(leg, OP_PCM, cb, arg);
    op->pcm = pcm;
    op->pcm_count = pcm ? count : 0;
    return op;
}

tel_op *sip_media_tone(sip_leg *leg, tel_tone tone, double seconds, tel_op_done_cb cb, void *arg)
{
    tel_op *op = op_new(leg, OP_TONE, cb, arg);
    if (op->error)
        return op;
    switch (tone) {
    case TEL_TONE_RINGBACK:   /* 425 Hz, 1 s on, 4 s off (ITU-T E.180) */
        op->f1 = 425, op->on = RATE, op->period = 5 * RATE;
        break;
    case TEL_TONE_BUSY:       /* 425 Hz, 0.5 s on, 0.5 s off */
        op->f1 = 425, op->on = RATE / 2, op->period = RATE;
        break;
    case TEL_TONE_BEEP:
        op->f1 = 1000;
        if (seconds <= 0)
            seconds = 0.25;
        break;
    }
    op->limit = seconds > 0 ? (long)(seconds * RATE) : 0;
    return op;
}

tel_op *sip_media_record(sip_leg *leg, const char *path, double max_seconds, bool beep, double silence,
                         tel_op_done_cb cb, void *arg)
{
    tel_op *op = op_new(leg, OP_RECORD, cb, arg);
    if (op->error)
        return op;
    SF_INFO info = {.samplerate = RATE, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    if (path)
        cr_path_mkparents(path, 0755);
    op->sf = path ? sf_open(path, SFM_WRITE, &info) : NULL;
    if (!op->sf) {
        char msg[600];
        snprintf(msg, sizeof msg, "cannot write recording %s: %s", path ? path : "(none)", sf_strerror(NULL));
        op->error = cr_xstrdup(msg);
    }
    op->rec_limit = (long)((max_seconds > 0 ? max_seconds : 3600) * RATE);
    op->silence_limit = silence > 0 ? (long)(silence * RATE) : 0;
    if (beep) {
        op->f1 = 1000;
        op->beep_left = (long)(TEL_BEEP_SECONDS * RATE);
    } else if (sip_leg_rtp(leg)) {
        rtp_want_audio(sip_leg_rtp(leg), true);
    }
    return op;
}

tel_op *sip_media_tap(sip_leg *a, sip_leg *b,
                      void (*frames)(void *arg, const int16_t *a, const int16_t *b, size_t n),
                      tel_op_done_cb done, void *arg)
{
    if (!a || !b || SIP_LEG_OP(a, tap) || SIP_LEG_OP(b, tap))
        return NULL;
    tel_op *op = op_new(a, OP_TAP, done, arg);
    if (b->state == LEG_ENDED && !op->error)
        op->error = cr_xstrdup("the call has ended");
    op->leg2 = b;
    op->frames = frames;
    op->side = cr_xcalloc(2, sizeof *op->side);
    sip_leg_ops_of(a)->tap = op;
    sip_leg_ops_of(b)->tap = op;
    if (sip_leg_rtp(a))
        rtp_want_audio(sip_leg_rtp(a), true);
    if (sip_leg_rtp(b))
        rtp_want_audio(sip_leg_rtp(b), true);
    return op;
}

void sip_media_cancel(sip_driver *d, tel_op *op)
{
    (void)d;
    if (!op)
        return;
    bool music = op->kind == OP_MUSIC && op->leg && SIP_LEG_OP(op->leg, music) == op;
    unlink_op(op);
    if (music)
        music_stopped(op->leg);
    op_free(op);
}

void sip_media_digit(sip_leg *leg, char digit)
{
    /* A recording goes on: the engine ends it on its terminators. */
    tel_op *play = SIP_LEG_OP(leg, play);
    if (play && play->interruptible && !play->error)
        complete(play, 0, NULL, digit);
}

void sip_media_audio(sip_leg *leg, const int16_t *pcm, size_t n)
{
    tel_op *t = SIP_LEG_OP(leg, tap);
    if (t && !t->error) {
        tap_side *sd = &t->side[leg == t->leg ? 0 : 1];
        if (n > TAP_MAX)
            n = TAP_MAX;
        if (sd->n + n > TAP_MAX) {
            size_t drop = sd->n + n - TAP_MAX;
            memmove(sd->s, sd->s + drop, (sd->n - drop) * sizeof(int16_t));
            sd->n -= drop;
        }
        memcpy(sd->s + sd->n, pcm, n * sizeof(int16_t));
        sd->n += n;
    }
    tel_op *op = SIP_LEG_OP(leg, rec);
    if (op && op->sf && op->beep_left <= 0) {
        sf_write_short(op->sf, pcm, (sf_count_t)n);
        if (op->silence_limit > 0 && !op->loud && n > 0) {
            double sum = 0;
            for (size_t i = 0; i < n; i++)
                sum += (double)pcm[i] * pcm[i];
            op->loud = sqrt(sum / (double)n) > SILENCE_RMS;
        }
    }
}

void sip_media_leg_gone(sip_leg *leg)
{
    if (SIP_LEG_OP(leg, tap))
        complete(SIP_LEG_OP(leg, tap), 0, NULL, 0);
    if (SIP_LEG_OP(leg, play))
        complete(SIP_LEG_OP(leg, play), -1, "hangup", 0);
    if (SIP_LEG_OP(leg, music))
        complete(SIP_LEG_OP(leg, music), 0, NULL, 0);
    if (SIP_LEG_OP(leg, rec))
        complete(SIP_LEG_OP(leg, rec), SIP_LEG_OP(leg, rec)->error ? -1 : 0, NULL, 0);
}

void sip_media_free_all(sip_driver *d)
{
    while (d->ops) {
        tel_op *op = d->ops;
        unlink_op(op);
        op_free(op);
    }
}
