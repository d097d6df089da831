/*
 * rhythm.c - the audible label of GB 45438-2025 section 5.3, the rhythm
 * "short long short short" (Morse "AI"): its tones, and a detector that
 * finds it in a stream of samples.
 *
 * The label.  Four sine tones on a 100 ms unit: tone 1, gap 1, tone 3,
 * gap 3 (the letter gap), tone 1, gap 1, tone 1; 1.1 s in all.  Each tone
 * fades in and out over 5 ms (raised cosine, inside its duration), so
 * the tones start and end at 0 without a click.
 *
 * The detector.  The label may come from another producer at another
 * tempo or pitch, mixed over ducked content, coded as MP3 or resampled,
 * so it looks for the rhythm's shape, not for our exact waveform:
 *
 * (1) The rate is halved (half-band filters) while it stays at 11.025
 *     kHz or more (44.1 kHz to 11.025, 48 to 12, 32 to 16): nothing above
 *     5 kHz is needed, and it halves the cost.  Every 10 ms a spectrum
 *     of the last 64 ms (Hann, zero-padded to a power of two, a real FFT
 *     through fft.c's complex one at half the length), only the bins of
 *     250 Hz to 5 kHz kept.  A tone's energy is read from its bin and
 *     the two next to it, about +-16 Hz: content a few percent off its
 *     pitch stays out (a 32 ms window halved the hits on 600 Hz labels
 *     over speech), and the window still fits a 50 ms gap (the Hann's
 *     ends weigh little).
 * (2) A track opens on one of the strongest peaks of a spectrum when its
 *     bins hold a good share of the band, not counting the stronger
 *     peaks, and little leaks around them (a narrow peak).  It follows
 *     its bin while the energy there stays near its peak and the bin
 *     stays a peak; one spectrum below is forgiven (a beat with content
 *     near the pitch).  Then it closes and becomes a segment.  A track
 *     that rises well above its own peak later on was a note at the
 *     tone's pitch when the tone began: it is cut there.
 * (3) A segment's edges are the half-amplitude points of the energy at
 *     its bin, interpolated between spectra: the amplitude at a tone's
 *     bin is the share of the window the tone covers, half when the
 *     window is centred on the edge, so the durations do not depend on
 *     the window.  The time from 50% to 85% of the amplitude tells a
 *     switched tone (about a quarter of the window) from a played note.
 * (4) The last SEGS usable segments stay in a ring; each new one is
 *     tried as the last tone with the three before it at its frequency.
 *     The tests, all relative so the tempo is free: long / mean short
 *     >= 2; the short tones within 1.6x of each other; each gap 0.4 to 4
 *     short tones and quiet at that frequency; one steady frequency (3%);
 *     levels within 6 dB; sharp edges.  Melodies fail the frequency test,
 *     held and played notes the edge and gap tests, speech most of them.
 *
 * Limits.  Content within a few percent of the tone's pitch and about
 * as loud as it (a held note, a speech harmonic crossing it) fills the
 * gaps or joins a tone, and the label is missed.  With the tone 6 dB over
 * ducked synthetic content: 1 kHz labels over speech, or over music with
 * no note on that pitch, are found 97-100% of the time; over music whose
 * notes land on it (B5 is 988 Hz) 90% at the 100 ms unit, 45% at 250 ms;
 * 600 Hz labels over speech (its harmonics are strongest there) 75%.
 * A rhythm played on one steady pure tone with switched edges, by
 * anyone, is the label as far as this can tell.
 *
 * Memory is constant: the window's samples, a few spectra, the tracks,
 * the segment ring and at most MARK__RHYTHM_MAX_HITS hits.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "signal.h"
#include "rhythm.h"

/* The pattern: tone k spans units [TONE_ON[k], TONE_OFF[k]). */
static const int TONE_ON[4] = { 0, 2, 8, 10 };
static const int TONE_OFF[4] = { 1, 5, 9, 11 };

#define RATE_MIN 4000u
#define RATE_MAX 768000u
#define WORK_MIN 11025.0                 /* halve rates while they stay
                                            at least this */
#define HB_TAPS 47                       /* half-band filter length */
#define HB_MAX 5                         /* halvings at most */
#define CHUNK 256                        /* samples halved at a time */
#define HOP_S 0.010                      /* s between spectra */
#define WIN_S 0.064                      /* s, the window */
#define F_LO 250.0                       /* Hz, the band searched */
#define F_HI 5000.0
#define NYQ_USE 0.45                     /* ... and at most this * rate */
#define HALF 1                           /* bins either side: a tone's
                                            energy */
#define WIDE 5                           /* ... its neighbourhood */
#define PEAKS 3                          /* peaks of a spectrum that may
                                            open tracks */
#define TRACKS 24                        /* tones followed at once */
#define SEGS 32                          /* recent segments kept */
#define PRE 10                           /* spectra kept before a tone */
#define POST 6                           /* ... followed after it */
#define KEEP 12                          /* records kept at each end of a
                                            tone */
#define T_ON 0.25                        /* share of the band (less the
                                            stronger peaks) to open */
#define PUR_ON 0.7                       /* share of the neighbourhood */
#define T_CONT 0.03                      /* share of the band to go on */
#define DROP 0.2                         /* ends below this share of the
                                            track's peak energy ... */
#define FALL 0.3                         /* ... or of the highest of its
                                            last FALL_HOPS (a tone ending
                                            over content) */
#define FALL_HOPS 4
#define RIVAL 4.0                        /* ... or when a bin two away is
                                            this much stronger */
#define SPLIT_N 3                        /* spectra after its peak ... */
#define SPLIT 2.5                        /* ... a rise by this much is a
                                            new tone */
#define SILENT 1e-30                     /* band energy of silence */

/* The pattern's tests. */
#define RATIO_MIN 2.0                    /* long / mean short */
#define RATIO_MAX 6.0
#define SHORT_SPREAD 1.6                 /* longest / shortest short */
#define SHORT_MIN 0.03                   /* s, mean short tone */
#define SHORT_MAX 0.45
#define GAP_MIN 0.4                      /* gap / mean short tone */
#define GAP_MAX 4.0
#define GAP_QUIET 0.1                    /* energy in a gap / its tones' */
#define FREQ_TOL 0.03                    /* relative, between tones */
#define LEVEL_SPREAD 4.0                 /* loudest / quietest tone */
#define TAU_MIN 0.25                     /* mean share of the band */
#define PUR_MIN 0.5                      /* mean share of the
                                            neighbourhood */
#define EDGE_WIN 0.3                     /* 50-85% edge at most this many
                                            windows ... */
#define EDGE_ADD 0.008                   /* ... plus this, s */

enum { FREE, OPEN, CLOSING };

typedef struct hoprec {
    float e;                             /* energy within +-HALF bins */
    float f;                             /* interpolated peak, Hz */
    float tau;                           /* e / the band's energy */
    float pur;                           /* e / energy within +-WIDE */
} hoprec;

typedef struct track {
    int state;                           /* FREE, OPEN or CLOSING */
    int bin;                             /* followed at this bin */
    int miss;                            /* the last spectrum was below */
    int npost;                           /* post[] filled */
    int64_t first;                       /* spectrum of the first on-hop */
    int64_t n;                           /* on-hops so far */
    int64_t nmax;                        /* n when emax was reached */
    double emax;                         /* highest e while open */
    hoprec pend;                         /* the spectrum below */
    float pre[PRE];                      /* e at first-PRE .. first-1 */
    hoprec head[KEEP];                   /* the first KEEP on-hops */
    hoprec tail[KEEP];                   /* the last KEEP, a ring on n */
    float post[POST];                    /* e after the last on-hop */
} track;

typedef struct seg {
    double on, off;                      /* s, half-amplitude edges */
    double rise, fall;                   /* s, 50% to 85% amplitude */
    double level;                        /* plateau energy */
    double freq;                         /* Hz */
    double tau, pur;                     /* plateau means */
    double pre_min;                      /* lowest e just before it */
    double post_min;                     /* ... and just after */
} seg;

typedef struct halfband {
    float x[HB_TAPS - 1 + CHUNK];        /* the last inputs, then the
                                            block being halved */
    unsigned odd;                        /* an input is waiting */
} halfband;

struct mark__rhythm_det {
    mark_ctx *ctx;
    double rate;                         /* after the halvings, Hz */
    double delay;                        /* s, the halvings' delay */
    int halvings;
    halfband hb[HB_MAX];
    float hbc[HB_TAPS];                  /* the half-band filter */
    size_t win;                          /* window, samples */
    size_t n;                            /* FFT size, 2^k >= win */
    size_t hop;                          /* samples between spectra */
    size_t need;                         /* samples until the next one */
    size_t pos;                          /* ring: next write */
    size_t zeros;                        /* 0 samples last taken */
    int64_t ihop;                        /* index of the next spectrum */
    int klo, khi;                        /* the band's bins */
    int kmin, kmax;                      /* bins computed: band +- WIDE */
    int nb;                              /* kmax - kmin + 1 */
    double bin_hz;                       /* bin spacing */
    double edge_max;                     /* s, slowest switched edge */
    float *ring;                         /* the last n samples */
    float *hann;                         /* win of them */
    float *re, *im;                      /* FFT work, n / 2 each */
    float *tw;                           /* cos, sin of 2 pi k / n for
                                            the computed bins */
    double *hist;                        /* power of the last PRE + 1
                                            spectra, nb bins each */
    track trk[TRACKS];
    seg segs[SEGS];                      /* ring of usable segments */
    int nseg;                            /* segments in it */
    int segpos;                          /* next slot */
    mark__rhythm_hit hits[MARK__RHYTHM_MAX_HITS];
    int nhits;
    int finished;
};

/* ---- the label ---- */

static double fix_unit(double unit)
{
    return unit > 0 && unit <= 10 ? unit : MARK__RHYTHM_UNIT;
}

static size_t unit_frame(uint32_t rate, double unit, int u)
{
    return (size_t)floor(u * unit * (double)rate + 0.5);
}

size_t mark__rhythm_frames_ex(uint32_t rate, double unit)
{
    return unit_frame(rate, fix_unit(unit), MARK__RHYTHM_UNITS);
}

size_t mark__rhythm_frames(uint32_t rate)
{
    return mark__rhythm_frames_ex(rate, MARK__RHYTHM_UNIT);
}

void mark__rhythm_render_ex(float *out, size_t n, size_t first,
                            uint32_t rate, float amp, double unit,
                            double freq)
{
    size_t ramp;
    double w;
    int k;

    if (n == 0)
        return;
    memset(out, 0, n * sizeof *out);
    if (rate == 0)
        return;
    unit = fix_unit(unit);
    if (!(freq > 0) || freq > 1e6)
        freq = MARK__RHYTHM_FREQ;
    if ((double)rate < 2.5 * freq)
        freq = rate / 4.0;
    w = 2 * M_PI * freq / rate;
    ramp = (size_t)(MARK__RHYTHM_RAMP * rate + 0.5);
    for (k = 0; k < 4; k++) {
        size_t s = unit_frame(rate, unit, TONE_ON[k]);
        size_t e = unit_frame(rate, unit, TONE_OFF[k]);
        size_t len = e - s, r = ramp < len / 2 ? ramp : len / 2, i, a, b;

        if (first >= e || len == 0)
            continue;
        a = first > s ? first : s;
        b = e - first < n ? e : first + n;
        for (i = a; i < b; i++) {
            size_t j = i - s, dist = j < len - 1 - j ? j : len - 1 - j;
            double g = 1;

            /* the phase starts at 0 with each tone, the fade ends at 0
             * on its first and last sample */
            if (dist < r)
                g = 0.5 * (1 - cos(M_PI * (double)dist / (double)r));
            out[i - first] = (float)(amp * g * sin(w * (double)j));
        }
    }
}

void mark__rhythm_render(float *out, size_t n, size_t first, uint32_t rate,
                         float amp)
{
    mark__rhythm_render_ex(out, n, first, rate, amp, MARK__RHYTHM_UNIT,
                           MARK__RHYTHM_FREQ);
}

/* ---- the detector: segments ---- */

static double hop_time(const mark__rhythm_det *d, double h)
{
    return h * (double)d->hop / d->rate - d->delay;
}

/* Energy of the bins k-r..k+r of the spectrum p (bins kmin..kmax). */
static double band_sum(const mark__rhythm_det *d, const double *p, int k,
                       int r)
{
    int a = k - r < d->kmin ? d->kmin : k - r;
    int b = k + r > d->kmax ? d->kmax : k + r, i;
    double s = 0;

    for (i = a; i <= b; i++)
        s += p[i - d->kmin];
    return s;
}

/* The peak near bin k, refined by a parabola through the log powers. */
static double peak_freq(const mark__rhythm_det *d, const double *p, int k)
{
    int lo = k - 1 > d->kmin ? k - 1 : d->kmin + 1;
    int hi = k + 1 < d->kmax ? k + 1 : d->kmax - 1, i, best = lo;
    double a, b, c, den, delta = 0;

    for (i = lo + 1; i <= hi; i++)
        if (p[i - d->kmin] > p[best - d->kmin])
            best = i;
    a = p[best - 1 - d->kmin];
    b = p[best - d->kmin];
    c = p[best + 1 - d->kmin];
    if (a > 0 && b > 0 && c > 0) {
        a = log(a);
        b = log(b);
        c = log(c);
        den = a - 2 * b + c;
        if (den < 0) {
            delta = 0.5 * (a - c) / den;
            delta = delta > 0.5 ? 0.5 : delta < -0.5 ? -0.5 : delta;
        }
    }
    return (best + delta) * d->bin_hz;
}

/* Where the amplitude sqrt(e[]) climbs through level, walking back from
 * e[from] (above it): a fractional index, or -1 if it never was below. */
static double cross_back(const float *e, int from, double level)
{
    int j = from;
    double a, b;

    while (j > 0 && sqrt(e[j - 1]) >= level)
        j--;
    if (j == 0)
        return -1;
    a = sqrt(e[j - 1]);
    b = sqrt(e[j]);
    return j - 1 + (level - a) / (b - a);
}

/* The same forwards: where it falls through level after e[from]. */
static double cross_fwd(const float *e, int cnt, int from, double level)
{
    int j = from;
    double a, b;

    while (j < cnt - 1 && sqrt(e[j + 1]) >= level)
        j++;
    if (j == cnt - 1)
        return -1;
    a = sqrt(e[j]);
    b = sqrt(e[j + 1]);
    return j + (a - level) / (a - b);
}

/* After e[from] (below level), where the amplitude first reaches level:
 * a fractional index, or -1. */
static double reach_fwd(const float *e, int cnt, int from, double level)
{
    int j = from + 1;
    double a, b;

    while (j < cnt && sqrt(e[j]) < level)
        j++;
    if (j >= cnt)
        return -1;
    a = sqrt(e[j - 1]);
    b = sqrt(e[j]);
    return j - 1 + (level - a) / (b - a);
}

/* Before e[from] (below level), where it last was at level or above. */
static double reach_back(const float *e, int from, double level)
{
    int j = from - 1;
    double a, b;

    while (j >= 0 && sqrt(e[j]) < level)
        j--;
    if (j < 0)
        return -1;
    a = sqrt(e[j]);
    b = sqrt(e[j + 1]);
    return j + (a - level) / (a - b);
}

static float min_of(const float *v, int n, float dflt)
{
    float m = dflt;
    int i;

    for (i = 0; i < n; i++)
        m = v[i] < m ? v[i] : m;
    return m;
}

/* A closed track's measurements; 0 if its edges cannot be told. */
static int measure(const mark__rhythm_det *d, const track *t, seg *s)
{
    float rise[PRE + KEEP], fall[KEEP + POST];
    int m = t->n < KEEP ? (int)t->n : KEEP, i, cnt, top;
    double sw = 0, fw = 0, tw = 0, pw = 0, cn = 0, amp, c50, c85;
    int64_t h;

    memset(s, 0, sizeof *s);
    /* the plateau: the kept records within 3 dB of the peak */
    for (h = 0; h < t->n; h++) {
        const hoprec *r;

        if (h >= KEEP && h < t->n - KEEP)
            h = t->n - KEEP;
        r = h < KEEP ? &t->head[h] : &t->tail[h % KEEP];
        if (r->e >= 0.5 * t->emax) {
            sw += r->e;
            fw += r->e * (double)r->f;
            tw += r->tau;
            pw += r->pur;
            cn += 1;
        }
    }
    if (cn == 0 || !(sw > 0))
        return 0;
    s->level = sw / cn;
    s->freq = fw / sw;
    s->tau = tw / cn;
    s->pur = pw / cn;
    amp = sqrt(s->level);

    /* rising edge: back from the first record near the plateau; the 85%
     * point is the first time it gets there (a beat later on does not
     * make the edge slow) */
    for (i = 0; i < PRE; i++)
        rise[i] = t->pre[i];
    for (i = 0; i < m; i++)
        rise[PRE + i] = t->head[i].e;
    for (top = PRE; top < PRE + m && rise[top] < 0.8 * s->level; top++)
        ;
    if (top == PRE + m || (c50 = cross_back(rise, top, 0.5 * amp)) < 0)
        return 0;
    c85 = reach_fwd(rise, PRE + m, (int)c50, 0.85 * amp);
    s->on = hop_time(d, (double)(t->first - PRE) + c50);
    s->rise = ((c85 < 0 ? top : c85) - c50) * (double)d->hop / d->rate;

    /* falling edge: forwards from the last record near the plateau */
    for (i = 0; i < m; i++)
        fall[i] = t->tail[(t->n - m + i) % KEEP].e;
    for (i = 0; i < t->npost; i++)
        fall[m + i] = t->post[i];
    cnt = m + t->npost;
    for (top = m - 1; top >= 0 && fall[top] < 0.8 * s->level; top--)
        ;
    if (top < 0 || (c50 = cross_fwd(fall, cnt, top, 0.5 * amp)) < 0)
        return 0;
    c85 = reach_back(fall, (int)c50 + 1, 0.85 * amp);
    s->off = hop_time(d, (double)(t->first + t->n - m) + c50);
    s->fall = (c50 - (c85 < 0 ? top : c85)) * (double)d->hop / d->rate;

    s->pre_min = min_of(t->pre, PRE, (float)s->level);
    s->post_min = min_of(t->post, t->npost, (float)s->level);
    return s->off > s->on;
}

/* Could s be one of the rhythm's tones at all?  Only such segments
 * enter the ring, so that content does not push the tones out. */
static int usable(const mark__rhythm_det *d, const seg *s)
{
    double dur = s->off - s->on;

    return s->pur >= PUR_MIN && s->rise <= d->edge_max &&
           s->fall <= d->edge_max && dur >= 0.7 * SHORT_MIN &&
           dur <= SHORT_MAX * RATIO_MAX;
}

static double clamp01(double x)
{
    return x < 0 ? 0 : x > 1 ? 1 : x;
}

/* Is s[0..3] (in time order) the rhythm?  Fills *hit when it is. */
static int pattern(const mark__rhythm_det *d, const seg *const s[4],
                   mark__rhythm_hit *hit)
{
    double dur[4], fmean = 0, flo, fhi, lmin, lmax, tol, quiet = 0;
    double sh, shmin, shmax, ratio, edge = 0, tau = 0, c;
    int i;

    for (i = 0; i < 4; i++) {
        dur[i] = s[i]->off - s[i]->on;
        fmean += s[i]->freq / 4;
        tau += s[i]->tau / 4;
        edge = fmax(edge, fmax(s[i]->rise, s[i]->fall));
    }
    if (tau < TAU_MIN)
        return 0;

    /* durations: short long short short, by ratio only */
    sh = (dur[0] + dur[2] + dur[3]) / 3;
    shmin = fmin(dur[0], fmin(dur[2], dur[3]));
    shmax = fmax(dur[0], fmax(dur[2], dur[3]));
    ratio = dur[1] / sh;
    if (sh < SHORT_MIN || sh > SHORT_MAX || shmax > SHORT_SPREAD * shmin ||
        ratio < RATIO_MIN || ratio > RATIO_MAX)
        return 0;

    /* gaps: neither run together nor far apart, and quiet */
    for (i = 0; i < 3; i++) {
        double gap = s[i + 1]->on - s[i]->off;
        double q = fmin(s[i]->post_min, s[i + 1]->pre_min) /
                   fmin(s[i]->level, s[i + 1]->level);

        if (gap < GAP_MIN * sh || gap > GAP_MAX * sh || q > GAP_QUIET)
            return 0;
        quiet = fmax(quiet, q);
    }

    /* one steady frequency, about one level */
    tol = fmax(FREQ_TOL * fmean, 0.5 * d->bin_hz);
    flo = fhi = s[0]->freq;
    lmin = lmax = s[0]->level;
    for (i = 1; i < 4; i++) {
        flo = fmin(flo, s[i]->freq);
        fhi = fmax(fhi, s[i]->freq);
        lmin = fmin(lmin, s[i]->level);
        lmax = fmax(lmax, s[i]->level);
    }
    if (fhi - fmean > tol || fmean - flo > tol || lmax > LEVEL_SPREAD * lmin)
        return 0;

    /* how sure: the tone's share of the band, then how close each test
     * came to its limit */
    c = 0.3 * clamp01(tau / 0.8);
    c += 0.1 * clamp01(1 - fabs(log(ratio / 3)) / log(3.0));
    c += 0.1 * clamp01(1 - (shmax / shmin - 1) / (SHORT_SPREAD - 1));
    c += 0.1 * clamp01(1 - (fhi - flo) / (2 * tol));
    c += 0.1 * clamp01(1 - sqrt(quiet / GAP_QUIET));
    c += 0.1 * clamp01(1 - edge / d->edge_max);
    c += 0.2 * clamp01(lmin / lmax);
    hit->start = s[0]->on;
    hit->end = s[3]->off;
    hit->freq = fmean;
    hit->ratio = ratio;
    hit->score = clamp01(c);
    return 1;
}

/* Keep a hit: of two overlapping in time the better stays; a full list
 * drops its weakest. */
static void add_hit(mark__rhythm_det *d, const mark__rhythm_hit *h)
{
    int i, weakest = 0;

    for (i = 0; i < d->nhits; i++)
        if (h->start < d->hits[i].end && d->hits[i].start < h->end) {
            if (h->score > d->hits[i].score)
                d->hits[i] = *h;
            return;
        }
    if (d->nhits < MARK__RHYTHM_MAX_HITS) {
        d->hits[d->nhits++] = *h;
        return;
    }
    for (i = 1; i < d->nhits; i++)
        if (d->hits[i].score < d->hits[weakest].score)
            weakest = i;
    if (h->score > d->hits[weakest].score)
        d->hits[weakest] = *h;
}

/* Close enough in frequency to be tones of one label (the strict test
 * is pattern's). */
static int same_freq(const mark__rhythm_det *d, const seg *a, const seg *b)
{
    return fabs(a->freq - b->freq) <=
           fmax(0.05 * 0.5 * (a->freq + b->freq), 1.5 * d->bin_hz);
}

/* A track has closed: keep its segment and try it as the last tone. */
static void finalize(mark__rhythm_det *d, track *t)
{
    const seg *q[4];
    seg s;
    int i, k = 3;

    t->state = FREE;
    if (!measure(d, t, &s) || !usable(d, &s))
        return;
    /* the three latest before it at its frequency and about its level,
     * each ending before the next starts */
    for (i = 1; i <= d->nseg && i < SEGS && k > 0; i++) {
        const seg *p = &d->segs[(d->segpos + SEGS - i) % SEGS];

        if (same_freq(d, p, &s) && p->level * LEVEL_SPREAD >= s.level &&
            p->off < (k == 3 ? s.on : q[k]->on))
            q[--k] = p;
    }
    q[3] = &d->segs[d->segpos];
    d->segs[d->segpos] = s;
    d->segpos = (d->segpos + 1) % SEGS;
    if (d->nseg < SEGS)
        d->nseg++;
    if (k == 0) {
        mark__rhythm_hit h;

        if (pattern(d, q, &h))
            add_hit(d, &h);
    }
}

/* ---- the detector: spectra and tracks ---- */

/* The power spectrum of the last win samples into p (bins kmin..kmax). */
static void spectrum(mark__rhythm_det *d, double *p)
{
    size_t m = d->n / 2, mask = d->n - 1, start = d->pos - d->win, i;
    float *re = d->re, *im = d->im;
    int k;

    /* n real samples (win of them windowed, then zeros) as n / 2
     * complex ones */
    for (i = 0; 2 * i + 1 < d->win; i++) {
        re[i] = d->ring[(start + 2 * i) & mask] * d->hann[2 * i];
        im[i] = d->ring[(start + 2 * i + 1) & mask] * d->hann[2 * i + 1];
    }
    if (2 * i < d->win) {
        re[i] = d->ring[(start + 2 * i) & mask] * d->hann[2 * i];
        im[i++] = 0;
    }
    memset(re + i, 0, (m - i) * sizeof *re);
    memset(im + i, 0, (m - i) * sizeof *im);
    mark__fft(re, im, m, 0);
    for (k = d->kmin; k <= d->kmax; k++) {
        /* X[k] = E[k] + W^k O[k], E and O the spectra of the even and
         * odd samples, from Z[k] and conj(Z[m - k]) */
        double zr = re[k], zi = im[k];
        double cr = re[m - (size_t)k], ci = -im[m - (size_t)k];
        double er = 0.5 * (zr + cr), ei = 0.5 * (zi + ci);
        double odr = 0.5 * (zi - ci), odi = -0.5 * (zr - cr);
        double c = d->tw[2 * (k - d->kmin)];
        double s = d->tw[2 * (k - d->kmin) + 1];
        double xr = er + c * odr + s * odi, xi = ei + c * odi - s * odr;

        p[k - d->kmin] = xr * xr + xi * xi;
    }
}

static const double *hist_at(const mark__rhythm_det *d, int64_t h)
{
    return d->hist + (size_t)(h % (PRE + 1)) * (size_t)d->nb;
}

/* The record of bin k in spectrum p: e its energy, band the band's. */
static hoprec make_rec(const mark__rhythm_det *d, const double *p, int k,
                       double e, double band)
{
    double wide = band_sum(d, p, k, WIDE);
    hoprec r;

    r.e = (float)e;
    r.f = (float)peak_freq(d, p, k);
    r.tau = (float)(band > 0 ? e / band : 0);
    r.pur = (float)(wide > 0 ? e / wide : 0);
    return r;
}

static void add_hop(track *t, const hoprec *r)
{
    if (t->n < KEEP)
        t->head[t->n] = *r;
    t->tail[t->n % KEEP] = *r;
    t->n++;
    if (r->e > t->emax) {
        t->emax = r->e;
        t->nmax = t->n;
    }
}

static void open_track(mark__rhythm_det *d, track *t, const double *p,
                       int bin, double band)
{
    hoprec r;
    int i;

    memset(t, 0, sizeof *t);
    t->state = OPEN;
    t->bin = bin;
    t->first = d->ihop;
    for (i = 0; i < PRE; i++) {
        int64_t h = d->ihop - PRE + i;

        t->pre[i] = h < 0 ? 0.0f
                          : (float)band_sum(d, hist_at(d, h), bin, HALF);
    }
    r = make_rec(d, p, bin, band_sum(d, p, bin, HALF), band);
    add_hop(t, &r);
}

/* Open a track at bin k unless one follows it already. */
static void try_open(mark__rhythm_det *d, const double *p, int k,
                     double band)
{
    track *slot = NULL;
    int i;

    for (i = 0; i < TRACKS; i++) {
        track *t = &d->trk[i];

        if (t->state == FREE) {
            if (slot == NULL)
                slot = t;
        } else if (abs(t->bin - k) <= 1) {
            return;
        }
    }
    if (slot != NULL)
        open_track(d, slot, p, k, band);
}

/* Is bin k still on its peak, not on the flank of a stronger one next to
 * it (a tone starting near a note would otherwise keep the note's
 * track)? */
static int is_peak(const mark__rhythm_det *d, const double *p, int k)
{
    double c = p[k - d->kmin];

    return (k - 2 < d->kmin || p[k - 2 - d->kmin] <= RIVAL * c) &&
           (k + 2 > d->kmax || p[k + 2 - d->kmin] <= RIVAL * c);
}

/* The highest energy of the track's last FALL_HOPS on-hops. */
static double recent_max(const track *t)
{
    double m = 0;
    int64_t h;

    for (h = t->n - FALL_HOPS; h < t->n; h++)
        if (h >= 0 && t->tail[h % KEEP].e > m)
            m = t->tail[h % KEEP].e;
    return m;
}

/* One spectrum's worth for an open or closing track. */
static void follow(mark__rhythm_det *d, track *t, const double *p,
                   double band)
{
    double e = band > 0 ? band_sum(d, p, t->bin, HALF) : 0;

    if (t->state == OPEN) {
        if (t->n - t->nmax >= SPLIT_N && e > SPLIT * t->emax) {
            /* a tone starting over a note at (or next to) its pitch:
             * the note ends here, unmeasured; the tone opens on its own
             * peak */
            int k = t->bin;

            if (k > d->kmin && p[k - 1 - d->kmin] > p[k - d->kmin])
                k--;
            else if (k < d->kmax && p[k + 1 - d->kmin] > p[k - d->kmin])
                k++;
            finalize(d, t);
            open_track(d, t, p, k, band);
            return;
        }
        if (band > 0 && e >= DROP * t->emax && e >= T_CONT * band &&
            e >= FALL * recent_max(t) && is_peak(d, p, t->bin)) {
            hoprec r = make_rec(d, p, t->bin, e, band);

            if (t->miss)
                add_hop(t, &t->pend);
            add_hop(t, &r);
            t->miss = 0;
            return;
        }
        if (!t->miss) {
            /* one spectrum below: a beat, or the end; the next tells */
            t->miss = 1;
            t->pend = make_rec(d, p, t->bin, e, band);
            return;
        }
        t->state = CLOSING;
        t->post[t->npost++] = t->pend.e;
    }
    t->post[t->npost++] = (float)e;
    if (t->npost == POST)
        finalize(d, t);
}

static void one_hop(mark__rhythm_det *d)
{
    double *p = d->hist + (size_t)(d->ihop % (PRE + 1)) * (size_t)d->nb;
    double band = 0, rest, pw[PEAKS];
    int k, pk[PEAKS], npk = 0, i;

    if (d->zeros >= d->win)
        memset(p, 0, (size_t)d->nb * sizeof *p);  /* digital silence */
    else
        spectrum(d, p);
    /* the band's energy and its strongest peaks, strongest first */
    for (k = d->klo; k <= d->khi; k++) {
        double v = p[k - d->kmin];

        band += v;
        if (v > p[k - 1 - d->kmin] && v >= p[k + 1 - d->kmin] &&
            (npk < PEAKS || v > pw[npk - 1])) {
            int j = npk < PEAKS ? npk++ : PEAKS - 1;

            for (; j > 0 && pw[j - 1] < v; j--) {
                pw[j] = pw[j - 1];
                pk[j] = pk[j - 1];
            }
            pw[j] = v;
            pk[j] = k;
        }
    }
    if (!(band > SILENT) || !isfinite(band))
        band = 0;

    for (i = 0; i < TRACKS; i++)
        if (d->trk[i].state != FREE)
            follow(d, &d->trk[i], p, band);

    /* new tones: a narrow peak with a good share of the band, not
     * counting the stronger peaks (a tone under a louder harmonic) */
    for (i = 0, rest = band; i < npk && rest > 0; i++) {
        double e = band_sum(d, p, pk[i], HALF);

        if (e >= T_ON * rest && e >= PUR_ON * band_sum(d, p, pk[i], WIDE))
            try_open(d, p, pk[i], band);
        rest -= e;
    }
    d->ihop++;
}

/* One sample at the working rate into the window ring. */
static void take(mark__rhythm_det *d, float v)
{
    d->ring[d->pos & (d->n - 1)] = v;
    d->pos++;
    d->zeros = v == 0 ? d->zeros + 1 : 0;
    if (--d->need == 0) {
        one_hop(d);
        d->need = d->hop;
    }
}

/* One stage of halving over io[0..m): every second input gives an
 * output, filtered; the outputs replace the inputs.  Returns how many. */
static size_t halve(const mark__rhythm_det *d, halfband *f, float *io,
                    size_t m)
{
    float *x = f->x;
    size_t i, j, out = 0;

    memcpy(x + HB_TAPS - 1, io, m * sizeof *io);
    /* the output comes with every second input counted from the start;
     * x[i + HB_TAPS - 1] is input i, so x[i..] holds the HB_TAPS last */
    for (i = f->odd ? 0 : 1; i < m; i += 2) {
        const float *w = x + i;
        float acc = d->hbc[HB_TAPS / 2] * w[HB_TAPS / 2];

        for (j = 0; j < HB_TAPS / 2; j += 2)
            acc += d->hbc[j] * (w[j] + w[HB_TAPS - 1 - j]);
        io[out++] = acc;
    }
    f->odd = (unsigned)((f->odd + m) & 1);
    memmove(x, x + m, (HB_TAPS - 1) * sizeof *x);
    return out;
}

/* Take n samples (x NULL: zeros), in blocks through the halvings. */
static void push(mark__rhythm_det *d, const float *x, size_t n)
{
    float buf[CHUNK];

    while (n > 0) {
        size_t m = n < CHUNK ? n : CHUNK, i;
        int s;

        for (i = 0; i < m; i++)
            buf[i] = x != NULL && isfinite(x[i]) ? x[i] : 0.0f;
        if (x != NULL)
            x += m;
        n -= m;
        for (s = 0; s < d->halvings; s++)
            m = halve(d, &d->hb[s], buf, m);
        for (i = 0; i < m; i++)
            take(d, buf[i]);
    }
}

int mark__rhythm_det_new(mark_ctx *ctx, uint32_t rate,
                         mark__rhythm_det **out)
{
    mark__rhythm_det *d;
    double r = rate, hi, sum = 0;
    size_t i;
    int k;

    *out = NULL;
    if (rate < RATE_MIN || rate > RATE_MAX)
        return mark__err(ctx, MARK_EINVAL, "rhythm label: sample rate %u "
                         "out of range", (unsigned)rate);
    d = mark__calloc(ctx, 1, sizeof *d);
    if (d == NULL)
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    d->ctx = ctx;
    /* halvings: output m of a stage, made with input 2m + 1, is centred
     * on input 2m + 1 - (HB_TAPS - 1) / 2, so each is late by this many
     * of its input samples */
    while (r / 2 >= WORK_MIN * 0.999 && d->halvings < HB_MAX) {
        d->delay += ((HB_TAPS - 1) / 2 - 1) / r;
        r /= 2;
        d->halvings++;
    }
    /* the half-band filter: a Blackman-windowed sinc cut at a quarter of
     * the rate (every second tap 0), for unit gain */
    for (k = 0; k < HB_TAPS; k++) {
        double x = k - HB_TAPS / 2;
        double w = 0.42 + 0.5 * cos(2 * M_PI * x / (HB_TAPS + 1)) +
                   0.08 * cos(4 * M_PI * x / (HB_TAPS + 1));

        d->hbc[k] = (float)(x == 0 ? 0.5 : sin(M_PI * x / 2) / (M_PI * x) *
                                           w);
        sum += d->hbc[k];
    }
    for (k = 0; k < HB_TAPS; k++)
        d->hbc[k] = (float)(d->hbc[k] / sum);

    d->rate = r;
    d->win = (size_t)(WIN_S * r + 0.5);
    for (d->n = 2; d->n < d->win; d->n *= 2)
        ;
    d->hop = (size_t)(HOP_S * r + 0.5);
    d->bin_hz = r / (double)d->n;
    d->edge_max = EDGE_WIN * (double)d->win / r + EDGE_ADD;
    hi = F_HI < NYQ_USE * r ? F_HI : NYQ_USE * r;
    d->klo = (int)ceil(F_LO / d->bin_hz);
    d->khi = (int)floor(hi / d->bin_hz);
    d->kmin = d->klo - WIDE > 1 ? d->klo - WIDE : 1;
    d->kmax = d->khi + WIDE < (int)(d->n / 2) - 1 ? d->khi + WIDE
                                                  : (int)(d->n / 2) - 1;
    d->nb = d->kmax - d->kmin + 1;
    d->ring = mark__calloc(ctx, d->n, sizeof *d->ring);
    d->hann = mark__malloc(ctx, d->win * sizeof *d->hann);
    d->re = mark__malloc(ctx, d->n / 2 * sizeof *d->re);
    d->im = mark__malloc(ctx, d->n / 2 * sizeof *d->im);
    d->tw = mark__malloc(ctx, 2 * (size_t)d->nb * sizeof *d->tw);
    d->hist = mark__calloc(ctx, (PRE + 1) * (size_t)d->nb, sizeof *d->hist);
    if (!d->ring || !d->hann || !d->re || !d->im || !d->tw || !d->hist) {
        mark__rhythm_det_free(d);
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    }
    for (i = 0; i < d->win; i++)
        d->hann[i] = (float)(0.5 - 0.5 * cos(2 * M_PI * ((double)i + 0.5) /
                                             (double)d->win));
    for (k = d->kmin; k <= d->kmax; k++) {
        d->tw[2 * (k - d->kmin)] = (float)cos(2 * M_PI * k / (double)d->n);
        d->tw[2 * (k - d->kmin) + 1] =
            (float)sin(2 * M_PI * k / (double)d->n);
    }
    /* the first window is centred on sample 0: half of it before the
     * start, as silence */
    d->pos = d->n;
    d->zeros = d->n;
    d->need = d->win / 2;
    *out = d;
    return MARK_OK;
}

int mark__rhythm_det_feed(mark__rhythm_det *d, const float *x, size_t n)
{
    if (d->finished)
        return mark__err(d->ctx, MARK_EINVAL, "rhythm label: feed after "
                         "finish");
    push(d, x, n);
    return MARK_OK;
}

static int by_start(const void *a, const void *b)
{
    const mark__rhythm_hit *x = a, *y = b;

    return (x->start > y->start) - (x->start < y->start);
}

static int by_score(const void *a, const void *b)
{
    const mark__rhythm_hit *x = a, *y = b;

    return (x->score < y->score) - (x->score > y->score);
}

int mark__rhythm_det_finish(mark__rhythm_det *d, mark__rhythm_hit *hits,
                            int max, int *count)
{
    int i, n;

    *count = 0;
    if (!d->finished) {
        /* silence after the end, until every window has passed it and
         * every track has closed */
        push(d, NULL, ((d->win / 2 + (POST + 3) * d->hop) << d->halvings) +
                      ((size_t)HB_TAPS << d->halvings));
        for (i = 0; i < TRACKS; i++)
            if (d->trk[i].state != FREE)
                finalize(d, &d->trk[i]);
        d->finished = 1;
    }
    qsort(d->hits, (size_t)d->nhits, sizeof d->hits[0], by_score);
    n = d->nhits < max ? d->nhits : max;
    if (n > 0) {
        memcpy(hits, d->hits, (size_t)n * sizeof *hits);
        qsort(hits, (size_t)n, sizeof *hits, by_start);
        *count = n;
    }
    return MARK_OK;
}

void mark__rhythm_det_free(mark__rhythm_det *d)
{
    if (d == NULL)
        return;
    mark__free(d->ctx, d->ring);
    mark__free(d->ctx, d->hann);
    mark__free(d->ctx, d->re);
    mark__free(d->ctx, d->im);
    mark__free(d->ctx, d->tw);
    mark__free(d->ctx, d->hist);
    mark__free(d->ctx, d);
}
