/*
 * test_text.c - plain text and Markdown through the public API: format
 * recognition and the forced format, the front matter label (read in its
 * forms, written merged, exactly one), the text label (where, checks, not
 * twice), bad UTF-8 with its offset, limits, and a pipe read through
 * callbacks: output written before the input ends, and the same bytes
 * whatever the read sizes.  The texts are written here.
 */
#include <stdint.h>
#include <mark.h>

#include "harness.h"

#define CODE "001191110102MAD55U9H0F10002"
#define LABEL MARK_TEXT_LABEL_DEFAULT

static mark_ctx *ctx;

static char *cat(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    char *o = malloc(n + m + 1);

    memcpy(o, a, n);
    memcpy(o + n, b, m + 1);
    return o;
}

static mark_label *make_label(const char *id)
{
    mark_label *l = NULL;

    if (mark_label_new(ctx, &l) != MARK_OK)
        return NULL;
    mark_label_set(l, MARK_FIELD_LABEL, "1");
    mark_label_set(l, MARK_FIELD_CONTENT_PRODUCER, CODE);
    mark_label_set(l, MARK_FIELD_PRODUCE_ID, id);
    mark_label_first_write(l);
    return l;
}

/* Open text, apply a label and / or a text label, save to a string. */
static char *mark_text(const char *in, int fmt, const char *id, int where,
                       int *rc_out)
{
    mark_media *m = NULL;
    mark_label *l = NULL;
    void *out = NULL;
    size_t len = 0;
    char *s = NULL;
    int rc;

    mark_ctx_set_format(ctx, fmt);
    rc = mark_media_open_buffer(ctx, &m, in, strlen(in));
    mark_ctx_set_format(ctx, MARK_FORMAT_UNKNOWN);
    if (rc == MARK_OK && id != NULL) {
        l = make_label(id);
        rc = mark_media_set_label(m, l);
    }
    if (rc == MARK_OK && where)
        rc = mark_media_set_text_label(m, where, NULL, 0);
    if (rc == MARK_OK)
        rc = mark_media_save_buffer(m, &out, &len);
    if (rc == MARK_OK) {
        s = malloc(len + 1);
        memcpy(s, out, len);
        s[len] = '\0';
    }
    if (rc_out != NULL)
        *rc_out = rc;
    mark_free(ctx, out);
    mark_label_free(l);
    mark_media_free(m);
    return s;
}

static void test_sniff(void)
{
    mark_media *m = NULL;
    mark_media_info info;

    CHECK(mark_sniff("Hello, world", 12) == MARK_FORMAT_TEXT);
    CHECK(mark_sniff("\xef\xbb\xbf" "abc", 6) == MARK_FORMAT_TEXT);
    CHECK(mark_sniff("\xe4\xb8\xad\xe6\x96\x87", 5) == MARK_FORMAT_TEXT);
    CHECK(mark_sniff("---\r\ntitle: x\r\n", 15) == MARK_FORMAT_MARKDOWN);
    CHECK(mark_sniff("a\0b", 3) == MARK_FORMAT_UNKNOWN);
    CHECK(mark_sniff("a\x01" "b", 3) == MARK_FORMAT_UNKNOWN);
    CHECK(mark_sniff("\xed\xa0\x80", 3) == MARK_FORMAT_UNKNOWN);
    CHECK(mark_sniff("BMW cars are fast", 17) == MARK_FORMAT_TEXT);
    CHECK(strcmp(mark_format_name(MARK_FORMAT_TEXT), "text") == 0);
    CHECK(strcmp(mark_format_name(MARK_FORMAT_MARKDOWN), "markdown") == 0);
    CHECK_RC(mark_media_open_buffer(ctx, &m, "Some text.\n", 11), MARK_OK);
    mark_media_get_info(m, &info);
    CHECK(info.type == MARK_MEDIA_TEXT && info.format == MARK_FORMAT_TEXT);
    CHECK(info.lines == 1 && info.bytes == 11);
    CHECK_STR(info.encoding, "UTF-8");
    CHECK_STR(info.line_ends, "LF");
    mark_media_free(m);
    /* forced: text that looks like nothing else still opens as Markdown */
    CHECK_RC(mark_ctx_set_format(ctx, MARK_FORMAT_MARKDOWN), MARK_OK);
    CHECK_RC(mark_media_open_buffer(ctx, &m, "x\r\ny\r\n", 6), MARK_OK);
    mark_media_get_info(m, &info);
    CHECK(info.format == MARK_FORMAT_MARKDOWN);
    CHECK_STR(info.line_ends, "CRLF");
    CHECK(info.lines == 2);
    mark_media_free(m);
    CHECK_RC(mark_ctx_set_format(ctx, MARK_FORMAT_COUNT_), MARK_EINVAL);
    CHECK_RC(mark_ctx_set_format(ctx, MARK_FORMAT_UNKNOWN), MARK_OK);
    CHECK_RC(mark_ctx_set_encoding(ctx, "NO-SUCH-ENCODING"),
             MARK_EUNSUPPORTED);
    CHECK_RC(mark_ctx_set_encoding(ctx, NULL), MARK_OK);
}

static void test_bad_utf8(void)
{
    mark_media *m = NULL;
    static const char bad[] = "good text here\nthen \xc3\x28 bad\n";

    CHECK_RC(mark_ctx_set_format(ctx, MARK_FORMAT_TEXT), MARK_OK);
    CHECK_RC(mark_media_open_buffer(ctx, &m, bad, sizeof bad - 1),
             MARK_EFORMAT);
    CHECK(m == NULL);
    CHECK_MSG(strstr(mark_ctx_errmsg(ctx), "invalid UTF-8 at byte 20"),
              "%s", mark_ctx_errmsg(ctx));
    /* a sequence cut by the end */
    CHECK_RC(mark_media_open_buffer(ctx, &m, "abc\xe4\xb8", 5), MARK_EFORMAT);
    CHECK(strstr(mark_ctx_errmsg(ctx), "byte 3") != NULL);
    CHECK_RC(mark_media_open_buffer(ctx, &m, "ab\0c", 4), MARK_EFORMAT);
    CHECK(strstr(mark_ctx_errmsg(ctx), "NUL byte at byte 2") != NULL);
    /* the input limit */
    mark_ctx_set_limit(ctx, MARK_LIMIT_INPUT_BYTES, 8);
    CHECK_RC(mark_media_open_buffer(ctx, &m, "0123456789", 10), MARK_ELIMIT);
    mark_ctx_set_limit(ctx, MARK_LIMIT_INPUT_BYTES, (int64_t)1 << 30);
    /* the text limit, 64 MiB unless set */
    CHECK(mark_ctx_get_limit(ctx, MARK_LIMIT_TEXT_BYTES) ==
          (int64_t)64 << 20);
    mark_ctx_set_limit(ctx, MARK_LIMIT_TEXT_BYTES, 9);
    CHECK_RC(mark_media_open_buffer(ctx, &m, "0123456789", 10), MARK_ELIMIT);
    CHECK(strstr(mark_ctx_errmsg(ctx), "limit of 9 bytes") != NULL);
    mark_ctx_set_limit(ctx, MARK_LIMIT_TEXT_BYTES, 10);
    CHECK_RC(mark_media_open_buffer(ctx, &m, "0123456789", 10), MARK_OK);
    mark_media_free(m);
    m = NULL;
    mark_ctx_set_limit(ctx, MARK_LIMIT_TEXT_BYTES, (int64_t)64 << 20);
    CHECK_RC(mark_ctx_set_format(ctx, MARK_FORMAT_UNKNOWN), MARK_OK);
}

static void test_text_label(void)
{
    static const char in[] = "First line.\nSecond line.\n";
    mark_media *m = NULL;
    char *o, *want;
    int rc;

    o = mark_text(in, 0, NULL, MARK_TEXT_LABEL_START, &rc);
    CHECK_RC(rc, MARK_OK);
    want = cat(LABEL "\n\n", in);
    CHECK_STR(o, want);
    free(want);
    /* not twice */
    {
        char *o2 = mark_text(o, 0, NULL, MARK_TEXT_LABEL_START, &rc);

        CHECK_STR(o2, o);
        free(o2);
    }
    free(o);
    o = mark_text(in, 0, NULL, MARK_TEXT_LABEL_END, &rc);
    want = cat(in, "\n" LABEL "\n");
    CHECK_STR(o, want);
    free(want);
    free(o);
    /* CRLF text gets CRLF label lines; Markdown a blockquote */
    o = mark_text("a\r\nb\r\n", MARK_FORMAT_MARKDOWN, NULL,
                  MARK_TEXT_LABEL_BOTH, &rc);
    CHECK_STR(o, "> " LABEL "\r\n\r\na\r\nb\r\n\r\n> " LABEL "\r\n");
    free(o);
    /* Markdown cut inside a code block: the block is closed before the
     * end label, which would render as code otherwise */
    o = mark_text("Text.\n\n  ````c\nint x;\n```\nstill code", MARK_FORMAT_MARKDOWN,
                  NULL, MARK_TEXT_LABEL_END, &rc);
    CHECK_STR(o, "Text.\n\n  ````c\nint x;\n```\nstill code\n````\n\n> "
                 LABEL "\n");
    free(o);
    o = mark_text("```\ncode\n```\nafter\n", MARK_FORMAT_MARKDOWN, NULL,
                  MARK_TEXT_LABEL_END, &rc);
    CHECK_STR(o, "```\ncode\n```\nafter\n\n> " LABEL "\n");
    free(o);
    /* the label text: both elements, one line */
    CHECK_RC(mark_media_open_buffer(ctx, &m, in, sizeof in - 1), MARK_OK);
    CHECK_RC(mark_media_set_text_label(m, MARK_TEXT_LABEL_START,
                                       "AI-generated", 0), MARK_ELABEL);
    CHECK_RC(mark_media_set_text_label(m, MARK_TEXT_LABEL_START,
                                       "AI-generated", MARK_TEXT_FORCE),
             MARK_OK);
    CHECK_RC(mark_media_set_text_label(m, MARK_TEXT_LABEL_START,
                                       "AI\xe7\x94\x9f\xe6\x88\x90\nx", 0),
             MARK_EINVAL);
    CHECK_RC(mark_media_set_text_label(m, 7, NULL, 0), MARK_EINVAL);
    CHECK_RC(mark_media_set_audible(m, MARK_AUDIBLE_START, 0),
             MARK_EUNSUPPORTED);
    mark_media_free(m);
}

static void test_explicit(void)
{
    mark_media *m = NULL;
    mark_explicit_info ex;
    char body[4096], *t;
    size_t n = 0;
    int i;

    for (i = 0; i < 40; i++)
        n += (size_t)snprintf(body + n, sizeof body - n,
                              "Line %d of some generated text.\n", i);
    t = cat("AI\xe7\x94\x9f\xe6\x88\x90 / AI-generated\n\n", body);
    CHECK_RC(mark_media_open_buffer(ctx, &m, t, strlen(t)), MARK_OK);
    CHECK_RC(mark_media_check_explicit(m), MARK_OK);
    CHECK_RC(mark_media_explicit(m, &ex), MARK_OK);
    CHECK(ex.checked && ex.found);
    CHECK_STR(ex.position, "start");
    CHECK_STR(ex.text, "AI\xe7\x94\x9f\xe6\x88\x90 / AI-generated");
    CHECK(mark_media_verdict(m) == MARK_VERDICT_SUSPECTED);
    mark_media_free(m);
    free(t);
    /* past the first 64 non-space characters: not a label */
    t = cat(body, "");
    memcpy(t + 200, "\xe4\xba\xba\xe5\xb7\xa5\xe6\x99\xba\xe8\x83\xbd"
           "\xe7\x94\x9f\xe6\x88\x90", 18);
    CHECK_RC(mark_media_open_buffer(ctx, &m, t, strlen(t)), MARK_OK);
    CHECK_RC(mark_media_explicit(m, &ex), MARK_OK);
    CHECK(ex.checked && !ex.found);
    CHECK(mark_media_verdict(m) == MARK_VERDICT_NONE);
    mark_media_free(m);
    free(t);
    /* at the end, spaces and invisible code points not counted */
    t = cat(body, "\n\n  \xe2\x80\x8b" "AI\xe2\x80\x8c\xe5\x90\x88\xe6\x88\x90"
                  "  \n\n\n");
    CHECK_RC(mark_media_open_buffer(ctx, &m, t, strlen(t)), MARK_OK);
    CHECK_RC(mark_media_explicit(m, &ex), MARK_OK);
    CHECK(ex.found);
    CHECK_STR(ex.position, "end");
    mark_media_free(m);
    free(t);
}

static void test_front_matter(void)
{
    static const char fm[] =
        "---\n"
        "title: \"Notes\"  # a comment\n"
        "list:\n"
        "  - a\n"
        "  - b\n"
        "---\n"
        "# Heading\n";
    mark_media *m = NULL;
    mark_found_label fl;
    char *o, *o2;
    int rc;

    o = mark_text(fm, 0, "id-1", MARK_TEXT_LABEL_NONE, &rc);
    CHECK_RC(rc, MARK_OK);
    CHECK(o != NULL && strncmp(o, fm, 50) == 0);    /* other lines kept */
    CHECK(o != NULL && strstr(o, "AIGC:\n  Label: \"1\"\n") != NULL);
    CHECK(o != NULL && strstr(o, "---\n# Heading\n") != NULL);
    /* re-marked: still one, with the new ID */
    o2 = mark_text(o, 0, "id-2", MARK_TEXT_LABEL_NONE, &rc);
    CHECK(o2 != NULL && strstr(o2, "id-1") == NULL &&
          strstr(o2, "ProduceID: \"id-2\"") != NULL);
    CHECK(o2 != NULL && strstr(strstr(o2, "AIGC:") + 1, "AIGC:") == NULL);
    CHECK_RC(mark_media_open_buffer(ctx, &m, o2, strlen(o2)), MARK_OK);
    CHECK(mark_media_label_count(m) == 1);
    CHECK_RC(mark_media_label_get(m, 0, &fl), MARK_OK);
    CHECK_STR(fl.carrier, "front-matter");
    CHECK(fl.label != NULL);
    CHECK_STR(mark_label_get(fl.label, MARK_FIELD_PRODUCE_ID), "id-2");
    CHECK(mark_media_verdict(m) == MARK_VERDICT_GENERATED);
    mark_media_free(m);
    free(o);
    free(o2);
    /* Markdown without front matter gets one; plain text has no carrier */
    o = mark_text("# Title\n", MARK_FORMAT_MARKDOWN, "id-3",
                  MARK_TEXT_LABEL_NONE, &rc);
    CHECK(o != NULL && strncmp(o, "---\nAIGC:\n", 10) == 0);
    CHECK(o != NULL && strstr(o, "\n---\n# Title\n") != NULL);
    free(o);
    o = mark_text("plain\n", MARK_FORMAT_TEXT, "id-4", 0, &rc);
    CHECK_RC(rc, MARK_EUNSUPPORTED);
    free(o);
}

static void test_front_matter_forms(void)
{
    static const char *const forms[] = {
        /* block, quoted keys and values, a comment */
        "---\nAIGC:\n  \"Label\": '1'\n  ContentProducer: " CODE
        "  # code\n  ProduceID: \"p1\"\n---\nx\n",
        /* flow over two lines */
        "---\nAIGC: {Label: \"1\", ContentProducer: " CODE ",\n"
        "  ProduceID: p1}\nother: 2\n---\nx\n",
        /* JSON */
        "---\nAIGC: {\"Label\":\"1\",\"ContentProducer\":\"" CODE "\","
        "\"ProduceID\":\"p1\"}\n---\nx\n",
        /* a string holding wrapped JSON */
        "---\nAIGC: '{\"AIGC\":{\"Label\":\"1\",\"ContentProducer\":\"" CODE
        "\",\"ProduceID\":\"p1\"}}'\n---\nx\n",
    };
    size_t i;

    for (i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        mark_media *m = NULL;
        mark_found_label fl;

        CHECK_RC(mark_media_open_buffer(ctx, &m, forms[i],
                                        strlen(forms[i])), MARK_OK);
        CHECK_MSG(mark_media_label_count(m) == 1, "form %zu", i);
        if (mark_media_label_get(m, 0, &fl) == MARK_OK) {
            CHECK_MSG(fl.label != NULL, "form %zu: %s", i, fl.raw);
            if (fl.label != NULL) {
                CHECK_STR(mark_label_get(fl.label, MARK_FIELD_PRODUCE_ID),
                          "p1");
                CHECK_STR(mark_label_get(fl.label,
                                         MARK_FIELD_CONTENT_PRODUCER), CODE);
            }
        }
        mark_media_free(m);
    }
    /* nonsense is a finding, not an error */
    {
        static const char junk[] = "---\nAIGC: {Label: [1, 2}\n---\nx\n";
        mark_media *m = NULL;
        mark_found_label fl;

        CHECK_RC(mark_media_open_buffer(ctx, &m, junk, sizeof junk - 1),
                 MARK_OK);
        CHECK(mark_media_label_count(m) == 1);
        CHECK(mark_media_label_get(m, 0, &fl) == MARK_OK &&
              fl.form == MARK_FORM_INVALID);
        CHECK(mark_media_verdict(m) == MARK_VERDICT_SUSPECTED);
        mark_media_free(m);
    }
}

/* A pipe: pieces of at most step bytes; records how much output there
 * was when each read came. */
typedef struct pipe_in {
    const char *s;
    size_t n, pos, step;
    const size_t *out_len;              /* output so far */
    size_t out_at_read[64];
    int reads;
} pipe_in;

typedef struct sink {
    char *p;
    size_t n;
} sink;

static int64_t p_read(void *u, void *buf, size_t len)
{
    pipe_in *p = u;
    size_t k = p->n - p->pos;

    if (k > p->step)
        k = p->step;
    if (k > len)
        k = len;
    if (p->reads < 64)
        p->out_at_read[p->reads] = *p->out_len;
    p->reads++;
    memcpy(buf, p->s + p->pos, k);
    p->pos += k;
    return (int64_t)k;
}

static int64_t s_write(void *u, const void *buf, size_t len)
{
    sink *s = u;

    s->p = realloc(s->p, s->n + len + 1);
    memcpy(s->p + s->n, buf, len);
    s->n += len;
    s->p[s->n] = '\0';
    return (int64_t)len;
}

static char *through_pipe(const char *text, size_t step, int fmt,
                          int where, pipe_in *pi, int *rc_out)
{
    static const mark_io in_io = { p_read, NULL, NULL, NULL };
    static const mark_io out_io = { NULL, s_write, NULL, NULL };
    sink out = { NULL, 0 };
    mark_media *m = NULL;
    mark_label *l = NULL;
    int rc;

    memset(pi, 0, sizeof *pi);
    pi->s = text;
    pi->n = strlen(text);
    pi->step = step;
    pi->out_len = &out.n;
    mark_ctx_set_format(ctx, fmt);
    rc = mark_media_open_io(ctx, &m, &in_io, pi);
    mark_ctx_set_format(ctx, MARK_FORMAT_UNKNOWN);
    if (rc == MARK_OK && fmt == MARK_FORMAT_MARKDOWN) {
        l = make_label("pipe-id");
        rc = mark_media_set_label(m, l);
    }
    if (rc == MARK_OK && where)
        rc = mark_media_set_text_label(m, where, NULL, 0);
    if (rc == MARK_OK)
        rc = mark_media_save_io(m, &out_io, &out);
    *rc_out = rc;
    mark_label_free(l);
    mark_media_free(m);
    return out.p;
}

static void test_pipe(void)
{
    static const char text[] =
        "\xe7\xac\xac\xe4\xb8\x80\xe8\xa1\x8c\xef\xbc\x9a line one \xf0\x9f"
        "\x98\x80\n"
        "second line, \xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d and "
        "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7\n";
    static const char md[] = "---\ntitle: t\n---\nBody line.\n";
    pipe_in pi;
    char *whole, *o;
    size_t step;
    int rc;

    whole = mark_text(text, MARK_FORMAT_TEXT, NULL, MARK_TEXT_LABEL_BOTH,
                      &rc);
    CHECK_RC(rc, MARK_OK);
    /* the same bytes for any read size, a character cut anywhere */
    for (step = 1; step <= 17; step += 4) {
        o = through_pipe(text, step, MARK_FORMAT_TEXT, MARK_TEXT_LABEL_BOTH,
                         &pi, &rc);
        CHECK_RC(rc, MARK_OK);
        CHECK_MSG(o != NULL && whole != NULL && strcmp(o, whole) == 0,
                  "step %zu", step);
        free(o);
    }
    /* output is written as the input comes: when the last piece is read,
     * the label and the first pieces are out already */
    o = through_pipe(text, 20, MARK_FORMAT_TEXT, MARK_TEXT_LABEL_START, &pi,
                     &rc);
    CHECK_RC(rc, MARK_OK);
    CHECK(pi.reads >= 4);
    CHECK(pi.reads < 64 && pi.out_at_read[pi.reads - 1] >=
                               strlen(LABEL) + 2 + 40);
    /* a forced format reads nothing ahead: the first read asks for the
     * first piece, not 16 bytes */
    CHECK(pi.out_at_read[0] == 0);
    free(o);
    free(whole);
    /* Markdown: front matter held to its end, merged, then the body */
    o = through_pipe(md, 3, MARK_FORMAT_MARKDOWN, MARK_TEXT_LABEL_START,
                     &pi, &rc);
    CHECK_RC(rc, MARK_OK);
    CHECK(o != NULL && strncmp(o, "---\ntitle: t\nAIGC:\n", 19) == 0);
    CHECK(o != NULL && strstr(o, "\n---\n> " LABEL "\n\nBody line.\n"));
    free(o);
    /* bad UTF-8 part way: the offset counts from the start */
    o = through_pipe("abcdefgh\nij\xff", 4, MARK_FORMAT_TEXT, 0, &pi, &rc);
    CHECK_RC(rc, MARK_EFORMAT);
    CHECK_MSG(strstr(mark_ctx_errmsg(ctx), "byte 11") != NULL, "%s",
              mark_ctx_errmsg(ctx));
    free(o);
    o = through_pipe("abcdefgh\nij\xe4\xb8", 4, MARK_FORMAT_TEXT, 0, &pi,
                     &rc);
    CHECK_RC(rc, MARK_EFORMAT);
    CHECK(strstr(mark_ctx_errmsg(ctx), "byte 11") != NULL);
    free(o);
    /* an empty pipe gets the label alone */
    o = through_pipe("", 4, MARK_FORMAT_TEXT, MARK_TEXT_LABEL_START, &pi,
                     &rc);
    CHECK_RC(rc, MARK_OK);
    CHECK_STR(o, LABEL "\n");
    free(o);
}

static void test_encoding(void)
{
    /* "中文" in GB18030 */
    static const char gb[] = "\xd6\xd0\xce\xc4\n";
    mark_media *m = NULL;
    mark_media_info info;
    void *out = NULL;
    size_t len = 0;

    CHECK_RC(mark_ctx_set_encoding(ctx, "GB18030"), MARK_OK);
    CHECK_RC(mark_media_open_buffer(ctx, &m, gb, sizeof gb - 1), MARK_OK);
    mark_media_get_info(m, &info);
    CHECK(info.format == MARK_FORMAT_TEXT);
    CHECK_STR(info.encoding, "GB18030");
    CHECK_RC(mark_media_set_text_label(m, MARK_TEXT_LABEL_START, NULL, 0),
             MARK_OK);
    CHECK_RC(mark_media_save_buffer(m, &out, &len), MARK_OK);
    /* 本内容由人工智能生成 in GB18030, a blank line, the text */
    CHECK(len == 20 + 2 + 5 &&
          memcmp(out, "\xb1\xbe\xc4\xda\xc8\xdd\xd3\xc9\xc8\xcb\xb9\xa4"
                      "\xd6\xc7\xc4\xdc\xc9\xfa\xb3\xc9\n\n", 22) == 0 &&
          memcmp((char *)out + 22, gb, 5) == 0);
    mark_free(ctx, out);
    mark_media_free(m);
    CHECK_RC(mark_ctx_set_encoding(ctx, NULL), MARK_OK);
}

/* Mutated front matter: opening never fails on UTF-8 text, and whatever
 * the reader made of it, a marked copy carries exactly one label. */
static void test_mutations(void)
{
    static const char *const seeds[] = {
        "---\nAIGC:\n  Label: \"1\"\n  ProduceID: 'x'\nk: v\n---\nbody\n",
        "---\nAIGC: {Label: \"1\", ContentProducer: a,\n  ProduceID: b}\n"
        "---\ntext\n",
        "---\r\nAIGC: '{\"Label\":\"1\"}'\r\n# c\r\nAIGC:\r\n  x: y\r\n"
        "...\r\nbody\r\n",
    };
    static const char alphabet[] = "-:{}[],'\" \n\r#AIGCLabel.\\x";
    uint32_t seed = 12345;
    int iter, fails = 0;

    for (iter = 0; iter < 3000; iter++) {
        const char *sd = seeds[iter % 3];
        size_t n = strlen(sd), k;
        char buf[256];
        int edits = 1 + iter % 4, e, rc;
        char *o;

        memcpy(buf, sd, n + 1);
        for (e = 0; e < edits; e++) {
            seed = seed * 1103515245u + 12345u;
            k = (seed >> 8) % n;
            buf[k] = alphabet[(seed >> 20) % (sizeof alphabet - 1)];
        }
        o = mark_text(buf, MARK_FORMAT_MARKDOWN, "m-id", MARK_TEXT_LABEL_BOTH,
                      &rc);
        if (rc == MARK_OK && o != NULL) {
            mark_media *m = NULL;

            mark_ctx_set_format(ctx, MARK_FORMAT_MARKDOWN);
            rc = mark_media_open_buffer(ctx, &m, o, strlen(o));
            mark_ctx_set_format(ctx, MARK_FORMAT_UNKNOWN);
            if (rc != MARK_OK || mark_media_label_count(m) != 1) {
                if (fails++ < 3)
                    fprintf(stderr, "mutation %d: %zu labels after marking "
                            "(rc %d)\n--- in:\n%s\n--- out:\n%s\n", iter,
                            m != NULL ? mark_media_label_count(m) : 0, rc,
                            buf, o);
            }
            mark_media_free(m);
        } else if (rc != MARK_ELABEL && rc != MARK_EFORMAT) {
            if (fails++ < 3)
                fprintf(stderr, "mutation %d: rc %d\n", iter, rc);
        }
        free(o);
    }
    CHECK_MSG(fails == 0, "%d mutations failed", fails);
}

int main(void)
{
    if (mark_ctx_new(&ctx, NULL) != MARK_OK)
        return 99;
    test_sniff();
    test_bad_utf8();
    test_text_label();
    test_explicit();
    test_front_matter();
    test_front_matter_forms();
    test_pipe();
    test_encoding();
    test_mutations();
    mark_ctx_free(ctx);
    return h_done("test_text");
}
