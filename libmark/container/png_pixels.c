/*
 * png_pixels.c - PNG at the pixel level: decoding a file to samples and
 * writing changed samples back as a file that keeps every other chunk.
 *
 * This is the only file that includes png.h.  libpng does the image data
 * (filters, zlib, Adam7) in both directions; the chunks around it are
 * spliced from the original file byte for byte, so metadata never goes
 * through libpng's interpretation (which would drop or normalise what it
 * does not understand).
 *
 * libpng reports errors by calling a handler that must not return; it
 * longjmps back to the setjmp in run_decode / run_encode.  Those two
 * functions do nothing but the setjmp and a call, and every value that
 * must survive the jump lives in a pio struct owned by their caller, so
 * no local is live across a longjmp.
 */
#include <setjmp.h>
#include <string.h>

#include <png.h>
#include <zlib.h>

#include "internal.h"

static const unsigned char signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n',
                                            0x1a, '\n' };

/* State shared with libpng's callbacks (error, memory, I/O). */
typedef struct pio {
    mark_ctx *ctx;
    png_structp png;
    png_infop info;
    int fail;                  /* status for a libpng error */
    int oom;                   /* an allocation failed: a libpng error
                                  is then reported as MARK_ENOMEM */
    int rc;                    /* status once something failed */
    const unsigned char *src;  /* decode: the file */
    size_t len;
    size_t pos;
    mark__image *img;          /* decode: the result */
    const mark__image *in;     /* encode: the samples */
    mark__buf *dst;            /* encode: libpng's output */
    int color_type;            /* encode: PNG_COLOR_TYPE_* */
    int interlace;             /* encode: PNG_INTERLACE_* */
    png_bytep *rows;           /* row pointers into img->data / in->data */
} pio;

static void on_error(png_structp png, png_const_charp msg)
{
    pio *st = png_get_error_ptr(png);

    /* a failure our own callbacks already described keeps its message */
    if (st->rc == MARK_OK)
        st->rc = mark__err(st->ctx, st->oom ? MARK_ENOMEM : st->fail,
                           "libpng: %s", msg);
    png_longjmp(png, 1);
}

/* The library never prints; libpng warnings are about things it has
 * already worked around. */
static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/* libpng allocates through the ctx allocator like the rest of libmark. */
static png_voidp mem_alloc(png_structp png, png_alloc_size_t n)
{
    pio *st = png_get_mem_ptr(png);
    void *p = mark__malloc(st->ctx, n);

    if (p == NULL)
        st->oom = 1;
    return p;
}

static void mem_free(png_structp png, png_voidp p)
{
    pio *st = png_get_mem_ptr(png);

    mark__free(st->ctx, p);
}

static void read_mem(png_structp png, png_bytep out, size_t n)
{
    pio *st = png_get_io_ptr(png);

    if (n > st->len - st->pos) {
        st->rc = mark__err(st->ctx, MARK_EFORMAT, "PNG is truncated at "
                           "byte %zu", st->len);
        png_error(png, "truncated");
    }
    memcpy(out, st->src + st->pos, n);
    st->pos += n;
}

static void write_mem(png_structp png, png_bytep data, size_t n)
{
    pio *st = png_get_io_ptr(png);
    int rc = mark__buf_put(st->dst, data, n);

    if (rc < 0) {
        st->rc = rc;
        png_error(png, "out of memory");
    }
}

static void flush_mem(png_structp png)
{
    (void)png;
}

static int host_little_endian(void)
{
    const uint16_t one = 1;

    return *(const unsigned char *)&one == 1;
}

static int check_size(mark_ctx *ctx, uint32_t w, uint32_t h)
{
    if ((int64_t)w > ctx->limits[MARK_LIMIT_DIMENSION] ||
        (int64_t)h > ctx->limits[MARK_LIMIT_DIMENSION] ||
        (int64_t)w * (int64_t)h > ctx->limits[MARK_LIMIT_PIXELS])
        return mark__err(ctx, MARK_ELIMIT, "PNG of %ux%u pixels exceeds "
                         "the image size limit", w, h);
    return MARK_OK;
}

/* The body of a decode; runs under run_decode's setjmp. */
static int decode_body(pio *st)
{
    png_structp png = st->png;
    png_infop info = st->info;
    mark__image *img = st->img;
    png_uint_32 w, h, y;
    int depth, ct, channels, rc;
    size_t rowbytes;

    png_read_info(png, info);
    w = png_get_image_width(png, info);
    h = png_get_image_height(png, info);
    /* mark__png_decode checked the IHDR bytes already; this is what
     * libpng actually read, and it is what the buffers are sized by */
    rc = check_size(st->ctx, w, h);
    if (rc < 0)
        return rc;
    depth = png_get_bit_depth(png, info);
    ct = png_get_color_type(png, info);
    if (ct == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(png);
    if (ct == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    /* PNG stores 16-bit samples big-endian; mark__image wants them native */
    if (depth == 16 && host_little_endian())
        png_set_swap(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    channels = png_get_channels(png, info);
    depth = png_get_bit_depth(png, info);
    rowbytes = png_get_rowbytes(png, info);
    if (w == 0 || h == 0 || channels < 1 || channels > 4 ||
        (depth != 8 && depth != 16) ||
        rowbytes != (size_t)w * (size_t)channels * (size_t)(depth / 8))
        return mark__err(st->ctx, MARK_EFORMAT, "PNG decodes to %d channels "
                         "of %d bits, which is not handled", channels, depth);
    if (rowbytes > SIZE_MAX / h || sizeof *st->rows > SIZE_MAX / h)
        return mark__err(st->ctx, MARK_ELIMIT, "PNG of %ux%u pixels is too "
                         "large for memory", w, h);
    img->data = mark__malloc(st->ctx, rowbytes * h);
    st->rows = mark__malloc(st->ctx, sizeof *st->rows * h);
    if (img->data == NULL || st->rows == NULL)
        return mark__err(st->ctx, MARK_ENOMEM, "out of memory (PNG of %ux%u "
                         "pixels)", w, h);
    for (y = 0; y < h; y++)
        st->rows[y] = img->data + rowbytes * y;
    png_read_image(png, st->rows);
    /* reading to IEND lets zlib reach the end of the stream and check
     * its Adler-32, so damage late in the data is caught too */
    png_read_end(png, NULL);
    img->stride = rowbytes;
    img->width = w;
    img->height = h;
    img->channels = channels;
    img->depth = depth;
    return MARK_OK;
}

static int run_decode(pio *st)
{
    if (setjmp(png_jmpbuf(st->png)))
        return st->rc < 0 ? st->rc : MARK_EFORMAT;
    return decode_body(st);
}

int mark__png_decode(mark_ctx *ctx, const unsigned char *png, size_t len,
                     mark__image *img)
{
    pio st;
    int rc;
    png_uint_32 lim;

    memset(img, 0, sizeof *img);
    /* A hostile header must fail with ELIMIT before anything is allocated
     * for it.  libpng's own user limits (set below) would stop it too,
     * but as a generic "invalid IHDR" error. */
    if (len >= 33 && memcmp(png, signature, 8) == 0 &&
        mark__be32(png + 8) == 13 && memcmp(png + 12, "IHDR", 4) == 0) {
        rc = check_size(ctx, mark__be32(png + 16), mark__be32(png + 20));
        if (rc < 0)
            return rc;
    }
    memset(&st, 0, sizeof st);
    st.ctx = ctx;
    st.fail = MARK_EFORMAT;
    st.src = png;
    st.len = len;
    st.img = img;
    st.png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &st, on_error,
                                      on_warning, &st, mem_alloc, mem_free);
    if (st.png == NULL)
        return mark__err(ctx, MARK_ENOMEM, "libpng: cannot create a read "
                         "structure");
    st.info = png_create_info_struct(st.png);
    if (st.info == NULL) {
        rc = mark__err(ctx, MARK_ENOMEM, "libpng: cannot create an info "
                       "structure");
        goto cleanup;
    }
    png_set_read_fn(st.png, &st, read_mem);
    lim = ctx->limits[MARK_LIMIT_DIMENSION] < 0x7fffffff
        ? (png_uint_32)ctx->limits[MARK_LIMIT_DIMENSION] : 0x7fffffffu;
    png_set_user_limits(st.png, lim, lim);
    /* Only the pixels are wanted, and the caller keeps the other chunks
     * as raw bytes: -1 makes libpng skip every ancillary chunk except
     * tRNS, which is less work and less parser exposed to the input. */
    png_set_keep_unknown_chunks(st.png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
    /* Benign errors are warnings by default, among them a wrong Adler-32
     * at the end of the image data.  The samples are re-encoded with
     * fresh checksums, so accepting damage here would launder it. */
    png_set_benign_errors(st.png, 0);
    rc = run_decode(&st);

cleanup:
    png_destroy_read_struct(&st.png, &st.info, NULL);
    mark__free(ctx, st.rows);
    if (rc < 0)
        mark__image_free(ctx, img);
    return rc;
}

/* The body of an encode; runs under run_encode's setjmp. */
static int encode_body(pio *st)
{
    png_structp png = st->png;
    png_infop info = st->info;
    const mark__image *img = st->in;
    png_uint_32 y;

    png_set_IHDR(png, info, img->width, img->height, img->depth,
                 st->color_type, st->interlace,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    /* libpng's default filter choice and zlib level: the new IDATs may be
     * slightly larger or smaller than the original's */
    png_set_compression_level(png, Z_DEFAULT_COMPRESSION);
    png_write_info(png, info);
    if (img->depth == 16 && host_little_endian())
        png_set_swap(png);
    if (st->interlace != PNG_INTERLACE_NONE)
        png_set_interlace_handling(png);
    for (y = 0; y < img->height; y++)
        st->rows[y] = img->data + img->stride * y;
    png_write_image(png, st->rows);
    png_write_end(png, NULL);
    return MARK_OK;
}

static int run_encode(pio *st)
{
    if (setjmp(png_jmpbuf(st->png)))
        return st->rc < 0 ? st->rc : MARK_EBACKEND;
    return encode_body(st);
}

/* Write img alone (IHDR, IDAT..., IEND) into enc. */
static int encode_image(mark_ctx *ctx, const mark__image *img,
                        int color_type, int interlace, mark__buf *enc)
{
    pio st;
    int rc;

    memset(&st, 0, sizeof st);
    st.ctx = ctx;
    st.fail = MARK_EBACKEND;
    st.in = img;
    st.dst = enc;
    st.color_type = color_type;
    st.interlace = interlace;
    st.rows = mark__malloc(ctx, sizeof *st.rows * img->height);
    if (st.rows == NULL)
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    st.png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, &st, on_error,
                                       on_warning, &st, mem_alloc, mem_free);
    if (st.png == NULL) {
        rc = mark__err(ctx, MARK_ENOMEM, "libpng: cannot create a write "
                       "structure");
        goto cleanup;
    }
    st.info = png_create_info_struct(st.png);
    if (st.info == NULL) {
        rc = mark__err(ctx, MARK_ENOMEM, "libpng: cannot create an info "
                       "structure");
        goto cleanup;
    }
    png_set_write_fn(st.png, &st, write_mem, flush_mem);
    /* the caller's limits applied when the image was read; libpng's
     * default of a million pixels across must not refuse it now */
    png_set_user_limits(st.png, 0x7fffffffu, 0x7fffffffu);
    rc = run_encode(&st);

cleanup:
    png_destroy_write_struct(&st.png, &st.info);
    mark__free(ctx, st.rows);
    return rc;
}

/* The chunk at pos of a file of len bytes: its data length in *clen.
 * Returns 1 when a whole chunk is there, 0 otherwise. */
static int chunk_at(const unsigned char *p, size_t len, size_t pos,
                    size_t *clen)
{
    uint32_t n;

    if (pos > len || len - pos < 12)
        return 0;
    n = mark__be32(p + pos);
    if (n > len - pos - 12)
        return 0;
    *clen = n;
    return 1;
}

/* Chunks whose meaning depends on the colour type or the bit depth. */
static int depends_on_format(const unsigned char *type)
{
    return memcmp(type, "tRNS", 4) == 0 || memcmp(type, "bKGD", 4) == 0 ||
           memcmp(type, "sBIT", 4) == 0;
}

int mark__png_encode(mark_ctx *ctx, const unsigned char *orig,
                     size_t orig_len, const mark__image *img,
                     mark__buf *out)
{
    static const int types[5] = { -1, PNG_COLOR_TYPE_GRAY,
                                  PNG_COLOR_TYPE_GRAY_ALPHA,
                                  PNG_COLOR_TYPE_RGB,
                                  PNG_COLOR_TYPE_RGB_ALPHA };
    mark__buf enc;
    size_t pos, clen, idat_off = 0, idat_len = 0, start = out->len;
    int rc, changed, interlace, idat_done = 0;

    mark__buf_init(&enc, ctx);
    if (img == NULL || img->data == NULL || img->channels < 1 ||
        img->channels > 4 || (img->depth != 8 && img->depth != 16) ||
        img->width == 0 || img->height == 0 || img->width > 0x7fffffffu ||
        img->height > 0x7fffffffu ||
        sizeof(png_bytep) > SIZE_MAX / img->height ||
        img->stride / (size_t)img->channels / (size_t)(img->depth / 8) <
        img->width)
        return mark__err(ctx, MARK_EINVAL, "invalid image for PNG encoding");
    if (orig_len < 33 || memcmp(orig, signature, 8) != 0 ||
        mark__be32(orig + 8) != 13 || memcmp(orig + 12, "IHDR", 4) != 0)
        return mark__err(ctx, MARK_EFORMAT, "original is not a PNG file "
                         "starting with IHDR");
    changed = orig[24] != img->depth || orig[25] != types[img->channels];
    interlace = orig[28] == 1 ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE;

    rc = encode_image(ctx, img, types[img->channels], interlace, &enc);
    if (rc < 0)
        goto cleanup;
    /* libpng wrote signature, IHDR, the IDATs (consecutive) and IEND */
    for (pos = 33; chunk_at(enc.data, enc.len, pos, &clen);
         pos += clen + 12) {
        if (memcmp(enc.data + pos + 4, "IDAT", 4) != 0)
            continue;
        if (idat_len == 0)
            idat_off = pos;
        idat_len = pos + clen + 12 - idat_off;
    }
    if (enc.len < 33 || idat_len == 0) {
        rc = mark__err(ctx, MARK_EBACKEND, "libpng wrote no image data");
        goto cleanup;
    }

    rc = mark__buf_reserve(out, orig_len + enc.len);
    if (rc == MARK_OK)
        rc = mark__buf_put(out, enc.data, 33);   /* signature, new IHDR */
    /* Whatever follows the original's IEND is not PNG and is not
     * carried over. */
    for (pos = 8; rc == MARK_OK; pos += clen + 12) {
        const unsigned char *type;

        if (!chunk_at(orig, orig_len, pos, &clen)) {
            rc = mark__err(ctx, MARK_EFORMAT, "PNG chunk at byte %zu runs "
                           "past the end of the file", pos);
            break;
        }
        type = orig + pos + 4;
        if (memcmp(type, "IEND", 4) == 0)
            break;
        if (memcmp(type, "IDAT", 4) == 0 && !idat_done) {
            /* the new image data takes the place of the old */
            rc = mark__buf_put(out, enc.data + idat_off, idat_len);
            idat_done = 1;
            continue;
        }
        /* Never a PLTE: the image is written as grey or RGB(A), where a
         * palette is only a suggestion and the old indices would mean
         * nothing; hIST counts PLTE entries, so it goes with it. */
        if (memcmp(type, "IHDR", 4) == 0 || memcmp(type, "IDAT", 4) == 0 ||
            memcmp(type, "PLTE", 4) == 0 || memcmp(type, "hIST", 4) == 0 ||
            (changed && depends_on_format(type)))
            continue;
        rc = mark__buf_put(out, orig + pos, clen + 12);
    }
    if (rc == MARK_OK && !idat_done)
        rc = mark__buf_put(out, enc.data + idat_off, idat_len);
    if (rc == MARK_OK)
        rc = mark__buf_put(out, enc.data + idat_off + idat_len,
                           enc.len - idat_off - idat_len);   /* IEND */
    if (rc < 0)
        out->len = start;

cleanup:
    mark__buf_free(&enc);
    return rc;
}
