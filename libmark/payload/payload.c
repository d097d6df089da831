/*
 * payload.c - the 64-bit payload: hex form and its derivation from the
 * metadata label, which ties a watermark to the label beside it.
 */
#include <string.h>

#include <sodium.h>

#include "payload.h"

int mark_payload_from_hex(mark_payload *p, const char *hex)
{
    size_t n;

    if (p == NULL || hex == NULL || strlen(hex) != 16)
        return MARK_EINVAL;
    if (sodium_hex2bin(p->bytes, sizeof p->bytes, hex, 16, NULL, &n,
                       NULL) != 0 || n != sizeof p->bytes)
        return MARK_EINVAL;
    return MARK_OK;
}

int mark_payload_to_hex(const mark_payload *p, char hex[17])
{
    if (p == NULL || hex == NULL)
        return MARK_EINVAL;
    sodium_bin2hex(hex, 17, p->bytes, sizeof p->bytes);
    return MARK_OK;
}

int mark_payload_derive(const mark_label *l, mark_payload *out)
{
    static const char dom[] = "aimark payload v1";  /* + its NUL */
    const char *cp, *id;
    unsigned char h[32];
    crypto_generichash_state st;

    if (l == NULL || out == NULL)
        return MARK_EINVAL;
    cp = mark_label_get(l, MARK_FIELD_CONTENT_PRODUCER);
    id = mark_label_get(l, MARK_FIELD_PRODUCE_ID);
    if (cp == NULL || id == NULL || cp[0] == '\0' || id[0] == '\0')
        return mark__err(l->ctx, MARK_ELABEL, "a payload needs both "
                         "ContentProducer and ProduceID");
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)dom, sizeof dom);
    crypto_generichash_update(&st, (const unsigned char *)cp,
                              strlen(cp) + 1);
    crypto_generichash_update(&st, (const unsigned char *)id, strlen(id));
    crypto_generichash_final(&st, h, sizeof h);
    memcpy(out->bytes, h, sizeof out->bytes);
    return MARK_OK;
}
