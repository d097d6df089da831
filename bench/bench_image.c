/*
 * bench_image.c - `make bench` for images: labelling (visible label +
 * metadata label, in memory) against a plain decode + encode of the same
 * file with the same libraries (libpng defaults; libjpeg at the file's
 * quality), measured side by side in one run and reported as a ratio,
 * since absolute times on shared machines mean little.
 *
 * Inputs are made here: a 4096x4096 RGB PNG and a 12 MP (4000x3000)
 * 4:2:0 JPEG at quality 90, both photo-like (gradients under texture);
 * and three 2 MP JPEGs at quality 90: the same kind of texture (4:2:0,
 * libjpeg's standard tables), a smooth photo-like picture saved the way
 * ImageMagick saves at quality 90 (4:4:4, optimised Huffman tables) and
 * a text screenshot (white page, dark words; 4:2:0, standard tables);
 * and a 1792x1024 JPEG of the texture (a size generators write; from
 * 1024 px a side the watermark works on 2 x 2 cells).
 * The plain re-encode keeps the file's chroma sampling and, if its
 * tables were optimised, optimises its own (as libmark does), so both
 * sides write the same kind of file.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jpeglib.h>
#include <png.h>

#include <mark.h>

typedef struct mem {
    unsigned char *p;
    size_t len, cap, pos;
} mem;

static double now(void)
{
    struct timespec ts;

    /* the CPU time of this process: everything here runs on one
     * thread, and on a shared machine other load then hardly moves the
     * figures (wall-clock medians swung by 40%) */
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pixel(uint32_t x, uint32_t y, uint32_t *seed, unsigned char *o)
{
    int n;

    *seed = *seed * 1103515245u + 12345u;
    n = (int)((*seed >> 16) % 32) - 16;
    o[0] = (unsigned char)(40 + (x * 170) / 4096 + n / 2);
    o[1] = (unsigned char)(30 + (y * 180) / 4096 + n / 2);
    o[2] = (unsigned char)(128 + 60 * sin(x / 57.0 + y / 91.0) + n / 2);
}

static void mem_write(png_structp p, png_bytep d, png_size_t n)
{
    mem *m = png_get_io_ptr(p);

    if (m->len + n > m->cap) {
        m->cap = (m->len + n) * 2;
        m->p = realloc(m->p, m->cap);
    }
    memcpy(m->p + m->len, d, n);
    m->len += n;
}

static void mem_read(png_structp p, png_bytep d, png_size_t n)
{
    mem *m = png_get_io_ptr(p);

    if (m->pos + n > m->len)
        png_error(p, "short read");
    memcpy(d, m->p + m->pos, n);
    m->pos += n;
}

static void png_encode(const unsigned char *rgb, uint32_t w, uint32_t h,
                       mem *out)
{
    png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL,
                                            NULL, NULL);
    png_infop i = png_create_info_struct(p);
    uint32_t y;

    png_set_write_fn(p, out, mem_write, NULL);
    png_set_IHDR(p, i, w, h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(p, i);
    for (y = 0; y < h; y++)
        png_write_row(p, rgb + (size_t)y * w * 3);
    png_write_end(p, i);
    png_destroy_write_struct(&p, &i);
}

/* The baseline: decode to rows, encode again, libpng defaults. */
static size_t png_roundtrip(const mem *in)
{
    mem src = *in, out = { NULL, 0, 0, 0 };
    png_structp p = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL,
                                           NULL, NULL);
    png_infop i = png_create_info_struct(p);
    unsigned char *rgb;
    uint32_t w, h, y;
    size_t n;

    src.pos = 0;
    png_set_read_fn(p, &src, mem_read);
    png_read_info(p, i);
    w = png_get_image_width(p, i);
    h = png_get_image_height(p, i);
    rgb = malloc((size_t)w * h * 3);
    for (y = 0; y < h; y++)
        png_read_row(p, rgb + (size_t)y * w * 3, NULL);
    png_read_end(p, NULL);
    png_destroy_read_struct(&p, &i, NULL);
    png_encode(rgb, w, h, &out);
    free(rgb);
    n = out.len;
    free(out.p);
    return n;
}

/* How a JPEG is written: the luma sampling factors across and down
 * (2 2: 4:2:0, 1 1: 4:4:4) and whether the Huffman tables are
 * optimised. */
typedef struct jstyle {
    int h, v;
    int optimise;
} jstyle;

static const jstyle LIBJPEG = { 2, 2, 0 }, MAGICK = { 1, 1, 1 };

static void jpeg_encode(unsigned char *rgb, uint32_t w, uint32_t h,
                        int q, jstyle st, mem *out)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    unsigned long len = 0;
    uint32_t y;

    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    out->p = NULL;
    jpeg_mem_dest(&c, &out->p, &len);
    c.image_width = w;
    c.image_height = h;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, q, TRUE);
    c.comp_info[0].h_samp_factor = st.h;
    c.comp_info[0].v_samp_factor = st.v;
    c.optimize_coding = st.optimise ? TRUE : FALSE;
    jpeg_start_compress(&c, TRUE);
    for (y = 0; y < h; y++) {
        JSAMPROW r = (JSAMPROW)(rgb + (size_t)y * w * 3);

        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    out->len = len;
}

/* A plain decode to RGB rows (the caller frees the pixels); st (if not
 * NULL) gets how the file was written: its luma sampling factors, and
 * optimised tables told by an AC table with fewer than the standard
 * table's 162 codes (the rule libmark follows). */
static unsigned char *jpeg_decode(const mem *in, uint32_t *pw, uint32_t *ph,
                                  jstyle *st)
{
    struct jpeg_decompress_struct d;
    struct jpeg_error_mgr e;
    unsigned char *rgb;
    uint32_t w, h;

    d.err = jpeg_std_error(&e);
    jpeg_create_decompress(&d);
    jpeg_mem_src(&d, in->p, (unsigned long)in->len);
    jpeg_read_header(&d, TRUE);
    if (st != NULL) {
        const JHUFF_TBL *t = d.ac_huff_tbl_ptrs[0];
        int i, n = 0;

        for (i = 1; t != NULL && i <= 16; i++)
            n += t->bits[i];
        st->h = d.comp_info[0].h_samp_factor;
        st->v = d.comp_info[0].v_samp_factor;
        st->optimise = n < 162;
    }
    jpeg_start_decompress(&d);
    w = d.output_width;
    h = d.output_height;
    rgb = malloc((size_t)w * h * 3);
    while (d.output_scanline < h) {
        JSAMPROW r = rgb + (size_t)d.output_scanline * w * 3;

        jpeg_read_scanlines(&d, &r, 1);
    }
    jpeg_finish_decompress(&d);
    jpeg_destroy_decompress(&d);
    *pw = w;
    *ph = h;
    return rgb;
}

/* Decode and encode again at quality q, written as the file was. */
static size_t jpeg_roundtrip(const mem *in, int q)
{
    unsigned char *rgb;
    mem out;
    uint32_t w, h;
    jstyle st;
    size_t n;

    rgb = jpeg_decode(in, &w, &h, &st);
    jpeg_encode(rgb, w, h, q, st, &out);
    free(rgb);
    n = out.len;
    free(out.p);
    return n;
}

/* A smooth photo-like picture: broad gradients, soft blobs and a little
 * sensor noise (sigma about 1.5 levels). */
static void photo_pixel(uint32_t x, uint32_t y, uint32_t *seed,
                        unsigned char *o)
{
    double u = x / 1920.0, v = y / 1080.0;
    double sky = 200 - 90 * v, hill = 0.55 + 0.08 * sin(6.0 * u);
    double blob = exp(-((u - 0.3) * (u - 0.3) + (v - 0.6) * (v - 0.6)) * 30);
    double base[3];
    int k;

    if (v < hill) {
        base[0] = sky * 0.55;
        base[1] = sky * 0.75;
        base[2] = sky;
    } else {
        base[0] = 60 + 40 * sin(13.0 * u + 7.0 * v);
        base[1] = 110 + 30 * cos(9.0 * u) - 40 * (v - hill);
        base[2] = 40;
    }
    for (k = 0; k < 3; k++) {
        double c;
        int n;

        *seed = *seed * 1103515245u + 12345u;
        n = (int)((*seed >> 16) % 7) - 3;
        c = base[k] + 90 * blob * (k == 0 ? 1.0 : 0.4) + n * 0.5;
        o[k] = (unsigned char)(c < 0 ? 0 : c > 255 ? 255 : c);
    }
}

/* A text screenshot: a white page with a coloured title bar and lines of
 * dark "words" (solid letter cells with a light gap between letters and
 * grey anti-aliased tops and bottoms); about as compressible as a real
 * one (a 1920x1080 code screenshot from the robustness corpus saved the
 * same way: 0.2 MB). */
static void text_page(unsigned char *rgb, uint32_t w, uint32_t h)
{
    uint32_t x, y, seed = 11;

    memset(rgb, 255, (size_t)w * h * 3);
    for (y = 0; y < 60 && y < h; y++)
        for (x = 0; x < w; x++) {
            unsigned char *p = rgb + ((size_t)y * w + x) * 3;

            p[0] = 30;
            p[1] = 90;
            p[2] = 160;
        }
    for (y = 100; y + 14 < h; y += 34) {
        uint32_t end;

        seed = seed * 1103515245u + 12345u;
        end = w / 3 + (seed >> 16) % (w / 2);
        x = 40;
        while (x + 40 < end) {
            uint32_t len, xx, yy;

            seed = seed * 1103515245u + 12345u;
            len = 12 + (seed >> 16) % 90;
            for (yy = 0; yy < 14; yy++)
                for (xx = 0; xx < len && x + xx < w - 40; xx++) {
                    unsigned char *p = rgb + ((size_t)(y + yy) * w + x +
                                              xx) * 3;
                    int ink = xx % 8 == 7 ? 235
                              : yy == 0 || yy == 13 ? 150 : 40;

                    p[0] = p[1] = p[2] = (unsigned char)ink;
                }
            x += len + 10;
        }
    }
}

static int with_watermark = 1;

/* The label renderer, made once, as each worker of `aimark mark` makes
 * one for all its files: the font is found and opened once, and the
 * label laid out once for a size (each row here repeats one file).  A
 * renderer per image cost about 1 ms more at 2 MP (fontconfig, FreeType
 * and HarfBuzz): 1.45-1.49x instead of 1.38x for the textured 2 MP
 * JPEG. */
static mark_visible *renderer;

/* Ours: all three marks (watermark, visible label, metadata label),
 * memory to memory. */
static size_t label(mark_ctx *ctx, const mem *in)
{
    mark_media *m = NULL;
    mark_visible *v = renderer;
    mark_label *l = NULL;
    void *out = NULL;
    size_t n = 0;

    if (mark_media_open_buffer(ctx, &m, in->p, in->len) != MARK_OK ||
        mark_label_new(ctx, &l) != MARK_OK) {
        fprintf(stderr, "bench: %s\n", mark_ctx_errmsg(ctx));
        exit(1);
    }
    mark_label_set(l, MARK_FIELD_LABEL, "1");
    mark_label_set(l, MARK_FIELD_CONTENT_PRODUCER,
                   "001191110102MAD55U9H0F10002");
    mark_label_set(l, MARK_FIELD_PRODUCE_ID, "bench-1");
    mark_label_first_write(l);
    if (mark_media_set_label(m, l) != MARK_OK ||
        mark_media_set_visible(m, v) != MARK_OK ||
        (with_watermark &&
         mark_media_set_watermark(m, NULL, NULL, 1.0) != MARK_OK) ||
        mark_media_save_buffer(m, &out, &n) != MARK_OK) {
        fprintf(stderr, "bench: %s\n", mark_ctx_errmsg(ctx));
        exit(1);
    }
    mark_free(ctx, out);
    mark_label_free(l);
    mark_media_free(m);
    return n;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static void row(const char *what, mark_ctx *ctx, const mem *in, int jpeg_q,
                int reps)
{
    double tb[16], tl[16];
    size_t nb = 0, nl = 0;
    int r;

    for (r = 0; r < reps; r++) {
        /* alternate, so both see the same machine load */
        double t0 = now();

        nb = jpeg_q ? jpeg_roundtrip(in, jpeg_q) : png_roundtrip(in);
        tb[r] = now() - t0;
        t0 = now();
        nl = label(ctx, in);
        tl[r] = now() - t0;
    }
    qsort(tb, (size_t)reps, sizeof tb[0], cmp_d);
    qsort(tl, (size_t)reps, sizeof tl[0], cmp_d);
    printf("| %s | %.1f MB | %.3f s | %.3f s | %.2fx | %+.1f%% | %+.1f%% |\n",
           what, in->len / 1e6, tb[reps / 2], tl[reps / 2],
           tl[reps / 2] / tb[reps / 2],
           100.0 * ((double)nb - in->len) / in->len,
           100.0 * ((double)nl - in->len) / in->len);
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 5;
    mark_ctx *ctx = NULL;
    unsigned char *rgb;
    mem png = { NULL, 0, 0, 0 }, jpg = { NULL, 0, 0, 0 };
    uint32_t x, y, seed = 1;

    if (reps < 1 || reps > 15)
        reps = 5;
    if (mark_ctx_new(&ctx, NULL) != MARK_OK ||
        mark_visible_new(ctx, &renderer) != MARK_OK)
        return 1;
    rgb = malloc((size_t)4096 * 4096 * 3);
    for (y = 0; y < 4096; y++)
        for (x = 0; x < 4096; x++)
            pixel(x, y, &seed, rgb + ((size_t)y * 4096 + x) * 3);
    png_encode(rgb, 4096, 4096, &png);
    for (y = 0; y < 3000; y++)
        memmove(rgb + (size_t)y * 4000 * 3, rgb + (size_t)y * 4096 * 3,
                4000 * 3);
    jpeg_encode(rgb, 4000, 3000, 90, LIBJPEG, &jpg);
    free(rgb);
    printf("Marking (watermark + visible label + metadata label) vs a "
           "plain decode +\nencode with the same libraries, median of %d "
           "alternating runs, one core, CPU time:\n\n", reps);
    printf("| input | size | decode+encode | label | ratio | size change "
           "(re-encode) | size change (label) |\n");
    printf("|---|---|---|---|---|---|---|\n");
    row("PNG 4096x4096 RGB", ctx, &png, 0, reps);
    with_watermark = 0;
    row("same, label + metadata only", ctx, &png, 0, reps);
    with_watermark = 1;
    row("JPEG 4000x3000 q90 4:2:0", ctx, &jpg, 90, reps);
    with_watermark = 0;
    row("same, label + metadata only", ctx, &jpg, 90, reps);
    with_watermark = 1;
    {
        /* a 2 MP JPEG: marking, and detection (incl. the sync search) */
        mem j2 = { NULL, 0, 0, 0 };
        unsigned char *small = malloc((size_t)1920 * 1080 * 3);
        double td[16], tp[16], tu[16];
        int r;

        seed = 7;
        for (y = 0; y < 1080; y++)
            for (x = 0; x < 1920; x++)
                pixel(x * 2, y * 2, &seed, small + ((size_t)y * 1920 + x) * 3);
        jpeg_encode(small, 1920, 1080, 90, LIBJPEG, &j2);
        row("JPEG 1920x1080 q90 (2 MP)", ctx, &j2, 90, reps);
        with_watermark = 0;
        row("same, label + metadata only", ctx, &j2, 90, reps);
        with_watermark = 1;
        {
            mem jp = { NULL, 0, 0, 0 }, jt = { NULL, 0, 0, 0 };

            seed = 5;
            for (y = 0; y < 1080; y++)
                for (x = 0; x < 1920; x++)
                    photo_pixel(x, y, &seed,
                                small + ((size_t)y * 1920 + x) * 3);
            jpeg_encode(small, 1920, 1080, 90, MAGICK, &jp);
            row("2 MP smooth photo, q90 4:4:4, optimised tables", ctx, &jp,
                90, reps);
            with_watermark = 0;
            row("same, label + metadata only", ctx, &jp, 90, reps);
            with_watermark = 1;
            text_page(small, 1920, 1080);
            jpeg_encode(small, 1920, 1080, 90, LIBJPEG, &jt);
            row("2 MP text screenshot, q90 4:2:0", ctx, &jt, 90, reps);
            with_watermark = 0;
            row("same, label + metadata only", ctx, &jt, 90, reps);
            with_watermark = 1;
            free(jp.p);
            free(jt.p);
        }
        {
            /* 1792 x 1024, a size image generators write: from 1024 px a
             * side the watermark works on 2 x 2 cells, as in the rows
             * above (under it, at full resolution: a Y plane from the
             * coefficients, four times the work) */
            mem jg = { NULL, 0, 0, 0 };

            seed = 9;
            for (y = 0; y < 1024; y++)
                for (x = 0; x < 1792; x++)
                    pixel(x * 2, y * 2, &seed,
                          small + ((size_t)y * 1792 + x) * 3);
            jpeg_encode(small, 1792, 1024, 90, LIBJPEG, &jg);
            row("JPEG 1792x1024 q90 4:2:0 (1.8 MP, generator size)", ctx,
                &jg, 90, reps);
            with_watermark = 0;
            row("same, label + metadata only", ctx, &jg, 90, reps);
            with_watermark = 1;
            free(jg.p);
        }
        free(small);
        {
            mark_media *m = NULL;
            void *out = NULL;
            size_t n = 0;

            /* a marked copy to detect in */
            if (mark_media_open_buffer(ctx, &m, j2.p, j2.len) != MARK_OK ||
                mark_media_set_watermark(m, NULL,
                                         &(mark_payload){ { 1, 2, 3, 4, 5,
                                                            6, 7, 8 } },
                                         1.0) != MARK_OK ||
                mark_media_save_buffer(m, &out, &n) != MARK_OK)
                return 1;
            mark_media_free(m);
            for (r = 0; r < reps; r++) {
                mark_watermark_info wi;
                double t0 = now();

                if (mark_media_open_buffer(ctx, &m, out, n) != MARK_OK)
                    return 1;
                tp[r] = now() - t0;       /* open incl. a decode check */
                t0 = now();
                mark_media_detect_watermark(m, NULL, &wi);
                td[r] = now() - t0;
                if (!wi.found)
                    printf("(watermark not found in run %d)\n", r);
                mark_media_free(m);
            }
            qsort(td, (size_t)reps, sizeof td[0], cmp_d);
            qsort(tp, (size_t)reps, sizeof tp[0], cmp_d);
            /* and in the unmarked original: nothing to find, so the
             * whole synchronisation search runs (the worst case) */
            for (r = 0; r < reps; r++) {
                mark_watermark_info wi;
                double t0;

                if (mark_media_open_buffer(ctx, &m, j2.p, j2.len) !=
                    MARK_OK)
                    return 1;
                t0 = now();
                mark_media_detect_watermark(m, NULL, &wi);
                tu[r] = now() - t0;
                if (wi.found)
                    printf("(watermark found in the unmarked image)\n");
                mark_media_free(m);
            }
            qsort(tu, (size_t)reps, sizeof tu[0], cmp_d);
            {
                double t0 = now(), tr, tdec;
                uint32_t w, h;

                for (r = 0; r < reps; r++)
                    jpeg_roundtrip(&(mem){ out, n, n, 0 }, 90);
                tr = (now() - t0) / reps;
                t0 = now();
                for (r = 0; r < reps; r++)
                    free(jpeg_decode(&(mem){ out, n, n, 0 }, &w, &h, NULL));
                tdec = (now() - t0) / reps;
                printf("\nDetection in a marked 2 MP JPEG (decode + sync "
                       "search + decoding), median: %.3f s; a plain decode "
                       "of it: %.3f s (ratio %.2f); a plain decode + encode: "
                       "%.3f s (ratio %.2f)\n", td[reps / 2], tdec,
                       td[reps / 2] / tdec, tr, td[reps / 2] / tr);
                printf("Detection in the unmarked 2 MP JPEG (the whole "
                       "search), median: %.3f s (ratio to a plain decode "
                       "%.2f)\n", tu[reps / 2], tu[reps / 2] / tdec);
            }
            mark_free(ctx, out);
        }
        free(j2.p);
    }
    free(png.p);
    free(jpg.p);
    mark_visible_free(renderer);
    mark_ctx_free(ctx);
    return 0;
}
