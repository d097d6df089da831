/*
 * test_image.c - PNG and JPEG through the public API: every image kind
 * marked and read back, byte identity of everything but the label
 * carrier, every real-world label variant read, re-marking replaces, and
 * bad input refused cleanly.  Fixtures come from tests/gen/genimg.c in
 * the directory named by $FIXTURES.
 */
#define _GNU_SOURCE                     /* memmem */
#include <stdint.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include <zlib.h>

#include <mark.h>

#include "harness.h"

#define CODE "001191110102MAD55U9H0F10002"

static mark_ctx *ctx;
static const char *fixdir;

static unsigned char *fixture(const char *name, size_t *len)
{
    char path[1024];
    unsigned char *p;

    snprintf(path, sizeof path, "%s/%s", fixdir, name);
    p = h_read(path, len);
    if (p == NULL) {
        fprintf(stderr, "cannot read fixture %s\n", path);
        exit(99);
    }
    return p;
}

/* ---- an independent walker: the byte ranges that must survive ---- */

typedef struct piece {
    size_t off, len;
} piece;

static uint32_t be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}

/* PNG: every chunk except XMP iTXt and AIGC text chunks. */
static size_t png_pieces(const unsigned char *p, size_t len, piece *out,
                         size_t cap)
{
    size_t pos = 8, n = 0;

    while (pos + 12 <= len && n < cap) {
        uint32_t l = be32(p + pos);
        const char *kw = (const char *)p + pos + 8;
        int skip = 0;

        if (memcmp(p + pos + 4, "iTXt", 4) == 0 &&
            strncmp(kw, "XML:com.adobe.xmp", l) == 0)
            skip = 1;
        if ((memcmp(p + pos + 4, "tEXt", 4) == 0 ||
             memcmp(p + pos + 4, "zTXt", 4) == 0 ||
             memcmp(p + pos + 4, "iTXt", 4) == 0) && l >= 5 &&
            memcmp(kw, "AIGC", 5) == 0)
            skip = 1;
        if (!skip) {
            out[n].off = pos;
            out[n].len = (size_t)l + 12;
            n++;
        }
        pos += (size_t)l + 12;
    }
    return n;
}

/* JPEG: every segment but APP1 XMP, scans included, and any trailer. */
static size_t jpeg_pieces(const unsigned char *p, size_t len, piece *out,
                          size_t cap)
{
    size_t pos = 2, n = 0;

    while (pos + 4 <= len && n < cap && p[pos] == 0xff) {
        int mk = p[pos + 1];
        size_t seg, start = pos;

        if (mk == 0xd9) {
            out[n].off = pos;
            out[n].len = len - pos;
            n++;
            break;
        }
        seg = ((size_t)p[pos + 2] << 8) | p[pos + 3];
        pos += 2 + seg;
        if (mk == 0xda) {
            while (pos + 1 < len && !(p[pos] == 0xff && p[pos + 1] != 0 &&
                                      !(p[pos + 1] >= 0xd0 &&
                                        p[pos + 1] <= 0xd7)))
                pos++;
        }
        if (mk == 0xe1 && seg > 31 &&
            memcmp(p + start + 4, "http://ns.adobe.com/xap/1.0/", 29) == 0)
            continue;
        out[n].off = start;
        out[n].len = pos - start;
        n++;
    }
    return n;
}

static size_t pieces(const unsigned char *p, size_t len, piece *out)
{
    return p[0] == 0x89 ? png_pieces(p, len, out, 4096)
                        : jpeg_pieces(p, len, out, 4096);
}

/* Are in and out equal but for the label carriers?  The UserComment of
 * an EXIF block holding a label is allowed to differ (it is zeroed). */
static int same_but_label(const unsigned char *a, size_t alen,
                          const unsigned char *b, size_t blen,
                          int allow_exif)
{
    static piece pa[4096], pb[4096];
    size_t na = pieces(a, alen, pa), nb = pieces(b, blen, pb), i;

    if (na != nb || na == 0)
        return 0;
    for (i = 0; i < na; i++) {
        if (pa[i].len != pb[i].len)
            return 0;
        if (memcmp(a + pa[i].off, b + pb[i].off, pa[i].len) != 0) {
            int is_exif = (memcmp(a + pa[i].off + 4, "eXIf", 4) == 0) ||
                          (a[pa[i].off + 1] == 0xe1 &&
                           memcmp(a + pa[i].off + 4, "Exif", 4) == 0);

            if (!(allow_exif && is_exif))
                return 0;
        }
    }
    return 1;
}

/* ---- marking round trips ---- */

static mark_label *new_label(const char *id)
{
    mark_label *l = NULL;

    CHECK_RC(mark_label_new(ctx, &l), MARK_OK);
    mark_label_set(l, MARK_FIELD_LABEL, "1");
    mark_label_set(l, MARK_FIELD_CONTENT_PRODUCER, CODE);
    mark_label_set(l, MARK_FIELD_PRODUCE_ID, id);
    mark_label_first_write(l);
    return l;
}

static int errors_in(const mark_media *m)
{
    return mark_problems_max_severity(mark_media_problems(m)) >=
           MARK_SEV_ERROR;
}

/* Mark buf, return the output; checks it reads back as one label. */
static unsigned char *mark_and_check(const char *name,
                                     const unsigned char *in, size_t len,
                                     const char *id, size_t *olen)
{
    mark_media *m = NULL, *r = NULL;
    mark_label *l = new_label(id);
    mark_found_label f;
    mark_media_info a, b;
    void *out = NULL;

    CHECK_RC(mark_media_open_buffer(ctx, &m, in, len), MARK_OK);
    if (m == NULL) {
        fprintf(stderr, "  (%s: %s)\n", name, mark_ctx_errmsg(ctx));
        mark_label_free(l);
        return NULL;
    }
    CHECK_RC(mark_media_set_label(m, l), MARK_OK);
    CHECK_RC(mark_media_save_buffer(m, &out, olen), MARK_OK);
    CHECK_RC(mark_media_open_buffer(ctx, &r, out, *olen), MARK_OK);
    if (r != NULL) {
        CHECK_MSG(mark_media_label_count(r) == 1, "%s: %zu labels", name,
                  mark_media_label_count(r));
        CHECK_MSG(!errors_in(r), "%s: problems after marking", name);
        CHECK(mark_media_verdict(r) == MARK_VERDICT_GENERATED);
        CHECK_RC(mark_media_label_get(r, 0, &f), MARK_OK);
        CHECK_STR(f.carrier, "xmp");
        CHECK(f.form == MARK_FORM_BARE);
        CHECK_STR(mark_label_get(f.label, MARK_FIELD_PRODUCE_ID), id);
        CHECK_STR(mark_label_get(f.label, MARK_FIELD_PROPAGATE_ID), id);
        mark_media_get_info(m, &a);
        mark_media_get_info(r, &b);
        CHECK(a.width == b.width && a.height == b.height &&
              a.format == b.format && a.width > 0);
    }
    mark_media_free(r);
    mark_media_free(m);
    mark_label_free(l);
    return out;
}

/* The comparison itself must notice changes, or it proves nothing. */
static void test_walker(void)
{
    size_t a, b;
    unsigned char *pa = fixture("png-rgb8.png", &a);
    unsigned char *pb = fixture("png-rgba8.png", &b);
    unsigned char *ja = fixture("jpeg-baseline.jpg", &b);

    CHECK(same_but_label(pa, a, pa, a, 0));
    CHECK(!same_but_label(pa, a, pb, b, 0));
    pb = realloc(pb, a);
    memcpy(pb, pa, a);
    pb[a - 20] ^= 1;                     /* inside the last IDAT */
    CHECK(!same_but_label(pa, a, pb, a, 0));
    free(pa);
    free(pb);
    pa = malloc(b);
    memcpy(pa, ja, b);
    CHECK(same_but_label(ja, b, pa, b, 0));
    pa[b - 10] ^= 1;                     /* inside the entropy data */
    CHECK(!same_but_label(ja, b, pa, b, 0));
    free(pa);
    free(ja);
}

static void test_kinds(void)
{
    static const char *const kinds[] = {
        "png-rgb8.png", "png-rgba8.png", "png-rgb16.png", "png-rgba16.png",
        "png-gray8.png", "png-gray16.png", "png-graya8.png",
        "png-palette.png", "png-palette4.png", "png-interlaced.png",
        "png-gray1.png", "png-meta.png", "jpeg-baseline.jpg",
        "jpeg-progressive.jpg", "jpeg-gray.jpg", "jpeg-cmyk.jpg",
        "jpeg-444.jpg", "jpeg-restart.jpg", "jpeg-meta.jpg",
    };
    size_t i;

    for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t len, olen = 0, olen2 = 0;
        unsigned char *in = fixture(kinds[i], &len), *out, *out2;
        mark_media *m = NULL;

        /* unmarked input: nothing found, verdict none */
        CHECK_RC(mark_media_open_buffer(ctx, &m, in, len), MARK_OK);
        CHECK(mark_media_label_count(m) == 0);
        CHECK(mark_media_verdict(m) == MARK_VERDICT_NONE);
        mark_media_free(m);
        /* an ID with XML's special characters: escaping must hold */
        out = mark_and_check(kinds[i], in, len, "id-&<>'-1", &olen);
        if (out == NULL) {
            free(in);
            continue;
        }
        CHECK_MSG(same_but_label(in, len, out, olen, 0),
                  "%s: data other than the label changed", kinds[i]);
        /* re-marking replaces the label */
        out2 = mark_and_check(kinds[i], out, olen, "second-id", &olen2);
        CHECK(out2 != NULL &&
              same_but_label(in, len, out2, olen2, 0));
        mark_free(ctx, out);
        mark_free(ctx, out2);
        free(in);
    }
}

/* ---- the real-world variants ---- */

typedef struct variant {
    const char *file;
    size_t labels;
    const char *carrier;         /* of the first label */
    int form;                    /* of the first label */
    int verdict;
    const char *problem;         /* a problem code that must be reported,
                                    at severity error; NULL: none at all */
} variant;

static const variant variants[] = {
    { "var-png-xmp-element.png", 1, "xmp", MARK_FORM_BARE,
      MARK_VERDICT_GENERATED, NULL },
    { "var-png-xmp-attr.png", 1, "xmp", MARK_FORM_BARE,
      MARK_VERDICT_GENERATED, NULL },
    { "var-png-xmp-prefix.png", 1, "xmp", MARK_FORM_BARE,
      MARK_VERDICT_GENERATED, NULL },
    { "var-png-xmp-compressed.png", 1, "xmp", MARK_FORM_BARE,
      MARK_VERDICT_GENERATED, NULL },
    { "var-png-text-wrapped.png", 1, "png-text", MARK_FORM_WRAPPED,
      MARK_VERDICT_GENERATED, NULL },
    { "var-png-text-bare.png", 1, "png-text", MARK_FORM_BARE,
      MARK_VERDICT_GENERATED, NULL },
    { "var-png-ztxt.png", 1, "png-ztxt", MARK_FORM_WRAPPED,
      MARK_VERDICT_GENERATED, NULL },
    { "var-png-itxt-aigc.png", 1, "png-itxt", MARK_FORM_WRAPPED,
      MARK_VERDICT_GENERATED, NULL },
    { "var-png-badns.png", 1, "xmp", MARK_FORM_BARE,
      MARK_VERDICT_GENERATED, "namespace" },
    { "var-png-duplicate.png", 2, "xmp", MARK_FORM_BARE,
      MARK_VERDICT_GENERATED, "duplicate" },
    { "var-png-after-idat.png", 1, "png-text", MARK_FORM_WRAPPED,
      MARK_VERDICT_GENERATED, NULL },
    { "var-png-label2.png", 1, "png-text", MARK_FORM_WRAPPED,
      MARK_VERDICT_POSSIBLY, NULL },
    { "var-png-badlabel.png", 1, "png-text", MARK_FORM_WRAPPED,
      MARK_VERDICT_SUSPECTED, "label-value" },
    { "var-jpeg-xmp-element.jpg", 1, "xmp", MARK_FORM_BARE,
      MARK_VERDICT_GENERATED, NULL },
    { "var-jpeg-xmp-attr.jpg", 1, "xmp", MARK_FORM_BARE,
      MARK_VERDICT_GENERATED, NULL },
    { "var-jpeg-exif-usercomment.jpg", 1, "exif-usercomment",
      MARK_FORM_WRAPPED, MARK_VERDICT_GENERATED, NULL },
    { "var-jpeg-exif-usercomment-mm.jpg", 1, "exif-usercomment",
      MARK_FORM_WRAPPED, MARK_VERDICT_GENERATED, NULL },
    { "var-jpeg-duplicate.jpg", 2, "exif-usercomment", MARK_FORM_WRAPPED,
      MARK_VERDICT_GENERATED, "duplicate" },
    { "var-jpeg-progressive-xmp.jpg", 1, "xmp", MARK_FORM_BARE,
      MARK_VERDICT_GENERATED, NULL },
};

static int has_error(const mark_media *m, const char *code)
{
    const mark_problems *p = mark_media_problems(m);
    size_t i;

    for (i = 0; i < mark_problems_count(p); i++) {
        mark_problem pr;

        mark_problems_get(p, i, &pr);
        if (pr.severity == MARK_SEV_ERROR && strcmp(pr.code, code) == 0)
            return 1;
    }
    return 0;
}

static void test_variants(void)
{
    size_t i;

    for (i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        const variant *v = &variants[i];
        size_t len, olen = 0;
        unsigned char *in = fixture(v->file, &len), *out;
        mark_media *m = NULL;
        mark_found_label f;

        CHECK_RC(mark_media_open_buffer(ctx, &m, in, len), MARK_OK);
        if (m == NULL) {
            free(in);
            continue;
        }
        CHECK_MSG(mark_media_label_count(m) == v->labels, "%s: %zu labels",
                  v->file, mark_media_label_count(m));
        CHECK_RC(mark_media_label_get(m, 0, &f), MARK_OK);
        CHECK_STR(f.carrier, v->carrier);
        CHECK_MSG(f.form == v->form, "%s: form %d", v->file, f.form);
        CHECK_MSG(mark_media_verdict(m) == v->verdict, "%s: verdict %d",
                  v->file, mark_media_verdict(m));
        if (v->problem != NULL)
            CHECK_MSG(has_error(m, v->problem), "%s: no '%s' problem",
                      v->file, v->problem);
        else
            CHECK_MSG(!errors_in(m), "%s: unexpected error problems",
                      v->file);
        if (f.label != NULL && v->verdict == MARK_VERDICT_GENERATED)
            CHECK_STR(mark_label_get(f.label, MARK_FIELD_PRODUCE_ID),
                      "abc-123");
        mark_media_free(m);
        /* marking any of them leaves exactly one label, in XMP */
        out = mark_and_check(v->file, in, len, "fresh", &olen);
        CHECK_MSG(out != NULL && same_but_label(in, len, out, olen, 1),
                  "%s: other data changed", v->file);
        mark_free(ctx, out);
        free(in);
    }
}

/* jpeg-meta.jpg's ordinary UserComment ("hello world") is not a label
 * and must survive marking untouched. */
static void test_plain_comment_kept(void)
{
    size_t len, olen = 0;
    unsigned char *in = fixture("jpeg-meta.jpg", &len);
    unsigned char *out = mark_and_check("jpeg-meta.jpg", in, len, "x",
                                        &olen);

    CHECK(out != NULL && same_but_label(in, len, out, olen, 0));
    CHECK(out != NULL && memmem(out, olen, "hello world", 11) != NULL);
    mark_free(ctx, out);
    free(in);
}

/* ---- bad input ---- */

static void test_bad_input(void)
{
    static const unsigned char wav[] = "RIFF\x24\0\0\0WAVEfmt ";
    static const unsigned char gif[] = "GIF89a\1\0\1\0\0\0\0";
    /* binary: text (UTF-8 without NUL or stray controls) is a format */
    static const unsigned char junk[] = "\x01\x02this is not an image at all";
    mark_media *m = (mark_media *)1;
    size_t len, cut;
    unsigned char *png = fixture("png-meta.png", &len), *copy;
    unsigned char *jpg;
    size_t jlen;
    int rc;

    CHECK_RC(mark_media_open_buffer(ctx, &m, "", 0), MARK_EEMPTY);
    CHECK(m == NULL);
    CHECK_RC(mark_media_open_buffer(ctx, &m, junk, sizeof junk),
             MARK_EUNKNOWN);
    CHECK_RC(mark_media_open_buffer(ctx, &m, wav, sizeof wav - 1),
             MARK_EFORMAT);
    CHECK(strstr(mark_ctx_errmsg(ctx), "WAV") != NULL);
    CHECK_RC(mark_media_open_buffer(ctx, &m, gif, sizeof gif - 1),
             MARK_EUNSUPPORTED);
    CHECK(strstr(mark_ctx_errmsg(ctx), "gif image is not supported") !=
          NULL);
    CHECK_RC(mark_media_open_file(ctx, &m, "/nonexistent/x.png"), MARK_EIO);
    CHECK(strstr(mark_ctx_errmsg(ctx), "No such file") != NULL);
    CHECK_RC(mark_media_open_file(ctx, &m, "/"), MARK_EIO);

    /* every truncation of a PNG is refused (no IEND, or a short chunk) */
    for (cut = 1; cut < len; cut += 1 + cut / 16) {
        rc = mark_media_open_buffer(ctx, &m, png, cut);
        CHECK_MSG(rc < 0, "PNG cut at %zu accepted", cut);
        if (rc == MARK_OK)
            mark_media_free(m);
    }
    /* a flipped byte in any chunk breaks its CRC */
    copy = malloc(len);
    for (cut = 8; cut < len; cut += 97) {
        memcpy(copy, png, len);
        copy[cut] ^= 0x20;
        rc = mark_media_open_buffer(ctx, &m, copy, len);
        CHECK_MSG(rc < 0, "PNG with byte %zu flipped accepted", cut);
        if (rc == MARK_OK)
            mark_media_free(m);
    }
    free(copy);

    jpg = fixture("jpeg-meta.jpg", &jlen);
    for (cut = 1; cut < jlen; cut += 1 + cut / 16) {
        rc = mark_media_open_buffer(ctx, &m, jpg, cut);
        CHECK_MSG(rc < 0, "JPEG cut at %zu accepted", cut);
        if (rc == MARK_OK)
            mark_media_free(m);
    }
    /* flipped bytes: refused or read, never a crash (ASan watches) */
    copy = malloc(jlen);
    for (cut = 2; cut < jlen; cut += 13) {
        memcpy(copy, jpg, jlen);
        copy[cut] ^= 0xff;
        rc = mark_media_open_buffer(ctx, &m, copy, jlen);
        if (rc == MARK_OK) {
            mark_label *l = new_label("x");
            void *o = NULL;
            size_t ol;

            if (mark_media_set_label(m, l) == MARK_OK &&
                mark_media_save_buffer(m, &o, &ol) == MARK_OK)
                mark_free(ctx, o);
            mark_label_free(l);
            mark_media_free(m);
        }
    }
    free(copy);
    free(jpg);
    free(png);
}

/* ---- limits ---- */

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* png with one chunk (type, data) inserted after IHDR; caller frees. */
static unsigned char *with_chunk(const unsigned char *png, size_t len,
                                 const char *type, const void *data,
                                 size_t dlen, size_t *olen)
{
    size_t pos = 33;                             /* signature + IHDR */
    unsigned char *o = malloc(len + dlen + 12);

    memcpy(o, png, pos);
    put32(o + pos, (uint32_t)dlen);
    memcpy(o + pos + 4, type, 4);
    memcpy(o + pos + 8, data, dlen);
    put32(o + pos + 8 + dlen,
          (uint32_t)crc32(0, o + pos + 4, (uInt)(dlen + 4)));
    memcpy(o + pos + 12 + dlen, png + pos, len - pos);
    *olen = len + dlen + 12;
    return o;
}

static int problem_with(const mark_media *m, const char *code,
                        const char *text)
{
    const mark_problems *p = mark_media_problems(m);
    size_t i;

    for (i = 0; i < mark_problems_count(p); i++) {
        mark_problem pr;

        mark_problems_get(p, i, &pr);
        if (strcmp(pr.code, code) == 0 && strstr(pr.message, text) != NULL)
            return 1;
    }
    return 0;
}

/* XMP packets we cannot read stop marking rather than end up beside a
 * second packet; an AIGC property in no namespace is reported. */
static void test_odd_xmp(void)
{
    static const char itxt_bad[] = "XML:com.adobe.xmp\0\1\0\0\0not zlib";
    static const char nons[] =
        "XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">"
        "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">"
        "<rdf:Description rdf:about=\"\"><AIGC>{\"Label\":\"1\","
        "\"ContentProducer\":\"x\",\"ProduceID\":\"y\"}</AIGC>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>";
    size_t len, blen;
    unsigned char *png = fixture("png-rgb8.png", &len), *b;
    mark_media *m = NULL;
    mark_label *l = new_label("odd");
    void *out = NULL;
    size_t olen;

    b = with_chunk(png, len, "iTXt", itxt_bad, sizeof itxt_bad - 1, &blen);
    CHECK_RC(mark_media_open_buffer(ctx, &m, b, blen), MARK_OK);
    CHECK(m != NULL && problem_with(m, "png-text", "zlib"));
    CHECK_RC(mark_media_set_label(m, l), MARK_OK);
    CHECK_RC(mark_media_save_buffer(m, &out, &olen), MARK_EFORMAT);
    CHECK(out == NULL);
    mark_media_free(m);
    free(b);

    b = with_chunk(png, len, "iTXt", nons, sizeof nons - 1, &blen);
    CHECK_RC(mark_media_open_buffer(ctx, &m, b, blen), MARK_OK);
    CHECK(m != NULL && mark_media_label_count(m) == 1);
    CHECK(m != NULL && problem_with(m, "namespace", "no namespace"));
    /* marking replaces it with a properly bound one */
    CHECK_RC(mark_media_set_label(m, l), MARK_OK);
    CHECK_RC(mark_media_save_buffer(m, &out, &olen), MARK_OK);
    mark_media_free(m);
    CHECK_RC(mark_media_open_buffer(ctx, &m, out, olen), MARK_OK);
    CHECK(m != NULL && mark_media_label_count(m) == 1 && !errors_in(m));
    mark_media_free(m);
    mark_free(ctx, out);
    free(b);

    /* an uncompressed packet over the metadata limit is not parsed, and
     * marking refuses to merge into it */
    b = with_chunk(png, len, "iTXt", nons, sizeof nons - 1, &blen);
    CHECK_RC(mark_ctx_set_limit(ctx, MARK_LIMIT_METADATA_BYTES, 100),
             MARK_OK);
    CHECK_RC(mark_media_open_buffer(ctx, &m, b, blen), MARK_OK);
    CHECK(m != NULL && mark_media_label_count(m) == 0);
    CHECK(m != NULL && problem_with(m, "xmp", "metadata limit"));
    CHECK_RC(mark_media_set_label(m, l), MARK_OK);
    CHECK_RC(mark_media_save_buffer(m, &out, &olen), MARK_ELIMIT);
    CHECK_RC(mark_ctx_set_limit(ctx, MARK_LIMIT_METADATA_BYTES, 16 << 20),
             MARK_OK);
    mark_media_free(m);
    free(b);
    mark_label_free(l);
    free(png);
}

/* A PNG with a zTXt "AIGC" chunk inflating to 64 MiB: a bomb. */
static void test_limits(void)
{
    size_t len, big = (size_t)64 << 20, i;
    unsigned char *png = fixture("png-rgb8.png", &len);
    unsigned char *zeros = calloc(1, big), *z, *bomb;
    uLongf zlen = compressBound(big);
    mark_media *m = NULL;
    size_t blen, pos = 33;

    z = malloc(zlen);
    CHECK(compress2(z, &zlen, zeros, big, 9) == Z_OK);
    free(zeros);
    blen = len + 12 + 6 + zlen;
    bomb = malloc(blen);
    memcpy(bomb, png, pos);                          /* signature + IHDR */
    put32(bomb + pos, (uint32_t)(6 + zlen));
    memcpy(bomb + pos + 4, "zTXtAIGC\0\0", 10);
    memcpy(bomb + pos + 14, z, zlen);
    put32(bomb + pos + 14 + zlen,
          (uint32_t)crc32(0, bomb + pos + 4, (uInt)(10 + zlen)));
    memcpy(bomb + pos + 18 + zlen, png + pos, len - pos);
    CHECK_RC(mark_media_open_buffer(ctx, &m, bomb, blen), MARK_OK);
    if (m != NULL) {
        const mark_problems *p = mark_media_problems(m);
        int seen = 0;

        for (i = 0; i < mark_problems_count(p); i++) {
            mark_problem pr;

            mark_problems_get(p, i, &pr);
            if (strstr(pr.message, "limit") != NULL)
                seen = 1;
        }
        CHECK(seen);
        mark_media_free(m);
    }
    free(bomb);
    free(z);

    CHECK_RC(mark_ctx_set_limit(ctx, MARK_LIMIT_PIXELS, 100), MARK_OK);
    CHECK_RC(mark_media_open_buffer(ctx, &m, png, len), MARK_ELIMIT);
    CHECK_RC(mark_ctx_set_limit(ctx, MARK_LIMIT_PIXELS, 1 << 28), MARK_OK);
    CHECK_RC(mark_ctx_set_limit(ctx, MARK_LIMIT_INPUT_BYTES, 100), MARK_OK);
    CHECK_RC(mark_media_open_buffer(ctx, &m, png, len), MARK_ELIMIT);
    CHECK_RC(mark_ctx_set_limit(ctx, MARK_LIMIT_INPUT_BYTES, 1 << 30),
             MARK_OK);
    CHECK(mark_ctx_get_limit(ctx, MARK_LIMIT_INPUT_BYTES) == 1 << 30);
    CHECK(mark_ctx_get_limit(ctx, 99) < 0);
    free(png);
}

/* ---- files, callbacks, allocator ---- */

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    while (d != NULL && (e = readdir(d)) != NULL)
        n++;
    if (d != NULL)
        closedir(d);
    return n;
}

static void test_save_file(const char *tmp)
{
    char out[1024], dir[512];
    size_t len;
    unsigned char *png = fixture("png-rgb8.png", &len), *back;
    mark_media *m = NULL;
    mark_label *l = new_label("file-1");
    struct stat st;

    snprintf(dir, sizeof dir, "%s/save", tmp);
    mkdir(dir, 0755);
    snprintf(out, sizeof out, "%s/out.png", dir);
    unlink(out);
    CHECK_RC(mark_media_open_buffer(ctx, &m, png, len), MARK_OK);
    CHECK_RC(mark_media_set_label(m, l), MARK_OK);
    CHECK_RC(mark_media_save_file(m, out, 0), MARK_OK);
    CHECK_RC(mark_media_save_file(m, out, 0), MARK_EEXIST);
    CHECK_RC(chmod(out, 0640), 0);
    CHECK_RC(mark_media_save_file(m, out, MARK_SAVE_OVERWRITE), MARK_OK);
    CHECK(stat(out, &st) == 0 && (st.st_mode & 0777) == 0640);
    /* only out.png besides . and ..: no temporary file left */
    CHECK(count_entries(dir) == 3);
    CHECK_RC(mark_media_save_file(m, "/nonexistent/dir/x.png", 0),
             MARK_EIO);
    mark_media_free(m);
    back = h_read(out, &len);
    CHECK(back != NULL);
    CHECK_RC(mark_media_open_buffer(ctx, &m, back, len), MARK_OK);
    CHECK(mark_media_label_count(m) == 1);
    mark_media_free(m);
    free(back);
    free(png);
    mark_label_free(l);
}

typedef struct memsrc {
    const unsigned char *p;
    size_t len, pos;
    unsigned char out[1 << 16];
    size_t olen;
} memsrc;

static int64_t mem_read(void *user, void *buf, size_t len)
{
    memsrc *s = user;
    size_t n = s->len - s->pos;

    if (n > 7)
        n = 7;                  /* dribble: readers must loop */
    if (n > len)
        n = len;
    memcpy(buf, s->p + s->pos, n);
    s->pos += n;
    return (int64_t)n;
}

static int64_t mem_write(void *user, const void *buf, size_t len)
{
    memsrc *s = user;

    if (len > 5)
        len = 5;
    if (s->olen + len > sizeof s->out)
        return -1;
    memcpy(s->out + s->olen, buf, len);
    s->olen += len;
    return (int64_t)len;
}

static void test_io_callbacks(void)
{
    static memsrc s;
    mark_io io = { mem_read, mem_write, NULL, NULL };
    size_t len;
    unsigned char *jpg = fixture("jpeg-baseline.jpg", &len);
    mark_media *m = NULL, *r = NULL;
    mark_label *l = new_label("io-1");

    s.p = jpg;
    s.len = len;
    CHECK_RC(mark_media_open_io(ctx, &m, &io, &s), MARK_OK);
    CHECK_RC(mark_media_set_label(m, l), MARK_OK);
    CHECK_RC(mark_media_save_io(m, &io, &s), MARK_OK);
    CHECK_RC(mark_media_open_buffer(ctx, &r, s.out, s.olen), MARK_OK);
    CHECK(mark_media_label_count(r) == 1);
    mark_media_free(r);
    mark_media_free(m);
    mark_label_free(l);
    free(jpg);
}

static long live;

static void *c_malloc(void *u, size_t n)
{
    (void)u;
    live++;
    return malloc(n);
}

static void *c_realloc(void *u, void *p, size_t n)
{
    (void)u;
    if (p == NULL)
        live++;
    return realloc(p, n);
}

static void c_free(void *u, void *p)
{
    (void)u;
    if (p != NULL)
        live--;
    free(p);
}

/* Every allocation libmark makes goes through a caller's allocator and
 * is given back. */
static void test_allocator(void)
{
    mark_alloc al = { c_malloc, c_realloc, c_free, NULL };
    mark_ctx *c2 = NULL;
    mark_media *m = NULL;
    mark_label *l = NULL;
    size_t len, olen;
    unsigned char *png = fixture("var-png-duplicate.png", &len);
    void *out = NULL;
    char *rep = NULL;

    CHECK_RC(mark_ctx_new(&c2, &al), MARK_OK);
    CHECK_RC(mark_media_open_buffer(c2, &m, png, len), MARK_OK);
    CHECK_RC(mark_label_new(c2, &l), MARK_OK);
    mark_label_set(l, MARK_FIELD_LABEL, "1");
    mark_label_set(l, MARK_FIELD_CONTENT_PRODUCER, CODE);
    mark_label_set(l, MARK_FIELD_PRODUCE_ID, "a");
    mark_label_first_write(l);
    CHECK_RC(mark_media_set_label(m, l), MARK_OK);
    CHECK_RC(mark_media_save_buffer(m, &out, &olen), MARK_OK);
    CHECK_RC(mark_media_report_json(m, "f.png", &rep), MARK_OK);
    CHECK(rep != NULL && strstr(rep, "\"duplicate\"") != NULL);
    CHECK(live > 0);
    mark_free(c2, rep);
    mark_free(c2, out);
    mark_label_free(l);
    mark_media_free(m);
    mark_ctx_free(c2);
    CHECK_MSG(live == 0, "%ld allocations not freed", live);
    free(png);
}

static void test_sniff(void)
{
    CHECK(mark_sniff("\x89PNG\r\n\x1a\n", 8) == MARK_FORMAT_PNG);
    CHECK(mark_sniff("\xff\xd8\xff\xe0", 4) == MARK_FORMAT_JPEG);
    CHECK(mark_sniff("RIFF\0\0\0\0WAVE", 12) == MARK_FORMAT_WAV);
    CHECK(mark_sniff("RIFF\0\0\0\0WEBP", 12) == MARK_FORMAT_WEBP);
    CHECK(mark_sniff("fLaC", 4) == MARK_FORMAT_FLAC);
    CHECK(mark_sniff("OggS", 4) == MARK_FORMAT_OGG);
    CHECK(mark_sniff("ID3\3", 4) == MARK_FORMAT_MP3);
    CHECK(mark_sniff("\xff\xfb\x90\x00", 4) == MARK_FORMAT_MP3);
    CHECK(mark_sniff("\0\0\0\x18" "ftypisom", 12) == MARK_FORMAT_MP4);
    CHECK(mark_sniff("\0\0\0\x18" "ftypheic", 12) == MARK_FORMAT_HEIF);
    CHECK(mark_sniff("\x1a\x45\xdf\xa3", 4) == MARK_FORMAT_MKV);
    CHECK(mark_sniff("GIF89a", 6) == MARK_FORMAT_GIF);
    CHECK(mark_sniff("%PDF-1.7", 8) == MARK_FORMAT_PDF);
    /* text has no magic: UTF-8 without NUL or stray controls is text */
    CHECK(mark_sniff("hello", 5) == MARK_FORMAT_TEXT);
    CHECK(mark_sniff("---\nk: v\n---\n", 13) == MARK_FORMAT_MARKDOWN);
    CHECK(mark_sniff("\0\1hello", 7) == MARK_FORMAT_UNKNOWN);
    CHECK(mark_sniff("caf\xe9 au lait", 14) == MARK_FORMAT_UNKNOWN);
    CHECK(mark_sniff("RIF", 3) == MARK_FORMAT_UNKNOWN);
    CHECK(mark_sniff("\x89PN", 3) == MARK_FORMAT_UNKNOWN);
    CHECK_STR(mark_format_name(MARK_FORMAT_JPEG), "jpeg");
}

int main(void)
{
    const char *tmp = getenv("TESTTMP");

    fixdir = getenv("FIXTURES");
    if (fixdir == NULL || tmp == NULL) {
        fprintf(stderr, "FIXTURES and TESTTMP must be set (tests/run.sh)\n");
        return 99;
    }
    if (mark_ctx_new(&ctx, NULL) != MARK_OK)
        return 99;
    test_sniff();
    test_walker();
    test_kinds();
    test_variants();
    test_plain_comment_kept();
    test_bad_input();
    test_limits();
    test_odd_xmp();
    test_save_file(tmp);
    test_io_callbacks();
    test_allocator();
    mark_ctx_free(ctx);
    return h_done("test_image");
}
