/*
 * aimark.c - the command dispatcher: `aimark <command> [<args>...]`.
 */
#include <stdio.h>
#include <string.h>

#include "common.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: aimark <command> [options] [FILE...]\n"
"\n"
"Mark AI-generated content and check content for marks, following\n"
"GB 45438-2025 and the Labelling Measures.\n"
"\n"
"commands:\n"
"  mark      label files: visible label and AIGC metadata label\n"
"  verify    report the marks files carry, with a verdict\n"
"  keygen    make a private watermark key file\n"
"  help      this help (aimark help COMMAND: that command's help)\n"
"\n"
"  aimark --version    print the tool and library versions\n"
"\n"
"See aimark(1).\n");
}

int main(int argc, char **argv)
{
    const char *cmd;

    if (mark_version_number() != MARK_VERSION_NUMBER) {
        fprintf(stderr, "aimark: built for libmark %d.%d.%d but running "
                "with %s\n", MARK_VERSION_MAJOR, MARK_VERSION_MINOR,
                MARK_VERSION_PATCH, mark_version_string());
        return EXIT_INTERNAL;
    }
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("aimark %d.%d.%d (libmark %s)\n", MARK_VERSION_MAJOR,
               MARK_VERSION_MINOR, MARK_VERSION_PATCH,
               mark_version_string());
        return 0;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "help") == 0) {
        char help[] = "--help";
        char *av[3];

        if (argc < 3) {
            usage(stdout);
            return 0;
        }
        av[0] = argv[2];
        av[1] = help;
        av[2] = NULL;
        if (strcmp(argv[2], "mark") == 0)
            return cmd_mark(2, av);
        if (strcmp(argv[2], "verify") == 0)
            return cmd_verify(2, av);
        if (strcmp(argv[2], "keygen") == 0)
            return cmd_keygen(2, av);
        msg("'%s' is not an aimark command (see 'aimark --help')", argv[2]);
        return EXIT_USAGE;
    }
    if (strcmp(cmd, "mark") == 0)
        return cmd_mark(argc - 1, argv + 1);
    if (strcmp(cmd, "verify") == 0)
        return cmd_verify(argc - 1, argv + 1);
    if (strcmp(cmd, "keygen") == 0)
        return cmd_keygen(argc - 1, argv + 1);
    msg("'%s' is not an aimark command (see 'aimark --help')", cmd);
    return EXIT_USAGE;
}
