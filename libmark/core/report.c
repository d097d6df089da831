/*
 * report.c - the verifier's verdict and its JSON report.
 *
 * The report's shape is the contract with platforms that parse
 * `aimark verify --json`; keys are only ever added.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"
#include "signal/signal.h"

const char *mark_verdict_name(int verdict)
{
    switch (verdict) {
    case MARK_VERDICT_GENERATED: return "generated";
    case MARK_VERDICT_POSSIBLY: return "possibly";
    case MARK_VERDICT_SUSPECTED: return "suspected";
    case MARK_VERDICT_NONE: return "none";
    default: return "unknown";
    }
}

int mark_media_verdict(const mark_media *m)
{
    int best = MARK_VERDICT_NONE, v;
    size_t i;

    if (m == NULL)
        return MARK_VERDICT_NONE;
    for (i = 0; i < m->n_found; i++) {
        const char *lab = m->found[i].label != NULL
            ? mark_label_get(m->found[i].label, MARK_FIELD_LABEL) : NULL;

        /* a label record that cannot be read is still a trace */
        v = MARK_VERDICT_SUSPECTED;
        if (lab != NULL && strcmp(lab, "1") == 0)
            v = MARK_VERDICT_GENERATED;
        else if (lab != NULL && strcmp(lab, "2") == 0)
            v = MARK_VERDICT_POSSIBLY;
        if (v > best)
            best = v;
    }
    if (best == MARK_VERDICT_NONE)
        mark__explicit_ensure(m, 1);
    /* a video label seen on its closing frames alone is a trace too */
    if (best == MARK_VERDICT_NONE &&
        ((m->explicit_res != NULL &&
          (m->explicit_res->found || m->explicit_res->end_found)) ||
         (m->wm.detected && m->wm.found)))
        best = MARK_VERDICT_SUSPECTED;
    return best;
}

/* A JSON string from bytes that may not be UTF-8 (file names, Latin-1
 * text chunks): invalid bytes become U+FFFD rather than losing the key. */
static json_t *jstr(const char *s)
{
    json_t *j;
    char *fixed, *o;
    size_t i, n, k;

    if (s == NULL)
        return json_null();
    j = json_string(s);
    if (j != NULL)
        return j;
    n = strlen(s);
    fixed = malloc(n * 3 + 1);
    if (fixed == NULL)
        return json_null();
    o = fixed;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x80) {
            *o++ = (char)c;
            continue;
        }
        /* keep a well-formed sequence, replace a stray byte */
        k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        j = i + k <= n ? json_stringn(s + i, k) : NULL;
        if (j != NULL) {
            memcpy(o, s + i, k);
            o += k;
            i += k - 1;
        } else {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
        }
        json_decref(j);
    }
    *o = '\0';
    j = json_string(fixed);
    free(fixed);
    return j != NULL ? j : json_null();
}

static const char *severity_name(int s)
{
    return s == MARK_SEV_ERROR ? "error"
         : s == MARK_SEV_WARNING ? "warning" : "info";
}

static json_t *label_json(const mark__found *f)
{
    json_t *o = json_object(), *fields, *extra;
    const char *form = f->form == MARK_FORM_BARE ? "bare"
                     : f->form == MARK_FORM_WRAPPED ? "wrapped" : "invalid";
    size_t i;

    if (o == NULL)
        return NULL;
    json_object_set_new(o, "carrier", jstr(f->carrier));
    json_object_set_new(o, "location", jstr(f->location));
    json_object_set_new(o, "form", json_string(form));
    if (f->label == NULL) {
        json_object_set_new(o, "fields", json_null());
        json_object_set_new(o, "raw", jstr(f->raw));
        return o;
    }
    fields = json_object();
    extra = json_object();
    for (i = 0; i < MARK_FIELD_COUNT_; i++) {
        const char *v = f->label->field[i];

        if (v != NULL)
            json_object_set_new(fields, mark_field_name((int)i),
                                jstr(v));
    }
    for (i = 0; i < f->label->n_extra; i++)
        json_object_set_new(extra, f->label->extra_key[i],
                            json_loads(f->label->extra_val[i],
                                       JSON_DECODE_ANY, NULL));
    json_object_set_new(o, "fields", fields);
    if (json_object_size(extra) > 0)
        json_object_set_new(o, "extra", extra);
    else
        json_decref(extra);
    return o;
}

/* Hand a jansson string over as a ctx allocation. */
static int dump(mark_ctx *ctx, json_t *root, char **out)
{
    char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER |
                              JSON_REAL_PRECISION(6));

    json_decref(root);
    if (s == NULL)
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    *out = mark__strdup(ctx, s);
    free(s);
    return *out != NULL ? MARK_OK
                        : mark__err(ctx, MARK_ENOMEM, "out of memory");
}

static json_t *not_checked(const char *why, int watermark)
{
    json_t *o = json_object();

    json_object_set_new(o, "found", json_false());
    if (watermark)
        json_object_set_new(o, "payload", json_null());
    json_object_set_new(o, "checked", json_false());
    json_object_set_new(o, "note", json_string(why));
    return o;
}

/* The decision bound: up to 24 lattice candidates, each decoded at most
 * three times (as it lies, refolded, turned), each decode checking up to
 * MARK__LIST paths, each passing the 48-bit keyed check with probability
 * 2^-48 when nothing is there: about 4.1e-12. */
#define WM_FALSE_POSITIVE (72.0 * MARK__LIST / 281474976710656.0)

void mark__watermark_info(const mark_media *m, mark_watermark_info *out)
{
    size_t i;

    memset(out, 0, sizeof *out);
    out->matches_metadata = -1;
    /* video: the frames' (vid-v1) or the soundtrack's (aud-v1 to aud-v3) */
    out->scheme = m->wm.scheme != NULL ? m->wm.scheme
                : m->info.type == MARK_MEDIA_IMAGE ? "img-v1"
                : m->info.type == MARK_MEDIA_TEXT ? MARK__TXTWM_SCHEME
                                                  : MARK__AUDWM_SCHEME;
    out->checked = m->wm.detected;
    out->note = m->wm.detected ? NULL : m->wm.note;
    out->found = m->wm.detected && m->wm.found;
    out->payload = m->wm.found_payload;
    out->score = m->wm.score;
    out->false_positive = m->info.type == MARK_MEDIA_VIDEO
                          ? MARK__VIDWM_FP_BOUND + MARK__AUDWM_FP_BOUND
                          : m->info.type == MARK_MEDIA_AUDIO
                          ? MARK__AUDWM_FP_BOUND
                          : m->info.type == MARK_MEDIA_TEXT
                          ? MARK__TXTWM_FP_BOUND : WM_FALSE_POSITIVE;
    out->partial = m->wm.detected && !out->found && m->wm.partial;
    if (!out->found)
        return;
    for (i = 0; i < m->n_found; i++) {
        mark_payload d;

        if (m->found[i].label == NULL ||
            mark_payload_derive(m->found[i].label, &d) != MARK_OK)
            continue;
        out->matches_metadata = memcmp(d.bytes, out->payload.bytes, 8) == 0;
        if (out->matches_metadata == 1)
            break;
    }
}

int mark_media_watermark(const mark_media *m, mark_watermark_info *out)
{
    if (m == NULL || out == NULL)
        return MARK_EINVAL;
    mark__watermark_info(m, out);
    return MARK_OK;
}

static json_t *watermark_json(const mark_media *m)
{
    mark_watermark_info wi;
    json_t *o;
    char hex[17];

    if (!m->wm.detected && m->wm.note != NULL)
        return not_checked(m->wm.note, 1);
    if (!m->wm.detected)
        return not_checked("watermark not looked for (aimark verify does; "
                           "libmark callers use "
                           "mark_media_detect_watermark)", 1);
    mark__watermark_info(m, &wi);
    o = json_object();
    json_object_set_new(o, "found", json_boolean(wi.found));
    if (wi.found) {
        mark_payload_to_hex(&wi.payload, hex);
        json_object_set_new(o, "payload", json_string(hex));
    } else {
        json_object_set_new(o, "payload", json_null());
    }
    json_object_set_new(o, "checked", json_true());
    json_object_set_new(o, "scheme", json_string(wi.scheme));
    json_object_set_new(o, "score",
                        json_real((double)(long)(wi.score * 1000 + 0.5) /
                                  1000));
    json_object_set_new(o, "false_positive", json_real(wi.false_positive));
    if (wi.found && m->info.type != MARK_MEDIA_IMAGE) {
        /* where it was read, and how the time axis had changed */
        json_t *span = json_array();

        json_array_append_new(span, json_real(round(m->wm.t_start * 100) /
                                              100));
        json_array_append_new(span, json_real(round(m->wm.t_end * 100) /
                                              100));
        json_object_set_new(o, "seconds", span);
        json_object_set_new(o, "tempo",
                            json_real(round(m->wm.tempo * 10000) / 10000));
        json_object_set_new(o, "pitch_moved", json_boolean(m->wm.speed));
    }
    if (m->info.type == MARK_MEDIA_TEXT) {
        /* how much of the mark the text still holds */
        json_object_set_new(o, "partial", json_boolean(wi.partial));
        json_object_set_new(o, "copies", json_integer(
                                (json_int_t)m->wm.copies));
        json_object_set_new(o, "copies_ok", json_integer(
                                (json_int_t)m->wm.copies_ok));
        json_object_set_new(o, "symbols", json_integer(
                                (json_int_t)m->wm.symbols));
        if (wi.partial)
            json_object_set_new(o, "note", json_string(
                "code points of the text watermark are there, but no "
                "whole copy passes its check: the text was cut too short "
                "or damaged"));
    }
    json_object_set_new(o, "matches_metadata",
                        wi.matches_metadata < 0 ? json_null()
                                                : json_boolean(
                                                      wi.matches_metadata));
    return o;
}

int mark_media_explicit(const mark_media *m, mark_explicit_info *out)
{
    const mark__explicit *e;

    if (m == NULL || out == NULL)
        return MARK_EINVAL;
    mark__explicit_ensure(m, 1);
    e = m->explicit_res;
    memset(out, 0, sizeof *out);
    out->text = out->position = out->note = "";
    if (e == NULL)
        return MARK_OK;
    out->checked = e->checked;
    out->found = e->found;
    out->score = e->score;
    /* a video's closing frames: the lower of the two */
    if (e->end_checked && e->end_frames > 0 && e->end_score < e->score)
        out->score = e->end_score;
    out->height_px = e->ink_h;
    out->height_ratio = e->ratio;
    out->text = e->text;
    out->position = e->position;
    out->note = e->note;
    return MARK_OK;
}

/* Seconds to the hundredth, or null (a damaged record's span). */
static json_t *jsec(double x)
{
    x = round(x * 100) / 100;
    return isfinite(x) ? json_real(x) : json_null();
}

/* A video's label on the closing frames, when its record has it there:
 * shaped as the opening check (found, score, frames and seconds
 * checked), with the record's span. */
static json_t *end_json(const mark__explicit *e)
{
    json_t *o = json_object();

    json_object_set_new(o, "found", json_boolean(e->end_found));
    json_object_set_new(o, "from", jsec(e->end_from));
    json_object_set_new(o, "to", e->end_to >= 0 ? jsec(e->end_to)
                                                   : json_null());
    json_object_set_new(o, "score", e->end_frames > 0
                            ? json_real((double)(long)(e->end_score * 1000 +
                                                       0.5) / 1000)
                            : json_null());
    json_object_set_new(o, "frames_checked", json_integer(e->end_frames));
    json_object_set_new(o, "seconds_checked", jsec(e->end_seconds));
    return o;
}

static json_t *explicit_json(const mark_media *m, const mark__explicit *e)
{
    json_t *o = json_object();

    json_object_set_new(o, "found", json_boolean(e != NULL && e->found));
    json_object_set_new(o, "checked", json_boolean(e != NULL && e->checked));
    if (e != NULL && e->checked && m->info.type == MARK_MEDIA_AUDIO) {
        /* the rhythm label: any place counts (start, end or middle) */
        json_object_set_new(o, "kind", jstr("rhythm"));
        json_object_set_new(o, "text", jstr(e->text));
        json_object_set_new(o, "position", jstr(e->position));
        json_object_set_new(o, "meets_rule", json_boolean(e->found));
        json_object_set_new(o, "score",
                            json_real((double)(long)(e->score * 1000 + 0.5)
                                      / 1000));
    } else if (e != NULL && e->checked && m->info.type == MARK_MEDIA_TEXT) {
        /* both elements within the first / last 64 non-space characters */
        json_object_set_new(o, "kind", jstr("text"));
        json_object_set_new(o, "text", jstr(e->text));
        json_object_set_new(o, "position", jstr(e->position));
        json_object_set_new(o, "meets_rule", json_boolean(e->found));
    } else if (e != NULL && e->checked) {
        json_object_set_new(o, "text", jstr(e->text));
        json_object_set_new(o, "position", jstr(e->position));
        json_object_set_new(o, "height_px", json_integer(e->ink_h));
        json_object_set_new(o, "height_ratio",
                            json_real((double)(long)(e->ratio * 10000 + 0.5)
                                      / 10000));
        /* a video's found tells its opening frames, which the rule
         * asks for */
        json_object_set_new(o, "meets_rule",
                            json_boolean(e->found && e->ratio >= 0.05));
        json_object_set_new(o, "score",
                            json_real((double)(long)(e->score * 1000 + 0.5)
                                      / 1000));
        if (m->info.type == MARK_MEDIA_VIDEO) {
            /* the frames shown in the opening seconds, all to carry it */
            json_object_set_new(o, "frames_checked",
                                json_integer(e->frames));
            json_object_set_new(o, "seconds_checked",
                                json_real((double)(long)(e->seconds * 100 +
                                                         0.5) / 100));
            if (e->end_checked)
                json_object_set_new(o, "end", end_json(e));
        }
    }
    json_object_set_new(o, "note", jstr(e != NULL ? e->note : ""));
    return o;
}

int mark_media_report_json(const mark_media *m, const char *file, char **out)
{
    json_t *root, *meta, *labels, *probs;
    size_t i;

    if (m == NULL || out == NULL)
        return MARK_EINVAL;
    *out = NULL;
    root = json_object();
    meta = json_object();
    labels = json_array();
    probs = json_array();
    if (!root || !meta || !labels || !probs) {
        json_decref(root);
        json_decref(meta);
        json_decref(labels);
        json_decref(probs);
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    }
    json_object_set_new(root, "file",
                        jstr(file));
    json_object_set_new(root, "format",
                        json_string(mark_format_name(m->info.format)));
    json_object_set_new(root, "type",
                        json_string(mark_media_type_name(m->info.type)));
    if (m->info.type == MARK_MEDIA_AUDIO && m->info.sample_rate > 0)
        json_object_set_new(root, "audio", json_pack(
            "{s:I,s:i,s:I,s:f}", "sample_rate", (json_int_t)m->info.sample_rate,
            "channels", m->info.channels, "frames",
            (json_int_t)m->info.frames, "duration",
            (double)m->info.frames / m->info.sample_rate));
    if (m->info.type == MARK_MEDIA_AUDIO && m->info.codec != NULL)
        json_object_set_new(json_object_get(root, "audio"), "codec",
                            json_string(m->info.codec));
    if (m->info.type == MARK_MEDIA_VIDEO) {
        json_t *vo = json_pack("{s:i,s:i,s:s?,s:f}", "width",
                               (int)m->info.width, "height",
                               (int)m->info.height, "codec", m->info.codec,
                               "duration", m->info.duration);

        if (vo != NULL && m->info.sample_rate > 0)
            json_object_set_new(vo, "audio", json_pack(
                "{s:I,s:i}", "sample_rate", (json_int_t)m->info.sample_rate,
                "channels", m->info.channels));
        json_object_set_new(root, "video", vo);
    }
    if (m->info.type == MARK_MEDIA_TEXT && m->info.encoding != NULL) {
        json_t *t = json_object();

        json_object_set_new(t, "bytes", m->info.bytes >= 0
                            ? json_integer((json_int_t)m->info.bytes)
                            : json_null());
        json_object_set_new(t, "lines", m->info.lines >= 0
                            ? json_integer((json_int_t)m->info.lines)
                            : json_null());
        json_object_set_new(t, "encoding", json_string(m->info.encoding));
        json_object_set_new(t, "line_ends",
                            json_string(m->info.line_ends != NULL
                                        ? m->info.line_ends : "none"));
        json_object_set_new(root, "text", t);
    }
    json_object_set_new(root, "verdict",
                        json_string(mark_verdict_name(mark_media_verdict(m))));
    /* documents: the Office kind, or a PDF's pages */
    if (m->info.type == MARK_MEDIA_TEXT && m->info.codec != NULL)
        json_object_set_new(root, "document",
                            json_pack("{s:s}", "kind", m->info.codec));
    else if (m->info.format == MARK_FORMAT_PDF)
        json_object_set_new(root, "document",
                            json_pack("{s:I}", "pages",
                                      (json_int_t)m->info.frames));
    for (i = 0; i < m->n_found; i++)
        json_array_append_new(labels, label_json(&m->found[i]));
    for (i = 0; i < mark_problems_count(m->problems); i++) {
        mark_problem pr;
        json_t *o = json_object();

        mark_problems_get(m->problems, i, &pr);
        json_object_set_new(o, "severity",
                            json_string(severity_name(pr.severity)));
        json_object_set_new(o, "code", json_string(pr.code));
        json_object_set_new(o, "label", pr.label_index >= 0
                                ? json_integer(pr.label_index)
                                : json_null());
        json_object_set_new(o, "message", jstr(pr.message));
        json_array_append_new(probs, o);
    }
    json_object_set_new(meta, "found", json_boolean(m->n_found > 0));
    json_object_set_new(meta, "compliant",
                        json_boolean(m->n_found == 1 &&
                                     mark_problems_max_severity(m->problems)
                                         < MARK_SEV_ERROR));
    json_object_set_new(meta, "labels", labels);
    json_object_set_new(meta, "problems", probs);
    json_object_set_new(root, "metadata", meta);
    json_object_set_new(root, "watermark", watermark_json(m));
    mark__explicit_ensure(m, 1);
    json_object_set_new(root, "explicit", explicit_json(m, m->explicit_res));
    return dump(m->ctx, root, out);
}

int mark_error_report_json(mark_ctx *ctx, const char *file, int format,
                           const char *message, char **out)
{
    json_t *root;

    if (ctx == NULL || out == NULL)
        return MARK_EINVAL;
    *out = NULL;
    root = json_object();
    if (root == NULL)
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    json_object_set_new(root, "file",
                        jstr(file));
    if (format <= MARK_FORMAT_UNKNOWN || format >= MARK_FORMAT_COUNT_)
        format = ctx->last_format;
    json_object_set_new(root, "format",
                        format > MARK_FORMAT_UNKNOWN &&
                        format < MARK_FORMAT_COUNT_
                            ? json_string(mark_format_name(format))
                            : json_null());
    json_object_set_new(root, "verdict", json_string("error"));
    json_object_set_new(root, "error",
                        jstr(message != NULL ? message : ""));
    return dump(ctx, root, out);
}
