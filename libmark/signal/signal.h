/*
 * signal.h - watermark signal processing on plain float buffers (never a
 * codec): the image scheme img-v1 and its helpers.
 */
#ifndef MARK_SIGNAL_H
#define MARK_SIGNAL_H

#include "../payload/payload.h"

void mark__fft(float *re, float *im, size_t n, int inverse);
void mark__fft2(float *re, float *im, size_t w, size_t h, int inverse);
void mark__fft2_real(float *re, float *im, size_t w, size_t h, float *rows);
void mark__ifft2_real(float *re, float *im, size_t w, size_t h, float *rows);

/* img-v1: the smallest shortest side embedded into. */
#define MARK__IMGWM_MIN_SIDE 128

typedef struct mark__wm_result {
    int found;                           /* the keyed check passed */
    mark_payload payload;
    double score;                        /* codeword agreement, 0..1 */
    double sync;                         /* pilot peak over its noise */
    double period_x;                     /* tile edge lengths found, px */
    double period_y;
    double angle;                        /* tile rotation found, degrees */
    int candidates;                      /* decodes tried */
    const char *scheme;                  /* audio: the version found */
    /* audio: where the mark was read and how the time axis was found */
    double t_start, t_end;               /* seconds of the input */
    double tempo;                        /* time scale, 1 unchanged */
    int speed;                           /* pitch moved with the tempo */
} mark__wm_result;

/* Add the img-v1 mark for (key, payload) to a luma plane (values
 * 0..255, w x h, row stride w) in place, scaled by strength (1.0 =
 * default).  MARK_EINVAL for images under the minimum size. */
int mark__imgwm_embed(mark_ctx *ctx, const mark_key *key,
                      const mark_payload *p, float *luma, uint32_t w,
                      uint32_t h, double strength);

/* The same mark as a change: delta (w x h) gets what _embed would add
 * to luma.  delta may be luma itself (each value is read before it is
 * replaced); otherwise luma is left as it is. */
int mark__imgwm_delta(mark_ctx *ctx, const mark_key *key,
                      const mark_payload *p, const float *luma, uint32_t w,
                      uint32_t h, double strength, float *delta);

/* The embedder in steps, for callers that hold the picture in another
 * form (JPEG coefficients).  The work scale: the plane is w / d x h / d,
 * each value the mean of a d x d block (lw) and of its squares (sq). */
typedef struct mark__imgwm_plan mark__imgwm_plan;
uint32_t mark__imgwm_work_step(uint32_t w, uint32_t h);
/* lw and sq at that scale from planes of 2 x 2 cell means and mean
 * squares ((w + 1) / 2 x (h + 1) / 2): an area resampling, exact when d
 * is even. */
int mark__imgwm_work_from_cells(mark_ctx *ctx, const float *v2,
                                const float *s2, uint32_t w, uint32_t h,
                                float *lw, float *sq);
/* The mask, the informed chip values and the energy cap from lw and sq
 * (w / d x h / d each, row stride w / d).  busy (1 for images) raises
 * the amplitude above the flat floor and the energy cap with it: flat
 * areas keep their level, texture gets busy times its share.  spread
 * (images: 1) counts the spread of levels inside a work pixel in the
 * cap, so a picture of text keeps its PSNR at half resolution; with 0
 * the cap takes each work pixel at its mean level (video frames: their
 * robustness was measured so, and with the spread a high-contrast
 * cellular automaton clip came out 1.3 dB weaker and lost CRF 30). */
int mark__imgwm_plan_new(mark_ctx *ctx, const mark_key *key,
                         const mark_payload *p, uint32_t w, uint32_t h,
                         double strength, double busy, int spread,
                         const float *lw, const float *sq,
                         mark__imgwm_plan **out);
void mark__imgwm_plan_free(mark_ctx *ctx, mark__imgwm_plan *pl);
/* The plan for a whole luma plane (what mark__imgwm_delta makes first):
 * video keeps one for a few frames. */
int mark__imgwm_plan_from_luma(mark_ctx *ctx, const mark_key *key,
                               const mark_payload *p, const float *luma,
                               uint32_t w, uint32_t h, double strength,
                               double busy, mark__imgwm_plan **out);
/* The change for every pixel (levels luma, w x h), or for every 2 x 2
 * cell (cell means l2, (w + 1) / 2 x (h + 1) / 2; the change is the same
 * for the cell's four pixels).  The output may be the input. */
int mark__imgwm_plan_delta(mark_ctx *ctx, const mark__imgwm_plan *pl,
                           const float *luma, float *delta);
int mark__imgwm_plan_delta2(mark_ctx *ctx, const mark__imgwm_plan *pl,
                            const float *l2, float *delta2);

/* Look for an img-v1 mark in a luma plane: blind, with the tile period
 * (scale) and offset (crop) found from the signal itself. */
/* For the golden tests of the frozen format: a BLAKE2b-256 digest of the
 * key-driven layout (pilot and spreading signs, the coded bit of each
 * chip), and the chip size in pixels for an image of w x h (flat: one
 * the embedder found mostly flat). */
void mark__imgwm_pattern_digest(const mark_key *key, unsigned char out[32]);
double mark__imgwm_chip_size(uint32_t w, uint32_t h, int flat);

int mark__imgwm_detect(mark_ctx *ctx, const mark_key *key,
                       const float *luma, uint32_t w, uint32_t h,
                       mark__wm_result *res);

/* aud-v3: the audio watermark (aud_v1.c).  It lives in the log
 * magnitudes of 250-6250 Hz of the mono mix at 16 kHz, so it is the same
 * mark at every sample rate; the change is computed there and resampled
 * to the input's rate.  Samples are interleaved floats, full scale 1.
 * aud-v2 is aud-v1 with twice the quantisation step (5 dB); aud-v3 has
 * its own layout, a higher level floor and a step of 5 or 16 dB chosen
 * per half second.  The embedder writes aud-v3, the detector reads all
 * three. */
#define MARK__AUDWM_SCHEME "aud-v3"

/* The streaming embedder: samples go in, the same number come out, a
 * bounded delay (well under a second) later; constant memory. */
typedef struct mark__audwm mark__audwm;
int mark__audwm_new(mark_ctx *ctx, const mark_key *key,
                    const mark_payload *p, uint32_t rate, int channels,
                    double strength, mark__audwm **out);
/* Push n frames of in (NULL with n 0 at the end of the input: flush);
 * up to cap frames come out in out, *got says how many.  Call again
 * with n 0 and in not NULL to collect what is left of a push that did
 * not fit (cap at least 4096 frames avoids that). */
int mark__audwm_process(mark__audwm *e, const float *in, size_t n,
                        float *out, size_t cap, size_t *got);
void mark__audwm_free(mark__audwm *e);
/* Push n frames of x (NULL: the end) and hand everything that comes out
 * to put, cap frames of buf at a time; put's error stops it. */
int mark__audwm_pump(mark__audwm *e, const float *x, size_t n, float *buf,
                     size_t cap,
                     int (*put)(void *u, const float *y, size_t frames),
                     void *u);
/* Whole buffer, in place. */
int mark__audwm_embed(mark_ctx *ctx, const mark_key *key,
                      const mark_payload *p, float *x, size_t frames,
                      uint32_t rate, int channels, double strength);
/* The same as an older version wrote it (version 1: aud-v1; 2: aud-v2;
 * 3: aud-v3, what _embed writes), for tests of the reader. */
int mark__audwm_embed_version(mark_ctx *ctx, const mark_key *key,
                              const mark_payload *p, float *x,
                              size_t frames, uint32_t rate, int channels,
                              double strength, int version);
/* The detector fed in pieces (only the 16 kHz mono work signal is held):
 * _feed takes interleaved frames and returns 1 once it has all it wants
 * (MARK__AUDWM_MAX_SECONDS); _detect searches once.  quick: only the time
 * axis as embedded (no tempo or speed change) in the first 30 s, about 20
 * times faster: for marking, to see whether the input carries a mark of
 * ours already. */
typedef struct mark__audwm_in mark__audwm_in;
int mark__audwm_in_new(mark_ctx *ctx, uint32_t rate, int channels,
                       int quick, mark__audwm_in **out);
int mark__audwm_in_feed(mark__audwm_in *d, const float *x, size_t frames);
int mark__audwm_in_detect(mark__audwm_in *d, const mark_key *key,
                          mark__wm_result *res);
void mark__audwm_in_free(mark__audwm_in *d);
/* For the golden test of the frozen formats: a BLAKE2b-256 digest of
 * the key-driven layout of a version (1-3, as _embed_version; aud-v1 and
 * aud-v2 share one): groups and signs of the cell pairs; each slot's
 * pilot bit, dithers and coded-bit indices. */
void mark__audwm_layout_digest(const mark_key *key, int version,
                               unsigned char out[32]);
/* Blind detection over x (at most the first MARK__AUDWM_MAX_SECONDS). */
#define MARK__AUDWM_MAX_SECONDS 600
/* Shorter input is not marked: too little for the detector. */
#define MARK__AUDWM_MIN_SECONDS 2
/* Audio of 8 bits a sample gets no watermark: rounding the marked
 * samples to 256 levels adds noise as strong as the mark (a marked 8-bit
 * WAV or FLAC of music was not found even unattacked). */
#define MARK__AUDWM_MIN_BITS 9
/* The decision's false-positive bound: at most MARK__AUDWM_TRIES decodes
 * a file for each of the three versions, each checking up to MARK__LIST
 * paths, each passing the 48-bit keyed check by chance with probability
 * 2^-48: 3 x 960 x 16 x 2^-48, about 1.6e-10. */
#define MARK__AUDWM_TRIES 960
#define MARK__AUDWM_FP_BOUND \
    (3.0 * MARK__AUDWM_TRIES * MARK__LIST / 281474976710656.0)
int mark__audwm_detect(mark_ctx *ctx, const mark_key *key, const float *x,
                       size_t frames, uint32_t rate, int channels,
                       mark__wm_result *res);

/* txt-v1: the text watermark (signal/txt_v1.c).  The payload's 112
 * information bits (64 payload + 48 keyed check, no convolutional code:
 * the channel loses whole code points, it does not add noise), whitened
 * by a keyed stream, as 56 invisible code points of 2 bits each after a
 * frame marker; copies follow each other through the text, a few code
 * points at each safe place (after a space that follows a word, between
 * two CJK characters; never in code, URLs, e-mail addresses, numbers,
 * brackets, math, headings, emoji or combining sequences, nor inside a
 * word), about one copy every MARK__TXTWM_COPY_CHARS characters. */
#define MARK__TXTWM_SCHEME "txt-v1"
#define MARK__TXTWM_COPY_CHARS 160
/* The frame marker and the four symbols (2 bits: 0..3). */
#define MARK__TXTWM_MARKER 0x2063u       /* INVISIBLE SEPARATOR */
extern const uint32_t mark__txtwm_symbol[4];
/* Is u one of the five code points the scheme writes? */
int mark__txtwm_is_ours(uint32_t u);

/* The streaming embedder: UTF-8 in, UTF-8 out, fed in pieces of any
 * size.  Everything fed comes out at once (code points of the mark
 * before the character they precede) except an incomplete UTF-8
 * sequence at the end of a piece, held until the next.  The input must
 * start at the start of a line (front matter, if any, is not fed).
 * Invalid UTF-8 is passed through unmarked. */
typedef struct mark__txtwm mark__txtwm;
int mark__txtwm_new(mark_ctx *ctx, const mark_key *key,
                    const mark_payload *p, mark__txtwm **out);
int mark__txtwm_feed(mark__txtwm *w, const char *in, size_t n,
                     mark__buf *out);
/* The end of the input: what was held goes out. */
int mark__txtwm_finish(mark__txtwm *w, mark__buf *out);
/* Copies (whole or begun) written so far. */
size_t mark__txtwm_copies(const mark__txtwm *w);
void mark__txtwm_free(mark__txtwm *w);

/* What the detector found. */
typedef struct mark__txtwm_result {
    int found;                           /* a copy passed the keyed check */
    mark_payload payload;
    size_t symbols;                      /* code points of ours seen */
    size_t copies;                       /* whole frames (marker + 56) */
    size_t copies_ok;                    /* ... passing the check */
    int partial;                         /* code points of ours, but no
                                            copy passed: cut or damaged */
    int tries;                           /* decodes tried */
    double score;                        /* copies_ok / copies (1 when
                                            found from pieces only) */
} mark__txtwm_result;

/* The decision's false-positive bound: at most MARK__TXTWM_TRIES
 * decodes, each passing the 48-bit keyed check by chance with
 * probability 2^-48. */
#define MARK__TXTWM_TRIES 4096
#define MARK__TXTWM_FP_BOUND (MARK__TXTWM_TRIES / 281474976710656.0)
/* Look for the mark in n bytes of UTF-8 (invalid sequences skipped). */
int mark__txtwm_detect(mark_ctx *ctx, const mark_key *key, const char *text,
                       size_t n, mark__txtwm_result *res);
/* Remove the scheme's code points from n bytes of UTF-8 into out (room
 * for n bytes; may be text itself): the length left. */
size_t mark__txtwm_strip(const char *text, size_t n, char *out);

#endif
