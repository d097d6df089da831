/*
 * cmd_keygen.c - `aimark keygen FILE`: make a private watermark key.
 * The key file is created with mode 0600 and never overwritten; keys are
 * read from files only, never from the command line.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

static void usage_keygen(FILE *f)
{
    fprintf(f,
"usage: aimark keygen FILE\n"
"\n"
"Write a new random watermark key to FILE (created with mode 0600; an\n"
"existing file is never overwritten) and print its public key id.\n"
"\n"
"  -h, --help    this help\n");
}

int cmd_keygen(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    mark_ctx *ctx = NULL;
    mark_key *key = NULL;
    char *text = NULL, id[17];
    size_t len = 0, off = 0;
    int c, fd = -1, st = EXIT_INTERNAL;
    const char *path;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'h') {
            usage_keygen(stdout);
            return 0;
        }
        usage_keygen(stderr);
        return EXIT_USAGE;
    }
    if (argc - optind != 1) {
        msg("keygen wants one file name (see 'aimark keygen --help')");
        return EXIT_USAGE;
    }
    path = argv[optind];
    if (mark_ctx_new(&ctx, NULL) != MARK_OK ||
        mark_key_generate(ctx, &key) != MARK_OK ||
        mark_key_save(key, &text, &len) != MARK_OK) {
        msg("cannot make a key: %s", ctx ? mark_ctx_errmsg(ctx) : "");
        goto out;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        msg("cannot create '%s': %s", path, strerror(errno));
        st = EXIT_OUTPUT;
        goto out;
    }
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            msg("cannot write '%s': %s", path, strerror(errno));
            close(fd);
            fd = -1;
            unlink(path);
            st = EXIT_OUTPUT;
            goto out;
        }
        off += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        msg("cannot write '%s': %s", path, strerror(errno));
        unlink(path);
        st = EXIT_OUTPUT;
        goto out;
    }
    fd = -1;
    mark_key_id(key, id);
    printf("%s\n", id);
    st = 0;
out:
    if (text != NULL) {
        memset(text, 0, len);
        mark_free(ctx, text);
    }
    mark_key_free(key);
    mark_ctx_free(ctx);
    return st;
}
