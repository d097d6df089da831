/*
 * mark.h - libmark, marking of AI-generated content (GB 45438-2025)
 *
 * The one public header of libmark. It covers the three kinds of mark the
 * Chinese labelling rules ask for - the metadata label (the "AIGC" JSON
 * record of GB 45438 Annex E), the explicit label and the invisible
 * watermark - for every medium the library handles, and the verifier that
 * reports what a file carries.
 *
 * Conventions, true of every function below unless its comment says
 * otherwise:
 *  - Functions returning int return MARK_OK (0) or a negative MARK_E* code.
 *    The detail of the most recent failure is in mark_ctx_errmsg().
 *  - Handles are opaque, created by *_new / *_open_* and released by
 *    *_free, and every *_free accepts NULL.
 *  - A mark_ctx is not thread-safe; use one per thread.  Objects created
 *    from a ctx must be freed before that ctx.
 *  - A mark_ctx keeps the large work planes of watermarking (up to 64 MiB)
 *    for its next call, so that a batch does not fault in fresh memory
 *    for every file; mark_ctx_free releases them.
 *  - Strings are UTF-8 and NUL-terminated.  Strings returned as const char *
 *    are owned by the object they came from and stay valid until that
 *    object is changed or freed.
 *  - The library never prints, never exits, and keeps no process-global
 *    state of its own.
 */
#ifndef MARK_H
#define MARK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MARK_VERSION_MAJOR 0
#define MARK_VERSION_MINOR 1
#define MARK_VERSION_PATCH 0
#define MARK_VERSION_NUMBER \
    (MARK_VERSION_MAJOR * 10000 + MARK_VERSION_MINOR * 100 + MARK_VERSION_PATCH)

#if defined(__GNUC__) && !defined(MARK_STATIC_ONLY)
#define MARK_API __attribute__((visibility("default")))
#else
#define MARK_API
#endif

#if defined(__GNUC__)
#define MARK_WUR __attribute__((warn_unused_result))
#else
#define MARK_WUR
#endif

/* ------------------------------------------------------------------ */
/* Status codes.  Negative so that counting functions can return >= 0.
 * Numbers are never reused: a retired code stays as MARK_EOBSOLETE_n. */
enum mark_status {
    MARK_OK = 0,
    MARK_EINVAL = -1,        /* bad argument or API misuse */
    MARK_ENOMEM = -2,        /* out of memory */
    MARK_EIO = -3,           /* read or write failed */
    MARK_EFORMAT = -4,       /* corrupt or truncated data */
    MARK_EUNSUPPORTED = -5,  /* recognised, but not handled (yet) */
    MARK_ELIMIT = -6,        /* a configured limit was exceeded */
    MARK_EKEY = -7,          /* bad or missing key */
    MARK_ESTATE = -8,        /* object unusable after an earlier error */
    MARK_EUNSEEKABLE = -9,   /* the operation needs a seekable stream */
    MARK_EBACKEND = -10,     /* a third-party library failed */
    MARK_ELABEL = -11,       /* the label record is invalid */
    MARK_EEXIST = -12,       /* output exists and overwriting was not asked */
    MARK_EUNKNOWN = -13,     /* content not recognised as any format */
    MARK_EEMPTY = -14        /* input is empty */
};

/* mark_strerror() :
 *  A static, generic description of a status code ("corrupt or truncated
 *  data").  Never NULL; unknown codes give "unknown error". */
MARK_API const char *mark_strerror(int status);

/* Library version, to compare with MARK_VERSION_NUMBER at run time. */
MARK_API unsigned mark_version_number(void);
MARK_API const char *mark_version_string(void);

/* ------------------------------------------------------------------ */
/* Context: allocator, log callback, limits and the last error message. */

typedef struct mark_ctx mark_ctx;

typedef struct mark_alloc {
    void *(*malloc_fn)(void *user, size_t size);
    void *(*realloc_fn)(void *user, void *ptr, size_t size);
    void (*free_fn)(void *user, void *ptr);
    void *user;                         /* passed to the three functions */
} mark_alloc;

enum mark_log_level {
    MARK_LOG_ERROR = 0,
    MARK_LOG_WARNING = 1,
    MARK_LOG_INFO = 2,
    MARK_LOG_DEBUG = 3
};

typedef void mark_log_fn(void *user, int level, const char *message);

/* Resource limits guard against hostile input.  Values are int64_t. */
enum mark_limit {
    MARK_LIMIT_INPUT_BYTES = 0,  /* size of an input file held in memory
                                    (default 1 GiB) */
    MARK_LIMIT_METADATA_BYTES,   /* one metadata block after inflation,
                                    e.g. an XMP packet (default 16 MiB) */
    MARK_LIMIT_PIXELS,           /* width x height of an image
                                    (default 2^28, 268 Mpixel) */
    MARK_LIMIT_DIMENSION,        /* width or height (default 65535) */
    MARK_LIMIT_CHUNKS,           /* chunks / segments / boxes in one file
                                    (default 100000) */
    MARK_LIMIT_LABEL_BYTES,      /* one JSON label record (default 64 KiB);
                                    jansson also stops at 2048 levels of
                                    nesting */
    MARK_LIMIT_DURATION,         /* seconds of audio or video, as the
                                    header says (default 86400, a day) */
    MARK_LIMIT_FRAMES,           /* video frames, as the header says and
                                    as counted while re-encoding (default
                                    10000000) */
    MARK_LIMIT_TEXT_BYTES,       /* text and Markdown, UTF-8 bytes read,
                                    also from a pipe (default 64 MiB) */
    MARK_LIMIT_COUNT_
};

/* mark_ctx_new() :
 *  Create a context.  alloc may be NULL for malloc/realloc/free; when
 *  given, it is copied and used for every allocation libmark makes itself
 *  (third-party libraries such as libxml2 keep their own allocators).
 *  @return : MARK_OK, MARK_ENOMEM, or MARK_EIO when the system has no
 *  random source for libsodium; *out is NULL on error.
 *  Pairs with mark_ctx_free(). */
MARK_API MARK_WUR int mark_ctx_new(mark_ctx **out, const mark_alloc *alloc);
MARK_API void mark_ctx_free(mark_ctx *ctx);

/* Log messages (warnings about recovered damage, progress details) go to
 * fn; without one they are dropped.  fn may be NULL to remove it. */
MARK_API int mark_ctx_set_log(mark_ctx *ctx, mark_log_fn *fn, void *user,
                              int max_level);

/* Progress of long saves (videos re-encoded or remuxed): fn gets the
 * fraction done, 0 to 1, at most about ten times a second and once with 1
 * at the end, on the thread that saves.  fn may be NULL to remove it. */
typedef void mark_progress_fn(void *user, double done);
MARK_API int mark_ctx_set_progress(mark_ctx *ctx, mark_progress_fn *fn,
                                   void *user);

/* Set or read a limit; value must be > 0.  @return MARK_EINVAL for an
 * unknown limit or a bad value. */
MARK_API int mark_ctx_set_limit(mark_ctx *ctx, int limit, int64_t value);
MARK_API int64_t mark_ctx_get_limit(const mark_ctx *ctx, int limit);

/* mark_ctx_set_format() :
 *  What the following opens on ctx read: an enum mark_format with a
 *  backend (e.g. MARK_FORMAT_TEXT or MARK_FORMAT_MARKDOWN, which have no
 *  magic bytes), or MARK_FORMAT_UNKNOWN (the default) to recognise the
 *  format from the content.  A forced text format read from a pipe starts
 *  producing output with the first bytes that arrive (no look-ahead).
 *  @return : MARK_OK, MARK_EINVAL for a value out of range. */
MARK_API int mark_ctx_set_format(mark_ctx *ctx, int format);

/* mark_ctx_set_encoding() :
 *  Text read by the following opens on ctx is in this character encoding
 *  (an iconv name such as "GB18030"), converted to UTF-8 when read and
 *  back to it when saved; NULL or "" is UTF-8, the default.  Text in
 *  another encoding is read whole (not streamed).  Without a forced
 *  format (mark_ctx_set_format) such input is taken for text (Markdown
 *  when its file name ends .md, .markdown or .mdown).
 *  @return : MARK_OK, MARK_EUNSUPPORTED when iconv does not know name,
 *  MARK_EINVAL for a name over 63 bytes. */
MARK_API int mark_ctx_set_encoding(mark_ctx *ctx, const char *name);

/* mark_ctx_errmsg() :
 *  The detailed message of the most recent failure on this ctx, e.g.
 *  "PNG chunk 'IDAT' at offset 1234: CRC mismatch".  Owned by ctx; "" when
 *  there was none.  Valid until the next call that uses ctx. */
MARK_API const char *mark_ctx_errmsg(const mark_ctx *ctx);

/* Free a buffer that libmark allocated and handed over (JSON texts,
 * saved media). */
MARK_API void mark_free(mark_ctx *ctx, void *ptr);

/* mark_uuid_v4() :
 *  Write a fresh random UUID (RFC 4122 version 4, 36 characters plus NUL)
 *  to buf, e.g. as a default ProduceID.  @return MARK_OK or MARK_EIO when
 *  the system random source fails. */
MARK_API int mark_uuid_v4(char buf[37]);

/* ------------------------------------------------------------------ */
/* Problems: findings about a label or a file, with a stable code. */

enum mark_severity {
    MARK_SEV_INFO = 0,      /* explanation, nothing wrong */
    MARK_SEV_WARNING = 1,   /* tolerated, but not what the rules prefer */
    MARK_SEV_ERROR = 2      /* non-compliant */
};

typedef struct mark_problems mark_problems;

typedef struct mark_problem {
    int severity;            /* enum mark_severity */
    const char *code;        /* stable machine name, e.g. "duplicate" */
    const char *message;     /* one line for people */
    int label_index;         /* the found label it is about, -1 = file */
} mark_problem;

MARK_API size_t mark_problems_count(const mark_problems *p);
/* Fill *out with problem i; the strings are owned by p.
 * @return MARK_EINVAL when i is out of range. */
MARK_API int mark_problems_get(const mark_problems *p, size_t i,
                               mark_problem *out);
/* Highest severity present, or -1 when the list is empty. */
MARK_API int mark_problems_max_severity(const mark_problems *p);
MARK_API void mark_problems_free(mark_problems *p);

/* ------------------------------------------------------------------ */
/* The label record: the seven fields of GB 45438 Annex E. */

enum mark_field {
    MARK_FIELD_LABEL = 0,             /* "1" generated, "2" possibly,
                                         "3" suspected */
    MARK_FIELD_CONTENT_PRODUCER,
    MARK_FIELD_PRODUCE_ID,
    MARK_FIELD_RESERVED_CODE1,
    MARK_FIELD_CONTENT_PROPAGATOR,
    MARK_FIELD_PROPAGATE_ID,
    MARK_FIELD_RESERVED_CODE2,
    MARK_FIELD_COUNT_
};

/* JSON forms: bare {"Label":...} and wrapped {"AIGC":{"Label":...}}. */
enum mark_form {
    MARK_FORM_BARE = 0,
    MARK_FORM_WRAPPED = 1,
    MARK_FORM_INVALID = 2    /* found, but not a JSON label object */
};

typedef struct mark_label mark_label;

/* The Annex E key of a field ("ContentProducer"), NULL if out of range. */
MARK_API const char *mark_field_name(int field);

/* An empty record (every field absent).  Pairs with mark_label_free(). */
MARK_API MARK_WUR int mark_label_new(mark_ctx *ctx, mark_label **out);
MARK_API void mark_label_free(mark_label *label);
MARK_API MARK_WUR int mark_label_copy(const mark_label *src,
                                      mark_label **out);

/* Set a field (copied); value NULL makes it absent again. */
MARK_API int mark_label_set(mark_label *label, int field, const char *value);
/* A field's value, or NULL when absent.  Owned by label. */
MARK_API const char *mark_label_get(const mark_label *label, int field);

/* The first-write rule: the generating provider's propagation fields equal
 * its production fields.  Copies ContentProducer to ContentPropagator and
 * ProduceID to PropagateID, and makes absent optional fields "". */
MARK_API int mark_label_first_write(mark_label *label);

/* mark_label_parse() :
 *  Parse either JSON form.  Keys other than the seven are kept as
 *  "extra" keys (see mark_label_extra_*), so that nothing is lost and the
 *  checker can report them.  *form (may be NULL) receives the form.
 *  @return : MARK_OK, MARK_ELABEL when json is not a label object (the
 *  message says why), MARK_ELIMIT when longer than MARK_LIMIT_LABEL_BYTES. */
MARK_API MARK_WUR int mark_label_parse(mark_ctx *ctx, const char *json,
                                       size_t len, mark_label **out,
                                       int *form);

/* mark_label_to_json() :
 *  Serialise in the given form, fields in Annex E order, absent fields
 *  left out, compact (no spaces).  *out is NUL-terminated, allocated by
 *  the label's ctx: free it with mark_free().  len may be NULL. */
MARK_API MARK_WUR int mark_label_to_json(const mark_label *label, int form,
                                         char **out, size_t *len);

/* Keys outside Annex E found by mark_label_parse(), with their values as
 * JSON text.  Owned by label. */
MARK_API size_t mark_label_extra_count(const mark_label *label);
MARK_API int mark_label_extra_get(const mark_label *label, size_t i,
                                  const char **key, const char **json_value);
/* Duplicate keys met while parsing (the last value wins). */
MARK_API size_t mark_label_duplicate_keys(const mark_label *label);

/* mark_label_check() :
 *  Validate against Annex E: Label in 1/2/3, Label / ContentProducer /
 *  ProduceID present and non-empty, the value character set (printable
 *  ASCII without space, '"' and '\\'), missing and unknown keys, the
 *  first-write rule, and the provider fields (a 27-character code is
 *  explained part by part; a name is reported as a name).
 *  *problems (may be NULL) receives the findings; free with
 *  mark_problems_free().
 *  @return : MARK_OK when nothing of severity ERROR was found, else
 *  MARK_ELABEL. */
MARK_API int mark_label_check(mark_ctx *ctx, const mark_label *label,
                              mark_problems **problems);

/* What a provider field holds. */
enum mark_provider_kind {
    MARK_PROVIDER_EMPTY = 0,
    MARK_PROVIDER_CODE = 1,       /* a well-formed 27-character code */
    MARK_PROVIDER_BAD_CODE = 2,   /* 27 code characters, wrong structure */
    MARK_PROVIDER_NAME = 3        /* anything else, e.g. "doubao" */
};

/* mark_provider_explain() :
 *  Classify a ContentProducer / ContentPropagator value and, when buf is
 *  not NULL, write a one-line explanation of its parts (truncated to cap).
 *  @return : an enum mark_provider_kind. */
MARK_API int mark_provider_explain(const char *value, char *buf, size_t cap);

/* ------------------------------------------------------------------ */
/* Media: an opened file of any supported kind. */

enum mark_media_type {
    MARK_MEDIA_UNKNOWN = 0,
    MARK_MEDIA_IMAGE = 1,
    MARK_MEDIA_AUDIO = 2,
    MARK_MEDIA_VIDEO = 3,
    MARK_MEDIA_TEXT = 4
};

/* Formats recognised by content.  Not all are handled yet: opening one
 * that is not gives MARK_EUNSUPPORTED with its name in the message. */
enum mark_format {
    MARK_FORMAT_UNKNOWN = 0,
    MARK_FORMAT_PNG, MARK_FORMAT_JPEG, MARK_FORMAT_GIF, MARK_FORMAT_WEBP,
    MARK_FORMAT_TIFF, MARK_FORMAT_BMP, MARK_FORMAT_HEIF,
    MARK_FORMAT_WAV, MARK_FORMAT_FLAC, MARK_FORMAT_OGG, MARK_FORMAT_MP3,
    MARK_FORMAT_MP4, MARK_FORMAT_MKV,
    MARK_FORMAT_PDF, MARK_FORMAT_ZIP,
    MARK_FORMAT_TEXT,        /* plain UTF-8 text */
    MARK_FORMAT_MARKDOWN,    /* Markdown: text that may open with YAML
                                front matter */
    MARK_FORMAT_COUNT_
};

/* Short lower-case name of a format ("png") or media type ("image"). */
MARK_API const char *mark_format_name(int format);
MARK_API const char *mark_media_type_name(int type);

/* mark_sniff() :
 *  Recognise a format from the first bytes of content (16 are enough for
 *  every format; fewer may give MARK_FORMAT_UNKNOWN).  Text has no magic:
 *  when no other format matches, valid UTF-8 (a BOM allowed, a sequence
 *  cut at the end of what is given too) without NUL and without C0
 *  controls other than tab, line feed, vertical tab, form feed, carriage
 *  return and escape is MARK_FORMAT_TEXT, or MARK_FORMAT_MARKDOWN when it
 *  opens with a "---" line (YAML front matter); at most the first 1024
 *  bytes are looked at.  File names are never looked at here (but see
 *  mark_media_open_file).  @return : an enum mark_format. */
MARK_API int mark_sniff(const void *data, size_t len);

typedef struct mark_media mark_media;

/* Callback I/O.  read returns bytes read, 0 at end, < 0 on error; write
 * returns bytes written or < 0.  seek and size may be NULL (a pipe).
 * Unused members may be NULL (write when opening, read when saving). */
typedef struct mark_io {
    int64_t (*read)(void *user, void *buf, size_t len);
    int64_t (*write)(void *user, const void *buf, size_t len);
    int64_t (*seek)(void *user, int64_t offset, int whence);
    int64_t (*size)(void *user);
} mark_io;

/* mark_media_open_file() / _buffer() / _io() :
 *  Open media and read its structure and metadata labels.  The format is
 *  the one mark_ctx_set_format() forced, else recognised by content; a
 *  file's name is looked at for text only (its content has no magic): a
 *  name ending .md, .markdown or .mdown makes text Markdown, one ending
 *  .txt or .text keeps it plain (also when it opens with "---"), and
 *  these endings make content that is no other format text (so that bad
 *  UTF-8 is reported as such), and one ending in the
 *  extension of another media format (.png, .wav, ...) keeps content that
 *  is not that format from being taken for text.  Text (plain or
 *  Markdown) from a file or buffer is read whole, bounded by
 *  MARK_LIMIT_INPUT_BYTES, and checked to be UTF-8 (MARK_EFORMAT with the
 *  byte offset when not); from a pipe only its first bytes are read now
 *  (the YAML front matter of Markdown), and the rest passes through when
 *  saving, in constant memory, as it arrives (or is read whole when the
 *  verifier needs it).  WAV is streamed: only its chunks are read now
 *  (and, from a file, its samples once, for the audible label), and the
 *  samples pass through in blocks when saving, so any length costs the
 *  same memory; from a pipe (an io without seek) it can be saved once.  The buffer is copied, so it may be freed after
 *  the call; a path of "-" is not special (use _io for stdin).
 *  @return : MARK_OK, or MARK_EEMPTY, MARK_EUNKNOWN, MARK_EUNSUPPORTED,
 *  MARK_EFORMAT, MARK_ELIMIT, MARK_EIO, MARK_ENOMEM; *out is NULL on
 *  error.  Every successful open is matched by mark_media_free(). */
MARK_API MARK_WUR int mark_media_open_file(mark_ctx *ctx, mark_media **out,
                                           const char *path);
MARK_API MARK_WUR int mark_media_open_buffer(mark_ctx *ctx, mark_media **out,
                                             const void *buf, size_t len);
MARK_API MARK_WUR int mark_media_open_io(mark_ctx *ctx, mark_media **out,
                                         const mark_io *io, void *user);
MARK_API void mark_media_free(mark_media *m);

/* Headerless PCM (a generator's raw output): interleaved little-endian
 * samples. */
enum mark_raw_encoding {
    MARK_RAW_NONE = 0,
    MARK_RAW_U8, MARK_RAW_S16LE, MARK_RAW_S24LE, MARK_RAW_S32LE,
    MARK_RAW_F32LE, MARK_RAW_F64LE
};

typedef struct mark_raw_format {
    int encoding;            /* enum mark_raw_encoding */
    uint32_t rate;           /* frames a second */
    int channels;            /* 1 to 64 */
} mark_raw_format;

/* mark_media_open_raw() :
 *  Open headerless PCM read from io; saving writes it as WAV.  Like WAV
 *  from a pipe, the samples are read only while saving, in constant
 *  memory, so the media can be saved once. */
MARK_API MARK_WUR int mark_media_open_raw(mark_ctx *ctx, mark_media **out,
                                          const mark_io *io, void *user,
                                          const mark_raw_format *f);

/* Documents, read only (MARK_MEDIA_TEXT): a PDF (MARK_FORMAT_PDF) gives
 * its page count in frames; an Office document (MARK_FORMAT_ZIP) its
 * kind in codec, "docx", "xlsx" or "pptx".  Their labels are found in the
 * carriers "pdf-info" (the Info key /AIGC), "xmp" (the catalog's XMP)
 * and "ooxml-custom" (the custom property AIGC). */
typedef struct mark_media_info {
    int type;                /* enum mark_media_type */
    int format;              /* enum mark_format */
    uint32_t width;          /* images: pixels */
    uint32_t height;
    int bit_depth;           /* bits per sample */
    int channels;            /* colour channels incl. alpha; audio:
                                channels */
    int64_t bytes;           /* size of the encoded input */
    uint32_t sample_rate;    /* audio: frames a second */
    int64_t frames;          /* audio: frames (samples per channel) */
    const char *codec;       /* audio: "vorbis", "opus", "mp3", "mp2";
                                NULL where the format says it; video:
                                the video codec ("h264", "vp9") (static) */
    double duration;         /* audio, video: seconds (0 unknown) */
    int64_t lines;           /* text: line count (a last line without a
                                line end counts), -1 not known (a pipe) */
    const char *encoding;    /* text: "UTF-8", "UTF-8 with BOM" or the
                                mark_ctx_set_encoding() name */
    const char *line_ends;   /* text: "LF", "CRLF", "mixed" or "none" */
} mark_media_info;

MARK_API int mark_media_get_info(const mark_media *m, mark_media_info *out);
/* A JPEG's EXIF Orientation (1-8: how viewers turn or mirror the stored
 * pixels; 5-8 swap width and height), 1 for every other file.  The
 * visible label is laid out and drawn upright on the picture as
 * displayed, so mark_visible_layout() with the displayed size gives its
 * box there. */
MARK_API int mark_media_orientation(const mark_media *m);

/* Metadata labels found in the file, in file order. */
typedef struct mark_found_label {
    const char *carrier;     /* stable name: "xmp", "png-text",
                                "png-ztxt", "png-itxt",
                                "exif-usercomment", "front-matter" */
    const char *location;    /* for people: "PNG iTXt 'XML:com.adobe.xmp'" */
    int form;                /* enum mark_form */
    const mark_label *label; /* NULL when form is MARK_FORM_INVALID */
    const char *raw;         /* the value as found */
} mark_found_label;

MARK_API size_t mark_media_label_count(const mark_media *m);
MARK_API int mark_media_label_get(const mark_media *m, size_t i,
                                  mark_found_label *out);

/* Everything the reader found wrong or worth saying about the labels and
 * the file (duplicates, schema problems, wrong namespaces).  Owned by m. */
MARK_API const mark_problems *mark_media_problems(const mark_media *m);

/* ------------------------------------------------------------------ */
/* Marking. */

/* mark_media_set_label() :
 *  Stage a metadata label to be written by the next save.  The record is
 *  checked (mark_label_check) and copied.  On save every label already in
 *  the file, in any carrier the reader knows, is removed or replaced, so
 *  that the output holds exactly one.  For PNG and JPEG only metadata
 *  changes: pixel data and every other chunk or segment stay
 *  byte-identical.  Markdown gets an "AIGC:" mapping of the seven fields
 *  in its YAML front matter (created when there is none; in one that
 *  exists an AIGC entry is replaced in place, other lines kept byte for
 *  byte).
 *  @return : MARK_OK, MARK_ELABEL (see mark_ctx_errmsg), MARK_ENOMEM,
 *  MARK_EUNSUPPORTED for plain text, which has no metadata carrier. */
MARK_API int mark_media_set_label(mark_media *m, const mark_label *label);

enum mark_save_flags {
    MARK_SAVE_OVERWRITE = 1  /* replace an existing file at path */
};

/* mark_media_save_file() :
 *  Write the media with the staged changes.  The data goes to a temporary
 *  file in the target's directory which is flushed and then renamed over
 *  path, so path never holds a partial file; on error the temporary file
 *  is removed.  Without MARK_SAVE_OVERWRITE an existing path gives
 *  MARK_EEXIST.  Overwriting the input file itself is allowed (the input
 *  is held in memory) and atomic. */
MARK_API MARK_WUR int mark_media_save_file(mark_media *m, const char *path,
                                           unsigned flags);
/* Write to memory: *out is allocated by the ctx, free with mark_free(). */
MARK_API MARK_WUR int mark_media_save_buffer(mark_media *m, void **out,
                                             size_t *len);
/* Write through callbacks (only io->write is used). */
MARK_API MARK_WUR int mark_media_save_io(mark_media *m, const mark_io *io,
                                         void *user);

/* ------------------------------------------------------------------ */
/* Watermark keys and payloads (shared by every medium's watermark). */

/* A watermark key: 32 secret bytes, wiped when freed.  The public default
 * key lets anyone verify; a private key (aimark keygen) lets only its
 * holders embed and find. */
typedef struct mark_key mark_key;

/* The public default key.  Pairs with mark_key_free(). */
MARK_API MARK_WUR int mark_key_default(mark_ctx *ctx, mark_key **out);
/* A fresh random key from the system's random source. */
MARK_API MARK_WUR int mark_key_generate(mark_ctx *ctx, mark_key **out);
/* mark_key_load() :
 *  Parse a key file's contents: the line "aimark-key-v1 " followed by 64
 *  hex digits (comments starting with '#' and blank lines allowed).
 *  @return : MARK_OK, or MARK_EKEY with the reason. */
MARK_API MARK_WUR int mark_key_load(mark_ctx *ctx, mark_key **out,
                                    const void *data, size_t len);
/* The key file text for key; *out is allocated by the ctx (free with
 * mark_free), and holds the secret: write it somewhere private. */
MARK_API MARK_WUR int mark_key_save(const mark_key *key, char **out,
                                    size_t *len);
/* A public fingerprint of the key (16 hex digits), safe to print. */
MARK_API int mark_key_id(const mark_key *key, char id[17]);
MARK_API void mark_key_free(mark_key *key);

/* A watermark payload: 64 bits. */
typedef struct mark_payload {
    uint8_t bytes[8];
} mark_payload;

/* 16 hex digits <-> payload.  @return MARK_EINVAL on bad text. */
MARK_API int mark_payload_from_hex(mark_payload *p, const char *hex);
MARK_API int mark_payload_to_hex(const mark_payload *p, char hex[17]);

/* mark_payload_derive() :
 *  The default payload of a label: the first 8 bytes of
 *  BLAKE2b-256("aimark payload v1" 0x00 ContentProducer 0x00 ProduceID),
 *  so a verifier can tell whether a watermark matches the metadata and a
 *  provider can find its log record from the watermark alone.
 *  @return : MARK_ELABEL when either field is missing or empty. */
MARK_API int mark_payload_derive(const mark_label *label, mark_payload *out);

/* ------------------------------------------------------------------ */
/* Explicit (visible) labels. */

/* mark_explicit_text_check() :
 *  Does text carry both elements GB 45438 ch. 5 asks of a label: an AI
 *  element ("AI" as a word, or "人工智能") and a generation element
 *  ("生成" or "合成")?  When not, why (may be NULL) receives an
 *  explanation.  @return : MARK_OK or MARK_ELABEL. */
MARK_API int mark_explicit_text_check(const char *text, char *why,
                                      size_t cap);

/* Where a label goes: a corner or the middle of an edge. */
enum mark_position {
    MARK_POS_BOTTOM_RIGHT = 0,
    MARK_POS_BOTTOM_LEFT,
    MARK_POS_TOP_RIGHT,
    MARK_POS_TOP_LEFT,
    MARK_POS_BOTTOM,
    MARK_POS_TOP,
    MARK_POS_LEFT,
    MARK_POS_RIGHT,
    MARK_POS_COUNT_
};

/* "bottom-right", ... and back; _parse returns -1 for an unknown name. */
MARK_API const char *mark_position_name(int position);
MARK_API int mark_position_parse(const char *name);

/* Pixel layouts a frame may have: interleaved samples; 16-bit samples in
 * native byte order; RGB(A) and grey are sRGB-encoded. */
enum mark_pixel {
    MARK_PIXEL_GRAY8 = 0,
    MARK_PIXEL_GRAYA8,
    MARK_PIXEL_RGB8,
    MARK_PIXEL_RGBA8,
    MARK_PIXEL_GRAY16,
    MARK_PIXEL_GRAYA16,
    MARK_PIXEL_RGB16,
    MARK_PIXEL_RGBA16,
    MARK_PIXEL_COUNT_
};

typedef struct mark_frame {
    void *data;              /* top-left sample */
    size_t stride;           /* bytes from one row to the next */
    uint32_t width;
    uint32_t height;
    int pixel;               /* enum mark_pixel */
} mark_frame;

typedef struct mark_box {
    uint32_t x;              /* left column */
    uint32_t y;              /* top row */
    uint32_t w;
    uint32_t h;
} mark_box;

/* A label renderer: text, font, placement, size and colours, with the
 * shaped text and its rasterised mask cached between frames of one size
 * (video draws the same label on many frames). */
typedef struct mark_visible mark_visible;

#define MARK_COLOR_AUTO 0xff000000u  /* plate colour chosen from the text */

/* mark_visible_new() :
 *  A renderer with the defaults: text "AI生成", the bold CJK sans-serif
 *  font fontconfig finds, bottom-right, text 6% of the shortest side,
 *  white text on a semi-opaque dark plate whose opacity follows the
 *  pixels underneath.  Fonts are loaded on first use, so font errors come
 *  from mark_visible_layout() / _draw().  Pairs with mark_visible_free(). */
MARK_API MARK_WUR int mark_visible_new(mark_ctx *ctx, mark_visible **out);
MARK_API void mark_visible_free(mark_visible *v);

enum mark_visible_flags {
    MARK_TEXT_FORCE = 1      /* accept text lacking a required element */
};

/* Set the label text (UTF-8, copied).  Text without both elements is
 * refused with MARK_ELABEL unless MARK_TEXT_FORCE is given. */
MARK_API int mark_visible_set_text(mark_visible *v, const char *text,
                                   unsigned flags);
/* A font file to use instead of fontconfig's choice (NULL: back to the
 * default).  Every character of the text must have a glyph in it. */
MARK_API int mark_visible_set_font(mark_visible *v, const char *path);
MARK_API int mark_visible_set_position(mark_visible *v, int position);
/* Height of the drawn text (its ink, measured on the pixels) as a
 * fraction of the image's shortest side: 0.05 (the rule's floor) to 0.25;
 * default 0.06.  @return MARK_EINVAL below the floor. */
MARK_API int mark_visible_set_height(mark_visible *v, double fraction);
/* Colours as 0xRRGGBB.  plate may be MARK_COLOR_AUTO; opacity in
 * (0, 1], or a negative value for automatic (from the pixels under the
 * plate, enough for a 4.5:1 contrast).  Frames with alpha always get an
 * opaque plate. */
MARK_API int mark_visible_set_colors(mark_visible *v, uint32_t text,
                                     uint32_t plate, double opacity);

/* mark_visible_layout() :
 *  Where the label would go on a width x height image: the plate (the
 *  whole area drawn) and the text's ink box.  Loads the font on first
 *  use.  @return : MARK_OK; MARK_EBACKEND or MARK_EUNSUPPORTED for font
 *  problems (no font, missing glyphs), MARK_ELIMIT when the text cannot
 *  fit the image at the minimum height. */
MARK_API int mark_visible_layout(mark_visible *v, uint32_t width,
                                 uint32_t height, mark_box *plate,
                                 mark_box *ink);

/* mark_visible_draw() :
 *  Draw the label on a frame in place (gamma-aware blending in linear
 *  light).  plate and ink (may be NULL) receive the boxes drawn. */
MARK_API int mark_visible_draw(mark_visible *v, const mark_frame *frame,
                               mark_box *plate, mark_box *ink);

/* mark_media_set_visible() :
 *  Burn the label v describes into the media on the next save (images:
 *  PNG re-encoded keeping its chunks; JPEG changed only in the blocks
 *  under the label, the rest bit-identical).  v must outlive the save;
 *  NULL cancels.  A record of the label goes into the file's XMP so the
 *  verifier can check it later; a file in which a label recorded so is
 *  still found in the pixels is not drawn on a second time. */
MARK_API int mark_media_set_visible(mark_media *m, mark_visible *v);

/* Audible label (audio, GB 45438 section 5.3): the rhythm "short long
 * short short" (Morse for "AI", 100 ms unit, 1 kHz), at the start, the
 * end or both. */
enum mark_audible_where {
    MARK_AUDIBLE_NONE = 0,
    MARK_AUDIBLE_START = 1,
    MARK_AUDIBLE_END = 2,
    MARK_AUDIBLE_BOTH = 3,
    MARK_AUDIBLE_VOICE = 4       /* or'ed in: the spoken label
                                    「本内容由人工智能生成」 (Mandarin,
                                    eSpeak NG, about 4.4 s) instead of the
                                    rhythm */
};

enum mark_audible_mix {
    MARK_AUDIBLE_OVERLAY = 0,    /* over the content, which is ducked by
                                    12 dB under it: the length is kept */
    MARK_AUDIBLE_EXTEND = 1      /* before / after the content: about
                                    1.4 s longer per label */
};

/* mark_media_set_audible() :
 *  Add the rhythm label on the next save (where: MARK_AUDIBLE_*; mix:
 *  enum mark_audible_mix).  Content too short to take the label over it
 *  gets it added before or after instead.  A file in which the rhythm is
 *  already found at that end is not labelled there again.
 *  @return : MARK_OK, MARK_EUNSUPPORTED for media that are not audio. */
MARK_API int mark_media_set_audible(mark_media *m, int where, int mix);

/* Explicit label of text (GB 45438 section 5.1): a line of its own at
 * the start (followed by a blank line) and/or at the end (after a blank
 * line); in Markdown a blockquote "> LABEL" after any front matter. */
enum mark_text_where {
    MARK_TEXT_LABEL_NONE = 0,
    MARK_TEXT_LABEL_START = 1,
    MARK_TEXT_LABEL_END = 2,
    MARK_TEXT_LABEL_BOTH = 3
};

/* The default text label, 「本内容由人工智能生成」 ("this content was
 * generated by AI").  For English text a bilingual label such as
 * "AI生成 / AI-generated" keeps both elements: an English-only one
 * ("AI-generated") lacks the generation element 生成 / 合成. */
#define MARK_TEXT_LABEL_DEFAULT \
    "\xe6\x9c\xac\xe5\x86\x85\xe5\xae\xb9\xe7\x94\xb1\xe4\xba\xba" \
    "\xe5\xb7\xa5\xe6\x99\xba\xe8\x83\xbd\xe7\x94\x9f\xe6\x88\x90"

/* mark_media_set_text_label() :
 *  Add the explicit label to text on the next save, where says where
 *  (enum mark_text_where).  text (copied; NULL: MARK_TEXT_LABEL_DEFAULT)
 *  must be one line holding both elements (mark_explicit_text_check),
 *  unless flags has MARK_TEXT_FORCE.  Text that already carries a label
 *  at that end (both elements within its first / last 64 non-space
 *  characters) is not labelled there again; from a pipe the start label
 *  goes out before the text arrives, so only the end is checked.
 *  @return : MARK_OK, MARK_ELABEL (text lacks an element), MARK_EINVAL
 *  (bad where, or a line break in text), MARK_EUNSUPPORTED for media
 *  that are not text. */
MARK_API int mark_media_set_text_label(mark_media *m, int where,
                                       const char *text, unsigned flags);

/* What the verifier found of an explicit label in the media. */
typedef struct mark_explicit_info {
    int checked;             /* a check could be made */
    int found;               /* the label is in the pixels */
    double score;            /* match with the recorded label, -1 to 1 */
    uint32_t height_px;      /* text height of the recorded label at this
                                image's size */
    double height_ratio;     /* height_px / shortest side */
    const char *text;        /* the label text recorded ("" if none) */
    const char *position;    /* where it was drawn ("" if unknown);
                                audio: "start", "end", "middle", or
                                several of them joined by "+"; text:
                                "start", "end" or "start+end" */
    const char *note;        /* one line for people */
} mark_explicit_info;

/* mark_media_check_explicit() :
 *  Look for the explicit label in the content now.  Images are checked
 *  when opened (labels this toolkit drew are found from the record it
 *  keeps in the XMP); audio is decoded through to find the rhythm label,
 *  which also finds damage past the headers.  The other functions that
 *  need the finding look for it themselves when it is missing, but
 *  cannot report an error, which this one does.
 *  @return : MARK_OK, or MARK_EFORMAT, MARK_EIO, MARK_ENOMEM. */
MARK_API int mark_media_check_explicit(mark_media *m);

/* The explicit-label finding for m (looked for first if need be).
 * Strings are owned by m. */
MARK_API int mark_media_explicit(const mark_media *m,
                                 mark_explicit_info *out);

/* How a video is re-encoded when it must be (a visible label or a
 * watermark is staged; a label alone is a remux). */
typedef struct mark_video_options {
    int crf;                 /* quality, 0 to 63 (lower is better); -1:
                                the default, 18 (libx264) or 31 (VP9) */
    const char *preset;      /* the encoder's speed preset (libx264:
                                "ultrafast" ... "veryslow"); NULL:
                                "medium" */
    const char *encoder;     /* an FFmpeg video encoder ("libx265");
                                NULL: libx264, libvpx-vp9 for WebM */
    double label_seconds;    /* the visible label on the frames of the
                                first this many seconds, at least 2 (the
                                rule); 0: 3; < 0: every frame */
    int label_end;           /* also on the closing frames, as long (the
                                video's length must be known: a pipe's
                                header must give it) */
} mark_video_options;

/* mark_media_set_video_options() :
 *  Set how a video is re-encoded (copied; strings too).  NULL restores
 *  the defaults.
 *  @return : MARK_OK, MARK_EUNSUPPORTED for media that are not video,
 *  MARK_EINVAL for a crf out of range or a label under 2 s,
 *  MARK_EUNSEEKABLE for label_end on a pipe that does not give the
 *  video's length. */
MARK_API int mark_media_set_video_options(mark_media *m,
                                          const mark_video_options *o);

/* mark_media_set_carrier() :
 *  Where the next save writes the metadata label, by the carrier names
 *  mark_found_label uses; NULL or "" is the format's default.  WAV:
 *  "wav-chunk" (default: a top-level AIGC chunk, as GB 45438 asks) or
 *  "wav-info" (a LIST/INFO AIGC entry, which ffprobe and mediainfo show).
 *  Either way the file ends with exactly one label.
 *  @return : MARK_OK, MARK_EUNSUPPORTED for a carrier the format has not. */
MARK_API int mark_media_set_carrier(mark_media *m, const char *carrier);

/* ------------------------------------------------------------------ */
/* Invisible watermark. */

/* mark_media_set_watermark() :
 *  Embed an invisible watermark on the next save (images: scheme
 *  "img-v1" in the luminance, before any visible label is drawn; audio:
 *  "aud-v3"; text: "txt-v1", invisible code points repeated through the
 *  body, never in front matter or the label lines).  key
 *  NULL means the public default key; payload NULL means the payload
 *  derived from the staged metadata label (mark_payload_derive), which
 *  must then be set first; strength 1.0 is the default (0.25 to 4).
 *  Images under 128 pixels a side are left without a watermark, which
 *  mark_media_watermark_skipped() then reports.  key is copied. */
MARK_API int mark_media_set_watermark(mark_media *m, const mark_key *key,
                                      const mark_payload *payload,
                                      double strength);
/* After a save: 0 when the watermark was embedded, 1 when it was skipped
 * because the image is too small (or the audio too short, the text
 * without a place for it), 2 when the file already carried a watermark
 * this toolkit embedded (its XMP records one), which was kept and not
 * embedded a second time, 3 when it was skipped because the audio has 8
 * bits a sample (rounding to 256 levels wipes the mark out). */
MARK_API int mark_media_watermark_skipped(const mark_media *m);

typedef struct mark_watermark_info {
    int checked;             /* a detector exists for this medium */
    int found;               /* payload decoded and its keyed check passed */
    mark_payload payload;    /* when found */
    const char *scheme;      /* "img-v1" */
    double score;            /* agreement of the soft bits with the
                                decoded codeword, 0..1 */
    double false_positive;   /* bound on the chance that an unmarked
                                image passes the decision */
    int matches_metadata;    /* 1 matches the label's derived payload,
                                0 contradicts it, -1 no label to compare */
    const char *note;        /* when not checked: why (static string), or
                                NULL */
    int partial;             /* text: code points of the watermark seen,
                                but no copy passed its check (the text
                                was cut too short or damaged) */
} mark_watermark_info;

/* mark_media_detect_watermark() :
 *  Look for the watermark (blind: crops and rescaling are found by the
 *  detector), with key (NULL: the public default key).  The finding is
 *  kept for mark_media_report_json() and the verdict.  "Not found" is a
 *  result (found = 0), not an error. */
MARK_API int mark_media_detect_watermark(mark_media *m, const mark_key *key,
                                         mark_watermark_info *out);
/* The finding of the last mark_media_detect_watermark() (checked = 0 when
 * none ran).  scheme is a static string. */
MARK_API int mark_media_watermark(const mark_media *m,
                                  mark_watermark_info *out);

/* ------------------------------------------------------------------ */
/* Verification. */

enum mark_verdict {
    MARK_VERDICT_NONE = 0,       /* no mark of any kind */
    MARK_VERDICT_SUSPECTED = 1,  /* Label "3", or no valid metadata but a
                                    trace (watermark, explicit label, or
                                    a label record without a valid Label) */
    MARK_VERDICT_POSSIBLY = 2,   /* Label "2": declared by the uploader */
    MARK_VERDICT_GENERATED = 3   /* Label "1" */
};

MARK_API const char *mark_verdict_name(int verdict);

/* The platform verdict for the file (GB 45438 / Labelling Measures Art. 6):
 * from the metadata Label when there is one, else from other traces. */
MARK_API int mark_media_verdict(const mark_media *m);

/* mark_media_report_json() :
 *  The verifier's report as one line of JSON (no newline):
 *  {"file","format","type","verdict","metadata":{"found","labels":[...],
 *  "problems":[...]},"watermark":{...},"explicit":{...}}.
 *  file may be NULL (then the key holds null).  *out is allocated by the
 *  ctx; free with mark_free(). */
MARK_API MARK_WUR int mark_media_report_json(const mark_media *m,
                                             const char *file, char **out);

/* mark_error_report_json() :
 *  The same report shape for a file that could not be read: verdict
 *  "error", with "error" holding message.  format may be
 *  MARK_FORMAT_UNKNOWN: then the format that the last failed open on ctx
 *  recognised (if any) is reported. */
MARK_API MARK_WUR int mark_error_report_json(mark_ctx *ctx, const char *file,
                                             int format, const char *message,
                                             char **out);

#ifdef __cplusplus
}
#endif

#endif /* MARK_H */
