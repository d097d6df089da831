/*
 * genwav.c - writes one WAV test fixture, made in code (no recording or
 * third-party sample goes in):
 *
 *   genwav OUT.wav [options]
 *     --rate HZ          frames a second (44100)
 *     --channels N       1 to 8 (2)
 *     --format F         u8 s16 s24 s32 f32 f64 (s16)
 *     --seconds S        length (3)
 *     --content C        voice, speech, music, noise, silence, tone
 *                        (music)
 *     --extensible       WAVE_FORMAT_EXTENSIBLE 'fmt '
 *     --rf64             an RF64 header with a ds64 chunk
 *     --aigc JSON        a top-level AIGC chunk before 'data'
 *     --info-aigc JSON   a LIST/INFO with INAM and an AIGC child
 *     --extra            unrelated chunks (LIST/INFO INAM, 'cue ', an
 *                        odd-sized 'junk' one) that a writer must keep
 *     --truncate N       cut the file to N bytes
 *     --lie              the data chunk claims 1000 bytes more than it has
 *     --unset-size       the data size is 0xffffffff (a stream writer)
 *     --seed N           content seed (1)
 *
 * "voice" is a crude vowel synthesiser: a harmonic source on a gliding
 * pitch (110-150 Hz, up to 5 kHz) shaped by the three formants of one of
 * five vowels a syllable (about 4 a second, with short gaps), over a
 * little breath and room noise, so its spectrum is dense like speech.
 * "speech" is noise bursts at syllable rate through two resonators (a
 * crude vowel: two narrow bands only), "music" sums harmonic notes with
 * vibrato and decays, and
 * "tone" is a steady 440 Hz.  A xorshift generator makes the output the
 * same on every run.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static uint32_t seed = 1;

static double rnd(void)                 /* 0..1 */
{
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    return (seed & 0xffffff) / 16777216.0;
}

static double gauss(void)
{
    double s = 0;
    int i;

    for (i = 0; i < 12; i++)
        s += rnd();
    return s - 6;
}

static void le(unsigned char *p, uint64_t v, int n)
{
    int i;

    for (i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put(FILE *f, const void *p, size_t n)
{
    if (fwrite(p, 1, n, f) != n) {
        fprintf(stderr, "genwav: write failed\n");
        exit(1);
    }
}

static void chunk(FILE *f, const char *id, const void *d, uint32_t n)
{
    unsigned char h[8];

    memcpy(h, id, 4);
    le(h + 4, n, 4);
    put(f, h, 8);
    put(f, d, n);
    if (n & 1)
        put(f, "", 1);
}

/* One sample of the content at frame i (mono, about -12 dBFS RMS). */
static double content(const char *c, long i, double rate)
{
    static double y1, y2, z1, z2, env, ph[4];
    double t = i / rate;

    if (strcmp(c, "silence") == 0)
        return 0;
    if (strcmp(c, "noise") == 0)
        return 0.25 * gauss();
    if (strcmp(c, "tone") == 0)
        return 0.35 * sin(2 * M_PI * 440 * t);
    if (strcmp(c, "voice") == 0) {
        static const double vowel[5][3] = {
            { 800, 1200, 2500 }, { 300, 2300, 3000 }, { 350, 800, 2300 },
            { 500, 1900, 2600 }, { 500, 900, 2500 }
        };
        long syl = (long)(t * 4.1);
        const double *F = vowel[(syl * 3) % 5];
        double u = t * 4.1 - syl, f0 = 130 + 20 * sin(2 * M_PI * 0.3 * t) -
                                        15 * u;
        double e = u < 0.8 ? sin(M_PI * u / 0.8) : 0, v = 0;
        int h, k;

        ph[0] += 2 * M_PI * f0 / rate;
        if (ph[0] > 2 * M_PI)
            ph[0] -= 2 * M_PI;
        for (h = 1; h * f0 < 5000 && h * f0 < rate / 2; h++) {
            double g = 0;

            for (k = 0; k < 3; k++) {
                double d = (h * f0 - F[k]) / (70 + 30 * k);

                g += 1 / (1 + d * d) / (k + 1);
            }
            v += g / sqrt(h) * sin(h * ph[0]);
        }
        return e * (0.55 * v + 0.04 * gauss()) + 0.003 * gauss();
    }
    if (strcmp(c, "speech") == 0) {
        /* syllables of 120-250 ms, resonators at 700 and 1200 Hz */
        double e = 0.5 + 0.5 * sin(2 * M_PI * 4.3 * t + sin(t * 1.7));
        double x = gauss(), r = 0.97;
        double a1 = 2 * r * cos(2 * M_PI * 700 / rate);
        double b1 = 2 * r * cos(2 * M_PI * 1200 / rate);
        double y = a1 * y1 - r * r * y2 + x;
        double z = b1 * z1 - r * r * z2 + x;

        y2 = y1;
        y1 = y;
        z2 = z1;
        z1 = z;
        env = 0.999 * env + 0.001 * (e > 0.6 ? 1 : 0);
        return 0.02 * env * (y + 0.7 * z);
    }
    {
        /* music: a note every 0.4 s from a scale, 3 harmonics, vibrato */
        static const double scale[8] = { 262, 294, 330, 349, 392, 440, 494,
                                         523 };
        long note = (long)(t / 0.4);
        double f0 = scale[(note * 5 + 3) % 8], u = t - note * 0.4;
        double v = 0, vib = 1 + 0.004 * sin(2 * M_PI * 5.5 * t);
        int h;

        for (h = 0; h < 3; h++) {
            ph[h] += 2 * M_PI * f0 * (h + 1) * vib / rate;
            v += sin(ph[h]) / (h + 1);
        }
        return 0.3 * v * exp(-3 * u) + 0.01 * gauss();
    }
}

int main(int argc, char **argv)
{
    const char *out = NULL, *fmt = "s16", *cont = "music", *aigc = NULL,
               *info = NULL;
    double rate = 44100, secs = 3;
    int ch = 2, ext = 0, rf64 = 0, extra = 0, lie = 0, unset = 0, i;
    long trunc = -1, frames, k;
    int bytes, isfloat, bits;
    unsigned char *data, fmtc[40];
    size_t dlen, fl;
    FILE *f;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--extensible") == 0) ext = 1;
        else if (strcmp(a, "--rf64") == 0) rf64 = 1;
        else if (strcmp(a, "--extra") == 0) extra = 1;
        else if (strcmp(a, "--lie") == 0) lie = 1;
        else if (strcmp(a, "--unset-size") == 0) unset = 1;
        else if (a[0] == '-' && a[1] == '-' && v == NULL) {
            fprintf(stderr, "genwav: %s needs a value\n", a);
            return 1;
        } else if (strcmp(a, "--rate") == 0) rate = atof(argv[++i]);
        else if (strcmp(a, "--channels") == 0) ch = atoi(argv[++i]);
        else if (strcmp(a, "--format") == 0) fmt = argv[++i];
        else if (strcmp(a, "--seconds") == 0) secs = atof(argv[++i]);
        else if (strcmp(a, "--content") == 0) cont = argv[++i];
        else if (strcmp(a, "--aigc") == 0) aigc = argv[++i];
        else if (strcmp(a, "--info-aigc") == 0) info = argv[++i];
        else if (strcmp(a, "--truncate") == 0) trunc = atol(argv[++i]);
        else if (strcmp(a, "--seed") == 0) seed = (uint32_t)atol(argv[++i]);
        else if (out == NULL && a[0] != '-') out = a;
        else {
            fprintf(stderr, "genwav: unknown argument '%s'\n", a);
            return 1;
        }
    }
    if (out == NULL || ch < 1 || ch > 8 || rate < 1000) {
        fprintf(stderr, "usage: genwav OUT.wav [options] (see the source)\n");
        return 1;
    }
    if (seed == 0)
        seed = 1;
    isfloat = fmt[0] == 'f';
    bits = atoi(fmt + 1);
    if (strcmp(fmt, "u8") == 0)
        bits = 8;
    bytes = bits / 8;
    if (bytes < 1 || bytes > 8 || (isfloat && bits != 32 && bits != 64)) {
        fprintf(stderr, "genwav: bad format '%s'\n", fmt);
        return 1;
    }
    frames = (long)(secs * rate + 0.5);
    dlen = (size_t)frames * (size_t)ch * (size_t)bytes;
    data = malloc(dlen ? dlen : 1);
    if (data == NULL)
        return 1;
    for (k = 0; k < frames; k++) {
        double s = content(cont, k, rate);
        int c;

        for (c = 0; c < ch; c++) {
            double v = s * (1 - 0.1 * c);
            unsigned char *p = data + ((size_t)k * ch + c) * bytes;

            if (isfloat && bits == 32) {
                float x = (float)v;
                uint32_t u;

                memcpy(&u, &x, 4);
                le(p, u, 4);
            } else if (isfloat) {
                uint64_t u;

                memcpy(&u, &v, 8);
                le(p, u, 8);
            } else if (bits == 8) {
                p[0] = (unsigned char)(lround(v * 127) + 128);
            } else {
                double sc = ldexp(1, bits - 1) - 1;

                le(p, (uint64_t)(int64_t)llround(v * sc), bytes);
            }
        }
    }
    f = fopen(out, "wb");
    if (f == NULL) {
        perror("genwav");
        return 1;
    }
    {
        unsigned char h[12];

        memcpy(h, rf64 ? "RF64" : "RIFF", 4);
        le(h + 4, 0, 4);                 /* set at the end */
        memcpy(h + 8, "WAVE", 4);
        put(f, h, 12);
    }
    if (rf64) {
        unsigned char d[28];

        memset(d, 0, sizeof d);
        chunk(f, "ds64", d, 28);         /* set at the end */
    }
    memset(fmtc, 0, sizeof fmtc);
    le(fmtc, ext ? 0xfffe : isfloat ? 3 : 1, 2);
    le(fmtc + 2, (uint64_t)ch, 2);
    le(fmtc + 4, (uint64_t)rate, 4);
    le(fmtc + 8, (uint64_t)(rate * ch * bytes), 4);
    le(fmtc + 12, (uint64_t)(ch * bytes), 2);
    le(fmtc + 14, (uint64_t)bits, 2);
    fl = 16;
    if (ext) {
        static const unsigned char guid_tail[14] = {
            0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa,
            0x00, 0x38, 0x9b, 0x71 };

        le(fmtc + 16, 22, 2);
        le(fmtc + 18, (uint64_t)bits, 2);
        le(fmtc + 20, ch == 1 ? 4 : ch == 2 ? 3 : 0, 4);
        le(fmtc + 24, isfloat ? 3 : 1, 2);
        memcpy(fmtc + 26, guid_tail, 14);
        fl = 40;
    }
    chunk(f, "fmt ", fmtc, (uint32_t)fl);
    if (extra) {
        static const unsigned char list[] = "INFOINAM\x0c\0\0\0test fixture";

        chunk(f, "LIST", list, 24);
        chunk(f, "junk", "odd", 3);
    }
    if (info != NULL) {
        size_t n = strlen(info), L = 4 + 8 + 6 + 8 + n + (n & 1);
        unsigned char *l = calloc(1, L);

        memcpy(l, "INFOINAM", 8);
        le(l + 8, 6, 4);
        memcpy(l + 12, "title", 6);
        memcpy(l + 18, "AIGC", 4);
        le(l + 22, n, 4);
        memcpy(l + 26, info, n);
        chunk(f, "LIST", l, (uint32_t)L);
        free(l);
    }
    if (aigc != NULL)
        chunk(f, "AIGC", aigc, (uint32_t)strlen(aigc));
    {
        unsigned char h[8];

        memcpy(h, "data", 4);
        le(h + 4, rf64 || unset ? 0xffffffffu
                  : (uint64_t)dlen + (lie ? 1000 : 0), 4);
        put(f, h, 8);
        put(f, data, dlen);
        if (dlen & 1)
            put(f, "", 1);
    }
    if (extra) {
        unsigned char cue[28];

        memset(cue, 0, sizeof cue);
        le(cue, 1, 4);
        chunk(f, "cue ", cue, sizeof cue);
    }
    {
        long end = ftell(f);
        unsigned char b[8];

        if (!unset) {
            fseek(f, 4, SEEK_SET);
            le(b, rf64 ? 0xffffffffu : (uint64_t)(end - 8), 4);
            put(f, b, 4);
        }
        if (rf64) {
            fseek(f, 20, SEEK_SET);
            le(b, (uint64_t)(end - 8), 8);
            put(f, b, 8);
            le(b, dlen, 8);
            put(f, b, 8);
            le(b, (uint64_t)frames, 8);
            put(f, b, 8);
        }
    }
    if (fclose(f) != 0) {
        perror("genwav");
        return 1;
    }
    if (trunc >= 0 && truncate(out, trunc) != 0) {
        perror("genwav");
        return 1;
    }
    free(data);
    return 0;
}
