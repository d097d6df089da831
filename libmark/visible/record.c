/*
 * record.c - the record of a drawn label, kept in the file's XMP
 * (aimark:VisibleLabel), and the verifier's check of it.
 *
 * The record holds where the label went on an image of what size, and a
 * signature: the text mask averaged down to a 48 x 12 grid over the ink
 * box.  The verifier scales the box to the image's present size (labels
 * are sized and placed relative to the image, so a resize keeps them in
 * place), averages the luminance the same way and correlates the two:
 * the label is present when the correlation is high, whatever the
 * re-encoding did to single pixels.  No font is needed to verify.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "visible.h"

#define SIG_W 48
#define SIG_H 12
#define PRESENT_SCORE 0.6

/* Average grid values over the ink box of a mask or an image. */
static void grid_of_mask(const mark__mask *m, double *g)
{
    int gx, gy;

    for (gy = 0; gy < SIG_H; gy++)
        for (gx = 0; gx < SIG_W; gx++) {
            uint32_t x0 = m->ix + (uint32_t)((uint64_t)m->iw * gx / SIG_W);
            uint32_t x1 = m->ix + (uint32_t)((uint64_t)m->iw * (gx + 1) /
                                             SIG_W);
            uint32_t y0 = m->iy + (uint32_t)((uint64_t)m->ih * gy / SIG_H);
            uint32_t y1 = m->iy + (uint32_t)((uint64_t)m->ih * (gy + 1) /
                                             SIG_H);
            double s = 0;
            uint32_t x, y, n = 0;

            if (x1 == x0)
                x1 = x0 + 1;
            if (y1 == y0)
                y1 = y0 + 1;
            for (y = y0; y < y1 && y < m->h; y++)
                for (x = x0; x < x1 && x < m->w; x++, n++)
                    s += m->data[(size_t)y * m->w + x];
            g[gy * SIG_W + gx] = n ? s / n : 0;
        }
}

int mark__visible_is_grey(const mark_visible *v)
{
    uint32_t t = mark__visible_text_rgb(v);

    return ((t >> 16) & 255) == ((t >> 8) & 255) &&
           ((t >> 8) & 255) == (t & 255);
}

int mark__visible_record(mark_visible *v, uint32_t W, uint32_t H,
                         char **json)
{
    mark_box plate, ink;
    double g[SIG_W * SIG_H], mx = 0;
    char sig[SIG_W * SIG_H + 1], rgb[8];
    json_t *o;
    char *s;
    int i, rc;

    *json = NULL;
    rc = mark_visible_layout(v, W, H, &plate, &ink);
    if (rc < 0)
        return rc;
    grid_of_mask(mark__visible_mask(v), g);
    for (i = 0; i < SIG_W * SIG_H; i++)
        if (g[i] > mx)
            mx = g[i];
    /* one hex digit a cell: 16 levels are plenty for a correlation */
    for (i = 0; i < SIG_W * SIG_H; i++) {
        unsigned q = mx > 0 ? (unsigned)(g[i] / mx * 15 + 0.5) : 0;

        sig[i] = "0123456789abcdef"[q];
    }
    sig[SIG_W * SIG_H] = '\0';
    snprintf(rgb, sizeof rgb, "#%06x", mark__visible_text_rgb(v));
    o = json_pack("{s:i,s:s,s:s,s:s,s:[i,i],s:[i,i,i,i],s:[i,i,i,i],"
                  "s:s,s:[i,i],s:s}",
                  "v", 1, "text", mark__visible_text(v),
                  "position",
                  mark_position_name(mark__visible_position(v)),
                  "font", mark__visible_family(v),
                  "image", (int)W, (int)H,
                  "plate", (int)plate.x, (int)plate.y, (int)plate.w,
                  (int)plate.h,
                  "ink", (int)ink.x, (int)ink.y, (int)ink.w, (int)ink.h,
                  "text_rgb", rgb, "grid", SIG_W, SIG_H, "sig", sig);
    if (o == NULL)
        return mark__err(v->ctx, MARK_ENOMEM, "out of memory");
    s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (s == NULL)
        return mark__err(v->ctx, MARK_ENOMEM, "out of memory");
    *json = mark__strdup(v->ctx, s);
    free(s);
    return *json != NULL ? MARK_OK
                         : mark__err(v->ctx, MARK_ENOMEM, "out of memory");
}

static double luma8(const mark__image *img, uint32_t x, uint32_t y)
{
    const unsigned char *p = img->data + (size_t)y * img->stride +
                             (size_t)x * img->channels;

    if (img->channels < 3)
        return p[0];
    return 0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2];
}

/* Mean luminance over the cell [x0,x1) x [y0,y1) in image coordinates,
 * weighting each pixel by how much of it the cell covers: a label shrunk
 * with its image has cells smaller than a pixel, and whole-pixel cells
 * would then sample it unevenly. */
static double cell_mean(const mark__image *img, uint32_t rx, uint32_t ry,
                        double x0, double x1, double y0, double y1)
{
    double s = 0, wsum = 0;
    long px, py;

    for (py = (long)floor(y0); py < (long)ceil(y1); py++) {
        double wy = fmin(y1, py + 1.0) - fmax(y0, (double)py);

        if (wy <= 0 || py < (long)ry || py - (long)ry >= (long)img->height)
            continue;
        for (px = (long)floor(x0); px < (long)ceil(x1); px++) {
            double wx = fmin(x1, px + 1.0) - fmax(x0, (double)px);

            if (wx <= 0 || px < (long)rx ||
                px - (long)rx >= (long)img->width)
                continue;
            s += wx * wy * luma8(img, (uint32_t)(px - (long)rx),
                                 (uint32_t)(py - (long)ry));
            wsum += wx * wy;
        }
    }
    return wsum > 0 ? s / wsum : 0;
}

static double correlate(const double *a, const double *b, int n)
{
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    int i;

    for (i = 0; i < n; i++) {
        ma += a[i];
        mb += b[i];
    }
    ma /= n;
    mb /= n;
    for (i = 0; i < n; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 0;
}

int mark__visible_check(mark_media *m, mark__explicit *res)
{
    json_t *o = NULL, *ink, *image;
    json_error_t jerr;
    const char *sig, *text, *pos, *trgb;
    double want[SIG_W * SIG_H], got[SIG_W * SIG_H], sx, sy;
    uint32_t W = m->info.width, H = m->info.height, bx, by, bw, bh, rx, ry;
    mark__image img;
    double fx, fy, fw, fh;
    int i, rc, gx, gy, light;

    memset(res, 0, sizeof *res);
    memset(&img, 0, sizeof img);
    if (m->visible_record == NULL) {
        snprintf(res->note, sizeof res->note, "no record of a label drawn "
                 "by this toolkit (a general detector comes later)");
        return MARK_OK;
    }
    if (m->c->pixels == NULL) {
        snprintf(res->note, sizeof res->note, "cannot read the pixels of "
                 "this format");
        return MARK_OK;
    }
    o = json_loads(m->visible_record, 0, &jerr);
    if (o == NULL || json_unpack(o, "{s:s,s:s,s:o,s:o,s:s,s:s}", "text",
                                 &text, "position", &pos, "ink", &ink,
                                 "image", &image, "sig", &sig, "text_rgb",
                                 &trgb) != 0 ||
        json_array_size(ink) != 4 || json_array_size(image) != 2 ||
        strlen(sig) != SIG_W * SIG_H) {
        snprintf(res->note, sizeof res->note, "the label record in the XMP "
                 "is damaged");
        json_decref(o);
        return MARK_OK;
    }
    snprintf(res->text, sizeof res->text, "%s", text);
    snprintf(res->position, sizeof res->position, "%s", pos);
    sx = (double)W / (double)json_integer_value(json_array_get(image, 0));
    sy = (double)H / (double)json_integer_value(json_array_get(image, 1));
    /* the ink box on this image, in fractional pixels */
    fx = (double)json_integer_value(json_array_get(ink, 0)) * sx;
    fy = (double)json_integer_value(json_array_get(ink, 1)) * sy;
    fw = (double)json_integer_value(json_array_get(ink, 2)) * sx;
    fh = (double)json_integer_value(json_array_get(ink, 3)) * sy;
    bx = (uint32_t)fx;
    by = (uint32_t)fy;
    bw = (uint32_t)(fw + 0.5);
    bh = (uint32_t)(fh + 0.5);
    if (!(sx > 0 && sy > 0) || bw < 2 || bh < 2 || bx + bw > W ||
        by + bh > H) {
        snprintf(res->note, sizeof res->note, "the label record does not "
                 "fit this image");
        json_decref(o);
        return MARK_OK;
    }
    light = strtol(trgb + 1, NULL, 16) > 0x808080;
    for (i = 0; i < SIG_W * SIG_H; i++) {
        const char *d = strchr("0123456789abcdef", sig[i]);
        double q = d != NULL && *d ? (double)(d - "0123456789abcdef") : 0;

        want[i] = light ? q : 15.0 - q;
    }
    json_decref(o);
    rc = m->c->pixels(m, (uint32_t)fx, (uint32_t)fy, bw + 2, bh + 2, &img,
                      &rx, &ry);
    if (rc < 0) {
        snprintf(res->note, sizeof res->note, "pixels unreadable: %s",
                 mark_ctx_errmsg(m->ctx));
        return rc == MARK_ENOMEM ? rc : MARK_OK;
    }
    for (gy = 0; gy < SIG_H; gy++)
        for (gx = 0; gx < SIG_W; gx++)
            got[gy * SIG_W + gx] =
                cell_mean(&img, rx, ry, fx + fw * gx / SIG_W,
                          fx + fw * (gx + 1) / SIG_W, fy + fh * gy / SIG_H,
                          fy + fh * (gy + 1) / SIG_H);
    mark__image_free(m->ctx, &img);
    res->checked = 1;
    res->score = correlate(want, got, SIG_W * SIG_H);
    res->found = res->score >= PRESENT_SCORE;
    res->ink_h = bh;
    res->ratio = (double)bh / (double)(W < H ? W : H);
    snprintf(res->note, sizeof res->note, "%s", res->found
             ? "label recorded in the XMP found in the pixels"
             : "label recorded in the XMP is not in the pixels any more");
    return MARK_OK;
}
