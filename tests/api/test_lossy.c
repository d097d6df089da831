/*
 * test_lossy.c - Ogg and MP3 through the public API, memory to memory,
 * on files built here byte by byte (no codec involved: only the
 * metadata label is written): labels read in every carrier form, one
 * label left after saving, the audio pages and MPEG frames kept, and
 * broken or lying structures refused with MARK_EFORMAT (or
 * MARK_EUNSUPPORTED) and a message saying where.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <mark.h>

#include "harness.h"

#define CODE "001191110102MAD55U9H0F10002"
#define L1 "{\"Label\":\"1\",\"ContentProducer\":\"P1\",\"ProduceID\":\"x1\"}"

static mark_ctx *ctx;

typedef struct bytes {
    unsigned char *p;
    size_t n, cap;
} bytes;

static void put(bytes *b, const void *p, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n) * 2 + 16;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* Ogg's CRC: polynomial 0x04c11db7, MSB first, no inversion. */
static uint32_t ogg_crc(const unsigned char *p, size_t n)
{
    uint32_t c = 0;
    size_t i;
    int k;

    for (i = 0; i < n; i++) {
        c ^= (uint32_t)p[i] << 24;
        for (k = 0; k < 8; k++)
            c = c & 0x80000000u ? c << 1 ^ 0x04c11db7u : c << 1;
    }
    return c;
}

/* One page holding the packet body (at most 255 * 254 bytes, ending on
 * it), flags, granule and sequence number. */
static void page(bytes *b, const void *body, size_t n, int flags,
                 int64_t granule, uint32_t seq)
{
    unsigned char h[27 + 255];
    size_t segs = n / 255 + 1, i, at = b->n;

    memset(h, 0, sizeof h);
    memcpy(h, "OggS", 4);
    h[5] = (unsigned char)flags;
    le32(h + 6, (uint32_t)granule);
    le32(h + 10, (uint32_t)((uint64_t)granule >> 32));
    le32(h + 14, 0x1234);
    le32(h + 18, seq);
    h[26] = (unsigned char)segs;
    for (i = 0; i < segs; i++)
        h[27 + i] = (unsigned char)(i + 1 < segs ? 255 : n % 255);
    put(b, h, 27 + segs);
    put(b, body, n);
    le32(b->p + at + 22, ogg_crc(b->p + at, b->n - at));
}

/* An Ogg Opus stream: OpusHead, OpusTags with the comments given, two
 * pages of made-up audio (never decoded here). */
static void opus(bytes *b, const char *const *comments, int n)
{
    unsigned char head[19] = { 'O', 'p', 'u', 's', 'H', 'e', 'a', 'd', 1, 2,
                               0x38, 1, 0x80, 0xbb, 0, 0, 0, 0, 0 };
    bytes t = { NULL, 0, 0 };
    unsigned char w[4], audio[300];
    int i;

    page(b, head, sizeof head, 2, 0, 0);
    put(&t, "OpusTags", 8);
    le32(w, 6);
    put(&t, w, 4);
    put(&t, "vendor", 6);
    le32(w, (uint32_t)n);
    put(&t, w, 4);
    for (i = 0; i < n; i++) {
        le32(w, (uint32_t)strlen(comments[i]));
        put(&t, w, 4);
        put(&t, comments[i], strlen(comments[i]));
    }
    page(b, t.p, t.n, 0, 0, 1);
    for (i = 0; i < (int)sizeof audio; i++)
        audio[i] = (unsigned char)(i * 7);
    page(b, audio, 200, 0, 48312, 2);
    page(b, audio, 300, 4, 96312, 3);
    free(t.p);
}

static mark_label *label(const char *id)
{
    mark_label *l = NULL;

    CHECK_RC(mark_label_new(ctx, &l), MARK_OK);
    mark_label_set(l, MARK_FIELD_LABEL, "1");
    mark_label_set(l, MARK_FIELD_CONTENT_PRODUCER, CODE);
    mark_label_set(l, MARK_FIELD_PRODUCE_ID, id);
    mark_label_first_write(l);
    return l;
}

/* Open, check the label count, save with a new label, reopen: one
 * label, the given id.  The saved file in *out (caller frees). */
static void remark(const bytes *in, size_t want, void **out, size_t *len)
{
    mark_media *m = NULL, *m2 = NULL;
    mark_label *l = label("again");
    mark_found_label fl;

    *out = NULL;
    *len = 0;
    CHECK_RC(mark_media_open_buffer(ctx, &m, in->p, in->n), MARK_OK);
    if (m == NULL)
        goto done;
    CHECK(mark_media_label_count(m) == want);
    CHECK_RC(mark_media_set_label(m, l), MARK_OK);
    CHECK_RC(mark_media_save_buffer(m, out, len), MARK_OK);
    CHECK_RC(mark_media_open_buffer(ctx, &m2, *out, *len), MARK_OK);
    if (m2 == NULL)
        goto done;
    CHECK(mark_media_label_count(m2) == 1);
    if (mark_media_label_get(m2, 0, &fl) == MARK_OK && fl.label != NULL)
        CHECK_STR(mark_label_get(fl.label, MARK_FIELD_PRODUCE_ID), "again");
done:
    mark_label_free(l);
    mark_media_free(m);
    mark_media_free(m2);
}

static void test_ogg(void)
{
    static const char *const two[] = { "TITLE=t", "aigc=" L1, "AIGC=" L1 };
    bytes b = { NULL, 0, 0 };
    mark_media *m = NULL;
    mark_media_info info;
    mark_found_label fl;
    void *out;
    size_t len;

    opus(&b, two, 3);
    CHECK_RC(mark_media_open_buffer(ctx, &m, b.p, b.n), MARK_OK);
    if (m != NULL) {
        mark_media_get_info(m, &info);
        CHECK(info.format == MARK_FORMAT_OGG);
        CHECK_STR(info.codec, "opus");
        CHECK(info.channels == 2 && info.sample_rate == 48000);
        CHECK(info.frames == 96312 - 312);
        CHECK(mark_media_label_count(m) == 2);
        CHECK(mark_media_label_get(m, 0, &fl) == MARK_OK);
        CHECK_STR(fl.carrier, "ogg-vorbis-comment");
        mark_media_free(m);
    }
    remark(&b, 2, &out, &len);
    if (out != NULL) {
        /* the audio pages, but for their sequence numbers and CRCs */
        CHECK(len > 527 + 22 && memcmp((unsigned char *)out + len - 327 + 27,
                                      b.p + b.n - 327 + 27, 300) == 0);
        CHECK(memmem(out, len, "TITLE=t", 7) != NULL);
        mark_free(ctx, out);
    }
    free(b.p);
}

/* Broken Ogg: each refused with code and a message holding what. */
static void ogg_refused(const bytes *b, int code, const char *what)
{
    mark_media *m = NULL;

    CHECK_RC(mark_media_open_buffer(ctx, &m, b->p, b->n), code);
    CHECK_MSG(strstr(mark_ctx_errmsg(ctx), what) != NULL, "'%s' lacks '%s'",
              mark_ctx_errmsg(ctx), what);
    CHECK(m == NULL);
}

static void test_ogg_broken(void)
{
    static const char *const one[] = { "AIGC=" L1 };
    bytes b = { NULL, 0, 0 }, c = { NULL, 0, 0 };
    unsigned char tags[40];

    opus(&b, one, 1);
    put(&c, b.p, b.n);
    c.p[c.n - 10] ^= 1;
    ogg_refused(&c, MARK_EFORMAT, "wrong CRC");
    c.n = b.n - 10;
    ogg_refused(&c, MARK_EFORMAT, "Ogg truncated: page 3");
    /* a comment count far beyond the packet */
    c.n = 0;
    memset(tags, 0, sizeof tags);
    {
        unsigned char head[19] = { 'O', 'p', 'u', 's', 'H', 'e', 'a', 'd',
                                   1, 1, 0, 0, 0x80, 0xbb, 0, 0, 0, 0, 0 };

        page(&c, head, sizeof head, 2, 0, 0);
        memcpy(tags, "OpusTags", 8);
        le32(tags + 8, 0);
        le32(tags + 12, 1000000);
        page(&c, tags, 16, 0, 0, 1);
        ogg_refused(&c, MARK_EFORMAT, "comment 1 of 1000000 runs past");
        c.n = 0;
        memcpy(head, "OpusHeaX", 8);
        page(&c, head, sizeof head, 2, 0, 0);
        ogg_refused(&c, MARK_EUNSUPPORTED, "other than Vorbis and Opus");
        c.n = 0;
        memcpy(head, "OpusHead", 8);
        page(&c, head, sizeof head, 2, 0, 0);
        page(&c, "OpusTagz", 8, 0, 0, 1);
        ogg_refused(&c, MARK_EFORMAT, "not a comment header");
        c.n = 0;
        page(&c, head, sizeof head, 0, 0, 0);
        ogg_refused(&c, MARK_EFORMAT, "does not begin a stream");
        c.n = 0;
        page(&c, head, sizeof head, 2, 0, 0);
        ogg_refused(&c, MARK_EFORMAT, "ends in its header packets");
    }
    free(b.p);
    free(c.p);
}

static void syncsafe(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 21 & 0x7f);
    p[1] = (unsigned char)(v >> 14 & 0x7f);
    p[2] = (unsigned char)(v >> 7 & 0x7f);
    p[3] = (unsigned char)(v & 0x7f);
}

/* An ID3v2.v frame. */
static void frame(bytes *b, int v, const char *id, const void *body,
                  size_t n)
{
    unsigned char h[10];

    memcpy(h, id, 4);
    if (v == 4)
        syncsafe(h + 4, (uint32_t)n);
    else {
        h[4] = (unsigned char)(n >> 24);
        h[5] = (unsigned char)(n >> 16);
        h[6] = (unsigned char)(n >> 8);
        h[7] = (unsigned char)n;
    }
    h[8] = h[9] = 0;
    put(b, h, 10);
    put(b, body, n);
}

/* MPEG-1 layer III frames, 128 kbit/s, 44.1 kHz, stereo: 417 bytes
 * each (never decoded here). */
static void frames(bytes *b, int n)
{
    unsigned char f[417];
    int i;

    memset(f, 0, sizeof f);
    f[0] = 0xff;
    f[1] = 0xfb;
    f[2] = 0x90;
    for (i = 0; i < n; i++)
        put(b, f, sizeof f);
}

static void mp3(bytes *b, int v, int utf16)
{
    bytes t = { NULL, 0, 0 };
    unsigned char h[10] = { 'I', 'D', '3', 0, 0, 0 };
    size_t i;

    frame(&t, v, "TIT2", "\0title", 6);
    if (!utf16) {
        bytes x = { NULL, 0, 0 };

        put(&x, v == 4 ? "\3aigc" : "\0aigc", 6);
        put(&x, L1, sizeof L1 - 1);
        frame(&t, v, "TXXX", x.p, x.n);
        free(x.p);
    } else {
        bytes x = { NULL, 0, 0 };
        static const char desc[] = "AIGC";

        put(&x, "\1\xff\xfe", 3);
        for (i = 0; i < 4; i++) {
            put(&x, desc + i, 1);
            put(&x, "", 1);
        }
        put(&x, "\0\0\xff\xfe", 4);
        for (i = 0; i < sizeof L1 - 1; i++) {
            put(&x, L1 + i, 1);
            put(&x, "", 1);
        }
        frame(&t, v, "TXXX", x.p, x.n);
        free(x.p);
    }
    put(&t, "\0\0\0\0\0\0\0\0", 8);
    h[3] = (unsigned char)v;
    syncsafe(h + 6, (uint32_t)t.n);
    put(b, h, 10);
    put(b, t.p, t.n);
    frames(b, 4);
    free(t.p);
}

static void test_mp3(void)
{
    int v, u;

    for (v = 3; v <= 4; v++)
        for (u = 0; u <= 1; u++) {
            bytes b = { NULL, 0, 0 };
            mark_media *m = NULL;
            mark_media_info info;
            mark_found_label fl;
            void *out;
            size_t len;

            mp3(&b, v, u);
            CHECK_RC(mark_media_open_buffer(ctx, &m, b.p, b.n), MARK_OK);
            if (m != NULL) {
                mark_media_get_info(m, &info);
                CHECK(info.format == MARK_FORMAT_MP3);
                CHECK_STR(info.codec, "mp3");
                CHECK(info.frames == 4 * 1152 && info.sample_rate == 44100);
                CHECK(mark_media_label_count(m) == 1);
                if (mark_media_label_get(m, 0, &fl) == MARK_OK &&
                    fl.label != NULL) {
                    CHECK_STR(fl.carrier, "id3v2-txxx");
                    CHECK_STR(mark_label_get(fl.label,
                                             MARK_FIELD_PRODUCE_ID), "x1");
                }
                mark_media_free(m);
            }
            remark(&b, 1, &out, &len);
            if (out != NULL) {
                /* the version kept, TIT2 kept, the frames kept */
                CHECK(((unsigned char *)out)[3] == v);
                CHECK(memmem(out, len, "TIT2", 4) != NULL);
                CHECK(len > 4 * 417 &&
                      memcmp((unsigned char *)out + len - 4 * 417,
                             b.p + b.n - 4 * 417, 4 * 417) == 0);
                mark_free(ctx, out);
            }
            free(b.p);
        }
}

/* Tags at the end (ID3v1, an ID3v2.4 tag with a footer) are passed
 * over and kept. */
static void test_mp3_trailers(void)
{
    bytes b = { NULL, 0, 0 }, t = { NULL, 0, 0 };
    unsigned char h[10] = { 'I', 'D', '3', 4, 0, 0x10 }, v1[128];
    mark_media *m = NULL;
    mark_media_info info;
    void *out;
    size_t len, n;

    mp3(&b, 3, 0);
    frame(&t, 4, "TIT2", "\3end", 4);
    syncsafe(h + 6, (uint32_t)t.n);
    put(&b, h, 10);
    put(&b, t.p, t.n);
    memcpy(h, "3DI", 3);
    put(&b, h, 10);
    memset(v1, 0, sizeof v1);
    memcpy(v1, "TAG", 3);
    put(&b, v1, sizeof v1);
    n = 10 + t.n + 10 + 128;
    CHECK_RC(mark_media_open_buffer(ctx, &m, b.p, b.n), MARK_OK);
    if (m != NULL) {
        mark_media_get_info(m, &info);
        CHECK(info.frames == 4 * 1152);
        mark_media_free(m);
    }
    remark(&b, 1, &out, &len);
    if (out != NULL) {
        CHECK(len > n && memcmp((unsigned char *)out + len - n,
                                b.p + b.n - n, n) == 0);
        mark_free(ctx, out);
    }
    free(b.p);
    free(t.p);
}

static void test_mp3_broken(void)
{
    bytes b = { NULL, 0, 0 }, c = { NULL, 0, 0 };
    mark_media *m = NULL;
    size_t tag;

    mp3(&b, 4, 0);
    tag = b.n - 4 * 417;
    /* a frame size beyond the tag */
    put(&c, b.p, b.n);
    syncsafe(c.p + 14, 5000);
    CHECK_RC(mark_media_open_buffer(ctx, &m, c.p, c.n), MARK_EFORMAT);
    CHECK(strstr(mark_ctx_errmsg(ctx), "'TIT2' claims 5000 bytes") != NULL);
    /* a v2.4 frame size that is not syncsafe */
    c.p[14] = 0x80;
    CHECK_RC(mark_media_open_buffer(ctx, &m, c.p, c.n), MARK_EFORMAT);
    CHECK(strstr(mark_ctx_errmsg(ctx), "not a syncsafe") != NULL);
    /* an extended header that claims more than the tag */
    c.n = 0;
    put(&c, b.p, b.n);
    c.p[5] = 0x40;
    syncsafe(c.p + 10, 100000);
    CHECK_RC(mark_media_open_buffer(ctx, &m, c.p, c.n), MARK_EFORMAT);
    CHECK(strstr(mark_ctx_errmsg(ctx), "extended header claims") != NULL);
    /* the last frame cut */
    c.n = 0;
    put(&c, b.p, b.n - 10);
    CHECK_RC(mark_media_open_buffer(ctx, &m, c.p, c.n), MARK_EFORMAT);
    CHECK(strstr(mark_ctx_errmsg(ctx), "MP3 truncated: frame 3") != NULL);
    /* a tag and nothing after it */
    c.n = 0;
    put(&c, b.p, tag);
    CHECK_RC(mark_media_open_buffer(ctx, &m, c.p, c.n), MARK_EFORMAT);
    CHECK(strstr(mark_ctx_errmsg(ctx), "no MPEG audio frame") != NULL);
    /* free-format frames */
    c.n = 0;
    put(&c, b.p, b.n);
    c.p[tag + 2] = 0x00;
    CHECK_RC(mark_media_open_buffer(ctx, &m, c.p, c.n), MARK_EUNSUPPORTED);
    /* ID3v2.5 */
    c.n = 0;
    put(&c, b.p, b.n);
    c.p[3] = 5;
    CHECK_RC(mark_media_open_buffer(ctx, &m, c.p, c.n), MARK_EUNSUPPORTED);
    CHECK(m == NULL);
    free(b.p);
    free(c.p);
}

int main(void)
{
    if (mark_ctx_new(&ctx, NULL) != MARK_OK)
        return 99;
    test_ogg();
    test_ogg_broken();
    test_mp3();
    test_mp3_trailers();
    test_mp3_broken();
    mark_ctx_free(ctx);
    return h_done("test_lossy");
}
