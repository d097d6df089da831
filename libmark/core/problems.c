/*
 * problems.c - lists of findings (duplicates, schema problems, ...), each
 * with a severity, a stable code for machines and a message for people.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

typedef struct item {
    int severity;
    char *code;
    char *message;
    int label_index;
} item;

struct mark_problems {
    mark_ctx *ctx;
    item *items;
    size_t n;
    size_t cap;
};

mark_problems *mark__problems_new(mark_ctx *ctx)
{
    mark_problems *p = mark__calloc(ctx, 1, sizeof *p);

    if (p != NULL)
        p->ctx = ctx;
    return p;
}

static int push(mark_problems *p, int severity, const char *code,
                int label_index, const char *message)
{
    item *it;

    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        item *ni = mark__realloc(p->ctx, p->items, cap * sizeof *ni);

        if (ni == NULL)
            return MARK_ENOMEM;
        p->items = ni;
        p->cap = cap;
    }
    it = &p->items[p->n];
    it->code = mark__strdup(p->ctx, code);
    it->message = mark__strdup(p->ctx, message);
    if (it->code == NULL || it->message == NULL) {
        mark__free(p->ctx, it->code);
        mark__free(p->ctx, it->message);
        return MARK_ENOMEM;
    }
    it->severity = severity;
    it->label_index = label_index;
    p->n++;
    return MARK_OK;
}

int mark__problem_add(mark_problems *p, int severity, const char *code,
                      int label_index, const char *fmt, ...)
{
    char msg[MARK__ERRMSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return push(p, severity, code, label_index, msg);
}

int mark__problems_append(mark_problems *dst, const mark_problems *src,
                          int label_index)
{
    size_t i;
    int rc;

    for (i = 0; src != NULL && i < src->n; i++) {
        rc = push(dst, src->items[i].severity, src->items[i].code,
                  label_index, src->items[i].message);
        if (rc < 0)
            return rc;
    }
    return MARK_OK;
}

size_t mark_problems_count(const mark_problems *p)
{
    return p != NULL ? p->n : 0;
}

int mark_problems_get(const mark_problems *p, size_t i, mark_problem *out)
{
    if (p == NULL || out == NULL || i >= p->n)
        return MARK_EINVAL;
    out->severity = p->items[i].severity;
    out->code = p->items[i].code;
    out->message = p->items[i].message;
    out->label_index = p->items[i].label_index;
    return MARK_OK;
}

int mark_problems_max_severity(const mark_problems *p)
{
    int max = -1;
    size_t i;

    for (i = 0; p != NULL && i < p->n; i++)
        if (p->items[i].severity > max)
            max = p->items[i].severity;
    return max;
}

void mark_problems_free(mark_problems *p)
{
    size_t i;

    if (p == NULL)
        return;
    for (i = 0; i < p->n; i++) {
        mark__free(p->ctx, p->items[i].code);
        mark__free(p->ctx, p->items[i].message);
    }
    mark__free(p->ctx, p->items);
    mark__free(p->ctx, p);
}
