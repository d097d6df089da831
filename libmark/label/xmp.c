/*
 * xmp.c - the XMP carrier of the metadata label: finding AIGC properties
 * in a packet, and merging our property into an existing packet.
 *
 * XML is parsed by libxml2, never by hand: properties may come in element
 * or attribute form, under any prefix, with entities and CDATA.  Matching
 * is by namespace URI, not prefix.  Packets with a DTD are not parsed (XMP
 * forbids DTDs, and refusing them shuts out entity-expansion attacks).
 */
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "internal.h"

#define RDF_NS "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#define X_NS "adobe:ns:meta/"

enum ns_kind { NS_NONE, NS_TC260, NS_BAD_ADOBE, NS_OTHER };

static int ns_kind(const xmlNs *ns)
{
    const char *href;

    if (ns == NULL || ns->href == NULL)
        return NS_NONE;
    href = (const char *)ns->href;
    if (strcmp(href, MARK__TC260_NS) == 0)
        return NS_TC260;
    if (strcmp(href, MARK__XMP_BAD_NS) == 0)
        return NS_BAD_ADOBE;
    return NS_OTHER;
}

/* Trim what surrounds the XML in real packets: NUL padding in JPEG
 * segments and trailing whitespace. */
static size_t trimmed_len(const char *p, size_t len)
{
    while (len > 0 && (p[len - 1] == '\0' || p[len - 1] == ' ' ||
                       p[len - 1] == '\n' || p[len - 1] == '\r' ||
                       p[len - 1] == '\t'))
        len--;
    return len;
}

/* Parse a packet; on failure *why holds libxml2's message. */
static xmlDoc *parse_packet(const char *packet, size_t len, char *why,
                            size_t cap)
{
    xmlParserCtxt *pc;
    xmlDoc *doc;
    const xmlError *e;
    char *nl;

    why[0] = '\0';
    len = trimmed_len(packet, len);
    if (len > INT32_MAX) {
        snprintf(why, cap, "packet too large");
        return NULL;
    }
    pc = xmlNewParserCtxt();
    if (pc == NULL) {
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    doc = xmlCtxtReadMemory(pc, packet, (int)len, NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING);
    if (doc == NULL) {
        e = xmlCtxtGetLastError(pc);
        snprintf(why, cap, "%s", e != NULL && e->message != NULL
                                     ? e->message : "not well-formed XML");
        /* libxml2 messages end in a newline, and some have one inside
         * ("indicate encoding !\nBytes: ..."): one line for the user */
        if (why[0] != '\0' && why[strlen(why) - 1] == '\n')
            why[strlen(why) - 1] = '\0';
        for (nl = why; (nl = strchr(nl, '\n')) != NULL; )
            *nl = ' ';
    } else if (doc->intSubset != NULL) {
        snprintf(why, cap, "packet declares a DTD, which XMP forbids");
        xmlFreeDoc(doc);
        doc = NULL;
    } else if (xmlDocGetRootElement(doc) == NULL) {
        snprintf(why, cap, "packet has no root element");
        xmlFreeDoc(doc);
        doc = NULL;
    }
    xmlFreeParserCtxt(pc);
    return doc;
}

/* Does this property value parse as a label?  Used for AIGC properties
 * outside the known namespaces, which may belong to someone else. */
static int looks_like_label(mark_ctx *ctx, const char *v)
{
    mark_label *l = NULL;
    int rc = mark_label_parse(ctx, v, strlen(v), &l, NULL);

    mark_label_free(l);
    return rc == MARK_OK;
}

/* Is this (namespace, value) an AIGC label property? */
static int is_label_prop(mark_ctx *ctx, const xmlNs *ns, const char *value)
{
    int k = ns_kind(ns);

    return k == NS_TC260 || k == NS_BAD_ADOBE ||
           (value != NULL && looks_like_label(ctx, value));
}

static int is_ours(const xmlNode *c, const char *name)
{
    return c->ns != NULL && c->ns->href != NULL &&
           strcmp((const char *)c->ns->href, MARK__AIMARK_NS) == 0 &&
           strcmp((const char *)c->name, name) == 0;
}

/* aimark:VisibleLabel, our record of a drawn label. */
static int is_visible_record(const xmlNode *c)
{
    return is_ours(c, "VisibleLabel");
}

/* aimark:Watermark, the scheme we embedded. */
static int is_wm_record(const xmlNode *c)
{
    return is_ours(c, "Watermark");
}

static int record(mark_media *m, const xmlNs *ns, const char *prefixed_name,
                  const char *value, const char *form, const char *location)
{
    char where[512];
    int idx, k = ns_kind(ns);

    snprintf(where, sizeof where, "%s, %s %s", location, form,
             prefixed_name);
    idx = mark__media_add_label(m, "xmp", where, value, strlen(value));
    if (idx < 0)
        return idx;
    if (k == NS_BAD_ADOBE)
        return mark__problem_add(m->problems, MARK_SEV_ERROR, "namespace",
                                 idx, "AIGC property bound to %s (a known "
                                 "faulty writer), not %s",
                                 MARK__XMP_BAD_NS, MARK__TC260_NS);
    if (k == NS_OTHER)
        return mark__problem_add(m->problems, MARK_SEV_ERROR, "namespace",
                                 idx, "AIGC property bound to %s, not %s",
                                 (const char *)ns->href, MARK__TC260_NS);
    if (k == NS_NONE)
        return mark__problem_add(m->problems, MARK_SEV_ERROR, "namespace",
                                 idx, "AIGC property in no namespace, not "
                                 "%s", MARK__TC260_NS);
    return MARK_OK;
}

static void qname(char *buf, size_t cap, const xmlNs *ns, const xmlChar *n)
{
    if (ns != NULL && ns->prefix != NULL)
        snprintf(buf, cap, "%s:%s", (const char *)ns->prefix,
                 (const char *)n);
    else
        snprintf(buf, cap, "%s", (const char *)n);
}

static int scan_node(mark_media *m, xmlNode *node, const char *location,
                     int *count, int depth)
{
    xmlNode *c;
    xmlAttr *a;
    char name[256];
    int rc;

    if (depth > 256)
        return mark__problem_add(m->problems, MARK_SEV_WARNING, "xmp",
                                 -1, "%s: XMP nested deeper than 256 "
                                 "levels; rest not read", location);
    for (a = node->properties; a != NULL; a = a->next) {
        xmlChar *v;

        if (strcmp((const char *)a->name, "AIGC") != 0)
            continue;
        v = xmlNodeListGetString(node->doc, a->children, 1);
        if (v == NULL)
            continue;
        rc = MARK_OK;
        if (is_label_prop(m->ctx, a->ns, (const char *)v)) {
            qname(name, sizeof name, a->ns, a->name);
            rc = record(m, a->ns, name, (const char *)v, "attribute",
                        location);
            (*count)++;
        }
        xmlFree(v);
        if (rc < 0)
            return rc;
    }
    for (c = node->children; c != NULL; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (is_wm_record(c)) {
            m->wm_recorded = 1;
            continue;
        }
        if (is_visible_record(c) && m->visible_record == NULL) {
            xmlChar *v = xmlNodeGetContent(c);

            if (v != NULL)
                m->visible_record = mark__strdup(m->ctx, (const char *)v);
            xmlFree(v);
            continue;
        }
        if (strcmp((const char *)c->name, "AIGC") == 0) {
            xmlChar *v = xmlNodeGetContent(c);

            rc = MARK_OK;
            if (v != NULL && is_label_prop(m->ctx, c->ns, (const char *)v)) {
                qname(name, sizeof name, c->ns, c->name);
                rc = record(m, c->ns, name, (const char *)v, "element",
                            location);
                (*count)++;
            }
            xmlFree(v);
            if (rc < 0)
                return rc;
            continue;
        }
        rc = scan_node(m, c, location, count, depth + 1);
        if (rc < 0)
            return rc;
    }
    return MARK_OK;
}

int mark__xmp_scan(mark_media *m, const char *packet, size_t len,
                   const char *location, int *n_labels)
{
    char why[256];
    xmlDoc *doc;
    int count = 0, rc;

    if (n_labels != NULL)
        *n_labels = 0;
    if ((int64_t)len > m->ctx->limits[MARK_LIMIT_METADATA_BYTES])
        return mark__problem_add(m->problems, MARK_SEV_WARNING, "xmp", -1,
                                 "%s: XMP packet of %zu bytes exceeds the "
                                 "metadata limit; not read", location, len);
    doc = parse_packet(packet, len, why, sizeof why);
    if (doc == NULL)
        return mark__problem_add(m->problems, MARK_SEV_WARNING, "xmp", -1,
                                 "%s: XMP packet not read: %s", location,
                                 why);
    /* the root itself may be the property holder in odd packets */
    rc = scan_node(m, (xmlNode *)doc, location, &count, 0);
    xmlFreeDoc(doc);
    if (n_labels != NULL)
        *n_labels = count;
    return rc;
}

/* Remove below node every AIGC label property (with labels set) and
 * every record of a drawn label (with records set). */
static void strip_labels(mark_ctx *ctx, xmlNode *node, int labels,
                         int records, int wm, int depth)
{
    xmlNode *c, *next;
    xmlAttr *a, *an;

    if (depth > 256)
        return;
    for (a = node->properties; a != NULL; a = an) {
        an = a->next;
        if (labels && strcmp((const char *)a->name, "AIGC") == 0) {
            xmlChar *v = xmlNodeListGetString(node->doc, a->children, 1);

            if (is_label_prop(ctx, a->ns, (const char *)v))
                xmlRemoveProp(a);
            xmlFree(v);
        }
    }
    for (c = node->children; c != NULL; c = next) {
        next = c->next;
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if ((labels && strcmp((const char *)c->name, "AIGC") == 0) ||
            (records && is_visible_record(c)) || (wm && is_wm_record(c))) {
            xmlChar *v = xmlNodeGetContent(c);
            int drop = is_visible_record(c) || is_wm_record(c) ||
                       is_label_prop(ctx, c->ns, (const char *)v);

            xmlFree(v);
            if (drop) {
                /* take the indentation before it along */
                if (c->prev != NULL && xmlIsBlankNode(c->prev)) {
                    xmlNode *ws = c->prev;

                    xmlUnlinkNode(ws);
                    xmlFreeNode(ws);
                }
                xmlUnlinkNode(c);
                xmlFreeNode(c);
                continue;
            }
        }
        strip_labels(ctx, c, labels, records, wm, depth + 1);
    }
}

/* After stripping, a Description left with nothing but rdf:about is
 * removed, so re-marking does not pile up empty ones. */
static void drop_empty_descriptions(xmlNode *rdf)
{
    xmlNode *c, *next, *k;
    xmlAttr *a;
    int empty;

    for (c = rdf->children; c != NULL; c = next) {
        next = c->next;
        if (c->type != XML_ELEMENT_NODE ||
            strcmp((const char *)c->name, "Description") != 0)
            continue;
        empty = 1;
        for (k = c->children; k != NULL && empty; k = k->next)
            if (k->type == XML_ELEMENT_NODE ||
                (k->type == XML_TEXT_NODE && !xmlIsBlankNode(k)))
                empty = 0;
        for (a = c->properties; a != NULL && empty; a = a->next)
            if (strcmp((const char *)a->name, "about") != 0)
                empty = 0;
        if (!empty)
            continue;
        if (c->prev != NULL && xmlIsBlankNode(c->prev)) {
            k = c->prev;
            xmlUnlinkNode(k);
            xmlFreeNode(k);
        }
        xmlUnlinkNode(c);
        xmlFreeNode(c);
    }
}

static xmlNode *find_rdf(xmlNode *node, int depth)
{
    xmlNode *c, *r;

    if (depth > 64)
        return NULL;
    for (c = node; c != NULL; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (c->ns != NULL && strcmp((const char *)c->ns->href, RDF_NS) == 0 &&
            strcmp((const char *)c->name, "RDF") == 0)
            return c;
        r = find_rdf(c->children, depth + 1);
        if (r != NULL)
            return r;
    }
    return NULL;
}

/* Add the properties (our AIGC label and the record of a drawn label,
 * either may be NULL) in one new rdf:Description, in the layout of the
 * packet around it.  libxml2's serialiser only indents elements that have
 * no whitespace text nearby, and merged packets usually carry their own,
 * so the indentation is copied from the element before ours. */
static int add_properties(xmlDoc *doc, xmlNode *rdf, xmlNs *rdfns,
                          const char *json, const char *visible,
                          const char *wm)
{
    xmlNode *last = rdf->last, *desc, *prev;
    xmlNs *ns;
    char ind[64] = "", pre[80];
    const char *nl;
    int layout = 0;

    desc = xmlNewDocNode(doc, rdfns, (const xmlChar *)"Description", NULL);
    if (desc == NULL)
        return -1;
    if (xmlNewNsProp(desc, rdfns, (const xmlChar *)"about",
                     (const xmlChar *)"") == NULL)
        goto fail;
    if (last != NULL && xmlIsBlankNode(last) && last->prev != NULL &&
        last->prev->prev != NULL && xmlIsBlankNode(last->prev->prev)) {
        prev = last->prev->prev;
        nl = prev->content != NULL ? strrchr((const char *)prev->content,
                                             '\n') : NULL;
        if (nl != NULL)
            snprintf(ind, sizeof ind, "%s", nl + 1);
        layout = 1;
    }
    if (json != NULL) {
        ns = xmlNewNs(desc, (const xmlChar *)MARK__TC260_NS,
                      (const xmlChar *)"TC260");
        if (ns == NULL)
            goto fail;
        snprintf(pre, sizeof pre, "\n%s ", ind);
        if ((layout && xmlAddChild(desc, xmlNewText((const xmlChar *)pre)) ==
                           NULL) ||
            xmlNewTextChild(desc, ns, (const xmlChar *)"AIGC",
                            (const xmlChar *)json) == NULL)
            goto fail;
    }
    if (visible != NULL || wm != NULL) {
        ns = xmlNewNs(desc, (const xmlChar *)MARK__AIMARK_NS,
                      (const xmlChar *)"aimark");
        if (ns == NULL)
            goto fail;
        snprintf(pre, sizeof pre, "\n%s ", ind);
        if (visible != NULL &&
            ((layout && xmlAddChild(desc, xmlNewText((const xmlChar *)pre)) ==
                            NULL) ||
             xmlNewTextChild(desc, ns, (const xmlChar *)"VisibleLabel",
                             (const xmlChar *)visible) == NULL))
            goto fail;
        if (wm != NULL &&
            ((layout && xmlAddChild(desc, xmlNewText((const xmlChar *)pre)) ==
                            NULL) ||
             xmlNewTextChild(desc, ns, (const xmlChar *)"Watermark",
                             (const xmlChar *)wm) == NULL))
            goto fail;
    }
    if (!layout)
        return xmlAddChild(rdf, desc) != NULL ? 0 : -1;
    snprintf(pre, sizeof pre, "\n%s", ind);
    if (xmlAddChild(desc, xmlNewText((const xmlChar *)pre)) == NULL)
        goto fail;
    /* before desc, so no text node is next to it to merge with */
    if (xmlAddPrevSibling(last, desc) == NULL)
        goto fail;
    return xmlAddPrevSibling(desc, xmlNewText((const xmlChar *)pre)) != NULL
               ? 0 : -1;
fail:
    if (desc->parent == NULL)
        xmlFreeNode(desc);
    return -1;
}

static const char skeleton[] =
    "<x:xmpmeta xmlns:x=\"" X_NS "\">"
    "<rdf:RDF xmlns:rdf=\"" RDF_NS "\"></rdf:RDF></x:xmpmeta>";

int mark__xmp_rewrite(mark_ctx *ctx, const char *packet, size_t len,
                      const char *bare_json, const char *visible_json,
                      const char *wm_scheme, size_t pad, mark__buf *out)
{
    static const char head[] =
        "<?xpacket begin=\"\xef\xbb\xbf\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n";
    static const char tail[] = "<?xpacket end=\"w\"?>";
    char why[256];
    xmlDoc *doc;
    xmlNode *rdf, *root;
    xmlBuffer *xb = NULL;
    int rc = MARK_OK;
    size_t i;

    if ((int64_t)len > ctx->limits[MARK_LIMIT_METADATA_BYTES])
        return mark__err(ctx, MARK_ELIMIT, "existing XMP packet of %zu "
                         "bytes exceeds the metadata limit", len);
    if (packet != NULL && trimmed_len(packet, len) > 0) {
        doc = parse_packet(packet, len, why, sizeof why);
        if (doc == NULL)
            return mark__err(ctx, MARK_EFORMAT, "existing XMP packet cannot "
                             "be merged into: %s", why);
    } else {
        doc = parse_packet(skeleton, sizeof skeleton - 1, why, sizeof why);
        if (doc == NULL)
            return mark__err(ctx, MARK_ENOMEM, "libxml2: %s", why);
    }
    root = xmlDocGetRootElement(doc);
    /* without a new label the old ones stay: labels are never removed */
    strip_labels(ctx, (xmlNode *)doc, bare_json != NULL,
                 visible_json != NULL, wm_scheme != NULL, 0);
    rdf = find_rdf(root, 0);
    if (rdf == NULL) {
        rc = mark__err(ctx, MARK_EFORMAT, "existing XMP packet has no "
                       "rdf:RDF element to add the label to");
        goto done;
    }
    drop_empty_descriptions(rdf);
    if ((bare_json != NULL || visible_json != NULL || wm_scheme != NULL) &&
        add_properties(doc, rdf,
                       xmlSearchNsByHref(doc, rdf, (const xmlChar *)RDF_NS),
                       bare_json, visible_json, wm_scheme) < 0)
        goto nomem;
    xb = xmlBufferCreate();
    if (xb == NULL || xmlNodeDump(xb, doc, root, 0, 1) < 0)
        goto nomem;
    rc = mark__buf_put(out, head, sizeof head - 1);
    if (rc == MARK_OK)
        rc = mark__buf_put(out, xmlBufferContent(xb),
                           (size_t)xmlBufferLength(xb));
    if (rc == MARK_OK)
        rc = mark__buf_put(out, "\n", 1);
    for (i = 0; i < pad && rc == MARK_OK; i += 100) {
        static const char spaces[100] =
            "                                                  "
            "                                                 \n";
        size_t n = pad - i < 100 ? pad - i : 100;

        rc = mark__buf_put(out, spaces + 100 - n, n);
    }
    if (rc == MARK_OK)
        rc = mark__buf_put(out, tail, sizeof tail - 1);
    goto done;
nomem:
    rc = mark__err(ctx, MARK_ENOMEM, "libxml2: out of memory");
done:
    if (xb != NULL)
        xmlBufferFree(xb);
    xmlFreeDoc(doc);
    return rc;
}
