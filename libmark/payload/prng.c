/*
 * prng.c - the keyed pseudo-random stream that chooses watermark
 * positions, signs and permutations.  Part of every scheme's format.
 */
#include <string.h>

#include <sodium.h>

#include "payload.h"

void mark__prng_init(mark__prng *r, const mark_key *key, const char *domain)
{
    static const char tag[] = "aimark prng v1";
    crypto_generichash_state st;

    memset(r, 0, sizeof *r);
    crypto_generichash_init(&st, key->k, MARK__KEY_BYTES, sizeof r->key);
    crypto_generichash_update(&st, (const unsigned char *)tag, sizeof tag);
    crypto_generichash_update(&st, (const unsigned char *)domain,
                              strlen(domain));
    crypto_generichash_final(&st, r->key, sizeof r->key);
    r->pos = sizeof r->buf;               /* empty: refill on first use */
}

static void refill(mark__prng *r)
{
    static const unsigned char nonce[12];
    static const unsigned char zero[64];

    crypto_stream_chacha20_ietf_xor_ic(r->buf, zero, sizeof r->buf, nonce,
                                       r->block++, r->key);
    r->pos = 0;
}

uint32_t mark__prng_u32(mark__prng *r)
{
    uint32_t v;

    if (r->pos + 4 > sizeof r->buf)
        refill(r);
    v = (uint32_t)r->buf[r->pos] | ((uint32_t)r->buf[r->pos + 1] << 8) |
        ((uint32_t)r->buf[r->pos + 2] << 16) |
        ((uint32_t)r->buf[r->pos + 3] << 24);
    r->pos += 4;
    return v;
}

uint32_t mark__prng_below(mark__prng *r, uint32_t n)
{
    uint32_t limit = UINT32_MAX - UINT32_MAX % n, v;

    do
        v = mark__prng_u32(r);
    while (v >= limit);
    return v % n;
}

void mark__prng_permutation(mark__prng *r, uint32_t *perm, uint32_t n)
{
    uint32_t i;

    for (i = 0; i < n; i++)
        perm[i] = i;
    for (i = n; i > 1; i--) {
        uint32_t j = mark__prng_below(r, i), t = perm[i - 1];

        perm[i - 1] = perm[j];
        perm[j] = t;
    }
}

int mark__prng_sign(mark__prng *r)
{
    return (mark__prng_u32(r) & 1) ? 1 : -1;
}

void mark__prng_wipe(mark__prng *r)
{
    sodium_memzero(r, sizeof *r);
}
