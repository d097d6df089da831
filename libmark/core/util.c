/*
 * util.c - zlib helpers: bounded inflation (zTXt, compressed iTXt) and the
 * CRC-32 that PNG chunks carry; the small text matches the audio carriers
 * share.
 */
#include <string.h>

#include <zlib.h>

#include "internal.h"

uint32_t mark__crc32(uint32_t crc, const unsigned char *p, size_t n)
{
    while (n > 0) {
        uInt step = n > 0x40000000u ? 0x40000000u : (uInt)n;

        crc = (uint32_t)crc32(crc, p, step);
        p += step;
        n -= step;
    }
    return crc;
}

/* Inflate a zlib stream, refusing to produce more than limit bytes: a
 * tiny compressed chunk can claim gigabytes (a decompression bomb), so the
 * output is bounded, not the input. */
int mark__inflate(mark_ctx *ctx, const unsigned char *src, size_t len,
                  size_t limit, mark__buf *out)
{
    z_stream zs;
    int zr, rc = MARK_OK;

    memset(&zs, 0, sizeof zs);
    if (inflateInit(&zs) != Z_OK)
        return mark__err(ctx, MARK_EBACKEND, "zlib: cannot initialise");
    zs.next_in = (Bytef *)(uintptr_t)src;
    zs.avail_in = len > 0xffffffffu ? 0xffffffffu : (uInt)len;
    for (;;) {
        rc = mark__buf_reserve(out, 16384);
        if (rc < 0)
            break;
        zs.next_out = out->data + out->len;
        zs.avail_out = 16384;
        zr = inflate(&zs, Z_NO_FLUSH);
        out->len += 16384 - zs.avail_out;
        if (out->len > limit) {
            rc = mark__err(ctx, MARK_ELIMIT,
                           "compressed text inflates past the metadata "
                           "limit of %zu bytes", limit);
            break;
        }
        if (zr == Z_STREAM_END)
            break;
        if (zr != Z_OK) {
            rc = mark__err(ctx, MARK_EFORMAT, "zlib: %s",
                           zs.msg ? zs.msg : "corrupt compressed data");
            break;
        }
        if (zs.avail_in == 0 && zs.avail_out != 0) {
            rc = mark__err(ctx, MARK_EFORMAT,
                           "zlib: compressed data is truncated");
            break;
        }
    }
    inflateEnd(&zs);
    return rc;
}

int mark__is_aigc_comment(const unsigned char *e, size_t n)
{
    static const char key[] = "aigc=";
    size_t i;

    if (n < sizeof key - 1)
        return 0;
    for (i = 0; i < sizeof key - 1; i++) {
        unsigned char c = e[i];

        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (c != (unsigned char)key[i])
            return 0;
    }
    return 1;
}

size_t mark__value_len(const unsigned char *d, size_t n)
{
    while (n > 0 && (d[n - 1] == '\0' || d[n - 1] == ' ' ||
                     d[n - 1] == '\n' || d[n - 1] == '\r'))
        n--;
    return n;
}
