/*
 * txt_v1.c - the text watermark txt-v1 (design in signal.h).
 * STUB: passes text through unmarked and finds nothing; the real scheme
 * replaces it.
 */
#include <string.h>

#include "signal.h"

const uint32_t mark__txtwm_symbol[4] = { 0x200b, 0x200c, 0x2062, 0x2064 };

int mark__txtwm_is_ours(uint32_t u)
{
    return u == MARK__TXTWM_MARKER || u == 0x200b || u == 0x200c ||
           u == 0x2062 || u == 0x2064;
}

struct mark__txtwm {
    mark_ctx *ctx;
};

int mark__txtwm_new(mark_ctx *ctx, const mark_key *key,
                    const mark_payload *p, mark__txtwm **out)
{
    (void)key;
    (void)p;
    *out = mark__calloc(ctx, 1, sizeof **out);
    if (*out == NULL)
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    (*out)->ctx = ctx;
    return MARK_OK;
}

int mark__txtwm_feed(mark__txtwm *w, const char *in, size_t n,
                     mark__buf *out)
{
    (void)w;
    return mark__buf_put(out, in, n);
}

int mark__txtwm_finish(mark__txtwm *w, mark__buf *out)
{
    (void)w;
    (void)out;
    return MARK_OK;
}

size_t mark__txtwm_copies(const mark__txtwm *w)
{
    (void)w;
    return 0;
}

void mark__txtwm_free(mark__txtwm *w)
{
    if (w != NULL)
        mark__free(w->ctx, w);
}

int mark__txtwm_detect(mark_ctx *ctx, const mark_key *key, const char *text,
                       size_t n, mark__txtwm_result *res)
{
    (void)ctx;
    (void)key;
    (void)text;
    (void)n;
    memset(res, 0, sizeof *res);
    return MARK_OK;
}

size_t mark__txtwm_strip(const char *text, size_t n, char *out)
{
    memmove(out, text, n);
    return n;
}
