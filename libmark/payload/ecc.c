/*
 * ecc.c - payload coding: a keyed 48-bit check after the 64 payload bits,
 * a rate-1/3 convolutional code of constraint length 7 (generators 133,
 * 171, 165 octal), and soft-decision Viterbi decoding with a short list
 * of runner-up paths.
 *
 * Why this code: decoded with soft values it corrects far more than a
 * block code of the same rate decoded hard (roughly 2 dB), and its
 * decoder costs 118 x 64 x 2 branch metrics, nothing next to the signal
 * processing.  Why a keyed check: a wrong decode, or a decode of an
 * unmarked image, passes with probability 2^-48 per path checked, and a
 * decode under a wrong key never passes; both bound the false-positive
 * rate.  Why a list: when the best path fails the check, one of the next
 * most likely often holds the payload.  Over 300 random payloads with
 * Gaussian noise (test_payload.c, PRINT_GOLDEN=1), the best path alone
 * fails on 21% of them at 18% raw bit errors and on 50% at 20%; with up
 * to 16 paths, on 7% and 28%: about half a decibel.
 */
#include <math.h>
#include <string.h>

#include <sodium.h>

#include "payload.h"

#define K 7
#define STATES (1 << (K - 1))
#define STEPS (MARK__INFO_BITS + MARK__TAIL_BITS)

static const unsigned gen[3] = { 0133, 0171, 0165 };

static int parity(unsigned v)
{
    v ^= v >> 4;
    v ^= v >> 2;
    v ^= v >> 1;
    return (int)(v & 1);
}

/* Coded bits of register contents reg: the newest input in bit 6. */
static void outputs(unsigned reg, int o[3])
{
    int i;

    for (i = 0; i < 3; i++)
        o[i] = parity(reg & gen[i]);
}

static void check_of(const mark_key *key, const mark_payload *p,
                     unsigned char tag[MARK__CHECK_BITS / 8])
{
    static const char dom[] = "aimark check v1";
    crypto_generichash_state st;

    crypto_generichash_init(&st, key->k, MARK__KEY_BYTES,
                            MARK__CHECK_BITS / 8);
    crypto_generichash_update(&st, (const unsigned char *)dom, sizeof dom);
    crypto_generichash_update(&st, p->bytes, sizeof p->bytes);
    crypto_generichash_final(&st, tag, MARK__CHECK_BITS / 8);
}

/* Payload bits then check bits, most significant bit of each byte first,
 * then the zero tail that brings the encoder back to state 0. */
static void info_bits(const mark_key *key, const mark_payload *p,
                      unsigned char *b)
{
    unsigned char tag[MARK__CHECK_BITS / 8];
    int i;

    check_of(key, p, tag);
    for (i = 0; i < 64; i++)
        b[i] = (p->bytes[i / 8] >> (7 - i % 8)) & 1;
    for (i = 0; i < MARK__CHECK_BITS; i++)
        b[64 + i] = (tag[i / 8] >> (7 - i % 8)) & 1;
    for (i = MARK__INFO_BITS; i < STEPS; i++)
        b[i] = 0;
}

void mark__encode_payload(const mark_key *key, const mark_payload *p,
                          unsigned char *bits)
{
    unsigned char b[STEPS];
    unsigned state = 0;
    int t, o[3];

    info_bits(key, p, b);
    for (t = 0; t < STEPS; t++) {
        unsigned reg = ((unsigned)b[t] << (K - 1)) | state;

        outputs(reg, o);
        bits[3 * t] = (unsigned char)o[0];
        bits[3 * t + 1] = (unsigned char)o[1];
        bits[3 * t + 2] = (unsigned char)o[2];
        state = reg >> 1;
    }
}

/* Leave the best path (states path[], bits in dec) at the merge after
 * step t for the losing branch there, following its survivors back
 * until it meets the best path again; the step where it does (-1: at
 * the start). */
static int deviate(unsigned char (*from)[STATES],
                   unsigned char (*lose)[STATES], const unsigned char *path,
                   int t, unsigned char *dec)
{
    unsigned s = lose[t][path[t]];

    for (t--; t >= 0 && s != path[t]; t--) {
        dec[t] = (unsigned char)((s >> (K - 2)) & 1);
        s = from[t][s];
    }
    return t;
}

/* List decoding.  Besides the best path, up to MARK__LIST - 1 others
 * are checked, most likely first: those that leave the best path once
 * (where it won a merge, for the losing branch there and its survivors
 * back) and those that leave it twice, at two such merges whose detours
 * do not overlap; a path's cost is what its merges lost by.  The second
 * best path is always among them.  Each path checked is one more chance
 * for a wrong codeword to pass, which the false-positive bounds count
 * (MARK__LIST). */
#define SINGLES 24                       /* one-detour paths considered */

typedef struct detour {
    float cost;
    short a, b;                          /* merge steps; b -1: one */
} detour;

int mark__decode_payload(const mark_key *key, const float *soft,
                         mark_payload *out, double *agreement)
{
    double metric[STATES], next[STATES], nloss[STATES];
    unsigned char from[STEPS][STATES];   /* survivor: previous state */
    unsigned char lose[STEPS][STATES];   /* the merge's losing one */
    float margin[STEPS][STATES];         /* by how much it lost */
    unsigned char best[STEPS], dec[STEPS], code[MARK__CODED_BITS];
    unsigned char path[STEPS];           /* state after each step */
    unsigned s, state;
    double dot = 0, ss = 0;
    int t, i, ok, a;

    for (s = 0; s < STATES; s++)
        metric[s] = s == 0 ? 0 : -1e300;
    for (t = 0; t < STEPS; t++) {
        for (s = 0; s < STATES; s++) {
            next[s] = -1e300;
            nloss[s] = -1e300;
            lose[t][s] = 0;
        }
        for (s = 0; s < STATES; s++) {
            unsigned b;

            if (metric[s] <= -1e299)
                continue;
            for (b = 0; b < 2; b++) {
                unsigned reg = (b << (K - 1)) | s, ns = reg >> 1;
                int o[3];
                double m;

                if (t >= MARK__INFO_BITS && b == 1)
                    continue;           /* the tail is known to be zero */
                outputs(reg, o);
                m = metric[s];
                for (i = 0; i < 3; i++)
                    m += o[i] ? soft[3 * t + i] : -soft[3 * t + i];
                if (m > next[ns]) {
                    nloss[ns] = next[ns];
                    lose[t][ns] = from[t][ns];
                    next[ns] = m;
                    from[t][ns] = (unsigned char)s;
                } else if (m > nloss[ns]) {
                    nloss[ns] = m;
                    lose[t][ns] = (unsigned char)s;
                }
            }
        }
        for (s = 0; s < STATES; s++)
            margin[t][s] = nloss[s] <= -1e299 ? -1.0f
                                              : (float)(next[s] - nloss[s]);
        memcpy(metric, next, sizeof metric);
    }
    /* the best path, back from state 0, where the tail left the encoder */
    state = 0;
    for (t = STEPS - 1; t >= 0; t--) {
        path[t] = (unsigned char)state;
        best[t] = (unsigned char)((state >> (K - 2)) & 1);
        state = from[t][state];
    }
    ok = mark__payload_info_check(key, best, out);
    if (!ok) {
        detour one[SINGLES], cand[SINGLES + SINGLES * (SINGLES - 1) / 2];
        short start[SINGLES];
        int n1 = 0, nc = 0, j;

        /* the closest merges along it (a merge with no loser: none) */
        for (t = 1; t < STEPS; t++) {
            float mg = margin[t][path[t]];

            if (mg < 0 || (n1 == SINGLES && mg >= one[n1 - 1].cost))
                continue;
            for (a = n1 < SINGLES ? n1++ : n1 - 1;
                 a > 0 && one[a - 1].cost > mg; a--)
                one[a] = one[a - 1];
            one[a].cost = mg;
            one[a].a = (short)t;
            one[a].b = -1;
        }
        /* where each detour starts */
        for (a = 0; a < n1; a++) {
            memcpy(dec, best, STEPS);
            start[a] = (short)deviate(from, lose, path, one[a].a, dec);
            cand[nc++] = one[a];
        }
        /* two detours, the later one's start after the earlier's merge */
        for (a = 0; a < n1; a++)
            for (j = 0; j < n1; j++)
                if (one[a].a < one[j].a && one[a].a <= start[j]) {
                    cand[nc].cost = one[a].cost + one[j].cost;
                    cand[nc].a = one[j].a;
                    cand[nc].b = one[a].a;
                    nc++;
                }
        /* the cheapest MARK__LIST - 1, cheapest first */
        for (a = 0; a < nc && a < MARK__LIST - 1 && !ok; a++) {
            for (j = a + 1; j < nc; j++)
                if (cand[j].cost < cand[a].cost) {
                    detour x = cand[a];

                    cand[a] = cand[j];
                    cand[j] = x;
                }
            memcpy(dec, best, STEPS);
            deviate(from, lose, path, cand[a].a, dec);
            if (cand[a].b >= 0)
                deviate(from, lose, path, cand[a].b, dec);
            ok = mark__payload_info_check(key, dec, out);
        }
        if (!ok)
            mark__payload_info_check(key, best, out);
    }
    if (agreement != NULL) {
        mark__encode_payload(key, out, code);
        for (i = 0; i < MARK__CODED_BITS; i++) {
            dot += code[i] ? soft[i] : -soft[i];
            ss += (double)soft[i] * soft[i];
        }
        *agreement = ss > 0 ? dot / sqrt(ss * MARK__CODED_BITS) : 0;
    }
    return ok;
}

void mark__payload_info(const mark_key *key, const mark_payload *p,
                        unsigned char *bits)
{
    unsigned char b[STEPS];

    info_bits(key, p, b);
    memcpy(bits, b, MARK__INFO_BITS);
}

int mark__payload_info_check(const mark_key *key, const unsigned char *bits,
                             mark_payload *out)
{
    unsigned char tag[MARK__CHECK_BITS / 8];
    int i, ok = 1;

    memset(out->bytes, 0, sizeof out->bytes);
    for (i = 0; i < 64; i++)
        out->bytes[i / 8] |= (unsigned char)((bits[i] & 1) << (7 - i % 8));
    check_of(key, out, tag);
    for (i = 0; i < MARK__CHECK_BITS; i++)
        if (((tag[i / 8] >> (7 - i % 8)) & 1) != (bits[64 + i] & 1))
            ok = 0;
    return ok;
}
