/*
 * internal.h - libmark's private declarations, shared between its files.
 *
 * Names crossing files inside the library are mark__*; nothing here is
 * exported (the library is built with -fvisibility=hidden).
 */
#ifndef MARK_INTERNAL_H
#define MARK_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "mark.h"

#if defined(__GNUC__)
#define MARK__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define MARK__PRINTF(a, b)
#endif

/* The pixel loops of the watermark, in two builds chosen when the library
 * loads: one for AVX2 (eight float lanes, half the instructions of the
 * baseline's SSE2 on the same loops) and the baseline one.  AVX2 alone,
 * without FMA, so both builds round every operation the same and give
 * the same output bit for bit; only the loops whose lane sums are
 * written out by hand reduce across lanes.  Elsewhere (other compilers
 * and targets, or built with -DMARK_NO_CLONES) the attribute is empty. */
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && \
    defined(__has_attribute) && !defined(MARK_NO_CLONES)
#if __has_attribute(target_clones)
#define MARK__SIMD __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef MARK__SIMD
#define MARK__SIMD
#endif
/* For the helpers of such loops, so that each build gets its own copy. */
#if defined(__GNUC__)
#define MARK__INLINE inline __attribute__((always_inline))
#else
#define MARK__INLINE inline
#endif

#define MARK__ERRMSG_MAX 1024

#define MARK__SPARES 12
#define MARK__SPARE_MIN ((size_t)128 << 10)
#define MARK__SPARE_BYTES ((size_t)64 << 20)

struct mark_ctx {
    mark_alloc al;                       /* copied from the caller */
    mark_log_fn *log;                    /* NULL: messages dropped */
    mark_progress_fn *progress;          /* NULL: none */
    void *progress_user;
    void *log_user;
    int log_max;                         /* highest level passed on */
    int64_t limits[MARK_LIMIT_COUNT_];
    char errmsg[MARK__ERRMSG_MAX];       /* detail of the last failure */
    int last_format;                     /* recognised by the last open,
                                            for error reports */
    int format;                          /* forced by mark_ctx_set_format,
                                            MARK_FORMAT_UNKNOWN: sniff */
    char encoding[64];                   /* text encoding to convert from
                                            and back to, "" UTF-8 */
    struct {                             /* planes kept for the next call */
        void *p;
        size_t n;
    } spare[MARK__SPARES];
    size_t spare_bytes;
};

/* Allocation through the ctx allocator; NULL ctx is a programming error. */
void *mark__malloc(mark_ctx *ctx, size_t n);
void *mark__calloc(mark_ctx *ctx, size_t n, size_t size);
void *mark__realloc(mark_ctx *ctx, void *p, size_t n);
void mark__free(mark_ctx *ctx, void *p);
char *mark__strdup(mark_ctx *ctx, const char *s);

/* Large work planes (MARK__SPARE_MIN bytes or more) kept by the ctx from
 * one call to the next, up to MARK__SPARE_BYTES in all: an image or video
 * frame makes a dozen planes of the same few sizes, and a fresh one from
 * the system costs a page fault every 4 KiB on first touch, about a
 * fifth of the watermark's time on a 2 MP JPEG.  mark__plane_free takes
 * the size asked for; the memory is released by mark_ctx_free.  The
 * contents of a plane are undefined, as from malloc. */
void *mark__plane_alloc(mark_ctx *ctx, size_t n);
void mark__plane_free(mark_ctx *ctx, void *p, size_t n);
char *mark__strndup(mark_ctx *ctx, const char *s, size_t n);

/* Record the failure detail and return code, so callers can write
 * "return mark__err(ctx, MARK_EFORMAT, "...", ...);". */
int mark__err(mark_ctx *ctx, int code, const char *fmt, ...)
    MARK__PRINTF(3, 4);
void mark__log(mark_ctx *ctx, int level, const char *fmt, ...)
    MARK__PRINTF(3, 4);

/* A growable byte buffer owned by a ctx. */
typedef struct mark__buf {
    mark_ctx *ctx;
    unsigned char *data;
    size_t len;
    size_t cap;
} mark__buf;

void mark__buf_init(mark__buf *b, mark_ctx *ctx);
int mark__buf_reserve(mark__buf *b, size_t extra);
int mark__buf_put(mark__buf *b, const void *p, size_t n);
int mark__buf_put_be32(mark__buf *b, uint32_t v);
int mark__buf_put_be16(mark__buf *b, uint16_t v);
void mark__buf_free(mark__buf *b);

static inline uint32_t mark__be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline uint16_t mark__be16(const unsigned char *p)
{
    return (uint16_t)(((unsigned)p[0] << 8) | p[1]);
}

/* Problems list (core/problems.c). */
mark_problems *mark__problems_new(mark_ctx *ctx);
int mark__problem_add(mark_problems *p, int severity, const char *code,
                      int label_index, const char *fmt, ...)
    MARK__PRINTF(5, 6);
/* Append copies of every item of src, re-pointing them at label_index. */
int mark__problems_append(mark_problems *dst, const mark_problems *src,
                          int label_index);

/* The label record (label/label.c). */
struct mark_label {
    mark_ctx *ctx;
    char *field[MARK_FIELD_COUNT_];      /* NULL = key absent */
    char **extra_key;                    /* keys outside Annex E */
    char **extra_val;                    /* their values, as JSON text */
    size_t n_extra;
    size_t n_dup;                        /* duplicate keys while parsing */
    unsigned nonstring;                  /* bit f: field f was not a JSON
                                            string (kept as its text) */
};

/* Is c allowed in a label value (Annex E character set)? */
int mark__label_char_ok(unsigned char c);

/* A label found in a file, as the media object keeps it. */
typedef struct mark__found {
    char *carrier;
    char *location;
    int form;
    mark_label *label;                   /* NULL when form is INVALID */
    char *raw;
} mark__found;

/* The media object. */
struct mark__container;
struct mark__sink;
struct mark__image;

/* What a save does to the pixels. */
typedef struct mark__pixel_ops {
    mark_visible *visible;               /* NULL: no visible label */
    int watermark;                       /* embed the watermark */
    const struct mark_key *key;
    mark_payload payload;
    double strength;
    int wm_skipped;                      /* out: 1 too small or short,
                                            MARK__WM_COARSE 8-bit audio */
    int orient;                          /* images: EXIF Orientation */
    int audible;                         /* audio: MARK_AUDIBLE_START |
                                            MARK_AUDIBLE_END, 0 none */
    int audible_mix;                     /* enum mark_audible_mix */
    int audible_voice;                   /* spoken, not the rhythm */
    int audible_done;                    /* out: where labels went */
} mark__pixel_ops;

#define MARK__WM_COARSE 2                /* wm_skipped: 8-bit audio */

/* Watermark state of a media object. */
typedef struct mark__wm_state {
    int enabled;
    struct mark_key *key;                /* owned copy */
    int derive;                          /* payload from the staged label */
    mark_payload payload;
    double strength;
    int skipped;
    int detected;                        /* detection ran */
    int found;
    mark_payload found_payload;
    double score;
    int candidates;
    double t_start, t_end;               /* audio: seconds read */
    double tempo;                        /* audio: time scale found */
    int speed;                           /* ... with the pitch */
    const char *note;                    /* why it was not looked for */
    const char *scheme;                  /* found by: NULL the medium's */
    int partial;                         /* text: our code points, but no
                                            copy passed the check */
    size_t copies, copies_ok, symbols;   /* text: what the detector saw */
} mark__wm_state;

struct mark_media {
    mark_ctx *ctx;
    const struct mark__container *c;     /* the backend for its format */
    unsigned char *data;                 /* the whole encoded input */
    size_t len;
    mark_media_info info;
    mark__found *found;                  /* labels in file order */
    size_t n_found;
    mark_problems *problems;             /* reader findings, file level */
    mark_label *staged;                  /* label to write on save */
    mark_visible *visible;               /* label to draw on save */
    int orient;                          /* EXIF Orientation, 1-8 (0: none):
                                            the label goes upright on the
                                            picture as displayed */
    mark__wm_state wm;                   /* watermark to embed / found */
    char *visible_json;                  /* record of a drawn label, for
                                            the XMP writer */
    char *visible_record;                /* record found in the XMP */
    const char *wm_json;                 /* scheme embedded, for the XMP
                                            writer (static string) */
    int wm_recorded;                     /* the XMP says a watermark of
                                            ours is in the pixels */
    int audible;                         /* audible label to add on save:
                                            MARK_AUDIBLE_* bits */
    int audible_mix;                     /* enum mark_audible_mix */
    struct mark__explicit *explicit_res; /* verifier's finding */
    void *priv;                          /* backend state */
    struct mark__src *src;               /* streamed media: the input */
    mark_raw_format raw;                 /* headerless PCM: its layout */
    char carrier[24];                    /* label carrier to write, ""
                                            the format's default */
    mark_video_options video;            /* re-encoding (strings owned) */
    int text_where;                      /* text label to add on save:
                                            enum mark_text_where */
    char *text_label;                    /* its text (owned) */
};

/* What the verifier found of an explicit label (visible/record.c). */
typedef struct mark__explicit {
    int state;                           /* 0 not looked yet, 1 only at
                                            the edges, 2 all */
    int checked;                         /* a check could be made */
    int found;                           /* video: on the opening frames
                                            (the closing ones: end_*) */
    double score;                        /* correlation with the record */
    uint32_t ink_h;                      /* measured text height, px */
    double ratio;                        /* ink_h / shortest side */
    int frames;                          /* video: frames checked */
    double seconds;                      /* ... over this many seconds */
    int end_checked;                     /* video: the record has the
                                            label on the closing frames,
                                            looked for there */
    int end_found;
    int end_bad;                         /* ... the span is not valid */
    int end_frames, end_missing;         /* frames scored, those without */
    int end_gone;                        /* targets past the last frame */
    double end_score, end_seconds;       /* lowest; span sampled */
    double end_from, end_to;             /* the record's span (s from the
                                            first frame; to -1: the end) */
    double end_miss_at;                  /* first target missed */
    double video_end;                    /* where the frames end (s),
                                            when end_gone */
    char text[256];
    char position[32];
    char note[512];
} mark__explicit;

/* Backend descriptor: one per container file, listed in the registry. */
typedef struct mark__container {
    const char *name;
    int format;                          /* enum mark_format */
    int type;                            /* enum mark_media_type */
    /* Parse m->data: fill m->info, record labels and problems. */
    int (*parse)(mark_media *m);
    /* Write m->data with m->staged and m->visible_json applied (both
     * NULL: unchanged) to out. */
    int (*write)(mark_media *m, mark__buf *out);
    void (*uninit)(mark_media *m);
    /* Apply the pixel work (watermark, visible label) to the pixels of
     * m->data: a complete new file in out. */
    int (*draw)(mark_media *m, struct mark__pixel_ops *ops,
                mark__buf *out);
    /* Decode the rectangle (clipped, possibly grown) to 8-bit grey or
     * RGB; *rx / *ry receive the corner of what came back. */
    int (*pixels)(mark_media *m, uint32_t x, uint32_t y, uint32_t w,
                  uint32_t h, struct mark__image *img, uint32_t *rx,
                  uint32_t *ry);
    /* Optional: the whole image's luma (w x h floats, 0..255, the caller
     * frees it, with mark__plane_free) by a faster road than pixels;
     * MARK_EUNSUPPORTED (no error set) where there is none. */
    int (*luma)(mark_media *m, float **out);
    /* Optional: look for an explicit label in the content itself (audio:
     * the rhythm label), filling res; edge > 0: only in the first and
     * last edge seconds (enough to know where to add one), 0: all of it.
     * NULL: the image label record, checked when opening.  Run when first
     * needed, not when opening. */
    int (*explicit_check)(const mark_media *m, struct mark__explicit *res,
                          double edge);
    /* Optional: media read from m->src as they are written (audio held
     * neither in memory nor twice): the marked file (m->staged, the
     * audible label of ops) straight to the sink.  Parse then reads only
     * the structure from m->src. */
    int (*stream)(mark_media *m, struct mark__pixel_ops *ops,
                  struct mark__sink *out);
    /* Optional (audio): the samples from the start, as interleaved floats
     * (full scale 1) handed to take in blocks until take returns non-zero
     * (1: enough, < 0: an error, returned) or they end; the audio
     * watermark is embedded by the sample pass of draw or stream and read
     * from these. */
    int (*pcm)(const mark_media *m,
               int (*take)(void *u, const float *x, size_t frames),
               void *u);
    /* Optional: when pcm cannot read again (a pipe), the watermark
     * detector's input its samples went to as they were read for another
     * purpose, handed over to the caller, or NULL. */
    struct mark__audwm_in *(*pcm_fed)(const mark_media *m);
} mark__container;

/* Read only (no write): the media layer refuses marking them. */
extern const mark__container mark__container_pdf;
extern const mark__container mark__container_ooxml;
extern const mark__container mark__container_png;
extern const mark__container mark__container_jpeg;
extern const mark__container mark__container_wav;
extern const mark__container mark__container_flac;
extern const mark__container mark__container_ogg;
extern const mark__container mark__container_mp3;
extern const mark__container mark__container_mp4;
extern const mark__container mark__container_mkv;
/* The frame watermark of a video (img-v1 in every frame), looked for in
 * the mean of the frames of 2 s windows (container/video_wm.c):
 * MARK_EUNSUPPORTED when there are no frames big enough. */
struct mark__wm_result;
int mark__video_frames_detect(mark_media *m, const struct mark_key *key,
                              struct mark__wm_result *res);
/* Paths one decode of the payload code checks at most (list decoding,
 * payload/ecc.c): each is a chance of 2^-48 for a wrong codeword to pass
 * the 48-bit keyed check, so false-positive bounds count decodes x
 * MARK__LIST. */
#define MARK__LIST 16
/* Its decision's false-positive bound: up to 23 searches (10 windows
 * and their bursts, the mean of all, the last window's burst and the
 * mean of the intra frames) of up to 72 decodes, each checking up to
 * MARK__LIST paths, each passing the 48-bit check by chance with
 * probability 2^-48: about 9.4e-11. */
#define MARK__VIDWM_FP_BOUND (1656.0 * MARK__LIST / 281474976710656.0)
extern const mark__container mark__container_text;
extern const mark__container mark__container_markdown;

/* YAML front matter of Markdown (label/frontmatter.c). */
typedef struct mark__fm {
    size_t open;                         /* offset of the "---" line */
    size_t close;                        /* ... of the closing line */
    size_t body;                         /* ... past the closing line */
    int crlf;                            /* its lines end CRLF */
    size_t *entry;                       /* AIGC entries: start and end
                                            offsets, in pairs */
    size_t n_entry;
} mark__fm;

/* Front matter opening s[from, n): 1 found (open, close, body and crlf
 * of fm set), 0 none, -1 not known yet (input past n could close it;
 * eof: the input ends at n). */
int mark__fm_find(const unsigned char *s, size_t from, size_t n, int eof,
                  mark__fm *fm);
/* Record each AIGC entry of fm as a found label of m (carrier
 * "front-matter"; one it cannot read as an invalid label), keeping
 * where the entries are in fm. */
int mark__fm_scan(mark_media *m, const unsigned char *s, mark__fm *fm);
/* Append the front matter to write to out: fm's (in s) with label
 * merged, or with fm NULL a new one with line ends eol (nothing when
 * label is NULL too).  label NULL keeps fm's as it is. */
int mark__fm_write(const unsigned char *s, const mark__fm *fm,
                   const mark_label *label, const char *eol,
                   mark__buf *out);
void mark__fm_free(mark_ctx *ctx, mark__fm *fm);

/* Text (container/text.c): read the rest of a piped text so that the
 * verifier can look at all of it; the body (after BOM and front matter)
 * as UTF-8; and the watermark detector run on it, into m->wm. */
int mark__text_detect(mark_media *m, const struct mark_key *key);
/* Is the watermark of key in m's text (to keep it when re-marking)?
 * 0 no or not known (a pipe), 1 yes, < 0 an error. */
int mark__text_has_watermark(mark_media *m, const struct mark_key *key);

/* The sample pass of the lossy audio formats (container/sfpass.c):
 * libsndfile decodes m->data, the audible labels of ops go in, and
 * libsndfile encodes the result as e says into the empty out (a bare
 * file of the codec: the container backend carries its metadata over). */
typedef struct mark__sfenc {
    const char *what;                    /* "Ogg Vorbis", for messages */
    int format;                          /* libsndfile SF_FORMAT_* */
    double level;                        /* SFC_SET_COMPRESSION_LEVEL 0..1,
                                            < 0 libsndfile's default */
    int bitrate_mode;                    /* SFC_SET_BITRATE_MODE's, < 0
                                            libsndfile's default */
    int count;                           /* count the frames by decoding
                                            (the codec's count is off) */
    int64_t frames;                      /* > 0: the content's true length;
                                            a decoder giving more (no
                                            gapless trim) ... */
    int64_t skip;                        /* ... has this many extra at the
                                            start, the rest at the end */
} mark__sfenc;

int mark__sf_draw(mark_media *m, const mark__sfenc *e,
                  struct mark__pixel_ops *ops, mark__buf *out);
/* The decoded samples handed to take (the pcm of such a container). */
int mark__sf_pcm(const mark_media *m, const char *what,
                 int (*take)(void *u, const float *x, size_t frames),
                 void *u);
/* The duration limit on the frames decoded so far (at rate a second):
 * MARK_ELIMIT naming what, else MARK_OK.  Decoding loops check it as
 * they go, since a header may not say the length, or say less, and a
 * few kilobytes of Opus or FLAC can decode to hours. */
/* Float samples made safe in place: NaN as silence, anything past 60 dB
 * over full scale held there (samples from a decoder of hostile data). */
void mark__samples_clean(float *x, size_t n);
int mark__too_long(mark_ctx *ctx, const char *what, uint64_t frames,
                   int rate);

/* The rhythm label in the decoded samples (the explicit_check of a
 * container that has the pass). */
int mark__sf_explicit(const mark_media *m, const char *what,
                      struct mark__explicit *res, double edge);

/* Byte sources and sinks for media streamed, not held whole
 * (core/stream.c).  A source is one of: a buffer (mem), a descriptor
 * (fd >= 0) or callbacks (io); bytes in ahead are handed out first. */
typedef struct mark__src {
    mark_ctx *ctx;
    const unsigned char *mem;            /* buffer source */
    size_t mem_len;
    int own_mem;                         /* free mem at the end */
    int64_t size;                        /* bytes in all, -1 unknown */
    int fd;                              /* descriptor source, or -1 */
    int own_fd;                          /* close it at the end */
    const mark_io *io;                   /* callback source */
    void *user;
    int seekable;
    int64_t pos;                         /* offset of the next byte */
    unsigned char *ahead;                /* read while sniffing */
    size_t ahead_len, ahead_off;
    int fmt;                             /* enum mark_format, sniffed */
} mark__src;

void mark__src_init(mark__src *s, mark_ctx *ctx);
void mark__src_close(mark__src *s);
/* Up to n bytes (0 at the end), or a negative status. */
int64_t mark__src_read(mark__src *s, void *buf, size_t n);
/* n bytes unless the input ends first: the count read. */
int64_t mark__src_read_full(mark__src *s, void *buf, size_t n);
int mark__src_skip(mark__src *s, uint64_t n);
int mark__src_seek(mark__src *s, int64_t pos);

typedef struct mark__sink {
    mark_ctx *ctx;
    mark__buf *buf;                      /* buffer sink, or NULL */
    int fd;                              /* descriptor sink, or -1 */
    const mark_io *io;                   /* callback sink */
    void *user;
    int seekable;                        /* mark__sink_patch works */
    int64_t pos;                         /* bytes written so far */
} mark__sink;

int mark__sink_write(mark__sink *k, const void *p, size_t n);
int mark__sink_patch(mark__sink *k, int64_t pos, const void *p, size_t n);
/* Go to pos (at most the end) for the next write: a seekable sink. */
int mark__sink_seek(mark__sink *k, int64_t pos);

/* The explicit-label finding, looked for first when needed (whole:
 * everywhere, else the edges are enough); errors end up in its note. */
void mark__explicit_ensure(const mark_media *m, int whole);

/* PCM sample layouts and the audible label (core/audio.c). */
enum mark__pcm_enc {
    MARK__PCM_NONE = 0,                  /* not PCM (compressed, A-law..) */
    MARK__PCM_U8, MARK__PCM_S16, MARK__PCM_S24, MARK__PCM_S32,
    MARK__PCM_F32, MARK__PCM_F64
};

typedef struct mark__pcm {
    int enc;                             /* enum mark__pcm_enc */
    int bytes;                           /* per sample */
    int channels;
    uint32_t rate;
} mark__pcm;

/* Little-endian interleaved samples to and from floats (full scale 1;
 * integers rounded and clamped on the way back, floats kept as they
 * are). */
void mark__pcm_decode(const mark__pcm *f, const unsigned char *in,
                      size_t frames, float *out);
void mark__pcm_encode(const mark__pcm *f, const float *in, size_t frames,
                      unsigned char *out);
/* An audible label as a clip: mono, peak 1, at the content's rate. */
typedef struct mark__audible_clip {
    float *x;
    size_t n;
    double rms;                          /* of its sounding part */
} mark__audible_clip;

/* The rhythm (voice 0) or the spoken sentence (voice 1, eSpeak NG). */
int mark__audible_clip_make(mark_ctx *ctx, int voice, uint32_t rate,
                            mark__audible_clip *c);
void mark__audible_clip_free(mark_ctx *ctx, mark__audible_clip *c);
/* Frames the clip takes with a margin each side. */
size_t mark__audible_window(const mark__audible_clip *c, uint32_t rate);
/* Lay the clip over a window of content (interleaved), ducking it. */
void mark__audible_clip_overlay(float *x, size_t frames, int channels,
                                uint32_t rate, const mark__audible_clip *c);
/* A window of its own: silence and the clip at the content's level. */
void mark__audible_clip_fill(float *x, size_t frames, int channels,
                             uint32_t rate, const mark__audible_clip *c,
                             double content_rms);
/* Where the labels of ops go in content of frames frames (-1: not
 * known, taken as long enough) with windows of W frames: over it, or
 * added before/after it where asked or where it is too short. */
typedef struct mark__audible_plan {
    int start, end;                      /* labels to add */
    int ext_start, ext_end;              /* ... as added stretches */
    size_t W;                            /* frames of one label window */
} mark__audible_plan;

void mark__audible_plan_make(const struct mark__pixel_ops *ops,
                             int64_t frames, size_t W,
                             mark__audible_plan *p);

/* The spoken label (core/voice.c): mono floats at rate, peak 1. */
int mark__voice_render(mark_ctx *ctx, uint32_t rate, float **out,
                       size_t *frames);
/* The RMS of interleaved frames. */
double mark__audible_rms(const float *x, size_t frames, int channels);
/* Look for rhythm labels in interleaved frames fed block by block
 * (signal/rhythm.c does the finding); the result goes to res. */
typedef struct mark__audible_scan mark__audible_scan;
int mark__audible_scan_new(mark_ctx *ctx, uint32_t rate, int channels,
                           mark__audible_scan **out);
int mark__audible_scan_feed(mark__audible_scan *s, const float *x,
                            size_t frames);
/* Close what was fed and go on from frame `to` of the input. */
int mark__audible_scan_jump(mark__audible_scan *s, uint64_t to);
int mark__audible_scan_finish(mark__audible_scan *s, double duration,
                              struct mark__explicit *res);
void mark__audible_scan_free(mark__audible_scan *s);

const mark__container *mark__container_for(int format);

/* Record a label value found in carrier (media.c).  raw need not be
 * NUL-terminated.  The record is parsed and checked; problems are added
 * with the label's index.  Returns its index, or a negative status. */
int mark__media_add_label(mark_media *m, const char *carrier,
                          const char *location, const char *raw,
                          size_t raw_len);

/* XMP (label/xmp.c). */
#define MARK__TC260_NS "http://www.tc260.org.cn/ns/AIGC/1.0/"
#define MARK__XMP_BAD_NS "http://ns.adobe.com/xap/1.0/tc/"

/* Scan an XMP packet for AIGC properties, recording each as a found label
 * of carrier "xmp".  *n_labels receives how many were found (may be
 * NULL).  A packet that is not well-formed XML adds a problem and returns
 * MARK_OK: a broken packet is a finding about the file, not an error. */
int mark__xmp_scan(mark_media *m, const char *packet, size_t len,
                   const char *location, int *n_labels);

/* Build a new packet: the properties of packet (NULL or empty: none)
 * with, when bare_json is not NULL, every AIGC property replaced by one
 * TC260:AIGC property with that value, and when visible_json is not NULL
 * any aimark:VisibleLabel record replaced by one with that value, and when
 * wm_scheme is not NULL an aimark:Watermark property naming the scheme
 * embedded (so re-marking does not embed twice).  pad is
 * the number of bytes
 * of whitespace padding to add (XMP's in-place editing room).  The result
 * is a complete <?xpacket?>-wrapped packet in *out. */
int mark__xmp_rewrite(mark_ctx *ctx, const char *packet, size_t len,
                      const char *bare_json, const char *visible_json,
                      const char *wm_scheme, size_t pad, mark__buf *out);

/* Our own namespace, for the record of a drawn label. */
#define MARK__AIMARK_NS "urn:aimark:ns:1.0/"


/* EXIF (label/exif.c).  tiff points at the TIFF header ("II*\0"/"MM\0*").
 * Records a UserComment that holds a label; *uc_off / *uc_len (may be
 * NULL) receive the position of the UserComment value inside tiff, or 0
 * when there is none holding a label. */
int mark__exif_scan(mark_media *m, const unsigned char *tiff, size_t len,
                    const char *location, size_t *uc_off, size_t *uc_len);

/* An image in memory for pixel work: interleaved samples, 8 or 16 bits
 * per sample (16-bit samples in native byte order), 1 to 4 channels:
 * grey, grey + alpha, RGB, RGBA.  data is allocated by the ctx. */
typedef struct mark__image {
    unsigned char *data;
    size_t stride;                       /* bytes per row */
    uint32_t width;
    uint32_t height;
    int channels;                        /* 1..4 */
    int depth;                           /* 8 or 16 */
} mark__image;

void mark__image_free(mark_ctx *ctx, mark__image *img);
/* The enum mark_pixel value describing img. */
int mark__image_pixel(const mark__image *img);
/* Its inverse: the channels (1-4) and bits a sample (8, 16) of pixel. */
void mark__pixel_layout(int pixel, int *channels, int *depth);
int mark__image_promote_rgb(mark_ctx *ctx, mark__image *img);
/* A frame (public view) of img's pixels; img keeps owning them. */
void mark__image_frame(const mark__image *img, mark_frame *f);
int mark__image_crop8(mark_ctx *ctx, const mark__image *src, uint32_t x,
                      uint32_t y, uint32_t w, uint32_t h, mark__image *dst);

/* PNG pixels (container/png_pixels.c, the only file including png.h).
 * Decode: palette expanded to RGB or RGBA, tRNS to alpha, grey below 8
 * bits to 8 bits, 16 bits kept, interlacing undone. */
int mark__png_decode(mark_ctx *ctx, const unsigned char *png, size_t len,
                     mark__image *img);
/* Encode img as a complete PNG that keeps the original's chunks: every
 * chunk of orig other than IHDR, IDAT and IEND is copied byte for byte in
 * its place (before or after the image data), except PLTE, tRNS, bKGD,
 * sBIT and hIST when the colour type or depth changed; the interlace
 * method is kept. */
int mark__png_encode(mark_ctx *ctx, const unsigned char *orig,
                     size_t orig_len, const mark__image *img,
                     mark__buf *out);

/* End of the JPEG entropy-coded data starting at pos: the offset of the
 * next marker other than RSTn (stuffed 0xFF00 skipped), or 0 when the
 * data runs to the end (container/jpeg.c). */
size_t mark__jpeg_scan_end(const unsigned char *p, size_t len, size_t pos);

/* JPEG pixels in the DCT-coefficient domain (container/jpeg_pixels.c,
 * the only file including jpeglib.h).  A region is decoded, changed and
 * put back; every block outside it keeps its coefficients, so the rest of
 * the image is bit-identical and nothing is re-quantised twice. */
typedef struct mark__jpeg_edit mark__jpeg_edit;

int mark__jpeg_edit_open(mark_ctx *ctx, const unsigned char *jpg,
                         size_t len, mark__jpeg_edit **out);
/* Image size, components (1 grey, 3 colour, 4 CMYK/YCCK) and the IJG
 * quality (1-100) that best matches the luminance quantisation table. */
void mark__jpeg_edit_info(const mark__jpeg_edit *e, uint32_t *width,
                          uint32_t *height, int *components, int *quality);
/* Decode the rectangle (x, y, w, h), clipped to the image and grown to
 * whole MCUs, into img (8-bit; 1 channel for grey JPEGs, else RGB);
 * *rx / *ry receive the top-left corner of what was returned. */
int mark__jpeg_edit_get(mark__jpeg_edit *e, uint32_t x, uint32_t y,
                        uint32_t w, uint32_t h, mark__image *img,
                        uint32_t *rx, uint32_t *ry);
/* Put back a region returned by _get (same img size and corner),
 * re-quantised with the file's own tables. */
int mark__jpeg_edit_put(mark__jpeg_edit *e, const mark__image *img,
                        uint32_t rx, uint32_t ry);
/* The complete new file: the original's APPn and COM segments kept byte
 * for byte and in order, then the image written by libjpeg with the same
 * quantisation tables, sampling factors, progressive mode and restart
 * interval, then whatever followed the original EOI. */
int mark__jpeg_edit_finish(mark__jpeg_edit *e, mark__buf *out);
/* The luma fast path, for YCbCr and greyscale JPEGs with a full-size Y:
 * the Y plane as floats (W x H, the caller frees it with
 * mark__plane_free), and a change of
 * luma (W x H) added to Y's coefficients.  MARK_EUNSUPPORTED (no error
 * set) for other JPEGs. */
int mark__jpeg_edit_luma(mark__jpeg_edit *e, float **out);
int mark__jpeg_edit_add_luma(mark__jpeg_edit *e, const float *delta);
/* The same on 2 x 2 cells, for images the watermark works on at half
 * resolution or coarser: the cell means and mean squares of Y
 * ((W + 1) / 2 x (H + 1) / 2 each, straight from the coefficients; the
 * caller frees them with mark__plane_free), and a change constant on
 * each cell. */
int mark__jpeg_edit_cells(mark__jpeg_edit *e, float **v2, float **s2);
int mark__jpeg_edit_add_cells(mark__jpeg_edit *e, const float *d2);
void mark__jpeg_edit_free(mark__jpeg_edit *e);

/* Apply ops to a frame of the whole image (watermark first, then the
 * visible label on top); core/pixels.c. */
int mark__apply_pixel_ops(mark_ctx *ctx, mark__pixel_ops *ops,
                          const mark_frame *f);
/* The watermark of ops for a luma plane (w x h, 0..255): luma is replaced
 * by the change to make; all zero (and ops->wm_skipped set) for images
 * under the watermark's minimum size. */
int mark__luma_watermark(mark_ctx *ctx, mark__pixel_ops *ops, float *luma,
                         uint32_t w, uint32_t h);
/* The same from the 2 x 2 cell means v2 and mean squares s2 of a w x h
 * image, for images where mark__cells_fit(): v2 is replaced by the change
 * of each cell. */
int mark__cells_fit(uint32_t w, uint32_t h);
int mark__cells_watermark(mark_ctx *ctx, mark__pixel_ops *ops, float *v2,
                          const float *s2, uint32_t w, uint32_t h);
/* Fill out from m's detection result (core/report.c). */
void mark__watermark_info(const mark_media *m, mark_watermark_info *out);
/* Run the image watermark detector on a decoded 8-bit image, or on a
 * luma plane (w x h). */
int mark__detect_image(mark_ctx *ctx, const struct mark_key *key,
                       const struct mark__image *img, mark__wm_state *st);
int mark__detect_luma(mark_ctx *ctx, const struct mark_key *key,
                      const float *luma, uint32_t w, uint32_t h,
                      mark__wm_state *st);

/* The visible label (libmark/visible/). */
int mark__visible_draw_region(mark_visible *v, const mark_frame *f,
                              uint32_t full_w, uint32_t full_h, uint32_t ox,
                              uint32_t oy);
/* Are the label's colours grey (so a grey image can stay grey)? */
int mark__visible_is_grey(const mark_visible *v);
/* JSON record of the label as laid out on a width x height image. */
int mark__visible_record(mark_visible *v, uint32_t width, uint32_t height,
                         char **json);
/* The same with the time spans of a video label: n_spans pairs of
 * seconds from the first frame, [from, to), to < 0 for "to the end". */
int mark__visible_record_spans(mark_visible *v, uint32_t width,
                               uint32_t height, const double *spans,
                               int n_spans, char **json);
/* EXIF Orientation o (1-8, libmark/visible/orient.c): the displayed size
 * of a stored w x h picture, the stored pixel shown at displayed (x, y),
 * the stored box under a displayed one. */
void mark__orient_size(int o, uint32_t w, uint32_t h, uint32_t *dw,
                       uint32_t *dh);
void mark__orient_to_stored(int o, uint32_t w, uint32_t h, uint32_t x,
                            uint32_t y, uint32_t *sx, uint32_t *sy);
void mark__orient_rect(int o, uint32_t w, uint32_t h, const mark_box *d,
                       mark_box *s);
/* A copy (data to mark__free) of the displayed box d of a stored w x h
 * picture, turned upright, from the stored region f whose top-left is
 * at (rx, ry); MARK_EINVAL when f does not cover d. */
int mark__orient_frame(mark_ctx *ctx, int o, uint32_t w, uint32_t h,
                       const mark_frame *f, uint32_t rx, uint32_t ry,
                       const mark_box *d, mark_frame *out);
/* The stored box under the label's plate, laid out on the picture as
 * displayed. */
int mark__visible_plate_stored(mark_visible *v, uint32_t w, uint32_t h,
                               int o, mark_box *s);
/* mark__visible_draw_region on the picture as displayed: f is the stored
 * region at (rx, ry) of the stored w x h picture. */
int mark__visible_draw_oriented(mark_visible *v, const mark_frame *f,
                                uint32_t w, uint32_t h, uint32_t rx,
                                uint32_t ry, int o);
/* Check the pixels of m against the record in its XMP. */
int mark__visible_check(mark_media *m, mark__explicit *res);

/* A label record read back, for a check against pixels. */
#define MARK__SIG_CELLS (48 * 12)
typedef struct mark__vrecord {
    char text[256];
    char position[32];
    uint32_t W, H;                       /* the image it was laid out on */
    int64_t ink[4];                      /* x, y, w, h there */
    double want[MARK__SIG_CELLS];        /* signature, light text high */
    double span[2][2];                   /* video: [from, to) seconds from
                                            the first frame, to -1: end */
    int n_spans;
} mark__vrecord;
/* Parse a record (JSON): 0, or -1 when it is damaged. */
int mark__vrecord_parse(const char *json, mark__vrecord *r);
/* The ink box (x, y, w, h in fractional pixels) on a W x H image of the
 * same picture: 0, or -1 when it does not fit. */
int mark__vrecord_box(const mark__vrecord *r, uint32_t W, uint32_t H,
                      double box[4]);
/* The correlation of the signature with the luminance of img (8-bit,
 * holding at least the box; its corner at rx, ry of the image), -1..1. */
double mark__vrecord_score(const mark__vrecord *r, const double box[4],
                           const struct mark__image *img, uint32_t rx,
                           uint32_t ry);
/* Is a score a label present? */
int mark__vrecord_found(double score);

/* Platform-independent helpers (core/util.c). */
int mark__inflate(mark_ctx *ctx, const unsigned char *src, size_t len,
                  size_t limit, mark__buf *out);
uint32_t mark__crc32(uint32_t crc, const unsigned char *p, size_t n);
/* Does the Vorbis comment e (n bytes, FLAC and Ogg) name the label:
 * "AIGC=" in any case? */
int mark__is_aigc_comment(const unsigned char *e, size_t n);
/* The length of a label value as found in a carrier, trailing NULs (C
 * writers), spaces and line ends cut. */
size_t mark__value_len(const unsigned char *d, size_t n);

#endif /* MARK_INTERNAL_H */
