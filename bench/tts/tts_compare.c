/* tts_compare.c — the measurement behind docs/decisions/tts.md: espeak-ng
 * and flite side by side on telephony prompts. For each engine/voice and
 * sentence: synthesis time (CPU, one thread) against the seconds of speech
 * it made, then the audio as a caller hears it — resampled to 8 kHz
 * (libsamplerate), through G.711 mu-law and back (spandsp) — written as
 * DIR/ENGINE-VOICE-N.wav (8 kHz) for the recogniser (bench/tts/compare.sh).
 * Not part of the build: compare.sh compiles it. */
#include <espeak-ng/espeak_ng.h>
#include <flite/flite.h>
#include <samplerate.h>
#include <sndfile.h>
#include <spandsp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

cst_voice *register_cmu_us_kal(const char *);
cst_voice *register_cmu_us_slt(const char *);
cst_voice *register_cmu_us_rms(const char *);
cst_voice *register_cmu_us_awb(const char *);

static const char *const sentences[] = {
    "Thank you for calling. All of our agents are busy, please stay on the line.",
    "You are caller number three in the queue. Your estimated wait time is five minutes.",
    "For sales press one. For support press two. To leave a message press nine.",
    "Please leave a message after the tone. When you are done, press the pound key.",
    "You have two new messages. First message, received today at ten thirty.",
    "Please enter your account number followed by the pound key.",
    "The number you have dialed is not available. Please try again later.",
    "Your call is being recorded for quality and training purposes.",
    NULL,
};

/* Digit strings (the telephony test of intelligibility: a PIN, a queue
 * position, a number read back), fixed so every run says the same. */
#define DIGIT_STRINGS 20
static const char *const words[] = {"zero", "one", "two", "three", "four", "five", "six", "seven",
                                    "eight", "nine"};
static char digit_text[DIGIT_STRINGS][80];

static void make_digits(void)
{
    unsigned x = 12345;
    for (int i = 0; i < DIGIT_STRINGS; i++) {
        digit_text[i][0] = 0;
        for (int k = 0; k < 6; k++) {
            x = x * 1103515245u + 12345u;
            strcat(digit_text[i], words[(x >> 16) % 10]);
            strcat(digit_text[i], k < 5 ? ", " : ".");
        }
    }
}

typedef struct { short *s; size_t n, cap; } pcm_buf;

static void push(pcm_buf *b, const short *s, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->s = realloc(b->s, b->cap * sizeof *b->s);
    }
    memcpy(b->s + b->n, s, n * sizeof *s);
    b->n += n;
}

static int espeak_cb(short *wav, int n, espeak_EVENT *ev)
{
    if (wav && n > 0)
        push(ev->user_data, wav, (size_t)n);
    return 0;
}

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* RATE -> 8 kHz, then through mu-law and back: what the caller hears. */
static void telephony(const short *in, size_t n, int rate, const char *path)
{
    size_t out_n = (size_t)((double)n * 8000 / rate) + 16;
    float *fi = malloc(n * sizeof *fi), *fo = malloc(out_n * sizeof *fo);
    src_short_to_float_array(in, fi, (int)n);
    SRC_DATA d = {.data_in = fi, .data_out = fo, .input_frames = (long)n,
                  .output_frames = (long)out_n, .src_ratio = 8000.0 / rate, .end_of_input = 1};
    if (rate != 8000)
        src_simple(&d, SRC_SINC_MEDIUM_QUALITY, 1);
    else {
        memcpy(fo, fi, n * sizeof *fi);
        d.output_frames_gen = (long)n;
    }
    short *s = malloc((size_t)d.output_frames_gen * sizeof *s);
    src_float_to_short_array(fo, s, (int)d.output_frames_gen);
    for (long i = 0; i < d.output_frames_gen; i++)
        s[i] = ulaw_to_linear(linear_to_ulaw(s[i]));
    SF_INFO info = {.samplerate = 8000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    sf_write_short(f, s, d.output_frames_gen);
    sf_close(f);
    free(fi);
    free(fo);
    free(s);
}

static void report(const char *engine, const char *voice, double cpu, double speech, int rate)
{
    printf("{\"engine\":\"%s\",\"voice\":\"%s\",\"native_hz\":%d,\"cpu_s\":%.4f,\"speech_s\":%.2f,"
           "\"cpu_per_speech_s\":%.4f}\n", engine, voice, rate, cpu, speech, cpu / speech);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    char path[512];
    make_digits();
    const char *texts[64];
    int nt = 0;
    for (int i = 0; sentences[i]; i++)
        texts[nt++] = sentences[i];
    for (int i = 0; i < DIGIT_STRINGS; i++)
        texts[nt++] = digit_text[i];
    texts[nt] = NULL;
    snprintf(path, sizeof path, "%s/texts.txt", dir);
    FILE *tf = fopen(path, "w");
    if (!tf)
        return 1;
    for (int i = 0; texts[i]; i++)
        fprintf(tf, "%d\t%s\n", i, texts[i]);
    fclose(tf);

    /* espeak-ng */
    espeak_ng_InitializePath(NULL);
    if (espeak_ng_Initialize(NULL) != ENS_OK || espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 0, NULL) != ENS_OK)
        return 1;
    espeak_SetSynthCallback(espeak_cb);
    int erate = espeak_ng_GetSampleRate();
    const char *evoices[] = {"en-us", "en", NULL};
    for (int v = 0; evoices[v]; v++) {
        espeak_ng_SetVoiceByName(evoices[v]);
        double cpu = 0, speech = 0;
        for (int i = 0; texts[i]; i++) {
            pcm_buf b = {0};
            for (int r = 0; r < rounds; r++) {
                b.n = 0;
                double t0 = cpu_now();
                espeak_ng_Synthesize(texts[i], strlen(texts[i]) + 1, 0, POS_CHARACTER, 0,
                                     espeakCHARS_UTF8, NULL, &b);
                cpu += cpu_now() - t0;
                speech += (double)b.n / erate;
            }
            snprintf(path, sizeof path, "%s/espeak-%s-%d.wav", dir, evoices[v], i);
            telephony(b.s, b.n, erate, path);
            free(b.s);
        }
        report("espeak-ng", evoices[v], cpu, speech, erate);
    }
    espeak_ng_Terminate();

    /* flite */
    flite_init();
    struct { const char *name; cst_voice *(*reg)(const char *); } fv[] = {
        {"kal", register_cmu_us_kal}, {"slt", register_cmu_us_slt},
        {"rms", register_cmu_us_rms}, {"awb", register_cmu_us_awb}};
    for (size_t v = 0; v < sizeof fv / sizeof fv[0]; v++) {
        cst_voice *voice = fv[v].reg(NULL);
        double cpu = 0, speech = 0;
        int rate = 0;
        for (int i = 0; texts[i]; i++) {
            cst_wave *w = NULL;
            for (int r = 0; r < rounds; r++) {
                if (w)
                    delete_wave(w);
                double t0 = cpu_now();
                w = flite_text_to_wave(texts[i], voice);
                cpu += cpu_now() - t0;
                speech += (double)w->num_samples / w->sample_rate;
                rate = w->sample_rate;
            }
            snprintf(path, sizeof path, "%s/flite-%s-%d.wav", dir, fv[v].name, i);
            telephony(w->samples, (size_t)w->num_samples, w->sample_rate, path);
            delete_wave(w);
        }
        report("flite", fv[v].name, cpu, speech, rate);
    }
    return 0;
}
