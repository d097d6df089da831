/*
 * label_json.c - fuzz target: the AIGC JSON label parser
 * (mark_label_parse), the checker (mark_label_check), the serialiser and
 * the payload derived from a label.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mark_ctx *ctx = fuzz_ctx(MARK_FORMAT_UNKNOWN);
    mark_label *l, *c;
    int form;

    if (!ctx)
        return 0;
    if (mark_label_parse(ctx, (const char *)data, size, &l, &form) ==
        MARK_OK) {
        mark_problems *pr = NULL;
        mark_payload p;
        size_t i;
        char *json;

        for (i = 0; i < mark_label_extra_count(l); i++) {
            const char *k, *v;

            mark_label_extra_get(l, i, &k, &v);
        }
        mark_label_duplicate_keys(l);
        /* the findings come back with MARK_ELABEL too */
        mark_label_check(ctx, l, &pr);
        mark_problems_free(pr);
        for (i = 0; i < 2; i++)
            if (mark_label_to_json(l, (int)i, &json, NULL) == MARK_OK)
                mark_free(ctx, json);
        mark_payload_derive(l, &p);
        for (i = MARK_FIELD_CONTENT_PRODUCER; i < MARK_FIELD_COUNT_; i++) {
            const char *v = mark_label_get(l, (int)i);
            char why[256];

            if (v) {
                mark_provider_explain(v, why, sizeof why);
                mark_explicit_text_check(v, why, sizeof why);
            }
        }
        if (mark_label_copy(l, &c) == MARK_OK)
            mark_label_free(c);
        mark_label_free(l);
    }
    mark_ctx_free(ctx);
    return 0;
}
