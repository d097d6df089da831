/*
 * pdf.c - PDF: the metadata label in the document information
 * dictionary, read only.
 *
 * Carriers read:
 *   the trailer's /Info dictionary, key /AIGC       JSON, either form
 *   the catalog's /Metadata stream                   XMP, TC260:AIGC
 * The Info value is a text string: PDFDocEncoding, or UTF-16 with a byte
 * order mark, as literal (...) or hex <...>; UTF-8 with its mark (PDF
 * 2.0), and plain UTF-8 as careless writers put it, are taken as such.  A
 * value of another type (a name, a number) is recorded as found and
 * reported.
 *
 * qpdf does the reading: classic and stream cross-reference tables,
 * object streams, repair of damaged files (reported as a finding), and
 * files encrypted with an empty user password.  The Info in effect is
 * the newest revision's; each earlier revision (the file up to an
 * earlier %%EOF, incremental updates) is read too, and an AIGC value
 * there that a later update changed or removed is recorded as a label of
 * its own, so the file reports two (a label edited after the fact); the
 * same value carried along by an update is not counted twice.  Labels
 * are listed: the Info in effect, the XMP, then earlier revisions, oldest
 * first.
 *
 * qpdf prints nothing (its logger discards, errors are silenced, and
 * each is fetched before cleanup, which would print one left over): what
 * it says becomes the ctx message or a problem.  Writing is not
 * supported: the backend has no write, so the media layer refuses
 * marking.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qpdf/qpdf-c.h>

#include "internal.h"

#define CARRIER "pdf-info"
#define MAX_REVISIONS 16                 /* earlier revisions looked at */

/* A qpdf object reading data (kept alive by the caller) that prints
 * nothing.  recover: rebuild the cross-reference table of a damaged file
 * (the file itself), or fail (an earlier revision). */
static qpdf_data open_pdf(const unsigned char *data, size_t len, int recover,
                          QPDF_ERROR_CODE *status)
{
    qpdflogger_handle l;
    qpdf_data q = qpdf_init();

    if (q == NULL)
        return NULL;
    l = qpdflogger_create();
    if (l != NULL) {
        qpdflogger_set_info(l, qpdf_log_dest_discard, NULL, NULL);
        qpdflogger_set_warn(l, qpdf_log_dest_discard, NULL, NULL);
        qpdflogger_set_error(l, qpdf_log_dest_discard, NULL, NULL);
        qpdf_set_logger(q, l);
        qpdflogger_cleanup(&l);
    }
    qpdf_silence_errors(q);
    qpdf_set_suppress_warnings(q, QPDF_TRUE);
    qpdf_set_attempt_recovery(q, recover ? QPDF_TRUE : QPDF_FALSE);
    *status = qpdf_read_memory(q, "pdf", (const char *)data,
                               (unsigned long long)len, "");
    return q;
}

/* qpdf_cleanup prints an error never fetched: every one is fetched. */
static void close_pdf(qpdf_data *q)
{
    while (qpdf_has_error(*q))
        qpdf_get_error(*q);
    while (qpdf_more_warnings(*q))
        qpdf_next_warning(*q);
    qpdf_cleanup(q);
}

/* A problem for an error qpdf met after opening (a damaged object);
 * MARK_OK when there was none. */
static int object_error(mark_media *m, qpdf_data q, const char *what);

/* qpdf's message for its last error, or a fallback. */
static const char *error_text(qpdf_data q, int *code)
{
    qpdf_error e = qpdf_has_error(q) ? qpdf_get_error(q) : NULL;
    const char *s = e != NULL ? qpdf_get_error_message_detail(q, e) : NULL;

    *code = e != NULL ? (int)qpdf_get_error_code(q, e) : qpdf_e_internal;
    return s != NULL && s[0] != '\0' ? s : "unreadable PDF";
}

static int object_error(mark_media *m, qpdf_data q, const char *what)
{
    int code;

    if (!qpdf_has_error(q))
        return MARK_OK;
    return mark__problem_add(m->problems, MARK_SEV_WARNING, "pdf-damaged",
                             -1, "%s cannot be read: %s", what,
                             error_text(q, &code));
}

/* Is s well-formed UTF-8 (no overlong leads; enough to tell it from
 * PDFDocEncoding)? */
static int utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0, k, need;

    while (i < n) {
        unsigned char c = s[i];

        if (c < 0x80) {
            i++;
            continue;
        }
        need = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2
             : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
        if (need == 0 || need >= n - i)
            return 0;
        for (k = 1; k <= need; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
        i += need + 1;
    }
    return 1;
}

/* The text of the string object oh, as UTF-8, into out. */
static int string_text(qpdf_data q, qpdf_oh oh, mark__buf *out)
{
    size_t n = 0;
    const unsigned char *s =
        (const unsigned char *)qpdf_oh_get_binary_string_value(q, oh, &n);

    if (s == NULL)
        return MARK_OK;
    if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
        return mark__buf_put(out, s + 3, n - 3);
    if (!(n >= 2 && ((s[0] == 0xfe && s[1] == 0xff) ||
                     (s[0] == 0xff && s[1] == 0xfe))) &&
        utf8_valid(s, n))
        return mark__buf_put(out, s, n);
    /* UTF-16 or PDFDocEncoding: qpdf converts */
    s = (const unsigned char *)qpdf_oh_get_utf8_value(q, oh);
    n = qpdf_get_last_string_length(q);
    return s != NULL ? mark__buf_put(out, s, n) : MARK_OK;
}

/* The /AIGC value of the trailer's /Info in q: *type NULL when there is
 * none, "string" with its text in out, or the name of another type with
 * its PDF syntax in out. */
static int info_value(qpdf_data q, mark__buf *out, const char **type)
{
    qpdf_oh info, v;
    const char *s;

    *type = NULL;
    info = qpdf_oh_get_key(q, qpdf_get_trailer(q), "/Info");
    if (!qpdf_oh_is_dictionary(q, info))
        return MARK_OK;
    v = qpdf_oh_get_key(q, info, "/AIGC");
    if (qpdf_oh_is_null(q, v) || !qpdf_oh_is_initialized(q, v))
        return MARK_OK;
    if (qpdf_oh_is_string(q, v)) {
        *type = "string";
        return string_text(q, v, out);
    }
    /* qpdf's own strings last until its next call: ours are static */
    switch (qpdf_oh_get_type_code(q, v)) {
    case ot_boolean: *type = "boolean"; break;
    case ot_integer: case ot_real: *type = "number"; break;
    case ot_name: *type = "name"; break;
    case ot_array: *type = "array"; break;
    case ot_dictionary: *type = "dictionary"; break;
    case ot_stream: *type = "stream"; break;
    default: *type = "PDF object"; break;
    }
    s = qpdf_oh_unparse(q, v);
    if (s == NULL)
        return MARK_OK;
    return mark__buf_put(out, s, strnlen(s, 4096));
}

/* The catalog's XMP packet, inflated here (bounded by the metadata
 * limit) when it is Flate-compressed. */
static int scan_xmp(mark_media *m, qpdf_data q)
{
    static const char where[] = "PDF catalog /Metadata";
    qpdf_oh md = qpdf_oh_get_key(q, qpdf_get_root(q), "/Metadata");
    qpdf_oh dict, filter, parms;
    unsigned char *raw = NULL;
    size_t len = 0;
    mark__buf b;
    int rc, flate, plain;

    if (!qpdf_oh_is_stream(q, md))
        return MARK_OK;
    dict = qpdf_oh_get_dict(q, md);
    filter = qpdf_oh_get_key(q, dict, "/Filter");
    parms = qpdf_oh_get_key(q, dict, "/DecodeParms");
    if (qpdf_oh_is_array(q, filter) &&
        qpdf_oh_get_array_n_items(q, filter) == 1)
        filter = qpdf_oh_get_array_item(q, filter, 0);
    plain = qpdf_oh_is_null(q, filter) ||
            (qpdf_oh_is_array(q, filter) &&
             qpdf_oh_get_array_n_items(q, filter) == 0);
    flate = qpdf_oh_is_name_and_equals(q, filter, "/FlateDecode") &&
            qpdf_oh_is_null(q, parms);
    if (!plain && !flate)
        return mark__problem_add(m->problems, MARK_SEV_INFO, "pdf", -1,
                                 "%s: a filter not read here; its XMP was "
                                 "not looked at", where);
    if (qpdf_oh_get_stream_data(q, md, qpdf_dl_none, NULL, &raw, &len) &
        QPDF_ERRORS) {
        int code;

        free(raw);
        return mark__problem_add(m->problems, MARK_SEV_WARNING, "pdf", -1,
                                 "%s not read: %s", where,
                                 error_text(q, &code));
    }
    mark__buf_init(&b, m->ctx);
    rc = MARK_OK;
    if (flate)
        rc = mark__inflate(m->ctx, raw, len,
                           (size_t)m->ctx->limits[MARK_LIMIT_METADATA_BYTES],
                           &b);
    if (rc == MARK_EFORMAT || rc == MARK_ELIMIT)
        rc = mark__problem_add(m->problems, MARK_SEV_WARNING, "pdf", -1,
                               "%s not read: %s", where,
                               mark_ctx_errmsg(m->ctx));
    else if (rc == MARK_OK)
        rc = mark__xmp_scan(m, flate ? (const char *)b.data
                                     : (const char *)raw,
                            flate ? b.len : len, where, NULL);
    mark__buf_free(&b);
    free(raw);
    return rc;
}

/* Record a value of the Info's /AIGC. */
static int add_info(mark_media *m, const char *where, const mark__buf *v,
                    const char *type)
{
    int idx = mark__media_add_label(m, CARRIER, where,
                                    v->len ? (const char *)v->data : "",
                                    v->len);

    if (idx >= 0 && strcmp(type, "string") != 0)
        idx = mark__problem_add(m->problems, MARK_SEV_ERROR, "pdf-type",
                                idx, "%s is a %s, not a text string", where,
                                type);
    return idx < 0 ? idx : MARK_OK;
}

static int same(const mark__buf *a, const mark__buf *b)
{
    return a->len == b->len && (a->len == 0 ||
                                memcmp(a->data, b->data, a->len) == 0);
}

/* Earlier revisions: the file up to each earlier %%EOF (the last
 * MAX_REVISIONS of them), read without repair; one that does not parse
 * is not a revision (an "%%EOF" inside a stream) and is passed over. */
static int scan_revisions(mark_media *m, const mark__buf *current,
                          int have_current)
{
    size_t ends[MAX_REVISIONS + 1], n = 0, i, j, pos = 0;
    mark__buf seen[MAX_REVISIONS];
    size_t n_seen = 0;
    const unsigned char *p;
    int rc = MARK_OK;

    while (pos < m->len &&
           (p = memmem(m->data + pos, m->len - pos, "%%EOF", 5)) != NULL) {
        pos = (size_t)(p - m->data) + 5;
        if (n == MAX_REVISIONS + 1) {
            memmove(ends, ends + 1, MAX_REVISIONS * sizeof ends[0]);
            n--;
        }
        ends[n++] = pos;
    }
    /* the last one closes the revision in effect, read already */
    for (i = 0; i + 1 < n && rc == MARK_OK; i++) {
        QPDF_ERROR_CODE st;
        qpdf_data q = open_pdf(m->data, ends[i], 0, &st);
        const char *type = NULL;
        mark__buf v;
        char where[128];
        int dup = 0;

        if (q == NULL)
            return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
        mark__buf_init(&v, m->ctx);
        if (!(st & QPDF_ERRORS))
            rc = info_value(q, &v, &type);
        close_pdf(&q);
        if (rc == MARK_OK && type != NULL && strcmp(type, "string") == 0) {
            dup = have_current && same(&v, current);
            for (j = 0; j < n_seen && !dup; j++)
                dup = same(&v, &seen[j]);
        }
        if (rc < 0 || type == NULL || strcmp(type, "string") != 0 || dup) {
            mark__buf_free(&v);
            continue;
        }
        snprintf(where, sizeof where, "PDF Info /AIGC of the revision "
                 "ending at byte %zu, %s by a later update", ends[i],
                 have_current ? "changed" : "removed");
        rc = add_info(m, where, &v, type);
        seen[n_seen++] = v;
    }
    for (j = 0; j < n_seen; j++)
        mark__buf_free(&seen[j]);
    return rc;
}

static int pdf_scan(mark_media *m, qpdf_data q)
{
    const char *type = NULL;
    mark__buf cur;
    int pages, rc, code, warnings = 0;
    char first[200];

    pages = qpdf_get_num_pages(q);
    if (pages < 0) {
        rc = mark__problem_add(m->problems, MARK_SEV_WARNING, "pdf", -1,
                               "the page tree cannot be read: %s",
                               error_text(q, &code));
        if (rc < 0)
            return rc;
        pages = 0;
    }
    m->info.frames = pages;
    mark__buf_init(&cur, m->ctx);
    rc = info_value(q, &cur, &type);
    if (rc == MARK_OK)
        rc = object_error(m, q, "the Info dictionary");
    if (rc == MARK_OK && type != NULL)
        rc = add_info(m, "PDF Info /AIGC", &cur, type);
    if (rc == MARK_OK)
        rc = scan_xmp(m, q);
    if (rc == MARK_OK)
        rc = object_error(m, q, "the catalog's /Metadata");
    /* what qpdf repaired while reading */
    first[0] = '\0';
    while (qpdf_more_warnings(q)) {
        qpdf_error w = qpdf_next_warning(q);
        const char *d = w != NULL ? qpdf_get_error_message_detail(q, w)
                                  : NULL;

        if (warnings++ == 0 && d != NULL)
            snprintf(first, sizeof first, "%s", d);
    }
    if (rc == MARK_OK)
        rc = scan_revisions(m, &cur, type != NULL);
    mark__buf_free(&cur);
    if (rc == MARK_OK && warnings > 0)
        rc = mark__problem_add(m->problems, MARK_SEV_WARNING, "pdf-damaged",
                               -1, "the PDF is damaged and was read as "
                               "repaired (%d warning%s; first: %s)",
                               warnings, warnings == 1 ? "" : "s", first);
    return rc;
}

static int pdf_parse(mark_media *m)
{
    QPDF_ERROR_CODE st;
    qpdf_data q = open_pdf(m->data, m->len, 1, &st);
    int rc, code;

    if (q == NULL)
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    if (st & QPDF_ERRORS) {
        const char *why = error_text(q, &code);

        if (code == qpdf_e_password)
            rc = mark__err(m->ctx, MARK_EUNSUPPORTED, "pdf: encrypted with "
                           "a password: its metadata cannot be read");
        else if (code == qpdf_e_system)
            rc = mark__err(m->ctx, MARK_ENOMEM, "pdf: %s", why);
        else
            rc = mark__err(m->ctx, MARK_EFORMAT, "pdf: %s", why);
        close_pdf(&q);
        return rc;
    }
    rc = pdf_scan(m, q);
    close_pdf(&q);
    return rc;
}

const mark__container mark__container_pdf = {
    .name = "pdf",
    .format = MARK_FORMAT_PDF,
    .type = MARK_MEDIA_TEXT,
    .parse = pdf_parse,
};
