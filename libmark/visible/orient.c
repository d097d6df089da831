/*
 * orient.c - the label on a picture whose EXIF Orientation (1 to 8)
 * turns or mirrors it for display, as phones store their photos: the
 * label is laid out on the picture as displayed and drawn upright there,
 * through a copy of the pixels under it turned the display's way (and
 * back), so a viewer that honours the tag shows it the right way up in
 * the right corner.  The verifier looks at it the same way.
 *
 * Orientation n says where the stored rows and columns go (TIFF 6.0):
 * 1 as stored; 2 mirrored left-right; 3 turned 180 degrees; 4 mirrored
 * top-bottom; 5 transposed (rows become columns); 6 turned 90 degrees
 * clockwise; 7 transposed the other way (transverse); 8 turned 90 degrees
 * counter-clockwise.  5 to 8 swap width and height.
 */
#include <string.h>

#include "visible.h"

void mark__orient_size(int o, uint32_t w, uint32_t h, uint32_t *dw,
                       uint32_t *dh)
{
    int swap = o >= 5 && o <= 8;

    *dw = swap ? h : w;
    *dh = swap ? w : h;
}

/* The stored pixel shown at (x, y) of the displayed picture; w x h is
 * the stored size. */
void mark__orient_to_stored(int o, uint32_t w, uint32_t h, uint32_t x,
                            uint32_t y, uint32_t *sx, uint32_t *sy)
{
    switch (o) {
    case 2: *sx = w - 1 - x; *sy = y; break;
    case 3: *sx = w - 1 - x; *sy = h - 1 - y; break;
    case 4: *sx = x; *sy = h - 1 - y; break;
    case 5: *sx = y; *sy = x; break;
    case 6: *sx = y; *sy = h - 1 - x; break;
    case 7: *sx = w - 1 - y; *sy = h - 1 - x; break;
    case 8: *sx = w - 1 - y; *sy = x; break;
    default: *sx = x; *sy = y; break;
    }
}

void mark__orient_rect(int o, uint32_t w, uint32_t h, const mark_box *d,
                       mark_box *s)
{
    uint32_t x0, y0, x1, y1;

    if (d->w == 0 || d->h == 0) {
        *s = *d;
        return;
    }
    mark__orient_to_stored(o, w, h, d->x, d->y, &x0, &y0);
    mark__orient_to_stored(o, w, h, d->x + d->w - 1, d->y + d->h - 1, &x1,
                           &y1);
    s->x = x0 < x1 ? x0 : x1;
    s->y = y0 < y1 ? y0 : y1;
    s->w = (x0 < x1 ? x1 - x0 : x0 - x1) + 1;
    s->h = (y0 < y1 ? y1 - y0 : y0 - y1) + 1;
}

static size_t pixel_bytes(int pixel)
{
    int ch, depth;

    mark__pixel_layout(pixel, &ch, &depth);
    return (size_t)ch * (size_t)(depth / 8);
}

/* Copy between the stored region f (its top-left at rx, ry of the w x h
 * stored picture) and buf, the displayed box d in f's pixel layout,
 * d->w pixels a row: to buf when back is 0, from it when 1. */
static int orient_copy(int o, uint32_t w, uint32_t h, const mark_frame *f,
                       uint32_t rx, uint32_t ry, const mark_box *d,
                       unsigned char *buf, int back)
{
    size_t bpp = pixel_bytes(f->pixel);
    uint32_t x, y, sx, sy;

    for (y = 0; y < d->h; y++)
        for (x = 0; x < d->w; x++) {
            unsigned char *b = buf + ((size_t)y * d->w + x) * bpp, *p;

            mark__orient_to_stored(o, w, h, d->x + x, d->y + y, &sx, &sy);
            if (sx < rx || sy < ry || sx - rx >= f->width ||
                sy - ry >= f->height)
                return MARK_EINVAL;
            p = (unsigned char *)f->data + (size_t)(sy - ry) * f->stride +
                (size_t)(sx - rx) * bpp;
            if (back)
                memcpy(p, b, bpp);
            else
                memcpy(b, p, bpp);
        }
    return MARK_OK;
}

int mark__orient_frame(mark_ctx *ctx, int o, uint32_t w, uint32_t h,
                       const mark_frame *f, uint32_t rx, uint32_t ry,
                       const mark_box *d, mark_frame *out)
{
    size_t bpp = pixel_bytes(f->pixel);
    unsigned char *buf = mark__malloc(ctx, bpp * d->w * d->h + 1);
    int rc;

    if (buf == NULL)
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    rc = orient_copy(o, w, h, f, rx, ry, d, buf, 0);
    if (rc < 0) {
        mark__free(ctx, buf);
        return mark__err(ctx, rc, "the pixels read do not cover the label");
    }
    out->data = buf;
    out->stride = bpp * d->w;
    out->width = d->w;
    out->height = d->h;
    out->pixel = f->pixel;
    return MARK_OK;
}

int mark__visible_plate_stored(mark_visible *v, uint32_t w, uint32_t h,
                               int o, mark_box *s)
{
    uint32_t dw, dh;
    mark_box d;
    int rc;

    mark__orient_size(o, w, h, &dw, &dh);
    rc = mark_visible_layout(v, dw, dh, &d, NULL);
    if (rc < 0)
        return rc;
    mark__orient_rect(o, w, h, &d, s);
    return MARK_OK;
}

int mark__visible_draw_oriented(mark_visible *v, const mark_frame *f,
                                uint32_t w, uint32_t h, uint32_t rx,
                                uint32_t ry, int o)
{
    mark_ctx *ctx = v->ctx;
    uint32_t dw, dh;
    mark_frame df;
    mark_box d;
    int rc;

    if (o <= 1 || o > 8)
        return mark__visible_draw_region(v, f, w, h, rx, ry);
    mark__orient_size(o, w, h, &dw, &dh);
    rc = mark_visible_layout(v, dw, dh, &d, NULL);
    if (rc < 0)
        return rc;
    rc = mark__orient_frame(ctx, o, w, h, f, rx, ry, &d, &df);
    if (rc < 0)
        return rc;
    rc = mark__visible_draw_region(v, &df, dw, dh, d.x, d.y);
    if (rc == MARK_OK)
        rc = orient_copy(o, w, h, f, rx, ry, &d, df.data, 1);
    mark__free(ctx, df.data);
    return rc;
}
