/*
 * fft.c - an in-place radix-2 complex FFT, and the 2-D transform built
 * from it, for the watermark detectors' correlations.  Plain and small:
 * sizes are powers of two chosen by the callers.
 */
#include <math.h>

#include "signal.h"

void mark__fft(float *re, float *im, size_t n, int inverse)
{
    size_t i, j, len;

    for (i = 1, j = 0; i < n; i++) {
        size_t bit = n >> 1;

        for (; j & bit; bit >>= 1)
            j ^= bit;
        j ^= bit;
        if (i < j) {
            float t = re[i];

            re[i] = re[j];
            re[j] = t;
            t = im[i];
            im[i] = im[j];
            im[j] = t;
        }
    }
    for (len = 2; len <= n; len <<= 1) {
        double ang = 2 * M_PI / (double)len * (inverse ? 1 : -1);
        float wr = (float)cos(ang), wi = (float)sin(ang);

        for (i = 0; i < n; i += len) {
            float cr = 1, ci = 0;

            for (j = 0; j < len / 2; j++) {
                size_t a = i + j, b = i + j + len / 2;
                float xr = re[b] * cr - im[b] * ci;
                float xi = re[b] * ci + im[b] * cr;
                float t;

                re[b] = re[a] - xr;
                im[b] = im[a] - xi;
                re[a] += xr;
                im[a] += xi;
                t = cr * wr - ci * wi;
                ci = cr * wi + ci * wr;
                cr = t;
            }
        }
    }
    if (inverse)
        for (i = 0; i < n; i++) {
            re[i] /= (float)n;
            im[i] /= (float)n;
        }
}

/* The transform of columns 0..ncols-1 of a w x h array; col is scratch of
 * 2 * h floats. */
static void columns(float *re, float *im, size_t w, size_t h, size_t ncols,
                    int inverse, float *col)
{
    float *cr = col, *ci = col + h;
    size_t x, y;

    for (x = 0; x < ncols; x++) {
        for (y = 0; y < h; y++) {
            cr[y] = re[y * w + x];
            ci[y] = im[y * w + x];
        }
        mark__fft(cr, ci, h, inverse);
        for (y = 0; y < h; y++) {
            re[y * w + x] = cr[y];
            im[y * w + x] = ci[y];
        }
    }
}

/* Rows then columns of a w x h array (both powers of two); col is
 * scratch of 2 * h floats. */
void mark__fft2(float *re, float *im, size_t w, size_t h, int inverse,
                float *col)
{
    size_t y;

    for (y = 0; y < h; y++)
        mark__fft(re + y * w, im + y * w, w, inverse);
    columns(re, im, w, h, w, inverse, col);
}

/* The 2-D transform of a real w x h array (in re; im is ignored and
 * overwritten), two rows at a time through one complex transform.  Only
 * the columns 0..w/2 of the result are computed (the rest follow by
 * symmetry); rows is scratch of 2 * w floats, col of 2 * h. */
void mark__fft2_real(float *re, float *im, size_t w, size_t h, float *rows,
                     float *col)
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
    columns(re, im, w, h, w / 2 + 1, 0, col);
}

/* The inverse of mark__fft2_real: from the columns 0..w/2 of a spectrum
 * with the symmetry of a real array's, the real array into re. */
void mark__ifft2_real(float *re, float *im, size_t w, size_t h, float *rows,
                      float *col)
{
    float *zr = rows, *zi = rows + w;
    size_t x, y, k;

    columns(re, im, w, h, w / 2 + 1, 1, col);
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
