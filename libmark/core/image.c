/*
 * image.c - in-memory images for pixel work.
 */
#include <string.h>

#include "internal.h"

void mark__image_free(mark_ctx *ctx, mark__image *img)
{
    if (img == NULL)
        return;
    mark__free(ctx, img->data);
    memset(img, 0, sizeof *img);
}

int mark__image_pixel(const mark__image *img)
{
    return (img->channels - 1) + (img->depth == 16 ? 4 : 0);
}

void mark__pixel_layout(int pixel, int *channels, int *depth)
{
    *channels = pixel % 4 + 1;
    *depth = pixel >= MARK_PIXEL_GRAY16 ? 16 : 8;
}

void mark__image_frame(const mark__image *img, mark_frame *f)
{
    f->data = img->data;
    f->stride = img->stride;
    f->width = img->width;
    f->height = img->height;
    f->pixel = mark__image_pixel(img);
}

/* Grey (+ alpha) to RGB (+ alpha), in place of img. */
int mark__image_promote_rgb(mark_ctx *ctx, mark__image *img)
{
    int bps = img->depth / 8, alpha = img->channels == 2, nc = alpha ? 4 : 3;
    size_t stride = (size_t)img->width * nc * bps;
    unsigned char *d;
    uint32_t x, y;
    int k;

    if (img->channels > 2)
        return MARK_OK;
    if (img->height != 0 && stride > SIZE_MAX / img->height)
        return mark__err(ctx, MARK_ELIMIT, "image too large");
    d = mark__malloc(ctx, stride * img->height);
    if (d == NULL)
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    for (y = 0; y < img->height; y++) {
        const unsigned char *s = img->data + (size_t)y * img->stride;
        unsigned char *o = d + (size_t)y * stride;

        for (x = 0; x < img->width; x++) {
            const unsigned char *sp = s + (size_t)x * img->channels * bps;
            unsigned char *op = o + (size_t)x * nc * bps;

            for (k = 0; k < 3; k++)
                memcpy(op + k * bps, sp, (size_t)bps);
            if (alpha)
                memcpy(op + 3 * bps, sp + bps, (size_t)bps);
        }
    }
    mark__free(ctx, img->data);
    img->data = d;
    img->stride = stride;
    img->channels = nc;
    return MARK_OK;
}

/* Crop (x, y, w, h), clipped, to 8-bit grey or RGB without alpha: what the
 * verifier looks at. */
int mark__image_crop8(mark_ctx *ctx, const mark__image *src, uint32_t x,
                      uint32_t y, uint32_t w, uint32_t h, mark__image *dst)
{
    int colour = src->channels >= 3, nc = colour ? 3 : 1;
    int bps = src->depth / 8;
    uint32_t i, j;
    int k;

    memset(dst, 0, sizeof *dst);
    if (x >= src->width || y >= src->height)
        return mark__err(ctx, MARK_EINVAL, "region outside the image");
    if (w > src->width - x)
        w = src->width - x;
    if (h > src->height - y)
        h = src->height - y;
    dst->data = mark__malloc(ctx, (size_t)w * h * nc);
    if (dst->data == NULL)
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    dst->width = w;
    dst->height = h;
    dst->channels = nc;
    dst->depth = 8;
    dst->stride = (size_t)w * nc;
    for (j = 0; j < h; j++)
        for (i = 0; i < w; i++) {
            const unsigned char *sp = src->data + (size_t)(y + j) *
                src->stride + (size_t)(x + i) * src->channels * bps;

            for (k = 0; k < nc; k++) {
                unsigned v = sp[k * bps];

                if (bps == 2) {
                    uint16_t s;

                    memcpy(&s, sp + k * 2, 2);
                    v = (unsigned)(s + 128) / 257;
                }
                dst->data[(size_t)j * dst->stride + (size_t)i * nc + k] =
                    (unsigned char)v;
            }
        }
    return MARK_OK;
}
