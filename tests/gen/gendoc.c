/*
 * gendoc - generate the Office Open XML (DOCX, XLSX, PPTX) and PDF
 * fixtures of the document tests.
 *
 * Every byte is written here: the ZIP archives entry by entry (stored or
 * deflated by zlib, fixed time stamps), the PDFs object by object with
 * their cross-reference tables, so the fixtures are the same on every
 * run and carry no third-party content.
 *
 * Usage: gendoc OUTDIR
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#define PRODUCER "001191110102MAD55U9H0F10002"
#define LABEL_BARE                                                      \
    "{\"Label\":\"1\",\"ContentProducer\":\"" PRODUCER "\","            \
    "\"ProduceID\":\"doc(1)\",\"ReservedCode1\":\"\","                  \
    "\"ContentPropagator\":\"" PRODUCER "\",\"PropagateID\":\"doc(1)\"," \
    "\"ReservedCode2\":\"\"}"
#define LABEL_WRAPPED "{\"AIGC\":" LABEL_BARE "}"
#define LABEL2_BARE                                                     \
    "{\"Label\":\"2\",\"ContentProducer\":\"" PRODUCER "\","            \
    "\"ProduceID\":\"doc-2\",\"ReservedCode1\":\"\","                   \
    "\"ContentPropagator\":\"" PRODUCER "\",\"PropagateID\":\"doc-2\"," \
    "\"ReservedCode2\":\"\"}"

static const char *g_outdir;

static void fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "gendoc: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* A growable byte buffer. */
typedef struct buf {
    unsigned char *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;

        while (cap < b->n + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (b->p == NULL)
            fail("out of memory");
        b->cap = cap;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void puts_(buf *b, const char *s)
{
    put(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3)))
static void putf(buf *b, const char *fmt, ...)
{
    char tmp[8192];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp)
        fail("putf: too long");
    put(b, tmp, (size_t)n);
}

static void le16(buf *b, unsigned v)
{
    unsigned char x[2] = { (unsigned char)v, (unsigned char)(v >> 8) };

    put(b, x, 2);
}

static void le32(buf *b, uint32_t v)
{
    unsigned char x[4] = { (unsigned char)v, (unsigned char)(v >> 8),
                           (unsigned char)(v >> 16),
                           (unsigned char)(v >> 24) };

    put(b, x, 4);
}

static void write_file(const char *name, const buf *b)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", g_outdir, name);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(b->p, 1, b->n, f) != b->n || fclose(f) != 0)
        fail("cannot write '%s'", path);
}

/* ---- ZIP ---------------------------------------------------------- */

#define MAX_ENTRIES 16
#define DOS_TIME 0x1883                  /* 03:04:06 */
#define DOS_DATE 0x5822                  /* 2024-01-02 */

typedef struct zip {
    buf out;
    struct {
        char name[64];
        uint32_t crc, csize, usize, off;
        unsigned method;
    } e[MAX_ENTRIES];
    int n;
} zip;

/* Add an entry; claim != 0 replaces the uncompressed size the headers
 * give (a lying entry). */
static void zip_add(zip *z, const char *name, const void *data, size_t len,
                    int compress, uint32_t claim)
{
    unsigned char *c = NULL;
    uLongf clen = 0;
    size_t nlen = strlen(name);

    if (z->n == MAX_ENTRIES)
        fail("too many zip entries");
    if (compress) {
        z_stream zs;

        memset(&zs, 0, sizeof zs);
        clen = compressBound((uLong)len) + 64;
        c = malloc(clen);
        if (c == NULL || deflateInit2(&zs, 9, Z_DEFLATED, -15, 9,
                                      Z_DEFAULT_STRATEGY) != Z_OK)
            fail("deflate");
        zs.next_in = (Bytef *)(uintptr_t)data;
        zs.avail_in = (uInt)len;
        zs.next_out = c;
        zs.avail_out = (uInt)clen;
        if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
            fail("deflate");
        clen = zs.total_out;
        deflateEnd(&zs);
    }
    snprintf(z->e[z->n].name, sizeof z->e[z->n].name, "%s", name);
    z->e[z->n].crc = (uint32_t)crc32(0, data, (uInt)len);
    z->e[z->n].usize = claim ? claim : (uint32_t)len;
    z->e[z->n].csize = compress ? (uint32_t)clen : (uint32_t)len;
    z->e[z->n].method = compress ? 8 : 0;
    z->e[z->n].off = (uint32_t)z->out.n;
    le32(&z->out, 0x04034b50);
    le16(&z->out, 20);
    le16(&z->out, 0);
    le16(&z->out, z->e[z->n].method);
    le16(&z->out, DOS_TIME);
    le16(&z->out, DOS_DATE);
    le32(&z->out, z->e[z->n].crc);
    le32(&z->out, z->e[z->n].csize);
    le32(&z->out, z->e[z->n].usize);
    le16(&z->out, (unsigned)nlen);
    le16(&z->out, 0);
    put(&z->out, name, nlen);
    if (compress)
        put(&z->out, c, clen);
    else
        put(&z->out, data, len);
    free(c);
    z->n++;
}

static void zip_add_s(zip *z, const char *name, const char *text)
{
    zip_add(z, name, text, strlen(text), 1, 0);
}

static void zip_finish(zip *z, const char *file)
{
    uint32_t cd = (uint32_t)z->out.n, cd_len;
    int i;

    for (i = 0; i < z->n; i++) {
        size_t nlen = strlen(z->e[i].name);

        le32(&z->out, 0x02014b50);
        le16(&z->out, 20);
        le16(&z->out, 20);
        le16(&z->out, 0);
        le16(&z->out, z->e[i].method);
        le16(&z->out, DOS_TIME);
        le16(&z->out, DOS_DATE);
        le32(&z->out, z->e[i].crc);
        le32(&z->out, z->e[i].csize);
        le32(&z->out, z->e[i].usize);
        le16(&z->out, (unsigned)nlen);
        le16(&z->out, 0);
        le16(&z->out, 0);
        le16(&z->out, 0);
        le16(&z->out, 0);
        le32(&z->out, 0);
        le32(&z->out, z->e[i].off);
        put(&z->out, z->e[i].name, nlen);
    }
    cd_len = (uint32_t)z->out.n - cd;
    le32(&z->out, 0x06054b50);
    le16(&z->out, 0);
    le16(&z->out, 0);
    le16(&z->out, (unsigned)z->n);
    le16(&z->out, (unsigned)z->n);
    le32(&z->out, cd_len);
    le32(&z->out, cd);
    le16(&z->out, 0);
    write_file(file, &z->out);
    free(z->out.p);
    memset(z, 0, sizeof *z);
}

/* XML-escape s (quotes, ampersands, angle brackets) into b. */
static void put_xml(buf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '"': puts_(b, "&quot;"); break;
        case '&': puts_(b, "&amp;"); break;
        case '<': puts_(b, "&lt;"); break;
        case '>': puts_(b, "&gt;"); break;
        default: put(b, s, 1);
        }
    }
}

#define XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n"
#define CT_NS "http://schemas.openxmlformats.org/package/2006/content-types"
#define REL_NS "http://schemas.openxmlformats.org/package/2006/relationships"
#define DOC_REL "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
#define CUSTOM_NS "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
#define VT_NS "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
#define FMTID "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"

typedef struct kind {
    const char *ext;
    const char *main_part;
    const char *main_type;
    const char *main_xml;
} kind;

static const kind k_docx = {
    "docx", "word/document.xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml."
    "document.main+xml",
    "<w:document xmlns:w=\"http://schemas.openxmlformats.org/"
    "wordprocessingml/2006/main\"><w:body><w:p><w:r><w:t>AI generated "
    "text</w:t></w:r></w:p></w:body></w:document>"
};
static const kind k_xlsx = {
    "xlsx", "xl/workbook.xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml."
    "sheet.main+xml",
    "<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/"
    "2006/main\"><sheets/></workbook>"
};
static const kind k_pptx = {
    "pptx", "ppt/presentation.xml",
    "application/vnd.openxmlformats-officedocument.presentationml."
    "presentation.main+xml",
    "<p:presentation xmlns:p=\"http://schemas.openxmlformats.org/"
    "presentationml/2006/main\"/>"
};

/* One property of custom.xml: name, value type and value. */
typedef struct prop {
    const char *name;
    const char *vt;
    const char *value;
} prop;

/* A document of kind k with the custom properties given (n_props < 0:
 * no custom.xml at all); the custom.xml text replaces the generated one
 * when custom_raw is set (bomb: compressed, claim its header size). */
static void ooxml(const char *file, const kind *k, const prop *props,
                  int n_props, const char *custom_raw, size_t raw_len,
                  uint32_t claim)
{
    zip z;
    buf ct = { 0 }, cu = { 0 }, rels = { 0 }, main = { 0 };
    int i;

    memset(&z, 0, sizeof z);
    putf(&ct, XML_DECL "<Types xmlns=\"%s\">"
         "<Default Extension=\"rels\" ContentType=\"application/"
         "vnd.openxmlformats-package.relationships+xml\"/>"
         "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
         "<Override PartName=\"/%s\" ContentType=\"%s\"/>", CT_NS,
         k->main_part, k->main_type);
    if (n_props >= 0)
        puts_(&ct, "<Override PartName=\"/docProps/custom.xml\" "
                   "ContentType=\"application/vnd.openxmlformats-"
                   "officedocument.custom-properties+xml\"/>");
    puts_(&ct, "</Types>");
    put(&ct, "", 1);
    putf(&rels, XML_DECL "<Relationships xmlns=\"%s\">"
         "<Relationship Id=\"rId1\" Type=\"%s/officeDocument\" "
         "Target=\"%s\"/>", REL_NS, DOC_REL, k->main_part);
    if (n_props >= 0)
        putf(&rels, "<Relationship Id=\"rId2\" Type=\"%s/custom-properties\""
             " Target=\"docProps/custom.xml\"/>", DOC_REL);
    puts_(&rels, "</Relationships>");
    put(&rels, "", 1);
    putf(&main, XML_DECL "%s", k->main_xml);
    put(&main, "", 1);
    zip_add_s(&z, "[Content_Types].xml", (const char *)ct.p);
    zip_add_s(&z, "_rels/.rels", (const char *)rels.p);
    zip_add_s(&z, k->main_part, (const char *)main.p);
    if (custom_raw != NULL) {
        zip_add(&z, "docProps/custom.xml", custom_raw, raw_len, 1, claim);
    } else if (n_props >= 0) {
        putf(&cu, XML_DECL "<Properties xmlns=\"%s\" xmlns:vt=\"%s\">",
             CUSTOM_NS, VT_NS);
        for (i = 0; i < n_props; i++) {
            putf(&cu, "<property fmtid=\"" FMTID "\" pid=\"%d\" "
                 "name=\"%s\"><vt:%s>", i + 2, props[i].name, props[i].vt);
            put_xml(&cu, props[i].value);
            putf(&cu, "</vt:%s></property>", props[i].vt);
        }
        puts_(&cu, "</Properties>");
        put(&cu, "", 1);
        zip_add_s(&z, "docProps/custom.xml", (const char *)cu.p);
    }
    zip_finish(&z, file);
    free(ct.p);
    free(cu.p);
    free(rels.p);
    free(main.p);
}

static void gen_ooxml(void)
{
    static const prop one[] = { { "AIGC", "lpwstr", LABEL_BARE } };
    static const prop wrapped[] = {
        { "Client", "lpwstr", "internal" },
        { "AIGC", "lpwstr", LABEL_WRAPPED },
    };
    static const prop two[] = {
        { "AIGC", "lpwstr", LABEL_BARE },
        { "aigc", "lpwstr", LABEL2_BARE },
    };
    static const prop other[] = { { "Client", "lpwstr", "internal" } };
    static const prop i4[] = { { "AIGC", "i4", "1" } };
    char *big;
    size_t i, n = (size_t)20 << 20;
    zip z;

    ooxml("doc.docx", &k_docx, one, 1, NULL, 0, 0);
    ooxml("sheet.xlsx", &k_xlsx, wrapped, 2, NULL, 0, 0);
    ooxml("slides.pptx", &k_pptx, one, 1, NULL, 0, 0);
    ooxml("doc-none.docx", &k_docx, NULL, -1, NULL, 0, 0);
    ooxml("doc-other.docx", &k_docx, other, 1, NULL, 0, 0);
    ooxml("doc-two.docx", &k_docx, two, 2, NULL, 0, 0);
    ooxml("doc-i4.docx", &k_docx, i4, 1, NULL, 0, 0);
    /* 20 MiB of spaces deflate to about 20 KiB: past the metadata limit,
     * honestly declared, and under a header claiming 100 bytes */
    big = malloc(n);
    if (big == NULL)
        fail("out of memory");
    memcpy(big, XML_DECL, strlen(XML_DECL));
    for (i = strlen(XML_DECL); i < n; i++)
        big[i] = ' ';
    ooxml("doc-bomb.docx", &k_docx, NULL, 0, big, n, 0);
    ooxml("doc-liar.docx", &k_docx, NULL, 0, big, n, 100);
    free(big);
    /* ZIPs that are not Office documents */
    memset(&z, 0, sizeof z);
    zip_add_s(&z, "readme.txt", "just a zip\n");
    zip_finish(&z, "plain.zip");
    memset(&z, 0, sizeof z);
    zip_add_s(&z, "[Content_Types].xml", XML_DECL "<Types xmlns=\"" CT_NS
              "\"><Default Extension=\"xml\" ContentType=\"application/"
              "xml\"/></Types>");
    zip_add_s(&z, "data.xml", XML_DECL "<data/>");
    zip_finish(&z, "opc.zip");
}

/* ---- PDF ---------------------------------------------------------- */

#define MAX_OBJ 16

typedef struct pdf {
    buf out;
    size_t off[MAX_OBJ];                 /* of object i, 0 none */
    int n;                               /* objects numbered 1..n-1 */
    size_t last_xref;
} pdf;

static void obj(pdf *p, int num, const char *body)
{
    if (num >= MAX_OBJ)
        fail("too many objects");
    p->off[num] = p->out.n;
    putf(&p->out, "%d 0 obj\n", num);
    puts_(&p->out, body);
    puts_(&p->out, "\nendobj\n");
    if (num >= p->n)
        p->n = num + 1;
}

/* A classic cross-reference section for objects from..n-1 (from 0: the
 * whole table), the trailer (extra entries in trailer_more) and the end.
 * With from > 0 it is an update: /Prev points at the last section. */
static void xref(pdf *p, int from, int info, const char *trailer_more)
{
    size_t at = p->out.n;
    int i;

    puts_(&p->out, "xref\n");
    if (from > 0) {
        putf(&p->out, "%d %d\n", from, p->n - from);
    } else {
        putf(&p->out, "0 %d\n", p->n);
        puts_(&p->out, "0000000000 65535 f\r\n");
        from = 1;
    }
    for (i = from; i < p->n; i++) {
        if (p->off[i] == 0)
            puts_(&p->out, "0000000000 00001 f\r\n");
        else
            putf(&p->out, "%010zu 00000 n\r\n", p->off[i]);
    }
    putf(&p->out, "trailer\n<< /Size %d /Root 1 0 R", p->n);
    if (info)
        putf(&p->out, " /Info %d 0 R", info);
    if (p->last_xref)
        putf(&p->out, " /Prev %zu", p->last_xref);
    puts_(&p->out, trailer_more != NULL ? trailer_more : "");
    putf(&p->out, " >>\nstartxref\n%zu\n%%%%EOF\n", at);
    p->last_xref = at;
}

/* Catalog (1), pages (2), one page (3) with a content stream (4);
 * metadata: an XMP stream object 5 named by the catalog. */
static void pdf_base2(pdf *p, const char *xmp, int flate);

static void pdf_base(pdf *p, const char *xmp)
{
    pdf_base2(p, xmp, 0);
}

/* flate: the XMP stream Flate-compressed. */
static void pdf_base2(pdf *p, const char *xmp, int flate)
{
    static const char content[] = "BT /F1 12 Tf 72 720 Td (AI) Tj ET";
    char tmp[512];

    memset(p, 0, sizeof *p);
    puts_(&p->out, "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n");
    obj(p, 1, xmp != NULL ? "<< /Type /Catalog /Pages 2 0 R /Metadata 5 0 R"
                            " >>"
                          : "<< /Type /Catalog /Pages 2 0 R >>");
    obj(p, 2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    obj(p, 3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
              "/Contents 4 0 R /Resources << /Font << /F1 << /Type /Font "
              "/Subtype /Type1 /BaseFont /Helvetica >> >> >> >>");
    snprintf(tmp, sizeof tmp, "<< /Length %zu >>\nstream\n%s\nendstream",
             strlen(content) + 1, content);
    obj(p, 4, tmp);
    if (xmp != NULL && flate) {
        buf s = { 0 };
        uLongf zlen = compressBound((uLong)strlen(xmp));
        unsigned char *z = malloc(zlen);

        if (z == NULL || compress2(z, &zlen, (const Bytef *)xmp,
                                   (uLong)strlen(xmp), 9) != Z_OK)
            fail("compress");
        putf(&s, "<< /Type /Metadata /Subtype /XML /Filter /FlateDecode "
             "/Length %lu >>\nstream\n", (unsigned long)zlen);
        put(&s, z, zlen);
        puts_(&s, "\nendstream");
        put(&s, "", 1);
        /* binary: written whole, not as a C string */
        p->off[5] = p->out.n;
        puts_(&p->out, "5 0 obj\n");
        put(&p->out, s.p, s.n - 1);
        puts_(&p->out, "\nendobj\n");
        if (p->n < 6)
            p->n = 6;
        free(s.p);
        free(z);
    } else if (xmp != NULL) {
        buf s = { 0 };

        putf(&s, "<< /Type /Metadata /Subtype /XML /Length %zu >>\n"
             "stream\n", strlen(xmp));
        puts_(&s, xmp);
        puts_(&s, "\nendstream");
        put(&s, "", 1);
        obj(p, 5, (const char *)s.p);
        free(s.p);
    }
}

/* A PDF literal string of s: parentheses and backslashes escaped, the
 * Label's value as an octal escape, and a line continuation, so a reader
 * must decode all three. */
static void put_literal(buf *b, const char *s)
{
    int first_one = 1;
    size_t i;

    put(b, "(", 1);
    for (i = 0; s[i] != '\0'; i++) {
        if (s[i] == '(' || s[i] == ')' || s[i] == '\\') {
            put(b, "\\", 1);
            put(b, s + i, 1);
        } else if (s[i] == '1' && first_one) {
            first_one = 0;
            puts_(b, "\\061");
        } else if (s[i] == ',' && i > 40 && i < 60) {
            puts_(b, ",\\\n");
        } else {
            put(b, s + i, 1);
        }
    }
    put(b, ")", 1);
}

/* <FEFF...>: s as UTF-16BE (s is UTF-8, BMP only). */
static void put_utf16_hex(buf *b, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;

    puts_(b, "<FEFF");
    while (*u != '\0') {
        unsigned c = *u++;

        if (c >= 0xe0) {
            c = (c & 0x0f) << 12;
            c |= (unsigned)(*u++ & 0x3f) << 6;
            c |= (unsigned)(*u++ & 0x3f);
        } else if (c >= 0xc0) {
            c = (c & 0x1f) << 6;
            c |= (unsigned)(*u++ & 0x3f);
        }
        putf(b, "%04X", c);
    }
    puts_(b, ">");
}

static void info_obj(pdf *p, int num, const char *aigc_syntax)
{
    buf s = { 0 };

    putf(&s, "<< /Producer (gendoc) /CreationDate (D:20240102030405Z)%s%s"
         " >>", aigc_syntax != NULL ? " /AIGC " : "",
         aigc_syntax != NULL ? aigc_syntax : "");
    put(&s, "", 1);
    obj(p, num, (const char *)s.p);
    free(s.p);
}

static void pdf_write(pdf *p, const char *file)
{
    write_file(file, &p->out);
    free(p->out.p);
}

static void gen_pdf(void)
{
    static const char xmp[] =
        "<?xpacket begin=\"\xef\xbb\xbf\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
        "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://"
        "www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description "
        "rdf:about=\"\" xmlns:TC260=\"http://www.tc260.org.cn/ns/AIGC/1.0/"
        "\"><TC260:AIGC>{&quot;Label&quot;:&quot;1&quot;,&quot;"
        "ContentProducer&quot;:&quot;" PRODUCER "&quot;,&quot;ProduceID"
        "&quot;:&quot;x-1&quot;,&quot;ReservedCode1&quot;:&quot;&quot;,"
        "&quot;ContentPropagator&quot;:&quot;" PRODUCER "&quot;,&quot;"
        "PropagateID&quot;:&quot;x-1&quot;,&quot;ReservedCode2&quot;:"
        "&quot;&quot;}</TC260:AIGC></rdf:Description></rdf:RDF>"
        "</x:xmpmeta>\n<?xpacket end=\"w\"?>";
    pdf p;
    buf s = { 0 };

    /* bare JSON in a literal string with escapes */
    put_literal(&s, LABEL_BARE);
    put(&s, "", 1);
    pdf_base(&p, NULL);
    info_obj(&p, 6, (const char *)s.p);
    xref(&p, 0, 6, NULL);
    pdf_write(&p, "info.pdf");

    /* the same, then an update that changes the label (Label 2) */
    pdf_base(&p, NULL);
    info_obj(&p, 6, (const char *)s.p);
    xref(&p, 0, 6, NULL);
    s.n = 0;
    put_literal(&s, LABEL2_BARE);
    put(&s, "", 1);
    info_obj(&p, 7, (const char *)s.p);
    xref(&p, 7, 7, NULL);
    pdf_write(&p, "update.pdf");

    /* an update carrying the label along unchanged (an editor's save) */
    s.n = 0;
    put_literal(&s, LABEL_BARE);
    put(&s, "", 1);
    pdf_base(&p, NULL);
    info_obj(&p, 6, (const char *)s.p);
    xref(&p, 0, 6, NULL);
    info_obj(&p, 7, (const char *)s.p);
    xref(&p, 7, 7, NULL);
    pdf_write(&p, "update-same.pdf");

    /* an update that removes it */
    pdf_base(&p, NULL);
    info_obj(&p, 6, (const char *)s.p);
    xref(&p, 0, 6, NULL);
    info_obj(&p, 7, NULL);
    xref(&p, 7, 7, NULL);
    pdf_write(&p, "removed.pdf");

    /* wrapped JSON as UTF-16BE in a hex string, a Chinese propagator */
    s.n = 0;
    put_utf16_hex(&s, "{\"AIGC\":{\"Label\":\"1\",\"ContentProducer\":\""
                  PRODUCER "\",\"ProduceID\":\"u16\",\"ReservedCode1\":\"\","
                  "\"ContentPropagator\":\"\xe8\xb1\x86\xe5\x8c\x85\","
                  "\"PropagateID\":\"u16\",\"ReservedCode2\":\"\"}}");
    put(&s, "", 1);
    pdf_base(&p, NULL);
    info_obj(&p, 6, (const char *)s.p);
    xref(&p, 0, 6, NULL);
    pdf_write(&p, "utf16.pdf");

    /* a name where a string belongs */
    pdf_base(&p, NULL);
    info_obj(&p, 6, "/Label1");
    xref(&p, 0, 6, NULL);
    pdf_write(&p, "name.pdf");

    /* no label at all */
    pdf_base(&p, NULL);
    info_obj(&p, 6, NULL);
    xref(&p, 0, 6, NULL);
    pdf_write(&p, "none.pdf");

    /* the label in the catalog's XMP only, then in both */
    pdf_base(&p, xmp);
    info_obj(&p, 6, NULL);
    xref(&p, 0, 6, NULL);
    pdf_write(&p, "xmp.pdf");
    pdf_base2(&p, xmp, 1);
    info_obj(&p, 6, NULL);
    xref(&p, 0, 6, NULL);
    pdf_write(&p, "xmp-flate.pdf");
    s.n = 0;
    put_literal(&s, LABEL_BARE);
    put(&s, "", 1);
    pdf_base(&p, xmp);
    info_obj(&p, 6, (const char *)s.p);
    xref(&p, 0, 6, NULL);
    pdf_write(&p, "both.pdf");
    free(s.p);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        fail("usage: gendoc OUTDIR");
    g_outdir = argv[1];
    gen_ooxml();
    gen_pdf();
    return 0;
}
