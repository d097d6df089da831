/*
 * flac.c - FLAC (native FLAC, not Ogg FLAC): the metadata label as a
 * Vorbis comment, and the rhythm label in the samples.
 *
 * Carrier read: every comment "AIGC=<json>" in a VORBIS_COMMENT block
 * (field names compare without regard to case, as Vorbis comments ask),
 * each one a label.  Written: exactly one, in the first VORBIS_COMMENT
 * block (one is added after STREAMINFO when there is none), every other
 * AIGC comment removed; the vendor string, the other comments and every
 * other block stay as they are.
 *
 * Reading is our own walk over the metadata blocks (a 4-byte header
 * each: last-block flag, type, 24-bit length), bounded by the ctx limits,
 * so that hostile input meets code we can fuzz.  Writing goes through
 * libFLAC's level-2 metadata interface, a chain read and written over
 * memory callbacks: when a PADDING block has room the metadata is
 * rewritten in place, else the file is rebuilt; either way the audio
 * frames are copied byte for byte.
 *
 * The rhythm label needs new samples: libsndfile decodes the frames and
 * encodes the marked samples as FLAC of the same rate, channels and bits
 * (8, 16 or 24), a block at a time; the input's metadata blocks other
 * than STREAMINFO and SEEKTABLE (whose frame offsets no longer hold) are
 * then carried into the new file, CUESHEET too unless the length
 * changed.  The samples cross libsndfile as integers: its float path
 * scales by 0x7fff on the way out but 0x8000 on the way in, which would
 * change every sample; as integers the content outside the label's
 * windows comes out identical.  The encoded file is built in memory, as
 * the media object holds its input there anyway.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <FLAC/metadata.h>
#include <sndfile.h>

#include "internal.h"
#include "signal/signal.h"

#define BLOCK 4096                      /* frames per conversion block */
#define LEVEL_SPAN 3                    /* s of content an added label
                                           takes its level from */
#define CARRIER "flac-vorbis-comment"

enum block_type {
    T_STREAMINFO = 0, T_PADDING, T_APPLICATION, T_SEEKTABLE, T_COMMENT,
    T_CUESHEET, T_PICTURE, T_INVALID = 127
};

typedef struct flac_priv {
    size_t audio_at;                    /* offset of the first frame */
    uint32_t rate;                      /* from STREAMINFO */
    int channels;
    int bits;                           /* per sample, 4 to 32 */
    uint64_t total;                     /* frames, 0 unknown */
} flac_priv;

/* A file in memory behind libFLAC's and libsndfile's I/O callbacks:
 * read from data, or (b not NULL) read and written in b, which grows. */
typedef struct memio {
    const unsigned char *data;          /* read-only contents */
    size_t len;
    mark__buf *b;                       /* writable contents, or NULL */
    size_t pos;
    int nomem;                          /* a write could not grow b */
    SF_VIRTUAL_IO vio;                  /* libsndfile's view of it */
} memio;

static const unsigned char *mem_data(const memio *io, size_t *len)
{
    if (io->b != NULL) {
        *len = io->b->len;
        return io->b->data;
    }
    *len = io->len;
    return io->data;
}

static size_t mem_read(memio *io, void *p, size_t n)
{
    size_t len;
    const unsigned char *d = mem_data(io, &len);

    if (io->pos >= len || n == 0)
        return 0;
    if (n > len - io->pos)
        n = len - io->pos;
    memcpy(p, d + io->pos, n);
    io->pos += n;
    return n;
}

static size_t mem_write(memio *io, const void *p, size_t n)
{
    mark__buf *b = io->b;

    if (b == NULL || n == 0 || n > SIZE_MAX - io->pos)
        return 0;
    if (io->pos + n > b->len) {
        if (mark__buf_reserve(b, io->pos + n - b->len) < 0) {
            io->nomem = 1;
            return 0;
        }
        if (io->pos > b->len)           /* a seek past the end */
            memset(b->data + b->len, 0, io->pos - b->len);
        b->len = io->pos + n;
    }
    memcpy(b->data + io->pos, p, n);
    io->pos += n;
    return n;
}

static int mem_seek(memio *io, int64_t off, int whence)
{
    size_t len;
    int64_t base;

    mem_data(io, &len);
    if (whence == SEEK_SET)
        base = 0;
    else if (whence == SEEK_CUR)
        base = (int64_t)io->pos;
    else if (whence == SEEK_END)
        base = (int64_t)len;
    else
        return -1;
    if (off < -base || off > INT64_MAX - base)
        return -1;
    io->pos = (size_t)(base + off);
    return 0;
}

/* libFLAC's callbacks (stdio semantics: counts of records). */
static size_t io_read(void *p, size_t size, size_t n, FLAC__IOHandle h)
{
    if (size == 0 || n == 0)
        return 0;
    if (n > SIZE_MAX / size)
        n = SIZE_MAX / size;
    return mem_read(h, p, size * n) / size;
}

static size_t io_write(const void *p, size_t size, size_t n,
                       FLAC__IOHandle h)
{
    if (size == 0 || n == 0 || n > SIZE_MAX / size)
        return 0;
    return mem_write(h, p, size * n) / size;
}

static int io_seek(FLAC__IOHandle h, FLAC__int64 off, int whence)
{
    return mem_seek(h, off, whence);
}

static FLAC__int64 io_tell(FLAC__IOHandle h)
{
    return (FLAC__int64)((memio *)h)->pos;
}

static int io_eof(FLAC__IOHandle h)
{
    memio *io = h;
    size_t len;

    mem_data(io, &len);
    return io->pos >= len;
}

static const FLAC__IOCallbacks io_cb = {
    .read = io_read, .write = io_write, .seek = io_seek, .tell = io_tell,
    .eof = io_eof,
};

/* libsndfile's callbacks. */
static sf_count_t vio_len(void *u)
{
    size_t len;

    mem_data(u, &len);
    return (sf_count_t)len;
}

static sf_count_t vio_seek(sf_count_t off, int whence, void *u)
{
    memio *io = u;

    return mem_seek(io, off, whence) < 0 ? -1 : (sf_count_t)io->pos;
}

static sf_count_t vio_read(void *p, sf_count_t n, void *u)
{
    return n <= 0 ? 0 : (sf_count_t)mem_read(u, p, (size_t)n);
}

static sf_count_t vio_write(const void *p, sf_count_t n, void *u)
{
    return n <= 0 ? 0 : (sf_count_t)mem_write(u, p, (size_t)n);
}

static sf_count_t vio_tell(void *u)
{
    return (sf_count_t)((memio *)u)->pos;
}

static void memio_init(memio *io, const unsigned char *data, size_t len,
                       mark__buf *b)
{
    memset(io, 0, sizeof *io);
    io->data = data;
    io->len = len;
    io->b = b;
    io->vio.get_filelen = vio_len;
    io->vio.seek = vio_seek;
    io->vio.read = vio_read;
    io->vio.write = vio_write;
    io->vio.tell = vio_tell;
}

static uint32_t be24(const unsigned char *p)
{
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | (uint32_t)p[2];
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static const char *block_name(int type)
{
    static const char *const names[] = {
        "STREAMINFO", "PADDING", "APPLICATION", "SEEKTABLE",
        "VORBIS_COMMENT", "CUESHEET", "PICTURE"
    };

    return type >= 0 && type <= T_PICTURE ? names[type] : "reserved";
}

/* A VORBIS_COMMENT block's body: vendor string, then counted comments,
 * each a little-endian length and "NAME=value". */
static int scan_comments(mark_media *m, const unsigned char *d, size_t len,
                         size_t index)
{
    size_t q, i, count;
    uint32_t n;
    int rc;

    if (len < 8 || le32(d) > len - 8)
        return mark__err(m->ctx, MARK_EFORMAT, "FLAC VORBIS_COMMENT block "
                         "%zu: the vendor string runs past the block",
                         index);
    q = 4 + (size_t)le32(d);
    count = le32(d + q);
    q += 4;
    for (i = 0; i < count; i++) {
        if (len - q < 4 || (n = le32(d + q)) > len - q - 4)
            return mark__err(m->ctx, MARK_EFORMAT, "FLAC VORBIS_COMMENT "
                             "block %zu: comment %zu of %zu runs past the "
                             "block", index, i + 1, count);
        q += 4;
        if (mark__is_aigc_comment(d + q, n)) {
            rc = mark__media_add_label(m, CARRIER,
                                       "FLAC Vorbis comment 'AIGC'",
                                       (const char *)d + q + 5,
                                       mark__value_len(d + q + 5, n - 5));
            if (rc < 0)
                return rc;
        }
        q += n;
    }
    return MARK_OK;
}

static int streaminfo(mark_media *m, flac_priv *fp, const unsigned char *s)
{
    fp->rate = (uint32_t)s[10] << 12 | (uint32_t)s[11] << 4 |
               (uint32_t)s[12] >> 4;
    fp->channels = ((s[12] >> 1) & 7) + 1;
    fp->bits = ((s[12] & 1) << 4 | s[13] >> 4) + 1;
    fp->total = (uint64_t)(s[13] & 15) << 32 | (uint64_t)s[14] << 24 |
                (uint64_t)s[15] << 16 | (uint64_t)s[16] << 8 | s[17];
    if (fp->rate == 0)
        return mark__err(m->ctx, MARK_EFORMAT, "FLAC STREAMINFO gives a "
                         "sample rate of 0");
    if (fp->bits < 4)
        return mark__err(m->ctx, MARK_EFORMAT, "FLAC STREAMINFO gives %d "
                         "bits a sample", fp->bits);
    m->info.sample_rate = fp->rate;
    m->info.channels = fp->channels;
    m->info.bit_depth = fp->bits;
    m->info.frames = (int64_t)fp->total;
    return MARK_OK;
}

static int flac_parse(mark_media *m)
{
    const unsigned char *d = m->data;
    const int64_t *lim = m->ctx->limits;
    uint64_t meta = 0;
    size_t p = 4, n = 0;
    flac_priv *fp;
    int last = 0, rc = MARK_OK;

    fp = mark__calloc(m->ctx, 1, sizeof *fp);
    if (fp == NULL)
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    m->priv = fp;
    if (m->len < 4 || memcmp(d, "fLaC", 4) != 0)
        return mark__err(m->ctx, MARK_EFORMAT, "not a FLAC stream (no "
                         "'fLaC' at the start)");
    while (!last) {
        const unsigned char *h = d + p;
        uint32_t len;
        int type;

        if (m->len - p < 4)
            return mark__err(m->ctx, MARK_EFORMAT, "FLAC truncated: the "
                             "input ends in the metadata, at byte %zu",
                             m->len);
        last = h[0] >> 7;
        type = h[0] & 0x7f;
        len = be24(h + 1);
        if ((int64_t)n >= lim[MARK_LIMIT_CHUNKS])
            return mark__err(m->ctx, MARK_ELIMIT, "more than %lld FLAC "
                             "metadata blocks",
                             (long long)lim[MARK_LIMIT_CHUNKS]);
        if (type == T_INVALID)
            return mark__err(m->ctx, MARK_EFORMAT, "FLAC metadata block %zu "
                             "has the invalid type 127", n);
        if (len > m->len - p - 4)
            return mark__err(m->ctx, MARK_EFORMAT, "FLAC truncated: "
                             "metadata block %zu (%s) claims %lu bytes, %zu "
                             "are there", n, block_name(type),
                             (unsigned long)len, m->len - p - 4);
        meta += 4 + (uint64_t)len;
        if (meta > (uint64_t)lim[MARK_LIMIT_METADATA_BYTES])
            return mark__err(m->ctx, MARK_ELIMIT, "FLAC metadata exceeds "
                             "the limit of %lld bytes",
                             (long long)lim[MARK_LIMIT_METADATA_BYTES]);
        if (n == 0 && (type != T_STREAMINFO || len != 34))
            return mark__err(m->ctx, MARK_EFORMAT, "FLAC does not start "
                             "with a 34-byte STREAMINFO block");
        if (n > 0 && type == T_STREAMINFO)
            return mark__err(m->ctx, MARK_EFORMAT, "FLAC metadata block %zu "
                             "is a second STREAMINFO: a block length is "
                             "wrong", n);
        if (type == T_STREAMINFO)
            rc = streaminfo(m, fp, h + 4);
        else if (type == T_COMMENT)
            rc = scan_comments(m, h + 4, len, n);
        if (rc < 0)
            return rc;
        p += 4 + (size_t)len;
        n++;
    }
    fp->audio_at = p;
    /* a block length that is off leaves us somewhere other than a frame
     * header (sync code 0xfff8 or 0xfff9) */
    if (p == m->len) {
        if (fp->total > 0)
            return mark__err(m->ctx, MARK_EFORMAT, "FLAC truncated: no "
                             "audio frames after the metadata");
    } else if (m->len - p < 2 || d[p] != 0xff || (d[p + 1] & 0xfe) != 0xf8) {
        return mark__err(m->ctx, MARK_EFORMAT, "no FLAC frame where the "
                         "metadata ends (byte %zu): a block length is "
                         "wrong", p);
    }
    return MARK_OK;
}

/* libsndfile reads and writes 8-, 16- and 24-bit FLAC. */
static int decodable(const flac_priv *fp)
{
    return fp->bits == 8 || fp->bits == 16 || fp->bits == 24;
}

static int open_decoder(const mark_media *m, memio *io, SNDFILE **out)
{
    flac_priv *fp = m->priv;
    SF_INFO info;

    memio_init(io, m->data, m->len, NULL);
    memset(&info, 0, sizeof info);
    *out = sf_open_virtual(&io->vio, SFM_READ, &info, io);
    if (*out == NULL)
        return mark__err(m->ctx, MARK_EFORMAT, "libsndfile cannot decode "
                         "the FLAC stream: %s", sf_strerror(NULL));
    if (info.channels != fp->channels || info.samplerate != (int)fp->rate) {
        sf_close(*out);
        *out = NULL;
        return mark__err(m->ctx, MARK_EFORMAT, "libsndfile decodes %d "
                         "channels at %d Hz where STREAMINFO gives %d at "
                         "%lu Hz", info.channels, info.samplerate,
                         fp->channels, (unsigned long)fp->rate);
    }
    return MARK_OK;
}

static int short_read(const mark_media *m, uint64_t got)
{
    flac_priv *fp = m->priv;

    return mark__err(m->ctx, MARK_EFORMAT, "FLAC truncated or corrupt: "
                     "%llu of the %llu frames STREAMINFO announces could be "
                     "decoded", (unsigned long long)got,
                     (unsigned long long)fp->total);
}

/* The rhythm label in the decoded samples: all of them, or with edge > 0
 * the first and last edge seconds, reached by libsndfile's seek (libFLAC
 * finds a frame by its seek table or by searching). */
static int flac_explicit(const mark_media *m, mark__explicit *res,
                         double edge)
{
    flac_priv *fp = m->priv;
    mark__audible_scan *s = NULL;
    SNDFILE *sf = NULL;
    float *x = NULL;
    uint64_t got = 0, N = fp->total;
    uint64_t span = edge > 0 ? (uint64_t)(edge * fp->rate) : 0;
    int edges = span > 0 && N > 0 && 2 * span < N;
    memio io;
    int rc;

    memset(res, 0, sizeof *res);
    if (!decodable(fp)) {
        snprintf(res->note, sizeof res->note, "FLAC of %d bits a sample: "
                 "samples not decoded", fp->bits);
        return MARK_OK;
    }
    x = mark__malloc(m->ctx, sizeof *x * BLOCK * (size_t)fp->channels);
    if (x == NULL)
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    rc = open_decoder(m, &io, &sf);
    if (rc == MARK_OK)
        rc = mark__audible_scan_new(m->ctx, fp->rate, fp->channels, &s);
    while (rc == MARK_OK) {
        sf_count_t want = BLOCK, n;

        if (edges && got < span && got + BLOCK > span)
            want = (sf_count_t)(span - got);
        n = sf_readf_float(sf, x, want);
        if (n <= 0)
            break;
        rc = mark__too_long(m->ctx, "FLAC", got + (uint64_t)n,
                            (int)fp->rate);
        if (rc == MARK_OK)
            rc = mark__audible_scan_feed(s, x, (size_t)n);
        got += (uint64_t)n;
        if (rc == MARK_OK && edges && got == span) {
            edges = 0;
            rc = mark__audible_scan_jump(s, N - span);
            if (rc == MARK_OK &&
                sf_seek(sf, (sf_count_t)(N - span), SEEK_SET) !=
                    (sf_count_t)(N - span))
                rc = short_read(m, got);
            got = N - span;
        }
    }
    if (rc == MARK_OK && got < N)
        rc = short_read(m, got);
    if (rc == MARK_OK)
        rc = mark__audible_scan_finish(s, (double)(N ? N : got) / fp->rate,
                                       res);
    mark__audible_scan_free(s);
    if (sf != NULL)
        sf_close(sf);
    mark__free(m->ctx, x);
    return rc;
}

/* libFLAC's chain status as an error. */
static int chain_err(mark_ctx *ctx, FLAC__Metadata_Chain *c, int code,
                     const char *what)
{
    FLAC__Metadata_ChainStatus st = FLAC__metadata_chain_status(c);

    if (st == FLAC__METADATA_CHAIN_STATUS_MEMORY_ALLOCATION_ERROR)
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    return mark__err(ctx, code, "libFLAC cannot %s the metadata: %s", what,
                     FLAC__Metadata_ChainStatusString[st]);
}

static int chain_read(mark_ctx *ctx, FLAC__Metadata_Chain *c,
                      const unsigned char *d, size_t len)
{
    memio io;

    memio_init(&io, d, len, NULL);
    if (FLAC__metadata_chain_read_with_callbacks(c, &io, io_cb))
        return MARK_OK;
    return chain_err(ctx, c, MARK_EFORMAT, "read");
}

/* The file d (whose metadata c was read from) with c's metadata, into
 * the empty out.  With padding, a PADDING block may grow or shrink so
 * that the metadata keeps its size. */
static int chain_write(mark_ctx *ctx, FLAC__Metadata_Chain *c, int padding,
                       const unsigned char *d, size_t len, mark__buf *out)
{
    memio src, dst;
    FLAC__bool ok;
    int rc;

    memio_init(&src, d, len, NULL);
    memio_init(&dst, NULL, 0, out);
    if (FLAC__metadata_chain_check_if_tempfile_needed(c, padding)) {
        /* the whole file again: new metadata, then the frames of d */
        ok = FLAC__metadata_chain_write_with_callbacks_and_tempfile(
            c, padding, &src, io_cb, &dst, io_cb);
    } else {
        /* the same size: the metadata rewritten over a copy of d */
        rc = mark__buf_put(out, d, len);
        if (rc < 0)
            return rc;
        ok = FLAC__metadata_chain_write_with_callbacks(c, padding, &dst,
                                                       io_cb);
    }
    if (ok)
        return MARK_OK;
    if (dst.nomem)
        return MARK_ENOMEM;
    return chain_err(ctx, c, MARK_EBACKEND, "write");
}

static int flac_write(mark_media *m, mark__buf *out)
{
    FLAC__Metadata_Chain *chain = NULL;
    FLAC__Metadata_Iterator *it = NULL;
    FLAC__StreamMetadata *vc = NULL;
    FLAC__StreamMetadata_VorbisComment_Entry e;
    char *json = NULL;
    unsigned char *entry = NULL;
    size_t json_len = 0;
    int rc;

    if (m->staged == NULL)
        return mark__buf_put(out, m->data, m->len);
    rc = mark_label_to_json(m->staged, MARK_FORM_BARE, &json, &json_len);
    if (rc < 0)
        return rc;
    entry = mark__malloc(m->ctx, 5 + json_len);
    chain = FLAC__metadata_chain_new();
    it = FLAC__metadata_iterator_new();
    if (entry == NULL || chain == NULL || it == NULL) {
        rc = mark__err(m->ctx, MARK_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(entry, "AIGC=", 5);
    memcpy(entry + 5, json, json_len);
    rc = chain_read(m->ctx, chain, m->data, m->len);
    if (rc < 0)
        goto done;
    /* every AIGC comment goes, from every VORBIS_COMMENT block */
    FLAC__metadata_iterator_init(it, chain);
    do {
        FLAC__StreamMetadata *b;

        if (FLAC__metadata_iterator_get_block_type(it) !=
            FLAC__METADATA_TYPE_VORBIS_COMMENT)
            continue;
        b = FLAC__metadata_iterator_get_block(it);
        if (FLAC__metadata_object_vorbiscomment_remove_entries_matching(
                b, "AIGC") < 0) {
            rc = mark__err(m->ctx, MARK_ENOMEM, "out of memory");
            goto done;
        }
        if (vc == NULL)
            vc = b;
    } while (FLAC__metadata_iterator_next(it));
    if (vc == NULL) {
        /* none yet: one right after STREAMINFO, libFLAC's vendor string */
        FLAC__metadata_iterator_init(it, chain);
        vc = FLAC__metadata_object_new(FLAC__METADATA_TYPE_VORBIS_COMMENT);
        if (vc == NULL || !FLAC__metadata_iterator_insert_block_after(it,
                                                                      vc)) {
            if (vc != NULL)
                FLAC__metadata_object_delete(vc);
            rc = mark__err(m->ctx, MARK_ENOMEM, "out of memory");
            goto done;
        }
    }
    e.entry = entry;
    e.length = (FLAC__uint32)(5 + json_len);
    if (!FLAC__metadata_object_vorbiscomment_append_comment(vc, e, 1)) {
        rc = mark__err(m->ctx, MARK_ENOMEM, "out of memory");
        goto done;
    }
    rc = chain_write(m->ctx, chain, 1, m->data, m->len, out);
done:
    if (it != NULL)
        FLAC__metadata_iterator_delete(it);
    if (chain != NULL)
        FLAC__metadata_chain_delete(chain);
    mark__free(m->ctx, entry);
    mark_free(m->ctx, json);
    return rc;
}


/* The sample pass: decoded frames in, encoded frames out, as libsndfile
 * integers (left-justified in 32 bits). */
typedef struct pass {
    mark_media *m;
    SNDFILE *in, *out;
    memio iio, oio;                     /* the input, the encoded file */
    int ch;
    int shift;                          /* 32 - bits a sample */
    int *io;                            /* a block of frames */
    int *win;                           /* a label's window of frames */
    float *x;                           /* the same as floats */
    double level_start, level_end;      /* content RMS for an added
                                           label */
    const mark__audible_clip *clip;     /* the label */
    mark__audwm *wm;                    /* the watermark, NULL none */
    float *wx, *wy;                     /* its input, its output */
    int *wi;                            /* its output as integers */
} pass;

#define WM_CAP (2 * BLOCK)              /* frames of watermark output */

static void to_float(const int *v, float *x, size_t n)
{
    size_t i;

    /* exact: at most 24 significant bits */
    for (i = 0; i < n; i++)
        x[i] = (float)v[i] * (1.0f / 2147483648.0f);
}

static void to_int(const float *x, int *v, size_t n, int shift)
{
    double scale = ldexp(1, 31 - shift), hi = scale - 1;
    size_t i;

    for (i = 0; i < n; i++) {
        double r = floor((double)x[i] * scale + 0.5);

        if (!(r >= -scale))             /* NaN too */
            r = -scale;
        if (r > hi)
            r = hi;
        v[i] = (int)(int32_t)((uint32_t)(int32_t)r << shift);
    }
}

static int read_frames(pass *p, int *buf, size_t n)
{
    size_t got = 0;

    while (got < n) {
        sf_count_t k = sf_readf_int(p->in, buf + got * (size_t)p->ch,
                                    (sf_count_t)(n - got));

        if (k <= 0)
            break;
        got += (size_t)k;
    }
    if (got < n)
        return mark__err(p->m->ctx, MARK_EFORMAT, "FLAC truncated or "
                         "corrupt: the samples end %zu frames early",
                         n - got);
    return MARK_OK;
}

static int encode_frames(pass *p, const int *buf, size_t n)
{
    if (n == 0 || sf_writef_int(p->out, buf, (sf_count_t)n) ==
                      (sf_count_t)n)
        return MARK_OK;
    if (p->oio.nomem)
        return MARK_ENOMEM;
    return mark__err(p->m->ctx, MARK_EBACKEND, "libsndfile cannot encode "
                     "FLAC: %s", sf_strerror(p->out));
}

static int wm_cb(void *u, const float *y, size_t frames)
{
    pass *p = u;

    to_int(y, p->wi, frames * (size_t)p->ch, p->shift);
    return encode_frames(p, p->wi, frames);
}

/* What the watermark has ready after taking x (n frames; NULL: the end
 * of the input), encoded. */
static int wm_frames(pass *p, const float *x, size_t n)
{
    return mark__audwm_pump(p->wm, x, n, p->wy, WM_CAP, wm_cb, p);
}

/* Frames out, through the watermark when there is one. */
static int write_frames(pass *p, const int *buf, size_t n)
{
    size_t k;
    int rc = MARK_OK;

    if (p->wm == NULL)
        return encode_frames(p, buf, n);
    for (k = 0; rc == MARK_OK && k < n; k += BLOCK) {
        size_t b = n - k < BLOCK ? n - k : BLOCK;

        to_float(buf + k * (size_t)p->ch, p->wx, b * (size_t)p->ch);
        rc = wm_frames(p, p->wx, b);
    }
    return rc;
}

/* Frames out from floats (a label's window): to the watermark as they
 * are, else as integers. */
static int write_floats(pass *p, const float *x, size_t n)
{
    if (p->wm != NULL)
        return wm_frames(p, x, n);
    to_int(x, p->win, n * (size_t)p->ch, p->shift);
    return encode_frames(p, p->win, n);
}

static int copy_frames(pass *p, uint64_t n)
{
    int rc = MARK_OK;

    while (rc == MARK_OK && n > 0) {
        size_t k = n < BLOCK ? (size_t)n : BLOCK;

        rc = read_frames(p, p->io, k);
        if (rc == MARK_OK)
            rc = write_frames(p, p->io, k);
        n -= k;
    }
    return rc;
}

/* The label over the next W frames of content. */
static int overlay(pass *p, size_t W)
{
    size_t n = W * (size_t)p->ch;
    int rc = read_frames(p, p->win, W);

    if (rc < 0)
        return rc;
    to_float(p->win, p->x, n);
    mark__audible_clip_overlay(p->x, W, p->ch,
                               ((flac_priv *)p->m->priv)->rate, p->clip);
    return write_floats(p, p->x, W);
}

/* The label in W frames of its own. */
static int fill(pass *p, size_t W, double level)
{
    mark__audible_clip_fill(p->x, W, p->ch, ((flac_priv *)p->m->priv)->rate,
                            p->clip, level);
    return write_floats(p, p->x, W);
}

/* Back to the first frame: libsndfile opened afresh (a seek would work
 * too, but needs a length libFLAC may not know). */
static int rewind_input(pass *p)
{
    sf_close(p->in);
    p->in = NULL;
    return open_decoder(p->m, &p->iio, &p->in);
}

/* The frames of a stream whose STREAMINFO does not say. */
static int count_frames(pass *p, uint64_t *N)
{
    const flac_priv *fp = p->m->priv;
    sf_count_t k;
    int rc;

    *N = 0;
    while ((k = sf_readf_int(p->in, p->io, BLOCK)) > 0) {
        *N += (uint64_t)k;
        rc = mark__too_long(p->m->ctx, "FLAC", *N, (int)fp->rate);
        if (rc < 0)
            return rc;
    }
    return rewind_input(p);
}

/* The content's RMS over its first and last LEVEL_SPAN seconds, for a
 * label set before or after it; a seek that fails leaves the default. */
static int levels(pass *p, uint64_t N)
{
    flac_priv *fp = p->m->priv;
    uint64_t span = (uint64_t)fp->rate * LEVEL_SPAN, from[2], k;
    double *out[2] = { &p->level_start, &p->level_end };
    int i, rc = MARK_OK;

    if (span > N)
        span = N;
    from[0] = 0;
    from[1] = N - span;
    for (i = 0; rc == MARK_OK && i < 2 && span > 0; i++) {
        double s2 = 0;

        if (sf_seek(p->in, (sf_count_t)from[i], SEEK_SET) !=
            (sf_count_t)from[i])
            break;
        for (k = 0; rc == MARK_OK && k < span; k += BLOCK) {
            size_t n = span - k < BLOCK ? (size_t)(span - k) : BLOCK;
            double r;

            rc = read_frames(p, p->io, n);
            to_float(p->io, p->x, n * (size_t)p->ch);
            r = mark__audible_rms(p->x, n, p->ch);
            s2 += r * r * (double)n;
        }
        *out[i] = sqrt(s2 / (double)span);
    }
    return rc == MARK_OK ? rewind_input(p) : rc;
}

static int samples(pass *p, const mark__audible_plan *pl, uint64_t N)
{
    int overlay_start = pl->start && !pl->ext_start;
    int overlay_end = pl->end && !pl->ext_end;
    uint64_t mid = N - (overlay_start ? pl->W : 0) -
                   (overlay_end ? pl->W : 0);
    int rc = MARK_OK;

    if (pl->ext_start)
        rc = fill(p, pl->W, p->level_start);
    if (rc == MARK_OK && overlay_start)
        rc = overlay(p, pl->W);
    if (rc == MARK_OK)
        rc = copy_frames(p, mid);
    if (rc == MARK_OK && overlay_end)
        rc = overlay(p, pl->W);
    if (rc == MARK_OK && pl->ext_end)
        rc = fill(p, pl->W, p->level_end);
    return rc;
}

/* The new file: libsndfile's STREAMINFO and frames, with the input's
 * other blocks in their order (not its SEEKTABLE; its CUESHEET only when
 * cues). */
static int carry_blocks(mark_media *m, const mark__buf *enc, int cues,
                        mark__buf *out)
{
    FLAC__Metadata_Chain *src = FLAC__metadata_chain_new();
    FLAC__Metadata_Chain *dst = FLAC__metadata_chain_new();
    FLAC__Metadata_Iterator *si = FLAC__metadata_iterator_new();
    FLAC__Metadata_Iterator *di = FLAC__metadata_iterator_new();
    int rc = MARK_OK;

    if (src == NULL || dst == NULL || si == NULL || di == NULL)
        rc = mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    if (rc == MARK_OK)
        rc = chain_read(m->ctx, src, m->data, m->len);
    if (rc == MARK_OK)
        rc = chain_read(m->ctx, dst, enc->data, enc->len);
    if (rc < 0)
        goto done;
    /* libsndfile's own blocks after STREAMINFO go (its vendor string) */
    FLAC__metadata_iterator_init(di, dst);
    while (FLAC__metadata_iterator_next(di))
        FLAC__metadata_iterator_delete_block(di, 0);
    FLAC__metadata_iterator_init(si, src);
    while (rc == MARK_OK && FLAC__metadata_iterator_next(si)) {
        FLAC__MetadataType t = FLAC__metadata_iterator_get_block_type(si);
        FLAC__StreamMetadata *b;

        if (t == FLAC__METADATA_TYPE_SEEKTABLE ||
            (t == FLAC__METADATA_TYPE_CUESHEET && !cues))
            continue;
        b = FLAC__metadata_object_clone(
            FLAC__metadata_iterator_get_block(si));
        if (b == NULL || !FLAC__metadata_iterator_insert_block_after(di, b)) {
            if (b != NULL)
                FLAC__metadata_object_delete(b);
            rc = mark__err(m->ctx, MARK_ENOMEM, "out of memory");
        }
    }
    if (rc == MARK_OK)
        rc = chain_write(m->ctx, dst, 0, enc->data, enc->len, out);
done:
    if (si != NULL)
        FLAC__metadata_iterator_delete(si);
    if (di != NULL)
        FLAC__metadata_iterator_delete(di);
    if (src != NULL)
        FLAC__metadata_chain_delete(src);
    if (dst != NULL)
        FLAC__metadata_chain_delete(dst);
    return rc;
}

static int flac_draw(mark_media *m, mark__pixel_ops *ops, mark__buf *out)
{
    static const int subtype[4] = { 0, SF_FORMAT_PCM_S8, SF_FORMAT_PCM_16,
                                    SF_FORMAT_PCM_24 };
    flac_priv *fp = m->priv;
    mark__buf enc;
    SF_INFO oi;
    uint64_t N = fp->total;
    size_t xf;
    mark__audible_plan pl;
    mark__audible_clip clip;
    pass p;
    int rc;

    if (!decodable(fp))
        return mark__err(m->ctx, MARK_EUNSUPPORTED, "FLAC of %d bits a "
                         "sample: only the metadata label can be written",
                         fp->bits);
    memset(&p, 0, sizeof p);
    memset(&clip, 0, sizeof clip);
    mark__buf_init(&enc, m->ctx);
    p.m = m;
    p.ch = fp->channels;
    p.shift = 32 - fp->bits;
    p.level_start = p.level_end = 0.05;
    p.io = mark__malloc(m->ctx, sizeof *p.io * BLOCK * (size_t)p.ch);
    rc = p.io == NULL ? mark__err(m->ctx, MARK_ENOMEM, "out of memory")
                      : open_decoder(m, &p.iio, &p.in);
    if (rc == MARK_OK && N == 0 && fp->audio_at < m->len)
        rc = count_frames(&p, &N);
    if (rc < 0)
        goto done;
    rc = mark__audible_clip_make(m->ctx, ops->audible_voice, fp->rate,
                                 &clip);
    if (rc < 0)
        goto done;
    p.clip = &clip;
    if (ops->watermark && N < (uint64_t)fp->rate * MARK__AUDWM_MIN_SECONDS) {
        ops->wm_skipped = 1;            /* too short to carry a mark */
    } else if (ops->watermark && fp->bits < MARK__AUDWM_MIN_BITS) {
        ops->wm_skipped = MARK__WM_COARSE;
    } else if (ops->watermark) {
        rc = mark__audwm_new(m->ctx, ops->key, &ops->payload, fp->rate,
                             p.ch, ops->strength, &p.wm);
        if (rc < 0)
            goto done;
        p.wx = mark__malloc(m->ctx, sizeof *p.wx * BLOCK * (size_t)p.ch);
        p.wy = mark__malloc(m->ctx, sizeof *p.wy * WM_CAP * (size_t)p.ch);
        p.wi = mark__malloc(m->ctx, sizeof *p.wi * WM_CAP * (size_t)p.ch);
        if (p.wx == NULL || p.wy == NULL || p.wi == NULL) {
            rc = mark__err(m->ctx, MARK_ENOMEM, "out of memory");
            goto done;
        }
    }
    mark__audible_plan_make(ops, (int64_t)N,
                            mark__audible_window(&clip, fp->rate), &pl);
    xf = pl.W > BLOCK ? pl.W : BLOCK;
    p.win = mark__malloc(m->ctx, sizeof *p.win * pl.W * (size_t)p.ch);
    p.x = mark__malloc(m->ctx, sizeof *p.x * xf * (size_t)p.ch);
    if (p.win == NULL || p.x == NULL) {
        rc = mark__err(m->ctx, MARK_ENOMEM, "out of memory");
        goto done;
    }
    if (pl.ext_start || pl.ext_end) {
        rc = levels(&p, N);
        if (rc < 0)
            goto done;
    }
    memio_init(&p.oio, NULL, 0, &enc);
    memset(&oi, 0, sizeof oi);
    oi.samplerate = (int)fp->rate;
    oi.channels = p.ch;
    oi.format = SF_FORMAT_FLAC | subtype[fp->bits / 8];
    p.out = sf_open_virtual(&p.oio.vio, SFM_WRITE, &oi, &p.oio);
    if (p.out == NULL) {
        rc = mark__err(m->ctx, MARK_EBACKEND, "libsndfile cannot encode "
                       "FLAC: %s", sf_strerror(NULL));
        goto done;
    }
    rc = samples(&p, &pl, N);
    if (rc == MARK_OK && p.wm != NULL)
        rc = wm_frames(&p, NULL, 0);   /* the last of the samples */
    /* closing finishes the stream: the last frame, STREAMINFO's count
     * and MD5 */
    if (sf_close(p.out) != 0 && rc == MARK_OK)
        rc = p.oio.nomem ? MARK_ENOMEM
                         : mark__err(m->ctx, MARK_EBACKEND, "libsndfile "
                                     "cannot finish the FLAC stream");
    p.out = NULL;
    if (rc == MARK_OK && p.oio.nomem)
        rc = MARK_ENOMEM;
    if (rc == MARK_OK)
        rc = carry_blocks(m, &enc, !(pl.ext_start || pl.ext_end), out);
    if (rc == MARK_OK)
        ops->audible_done = (pl.start ? MARK_AUDIBLE_START : 0) |
                            (pl.end ? MARK_AUDIBLE_END : 0);
done:
    if (p.in != NULL)
        sf_close(p.in);
    if (p.out != NULL)
        sf_close(p.out);
    mark__buf_free(&enc);
    mark__audwm_free(p.wm);
    mark__free(m->ctx, p.wx);
    mark__free(m->ctx, p.wy);
    mark__free(m->ctx, p.wi);
    mark__free(m->ctx, p.io);
    mark__free(m->ctx, p.win);
    mark__free(m->ctx, p.x);
    mark__audible_clip_free(m->ctx, &clip);
    return rc;
}

/* The samples as floats, for the watermark detector. */
static int flac_pcm(const mark_media *m,
                    int (*take)(void *u, const float *x, size_t frames),
                    void *u)
{
    flac_priv *fp = m->priv;
    pass p;
    float *x;
    sf_count_t k;
    uint64_t done = 0;
    int rc;

    if (!decodable(fp))
        return mark__err(m->ctx, MARK_EUNSUPPORTED, "FLAC of %d bits a "
                         "sample cannot be decoded here", fp->bits);
    memset(&p, 0, sizeof p);
    memcpy(&p.m, &m, sizeof m);         /* the pass never writes through it */
    p.ch = fp->channels;
    p.io = mark__malloc(m->ctx, sizeof *p.io * BLOCK * (size_t)p.ch);
    x = mark__malloc(m->ctx, sizeof *x * BLOCK * (size_t)p.ch);
    rc = p.io == NULL || x == NULL
         ? mark__err(m->ctx, MARK_ENOMEM, "out of memory")
         : open_decoder(m, &p.iio, &p.in);
    while (rc == MARK_OK && (k = sf_readf_int(p.in, p.io, BLOCK)) > 0) {
        done += (uint64_t)k;
        rc = mark__too_long(m->ctx, "FLAC", done, (int)fp->rate);
        if (rc < 0)
            break;
        to_float(p.io, x, (size_t)k * (size_t)p.ch);
        rc = take(u, x, (size_t)k);
    }
    if (p.in != NULL)
        sf_close(p.in);
    mark__free(m->ctx, p.io);
    mark__free(m->ctx, x);
    return rc < 0 ? rc : MARK_OK;
}

static void flac_uninit(mark_media *m)
{
    mark__free(m->ctx, m->priv);
    m->priv = NULL;
}

const mark__container mark__container_flac = {
    .name = "flac", .format = MARK_FORMAT_FLAC, .type = MARK_MEDIA_AUDIO,
    .parse = flac_parse, .write = flac_write, .uninit = flac_uninit,
    .draw = flac_draw, .explicit_check = flac_explicit, .pcm = flac_pcm,
};
