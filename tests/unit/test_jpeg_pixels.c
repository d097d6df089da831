/*
 * test_jpeg_pixels.c - JPEG editing in the coefficient domain: a file
 * written back without edits decodes to the same pixels with the same
 * segments and tables; a region changed and put back changes nothing
 * outside its iMCUs; damaged input fails cleanly.  White box: calls the
 * internal mark__jpeg_edit_* directly and checks the results with libjpeg.
 *
 * Fixtures come from genimg in $FIXTURES; a few more (odd sizes, other
 * qualities and samplings) are written here with libjpeg.
 */
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>

#include <jpeglib.h>

#include "internal.h"
#include "harness.h"

static mark_ctx *ctx;
static const char *fixdir;

/* ------------------------------------------------------------------ */
/* libjpeg as the reference decoder and as a fixture encoder            */

typedef struct terr {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
} terr;

static void t_error_exit(j_common_ptr ci)
{
    longjmp(((terr *)ci->err)->jb, 1);
}

static void t_emit(j_common_ptr ci, int level)
{
    if (level < 0)
        longjmp(((terr *)ci->err)->jb, 1);
}

static void t_output(j_common_ptr ci)
{
    (void)ci;
}

typedef struct dec {
    int w, h, nc;
    unsigned char *px;          /* malloc'd, w * h * nc */
    int progressive;
    unsigned restart;
    int cs;                     /* jpeg_color_space */
    int adobe;                  /* saw an Adobe marker: inverted CMYK */
    int hs[4], vs[4];
    int has_qt[4];
    UINT16 qt[4][64];
} dec;

typedef struct tdec {
    struct jpeg_decompress_struct d;
    terr err;
    dec *out;
    const unsigned char *p;
    size_t n;
    int fancy;
    int gray;                   /* decode to JCS_GRAYSCALE (Y only) */
} tdec;

static int dec_work(tdec *t)
{
    struct jpeg_decompress_struct *d = &t->d;
    dec *o = t->out;
    size_t rowlen;
    int i;

    jpeg_create_decompress(d);
    jpeg_mem_src(d, t->p, (unsigned long)t->n);
    jpeg_read_header(d, TRUE);
    d->do_fancy_upsampling = t->fancy ? TRUE : FALSE;
    d->dct_method = JDCT_ISLOW;
    if (t->gray)
        d->out_color_space = JCS_GRAYSCALE;
    o->progressive = d->progressive_mode;
    o->restart = d->restart_interval;
    o->cs = d->jpeg_color_space;
    o->adobe = d->saw_Adobe_marker;
    for (i = 0; i < d->num_components && i < 4; i++) {
        o->hs[i] = d->comp_info[i].h_samp_factor;
        o->vs[i] = d->comp_info[i].v_samp_factor;
    }
    for (i = 0; i < 4; i++) {
        o->has_qt[i] = d->quant_tbl_ptrs[i] != NULL;
        if (o->has_qt[i])
            memcpy(o->qt[i], d->quant_tbl_ptrs[i]->quantval,
                   sizeof o->qt[i]);
    }
    jpeg_start_decompress(d);
    o->w = (int)d->output_width;
    o->h = (int)d->output_height;
    o->nc = d->output_components;
    rowlen = (size_t)o->w * (size_t)o->nc;
    o->px = malloc(rowlen * (size_t)o->h);
    if (o->px == NULL)
        return 0;
    while (d->output_scanline < d->output_height) {
        JSAMPROW r = o->px + rowlen * d->output_scanline;

        jpeg_read_scanlines(d, &r, 1);
    }
    jpeg_finish_decompress(d);
    return 1;
}

/* Decode with libjpeg (warnings are failures); 1 on success.  gray: Y
 * only. */
static int decode_as(const unsigned char *p, size_t n, int fancy, int gray,
                     dec *out)
{
    tdec t;
    int ok;

    memset(&t, 0, sizeof t);
    t.gray = gray;
    memset(out, 0, sizeof *out);
    t.d.err = jpeg_std_error(&t.err.pub);
    t.err.pub.error_exit = t_error_exit;
    t.err.pub.emit_message = t_emit;
    t.err.pub.output_message = t_output;
    t.out = out;
    t.p = p;
    t.n = n;
    t.fancy = fancy;
    if (setjmp(t.err.jb))
        ok = 0;
    else
        ok = dec_work(&t);
    jpeg_destroy_decompress(&t.d);
    if (!ok) {
        free(out->px);
        out->px = NULL;
    }
    return ok;
}

static int decode(const unsigned char *p, size_t n, int fancy, dec *out)
{
    return decode_as(p, n, fancy, 0, out);
}

typedef struct enc_opts {
    int w, h;
    int gray;
    int quality;
    int hs, vs;                 /* luma sampling factors */
    int progressive;
    int ink;                    /* 1 CMYK, 2 YCCK, 3 CMYK without Adobe */
} enc_opts;

typedef struct tenc {
    struct jpeg_compress_struct c;
    terr err;
    const enc_opts *o;
    unsigned char *buf;
    unsigned long len;
} tenc;

/* Smooth gradients with a few edges, so every block has detail. */
static unsigned char pattern(int x, int y, int ch)
{
    int v = (x * 3 + y * 2 + ch * 40) & 255;

    if (((x / 11) + (y / 7)) % 3 == 0)
        v = 255 - v;
    return (unsigned char)v;
}

static int enc_work(tenc *t)
{
    struct jpeg_compress_struct *c = &t->c;
    const enc_opts *o = t->o;
    int nc = o->gray ? 1 : o->ink ? 4 : 3, x, ch;
    unsigned char *row = malloc((size_t)o->w * 4);

    if (row == NULL)
        return 0;
    jpeg_create_compress(c);
    jpeg_mem_dest(c, &t->buf, &t->len);
    c->image_width = (JDIMENSION)o->w;
    c->image_height = (JDIMENSION)o->h;
    c->input_components = nc;
    c->in_color_space = o->gray ? JCS_GRAYSCALE : o->ink ? JCS_CMYK
                                                         : JCS_RGB;
    jpeg_set_defaults(c);
    jpeg_set_quality(c, o->quality, TRUE);
    if (o->ink) {
        /* YCCK gets 2x2 luma and black, 1x1 chroma */
        jpeg_set_colorspace(c, o->ink == 2 ? JCS_YCCK : JCS_CMYK);
        c->write_Adobe_marker = o->ink != 3;
    } else if (!o->gray) {
        c->comp_info[0].h_samp_factor = o->hs;
        c->comp_info[0].v_samp_factor = o->vs;
    }
    if (o->progressive)
        jpeg_simple_progression(c);
    jpeg_start_compress(c, TRUE);
    while (c->next_scanline < c->image_height) {
        JSAMPROW r = row;

        for (x = 0; x < o->w; x++)
            for (ch = 0; ch < nc; ch++)
                row[x * nc + ch] = pattern(x, (int)c->next_scanline, ch);
        jpeg_write_scanlines(c, &r, 1);
    }
    jpeg_finish_compress(c);
    free(row);
    return 1;
}

/* A JPEG written by libjpeg into a malloc'd buffer; NULL on failure. */
static unsigned char *encode(const enc_opts *o, size_t *len)
{
    tenc t;
    int ok;

    memset(&t, 0, sizeof t);
    t.c.err = jpeg_std_error(&t.err.pub);
    t.err.pub.error_exit = t_error_exit;
    t.err.pub.emit_message = t_emit;
    t.err.pub.output_message = t_output;
    t.o = o;
    if (setjmp(t.err.jb))
        ok = 0;
    else
        ok = enc_work(&t);
    jpeg_destroy_compress(&t.c);
    if (!ok) {
        free(t.buf);
        return NULL;
    }
    *len = t.len;
    return t.buf;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static unsigned char *fixture(const char *name, size_t *len)
{
    char path[4096];
    unsigned char *p;

    snprintf(path, sizeof path, "%s/%s", fixdir, name);
    p = h_read(path, len);
    CHECK_MSG(p != NULL, "cannot read %s", path);
    return p;
}

typedef struct seg {
    size_t off, len;
} seg;

/* APPn and COM segments before the first SOS; returns how many (at most
 * max), or -1 when the walk fails. */
static int app_segments(const unsigned char *p, size_t n, seg *s, int max)
{
    size_t pos = 2;
    int k = 0;

    while (pos + 4 <= n && p[pos] == 0xff) {
        int mk = p[pos + 1];
        size_t len = ((size_t)p[pos + 2] << 8) | p[pos + 3];

        if (mk == 0xda)
            return k;
        if (pos + 2 + len > n)
            return -1;
        if (((mk >= 0xe0 && mk <= 0xef) || mk == 0xfe) && k < max) {
            s[k].off = pos;
            s[k].len = len + 2;
            k++;
        }
        pos += 2 + len;
    }
    return -1;
}

static int finish(mark__jpeg_edit *e, mark__buf *out)
{
    mark__buf_init(out, ctx);
    return mark__jpeg_edit_finish(e, out);
}

/* The colour of a decoded pixel as RGB (CMYK as Adobe-inverted). */
static void pixel_rgb(const dec *d, int x, int y, int rgb[3])
{
    const unsigned char *p = d->px + ((size_t)y * (size_t)d->w +
                                      (size_t)x) * (size_t)d->nc;
    int i;

    for (i = 0; i < 3; i++) {
        if (d->nc == 1)
            rgb[i] = p[0];
        else if (d->nc == 3)
            rgb[i] = p[i];
        else if (d->adobe)
            rgb[i] = (p[i] * p[3] + 127) / 255;
        else
            rgb[i] = ((255 - p[i]) * (255 - p[3]) + 127) / 255;
    }
}

/* Compare two decodings: outside [x0,x1)x[y0,y1) every sample must be
 * identical; inside, the largest RGB difference goes to *maxd. */
static void compare(const dec *a, const dec *b, int x0, int y0, int x1,
                    int y1, int *outside_diffs, int *maxd)
{
    int x, y, i;

    *outside_diffs = 0;
    *maxd = 0;
    for (y = 0; y < a->h; y++)
        for (x = 0; x < a->w; x++) {
            size_t o = ((size_t)y * (size_t)a->w + (size_t)x) *
                       (size_t)a->nc;

            if (x < x0 || x >= x1 || y < y0 || y >= y1) {
                if (memcmp(a->px + o, b->px + o, (size_t)a->nc) != 0)
                    (*outside_diffs)++;
            } else {
                int ca[3], cb[3];

                pixel_rgb(a, x, y, ca);
                pixel_rgb(b, x, y, cb);
                for (i = 0; i < 3; i++) {
                    int df = abs(ca[i] - cb[i]);

                    if (df > *maxd)
                        *maxd = df;
                }
            }
        }
}

static const char *const kinds[] = {
    "jpeg-baseline.jpg", "jpeg-progressive.jpg", "jpeg-gray.jpg",
    "jpeg-cmyk.jpg", "jpeg-444.jpg", "jpeg-restart.jpg", "jpeg-meta.jpg",
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

/* ------------------------------------------------------------------ */
/* No edits: same pixels, segments, tables                              */

static void check_unedited(const char *name, const unsigned char *in,
                           size_t in_len, int want_nc)
{
    mark__jpeg_edit *e = NULL;
    mark__buf out;
    dec a, b;
    seg sa[16], sb[16];
    uint32_t w, h;
    int nc, q, na, nb, i, rc;

    rc = mark__jpeg_edit_open(ctx, in, in_len, &e);
    CHECK_MSG(rc == MARK_OK, "%s: open: %s", name, mark_ctx_errmsg(ctx));
    if (rc != MARK_OK)
        return;
    mark__jpeg_edit_info(e, &w, &h, &nc, &q);
    CHECK_MSG(nc == want_nc, "%s: %d components", name, nc);
    CHECK(q >= 1 && q <= 100);
    rc = finish(e, &out);
    CHECK_MSG(rc == MARK_OK, "%s: finish: %s", name, mark_ctx_errmsg(ctx));
    mark__jpeg_edit_free(e);
    if (rc != MARK_OK) {
        mark__buf_free(&out);
        return;
    }
    CHECK(decode(in, in_len, 1, &a));
    CHECK_MSG(decode(out.data, out.len, 1, &b), "%s: output does not "
              "decode", name);
    if (a.px != NULL && b.px != NULL) {
        CHECK(a.w == (int)w && a.h == (int)h);
        CHECK(a.w == b.w && a.h == b.h && a.nc == b.nc);
        CHECK_MSG(a.w == b.w && a.h == b.h && a.nc == b.nc &&
                  memcmp(a.px, b.px, (size_t)a.w * (size_t)a.h *
                         (size_t)a.nc) == 0,
                  "%s: decoded pixels differ", name);
        CHECK_MSG(a.progressive == b.progressive, "%s: progressive %d -> %d",
                  name, a.progressive, b.progressive);
        CHECK_MSG(a.restart == b.restart, "%s: restart %u -> %u", name,
                  a.restart, b.restart);
        CHECK_MSG(a.cs == b.cs, "%s: colour space %d -> %d", name, a.cs,
                  b.cs);
        for (i = 0; i < 4; i++) {
            CHECK(a.hs[i] == b.hs[i] && a.vs[i] == b.vs[i]);
            CHECK_MSG(a.has_qt[i] == b.has_qt[i] &&
                      (!a.has_qt[i] ||
                       memcmp(a.qt[i], b.qt[i], sizeof a.qt[i]) == 0),
                      "%s: quantisation table %d differs", name, i);
        }
    }
    free(a.px);
    free(b.px);
    na = app_segments(in, in_len, sa, 16);
    nb = app_segments(out.data, out.len, sb, 16);
    CHECK_MSG(na >= 0 && na == nb, "%s: %d APPn/COM segments in, %d out",
              name, na, nb);
    for (i = 0; i < na && na == nb; i++)
        CHECK_MSG(sa[i].len == sb[i].len &&
                  memcmp(in + sa[i].off, out.data + sb[i].off,
                         sa[i].len) == 0,
                  "%s: segment %d (0x%02x) differs", name, i,
                  in[sa[i].off + 1]);
    /* optimised Huffman tables make small files smaller still */
    CHECK_MSG((double)out.len <= (double)in_len * 1.15 &&
              (double)out.len >= (double)in_len * 0.5,
              "%s: %zu bytes in, %zu out", name, in_len, out.len);
    mark__buf_free(&out);
}

static void test_unedited(void)
{
    size_t i;

    for (i = 0; i < N_KINDS; i++) {
        size_t len;
        unsigned char *in = fixture(kinds[i], &len);
        int nc = strstr(kinds[i], "gray") ? 1
                 : strstr(kinds[i], "cmyk") ? 4 : 3;

        if (in == NULL)
            continue;
        check_unedited(kinds[i], in, len, nc);
        free(in);
    }
}

/* Bytes after EOI come back after the new EOI. */
static void test_trailing(void)
{
    static const char tail[] = "TRAILING-BYTES";
    mark__jpeg_edit *e = NULL;
    mark__buf out;
    size_t len, tl = sizeof tail - 1;
    unsigned char *in = fixture("jpeg-baseline.jpg", &len), *big;

    if (in == NULL)
        return;
    big = malloc(len + tl);
    memcpy(big, in, len);
    memcpy(big + len, tail, tl);
    CHECK_RC(mark__jpeg_edit_open(ctx, big, len + tl, &e), MARK_OK);
    CHECK_RC(finish(e, &out), MARK_OK);
    CHECK(out.len > tl + 2 && memcmp(out.data + out.len - tl, tail, tl) == 0
          && out.data[out.len - tl - 2] == 0xff &&
          out.data[out.len - tl - 1] == 0xd9);
    mark__buf_free(&out);
    mark__jpeg_edit_free(e);
    free(big);
    free(in);
}

/* ------------------------------------------------------------------ */
/* Regions                                                             */

enum edit { ED_NONE, ED_LSB, ED_WHITE, ED_ADD, ED_RED };

typedef struct rect {
    uint32_t x, y, w, h;
} rect;

/* Edit the regions r[0..n) of in, each with a get and a put; the grown
 * regions go to g[].  Returns the new file in out (MARK_OK) or a status. */
static int edit_regions(const unsigned char *in, size_t len, const rect *r,
                        rect *g, int n, enum edit how, mark__buf *out)
{
    mark__jpeg_edit *e = NULL;
    int rc, i;

    mark__buf_init(out, ctx);
    rc = mark__jpeg_edit_open(ctx, in, len, &e);
    for (i = 0; i < n && rc == MARK_OK; i++) {
        mark__image img;
        uint32_t rx = 0, ry = 0, x, y;
        int c;

        rc = mark__jpeg_edit_get(e, r[i].x, r[i].y, r[i].w, r[i].h, &img,
                                 &rx, &ry);
        if (rc != MARK_OK)
            break;
        g[i].x = rx;
        g[i].y = ry;
        g[i].w = img.width;
        g[i].h = img.height;
        for (y = 0; y < img.height; y++)
            for (x = 0; x < img.width; x++) {
                unsigned char *p = img.data + y * img.stride +
                                   (size_t)x * (size_t)img.channels;
                int inside = x + rx >= r[i].x && x + rx < r[i].x + r[i].w &&
                             y + ry >= r[i].y && y + ry < r[i].y + r[i].h;

                for (c = 0; c < img.channels; c++) {
                    if (how == ED_LSB)
                        p[c] ^= 1;
                    else if (how == ED_WHITE && inside)
                        p[c] = 255;
                    else if (how == ED_ADD && inside)
                        p[c] = (unsigned char)(p[c] > 245 ? 255 : p[c] + 10);
                    else if (how == ED_RED && inside)
                        p[c] = c == 0 ? 200 : 40;
                }
            }
        rc = mark__jpeg_edit_put(e, &img, rx, ry);
        mark__image_free(ctx, &img);
    }
    if (rc == MARK_OK)
        rc = mark__jpeg_edit_finish(e, out);
    mark__jpeg_edit_free(e);
    return rc;
}

/* Mean of channel ch (-1: RGB average) over r; with base, of the
 * difference to base, counting only pixels base has in [20, 235]. */
static double mean_of(const dec *d, const dec *base, const rect *r, int ch)
{
    double sum = 0;
    long n = 0;
    uint32_t x, y;
    int i;

    for (y = r->y; y < r->y + r->h && (int)y < d->h; y++)
        for (x = r->x; x < r->x + r->w && (int)x < d->w; x++) {
            int rgb[3], b[3] = { 0, 0, 0 }, skip = 0;

            pixel_rgb(d, (int)x, (int)y, rgb);
            if (base != NULL) {
                pixel_rgb(base, (int)x, (int)y, b);
                for (i = 0; i < 3; i++)
                    skip |= b[i] < 20 || b[i] > 235;
                if (skip)
                    continue;
            }
            for (i = 0; i < 3; i++)
                rgb[i] -= b[i];
            sum += ch < 0 ? (rgb[0] + rgb[1] + rgb[2]) / 3.0 : rgb[ch];
            n++;
        }
    return n ? sum / (double)n : 0;
}

static void check_region(const char *name, const unsigned char *in,
                         size_t len, const rect *r, int n, enum edit how,
                         int maxdiff)
{
    mark__buf out;
    rect g[4];
    dec a, b;
    int rc, i, outside, maxd, x0 = 1 << 30, y0 = 1 << 30, x1 = 0, y1 = 0;

    rc = edit_regions(in, len, r, g, n, how, &out);
    CHECK_MSG(rc == MARK_OK, "%s: edit: %s", name, mark_ctx_errmsg(ctx));
    if (rc != MARK_OK) {
        mark__buf_free(&out);
        return;
    }
    /* the bounding box of the grown regions (callers keep them apart
     * only where it matters) */
    for (i = 0; i < n; i++) {
        x0 = (int)g[i].x < x0 ? (int)g[i].x : x0;
        y0 = (int)g[i].y < y0 ? (int)g[i].y : y0;
        x1 = (int)(g[i].x + g[i].w) > x1 ? (int)(g[i].x + g[i].w) : x1;
        y1 = (int)(g[i].y + g[i].h) > y1 ? (int)(g[i].y + g[i].h) : y1;
    }
    /* plain upsampling: a fancy one lets chroma reach one pixel over */
    CHECK(decode(in, len, 0, &a));
    CHECK_MSG(decode(out.data, out.len, 0, &b), "%s: output does not "
              "decode", name);
    if (a.px != NULL && b.px != NULL && a.w == b.w && a.h == b.h &&
        a.nc == b.nc) {
        compare(&a, &b, x0, y0, x1, y1, &outside, &maxd);
        CHECK_MSG(outside == 0, "%s: %d samples changed outside the grown "
                  "region", name, outside);
        if (how == ED_WHITE) {
            for (i = 0; i < n; i++) {
                double m = mean_of(&b, NULL, &r[i], -1);

                CHECK_MSG(m > 230, "%s: painted area mean %.1f", name, m);
            }
        } else if (how == ED_ADD) {
            for (i = 0; i < n; i++) {
                double m = mean_of(&b, &a, &r[i], -1);

                CHECK_MSG(m > 8 && m < 12, "%s: brightened by %.1f, not 10",
                          name, m);
            }
        } else if (how == ED_RED) {
            for (i = 0; i < n; i++) {
                double mr = mean_of(&b, NULL, &r[i], 0);
                double mg = mean_of(&b, NULL, &r[i], 1);
                double mb = mean_of(&b, NULL, &r[i], 2);

                if (a.nc == 1)
                    CHECK_MSG(fabs(mr - 200) < 6, "%s: grey %.1f", name,
                              mr);
                else
                    CHECK_MSG(fabs(mr - 200) < 12 && fabs(mg - 40) < 12 &&
                              fabs(mb - 40) < 12, "%s: red painted as "
                              "%.0f,%.0f,%.0f", name, mr, mg, mb);
            }
        } else {
            CHECK_MSG(maxd <= maxdiff, "%s: max difference %d inside the "
                      "region (limit %d)", name, maxd, maxdiff);
        }
    } else {
        CHECK_MSG(0, "%s: decodings differ in size", name);
    }
    free(a.px);
    free(b.px);
    mark__buf_free(&out);
}

static void test_regions(void)
{
    static const rect one = { 13, 7, 20, 20 };
    static const rect corner = { 40, 30, 100, 100 };
    static const rect big = { 8, 8, 40, 32 };
    static const rect two[2] = { { 2, 3, 5, 5 }, { 50, 36, 6, 6 } };
    size_t i;

    for (i = 0; i < N_KINDS; i++) {
        size_t len;
        unsigned char *in = fixture(kinds[i], &len);
        int lim = strstr(kinds[i], "gray") ? 2 : 6;
        char label[128];

        if (in == NULL)
            continue;
        snprintf(label, sizeof label, "%s unchanged", kinds[i]);
        check_region(label, in, len, &one, 1, ED_NONE, 0);
        snprintf(label, sizeof label, "%s lsb", kinds[i]);
        check_region(label, in, len, &one, 1, ED_LSB, lim);
        snprintf(label, sizeof label, "%s lsb corner", kinds[i]);
        check_region(label, in, len, &corner, 1, ED_LSB, lim);
        snprintf(label, sizeof label, "%s white", kinds[i]);
        check_region(label, in, len, &one, 1, ED_WHITE, 0);
        snprintf(label, sizeof label, "%s white corner", kinds[i]);
        check_region(label, in, len, &corner, 1, ED_WHITE, 0);
        snprintf(label, sizeof label, "%s white two", kinds[i]);
        check_region(label, in, len, two, 2, ED_WHITE, 0);
        snprintf(label, sizeof label, "%s brighter", kinds[i]);
        check_region(label, in, len, &big, 1, ED_ADD, 0);
        snprintf(label, sizeof label, "%s red", kinds[i]);
        check_region(label, in, len, &big, 1, ED_RED, 0);
        free(in);
    }
}

/* Sizes that are no multiple of the MCU, and other samplings. */
static void test_odd_sizes(void)
{
    static const enc_opts opts[] = {
        { 70, 45, 0, 75, 2, 2, 0, 0 },
        { 37, 29, 0, 90, 2, 1, 0, 0 },
        { 33, 17, 0, 80, 1, 2, 1, 0 },
        { 53, 61, 1, 70, 1, 1, 1, 0 },
        { 9, 9, 0, 95, 1, 1, 0, 0 },
        { 45, 30, 0, 85, 1, 1, 0, 2 },
        { 40, 24, 0, 85, 1, 1, 1, 2 },
        { 24, 40, 0, 60, 1, 1, 0, 3 },
    };
    static const rect all = { 0, 0, 1000, 1000 };
    size_t i;

    for (i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        size_t len;
        unsigned char *in = encode(&opts[i], &len);
        char label[128];
        /* LSB noise on four inks at quality 60 flips a few more
         * coefficients than on YCbCr */
        int lim = opts[i].gray ? 2 : opts[i].ink ? 10 : 6;
        rect r = { 1, 1, 3, 3 };
        rect edge;

        CHECK(in != NULL);
        if (in == NULL)
            continue;
        /* even, so that no chroma sample is half painted */
        edge.x = ((uint32_t)opts[i].w - 5) & ~1u;
        edge.y = ((uint32_t)opts[i].h - 4) & ~1u;
        edge.w = edge.h = 100;
        snprintf(label, sizeof label, "%dx%d h%dv%d ink %d", opts[i].w,
                 opts[i].h, opts[i].hs, opts[i].vs, opts[i].ink);
        check_unedited(label, in, len, opts[i].gray ? 1 : opts[i].ink ? 4
                                                                      : 3);
        check_region(label, in, len, &all, 1, ED_NONE, 0);
        check_region(label, in, len, &all, 1, ED_LSB, lim);
        check_region(label, in, len, &edge, 1, ED_LSB, lim);
        check_region(label, in, len, &edge, 1, ED_WHITE, 0);
        check_region(label, in, len, &r, 1, ED_WHITE, 0);
        check_region(label, in, len, &all, 1, ED_ADD, 0);
        check_region(label, in, len, &edge, 1, ED_RED, 0);
        free(in);
    }
}

/* The 2 x 2 cell view of Y (the watermark's path for large images):
 * cell means straight from the coefficients agree with libjpeg's own
 * decoding; the mean squares agree block by block; and a change made on
 * cells comes out in the decoded pixels. */
static void check_cells(const enc_opts *o)
{
    size_t len, lo;
    unsigned char *in = encode(o, &len);
    mark__jpeg_edit *e = NULL;
    mark__buf out;
    float *v2 = NULL, *s2 = NULL, *d2;
    dec ref, after;
    int w2 = (o->w + 1) / 2, h2 = (o->h + 1) / 2, i, j, bx, by, n = 0;
    double worst = 0, err = 0, shift = 0;

    CHECK(in != NULL);
    if (in == NULL)
        return;
    CHECK(decode_as(in, len, 1, 1, &ref));
    CHECK_RC(mark__jpeg_edit_open(ctx, in, len, &e), MARK_OK);
    if (e == NULL || ref.px == NULL) {
        free(in);
        free(ref.px);
        mark__jpeg_edit_free(e);
        return;
    }
    CHECK_RC(mark__jpeg_edit_cells(e, &v2, &s2), MARK_OK);
    for (j = 0; v2 != NULL && j < o->h / 2; j++)
        for (i = 0; i < o->w / 2; i++) {
            const unsigned char *p = ref.px + (size_t)2 * j * ref.w + 2 * i;
            double m = (p[0] + p[1] + p[ref.w] + p[ref.w + 1]) / 4.0;
            double d = fabs(m - v2[(size_t)j * w2 + i]);

            worst = d > worst ? d : worst;
            err += d;
            n++;
        }
    /* libjpeg's integer transform rounds each pixel; ours does not */
    CHECK_MSG(worst <= 1.5 && err < 0.35 * n, "%dx%d gray %d: cell mean "
              "off by %.2f at worst, %.2f on average", o->w, o->h, o->gray,
              worst, n ? err / n : 0);
    err = 0;
    n = 0;
    for (by = 0; v2 != NULL && by < o->h / 8; by++)
        for (bx = 0; bx < o->w / 8; bx++) {
            double ps = 0, pm = 0, cs = 0;

            for (j = 0; j < 8; j++)
                for (i = 0; i < 8; i++) {
                    double p = ref.px[(size_t)(by * 8 + j) * ref.w +
                                      bx * 8 + i];

                    ps += p * p / 64;
                    pm += p / 64;
                }
            for (j = 0; j < 4; j++)
                for (i = 0; i < 4; i++)
                    cs += s2[(size_t)(by * 4 + j) * w2 + bx * 4 + i] / 16;
            CHECK_MSG(fabs(cs - ps) <= 2 * pm + 2, "%dx%d block %d,%d: mean "
                      "square %.1f, pixels %.1f", o->w, o->h, bx, by, cs, ps);
        }
    /* +8 / -8 on alternate cells, then decoded again */
    d2 = malloc(sizeof(float) * (size_t)w2 * h2);
    CHECK(d2 != NULL);
    for (j = 0; d2 != NULL && j < h2; j++)
        for (i = 0; i < w2; i++)
            d2[(size_t)j * w2 + i] = (i + j) % 2 ? 8.0f : -8.0f;
    mark__buf_init(&out, ctx);
    if (d2 != NULL && v2 != NULL) {
        CHECK_RC(mark__jpeg_edit_add_cells(e, d2), MARK_OK);
        CHECK_RC(mark__jpeg_edit_finish(e, &out), MARK_OK);
        CHECK(decode_as(out.data, out.len, 1, 1, &after));
        for (j = 1; after.px != NULL && j < o->h / 2 - 1; j++)
            for (i = 1; i < o->w / 2 - 1; i++)
                for (lo = 0; lo < 4; lo++) {
                    size_t at = (size_t)(2 * j + lo / 2) * ref.w + 2 * i +
                                lo % 2;
                    double want = d2[(size_t)j * w2 + i];
                    double got = (double)after.px[at] - ref.px[at];

                    /* clipped at the ends of the range: skip */
                    if (ref.px[at] < 12 || ref.px[at] > 243)
                        continue;
                    err += fabs(got - want);
                    shift += got * want / 64;
                    n++;
                }
        CHECK_MSG(n > 0 && err / n < 1.5, "%dx%d: cell change off by %.2f "
                  "on average", o->w, o->h, n ? err / n : 0);
        CHECK_MSG(n > 0 && shift / n > 0.9, "%dx%d: cell change came "
                  "through at %.2f", o->w, o->h, n ? shift / n : 0);
        free(after.px);
    }
    mark__buf_free(&out);
    free(d2);
    mark__free(ctx, v2);
    mark__free(ctx, s2);
    mark__jpeg_edit_free(e);
    free(ref.px);
    free(in);
}

static void test_cells(void)
{
    static const enc_opts opts[] = {
        { 96, 64, 1, 95, 1, 1, 0, 0 },
        { 70, 45, 0, 95, 2, 2, 0, 0 },
        { 53, 61, 0, 95, 1, 1, 1, 0 },
        { 37, 29, 1, 95, 1, 1, 0, 0 },
    };
    static const enc_opts cmyk = { 24, 40, 0, 90, 1, 1, 0, 1 };
    mark__jpeg_edit *e = NULL;
    float *v2 = NULL, *s2 = NULL;
    unsigned char *in;
    size_t i, len;

    for (i = 0; i < sizeof opts / sizeof opts[0]; i++)
        check_cells(&opts[i]);
    /* no Y plane: the caller takes the pixel path */
    in = encode(&cmyk, &len);
    CHECK(in != NULL);
    if (in != NULL && mark__jpeg_edit_open(ctx, in, len, &e) == MARK_OK) {
        CHECK_RC(mark__jpeg_edit_cells(e, &v2, &s2), MARK_EUNSUPPORTED);
        CHECK(v2 == NULL && s2 == NULL);
        CHECK_RC(mark__jpeg_edit_add_cells(e, NULL), MARK_EUNSUPPORTED);
    }
    mark__jpeg_edit_free(e);
    free(in);
}

/* Regions are grown to whole iMCUs and clipped; _put wants one of them. */
static void test_geometry(void)
{
    mark__jpeg_edit *e = NULL;
    mark__image img;
    size_t len;
    uint32_t rx = 99, ry = 99;
    unsigned char *in = fixture("jpeg-baseline.jpg", &len);

    if (in == NULL)
        return;
    CHECK_RC(mark__jpeg_edit_open(ctx, in, len, &e), MARK_OK);
    if (e == NULL) {
        free(in);
        return;
    }
    /* 4:2:0: 16x16 iMCUs on a 64x48 image */
    CHECK_RC(mark__jpeg_edit_get(e, 13, 7, 20, 20, &img, &rx, &ry), MARK_OK);
    CHECK(rx == 0 && ry == 0 && img.width == 48 && img.height == 32 &&
          img.channels == 3 && img.depth == 8 && img.stride == 48 * 3);
    CHECK_RC(mark__jpeg_edit_put(e, &img, 32, 0), MARK_EINVAL);
    CHECK_RC(mark__jpeg_edit_put(e, &img, 1, 0), MARK_EINVAL);
    img.channels = 1;
    CHECK_RC(mark__jpeg_edit_put(e, &img, 0, 0), MARK_EINVAL);
    img.channels = 3;
    CHECK_RC(mark__jpeg_edit_put(e, &img, 0, 0), MARK_OK);
    mark__image_free(ctx, &img);
    CHECK_RC(mark__jpeg_edit_get(e, 60, 40, 4000, 4000, &img, &rx, &ry),
             MARK_OK);
    CHECK(rx == 48 && ry == 32 && img.width == 16 && img.height == 16);
    mark__image_free(ctx, &img);
    CHECK_RC(mark__jpeg_edit_get(e, 64, 0, 1, 1, &img, &rx, &ry),
             MARK_EINVAL);
    CHECK(img.data == NULL);
    CHECK_RC(mark__jpeg_edit_get(e, 0, 0, 0, 1, &img, &rx, &ry),
             MARK_EINVAL);
    mark__jpeg_edit_free(e);
    mark__jpeg_edit_free(NULL);
    free(in);
}

/* ------------------------------------------------------------------ */
/* Quality                                                             */

static void test_quality(void)
{
    static const int qs[] = { 10, 25, 50, 75, 90, 97 };
    mark__jpeg_edit *e = NULL;
    size_t len, i;
    unsigned char *in = fixture("jpeg-baseline.jpg", &len);
    int q = 0;

    if (in != NULL) {
        CHECK_RC(mark__jpeg_edit_open(ctx, in, len, &e), MARK_OK);
        mark__jpeg_edit_info(e, NULL, NULL, NULL, &q);
        CHECK_MSG(q >= 84 && q <= 86, "jpeg-baseline.jpg: quality %d", q);
        mark__jpeg_edit_free(e);
        free(in);
    }
    for (i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        enc_opts o = { 32, 32, 0, qs[i], 2, 2, 0, 0 };
        unsigned char *p = encode(&o, &len);

        CHECK(p != NULL);
        if (p == NULL)
            continue;
        e = NULL;
        q = 0;
        CHECK_RC(mark__jpeg_edit_open(ctx, p, len, &e), MARK_OK);
        mark__jpeg_edit_info(e, NULL, NULL, NULL, &q);
        CHECK_MSG(q >= qs[i] - 1 && q <= qs[i] + 1, "quality %d estimated "
                  "as %d", qs[i], q);
        mark__jpeg_edit_free(e);
        free(p);
    }
}

/* ------------------------------------------------------------------ */
/* Damaged input                                                       */

static void expect_fail(const char *what, const unsigned char *p, size_t n)
{
    static char dummy;
    mark__jpeg_edit *e = (mark__jpeg_edit *)(void *)&dummy; /* reset? */
    int rc;

    ctx->errmsg[0] = '\0';
    rc = mark__jpeg_edit_open(ctx, p, n, &e);
    CHECK_MSG(rc < 0 && e == NULL && mark_ctx_errmsg(ctx)[0] != '\0',
              "%s: open returned %d (%s)", what, rc, mark_ctx_errmsg(ctx));
    if (rc == MARK_OK)
        mark__jpeg_edit_free(e);
}

static uint32_t rng_next(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

/* Offset of the first marker mk in p (after SOI), or 0. */
static size_t find_marker(const unsigned char *p, size_t n, int mk)
{
    size_t pos = 2;

    while (pos + 4 <= n && p[pos] == 0xff) {
        if (p[pos + 1] == mk)
            return pos;
        pos += 2 + (((size_t)p[pos + 2] << 8) | p[pos + 3]);
    }
    return 0;
}

static void test_corrupt(void)
{
    static const unsigned char junk[] = "\xff\xd8\xff\xe0\x00\x10JFIF";
    size_t len, i, cut, sos, sof;
    unsigned char *in = fixture("jpeg-baseline.jpg", &len), *p;
    uint32_t s = 12345;
    mark__jpeg_edit *e;
    int fuzz_ok = 0;

    if (in == NULL)
        return;
    p = malloc(len + 64);
    expect_fail("empty", in, 0);
    expect_fail("junk header", junk, sizeof junk - 1);
    for (i = 0; i < 256; i++)
        p[i] = (unsigned char)rng_next(&s);
    expect_fail("garbage", p, 256);
    p[0] = 0xff;
    p[1] = 0xd8;
    expect_fail("SOI then garbage", p, 256);
    /* truncations everywhere, including inside the scan */
    for (cut = 1; cut < len; cut += (cut < 40 ? 1 : 37))
        expect_fail("truncated", in, cut);
    expect_fail("truncated before EOI", in, len - 2);
    expect_fail("truncated in EOI", in, len - 1);
    /* the scan cut short but closed with EOI */
    sos = find_marker(in, len, 0xda);
    CHECK(sos > 0);
    if (sos > 0) {
        memcpy(p, in, sos + 40);
        p[sos + 40] = 0xff;
        p[sos + 41] = 0xd9;
        expect_fail("short scan", p, sos + 42);
    }
    /* 12-bit precision is refused as unsupported */
    sof = find_marker(in, len, 0xc0);
    CHECK(sof > 0);
    if (sof > 0) {
        memcpy(p, in, len);
        p[sof + 4] = 12;
        e = NULL;
        CHECK_RC(mark__jpeg_edit_open(ctx, p, len, &e), MARK_EUNSUPPORTED);
        CHECK(strstr(mark_ctx_errmsg(ctx), "12-bit") != NULL);
        p[sof + 4] = 8;
        p[sof + 5] = 0;                 /* height 0 */
        p[sof + 6] = 0;
        expect_fail("zero height", p, len);
    }
    /* random byte damage: either refused or usable, never a crash */
    for (i = 0; i < 300; i++) {
        mark__buf out;
        mark__image img;
        uint32_t rx, ry;
        int k, n = 1 + (int)(rng_next(&s) % 4), rc;

        memcpy(p, in, len);
        for (k = 0; k < n; k++)
            p[rng_next(&s) % len] = (unsigned char)rng_next(&s);
        e = NULL;
        rc = mark__jpeg_edit_open(ctx, p, len, &e);
        if (rc != MARK_OK) {
            CHECK(rc < 0 && e == NULL && mark_ctx_errmsg(ctx)[0] != '\0');
            continue;
        }
        fuzz_ok++;
        if (mark__jpeg_edit_get(e, 0, 0, 1000, 1000, &img, &rx, &ry) ==
            MARK_OK) {
            memset(img.data, 200, img.stride * 4);
            mark__jpeg_edit_put(e, &img, rx, ry);
            mark__image_free(ctx, &img);
        }
        mark__buf_init(&out, ctx);
        rc = mark__jpeg_edit_finish(e, &out);
        CHECK(rc <= 0);
        mark__buf_free(&out);
        mark__jpeg_edit_free(e);
    }
    printf("fuzz: %d of 300 damaged files were accepted\n", fuzz_ok);
    free(p);
    free(in);
}

static void test_limits(void)
{
    mark__jpeg_edit *e = NULL;
    size_t len;
    unsigned char *in = fixture("jpeg-baseline.jpg", &len);

    if (in == NULL)
        return;
    mark_ctx_set_limit(ctx, MARK_LIMIT_PIXELS, 64 * 48 - 1);
    CHECK_RC(mark__jpeg_edit_open(ctx, in, len, &e), MARK_ELIMIT);
    mark_ctx_set_limit(ctx, MARK_LIMIT_PIXELS, 64 * 48);
    CHECK_RC(mark__jpeg_edit_open(ctx, in, len, &e), MARK_OK);
    mark__jpeg_edit_free(e);
    e = NULL;
    mark_ctx_set_limit(ctx, MARK_LIMIT_PIXELS, (int64_t)1 << 28);
    mark_ctx_set_limit(ctx, MARK_LIMIT_DIMENSION, 63);
    CHECK_RC(mark__jpeg_edit_open(ctx, in, len, &e), MARK_ELIMIT);
    CHECK(e == NULL);
    mark_ctx_set_limit(ctx, MARK_LIMIT_DIMENSION, 65535);
    mark_ctx_set_limit(ctx, MARK_LIMIT_CHUNKS, 3);
    CHECK_RC(mark__jpeg_edit_open(ctx, in, len, &e), MARK_ELIMIT);
    mark_ctx_set_limit(ctx, MARK_LIMIT_CHUNKS, 100000);
    free(in);
}

int main(void)
{
    fixdir = getenv("FIXTURES");
    if (fixdir == NULL || fixdir[0] == '\0') {
        fprintf(stderr, "test_jpeg_pixels: FIXTURES not set\n");
        return 77;
    }
    if (mark_ctx_new(&ctx, NULL) != MARK_OK)
        return 99;
    test_unedited();
    test_trailing();
    test_regions();
    test_odd_sizes();
    test_cells();
    test_geometry();
    test_quality();
    test_corrupt();
    test_limits();
    mark_ctx_free(ctx);
    return h_done("test_jpeg_pixels");
}
