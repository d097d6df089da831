/*
 * harness.h - the few macros the C tests need.  A failed CHECK prints
 * where and goes on, so one run shows every failure; the test's exit
 * status is 0 when all passed, 1 otherwise (77 = skipped, 99 = the test
 * itself could not run).
 */
#ifndef AIMARK_HARNESS_H
#define AIMARK_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int h_checks, h_failed;

#define CHECK(cond)                                                        \
    do {                                                                   \
        h_checks++;                                                        \
        if (!(cond)) {                                                     \
            h_failed++;                                                    \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                      \
        }                                                                  \
    } while (0)

#define CHECK_MSG(cond, ...)                                               \
    do {                                                                   \
        h_checks++;                                                        \
        if (!(cond)) {                                                     \
            h_failed++;                                                    \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__,         \
                    __LINE__, #cond);                                      \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
        }                                                                  \
    } while (0)

#define CHECK_STR(a, b)                                                    \
    do {                                                                   \
        const char *h_a = (a), *h_b = (b);                                 \
        h_checks++;                                                        \
        if (h_a == NULL || h_b == NULL || strcmp(h_a, h_b) != 0) {         \
            h_failed++;                                                    \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s\n  got:  %s\n"  \
                    "  want: %s\n", __FILE__, __LINE__, #a, #b,            \
                    h_a ? h_a : "(null)", h_b ? h_b : "(null)");           \
        }                                                                  \
    } while (0)

#define CHECK_RC(expr, want)                                               \
    do {                                                                   \
        int h_rc = (expr), h_want = (want);                                \
        h_checks++;                                                        \
        if (h_rc != h_want) {                                              \
            h_failed++;                                                    \
            fprintf(stderr, "%s:%d: %s returned %d (%s), want %d (%s)\n",  \
                    __FILE__, __LINE__, #expr, h_rc, mark_strerror(h_rc),  \
                    h_want, mark_strerror(h_want));                        \
        }                                                                  \
    } while (0)

static inline int h_done(const char *name)
{
    printf("%s: %d checks, %d failed\n", name, h_checks, h_failed);
    return h_failed ? 1 : 0;
}

/* Read a whole file; NULL on failure. */
static inline unsigned char *h_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *p = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0) {
        p = malloc((size_t)n + 1);
        if (p != NULL && fread(p, 1, (size_t)n, f) != (size_t)n) {
            free(p);
            p = NULL;
        }
        *len = (size_t)n;
    }
    fclose(f);
    return p;
}

#endif
