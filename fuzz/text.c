/*
 * text.c - fuzz target: text.  The bytes as Markdown (YAML front matter:
 * finding it, its AIGC entries, rewriting it with a label) and as plain
 * text, each through the txt-v1 detector as verify runs it; then the
 * txt-v1 detector, strip and embedder straight on the bytes (which need
 * not be UTF-8 there).
 */
#include <stdlib.h>

#include "fuzz.h"
#include "internal.h"
#include "signal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mark_ctx *ctx;
    mark_key *key;
    mark__txtwm_result r;
    mark__txtwm *w;
    mark_payload p = { { 1, 2, 3, 4, 5, 6, 7, 8 } };
    char *s;

    if (size > 64 * 1024)
        return 0;
    fuzz_media(MARK_FORMAT_MARKDOWN, data, size, FUZZ_DETECT | FUZZ_SAVE);
    fuzz_media(MARK_FORMAT_TEXT, data, size, FUZZ_DETECT);
    ctx = fuzz_ctx(MARK_FORMAT_UNKNOWN);
    if (!ctx)
        return 0;
    if (mark_key_default(ctx, &key) != MARK_OK) {
        mark_ctx_free(ctx);
        return 0;
    }
    mark__txtwm_detect(ctx, key, (const char *)data, size, &r);
    s = malloc(size + 1);
    if (s) {
        memcpy(s, data, size);
        mark__txtwm_strip(s, size, s);
        free(s);
    }
    if (mark__txtwm_new(ctx, key, &p, &w) == MARK_OK) {
        mark__buf out;
        size_t half = size / 2;

        mark__buf_init(&out, ctx);
        /* in two pieces: a UTF-8 sequence may be cut between them */
        if (mark__txtwm_feed(w, (const char *)data, half, &out) == MARK_OK &&
            mark__txtwm_feed(w, (const char *)data + half, size - half,
                             &out) == MARK_OK)
            mark__txtwm_finish(w, &out);
        mark__buf_free(&out);
        mark__txtwm_free(w);
    }
    mark_key_free(key);
    mark_ctx_free(ctx);
    return 0;
}
