/*
 * media.c - the media object: reading input into memory, recognising its
 * format, dispatching to the container backend, and saving atomically.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "payload/payload.h"
#include "signal/signal.h"

/* Magic bytes, checked in table order (JPEG before the MP3 frame sync,
 * which also starts with 0xFF). */
typedef struct format_desc {
    const char *name;
    int type;
} format_desc;

static const format_desc formats[MARK_FORMAT_COUNT_] = {
    [MARK_FORMAT_UNKNOWN] = { "unknown", MARK_MEDIA_UNKNOWN },
    [MARK_FORMAT_PNG] = { "png", MARK_MEDIA_IMAGE },
    [MARK_FORMAT_JPEG] = { "jpeg", MARK_MEDIA_IMAGE },
    [MARK_FORMAT_GIF] = { "gif", MARK_MEDIA_IMAGE },
    [MARK_FORMAT_WEBP] = { "webp", MARK_MEDIA_IMAGE },
    [MARK_FORMAT_TIFF] = { "tiff", MARK_MEDIA_IMAGE },
    [MARK_FORMAT_BMP] = { "bmp", MARK_MEDIA_IMAGE },
    [MARK_FORMAT_HEIF] = { "heif", MARK_MEDIA_IMAGE },
    [MARK_FORMAT_WAV] = { "wav", MARK_MEDIA_AUDIO },
    [MARK_FORMAT_FLAC] = { "flac", MARK_MEDIA_AUDIO },
    [MARK_FORMAT_OGG] = { "ogg", MARK_MEDIA_AUDIO },
    [MARK_FORMAT_MP3] = { "mp3", MARK_MEDIA_AUDIO },
    [MARK_FORMAT_MP4] = { "mp4", MARK_MEDIA_VIDEO },
    [MARK_FORMAT_MKV] = { "mkv", MARK_MEDIA_VIDEO },
    [MARK_FORMAT_PDF] = { "pdf", MARK_MEDIA_TEXT },
    [MARK_FORMAT_ZIP] = { "zip", MARK_MEDIA_TEXT },
    [MARK_FORMAT_TEXT] = { "text", MARK_MEDIA_TEXT },
    [MARK_FORMAT_MARKDOWN] = { "markdown", MARK_MEDIA_TEXT },
};

const char *mark_format_name(int format)
{
    if (format < 0 || format >= MARK_FORMAT_COUNT_)
        return "unknown";
    return formats[format].name;
}

const char *mark_media_type_name(int type)
{
    static const char *const names[] = { "unknown", "image", "audio",
                                         "video", "text" };

    if (type < 0 || type > MARK_MEDIA_TEXT)
        return "unknown";
    return names[type];
}

static int has(const unsigned char *p, size_t len, size_t off,
               const char *magic, size_t n)
{
    return len >= off + n && memcmp(p + off, magic, n) == 0;
}

/* Text has no magic: UTF-8 (a sequence cut by the end of what is given
 * allowed) without NUL and the C0 controls text does not use. */
static int looks_like_text(const unsigned char *p, size_t len)
{
    size_t i = 0, k, need;

    if (len > 1024)
        len = 1024;
    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    if (i == len)
        return len > 0;
    while (i < len) {
        unsigned c = p[i];

        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\n' && c != '\v' &&
                 c != '\f' && c != '\r' && c != 0x1b) || c == 0x7f)
                return 0;
            i++;
            continue;
        }
        need = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2
             : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
        if (need == 0)
            return 0;
        for (k = 1; k <= need; k++) {
            unsigned d;

            if (i + k >= len)
                return 1;               /* cut by the end of the sample */
            d = p[i + k];
            if ((d & 0xc0) != 0x80)
                return 0;
            if (k == 1 && ((c == 0xe0 && d < 0xa0) ||
                           (c == 0xed && d > 0x9f) ||
                           (c == 0xf0 && d < 0x90) ||
                           (c == 0xf4 && d > 0x8f)))
                return 0;               /* overlong, surrogate, > U+10FFFF */
        }
        i += need + 1;
    }
    return 1;
}

/* Text that is another format's magic cut short ("RIF", "Ogg") or a
 * RIFF of another kind is a truncated or unknown binary file. */
static int cut_magic(const unsigned char *p, size_t len)
{
    static const char *const magic[] = { "RIFF", "RF64", "BW64", "OggS",
                                         "fLaC", "GIF87a", "GIF89a",
                                         "%PDF-", "ID3" };
    size_t i, n;

    for (i = 0; i < sizeof magic / sizeof magic[0]; i++) {
        n = strlen(magic[i]);
        if (memcmp(p, magic[i], len < n ? len : n) == 0)
            return 1;
    }
    return 0;
}

/* YAML front matter: a "---" line at the very start (after a BOM). */
static int opens_front_matter(const unsigned char *p, size_t len)
{
    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
        p += 3;
        len -= 3;
    }
    return has(p, len, 0, "---\n", 4) || has(p, len, 0, "---\r\n", 5);
}

/* A UTF-16 byte order mark, then code units that read as text: no
 * control characters but tab, LF and CR, no non-characters, surrogates
 * in pairs (as far as the bytes go). */
static int utf16_text(const unsigned char *p, size_t len)
{
    int le;
    size_t i;

    if (len < 2 || !((p[0] == 0xff && p[1] == 0xfe) ||
                     (p[0] == 0xfe && p[1] == 0xff)))
        return 0;
    le = p[0] == 0xff;
    for (i = 2; i + 1 < len; i += 2) {
        unsigned u = le ? p[i] | (unsigned)p[i + 1] << 8
                        : (unsigned)p[i] << 8 | p[i + 1];

        if ((u < 0x20 && u != 9 && u != 10 && u != 13) || u >= 0xfffe ||
            (u >= 0xdc00 && u < 0xe000))
            return 0;
        if (u >= 0xd800 && u < 0xdc00) {
            unsigned v;

            if (i + 3 >= len)
                break;
            v = le ? p[i + 2] | (unsigned)p[i + 3] << 8
                   : (unsigned)p[i + 2] << 8 | p[i + 3];
            if (v < 0xdc00 || v >= 0xe000)
                return 0;
            i += 2;
        }
    }
    return 1;
}

int mark_sniff(const void *data, size_t len)
{
    const unsigned char *p = data;

    if (p == NULL)
        return MARK_FORMAT_UNKNOWN;
    if (has(p, len, 0, "\x89PNG\r\n\x1a\n", 8))
        return MARK_FORMAT_PNG;
    if (has(p, len, 0, "\xff\xd8\xff", 3))
        return MARK_FORMAT_JPEG;
    if (has(p, len, 0, "GIF87a", 6) || has(p, len, 0, "GIF89a", 6))
        return MARK_FORMAT_GIF;
    if (has(p, len, 0, "RIFF", 4) && has(p, len, 8, "WEBP", 4))
        return MARK_FORMAT_WEBP;
    if ((has(p, len, 0, "RIFF", 4) || has(p, len, 0, "RF64", 4) ||
         has(p, len, 0, "BW64", 4)) && has(p, len, 8, "WAVE", 4))
        return MARK_FORMAT_WAV;
    if (has(p, len, 0, "II*\0", 4) || has(p, len, 0, "MM\0*", 4))
        return MARK_FORMAT_TIFF;
    if (has(p, len, 0, "fLaC", 4))
        return MARK_FORMAT_FLAC;
    if (has(p, len, 0, "OggS", 4))
        return MARK_FORMAT_OGG;
    if (has(p, len, 0, "\x1a\x45\xdf\xa3", 4))
        return MARK_FORMAT_MKV;
    if (has(p, len, 0, "%PDF-", 5))
        return MARK_FORMAT_PDF;
    if (has(p, len, 0, "PK\x03\x04", 4))
        return MARK_FORMAT_ZIP;
    if (has(p, len, 4, "ftyp", 4)) {
        if (has(p, len, 8, "heic", 4) || has(p, len, 8, "heix", 4) ||
            has(p, len, 8, "mif1", 4) || has(p, len, 8, "avif", 4))
            return MARK_FORMAT_HEIF;
        return MARK_FORMAT_MP4;
    }
    if (has(p, len, 4, "moov", 4) || has(p, len, 4, "mdat", 4) ||
        has(p, len, 4, "wide", 4))
        return MARK_FORMAT_MP4;
    if (has(p, len, 0, "ID3", 3))
        return MARK_FORMAT_MP3;
    /* UTF-16 text after its byte order mark (FF FE is also the sync of
     * an MPEG layer I frame, which is not supported) */
    if (utf16_text(p, len))
        return MARK_FORMAT_TEXT;
    /* MPEG audio frame header: sync, a valid layer, a valid bitrate */
    if (len >= 3 && p[0] == 0xff && (p[1] & 0xe0) == 0xe0 &&
        ((p[1] >> 1) & 3) != 0 && (p[2] >> 4) != 15 && (p[2] >> 4) != 0)
        return MARK_FORMAT_MP3;
    /* BMP: its two reserved 16-bit fields are zero (so "BMW ..." text
     * is not a bitmap) */
    if (has(p, len, 0, "BM", 2) && len >= 14 &&
        has(p, len, 6, "\0\0\0\0", 4))
        return MARK_FORMAT_BMP;
    if (looks_like_text(p, len) && !cut_magic(p, len))
        return opens_front_matter(p, len) ? MARK_FORMAT_MARKDOWN
                                          : MARK_FORMAT_TEXT;
    return MARK_FORMAT_UNKNOWN;
}

const mark__container *mark__container_for(int format)
{
    static const mark__container *const table[] = {
        &mark__container_pdf,
        &mark__container_ooxml,
        &mark__container_png,
        &mark__container_jpeg,
        &mark__container_wav,
        &mark__container_flac,
        &mark__container_ogg,
        &mark__container_mp3,
        &mark__container_mp4,
        &mark__container_mkv,
        &mark__container_text,
        &mark__container_markdown,
    };
    size_t i;

    for (i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i]->format == format)
            return table[i];
    return NULL;
}

/* A backend that reads labels and cannot write them (documents). */
static int read_only(const mark_media *m)
{
    return m->c->write == NULL && m->c->stream == NULL;
}

static int refuse_read_only(mark_media *m)
{
    const char *kind = m->info.codec != NULL ? m->info.codec
                                             : m->c->name;

    return mark__err(m->ctx, MARK_EUNSUPPORTED, "marking %s %s is not "
                     "supported (their labels are read, not written)", kind,
                     m->info.type == MARK_MEDIA_TEXT ? "documents" : "files");
}

static void media_release(mark_media *m)
{
    size_t i;

    if (m->c != NULL && m->c->uninit != NULL)
        m->c->uninit(m);
    for (i = 0; i < m->n_found; i++) {
        mark__found *f = &m->found[i];

        mark__free(m->ctx, f->carrier);
        mark__free(m->ctx, f->location);
        mark__free(m->ctx, f->raw);
        mark_label_free(f->label);
    }
    mark__free(m->ctx, m->found);
    mark_problems_free(m->problems);
    mark_label_free(m->staged);
    mark_key_free(m->wm.key);
    mark__free(m->ctx, m->visible_json);
    mark__free(m->ctx, m->visible_record);
    mark__free(m->ctx, (char *)(uintptr_t)m->video.preset);
    mark__free(m->ctx, (char *)(uintptr_t)m->video.encoder);
    mark__free(m->ctx, m->explicit_res);
    mark__free(m->ctx, m->text_label);
    mark__free(m->ctx, m->data);
    if (m->src != NULL) {
        mark__src_close(m->src);
        mark__free(m->ctx, m->src);
    }
}

void mark_media_free(mark_media *m)
{
    if (m == NULL)
        return;
    media_release(m);
    mark__free(m->ctx, m);
}

static int media_open(mark_ctx *ctx, mark_media **out, unsigned char *data,
                      size_t len, int fmt, mark__src *src,
                      const mark_raw_format *raw, int check);

/* Take ownership of data (allocated by ctx) and parse it; check: look
 * for an explicit label too. */
static int media_parse(mark_ctx *ctx, mark_media **out, unsigned char *data,
                       size_t len, int check)
{
    return media_open(ctx, out, data, len, MARK_FORMAT_UNKNOWN, NULL, NULL,
                      check);
}

/* The duration the header claims, against the limit: refused before
 * anything is decoded (a lying header can only make it shorter: the
 * streams stop where the data does). */
static int check_duration(mark_media *m)
{
    double sec = m->info.duration;
    int64_t lim = m->ctx->limits[MARK_LIMIT_DURATION];

    if (m->info.type == MARK_MEDIA_AUDIO && m->info.sample_rate > 0 &&
        m->info.frames > 0)
        sec = (double)m->info.frames / m->info.sample_rate;
    else if (m->info.type != MARK_MEDIA_AUDIO &&
             m->info.type != MARK_MEDIA_VIDEO)
        return MARK_OK;
    if (sec > (double)lim)
        return mark__err(m->ctx, MARK_ELIMIT, "%s of %.0f s exceeds the "
                         "duration limit of %lld s",
                         m->info.type == MARK_MEDIA_AUDIO ? "audio"
                                                           : "video",
                         sec, (long long)lim);
    return MARK_OK;
}

/* The common open: data (owned) to parse in memory, in format fmt or
 * (MARK_FORMAT_UNKNOWN) the one sniffed, or src (owned) to stream, with
 * fmt already sniffed from its first bytes (raw: headerless PCM, no
 * sniffing). */
static int media_open(mark_ctx *ctx, mark_media **out, unsigned char *data,
                      size_t len, int fmt, mark__src *src,
                      const mark_raw_format *raw, int check)
{
    mark_media *m;
    int rc;

    if (src != NULL) {
        fmt = raw != NULL ? MARK_FORMAT_WAV : src->fmt;
    } else if (len == 0) {
        mark__free(ctx, data);
        return mark__err(ctx, MARK_EEMPTY, "input is empty");
    } else if (fmt == MARK_FORMAT_UNKNOWN) {
        fmt = mark_sniff(data, len < 16 ? len : 16);
    }
    ctx->last_format = fmt;
    if (fmt == MARK_FORMAT_UNKNOWN) {
        rc = mark__err(ctx, MARK_EUNKNOWN, "not a recognised media "
                       "format (looked at the content, not the name)");
        goto early;
    }
    if (mark__container_for(fmt) == NULL) {
        rc = mark__err(ctx, MARK_EUNSUPPORTED, "%s %s is not supported "
                       "yet", mark_format_name(fmt),
                       mark_media_type_name(formats[fmt].type));
        goto early;
    }
    m = mark__calloc(ctx, 1, sizeof *m);
    if (m == NULL) {
        rc = mark__err(ctx, MARK_ENOMEM, "out of memory");
        goto early;
    }
    m->ctx = ctx;
    m->c = mark__container_for(fmt);
    m->data = data;
    m->len = len;
    m->src = src;
    if (raw != NULL)
        m->raw = *raw;
    m->info.format = fmt;
    m->info.type = formats[fmt].type;
    m->video.crf = -1;
    m->info.bytes = src != NULL ? src->size : (int64_t)len;
    m->problems = mark__problems_new(ctx);
    if (m->problems == NULL) {
        rc = mark__err(ctx, MARK_ENOMEM, "out of memory");
        goto fail;
    }
    rc = m->c->parse(m);
    if (rc < 0)
        goto fail;
    rc = check_duration(m);
    if (rc < 0)
        goto fail;
    if (m->n_found > 1) {
        rc = mark__problem_add(m->problems, MARK_SEV_ERROR, "duplicate", -1,
                               "%zu metadata labels found: a file must "
                               "carry exactly one", m->n_found);
        if (rc < 0)
            goto fail;
    }
    /* a label this toolkit drew is checked now, while the media is at
     * hand: only files carrying our record pay for the decoding */
    m->explicit_res = mark__calloc(ctx, 1, sizeof *m->explicit_res);
    if (m->explicit_res == NULL) {
        rc = mark__err(ctx, MARK_ENOMEM, "out of memory");
        goto fail;
    }
    /* audio is looked at when needed (mark__explicit_ensure) */
    if (m->info.type == MARK_MEDIA_TEXT && m->c->explicit_check == NULL) {
        snprintf(m->explicit_res->note, sizeof m->explicit_res->note,
                 "not looked for in documents yet");
        m->explicit_res->state = 2;
    } else if (check && m->c->explicit_check == NULL) {
        rc = mark__visible_check(m, m->explicit_res);
        if (rc < 0)
            goto fail;
        m->explicit_res->state = 2;
    }
    *out = m;
    return MARK_OK;
fail:
    mark_media_free(m);
    return rc;
early:
    mark__free(ctx, data);
    if (src != NULL) {
        mark__src_close(src);
        mark__free(ctx, src);
    }
    return rc;
}

static int media_from_data(mark_ctx *ctx, mark_media **out,
                           unsigned char *data, size_t len, int fmt)
{
    return media_open(ctx, out, data, len, fmt, NULL, NULL, 1);
}

static int too_big(mark_ctx *ctx, uint64_t n)
{
    return n > (uint64_t)ctx->limits[MARK_LIMIT_INPUT_BYTES];
}

/* src (allocated by ctx, owned from here) has just been opened: sniff
 * its first bytes; a streamed format keeps src, any other is read whole
 * (bounded by the input limit). */
static int open_src(mark_ctx *ctx, mark_media **out, mark__src *src,
                    int hint)
{
    unsigned char head[16];
    const mark__container *c;
    mark__buf b;
    int64_t n = 0;
    int rc, fmt = ctx->format;

    /* text in another encoding cannot be recognised by its bytes */
    if (fmt == MARK_FORMAT_UNKNOWN && ctx->encoding[0] != '\0')
        fmt = hint == MARK_FORMAT_MARKDOWN ? MARK_FORMAT_MARKDOWN
                                           : MARK_FORMAT_TEXT;
    if (fmt == MARK_FORMAT_UNKNOWN) {
        n = mark__src_read_full(src, head, sizeof head);
        if (n < 0) {
            rc = (int)n;
            goto fail;
        }
        fmt = mark_sniff(head, (size_t)n);
        if (hint == MARK_FORMAT_MARKDOWN && fmt == MARK_FORMAT_TEXT)
            fmt = MARK_FORMAT_MARKDOWN;
        else if (hint == MARK_FORMAT_TEXT && fmt == MARK_FORMAT_MARKDOWN)
            fmt = MARK_FORMAT_TEXT;     /* a .txt stays plain */
        else if (hint < 0 && (fmt == MARK_FORMAT_TEXT ||
                              fmt == MARK_FORMAT_MARKDOWN)) {
            /* named as other media: text there is a mistake */
            rc = mark__err(ctx, MARK_EUNKNOWN, "not a recognised media "
                           "format (looked at the content, not the name)");
            goto fail;
        } else if (hint > 0 && fmt == MARK_FORMAT_UNKNOWN)
            fmt = hint;                 /* the text reader says what is
                                           wrong with it */
    }
    c = mark__container_for(fmt);
    if (c != NULL && c->stream != NULL) {
        src->fmt = fmt;
        ctx->last_format = fmt;
        if (src->seekable) {
            rc = mark__src_seek(src, 0);
        } else {
            /* a pipe: the bytes read are handed out again first */
            src->ahead = mark__malloc(ctx, (size_t)n);
            rc = src->ahead == NULL ? mark__err(ctx, MARK_ENOMEM, "out of "
                                                "memory")
                                    : MARK_OK;
            if (rc == MARK_OK) {
                memcpy(src->ahead, head, (size_t)n);
                src->ahead_len = (size_t)n;
                src->ahead_off = 0;
                src->pos = 0;
            }
        }
        if (rc < 0)
            goto fail;
        return media_open(ctx, out, NULL, 0, fmt, src, NULL, 1);
    }
    if (src->size >= 0 && too_big(ctx, (uint64_t)src->size)) {
        rc = mark__err(ctx, MARK_ELIMIT, "file of %lld bytes exceeds the "
                       "limit of %lld bytes", (long long)src->size,
                       (long long)ctx->limits[MARK_LIMIT_INPUT_BYTES]);
        goto fail;
    }
    mark__buf_init(&b, ctx);
    rc = mark__buf_reserve(&b, src->size > 0 ? (size_t)src->size + 1
                                             : 65536);
    if (rc == MARK_OK)
        rc = mark__buf_put(&b, head, (size_t)n);
    while (rc == MARK_OK) {
        rc = mark__buf_reserve(&b, 65536);
        if (rc < 0)
            break;
        n = mark__src_read(src, b.data + b.len, 65536);
        if (n <= 0) {
            rc = n < 0 ? (int)n : MARK_OK;
            break;
        }
        b.len += (size_t)n;
        if (too_big(ctx, b.len))
            rc = mark__err(ctx, MARK_ELIMIT, "input exceeds the limit of "
                           "%lld bytes",
                           (long long)ctx->limits[MARK_LIMIT_INPUT_BYTES]);
    }
    if (rc == MARK_ENOMEM)
        mark__err(ctx, MARK_ENOMEM, "out of memory");
    mark__src_close(src);
    mark__free(ctx, src);
    if (rc < 0) {
        mark__buf_free(&b);
        return rc;
    }
    return media_from_data(ctx, out, b.data, b.len, fmt);
fail:
    mark__src_close(src);
    mark__free(ctx, src);
    return rc;
}

static mark__src *new_src(mark_ctx *ctx)
{
    mark__src *s = mark__malloc(ctx, sizeof *s);

    if (s != NULL)
        mark__src_init(s, ctx);
    else
        mark__err(ctx, MARK_ENOMEM, "out of memory");
    return s;
}

int mark_media_open_buffer(mark_ctx *ctx, mark_media **out, const void *buf,
                           size_t len)
{
    const mark__container *c;
    unsigned char *copy;
    mark__src *s;

    if (out == NULL)
        return MARK_EINVAL;
    *out = NULL;
    if (ctx == NULL || (buf == NULL && len))
        return MARK_EINVAL;
    ctx->last_format = MARK_FORMAT_UNKNOWN;
    if (too_big(ctx, len))
        return mark__err(ctx, MARK_ELIMIT, "input of %zu bytes exceeds the "
                         "limit of %lld bytes", len,
                         (long long)ctx->limits[MARK_LIMIT_INPUT_BYTES]);
    copy = mark__malloc(ctx, len ? len : 1);
    if (copy == NULL)
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    if (len)
        memcpy(copy, buf, len);
    c = mark__container_for(ctx->format != MARK_FORMAT_UNKNOWN
                            ? ctx->format
                            : mark_sniff(copy, len < 16 ? len : 16));
    if ((c == NULL || c->stream == NULL) && ctx->encoding[0] == '\0')
        return media_from_data(ctx, out, copy, len, ctx->format);
    s = new_src(ctx);
    if (s == NULL) {
        mark__free(ctx, copy);
        return MARK_ENOMEM;
    }
    s->mem = copy;
    s->mem_len = len;
    s->own_mem = 1;
    s->seekable = 1;
    s->size = (int64_t)len;
    return open_src(ctx, out, s, MARK_FORMAT_UNKNOWN);
}

int mark_media_open_io(mark_ctx *ctx, mark_media **out, const mark_io *io,
                       void *user)
{
    mark__src *s;

    if (out == NULL)
        return MARK_EINVAL;
    *out = NULL;
    if (ctx == NULL || io == NULL || io->read == NULL)
        return MARK_EINVAL;
    ctx->last_format = MARK_FORMAT_UNKNOWN;
    s = new_src(ctx);
    if (s == NULL)
        return MARK_ENOMEM;
    s->io = io;
    s->user = user;
    s->size = io->size != NULL ? io->size(user) : -1;
    s->seekable = io->seek != NULL && s->size >= 0;
    return open_src(ctx, out, s, MARK_FORMAT_UNKNOWN);
}

int mark_media_open_raw(mark_ctx *ctx, mark_media **out, const mark_io *io,
                        void *user, const mark_raw_format *f)
{
    mark__src *s;

    if (out == NULL)
        return MARK_EINVAL;
    *out = NULL;
    if (ctx == NULL || io == NULL || io->read == NULL || f == NULL)
        return MARK_EINVAL;
    ctx->last_format = MARK_FORMAT_WAV;
    s = new_src(ctx);
    if (s == NULL)
        return MARK_ENOMEM;
    s->io = io;
    s->user = user;
    s->size = -1;
    return media_open(ctx, out, NULL, 0, MARK_FORMAT_WAV, s, f, 1);
}

/* What a file's name says about text: MARK_FORMAT_MARKDOWN or
 * MARK_FORMAT_TEXT for text endings, -1 for the ending of other media,
 * else MARK_FORMAT_UNKNOWN. */
static int name_hint(const char *path)
{
    static const char *const other[] = {
        "png", "jpg", "jpeg", "jpe", "gif", "webp", "tif", "tiff", "bmp",
        "heic", "heif", "avif", "wav", "flac", "ogg", "oga", "opus", "mp3",
        "mp4", "m4a", "mov", "mkv", "webm", "pdf", "zip", "docx", "xlsx",
        "pptx"
    };
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash != NULL ? slash : path, '.');
    size_t i;

    if (dot == NULL)
        return MARK_FORMAT_UNKNOWN;
    dot++;
    if (strcasecmp(dot, "md") == 0 || strcasecmp(dot, "markdown") == 0 ||
        strcasecmp(dot, "mdown") == 0)
        return MARK_FORMAT_MARKDOWN;
    if (strcasecmp(dot, "txt") == 0 || strcasecmp(dot, "text") == 0)
        return MARK_FORMAT_TEXT;
    for (i = 0; i < sizeof other / sizeof other[0]; i++)
        if (strcasecmp(dot, other[i]) == 0)
            return -1;
    return MARK_FORMAT_UNKNOWN;
}

int mark_media_open_file(mark_ctx *ctx, mark_media **out, const char *path)
{
    struct stat st;
    mark__src *s;
    int fd, rc;

    if (out == NULL)
        return MARK_EINVAL;
    *out = NULL;
    if (ctx == NULL || path == NULL)
        return MARK_EINVAL;
    ctx->last_format = MARK_FORMAT_UNKNOWN;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mark__err(ctx, MARK_EIO, "%s", strerror(errno));
    if (fstat(fd, &st) != 0) {
        rc = mark__err(ctx, MARK_EIO, "%s", strerror(errno));
        close(fd);
        return rc;
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return mark__err(ctx, MARK_EIO, "is a directory");
    }
    s = new_src(ctx);
    if (s == NULL) {
        close(fd);
        return MARK_ENOMEM;
    }
    s->fd = fd;
    s->own_fd = 1;
    s->seekable = S_ISREG(st.st_mode);
    s->size = S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;
    return open_src(ctx, out, s, name_hint(path));
}

int mark_media_orientation(const mark_media *m)
{
    return m != NULL && m->orient >= 1 && m->orient <= 8 ? m->orient : 1;
}

int mark_media_get_info(const mark_media *m, mark_media_info *out)
{
    if (m == NULL || out == NULL)
        return MARK_EINVAL;
    *out = m->info;
    return MARK_OK;
}

int mark__media_add_label(mark_media *m, const char *carrier,
                          const char *location, const char *raw,
                          size_t raw_len)
{
    mark__found *f, *nf;
    mark_problems *lp = NULL;
    int idx, rc;

    if ((int64_t)m->n_found >= m->ctx->limits[MARK_LIMIT_CHUNKS])
        return mark__err(m->ctx, MARK_ELIMIT, "too many labels");
    nf = mark__realloc(m->ctx, m->found, (m->n_found + 1) * sizeof *nf);
    if (nf == NULL)
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    m->found = nf;
    f = &m->found[m->n_found];
    memset(f, 0, sizeof *f);
    idx = (int)m->n_found++;
    f->carrier = mark__strdup(m->ctx, carrier);
    f->location = mark__strdup(m->ctx, location);
    f->raw = mark__strndup(m->ctx, raw, raw_len);
    if (!f->carrier || !f->location || !f->raw)
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    rc = mark_label_parse(m->ctx, raw, raw_len, &f->label, &f->form);
    if (rc == MARK_ENOMEM)
        return rc;
    if (rc < 0) {
        f->form = MARK_FORM_INVALID;
        rc = mark__problem_add(m->problems, MARK_SEV_ERROR, "json", idx,
                               "%s: %s", location, mark_ctx_errmsg(m->ctx));
        return rc < 0 ? rc : idx;
    }
    rc = mark_label_check(m->ctx, f->label, &lp);
    if (rc == MARK_ENOMEM || rc == MARK_EINVAL)
        return rc;
    rc = mark__problems_append(m->problems, lp, idx);
    mark_problems_free(lp);
    return rc < 0 ? rc : idx;
}

size_t mark_media_label_count(const mark_media *m)
{
    return m != NULL ? m->n_found : 0;
}

int mark_media_label_get(const mark_media *m, size_t i, mark_found_label *out)
{
    if (m == NULL || out == NULL || i >= m->n_found)
        return MARK_EINVAL;
    out->carrier = m->found[i].carrier;
    out->location = m->found[i].location;
    out->form = m->found[i].form;
    out->label = m->found[i].label;
    out->raw = m->found[i].raw;
    return MARK_OK;
}

const mark_problems *mark_media_problems(const mark_media *m)
{
    return m != NULL ? m->problems : NULL;
}

int mark_media_set_label(mark_media *m, const mark_label *label)
{
    mark_label *copy;
    int rc;

    if (m == NULL || label == NULL)
        return MARK_EINVAL;
    if (m->info.format == MARK_FORMAT_TEXT)
        return mark__err(m->ctx, MARK_EUNSUPPORTED, "plain text has no "
                         "metadata carrier (Markdown has its front "
                         "matter)");
    rc = mark_label_check(m->ctx, label, NULL);
    if (rc < 0)
        return rc;
    if (read_only(m))
        return refuse_read_only(m);
    rc = mark_label_copy(label, &copy);
    if (rc < 0)
        return rc;
    mark_label_free(m->staged);
    m->staged = copy;
    return MARK_OK;
}

static int detect_audio(mark_media *m, const mark_key *key, int quick);

/* The watermark part of ops: what to embed, if anything. */
static int wm_ops(mark_media *m, mark__pixel_ops *ops)
{
    int rc;

    if (!m->wm.enabled || m->wm_recorded)
        return MARK_OK;
    ops->watermark = 1;
    ops->key = m->wm.key;
    ops->strength = m->wm.strength;
    ops->payload = m->wm.payload;
    if (m->wm.derive) {
        if (m->staged == NULL)
            return mark__err(m->ctx, MARK_EINVAL, "the watermark payload "
                             "comes from the metadata label, and none is "
                             "set: give a payload");
        rc = mark_payload_derive(m->staged, &ops->payload);
        if (rc < 0)
            return rc;
    }
    return MARK_OK;
}

/* The pixel pass (watermark, visible label) into a new file, then the
 * metadata written into that: the pixel step never sees labels, the label
 * step never pixels. */
static int encode_pixels(mark_media *m, mark_visible *v, int audible,
                         mark__buf *out)
{
    mark__pixel_ops ops;
    mark__buf pix;
    mark_media *t = NULL;
    int rc;

    if (m->c->draw == NULL)
        return mark__err(m->ctx, MARK_EUNSUPPORTED, "pixel marks are not "
                         "supported for %s", m->c->name);
    memset(&ops, 0, sizeof ops);
    ops.visible = v;
    ops.audible = audible & MARK_AUDIBLE_BOTH;
    ops.audible_voice = !!(m->audible & MARK_AUDIBLE_VOICE);
    ops.audible_mix = m->audible_mix;
    ops.orient = m->orient;
    rc = wm_ops(m, &ops);
    if (rc < 0)
        return rc;
    mark__buf_init(&pix, m->ctx);
    rc = m->c->draw(m, &ops, &pix);
    if (rc < 0) {
        mark__buf_free(&pix);
        return rc;
    }
    m->wm.skipped = ops.wm_skipped;
    rc = media_parse(m->ctx, &t, pix.data, pix.len, 0);
    if (rc < 0)
        return rc;
    if (m->staged != NULL)
        rc = mark_label_copy(m->staged, &t->staged);
    if (rc == MARK_OK && v != NULL) {
        uint32_t dw, dh;

        /* laid out on the picture as displayed */
        mark__orient_size(t->orient, t->info.width, t->info.height, &dw,
                          &dh);
        rc = mark__visible_record(v, dw, dh, &t->visible_json);
    }
    if (ops.watermark && !ops.wm_skipped && m->info.type == MARK_MEDIA_IMAGE)
        t->wm_json = "img-v1";
    if (rc == MARK_OK)
        rc = t->c->write(t, out);
    mark_media_free(t);
    return rc;
}

/* The audible labels still to add: one already at that end is not
 * added again. */
static int audible_wanted(const mark_media *m)
{
    int audible = m->audible;

    if (audible & MARK_AUDIBLE_BOTH)
        mark__explicit_ensure(m, 0);
    if (audible && m->explicit_res != NULL && m->explicit_res->found) {
        if (strstr(m->explicit_res->position, "start") != NULL)
            audible &= ~MARK_AUDIBLE_START;
        if (strstr(m->explicit_res->position, "end") != NULL)
            audible &= ~MARK_AUDIBLE_END;
    }
    return audible;
}

static int media_encode(mark_media *m, mark__buf *out)
{
    mark_visible *v = m->visible;
    int rc, audible = audible_wanted(m) & MARK_AUDIBLE_BOTH;

    /* a label this toolkit drew is still there (a platform re-marking a
     * labelled file): it is not drawn a second time, and its record stays */
    if (v != NULL && m->explicit_res != NULL && m->explicit_res->found)
        v = NULL;
    /* likewise a watermark this toolkit embedded is not embedded again */
    if (v != NULL || audible || (m->wm.enabled && !m->wm_recorded))
        rc = encode_pixels(m, v, audible, out);
    else
        rc = m->c->write(m, out);
    if (rc < 0)
        mark__buf_free(out);
    return rc;
}

#define EDGE_SECONDS 10.0                /* where labels to add would go */

int mark_media_check_explicit(mark_media *m)
{
    mark__explicit *e;
    int rc;

    if (m == NULL)
        return MARK_EINVAL;
    e = m->explicit_res;
    if (e == NULL || m->c->explicit_check == NULL || e->state >= 2)
        return MARK_OK;
    rc = m->c->explicit_check(m, e, 0);
    if (rc < 0) {
        memset(e, 0, sizeof *e);
        return rc;
    }
    e->state = 2;
    return MARK_OK;
}

void mark__explicit_ensure(const mark_media *m, int whole)
{
    mark__explicit *e = m->explicit_res;
    int rc;

    if (e == NULL || m->c->explicit_check == NULL ||
        e->state >= (whole ? 2 : 1))
        return;
    rc = m->c->explicit_check(m, e, whole ? 0 : EDGE_SECONDS);
    if (rc < 0) {
        memset(e, 0, sizeof *e);
        snprintf(e->note, sizeof e->note, "could not be looked for: %s",
                 mark_ctx_errmsg(m->ctx));
    }
    e->state = whole ? 2 : 1;
}

int mark_media_set_video_options(mark_media *m, const mark_video_options *o)
{
    char *preset = NULL, *encoder = NULL;

    if (m == NULL)
        return MARK_EINVAL;
    if (m->info.type != MARK_MEDIA_VIDEO)
        return mark__err(m->ctx, MARK_EUNSUPPORTED, "video options for %s, "
                         "which is not a video", m->c->name);
    if (o != NULL && (o->crf < -1 || o->crf > 63 ||
                      (o->label_seconds > 0 && o->label_seconds < 2)))
        return mark__err(m->ctx, MARK_EINVAL, "crf wants 0 to 63, the "
                         "label at least 2 s");
    /* the closing frames are found from the video's length: a pipe must
     * say it in its header (refused now, before anything is written) */
    if (o != NULL && o->label_end && o->label_seconds >= 0 &&
        m->src != NULL && !m->src->seekable && !(m->info.duration > 0))
        return mark__err(m->ctx, MARK_EUNSEEKABLE, "the label on the "
                         "closing frames needs the video's length, which "
                         "this pipe does not give: give a file");
    if (o != NULL && ((o->preset != NULL &&
                       (preset = mark__strdup(m->ctx, o->preset)) == NULL) ||
                      (o->encoder != NULL &&
                       (encoder = mark__strdup(m->ctx, o->encoder)) ==
                           NULL))) {
        mark__free(m->ctx, preset);
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    }
    mark__free(m->ctx, (char *)(uintptr_t)m->video.preset);
    mark__free(m->ctx, (char *)(uintptr_t)m->video.encoder);
    memset(&m->video, 0, sizeof m->video);
    m->video.crf = -1;
    if (o != NULL) {
        m->video = *o;
        m->video.preset = preset;
        m->video.encoder = encoder;
    }
    return MARK_OK;
}

int mark_media_set_carrier(mark_media *m, const char *carrier)
{
    if (m == NULL)
        return MARK_EINVAL;
    if (read_only(m))
        return refuse_read_only(m);
    if (carrier == NULL || carrier[0] == '\0' ||
        (m->info.format == MARK_FORMAT_WAV &&
         (strcmp(carrier, "wav-chunk") == 0 ||
          strcmp(carrier, "wav-info") == 0))) {
        snprintf(m->carrier, sizeof m->carrier, "%s",
                 carrier != NULL ? carrier : "");
        return MARK_OK;
    }
    return mark__err(m->ctx, MARK_EUNSUPPORTED, "%s cannot write the "
                     "carrier '%s'", m->c->name, carrier);
}

int mark_media_set_audible(mark_media *m, int where, int mix)
{
    if (m == NULL || where < MARK_AUDIBLE_NONE ||
        where > (MARK_AUDIBLE_BOTH | MARK_AUDIBLE_VOICE) ||
        (mix != MARK_AUDIBLE_OVERLAY && mix != MARK_AUDIBLE_EXTEND))
        return MARK_EINVAL;
    if (m->info.type != MARK_MEDIA_AUDIO ||
        (m->c->draw == NULL && m->c->stream == NULL))
        return mark__err(m->ctx, MARK_EUNSUPPORTED, "audible labels are "
                         "for audio, not %s", m->c->name);
    m->audible = where;
    m->audible_mix = mix;
    return MARK_OK;
}

int mark_media_set_text_label(mark_media *m, int where, const char *text,
                              unsigned flags)
{
    char why[512], *copy = NULL;
    int rc;

    if (m == NULL || where < MARK_TEXT_LABEL_NONE ||
        where > MARK_TEXT_LABEL_BOTH)
        return MARK_EINVAL;
    if (m->info.type != MARK_MEDIA_TEXT || m->c->stream == NULL)
        return mark__err(m->ctx, MARK_EUNSUPPORTED, "text labels are for "
                         "text, not %s", m->c->name);
    if (text == NULL)
        text = MARK_TEXT_LABEL_DEFAULT;
    if (text[0] == '\0' || strpbrk(text, "\r\n") != NULL)
        return mark__err(m->ctx, MARK_EINVAL, "a text label is one "
                         "non-empty line");
    if (strlen(text) > 200)
        return mark__err(m->ctx, MARK_EINVAL, "a text label is at most "
                         "200 bytes");
    rc = mark_explicit_text_check(text, why, sizeof why);
    if (rc < 0 && !(flags & MARK_TEXT_FORCE))
        return mark__err(m->ctx, rc, "%s", why);
    copy = mark__strdup(m->ctx, text);
    if (copy == NULL)
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    mark__free(m->ctx, m->text_label);
    m->text_label = copy;
    m->text_where = where;
    return MARK_OK;
}

int mark_media_set_watermark(mark_media *m, const mark_key *key,
                             const mark_payload *payload, double strength)
{
    mark_key *k = NULL;
    int rc;

    if (m == NULL || !(strength >= 0.25 && strength <= 4.0))
        return MARK_EINVAL;
    if (read_only(m))
        return refuse_read_only(m);
    if (m->info.type == MARK_MEDIA_IMAGE ? m->c->draw == NULL
        : m->info.type == MARK_MEDIA_TEXT ? m->c->stream == NULL
                                          : m->c->pcm == NULL)
        return mark__err(m->ctx, MARK_EUNSUPPORTED, "watermarks are not "
                         "supported for %s yet", m->c->name);
    if (key == NULL)
        rc = mark_key_default(m->ctx, &k);
    else
        rc = mark__key_copy(m->ctx, key, &k);
    if (rc < 0)
        return rc;
    mark_key_free(m->wm.key);
    m->wm.key = k;
    m->wm.enabled = 1;
    m->wm.strength = strength;
    m->wm.derive = payload == NULL;
    if (payload != NULL)
        m->wm.payload = *payload;
    /* audio says in its samples whether it carries our watermark (a
     * platform re-marking a marked file): that one is kept, not embedded
     * again.  Looked for only where a metadata label says the file was
     * marked before (fresh output, the common case, is not searched); a
     * pipe cannot be read twice, and is marked. */
    if (m->info.type == MARK_MEDIA_AUDIO && m->n_found > 0 &&
        (m->src == NULL || m->src->seekable)) {
        rc = detect_audio(m, k, 1);
        if (rc < 0)
            return rc;
        m->wm_recorded = m->wm.found;
        m->wm.detected = 0;             /* verify still looks in full */
    }
    /* text read whole is searched the same way (fast); a pipe is not */
    if (m->info.type == MARK_MEDIA_TEXT) {
        rc = mark__text_has_watermark(m, k);
        if (rc < 0)
            return rc;
        m->wm_recorded = rc;
    }
    return MARK_OK;
}

int mark_media_watermark_skipped(const mark_media *m)
{
    if (m == NULL || !m->wm.enabled)
        return 0;
    if (m->wm_recorded)
        return 2;
    return m->wm.skipped == MARK__WM_COARSE ? 3 : m->wm.skipped ? 1 : 0;
}

/* A detector's finding into the media's watermark state. */
static void wm_found(mark__wm_state *st, const mark__wm_result *r)
{
    st->detected = 1;
    st->found = r->found;
    st->found_payload = r->payload;
    st->score = r->score;
    st->candidates = r->candidates;
    st->t_start = r->t_start;
    st->t_end = r->t_end;
    st->tempo = r->tempo;
    st->speed = r->speed;
    /* the version found (audio says it; NULL: the medium's) */
    st->scheme = r->found ? r->scheme : NULL;
}

static int take_samples(void *u, const float *x, size_t frames)
{
    return mark__audwm_in_feed(u, x, frames);
}

/* The audio watermark in the first MARK__AUDWM_MAX_SECONDS (quick: as
 * embedded, in the first 30 s). */
static int detect_audio(mark_media *m, const mark_key *key, int quick)
{
    mark__wm_result r;
    mark__audwm_in *d = NULL;
    int rc;

    if (m->info.sample_rate == 0 || m->info.channels == 0)
        return mark__err(m->ctx, MARK_EUNSUPPORTED, "no samples to look "
                         "in");
    rc = mark__audwm_in_new(m->ctx, m->info.sample_rate,
                            (int)m->info.channels, quick, &d);
    if (rc == MARK_OK)
        rc = m->c->pcm(m, take_samples, d);
    if (rc == MARK_EUNSEEKABLE && !quick && m->c->pcm_fed != NULL) {
        /* a pipe read through already: the samples it gave then */
        mark__audwm_in *fed = m->c->pcm_fed(m);

        if (fed != NULL) {
            mark__audwm_in_free(d);
            d = fed;
            rc = MARK_OK;
        }
    }
    if (rc == MARK_OK)
        rc = mark__audwm_in_detect(d, key, &r);
    mark__audwm_in_free(d);
    if (rc == MARK_EUNSUPPORTED) {
        m->wm.note = "these samples cannot be decoded here";
        return MARK_OK;
    }
    if (rc == MARK_EUNSEEKABLE) {
        /* a pipe read through already (for the audible label) */
        m->wm.note = "the samples of a pipe are read once, and were read "
                     "for the audible label: save the stream to a file to "
                     "look for the watermark";
        return MARK_OK;
    }
    if (rc < 0)
        return rc;
    wm_found(&m->wm, &r);
    return MARK_OK;
}

int mark_media_detect_watermark(mark_media *m, const mark_key *key,
                                mark_watermark_info *out)
{
    mark_key *dk = NULL;
    mark__image img;
    uint32_t rx, ry;
    int rc;

    if (m == NULL)
        return MARK_EINVAL;
    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (m->info.type == MARK_MEDIA_IMAGE ? m->c->pixels == NULL
        : m->info.type == MARK_MEDIA_TEXT ? m->c->stream == NULL
                                          : m->c->pcm == NULL) {
        if (out != NULL)
            out->matches_metadata = -1;
        return MARK_OK;
    }

    if (key == NULL) {
        rc = mark_key_default(m->ctx, &dk);
        if (rc < 0)
            return rc;
        key = dk;
    }
    rc = MARK_EUNSUPPORTED;
    m->wm.scheme = NULL;
    if (m->info.type == MARK_MEDIA_TEXT) {
        rc = mark__text_detect(m, key);
        mark_key_free(dk);
        if (rc < 0)
            return rc;
        if (out != NULL)
            mark__watermark_info(m, out);
        return MARK_OK;
    }
    if (m->info.type == MARK_MEDIA_VIDEO) {
        mark__wm_result r;

        /* the frames first; the soundtrack when they have nothing */
        rc = mark__video_frames_detect(m, key, &r);
        if (rc == MARK_OK && r.found) {
            r.tempo = 1;
            r.speed = 0;
            wm_found(&m->wm, &r);
            m->wm.scheme = "vid-v1";
        } else if (rc == MARK_OK || rc == MARK_EUNSUPPORTED) {
            rc = m->info.sample_rate > 0 ? detect_audio(m, key, 0)
                                         : MARK_OK;
            if (rc == MARK_OK && !m->wm.detected &&
                m->wm.note == NULL) {
                m->wm.detected = 1;      /* frames looked at, no sound */
                m->wm.found = 0;
                m->wm.scheme = "vid-v1";
            }
        }
    } else if (m->info.type != MARK_MEDIA_IMAGE) {
        rc = detect_audio(m, key, 0);
    } else if (m->c->luma != NULL) {
        float *luma = NULL;

        rc = m->c->luma(m, &luma);
        if (rc == MARK_OK)
            rc = mark__detect_luma(m->ctx, key, luma, m->info.width,
                                   m->info.height, &m->wm);
        mark__plane_free(m->ctx, luma, sizeof(float) * m->info.width *
                                       m->info.height);
    }
    if (rc == MARK_EUNSUPPORTED && m->info.type == MARK_MEDIA_IMAGE) {
        rc = m->c->pixels(m, 0, 0, m->info.width, m->info.height, &img,
                          &rx, &ry);
        if (rc == MARK_OK) {
            rc = mark__detect_image(m->ctx, key, &img, &m->wm);
            mark__image_free(m->ctx, &img);
        }
    }
    mark_key_free(dk);
    if (rc < 0)
        return rc;
    if (out != NULL)
        mark__watermark_info(m, out);
    return MARK_OK;
}

int mark_media_set_visible(mark_media *m, mark_visible *v)
{
    if (m == NULL)
        return MARK_EINVAL;
    if (v != NULL && read_only(m))
        return refuse_read_only(m);
    if (v != NULL && m->info.type != MARK_MEDIA_VIDEO &&
        (m->c->draw == NULL || m->info.type != MARK_MEDIA_IMAGE))
        return mark__err(m->ctx, MARK_EUNSUPPORTED, "visible labels are "
                         "not supported for %s", m->c->name);
    m->visible = v;
    return MARK_OK;
}

/* The save into a sink: streamed media straight through it, the rest
 * built in memory first. */
static int media_save(mark_media *m, mark__sink *k)
{
    mark__pixel_ops ops;
    mark__buf b;
    int rc;

    if (read_only(m))
        return refuse_read_only(m);
    if (m->c->stream != NULL) {
        mark_visible *keep = m->visible;

        /* a video label this toolkit drew is still on the opening frames:
         * not drawn a second time, its record stays (as for images);
         * also when the closing frames it was drawn on are gone */
        if (m->visible != NULL && m->visible_record != NULL) {
            mark__explicit_ensure(m, 1);
            if (m->explicit_res != NULL && m->explicit_res->found)
                m->visible = NULL;
        }
        memset(&ops, 0, sizeof ops);
        ops.audible = audible_wanted(m) & MARK_AUDIBLE_BOTH;
        ops.audible_voice = !!(m->audible & MARK_AUDIBLE_VOICE);
        ops.audible_mix = m->audible_mix;
        rc = wm_ops(m, &ops);
        if (rc == MARK_OK)
            rc = m->c->stream(m, &ops, k);
        m->wm.skipped = ops.wm_skipped;
        m->visible = keep;
        return rc;
    }
    mark__buf_init(&b, m->ctx);
    rc = media_encode(m, &b);
    if (rc == MARK_OK)
        rc = mark__sink_write(k, b.data, b.len);
    mark__buf_free(&b);
    return rc;
}

static void sink_init(mark__sink *k, mark_ctx *ctx)
{
    memset(k, 0, sizeof *k);
    k->ctx = ctx;
    k->fd = -1;
}

int mark_media_save_buffer(mark_media *m, void **out, size_t *len)
{
    mark__sink k;
    mark__buf b;
    int rc;

    if (m == NULL || out == NULL || len == NULL)
        return MARK_EINVAL;
    *out = NULL;
    *len = 0;
    mark__buf_init(&b, m->ctx);
    sink_init(&k, m->ctx);
    k.buf = &b;
    k.seekable = 1;
    rc = media_save(m, &k);
    if (rc < 0) {
        mark__buf_free(&b);
        return rc;
    }
    *out = b.data;
    *len = b.len;
    return MARK_OK;
}

int mark_media_save_io(mark_media *m, const mark_io *io, void *user)
{
    mark__sink k;

    if (m == NULL || io == NULL || io->write == NULL)
        return MARK_EINVAL;
    sink_init(&k, m->ctx);
    k.io = io;
    k.user = user;
    k.seekable = io->seek != NULL;
    return media_save(m, &k);
}

/* Make a temporary file beside path; *tmp receives its name. */
static int make_temp(mark_ctx *ctx, const char *path, char *tmp, size_t cap)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash != NULL ? (size_t)(slash - path) + 1 : 0;
    unsigned char r[6];
    int tries, fd;

    for (tries = 0; tries < 100; tries++) {
        if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
            return mark__err(ctx, MARK_EIO, "no random source for a "
                             "temporary name");
        if (snprintf(tmp, cap, "%.*s.%s.%02x%02x%02x%02x%02x%02x.tmp",
                     (int)dirlen, path, path + dirlen, r[0], r[1], r[2],
                     r[3], r[4], r[5]) >= (int)cap)
            return mark__err(ctx, MARK_EINVAL, "output path too long");
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0)
            return fd;
        if (errno != EEXIST)
            return mark__err(ctx, MARK_EIO, "cannot create a temporary "
                             "file beside '%s': %s", path, strerror(errno));
    }
    return mark__err(ctx, MARK_EIO, "cannot find a free temporary name");
}

static void sync_dir(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    int fd;

    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* No-clobber rename, even if path appeared since it was checked; file
 * systems without RENAME_NOREPLACE get link + unlink, which is as safe. */
static int rename_noreplace(const char *from, const char *to)
{
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    if (link(from, to) != 0)
        return -1;
    unlink(from);
    return 0;
}

int mark_media_save_file(mark_media *m, const char *path, unsigned flags)
{
    char tmp[PATH_MAX];
    struct stat st;
    mark__sink k;
    int fd, rc, have_old;

    if (m == NULL || path == NULL || path[0] == '\0')
        return MARK_EINVAL;
    have_old = stat(path, &st) == 0;
    if (have_old && !(flags & MARK_SAVE_OVERWRITE))
        return mark__err(m->ctx, MARK_EEXIST, "output exists (not "
                         "overwritten)");
    if (have_old && !S_ISREG(st.st_mode))
        return mark__err(m->ctx, MARK_EIO, "output exists and is not a "
                         "regular file");
    fd = make_temp(m->ctx, path, tmp, sizeof tmp);
    if (fd < 0)
        return fd;
    sink_init(&k, m->ctx);
    k.fd = fd;
    k.seekable = 1;
    rc = media_save(m, &k);
    if (rc < 0)
        goto fail;
    if (fsync(fd) != 0) {
        rc = mark__err(m->ctx, MARK_EIO, "cannot write: %s",
                       strerror(errno));
        goto fail;
    }
    /* a file replaced in place keeps its permissions */
    if (have_old && fchmod(fd, st.st_mode & 07777) != 0) {
        rc = mark__err(m->ctx, MARK_EIO, "cannot set permissions: %s",
                       strerror(errno));
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = mark__err(m->ctx, MARK_EIO, "cannot write: %s",
                       strerror(errno));
        goto fail;
    }
    fd = -1;
    if (flags & MARK_SAVE_OVERWRITE)
        rc = rename(tmp, path);
    else
        rc = rename_noreplace(tmp, path);
    if (rc != 0) {
        rc = mark__err(m->ctx, errno == EEXIST ? MARK_EEXIST : MARK_EIO,
                       "cannot rename the temporary file into place: %s",
                       strerror(errno));
        goto fail;
    }
    sync_dir(path);
    return MARK_OK;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return rc;
}
