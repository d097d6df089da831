/*
 * rhythm.h - the audible label of GB 45438-2025 section 5.3: the rhythm
 * "short long short short" (Morse "AI", .- ..) as a clean sine tone, its
 * generator and a streaming detector that finds it, or a label of the
 * same rhythm at another tempo or pitch, anywhere in a recording.
 *
 * Plain float samples in and out; no codec, no container.  The caller
 * (core/audio.c) decides where the label goes and how loud it is.
 */
#ifndef MARK_RHYTHM_H
#define MARK_RHYTHM_H

#include <stddef.h>
#include <stdint.h>

typedef struct mark_ctx mark_ctx;

#define MARK__RHYTHM_UNIT 0.1            /* s, the Morse unit */
#define MARK__RHYTHM_FREQ 1000.0         /* Hz, the tone */
#define MARK__RHYTHM_RAMP 0.005          /* s, raised-cosine fade of each
                                            tone, inside its duration */
#define MARK__RHYTHM_UNITS 11            /* tone 1, gap 1, tone 3, gap 3,
                                            tone 1, gap 1, tone 1 */
#define MARK__RHYTHM_MAX_HITS 64         /* the detector keeps this many */

/* Frames the label takes at this rate (the 1.1 s pattern, no margins). */
size_t mark__rhythm_frames(uint32_t rate);

/* The label's waveform, peak amplitude amp, into out[0..n): frame i of
 * the pattern for i < mark__rhythm_frames(rate), 0 beyond.  A window:
 * `first` is the index of out[0] within the pattern, so the caller can
 * render it block by block (the samples do not depend on the blocking).
 * Nyquist-safe: if rate < 2.5 * freq, rate / 4 is the frequency. */
void mark__rhythm_render(float *out, size_t n, size_t first, uint32_t rate,
                         float amp);

/* The same at another tempo (unit, s) and frequency (Hz), for tests and
 * for producers that choose their own; a unit outside (0, 10] s or a
 * freq outside (0, 1e6] Hz takes the default.  mark__rhythm_render is
 * this with the defaults. */
size_t mark__rhythm_frames_ex(uint32_t rate, double unit);
void mark__rhythm_render_ex(float *out, size_t n, size_t first,
                            uint32_t rate, float amp, double unit,
                            double freq);

/* Streaming detector: fed mono float samples (any scale) block by block,
 * in constant memory whatever the length.  It finds the rhythm by the
 * ratio of the tone lengths (long / short >= 2), not their absolute
 * durations: units of about 50 to 300 ms, any steady pure tone of 300 Hz
 * to 4 kHz (below 0.45 of the rate), at the start, end or middle. */
typedef struct mark__rhythm_det mark__rhythm_det;

typedef struct mark__rhythm_hit {
    double start, end;                   /* s from the start of what was
                                            fed: first tone on, last off */
    double freq;                         /* Hz, the tone's frequency */
    double ratio;                        /* long tone / mean short tone
                                            duration (3 for Morse) */
    double score;                        /* 0..1 confidence */
} mark__rhythm_hit;

/* A detector for mono samples at rate (4000 to 768000 Hz, else
 * MARK_EINVAL); *out is NULL on error (MARK_ENOMEM).  Pairs with
 * mark__rhythm_det_free. */
int mark__rhythm_det_new(mark_ctx *ctx, uint32_t rate,
                         mark__rhythm_det **out);

/* Feed n samples; any block sizes give the same result.  Non-finite
 * samples count as 0.  MARK_EINVAL after _finish. */
int mark__rhythm_det_feed(mark__rhythm_det *d, const float *x, size_t n);

/* After the last feed: the hits in time order (at most max of them, the
 * strongest when there are more; *count gets how many).  The detector
 * keeps at most MARK__RHYTHM_MAX_HITS, the strongest.  No hit is a
 * result (*count = 0), not an error.  May be called again for the same
 * answer; no feed after it. */
int mark__rhythm_det_finish(mark__rhythm_det *d, mark__rhythm_hit *hits,
                            int max, int *count);

/* Free the detector; NULL is a no-op. */
void mark__rhythm_det_free(mark__rhythm_det *d);

#endif
