/*
 * video_wm.c - the watermarks of a video: img-v1 embedded in every
 * frame's luma (as displayed: a phone video's frames are turned upright
 * for it), and found again by adding the frames of 2 s windows up;
 * and the soundtrack's samples, for the audio watermark's embedder (in
 * video_tx.c) and reader.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "video.h"

/* The frame watermark: img-v1 in the frame's luma (Y, 8 bits), as for a
 * still image of that size; the pattern is the same in every frame, so a
 * detector can add frames up.  From 1024 pixels a side the detector
 * works on 2 x 2 cells or coarser, so the change is made per cell from
 * the cell means (a quarter of the work, and no float copy of the
 * frame); the plan (mask, informed chip values) is remade every
 * PLAN_FRAMES frames, with the picture's motion small between. */
#define PLAN_FRAMES 4

/* In texture the frame watermark is 1.5 times as strong as an image's
 * (and its energy cap with it: about 37 instead of 40.5 dB on busy
 * frames); flat areas keep the image's level, where a pattern that
 * stands still while the picture moves would show first.  Encoders at
 * CRF 30 and over, HEVC, and scaling smear busy fine detail most: a
 * clip of one-pixel cells lost the mark to all four at the image's
 * strength and kept it at this one (CRF 35 is still lost on it). */
#define VIDEO_BUSY 1.5

/* On flat areas the frame watermark is 1.3 times an image's floor (1.3
 * instead of 1 level; busy texture gets the same amplitude above the
 * floor as before, and the energy cap is unchanged).  x264 at CRF 35
 * quantises a pattern that weak away altogether, all or nothing: on a
 * test card under moving grain the mark read 0.38 at 1.15 times the
 * floor and 0.70 at 1.3 (0.4 is what nothing reads).  At chips of four
 * pixels a side in 1080p, 1.3 levels is far below what the eye resolves
 * at that fineness (images keep 1.0: a still is looked at longer, and
 * closer). */
#define VIDEO_FLAT 1.3

/* The planner takes a strength (everything, the cap included) and a
 * busy gain (the amplitude above the floor, and the cap): strength x
 * VIDEO_FLAT with busy / VIDEO_FLAT raise the floor by VIDEO_FLAT and
 * leave the part above it and the cap as VIDEO_BUSY makes them. */
static int wm_luma(txctx *t, uint8_t *Y, int ls, int fw, int fh)
{
    vtx *v = &t->v;
    mark_ctx *ctx = t->m->ctx;
    uint32_t w = (uint32_t)fw, h = (uint32_t)fh, x, y;
    uint32_t w2 = (w + 1) / 2, h2 = (h + 1) / 2;
    int cells = mark__imgwm_work_step(w, h) >= 2, rc;
    size_t n = cells ? (size_t)w2 * h2 * 2 : (size_t)w * h;

    if (v->luma == NULL) {
        v->luma = av_malloc(n * sizeof *v->luma);
        if (v->luma == NULL)
            return AVERROR(ENOMEM);
    }
    if (cells) {
        float *v2 = v->luma, *s2 = v->luma + (size_t)w2 * h2;

        for (y = 0; y < h2; y++) {
            const uint8_t *r0 = Y + (size_t)(2 * y) * ls;
            const uint8_t *r1 = 2 * y + 1 < h ? r0 + ls : r0;

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
            const uint8_t *row = Y + (size_t)y * ls;
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
                                          w, h, t->ops->strength * VIDEO_FLAT,
                                          VIDEO_BUSY / VIDEO_FLAT, 0, lw, sq,
                                          &v->plan);
            mark__plane_free(ctx, lw, nw);
            mark__plane_free(ctx, sq, nw);
        } else {
            rc = mark__imgwm_plan_from_luma(ctx, t->ops->key,
                                            &t->ops->payload, v->luma, w, h,
                                            t->ops->strength * VIDEO_FLAT,
                                            VIDEO_BUSY / VIDEO_FLAT,
                                            &v->plan);
        }
        if (rc < 0)
            return AVERROR_EXTERNAL;
    }
    if (cells) {
        float *d2 = v->luma + (size_t)w2 * h2;   /* over the squares */

        rc = mark__imgwm_plan_delta2(ctx, v->plan, v->luma, d2);
        if (rc < 0)
            return AVERROR_EXTERNAL;
        /* each cell's change rounded once and spread over its two
         * columns (qd, a whole row), then added to its 2 x 2 pixels in
         * integers: a plain loop over the row, which the compiler
         * vectorises */
        if (v->qd == NULL) {
            v->qd = av_malloc(sizeof *v->qd * (2 * (size_t)w2 + 2));
            if (v->qd == NULL)
                return AVERROR(ENOMEM);
        }
        for (y = 0; y < h; y++) {
            uint8_t *restrict row = Y + (size_t)y * ls;
            const int16_t *restrict qr = v->qd;

            if (y % 2 == 0) {
                const float *dr = d2 + (size_t)(y / 2) * w2;
                int16_t *restrict qd = v->qd;

                /* rounded to the nearest by adding and taking away 1.5 x
                 * 2^23 (no library call, so the loop vectorises too) */
                for (x = 0; x < w2; x++) {
                    float d = dr[x] < -255.0f ? -255.0f
                            : dr[x] > 255.0f ? 255.0f : dr[x];
                    int16_t q = (int16_t)(int)((d + 12582912.0f) -
                                               12582912.0f);

                    qd[2 * x] = q;
                    qd[2 * x + 1] = q;
                }
            }
            for (x = 0; x < w; x++) {
                int a = row[x] + qr[x];

                row[x] = (uint8_t)(a < 0 ? 0 : a > 255 ? 255 : a);
            }
        }
        return 0;
    }
    rc = mark__imgwm_plan_delta(ctx, v->plan, v->luma, v->luma);
    if (rc < 0)
        return AVERROR_EXTERNAL;
    for (y = 0; y < h; y++) {
        uint8_t *row = Y + (size_t)y * ls;
        const float *d = v->luma + (size_t)y * w;

        for (x = 0; x < w; x++) {
            int q = (int)lrintf((float)row[x] + d[x]);

            row[x] = (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
        }
    }
    return 0;
}

int mark__video_wm_frame(txctx *t, AVFrame *f)
{
    vtx *v = &t->v;
    int dw, dh, e;

    if (!av_frame_is_writable(f) && av_frame_make_writable(f) < 0)
        return AVERROR(ENOMEM);
    if (v->rot == 0)
        return wm_luma(t, f->data[0], f->linesize[0], f->width, f->height);
    /* a phone's video: in the picture as displayed, upright, which is
     * what a re-encode that applies the rotation leaves (and what the
     * detector turns the frames to) */
    displayed(v->rot, f->width, f->height, &dw, &dh);
    if (v->up == NULL) {
        v->up = av_malloc((size_t)dw * (size_t)dh);
        if (v->up == NULL)
            return AVERROR(ENOMEM);
    }
    turn_plane(v->rot, f->width, f->height, f->data[0], f->linesize[0],
               v->up, dw, 0);
    e = wm_luma(t, v->up, dw, dw, dh);
    if (e >= 0)
        turn_plane(v->rot, f->width, f->height, f->data[0],
                   f->linesize[0], v->up, dw, 1);
    return e;
}

/* ------------------------------------------------------------------ */
/* The soundtrack's samples. */

int mark__video_pcm(const mark_media *cm,
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
    rc = mark__video_demux_open(m, &ic);
    if (rc < 0)
        return rc;
    st = ic->streams[v->audio];
    e = mark__video_open_dec(st, &dc);
    if (e == AVERROR_DECODER_NOT_FOUND) {
        rc = mark__video_no_decoder(m->ctx, st);
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
        e = mark__video_feed_next(ic, pkt, dc, v->audio, &done);
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
        rc = mark__video_averr(m->ctx, MARK_EFORMAT,
                               "soundtrack not decodable", e);
out:
    mark__free(m->ctx, buf);
    swr_free(&swr);
    av_frame_free(&fr);
    av_packet_free(&pkt);
    avcodec_free_context(&dc);
    mark__video_demux_close(&ic);
    return rc;
}

/* ------------------------------------------------------------------ */
/* The frame watermark, found by adding frames up: the pattern is the
 * same in every frame, the picture moves, so the mean of the frames of
 * a window holds the pattern with the picture partly averaged away.
 * Windows of WM_WINDOW seconds over the first WM_SECONDS, each tried
 * alone and, if that finds nothing, the mean of its first BURST frames;
 * then the mean of all the frames read, then that of the intra-coded
 * frames alone.  The first that decodes is reported.  The mean is
 * turned upright by the display matrix first: the watermark is in the
 * picture as displayed.
 *
 * Why the bursts and the intra frames: an encoder predicts frames from
 * earlier ones, moving blocks with the picture, and at a low bit rate it
 * codes little more than that motion; the pattern, which stands still,
 * is then dragged along with the picture from frame to frame, and a
 * mean over many frames blurs it.  A few consecutive frames keep it
 * almost in place, and an intra frame is coded afresh, with the pattern
 * where it belongs.  Measured at x264 CRF 35 on a scrolling cellular
 * automaton (1080p, 6 s): the 2 s windows and the mean of all 180 frames
 * read 0.38-0.43 (nothing); single frames 0.58-0.64 in 11 of 18; means
 * of 2 frames 0.61-0.69 (5 of 6 places), of 4 frames 0.69-0.76 and of 8
 * frames 0.71-0.78 (6 of 6), of 16 frames one place in 6, of 30 none.
 * A Sierpinski carpet there decoded from its one intra frame (0.76),
 * not from the mean (0.42). */

#define WM_WINDOW 2.0
#define WM_SECONDS 20.0
#define BURST 8

/* A sum of frames' luma (w x h, as coded) and how many: float, exact
 * for the integer sums of WM_SECONDS of frames at any real frame rate
 * (under 2^24). */
typedef struct frame_sum {
    float *s;
    int n;
    double t0, t1;                       /* first and last frame, s */
} frame_sum;

MARK__SIMD
static void sum_frame(frame_sum *a, const uint8_t *y, int ls, uint32_t w,
                      uint32_t h, double t)
{
    uint32_t r, x;

    for (r = 0; r < h; r++) {
        const uint8_t *restrict row = y + r * (size_t)ls;
        float *restrict o = a->s + r * (size_t)w;

        for (x = 0; x < w; x++)
            o[x] += row[x];
    }
    if (a->n++ == 0)
        a->t0 = t;
    a->t1 = t;
}

MARK__SIMD
static void sum_sum(frame_sum *a, const frame_sum *b, size_t np)
{
    float *restrict o = a->s;
    const float *restrict i = b->s;
    size_t k;

    for (k = 0; k < np; k++)
        o[k] += i[k];
    if (a->n == 0)
        a->t0 = b->t0;
    a->n += b->n;
    a->t1 = b->t1;
}

static void sum_clear(frame_sum *a, size_t np)
{
    memset(a->s, 0, np * sizeof *a->s);
    a->n = 0;
}

/* The mean of a sum, turned upright by rot (as the watermark was
 * embedded), tried; t0 the first frame's time, for the seconds found. */
static int frames_try(mark_media *m, const mark_key *key, const frame_sum *a,
                      uint32_t w, uint32_t h, int rot, double t0,
                      float *mean, mark__wm_result *res, int *cand)
{
    size_t i, np = (size_t)w * h;
    int dw, dh, x, y, cx, cy, rc;

    if (rot == 0) {
        for (i = 0; i < np; i++)
            mean[i] = (float)((double)a->s[i] / a->n);
        rc = mark__imgwm_detect(m->ctx, key, mean, w, h, res);
    } else {
        displayed(rot, (int)w, (int)h, &dw, &dh);
        for (y = 0; y < dh; y++)
            for (x = 0; x < dw; x++) {
                to_coded(rot, (int)w, (int)h, x, y, &cx, &cy);
                mean[(size_t)y * (size_t)dw + (size_t)x] =
                    (float)((double)a->s[(size_t)cy * w + (size_t)cx] /
                            a->n);
            }
        rc = mark__imgwm_detect(m->ctx, key, mean, (uint32_t)dw,
                                (uint32_t)dh, res);
    }
    *cand += res->candidates;
    res->candidates = *cand;
    if (rc == MARK_OK && res->found) {
        res->t_start = a->t0 - t0;
        res->t_end = a->t1 - t0;
    }
    return rc;
}

int mark__video_frames_detect(mark_media *m, const mark_key *key,
                              mark__wm_result *res)
{
    AVFormatContext *ic = NULL;
    AVCodecContext *dc = NULL;
    struct SwsContext *gray = NULL;
    AVPacket *pkt = NULL;
    AVFrame *fr = NULL;
    frame_sum win = { NULL, 0, 0, 0 }, all = win, burst = win, intra = win;
    double t0 = -1, tw = 0, tlast = 0;
    float *mean = NULL;
    uint8_t *g = NULL;
    uint32_t w = 0, h = 0;
    size_t np = 0;
    int vi = -1, nt = 0, e = 0, rc, eof = 0, windows = 0, rot, cand = 0;

    memset(res, 0, sizeof *res);
    vi = m->priv != NULL ? ((video_priv *)m->priv)->video : -1;
    if (vi < 0)
        return MARK_EUNSUPPORTED;
    rot = ((video_priv *)m->priv)->rot;
    rc = mark__video_demux_open(m, &ic);
    if (rc < 0)
        return rc;
    w = (uint32_t)ic->streams[vi]->codecpar->width;
    h = (uint32_t)ic->streams[vi]->codecpar->height;
    np = (size_t)w * h;
    if (w < MARK__IMGWM_MIN_SIDE || h < MARK__IMGWM_MIN_SIDE) {
        rc = MARK_EUNSUPPORTED;
        goto out;
    }
    e = mark__video_open_dec(ic->streams[vi], &dc);
    if (e == AVERROR_DECODER_NOT_FOUND) {
        m->wm.note = "no decoder for the video's codec in this FFmpeg";
        rc = MARK_EUNSUPPORTED;
        goto out;
    }
    pkt = av_packet_alloc();
    fr = av_frame_alloc();
    win.s = mark__calloc(m->ctx, np, sizeof *win.s);
    all.s = mark__calloc(m->ctx, np, sizeof *all.s);
    burst.s = mark__calloc(m->ctx, np, sizeof *burst.s);
    intra.s = mark__calloc(m->ctx, np, sizeof *intra.s);
    mean = mark__malloc(m->ctx, np * sizeof *mean);
    g = mark__malloc(m->ctx, np);
    if (pkt == NULL || fr == NULL || !win.s || !all.s || !burst.s ||
        !intra.s || !mean || !g) {
        rc = mark__err(m->ctx, MARK_ENOMEM, "out of memory");
        goto out;
    }
    while (e >= 0 && !res->found) {
        if (!eof)
            e = mark__video_feed_next(ic, pkt, dc, vi, &eof);
        while (e >= 0) {
            const uint8_t *y;
            int ls;
            double ts;

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
            sum_frame(&win, y, ls, w, h, ts);
            if (burst.n < BURST)
                sum_frame(&burst, y, ls, w, h, ts);
            if (fr->pict_type == AV_PICTURE_TYPE_I)
                sum_frame(&intra, y, ls, w, h, ts);
            nt++;
            av_frame_unref(fr);
            if (ts - tw >= WM_WINDOW) {
                /* a window is full: try it (and its burst), keep it for
                 * the total */
                sum_sum(&all, &win, np);
                rc = frames_try(m, key, &win, w, h, rot, t0, mean, res,
                                &cand);
                if (rc == MARK_OK && !res->found && burst.n < win.n)
                    rc = frames_try(m, key, &burst, w, h, rot, t0, mean,
                                    res, &cand);
                if (rc < 0)
                    goto out;
                windows++;
                if (res->found)
                    break;
                sum_clear(&win, np);
                sum_clear(&burst, np);
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
        rc = mark__video_averr(m->ctx, MARK_EFORMAT, "video not decodable", e);
        goto out;
    }
    rc = MARK_OK;
    if (!res->found && (win.n > 0 || all.n > 0)) {
        int pending = win.n;

        /* the last, short window with the rest: everything read; then
         * that window's burst, when it is not all of it */
        sum_sum(&all, &win, np);
        if (windows == 0 || pending > 0 || windows > 1)
            rc = frames_try(m, key, &all, w, h, rot, t0, mean, res, &cand);
        if (rc == MARK_OK && !res->found && pending > 0 &&
            burst.n < all.n)
            rc = frames_try(m, key, &burst, w, h, rot, t0, mean, res,
                            &cand);
    }
    if (rc == MARK_OK && !res->found && intra.n > 0 && intra.n < nt)
        rc = frames_try(m, key, &intra, w, h, rot, t0, mean, res, &cand);
out:
    mark__free(m->ctx, win.s);
    mark__free(m->ctx, all.s);
    mark__free(m->ctx, burst.s);
    mark__free(m->ctx, intra.s);
    mark__free(m->ctx, mean);
    mark__free(m->ctx, g);
    sws_freeContext(gray);
    av_frame_free(&fr);
    av_packet_free(&pkt);
    avcodec_free_context(&dc);
    mark__video_demux_close(&ic);
    return rc;
}
