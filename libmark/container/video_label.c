/*
 * video_label.c - the visible label of a video: drawn on the frames as
 * they are displayed (turned upright by the display matrix), and checked
 * by verify against the record the writer keeps (aimark:VisibleLabel) on
 * the frames shown in the opening seconds (and the closing ones, when
 * it was drawn there too).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "video.h"

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

int mark__video_draw_label(txctx *t, AVFrame *f)
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

/* The label of a video this toolkit labelled, checked against the
 * record: the frames shown at CHECK_AT seconds from the first are
 * decoded (from the start: only the first 2 s are read) and each
 * correlated with the record's signature, as displayed; the label is
 * found when it is in every one, and the score is the lowest.  When the
 * record has a second span (--video-label both), the closing frames are
 * sampled the same way over that span's first 2 s (all of it when
 * shorter), after a seek to a keyframe before it; a span the video no
 * longer reaches (its end cut off) counts as missing. */

#define CHECK_SECONDS 2.0                /* the rule's opening 2 s */
#define CHECK_PACKETS 20000              /* read at most, any stream */
#define SEEK_MARGIN 0.5                  /* seek this far before a span,
                                            then 4 times further */
#define SEEK_TRIES 4                     /* then from the start */

static const double check_at[] = { 0, 0.5, 1.0, 1.5, 1.95 };
#define N_CHECK ((int)(sizeof check_at / sizeof check_at[0]))

/* The record's correlation with frame fr, turned upright by rot; *g
 * (*g_cap bytes) holds a grey copy of frames in other formats. */
static int frame_score(mark_media *m, const mark__vrecord *r, AVFrame *fr,
                       int rot, struct SwsContext **gray, uint8_t **g,
                       size_t *g_cap, double *score, double box[4])
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
        /* sized for this frame: a stream may change its frame size */
        if (*g_cap < (size_t)w * (size_t)h) {
            av_free(*g);
            *g_cap = 0;
            *g = av_malloc((size_t)w * (size_t)h);
            if (*g != NULL)
                *g_cap = (size_t)w * (size_t)h;
        }
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

/* Frames sampled at target times: each target is looked for on the
 * frame shown then, the last one to start at or before it.  Frames come
 * out of the decoder in display order (B-frames put back in place);
 * with a variable rate one frame may cover several targets, and is
 * scored once. */
typedef struct sampler {
    mark_media *m;
    const mark__vrecord *r;
    int rot;
    const double *at;                    /* targets, seconds from the
                                            first frame, ascending */
    int n_at, k;                         /* how many, the next */
    AVFrame *prev;                       /* the frame on screen */
    double prev_ts, before_ts;           /* its time, its predecessor's */
    int prev_scored, seen;               /* frames seen in this pass */
    int n, missing, misfit;              /* frames scored, those without
                                            the label; the record does
                                            not fit them */
    double min, miss_at;                 /* lowest score; first target
                                            missed */
    double box[4];
    struct SwsContext *gray;
    uint8_t *g;
    size_t g_cap;
} sampler;

static void sampler_reset(sampler *s)
{
    av_frame_unref(s->prev);
    s->k = s->n = s->missing = s->misfit = s->prev_scored = s->seen = 0;
    s->prev_ts = s->before_ts = 0;
    s->min = 2;
    s->miss_at = -1;
}

/* The frame on screen, for target k (once). */
static int sampler_score(sampler *s)
{
    double sc = 0;
    int rc;

    if (s->prev_scored)
        return MARK_OK;
    rc = frame_score(s->m, s->r, s->prev, s->rot, &s->gray, &s->g,
                     &s->g_cap, &sc, s->box);
    if (rc < 0)
        return rc;
    s->misfit |= rc;
    s->prev_scored = 1;
    s->n++;
    if (!s->misfit && !mark__vrecord_found(sc) && s->missing++ == 0)
        s->miss_at = s->at[s->k];
    if (sc < s->min)
        s->min = sc;
    return MARK_OK;
}

/* Frame fr decoded, shown at ts: the frame before it was on screen
 * until then.  1 when fr, the first of a pass, starts after the first
 * target (the seek went too far). */
static int sampler_frame(sampler *s, AVFrame *fr, double ts)
{
    int rc;

    if (s->prev->buf[0] == NULL && s->k < s->n_at &&
        ts > s->at[s->k] + 1e-9)
        return 1;
    while (s->k < s->n_at && s->prev->buf[0] != NULL && ts > s->at[s->k]) {
        rc = sampler_score(s);
        if (rc < 0)
            return rc;
        s->k++;
    }
    av_frame_unref(s->prev);
    av_frame_move_ref(s->prev, fr);
    s->prev_scored = 0;
    s->before_ts = s->prev_ts;
    s->prev_ts = ts;
    s->seen++;
    return MARK_OK;
}

/* At the end of the frames, the last one shows until the time until:
 * scored if it covers the next target. */
static int sampler_last(sampler *s, double until)
{
    int rc;

    if (s->k >= s->n_at || s->prev->buf[0] == NULL || s->at[s->k] > until)
        return MARK_OK;
    rc = sampler_score(s);
    if (rc < 0)
        return rc;
    while (s->k < s->n_at && s->at[s->k] <= s->prev_ts + 1e-9)
        s->k++;
    return MARK_OK;
}

/* Decode from where ic is, handing the frames to s until its targets
 * are done, the input ends (*eof) or CHECK_PACKETS are read: 1 when
 * the pass started too late (see sampler_frame), else a status. */
static int sample_frames(sampler *s, AVFormatContext *ic, AVCodecContext *dc,
                         AVPacket *pkt, AVFrame *fr, int vi, int64_t *first,
                         int *eof)
{
    double tb = av_q2d(ic->streams[vi]->time_base);
    int e = 0, rc, packets;

    *eof = 0;
    for (packets = 0; e >= 0 && s->k < s->n_at && !*eof; packets++) {
        if (packets >= CHECK_PACKETS)
            return MARK_OK;
        e = mark__video_feed_next(ic, pkt, dc, vi, eof);
        while (e >= 0 && s->k < s->n_at) {
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
            if (*first == AV_NOPTS_VALUE)
                *first = fr->best_effort_timestamp;
            ts = (double)(fr->best_effort_timestamp - *first) * tb;
            rc = sampler_frame(s, fr, ts);
            av_frame_unref(fr);
            if (rc != MARK_OK)
                return rc;
        }
    }
    if (e < 0 && e != AVERROR_EOF)
        return mark__video_averr(s->m->ctx, MARK_EFORMAT,
                                 "video not decodable", e);
    return MARK_OK;
}

/* The closing span of the record, sampled: from a seek SEEK_MARGIN
 * before it (further back while the first frame decoded starts after
 * the first target: a B-frame stream's keyframe is indexed by its
 * decoding time), at last from the start.  res gets the end_ fields. */
static int check_end(sampler *s, AVFormatContext **icp, AVCodecContext *dc,
                     AVPacket *pkt, AVFrame *fr, int vi, int64_t first,
                     mark__explicit *res)
{
    const mark__vrecord *r = s->r;
    double from = r->span[1][0], to = r->span[1][1], len, at[N_CHECK];
    double margin = SEEK_MARGIN, tb, end = 0;
    int i, rc = 1, tries, eof = 0, gone;

    res->end_checked = 1;
    res->end_from = from;
    res->end_to = to;
    if (!isfinite(from) || from < 0 || from > 1e7 ||
        !isfinite(to) || (to >= 0 && to < from)) {
        res->end_bad = 1;
        return MARK_OK;
    }
    /* the span's first 2 s, or the whole of a shorter one; to the end
     * (to < 0, not written by this toolkit): 2 s */
    len = to < 0 || to - from >= CHECK_SECONDS ? CHECK_SECONDS : to - from;
    for (i = 0; i < N_CHECK; i++)
        at[i] = from + check_at[i] * len / CHECK_SECONDS;
    s->at = at;
    s->n_at = N_CHECK;
    tb = av_q2d((*icp)->streams[vi]->time_base);
    for (tries = 0; rc == 1; tries++) {
        double d = tb > 0 ? (from - margin) / tb : 0;
        int64_t ts = d >= 1 && d < 4e18 && first < INT64_MAX - (int64_t)d
                     ? first + (int64_t)d : first;

        sampler_reset(s);
        avcodec_flush_buffers(dc);
        if (ts <= first || tries >= SEEK_TRIES ||
            av_seek_frame(*icp, vi, ts, AVSEEK_FLAG_BACKWARD) < 0) {
            /* from the start: opened again (a seek may not get there) */
            mark__video_demux_close(icp);
            rc = mark__video_demux_open(s->m, icp);
            if (rc < 0)
                return rc;
            tries = SEEK_TRIES;
        }
        rc = sample_frames(s, *icp, dc, pkt, fr, vi, &first, &eof);
        if (rc < 0)
            return rc;
        if (rc == 1 && tries >= SEEK_TRIES)
            break;                       /* starts after the span itself */
        margin *= 4;
    }
    if (eof && s->prev->buf[0] != NULL) {
        /* the last frame lasts a frame at the stream's mean rate (else
         * as long as the one before) */
        AVRational fps = (*icp)->streams[vi]->avg_frame_rate;

        end = s->prev_ts + (fps.num > 0 && fps.den > 0 ? 1 / av_q2d(fps)
                            : s->seen > 1 ? s->prev_ts - s->before_ts : 0);
        rc = sampler_last(s, end + 1e-9);
        if (rc < 0)
            return rc;
        while (s->k < s->n_at && at[s->k] <= end + 1e-9)
            s->k++;
    }
    /* the targets past the last frame: the span is (partly) gone */
    gone = eof ? s->n_at - s->k : 0;
    res->end_frames = s->misfit ? 0 : s->n;
    res->end_missing = s->misfit ? s->n : s->missing;
    res->end_gone = gone;
    res->end_score = s->n > 0 ? s->min : 0;
    res->end_miss_at = s->miss_at;
    res->end_seconds = gone == 0 ? len
                     : end <= from ? 0 : end - from < len ? end - from : len;
    res->video_end = end;
    res->end_found = !s->misfit && s->n > 0 && s->missing == 0 &&
                     gone == 0;
    return MARK_OK;
}

/* The sentence on the closing frames, after the opening's. */
static void end_note(mark__explicit *res, size_t at)
{
    char *p = res->note + at;
    size_t room = sizeof res->note - at;

    if (res->end_bad)
        snprintf(p, room, "; the record's span on the closing frames is "
                 "not valid");
    else if (res->end_found)
        snprintf(p, room, ", and in all %d sampled over %.1f s of the "
                 "closing frames (from %.2f s)", res->end_frames,
                 res->end_seconds, res->end_from);
    else if (res->end_gone > 0 && res->end_frames == 0)
        snprintf(p, room, "; NOT on the closing frames: the record has it "
                 "from %.2f s, the video ends at %.2f s", res->end_from,
                 res->video_end);
    else if (res->end_gone > 0)
        snprintf(p, room, "; on the closing frames (from %.2f s) missing "
                 "from %d of %d frames sampled, and the video ends at "
                 "%.2f s, before the rest", res->end_from,
                 res->end_missing, res->end_frames, res->video_end);
    else if (res->end_frames == 0)
        snprintf(p, room, "; the label record does not fit the closing "
                 "frames, or none could be decoded");
    else
        snprintf(p, room, "; NOT on the closing frames: missing from %d "
                 "of %d frames sampled over %.1f s from %.2f s (first at "
                 "%.2f s)", res->end_missing, res->end_frames,
                 res->end_seconds, res->end_from, res->end_miss_at);
}

int mark__video_explicit(const mark_media *cm, mark__explicit *res,
                         double edge)
{
    mark_media *m = (mark_media *)(uintptr_t)cm;  /* the source moves */
    video_priv *v = m->priv;
    AVFormatContext *ic = NULL;
    AVCodecContext *dc = NULL;
    AVPacket *pkt = NULL;
    AVFrame *fr = NULL;
    mark__vrecord *r = NULL;
    sampler s;
    int64_t first = AV_NOPTS_VALUE;
    int rc = MARK_OK, e = 0, eof = 0, dw = 0, dh = 0;
    char miss[64] = "";

    (void)edge;
    memset(res, 0, sizeof *res);
    memset(&s, 0, sizeof s);
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
    rc = mark__video_demux_open(m, &ic);
    if (rc < 0)
        goto out;
    e = mark__video_open_dec(ic->streams[v->video], &dc);
    pkt = av_packet_alloc();
    fr = av_frame_alloc();
    s.prev = av_frame_alloc();
    if (pkt == NULL || fr == NULL || s.prev == NULL) {
        rc = mark__err(m->ctx, MARK_ENOMEM, "out of memory");
        goto out;
    }
    if (e < 0) {
        rc = mark__video_averr(m->ctx, MARK_EFORMAT, "video not decodable",
                               e);
        goto out;
    }
    s.m = m;
    s.r = r;
    s.rot = v->rot;
    s.at = check_at;
    s.n_at = N_CHECK;
    sampler_reset(&s);
    rc = sample_frames(&s, ic, dc, pkt, fr, v->video, &first, &eof);
    if (rc < 0)
        goto out;
    /* the last frame shows to the end: the targets it covers */
    if (eof) {
        rc = sampler_last(&s, INFINITY);
        if (rc < 0)
            goto out;
    }
    rc = MARK_OK;
    if (s.misfit) {
        snprintf(res->note, sizeof res->note, "the label record does not "
                 "fit this video's frames");
        goto out;
    }
    if (s.n == 0) {
        snprintf(res->note, sizeof res->note, "no frame could be decoded");
        goto out;
    }
    displayed(v->rot, s.prev->width, s.prev->height, &dw, &dh);
    res->checked = 1;
    res->score = s.min;
    /* found: where the rule asks for it, on the opening frames; what the
     * closing frames showed is in end_found and the note */
    res->found = s.missing == 0;
    res->frames = s.n;
    res->seconds = s.prev_ts < CHECK_SECONDS && s.k < N_CHECK
                   ? s.prev_ts : CHECK_SECONDS;
    res->ink_h = (uint32_t)(s.box[3] + 0.5);
    res->ratio = (double)res->ink_h / (double)(dw < dh ? dw : dh);
    if (s.missing > 0)
        snprintf(miss, sizeof miss, " (first at %.2f s)", s.miss_at);
    if (res->found)
        snprintf(res->note, sizeof res->note, "label recorded in the "
                 "metadata found in all %d frames sampled over the first "
                 "%.1f s", s.n, res->seconds);
    else
        snprintf(res->note, sizeof res->note, "label recorded in the "
                 "metadata missing from %d of %d frames sampled over the "
                 "first %.1f s%s", s.missing, s.n, res->seconds, miss);
    if (r->n_spans >= 2) {
        rc = check_end(&s, &ic, dc, pkt, fr, v->video, first, res);
        if (rc < 0)
            goto out;
        end_note(res, strlen(res->note));
    }
out:
    mark__free(m->ctx, r);
    av_free(s.g);
    sws_freeContext(s.gray);
    av_frame_free(&fr);
    av_frame_free(&s.prev);
    av_packet_free(&pkt);
    avcodec_free_context(&dc);
    mark__video_demux_close(&ic);
    return rc;
}
