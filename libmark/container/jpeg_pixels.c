/*
 * jpeg_pixels.c - JPEG pixels in the DCT-coefficient domain; the only
 * library file that includes jpeglib.h.
 *
 * The file is read once into libjpeg's coefficient arrays.  A region is
 * decoded from its blocks (our own float IDCT, colour conversion and
 * sample replication), and on the way back only the blocks that hold a
 * changed pixel are transformed and quantised again; every other block,
 * inside the region or not, keeps its coefficients.  libjpeg then writes
 * the arrays with the file's own tables, and the original's APPn and COM
 * segments are spliced in front byte for byte.
 *
 * Nothing of the region is kept between _get and _put: _put decodes the
 * blocks again from the (still unchanged) coefficients, so it needs no
 * memory between calls and stays correct when regions are put back in any
 * order.  Work is done one iMCU row at a time.
 *
 * libjpeg reports errors by calling error_exit, which must not return; it
 * longjmps back to run_guarded(), the only function that calls setjmp.  The
 * code it runs keeps everything that needs freeing in structures owned by
 * its caller, so a jump leaks nothing.
 */
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "internal.h"

#define MAX_SCANS 1000          /* progressive scans; real files have < 30 */
#define DEST_CHUNK 65536

typedef struct jerr {
    struct jpeg_error_mgr pub;  /* first: libjpeg sees only this */
    jmp_buf jb;
    mark_ctx *ctx;
    int code;                   /* status returned after the jump */
} jerr;

typedef struct span {
    size_t off;
    size_t len;
} span;

typedef struct comp {
    int h, v;                   /* sampling factors */
    int sh, sv;                 /* pixels per sample across and down */
    uint32_t wb, hb;            /* blocks holding image samples */
    float q[64];                /* quantisation table, natural order */
} comp;

struct mark__jpeg_edit {
    mark_ctx *ctx;
    jerr err;
    struct jpeg_decompress_struct d;
    struct jpeg_progress_mgr progress;
    jvirt_barray_ptr *coefs;
    unsigned char *orig;        /* the input file, our copy */
    size_t len;
    span *keep;                 /* its APPn and COM segments, in order */
    size_t n_keep;
    size_t end;                 /* just past its EOI */
    int ncomp;
    int cs;                     /* J_COLOR_SPACE of the file */
    int inverted;               /* CMYK stored Adobe style: 255 = no ink */
    int quality;
    uint32_t width, height;
    uint32_t mcu_w, mcu_h;      /* iMCU size in pixels */
    comp c[4];
    float basis[8][8];          /* [k][n]: a(k) cos((2n + 1) k pi / 16) */
    float basis_t[8][8];        /* transposed, [n][k] */
};

/* ------------------------------------------------------------------ */
/* Errors                                                              */

static int code_for(int msg_code)
{
    switch (msg_code) {
    case JERR_OUT_OF_MEMORY:
        return MARK_ENOMEM;
    case JERR_BAD_PRECISION:
    case JERR_SOF_UNSUPPORTED:
    case JERR_NOT_COMPILED:
    case JERR_ARITH_NOTIMPL:
        return MARK_EUNSUPPORTED;
    default:
        return MARK_EFORMAT;
    }
}

static void on_error_exit(j_common_ptr ci)
{
    jerr *je = (jerr *)ci->err;
    char msg[JMSG_LENGTH_MAX];

    if (ci->err->msg_code == JERR_BAD_PRECISION) {
        je->code = mark__err(je->ctx, MARK_EUNSUPPORTED,
                             "%d-bit JPEG is not supported",
                             ci->err->msg_parm.i[0]);
    } else {
        (*ci->err->format_message)(ci, msg);
        je->code = mark__err(je->ctx, code_for(ci->err->msg_code),
                             "libjpeg: %s", msg);
    }
    longjmp(je->jb, 1);
}

/* A warning is libjpeg patching over damaged data; writing the result
 * back would silently damage the image, so it ends the work too. */
static void on_emit_message(j_common_ptr ci, int level)
{
    jerr *je = (jerr *)ci->err;
    char msg[JMSG_LENGTH_MAX];

    if (level >= 0)
        return;
    (*ci->err->format_message)(ci, msg);
    je->code = mark__err(je->ctx, MARK_EFORMAT, "libjpeg: %s", msg);
    longjmp(je->jb, 1);
}

static void on_output_message(j_common_ptr ci)
{
    (void)ci;
}

/* Thousands of tiny progressive scans each cost a pass over the image. */
static void on_progress(j_common_ptr ci)
{
    jerr *je = (jerr *)ci->err;

    if (ci->is_decompressor &&
        ((j_decompress_ptr)ci)->input_scan_number > MAX_SCANS) {
        je->code = mark__err(je->ctx, MARK_ELIMIT, "JPEG has more than %d "
                             "scans", MAX_SCANS);
        longjmp(je->jb, 1);
    }
}

static void init_err(jerr *je, mark_ctx *ctx)
{
    jpeg_std_error(&je->pub);
    je->pub.error_exit = on_error_exit;
    je->pub.emit_message = on_emit_message;
    je->pub.output_message = on_output_message;
    je->ctx = ctx;
    je->code = MARK_OK;
}

typedef int work_fn(mark__jpeg_edit *e, void *arg);

/* The one place that calls setjmp: it modifies no local after it, and fn
 * keeps its resources in arg, so nothing is lost on the jump. */
static int run_guarded(mark__jpeg_edit *e, work_fn *fn, void *arg)
{
    if (setjmp(e->err.jb))
        return e->err.code < 0 ? e->err.code : MARK_EBACKEND;
    return fn(e, arg);
}

/* ------------------------------------------------------------------ */
/* The original's marker structure                                     */

static int keep_span(mark__jpeg_edit *e, size_t *cap, size_t off, size_t n)
{
    if (e->n_keep == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        span *s = mark__realloc(e->ctx, e->keep, nc * sizeof *s);

        if (s == NULL)
            return mark__err(e->ctx, MARK_ENOMEM, "out of memory");
        e->keep = s;
        *cap = nc;
    }
    e->keep[e->n_keep].off = off;
    e->keep[e->n_keep].len = n;
    e->n_keep++;
    return MARK_OK;
}

/* Record every APPn and COM segment (also those between scans) and where
 * EOI ends.  libjpeg has not seen the file yet; this walk also bounds the
 * number of segments it will be asked to read. */
static int walk_markers(mark__jpeg_edit *e)
{
    const unsigned char *p = e->orig;
    size_t len = e->len, pos = 2, cap = 0, nseg = 0;
    int64_t max_seg = e->ctx->limits[MARK_LIMIT_CHUNKS];
    int rc;

    if (len < 4 || p[0] != 0xff || p[1] != 0xd8)
        return mark__err(e->ctx, MARK_EFORMAT, "not a JPEG file");
    for (;;) {
        size_t start = pos, seglen;
        int mk;

        if (pos >= len)
            return mark__err(e->ctx, MARK_EFORMAT, "JPEG is truncated (no "
                             "EOI marker)");
        if (p[pos] != 0xff)
            return mark__err(e->ctx, MARK_EFORMAT, "JPEG has no marker "
                             "where one is due (byte %zu)", pos);
        while (pos < len && p[pos] == 0xff)
            pos++;
        if (pos >= len)
            return mark__err(e->ctx, MARK_EFORMAT, "JPEG is truncated (no "
                             "EOI marker)");
        mk = p[pos++];
        if ((int64_t)++nseg > max_seg)
            return mark__err(e->ctx, MARK_ELIMIT, "JPEG has more than %lld "
                             "segments", (long long)max_seg);
        if (mk == 0xd9) {
            e->end = pos;
            return MARK_OK;
        }
        if (mk == 0xd8 || mk == 0x00)
            return mark__err(e->ctx, MARK_EFORMAT, "JPEG has a stray "
                             "marker 0x%02x at byte %zu", mk, start);
        if (mk == 0x01 || (mk >= 0xd0 && mk <= 0xd7))
            continue;
        if (len - pos < 2)
            return mark__err(e->ctx, MARK_EFORMAT, "JPEG is truncated in "
                             "a segment header");
        seglen = mark__be16(p + pos);
        if (seglen < 2 || seglen > len - pos)
            return mark__err(e->ctx, MARK_EFORMAT, "JPEG segment 0x%02x at "
                             "byte %zu claims %zu bytes, past the end of "
                             "the file", mk, start, seglen);
        pos += seglen;
        if ((mk >= 0xe0 && mk <= 0xef) || mk == 0xfe) {
            rc = keep_span(e, &cap, start, pos - start);
            if (rc < 0)
                return rc;
        } else if (mk == 0xda) {
            size_t end = mark__jpeg_scan_end(p, len, pos);

            if (end == 0)
                return mark__err(e->ctx, MARK_EFORMAT, "JPEG is truncated "
                                 "in the image data (no EOI marker)");
            pos = end;
        }
    }
}

/* ------------------------------------------------------------------ */
/* Opening                                                             */

/* cos(k pi / 16), k = 0..8. */
static const float cos16[9] = {
    1.0f, 0.980785280403230449f, 0.923879532511286756f,
    0.831469612302545237f, 0.707106781186547524f, 0.555570233019602225f,
    0.382683432365089772f, 0.195090322016128268f, 0.0f,
};

/* The orthonormal 8-point DCT-II basis; its 2-D product is the DCT of the
 * JPEG standard (A.3.3), so dequantised coefficients feed it directly. */
static void init_basis(float b[8][8])
{
    int k, n;

    for (k = 0; k < 8; k++)
        for (n = 0; n < 8; n++) {
            int m = ((2 * n + 1) * k) % 32;
            float c;

            if (m > 16)
                m = 32 - m;
            c = m > 8 ? -cos16[16 - m] : cos16[m];
            b[k][n] = (k == 0 ? 0.353553390593273762f : 0.5f) * c;
        }
}

/* JPEG Annex K.1 luminance table, natural (row-major) order. */
static const unsigned char std_luma[64] = {
    16, 11, 10, 16, 24, 40, 51, 61,
    12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77,
    24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101,
    72, 92, 95, 98, 112, 100, 103, 99,
};

/* The IJG quality (1-100) whose scaled Annex K table is nearest to q;
 * on a tie the higher quality wins. */
static int estimate_quality(const UINT16 *q)
{
    long best = -1;
    int qual, i, found = 0;

    for (qual = 1; qual <= 100; qual++) {
        long scale = qual < 50 ? 5000 / qual : 200 - 2 * qual, sum = 0;

        for (i = 0; i < 64; i++) {
            long t = ((long)std_luma[i] * scale + 50) / 100;

            t = t < 1 ? 1 : t > 255 ? 255 : t;
            sum += t > q[i] ? t - q[i] : q[i] - t;
        }
        if (best < 0 || sum <= best) {
            best = sum;
            found = qual;
        }
    }
    return found;
}

static const JQUANT_TBL *comp_qtable(const struct jpeg_decompress_struct *d,
                                     int ci)
{
    const jpeg_component_info *cp = &d->comp_info[ci];

    /* Latched at the component's first scan; a component that never got
     * one has only its slot. */
    if (cp->quant_table != NULL)
        return cp->quant_table;
    if (cp->quant_tbl_no >= 0 && cp->quant_tbl_no < NUM_QUANT_TBLS)
        return d->quant_tbl_ptrs[cp->quant_tbl_no];
    return NULL;
}

static int check_header(mark__jpeg_edit *e)
{
    struct jpeg_decompress_struct *d = &e->d;
    int64_t maxdim = e->ctx->limits[MARK_LIMIT_DIMENSION];
    int want, ci;

    if ((int64_t)d->image_width > maxdim ||
        (int64_t)d->image_height > maxdim ||
        (int64_t)d->image_width * (int64_t)d->image_height >
            e->ctx->limits[MARK_LIMIT_PIXELS])
        return mark__err(e->ctx, MARK_ELIMIT, "JPEG of %ux%u pixels exceeds "
                         "the image size limit", d->image_width,
                         d->image_height);
    if (d->data_precision != 8)
        return mark__err(e->ctx, MARK_EUNSUPPORTED, "%d-bit JPEG is not "
                         "supported", d->data_precision);
    switch (d->jpeg_color_space) {
    case JCS_GRAYSCALE:
        want = 1;
        break;
    case JCS_YCbCr:
    case JCS_RGB:
        want = 3;
        break;
    case JCS_CMYK:
    case JCS_YCCK:
        want = 4;
        break;
    default:
        want = 0;
        break;
    }
    if (want == 0 || d->num_components != want)
        return mark__err(e->ctx, MARK_EUNSUPPORTED, "JPEG with %d "
                         "components in an unknown colour space is not "
                         "supported", d->num_components);
    /* each component must cover a whole number of pixels */
    for (ci = 0; ci < d->num_components; ci++) {
        const jpeg_component_info *cp = &d->comp_info[ci];

        if (cp->h_samp_factor < 1 || cp->v_samp_factor < 1 ||
            cp->h_samp_factor > d->max_h_samp_factor ||
            cp->v_samp_factor > d->max_v_samp_factor ||
            d->max_h_samp_factor % cp->h_samp_factor != 0 ||
            d->max_v_samp_factor % cp->v_samp_factor != 0)
            return mark__err(e->ctx, MARK_EUNSUPPORTED, "JPEG sampling "
                             "factors %dx%d of component %d are not "
                             "supported", cp->h_samp_factor,
                             cp->v_samp_factor, ci + 1);
    }
    return MARK_OK;
}

static int set_geometry(mark__jpeg_edit *e)
{
    struct jpeg_decompress_struct *d = &e->d;
    int ci, k;

    e->ncomp = d->num_components;
    e->cs = d->jpeg_color_space;
    e->inverted = d->saw_Adobe_marker ? 1 : 0;
    e->width = d->image_width;
    e->height = d->image_height;
    e->mcu_w = (uint32_t)d->max_h_samp_factor * 8;
    e->mcu_h = (uint32_t)d->max_v_samp_factor * 8;
    for (ci = 0; ci < e->ncomp; ci++) {
        const jpeg_component_info *cp = &d->comp_info[ci];
        const JQUANT_TBL *qt = comp_qtable(d, ci);
        comp *c = &e->c[ci];

        if (qt == NULL)
            return mark__err(e->ctx, MARK_EFORMAT, "JPEG component %d has "
                             "no quantisation table", ci + 1);
        c->h = cp->h_samp_factor;
        c->v = cp->v_samp_factor;
        c->sh = d->max_h_samp_factor / c->h;
        c->sv = d->max_v_samp_factor / c->v;
        c->wb = cp->width_in_blocks;
        c->hb = cp->height_in_blocks;
        for (k = 0; k < 64; k++)
            c->q[k] = (float)qt->quantval[k];
    }
    if (d->quant_tbl_ptrs[0] != NULL)
        e->quality = estimate_quality(d->quant_tbl_ptrs[0]->quantval);
    else
        e->quality = estimate_quality(comp_qtable(d, 0)->quantval);
    init_basis(e->basis);
    for (k = 0; k < 64; k++)
        e->basis_t[k % 8][k / 8] = e->basis[k / 8][k % 8];
    return MARK_OK;
}

static int read_work(mark__jpeg_edit *e, void *arg)
{
    struct jpeg_decompress_struct *d = &e->d;
    int rc;

    (void)arg;
    jpeg_create_decompress(d);
    e->progress.progress_monitor = on_progress;
    d->progress = &e->progress;
    jpeg_mem_src(d, e->orig, (unsigned long)e->len);
    if (jpeg_read_header(d, TRUE) != JPEG_HEADER_OK)
        return mark__err(e->ctx, MARK_EFORMAT, "JPEG has no image");
    rc = check_header(e);
    if (rc < 0)
        return rc;
    e->coefs = jpeg_read_coefficients(d);
    if (e->coefs == NULL)
        return mark__err(e->ctx, MARK_EFORMAT, "JPEG is truncated");
    return set_geometry(e);
}

int mark__jpeg_edit_open(mark_ctx *ctx, const unsigned char *jpg,
                         size_t len, mark__jpeg_edit **out)
{
    mark__jpeg_edit *e;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (ctx == NULL || out == NULL || (jpg == NULL && len > 0))
        return mark__err(ctx, MARK_EINVAL, "no JPEG data to open");
    if ((int64_t)len > ctx->limits[MARK_LIMIT_INPUT_BYTES])
        return mark__err(ctx, MARK_ELIMIT, "JPEG of %zu bytes exceeds the "
                         "input size limit", len);
    e = mark__calloc(ctx, 1, sizeof *e);
    if (e == NULL)
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    e->ctx = ctx;
    init_err(&e->err, ctx);
    e->d.err = &e->err.pub;
    e->orig = mark__malloc(ctx, len);
    if (e->orig == NULL) {
        rc = mark__err(ctx, MARK_ENOMEM, "out of memory (%zu bytes)", len);
        goto fail;
    }
    if (len > 0)
        memcpy(e->orig, jpg, len);
    e->len = len;
    rc = walk_markers(e);
    if (rc < 0)
        goto fail;
    rc = run_guarded(e, read_work, NULL);
    if (rc < 0)
        goto fail;
    *out = e;
    return MARK_OK;
fail:
    mark__jpeg_edit_free(e);
    return rc;
}

void mark__jpeg_edit_info(const mark__jpeg_edit *e, uint32_t *width,
                          uint32_t *height, int *components, int *quality)
{
    if (width != NULL)
        *width = e != NULL ? e->width : 0;
    if (height != NULL)
        *height = e != NULL ? e->height : 0;
    if (components != NULL)
        *components = e != NULL ? e->ncomp : 0;
    if (quality != NULL)
        *quality = e != NULL ? e->quality : 0;
}

/* ------------------------------------------------------------------ */
/* Transforms                                                          */

/* Dequantise and inverse-transform one block into out (stride floats a
 * row), level shift included, not rounded: _put needs the exact values. */
static MARK__INLINE void idct_block(const mark__jpeg_edit *e,
                                    const JCOEF *cf, const float *q,
                                    float *out, size_t stride)
{
    const float (*b)[8] = e->basis;
    float f[64], t[64];
    int v, x, y;

    for (v = 0; v < 64; v++)
        f[v] = (float)cf[v] * q[v];
    /* rows: t[v][x] = sum_u f[v][u] b[u][x]; no test for zeros, whose
     * pattern no branch predictor guesses.  Each sum is one expression,
     * a vector lane per x: accumulated through memory (out may alias the
     * basis, as far as the compiler knows) the transform was slow */
    for (v = 0; v < 8; v++) {
        const float *fr = f + v * 8;

        for (x = 0; x < 8; x++)
            t[v * 8 + x] = fr[0] * b[0][x] + fr[1] * b[1][x] +
                           fr[2] * b[2][x] + fr[3] * b[3][x] +
                           fr[4] * b[4][x] + fr[5] * b[5][x] +
                           fr[6] * b[6][x] + fr[7] * b[7][x];
    }
    /* columns: out[y][x] = 128 + sum_v b[v][y] t[v][x] */
    for (y = 0; y < 8; y++) {
        float row[8];

        for (x = 0; x < 8; x++)
            row[x] = 128.0f + b[0][y] * t[x] + b[1][y] * t[8 + x] +
                     b[2][y] * t[16 + x] + b[3][y] * t[24 + x] +
                     b[4][y] * t[32 + x] + b[5][y] * t[40 + x] +
                     b[6][y] * t[48 + x] + b[7][y] * t[56 + x];
        memcpy(out + (size_t)y * stride, row, sizeof row);
    }
}

/* Forward transform of 64 values s (row-major) into f.  Written as sums
 * of scaled rows, like the inverse, so the compiler can vectorise. */
static MARK__INLINE void fdct_float(const mark__jpeg_edit *e, const float *s,
                                    float *f)
{
    const float (*b)[8] = e->basis;
    const float (*bt)[8] = e->basis_t;
    float t[64];
    int u, v, y;

    /* rows: t[y][u] = sum_x s[y][x] bt[x][u], one expression a lane
     * (see idct_block()) */
    for (y = 0; y < 8; y++) {
        const float *sr = s + y * 8;

        for (u = 0; u < 8; u++)
            t[y * 8 + u] = sr[0] * bt[0][u] + sr[1] * bt[1][u] +
                           sr[2] * bt[2][u] + sr[3] * bt[3][u] +
                           sr[4] * bt[4][u] + sr[5] * bt[5][u] +
                           sr[6] * bt[6][u] + sr[7] * bt[7][u];
    }
    /* columns: f[v][u] = sum_y b[v][y] t[y][u] */
    for (v = 0; v < 8; v++)
        for (u = 0; u < 8; u++)
            f[v * 8 + u] = b[v][0] * t[u] + b[v][1] * t[8 + u] +
                           b[v][2] * t[16 + u] + b[v][3] * t[24 + u] +
                           b[v][4] * t[32 + u] + b[v][5] * t[40 + u] +
                           b[v][6] * t[48 + u] + b[v][7] * t[56 + u];
}

/* The largest coefficient magnitude the encoder takes: 1023, and 1024
 * for the DC, which may go one step further down (the DC's 1024 up is
 * cut back to 1023 after). */
static const float cap[64] = {
    1024.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f,
    1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f,
    1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f,
    1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f,
    1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f,
    1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f,
    1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f,
    1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f, 1023.0f
};

/* Forward transform and quantise samples s (64, row-major). */
static void fdct_block(const mark__jpeg_edit *e, const float *s,
                       const float *q, JCOEF *cf)
{
    float c[64], f[64];
    int u;

    for (u = 0; u < 64; u++)
        c[u] = s[u] - 128.0f;
    fdct_float(e, c, f);
    /* f / q rounded half away from zero, kept in the range the encoder
     * takes (10 bits AC, one more step down for the DC; only hand-made
     * sample values come near it): the magnitude capped, so the
     * conversion is always defined, then the sign put back (the one
     * select on floats in this loop, so it vectorises) */
    for (u = 0; u < 64; u++) {
        float a = fabsf(f[u] / q[u]);

        a = a < cap[u] ? a : cap[u];
        cf[u] = (JCOEF)(int)copysignf(a + 0.5f, f[u]);
    }
    if (cf[0] > 1023)
        cf[0] = 1023;
}

/* ------------------------------------------------------------------ */
/* Colour                                                              */

/* f rounded half up and kept within 0..255.  Within -1..256 the clamp
 * is done on the integer (conversion truncates toward zero, so f + 0.5
 * under 1 gives 0 as a clamp at 0 would), which compiles to no branches;
 * the rare sample outside that (a damaged or hostile file) takes the
 * one well-predicted branch. */
static MARK__INLINE int to_byte(float f)
{
    int v;

    if (!(f > -1.0f && f < 256.0f))
        return f > 0.0f ? 255 : 0;
    v = (int)(f + 0.5f);
    v = v < 0 ? 0 : v;
    return v > 255 ? 255 : v;
}

/* JFIF full-range YCbCr to RGB, on bytes as a decoder sees them. */
static MARK__INLINE void ycc_rgb(int y, int cb, int cr, int *r, int *g, int *b)
{
    float fy = (float)y, fb = (float)(cb - 128), fr = (float)(cr - 128);

    *r = to_byte(fy + 1.402f * fr);
    *g = to_byte(fy - 0.344136286f * fb - 0.714136286f * fr);
    *b = to_byte(fy + 1.772f * fb);
}

static void rgb_ycc(float r, float g, float b, float *y, float *cb,
                    float *cr)
{
    *y = 0.299f * r + 0.587f * g + 0.114f * b;
    *cb = -0.168735892f * r - 0.331264108f * g + 0.5f * b + 128.0f;
    *cr = 0.5f * r - 0.418687589f * g - 0.081312411f * b + 128.0f;
}

/* to_pixel()'s common case, YCbCr. */
static MARK__INLINE void ycc_pixel(const float *s, unsigned char *px)
{
    int r, g, b;

    ycc_rgb(to_byte(s[0]), to_byte(s[1]), to_byte(s[2]), &r, &g, &b);
    px[0] = (unsigned char)r;
    px[1] = (unsigned char)g;
    px[2] = (unsigned char)b;
}

/* The decoded samples s (component values, unrounded) of one pixel as
 * the 1 or 3 bytes _get returns. */
static MARK__INLINE void to_pixel(const mark__jpeg_edit *e, const float *s,
                                  unsigned char *px)
{
    int v[4], r, g, b, k, i;

    if (e->cs == JCS_YCbCr) {           /* three components (checked) */
        ycc_pixel(s, px);
        return;
    }

    for (i = 0; i < e->ncomp; i++)
        v[i] = to_byte(s[i]);
    switch (e->cs) {
    case JCS_GRAYSCALE:
        px[0] = (unsigned char)v[0];
        return;
    case JCS_RGB:
        r = v[0];
        g = v[1];
        b = v[2];
        break;
    default:
        if (e->cs == JCS_YCCK) {
            /* YCCK holds the CMY ink complements as YCbCr */
            ycc_rgb(v[0], v[1], v[2], &r, &g, &b);
            v[0] = 255 - r;
            v[1] = 255 - g;
            v[2] = 255 - b;
        }
        if (!e->inverted)
            for (i = 0; i < 4; i++)
                v[i] = 255 - v[i];
        /* now 255 is no ink: paper white times the ink's complement */
        k = v[3];
        r = (v[0] * k + 127) / 255;
        g = (v[1] * k + 127) / 255;
        b = (v[2] * k + 127) / 255;
        break;
    }
    px[0] = (unsigned char)r;
    px[1] = (unsigned char)g;
    px[2] = (unsigned char)b;
}

/* Inks (255 = none) for the colour r, g, b.  RGB to CMYK leaves the
 * black free; keep (0 to 1) slides between two choices:
 *  - 0, the most black that gives the colour (k = max(r, g, b)): the inks
 *    then depend on the colour alone, so an area painted one colour gets
 *    uniform inks, which subsampling keeps;
 *  - 1, the pixel's own black ref_ink[3] unless the colour is lighter
 *    than it allows, so a small change stays small in every ink.  Below
 *    DARK_K the colour inks then move only part of the way, since there
 *    r = c k / 255 turns a step of one level into a swing of many in c,
 *    which quantisation spreads over the whole block.
 * The inks are solved for the chosen black, so every mix gives the
 * colour (bar that darkest corner). */
#define DARK_K 32.0f

static void rgb_inks(float r, float g, float b, const float *ref_ink,
                     float keep, float *ink)
{
    float kmin = r, k, w = 1.0f;
    int i;

    if (kmin < g)
        kmin = g;
    if (kmin < b)
        kmin = b;
    k = ref_ink[3] > kmin ? kmin + keep * (ref_ink[3] - kmin) : kmin;
    if (k < DARK_K)
        w = 1.0f - keep * (1.0f - (k > 0.0f ? k : 0.0f) / DARK_K);
    if (k >= 0.5f) {
        ink[0] = 255.0f * r / k;
        ink[1] = 255.0f * g / k;
        ink[2] = 255.0f * b / k;
    } else {
        /* black: any colour ink will do, so keep what was there */
        for (i = 0; i < 3; i++)
            ink[i] = ref_ink[i];
    }
    for (i = 0; i < 3; i++)
        ink[i] = ref_ink[i] + w * (ink[i] - ref_ink[i]);
    ink[3] = k;
}

/* Component values for a pixel of colour px; ref are its decoded values
 * (for CMYK, the inks to stay near; see rgb_inks()). */
static void from_pixel(const mark__jpeg_edit *e, const unsigned char *px,
                       const float *ref, float keep_k, float *out)
{
    float r, g, b, ref_ink[4], ink[4];
    int i;

    if (e->cs == JCS_GRAYSCALE) {
        out[0] = (float)px[0];
        return;
    }
    r = (float)px[0];
    g = (float)px[1];
    b = (float)px[2];
    if (e->cs == JCS_RGB) {
        out[0] = r;
        out[1] = g;
        out[2] = b;
        return;
    }
    if (e->cs == JCS_YCbCr) {
        rgb_ycc(r, g, b, &out[0], &out[1], &out[2]);
        return;
    }
    if (e->cs == JCS_YCCK) {
        /* YCCK holds the complements of the stored CMY as YCbCr */
        float fb = ref[1] - 128.0f, fr = ref[2] - 128.0f;

        ref_ink[0] = 255.0f - (ref[0] + 1.402f * fr);
        ref_ink[1] = 255.0f - (ref[0] - 0.344136286f * fb -
                               0.714136286f * fr);
        ref_ink[2] = 255.0f - (ref[0] + 1.772f * fb);
    } else {
        for (i = 0; i < 3; i++)
            ref_ink[i] = ref[i];
    }
    ref_ink[3] = ref[3];
    if (!e->inverted)
        for (i = 0; i < 4; i++)
            ref_ink[i] = 255.0f - ref_ink[i];
    rgb_inks(r, g, b, ref_ink, keep_k, ink);
    if (!e->inverted)
        for (i = 0; i < 4; i++)
            ink[i] = 255.0f - ink[i];
    if (e->cs == JCS_YCCK) {
        rgb_ycc(255.0f - ink[0], 255.0f - ink[1], 255.0f - ink[2],
                &out[0], &out[1], &out[2]);
        out[3] = ink[3];
    } else {
        for (i = 0; i < 4; i++)
            out[i] = ink[i];
    }
}

/* The samples a changed pixel asks for.  A small change (a watermark) is
 * added to the exact decoded values, so what rounding and clipping hid
 * survives: an edge's overshoot below 0 stays, and the change is all that
 * the blocks see.  A large one (drawing) sets the colour itself, as an
 * overshoot kept there would show.  Sizes in between blend the two. */
#define BLEND_LO 8
#define BLEND_HI 24

static void changed_values(const mark__jpeg_edit *e, const unsigned char *px,
                           const unsigned char *was, const float *ref,
                           float *out)
{
    int i, m = 0, nch = e->ncomp == 1 ? 1 : 3;
    float before[4], w;

    for (i = 0; i < nch; i++) {
        int d = px[i] > was[i] ? px[i] - was[i] : was[i] - px[i];

        m = d > m ? d : m;
    }
    w = m <= BLEND_LO ? 1.0f
        : m >= BLEND_HI ? 0.0f
        : (float)(BLEND_HI - m) / (float)(BLEND_HI - BLEND_LO);
    from_pixel(e, px, ref, w, out);
    if (w == 0.0f)
        return;
    /* what the exact values hold beyond the colour they decode to */
    from_pixel(e, was, ref, 1.0f, before);
    for (i = 0; i < e->ncomp; i++)
        out[i] += w * (ref[i] - before[i]);
}

/* ------------------------------------------------------------------ */
/* Regions                                                             */

/* One call's work area: a region of whole iMCUs and one iMCU row of
 * samples per component. */
typedef struct region {
    uint32_t mc0, mc1;          /* iMCU columns [mc0, mc1) */
    uint32_t mr0, mr1;          /* iMCU rows */
    uint32_t px0, px1;          /* pixel columns inside the image */
    uint32_t py0, py1;
    size_t pw[4];               /* plane width in samples */
    size_t bcols[4];            /* blocks across the region */
    float *plane[4];            /* decoded samples of the current row */
    float *delta[4];            /* _put: summed changes per sample */
    unsigned char *dirty[4];    /* _put: blocks holding a changed pixel */
    uint32_t *xmap[4];          /* pixel column - px0 -> sample column */
    JBLOCKARRAY rows[4];        /* the current row's coefficient blocks */
    mark__image *out;           /* _get */
    const mark__image *in;      /* _put */
} region;

static void region_free(mark_ctx *ctx, region *rg)
{
    int i;

    for (i = 0; i < 4; i++) {
        mark__free(ctx, rg->plane[i]);
        mark__free(ctx, rg->delta[i]);
        mark__free(ctx, rg->dirty[i]);
        mark__free(ctx, rg->xmap[i]);
    }
}

static int region_alloc(mark__jpeg_edit *e, region *rg, int for_put)
{
    uint32_t npx = rg->px1 - rg->px0, i;
    int ci;

    for (ci = 0; ci < e->ncomp; ci++) {
        const comp *c = &e->c[ci];
        size_t n;

        rg->bcols[ci] = (size_t)(rg->mc1 - rg->mc0) * (size_t)c->h;
        rg->pw[ci] = rg->bcols[ci] * 8;
        n = rg->pw[ci] * (size_t)c->v * 8;
        rg->plane[ci] = mark__malloc(e->ctx, n * sizeof(float));
        rg->xmap[ci] = mark__malloc(e->ctx, npx * sizeof(uint32_t));
        if (rg->plane[ci] == NULL || rg->xmap[ci] == NULL)
            return mark__err(e->ctx, MARK_ENOMEM, "out of memory");
        for (i = 0; i < npx; i++)
            rg->xmap[ci][i] = i / (uint32_t)c->sh;
        if (!for_put)
            continue;
        rg->delta[ci] = mark__malloc(e->ctx, n * sizeof(float));
        rg->dirty[ci] = mark__malloc(e->ctx, rg->bcols[ci] * (size_t)c->v);
        if (rg->delta[ci] == NULL || rg->dirty[ci] == NULL)
            return mark__err(e->ctx, MARK_ENOMEM, "out of memory");
    }
    return MARK_OK;
}

/* Decode iMCU row mr of the region into rg->plane[]; blocks past the
 * image's last (dummy blocks of partial MCUs) only ever cover pixels
 * outside the image and are left grey. */
static void decode_row(mark__jpeg_edit *e, region *rg, uint32_t mr,
                       boolean writable)
{
    int ci;

    for (ci = 0; ci < e->ncomp; ci++) {
        const comp *c = &e->c[ci];
        size_t pw = rg->pw[ci], bx;
        uint32_t by;

        rg->rows[ci] = (*e->d.mem->access_virt_barray)(
            (j_common_ptr)&e->d, e->coefs[ci], mr * (uint32_t)c->v,
            (JDIMENSION)c->v, writable);
        for (by = 0; by < (uint32_t)c->v; by++) {
            uint32_t gby = mr * (uint32_t)c->v + by;

            for (bx = 0; bx < rg->bcols[ci]; bx++) {
                uint32_t gbx = rg->mc0 * (uint32_t)c->h + (uint32_t)bx;
                float *dst = rg->plane[ci] + (size_t)by * 8 * pw + bx * 8;
                int y, x;

                if (gby < c->hb && gbx < c->wb) {
                    idct_block(e, rg->rows[ci][by][gbx], c->q, dst, pw);
                    continue;
                }
                for (y = 0; y < 8; y++)
                    for (x = 0; x < 8; x++)
                        dst[(size_t)y * pw + (size_t)x] = 128.0f;
            }
        }
    }
}

static int get_work(mark__jpeg_edit *e, void *arg)
{
    region *rg = arg;
    mark__image *img = rg->out;
    uint32_t mr;

    for (mr = rg->mr0; mr < rg->mr1; mr++) {
        uint32_t y0 = mr * e->mcu_h, y1 = y0 + e->mcu_h, py;

        if (y1 > rg->py1)
            y1 = rg->py1;
        decode_row(e, rg, mr, FALSE);
        for (py = y0; py < y1; py++) {
            unsigned char *o = img->data + (size_t)(py - rg->py0) *
                               img->stride;
            const float *row[4];
            uint32_t lx, npx = rg->px1 - rg->px0;
            int ci;

            for (ci = 0; ci < e->ncomp; ci++)
                row[ci] = rg->plane[ci] + (size_t)((py - y0) /
                          (uint32_t)e->c[ci].sv) * rg->pw[ci];
            for (lx = 0; lx < npx; lx++) {
                float s[4];

                for (ci = 0; ci < e->ncomp; ci++)
                    s[ci] = row[ci][rg->xmap[ci][lx]];
                to_pixel(e, s, o + (size_t)lx * (size_t)img->channels);
            }
        }
    }
    return MARK_OK;
}

/* Grow (x, y, w, h) to whole iMCUs and clip it to the image. */
static int set_region(mark__jpeg_edit *e, region *rg, uint32_t x, uint32_t y,
                      uint32_t w, uint32_t h)
{
    uint32_t xe, ye;

    if (x >= e->width || y >= e->height || w == 0 || h == 0)
        return mark__err(e->ctx, MARK_EINVAL, "region %ux%u at %u,%u is "
                         "outside the %ux%u image", w, h, x, y, e->width,
                         e->height);
    xe = w > e->width - x ? e->width : x + w;
    ye = h > e->height - y ? e->height : y + h;
    rg->mc0 = x / e->mcu_w;
    rg->mc1 = (uint32_t)(((uint64_t)xe + e->mcu_w - 1) / e->mcu_w);
    rg->mr0 = y / e->mcu_h;
    rg->mr1 = (uint32_t)(((uint64_t)ye + e->mcu_h - 1) / e->mcu_h);
    rg->px0 = rg->mc0 * e->mcu_w;
    rg->py0 = rg->mr0 * e->mcu_h;
    rg->px1 = (uint64_t)rg->mc1 * e->mcu_w > e->width ? e->width
                                                     : rg->mc1 * e->mcu_w;
    rg->py1 = (uint64_t)rg->mr1 * e->mcu_h > e->height ? e->height
                                                      : rg->mr1 * e->mcu_h;
    return MARK_OK;
}

int mark__jpeg_edit_get(mark__jpeg_edit *e, uint32_t x, uint32_t y,
                        uint32_t w, uint32_t h, mark__image *img,
                        uint32_t *rx, uint32_t *ry)
{
    region rg;
    size_t stride, n;
    int rc;

    if (img != NULL)
        memset(img, 0, sizeof *img);
    if (e == NULL || img == NULL)
        return MARK_EINVAL;
    memset(&rg, 0, sizeof rg);
    rc = set_region(e, &rg, x, y, w, h);
    if (rc < 0)
        return rc;
    img->width = rg.px1 - rg.px0;
    img->height = rg.py1 - rg.py0;
    img->channels = e->ncomp == 1 ? 1 : 3;
    img->depth = 8;
    stride = (size_t)img->width * (size_t)img->channels;
    if (stride > SIZE_MAX / img->height) {
        memset(img, 0, sizeof *img);
        return mark__err(e->ctx, MARK_ENOMEM, "region too large");
    }
    n = stride * img->height;
    img->stride = stride;
    img->data = mark__malloc(e->ctx, n);
    if (img->data == NULL) {
        rc = mark__err(e->ctx, MARK_ENOMEM, "out of memory (%zu bytes)", n);
        goto done;
    }
    rg.out = img;
    rc = region_alloc(e, &rg, 0);
    if (rc == MARK_OK)
        rc = run_guarded(e, get_work, &rg);
done:
    region_free(e->ctx, &rg);
    if (rc < 0) {
        mark__free(e->ctx, img->data);
        memset(img, 0, sizeof *img);
        return rc;
    }
    if (rx != NULL)
        *rx = rg.px0;
    if (ry != NULL)
        *ry = rg.py0;
    return MARK_OK;
}

/* How many of the n pixels from pos on lie before end. */
static float pixels_inside(uint32_t pos, int n, uint32_t end)
{
    if (pos >= end)
        return 0.0f;
    return end - pos < (uint32_t)n ? (float)(end - pos) : (float)n;
}

/* Transform and store the dirty blocks of iMCU row mr.  A subsampled
 * sample becomes the mean of the pixels it covers inside the image:
 * changed ones bring their new value, the others the decoded one; the
 * padding past the edge is never seen, so it has no say (as libjpeg's
 * encoder, which replicates the edge pixels). */
static void encode_row(mark__jpeg_edit *e, region *rg, uint32_t mr)
{
    int ci;

    for (ci = 0; ci < e->ncomp; ci++) {
        const comp *c = &e->c[ci];
        size_t pw = rg->pw[ci], bx;
        uint32_t by;

        for (by = 0; by < (uint32_t)c->v; by++)
            for (bx = 0; bx < rg->bcols[ci]; bx++) {
                uint32_t gbx = rg->mc0 * (uint32_t)c->h + (uint32_t)bx;
                size_t base = (size_t)by * 8 * pw + bx * 8;
                float s[64];
                uint32_t yy, xx;

                if (!rg->dirty[ci][(size_t)by * rg->bcols[ci] + bx])
                    continue;
                for (yy = 0; yy < 8; yy++) {
                    uint32_t py = mr * e->mcu_h +
                                  (by * 8 + yy) * (uint32_t)c->sv;
                    float ny = pixels_inside(py, c->sv, e->height);

                    for (xx = 0; xx < 8; xx++) {
                        size_t i = base + (size_t)yy * pw + xx;
                        uint32_t px = rg->px0 +
                                      ((uint32_t)bx * 8 + xx) *
                                      (uint32_t)c->sh;
                        float n = ny * pixels_inside(px, c->sh, e->width);

                        s[yy * 8 + xx] = rg->plane[ci][i];
                        if (n > 0.0f)
                            s[yy * 8 + xx] += rg->delta[ci][i] / n;
                    }
                }
                fdct_block(e, s, c->q, rg->rows[ci][by][gbx]);
            }
    }
}

static int put_work(mark__jpeg_edit *e, void *arg)
{
    region *rg = arg;
    const mark__image *img = rg->in;
    uint32_t mr;
    int ci;

    for (mr = rg->mr0; mr < rg->mr1; mr++) {
        uint32_t y0 = mr * e->mcu_h, y1 = y0 + e->mcu_h, py;

        if (y1 > rg->py1)
            y1 = rg->py1;
        decode_row(e, rg, mr, TRUE);
        for (ci = 0; ci < e->ncomp; ci++) {
            memset(rg->delta[ci], 0, rg->pw[ci] * (size_t)e->c[ci].v * 8 *
                   sizeof(float));
            memset(rg->dirty[ci], 0, rg->bcols[ci] * (size_t)e->c[ci].v);
        }
        for (py = y0; py < y1; py++) {
            const unsigned char *in = img->data + (size_t)(py - rg->py0) *
                                      img->stride;
            size_t roff[4], boff[4];
            uint32_t lx, npx = rg->px1 - rg->px0;

            for (ci = 0; ci < e->ncomp; ci++) {
                size_t sy = (py - y0) / (uint32_t)e->c[ci].sv;

                roff[ci] = sy * rg->pw[ci];
                boff[ci] = sy / 8 * rg->bcols[ci];
            }
            for (lx = 0; lx < npx; lx++) {
                const unsigned char *px = in + (size_t)lx *
                                          (size_t)img->channels;
                unsigned char was[3];
                float s[4], nv[4];

                for (ci = 0; ci < e->ncomp; ci++)
                    s[ci] = rg->plane[ci][roff[ci] + rg->xmap[ci][lx]];
                to_pixel(e, s, was);
                if (was[0] == px[0] && (img->channels == 1 ||
                    (was[1] == px[1] && was[2] == px[2])))
                    continue;
                changed_values(e, px, was, s, nv);
                for (ci = 0; ci < e->ncomp; ci++) {
                    size_t sx = rg->xmap[ci][lx];

                    rg->delta[ci][roff[ci] + sx] += nv[ci] - s[ci];
                    rg->dirty[ci][boff[ci] + sx / 8] = 1;
                }
            }
        }
        encode_row(e, rg, mr);
    }
    return MARK_OK;
}

int mark__jpeg_edit_put(mark__jpeg_edit *e, const mark__image *img,
                        uint32_t rx, uint32_t ry)
{
    region rg;
    int rc;

    if (e == NULL || img == NULL || img->data == NULL)
        return MARK_EINVAL;
    if (img->depth != 8 || img->channels != (e->ncomp == 1 ? 1 : 3) ||
        img->stride < (size_t)img->width * (size_t)img->channels)
        return mark__err(e->ctx, MARK_EINVAL, "image of %d channels of %d "
                         "bits does not fit this JPEG", img->channels,
                         img->depth);
    memset(&rg, 0, sizeof rg);
    rc = set_region(e, &rg, rx, ry, img->width, img->height);
    if (rc < 0)
        return rc;
    if (rg.px0 != rx || rg.py0 != ry || rg.px1 - rg.px0 != img->width ||
        rg.py1 - rg.py0 != img->height)
        return mark__err(e->ctx, MARK_EINVAL, "region %ux%u at %u,%u is not "
                         "one returned by a get", img->width, img->height,
                         rx, ry);
    rg.in = img;
    rc = region_alloc(e, &rg, 1);
    if (rc == MARK_OK)
        rc = run_guarded(e, put_work, &rg);
    region_free(e->ctx, &rg);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */

/* libjpeg writes into a mark__buf through the ctx allocator (jpeg_mem_dest
 * loses track of its buffer when an error strikes while it grows). */
typedef struct buf_dest {
    struct jpeg_destination_mgr pub;    /* first: libjpeg sees only this */
    mark__buf *buf;
    jerr *err;
} buf_dest;

static void dest_grow(j_compress_ptr ci, size_t extra)
{
    buf_dest *bd = (buf_dest *)ci->dest;
    int rc = mark__buf_reserve(bd->buf, extra);

    if (rc < 0) {
        bd->err->code = rc;             /* the message is already set */
        longjmp(bd->err->jb, 1);
    }
    bd->pub.next_output_byte = bd->buf->data + bd->buf->len;
    bd->pub.free_in_buffer = bd->buf->cap - bd->buf->len;
}

static void dest_init(j_compress_ptr ci)
{
    dest_grow(ci, DEST_CHUNK);
}

static boolean dest_empty(j_compress_ptr ci)
{
    buf_dest *bd = (buf_dest *)ci->dest;

    /* libjpeg filled all the room it was given */
    bd->buf->len = bd->buf->cap;
    dest_grow(ci, bd->buf->cap > DEST_CHUNK ? bd->buf->cap : DEST_CHUNK);
    return TRUE;
}

static void dest_term(j_compress_ptr ci)
{
    buf_dest *bd = (buf_dest *)ci->dest;

    bd->buf->len = (size_t)(bd->pub.next_output_byte - bd->buf->data);
}

typedef struct writer {
    struct jpeg_compress_struct c;
    buf_dest dest;
    mark__buf lj;               /* what libjpeg wrote */
} writer;

/* Files made with optimised Huffman tables (fewer codes than the 162 of
 * the standard AC table) get optimised tables again, which costs a
 * second pass; files with the standard tables, as cameras write them,
 * are written in one pass with the standard tables. */
static int had_optimised_tables(const struct jpeg_decompress_struct *d)
{
    const JHUFF_TBL *t = d->ac_huff_tbl_ptrs[0];
    int i, n = 0;

    if (t == NULL)
        return 1;
    for (i = 1; i <= 16; i++)
        n += t->bits[i];
    return n < 162;
}

static int write_work(mark__jpeg_edit *e, void *arg)
{
    writer *w = arg;
    struct jpeg_compress_struct *c = &w->c;

    c->err = &e->err.pub;
    jpeg_create_compress(c);
    w->dest.pub.init_destination = dest_init;
    w->dest.pub.empty_output_buffer = dest_empty;
    w->dest.pub.term_destination = dest_term;
    w->dest.buf = &w->lj;
    w->dest.err = &e->err;
    c->dest = &w->dest.pub;
    jpeg_copy_critical_parameters(&e->d, c);
    /* the original's own APP0 / APP14 are spliced back instead */
    c->write_JFIF_header = FALSE;
    c->write_Adobe_marker = FALSE;
    c->optimize_coding = had_optimised_tables(&e->d) ? TRUE : FALSE;
    c->restart_interval = e->d.restart_interval;
    c->restart_in_rows = 0;
    if (e->d.progressive_mode)
        jpeg_simple_progression(c);
    jpeg_write_coefficients(c, e->coefs);
    jpeg_finish_compress(c);
    return MARK_OK;
}

/* SOI, the original's APPn and COM segments, libjpeg's tables and scans,
 * then what followed the original EOI. */
static int splice(mark__jpeg_edit *e, const mark__buf *lj, mark__buf *out)
{
    const unsigned char *p = lj->data;
    size_t pos = 2, i;
    int rc;

    if (lj->len < 4 || p[0] != 0xff || p[1] != 0xd8)
        return mark__err(e->ctx, MARK_EBACKEND, "libjpeg wrote no JPEG");
    while (pos + 4 <= lj->len && p[pos] == 0xff && p[pos + 1] >= 0xe0 &&
           p[pos + 1] <= 0xef)
        pos += 2 + (size_t)mark__be16(p + pos + 2);
    if (pos >= lj->len)
        return mark__err(e->ctx, MARK_EBACKEND, "libjpeg wrote no image");
    rc = mark__buf_reserve(out, e->len + lj->len);
    if (rc < 0)
        return rc;
    rc = mark__buf_put(out, "\xff\xd8", 2);
    for (i = 0; i < e->n_keep && rc == MARK_OK; i++)
        rc = mark__buf_put(out, e->orig + e->keep[i].off, e->keep[i].len);
    if (rc == MARK_OK)
        rc = mark__buf_put(out, p + pos, lj->len - pos);
    if (rc == MARK_OK && e->end < e->len)
        rc = mark__buf_put(out, e->orig + e->end, e->len - e->end);
    return rc;
}

int mark__jpeg_edit_finish(mark__jpeg_edit *e, mark__buf *out)
{
    writer w;
    int rc;

    if (e == NULL || out == NULL)
        return MARK_EINVAL;
    memset(&w, 0, sizeof w);
    mark__buf_init(&w.lj, e->ctx);
    rc = run_guarded(e, write_work, &w);
    /* safe on a half-made object: it only frees what was allocated */
    jpeg_destroy_compress(&w.c);
    if (rc == MARK_OK)
        rc = splice(e, &w.lj, out);
    mark__buf_free(&w.lj);
    return rc;
}

void mark__jpeg_edit_free(mark__jpeg_edit *e)
{
    mark_ctx *ctx;

    if (e == NULL)
        return;
    ctx = e->ctx;
    /* a no-op on an object jpeg_create_decompress never finished */
    jpeg_destroy_decompress(&e->d);
    mark__free(ctx, e->keep);
    mark__free(ctx, e->orig);
    mark__free(ctx, e);
}

/* ------------------------------------------------------------------ */
/* The luma fast path (the watermark)                                  */

/* YCbCr or greyscale with a Y sample for every pixel: the files whose
 * luma the watermark can change in the coefficients. */
static int has_full_y(const mark__jpeg_edit *e)
{
    return (e->cs == JCS_YCbCr || e->cs == JCS_GRAYSCALE) &&
           e->c[0].sh == 1 && e->c[0].sv == 1;
}

/* The Y plane from the coefficients already held, with the same
 * transform _get uses: no second entropy decoding of the file.  Levels
 * are clamped to 0..255 as a decoder's are, not rounded. */
MARK__SIMD
static int luma_work(mark__jpeg_edit *e, void *arg)
{
    float *plane = arg;
    const comp *c = &e->c[0];
    uint32_t by, bx, x, y;

    for (by = 0; by < c->hb; by++) {
        JBLOCKARRAY rows = (*e->d.mem->access_virt_barray)(
            (j_common_ptr)&e->d, e->coefs[0], by, 1, FALSE);
        uint32_t y0 = by * 8, ny = e->height - y0 < 8 ? e->height - y0 : 8;

        for (bx = 0; bx < c->wb; bx++) {
            uint32_t x0 = bx * 8;
            uint32_t nx = e->width - x0 < 8 ? e->width - x0 : 8;
            float blk[64];

            idct_block(e, rows[0][bx], c->q, blk, 8);
            for (x = 0; x < 64; x++) {
                float v = blk[x];

                v = v < 0.0f ? 0.0f : v;
                blk[x] = v > 255.0f ? 255.0f : v;
            }
            for (y = 0; y < ny; y++)
                memcpy(plane + (size_t)(y0 + y) * e->width + x0, blk + y * 8,
                       sizeof(float) * nx);
        }
    }
    return MARK_OK;
}

int mark__jpeg_edit_luma(mark__jpeg_edit *e, float **out)
{
    float *plane;
    int rc;

    *out = NULL;
    if (!has_full_y(e))
        return MARK_EUNSUPPORTED;
    plane = mark__plane_alloc(e->ctx, sizeof(float) * e->width * e->height);
    if (plane == NULL)
        return mark__err(e->ctx, MARK_ENOMEM, "out of memory");
    rc = run_guarded(e, luma_work, plane);
    if (rc < 0) {
        mark__plane_free(e->ctx, plane,
                         sizeof(float) * e->width * e->height);
        return rc;
    }
    *out = plane;
    return MARK_OK;
}

/* Add a change f (transform coefficients) to a block's coefficients cf
 * in quantiser steps (iq: 1 / step), rounded to the nearest and kept in
 * the range the encoder takes (10 bits AC, one more step down for the
 * DC).  Adding and taking away 1.5 * 2^23 rounds a float of magnitude
 * under 2^22 to an integer without a branch or a library call (cf is 16
 * bits and the change a few steps, so r is far smaller); rounding first
 * and clamping the integers after, in one loop, lets the compiler
 * vectorise it with integer min and max (clamping first, in a loop of
 * its own, it did not, and that loop cost as much as the rest of the
 * change; clamping the floats, it compared and blended). */
static MARK__INLINE void add_in_steps(JCOEF *restrict cf,
                                      const float *restrict f,
                                      const float *restrict iq)
{
    float dc = (float)cf[0] + f[0] * iq[0];
    int u;

    for (u = 0; u < 64; u++) {
        float r = (float)cf[u] + f[u] * iq[u];
        int v;

        r = (r + 12582912.0f) - 12582912.0f;
        v = (int)r;
        v = v < -1023 ? -1023 : v;
        cf[u] = (JCOEF)(v > 1023 ? 1023 : v);
    }
    if (dc < -1023.5f)
        cf[0] = -1024;
}

/* The change for Y block (bx, by), as transform coefficients in f;
 * 0 when the block has none. */
typedef int block_change(const mark__jpeg_edit *e, const void *arg,
                         uint32_t bx, uint32_t by, float *f);

/* Add each Y block's change in quantiser steps. */
static MARK__INLINE void add_to_y(mark__jpeg_edit *e, block_change *fn,
                                  const void *arg)
{
    const comp *c = &e->c[0];
    float iq[64];
    uint32_t by, bx;
    int k;

    for (k = 0; k < 64; k++)
        iq[k] = 1.0f / c->q[k];
    for (by = 0; by < c->hb; by++) {
        JBLOCKARRAY rows = (*e->d.mem->access_virt_barray)(
            (j_common_ptr)&e->d, e->coefs[0], by, 1, TRUE);

        for (bx = 0; bx < c->wb; bx++) {
            float f[64];

            if (fn(e, arg, bx, by, f))
                add_in_steps(rows[0][bx], f, iq);
        }
    }
}

/* A block's share of a change of luma (W x H; pixels past the image edge
 * repeat the last: the block's padding), transformed. */
static MARK__INLINE int luma_change(const mark__jpeg_edit *e,
                                    const void *arg, uint32_t bx,
                                    uint32_t by, float *f)
{
    const float *delta = arg;
    float blk[64];
    int x, y, any = 0;

    if (bx * 8 + 8 <= e->width && by * 8 + 8 <= e->height) {
        const float *src = delta + (size_t)by * 8 * e->width + bx * 8;

        for (y = 0; y < 8; y++)
            memcpy(blk + y * 8, src + (size_t)y * e->width,
                   sizeof(float) * 8);
        for (x = 0; x < 64; x++)
            any |= blk[x] != 0.0f;
    } else
        for (y = 0; y < 8; y++) {
            uint32_t py = by * 8 + (uint32_t)y;
            const float *src;

            if (py >= e->height)
                py = e->height - 1;
            src = delta + (size_t)py * e->width;
            for (x = 0; x < 8; x++) {
                uint32_t px = bx * 8 + (uint32_t)x;

                blk[y * 8 + x] = src[px < e->width ? px : e->width - 1];
                any |= blk[y * 8 + x] != 0.0f;
            }
        }
    if (any)
        fdct_float(e, blk, f);
    return any;
}

MARK__SIMD
static int add_luma_work(mark__jpeg_edit *e, void *arg)
{
    add_to_y(e, luma_change, arg);
    return MARK_OK;
}

int mark__jpeg_edit_add_luma(mark__jpeg_edit *e, const float *delta)
{
    if (!has_full_y(e))
        return MARK_EUNSUPPORTED;
    return run_guarded(e, add_luma_work, (void *)(uintptr_t)delta);
}

/* 2 x 2 cells.  With the orthonormal basis b[k][n], the mean of cell i
 * of a row of eight is sum_k F[k] (b[k][2i] + b[k][2i + 1]) / 2, so the
 * sixteen cell means of a block come from its coefficients in two small
 * products (a quarter of an inverse transform's work), exactly; and a
 * change that is constant on each cell has the transform
 * F[v][u] = sum_j sum_i delta[j][i] s[v][j] s[u][i], s = the pair sums. */
typedef struct cells_job {
    float *v2, *s2;                     /* cell means and mean squares */
    const float *d2;                    /* or the change to add */
    float half[8][4];                   /* b[k][2i] + b[k][2i + 1], / 2 */
    float pair[8][4];                   /* the same, not halved */
    float pair_t[4][8];                 /* pair transposed */
} cells_job;

static void cells_basis(const mark__jpeg_edit *e, cells_job *cj)
{
    int k, i;

    for (k = 0; k < 8; k++)
        for (i = 0; i < 4; i++) {
            cj->pair[k][i] = e->basis[k][2 * i] + e->basis[k][2 * i + 1];
            cj->pair_t[i][k] = cj->pair[k][i];
            cj->half[k][i] = cj->pair[k][i] * 0.5f;
        }
}

/* The sixteen cell means m of a block of coefficients cf (quantiser
 * steps q) and its energy, the sum of its squared values less the mean's. */
static MARK__INLINE float block_cells(const float (*h)[4], const JCOEF *cf,
                                      const float *q, float m[4][4])
{
    float f[64], sv[4][8], lane[8], energy = 0;
    unsigned short ac16 = 0;
    int u;
    uint32_t i, j;

    /* any AC coefficient: all 64 in 16-bit lanes, the DC masked off (from
     * 1 to 63, the loop had a scalar tail as long as its vector part) */
    for (u = 0; u < 64; u++)
        ac16 |= (unsigned short)((unsigned short)cf[u] & (u ? 0xffffu : 0));
    if (ac16 == 0) {
        /* a flat block (most of a screenshot's): the same values as
         * below, where every other term is a zero */
        float dc = (float)cf[0] * q[0];

        for (j = 0; j < 4; j++)
            for (i = 0; i < 4; i++)
                m[j][i] = (h[0][j] * dc) * h[0][i];
        return dc * dc;
    }
    for (u = 0; u < 64; u++)
        f[u] = (float)cf[u] * q[u];
    /* the energy, a lane per column (one sum each: written as a loop
     * over the rows, the lanes went through memory) */
    for (u = 0; u < 8; u++)
        lane[u] = f[u] * f[u] + f[8 + u] * f[8 + u] +
                  f[16 + u] * f[16 + u] + f[24 + u] * f[24 + u] +
                  f[32 + u] * f[32 + u] + f[40 + u] * f[40 + u] +
                  f[48 + u] * f[48 + u] + f[56 + u] * f[56 + u];
    for (u = 0; u < 8; u++)
        energy += lane[u];
    /* down the columns first, whole rows at a time:
     * sv[j][u] = sum_v half[v][j] f[v][u].  The pair sums of the basis
     * are even in j for even v and odd for odd v
     * (half[v][3 - j] = (-1)^v half[v][j]), and zero for v = 4 (two
     * neighbours cancel at that frequency), so cells 0 and 1 give 3 and
     * 2 with a sign change */
    for (j = 0; j < 2; j++) {
        const float *f0 = f, *f1 = f + 8, *f2 = f + 16, *f3 = f + 24;
        const float *f5 = f + 40, *f6 = f + 48, *f7 = f + 56;

        for (u = 0; u < 8; u++) {
            float ev = h[0][j] * f0[u] + h[2][j] * f2[u] + h[6][j] * f6[u];
            float od = h[1][j] * f1[u] + h[3][j] * f3[u] +
                       h[5][j] * f5[u] + h[7][j] * f7[u];

            sv[j][u] = ev + od;
            sv[3 - j][u] = ev - od;
        }
    }
    /* then along the rows: m[j][i] = sum_u sv[j][u] half[u][i] */
    for (j = 0; j < 4; j++)
        for (i = 0; i < 4; i++)
            m[j][i] = sv[j][0] * h[0][i] + sv[j][1] * h[1][i] +
                      sv[j][2] * h[2][i] + sv[j][3] * h[3][i] +
                      sv[j][5] * h[5][i] + sv[j][6] * h[6][i] +
                      sv[j][7] * h[7][i];
    return energy;
}

MARK__SIMD
static int cells_get_work(mark__jpeg_edit *e, void *arg)
{
    cells_job *cj = arg;
    const comp *c = &e->c[0];
    const float (*h)[4] = cj->half;
    uint32_t w2 = (e->width + 1) / 2, h2 = (e->height + 1) / 2;
    uint32_t by, bx;

    for (by = 0; by < c->hb; by++) {
        JBLOCKARRAY rows = (*e->d.mem->access_virt_barray)(
            (j_common_ptr)&e->d, e->coefs[0], by, 1, FALSE);
        uint32_t j0 = by * 4, nj = h2 - j0 < 4 ? h2 - j0 : 4;

        for (bx = 0; bx < c->wb; bx++) {
            uint32_t i0 = bx * 4, ni = w2 - i0 < 4 ? w2 - i0 : 4, i, j;
            float m[4][4], col[4], lv[16], ls[16], kept, r;
            float energy = block_cells(h, rows[0][bx], c->q, m);

            /* the squares summed down the columns, then across (four
             * lanes) */
            for (i = 0; i < 4; i++)
                col[i] = m[0][i] * m[0][i] + m[1][i] * m[1][i] +
                         m[2][i] * m[2][i] + m[3][i] * m[3][i];
            kept = (col[0] + col[1]) + (col[2] + col[3]);
            /* what the cell means leave out of the block's energy, spread
             * evenly: each cell's variance about its mean */
            r = (energy - 4.0f * kept) / 64.0f;
            r = r > 0.0f ? r : 0.0f;
            /* levels and mean squares of all sixteen first (loops over
             * the block, which vectorise: with both in one loop GCC kept
             * the clamps as branches), then the rows inside the image */
            for (j = 0; j < 4; j++)
                for (i = 0; i < 4; i++) {
                    float l = m[j][i] + 128.0f;

                    l = l < 0.0f ? 0.0f : l;
                    lv[4 * j + i] = l > 255.0f ? 255.0f : l;
                }
            for (j = 0; j < 4; j++)
                for (i = 0; i < 4; i++)
                    ls[4 * j + i] = lv[4 * j + i] * lv[4 * j + i] + r;
            for (j = 0; j < nj; j++) {
                size_t o = (size_t)(j0 + j) * w2 + i0;

                if (ni == 4) {
                    memcpy(cj->v2 + o, lv + 4 * j, sizeof(float) * 4);
                    memcpy(cj->s2 + o, ls + 4 * j, sizeof(float) * 4);
                } else
                    for (i = 0; i < ni; i++) {
                        cj->v2[o + i] = lv[4 * j + i];
                        cj->s2[o + i] = ls[4 * j + i];
                    }
            }
        }
    }
    return MARK_OK;
}

int mark__jpeg_edit_cells(mark__jpeg_edit *e, float **v2, float **s2)
{
    cells_job cj;
    size_t n = (size_t)((e->width + 1) / 2) * ((e->height + 1) / 2);
    int rc;

    *v2 = *s2 = NULL;
    if (!has_full_y(e))
        return MARK_EUNSUPPORTED;
    memset(&cj, 0, sizeof cj);
    cells_basis(e, &cj);
    cj.v2 = mark__plane_alloc(e->ctx, sizeof(float) * n);
    cj.s2 = mark__plane_alloc(e->ctx, sizeof(float) * n);
    rc = cj.v2 == NULL || cj.s2 == NULL
         ? mark__err(e->ctx, MARK_ENOMEM, "out of memory")
         : run_guarded(e, cells_get_work, &cj);
    if (rc < 0) {
        mark__plane_free(e->ctx, cj.v2, sizeof(float) * n);
        mark__plane_free(e->ctx, cj.s2, sizeof(float) * n);
        return rc;
    }
    *v2 = cj.v2;
    *s2 = cj.s2;
    return MARK_OK;
}

/* A block's share of a change constant on 2 x 2 cells ((W + 1) / 2 x
 * (H + 1) / 2; past the edge the last cell, as padding), transformed. */
static MARK__INLINE int cells_change(const mark__jpeg_edit *e,
                                     const void *arg, uint32_t bx,
                                     uint32_t by, float *f)
{
    const cells_job *cj = arg;
    const float (*p)[4] = cj->pair, (*pt)[8] = cj->pair_t;
    uint32_t w2 = (e->width + 1) / 2, h2 = (e->height + 1) / 2, i, j;
    float dl[4][4], t[4][8], ev[2][8], od[2][8];
    int u, any = 0;

    if (bx * 4 + 4 <= w2 && by * 4 + 4 <= h2) {
        /* inside: four cells of four rows; the watermark changes nearly
         * every block, so there is no test for an empty change here
         * (adding zero steps leaves the coefficients as they were) */
        for (j = 0; j < 4; j++)
            memcpy(dl[j], cj->d2 + (size_t)(by * 4 + j) * w2 + bx * 4,
                   sizeof dl[j]);
        any = 1;
    } else
        for (j = 0; j < 4; j++) {
            uint32_t cy = by * 4 + j < h2 ? by * 4 + j : h2 - 1;
            const float *row = cj->d2 + (size_t)cy * w2;

            for (i = 0; i < 4; i++) {
                uint32_t cx = bx * 4 + i < w2 ? bx * 4 + i : w2 - 1;

                dl[j][i] = row[cx];
                any |= dl[j][i] != 0.0f;
            }
        }
    if (!any)
        return 0;
    /* t[j][u] = sum_i dl[j][i] pair[u][i], then
     * f[v][u] = sum_j pair[v][j] t[j][u], as sums of scaled rows; the
     * pair sums are even in j for even v, odd for odd v and zero for
     * v = 4 (see cells_get_work()), so each row of f takes two */
    for (j = 0; j < 4; j++)
        for (u = 0; u < 8; u++)
            t[j][u] = dl[j][0] * pt[0][u] + dl[j][1] * pt[1][u] +
                      dl[j][2] * pt[2][u] + dl[j][3] * pt[3][u];
    for (u = 0; u < 8; u++) {
        ev[0][u] = t[0][u] + t[3][u];
        ev[1][u] = t[1][u] + t[2][u];
        od[0][u] = t[0][u] - t[3][u];
        od[1][u] = t[1][u] - t[2][u];
    }
    for (u = 0; u < 8; u++) {
        f[u] = p[0][0] * ev[0][u] + p[0][1] * ev[1][u];
        f[8 + u] = p[1][0] * od[0][u] + p[1][1] * od[1][u];
        f[16 + u] = p[2][0] * ev[0][u] + p[2][1] * ev[1][u];
        f[24 + u] = p[3][0] * od[0][u] + p[3][1] * od[1][u];
        f[32 + u] = 0.0f;
        f[40 + u] = p[5][0] * od[0][u] + p[5][1] * od[1][u];
        f[48 + u] = p[6][0] * ev[0][u] + p[6][1] * ev[1][u];
        f[56 + u] = p[7][0] * od[0][u] + p[7][1] * od[1][u];
    }
    return 1;
}

MARK__SIMD
static int cells_add_work(mark__jpeg_edit *e, void *arg)
{
    add_to_y(e, cells_change, arg);
    return MARK_OK;
}

int mark__jpeg_edit_add_cells(mark__jpeg_edit *e, const float *d2)
{
    cells_job cj;

    if (!has_full_y(e))
        return MARK_EUNSUPPORTED;
    memset(&cj, 0, sizeof cj);
    cells_basis(e, &cj);
    cj.d2 = d2;
    return run_guarded(e, cells_add_work, &cj);
}
