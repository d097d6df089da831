/*
 * test_png_pixels.c - PNG pixel decoding and re-encoding: every colour
 * type and depth the fixtures hold, samples surviving a round trip, the
 * original's chunks kept around the new image data, and hostile input.
 * White box: calls mark__png_decode / mark__png_encode directly.
 * Fixtures come from $FIXTURES (tests/gen/genimg.c).
 */
#include <stdint.h>

#include <zlib.h>

#include "internal.h"
#include "harness.h"

static mark_ctx *ctx;
static const char *fixdir;

static unsigned char *load(const char *name, size_t *len)
{
    char path[4096];
    unsigned char *p;

    snprintf(path, sizeof path, "%s/%s", fixdir, name);
    p = h_read(path, len);
    CHECK_MSG(p != NULL, "cannot read %s", path);
    return p;
}

/* A chunk of a PNG in memory. */
typedef struct ck {
    size_t off;          /* of the length field */
    size_t len;          /* of the data */
    int after_idat;      /* 1 after the first IDAT, 0 before */
} ck;

/* Walk the chunks of p, checking structure and CRCs; fills up to max
 * entries of cks and returns the count, or -1 when malformed or when it
 * does not end with IEND exactly at the end of the data. */
static int chunks(const unsigned char *p, size_t len, ck *cks, int max)
{
    size_t pos = 8;
    int n = 0, seen_idat = 0;

    if (len < 8 || memcmp(p, "\x89PNG\r\n\x1a\n", 8) != 0)
        return -1;
    while (len - pos >= 12) {
        size_t clen = mark__be32(p + pos);

        if (clen > len - pos - 12)
            return -1;
        if (mark__crc32(0, p + pos + 4, clen + 4) !=
            mark__be32(p + pos + 8 + clen))
            return -1;
        if (memcmp(p + pos + 4, "IDAT", 4) == 0)
            seen_idat = 1;
        if (n < max) {
            cks[n].off = pos;
            cks[n].len = clen;
            cks[n].after_idat = seen_idat;
        }
        n++;
        pos += clen + 12;
        if (memcmp(p + pos - clen - 8, "IEND", 4) == 0)
            return pos == len ? n : -1;
    }
    return -1;
}

static int is_type(const unsigned char *p, const ck *c, const char *type)
{
    return memcmp(p + c->off + 4, type, 4) == 0;
}

/* How many chunks of this type. */
static int count_type(const unsigned char *p, const ck *cks, int n,
                      const char *type)
{
    int i, k = 0;

    for (i = 0; i < n; i++)
        k += is_type(p, &cks[i], type);
    return k;
}

/* Is chunk c of a present byte for byte in b, on the same side of the
 * image data? */
static int kept(const unsigned char *a, const ck *c, const unsigned char *b,
                const ck *bcks, int bn)
{
    int i;

    for (i = 0; i < bn; i++)
        if (bcks[i].len == c->len && bcks[i].after_idat == c->after_idat &&
            memcmp(a + c->off, b + bcks[i].off, c->len + 12) == 0)
            return 1;
    return 0;
}

static int same_samples(const mark__image *a, const mark__image *b)
{
    size_t row, y;

    if (a->width != b->width || a->height != b->height ||
        a->channels != b->channels || a->depth != b->depth)
        return 0;
    row = (size_t)a->width * (size_t)a->channels * (size_t)(a->depth / 8);
    for (y = 0; y < a->height; y++)
        if (memcmp(a->data + a->stride * y, b->data + b->stride * y,
                   row) != 0)
            return 0;
    return 1;
}

#define MAXCK 64

/* Decode orig, encode the samples unchanged, decode the result: the
 * samples must be identical and every chunk outside the image data kept
 * unless the format rules drop it.  Returns the encoded file in *out. */
static void round_trip(const char *name, const unsigned char *orig,
                       size_t len, const mark__image *img, mark__buf *out)
{
    ck ocks[MAXCK], ncks[MAXCK];
    int on, nn, i, changed;
    mark__image again;

    mark__buf_init(out, ctx);
    CHECK_RC(mark__png_encode(ctx, orig, len, img, out), MARK_OK);
    on = chunks(orig, len, ocks, MAXCK);
    nn = chunks(out->data, out->len, ncks, MAXCK);
    CHECK_MSG(on > 0 && nn > 0, "%s: chunk structure %d / %d", name, on,
              nn);
    if (on <= 0 || nn <= 0 || on > MAXCK || nn > MAXCK)
        return;
    /* the IHDR is the new one, interlacing kept */
    CHECK_MSG(is_type(out->data, &ncks[0], "IHDR") &&
              out->data[28] == orig[28], "%s: IHDR", name);
    CHECK(mark__be32(out->data + 16) == img->width);
    CHECK(mark__be32(out->data + 20) == img->height);
    CHECK(out->data[24] == img->depth);
    changed = out->data[24] != orig[24] || out->data[25] != orig[25];
    for (i = 1; i < on; i++) {
        const unsigned char *t = orig + ocks[i].off + 4;
        int drop = is_type(orig, &ocks[i], "PLTE") ||
                   is_type(orig, &ocks[i], "hIST") ||
                   (changed && (is_type(orig, &ocks[i], "tRNS") ||
                                is_type(orig, &ocks[i], "bKGD") ||
                                is_type(orig, &ocks[i], "sBIT")));

        if (is_type(orig, &ocks[i], "IDAT") ||
            is_type(orig, &ocks[i], "IEND"))
            continue;
        CHECK_MSG(kept(orig, &ocks[i], out->data, ncks, nn) == !drop,
                  "%s: chunk %.4s %s", name, (const char *)t,
                  drop ? "not dropped" : "lost or moved");
    }
    /* one run of IDATs, ahead of IEND */
    for (i = 1; i + 1 < nn; i++)
        if (is_type(out->data, &ncks[i], "IDAT") &&
            !is_type(out->data, &ncks[i + 1], "IDAT"))
            break;
    CHECK_MSG(count_type(out->data, ncks, nn, "IDAT") > 0 &&
              i + 1 < nn && count_type(out->data, ncks + i + 1, nn - i - 1,
                                       "IDAT") == 0, "%s: IDAT run", name);
    /* libpng reads it back to the same samples */
    CHECK_RC(mark__png_decode(ctx, out->data, out->len, &again), MARK_OK);
    CHECK_MSG(same_samples(img, &again), "%s: samples differ after a "
              "round trip", name);
    mark__image_free(ctx, &again);
}

static void test_kinds(void)
{
    static const struct {
        const char *name;
        int channels, depth;
    } kinds[] = {
        { "png-rgb8.png", 3, 8 },
        { "png-rgba8.png", 4, 8 },
        { "png-rgb16.png", 3, 16 },
        { "png-rgba16.png", 4, 16 },
        { "png-gray8.png", 1, 8 },
        { "png-gray16.png", 1, 16 },
        { "png-graya8.png", 2, 8 },
        { "png-palette.png", 4, 8 },       /* tRNS: alpha */
        { "png-palette4.png", 3, 8 },
        { "png-interlaced.png", 3, 8 },
        { "png-gray1.png", 1, 8 },
        { "png-meta.png", 3, 8 },
        { "var-png-after-idat.png", 3, 8 },
    };
    size_t k, len, i, n;

    for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        unsigned char *orig = load(kinds[k].name, &len);
        mark__image img;
        mark__buf out;

        if (orig == NULL)
            continue;
        CHECK_RC(mark__png_decode(ctx, orig, len, &img), MARK_OK);
        CHECK_MSG(img.width == 64 && img.height == 48 &&
                  img.channels == kinds[k].channels &&
                  img.depth == kinds[k].depth,
                  "%s: %ux%u, %d channels, %d bits", kinds[k].name,
                  img.width, img.height, img.channels, img.depth);
        CHECK(img.stride == (size_t)img.width * (size_t)img.channels *
                            (size_t)(img.depth / 8));
        if (img.data == NULL) {
            free(orig);
            continue;
        }
        n = img.stride * img.height;
        if (strcmp(kinds[k].name, "png-gray1.png") == 0) {
            /* 1-bit grey scaled up: black and white only */
            for (i = 0; i < n && (img.data[i] == 0 || img.data[i] == 255);
                 i++)
                ;
            CHECK(i == n);
        }
        if (strcmp(kinds[k].name, "png-palette.png") == 0) {
            /* the partial tRNS: some pixels transparent, some opaque */
            int lo = 0, hi = 0;

            for (i = 3; i < n; i += 4) {
                lo |= img.data[i] < 255;
                hi |= img.data[i] == 255;
            }
            CHECK(lo && hi);
        }
        round_trip(kinds[k].name, orig, len, &img, &out);
        if (strcmp(kinds[k].name, "png-palette.png") == 0 ||
            strcmp(kinds[k].name, "png-palette4.png") == 0) {
            ck cks[MAXCK];
            int nn = chunks(out.data, out.len, cks, MAXCK);

            CHECK(nn > 0 && count_type(out.data, cks, nn, "PLTE") == 0 &&
                  count_type(out.data, cks, nn, "tRNS") == 0);
            CHECK(out.len > 25 && out.data[25] == (img.channels == 4 ? 6
                                                                     : 2));
        }
        if (strcmp(kinds[k].name, "png-interlaced.png") == 0)
            CHECK(out.len > 28 && out.data[28] == 1);
        mark__buf_free(&out);
        mark__image_free(ctx, &img);
        CHECK(img.data == NULL);
        free(orig);
    }
}

/* png-meta.png: every ancillary chunk named, byte for byte, and the
 * several IDATs of the original replaced at their place. */
static void test_meta(void)
{
    static const char *const keep[] = { "gAMA", "iCCP", "tEXt", "zTXt",
                                        "tIME", "pHYs", "iTXt", "eXIf" };
    ck ocks[MAXCK], ncks[MAXCK];
    int on, nn, i, j;
    size_t len, k;
    unsigned char *orig = load("png-meta.png", &len);
    mark__image img;
    mark__buf out;

    if (orig == NULL)
        return;
    CHECK_RC(mark__png_decode(ctx, orig, len, &img), MARK_OK);
    mark__buf_init(&out, ctx);
    CHECK_RC(mark__png_encode(ctx, orig, len, &img, &out), MARK_OK);
    on = chunks(orig, len, ocks, MAXCK);
    nn = chunks(out.data, out.len, ncks, MAXCK);
    CHECK(on > 0 && on <= MAXCK && nn > 0 && nn <= MAXCK);
    if (on > 0 && on <= MAXCK && nn > 0 && nn <= MAXCK) {
        CHECK(count_type(orig, ocks, on, "IDAT") > 1);
        for (k = 0; k < sizeof keep / sizeof keep[0]; k++) {
            int found = 0;

            for (i = 0; i < on; i++) {
                if (!is_type(orig, &ocks[i], keep[k]))
                    continue;
                found = 1;
                CHECK_MSG(kept(orig, &ocks[i], out.data, ncks, nn),
                          "%s lost or moved", keep[k]);
            }
            CHECK_MSG(found, "fixture has no %s", keep[k]);
        }
        /* nothing added, nothing reordered: the non-IDAT chunks come in
         * the original order */
        for (i = j = 0; i < on && j < nn; i++, j++) {
            while (i < on && is_type(orig, &ocks[i], "IDAT"))
                i++;
            while (j < nn && is_type(out.data, &ncks[j], "IDAT"))
                j++;
            if (i < on && j < nn && !is_type(orig, &ocks[i], "IHDR"))
                CHECK_MSG(memcmp(orig + ocks[i].off + 4,
                                 out.data + ncks[j].off + 4, 4) == 0,
                          "chunk %d is %.4s, was %.4s", j,
                          (const char *)out.data + ncks[j].off + 4,
                          (const char *)orig + ocks[i].off + 4);
        }
        CHECK(on - count_type(orig, ocks, on, "IDAT") ==
              nn - count_type(out.data, ncks, nn, "IDAT"));
    }
    mark__buf_free(&out);
    mark__image_free(ctx, &img);
    free(orig);
}

/* Append a chunk with its CRC. */
static size_t put_chunk(unsigned char *p, const char *type,
                        const void *data, size_t len)
{
    p[0] = (unsigned char)(len >> 24);
    p[1] = (unsigned char)(len >> 16);
    p[2] = (unsigned char)(len >> 8);
    p[3] = (unsigned char)len;
    memcpy(p + 4, type, 4);
    if (len)
        memcpy(p + 8, data, len);
    {
        uint32_t crc = mark__crc32(0, p + 4, len + 4);

        p[8 + len] = (unsigned char)(crc >> 24);
        p[9 + len] = (unsigned char)(crc >> 16);
        p[10 + len] = (unsigned char)(crc >> 8);
        p[11 + len] = (unsigned char)crc;
    }
    return len + 12;
}

/* A PNG built by hand: IHDR, one IDAT holding zlib(raw), IEND. */
static size_t tiny_png(unsigned char *p, uint32_t w, uint32_t h, int depth,
                       int ct, const unsigned char *raw, size_t rawlen)
{
    unsigned char ihdr[13], z[512];
    uLongf zlen = sizeof z;
    size_t n = 8;

    memcpy(p, "\x89PNG\r\n\x1a\n", 8);
    ihdr[0] = (unsigned char)(w >> 24);
    ihdr[1] = (unsigned char)(w >> 16);
    ihdr[2] = (unsigned char)(w >> 8);
    ihdr[3] = (unsigned char)w;
    ihdr[4] = (unsigned char)(h >> 24);
    ihdr[5] = (unsigned char)(h >> 16);
    ihdr[6] = (unsigned char)(h >> 8);
    ihdr[7] = (unsigned char)h;
    ihdr[8] = (unsigned char)depth;
    ihdr[9] = (unsigned char)ct;
    ihdr[10] = ihdr[11] = ihdr[12] = 0;
    n += put_chunk(p + n, "IHDR", ihdr, 13);
    if (compress2(z, &zlen, raw, (uLong)rawlen, 9) != Z_OK)
        return 0;
    n += put_chunk(p + n, "IDAT", z, zlen);
    n += put_chunk(p + n, "IEND", NULL, 0);
    return n;
}

/* 16-bit samples: native order in memory, big-endian in the file. */
static void test_16bit(void)
{
    /* one row, filter 0, two grey samples 0x1234 and 0xabcd */
    static const unsigned char raw[] = { 0, 0x12, 0x34, 0xab, 0xcd };
    unsigned char png[1024];
    size_t n = tiny_png(png, 2, 1, 16, 0, raw, sizeof raw), len, i;
    uint16_t v[2];
    unsigned char *orig;
    mark__image img, again;
    mark__buf out;
    int big = 0;

    CHECK(n > 0);
    CHECK_RC(mark__png_decode(ctx, png, n, &img), MARK_OK);
    CHECK(img.depth == 16 && img.channels == 1 && img.stride == 4);
    if (img.data != NULL) {
        memcpy(v, img.data, 4);
        CHECK_MSG(v[0] == 0x1234 && v[1] == 0xabcd, "got %04x %04x",
                  v[0], v[1]);
        /* encoding must write them back big-endian */
        mark__buf_init(&out, ctx);
        CHECK_RC(mark__png_encode(ctx, png, n, &img, &out), MARK_OK);
        CHECK_RC(mark__png_decode(ctx, out.data, out.len, &again), MARK_OK);
        CHECK(same_samples(&img, &again));
        mark__image_free(ctx, &again);
        mark__buf_free(&out);
    }
    mark__image_free(ctx, &img);

    orig = load("png-rgb16.png", &len);
    if (orig == NULL)
        return;
    CHECK_RC(mark__png_decode(ctx, orig, len, &img), MARK_OK);
    for (i = 0; img.data != NULL && i + 1 < img.stride * img.height;
         i += 2) {
        uint16_t s;

        memcpy(&s, img.data + i, 2);
        big |= s > 255;
    }
    CHECK(big);
    mark__image_free(ctx, &img);
    free(orig);
}

/* The caller may change the format: grey written back as RGB loses the
 * chunks tied to the old format and keeps the rest. */
static void test_format_change(void)
{
    static const unsigned char bkgd[2] = { 0, 7 }, sbit[1] = { 8 };
    size_t len, n, pos, i;
    unsigned char *orig = load("png-gray8.png", &len), *p;
    mark__image img, rgb;
    mark__buf out;
    ck cks[MAXCK];
    int nn;

    if (orig == NULL)
        return;
    /* splice bKGD, sBIT and a private chunk before IDAT, one after */
    p = malloc(len + 256);
    memcpy(p, orig, 33);
    n = 33;
    n += put_chunk(p + n, "bKGD", bkgd, sizeof bkgd);
    n += put_chunk(p + n, "sBIT", sbit, sizeof sbit);
    n += put_chunk(p + n, "prVt", "abc", 3);
    pos = len - 12;                            /* the IEND */
    memcpy(p + n, orig + 33, pos - 33);
    n += pos - 33;
    n += put_chunk(p + n, "tEXt", "Key\0after", 9);
    memcpy(p + n, orig + pos, 12);
    n += 12;

    CHECK_RC(mark__png_decode(ctx, p, n, &img), MARK_OK);
    if (img.data == NULL)
        goto done;
    /* same format: everything kept */
    round_trip("gray8+chunks", p, n, &img, &out);
    mark__buf_free(&out);

    memset(&rgb, 0, sizeof rgb);
    rgb.width = img.width;
    rgb.height = img.height;
    rgb.channels = 3;
    rgb.depth = 8;
    rgb.stride = (size_t)img.width * 3;
    rgb.data = mark__malloc(ctx, rgb.stride * rgb.height);
    for (i = 0; i < (size_t)img.width * img.height; i++)
        memset(rgb.data + 3 * i, img.data[i], 3);
    round_trip("gray8->rgb", p, n, &rgb, &out);
    nn = chunks(out.data, out.len, cks, MAXCK);
    CHECK(nn > 0 && out.data[25] == 2);
    CHECK(nn > 0 && count_type(out.data, cks, nn, "bKGD") == 0 &&
          count_type(out.data, cks, nn, "sBIT") == 0 &&
          count_type(out.data, cks, nn, "prVt") == 1 &&
          count_type(out.data, cks, nn, "tEXt") == 1);
    mark__buf_free(&out);
    mark__image_free(ctx, &rgb);

    /* a padded stride is honoured */
    rgb = img;
    rgb.stride = img.width + 5;
    rgb.data = mark__malloc(ctx, rgb.stride * rgb.height);
    for (i = 0; i < img.height; i++)
        memcpy(rgb.data + rgb.stride * i, img.data + img.stride * i,
               img.width);
    round_trip("gray8 stride", p, n, &rgb, &out);
    mark__buf_free(&out);
    mark__image_free(ctx, &rgb);
done:
    mark__image_free(ctx, &img);
    free(p);
    free(orig);
}

static void expect_fail(const unsigned char *p, size_t n, const char *what,
                        size_t at)
{
    mark__image img;
    int rc;

    ctx->errmsg[0] = '\0';
    rc = mark__png_decode(ctx, p, n, &img);
    CHECK_MSG(rc < 0 && ctx->errmsg[0] != '\0', "%s at %zu: rc %d", what,
              at, rc);
    CHECK(img.data == NULL && img.width == 0);
    mark__image_free(ctx, &img);
}

static void test_corrupt(void)
{
    static const char *const names[] = { "png-rgb8.png", "png-meta.png",
                                         "png-interlaced.png",
                                         "png-palette.png" };
    size_t len, k, cut, i;

    for (k = 0; k < sizeof names / sizeof names[0]; k++) {
        unsigned char *orig = load(names[k], &len), *p;
        ck cks[MAXCK];
        int n, first = -1, j;

        if (orig == NULL)
            continue;
        /* truncated anywhere: header, image data, end */
        for (cut = 0; cut < len; cut += cut < 64 ? 7 : len / 13)
            expect_fail(orig, cut, names[k], cut);
        expect_fail(orig, len - 1, names[k], len - 1);
        expect_fail(orig, len - 12, names[k], len - 12);

        /* one byte changed inside the image data, CRC made right again,
         * so only zlib or the row filters can notice */
        n = chunks(orig, len, cks, MAXCK);
        for (j = 0; j < n && j < MAXCK && first < 0; j++)
            if (is_type(orig, &cks[j], "IDAT"))
                first = j;
        CHECK(first >= 0);
        if (first < 0) {
            free(orig);
            continue;
        }
        p = malloc(len);
        for (i = 2; i < cks[first].len; i += cks[first].len / 7 + 1) {
            size_t at = cks[first].off + 8 + i;

            memcpy(p, orig, len);
            p[at] ^= 0x5a;
            put_chunk(p + cks[first].off, "IDAT", p + cks[first].off + 8,
                      cks[first].len);
            expect_fail(p, len, "flipped IDAT byte", i);
        }
        /* a bad CRC is caught as well */
        memcpy(p, orig, len);
        p[cks[first].off + 8 + cks[first].len / 2] ^= 1;
        expect_fail(p, len, "bad CRC", 0);
        free(p);
        free(orig);
    }
}

/* The zlib checksum alone in a last IDAT: libpng only checks it after
 * all rows are read, where by default a mismatch is a mere warning. */
static void test_late_checksum(void)
{
    size_t len, n, i;
    unsigned char *orig = load("png-rgb8.png", &len), *p;
    ck cks[MAXCK];
    int nn;
    mark__image img;

    if (orig == NULL)
        return;
    nn = chunks(orig, len, cks, MAXCK);
    CHECK(nn == 3 && is_type(orig, &cks[1], "IDAT") && cks[1].len > 4);
    if (nn != 3 || cks[1].len <= 4) {
        free(orig);
        return;
    }
    p = malloc(len + 12);
    for (i = 0; i < 2; i++) {
        unsigned char adler[4];

        memcpy(p, orig, cks[1].off);
        n = cks[1].off;
        n += put_chunk(p + n, "IDAT", orig + cks[1].off + 8,
                       cks[1].len - 4);
        memcpy(adler, orig + cks[1].off + 8 + cks[1].len - 4, 4);
        adler[1] ^= (unsigned char)(i * 0x40);
        n += put_chunk(p + n, "IDAT", adler, 4);
        memcpy(p + n, orig + cks[2].off, 12);
        n += 12;
        if (i == 0) {
            CHECK_RC(mark__png_decode(ctx, p, n, &img), MARK_OK);
            mark__image_free(ctx, &img);
        } else {
            expect_fail(p, n, "late Adler-32", 0);
        }
    }
    free(p);
    free(orig);
}

static void test_limits(void)
{
    static const unsigned char raw[] = { 0, 1, 2, 3 };
    unsigned char png[1024];
    size_t n, len;
    mark__image img;
    unsigned char *orig;

    /* a header claiming ten billion pixels: refused before any work */
    n = tiny_png(png, 100000, 100000, 8, 0, raw, sizeof raw);
    CHECK_RC(mark__png_decode(ctx, png, n, &img), MARK_ELIMIT);
    CHECK(strstr(mark_ctx_errmsg(ctx), "100000x100000") != NULL);
    CHECK(img.data == NULL);
    /* within the dimension limit, past the pixel limit */
    n = tiny_png(png, 60000, 60000, 8, 0, raw, sizeof raw);
    CHECK_RC(mark__png_decode(ctx, png, n, &img), MARK_ELIMIT);

    /* the ctx's limits, not fixed ones */
    orig = load("png-rgb8.png", &len);
    if (orig == NULL)
        return;
    CHECK_RC(mark_ctx_set_limit(ctx, MARK_LIMIT_PIXELS, 64 * 48 - 1),
             MARK_OK);
    CHECK_RC(mark__png_decode(ctx, orig, len, &img), MARK_ELIMIT);
    CHECK_RC(mark_ctx_set_limit(ctx, MARK_LIMIT_PIXELS, 64 * 48), MARK_OK);
    CHECK_RC(mark__png_decode(ctx, orig, len, &img), MARK_OK);
    mark__image_free(ctx, &img);
    CHECK_RC(mark_ctx_set_limit(ctx, MARK_LIMIT_DIMENSION, 63), MARK_OK);
    CHECK_RC(mark__png_decode(ctx, orig, len, &img), MARK_ELIMIT);
    CHECK_RC(mark_ctx_set_limit(ctx, MARK_LIMIT_DIMENSION, 65535), MARK_OK);
    CHECK_RC(mark_ctx_set_limit(ctx, MARK_LIMIT_PIXELS, (int64_t)1 << 28),
             MARK_OK);
    free(orig);

    /* not a PNG, empty */
    expect_fail((const unsigned char *)"GIF89a", 6, "not a PNG", 0);
    expect_fail(png, 0, "empty", 0);
}

static void test_encode_errors(void)
{
    size_t len;
    unsigned char *orig = load("png-rgb8.png", &len);
    mark__image img, bad;
    mark__buf out;

    if (orig == NULL)
        return;
    CHECK_RC(mark__png_decode(ctx, orig, len, &img), MARK_OK);
    mark__buf_init(&out, ctx);
    bad = img;
    bad.channels = 5;
    CHECK_RC(mark__png_encode(ctx, orig, len, &bad, &out), MARK_EINVAL);
    bad = img;
    bad.depth = 4;
    CHECK_RC(mark__png_encode(ctx, orig, len, &bad, &out), MARK_EINVAL);
    bad = img;
    bad.stride = img.stride - 1;
    CHECK_RC(mark__png_encode(ctx, orig, len, &bad, &out), MARK_EINVAL);
    CHECK_RC(mark__png_encode(ctx, orig, 20, &img, &out), MARK_EFORMAT);
    /* a chunk running past the end: refused, out left as it was */
    CHECK_RC(mark__buf_put(&out, "xyz", 3), MARK_OK);
    CHECK_RC(mark__png_encode(ctx, orig, len - 6, &img, &out), MARK_EFORMAT);
    CHECK(out.len == 3);
    mark__buf_free(&out);
    mark__image_free(ctx, &img);
    free(orig);
}

int main(void)
{
    fixdir = getenv("FIXTURES");
    if (fixdir == NULL) {
        fprintf(stderr, "FIXTURES must be set (tests/run.sh)\n");
        return 99;
    }
    if (mark_ctx_new(&ctx, NULL) != MARK_OK)
        return 99;
    test_kinds();
    test_meta();
    test_16bit();
    test_format_change();
    test_corrupt();
    test_late_checksum();
    test_limits();
    test_encode_errors();
    mark_ctx_free(ctx);
    return h_done("test_png_pixels");
}
