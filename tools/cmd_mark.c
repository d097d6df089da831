/*
 * cmd_mark.c - `aimark mark`: write the metadata label into files, one at
 * a time, as a batch on several threads, or from stdin to stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

typedef struct mark_opts {
    const char *output;          /* -o, or NULL */
    int out_is_dir;
    int in_place;
    int force;
    const char *suffix;
    const char *producer;
    const char *produce_id;
    const char *label_value;
    const char *propagator;
    const char *propagate_id;
    int json;
    int quiet;
    int verbose;
    int jobs;
} mark_opts;

typedef struct job {
    const char *in;              /* "-" = stdin */
    char *out;                   /* NULL = stdout */
} job;

typedef struct batch {
    const mark_opts *o;
    job *jobs;
    size_t n;
    size_t next;                 /* next job to take */
    size_t done;
    size_t failed;
    int status;                  /* worst exit status so far */
    progress prog;
    pthread_mutex_t lock;
} batch;

static void usage_mark(FILE *f)
{
    fprintf(f,
"usage: aimark mark [options] INPUT... [-o OUTPUT]\n"
"\n"
"Write the GB 45438 metadata label (the AIGC record) into images.\n"
"INPUT '-' reads stdin; the format is recognised from the content.\n"
"\n"
"  -o, --output PATH       output file for one input, or a directory;\n"
"                          '-' writes to stdout\n"
"      --in-place          replace each input file (atomically)\n"
"  -f, --force             overwrite existing output files\n"
"      --suffix TEXT       default output name: NAME<TEXT>.EXT (\".aigc\")\n"
"      --producer CODE     ContentProducer (or AIMARK_PRODUCER, or\n"
"                          'producer' in the config file)\n"
"      --produce-id ID     ProduceID (one input only; default: a random\n"
"                          UUID per file)\n"
"      --label-value N     Label field: 1 generated (default), 2 possibly,\n"
"                          3 suspected\n"
"      --propagator CODE   mark as a propagation platform: keep the file's\n"
"                          production fields, set ContentPropagator (or\n"
"                          AIMARK_PROPAGATOR, or 'propagator' in config)\n"
"      --propagate-id ID   PropagateID (default: a random UUID per file)\n"
"      --files-from FILE   read input paths from FILE, one a line ('-':\n"
"                          stdin)\n"
"  -j, --jobs N            files processed in parallel (0: one per CPU)\n"
"      --json              one JSON report line per file on stdout\n"
"  -q, --quiet             no progress bar, no summary\n"
"  -v, --verbose           say what was written\n"
"      --config FILE       config file (default $AIMARK_CONFIG, else\n"
"                          $XDG_CONFIG_HOME/aimark/config or\n"
"                          ~/.config/aimark/config)\n"
"      --no-visible        no visible label (none is drawn in this version)\n"
"      --no-watermark      no watermark (none is embedded in this version)\n"
"      --no-metadata       reserved: no metadata label (nothing else would\n"
"                          be written in this version, so it is refused)\n"
"      --payload HEX       reserved for the watermark (not yet available)\n"
"      --key FILE          reserved for the watermark (not yet available)\n"
"  -h, --help              this help\n");
}

/* NAME.EXT -> NAME<suffix>.EXT, beside the input. */
static char *default_output(const char *in, const char *suffix)
{
    const char *slash = strrchr(in, '/');
    const char *base = slash ? slash + 1 : in;
    const char *dot = strrchr(base, '.');
    size_t stem = dot != NULL && dot != base ? (size_t)(dot - in)
                                             : strlen(in);
    size_t n = strlen(in) + strlen(suffix) + 1;
    char *o = malloc(n);

    if (o != NULL)
        snprintf(o, n, "%.*s%s%s", (int)stem, in, suffix, in + stem);
    return o;
}

static char *join(const char *dir, const char *in)
{
    const char *slash = strrchr(in, '/');
    const char *base = slash ? slash + 1 : in;
    size_t dl = strlen(dir), n = dl + strlen(base) + 2;
    char *o = malloc(n);

    if (o != NULL)
        snprintf(o, n, "%s%s%s", dir,
                 dl > 0 && dir[dl - 1] == '/' ? "" : "/", base);
    return o;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Work out every output name first, so that usage errors and name
 * collisions stop the run before any file is written. */
static int plan(mark_opts *o, const pathlist *in, job *jobs)
{
    struct stat st;
    size_t i;

    if (o->output != NULL && strcmp(o->output, "-") != 0) {
        size_t l = strlen(o->output);

        o->out_is_dir = (stat(o->output, &st) == 0 && S_ISDIR(st.st_mode)) ||
                        o->output[l - 1] == '/';
        if (in->n > 1 && !o->out_is_dir) {
            msg("several inputs need -o to name an existing directory, "
                "and '%s' is not one", o->output);
            return -1;
        }
        if (o->out_is_dir && (stat(o->output, &st) != 0 ||
                              !S_ISDIR(st.st_mode))) {
            msg("output directory '%s' does not exist", o->output);
            return -1;
        }
    }
    if (o->output != NULL && strcmp(o->output, "-") == 0 && in->n > 1) {
        msg("-o - writes one file to stdout; give one input");
        return -1;
    }
    for (i = 0; i < in->n; i++) {
        const char *p = in->v[i];
        int is_stdin = strcmp(p, "-") == 0;

        jobs[i].in = p;
        jobs[i].out = NULL;
        if (o->in_place) {
            if (is_stdin) {
                msg("--in-place cannot replace stdin");
                return -1;
            }
            jobs[i].out = strdup(p);
        } else if (o->output != NULL && strcmp(o->output, "-") == 0) {
            continue;
        } else if (o->output != NULL && o->out_is_dir) {
            if (is_stdin) {
                msg("input '-' needs -o FILE, not a directory");
                return -1;
            }
            jobs[i].out = join(o->output, p);
        } else if (o->output != NULL) {
            jobs[i].out = strdup(o->output);
        } else if (is_stdin) {
            continue;
        } else {
            jobs[i].out = default_output(p, o->suffix);
        }
        if (jobs[i].out == NULL) {
            msg("out of memory");
            return -1;
        }
    }
    if (o->out_is_dir && in->n > 1) {
        char **names = malloc(in->n * sizeof *names);
        int rc = 0;

        if (names == NULL)
            return -1;
        for (i = 0; i < in->n; i++)
            names[i] = jobs[i].out;
        qsort(names, in->n, sizeof *names, cmp_str);
        for (i = 1; i < in->n && rc == 0; i++)
            if (strcmp(names[i - 1], names[i]) == 0) {
                msg("two inputs would both be written to '%s'", names[i]);
                rc = -1;
            }
        free(names);
        return rc;
    }
    return 0;
}

/* Build the record for one file; returns 0 or an exit status. */
static int make_label(mark_ctx *ctx, const mark_opts *o, mark_media *m,
                      const char *in, mark_label **out)
{
    mark_label *l = NULL;
    char uuid[37];
    size_t i, n = mark_media_label_count(m);
    int rc = MARK_OK;

    *out = NULL;
    if (o->propagator != NULL) {
        /* a platform keeps what the producer wrote */
        for (i = 0; i < n && l == NULL; i++) {
            mark_found_label f;

            if (mark_media_label_get(m, i, &f) == MARK_OK &&
                f.label != NULL &&
                mark_label_get(f.label, MARK_FIELD_CONTENT_PRODUCER) &&
                mark_label_get(f.label, MARK_FIELD_PRODUCE_ID))
                rc = mark_label_copy(f.label, &l);
        }
        if (l == NULL && o->producer == NULL) {
            msg("cannot mark '%s': it carries no label to propagate (give "
                "--producer to write a new one)", in);
            return EXIT_INPUT;
        }
    }
    if (l == NULL && rc == MARK_OK) {
        rc = mark_label_new(ctx, &l);
        if (rc == MARK_OK)
            rc = mark_label_set(l, MARK_FIELD_CONTENT_PRODUCER, o->producer);
        if (rc == MARK_OK && o->produce_id == NULL)
            rc = mark_uuid_v4(uuid);
        if (rc == MARK_OK)
            rc = mark_label_set(l, MARK_FIELD_PRODUCE_ID,
                                o->produce_id ? o->produce_id : uuid);
        if (rc == MARK_OK)
            rc = mark_label_set(l, MARK_FIELD_LABEL,
                                o->label_value ? o->label_value : "1");
        if (rc == MARK_OK)
            rc = mark_label_first_write(l);
    } else if (rc == MARK_OK && o->label_value != NULL) {
        rc = mark_label_set(l, MARK_FIELD_LABEL, o->label_value);
    }
    if (rc == MARK_OK && o->propagator != NULL) {
        rc = mark_label_set(l, MARK_FIELD_CONTENT_PROPAGATOR, o->propagator);
        if (rc == MARK_OK && o->propagate_id == NULL)
            rc = mark_uuid_v4(uuid);
        if (rc == MARK_OK)
            rc = mark_label_set(l, MARK_FIELD_PROPAGATE_ID,
                                o->propagate_id ? o->propagate_id : uuid);
    }
    if (rc < 0) {
        mark_label_free(l);
        msg("cannot mark '%s': %s", in, mark_strerror(rc));
        return EXIT_INTERNAL;
    }
    *out = l;
    return 0;
}

static void json_report(const job *j, const char *format,
                        const mark_label *l, const char *error)
{
    int f;

    out_lock();
    fputs("{\"file\":", stdout);
    json_put_string(stdout, j->in);
    fputs(",\"output\":", stdout);
    json_put_string(stdout, j->out != NULL ? j->out : "-");
    fputs(",\"format\":", stdout);
    if (format != NULL)
        json_put_string(stdout, format);
    else
        fputs("null", stdout);
    fprintf(stdout, ",\"status\":\"%s\"", error ? "error" : "marked");
    if (error != NULL) {
        fputs(",\"error\":", stdout);
        json_put_string(stdout, error);
    }
    if (l != NULL) {
        fputs(",\"label\":{", stdout);
        for (f = 0; f < MARK_FIELD_COUNT_; f++) {
            const char *v = mark_label_get(l, f);

            if (v == NULL)
                continue;
            fprintf(stdout, "%s\"%s\":", f ? "," : "", mark_field_name(f));
            json_put_string(stdout, v);
        }
        fputc('}', stdout);
    }
    fputs("}\n", stdout);
    fflush(stdout);
    out_unlock();
}

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;

    return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
           sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Mark one file; returns its exit status. */
static int mark_one(mark_ctx *ctx, const mark_opts *o, const job *j)
{
    static const mark_io in_io = { fd_read_cb, NULL, NULL, NULL };
    static const mark_io out_io = { NULL, fd_write_cb, NULL, NULL };
    mark_media *m = NULL;
    mark_label *l = NULL;
    mark_media_info info;
    char err[1200];
    const char *fmt = NULL;
    int rc, st = 0, fd0 = 0, fd1 = 1;
    unsigned flags = (o->force || o->in_place) ? MARK_SAVE_OVERWRITE : 0;
    const char *shown_in = strcmp(j->in, "-") == 0 ? "<stdin>" : j->in;

    err[0] = '\0';
    if (strcmp(j->in, "-") == 0)
        rc = mark_media_open_io(ctx, &m, &in_io, &fd0);
    else
        rc = mark_media_open_file(ctx, &m, j->in);
    if (rc < 0) {
        snprintf(err, sizeof err, "%s", mark_ctx_errmsg(ctx)[0]
                 ? mark_ctx_errmsg(ctx) : mark_strerror(rc));
        msg("cannot read '%s': %s", shown_in, err);
        st = exit_for_input(rc);
        goto done;
    }
    mark_media_get_info(m, &info);
    fmt = mark_format_name(info.format);
    st = make_label(ctx, o, m, shown_in, &l);
    if (st != 0) {
        snprintf(err, sizeof err, "no label could be built");
        goto done;
    }
    rc = mark_media_set_label(m, l);
    if (rc < 0) {
        snprintf(err, sizeof err, "%s", mark_ctx_errmsg(ctx));
        msg("cannot mark '%s': %s", shown_in, err);
        st = EXIT_INPUT;
        goto done;
    }
    if (j->out == NULL) {
        rc = mark_media_save_io(m, &out_io, &fd1);
    } else if (!o->in_place && same_file(j->in, j->out)) {
        snprintf(err, sizeof err, "output is the input file (use "
                 "--in-place to replace it)");
        rc = MARK_EEXIST;
    } else {
        rc = mark_media_save_file(m, j->out, flags);
        if (rc == MARK_EEXIST)
            snprintf(err, sizeof err, "%s; use --force to replace it",
                     mark_ctx_errmsg(ctx));
    }
    if (rc < 0) {
        if (err[0] == '\0')
            snprintf(err, sizeof err, "%s", mark_ctx_errmsg(ctx)[0]
                     ? mark_ctx_errmsg(ctx) : mark_strerror(rc));
        if (rc == MARK_EFORMAT || rc == MARK_ELIMIT ||
            rc == MARK_EUNSUPPORTED) {
            /* the input's own metadata cannot take the label */
            msg("cannot mark '%s': %s", shown_in, err);
            st = EXIT_INPUT;
        } else {
            msg("cannot write '%s': %s", j->out ? j->out : "<stdout>", err);
            st = rc == MARK_ENOMEM ? EXIT_INTERNAL : EXIT_OUTPUT;
        }
        goto done;
    }
    if (o->verbose)
        msg("marked '%s' -> '%s'", shown_in, j->out ? j->out : "<stdout>");
done:
    if (o->json)
        json_report(j, fmt, st == 0 ? l : NULL, st == 0 ? NULL : err);
    mark_label_free(l);
    mark_media_free(m);
    return st;
}

static void *worker(void *arg)
{
    batch *b = arg;
    mark_ctx *ctx = NULL;
    size_t i;
    int st;

    if (mark_ctx_new(&ctx, NULL) != MARK_OK) {
        msg("out of memory");
        pthread_mutex_lock(&b->lock);
        b->status = EXIT_INTERNAL;
        pthread_mutex_unlock(&b->lock);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&b->lock);
        i = b->next < b->n ? b->next++ : b->n;
        pthread_mutex_unlock(&b->lock);
        if (i >= b->n)
            break;
        st = mark_one(ctx, b->o, &b->jobs[i]);
        pthread_mutex_lock(&b->lock);
        b->done++;
        if (st != 0)
            b->failed++;
        if (st > b->status)
            b->status = st;
        progress_update(&b->prog, b->done, b->failed);
        pthread_mutex_unlock(&b->lock);
    }
    mark_ctx_free(ctx);
    return NULL;
}

/* Check the command-line fields once, before any file is touched. */
static int check_fields(const mark_opts *o)
{
    mark_ctx *ctx;
    mark_label *l;
    mark_problems *p = NULL;
    int rc, ok = 1;

    if (mark_ctx_new(&ctx, NULL) != MARK_OK || mark_label_new(ctx, &l) != 0)
        return -1;
    mark_label_set(l, MARK_FIELD_LABEL, o->label_value ? o->label_value : "1");
    mark_label_set(l, MARK_FIELD_CONTENT_PRODUCER,
                   o->producer ? o->producer : "X");
    mark_label_set(l, MARK_FIELD_PRODUCE_ID,
                   o->produce_id ? o->produce_id : "X");
    mark_label_set(l, MARK_FIELD_CONTENT_PROPAGATOR,
                   o->propagator ? o->propagator : "X");
    mark_label_set(l, MARK_FIELD_PROPAGATE_ID,
                   o->propagate_id ? o->propagate_id : "X");
    mark_label_set(l, MARK_FIELD_RESERVED_CODE1, "");
    mark_label_set(l, MARK_FIELD_RESERVED_CODE2, "");
    rc = mark_label_check(ctx, l, &p);
    if (rc != MARK_OK) {
        msg("%s", mark_ctx_errmsg(ctx));
        ok = 0;
    }
    mark_problems_free(p);
    mark_label_free(l);
    mark_ctx_free(ctx);
    return ok ? 0 : -1;
}

enum {
    OPT_IN_PLACE = 256, OPT_SUFFIX, OPT_PRODUCER, OPT_PRODUCE_ID,
    OPT_LABEL_VALUE, OPT_PROPAGATOR, OPT_PROPAGATE_ID, OPT_FILES_FROM,
    OPT_JSON, OPT_CONFIG, OPT_NO_VISIBLE, OPT_NO_WATERMARK, OPT_NO_METADATA,
    OPT_PAYLOAD, OPT_KEY
};

int cmd_mark(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'o' },
        { "in-place", no_argument, NULL, OPT_IN_PLACE },
        { "force", no_argument, NULL, 'f' },
        { "suffix", required_argument, NULL, OPT_SUFFIX },
        { "producer", required_argument, NULL, OPT_PRODUCER },
        { "produce-id", required_argument, NULL, OPT_PRODUCE_ID },
        { "label-value", required_argument, NULL, OPT_LABEL_VALUE },
        { "propagator", required_argument, NULL, OPT_PROPAGATOR },
        { "propagate-id", required_argument, NULL, OPT_PROPAGATE_ID },
        { "files-from", required_argument, NULL, OPT_FILES_FROM },
        { "jobs", required_argument, NULL, 'j' },
        { "json", no_argument, NULL, OPT_JSON },
        { "quiet", no_argument, NULL, 'q' },
        { "verbose", no_argument, NULL, 'v' },
        { "config", required_argument, NULL, OPT_CONFIG },
        { "no-visible", no_argument, NULL, OPT_NO_VISIBLE },
        { "no-watermark", no_argument, NULL, OPT_NO_WATERMARK },
        { "no-metadata", no_argument, NULL, OPT_NO_METADATA },
        { "payload", required_argument, NULL, OPT_PAYLOAD },
        { "key", required_argument, NULL, OPT_KEY },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    mark_opts o;
    pathlist in = { NULL, 0, 0 };
    config cfg = { NULL, NULL };
    const char *config_path = NULL, *files_from = NULL, *env;
    batch b;
    pthread_t *tid = NULL;
    long v;
    int c, st = EXIT_USAGE, i, nthreads;

    memset(&o, 0, sizeof o);
    memset(&b, 0, sizeof b);
    o.suffix = ".aigc";
    o.jobs = 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:fj:qvh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': o.output = optarg; break;
        case 'f': o.force = 1; break;
        case 'q': o.quiet = 1; break;
        case 'v': o.verbose = 1; break;
        case 'j':
            v = parse_count(optarg, 1024);
            if (v < 0) {
                msg("-j wants a number of jobs from 0 to 1024, not '%s'",
                    optarg);
                goto out;
            }
            o.jobs = v == 0 ? cpu_count() : (int)v;
            break;
        case OPT_IN_PLACE: o.in_place = 1; break;
        case OPT_SUFFIX: o.suffix = optarg; break;
        case OPT_PRODUCER: o.producer = optarg; break;
        case OPT_PRODUCE_ID: o.produce_id = optarg; break;
        case OPT_LABEL_VALUE: o.label_value = optarg; break;
        case OPT_PROPAGATOR: o.propagator = optarg; break;
        case OPT_PROPAGATE_ID: o.propagate_id = optarg; break;
        case OPT_FILES_FROM: files_from = optarg; break;
        case OPT_JSON: o.json = 1; break;
        case OPT_CONFIG: config_path = optarg; break;
        case OPT_NO_VISIBLE: case OPT_NO_WATERMARK: break;
        case OPT_NO_METADATA:
            msg("--no-metadata leaves nothing to write: this version "
                "writes the metadata label only");
            goto out;
        case OPT_PAYLOAD: case OPT_KEY:
            msg("--%s is reserved for the watermark, which this version "
                "does not embed yet", c == OPT_KEY ? "key" : "payload");
            goto out;
        case 'h':
            usage_mark(stdout);
            st = 0;
            goto out;
        default:
            usage_mark(stderr);
            goto out;
        }
    }
    for (i = optind; i < argc; i++)
        if (pathlist_add(&in, argv[i]) != 0) {
            msg("out of memory");
            st = EXIT_INTERNAL;
            goto out;
        }
    if (files_from != NULL && pathlist_read(&in, files_from) != 0)
        goto out;
    if (in.n == 0) {
        msg("no input given (see 'aimark mark --help')");
        goto out;
    }
    if (config_load(&cfg, config_path) != 0)
        goto out;
    /* a propagator from the environment or config file turns marking into
     * propagation only when the command line does not name a producer:
     * an explicit --producer must never be silently ignored */
    if (o.producer == NULL && o.propagator == NULL) {
        env = getenv("AIMARK_PROPAGATOR");
        o.propagator = env != NULL && env[0] ? env : cfg.propagator;
    }
    env = getenv("AIMARK_PRODUCER");
    if (o.producer == NULL)
        o.producer = env != NULL && env[0] ? env : cfg.producer;
    if (o.producer == NULL && o.propagator == NULL) {
        msg("no producer code: give --producer CODE, set AIMARK_PRODUCER, "
            "or put 'producer = CODE' in the config file");
        goto out;
    }
    if (o.produce_id != NULL && in.n > 1) {
        msg("--produce-id names one piece of content; with several inputs "
            "each gets a fresh ID");
        goto out;
    }
    if (o.propagate_id != NULL && in.n > 1) {
        msg("--propagate-id names one piece of content; with several "
            "inputs each gets a fresh ID");
        goto out;
    }
    if (o.in_place && o.output != NULL) {
        msg("--in-place and -o exclude each other");
        goto out;
    }
    if (check_fields(&o) != 0)
        goto out;
    b.jobs = calloc(in.n, sizeof *b.jobs);
    if (b.jobs == NULL) {
        msg("out of memory");
        st = EXIT_INTERNAL;
        goto out;
    }
    b.n = in.n;
    if (plan(&o, &in, b.jobs) != 0)
        goto out;
    for (i = 0; i < (int)b.n; i++)
        if (b.jobs[i].out == NULL && isatty(1)) {
            msg("refusing to write image data to a terminal (use -o)");
            goto out;
        }
    if (o.json && o.output != NULL && strcmp(o.output, "-") == 0) {
        msg("--json reports go to stdout, which -o - already uses");
        goto out;
    }
    b.o = &o;
    pthread_mutex_init(&b.lock, NULL);
    progress_init(&b.prog, b.n, !o.quiet && b.n > 1 && isatty(2));
    nthreads = o.jobs < (int)b.n ? o.jobs : (int)b.n;
    if (nthreads <= 1) {
        worker(&b);
    } else {
        tid = calloc((size_t)nthreads, sizeof *tid);
        if (tid == NULL) {
            worker(&b);
        } else {
            int started = 0;

            for (i = 0; i < nthreads; i++)
                if (pthread_create(&tid[i], NULL, worker, &b) == 0)
                    started++;
                else
                    break;
            if (started == 0)
                worker(&b);
            for (i = 0; i < started; i++)
                pthread_join(tid[i], NULL);
        }
    }
    progress_end(&b.prog);
    pthread_mutex_destroy(&b.lock);
    if (!o.quiet && b.n > 1)
        msg("marked %zu of %zu files%s", b.done - b.failed, b.n,
            b.failed ? "; see the errors above" : "");
    st = b.status;
out:
    if (b.jobs != NULL)
        for (i = 0; i < (int)b.n; i++)
            free(b.jobs[i].out);
    free(b.jobs);
    free(tid);
    pathlist_free(&in);
    config_free(&cfg);
    return st;
}
