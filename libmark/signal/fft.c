/*
 * fft.c - an in-place radix-2 complex FFT, and the 2-D transform built
 * from it, for the watermark detectors' correlations.  Sizes are powers
 * of two chosen by the callers.
 *
 * The twiddles come from one table made once (in double, so a long
 * transform is as exact as a short one), laid out a stage at a time so
 * that every butterfly loop reads its data and its twiddles in order and
 * the compiler can vectorise it.  The 2-D transform works on columns as
 * on rows of vectors: each butterfly combines two whole rows, so the
 * columns are never gathered one at a time.
 */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "signal.h"

/* Stage len (2, 4, ..., TW_N) uses tw_re/tw_im[len / 2 + j], j < len / 2:
 * exp(-2 pi i j / len), and tw_imn, the negated imaginary parts, for the
 * inverse.  Longer transforms (none of the callers' sizes) work their
 * twiddles out butterfly by butterfly. */
#define TW_N 8192
static float tw_re[TW_N], tw_im[TW_N], tw_imn[TW_N];
static pthread_once_t tw_once = PTHREAD_ONCE_INIT;

static void tw_make(void)
{
    size_t len, j;

    for (len = 2; len <= TW_N; len <<= 1)
        for (j = 0; j < len / 2; j++) {
            double a = -2 * M_PI * (double)j / (double)len;

            tw_re[len / 2 + j] = (float)cos(a);
            tw_im[len / 2 + j] = (float)sin(a);
            tw_imn[len / 2 + j] = -(float)sin(a);
        }
}

/* Twiddle j of stage len. */
static void twiddle(size_t len, size_t j, int inverse, float *wr, float *wi)
{
    if (len <= TW_N) {
        *wr = tw_re[len / 2 + j];
        *wi = inverse ? tw_imn[len / 2 + j] : tw_im[len / 2 + j];
    } else {
        double a = 2 * M_PI * (double)j / (double)len * (inverse ? 1 : -1);

        *wr = (float)cos(a);
        *wi = (float)sin(a);
    }
}

/* The index after j in bit-reversed counting over n (a power of two). */
static size_t rev_next(size_t j, size_t n)
{
    size_t bit = n >> 1;

    for (; j & bit; bit >>= 1)
        j ^= bit;
    return j ^ bit;
}

static void swap_floats(float *a, float *b, size_t n)
{
    size_t x;

    for (x = 0; x < n; x++) {
        float t = a[x];

        a[x] = b[x];
        b[x] = t;
    }
}

static void bit_reverse(float *re, float *im, size_t n)
{
    size_t i, j;

    for (i = 1, j = 0; i < n; i++) {
        j = rev_next(j, n);
        if (i < j) {
            swap_floats(re + i, re + j, 1);
            swap_floats(im + i, im + j, 1);
        }
    }
}

/* One stage's butterflies over a block: a[j] +- w[j] b[j], j < half. */
static void butterflies(float *restrict ar, float *restrict ai,
                        float *restrict br, float *restrict bi,
                        const float *restrict wr, const float *restrict wi,
                        size_t half)
{
    size_t j;

    for (j = 0; j < half; j++) {
        float xr = br[j] * wr[j] - bi[j] * wi[j];
        float xi = br[j] * wi[j] + bi[j] * wr[j];

        br[j] = ar[j] - xr;
        bi[j] = ai[j] - xi;
        ar[j] += xr;
        ai[j] += xi;
    }
}

/* One butterfly of two rows of vectors: a +- (wr + i wi) b, n lanes. */
static void row_butterfly(float *restrict ar, float *restrict ai,
                          float *restrict br, float *restrict bi, float wr,
                          float wi, size_t n)
{
    size_t x;

    for (x = 0; x < n; x++) {
        float xr = br[x] * wr - bi[x] * wi;
        float xi = br[x] * wi + bi[x] * wr;

        br[x] = ar[x] - xr;
        bi[x] = ai[x] - xi;
        ar[x] += xr;
        ai[x] += xi;
    }
}

void mark__fft(float *re, float *im, size_t n, int inverse)
{
    size_t i, j, len;

    if (n < 2)
        return;
    pthread_once(&tw_once, tw_make);
    bit_reverse(re, im, n);
    /* the first two stages have twiddles 1 and -+i */
    for (i = 0; i < n; i += 2) {
        float r = re[i + 1], m = im[i + 1];

        re[i + 1] = re[i] - r;
        im[i + 1] = im[i] - m;
        re[i] += r;
        im[i] += m;
    }
    if (n >= 4)
        for (i = 0; i < n; i += 4) {
            /* b1 times -i (forward) or +i (inverse) */
            float r = inverse ? -im[i + 3] : im[i + 3];
            float m = inverse ? re[i + 3] : -re[i + 3];
            float r0 = re[i + 2], m0 = im[i + 2];

            re[i + 2] = re[i] - r0;
            im[i + 2] = im[i] - m0;
            re[i] += r0;
            im[i] += m0;
            re[i + 3] = re[i + 1] - r;
            im[i + 3] = im[i + 1] - m;
            re[i + 1] += r;
            im[i + 1] += m;
        }
    for (len = 8; len <= n; len <<= 1) {
        size_t half = len / 2;

        if (len <= TW_N) {
            const float *wr = tw_re + half;
            const float *wi = (inverse ? tw_imn : tw_im) + half;

            for (i = 0; i < n; i += len)
                butterflies(re + i, im + i, re + i + half, im + i + half,
                            wr, wi, half);
            continue;
        }
        for (j = 0; j < half; j++) {
            float wr, wi;

            twiddle(len, j, inverse, &wr, &wi);
            for (i = 0; i < n; i += len)
                row_butterfly(re + i + j, im + i + j, re + i + j + half,
                              im + i + j + half, wr, wi, 1);
        }
    }
    if (inverse)
        for (i = 0; i < n; i++) {
            re[i] /= (float)n;
            im[i] /= (float)n;
        }
}

/* The transform of columns 0..ncols-1 of a w x h array, as butterflies
 * of whole rows. */
static void columns(float *re, float *im, size_t w, size_t h, size_t ncols,
                    int inverse)
{
    size_t i, j, len;

    if (h < 2)
        return;
    pthread_once(&tw_once, tw_make);
    for (i = 1, j = 0; i < h; i++) {
        j = rev_next(j, h);
        if (i < j) {
            swap_floats(re + i * w, re + j * w, ncols);
            swap_floats(im + i * w, im + j * w, ncols);
        }
    }
    for (len = 2; len <= h; len <<= 1) {
        size_t half = len / 2;

        for (j = 0; j < half; j++) {
            float wr, wi;

            twiddle(len, j, inverse, &wr, &wi);
            for (i = 0; i < h; i += len)
                row_butterfly(re + (i + j) * w, im + (i + j) * w,
                              re + (i + j + half) * w,
                              im + (i + j + half) * w, wr, wi, ncols);
        }
    }
    if (inverse)
        for (i = 0; i < h; i++) {
            float *r = re + i * w, *m = im + i * w;
            size_t x;

            for (x = 0; x < ncols; x++) {
                r[x] /= (float)h;
                m[x] /= (float)h;
            }
        }
}

/* In place, in 8 x 8 blocks: a power-of-two row length makes a column's
 * elements share a few cache sets, so a column at a time thrashes. */
static void transpose(float *a, size_t n)
{
    size_t bx, by, x, y;

    if (n < 8) {
        for (y = 0; y < n; y++)
            for (x = y + 1; x < n; x++) {
                float t = a[y * n + x];

                a[y * n + x] = a[x * n + y];
                a[x * n + y] = t;
            }
        return;
    }
    for (by = 0; by < n; by += 8)
        for (bx = by; bx < n; bx += 8)
            for (y = by; y < by + 8; y++)
                for (x = bx == by ? y + 1 : bx; x < bx + 8; x++) {
                    float t = a[y * n + x];

                    a[y * n + x] = a[x * n + y];
                    a[x * n + y] = t;
                }
}

/* Rows then columns of a w x h array (both powers of two).  A square
 * one's rows are transformed as columns of its transpose: the short rows'
 * transforms one at a time cost more than the transposes. */
void mark__fft2(float *re, float *im, size_t w, size_t h, int inverse)
{
    size_t y;

    if (w == h) {
        transpose(re, w);
        transpose(im, w);
        columns(re, im, w, h, w, inverse);
        transpose(re, w);
        transpose(im, w);
    } else
        for (y = 0; y < h; y++)
            mark__fft(re + y * w, im + y * w, w, inverse);
    columns(re, im, w, h, w, inverse);
}

/* The 2-D transform of a real w x h array (in re; im is ignored and
 * overwritten), two rows at a time through one complex transform.  Only
 * the columns 0..w/2 of the result are computed (the rest follow by
 * symmetry); rows is scratch of 2 * w floats. */
void mark__fft2_real(float *re, float *im, size_t w, size_t h, float *rows)
{
    float *zr = rows, *zi = rows + w;
    size_t x, y, k;

    for (y = 0; y + 1 < h; y += 2) {
        float *r0 = re + y * w, *r1 = r0 + w;
        float *i0 = im + y * w, *i1 = i0 + w;

        for (x = 0; x < w; x++) {
            zr[x] = r0[x];
            zi[x] = r1[x];
        }
        mark__fft(zr, zi, w, 0);
        for (k = 0; k <= w / 2; k++) {
            size_t nk = (w - k) % w;

            r0[k] = 0.5f * (zr[k] + zr[nk]);
            i0[k] = 0.5f * (zi[k] - zi[nk]);
            r1[k] = 0.5f * (zi[k] + zi[nk]);
            i1[k] = -0.5f * (zr[k] - zr[nk]);
        }
    }
    columns(re, im, w, h, w / 2 + 1, 0);
}

/* The inverse of mark__fft2_real: from the columns 0..w/2 of a spectrum
 * with the symmetry of a real array's, the real array into re. */
void mark__ifft2_real(float *re, float *im, size_t w, size_t h, float *rows)
{
    float *zr = rows, *zi = rows + w;
    size_t x, y, k;

    columns(re, im, w, h, w / 2 + 1, 1);
    for (y = 0; y + 1 < h; y += 2) {
        float *r0 = re + y * w, *r1 = r0 + w;
        const float *i0 = im + y * w, *i1 = i0 + w;

        for (k = 0; k < w; k++) {
            if (k <= w / 2) {
                zr[k] = r0[k] - i1[k];
                zi[k] = i0[k] + r1[k];
            } else {
                size_t m = w - k;

                zr[k] = r0[m] + i1[m];
                zi[k] = -i0[m] + r1[m];
            }
        }
        mark__fft(zr, zi, w, 1);
        for (x = 0; x < w; x++) {
            r0[x] = zr[x];
            r1[x] = zi[x];
        }
    }
}
