/*
 * pixels.c - the pixel pass of a save: the watermark goes into the
 * luminance first, then the visible label is drawn over it, so the label
 * stays crisp and the watermark covers the whole image.  Also the image
 * detector's entry point.
 */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "payload/payload.h"
#include "signal/signal.h"

/* Luma (sRGB-encoded, 0..255) of pixel i of a frame. */
static float luma_at(const unsigned char *p, int ch, int wide)
{
    float c[3];
    int k;

    for (k = 0; k < (ch >= 3 ? 3 : 1); k++) {
        if (wide) {
            uint16_t s;

            memcpy(&s, p + 2 * k, 2);
            c[k] = (float)s / 257.0f;
        } else {
            c[k] = p[k];
        }
    }
    if (ch < 3)
        return c[0];
    return 0.299f * c[0] + 0.587f * c[1] + 0.114f * c[2];
}

int mark__luma_watermark(mark_ctx *ctx, mark__pixel_ops *ops, float *luma,
                         uint32_t w, uint32_t h)
{
    size_t n = (size_t)w * h;
    int rc;

    if (w < MARK__IMGWM_MIN_SIDE || h < MARK__IMGWM_MIN_SIDE) {
        ops->wm_skipped = 1;
        memset(luma, 0, sizeof(float) * n);
        return MARK_OK;
    }
    /* the change replaces the levels in place */
    rc = mark__imgwm_delta(ctx, ops->key, &ops->payload, luma, w, h,
                           ops->strength, luma);
    if (rc != MARK_OK)
        memset(luma, 0, sizeof(float) * n);
    return rc;
}

int mark__cells_fit(uint32_t w, uint32_t h)
{
    return w >= MARK__IMGWM_MIN_SIDE && h >= MARK__IMGWM_MIN_SIDE &&
           mark__imgwm_work_step(w, h) >= 2;
}

int mark__cells_watermark(mark_ctx *ctx, mark__pixel_ops *ops, float *v2,
                          const float *s2, uint32_t w, uint32_t h)
{
    uint32_t d = mark__imgwm_work_step(w, h);
    size_t n = (size_t)(w / d) * (h / d);
    float *lw = NULL, *sq = NULL;
    mark__imgwm_plan *pl = NULL;
    int rc = MARK_OK;

    if (d == 2 && w % 2 == 0) {
        /* the cells are the work plane (with an odd height they have one
         * row more, which is not read) */
        rc = mark__imgwm_plan_new(ctx, ops->key, &ops->payload, w, h,
                                  ops->strength, 1.0, 1, v2, s2, &pl);
    } else {
        lw = mark__plane_alloc(ctx, sizeof(float) * (n ? n : 1));
        sq = mark__plane_alloc(ctx, sizeof(float) * (n ? n : 1));
        if (lw == NULL || sq == NULL)
            rc = mark__err(ctx, MARK_ENOMEM, "out of memory");
        if (rc == MARK_OK)
            rc = mark__imgwm_work_from_cells(ctx, v2, s2, w, h, lw, sq);
        if (rc == MARK_OK)
            rc = mark__imgwm_plan_new(ctx, ops->key, &ops->payload, w, h,
                                      ops->strength, 1.0, 1, lw, sq, &pl);
    }
    if (rc == MARK_OK)
        rc = mark__imgwm_plan_delta2(ctx, pl, v2, v2);
    mark__imgwm_plan_free(ctx, pl);
    mark__plane_free(ctx, lw, sizeof(float) * (n ? n : 1));
    mark__plane_free(ctx, sq, sizeof(float) * (n ? n : 1));
    return rc;
}

static int embed_frame(mark_ctx *ctx, mark__pixel_ops *ops,
                       const mark_frame *f)
{
    int colour = (f->pixel % 4) >= 2, wide = f->pixel >= MARK_PIXEL_GRAY16;
    int ch = (colour ? 3 : 1) + (f->pixel % 2), bps = wide ? 2 : 1;
    int nc = colour ? 3 : 1;
    float *dy;
    uint32_t x, y;
    int rc, k;

    dy = mark__plane_alloc(ctx, sizeof(float) * f->width * f->height);
    if (dy == NULL)
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    for (y = 0; y < f->height; y++) {
        const unsigned char *row = (const unsigned char *)f->data +
                                   (size_t)y * f->stride;

        for (x = 0; x < f->width; x++)
            dy[(size_t)y * f->width + x] =
                luma_at(row + (size_t)x * ch * bps, ch, wide);
    }
    rc = mark__luma_watermark(ctx, ops, dy, f->width, f->height);
    if (rc == MARK_OK && !ops->wm_skipped)
        for (y = 0; y < f->height; y++) {
            unsigned char *row = (unsigned char *)f->data +
                                 (size_t)y * f->stride;

            for (x = 0; x < f->width; x++) {
                float dl = dy[(size_t)y * f->width + x];
                unsigned char *p = row + (size_t)x * ch * bps;

                /* the same change on every colour channel moves the luma
                 * by dl and leaves the chroma alone */
                for (k = 0; k < nc; k++) {
                    if (wide) {
                        uint16_t s;
                        float v;

                        memcpy(&s, p + 2 * k, 2);
                        v = (float)s + dl * 257.0f;
                        s = (uint16_t)(v < 0 ? 0 : v > 65535 ? 65535
                                                             : v + 0.5f);
                        memcpy(p + 2 * k, &s, 2);
                    } else {
                        float v = (float)p[k] + dl;

                        p[k] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255
                                                                   : v + 0.5f);
                    }
                }
            }
        }
    mark__plane_free(ctx, dy, sizeof(float) * f->width * f->height);
    return rc;
}

int mark__apply_pixel_ops(mark_ctx *ctx, mark__pixel_ops *ops,
                          const mark_frame *f)
{
    int rc = MARK_OK;

    if (ops->watermark)
        rc = embed_frame(ctx, ops, f);
    if (rc == MARK_OK && ops->visible != NULL)
        rc = mark__visible_draw_oriented(ops->visible, f, f->width,
                                         f->height, 0, 0, ops->orient);
    return rc;
}

int mark__detect_luma(mark_ctx *ctx, const struct mark_key *key,
                      const float *luma, uint32_t w, uint32_t h,
                      mark__wm_state *st)
{
    mark__wm_result r;
    int rc = mark__imgwm_detect(ctx, key, luma, w, h, &r);

    if (rc < 0)
        return rc;
    st->detected = 1;
    st->found = r.found;
    st->found_payload = r.payload;
    st->score = r.score;
    st->candidates = r.candidates;
    return MARK_OK;
}

int mark__detect_image(mark_ctx *ctx, const struct mark_key *key,
                       const mark__image *img, mark__wm_state *st)
{
    float *yp;
    uint32_t x, y;
    int rc;

    yp = mark__plane_alloc(ctx, sizeof(float) * img->width * img->height);
    if (yp == NULL)
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    for (y = 0; y < img->height; y++)
        for (x = 0; x < img->width; x++)
            yp[(size_t)y * img->width + x] =
                luma_at(img->data + (size_t)y * img->stride +
                            (size_t)x * img->channels,
                        img->channels, 0);
    rc = mark__detect_luma(ctx, key, yp, img->width, img->height, st);
    mark__plane_free(ctx, yp, sizeof(float) * img->width * img->height);
    return rc;
}
