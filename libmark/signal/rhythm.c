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
 * (1) A short-time spectrum every 10 ms (a Hann window of a power of two
 *     samples, 21 to 32 ms; a real FFT through fft.c's complex one at
 *     half the length), only the bins of 250 Hz to 5 kHz kept.
 * (2) A tone opens a track where the strongest bin and its neighbours
 *     (+-2 bins, the Hann main lobe) hold a good share of the band's
 *     energy and little of it leaks around them (a narrow peak).  An open
 *     track follows its bin while the energy there stays within 7 dB of
 *     its peak and still stands out a little; then it closes and becomes
 *     a segment.  Several tracks may be open at once (content under the
 *     tone has peaks of its own).
 * (3) A segment's edges are the half-amplitude points of the energy at
 *     its bin, interpolated between hops: with a Hann window the
 *     amplitude at a tone's bin is the share of the window the tone
 *     covers, half when the window is centred on the edge, so the
 *     durations do not depend on the window length.  The 25% to 85% rise
 *     and fall times tell a switched tone (about 0.4 window) from a
 *     played note (attack, decay, release).
 * (4) The last SEGS segments stay in a ring; each new one is tried as the
 *     last tone of the rhythm with the three before it at the same
 *     frequency.  The tests, all relative so the tempo is free: long /
 *     mean short >= 2; the short tones within 1.6x of each other; every
 *     gap at most about 4 short tones and quiet at that frequency; one
 *     steady frequency (3%); similar levels; sharp edges.  Melodies fail
 *     the frequency test, held notes the edge test, speech both.
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

#ifdef RHYTHM_DEBUG
#include <stdio.h>
#define DBG(...) fprintf(stderr, __VA_ARGS__)
#else
#define DBG(...) ((void)0)
#endif

/* The pattern: tone k spans units [TONE_ON[k], TONE_OFF[k]). */
static const int TONE_ON[4] = { 0, 2, 8, 10 };
static const int TONE_OFF[4] = { 1, 5, 9, 11 };

#define RATE_MIN 4000u
#define RATE_MAX 768000u
#define HOP_S 0.010                      /* s between spectra */
#define WIN_S 0.060                      /* window: the largest power of
                                            two samples up to this */
#define F_LO 250.0                       /* Hz, the band searched */
#define F_HI 5000.0
#define NYQ_USE 0.45                     /* ... and at most this * rate */
#define HALF 1                           /* bins either side: a tone's
                                            energy (98% of it, Hann) */
#define WIDE 5                           /* ... its neighbourhood */
#define SPLIT_N 3                        /* hops after its peak ... */
#define SPLIT 4.0                        /* ... a rise by this much over
                                            it is a new tone (over a
                                            note) */
#define PRE 8                            /* hops kept before a tone */
#define POST 4                           /* hops followed after it */
#define KEEP 12                          /* hop records kept at each end
                                            of a tone */
#define TRACKS 12                        /* tones followed at once */
#define SEGS 16                          /* recent segments kept */
#define T_ON 0.25                       /* share of the band's energy to
                                            open a track */
#define PUR_ON 0.7                       /* share of the neighbourhood */
#define T_CONT 0.03                      /* ... to keep it open */
#define DROP 0.2                         /* closes below this share of
                                            the track's peak energy ... */
#define FALL 0.3                         /* ... or of the highest of its
                                            last FALL_HOPS (a tone ending
                                            over content) */
#define FALL_HOPS 4
#define PEAK_RIVAL 4.0                   /* a track ends when a bin two
                                            away is this much stronger */
#define SILENT 1e-30                     /* band energy of silence */

/* Pattern tests. */
#define RATIO_MIN 2.0                    /* long / mean short */
#define RATIO_MAX 6.0
#define SHORT_SPREAD 1.6                 /* longest / shortest short */
#define SHORT_MIN 0.03                   /* s, mean short tone */
#define SHORT_MAX 0.45
#define GAP_MAX 4.0                      /* gap / mean short tone */
#define GAP_MIN 0.4                      /* ... at least this */
#define GAP_QUIET 0.1                    /* gap energy / tone energy */
#define FREQ_TOL 0.03                    /* relative, between tones */
#define LEVEL_SPREAD 4.0                 /* loudest / quietest tone */
#define TAU_MIN 0.25                     /* mean share of the band */
#define PUR_MIN 0.5                      /* mean share of the
                                            neighbourhood */
#define EDGE_WIN 0.6                     /* rise/fall at most this many
                                            windows ... */
#define EDGE_ADD 0.012                   /* ... plus this, s */

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
    int64_t first;                       /* hop of the first on-hop */
    int64_t n;                           /* on-hops so far */
    int npost;                           /* post[] filled */
    int miss;                            /* the last hop was below */
    hoprec pend;                         /* ... and this was it */
    double emax;                         /* highest e while open */
    int64_t nmax;                        /* ... reached at on-hop n */
    float pre[PRE];                      /* e at hops first-PRE..first-1 */
    hoprec head[KEEP];                   /* the first KEEP on-hops */
    hoprec tail[KEEP];                   /* the last KEEP, a ring on n */
    float post[POST];                    /* e at the hops after the last
                                            on-hop */
} track;

typedef struct seg {
    double on, off;                      /* s, half-amplitude edges */
    double rise, fall;                   /* s, 50% to 85% amplitude */
    double level;                        /* plateau energy */
    double freq;                         /* Hz */
    double tau, pur;                     /* plateau means */
    double pre_min;                      /* lowest e just before it */
    double post_min;                     /* ... and just after */
    double bin_hz;                       /* bin spacing, Hz */
    int ok;                              /* both edges found */
} seg;

struct mark__rhythm_det {
    mark_ctx *ctx;
    uint32_t rate;
    size_t n;                            /* window, samples (2^k) */
    size_t hop;                          /* samples between spectra */
    size_t need;                         /* samples until the next one */
    size_t pos;                          /* ring: next write = oldest */
    int64_t ihop;                        /* index of the next spectrum */
    int klo, khi;                        /* the band's bins */
    int kmin, kmax;                      /* bins computed: band +- WIDE */
    int nb;                              /* kmax - kmin + 1 */
    float *ring;                         /* the last n samples */
    float *win;                          /* Hann, n */
    float *re, *im;                      /* FFT work, n / 2 each */
    float *tw;                           /* cos, sin of 2 pi k / n for
                                            the computed bins */
    double *hist;                        /* power of the last PRE + 1
                                            spectra, nb bins each */
    track trk[TRACKS];
    seg segs[SEGS];                      /* ring of recent segments */
    int nseg;                            /* segments in it */
    int segpos;                          /* next slot */
    mark__rhythm_hit hits[MARK__RHYTHM_MAX_HITS];
    int nhits;
    int finished;
};

/* ---- the label ---- */

static size_t unit_frame(uint32_t rate, double unit, int u)
{
    return (size_t)floor(u * unit * (double)rate + 0.5);
}

static double fix_unit(double unit)
{
    return unit > 0 && unit <= 10 ? unit : MARK__RHYTHM_UNIT;
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
            if (delta > 0.5)
                delta = 0.5;
            if (delta < -0.5)
                delta = -0.5;
        }
    }
    return (best + delta) * d->rate / (double)d->n;
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

/* A closed track's measurements. */
static void measure(const mark__rhythm_det *d, const track *t, seg *s)
{
    float rise[PRE + KEEP], fall[KEEP + POST];
    int m = t->n < KEEP ? (int)t->n : KEEP, i, cnt, top;
    double dt = (double)d->hop / d->rate, sw = 0, fw = 0, tw = 0, pw = 0;
    double fl = 0, amp, c50, c85, x;
    int64_t h;

    memset(s, 0, sizeof *s);
    s->bin_hz = (double)d->rate / (double)d->n;
    /* plateau: the kept hops (head, then the tail's other hops) within
     * 3 dB of the peak */
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
            fl += 1;
        }
    }
    if (fl == 0 || sw <= 0)
        { DBG("  measure fails at line %d\n", __LINE__); return; }
    s->level = sw / fl;
    s->freq = fw / sw;
    s->tau = tw / fl;
    s->pur = pw / fl;
    amp = sqrt(s->level);

    /* rising edge: back from the first hop near the plateau */
    for (i = 0; i < PRE; i++)
        rise[i] = t->pre[i];
    for (i = 0; i < m; i++)
        rise[PRE + i] = t->head[i].e;
    for (top = PRE; top < PRE + m && rise[top] < 0.8 * s->level; top++)
        ;
    if (top == PRE + m)
        { DBG("  measure fails at line %d\n", __LINE__); return; }
    c50 = cross_back(rise, top, 0.5 * amp);
    if (c50 < 0)
        { DBG("  measure fails at line %d\n", __LINE__); return; }
    /* the first time it is near the plateau: a dip later on (a beat with
     * content near the frequency) does not make the edge slow */
    c85 = reach_fwd(rise, PRE + m, (int)c50, 0.85 * amp);
    if (c85 < 0)
        c85 = top;
    s->on = ((double)(t->first - PRE) + c50) * dt;
    s->rise = (c85 - c50) * dt;

    /* falling edge: forwards from the last hop near the plateau */
    for (i = 0; i < m; i++)
        fall[i] = t->tail[(t->n - m + i) % KEEP].e;
    for (i = 0; i < t->npost; i++)
        fall[m + i] = t->post[i];
    cnt = m + t->npost;
    for (top = m - 1; top >= 0 && fall[top] < 0.8 * s->level; top--)
        ;
    if (top < 0)
        { DBG("  measure fails at line %d\n", __LINE__); return; }
    c50 = cross_fwd(fall, cnt, top, 0.5 * amp);
    if (c50 < 0)
        { DBG("  measure fails at line %d\n", __LINE__); return; }
    c85 = reach_back(fall, (int)c50 + 1, 0.85 * amp);
    if (c85 < 0)
        c85 = top;
    s->off = ((double)(t->first + t->n - m) + c50) * dt;
    s->fall = (c50 - c85) * dt;

    x = t->pre[0];
    for (i = 1; i < PRE; i++)
        x = t->pre[i] < x ? t->pre[i] : x;
    s->pre_min = x;
    x = t->npost > 0 ? t->post[0] : s->level;
    for (i = 1; i < t->npost; i++)
        x = t->post[i] < x ? t->post[i] : x;
    s->post_min = x;
    s->ok = s->off > s->on;
}

static double clamp01(double x)
{
    return x < 0 ? 0 : x > 1 ? 1 : x;
}

/* Is s[0..3] (in time order) the rhythm?  Its score, or -1. */
static double pattern(const mark__rhythm_det *d, const seg *s[4],
                      mark__rhythm_hit *hit)
{
    double dur[4], gap[3], fmean = 0, flo, fhi, lmin, lmax, tol;
    double sh, shmin, shmax, ratio, edge_max, worst_edge = 0, quiet = 0;
    double tau = 0, c;
    int i;

    for (i = 0; i < 4; i++) {
        if (!s[i]->ok)
            return (DBG("  reject at line %d\n", __LINE__), -1.0);
        dur[i] = s[i]->off - s[i]->on;
        fmean += s[i]->freq / 4;
        tau += s[i]->tau / 4;
        if (s[i]->pur < PUR_MIN)
            return (DBG("  reject at line %d\n", __LINE__), -1.0);
    }
    for (i = 0; i < 3; i++) {
        double q, lv;

        gap[i] = s[i + 1]->on - s[i]->off;
        if (gap[i] <= 0)
            return (DBG("  reject at line %d\n", __LINE__), -1.0);
        lv = s[i]->level < s[i + 1]->level ? s[i]->level : s[i + 1]->level;
        q = s[i]->post_min < s[i + 1]->pre_min ? s[i]->post_min
                                                : s[i + 1]->pre_min;
        q /= lv;
        if (q > GAP_QUIET)
            return (DBG("  reject at line %d\n", __LINE__), -1.0);
        quiet = q > quiet ? q : quiet;
    }
    if (tau < TAU_MIN)
        return (DBG("  reject at line %d\n", __LINE__), -1.0);

    /* durations: short long short short, by ratio only */
    sh = (dur[0] + dur[2] + dur[3]) / 3;
    shmin = fmin(dur[0], fmin(dur[2], dur[3]));
    shmax = fmax(dur[0], fmax(dur[2], dur[3]));
    if (sh < SHORT_MIN || sh > SHORT_MAX || shmax > SHORT_SPREAD * shmin)
        return (DBG("  reject at line %d\n", __LINE__), -1.0);
    ratio = dur[1] / sh;
    if (ratio < RATIO_MIN || ratio > RATIO_MAX)
        return (DBG("  reject at line %d\n", __LINE__), -1.0);
    for (i = 0; i < 3; i++)
        if (gap[i] > GAP_MAX * sh || gap[i] < GAP_MIN * sh)
            return (DBG("  reject at line %d\n", __LINE__), -1.0);

    /* one steady frequency */
    tol = fmax(FREQ_TOL * fmean, 0.25 * s[0]->bin_hz);
    flo = fhi = s[0]->freq;
    lmin = lmax = s[0]->level;
    for (i = 1; i < 4; i++) {
        flo = fmin(flo, s[i]->freq);
        fhi = fmax(fhi, s[i]->freq);
        lmin = fmin(lmin, s[i]->level);
        lmax = fmax(lmax, s[i]->level);
    }
    if (fhi - fmean > tol || fmean - flo > tol)
        return (DBG("  reject at line %d\n", __LINE__), -1.0);
    if (lmax > LEVEL_SPREAD * lmin)
        return (DBG("  reject at line %d\n", __LINE__), -1.0);

    /* switched, not played: sharp edges */
    edge_max = EDGE_WIN * (double)d->n / d->rate + EDGE_ADD;
    for (i = 0; i < 4; i++) {
        worst_edge = fmax(worst_edge, s[i]->rise);
        worst_edge = fmax(worst_edge, s[i]->fall);
    }
    if (worst_edge > edge_max)
        return (DBG("  reject at line %d\n", __LINE__), -1.0);

    c = 0.3 * clamp01(tau / 0.8);
    c += 0.7 / 6 * clamp01(1 - fabs(log(ratio / 3)) / log(3.0));
    c += 0.7 / 6 * clamp01(1 - (shmax / shmin - 1) / (SHORT_SPREAD - 1));
    c += 0.7 / 6 * clamp01(1 - (fhi - flo) / (2 * tol));
    c += 0.7 / 6 * clamp01(1 - sqrt(quiet / GAP_QUIET));
    c += 0.7 / 6 * clamp01(1 - worst_edge / edge_max);
    c += 0.7 / 6 * clamp01(lmin / lmax);
    hit->start = s[0]->on;
    hit->end = s[3]->off;
    hit->freq = fmean;
    hit->ratio = ratio;
    hit->score = clamp01(c);
    return hit->score;
}

/* Keep a hit: one of two overlapping in time keeps the better; a full
 * list drops its weakest. */
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

static int same_freq(const seg *a, const seg *b)
{
    double f = 0.5 * (a->freq + b->freq);

    return fabs(a->freq - b->freq) <= fmax(0.05 * f, 1.5 * a->bin_hz);
}

/* Could s be one of the rhythm's tones at all?  Only such segments
 * enter the ring, so that content does not push the tones out. */
static int usable(const mark__rhythm_det *d, const seg *s)
{
    double edge_max = EDGE_WIN * (double)d->n / d->rate + EDGE_ADD;
    double dur = s->off - s->on;

    return s->ok && s->pur >= PUR_MIN && s->rise <= edge_max &&
           s->fall <= edge_max && dur >= SHORT_MIN * 0.7 &&
           dur <= SHORT_MAX * RATIO_MAX;
}

/* A track has closed: keep its segment and try it as the last tone. */
static void finalize(mark__rhythm_det *d, track *t)
{
    seg s;
    const seg *q[4];
    int i, k = 3;

    t->state = FREE;
    measure(d, t, &s);
    DBG("seg %.3f-%.3f ok %d f %.1f L %.3g tau %.2f pur %.2f rise %.3f "
        "fall %.3f pre %.3f post %.3f\n", s.on, s.off, s.ok, s.freq,
        s.level, s.tau, s.pur, s.rise, s.fall, s.pre_min / s.level,
        s.post_min / s.level);
    if (!usable(d, &s))
        return;
    /* the three latest before it at its frequency and about its level,
     * each ending before the next starts */
    q[3] = &d->segs[d->segpos];
    for (i = 1; i <= d->nseg && i < SEGS && k > 0; i++) {
        const seg *p = &d->segs[(d->segpos + SEGS - i) % SEGS];

        if (same_freq(p, &s) && p->level * LEVEL_SPREAD >= s.level &&
            p->off < (k == 3 ? s.on : q[k]->on))
            q[--k] = p;
    }
    d->segs[d->segpos] = s;
    d->segpos = (d->segpos + 1) % SEGS;
    if (d->nseg < SEGS)
        d->nseg++;
    if (k == 0) {
        mark__rhythm_hit h;

        if (pattern(d, q, &h) >= 0)
            add_hit(d, &h);
    }
}

/* ---- the detector: spectra ---- */

static void spectrum(mark__rhythm_det *d, double *p)
{
    size_t m = d->n / 2, mask = d->n - 1, i;
    float *re = d->re, *im = d->im;
    int k;

    /* n real samples as n / 2 complex ones */
    for (i = 0; i < m; i++) {
        re[i] = d->ring[(d->pos + 2 * i) & mask] * d->win[2 * i];
        im[i] = d->ring[(d->pos + 2 * i + 1) & mask] * d->win[2 * i + 1];
    }
    mark__fft(re, im, m, 0);
    for (k = d->kmin; k <= d->kmax; k++) {
        /* X[k] = E[k] + W^k O[k], E and O the spectra of the even and
         * odd samples, from Z[k] and conj(Z[m - k]) */
        double zr = re[k], zi = im[k];
        double cr = re[m - (size_t)k], ci = -im[m - (size_t)k];
        double er = 0.5 * (zr + cr), ei = 0.5 * (zi + ci);
        double or_ = 0.5 * (zi - ci), oi = -0.5 * (zr - cr);
        double c = d->tw[2 * (k - d->kmin)], s = d->tw[2 * (k - d->kmin) + 1];
        double xr = er + c * or_ + s * oi, xi = ei + c * oi - s * or_;

        p[k - d->kmin] = xr * xr + xi * xi;
    }
}

static void open_track(mark__rhythm_det *d, track *t, int bin)
{
    int i;

    DBG("open %.3f bin %d (%.0f Hz)\n", (double)d->ihop * d->hop / d->rate,
        bin, bin * (double)d->rate / d->n);
    memset(t, 0, sizeof *t);
    t->state = OPEN;
    t->bin = bin;
    t->first = d->ihop;
    for (i = 0; i < PRE; i++) {
        int64_t h = d->ihop - PRE + i;

        t->pre[i] = h < 0 ? 0.0f
                    : (float)band_sum(d, d->hist + (size_t)(h % (PRE + 1)) *
                                      (size_t)d->nb, bin, HALF);
    }
}

/* The record of a hop at bin k: e its energy, band the band's. */
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

/* One more on-hop for an open track. */
static void add_rec(const mark__rhythm_det *d, track *t, const double *p,
                    double e, double band)
{
    hoprec r = make_rec(d, p, t->bin, e, band);

    add_hop(t, &r);
}

/* Is bin k still on the peak, not on the flank of a stronger one next
 * to it (a tone starting near a note would keep the note's track)? */
static int is_peak(const mark__rhythm_det *d, const double *p, int k)
{
    double c = p[k - d->kmin];

    return (k - 2 < d->kmin || p[k - 2 - d->kmin] <= PEAK_RIVAL * c) &&
           (k + 2 > d->kmax || p[k + 2 - d->kmin] <= PEAK_RIVAL * c);
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

static void one_hop(mark__rhythm_det *d)
{
    double *p = d->hist + (size_t)(d->ihop % (PRE + 1)) * (size_t)d->nb;
    double band = 0, best = -1;
    int k, kp = d->klo, i;

    spectrum(d, p);
    for (k = d->klo; k <= d->khi; k++) {
        band += p[k - d->kmin];
        if (p[k - d->kmin] > best) {
            best = p[k - d->kmin];
            kp = k;
        }
    }
    if (!(band > SILENT) || !isfinite(band))
        band = 0;

    for (i = 0; i < TRACKS; i++) {
        track *t = &d->trk[i];
        double e;

        if (t->state == FREE)
            continue;
        e = band > 0 ? band_sum(d, p, t->bin, HALF) : 0;
        if (t->state == OPEN) {
            if (t->n - t->nmax >= SPLIT_N && e > SPLIT * t->emax) {
                /* a tone starting over a note at (or next to) its
                 * frequency: the note ends here (unmeasured), the tone
                 * opens on its own peak */
                int bin = t->bin;

                if (bin > d->kmin && p[bin - 1 - d->kmin] > p[bin - d->kmin])
                    bin--;
                else if (bin < d->kmax &&
                         p[bin + 1 - d->kmin] > p[bin - d->kmin])
                    bin++;
                finalize(d, t);
                open_track(d, t, bin);
                add_rec(d, t, p, band_sum(d, p, bin, HALF), band);
                continue;
            }
            if (band > 0 && e >= DROP * t->emax && e >= T_CONT * band &&
                e >= FALL * recent_max(t) && is_peak(d, p, t->bin)) {
                if (t->miss)
                    add_hop(t, &t->pend);
                add_rec(d, t, p, e, band);
                t->miss = 0;
                continue;
            }
            if (!t->miss) {
                /* one hop below: a beat with content near the frequency,
                 * or the end; the next hop tells */
                t->miss = 1;
                t->pend = make_rec(d, p, t->bin, e, band);
                continue;
            }
            t->post[t->npost++] = t->pend.e;
            DBG("close %.3f bin %d e/emax %.3f tau %.3f n %d\n",
                (double)d->ihop * d->hop / d->rate, t->bin, e / t->emax,
                band > 0 ? e / band : 0, (int)t->n);
            t->state = CLOSING;
        }
        t->post[t->npost++] = (float)e;
        if (t->npost == POST)
            finalize(d, t);
    }

    if (band > 0) {
        double e = band_sum(d, p, kp, HALF);
        double wide = band_sum(d, p, kp, WIDE);
        track *slot = NULL;

        if (e >= T_ON * band && e >= PUR_ON * wide) {
            for (i = 0; i < TRACKS; i++) {
                track *t = &d->trk[i];

                if (t->state == FREE) {
                    if (slot == NULL)
                        slot = t;
                } else if (abs(t->bin - kp) <= 1) {
                    slot = NULL;
                    break;
                }
            }
            if (i == TRACKS && slot != NULL) {
                open_track(d, slot, kp);
                add_rec(d, slot, p, e, band);
            }
        }
    }
    d->ihop++;
}

/* Take n samples (x NULL: zeros) into the window ring, running a
 * spectrum every hop. */
static void push(mark__rhythm_det *d, const float *x, size_t n)
{
    size_t mask = d->n - 1;

    while (n > 0) {
        size_t k = n < d->need ? n : d->need, i;

        for (i = 0; i < k; i++) {
            float v = x ? x[i] : 0.0f;

            d->ring[(d->pos + i) & mask] = isfinite(v) ? v : 0.0f;
        }
        d->pos = (d->pos + k) & mask;
        d->need -= k;
        n -= k;
        if (x)
            x += k;
        if (d->need == 0) {
            one_hop(d);
            d->need = d->hop;
        }
    }
}

int mark__rhythm_det_new(mark_ctx *ctx, uint32_t rate,
                         mark__rhythm_det **out)
{
    mark__rhythm_det *d;
    size_t n = 2, i;
    double hi;
    int k;

    *out = NULL;
    if (rate < RATE_MIN || rate > RATE_MAX)
        return mark__err(ctx, MARK_EINVAL, "rhythm label: sample rate %u "
                         "out of range", (unsigned)rate);
    while (2 * n <= WIN_S * rate)
        n *= 2;
    d = mark__calloc(ctx, 1, sizeof *d);
    if (d == NULL)
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    d->ctx = ctx;
    d->rate = rate;
    d->n = n;
    d->hop = (size_t)(HOP_S * rate + 0.5);
    hi = F_HI < NYQ_USE * rate ? F_HI : NYQ_USE * rate;
    d->klo = (int)ceil(F_LO * (double)n / rate);
    d->khi = (int)floor(hi * (double)n / rate);
    d->kmin = d->klo - WIDE > 1 ? d->klo - WIDE : 1;
    d->kmax = d->khi + WIDE < (int)(n / 2) - 1 ? d->khi + WIDE
                                               : (int)(n / 2) - 1;
    d->nb = d->kmax - d->kmin + 1;
    d->ring = mark__calloc(ctx, n, sizeof *d->ring);
    d->win = mark__malloc(ctx, n * sizeof *d->win);
    d->re = mark__malloc(ctx, n / 2 * sizeof *d->re);
    d->im = mark__malloc(ctx, n / 2 * sizeof *d->im);
    d->tw = mark__malloc(ctx, 2 * (size_t)d->nb * sizeof *d->tw);
    d->hist = mark__calloc(ctx, (PRE + 1) * (size_t)d->nb, sizeof *d->hist);
    if (!d->ring || !d->win || !d->re || !d->im || !d->tw || !d->hist) {
        mark__rhythm_det_free(d);
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    }
    for (i = 0; i < n; i++)
        d->win[i] = (float)(0.5 - 0.5 * cos(2 * M_PI * (double)i /
                                            (double)n));
    for (k = d->kmin; k <= d->kmax; k++) {
        d->tw[2 * (k - d->kmin)] = (float)cos(2 * M_PI * k / (double)n);
        d->tw[2 * (k - d->kmin) + 1] = (float)sin(2 * M_PI * k / (double)n);
    }
    /* the first window is centred on sample 0: half of it before the
     * start, as silence */
    d->need = n / 2;
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
        push(d, NULL, d->n / 2 + (POST + 3) * d->hop);
        for (i = 0; i < TRACKS; i++)
            if (d->trk[i].state != FREE)
                finalize(d, &d->trk[i]);
        d->finished = 1;
    }
    qsort(d->hits, (size_t)d->nhits, sizeof d->hits[0], by_score);
    n = d->nhits < max ? d->nhits : max;
    if (n < 0)
        n = 0;
    if (n > 0)
        memcpy(hits, d->hits, (size_t)n * sizeof *hits);
    qsort(hits, (size_t)n, sizeof *hits, by_start);
    *count = n;
    return MARK_OK;
}

void mark__rhythm_det_free(mark__rhythm_det *d)
{
    if (d == NULL)
        return;
    mark__free(d->ctx, d->ring);
    mark__free(d->ctx, d->win);
    mark__free(d->ctx, d->re);
    mark__free(d->ctx, d->im);
    mark__free(d->ctx, d->tw);
    mark__free(d->ctx, d->hist);
    mark__free(d->ctx, d);
}
