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

_Static_assert(SIG_W * SIG_H == MARK__SIG_CELLS, "signature size");

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

int mark__visible_record_spans(mark_visible *v, uint32_t W, uint32_t H,
                               const double *spans, int n_spans,
                               char **json)
{
    mark_box plate, ink;
    double g[SIG_W * SIG_H], mx = 0;
    char sig[SIG_W * SIG_H + 1], rgb[8];
    json_t *o, *a;
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
    /* video: the seconds from the first frame the label is on, [from,
     * to) each, to null for "to the end" */
    if (n_spans > 0) {
        a = json_array();
        if (a == NULL || json_object_set_new(o, "spans", a) < 0) {
            json_decref(o);
            return mark__err(v->ctx, MARK_ENOMEM, "out of memory");
        }
        for (i = 0; i < n_spans; i++)
            if (json_array_append_new(
                    a, json_pack("[f,o]", spans[2 * i],
                                 spans[2 * i + 1] >= 0
                                     ? json_real(spans[2 * i + 1])
                                     : json_null())) < 0) {
                json_decref(o);
                return mark__err(v->ctx, MARK_ENOMEM, "out of memory");
            }
    }
    s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (s == NULL)
        return mark__err(v->ctx, MARK_ENOMEM, "out of memory");
    *json = mark__strdup(v->ctx, s);
    free(s);
    return *json != NULL ? MARK_OK
                         : mark__err(v->ctx, MARK_ENOMEM, "out of memory");
}

int mark__visible_record(mark_visible *v, uint32_t W, uint32_t H,
                         char **json)
{
    return mark__visible_record_spans(v, W, H, NULL, 0, json);
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

int mark__vrecord_parse(const char *json, mark__vrecord *r)
{
    json_t *o, *ink, *image, *spans;
    json_error_t jerr;
    const char *sig, *text, *pos, *trgb;
    int i, light;

    memset(r, 0, sizeof *r);
    o = json_loads(json, 0, &jerr);
    if (o == NULL || json_unpack(o, "{s:s,s:s,s:o,s:o,s:s,s:s}", "text",
                                 &text, "position", &pos, "ink", &ink,
                                 "image", &image, "sig", &sig, "text_rgb",
                                 &trgb) != 0 ||
        json_array_size(ink) != 4 || json_array_size(image) != 2 ||
        strlen(sig) != SIG_W * SIG_H || trgb[0] != '#') {
        json_decref(o);
        return -1;
    }
    snprintf(r->text, sizeof r->text, "%s", text);
    snprintf(r->position, sizeof r->position, "%s", pos);
    r->W = json_integer_value(json_array_get(image, 0));
    r->H = json_integer_value(json_array_get(image, 1));
    for (i = 0; i < 4; i++)
        r->ink[i] = json_integer_value(json_array_get(ink, (size_t)i));
    light = strtol(trgb + 1, NULL, 16) > 0x808080;
    for (i = 0; i < SIG_W * SIG_H; i++) {
        const char *d = strchr("0123456789abcdef", sig[i]);
        double q = d != NULL && *d ? (double)(d - "0123456789abcdef") : 0;

        r->want[i] = light ? q : 15.0 - q;
    }
    spans = json_object_get(o, "spans");
    for (i = 0; i < 2 && (size_t)i < json_array_size(spans); i++) {
        json_t *p = json_array_get(spans, (size_t)i);

        if (!json_is_array(p) || json_array_size(p) != 2 ||
            !json_is_number(json_array_get(p, 0))) {
            json_decref(o);
            return -1;
        }
        r->span[i][0] = json_number_value(json_array_get(p, 0));
        r->span[i][1] = json_is_number(json_array_get(p, 1))
                        ? json_number_value(json_array_get(p, 1)) : -1;
        r->n_spans = i + 1;
    }
    json_decref(o);
    return r->W > 0 && r->H > 0 && r->ink[2] > 0 && r->ink[3] > 0 ? 0 : -1;
}

int mark__vrecord_box(const mark__vrecord *r, uint32_t W, uint32_t H,
                      double box[4])
{
    double sx = (double)W / r->W, sy = (double)H / r->H;

    /* the ink box on this image, in fractional pixels */
    box[0] = r->ink[0] * sx;
    box[1] = r->ink[1] * sy;
    box[2] = r->ink[2] * sx;
    box[3] = r->ink[3] * sy;
    /* in doubles: a record's negative or huge box must not reach an
     * integer conversion (undefined for values out of range) */
    if (!(sx > 0 && sy > 0) || !(box[0] >= 0 && box[1] >= 0) ||
        !(box[2] + 0.5 >= 2 && box[3] + 0.5 >= 2) ||
        floor(box[0]) + floor(box[2] + 0.5) > W ||
        floor(box[1]) + floor(box[3] + 0.5) > H)
        return -1;
    return 0;
}

double mark__vrecord_score(const mark__vrecord *r, const double box[4],
                           const mark__image *img, uint32_t rx, uint32_t ry)
{
    double got[SIG_W * SIG_H];
    int gx, gy;

    for (gy = 0; gy < SIG_H; gy++)
        for (gx = 0; gx < SIG_W; gx++)
            got[gy * SIG_W + gx] =
                cell_mean(img, rx, ry, box[0] + box[2] * gx / SIG_W,
                          box[0] + box[2] * (gx + 1) / SIG_W,
                          box[1] + box[3] * gy / SIG_H,
                          box[1] + box[3] * (gy + 1) / SIG_H);
    return correlate(r->want, got, SIG_W * SIG_H);
}

int mark__vrecord_found(double score)
{
    return score >= PRESENT_SCORE;
}

int mark__visible_check(mark_media *m, mark__explicit *res)
{
    mark__vrecord *r;
    uint32_t W, H, bw, bh, rx, ry;
    mark__image img;
    mark_box d, s;
    mark_frame f, df;
    double box[4];
    int rc, o = m->orient;

    /* the record describes the picture as displayed */
    mark__orient_size(o, m->info.width, m->info.height, &W, &H);
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
    r = mark__malloc(m->ctx, sizeof *r);
    if (r == NULL)
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    if (mark__vrecord_parse(m->visible_record, r) < 0) {
        snprintf(res->note, sizeof res->note, "the label record in the XMP "
                 "is damaged");
        mark__free(m->ctx, r);
        return MARK_OK;
    }
    snprintf(res->text, sizeof res->text, "%s", r->text);
    snprintf(res->position, sizeof res->position, "%s", r->position);
    if (mark__vrecord_box(r, W, H, box) < 0) {
        snprintf(res->note, sizeof res->note, "the label record does not "
                 "fit this image");
        mark__free(m->ctx, r);
        return MARK_OK;
    }
    bw = (uint32_t)(box[2] + 0.5);
    bh = (uint32_t)(box[3] + 0.5);
    d.x = (uint32_t)box[0];
    d.y = (uint32_t)box[1];
    d.w = d.x + bw + 2 <= W ? bw + 2 : W - d.x;
    d.h = d.y + bh + 2 <= H ? bh + 2 : H - d.y;
    mark__orient_rect(o, m->info.width, m->info.height, &d, &s);
    rc = m->c->pixels(m, s.x, s.y, s.w, s.h, &img, &rx, &ry);
    if (rc == MARK_OK && o > 1 && o <= 8) {
        /* turned upright: the box's pixels as displayed */
        mark__image_frame(&img, &f);
        rc = mark__orient_frame(m->ctx, o, m->info.width, m->info.height,
                                &f, rx, ry, &d, &df);
        mark__image_free(m->ctx, &img);
        if (rc == MARK_OK) {
            img.data = df.data;
            img.stride = df.stride;
            img.width = df.width;
            img.height = df.height;
            mark__pixel_layout(df.pixel, &img.channels, &img.depth);
            rx = d.x;
            ry = d.y;
        }
    }
    if (rc < 0) {
        snprintf(res->note, sizeof res->note, "pixels unreadable: %s",
                 mark_ctx_errmsg(m->ctx));
        mark__free(m->ctx, r);
        return rc == MARK_ENOMEM ? rc : MARK_OK;
    }
    res->score = mark__vrecord_score(r, box, &img, rx, ry);
    mark__image_free(m->ctx, &img);
    mark__free(m->ctx, r);
    res->checked = 1;
    res->found = mark__vrecord_found(res->score);
    res->ink_h = bh;
    res->ratio = (double)bh / (double)(W < H ? W : H);
    snprintf(res->note, sizeof res->note, "%s", res->found
             ? "label recorded in the XMP found in the pixels"
             : "label recorded in the XMP is not in the pixels any more");
    return MARK_OK;
}
