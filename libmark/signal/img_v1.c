/*
 * img_v1.c - the image watermark "img-v1": a keyed, tiled spread-spectrum
 * pattern in luminance, found blind after cropping and rescaling.
 *
 * Layout.  The image is covered by tiles of 64 x 64 chips; a chip is a
 * square of c pixels, c = max(2, shortest side / 256), so a tile spans a
 * quarter of the shortest side whatever the resolution.  Every chip
 * carries a keyed pilot value (+/-1) and a keyed spreading value times
 * one coded payload bit (354 coded bits over 4096 chips, about 11.6
 * chips a bit, assigned by a keyed permutation).  The chip amplitude is
 * shaped by a perceptual mask: the local standard deviation of the image,
 * so texture carries more and flat areas little.
 *
 * Detection.  (1) Work at a resolution where chips are about 2 pixels.
 * (2) Take a normalised high-pass residual (image minus a local mean).
 * (3) Its autocorrelation peaks at multiples of the tile period: the
 * period found on each axis gives the scale (and aspect) the image has
 * been resized by.  (4) Fold the residual modulo the period into a
 * 128 x 128 grid (two bins a chip), averaging every tile there is.
 * (5) Circular correlation of the grid with the pilot gives the offset,
 * i.e. where a crop cut the tiling.  (6) The aligned chips, despread,
 * give soft bits for the Viterbi decoder and the keyed check decides.
 * Only a few period candidates are decoded, each passing the 48-bit
 * check with probability 2^-48 by chance, which bounds the false-positive
 * rate far below 1e-9 per image.
 *
 * Frozen format: the domains of the keyed streams, the chip layout and
 * the bit assignment below define img-v1.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "signal.h"

#define G 64                             /* chips per tile side */
#define CHIPS (G * G)
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

/* Box mean of radius rad of a w x h plane into out, via an integral
 * image (sums in double: large images). */
static int box_mean(mark_ctx *ctx, const float *in, uint32_t w, uint32_t h,
                    uint32_t rad, float *out, int squared)
{
    double *ii = mark__malloc(ctx, sizeof(double) * (w + 1) * (h + 1));
    uint32_t x, y;

    if (ii == NULL)
        return MARK_ENOMEM;
    for (x = 0; x <= w; x++)
        ii[x] = 0;
    for (y = 1; y <= h; y++) {
        double row = 0;

        ii[(size_t)y * (w + 1)] = 0;
        for (x = 1; x <= w; x++) {
            double v = in[(size_t)(y - 1) * w + x - 1];

            row += squared ? v * v : v;
            ii[(size_t)y * (w + 1) + x] = ii[(size_t)(y - 1) * (w + 1) + x] +
                                          row;
        }
    }
    for (y = 0; y < h; y++) {
        uint32_t y0 = y > rad ? y - rad : 0;
        uint32_t y1 = y + rad + 1 < h ? y + rad + 1 : h;

        for (x = 0; x < w; x++) {
            uint32_t x0 = x > rad ? x - rad : 0;
            uint32_t x1 = x + rad + 1 < w ? x + rad + 1 : w;
            double s = ii[(size_t)y1 * (w + 1) + x1] -
                       ii[(size_t)y0 * (w + 1) + x1] -
                       ii[(size_t)y1 * (w + 1) + x0] +
                       ii[(size_t)y0 * (w + 1) + x0];

            out[(size_t)y * w + x] = (float)(s / ((double)(x1 - x0) *
                                                  (y1 - y0)));
        }
    }
    mark__free(ctx, ii);
    return MARK_OK;
}

static double chip_size(uint32_t w, uint32_t h)
{
    double s = (double)(w < h ? w : h) / 256.0;

    return s < 2.0 ? 2.0 : s;
}

int mark__imgwm_embed(mark_ctx *ctx, const mark_key *key,
                      const mark_payload *p, float *luma, uint32_t w,
                      uint32_t h, double strength)
{
    unsigned char code[MARK__CODED_BITS];
    pattern *pt = NULL;
    float *mean = NULL, *sq = NULL, chipv[CHIPS];
    double c = chip_size(w, h);
    uint32_t x, y, j, rad;
    size_t i;
    int rc = MARK_OK;

    if (w < MARK__IMGWM_MIN_SIDE || h < MARK__IMGWM_MIN_SIDE)
        return mark__err(ctx, MARK_EINVAL, "image smaller than %d pixels "
                         "a side: no watermark", MARK__IMGWM_MIN_SIDE);
    pt = mark__malloc(ctx, sizeof *pt);
    mean = mark__malloc(ctx, sizeof(float) * w * h);
    sq = mark__malloc(ctx, sizeof(float) * w * h);
    if (pt == NULL || mean == NULL || sq == NULL) {
        rc = mark__err(ctx, MARK_ENOMEM, "out of memory");
        goto done;
    }
    make_pattern(key, pt);
    mark__encode_payload(key, p, code);
    for (j = 0; j < CHIPS; j++)
        chipv[j] = PILOT_W * pt->pilot[j] +
                   DATA_W * pt->pn[j] * (code[pt->bit[j]] ? 1.0f : -1.0f);
    /* the mask: local standard deviation over about a chip around */
    rad = (uint32_t)(c + 0.5);
    if (box_mean(ctx, luma, w, h, rad, mean, 0) < 0 ||
        box_mean(ctx, luma, w, h, rad, sq, 1) < 0) {
        rc = mark__err(ctx, MARK_ENOMEM, "out of memory");
        goto done;
    }
    /* the mask decides where the energy goes; its total is set so that
     * the change has the same RMS on every image (about 41 dB PSNR at
     * strength 1): smooth images get their share too, or nothing would
     * survive on them */
    {
        double s2 = 0, gain;

        for (i = 0; i < (size_t)w * h; i++) {
            float var = sq[i] - mean[i] * mean[i];
            float m = (var > 0 ? sqrtf(var) : 0) / 8.0f;

            m = m < 0.35f ? 0.35f : m > 2.5f ? 2.5f : m;
            sq[i] = m;
            s2 += (double)m * m;
        }
        gain = strength * BASE_AMPLITUDE / sqrt(s2 / ((double)w * h));
        for (y = 0; y < h; y++) {
            uint32_t cy = (uint32_t)(y / c) % G;

            for (x = 0; x < w; x++) {
                size_t k = (size_t)y * w + x;
                uint32_t cx = (uint32_t)(x / c) % G;
                float v = luma[k] + (float)gain * sq[k] *
                                        chipv[cy * G + cx];

                luma[k] = v < 0 ? 0 : v > 255 ? 255 : v;
            }
        }
    }
done:
    mark__free(ctx, pt);
    mark__free(ctx, mean);
    mark__free(ctx, sq);
    return rc;
}

static size_t pow2_at_least(size_t n)
{
    size_t p = 1;

    while (p < n)
        p <<= 1;
    return p;
}

#define PEAKS 5                          /* period peaks kept an axis */
#define MAX_TRIES 16                     /* period pairs decoded; the
                                            false-positive bound in
                                            core/report.c counts them */

typedef struct cand {
    double lag;
    double z;
} cand;

/* Candidate tile periods along one axis from the autocorrelation ac
 * (stride between lags), in [lo, hi]: the PEAKS highest local maxima
 * (refined from their harmonics up to lag lim) and, for each, half its
 * lag when
 * that is in range too, since noise can make the second harmonic of the
 * tiling the taller peak.  Returns the number of candidates in c. */
static int periods(const float *ac, size_t stride, size_t lo, size_t hi,
                   size_t lim, cand *c)
{
    double mean = 0, var = 0, sd;
    size_t l, n = 0;
    int k = 0, i, j;

    for (l = lo; l <= hi; l++) {
        mean += ac[l * stride];
        n++;
    }
    if (n < 3)
        return 0;
    mean /= (double)n;
    for (l = lo; l <= hi; l++)
        var += (ac[l * stride] - mean) * (ac[l * stride] - mean);
    sd = sqrt(var / (double)n) + 1e-12;
    for (l = lo + 1; l < hi; l++) {
        double v = ac[l * stride], a = ac[(l - 1) * stride];
        double b = ac[(l + 1) * stride], den = a - 2 * v + b, off;
        cand x;

        if (v < a || v < b)
            continue;
        off = den < 0 ? 0.5 * (a - b) / den : 0;
        x.lag = (double)l + off;
        x.z = (v - mean) / sd;
        /* insert into the top PEAKS, highest first */
        for (i = 0; i < k && c[i].z >= x.z; i++)
            ;
        if (i >= PEAKS)
            continue;
        for (j = (k < PEAKS ? k : PEAKS - 1); j > i; j--)
            c[j] = c[j - 1];
        c[i] = x;
        if (k < PEAKS)
            k++;
    }
    /* a period off by a fraction of a pixel drifts by chips over the
     * image: refine each from the furthest harmonic peak available */
    for (i = 0; i < k; i++) {
        int h;

        for (h = 8; h >= 2; h--) {
            double at = c[i].lag * h, bv = -1e30, bl = 0;
            long q, q0 = (long)(at - h - 1), q1 = (long)(at + h + 1);

            if (q1 + 1 >= (long)lim)
                continue;
            for (q = q0; q <= q1; q++)
                if (ac[(size_t)q * stride] > bv) {
                    bv = ac[(size_t)q * stride];
                    bl = (double)q;
                }
            if ((bv - mean) / sd < 1.0 || bl <= (double)q0 || bl >= (double)q1)
                continue;
            {
                double a = ac[(size_t)(bl - 1) * stride];
                double b = ac[(size_t)(bl + 1) * stride];
                double den = a - 2 * bv + b;

                if (den < 0)
                    bl += 0.5 * (a - b) / den;
            }
            c[i].lag = bl / h;
            break;
        }
    }
    n = (size_t)k;
    for (i = 0; i < (int)n; i++)
        if (c[i].lag / 2 >= (double)lo) {
            c[k].lag = c[i].lag / 2;
            c[k].z = c[i].z - 1;         /* a little behind its double */
            k++;
        }
    return k;
}

/* Fold the residual modulo the period (px, py) into BINS x BINS, find the
 * pilot's offset, despread and decode.  Returns 1 when the check passed. */
static int try_period(const mark_key *key, const pattern *pt,
                      const float *res, uint32_t w, uint32_t h, double px,
                      double py, float *work, mark__wm_result *out)
{
    static float acc[BINS * BINS];
    float *re = work, *im = work + BINS * BINS, *col = work + 2 * BINS *
        BINS, *re2 = work + 2 * BINS * BINS + 2 * BINS, *im2 = re2 + BINS *
        BINS;
    float soft[MARK__CODED_BITS];
    unsigned cnt[BINS * BINS];
    uint8_t colbin[MAX_WORK];
    double bx = px / BINS, by = py / BINS, mean = 0, var = 0, agree;
    uint32_t x, y, i, j, best = 0, ox, oy;
    float peak = -1e30f;
    mark_payload pl;
    int ok;

    memset(acc, 0, sizeof acc);
    memset(cnt, 0, sizeof cnt);
    /* the bin of each column, once: fmod per pixel would dominate */
    for (x = 0; x < w && x < MAX_WORK; x++)
        colbin[x] = (uint8_t)fmod(x / bx, BINS);
    for (y = 0; y < h; y++) {
        uint32_t yb = (uint32_t)fmod(y / by, BINS);
        const float *row = res + (size_t)y * w;

        for (x = 0; x < w; x++) {
            uint32_t b = yb * BINS + colbin[x];

            acc[b] += row[x];
            cnt[b]++;
        }
    }
    for (i = 0; i < BINS * BINS; i++)
        acc[i] = cnt[i] ? acc[i] / (float)cnt[i] : 0;
    /* circular cross-correlation with the pilot (its spectrum, two bins
     * a chip, made once per detection in re2 / im2) */
    memcpy(re, acc, sizeof acc);
    memset(im, 0, sizeof acc);
    mark__fft2(re, im, BINS, BINS, 0, col);
    for (i = 0; i < BINS * BINS; i++) {
        /* acc x conj(pilot) */
        float r = re[i] * re2[i] + im[i] * im2[i];
        float m = im[i] * re2[i] - re[i] * im2[i];

        re[i] = r;
        im[i] = m;
    }
    mark__fft2(re, im, BINS, BINS, 1, col);
    for (i = 0; i < BINS * BINS; i++) {
        mean += re[i];
        if (re[i] > peak) {
            peak = re[i];
            best = i;
        }
    }
    mean /= BINS * BINS;
    for (i = 0; i < BINS * BINS; i++)
        var += (re[i] - mean) * (re[i] - mean);
    oy = best / BINS;
    ox = best % BINS;
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
        out->sync = (peak - mean) / (sqrt(var / (BINS * BINS)) + 1e-12);
        out->period_x = px;
        out->period_y = py;
        out->payload = pl;
        out->found = ok;
    }
    return ok;
}

int mark__imgwm_detect(mark_ctx *ctx, const mark_key *key,
                       const float *luma, uint32_t w, uint32_t h,
                       mark__wm_result *out)
{
    pattern *pt = NULL;
    float *lw = NULL, *mean = NULL, *res = NULL, *re = NULL, *im = NULL;
    float *col = NULL, *work = NULL;
    double cg = chip_size(w, h), cw;
    cand cx[2 * PEAKS], cy[2 * PEAKS];
    unsigned char tried[2 * PEAKS][2 * PEAKS];
    uint32_t d, ww, hw, x, y, ox0, oy0;
    size_t fw, fh, i;
    int rc = MARK_OK, a, b, nx, ny, tries;

    memset(out, 0, sizeof *out);
    if (w < 64 || h < 64)
        return MARK_OK;
    /* chips of about two work pixels; at most MAX_WORK a side, taken
     * from the centre */
    d = (uint32_t)(cg / 2.0);
    if (d < 1)
        d = 1;
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
    lw = mark__malloc(ctx, sizeof(float) * ww * hw);
    mean = mark__malloc(ctx, sizeof(float) * ww * hw);
    res = mark__malloc(ctx, sizeof(float) * ww * hw);
    re = mark__calloc(ctx, fw * fh, sizeof(float));
    im = mark__calloc(ctx, fw * fh, sizeof(float));
    col = mark__malloc(ctx, sizeof(float) * 2 * (fw > fh ? fw : fh));
    work = mark__malloc(ctx, sizeof(float) * (4 * BINS * BINS + 2 * BINS));
    if (!pt || !lw || !mean || !res || !re || !im || !col || !work) {
        rc = mark__err(ctx, MARK_ENOMEM, "out of memory");
        goto done;
    }
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
        mark__fft2(re2, im2, BINS, BINS, 0, work + 2 * BINS * BINS);
    }
    for (y = 0; y < hw; y++)
        for (x = 0; x < ww; x++) {
            double s = 0;
            uint32_t u, v;

            for (v = 0; v < d; v++)
                for (u = 0; u < d; u++)
                    s += luma[(size_t)((oy0 + y) * d + v) * w +
                              (ox0 + x) * d + u];
            lw[(size_t)y * ww + x] = (float)(s / (d * d));
        }
    /* residual: minus a local mean, then scaled by its local magnitude so
     * that strong texture does not drown the rest */
    if (box_mean(ctx, lw, ww, hw, 2, mean, 0) < 0) {
        rc = mark__err(ctx, MARK_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < (size_t)ww * hw; i++)
        res[i] = lw[i] - mean[i];
    for (i = 0; i < (size_t)ww * hw; i++)
        lw[i] = fabsf(res[i]);
    if (box_mean(ctx, lw, ww, hw, 4, mean, 0) < 0) {
        rc = mark__err(ctx, MARK_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < (size_t)ww * hw; i++)
        res[i] /= mean[i] + 1.0f;
    /* autocorrelation through the power spectrum */
    for (y = 0; y < hw; y++)
        memcpy(re + y * fw, res + (size_t)y * ww, sizeof(float) * ww);
    mark__fft2(re, im, fw, fh, 0, col);
    /* magnitude, not power: a partly whitened spectrum gives sharper
     * period peaks; and JPEG's 8x8 block grid (period 8/d work pixels)
     * is notched out, or its harmonics would pose as tile periods */
    for (y = 0; y < fh; y++)
        for (x = 0; x < fw; x++) {
            size_t k = (size_t)y * fw + x;
            double bxf = (double)fw * d / 8.0, byf = (double)fh * d / 8.0;
            double mx = fmod((double)x + bxf / 2, bxf) - bxf / 2;
            double my = fmod((double)y + byf / 2, byf) - byf / 2;
            int notch = (x > 2 && fabs(mx) < 1.5) ||
                        (y > 2 && fabs(my) < 1.5);

            re[k] = notch ? 0.0f : sqrtf(re[k] * re[k] + im[k] * im[k]);
            im[k] = 0;
        }
    mark__fft2(re, im, fw, fh, 1, col);
    {
        /* tile periods from half to double the expected one, and no
         * longer than leaves a useful overlap of the shifted copies */
        size_t lo = (size_t)(0.45 * G * cw), hix = (size_t)(2.2 * G * cw);
        size_t hiy = hix;

        if (hix > ww * 5 / 8)
            hix = ww * 5 / 8;
        if (hiy > hw * 5 / 8)
            hiy = hw * 5 / 8;
        if (lo < 8)
            lo = 8;
        nx = periods(re, 1, lo, hix, ww * 7 / 8, cx);
        ny = periods(re, fw, lo, hiy, hw * 7 / 8, cy);
        if (nx == 0 || ny == 0)
            goto done;
    }
    /* pairs in order of their combined peak heights; square chips (no
     * change of aspect) first among equals; each pair tried once */
    memset(tried, 0, sizeof tried);
    /* first the period an image of this size was given: right whenever
     * the size did not change (compression, noise, colour changes), even
     * where the picture's own grid or text lines out-peak the tiling */
    try_period(key, pt, res, ww, hw, G * cw, G * cw, work, out);
    for (tries = 1; tries < MAX_TRIES && !out->found; tries++) {
        double best = -1e30;
        int ba = -1, bb = -1;

        for (a = 0; a < nx; a++)
            for (b = 0; b < ny; b++) {
                double sc = cx[a].z + cy[b].z;

                if (tried[a][b])
                    continue;
                if (fabs(cx[a].lag - cy[b].lag) < 0.02 * cx[a].lag)
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
        try_period(key, pt, res, ww, hw, cx[ba].lag, cy[bb].lag, work,
                   out);
    }
    out->period_x *= d;
    out->period_y *= d;
done:
    mark__free(ctx, pt);
    mark__free(ctx, lw);
    mark__free(ctx, mean);
    mark__free(ctx, res);
    mark__free(ctx, re);
    mark__free(ctx, im);
    mark__free(ctx, col);
    mark__free(ctx, work);
    return rc;
}
