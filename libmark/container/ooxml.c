/*
 * ooxml.c - Office Open XML documents (DOCX, XLSX, PPTX, with their
 * macro-enabled, template and slide-show kinds): the metadata label in
 * the custom file properties, read only.
 *
 * Such a document is a ZIP archive of XML parts (an OPC package):
 * [Content_Types].xml names each part's content type, and the main part's
 * type says what the document is (wordprocessingml: docx, spreadsheetml:
 * xlsx, presentationml: pptx; the ms-word, ms-excel and ms-powerpoint
 * types are their macro-enabled kinds).  A ZIP without one of those is
 * not handled.  The custom file properties part (docProps/custom.xml, or
 * whichever part the content types give the custom-properties type) is
 *
 *   <Properties xmlns="...custom-properties" xmlns:vt="...docPropsVTypes">
 *     <property fmtid="{D5CDD505-...}" pid="2" name="AIGC">
 *       <vt:lpwstr>{"Label":"1",...}</vt:lpwstr></property></Properties>
 *
 * Carrier read: every property named AIGC (any case, as Office compares
 * property names), each one a label; a value that is not a string
 * (vt:i4, vt:bool, ...) is recorded as found and reported.
 *
 * Only the parts named above are decompressed, each bounded by the
 * metadata limit (what its header claims and what inflating it gives):
 * an entry of a zip bomb that is never read costs nothing.  The entry
 * count is bounded by the chunk limit.  Writing is not supported: the
 * backend has no write, so the media layer refuses marking.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <zip.h>

#include "internal.h"

#define CARRIER "ooxml-custom"
#define CUSTOM_PART "docProps/custom.xml"
#define CUSTOM_TYPE \
    "application/vnd.openxmlformats-officedocument.custom-properties+xml"
#define MAX_CUSTOM_PARTS 8

/* Content type prefixes of a main document part, and what they make. */
static const struct kind {
    const char *prefix;
    const char *codec;
} kinds[] = {
    { "application/vnd.openxmlformats-officedocument.wordprocessingml.",
      "docx" },
    { "application/vnd.ms-word.", "docx" },
    { "application/vnd.openxmlformats-officedocument.spreadsheetml.",
      "xlsx" },
    { "application/vnd.ms-excel.", "xlsx" },
    { "application/vnd.openxmlformats-officedocument.presentationml.",
      "pptx" },
    { "application/vnd.ms-powerpoint.", "pptx" },
};

/* When the content types name no main part: the usual part names. */
static const struct main_part {
    const char *name;
    const char *codec;
} main_parts[] = {
    { "word/document.xml", "docx" },
    { "xl/workbook.xml", "xlsx" },
    { "ppt/presentation.xml", "pptx" },
};

/* libzip's message, lower case first as ours are ("Not a zip archive"
 * becomes "not a zip archive"). */
static const char *zmsg(const char *s, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", s != NULL ? s : "unreadable");
    if (buf[0] >= 'A' && buf[0] <= 'Z' &&
        !(buf[1] >= 'A' && buf[1] <= 'Z'))
        buf[0] = (char)(buf[0] - 'A' + 'a');
    return buf;
}

static const char *kind_of(const char *content_type)
{
    size_t i, n;

    for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        n = strlen(kinds[i].prefix);
        if (strncasecmp(content_type, kinds[i].prefix, n) == 0 &&
            strstr(content_type + n, ".main") != NULL)
            return kinds[i].codec;
    }
    return NULL;
}

/* Read the part name (ASCII case ignored, as OPC compares names) into
 * out; *found receives whether it exists.  At most the metadata limit is
 * decompressed, whatever the entry claims. */
static int read_part(mark_media *m, zip_t *za, const char *name,
                     mark__buf *out, int *found)
{
    int64_t limit = m->ctx->limits[MARK_LIMIT_METADATA_BYTES];
    zip_int64_t idx = zip_name_locate(za, name, ZIP_FL_NOCASE);
    zip_stat_t st;
    zip_file_t *zf;
    zip_int64_t n;
    char why[256];
    int rc = MARK_OK;

    *found = idx >= 0;
    if (idx < 0)
        return MARK_OK;
    zip_stat_init(&st);
    if (zip_stat_index(za, (zip_uint64_t)idx, 0, &st) != 0)
        return mark__err(m->ctx, MARK_EFORMAT, "zip: '%s': %s", name,
                         zmsg(zip_strerror(za), why, sizeof why));
    if ((st.valid & ZIP_STAT_SIZE) && st.size > (zip_uint64_t)limit)
        return mark__err(m->ctx, MARK_ELIMIT, "zip: '%s' of %llu bytes "
                         "exceeds the metadata limit of %lld bytes", name,
                         (unsigned long long)st.size, (long long)limit);
    zf = zip_fopen_index(za, (zip_uint64_t)idx, 0);
    if (zf == NULL)
        return mark__err(m->ctx, MARK_EFORMAT, "zip: '%s': %s", name,
                         zmsg(zip_strerror(za), why, sizeof why));
    for (;;) {
        rc = mark__buf_reserve(out, 16384);
        if (rc < 0) {
            rc = mark__err(m->ctx, MARK_ENOMEM, "out of memory");
            break;
        }
        n = zip_fread(zf, out->data + out->len, 16384);
        if (n < 0) {
            rc = mark__err(m->ctx, MARK_EFORMAT, "zip: '%s': %s", name,
                           zmsg(zip_file_strerror(zf), why, sizeof why));
            break;
        }
        if (n == 0)
            break;
        out->len += (size_t)n;
        if ((int64_t)out->len > limit) {
            rc = mark__err(m->ctx, MARK_ELIMIT, "zip: '%s' inflates past "
                           "the metadata limit of %lld bytes", name,
                           (long long)limit);
            break;
        }
    }
    zip_fclose(zf);
    return rc;
}

/* Parse a part; a part that is not well-formed XML, or declares a DTD,
 * is a finding (a problem), not an error: NULL then. */
static int parse_xml(mark_media *m, const mark__buf *b, const char *name,
                     xmlDoc **out)
{
    xmlParserCtxt *pc;
    const xmlError *e;
    char why[256];
    size_t n;

    *out = NULL;
    if (b->len > INT32_MAX)
        return mark__err(m->ctx, MARK_ELIMIT, "zip: '%s' is too large",
                         name);
    pc = xmlNewParserCtxt();
    if (pc == NULL)
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    /* no entity substitution, no network: and a DTD is refused below */
    *out = xmlCtxtReadMemory(pc, (const char *)b->data, (int)b->len, NULL,
                             NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
                                   XML_PARSE_NOWARNING);
    why[0] = '\0';
    if (*out == NULL) {
        e = xmlCtxtGetLastError(pc);
        snprintf(why, sizeof why, "%s", e != NULL && e->message != NULL
                                            ? e->message
                                            : "not well-formed XML");
        n = strlen(why);
        if (n > 0 && why[n - 1] == '\n')
            why[n - 1] = '\0';
    } else if ((*out)->intSubset != NULL ||
               xmlDocGetRootElement(*out) == NULL) {
        snprintf(why, sizeof why, "%s", (*out)->intSubset != NULL
                                            ? "declares a DTD"
                                            : "no root element");
        xmlFreeDoc(*out);
        *out = NULL;
    }
    xmlFreeParserCtxt(pc);
    if (*out != NULL)
        return MARK_OK;
    return mark__problem_add(m->problems, MARK_SEV_WARNING, "ooxml", -1,
                             "'%s' not read: %s", name, why);
}

static int is_elem(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE &&
           strcmp((const char *)n->name, name) == 0;
}

typedef struct parts {
    const char *codec;                   /* from a main part's type */
    char *custom[MAX_CUSTOM_PARTS];      /* custom properties part names */
    size_t n_custom;
} parts;

static int add_custom(mark_media *m, parts *p, const char *name)
{
    size_t i;

    while (name[0] == '/')
        name++;
    for (i = 0; i < p->n_custom; i++)
        if (strcasecmp(p->custom[i], name) == 0)
            return MARK_OK;
    if (p->n_custom == MAX_CUSTOM_PARTS)
        return MARK_OK;
    p->custom[p->n_custom] = mark__strdup(m->ctx, name);
    if (p->custom[p->n_custom] == NULL)
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    p->n_custom++;
    return MARK_OK;
}

/* [Content_Types].xml: the document kind and the custom properties
 * parts, from its Override elements. */
static int scan_types(mark_media *m, xmlDoc *doc, parts *p)
{
    xmlNode *n;
    int rc = MARK_OK;

    for (n = xmlDocGetRootElement(doc)->children; n != NULL && rc == MARK_OK;
         n = n->next) {
        xmlChar *name, *type;

        if (!is_elem(n, "Override"))
            continue;
        name = xmlGetProp(n, (const xmlChar *)"PartName");
        type = xmlGetProp(n, (const xmlChar *)"ContentType");
        if (name != NULL && type != NULL) {
            if (p->codec == NULL)
                p->codec = kind_of((const char *)type);
            if (strcasecmp((const char *)type, CUSTOM_TYPE) == 0)
                rc = add_custom(m, p, (const char *)name);
        }
        xmlFree(name);
        xmlFree(type);
    }
    return rc;
}

/* Every AIGC property of one custom properties part. */
static int scan_custom(mark_media *m, const char *part, xmlDoc *doc,
                       const char *codec)
{
    char where[160], kind[8];
    xmlNode *n, *v;
    size_t i;
    int rc = MARK_OK;

    for (i = 0; codec[i] != '\0' && i + 1 < sizeof kind; i++)
        kind[i] = (char)(codec[i] - 'a' + 'A');
    kind[i] = '\0';
    for (n = xmlDocGetRootElement(doc)->children; n != NULL && rc >= 0;
         n = n->next) {
        xmlChar *name, *val;
        const char *type;

        if (!is_elem(n, "property"))
            continue;
        name = xmlGetProp(n, (const xmlChar *)"name");
        if (name == NULL || strcasecmp((const char *)name, "AIGC") != 0) {
            xmlFree(name);
            continue;
        }
        snprintf(where, sizeof where, "%s %s property '%s'", kind, part,
                 (const char *)name);
        xmlFree(name);
        for (v = n->children; v != NULL && v->type != XML_ELEMENT_NODE;
             v = v->next)
            ;
        type = v != NULL ? (const char *)v->name : "nothing";
        val = v != NULL ? xmlNodeGetContent(v) : NULL;
        rc = mark__media_add_label(m, CARRIER, where,
                                   val != NULL ? (const char *)val : "",
                                   val != NULL ? strlen((const char *)val)
                                               : 0);
        xmlFree(val);
        if (rc >= 0 && strcmp(type, "lpwstr") != 0 &&
            strcmp(type, "lpstr") != 0 && strcmp(type, "bstr") != 0)
            rc = mark__problem_add(m->problems, MARK_SEV_ERROR,
                                   "ooxml-type", rc, "%s holds vt:%s, not "
                                   "a string (vt:lpwstr)", where, type);
    }
    return rc < 0 ? rc : MARK_OK;
}

static int ooxml_scan(mark_media *m, zip_t *za, parts *p)
{
    zip_int64_t entries = zip_get_num_entries(za, 0);
    xmlDoc *doc = NULL;
    mark__buf b;
    size_t i;
    int rc, found;

    if (entries < 0 || entries > m->ctx->limits[MARK_LIMIT_CHUNKS])
        return mark__err(m->ctx, MARK_ELIMIT, "zip has more than %lld "
                         "entries",
                         (long long)m->ctx->limits[MARK_LIMIT_CHUNKS]);
    mark__buf_init(&b, m->ctx);
    rc = read_part(m, za, "[Content_Types].xml", &b, &found);
    if (rc == MARK_OK && !found)
        rc = mark__err(m->ctx, MARK_EUNSUPPORTED, "zip archive is not an "
                       "Office Open XML document (no [Content_Types].xml): "
                       "not supported");
    if (rc == MARK_OK)
        rc = parse_xml(m, &b, "[Content_Types].xml", &doc);
    mark__buf_free(&b);
    if (rc == MARK_OK && doc != NULL)
        rc = scan_types(m, doc, p);
    xmlFreeDoc(doc);
    doc = NULL;
    for (i = 0; rc == MARK_OK && p->codec == NULL &&
                i < sizeof main_parts / sizeof main_parts[0]; i++)
        if (zip_name_locate(za, main_parts[i].name, ZIP_FL_NOCASE) >= 0)
            p->codec = main_parts[i].codec;
    if (rc < 0)
        return rc;
    if (p->codec == NULL)
        return mark__err(m->ctx, MARK_EUNSUPPORTED, "zip archive is not a "
                         "docx, xlsx or pptx document: not supported");
    m->info.codec = p->codec;
    /* the usual name is read even where the content types miss it */
    if (zip_name_locate(za, CUSTOM_PART, ZIP_FL_NOCASE) >= 0)
        rc = add_custom(m, p, CUSTOM_PART);
    for (i = 0; rc == MARK_OK && i < p->n_custom; i++) {
        mark__buf_init(&b, m->ctx);
        rc = read_part(m, za, p->custom[i], &b, &found);
        if (rc == MARK_OK && found)
            rc = parse_xml(m, &b, p->custom[i], &doc);
        mark__buf_free(&b);
        if (rc == MARK_OK && found && doc != NULL)
            rc = scan_custom(m, p->custom[i], doc, p->codec);
        xmlFreeDoc(doc);
        doc = NULL;
    }
    return rc;
}

static int ooxml_parse(mark_media *m)
{
    zip_error_t ze;
    zip_source_t *src;
    zip_t *za;
    parts p;
    size_t i;
    char why[256];
    int rc;

    memset(&p, 0, sizeof p);
    zip_error_init(&ze);
    src = zip_source_buffer_create(m->data, m->len, 0, &ze);
    if (src == NULL) {
        zip_error_fini(&ze);
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    }
    za = zip_open_from_source(src, ZIP_RDONLY, &ze);
    if (za == NULL) {
        rc = mark__err(m->ctx, zip_error_code_zip(&ze) == ZIP_ER_MEMORY
                                   ? MARK_ENOMEM : MARK_EFORMAT,
                       "zip: %s", zmsg(zip_error_strerror(&ze), why,
                                       sizeof why));
        zip_source_free(src);
        zip_error_fini(&ze);
        return rc;
    }
    zip_error_fini(&ze);
    rc = ooxml_scan(m, za, &p);
    zip_discard(za);                     /* read only: frees src too */
    for (i = 0; i < p.n_custom; i++)
        mark__free(m->ctx, p.custom[i]);
    return rc;
}

const mark__container mark__container_ooxml = {
    .name = "zip",
    .format = MARK_FORMAT_ZIP,
    .type = MARK_MEDIA_TEXT,
    .parse = ooxml_parse,
};
