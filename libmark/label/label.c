/*
 * label.c - the GB 45438 Annex E label record and its two JSON forms.
 *
 * JSON goes through jansson, so escaping, Unicode and number syntax are a
 * well-tested library's business.  Values that are not strings are kept
 * as their JSON text and flagged, so the checker can report them instead
 * of the parser rejecting a whole label.
 */
#include <string.h>

#include <jansson.h>

#include "internal.h"

static const char *const field_names[MARK_FIELD_COUNT_] = {
    "Label", "ContentProducer", "ProduceID", "ReservedCode1",
    "ContentPropagator", "PropagateID", "ReservedCode2",
};

const char *mark_field_name(int field)
{
    if (field < 0 || field >= MARK_FIELD_COUNT_)
        return NULL;
    return field_names[field];
}

static int field_index(const char *key)
{
    int i;

    for (i = 0; i < MARK_FIELD_COUNT_; i++)
        if (strcmp(key, field_names[i]) == 0)
            return i;
    return -1;
}

int mark__label_char_ok(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e && c != '"' && c != '\\';
}

int mark_label_new(mark_ctx *ctx, mark_label **out)
{
    mark_label *l;

    if (out == NULL)
        return MARK_EINVAL;
    *out = NULL;
    if (ctx == NULL)
        return MARK_EINVAL;
    l = mark__calloc(ctx, 1, sizeof *l);
    if (l == NULL)
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    l->ctx = ctx;
    *out = l;
    return MARK_OK;
}

void mark_label_free(mark_label *l)
{
    size_t i;

    if (l == NULL)
        return;
    for (i = 0; i < MARK_FIELD_COUNT_; i++)
        mark__free(l->ctx, l->field[i]);
    for (i = 0; i < l->n_extra; i++) {
        mark__free(l->ctx, l->extra_key[i]);
        mark__free(l->ctx, l->extra_val[i]);
    }
    mark__free(l->ctx, l->extra_key);
    mark__free(l->ctx, l->extra_val);
    mark__free(l->ctx, l);
}

int mark_label_set(mark_label *l, int field, const char *value)
{
    char *v = NULL;

    if (l == NULL || field < 0 || field >= MARK_FIELD_COUNT_)
        return MARK_EINVAL;
    if (value != NULL) {
        v = mark__strdup(l->ctx, value);
        if (v == NULL)
            return mark__err(l->ctx, MARK_ENOMEM, "out of memory");
    }
    mark__free(l->ctx, l->field[field]);
    l->field[field] = v;
    l->nonstring &= ~(1u << field);
    return MARK_OK;
}

const char *mark_label_get(const mark_label *l, int field)
{
    if (l == NULL || field < 0 || field >= MARK_FIELD_COUNT_)
        return NULL;
    return l->field[field];
}

static int add_extra(mark_label *l, const char *key, const char *val)
{
    size_t n = l->n_extra + 1;
    char **k = mark__realloc(l->ctx, l->extra_key, n * sizeof *k);

    if (k == NULL)
        return MARK_ENOMEM;
    l->extra_key = k;
    k = mark__realloc(l->ctx, l->extra_val, n * sizeof *k);
    if (k == NULL)
        return MARK_ENOMEM;
    l->extra_val = k;
    l->extra_key[l->n_extra] = mark__strdup(l->ctx, key);
    l->extra_val[l->n_extra] = mark__strdup(l->ctx, val);
    if (!l->extra_key[l->n_extra] || !l->extra_val[l->n_extra]) {
        mark__free(l->ctx, l->extra_key[l->n_extra]);
        mark__free(l->ctx, l->extra_val[l->n_extra]);
        return MARK_ENOMEM;
    }
    l->n_extra = n;
    return MARK_OK;
}

int mark_label_copy(const mark_label *src, mark_label **out)
{
    mark_label *l;
    size_t i;
    int rc;

    if (out == NULL)
        return MARK_EINVAL;
    *out = NULL;
    if (src == NULL)
        return MARK_EINVAL;
    rc = mark_label_new(src->ctx, &l);
    if (rc < 0)
        return rc;
    for (i = 0; i < MARK_FIELD_COUNT_ && rc == MARK_OK; i++)
        rc = mark_label_set(l, (int)i, src->field[i]);
    for (i = 0; i < src->n_extra && rc == MARK_OK; i++)
        rc = add_extra(l, src->extra_key[i], src->extra_val[i]);
    if (rc < 0) {
        mark_label_free(l);
        return mark__err(src->ctx, MARK_ENOMEM, "out of memory");
    }
    l->nonstring = src->nonstring;
    l->n_dup = src->n_dup;
    *out = l;
    return MARK_OK;
}

int mark_label_first_write(mark_label *l)
{
    static const int opt[] = { MARK_FIELD_RESERVED_CODE1,
                               MARK_FIELD_RESERVED_CODE2 };
    int rc;
    size_t i;

    if (l == NULL)
        return MARK_EINVAL;
    rc = mark_label_set(l, MARK_FIELD_CONTENT_PROPAGATOR,
                        l->field[MARK_FIELD_CONTENT_PRODUCER]);
    if (rc == MARK_OK)
        rc = mark_label_set(l, MARK_FIELD_PROPAGATE_ID,
                            l->field[MARK_FIELD_PRODUCE_ID]);
    for (i = 0; i < 2 && rc == MARK_OK; i++)
        if (l->field[opt[i]] == NULL)
            rc = mark_label_set(l, opt[i], "");
    return rc;
}

size_t mark_label_extra_count(const mark_label *l)
{
    return l != NULL ? l->n_extra : 0;
}

int mark_label_extra_get(const mark_label *l, size_t i, const char **key,
                         const char **json_value)
{
    if (l == NULL || i >= l->n_extra)
        return MARK_EINVAL;
    if (key != NULL)
        *key = l->extra_key[i];
    if (json_value != NULL)
        *json_value = l->extra_val[i];
    return MARK_OK;
}

size_t mark_label_duplicate_keys(const mark_label *l)
{
    return l != NULL ? l->n_dup : 0;
}

/* Fill l from a JSON object holding the Annex E keys. */
static int fill_from_object(mark_label *l, json_t *obj)
{
    const char *key;
    json_t *val;
    int rc = MARK_OK;

    json_object_foreach(obj, key, val) {
        int f = field_index(key);
        char *text = NULL;
        const char *s;

        if (json_is_string(val)) {
            s = json_string_value(val);
        } else {
            text = json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY);
            if (text == NULL)
                return MARK_ENOMEM;
            s = text;
        }
        if (f >= 0) {
            rc = mark_label_set(l, f, s);
            if (!json_is_string(val))
                l->nonstring |= 1u << f;
        } else if (json_is_string(val)) {
            /* keep extras as JSON text so they round-trip exactly */
            char *q = json_dumps(val, JSON_ENCODE_ANY);

            rc = q != NULL ? add_extra(l, key, q) : MARK_ENOMEM;
            free(q);
        } else {
            rc = add_extra(l, key, s);
        }
        free(text);
        if (rc < 0)
            return rc;
    }
    return MARK_OK;
}

int mark_label_parse(mark_ctx *ctx, const char *json, size_t len,
                     mark_label **out, int *form)
{
    json_error_t jerr;
    json_t *root, *inner, *obj;
    mark_label *l = NULL;
    int rc, f = MARK_FORM_BARE, dup = 0, known = 0;
    const char *key;
    json_t *val;

    if (out == NULL || ctx == NULL || (json == NULL && len))
        return MARK_EINVAL;
    *out = NULL;
    if (form != NULL)
        *form = MARK_FORM_INVALID;
    if ((int64_t)len > ctx->limits[MARK_LIMIT_LABEL_BYTES])
        return mark__err(ctx, MARK_ELIMIT,
                         "label JSON of %zu bytes exceeds the limit of %lld",
                         len, (long long)ctx->limits[MARK_LIMIT_LABEL_BYTES]);
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL && json_error_code(&jerr) == json_error_duplicate_key) {
        dup = 1;
        root = json_loadb(json, len, 0, &jerr);
    }
    if (root == NULL)
        return mark__err(ctx, MARK_ELABEL, "not valid JSON: %s (at %d)",
                         jerr.text, jerr.position);
    if (!json_is_object(root)) {
        json_decref(root);
        return mark__err(ctx, MARK_ELABEL, "JSON is not an object");
    }
    obj = root;
    inner = json_object_get(root, "AIGC");
    if (inner != NULL) {
        if (!json_is_object(inner)) {
            json_decref(root);
            return mark__err(ctx, MARK_ELABEL,
                             "the \"AIGC\" member is not an object");
        }
        obj = inner;
        f = MARK_FORM_WRAPPED;
    }
    json_object_foreach(obj, key, val)
        if (field_index(key) >= 0)
            known++;
    if (known == 0) {
        json_decref(root);
        return mark__err(ctx, MARK_ELABEL,
                         "JSON object holds none of the Annex E keys");
    }
    rc = mark_label_new(ctx, &l);
    if (rc == MARK_OK)
        rc = fill_from_object(l, obj);
    if (rc == MARK_OK && f == MARK_FORM_WRAPPED) {
        /* members beside "AIGC" in the wrapper are kept as extras too */
        json_object_foreach(root, key, val) {
            char *q;

            if (strcmp(key, "AIGC") == 0)
                continue;
            q = json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY);
            rc = q != NULL ? add_extra(l, key, q) : MARK_ENOMEM;
            free(q);
            if (rc < 0)
                break;
        }
    }
    json_decref(root);
    if (rc < 0) {
        mark_label_free(l);
        return mark__err(ctx, rc, "out of memory");
    }
    l->n_dup = (size_t)dup;
    if (form != NULL)
        *form = f;
    *out = l;
    return MARK_OK;
}

int mark_label_to_json(const mark_label *l, int form, char **out,
                       size_t *len)
{
    json_t *obj, *root;
    char *s;
    size_t i, n;
    int rc = 0;

    if (l == NULL || out == NULL ||
        (form != MARK_FORM_BARE && form != MARK_FORM_WRAPPED))
        return MARK_EINVAL;
    *out = NULL;
    obj = json_object();
    if (obj == NULL)
        return mark__err(l->ctx, MARK_ENOMEM, "out of memory");
    for (i = 0; i < MARK_FIELD_COUNT_ && rc == 0; i++)
        if (l->field[i] != NULL)
            rc = json_object_set_new(obj, field_names[i],
                                     json_string(l->field[i]));
    for (i = 0; i < l->n_extra && rc == 0; i++) {
        json_t *v = json_loads(l->extra_val[i], JSON_DECODE_ANY, NULL);

        rc = v != NULL ? json_object_set_new(obj, l->extra_key[i], v) : -1;
    }
    if (rc != 0) {
        json_decref(obj);
        return mark__err(l->ctx, MARK_ELABEL,
                         "label field is not valid UTF-8");
    }
    root = obj;
    if (form == MARK_FORM_WRAPPED) {
        root = json_object();
        if (root == NULL || json_object_set_new(root, "AIGC", obj) != 0) {
            json_decref(root);
            return mark__err(l->ctx, MARK_ENOMEM, "out of memory");
        }
    }
    s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (s == NULL)
        return mark__err(l->ctx, MARK_ENOMEM, "out of memory");
    n = strlen(s);
    *out = mark__strndup(l->ctx, s, n);
    free(s);
    if (*out == NULL)
        return mark__err(l->ctx, MARK_ENOMEM, "out of memory");
    if (len != NULL)
        *len = n;
    return MARK_OK;
}
