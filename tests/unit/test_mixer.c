/* test_mixer.c — the conference mixer (src/media/mixer.c), pure: G.711 by
 * table equals spandsp on every value; each member hears the others and
 * never itself; muted members are heard by nobody, deaf ones hear nothing;
 * a whisper reaches only its targets; a member's own prompt only it; sums
 * clip instead of wrapping; the shared frame is the same for every member
 * that says nothing, PCMU and PCMA alike. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <spandsp.h>

#include "media/mixer.h"

#define F MEDIA_MIX_FRAME

static void fill(int16_t *f, int16_t v)
{
    for (int i = 0; i < F; i++)
        f[i] = (int16_t)(v + (i % 4));   /* a little variation, same every frame */
}

static int16_t decoded0(const media_mix_member *m)
{
    int16_t pcm[F];
    media_g711_decode(m->codec, m->out, F, pcm);
    return pcm[0];
}

static void test_g711_tables_equal_spandsp(void **state)
{
    (void)state;
    uint8_t b[256];
    int16_t out[256];
    for (int i = 0; i < 256; i++)
        b[i] = (uint8_t)i;
    media_g711_decode(MEDIA_PCMU, b, 256, out);
    for (int i = 0; i < 256; i++)
        assert_int_equal(out[i], ulaw_to_linear((uint8_t)i));
    media_g711_decode(MEDIA_PCMA, b, 256, out);
    for (int i = 0; i < 256; i++)
        assert_int_equal(out[i], alaw_to_linear((uint8_t)i));
    for (int v = -32768; v <= 32767; v++) {
        int16_t s = (int16_t)v;
        uint8_t u, a;
        media_g711_encode(MEDIA_PCMU, &s, 1, &u);
        media_g711_encode(MEDIA_PCMA, &s, 1, &a);
        assert_int_equal(u, linear_to_ulaw(s));
        assert_int_equal(a, linear_to_alaw(s));
    }
    assert_int_equal(media_g711_silence(MEDIA_PCMU), linear_to_ulaw(0));
    assert_int_equal(media_g711_silence(MEDIA_PCMA), linear_to_alaw(0));
}

/* Three members: each hears the sum of the two others, never itself. */
static void test_hears_others_not_itself(void **state)
{
    (void)state;
    media_mixer *m = media_mixer_new();
    int16_t a[F], b[F], c[F], pa[F], pb[F], pc[F];
    fill(a, 1000);
    fill(b, 2000);
    fill(c, 4000);
    media_mix_member mb[3] = {
        {.in = a, .codec = MEDIA_PCMU, .pcm_out = pa},
        {.in = b, .codec = MEDIA_PCMA, .pcm_out = pb},
        {.in = c, .codec = MEDIA_PCMU, .pcm_out = pc},
    };
    media_mix(m, mb, 3);
    for (int i = 0; i < F; i++) {
        assert_int_equal(pa[i], b[i] + c[i]);
        assert_int_equal(pb[i], a[i] + c[i]);
        assert_int_equal(pc[i], a[i] + b[i]);
    }
    /* the encoded frames decode to the same within G.711's step */
    assert_true(abs(decoded0(&mb[0]) - 6000) < 200);
    assert_true(abs(decoded0(&mb[1]) - 5000) < 200);
    assert_true(abs(decoded0(&mb[2]) - 3000) < 100);
    media_mixer_free(m);
}

/* A muted member is heard by nobody but hears everyone; a deaf one hears
 * silence; a member who says nothing (NULL) hears the whole. */
static void test_muted_deaf_silent(void **state)
{
    (void)state;
    media_mixer *m = media_mixer_new();
    int16_t a[F], b[F], c[F], pa[F], pb[F], pc[F], pd[F];
    fill(a, 1000);
    fill(b, 2000);
    fill(c, 8000);
    media_mix_member mb[4] = {
        {.in = a, .codec = MEDIA_PCMU, .pcm_out = pa},
        {.in = b, .codec = MEDIA_PCMU, .pcm_out = pb, .flags = MEDIA_MIX_DEAF},
        {.in = c, .codec = MEDIA_PCMU, .pcm_out = pc, .flags = MEDIA_MIX_MUTED},
        {.in = NULL, .codec = MEDIA_PCMA, .pcm_out = pd},
    };
    media_mix(m, mb, 4);
    for (int i = 0; i < F; i++) {
        assert_int_equal(pa[i], b[i]);          /* c is muted */
        assert_int_equal(pb[i], 0);             /* deaf */
        assert_int_equal(pc[i], a[i] + b[i]);   /* the muted one hears both */
        assert_int_equal(pd[i], a[i] + b[i]);
    }
    int16_t sil[F];
    media_g711_decode(MEDIA_PCMU, mb[1].out, F, sil);
    for (int i = 0; i < F; i++)
        assert_int_equal(sil[i], 0);
    /* the muted member and the silent one hear the same frame: shared per
     * codec, the same bytes as encoding it by hand */
    uint8_t want[F];
    media_g711_encode(MEDIA_PCMU, pc, F, want);
    assert_memory_equal(mb[2].out, want, F);
    media_mixer_free(m);
}

/* Whisper: the supervisor is heard by the agent (a target) only; the
 * supervisor hears both; the caller does not hear the supervisor. */
static void test_whisper(void **state)
{
    (void)state;
    media_mixer *m = media_mixer_new();
    int16_t caller[F], agent[F], sup[F], pc[F], pa[F], ps[F];
    fill(caller, 1000);
    fill(agent, 2000);
    fill(sup, 300);
    media_mix_member mb[3] = {
        {.in = caller, .codec = MEDIA_PCMU, .pcm_out = pc},
        {.in = agent, .codec = MEDIA_PCMU, .pcm_out = pa, .flags = MEDIA_MIX_WHISPER_TARGET},
        {.in = sup, .codec = MEDIA_PCMU, .pcm_out = ps, .flags = MEDIA_MIX_WHISPER},
    };
    media_mix(m, mb, 3);
    for (int i = 0; i < F; i++) {
        assert_int_equal(pc[i], agent[i]);
        assert_int_equal(pa[i], caller[i] + sup[i]);
        assert_int_equal(ps[i], caller[i] + agent[i]);
    }
    media_mixer_free(m);
}

/* A member's own prompt is added to what it hears, and to nothing else. */
static void test_own_prompt(void **state)
{
    (void)state;
    media_mixer *m = media_mixer_new();
    int16_t a[F], b[F], tone[F], pa[F], pb[F];
    fill(a, 1000);
    fill(b, 2000);
    fill(tone, 500);
    media_mix_member mb[2] = {
        {.in = a, .codec = MEDIA_PCMU, .pcm_out = pa, .own = tone},
        {.in = b, .codec = MEDIA_PCMU, .pcm_out = pb},
    };
    media_mix(m, mb, 2);
    for (int i = 0; i < F; i++) {
        assert_int_equal(pa[i], b[i] + tone[i]);
        assert_int_equal(pb[i], a[i]);
    }
    /* alone in the room: only the prompt */
    media_mix_member alone = {.in = a, .codec = MEDIA_PCMA, .pcm_out = pa, .own = tone};
    media_mix(m, &alone, 1);
    for (int i = 0; i < F; i++)
        assert_int_equal(pa[i], tone[i]);
    media_mixer_free(m);
}

/* Loud voices clip at 16 bits instead of wrapping around. */
static void test_clipping(void **state)
{
    (void)state;
    media_mixer *m = media_mixer_new();
    int16_t loud[F], loud2[F], quiet[F], p[F], q[F];
    for (int i = 0; i < F; i++) {
        loud[i] = 30000;
        loud2[i] = (int16_t)(i % 2 ? 30000 : -30000);
        quiet[i] = 0;
    }
    media_mix_member mb[3] = {
        {.in = loud, .codec = MEDIA_PCMU},
        {.in = loud2, .codec = MEDIA_PCMU},
        {.in = quiet, .codec = MEDIA_PCMU, .pcm_out = p},
    };
    media_mix(m, mb, 3);
    for (int i = 0; i < F; i++)
        assert_int_equal(p[i], i % 2 ? 32767 : 0);
    mb[1].in = loud;
    mb[2].pcm_out = q;
    media_mix(m, mb, 3);
    for (int i = 0; i < F; i++)
        assert_int_equal(q[i], 32767);
    media_mixer_free(m);
}

/* Many members, changing from frame to frame: the buffers grow. */
static void test_many_members(void **state)
{
    (void)state;
    media_mixer *m = media_mixer_new();
    enum { MANY = 60 };
    int16_t in[MANY][F], out[MANY][F];
    media_mix_member mb[MANY];
    for (int n = 1; n <= MANY; n += 19) {
        memset(mb, 0, sizeof mb);
        int32_t total = 0;
        for (int k = 0; k < n; k++) {
            for (int i = 0; i < F; i++)
                in[k][i] = (int16_t)(k * 10);
            total += k * 10;
            mb[k] = (media_mix_member){.in = in[k], .codec = k % 2 ? MEDIA_PCMA : MEDIA_PCMU,
                                       .pcm_out = out[k]};
        }
        media_mix(m, mb, (size_t)n);
        for (int k = 0; k < n; k++)
            assert_int_equal(out[k][F - 1], total - k * 10);
    }
    media_mixer_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_g711_tables_equal_spandsp),
        cmocka_unit_test(test_hears_others_not_itself),
        cmocka_unit_test(test_muted_deaf_silent),
        cmocka_unit_test(test_whisper),
        cmocka_unit_test(test_own_prompt),
        cmocka_unit_test(test_clipping),
        cmocka_unit_test(test_many_members),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
