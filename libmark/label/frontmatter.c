/*
 * frontmatter.c - the metadata label in Markdown's YAML front matter: a
 * "---" line at the very start (after a BOM), closed by a "---" or "..."
 * line.  An "AIGC:" key at its top level is the label, as a block
 * mapping of the seven keys (plain, single- or double-quoted scalars), a
 * flow mapping {Label: "1", ...} (which JSON also is), or a quoted scalar
 * holding the label's JSON; each AIGC key found is a label (several are
 * reported as duplicates by the media object).  Writing replaces the
 * first AIGC entry in place with a block mapping of double-quoted values,
 * drops the others and keeps every other line byte for byte; front matter
 * without one gets it before its closing line.  Its line ends follow the
 * opening line's.
 *
 * Hostile input: the text is scanned line by line within the front
 * matter's bounds, without recursion (a nested flow collection is
 * refused, not followed); YAML beyond these forms (anchors, tags, block
 * scalars) is not interpreted, and an AIGC value it cannot read is
 * recorded as found, as an invalid label, so the verifier reports it.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define CARRIER "front-matter"

/* The end of the line at i (past its '\n'), or n when it has none. */
static size_t line_end(const unsigned char *s, size_t i, size_t n)
{
    const unsigned char *e = memchr(s + i, '\n', n - i);

    return e != NULL ? (size_t)(e - s) + 1 : n;
}

/* Is s[i, e) (a line with its end) exactly mark, spaces after it allowed? */
static int line_is(const unsigned char *s, size_t i, size_t e,
                   const char *mark)
{
    size_t k = strlen(mark);

    if (e - i < k || memcmp(s + i, mark, k) != 0)
        return 0;
    for (i += k; i < e; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

int mark__fm_find(const unsigned char *s, size_t from, size_t n, int eof,
                  mark__fm *fm)
{
    static const char open[] = "---\r\n";
    size_t avail = n - from, i, e, k;

    if (avail >= 4 && memcmp(s + from, "---\n", 4) == 0) {
        i = from + 4;
    } else if (avail >= 5 && memcmp(s + from, open, 5) == 0) {
        i = from + 5;
    } else {
        /* a prefix of "---\r\n" may still become the opening line */
        if (eof)
            return 0;
        for (k = 0; k < avail; k++)
            if (s[from + k] != (unsigned char)open[k])
                return 0;
        return -1;
    }
    while (i < n) {
        e = line_end(s, i, n);
        if (s[e - 1] != '\n' && !eof)
            return -1;                  /* the line may go on */
        if (line_is(s, i, e, "---") || line_is(s, i, e, "...")) {
            fm->open = from;
            fm->close = i;
            fm->body = e;
            fm->crlf = s[from + 3] == '\r';
            return 1;
        }
        i = e;
    }
    return eof ? 0 : -1;
}

/* JSON string text of s[0, n) appended to b. */
static int put_json_str(mark__buf *b, const char *s, size_t n)
{
    size_t i;
    int rc = mark__buf_put(b, "\"", 1);

    for (i = 0; i < n && rc == MARK_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];

        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            rc = mark__buf_put(b, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            rc = mark__buf_put(b, esc, 6);
        } else {
            rc = mark__buf_put(b, &s[i], 1);
        }
    }
    if (rc == MARK_OK)
        rc = mark__buf_put(b, "\"", 1);
    return rc;
}

/* A YAML scalar at s[*i, n) ending before any of stops (plain) or at its
 * closing quote, unquoted into b (NUL-terminated); *i moves past it.
 * Returns 0, or -1 for an unclosed quote. */
static int scalar(const char *s, size_t *i, size_t n, const char *stops,
                  mark__buf *b)
{
    size_t k = *i;

    b->len = 0;
    if (k < n && (s[k] == '"' || s[k] == '\'')) {
        char q = s[k++];

        for (; k < n; k++) {
            if (q == '\'' && s[k] == '\'' && k + 1 < n && s[k + 1] == '\'') {
                k++;
            } else if (q == '"' && s[k] == '\\' && k + 1 < n) {
                k++;
            } else if (s[k] == q) {
                break;
            }
            if (mark__buf_put(b, &s[k], 1) < 0)
                return -1;
        }
        if (k >= n)
            return -1;
        *i = k + 1;
    } else {
        size_t st = k, e;

        while (k < n && strchr(stops, s[k]) == NULL &&
               !(s[k] == '#' && k > st && (s[k - 1] == ' ' ||
                                           s[k - 1] == '\t')))
            k++;
        e = k;
        while (e > st && (s[e - 1] == ' ' || s[e - 1] == '\t' ||
                          s[e - 1] == '\r'))
            e--;
        if (mark__buf_put(b, s + st, e - st) < 0)
            return -1;
        if (k < n && s[k] == '#')       /* a comment runs to the line end */
            while (k < n && s[k] != '\n')
                k++;
        *i = k;
    }
    return mark__buf_put(b, "", 1) < 0 ? -1 : (b->len--, 0);
}

static void skip_ws(const char *s, size_t *i, size_t n)
{
    while (*i < n && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\r' ||
                      s[*i] == '\n'))
        (*i)++;
}

/* A flow mapping {k: v, ...} at s[0, n) as a JSON object in json.
 * Returns 0, or -1 when it is not one. */
static int flow_to_json(const char *s, size_t n, mark__buf *json,
                        mark__buf *tmp)
{
    size_t i = 1;
    int first = 1;

    if (mark__buf_put(json, "{", 1) < 0)
        return -1;
    for (;;) {
        skip_ws(s, &i, n);
        if (i < n && s[i] == '}')
            break;
        if (!first) {
            if (i >= n || s[i] != ',')
                return -1;
            i++;
            skip_ws(s, &i, n);
        }
        if (scalar(s, &i, n, ":,}\n", tmp) < 0 || tmp->len == 0)
            return -1;
        if ((!first && mark__buf_put(json, ",", 1) < 0) ||
            put_json_str(json, (char *)tmp->data, tmp->len) < 0 ||
            mark__buf_put(json, ":", 1) < 0)
            return -1;
        skip_ws(s, &i, n);
        if (i >= n || s[i] != ':')
            return -1;
        i++;
        skip_ws(s, &i, n);
        if (i < n && (s[i] == '{' || s[i] == '['))
            return -1;                  /* nested: not a label */
        if (scalar(s, &i, n, ",}\n", tmp) < 0 ||
            put_json_str(json, (char *)tmp->data, tmp->len) < 0)
            return -1;
        first = 0;
    }
    return mark__buf_put(json, "}", 1);
}

/* Record the AIGC entry whose key line starts at s[i] (the value begins
 * at v); *end receives the end of the entry. */
static int read_entry(mark_media *m, const unsigned char *s, size_t i,
                      size_t v, size_t close, size_t *end)
{
    const char *c = (const char *)s;
    mark__buf json, tmp;
    size_t e = line_end(s, i, close), k;
    int rc = MARK_OK, depth = 0;

    mark__buf_init(&json, m->ctx);
    mark__buf_init(&tmp, m->ctx);
    while (v < e && (s[v] == ' ' || s[v] == '\t'))
        v++;
    if (v < e && s[v] == '{') {
        /* a flow mapping, which may run over lines until it closes */
        for (k = v; k < close; k++) {
            if (s[k] == '{')
                depth++;
            else if (s[k] == '}' && --depth == 0)
                break;
        }
        e = line_end(s, k < close ? k : close - 1, close);
        if (flow_to_json(c + v, (k < close ? k + 1 : close) - v, &json,
                         &tmp) < 0) {
            json.len = 0;               /* as found, reported as bad */
            rc = mark__buf_put(&json, s + v, (k < close ? k + 1 : close) -
                               v);
        }
    } else if (v < e && (s[v] == '"' || s[v] == '\'')) {
        /* a quoted scalar holding the JSON */
        k = v;
        if (scalar(c, &k, e, "\n", &tmp) < 0)
            rc = mark__buf_put(&json, s + v, e - v);
        else
            rc = mark__buf_put(&json, tmp.data, tmp.len);
    } else if (v < e && s[v] != '\r' && s[v] != '\n' && s[v] != '#') {
        k = v;                          /* a plain scalar: as found */
        if (scalar(c, &k, e, "\n", &tmp) == 0)
            rc = mark__buf_put(&json, tmp.data, tmp.len);
    } else {
        /* a block mapping: the indented lines that follow */
        int first = 1;

        rc = mark__buf_put(&json, "{", 1);
        for (k = e; k < close && rc == MARK_OK; k = e) {
            size_t p = k;

            e = line_end(s, k, close);
            if (s[k] != ' ' && s[k] != '\t' && s[k] != '\r' &&
                s[k] != '\n') {
                e = k;                  /* the next top-level line */
                break;
            }
            while (p < e && (s[p] == ' ' || s[p] == '\t'))
                p++;
            if (p == e || s[p] == '\r' || s[p] == '\n' || s[p] == '#')
                continue;               /* blank or comment line */
            if (scalar(c, &p, e, ":\n", &tmp) < 0 || p >= e || s[p] != ':')
                continue;               /* not "key: value": skipped */
            if (!first)
                rc = mark__buf_put(&json, ",", 1);
            if (rc == MARK_OK)
                rc = put_json_str(&json, (char *)tmp.data, tmp.len);
            if (rc == MARK_OK)
                rc = mark__buf_put(&json, ":", 1);
            p++;
            while (p < e && (s[p] == ' ' || s[p] == '\t'))
                p++;
            if (rc == MARK_OK && scalar(c, &p, e, "\n", &tmp) < 0)
                tmp.len = 0;
            if (rc == MARK_OK)
                rc = put_json_str(&json, (char *)tmp.data, tmp.len);
            first = 0;
        }
        /* trailing blank lines belong to what follows */
        if (rc == MARK_OK)
            rc = mark__buf_put(&json, "}", 1);
    }
    if (rc == MARK_OK)
        rc = mark__media_add_label(m, CARRIER, "YAML front matter 'AIGC'",
                                   json.len ? (char *)json.data : "",
                                   json.len);
    mark__buf_free(&json);
    mark__buf_free(&tmp);
    *end = e;
    return rc < 0 ? rc : MARK_OK;
}

/* Block-mapping entries end at their last non-blank line. */
static size_t trim_entry(const unsigned char *s, size_t start, size_t end)
{
    size_t last = start, i = start, e;

    while (i < end) {
        size_t p = i;

        e = line_end(s, i, end);
        while (p < e && (s[p] == ' ' || s[p] == '\t' || s[p] == '\r' ||
                         s[p] == '\n'))
            p++;
        if (p < e)
            last = e;
        i = e;
    }
    return last > start ? last : end;
}

int mark__fm_scan(mark_media *m, const unsigned char *s, mark__fm *fm)
{
    size_t i = line_end(s, fm->open, fm->close), e, v;
    int rc;

    while (i < fm->close) {
        e = line_end(s, i, fm->close);
        v = 0;
        if (e - i >= 5 && memcmp(s + i, "AIGC:", 5) == 0)
            v = i + 5;
        else if (e - i >= 7 && (memcmp(s + i, "\"AIGC\":", 7) == 0 ||
                                memcmp(s + i, "'AIGC':", 7) == 0))
            v = i + 7;
        if (v == 0) {
            i = e;
            continue;
        }
        rc = read_entry(m, s, i, v, fm->close, &e);
        if (rc < 0)
            return rc;
        {
            size_t *ns = mark__realloc(m->ctx, fm->entry,
                                       (fm->n_entry + 1) * 2 * sizeof *ns);

            if (ns == NULL)
                return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
            fm->entry = ns;
            e = trim_entry(s, i, e);
            ns[2 * fm->n_entry] = i;
            ns[2 * fm->n_entry + 1] = e;
            fm->n_entry++;
        }
        i = e;
    }
    return MARK_OK;
}

void mark__fm_free(mark_ctx *ctx, mark__fm *fm)
{
    mark__free(ctx, fm->entry);
    memset(fm, 0, sizeof *fm);
}

/* Our AIGC block: the staged label's fields as double-quoted scalars. */
static int put_block(mark__buf *b, const mark_label *l, const char *eol)
{
    int f, rc = mark__buf_put(b, "AIGC:", 5);

    if (rc == MARK_OK)
        rc = mark__buf_put(b, eol, strlen(eol));
    for (f = 0; f < MARK_FIELD_COUNT_ && rc == MARK_OK; f++) {
        const char *v = mark_label_get(l, f);

        if (v == NULL)
            continue;
        rc = mark__buf_put(b, "  ", 2);
        if (rc == MARK_OK)
            rc = mark__buf_put(b, mark_field_name(f),
                               strlen(mark_field_name(f)));
        if (rc == MARK_OK)
            rc = mark__buf_put(b, ": ", 2);
        if (rc == MARK_OK)
            rc = put_json_str(b, v, strlen(v));
        if (rc == MARK_OK)
            rc = mark__buf_put(b, eol, strlen(eol));
    }
    return rc;
}

int mark__fm_write(const unsigned char *s, const mark__fm *fm,
                   const mark_label *label, const char *eol, mark__buf *out)
{
    size_t i, at;
    int rc = MARK_OK;

    if (fm == NULL) {
        if (label == NULL)
            return MARK_OK;
        rc = mark__buf_put(out, "---", 3);
        if (rc == MARK_OK)
            rc = mark__buf_put(out, eol, strlen(eol));
        if (rc == MARK_OK)
            rc = put_block(out, label, eol);
        if (rc == MARK_OK)
            rc = mark__buf_put(out, "---", 3);
        if (rc == MARK_OK)
            rc = mark__buf_put(out, eol, strlen(eol));
        return rc;
    }
    if (label == NULL)
        return mark__buf_put(out, s + fm->open, fm->body - fm->open);
    eol = fm->crlf ? "\r\n" : "\n";
    at = fm->open;
    for (i = 0; i < fm->n_entry && rc == MARK_OK; i++) {
        rc = mark__buf_put(out, s + at, fm->entry[2 * i] - at);
        if (rc == MARK_OK && i == 0)
            rc = put_block(out, label, eol);
        at = fm->entry[2 * i + 1];
    }
    if (rc == MARK_OK)
        rc = mark__buf_put(out, s + at, fm->close - at);
    if (rc == MARK_OK && fm->n_entry == 0)
        rc = put_block(out, label, eol);
    if (rc == MARK_OK)
        rc = mark__buf_put(out, s + fm->close, fm->body - fm->close);
    return rc;
}
