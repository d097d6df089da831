/*
 * visible.h - declarations shared by the files of libmark/visible/.
 */
#ifndef MARK_VISIBLE_H
#define MARK_VISIBLE_H

#include "internal.h"

/* An 8-bit coverage mask of rendered text.  The mask is cropped to the
 * pixels with any coverage; the ink box (pixels at least half covered,
 * what a reader sees as the text) lies inside it. */
typedef struct mark__mask {
    unsigned char *data;                 /* w * h bytes, allocated by ctx */
    uint32_t w;
    uint32_t h;
    uint32_t ix;                         /* ink box within the mask */
    uint32_t iy;
    uint32_t iw;
    uint32_t ih;
} mark__mask;

typedef struct mark__font mark__font;

/* Open the font file path (NULL: ask fontconfig for a bold CJK sans-serif
 * face covering every character of text) and check that it has a glyph
 * for every character of text. */
int mark__font_open(mark_ctx *ctx, const char *path, const char *text,
                    mark__font **out);
/* Shape text with HarfBuzz at px pixels per em and rasterise it with
 * FreeType (anti-aliased) into out. */
int mark__font_render(mark__font *f, const char *text, uint32_t px,
                      mark__mask *out);
/* Family name of the face, for reports. */
const char *mark__font_family(const mark__font *f);
void mark__font_free(mark__font *f);

void mark__mask_free(mark_ctx *ctx, mark__mask *m);

/* A label renderer (public as an opaque mark_visible). */
#define BYTE_BINS 4096                   /* linear to 8-bit sRGB table */

struct mark_visible {
    mark_ctx *ctx;
    char *text;
    char *font_path;                     /* NULL: fontconfig */
    int position;
    double height;                       /* ink height / shortest side */
    uint32_t text_rgb;
    uint32_t plate_rgb;                  /* or MARK_COLOR_AUTO */
    double opacity;                      /* < 0: automatic */
    mark__font *font;                    /* loaded on first use */
    /* layout cache, for one image size */
    uint32_t cw;
    uint32_t ch;
    mark__mask mask;                     /* the text */
    unsigned char *outline;              /* dilated mask, plate-sized */
    mark_box plate;
    mark_box ink;
    uint32_t pad;                        /* plate edge to mask */
    uint32_t margin;                     /* image edge to plate */
    float to_linear[256];                /* sRGB 8-bit -> linear */
    float to_byte[257];                  /* [k]: the least linear value
                                            whose 8-bit sRGB is k (k > 0);
                                            [256]: above all */
    unsigned char byte_at[BYTE_BINS + 1];/* the 8-bit sRGB of the bin
                                            starts (linear, BYTE_BINS a
                                            unit) */
};

/* What draw.c knows of a renderer, for record.c. */
const char *mark__visible_text(const mark_visible *v);
const char *mark__visible_family(const mark_visible *v);
const mark__mask *mark__visible_mask(const mark_visible *v);
uint32_t mark__visible_text_rgb(const mark_visible *v);
int mark__visible_position(const mark_visible *v);

#endif
