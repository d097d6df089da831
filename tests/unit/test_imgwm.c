/*
 * test_imgwm.c - the img-v1 watermark on synthetic luma planes: quality
 * (PSNR), blind detection after cropping at any offset, rescaling, noise
 * and JPEG, and no detection on unmarked images or under a wrong key.
 * The full robustness table is `make robustness`, not this test.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "signal.h"
#include "harness.h"

static mark_ctx *ctx;
static uint64_t rs = 0x9e3779b97f4a7c15ull;

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

/* A photo-like plane: smooth shading, a flat "sky", textured regions
 * and a few hard edges. */
static float *scene(uint32_t w, uint32_t h, int seed)
{
    float *p = malloc(sizeof(float) * w * h);
    uint32_t x, y;

    rs = 0x9e3779b97f4a7c15ull + (uint64_t)seed * 7919;
    for (y = 0; y < h; y++)
        for (x = 0; x < w; x++) {
            double v;

            if (y < h / 4)
                v = 190 + 20.0 * y / h;                       /* sky */
            else
                v = 90 + 60 * sin(x / (37.0 + seed)) * cos(y / 53.0) +
                    25 * gauss() * ((x / 64 + y / 64) % 3 == 0);
            if (x > w / 2 && x < w / 2 + 80 && y > h / 2)
                v = 30;                                         /* edge */
            p[(size_t)y * w + x] = (float)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    return p;
}

/* Bilinear resize (area-averaged when shrinking by 2). */
static float *resize(const float *in, uint32_t w, uint32_t h, uint32_t nw,
                     uint32_t nh)
{
    float *o = malloc(sizeof(float) * nw * nh);
    uint32_t x, y;

    for (y = 0; y < nh; y++)
        for (x = 0; x < nw; x++) {
            double sx = (x + 0.5) * w / nw - 0.5, sy = (y + 0.5) * h / nh - 0.5;
            double v = 0, wsum = 0;
            int dx, dy, r = nw < w ? (int)(w / nw) : 1;

            for (dy = -r + 1; dy <= r; dy++)
                for (dx = -r + 1; dx <= r; dx++) {
                    int xi = (int)floor(sx) + dx, yi = (int)floor(sy) + dy;
                    double wx = 1 - fabs(sx - xi) / r, wy = 1 - fabs(sy - yi) / r;

                    if (wx <= 0 || wy <= 0)
                        continue;
                    if (xi < 0) xi = 0;
                    if (yi < 0) yi = 0;
                    if (xi >= (int)w) xi = (int)w - 1;
                    if (yi >= (int)h) yi = (int)h - 1;
                    v += wx * wy * in[(size_t)yi * w + xi];
                    wsum += wx * wy;
                }
            o[(size_t)y * nw + x] = (float)(v / wsum);
        }
    return o;
}

static float *crop(const float *in, uint32_t w, uint32_t x0, uint32_t y0,
                   uint32_t cw, uint32_t ch)
{
    float *o = malloc(sizeof(float) * cw * ch);
    uint32_t y;

    for (y = 0; y < ch; y++)
        memcpy(o + (size_t)y * cw, in + (size_t)(y0 + y) * w + x0,
               sizeof(float) * cw);
    return o;
}

static float *jpeg(const float *in, uint32_t w, uint32_t h, int q)
{
    struct jpeg_compress_struct c;
    struct jpeg_decompress_struct d;
    struct jpeg_error_mgr e1, e2;
    unsigned char *buf = NULL, *row = malloc(w);
    unsigned long len = 0;
    float *o = malloc(sizeof(float) * w * h);
    uint32_t x, y;

    c.err = jpeg_std_error(&e1);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &buf, &len);
    c.image_width = w;
    c.image_height = h;
    c.input_components = 1;
    c.in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, q, TRUE);
    jpeg_start_compress(&c, TRUE);
    for (y = 0; y < h; y++) {
        for (x = 0; x < w; x++)
            row[x] = (unsigned char)(in[(size_t)y * w + x] + 0.5f);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    d.err = jpeg_std_error(&e2);
    jpeg_create_decompress(&d);
    jpeg_mem_src(&d, buf, len);
    jpeg_read_header(&d, TRUE);
    jpeg_start_decompress(&d);
    for (y = 0; y < h; y++) {
        jpeg_read_scanlines(&d, &row, 1);
        for (x = 0; x < w; x++)
            o[(size_t)y * w + x] = row[x];
    }
    jpeg_finish_decompress(&d);
    jpeg_destroy_decompress(&d);
    free(buf);
    free(row);
    return o;
}

/* Rotate by deg degrees about the centre (bilinear), same size; the
 * corners brought in from outside are mid-grey. */
static float *rotate(const float *in, uint32_t w, uint32_t h, double deg)
{
    float *out = malloc(sizeof(float) * w * h);
    double a = deg * M_PI / 180, cs = cos(a), sn = sin(a);
    double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
    uint32_t x, y;

    for (y = 0; y < h; y++)
        for (x = 0; x < w; x++) {
            double dx = x - cx, dy = y - cy;
            double sx = cs * dx + sn * dy + cx, sy = -sn * dx + cs * dy + cy;
            long x0 = (long)floor(sx), y0 = (long)floor(sy);
            double fx = sx - x0, fy = sy - y0;
            float v = 128;

            if (x0 >= 0 && y0 >= 0 && x0 + 1 < (long)w && y0 + 1 < (long)h) {
                const float *p = in + (size_t)y0 * w + x0;

                v = (float)((1 - fy) * ((1 - fx) * p[0] + fx * p[1]) +
                            fy * ((1 - fx) * p[w] + fx * p[w + 1]));
            }
            out[(size_t)y * w + x] = v;
        }
    return out;
}

static int detect(const mark_key *k, const float *p, uint32_t w, uint32_t h,
                  const mark_payload *want, const char *what)
{
    mark__wm_result r;
    int ok;

    CHECK_RC(mark__imgwm_detect(ctx, k, p, w, h, &r), MARK_OK);
    ok = r.found && memcmp(r.payload.bytes, want->bytes, 8) == 0;
    if (getenv("VERBOSE") != NULL)
        printf("%-22s %ux%u found=%d ok=%d score=%.3f sync=%.1f "
               "period=%.1fx%.1f tries=%d\n", what, w, h, r.found, ok,
               r.score, r.sync, r.period_x, r.period_y, r.candidates);
    return r.found ? (ok ? 1 : -1) : 0;
}

/* The 1-D transform against a direct DFT (in double) for every size up
 * to 1024, forward and inverse; 16384 (beyond the twiddle table) bin by
 * bin at a few bins and by its round trip. */
static void test_fft_direct(void)
{
    static float re[16384], im[16384], r0[16384], i0[16384];
    double err = 0, scale;
    size_t n, k, t;
    int inv;

    for (n = 1; n <= 16384; n *= 2)
        for (inv = 0; inv < 2; inv++) {
            size_t step = n <= 1024 ? 1 : n / 7 + 1;

            for (t = 0; t < n; t++) {
                r0[t] = re[t] = (float)gauss();
                i0[t] = im[t] = (float)gauss();
            }
            mark__fft(re, im, n, inv);
            scale = inv ? 1.0 / (double)n : 1.0;
            for (k = 0; k < n; k += step) {
                double sr = 0, si = 0;

                for (t = 0; t < n; t++) {
                    double a = 2 * M_PI * (double)((k * t) % n) /
                               (double)n * (inv ? 1 : -1);

                    sr += r0[t] * cos(a) - i0[t] * sin(a);
                    si += r0[t] * sin(a) + i0[t] * cos(a);
                }
                /* relative to the spectrum's RMS, sqrt(2 n) */
                err = fmax(err, (fabs(re[k] - sr * scale) +
                                 fabs(im[k] - si * scale)) /
                                    (sqrt(2.0 * (double)n) * scale));
            }
            if (!inv) {
                /* and back */
                double e2 = 0;

                mark__fft(re, im, n, 1);
                for (t = 0; t < n; t++)
                    e2 = fmax(e2, fabs(re[t] - r0[t]) + fabs(im[t] - i0[t]));
                CHECK(e2 < 1e-4);
            }
        }
    if (getenv("VERBOSE") != NULL)
        printf("fft against the direct DFT: %.2g of the RMS\n", err);
    CHECK(err < 1e-5);
}

/* The real-input 2-D FFT pair against the complex one. */
static void test_fft_real(void)
{
    enum { FW = 64, FH = 32 };
    static float re[FW * FH], im[FW * FH], re2[FW * FH], im2[FW * FH];
    float rows[2 * FW];
    double err = 0, err2 = 0;
    size_t i, x, y;

    for (i = 0; i < FW * FH; i++) {
        re[i] = re2[i] = (float)gauss();
        im2[i] = 0;
    }
    mark__fft2(re2, im2, FW, FH, 0);
    mark__fft2_real(re, im, FW, FH, rows);
    for (y = 0; y < FH; y++)
        for (x = 0; x <= FW / 2; x++) {
            i = y * FW + x;
            err = fmax(err, fabs(re[i] - re2[i]) + fabs(im[i] - im2[i]));
        }
    CHECK(err < 1e-3);
    /* back: the inverse of the complex transform's real part */
    mark__fft2(re2, im2, FW, FH, 1);
    mark__ifft2_real(re, im, FW, FH, rows);
    for (i = 0; i < FW * FH; i++)
        err2 = fmax(err2, fabs(re[i] - re2[i]));
    CHECK(err2 < 1e-4);
}

/* Golden vectors of the key-driven layout and the chip size rule: these
 * define img-v1 on the image, so a change here is a new scheme version.
 * The digests were produced by this code when the layout was settled
 * (2026-11-28), for the public default key and for a fixed private key. */
static void test_golden(const mark_key *def)
{
    static const char *fixed = "aimark-key-v1 000102030405060708090a0b0c0d"
                               "0e0f101112131415161718191a1b1c1d1e1f\n";
    unsigned char d[32];
    char hex[65];
    mark_key *k = NULL;
    int i;

    mark__imgwm_pattern_digest(def, d);
    for (i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    CHECK(strcmp(hex, "2c5684f891d83942db52fc1fce9ca273"
                      "1ebe782dd25d7403413d2434b86904d9") == 0);
    CHECK_RC(mark_key_load(ctx, &k, fixed, strlen(fixed)), MARK_OK);
    mark__imgwm_pattern_digest(k, d);
    for (i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    CHECK(strcmp(hex, "96e13202d49bc711845881793decb0d8"
                      "b276d78cc03be54fecaff0df6568523c") == 0);
    mark_key_free(k);
    CHECK(mark__imgwm_chip_size(512, 512, 0) == 3.0);
    CHECK(mark__imgwm_chip_size(700, 2000, 0) == 3.0);
    CHECK(mark__imgwm_chip_size(512, 512, 1) == 4.0);
    CHECK(fabs(mark__imgwm_chip_size(900, 1600, 0) - 900 / 256.0) < 1e-12);
    CHECK(mark__imgwm_chip_size(900, 1600, 1) == 4.0);
    CHECK(fabs(mark__imgwm_chip_size(1920, 1080, 0) - 1080 / 256.0) < 1e-12);
    CHECK(fabs(mark__imgwm_chip_size(1920, 1080, 1) - 1080 / 256.0) < 1e-12);
    CHECK(fabs(mark__imgwm_chip_size(3000, 4000, 1) - 3000 / 256.0) < 1e-12);
    /* the work scale: the pixel under 1024 px a side, 2 x 2 cells from
     * 1024 (the generators' sizes) on */
    CHECK(mark__imgwm_work_step(1023, 1792) == 1);
    CHECK(mark__imgwm_work_step(1024, 1024) == 2);
    CHECK(mark__imgwm_work_step(1792, 1024) == 2);
    CHECK(mark__imgwm_work_step(1920, 1080) == 2);
}

/* Lines of dark glyph-like strokes (level 30) on a page of W x H, every
 * 28 rows from row y0 on. */
static void text_strokes(float *page, uint32_t W, uint32_t H, uint32_t y0)
{
    uint32_t x, y;

    for (y = y0; y + 16 < H; y += 28)
        for (x = 30; x + 6 < W - 30; x += 7)
            if (uni() < 0.8) {
                uint32_t gh = 6 + (uint32_t)(uni() * 10), u, v;

                for (v = 0; v < gh; v++)
                    for (u = 0; u < 2; u++)
                        page[(size_t)(y + 16 - v) * W + x + u] = 30;
            }
}

/* The RMS cap (PSNR >= 40.5 dB at strength 1) where the work scale is
 * coarser than the pixel: a work pixel of a text page holds white and
 * dark pixels, which need more headroom than their grey mean; planned
 * from the means alone the page came out at 40.1 dB.  1024 and 1100 px a
 * side (work scale 2), and 768 (full scale) for comparison. */
static void test_text_cap(const mark_key *k, const mark_payload *p)
{
    static const uint32_t sides[] = { 768, 1024, 1100 };
    size_t s;

    for (s = 0; s < sizeof sides / sizeof sides[0]; s++) {
        uint32_t W = sides[s], H = sides[s], i;
        float *orig = malloc(sizeof(float) * W * H), *m;
        double se = 0, psnr;

        for (i = 0; i < W * H; i++)
            orig[i] = 255;
        text_strokes(orig, W, H, 40);
        m = malloc(sizeof(float) * W * H);
        memcpy(m, orig, sizeof(float) * W * H);
        CHECK_RC(mark__imgwm_embed(ctx, k, p, m, W, H, 1.0), MARK_OK);
        for (i = 0; i < W * H; i++)
            se += (double)(m[i] - orig[i]) * (m[i] - orig[i]);
        psnr = 10 * log10(255.0 * 255 * W * H / se);
        if (getenv("VERBOSE") != NULL)
            printf("text page %ux%u (work scale %u): PSNR %.2f dB\n", W, H,
                   mark__imgwm_work_step(W, H), psnr);
        CHECK(psnr >= 40.4);
        CHECK(psnr < 42);                /* and not far under the cap */
        free(orig);
        free(m);
    }
}

/* A white page with lines of dark glyph-like strokes (a screenshot of
 * text).  On the white the pattern has to move down rather than clip:
 * most white pixels change (about 2/3 here; about 2/5 when the pattern
 * is clipped instead), and the mark survives JPEG 75 (it does not when
 * clipped). */
static void test_white_page(const mark_key *k, const mark_payload *p)
{
    uint32_t W = 1024, H = 768, x, y, i, white = 0, moved = 0, over = 0;
    float *orig = malloc(sizeof(float) * W * H), *m, *t;

    for (i = 0; i < W * H; i++)
        orig[i] = 255;
    text_strokes(orig, W, H, 40);
    m = malloc(sizeof(float) * W * H);
    memcpy(m, orig, sizeof(float) * W * H);
    CHECK_RC(mark__imgwm_embed(ctx, k, p, m, W, H, 1.0), MARK_OK);
    for (y = 0; y < 30; y++)                 /* the blank top margin */
        for (x = 0; x < W; x++) {
            i = y * W + x;
            white++;
            moved += m[i] < 254.5f;
            over += m[i] > 255.0f;
        }
    CHECK(over == 0);
    if (getenv("VERBOSE") != NULL)
        printf("white page: %u of %u white pixels moved\n", moved, white);
    CHECK(moved > white * 11 / 20);
    CHECK(detect(k, m, W, H, p, "white page") == 1);
    t = jpeg(m, W, H, 90);
    CHECK(detect(k, t, W, H, p, "white page, jpeg 90") == 1);
    free(t);
    t = jpeg(m, W, H, 75);
    CHECK(detect(k, t, W, H, p, "white page, jpeg 75") == 1);
    free(t);
    free(m);
    free(orig);
}

/* Brightness +20% on a mostly white picture (a screenshot: a white
 * page, a light grey title bar, dark text): every level above 212 clips
 * to white, and the pattern there with it; the bar (170 -> 204) and the
 * strokes keep enough of the mark.  On such pictures the embedder models
 * that view too (it helps here only a little: score 0.71 against 0.70
 * without it, with a bar of 16 rows neither is found; on the corpus it
 * saves a chat screenshot, `make robustness`). */
static void test_bright_page(const mark_key *k, const mark_payload *p)
{
    uint32_t W = 1024, H = 768, x, y, i;
    float *m = malloc(sizeof(float) * W * H), *t;

    for (i = 0; i < W * H; i++)
        m[i] = 250;
    for (y = 0; y < 40; y++)                 /* the title bar */
        for (x = 0; x < W; x++)
            m[(size_t)y * W + x] = 170;
    text_strokes(m, W, H, 110);
    CHECK_RC(mark__imgwm_embed(ctx, k, p, m, W, H, 1.0), MARK_OK);
    t = malloc(sizeof(float) * W * H);
    for (i = 0; i < W * H; i++) {
        float b = floorf(m[i] * 1.2f + 0.5f);

        t[i] = b > 255.0f ? 255.0f : b;
    }
    CHECK(detect(k, t, W, H, p, "bright page, brightness +20%") == 1);
    free(t);
    free(m);
}

/* The work-scale planes made from 2 x 2 cell means and mean squares (the
 * JPEG cell path): with an even step they are the d x d block means of
 * the pixels exactly; with an odd one a cell is split between two blocks
 * and shared by area, which is exact on a constant picture and close on
 * a smooth one.  Steps up to 7 (four cells a block) are checked. */
static void test_work_from_cells(void)
{
    static const uint32_t sizes[][2] = {
        { 1100, 1030 },                 /* d 2 */
        { 1601, 1540 },                 /* d 3, odd width */
        { 2100, 2060 },                 /* d 4 */
        { 2700, 2600 },                 /* d 5 */
        { 3700, 3601 },                 /* d 7 */
    };
    size_t t;
    int kind;

    for (t = 0; t < sizeof sizes / sizeof sizes[0]; t++)
        for (kind = 0; kind < 3; kind++) {
            uint32_t W = sizes[t][0], H = sizes[t][1];
            uint32_t w2 = (W + 1) / 2, h2 = (H + 1) / 2;
            uint32_t d = mark__imgwm_work_step(W, H), ww = W / d, hw = H / d;
            uint32_t x, y, u, v;
            float *px = malloc(sizeof(float) * W * H);
            float *v2 = calloc((size_t)w2 * h2, sizeof(float));
            float *s2 = calloc((size_t)w2 * h2, sizeof(float));
            float *lw = malloc(sizeof(float) * ww * hw);
            float *sq = malloc(sizeof(float) * ww * hw);
            double worst = 0, worst2 = 0, lim;
            double *sinx = malloc(sizeof(double) * W);

            /* 0: constant, 1: smooth, 2: noise (even steps only) */
            if (kind == 2 && d % 2)
                goto next;
            for (x = 0; x < W; x++)
                sinx[x] = sin(x / 40.0);
            for (y = 0; y < H; y++) {
                double cy = cos(y / 55.0);

                for (x = 0; x < W; x++)
                    px[(size_t)y * W + x] = kind == 0 ? 137.0f :
                        kind == 1 ? (float)(128 + 100 * sinx[x] * cy) :
                        (float)(uni() * 255);
            }
            /* cells of the image padded by repeating its last row and
             * column, as a JPEG's blocks are */
            for (y = 0; y < 2 * h2; y++)
                for (x = 0; x < 2 * w2; x++) {
                    float p = px[(size_t)(y < H ? y : H - 1) * W +
                                 (x < W ? x : W - 1)];

                    v2[(size_t)(y / 2) * w2 + x / 2] += p / 4;
                    s2[(size_t)(y / 2) * w2 + x / 2] += p * p / 4;
                }
            CHECK_RC(mark__imgwm_work_from_cells(ctx, v2, s2, W, H, lw, sq),
                     MARK_OK);
            for (y = 0; y < hw; y++)
                for (x = 0; x < ww; x++) {
                    double a = 0, b = 0;

                    for (v = 0; v < d; v++)
                        for (u = 0; u < d; u++) {
                            double p = px[(size_t)(y * d + v) * W + x * d +
                                          u];

                            a += p / (d * d);
                            b += p * p / (d * d);
                        }
                    a = fabs(a - lw[(size_t)y * ww + x]);
                    b = fabs(b - sq[(size_t)y * ww + x]) / (b + 1);
                    worst = a > worst ? a : worst;
                    worst2 = b > worst2 ? b : worst2;
                }
            /* float sums; a smooth picture moves by < 1 level over the
             * half cell an odd step shares (its square by a few %) */
            lim = kind == 1 && d % 2 ? 1.0 : 0.01;
            CHECK_MSG(worst < lim && worst2 < lim / 20, "%ux%u (step %u, "
                      "picture %d): block mean off by %.4f, mean square by "
                      "%.2g of itself", W, H, d, kind, worst, worst2);
next:
            free(sinx);
            free(px);
            free(v2);
            free(s2);
            free(lw);
            free(sq);
        }
}

/* The planes a ctx keeps between calls (mark__plane_alloc/_free): the
 * same size comes back, other sizes and small blocks do not, the total
 * stays under the cap, and mark_ctx_free gives everything back.  Then an
 * image marked twice on one ctx (the second time on planes left dirty by
 * the first) is marked exactly as on a fresh ctx. */
static long planes_live;

static void *pc_malloc(void *u, size_t n)
{
    (void)u;
    planes_live++;
    return malloc(n);
}

static void *pc_realloc(void *u, void *p, size_t n)
{
    (void)u;
    if (p == NULL)
        planes_live++;
    return realloc(p, n);
}

static void pc_free(void *u, void *p)
{
    (void)u;
    if (p != NULL)
        planes_live--;
    free(p);
}

static void test_planes(const mark_key *k, const mark_payload *p)
{
    mark_alloc al = { pc_malloc, pc_realloc, pc_free, NULL };
    mark_ctx *c2 = NULL, *c3 = NULL;
    size_t big = (size_t)1 << 20, i;
    void *a, *b, *c, *small, *huge[8];
    float *img, *m1, *m2, *m3;
    uint32_t W = 700, H = 500;

    CHECK_RC(mark_ctx_new(&c2, &al), MARK_OK);
    a = mark__plane_alloc(c2, big);
    small = mark__plane_alloc(c2, 1000);
    CHECK(a != NULL && small != NULL);
    mark__plane_free(c2, a, big);
    mark__plane_free(c2, small, 1000);
    CHECK(planes_live == 2);               /* ctx + the kept plane */
    b = mark__plane_alloc(c2, big);
    CHECK(b == a);                         /* the same plane again */
    c = mark__plane_alloc(c2, big);
    CHECK(c != a);
    mark__plane_free(c2, b, big);
    mark__plane_free(c2, c, big);
    a = mark__plane_alloc(c2, 4 * big);    /* much larger: a new one */
    CHECK(a != b && a != c);
    mark__plane_free(c2, a, 4 * big);
    b = mark__plane_alloc(c2, big / 4);    /* much smaller: a new one */
    CHECK(b != a && b != c);
    mark__plane_free(c2, b, big / 4);
    /* past MARK__SPARE_BYTES in all, planes are given back at once */
    for (i = 0; i < 8; i++)
        huge[i] = mark__plane_alloc(c2, MARK__SPARE_BYTES / 4);
    for (i = 0; i < 8; i++)
        mark__plane_free(c2, huge[i], MARK__SPARE_BYTES / 4);
    CHECK(c2->spare_bytes <= MARK__SPARE_BYTES);
    mark_ctx_free(c2);
    CHECK_MSG(planes_live == 0, "%ld blocks not freed", planes_live);

    img = scene(W, H, 5);
    m1 = malloc(sizeof(float) * W * H);
    m2 = malloc(sizeof(float) * W * H);
    m3 = malloc(sizeof(float) * W * H);
    memcpy(m1, img, sizeof(float) * W * H);
    memcpy(m2, img, sizeof(float) * W * H);
    memcpy(m3, img, sizeof(float) * W * H);
    CHECK_RC(mark_ctx_new(&c2, &al), MARK_OK);
    CHECK_RC(mark_ctx_new(&c3, NULL), MARK_OK);
    /* the second mark on planes the first left dirty */
    CHECK_RC(mark__imgwm_embed(c2, k, p, m1, W, H, 1.0), MARK_OK);
    CHECK_RC(mark__imgwm_embed(c2, k, p, m2, W, H, 1.0), MARK_OK);
    CHECK_RC(mark__imgwm_embed(c3, k, p, m3, W, H, 1.0), MARK_OK);
    CHECK(memcmp(m1, m3, sizeof(float) * W * H) == 0);
    CHECK(memcmp(m2, m3, sizeof(float) * W * H) == 0);
    CHECK(c2->spare_bytes > 0);
    mark_ctx_free(c2);
    mark_ctx_free(c3);
    CHECK_MSG(planes_live == 0, "%ld blocks not freed", planes_live);
    free(img);
    free(m1);
    free(m2);
    free(m3);
}

/* The texture gain (video frames): a picture flat on its left half and
 * busy on its right.  With busy 1.5 the right half's change grows by
 * about that much, the left half's hardly (the energy cap rises with the
 * gain, so it binds a little less), and busy 1 is what the image
 * embedder gives. */
static void test_busy_gain(const mark_key *k, const mark_payload *p)
{
    uint32_t W = 640, H = 480, x, y;
    float *img = malloc(sizeof(float) * W * H);
    float *d1 = malloc(sizeof(float) * W * H);
    float *d15 = malloc(sizeof(float) * W * H);
    float *ref = malloc(sizeof(float) * W * H);
    mark__imgwm_plan *pl = NULL;
    double f1 = 0, f15 = 0, b1 = 0, b15 = 0;

    rs = 0x51ed270b27a3f1c5ull;
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++)
            img[y * W + x] = x < W / 2 ? 120.0f
                                       : (float)(128 + 40 * gauss());
    CHECK_RC(mark__imgwm_plan_from_luma(ctx, k, p, img, W, H, 1.0, 1.0,
                                        &pl), MARK_OK);
    CHECK_RC(mark__imgwm_plan_delta(ctx, pl, img, d1), MARK_OK);
    mark__imgwm_plan_free(ctx, pl);
    CHECK_RC(mark__imgwm_plan_from_luma(ctx, k, p, img, W, H, 1.0, 1.5,
                                        &pl), MARK_OK);
    CHECK_RC(mark__imgwm_plan_delta(ctx, pl, img, d15), MARK_OK);
    mark__imgwm_plan_free(ctx, pl);
    CHECK_RC(mark__imgwm_delta(ctx, k, p, img, W, H, 1.0, ref), MARK_OK);
    CHECK(memcmp(ref, d1, sizeof(float) * W * H) == 0);
    /* away from the border between the halves (the mask's windows) */
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++) {
            size_t i = (size_t)y * W + x;

            if (x < W / 2 - 16) {
                f1 += d1[i] * d1[i];
                f15 += d15[i] * d15[i];
            } else if (x >= W / 2 + 16) {
                b1 += d1[i] * d1[i];
                b15 += d15[i] * d15[i];
            }
        }
    if (getenv("VERBOSE") != NULL)
        printf("busy 1.5 / 1: flat %.3f, texture %.3f\n", sqrt(f15 / f1),
               sqrt(b15 / b1));
    CHECK(f1 > 0 && b1 > 0);
    CHECK(sqrt(f15 / f1) < 1.2);
    CHECK(sqrt(b15 / b1) > 1.3);
    free(img);
    free(d1);
    free(d15);
    free(ref);
}

/* The unmarked crops searched: 1000 (issue 4's count) in the plain
 * build.  Under AddressSanitizer 120: the same code paths (sizes drawn
 * from 128 to 328 px, all scenes), while the 1000 took 8.4 of the
 * sanitized suite's minutes and 250 still 4 (make check runs the plain
 * build as well). */
#if defined(__SANITIZE_ADDRESS__)
#define FP_CROPS 120
#else
#define FP_CROPS 1000
#endif

int main(void)
{
    mark_key *k = NULL, *k2 = NULL;
    mark_payload p;
    uint32_t W = 800, H = 600, i;
    float *orig, *m, *t, *t2;
    double se = 0;
    int seed, found = 0, fp = 0;

    if (mark_ctx_new(&ctx, NULL) != MARK_OK)
        return 99;
    if (mark_key_default(ctx, &k) != MARK_OK ||
        mark_key_generate(ctx, &k2) != MARK_OK)
        return 99;
    test_fft_direct();
    test_fft_real();
    test_work_from_cells();
    test_golden(k);
    mark_payload_from_hex(&p, "0123456789abcdef");
    test_text_cap(k, &p);
    test_white_page(k, &p);
    test_bright_page(k, &p);
    test_planes(k, &p);
    test_busy_gain(k, &p);
    for (seed = 0; seed < 3; seed++) {
        orig = scene(W, H, seed);
        m = malloc(sizeof(float) * W * H);
        memcpy(m, orig, sizeof(float) * W * H);
        CHECK_RC(mark__imgwm_embed(ctx, k, &p, m, W, H, 1.0), MARK_OK);
        for (se = 0, i = 0; i < W * H; i++)
            se += (m[i] - orig[i]) * (m[i] - orig[i]);
        if (getenv("VERBOSE") != NULL)
            printf("seed %d PSNR %.1f dB\n", seed,
                   10 * log10(255.0 * 255 * W * H / se));
        CHECK(10 * log10(255.0 * 255 * W * H / se) >= 40);
        found += detect(k, m, W, H, &p, "marked") == 1;
        t = crop(m, W, 97, 53, 620, 465);
        found += detect(k, t, 620, 465, &p, "crop 60% at 97,53") == 1;
        free(t);
        t = resize(m, W, H, W / 2, H / 2);
        found += detect(k, t, W / 2, H / 2, &p, "resize 0.5") == 1;
        free(t);
        t = resize(m, W, H, W * 3 / 4, H * 3 / 4);
        found += detect(k, t, W * 3 / 4, H * 3 / 4, &p, "resize 0.75") == 1;
        free(t);
        t = resize(m, W, H, W * 3 / 2, H * 3 / 2);
        found += detect(k, t, W * 3 / 2, H * 3 / 2, &p, "resize 1.5") == 1;
        free(t);
        t = resize(m, W, H, W, H * 4 / 5);
        found += detect(k, t, W, H * 4 / 5, &p, "resize 1 x 0.8") == 1;
        free(t);
        t = rotate(m, W, H, 3.0);
        found += detect(k, t, W, H, &p, "rotate 3 deg") == 1;
        free(t);
        t = jpeg(m, W, H, 75);
        found += detect(k, t, W, H, &p, "jpeg 75") == 1;
        free(t);
        t = jpeg(m, W, H, 50);
        found += detect(k, t, W, H, &p, "jpeg 50") == 1;
        free(t);
        t = malloc(sizeof(float) * W * H);
        for (i = 0; i < W * H; i++)
            t[i] = m[i] + (float)(5 * gauss());
        found += detect(k, t, W, H, &p, "noise 5") == 1;
        free(t);
        t = crop(m, W, 203, 11, 560, 480);
        t2 = resize(t, 560, 480, 420, 360);
        free(t);
        t = jpeg(t2, 420, 360, 75);
        found += detect(k, t, 420, 360, &p, "crop+0.75+jpeg75") == 1;
        free(t);
        free(t2);
        /* wrong key, unmarked */
        fp += detect(k2, m, W, H, &p, "wrong key") != 0;
        fp += detect(k, orig, W, H, &p, "unmarked") != 0;
        free(m);
        free(orig);
    }
    /* no detection on FP_CROPS unmarked images and crops: the three scenes
     * and noise, cropped at random places and sizes */
    {
        float *srcs[8];
        uint32_t n;

        for (n = 0; n < 7; n++)
            srcs[n] = scene(W, H, (int)n);
        srcs[7] = malloc(sizeof(float) * W * H);
        for (n = 0; n < W * H; n++)
            srcs[7][n] = (float)(128 + 40 * gauss());
    for (i = 0; i < FP_CROPS; i++) {
        uint32_t cw = 128 + (uint32_t)(uni() * 200), ch = 128 +
                      (uint32_t)(uni() * 150), x0, y0;
        float *src = srcs[i % 8], *c;
        mark__wm_result r;

        x0 = (uint32_t)(uni() * (W - cw));
        y0 = (uint32_t)(uni() * (H - ch));
        c = crop(src, W, x0, y0, cw, ch);
        CHECK_RC(mark__imgwm_detect(ctx, k, c, cw, ch, &r), MARK_OK);
        fp += r.found;
        free(c);
    }
        for (n = 0; n < 8; n++)
            free(srcs[n]);
    }
    printf("found %d of 33, false %d (in %d unmarked and 6 more)\n",
           found, fp, FP_CROPS);
    CHECK(fp == 0);
    CHECK(found == 33);
    mark_key_free(k);
    mark_key_free(k2);
    mark_ctx_free(ctx);
    return h_done("test_imgwm");
}
