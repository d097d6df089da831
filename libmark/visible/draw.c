/*
 * draw.c - the explicit label on frames: layout (size from the pixels
 * actually drawn, placement), and gamma-aware compositing of a backing
 * plate, an outline and the text.
 *
 * Size: GB 45438 §5.2 wants the text at least 5% of the image's shortest
 * side.  The nominal font size says little about the height of the ink
 * ("AI生成" has no descenders; a Latin label does), so the text is
 * rendered, its ink box measured (pixels at least half covered) and the
 * size adjusted until the ink is as tall as asked.
 *
 * Legibility: a plate in a colour opposite to the text, whose opacity is
 * raised until the text reaches a 4.5:1 contrast against the brightest
 * (or darkest) 5% of the pixels under it, and an opaque outline around
 * the glyphs, so the label reads on white, black, noise and its own
 * colour alike.  Compositing is done in linear light, as light adds.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "visible.h"

#define DEFAULT_TEXT "AI\xe7\x94\x9f\xe6\x88\x90"      /* AI生成 */
#define MIN_FRACTION 0.05
#define MAX_FRACTION 0.25
#define LEGIBLE_PX 10          /* smallest ink height worth aiming for */


static void place(mark_visible *v, uint32_t W, uint32_t H, uint32_t margin);

static const char *const position_names[MARK_POS_COUNT_] = {
    "bottom-right", "bottom-left", "top-right", "top-left",
    "bottom", "top", "left", "right",
};

const char *mark_position_name(int p)
{
    return p >= 0 && p < MARK_POS_COUNT_ ? position_names[p] : NULL;
}

int mark_position_parse(const char *name)
{
    int i;

    for (i = 0; name != NULL && i < MARK_POS_COUNT_; i++)
        if (strcmp(name, position_names[i]) == 0)
            return i;
    return -1;
}

static float srgb_to_linear(float c)
{
    return c <= 0.04045f ? c / 12.92f : powf((c + 0.055f) / 1.055f, 2.4f);
}

static float linear_to_srgb(float c)
{
    if (c <= 0.0f)
        return 0.0f;
    if (c >= 1.0f)
        return 1.0f;
    return c <= 0.0031308f ? c * 12.92f
                           : 1.055f * powf(c, 1.0f / 2.4f) - 0.055f;
}

/* The 8-bit sRGB code of a linear value, as linear_to_srgb() rounds it. */
static int srgb_byte(float c)
{
    return (int)(linear_to_srgb(c) * 255.0f + 0.5f);
}

/* The thresholds of srgb_byte(): t[k] is the least float whose code is k
 * or more, found from the inverse and then moved one float at a time
 * (a step or two) to where srgb_byte() itself changes; and the code at
 * the start of each of BYTE_BINS bins of the linear range.  The code of
 * c is then the code of its bin, raised while c passes the next
 * threshold (a step at most, or two in the steep dark end): exactly
 * srgb_byte(c) (checked for every float from -0.01 to 1.01), without a
 * powf a channel. */
static void byte_tables(float *t, unsigned char *at)
{
    int k;

    t[0] = -FLT_MAX;
    for (k = 1; k < 256; k++) {
        float c = srgb_to_linear(((float)k - 0.5f) / 255.0f);

        while (srgb_byte(c) < k)
            c = nextafterf(c, 2.0f);
        while (srgb_byte(nextafterf(c, -1.0f)) >= k)
            c = nextafterf(c, -1.0f);
        t[k] = c;
    }
    t[256] = FLT_MAX;
    for (k = 0; k <= BYTE_BINS; k++)
        at[k] = (unsigned char)srgb_byte((float)k / BYTE_BINS);
}

/* srgb_byte(c) from the tables. */
static int table_byte(const mark_visible *v, float c)
{
    int k;

    if (c <= 0.0f)
        return 0;
    if (c >= 1.0f)
        return 255;
    k = v->byte_at[(int)(c * BYTE_BINS)];
    while (c >= v->to_byte[k + 1])
        k++;
    return k;
}

static void invalidate(mark_visible *v)
{
    mark__mask_free(v->ctx, &v->mask);
    mark__free(v->ctx, v->outline);
    v->outline = NULL;
    v->cw = v->ch = 0;
}

int mark_visible_new(mark_ctx *ctx, mark_visible **out)
{
    mark_visible *v;
    int i;

    if (out == NULL)
        return MARK_EINVAL;
    *out = NULL;
    if (ctx == NULL)
        return MARK_EINVAL;
    v = mark__calloc(ctx, 1, sizeof *v);
    if (v == NULL)
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    v->ctx = ctx;
    v->text = mark__strdup(ctx, DEFAULT_TEXT);
    if (v->text == NULL) {
        mark__free(ctx, v);
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    }
    v->position = MARK_POS_BOTTOM_RIGHT;
    v->height = 0.06;
    v->text_rgb = 0xffffff;
    v->plate_rgb = MARK_COLOR_AUTO;
    v->opacity = -1;
    for (i = 0; i < 256; i++)
        v->to_linear[i] = srgb_to_linear((float)i / 255.0f);
    byte_tables(v->to_byte, v->byte_at);
    *out = v;
    return MARK_OK;
}

void mark_visible_free(mark_visible *v)
{
    if (v == NULL)
        return;
    invalidate(v);
    mark__font_free(v->font);
    mark__free(v->ctx, v->text);
    mark__free(v->ctx, v->font_path);
    mark__free(v->ctx, v);
}

int mark_visible_set_text(mark_visible *v, const char *text, unsigned flags)
{
    char why[512], *t;
    int rc;

    if (v == NULL || text == NULL)
        return MARK_EINVAL;
    if (text[0] == '\0')
        return mark__err(v->ctx, MARK_ELABEL, "label text is empty");
    rc = mark_explicit_text_check(text, why, sizeof why);
    if (rc < 0 && !(flags & MARK_TEXT_FORCE))
        return mark__err(v->ctx, MARK_ELABEL, "%s", why);
    t = mark__strdup(v->ctx, text);
    if (t == NULL)
        return mark__err(v->ctx, MARK_ENOMEM, "out of memory");
    mark__free(v->ctx, v->text);
    v->text = t;
    mark__font_free(v->font);       /* coverage is per text */
    v->font = NULL;
    invalidate(v);
    return MARK_OK;
}

int mark_visible_set_font(mark_visible *v, const char *path)
{
    char *p = NULL;

    if (v == NULL)
        return MARK_EINVAL;
    if (path != NULL) {
        p = mark__strdup(v->ctx, path);
        if (p == NULL)
            return mark__err(v->ctx, MARK_ENOMEM, "out of memory");
    }
    mark__free(v->ctx, v->font_path);
    v->font_path = p;
    mark__font_free(v->font);
    v->font = NULL;
    invalidate(v);
    return MARK_OK;
}

int mark_visible_set_position(mark_visible *v, int position)
{
    if (v == NULL || position < 0 || position >= MARK_POS_COUNT_)
        return MARK_EINVAL;
    v->position = position;
    /* the text and its outline stay; only the plate moves */
    if (v->mask.data != NULL)
        place(v, v->cw, v->ch, v->margin);
    return MARK_OK;
}

int mark_visible_set_height(mark_visible *v, double fraction)
{
    if (v == NULL)
        return MARK_EINVAL;
    if (!(fraction >= MIN_FRACTION && fraction <= MAX_FRACTION))
        return mark__err(v->ctx, MARK_EINVAL, "label height %g is outside "
                         "%g (the rule's floor) to %g of the shortest side",
                         fraction, MIN_FRACTION, MAX_FRACTION);
    v->height = fraction;
    invalidate(v);
    return MARK_OK;
}

int mark_visible_set_colors(mark_visible *v, uint32_t text, uint32_t plate,
                            double opacity)
{
    if (v == NULL || text > 0xffffff ||
        (plate > 0xffffff && plate != MARK_COLOR_AUTO) || opacity > 1.0 ||
        opacity == 0.0)
        return MARK_EINVAL;
    v->text_rgb = text;
    v->plate_rgb = plate;
    v->opacity = opacity;
    return MARK_OK;
}

/* Render the text so that its ink is about want pixels tall. */
static int render_to(mark_visible *v, uint32_t want, mark__mask *m)
{
    uint32_t px = want + want / 3 + 1, tries;
    int rc;

    for (tries = 0; tries < 12; tries++) {
        uint32_t next;

        rc = mark__font_render(v->font, v->text, px, m);
        if (rc < 0)
            return rc;
        if (m->ih >= want && m->ih <= want + 1 + want / 50)
            return MARK_OK;
        next = (uint32_t)((double)px * want / m->ih + 0.5);
        if (m->ih < want && next <= px)
            next = px + 1;
        if (m->ih > want && next >= px)
            next = px - 1;
        if (next < 2)
            next = 2;
        if (tries == 11 || next == px)
            break;
        mark__mask_free(v->ctx, m);
        px = next;
    }
    /* ink heights move in steps: settle on one at least as tall as asked */
    while (m->ih < want && px < 65535) {
        mark__mask_free(v->ctx, m);
        rc = mark__font_render(v->font, v->text, ++px, m);
        if (rc < 0)
            return rc;
    }
    return MARK_OK;
}

/* Grow the mask by r pixels in every direction (a square max filter,
 * done as two 1-D passes), into a plate-sized buffer at offset pad. */
static int make_outline(mark_visible *v, uint32_t r)
{
    uint32_t pw = v->plate.w, ph = v->plate.h, x, y, k;
    unsigned char *tmp, *o;
    const mark__mask *m = &v->mask;

    o = mark__calloc(v->ctx, (size_t)pw, ph);
    tmp = mark__calloc(v->ctx, (size_t)pw, ph);
    if (o == NULL || tmp == NULL) {
        mark__free(v->ctx, o);
        mark__free(v->ctx, tmp);
        return mark__err(v->ctx, MARK_ENOMEM, "out of memory");
    }
    for (y = 0; y < m->h; y++)
        for (x = 0; x < m->w; x++) {
            unsigned char c = m->data[(size_t)y * m->w + x];
            uint32_t y0 = y + v->pad, x0 = x + v->pad;

            if (c == 0)
                continue;
            for (k = x0 - r; k <= x0 + r; k++)
                if (tmp[(size_t)y0 * pw + k] < c)
                    tmp[(size_t)y0 * pw + k] = c;
        }
    for (y = 0; y < ph; y++)
        for (x = 0; x < pw; x++) {
            unsigned char c = tmp[(size_t)y * pw + x];
            uint32_t y0 = y < r ? 0 : y - r;
            uint32_t y1 = y + r >= ph ? ph - 1 : y + r;

            if (c == 0)
                continue;
            for (k = y0; k <= y1; k++)
                if (o[(size_t)k * pw + x] < c)
                    o[(size_t)k * pw + x] = c;
        }
    mark__free(v->ctx, tmp);
    v->outline = o;
    return MARK_OK;
}

static void place(mark_visible *v, uint32_t W, uint32_t H, uint32_t margin)
{
    v->margin = margin;
    uint32_t pw = v->plate.w, ph = v->plate.h;
    uint32_t left = margin, right = W - margin - pw;
    uint32_t top = margin, bottom = H - margin - ph;
    uint32_t cx = (W - pw) / 2, cy = (H - ph) / 2;

    switch (v->position) {
    case MARK_POS_BOTTOM_LEFT: v->plate.x = left; v->plate.y = bottom; break;
    case MARK_POS_TOP_RIGHT: v->plate.x = right; v->plate.y = top; break;
    case MARK_POS_TOP_LEFT: v->plate.x = left; v->plate.y = top; break;
    case MARK_POS_BOTTOM: v->plate.x = cx; v->plate.y = bottom; break;
    case MARK_POS_TOP: v->plate.x = cx; v->plate.y = top; break;
    case MARK_POS_LEFT: v->plate.x = left; v->plate.y = cy; break;
    case MARK_POS_RIGHT: v->plate.x = right; v->plate.y = cy; break;
    default: v->plate.x = right; v->plate.y = bottom; break;
    }
    v->ink.x = v->plate.x + v->pad + v->mask.ix;
    v->ink.y = v->plate.y + v->pad + v->mask.iy;
    v->ink.w = v->mask.iw;
    v->ink.h = v->mask.ih;
}

int mark_visible_layout(mark_visible *v, uint32_t W, uint32_t H,
                        mark_box *plate, mark_box *ink)
{
    uint32_t shortest, floor_px, want, margin, r, attempt;
    int rc;

    if (v == NULL || W == 0 || H == 0)
        return MARK_EINVAL;
    if (v->cw == W && v->ch == H && v->mask.data != NULL)
        goto out;
    invalidate(v);
    if (v->font == NULL) {
        rc = mark__font_open(v->ctx, v->font_path, v->text, &v->font);
        if (rc < 0)
            return rc;
    }
    shortest = W < H ? W : H;
    floor_px = (uint32_t)ceil(MIN_FRACTION * shortest - 1e-9);
    if (floor_px < 1)
        floor_px = 1;
    want = (uint32_t)ceil(v->height * shortest - 1e-9);
    if (want < LEGIBLE_PX)
        want = LEGIBLE_PX;
    margin = (uint32_t)(0.02 * shortest + 0.5);
    if (margin < 1)
        margin = 1;
    for (attempt = 0; attempt < 8; attempt++) {
        uint32_t pw, ph, room_w, room_h;
        double shrink;

        if (want < floor_px)
            want = floor_px;
        rc = render_to(v, want, &v->mask);
        if (rc < 0)
            return rc;
        r = v->mask.ih / 14 + 1;
        v->pad = (uint32_t)(0.3 * v->mask.ih + 0.5);
        if (v->pad < r + 1)
            v->pad = r + 1;
        pw = v->mask.w + 2 * v->pad;
        ph = v->mask.h + 2 * v->pad;
        room_w = W > 2 * margin ? W - 2 * margin : 0;
        room_h = H > 2 * margin ? H - 2 * margin : 0;
        if (pw <= room_w && ph <= room_h) {
            v->plate.w = pw;
            v->plate.h = ph;
            v->cw = W;
            v->ch = H;
            place(v, W, H, margin);
            rc = make_outline(v, r);
            if (rc < 0) {
                invalidate(v);
                return rc;
            }
            goto out;
        }
        /* too big for the image: shrink, but never under the floor */
        shrink = fmin((double)room_w / pw, (double)room_h / ph);
        mark__mask_free(v->ctx, &v->mask);
        if (want <= floor_px || shrink <= 0)
            break;
        want = (uint32_t)(want * shrink);
        if (want < floor_px)
            want = floor_px;
        if (margin > 1 && attempt >= 2)
            margin = 1;
    }
    return mark__err(v->ctx, MARK_ELIMIT, "the label '%s' does not fit a "
                     "%ux%u image with text %u pixels tall (5%% of the "
                     "shortest side)", v->text, W, H, floor_px);
out:
    if (plate != NULL)
        *plate = v->plate;
    if (ink != NULL)
        *ink = v->ink;
    return MARK_OK;
}

/* ---- compositing ---- */

typedef struct px_access {
    int ch;                              /* colour channels: 1 or 3 */
    int alpha;                           /* has an alpha sample */
    int wide;                            /* 16-bit samples */
} px_access;

static px_access access_of(int pixel)
{
    px_access a;

    a.wide = pixel >= MARK_PIXEL_GRAY16;
    switch (pixel % 4) {
    case 0: a.ch = 1; a.alpha = 0; break;
    case 1: a.ch = 1; a.alpha = 1; break;
    case 2: a.ch = 3; a.alpha = 0; break;
    default: a.ch = 3; a.alpha = 1; break;
    }
    return a;
}

static float lum(const float c[3])
{
    return 0.2126f * c[0] + 0.7152f * c[1] + 0.0722f * c[2];
}

static void rgb_linear(uint32_t rgb, float c[3])
{
    c[0] = srgb_to_linear((float)((rgb >> 16) & 255) / 255.0f);
    c[1] = srgb_to_linear((float)((rgb >> 8) & 255) / 255.0f);
    c[2] = srgb_to_linear((float)(rgb & 255) / 255.0f);
}

/* Read pixel (x, y) of f as linear colour (grey fills all three). */
static void load(const mark_visible *v, const mark_frame *f, px_access a,
                 uint32_t x, uint32_t y, float c[3])
{
    const unsigned char *row = (const unsigned char *)f->data +
                               (size_t)y * f->stride;
    int n = a.ch + a.alpha, i;

    for (i = 0; i < a.ch; i++) {
        if (a.wide) {
            uint16_t s;

            memcpy(&s, row + ((size_t)x * n + i) * 2, 2);
            c[i] = srgb_to_linear((float)s / 65535.0f);
        } else {
            c[i] = v->to_linear[row[(size_t)x * n + i]];
        }
    }
    if (a.ch == 1)
        c[1] = c[2] = c[0];
}

static void store(const mark_visible *v, mark_frame const *f, px_access a,
                  uint32_t x, uint32_t y, const float c[3])
{
    unsigned char *row = (unsigned char *)f->data + (size_t)y * f->stride;
    int n = a.ch + a.alpha, i;
    float g[3];

    if (a.ch == 1)
        g[0] = lum(c);
    else
        memcpy(g, c, sizeof g);
    for (i = 0; i < a.ch; i++) {
        if (a.wide) {
            float s = linear_to_srgb(g[i]);
            uint16_t w = (uint16_t)(s * 65535.0f + 0.5f);

            memcpy(row + ((size_t)x * n + i) * 2, &w, 2);
        } else {
            row[(size_t)x * n + i] = (unsigned char)table_byte(v, g[i]);
        }
    }
    if (a.alpha) {                       /* the label is opaque */
        if (a.wide)
            memset(row + ((size_t)x * n + a.ch) * 2, 0xff, 2);
        else
            row[(size_t)x * n + a.ch] = 255;
    }
}

/* Opacity giving the text a 4.5:1 contrast over the plate composited on
 * the extreme 5% of the background (WCAG's contrast ratio). */
static float auto_opacity(const mark_visible *v, const mark_frame *f,
                          px_access a, const mark_box *b, uint32_t ox,
                          uint32_t oy, float lt, float lp)
{
    unsigned hist[256] = { 0 };
    unsigned total = 0, acc = 0, i;
    uint32_t x, y, step;
    float lbg, target, op;
    int light_text = lt > lp;

    step = (uint32_t)sqrt((double)b->w * b->h / 65536.0) + 1;
    for (y = b->y; y < b->y + b->h; y += step)
        for (x = b->x; x < b->x + b->w; x += step) {
            float c[3];
            int bin;

            load(v, f, a, x - ox, y - oy, c);
            bin = (int)(lum(c) * 255.0f + 0.5f);
            hist[bin < 0 ? 0 : bin > 255 ? 255 : bin]++;
            total++;
        }
    if (total == 0)
        return 0.6f;
    for (i = 0; i < 256; i++) {
        acc += hist[light_text ? 255 - i : i];
        if (acc * 20 >= total)
            break;
    }
    lbg = (float)(light_text ? 255 - i : i) / 255.0f;
    if (light_text)
        target = (lt + 0.05f) / 4.5f - 0.05f;
    else
        target = 4.5f * (lt + 0.05f) - 0.05f;
    if (fabsf(lbg - lp) < 1e-6f)
        op = 0.0f;
    else
        op = (lbg - target) / (lbg - lp);
    if (op < 0.45f)
        op = 0.45f;
    if (op > 0.92f)
        op = 0.92f;
    return op;
}

/* One channel of a pixel under the plate: the picture c, the plate
 * over it at opacity op, the outline at o, the text at t. */
static MARK__INLINE float blend(float c, float op, float o, float t,
                                float pc, float tc)
{
    c = c * (1.0f - op) + pc * op;
    c = c * (1.0f - o) + pc * o;
    return c * (1.0f - t) + tc * t;
}

/* 8-bit RGB without alpha (JPEG regions, most frames): the same values as
 * the general loop below, a row at a time.  Where neither outline nor
 * text covers a pixel (most of the plate), each channel's new code
 * depends on its old code alone (the outline and text steps then add
 * exact zeros), so it comes from a table of 256 made here. */
static void draw_rgb8(const mark_visible *v, const mark_frame *f,
                      uint32_t ox, uint32_t oy, float op, const float *tc,
                      const float *pc)
{
    const mark_box *b = &v->plate;
    unsigned char under[3][256];
    uint32_t x, y;
    int i, k;

    for (i = 0; i < 3; i++)
        for (k = 0; k < 256; k++)
            under[i][k] = (unsigned char)table_byte(
                v, blend(v->to_linear[k], op, 0.0f, 0.0f, pc[i], tc[i]));
    for (y = 0; y < b->h; y++) {
        unsigned char *p = (unsigned char *)f->data +
                           (size_t)(b->y + y - oy) * f->stride +
                           (size_t)(b->x - ox) * 3;
        const unsigned char *ol = v->outline + (size_t)y * b->w;
        const unsigned char *mk = NULL;
        uint32_t my = y - v->pad;

        if (y >= v->pad && my < v->mask.h)
            mk = v->mask.data + (size_t)my * v->mask.w;
        for (x = 0; x < b->w; x++, p += 3) {
            uint32_t mx = x - v->pad;
            unsigned tm = mk != NULL && x >= v->pad && mx < v->mask.w
                          ? mk[mx] : 0;
            float o, t;

            if (ol[x] == 0 && tm == 0) {
                p[0] = under[0][p[0]];
                p[1] = under[1][p[1]];
                p[2] = under[2][p[2]];
                continue;
            }
            o = (float)ol[x] / 255.0f;
            t = (float)tm / 255.0f;
            for (i = 0; i < 3; i++)
                p[i] = (unsigned char)table_byte(
                    v, blend(v->to_linear[p[i]], op, o, t, pc[i], tc[i]));
        }
    }
}

/* Draw on a frame that shows the part of a full_w x full_h image whose
 * top-left corner is (ox, oy): video frames pass the whole frame, the
 * JPEG path only the blocks under the label. */
int mark__visible_draw_region(mark_visible *v, const mark_frame *f,
                              uint32_t full_w, uint32_t full_h, uint32_t ox,
                              uint32_t oy)
{
    px_access a;
    float tc[3], pc[3], lt, lp, op;
    uint32_t plate = v->plate_rgb, x, y;
    const mark_box *b = &v->plate;
    int rc;

    if (f == NULL || f->data == NULL || f->pixel < 0 ||
        f->pixel >= MARK_PIXEL_COUNT_)
        return MARK_EINVAL;
    rc = mark_visible_layout(v, full_w, full_h, NULL, NULL);
    if (rc < 0)
        return rc;
    if (b->x < ox || b->y < oy || b->x + b->w > ox + f->width ||
        b->y + b->h > oy + f->height)
        return mark__err(v->ctx, MARK_EINVAL, "frame region does not "
                         "cover the label");
    a = access_of(f->pixel);
    rgb_linear(v->text_rgb, tc);
    lt = lum(tc);
    if (plate == MARK_COLOR_AUTO)
        plate = lt > 0.18f ? 0x000000 : 0xffffff;
    rgb_linear(plate, pc);
    lp = lum(pc);
    if (a.alpha)
        op = 1.0f;
    else if (v->opacity > 0)
        op = (float)v->opacity;
    else
        op = auto_opacity(v, f, a, b, ox, oy, lt, lp);
    if (a.ch == 3 && !a.wide && !a.alpha) {
        draw_rgb8(v, f, ox, oy, op, tc, pc);
        return MARK_OK;
    }
    for (y = 0; y < b->h; y++) {
        for (x = 0; x < b->w; x++) {
            float c[3], o, t;
            uint32_t mx = x - v->pad, my = y - v->pad;
            int i;

            load(v, f, a, b->x + x - ox, b->y + y - oy, c);
            o = (float)v->outline[(size_t)y * b->w + x] / 255.0f;
            t = 0.0f;
            if (x >= v->pad && y >= v->pad && mx < v->mask.w &&
                my < v->mask.h)
                t = (float)v->mask.data[(size_t)my * v->mask.w + mx] /
                    255.0f;
            for (i = 0; i < 3; i++)
                c[i] = blend(c[i], op, o, t, pc[i], tc[i]);
            store(v, f, a, b->x + x - ox, b->y + y - oy, c);
        }
    }
    return MARK_OK;
}

int mark_visible_draw(mark_visible *v, const mark_frame *frame,
                      mark_box *plate, mark_box *ink)
{
    int rc;

    if (v == NULL || frame == NULL)
        return MARK_EINVAL;
    rc = mark__visible_draw_region(v, frame, frame->width, frame->height, 0,
                                   0);
    if (rc < 0)
        return rc;
    if (plate != NULL)
        *plate = v->plate;
    if (ink != NULL)
        *ink = v->ink;
    return MARK_OK;
}

/* For the XMP record and the verifier. */
const char *mark__visible_text(const mark_visible *v)
{
    return v->text;
}

const char *mark__visible_family(const mark_visible *v)
{
    return v->font != NULL ? mark__font_family(v->font) : "";
}

const mark__mask *mark__visible_mask(const mark_visible *v)
{
    return &v->mask;
}

uint32_t mark__visible_text_rgb(const mark_visible *v)
{
    return v->text_rgb;
}

int mark__visible_position(const mark_visible *v)
{
    return v->position;
}
