/*
 * test_visible.c - the explicit label: the text height measured on the
 * drawn pixels meets the 5% rule at every size from 32x32 to 16384x16384
 * and at every position; placement; the element check; real CJK glyphs;
 * bad fonts; and every PNG kind through the media path.
 */
#include <math.h>
#include <stdio.h>

#include <jpeglib.h>

#include "visible.h"
#include "harness.h"

static mark_ctx *ctx;
static const char *fixdir;

/* Draw on a black grey frame covering just the plate of a W x H image and
 * measure the text from the pixels: rows and columns with a sample
 * above half.  Returns the measured height, 0 on failure. */
static uint32_t draw_and_measure(mark_visible *v, uint32_t W, uint32_t H,
                                 mark_box *plate, mark_box *ink)
{
    mark_frame f;
    unsigned char *buf;
    uint32_t x, y, y0 = UINT32_MAX, y1 = 0, x0 = UINT32_MAX, x1 = 0;
    int rc;

    rc = mark_visible_layout(v, W, H, plate, ink);
    CHECK_MSG(rc == MARK_OK, "%ux%u: %s", W, H, mark_ctx_errmsg(ctx));
    if (rc != MARK_OK)
        return 0;
    buf = calloc((size_t)plate->w, plate->h);
    f.data = buf;
    f.stride = plate->w;
    f.width = plate->w;
    f.height = plate->h;
    f.pixel = MARK_PIXEL_GRAY8;
    CHECK_RC(mark__visible_draw_region(v, &f, W, H, plate->x, plate->y),
             MARK_OK);
    for (y = 0; y < plate->h; y++)
        for (x = 0; x < plate->w; x++)
            if (buf[(size_t)y * plate->w + x] > 127) {
                if (y < y0) y0 = y;
                if (y > y1) y1 = y;
                if (x < x0) x0 = x;
                if (x > x1) x1 = x;
            }
    free(buf);
    if (y0 == UINT32_MAX)
        return 0;
    /* the measured box is where the renderer says the ink is */
    CHECK(plate->x + x0 == ink->x && plate->y + y0 == ink->y);
    return y1 - y0 + 1;
}

static void test_sizes_and_positions(void)
{
    static const uint32_t sizes[][2] = {
        { 32, 32 }, { 33, 47 }, { 64, 64 }, { 100, 37 }, { 200, 4000 },
        { 4000, 200 }, { 640, 480 }, { 1920, 1080 }, { 4096, 4096 },
        { 16384, 200 }, { 16384, 16384 },
    };
    mark_visible *v = NULL;
    size_t i;
    int pos;

    CHECK_RC(mark_visible_new(ctx, &v), MARK_OK);
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint32_t W = sizes[i][0], H = sizes[i][1];
        uint32_t s = W < H ? W : H;
        uint32_t floor_px = (uint32_t)ceil(0.05 * s);
        uint32_t margin = (uint32_t)(0.02 * s + 0.5);

        if (margin < 1)
            margin = 1;
        for (pos = 0; pos < MARK_POS_COUNT_; pos++) {
            mark_box p, k;
            uint32_t h;

            CHECK_RC(mark_visible_set_position(v, pos), MARK_OK);
            h = draw_and_measure(v, W, H, &p, &k);
            CHECK_MSG(h >= floor_px, "%ux%u %s: text %u px < 5%% (%u)", W,
                      H, mark_position_name(pos), h, floor_px);
            CHECK_MSG(h == k.h, "%ux%u: measured %u, reported %u", W, H, h,
                      k.h);
            /* the default aims at 6%, and not far beyond */
            if (s >= 200)
                CHECK_MSG(h >= (uint32_t)ceil(0.06 * s) &&
                          h <= (uint32_t)ceil(0.06 * s) + 2 + s / 500,
                          "%ux%u: %u px is not about 6%%", W, H, h);
            CHECK(p.x + p.w <= W && p.y + p.h <= H);
            switch (pos) {
            case MARK_POS_BOTTOM_RIGHT:
                CHECK(p.x + p.w + margin == W && p.y + p.h + margin == H);
                break;
            case MARK_POS_TOP_LEFT:
                CHECK(p.x == margin && p.y == margin);
                break;
            case MARK_POS_TOP_RIGHT:
                CHECK(p.x + p.w + margin == W && p.y == margin);
                break;
            case MARK_POS_BOTTOM_LEFT:
                CHECK(p.x == margin && p.y + p.h + margin == H);
                break;
            case MARK_POS_BOTTOM:
                CHECK(p.x == (W - p.w) / 2 && p.y + p.h + margin == H);
                break;
            case MARK_POS_TOP:
                CHECK(p.x == (W - p.w) / 2 && p.y == margin);
                break;
            case MARK_POS_LEFT:
                CHECK(p.x == margin && p.y == (H - p.h) / 2);
                break;
            default:
                CHECK(p.x + p.w + margin == W && p.y == (H - p.h) / 2);
            }
        }
    }
    /* a larger height is honoured, below the floor is refused */
    CHECK_RC(mark_visible_set_height(v, 0.1), MARK_OK);
    {
        mark_box p, k;

        CHECK(draw_and_measure(v, 1000, 800, &p, &k) >= 80);
    }
    CHECK_RC(mark_visible_set_height(v, 0.049), MARK_EINVAL);
    CHECK_RC(mark_visible_set_height(v, 0.3), MARK_EINVAL);
    /* a text too long for a narrow image at 5%: refused, not shrunk */
    CHECK_RC(mark_visible_set_text(v, "AI\xe7\x94\x9f\xe6\x88\x90 AI "
                                   "generated content, labelled as the "
                                   "rules ask", 0), MARK_OK);
    CHECK_RC(mark_visible_layout(v, 200, 4000, NULL, NULL), MARK_ELIMIT);
    mark_visible_free(v);
}

static void test_elements(void)
{
    static const char *const good[] = {
        "AI\xe7\x94\x9f\xe6\x88\x90", "AI\xe5\x90\x88\xe6\x88\x90",
        "\xe4\xba\xba\xe5\xb7\xa5\xe6\x99\xba\xe8\x83\xbd\xe7\x94\x9f\xe6"
        "\x88\x90",
        "AI-generated \xe4\xba\xba\xe5\xb7\xa5\xe6\x99\xba\xe8\x83\xbd\xe7"
        "\x94\x9f\xe6\x88\x90",
        "\xe6\x9c\xac\xe5\x86\x85\xe5\xae\xb9\xe7\x94\xb1 AI \xe7\x94\x9f"
        "\xe6\x88\x90",
    };
    static const char *const bad[] = {
        "\xe7\x94\xb1" "AI" "\xe6\x8f\x90\xe4\xbe\x9b",   /* 由AI提供 */
        "AI-generated", "\xe7\x94\x9f\xe6\x88\x90",
        "SAID\xe7\x94\x9f\xe6\x88\x90", "",
    };
    mark_visible *v = NULL;
    char why[512];
    size_t i;

    CHECK_RC(mark_visible_new(ctx, &v), MARK_OK);
    for (i = 0; i < sizeof good / sizeof good[0]; i++) {
        CHECK_RC(mark_explicit_text_check(good[i], why, sizeof why),
                 MARK_OK);
        CHECK_RC(mark_visible_set_text(v, good[i], 0), MARK_OK);
        CHECK_MSG(mark_visible_layout(v, 800, 600, NULL, NULL) == MARK_OK,
                  "%s: %s", good[i], mark_ctx_errmsg(ctx));
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_RC(mark_visible_set_text(v, bad[i], 0), MARK_ELABEL);
        if (bad[i][0] != '\0') {
            CHECK_RC(mark_explicit_text_check(bad[i], why, sizeof why),
                     MARK_ELABEL);
            CHECK(strstr(why, "lacks") != NULL);
            CHECK_RC(mark_visible_set_text(v, bad[i], MARK_TEXT_FORCE),
                     MARK_OK);
        }
    }
    CHECK_RC(mark_explicit_text_check("AI-generated", why, sizeof why),
             MARK_ELABEL);
    CHECK(strstr(why, "generation element") != NULL);
    mark_visible_free(v);
}

/* The glyphs drawn are the characters asked for: 生 and 成 give clearly
 * different masks, and neither is an empty box. */
static void test_real_glyphs(void)
{
    mark_visible *a = NULL, *b = NULL;
    const mark__mask *ma, *mb;
    double diff = 0, inside = 0;
    uint32_t x, y, n = 0;

    CHECK_RC(mark_visible_new(ctx, &a), MARK_OK);
    CHECK_RC(mark_visible_new(ctx, &b), MARK_OK);
    CHECK_RC(mark_visible_set_text(a, "\xe7\x94\x9f", MARK_TEXT_FORCE),
             MARK_OK);
    CHECK_RC(mark_visible_set_text(b, "\xe6\x88\x90", MARK_TEXT_FORCE),
             MARK_OK);
    CHECK_RC(mark_visible_layout(a, 1000, 1000, NULL, NULL), MARK_OK);
    CHECK_RC(mark_visible_layout(b, 1000, 1000, NULL, NULL), MARK_OK);
    ma = &a->mask;
    mb = &b->mask;
    for (y = 0; y < ma->h && y < mb->h; y++)
        for (x = 0; x < ma->w && x < mb->w; x++, n++)
            diff += fabs((double)ma->data[y * ma->w + x] -
                         mb->data[y * mb->w + x]) / 255.0;
    CHECK(n > 0 && diff / n > 0.1);
    /* a tofu box is a hollow rectangle: its centre row is empty between
     * the two sides; 生 has ink across its middle */
    for (x = ma->w / 4; x < 3 * ma->w / 4; x++)
        inside += ma->data[(ma->h / 2) * ma->w + x] > 127;
    CHECK(inside > 0);
    /* a character no installed font has: refused, never drawn as tofu */
    CHECK_RC(mark_visible_set_text(a, "AI\xe7\x94\x9f\xe6\x88\x90\xf3\xb0"
                                   "\x80\x80", 0), MARK_OK);
    CHECK_RC(mark_visible_layout(a, 800, 600, NULL, NULL),
             MARK_EUNSUPPORTED);
    CHECK(strstr(mark_ctx_errmsg(ctx), "font") != NULL);
    mark_visible_free(a);
    mark_visible_free(b);
}

static void test_bad_fonts(void)
{
    mark_visible *v = NULL;
    char png[1024];
    FILE *f;

    CHECK_RC(mark_visible_new(ctx, &v), MARK_OK);
    CHECK_RC(mark_visible_set_font(v, "/nonexistent/font.ttf"), MARK_OK);
    CHECK_RC(mark_visible_layout(v, 800, 600, NULL, NULL),
             MARK_EUNSUPPORTED);
    CHECK(strstr(mark_ctx_errmsg(ctx), "/nonexistent/font.ttf") != NULL);
    snprintf(png, sizeof png, "%s/png-rgb8.png", fixdir);
    CHECK_RC(mark_visible_set_font(v, png), MARK_OK);
    CHECK_RC(mark_visible_layout(v, 800, 600, NULL, NULL),
             MARK_EUNSUPPORTED);
    /* a Latin-only font has no glyph for the Chinese characters */
    f = fopen("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "rb");
    if (f != NULL) {
        fclose(f);
        CHECK_RC(mark_visible_set_font(v, "/usr/share/fonts/truetype/"
                                       "dejavu/DejaVuSans.ttf"), MARK_OK);
        CHECK_RC(mark_visible_layout(v, 800, 600, NULL, NULL),
                 MARK_EUNSUPPORTED);
        CHECK(strstr(mark_ctx_errmsg(ctx), "no glyph") != NULL);
    }
    CHECK_RC(mark_visible_set_font(v, NULL), MARK_OK);
    CHECK_RC(mark_visible_layout(v, 800, 600, NULL, NULL), MARK_OK);
    mark_visible_free(v);
}

/* Every PNG kind through the media path: the output decodes, keeps its
 * depth, keeps grey as grey, gets an opaque label on alpha, and the
 * verifier finds the label from its record. */
static void test_png_kinds(void)
{
    static const struct { const char *file; int channels, depth; } k[] = {
        { "png-rgb8.png", 3, 8 }, { "png-rgba8.png", 4, 8 },
        { "png-rgb16.png", 3, 16 }, { "png-rgba16.png", 4, 16 },
        { "png-gray8.png", 1, 8 }, { "png-gray16.png", 1, 16 },
        { "png-graya8.png", 2, 8 }, { "png-palette.png", 4, 8 },
        { "png-palette4.png", 3, 8 }, { "png-interlaced.png", 3, 8 },
        { "png-gray1.png", 1, 8 }, { "png-meta.png", 3, 8 },
    };
    size_t i;

    for (i = 0; i < sizeof k / sizeof k[0]; i++) {
        char path[1024];
        mark_media *m = NULL, *r = NULL;
        mark_visible *v = NULL;
        mark_explicit_info ex;
        mark__image img;
        mark_box plate;
        void *out = NULL;
        size_t olen = 0;

        snprintf(path, sizeof path, "%s/%s", fixdir, k[i].file);
        CHECK_RC(mark_media_open_file(ctx, &m, path), MARK_OK);
        CHECK_RC(mark_visible_new(ctx, &v), MARK_OK);
        if (m == NULL || v == NULL)
            continue;
        CHECK_RC(mark_media_set_visible(m, v), MARK_OK);
        CHECK_RC(mark_media_save_buffer(m, &out, &olen), MARK_OK);
        CHECK_RC(mark__png_decode(ctx, out, olen, &img), MARK_OK);
        CHECK_MSG(img.channels == k[i].channels && img.depth == k[i].depth,
                  "%s: %d channels, %d bits", k[i].file, img.channels,
                  img.depth);
        CHECK_RC(mark_visible_layout(v, img.width, img.height, &plate,
                                     NULL), MARK_OK);
        if (img.channels == 2 || img.channels == 4) {
            /* alpha is opaque all over the plate */
            uint32_t x, y, bad = 0;
            int bps = img.depth / 8;

            for (y = plate.y; y < plate.y + plate.h; y++)
                for (x = plate.x; x < plate.x + plate.w; x++) {
                    const unsigned char *p = img.data + y * img.stride +
                        ((size_t)x * img.channels + img.channels - 1) * bps;

                    bad += p[0] != 255;
                }
            CHECK_MSG(bad == 0, "%s: %u see-through label pixels",
                      k[i].file, bad);
        }
        mark__image_free(ctx, &img);
        CHECK_RC(mark_media_open_buffer(ctx, &r, out, olen), MARK_OK);
        if (r != NULL) {
            CHECK_RC(mark_media_explicit(r, &ex), MARK_OK);
            CHECK_MSG(ex.checked && ex.found && ex.height_ratio >= 0.05,
                      "%s: explicit %d/%d %.3f (%s)", k[i].file, ex.checked,
                      ex.found, ex.height_ratio, ex.note);
            /* no metadata label, but an explicit one: suspected */
            CHECK(mark_media_verdict(r) == MARK_VERDICT_SUSPECTED);
        }
        mark_media_free(r);
        mark_free(ctx, out);
        mark_visible_free(v);
        mark_media_free(m);
    }
}

/* JPEG: everything away from the label is bit-identical; size close. */
static void test_jpeg_kinds(void)
{
    static const char *const k[] = {
        "jpeg-baseline.jpg", "jpeg-progressive.jpg", "jpeg-gray.jpg",
        "jpeg-cmyk.jpg", "jpeg-444.jpg", "jpeg-restart.jpg",
        "jpeg-meta.jpg",
    };
    size_t i;

    for (i = 0; i < sizeof k / sizeof k[0]; i++) {
        char path[1024];
        unsigned char *in;
        size_t len = 0, olen = 0;
        mark_media *m = NULL, *r = NULL;
        mark_visible *v = NULL;
        mark_explicit_info ex;
        mark__jpeg_edit *ea = NULL, *eb = NULL;
        mark__image ia, ib;
        mark_box plate;
        uint32_t W, H, rx, ry, x, y, diff = 0;
        int comps, q;
        void *out = NULL;

        snprintf(path, sizeof path, "%s/%s", fixdir, k[i]);
        in = h_read(path, &len);
        CHECK_RC(mark_media_open_buffer(ctx, &m, in, len), MARK_OK);
        CHECK_RC(mark_visible_new(ctx, &v), MARK_OK);
        CHECK_RC(mark_media_set_visible(m, v), MARK_OK);
        CHECK_RC(mark_media_save_buffer(m, &out, &olen), MARK_OK);
        CHECK_RC(mark__jpeg_edit_open(ctx, in, len, &ea), MARK_OK);
        CHECK_RC(mark__jpeg_edit_open(ctx, out, olen, &eb), MARK_OK);
        mark__jpeg_edit_info(ea, &W, &H, &comps, &q);
        CHECK_RC(mark__jpeg_edit_get(ea, 0, 0, W, H, &ia, &rx, &ry),
                 MARK_OK);
        CHECK_RC(mark__jpeg_edit_get(eb, 0, 0, W, H, &ib, &rx, &ry),
                 MARK_OK);
        CHECK_RC(mark_visible_layout(v, W, H, &plate, NULL), MARK_OK);
        /* rows above the plate's 16-pixel MCU row are untouched */
        for (y = 0; y < (plate.y & ~15u); y++)
            for (x = 0; x < W * (uint32_t)ia.channels; x++)
                diff += ia.data[y * ia.stride + x] !=
                        ib.data[y * ib.stride + x];
        CHECK_MSG(diff == 0, "%s: %u samples changed away from the label",
                  k[i], diff);
        mark__image_free(ctx, &ia);
        mark__image_free(ctx, &ib);
        mark__jpeg_edit_free(ea);
        mark__jpeg_edit_free(eb);
        CHECK_RC(mark_media_open_buffer(ctx, &r, out, olen), MARK_OK);
        if (r != NULL) {
            CHECK_RC(mark_media_explicit(r, &ex), MARK_OK);
            CHECK_MSG(ex.found, "%s: label not found (%s, %.2f)", k[i],
                      ex.note, ex.score);
        }
        mark_media_free(r);
        mark_free(ctx, out);
        mark_visible_free(v);
        mark_media_free(m);
        free(in);
    }
}

/* A photo-like 800x600 JPEG at quality q, 4:2:0, made here with
 * libjpeg: smooth gradients under fine pseudo-random texture. */
static unsigned char *make_jpeg(int q, unsigned long *len)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    unsigned char *out = NULL, row[800 * 3];
    uint32_t seed = 12345, x;
    JSAMPROW rp = row;

    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &out, len);
    c.image_width = 800;
    c.image_height = 600;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, q, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        uint32_t y = c.next_scanline;

        for (x = 0; x < 800; x++) {
            int n;

            seed = seed * 1103515245u + 12345u;
            n = (int)((seed >> 16) % 24) - 12;
            row[x * 3] = (unsigned char)(60 + x * 150 / 800 + n);
            row[x * 3 + 1] = (unsigned char)(40 + y * 160 / 600 + n);
            row[x * 3 + 2] = (unsigned char)(120 + n +
                                             (int)(60 * sin(x / 40.0)));
        }
        jpeg_write_scanlines(&c, &rp, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    return out;
}

/* A realistic JPEG: the labelled file is within 15% of the input's size
 * and PSNR against the input outside the label box is at least 40 dB
 * (in fact infinite: the blocks there are untouched). */
static void test_jpeg_quality(void)
{
    static const int qs[] = { 50, 75, 92 };
    size_t i;

    for (i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        unsigned long len = 0;
        unsigned char *in = make_jpeg(qs[i], &len);
        mark_media *m = NULL;
        mark_visible *v = NULL;
        mark__jpeg_edit *ea = NULL, *eb = NULL;
        mark__image ia, ib;
        mark_box plate;
        void *out = NULL;
        size_t olen = 0;
        uint32_t W, H, rx, ry, x, y;
        double se = 0, n = 0;
        int comps, q;

        CHECK_RC(mark_media_open_buffer(ctx, &m, in, len), MARK_OK);
        CHECK_RC(mark_visible_new(ctx, &v), MARK_OK);
        CHECK_RC(mark_media_set_visible(m, v), MARK_OK);
        CHECK_RC(mark_media_save_buffer(m, &out, &olen), MARK_OK);
        CHECK_MSG(olen <= len * 1.15 && olen >= len * 0.85,
                  "q%d: %lu -> %zu bytes", qs[i], len, olen);
        CHECK_RC(mark__jpeg_edit_open(ctx, in, len, &ea), MARK_OK);
        CHECK_RC(mark__jpeg_edit_open(ctx, out, olen, &eb), MARK_OK);
        mark__jpeg_edit_info(ea, &W, &H, &comps, &q);
        CHECK_MSG(q >= qs[i] - 1 && q <= qs[i] + 1, "quality %d, want %d",
                  q, qs[i]);
        CHECK_RC(mark__jpeg_edit_get(ea, 0, 0, W, H, &ia, &rx, &ry),
                 MARK_OK);
        CHECK_RC(mark__jpeg_edit_get(eb, 0, 0, W, H, &ib, &rx, &ry),
                 MARK_OK);
        CHECK_RC(mark_visible_layout(v, W, H, &plate, NULL), MARK_OK);
        for (y = 0; y < H; y++)
            for (x = 0; x < W; x++) {
                int k;

                if (x >= plate.x && x < plate.x + plate.w &&
                    y >= plate.y && y < plate.y + plate.h)
                    continue;
                for (k = 0; k < 3; k++) {
                    double d = (double)ia.data[y * ia.stride + x * 3 + k] -
                               ib.data[y * ib.stride + x * 3 + k];

                    se += d * d;
                    n++;
                }
            }
        CHECK_MSG(se == 0 || 10 * log10(255.0 * 255 * n / se) >= 40,
                  "q%d: PSNR outside the label %.1f dB", qs[i],
                  10 * log10(255.0 * 255 * n / se));
        mark__image_free(ctx, &ia);
        mark__image_free(ctx, &ib);
        mark__jpeg_edit_free(ea);
        mark__jpeg_edit_free(eb);
        mark_free(ctx, out);
        mark_visible_free(v);
        mark_media_free(m);
        free(in);
    }
}

int main(void)
{
    fixdir = getenv("FIXTURES");
    if (fixdir == NULL)
        return 99;
    if (mark_ctx_new(&ctx, NULL) != MARK_OK)
        return 99;
    test_sizes_and_positions();
    test_elements();
    test_real_glyphs();
    test_bad_fonts();
    test_png_kinds();
    test_jpeg_kinds();
    test_jpeg_quality();
    mark_ctx_free(ctx);
    return h_done("test_visible");
}
