/*
 * label_image.c - list the AIGC labels an image carries, then save a copy
 * that carries a fresh one.  The example program of libmark(3).
 *
 *   cc -std=c11 label_image.c $(pkg-config --cflags --libs libmark) \
 *       -o label_image
 *   ./label_image IN OUT
 */
#include <stdio.h>

#include <mark.h>

/* The generating provider's code (GB 45438 Annex E ContentProducer). */
#define PRODUCER "001191110102MAD55U9H0F10002"

static const char *severity(int s)
{
    return s == MARK_SEV_ERROR ? "error"
         : s == MARK_SEV_WARNING ? "warning" : "info";
}

/* Print what the reader found: each label with its fields, then the
 * findings about them. */
static void show(const char *name, const mark_media *m)
{
    const mark_problems *probs = mark_media_problems(m);
    mark_media_info info;
    size_t i;
    int f;

    mark_media_get_info(m, &info);
    printf("%s: %s %s, %ux%u, verdict %s\n", name,
           mark_format_name(info.format), mark_media_type_name(info.type),
           info.width, info.height, mark_verdict_name(mark_media_verdict(m)));
    for (i = 0; i < mark_media_label_count(m); i++) {
        mark_found_label fl;

        if (mark_media_label_get(m, i, &fl) != MARK_OK)
            continue;
        printf("  label %zu: %s\n", i + 1, fl.location);
        if (fl.label == NULL) {
            printf("    (not a label object) %s\n", fl.raw);
            continue;
        }
        for (f = 0; f < MARK_FIELD_COUNT_; f++) {
            const char *v = mark_label_get(fl.label, f);

            printf("    %-18s %s\n", mark_field_name(f),
                   v != NULL ? v : "(absent)");
        }
    }
    for (i = 0; i < mark_problems_count(probs); i++) {
        mark_problem p;

        if (mark_problems_get(probs, i, &p) == MARK_OK)
            printf("  %s %s: %s\n", severity(p.severity), p.code,
                   p.message);
    }
}

/* The ctx message says exactly what went wrong; a call that failed on a
 * bad argument may leave it empty, and then the status code's generic
 * text has to do. */
static void fail(mark_ctx *ctx, const char *what, int rc)
{
    const char *detail = mark_ctx_errmsg(ctx);

    fprintf(stderr, "label_image: %s: %s\n", what,
            detail[0] != '\0' ? detail : mark_strerror(rc));
}

int main(int argc, char **argv)
{
    mark_ctx *ctx = NULL;
    mark_media *m = NULL;
    mark_label *l = NULL;
    char id[37];
    int rc, status = 1;

    if (argc != 3) {
        fprintf(stderr, "usage: label_image IN OUT\n");
        return 2;
    }
    if (mark_ctx_new(&ctx, NULL) != MARK_OK) {
        fprintf(stderr, "label_image: out of memory\n");
        return 1;
    }

    rc = mark_media_open_file(ctx, &m, argv[1]);
    if (rc != MARK_OK) {
        fail(ctx, argv[1], rc);
        goto out;
    }
    show(argv[1], m);

    /* A new record as the generating provider writes it: Label "1", our
     * code, a fresh ID for this content, and the first-write rule
     * (propagation fields = production fields, reserved fields ""). */
    rc = mark_label_new(ctx, &l);
    if (rc == MARK_OK)
        rc = mark_uuid_v4(id);
    if (rc == MARK_OK)
        rc = mark_label_set(l, MARK_FIELD_LABEL, "1");
    if (rc == MARK_OK)
        rc = mark_label_set(l, MARK_FIELD_CONTENT_PRODUCER, PRODUCER);
    if (rc == MARK_OK)
        rc = mark_label_set(l, MARK_FIELD_PRODUCE_ID, id);
    if (rc == MARK_OK)
        rc = mark_label_first_write(l);
    /* checked and copied; any label already in the file is replaced */
    if (rc == MARK_OK)
        rc = mark_media_set_label(m, l);
    if (rc != MARK_OK) {
        fail(ctx, "cannot build the label", rc);
        goto out;
    }

    /* written to a temporary file beside OUT, then renamed; an existing
     * OUT is kept (pass MARK_SAVE_OVERWRITE to replace it) */
    rc = mark_media_save_file(m, argv[2], 0);
    if (rc != MARK_OK) {
        fail(ctx, argv[2], rc);
        goto out;
    }
    printf("wrote %s with ProduceID %s\n", argv[2], id);
    status = 0;
out:
    mark_label_free(l);
    mark_media_free(m);
    mark_ctx_free(ctx);
    return status;
}
