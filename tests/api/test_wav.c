/*
 * test_wav.c - WAV through the public API, memory to memory: the label
 * chunk, the samples the audible label leaves alone kept byte for byte,
 * each sample layout, raw PCM through callbacks, streaming sizes, and
 * broken files refused.  The WAVs are built here.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <mark.h>

#include "harness.h"

#define CODE "001191110102MAD55U9H0F10002"

static mark_ctx *ctx;

typedef struct bytes {
    unsigned char *p;
    size_t n, cap;
} bytes;

static void put(bytes *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void le(unsigned char *p, uint32_t v, int n)
{
    int i;

    for (i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void chunk(bytes *b, const char *id, const void *d, uint32_t n)
{
    unsigned char h[8];

    memcpy(h, id, 4);
    le(h + 4, n, 4);
    put(b, h, 8);
    put(b, d, n);
    if (n & 1)
        put(b, "", 1);
}

/* A WAV of frames frames: tag 1 (int) or 3 (float), bits, channels, a
 * 440 Hz tone; extra: an odd-sized chunk before and a LIST after. */
static bytes make_wav(int tag, int bits, int ch, uint32_t rate,
                      uint32_t frames, int extra, const char *aigc)
{
    bytes b = { NULL, 0, 0 };
    unsigned char f[16], h[8];
    uint32_t i, bytes_per = (uint32_t)bits / 8, dlen;
    int c;

    put(&b, "RIFF\0\0\0\0WAVE", 12);
    le(f, (uint32_t)tag, 2);
    le(f + 2, (uint32_t)ch, 2);
    le(f + 4, rate, 4);
    le(f + 8, rate * bytes_per * (uint32_t)ch, 4);
    le(f + 12, bytes_per * (uint32_t)ch, 2);
    le(f + 14, (uint32_t)bits, 2);
    chunk(&b, "fmt ", f, 16);
    if (extra)
        chunk(&b, "odd!", "xyz", 3);
    if (aigc != NULL)
        chunk(&b, "AIGC", aigc, (uint32_t)strlen(aigc));
    dlen = frames * bytes_per * (uint32_t)ch;
    memcpy(h, "data", 4);
    le(h + 4, dlen, 4);
    put(&b, h, 8);
    for (i = 0; i < frames; i++)
        for (c = 0; c < ch; c++) {
            double v = 0.3 * sin(2 * 3.14159265 * 440 * i / rate + c);
            unsigned char s[8];

            if (tag == 3 && bits == 32) {
                float x = (float)v;
                uint32_t u;

                memcpy(&u, &x, 4);
                le(s, u, 4);
            } else if (tag == 3) {
                uint64_t u;

                memcpy(&u, &v, 8);
                le(s, (uint32_t)u, 4);
                le(s + 4, (uint32_t)(u >> 32), 4);
            } else if (bits == 8) {
                s[0] = (unsigned char)(lround(v * 127) + 128);
            } else {
                le(s, (uint32_t)(int32_t)lround(v * (ldexp(1, bits - 1) - 1)),
                   (int)bytes_per);
            }
            put(&b, s, bytes_per);
        }
    if (dlen & 1)
        put(&b, "", 1);
    if (extra)
        chunk(&b, "LIST", "INFOINAM\4\0\0\0abc", 16);
    le(b.p + 4, (uint32_t)b.n - 8, 4);
    return b;
}

/* Offset of the data chunk's samples and their length. */
static size_t find_data(const unsigned char *p, size_t n, size_t *len)
{
    size_t o = 12;

    while (o + 8 <= n) {
        uint32_t l = (uint32_t)p[o + 4] | (uint32_t)p[o + 5] << 8 |
                     (uint32_t)p[o + 6] << 16 | (uint32_t)p[o + 7] << 24;

        if (memcmp(p + o, "data", 4) == 0) {
            *len = l;
            return o + 8;
        }
        o += 8 + l + (l & 1);
    }
    *len = 0;
    return 0;
}

static mark_label *label(const char *id)
{
    mark_label *l = NULL;

    if (mark_label_new(ctx, &l) != MARK_OK)
        return NULL;
    mark_label_set(l, MARK_FIELD_LABEL, "1");
    mark_label_set(l, MARK_FIELD_CONTENT_PRODUCER, CODE);
    mark_label_set(l, MARK_FIELD_PRODUCE_ID, id);
    mark_label_first_write(l);
    return l;
}

/* Mark in with the label and the audible label at where (mix): out. */
static int mark(const bytes *in, int where, int mix, const char *id,
                void **out, size_t *n)
{
    mark_media *m = NULL;
    mark_label *l = label(id);
    int rc = mark_media_open_buffer(ctx, &m, in->p, in->n);

    if (rc == MARK_OK)
        rc = mark_media_set_label(m, l);
    if (rc == MARK_OK && where)
        rc = mark_media_set_audible(m, where, mix);
    if (rc == MARK_OK)
        rc = mark_media_save_buffer(m, out, n);
    mark_media_free(m);
    mark_label_free(l);
    return rc;
}

static void test_layouts(void)
{
    static const int lay[][3] = { { 1, 8, 1 }, { 1, 16, 2 }, { 1, 24, 2 },
                                  { 1, 32, 1 }, { 3, 32, 2 }, { 3, 64, 1 },
                                  { 1, 16, 8 } };
    size_t k;

    for (k = 0; k < sizeof lay / sizeof lay[0]; k++) {
        uint32_t rate = 16000, frames = rate * 3;
        bytes in = make_wav(lay[k][0], lay[k][1], lay[k][2], rate, frames,
                            1, NULL);
        void *out = NULL;
        size_t n = 0, ia, il, oa, ol, fb = (size_t)lay[k][1] / 8 *
                                              (size_t)lay[k][2];
        mark_media *m = NULL;
        mark_media_info info;
        mark_found_label fl;

        CHECK_RC(mark(&in, MARK_AUDIBLE_START, MARK_AUDIBLE_OVERLAY, "lay",
                      &out, &n), MARK_OK);
        ia = find_data(in.p, in.n, &il);
        oa = find_data(out, n, &ol);
        CHECK_MSG(il == ol, "layout %zu: %zu data bytes became %zu", k, il,
                  ol);
        /* the label window is 1.4 s: after 1.5 s the bytes are the same */
        CHECK(ol == il && memcmp((unsigned char *)out + oa + fb * 24000,
                                 in.p + ia + fb * 24000,
                                 il - fb * 24000) == 0);
        CHECK(memcmp((unsigned char *)out + oa, in.p + ia, fb * 4000) != 0);
        /* the odd chunk and the LIST are kept, the RIFF size is right */
        CHECK(memmem(out, n, "odd!\3\0\0\0xyz", 11) != NULL);
        CHECK(memmem(out, n, "INFOINAM", 8) != NULL);
        CHECK((size_t)(((unsigned char *)out)[4] |
                       ((unsigned char *)out)[5] << 8 |
                       ((unsigned char *)out)[6] << 16) == n - 8);
        CHECK_RC(mark_media_open_buffer(ctx, &m, out, n), MARK_OK);
        if (m != NULL) {
            mark_explicit_info ex;

            mark_media_get_info(m, &info);
            CHECK(info.type == MARK_MEDIA_AUDIO);
            CHECK(info.frames == (int64_t)frames);
            CHECK(info.channels == lay[k][2]);
            CHECK(info.bit_depth == lay[k][1]);
            CHECK(mark_media_label_count(m) == 1);
            CHECK(mark_media_label_get(m, 0, &fl) == MARK_OK &&
                  strcmp(fl.carrier, "wav-chunk") == 0 &&
                  strcmp(mark_label_get(fl.label, MARK_FIELD_PRODUCE_ID),
                         "lay") == 0);
            mark_media_explicit(m, &ex);
            CHECK_MSG(ex.checked && ex.found &&
                      strcmp(ex.position, "start") == 0,
                      "layout %zu: %s", k, ex.note);
            mark_media_free(m);
        }
        mark_free(ctx, out);
        free(in.p);
    }
}

static void test_extend_and_replace(void)
{
    bytes in = make_wav(1, 16, 1, 8000, 8000 * 4, 0,
                        "{\"Label\":\"1\",\"ContentProducer\":\"X\","
                        "\"ProduceID\":\"old\"}");
    void *out = NULL;
    size_t n = 0, il, ol, ia, oa;
    mark_media *m = NULL;
    mark_found_label fl;

    CHECK_RC(mark(&in, MARK_AUDIBLE_BOTH, MARK_AUDIBLE_EXTEND, "new", &out,
                  &n), MARK_OK);
    ia = find_data(in.p, in.n, &il);
    oa = find_data(out, n, &ol);
    /* two labels of 1.4 s added: the content sits between them, as it was */
    CHECK(ol > il + 2 * 2 * 8000 && ol < il + 2 * 2 * 12000);
    CHECK(ol > il && memcmp((unsigned char *)out + oa + (ol - il) / 2,
                            in.p + ia, il) == 0);
    CHECK_RC(mark_media_open_buffer(ctx, &m, out, n), MARK_OK);
    if (m != NULL) {
        mark_explicit_info ex;

        CHECK(mark_media_label_count(m) == 1);
        CHECK(mark_media_label_get(m, 0, &fl) == MARK_OK &&
              strcmp(mark_label_get(fl.label, MARK_FIELD_PRODUCE_ID),
                     "new") == 0);
        mark_media_explicit(m, &ex);
        CHECK_MSG(strcmp(ex.position, "start+end") == 0, "%s", ex.note);
        mark_media_free(m);
    }
    mark_free(ctx, out);
    free(in.p);
}

typedef struct memio {
    const unsigned char *p;
    size_t n, at;
} memio;

static int64_t mem_read(void *user, void *buf, size_t len)
{
    memio *s = user;

    /* at most 1000 bytes a call, like a pipe */
    if (len > 1000)
        len = 1000;
    if (len > s->n - s->at)
        len = s->n - s->at;
    memcpy(buf, s->p + s->at, len);
    s->at += len;
    return (int64_t)len;
}

static void test_raw_and_pipe(void)
{
    static const mark_io io = { mem_read, NULL, NULL, NULL };
    bytes in = make_wav(1, 16, 2, 22050, 22050 * 2, 0, NULL);
    size_t ia, il, oa, ol, n1 = 0, n2 = 0;
    mark_raw_format f = { MARK_RAW_S16LE, 22050, 2 };
    mark_media *m = NULL, *m2 = NULL;
    void *o1 = NULL, *o2 = NULL;
    mark_label *l = label("raw");
    memio s;

    ia = find_data(in.p, in.n, &il);
    s.p = in.p + ia;
    s.n = il;
    s.at = 0;
    CHECK_RC(mark_media_open_raw(ctx, &m, &io, &s, &f), MARK_OK);
    if (m != NULL) {
        CHECK_RC(mark_media_set_label(m, l), MARK_OK);
        CHECK_RC(mark_media_set_audible(m, MARK_AUDIBLE_END,
                                        MARK_AUDIBLE_OVERLAY), MARK_OK);
        CHECK_RC(mark_media_save_buffer(m, &o1, &n1), MARK_OK);
        /* the samples were read once: a second save is refused */
        CHECK_RC(mark_media_save_buffer(m, &o2, &n2), MARK_ESTATE);
        mark_media_free(m);
    }
    /* the same through the WAV read from a "pipe" */
    s.p = in.p;
    s.n = in.n;
    s.at = 0;
    CHECK_RC(mark_media_open_io(ctx, &m2, &io, &s), MARK_OK);
    if (m2 != NULL) {
        CHECK_RC(mark_media_set_label(m2, l), MARK_OK);
        CHECK_RC(mark_media_set_audible(m2, MARK_AUDIBLE_END,
                                        MARK_AUDIBLE_OVERLAY), MARK_OK);
        CHECK_RC(mark_media_save_buffer(m2, &o2, &n2), MARK_OK);
        mark_media_free(m2);
    }
    if (o1 != NULL && o2 != NULL) {
        oa = find_data(o1, n1, &ol);
        CHECK(ol == il);
        ia = find_data(o2, n2, &il);
        CHECK(ol == il && memcmp((unsigned char *)o1 + oa,
                                 (unsigned char *)o2 + ia, ol) == 0);
        CHECK_RC(mark_media_open_buffer(ctx, &m, o1, n1), MARK_OK);
        if (m != NULL) {
            mark_explicit_info ex;
            mark_media_info info;

            mark_media_get_info(m, &info);
            CHECK(info.frames == 22050 * 2 && info.sample_rate == 22050);
            mark_media_explicit(m, &ex);
            CHECK_MSG(strcmp(ex.position, "end") == 0, "%s", ex.note);
            mark_media_free(m);
        }
    }
    mark_free(ctx, o1);
    mark_free(ctx, o2);
    mark_label_free(l);
    free(in.p);
}

static void test_broken(void)
{
    bytes in = make_wav(1, 16, 2, 8000, 8000, 0, NULL);
    mark_media *m = NULL;
    size_t cut;

    /* every truncation of the header, and some of the data */
    for (cut = 0; cut < 60; cut++) {
        int rc = mark_media_open_buffer(ctx, &m, in.p, cut);

        CHECK_MSG(rc < 0 && m == NULL, "cut at %zu opened", cut);
        mark_media_free(m);
        m = NULL;
    }
    CHECK_RC(mark_media_open_buffer(ctx, &m, in.p, in.n - 7), MARK_EFORMAT);
    CHECK(strstr(mark_ctx_errmsg(ctx), "truncated") != NULL);
    /* a fmt chunk that does not add up */
    in.p[32] = 3;                        /* block align 3 for 2 x 16 bit */
    CHECK_RC(mark_media_open_buffer(ctx, &m, in.p, in.n), MARK_EFORMAT);
    in.p[32] = 4;
    /* a chunk claiming more than the file holds */
    in.p[40] = 0xff;
    in.p[41] = 0xff;
    in.p[42] = 0xff;
    in.p[43] = 0x7f;
    CHECK_RC(mark_media_open_buffer(ctx, &m, in.p, in.n), MARK_EFORMAT);
    mark_media_free(m);
    free(in.p);
}

/* A-law (tag 6): the label goes in, the audible label is refused. */
static void test_not_pcm(void)
{
    bytes in = make_wav(1, 8, 1, 8000, 8000, 0, NULL);
    void *out = NULL;
    size_t n = 0, ia, il, oa, ol;
    mark_media *m = NULL;

    in.p[20] = 6;                        /* wFormatTag: A-law */
    CHECK_RC(mark(&in, MARK_AUDIBLE_START, MARK_AUDIBLE_OVERLAY, "alaw",
                  &out, &n), MARK_EUNSUPPORTED);
    CHECK(strstr(mark_ctx_errmsg(ctx), "not PCM or float") != NULL);
    CHECK_RC(mark(&in, 0, MARK_AUDIBLE_OVERLAY, "alaw", &out, &n), MARK_OK);
    ia = find_data(in.p, in.n, &il);
    oa = find_data(out, n, &ol);
    CHECK(il == ol && memcmp((unsigned char *)out + oa, in.p + ia, il) == 0);
    CHECK_RC(mark_media_open_buffer(ctx, &m, out, n), MARK_OK);
    if (m != NULL) {
        mark_explicit_info ex;

        CHECK(mark_media_label_count(m) == 1);
        mark_media_explicit(m, &ex);
        CHECK(!ex.checked && strstr(ex.note, "0x0006") != NULL);
        mark_media_free(m);
    }
    mark_free(ctx, out);
    free(in.p);
}

int main(void)
{
    if (mark_ctx_new(&ctx, NULL) != MARK_OK)
        return 99;
    test_layouts();
    test_extend_and_replace();
    test_raw_and_pipe();
    test_broken();
    test_not_pcm();
    mark_ctx_free(ctx);
    return h_done("test_wav");
}
