/*
 * common.h - shared pieces of the aimark command-line tool.  Built against
 * the public <mark.h> only.
 */
#ifndef AIMARK_COMMON_H
#define AIMARK_COMMON_H

#include <stddef.h>
#include <stdio.h>

#include <mark.h>

/* Exit statuses, documented in aimark(1). */
enum {
    EXIT_MARKED = 0,     /* success; verify: every file carries a mark */
    EXIT_NOMARK = 1,     /* verify: at least one file carries no mark */
    EXIT_USAGE = 2,      /* bad command line or configuration */
    EXIT_INPUT = 3,      /* an input could not be read or understood */
    EXIT_KEY = 4,        /* key problems (reserved for the watermark) */
    EXIT_OUTPUT = 5,     /* an output could not be written */
    EXIT_INTERNAL = 70   /* out of memory, bugs */
};

#if defined(__GNUC__)
#define AIMARK_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define AIMARK_PRINTF(a, b)
#endif

extern const char *progname;

/* "aimark: <message>" on stderr, serialised between threads. */
void msg(const char *fmt, ...) AIMARK_PRINTF(1, 2);
void out_lock(void);
void out_unlock(void);

/* Exit status for a libmark status met while reading an input. */
int exit_for_input(int status);

/* A list of input paths from argv and --files-from. */
typedef struct pathlist {
    char **v;
    size_t n;
    size_t cap;
} pathlist;

int pathlist_add(pathlist *l, const char *p);
/* Add one path per line of file ("-" = stdin); returns 0 or -1. */
int pathlist_read(pathlist *l, const char *file);
void pathlist_free(pathlist *l);

/* Settings from the config file: key = value lines. */
typedef struct config {
    char *producer;
    char *propagator;
} config;

/* Load path, or the default location when path is NULL (a missing
 * default file is not an error).  Returns 0, or -1 with a message. */
int config_load(config *c, const char *path);
void config_free(config *c);

/* Reading stdin / writing stdout through libmark's callback I/O. */
int64_t fd_read_cb(void *user, void *buf, size_t len);
int64_t fd_write_cb(void *user, const void *buf, size_t len);

/* JSON string literal for s (quotes included) on f. */
void json_put_string(FILE *f, const char *s);

/* Progress bar on stderr: done of total, redrawn at most 10 times a
 * second.  progress_end() clears the line. */
typedef struct progress {
    int enabled;
    size_t total;
    double start;
    double last;
} progress;

void progress_init(progress *p, size_t total, int enabled);
void progress_update(progress *p, size_t done, size_t failed);
void progress_end(progress *p);
/* A fraction done (0..1) of one long job, with its ETA. */
void progress_fraction(progress *p, double done);

/* Read a key file (aimark keygen) into a key owned by its own ctx;
 * returns 0, or -1 after a message.  Free with free_key(). */
int load_key(const char *path, mark_ctx **kctx, mark_key **key);
void free_key(mark_ctx *kctx, mark_key *key);

/* Number of online CPUs, at least 1. */
int cpu_count(void);

/* --format: "text", "markdown" (or "md") or "auto" (recognise from the
 * content); -1 for anything else. */
int parse_format(const char *s);
/* Apply --format, --encoding and the limits to a ctx; returns 0, or -1
 * after a message. */
int setup_ctx(mark_ctx *ctx, int format, const char *encoding);
/* The hint that goes after a library message about bad UTF-8. */
const char *utf8_hint(const char *message);

/* --limit NAME=VALUE (from_config 0) and the config file's
 * "limit.NAME = VALUE" (from_config 1, which does not override the
 * command line): kept for setup_ctx().  VALUE is a positive integer,
 * with K, M or G for 2^10, 2^20, 2^30.  Returns 0, or -1 after a
 * message. */
int limit_option(const char *name, const char *value, int from_config);
/* --limit's argument, NAME=VALUE. */
int limit_arg(const char *arg);
/* The limit names, for --help: "input-bytes, metadata-bytes, ...". */
extern const char limit_list[];

/* Parse a positive integer option; returns -1 when not one. */
long parse_count(const char *s, long max);

int cmd_mark(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_keygen(int argc, char **argv);

#endif
