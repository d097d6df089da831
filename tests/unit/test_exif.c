/*
 * test_exif.c - the EXIF walker on hand-built TIFF blocks: both byte
 * orders, the character codes, and offsets that point anywhere.  White
 * box: calls the internal mark__exif_scan directly.
 */
#include <stdint.h>

#include "internal.h"
#include "harness.h"

static mark_ctx *ctx;

/* A TIFF (II or MM) with IFD0 -> Exif IFD -> UserComment of type 'type'
 * holding 'val' (len bytes) at offset 64. */
static size_t build(unsigned char *t, int le, uint16_t type,
                    const void *val, size_t len)
{
    size_t i;

#define P16(o, v) do { if (le) { t[o] = (unsigned char)(v); \
        t[(o) + 1] = (unsigned char)((v) >> 8); } else { \
        t[o] = (unsigned char)((v) >> 8); t[(o) + 1] = (unsigned char)(v); } \
    } while (0)
#define P32(o, v) do { for (i = 0; i < 4; i++) t[(o) + (le ? i : 3 - i)] = \
        (unsigned char)((uint32_t)(v) >> (8 * i)); } while (0)
    memset(t, 0, 64 + len);
    memcpy(t, le ? "II*\0" : "MM\0*", 4);
    P32(4, 8);                 /* IFD0 at 8 */
    P16(8, 1);                 /* one entry: ExifIFD pointer */
    P16(10, 0x8769);
    P16(12, 4);
    P32(14, 1);
    P32(18, 26);               /* Exif IFD at 26 */
    P32(22, 0);
    P16(26, 1);                /* one entry: UserComment */
    P16(28, 0x9286);
    P16(30, type);
    P32(32, len);
    P32(36, 64);
    memcpy(t + 64, val, len);
#undef P16
#undef P32
    return 64 + len;
}

static mark_media *media(void)
{
    mark_media *m = calloc(1, sizeof *m);

    m->ctx = ctx;
    m->problems = mark__problems_new(ctx);
    return m;
}

static void free_media(mark_media *m)
{
    size_t i;

    for (i = 0; i < m->n_found; i++) {
        mark__free(ctx, m->found[i].carrier);
        mark__free(ctx, m->found[i].location);
        mark__free(ctx, m->found[i].raw);
        mark_label_free(m->found[i].label);
    }
    mark__free(ctx, m->found);
    mark_problems_free(m->problems);
    free(m);
}

#define JSON "{\"AIGC\":{\"Label\":\"1\",\"ContentProducer\":\"p\"," \
             "\"ProduceID\":\"i\"}}"

static void test_orders_and_codes(void)
{
    unsigned char t[512], val[300];
    size_t n, off, len, i;
    int le;
    mark_media *m;

    for (le = 0; le < 2; le++) {
        memcpy(val, "ASCII\0\0\0", 8);
        memcpy(val + 8, JSON, sizeof JSON - 1);
        n = build(t, le, 7, val, 8 + sizeof JSON - 1);
        m = media();
        CHECK_RC(mark__exif_scan(m, t, n, "t", &off, &len), MARK_OK);
        CHECK(m->n_found == 1 && off == 64 && len == 8 + sizeof JSON - 1);
        CHECK(m->n_found == 1 && m->found[0].form == MARK_FORM_WRAPPED);
        free_media(m);

        /* UNICODE: UTF-16 in the TIFF's byte order */
        memcpy(val, "UNICODE\0", 8);
        for (i = 0; i < sizeof JSON - 1; i++) {
            val[8 + 2 * i + (le ? 0 : 1)] = (unsigned char)JSON[i];
            val[8 + 2 * i + (le ? 1 : 0)] = 0;
        }
        n = build(t, le, 7, val, 8 + 2 * (sizeof JSON - 1));
        m = media();
        CHECK_RC(mark__exif_scan(m, t, n, "t", &off, &len), MARK_OK);
        CHECK(m->n_found == 1 && m->found[0].label != NULL);
        CHECK(m->n_found == 1 &&
              strcmp(mark_label_get(m->found[0].label, MARK_FIELD_PRODUCE_ID),
                     "i") == 0);
        free_media(m);
    }
    /* no character code: read, with a warning */
    n = build(t, 1, 7, JSON, sizeof JSON - 1);
    m = media();
    CHECK_RC(mark__exif_scan(m, t, n, "t", &off, &len), MARK_OK);
    CHECK(m->n_found == 1 && mark_problems_max_severity(m->problems) ==
          MARK_SEV_WARNING);
    free_media(m);
    /* an ordinary comment is not a label */
    n = build(t, 1, 7, "ASCII\0\0\0hello", 13);
    m = media();
    CHECK_RC(mark__exif_scan(m, t, n, "t", &off, &len), MARK_OK);
    CHECK(m->n_found == 0 && len == 0);
    free_media(m);
}

static void test_hostile(void)
{
    unsigned char t[512], val[64];
    size_t n, off, len, cut, pos;
    mark_media *m;

    memcpy(val, "ASCII\0\0\0{\"Label\":\"1\"}", 21);
    n = build(t, 1, 7, val, 21);
    /* every truncation: no read past the end (ASan), never a label from
     * a cut value */
    for (cut = 0; cut < n; cut++) {
        m = media();
        CHECK_RC(mark__exif_scan(m, t, cut, "t", &off, &len), MARK_OK);
        CHECK(m->n_found == 0);
        free_media(m);
    }
    /* every byte set to 0xff in turn: counts and offsets go wild */
    for (pos = 4; pos < 64; pos++) {
        unsigned char c[512];

        memcpy(c, t, n);
        c[pos] = 0xff;
        m = media();
        CHECK_RC(mark__exif_scan(m, c, n, "t", &off, &len), MARK_OK);
        CHECK(len == 0 || off + len <= n);
        free_media(m);
    }
    /* the Exif IFD pointing back at IFD0 */
    t[18] = 8;
    t[19] = t[20] = t[21] = 0;
    m = media();
    CHECK_RC(mark__exif_scan(m, t, n, "t", &off, &len), MARK_OK);
    free_media(m);
    /* not TIFF at all */
    m = media();
    CHECK_RC(mark__exif_scan(m, (const unsigned char *)"XX*\0abcd", 8, "t",
                             &off, &len), MARK_OK);
    CHECK(mark_problems_count(m->problems) == 1);
    free_media(m);
}

static void test_inflate(void)
{
    mark__buf b;

    mark__buf_init(&b, ctx);
    CHECK_RC(mark__inflate(ctx, (const unsigned char *)"\x78\x9c", 2, 100,
                           &b), MARK_EFORMAT);
    mark__buf_free(&b);
    CHECK(mark__crc32(0, (const unsigned char *)"IEND", 4) == 0xae426082u);
}

int main(void)
{
    if (mark_ctx_new(&ctx, NULL) != MARK_OK)
        return 99;
    test_orders_and_codes();
    test_hostile();
    test_inflate();
    mark_ctx_free(ctx);
    return h_done("test_exif");
}
