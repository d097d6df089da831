/*
 * mp3.c - MPEG audio (MP3): the metadata label in an ID3v2 TXXX frame,
 * and the rhythm label in the samples.
 *
 * An ID3v2 tag opens the file: "ID3", major version (2, 3 or 4),
 * revision, flags (0x80 unsynchronisation, 0x40 extended header, 0x10
 * footer in 2.4), then the size of what follows as a syncsafe integer
 * (four bytes of 7 bits).  Its frames have a 4-character id, a size (2.3:
 * 32-bit big-endian; 2.4: syncsafe) and two flag bytes; 2.2 has 3-byte
 * ids and sizes.  Zero bytes after the frames are padding.  A TXXX frame
 * holds a text encoding byte (0 Latin-1, 1 UTF-16 with BOM, 2 UTF-16BE,
 * 3 UTF-8), a description ending in a NUL of that encoding, and the
 * value.  The MPEG frames follow the tag; a 128-byte ID3v1 "TAG", an
 * APEv2 tag or an ID3v2.4 tag with a footer may end the file (kept as
 * they are, labels there not read).
 *
 * Carrier read: every TXXX frame with the description "AIGC" (any case)
 * in the ID3v2 tags at the start of the file (2.3 and 2.4; 2.2's TXX
 * too), each one a label.  Written: exactly one, a TXXX in the first tag
 * (UTF-8 in 2.4; Latin-1, or UTF-16 when the label is not ASCII, in
 * 2.3), every other AIGC TXXX removed; the tag keeps its version and
 * every other frame byte for byte (a 2.3 tag unsynchronised as a whole
 * is written out plain), with 256 bytes of padding.  A file without a
 * tag gets a 2.4 tag holding the label.  The MPEG frames and any ID3v1
 * or APE tag at the end are copied as they are.
 *
 * Reading is our own walk over the tags, their frames and then every
 * MPEG frame header (each frame's length from its bitrate, rate and
 * padding must land on the next header, or on a trailing tag), bounded
 * by the input and the ctx limits: hostile input meets code we can fuzz.
 *
 * The rhythm label needs new samples: sfpass.c decodes them (mpg123 via
 * libsndfile) and encodes them with LAME at an average bitrate close to
 * the input's; the input's tags and trailer then go around the
 * new frames.  Layer I and II are read, and only their metadata written.
 */
#include <stdio.h>
#include <string.h>

#include <sndfile.h>

#include "internal.h"

#define CARRIER "id3v2-txxx"
#define PADDING 256
#define MAX_TAGS 8                      /* ID3v2 tags one after another */

typedef struct mp3_priv {
    size_t tags_end;                    /* offset after the ID3v2 tags */
    size_t audio_at;                    /* first MPEG frame */
    size_t audio_end;                   /* after the last frame */
    int version;                        /* 1 MPEG-1, 2 MPEG-2, 25 2.5 */
    int layer;                          /* 1, 2, 3 */
    int id3_major;                      /* of the first tag, 0 none */
    unsigned delay;                     /* LAME tag: encoder delay */
    uint64_t n_frames;
} mp3_priv;

static uint32_t syncsafe(const unsigned char *p)
{
    return (uint32_t)p[0] << 21 | (uint32_t)p[1] << 14 |
           (uint32_t)p[2] << 7 | p[3];
}

static int is_syncsafe(const unsigned char *p)
{
    return ((p[0] | p[1] | p[2] | p[3]) & 0x80) == 0;
}

static void put_syncsafe(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 21 & 0x7f);
    p[1] = (unsigned char)(v >> 14 & 0x7f);
    p[2] = (unsigned char)(v >> 7 & 0x7f);
    p[3] = (unsigned char)(v & 0x7f);
}

static int ieq(const unsigned char *a, const char *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = a[i];

        if (c >= 'a' && c <= 'z')
            c = (unsigned char)(c - 'a' + 'A');
        if (c != (unsigned char)b[i])
            return 0;
    }
    return 1;
}

/* Undo unsynchronisation (0xFF 0x00 -> 0xFF) into out. */
static int unsync(mark__buf *out, const unsigned char *d, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (mark__buf_put(out, d + i, 1) < 0)
            return MARK_ENOMEM;
        if (d[i] == 0xff && i + 1 < n && d[i + 1] == 0)
            i++;
    }
    return MARK_OK;
}

/* UTF-16 text (big-endian unless le) to UTF-8 in out, up to n bytes. */
static int utf16_to_utf8(mark__buf *out, const unsigned char *d, size_t n,
                         int le)
{
    size_t i;

    for (i = 0; i + 1 < n; i += 2) {
        uint32_t c = le ? (uint32_t)d[i] | (uint32_t)d[i + 1] << 8
                        : (uint32_t)d[i] << 8 | d[i + 1];
        unsigned char u[4];
        size_t k;

        if (c >= 0xd800 && c < 0xdc00 && i + 3 < n) {
            uint32_t c2 = le ? (uint32_t)d[i + 2] | (uint32_t)d[i + 3] << 8
                             : (uint32_t)d[i + 2] << 8 | d[i + 3];

            if (c2 >= 0xdc00 && c2 < 0xe000) {
                c = 0x10000 + ((c - 0xd800) << 10) + (c2 - 0xdc00);
                i += 2;
            }
        }
        if (c < 0x80) {
            u[0] = (unsigned char)c;
            k = 1;
        } else if (c < 0x800) {
            u[0] = (unsigned char)(0xc0 | c >> 6);
            u[1] = (unsigned char)(0x80 | (c & 0x3f));
            k = 2;
        } else if (c < 0x10000) {
            u[0] = (unsigned char)(0xe0 | c >> 12);
            u[1] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
            u[2] = (unsigned char)(0x80 | (c & 0x3f));
            k = 3;
        } else {
            u[0] = (unsigned char)(0xf0 | c >> 18);
            u[1] = (unsigned char)(0x80 | (c >> 12 & 0x3f));
            u[2] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
            u[3] = (unsigned char)(0x80 | (c & 0x3f));
            k = 4;
        }
        if (mark__buf_put(out, u, k) < 0)
            return MARK_ENOMEM;
    }
    return MARK_OK;
}

/* A TXXX body d: is its description AIGC?  *val / *val_len receive the
 * value as UTF-8 (in tmp when converted). */
static int txxx_aigc(const unsigned char *d, size_t n, mark__buf *tmp,
                     const unsigned char **val, size_t *val_len)
{
    size_t i;
    int wide, le = 0, enc;

    if (n < 1 || d[0] > 3)
        return 0;
    enc = d[0];
    wide = enc == 1 || enc == 2;
    d++;
    n--;
    if (!wide) {
        if (n < 5 || !ieq(d, "AIGC", 4) || d[4] != 0)
            return 0;
        if (val == NULL)
            return 1;
        tmp->len = 0;
        if (enc == 0) {
            /* Latin-1: ASCII as it is, the rest widened */
            for (i = 5; i < n; i++) {
                unsigned char u[2] = { (unsigned char)(0xc0 | d[i] >> 6),
                                       (unsigned char)(0x80 | (d[i] & 0x3f)) };

                if (d[i] < 0x80 ? mark__buf_put(tmp, d + i, 1) < 0
                                : mark__buf_put(tmp, u, 2) < 0)
                    return MARK_ENOMEM;
            }
            *val = tmp->data;
            *val_len = tmp->len;
        } else {
            *val = d + 5;
            *val_len = n - 5;
        }
        return 1;
    }
    /* UTF-16: a BOM (encoding 1) per string, then "AIGC" and a 2-byte
     * NUL */
    if (enc == 1) {
        if (n < 2)
            return 0;
        le = d[0] == 0xff && d[1] == 0xfe;
        if (!le && !(d[0] == 0xfe && d[1] == 0xff))
            return 0;
        d += 2;
        n -= 2;
    }
    if (n < 10)
        return 0;
    for (i = 0; i < 4; i++) {
        unsigned char c = le ? d[2 * i] : d[2 * i + 1];
        unsigned char z = le ? d[2 * i + 1] : d[2 * i];

        if (z != 0 || !ieq(&c, &"AIGC"[i], 1))
            return 0;
    }
    if (d[8] != 0 || d[9] != 0)
        return 0;
    if (val == NULL)
        return 1;
    d += 10;
    n -= 10;
    if (enc == 1 && n >= 2 && ((d[0] == 0xff && d[1] == 0xfe) ||
                               (d[0] == 0xfe && d[1] == 0xff))) {
        le = d[0] == 0xff;
        d += 2;
        n -= 2;
    }
    tmp->len = 0;
    if (utf16_to_utf8(tmp, d, n, le) < 0)
        return MARK_ENOMEM;
    *val = tmp->data;
    *val_len = tmp->len;
    return 1;
}

/* One ID3v2 tag as read: its place in the file and its frames. */
typedef struct tagview {
    int major;
    unsigned flags;
    size_t at, total;                   /* the tag's bytes in the file */
    mark__buf plain;                    /* frames of a 2.3 tag with its
                                           unsynchronisation undone */
    const unsigned char *fr;            /* the frames (and padding) */
    size_t fr_len;
} tagview;

/* Open the tag at d[at]; fails on anything that does not add up. */
static int tag_open(mark_ctx *ctx, const unsigned char *d, size_t len,
                    size_t at, tagview *t)
{
    const unsigned char *h = d + at;
    uint32_t size, ext;

    memset(t, 0, sizeof *t);
    mark__buf_init(&t->plain, ctx);
    t->at = at;
    if (len - at < 10)
        return mark__err(ctx, MARK_EFORMAT, "MP3 truncated: the ID3v2 tag "
                         "at byte %zu has %zu of its 10 header bytes", at,
                         len - at);
    t->major = h[3];
    t->flags = h[5];
    if (t->major < 2 || t->major > 4 || h[4] == 0xff)
        return mark__err(ctx, MARK_EUNSUPPORTED, "ID3v2.%d.%d tag at byte "
                         "%zu: only versions 2.2 to 2.4 are known", h[3],
                         h[4], at);
    if (!is_syncsafe(h + 6))
        return mark__err(ctx, MARK_EFORMAT, "ID3v2 tag at byte %zu: its "
                         "size is not a syncsafe integer", at);
    size = syncsafe(h + 6);
    t->total = 10 + (size_t)size +
               (t->major == 4 && (t->flags & 0x10) ? 10 : 0);
    if (t->total > len - at)
        return mark__err(ctx, MARK_EFORMAT, "MP3 truncated: the ID3v2 tag "
                         "at byte %zu claims %zu bytes, %zu are there", at,
                         t->total, len - at);
    if (size > (uint64_t)ctx->limits[MARK_LIMIT_METADATA_BYTES])
        return mark__err(ctx, MARK_ELIMIT, "ID3v2 tag of %lu bytes exceeds "
                         "the limit of %lld bytes", (unsigned long)size,
                         (long long)ctx->limits[MARK_LIMIT_METADATA_BYTES]);
    t->fr = h + 10;
    t->fr_len = size;
    if (t->major <= 3 && (t->flags & 0x80)) {
        if (unsync(&t->plain, t->fr, t->fr_len) < 0)
            return mark__err(ctx, MARK_ENOMEM, "out of memory");
        t->fr = t->plain.data;
        t->fr_len = t->plain.len;
    }
    if (t->major >= 3 && (t->flags & 0x40)) {
        if (t->fr_len < 4)
            return mark__err(ctx, MARK_EFORMAT, "ID3v2 tag at byte %zu: its "
                             "extended header is cut", at);
        ext = t->major == 3 ? mark__be32(t->fr) + 4 : syncsafe(t->fr);
        if (ext < 4 || ext > t->fr_len)
            return mark__err(ctx, MARK_EFORMAT, "ID3v2 tag at byte %zu: its "
                             "extended header claims %lu bytes, %zu are "
                             "there", at, (unsigned long)ext, t->fr_len);
        t->fr += ext;
        t->fr_len -= ext;
    }
    return MARK_OK;
}

/* The frame at t->fr[*pos]: id, body and its header and total size;
 * 0 at the padding or the end, 1 a frame, or a negative status. */
typedef struct frame {
    const unsigned char *id;            /* 4 (2.2: 3) characters */
    const unsigned char *hdr;           /* the whole frame */
    size_t total;
    const unsigned char *body;
    size_t body_len;
    unsigned fmt;                       /* format flags byte */
} frame;

static int tag_next(mark_ctx *ctx, const tagview *t, size_t *pos, frame *f)
{
    size_t hs = t->major == 2 ? 6 : 10, idn = t->major == 2 ? 3 : 4, i;
    const unsigned char *h;
    uint32_t size;

    /* t->fr is NULL for an empty unsynchronised tag: no pointer into it
     * before the length says there is a frame header */
    if (t->fr_len - *pos < hs)
        return 0;
    h = t->fr + *pos;
    if (h[0] == 0)
        return 0;
    for (i = 0; i < idn; i++)
        if (!((h[i] >= 'A' && h[i] <= 'Z') || (h[i] >= '0' && h[i] <= '9')))
            return mark__err(ctx, MARK_EFORMAT, "ID3v2 tag at byte %zu: no "
                             "frame id at offset %zu: a frame size is "
                             "wrong", t->at, *pos);
    if (t->major == 2)
        size = (uint32_t)h[3] << 16 | (uint32_t)h[4] << 8 | h[5];
    else if (t->major == 3)
        size = mark__be32(h + 4);
    else if (!is_syncsafe(h + 4))
        return mark__err(ctx, MARK_EFORMAT, "ID3v2.4 frame '%.4s': its size "
                         "is not a syncsafe integer", (const char *)h);
    else
        size = syncsafe(h + 4);
    if (size > t->fr_len - *pos - hs)
        return mark__err(ctx, MARK_EFORMAT, "ID3v2 frame '%.*s' claims %lu "
                         "bytes, %zu are left in the tag", (int)idn,
                         (const char *)h, (unsigned long)size,
                         t->fr_len - *pos - hs);
    f->id = h;
    f->hdr = h;
    f->total = hs + size;
    f->body = h + hs;
    f->body_len = size;
    f->fmt = t->major == 2 ? 0 : h[9];
    *pos += hs + size;
    return 1;
}

/* Is f a TXXX (2.2: TXX) frame holding AIGC?  With val, its value as
 * UTF-8 (tmp may hold it); a compressed or encrypted frame is not
 * looked into. */
static int frame_aigc(const tagview *t, const frame *f, mark__buf *tmp,
                      mark__buf *tmp2, const unsigned char **val,
                      size_t *val_len)
{
    const unsigned char *b = f->body;
    size_t n = f->body_len;

    if (t->major == 2 ? memcmp(f->id, "TXX", 3) != 0
                      : memcmp(f->id, "TXXX", 4) != 0)
        return 0;
    if (t->major == 3) {
        if (f->fmt & 0xc0)              /* compressed, encrypted */
            return 0;
        if (f->fmt & 0x20) {            /* grouping byte */
            if (n < 1)
                return 0;
            b++;
            n--;
        }
    } else if (t->major == 4) {
        if (f->fmt & 0x0c)
            return 0;
        if (f->fmt & 0x40) {
            if (n < 1)
                return 0;
            b++;
            n--;
        }
        if (f->fmt & 0x01) {            /* data length indicator */
            if (n < 4)
                return 0;
            b += 4;
            n -= 4;
        }
        if ((f->fmt & 0x02) || (t->flags & 0x80)) {
            tmp2->len = 0;
            if (unsync(tmp2, b, n) < 0)
                return MARK_ENOMEM;
            b = tmp2->data;
            n = tmp2->len;
        }
    }
    return txxx_aigc(b, n, tmp, val, val_len);
}

/* Record every AIGC TXXX of the tag. */
static int tag_scan(mark_media *m, const tagview *t)
{
    mark__buf tmp, tmp2;
    size_t pos = 0, n = 0;
    frame f;
    char where[64];
    int rc;

    mark__buf_init(&tmp, m->ctx);
    mark__buf_init(&tmp2, m->ctx);
    snprintf(where, sizeof where, "ID3v2.%d TXXX 'AIGC'", t->major);
    while ((rc = tag_next(m->ctx, t, &pos, &f)) == 1) {
        const unsigned char *v = NULL;
        size_t vl = 0;

        if ((int64_t)++n > m->ctx->limits[MARK_LIMIT_CHUNKS]) {
            rc = mark__err(m->ctx, MARK_ELIMIT, "more than %lld ID3v2 "
                           "frames", (long long)
                           m->ctx->limits[MARK_LIMIT_CHUNKS]);
            break;
        }
        rc = frame_aigc(t, &f, &tmp, &tmp2, &v, &vl);
        if (rc < 0)
            break;
        if (rc == 1) {
            while (vl > 0 && (v[vl - 1] == 0 || v[vl - 1] == ' ' ||
                              v[vl - 1] == '\n' || v[vl - 1] == '\r'))
                vl--;
            rc = mark__media_add_label(m, CARRIER, where, (const char *)v,
                                       vl);
            if (rc < 0)
                break;
        }
    }
    mark__buf_free(&tmp);
    mark__buf_free(&tmp2);
    if (rc == MARK_ENOMEM)
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    return rc < 0 ? rc : MARK_OK;
}

/* MPEG audio frame headers. */
static const uint16_t kbps[2][3][15] = {
    { { 0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416,
        448 },
      { 0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384 },
      { 0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320 } },
    { { 0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256 },
      { 0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160 },
      { 0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160 } },
};
static const uint32_t rates[3][3] = {
    { 44100, 48000, 32000 }, { 22050, 24000, 16000 }, { 11025, 12000, 8000 }
};

typedef struct mpeg {
    int version;                        /* 1, 2, 25 */
    int layer;
    uint32_t rate;
    int channels;
    unsigned kbps;                      /* 0: free format */
    size_t len;                         /* bytes of the frame */
    unsigned spf;                       /* samples a frame */
} mpeg;

/* 1: a valid header at p (4 bytes); 0 not. */
static int mpeg_header(const unsigned char *p, mpeg *h)
{
    int v = (p[1] >> 3) & 3, l = (p[1] >> 1) & 3, bi = p[2] >> 4;
    int si = (p[2] >> 2) & 3, pad = (p[2] >> 1) & 1;
    int row = v == 3 ? 0 : 1, vi = v == 3 ? 0 : v == 2 ? 1 : 2;

    if (p[0] != 0xff || (p[1] & 0xe0) != 0xe0 || v == 1 || l == 0 ||
        bi == 15 || si == 3)
        return 0;
    h->version = v == 3 ? 1 : v == 2 ? 2 : 25;
    h->layer = 4 - l;
    h->rate = rates[vi][si];
    h->channels = (p[3] >> 6) == 3 ? 1 : 2;
    h->kbps = kbps[row][h->layer - 1][bi];
    if (h->layer == 1) {
        h->spf = 384;
        h->len = ((size_t)12 * h->kbps * 1000 / h->rate + (size_t)pad) * 4;
    } else {
        h->spf = h->layer == 3 && h->version != 1 ? 576 : 1152;
        h->len = (size_t)h->spf / 8 * h->kbps * 1000 / h->rate +
                 (size_t)pad;
    }
    return 1;
}

/* The LAME/Xing tag of the first frame: whether there is one, and the
 * encoder delay and padding it gives. */
static int xing(const unsigned char *p, const mpeg *h, unsigned *delay,
                unsigned *pad)
{
    size_t side = h->version == 1 ? (h->channels == 1 ? 17 : 32)
                                  : (h->channels == 1 ? 9 : 17);
    const unsigned char *x = p + 4 + side;

    *delay = *pad = 0;
    if (h->layer != 3 || h->len < 4 + side + 8 ||
        (memcmp(x, "Xing", 4) != 0 && memcmp(x, "Info", 4) != 0))
        return 0;
    if (h->len >= 4 + side + 0x8d + 3 && x[0x78] >= 'A' && x[0x78] <= 'Z') {
        const unsigned char *q = x + 0x8d;

        *delay = (unsigned)q[0] << 4 | q[1] >> 4;
        *pad = (unsigned)(q[1] & 15) << 8 | q[2];
    }
    return 1;
}

/* Where the trailing tags (ID3v1, APEv2, an appended ID3v2.4) begin;
 * they are copied, not read. */
static size_t trailer_at(const unsigned char *d, size_t len, size_t from)
{
    size_t end = len, was;
    int i;

    /* a few, in any order (taggers append an ID3v1 after another's) */
    for (i = 0; i < 4; i++) {
        was = end;
        if (end - from >= 128 && memcmp(d + end - 128, "TAG", 3) == 0)
            end -= 128;
        if (end - from >= 32 && memcmp(d + end - 32, "APETAGEX", 8) == 0) {
            uint32_t n = (uint32_t)d[end - 20] | (uint32_t)d[end - 19] << 8 |
                         (uint32_t)d[end - 18] << 16 |
                         (uint32_t)d[end - 17] << 24;
            uint64_t all = (uint64_t)n + (d[end - 9] & 0x80 ? 32 : 0);

            if (all >= 32 && all <= end - from)
                end -= (size_t)all;
        }
        /* an ID3v2.4 tag appended, found by its footer "3DI" */
        if (end - from >= 20 && memcmp(d + end - 10, "3DI", 3) == 0 &&
            is_syncsafe(d + end - 4) &&
            (uint64_t)syncsafe(d + end - 4) + 20 <= end - from)
            end -= (size_t)syncsafe(d + end - 4) + 20;
        if (end == was)
            break;
    }
    return end;
}

static int mp3_parse(mark_media *m)
{
    const unsigned char *d = m->data;
    mp3_priv *mp = mark__calloc(m->ctx, 1, sizeof *mp);
    size_t p = 0, end;
    unsigned delay = 0, pad = 0;
    uint64_t frames = 0;
    mpeg first, h;
    int n_tags = 0, rc;

    if (mp == NULL)
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    m->priv = mp;
    while (m->len - p >= 3 && memcmp(d + p, "ID3", 3) == 0) {
        tagview t;

        if (++n_tags > MAX_TAGS)
            return mark__err(m->ctx, MARK_ELIMIT, "more than %d ID3v2 tags "
                             "in a row", MAX_TAGS);
        rc = tag_open(m->ctx, d, m->len, p, &t);
        if (rc == MARK_OK) {
            if (mp->id3_major == 0)
                mp->id3_major = t.major;
            rc = tag_scan(m, &t);
        }
        mark__buf_free(&t.plain);
        if (rc < 0)
            return rc;
        p += t.total;
    }
    mp->tags_end = p;
    while (p < m->len && d[p] == 0)     /* padding past the tag's size */
        p++;
    mp->audio_at = p;
    end = trailer_at(d, m->len, p);
    if (end - p < 4 || !mpeg_header(d + p, &first))
        return mark__err(m->ctx, MARK_EFORMAT, "no MPEG audio frame at byte "
                         "%zu%s", p, n_tags ? ", after the ID3v2 tag" : "");
    if (first.kbps == 0)
        return mark__err(m->ctx, MARK_EUNSUPPORTED, "free-format MPEG "
                         "audio");
    mp->version = first.version;
    mp->layer = first.layer;
    if (first.len <= end - p && xing(d + p, &first, &delay, &pad)) {
        mp->delay = delay;
        p += first.len;
        mp->audio_at = p;
    }
    while (p < end) {
        if (end - p < 4 || !mpeg_header(d + p, &h) || h.kbps == 0 ||
            h.version != first.version || h.layer != first.layer ||
            h.rate != first.rate)
            return mark__err(m->ctx, MARK_EFORMAT, "no MPEG frame at byte "
                             "%zu (after frame %llu): the data is corrupt "
                             "or a frame is cut", p,
                             (unsigned long long)frames);
        if (h.len > end - p)
            return mark__err(m->ctx, MARK_EFORMAT, "MP3 truncated: frame "
                             "%llu at byte %zu claims %zu bytes, %zu are "
                             "there", (unsigned long long)frames, p, h.len,
                             end - p);
        p += h.len;
        frames++;
    }
    mp->audio_end = end;
    mp->n_frames = frames;
    m->info.sample_rate = first.rate;
    m->info.channels = first.channels;
    m->info.codec = first.layer == 3 ? "mp3" : first.layer == 2 ? "mp2"
                                                                : "mp1";
    m->info.frames = (int64_t)(frames * first.spf);
    if (m->info.frames > (int64_t)delay + pad)
        m->info.frames -= (int64_t)delay + pad;
    return MARK_OK;
}

/* UTF-8 text to UTF-16LE in out (the label is valid UTF-8: jansson's). */
static int utf8_to_utf16le(mark__buf *out, const char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        uint32_t u;
        int k;
        unsigned char w[4];

        if (c < 0x80) {
            u = c;
            k = 0;
        } else if (c < 0xe0) {
            u = c & 0x1f;
            k = 1;
        } else if (c < 0xf0) {
            u = c & 0x0f;
            k = 2;
        } else {
            u = c & 0x07;
            k = 3;
        }
        for (i++; k > 0 && i < n; k--, i++)
            u = u << 6 | ((unsigned char)s[i] & 0x3f);
        if (u >= 0x10000) {
            uint32_t hi = 0xd800 + ((u - 0x10000) >> 10);
            uint32_t lo = 0xdc00 + ((u - 0x10000) & 0x3ff);

            w[0] = (unsigned char)hi;
            w[1] = (unsigned char)(hi >> 8);
            w[2] = (unsigned char)lo;
            w[3] = (unsigned char)(lo >> 8);
            if (mark__buf_put(out, w, 4) < 0)
                return MARK_ENOMEM;
        } else {
            w[0] = (unsigned char)u;
            w[1] = (unsigned char)(u >> 8);
            if (mark__buf_put(out, w, 2) < 0)
                return MARK_ENOMEM;
        }
    }
    return MARK_OK;
}

/* The TXXX frame "AIGC" = json for a tag of major version major. */
static int put_txxx(mark__buf *out, int major, const char *json,
                    size_t json_len)
{
    size_t at = out->len, i, size;
    int ascii = 1, rc;

    for (i = 0; i < json_len; i++)
        if ((unsigned char)json[i] >= 0x80)
            ascii = 0;
    rc = mark__buf_put(out, "TXXX\0\0\0\0\0\0", 10);
    if (rc == MARK_OK && (major == 4 || ascii)) {
        rc = mark__buf_put(out, major == 4 ? "\x03" "AIGC" : "\0AIGC", 5);
        if (rc == MARK_OK)
            rc = mark__buf_put(out, "", 1);
        if (rc == MARK_OK)
            rc = mark__buf_put(out, json, json_len);
    } else if (rc == MARK_OK) {
        /* 2.3 knows no UTF-8: UTF-16 with a BOM */
        rc = mark__buf_put(out, "\x01\xff\xfe" "A\0I\0G\0C\0\0\0\xff\xfe",
                           15);
        if (rc == MARK_OK)
            rc = utf8_to_utf16le(out, json, json_len);
    }
    if (rc < 0)
        return rc;
    size = out->len - at - 10;
    if (major == 4) {
        put_syncsafe(out->data + at + 4, (uint32_t)size);
    } else {
        out->data[at + 4] = (unsigned char)(size >> 24);
        out->data[at + 5] = (unsigned char)(size >> 16);
        out->data[at + 6] = (unsigned char)(size >> 8);
        out->data[at + 7] = (unsigned char)size;
    }
    return MARK_OK;
}

/* The tag t again: its frames but the AIGC TXXX ones, then (json not
 * NULL) one TXXX AIGC, then padding. */
static int tag_rewrite(mark_ctx *ctx, const tagview *t, const char *json,
                       size_t json_len, mark__buf *out)
{
    mark__buf tmp, tmp2;
    size_t pos = 0, at = out->len, size;
    unsigned char h[10] = { 'I', 'D', '3', 4, 0, 0, 0, 0, 0, 0 };
    frame f;
    int rc;

    if (t != NULL && t->major == 2)
        return mark__err(ctx, MARK_EUNSUPPORTED, "ID3v2.2 tag: the label "
                         "cannot be written in this old version");
    if (t != NULL) {
        h[3] = (unsigned char)t->major;
        h[4] = 0;
        /* no extended header, no footer; a 2.3 tag goes out plain */
        h[5] = (unsigned char)(t->major == 4 ? t->flags & 0x80 : 0);
    }
    mark__buf_init(&tmp, ctx);
    mark__buf_init(&tmp2, ctx);
    rc = mark__buf_put(out, h, 10);
    while (rc == MARK_OK && t != NULL &&
           (rc = tag_next(ctx, t, &pos, &f)) == 1) {
        rc = frame_aigc(t, &f, &tmp, &tmp2, NULL, NULL);
        if (rc == 0)
            rc = mark__buf_put(out, f.hdr, f.total);
        else if (rc == 1)
            rc = MARK_OK;
    }
    mark__buf_free(&tmp);
    mark__buf_free(&tmp2);
    if (rc == MARK_OK && json != NULL)
        rc = put_txxx(out, t != NULL ? t->major : 4, json, json_len);
    if (rc == MARK_OK)
        rc = mark__buf_reserve(out, PADDING);
    if (rc == MARK_ENOMEM)
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    if (rc < 0)
        return rc;
    memset(out->data + out->len, 0, PADDING);
    out->len += PADDING;
    size = out->len - at - 10;
    if (size >= (size_t)1 << 28)
        return mark__err(ctx, MARK_ELIMIT, "ID3v2 tag too big");
    put_syncsafe(out->data + at + 6, (uint32_t)size);
    return MARK_OK;
}

static int mp3_write(mark_media *m, mark__buf *out)
{
    mp3_priv *mp = m->priv;
    char *json = NULL;
    size_t json_len = 0, p = 0;
    int rc, first = 1;

    if (m->staged == NULL)
        return mark__buf_put(out, m->data, m->len);
    rc = mark_label_to_json(m->staged, MARK_FORM_BARE, &json, &json_len);
    if (rc < 0)
        return rc;
    if (mp->tags_end == 0)
        rc = tag_rewrite(m->ctx, NULL, json, json_len, out);
    while (rc == MARK_OK && p < mp->tags_end) {
        tagview t;

        rc = tag_open(m->ctx, m->data, m->len, p, &t);
        if (rc == MARK_OK)
            rc = tag_rewrite(m->ctx, &t, first ? json : NULL, json_len,
                             out);
        mark__buf_free(&t.plain);
        p += t.total;
        first = 0;
    }
    if (rc == MARK_OK)
        rc = mark__buf_put(out, m->data + mp->tags_end,
                           m->len - mp->tags_end);
    mark_free(m->ctx, json);
    return rc;
}

static int mp3_draw(mark_media *m, mark__pixel_ops *ops, mark__buf *out)
{
    mp3_priv *mp = m->priv;
    mark__sfenc e;
    mark__buf enc;
    double sec = m->info.sample_rate && m->info.frames > 0
                     ? (double)m->info.frames / m->info.sample_rate : 0;
    double top = mp->version == 1 ? 320 : 160, low = mp->version == 1
                                                        ? 32 : 8;
    size_t a = 0, z;
    int rc;

    if (mp->layer != 3)
        return mark__err(m->ctx, MARK_EUNSUPPORTED, "MPEG layer %d: only "
                         "the metadata label can be written", mp->layer);
    e.what = "MP3";
    e.format = SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III;
    /* an average bitrate: LAME then always has room for its gapless tag
     * (a constant low one leaves none in MPEG-2's small frames) */
    e.bitrate_mode = SF_BITRATE_MODE_AVERAGE;
    e.count = 1;
    /* mpg123 trims MPEG-1 to the LAME tag's length, not MPEG-2: what
     * it gives more is the delay (its own 529 too) and the padding */
    e.frames = mp->delay > 0 ? m->info.frames : 0;
    e.skip = (int64_t)mp->delay + 529;
    e.level = -1;
    if (sec > 0.5) {
        double k = (double)(mp->audio_end - mp->audio_at) * 8 / sec / 1000;

        e.level = (top - k) / (top - low);
        e.level = e.level < 0 ? 0 : e.level > 1 ? 1 : e.level;
    }
    mark__buf_init(&enc, m->ctx);
    rc = mark__sf_draw(m, &e, ops, &enc);
    if (rc == MARK_OK) {
        /* the encoder's frames, without any tag it wrote around them */
        while (enc.len - a >= 10 && memcmp(enc.data + a, "ID3", 3) == 0 &&
               is_syncsafe(enc.data + a + 6) &&
               syncsafe(enc.data + a + 6) + (size_t)10 <= enc.len - a)
            a += 10 + (size_t)syncsafe(enc.data + a + 6);
        z = trailer_at(enc.data, enc.len, a);
        rc = mark__buf_put(out, m->data, mp->tags_end);
        if (rc == MARK_OK)
            rc = mark__buf_put(out, enc.data + a, z - a);
        if (rc == MARK_OK)
            rc = mark__buf_put(out, m->data + mp->audio_end,
                               m->len - mp->audio_end);
    }
    mark__buf_free(&enc);
    return rc;
}

static int mp3_pcm(const mark_media *m,
                   int (*take)(void *u, const float *x, size_t frames),
                   void *u)
{
    if (((mp3_priv *)m->priv)->layer != 3)
        return mark__err(m->ctx, MARK_EUNSUPPORTED, "MPEG layer %d: samples "
                         "not decoded", ((mp3_priv *)m->priv)->layer);
    return mark__sf_pcm(m, "MP3", take, u);
}

static int mp3_explicit(const mark_media *m, mark__explicit *res,
                        double edge)
{
    if (((mp3_priv *)m->priv)->layer != 3) {
        memset(res, 0, sizeof *res);
        snprintf(res->note, sizeof res->note, "MPEG layer %d: samples not "
                 "decoded", ((mp3_priv *)m->priv)->layer);
        return MARK_OK;
    }
    return mark__sf_explicit(m, "MP3", res, edge);
}

static void mp3_uninit(mark_media *m)
{
    mark__free(m->ctx, m->priv);
    m->priv = NULL;
}

const mark__container mark__container_mp3 = {
    .name = "mp3", .format = MARK_FORMAT_MP3, .type = MARK_MEDIA_AUDIO,
    .parse = mp3_parse, .write = mp3_write, .uninit = mp3_uninit,
    .draw = mp3_draw, .explicit_check = mp3_explicit, .pcm = mp3_pcm,
};
