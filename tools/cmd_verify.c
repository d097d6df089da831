/*
 * cmd_verify.c - `aimark verify`: report what marks files carry, with the
 * platform verdict, for people or as JSON lines for machines.
 */
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

static void usage_verify(FILE *f)
{
    fprintf(f,
"usage: aimark verify [options] FILE...\n"
"\n"
"Report the marks a file carries (metadata label, watermark, explicit\n"
"label) and the verdict: generated, possibly, suspected, none or error.\n"
"PDF and Office documents (DOCX, XLSX, PPTX) are read for the metadata\n"
"label.  FILE '-' reads stdin.\n"
"\n"
"      --json              one JSON object per file per line\n"
"      --files-from FILE   read paths from FILE, one a line ('-': stdin)\n"
"      --key FILE          private watermark key (default: the public one)\n"
"      --format F          read the input as text or markdown (text has\n"
"                          no magic bytes; auto: from the content)\n"
"      --encoding NAME     text in another encoding (e.g. GB18030)\n"
"  -q, --quiet             no report (not even --json); the exit status\n"
"                          tells\n"
"      --limit NAME=VALUE  change a limit on hostile input (repeatable):\n"
"                          input-bytes, metadata-bytes, pixels,\n"
"                          dimension, chunks,\n"
"                          label-bytes, duration (s), frames, text-bytes\n"
"  -h, --help              this help\n"
"\n"
"Exit status: 0 every file carries a mark, 1 at least one carries none,\n"
"2 usage error, 3 a file could not be read.\n");
}

static const char *sev_name(int s)
{
    return s == MARK_SEV_ERROR ? "error"
         : s == MARK_SEV_WARNING ? "warning" : "info";
}

static void human_report(const char *name, mark_media *m)
{
    const mark_problems *pr = mark_media_problems(m);
    mark_media_info info;
    mark_explicit_info ex;
    mark_watermark_info wi;
    size_t i, n = mark_media_label_count(m);
    int f;

    mark_media_get_info(m, &info);
    printf("%s: %s\n", name, mark_verdict_name(mark_media_verdict(m)));
    if (info.format == MARK_FORMAT_PDF || info.format == MARK_FORMAT_ZIP) {
        /* documents: "zip docx document", "pdf document, 3 pages" */
        printf("  format: %s%s%s document", mark_format_name(info.format),
               info.codec ? " " : "", info.codec ? info.codec : "");
        if (info.format == MARK_FORMAT_PDF)
            printf(", %lld page%s", (long long)info.frames,
                   info.frames == 1 ? "" : "s");
        printf("\n");
    } else if (info.type == MARK_MEDIA_AUDIO) {
        /* the codec where the format does not say it ("ogg opus") */
        const char *fmt = mark_format_name(info.format), *codec =
            info.codec != NULL && strcmp(info.codec, fmt) != 0 ? info.codec
                                                               : NULL;

        printf("  format: %s%s%s audio, %d channel%s at %u Hz, %.2f s\n",
               fmt, codec ? " " : "", codec ? codec : "", info.channels,
               info.channels == 1 ? "" : "s", info.sample_rate,
               info.sample_rate ? (double)info.frames / info.sample_rate
                                : 0.0);
    } else if (info.type == MARK_MEDIA_VIDEO) {
        if (info.codec != NULL)
            printf("  format: %s video (%s), %ux%u, %.2f s",
                   mark_format_name(info.format), info.codec, info.width,
                   info.height, info.duration);
        else
            printf("  format: %s, no video stream, %.2f s",
                   mark_format_name(info.format), info.duration);
        if (info.sample_rate > 0)
            printf(", soundtrack %d channel%s at %u Hz", info.channels,
                   info.channels == 1 ? "" : "s", info.sample_rate);
        printf("\n");
    } else if (info.type == MARK_MEDIA_TEXT && info.encoding != NULL) {
        printf("  format: %s text, ", info.format == MARK_FORMAT_MARKDOWN
                                      ? "markdown" : "plain");
        if (info.bytes >= 0)
            printf("%lld bytes, ", (long long)info.bytes);
        if (info.lines >= 0)
            printf("%lld line%s, ", (long long)info.lines,
                   info.lines == 1 ? "" : "s");
        printf("%s, line ends %s\n", info.encoding,
               info.line_ends != NULL ? info.line_ends : "unknown");
    } else {
        printf("  format: %s %s, %ux%u\n", mark_format_name(info.format),
               mark_media_type_name(info.type), info.width, info.height);
    }
    printf("  metadata: %zu label%s%s\n", n, n == 1 ? "" : "s",
           n > 1 ? " (a file must carry exactly one)" : "");
    for (i = 0; i < n; i++) {
        mark_found_label fl;

        mark_media_label_get(m, i, &fl);
        printf("    [%zu] %s: %s, %s JSON\n", i + 1, fl.carrier, fl.location,
               fl.form == MARK_FORM_BARE ? "bare"
               : fl.form == MARK_FORM_WRAPPED ? "wrapped" : "invalid");
        if (fl.label == NULL) {
            printf("        raw: %.200s\n", fl.raw);
            continue;
        }
        for (f = 0; f < MARK_FIELD_COUNT_; f++) {
            const char *v = mark_label_get(fl.label, f);

            printf("        %-18s %s\n", mark_field_name(f),
                   v == NULL ? "(missing)" : v[0] == '\0' ? "\"\"" : v);
        }
    }
    if (mark_problems_count(pr) > 0) {
        printf("  findings:\n");
        for (i = 0; i < mark_problems_count(pr); i++) {
            mark_problem p;

            mark_problems_get(pr, i, &p);
            if (p.label_index >= 0)
                printf("    %s [%d] %s: %s\n", sev_name(p.severity),
                       p.label_index + 1, p.code, p.message);
            else
                printf("    %s %s: %s\n", sev_name(p.severity), p.code,
                       p.message);
        }
    }
    mark_media_watermark(m, &wi);
    if (!wi.checked) {
        printf("  watermark: not checked (%s)\n",
               wi.note != NULL ? wi.note : "no detector for this format yet");
    } else if (!wi.found && wi.partial) {
        printf("  watermark: PARTIAL or damaged %s mark: its code points "
               "are there, but no whole copy passes its check (the text was "
               "cut too short or changed)\n", wi.scheme);
    } else if (!wi.found) {
        /* a video's frames carry vid-v1, its soundtrack aud-v3 */
        if (info.type == MARK_MEDIA_VIDEO)
            printf("  watermark: none found (%s%s%s)\n",
                   info.width > 0 ? "vid-v1 in the frames" : "",
                   info.width > 0 && info.sample_rate > 0 ? ", " : "",
                   info.sample_rate > 0 ? "aud-v3 in the soundtrack" : "");
        else
            printf("  watermark: none found (%s)\n", wi.scheme);
    } else {
        char hex[17];

        mark_payload_to_hex(&wi.payload, hex);
        printf("  watermark: %s payload %s, score %.2f, %s (false-positive "
               "bound %.0e)\n", wi.scheme, hex, wi.score,
               wi.matches_metadata < 0 ? "no label to compare with"
               : wi.matches_metadata ? "matches the metadata label"
                                     : "CONTRADICTS the metadata label",
               wi.false_positive);
    }
    mark_media_explicit(m, &ex);
    if (!ex.checked)
        printf("  explicit label: not checked (%s)\n", ex.note);
    else if (!ex.found)
        printf("  explicit label: not found (%s; score %.2f)\n", ex.note,
               ex.score);
    else if (info.type == MARK_MEDIA_AUDIO)
        printf("  audible label: %s at the %s: %s\n", ex.text, ex.position,
               ex.note);
    else if (info.type == MARK_MEDIA_TEXT)
        printf("  explicit label: \"%s\" at the %s (%s)\n", ex.text,
               strcmp(ex.position, "start+end") == 0 ? "start and the end"
                                                     : ex.position,
               ex.note);
    else if (info.type == MARK_MEDIA_VIDEO)
        printf("  explicit label: \"%s\" at %s, text %u px = %.1f%% of "
               "the shortest side (%s 5%%), score %.2f (%s)\n", ex.text,
               ex.position, ex.height_px, ex.height_ratio * 100,
               ex.height_ratio >= 0.05 ? "meets" : "BELOW", ex.score,
               ex.note);
    else
        printf("  explicit label: \"%s\" at %s, text %u px = %.1f%% of "
               "the shortest side (%s 5%%), score %.2f\n", ex.text,
               ex.position, ex.height_px, ex.height_ratio * 100,
               ex.height_ratio >= 0.05 ? "meets" : "BELOW", ex.score);
}

enum { OPT_JSON = 256, OPT_FILES_FROM, OPT_KEY, OPT_FORMAT, OPT_ENCODING,
       OPT_LIMIT };

int cmd_verify(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "json", no_argument, NULL, OPT_JSON },
        { "files-from", required_argument, NULL, OPT_FILES_FROM },
        { "key", required_argument, NULL, OPT_KEY },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "encoding", required_argument, NULL, OPT_ENCODING },
        { "limit", required_argument, NULL, OPT_LIMIT },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    static const mark_io in_io = { fd_read_cb, NULL, NULL, NULL };
    pathlist in = { NULL, 0, 0 };
    const char *files_from = NULL, *key_file = NULL, *encoding = NULL;
    mark_ctx *ctx = NULL, *kctx = NULL;
    mark_key *key = NULL;
    int c, json = 0, quiet = 0, st = EXIT_USAGE, any_none = 0, any_err = 0;
    int format = MARK_FORMAT_UNKNOWN;
    size_t i;

    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_JSON: json = 1; break;
        case OPT_FILES_FROM: files_from = optarg; break;
        case OPT_KEY: key_file = optarg; break;
        case OPT_FORMAT:
            format = parse_format(optarg);
            if (format < 0) {
                msg("--format wants text, markdown or auto, not '%s'",
                    optarg);
                usage_verify(stderr);
                return EXIT_USAGE;
            }
            break;
        case OPT_ENCODING: encoding = optarg; break;
        case OPT_LIMIT:
            if (limit_arg(optarg) != 0)
                return EXIT_USAGE;
            break;
        case 'q': quiet = 1; break;
        case 'h':
            usage_verify(stdout);
            return 0;
        default:
            usage_verify(stderr);
            return EXIT_USAGE;
        }
    }
    for (; optind < argc; optind++)
        if (pathlist_add(&in, argv[optind]) != 0)
            goto oom;
    if (files_from != NULL && pathlist_read(&in, files_from) != 0)
        goto out;
    if (in.n == 0) {
        msg("no input given (see 'aimark verify --help')");
        goto out;
    }
    if (key_file != NULL && load_key(key_file, &kctx, &key) != 0) {
        st = EXIT_KEY;
        goto out;
    }
    if (mark_ctx_new(&ctx, NULL) != MARK_OK)
        goto oom;
    if (setup_ctx(ctx, format, encoding) != 0)
        goto out;
    for (i = 0; i < in.n; i++) {
        const char *p = in.v[i];
        const char *shown = strcmp(p, "-") == 0 ? "<stdin>" : p;
        mark_media *m = NULL;
        char *rep = NULL;
        int rc, fd0 = 0;

        if (strcmp(p, "-") == 0)
            rc = mark_media_open_io(ctx, &m, &in_io, &fd0);
        else
            rc = mark_media_open_file(ctx, &m, p);
        if (rc < 0) {
            const char *why = mark_ctx_errmsg(ctx)[0] ? mark_ctx_errmsg(ctx)
                                                      : mark_strerror(rc);

            msg("cannot read '%s': %s%s", shown, why, utf8_hint(why));
            if (json && !quiet && mark_error_report_json(ctx, shown, MARK_FORMAT_UNKNOWN,
                                               why, &rep) == MARK_OK)
                printf("%s\n", rep);
            mark_free(ctx, rep);
            any_err = 1;
            if (rc == MARK_ENOMEM)
                goto oom;
            continue;
        }
        rc = mark_media_check_explicit(m);
        if (rc < 0 && rc != MARK_ENOMEM) {
            const char *why = mark_ctx_errmsg(ctx)[0] ? mark_ctx_errmsg(ctx)
                                                      : mark_strerror(rc);

            msg("cannot read '%s': %s", shown, why);
            if (json && !quiet &&
                mark_error_report_json(ctx, shown, MARK_FORMAT_UNKNOWN, why,
                                       &rep) == MARK_OK)
                printf("%s\n", rep);
            mark_free(ctx, rep);
            mark_media_free(m);
            any_err = 1;
            continue;
        }
        if (rc == MARK_OK)
            rc = mark_media_detect_watermark(m, key, NULL);
        if (rc == MARK_ENOMEM) {
            mark_media_free(m);
            goto oom;
        }
        if (mark_media_verdict(m) == MARK_VERDICT_NONE)
            any_none = 1;
        if (json && !quiet) {
            if (mark_media_report_json(m, shown, &rep) != MARK_OK) {
                mark_media_free(m);
                goto oom;
            }
            printf("%s\n", rep);
            mark_free(ctx, rep);
        } else if (!quiet) {
            human_report(shown, m);
        }
        fflush(stdout);
        mark_media_free(m);
    }
    st = any_err ? EXIT_INPUT : any_none ? EXIT_NOMARK : EXIT_MARKED;
    goto out;
oom:
    msg("out of memory");
    st = EXIT_INTERNAL;
out:
    mark_ctx_free(ctx);
    free_key(kctx, key);
    pathlist_free(&in);
    return st;
}
