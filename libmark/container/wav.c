/*
 * wav.c - WAV (RIFF, RF64 and BW64 WAVE) at the chunk level, streamed:
 * reading the metadata label carriers, and writing the marked file (a new
 * label, the audible label over or around the samples) while the samples
 * pass through in blocks, so that an hour of audio or an endless pipe
 * costs no more memory than a few seconds.  Headerless PCM (a generator's
 * raw output) is read the same way and written as WAV.
 *
 * Carriers read:
 *   chunk "AIGC" (top level, before or after the data)    JSON, either form
 *   LIST "INFO" child "AIGC"                               JSON, either form
 * Written: one top-level "AIGC" chunk just before "data" (so readers of a
 * stream meet it before the samples), padded to an even size, with the
 * RIFF size (or RF64's ds64 sizes) fixed; an INFO "AIGC" child is dropped
 * (the LIST goes when nothing else is in it).  With the carrier
 * "wav-info" the label goes in LIST/INFO instead (the one place ffprobe
 * and mediainfo show), and an AIGC chunk is dropped.  Every other chunk is
 * copied byte for byte, and so are the samples the audible label leaves
 * alone.
 *
 * Sizes: when the input's sizes are known, the output's are computed
 * before the first byte goes out.  When they are not (a stream writer's
 * 0xffffffff, raw PCM) a seekable output gets them patched at the end,
 * with a 28-byte JUNK chunk reserved up front that becomes RF64's ds64 if
 * the file passes 4 GiB (EBU Tech 3306); a pipe gets 0xffffffff, which
 * readers take as "to the end".  Chunks after the data that must go (an
 * old label) become JUNK of the same size when the input is a pipe, since
 * the sizes were already written.
 *
 * libsndfile is not used here: it cannot write a chunk of our own before
 * the data, nor a WAV to a pipe, and the sample layouts of WAV are a few
 * lines each (core/audio.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "signal/signal.h"

#define U32_UNKNOWN 0xffffffffu         /* a size left for RF64 or a pipe */
#define BLOCK 4096                      /* frames per conversion block */
#define RIFF_MAX 0xfffffff0u            /* past this, RF64 */

typedef struct chunk {
    size_t off;                         /* of its header in m->data */
    uint64_t len;                       /* of its data */
    char id[5];
    int role;                           /* enum role */
    int after;                          /* comes after the data */
    int info;                           /* a LIST "INFO" */
} chunk;

enum role {
    ROLE_COPY = 0,
    ROLE_DROP,                          /* an AIGC chunk: replaced */
    ROLE_INFO_AIGC,                     /* LIST/INFO holding AIGC: rebuilt */
    ROLE_DS64                           /* rewritten */
};

typedef struct wav_priv {
    chunk *chunks;                      /* all but data, in file order */
    size_t n;
    int rf64;                           /* "RF64" or "BW64" header */
    int raw;                            /* headerless PCM */
    mark__pcm pcm;                      /* enc NONE: not PCM or float */
    uint16_t tag;                       /* wFormatTag (sub-format if
                                           extensible) */
    size_t block_align;
    int64_t data_at;                    /* input offset of the samples */
    uint64_t data_len;                  /* bytes, when known */
    int data_known;                     /* 0: to the end of the input */
    int after_known;                    /* the chunks after the data are
                                           in the list (seekable input) */
    uint64_t after_len;                 /* pipe: bytes after the data the
                                           RIFF size announces */
    int64_t frames;                     /* -1 unknown */
    struct mark__audwm_in *fed;         /* a pipe's samples, kept for the
                                           watermark as they went to the
                                           rhythm label search */
} wav_priv;

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint16_t le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void set_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static void set_le64(unsigned char *p, uint64_t v)
{
    set_le32(p, (uint32_t)v);
    set_le32(p + 4, (uint32_t)(v >> 32));
}

static int set_pcm(mark_media *m, wav_priv *wp, uint16_t tag, uint16_t ch,
                   uint32_t rate, uint16_t align, uint16_t bits)
{
    if (ch == 0 || rate == 0 || align == 0)
        return mark__err(m->ctx, MARK_EFORMAT, "WAV 'fmt ' chunk gives %u "
                         "channels at %u Hz, %u bytes a frame", ch, rate,
                         align);
    wp->tag = tag;
    wp->block_align = align;
    wp->pcm.channels = ch;
    wp->pcm.rate = rate;
    wp->pcm.enc = MARK__PCM_NONE;
    if (tag == 1 && bits >= 1 && bits <= 32) {
        static const int enc[5] = { 0, MARK__PCM_U8, MARK__PCM_S16,
                                    MARK__PCM_S24, MARK__PCM_S32 };

        wp->pcm.bytes = (bits + 7) / 8;
        wp->pcm.enc = enc[wp->pcm.bytes];
    } else if (tag == 3 && (bits == 32 || bits == 64)) {
        wp->pcm.bytes = bits / 8;
        wp->pcm.enc = bits == 32 ? MARK__PCM_F32 : MARK__PCM_F64;
    }
    if (wp->pcm.enc != MARK__PCM_NONE &&
        (size_t)wp->pcm.bytes * ch != align)
        return mark__err(m->ctx, MARK_EFORMAT, "WAV 'fmt ' chunk: %u "
                         "channels of %d bytes do not make frames of %u "
                         "bytes", ch, wp->pcm.bytes, align);
    m->info.channels = ch;
    m->info.sample_rate = rate;
    m->info.bit_depth = bits;
    return MARK_OK;
}

static int parse_fmt(mark_media *m, wav_priv *wp, const unsigned char *d,
                     uint64_t len)
{
    uint16_t tag;

    if (len < 16)
        return mark__err(m->ctx, MARK_EFORMAT, "WAV 'fmt ' chunk of %llu "
                         "bytes is too short", (unsigned long long)len);
    tag = le16(d);
    if (tag == 0xfffe && len >= 40)
        tag = le16(d + 24);              /* the sub-format GUID's start;
                                            the bits stay the container
                                            size, which is what counts */
    return set_pcm(m, wp, tag, le16(d + 2), le32(d + 4), le16(d + 12),
                   le16(d + 14));
}

/* The children of a LIST "INFO" chunk: each "AIGC" one is a label. */
static int scan_info(mark_media *m, chunk *c, const unsigned char *d,
                     size_t len)
{
    size_t p = 4;
    int rc;

    while (p + 8 <= len) {
        uint32_t n = le32(d + p + 4);

        if (n > len - p - 8) {
            rc = mark__problem_add(m->problems, MARK_SEV_WARNING,
                                   "wav-info", -1, "LIST/INFO child '%.4s' "
                                   "runs past its list", d + p);
            return rc < 0 ? rc : MARK_OK;
        }
        if (memcmp(d + p, "AIGC", 4) == 0) {
            rc = mark__media_add_label(m, "wav-info", "WAV LIST/INFO 'AIGC'",
                                       (const char *)d + p + 8,
                                       mark__value_len(d + p + 8, n));
            if (rc < 0)
                return rc;
            c->role = ROLE_INFO_AIGC;
        }
        p += 8 + (size_t)n + (n & 1);
    }
    return MARK_OK;
}

/* Read a chunk's body (header already read, into m->data) and look at
 * it.  m->data grows: every chunk but the samples is held. */
static int take_chunk(mark_media *m, wav_priv *wp, const unsigned char *h,
                      uint64_t n, int after, uint64_t *ds64_data)
{
    mark__buf b = { m->ctx, m->data, m->len, m->len };
    int64_t got;
    chunk *c;
    unsigned char *d;
    int rc;

    if ((int64_t)wp->n >= m->ctx->limits[MARK_LIMIT_CHUNKS])
        return mark__err(m->ctx, MARK_ELIMIT, "more than %lld chunks",
                         (long long)m->ctx->limits[MARK_LIMIT_CHUNKS]);
    if (m->len + n > (uint64_t)m->ctx->limits[MARK_LIMIT_METADATA_BYTES])
        return mark__err(m->ctx, MARK_ELIMIT, "WAV chunks other than the "
                         "samples exceed the limit of %lld bytes",
                         (long long)m->ctx->limits
                             [MARK_LIMIT_METADATA_BYTES]);
    c = mark__realloc(m->ctx, wp->chunks, (wp->n + 1) * sizeof *c);
    if (c == NULL)
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    wp->chunks = c;
    rc = mark__buf_reserve(&b, 8 + (size_t)n);
    m->data = b.data;
    if (rc < 0)
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    c += wp->n;
    memset(c, 0, sizeof *c);
    c->off = m->len;
    c->len = n;
    c->after = after;
    memcpy(c->id, h, 4);
    memcpy(m->data + m->len, h, 8);
    d = m->data + m->len + 8;
    got = mark__src_read_full(m->src, d, (size_t)n);
    if (got < 0)
        return (int)got;
    if ((uint64_t)got < n)
        return mark__err(m->ctx, MARK_EFORMAT, "WAV truncated: chunk "
                         "'%.4s' claims %llu bytes, %lld are there", h,
                         (unsigned long long)n, (long long)got);
    m->len += 8 + (size_t)n;
    wp->n++;
    if ((n & 1) && mark__src_skip(m->src, 1) < 0) {
        /* a missing pad byte at the very end is forgiven */
        m->ctx->errmsg[0] = '\0';
    }
    if (memcmp(h, "ds64", 4) == 0 && wp->rf64 && n >= 24) {
        c->role = ROLE_DS64;
        *ds64_data = le64(d + 8);
    } else if (memcmp(h, "fmt ", 4) == 0 && !wp->pcm.channels) {
        return parse_fmt(m, wp, d, n);
    } else if (memcmp(h, "AIGC", 4) == 0) {
        c->role = ROLE_DROP;
        rc = mark__media_add_label(m, "wav-chunk", "WAV chunk 'AIGC'",
                                   (const char *)d,
                                   mark__value_len(d, (size_t)n));
        return rc < 0 ? rc : MARK_OK;
    } else if (memcmp(h, "LIST", 4) == 0 && n >= 4 &&
               memcmp(d, "INFO", 4) == 0) {
        c->info = 1;
        return scan_info(m, c, d, (size_t)n);
    }
    return MARK_OK;
}

/* Chunks after the data, from a seekable input: read now, so that the
 * output's sizes are known before it is written. */
static int read_after(mark_media *m, wav_priv *wp)
{
    mark__src *s = m->src;
    uint64_t end = wp->data_at + wp->data_len + (wp->data_len & 1), dummy;
    unsigned char h[8];
    int rc;

    if ((int64_t)end >= s->size) {
        wp->after_known = 1;
        return MARK_OK;
    }
    rc = mark__src_seek(s, (int64_t)end);
    while (rc == MARK_OK) {
        int64_t got = mark__src_read_full(s, h, 8);

        if (got < 0)
            return (int)got;
        if (got < 8) {
            if (got > 0)
                rc = mark__problem_add(m->problems, MARK_SEV_WARNING,
                                       "wav-tail", -1, "%lld stray bytes "
                                       "after the last chunk",
                                       (long long)got);
            break;
        }
        rc = take_chunk(m, wp, h, le32(h + 4), 1, &dummy);
    }
    if (rc < 0)
        return rc;
    wp->after_known = 1;
    return mark__src_seek(s, wp->data_at);
}

static int parse_raw(mark_media *m, wav_priv *wp)
{
    static const uint16_t bits[] = { 0, 8, 16, 24, 32, 32, 64 };
    const mark_raw_format *f = &m->raw;
    int rc;

    wp->raw = 1;
    if (f->encoding < MARK_RAW_U8 || f->encoding > MARK_RAW_F64LE ||
        f->channels < 1 || f->channels > 64 || f->rate < 1 ||
        f->rate > 1000000)
        return mark__err(m->ctx, MARK_EINVAL, "raw PCM needs an encoding, "
                         "1 to 64 channels and a rate");
    rc = set_pcm(m, wp, f->encoding >= MARK_RAW_F32LE ? 3 : 1,
                 (uint16_t)f->channels, f->rate,
                 (uint16_t)(f->channels * bits[f->encoding] / 8),
                 bits[f->encoding]);
    wp->data_at = m->src->pos;
    wp->frames = -1;
    m->info.frames = -1;
    return rc;
}

static int wav_parse(mark_media *m)
{
    mark__src *s = m->src;
    unsigned char h[12];
    uint64_t ds64_data = 0;
    uint32_t riff;
    wav_priv *wp;
    int64_t got;
    int rc;

    wp = mark__calloc(m->ctx, 1, sizeof *wp);
    if (wp == NULL)
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    m->priv = wp;
    if (m->raw.encoding != 0)
        return parse_raw(m, wp);
    got = mark__src_read_full(s, h, 12);
    if (got < 0)
        return (int)got;
    if (got < 12)
        return mark__err(m->ctx, MARK_EFORMAT, "WAV header truncated");
    wp->rf64 = memcmp(h, "RIFF", 4) != 0;
    riff = le32(h + 4);
    for (;;) {
        uint64_t n;

        got = mark__src_read_full(s, h, 8);
        if (got < 0)
            return (int)got;
        if (got < 8) {
            if (!wp->pcm.channels)
                return mark__err(m->ctx, MARK_EFORMAT, "WAV without a "
                                 "'fmt ' chunk");
            return mark__err(m->ctx, MARK_EFORMAT, "WAV without a 'data' "
                             "chunk");
        }
        n = le32(h + 4);
        if (memcmp(h, "data", 4) != 0) {
            rc = take_chunk(m, wp, h, n, 0, &ds64_data);
            if (rc < 0)
                return rc;
            continue;
        }
        if (!wp->pcm.channels)
            return mark__err(m->ctx, MARK_EFORMAT, "WAV 'data' before "
                             "'fmt '");
        wp->data_at = s->pos;
        if (wp->rf64 && n == U32_UNKNOWN)
            n = ds64_data;
        wp->data_known = !(n == U32_UNKNOWN || (n == 0 && riff != 36));
        wp->data_len = wp->data_known ? n : 0;
        break;
    }
    if (s->size >= 0) {
        uint64_t have = (uint64_t)(s->size - wp->data_at);

        if (!wp->data_known) {
            wp->data_len = have - have % wp->block_align;
            wp->data_known = 1;
            rc = mark__problem_add(m->problems, MARK_SEV_WARNING,
                                   "wav-size", -1, "the data chunk's size "
                                   "is unset: the data runs to the end of "
                                   "the file");
            if (rc < 0)
                return rc;
        } else if (wp->data_len > have) {
            return mark__err(m->ctx, MARK_EFORMAT, "WAV truncated: the data "
                             "chunk claims %llu bytes, %llu are there",
                             (unsigned long long)wp->data_len,
                             (unsigned long long)have);
        }
    }
    if (wp->data_known) {
        wp->frames = (int64_t)(wp->data_len / wp->block_align);
        if (s->seekable && s->size >= 0) {
            rc = read_after(m, wp);
            if (rc < 0)
                return rc;
        } else if (!wp->rf64 && riff != U32_UNKNOWN &&
                   (uint64_t)riff + 8 > wp->data_at + wp->data_len) {
            uint64_t end = wp->data_at + wp->data_len + (wp->data_len & 1);

            wp->after_len = (uint64_t)riff + 8 > end
                                ? (uint64_t)riff + 8 - end : 0;
        }
    } else {
        wp->frames = -1;
    }
    m->info.frames = wp->frames;
    return MARK_OK;
}

/* A LIST/INFO chunk without its AIGC children. */
static int info_without_aigc(const unsigned char *d, size_t len,
                             mark__buf *out)
{
    size_t p = 4;
    int rc = mark__buf_put(out, "INFO", 4);

    while (rc == MARK_OK && p + 8 <= len) {
        uint32_t n = le32(d + p + 4);
        size_t all = 8 + (size_t)n + (n & 1);

        if (n > len - p - 8)
            break;
        if (all > len - p)
            all = len - p;
        if (memcmp(d + p, "AIGC", 4) != 0)
            rc = mark__buf_put(out, d + p, all);
        p += all;
    }
    return rc;
}

static int put_chunk(mark__buf *out, const char *id, const void *d,
                     size_t n)
{
    unsigned char h[8];
    int rc;

    memcpy(h, id, 4);
    set_le32(h + 4, (uint32_t)n);
    rc = mark__buf_put(out, h, 8);
    if (rc == MARK_OK && n)
        rc = mark__buf_put(out, d, n);
    if (rc == MARK_OK && (n & 1))
        rc = mark__buf_put(out, "", 1);
    return rc;
}

/* The chunks of one side of the data as they go out; json (not NULL:
 * the label goes in LIST/INFO) is added to the first INFO list before
 * the data, or in a list of its own after the others. */
static int out_chunks(mark_media *m, int after, const char *json,
                      size_t json_len, mark__buf *out)
{
    wav_priv *wp = m->priv;
    mark__buf tmp;
    size_t i;
    int rc = MARK_OK, placed = json == NULL || after;

    mark__buf_init(&tmp, m->ctx);
    for (i = 0; rc == MARK_OK && i < wp->n; i++) {
        const chunk *c = &wp->chunks[i];
        const unsigned char *cd = m->data + c->off + 8;

        if (c->after != after || c->role == ROLE_DS64)
            continue;
        if (!placed && c->info) {
            tmp.len = 0;
            rc = info_without_aigc(cd, (size_t)c->len, &tmp);
            if (rc == MARK_OK)
                rc = put_chunk(&tmp, "AIGC", json, json_len + 1);
            if (rc == MARK_OK)
                rc = put_chunk(out, "LIST", tmp.data, tmp.len);
            placed = 1;
        } else if (m->staged == NULL || c->role == ROLE_COPY) {
            rc = put_chunk(out, c->id, cd, (size_t)c->len);
        } else if (c->role == ROLE_INFO_AIGC) {
            tmp.len = 0;
            rc = info_without_aigc(cd, (size_t)c->len, &tmp);
            if (rc == MARK_OK && tmp.len > 4)
                rc = put_chunk(out, "LIST", tmp.data, tmp.len);
        }                                /* ROLE_DROP: left out */
    }
    if (rc == MARK_OK && !placed) {
        tmp.len = 0;
        rc = mark__buf_put(&tmp, "INFO", 4);
        if (rc == MARK_OK)
            rc = put_chunk(&tmp, "AIGC", json, json_len + 1);
        if (rc == MARK_OK)
            rc = put_chunk(out, "LIST", tmp.data, tmp.len);
    }
    mark__buf_free(&tmp);
    return rc;
}

/* The sample pass: input frames to output frames, in blocks. */
typedef struct pass {
    mark_media *m;
    mark__sink *out;
    const mark__pcm *f;
    size_t fb;                          /* bytes a frame */
    unsigned char *io;                  /* bytes of a block */
    float *x;                           /* floats of a label window */
    unsigned char *hold;                /* the last W frames (end label) */
    size_t held;
    uint64_t in_frames, out_bytes;
    double level_start, level_end;      /* content RMS for an added
                                           label (a pipe: a default) */
    const mark__audible_clip *clip;
    mark__audwm *wm;                    /* the watermark, NULL none */
    float *wx, *wy;                     /* its input, its output */
    unsigned char *wio;                 /* its output encoded */
} pass;

#define WM_CAP (2 * BLOCK)              /* frames of watermark output */

static int put(pass *p, const unsigned char *b, size_t frames)
{
    p->out_bytes += (uint64_t)frames * p->fb;
    return mark__sink_write(p->out, b, frames * p->fb);
}

static int wm_put_cb(void *u, const float *y, size_t frames)
{
    pass *p = u;

    mark__pcm_encode(p->f, y, frames, p->wio);
    return put(p, p->wio, frames);
}

/* What the watermark has ready after taking x (n frames; NULL: the end
 * of the input), out. */
static int wm_put(pass *p, const float *x, size_t n)
{
    return mark__audwm_pump(p->wm, x, n, p->wy, WM_CAP, wm_put_cb, p);
}

/* Samples out, through the watermark when there is one. */
static int emit(pass *p, const unsigned char *b, size_t frames)
{
    size_t k;
    int rc = MARK_OK;

    if (p->wm == NULL)
        return put(p, b, frames);
    for (k = 0; rc == MARK_OK && k < frames; k += BLOCK) {
        size_t n = frames - k < BLOCK ? frames - k : BLOCK;

        mark__pcm_decode(p->f, b + k * p->fb, n, p->wx);
        rc = wm_put(p, p->wx, n);
    }
    return rc;
}

/* Samples out from floats (a label's window): to the watermark as they
 * are, else encoded. */
static int emit_floats(pass *p, const float *x, size_t frames)
{
    size_t k;
    int rc = MARK_OK;

    if (p->wm != NULL)
        return wm_put(p, x, frames);
    for (k = 0; rc == MARK_OK && k < frames; k += BLOCK) {
        size_t b = frames - k < BLOCK ? frames - k : BLOCK;

        mark__pcm_encode(p->f, x + k * (size_t)p->f->channels, b, p->io);
        rc = emit(p, p->io, b);
    }
    return rc;
}

/* Up to want frames of input into buf: how many came (0 at the end). */
static int64_t read_frames(pass *p, unsigned char *buf, size_t want,
                           uint64_t left)
{
    wav_priv *wp = p->m->priv;
    int64_t got;
    size_t n;

    if (wp->data_known && want > left)
        want = (size_t)left;
    if (want == 0)
        return 0;
    got = mark__src_read_full(p->m->src, buf, want * p->fb);
    if (got < 0)
        return got;
    if (wp->data_known && (size_t)got < want * p->fb)
        return mark__err(p->m->ctx, MARK_EFORMAT, "WAV truncated: the "
                         "samples end %llu bytes early",
                         (unsigned long long)(left * p->fb - (size_t)got));
    n = (size_t)got / p->fb;
    if ((size_t)got % p->fb)
        return mark__err(p->m->ctx, MARK_EFORMAT, "the input ends inside "
                         "a frame");
    p->in_frames += n;
    return (int64_t)n;
}

/* The content's RMS over its first and last 3 s (a seekable input). */
static int levels(mark_media *m, double *first, double *last)
{
    wav_priv *wp = m->priv;
    int64_t span = (int64_t)wp->pcm.rate * 3, from[2], k;
    unsigned char *b = mark__malloc(m->ctx, wp->block_align * BLOCK);
    float *x = mark__malloc(m->ctx, sizeof *x * BLOCK *
                                        (size_t)wp->pcm.channels);
    double *out[2] = { first, last };
    int i, rc = MARK_OK;

    if (b == NULL || x == NULL)
        rc = mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    if (span > wp->frames)
        span = wp->frames;
    from[0] = 0;
    from[1] = wp->frames - span;
    for (i = 0; rc == MARK_OK && i < 2 && span > 0; i++) {
        double s2 = 0;

        rc = mark__src_seek(m->src, wp->data_at +
                                        from[i] * (int64_t)wp->block_align);
        for (k = 0; rc == MARK_OK && k < span; k += BLOCK) {
            size_t n = (size_t)(span - k < BLOCK ? span - k : BLOCK);
            int64_t got = mark__src_read_full(m->src, b,
                                              n * wp->block_align);
            double r;

            if (got < (int64_t)(n * wp->block_align)) {
                rc = got < 0 ? (int)got
                             : mark__err(m->ctx, MARK_EFORMAT, "WAV "
                                         "truncated");
                break;
            }
            mark__pcm_decode(&wp->pcm, b, n, x);
            r = mark__audible_rms(x, n, wp->pcm.channels);
            s2 += r * r * (double)n;
        }
        *out[i] = sqrt(s2 / (double)span);
    }
    if (rc == MARK_OK)
        rc = mark__src_seek(m->src, wp->data_at);
    mark__free(m->ctx, b);
    mark__free(m->ctx, x);
    return rc;
}

static int samples(pass *p, const mark__audible_plan *pl)
{
    wav_priv *wp = p->m->priv;
    uint64_t left = wp->data_known ? wp->data_len / p->fb : 0;
    size_t W = pl->W, ch = (size_t)p->f->channels;
    int overlay_start = pl->start && !pl->ext_start;
    int overlay_end = pl->end && !pl->ext_end;
    int64_t got;
    int rc = MARK_OK;

    if (pl->ext_start) {
        /* the level of the first seconds: only known in advance when
         * the input can be read twice; else the label's own default */
        mark__audible_clip_fill(p->x, W, (int)ch, p->f->rate, p->clip, p->level_start);
        rc = emit_floats(p, p->x, W);
    }
    if (rc == MARK_OK && overlay_start) {
        got = read_frames(p, p->hold, W, left);
        if (got < 0)
            return (int)got;
        left -= wp->data_known ? (uint64_t)got : 0;
        if ((size_t)got < W) {
            /* shorter than a label: it goes before the content instead */
            mark__audible_clip_fill(p->x, W, (int)ch, p->f->rate, p->clip,
                               p->level_start);
            rc = emit_floats(p, p->x, W);
            p->held = (size_t)got;
            overlay_start = 0;
        } else {
            mark__pcm_decode(p->f, p->hold, W, p->x);
            mark__audible_clip_overlay(p->x, W, (int)ch, p->f->rate, p->clip);
            rc = emit_floats(p, p->x, W);
        }
    }
    /* the middle, keeping the last W frames back when an end label is
     * laid over them */
    while (rc == MARK_OK) {
        size_t room = overlay_end ? W + BLOCK - p->held : BLOCK;
        unsigned char *at = overlay_end ? p->hold + p->held * p->fb : p->io;

        if (!overlay_end && p->held) {
            rc = emit(p, p->hold, p->held);
            p->held = 0;
            continue;
        }
        got = read_frames(p, at, room, left);
        if (got < 0)
            return (int)got;
        if (got == 0)
            break;
        left -= wp->data_known ? (uint64_t)got : 0;
        if (!overlay_end) {
            rc = emit(p, p->io, (size_t)got);
            continue;
        }
        p->held += (size_t)got;
        if (p->held > W) {
            size_t out = p->held - W;

            rc = emit(p, p->hold, out);
            memmove(p->hold, p->hold + out * p->fb, W * p->fb);
            p->held = W;
        }
    }
    if (rc == MARK_OK && overlay_end && p->held > 0) {
        if (p->held == W) {
            mark__pcm_decode(p->f, p->hold, W, p->x);
            mark__audible_clip_overlay(p->x, W, (int)ch, p->f->rate, p->clip);
            rc = emit_floats(p, p->x, W);
        } else {
            rc = emit(p, p->hold, p->held);
            if (rc == MARK_OK) {
                mark__audible_clip_fill(p->x, W, (int)ch, p->f->rate, p->clip, p->level_end);
                rc = emit_floats(p, p->x, W);
            }
        }
        p->held = 0;
    } else if (rc == MARK_OK && overlay_end) {
        mark__audible_clip_fill(p->x, W, (int)ch, p->f->rate, p->clip, p->level_end);
        rc = emit_floats(p, p->x, W);
    }
    if (rc == MARK_OK && pl->ext_end) {
        mark__audible_clip_fill(p->x, W, (int)ch, p->f->rate, p->clip, p->level_end);
        rc = emit_floats(p, p->x, W);
    }
    return rc;
}

static int info_has_aigc(const unsigned char *d, size_t len)
{
    size_t p = 4;

    while (p + 8 <= len) {
        uint32_t n = le32(d + p + 4);

        if (memcmp(d + p, "AIGC", 4) == 0)
            return 1;
        if (n > len - p - 8)
            break;
        p += 8 + (size_t)n + (n & 1);
    }
    return 0;
}

/* Chunks after the data of a pipe input: copied, an old label turned
 * into JUNK of its size (the sizes are out already). */
static int pipe_tail(mark_media *m, mark__sink *out, uint64_t *bytes)
{
    wav_priv *wp = m->priv;
    unsigned char buf[8192];
    uint64_t left = wp->after_len;
    int rc = MARK_OK;

    *bytes = 0;
    if (wp->data_len & 1) {
        if (mark__src_skip(m->src, 1) < 0)
            return MARK_OK;
        left = left ? left - 1 : 0;
    }
    while (rc == MARK_OK && left >= 8) {
        int64_t got = mark__src_read_full(m->src, buf, 8);
        uint64_t n, k;
        int junk;

        if (got < 8)
            break;
        n = le32(buf + 4);
        junk = m->staged != NULL &&
               (memcmp(buf, "AIGC", 4) == 0 || memcmp(buf, "LIST", 4) == 0);
        if (junk && memcmp(buf, "LIST", 4) == 0) {
            /* only an INFO list holding AIGC: look inside (bounded) */
            junk = 0;
            if (n <= sizeof buf - 8) {
                got = mark__src_read_full(m->src, buf + 8, (size_t)n);
                if (got < (int64_t)n)
                    break;
                if (n >= 4 && memcmp(buf + 8, "INFO", 4) == 0)
                    junk = info_has_aigc(buf + 8, (size_t)n);
                if (junk) {
                    memcpy(buf, "JUNK", 4);
                    memset(buf + 8, 0, (size_t)n);
                }
                if (rc == MARK_OK)
                    rc = mark__sink_write(out, buf, 8 + (size_t)n);
                *bytes += 8 + n;
                left -= left < 8 + n ? left : 8 + n;
                if (rc == MARK_OK && (n & 1) && left > 0) {
                    got = mark__src_read_full(m->src, buf, 1);
                    rc = got == 1 ? mark__sink_write(out, buf, 1) : rc;
                    *bytes += 1;
                    left--;
                }
                continue;
            }
        }
        if (junk)
            memcpy(buf, "JUNK", 4);
        rc = mark__sink_write(out, buf, 8);
        *bytes += 8;
        left -= 8;
        n += n & 1;
        for (k = 0; rc == MARK_OK && k < n && left > 0;) {
            size_t want = n - k < sizeof buf ? (size_t)(n - k) : sizeof buf;

            if (want > left)
                want = (size_t)left;
            got = mark__src_read_full(m->src, buf, want);
            if (got <= 0)
                return got < 0 ? (int)got : MARK_OK;
            if (junk)
                memset(buf, 0, (size_t)got);
            rc = mark__sink_write(out, buf, (size_t)got);
            k += (uint64_t)got;
            *bytes += (uint64_t)got;
            left -= (uint64_t)got;
        }
    }
    return rc;
}

static int wav_stream(mark_media *m, mark__pixel_ops *ops, mark__sink *out)
{
    wav_priv *wp = m->priv;
    mark__buf head, tail;
    char *json = NULL;
    size_t json_len = 0;
    mark__audible_plan pl;
    pass p;
    uint64_t data_out = 0, tail_bytes = 0, riff = 0;
    int64_t data_hdr_at, top_at;
    int rc = MARK_OK, known, big = 0, reserve = 0, touch;
    int info = strcmp(m->carrier, "wav-info") == 0;
    mark__audible_clip clip;
    unsigned char h[8];

    touch = ops != NULL && (ops->audible & MARK_AUDIBLE_BOTH);
    if ((touch || (ops != NULL && ops->watermark)) &&
        wp->pcm.enc == MARK__PCM_NONE)
        return mark__err(m->ctx, MARK_EUNSUPPORTED, "WAV format tag 0x%04x "
                         "is not PCM or float: only the metadata label can "
                         "be written", wp->tag);
    memset(&p, 0, sizeof p);
    if (ops != NULL && ops->watermark) {
        /* too short to carry a mark a detector could find: skipped */
        if (wp->data_known && wp->frames < (int64_t)wp->pcm.rate *
                                               MARK__AUDWM_MIN_SECONDS)
            ops->wm_skipped = 1;
        else if (wp->pcm.enc == MARK__PCM_U8)
            ops->wm_skipped = MARK__WM_COARSE;
        else
            rc = mark__audwm_new(m->ctx, ops->key, &ops->payload,
                                 wp->pcm.rate, wp->pcm.channels,
                                 ops->strength, &p.wm);
        if (rc < 0)
            return rc;
    }
    if (m->src->seekable) {
        rc = mark__src_seek(m->src, wp->data_at);
        if (rc < 0)
            return rc;
    } else if (m->src->pos != wp->data_at) {
        return mark__err(m->ctx, MARK_ESTATE, "a streamed input can be "
                         "written once");
    }
    if (m->staged != NULL) {
        rc = mark_label_to_json(m->staged, MARK_FORM_BARE, &json, &json_len);
        if (rc < 0)
            return rc;
    }
    memset(&clip, 0, sizeof clip);
    if (touch) {
        rc = mark__audible_clip_make(m->ctx, ops->audible_voice,
                                     wp->pcm.rate, &clip);
        if (rc < 0) {
            mark_free(m->ctx, json);
            return rc;
        }
    }
    if (wp->pcm.enc != MARK__PCM_NONE)
        mark__audible_plan_make(ops, wp->frames,
                                mark__audible_window(&clip, wp->pcm.rate),
                                &pl);
    else
        memset(&pl, 0, sizeof pl);
    mark__buf_init(&head, m->ctx);
    mark__buf_init(&tail, m->ctx);
    /* what the output will hold, when it can be known now */
    known = wp->data_known;
    if (known) {
        data_out = wp->data_len - wp->data_len % wp->block_align;
        data_out += (uint64_t)(pl.ext_start + pl.ext_end) * pl.W *
                    wp->block_align;
    }
    p.level_start = p.level_end = 0.05;
    if (touch && m->src->seekable && known) {
        rc = levels(m, &p.level_start, &p.level_end);
        if (rc < 0)
            goto done;
    }
    if (wp->raw) {
        unsigned char fmt[16];

        set_le32(fmt, 0);
        fmt[0] = (unsigned char)wp->tag;
        fmt[1] = 0;
        fmt[2] = (unsigned char)wp->pcm.channels;
        fmt[3] = (unsigned char)(wp->pcm.channels >> 8);
        set_le32(fmt + 4, wp->pcm.rate);
        set_le32(fmt + 8, wp->pcm.rate * (uint32_t)wp->block_align);
        fmt[12] = (unsigned char)wp->block_align;
        fmt[13] = (unsigned char)(wp->block_align >> 8);
        fmt[14] = (unsigned char)(wp->pcm.bytes * 8);
        fmt[15] = 0;
        rc = put_chunk(&head, "fmt ", fmt, 16);
        if (rc == MARK_OK && info)
            rc = out_chunks(m, 0, json, json_len, &head);
    } else {
        rc = out_chunks(m, 0, info ? json : NULL, json_len, &head);
    }
    if (rc == MARK_OK && json != NULL && !info)
        rc = put_chunk(&head, "AIGC", json, json_len);
    if (rc == MARK_OK && wp->after_known)
        rc = out_chunks(m, 1, NULL, 0, &tail);
    if (rc < 0)
        goto done;
    if (known) {
        uint64_t after = wp->after_known ? tail.len : wp->after_len;

        riff = 4 + head.len + 8 + data_out + (data_out & 1) + after;
        big = wp->rf64 || riff > RIFF_MAX;
    } else {
        reserve = out->seekable;
    }
    /* the top: RIFF/RF64, then ds64 or the JUNK that may become one */
    top_at = out->pos;
    memcpy(h, big ? "RF64" : "RIFF", 4);
    set_le32(h + 4, big || !known ? U32_UNKNOWN : (uint32_t)riff);
    rc = mark__sink_write(out, h, 8);
    if (rc == MARK_OK)
        rc = mark__sink_write(out, "WAVE", 4);
    if (rc == MARK_OK && (big || reserve)) {
        unsigned char z[36];

        memset(z, 0, sizeof z);
        memcpy(z, big ? "ds64" : "JUNK", 4);
        set_le32(z + 4, 28);
        if (big) {
            set_le64(z + 8, riff + 36);
            set_le64(z + 16, data_out);
            set_le64(z + 24, data_out / wp->block_align);
        }
        rc = mark__sink_write(out, z, sizeof z);
    }
    if (rc == MARK_OK)
        rc = mark__sink_write(out, head.data, head.len);
    data_hdr_at = out->pos;
    memcpy(h, "data", 4);
    set_le32(h + 4, big || !known ? U32_UNKNOWN : (uint32_t)data_out);
    if (rc == MARK_OK)
        rc = mark__sink_write(out, h, 8);
    if (rc < 0)
        goto done;
    /* the samples */
    p.m = m;
    p.clip = &clip;
    p.out = out;
    p.f = &wp->pcm;
    p.fb = wp->block_align;
    p.io = mark__malloc(m->ctx, p.fb * BLOCK);
    if (touch) {
        p.x = mark__malloc(m->ctx, sizeof *p.x * (size_t)wp->pcm.channels *
                                       (pl.W > BLOCK ? pl.W : BLOCK));
        p.hold = mark__malloc(m->ctx, p.fb * (pl.W + BLOCK));
    }
    if (p.wm != NULL) {
        size_t ch = (size_t)wp->pcm.channels;

        p.wx = mark__malloc(m->ctx, sizeof *p.wx * ch * BLOCK);
        p.wy = mark__malloc(m->ctx, sizeof *p.wy * ch * WM_CAP);
        p.wio = mark__malloc(m->ctx, p.fb * WM_CAP);
    }
    if (p.io == NULL || (touch && (p.x == NULL || p.hold == NULL)) ||
        (p.wm != NULL && (p.wx == NULL || p.wy == NULL || p.wio == NULL))) {
        rc = mark__err(m->ctx, MARK_ENOMEM, "out of memory");
        goto done;
    }
    if (touch) {
        rc = samples(&p, &pl);
    } else {
        uint64_t left = wp->data_known ? wp->data_len / p.fb : 0;

        for (;;) {
            int64_t got = read_frames(&p, p.io, BLOCK, left);

            if (got <= 0) {
                rc = (int)got;
                break;
            }
            left -= wp->data_known ? (uint64_t)got : 0;
            rc = emit(&p, p.io, (size_t)got);
            if (rc < 0)
                break;
        }
    }
    if (rc == MARK_OK && p.wm != NULL)
        rc = wm_put(&p, NULL, 0);      /* the last of the samples */
    if (rc == MARK_OK && (p.out_bytes & 1))
        rc = mark__sink_write(out, "", 1);
    if (rc < 0)
        goto done;
    if (known && p.out_bytes != data_out) {
        rc = mark__err(m->ctx, MARK_EFORMAT, "the samples came to %llu "
                       "bytes, not the %llu announced",
                       (unsigned long long)p.out_bytes,
                       (unsigned long long)data_out);
        goto done;
    }
    /* the chunks after the data */
    if (wp->after_known)
        rc = mark__sink_write(out, tail.data, tail.len);
    else if (known)
        rc = pipe_tail(m, out, &tail_bytes);
    if (rc < 0)
        goto done;
    if (!known && reserve) {
        /* patch the sizes now that they are known */
        uint64_t total = (uint64_t)(out->pos - top_at) - 8;
        unsigned char z[36];

        if (total > RIFF_MAX) {
            memcpy(z, "RF64", 4);
            set_le32(z + 4, U32_UNKNOWN);
            rc = mark__sink_patch(out, top_at, z, 8);
            memcpy(z, "ds64", 4);
            set_le32(z + 4, 28);
            set_le64(z + 8, total);
            set_le64(z + 16, p.out_bytes);
            set_le64(z + 24, p.out_bytes / p.fb);
            if (rc == MARK_OK)
                rc = mark__sink_patch(out, top_at + 12, z, 36);
        } else {
            set_le32(z, (uint32_t)total);
            rc = mark__sink_patch(out, top_at + 4, z, 4);
            set_le32(z, (uint32_t)p.out_bytes);
            if (rc == MARK_OK)
                rc = mark__sink_patch(out, data_hdr_at + 4, z, 4);
        }
    }
    if (rc == MARK_OK && ops != NULL)
        ops->audible_done = (pl.start ? MARK_AUDIBLE_START : 0) |
                            (pl.end ? MARK_AUDIBLE_END : 0);
done:
    mark__audwm_free(p.wm);
    mark__free(m->ctx, p.wx);
    mark__free(m->ctx, p.wy);
    mark__free(m->ctx, p.wio);
    mark__free(m->ctx, p.io);
    mark__free(m->ctx, p.x);
    mark__free(m->ctx, p.hold);
    mark__buf_free(&head);
    mark__buf_free(&tail);
    mark_free(m->ctx, json);
    mark__audible_clip_free(m->ctx, &clip);
    return rc;
}

/* Decode frames [from, to) of the samples (a pipe: from where it is,
 * until to or its end), handing each block to take until it returns
 * non-zero (returned); *at: the frame it stopped at. */
static int decode_range(const mark_media *m, uint64_t from, uint64_t to,
                        unsigned char *b, float *x,
                        int (*take)(void *u, const float *x, size_t n),
                        void *u, uint64_t *at)
{
    wav_priv *wp = m->priv;
    int rc = m->src->seekable
                 ? mark__src_seek(m->src, wp->data_at +
                                              (int64_t)(from *
                                                        wp->block_align))
                 : MARK_OK;

    while (rc == MARK_OK && from < to) {
        size_t want = to - from < BLOCK ? (size_t)(to - from) : BLOCK, n;
        int64_t got = mark__src_read_full(m->src, b,
                                          want * wp->block_align);

        if (got < 0)
            return (int)got;
        n = (size_t)got / wp->block_align;
        if (n == 0)
            break;
        mark__pcm_decode(&wp->pcm, b, n, x);
        rc = take(u, x, n);
        from += n;
        if (n < want)
            break;                      /* the end (a pipe, a short file) */
    }
    *at = from;
    return rc;
}

typedef struct scan_to {
    mark__audible_scan *s;
    struct mark__audwm_in *fed;         /* a pipe's watermark input */
} scan_to;

static int scan_take(void *u, const float *x, size_t n)
{
    scan_to *t = u;
    int rc = mark__audible_scan_feed(t->s, x, n);

    if (rc == MARK_OK && t->fed != NULL) {
        rc = mark__audwm_in_feed(t->fed, x, n);
        if (rc > 0)
            rc = MARK_OK;               /* the detector has all it wants:
                                           the scan goes on */
    }
    return rc;
}

/* Feed frames [from, to) to the scan, and to the watermark input of a
 * pipe; *at: the frame it stopped at. */
static int scan_range(const mark_media *m, mark__audible_scan *s,
                      uint64_t from, uint64_t to, unsigned char *b, float *x,
                      uint64_t *at)
{
    scan_to t;

    t.s = s;
    t.fed = ((wav_priv *)m->priv)->fed;
    return decode_range(m, from, to, b, x, scan_take, &t, at);
}

static int wav_explicit(const mark_media *m, mark__explicit *res,
                        double edge)
{
    wav_priv *wp = m->priv;
    mark__audible_scan *s = NULL;
    unsigned char *b = NULL;
    float *x = NULL;
    uint64_t N = wp->data_known ? (uint64_t)wp->frames : UINT64_MAX;
    uint64_t span, at = 0;
    int rc;

    memset(res, 0, sizeof *res);
    if (wp->pcm.enc == MARK__PCM_NONE) {
        snprintf(res->note, sizeof res->note, "WAV format tag 0x%04x: "
                 "samples not decoded", wp->tag);
        return MARK_OK;
    }
    /* a pipe is read once: through, when asked for all of it (verify),
     * never for marking, which needs the samples for the output */
    if (!m->src->seekable && (edge > 0 || m->src->pos != wp->data_at)) {
        snprintf(res->note, sizeof res->note, "not looked for: the input "
                 "is a stream, read once");
        return MARK_OK;
    }
    b = mark__malloc(m->ctx, wp->block_align * BLOCK);
    x = mark__malloc(m->ctx, sizeof *x * BLOCK * (size_t)wp->pcm.channels);
    if (b == NULL || x == NULL) {
        rc = mark__err(m->ctx, MARK_ENOMEM, "out of memory");
        goto done;
    }
    rc = mark__audible_scan_new(m->ctx, wp->pcm.rate, wp->pcm.channels,
                                &s);
    /* a pipe's samples are read once: the watermark detector takes them
     * now too, for a search later */
    if (rc == MARK_OK && !m->src->seekable && wp->fed == NULL)
        rc = mark__audwm_in_new(m->ctx, wp->pcm.rate, wp->pcm.channels, 0,
                                &wp->fed);
    span = (uint64_t)(edge * wp->pcm.rate);
    if (rc == MARK_OK && (edge <= 0 || 2 * span >= N)) {
        rc = scan_range(m, s, 0, N, b, x, &at);
    } else if (rc == MARK_OK) {
        /* the edges only: where a label would be added */
        rc = scan_range(m, s, 0, span, b, x, &at);
        if (rc == MARK_OK)
            rc = mark__audible_scan_jump(s, N - span);
        if (rc == MARK_OK)
            rc = scan_range(m, s, N - span, N, b, x, &at);
    }
    if (rc == MARK_OK)
        rc = mark__audible_scan_finish(s, (double)at / wp->pcm.rate, res);
    if (rc == MARK_OK && m->src->seekable)
        rc = mark__src_seek(m->src, wp->data_at);
done:
    mark__audible_scan_free(s);
    mark__free(m->ctx, x);
    mark__free(m->ctx, b);
    return rc;
}

static int wav_pcm(const mark_media *m,
                   int (*take)(void *u, const float *x, size_t frames),
                   void *u)
{
    wav_priv *wp = m->priv;
    uint64_t n = wp->data_known ? wp->data_len / wp->block_align
                                : UINT64_MAX, at;
    unsigned char *b;
    float *x;
    int rc;

    if (wp->pcm.enc == MARK__PCM_NONE)
        return mark__err(m->ctx, MARK_EUNSUPPORTED, "WAV format tag 0x%04x "
                         "is not PCM or float", wp->tag);
    if (!m->src->seekable && m->src->pos != wp->data_at)
        return mark__err(m->ctx, MARK_EUNSEEKABLE, "the samples of a pipe "
                         "were read already");
    b = mark__malloc(m->ctx, wp->block_align * BLOCK);
    x = mark__malloc(m->ctx, sizeof *x * (size_t)wp->pcm.channels * BLOCK);
    rc = b == NULL || x == NULL
         ? mark__err(m->ctx, MARK_ENOMEM, "out of memory")
         : decode_range(m, 0, n, b, x, take, u, &at);
    mark__free(m->ctx, b);
    mark__free(m->ctx, x);
    return rc < 0 ? rc : MARK_OK;
}

/* The detector input a pipe's samples went to, handed over. */
static struct mark__audwm_in *wav_pcm_fed(const mark_media *m)
{
    wav_priv *wp = m->priv;
    struct mark__audwm_in *d = wp->fed;

    wp->fed = NULL;
    return d;
}

static void wav_uninit(mark_media *m)
{
    wav_priv *wp = m->priv;

    if (wp == NULL)
        return;
    mark__audwm_in_free(wp->fed);
    mark__free(m->ctx, wp->chunks);
    mark__free(m->ctx, wp);
    m->priv = NULL;
}

const mark__container mark__container_wav = {
    .name = "wav", .format = MARK_FORMAT_WAV, .type = MARK_MEDIA_AUDIO,
    .parse = wav_parse, .uninit = wav_uninit,
    .explicit_check = wav_explicit, .stream = wav_stream, .pcm = wav_pcm,
    .pcm_fed = wav_pcm_fed,
};
