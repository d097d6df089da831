/*
 * test_doc.c - Office documents and PDFs through the public API, from
 * memory: the label read with its carrier and the document kind, marking
 * refused, the limits against zip bombs, and every truncation and many
 * corrupted copies of both read without a crash (a one-line message when
 * refused).  The files are built here.
 */
#include <stdint.h>
#include <mark.h>
#include <zlib.h>

#include "harness.h"

#define CODE "001191110102MAD55U9H0F10002"
#define LABEL                                                           \
    "{\"Label\":\"1\",\"ContentProducer\":\"" CODE "\",\"ProduceID\":"  \
    "\"t-1\",\"ReservedCode1\":\"\",\"ContentPropagator\":\"" CODE "\"," \
    "\"PropagateID\":\"t-1\",\"ReservedCode2\":\"\"}"

static mark_ctx *ctx;

typedef struct bytes {
    unsigned char *p;
    size_t n, cap;
} bytes;

static void put(bytes *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (b->p == NULL)
            exit(99);
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void puts_(bytes *b, const char *s)
{
    put(b, s, strlen(s));
}

static void le(bytes *b, uint32_t v, int n)
{
    unsigned char x[4];
    int i;

    for (i = 0; i < n; i++)
        x[i] = (unsigned char)(v >> (8 * i));
    put(b, x, (size_t)n);
}

/* A one-page PDF with the label in its Info (a literal string). */
static void make_pdf(bytes *b)
{
    static const char *const objs[] = {
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >>",
        "<< /Producer (test) /AIGC (" LABEL ") >>",
    };
    size_t off[4], xref;
    char line[64];
    int i;

    puts_(b, "%PDF-1.4\n");
    for (i = 0; i < 4; i++) {
        off[i] = b->n;
        snprintf(line, sizeof line, "%d 0 obj\n", i + 1);
        puts_(b, line);
        puts_(b, objs[i]);
        puts_(b, "\nendobj\n");
    }
    xref = b->n;
    puts_(b, "xref\n0 5\n0000000000 65535 f\r\n");
    for (i = 0; i < 4; i++) {
        snprintf(line, sizeof line, "%010zu 00000 n\r\n", off[i]);
        puts_(b, line);
    }
    snprintf(line, sizeof line, "startxref\n%zu\n%%%%EOF\n", xref);
    puts_(b, "trailer\n<< /Size 5 /Root 1 0 R /Info 4 0 R >>\n");
    puts_(b, line);
}

/* A stored (uncompressed) ZIP of the named parts. */
static void make_zip(bytes *b, const char *const *names,
                     const char *const *texts, int n)
{
    uint32_t off[8], crc[8], cd, cd_len;
    int i;

    for (i = 0; i < n; i++) {
        size_t len = strlen(texts[i]), nl = strlen(names[i]);

        off[i] = (uint32_t)b->n;
        crc[i] = (uint32_t)crc32(0, (const Bytef *)texts[i], (uInt)len);
        le(b, 0x04034b50, 4);
        le(b, 10, 2);
        le(b, 0, 2);
        le(b, 0, 2);                     /* stored */
        le(b, 0, 4);                     /* time, date */
        le(b, crc[i], 4);
        le(b, (uint32_t)len, 4);
        le(b, (uint32_t)len, 4);
        le(b, (uint32_t)nl, 2);
        le(b, 0, 2);
        puts_(b, names[i]);
        puts_(b, texts[i]);
    }
    cd = (uint32_t)b->n;
    for (i = 0; i < n; i++) {
        size_t len = strlen(texts[i]), nl = strlen(names[i]);

        le(b, 0x02014b50, 4);
        le(b, 10, 2);
        le(b, 10, 2);
        le(b, 0, 2);
        le(b, 0, 2);
        le(b, 0, 4);
        le(b, crc[i], 4);
        le(b, (uint32_t)len, 4);
        le(b, (uint32_t)len, 4);
        le(b, (uint32_t)nl, 2);
        le(b, 0, 4);                     /* extra, comment */
        le(b, 0, 4);                     /* disk, internal attributes */
        le(b, 0, 4);
        le(b, off[i], 4);
        puts_(b, names[i]);
    }
    cd_len = (uint32_t)b->n - cd;
    le(b, 0x06054b50, 4);
    le(b, 0, 4);
    le(b, (uint32_t)n, 2);
    le(b, (uint32_t)n, 2);
    le(b, cd_len, 4);
    le(b, cd, 4);
    le(b, 0, 2);
}

static void make_docx(bytes *b)
{
    static const char *const names[] = {
        "[Content_Types].xml", "word/document.xml", "docProps/custom.xml"
    };
    static const char *const texts[] = {
        "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas."
        "openxmlformats.org/package/2006/content-types\"><Override "
        "PartName=\"/word/document.xml\" ContentType=\"application/vnd."
        "openxmlformats-officedocument.wordprocessingml.document.main+xml"
        "\"/></Types>",
        "<w:document xmlns:w=\"urn:w\"/>",
        "<?xml version=\"1.0\"?><Properties xmlns=\"http://schemas."
        "openxmlformats.org/officeDocument/2006/custom-properties\" "
        "xmlns:vt=\"http://schemas.openxmlformats.org/officeDocument/2006/"
        "docPropsVTypes\"><property fmtid=\"{D5CDD505-2E9C-101B-9397-"
        "08002B2CF9AE}\" pid=\"2\" name=\"AIGC\"><vt:lpwstr>{&quot;Label"
        "&quot;:&quot;1&quot;,&quot;ContentProducer&quot;:&quot;" CODE
        "&quot;,&quot;ProduceID&quot;:&quot;t-1&quot;,&quot;ReservedCode1"
        "&quot;:&quot;&quot;,&quot;ContentPropagator&quot;:&quot;" CODE
        "&quot;,&quot;PropagateID&quot;:&quot;t-1&quot;,&quot;"
        "ReservedCode2&quot;:&quot;&quot;}</vt:lpwstr></property>"
        "</Properties>",
    };

    make_zip(b, names, texts, 3);
}

/* Open buf; on success the label is the one built here. */
static void check_read(const bytes *b, int format, const char *codec,
                       const char *carrier)
{
    mark_media *m = NULL;
    mark_media_info info;
    mark_found_label fl;
    mark_label *l = NULL;
    void *out = NULL;
    size_t out_len = 0;

    CHECK_RC(mark_media_open_buffer(ctx, &m, b->p, b->n), MARK_OK);
    if (m == NULL)
        return;
    CHECK_RC(mark_media_get_info(m, &info), MARK_OK);
    CHECK(info.format == format);
    CHECK(info.type == MARK_MEDIA_TEXT);
    if (codec != NULL)
        CHECK_STR(info.codec, codec);
    else
        CHECK(info.codec == NULL && info.frames == 1);
    CHECK(mark_media_label_count(m) == 1);
    CHECK_RC(mark_media_label_get(m, 0, &fl), MARK_OK);
    CHECK_STR(fl.carrier, carrier);
    CHECK(fl.form == MARK_FORM_BARE);
    CHECK(fl.label != NULL);
    if (fl.label != NULL)
        CHECK_STR(mark_label_get(fl.label, MARK_FIELD_PRODUCE_ID), "t-1");
    CHECK(mark_media_verdict(m) == MARK_VERDICT_GENERATED);
    /* read only: every way of marking is refused */
    CHECK_RC(mark_label_new(ctx, &l), MARK_OK);
    mark_label_set(l, MARK_FIELD_LABEL, "1");
    mark_label_set(l, MARK_FIELD_CONTENT_PRODUCER, CODE);
    mark_label_set(l, MARK_FIELD_PRODUCE_ID, "x");
    CHECK_RC(mark_media_set_label(m, l), MARK_EUNSUPPORTED);
    CHECK(strstr(mark_ctx_errmsg(ctx), "is not supported (their labels "
                                       "are read, not written)") != NULL);
    CHECK_RC(mark_media_set_watermark(m, NULL, NULL, 1.0),
             MARK_EUNSUPPORTED);
    CHECK_RC(mark_media_set_carrier(m, "xmp"), MARK_EUNSUPPORTED);
    CHECK_RC(mark_media_save_buffer(m, &out, &out_len), MARK_EUNSUPPORTED);
    CHECK(out == NULL && out_len == 0);
    mark_label_free(l);
    mark_media_free(m);
}

/* Every truncation, and corrupted copies (xorshift, fixed seed): opened
 * or refused with a one-line message, never a crash. */
static void check_damage(const bytes *b, const char *what)
{
    unsigned char *c = malloc(b->n);
    uint32_t x = 2463534242u;
    size_t n, i, k;
    int bad = 0, opened = 0;

    if (c == NULL)
        exit(99);
    for (n = 0; n < b->n + 300; n++) {
        mark_media *m = NULL;
        int rc;

        memcpy(c, b->p, b->n);
        if (n < b->n) {
            rc = mark_media_open_buffer(ctx, &m, c, n);
        } else {
            for (k = 0; k < 4; k++) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                i = x % b->n;
                c[i] = (unsigned char)(c[i] ^ (x >> 24 | 1));
            }
            rc = mark_media_open_buffer(ctx, &m, c, b->n);
        }
        if (rc == MARK_OK) {
            char *rep = NULL;

            opened++;
            CHECK_RC(mark_media_report_json(m, what, &rep), MARK_OK);
            mark_free(ctx, rep);
        } else if (mark_ctx_errmsg(ctx)[0] == '\0' ||
                   strchr(mark_ctx_errmsg(ctx), '\n') != NULL) {
            bad++;
            fprintf(stderr, "%s at %zu: rc %d, message '%s'\n", what, n, rc,
                    mark_ctx_errmsg(ctx));
        }
        mark_media_free(m);
    }
    printf("%s: %zu damaged copies, %d opened\n", what, n, opened);
    CHECK_MSG(bad == 0, "%s: %d bad messages", what, bad);
    CHECK(opened > 0);
    free(c);
}

static void test_pdf(void)
{
    bytes b = { 0 };

    make_pdf(&b);
    check_read(&b, MARK_FORMAT_PDF, NULL, "pdf-info");
    check_damage(&b, "pdf");
    free(b.p);
}

static void test_docx(void)
{
    bytes b = { 0 };
    mark_media *m = NULL;

    make_docx(&b);
    check_read(&b, MARK_FORMAT_ZIP, "docx", "ooxml-custom");
    check_damage(&b, "docx");
    /* the limits: part size and entry count */
    CHECK_RC(mark_ctx_set_limit(ctx, MARK_LIMIT_METADATA_BYTES, 200),
             MARK_OK);
    CHECK_RC(mark_media_open_buffer(ctx, &m, b.p, b.n), MARK_ELIMIT);
    CHECK(strstr(mark_ctx_errmsg(ctx), "exceeds the metadata limit") != NULL);
    CHECK_RC(mark_ctx_set_limit(ctx, MARK_LIMIT_METADATA_BYTES, 16 << 20),
             MARK_OK);
    CHECK_RC(mark_ctx_set_limit(ctx, MARK_LIMIT_CHUNKS, 2), MARK_OK);
    CHECK_RC(mark_media_open_buffer(ctx, &m, b.p, b.n), MARK_ELIMIT);
    CHECK(strstr(mark_ctx_errmsg(ctx), "zip has more than 2 entries")
          != NULL);
    CHECK_RC(mark_ctx_set_limit(ctx, MARK_LIMIT_CHUNKS, 100000), MARK_OK);
    CHECK(m == NULL);
    free(b.p);
}

int main(void)
{
    if (mark_ctx_new(&ctx, NULL) != MARK_OK)
        return 99;
    test_pdf();
    test_docx();
    mark_ctx_free(ctx);
    return h_done("test_doc");
}
