/*
 * aud_v1.c - the audio watermarks aud-v3 (what is embedded), aud-v2 and
 * aud-v1 (still read): one layout and signal path; they differ in the
 * quantisation step, the level floor, the change allowed and the keyed
 * layout (versions[] below).
 *
 * Where the mark lives.  The input's channels are mixed to mono and
 * resampled to 16 kHz (libsoxr, which keeps time: sample t of the input
 * is sample t * 16000 / rate here).  That signal is cut into slots of
 * 1024 samples (64 ms), each looked at through a Hann window; of its
 * spectrum the 384 bins from 250 to 6250 Hz form 48 cells of 8 bins
 * (125 Hz), whose levels are in dB (10 log10 of the cell's power plus a
 * floor under the slot's mean cell power: 20 dB under in aud-v1 and
 * aud-v2, 15 dB in aud-v3, so that near-empty cells read as the floor,
 * not as noise).  The cells pair up with their neighbour; a keyed layout
 * puts the 24 pairs into 4 groups of 6 and gives each pair a sign (in
 * aud-v3 each group gets one of the 4 pairs of every 1 kHz band, so that
 * every group sees the whole spectrum: a group whose pairs happened to
 * sit where a clip has little energy carried little; 5 s excerpts of
 * the corpus, at 0.7 s steps, were found 393 times of 439 instead of
 * 381, 4 s ones 392 of 464 instead of 328).  A group's value is
 *
 *     P = sum over its pairs of sign * (l_up - l_down) / sqrt(12)
 *
 * a unit-norm projection whose weights cancel within every pair, so that
 * a change of volume, a tilt of the spectrum or a filter smooth over 250
 * Hz leaves P as it was.
 *
 * What a slot carries.  Slots come in blocks of 118; in slot j of a
 * block, group 0 carries a keyed pilot bit and groups 1-3 three of the
 * 354 coded bits of the payload (payload.h: 64 bits + 48-bit keyed check,
 * rate-1/3 convolutional code), placed by a keyed permutation, so one
 * block (7.55 s) holds the whole codeword and the next repeats it.  A bit
 * is carried by quantisation index modulation with a keyed dither: P is
 * moved to the nearest point of the lattice (d + b / 2 + k) * D (d the
 * slot's and group's dither, a fraction of D, b the bit).  The change is
 * informed by P, so the host audio does not interfere with the bit; only
 * attacks do, by moving P.  The soft value of a bit read back is
 * -cos(2 pi (P / D - d)): +1 on the lattice of a 1, -1 on that of a 0.
 * The step D: 2.5 dB in aud-v1, 5 dB in aud-v2 (twice the step survived
 * codecs far better once the change went where it costs least: make
 * robustness-audio, MP3 64 kbit/s 5 -> 13 of 17 clips, Vorbis q2 4 ->
 * 16).  aud-v3 chooses, for each segment of 8 slots (0.5 s, block
 * positions 0-7, 8-15, ...; the last has 6), between 5 and 16 dB: the
 * large step when its expected cost (a move uniform over +-D/2 in each
 * group: D^2 / 12 times the energy a dB of P costs in the slot) has
 * fitted the slot's own limit (below) over the last few slots.  That is
 * content whose level changes codecs mask and move most, noise-like
 * stretches such as drums (MP3 128 kbit/s moves their P by 1-1.5 dB RMS,
 * MP3 64 by 3): there aud-v2's 5 dB step was lost, 16 dB is not, at an
 * SNR still near 40 dB.  The detector learns each segment's step from
 * its pilot (below).
 *
 * What it costs.  A group's change is shared among its cells for the
 * least energy: a cell's share goes with how far it can move its level
 * (a cell near the floor hardly can) over its power relative to the
 * slot's mean (plus 0.1), so quiet cells under loud ones move most, at
 * most 3 dB a cell in aud-v1 and aud-v2, 6 dB (10 at the 16 dB step) in
 * aud-v3.  (Shares by level alone cost 4-10 dB more energy for the same
 * change.)  aud-v3's floor makes a cell's level bend away from its gain
 * near the floor, so its plan is made three times, each from the levels
 * the gains so far give.  A slot's change may cost at most 27.5 dB (28
 * in aud-v3) under the larger of its energy and the recent mean (quiet
 * slots between loud ones carry the mark too), in aud-v3 at most 24 dB
 * under its own energy, and never more than a budget that keeps the
 * change so far 28.6 dB (29.2) under the signal so far, which measures
 * as at least 30 dB SNR over a file (the analysis window overstates the
 * change).  Changes are multiplicative: digital silence, and cells with
 * nothing in them, stay as they are.  Content with most cells empty (a
 * few pure tones, two narrow resonances) can carry little.
 *
 * How the change is made.  A short-time Fourier transform of 1024
 * samples at a hop of 512 with square-root Hann windows (which add up to
 * exactly the input): the frame aligned with slot s has its band bins
 * scaled by the gains the slot asks for, the frame between slots s and
 * s + 1 by their geometric mean.  Only the difference is kept, at 16 kHz;
 * it is resampled to the input's rate and added to every channel in
 * proportion to the channel's level, so the mono mix gets exactly the
 * change and a silent channel none.  The embedder is a stream: a few
 * slots of delay, constant memory, the same output however the input is
 * cut into pieces.
 *
 * How it is found.  The detector computes the group values, under both
 * layouts and floors, on a grid of 64-sample steps (1/16 of a slot) for
 * seven frequency scales (content whose speed changed by up to 1.5% has
 * its bins moved).  For each window of two blocks (hop one block), 25
 * time-axis hypotheses (slot lengths 98.5% to 101.5% in steps of 0.25%,
 * each either with the matching frequency scale, as when a file was
 * played faster, or without, as when its tempo changed and its pitch did
 * not) and 16 slot offsets, the pilot is correlated at every block phase
 * (aud-v3: under each step, an alignment scoring by the better of each
 * alone and both together); the 6 best alignments of the window are
 * decoded (soft Viterbi) over the window, then over the whole input (the
 * 24 best when the window is all of it), and a decode counts only if
 * the keyed 48-bit check passes.  In aud-v3 a
 * segment's soft values are those of each step weighted by exp(3 x the
 * pilot's agreement with that step over the segment), normalised.  A
 * wrong decode passes with probability 2^-48 per path it checks (up to
 * MARK__LIST, payload/ecc.c), and a file gets at most MARK__AUDWM_TRIES
 * (960) tries for each version: a false-positive probability under
 * 1.7e-10 per file for the three (MARK__AUDWM_FP_BOUND).
 *
 * Frozen formats: versions[] and the constants above, the prng domains
 * ("aud-v1 ...", which aud-v2 shares; "aud-v3 ...") and the order in
 * which layout_make() draws from them (golden digests in
 * tests/unit/test_audwm.c).  The detector looks for aud-v3, then aud-v2,
 * then aud-v1, each with its own MARK__AUDWM_TRIES.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <soxr.h>

#include "signal.h"

#define WR 16000                         /* work rate, Hz */
#define SLOT 1024                        /* samples per slot at WR */
#define HOP (SLOT / 2)                   /* STFT hop of the embedder */
#define BLO 16                           /* first band bin (250 Hz) */
#define NB 384                           /* band bins */
#define CW 8                             /* bins per cell */
#define NC (NB / CW)                     /* cells */
#define PAIRS (NC / 2)
#define GROUPS 4                         /* per slot: pilot + 3 data */
#define PPG (PAIRS / GROUPS)             /* pairs per group */
#define SLOTS 118                        /* per block: 354 / 3 */
#define ALPHA 1.0                        /* share of the way to the lattice */
#define ALLOC_EPS 0.1                    /* cells' shares: see plan_slot */
#define SEG 8                            /* aud-v3: slots of one step */
#define DB_AMP 0.1151293                 /* ln 10 / 20: amplitude change
                                            per dB, for small ones */
#define SEG_K 3.0                        /* aud-v3: the detector's weight
                                            of a segment's pilot evidence */
#define GRID 64                          /* detector frame step */
#define OFFS (SLOT / GRID)               /* slot offsets searched */
#define NV 7                             /* frequency scales searched */
#define NT 13                            /* slot lengths searched */
#define FBLO 8                           /* spectrum the detector keeps: */
#define FNB 410                          /* bins FBLO.. for every scale */
#define TRIES 6                          /* decodes per window */
#define TRIES_ALL 24                     /* ... when it is all the input */
#define SILENT 1e-9                      /* band power of silence */
#define QUIET 1e-3                       /* slots this far under the mean
                                            power are not read */
#define ZRUN 32                          /* zero frames that are silence */
#define QUICK_SECONDS 30                 /* the quick search's span */

static float sq(float x)
{
    return x * x;
}

/* The versions: what each embeds with and how the detector reads it.
 * Frozen once shipped. */
#define NSTEP 3                          /* most steps a version has */

typedef struct audver {
    const char *name;                    /* the scheme reported */
    const char *domain;                  /* prefix of its prng domains */
    int nsteps;                          /* 1, or aud-v3's choice */
    double step[NSTEP];                  /* D, the QIM step, smallest
                                            first */
    double cap[NSTEP];                   /* most change per cell, dB, at
                                            each step */
    double floor;                        /* level floor, x mean power */
    double min_snr;                      /* change under the signal, dB */
    double slot_snr;                     /* ... under a slot's reference */
    double own_snr;                      /* ... and under its own energy
                                            (0: no such limit) */
    int passes;                          /* planning passes a slot */
    int spread;                          /* 1: every group has one pair
                                            in each 1 kHz band */
    int set;                             /* the detector's group values:
                                            0 aud-v1's layout and floor,
                                            1 aud-v3's */
} audver;

static const audver versions[] = {
    { "aud-v1", "aud-v1", 1, { 2.5 }, { 3.0 }, 1e-2, 28.6, 27.5, 0, 1, 0,
      0 },
    { "aud-v2", "aud-v1", 1, { 5.0 }, { 3.0 }, 1e-2, 28.6, 27.5, 0, 1, 0,
      0 },
    { "aud-v3", "aud-v3", 2, { 5.0, 16.0 }, { 6.0, 10.0 }, 3e-2, 29.2, 28.0,
      24.0, 3, 1, 1 },
};
#define NSET 2                           /* layouts and floors read */
#define NVER (int)(sizeof versions / sizeof versions[0])
#define LATEST 3                         /* what mark__audwm_embed writes */

typedef struct layout {
    unsigned char group[PAIRS];
    signed char sign[PAIRS];
    unsigned char pilot[SLOTS];
    float dither[SLOTS][GROUPS];         /* fraction of the step */
    uint16_t bit[SLOTS][GROUPS - 1];     /* coded bit of each data group */
} layout;

static float hann[SLOT], sqhann[SLOT];
static float tw_re[SLOT / 2], tw_im[SLOT / 2];
static unsigned short bitrev[SLOT];

static void make_tables(void)
{
    unsigned i, j, b;

    for (i = 0; i < SLOT; i++) {
        hann[i] = (float)(0.5 - 0.5 * cos(2 * M_PI * i / SLOT));
        sqhann[i] = sqrtf(hann[i]);
    }
    for (i = 0; i < SLOT / 2; i++) {
        tw_re[i] = (float)cos(2 * M_PI * i / SLOT);
        tw_im[i] = (float)-sin(2 * M_PI * i / SLOT);
    }
    for (i = 0; i < SLOT; i++) {
        for (j = 0, b = 1; b < SLOT; b <<= 1)
            j = (j << 1) | ((i & b) ? 1 : 0);
        bitrev[i] = (unsigned short)j;
    }
}

/* Made once per process, whichever thread (each with its own ctx) comes
 * first: a plain flag let a second thread see it set before the tables
 * were written. */
static void tables(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    pthread_once(&once, make_tables);
}

/* Forward (inverse: conjugate twiddles, no scaling) FFT of SLOT points
 * with tables made once (bit reversal, twiddles): the detector runs one
 * per 64 samples at 16 kHz, and mark__fft works its twiddles out by a
 * recurrence on every call. */
static void fft_slot(float *re, float *im, int inverse)
{
    unsigned i, len, k;

    for (i = 0; i < SLOT; i++) {
        unsigned j = bitrev[i];

        if (i < j) {
            float t = re[i];

            re[i] = re[j];
            re[j] = t;
            t = im[i];
            im[i] = im[j];
            im[j] = t;
        }
    }
    for (len = 2; len <= SLOT; len <<= 1) {
        unsigned half = len / 2, step = SLOT / len;

        for (i = 0; i < SLOT; i += len)
            for (k = 0; k < half; k++) {
                float wr = tw_re[k * step];
                float wi = inverse ? -tw_im[k * step] : tw_im[k * step];
                unsigned a = i + k, b = a + half;
                float xr = re[b] * wr - im[b] * wi;
                float xi = re[b] * wi + im[b] * wr;

                re[b] = re[a] - xr;
                im[b] = im[a] - xi;
                re[a] += xr;
                im[a] += xi;
            }
    }
}

static void layout_make(const mark_key *key, const audver *ver,
                        layout *ly)
{
    mark__prng r;
    uint32_t perm[PAIRS], bits[MARK__CODED_BITS];
    char dom[32];
    unsigned i, g;

    snprintf(dom, sizeof dom, "%s quads", ver->domain);
    mark__prng_init(&r, key, dom);
    if (ver->spread) {
        /* the GROUPS pairs of each band go one to each group, so that
         * every group sees the whole spectrum */
        for (i = 0; i < PAIRS; i += GROUPS) {
            mark__prng_permutation(&r, perm, GROUPS);
            for (g = 0; g < GROUPS; g++)
                ly->group[i + g] = (unsigned char)perm[g];
        }
        for (i = 0; i < PAIRS; i++)
            ly->sign[i] = (signed char)mark__prng_sign(&r);
    } else {
        mark__prng_permutation(&r, perm, PAIRS);
        for (i = 0; i < PAIRS; i++) {
            ly->group[perm[i]] = (unsigned char)(i / PPG);
            ly->sign[i] = (signed char)mark__prng_sign(&r);
        }
    }
    mark__prng_wipe(&r);
    snprintf(dom, sizeof dom, "%s pilot", ver->domain);
    mark__prng_init(&r, key, dom);
    for (i = 0; i < SLOTS; i++) {
        ly->pilot[i] = (unsigned char)(mark__prng_u32(&r) & 1);
        for (g = 0; g < GROUPS; g++)
            ly->dither[i][g] = (float)((mark__prng_u32(&r) >> 8) /
                                       16777216.0);
    }
    mark__prng_wipe(&r);
    snprintf(dom, sizeof dom, "%s bits", ver->domain);
    mark__prng_init(&r, key, dom);
    mark__prng_permutation(&r, bits, MARK__CODED_BITS);
    for (i = 0; i < SLOTS; i++)
        for (g = 0; g < GROUPS - 1; g++)
            ly->bit[i][g] = (uint16_t)bits[i * (GROUPS - 1) + g];
    mark__prng_wipe(&r);
}

void mark__audwm_layout_digest(const mark_key *key, int version,
                               unsigned char out[32])
{
    layout ly;
    crypto_generichash_state st;
    unsigned i, g;

    if (version < 1 || version > NVER)
        version = LATEST;
    layout_make(key, &versions[version - 1], &ly);
    crypto_generichash_init(&st, NULL, 0, 32);
    for (i = 0; i < PAIRS; i++) {
        unsigned char b[2] = { ly.group[i], ly.sign[i] > 0 };

        crypto_generichash_update(&st, b, sizeof b);
    }
    for (i = 0; i < SLOTS; i++) {
        unsigned char b[1 + 3 * GROUPS + 2 * (GROUPS - 1)], *q = b;

        *q++ = ly.pilot[i];
        for (g = 0; g < GROUPS; g++) {
            uint32_t d = (uint32_t)(ly.dither[i][g] * 16777216.0f);

            *q++ = (unsigned char)d;
            *q++ = (unsigned char)(d >> 8);
            *q++ = (unsigned char)(d >> 16);
        }
        for (g = 0; g < GROUPS - 1; g++) {
            *q++ = (unsigned char)ly.bit[i][g];
            *q++ = (unsigned char)(ly.bit[i][g] >> 8);
        }
        crypto_generichash_update(&st, b, sizeof b);
    }
    crypto_generichash_final(&st, out, 32);
    sodium_memzero(&ly, sizeof ly);
}

/* The group values of one spectrum's cell levels lv[0..NC). */
static void project(const layout *ly, const float *lv, float *P)
{
    const float norm = (float)(1 / sqrt(2.0 * PPG));
    unsigned q, g;

    for (g = 0; g < GROUPS; g++)
        P[g] = 0;
    for (q = 0; q < PAIRS; q++)
        P[ly->group[q]] += ly->sign[q] * (lv[2 * q] - lv[2 * q + 1]);
    for (g = 0; g < GROUPS; g++)
        P[g] *= norm;
}

/* ---------------------------------------------------------------- */
/* The embedder.                                                     */

struct mark__audwm {
    mark_ctx *ctx;
    layout ly;
    unsigned char coded[MARK__CODED_BITS];
    uint32_t rate;
    int ch;
    double alpha;                        /* share of the way to the
                                            lattice point */
    const audver *ver;                   /* what it writes: LATEST (older
                                            ones for tests) */
    int big;                             /* aud-v3: this segment's step,
                                            an index of ver->step */
    double room;                         /* aud-v3: log of the step^2 the
                                            recent slots could afford
                                            (their limit over the cost
                                            of a dB^2 of P, / 12) */
    soxr_t down, up;
    float *q;                            /* input frames not yet out */
    size_t q_len, q_cap;                 /* frames; floats */
    float *a;                            /* mono 16 kHz from a_base */
    uint64_t a_base;
    size_t a_len, a_cap;
    float *d;                            /* change at 16 kHz from d_base */
    uint64_t d_base;
    size_t d_len, d_cap;                 /* d_len: final samples */
    float *nd;                           /* change at the input rate */
    size_t nd_len, nd_cap;
    uint64_t slot;                       /* next slot to plan */
    float gain[2][NB];                   /* of slots slot - 2, slot - 1 */
    float w[8];                          /* channel weights */
    float ms[8];                         /* channel mean squares */
    uint64_t out_total;                  /* frames out */
    uint64_t zrun;                       /* zero frames just before */
    double mean_e;                       /* recent slot energy */
    double budget;                       /* change energy still allowed */
    double power;                        /* budget scale (strength) */
    uint64_t a_total;                    /* 16 kHz samples of the input */
    int flushed;
    float mix[4096];
    float re[SLOT], im[SLOT];
};

static int grow(mark_ctx *ctx, float **p, size_t *cap, size_t need)
{
    float *n;
    size_t c = *cap ? *cap : 4096;

    if (need <= *cap)
        return MARK_OK;
    while (c < need)
        c *= 2;
    n = mark__realloc(ctx, *p, c * sizeof *n);
    if (n == NULL)
        return MARK_ENOMEM;
    *p = n;
    *cap = c;
    return MARK_OK;
}

static int push(mark_ctx *ctx, float **p, size_t *len, size_t *cap,
                const float *x, size_t n)
{
    int rc = grow(ctx, p, cap, *len + n);

    if (rc != MARK_OK)
        return rc;
    if (n == 0)
        return MARK_OK;
    if (x != NULL)
        memcpy(*p + *len, x, n * sizeof *x);
    else
        memset(*p + *len, 0, n * sizeof **p);
    *len += n;
    return MARK_OK;
}

static void drop(float *p, size_t *len, size_t n)
{
    if (n > 0 && *len > n)
        memmove(p, p + n, (*len - n) * sizeof *p);
    *len -= n;
}

/* Cell levels (dB) and powers from bin powers pw[0..NB); the floor. */
static float cells(const float *pw, double floor_ratio, float *lv,
                   float *pc)
{
    double mean = 0;
    float floor_;
    unsigned i, k;

    for (i = 0; i < NC; i++) {
        float v = 0;

        for (k = 0; k < CW; k++)
            v += pw[i * CW + k];
        pc[i] = v;
        mean += v;
    }
    floor_ = (float)(floor_ratio * mean / NC) + 1e-20f;
    for (i = 0; i < NC; i++)
        lv[i] = 10.0f * log10f(pc[i] + floor_);
    return floor_;
}

/* The level changes (dB of magnitude, per band bin) for slot s from the
 * 16 kHz samples at a (512 of them).  A bin's level moves by c = p / (p
 * + floor) of its gain (quiet bins hardly move it), and a change of g dB
 * costs about p g^2 of energy, so each group's change is shared among
 * its cells in proportion to c / (p / mean + ALLOC_EPS): close to the
 * least energy that moves P as far as asked (within CAP_DB a cell). */
static void plan_slot(mark__audwm *e, uint64_t s, const float *a,
                      float *gain)
{
    const float norm = (float)(1 / sqrt(2.0 * PPG));
    const audver *ver = e->ver;
    float pw[NB], lv[NC], pc[NC], cf[NC], wg[NC], P[GROUPS], dP[GROUPS];
    float Pn[GROUPS];
    double c2[GROUPS] = { 0 }, tgt[GROUPS], dE = 0, tot = 0, lim, step, cap;
    float fl, cg[NC], k;
    unsigned i, g, q, j = (unsigned)(s % SLOTS);
    int pass;

    for (i = 0; i < SLOT; i++) {
        e->re[i] = a[i] * hann[i];
        e->im[i] = 0;
    }
    fft_slot(e->re, e->im, 0);
    for (i = 0; i < NB; i++)
        pw[i] = e->re[BLO + i] * e->re[BLO + i] +
                e->im[BLO + i] * e->im[BLO + i];
    fl = cells(pw, ver->floor, lv, pc);
    project(&e->ly, lv, P);
    /* each cell's share of its group's change (x the group's), per unit
     * of the P it moves: cf / (its power / the slot's mean + ALLOC_EPS):
     * the least energy for the change asked, within what a cell can
     * move (a cell near the floor hardly can) */
    {
        double mp = 0;

        for (i = 0; i < NC; i++)
            mp += pc[i];
        mp = mp / NC + 1e-30;
        for (i = 0; i < NC; i++) {
            cf[i] = pc[i] / (pc[i] + fl);
            wg[i] = (float)(cf[i] / (pc[i] / mp + ALLOC_EPS));
            c2[e->ly.group[i / 2]] += (double)cf[i] * wg[i];
        }
    }
    /* the slot's energy: all of it up to 8 kHz, not only the band */
    for (i = 0; i <= SLOT / 2; i++)
        tot += (double)e->re[i] * e->re[i] + (double)e->im[i] * e->im[i];
    /* The change a slot may cost: against the larger of its energy and
     * the recent mean (3 s), so that quiet slots among loud ones carry
     * the mark as well, but never more than the budget: the change so
     * far stays min_snr under the signal so far. */
    e->mean_e += (tot - e->mean_e) / (e->mean_e > 0 ? 47 : 1);
    e->budget += tot * pow(10, -ver->min_snr / 10) * e->power;
    lim = (tot > e->mean_e ? tot : e->mean_e) * pow(10, -ver->slot_snr / 10) *
          e->power;
    if (ver->own_snr > 0 &&
        lim > tot * pow(10, -ver->own_snr / 10) * e->power)
        lim = tot * pow(10, -ver->own_snr / 10) * e->power;
    if (lim > e->budget)
        lim = e->budget > 0 ? e->budget : 0;
    step = ver->step[0];
    cap = ver->cap[0];
    if (ver->nsteps > 1) {
        /* aud-v3: a segment of SEG slots takes the large step when its
         * expected cost (a uniform move over +-D/2 in each group: D^2 /
         * 12 times what a dB^2 of P costs) has fitted the slots' own
         * limit lately (a running mean of the log over SEG slots):
         * content with room for more change (noise-like, whose levels
         * codecs move most) gets it.  Its pilot tells the detector which
         * step it has. */
        double unit = 0, r, own;

        for (i = 0; i < NC; i++) {
            unsigned gi = e->ly.group[i / 2];
            double v = c2[gi] > 1e-6 ? wg[i] / (c2[gi] * norm) * DB_AMP
                                     : 0;

            unit += pc[i] * v * v;
        }
        own = tot * pow(10, -ver->slot_snr / 10) * e->power;
        if (own > lim)
            own = lim;
        r = log((own + 1e-30) / (unit / 12 + 1e-30));
        e->room += s == 0 ? r : (r - e->room) / SEG;
        if (j % SEG == 0)
            for (e->big = ver->nsteps - 1; e->big > 0; e->big--) {
                double d = ver->step[e->big];

                if (e->room >= log(d * d))
                    break;
            }
        step = ver->step[e->big];
        cap = ver->cap[e->big];
    }
    for (g = 0; g < GROUPS; g++) {
        int b = g == 0 ? e->ly.pilot[j]
                       : e->coded[e->ly.bit[j][g - 1]];
        double off = (e->ly.dither[j][g] + 0.5 * b) * step;
        double n = floor((P[g] - off) / step + 0.5);

        /* sum of u c x over the group = dP with x = y u w: y = dP /
         * sum (u^2 c w), u^2 = norm^2 */
        dP[g] = c2[g] > 1e-6
                ? (float)(e->alpha * (off + n * step - P[g]) /
                          (c2[g] * norm * norm))
                : 0.0f;
        tgt[g] = P[g] + e->alpha * (off + n * step - P[g]);
    }
    for (q = 0; q < PAIRS; q++) {
        float x = e->ly.sign[q] * dP[e->ly.group[q]] * norm;

        for (i = 2 * q; i < 2 * q + 2; i++) {
            float v = (i == 2 * q ? x : -x) * wg[i];

            v = v > cap ? (float)cap : v < -cap ? (float)-cap : v;
            cg[i] = v;
        }
    }
    /* aud-v3: a cell's level is not linear in its gain near the floor
     * (higher than aud-v2's), nor past the cap: what is left of the way
     * is planned again from the levels the gains so far give */
    for (pass = 1; pass < ver->passes; pass++) {
        for (i = 0; i < NC; i++)
            lv[i] = 10.0f * log10f(pc[i] * powf(10.0f, cg[i] * 0.1f) + fl);
        project(&e->ly, lv, Pn);
        for (g = 0; g < GROUPS; g++)
            dP[g] = c2[g] > 1e-6
                    ? (float)((tgt[g] - Pn[g]) / (c2[g] * norm * norm))
                    : 0.0f;
        for (q = 0; q < PAIRS; q++) {
            float x = e->ly.sign[q] * dP[e->ly.group[q]] * norm;

            for (i = 2 * q; i < 2 * q + 2; i++) {
                float v = cg[i] + (i == 2 * q ? x : -x) * wg[i];

                cg[i] = v > cap ? (float)cap : v < -cap ? (float)-cap : v;
            }
        }
    }
    for (i = 0; i < NC; i++)
        dE += pc[i] * sq(powf(10.0f, cg[i] * 0.05f) - 1.0f);
    k = dE > lim ? (float)sqrt(lim / dE) : 1.0f;
    e->budget -= dE * k * k;
    for (i = 0; i < NC; i++)
        for (q = 0; q < CW; q++)
            gain[i * CW + q] = k * cg[i];
}

/* Add the change of the STFT frame over a[0..512) with the level
 * changes dl (dB, per band bin) into d[0..512). */
static void synth(mark__audwm *e, const float *a, const float *dl, float *d)
{
    float yr[SLOT], yi[SLOT];
    unsigned i;

    for (i = 0; i < SLOT; i++) {
        e->re[i] = a[i] * sqhann[i];
        e->im[i] = 0;
        yr[i] = yi[i] = 0;
    }
    fft_slot(e->re, e->im, 0);
    for (i = 0; i < NB; i++) {
        unsigned b = BLO + i;
        float g = powf(10.0f, dl[i] * 0.05f) - 1.0f;

        yr[b] = e->re[b] * g;
        yi[b] = e->im[b] * g;
        yr[SLOT - b] = yr[b];
        yi[SLOT - b] = -yi[b];
    }
    fft_slot(yr, yi, 1);
    for (i = 0; i < SLOT; i++)
        d[i] += yr[i] * sqhann[i] * (1.0f / SLOT);
}

static int sox_err(mark_ctx *ctx, soxr_error_t err)
{
    return mark__err(ctx, MARK_EBACKEND, "resampling: %s", err);
}

/* Resample n samples of x (NULL: the end) through r, appending to
 * (*buf, *len, *cap). */
static int resample(mark_ctx *ctx, soxr_t r, double ratio, const float *x,
                    size_t n, float **buf, size_t *len, size_t *cap)
{
    for (;;) {
        size_t room = (size_t)(n * ratio) + 256, idone = 0, odone = 0;
        soxr_error_t err;
        int rc = grow(ctx, buf, cap, *len + room);

        if (rc != MARK_OK)
            return rc;
        err = soxr_process(r, x, x != NULL ? n : 0, &idone, *buf + *len,
                           room, &odone);
        if (err != NULL)
            return sox_err(ctx, err);
        *len += odone;
        if (x == NULL) {
            if (odone == 0)
                return MARK_OK;
            continue;
        }
        x += idone;
        n -= idone;
        if (n == 0)
            return MARK_OK;
    }
}

/* Hand d[0..n) (final) to the up-sampler, at most up to the input's
 * length at 16 kHz when that is known. */
static int feed_up(mark__audwm *e, size_t n)
{
    if (e->flushed && e->d_base + n > e->a_total)
        n = e->d_base >= e->a_total ? 0 : (size_t)(e->a_total - e->d_base);
    if (n == 0)
        return MARK_OK;
    return resample(e->ctx, e->up, (double)e->rate / WR, e->d, n, &e->nd,
                    &e->nd_len, &e->nd_cap);
}

/* Plan every slot whose samples are in and synthesise the frames that
 * allows; the change before the next frame is then final and goes on to
 * the up-sampler. */
static int advance(mark__audwm *e)
{
    int rc;

    for (;;) {
        uint64_t s = e->slot, t0 = s * SLOT;
        float *gprev = e->gain[(s + 1) & 1], *gcur = e->gain[s & 1];
        float mid[NB];
        size_t need, i, fin, keep;

        if (t0 + SLOT > e->a_base + e->a_len)
            return MARK_OK;
        plan_slot(e, s, e->a + (t0 - e->a_base), gcur);
        /* frames 2s - 1 (between slots s - 1 and s) and 2s change
         * [t0 - 256, t0 + 512); d holds from t0 - 256 (0 for slot 0) */
        need = (size_t)(t0 + SLOT - e->d_base);
        if ((rc = grow(e->ctx, &e->d, &e->d_cap, need)) != MARK_OK)
            return rc;
        for (i = e->d_len; i < need; i++)
            e->d[i] = 0;
        e->d_len = need;
        if (s > 0) {
            for (i = 0; i < NB; i++)
                mid[i] = 0.5f * (gprev[i] + gcur[i]);
            synth(e, e->a + (t0 - HOP - e->a_base), mid,
                  e->d + (t0 - HOP - e->d_base));
        }
        synth(e, e->a + (t0 - e->a_base), gcur, e->d + (t0 - e->d_base));
        e->slot = s + 1;
        fin = (size_t)(t0 + HOP - e->d_base);
        if ((rc = feed_up(e, fin)) != MARK_OK)
            return rc;
        drop(e->d, &e->d_len, fin);
        e->d_base += fin;
        keep = (size_t)(t0 + HOP - e->a_base);
        drop(e->a, &e->a_len, keep);
        e->a_base += keep;
    }
}

static int zero_frame(const float *x, int C)
{
    int c;

    for (c = 0; c < C; c++)
        if (x[c] != 0)
            return 0;
    return 1;
}

/* The ZRUN frames after frame i of the queue are zeros (or the input
 * ends before them). */
static int zeros_ahead(const mark__audwm *e, size_t i)
{
    size_t k;

    for (k = i + 1; k <= i + ZRUN; k++) {
        if (k >= e->q_len)
            return e->flushed;
        if (!zero_frame(e->q + k * (size_t)e->ch, e->ch))
            return 0;
    }
    return 1;
}

/* Move up to cap frames with their change to out.  The channels share
 * the change in proportion to their level (a running mean square over
 * about 20 ms, read every 64 frames), with weights averaging 1 so that
 * the mix gets all of it and a silent channel none.  All of it counted
 * in frames from the start, so that any way of cutting the input into
 * pieces gives the same output. */
static size_t emit(mark__audwm *e, float *out, size_t cap)
{
    size_t n = e->q_len < e->nd_len ? e->q_len : e->nd_len, i;
    int c, C = e->ch;
    float a = 1.0f / (0.02f * (float)e->rate);

    if (n > cap)
        n = cap;
    for (i = 0; i < n; i++) {
        const float *x = e->q + i * (size_t)C;

        if (C > 1) {
            for (c = 0; c < C; c++)
                e->ms[c] += a * (x[c] * x[c] - e->ms[c]);
            if ((e->out_total + i) % 64 == 0) {
                double sum = 0;

                for (c = 0; c < C; c++)
                    sum += sqrt(e->ms[c]);
                for (c = 0; c < C; c++)
                    e->w[c] = sum > 0 ? (float)(C * sqrt(e->ms[c]) / sum)
                                      : 1.0f;
            }
        }
        /* digital silence stays silent: a frame of zeros in a run of
         * ZRUN or more (looking ahead as far as the input is in) */
        e->zrun = zero_frame(x, C) ? e->zrun + 1 : 0;
        if (e->zrun > 0 && (e->zrun >= ZRUN || zeros_ahead(e, i))) {
            for (c = 0; c < C; c++)
                out[i * (size_t)C + c] = x[c];
            continue;
        }
        for (c = 0; c < C; c++)
            out[i * (size_t)C + c] = x[c] + e->w[c] * e->nd[i];
    }
    if (n > 0 && e->q_len > n)
        memmove(e->q, e->q + n * C, (e->q_len - n) * C * sizeof *e->q);
    e->q_len -= n;
    drop(e->nd, &e->nd_len, n);
    e->out_total += n;
    return n;
}

int mark__audwm_new(mark_ctx *ctx, const mark_key *key,
                    const mark_payload *p, uint32_t rate, int channels,
                    double strength, mark__audwm **out)
{
    mark__audwm *e;
    soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    soxr_quality_spec_t q = soxr_quality_spec(SOXR_MQ, 0);
    soxr_error_t err = NULL;
    int c;

    *out = NULL;
    if (key == NULL || p == NULL || channels < 1 || channels > 8 ||
        rate < 8000 || rate > 768000 || !(strength > 0))
        return mark__err(ctx, MARK_EINVAL, "audio watermark: bad parameters");
    tables();
    e = mark__calloc(ctx, 1, sizeof *e);
    if (e == NULL)
        return MARK_ENOMEM;
    e->ctx = ctx;
    e->rate = rate;
    e->ch = channels;
    /* strength: under 1, less of the way to the lattice; over 1, a
     * larger budget (2: 6 dB more change) */
    e->ver = &versions[LATEST - 1];
    e->alpha = ALPHA * strength;
    e->power = strength > 1 ? strength * strength : 1;
    if (e->alpha > 1)
        e->alpha = 1;
    for (c = 0; c < 8; c++)
        e->w[c] = 1;
    layout_make(key, e->ver, &e->ly);
    mark__encode_payload(key, p, e->coded);
    e->down = soxr_create(rate, WR, 1, &err, &io, &q, NULL);
    if (err == NULL)
        e->up = soxr_create(WR, rate, 1, &err, &io, &q, NULL);
    if (err != NULL) {
        mark__audwm_free(e);
        return sox_err(ctx, err);
    }
    *out = e;
    return MARK_OK;
}

void mark__audwm_free(mark__audwm *e)
{
    if (e == NULL)
        return;
    if (e->down != NULL)
        soxr_delete(e->down);
    if (e->up != NULL)
        soxr_delete(e->up);
    mark__free(e->ctx, e->q);
    mark__free(e->ctx, e->a);
    mark__free(e->ctx, e->d);
    mark__free(e->ctx, e->nd);
    sodium_memzero(e->coded, sizeof e->coded);
    mark__free(e->ctx, e);
}

static int finish(mark__audwm *e)
{
    uint64_t end;
    int rc;

    rc = resample(e->ctx, e->down, (double)WR / e->rate, NULL, 0, &e->a,
                  &e->a_len, &e->a_cap);
    if (rc != MARK_OK)
        return rc;
    e->a_total = e->a_base + e->a_len;
    e->flushed = 1;
    /* silence after the end completes the last slot and plans one more,
     * so that the change up to the end is final */
    end = (e->a_total / SLOT + 2) * SLOT;
    if ((rc = push(e->ctx, &e->a, &e->a_len, &e->a_cap, NULL,
                   (size_t)(end - e->a_base - e->a_len))) != MARK_OK)
        return rc;
    if ((rc = advance(e)) != MARK_OK)
        return rc;
    if ((rc = resample(e->ctx, e->up, (double)e->rate / WR, NULL, 0,
                       &e->nd, &e->nd_len, &e->nd_cap)) != MARK_OK)
        return rc;
    /* the resamplers agree on lengths to a sample or so */
    if (e->nd_len < e->q_len)
        rc = push(e->ctx, &e->nd, &e->nd_len, &e->nd_cap, NULL,
                  e->q_len - e->nd_len);
    return rc;
}

int mark__audwm_process(mark__audwm *e, const float *in, size_t n,
                        float *out, size_t cap, size_t *got)
{
    int rc = MARK_OK;
    size_t i, done;
    int c;

    *got = 0;
    if (in == NULL && !e->flushed) {
        if ((rc = finish(e)) != MARK_OK)
            return rc;
    } else if (in != NULL && n > 0) {
        if (e->flushed)
            return mark__err(e->ctx, MARK_EINVAL, "audio watermark: input "
                             "after the end");
        if ((rc = grow(e->ctx, &e->q, &e->q_cap,
                       (e->q_len + n) * e->ch)) != MARK_OK)
            return rc;
        memcpy(e->q + e->q_len * e->ch, in, n * e->ch * sizeof *in);
        e->q_len += n;
        for (done = 0; done < n;) {
            size_t m = n - done < 4096 ? n - done : 4096;
            const float *x = in + done * e->ch;

            for (i = 0; i < m; i++) {
                float v = 0;

                for (c = 0; c < e->ch; c++)
                    v += x[i * e->ch + c];
                e->mix[i] = v / e->ch;
            }
            rc = resample(e->ctx, e->down, (double)WR / e->rate, e->mix, m,
                          &e->a, &e->a_len, &e->a_cap);
            if (rc != MARK_OK)
                return rc;
            done += m;
        }
        if ((rc = advance(e)) != MARK_OK)
            return rc;
    }
    *got = emit(e, out, cap);
    return MARK_OK;
}

int mark__audwm_pump(mark__audwm *e, const float *x, size_t n, float *buf,
                     size_t cap,
                     int (*put)(void *u, const float *y, size_t frames),
                     void *u)
{
    size_t got;
    int rc;

    do {
        rc = mark__audwm_process(e, x, n, buf, cap, &got);
        if (rc == MARK_OK && got > 0)
            rc = put(u, buf, got);
        if (x != NULL) {
            x += n * (size_t)e->ch;
            n = 0;                      /* then collect what is left */
        }
    } while (rc == MARK_OK && got == cap);
    return rc;
}

int mark__audwm_embed_version(mark_ctx *ctx, const mark_key *key,
                              const mark_payload *p, float *x,
                              size_t frames, uint32_t rate, int channels,
                              double strength, int version)
{
    mark__audwm *e;
    size_t at = 0, outat = 0, got;
    int rc = mark__audwm_new(ctx, key, p, rate, channels, strength, &e);

    if (rc != MARK_OK)
        return rc;
    if (version >= 1 && version < LATEST) {
        e->ver = &versions[version - 1];
        layout_make(key, e->ver, &e->ly);
    }
    /* the output trails the input by a few slots, so it can be written
     * back over samples already read */
    while (rc == MARK_OK) {
        size_t n = frames - at < 4096 ? frames - at : 4096;

        rc = mark__audwm_process(e, n ? x + at * channels : NULL, n,
                                 x + outat * channels, at + n - outat,
                                 &got);
        at += n;
        outat += got;
        if (n == 0 && (got == 0 || outat == frames))
            break;
    }
    mark__audwm_free(e);
    return rc;
}

int mark__audwm_embed(mark_ctx *ctx, const mark_key *key,
                      const mark_payload *p, float *x, size_t frames,
                      uint32_t rate, int channels, double strength)
{
    return mark__audwm_embed_version(ctx, key, p, x, frames, rate,
                                     channels, strength, LATEST);
}

/* ---------------------------------------------------------------- */
/* The detector.                                                     */

typedef struct feat {
    float P[NSET][NV][GROUPS];           /* group values per layout and
                                            floor, per freq scale */
    float live;                          /* 1: not silent */
} feat;

typedef struct cand {
    double z;
    int t, mode, o, phi;
} cand;

/* Samples on their way to the detector: mixed to mono and resampled
 * to 16 kHz as they come, so that only the work signal is held. */
struct mark__audwm_in {
    mark_ctx *ctx;
    uint32_t rate;
    int ch;
    int quick;                           /* the quick search */
    uint64_t max, taken;                 /* frames wanted, frames taken */
    soxr_t r;
    float *w;                            /* the work signal */
    size_t len, cap;
    float mix[4096];
};

int mark__audwm_in_new(mark_ctx *ctx, uint32_t rate, int channels,
                       int quick, mark__audwm_in **out)
{
    soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    soxr_quality_spec_t q = soxr_quality_spec(SOXR_MQ, 0);
    soxr_error_t err = NULL;
    mark__audwm_in *d;

    *out = NULL;
    if (channels < 1 || channels > 64 || rate < 8000 || rate > 768000)
        return mark__err(ctx, MARK_EINVAL, "audio watermark: bad parameters");
    d = mark__calloc(ctx, 1, sizeof *d);
    if (d == NULL)
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    d->ctx = ctx;
    d->rate = rate;
    d->ch = channels;
    d->quick = quick;
    d->max = (uint64_t)(quick ? QUICK_SECONDS : MARK__AUDWM_MAX_SECONDS) *
             rate;
    d->r = soxr_create(rate, WR, 1, &err, &io, &q, NULL);
    if (err != NULL) {
        mark__free(ctx, d);
        return sox_err(ctx, err);
    }
    *out = d;
    return MARK_OK;
}

int mark__audwm_in_feed(mark__audwm_in *d, const float *x, size_t frames)
{
    size_t done, i;
    int c, C = d->ch, rc = MARK_OK;

    if (d->taken + frames > d->max)
        frames = (size_t)(d->max - d->taken);
    for (done = 0; done < frames && rc == MARK_OK;) {
        size_t m = frames - done < 4096 ? frames - done : 4096;
        const float *v = x + done * C;

        for (i = 0; i < m; i++) {
            float s = 0;

            for (c = 0; c < C; c++)
                s += v[i * C + c];
            d->mix[i] = s / C;
        }
        rc = resample(d->ctx, d->r, (double)WR / d->rate, d->mix, m, &d->w,
                      &d->len, &d->cap);
        done += m;
    }
    d->taken += frames;
    if (rc < 0)
        return rc;
    return d->taken >= d->max ? 1 : MARK_OK;
}

void mark__audwm_in_free(mark__audwm_in *d)
{
    if (d == NULL)
        return;
    if (d->r != NULL)
        soxr_delete(d->r);
    mark__free(d->ctx, d->w);
    mark__free(d->ctx, d);
}

static void features(const layout *ly, const double *floors,
                     const float *x, size_t nf, feat *F, int quick)
{
    float re[SLOT], im[SLOT], pw[FNB], bp[NB], lv[NC], pc[NC];
    size_t f;
    unsigned i, v, st;

    for (f = 0; f < nf; f++) {
        const float *a = x + f * GRID;
        double mean = 0;

        for (i = 0; i < SLOT; i++) {
            re[i] = a[i] * hann[i];
            im[i] = 0;
        }
        fft_slot(re, im, 0);
        for (i = 0; i < FNB; i++) {
            unsigned b = FBLO + i;

            pw[i] = re[b] * re[b] + im[b] * im[b];
            if (b >= BLO && b < BLO + NB)
                mean += pw[i];
        }
        for (v = quick ? NV / 2 : 0; v < (quick ? NV / 2 + 1 : NV); v++) {
            double phi = 1 + 0.005 * ((int)v - NV / 2);

            for (i = 0; i < NB; i++) {
                double pos = (BLO + i) * phi - FBLO;
                unsigned k = (unsigned)pos;
                float fr = (float)(pos - k);

                bp[i] = pw[k] + fr * (pw[k + 1] - pw[k]);
            }
            for (st = 0; st < NSET; st++) {
                cells(bp, floors[st], lv, pc);
                project(&ly[st], lv, F[f].P[st][v]);
            }
        }
        F[f].live = (float)(mean / NB);
    }
    /* slots count where there is sound: not digital silence, and not
     * more than QUIET under the mean band power (a pause in speech over
     * a faint room carries little of the mark and would add only noise) */
    {
        double sum = 0, th;

        for (f = 0; f < nf; f++)
            sum += F[f].live;
        th = nf > 0 ? sum / nf * QUIET : 0;
        for (f = 0; f < nf; f++)
            F[f].live = F[f].live * SLOT > SILENT && F[f].live >= th
                        ? 1.0f : 0.0f;
    }
}

/* Slot k of an alignment: its frame, or -1 past the end. */
static long slot_frame(size_t ws, size_t we, int o, double len, long k)
{
    double pos = (double)ws + o * GRID + k * len;

    if (pos + SLOT > (double)we)
        return -1;
    return (long)(pos / GRID + 0.5);
}

static double lambda_of(int t)
{
    return 1 + 0.0025 * (t - NT / 2);
}

static int variant_of(int t, int mode)
{
    double r = 1 / lambda_of(t);
    int v = mode ? (int)floor((r - 1) / 0.005 + 0.5) + NV / 2 : NV / 2;

    return v < 0 ? 0 : v >= NV ? NV - 1 : v;
}

static void keep_best(cand *best, int n, const cand *c)
{
    int i, j;

    for (i = 0; i < n; i++)
        if (c->z > best[i].z)
            break;
    if (i == n)
        return;
    for (j = n - 1; j > i; j--)
        best[j] = best[j - 1];
    best[i] = *c;
}

/* Search the window [ws, we) of the work signal for alignments of
 * version ver.  With two steps (aud-v3), the pilot is correlated under
 * each; an alignment scores by the better of each alone and both
 * together (a file with segments of both). */
static void search(const layout *ly, const feat *F, size_t nf, size_t ws,
                   size_t we, const audver *ver, cand *best, int nbest,
                   int quick)
{
    float A[SLOTS], B[SLOTS], cs[NSTEP][2 * SLOTS + 64];
    float sn[NSTEP][2 * SLOTS + 64];
    int t, mode, o, j, st, nst = ver->nsteps;
    long k;

    for (j = 0; j < SLOTS; j++) {
        double sg = ly->pilot[j] ? -1 : 1, a = 2 * M_PI * ly->dither[j][0];

        A[j] = (float)(sg * cos(a));
        B[j] = (float)(sg * sin(a));
    }
    for (t = quick ? NT / 2 : 0; t < (quick ? NT / 2 + 1 : NT); t++)
        for (mode = 0; mode < (quick ? 1 : 2); mode++) {
            double len = SLOT * lambda_of(t);
            int v = variant_of(t, mode);

            if (mode == 1 && t == NT / 2)
                continue;
            for (o = 0; o < OFFS; o++) {
                long K = 0;
                double wsum = 0;
                cand c;

                for (k = 0; k < 2 * SLOTS + 64; k++) {
                    long f = slot_frame(ws, we, o, len, k);

                    if (f < 0 || (size_t)f >= nf)
                        break;
                    for (st = 0; st < nst; st++) {
                        double th = 2 * M_PI * F[f].P[ver->set][v][0] /
                                    ver->step[st];

                        cs[st][k] = (float)cos(th) * F[f].live;
                        sn[st][k] = (float)sin(th) * F[f].live;
                    }
                    wsum += F[f].live;
                    K++;
                }
                if (wsum < 16)
                    continue;
                for (j = 0; j < SLOTS; j++) {
                    double sc[NSTEP] = { 0 }, all = 0, top;

                    for (st = 0; st < nst; st++) {
                        int jj = j;

                        for (k = 0; k < K; k++) {
                            sc[st] += cs[st][k] * A[jj] + sn[st][k] * B[jj];
                            if (++jj == SLOTS)
                                jj = 0;
                        }
                    }
                    for (top = sc[0], st = 0; st < nst; st++) {
                        all += sc[st];
                        if (sc[st] > top)
                            top = sc[st];
                    }
                    if (nst > 1 && all / sqrt(nst) > top)
                        top = all / sqrt(nst);
                    c.z = top / sqrt(wsum / 2);
                    c.t = t;
                    c.mode = mode;
                    c.o = o;
                    c.phi = j;
                    keep_best(best, nbest, &c);
                }
            }
        }
}

/* A segment's slots as read under each step (aud-v3), weighted by how
 * much more the pilot agrees with one than the other. */
typedef struct segbuf {
    int n;                               /* slots held */
    double ev[NSTEP];                    /* pilot evidence per step */
    float d[SEG][NSTEP][GROUPS - 1];     /* soft values per step */
    int j[SEG];                          /* their block positions */
} segbuf;

static void seg_flush(const layout *ly, segbuf *sb, int nst, float *soft)
{
    double p[NSTEP], top = sb->ev[0], sum = 0;
    int i, g, st;

    for (st = 1; st < nst; st++)
        if (sb->ev[st] > top)
            top = sb->ev[st];
    for (st = 0; st < nst; st++)
        sum += p[st] = exp(SEG_K * (sb->ev[st] - top));
    for (i = 0; i < sb->n; i++)
        for (g = 1; g < GROUPS; g++) {
            double v = 0;

            for (st = 0; st < nst; st++)
                v += p[st] * sb->d[i][st][g - 1];
            soft[ly->bit[sb->j[i]][g - 1]] += (float)(v / sum);
        }
    sb->n = 0;
    for (st = 0; st < NSTEP; st++)
        sb->ev[st] = 0;
}

/* Decode the alignment c, found in the window starting at ws, over the
 * slots from lo to hi (work samples): the window, or everything. */
static int decode(const mark_key *key, const layout *ly, const feat *F,
                  size_t nf, size_t ws, size_t lo, size_t hi,
                  const audver *ver, const cand *c, mark_payload *out,
                  double *agree)
{
    float soft[MARK__CODED_BITS] = { 0 };
    double len = SLOT * lambda_of(c->t);
    double first = (double)ws + c->o * GRID;
    long k = -(long)floor((first - (double)lo) / len), f;
    int v = variant_of(c->t, c->mode), g, j, st, nst = ver->nsteps;
    segbuf sb;

    memset(&sb, 0, sizeof sb);
    j = (int)(((k + c->phi) % SLOTS + SLOTS) % SLOTS);
    for (;; k++) {
        double pos = first + k * len;
        const float *P;

        if (pos + SLOT > (double)hi)
            break;
        f = (long)(pos / GRID + 0.5);
        if (f < 0 || (size_t)f >= nf)
            break;
        P = F[f].P[ver->set][v];
        if (sb.n > 0 && (j % SEG == 0 || sb.n == SEG))
            seg_flush(ly, &sb, nst, soft);
        for (st = 0; st < nst; st++) {
            double th = 2 * M_PI * (P[0] / ver->step[st] -
                                    ly->dither[j][0]);

            sb.ev[st] += -cos(th) * (ly->pilot[j] ? 1 : -1) * F[f].live;
            for (g = 1; g < GROUPS; g++) {
                th = 2 * M_PI * (P[g] / ver->step[st] - ly->dither[j][g]);
                sb.d[sb.n][st][g - 1] = (float)(-cos(th) * F[f].live);
            }
        }
        sb.j[sb.n++] = j;
        if (++j == SLOTS)
            j = 0;
    }
    seg_flush(ly, &sb, nst, soft);
    return mark__decode_payload(key, soft, out, agree);
}

int mark__audwm_detect(mark_ctx *ctx, const mark_key *key, const float *x,
                       size_t frames, uint32_t rate, int channels,
                       mark__wm_result *res)
{
    mark__audwm_in *d;
    int rc;

    memset(res, 0, sizeof *res);
    res->tempo = 1;
    rc = mark__audwm_in_new(ctx, rate, channels, 0, &d);
    if (rc < 0)
        return rc;
    rc = mark__audwm_in_feed(d, x, frames);
    if (rc >= 0)
        rc = mark__audwm_in_detect(d, key, res);
    mark__audwm_in_free(d);
    return rc;
}

int mark__audwm_in_detect(mark__audwm_in *d, const mark_key *key,
                          mark__wm_result *res)
{
    mark_ctx *ctx = d->ctx;
    int quick = d->quick;
    layout ly[NSET];
    double floors[NSET];
    float *w;
    feat *F = NULL;
    size_t M, nf, win = 2 * SLOTS * SLOT, hop = SLOTS * SLOT, ws;
    int rc, i, sch;

    memset(res, 0, sizeof *res);
    res->tempo = 1;
    if (key == NULL)
        return mark__err(ctx, MARK_EINVAL, "audio watermark: no key");
    tables();
    rc = resample(ctx, d->r, (double)WR / d->rate, NULL, 0, &d->w, &d->len,
                  &d->cap);
    if (rc < 0)
        return rc;
    w = d->w;
    M = d->len;
    if (M < SLOT * 24)
        return MARK_OK;                 /* too short to carry a mark */
    nf = (M - SLOT) / GRID + 1;
    F = mark__malloc(ctx, nf * sizeof *F);
    if (F == NULL)
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    for (sch = 0; sch < NVER; sch++) {
        layout_make(key, &versions[sch], &ly[versions[sch].set]);
        floors[versions[sch].set] = versions[sch].floor;
    }
    features(ly, floors, w, nf, F, quick);
    mark__free(ctx, d->w);              /* the features hold what counts */
    d->w = NULL;
    d->len = d->cap = 0;
    /* the latest version first, then the older ones (aud-v2 and aud-v1:
     * the same layout and group values, a step of 5 or 2.5 dB); each
     * with its own MARK__AUDWM_TRIES */
    for (sch = NVER - 1; sch >= 0; sch--) {
        const audver *ver = &versions[sch];
        const layout *l = &ly[ver->set];
        int tries = 0;

        for (ws = 0;; ws += hop) {
            size_t we;
            cand best[TRIES_ALL];
            int nb;

            if (ws + win > M)
                ws = M > win ? M - win : 0;
            we = ws + win < M ? ws + win : M;
            /* a window that is all the input (a short one) has no second
             * decode over everything: more alignments instead */
            nb = we - ws >= M ? TRIES_ALL : TRIES;
            for (i = 0; i < nb; i++)
                best[i].z = -1e30;
            search(l, F, nf, ws, we, ver, best, nb, quick);
            /* each alignment over the window, then over the whole
             * signal (the window's copies of the codeword and every
             * other one) */
            for (i = 0; i < 2 * nb && best[i % nb].z > -1e30; i++) {
                const cand *c = &best[i % nb];
                mark_payload p;
                double agree = 0;
                int whole = i >= nb;

                if ((whole && we - ws >= M) || tries >= MARK__AUDWM_TRIES)
                    break;
                tries++;
                res->candidates++;
                if (decode(key, l, F, nf, ws, whole ? 0 : ws,
                           whole ? M : we, ver, c, &p, &agree)) {
                    res->found = 1;
                    res->scheme = ver->name;
                    res->payload = p;
                    res->score = agree;
                    res->sync = c->z;
                    res->t_start = whole ? 0 : (double)ws / WR;
                    res->t_end = (double)(whole ? M : we) / WR;
                    res->tempo = 1 / lambda_of(c->t);
                    res->speed = c->mode;
                    goto done;
                }
            }
            if (we >= M)
                break;
        }
    }
done:
    mark__free(ctx, F);
    sodium_memzero(ly, sizeof ly);
    return MARK_OK;
}
