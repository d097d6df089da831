/*
 * video_label.c - the visible label of a video: drawn on the frames as
 * they are displayed (turned upright by the display matrix), and checked
 * by verify against the record the writer keeps (aimark:VisibleLabel) on
 * the frames shown in the opening seconds.
 */
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

int mark__video_explicit(const mark_media *cm, mark__explicit *res,
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
    rc = mark__video_demux_open(m, &ic);
    if (rc < 0)
        goto out;
    tb = av_q2d(ic->streams[v->video]->time_base);
    e = mark__video_open_dec(ic->streams[v->video], &dc);
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
        e = mark__video_feed_next(ic, pkt, dc, v->video, &eof);
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
        rc = mark__video_averr(m->ctx, MARK_EFORMAT, "video not decodable", e);
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
    mark__video_demux_close(&ic);
    return rc;
}
