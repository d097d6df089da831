/*
 * aud_v1.c - the audio watermark aud-v1 (work in progress: stubs).
 */
#include "signal.h"

int mark__audwm_new(mark_ctx *ctx, const mark_key *key,
                    const mark_payload *p, uint32_t rate, int channels,
                    double strength, mark__audwm **out)
{
    (void)key; (void)p; (void)rate; (void)channels; (void)strength;
    *out = NULL;
    return mark__err(ctx, MARK_EUNSUPPORTED, "aud-v1 is not built yet");
}

int mark__audwm_process(mark__audwm *e, const float *in, size_t n,
                        float *out, size_t cap, size_t *got)
{
    (void)e; (void)in; (void)n; (void)out; (void)cap;
    *got = 0;
    return MARK_EUNSUPPORTED;
}

void mark__audwm_free(mark__audwm *e)
{
    (void)e;
}

int mark__audwm_embed(mark_ctx *ctx, const mark_key *key,
                      const mark_payload *p, float *x, size_t frames,
                      uint32_t rate, int channels, double strength)
{
    (void)key; (void)p; (void)x; (void)frames; (void)rate; (void)channels;
    (void)strength;
    return mark__err(ctx, MARK_EUNSUPPORTED, "aud-v1 is not built yet");
}

int mark__audwm_detect(mark_ctx *ctx, const mark_key *key, const float *x,
                       size_t frames, uint32_t rate, int channels,
                       mark__wm_result *res)
{
    (void)key; (void)x; (void)frames; (void)rate; (void)channels;
    (void)res;
    return mark__err(ctx, MARK_EUNSUPPORTED, "aud-v1 is not built yet");
}
