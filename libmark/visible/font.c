/*
 * font.c - finding, shaping and rasterising the label text: fontconfig
 * picks the face, HarfBuzz shapes, FreeType renders anti-aliased glyphs.
 *
 * A label drawn with a missing glyph would show a box instead of the
 * text and fail the rules silently, so every character is checked twice:
 * against the face's character map before shaping, and for glyph 0
 * (.notdef) after it.
 */
#include <stdio.h>
#include <string.h>

#include <fontconfig/fontconfig.h>
#include <ft2build.h>
#include FT_FREETYPE_H
#include <hb-ft.h>
#include <hb.h>

#include "visible.h"

struct mark__font {
    mark_ctx *ctx;
    FT_Library lib;
    FT_Face face;
    char family[128];
};

/* Next code point of UTF-8 text, or -1 for a malformed sequence. */
static long next_cp(const unsigned char **p)
{
    const unsigned char *s = *p;
    long c;
    int n, i;

    if (s[0] < 0x80) {
        *p = s + 1;
        return s[0];
    }
    if ((s[0] & 0xe0) == 0xc0) {
        c = s[0] & 0x1f;
        n = 1;
    } else if ((s[0] & 0xf0) == 0xe0) {
        c = s[0] & 0x0f;
        n = 2;
    } else if ((s[0] & 0xf8) == 0xf0) {
        c = s[0] & 0x07;
        n = 3;
    } else {
        return -1;
    }
    for (i = 1; i <= n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return -1;
        c = (c << 6) | (s[i] & 0x3f);
    }
    *p = s + n + 1;
    return c;
}

static int utf8_ok(const char *text)
{
    const unsigned char *p = (const unsigned char *)text;

    while (*p)
        if (next_cp(&p) < 0)
            return 0;
    return 1;
}

/* Is c drawn at all (spaces and controls need no glyph)? */
static int needs_glyph(long c)
{
    return c > 0x20 && c != 0x7f && c != 0xa0 && c != 0x3000;
}

static int check_coverage(mark_ctx *ctx, FT_Face face, const char *text,
                          const char *name)
{
    const unsigned char *p = (const unsigned char *)text;
    long c;

    while (*p) {
        const unsigned char *at = p;

        c = next_cp(&p);
        if (needs_glyph(c) && FT_Get_Char_Index(face, (FT_ULong)c) == 0)
            return mark__err(ctx, MARK_EUNSUPPORTED, "font '%s' has no "
                             "glyph for '%.*s' (U+%04lX)", name,
                             (int)(p - at), (const char *)at, c);
    }
    return MARK_OK;
}

/* Ask fontconfig for a face that covers all of text, preferring a bold
 * CJK sans-serif for Simplified Chinese. */
static int find_font(mark_ctx *ctx, const char *text, char *file,
                     size_t cap, int *index)
{
    FcPattern *pat = NULL;
    FcFontSet *set = NULL;
    FcCharSet *want = NULL;
    FcResult res;
    const unsigned char *p = (const unsigned char *)text;
    int i, rc = MARK_EUNSUPPORTED;

    if (!FcInit())
        return mark__err(ctx, MARK_EBACKEND, "fontconfig cannot start");
    pat = FcPatternCreate();
    want = FcCharSetCreate();
    if (pat == NULL || want == NULL) {
        rc = mark__err(ctx, MARK_ENOMEM, "out of memory");
        goto done;
    }
    while (*p) {
        long c = next_cp(&p);

        if (needs_glyph(c))
            FcCharSetAddChar(want, (FcChar32)c);
    }
    FcPatternAddString(pat, FC_FAMILY, (const FcChar8 *)"Noto Sans CJK SC");
    FcPatternAddString(pat, FC_FAMILY, (const FcChar8 *)"sans-serif");
    FcPatternAddString(pat, FC_LANG, (const FcChar8 *)"zh-cn");
    FcPatternAddInteger(pat, FC_WEIGHT, FC_WEIGHT_BOLD);
    FcPatternAddCharSet(pat, FC_CHARSET, want);
    FcConfigSubstitute(NULL, pat, FcMatchPattern);
    FcDefaultSubstitute(pat);
    set = FcFontSort(NULL, pat, FcFalse, NULL, &res);
    for (i = 0; set != NULL && i < set->nfont; i++) {
        FcCharSet *have = NULL;
        FcChar8 *f = NULL;

        if (FcPatternGetCharSet(set->fonts[i], FC_CHARSET, 0, &have) !=
                FcResultMatch ||
            FcPatternGetString(set->fonts[i], FC_FILE, 0, &f) !=
                FcResultMatch ||
            !FcCharSetIsSubset(want, have))
            continue;
        if (FcPatternGetInteger(set->fonts[i], FC_INDEX, 0, index) !=
            FcResultMatch)
            *index = 0;
        snprintf(file, cap, "%s", (const char *)f);
        rc = MARK_OK;
        break;
    }
    if (rc != MARK_OK)
        mark__err(ctx, MARK_EUNSUPPORTED, "no installed font has glyphs for "
                  "every character of the label '%s' (install a CJK font "
                  "such as fonts-noto-cjk, or name one with --font)", text);
done:
    if (set != NULL)
        FcFontSetDestroy(set);
    if (want != NULL)
        FcCharSetDestroy(want);
    if (pat != NULL)
        FcPatternDestroy(pat);
    return rc;
}

int mark__font_open(mark_ctx *ctx, const char *path, const char *text,
                    mark__font **out)
{
    char file[4096];
    int index = 0, rc;
    FT_Error fe;
    mark__font *f;

    *out = NULL;
    if (!utf8_ok(text))
        return mark__err(ctx, MARK_ELABEL, "label text is not valid UTF-8");
    if (path == NULL) {
        rc = find_font(ctx, text, file, sizeof file, &index);
        if (rc < 0)
            return rc;
    } else {
        snprintf(file, sizeof file, "%s", path);
    }
    f = mark__calloc(ctx, 1, sizeof *f);
    if (f == NULL)
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    f->ctx = ctx;
    if (FT_Init_FreeType(&f->lib) != 0) {
        mark__free(ctx, f);
        return mark__err(ctx, MARK_EBACKEND, "FreeType cannot start");
    }
    fe = FT_New_Face(f->lib, file, index, &f->face);
    if (fe != 0) {
        const char *why = FT_Error_String(fe);

        rc = mark__err(ctx, MARK_EUNSUPPORTED, "cannot use font '%s': %s",
                       file, why != NULL ? why : "FreeType cannot open it");
        mark__font_free(f);
        return rc;
    }
    if (!FT_IS_SCALABLE(f->face)) {
        mark__font_free(f);
        return mark__err(ctx, MARK_EUNSUPPORTED, "font '%s' is not "
                         "scalable", file);
    }
    snprintf(f->family, sizeof f->family, "%.127s",
             f->face->family_name != NULL ? f->face->family_name : file);
    rc = check_coverage(ctx, f->face, text, f->family);
    if (rc < 0) {
        mark__font_free(f);
        return rc;
    }
    *out = f;
    return MARK_OK;
}

const char *mark__font_family(const mark__font *f)
{
    return f->family;
}

void mark__font_free(mark__font *f)
{
    if (f == NULL)
        return;
    if (f->face != NULL)
        FT_Done_Face(f->face);
    if (f->lib != NULL)
        FT_Done_FreeType(f->lib);
    mark__free(f->ctx, f);
}

void mark__mask_free(mark_ctx *ctx, mark__mask *m)
{
    mark__free(ctx, m->data);
    memset(m, 0, sizeof *m);
}

/* Glyph placements of one shaping run, in whole pixels. */
typedef struct placed {
    unsigned gid;
    long x;                              /* pen position, 26.6 */
    long y;
} placed;

static int blit_or_measure(mark__font *f, const placed *g, unsigned n,
                           unsigned char *dst, long ox, long oy,
                           uint32_t w, uint32_t h, long box[4])
{
    FT_GlyphSlot slot = f->face->glyph;
    unsigned i;

    for (i = 0; i < n; i++) {
        FT_Bitmap *bm = &slot->bitmap;
        long gx, gy;
        unsigned r, c;

        if (FT_Load_Glyph(f->face, g[i].gid, FT_LOAD_DEFAULT) != 0 ||
            FT_Render_Glyph(slot, FT_RENDER_MODE_NORMAL) != 0)
            return mark__err(f->ctx, MARK_EBACKEND, "FreeType cannot "
                             "render glyph %u of '%s'", g[i].gid,
                             f->family);
        if (bm->width == 0 || bm->rows == 0)
            continue;
        gx = (g[i].x >> 6) + slot->bitmap_left;
        gy = -(g[i].y >> 6) - slot->bitmap_top;     /* y grows down */
        if (dst == NULL) {
            if (gx < box[0]) box[0] = gx;
            if (gy < box[1]) box[1] = gy;
            if (gx + (long)bm->width > box[2]) box[2] = gx + bm->width;
            if (gy + (long)bm->rows > box[3]) box[3] = gy + bm->rows;
            continue;
        }
        for (r = 0; r < bm->rows; r++) {
            long y = gy - oy + (long)r;
            const unsigned char *src = bm->buffer + (long)r * bm->pitch;

            if (y < 0 || y >= (long)h)
                continue;
            for (c = 0; c < bm->width; c++) {
                long x = gx - ox + (long)c;
                unsigned char *d;

                if (x < 0 || x >= (long)w)
                    continue;
                d = dst + (size_t)y * w + (size_t)x;
                if (src[c] > *d)
                    *d = src[c];
            }
        }
    }
    return MARK_OK;
}

int mark__font_render(mark__font *f, const char *text, uint32_t px,
                      mark__mask *out)
{
    hb_buffer_t *buf = NULL;
    hb_font_t *hf = NULL;
    hb_glyph_info_t *info;
    hb_glyph_position_t *pos;
    placed *g = NULL;
    unsigned n = 0, i;
    long pen_x = 0, pen_y = 0, box[4] = { 0x7fffffff, 0x7fffffff,
                                          -0x7fffffff, -0x7fffffff };
    uint32_t x, y;
    int rc = MARK_OK;

    memset(out, 0, sizeof *out);
    if (FT_Set_Pixel_Sizes(f->face, 0, px) != 0)
        return mark__err(f->ctx, MARK_EBACKEND, "font '%s' cannot be set "
                         "to %u pixels", f->family, px);
    hf = hb_ft_font_create_referenced(f->face);
    buf = hb_buffer_create();
    hb_buffer_add_utf8(buf, text, -1, 0, -1);
    hb_buffer_guess_segment_properties(buf);
    hb_shape(hf, buf, NULL, 0);
    info = hb_buffer_get_glyph_infos(buf, &n);
    pos = hb_buffer_get_glyph_positions(buf, &n);
    if (n == 0) {
        rc = mark__err(f->ctx, MARK_ELABEL, "label text is empty");
        goto done;
    }
    g = mark__calloc(f->ctx, n, sizeof *g);
    if (g == NULL) {
        rc = mark__err(f->ctx, MARK_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < n; i++) {
        if (info[i].codepoint == 0) {
            /* .notdef: shaping found no glyph for this cluster */
            unsigned cl = info[i].cluster;

            rc = mark__err(f->ctx, MARK_EUNSUPPORTED, "font '%s' has no "
                           "glyph for the text at byte %u of '%s'",
                           f->family, cl, text);
            goto done;
        }
        g[i].gid = info[i].codepoint;
        g[i].x = pen_x + pos[i].x_offset;
        g[i].y = pen_y + pos[i].y_offset;
        pen_x += pos[i].x_advance;
        pen_y += pos[i].y_advance;
    }
    rc = blit_or_measure(f, g, n, NULL, 0, 0, 0, 0, box);
    if (rc < 0)
        goto done;
    if (box[2] <= box[0] || box[3] <= box[1]) {
        rc = mark__err(f->ctx, MARK_ELABEL, "label text draws nothing");
        goto done;
    }
    out->w = (uint32_t)(box[2] - box[0]);
    out->h = (uint32_t)(box[3] - box[1]);
    out->data = mark__calloc(f->ctx, (size_t)out->w, out->h);
    if (out->data == NULL) {
        rc = mark__err(f->ctx, MARK_ENOMEM, "out of memory");
        goto done;
    }
    rc = blit_or_measure(f, g, n, out->data, box[0], box[1], out->w, out->h,
                         box);
    if (rc < 0)
        goto done;
    /* the ink box: rows and columns with a pixel at least half covered */
    {
        uint32_t x0 = out->w, y0 = out->h, x1 = 0, y1 = 0;

        for (y = 0; y < out->h; y++)
            for (x = 0; x < out->w; x++)
                if (out->data[(size_t)y * out->w + x] >= 128) {
                    if (x < x0) x0 = x;
                    if (x > x1) x1 = x;
                    if (y < y0) y0 = y;
                    if (y > y1) y1 = y;
                }
        if (x0 > x1) {
            rc = mark__err(f->ctx, MARK_ELABEL, "label text is too thin "
                           "to draw at %u pixels", px);
            goto done;
        }
        out->ix = x0;
        out->iy = y0;
        out->iw = x1 - x0 + 1;
        out->ih = y1 - y0 + 1;
    }
done:
    if (rc < 0)
        mark__mask_free(f->ctx, out);
    mark__free(f->ctx, g);
    hb_buffer_destroy(buf);
    hb_font_destroy(hf);
    return rc;
}
