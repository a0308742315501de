/* mixer_bench.c — the conference mixer (src/media/mixer.c) on one core
 * (issue 15: at least 50 members in one room and 100 rooms at once).
 *
 * What one 20 ms frame costs per member: decode each member's G.711 frame
 * to linear, sum without each member's own voice, encode what each hears
 * in its codec (half the members PCMU, half PCMA). Two ways:
 *   hand     media_mix: G.711 by table, the sum once, members who say
 *            nothing share one encoding per codec;
 *   spandsp  the same algorithm with spandsp's own G.711 functions
 *            (ulaw_to_linear/linear_to_ulaw per sample) and its saturate.
 * Each with every member talking (the worst case: a frame of its own per
 * member) and with 3 talkers per room (a conversation).
 * Then real time: ROOMS x MEMBERS mixed every 20 ms on a clock for SECONDS;
 * a tick whose work ends after the next tick is due loses its frames. The
 * figure: the share of member-frames late (< 0.1% passes) and the CPU the
 * mixer took of its core. No sockets: bench/media_bench.c measures the RTP
 * path; docs/decisions/mixing.md puts the two together.
 *
 * JSON lines:
 *   {"bench":"mixer","phase":"cost","impl":"hand|spandsp","talkers":"all|3","rooms":R,"members":M,
 *    "ns_per_member_frame":...}
 *   {"bench":"mixer","phase":"realtime","rooms":R,"members":M,"seconds":S,"frames":N,
 *    "late_pct":...,"cpu_pct":...,"ns_per_member_frame":...}
 *   build/bench/bench/mixer_bench [--quick] */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <spandsp.h>

#include "bench_clock.h"
#include "media/mixer.h"

#define F MEDIA_MIX_FRAME
#define ROOMS 100
#define MEMBERS 50

/* One room: what its members sent (G.711), decoded frames, mixer members. */
typedef struct room {
    int members;
    uint8_t (*wire)[F];        /* received frames, encoded */
    int16_t (*pcm)[F];         /* decoded */
    uint8_t (*sent)[F];        /* what goes out (the spandsp variant writes here) */
    media_mix_member *mb;
    media_mixer *mx;
    int32_t total[F];
} room;

static int codec_of(int k) { return k % 2 ? MEDIA_PCMA : MEDIA_PCMU; }

static void room_init(room *r, int members, int talkers, unsigned seed)
{
    r->members = members;
    r->wire = calloc((size_t)members, sizeof *r->wire);
    r->pcm = calloc((size_t)members, sizeof *r->pcm);
    r->sent = calloc((size_t)members, sizeof *r->sent);
    r->mb = calloc((size_t)members, sizeof *r->mb);
    r->mx = media_mixer_new();
    if (!r->wire || !r->pcm || !r->sent || !r->mb) {
        fprintf(stderr, "mixer_bench: out of memory\n");
        exit(1);
    }
    for (int k = 0; k < members; k++) {
        /* a talker: a tone of its own frequency; the others: near silence */
        double hz = 300 + 37 * (k % 17) + (seed % 7);
        for (int i = 0; i < F; i++) {
            double v = k < talkers ? 6000 * __builtin_sin(6.283185307 * hz * i / 8000) : (i % 3) - 1;
            int16_t s = (int16_t)v;
            r->wire[k][i] = codec_of(k) == MEDIA_PCMA ? linear_to_alaw(s) : linear_to_ulaw(s);
        }
        r->mb[k].codec = codec_of(k);
    }
}

static void room_free(room *r)
{
    media_mixer_free(r->mx);
    free(r->wire);
    free(r->pcm);
    free(r->sent);
    free(r->mb);
}

/* A member "talks" when its frame is above a quiet threshold: silent ones
 * say nothing to the mixer (a VAD would do this on a real call). */
static bool is_voice(const int16_t *pcm)
{
    int32_t peak = 0;
    for (int i = 0; i < F; i += 8)
        peak = abs(pcm[i]) > peak ? abs(pcm[i]) : peak;
    return peak > 64;
}

static void mix_hand(room *r)
{
    for (int k = 0; k < r->members; k++) {
        media_g711_decode(r->mb[k].codec, r->wire[k], F, r->pcm[k]);
        r->mb[k].in = is_voice(r->pcm[k]) ? r->pcm[k] : NULL;
    }
    media_mix(r->mx, r->mb, (size_t)r->members);
}

/* The same algorithm with spandsp's per-sample G.711 and saturate16. */
static void mix_spandsp(room *r)
{
    bool voice[MEMBERS * 2];
    memset(r->total, 0, sizeof r->total);
    for (int k = 0; k < r->members; k++) {
        bool a = r->mb[k].codec == MEDIA_PCMA;
        for (int i = 0; i < F; i++)
            r->pcm[k][i] = a ? alaw_to_linear(r->wire[k][i]) : ulaw_to_linear(r->wire[k][i]);
        voice[k] = is_voice(r->pcm[k]);
        if (voice[k])
            for (int i = 0; i < F; i++)
                r->total[i] += r->pcm[k][i];
    }
    bool shared_done[2] = {false, false};
    uint8_t shared[2][F];
    for (int k = 0; k < r->members; k++) {
        bool a = r->mb[k].codec == MEDIA_PCMA;
        if (!voice[k]) {
            if (!shared_done[a]) {
                for (int i = 0; i < F; i++) {
                    int16_t s = saturate16(r->total[i]);
                    shared[a][i] = a ? linear_to_alaw(s) : linear_to_ulaw(s);
                }
                shared_done[a] = true;
            }
            memcpy(r->sent[k], shared[a], F);
            continue;
        }
        for (int i = 0; i < F; i++) {
            int16_t s = saturate16(r->total[i] - r->pcm[k][i]);
            r->sent[k][i] = a ? linear_to_alaw(s) : linear_to_ulaw(s);
        }
    }
}

static volatile unsigned sink;

/* ns per member-frame of IMPL over ROOMS rooms for about SECONDS. */
static double cost(void (*impl)(room *), int rooms, int members, int talkers, double seconds)
{
    room *r = calloc((size_t)rooms, sizeof *r);
    for (int i = 0; i < rooms; i++)
        room_init(&r[i], members, talkers, (unsigned)i);
    for (int i = 0; i < rooms; i++)   /* warm the tables and caches */
        impl(&r[i]);
    long frames = 0;
    double t0 = cpu_self(), t;
    do {
        for (int rep = 0; rep < 10; rep++)
            for (int i = 0; i < rooms; i++) {
                impl(&r[i]);
                frames += members;
            }
        t = cpu_self();
    } while (t - t0 < seconds);
    for (int i = 0; i < rooms; i++) {
        sink += r[i].mb[0].out ? r[i].mb[0].out[0] : 0;
        sink += r[i].sent[0][0];
        room_free(&r[i]);
    }
    free(r);
    return (t - t0) * 1e9 / (double)frames;
}

/* Mixes ROOMS x MEMBERS every 20 ms for SECONDS of wall clock. */
static void realtime(int rooms, int members, int talkers, double seconds)
{
    room *r = calloc((size_t)rooms, sizeof *r);
    for (int i = 0; i < rooms; i++)
        room_init(&r[i], members, talkers, (unsigned)i);
    long ticks = (long)(seconds / 0.02), late = 0;
    struct timespec due;
    clock_gettime(CLOCK_MONOTONIC, &due);
    double c0 = cpu_self(), w0 = now_mono(), work = 0;
    for (long t = 0; t < ticks; t++) {
        due.tv_nsec += 20000000;
        if (due.tv_nsec >= 1000000000) {
            due.tv_nsec -= 1000000000;
            due.tv_sec++;
        }
        double s = now_mono();
        for (int i = 0; i < rooms; i++)
            mix_hand(&r[i]);
        double e = now_mono();
        work += e - s;
        double deadline = (double)due.tv_sec + (double)due.tv_nsec / 1e9;
        if (e > deadline)
            late++;
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
    }
    double cpu = cpu_self() - c0, wall = now_mono() - w0;
    long frames = ticks * rooms * members;
    printf("{\"bench\":\"mixer\",\"phase\":\"realtime\",\"rooms\":%d,\"members\":%d,\"talkers\":%d,"
           "\"seconds\":%.1f,\"frames\":%ld,\"late_pct\":%.4f,\"cpu_pct\":%.2f,\"ns_per_member_frame\":%.1f}\n",
           rooms, members, talkers, wall, frames, 100.0 * (double)late / (double)ticks, 100.0 * cpu / wall,
           work * 1e9 / (double)frames);
    for (int i = 0; i < rooms; i++)
        room_free(&r[i]);
    free(r);
}

int main(int argc, char **argv)
{
    bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    double secs = quick ? 0.3 : 1.5;
    pin(0);
    static const struct {
        const char *name;
        void (*fn)(room *);
    } impls[] = {{"hand", mix_hand}, {"spandsp", mix_spandsp}};
    static const struct {
        const char *name;
        int talkers;
    } loads[] = {{"all", MEMBERS}, {"3", 3}};
    for (size_t l = 0; l < 2; l++)
        for (size_t i = 0; i < 2; i++) {
            double ns = cost(impls[i].fn, ROOMS, MEMBERS, loads[l].talkers, secs);
            printf("{\"bench\":\"mixer\",\"phase\":\"cost\",\"impl\":\"%s\",\"talkers\":\"%s\",\"rooms\":%d,"
                   "\"members\":%d,\"ns_per_member_frame\":%.1f}\n",
                   impls[i].name, loads[l].name, ROOMS, MEMBERS, ns);
            fflush(stdout);
        }
    /* Real time at the goal, with everyone talking: the worst case. */
    realtime(ROOMS, MEMBERS, MEMBERS, quick ? 2 : 10);
    return 0;
}
