/*
 * video_mp4.c - the MP4/MOV boxes, walked by our own code before
 * libavformat sees the file: every box that can hold a label (moov/udta/
 * meta with its mdta keys, a bare moov/meta, an iTunes freeform item, an
 * XMP uuid box or udta/XMP_), named carrier by carrier so that two
 * labels count as two; the QuickTime brand and whether moov comes before
 * mdat (for the writer); and every sample table's entry count checked
 * against its box and the file, as libavformat allocates by the count.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "video.h"

#define BOX_DEPTH 8
#define BOX_COUNT 1000000                /* boxes walked at most (a day
                                            cut in 1 s fragments: 700 k) */
#define META_MAX (4u << 20)              /* a meta/XMP box read whole */

static const unsigned char xmp_uuid[16] = {
    0xbe, 0x7a, 0xcf, 0xcb, 0x97, 0xa9, 0x42, 0xe8,
    0x9c, 0x71, 0x99, 0x94, 0x91, 0xe3, 0xaf, 0xac
};

/* ------------------------------------------------------------------ */
/* The MP4 boxes that can hold a label. */

static int read_at(mark_media *m, int64_t pos, void *buf, size_t n)
{
    if (mark__src_seek(m->src, pos) < 0 ||
        mark__src_read_full(m->src, buf, n) != (int64_t)n)
        return mark__err(m->ctx, MARK_EFORMAT, "MP4 is truncated at byte "
                         "%lld", (long long)pos);
    return MARK_OK;
}

/* A data box's value (type 1: UTF-8), as a label. */
static int data_value(mark_media *m, const unsigned char *d, size_t n,
                      const char *carrier, const char *where)
{
    uint32_t len;

    if (n < 16 || memcmp(d + 4, "data", 4) != 0)
        return mark__problem_add(m->problems, MARK_SEV_WARNING,
                                 "malformed", -1, "%s without a data box",
                                 where);
    len = mark__be32(d);
    if (len < 16 || len > n)
        return mark__problem_add(m->problems, MARK_SEV_WARNING,
                                 "malformed", -1, "%s: bad data box",
                                 where);
    return mark__media_add_label(m, carrier, where, (const char *)d + 16,
                                 len - 16);
}

/* A meta box's payload (after its header and any version/flags). */
static int scan_meta(mark_media *m, const unsigned char *p, size_t n,
                     const char *carrier)
{
    char keys[64][8];                    /* which key indexes are AIGC */
    size_t pos = 0, nkeys = 0;
    int mdta = 0, rc = MARK_OK;

    memset(keys, 0, sizeof keys);
    while (pos + 8 <= n && rc == MARK_OK) {
        uint32_t sz = mark__be32(p + pos);
        const unsigned char *b = p + pos;

        if (sz < 8 || sz > n - pos)
            break;
        if (memcmp(b + 4, "hdlr", 4) == 0 && sz >= 20) {
            mdta = memcmp(b + 16, "mdta", 4) == 0;
        } else if (memcmp(b + 4, "keys", 4) == 0 && sz >= 16) {
            uint32_t cnt = mark__be32(b + 12), i;
            size_t q = 16;

            for (i = 0; i < cnt && q + 8 <= sz; i++) {
                uint32_t ks = mark__be32(b + q);

                if (ks < 8 || ks > sz - q)
                    break;
                if (i < 64 && ks - 8 == 4 &&
                    strncasecmp((const char *)b + q + 8, "AIGC", 4) == 0)
                    keys[i][0] = 1;
                q += ks;
                nkeys = i + 1;
            }
        } else if (memcmp(b + 4, "ilst", 4) == 0) {
            size_t q = 8;

            while (q + 8 <= sz && rc == MARK_OK) {
                uint32_t is = mark__be32(b + q);
                const unsigned char *it = b + q;

                if (is < 8 || is > sz - q)
                    break;
                if (memcmp(it + 4, "----", 4) == 0) {
                    /* freeform: mean, name, data */
                    size_t r = 8;
                    int name_ok = 0;

                    while (r + 8 <= is && rc == MARK_OK) {
                        uint32_t cs = mark__be32(it + r);

                        if (cs < 8 || cs > is - r)
                            break;
                        if (memcmp(it + r + 4, "name", 4) == 0)
                            name_ok = cs == 16 &&
                                      strncasecmp((const char *)it + r + 12,
                                                  "AIGC", 4) == 0;
                        else if (memcmp(it + r + 4, "data", 4) == 0 &&
                                 name_ok)
                            rc = data_value(m, it + r, is - r, "mp4-itunes",
                                            "MP4 ilst ----:com.apple.iTunes:"
                                            "AIGC");
                        r += cs;
                    }
                } else if (mdta) {
                    uint32_t idx = mark__be32(it + 4);

                    if (idx >= 1 && idx <= nkeys && idx <= 64 &&
                        keys[idx - 1][0])
                        rc = data_value(m, it + 8, is - 8, carrier,
                                        strcmp(carrier, "mp4-mdta") == 0
                                            ? "MP4 moov/udta/meta mdta key "
                                              "'AIGC'"
                                            : "MP4 moov/meta mdta key "
                                              "'AIGC'");
                }
                q += is;
            }
        }
        pos += sz;
    }
    return rc;
}

static int read_box(mark_media *m, int64_t pos, uint64_t len,
                    unsigned char **out)
{
    int rc;

    if (len > META_MAX)
        return mark__problem_add(m->problems, MARK_SEV_WARNING, "limit", -1,
                                 "a metadata box of %llu bytes was not read",
                                 (unsigned long long)len);
    *out = mark__malloc(m->ctx, len ? (size_t)len : 1);
    if (*out == NULL)
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    rc = read_at(m, pos, *out, (size_t)len);
    if (rc < 0) {
        mark__free(m->ctx, *out);
        *out = NULL;
    }
    return rc;
}

/* A sample table box of stbl (h: its first bytes, hdr its header size,
 * size the whole box): its entry count must fit in the box, and with a
 * constant sample size the count must be plausible for the file.
 * libavformat allocates a count's worth of entries before it reads them
 * (or, for a constant size, builds an index of count entries), so a
 * 40-byte 'ctts' claiming 50 million entries cost 400 MB (fuzz/mp4.c). */
static int table_check(mark_media *m, const unsigned char *h, int hdr,
                       uint64_t size, int64_t pos)
{
    static const struct {
        char type[5];
        unsigned entry;                  /* bytes a table entry */
    } tables[] = {
        { "stts", 8 }, { "ctts", 8 }, { "stsc", 12 }, { "stco", 4 },
        { "co64", 8 }, { "stss", 4 }, { "stps", 4 }, { "stsz", 4 },
    };
    uint64_t count, room, need;
    size_t i;

    for (i = 0; i < sizeof tables / sizeof tables[0]; i++)
        if (memcmp(h + 4, tables[i].type, 4) == 0)
            break;
    if (i == sizeof tables / sizeof tables[0] ||
        size < (uint64_t)hdr + (i == 7 ? 12 : 8))
        return MARK_OK;
    if (i == 7) {                         /* stsz: size, count, table */
        uint32_t each = mark__be32(h + hdr + 4);

        count = mark__be32(h + hdr + 8);
        room = size - (uint64_t)hdr - 12;
        need = each ? 0 : count * 4;
        /* QuickTime's compressed sound counts samples, not packets: up
         * to 64 to a byte (IMA4 puts 64 in 34 bytes) */
        if (each && count > (uint64_t)m->src->size * 64)
            need = UINT64_MAX;
    } else {
        count = mark__be32(h + hdr + 4);
        room = size - (uint64_t)hdr - 8;
        need = count * tables[i].entry;
    }
    if (need > room)
        return mark__err(m->ctx, MARK_EFORMAT, "MP4 box '%.4s' at byte %lld "
                         "claims %llu entries, more than it or the file "
                         "holds", (const char *)h + 4, (long long)pos,
                         (unsigned long long)count);
    return MARK_OK;
}

/* A track fragment's run (moof/traf/trun, fragmented MP4): its per-sample
 * entries must fit in the box, and all the runs of the file may claim at
 * most 64 samples a byte of the file, as for stsz above.  libavformat
 * adds every sample of a run to its index, entries or none: a trun
 * without per-sample fields claiming 50 million samples cost 10 s and
 * 1.6 GB before the duration limit refused it. */
static int trun_check(mark_media *m, const unsigned char *h, int hdr,
                      uint64_t size, int64_t pos)
{
    video_priv *v = m->priv;
    uint32_t flags, count;
    uint64_t room, entry = 0;
    int fixed = 8;                        /* version/flags, count */

    if (size < (uint64_t)hdr + 8)
        return MARK_OK;                   /* libavformat reads nothing */
    flags = mark__be32(h + hdr) & 0xffffff;
    count = mark__be32(h + hdr + 4);
    fixed += (flags & 0x1 ? 4 : 0) + (flags & 0x4 ? 4 : 0);
    entry = (flags & 0x100 ? 4 : 0) + (flags & 0x200 ? 4 : 0) +
            (flags & 0x400 ? 4 : 0) + (flags & 0x800 ? 4 : 0);
    room = size > (uint64_t)hdr + fixed ? size - (uint64_t)hdr - fixed : 0;
    v->frag_samples += count;
    if (entry * count > room ||
        v->frag_samples > (uint64_t)m->src->size * 64)
        return mark__err(m->ctx, MARK_EFORMAT, "MP4 box 'trun' at byte "
                         "%lld claims %lu samples, more than it or the "
                         "file holds", (long long)pos, (unsigned long)count);
    return MARK_OK;
}

static int walk(mark_media *m, int64_t start, int64_t end, int level);

/* A box on the way to the sample tables (moov, trak, mdia, minf, stbl;
 * moof, traf) that runs past its parent: its sample tables checked as far as it
 * goes (nothing else is read from it). */
static int tables_only(mark_media *m, const unsigned char *h, int hdr,
                       int64_t pos, int64_t end)
{
    static const char path[][5] = { "moov", "trak", "mdia", "minf", "stbl",
                                    "moof", "traf" };
    static const int into[] = { 3, 3, 3, 3, 4, 5, 6 };
    size_t i;

    for (i = 0; i < sizeof into / sizeof into[0]; i++)
        if (memcmp(h + 4, path[i], 4) == 0)
            return walk(m, pos + hdr, end, into[i]);
    return MARK_OK;
}

/* Walk the boxes in [start, end) of a parent (0 top, 1 moov, 2 udta,
 * 3 trak, mdia or minf, 4 stbl, 5 moof, 6 traf). */
static int walk(mark_media *m, int64_t start, int64_t end, int level)
{
    video_priv *v = m->priv;
    unsigned char h[32], *buf;
    int64_t pos = start;
    int rc = MARK_OK;

    while (pos + 8 <= end && rc == MARK_OK) {
        uint64_t size;
        int hdr = 8;

        if (++v->n_boxes > BOX_COUNT)
            return mark__err(m->ctx, MARK_ELIMIT, "more than %d MP4 boxes",
                             BOX_COUNT);
        rc = read_at(m, pos, h, end - pos >= 32 ? 32 : (size_t)(end - pos));
        if (rc < 0)
            return rc;
        size = mark__be32(h);
        if (size == 1) {
            size = ((uint64_t)mark__be32(h + 8) << 32) | mark__be32(h + 12);
            hdr = 16;
        } else if (size == 0) {
            size = (uint64_t)(end - pos);
        }
        if (size < (uint64_t)hdr || size > (uint64_t)(end - pos)) {
            /* the samples or their index cut short: libavformat would
             * read what is there and stop quietly */
            if (level == 0 && (memcmp(h + 4, "mdat", 4) == 0 ||
                               memcmp(h + 4, "moov", 4) == 0))
                return mark__err(m->ctx, MARK_EFORMAT, "MP4 is truncated "
                                 "(%.4s runs past the end)",
                                 (const char *)h + 4);
            rc = mark__problem_add(m->problems, MARK_SEV_WARNING,
                                   "malformed", -1, "MP4 box '%.4s' at "
                                   "byte %lld runs past its parent",
                                   (const char *)h + 4, (long long)pos);
            /* libavformat reads what is there of it all the same: so
             * do the sample table checks */
            if (rc == MARK_OK && size >= (uint64_t)hdr && level != 2 &&
                level != 4)
                rc = tables_only(m, h, hdr, pos, end);
            return rc;
        }
        if (level == 0 && memcmp(h + 4, "moov", 4) == 0) {
            v->moov_first = v->moov_first >= 0 ? v->moov_first : 1;
            v->moov_size = size;
            rc = walk(m, pos + hdr, pos + (int64_t)size, 1);
        } else if (level == 0 && memcmp(h + 4, "mdat", 4) == 0) {
            v->moov_first = v->moov_first >= 0 ? v->moov_first : 0;
        } else if (level == 0 && memcmp(h + 4, "ftyp", 4) == 0 &&
                   size >= 12) {
            v->is_mov = memcmp(h + 8, "qt  ", 4) == 0;
        } else if (level == 1 && memcmp(h + 4, "udta", 4) == 0) {
            rc = walk(m, pos + hdr, pos + (int64_t)size, 2);
        } else if (((level == 1 || level == 3) &&
                    memcmp(h + 4, "trak", 4) == 0) ||
                   (level == 3 && (memcmp(h + 4, "mdia", 4) == 0 ||
                                   memcmp(h + 4, "minf", 4) == 0))) {
            rc = walk(m, pos + hdr, pos + (int64_t)size, 3);
        } else if (level == 3 && memcmp(h + 4, "stbl", 4) == 0) {
            rc = walk(m, pos + hdr, pos + (int64_t)size, 4);
        } else if (level == 4) {
            rc = table_check(m, h, hdr, size, pos);
        } else if (level == 0 && memcmp(h + 4, "moof", 4) == 0) {
            rc = walk(m, pos + hdr, pos + (int64_t)size, 5);
        } else if (level == 5 && memcmp(h + 4, "traf", 4) == 0) {
            rc = walk(m, pos + hdr, pos + (int64_t)size, 6);
        } else if (level == 6 && memcmp(h + 4, "trun", 4) == 0) {
            rc = trun_check(m, h, hdr, size, pos);
        } else if ((level == 1 || level == 2) &&
                   memcmp(h + 4, "meta", 4) == 0 && size >= 16) {
            rc = read_box(m, pos + hdr, size - (uint64_t)hdr, &buf);
            if (rc == MARK_OK && buf != NULL) {
                /* ISO meta is a full box (version/flags first),
                 * QuickTime's is not */
                size_t skip = memcmp(buf + 4, "hdlr", 4) == 0 ? 0 : 4;

                rc = scan_meta(m, buf + skip, (size_t)size - hdr - skip,
                               level == 2 ? "mp4-mdta" : "mp4-meta");
                mark__free(m->ctx, buf);
            }
        } else if (((level <= 1 && memcmp(h + 4, "uuid", 4) == 0 &&
                     size >= (uint64_t)hdr + 16 &&
                     memcmp(h + hdr, xmp_uuid, 16) == 0) ||
                    (level == 2 && memcmp(h + 4, "XMP_", 4) == 0))) {
            int off = hdr + (memcmp(h + 4, "uuid", 4) == 0 ? 16 : 0);

            rc = read_box(m, pos + off, size - (uint64_t)off, &buf);
            if (rc == MARK_OK && buf != NULL) {
                rc = mark__xmp_scan(m, (const char *)buf,
                                    (size_t)size - (size_t)off,
                                    level == 2 ? "MP4 moov/udta/XMP_"
                                               : "MP4 uuid XMP box", NULL);
                mark__free(m->ctx, buf);
            }
        }
        pos += (int64_t)size;
    }
    return rc;
}


int mark__mp4_boxes(mark_media *m)
{
    return walk(m, 0, m->src->size, 0);
}
