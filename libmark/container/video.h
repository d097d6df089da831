/*
 * video.h - what the files of the video container (video*.c) share,
 * and nothing outside them uses: the per-media state, the libavformat
 * input, the re-encoding context with its video and audio chains, and
 * the rotation helpers.  The library's internal API is in internal.h.
 *
 *   video.c        parse (streams, Matroska labels, the label record),
 *                  libavformat reading from the media's source, the
 *                  container descriptors
 *   video_mp4.c    the MP4 box walker: label carriers, sample table
 *                  checks
 *   video_write.c  writing: the remux with the new label, the record,
 *                  the muxing loop
 *   video_tx.c     the re-encoding chains (encoders, frames, soundtrack)
 *   video_label.c  the visible label: drawn on frames, checked by verify
 *   video_wm.c     the frame watermark (embedded, detected) and the
 *                  soundtrack's samples for the audio watermark
 */
#ifndef MARK_CONTAINER_VIDEO_H
#define MARK_CONTAINER_VIDEO_H

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>

#include "internal.h"
#include "signal/signal.h"

#define IO_BUF 65536
/* The record of a drawn label (visible/record.c, with its time spans):
 * an MP4 mdta key or a Matroska SimpleTag (which the muxer writes in
 * capitals; libavformat's keys match in any case). */
#define RECORD_KEY "aimark:VisibleLabel"

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
    uint64_t frag_samples;               /* samples the trun boxes claim */
    AVFormatContext *ic;                 /* a pipe's demuxer, kept open
                                            from parse for one reading */
} video_priv;

/* An FFmpeg error as the ctx's message ("what: FFmpeg's reason"):
 * code. */
int mark__video_averr(mark_ctx *ctx, int code, const char *what, int e);
/* Open the demuxer on m->src from its start (streams probed); a pipe's
 * was opened by parse, and is handed over once.  Pairs with
 * mark__video_demux_close. */
int mark__video_demux_open(mark_media *m, AVFormatContext **out);
void mark__video_demux_close(AVFormatContext **ic);
/* A decoder for stream st, opened (all cores): libav's status. */
int mark__video_open_dec(const AVStream *st, AVCodecContext **out);
/* The error for a stream that has no decoder (AVERROR_DECODER_NOT_FOUND
 * from mark__video_open_dec): MARK_EUNSUPPORTED, naming its codec. */
int mark__video_no_decoder(mark_ctx *ctx, const AVStream *st);
/* Read the next packet and hand it to dc if it is of stream si; at the
 * end of the input flush dc and set *eof.  A damaged packet is passed
 * over (0); otherwise what libav returned. */
int mark__video_feed_next(AVFormatContext *ic, AVPacket *pkt,
                          AVCodecContext *dc, int si, int *eof);
/* Walk the MP4's boxes (video_mp4.c): its labels added to m, the
 * QuickTime brand and moov's place in v, the sample tables checked. */
int mark__mp4_boxes(mark_media *m);

/* ------------------------------------------------------------------ */
/* Rotation: a phone's video is coded as the sensor saw it, with a
 * display matrix that turns it upright.  The label is laid out, drawn
 * and checked on the picture as displayed. */

/* The displayed size of a w x h coded picture. */
static inline void displayed(int rot, int w, int h, int *dw, int *dh)
{
    *dw = rot == 90 || rot == 270 ? h : w;
    *dh = rot == 90 || rot == 270 ? w : h;
}

/* Where the pixel (x, y) of the displayed picture lies in the w x h
 * coded one. */
static inline void to_coded(int rot, int w, int h, int x, int y, int *cx,
                            int *cy)
{
    switch (rot) {
    case 90: *cx = w - 1 - y; *cy = x; break;
    case 180: *cx = w - 1 - x; *cy = h - 1 - y; break;
    case 270: *cx = y; *cy = h - 1 - x; break;
    default: *cx = x; *cy = y; break;
    }
}

/* Where the pixel (x, y) of the w x h coded picture is displayed. */
static inline void to_display(int rot, int w, int h, int x, int y,
                              int *dx, int *dy)
{
    switch (rot) {
    case 90: *dx = y; *dy = w - 1 - x; break;
    case 180: *dx = w - 1 - x; *dy = h - 1 - y; break;
    case 270: *dx = h - 1 - y; *dy = x; break;
    default: *dx = x; *dy = y; break;
    }
}

/* The rectangle [x0, x1) x [y0, y1) mapped by one of the two above. */
static inline void map_rect(void (*map)(int, int, int, int, int, int *,
                                        int *),
                            int rot, int w, int h, int *x0, int *y0,
                            int *x1, int *y1)
{
    int ax, ay, bx, by;

    map(rot, w, h, *x0, *y0, &ax, &ay);
    map(rot, w, h, *x1 - 1, *y1 - 1, &bx, &by);
    *x0 = ax < bx ? ax : bx;
    *y0 = ay < by ? ay : by;
    *x1 = (ax < bx ? bx : ax) + 1;
    *y1 = (ay < by ? by : ay) + 1;
}

/* The 8-bit plane of a w x h coded picture (ls bytes a row) copied to
 * up (upls a row) as displayed, or back (back). */
static inline void turn_plane(int rot, int w, int h, uint8_t *c,
                              ptrdiff_t ls, uint8_t *up, ptrdiff_t upls,
                              int back)
{
    ptrdiff_t base, sx, sy;              /* where (x, y) upright is:
                                            base + x * sx + y * sy */
    int dw, dh, x, y;

    switch (rot) {
    case 90: base = w - 1; sx = ls; sy = -1; break;
    case 180: base = (ptrdiff_t)(h - 1) * ls + w - 1; sx = -1; sy = -ls;
        break;
    case 270: base = (ptrdiff_t)(h - 1) * ls; sx = -ls; sy = 1; break;
    default: base = 0; sx = 1; sy = ls; break;
    }
    displayed(rot, w, h, &dw, &dh);
    for (y = 0; y < dh; y++) {
        uint8_t *p = c + base + (ptrdiff_t)y * sy, *u = up + y * upls;

        if (back)
            for (x = 0; x < dw; x++)
                p[x * sx] = u[x];
        else
            for (x = 0; x < dw; x++)
                u[x] = p[x * sx];
    }
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
    uint8_t *up;                         /* its luma upright, if turned */
    float *luma;
    int16_t *qd;                         /* a cell row's change, rounded,
                                            for each column */
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

/* Set up the re-encoding of the video (visible label, frame watermark)
 * and of the soundtrack (watermark) of ic into t->oc, whose streams are
 * copies (video_tx.c).  Pairs with mark__video_tx_free. */
int mark__video_tx_setup(txctx *t, AVFormatContext *ic,
                         mark__pixel_ops *ops, int webm);
void mark__video_tx_free(txctx *t);
/* Decode what pkt brings (NULL: the end) for a re-encoded stream. */
int mark__video_tx_packet(txctx *t, AVCodecContext *dec, int video,
                          const AVPacket *pkt);
/* Encode f (NULL: flush) and write the packets to stream idx. */
int mark__video_enc_write(txctx *t, AVCodecContext *enc, int idx,
                          AVFrame *f);
/* Everything still inside the audio chain, at the end. */
int mark__video_audio_flush(txctx *t);
/* The visible label drawn on frame f (video_label.c): libav's status. */
int mark__video_draw_label(txctx *t, AVFrame *f);
/* The frame watermark embedded in frame f (video_wm.c). */
int mark__video_wm_frame(txctx *t, AVFrame *f);

/* The container operations (mark__container) of the other files. */
int mark__video_stream(mark_media *m, mark__pixel_ops *ops, mark__sink *k);
int mark__video_pcm(const mark_media *cm,
                    int (*take)(void *u, const float *x, size_t frames),
                    void *u);
int mark__video_explicit(const mark_media *cm, mark__explicit *res,
                         double edge);

#endif
