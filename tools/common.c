/*
 * common.c - messages, config file, path lists, progress bar and small
 * I/O helpers shared by the aimark commands.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

const char *progname = "aimark";

static pthread_mutex_t out_mutex = PTHREAD_MUTEX_INITIALIZER;

void out_lock(void)
{
    pthread_mutex_lock(&out_mutex);
}

void out_unlock(void)
{
    pthread_mutex_unlock(&out_mutex);
}

void msg(const char *fmt, ...)
{
    va_list ap;

    out_lock();
    fprintf(stderr, "%s: ", progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    out_unlock();
}

int exit_for_input(int status)
{
    switch (status) {
    case MARK_ENOMEM:
        return EXIT_INTERNAL;
    case MARK_EKEY:
        return EXIT_KEY;
    default:
        return EXIT_INPUT;
    }
}

int pathlist_add(pathlist *l, const char *p)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, cap * sizeof *v);

        if (v == NULL)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n] = strdup(p);
    if (l->v[l->n] == NULL)
        return -1;
    l->n++;
    return 0;
}

int pathlist_read(pathlist *l, const char *file)
{
    FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;

    if (f == NULL) {
        msg("cannot open '%s': %s", file, strerror(errno));
        return -1;
    }
    while ((n = getline(&line, &cap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        if (pathlist_add(l, line) != 0) {
            msg("out of memory");
            rc = -1;
            break;
        }
    }
    if (ferror(f)) {
        msg("cannot read '%s': %s", file, strerror(errno));
        rc = -1;
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return rc;
}

void pathlist_free(pathlist *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
                     e[-1] == '\r'))
        *--e = '\0';
    return s;
}

int config_load(config *c, const char *path)
{
    char def[PATH_MAX], *line = NULL;
    const char *home, *xdg;
    size_t cap = 0;
    int lineno = 0, rc = 0, explicit_path = path != NULL;
    FILE *f;

    if (path == NULL)
        path = getenv("AIMARK_CONFIG");
    if (path != NULL && path[0] != '\0') {
        explicit_path = 1;
    } else {
        xdg = getenv("XDG_CONFIG_HOME");
        home = getenv("HOME");
        if (xdg != NULL && xdg[0] != '\0')
            snprintf(def, sizeof def, "%s/aimark/config", xdg);
        else if (home != NULL && home[0] != '\0')
            snprintf(def, sizeof def, "%s/.config/aimark/config", home);
        else
            return 0;
        path = def;
    }
    f = fopen(path, "r");
    if (f == NULL) {
        if (!explicit_path && errno == ENOENT)
            return 0;
        msg("cannot open config file '%s': %s", path, strerror(errno));
        return -1;
    }
    while (getline(&line, &cap, f) >= 0) {
        char *s = trim(line), *eq, *key, *val, **slot;

        lineno++;
        if (*s == '\0' || *s == '#')
            continue;
        eq = strchr(s, '=');
        if (eq == NULL) {
            msg("config file '%s', line %d: expected 'key = value'", path,
                lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        key = trim(s);
        val = trim(eq + 1);
        if (strcmp(key, "producer") == 0) {
            slot = &c->producer;
        } else if (strcmp(key, "propagator") == 0) {
            slot = &c->propagator;
        } else if (strncmp(key, "limit.", 6) == 0) {
            if (limit_option(key + 6, val, 1) != 0) {
                msg("config file '%s', line %d: bad limit", path, lineno);
                rc = -1;
                break;
            }
            continue;
        } else {
            msg("config file '%s', line %d: unknown key '%s'", path, lineno,
                key);
            rc = -1;
            break;
        }
        free(*slot);
        *slot = strdup(val);
    }
    free(line);
    fclose(f);
    return rc;
}

void config_free(config *c)
{
    free(c->producer);
    free(c->propagator);
    memset(c, 0, sizeof *c);
}

int64_t fd_read_cb(void *user, void *buf, size_t len)
{
    int fd = *(int *)user;
    ssize_t n;

    do
        n = read(fd, buf, len);
    while (n < 0 && errno == EINTR);
    return n;
}

int64_t fd_write_cb(void *user, const void *buf, size_t len)
{
    int fd = *(int *)user;
    ssize_t n;

    do
        n = write(fd, buf, len);
    while (n < 0 && errno == EINTR);
    return n;
}

void json_put_string(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    fputc('"', f);
    for (; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_init(progress *p, size_t total, int enabled)
{
    p->enabled = enabled;
    p->total = total;
    p->start = now();
    p->last = 0;
}

void progress_update(progress *p, size_t done, size_t failed)
{
    char bar[31];
    double t, rate, eta;
    size_t i, fill;

    if (!p->enabled || p->total == 0)
        return;
    t = now();
    if (done < p->total && t - p->last < 0.1)
        return;
    p->last = t;
    fill = done * 30 / p->total;
    for (i = 0; i < 30; i++)
        bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
    bar[30] = '\0';
    rate = t > p->start ? (double)done / (t - p->start) : 0;
    eta = rate > 0 ? (double)(p->total - done) / rate : 0;
    out_lock();
    fprintf(stderr, "\r[%s] %zu/%zu", bar, done, p->total);
    if (failed)
        fprintf(stderr, " (%zu failed)", failed);
    fprintf(stderr, " %.1f/s ETA %d:%02d  ", rate, (int)eta / 60,
            (int)eta % 60);
    fflush(stderr);
    out_unlock();
}

void progress_fraction(progress *p, double done)
{
    char bar[31];
    double t = now(), eta;
    size_t i, fill;

    if (!p->enabled)
        return;
    fill = (size_t)(done * 30);
    for (i = 0; i < 30; i++)
        bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
    bar[30] = '\0';
    eta = done > 0.01 ? (t - p->start) * (1 - done) / done : 0;
    out_lock();
    fprintf(stderr, "\r[%s] %3d%% ETA %d:%02d  ", bar, (int)(done * 100),
            (int)eta / 60, (int)eta % 60);
    fflush(stderr);
    out_unlock();
}

void progress_end(progress *p)
{
    if (!p->enabled)
        return;
    out_lock();
    fprintf(stderr, "\r%*s\r", 79, "");
    fflush(stderr);
    out_unlock();
}

int load_key(const char *path, mark_ctx **kctx, mark_key **key)
{
    char buf[4096];
    size_t n;
    FILE *f;

    *kctx = NULL;
    *key = NULL;
    f = fopen(path, "r");
    if (f == NULL) {
        msg("cannot open key file '%s': %s", path, strerror(errno));
        return -1;
    }
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (mark_ctx_new(kctx, NULL) != MARK_OK) {
        msg("out of memory");
        return -1;
    }
    if (mark_key_load(*kctx, key, buf, n) != MARK_OK) {
        msg("bad key file '%s': %s", path, mark_ctx_errmsg(*kctx));
        memset(buf, 0, sizeof buf);
        mark_ctx_free(*kctx);
        *kctx = NULL;
        return -1;
    }
    memset(buf, 0, sizeof buf);
    return 0;
}

void free_key(mark_ctx *kctx, mark_key *key)
{
    mark_key_free(key);
    mark_ctx_free(kctx);
}

int cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n > 0 ? (int)n : 1;
}

long parse_count(const char *s, long max)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0 || v > max)
        return -1;
    return v;
}

int parse_format(const char *s)
{
    if (strcmp(s, "text") == 0 || strcmp(s, "txt") == 0)
        return MARK_FORMAT_TEXT;
    if (strcmp(s, "markdown") == 0 || strcmp(s, "md") == 0)
        return MARK_FORMAT_MARKDOWN;
    if (strcmp(s, "auto") == 0)
        return MARK_FORMAT_UNKNOWN;
    return -1;
}

/* libmark's limits by name, in the order of enum mark_limit. */
static const char *const limit_names[MARK_LIMIT_COUNT_] = {
    "input-bytes", "metadata-bytes", "pixels", "dimension", "chunks",
    "label-bytes", "duration", "frames", "text-bytes"
};
const char limit_list[] = "input-bytes, metadata-bytes, pixels, "
                          "dimension, chunks, label-bytes, duration, "
                          "frames, text-bytes";
static int64_t limit_value[MARK_LIMIT_COUNT_];   /* 0: the default */
static int limit_by_cli[MARK_LIMIT_COUNT_];

int limit_option(const char *name, const char *value, int from_config)
{
    char *end;
    long long v;
    int i, shift = 0;

    for (i = 0; i < MARK_LIMIT_COUNT_; i++)
        if (strcmp(name, limit_names[i]) == 0)
            break;
    if (i == MARK_LIMIT_COUNT_) {
        msg("unknown limit '%s' (the limits are %s)", name, limit_list);
        return -1;
    }
    errno = 0;
    v = strtoll(value, &end, 10);
    if (*end == 'K' || *end == 'k')
        shift = 10, end++;
    else if (*end == 'M')
        shift = 20, end++;
    else if (*end == 'G')
        shift = 30, end++;
    if (errno != 0 || end == value || *end != '\0' || v <= 0 ||
        v > (INT64_MAX >> shift)) {
        msg("limit %s wants a positive integer (K, M, G allowed), not "
            "'%s'", name, value);
        return -1;
    }
    if (from_config && limit_by_cli[i])
        return 0;
    limit_value[i] = (int64_t)v << shift;
    limit_by_cli[i] = !from_config;
    return 0;
}

int limit_arg(const char *arg)
{
    const char *eq = strchr(arg, '=');
    char name[32];

    if (eq == NULL || (size_t)(eq - arg) >= sizeof name) {
        msg("--limit wants NAME=VALUE, not '%s'", arg);
        return -1;
    }
    memcpy(name, arg, (size_t)(eq - arg));
    name[eq - arg] = '\0';
    return limit_option(name, eq + 1, 0);
}

int setup_ctx(mark_ctx *ctx, int format, const char *encoding)
{
    int i;

    if (mark_ctx_set_format(ctx, format) != MARK_OK)
        return -1;
    for (i = 0; i < MARK_LIMIT_COUNT_; i++)
        if (limit_value[i] > 0 &&
            mark_ctx_set_limit(ctx, i, limit_value[i]) != MARK_OK)
            return -1;
    if (encoding != NULL && mark_ctx_set_encoding(ctx, encoding) != MARK_OK) {
        msg("%s", mark_ctx_errmsg(ctx));
        return -1;
    }
    return 0;
}

const char *utf8_hint(const char *message)
{
    return strncmp(message, "invalid UTF-8", 13) == 0 ||
                   strncmp(message, "NUL byte", 8) == 0
               ? " (use --encoding for other encodings)" : "";
}
