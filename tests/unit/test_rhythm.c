/*
 * test_rhythm.c - the audible rhythm label (short long short short):
 * the rendered tones (length, placement, no clicks), and the detector on
 * the label alone at the common rates, over synthetic speech and music
 * ducked by 12 dB with the tone only 6 dB over them, at other tempos and
 * pitches, in white noise, resampled, fed in odd blocks; and no hit on a
 * minute each of speech, music (a same-rhythm melody included), noise
 * and silence; Morse SOS and a beep train at 1 kHz.  Everything is
 * generated here from a fixed-seed PRNG.
 *
 * The music under a label keeps its partials 4% away from the label's
 * pitch: a held note at the tone's own pitch and about its level hides
 * the gaps, which no detector of the rhythm can see through (a known
 * limit, not what these tests are about); the music of the no-hit tests
 * has no such gap.
 *
 * RHYTHM_VERBOSE=1 in the environment prints every hit.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "rhythm.h"
#include "harness.h"

static mark_ctx *ctx;
static int verbose;

/* ---- a small deterministic PRNG (xorshift64*) ---- */

typedef struct rng {
    uint64_t s;
} rng;

static double uni(rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return (double)((r->s * 0x2545F4914F6CDD1DULL) >> 11) *
           (1.0 / 9007199254740992.0);
}

static double range(rng *r, double a, double b)
{
    return a + (b - a) * uni(r);
}

static double gauss(rng *r)
{
    double u = uni(r), v = uni(r);

    return sqrt(-2 * log(u + 1e-300)) * cos(2 * M_PI * v);
}

/* ---- synthetic content ---- */

static double rms(const float *x, size_t n)
{
    double s = 0;
    size_t i;

    for (i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return n ? sqrt(s / (double)n) : 0;
}

static void scale_to(float *x, size_t n, double want)
{
    double r = rms(x, n);
    size_t i;

    if (r > 0)
        for (i = 0; i < n; i++)
            x[i] = (float)(x[i] * want / r);
}

/* A two-pole resonator. */
typedef struct reso {
    double y1, y2, a1, a2, g;
} reso;

static void reso_set(reso *f, double freq, double bw, uint32_t rate)
{
    double r = exp(-M_PI * bw / rate);

    f->a1 = 2 * r * cos(2 * M_PI * freq / rate);
    f->a2 = -r * r;
    f->g = 1 - r;
}

static double reso_run(reso *f, double x)
{
    double y = f->g * x + f->a1 * f->y1 + f->a2 * f->y2;

    f->y2 = f->y1;
    f->y1 = y;
    return y;
}

/* Speech-like: syllables of 80 to 350 ms at about 4 a second, voiced
 * (a glottal pulse train with a drifting pitch) or not (noise), through
 * three moving formants, with pauses and phrase breaks. */
static void gen_speech(float *x, size_t n, uint32_t rate, uint64_t seed)
{
    rng r = { seed };
    reso f[3];
    size_t t = 0;

    memset(x, 0, n * sizeof *x);
    memset(f, 0, sizeof f);
    while (t < n) {
        double dur = range(&r, 0.08, 0.35), pause = range(&r, 0.03, 0.2);
        size_t len = (size_t)(dur * rate), k;
        int voiced = uni(&r) < 0.75;
        double f0a = range(&r, 90, 230), f0b = f0a * range(&r, 0.8, 1.2);
        double fa[3], fb[3], bw[3], amp = range(&r, 0.3, 1.0), ph = 0;

        if (uni(&r) < 0.1)
            pause += range(&r, 0.3, 0.8);
        fa[0] = range(&r, 300, 800);
        fb[0] = range(&r, 300, 800);
        fa[1] = range(&r, 900, 2400);
        fb[1] = range(&r, 900, 2400);
        fa[2] = range(&r, 2400, 3400);
        fb[2] = fa[2];
        bw[0] = range(&r, 60, 120);
        bw[1] = range(&r, 80, 160);
        bw[2] = range(&r, 120, 250);
        for (k = 0; k < len && t + k < n; k++) {
            double u = (double)k / (double)len, e, src, y = 0;
            int j;

            if (k % 32 == 0)
                for (j = 0; j < 3; j++) {
                    double fr = fa[j] + (fb[j] - fa[j]) * u;

                    if (fr > 0.45 * rate)
                        fr = 0.45 * rate;
                    reso_set(&f[j], fr, bw[j], rate);
                }
            /* rise over the first fifth, fall over the last third */
            e = u < 0.2 ? sin(M_PI / 2 * u / 0.2)
                        : u > 0.67 ? cos(M_PI / 2 * (u - 0.67) / 0.33) : 1;
            if (voiced) {
                ph += (f0a + (f0b - f0a) * u) / rate;
                src = 0.03 * gauss(&r);
                if (ph >= 1) {
                    ph -= 1;
                    src += 1;
                }
            } else {
                src = 0.3 * gauss(&r);
            }
            y = reso_run(&f[0], src) + 0.6 * reso_run(&f[1], src) +
                0.3 * reso_run(&f[2], src);
            x[t + k] = (float)(amp * e * e * y);
        }
        t += len + (size_t)(pause * rate);
    }
    scale_to(x, n, 0.1);
}

#define TAB 4096
static float sintab[TAB + 1];

static double fsin(double ph)      /* ph in cycles */
{
    double p = (ph - floor(ph)) * TAB;
    int i = (int)p;

    return sintab[i] + (sintab[i + 1] - sintab[i]) * (p - i);
}

/* One note added to x: harmonics (nh of them, 1 / h^tilt, none within
 * 4% of avoid), vibrato, attack, decay to a sustain level, release after
 * len. */
static void add_note(float *x, size_t n, uint32_t rate, size_t at,
                     double len, double f, int nh, double tilt, double vib,
                     double att, double rel, double amp, double avoid)
{
    size_t total = (size_t)((len + rel) * rate), k;
    double ph[8] = { 0 }, w[8], vph = 0, dec = 0.3, fade = 1;
    double kdec = exp(-1 / (0.15 * rate)), kfade = exp(-4 / (rel * rate));
    int h;

    for (h = 1; h <= nh && h <= 8; h++)
        w[h - 1] = fabs(h * f - avoid) > 0.04 * avoid ? pow(h, -tilt) : 0;

    for (k = 0; k < total && at + k < n; k++) {
        double t = (double)k / rate, env, fi, s = 0;

        /* attack, decay to 0.7, release after len */
        if (t < att) {
            env = t / att;
        } else {
            env = 0.7 + dec;
            dec *= kdec;
        }
        if (t > len) {
            env *= fade;
            fade *= kfade;
        }
        vph += 5.5 / rate;
        fi = f * (1 + vib * fsin(vph));
        for (h = 1; h <= nh && h <= 8; h++) {
            if (h * fi > 0.45 * rate)
                break;
            ph[h - 1] += h * fi / rate;
            s += w[h - 1] * fsin(ph[h - 1]);
        }
        x[at + k] += (float)(amp * env * s);
    }
}

/* A sine note with the label's own 5 ms edges: the hardest melody. */
static void add_beep(float *x, size_t n, uint32_t rate, size_t at,
                     double len, double f, double amp)
{
    size_t total = (size_t)(len * rate), ramp = (size_t)(0.005 * rate), k;

    for (k = 0; k < total && at + k < n; k++) {
        size_t dd = k < total - 1 - k ? k : total - 1 - k;
        double g = dd < ramp ? 0.5 * (1 - cos(M_PI * dd / ramp)) : 1;

        x[at + k] += (float)(amp * g * sin(2 * M_PI * f * k / rate));
    }
}

static double midi(int m)
{
    return 440 * pow(2, (m - 69) / 12.0);
}

/* Music-like: two voices of harmonic notes of 0.1 to 2.5 s (some pure,
 * held, without vibrato), chords, and every 7 s the rhythm itself as a
 * melody: short long short short notes at four different pitches, with
 * sharp edges, at unit 100 ms and now and then 60 ms.  Nothing within 4%
 * of avoid (0: no limit). */
static void gen_music(float *x, size_t n, uint32_t rate, uint64_t seed,
                      double avoid)
{
    static const int scale[7] = { 0, 2, 4, 5, 7, 9, 11 };
    static const double lens[7] = { 0.1, 0.2, 0.3, 0.5, 0.8, 1.5, 2.5 };
    rng r = { seed };
    int v, i, k;
    size_t t;

    memset(x, 0, n * sizeof *x);
    for (v = 0; v < 2; v++) {
        t = (size_t)(range(&r, 0, 0.3) * rate);
        while (t < n) {
            double len = lens[(int)(uni(&r) * 7)];
            int m = 55 + 12 * (int)(uni(&r) * 2) + 12 * v +
                    scale[(int)(uni(&r) * 7)];
            int pure = uni(&r) < 0.25;

            add_note(x, n, rate, t, len, midi(m), pure ? 1 : 6,
                     range(&r, 0.8, 2.0), pure ? 0 : range(&r, 0, 0.01),
                     range(&r, 0.005, 0.04), range(&r, 0.03, 0.25),
                     range(&r, 0.1, 0.3), avoid);
            t += (size_t)((len + range(&r, 0, 0.15)) * rate);
        }
    }
    for (t = (size_t)(2.5 * rate), i = 0; t + 2 * rate < n;
         t += 7 * (size_t)rate, i++) {
        double u = i % 3 == 2 ? 0.06 : 0.1;
        int m = 76 + scale[(int)(uni(&r) * 3)];
        double f[4], amp = 0.3;

        /* four different pitches, at least a semitone apart (one near
         * the label's own pitch an octave up) */
        f[0] = midi(m);
        f[1] = midi(m + 2);
        f[2] = midi(m + (i % 2 ? -1 : 3));
        f[3] = midi(m + 5);
        for (k = 0; k < 4; k++)
            if (fabs(f[k] - avoid) < 0.04 * avoid)
                f[k] *= 2;
        add_beep(x, n, rate, t, u, f[0], amp);
        add_beep(x, n, rate, t + (size_t)(2 * u * rate), 3 * u, f[1], amp);
        add_beep(x, n, rate, t + (size_t)(8 * u * rate), u, f[2], amp);
        add_beep(x, n, rate, t + (size_t)(10 * u * rate), u, f[3], amp);
    }
    scale_to(x, n, 0.1);
}

static void gen_noise(float *x, size_t n, uint64_t seed, double sd)
{
    rng r = { seed };
    size_t i;

    for (i = 0; i < n; i++)
        x[i] = (float)(sd * gauss(&r));
}

/* ---- labels in content ---- */

/* Duck x by 12 dB around [at, at + len) (30 ms raised-cosine ramps, a
 * 150 ms margin) and add the label there with its tones tcr dB over what
 * is left of the content there (RMS against RMS). */
static void overlay(float *x, size_t n, uint32_t rate, size_t at,
                    double unit, double freq, double tcr)
{
    size_t len = mark__rhythm_frames_ex(rate, unit);
    size_t margin = (size_t)(0.15 * rate), ramp = (size_t)(0.03 * rate);
    size_t a = at > margin ? at - margin : 0;
    size_t b = at + len + margin < n ? at + len + margin : n, i;
    float *tone = malloc(len * sizeof *tone);
    double c, amp;

    for (i = a; i < b; i++) {
        /* ramps inside the margin, none at the file's edges */
        size_t dd = a > 0 && i - a < ramp ? i - a
                    : b < n && b - 1 - i < ramp ? b - 1 - i : ramp;
        double g = dd >= ramp ? 0.25
                   : 0.25 + 0.75 * 0.5 * (1 + cos(M_PI * (double)dd / ramp));

        x[i] = (float)(x[i] * g);
    }
    c = rms(x + a, b - a);
    amp = sqrt(2.0) * c * pow(10, tcr / 20);
    if (amp <= 0)
        amp = 0.1;
    mark__rhythm_render_ex(tone, len, 0, rate, (float)amp, unit, freq);
    for (i = 0; i < len && at + i < n; i++)
        x[at + i] += tone[i];
    free(tone);
}

/* Run the detector over x, fed in blocks of blk (0: all at once). */
static int detect(const float *x, size_t n, uint32_t rate, size_t blk,
                  mark__rhythm_hit *hits, int max)
{
    mark__rhythm_det *d = NULL;
    int cnt = -1, i;
    size_t i0;

    CHECK_RC(mark__rhythm_det_new(ctx, rate, &d), MARK_OK);
    if (d == NULL)
        return -1;
    if (blk == 0)
        blk = n;
    for (i0 = 0; i0 < n; i0 += blk)
        CHECK_RC(mark__rhythm_det_feed(d, x + i0,
                                       n - i0 < blk ? n - i0 : blk), MARK_OK);
    CHECK_RC(mark__rhythm_det_finish(d, hits, max, &cnt), MARK_OK);
    mark__rhythm_det_free(d);
    if (verbose)
        for (i = 0; i < cnt; i++)
            printf("  hit %.3f-%.3f s %.1f Hz ratio %.2f score %.2f\n",
                   hits[i].start, hits[i].end, hits[i].freq, hits[i].ratio,
                   hits[i].score);
    return cnt;
}

/* Exactly one hit, where and what it should be. */
static void expect_one(const char *what, const float *x, size_t n,
                       uint32_t rate, double start, double unit, double freq)
{
    mark__rhythm_hit h[8];
    int cnt;

    if (verbose)
        printf("%s\n", what);
    cnt = detect(x, n, rate, 0, h, 8);
    CHECK_MSG(cnt == 1, "%s: %d hits", what, cnt);
    if (cnt < 1)
        return;
    CHECK_MSG(fabs(h[0].start - start) <= 0.03, "%s: start %.3f, want %.3f",
              what, h[0].start, start);
    CHECK_MSG(fabs(h[0].end - (start + 11 * unit)) <= 0.03,
              "%s: end %.3f, want %.3f", what, h[0].end, start + 11 * unit);
    CHECK_MSG(fabs(h[0].freq - freq) <= 0.02 * freq, "%s: %.1f Hz", what,
              h[0].freq);
    CHECK_MSG(h[0].ratio > 2.6 && h[0].ratio < 3.5, "%s: ratio %.2f", what,
              h[0].ratio);
    CHECK_MSG(h[0].score > 0.5 && h[0].score <= 1, "%s: score %.2f", what,
              h[0].score);
}

static void expect_none(const char *what, const float *x, size_t n,
                        uint32_t rate)
{
    mark__rhythm_hit h[8];
    int cnt;

    if (verbose)
        printf("%s\n", what);
    cnt = detect(x, n, rate, 0, h, 8);
    CHECK_MSG(cnt == 0, "%s: %d hits, first at %.3f s", what, cnt,
              cnt > 0 ? h[0].start : 0.0);
}

/* ---- the tests ---- */

static void test_render(void)
{
    static const uint32_t rates[] = { 8000, 44100, 48000 };
    size_t ri;

    for (ri = 0; ri < sizeof rates / sizeof rates[0]; ri++) {
        uint32_t rate = rates[ri];
        size_t n = mark__rhythm_frames(rate), u = (size_t)(0.1 * rate + 0.5);
        size_t i, k, blk;
        float *x = malloc((n + 100) * sizeof *x), *y = malloc(n * sizeof *y);
        double maxstep = 0, peak = 0;
        static const int on[4] = { 0, 2, 8, 10 }, off[4] = { 1, 5, 9, 11 };

        CHECK(n == 11 * u);
        mark__rhythm_render(x, n + 100, 0, rate, 0.5f);
        for (i = n; i < n + 100; i++)
            CHECK(x[i] == 0);
        for (k = 0; k < 4; k++) {
            size_t s = on[k] * u, e = off[k] * u;
            double tr;

            /* silence before each tone, and the tone starts and ends at
             * 0 with a gentle slope */
            if (s > 0)
                CHECK(x[s - 1] == 0);
            CHECK(fabs(x[s]) < 1e-6 && fabs(x[e - 1]) < 1e-3);
            CHECK(fabs(x[s + 1]) < 0.01 && fabs(x[e - 2]) < 0.01);
            CHECK(e >= n || x[e] == 0);
            /* the tone is there in the middle of its span */
            tr = rms(x + s + u / 4, (e - s) / 2);
            CHECK_MSG(fabs(tr - 0.5 / sqrt(2)) < 0.01, "tone %zu rms %.3f",
                      k, tr);
        }
        for (i = 0; i < n; i++) {
            if (i > 0 && fabs(x[i] - x[i - 1]) > maxstep)
                maxstep = fabs(x[i] - x[i - 1]);
            if (fabs(x[i]) > peak)
                peak = fabs(x[i]);
        }
        CHECK(peak <= 0.5f && peak > 0.49);
        /* no click: no step beyond what a 1 kHz sine takes */
        CHECK_MSG(maxstep <= 0.5 * 2 * M_PI * 1000 / rate * 1.01,
                  "%u Hz: step %.4f", rate, maxstep);
        /* block by block, any blocking, the same samples */
        for (blk = 1; blk < n; blk = blk * 3 + 1) {
            for (i = 0; i < n; i += blk)
                mark__rhythm_render(y + i, n - i < blk ? n - i : blk, i,
                                    rate, 0.5f);
            CHECK(memcmp(x, y, n * sizeof *x) == 0);
        }
        free(x);
        free(y);
    }
    {
        /* under 2.5 kHz of rate the tone drops to rate / 4 */
        float x[2200];
        size_t i, zc = 0;

        CHECK(mark__rhythm_frames(2000) == 2200);
        mark__rhythm_render(x, 2200, 0, 2000, 1.0f);
        for (i = 401; i < 1000; i++)
            zc += (x[i] > 0) != (x[i - 1] > 0);
        CHECK_MSG(zc >= 290 && zc <= 302, "zero crossings %zu", zc);
    }
}

static void test_alone(void)
{
    static const uint32_t rates[] = { 8000, 16000, 22050, 44100, 48000 };
    size_t ri;

    for (ri = 0; ri < sizeof rates / sizeof rates[0]; ri++) {
        uint32_t rate = rates[ri];
        size_t lead = (size_t)(0.7 * rate), n = lead + 2 * rate, len;
        float *x = calloc(n, sizeof *x);
        char what[64];

        len = mark__rhythm_frames(rate);
        mark__rhythm_render(x + lead, len, 0, rate, 0.3f);
        snprintf(what, sizeof what, "alone at %u Hz", rate);
        expect_one(what, x, n, rate, 0.7, 0.1, 1000);
        /* at the very start and at the very end */
        memset(x, 0, n * sizeof *x);
        mark__rhythm_render(x, len, 0, rate, 0.3f);
        snprintf(what, sizeof what, "alone first at %u Hz", rate);
        expect_one(what, x, len, rate, 0.0, 0.1, 1000);
        free(x);
    }
}

/* At the start, in the middle and at the end of 20 s of speech and of
 * music, ducked, the tone 6 dB over what is left. */
static void test_content(void)
{
    const uint32_t rate = 22050;
    const size_t n = 20 * rate, len = mark__rhythm_frames(rate);
    float *base = malloc(n * sizeof *base), *x = malloc(n * sizeof *x);
    int kind, w;

    for (kind = 0; kind < 2; kind++) {
        if (kind == 0)
            gen_speech(base, n, rate, 11);
        else
            gen_music(base, n, rate, 12, 1000);
        for (w = 0; w < 3; w++) {
            size_t at = w == 0 ? 0 : w == 1 ? 9 * rate + 1234 : n - len;
            char what[64];

            memcpy(x, base, n * sizeof *x);
            overlay(x, n, rate, at, 0.1, 1000, 6);
            snprintf(what, sizeof what, "%s, label at the %s",
                     kind ? "music" : "speech",
                     w == 0 ? "start" : w == 1 ? "middle" : "end");
            expect_one(what, x, n, rate, (double)at / rate, 0.1, 1000);
        }
    }
    free(base);
    free(x);
}

static void test_tempo_pitch(void)
{
    static const struct {
        double unit, freq;
    } v[] = { { 0.06, 1000 }, { 0.25, 1000 }, { 0.1, 600 }, { 0.1, 3000 } };
    const uint32_t rate = 44100;
    const size_t n = 7 * rate;
    float *x = malloc(n * sizeof *x);
    size_t i;

    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t at = 3 * rate + 777;
        char what[64];

        if (i % 2)
            gen_music(x, n, rate, 20 + i, v[i].freq);
        else
            gen_speech(x, n, rate, 20 + i);
        overlay(x, n, rate, at, v[i].unit, v[i].freq, 6);
        snprintf(what, sizeof what, "unit %.0f ms at %.0f Hz over %s",
                 v[i].unit * 1000, v[i].freq, i % 2 ? "music" : "speech");
        expect_one(what, x, n, rate, (double)at / rate, v[i].unit, v[i].freq);
    }
    /* the ends of the range, in noise 20 dB under the tone */
    for (i = 0; i < 2; i++) {
        double unit = i ? 0.3 : 0.05, freq = i ? 4000 : 300;
        size_t at = rate + 99, len = mark__rhythm_frames_ex(rate, unit), k;
        float *t = malloc(len * sizeof *t);
        char what[64];

        gen_noise(x, n, 25 + i, 0.03);
        mark__rhythm_render_ex(t, len, 0, rate, 0.3f * 1.4142f, unit, freq);
        for (k = 0; k < len; k++)
            x[at + k] += t[k];
        snprintf(what, sizeof what, "unit %.0f ms at %.0f Hz in noise",
                 unit * 1000, freq);
        expect_one(what, x, n, rate, (double)at / rate, unit, freq);
        free(t);
    }
    free(x);
}

static void test_noise(void)
{
    static const uint32_t rates[] = { 16000, 44100 };
    size_t ri;

    for (ri = 0; ri < 2; ri++) {
        uint32_t rate = rates[ri];
        size_t n = 6 * rate, at = 2 * rate + 55, len, i;
        float *x = malloc(n * sizeof *x), *t;
        char what[64];

        /* tone RMS 0.3 / sqrt 2, noise 20 dB under it */
        gen_noise(x, n, 30 + ri, 0.3 / sqrt(2) / 10);
        len = mark__rhythm_frames(rate);
        t = malloc(len * sizeof *t);
        mark__rhythm_render(t, len, 0, rate, 0.3f);
        for (i = 0; i < len; i++)
            x[at + i] += t[i];
        snprintf(what, sizeof what, "white noise 20 dB SNR at %u Hz", rate);
        expect_one(what, x, n, rate, (double)at / rate, 0.1, 1000);
        free(t);
        free(x);
    }
}

/* Rendered at 48 kHz over speech, then resampled to 44.1 kHz (linear
 * interpolation, as a cheap converter would). */
static void test_resampled(void)
{
    const size_t n = 8 * 48000, m = 8 * 44100;
    float *x = malloc(n * sizeof *x), *y = malloc(m * sizeof *y);
    size_t i;

    gen_speech(x, n, 48000, 40);
    overlay(x, n, 48000, 3 * 48000, 0.1, 1000, 6);
    for (i = 0; i < m; i++) {
        double p = (double)i * 48000 / 44100;
        size_t k = (size_t)p;

        y[i] = (float)(k + 1 < n ? x[k] + (x[k + 1] - x[k]) * (p - k) : 0);
    }
    expect_one("resampled 48 to 44.1 kHz", y, m, 44100, 3.0, 0.1, 1000);
    free(x);
    free(y);
}

static void test_blocks(void)
{
    const uint32_t rate = 16000;
    const size_t n = 8 * rate;
    static const size_t blks[] = { 1, 7, 4096 };
    float *x = malloc(n * sizeof *x);
    mark__rhythm_hit a[4], b[4];
    int na, nb;
    size_t i;

    gen_speech(x, n, rate, 50);
    overlay(x, n, rate, 2 * rate + 3, 0.1, 1000, 6);
    overlay(x, n, rate, 5 * rate + 5, 0.08, 2000, 6);
    na = detect(x, n, rate, 0, a, 4);
    CHECK_MSG(na == 2, "blocks: %d hits", na);
    for (i = 0; i < sizeof blks / sizeof blks[0]; i++) {
        nb = detect(x, n, rate, blks[i], b, 4);
        CHECK_MSG(nb == na && memcmp(a, b, (size_t)na * sizeof *a) == 0,
                  "blocks of %zu differ", blks[i]);
    }
    free(x);
}

static void test_negatives(void)
{
    const uint32_t rate = 16000;
    const size_t n = 60 * rate;
    float *x = malloc(n * sizeof *x);
    size_t i;

    gen_speech(x, n, rate, 60);
    expect_none("60 s of speech", x, n, rate);
    gen_music(x, n, rate, 61, 0);
    expect_none("60 s of music", x, n, rate);
    gen_noise(x, n, 62, 0.1);
    expect_none("60 s of white noise", x, n, rate);
    memset(x, 0, n * sizeof *x);
    expect_none("60 s of silence", x, n, rate);
    gen_noise(x, n / 3, 63, 1e-5);
    expect_none("20 s of dither", x, n / 3, rate);
    /* switched 1 kHz tones that are not the rhythm: Morse SOS
     * (... --- ...), and a beep train of equal tones */
    memset(x, 0, n * sizeof *x);
    for (i = 0; i < 4; i++) {
        /* tone and gap after it, in 100 ms units */
        static const int sos[9][2] = { { 1, 1 }, { 1, 1 }, { 1, 3 },
                                       { 3, 1 }, { 3, 1 }, { 3, 3 },
                                       { 1, 1 }, { 1, 1 }, { 1, 7 } };
        size_t at = (i * 5 + 1) * (size_t)rate, k;

        for (k = 0; k < 9; k++) {
            add_beep(x, n, rate, at, 0.1 * sos[k][0], 1000, 0.3);
            at += (size_t)(0.1 * (sos[k][0] + sos[k][1]) * rate);
        }
    }
    for (i = 0; i < 60; i++)
        add_beep(x, n, rate, 22 * (size_t)rate + i * (size_t)(0.2 * rate),
                 0.1, 1000, 0.3);
    expect_none("Morse SOS and a beep train", x, n, rate);
    /* music at 44.1 kHz, and speech over music */
    free(x);
    x = malloc(20 * 44100 * sizeof *x);
    gen_music(x, 20 * 44100, 44100, 64, 0);
    expect_none("20 s of music at 44.1 kHz", x, 20 * 44100, 44100);
    {
        float *y = malloc(20 * 44100 * sizeof *y);

        gen_speech(y, 20 * 44100, 44100, 65);
        for (i = 0; i < 20 * 44100; i++)
            x[i] += y[i];
        expect_none("20 s of speech over music", x, 20 * 44100, 44100);
        free(y);
    }
    free(x);
}

static void test_api(void)
{
    mark__rhythm_det *d = (mark__rhythm_det *)1;
    mark__rhythm_hit all[4], h[4], h2[4];
    const uint32_t rate = 16000;
    const size_t n = 12 * rate, len = mark__rhythm_frames(rate);
    float *x = calloc(n, sizeof *x);
    int cnt = -1, cnt2 = -1, nall, k, j, found;
    rng r = { 70 };
    size_t i;

    CHECK_RC(mark__rhythm_det_new(ctx, 100, &d), MARK_EINVAL);
    CHECK(d == NULL);
    CHECK_RC(mark__rhythm_det_new(ctx, 1000000, &d), MARK_EINVAL);
    mark__rhythm_det_free(NULL);

    /* three labels in noise; max = 2 gives two of them, in time order,
     * and the one left out is not stronger than either */
    for (k = 0; k < 3; k++)
        mark__rhythm_render(x + (size_t)(1 + 4 * k) * rate, len, 0, rate,
                            k == 1 ? 0.5f : 0.2f);
    for (i = 0; i < n; i++)
        x[i] += (float)(0.01 * gauss(&r));
    nall = detect(x, n, rate, 0, all, 4);
    CHECK(nall == 3);
    CHECK_RC(mark__rhythm_det_new(ctx, rate, &d), MARK_OK);
    if (d == NULL || nall != 3) {
        mark__rhythm_det_free(d);
        free(x);
        return;
    }
    CHECK_RC(mark__rhythm_det_feed(d, x, n), MARK_OK);
    CHECK_RC(mark__rhythm_det_finish(d, h, 2, &cnt), MARK_OK);
    CHECK(cnt == 2 && h[0].start < h[1].start);
    for (k = 0, found = 0; k < 3 && cnt == 2; k++) {
        int in = 0;

        for (j = 0; j < 2; j++)
            in |= memcmp(&all[k], &h[j], sizeof h[j]) == 0;
        found += in;
        if (!in)
            CHECK(all[k].score <= h[0].score && all[k].score <= h[1].score);
    }
    CHECK(found == 2);
    /* again: the same; then no more feeding */
    CHECK_RC(mark__rhythm_det_finish(d, h2, 2, &cnt2), MARK_OK);
    CHECK(cnt2 == cnt && memcmp(h, h2, sizeof h[0] * 2) == 0);
    CHECK_RC(mark__rhythm_det_feed(d, x, 10), MARK_EINVAL);
    CHECK_RC(mark__rhythm_det_finish(d, h, 0, &cnt), MARK_OK);
    CHECK(cnt == 0);
    mark__rhythm_det_free(d);

    /* hostile samples: not-a-number and huge values are no crash and no
     * hit */
    for (i = 0; i < n; i++)
        x[i] = i % 3 == 0 ? NAN : i % 3 == 1 ? 3e38f : -INFINITY;
    expect_none("NaN and huge samples", x, n, rate);
    free(x);
}

int main(void)
{
    int i;

    for (i = 0; i <= TAB; i++)
        sintab[i] = (float)sin(2 * M_PI * i / TAB);
    verbose = getenv("RHYTHM_VERBOSE") != NULL;
    if (mark_ctx_new(&ctx, NULL) != MARK_OK)
        return 99;
    test_render();
    test_alone();
    test_content();
    test_tempo_pitch();
    test_noise();
    test_resampled();
    test_blocks();
    test_negatives();
    test_api();
    mark_ctx_free(ctx);
    return h_done("test_rhythm");
}
