/*
 * png.c - PNG at the chunk level: reading the metadata label carriers and
 * rewriting a file with a new label while every other chunk, pixel data
 * included, is copied byte for byte.
 *
 * Marking metadata must not re-encode pixels, so this backend walks the
 * chunk structure itself (length, type, data, CRC-32 checked) instead of
 * going through a decoder.  Carriers read:
 *   iTXt (or tEXt / zTXt) "XML:com.adobe.xmp"  XMP packet, TC260:AIGC
 *   tEXt / zTXt / iTXt "AIGC"                   JSON, either form
 *   eXIf                                         EXIF UserComment
 * Written: one uncompressed iTXt "XML:com.adobe.xmp" before the first
 * IDAT, merged into the existing packet; the other carriers of a label are
 * dropped (text chunks) or blanked (the UserComment value).
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define XMP_KEYWORD "XML:com.adobe.xmp"

enum role {
    ROLE_COPY = 0,       /* copied unchanged */
    ROLE_XMP,            /* holds an XMP packet */
    ROLE_DROP,           /* a text chunk holding a label: removed */
    ROLE_EXIF_BLANK      /* eXIf whose UserComment holds a label */
};

typedef struct chunk {
    size_t off;          /* of the length field */
    uint32_t len;        /* of the data */
    char type[5];
    int role;
    int xmp_labels;      /* labels found in an XMP chunk */
    size_t uc_off;       /* ROLE_EXIF_BLANK: value inside the data */
    size_t uc_len;
} chunk;

typedef struct png_priv {
    chunk *chunks;
    size_t n;
    size_t first_idat;   /* index */
    size_t end;          /* offset just past IEND */
} png_priv;

static const unsigned char signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n',
                                            0x1a, '\n' };

static int type_ok(const unsigned char *t)
{
    int i;

    for (i = 0; i < 4; i++)
        if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z')))
            return 0;
    return 1;
}

static int parse_ihdr(mark_media *m, const unsigned char *d, uint32_t len)
{
    uint32_t w, h;
    int depth, ct, ok;

    if (len != 13)
        return mark__err(m->ctx, MARK_EFORMAT, "PNG IHDR has length %u, "
                         "not 13", len);
    w = mark__be32(d);
    h = mark__be32(d + 4);
    depth = d[8];
    ct = d[9];
    if (w == 0 || h == 0 || w > 0x7fffffffu || h > 0x7fffffffu)
        return mark__err(m->ctx, MARK_EFORMAT, "PNG IHDR has an invalid "
                         "size %ux%u", w, h);
    switch (ct) {
    case 0: ok = depth == 1 || depth == 2 || depth == 4 || depth == 8 ||
                 depth == 16; break;
    case 3: ok = depth == 1 || depth == 2 || depth == 4 || depth == 8; break;
    case 2: case 4: case 6: ok = depth == 8 || depth == 16; break;
    default: ok = 0;
    }
    if (!ok || d[10] != 0 || d[11] != 0 || d[12] > 1)
        return mark__err(m->ctx, MARK_EFORMAT, "PNG IHDR has an invalid "
                         "colour type %d / bit depth %d / method", ct, depth);
    if ((int64_t)w > m->ctx->limits[MARK_LIMIT_DIMENSION] ||
        (int64_t)h > m->ctx->limits[MARK_LIMIT_DIMENSION] ||
        (int64_t)w * (int64_t)h > m->ctx->limits[MARK_LIMIT_PIXELS])
        return mark__err(m->ctx, MARK_ELIMIT, "PNG of %ux%u pixels exceeds "
                         "the image size limit", w, h);
    m->info.width = w;
    m->info.height = h;
    m->info.bit_depth = depth;
    m->info.channels = ct == 0 ? 1 : ct == 4 ? 2 : ct == 6 ? 4 : 3;
    return MARK_OK;
}

/* Split "keyword\0rest"; returns the rest's offset or 0 when malformed. */
static size_t keyword_end(const unsigned char *d, uint32_t len)
{
    size_t i;

    for (i = 0; i < len && i < 80; i++)
        if (d[i] == 0)
            return i >= 1 ? i + 1 : 0;
    return 0;
}

/* The value of a text chunk (tEXt, zTXt, iTXt) whose keyword ends at k,
 * inflated when compressed (bounded by the metadata limit).
 * @return : MARK_OK, 1 when the chunk is too short to hold a value, or
 * the inflation's error with its message in the ctx. */
static int text_value(mark_ctx *ctx, const chunk *c, const unsigned char *d,
                      size_t k, mark__buf *out)
{
    size_t vo = k, i;
    int compressed = 0;

    if (strcmp(c->type, "zTXt") == 0) {
        compressed = 1;
        vo = k + 1;
    } else if (strcmp(c->type, "iTXt") == 0) {
        if (k + 2 > c->len)
            return 1;
        compressed = d[k] != 0;
        vo = k + 2;
        for (i = 0; i < 2; i++) {     /* language tag, translated keyword */
            while (vo < c->len && d[vo] != 0)
                vo++;
            vo++;
        }
    }
    if (vo > c->len)
        return 1;
    if (!compressed)
        return mark__buf_put(out, d + vo, c->len - vo);
    return mark__inflate(ctx, d + vo, c->len - vo,
                         (size_t)ctx->limits[MARK_LIMIT_METADATA_BYTES], out);
}

/* Text chunks: find the value of keyword AIGC or an XMP packet. */
static int scan_text(mark_media *m, chunk *c, const unsigned char *d)
{
    size_t k = keyword_end(d, c->len);
    int is_xmp, is_aigc, rc;
    char where[64];
    const char *carrier = strcmp(c->type, "zTXt") == 0 ? "png-ztxt"
                        : strcmp(c->type, "iTXt") == 0 ? "png-itxt"
                                                       : "png-text";
    mark__buf val;

    if (k == 0)
        return MARK_OK;
    is_xmp = strcmp((const char *)d, XMP_KEYWORD) == 0;
    is_aigc = strcmp((const char *)d, "AIGC") == 0;
    if (!is_xmp && !is_aigc)
        return MARK_OK;
    snprintf(where, sizeof where, "PNG %s '%s'", c->type, (const char *)d);
    mark__buf_init(&val, m->ctx);
    rc = text_value(m->ctx, c, d, k, &val);
    if (rc == MARK_EFORMAT || rc == MARK_ELIMIT) {
        /* unreadable, but still a carrier: an AIGC chunk is dropped, and
         * an XMP packet must not be kept beside the new one, so marking
         * such a file fails instead */
        c->role = is_aigc ? ROLE_DROP : ROLE_XMP;
        rc = mark__problem_add(m->problems, MARK_SEV_WARNING, "png-text",
                               -1, "%s: %s", where, mark_ctx_errmsg(m->ctx));
    } else if (rc == MARK_OK && is_xmp) {
        c->role = ROLE_XMP;
        rc = mark__xmp_scan(m, (const char *)val.data, val.len, where,
                            &c->xmp_labels);
    } else if (rc == MARK_OK) {
        c->role = ROLE_DROP;
        rc = mark__media_add_label(m, carrier, where, (const char *)val.data,
                                   val.len);
        rc = rc < 0 ? rc : MARK_OK;
    }
    mark__buf_free(&val);
    return rc == 1 ? MARK_OK : rc;
}

static int png_parse(mark_media *m)
{
    const unsigned char *p = m->data;
    size_t pos = 8, cap = 0;
    png_priv *pp;
    int rc, seen_idat = 0, seen_end = 0;

    if (m->len < 8 || memcmp(p, signature, 8) != 0)
        return mark__err(m->ctx, MARK_EFORMAT, "not a PNG file");
    pp = mark__calloc(m->ctx, 1, sizeof *pp);
    if (pp == NULL)
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    m->priv = pp;
    while (!seen_end) {
        chunk *c;
        uint32_t len;

        if (m->len - pos < 12)
            return mark__err(m->ctx, MARK_EFORMAT, "PNG is truncated at "
                             "byte %zu (no IEND chunk)", pos);
        len = mark__be32(p + pos);
        if (len > 0x7fffffffu || len > m->len - pos - 12)
            return mark__err(m->ctx, MARK_EFORMAT, "PNG chunk at byte %zu "
                             "claims %u bytes, past the end of the file",
                             pos, len);
        if (!type_ok(p + pos + 4))
            return mark__err(m->ctx, MARK_EFORMAT, "PNG chunk at byte %zu "
                             "has an invalid type", pos);
        if (mark__crc32(0, p + pos + 4, (size_t)len + 4) !=
            mark__be32(p + pos + 8 + len))
            return mark__err(m->ctx, MARK_EFORMAT, "PNG chunk '%.4s' at "
                             "byte %zu: CRC mismatch", p + pos + 4, pos);
        if ((int64_t)pp->n >= m->ctx->limits[MARK_LIMIT_CHUNKS])
            return mark__err(m->ctx, MARK_ELIMIT, "PNG has more than %lld "
                             "chunks",
                             (long long)m->ctx->limits[MARK_LIMIT_CHUNKS]);
        if (pp->n == cap) {
            chunk *nc;

            cap = cap ? cap * 2 : 16;
            nc = mark__realloc(m->ctx, pp->chunks, cap * sizeof *nc);
            if (nc == NULL)
                return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
            pp->chunks = nc;
        }
        c = &pp->chunks[pp->n];
        memset(c, 0, sizeof *c);
        c->off = pos;
        c->len = len;
        memcpy(c->type, p + pos + 4, 4);
        if (pp->n == 0 && strcmp(c->type, "IHDR") != 0)
            return mark__err(m->ctx, MARK_EFORMAT, "PNG does not start with "
                             "an IHDR chunk");
        rc = MARK_OK;
        if (strcmp(c->type, "IHDR") == 0) {
            if (pp->n != 0)
                return mark__err(m->ctx, MARK_EFORMAT, "PNG has a second "
                                 "IHDR chunk");
            rc = parse_ihdr(m, p + pos + 8, len);
        } else if (strcmp(c->type, "IDAT") == 0) {
            if (!seen_idat)
                pp->first_idat = pp->n;
            seen_idat = 1;
        } else if (strcmp(c->type, "IEND") == 0) {
            seen_end = 1;
        } else if (strcmp(c->type, "tEXt") == 0 ||
                   strcmp(c->type, "zTXt") == 0 ||
                   strcmp(c->type, "iTXt") == 0) {
            rc = scan_text(m, c, p + pos + 8);
        } else if (strcmp(c->type, "eXIf") == 0) {
            rc = mark__exif_scan(m, p + pos + 8, len, "PNG eXIf",
                                 &c->uc_off, &c->uc_len);
            /* viewers differ on whether eXIf's Orientation turns a PNG
             * (ImageMagick does not): the label goes on it as stored */
            m->orient = 0;
            if (rc == MARK_OK && c->uc_len > 0)
                c->role = ROLE_EXIF_BLANK;
        }
        if (rc < 0)
            return rc;
        pp->n++;
        pos += (size_t)len + 12;
    }
    if (!seen_idat)
        return mark__err(m->ctx, MARK_EFORMAT, "PNG has no IDAT chunk");
    pp->end = pos;
    if (pos < m->len)
        return mark__problem_add(m->problems, MARK_SEV_WARNING,
                                 "trailing-data", -1, "%zu bytes after the "
                                 "PNG IEND chunk (kept as they are)",
                                 m->len - pos);
    return MARK_OK;
}

/* Append a chunk with its length and CRC. */
static int put_chunk(mark__buf *out, const char *type,
                     const unsigned char *a, size_t alen,
                     const unsigned char *b, size_t blen)
{
    uint32_t crc;
    int rc;

    if (alen + blen > 0x7fffffffu)
        return mark__err(out->ctx, MARK_ELIMIT, "PNG chunk too large");
    rc = mark__buf_put_be32(out, (uint32_t)(alen + blen));
    if (rc == MARK_OK)
        rc = mark__buf_put(out, type, 4);
    if (rc == MARK_OK)
        rc = mark__buf_put(out, a, alen);
    if (rc == MARK_OK)
        rc = mark__buf_put(out, b, blen);
    if (rc < 0)
        return rc;
    crc = mark__crc32(0, out->data + out->len - alen - blen - 4,
                      alen + blen + 4);
    return mark__buf_put_be32(out, crc);
}

static int put_xmp(mark__buf *out, const mark__buf *packet)
{
    static const unsigned char head[] = XMP_KEYWORD "\0\0\0\0\0";

    /* keyword, NUL, compression flag 0, method 0, empty language tag and
     * translated keyword (each NUL-terminated) */
    return put_chunk(out, "iTXt", head, sizeof head - 1, packet->data,
                     packet->len);
}

/* The packet of an XMP chunk, inflated when needed. */
static int xmp_of(mark_media *m, const chunk *c, mark__buf *packet)
{
    const unsigned char *d = m->data + c->off + 8;
    int rc = text_value(m->ctx, c, d, keyword_end(d, c->len), packet);

    if (rc == 1)
        return mark__err(m->ctx, MARK_EFORMAT, "PNG %s XMP chunk is too "
                         "short to hold a packet", c->type);
    return rc;
}

static int png_write(mark_media *m, mark__buf *out)
{
    png_priv *pp = m->priv;
    mark__buf old, packet;
    char *json = NULL;
    size_t i, main_xmp = SIZE_MAX;
    int rc, written = 0;

    mark__buf_init(&old, m->ctx);
    mark__buf_init(&packet, m->ctx);
    if (m->staged == NULL && m->visible_json == NULL && m->wm_json == NULL)
        return mark__buf_put(out, m->data, m->len);
    for (i = 0; i < pp->n && main_xmp == SIZE_MAX; i++)
        if (pp->chunks[i].role == ROLE_XMP)
            main_xmp = i;
    rc = MARK_OK;
    if (m->staged != NULL)
        rc = mark_label_to_json(m->staged, MARK_FORM_BARE, &json, NULL);
    if (rc == MARK_OK && main_xmp != SIZE_MAX)
        rc = xmp_of(m, &pp->chunks[main_xmp], &old);
    if (rc == MARK_OK)
        rc = mark__xmp_rewrite(m->ctx, (const char *)old.data, old.len,
                               json, m->visible_json, m->wm_json, 0,
                               &packet);
    if (rc == MARK_OK)
        rc = mark__buf_reserve(out, m->len + packet.len + 64);
    if (rc == MARK_OK)
        rc = mark__buf_put(out, signature, 8);
    for (i = 0; i < pp->n && rc == MARK_OK; i++) {
        const chunk *c = &pp->chunks[i];
        const unsigned char *d = m->data + c->off + 8;

        if (!written && (i == main_xmp || i == pp->first_idat)) {
            rc = put_xmp(out, &packet);
            written = 1;
            if (i == main_xmp || rc < 0)
                continue;
        }
        if (i == main_xmp || (c->role == ROLE_DROP && json != NULL))
            continue;
        if (json == NULL && c->role != ROLE_XMP) {
            /* no new label: the old carriers stay as they are */
            rc = mark__buf_put(out, m->data + c->off, (size_t)c->len + 12);
        } else if (c->role == ROLE_XMP && c->xmp_labels > 0 && json != NULL) {
            /* a second packet holding a label loses the label */
            mark__buf extra, stripped;

            mark__buf_init(&extra, m->ctx);
            mark__buf_init(&stripped, m->ctx);
            rc = xmp_of(m, c, &extra);
            if (rc == MARK_OK)
                rc = mark__xmp_rewrite(m->ctx, (const char *)extra.data,
                                       extra.len, NULL, NULL, NULL, 0,
                                       &stripped);
            if (rc == MARK_OK)
                rc = put_xmp(out, &stripped);
            mark__buf_free(&extra);
            mark__buf_free(&stripped);
        } else if (c->role == ROLE_EXIF_BLANK) {
            /* same length, value zeroed: the TIFF offsets stay valid and
             * readers see an undefined, empty comment */
            size_t at = out->len + 8 + c->uc_off;

            rc = put_chunk(out, c->type, d, c->len, NULL, 0);
            if (rc == MARK_OK) {
                uint32_t crc;

                memset(out->data + at, 0, c->uc_len);
                crc = mark__crc32(0, out->data + out->len - c->len - 8,
                                  (size_t)c->len + 4);
                out->data[out->len - 4] = (unsigned char)(crc >> 24);
                out->data[out->len - 3] = (unsigned char)(crc >> 16);
                out->data[out->len - 2] = (unsigned char)(crc >> 8);
                out->data[out->len - 1] = (unsigned char)crc;
            }
        } else {
            rc = mark__buf_put(out, m->data + c->off, (size_t)c->len + 12);
        }
    }
    if (rc == MARK_OK && pp->end < m->len)
        rc = mark__buf_put(out, m->data + pp->end, m->len - pp->end);
    mark_free(m->ctx, json);
    mark__buf_free(&old);
    mark__buf_free(&packet);
    return rc;
}

static int has_iccp(const mark_media *m)
{
    const png_priv *pp = m->priv;
    size_t i;

    for (i = 0; i < pp->n; i++)
        if (strcmp(pp->chunks[i].type, "iCCP") == 0)
            return 1;
    return 0;
}

/* The visible label: decode, draw, encode keeping every other chunk.  A
 * grey image stays grey when the label's colours are grey. */
static int png_draw(mark_media *m, mark__pixel_ops *ops,
                    mark__buf *out)
{
    mark__image img;
    mark_frame f;
    int rc;

    rc = mark__png_decode(m->ctx, m->data, m->len, &img);
    if (rc < 0)
        return rc;
    /* a grey image with an ICC profile keeps its grey profile valid only
     * as grey: then the label is drawn in its luminance */
    if (img.channels <= 2 && ops->visible != NULL &&
        !mark__visible_is_grey(ops->visible) && !has_iccp(m))
        rc = mark__image_promote_rgb(m->ctx, &img);
    if (rc == MARK_OK) {
        mark__image_frame(&img, &f);
        rc = mark__apply_pixel_ops(m->ctx, ops, &f);
    }
    if (rc == MARK_OK)
        rc = mark__png_encode(m->ctx, m->data, m->len, &img, out);
    mark__image_free(m->ctx, &img);
    return rc;
}

static int png_pixels(mark_media *m, uint32_t x, uint32_t y, uint32_t w,
                      uint32_t h, mark__image *img, uint32_t *rx,
                      uint32_t *ry)
{
    mark__image full;
    int rc = mark__png_decode(m->ctx, m->data, m->len, &full);

    if (rc < 0)
        return rc;
    rc = mark__image_crop8(m->ctx, &full, x, y, w, h, img);
    mark__image_free(m->ctx, &full);
    *rx = x;
    *ry = y;
    return rc;
}

static void png_uninit(mark_media *m)
{
    png_priv *pp = m->priv;

    if (pp == NULL)
        return;
    mark__free(m->ctx, pp->chunks);
    mark__free(m->ctx, pp);
    m->priv = NULL;
}

const mark__container mark__container_png = {
    .name = "png", .format = MARK_FORMAT_PNG, .type = MARK_MEDIA_IMAGE,
    .parse = png_parse, .write = png_write, .uninit = png_uninit,
    .draw = png_draw, .pixels = png_pixels,
};
