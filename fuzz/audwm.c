/*
 * audwm.c - fuzz target: the audio detector on arbitrary PCM.  Byte 0
 * picks the rate and the search (quick or full), byte 1 the channels
 * (1 to 8), the rest are 16-bit little-endian samples, repeated to fill
 * FUZZ_AUD_SECONDS (the detector's work grows with the length, so it is
 * fixed), fed in pieces of a size from byte 0.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "internal.h"
#include "signal.h"

#define FUZZ_AUD_SECONDS 6

static const uint32_t rates[8] = { 8000, 11025, 16000, 22050, 44100, 48000,
                                   96000, 7 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mark_ctx *ctx;
    mark_key *key;
    mark__audwm_in *d;
    mark__wm_result r;
    uint32_t rate;
    int channels, quick;
    size_t i, n, ns, frames, piece;
    float *x;

    if (size < 4 || size > FUZZ_MAX_INPUT)
        return 0;
    rate = rates[data[0] & 7];
    quick = data[0] >> 3 & 1;
    piece = 1 + ((size_t)data[0] >> 4) * 977;
    channels = 1 + data[1] % 8;
    data += 2;
    ns = (size - 2) / 2;
    frames = (size_t)rate * FUZZ_AUD_SECONDS;
    n = frames * (size_t)channels;
    x = malloc(n * sizeof *x);
    if (!x)
        return 0;
    for (i = 0; i < n; i++) {
        size_t k = i % ns;

        x[i] = (int16_t)(data[2 * k] | data[2 * k + 1] << 8) / 32768.0f;
    }
    ctx = fuzz_ctx(MARK_FORMAT_UNKNOWN);
    if (ctx && mark_key_default(ctx, &key) == MARK_OK) {
        if (mark__audwm_in_new(ctx, rate, channels, quick, &d) == MARK_OK) {
            for (i = 0; i < frames; i += piece)
                if (mark__audwm_in_feed(d, x + i * (size_t)channels,
                                        piece < frames - i ? piece
                                                           : frames - i))
                    break;
            mark__audwm_in_detect(d, key, &r);
            mark__audwm_in_free(d);
        }
        mark_key_free(key);
    }
    mark_ctx_free(ctx);
    free(x);
    return 0;
}
