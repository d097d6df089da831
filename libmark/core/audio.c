/*
 * audio.c - what the audio containers share: PCM sample layouts to and
 * from float, and the audible label (the rhythm "short long short short"
 * of GB 45438 section 5.3) laid over the content or set before or after
 * it.
 *
 * The label's tones come from signal/rhythm.c.  This file decides where
 * they go and how loud: over the content (overlay), the content is ducked
 * by 12 dB around the tones, with 30 ms ramps, and the tone is set to
 * the content's own level there (12 dB over what is left of it); as an
 * added stretch (extend), the
 * tones sit in silence at the content's level.  Either way the tone's
 * peak stays between -34 and -6 dBFS, so it is heard on quiet recordings
 * and never clips on loud ones (ducked content peaks at -12 dBFS).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "signal/rhythm.h"

#define MARGIN 0.15                      /* s before and after the tones */
#define RAMP 0.03                        /* s, the ducking's ramps */
#define DUCK 0.25f                       /* -12 dB under the tones */
#define AMP_MIN 0.02                     /* tone peak, -34 dBFS */
#define AMP_MAX 0.5                      /* -6 dBFS */
#define AMP_SILENT 0.1                   /* on silence, -20 dBFS */

/* A float sample as stored, made safe for the maths after it: NaN reads
 * as silence and anything past SAMPLE_MAX (60 dB over full scale: no
 * recording, only a hostile file, gets there) as SAMPLE_MAX, so every
 * later sum of squares is finite.  (A NaN in a float WAV, or from
 * libsndfile's Vorbis decoder, reached the rhythm detector's
 * float-to-int conversions.) */
#define SAMPLE_MAX 1000.0

static float sample_clean(double x)
{
    if (x != x)
        return 0;
    if (x > SAMPLE_MAX)
        return (float)SAMPLE_MAX;
    if (x < -SAMPLE_MAX)
        return (float)-SAMPLE_MAX;
    return (float)x;
}

void mark__samples_clean(float *x, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        x[i] = sample_clean(x[i]);
}

void mark__pcm_decode(const mark__pcm *f, const unsigned char *in,
                      size_t frames, float *out)
{
    size_t i, n = frames * (size_t)f->channels;

    switch (f->enc) {
    case MARK__PCM_U8:
        for (i = 0; i < n; i++)
            out[i] = ((int)in[i] - 128) * (1.0f / 128);
        break;
    case MARK__PCM_S16:
        for (i = 0; i < n; i++)
            out[i] = (int16_t)(in[2 * i] | in[2 * i + 1] << 8) *
                     (1.0f / 32768);
        break;
    case MARK__PCM_S24:
        for (i = 0; i < n; i++) {
            const unsigned char *p = in + 3 * i;
            int32_t v = (int32_t)((uint32_t)p[0] << 8 | (uint32_t)p[1] << 16 |
                                  (uint32_t)p[2] << 24) / 256;

            out[i] = (float)v * (1.0f / 8388608);
        }
        break;
    case MARK__PCM_S32:
        for (i = 0; i < n; i++) {
            const unsigned char *p = in + 4 * i;
            int32_t v = (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 |
                                  (uint32_t)p[2] << 16 |
                                  (uint32_t)p[3] << 24);

            out[i] = (float)((double)v * (1.0 / 2147483648.0));
        }
        break;
    case MARK__PCM_F32:
        for (i = 0; i < n; i++) {
            uint32_t u = (uint32_t)in[4 * i] | (uint32_t)in[4 * i + 1] << 8 |
                         (uint32_t)in[4 * i + 2] << 16 |
                         (uint32_t)in[4 * i + 3] << 24;
            float v;

            memcpy(&v, &u, 4);
            out[i] = sample_clean(v);
        }
        break;
    case MARK__PCM_F64:
        for (i = 0; i < n; i++) {
            uint64_t u = 0;
            double d;
            int k;

            for (k = 7; k >= 0; k--)
                u = u << 8 | in[8 * i + (size_t)k];
            memcpy(&d, &u, 8);
            out[i] = sample_clean(d);
        }
        break;
    default:
        memset(out, 0, n * sizeof *out);
    }
}

static int32_t to_int(float x, double scale, double lo, double hi)
{
    double v = floor((double)x * scale + 0.5);

    if (!(v >= lo))                     /* NaN too */
        v = lo;
    if (v > hi)
        v = hi;
    return (int32_t)v;
}

void mark__pcm_encode(const mark__pcm *f, const float *in, size_t frames,
                      unsigned char *out)
{
    size_t i, n = frames * (size_t)f->channels;

    switch (f->enc) {
    case MARK__PCM_U8:
        for (i = 0; i < n; i++)
            out[i] = (unsigned char)(to_int(in[i], 128, -128, 127) + 128);
        break;
    case MARK__PCM_S16:
        for (i = 0; i < n; i++) {
            uint32_t v = (uint32_t)to_int(in[i], 32768, -32768, 32767);

            out[2 * i] = (unsigned char)v;
            out[2 * i + 1] = (unsigned char)(v >> 8);
        }
        break;
    case MARK__PCM_S24:
        for (i = 0; i < n; i++) {
            uint32_t v = (uint32_t)to_int(in[i], 8388608, -8388608, 8388607);

            out[3 * i] = (unsigned char)v;
            out[3 * i + 1] = (unsigned char)(v >> 8);
            out[3 * i + 2] = (unsigned char)(v >> 16);
        }
        break;
    case MARK__PCM_S32:
        for (i = 0; i < n; i++) {
            uint32_t v = (uint32_t)to_int(in[i], 2147483648.0,
                                          -2147483648.0, 2147483647.0);
            int k;

            for (k = 0; k < 4; k++)
                out[4 * i + (size_t)k] = (unsigned char)(v >> (8 * k));
        }
        break;
    case MARK__PCM_F32:
        for (i = 0; i < n; i++) {
            uint32_t u;
            int k;

            memcpy(&u, &in[i], 4);
            for (k = 0; k < 4; k++)
                out[4 * i + (size_t)k] = (unsigned char)(u >> (8 * k));
        }
        break;
    case MARK__PCM_F64:
        for (i = 0; i < n; i++) {
            double d = in[i];
            uint64_t u;
            int k;

            memcpy(&u, &d, 8);
            for (k = 0; k < 8; k++)
                out[8 * i + (size_t)k] = (unsigned char)(u >> (8 * k));
        }
        break;
    default:
        memset(out, 0, n * (size_t)f->bytes);
    }
}

/* The label as a clip: mono, peak 1, with the RMS of its sounding part
 * (where it is above 1% of the peak), which sets its level. */
int mark__audible_clip_make(mark_ctx *ctx, int voice, uint32_t rate,
                            mark__audible_clip *c)
{
    double s2 = 0;
    size_t i, on = 0;
    int rc;

    memset(c, 0, sizeof *c);
    if (voice) {
        rc = mark__voice_render(ctx, rate, &c->x, &c->n);
        if (rc < 0)
            return rc;
    } else {
        c->n = mark__rhythm_frames(rate);
        c->x = mark__malloc(ctx, sizeof *c->x * (c->n ? c->n : 1));
        if (c->x == NULL)
            return mark__err(ctx, MARK_ENOMEM, "out of memory");
        mark__rhythm_render(c->x, c->n, 0, rate, 1.0f);
    }
    for (i = 0; i < c->n; i++)
        if (c->x[i] > 0.01f || c->x[i] < -0.01f) {
            s2 += (double)c->x[i] * c->x[i];
            on++;
        }
    c->rms = on ? sqrt(s2 / (double)on) : 1;
    return MARK_OK;
}

void mark__audible_clip_free(mark_ctx *ctx, mark__audible_clip *c)
{
    mark__free(ctx, c->x);
    memset(c, 0, sizeof *c);
}

size_t mark__audible_window(const mark__audible_clip *c, uint32_t rate)
{
    return c->n + 2 * (size_t)(MARGIN * rate + 0.5);
}

double mark__audible_rms(const float *x, size_t frames, int channels)
{
    size_t i, n = frames * (size_t)channels;
    double s = 0;

    for (i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return n ? sqrt(s / (double)n) : 0;
}

/* The clip's gain for content of this RMS: the clip's sounding part at
 * the content's level, its peak within AMP_MIN..AMP_MAX. */
static float clip_gain(const mark__audible_clip *c, double rms)
{
    double a = rms / c->rms;

    if (rms < 1e-4)
        return (float)AMP_SILENT;
    return (float)(a < AMP_MIN ? AMP_MIN : a > AMP_MAX ? AMP_MAX : a);
}

/* Add the clip, starting MARGIN into the window, to every channel. */
static void add_clip(float *x, size_t frames, int channels, uint32_t rate,
                     const mark__audible_clip *c, float gain)
{
    size_t lead = (size_t)(MARGIN * rate + 0.5), i;
    int k;

    for (i = 0; i < c->n && lead + i < frames; i++)
        for (k = 0; k < channels; k++)
            x[(lead + i) * (size_t)channels + (size_t)k] += gain * c->x[i];
}

void mark__audible_clip_overlay(float *x, size_t frames, int channels,
                                uint32_t rate, const mark__audible_clip *c)
{
    size_t ramp = (size_t)(RAMP * rate + 0.5), i;
    double rms = mark__audible_rms(x, frames, channels);
    int k;

    if (ramp < 1)
        ramp = 1;
    for (i = 0; i < frames; i++) {
        size_t d = i < frames - 1 - i ? i : frames - 1 - i;
        float g = DUCK;

        if (d < ramp) {
            /* raised cosine from 1 (at the window's edge) to DUCK */
            double u = (double)d / (double)ramp;

            g = (float)(DUCK + (1 - DUCK) * 0.5 * (1 + cos(M_PI * u)));
        }
        for (k = 0; k < channels; k++)
            x[i * (size_t)channels + (size_t)k] *= g;
    }
    add_clip(x, frames, channels, rate, c, clip_gain(c, rms));
}

void mark__audible_clip_fill(float *x, size_t frames, int channels,
                             uint32_t rate, const mark__audible_clip *c,
                             double content_rms)
{
    memset(x, 0, frames * (size_t)channels * sizeof *x);
    add_clip(x, frames, channels, rate, c, clip_gain(c, content_rms));
}

void mark__audible_plan_make(const mark__pixel_ops *ops, int64_t frames,
                             size_t W, mark__audible_plan *p)
{
    int64_t w = (int64_t)W;

    memset(p, 0, sizeof *p);
    if (ops == NULL)
        return;
    p->W = W;
    p->start = !!(ops->audible & MARK_AUDIBLE_START);
    p->end = !!(ops->audible & MARK_AUDIBLE_END);
    p->ext_start = p->start && (ops->audible_mix == MARK_AUDIBLE_EXTEND ||
                                (frames >= 0 && frames < w));
    p->ext_end = p->end &&
                 (ops->audible_mix == MARK_AUDIBLE_EXTEND ||
                  (frames >= 0 &&
                   frames < w * (p->start && !p->ext_start ? 2 : 1)));
}

/* The rhythm label finder over interleaved frames: a mono mix goes to
 * signal/rhythm.c. */
#define EDGE 3.0                         /* s: "at the start" / "end" */
#define MAX_HITS 16

struct mark__audible_scan {
    mark_ctx *ctx;
    mark__rhythm_det *det;
    uint32_t rate;
    int channels;
    double offset;                       /* s: where det's input starts */
    mark__rhythm_hit hits[MAX_HITS];     /* of the stretches closed */
    int n_hits;
    float mono[1024];
};

int mark__audible_scan_new(mark_ctx *ctx, uint32_t rate, int channels,
                           mark__audible_scan **out)
{
    mark__audible_scan *s = mark__calloc(ctx, 1, sizeof *s);
    int rc;

    *out = NULL;
    if (s == NULL)
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    s->ctx = ctx;
    s->rate = rate;
    s->channels = channels;
    rc = mark__rhythm_det_new(ctx, rate, &s->det);
    if (rc < 0) {
        mark__free(ctx, s);
        return rc;
    }
    *out = s;
    return MARK_OK;
}

/* Close the stretch fed so far (keeping its hits) and go on from frame
 * `to` of the input: the frames between are not looked at. */
int mark__audible_scan_jump(mark__audible_scan *s, uint64_t to)
{
    int n = 0, i, rc;

    rc = mark__rhythm_det_finish(s->det, s->hits + s->n_hits,
                                 MAX_HITS - s->n_hits, &n);
    if (rc < 0)
        return rc;
    for (i = s->n_hits; i < s->n_hits + n; i++) {
        s->hits[i].start += s->offset;
        s->hits[i].end += s->offset;
    }
    s->n_hits += n;
    mark__rhythm_det_free(s->det);
    s->det = NULL;
    s->offset = (double)to / s->rate;
    return mark__rhythm_det_new(s->ctx, s->rate, &s->det);
}

int mark__audible_scan_feed(mark__audible_scan *s, const float *x,
                            size_t frames)
{
    const size_t cap = sizeof s->mono / sizeof s->mono[0];
    size_t i, ch = (size_t)s->channels;
    int rc;

    while (frames > 0) {
        size_t n = frames < cap ? frames : cap;

        for (i = 0; i < n; i++) {
            float v = 0;
            size_t c;

            for (c = 0; c < ch; c++)
                v += x[i * ch + c];
            /* decoders other than ours (libsndfile's Vorbis on a damaged
             * stream) can hand over NaN too */
            s->mono[i] = sample_clean(v / (float)ch);
        }
        rc = mark__rhythm_det_feed(s->det, s->mono, n);
        if (rc < 0)
            return rc;
        x += n * ch;
        frames -= n;
    }
    return MARK_OK;
}

int mark__audible_scan_finish(mark__audible_scan *s, double duration,
                              mark__explicit *res)
{
    mark__rhythm_hit *hits = s->hits;
    int n, i, rc, at[3] = { 0, 0, 0 };
    size_t len = 0;
    static const char *const where[3] = { "start", "end", "middle" };

    memset(res, 0, sizeof *res);
    rc = mark__audible_scan_jump(s, 0);
    if (rc < 0)
        return rc;
    n = s->n_hits;
    res->checked = 1;
    res->found = n > 0;
    snprintf(res->text, sizeof res->text, "%s",
             n > 0 ? "short long short short (Morse \"AI\")" : "");
    if (n == 0) {
        snprintf(res->note, sizeof res->note, "no rhythm label (short long "
                 "short short) found");
        return MARK_OK;
    }
    for (i = 0; i < n; i++) {
        double to_start = hits[i].start, to_end = duration - hits[i].end;
        int k = to_start <= to_end ? (to_start < EDGE ? 0 : 2)
                                   : (to_end < EDGE ? 1 : 2);

        at[k] = 1;
        if (hits[i].score > res->score)
            res->score = hits[i].score;
        if (i < 4 && len < sizeof res->note) {
            int w = snprintf(res->note + len, sizeof res->note - len,
                             "%srhythm label at %.2f-%.2f s (%.0f Hz, long "
                             "tone %.1fx the short)", i ? "; " : "",
                             hits[i].start, hits[i].end, hits[i].freq,
                             hits[i].ratio);

            len += w > 0 ? (size_t)w : 0;
        }
    }
    len = 0;
    for (i = 0; i < 3; i++)
        if (at[i] && len < sizeof res->position) {
            int w = snprintf(res->position + len, sizeof res->position - len,
                             "%s%s", len ? "+" : "", where[i]);

            len += w > 0 ? (size_t)w : 0;
        }
    return MARK_OK;
}

void mark__audible_scan_free(mark__audible_scan *s)
{
    if (s == NULL)
        return;
    mark__rhythm_det_free(s->det);
    mark__free(s->ctx, s);
}

int mark__too_long(mark_ctx *ctx, const char *what, uint64_t frames,
                   int rate)
{
    int64_t lim = ctx->limits[MARK_LIMIT_DURATION];

    if (rate <= 0 || frames / (uint64_t)rate <= (uint64_t)lim)
        return MARK_OK;
    return mark__err(ctx, MARK_ELIMIT, "%s decodes to more than %lld s, "
                     "the duration limit", what, (long long)lim);
}
