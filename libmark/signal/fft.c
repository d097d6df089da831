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

/* Rows then columns of a w x h array (both powers of two); col is
 * scratch of 2 * h floats. */
void mark__fft2(float *re, float *im, size_t w, size_t h, int inverse,
                float *col)
{
    size_t x, y;

    for (y = 0; y < h; y++)
        mark__fft(re + y * w, im + y * w, w, inverse);
    for (x = 0; x < w; x++) {
        float *cr = col, *ci = col + h;

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
