/*
 * video_write.c - the marked video written: the input's streams copied
 * into the same container (MP4/MOV, Matroska/WebM) with every label of
 * the input dropped and the new one written (the MP4 mdta key "AIGC"
 * through the mov muxer's use_metadata_tags, or a global Matroska
 * SimpleTag), the label record with its time spans, and the muxing loop
 * that hands the re-encoded streams' packets to video_tx.c and copies
 * the others; chapters, stream metadata, side data (rotation),
 * dispositions and timestamps carried over.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "video.h"

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
    rc = mark__video_demux_open(m, &ic);
    if (rc < 0)
        return rc;
    pkt = av_packet_alloc();
    if (pkt == NULL) {
        mark__video_demux_close(&ic);
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
    mark__video_demux_close(&ic);
    if (e != AVERROR_EOF)
        return mark__video_averr(m->ctx, MARK_EFORMAT, "video not readable",
                                 e);
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

/* A copied packet's decoding time must grow within its stream, or the
 * muxer refuses it.  Some files repeat one (the last audio packets of a
 * fragmented MP4 written one frame a fragment); like ffmpeg, move such
 * a packet just past its predecessor. */
static void copy_ts(AVPacket *pkt, int64_t *last)
{
    if (pkt->dts == AV_NOPTS_VALUE)
        return;
    if (*last != AV_NOPTS_VALUE && pkt->dts <= *last) {
        pkt->dts = *last + 1;
        if (pkt->pts != AV_NOPTS_VALUE && pkt->pts < pkt->dts)
            pkt->pts = pkt->dts;
    }
    *last = pkt->dts;
}

int mark__video_stream(mark_media *m, mark__pixel_ops *ops, mark__sink *k)
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
    int64_t *last_dts = NULL;           /* of each copied stream */
    txctx t;

    memset(&t, 0, sizeof t);
    t.m = m;                            /* for the frees of an early exit */
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
    rc = mark__video_demux_open(m, &ic);
    if (rc < 0)
        return rc;
    muxer = mp4 ? (v->is_mov ? "mov" : "mp4")
                : (v->is_webm ? "webm" : "matroska");
    e = avformat_alloc_output_context2(&oc, NULL, muxer, NULL);
    if (e < 0)
        goto done;
    for (i = 0; i < ic->nb_streams && e >= 0; i++) {
        const AVCodecParameters *cp = ic->streams[i]->codecpar;

        /* a tag this FFmpeg does not know: the muxer would only say
         * "Invalid argument" */
        if (cp->codec_id == AV_CODEC_ID_NONE &&
            (cp->codec_type == AVMEDIA_TYPE_VIDEO ||
             cp->codec_type == AVMEDIA_TYPE_AUDIO)) {
            mark__err(m->ctx, MARK_EUNSUPPORTED, "the %s stream's codec "
                      "(tag '%s') is unknown to this FFmpeg",
                      cp->codec_type == AVMEDIA_TYPE_VIDEO ? "video"
                                                           : "audio",
                      av_fourcc2str(cp->codec_tag));
            e = AVERROR_DECODER_NOT_FOUND;
            break;
        }
        e = copy_stream(oc, ic->streams[i], mp4);
    }
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
        e = mark__video_tx_setup(&t, ic, ops, v->is_webm);
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
         * label; what is left becomes a free box).  A fragmented input's
         * moov is all but empty and its samples are listed in the moof
         * boxes: the output's tables list them all, at most 32 bytes a
         * sample (a 60 s clip in one-frame fragments needed 14.6). */
        if (v->moov_first == 1)
            av_dict_set_int(&opts, "moov_size", (int64_t)(v->moov_size +
                                                          v->moov_size / 8 +
                                                          v->frag_samples * 32 +
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
    last_dts = av_malloc_array(oc->nb_streams ? oc->nb_streams : 1,
                               sizeof *last_dts);
    if (pkt == NULL || last_dts == NULL) {
        e = AVERROR(ENOMEM);
        goto done;
    }
    for (i = 0; i < oc->nb_streams; i++)
        last_dts[i] = AV_NOPTS_VALUE;
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
            e = mark__video_tx_packet(&t, t.v.dec, 1, pkt);
            av_packet_unref(pkt);
        } else if (pkt->stream_index == t.a.idx) {
            e = mark__video_tx_packet(&t, t.a.dec, 0, pkt);
            av_packet_unref(pkt);
        } else {
            av_packet_rescale_ts(pkt,
                                 ic->streams[pkt->stream_index]->time_base,
                                 oc->streams[pkt->stream_index]->time_base);
            pkt->pos = -1;
            copy_ts(pkt, &last_dts[pkt->stream_index]);
            e = av_interleaved_write_frame(oc, pkt);
        }
        if (e < 0)
            break;
    }
    /* what the decoders and encoders still hold */
    if (e >= 0 && t.v.dec != NULL) {
        e = mark__video_tx_packet(&t, t.v.dec, 1, NULL);
        if (e >= 0)
            e = mark__video_enc_write(&t, t.v.enc, t.v.idx, NULL);
        /* every packet damaged: the muxer would leave a file with a
         * video track and nothing in it, which nothing can read */
        if (e >= 0 && t.v.frames == 0) {
            rc = mark__err(m->ctx, MARK_EFORMAT, "no frame of the video "
                           "could be decoded");
            e = AVERROR_INVALIDDATA;
        }
    }
    if (e >= 0 && t.a.dec != NULL) {
        e = mark__video_tx_packet(&t, t.a.dec, 0, NULL);
        if (e >= 0)
            e = mark__video_audio_flush(&t);
    }
    if (e >= 0)
        e = av_write_trailer(oc);
    if (e >= 0)
        avio_flush(pb);
    if (e >= 0 && m->ctx->progress != NULL)
        m->ctx->progress(m->ctx->progress_user, 1.0);
done:
    if (e < 0 && rc == MARK_OK)
        rc = (e == AVERROR_ENCODER_NOT_FOUND ||
              e == AVERROR_DECODER_NOT_FOUND) && m->ctx->errmsg[0]
                 ? MARK_EUNSUPPORTED     /* said which */
             : m->ctx->errmsg[0] && e == AVERROR(EIO)
                 ? MARK_EIO
                 : mark__video_averr(m->ctx, MARK_EFORMAT,
                                     t.v.enc != NULL || t.a.enc
                                         ? "cannot mark the video"
                                         : "cannot remux the video", e);
    av_dict_free(&opts);
    av_free(last_dts);
    av_packet_free(&pkt);
    av_packet_free(&t.pkt);
    mark__video_tx_free(&t);
    if (oc != NULL) {
        avformat_free_context(oc);
    }
    if (pb != NULL) {
        av_freep(&pb->buffer);
        avio_context_free(&pb);
    }
    mark__video_demux_close(&ic);
    mark_free(m->ctx, json);
    mark__free(m->ctx, rec);
    return rc;
}
