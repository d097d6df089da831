/*
 * text.c - plain UTF-8 text and Markdown: the explicit label (a line at
 * the start and/or the end; a blockquote in Markdown), the metadata label
 * in Markdown's YAML front matter, and the txt-v1 watermark in the body,
 * all written as the text streams through.
 *
 * Reading.  Text from a file or a buffer is read whole (bounded by
 * MARK_LIMIT_INPUT_BYTES) and checked to be UTF-8 before anything is
 * written, so a bad byte is reported with its offset and no output is
 * left.  Text from a pipe is read only as far as needed to decide on a
 * BOM and, in Markdown, the front matter (bounded by
 * MARK_LIMIT_METADATA_BYTES); the rest passes through when saving, each
 * read's worth checked, marked and written at once, in constant memory.
 * The verifier reads a pipe whole when it needs the text.  Text in
 * another encoding (mark_ctx_set_encoding) is converted with iconv when
 * read, and the output back when written; it is always read whole.
 *
 * The front matter of Markdown is read and written by label/frontmatter.c.
 *
 * The label lines take the line end of the text's first line (CRLF or
 * LF).  Hostile input: every offset is bounds-checked, memory is bounded
 * by the limits above, and a cut or bad UTF-8 sequence anywhere, also
 * across the pieces of a pipe, is an error with its offset.
 */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "signal/signal.h"

#define PIECE 65536                     /* bytes handled per step */
#define TAIL_KEEP 16384                 /* body bytes kept to look for an
                                           end label in a stream */
#define EDGE_CHARS 64                   /* the verifier's window */
#define KEEP_SEARCH ((size_t)1 << 20)   /* bytes searched for a mark to
                                           keep when re-marking */

typedef struct text_priv {
    mark_media *self;                   /* its media (the verifier's
                                           hooks get a const one) */
    mark__buf in;                       /* the input as read so far (the
                                           whole of it when whole), UTF-8 */
    int whole;                          /* in holds all of the input */
    int eof;                            /* the source has ended */
    int consumed;                       /* a pipe read through by a save */
    size_t bom;                         /* 3 with a UTF-8 BOM, else 0 */
    int has_fm;                         /* front matter at [bom, body) */
    mark__fm fm;                        /* ... where it is */
    size_t body;                        /* offset of the body */
    unsigned char carry[4];             /* a UTF-8 sequence cut by the end
                                           of what was read */
    size_t ncarry;
    uint64_t vpos;                      /* input offset of carry[0] */
    uint64_t total;                     /* bytes read from the source */
    char enc[64];                       /* encoding of the input ("" UTF-8):
                                           the ctx's, or UTF-16 told by
                                           its byte order mark */
} text_priv;

/* ------------------------------------------------------------------ */
/* UTF-8 */

/* Scan n bytes: 0 valid; 1 an invalid byte (or NUL) at *at; 2 valid up to
 * a sequence cut by the end, starting at *at. */
static int utf8_scan(const unsigned char *p, size_t n, size_t *at)
{
    size_t i = 0, k, need;

    while (i < n) {
        unsigned c;

        if (i + 8 <= n) {
            uint64_t v;

            memcpy(&v, p + i, 8);
            /* eight ASCII bytes, none of them NUL */
            if ((v & 0x8080808080808080ull) == 0 &&
                ((v - 0x0101010101010101ull) & ~v &
                 0x8080808080808080ull) == 0) {
                i += 8;
                continue;
            }
        }
        c = p[i];
        if (c < 0x80) {
            if (c == 0) {
                *at = i;
                return 1;
            }
            i++;
            continue;
        }
        need = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2
             : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
        if (need == 0) {
            *at = i;
            return 1;
        }
        for (k = 1; k <= need; k++) {
            unsigned d;

            if (i + k >= n) {
                *at = i;
                return 2;
            }
            d = p[i + k];
            if ((d & 0xc0) != 0x80 ||
                (k == 1 && ((c == 0xe0 && d < 0xa0) ||
                            (c == 0xed && d > 0x9f) ||
                            (c == 0xf0 && d < 0x90) ||
                            (c == 0xf4 && d > 0x8f)))) {
                *at = i;
                return 1;
            }
        }
        i += need + 1;
    }
    return 0;
}

static int bad_utf8(mark_ctx *ctx, const unsigned char *p, uint64_t off,
                    int cut)
{
    if (!cut && *p == 0)
        return mark__err(ctx, MARK_EFORMAT, "NUL byte at byte %llu: not "
                         "text", (unsigned long long)off);
    return mark__err(ctx, MARK_EFORMAT, "invalid UTF-8 at byte %llu%s",
                     (unsigned long long)off,
                     cut ? " (a sequence cut by the end)" : "");
}

/* Check n new bytes at p (input offset vpos + ncarry), with the bytes of
 * a sequence the last piece cut carried in front; keep a new cut tail. */
static int check_piece(mark_ctx *ctx, text_priv *t, const unsigned char *p,
                       size_t n, int eof)
{
    unsigned char joint[8];
    size_t at;
    int r;

    if (t->ncarry > 0) {
        /* finish the carried sequence with the first new bytes */
        unsigned c = t->carry[0];
        size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        size_t need = len - t->ncarry, take = n < need ? n : need;

        memcpy(joint, t->carry, t->ncarry);
        if (take > 0)
            memcpy(joint + t->ncarry, p, take);
        r = utf8_scan(joint, t->ncarry + take, &at);
        if (r == 1)
            return bad_utf8(ctx, joint + at, t->vpos + at, 0);
        if (r == 2) {
            if (eof)
                return bad_utf8(ctx, joint, t->vpos, 1);
            memcpy(t->carry, joint, t->ncarry + take);
            t->ncarry += take;
            return MARK_OK;
        }
        t->vpos += len;
        p += take;
        n -= take;
        t->ncarry = 0;
    }
    r = utf8_scan(p, n, &at);
    if (r == 1)
        return bad_utf8(ctx, p + at, t->vpos + at, 0);
    if (r == 2) {
        if (eof)
            return bad_utf8(ctx, p + at, t->vpos + at, 1);
        t->ncarry = n - at;
        memcpy(t->carry, p + at, t->ncarry);
        t->vpos += at;
        return MARK_OK;
    }
    t->vpos += n;
    return MARK_OK;
}

/* The code point at p (valid UTF-8, at least one byte); *len its length. */
static uint32_t decode(const unsigned char *p, size_t n, size_t *len)
{
    unsigned c = p[0];

    if (c < 0x80 || n < 2) {
        *len = 1;
        return c;
    }
    if (c < 0xe0) {
        *len = 2;
        return ((uint32_t)(c & 0x1f) << 6) | (p[1] & 0x3f);
    }
    if (c < 0xf0 || n < 4) {
        *len = n < 3 ? n : 3;
        return n < 3 ? 0xfffd
                     : ((uint32_t)(c & 0x0f) << 12) |
                       ((uint32_t)(p[1] & 0x3f) << 6) | (p[2] & 0x3f);
    }
    *len = 4;
    return ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(p[1] & 0x3f) << 12) |
           ((uint32_t)(p[2] & 0x3f) << 6) | (p[3] & 0x3f);
}

static int is_space(uint32_t u)
{
    return u == ' ' || (u >= '\t' && u <= '\r') || u == 0xa0 ||
           u == 0x3000 || u == 0xfeff || u == 0x2028 || u == 0x2029 ||
           (u >= 0x2000 && u <= 0x200a);
}

/* ------------------------------------------------------------------ */
/* The explicit label: both elements within the first or last 64
 * non-space characters (our invisible code points not counted). */

/* Copy s[from, to) without our code points into out (cap bytes, NUL
 * terminated; cut at a character boundary). */
static void window_copy(const unsigned char *s, size_t from, size_t to,
                        char *out, size_t cap)
{
    size_t i = from, o = 0, len;

    while (i < to) {
        uint32_t u = decode(s + i, to - i, &len);

        if (!mark__txtwm_is_ours(u)) {
            if (o + len + 1 > cap)
                break;
            memcpy(out + o, s + i, len);
            o += len;
        }
        i += len;
    }
    out[o] = '\0';
}

/* Where the first (from_end 0) or last EDGE_CHARS non-space characters of
 * s[0, n) start and end. */
static void edge_span(const unsigned char *s, size_t n, int from_end,
                      size_t *a, size_t *b)
{
    size_t i, len, count = 0;

    if (!from_end) {
        for (i = 0; i < n && count < EDGE_CHARS; i += len) {
            uint32_t u = decode(s + i, n - i, &len);

            if (!is_space(u) && !mark__txtwm_is_ours(u))
                count++;
        }
        *a = 0;
        *b = i;
        return;
    }
    i = n;
    while (i > 0 && count < EDGE_CHARS) {
        size_t st = i - 1;

        while (st > 0 && (s[st] & 0xc0) == 0x80 && i - st < 4)
            st--;
        {
            uint32_t u = decode(s + st, n - st, &len);

            if (!is_space(u) && !mark__txtwm_is_ours(u))
                count++;
        }
        i = st;
    }
    *a = i;
    *b = n;
}

/* The label found in a window: the line holding both elements (without
 * a blockquote's "> "), else the window with its spaces squeezed. */
static void label_text(const char *w, char *out, size_t cap)
{
    const char *l = w, *e;
    char line[256];
    size_t o = 0;
    int sp = 0;

    while (*l != '\0') {
        size_t n;

        e = strchr(l, '\n');
        n = e != NULL ? (size_t)(e - l) : strlen(l);
        while (n > 0 && (*l == ' ' || *l == '\t' || *l == '>')) {
            l++;
            n--;
        }
        while (n > 0 && (l[n - 1] == ' ' || l[n - 1] == '\r' ||
                         l[n - 1] == '\t'))
            n--;
        if (n < sizeof line) {
            memcpy(line, l, n);
            line[n] = '\0';
            if (mark_explicit_text_check(line, NULL, 0) == MARK_OK) {
                snprintf(out, cap, "%s", line);
                return;
            }
        }
        if (e == NULL)
            break;
        l = e + 1;
    }
    for (l = w; *l != '\0' && o + 1 < cap; l++) {
        int s = *l == ' ' || *l == '\n' || *l == '\r' || *l == '\t';

        if (s && (sp || o == 0))
            continue;
        out[o++] = s ? ' ' : *l;
        sp = s;
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    /* a character cut by the cap */
    while (o > 0 && ((unsigned char)out[o - 1] & 0xc0) == 0x80)
        o--;
    if (o > 0 && ((unsigned char)out[o - 1] & 0xc0) == 0xc0)
        o--;
    out[o] = '\0';
}

/* Look at both ends of the body s[0, n): *start / *end (either may be
 * NULL) say whether each holds a label; text (may be NULL) receives the
 * first found. */
static void text_edges(const unsigned char *s, size_t n, int *start,
                       int *end, char *text, size_t cap, int *overlap)
{
    char w[EDGE_CHARS * 16 + 1];
    size_t a, b, first_end = 0;
    int found[2] = { 0, 0 }, k;

    if (text != NULL && cap > 0)
        text[0] = '\0';
    for (k = 0; k < 2; k++) {
        edge_span(s, n, k, &a, &b);
        if (k == 0)
            first_end = b;
        else if (overlap != NULL)
            *overlap = a < first_end;   /* a short text: one window */
        window_copy(s, a, b, w, sizeof w);
        found[k] = mark_explicit_text_check(w, NULL, 0) == MARK_OK;
        if (found[k] && text != NULL && text[0] == '\0')
            label_text(w, text, cap);
    }
    if (start != NULL)
        *start = found[0];
    if (end != NULL)
        *end = found[1];
}

/* ------------------------------------------------------------------ */
/* Reading */

/* The text limit, on what was read so far (pipes too, which are not
 * held whole). */
static int text_limit(mark_media *m, uint64_t n)
{
    int64_t limit = m->ctx->limits[MARK_LIMIT_TEXT_BYTES];

    if (n > (uint64_t)limit)
        return mark__err(m->ctx, MARK_ELIMIT, "text exceeds the limit of "
                         "%lld bytes", (long long)limit);
    return MARK_OK;
}

static int take(mark_media *m, text_priv *t, size_t want)
{
    int64_t n;
    int rc = mark__buf_reserve(&t->in, want);

    if (rc < 0)
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    n = mark__src_read(m->src, t->in.data + t->in.len, want);
    if (n < 0)
        return (int)n;
    if (n == 0)
        t->eof = 1;
    t->in.len += (size_t)n;
    t->total += (uint64_t)n;
    return text_limit(m, t->total);
}

/* Read all that is left (bounded by the input limit). */
static int read_rest(mark_media *m, text_priv *t)
{
    int64_t limit = m->ctx->limits[MARK_LIMIT_INPUT_BYTES];
    int rc;

    while (!t->eof) {
        rc = take(m, t, PIECE);
        if (rc < 0)
            return rc;
        if ((int64_t)t->in.len > limit)
            return mark__err(m->ctx, MARK_ELIMIT, "text exceeds the limit "
                             "of %lld bytes", (long long)limit);
    }
    return MARK_OK;
}

/* Convert the whole input from its encoding (t->enc) to UTF-8. */
static int convert_in(mark_media *m, text_priv *t)
{
    const char *enc = t->enc;
    iconv_t cd = iconv_open("UTF-8", enc);
    mark__buf o;
    char *ip = (char *)t->in.data, *op;
    size_t il = t->in.len, ol;
    int rc = MARK_OK;

    if (cd == (iconv_t)-1)
        return mark__err(m->ctx, MARK_EUNSUPPORTED, "unknown encoding "
                         "'%s'", enc);
    mark__buf_init(&o, m->ctx);
    while (il > 0 && rc == MARK_OK) {
        rc = mark__buf_reserve(&o, il * 2 + 64);
        if (rc < 0)
            break;
        op = (char *)o.data + o.len;
        ol = o.cap - o.len;
        if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 && errno != E2BIG)
            rc = mark__err(m->ctx, MARK_EFORMAT, "not valid %s at byte "
                           "%zu", enc, (size_t)(ip - (char *)t->in.data));
        o.len = (size_t)((unsigned char *)op - o.data);
    }
    iconv_close(cd);
    if (rc < 0) {
        mark__buf_free(&o);
        return rc == MARK_ENOMEM ? mark__err(m->ctx, rc, "out of memory")
                                 : rc;
    }
    mark__buf_free(&t->in);
    t->in = o;
    return MARK_OK;
}

static void count_lines(mark_media *m, const text_priv *t)
{
    const unsigned char *s = t->in.data, *p = s, *e = s + t->in.len;
    int64_t lf = 0, crlf = 0;

    while (p < e && (p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
        lf++;
        if (p > s && p[-1] == '\r')
            crlf++;
        p++;
    }
    m->info.lines = lf + (t->in.len > t->bom && s[t->in.len - 1] != '\n');
    m->info.line_ends = lf == 0 ? "none" : crlf == lf ? "CRLF"
                      : crlf == 0 ? "LF" : "mixed";
}

/* Decide on the BOM and front matter from what was read: 1 done, 0 more
 * input needed. */
static int head_decided(const mark_media *m, text_priv *t)
{
    const unsigned char *s = t->in.data;
    size_t n = t->in.len;
    int r;

    if (n == 0)
        return t->eof;
    if (n < 3 && !t->eof && memcmp(s, "\xef\xbb\xbf", n) == 0)
        return 0;
    t->bom = n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    t->body = t->bom;
    if (m->info.format != MARK_FORMAT_MARKDOWN)
        return 1;
    r = mark__fm_find(s, t->bom, n, t->eof, &t->fm);
    if (r < 0)
        return 0;
    if (r == 1) {
        t->has_fm = 1;
        t->body = t->fm.body;
    }
    return 1;
}

static void set_info(mark_media *m, const text_priv *t)
{
    m->info.encoding = t->enc[0] != '\0' ? t->enc
                     : t->bom ? "UTF-8 with BOM" : "UTF-8";
    if (t->whole) {
        m->info.bytes = (int64_t)t->in.len;
        if (m->src != NULL && m->src->size >= 0)
            m->info.bytes = m->src->size;
        count_lines(m, t);
    } else {
        m->info.lines = -1;
        m->info.line_ends = "unknown";
    }
}

/* The input so far starts with a UTF-16 byte order mark: its byte order
 * becomes the encoding.  The mark itself is decoded as U+FEFF, a UTF-8
 * BOM here, kept and written back as it was. */
static void utf16_bom(text_priv *t)
{
    if (t->in.len >= 2 && t->in.data[0] == 0xff && t->in.data[1] == 0xfe)
        snprintf(t->enc, sizeof t->enc, "UTF-16LE");
    else if (t->in.len >= 2 && t->in.data[0] == 0xfe &&
             t->in.data[1] == 0xff)
        snprintf(t->enc, sizeof t->enc, "UTF-16BE");
}

static int text_parse(mark_media *m)
{
    text_priv *t = mark__calloc(m->ctx, 1, sizeof *t);
    int64_t fm_limit = m->ctx->limits[MARK_LIMIT_METADATA_BYTES];
    int rc = MARK_OK;

    if (t == NULL)
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    m->priv = t;
    t->self = m;
    if (m->src == NULL) {
        mark__free(m->ctx, t);
        m->priv = NULL;
        return mark__err(m->ctx, MARK_EINVAL, "text is read from a source");
    }
    mark__buf_init(&t->in, m->ctx);
    if (m->src->mem != NULL && m->src->own_mem && m->src->pos == 0 &&
        m->src->ahead_off >= m->src->ahead_len) {
        /* a buffer (a copy already): taken over, not copied again */
        t->in.data = (unsigned char *)(uintptr_t)m->src->mem;
        t->in.len = t->in.cap = m->src->mem_len;
        m->src->mem = NULL;
        m->src->own_mem = 0;
        t->eof = 1;
        t->total = t->in.len;
    }
    /* a file says its size: refused before it is read */
    if (rc == MARK_OK && m->src->size > 0)
        rc = text_limit(m, (uint64_t)m->src->size);
    if (rc == MARK_OK)
        rc = text_limit(m, t->total);
    if (rc < 0)
        return rc;
    snprintf(t->enc, sizeof t->enc, "%s", m->ctx->encoding);
    /* UTF-16 with a byte order mark (Windows' "Unicode" text) is read as
     * such without being told: a pipe's first two bytes say */
    while (rc == MARK_OK && t->enc[0] == '\0' && !m->src->seekable &&
           !t->eof && t->in.len < 2)
        rc = take(m, t, PIECE);
    if (rc == MARK_OK && t->enc[0] == '\0')
        utf16_bom(t);
    if (m->src->seekable || t->enc[0] != '\0') {
        rc = read_rest(m, t);
        if (rc == MARK_OK && t->enc[0] == '\0')
            utf16_bom(t);
        if (rc == MARK_OK && t->enc[0] != '\0')
            rc = convert_in(m, t);
        if (rc < 0)
            return rc;
        t->whole = 1;
        if (t->in.len == 0)
            return mark__err(m->ctx, MARK_EEMPTY, "input is empty");
    } else {
        /* a pipe: only as far as the head needs (a few bytes, or the
         * front matter) */
        while (rc == MARK_OK && !t->eof &&
               !(t->in.len > 0 && head_decided(m, t))) {
            rc = take(m, t, PIECE);
            if (rc == MARK_OK && (int64_t)t->in.len > fm_limit + 8)
                rc = mark__err(m->ctx, MARK_ELIMIT, "front matter longer "
                               "than the limit of %lld bytes",
                               (long long)fm_limit);
        }
        if (rc < 0)
            return rc;
        if (t->eof)
            t->whole = 1;
    }
    head_decided(m, t);
    rc = check_piece(m->ctx, t, t->in.data, t->in.len, t->eof);
    if (rc < 0)
        return rc;
    if (t->has_fm) {
        rc = mark__fm_scan(m, t->in.data, &t->fm);
        if (rc < 0)
            return rc;
    }
    set_info(m, t);
    return MARK_OK;
}

/* The verifier needs all of a piped text. */
static int text_load(const mark_media *m)
{
    text_priv *t = m->priv;
    size_t from;
    int rc;

    if (t->whole)
        return MARK_OK;
    if (t->consumed)
        return mark__err(m->ctx, MARK_EUNSEEKABLE, "the text of a pipe is "
                         "read once, and was read by a save");
    from = t->in.len;
    rc = read_rest(t->self, t);
    if (rc == MARK_OK)
        rc = check_piece(m->ctx, t, t->in.data + from, t->in.len - from, 1);
    if (rc < 0)
        return rc;
    t->whole = 1;
    set_info(t->self, t);
    return MARK_OK;
}

/* ------------------------------------------------------------------ */
/* The explicit label and the watermark, for the verifier */

static int text_explicit(const mark_media *m, mark__explicit *res,
                         double edge)
{
    text_priv *t = m->priv;
    int start, end, overlap = 0, rc;

    (void)edge;
    memset(res, 0, sizeof *res);
    rc = text_load(m);
    if (rc < 0)
        return rc;
    text_edges(t->in.data + t->body, t->in.len - t->body, &start, &end,
               res->text, sizeof res->text, &overlap);
    if (start && overlap)
        end = 0;                        /* the same label, seen twice */
    res->checked = 1;
    res->found = start || end;
    res->score = res->found ? 1.0 : 0.0;
    snprintf(res->position, sizeof res->position, "%s",
             start && end ? "start+end" : start ? "start" : end ? "end"
                                                            : "");
    snprintf(res->note, sizeof res->note, "%s", res->found
             ? "both elements within the first or last 64 non-space "
               "characters"
             : "no label with both elements (AI / \xe4\xba\xba\xe5\xb7\xa5"
               "\xe6\x99\xba\xe8\x83\xbd and \xe7\x94\x9f\xe6\x88\x90 / "
               "\xe5\x90\x88\xe6\x88\x90) in the first or last 64 "
               "non-space characters");
    return MARK_OK;
}

int mark__text_detect(mark_media *m, const mark_key *key)
{
    text_priv *t = m->priv;
    mark__txtwm_result r;
    int rc = text_load(m);

    if (rc == MARK_EUNSEEKABLE) {
        m->wm.note = "the text of a pipe is read once, and was read by a "
                     "save";
        return MARK_OK;
    }
    if (rc < 0)
        return rc;
    rc = mark__txtwm_detect(m->ctx, key, (const char *)t->in.data + t->body,
                            t->in.len - t->body, &r);
    if (rc < 0)
        return rc;
    m->wm.detected = 1;
    m->wm.found = r.found;
    m->wm.found_payload = r.payload;
    m->wm.score = r.score;
    m->wm.candidates = r.tries;
    m->wm.partial = r.partial;
    m->wm.copies = r.copies;
    m->wm.copies_ok = r.copies_ok;
    m->wm.symbols = r.symbols;
    return MARK_OK;
}

int mark__text_has_watermark(mark_media *m, const mark_key *key)
{
    text_priv *t = m->priv;
    mark__txtwm_result r;
    int rc;
    size_t n;

    if (t == NULL || !t->whole)
        return 0;
    /* copies follow each other every few hundred characters: the start
     * tells, and marking stays as fast on a long text */
    n = t->in.len - t->body < KEEP_SEARCH ? t->in.len - t->body
                                          : KEEP_SEARCH;
    rc = mark__txtwm_detect(m->ctx, key, (const char *)t->in.data + t->body,
                            n, &r);
    return rc < 0 ? rc : r.found;
}

/* ------------------------------------------------------------------ */
/* Writing */

typedef struct out_state {
    mark_media *m;
    text_priv *t;
    mark__sink *sink;
    mark__buf o;                        /* output not yet written */
    int direct;                         /* write as it comes (UTF-8) */
    mark__txtwm *wm;
    int start_due;                      /* start label still to write */
    const char *eol;                    /* of the label lines; NULL: not
                                           known yet */
    int md;                             /* Markdown: blockquote labels */
    int any;                            /* body bytes seen */
    int ends_nl;                        /* ... the last one a '\n' */
    unsigned char *tail;                /* the last body bytes (streams) */
    size_t ntail;
    int fences;                         /* Markdown with an end label:
                                           track code fences */
    unsigned char line[16];             /* the start of the current line */
    size_t nline;
    char fence_ch;                      /* an open fence's '`' or '~' */
    size_t fence_len;                   /* ... and its length */
} out_state;

/* A Markdown code fence (CommonMark: up to 3 spaces, then 3 or more
 * backticks or tildes) at the start of a line opens or closes a code
 * block.  One left open at the end would swallow the end label, so it
 * is closed first, which CommonMark renders the same (an open block
 * ends with the document).  Only the first 16 bytes of a line are
 * looked at. */
static void fence_line(out_state *s)
{
    const unsigned char *l = s->line;
    size_t n = s->nline, i = 0, run = 0, k;
    unsigned char c;

    while (i < n && i < 3 && l[i] == ' ')
        i++;
    if (i >= n || (l[i] != '`' && l[i] != '~'))
        return;
    c = l[i];
    while (i + run < n && l[i + run] == c)
        run++;
    if (run < 3)
        return;
    if (s->fence_ch == 0) {
        /* an info string after backticks holds no backtick */
        if (c == '`' && memchr(l + i + run, '`', n - i - run) != NULL)
            return;
        s->fence_ch = (char)c;
        s->fence_len = run;
        return;
    }
    if (c != (unsigned char)s->fence_ch || run < s->fence_len)
        return;
    for (k = i + run; k < n; k++)
        if (l[k] != ' ' && l[k] != '\t' && l[k] != '\r' && l[k] != '\n')
            return;
    s->fence_ch = 0;
}

static void track_fences(out_state *s, const unsigned char *p, size_t n)
{
    size_t i = 0;

    while (i < n) {
        const unsigned char *nl = memchr(p + i, '\n', n - i);
        size_t take = nl != NULL ? (size_t)(nl - p) + 1 - i : n - i;
        size_t room = sizeof s->line - s->nline;

        memcpy(s->line + s->nline, p + i, take < room ? take : room);
        s->nline += take < room ? take : room;
        if (nl != NULL) {
            fence_line(s);
            s->nline = 0;
        }
        i += take;
    }
}

static int flush(out_state *s)
{
    int rc = MARK_OK;

    if (s->direct && s->o.len > 0) {
        rc = mark__sink_write(s->sink, s->o.data, s->o.len);
        s->o.len = 0;
    }
    return rc;
}

static int put_label(out_state *s)
{
    const char *l = s->m->text_label != NULL ? s->m->text_label
                                             : MARK_TEXT_LABEL_DEFAULT;
    int rc = s->md ? mark__buf_put(&s->o, "> ", 2) : MARK_OK;

    if (rc == MARK_OK)
        rc = mark__buf_put(&s->o, l, strlen(l));
    if (rc == MARK_OK)
        rc = mark__buf_put(&s->o, s->eol, strlen(s->eol));
    return rc;
}

/* The first line end in p decides the label lines' (LF if none). */
static void pick_eol(out_state *s, const unsigned char *p, size_t n)
{
    const unsigned char *nl;

    if (s->eol != NULL)
        return;
    nl = memchr(p, '\n', n);
    if (nl != NULL)
        s->eol = nl > p && nl[-1] == '\r' ? "\r\n" : "\n";
    else
        s->eol = s->t->has_fm && s->t->fm.crlf ? "\r\n" : "\n";
}

static int body_piece(out_state *s, const unsigned char *p, size_t n)
{
    int rc = MARK_OK;

    if (n == 0)
        return MARK_OK;
    pick_eol(s, p, n);
    if (s->start_due) {
        s->start_due = 0;
        rc = put_label(s);
        if (rc == MARK_OK)
            rc = mark__buf_put(&s->o, s->eol, strlen(s->eol));
    }
    if (rc == MARK_OK)
        rc = s->wm != NULL ? mark__txtwm_feed(s->wm, (const char *)p, n,
                                              &s->o)
                           : mark__buf_put(&s->o, p, n);
    s->any = 1;
    s->ends_nl = p[n - 1] == '\n';
    if (s->fences)
        track_fences(s, p, n);
    if (s->tail != NULL) {
        if (n >= TAIL_KEEP) {
            memcpy(s->tail, p + n - TAIL_KEEP, TAIL_KEEP);
            s->ntail = TAIL_KEEP;
        } else {
            if (s->ntail + n > TAIL_KEEP) {
                size_t drop = s->ntail + n - TAIL_KEEP;

                memmove(s->tail, s->tail + drop, s->ntail - drop);
                s->ntail -= drop;
            }
            memcpy(s->tail + s->ntail, p, n);
            s->ntail += n;
        }
    }
    if (rc == MARK_OK)
        rc = flush(s);
    return rc;
}

/* The output converted back to the input's encoding, written. */
static int write_converted(out_state *s)
{
    const char *enc = s->t->enc;
    iconv_t cd = iconv_open(enc, "UTF-8");
    char buf[PIECE], *ip = (char *)s->o.data, *op;
    size_t il = s->o.len, ol;
    int rc = MARK_OK;

    if (cd == (iconv_t)-1)
        return mark__err(s->m->ctx, MARK_EUNSUPPORTED, "unknown encoding "
                         "'%s'", enc);
    while (rc == MARK_OK) {
        size_t r;

        op = buf;
        ol = sizeof buf;
        r = iconv(cd, il > 0 ? &ip : NULL, &il, &op, &ol);
        if (r == (size_t)-1 && errno != E2BIG) {
            size_t len;
            uint32_t u = decode((unsigned char *)ip, il, &len);

            rc = mark__err(s->m->ctx, MARK_EFORMAT, "cannot write the text "
                           "in %s: it has no code for U+%04X", enc,
                           (unsigned)u);
            break;
        }
        rc = mark__sink_write(s->sink, buf, (size_t)(op - buf));
        if (r != (size_t)-1 && il == 0) {
            /* the shift state back to the initial one */
            op = buf;
            ol = sizeof buf;
            if (iconv(cd, NULL, NULL, &op, &ol) != (size_t)-1 &&
                rc == MARK_OK)
                rc = mark__sink_write(s->sink, buf, (size_t)(op - buf));
            break;
        }
    }
    iconv_close(cd);
    return rc;
}

/* The front matter to write: the input's with the staged label merged,
 * or a new one in the line ends of the text's first line. */
static int front_matter(const mark_media *m, const text_priv *t,
                        mark__buf *out)
{
    const unsigned char *nl;

    if (t->has_fm)
        return mark__fm_write(t->in.data, &t->fm, m->staged, NULL, out);
    nl = t->in.len > t->bom ? memchr(t->in.data + t->bom, '\n',
                                     t->in.len - t->bom) : NULL;
    return mark__fm_write(t->in.data, NULL, m->staged,
                          nl != NULL && nl > t->in.data + t->bom &&
                          nl[-1] == '\r' ? "\r\n" : "\n", out);
}

static int text_stream(mark_media *m, mark__pixel_ops *ops,
                       mark__sink *sink)
{
    text_priv *t = m->priv;
    out_state s;
    unsigned char *buf = NULL;
    int where = m->text_where, rc = MARK_OK, had_start = 0, had_end = 0;

    if (t->consumed)
        return mark__err(m->ctx, MARK_ESTATE, "the text of a pipe can be "
                         "saved once");
    memset(&s, 0, sizeof s);
    s.m = m;
    s.t = t;
    s.sink = sink;
    s.direct = t->enc[0] == '\0';
    s.md = m->info.format == MARK_FORMAT_MARKDOWN;
    mark__buf_init(&s.o, m->ctx);
    /* a label already at an end is not added there again; a stream's
     * start goes out before it is known */
    if (where && t->whole)
        text_edges(t->in.data + t->body, t->in.len - t->body, &had_start,
                   &had_end, NULL, 0, NULL);
    if (had_start)
        where &= ~MARK_TEXT_LABEL_START;
    if (had_end)
        where &= ~MARK_TEXT_LABEL_END;
    s.start_due = !!(where & MARK_TEXT_LABEL_START);
    s.fences = s.md && (where & MARK_TEXT_LABEL_END);
    if ((where & MARK_TEXT_LABEL_END) && !t->whole) {
        s.tail = mark__malloc(m->ctx, TAIL_KEEP);
        if (s.tail == NULL)
            return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    }
    if (ops->watermark)
        rc = mark__txtwm_new(m->ctx, ops->key, &ops->payload, &s.wm);
    /* the head: BOM, front matter */
    if (rc == MARK_OK && t->bom)
        rc = mark__buf_put(&s.o, t->in.data, t->bom);
    if (rc == MARK_OK && s.md)
        rc = front_matter(m, t, &s.o);
    if (rc == MARK_OK)
        rc = flush(&s);
    /* the body read so far (all of it when whole), in pieces */
    {
        size_t i = t->body;

        while (rc == MARK_OK && i < t->in.len) {
            size_t n = t->in.len - i < PIECE ? t->in.len - i : PIECE;

            rc = body_piece(&s, t->in.data + i, n);
            i += n;
        }
    }
    /* then a pipe's rest, each read's worth out at once */
    if (rc == MARK_OK && !t->whole) {
        t->consumed = 1;
        buf = mark__malloc(m->ctx, PIECE);
        if (buf == NULL)
            rc = mark__err(m->ctx, MARK_ENOMEM, "out of memory");
        while (rc == MARK_OK) {
            int64_t n = mark__src_read(m->src, buf, PIECE);

            if (n < 0) {
                rc = (int)n;
                break;
            }
            t->total += (uint64_t)n;
            rc = text_limit(m, t->total);
            if (rc == MARK_OK)
                rc = check_piece(m->ctx, t, buf, (size_t)n, n == 0);
            if (rc == MARK_OK)
                rc = body_piece(&s, buf, (size_t)n);
            if (n == 0)
                break;
        }
    }
    if (rc == MARK_OK && s.eol == NULL)
        pick_eol(&s, (const unsigned char *)"", 0);
    if (rc == MARK_OK && s.start_due) {
        /* nothing came: the label alone */
        s.start_due = 0;
        rc = put_label(&s);
        if (rc == MARK_OK && (where & MARK_TEXT_LABEL_END))
            rc = mark__buf_put(&s.o, s.eol, strlen(s.eol));
        s.any = 0;
    }
    if (rc == MARK_OK && s.wm != NULL) {
        rc = mark__txtwm_finish(s.wm, &s.o);
        ops->wm_skipped = mark__txtwm_copies(s.wm) == 0;
    }
    if (rc == MARK_OK && s.tail != NULL && s.ntail > 0) {
        size_t k = 0;

        /* the kept bytes may start inside a character */
        while (k < s.ntail && k < 3 && (s.tail[k] & 0xc0) == 0x80)
            k++;
        text_edges(s.tail + k, s.ntail - k, NULL, &had_end, NULL, 0, NULL);
        if (had_end)
            where &= ~MARK_TEXT_LABEL_END;
    }
    if (rc == MARK_OK && (where & MARK_TEXT_LABEL_END)) {
        if (s.any && !s.ends_nl)
            rc = mark__buf_put(&s.o, s.eol, strlen(s.eol));
        if (s.fences && s.nline > 0)
            fence_line(&s);             /* a last line without an end */
        if (rc == MARK_OK && s.fences && s.fence_ch != 0) {
            char f[64];
            size_t k;

            memset(f, s.fence_ch, sizeof f);
            for (k = s.fence_len; k > 0 && rc == MARK_OK;
                 k -= k < sizeof f ? k : sizeof f)
                rc = mark__buf_put(&s.o, f, k < sizeof f ? k : sizeof f);
            if (rc == MARK_OK)
                rc = mark__buf_put(&s.o, s.eol, strlen(s.eol));
        }
        if (rc == MARK_OK && s.any)
            rc = mark__buf_put(&s.o, s.eol, strlen(s.eol));
        if (rc == MARK_OK)
            rc = put_label(&s);
    }
    if (rc == MARK_OK)
        rc = s.direct ? flush(&s) : write_converted(&s);
    mark__txtwm_free(s.wm);
    mark__free(m->ctx, s.tail);
    mark__free(m->ctx, buf);
    mark__buf_free(&s.o);
    return rc;
}

static void text_uninit(mark_media *m)
{
    text_priv *t = m->priv;

    if (t == NULL)
        return;
    mark__buf_free(&t->in);
    mark__fm_free(m->ctx, &t->fm);
    mark__free(m->ctx, t);
    m->priv = NULL;
}

const mark__container mark__container_text = {
    .name = "text", .format = MARK_FORMAT_TEXT, .type = MARK_MEDIA_TEXT,
    .parse = text_parse, .uninit = text_uninit,
    .explicit_check = text_explicit, .stream = text_stream,
};

const mark__container mark__container_markdown = {
    .name = "markdown", .format = MARK_FORMAT_MARKDOWN,
    .type = MARK_MEDIA_TEXT,
    .parse = text_parse, .uninit = text_uninit,
    .explicit_check = text_explicit, .stream = text_stream,
};
