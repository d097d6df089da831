/*
 * payload.h - the payload coding shared by every watermark scheme: keys,
 * a keyed pseudo-random stream, the keyed check and the convolutional
 * code with soft-decision Viterbi decoding.  Pure functions: bits in,
 * soft bits out; no media, no codecs.
 *
 * These functions define the on-media format of every scheme built on
 * them ("-v1"): their output for given inputs never changes (golden
 * vectors in tests/unit/test_payload.c).  A change is a new version.
 */
#ifndef MARK_PAYLOAD_H
#define MARK_PAYLOAD_H

#include "internal.h"

#define MARK__KEY_BYTES 32

struct mark_key {
    mark_ctx *ctx;
    unsigned char k[MARK__KEY_BYTES];
};

/* Payload (64 bits) + keyed check (48 bits) = 112 information bits, then
 * 6 zero tail bits, coded at rate 1/3 with constraint length 7. */
#define MARK__INFO_BITS 112
#define MARK__CHECK_BITS 48
#define MARK__TAIL_BITS 6
#define MARK__CODED_BITS ((MARK__INFO_BITS + MARK__TAIL_BITS) * 3)

/* A keyed stream of pseudo-random numbers: ChaCha20 (IETF) keyed with
 * BLAKE2b(key, domain), so each scheme and use ("img-v1 tiles", ...) gets
 * an independent stream from one key. */
typedef struct mark__prng {
    unsigned char key[32];
    uint32_t block;                      /* ChaCha20 block counter */
    unsigned char buf[64];
    unsigned pos;                        /* bytes used of buf */
} mark__prng;

/* A copy of src owned by ctx (keys cross threads, their ctxs do not). */
int mark__key_copy(mark_ctx *ctx, const mark_key *src, mark_key **out);

void mark__prng_init(mark__prng *r, const mark_key *key, const char *domain);
uint32_t mark__prng_u32(mark__prng *r);
/* Uniform in [0, n), unbiased (rejection sampling); n > 0. */
uint32_t mark__prng_below(mark__prng *r, uint32_t n);
/* A uniformly random permutation of 0..n-1 (Fisher-Yates). */
void mark__prng_permutation(mark__prng *r, uint32_t *perm, uint32_t n);
/* A random sign, +1 or -1. */
int mark__prng_sign(mark__prng *r);
void mark__prng_wipe(mark__prng *r);

/* The coded bits (0/1) of a payload under a key: MARK__CODED_BITS of
 * them in bits. */
void mark__encode_payload(const mark_key *key, const mark_payload *p,
                          unsigned char *bits);

/* mark__decode_payload() :
 *  Soft-decision Viterbi over MARK__CODED_BITS soft values (positive:
 *  bit 1 more likely, magnitude: confidence; 0: erased), then the keyed
 *  check.  *out receives the decoded payload and *agreement (may be NULL)
 *  the normalised correlation between the soft values and the re-encoded
 *  codeword (1 = perfect).
 *  @return : 1 when the check passes, 0 when not. */
int mark__decode_payload(const mark_key *key, const float *soft,
                         mark_payload *out, double *agreement);

/* The 112 information bits (0/1) of a payload under a key, uncoded:
 * 64 payload bits then the 48-bit keyed check, most significant first
 * (for schemes whose channel erases rather than adds noise). */
void mark__payload_info(const mark_key *key, const mark_payload *p,
                        unsigned char *bits);
/* The payload in 112 information bits (*out) and whether their check
 * passes under key (1) or not (0). */
int mark__payload_info_check(const mark_key *key, const unsigned char *bits,
                             mark_payload *out);

#endif
