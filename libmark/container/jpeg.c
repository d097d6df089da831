/*
 * jpeg.c - JPEG at the segment level: reading the label carriers (APP1 XMP
 * and the EXIF UserComment) and writing the label into APP1 XMP while the
 * other segments and the entropy-coded data stay byte-identical.
 *
 * The marker walk checks every length against the file, follows the
 * entropy-coded data of each scan to the next marker (stuffed 0xFF00 and
 * restart markers skipped), and insists on SOF, SOS and EOI, so truncated
 * files are refused instead of silently re-labelled.
 */
#include <string.h>

#include "internal.h"

#define XMP_NS "http://ns.adobe.com/xap/1.0/"    /* + NUL in the segment */
#define XMP_HEAD_LEN 29
#define SEG_MAX_PAYLOAD 65533                    /* 65535 minus length */

enum role { ROLE_COPY = 0, ROLE_XMP, ROLE_EXIF_BLANK };

typedef struct segment {
    size_t off;          /* of the 0xFF of the marker */
    size_t len;          /* marker + length field + payload (+ scan data) */
    int marker;
    int role;
    int xmp_labels;
    size_t poff;         /* payload (after the length field), absolute */
    size_t plen;
    size_t uc_off;       /* ROLE_EXIF_BLANK: value, from segment start */
    size_t uc_len;
} segment;

typedef struct jpeg_priv {
    segment *segs;
    size_t n;
    size_t insert_at;    /* index where a new XMP segment goes */
    size_t end;          /* just past EOI */
} jpeg_priv;

static int is_sof(int mk)
{
    return mk >= 0xc0 && mk <= 0xcf && mk != 0xc4 && mk != 0xc8 &&
           mk != 0xcc;
}

size_t mark__jpeg_scan_end(const unsigned char *p, size_t len, size_t pos)
{
    while (pos + 1 < len) {
        const unsigned char *ff = memchr(p + pos, 0xff, len - pos - 1);
        unsigned char nx;

        if (ff == NULL)
            return 0;
        pos = (size_t)(ff - p);
        nx = p[pos + 1];
        if (nx == 0x00 || (nx >= 0xd0 && nx <= 0xd7))
            pos += 2;
        else if (nx == 0xff)
            pos += 1;
        else
            return pos;
    }
    return 0;
}

static int parse_sof(mark_media *m, const unsigned char *d, size_t n)
{
    uint32_t w, h;

    if (n < 6)
        return mark__err(m->ctx, MARK_EFORMAT, "JPEG SOF segment too short");
    h = mark__be16(d + 1);
    w = mark__be16(d + 3);
    if ((int64_t)w > m->ctx->limits[MARK_LIMIT_DIMENSION] ||
        (int64_t)h > m->ctx->limits[MARK_LIMIT_DIMENSION] ||
        (int64_t)w * (int64_t)h > m->ctx->limits[MARK_LIMIT_PIXELS])
        return mark__err(m->ctx, MARK_ELIMIT, "JPEG of %ux%u pixels exceeds "
                         "the image size limit", w, h);
    if (d[5] == 0 || d[5] > 4)
        return mark__err(m->ctx, MARK_EFORMAT, "JPEG SOF has %u components",
                         d[5]);
    m->info.bit_depth = d[0];
    m->info.height = h;
    m->info.width = w;
    m->info.channels = d[5];
    return MARK_OK;
}

static int add_seg(mark_media *m, jpeg_priv *jp, size_t *cap, segment **out)
{
    if ((int64_t)jp->n >= m->ctx->limits[MARK_LIMIT_CHUNKS])
        return mark__err(m->ctx, MARK_ELIMIT, "JPEG has more than %lld "
                         "segments",
                         (long long)m->ctx->limits[MARK_LIMIT_CHUNKS]);
    if (jp->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        segment *s = mark__realloc(m->ctx, jp->segs, nc * sizeof *s);

        if (s == NULL)
            return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
        jp->segs = s;
        *cap = nc;
    }
    *out = &jp->segs[jp->n++];
    memset(*out, 0, sizeof **out);
    return MARK_OK;
}

static int scan_app1(mark_media *m, segment *s, const unsigned char *d,
                     size_t n)
{
    int rc = MARK_OK;

    if (n >= XMP_HEAD_LEN && memcmp(d, XMP_NS, XMP_HEAD_LEN) == 0) {
        s->role = ROLE_XMP;
        rc = mark__xmp_scan(m, (const char *)d + XMP_HEAD_LEN,
                            n - XMP_HEAD_LEN, "JPEG APP1 XMP",
                            &s->xmp_labels);
    } else if (n >= 6 && memcmp(d, "Exif\0", 5) == 0) {
        size_t uo, ul;

        rc = mark__exif_scan(m, d + 6, n - 6, "JPEG APP1 Exif", &uo, &ul);
        if (rc == MARK_OK && ul > 0) {
            s->role = ROLE_EXIF_BLANK;
            s->uc_off = 6 + uo;         /* from the payload start */
            s->uc_len = ul;
        }
    }
    return rc;
}

static int jpeg_parse(mark_media *m)
{
    const unsigned char *p = m->data;
    size_t pos = 2, cap = 0, len = m->len;
    jpeg_priv *jp;
    int rc, seen_sof = 0, seen_sos = 0, leading = 1;

    if (len < 4 || p[0] != 0xff || p[1] != 0xd8)
        return mark__err(m->ctx, MARK_EFORMAT, "not a JPEG file");
    jp = mark__calloc(m->ctx, 1, sizeof *jp);
    if (jp == NULL)
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    m->priv = jp;
    jp->insert_at = 0;
    for (;;) {
        segment *s = NULL;
        size_t start = pos, seglen;
        int mk;

        if (pos >= len || p[pos] != 0xff)
            return mark__err(m->ctx, MARK_EFORMAT, pos >= len
                             ? "JPEG is truncated (no EOI marker)"
                             : "JPEG has no marker where one is due "
                               "(byte %zu)", pos);
        while (pos < len && p[pos] == 0xff)
            pos++;
        if (pos >= len)
            return mark__err(m->ctx, MARK_EFORMAT, "JPEG is truncated (no "
                             "EOI marker)");
        mk = p[pos++];
        rc = add_seg(m, jp, &cap, &s);
        if (rc < 0)
            return rc;
        s->off = start;
        s->marker = mk;
        if (mk == 0xd9) {
            s->len = pos - start;
            jp->end = pos;
            break;
        }
        if (mk == 0xd8 || mk == 0x00)
            return mark__err(m->ctx, MARK_EFORMAT, "JPEG has a stray marker "
                             "0x%02x at byte %zu", mk, start);
        if (mk == 0x01 || (mk >= 0xd0 && mk <= 0xd7)) {
            s->len = pos - start;
            continue;
        }
        if (len - pos < 2)
            return mark__err(m->ctx, MARK_EFORMAT, "JPEG is truncated in a "
                             "segment header");
        seglen = mark__be16(p + pos);
        if (seglen < 2 || seglen > len - pos)
            return mark__err(m->ctx, MARK_EFORMAT, "JPEG segment 0x%02x at "
                             "byte %zu claims %zu bytes, past the end of "
                             "the file", mk, start, seglen);
        s->len = pos - start + seglen;
        s->poff = pos + 2;
        s->plen = seglen - 2;
        rc = MARK_OK;
        if (is_sof(mk)) {
            rc = parse_sof(m, p + pos + 2, seglen - 2);
            seen_sof = 1;
        } else if (mk == 0xe1) {
            rc = scan_app1(m, s, p + pos + 2, seglen - 2);
            s->uc_off += s->poff - start;
        }
        if (rc < 0)
            return rc;
        /* a new XMP segment goes after the leading JFIF and Exif ones */
        if (leading && (mk == 0xe0 || (mk == 0xe1 && s->role != ROLE_XMP)))
            jp->insert_at = jp->n;
        else
            leading = 0;
        pos += seglen;
        if (mk == 0xda) {
            size_t e;

            if (!seen_sof)
                return mark__err(m->ctx, MARK_EFORMAT, "JPEG scan before "
                                 "any frame header");
            e = mark__jpeg_scan_end(p, len, pos);
            if (e == 0)
                return mark__err(m->ctx, MARK_EFORMAT, "JPEG is truncated "
                                 "in the image data (no EOI marker)");
            s->len = e - start;
            pos = e;
            seen_sos = 1;
        }
    }
    if (!seen_sof || !seen_sos)
        return mark__err(m->ctx, MARK_EFORMAT, "JPEG has no %s",
                         seen_sof ? "image data" : "frame header");
    if (jp->end < len)
        return mark__problem_add(m->problems, MARK_SEV_WARNING,
                                 "trailing-data",
                                 -1, "%zu bytes after the JPEG EOI marker "
                                 "(kept as they are)", len - jp->end);
    return MARK_OK;
}

static int put_xmp(mark__buf *out, const mark__buf *packet)
{
    int rc = mark__buf_put(out, "\xff\xe1", 2);

    if (rc == MARK_OK)
        rc = mark__buf_put_be16(out, (uint16_t)(2 + XMP_HEAD_LEN +
                                                packet->len));
    if (rc == MARK_OK)
        rc = mark__buf_put(out, XMP_NS, XMP_HEAD_LEN);
    if (rc == MARK_OK)
        rc = mark__buf_put(out, packet->data, packet->len);
    return rc;
}

/* Build the packet, with 512 bytes of padding (room for an editor to
 * change it in place) when it fits in one segment, else with less, else
 * fail. */
static int build_packet(mark_media *m, const segment *old, const char *json,
                        const char *visible, const char *wm,
                        mark__buf *packet)
{
    const char *op = NULL;
    size_t olen = 0, room = SEG_MAX_PAYLOAD - XMP_HEAD_LEN;
    int rc;

    if (old != NULL) {
        op = (const char *)m->data + old->poff + XMP_HEAD_LEN;
        olen = old->plen - XMP_HEAD_LEN;
    }
    rc = mark__xmp_rewrite(m->ctx, op, olen, json, visible, wm, 0, packet);
    if (rc < 0)
        return rc;
    if (packet->len > room)
        return mark__err(m->ctx, MARK_ELIMIT, "the merged XMP packet of "
                         "%zu bytes does not fit in one JPEG APP1 segment",
                         packet->len);
    if (json == NULL && visible == NULL && wm == NULL)
        return MARK_OK;
    room -= packet->len;
    packet->len = 0;
    return mark__xmp_rewrite(m->ctx, op, olen, json, visible, wm,
                             room < 512 ? room : 512, packet);
}

static int jpeg_write(mark_media *m, mark__buf *out)
{
    jpeg_priv *jp = m->priv;
    mark__buf packet;
    char *json = NULL;
    size_t i, main_xmp = SIZE_MAX;
    int rc;

    if (m->staged == NULL && m->visible_json == NULL && m->wm_json == NULL)
        return mark__buf_put(out, m->data, m->len);
    mark__buf_init(&packet, m->ctx);
    for (i = 0; i < jp->n && main_xmp == SIZE_MAX; i++)
        if (jp->segs[i].role == ROLE_XMP)
            main_xmp = i;
    rc = MARK_OK;
    if (m->staged != NULL)
        rc = mark_label_to_json(m->staged, MARK_FORM_BARE, &json, NULL);
    if (rc == MARK_OK)
        rc = build_packet(m, main_xmp != SIZE_MAX ? &jp->segs[main_xmp]
                                                  : NULL, json,
                          m->visible_json, m->wm_json, &packet);
    if (rc == MARK_OK)
        rc = mark__buf_reserve(out, m->len + packet.len + 64);
    if (rc == MARK_OK)
        rc = mark__buf_put(out, m->data, 2);              /* SOI */
    if (rc == MARK_OK && main_xmp == SIZE_MAX && jp->insert_at == 0)
        rc = put_xmp(out, &packet);
    for (i = 0; i < jp->n && rc == MARK_OK; i++) {
        const segment *s = &jp->segs[i];
        const unsigned char *d = m->data + s->off;

        if (i == main_xmp) {
            rc = put_xmp(out, &packet);
        } else if (s->role == ROLE_XMP && s->xmp_labels > 0 &&
                   json != NULL) {
            mark__buf stripped;

            mark__buf_init(&stripped, m->ctx);
            rc = build_packet(m, s, NULL, NULL, NULL, &stripped);
            if (rc == MARK_OK)
                rc = put_xmp(out, &stripped);
            mark__buf_free(&stripped);
        } else if (s->role == ROLE_EXIF_BLANK && json != NULL) {
            size_t at = out->len + s->uc_off;

            rc = mark__buf_put(out, d, s->len);
            if (rc == MARK_OK)
                memset(out->data + at, 0, s->uc_len);
        } else {
            rc = mark__buf_put(out, d, s->len);
        }
        if (rc == MARK_OK && main_xmp == SIZE_MAX && jp->insert_at != 0 &&
            i + 1 == jp->insert_at)
            rc = put_xmp(out, &packet);
    }
    if (rc == MARK_OK && jp->end < m->len)
        rc = mark__buf_put(out, m->data + jp->end, m->len - jp->end);
    mark_free(m->ctx, json);
    mark__buf_free(&packet);
    return rc;
}

/* The watermark straight into the Y coefficients: on 2 x 2 cells when
 * the watermark works at half resolution or coarser (no pixel plane at
 * all), else on the Y plane.  *whole is set for files without a
 * full-size Y (CMYK, subsampled Y), which take the pixel path. */
static int jpeg_watermark(mark_media *m, mark__jpeg_edit *e,
                          mark__pixel_ops *ops, uint32_t W, uint32_t H,
                          int *whole)
{
    float *a = NULL, *b = NULL;
    size_t n = (size_t)W * H;            /* floats in a and b */
    int rc;

    if (mark__cells_fit(W, H)) {
        n = (size_t)((W + 1) / 2) * ((H + 1) / 2);
        rc = mark__jpeg_edit_cells(e, &a, &b);
        if (rc == MARK_OK)
            rc = mark__cells_watermark(m->ctx, ops, a, b, W, H);
        if (rc == MARK_OK)
            rc = mark__jpeg_edit_add_cells(e, a);
    } else {
        rc = mark__jpeg_edit_luma(e, &a);
        if (rc == MARK_OK)
            rc = mark__luma_watermark(m->ctx, ops, a, W, H);
        if (rc == MARK_OK && !ops->wm_skipped)
            rc = mark__jpeg_edit_add_luma(e, a);
    }
    if (rc == MARK_EUNSUPPORTED) {
        *whole = 1;
        rc = MARK_OK;
    }
    mark__plane_free(m->ctx, a, sizeof(float) * n);
    mark__plane_free(m->ctx, b, sizeof(float) * n);
    return rc;
}

/* The visible label: only the blocks under the plate are decoded, drawn
 * on and re-quantised; the rest of the image keeps its coefficients.
 * The watermark, a change of luma only, goes straight into the Y
 * coefficients (YCbCr and greyscale files; others take the pixel path
 * for the whole image). */
static int jpeg_draw(mark_media *m, mark__pixel_ops *ops,
                     mark__buf *out)
{
    mark__jpeg_edit *e = NULL;
    mark__image img;
    mark_box plate = { 0, 0, 0, 0 };
    mark_frame f;
    uint32_t W, H, rx, ry;
    int comps, q, rc, whole = 0;

    memset(&img, 0, sizeof img);
    rc = mark__jpeg_edit_open(m->ctx, m->data, m->len, &e);
    if (rc < 0)
        return rc;
    mark__jpeg_edit_info(e, &W, &H, &comps, &q);
    if (ops->watermark)
        rc = jpeg_watermark(m, e, ops, W, H, &whole);
    if (rc == MARK_OK && whole) {
        plate.w = W;
        plate.h = H;
    } else if (rc == MARK_OK && ops->visible != NULL) {
        rc = mark__visible_plate_stored(ops->visible, W, H, ops->orient,
                                        &plate);
    }
    if (rc == MARK_OK && plate.w > 0 && plate.h > 0) {
        rc = mark__jpeg_edit_get(e, plate.x, plate.y, plate.w, plate.h,
                                 &img, &rx, &ry);
        if (rc == MARK_OK) {
            mark__image_frame(&img, &f);
            if (whole)
                rc = mark__apply_pixel_ops(m->ctx, ops, &f);
            else
                rc = mark__visible_draw_oriented(ops->visible, &f, W, H,
                                                 rx, ry, ops->orient);
        }
        if (rc == MARK_OK)
            rc = mark__jpeg_edit_put(e, &img, rx, ry);
    }
    if (rc == MARK_OK)
        rc = mark__jpeg_edit_finish(e, out);
    mark__image_free(m->ctx, &img);
    mark__jpeg_edit_free(e);
    return rc;
}

static int jpeg_pixels(mark_media *m, uint32_t x, uint32_t y, uint32_t w,
                       uint32_t h, mark__image *img, uint32_t *rx,
                       uint32_t *ry)
{
    mark__jpeg_edit *e = NULL;
    int rc = mark__jpeg_edit_open(m->ctx, m->data, m->len, &e);

    if (rc == MARK_OK)
        rc = mark__jpeg_edit_get(e, x, y, w, h, img, rx, ry);
    mark__jpeg_edit_free(e);
    return rc;
}

static void jpeg_uninit(mark_media *m)
{
    jpeg_priv *jp = m->priv;

    if (jp == NULL)
        return;
    mark__free(m->ctx, jp->segs);
    mark__free(m->ctx, jp);
    m->priv = NULL;
}

static int jpeg_luma(mark_media *m, float **out)
{
    mark__jpeg_edit *e = NULL;
    int rc = mark__jpeg_edit_open(m->ctx, m->data, m->len, &e);

    if (rc == MARK_OK)
        rc = mark__jpeg_edit_luma(e, out);
    mark__jpeg_edit_free(e);
    return rc;
}

const mark__container mark__container_jpeg = {
    .name = "jpeg", .format = MARK_FORMAT_JPEG, .type = MARK_MEDIA_IMAGE,
    .parse = jpeg_parse, .write = jpeg_write, .uninit = jpeg_uninit,
    .draw = jpeg_draw, .pixels = jpeg_pixels, .luma = jpeg_luma,
};
