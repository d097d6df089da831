/*
 * sfpass.c - the sample pass of the lossy audio formats (Ogg Vorbis, Ogg
 * Opus, MP3): libsndfile decodes the input held in memory, the audible
 * label goes into the samples, libsndfile encodes them again with the
 * same codec, rate and channels.  The container file (ogg.c, mp3.c) then
 * carries its own metadata over into the encoded result; nothing here
 * knows a container byte by byte.
 *
 * The samples cross as floats (full scale 1), the codecs' own form: a
 * lossy codec changes every sample anyway, so the integer route FLAC
 * takes to keep samples bit-exact buys nothing here.  Every block of
 * output goes through one function, emit(), on its way to the encoder:
 * that is where a per-block float filter (the audio watermark) goes.
 *
 * libsndfile reads the whole stream's length from the codec (Vorbis and
 * Opus: the last granule position); where it cannot say, or its count
 * may be off (mpg123's for MP3: an estimate without a LAME tag, and not
 * what it decodes for MPEG-2), the frames are counted by decoding them
 * once.  The verifier's look at the edges takes the count as a guide
 * only; truncation is the container parsers' to find.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <sndfile.h>

#include "internal.h"
#include "signal/signal.h"

#define BLOCK 4096                      /* frames per conversion block */
#define LEVEL_SPAN 3                    /* s of content an added label
                                           takes its level from */
#define MAX_CHANNELS 64

/* A file in memory behind libsndfile's virtual I/O: read from data, or
 * (b not NULL) written into b, which grows. */
typedef struct sfio {
    const unsigned char *data;
    size_t len;
    mark__buf *b;
    size_t pos;
    int nomem;                          /* a write could not grow b */
    SF_VIRTUAL_IO vio;
} sfio;

static size_t io_size(const sfio *io)
{
    return io->b != NULL ? io->b->len : io->len;
}

static sf_count_t vio_len(void *u)
{
    return (sf_count_t)io_size(u);
}

static sf_count_t vio_seek(sf_count_t off, int whence, void *u)
{
    sfio *io = u;
    sf_count_t base = whence == SEEK_SET ? 0
                    : whence == SEEK_CUR ? (sf_count_t)io->pos
                    : whence == SEEK_END ? (sf_count_t)io_size(io) : -1;

    if (base < 0 || off < -base || off > INT64_MAX / 2 - base)
        return -1;
    io->pos = (size_t)(base + off);
    return (sf_count_t)io->pos;
}

static sf_count_t vio_read(void *p, sf_count_t n, void *u)
{
    sfio *io = u;
    const unsigned char *d = io->b != NULL ? io->b->data : io->data;
    size_t len = io_size(io);

    if (n <= 0 || io->pos >= len)
        return 0;
    if ((uint64_t)n > len - io->pos)
        n = (sf_count_t)(len - io->pos);
    memcpy(p, d + io->pos, (size_t)n);
    io->pos += (size_t)n;
    return n;
}

static sf_count_t vio_write(const void *p, sf_count_t n, void *u)
{
    sfio *io = u;
    mark__buf *b = io->b;

    if (b == NULL || n <= 0 || (uint64_t)n > SIZE_MAX / 2 - io->pos)
        return 0;
    if (io->pos + (size_t)n > b->len) {
        if (mark__buf_reserve(b, io->pos + (size_t)n - b->len) < 0) {
            io->nomem = 1;
            return 0;
        }
        if (io->pos > b->len)           /* a seek past the end */
            memset(b->data + b->len, 0, io->pos - b->len);
        b->len = io->pos + (size_t)n;
    }
    memcpy(b->data + io->pos, p, (size_t)n);
    io->pos += (size_t)n;
    return n;
}

static sf_count_t vio_tell(void *u)
{
    return (sf_count_t)((sfio *)u)->pos;
}

static void sfio_init(sfio *io, const unsigned char *data, size_t len,
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

/* libsndfile's decoder on m's data; *frames: its count, or -1 when it
 * gives none that can be trusted. */
static int open_decoder(const mark_media *m, const char *what, sfio *io,
                        SNDFILE **out, SF_INFO *info)
{
    sfio_init(io, m->data, m->len, NULL);
    memset(info, 0, sizeof *info);
    *out = sf_open_virtual(&io->vio, SFM_READ, info, io);
    if (*out == NULL)
        return mark__err(m->ctx, MARK_EFORMAT, "libsndfile cannot decode "
                         "the %s stream: %s", what, sf_strerror(NULL));
    if (info->channels < 1 || info->channels > MAX_CHANNELS ||
        info->samplerate <= 0) {
        sf_close(*out);
        *out = NULL;
        return mark__err(m->ctx, MARK_EFORMAT, "libsndfile decodes the %s "
                         "stream as %d channels at %d Hz", what,
                         info->channels, info->samplerate);
    }
    sf_command(*out, SFC_SET_NORM_FLOAT, NULL, SF_TRUE);
    return MARK_OK;
}

static int64_t known_frames(const SF_INFO *info)
{
    /* libsndfile says SF_COUNT_MAX (or less than nothing) when unsure */
    return info->frames > 0 && info->frames < INT64_MAX / 4
               ? (int64_t)info->frames : -1;
}

typedef struct pass {
    mark_media *m;
    const char *what;
    SNDFILE *in, *out;
    sfio iio, oio;
    SF_INFO info;
    int ch;
    uint32_t rate;
    float *x;                           /* a block, or a label's window */
    size_t cap;                         /* frames x holds */
    double level_start, level_end;
    const mark__audible_clip *clip;
    int64_t head;                       /* decoded frames before the
                                           content, skipped */
    mark__audwm *wm;                    /* the watermark, NULL none */
    float *wy;                          /* its output */
} pass;

static int encode(pass *p, const float *x, size_t k)
{
    if (k == 0 || sf_writef_float(p->out, x, (sf_count_t)k) ==
                      (sf_count_t)k)
        return MARK_OK;
    if (p->oio.nomem)
        return MARK_ENOMEM;
    return mark__err(p->m->ctx, MARK_EBACKEND, "libsndfile cannot encode "
                     "%s: %s", p->what, sf_strerror(p->out));
}

static int wm_cb(void *u, const float *y, size_t frames)
{
    return encode(u, y, frames);
}

/* What the watermark has ready after taking x (k frames; NULL: the end
 * of the input), encoded BLOCK frames at most a call. */
static int wm_out(pass *p, const float *x, size_t k)
{
    return mark__audwm_pump(p->wm, x, k, p->wy, BLOCK, wm_cb, p);
}

/* Every block of output passes here, interleaved floats, on its way to
 * the encoder, at most BLOCK frames at a time (libvorbis puts a copy of
 * the first write on the stack: a label's window of seconds overflows a
 * thread's). */
static int emit(pass *p, float *x, size_t n)
{
    int rc = MARK_OK;

    while (rc == MARK_OK && n > 0) {
        size_t k = n < BLOCK ? n : BLOCK;

        rc = p->wm != NULL ? wm_out(p, x, k) : encode(p, x, k);
        x += k * (size_t)p->ch;
        n -= k;
    }
    return rc;
}

/* Up to n frames (fewer only at the end of the stream): the count. */
static size_t read_frames(pass *p, float *x, size_t n)
{
    size_t got = 0;

    while (got < n) {
        sf_count_t k = sf_readf_float(p->in, x + got * (size_t)p->ch,
                                      (sf_count_t)(n - got));

        if (k <= 0)
            break;
        got += (size_t)k;
    }
    return got;
}

static int short_read(const pass *p, uint64_t want)
{
    return mark__err(p->m->ctx, MARK_EFORMAT, "%s truncated or corrupt: "
                     "the samples end %llu frames early", p->what,
                     (unsigned long long)want);
}

static int copy_frames(pass *p, uint64_t n)
{
    int rc = MARK_OK;

    while (rc == MARK_OK && n > 0) {
        size_t k = n < BLOCK ? (size_t)n : BLOCK;

        if (read_frames(p, p->x, k) < k)
            return short_read(p, n);
        rc = emit(p, p->x, k);
        n -= k;
    }
    return rc;
}

/* The label over the next W frames of content. */
static int overlay(pass *p, size_t W)
{
    size_t got = read_frames(p, p->x, W);

    if (got < W)
        return short_read(p, W - got);
    mark__audible_clip_overlay(p->x, W, p->ch, p->rate, p->clip);
    return emit(p, p->x, W);
}

/* The label in W frames of its own. */
static int fill(pass *p, size_t W, double level)
{
    mark__audible_clip_fill(p->x, W, p->ch, p->rate, p->clip, level);
    return emit(p, p->x, W);
}

/* Past the frames at the start that are not content. */
static int skip_head(pass *p)
{
    int64_t n = p->head;

    while (n > 0) {
        size_t k = n < BLOCK ? (size_t)n : BLOCK;

        if (read_frames(p, p->x, k) < k)
            return short_read(p, (uint64_t)n);
        n -= (int64_t)k;
    }
    return MARK_OK;
}

/* Back to the first frame of content: libsndfile opened afresh (the
 * lossy decoders' seeks are not all sample-exact). */
static int rewind_input(pass *p)
{
    int rc;

    sf_close(p->in);
    p->in = NULL;
    rc = open_decoder(p->m, p->what, &p->iio, &p->in, &p->info);
    return rc < 0 ? rc : skip_head(p);
}

/* The content's RMS over its first and last LEVEL_SPAN seconds, read
 * straight through (lossy decoders seek only roughly). */
static int levels(pass *p, uint64_t N)
{
    uint64_t span = (uint64_t)p->rate * LEVEL_SPAN, pos = 0;
    double s0 = 0, s1 = 0;

    if (span > N)
        span = N;
    while (pos < N) {
        size_t n = N - pos < BLOCK ? (size_t)(N - pos) : BLOCK, i;

        if (read_frames(p, p->x, n) < n)
            return short_read(p, N - pos);
        for (i = 0; i < n; i++) {
            double r2 = mark__audible_rms(p->x + i * (size_t)p->ch, 1,
                                          p->ch);

            if (pos + i < span)
                s0 += r2 * r2;
            if (pos + i >= N - span)
                s1 += r2 * r2;
        }
        pos += n;
    }
    if (span > 0) {
        p->level_start = sqrt(s0 / (double)span);
        p->level_end = sqrt(s1 / (double)span);
    }
    return rewind_input(p);
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

int mark__sf_draw(mark_media *m, const mark__sfenc *e,
                  mark__pixel_ops *ops, mark__buf *out)
{
    mark__audible_plan pl;
    mark__audible_clip clip;
    SF_INFO oi;
    int64_t N;
    pass p;
    int rc;

    memset(&p, 0, sizeof p);
    memset(&clip, 0, sizeof clip);
    p.m = m;
    p.what = e->what;
    p.level_start = p.level_end = 0.05;
    rc = open_decoder(m, e->what, &p.iio, &p.in, &p.info);
    if (rc < 0)
        return rc;
    p.ch = p.info.channels;
    p.rate = (uint32_t)p.info.samplerate;
    N = e->count ? -1 : known_frames(&p.info);
    p.cap = BLOCK;
    p.x = mark__malloc(m->ctx, sizeof *p.x * BLOCK * (size_t)p.ch);
    if (p.x == NULL) {
        rc = mark__err(m->ctx, MARK_ENOMEM, "out of memory");
        goto done;
    }
    if (N < 0) {
        /* counted: decoded once */
        sf_count_t k;

        N = 0;
        while (rc == MARK_OK && (k = sf_readf_float(p.in, p.x, BLOCK)) > 0) {
            N += k;
            rc = mark__too_long(m->ctx, p.what, (uint64_t)N, p.info.samplerate);
        }
        if (rc == MARK_OK)
            rc = rewind_input(&p);
        if (rc < 0)
            goto done;
    }
    rc = mark__too_long(m->ctx, p.what, N > 0 ? (uint64_t)N : 0,
                  p.info.samplerate);
    if (rc < 0)
        goto done;
    if (e->frames > 0 && N > e->frames) {
        /* the decoder kept the encoder's delay and padding: dropped */
        p.head = e->skip < N - e->frames ? e->skip : N - e->frames;
        N = e->frames;
        rc = skip_head(&p);
        if (rc < 0)
            goto done;
    }
    rc = mark__audible_clip_make(m->ctx, ops->audible_voice, p.rate, &clip);
    if (rc < 0)
        goto done;
    p.clip = &clip;
    if (ops->watermark && N < (int64_t)p.rate * MARK__AUDWM_MIN_SECONDS) {
        ops->wm_skipped = 1;            /* too short to carry a mark */
    } else if (ops->watermark) {
        rc = mark__audwm_new(m->ctx, ops->key, &ops->payload, p.rate, p.ch,
                             ops->strength, &p.wm);
        if (rc < 0)
            goto done;
        p.wy = mark__malloc(m->ctx, sizeof *p.wy * BLOCK * (size_t)p.ch);
        if (p.wy == NULL) {
            rc = mark__err(m->ctx, MARK_ENOMEM, "out of memory");
            goto done;
        }
    }
    mark__audible_plan_make(ops, N, mark__audible_window(&clip, p.rate),
                            &pl);
    if (pl.W > p.cap) {
        float *x = mark__realloc(m->ctx, p.x, sizeof *p.x * pl.W *
                                              (size_t)p.ch);

        if (x == NULL) {
            rc = mark__err(m->ctx, MARK_ENOMEM, "out of memory");
            goto done;
        }
        p.x = x;
        p.cap = pl.W;
    }
    if (pl.ext_start || pl.ext_end) {
        rc = levels(&p, (uint64_t)N);
        if (rc < 0)
            goto done;
    }
    sfio_init(&p.oio, NULL, 0, out);
    memset(&oi, 0, sizeof oi);
    oi.samplerate = p.info.samplerate;
    oi.channels = p.ch;
    oi.format = e->format;
    if (!sf_format_check(&oi)) {
        rc = mark__err(m->ctx, MARK_EUNSUPPORTED, "libsndfile cannot "
                       "encode %s of %d channels at %d Hz", e->what, p.ch,
                       oi.samplerate);
        goto done;
    }
    p.out = sf_open_virtual(&p.oio.vio, SFM_WRITE, &oi, &p.oio);
    if (p.out == NULL) {
        rc = mark__err(m->ctx, MARK_EBACKEND, "libsndfile cannot encode "
                       "%s: %s", e->what, sf_strerror(NULL));
        goto done;
    }
    if (e->bitrate_mode >= 0) {
        int mode = e->bitrate_mode;

        sf_command(p.out, SFC_SET_BITRATE_MODE, &mode, sizeof mode);
    }
    if (e->level >= 0) {
        double level = e->level;

        sf_command(p.out, SFC_SET_COMPRESSION_LEVEL, &level, sizeof level);
    }
    rc = samples(&p, &pl, (uint64_t)N);
    if (rc == MARK_OK && p.wm != NULL)
        rc = wm_out(&p, NULL, 0);      /* the last of the samples */
    /* closing finishes the stream (the last pages, MP3's LAME tag) */
    if (sf_close(p.out) != 0 && rc == MARK_OK)
        rc = p.oio.nomem ? MARK_ENOMEM
                         : mark__err(m->ctx, MARK_EBACKEND, "libsndfile "
                                     "cannot finish the %s stream", e->what);
    p.out = NULL;
    if (rc == MARK_OK && p.oio.nomem)
        rc = MARK_ENOMEM;
    if (rc == MARK_OK)
        ops->audible_done = (pl.start ? MARK_AUDIBLE_START : 0) |
                            (pl.end ? MARK_AUDIBLE_END : 0);
done:
    if (p.in != NULL)
        sf_close(p.in);
    if (p.out != NULL)
        sf_close(p.out);
    mark__free(m->ctx, p.x);
    mark__audwm_free(p.wm);
    mark__free(m->ctx, p.wy);
    mark__audible_clip_free(m->ctx, &clip);
    return rc;
}

int mark__sf_pcm(const mark_media *m, const char *what,
                 int (*take)(void *u, const float *x, size_t frames),
                 void *u)
{
    SNDFILE *in = NULL;
    SF_INFO info;
    sfio io;
    float *x;
    sf_count_t k;
    uint64_t got = 0;
    int rc;

    rc = open_decoder(m, what, &io, &in, &info);
    if (rc < 0)
        return rc;
    x = mark__malloc(m->ctx, sizeof *x * BLOCK * (size_t)info.channels);
    if (x == NULL)
        rc = mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    while (rc == MARK_OK && (k = sf_readf_float(in, x, BLOCK)) > 0) {
        got += (uint64_t)k;
        rc = mark__too_long(m->ctx, what, got, info.samplerate);
        if (rc == MARK_OK)
            rc = take(u, x, (size_t)k);
    }
    sf_close(in);
    mark__free(m->ctx, x);
    return rc < 0 ? rc : MARK_OK;
}

/* The rhythm label in the decoded samples: all of them, or with edge > 0
 * the first and last edge seconds (the middle decoded and skipped: the
 * lossy decoders' seeks are not all sample-exact). */
int mark__sf_explicit(const mark_media *m, const char *what,
                      mark__explicit *res, double edge)
{
    mark__audible_scan *s = NULL;
    SNDFILE *sf = NULL;
    SF_INFO info;
    float *x = NULL;
    uint64_t got = 0, span = 0, N = 0;
    int edges = 0, rc;
    sfio io;

    memset(res, 0, sizeof *res);
    rc = open_decoder(m, what, &io, &sf, &info);
    if (rc < 0)
        return rc;
    if (known_frames(&info) > 0)
        N = (uint64_t)known_frames(&info);
    if (edge > 0)
        span = (uint64_t)(edge * info.samplerate);
    edges = span > 0 && N > 0 && 2 * span < N;
    x = mark__malloc(m->ctx, sizeof *x * BLOCK * (size_t)info.channels);
    if (x == NULL)
        rc = mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    if (rc == MARK_OK)
        rc = mark__audible_scan_new(m->ctx, (uint32_t)info.samplerate,
                                    info.channels, &s);
    while (rc == MARK_OK) {
        sf_count_t n = sf_readf_float(sf, x, BLOCK);

        if (n <= 0)
            break;
        rc = mark__too_long(m->ctx, what, got + (uint64_t)n, info.samplerate);
        if (rc < 0)
            break;
        if (!edges) {
            rc = mark__audible_scan_feed(s, x, (size_t)n);
        } else {
            uint64_t end = got + (uint64_t)n, from;

            if (got < span) {
                rc = mark__audible_scan_feed(s, x, (size_t)((end < span
                                                             ? end : span) -
                                                            got));
                if (rc == MARK_OK && end >= span)
                    rc = mark__audible_scan_jump(s, N - span);
            }
            if (rc == MARK_OK && end > N - span) {
                from = got > N - span ? got : N - span;
                rc = mark__audible_scan_feed(
                    s, x + (size_t)(from - got) * (size_t)info.channels,
                    (size_t)(end - from));
            }
        }
        got += (uint64_t)n;
    }
    if (rc == MARK_OK)
        rc = mark__audible_scan_finish(s, (double)got / info.samplerate,
                                       res);
    mark__audible_scan_free(s);
    sf_close(sf);
    mark__free(m->ctx, x);
    return rc;
}
