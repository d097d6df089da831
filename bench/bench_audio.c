/*
 * bench_audio.c - `make bench`, audio part: marking (metadata label +
 * rhythm label) against a plain decode + encode of the same file with
 * libsndfile, memory to memory, alternating runs, median.  The input is
 * 60 s of made-up stereo music at 44.1 kHz (harmonic notes and a little
 * noise), as 16-bit WAV, as FLAC, as Ogg Vorbis and as MP3
 * (libsndfile's default quality; Opus would need 48 kHz).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sndfile.h>
#include <mark.h>

#define RATE 44100
#define SECONDS 60

typedef struct mem {
    unsigned char *p;
    sf_count_t len, cap, pos;
} mem;

static sf_count_t v_len(void *u) { return ((mem *)u)->len; }
static sf_count_t v_tell(void *u) { return ((mem *)u)->pos; }

static sf_count_t v_seek(sf_count_t off, int whence, void *u)
{
    mem *m = u;

    m->pos = whence == SEEK_SET ? off : whence == SEEK_CUR ? m->pos + off
                                                           : m->len + off;
    return m->pos;
}

static sf_count_t v_read(void *p, sf_count_t n, void *u)
{
    mem *m = u;

    if (n > m->len - m->pos)
        n = m->len - m->pos;
    if (n < 0)
        n = 0;
    memcpy(p, m->p + m->pos, (size_t)n);
    m->pos += n;
    return n;
}

static sf_count_t v_write(const void *p, sf_count_t n, void *u)
{
    mem *m = u;

    if (m->pos + n > m->cap) {
        m->cap = (m->pos + n) * 2;
        m->p = realloc(m->p, (size_t)m->cap);
    }
    memcpy(m->p + m->pos, p, (size_t)n);
    m->pos += n;
    if (m->pos > m->len)
        m->len = m->pos;
    return n;
}

static SF_VIRTUAL_IO vio = { v_len, v_seek, v_read, v_write, v_tell };

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* Decode in and encode it again in the same format: libsndfile's floats
 * in 4096-frame blocks, as the marking does. */
static size_t roundtrip(const mem *in)
{
    mem src = *in, dst = { NULL, 0, 0, 0 };
    SF_INFO ii, oi;
    SNDFILE *a, *b;
    float buf[4096 * 2];
    sf_count_t n;
    size_t len;

    src.pos = 0;
    memset(&ii, 0, sizeof ii);
    a = sf_open_virtual(&vio, SFM_READ, &ii, &src);
    oi = ii;
    b = sf_open_virtual(&vio, SFM_WRITE, &oi, &dst);
    if (a == NULL || b == NULL) {
        fprintf(stderr, "bench_audio: %s\n", sf_strerror(NULL));
        exit(1);
    }
    while ((n = sf_readf_float(a, buf, 4096)) > 0)
        sf_writef_float(b, buf, n);
    sf_close(a);
    sf_close(b);
    len = (size_t)dst.len;
    free(dst.p);
    return len;
}

/* Marking: the metadata label, the rhythm label at the start and the
 * watermark (all = 1), or the watermark alone (all = 0). */
static size_t mark_it(mark_ctx *ctx, const mem *in, int all)
{
    mark_media *m = NULL;
    mark_label *l = NULL;
    void *out = NULL;
    size_t n = 0;
    mark_payload pay = { { 1, 2, 3, 4, 5, 6, 7, 8 } };

    if (mark_media_open_buffer(ctx, &m, in->p, (size_t)in->len) !=
            MARK_OK ||
        mark_label_new(ctx, &l) != MARK_OK) {
        fprintf(stderr, "bench_audio: %s\n", mark_ctx_errmsg(ctx));
        exit(1);
    }
    mark_label_set(l, MARK_FIELD_LABEL, "1");
    mark_label_set(l, MARK_FIELD_CONTENT_PRODUCER,
                   "001191110102MAD55U9H0F10002");
    mark_label_set(l, MARK_FIELD_PRODUCE_ID, "bench-1");
    mark_label_first_write(l);
    if ((all && (mark_media_set_label(m, l) != MARK_OK ||
                 mark_media_set_audible(m, MARK_AUDIBLE_START,
                                        MARK_AUDIBLE_OVERLAY) != MARK_OK ||
                 mark_media_set_watermark(m, NULL, NULL, 1.0) != MARK_OK)) ||
        (!all && mark_media_set_watermark(m, NULL, &pay, 1.0) != MARK_OK) ||
        mark_media_save_buffer(m, &out, &n) != MARK_OK) {
        fprintf(stderr, "bench_audio: %s\n", mark_ctx_errmsg(ctx));
        exit(1);
    }
    mark_free(ctx, out);
    mark_label_free(l);
    mark_media_free(m);
    return n;
}

/* Verify: open, the rhythm label search, and (wm) the watermark. */
static double verify_it(mark_ctx *ctx, const mem *in, int wm)
{
    mark_media *m = NULL;
    mark_explicit_info ex;
    double t0 = now();

    if (mark_media_open_buffer(ctx, &m, in->p, (size_t)in->len) != MARK_OK)
        exit(1);
    mark_media_explicit(m, &ex);
    if (wm && mark_media_detect_watermark(m, NULL, NULL) != MARK_OK)
        exit(1);
    mark_media_free(m);
    return now() - t0;
}

/* Open and the watermark search alone. */
static double detect_it(mark_ctx *ctx, const mem *in)
{
    mark_media *m = NULL;
    double t0 = now();

    if (mark_media_open_buffer(ctx, &m, in->p, (size_t)in->len) != MARK_OK ||
        mark_media_detect_watermark(m, NULL, NULL) != MARK_OK)
        exit(1);
    mark_media_free(m);
    return now() - t0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

#define RT(t) (SECONDS / (t))

static void row(const char *what, mark_ctx *ctx, const mem *in, int reps)
{
    double tb[16], tl[16], tw[16], tv[16], td[16];
    int r;

    for (r = 0; r < reps; r++) {
        double t0 = now();

        roundtrip(in);
        tb[r] = now() - t0;
        t0 = now();
        mark_it(ctx, in, 1);
        tl[r] = now() - t0;
        t0 = now();
        mark_it(ctx, in, 0);
        tw[r] = now() - t0;
        tv[r] = verify_it(ctx, in, 1);
        td[r] = detect_it(ctx, in);
    }
    qsort(tb, (size_t)reps, sizeof tb[0], cmp_d);
    qsort(tl, (size_t)reps, sizeof tl[0], cmp_d);
    qsort(tw, (size_t)reps, sizeof tw[0], cmp_d);
    qsort(tv, (size_t)reps, sizeof tv[0], cmp_d);
    qsort(td, (size_t)reps, sizeof td[0], cmp_d);
    r = reps / 2;
    printf("| %s | %.1f MB | %.3f s | %.3f s (%.0fx RT) | %.2fx | "
           "%.3f s (%.0fx RT) | %.2fx | %.3f s (%.0fx RT) | "
           "%.3f s (%.0fx RT) |\n", what, in->len / 1e6, tb[r], tl[r],
           RT(tl[r]), tl[r] / tb[r], tw[r], RT(tw[r]), tw[r] / tb[r], tv[r],
           RT(tv[r]), td[r], RT(td[r]));
}

static mem encode(const float *x, int format)
{
    mem m = { NULL, 0, 0, 0 };
    SF_INFO oi;
    SNDFILE *f;
    sf_count_t i;

    memset(&oi, 0, sizeof oi);
    oi.samplerate = RATE;
    oi.channels = 2;
    oi.format = format;
    f = sf_open_virtual(&vio, SFM_WRITE, &oi, &m);
    if (f == NULL) {
        fprintf(stderr, "bench_audio: %s\n", sf_strerror(NULL));
        exit(1);
    }
    /* in blocks: libvorbis copies its first write onto the stack */
    for (i = 0; i < (sf_count_t)RATE * SECONDS; i += 4096)
        sf_writef_float(f, x + 2 * i, (sf_count_t)RATE * SECONDS - i < 4096
                                          ? (sf_count_t)RATE * SECONDS - i
                                          : 4096);
    sf_close(f);
    return m;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 5;
    size_t i, n = (size_t)RATE * SECONDS;
    float *x = malloc(sizeof *x * n * 2);
    uint32_t seed = 1;
    double ph = 0;
    mark_ctx *ctx = NULL;
    mem wav, flac, vorbis, mp3;

    if (reps < 1 || reps > 15)
        reps = 5;
    if (x == NULL || mark_ctx_new(&ctx, NULL) != MARK_OK)
        return 1;
    for (i = 0; i < n; i++) {
        static const double scale[8] = { 262, 294, 330, 349, 392, 440, 494,
                                         523 };
        double t = (double)i / RATE, u = fmod(t, 0.4);
        double f0 = scale[((long)(t / 0.4) * 5 + 3) % 8];
        double v;

        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        ph += 2 * M_PI * f0 / RATE;
        v = 0.3 * exp(-3 * u) * (sin(ph) + 0.5 * sin(2 * ph)) +
            0.01 * ((seed & 0xffff) / 32768.0 - 1);
        x[2 * i] = (float)v;
        x[2 * i + 1] = (float)(0.9 * v);
    }
    wav = encode(x, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    flac = encode(x, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
    vorbis = encode(x, SF_FORMAT_OGG | SF_FORMAT_VORBIS);
    mp3 = encode(x, SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III);
    free(x);
    printf("\nAudio: marking vs a plain decode + encode with libsndfile, "
           "%d s of 44.1 kHz\nstereo, median of %d alternating runs, one "
           "core.  all marks = metadata label\n+ rhythm label at the start + "
           "aud-v3 watermark (a fresh file: no search for\none already there); "
           "watermark = the watermark alone, payload given; verify =\nopen "
           "+ rhythm label search + watermark search; detect = open + "
           "watermark search:\n\n", SECONDS, reps);
    printf("| input | size | decode+encode | all marks | ratio | watermark "
           "| ratio | verify | detect |\n");
    printf("|---|---|---|---|---|---|---|---|---|\n");
    row("WAV 16-bit", ctx, &wav, reps);
    row("FLAC 16-bit", ctx, &flac, reps);
    row("Ogg Vorbis", ctx, &vorbis, reps);
    row("MP3", ctx, &mp3, reps);
    free(wav.p);
    free(flac.p);
    free(vorbis.p);
    free(mp3.p);
    mark_ctx_free(ctx);
    return 0;
}
