/*
 * video.c - MP4/MOV and Matroska/WebM through FFmpeg's libavformat and
 * libavcodec: the stream layout and the labels read (parse), libavformat
 * reading from the media's source, the helpers the other video files
 * share, and the container descriptors.  The rest of the video container
 * is in video_mp4.c, video_write.c, video_tx.c, video_label.c and
 * video_wm.c (video.h says what each holds).
 *
 * Carriers read:
 *   MP4/MOV  moov/udta/meta (handler mdta) key "AIGC"   "mp4-mdta"
 *            moov/meta (a bare meta, handler mdta)      "mp4-meta"
 *            an iTunes freeform ----:com.apple.iTunes:AIGC in an ilst
 *                                                       "mp4-itunes"
 *            XMP: a uuid box BE7ACFCB-97A9-42E8-9C71-999491E3AFAC (top
 *            level or in moov) or moov/udta/XMP_        "xmp"
 *   MKV/WebM a SimpleTag "AIGC" of a global Tag         "mkv-tag"
 * The MP4 boxes are walked by our own code (video_mp4.c: to name each
 * carrier and see two labels as two); Matroska tags come from
 * libavformat.
 *
 * Written: the streams copied packet for packet (a remux, nothing is
 * decoded) with the label as the MP4 mdta key "AIGC" (libavformat's mov
 * muxer with use_metadata_tags) or a global Matroska SimpleTag; every
 * label of the input is dropped, so the output holds exactly one.
 * Chapters, stream metadata and side data (rotation), dispositions and
 * timestamps are carried over; an MP4 whose moov came first keeps it
 * first.  The visible label and the frame watermark re-encode the
 * frames (timestamps kept); both go in the picture as displayed (the
 * display matrix's rotation: upright is also what a re-encode that
 * applies the rotation leaves), and the label is recorded in the key /
 * SimpleTag "aimark:VisibleLabel", which verify checks on the opening
 * 2 s (and the closing frames when it was drawn there).
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

#include <libavutil/display.h>

#include "video.h"

static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void quiet_ffmpeg(void)
{
    if (av_log_get_level() == AV_LOG_INFO)
        av_log_set_level(AV_LOG_QUIET);
}

int mark__video_averr(mark_ctx *ctx, int code, const char *what, int e)
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
int mark__video_demux_open(mark_media *m, AVFormatContext **out)
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
        return mark__video_averr(m->ctx, MARK_EFORMAT,
                                 m->info.format == MARK_FORMAT_MP4
                                     ? "MP4 not readable"
                                     : "Matroska not readable", e);
    }
    e = avformat_find_stream_info(ic, NULL);
    if (e < 0) {
        avformat_close_input(&ic);
        av_freep(&pb->buffer);
        avio_context_free(&pb);
        return mark__video_averr(m->ctx, MARK_EFORMAT,
                                 "no stream could be read", e);
    }
    *out = ic;
    return MARK_OK;
}

void mark__video_demux_close(AVFormatContext **ic)
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
/* Rotation (video.h has the helpers that turn pictures with it). */

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
        rc = mark__mp4_boxes(m);
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
    rc = mark__video_demux_open(m, &ic);
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
        mark__video_demux_close(&ic);
    } else {
        v->ic = ic;                      /* the packets read ahead stay */
        v->n_boxes = -1;                 /* and it cannot open again */
    }
    return rc < 0 ? rc : MARK_OK;
}

static void video_uninit(mark_media *m)
{
    if (m->priv != NULL)
        mark__video_demux_close(&((video_priv *)m->priv)->ic);
    mark__free(m->ctx, m->priv);
    m->priv = NULL;
}

/* ------------------------------------------------------------------ */
/* A decoder, for the re-encoding and the readers. */

int mark__video_no_decoder(mark_ctx *ctx, const AVStream *st)
{
    const AVCodecParameters *cp = st->codecpar;

    return mark__err(ctx, MARK_EUNSUPPORTED, "no decoder for the %s's "
                     "codec (%s, tag '%s') in this FFmpeg",
                     cp->codec_type == AVMEDIA_TYPE_VIDEO ? "video"
                                                          : "soundtrack",
                     avcodec_get_name(cp->codec_id),
                     av_fourcc2str(cp->codec_tag));
}

int mark__video_open_dec(const AVStream *st, AVCodecContext **out)
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

/* ------------------------------------------------------------------ */
/* Reading the frames and the soundtrack. */

int mark__video_feed_next(AVFormatContext *ic, AVPacket *pkt,
                          AVCodecContext *dc, int si, int *eof)
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

const mark__container mark__container_mp4 = {
    .name = "mp4",
    .format = MARK_FORMAT_MP4,
    .type = MARK_MEDIA_VIDEO,
    .parse = video_parse,
    .uninit = video_uninit,
    .explicit_check = mark__video_explicit,
    .stream = mark__video_stream,
    .pcm = mark__video_pcm,
};

const mark__container mark__container_mkv = {
    .name = "mkv",
    .format = MARK_FORMAT_MKV,
    .type = MARK_MEDIA_VIDEO,
    .parse = video_parse,
    .uninit = video_uninit,
    .explicit_check = mark__video_explicit,
    .stream = mark__video_stream,
    .pcm = mark__video_pcm,
};
