/*
 * test_audwm.c - the aud-v3 audio watermark on synthetic signals: the
 * frozen layouts (golden digests), quality (SNR, silence stays silent),
 * the streaming embedder against the one-shot one, blind detection at
 * several rates and channel counts, after a cut, a gain change, added
 * noise and a 1% tempo change, files aud-v2 and aud-v1 marked still
 * read, and no
 * detection on unmarked audio or under a wrong key.  Codecs are tested by tests/cli/audio_wm.sh (with
 * ffmpeg), the full robustness table is `make robustness-audio`.
 *
 * The signals are made here: "speech" is noise bursts at a syllable rate
 * through two moving resonators over a little room noise, "band" a few
 * harmonic notes with vibrato over broadband noise.
 */
#include <math.h>
#include <stdio.h>

#include <sodium.h>

#include "signal.h"
#include "harness.h"

static mark_ctx *ctx;
static uint64_t rs;

static double uni(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return ((rs >> 11) + 0.5) / 9007199254740992.0;
}

static double gauss(void)
{
    return sqrt(-2 * log(uni())) * cos(2 * M_PI * uni());
}

/* A two-pole resonator at f Hz, bandwidth bw Hz. */
typedef struct reso {
    double y1, y2;
} reso;

static double reso_step(reso *r, double x, double f, double bw, double rate)
{
    double rad = exp(-M_PI * bw / rate), c = 2 * rad * cos(2 * M_PI * f / rate);
    double y = (1 - rad) * x + c * r->y1 - rad * rad * r->y2;

    r->y2 = r->y1;
    r->y1 = y;
    return y;
}

/* frames x channels of content (kind 0 speech, 1 band), about -20 dBFS,
 * with digital silence from sil0 to sil1 seconds (sil1 <= sil0: none). */
static float *signal_make(int kind, int seed, uint32_t rate, int ch,
                          double seconds, double sil0, double sil1)
{
    size_t n = (size_t)(seconds * rate), i;
    float *x = malloc(sizeof(float) * n * (size_t)ch);
    reso r1 = { 0, 0 }, r2 = { 0, 0 };
    int c;

    rs = 0x9e3779b97f4a7c15ull + (uint64_t)seed * 104729;
    for (i = 0; i < n; i++) {
        double t = (double)i / rate, v;

        if (kind == 0) {
            double syl = fmod(t * (3.5 + 0.3 * seed), 1.0);
            double env = syl < 0.6 ? sin(M_PI * syl / 0.6) : 0;
            double f1 = 500 + 250 * sin(t * 2.1 + seed);
            double f2 = 1500 + 600 * sin(t * 1.3 + 2 * seed);
            double e = gauss() * env;

            v = 0.6 * reso_step(&r1, e, f1, 80, rate) +
                0.4 * reso_step(&r2, e, f2, 120, rate) + 0.003 * gauss();
        } else {
            int note = (int)(t / 0.5) % 5;
            double f0 = 196 * pow(2, (double)((note * 7 + seed) % 12) / 12);
            double vib = 1 + 0.004 * sin(2 * M_PI * 5 * t);
            int h;

            v = 0.02 * gauss();
            for (h = 1; h <= 6; h++)
                v += 0.1 / h * sin(2 * M_PI * f0 * h * vib * t);
        }
        if (t >= sil0 && t < sil1)
            v = 0;
        for (c = 0; c < ch; c++)
            x[i * (size_t)ch + (size_t)c] = (float)(v * (c ? 0.8 : 1.0));
    }
    return x;
}

static double snr_db(const float *a, const float *b, size_t n)
{
    double s = 0, e = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        s += (double)a[i] * a[i];
        e += (double)(a[i] - b[i]) * (a[i] - b[i]);
    }
    return 10 * log10(s / (e > 0 ? e : 1e-30));
}

static int detect(const mark_key *k, const float *x, size_t frames,
                  uint32_t rate, int ch, mark__wm_result *r)
{
    int rc = mark__audwm_detect(ctx, k, x, frames, rate, ch, r);

    CHECK_RC(rc, MARK_OK);
    return rc == MARK_OK && r->found;
}

/* aud-v1 and aud-v2 share a layout; aud-v3 draws its own. */
static void test_golden(const mark_key *k)
{
    static const char *const want[3] = {
        "95955c6d48a3fac6ce5a8ffcf310775c232c2fd990dec85610e31d32a8d054bc",
        "95955c6d48a3fac6ce5a8ffcf310775c232c2fd990dec85610e31d32a8d054bc",
        "eb6fcf461206c4b5db037cf21f1f29a1f664f5c1ea17a42acc63bf7b616eee56",
    };
    unsigned char d[32];
    char hex[65];
    int v;

    for (v = 1; v <= 3; v++) {
        mark__audwm_layout_digest(k, v, d);
        sodium_bin2hex(hex, sizeof hex, d, sizeof d);
        CHECK_STR(hex, want[v - 1]);
    }
}

/* The stream in uneven pieces gives the one-shot result, sample for
 * sample, and as many samples. */
static void test_stream(const mark_key *k, const mark_payload *p)
{
    uint32_t rate = 22050;
    size_t n = rate * 5, at = 0, out = 0, got;
    float *x = signal_make(0, 7, rate, 2, 5, 0, 0);
    float *a = malloc(sizeof(float) * n * 2), *b = malloc(sizeof(float) * n * 2);
    float buf[2 * 5000];
    mark__audwm *e = NULL;
    size_t step = 1;
    int rc, same = 1;
    size_t i;

    memcpy(a, x, sizeof(float) * n * 2);
    CHECK_RC(mark__audwm_embed(ctx, k, p, a, n, rate, 2, 1.0), MARK_OK);
    CHECK_RC(mark__audwm_new(ctx, k, p, rate, 2, 1.0, &e), MARK_OK);
    if (e == NULL)
        goto out;
    for (;;) {
        size_t m = n - at < step ? n - at : step;

        rc = mark__audwm_process(e, m ? x + at * 2 : NULL, m, buf, 5000,
                                 &got);
        CHECK_RC(rc, MARK_OK);
        if (rc != MARK_OK || out + got > n)
            break;
        memcpy(b + out * 2, buf, sizeof(float) * got * 2);
        out += got;
        at += m;
        step = step * 3 % 4999 + 1;
        if (m == 0 && got == 0)
            break;
    }
    CHECK_MSG(out == n, "%zu frames out of %zu", out, n);
    for (i = 0; i < out * 2; i++)
        if (a[i] != b[i])
            same = 0;
    CHECK(same);
    /* nothing more after the end */
    CHECK_RC(mark__audwm_process(e, x, 10, buf, 5000, &got), MARK_EINVAL);
    mark__audwm_free(e);
out:
    free(x);
    free(a);
    free(b);
}

int main(void)
{
    static const struct {
        int kind, ch;
        uint32_t rate;
    } cases[] = { { 0, 2, 44100 }, { 1, 2, 48000 }, { 0, 1, 16000 },
                  { 1, 1, 22050 }, { 1, 6, 44100 } };
    mark_key *k = NULL, *k2 = NULL;
    mark_payload p, q;
    mark__wm_result r;
    unsigned ci;
    int seed, fp = 0, v;

    if (mark_ctx_new(&ctx, NULL) != MARK_OK)
        return 99;
    if (mark_key_default(ctx, &k) != MARK_OK ||
        mark_key_generate(ctx, &k2) != MARK_OK)
        return 99;
    test_golden(k);
    mark_payload_from_hex(&p, "0123456789abcdef");
    test_stream(k, &p);

    for (ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        uint32_t rate = cases[ci].rate;
        int ch = cases[ci].ch;
        size_t n = rate * 12, cut = rate * 13 / 10, i, quiet = 0;
        float *x = signal_make(cases[ci].kind, (int)ci, rate, ch, 12, 6, 7);
        float *m = malloc(sizeof(float) * n * (size_t)ch);
        double snr;

        memcpy(m, x, sizeof(float) * n * (size_t)ch);
        CHECK_RC(mark__audwm_embed(ctx, k, &p, m, n, rate, ch, 1.0),
                 MARK_OK);
        snr = snr_db(x, m, n * (size_t)ch);
        CHECK_MSG(snr >= 30, "case %u: SNR %.2f dB", ci, snr);
        /* digital silence stays digital silence, to its edges */
        for (i = (size_t)(6.0 * rate + 1) * ch; i < (size_t)(7.0 * rate) * ch;
             i++)
            quiet += m[i] != 0;
        CHECK_MSG(quiet == 0, "case %u: %zu samples moved in silence", ci,
                  quiet);
        CHECK_MSG(detect(k, m, n, rate, ch, &r) &&
                  memcmp(r.payload.bytes, p.bytes, 8) == 0,
                  "case %u: not found", ci);
        CHECK(r.score > 0.5);
        CHECK_STR(r.scheme, "aud-v3");
        /* a wrong key finds nothing */
        CHECK(!detect(k2, m, n, rate, ch, &r));
        /* cut, then quieter */
        for (i = cut * ch; i < n * ch; i++)
            m[i] *= 0.3f;
        CHECK_MSG(detect(k, m + cut * ch, n - cut, rate, ch, &r) &&
                  memcmp(r.payload.bytes, p.bytes, 8) == 0,
                  "case %u: not found after a cut", ci);
        /* noise 30 dB under the signal */
        if (ci == 1) {
            double s2 = 0, g;

            for (i = 0; i < n * ch; i++)
                s2 += (double)m[i] * m[i];
            g = sqrt(s2 / (n * ch) / 1000);
            for (i = 0; i < n * ch; i++)
                m[i] += (float)(g * gauss());
            CHECK_MSG(detect(k, m, n, rate, ch, &r) &&
                      memcmp(r.payload.bytes, p.bytes, 8) == 0,
                      "case %u: not found under noise", ci);
        }
        /* the unmarked original */
        fp += detect(k, x, n, rate, ch, &r);
        free(x);
        free(m);
    }

    /* files earlier builds marked (aud-v1: the 2.5 dB step; aud-v2: 5
     * dB, aud-v1's layout) are still read, and named so */
    for (v = 1; v <= 2; v++) {
        uint32_t rate = 44100;
        size_t n = rate * 12;
        float *x = signal_make(0, 5, rate, 2, 12, 0, 0);

        CHECK_RC(mark__audwm_embed_version(ctx, k, &p, x, n, rate, 2, 1.0, v),
                 MARK_OK);
        CHECK_MSG(detect(k, x, n, rate, 2, &r) &&
                  memcmp(r.payload.bytes, p.bytes, 8) == 0,
                  "aud-v%d not found", v);
        CHECK_STR(r.scheme, v == 1 ? "aud-v1" : "aud-v2");
        free(x);
    }

    /* 1% faster, pitch and all: shorter slots, higher bins */
    {
        uint32_t rate = 44100;
        size_t n = rate * 12, n2 = (size_t)(n / 1.01), i;
        float *x = signal_make(1, 3, rate, 1, 12, 0, 0);
        float *y = malloc(sizeof(float) * n2);

        CHECK_RC(mark__audwm_embed(ctx, k, &p, x, n, rate, 1, 1.0), MARK_OK);
        /* resampled to 1.01x: time and pitch both (a "speed" change) */
        for (i = 0; i < n2; i++) {
            double at = i * 1.01;
            size_t j = (size_t)at;
            double f = at - j;

            y[i] = (float)(j + 1 < n ? x[j] * (1 - f) + x[j + 1] * f : 0);
        }
        CHECK_MSG(detect(k, y, n2, rate, 1, &r) &&
                  memcmp(r.payload.bytes, p.bytes, 8) == 0,
                  "not found after a 1%% speed change");
        CHECK(fabs(r.tempo - 1.01) < 0.003);
        free(x);
        free(y);
    }

    /* unmarked audio: no detection in 60 clips of 4 to 9 s */
    for (seed = 0; seed < 60; seed++) {
        uint32_t rate = seed % 3 == 0 ? 44100 : seed % 3 == 1 ? 16000
                                                             : 48000;
        double sec = 4 + seed % 6;
        float *x = signal_make(seed % 2, 100 + seed, rate, 1 + seed % 2,
                               sec, 0, 0);

        fp += detect(k, x, (size_t)(sec * rate), rate, 1 + seed % 2, &r);
        free(x);
    }
    CHECK_MSG(fp == 0, "%d false positives", fp);
    /* too short to look in: no error, nothing found */
    {
        float z[8000] = { 0 };

        CHECK(!detect(k, z, 8000, 16000, 1, &r));
    }
    (void)q;
    mark_key_free(k);
    mark_key_free(k2);
    mark_ctx_free(ctx);
    return h_done("test_audwm");
}
