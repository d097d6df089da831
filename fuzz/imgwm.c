/*
 * imgwm.c - fuzz target: the img-v1 detector on an arbitrary luma plane.
 * Bytes 0-1 and 2-3 give the width and height (1 to FUZZ_IMG_MAX each),
 * the rest are the samples (0..255), repeated to fill the plane; the
 * plane is bounded so that one detection stays in milliseconds.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "internal.h"
#include "signal.h"

#define FUZZ_IMG_MAX 384

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mark_ctx *ctx;
    mark_key *key;
    mark__wm_result r;
    uint32_t w, h;
    size_t i, n, ns;
    float *luma;

    if (size < 5 || size > FUZZ_MAX_INPUT)
        return 0;
    w = 1 + (uint32_t)(data[0] | data[1] << 8) % FUZZ_IMG_MAX;
    h = 1 + (uint32_t)(data[2] | data[3] << 8) % FUZZ_IMG_MAX;
    data += 4;
    ns = size - 4;
    n = (size_t)w * h;
    luma = malloc(n * sizeof *luma);
    if (!luma)
        return 0;
    for (i = 0; i < n; i++)
        luma[i] = data[i % ns];
    ctx = fuzz_ctx(MARK_FORMAT_UNKNOWN);
    if (ctx && mark_key_default(ctx, &key) == MARK_OK) {
        mark__imgwm_detect(ctx, key, luma, w, h, &r);
        mark_key_free(key);
    }
    mark_ctx_free(ctx);
    free(luma);
    return 0;
}
