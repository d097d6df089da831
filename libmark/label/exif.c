/*
 * exif.c - the EXIF UserComment carrier: a TIFF structure walked with
 * bounds checks on every offset, since EXIF blocks are attacker-supplied.
 *
 * Only IFD0 and the Exif IFD it points to are visited (UserComment lives
 * in the Exif IFD; a few writers put it in IFD0), so there is no pointer
 * chain to loop on.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define TAG_EXIF_IFD 0x8769
#define TAG_USER_COMMENT 0x9286
#define TAG_ORIENTATION 0x0112
#define TYPE_SHORT 3
#define TYPE_UNDEFINED 7
#define TYPE_ASCII 2

typedef struct tiff {
    const unsigned char *p;
    size_t len;
    int le;                               /* "II": little-endian */
} tiff;

static uint32_t rd32(const tiff *t, size_t off)
{
    const unsigned char *q = t->p + off;

    if (t->le)
        return (uint32_t)q[0] | ((uint32_t)q[1] << 8) |
               ((uint32_t)q[2] << 16) | ((uint32_t)q[3] << 24);
    return mark__be32(q);
}

static uint16_t rd16(const tiff *t, size_t off)
{
    const unsigned char *q = t->p + off;

    return t->le ? (uint16_t)(q[0] | (q[1] << 8)) : mark__be16(q);
}

/* Find tag in the IFD at ifd; on success voff and vlen locate its value. */
static int find_tag(const tiff *t, uint32_t ifd, uint16_t tag,
                    uint16_t *type, size_t *voff, size_t *vlen)
{
    static const size_t tsize[13] = { 0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8 };
    uint16_t n, i, ty;
    size_t e;
    uint32_t count;

    if ((size_t)ifd + 2 > t->len)
        return 0;
    n = rd16(t, ifd);
    if ((size_t)ifd + 2 + (size_t)n * 12 > t->len)
        return 0;
    for (i = 0; i < n; i++) {
        e = ifd + 2 + (size_t)i * 12;
        if (rd16(t, e) != tag)
            continue;
        ty = rd16(t, e + 2);
        count = rd32(t, e + 4);
        if (ty == 0 || ty > 12)
            return 0;
        if ((uint64_t)count * tsize[ty] > t->len)
            return 0;
        *vlen = (size_t)count * tsize[ty];
        *voff = *vlen <= 4 ? e + 8 : rd32(t, e + 8);
        if (*voff > t->len || *vlen > t->len - *voff)
            return 0;
        *type = ty;
        return 1;
    }
    return 0;
}

/* UserComment text as UTF-8 in out (NUL-terminated). */
static int decode_comment(mark_ctx *ctx, const tiff *t, size_t off,
                          size_t len, mark__buf *out)
{
    const unsigned char *v = t->p + off;
    size_t i;
    int rc = MARK_OK;

    if (len >= 8 && memcmp(v, "UNICODE\0", 8) == 0) {
        for (i = 8; i + 1 < len && rc == MARK_OK; i += 2) {
            unsigned u = t->le ? (unsigned)(v[i] | (v[i + 1] << 8))
                               : (unsigned)((v[i] << 8) | v[i + 1]);
            unsigned char s[3];

            if (u == 0)
                break;
            /* labels are ASCII; other BMP characters are kept as UTF-8
             * so that a wrong value is reported faithfully */
            if (u < 0x80) {
                s[0] = (unsigned char)u;
                rc = mark__buf_put(out, s, 1);
            } else if (u < 0x800) {
                s[0] = (unsigned char)(0xc0 | (u >> 6));
                s[1] = (unsigned char)(0x80 | (u & 0x3f));
                rc = mark__buf_put(out, s, 2);
            } else {
                s[0] = (unsigned char)(0xe0 | (u >> 12));
                s[1] = (unsigned char)(0x80 | ((u >> 6) & 0x3f));
                s[2] = (unsigned char)(0x80 | (u & 0x3f));
                rc = mark__buf_put(out, s, 3);
            }
        }
    } else {
        size_t start = 0;

        if (len >= 8 && (memcmp(v, "ASCII\0\0\0", 8) == 0 ||
                         memcmp(v, "\0\0\0\0\0\0\0\0", 8) == 0 ||
                         memcmp(v, "JIS\0\0\0\0\0", 8) == 0))
            start = 8;
        for (i = start; i < len && v[i] != '\0'; i++)
            ;
        rc = mark__buf_put(out, v + start, i - start);
    }
    if (rc == MARK_OK)
        rc = mark__buf_put(out, "", 1);
    (void)ctx;
    return rc;
}

/* A UserComment holds a label when it is a JSON object naming AIGC or one
 * of the Annex E keys; ordinary comments are left alone. */
static int comment_is_label(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    return *s == '{' && (strstr(s, "\"AIGC\"") != NULL ||
                         strstr(s, "\"Label\"") != NULL ||
                         strstr(s, "\"ContentProducer\"") != NULL);
}

int mark__exif_scan(mark_media *m, const unsigned char *p, size_t len,
                    const char *location, size_t *uc_off, size_t *uc_len)
{
    tiff t = { p, len, 0 };
    uint32_t ifd0, exif_ifd;
    uint16_t type;
    size_t voff = 0, vlen = 0, o, l;
    int found = 0, rc = MARK_OK;
    char where[300];
    mark__buf text;

    if (uc_off != NULL)
        *uc_off = 0;
    if (uc_len != NULL)
        *uc_len = 0;
    if (len < 8 || !((memcmp(p, "II*\0", 4) == 0) ||
                     (memcmp(p, "MM\0*", 4) == 0)))
        return mark__problem_add(m->problems, MARK_SEV_WARNING, "exif", -1,
                                 "%s: not a TIFF structure; EXIF not read",
                                 location);
    t.le = p[0] == 'I';
    ifd0 = rd32(&t, 4);
    /* Orientation (SHORT, in IFD0): how viewers turn the picture */
    if (find_tag(&t, ifd0, TAG_ORIENTATION, &type, &o, &l) &&
        type == TYPE_SHORT && l == 2 && rd16(&t, o) >= 1 &&
        rd16(&t, o) <= 8)
        m->orient = rd16(&t, o);
    if (find_tag(&t, ifd0, TAG_EXIF_IFD, &type, &o, &l) && l == 4) {
        exif_ifd = rd32(&t, o);
        if (exif_ifd != ifd0)
            found = find_tag(&t, exif_ifd, TAG_USER_COMMENT, &type, &voff,
                             &vlen);
    }
    if (!found)
        found = find_tag(&t, ifd0, TAG_USER_COMMENT, &type, &voff, &vlen);
    if (!found || (type != TYPE_UNDEFINED && type != TYPE_ASCII))
        return MARK_OK;
    mark__buf_init(&text, m->ctx);
    rc = decode_comment(m->ctx, &t, voff, vlen, &text);
    if (rc == MARK_OK && comment_is_label((const char *)text.data)) {
        snprintf(where, sizeof where, "%s, UserComment", location);
        rc = mark__media_add_label(m, "exif-usercomment", where,
                                   (const char *)text.data, text.len - 1);
        if (rc >= 0) {
            if (type != TYPE_UNDEFINED)
                rc = mark__problem_add(m->problems, MARK_SEV_WARNING,
                                       "exif", rc, "UserComment has type "
                                       "ASCII; EXIF defines it as "
                                       "UNDEFINED with a character code");
            else if (vlen < 8 || memcmp(p + voff, "ASCII\0\0\0", 8) != 0)
                rc = mark__problem_add(m->problems, MARK_SEV_WARNING,
                                       "exif", rc, "UserComment lacks the "
                                       "\"ASCII\\0\\0\\0\" character code "
                                       "before the JSON");
        }
        if (rc >= 0) {
            rc = MARK_OK;
            if (uc_off != NULL)
                *uc_off = voff;
            if (uc_len != NULL)
                *uc_len = vlen;
        }
    }
    mark__buf_free(&text);
    return rc;
}
