/*
 * fuzz.h - what the fuzz targets share: a context with small limits (so
 * that one input never costs libFuzzer more than a few milliseconds, and
 * a size field that lies cannot make us allocate gigabytes), and the
 * read-side walk that aimark verify does on an opened medium.
 *
 * Each target defines LLVMFuzzerTestOneInput.  Built with clang
 * -fsanitize=fuzzer by `make fuzz`; built with the replay driver
 * (replay.c, a plain main) by `make check`, where every target gets its
 * own name through -DLLVMFuzzerTestOneInput=fuzz_NAME.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mark.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Bounds on one input: libFuzzer's -max_len is set too, but the replay
 * driver reads whole files. */
#define FUZZ_MAX_INPUT (1u << 20)

enum {
    FUZZ_DETECT = 1,    /* run the watermark detector as verify does */
    FUZZ_SAVE = 2       /* stage a label and save: the metadata writer
                           walks the input again */
};

static inline void fuzz_no_log(void *user, int level, const char *msg)
{
    (void)user;
    (void)level;
    (void)msg;
}

/* A context whose limits keep every input small. */
static inline mark_ctx *fuzz_ctx(int format)
{
    mark_ctx *ctx;

    if (mark_ctx_new(&ctx, NULL) != MARK_OK)
        return NULL;
    mark_ctx_set_log(ctx, fuzz_no_log, NULL, 0);
    mark_ctx_set_limit(ctx, MARK_LIMIT_INPUT_BYTES, FUZZ_MAX_INPUT);
    mark_ctx_set_limit(ctx, MARK_LIMIT_METADATA_BYTES, 1 << 20);
    mark_ctx_set_limit(ctx, MARK_LIMIT_PIXELS, 512 * 512);
    mark_ctx_set_limit(ctx, MARK_LIMIT_DIMENSION, 4096);
    mark_ctx_set_limit(ctx, MARK_LIMIT_CHUNKS, 4096);
    mark_ctx_set_limit(ctx, MARK_LIMIT_DURATION, 60);
    if (format != MARK_FORMAT_UNKNOWN)
        mark_ctx_set_format(ctx, format);
    return ctx;
}

/* What verify reads of an opened medium, and (FUZZ_SAVE) a label staged
 * and the medium saved to memory, so the writer's own walk of the
 * structure sees the input too. */
static inline void fuzz_walk(mark_ctx *ctx, mark_media *m, int flags)
{
    mark_media_info info;
    mark_watermark_info wi;
    mark_explicit_info ex;
    size_t i, n = mark_media_label_count(m);
    const mark_problems *pr = mark_media_problems(m);
    char *rep = NULL;

    mark_media_get_info(m, &info);
    for (i = 0; i < n; i++) {
        mark_found_label fl;
        char *json = NULL;

        if (mark_media_label_get(m, i, &fl) == MARK_OK && fl.label &&
            mark_label_to_json(fl.label, 0, &json, NULL) == MARK_OK)
            mark_free(ctx, json);
    }
    for (i = 0; i < mark_problems_count(pr); i++) {
        mark_problem p;

        mark_problems_get(pr, i, &p);
    }
    if (mark_media_check_explicit(m) == MARK_OK)
        mark_media_explicit(m, &ex);
    if (flags & FUZZ_DETECT)
        mark_media_detect_watermark(m, NULL, &wi);
    mark_media_verdict(m);
    if (mark_media_report_json(m, "fuzz", &rep) == MARK_OK)
        mark_free(ctx, rep);
    if (flags & FUZZ_SAVE) {
        mark_label *l;
        void *out;
        size_t len;

        if (mark_label_new(ctx, &l) != MARK_OK)
            return;
        mark_label_set(l, MARK_FIELD_LABEL, "1");
        mark_label_set(l, MARK_FIELD_CONTENT_PRODUCER,
                       "001191110102MAD55U9H0F10002");
        mark_label_set(l, MARK_FIELD_PRODUCE_ID, "fuzz");
        if (mark_media_set_label(m, l) == MARK_OK &&
            mark_media_save_buffer(m, &out, &len) == MARK_OK)
            mark_free(ctx, out);
        mark_label_free(l);
    }
}

/* Open data as format (MARK_FORMAT_UNKNOWN: sniffed) and walk it. */
static inline int fuzz_media(int format, const uint8_t *data, size_t size,
                             int flags)
{
    mark_ctx *ctx;
    mark_media *m;

    if (size > FUZZ_MAX_INPUT)
        return 0;
    ctx = fuzz_ctx(format);
    if (!ctx)
        return 0;
    if (mark_media_open_buffer(ctx, &m, data, size) == MARK_OK) {
        fuzz_walk(ctx, m, flags);
        mark_media_free(m);
    } else {
        char *rep;

        if (mark_error_report_json(ctx, "fuzz", MARK_FORMAT_UNKNOWN,
                                   mark_ctx_errmsg(ctx), &rep) == MARK_OK)
            mark_free(ctx, rep);
    }
    mark_ctx_free(ctx);
    return 0;
}

/* Checksums: a mutated PNG or Ogg page nearly always fails its CRC, and
 * the reader stops there.  fuzz_fix_png / fuzz_fix_ogg recompute every
 * CRC they can reach in d (walking chunks or pages as far as they go)
 * and return whether one changed; the targets run an input as it is
 * and, when that changed it, once more with the CRCs right. */
static inline uint32_t fuzz_crc(uint32_t crc, const uint8_t *p, size_t n,
                                uint32_t poly, int reflected)
{
    size_t i;
    int k;

    for (i = 0; i < n; i++) {
        if (reflected) {
            crc ^= p[i];
            for (k = 0; k < 8; k++)
                crc = crc & 1 ? crc >> 1 ^ poly : crc >> 1;
        } else {
            crc ^= (uint32_t)p[i] << 24;
            for (k = 0; k < 8; k++)
                crc = crc & 0x80000000u ? crc << 1 ^ poly : crc << 1;
        }
    }
    return crc;
}

static inline int fuzz_fix_png(uint8_t *d, size_t n)
{
    size_t pos = 8;
    int changed = 0;

    while (pos + 12 <= n) {
        size_t len = (size_t)d[pos] << 24 | (size_t)d[pos + 1] << 16 |
                     (size_t)d[pos + 2] << 8 | d[pos + 3];
        uint32_t c;

        if (len > n - pos - 12)
            break;
        c = ~fuzz_crc(0xffffffffu, d + pos + 4, len + 4, 0xedb88320u, 1);
        pos += 8 + len;
        if (d[pos] != (uint8_t)(c >> 24) || d[pos + 1] != (uint8_t)(c >> 16) ||
            d[pos + 2] != (uint8_t)(c >> 8) || d[pos + 3] != (uint8_t)c) {
            d[pos] = (uint8_t)(c >> 24);
            d[pos + 1] = (uint8_t)(c >> 16);
            d[pos + 2] = (uint8_t)(c >> 8);
            d[pos + 3] = (uint8_t)c;
            changed = 1;
        }
        pos += 4;
    }
    return changed;
}

static inline int fuzz_fix_ogg(uint8_t *d, size_t n)
{
    size_t pos = 0;
    int changed = 0;

    while (pos + 27 <= n && memcmp(d + pos, "OggS", 4) == 0) {
        size_t len = 27 + (size_t)d[pos + 26], i;
        uint8_t old[4];
        uint32_t c;

        if (len > n - pos)
            break;
        for (i = 0; i < d[pos + 26]; i++)
            len += d[pos + 27 + i];
        if (len > n - pos)
            break;
        memcpy(old, d + pos + 22, 4);
        memset(d + pos + 22, 0, 4);
        c = fuzz_crc(0, d + pos, len, 0x04c11db7u, 0);
        d[pos + 22] = (uint8_t)c;
        d[pos + 23] = (uint8_t)(c >> 8);
        d[pos + 24] = (uint8_t)(c >> 16);
        d[pos + 25] = (uint8_t)(c >> 24);
        changed |= memcmp(old, d + pos + 22, 4) != 0;
        pos += len;
    }
    return changed;
}

/* fuzz_media on data as it is, and again with its CRCs made right by
 * fix when that changes any. */
static inline int fuzz_media_crc(int format, const uint8_t *data,
                                 size_t size, int flags,
                                 int (*fix)(uint8_t *, size_t))
{
    uint8_t *c;

    fuzz_media(format, data, size, flags);
    if (size > FUZZ_MAX_INPUT || (c = malloc(size ? size : 1)) == NULL)
        return 0;
    memcpy(c, data, size);
    if (fix(c, size))
        fuzz_media(format, c, size, flags);
    free(c);
    return 0;
}

#endif
