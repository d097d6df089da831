/*
 * ctx.c - the context: allocator, limits, log, last error; and the small
 * helpers every part of the library leans on (buffers, messages).
 */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <libxml/parser.h>
#include <sodium.h>

#include "internal.h"

static void *std_malloc(void *user, size_t n)
{
    (void)user;
    return malloc(n);
}

static void *std_realloc(void *user, void *p, size_t n)
{
    (void)user;
    return realloc(p, n);
}

static void std_free(void *user, void *p)
{
    (void)user;
    free(p);
}

static const int64_t default_limits[MARK_LIMIT_COUNT_] = {
    [MARK_LIMIT_INPUT_BYTES] = (int64_t)1 << 30,
    [MARK_LIMIT_METADATA_BYTES] = (int64_t)16 << 20,
    [MARK_LIMIT_PIXELS] = (int64_t)1 << 28,
    [MARK_LIMIT_DIMENSION] = 65535,
    [MARK_LIMIT_CHUNKS] = 100000,
    [MARK_LIMIT_LABEL_BYTES] = (int64_t)64 << 10,
    [MARK_LIMIT_DURATION] = 86400,
    [MARK_LIMIT_FRAMES] = 10000000,
    [MARK_LIMIT_TEXT_BYTES] = (int64_t)64 << 20,
};

int mark_ctx_new(mark_ctx **out, const mark_alloc *alloc)
{
    mark_alloc al = { std_malloc, std_realloc, std_free, NULL };
    mark_ctx *ctx;

    if (out == NULL)
        return MARK_EINVAL;
    *out = NULL;
    if (alloc != NULL) {
        if (!alloc->malloc_fn || !alloc->realloc_fn || !alloc->free_fn)
            return MARK_EINVAL;
        al = *alloc;
    }
    ctx = al.malloc_fn(al.user, sizeof *ctx);
    if (ctx == NULL)
        return MARK_ENOMEM;
    memset(ctx, 0, sizeof *ctx);
    ctx->al = al;
    ctx->log_max = MARK_LOG_WARNING;
    memcpy(ctx->limits, default_limits, sizeof ctx->limits);
    /* libxml2 wants its one-time set-up done before threads race to it;
     * it is idempotent, so every new ctx may ask. */
    xmlInitParser();
    /* likewise libsodium (thread-safe, idempotent; < 0 only when the
     * system has no random source) */
    if (sodium_init() < 0) {
        al.free_fn(al.user, ctx);
        return MARK_EIO;
    }
    *out = ctx;
    return MARK_OK;
}

void mark_ctx_free(mark_ctx *ctx)
{
    int i;

    if (ctx == NULL)
        return;
    for (i = 0; i < MARK__SPARES; i++)
        mark__free(ctx, ctx->spare[i].p);
    ctx->al.free_fn(ctx->al.user, ctx);
}

int mark_ctx_set_log(mark_ctx *ctx, mark_log_fn *fn, void *user,
                     int max_level)
{
    if (ctx == NULL || max_level < MARK_LOG_ERROR ||
        max_level > MARK_LOG_DEBUG)
        return MARK_EINVAL;
    ctx->log = fn;
    ctx->log_user = user;
    ctx->log_max = max_level;
    return MARK_OK;
}

int mark_ctx_set_progress(mark_ctx *ctx, mark_progress_fn *fn, void *user)
{
    if (ctx == NULL)
        return MARK_EINVAL;
    ctx->progress = fn;
    ctx->progress_user = user;
    return MARK_OK;
}

int mark_ctx_set_limit(mark_ctx *ctx, int limit, int64_t value)
{
    if (ctx == NULL || limit < 0 || limit >= MARK_LIMIT_COUNT_ || value <= 0)
        return MARK_EINVAL;
    ctx->limits[limit] = value;
    return MARK_OK;
}

int mark_ctx_set_format(mark_ctx *ctx, int format)
{
    if (ctx == NULL || format < MARK_FORMAT_UNKNOWN ||
        format >= MARK_FORMAT_COUNT_)
        return MARK_EINVAL;
    ctx->format = format;
    return MARK_OK;
}

int mark_ctx_set_encoding(mark_ctx *ctx, const char *name)
{
    iconv_t cd;

    if (ctx == NULL)
        return MARK_EINVAL;
    if (name == NULL || name[0] == '\0') {
        ctx->encoding[0] = '\0';
        return MARK_OK;
    }
    if (strlen(name) >= sizeof ctx->encoding)
        return mark__err(ctx, MARK_EINVAL, "encoding name too long");
    cd = iconv_open("UTF-8", name);
    if (cd == (iconv_t)-1)
        return mark__err(ctx, MARK_EUNSUPPORTED, "unknown encoding '%s' "
                         "(iconv -l lists the known ones)", name);
    iconv_close(cd);
    snprintf(ctx->encoding, sizeof ctx->encoding, "%s", name);
    return MARK_OK;
}

int64_t mark_ctx_get_limit(const mark_ctx *ctx, int limit)
{
    if (ctx == NULL || limit < 0 || limit >= MARK_LIMIT_COUNT_)
        return MARK_EINVAL;
    return ctx->limits[limit];
}

const char *mark_ctx_errmsg(const mark_ctx *ctx)
{
    return ctx != NULL ? ctx->errmsg : "";
}

void mark_free(mark_ctx *ctx, void *ptr)
{
    if (ctx != NULL && ptr != NULL)
        ctx->al.free_fn(ctx->al.user, ptr);
}

void *mark__malloc(mark_ctx *ctx, size_t n)
{
    return ctx->al.malloc_fn(ctx->al.user, n ? n : 1);
}

void *mark__calloc(mark_ctx *ctx, size_t n, size_t size)
{
    void *p;

    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    p = mark__malloc(ctx, n * size);
    if (p != NULL)
        memset(p, 0, n * size != 0 ? n * size : 1);
    return p;
}

void *mark__realloc(mark_ctx *ctx, void *p, size_t n)
{
    return ctx->al.realloc_fn(ctx->al.user, p, n ? n : 1);
}

void mark__free(mark_ctx *ctx, void *p)
{
    if (p != NULL)
        ctx->al.free_fn(ctx->al.user, p);
}

void *mark__plane_alloc(mark_ctx *ctx, size_t n)
{
    int i, best = -1;

    /* the smallest spare that holds n, if it is not much larger */
    for (i = 0; i < MARK__SPARES && n >= MARK__SPARE_MIN; i++)
        if (ctx->spare[i].p != NULL && ctx->spare[i].n >= n &&
            ctx->spare[i].n - n <= n / 2 &&
            (best < 0 || ctx->spare[i].n < ctx->spare[best].n))
            best = i;
    if (best >= 0) {
        void *p = ctx->spare[best].p;

        ctx->spare_bytes -= ctx->spare[best].n;
        ctx->spare[best].p = NULL;
        return p;
    }
    return mark__malloc(ctx, n);
}

void mark__plane_free(mark_ctx *ctx, void *p, size_t n)
{
    int i;

    if (p == NULL)
        return;
    if (n >= MARK__SPARE_MIN && n <= MARK__SPARE_BYTES - ctx->spare_bytes)
        for (i = 0; i < MARK__SPARES; i++)
            if (ctx->spare[i].p == NULL) {
                ctx->spare[i].p = p;
                ctx->spare[i].n = n;
                ctx->spare_bytes += n;
                return;
            }
    mark__free(ctx, p);
}

char *mark__strndup(mark_ctx *ctx, const char *s, size_t n)
{
    char *d = mark__malloc(ctx, n + 1);

    if (d == NULL)
        return NULL;
    if (n > 0)                           /* s may be NULL when empty */
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *mark__strdup(mark_ctx *ctx, const char *s)
{
    return mark__strndup(ctx, s, strlen(s));
}

int mark__err(mark_ctx *ctx, int code, const char *fmt, ...)
{
    va_list ap;

    if (ctx == NULL)
        return code;
    va_start(ap, fmt);
    vsnprintf(ctx->errmsg, sizeof ctx->errmsg, fmt, ap);
    va_end(ap);
    mark__log(ctx, MARK_LOG_DEBUG, "error: %s", ctx->errmsg);
    return code;
}

void mark__log(mark_ctx *ctx, int level, const char *fmt, ...)
{
    char msg[MARK__ERRMSG_MAX];
    va_list ap;

    if (ctx == NULL || ctx->log == NULL || level > ctx->log_max)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ctx->log(ctx->log_user, level, msg);
}

const char *mark_strerror(int status)
{
    switch (status) {
    case MARK_OK: return "success";
    case MARK_EINVAL: return "invalid argument";
    case MARK_ENOMEM: return "out of memory";
    case MARK_EIO: return "input/output error";
    case MARK_EFORMAT: return "corrupt or truncated data";
    case MARK_EUNSUPPORTED: return "unsupported format";
    case MARK_ELIMIT: return "limit exceeded";
    case MARK_EKEY: return "bad key";
    case MARK_ESTATE: return "object unusable after an earlier error";
    case MARK_EUNSEEKABLE: return "stream is not seekable";
    case MARK_EBACKEND: return "backend library failure";
    case MARK_ELABEL: return "invalid label record";
    case MARK_EEXIST: return "output exists";
    case MARK_EUNKNOWN: return "unrecognised format";
    case MARK_EEMPTY: return "empty input";
    default: return "unknown error";
    }
}

unsigned mark_version_number(void)
{
    return MARK_VERSION_NUMBER;
}

#define MARK__STR2(x) #x
#define MARK__STR(x) MARK__STR2(x)

const char *mark_version_string(void)
{
    return MARK__STR(MARK_VERSION_MAJOR) "." MARK__STR(MARK_VERSION_MINOR)
        "." MARK__STR(MARK_VERSION_PATCH);
}

int mark_uuid_v4(char buf[37])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[16];
    size_t got = 0;
    int i, o = 0;

    while (got < sizeof r) {
        ssize_t n = getrandom(r + got, sizeof r - got, 0);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return MARK_EIO;
        }
        got += (size_t)n;
    }
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);   /* version 4 */
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            buf[o++] = '-';
        buf[o++] = hex[r[i] >> 4];
        buf[o++] = hex[r[i] & 15];
    }
    buf[o] = '\0';
    return MARK_OK;
}

/* Buffers. */

void mark__buf_init(mark__buf *b, mark_ctx *ctx)
{
    memset(b, 0, sizeof *b);
    b->ctx = ctx;
}

int mark__buf_reserve(mark__buf *b, size_t extra)
{
    size_t need, cap;
    unsigned char *p;

    if (extra > SIZE_MAX - b->len)
        return MARK_ENOMEM;
    need = b->len + extra;
    if (need <= b->cap)
        return MARK_OK;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = mark__realloc(b->ctx, b->data, cap);
    if (p == NULL)
        return mark__err(b->ctx, MARK_ENOMEM, "out of memory (%zu bytes)",
                         cap);
    b->data = p;
    b->cap = cap;
    return MARK_OK;
}

int mark__buf_put(mark__buf *b, const void *p, size_t n)
{
    int rc = mark__buf_reserve(b, n);

    if (rc < 0)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return MARK_OK;
}

int mark__buf_put_be32(mark__buf *b, uint32_t v)
{
    unsigned char s[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
                           (unsigned char)(v >> 8), (unsigned char)v };

    return mark__buf_put(b, s, 4);
}

int mark__buf_put_be16(mark__buf *b, uint16_t v)
{
    unsigned char s[2] = { (unsigned char)(v >> 8), (unsigned char)v };

    return mark__buf_put(b, s, 2);
}

void mark__buf_free(mark__buf *b)
{
    mark__free(b->ctx, b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
