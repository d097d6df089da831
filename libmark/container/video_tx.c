/*
 * video_tx.c - the re-encoding chains of the marked video: the video
 * decoded, converted to the encoder's 4:2:0, watermarked and labelled
 * (video_wm.c, video_label.c) and encoded again (libx264, libvpx-vp9 for
 * WebM, or the encoder named) with its timestamps kept; the soundtrack
 * decoded, watermarked (aud-v2) and encoded with the input's codec and
 * bit rate where an encoder exists, else AAC (Opus in WebM).
 */
#include <stdlib.h>
#include <string.h>

#include <libavutil/opt.h>

#include "video.h"

int mark__video_enc_write(txctx *t, AVCodecContext *enc, int idx,
                          AVFrame *f)
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
    /* at low rates the codecs remove much of a mark just embedded (the
     * audio watermark's weakness, issue 5): at least this much a
     * channel, for up to two.  With aud-v2, FFmpeg's AAC at 96 kbit/s a
     * channel kept it in all six corpus clips tried (at the input's 128
     * kbit/s stereo in five), so AAC's floor came down from 192 */
    e->bit_rate = st->codecpar->bit_rate > 0 ? st->codecpar->bit_rate
                                             : 192000;
    {
        int64_t floor = (c->id == AV_CODEC_ID_OPUS ? 96000
                         : c->id == AV_CODEC_ID_VORBIS ? 128000
                         : c->id == AV_CODEC_ID_MP3 ? 160000 : 96000) *
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
        e = mark__video_wm_frame(t, use);
        if (e < 0)
            return e;
    }
    if (v->vis != NULL && (pts == AV_NOPTS_VALUE || pts - v->first <
                                                       v->until ||
                           pts >= v->end_from)) {
        e = mark__video_draw_label(t, use);
        if (e < 0)
            return e;
    }
    return mark__video_enc_write(t, v->enc, v->idx, use);
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
        r = mark__video_enc_write(t, e, a->idx, f);
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
int mark__video_audio_flush(txctx *t)
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
        r = mark__video_enc_write(t, e, a->idx, f);
        av_frame_unref(f);
        if (r < 0)
            return r;
    }
    return mark__video_enc_write(t, e, a->idx, NULL);
}

/* Decode what pkt brings (NULL: the end) for a re-encoded stream. */
int mark__video_tx_packet(txctx *t, AVCodecContext *dec, int video,
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

void mark__video_tx_free(txctx *t)
{
    avcodec_free_context(&t->v.dec);
    avcodec_free_context(&t->v.enc);
    sws_freeContext(t->v.conv);
    sws_freeContext(t->v.to_rgb);
    sws_freeContext(t->v.from_rgb);
    av_frame_free(&t->v.yuv);
    av_free(t->v.rgb);
    av_free(t->v.drgb);
    av_free(t->v.up);
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
int mark__video_tx_setup(txctx *t, AVFormatContext *ic,
                         mark__pixel_ops *ops, int webm)
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
            e = mark__video_open_dec(st, &t->v.dec);
            if (e == AVERROR_DECODER_NOT_FOUND)
                mark__video_no_decoder(m->ctx, st);
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
        e = mark__video_open_dec(st, &a->dec);
        if (e == AVERROR_DECODER_NOT_FOUND)
            mark__video_no_decoder(m->ctx, st);
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
