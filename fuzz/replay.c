/*
 * replay.c - the fuzz targets without libFuzzer: every file named (or
 * every file in a directory named) is read and handed to a target, once.
 * `make check` runs it on the saved crash inputs and the generated seeds
 * (tests/cli/fuzz.sh), so a fixed crash stays fixed, also under
 * SANITIZE=address,undefined.
 *
 *   replay TARGET PATH...   each file through TARGET ("all": every target)
 *
 * Prints the number of inputs run; exits 1 on a usage or read error.
 * A crash is the sanitizer's or the kernel's to report.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef int fuzz_fn(const uint8_t *data, size_t size);

#define TARGET(name) fuzz_fn fuzz_##name;
#include "targets.h"
#undef TARGET

static const struct {
    const char *name;
    fuzz_fn *fn;
} targets[] = {
#define TARGET(name) { #name, fuzz_##name },
#include "targets.h"
#undef TARGET
};
#define N_TARGETS (sizeof targets / sizeof targets[0])

static unsigned long runs;

static int run_file(const char *target, const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char *d = NULL;
    size_t n = 0, cap = 0, i;
    int hit = 0;

    if (!f) {
        perror(path);
        return -1;
    }
    for (;;) {
        size_t got;

        if (n == cap) {
            unsigned char *p = realloc(d, cap = cap ? 2 * cap : 65536);

            if (!p) {
                fclose(f);
                free(d);
                return -1;
            }
            d = p;
        }
        got = fread(d + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    fclose(f);
    for (i = 0; i < N_TARGETS; i++)
        if (strcmp(target, "all") == 0 || strcmp(target, targets[i].name) == 0) {
            /* libFuzzer hands over exactly size bytes: so do we */
            unsigned char *c = malloc(n ? n : 1);

            if (!c) {
                free(d);
                return -1;
            }
            memcpy(c, d, n);
            targets[i].fn(c, n);
            free(c);
            runs++;
            hit = 1;
        }
    free(d);
    if (!hit) {
        fprintf(stderr, "replay: no target '%s'\n", target);
        return -1;
    }
    return 0;
}

static int run_path(const char *target, const char *path)
{
    struct stat st;
    struct dirent **ents;
    int n, i, rc = 0;

    if (stat(path, &st) != 0) {
        perror(path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(target, path);
    n = scandir(path, &ents, NULL, alphasort);
    if (n < 0) {
        perror(path);
        return -1;
    }
    for (i = 0; i < n; i++) {
        const char *e = ents[i]->d_name;

        if (e[0] != '.' && strcmp(e, "README.md") != 0 && rc == 0) {
            size_t len = strlen(path) + strlen(e) + 2;
            char *p = malloc(len);

            if (!p)
                rc = -1;
            else {
                snprintf(p, len, "%s/%s", path, e);
                rc = run_path(target, p);
                free(p);
            }
        }
        free(ents[i]);
    }
    free(ents);
    return rc;
}

int main(int argc, char **argv)
{
    int i;

    if (argc < 3) {
        fprintf(stderr, "usage: replay TARGET|all PATH...\n");
        return 1;
    }
    for (i = 2; i < argc; i++)
        if (run_path(argv[1], argv[i]) != 0)
            return 1;
    printf("replay: %s: %lu runs\n", argv[1], runs);
    return 0;
}
