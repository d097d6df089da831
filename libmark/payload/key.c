/*
 * key.c - watermark keys: the public default key, random keys, and the
 * key file format ("aimark-key-v1 " + 64 hex digits).
 *
 * The default key is BLAKE2b-256 of the text "aimark public default key
 * v1": published, so anyone can verify marks made with it.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "payload.h"

#define KEY_MAGIC "aimark-key-v1"

static int new_key(mark_ctx *ctx, mark_key **out)
{
    mark_key *k;

    if (out == NULL)
        return MARK_EINVAL;
    *out = NULL;
    if (ctx == NULL)
        return MARK_EINVAL;
    k = mark__calloc(ctx, 1, sizeof *k);
    if (k == NULL)
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    k->ctx = ctx;
    *out = k;
    return MARK_OK;
}

int mark_key_default(mark_ctx *ctx, mark_key **out)
{
    static const char seed[] = "aimark public default key v1";
    int rc = new_key(ctx, out);

    if (rc < 0)
        return rc;
    crypto_generichash((*out)->k, MARK__KEY_BYTES,
                       (const unsigned char *)seed, sizeof seed - 1, NULL,
                       0);
    return MARK_OK;
}

int mark__key_copy(mark_ctx *ctx, const mark_key *src, mark_key **out)
{
    int rc = new_key(ctx, out);

    if (rc == MARK_OK)
        memcpy((*out)->k, src->k, MARK__KEY_BYTES);
    return rc;
}

int mark_key_generate(mark_ctx *ctx, mark_key **out)
{
    int rc = new_key(ctx, out);

    if (rc < 0)
        return rc;
    randombytes_buf((*out)->k, MARK__KEY_BYTES);
    return MARK_OK;
}

int mark_key_load(mark_ctx *ctx, mark_key **out, const void *data,
                  size_t len)
{
    const char *p = data, *end = p + len;
    int rc = new_key(ctx, out), found = 0;

    if (rc < 0)
        return rc;
    while (p < end && !found) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol != NULL ? eol : end, *q = p;
        size_t n;

        while (q < le && isspace((unsigned char)*q))
            q++;
        if (q == le || *q == '#') {
            p = le + 1;
            continue;
        }
        n = strlen(KEY_MAGIC);
        if ((size_t)(le - q) < n + 1 + 64 || memcmp(q, KEY_MAGIC, n) != 0 ||
            q[n] != ' ' ||
            sodium_hex2bin((*out)->k, MARK__KEY_BYTES, q + n + 1, 64, NULL,
                           NULL, NULL) != 0)
            break;
        q += n + 1 + 64;
        while (q < le && isspace((unsigned char)*q))
            q++;
        if (q != le)
            break;
        found = 1;
    }
    if (!found) {
        mark_key_free(*out);
        *out = NULL;
        return mark__err(ctx, MARK_EKEY, "not a key file (expected a line "
                         "'" KEY_MAGIC " <64 hex digits>')");
    }
    return MARK_OK;
}

int mark_key_save(const mark_key *key, char **out, size_t *len)
{
    char hex[2 * MARK__KEY_BYTES + 1];
    size_t n;

    if (key == NULL || out == NULL)
        return MARK_EINVAL;
    sodium_bin2hex(hex, sizeof hex, key->k, MARK__KEY_BYTES);
    n = strlen(KEY_MAGIC) + 1 + 64 + 1;
    *out = mark__malloc(key->ctx, n + 1);
    if (*out == NULL)
        return mark__err(key->ctx, MARK_ENOMEM, "out of memory");
    snprintf(*out, n + 1, "%s %s\n", KEY_MAGIC, hex);
    sodium_memzero(hex, sizeof hex);
    if (len != NULL)
        *len = n;
    return MARK_OK;
}

int mark_key_id(const mark_key *key, char id[17])
{
    static const char dom[] = "aimark key id v1";
    unsigned char h[8];

    if (key == NULL || id == NULL)
        return MARK_EINVAL;
    crypto_generichash(h, sizeof h, (const unsigned char *)dom,
                       sizeof dom - 1, key->k, MARK__KEY_BYTES);
    sodium_bin2hex(id, 17, h, sizeof h);
    return MARK_OK;
}

void mark_key_free(mark_key *key)
{
    if (key == NULL)
        return;
    sodium_memzero(key->k, sizeof key->k);
    mark__free(key->ctx, key);
}
