/*
 * video.c - MP4/MOV and Matroska/WebM through FFmpeg's libavformat and
 * libavcodec: the stream layout, the metadata label, remuxing with a new
 * label, and the soundtrack's samples for the audio watermark.
 *
 * Carriers read:
 *   MP4/MOV  moov/udta/meta (handler mdta) key "AIGC"   "mp4-mdta"
 *            moov/meta (a bare meta, handler mdta)      "mp4-meta"
 *            an iTunes freeform ----:com.apple.iTunes:AIGC in an ilst
 *                                                       "mp4-itunes"
 *            XMP: a uuid box BE7ACFCB-97A9-42E8-9C71-999491E3AFAC (top
 *            level or in moov) or moov/udta/XMP_        "xmp"
 *   MKV/WebM a SimpleTag "AIGC" of a global Tag         "mkv-tag"
 * The MP4 boxes are walked here (to name each carrier and see two
 * labels as two); Matroska tags come from libavformat.
 *
 * Written: the streams copied packet for packet (a remux, nothing is
 * decoded) with the label as the MP4 mdta key "AIGC" (libavformat's mov
 * muxer with use_metadata_tags) or a global Matroska SimpleTag; every
 * label of the input is dropped, so the output holds exactly one.
 * Chapters, stream metadata and side data (rotation), dispositions and
 * timestamps are carried over; an MP4 whose moov came first keeps it
 * first.  The visible label and the frame watermark re-encode the
 * frames (timestamps kept); the label is drawn on the picture as
 * displayed (the display matrix's rotation) and recorded in the key /
 * SimpleTag "aimark:VisibleLabel", which verify checks on the opening
 * 2 s.
 *
 * FFmpeg logs to stderr by default; a library must not print, so its log
 * level is set to quiet the first time, unless the program has set a
 * level of its own.
 */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/display.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>

#include "internal.h"
#include "signal/signal.h"

#define IO_BUF 65536
#define BOX_DEPTH 8
#define BOX_COUNT 200000                 /* boxes walked at most */
#define META_MAX (4u << 20)              /* a meta/XMP box read whole */
/* The record of a drawn label (visible/record.c, with its time spans):
 * an MP4 mdta key or a Matroska SimpleTag (which the muxer writes in
 * capitals; libavformat's keys match in any case). */
#define RECORD_KEY "aimark:VisibleLabel"

static const unsigned char xmp_uuid[16] = {
    0xbe, 0x7a, 0xcf, 0xcb, 0x97, 0xa9, 0x42, 0xe8,
    0x9c, 0x71, 0x99, 0x94, 0x91, 0xe3, 0xaf, 0xac
};

typedef struct video_priv {
    int is_mov;                          /* QuickTime brand: mov muxer */
    int is_webm;
    int moov_first;                      /* moov before mdat */
    uint64_t moov_size;
    int audio;                           /* index of the soundtrack, -1 */
    int video;                           /* ... of the first video stream
                                            (not cover art), -1 */
    int rot;                             /* the video's display rotation,
                                            counterclockwise: 0, 90, 180,
                                            270 */
    int n_boxes;
    AVFormatContext *ic;                 /* a pipe's demuxer, kept open
                                            from parse for one reading */
} video_priv;

static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void quiet_ffmpeg(void)
{
    if (av_log_get_level() == AV_LOG_INFO)
        av_log_set_level(AV_LOG_QUIET);
}

static int averr(mark_ctx *ctx, int code, const char *what, int e)
{
    char b[AV_ERROR_MAX_STRING_SIZE];

    av_strerror(e, b, sizeof b);
    return mark__err(ctx, code, "%s: %s", what, b);
}

/* ------------------------------------------------------------------ */
/* libavformat reading from the media's source. */

static int src_read(void *opaque, uint8_t *buf, int size)
{
    int64_t n = mark__src_read(opaque, buf, (size_t)size);

    if (n < 0)
        return AVERROR(EIO);
    return n == 0 ? AVERROR_EOF : (int)n;
}

static int64_t src_seek(void *opaque, int64_t off, int whence)
{
    mark__src *s = opaque;

    whence &= ~AVSEEK_FORCE;
    if (whence == AVSEEK_SIZE)
        return s->size >= 0 ? s->size : AVERROR(ENOSYS);
    if (whence == SEEK_CUR)
        off += s->pos;
    else if (whence == SEEK_END) {
        if (s->size < 0)
            return AVERROR(ENOSYS);
        off += s->size;
    }
    if (mark__src_seek(s, off) < 0)
        return AVERROR(EIO);
    return off;
}

/* Open the demuxer on m->src from its start (streams probed); a pipe's
 * was opened by parse, and is handed over once. */
static int demux_open(mark_media *m, AVFormatContext **out)
{
    AVFormatContext *ic;
    AVIOContext *pb;
    unsigned char *b;
    int e;

    *out = NULL;
    if (m->priv != NULL && ((video_priv *)m->priv)->ic != NULL) {
        *out = ((video_priv *)m->priv)->ic;
        ((video_priv *)m->priv)->ic = NULL;
        return MARK_OK;
    }
    if (!m->src->seekable && m->priv != NULL &&
        ((video_priv *)m->priv)->n_boxes < 0)
        return mark__err(m->ctx, MARK_EUNSEEKABLE, "a pipe is read once");
    pthread_once(&log_once, quiet_ffmpeg);
    if (m->src->seekable && mark__src_seek(m->src, 0) < 0)
        return mark__err(m->ctx, MARK_EIO, "cannot seek in the input");
    ic = avformat_alloc_context();
    b = av_malloc(IO_BUF);
    pb = b ? avio_alloc_context(b, IO_BUF, 0, m->src, src_read, NULL,
                                m->src->seekable ? src_seek : NULL)
           : NULL;
    if (ic == NULL || pb == NULL) {
        if (pb == NULL)
            av_free(b);
        avformat_free_context(ic);
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    }
    pb->seekable = m->src->seekable ? AVIO_SEEKABLE_NORMAL : 0;
    ic->pb = pb;
    ic->flags |= AVFMT_FLAG_CUSTOM_IO;
    e = avformat_open_input(&ic, NULL, NULL, NULL);
    if (e < 0) {
        av_freep(&pb->buffer);
        avio_context_free(&pb);
        return averr(m->ctx, MARK_EFORMAT, m->info.format == MARK_FORMAT_MP4
                     ? "MP4 not readable" : "Matroska not readable", e);
    }
    e = avformat_find_stream_info(ic, NULL);
    if (e < 0) {
        avformat_close_input(&ic);
        av_freep(&pb->buffer);
        avio_context_free(&pb);
        return averr(m->ctx, MARK_EFORMAT, "no stream could be read", e);
    }
    *out = ic;
    return MARK_OK;
}

static void demux_close(AVFormatContext **ic)
{
    AVIOContext *pb;

    if (*ic == NULL)
        return;
    pb = (*ic)->pb;
    avformat_close_input(ic);
    if (pb != NULL) {
        av_freep(&pb->buffer);
        avio_context_free(&pb);
    }
}

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

static int walk(mark_media *m, int64_t start, int64_t end, int level);

/* A box on the way to the sample tables (moov, trak, mdia, minf, stbl)
 * that runs past its parent: its sample tables checked as far as it
 * goes (nothing else is read from it). */
static int tables_only(mark_media *m, const unsigned char *h, int hdr,
                       int64_t pos, int64_t end)
{
    static const char path[][5] = { "moov", "trak", "mdia", "minf", "stbl" };
    size_t i;

    for (i = 0; i < 5; i++)
        if (memcmp(h + 4, path[i], 4) == 0)
            return walk(m, pos + hdr, end, i == 4 ? 4 : 3);
    return MARK_OK;
}

/* Walk the boxes in [start, end) of a parent (0 top, 1 moov, 2 udta,
 * 3 trak, mdia or minf, 4 stbl). */
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

/* ------------------------------------------------------------------ */
/* Rotation: a phone's video is coded as the sensor saw it, with a
 * display matrix that turns it upright.  The label is laid out, drawn
 * and checked on the picture as displayed. */

/* The display matrix's rotation in degrees counterclockwise (0, 90, 180,
 * 270); 0 for none, a mirror or an angle not a multiple of 90. */
static int stream_rotation(const AVStream *st)
{
    const int32_t *mx = (const int32_t *)(const void *)
        av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, NULL);
    double r;
    long q;

    if (mx == NULL ||
        (double)mx[0] * mx[4] - (double)mx[1] * mx[3] < 0)
        return 0;                        /* none, or mirrored */
    r = av_display_rotation_get(mx);
    if (isnan(r))
        return 0;
    q = lrint(r / 90);
    if (fabs(r - 90.0 * (double)q) > 1)
        return 0;
    return (int)(((q % 4) + 4) % 4) * 90;
}

/* The displayed size of a w x h coded picture. */
static void displayed(int rot, int w, int h, int *dw, int *dh)
{
    *dw = rot == 90 || rot == 270 ? h : w;
    *dh = rot == 90 || rot == 270 ? w : h;
}

/* Where the pixel (x, y) of the displayed picture lies in the w x h
 * coded one. */
static void to_coded(int rot, int w, int h, int x, int y, int *cx, int *cy)
{
    switch (rot) {
    case 90: *cx = w - 1 - y; *cy = x; break;
    case 180: *cx = w - 1 - x; *cy = h - 1 - y; break;
    case 270: *cx = y; *cy = h - 1 - x; break;
    default: *cx = x; *cy = y; break;
    }
}

/* Where the pixel (x, y) of the w x h coded picture is displayed. */
static void to_display(int rot, int w, int h, int x, int y, int *dx, int *dy)
{
    switch (rot) {
    case 90: *dx = y; *dy = w - 1 - x; break;
    case 180: *dx = w - 1 - x; *dy = h - 1 - y; break;
    case 270: *dx = h - 1 - y; *dy = x; break;
    default: *dx = x; *dy = y; break;
    }
}

/* The rectangle [x0, x1) x [y0, y1) mapped by one of the two above. */
static void map_rect(void (*map)(int, int, int, int, int, int *, int *),
                     int rot, int w, int h, int *x0, int *y0, int *x1,
                     int *y1)
{
    int ax, ay, bx, by;

    map(rot, w, h, *x0, *y0, &ax, &ay);
    map(rot, w, h, *x1 - 1, *y1 - 1, &bx, &by);
    *x0 = ax < bx ? ax : bx;
    *y0 = ay < by ? ay : by;
    *x1 = (ax < bx ? bx : ax) + 1;
    *y1 = (ay < by ? by : ay) + 1;
}

/* ------------------------------------------------------------------ */
/* Parse. */

/* An EBML variable-size integer at p (n bytes there): its length, or 0
 * when it is not one; *v its value without the length marker. */
static int ebml_vint(const unsigned char *p, size_t n, uint64_t *v)
{
    int len = 1, i;

    if (n == 0 || p[0] == 0)
        return 0;
    while (!(p[0] & (0x80 >> (len - 1))))
        len++;
    if ((size_t)len > n)
        return 0;
    *v = p[0] & (0xff >> len);
    for (i = 1; i < len; i++)
        *v = (*v << 8) | p[i];
    return len;
}

static int video_parse(mark_media *m)
{
    AVFormatContext *ic = NULL;
    video_priv *v;
    const AVDictionaryEntry *e = NULL;
    unsigned i;
    int rc;

    if (m->src == NULL)
        return mark__err(m->ctx, MARK_EINVAL, "video needs a source");
    v = mark__calloc(m->ctx, 1, sizeof *v);
    if (v == NULL)
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    m->priv = v;
    v->audio = -1;
    v->video = -1;
    v->moov_first = -1;
    if (m->info.format == MARK_FORMAT_MP4 && m->src->seekable) {
        rc = walk(m, 0, m->src->size, 0);
        if (rc < 0)
            return rc;
    } else if (m->info.format == MARK_FORMAT_MKV) {
        unsigned char head[64];
        int64_t n;

        if (m->src->seekable && mark__src_seek(m->src, 0) < 0)
            return mark__err(m->ctx, MARK_EIO, "cannot seek in the input");
        /* the EBML header's DocType: webm or matroska */
        n = m->src->seekable ? mark__src_read_full(m->src, head, sizeof head)
                             : 0;
        v->is_webm = n > 0 &&
                     memmem(head, (size_t)n, "\x42\x82\x84webm", 7) != NULL;
        /* a Segment of known size past the end of the file: cut short
         * (libavformat would read what is there and stop quietly) */
        if (n > 0) {
            uint64_t hsz, ssz;
            int hl = ebml_vint(head + 4, (size_t)n - 4, &hsz), sl;
            size_t seg = 4 + (size_t)hl + (size_t)hsz;

            if (hl > 0 && seg + 4 < (size_t)n &&
                memcmp(head + seg, "\x18\x53\x80\x67", 4) == 0 &&
                (sl = ebml_vint(head + seg + 4, (size_t)n - seg - 4,
                                &ssz)) > 0 &&
                ssz != (1ull << (7 * sl)) - 1 &&
                seg + 4 + (uint64_t)sl + ssz > (uint64_t)m->src->size)
                return mark__err(m->ctx, MARK_EFORMAT, "Matroska is "
                                 "truncated (its segment runs past the "
                                 "end)");
        }
    }
    if (!m->src->seekable && m->info.format == MARK_FORMAT_MP4)
        return mark__err(m->ctx, MARK_EUNSEEKABLE, "MP4 cannot be read "
                         "from a pipe (its index may come last): give a "
                         "file");
    rc = demux_open(m, &ic);
    if (rc < 0)
        return rc;
    if (m->info.format == MARK_FORMAT_MKV) {
        while ((e = av_dict_get(ic->metadata, "AIGC", e, 0)) != NULL) {
            rc = mark__media_add_label(m, "mkv-tag", "Matroska SimpleTag "
                                       "'AIGC'", e->value, strlen(e->value));
            if (rc < 0)
                break;
        }
    }
    e = av_dict_get(ic->metadata, RECORD_KEY, NULL, 0);
    if (rc >= 0 && e != NULL) {
        m->visible_record = mark__strdup(m->ctx, e->value);
        if (m->visible_record == NULL)
            rc = mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    }
    for (i = 0; i < ic->nb_streams && rc >= 0; i++) {
        const AVCodecParameters *cp = ic->streams[i]->codecpar;

        if (cp->codec_type == AVMEDIA_TYPE_VIDEO && v->video < 0 &&
            !(ic->streams[i]->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
            v->video = (int)i;
            v->rot = stream_rotation(ic->streams[i]);
            m->info.width = (uint32_t)cp->width;
            m->info.height = (uint32_t)cp->height;
            m->info.codec = avcodec_get_name(cp->codec_id);
        } else if (cp->codec_type == AVMEDIA_TYPE_AUDIO && v->audio < 0) {
            v->audio = (int)i;
            m->info.sample_rate = (uint32_t)cp->sample_rate;
            m->info.channels = cp->ch_layout.nb_channels;
        }
    }
    if (ic->duration > 0)
        m->info.duration = (double)ic->duration / AV_TIME_BASE;
    if (rc >= 0 && v->video >= 0 &&
        ic->streams[v->video]->nb_frames > m->ctx->limits[MARK_LIMIT_FRAMES])
        rc = mark__err(m->ctx, MARK_ELIMIT, "video of %lld frames exceeds "
                       "the limit of %lld",
                       (long long)ic->streams[v->video]->nb_frames,
                       (long long)m->ctx->limits[MARK_LIMIT_FRAMES]);
    if (rc >= 0 && v->video >= 0) {
        /* the frames are decoded whole (label, watermark, its detector):
         * the image limits hold for them */
        const AVCodecParameters *cp = ic->streams[v->video]->codecpar;
        int64_t fw = cp->width, fh = cp->height;

        if (fw > m->ctx->limits[MARK_LIMIT_DIMENSION] ||
            fh > m->ctx->limits[MARK_LIMIT_DIMENSION] ||
            fw * fh > m->ctx->limits[MARK_LIMIT_PIXELS])
            rc = mark__err(m->ctx, MARK_ELIMIT, "video of %lldx%lld pixels "
                           "exceeds the image size limit", (long long)fw,
                           (long long)fh);
    }
    if (m->src->seekable) {
        demux_close(&ic);
    } else {
        v->ic = ic;                      /* the packets read ahead stay */
        v->n_boxes = -1;                 /* and it cannot open again */
    }
    return rc < 0 ? rc : MARK_OK;
}

static void video_uninit(mark_media *m)
{
    if (m->priv != NULL)
        demux_close(&((video_priv *)m->priv)->ic);
    mark__free(m->ctx, m->priv);
    m->priv = NULL;
}

/* ------------------------------------------------------------------ */
/* Remux with the new label. */

static int sink_write(void *opaque, uint8_t *buf, int size)
{
    return mark__sink_write(opaque, buf, (size_t)size) < 0 ? AVERROR(EIO)
                                                           : size;
}

static int64_t sink_seek(void *opaque, int64_t off, int whence)
{
    mark__sink *k = opaque;

    whence &= ~AVSEEK_FORCE;
    if (whence == AVSEEK_SIZE)
        return AVERROR(ENOSYS);
    if (whence == SEEK_CUR)
        off += k->pos;
    else if (whence != SEEK_SET)
        return AVERROR(ENOSYS);
    return mark__sink_seek(k, off) < 0 ? AVERROR(EIO) : off;
}

static int copy_stream(AVFormatContext *oc, const AVStream *in, int keep_tag)
{
    AVStream *out = avformat_new_stream(oc, NULL);
    int i;

    if (out == NULL || avcodec_parameters_copy(out->codecpar,
                                               in->codecpar) < 0)
        return AVERROR(ENOMEM);
    if (!keep_tag)
        out->codecpar->codec_tag = 0;
    out->time_base = in->time_base;
    out->disposition = in->disposition;
    out->avg_frame_rate = in->avg_frame_rate;
    out->r_frame_rate = in->r_frame_rate;
    out->sample_aspect_ratio = in->sample_aspect_ratio;
    if (av_dict_copy(&out->metadata, in->metadata, 0) < 0)
        return AVERROR(ENOMEM);
    for (i = 0; i < in->nb_side_data; i++) {
        uint8_t *d = av_memdup(in->side_data[i].data, in->side_data[i].size);

        if (d == NULL || av_stream_add_side_data(out, in->side_data[i].type,
                                                 d, in->side_data[i].size)
                             < 0) {
            av_free(d);
            return AVERROR(ENOMEM);
        }
    }
    return 0;
}

static int copy_chapters(AVFormatContext *oc, const AVFormatContext *ic)
{
    unsigned i;

    if (ic->nb_chapters == 0)
        return 0;
    oc->chapters = av_calloc(ic->nb_chapters, sizeof *oc->chapters);
    if (oc->chapters == NULL)
        return AVERROR(ENOMEM);
    for (i = 0; i < ic->nb_chapters; i++) {
        const AVChapter *c = ic->chapters[i];
        AVChapter *d = av_mallocz(sizeof *d);

        if (d == NULL)
            return AVERROR(ENOMEM);
        oc->chapters[oc->nb_chapters++] = d;
        d->id = c->id;
        d->time_base = c->time_base;
        d->start = c->start;
        d->end = c->end;
        if (av_dict_copy(&d->metadata, c->metadata, 0) < 0)
            return AVERROR(ENOMEM);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Re-encoding: the visible label on the opening frames, the audio
 * watermark in the soundtrack. */

#define LABEL_SECONDS 3.0                /* label on the opening frames:
                                            the rule's 2 s and a margin */

typedef struct vtx {
    int idx;                             /* stream re-encoded, -1 none */
    AVCodecContext *dec, *enc;
    struct SwsContext *conv;             /* decoded -> encoder's format */
    struct SwsContext *to_rgb, *from_rgb;
    AVFrame *yuv;                        /* the converted frame */
    unsigned char *rgb;                  /* the rectangle around the label */
    int rgb_stride;
    int rx0, ry0, rx1, ry1;              /* that rectangle in the frame */
    int px0, py0, px1, py1;              /* the plate's, written back */
    int rot;                             /* display rotation (degrees) */
    unsigned char *drgb;                 /* rgb as displayed, if turned */
    int drgb_stride;
    int dx0, dy0, dx1, dy1;              /* the rectangle as displayed */
    int64_t first, until;                /* label on [first, until) */
    int64_t end_from;                    /* and on [end_from, the end),
                                            INT64_MAX none */
    mark_visible *vis;
    int wm;                              /* img-v1 in every frame */
    float *luma;
    int16_t *qd;                         /* a cell row's change, rounded */
    mark__imgwm_plan *plan;              /* made every PLAN_FRAMES */
    int plan_age;
    int64_t frames;                      /* decoded and re-encoded */
} vtx;

typedef struct atx {
    int idx;
    AVCodecContext *dec, *enc;
    SwrContext *in, *out;
    mark__audwm *wm;
    AVAudioFifo *fifo;
    float *f, *w;                        /* interleaved floats */
    int cap;                             /* frames of f; w holds 4x */
    int64_t next;                        /* pts of the next frame out */
    int started;
    int ch, rate, fmt;                   /* the decoder's at the start,
                                            which the chain is built for */
} atx;

typedef struct txctx {
    mark_media *m;
    const mark__pixel_ops *ops;
    AVFormatContext *oc;
    AVPacket *pkt;
    AVFrame *fr;
    vtx v;
    atx a;
} txctx;

static int enc_write(txctx *t, AVCodecContext *enc, int idx, AVFrame *f)
{
    int e = avcodec_send_frame(enc, f);

    while (e >= 0) {
        e = avcodec_receive_packet(enc, t->pkt);
        if (e < 0)
            break;
        t->pkt->stream_index = idx;
        av_packet_rescale_ts(t->pkt, enc->time_base,
                             t->oc->streams[idx]->time_base);
        e = av_interleaved_write_frame(t->oc, t->pkt);
    }
    return e == AVERROR(EAGAIN) || e == AVERROR_EOF ? 0 : e;
}

static int open_dec(const AVStream *st, AVCodecContext **out)
{
    const AVCodec *c = avcodec_find_decoder(st->codecpar->codec_id);
    int e;

    if (c == NULL)
        return AVERROR_DECODER_NOT_FOUND;
    *out = avcodec_alloc_context3(c);
    if (*out == NULL)
        return AVERROR(ENOMEM);
    e = avcodec_parameters_to_context(*out, st->codecpar);
    if (e >= 0) {
        (*out)->pkt_timebase = st->time_base;
        (*out)->thread_count = 0;
        e = avcodec_open2(*out, c, NULL);
    }
    return e;
}

/* Does x264's preset look further ahead than 20 frames (NULL: medium)? */
static int lookahead_capped(const char *preset)
{
    static const char *const far[] = { "fast", "medium", "slow", "slower",
                                       "veryslow", "placebo" };
    size_t i;

    if (preset == NULL)
        return 1;
    for (i = 0; i < sizeof far / sizeof far[0]; i++)
        if (strcmp(preset, far[i]) == 0)
            return 1;
    return 0;
}

/* The encoder of the video stream: libx264 (libvpx-vp9 for WebM) at a
 * quality that keeps the look. */
static int open_venc(txctx *t, const AVStream *st, int webm)
{
    const mark_video_options *vo = &t->m->video;
    const AVCodec *c = avcodec_find_encoder_by_name(
        vo->encoder != NULL ? vo->encoder : webm ? "libvpx-vp9" : "libx264");
    char crf[16];
    AVCodecContext *d = t->v.dec, *e;
    AVStream *os = t->oc->streams[t->v.idx];
    int r;

    if (c == NULL || c->type != AVMEDIA_TYPE_VIDEO) {
        mark__err(t->m->ctx, MARK_EUNSUPPORTED, "no video encoder '%s' in "
                  "this FFmpeg", vo->encoder != NULL ? vo->encoder : "");
        return AVERROR_ENCODER_NOT_FOUND;
    }
    if (avformat_query_codec(t->oc->oformat, c->id, FF_COMPLIANCE_NORMAL)
        != 1) {
        mark__err(t->m->ctx, MARK_EUNSUPPORTED, "%s cannot go into this "
                  "container", c->name);
        return AVERROR_ENCODER_NOT_FOUND;
    }
    e = t->v.enc = avcodec_alloc_context3(c);
    if (e == NULL)
        return AVERROR(ENOMEM);
    e->width = d->width;
    e->height = d->height;
    e->pix_fmt = d->pix_fmt == AV_PIX_FMT_YUVJ420P &&
                 c->id == AV_CODEC_ID_H264 ? AV_PIX_FMT_YUVJ420P
                                           : AV_PIX_FMT_YUV420P;
    e->sample_aspect_ratio = d->sample_aspect_ratio;
    e->color_range = d->color_range;
    e->color_primaries = d->color_primaries;
    e->color_trc = d->color_trc;
    e->colorspace = d->colorspace;
    e->chroma_sample_location = d->chroma_sample_location;
    e->time_base = st->time_base;
    e->framerate = av_guess_frame_rate(NULL, (AVStream *)(uintptr_t)st,
                                       NULL);
    e->thread_count = 0;
    if (t->oc->oformat->flags & AVFMT_GLOBALHEADER)
        e->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    snprintf(crf, sizeof crf, "%d", vo->crf >= 0 ? vo->crf
                                     : c->id == AV_CODEC_ID_VP9 ? 31 : 18);
    if (c->id == AV_CODEC_ID_VP9 || c->id == AV_CODEC_ID_AV1) {
        av_opt_set(e->priv_data, "crf", crf, 0);
        av_opt_set(e->priv_data, "deadline", "good", 0);
        av_opt_set(e->priv_data, "cpu-used", "4", 0);
        av_opt_set(e->priv_data, "row-mt", "1", 0);
        e->bit_rate = 0;
    } else {
        av_opt_set(e->priv_data, "crf", crf, 0);
        av_opt_set(e->priv_data, "preset", vo->preset != NULL ? vo->preset
                                                          : "medium", 0);
        /* x264 looks 40 frames ahead from the preset medium on, 60 from
         * slow: at 1080p about 3 MB each, which took the peak past 500
         * MB; 20 (the preset faster's) costs no speed and next to no
         * size (+0.1% on the bench clip) */
        if (strcmp(c->name, "libx264") == 0 && lookahead_capped(vo->preset))
            av_opt_set(e->priv_data, "rc-lookahead", "20", 0);
        /* x265 logs to stderr by itself, past FFmpeg's log level */
        if (c->id == AV_CODEC_ID_HEVC)
            av_opt_set(e->priv_data, "x265-params", "log-level=none", 0);
    }
    r = avcodec_open2(e, c, NULL);
    if (r < 0)
        return r;
    r = avcodec_parameters_from_context(os->codecpar, e);
    os->codecpar->codec_tag = 0;
    os->time_base = e->time_base;
    return r;
}

/* The audio encoder: the input's codec at its bit rate where an encoder
 * exists, else AAC (Opus in WebM). */
static int open_aenc(txctx *t, const AVStream *st, int webm)
{
    const AVCodec *c = NULL;
    AVCodecContext *d = t->a.dec, *e;
    AVStream *os = t->oc->streams[t->a.idx];
    int r;

    switch (st->codecpar->codec_id) {
    case AV_CODEC_ID_OPUS:
        c = avcodec_find_encoder_by_name("libopus");
        break;
    case AV_CODEC_ID_VORBIS:
        c = avcodec_find_encoder_by_name("libvorbis");
        break;
    case AV_CODEC_ID_MP3:
        c = avcodec_find_encoder_by_name("libmp3lame");
        break;
    default:
        c = avcodec_find_encoder(st->codecpar->codec_id);
        break;
    }
    if (c == NULL || avformat_query_codec(t->oc->oformat, c->id,
                                          FF_COMPLIANCE_NORMAL) != 1)
        c = webm ? avcodec_find_encoder_by_name("libopus")
                 : avcodec_find_encoder(AV_CODEC_ID_AAC);
    if (c == NULL)
        return AVERROR_ENCODER_NOT_FOUND;
    e = t->a.enc = avcodec_alloc_context3(c);
    if (e == NULL)
        return AVERROR(ENOMEM);
    e->sample_rate = d->sample_rate;
    if (c->supported_samplerates != NULL) {
        const int *sr = c->supported_samplerates;
        int best = sr[0];

        for (; *sr; sr++)
            if (*sr == d->sample_rate)
                best = *sr;
        e->sample_rate = best;
    }
    r = av_channel_layout_copy(&e->ch_layout, &d->ch_layout);
    if (r < 0)
        return r;
    e->sample_fmt = c->sample_fmts != NULL ? c->sample_fmts[0]
                                           : AV_SAMPLE_FMT_FLTP;
    /* at the usual rates the codecs remove most of a mark just embedded
     * (aud-v1's weakness, issue 5): at least this much a channel, for
     * up to two (FFmpeg's AAC needs 192 kbit/s for mono speech) */
    e->bit_rate = st->codecpar->bit_rate > 0 ? st->codecpar->bit_rate
                                             : 192000;
    {
        int64_t floor = (c->id == AV_CODEC_ID_OPUS ? 96000
                         : c->id == AV_CODEC_ID_VORBIS ? 128000
                         : c->id == AV_CODEC_ID_MP3 ? 160000 : 192000) *
                        (int64_t)(d->ch_layout.nb_channels < 2
                                      ? 1 : 2);

        if (c->id != AV_CODEC_ID_FLAC && e->bit_rate < floor)
            e->bit_rate = floor;
    }
    e->time_base = (AVRational){ 1, e->sample_rate };
    if (t->oc->oformat->flags & AVFMT_GLOBALHEADER)
        e->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    r = avcodec_open2(e, c, NULL);
    if (r < 0)
        return r;
    r = avcodec_parameters_from_context(os->codecpar, e);
    os->codecpar->codec_tag = 0;
    os->time_base = e->time_base;
    return r;
}

/* Draw the label on a planar 4:2:0 frame (8 bits; the encoder's format):
 * the rectangle around the plate to RGB, the label on that, and only the
 * plate's rectangle back.  The rectangle has a margin of LABEL_MARGIN
 * pixels, so the chroma at the plate's edges is interpolated from the
 * same neighbours as in the whole frame; only it is converted, not the
 * frame (the whole 1080p frame took about as long as the watermark).
 * The layout is the same on every frame, so the conversions are set up
 * once. */
#define LABEL_MARGIN 8

static int even_down(int v)
{
    return v & ~1;
}

static int draw_label(txctx *t, AVFrame *f)
{
    vtx *v = &t->v;
    mark_frame mf;
    const uint8_t *src[4];
    uint8_t *dst[4];
    int sstride[4], r, cs;

    if (v->to_rgb == NULL) {
        mark_box pb;
        int dw, dh, x0, y0, x1, y1;

        /* laid out on the picture as displayed, then turned back */
        displayed(v->rot, f->width, f->height, &dw, &dh);
        r = mark_visible_layout(v->vis, (uint32_t)dw, (uint32_t)dh, &pb,
                                NULL);
        if (r < 0)
            return AVERROR_EXTERNAL;
        x0 = (int)pb.x;
        y0 = (int)pb.y;
        x1 = (int)(pb.x + pb.w);
        y1 = (int)(pb.y + pb.h);
        map_rect(to_coded, v->rot, f->width, f->height, &x0, &y0, &x1, &y1);
        /* the plate, on even coordinates (whole chroma samples) */
        v->px0 = even_down(x0);
        v->py0 = even_down(y0);
        v->px1 = even_down(x1 + 1);
        v->py1 = even_down(y1 + 1);
        if (v->px1 > f->width)
            v->px1 = even_down(f->width);
        if (v->py1 > f->height)
            v->py1 = even_down(f->height);
        if (v->px1 <= v->px0 || v->py1 <= v->py0)
            return AVERROR_EXTERNAL;
        /* and the rectangle converted around it */
        v->rx0 = v->px0 > LABEL_MARGIN ? v->px0 - LABEL_MARGIN : 0;
        v->ry0 = v->py0 > LABEL_MARGIN ? v->py0 - LABEL_MARGIN : 0;
        v->rx1 = v->px1 + LABEL_MARGIN < f->width ? v->px1 + LABEL_MARGIN
                                                  : even_down(f->width);
        v->ry1 = v->py1 + LABEL_MARGIN < f->height ? v->py1 + LABEL_MARGIN
                                                   : even_down(f->height);
        v->rgb_stride = ((v->rx1 - v->rx0) * 3 + 63) & ~63;
        v->rgb = av_malloc((size_t)v->rgb_stride * (size_t)(v->ry1 - v->ry0));
        cs = f->colorspace == AVCOL_SPC_BT709 ? SWS_CS_ITU709
                                              : SWS_CS_DEFAULT;
        v->to_rgb = sws_getContext(v->rx1 - v->rx0, v->ry1 - v->ry0,
                                   f->format, v->rx1 - v->rx0,
                                   v->ry1 - v->ry0, AV_PIX_FMT_RGB24,
                                   SWS_BILINEAR | SWS_ACCURATE_RND |
                                   SWS_FULL_CHR_H_INT, NULL, NULL, NULL);
        v->from_rgb = sws_getContext(v->px1 - v->px0, v->py1 - v->py0,
                                     AV_PIX_FMT_RGB24, v->px1 - v->px0,
                                     v->py1 - v->py0, f->format,
                                     SWS_BILINEAR | SWS_ACCURATE_RND, NULL,
                                     NULL, NULL);
        if (v->rgb == NULL || v->to_rgb == NULL || v->from_rgb == NULL)
            return AVERROR(ENOMEM);
        v->dx0 = v->rx0;
        v->dy0 = v->ry0;
        v->dx1 = v->rx1;
        v->dy1 = v->ry1;
        if (v->rot != 0) {
            map_rect(to_display, v->rot, f->width, f->height, &v->dx0,
                     &v->dy0, &v->dx1, &v->dy1);
            v->drgb_stride = ((v->dx1 - v->dx0) * 3 + 63) & ~63;
            v->drgb = av_malloc((size_t)v->drgb_stride *
                                (size_t)(v->dy1 - v->dy0));
            if (v->drgb == NULL)
                return AVERROR(ENOMEM);
        }
        sws_setColorspaceDetails(v->to_rgb, sws_getCoefficients(cs),
                                 f->color_range == AVCOL_RANGE_JPEG,
                                 sws_getCoefficients(cs), 1, 0, 1 << 16,
                                 1 << 16);
        sws_setColorspaceDetails(v->from_rgb, sws_getCoefficients(cs), 1,
                                 sws_getCoefficients(cs),
                                 f->color_range == AVCOL_RANGE_JPEG, 0,
                                 1 << 16, 1 << 16);
    }
    src[0] = f->data[0] + v->ry0 * f->linesize[0] + v->rx0;
    src[1] = f->data[1] + (v->ry0 / 2) * f->linesize[1] + v->rx0 / 2;
    src[2] = f->data[2] + (v->ry0 / 2) * f->linesize[2] + v->rx0 / 2;
    src[3] = NULL;
    sws_scale(v->to_rgb, src, f->linesize, 0, v->ry1 - v->ry0, &v->rgb,
              &v->rgb_stride);
    mf.data = v->rgb;
    mf.stride = (size_t)v->rgb_stride;
    mf.width = (uint32_t)(v->rx1 - v->rx0);
    mf.height = (uint32_t)(v->ry1 - v->ry0);
    mf.pixel = MARK_PIXEL_RGB8;
    if (v->rot == 0) {
        r = mark__visible_draw_region(v->vis, &mf, (uint32_t)f->width,
                                      (uint32_t)f->height, (uint32_t)v->rx0,
                                      (uint32_t)v->ry0);
    } else {
        /* turned upright, drawn, and turned back */
        int dw, dh, x, y, cx, cy;
        size_t ds = (size_t)v->drgb_stride, cs2 = (size_t)v->rgb_stride;

        for (y = v->dy0; y < v->dy1; y++)
            for (x = v->dx0; x < v->dx1; x++) {
                to_coded(v->rot, f->width, f->height, x, y, &cx, &cy);
                memcpy(v->drgb + (size_t)(y - v->dy0) * ds +
                           (size_t)(x - v->dx0) * 3,
                       v->rgb + (size_t)(cy - v->ry0) * cs2 +
                           (size_t)(cx - v->rx0) * 3, 3);
            }
        displayed(v->rot, f->width, f->height, &dw, &dh);
        mf.data = v->drgb;
        mf.stride = (size_t)v->drgb_stride;
        mf.width = (uint32_t)(v->dx1 - v->dx0);
        mf.height = (uint32_t)(v->dy1 - v->dy0);
        r = mark__visible_draw_region(v->vis, &mf, (uint32_t)dw,
                                      (uint32_t)dh, (uint32_t)v->dx0,
                                      (uint32_t)v->dy0);
        for (y = v->dy0; y < v->dy1; y++)
            for (x = v->dx0; x < v->dx1; x++) {
                to_coded(v->rot, f->width, f->height, x, y, &cx, &cy);
                memcpy(v->rgb + (size_t)(cy - v->ry0) * cs2 +
                           (size_t)(cx - v->rx0) * 3,
                       v->drgb + (size_t)(y - v->dy0) * ds +
                           (size_t)(x - v->dx0) * 3, 3);
            }
    }
    if (r < 0)
        return AVERROR_EXTERNAL;
    src[0] = v->rgb + (size_t)(v->py0 - v->ry0) * (size_t)v->rgb_stride +
             (size_t)(v->px0 - v->rx0) * 3;
    sstride[0] = v->rgb_stride;
    dst[0] = f->data[0] + v->py0 * f->linesize[0] + v->px0;
    dst[1] = f->data[1] + (v->py0 / 2) * f->linesize[1] + v->px0 / 2;
    dst[2] = f->data[2] + (v->py0 / 2) * f->linesize[2] + v->px0 / 2;
    dst[3] = NULL;
    sws_scale(v->from_rgb, src, sstride, 0, v->py1 - v->py0, dst,
              f->linesize);
    return 0;
}

/* The frame watermark: img-v1 in the frame's luma (Y, 8 bits), as for a
 * still image of that size; the pattern is the same in every frame, so a
 * detector can add frames up.  From 1027 pixels a side the detector
 * works on 2 x 2 cells or coarser, so the change is made per cell from
 * the cell means (a quarter of the work, and no float copy of the
 * frame); the plan (mask, informed chip values) is remade every
 * PLAN_FRAMES frames, with the picture's motion small between. */
#define PLAN_FRAMES 4

static int wm_frame(txctx *t, AVFrame *f)
{
    vtx *v = &t->v;
    mark_ctx *ctx = t->m->ctx;
    uint32_t w = (uint32_t)f->width, h = (uint32_t)f->height, x, y;
    uint32_t w2 = (w + 1) / 2, h2 = (h + 1) / 2;
    int cells = mark__imgwm_work_step(w, h) >= 2, rc;
    size_t n = cells ? (size_t)w2 * h2 * 2 : (size_t)w * h;

    if (v->luma == NULL) {
        v->luma = av_malloc(n * sizeof *v->luma);
        if (v->luma == NULL)
            return AVERROR(ENOMEM);
    }
    if (!av_frame_is_writable(f) && av_frame_make_writable(f) < 0)
        return AVERROR(ENOMEM);
    if (cells) {
        float *v2 = v->luma, *s2 = v->luma + (size_t)w2 * h2;

        for (y = 0; y < h2; y++) {
            const uint8_t *r0 = f->data[0] + (size_t)(2 * y) * f->linesize[0];
            const uint8_t *r1 = 2 * y + 1 < h ? r0 + f->linesize[0] : r0;

            float *restrict mv = v2 + (size_t)y * w2;
            float *restrict ms = s2 + (size_t)y * w2;

            for (x = 0; x < w / 2; x++) {
                float a = r0[2 * x], b = r0[2 * x + 1], c = r1[2 * x],
                      d = r1[2 * x + 1];

                mv[x] = (a + b + c + d) * 0.25f;
                ms[x] = (a * a + b * b + c * c + d * d) * 0.25f;
            }
            if (x < w2) {                /* an odd width's last column */
                float a = r0[2 * x], c = r1[2 * x];

                mv[x] = (a + c) * 0.5f;
                ms[x] = (a * a + c * c) * 0.5f;
            }
        }
    } else {
        for (y = 0; y < h; y++) {
            const uint8_t *row = f->data[0] + (size_t)y * f->linesize[0];
            float *o = v->luma + (size_t)y * w;

            for (x = 0; x < w; x++)
                o[x] = row[x];
        }
    }
    if (v->plan == NULL || ++v->plan_age >= PLAN_FRAMES) {
        mark__imgwm_plan_free(ctx, v->plan);
        v->plan = NULL;
        v->plan_age = 0;
        if (cells) {
            uint32_t d = mark__imgwm_work_step(w, h);
            size_t nw = sizeof(float) * (w / d) * (h / d);
            float *lw = mark__plane_alloc(ctx, nw);
            float *sq = mark__plane_alloc(ctx, nw);

            rc = lw && sq ? mark__imgwm_work_from_cells(ctx, v->luma,
                                                        v->luma +
                                                            (size_t)w2 * h2,
                                                        w, h, lw, sq)
                          : MARK_ENOMEM;
            if (rc == MARK_OK)
                rc = mark__imgwm_plan_new(ctx, t->ops->key, &t->ops->payload,
                                          w, h, t->ops->strength, lw, sq,
                                          &v->plan);
            mark__plane_free(ctx, lw, nw);
            mark__plane_free(ctx, sq, nw);
        } else {
            rc = mark__imgwm_plan_from_luma(ctx, t->ops->key,
                                            &t->ops->payload, v->luma, w, h,
                                            t->ops->strength, &v->plan);
        }
        if (rc < 0)
            return AVERROR_EXTERNAL;
    }
    if (cells) {
        float *d2 = v->luma + (size_t)w2 * h2;   /* over the squares */

        rc = mark__imgwm_plan_delta2(ctx, v->plan, v->luma, d2);
        if (rc < 0)
            return AVERROR_EXTERNAL;
        /* each cell's change rounded once, then added to its 2 x 2
         * pixels in integers (loops the compiler vectorises) */
        if (v->qd == NULL) {
            v->qd = av_malloc(sizeof *v->qd * (w2 + 1));
            if (v->qd == NULL)
                return AVERROR(ENOMEM);
        }
        for (y = 0; y < h; y++) {
            uint8_t *restrict row = f->data[0] + (size_t)y * f->linesize[0];
            int16_t *restrict qd = v->qd;

            if (y % 2 == 0) {
                const float *dr = d2 + (size_t)(y / 2) * w2;

                for (x = 0; x < w2; x++) {
                    float d = dr[x] < -255.0f ? -255.0f
                            : dr[x] > 255.0f ? 255.0f : dr[x];

                    qd[x] = (int16_t)lrintf(d);
                }
            }
            for (x = 0; x + 1 < w; x += 2) {
                int a = row[x] + qd[x / 2], b = row[x + 1] + qd[x / 2];

                row[x] = (uint8_t)(a < 0 ? 0 : a > 255 ? 255 : a);
                row[x + 1] = (uint8_t)(b < 0 ? 0 : b > 255 ? 255 : b);
            }
            if (x < w) {
                int a = row[x] + qd[x / 2];

                row[x] = (uint8_t)(a < 0 ? 0 : a > 255 ? 255 : a);
            }
        }
        return 0;
    }
    rc = mark__imgwm_plan_delta(ctx, v->plan, v->luma, v->luma);
    if (rc < 0)
        return AVERROR_EXTERNAL;
    for (y = 0; y < h; y++) {
        uint8_t *row = f->data[0] + (size_t)y * f->linesize[0];
        const float *d = v->luma + (size_t)y * w;

        for (x = 0; x < w; x++) {
            int q = (int)lrintf((float)row[x] + d[x]);

            row[x] = (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
        }
    }
    return 0;
}

static int video_frame(txctx *t, AVFrame *fr)
{
    vtx *v = &t->v;
    AVFrame *use = fr;
    int64_t pts = fr->best_effort_timestamp;
    int e;

    if (fr->format != v->enc->pix_fmt || fr->width != v->enc->width ||
        fr->height != v->enc->height) {
        if (v->yuv == NULL) {
            v->yuv = av_frame_alloc();
            if (v->yuv == NULL)
                return AVERROR(ENOMEM);
            v->yuv->format = v->enc->pix_fmt;
            v->yuv->width = v->enc->width;
            v->yuv->height = v->enc->height;
            e = av_frame_get_buffer(v->yuv, 0);
            if (e < 0)
                return e;
        }
        v->conv = sws_getCachedContext(v->conv, fr->width, fr->height,
                                       fr->format, v->enc->width,
                                       v->enc->height, v->enc->pix_fmt,
                                       SWS_BICUBIC, NULL, NULL, NULL);
        if (v->conv == NULL)
            return AVERROR(EINVAL);
        e = av_frame_make_writable(v->yuv);
        if (e < 0)
            return e;
        sws_scale(v->conv, (const uint8_t *const *)fr->data, fr->linesize,
                  0, fr->height, v->yuv->data, v->yuv->linesize);
        av_frame_copy_props(v->yuv, fr);
        use = v->yuv;
    } else if ((v->vis != NULL || v->wm) && !av_frame_is_writable(fr)) {
        e = av_frame_make_writable(fr);
        if (e < 0)
            return e;
    }
    if (pts == AV_NOPTS_VALUE)
        pts = fr->pts;
    if (v->first == AV_NOPTS_VALUE && pts != AV_NOPTS_VALUE)
        v->first = pts;
    use->pts = pts;
    use->pict_type = AV_PICTURE_TYPE_NONE;
    if (v->wm) {
        e = wm_frame(t, use);
        if (e < 0)
            return e;
    }
    if (v->vis != NULL && (pts == AV_NOPTS_VALUE || pts - v->first <
                                                       v->until ||
                           pts >= v->end_from)) {
        e = draw_label(t, use);
        if (e < 0)
            return e;
    }
    return enc_write(t, v->enc, v->idx, use);
}

/* Watermarked samples out of the embedder: to the encoder's format, into
 * the FIFO, and whole encoder frames out of it. */
static int audio_out(void *u, const float *y, size_t frames)
{
    txctx *t = u;
    atx *a = &t->a;
    AVCodecContext *e = a->enc;
    uint8_t *conv[AV_NUM_DATA_POINTERS] = { 0 };
    const uint8_t *in[1] = { (const uint8_t *)y };
    int n, r, fs = e->frame_size > 0 ? e->frame_size : 1024;

    r = av_samples_alloc(conv, NULL, e->ch_layout.nb_channels,
                         (int)frames + 64, e->sample_fmt, 0);
    if (r < 0)
        return MARK_ENOMEM;
    n = swr_convert(a->out, conv, (int)frames + 64, in, (int)frames);
    if (n > 0 && av_audio_fifo_write(a->fifo, (void **)conv, n) < n)
        n = -1;
    av_freep(&conv[0]);
    if (n < 0)
        return MARK_ENOMEM;
    while (av_audio_fifo_size(a->fifo) >= fs) {
        AVFrame *f = t->fr;

        av_frame_unref(f);
        f->nb_samples = fs;
        f->format = e->sample_fmt;
        f->sample_rate = e->sample_rate;
        if (av_channel_layout_copy(&f->ch_layout, &e->ch_layout) < 0 ||
            av_frame_get_buffer(f, 0) < 0)
            return MARK_ENOMEM;
        av_audio_fifo_read(a->fifo, (void **)f->data, fs);
        f->pts = a->next;
        a->next += fs;
        r = enc_write(t, e, a->idx, f);
        av_frame_unref(f);
        if (r < 0)
            return MARK_EIO;
    }
    return 0;
}

static int audio_frame(txctx *t, AVFrame *fr)
{
    atx *a = &t->a;
    int n;

    /* a damaged stream can change the decoder's layout midway: such a
     * frame is left out, as a damaged packet is (the chain and the
     * watermark are built for the first) */
    if (fr->ch_layout.nb_channels != a->ch || fr->sample_rate != a->rate ||
        fr->format != a->fmt)
        return 0;
    if (!a->started) {
        int64_t p = fr->best_effort_timestamp;

        a->next = p == AV_NOPTS_VALUE ? 0
                : av_rescale_q(p, a->dec->pkt_timebase, a->enc->time_base);
        a->started = 1;
    }
    if (fr->nb_samples + 64 > a->cap) {
        int cap = fr->nb_samples + 64;
        float *f = av_realloc(a->f, (size_t)cap * (size_t)a->ch * sizeof *f);

        if (f == NULL)
            return AVERROR(ENOMEM);
        a->f = f;
        a->cap = cap;
    }
    n = swr_convert(a->in, (uint8_t **)&a->f, a->cap,
                    (const uint8_t **)(void *)fr->extended_data,
                    fr->nb_samples);
    if (n < 0)
        return n;
    mark__samples_clean(a->f, (size_t)n * (size_t)a->ch);
    if (n > 0 && mark__audwm_pump(a->wm, a->f, (size_t)n, a->w, 8192,
                                  audio_out, t) < 0)
        return AVERROR(EIO);
    return 0;
}

/* Everything still inside the audio chain, at the end. */
static int audio_flush(txctx *t)
{
    atx *a = &t->a;
    AVCodecContext *e = a->enc;
    int left, r;

    if (mark__audwm_pump(a->wm, NULL, 0, a->w, 8192, audio_out, t) < 0)
        return AVERROR(EIO);
    left = av_audio_fifo_size(a->fifo);
    if (left > 0) {
        AVFrame *f = t->fr;
        int fs = e->frame_size > 0 &&
                 !(e->codec->capabilities &
                   (AV_CODEC_CAP_SMALL_LAST_FRAME |
                    AV_CODEC_CAP_VARIABLE_FRAME_SIZE))
                 ? e->frame_size : left;

        av_frame_unref(f);
        f->nb_samples = fs;
        f->format = e->sample_fmt;
        f->sample_rate = e->sample_rate;
        if (av_channel_layout_copy(&f->ch_layout, &e->ch_layout) < 0 ||
            av_frame_get_buffer(f, 0) < 0)
            return AVERROR(ENOMEM);
        av_samples_set_silence(f->data, 0, fs, e->ch_layout.nb_channels,
                               e->sample_fmt);
        av_audio_fifo_read(a->fifo, (void **)f->data, left);
        f->pts = a->next;
        a->next += fs;
        r = enc_write(t, e, a->idx, f);
        av_frame_unref(f);
        if (r < 0)
            return r;
    }
    return enc_write(t, e, a->idx, NULL);
}

/* Decode what pkt brings (NULL: the end) for a re-encoded stream. */
static int tx_packet(txctx *t, AVCodecContext *dec, int video,
                     const AVPacket *pkt)
{
    int e = avcodec_send_packet(dec, pkt);

    if (e == AVERROR_INVALIDDATA)
        return 0;                        /* a damaged packet: go on */
    while (e >= 0) {
        e = avcodec_receive_frame(dec, t->fr);
        if (e == AVERROR(EAGAIN) || e == AVERROR_EOF)
            return 0;
        if (e < 0)
            return e;
        if (video)
            t->v.frames++;
        e = video ? video_frame(t, t->fr) : audio_frame(t, t->fr);
        av_frame_unref(t->fr);
    }
    return e;
}

static void tx_free(txctx *t)
{
    avcodec_free_context(&t->v.dec);
    avcodec_free_context(&t->v.enc);
    sws_freeContext(t->v.conv);
    sws_freeContext(t->v.to_rgb);
    sws_freeContext(t->v.from_rgb);
    av_frame_free(&t->v.yuv);
    av_free(t->v.rgb);
    av_free(t->v.drgb);
    av_free(t->v.luma);
    av_free(t->v.qd);
    mark__imgwm_plan_free(t->m->ctx, t->v.plan);
    avcodec_free_context(&t->a.dec);
    avcodec_free_context(&t->a.enc);
    swr_free(&t->a.in);
    swr_free(&t->a.out);
    mark__audwm_free(t->a.wm);
    if (t->a.fifo != NULL)
        av_audio_fifo_free(t->a.fifo);
    av_free(t->a.f);
    av_free(t->a.w);
    av_frame_free(&t->fr);
}

/* Set up the re-encoding of the video (visible label) and of the
 * soundtrack (watermark) of ic into t->oc, whose streams are copies. */
static int tx_setup(txctx *t, AVFormatContext *ic, mark__pixel_ops *ops,
                    int webm)
{
    mark_media *m = t->m;
    video_priv *vp = m->priv;
    int e = 0;

    t->v.idx = t->a.idx = -1;
    t->v.first = AV_NOPTS_VALUE;
    t->fr = av_frame_alloc();
    if (t->fr == NULL)
        return AVERROR(ENOMEM);
    t->ops = ops;
    if ((m->visible != NULL || ops->watermark) && vp->video >= 0) {
        const AVStream *st = ic->streams[vp->video];
        const AVCodecParameters *cp = st->codecpar;

        t->v.vis = m->visible;
        t->v.rot = vp->rot;
        t->v.wm = ops->watermark && cp->width >= MARK__IMGWM_MIN_SIDE &&
                  cp->height >= MARK__IMGWM_MIN_SIDE;
        t->v.until = m->video.label_seconds < 0 ? INT64_MAX
                   : av_rescale_q((int64_t)((m->video.label_seconds > 0
                                             ? m->video.label_seconds
                                             : LABEL_SECONDS) * 1000),
                                  (AVRational){ 1, 1000 }, st->time_base);
        /* nothing to do to the frames: the stream is copied */
        if (t->v.vis != NULL || t->v.wm) {
            t->v.idx = vp->video;
            e = open_dec(st, &t->v.dec);
            if (e >= 0)
                e = open_venc(t, st, webm);
            if (e < 0)
                return e;
        }
    }
    if (ops->watermark && vp->audio >= 0 &&
        m->info.duration >= MARK__AUDWM_MIN_SECONDS) {
        AVStream *st = ic->streams[vp->audio];
        atx *a = &t->a;

        a->idx = vp->audio;
        e = open_dec(st, &a->dec);
        if (e >= 0)
            e = open_aenc(t, st, webm);
        if (e < 0)
            return e;
        a->ch = a->dec->ch_layout.nb_channels;
        a->rate = a->dec->sample_rate;
        a->fmt = (int)a->dec->sample_fmt;
        e = swr_alloc_set_opts2(&a->in, &a->dec->ch_layout, AV_SAMPLE_FMT_FLT,
                                a->dec->sample_rate, &a->dec->ch_layout,
                                a->dec->sample_fmt, a->dec->sample_rate, 0,
                                NULL);
        if (e >= 0)
            e = swr_init(a->in);
        if (e >= 0)
            e = swr_alloc_set_opts2(&a->out, &a->enc->ch_layout,
                                    a->enc->sample_fmt, a->enc->sample_rate,
                                    &a->dec->ch_layout, AV_SAMPLE_FMT_FLT,
                                    a->dec->sample_rate, 0, NULL);
        if (e >= 0)
            e = swr_init(a->out);
        if (e < 0)
            return e;
        a->fifo = av_audio_fifo_alloc(a->enc->sample_fmt,
                                      a->enc->ch_layout.nb_channels, 4096);
        a->w = av_malloc(8192 * sizeof *a->w *
                         (size_t)a->dec->ch_layout.nb_channels);
        if (a->fifo == NULL || a->w == NULL)
            return AVERROR(ENOMEM);
        if (mark__audwm_new(m->ctx, ops->key, &ops->payload,
                            (uint32_t)a->dec->sample_rate,
                            a->dec->ch_layout.nb_channels, ops->strength,
                            &a->wm) < 0)
            return AVERROR_EXTERNAL;
    }
    if (ops->watermark && !t->v.wm && t->a.wm == NULL)
        ops->wm_skipped = 1;             /* frames too small, no sound */
    return 0;
}

/* The video stream's first pts and its end (the last frame's pts plus
 * its duration), in its time base, for a label on the closing frames:
 * a pass over the packets of a file; a pipe's header must say how long
 * it is. */
static int video_span(mark_media *m, int64_t *first, int64_t *end)
{
    video_priv *v = m->priv;
    AVFormatContext *ic = NULL;
    AVPacket *pkt;
    const AVStream *st;
    int rc, e;

    *first = INT64_MAX;
    *end = INT64_MIN;
    if (!m->src->seekable) {
        ic = v->ic;
        st = ic != NULL ? ic->streams[v->video] : NULL;
        if (st != NULL && st->duration > 0 &&
            st->start_time != AV_NOPTS_VALUE) {
            *first = st->start_time;
            *end = st->start_time + st->duration;
            return MARK_OK;
        }
        if (st != NULL && ic->duration > 0 &&
            ic->duration_estimation_method != AVFMT_DURATION_FROM_BITRATE) {
            int64_t s0 = ic->start_time != AV_NOPTS_VALUE ? ic->start_time
                                                          : 0;

            *first = st->start_time != AV_NOPTS_VALUE
                     ? st->start_time
                     : av_rescale_q(s0, AV_TIME_BASE_Q, st->time_base);
            *end = av_rescale_q(s0 + ic->duration, AV_TIME_BASE_Q,
                                st->time_base);
            return MARK_OK;
        }
        return mark__err(m->ctx, MARK_EUNSEEKABLE, "the label on the "
                         "closing frames needs the video's length, which "
                         "this pipe does not give: give a file");
    }
    rc = demux_open(m, &ic);
    if (rc < 0)
        return rc;
    pkt = av_packet_alloc();
    if (pkt == NULL) {
        demux_close(&ic);
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    }
    while ((e = av_read_frame(ic, pkt)) >= 0) {
        if (pkt->stream_index == v->video && pkt->pts != AV_NOPTS_VALUE) {
            if (pkt->pts < *first)
                *first = pkt->pts;
            if (pkt->pts + pkt->duration > *end)
                *end = pkt->pts + pkt->duration;
        }
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    demux_close(&ic);
    if (e != AVERROR_EOF)
        return averr(m->ctx, MARK_EFORMAT, "video not readable", e);
    if (*end <= *first)
        return mark__err(m->ctx, MARK_EFORMAT, "the video has no frames "
                         "with a time");
    return MARK_OK;
}

/* Tell the ctx's progress function how far pkt is into the input, at
 * most ten times a second. */
static void progress(mark_media *m, const AVFormatContext *ic,
                     const AVPacket *pkt, double *last)
{
    struct timespec ts;
    double now, t;

    if (m->ctx->progress == NULL || m->info.duration <= 0 ||
        pkt->pts == AV_NOPTS_VALUE)
        return;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    if (now - *last < 0.1)
        return;
    *last = now;
    t = (double)pkt->pts * av_q2d(ic->streams[pkt->stream_index]->time_base) /
        m->info.duration;
    m->ctx->progress(m->ctx->progress_user, t < 0 ? 0 : t > 1 ? 1 : t);
}

static int video_stream(mark_media *m, mark__pixel_ops *ops, mark__sink *k)
{
    video_priv *v = m->priv;
    AVFormatContext *ic = NULL, *oc = NULL;
    AVIOContext *pb = NULL;
    AVDictionary *opts = NULL;
    AVPacket *pkt = NULL;
    const char *muxer;
    char *json = NULL, *rec = NULL;
    size_t json_len = 0;
    unsigned char *b = NULL;
    unsigned i;
    int rc, e = 0, mp4 = m->info.format == MARK_FORMAT_MP4;
    int64_t vfirst = 0, vend = 0;
    int label_end = m->visible != NULL && m->video.label_end &&
                    m->video.label_seconds >= 0 && v->video >= 0;
    double last = 0;
    int64_t frames = 0;                 /* video packets read */
    txctx t;

    memset(&t, 0, sizeof t);
    t.v.idx = t.a.idx = -1;
    if (ops->audible)
        return mark__err(m->ctx, MARK_EUNSUPPORTED, "video: no audible "
                         "label (the visible one is drawn)");

    if (!k->seekable && mp4)
        return mark__err(m->ctx, MARK_EUNSEEKABLE, "MP4 output needs a "
                         "file, not a pipe");
    if (label_end) {
        rc = video_span(m, &vfirst, &vend);
        if (rc < 0)
            return rc;
    }
    rc = demux_open(m, &ic);
    if (rc < 0)
        return rc;
    muxer = mp4 ? (v->is_mov ? "mov" : "mp4")
                : (v->is_webm ? "webm" : "matroska");
    e = avformat_alloc_output_context2(&oc, NULL, muxer, NULL);
    if (e < 0)
        goto done;
    for (i = 0; i < ic->nb_streams && e >= 0; i++)
        e = copy_stream(oc, ic->streams[i], mp4);
    if (e >= 0)
        e = copy_chapters(oc, ic);
    if (e >= 0)
        e = av_dict_copy(&oc->metadata, ic->metadata, 0);
    if (e < 0)
        goto done;
    /* every label of the input goes; ftyp is the muxer's own */
    while (av_dict_get(oc->metadata, "AIGC", NULL, 0) != NULL)
        av_dict_set(&oc->metadata, "AIGC", NULL, 0);
    av_dict_set(&oc->metadata, "major_brand", NULL, 0);
    av_dict_set(&oc->metadata, "minor_version", NULL, 0);
    av_dict_set(&oc->metadata, "compatible_brands", NULL, 0);
    if (m->staged != NULL) {
        rc = mark_label_to_json(m->staged, MARK_FORM_BARE, &json, &json_len);
        if (rc < 0)
            goto done;
        e = av_dict_set(&oc->metadata, "AIGC", json, 0);
        if (e < 0)
            goto done;
    }
    t.m = m;
    t.oc = oc;
    t.pkt = av_packet_alloc();
    if (t.pkt == NULL) {
        e = AVERROR(ENOMEM);
        goto done;
    }
    if (m->visible != NULL || ops->watermark) {
        e = tx_setup(&t, ic, ops, v->is_webm);
        if (e < 0)
            goto done;
    }
    t.v.end_from = INT64_MAX;
    if (t.v.vis != NULL) {
        /* the record of the label, as displayed, with its time spans */
        const AVStream *st = ic->streams[v->video];
        double tb = av_q2d(st->time_base), sp[4];
        double secs = m->video.label_seconds > 0 ? m->video.label_seconds
                                                 : LABEL_SECONDS;
        int dw, dh;

        sp[0] = 0;
        sp[1] = m->video.label_seconds < 0 ? -1 : secs;
        if (label_end) {
            t.v.end_from = vend - (int64_t)(secs / tb + 0.5);
            sp[2] = (double)(t.v.end_from - vfirst) * tb;
            sp[3] = (double)(vend - vfirst) * tb;
            if (sp[2] < 0)
                sp[2] = 0;
        }
        displayed(v->rot, st->codecpar->width, st->codecpar->height, &dw,
                  &dh);
        rc = mark__visible_record_spans(t.v.vis, (uint32_t)dw, (uint32_t)dh,
                                        sp, label_end ? 2 : 1, &rec);
        if (rc < 0)
            goto done;
        e = av_dict_set(&oc->metadata, RECORD_KEY, rec, 0);
        if (e < 0)
            goto done;
        json_len += strlen(rec);
    }
    if (mp4) {
        av_dict_set(&opts, "movflags", "+use_metadata_tags", 0);
        /* moov first stays first: the muxer's faststart reads its output
         * back by name, which a callback output has not, so room is kept
         * for it at the start instead (the same sample tables, plus the
         * label; what is left becomes a free box) */
        if (v->moov_first == 1)
            av_dict_set_int(&opts, "moov_size", (int64_t)(v->moov_size +
                                                          v->moov_size / 8 +
                                                          json_len + 65536),
                            0);
    }
    b = av_malloc(IO_BUF);
    pb = b ? avio_alloc_context(b, IO_BUF, 1, k, NULL, sink_write,
                                k->seekable ? sink_seek : NULL)
           : NULL;
    if (pb == NULL) {
        av_free(b);
        e = AVERROR(ENOMEM);
        goto done;
    }
    pb->seekable = k->seekable ? AVIO_SEEKABLE_NORMAL : 0;
    oc->pb = pb;
    oc->flags |= AVFMT_FLAG_CUSTOM_IO;
    e = avformat_write_header(oc, &opts);
    if (e < 0)
        goto done;
    pkt = av_packet_alloc();
    if (pkt == NULL) {
        e = AVERROR(ENOMEM);
        goto done;
    }
    for (;;) {
        e = av_read_frame(ic, pkt);
        if (e == AVERROR_EOF) {
            e = 0;
            break;
        }
        if (e < 0)
            break;
        if (pkt->stream_index >= (int)oc->nb_streams) {
            av_packet_unref(pkt);
            continue;                    /* a stream found late */
        }
        progress(m, ic, pkt, &last);
        /* a header may understate the frames: counted as they come */
        if (pkt->stream_index == v->video &&
            ++frames > m->ctx->limits[MARK_LIMIT_FRAMES]) {
            rc = mark__err(m->ctx, MARK_ELIMIT, "video has more than %lld "
                           "frames (the limit)",
                           (long long)m->ctx->limits[MARK_LIMIT_FRAMES]);
            e = AVERROR(EINVAL);
            av_packet_unref(pkt);
            break;
        }
        if (pkt->stream_index == t.v.idx) {
            e = tx_packet(&t, t.v.dec, 1, pkt);
            av_packet_unref(pkt);
        } else if (pkt->stream_index == t.a.idx) {
            e = tx_packet(&t, t.a.dec, 0, pkt);
            av_packet_unref(pkt);
        } else {
            av_packet_rescale_ts(pkt,
                                 ic->streams[pkt->stream_index]->time_base,
                                 oc->streams[pkt->stream_index]->time_base);
            pkt->pos = -1;
            e = av_interleaved_write_frame(oc, pkt);
        }
        if (e < 0)
            break;
    }
    /* what the decoders and encoders still hold */
    if (e >= 0 && t.v.dec != NULL) {
        e = tx_packet(&t, t.v.dec, 1, NULL);
        if (e >= 0)
            e = enc_write(&t, t.v.enc, t.v.idx, NULL);
        /* every packet damaged: the muxer would leave a file with a
         * video track and nothing in it, which nothing can read */
        if (e >= 0 && t.v.frames == 0) {
            rc = mark__err(m->ctx, MARK_EFORMAT, "no frame of the video "
                           "could be decoded");
            e = AVERROR_INVALIDDATA;
        }
    }
    if (e >= 0 && t.a.dec != NULL) {
        e = tx_packet(&t, t.a.dec, 0, NULL);
        if (e >= 0)
            e = audio_flush(&t);
    }
    if (e >= 0)
        e = av_write_trailer(oc);
    if (e >= 0)
        avio_flush(pb);
    if (e >= 0 && m->ctx->progress != NULL)
        m->ctx->progress(m->ctx->progress_user, 1.0);
done:
    if (e < 0 && rc == MARK_OK)
        rc = e == AVERROR_ENCODER_NOT_FOUND && m->ctx->errmsg[0]
                 ? MARK_EUNSUPPORTED     /* said which */
             : m->ctx->errmsg[0] && e == AVERROR(EIO)
                 ? MARK_EIO
                 : averr(m->ctx, MARK_EFORMAT, t.v.enc != NULL || t.a.enc
                                                   ? "cannot mark the video"
                                                   : "cannot remux the video",
                         e);
    av_dict_free(&opts);
    av_packet_free(&pkt);
    av_packet_free(&t.pkt);
    tx_free(&t);
    if (oc != NULL) {
        avformat_free_context(oc);
    }
    if (pb != NULL) {
        av_freep(&pb->buffer);
        avio_context_free(&pb);
    }
    demux_close(&ic);
    mark_free(m->ctx, json);
    mark__free(m->ctx, rec);
    return rc;
}

/* ------------------------------------------------------------------ */
/* The soundtrack's samples. */

/* Read the next packet and hand it to dc if it is of stream si; at the
 * end of the input flush dc and set *eof.  A damaged packet is passed
 * over (0); otherwise what libav returned. */
static int feed_next(AVFormatContext *ic, AVPacket *pkt, AVCodecContext *dc,
                     int si, int *eof)
{
    int e = av_read_frame(ic, pkt);

    if (e == AVERROR_EOF) {
        *eof = 1;
        return avcodec_send_packet(dc, NULL);
    }
    if (e < 0)
        return e;
    if (pkt->stream_index == si)
        e = avcodec_send_packet(dc, pkt);
    av_packet_unref(pkt);
    return e == AVERROR_INVALIDDATA ? 0 : e;
}

static int video_pcm(const mark_media *cm,
                     int (*take)(void *u, const float *x, size_t frames),
                     void *u)
{
    mark_media *m = (mark_media *)(uintptr_t)cm;  /* the source moves */
    video_priv *v = m->priv;
    AVFormatContext *ic = NULL;
    AVCodecContext *dc = NULL;
    SwrContext *swr = NULL;
    AVPacket *pkt = NULL;
    AVFrame *fr = NULL;
    AVStream *st;
    float *buf = NULL;
    int cap = 0, rc = MARK_OK, e = 0, done = 0, ch = 0, rate = 0, fmt = 0;

    if (v == NULL || v->audio < 0)
        return mark__err(m->ctx, MARK_EUNSUPPORTED, "no soundtrack");
    rc = demux_open(m, &ic);
    if (rc < 0)
        return rc;
    st = ic->streams[v->audio];
    e = open_dec(st, &dc);
    if (e == AVERROR_DECODER_NOT_FOUND) {
        rc = mark__err(m->ctx, MARK_EUNSUPPORTED, "no decoder for %s",
                       avcodec_get_name(st->codecpar->codec_id));
        goto out;
    }
    pkt = av_packet_alloc();
    fr = av_frame_alloc();
    if (pkt == NULL || fr == NULL) {
        rc = mark__err(m->ctx, MARK_ENOMEM, "out of memory");
        goto out;
    }
    if (e >= 0)
        e = swr_alloc_set_opts2(&swr, &dc->ch_layout, AV_SAMPLE_FMT_FLT,
                                dc->sample_rate, &dc->ch_layout,
                                dc->sample_fmt, dc->sample_rate, 0, NULL);
    if (e >= 0)
        e = swr_init(swr);
    /* the consumer takes the channels and rate the header gave (info),
     * the converter the decoder's: they must agree, and a frame that
     * comes out otherwise (a damaged stream can change the decoder's
     * channels midway) is left out, as a damaged packet is */
    ch = (int)m->info.channels;
    rate = (int)m->info.sample_rate;
    fmt = dc != NULL ? (int)dc->sample_fmt : 0;
    if (e >= 0 && (dc->ch_layout.nb_channels != ch ||
                   dc->sample_rate != rate)) {
        rc = mark__err(m->ctx, MARK_EFORMAT, "soundtrack: the decoder gives "
                       "%d channels at %d Hz, the header says %d at %d",
                       dc->ch_layout.nb_channels, dc->sample_rate, ch, rate);
        goto out;
    }
    while (e >= 0 && !done) {
        e = feed_next(ic, pkt, dc, v->audio, &done);
        while (e >= 0) {
            int n;

            e = avcodec_receive_frame(dc, fr);
            if (e == AVERROR(EAGAIN) || e == AVERROR_EOF) {
                e = 0;
                break;
            }
            if (e < 0)
                break;
            if (fr->ch_layout.nb_channels != ch || fr->sample_rate != rate ||
                fr->format != fmt) {
                av_frame_unref(fr);
                continue;
            }
            if (fr->nb_samples > cap) {
                float *nb = mark__realloc(m->ctx, buf,
                                          (size_t)fr->nb_samples *
                                              (size_t)ch * sizeof *buf);

                if (nb == NULL) {
                    rc = mark__err(m->ctx, MARK_ENOMEM, "out of memory");
                    goto out;
                }
                buf = nb;
                cap = fr->nb_samples;
            }
            n = swr_convert(swr, (uint8_t **)&buf, cap,
                            (const uint8_t **)(void *)fr->extended_data,
                            fr->nb_samples);
            av_frame_unref(fr);
            if (n < 0) {
                e = n;
                break;
            }
            if (n > 0) {
                int t;

                mark__samples_clean(buf, (size_t)n * (size_t)ch);
                t = take(u, buf, (size_t)n);

                if (t != 0) {
                    rc = t < 0 ? t : MARK_OK;
                    goto out;
                }
            }
        }
    }
    if (e < 0)
        rc = averr(m->ctx, MARK_EFORMAT, "soundtrack not decodable", e);
out:
    mark__free(m->ctx, buf);
    swr_free(&swr);
    av_frame_free(&fr);
    av_packet_free(&pkt);
    avcodec_free_context(&dc);
    demux_close(&ic);
    return rc;
}

/* The label on the opening frames, for videos this toolkit labelled:
 * the frames shown at CHECK_AT seconds from the first are decoded (from
 * the start: only the first 2 s are read) and each correlated with the
 * record's signature, as displayed; the label is found when it is in
 * every one, and the score is the lowest. */

#define CHECK_SECONDS 2.0                /* the rule's opening 2 s */
#define CHECK_PACKETS 20000              /* read at most, any stream */

static const double check_at[] = { 0, 0.5, 1.0, 1.5, 1.95 };
#define N_CHECK ((int)(sizeof check_at / sizeof check_at[0]))

/* The record's correlation with frame fr, turned upright by rot. */
static int frame_score(mark_media *m, const mark__vrecord *r, AVFrame *fr,
                       int rot, struct SwsContext **gray, uint8_t **g,
                       double *score, double box[4])
{
    int w = fr->width, h = fr->height, dw, dh, x, y, cx, cy, ls;
    uint32_t bx, by, bw, bh;
    const uint8_t *Y;
    mark__image img;

    displayed(rot, w, h, &dw, &dh);
    if (mark__vrecord_box(r, (uint32_t)dw, (uint32_t)dh, box) < 0)
        return 1;                        /* does not fit */
    if (fr->format == AV_PIX_FMT_YUV420P ||
        fr->format == AV_PIX_FMT_YUVJ420P ||
        fr->format == AV_PIX_FMT_YUV422P ||
        fr->format == AV_PIX_FMT_YUV444P || fr->format == AV_PIX_FMT_NV12 ||
        fr->format == AV_PIX_FMT_GRAY8) {
        Y = fr->data[0];
        ls = fr->linesize[0];
    } else {
        if (*g == NULL)
            *g = av_malloc((size_t)w * (size_t)h);
        *gray = sws_getCachedContext(*gray, w, h, fr->format, w, h,
                                     AV_PIX_FMT_GRAY8, SWS_POINT, NULL, NULL,
                                     NULL);
        if (*g == NULL || *gray == NULL)
            return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
        ls = w;
        sws_scale(*gray, (const uint8_t *const *)fr->data, fr->linesize, 0,
                  h, g, &ls);
        Y = *g;
    }
    /* the box and a pixel around it, upright */
    bx = (uint32_t)box[0];
    by = (uint32_t)box[1];
    bw = (uint32_t)(box[2] + 0.5) + 2;
    bh = (uint32_t)(box[3] + 0.5) + 2;
    if (bx + bw > (uint32_t)dw)
        bw = (uint32_t)dw - bx;
    if (by + bh > (uint32_t)dh)
        bh = (uint32_t)dh - by;
    memset(&img, 0, sizeof img);
    img.width = bw;
    img.height = bh;
    img.stride = bw;
    img.channels = 1;
    img.depth = 8;
    img.data = mark__malloc(m->ctx, (size_t)bw * bh);
    if (img.data == NULL)
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    for (y = 0; y < (int)bh; y++)
        for (x = 0; x < (int)bw; x++) {
            to_coded(rot, w, h, (int)bx + x, (int)by + y, &cx, &cy);
            img.data[(size_t)y * bw + (size_t)x] =
                Y[(size_t)cy * (size_t)ls + (size_t)cx];
        }
    *score = mark__vrecord_score(r, box, &img, bx, by);
    mark__free(m->ctx, img.data);
    return 0;
}

static int video_explicit(const mark_media *cm, mark__explicit *res,
                          double edge)
{
    mark_media *m = (mark_media *)(uintptr_t)cm;  /* the source moves */
    video_priv *v = m->priv;
    AVFormatContext *ic = NULL;
    AVCodecContext *dc = NULL;
    struct SwsContext *gray = NULL;
    AVPacket *pkt = NULL;
    AVFrame *fr = NULL, *prev = NULL;
    mark__vrecord *r = NULL;
    uint8_t *g = NULL;
    double tb, prev_ts = 0, box[4], sc, min = 2;
    double prev_score = 0;
    int64_t first = AV_NOPTS_VALUE;
    int rc = MARK_OK, e = 0, k = 0, n = 0, missing = 0, eof = 0, packets;
    int prev_scored = 0, misfit = 0, dw = 0, dh = 0;
    char miss[64] = "";

    (void)edge;
    memset(res, 0, sizeof *res);
    if (m->visible_record == NULL) {
        snprintf(res->note, sizeof res->note, "no record of a label drawn "
                 "by this toolkit (a general detector comes later)");
        return MARK_OK;
    }
    r = mark__malloc(m->ctx, sizeof *r);
    if (r == NULL)
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    if (mark__vrecord_parse(m->visible_record, r) < 0) {
        snprintf(res->note, sizeof res->note, "the label record in the "
                 "metadata is damaged");
        goto out;
    }
    snprintf(res->text, sizeof res->text, "%s", r->text);
    snprintf(res->position, sizeof res->position, "%s", r->position);
    if (v == NULL || v->video < 0) {
        snprintf(res->note, sizeof res->note, "a label record, but no "
                 "video stream");
        goto out;
    }
    if (!m->src->seekable) {
        snprintf(res->note, sizeof res->note, "the frames of a video from "
                 "a pipe are not checked: give a file");
        goto out;
    }
    rc = demux_open(m, &ic);
    if (rc < 0)
        goto out;
    tb = av_q2d(ic->streams[v->video]->time_base);
    e = open_dec(ic->streams[v->video], &dc);
    pkt = av_packet_alloc();
    fr = av_frame_alloc();
    prev = av_frame_alloc();
    if (pkt == NULL || fr == NULL || prev == NULL) {
        rc = mark__err(m->ctx, MARK_ENOMEM, "out of memory");
        goto out;
    }
    for (packets = 0; e >= 0 && k < N_CHECK && !eof; packets++) {
        if (packets >= CHECK_PACKETS) {
            e = AVERROR_EOF;
            break;
        }
        e = feed_next(ic, pkt, dc, v->video, &eof);
        while (e >= 0 && k < N_CHECK) {
            double ts;

            e = avcodec_receive_frame(dc, fr);
            if (e == AVERROR(EAGAIN) || e == AVERROR_EOF) {
                e = 0;
                break;
            }
            if (e < 0)
                break;
            if (fr->best_effort_timestamp == AV_NOPTS_VALUE) {
                av_frame_unref(fr);
                continue;
            }
            if (first == AV_NOPTS_VALUE)
                first = fr->best_effort_timestamp;
            ts = (double)(fr->best_effort_timestamp - first) * tb;
            /* the frame before was on screen until this one */
            while (k < N_CHECK && prev->buf[0] != NULL && ts > check_at[k]) {
                if (!prev_scored) {
                    rc = frame_score(m, r, prev, v->rot, &gray, &g,
                                     &prev_score, box);
                    if (rc < 0)
                        goto out;
                    misfit |= rc;
                    prev_scored = 1;
                    n++;
                    if (!misfit && !mark__vrecord_found(prev_score) &&
                        missing++ == 0)
                        snprintf(miss, sizeof miss, " (first at %.2f s)",
                                 check_at[k]);
                    if (prev_score < min)
                        min = prev_score;
                }
                k++;
            }
            av_frame_unref(prev);
            av_frame_move_ref(prev, fr);
            prev_scored = 0;
            prev_ts = ts;
        }
        if (eof)
            break;
    }
    /* the last frame shows to the end: the targets it covers */
    if (k < N_CHECK && prev->buf[0] != NULL && e >= 0 && !prev_scored) {
        rc = frame_score(m, r, prev, v->rot, &gray, &g, &sc, box);
        if (rc < 0)
            goto out;
        misfit |= rc;
        n++;
        if (!misfit && !mark__vrecord_found(sc) && missing++ == 0)
            snprintf(miss, sizeof miss, " (first at %.2f s)", check_at[k]);
        if (sc < min)
            min = sc;
        while (k < N_CHECK && check_at[k] <= prev_ts + 1e-9)
            k++;
    }
    if (e < 0 && e != AVERROR_EOF) {
        rc = averr(m->ctx, MARK_EFORMAT, "video not decodable", e);
        goto out;
    }
    rc = MARK_OK;
    if (misfit) {
        snprintf(res->note, sizeof res->note, "the label record does not "
                 "fit this video's frames");
        goto out;
    }
    if (n == 0) {
        snprintf(res->note, sizeof res->note, "no frame could be decoded");
        goto out;
    }
    displayed(v->rot, prev->width, prev->height, &dw, &dh);
    res->checked = 1;
    res->score = min;
    res->found = missing == 0;
    res->frames = n;
    res->seconds = prev_ts < CHECK_SECONDS && k < N_CHECK ? prev_ts
                                                          : CHECK_SECONDS;
    res->ink_h = (uint32_t)(box[3] + 0.5);
    res->ratio = (double)res->ink_h / (double)(dw < dh ? dw : dh);
    if (res->found)
        snprintf(res->note, sizeof res->note, "label recorded in the "
                 "metadata found in all %d frames sampled over the first "
                 "%.1f s", n, res->seconds);
    else
        snprintf(res->note, sizeof res->note, "label recorded in the "
                 "metadata missing from %d of %d frames sampled over the "
                 "first %.1f s%s", missing, n, res->seconds, miss);
out:
    mark__free(m->ctx, r);
    av_free(g);
    sws_freeContext(gray);
    av_frame_free(&fr);
    av_frame_free(&prev);
    av_packet_free(&pkt);
    avcodec_free_context(&dc);
    demux_close(&ic);
    return rc;
}

const mark__container mark__container_mp4 = {
    .name = "mp4",
    .format = MARK_FORMAT_MP4,
    .type = MARK_MEDIA_VIDEO,
    .parse = video_parse,
    .uninit = video_uninit,
    .explicit_check = video_explicit,
    .stream = video_stream,
    .pcm = video_pcm,
};

const mark__container mark__container_mkv = {
    .name = "mkv",
    .format = MARK_FORMAT_MKV,
    .type = MARK_MEDIA_VIDEO,
    .parse = video_parse,
    .uninit = video_uninit,
    .explicit_check = video_explicit,
    .stream = video_stream,
    .pcm = video_pcm,
};

/* ------------------------------------------------------------------ */
/* The frame watermark, found by adding frames up: the pattern is the
 * same in every frame, the picture moves, so the mean of the frames of
 * a window holds the pattern with the picture partly averaged away.
 * Windows of WM_WINDOW seconds over the first WM_SECONDS, then the mean
 * of all of them; the first window that decodes is reported. */

#define WM_WINDOW 2.0
#define WM_SECONDS 20.0

static int frames_try(mark_media *m, const mark_key *key, const double *sum,
                      int n, uint32_t w, uint32_t h, float *mean,
                      mark__wm_result *res)
{
    size_t i, np = (size_t)w * h;

    for (i = 0; i < np; i++)
        mean[i] = (float)(sum[i] / n);
    return mark__imgwm_detect(m->ctx, key, mean, w, h, res);
}

int mark__video_frames_detect(mark_media *m, const mark_key *key,
                              mark__wm_result *res)
{
    AVFormatContext *ic = NULL;
    AVCodecContext *dc = NULL;
    struct SwsContext *gray = NULL;
    AVPacket *pkt = NULL;
    AVFrame *fr = NULL;
    double *win = NULL, *all = NULL, t0 = -1, tw = 0, tlast = 0;
    float *mean = NULL;
    uint8_t *g = NULL;
    uint32_t w = 0, h = 0;
    int vi = -1, nw = 0, na = 0, e = 0, rc, eof = 0, windows = 0;

    memset(res, 0, sizeof *res);
    vi = m->priv != NULL ? ((video_priv *)m->priv)->video : -1;
    if (vi < 0)
        return MARK_EUNSUPPORTED;
    rc = demux_open(m, &ic);
    if (rc < 0)
        return rc;
    w = (uint32_t)ic->streams[vi]->codecpar->width;
    h = (uint32_t)ic->streams[vi]->codecpar->height;
    if (w < MARK__IMGWM_MIN_SIDE || h < MARK__IMGWM_MIN_SIDE) {
        rc = MARK_EUNSUPPORTED;
        goto out;
    }
    e = open_dec(ic->streams[vi], &dc);
    pkt = av_packet_alloc();
    fr = av_frame_alloc();
    win = mark__calloc(m->ctx, (size_t)w * h, sizeof *win);
    all = mark__calloc(m->ctx, (size_t)w * h, sizeof *all);
    mean = mark__malloc(m->ctx, (size_t)w * h * sizeof *mean);
    g = mark__malloc(m->ctx, (size_t)w * h);
    if (pkt == NULL || fr == NULL || !win || !all || !mean || !g) {
        rc = mark__err(m->ctx, MARK_ENOMEM, "out of memory");
        goto out;
    }
    while (e >= 0 && !res->found) {
        if (!eof)
            e = feed_next(ic, pkt, dc, vi, &eof);
        while (e >= 0) {
            const uint8_t *y;
            int ls;
            double ts;
            size_t px, r;

            e = avcodec_receive_frame(dc, fr);
            if (e == AVERROR(EAGAIN)) {
                e = 0;
                break;
            }
            if (e < 0)
                break;
            if ((uint32_t)fr->width != w || (uint32_t)fr->height != h) {
                av_frame_unref(fr);
                continue;                /* a size change: not added */
            }
            ts = fr->best_effort_timestamp != AV_NOPTS_VALUE
                 ? fr->best_effort_timestamp *
                       av_q2d(ic->streams[vi]->time_base)
                 : tlast;
            if (t0 < 0)
                t0 = tw = ts;
            tlast = ts;
            if (fr->format == AV_PIX_FMT_YUV420P ||
                fr->format == AV_PIX_FMT_YUVJ420P ||
                fr->format == AV_PIX_FMT_YUV422P ||
                fr->format == AV_PIX_FMT_YUV444P ||
                fr->format == AV_PIX_FMT_NV12 ||
                fr->format == AV_PIX_FMT_GRAY8) {
                y = fr->data[0];
                ls = fr->linesize[0];
            } else {
                int gls = (int)w;

                gray = sws_getCachedContext(gray, (int)w, (int)h, fr->format,
                                            (int)w, (int)h, AV_PIX_FMT_GRAY8,
                                            SWS_POINT, NULL, NULL, NULL);
                if (gray == NULL) {
                    e = AVERROR(EINVAL);
                    break;
                }
                sws_scale(gray, (const uint8_t *const *)fr->data,
                          fr->linesize, 0, (int)h, &g, &gls);
                y = g;
                ls = gls;
            }
            for (r = 0; r < h; r++) {
                const uint8_t *row = y + r * (size_t)ls;
                double *o = win + r * w;

                for (px = 0; px < w; px++)
                    o[px] += row[px];
            }
            nw++;
            av_frame_unref(fr);
            if (ts - tw >= WM_WINDOW) {
                /* a window is full: try it, keep it for the total */
                for (px = 0; px < (size_t)w * h; px++)
                    all[px] += win[px];
                na += nw;
                rc = frames_try(m, key, win, nw, w, h, mean, res);
                if (rc < 0)
                    goto out;
                windows++;
                if (res->found) {
                    res->t_start = tw - t0;
                    res->t_end = ts - t0;
                    break;
                }
                memset(win, 0, (size_t)w * h * sizeof *win);
                nw = 0;
                tw = ts;
                if (ts - t0 >= WM_SECONDS) {
                    e = AVERROR_EOF;
                    break;
                }
            }
        }
        if (eof && e == AVERROR_EOF)
            break;
    }
    if (e < 0 && e != AVERROR_EOF) {
        rc = averr(m->ctx, MARK_EFORMAT, "video not decodable", e);
        goto out;
    }
    if (!res->found && (nw > 0 || na > 0)) {
        size_t px;
        int cand = res->candidates;

        /* the last, short window with the rest: everything read */
        for (px = 0; px < (size_t)w * h; px++)
            all[px] += win[px];
        na += nw;
        if (windows == 0 || nw > 0 || windows > 1) {
            rc = frames_try(m, key, all, na, w, h, mean, res);
            if (rc < 0)
                goto out;
            windows++;
            res->candidates += cand;
            if (res->found) {
                res->t_start = 0;
                res->t_end = tlast - (t0 < 0 ? 0 : t0);
            }
        }
    }
    rc = MARK_OK;
out:
    mark__free(m->ctx, win);
    mark__free(m->ctx, all);
    mark__free(m->ctx, mean);
    mark__free(m->ctx, g);
    sws_freeContext(gray);
    av_frame_free(&fr);
    av_packet_free(&pkt);
    avcodec_free_context(&dc);
    demux_close(&ic);
    return rc;
}
