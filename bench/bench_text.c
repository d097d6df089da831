/*
 * bench_text.c - `make bench`, text part: marking (front matter label,
 * label lines at both ends, txt-v1 watermark) and verifying (open + label
 * check + watermark search) about 20 MB of generated Markdown and plain
 * text, memory to memory, on one core, in MB/s of input, against a plain
 * copy of the same bytes through a pipe (write + read) for scale.
 * Median of the runs.  The text: paragraphs of English and Chinese,
 * links, inline code, code blocks, tables.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mark.h>

#define TARGET ((size_t)20 << 20)
#define CODE "001191110102MAD55U9H0F10002"

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return v[n / 2];
}

typedef struct text {
    char *p;
    size_t n, cap;
} text;

static void put(text *t, const char *s)
{
    size_t k = strlen(s);

    if (t->n + k + 1 > t->cap) {
        t->cap = (t->n + k + 1) * 2;
        t->p = realloc(t->p, t->cap);
    }
    memcpy(t->p + t->n, s, k + 1);
    t->n += k;
}

static text make_text(int md)
{
    static const char *const en[] = {
        "The model reads the question, looks up what it knows and writes "
        "an answer one word at a time, ",
        "which is why a long answer can drift from its start; see "
        "https://example.com/docs/streaming?lang=en for the details, ",
        "and note that `tokens` are not words: a word may take several. ",
    };
    static const char *const zh[] = {
        "人工智能模型根据输入逐字生成回答，因此较长的回答可能偏离开头的主题。",
        "为了让读者了解内容来源，服务提供者应当对生成的内容添加显式标识和隐式标识，",
        "并在元数据中记录生成服务的名称或编码以及内容编号。",
    };
    text t = { NULL, 0, 0 };
    unsigned i = 0;
    char line[128];

    if (md)
        put(&t, "---\ntitle: \"A long generated document\"\nlang: zh-en\n"
                "---\n\n# A long generated document\n\n");
    while (t.n < TARGET) {
        put(&t, en[i % 3]);
        put(&t, en[(i + 1) % 3]);
        put(&t, "\n\n");
        put(&t, zh[i % 3]);
        put(&t, zh[(i + 2) % 3]);
        put(&t, "\n\n");
        if (i % 7 == 3) {
            snprintf(line, sizeof line, "```c\nint f%u(int x)\n{\n    "
                     "return x * %u;\n}\n```\n\n", i, i);
            put(&t, line);
        }
        if (i % 11 == 5)
            put(&t, "| key | value |\n|-----|-------|\n| a | 1 |\n"
                    "| 中文 | 二 |\n\n");
        i++;
    }
    return t;
}

/* Mark t: all marks; returns the output size, 0 on error. */
static size_t mark_once(mark_ctx *ctx, const text *t, int fmt,
                        void **keep)
{
    mark_media *m = NULL;
    mark_label *l = NULL;
    void *out = NULL;
    size_t len = 0;
    int rc;

    mark_ctx_set_format(ctx, fmt);
    rc = mark_media_open_buffer(ctx, &m, t->p, t->n);
    if (rc == MARK_OK)
        rc = mark_label_new(ctx, &l);
    if (rc == MARK_OK) {
        mark_label_set(l, MARK_FIELD_LABEL, "1");
        mark_label_set(l, MARK_FIELD_CONTENT_PRODUCER, CODE);
        mark_label_set(l, MARK_FIELD_PRODUCE_ID, "bench");
        mark_label_first_write(l);
        if (fmt == MARK_FORMAT_MARKDOWN)
            rc = mark_media_set_label(m, l);
    }
    if (rc == MARK_OK)
        rc = mark_media_set_text_label(m, MARK_TEXT_LABEL_BOTH, NULL, 0);
    if (rc == MARK_OK) {
        mark_payload p;

        mark_payload_derive(l, &p);
        rc = mark_media_set_watermark(m, NULL, &p, 1.0);
    }
    if (rc == MARK_OK)
        rc = mark_media_save_buffer(m, &out, &len);
    if (rc != MARK_OK)
        fprintf(stderr, "bench_text: %s\n", mark_ctx_errmsg(ctx));
    mark_label_free(l);
    mark_media_free(m);
    if (keep != NULL && rc == MARK_OK)
        *keep = out;
    else
        mark_free(ctx, out);
    return rc == MARK_OK ? len : 0;
}

static int verify_once(mark_ctx *ctx, const void *p, size_t n, int fmt,
                       int *found)
{
    mark_media *m = NULL;
    mark_watermark_info wi;
    int rc;

    mark_ctx_set_format(ctx, fmt);
    rc = mark_media_open_buffer(ctx, &m, p, n);
    if (rc == MARK_OK)
        rc = mark_media_check_explicit(m);
    if (rc == MARK_OK)
        rc = mark_media_detect_watermark(m, NULL, &wi);
    if (rc == MARK_OK)
        *found = wi.found;
    if (rc != MARK_OK)
        fprintf(stderr, "bench_text: %s\n", mark_ctx_errmsg(ctx));
    mark_media_free(m);
    return rc;
}

/* The same bytes through a pipe to this process and back. */
static double copy_once(const text *t)
{
    static char buf[1 << 16];
    int fd[2];
    size_t done = 0, got = 0;
    double t0 = now();

    if (pipe(fd) != 0)
        return 0;
    while (got < t->n) {
        ssize_t w = 0, r;

        if (done < t->n) {
            size_t k = t->n - done < sizeof buf ? t->n - done : sizeof buf;

            w = write(fd[1], t->p + done, k);
            if (w < 0)
                break;
            done += (size_t)w;
        }
        r = read(fd[0], buf, sizeof buf);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd[0]);
    close(fd[1]);
    return now() - t0;
}

static void row(const char *name, mark_ctx *ctx, const text *t, int fmt,
                int reps)
{
    double tm[15], tv[15], tc[15], mb = (double)t->n / 1e6;
    void *marked = NULL;
    size_t outlen = mark_once(ctx, t, fmt, &marked);
    int r, found = 0;

    if (outlen == 0)
        exit(1);
    for (r = 0; r < reps; r++) {
        double t0 = now();

        if (mark_once(ctx, t, fmt, NULL) == 0)
            exit(1);
        tm[r] = now() - t0;
        t0 = now();
        if (verify_once(ctx, marked, outlen, fmt, &found) != MARK_OK)
            exit(1);
        tv[r] = now() - t0;
        tc[r] = copy_once(t);
    }
    printf("| %s | %.1f MB | %.0f MB/s | %.0f MB/s | %.0f MB/s | %s |\n",
           name, mb, mb / median(tc, reps), mb / median(tm, reps),
           mb / median(tv, reps), found ? "yes" : "no");
    mark_free(ctx, marked);
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 5;
    mark_ctx *ctx = NULL;
    text md, plain;

    if (reps < 1 || reps > 15)
        reps = 5;
    if (mark_ctx_new(&ctx, NULL) != MARK_OK)
        return 1;
    md = make_text(1);
    plain = make_text(0);
    printf("\nText: MB/s of input, memory to memory, median of %d runs, "
           "one core.  mark = open\n+ front matter label (Markdown) + "
           "label lines at both ends + txt-v1\nwatermark; verify = open + "
           "label check + watermark search; copy = the same\nbytes written "
           "to a pipe and read back; found = the watermark was found:\n\n",
           reps);
    printf("| input | size | copy | mark | verify | found |\n");
    printf("|---|---|---|---|---|---|\n");
    row("Markdown", ctx, &md, MARK_FORMAT_MARKDOWN, reps);
    row("plain text", ctx, &plain, MARK_FORMAT_TEXT, reps);
    free(md.p);
    free(plain.p);
    mark_ctx_free(ctx);
    return 0;
}
