/*
 * img_v1.c - the image watermark "img-v1": a keyed, tiled spread-spectrum
 * pattern in luminance, found blind after cropping, rescaling and small
 * rotations.
 *
 * Layout.  The image is covered by tiles of 64 x 64 chips; a chip is a
 * square of c pixels, c = max(3, shortest side / 256), so a tile spans a
 * quarter of the shortest side whatever the resolution (more on images
 * under 768 px); on mostly flat images (half the mask or more at its
 * floor: screenshots, documents, flat graphics, smooth pictures) the
 * floor is 4 px instead of 3, since lossy coders wipe out the finest
 * detail there (WebP 75: 21 -> 28 of the 31 corpus images).  Every chip
 * carries a keyed pilot value (+/-1) and a keyed spreading value times
 * one coded payload bit (354 coded bits over
 * 4096 chips, about 11.6 chips a bit, assigned by a keyed permutation).
 *
 * Embedding (the embedder's choices; the detector does not depend on
 * them).  The amplitude follows a perceptual mask computed at the
 * detector's scale: the local standard deviation, eroded so that the
 * flat side of an edge counts as flat, mapped to 1 to 6 luma levels, and
 * scaled down where the total would cost more than 40.5 dB PSNR.  Then
 * informed embedding: the embedder computes what the detector will fold
 * from the picture itself and raises the chips of the coded bits whose
 * margin the picture eats into (see informed()).
 *
 * Detection.  (1) Work at a resolution where chips are 2 to 4 pixels.
 * (2) Take a normalised high-pass residual (image minus a local mean,
 * over its local magnitude).  (3) Its autocorrelation peaks on the tile
 * lattice: the two lattice vectors found near the axes (within about 10
 * degrees) give the scale, aspect and rotation the image went through;
 * candidates come from two autocorrelations, one with the spectrum's
 * strong lines clipped (clip_spectrum()).
 * (4) Fold the residual over that lattice into a 128 x 128 grid (two bins
 * a chip), averaging every tile there is, and clip the fold's spectral
 * lines (clip_lines()).  (5) Circular correlation of
 * the grid with the pilot gives the offset, i.e. where a crop cut the
 * tiling.  (6) The aligned chips, despread, give soft bits for the
 * Viterbi decoder and the keyed check decides.  At most MAX_TRIES
 * lattices are tried and each is decoded at most three times (the second
 * time with the fold moved onto the chips' edges, the third turned by
 * quarter turns or mirrored: try_turned()), each decode checking up to
 * MARK__LIST paths of the code, each passing the 48-bit check with
 * probability 2^-48 by chance, which bounds the false-positive rate far
 * below 1e-9 per image (4.1e-12).
 *
 * Frozen format (once img-v1 meets its targets): the domains of the
 * keyed streams, the chip size rule, the chip layout and the bit
 * assignment below define img-v1.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "signal.h"

#define G 64                             /* chips per tile side */
#define CHIPS (G * G)
#define CHIP_DIV 256.0                   /* chip = shortest side / this */
#define CHIP_MIN 3.0                     /* ... but at least this, px */
#define CHIP_MIN_FLAT 4.0                /* or this on mostly flat images */
#define FLAT_SHARE 0.5                   /* "mostly": this share of the
                                            mask at its floor */
#define BINS (2 * G)                     /* fold bins per tile side */
#define PILOT_W 0.6f
#define DATA_W 0.8f
#define BASE_AMPLITUDE 2.2f              /* RMS change, luma levels */
#define MAX_WORK 1024                    /* detector's work size cap */

typedef struct pattern {
    float pilot[CHIPS];
    float pn[CHIPS];
    uint16_t bit[CHIPS];                 /* coded bit of each chip */
} pattern;

static void make_pattern(const mark_key *key, pattern *pt)
{
    mark__prng r;
    uint32_t perm[CHIPS], j;

    mark__prng_init(&r, key, "img-v1 pilot");
    for (j = 0; j < CHIPS; j++)
        pt->pilot[j] = (float)mark__prng_sign(&r);
    mark__prng_init(&r, key, "img-v1 spread");
    for (j = 0; j < CHIPS; j++)
        pt->pn[j] = (float)mark__prng_sign(&r);
    mark__prng_init(&r, key, "img-v1 bits");
    mark__prng_permutation(&r, perm, CHIPS);
    for (j = 0; j < CHIPS; j++)
        pt->bit[j] = (uint16_t)(perm[j] % MARK__CODED_BITS);
    mark__prng_wipe(&r);
}

void mark__imgwm_pattern_digest(const mark_key *key, unsigned char out[32])
{
    static pattern pt;
    crypto_generichash_state st;
    uint32_t j;

    make_pattern(key, &pt);
    crypto_generichash_init(&st, NULL, 0, 32);
    for (j = 0; j < CHIPS; j++) {
        unsigned char b[4];

        b[0] = pt.pilot[j] > 0;
        b[1] = pt.pn[j] > 0;
        b[2] = (unsigned char)(pt.bit[j] & 0xff);
        b[3] = (unsigned char)(pt.bit[j] >> 8);
        crypto_generichash_update(&st, b, sizeof b);
    }
    crypto_generichash_final(&st, out, 32);
}

/* Box mean of radius rad of a w x h plane into out (not in place); the
 * box is cut at the edges.  Each output row is the sum of its 2 rad + 1
 * input rows (fewer at the top and bottom), then of 2 rad + 1 columns of
 * that.  Down the columns the sum runs: the row entering the window is
 * added and the one leaving it taken away, and every BOX_RESYNC rows the
 * sum starts afresh, so rounding cannot drift further than a few steps
 * of the float.  Along a row the sums are direct, three columns at a
 * time and then those threes.  Loops the compiler vectorises. */
#define BOX_RESYNC 16

MARK__SIMD
static int box_mean(mark_ctx *ctx, const float *in, uint32_t w, uint32_t h,
                    uint32_t rad, float *out)
{
    uint32_t n = 2 * rad + 1;            /* terms a row */
    float *cs = mark__calloc(ctx, (size_t)w + 2 * rad, sizeof(float));
    float *t3 = mark__malloc(ctx, sizeof(float) * ((size_t)w + 2 * rad));
    float *inv = mark__malloc(ctx, sizeof(float) * (w ? w : 1));
    uint32_t x, y, j, pa = 0, pb = 0;

    if (cs == NULL || t3 == NULL || inv == NULL) {
        mark__free(ctx, cs);
        mark__free(ctx, t3);
        mark__free(ctx, inv);
        return MARK_ENOMEM;
    }
    /* 1 / the columns of each window inside the image */
    for (x = 0; x < w; x++)
        inv[x] = 1.0f / (float)((x + rad < w ? x + rad + 1 : w) -
                                (x > rad ? x - rad : 0));
    for (y = 0; y < h; y++) {
        uint32_t a = y > rad ? y - rad : 0;
        uint32_t b = y + rad + 1 < h ? y + rad + 1 : h;
        float *restrict c = cs + rad;     /* cs[0..rad) and the end: 0 */
        float *restrict o = out + (size_t)y * w;
        float s = 1.0f / (float)(b - a);

        if (y % BOX_RESYNC == 0) {
            /* afresh, three rows a pass */
            memcpy(c, in + (size_t)a * w, sizeof(float) * w);
            for (j = a + 1; j + 3 <= b; j += 3) {
                const float *restrict r0 = in + (size_t)j * w;
                const float *restrict r1 = r0 + w, *restrict r2 = r1 + w;

                for (x = 0; x < w; x++)
                    c[x] = ((c[x] + r0[x]) + r1[x]) + r2[x];
            }
            for (; j < b; j++) {
                const float *restrict r = in + (size_t)j * w;

                for (x = 0; x < w; x++)
                    c[x] += r[x];
            }
        } else if (b > pb && a > pa) {
            const float *restrict ri = in + (size_t)(b - 1) * w;
            const float *restrict ro = in + (size_t)pa * w;

            for (x = 0; x < w; x++)
                c[x] = (c[x] + ri[x]) - ro[x];
        } else if (b > pb) {
            const float *restrict ri = in + (size_t)(b - 1) * w;

            for (x = 0; x < w; x++)
                c[x] += ri[x];
        } else if (a > pa) {
            const float *restrict ro = in + (size_t)pa * w;

            for (x = 0; x < w; x++)
                c[x] -= ro[x];
        }
        pa = a;
        pb = b;
        /* along the row: sums of three neighbours, then of those */
        if (n >= 3) {
            const float *restrict c0 = cs, *restrict c1 = cs + 1;
            const float *restrict c2 = cs + 2;

            for (x = 0; x + 2 < w + 2 * rad; x++)
                t3[x] = (c0[x] + c1[x]) + c2[x];
            memcpy(o, t3, sizeof(float) * w);
            for (j = 3; j + 3 <= n; j += 3) {
                const float *restrict r = t3 + j;

                for (x = 0; x < w; x++)
                    o[x] += r[x];
            }
        } else {
            memcpy(o, cs, sizeof(float) * w);
            j = 1;
        }
        for (; j < n; j++) {
            const float *restrict r = cs + j;

            for (x = 0; x < w; x++)
                o[x] += r[x];
        }
        for (x = 0; x < w; x++)
            o[x] *= inv[x] * s;
    }
    mark__free(ctx, cs);
    mark__free(ctx, t3);
    mark__free(ctx, inv);
    return MARK_OK;
}

/* The chip size: the shortest side / CHIP_DIV, but at least CHIP_MIN,
 * or CHIP_MIN_FLAT on mostly flat images (screenshots, documents, flat
 * graphics), where lossy coders wipe out the finest detail of small
 * chips; busy texture keeps the smaller floor, where the number of
 * tiles counts for more. */
static double chip_size(uint32_t w, uint32_t h, int flat)
{
    double s = (double)(w < h ? w : h) / CHIP_DIV;
    double lo = flat ? CHIP_MIN_FLAT : CHIP_MIN;

    return s < lo ? lo : s;
}

double mark__imgwm_chip_size(uint32_t w, uint32_t h, int flat)
{
    return chip_size(w, h, flat);
}

/* The work scale: chips of about two work pixels or more. */
static uint32_t work_step(double c)
{
    uint32_t d = (uint32_t)((c - 0.01) / 2.0);

    return d < 1 ? 1 : d;
}

/* The work scale the detector takes for a w x h image, from the size
 * alone, not from the chip floor (an image embedded at the floor and then
 * halved has chips of half the floor).  The embedder works at the same
 * scale, since its informed step models the detector; where the two
 * differed (chips of 4 px on flat images worked at half resolution) a
 * sparse white page lost its mark to JPEG 75. */
static uint32_t size_step(uint32_t w, uint32_t h)
{
    uint32_t s = w < h ? w : h, d;
    double cs = (double)s / CHIP_DIV;

    d = work_step(cs < CHIP_MIN / 2 ? CHIP_MIN / 2 : cs);
    /* 1024 to 1026 px a side (what generators write: 1024 x 1024,
     * 1792 x 1024) have chips of 4 px, two work pixels at half
     * resolution as from 1027 px on; worked at full resolution they
     * cost the embedder four times the points (2.5x a re-encode instead
     * of about 1.2x) */
    if (d < 2 && s >= 4 * CHIP_DIV)
        d = 2;
    return d;
}

/* Mean of each d x d block of a plane (row stride w), from block
 * (x0, y0) on, into out (ww x hw), and the mean of the squares into sq
 * (if not NULL). */
MARK__SIMD
static void downsample(const float *in, uint32_t w, uint32_t x0, uint32_t y0,
                       uint32_t d, uint32_t ww, uint32_t hw, float *out,
                       float *sq)
{
    float inv = 1.0f / (float)(d * d);
    uint32_t x, y, u, v;

    for (y = 0; y < hw; y++) {
        float *restrict o = out + (size_t)y * ww;
        float *restrict q = sq != NULL ? sq + (size_t)y * ww : NULL;

        memset(o, 0, sizeof(float) * ww);
        if (q != NULL)
            memset(q, 0, sizeof(float) * ww);
        for (v = 0; v < d; v++) {
            const float *restrict r = in + (size_t)((y0 + y) * d + v) * w +
                                      (size_t)x0 * d;

            if (d == 1) {
                /* the plane itself (images under 1024 px a side) */
                for (x = 0; x < ww; x++)
                    o[x] += r[x];
                if (q != NULL)
                    for (x = 0; x < ww; x++)
                        q[x] += r[x] * r[x];
                continue;
            }
            if (d == 2) {
                for (x = 0; x < ww; x++)
                    o[x] += r[2 * x] + r[2 * x + 1];
                if (q != NULL)
                    for (x = 0; x < ww; x++)
                        q[x] += r[2 * x] * r[2 * x] +
                                r[2 * x + 1] * r[2 * x + 1];
                continue;
            }
            for (x = 0; x < ww; x++) {
                const float *p = r + (size_t)x * d;
                float s = 0, s2 = 0;

                for (u = 0; u < d; u++) {
                    s += p[u];
                    s2 += p[u] * p[u];
                }
                o[x] += s;
                if (q != NULL)
                    q[x] += s2;
            }
        }
        for (x = 0; x < ww; x++)
            o[x] *= inv;
        if (q != NULL)
            for (x = 0; x < ww; x++)
                q[x] *= inv;
    }
}

/* The detector's band-pass: the image (a box of 2 RES_IN + 1 pixels,
 * RES_IN 0: the pixel itself) minus its mean over 2 RES_OUT + 1.  Larger
 * boxes were tried (1 and 3, 0 and 3): better on text screenshots,
 * worse on busy texture, worse overall on the corpus. */
#define RES_IN 0
#define RES_OUT 2

/* The detector's view of a work-scale luma plane lw (ww x hw): the image
 * minus its 5 x 5 local mean, divided by the local mean magnitude of that
 * (plus one) so strong texture does not drown the rest.  res gets the
 * result, norm the divisor; norm may be lw itself, which is read only
 * before norm is written. */
MARK__SIMD
static int residual(mark_ctx *ctx, const float *lw, uint32_t ww,
                    uint32_t hw, float *res, float *norm)
{
    size_t i, n = (size_t)ww * hw;
    float *mean = mark__plane_alloc(ctx, sizeof(float) * n);

    if (mean == NULL || box_mean(ctx, lw, ww, hw, RES_OUT, mean) < 0)
        goto nomem;
    for (i = 0; i < n; i++) {
        res[i] = lw[i] - mean[i];
        mean[i] = fabsf(res[i]);
    }
    if (box_mean(ctx, mean, ww, hw, 4, norm) < 0)
        goto nomem;
    for (i = 0; i < n; i++) {
        norm[i] += 1.0f;
        res[i] /= norm[i];
    }
    mark__plane_free(ctx, mean, sizeof(float) * n);
    return MARK_OK;
nomem:
    mark__plane_free(ctx, mean, sizeof(float) * n);
    return MARK_ENOMEM;
}

/* The share of a box of l pixels, centred on a point of a chip of cw
 * pixels and averaged over the chip, that falls on chips -2..2. */
static void box_share(double cw, int l, float *aw)
{
    int k, q;

    for (k = 0; k < 5; k++)
        aw[k] = 0;
    for (k = 0; k < 16; k++) {
        double t = (k + 0.5) / 16 * cw, lo = t - l / 2.0, hi = t + l / 2.0;

        for (q = -2; q <= 2; q++) {
            double a = q * cw, b = a + cw;
            double o = (hi < b ? hi : b) - (lo > a ? lo : a);

            if (o > 0)
                aw[q + 2] += (float)(o / l / 16);
        }
    }
}

/* The perceptual mask: the amplitude (luma levels) the pattern may have
 * at each pixel.  Activity is the local standard deviation over about a
 * chip, then eroded (the least activity nearby), so that the flat side of
 * an edge counts as flat: no halo of noise around text and outlines.  The
 * amplitude grows with activity between a floor that stays unseen on
 * flat skies and gradients and a ceiling for busy texture; if the total
 * would cost more than the PSNR budget, everything is scaled down. */
#define A_FLAT 1.0f                      /* amplitude on flat areas */
#define A_MAX 6.0f                       /* amplitude in busy texture */
#define A_SLOPE 0.25f                    /* amplitude per level of std */
#define A_RMS_MAX 2.4f                   /* RMS cap: PSNR >= 40.5 dB */

/* The radius of the mask's windows for chips of c work pixels: the mask
 * depends on c through this alone. */
static uint32_t mask_radius(double c)
{
    return c < 1.0 ? 1 : (uint32_t)(c / 2 + 0.5);
}

MARK__SIMD
static int mask_amplitude(mark_ctx *ctx, const float *luma,
                          const float *sq, uint32_t w, uint32_t h, double c,
                          double strength, double busy, float *amp,
                          double *flat)
{
    size_t i, n = (size_t)w * h;
    float *mean = mark__plane_alloc(ctx, sizeof(float) * n);
    uint32_t rad = mask_radius(c), x, y, k;
    float *tmp = mark__malloc(ctx, sizeof(float) * (w + 2 * rad + 2));
    double s2 = 0, scale;
    int rc = MARK_OK;

    *flat = 0;
    if (mean == NULL || tmp == NULL ||
        box_mean(ctx, luma, w, h, rad, mean) < 0 ||
        box_mean(ctx, sq, w, h, rad, amp) < 0) {
        rc = MARK_ENOMEM;
        goto done;
    }
    for (i = 0; i < n; i++) {
        float var = amp[i] - mean[i] * mean[i];

        amp[i] = sqrtf(var > 0.0f ? var : 0.0f);
    }
    /* erosion by a (2 rad + 1)^2 square, separably: along each row
     * (tmp holds the row between two pads that never win), then down the
     * columns into mean */
    for (x = 0; x < rad; x++)
        tmp[x] = tmp[w + rad + x] = FLT_MAX;
    for (y = 0; y < h; y++) {
        float *restrict row = amp + (size_t)y * w;
        const float *restrict t = tmp;

        memcpy(tmp + rad, row, sizeof(float) * w);
        for (k = 0; k <= 2 * rad; k++) {
            const float *restrict r = t + k;

            if (k == rad)
                continue;
            for (x = 0; x < w; x++)
                row[x] = r[x] < row[x] ? r[x] : row[x];
        }
    }
    for (y = 0; y < h; y++) {
        uint32_t a = y > rad ? y - rad : 0;
        uint32_t b = y + rad < h ? y + rad : h - 1;
        float *restrict o = mean + (size_t)y * w;

        memcpy(o, amp + (size_t)a * w, sizeof(float) * w);
        for (k = a + 1; k <= b; k++) {
            const float *restrict r = amp + (size_t)k * w;

            for (x = 0; x < w; x++)
                o[x] = r[x] < o[x] ? r[x] : o[x];
        }
    }
    /* the amplitude, the share at the floor and the energy (per row, in
     * float lanes the compiler can keep in vector registers) */
    for (y = 0; y < h; y++) {
        const float *restrict m = mean + (size_t)y * w;
        float *restrict o = amp + (size_t)y * w;
        float lane[8] = { 0, 0, 0, 0, 0, 0, 0, 0 };
        uint32_t nf = 0;

        for (x = 0; x < w; x++) {
            float a = A_SLOPE * m[x];

            nf += a <= A_FLAT;
            a = a < A_FLAT ? A_FLAT : a;
            a = a > A_MAX ? A_MAX : a;
            o[x] = a;
        }
        if (busy != 1.0)
            for (x = 0; x < w; x++)
                o[x] = A_FLAT + (o[x] - A_FLAT) * (float)busy;
        for (x = 0; x + 8 <= w; x += 8) {
            const float *o8 = o + x;     /* see energy_sums() */

            for (k = 0; k < 8; k++)
                lane[k] += o8[k] * o8[k];
        }
        for (; x < w; x++)
            lane[0] += o[x] * o[x];
        for (k = 0; k < 8; k++)
            s2 += lane[k];
        *flat += nf;
    }
    *flat /= (double)(n ? n : 1);
    scale = sqrt(s2 / (double)n);
    scale = scale > A_RMS_MAX * busy ? A_RMS_MAX * busy / scale : 1.0;
    scale *= strength;
    for (i = 0; i < n; i++)
        amp[i] = (float)(amp[i] * scale);
done:
    mark__plane_free(ctx, mean, sizeof(float) * n);
    mark__free(ctx, tmp);
    return rc;
}

/* Informed embedding.  The detector folds the normalised residual of all
 * tiles and despreads each coded bit over its chips; the picture itself
 * adds to those sums, and on busy or text-heavy images that host term
 * can outweigh the mark.  Here the embedder computes what the detector
 * will see (the host's fold at the true tiling, and a linear model of
 * how each chip of the pattern comes through the detector's high-pass
 * and normalisation) and raises the chips of every bit whose margin
 * falls short, so that the mark wins on the unattacked image with room
 * to spare.  Only the embedder's choice of chip values changes; the
 * format the detector reads is the same.
 *
 * A second view is modelled on mostly white images (screenshots,
 * documents: four fifths of the picture near white): the picture
 * brightened by 20%.  That clips every level above 212 to white, and
 * with it the pattern there, so what the detector sees is the darker
 * part alone (text, bars, coloured panels) against the host's own
 * structure, which the white areas no longer dilute.  Bits short of their
 * margin in either view are raised.  The model reads luma only: a
 * coloured pixel whose channels do not all clip keeps part of the
 * pattern the model counts as lost. */
#define INF_ITER 8
#define TAU_GAIN 1.3f                    /* target margin, x the nominal
                                            (1.0 and 1.5 measured worse) */
#define INF_BOOST_MAX 2.0f               /* extra chip value per bit, max */
#define INF_RMS_MAX 1.15f                /* chip values' RMS after it */
#define BRIGHT_GAIN 1.2f                 /* the brightened view's gain */
#define BRIGHT_LEVEL 205.0f              /* "white": luma from this ... */
#define BRIGHT_SHARE 0.8                 /* ... on this share or more of
                                            the work pixels: both views
                                            (from half, a drawing 67%
                                            white lost a crop chain) */
#define TAU_BRIGHT 1.0f                  /* target margin there, x the
                                            nominal (0.7 to 1.5 alike) */

/* The host's fold hj and each chip's gain rho (the pattern's amplitude
 * mw over the detector's normalisation, averaged over the chip) for the
 * work-scale picture lw as the detector sees it after the tone change
 * y = g l, clipped at 255 (g 1: as embedded).  Where g (l + mw) clips,
 * the pattern is gone.  The brightened view keeps the geometry, so there
 * the detector reads the central MAX_WORK square only, and so does the
 * model. */
MARK__SIMD
static int host_fold(mark_ctx *ctx, const float *lw, const float *mw,
                     uint32_t ww, uint32_t hw, double cw, float g,
                     float *hj, float *rho)
{
    uint32_t x, y, j, k, x0 = 0, x1 = ww, y0 = 0, y1 = hw;
    size_t i, n = (size_t)ww * hw;
    double bx = cw / 2.0;
    float *res = mark__plane_alloc(ctx, sizeof(float) * n);
    float *norm = mark__plane_alloc(ctx, sizeof(float) * n);
    double *hb = mark__calloc(ctx, 3 * BINS * BINS, sizeof(double));
    uint32_t *colbin = mark__malloc(ctx, sizeof(uint32_t) * (ww + 1));
    float *acc = mark__plane_alloc(ctx, sizeof(float) * 2 * BINS * ww);
    float rb[3 * BINS];                  /* a row's bins; counts last */
    uint32_t rows[BINS];                 /* rows in each row bin */
    int rc = MARK_OK;

    memset(rows, 0, sizeof rows);
    if (!res || !norm || !hb || !colbin || !acc) {
        rc = MARK_ENOMEM;
        goto done;
    }
    if (g != 1.0f) {
        for (i = 0; i < n; i++) {
            float v = g * lw[i];

            norm[i] = v > 255.0f ? 255.0f : v;
        }
        if (ww > MAX_WORK) {
            x0 = (ww - MAX_WORK) / 2;
            x1 = x0 + MAX_WORK;
        }
        if (hw > MAX_WORK) {
            y0 = (hw - MAX_WORK) / 2;
            y1 = y0 + MAX_WORK;
        }
    }
    if (residual(ctx, g != 1.0f ? norm : lw, ww, hw, res, norm) < 0) {
        rc = MARK_ENOMEM;
        goto done;
    }
    /* fold as the detector does, at offset zero: first the rows of each
     * row bin summed (whole rows, in float: a handful each), then each of
     * those into the column bins; the per-pixel work is then vector adds,
     * and the scatter into bins runs once a row bin, not once a row */
    memset(rb, 0, sizeof rb);
    for (x = 0; x < ww; x++)
        colbin[x] = (uint32_t)fmod(x / bx, BINS);
    for (x = x0; x < x1; x++)
        rb[2 * BINS + colbin[x]] += 1;
    memset(acc, 0, sizeof(float) * 2 * BINS * ww);
    for (y = y0; y < y1; y++) {
        uint32_t yb = (uint32_t)fmod(y / bx, BINS);
        const float *restrict r = res + (size_t)y * ww;
        const float *restrict m = mw + (size_t)y * ww;
        const float *restrict l = lw + (size_t)y * ww;
        const float *restrict nr = norm + (size_t)y * ww;
        float *restrict ar = acc + (size_t)yb * ww;
        float *restrict am = acc + (size_t)(BINS + yb) * ww;

        if (g == 1.0f)
            for (x = x0; x < x1; x++) {
                ar[x] += r[x];
                am[x] += m[x] / nr[x];
            }
        else
            for (x = x0; x < x1; x++) {
                /* the share of the pattern's range g (l -+ m) below
                 * white, times g */
                float lo = g * (l[x] - m[x]), hi = g * (l[x] + m[x]);
                float sv = hi <= 255.0f ? g : lo >= 255.0f ? 0.0f :
                           g * (255.0f - lo) / (hi - lo);

                ar[x] += r[x];
                am[x] += sv * m[x] / nr[x];
            }
        rows[yb]++;
    }
    for (k = 0; k < BINS; k++) {
        const float *ar = acc + (size_t)k * ww;
        const float *am = acc + (size_t)(BINS + k) * ww;
        double *h0 = hb + (size_t)k * BINS;

        memset(rb, 0, sizeof(float) * 2 * BINS);
        for (x = x0; x < x1; x++) {
            rb[colbin[x]] += ar[x];
            rb[BINS + colbin[x]] += am[x];
        }
        for (j = 0; j < BINS; j++) {
            h0[j] = rb[j];
            h0[BINS * BINS + j] = rb[BINS + j];
            h0[2 * BINS * BINS + j] = (double)rb[2 * BINS + j] * rows[k];
        }
    }
    for (j = 0; j < CHIPS; j++) {
        uint32_t cy = j / G, cx = j % G, a = 2 * cy, b = 2 * cx;
        double hs = 0, rs = 0;

        for (k = 0; k < 4; k++) {
            size_t q = (size_t)(a + k / 2) * BINS + b + k % 2;
            double cn = hb[2 * BINS * BINS + q];

            if (cn > 0) {
                hs += hb[q] / cn;
                rs += hb[BINS * BINS + q] / cn;
            }
        }
        hj[j] = (float)hs;
        rho[j] = (float)rs;
    }
done:
    mark__plane_free(ctx, res, sizeof(float) * n);
    mark__plane_free(ctx, norm, sizeof(float) * n);
    mark__free(ctx, hb);
    mark__free(ctx, colbin);
    mark__plane_free(ctx, acc, sizeof(float) * 2 * BINS * ww);
    return rc;
}

MARK__SIMD
static int informed(mark_ctx *ctx, const pattern *pt,
                    const unsigned char *code, const float *lw,
                    const float *mw,
                    uint32_t ww, uint32_t hw, double cw, float *chipv)
{
    uint32_t x, y, j, k;
    size_t i, n = (size_t)ww * hw, nb = 0;
    float *hj = mark__malloc(ctx, sizeof(float) * 6 * CHIPS);
    float *hv[2], *rho[2], *f, *boost;
    float ai[5], ao[5], kern[5][5];
    float soft[MARK__CODED_BITS], gainb[2][MARK__CODED_BITS];
    float need[MARK__CODED_BITS];
    float wrap[G + 4][G + 4];            /* rho chipv, wrapped by 2 */
    double tau[2] = { 0, 0 }, rms = 0;
    int rc = MARK_OK, it, dy, dx, v, views = 1;

    if (hj == NULL)
        return MARK_ENOMEM;
    hv[0] = hj;
    rho[0] = hj + CHIPS;
    hv[1] = hj + 2 * CHIPS;
    rho[1] = hj + 3 * CHIPS;
    f = hj + 4 * CHIPS;
    boost = hj + 5 * CHIPS;
    for (i = 0; i < n; i++)
        nb += lw[i] >= BRIGHT_LEVEL;
    if ((double)nb >= BRIGHT_SHARE * (double)n)
        views = 2;
    for (v = 0; v < views; v++)
        if (host_fold(ctx, lw, mw, ww, hw, cw, v ? BRIGHT_GAIN : 1.0f,
                      hv[v], rho[v]) < 0) {
            rc = MARK_ENOMEM;
            goto done;
        }
    for (j = 0; j < CHIPS; j++)
        boost[j] = 0;
    /* how the detector's band-pass spreads over chips of cw work pixels */
    box_share(cw, 2 * RES_IN + 1, ai);
    box_share(cw, 2 * RES_OUT + 1, ao);
    for (dy = 0; dy < 5; dy++)
        for (dx = 0; dx < 5; dx++)
            kern[dy][dx] = ai[dy] * ai[dx] - ao[dy] * ao[dx];
    memset(gainb, 0, sizeof gainb);
    for (v = 0; v < views; v++)
        for (j = 0; j < CHIPS; j++)
            gainb[v][pt->bit[j]] += rho[v][j] * kern[2][2];
    for (it = 0; it <= INF_ITER; it++) {
        memset(need, 0, sizeof need);
        for (v = 0; v < views; v++) {
            const float *rh = rho[v], *hs = hv[v];

            /* the detector's chip sums under the model: the 5 x 5
             * kernel over rho chipv, the tile wrapping round (a copy with
             * a border of two chips, so the sums run along whole rows) */
            for (y = 0; y < G + 4; y++)
                for (x = 0; x < G + 4; x++) {
                    uint32_t q = ((y + G - 2) % G) * G + (x + G - 2) % G;

                    wrap[y][x] = rh[q] * chipv[q];
                }
            for (y = 0; y < G; y++) {
                float *restrict fr = f + (size_t)y * G;

                for (x = 0; x < G; x++)
                    fr[x] = 0;
                for (dy = 0; dy < 5; dy++)
                    for (dx = 0; dx < 5; dx++) {
                        const float *restrict wr =
                            &wrap[y + (uint32_t)dy][dx];
                        float kv = kern[dy][dx];

                        for (x = 0; x < G; x++)
                            fr[x] += kv * wr[x];
                    }
            }
            memset(soft, 0, sizeof soft);
            for (j = 0; j < CHIPS; j++) {
                float sg = code[pt->bit[j]] ? 1.0f : -1.0f;

                soft[pt->bit[j]] += sg * pt->pn[j] *
                                    (f[j] + (it ? hs[j] : 0));
            }
            if (it == 0) {
                /* the margin each bit would have on a featureless
                 * image, and the target: a little more, for what
                 * attacks take away */
                for (k = 0; k < MARK__CODED_BITS; k++)
                    tau[v] += soft[k];
                tau[v] *= (v ? TAU_BRIGHT : TAU_GAIN) / MARK__CODED_BITS;
                continue;
            }
            for (k = 0; k < MARK__CODED_BITS; k++)
                if (soft[k] < tau[v] && gainb[v][k] > 0) {
                    float add = (float)((tau[v] - soft[k]) / gainb[v][k]);

                    need[k] = add > need[k] ? add : need[k];
                }
        }
        if (it == 0)
            continue;
        for (j = 0; j < CHIPS; j++) {
            float add = need[pt->bit[j]];
            float sg = code[pt->bit[j]] ? 1.0f : -1.0f;

            if (add <= 0)
                continue;
            if (boost[j] + add > INF_BOOST_MAX)
                add = INF_BOOST_MAX - boost[j];
            boost[j] += add;
            chipv[j] += sg * pt->pn[j] * add;
        }
    }
    /* back within the RMS cap; with two views the data part alone, the
     * pilot kept whole (the brightened view's sync is weak already: cut
     * with the rest, a diagram lost its brightness detection) */
    for (j = 0; j < CHIPS; j++) {
        float c = chipv[j] - (views > 1 ? PILOT_W * pt->pilot[j] : 0.0f);

        rms += (double)c * c;
    }
    rms = sqrt(rms / CHIPS);
    {
        double cap = views > 1 ? sqrt(INF_RMS_MAX * INF_RMS_MAX -
                                      PILOT_W * PILOT_W)
                               : INF_RMS_MAX;

        if (rms > cap)
            for (j = 0; j < CHIPS; j++) {
                float p = views > 1 ? PILOT_W * pt->pilot[j] : 0.0f;

                chipv[j] = p + (chipv[j] - p) * (float)(cap / rms);
            }
    }
done:
    mark__free(ctx, hj);
    return rc;
}

/* Room for the pattern at the ends of the range: near white (or black)
 * the pattern is moved down (up) by the part of its amplitude a that
 * would clip, so the whole pattern survives on white backgrounds.  The
 * shift follows the picture's own levels, so over a flat white area it
 * is a constant the detector's high-pass does not see. */
static MARK__INLINE float headroom(float l, float a)
{
    float hi = l + a - 255.0f, lo = a - l;

    return (hi > 0.0f ? -hi : 0.0f) + (lo > 0.0f ? lo : 0.0f);
}

/* The change for one row of levels row: av holds a cv, the amplitude
 * times the chip value, am the amplitude a, for every column; the chip
 * values are scaled by k, the headroom added and the result kept within
 * 0..255.  out may be row. */
static MARK__INLINE void delta_row(const float *row, const float *av,
                                   const float *am, uint32_t w, float k,
                                   float *out)
{
    uint32_t x;

    for (x = 0; x < w; x++) {
        float l = row[x];
        float o = l + k * av[x] + headroom(l, am[x]);

        o = o < 0.0f ? 0.0f : o;
        o = o > 255.0f ? 255.0f : o;
        out[x] = o - l;
    }
}

/* For the RMS cap, over a work plane of levels l (mean squares q) and
 * amplitudes a: the energy of the amplitude, the headroom's cross term
 * with it and the headroom's own (per row in float lanes, then in
 * double).  A work pixel of d x d pixels stands for levels spread around
 * its mean (standard deviation s from q): the headroom is taken as the
 * mean of its values at l - s and l + s (within 0..255), since text's
 * dark and light pixels need more of it than their grey mean (at full
 * scale s is 0).  Without q (sq NULL), s is 0: each work pixel at its
 * mean level. */
static MARK__INLINE float spread(float l, float q)
{
    float v = q - l * l;

    return sqrtf(v > 0.0f ? v : 0.0f);
}

#define ENERGY_RUN 256                   /* work pixels a spread run */

MARK__SIMD
static void energy_sums(const float *lw, const float *sq, const float *amp,
                        uint32_t ww, uint32_t hw, double sums[3])
{
    uint32_t x, y, j;

    for (y = 0; y < hw; y++) {
        const float *l = lw + (size_t)y * ww, *a = amp + (size_t)y * ww;
        const float *q = sq != NULL ? sq + (size_t)y * ww : NULL;
        float s[3][8];                   /* per row, in lanes */
        float sd[ENERGY_RUN];

        memset(s, 0, sizeof s);
        for (x = 0; x < ww;) {
            uint32_t n = ww - x < ENERGY_RUN ? ww - x : ENERGY_RUN, e;

            /* the spreads of a run first (a loop that vectorises) */
            if (q != NULL)
                for (j = 0; j < n; j++)
                    sd[j] = spread(l[x + j], q[x + j]);
            else
                memset(sd, 0, sizeof(float) * n);
            for (e = 0; e + 8 <= n; e += 8, x += 8) {
                /* pointers to the eight, not indices x + j: with a
                 * 32-bit index that might wrap, GCC kept the lanes in
                 * memory */
                const float *l8 = l + x, *a8 = a + x, *s8 = sd + e;

                for (j = 0; j < 8; j++) {
                    float lo = l8[j] - s8[j], hi = l8[j] + s8[j], h1, h2;

                    lo = lo > 0.0f ? lo : 0.0f;
                    hi = hi < 255.0f ? hi : 255.0f;
                    h1 = headroom(lo, a8[j]);
                    h2 = headroom(hi, a8[j]);
                    s[0][j] += a8[j] * a8[j];
                    s[1][j] += 0.5f * (a8[j] * h1 + a8[j] * h2);
                    s[2][j] += 0.5f * (h1 * h1 + h2 * h2);
                }
            }
            for (; e < n; e++, x++) {
                float lo = l[x] - sd[e], hi = l[x] + sd[e], h1, h2;

                lo = lo > 0.0f ? lo : 0.0f;
                hi = hi < 255.0f ? hi : 255.0f;
                h1 = headroom(lo, a[x]);
                h2 = headroom(hi, a[x]);
                s[0][0] += a[x] * a[x];
                s[1][0] += 0.5f * (a[x] * h1 + a[x] * h2);
                s[2][0] += 0.5f * (h1 * h1 + h2 * h2);
            }
        }
        for (j = 0; j < 8; j++) {
            sums[0] += s[0][j];
            sums[1] += s[1][j];
            sums[2] += s[2][j];
        }
    }
}

struct mark__imgwm_plan {
    uint32_t w, h;                       /* image size */
    uint32_t d, ww, hw;                  /* work scale and its plane */
    double c;                            /* chip size, px */
    float k;                             /* chip value scale (RMS cap) */
    float *amp;                          /* ww x hw amplitude */
    float chipv[CHIPS];                  /* chip values, informed */
};

uint32_t mark__imgwm_work_step(uint32_t w, uint32_t h)
{
    return size_step(w, h);
}

void mark__imgwm_plan_free(mark_ctx *ctx, mark__imgwm_plan *pl)
{
    if (pl == NULL)
        return;
    mark__plane_free(ctx, pl->amp, sizeof(float) * pl->ww * pl->hw);
    mark__free(ctx, pl);
}

int mark__imgwm_plan_new(mark_ctx *ctx, const mark_key *key,
                         const mark_payload *p, uint32_t w, uint32_t h,
                         double strength, double busy, int spread,
                         const float *lw, const float *sq,
                         mark__imgwm_plan **out)
{
    unsigned char code[MARK__CODED_BITS];
    pattern *pt = NULL;
    mark__imgwm_plan *pl = NULL;
    double c = chip_size(w, h, 0), sums[3] = { 0, 0, 0 }, flat;
    double cap = A_RMS_MAX * strength * busy, k = 1.0;
    uint32_t d = size_step(w, h), ww = w / d, hw = h / d, j;
    float *chipv;
    int rc = MARK_OK;

    *out = NULL;
    if (w < MARK__IMGWM_MIN_SIDE || h < MARK__IMGWM_MIN_SIDE)
        return mark__err(ctx, MARK_EINVAL, "image smaller than %d pixels "
                         "a side: no watermark", MARK__IMGWM_MIN_SIDE);
    pt = mark__malloc(ctx, sizeof *pt);
    pl = mark__calloc(ctx, 1, sizeof *pl);
    if (pl != NULL) {
        pl->ww = ww;
        pl->hw = hw;
        pl->amp = mark__plane_alloc(ctx, sizeof(float) * ww * hw);
    }
    if (pt == NULL || pl == NULL || pl->amp == NULL) {
        rc = mark__err(ctx, MARK_ENOMEM, "out of memory");
        goto done;
    }
    chipv = pl->chipv;
    make_pattern(key, pt);
    mark__encode_payload(key, p, code);
    for (j = 0; j < CHIPS; j++)
        chipv[j] = PILOT_W * pt->pilot[j] +
                   DATA_W * pt->pn[j] * (code[pt->bit[j]] ? 1.0f : -1.0f);
    /* the mask and the informed step work at the detector's scale
     * (chips of two to four pixels): a quarter of the work or less on
     * large images, and the mask is smooth at that scale anyway (its
     * variance, from the mean squares in sq, still counts the detail the
     * downsampling averages away) */
    for (;;) {
        if (mask_amplitude(ctx, lw, sq, ww, hw, c / d, strength, busy,
                           pl->amp, &flat) < 0) {
            rc = mark__err(ctx, MARK_ENOMEM, "out of memory");
            goto done;
        }
        if (flat < FLAT_SHARE || c >= chip_size(w, h, 1))
            break;
        /* a mostly flat image: the coarser chips, with the mask made
         * again only if its windows differ (with the present constants
         * they never do: the two sizes differ only under 1024 px a side,
         * where both give a radius of 2; the mask was made twice there) */
        if (mask_radius(chip_size(w, h, 1) / d) == mask_radius(c / d)) {
            c = chip_size(w, h, 1);
            break;
        }
        c = chip_size(w, h, 1);
    }
    /* for the RMS cap, at the work scale */
    energy_sums(lw, spread ? sq : NULL, pl->amp, ww, hw, sums);
    if (informed(ctx, pt, code, lw, pl->amp, ww, hw, c / d, chipv) < 0) {
        rc = mark__err(ctx, MARK_ENOMEM, "out of memory");
        goto done;
    }
    /* the informed step may have raised the energy: back within the
     * PSNR budget (strength scales the budget) by scaling the chip
     * values by k, the largest with k^2 s_aa + 2 k s_ah + s_hh <= cap^2 n
     * (sums over the work pixels, each d^2 pixels; chip values enter
     * through their mean square, and their mean, close to 0, in the
     * cross term) */
    {
        double e2 = 0, m1 = 0, sa, sh, hh, nw = (double)ww * hw;

        for (j = 0; j < CHIPS; j++) {
            e2 += (double)chipv[j] * chipv[j];
            m1 += chipv[j];
        }
        e2 /= CHIPS;
        m1 /= CHIPS;
        sa = sums[0] * e2 / nw;
        sh = sums[1] * m1 / nw;
        hh = sums[2] / nw;
        cap *= cap;
        if (sa > 0 && sa + 2 * sh + hh > cap) {
            double b = sh / sa, q = (hh - cap) / sa;

            k = b * b - q > 0 ? -b + sqrt(b * b - q) : 0;
            if (k < 0)
                k = 0;
        }
    }
    pl->w = w;
    pl->h = h;
    pl->d = d;
    pl->ww = ww;
    pl->hw = hw;
    pl->c = c;
    pl->k = (float)k;
    *out = pl;
    pl = NULL;
done:
    mark__free(ctx, pt);
    mark__imgwm_plan_free(ctx, pl);
    return rc;
}

/* The amplitude and the amplitude times the chip value of every column
 * of a row: xchip gives each column's chip column, xa its work column. */
static MARK__INLINE void row_pattern(const mark__imgwm_plan *pl,
                                     uint32_t chip_row, uint32_t work_row,
                                     const uint8_t *xchip, const uint32_t *xa,
                                     uint32_t n, float *av, float *am)
{
    const float *cv = pl->chipv + chip_row * G;
    const float *ar = pl->amp + (size_t)work_row * pl->ww;
    uint32_t x;

    for (x = 0; x < n; x++) {
        am[x] = ar[xa[x]];
        av[x] = am[x] * cv[xchip[x]];
    }
}

/* The change on a grid of n x m points, each standing for s x s pixels
 * (s = 1: the pixels themselves), with levels lv there (n x m); delta
 * (n x m, may be lv) gets the change. */
MARK__SIMD
static int plan_grid(mark_ctx *ctx, const mark__imgwm_plan *pl,
                     const float *lv, uint32_t n, uint32_t m, uint32_t s,
                     float *delta)
{
    uint8_t *xchip = mark__malloc(ctx, n);
    uint32_t *xa = mark__malloc(ctx, sizeof(uint32_t) * n);
    float *av = mark__malloc(ctx, sizeof(float) * n);
    float *am = mark__malloc(ctx, sizeof(float) * n);
    uint32_t last = UINT32_MAX, x, y;
    double half = (s - 1) / 2.0;         /* a point's centre, px */

    if (xchip == NULL || xa == NULL || av == NULL || am == NULL) {
        mark__free(ctx, xchip);
        mark__free(ctx, xa);
        mark__free(ctx, av);
        mark__free(ctx, am);
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    }
    /* the chip column and work column of every point column, once */
    for (x = 0; x < n; x++) {
        double px = x * (double)s + half;
        uint32_t wx = (uint32_t)(px / pl->d);

        xchip[x] = (uint8_t)((uint32_t)(px / pl->c) % G);
        xa[x] = wx < pl->ww ? wx : pl->ww - 1;
    }
    /* rows with the same chip row and work row share av and am */
    for (y = 0; y < m; y++) {
        double py = y * (double)s + half;
        uint32_t cy = (uint32_t)(py / pl->c) % G;
        uint32_t wy = (uint32_t)(py / pl->d);
        uint32_t key2;

        wy = wy < pl->hw ? wy : pl->hw - 1;
        key2 = cy * 65536u + wy;
        if (key2 != last)
            row_pattern(pl, cy, wy, xchip, xa, n, av, am);
        last = key2;
        delta_row(lv + (size_t)y * n, av, am, n, pl->k,
                  delta + (size_t)y * n);
    }
    mark__free(ctx, xchip);
    mark__free(ctx, xa);
    mark__free(ctx, av);
    mark__free(ctx, am);
    return MARK_OK;
}

int mark__imgwm_plan_delta(mark_ctx *ctx, const mark__imgwm_plan *pl,
                           const float *luma, float *delta)
{
    return plan_grid(ctx, pl, luma, pl->w, pl->h, 1, delta);
}

int mark__imgwm_plan_delta2(mark_ctx *ctx, const mark__imgwm_plan *pl,
                            const float *l2, float *delta2)
{
    return plan_grid(ctx, pl, l2, (pl->w + 1) / 2, (pl->h + 1) / 2, 2,
                     delta2);
}

/* The work-scale planes from planes of 2 x 2 cell means (v2) and mean
 * squares (s2), w2 x h2: the area mean of each d x d block (d / 2 cells
 * a side, so with d odd a cell can fall in two blocks).  Block i covers
 * cells [i d / 2, (i + 1) d / 2): at most m = d / 2 + 2 of them, whose
 * first and weights (m a block) are set here. */
static void area_weights(uint32_t n, uint32_t d, uint32_t n2,
                         uint32_t *first, uint32_t *cnt, float *wt)
{
    uint32_t i, m = d / 2 + 2;

    for (i = 0; i < n; i++) {
        double lo = i * d / 2.0, hi = (i + 1) * d / 2.0;
        uint32_t a = (uint32_t)lo, k = 0;

        first[i] = a;
        while (a + k < n2 && a + k < hi && k < m) {
            double l = a + k > lo ? a + k : lo;
            double r = a + k + 1 < hi ? a + k + 1 : hi;

            wt[(size_t)i * m + k] = (float)((r - l) * 2.0 / d);
            k++;
        }
        cnt[i] = k;
    }
}

int mark__imgwm_work_from_cells(mark_ctx *ctx, const float *v2,
                                const float *s2, uint32_t w, uint32_t h,
                                float *lw, float *sq)
{
    uint32_t d = size_step(w, h), ww = w / d, hw = h / d, m = d / 2 + 2;
    uint32_t w2 = (w + 1) / 2, h2 = (h + 1) / 2, x, y, k, j;
    uint32_t *xf = mark__malloc(ctx, sizeof(uint32_t) * (ww + hw));
    uint32_t *xn = mark__malloc(ctx, sizeof(uint32_t) * (ww + hw));
    float *xw = mark__malloc(ctx, sizeof(float) * m * (ww + hw));
    float *t1 = mark__malloc(ctx, sizeof(float) * w2);
    float *t2 = mark__malloc(ctx, sizeof(float) * w2);
    uint32_t *yf, *yn;
    float *yw;

    if (xf == NULL || xn == NULL || xw == NULL || t1 == NULL || t2 == NULL) {
        mark__free(ctx, xf);
        mark__free(ctx, xn);
        mark__free(ctx, xw);
        mark__free(ctx, t1);
        mark__free(ctx, t2);
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    }
    yf = xf + ww;
    yn = xn + ww;
    yw = xw + (size_t)m * ww;
    area_weights(ww, d, w2, xf, xn, xw);
    area_weights(hw, d, h2, yf, yn, yw);
    for (y = 0; y < hw && d == 2; y++) {
        /* one cell per block */
        memcpy(lw + (size_t)y * ww, v2 + (size_t)y * w2, sizeof(float) * ww);
        memcpy(sq + (size_t)y * ww, s2 + (size_t)y * w2, sizeof(float) * ww);
    }
    for (y = 0; y < hw && d != 2; y++) {
        /* down the columns: the block row's weighted cell rows */
        for (x = 0; x < w2; x++) {
            t1[x] = 0;
            t2[x] = 0;
        }
        for (k = 0; k < yn[y]; k++) {
            const float *r1 = v2 + (size_t)(yf[y] + k) * w2;
            const float *r2 = s2 + (size_t)(yf[y] + k) * w2;
            float g = yw[(size_t)y * m + k];

            for (x = 0; x < w2; x++) {
                t1[x] += g * r1[x];
                t2[x] += g * r2[x];
            }
        }
        /* then across */
        for (x = 0; x < ww; x++) {
            const float *g = xw + (size_t)x * m;
            float a = 0, b = 0;

            for (j = 0; j < xn[x]; j++) {
                a += g[j] * t1[xf[x] + j];
                b += g[j] * t2[xf[x] + j];
            }
            lw[(size_t)y * ww + x] = a;
            sq[(size_t)y * ww + x] = b;
        }
    }
    mark__free(ctx, xf);
    mark__free(ctx, xn);
    mark__free(ctx, xw);
    mark__free(ctx, t1);
    mark__free(ctx, t2);
    return MARK_OK;
}

int mark__imgwm_plan_from_luma(mark_ctx *ctx, const mark_key *key,
                                const mark_payload *p, const float *luma,
                                uint32_t w, uint32_t h, double strength,
                                double busy, mark__imgwm_plan **out)
{
    uint32_t d = size_step(w, h), ww = w / d, hw = h / d;
    float *lw, *sq;
    int rc;

    *out = NULL;
    if (w < MARK__IMGWM_MIN_SIDE || h < MARK__IMGWM_MIN_SIDE)
        return mark__err(ctx, MARK_EINVAL, "image smaller than %d pixels "
                         "a side: no watermark", MARK__IMGWM_MIN_SIDE);
    /* at full scale (images under 1024 px a side) the plane itself is
     * the work plane: only the squares are made */
    lw = d == 1 ? NULL : mark__plane_alloc(ctx, sizeof(float) * ww * hw);
    sq = mark__plane_alloc(ctx, sizeof(float) * ww * hw);
    if ((d != 1 && lw == NULL) || sq == NULL) {
        rc = mark__err(ctx, MARK_ENOMEM, "out of memory");
    } else if (d == 1) {
        size_t i, n = (size_t)w * h;

        for (i = 0; i < n; i++)
            sq[i] = luma[i] * luma[i];
        rc = mark__imgwm_plan_new(ctx, key, p, w, h, strength, busy, 1,
                                  luma, sq, out);
    } else {
        downsample(luma, w, 0, 0, d, ww, hw, lw, sq);
        rc = mark__imgwm_plan_new(ctx, key, p, w, h, strength, busy, 1, lw,
                                  sq, out);
    }
    mark__plane_free(ctx, lw, sizeof(float) * ww * hw);
    mark__plane_free(ctx, sq, sizeof(float) * ww * hw);
    return rc;
}

int mark__imgwm_delta(mark_ctx *ctx, const mark_key *key,
                      const mark_payload *p, const float *luma, uint32_t w,
                      uint32_t h, double strength, float *delta)
{
    mark__imgwm_plan *pl = NULL;
    /* at the work scale the detector will take for an image of this size
     * (the informed step models it) */
    int rc = mark__imgwm_plan_from_luma(ctx, key, p, luma, w, h, strength,
                                        1.0, &pl);

    if (rc == MARK_OK)
        rc = mark__imgwm_plan_delta(ctx, pl, luma, delta);
    mark__imgwm_plan_free(ctx, pl);
    return rc;
}

int mark__imgwm_embed(mark_ctx *ctx, const mark_key *key,
                      const mark_payload *p, float *luma, uint32_t w,
                      uint32_t h, double strength)
{
    size_t i, n = (size_t)w * h;
    float *delta = mark__plane_alloc(ctx, sizeof(float) * (n ? n : 1));
    int rc;

    if (delta == NULL)
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    rc = mark__imgwm_delta(ctx, key, p, luma, w, h, strength, delta);
    if (rc == MARK_OK)
        for (i = 0; i < n; i++)
            luma[i] += delta[i];
    mark__plane_free(ctx, delta, sizeof(float) * (n ? n : 1));
    return rc;
}

/* ------------------------------------------------------------------ */
/* Detection                                                           */

static size_t pow2_at_least(size_t n)
{
    size_t p = 1;

    while (p < n)
        p <<= 1;
    return p;
}

#define PEAKS 6                          /* lattice vector candidates an
                                            axis */
#define MAX_TRIES 24                     /* lattices tried, each decoded
                                            at most three times; the false-
                                            positive bound in
                                            core/report.c counts them */
#define SQUARE_TRIES 18                  /* of them square completions */
#define AC_CLIP 4.0f                     /* residual spectrum cap / median */
#define LINE_CLIP 2.0f                   /* fold spectrum cap / median */
#define TILT 0.18                        /* search +-10 degrees */

typedef struct cand {
    double x, y;                         /* lattice vector, work pixels */
    double z;                            /* its peak over the noise */
} cand;

/* Whether lattice v is within half a pixel of one of the n in seen. */
static int lattice_seen(double (*seen)[4], int n, const double *v)
{
    int i, k;

    for (i = 0; i < n; i++) {
        for (k = 0; k < 4 && fabs(seen[i][k] - v[k]) < 0.5; k++)
            ;
        if (k == 4)
            return 1;
    }
    return 0;
}

/* The autocorrelation at lag (lx, ly), lags wrapping around. */
static float ac_at(const float *ac, size_t fw, size_t fh, long lx, long ly)
{
    long y = ly % (long)fh, x = lx % (long)fw;

    y += y < 0 ? (long)fh : 0;
    x += x < 0 ? (long)fw : 0;
    return ac[(size_t)y * fw + (size_t)x];
}

/* Sub-pixel position of a peak at integer lag (lx, ly): a parabola
 * through it and its neighbours on each axis. */
static void refine(const float *ac, size_t fw, size_t fh, long lx, long ly,
                   double *rx, double *ry)
{
    double v = ac_at(ac, fw, fh, lx, ly);
    double a = ac_at(ac, fw, fh, lx - 1, ly), b = ac_at(ac, fw, fh, lx + 1,
                                                        ly);
    double den = a - 2 * v + b;

    *rx = (double)lx + (den < 0 ? 0.5 * (a - b) / den : 0);
    a = ac_at(ac, fw, fh, lx, ly - 1);
    b = ac_at(ac, fw, fh, lx, ly + 1);
    den = a - 2 * v + b;
    *ry = (double)ly + (den < 0 ? 0.5 * (a - b) / den : 0);
}

/* How much the autocorrelation stands out at lag (x, y): the highest
 * value within a pixel of it against the mean of the square ring three
 * pixels out, over the spread sd.  A ridge (the picture's text lines or
 * rows, correlated at every shift along them) does not stand out; a
 * lattice point does. */
static double peakness(const float *ac, size_t fw, size_t fh, double x,
                       double y, double sd)
{
    long lx = lround(x), ly = lround(y), dx, dy;
    double best = -1e30, ring = 0;

    /* no evidence beyond half the transform: the lags wrap around */
    if (labs(lx) + 4 >= (long)fw / 2 || labs(ly) + 4 >= (long)fh / 2)
        return 0;
    for (dy = -1; dy <= 1; dy++)
        for (dx = -1; dx <= 1; dx++) {
            double v = ac_at(ac, fw, fh, lx + dx, ly + dy);

            best = v > best ? v : best;
        }
    for (dx = -3; dx < 3; dx++) {
        ring += ac_at(ac, fw, fh, lx + dx, ly - 3);
        ring += ac_at(ac, fw, fh, lx + 3, ly + dx);
        ring += ac_at(ac, fw, fh, lx - dx, ly + 3);
        ring += ac_at(ac, fw, fh, lx - 3, ly - dx);
    }
    return (best - ring / 24) / sd;
}

#define RAW_PEAKS 24                     /* local maxima looked at */

/* Candidate lattice vectors from the autocorrelation ac (fw x fh) in a
 * sector about one axis: lengths lo..hi along it and a tilt of up to
 * TILT across (rotation).  axis 0: about +x, 1: about +y.  Takes the
 * RAW_PEAKS highest local maxima (z against the sector's mean and
 * spread), refines each from its furthest clear harmonic within lim,
 * and keeps the PEAKS best by z plus the evidence of a square lattice:
 * the tiling is periodic in two dimensions, so the vector turned by 90
 * degrees and the diagonals stand out too, where the picture's own
 * lines and rows give one-dimensional ridges.  Plus half of each, since
 * the tiling's second harmonic can out-peak the first. */
static int lattice_vectors(const float *ac, size_t fw, size_t fh, int axis,
                           long lo, long hi, long lim, cand *c)
{
    double mean = 0, var = 0, sd;
    long l, t, n = 0;
    int k = 0, i, j, m;
    cand raw[RAW_PEAKS];

    for (l = lo; l <= hi; l++)
        for (t = -(long)(l * TILT) ; t <= (long)(l * TILT); t++) {
            double v = axis ? ac_at(ac, fw, fh, t, l) : ac_at(ac, fw, fh, l,
                                                              t);

            mean += v;
            var += v * v;
            n++;
        }
    if (n < 9)
        return 0;
    mean /= (double)n;
    var = var / (double)n - mean * mean;
    sd = sqrt(var > 0 ? var : 0) + 1e-12;
    for (l = lo + 1; l < hi; l++)
        for (t = -(long)(l * TILT) + 1; t < (long)(l * TILT); t++) {
            long lx = axis ? t : l, ly = axis ? l : t, dx, dy;
            double v = ac_at(ac, fw, fh, lx, ly);
            int top = 1;
            cand x;

            for (dy = -1; dy <= 1 && top; dy++)
                for (dx = -1; dx <= 1; dx++)
                    if ((dx || dy) &&
                        ac_at(ac, fw, fh, lx + dx, ly + dy) > v) {
                        top = 0;
                        break;
                    }
            if (!top)
                continue;
            x.z = (v - mean) / sd;
            refine(ac, fw, fh, lx, ly, &x.x, &x.y);
            for (i = 0; i < k && raw[i].z >= x.z; i++)
                ;
            if (i >= RAW_PEAKS)
                continue;
            for (j = (k < RAW_PEAKS ? k : RAW_PEAKS - 1); j > i; j--)
                raw[j] = raw[j - 1];
            raw[i] = x;
            if (k < RAW_PEAKS)
                k++;
        }
    /* a vector off by a fraction of a pixel drifts by chips over the
     * image: refine each from the furthest harmonic peak available */
    for (i = 0; i < k; i++) {
        cand *ci = raw + i;
        int hm;

        for (hm = 8; hm >= 2; hm--) {
            double ex = ci->x * hm, ey = ci->y * hm, bv = -1e30;
            long bx = 0, by = 0, q, r, rad = hm + 1;

            if (fabs(ex) + rad + 1 >= (double)lim ||
                fabs(ey) + rad + 1 >= (double)lim)
                continue;
            for (r = (long)floor(ey) - rad; r <= (long)floor(ey) + rad; r++)
                for (q = (long)floor(ex) - rad; q <= (long)floor(ex) + rad;
                     q++) {
                    double v = ac_at(ac, fw, fh, q, r);

                    if (v > bv) {
                        bv = v;
                        bx = q;
                        by = r;
                    }
                }
            if ((bv - mean) / sd < 1.0 || labs(bx - (long)floor(ex)) >= rad ||
                labs(by - (long)floor(ey)) >= rad)
                continue;
            {
                double rx, ry;

                refine(ac, fw, fh, bx, by, &rx, &ry);
                ci->x = rx / hm;
                ci->y = ry / hm;
            }
            break;
        }
    }
    /* the square-lattice evidence, and the PEAKS best */
    for (i = 0; i < k; i++) {
        double px = -raw[i].y, py = raw[i].x, e;

        e = peakness(ac, fw, fh, px, py, sd) +
            peakness(ac, fw, fh, raw[i].x + px, raw[i].y + py, sd) +
            peakness(ac, fw, fh, raw[i].x - px, raw[i].y - py, sd);
        raw[i].z += e > 0 ? e / 3 : 0;
    }
    for (i = 1; i < k; i++)
        for (j = i; j > 0 && raw[j].z > raw[j - 1].z; j--) {
            cand tmp = raw[j];

            raw[j] = raw[j - 1];
            raw[j - 1] = tmp;
        }
    if (k > PEAKS)
        k = PEAKS;
    memcpy(c, raw, sizeof(cand) * (size_t)k);
    m = k;
    for (i = 0; i < m; i++) {
        double len = axis ? c[i].y : c[i].x;

        if (len / 2 >= (double)lo) {
            c[k].x = c[i].x / 2;
            c[k].y = c[i].y / 2;
            c[k].z = c[i].z - 1;         /* a little behind its double */
            k++;
        }
    }
    return k;
}

/* Fold the residual over the tile lattice with basis vectors (v[0], v[1])
 * and (v[2], v[3]) (work pixels; the tile's x and y edges, rotated and
 * scaled as the image was) into acc (BINS x BINS, the mean of each bin),
 * the bins moved by (su, sv) bins; then the circular cross-correlation
 * with the pilot into re.  cnt is scratch. */
static void clip_lines(float *work);

static void fold(const float *res, uint32_t w, uint32_t h, const double *v,
                 double su, double sv, float *work, unsigned *cnt)
{
    float *acc = work + 4 * BINS * BINS + 2 * BINS;
    double det = v[0] * v[3] - v[2] * v[1];
    int64_t m00, m01, m10, m11, u0, t0;
    uint32_t x, y, i;

    /* (u, v) = M (x, y) in bins, fixed point with 16 fraction bits: the
     * bin is then a shift and a mask, negative values included */
    m00 = (int64_t)llround(v[3] / det * BINS * 65536.0);
    m01 = (int64_t)llround(-v[2] / det * BINS * 65536.0);
    m10 = (int64_t)llround(-v[1] / det * BINS * 65536.0);
    m11 = (int64_t)llround(v[0] / det * BINS * 65536.0);
    u0 = (int64_t)llround(su * 65536.0);
    t0 = (int64_t)llround(sv * 65536.0);
    memset(acc, 0, sizeof(float) * BINS * BINS);
    memset(cnt, 0, sizeof(unsigned) * BINS * BINS);
    for (y = 0; y < h; y++) {
        const float *row = res + (size_t)y * w;
        int64_t u = m01 * y + u0, t = m11 * y + t0;

        for (x = 0; x < w; x++, u += m00, t += m10) {
            uint32_t b = (uint32_t)(((t >> 16) & (BINS - 1)) * BINS +
                                    ((u >> 16) & (BINS - 1)));

            acc[b] += row[x];
            cnt[b]++;
        }
    }
    for (i = 0; i < BINS * BINS; i++)
        acc[i] = cnt[i] ? acc[i] / (float)cnt[i] : 0;
    clip_lines(work);
}

/* The k-th smallest of a[0..n) (a is reordered). */
static float select_kth(float *a, uint32_t n, uint32_t k)
{
    uint32_t lo = 0, hi = n - 1;

    while (lo < hi) {
        float p = a[lo + (hi - lo) / 2];
        uint32_t i = lo, j = hi;

        while (i <= j) {
            while (a[i] < p)
                i++;
            while (a[j] > p)
                j--;
            if (i <= j) {
                float t = a[i];

                a[i] = a[j];
                a[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            break;
    }
    return a[k];
}

/* The spectrum of the last fold clip_lines() made, for try_turned(). */
static _Thread_local float fold_re[BINS * BINS], fold_im[BINS * BINS];

/* Clip the spectral lines of the fold (acc, in work): every frequency's
 * magnitude is cut to LINE_CLIP times the median.  The chips are keyed
 * noise, so the mark spreads over the whole spectrum and no frequency
 * holds much of it, while what the picture leaves in the fold does not:
 * it averages out over the tiles least where the picture has structure
 * at the tile's period or its divisors (text lines, grids, patterns; a
 * synthetic texture that repeats with such a period folds into a few
 * lines strong enough to swamp the chips).  Measured on the robustness
 * corpus: 437 -> 446 of the 465 required attack cases, the same with a
 * cap of 1x to 3x; and the moving Sierpinski carpet clip found at all.
 * The cap changes nothing in the format: the embedder does not know of
 * it.  Leaves the clipped fold in acc and its circular cross-correlation
 * with the pilot in re (the pilot's spectrum, two bins a chip, is made
 * once per detection, in re2 / im2). */
static void clip_lines(float *work)
{
    static _Thread_local float tmp[BINS * BINS];
    float *re = work, *im = work + BINS * BINS,
          *re2 = work + 2 * BINS * BINS + 2 * BINS, *im2 = re2 + BINS * BINS,
          *acc = im2 + BINS * BINS;
    float cap;
    uint32_t i;

    memcpy(re, acc, sizeof(float) * BINS * BINS);
    memset(im, 0, sizeof(float) * BINS * BINS);
    mark__fft2(re, im, BINS, BINS, 0);
    for (i = 0; i < BINS * BINS; i++)
        tmp[i] = re[i] * re[i] + im[i] * im[i];
    cap = LINE_CLIP * LINE_CLIP * select_kth(tmp, BINS * BINS,
                                             BINS * BINS / 2);
    for (i = 0; i < BINS * BINS; i++) {
        float p = re[i] * re[i] + im[i] * im[i], r, m;

        if (p > cap) {
            float f = sqrtf(cap / p);

            re[i] *= f;
            im[i] *= f;
        }
        fold_re[i] = re[i];
        fold_im[i] = im[i];
        /* the clipped fold S and its correlation with the pilot,
         * S conj(P), are both real after the inverse transform: one
         * transform of S + i S conj(P) makes both */
        r = re[i] * re2[i] + im[i] * im2[i];
        m = im[i] * re2[i] - re[i] * im2[i];
        re[i] -= m;
        im[i] += r;
    }
    mark__fft2(re, im, BINS, BINS, 1);
    memcpy(acc, re, sizeof(float) * BINS * BINS);
    memcpy(re, im, sizeof(float) * BINS * BINS);
}

/* The correlation's highest bin, and where between its neighbours the
 * peak lies (-0.5..0.5 bins each way; a chip spans two bins, so the peak
 * is a ridge two bins wide and its centre is read from the slopes), and
 * its height over the mean in standard deviations (z). */
static uint32_t peak_of(const float *re, double *fx, double *fy, double *z)
{
    uint32_t i, best = 0, bx, by;
    float peak = -1e30f, l, r, c;
    double m = 0, q = 0;

    for (i = 0; i < BINS * BINS; i++) {
        m += re[i];
        if (re[i] > peak) {
            peak = re[i];
            best = i;
        }
    }
    m /= BINS * BINS;
    for (i = 0; i < BINS * BINS; i++)
        q += (re[i] - m) * (re[i] - m);
    *z = (peak - m) / (sqrt(q / (BINS * BINS)) + 1e-12);
    by = best / BINS;
    bx = best % BINS;
    c = peak;
    l = re[by * BINS + (bx + BINS - 1) % BINS];
    r = re[by * BINS + (bx + 1) % BINS];
    *fx = c > (l < r ? l : r) ? 0.5 * (r - l) / (c - (l < r ? l : r)) : 0;
    l = re[((by + BINS - 1) % BINS) * BINS + bx];
    r = re[((by + 1) % BINS) * BINS + bx];
    *fy = c > (l < r ? l : r) ? 0.5 * (r - l) / (c - (l < r ? l : r)) : 0;
    return best;
}

/* Despread the chips of a fold whose pilot peaks at bin best (z standard
 * deviations out), decode, and record the result in out if it passed or
 * agrees better than what is there.  Returns 1 when the check passed. */
static int decode_fold(const mark_key *key, const pattern *pt,
                       const float *acc, uint32_t best, double z,
                       const double *v, mark__wm_result *out)
{
    uint32_t oy = best / BINS, ox = best % BINS, j;
    float soft[MARK__CODED_BITS];
    mark_payload pl;
    double agree;
    int ok;

    /* chips start at (ox, oy) bins into the fold */
    memset(soft, 0, sizeof soft);
    for (j = 0; j < CHIPS; j++) {
        uint32_t cy = j / G, cx = j % G, a = (2 * cy + oy) % BINS,
                 b = (2 * cx + ox) % BINS, a1 = (a + 1) % BINS,
                 b1 = (b + 1) % BINS;
        float s = acc[a * BINS + b] + acc[a * BINS + b1] +
                  acc[a1 * BINS + b] + acc[a1 * BINS + b1];

        /* remove the pilot's share before despreading the data */
        soft[pt->bit[j]] += pt->pn[j] * s;
    }
    ok = mark__decode_payload(key, soft, &pl, &agree);
    out->candidates++;
    if (ok || agree > out->score) {
        out->score = agree;
        out->sync = z;
        out->period_x = hypot(v[0], v[1]);
        out->period_y = hypot(v[2], v[3]);
        out->angle = atan2(v[1], v[0]) * 180 / M_PI;
        out->payload = pl;
        out->found = ok;
    }
    return ok;
}

/* Fold over a candidate lattice, find the pilot's offset, despread and
 * decode; returns 1 when the check passed.  Where the chips' edges fall
 * inside bins (a crop or resize left the tiling at a fraction of a bin)
 * and that decode failed, the fold is made again with the bins moved onto
 * the chips' edges and decoded once more: otherwise a chip's two bins can
 * take up to a quarter of each neighbour, which costs weak marks their
 * decode.  (Always refolding lost a weak mark whose noisy phase estimate
 * moved bins that were right.)  So a lattice is decoded at most twice. */
#define PHASE_REFOLD 0.2                 /* bins off before folding again */

/* A picture turned by a multiple of 90 degrees or mirrored (a viewer or
 * a platform applying an EXIF Orientation, a flip) has the same square
 * tile lattice, with the chips turned: its fold is the marked one's
 * transposed and reflected.  When the fold as it lies did not decode,
 * the other seven ways of laying it are correlated with the pilot and
 * the one whose peak stands out most, if more than the fold's own, is
 * decoded: one decode more per lattice at most.  (Bin k reflects to
 * BINS - 1 - k, which keeps a chip's two bins together.) */
static void turn_fold(const float *in, int way, float *out)
{
    uint32_t u, t;

    for (t = 0; t < BINS; t++)
        for (u = 0; u < BINS; u++) {
            uint32_t su = way & 1 ? t : u, st = way & 1 ? u : t;

            if (way & 2)
                su = BINS - 1 - su;
            if (way & 4)
                st = BINS - 1 - st;
            out[t * BINS + u] = in[st * BINS + su];
        }
}

static int try_turned(const mark_key *key, const pattern *pt, float *acc,
                      double z0, const double *v, float *work,
                      mark__wm_result *out)
{
    /* orig: the fold as it lies; sr / si its spectrum (clip_lines()
     * made it); cb: the best way's correlation with the pilot */
    static _Thread_local float orig[BINS * BINS], cb[BINS * BINS];
    const float *sr = fold_re, *si = fold_im;
    float ct[BINS], st[BINS];
    float *re = work, *im = work + BINS * BINS,
          *re2 = work + 2 * BINS * BINS + 2 * BINS, *im2 = re2 + BINS * BINS;
    double fx, fy, z, zb = z0;
    uint32_t best, f, g;
    int way, wb = 0, k;

    for (k = 0; k < BINS; k++) {
        ct[k] = (float)cos(2 * M_PI * k / BINS);
        st[k] = (float)sin(2 * M_PI * k / BINS);
    }
    memcpy(orig, acc, sizeof orig);
    /* the turned folds' correlations from that one spectrum, two ways an
     * inverse transform (both are real: one comes out as the real part,
     * the other as the imaginary): a way's spectrum is the fold's with
     * its axes swapped (way & 1) and each reflected axis (way & 2 along
     * u, 4 along t) read at minus its frequency times exp(2 pi i f / B),
     * since bin k goes to -(k + 1) */
    for (way = 1; way < 8; way += 2) {
        int w2 = way + 1;                 /* with 7: alone */

        for (g = 0; g < BINS; g++)
            for (f = 0; f < BINS; f++) {
                float cr = 0, ci = 0;

                for (k = 0; k < (w2 < 8 ? 2 : 1); k++) {
                    int w = k ? w2 : way;
                    uint32_t fu = w & 1 ? g : f, ft = w & 1 ? f : g;
                    uint32_t ph = 0;
                    float ar, ai, br, bi, xr, xi;

                    if (w & 2) {
                        ph += fu;
                        fu = (BINS - fu) % BINS;
                    }
                    if (w & 4) {
                        ph += ft;
                        ft = (BINS - ft) % BINS;
                    }
                    ar = sr[ft * BINS + fu];
                    ai = si[ft * BINS + fu];
                    br = ct[ph % BINS];
                    bi = st[ph % BINS];
                    xr = ar * br - ai * bi;
                    xi = ar * bi + ai * br;
                    /* times the pilot's conjugate */
                    ar = xr * re2[g * BINS + f] + xi * im2[g * BINS + f];
                    ai = xi * re2[g * BINS + f] - xr * im2[g * BINS + f];
                    if (k == 0) {
                        cr += ar;
                        ci += ai;
                    } else {                /* times i */
                        cr -= ai;
                        ci += ar;
                    }
                }
                re[g * BINS + f] = cr;
                im[g * BINS + f] = ci;
            }
        mark__fft2(re, im, BINS, BINS, 1);
        peak_of(re, &fx, &fy, &z);
        if (z > zb) {
            zb = z;
            wb = way;
            memcpy(cb, re, sizeof cb);
        }
        if (w2 < 8) {
            peak_of(im, &fx, &fy, &z);
            if (z > zb) {
                zb = z;
                wb = w2;
                memcpy(cb, im, sizeof cb);
            }
        }
    }
    if (wb == 0)
        return 0;
    turn_fold(orig, wb, acc);
    best = peak_of(cb, &fx, &fy, &z);
    return decode_fold(key, pt, acc, best, z, v, out);
}

static int try_lattice(const mark_key *key, const pattern *pt,
                       const float *res, uint32_t w, uint32_t h,
                       const double *v, float *work, mark__wm_result *out)
{
    float *re = work, *re2 = work + 2 * BINS * BINS + 2 * BINS;
    float *acc = re2 + 2 * BINS * BINS;
    unsigned cnt[BINS * BINS];
    double det = v[0] * v[3] - v[2] * v[1], fx, fy, z;
    uint32_t best;

    if (fabs(det) < 1)
        return 0;
    fold(res, w, h, v, 0, 0, work, cnt);
    best = peak_of(re, &fx, &fy, &z);
    if (decode_fold(key, pt, acc, best, z, v, out))
        return 1;
    if (fabs(fx) <= PHASE_REFOLD && fabs(fy) <= PHASE_REFOLD)
        return try_turned(key, pt, acc, z, v, work, out);
    /* the chips start fx, fy bins past the peak bin: move the bins back
     * by that much */
    fold(res, w, h, v, -fx, -fy, work, cnt);
    best = peak_of(re, &fx, &fy, &z);
    if (decode_fold(key, pt, acc, best, z, v, out))
        return 1;
    return try_turned(key, pt, acc, z, v, work, out);
}

/* The lattices one detection has decoded, so none is decoded twice,
 * and what try_lattice needs. */
typedef struct search {
    const mark_key *key;
    const pattern *pt;
    const float *res;
    uint32_t w, h;
    float *work;
    mark__wm_result *out;
    double seen[MAX_TRIES][4];
    int tries;
} search;

/* Decode lattice v unless it is (within half a pixel) one decoded
 * already. */
static void try_new(search *sr, const double *v)
{
    if (lattice_seen(sr->seen, sr->tries, v))
        return;
    memcpy(sr->seen[sr->tries++], v, sizeof sr->seen[0]);
    try_lattice(sr->key, sr->pt, sr->res, sr->w, sr->h, v, sr->work,
                sr->out);
}

/* The highest candidate of c[0..n) not yet used, or -1. */
static int best_unused(const cand *c, int n, const int *used)
{
    int i, bi = -1;

    for (i = 0; i < n; i++)
        if (!used[i] && (bi < 0 || c[i].z > c[bi].z))
            bi = i;
    return bi;
}

/* What the first autocorrelation is taken of, into re and im (columns
 * 0..fw/2 of fw x fh): the magnitude spectrum mag with JPEG's 8x8 block
 * grid (period 8/d work pixels, d the work step) notched out, or its
 * harmonics would pose as tile periods. */
static void notch_grid(const float *mag, float *re, float *im, size_t fw,
                       size_t fh, uint32_t d)
{
    size_t x, y;

    for (y = 0; y < fh; y++)
        for (x = 0; x <= fw / 2; x++) {
            size_t k = (size_t)y * fw + x;
            double bxf = (double)fw * d / 8.0, byf = (double)fh * d / 8.0;
            double mx = fmod((double)x + bxf / 2, bxf) - bxf / 2;
            double my = fmod((double)y + byf / 2, byf) - byf / 2;
            int notch = (x > 2 && fabs(mx) < 1.5) ||
                        (y > 2 && fabs(my) < 1.5);

            re[k] = notch ? 0.0f : mag[k];
            im[k] = 0;
        }
}

/* The magnitude spectrum (columns 0..fw/2 of fw x fh) with every
 * frequency cut to AC_CLIP times the median: the picture's own periodic
 * structure (a spreadsheet's cells, text lines, a grid) puts strong lines
 * in the spectrum whose autocorrelation peaks out-rank the tiling's,
 * which spreads over very many weak ones.  tmp: fh (fw / 2 + 1) floats. */
static void clip_spectrum(float *re, size_t fw, size_t fh, float *tmp)
{
    size_t n = 0, x, y;
    float cap;

    for (y = 0; y < fh; y++)
        for (x = 0; x <= fw / 2; x++)
            tmp[n++] = re[y * fw + x];
    cap = AC_CLIP * select_kth(tmp, (uint32_t)n, (uint32_t)(n / 2));
    for (y = 0; y < fh; y++)
        for (x = 0; x <= fw / 2; x++)
            if (re[y * fw + x] > cap)
                re[y * fw + x] = cap;
}

/* Candidates a (na) and b (nb) merged into out by z, highest first, one
 * of any two within half a pixel of each other; returns the count. */
static int merge_cands(const cand *a, int na, const cand *b, int nb,
                       cand *out)
{
    int n = 0, i, j, k;

    for (i = 0; i < na + nb; i++) {
        const cand *c = i < na ? a + i : b + (i - na);

        for (j = 0; j < n; j++)
            if (fabs(out[j].x - c->x) < 0.5 && fabs(out[j].y - c->y) < 0.5)
                break;
        if (j < n) {
            if (c->z <= out[j].z)
                continue;
            for (k = j; k < n - 1; k++)
                out[k] = out[k + 1];
            n--;
        }
        for (j = n; j > 0 && out[j - 1].z < c->z; j--)
            out[j] = out[j - 1];
        out[j] = *c;
        n++;
    }
    return n;
}

/* (A second pass at half resolution after a miss was tried: +1
 * image-attack on the corpus once flat images got larger chips, for
 * twice the time on every unmarked image.) */
int mark__imgwm_detect(mark_ctx *ctx, const mark_key *key,
                       const float *luma, uint32_t w, uint32_t h,
                       mark__wm_result *out)
{
    pattern *pt = NULL;
    float *lw = NULL, *res = NULL, *re = NULL, *im = NULL, *rc2 = NULL;
    float *rows = NULL, *work = NULL;
    double cg = chip_size(w, h, 0), cw;
    cand cx[4 * PEAKS], cy[4 * PEAKS], c1[2 * PEAKS], c2[2 * PEAKS];
    unsigned char tried[4 * PEAKS][4 * PEAKS];
    search sr;
    uint32_t d = size_step(w, h), ww, hw, x, y, ox0, oy0;
    size_t fw, fh;
    int rc = MARK_OK, a, b, nx, ny;

    memset(out, 0, sizeof *out);
    if (w < 64 || h < 64)
        return MARK_OK;
    /* at most MAX_WORK a side, taken from the centre */
    ww = w / d;
    hw = h / d;
    ox0 = ww > MAX_WORK ? (ww - MAX_WORK) / 2 : 0;
    oy0 = hw > MAX_WORK ? (hw - MAX_WORK) / 2 : 0;
    if (ww > MAX_WORK)
        ww = MAX_WORK;
    if (hw > MAX_WORK)
        hw = MAX_WORK;
    cw = cg / d;
    fw = pow2_at_least(ww);
    fh = pow2_at_least(hw);
    pt = mark__malloc(ctx, sizeof *pt);
    lw = mark__plane_alloc(ctx, sizeof(float) * ww * hw);
    res = mark__plane_alloc(ctx, sizeof(float) * ww * hw);
    re = mark__plane_alloc(ctx, sizeof(float) * fw * fh);
    im = mark__plane_alloc(ctx, sizeof(float) * fw * fh);
    rc2 = mark__plane_alloc(ctx, sizeof(float) * fw * fh);
    rows = mark__malloc(ctx, sizeof(float) * 2 * fw);
    work = mark__malloc(ctx, sizeof(float) * (5 * BINS * BINS + 2 * BINS));
    if (!pt || !lw || !res || !re || !im || !rc2 || !rows || !work) {
        rc = mark__err(ctx, MARK_ENOMEM, "out of memory");
        goto done;
    }
    memset(re, 0, sizeof(float) * fw * fh);
    memset(im, 0, sizeof(float) * fw * fh);
    make_pattern(key, pt);
    {
        /* the pilot's spectrum, for every candidate's offset search */
        float *re2 = work + 2 * BINS * BINS + 2 * BINS;
        float *im2 = re2 + BINS * BINS;

        for (y = 0; y < BINS; y++)
            for (x = 0; x < BINS; x++) {
                re2[y * BINS + x] = pt->pilot[(y / 2) * G + x / 2];
                im2[y * BINS + x] = 0;
            }
        mark__fft2(re2, im2, BINS, BINS, 0);
    }
    downsample(luma, w, ox0, oy0, d, ww, hw, lw, NULL);
    if (residual(ctx, lw, ww, hw, res, lw) < 0) {
        rc = mark__err(ctx, MARK_ENOMEM, "out of memory");
        goto done;
    }
    /* autocorrelation through the power spectrum */
    for (y = 0; y < hw; y++)
        memcpy(re + y * fw, res + (size_t)y * ww, sizeof(float) * ww);
    mark__fft2_real(re, im, fw, fh, rows);
    /* the magnitude spectrum (rc2), not power: a partly whitened
     * spectrum gives sharper period peaks.  Two autocorrelations of it:
     * re with the JPEG grid notched, rc2 with its lines clipped and no
     * notch: the clipping caps the block grid's lines already, and
     * against a flat clipped spectrum the notch's own holes would show
     * as peaks at multiples of 8 px (a notch three bins wide rings
     * negative beyond fw / 3 lags; a charcoal drawing's crop chain lost
     * its tiling to them) */
    for (y = 0; y < fh; y++)
        for (x = 0; x <= fw / 2; x++) {
            size_t k = (size_t)y * fw + x;

            rc2[k] = sqrtf(re[k] * re[k] + im[k] * im[k]);
        }
    notch_grid(rc2, re, im, fw, fh, d);
    mark__ifft2_real(re, im, fw, fh, rows);
    clip_spectrum(rc2, fw, fh, im);
    memset(im, 0, sizeof(float) * fw * fh);
    mark__ifft2_real(rc2, im, fw, fh, rows);
    {
        /* a tile is a quarter of the shortest side it was embedded in,
         * or more on small images; resizing keeps that share and cropping
         * raises it, so it is at least a quarter of the shortest side
         * now (less only where the aspect ratio changed: 0.75 of it is
         * allowed).  Longer up to a crop to 45% of a side, and no longer
         * than leaves a useful overlap of the shifted copies. */
        size_t lo = (size_t)(0.75 * G * ((w < h ? w : h) / CHIP_DIV) / d);
        size_t hix = (size_t)(2.2 * G * cw);
        size_t hiy = hix;
        long lim;

        if (hix > ww * 5 / 8)
            hix = ww * 5 / 8;
        if (hiy > hw * 5 / 8)
            hiy = hw * 5 / 8;
        if (lo < 8)
            lo = 8;
        lim = (long)((ww < hw ? ww : hw) * 7 / 8);
        nx = lattice_vectors(re, fw, fh, 0, (long)lo, (long)hix, lim, c1);
        ny = lattice_vectors(rc2, fw, fh, 0, (long)lo, (long)hix, lim, c2);
        nx = merge_cands(c1, nx, c2, ny, cx);
        ny = lattice_vectors(re, fw, fh, 1, (long)lo, (long)hiy, lim, c1);
        a = lattice_vectors(rc2, fw, fh, 1, (long)lo, (long)hiy, lim, c2);
        ny = merge_cands(c1, ny, c2, a, cy);
        if (nx == 0 || ny == 0)
            goto done;
    }
    /* first the lattice an image of this size was given: right whenever
     * the geometry did not change (compression, noise, colour changes),
     * even where the picture's own grid or text lines out-peak the
     * tiling */
    sr.key = key;
    sr.pt = pt;
    sr.res = res;
    sr.w = ww;
    sr.h = hw;
    sr.work = work;
    sr.out = out;
    sr.tries = 0;
    {
        double v[4] = { G * cw, 0, 0, G * cw };

        try_new(&sr, v);
        /* the same with the floor of mostly flat images */
        v[0] = v[3] = G * chip_size(w, h, 1) / d;
        if (!out->found)
            try_new(&sr, v);
        /* and a quarter of the shortest side, which is what any resize
         * of an image embedded at 1024 px or more gives, where the chip
         * size floor made the first guesses differ */
        v[0] = v[3] = G * ((w < h ? w : h) / CHIP_DIV) / d;
        if (!out->found)
            try_new(&sr, v);
    }
    /* then square tiles completed from the strongest single vectors: a
     * crop, a rescale or a rotation keeps the tile square, and one axis
     * often peaks clearly where the picture hides the other.  The axes
     * take turns: the picture's own lines can lift every peak of one
     * axis above the other's. */
    {
        int used[2][4 * PEAKS], sq;

        memset(used, 0, sizeof used);
        for (sq = 0; sq < SQUARE_TRIES && sr.tries < MAX_TRIES &&
                     !out->found; sq++) {
            int ax = sq % 2;
            int bi = best_unused(ax ? cy : cx, ax ? ny : nx, used[ax]);
            double v[4];

            if (bi < 0) {
                ax = !ax;
                bi = best_unused(ax ? cy : cx, ax ? ny : nx, used[ax]);
            }
            if (bi < 0)
                break;
            used[ax][bi] = 1;
            if (ax == 0) {
                v[0] = cx[bi].x;
                v[1] = cx[bi].y;
                v[2] = -cx[bi].y;
                v[3] = cx[bi].x;
            } else {
                v[0] = cy[bi].y;
                v[1] = -cy[bi].x;
                v[2] = cy[bi].x;
                v[3] = cy[bi].y;
            }
            try_new(&sr, v);
        }
    }
    /* then pairs in order of their combined peak heights, with a bonus
     * for a square, right-angled tile; each pair tried once */
    memset(tried, 0, sizeof tried);
    while (sr.tries < MAX_TRIES && !out->found) {
        double best = -1e30, v[4];
        int ba = -1, bb = -1;

        for (a = 0; a < nx; a++)
            for (b = 0; b < ny; b++) {
                double sc = cx[a].z + cy[b].z;
                double l1 = hypot(cx[a].x, cx[a].y);
                double l2 = hypot(cy[b].x, cy[b].y);
                double dot = (cx[a].x * cy[b].x + cx[a].y * cy[b].y) /
                             (l1 * l2);

                if (tried[a][b])
                    continue;
                if (fabs(l1 - l2) < 0.02 * l1 && fabs(dot) < 0.02)
                    sc += 3;
                if (sc > best) {
                    best = sc;
                    ba = a;
                    bb = b;
                }
            }
        if (ba < 0)
            break;
        tried[ba][bb] = 1;
        v[0] = cx[ba].x;
        v[1] = cx[ba].y;
        v[2] = cy[bb].x;
        v[3] = cy[bb].y;
        try_new(&sr, v);
    }
    out->period_x *= d;
    out->period_y *= d;
done:
    mark__free(ctx, pt);
    mark__plane_free(ctx, lw, sizeof(float) * ww * hw);
    mark__plane_free(ctx, res, sizeof(float) * ww * hw);
    mark__plane_free(ctx, re, sizeof(float) * fw * fh);
    mark__plane_free(ctx, im, sizeof(float) * fw * fh);
    mark__plane_free(ctx, rc2, sizeof(float) * fw * fh);
    mark__free(ctx, rows);
    mark__free(ctx, work);
    return rc;
}
