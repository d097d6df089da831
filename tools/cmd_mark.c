/*
 * cmd_mark.c - `aimark mark`: write the metadata label into files, one at
 * a time, as a batch on several threads, or from stdin to stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
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
    int metadata;                /* write the metadata label */
    int visible;                 /* draw the visible label */
    int watermark;               /* embed the invisible watermark */
    double strength;
    int have_payload;
    mark_payload payload;        /* --payload, else derived per file */
    const char *key_file;
    mark_key *key;               /* loaded from key_file, or NULL */
    mark_ctx *key_ctx;           /* owns key */
    const char *label_text;      /* NULL: the library's default */
    int label_force;
    int position;
    double label_height;         /* 0: default */
    const char *font;
    uint32_t text_rgb;
    uint32_t plate_rgb;
    double plate_opacity;        /* < 0: automatic */
    int audio_where;             /* MARK_AUDIBLE_*: the rhythm label */
    int audio_mix;               /* enum mark_audible_mix */
    int audio_voice;             /* the spoken label, not the rhythm */
    mark_raw_format raw;         /* stdin is headerless PCM (encoding 0:
                                    it is not) */
    const char *carrier;         /* --carrier, or NULL */
    mark_video_options video;    /* --crf, --preset, --video-codec,
                                    --label-duration */
    int video_set;
    int format;                  /* --format: enum mark_format, 0 auto */
    int text_where;              /* --text-label: MARK_TEXT_LABEL_* */
    const char *encoding;        /* --encoding, or NULL (UTF-8) */
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

static int make_visible(mark_ctx *ctx, const mark_opts *o,
                        mark_visible **v);
static void json_report(const job *j, const char *format,
                        const mark_label *l, const char *error,
                        const mark_box *ink, const mark_media_info *info,
                        const char *wm, const mark_payload *wmp,
                        const mark_opts *audible, const mark_opts *text);

static void usage_mark(FILE *f)
{
    fprintf(f,
"usage: aimark mark [options] INPUT... [-o OUTPUT]\n"
"\n"
"Label content as GB 45438 asks.  Images (PNG, JPEG): the visible\n"
"\"AI\xe7\x94\x9f\xe6\x88\x90\" label drawn in a corner, an invisible watermark and the\n"
"metadata label (the AIGC record) in the XMP.  Audio (WAV, FLAC, Ogg\n"
"Vorbis, Ogg Opus, MP3): the rhythm label (short long short short), an\n"
"invisible watermark (from 2 s of audio) and the metadata label (a WAV\n"
"AIGC chunk, a FLAC or Ogg Vorbis comment AIGC=, an MP3 ID3v2 TXXX frame\n"
"AIGC).  Text (UTF-8 plain text, Markdown): a label line at the start\n"
"and/or end, an invisible watermark, and in Markdown the metadata label\n"
"in the YAML front matter; a pipe streams through as it is written.\n"
"INPUT '-' reads stdin; the format is recognised from the content.\n"
"PDF and Office documents are read by 'aimark verify', not marked.\n"
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
"      --label TEXT        visible label text (default \"AI\xe7\x94\x9f\xe6\x88\x90\"); it must\n"
"                          hold an AI element and a generation element\n"
"      --label-force       accept label text lacking an element (warns)\n"
"      --position POS      bottom-right (default), bottom-left, top-right,\n"
"                          top-left, bottom, top, left, right\n"
"      --label-height F    text height as a fraction of the shortest side,\n"
"                          0.05 to 0.25, or a percentage (default 6%%)\n"
"      --font FILE         font file for the label (default: fontconfig's\n"
"                          bold CJK sans-serif)\n"
"      --label-color RGB   text colour, hex RRGGBB (default ffffff)\n"
"      --plate-color RGB   backing plate colour, hex RRGGBB or auto\n"
"      --plate-opacity X   plate opacity 0.05-1, or auto (default)\n"
"      --no-visible        no visible label (with --no-watermark: metadata\n"
"                          only, lossless)\n"
"      --no-watermark      no invisible watermark\n"
"      --strength X        watermark strength, 0.25 to 4 (default 1)\n"
"      --payload HEX       watermark payload, 16 hex digits (default:\n"
"                          derived from ContentProducer and ProduceID)\n"
"      --key FILE          private watermark key (aimark keygen); default:\n"
"                          the public key anyone can verify with\n"
"      --no-metadata       no metadata label: the visible label only\n"
"      --audio-label WHERE audio: the rhythm label at the start (default),\n"
"                          end, both, or none (--no-visible: none)\n"
"      --audio-label-kind K rhythm (default: short long short short) or\n"
"                          voice (a spoken Mandarin sentence, ~4.4 s)\n"
"      --audio-label-mix M overlay (default: over the content, ducked;\n"
"                          the length is kept) or extend (added before or\n"
"                          after the content)\n"
"      --crf N             video: the re-encode's quality, 0-63 (default 18,\n"
"                          VP9 31); a label alone is a remux, no re-encode\n"
"      --preset NAME       video: the encoder's preset (default medium)\n"
"      --video-codec NAME  video: an FFmpeg encoder (default libx264,\n"
"                          libvpx-vp9 for WebM)\n"
"      --label-duration S  video: the label on the first S seconds, at\n"
"                          least 2 (default 3), or all\n"
"      --video-label WHERE video: the label on the opening frames (start,\n"
"                          default) or on the closing ones too (both)\n"
"      --carrier NAME      where the metadata label goes, if the format\n"
"                          has a choice: WAV wav-chunk (default, an AIGC\n"
"                          chunk) or wav-info (LIST/INFO, shown by ffprobe\n"
"                          and mediainfo)\n"
"      --format F          read the input as text or markdown (text has\n"
"                          no magic bytes; auto: from the content)\n"
"      --text-label WHERE  text: the label line at the start (default),\n"
"                          end, both, or none (--no-visible: none); the\n"
"                          text is --label (default \"\xe6\x9c\xac\xe5\x86\x85\xe5\xae\xb9"
"\xe7\x94\xb1\xe4\xba\xba\xe5\xb7\xa5\xe6\x99\xba\xe8\x83\xbd\xe7\x94\x9f\xe6\x88\x90\";\n"
"                          for English text e.g. 'AI\xe7\x94\x9f\xe6\x88\x90 / AI-generated')\n"
"      --encoding NAME     text in another encoding (e.g. GB18030),\n"
"                          converted with iconv and written back in it\n"
"      --raw-format F      stdin is headerless PCM: u8, s16le, s24le, s32le,\n"
"                          f32le or f64le (with --rate and --channels);\n"
"                          the output is WAV\n"
"      --rate HZ           raw PCM: frames a second\n"
"      --channels N        raw PCM: channels\n"
"      --limit NAME=VALUE  change a limit on hostile input (repeatable;\n"
"                          or limit.NAME in the config file): input-bytes,\n"
"                          metadata-bytes, pixels, dimension, chunks,\n"
"                          label-bytes, duration (s), frames, text-bytes\n"
"  -h, --help              this help\n");
}

static int parse_rgb(const char *s, uint32_t *out)
{
    char *end;
    unsigned long v;

    if (*s == '#')
        s++;
    if (strlen(s) != 6)
        return -1;
    v = strtoul(s, &end, 16);
    if (*end != '\0')
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* 0.06 or 6% */
static double parse_fraction(const char *s)
{
    char *end;
    double v = strtod(s, &end);

    if (end == s)
        return -1;
    if (*end == '%') {
        v /= 100;
        end++;
    }
    return *end == '\0' ? v : -1;
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
                        const mark_label *l, const char *error,
                        const mark_box *ink, const mark_media_info *info,
                        const char *wm, const mark_payload *wmp,
                        const mark_opts *audible, const mark_opts *text)
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
    if (ink != NULL) {
        uint32_t s = info->width < info->height ? info->width : info->height;

        fprintf(stdout, ",\"visible\":{\"ink\":[%u,%u,%u,%u],"
                "\"height_ratio\":%.4f}", ink->x, ink->y, ink->w, ink->h,
                (double)ink->h / s);
    }
    if (audible != NULL) {
        static const char *const where[4] = { "none", "start", "end",
                                              "both" };

        fprintf(stdout, ",\"audible\":{\"where\":\"%s\",\"mix\":\"%s\"}",
                where[audible->audio_where & 3],
                audible->audio_mix == MARK_AUDIBLE_EXTEND ? "extend"
                                                          : "overlay");
    }
    if (text != NULL) {
        static const char *const where[4] = { "none", "start", "end",
                                              "both" };

        fprintf(stdout, ",\"text_label\":{\"where\":\"%s\",\"text\":",
                where[text->text_where & 3]);
        json_put_string(stdout, text->label_text != NULL
                                    ? text->label_text
                                    : MARK_TEXT_LABEL_DEFAULT);
        fputc('}', stdout);
        if (info->format == MARK_FORMAT_TEXT && l != NULL)
            fputs(",\"metadata\":{\"written\":false,\"note\":\"plain "
                  "text has no metadata carrier: the label above gives the "
                  "watermark payload only (Markdown carries it in its front "
                  "matter)\"}", stdout);
    }
    if (wm != NULL && wm[0] == 'a') {
        fputs(",\"watermark\":{\"embedded\":false,\"note\":\"no "
              "watermark for this audio format yet\"}", stdout);
    } else if (wm != NULL && wm[0] == '\0') {
        fputs(info->type == MARK_MEDIA_AUDIO
              ? ",\"watermark\":{\"embedded\":false,\"note\":\"audio "
                "under 2 seconds\"}"
              : info->type == MARK_MEDIA_VIDEO
              ? ",\"watermark\":{\"embedded\":false,\"note\":\"frames "
                "under 128 pixels a side and no soundtrack of 2 seconds or "
                "more\"}"
              : info->type == MARK_MEDIA_TEXT
              ? ",\"watermark\":{\"embedded\":false,\"note\":\"no "
                "place in the text took a copy of the watermark (too short, "
                "or code only)\"}"
              : ",\"watermark\":{\"embedded\":false,\"note\":\"image "
                "under 128 pixels a side\"}", stdout);
    } else if (wm != NULL && wm[0] == 'c') {
        fputs(",\"watermark\":{\"embedded\":false,\"note\":\"8-bit "
              "samples: rounding to 256 levels would wipe the watermark "
              "out\"}", stdout);
    } else if (wm != NULL && wm[0] == 'k') {
        fputs(",\"watermark\":{\"embedded\":false,\"kept\":true,\"note\":"
              "\"the file already carries a watermark aimark embedded; it "
              "is kept, not embedded again\"}", stdout);
    } else if (wm != NULL) {
        char hex[17];

        mark_payload_to_hex(wmp, hex);
        fprintf(stdout, ",\"watermark\":{\"embedded\":true,\"scheme\":"
                "\"%s\",\"payload\":\"%s\"%s}",
                info->type == MARK_MEDIA_IMAGE ? "img-v1"
                : info->type == MARK_MEDIA_VIDEO ? "vid-v1"
                : info->type == MARK_MEDIA_TEXT ? "txt-v1" : "aud-v3", hex,
                info->type == MARK_MEDIA_VIDEO
                    ? ",\"note\":\"in the frames, and aud-v3 in a "
                      "soundtrack of 2 s or more\"" : "");
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
static int mark_one(mark_ctx *ctx, const mark_opts *o, mark_visible *v,
                    const job *j)
{
    static const mark_io in_io = { fd_read_cb, NULL, NULL, NULL };
    static const mark_io out_io = { NULL, fd_write_cb, NULL, NULL };
    mark_media *m = NULL;
    mark_label *l = NULL;
    mark_media_info info;
    mark_payload wmp;
    char err[1200];
    const char *fmt = NULL;
    int rc, st = 0, fd0 = 0, fd1 = 1, wm_none = 0;
    unsigned flags = (o->force || o->in_place) ? MARK_SAVE_OVERWRITE : 0;
    const char *shown_in = strcmp(j->in, "-") == 0 ? "<stdin>" : j->in;

    err[0] = '\0';
    if (strcmp(j->in, "-") == 0 && o->raw.encoding != 0)
        rc = mark_media_open_raw(ctx, &m, &in_io, &fd0, &o->raw);
    else if (strcmp(j->in, "-") == 0)
        rc = mark_media_open_io(ctx, &m, &in_io, &fd0);
    else
        rc = mark_media_open_file(ctx, &m, j->in);
    if (rc < 0) {
        snprintf(err, sizeof err, "%s", mark_ctx_errmsg(ctx)[0]
                 ? mark_ctx_errmsg(ctx) : mark_strerror(rc));
        msg("cannot read '%s': %s%s", shown_in, err, utf8_hint(err));
        st = exit_for_input(rc);
        goto done;
    }
    mark_media_get_info(m, &info);
    fmt = mark_format_name(info.format);
    if (o->metadata) {
        st = make_label(ctx, o, m, shown_in, &l);
        if (st != 0) {
            snprintf(err, sizeof err, "no label could be built");
            goto done;
        }
        /* plain text has no carrier: the label only gives the payload */
        rc = info.format == MARK_FORMAT_TEXT ? MARK_OK
                                             : mark_media_set_label(m, l);
        if (rc == MARK_OK && o->carrier != NULL)
            rc = mark_media_set_carrier(m, o->carrier);
    } else {
        rc = MARK_OK;
    }
    if (rc == MARK_OK && o->video_set && info.type == MARK_MEDIA_VIDEO)
        rc = mark_media_set_video_options(m, &o->video);
    if (rc == MARK_OK && info.type == MARK_MEDIA_TEXT) {
        if (o->visible && o->text_where != MARK_TEXT_LABEL_NONE)
            rc = mark_media_set_text_label(m, o->text_where, o->label_text,
                                           o->label_force ? MARK_TEXT_FORCE
                                                          : 0);
    } else if (rc == MARK_OK && info.type == MARK_MEDIA_AUDIO) {
        /* audio: the rhythm label stands for the visible one */
        if (o->visible)
            rc = mark_media_set_audible(m, o->audio_where |
                                        (o->audio_voice ? MARK_AUDIBLE_VOICE
                                                        : 0),
                                        o->audio_mix);
    } else if (rc == MARK_OK && v != NULL) {
        rc = mark_media_set_visible(m, v);
    }
    if (rc == MARK_OK && o->watermark) {
        /* the payload: given, derived from the label, or (with no label
         * to tie it to) random, and reported */
        if (o->have_payload)
            wmp = o->payload;
        else if (l != NULL)
            rc = mark_payload_derive(l, &wmp);
        else if (getrandom(wmp.bytes, sizeof wmp.bytes, 0) !=
                 (ssize_t)sizeof wmp.bytes)
            rc = MARK_EIO;
        if (rc == MARK_OK)
            rc = mark_media_set_watermark(m, o->key, &wmp, o->strength);
        if (rc == MARK_EUNSUPPORTED && info.type == MARK_MEDIA_AUDIO) {
            /* an audio format without the watermark: the other marks */
            if (o->verbose)
                msg("'%s': no watermark (%s)", shown_in,
                    mark_ctx_errmsg(ctx));
            wm_none = 1;
            rc = MARK_OK;
        }
    }
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
            /* the input's own metadata cannot take the label (or a
             * piped text turned out not to be UTF-8) */
            msg("cannot mark '%s': %s%s", shown_in, err, utf8_hint(err));
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
    if (o->json) {
        mark_box ink;
        int audio = m != NULL && info.type == MARK_MEDIA_AUDIO;
        int text = m != NULL && info.type == MARK_MEDIA_TEXT;
        int swap = mark_media_orientation(m) >= 5;
        int drew = st == 0 && v != NULL && !audio && !text &&
                   mark_visible_layout(v, swap ? info.height : info.width,
                                       swap ? info.width : info.height,
                                       NULL, &ink) == MARK_OK;

        json_report(j, fmt, st == 0 ? l : NULL, st == 0 ? NULL : err,
                    drew ? &ink : NULL, &info,
                    st == 0 && o->watermark
                        ? (wm_none ? "a"
                           : mark_media_watermark_skipped(m) == 1 ? ""
                           : mark_media_watermark_skipped(m) == 2 ? "k"
                           : mark_media_watermark_skipped(m) == 3 ? "c"
                                                                  : "x")
                        : NULL, &wmp,
                    st == 0 && audio && o->visible ? o : NULL,
                    st == 0 && text ? o : NULL);
    }
    mark_label_free(l);
    mark_media_free(m);
    return st;
}

static void one_progress(void *user, double done)
{
    progress_fraction(user, done);
}

static void *worker(void *arg)
{
    batch *b = arg;
    mark_ctx *ctx = NULL;
    mark_visible *v = NULL;
    progress one;
    size_t i;
    int st;

    if (mark_ctx_new(&ctx, NULL) != MARK_OK ||
        setup_ctx(ctx, b->o->format, b->o->encoding) != 0 ||
        (b->o->visible && b->o->format != MARK_FORMAT_TEXT &&
         b->o->format != MARK_FORMAT_MARKDOWN &&
         make_visible(ctx, b->o, &v) != MARK_OK)) {
        msg("cannot set up: %s", ctx != NULL ? mark_ctx_errmsg(ctx)
                                              : "out of memory");
        mark_ctx_free(ctx);
        pthread_mutex_lock(&b->lock);
        b->status = EXIT_INTERNAL;
        pthread_mutex_unlock(&b->lock);
        return NULL;
    }
    /* one long file (a video) on a terminal: its own progress bar */
    progress_init(&one, 1, b->n == 1 && !b->o->quiet && !b->o->json &&
                               isatty(2));
    if (one.enabled)
        mark_ctx_set_progress(ctx, one_progress, &one);
    for (;;) {
        pthread_mutex_lock(&b->lock);
        i = b->next < b->n ? b->next++ : b->n;
        pthread_mutex_unlock(&b->lock);
        if (i >= b->n)
            break;
        st = mark_one(ctx, b->o, v, &b->jobs[i]);
        pthread_mutex_lock(&b->lock);
        b->done++;
        if (st != 0)
            b->failed++;
        if (st > b->status)
            b->status = st;
        progress_update(&b->prog, b->done, b->failed);
        pthread_mutex_unlock(&b->lock);
    }
    progress_end(&one);
    mark_visible_free(v);
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
    OPT_AUDIO_LABEL, OPT_AUDIO_MIX, OPT_RAW_FORMAT, OPT_RATE, OPT_CHANNELS,
    OPT_CARRIER, OPT_AUDIO_KIND, OPT_PAYLOAD, OPT_KEY, OPT_LABEL, OPT_LABEL_FORCE, OPT_POSITION,
    OPT_LABEL_HEIGHT, OPT_FONT, OPT_LABEL_COLOR, OPT_PLATE_COLOR,
    OPT_PLATE_OPACITY, OPT_STRENGTH, OPT_FORMAT, OPT_TEXT_LABEL,
    OPT_CRF, OPT_PRESET, OPT_VIDEO_CODEC, OPT_LABEL_DURATION, OPT_VIDEO_LABEL,
    OPT_ENCODING, OPT_LIMIT
};

/* A renderer from the options; errors are reported with msg(). */
static int make_visible(mark_ctx *ctx, const mark_opts *o, mark_visible **v)
{
    int rc = mark_visible_new(ctx, v);

    if (rc == MARK_OK && o->label_text != NULL)
        rc = mark_visible_set_text(*v, o->label_text,
                                   o->label_force ? MARK_TEXT_FORCE : 0);
    if (rc == MARK_OK && o->font != NULL)
        rc = mark_visible_set_font(*v, o->font);
    if (rc == MARK_OK)
        rc = mark_visible_set_position(*v, o->position);
    if (rc == MARK_OK && o->label_height > 0)
        rc = mark_visible_set_height(*v, o->label_height);
    if (rc == MARK_OK)
        rc = mark_visible_set_colors(*v, o->text_rgb, o->plate_rgb,
                                     o->plate_opacity);
    if (rc < 0) {
        mark_visible_free(*v);
        *v = NULL;
    }
    return rc;
}

/* Check the visible-label options once, font included, before any file
 * is touched. */
static int check_visible(const mark_opts *o)
{
    mark_ctx *ctx;
    mark_visible *v = NULL;
    char why[512];
    int rc;

    if (o->label_text != NULL &&
        mark_explicit_text_check(o->label_text, why, sizeof why) != 0) {
        if (!o->label_force) {
            msg("%s; use --label-force to draw it anyway", why);
            return -1;
        }
        msg("warning: %s", why);
    }
    /* text only: no renderer, no font (a long text label need not fit
     * an image) */
    if (o->format == MARK_FORMAT_TEXT || o->format == MARK_FORMAT_MARKDOWN)
        return 0;
    if (mark_ctx_new(&ctx, NULL) != MARK_OK)
        return -1;
    rc = make_visible(ctx, o, &v);
    if (rc == MARK_OK)
        rc = mark_visible_layout(v, 1000, 1000, NULL, NULL);
    if (rc < 0)
        msg("%s", mark_ctx_errmsg(ctx)[0] ? mark_ctx_errmsg(ctx)
                                           : mark_strerror(rc));
    mark_visible_free(v);
    mark_ctx_free(ctx);
    return rc < 0 ? -1 : 0;
}

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
        { "label", required_argument, NULL, OPT_LABEL },
        { "label-force", no_argument, NULL, OPT_LABEL_FORCE },
        { "position", required_argument, NULL, OPT_POSITION },
        { "label-height", required_argument, NULL, OPT_LABEL_HEIGHT },
        { "font", required_argument, NULL, OPT_FONT },
        { "label-color", required_argument, NULL, OPT_LABEL_COLOR },
        { "plate-color", required_argument, NULL, OPT_PLATE_COLOR },
        { "plate-opacity", required_argument, NULL, OPT_PLATE_OPACITY },
        { "strength", required_argument, NULL, OPT_STRENGTH },
        { "key", required_argument, NULL, OPT_KEY },
        { "audio-label", required_argument, NULL, OPT_AUDIO_LABEL },
        { "audio-label-mix", required_argument, NULL, OPT_AUDIO_MIX },
        { "raw-format", required_argument, NULL, OPT_RAW_FORMAT },
        { "rate", required_argument, NULL, OPT_RATE },
        { "channels", required_argument, NULL, OPT_CHANNELS },
        { "carrier", required_argument, NULL, OPT_CARRIER },
        { "crf", required_argument, NULL, OPT_CRF },
        { "preset", required_argument, NULL, OPT_PRESET },
        { "video-codec", required_argument, NULL, OPT_VIDEO_CODEC },
        { "label-duration", required_argument, NULL, OPT_LABEL_DURATION },
        { "video-label", required_argument, NULL, OPT_VIDEO_LABEL },
        { "audio-label-kind", required_argument, NULL, OPT_AUDIO_KIND },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "text-label", required_argument, NULL, OPT_TEXT_LABEL },
        { "encoding", required_argument, NULL, OPT_ENCODING },
        { "limit", required_argument, NULL, OPT_LIMIT },
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
    o.metadata = 1;
    o.visible = 1;
    o.watermark = 1;
    o.strength = 1.0;
    o.video.crf = -1;
    o.position = MARK_POS_BOTTOM_RIGHT;
    o.text_rgb = 0xffffff;
    o.plate_rgb = MARK_COLOR_AUTO;
    o.plate_opacity = -1;
    o.audio_where = MARK_AUDIBLE_START;
    o.audio_mix = MARK_AUDIBLE_OVERLAY;
    o.text_where = MARK_TEXT_LABEL_START;
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
        case OPT_NO_VISIBLE: o.visible = 0; break;
        case OPT_NO_WATERMARK: o.watermark = 0; break;
        case OPT_NO_METADATA: o.metadata = 0; break;
        case OPT_LABEL: o.label_text = optarg; break;
        case OPT_LABEL_FORCE: o.label_force = 1; break;
        case OPT_FONT: o.font = optarg; break;
        case OPT_POSITION:
            o.position = mark_position_parse(optarg);
            if (o.position < 0) {
                msg("unknown position '%s' (bottom-right, bottom-left, "
                    "top-right, top-left, bottom, top, left, right)",
                    optarg);
                goto out;
            }
            break;
        case OPT_LABEL_HEIGHT:
            o.label_height = parse_fraction(optarg);
            if (!(o.label_height >= 0.05 && o.label_height <= 0.25)) {
                msg("--label-height wants 0.05 to 0.25 of the shortest "
                    "side (5%% is the rule's floor), not '%s'", optarg);
                goto out;
            }
            break;
        case OPT_LABEL_COLOR:
            if (parse_rgb(optarg, &o.text_rgb) != 0) {
                msg("--label-color wants a hex colour RRGGBB, not '%s'",
                    optarg);
                goto out;
            }
            break;
        case OPT_PLATE_COLOR:
            if (strcmp(optarg, "auto") == 0) {
                o.plate_rgb = MARK_COLOR_AUTO;
            } else if (parse_rgb(optarg, &o.plate_rgb) != 0) {
                msg("--plate-color wants a hex colour RRGGBB or auto, not "
                    "'%s'", optarg);
                goto out;
            }
            break;
        case OPT_PLATE_OPACITY:
            if (strcmp(optarg, "auto") == 0) {
                o.plate_opacity = -1;
            } else {
                o.plate_opacity = parse_fraction(optarg);
                if (!(o.plate_opacity >= 0.05 && o.plate_opacity <= 1)) {
                    msg("--plate-opacity wants 0.05 to 1 or auto, not "
                        "'%s'", optarg);
                    goto out;
                }
            }
            break;
        case OPT_PAYLOAD:
            if (mark_payload_from_hex(&o.payload, optarg) != MARK_OK) {
                msg("--payload wants 16 hex digits (64 bits), not '%s'",
                    optarg);
                goto out;
            }
            o.have_payload = 1;
            break;
        case OPT_KEY: o.key_file = optarg; break;
        case OPT_AUDIO_LABEL:
            if (strcmp(optarg, "start") == 0)
                o.audio_where = MARK_AUDIBLE_START;
            else if (strcmp(optarg, "end") == 0)
                o.audio_where = MARK_AUDIBLE_END;
            else if (strcmp(optarg, "both") == 0)
                o.audio_where = MARK_AUDIBLE_BOTH;
            else if (strcmp(optarg, "none") == 0)
                o.audio_where = MARK_AUDIBLE_NONE;
            else {
                msg("--audio-label wants start, end, both or none, not "
                    "'%s'", optarg);
                goto out;
            }
            break;
        case OPT_RAW_FORMAT: {
            static const char *const names[] = { "", "u8", "s16le", "s24le",
                                                 "s32le", "f32le", "f64le" };
            int k;

            o.raw.encoding = 0;
            for (k = 1; k <= MARK_RAW_F64LE; k++)
                if (strcmp(optarg, names[k]) == 0)
                    o.raw.encoding = k;
            if (o.raw.encoding == 0) {
                msg("--raw-format wants u8, s16le, s24le, s32le, f32le or "
                    "f64le, not '%s'", optarg);
                goto out;
            }
            break;
        }
        case OPT_CARRIER: o.carrier = optarg; break;
        case OPT_CRF: {
            char *end;
            long n = strtol(optarg, &end, 10);

            if (*optarg == '\0' || *end != '\0' || n < 0 || n > 63) {
                msg("--crf wants 0 to 63, not '%s'", optarg);
                goto out;
            }
            o.video.crf = (int)n;
            o.video_set = 1;
            break;
        }
        case OPT_PRESET: o.video.preset = optarg; o.video_set = 1; break;
        case OPT_VIDEO_CODEC:
            o.video.encoder = optarg;
            o.video_set = 1;
            break;
        case OPT_LABEL_DURATION:
            if (strcmp(optarg, "all") == 0) {
                o.video.label_seconds = -1;
            } else {
                char *end;
                double s = strtod(optarg, &end);

                if (*optarg == '\0' || *end != '\0' ||
                    !(s >= 2 && s <= 86400)) {
                    msg("--label-duration wants seconds, at least 2, or "
                        "all, not '%s'", optarg);
                    goto out;
                }
                o.video.label_seconds = s;
            }
            o.video_set = 1;
            break;
        case OPT_VIDEO_LABEL:
            /* the rule wants the opening frames: the end only as well */
            if (strcmp(optarg, "start") == 0 || strcmp(optarg, "both") == 0)
                o.video.label_end = optarg[0] == 'b';
            else {
                msg("--video-label wants start or both (the opening frames "
                    "must carry the label), not '%s'", optarg);
                goto out;
            }
            o.video_set = 1;
            break;
        case OPT_FORMAT:
            o.format = parse_format(optarg);
            if (o.format < 0) {
                msg("--format wants text, markdown or auto, not '%s'",
                    optarg);
                goto out;
            }
            break;
        case OPT_ENCODING: o.encoding = optarg; break;
        case OPT_LIMIT:
            if (limit_arg(optarg) != 0)
                return EXIT_USAGE;
            break;
        case OPT_TEXT_LABEL:
            if (strcmp(optarg, "start") == 0)
                o.text_where = MARK_TEXT_LABEL_START;
            else if (strcmp(optarg, "end") == 0)
                o.text_where = MARK_TEXT_LABEL_END;
            else if (strcmp(optarg, "both") == 0)
                o.text_where = MARK_TEXT_LABEL_BOTH;
            else if (strcmp(optarg, "none") == 0)
                o.text_where = MARK_TEXT_LABEL_NONE;
            else {
                msg("--text-label wants start, end, both or none, not '%s'",
                    optarg);
                goto out;
            }
            break;
        case OPT_AUDIO_KIND:
            if (strcmp(optarg, "rhythm") == 0 || strcmp(optarg, "voice") == 0)
                o.audio_voice = optarg[0] == 'v';
            else {
                msg("--audio-label-kind wants rhythm or voice, not '%s'",
                    optarg);
                goto out;
            }
            break;
        case OPT_RATE:
            v = parse_count(optarg, 1000000);
            if (v < 1) {
                msg("--rate wants frames a second (1 to 1000000), not '%s'",
                    optarg);
                goto out;
            }
            o.raw.rate = (uint32_t)v;
            break;
        case OPT_CHANNELS:
            v = parse_count(optarg, 64);
            if (v < 1) {
                msg("--channels wants 1 to 64, not '%s'", optarg);
                goto out;
            }
            o.raw.channels = (int)v;
            break;
        case OPT_AUDIO_MIX:
            if (strcmp(optarg, "overlay") == 0)
                o.audio_mix = MARK_AUDIBLE_OVERLAY;
            else if (strcmp(optarg, "extend") == 0)
                o.audio_mix = MARK_AUDIBLE_EXTEND;
            else {
                msg("--audio-label-mix wants overlay or extend, not '%s'",
                    optarg);
                goto out;
            }
            break;
        case OPT_STRENGTH:
            o.strength = parse_fraction(optarg);
            if (!(o.strength >= 0.25 && o.strength <= 4)) {
                msg("--strength wants 0.25 to 4 (1 is the default), not "
                    "'%s'", optarg);
                goto out;
            }
            break;
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
    if (o.raw.encoding != 0 && (o.raw.rate == 0 || o.raw.channels == 0)) {
        msg("--raw-format needs --rate and --channels");
        goto out;
    }
    if ((o.raw.encoding != 0 || o.raw.rate || o.raw.channels) &&
        (in.n != 1 || strcmp(in.v[0], "-") != 0)) {
        msg("--raw-format, --rate and --channels describe stdin: give the "
            "one input '-'");
        goto out;
    }
    if (o.raw.encoding == 0 && (o.raw.rate || o.raw.channels)) {
        msg("--rate and --channels go with --raw-format");
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
    if (!o.metadata && !o.visible && !o.watermark) {
        msg("--no-metadata, --no-visible and --no-watermark leave nothing "
            "to write");
        goto out;
    }
    if (o.key_file != NULL && load_key(o.key_file, &o.key_ctx, &o.key) != 0) {
        st = EXIT_KEY;
        goto out;
    }
    if (o.metadata && o.producer == NULL && o.propagator == NULL) {
        msg("no producer code: give --producer CODE, set AIMARK_PRODUCER, "
            "or put 'producer = CODE' in the config file");
        goto out;
    }
    if (o.visible && check_visible(&o) != 0)
        goto out;
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
    if (o.metadata && check_fields(&o) != 0)
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
    if (o.encoding != NULL) {
        mark_ctx *ectx = NULL;
        int bad = mark_ctx_new(&ectx, NULL) != MARK_OK ||
                  setup_ctx(ectx, o.format, o.encoding) != 0;

        mark_ctx_free(ectx);
        if (bad)
            goto out;
    }
    /* text may go to a terminal: the reader sees it as it is written */
    for (i = 0; i < (int)b.n && o.format == MARK_FORMAT_UNKNOWN; i++)
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
    free_key(o.key_ctx, o.key);
    return st;
}
