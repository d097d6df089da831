/*
 * ogg.c - Ogg Vorbis and Ogg Opus: the metadata label as a Vorbis
 * comment, and the rhythm label in the samples.
 *
 * An Ogg stream is a run of pages ("OggS", version 0, flags, granule
 * position, serial, sequence number, CRC-32 of the page with the CRC
 * field zeroed, then a lacing table of up to 255 segment sizes and the
 * body).  A packet is a run of segments ending with one shorter than
 * 255.  Vorbis opens with three header packets: identification
 * ("\x01vorbis", alone on the first page), comment ("\x03vorbis") and
 * setup ("\x05vorbis"); Opus with two: "OpusHead" (alone on the first
 * page) and "OpusTags".  Audio starts on a fresh page after them.
 *
 * Carrier read: every comment "AIGC=<json>" (field name in any case) in
 * the comment packet, each one a label.  Written: exactly one, after the
 * other comments; the vendor string, the other comments and whatever
 * follows them (Vorbis' framing bit, Opus' binary extra) stay.
 *
 * Reading is our own walk over the pages, every size checked against
 * the input and every CRC checked, the header packets gathered up to the
 * metadata limit, so that hostile input meets code we can fuzz.  Writing
 * hands the header packets (the comment packet rebuilt) to libogg, which
 * pages them afresh (the comment packet may now need more pages), then
 * copies the audio pages byte for byte except their sequence numbers,
 * moved by the change in the number of header pages, and their CRCs:
 * granule positions and audio packets stay as they are.  One logical
 * stream only: a multiplexed or chained file is read (the comments of
 * each Vorbis or Opus stream in it), not written.
 *
 * The rhythm label needs new samples: sfpass.c decodes and encodes them
 * with libsndfile (Vorbis at about the input's nominal bitrate, Opus at
 * about its average one), and the input's comment packet replaces the
 * encoder's in the new stream.
 */
#include <stdio.h>
#include <string.h>

#include <ogg/ogg.h>
#include <sndfile.h>

#include "internal.h"

#define CARRIER "ogg-vorbis-comment"
#define WM_QUALITY 0.2                  /* Vorbis quality gained with a
                                           watermark (libsndfile level) */

enum { C_VORBIS = 1, C_OPUS };

#define MAX_OTHERS 16                   /* other logical streams read */

/* The first two packets of another logical stream, gathered to read
 * its comments. */
typedef struct other {
    uint32_t serial;
    int packet;                         /* packets complete so far */
    int codec;                          /* from its first packet, 0 none */
    mark__buf pkt;                      /* the packet being gathered */
} other;

typedef struct ogg_priv {
    int codec;                          /* C_VORBIS or C_OPUS */
    uint32_t serial;                    /* of the (first) logical stream */
    int n_headers;                      /* header packets: 3 or 2 */
    mark__buf pkt[3];                   /* the header packets */
    size_t audio_at;                    /* first page after the headers */
    uint32_t header_pages;              /* pages the headers take */
    int single;                         /* one logical stream, headers
                                           ending on a page boundary:
                                           can be rewritten */
    int64_t last_granule;
    uint64_t audio_bytes;               /* page bytes after the headers */
    uint32_t nominal;                   /* Vorbis nominal bitrate */
    other others[MAX_OTHERS];           /* other streams, while reading */
    int n_others;
} ogg_priv;

static uint32_t crc_table[256];

static void crc_init(void)
{
    uint32_t i, j, r;

    if (crc_table[1] != 0)
        return;
    for (i = 0; i < 256; i++) {
        r = i << 24;
        for (j = 0; j < 8; j++)
            r = r & 0x80000000u ? (r << 1) ^ 0x04c11db7u : r << 1;
        crc_table[i] = r;
    }
}

/* Ogg's CRC-32 (polynomial 0x04c11db7, not reflected, no inversion) of
 * a page, its CRC field taken as zero. */
static uint32_t page_crc(const unsigned char *p, size_t n)
{
    uint32_t crc = 0;
    size_t i;

    crc_init();
    for (i = 0; i < n; i++) {
        unsigned char c = i >= 22 && i < 26 ? 0 : p[i];

        crc = (crc << 8) ^ crc_table[((crc >> 24) ^ c) & 0xff];
    }
    return crc;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static int64_t le64(const unsigned char *p)
{
    return (int64_t)((uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32);
}

static const char *codec_name(int codec)
{
    return codec == C_OPUS ? "Ogg Opus" : "Ogg Vorbis";
}

/* The comment packet's layout: where the comments start and end. */
typedef struct comments {
    size_t magic;                       /* bytes before the vendor */
    size_t list;                        /* offset of the comment count */
    uint32_t count;
    size_t end;                         /* offset after the last one */
} comments;

/* Walk the comment packet d; with m, record each AIGC comment. */
static int walk_comments(mark_ctx *ctx, mark_media *m, int codec,
                         const unsigned char *d, size_t len, comments *cm)
{
    const char *what = codec_name(codec);
    size_t q = codec == C_OPUS ? 8 : 7, i;
    uint32_t n;
    int rc;

    cm->magic = q;
    if (len - q < 4 || le32(d + q) > len - q - 4)
        return mark__err(ctx, MARK_EFORMAT, "%s comment header: the vendor "
                         "string runs past the packet", what);
    q += 4 + (size_t)le32(d + q);
    if (len - q < 4)
        return mark__err(ctx, MARK_EFORMAT, "%s comment header: no comment "
                         "count", what);
    cm->list = q;
    cm->count = le32(d + q);
    q += 4;
    for (i = 0; i < cm->count; i++) {
        if (len - q < 4 || (n = le32(d + q)) > len - q - 4)
            return mark__err(ctx, MARK_EFORMAT, "%s comment header: comment "
                             "%zu of %lu runs past the packet", what, i + 1,
                             (unsigned long)cm->count);
        q += 4;
        if (m != NULL && mark__is_aigc_comment(d + q, n)) {
            rc = mark__media_add_label(m, CARRIER, codec == C_OPUS
                                       ? "Ogg Opus comment 'AIGC'"
                                       : "Ogg Vorbis comment 'AIGC'",
                                       (const char *)d + q + 5,
                                       mark__value_len(d + q + 5, n - 5));
            if (rc < 0)
                return rc;
        }
        q += n;
    }
    if (codec == C_VORBIS && (q == len || !(d[q] & 1)))
        return mark__err(ctx, MARK_EFORMAT, "Ogg Vorbis comment header: no "
                         "framing bit after the comments");
    cm->end = q;
    return MARK_OK;
}

static void priv_free(mark_ctx *ctx, ogg_priv *op)
{
    int i;

    if (op == NULL)
        return;
    for (i = 0; i < 3; i++)
        mark__buf_free(&op->pkt[i]);
    for (i = 0; i < op->n_others; i++)
        mark__buf_free(&op->others[i].pkt);
    mark__free(ctx, op);
}

static int other_page(mark_ctx *ctx, mark_media *m, other *o,
                      const unsigned char *h, size_t hl)
{
    const unsigned char *seg = h + hl;
    comments cm;
    size_t k;
    int rc;

    for (k = 0; k < h[26] && o->packet < 2; k++) {
        size_t n = h[27 + k];

        if (o->pkt.len + n > (uint64_t)ctx->limits[MARK_LIMIT_METADATA_BYTES])
            return mark__err(ctx, MARK_ELIMIT, "Ogg header packet exceeds "
                             "the limit of %lld bytes", (long long)
                             ctx->limits[MARK_LIMIT_METADATA_BYTES]);
        if (mark__buf_put(&o->pkt, seg, n) < 0)
            return mark__err(ctx, MARK_ENOMEM, "out of memory");
        seg += n;
        if (n == 255)
            continue;
        if (o->packet == 0) {
            if (o->pkt.len >= 30 &&
                memcmp(o->pkt.data, "\x01vorbis", 7) == 0)
                o->codec = C_VORBIS;
            else if (o->pkt.len >= 19 &&
                     memcmp(o->pkt.data, "OpusHead", 8) == 0)
                o->codec = C_OPUS;
            else
                o->packet = 2;          /* another codec: not read */
        } else if (o->pkt.len >= 8 &&
                   memcmp(o->pkt.data, o->codec == C_OPUS ? "OpusTags"
                                                         : "\x03vorbis",
                          o->codec == C_OPUS ? 8 : 7) == 0) {
            rc = walk_comments(ctx, m, o->codec, o->pkt.data, o->pkt.len,
                               &cm);
            if (rc < 0)
                return rc;
        }
        o->packet++;
        o->pkt.len = 0;
    }
    return MARK_OK;
}

/* The page walk: every page checked, the header packets of the first
 * logical stream gathered (with m, the comments of any other Vorbis or
 * Opus stream read as well). */
static int scan(mark_ctx *ctx, mark_media *m, const unsigned char *d,
                size_t len, ogg_priv *op)
{
    other *others = op->others;
    int rc = MARK_OK;
    const int64_t *lim = ctx->limits;
    size_t p = 0, page = 0, have = 0;
    int streams = 0, ended = 0, packet = 0, i;

    op->single = 1;
    op->last_granule = -1;
    for (i = 0; i < 3; i++)
        mark__buf_init(&op->pkt[i], ctx);
    if (len < 4 || memcmp(d, "OggS", 4) != 0)
        return mark__err(ctx, MARK_EFORMAT, "not an Ogg stream (no 'OggS' "
                         "at the start)");
    while (p < len) {
        const unsigned char *h = d + p;
        size_t hl, body = 0, k, seg_at;
        uint32_t serial;
        int mine;

        if (len - p < 27)
            return mark__err(ctx, MARK_EFORMAT, "Ogg truncated: page %zu at "
                             "byte %zu has %zu of its 27 header bytes", page,
                             p, len - p);
        if (memcmp(h, "OggS", 4) != 0)
            return mark__err(ctx, MARK_EFORMAT, "no Ogg page at byte %zu "
                             "(after page %zu): a page is cut or a size is "
                             "wrong", p, page);
        if (h[4] != 0)
            return mark__err(ctx, MARK_EFORMAT, "Ogg page %zu has version "
                             "%d", page, h[4]);
        hl = 27 + (size_t)h[26];
        if (len - p < hl)
            return mark__err(ctx, MARK_EFORMAT, "Ogg truncated: page %zu "
                             "(byte %zu) ends in its lacing table", page, p);
        for (k = 0; k < h[26]; k++)
            body += h[27 + k];
        if (len - p - hl < body)
            return mark__err(ctx, MARK_EFORMAT, "Ogg truncated: page %zu "
                             "(byte %zu) claims %zu bytes, %zu are there",
                             page, p, hl + body, len - p);
        if (page_crc(h, hl + body) != le32(h + 22))
            return mark__err(ctx, MARK_EFORMAT, "Ogg page %zu (byte %zu): "
                             "wrong CRC, the page is corrupt", page, p);
        serial = le32(h + 14);
        if (page == 0) {
            if (!(h[5] & 2))
                return mark__err(ctx, MARK_EFORMAT, "the first Ogg page "
                                 "does not begin a stream");
            op->serial = serial;
        }
        if (h[5] & 2) {
            streams++;
            if (streams > 1)
                op->single = 0;
            if (ended && serial == op->serial)
                return mark__err(ctx, MARK_EFORMAT, "Ogg stream %lu begins "
                                 "twice", (unsigned long)serial);
        }
        mine = serial == op->serial && !ended;
        if (!mine && m != NULL) {
            /* another logical stream (chained or multiplexed): its
             * comments are read too */
            int o;

            for (o = 0; o < op->n_others && others[o].serial != serial; o++)
                ;
            if (o == op->n_others && (h[5] & 2) && o < MAX_OTHERS) {
                memset(&others[o], 0, sizeof others[o]);
                others[o].serial = serial;
                mark__buf_init(&others[o].pkt, ctx);
                op->n_others++;
            }
            if (o < op->n_others)
                rc = other_page(ctx, m, &others[o], h, hl);
            if (rc < 0)
                break;
        }
        if (mine && packet < op->n_headers + (page == 0)) {
            /* gather the header packets from this page's segments */
            seg_at = p + hl;
            if (page > 0 && packet == 0 && have == 0)
                return mark__err(ctx, MARK_EFORMAT, "Ogg stream without "
                                 "its identification header");
            for (k = 0; k < h[26] && (packet < op->n_headers ||
                                      page == 0); k++) {
                size_t s = h[27 + k];

                if (packet >= 3)
                    break;
                if (have + s > (uint64_t)lim[MARK_LIMIT_METADATA_BYTES])
                    return mark__err(ctx, MARK_ELIMIT, "Ogg header packet "
                                     "%d exceeds the limit of %lld bytes",
                                     packet + 1, (long long)
                                     lim[MARK_LIMIT_METADATA_BYTES]);
                if (mark__buf_put(&op->pkt[packet], d + seg_at, s) < 0)
                    return mark__err(ctx, MARK_ENOMEM, "out of memory");
                have += s;
                seg_at += s;
                if (s < 255) {
                    if (packet == 0) {
                        const unsigned char *b = op->pkt[0].data;
                        size_t n = op->pkt[0].len;

                        if (n >= 30 && memcmp(b, "\x01vorbis", 7) == 0) {
                            op->codec = C_VORBIS;
                            op->n_headers = 3;
                        } else if (n >= 19 && memcmp(b, "OpusHead", 8) == 0) {
                            op->codec = C_OPUS;
                            op->n_headers = 2;
                        } else {
                            return mark__err(ctx, MARK_EUNSUPPORTED, "Ogg "
                                             "of a codec other than Vorbis "
                                             "and Opus");
                        }
                    }
                    packet++;
                    have = 0;
                    if (packet == op->n_headers && k + 1 < h[26])
                        op->single = 0; /* audio on a header page */
                }
            }
            if (page == 0 && (packet != 1 || have != 0))
                return mark__err(ctx, MARK_EFORMAT, "the first Ogg page "
                                 "holds more or less than the "
                                 "identification header");
            if (packet == op->n_headers && op->audio_at == 0) {
                op->audio_at = p + hl + body;
                op->header_pages = (uint32_t)page + 1;
            }
        } else if (mine) {
            op->audio_bytes += hl + body;
        }
        if (mine && le64(h + 6) != -1 && packet >= op->n_headers)
            op->last_granule = le64(h + 6);
        if (mine && (h[5] & 4))
            ended = 1;
        p += hl + body;
        page++;
    }
    if (rc < 0)
        return rc;
    if (op->n_headers == 0 || packet < op->n_headers)
        return mark__err(ctx, MARK_EFORMAT, "Ogg truncated: the stream ends "
                         "in its header packets");
    return MARK_OK;
}

static int ogg_parse(mark_media *m)
{
    ogg_priv *op = mark__calloc(m->ctx, 1, sizeof *op);
    comments cm;
    const unsigned char *h;
    int rc;

    if (op == NULL)
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    m->priv = op;
    rc = scan(m->ctx, m, m->data, m->len, op);
    if (rc < 0)
        return rc;
    h = op->pkt[0].data;
    if (op->codec == C_VORBIS) {
        m->info.channels = h[11];
        m->info.sample_rate = le32(h + 12);
        op->nominal = le32(h + 20);
        m->info.codec = "vorbis";
        if (op->last_granule > 0)
            m->info.frames = op->last_granule;
    } else {
        uint32_t skip = (uint32_t)h[10] | (uint32_t)h[11] << 8;

        /* Opus always decodes at 48 kHz; granules count 48 kHz frames */
        m->info.channels = h[9];
        m->info.sample_rate = 48000;
        m->info.codec = "opus";
        if (op->last_granule > (int64_t)skip)
            m->info.frames = op->last_granule - skip;
    }
    if (m->info.channels == 0 || m->info.sample_rate == 0)
        return mark__err(m->ctx, MARK_EFORMAT, "%s identification header "
                         "gives %d channels at %lu Hz", codec_name(op->codec),
                         m->info.channels,
                         (unsigned long)m->info.sample_rate);
    if (op->pkt[1].len < 8 ||
        memcmp(op->pkt[1].data, op->codec == C_OPUS ? "OpusTags"
                                                    : "\x03vorbis",
               op->codec == C_OPUS ? 8 : 7) != 0)
        return mark__err(m->ctx, MARK_EFORMAT, "%s: the second packet is "
                         "not a comment header", codec_name(op->codec));
    return walk_comments(m->ctx, m, op->codec, op->pkt[1].data,
                         op->pkt[1].len, &cm);
}

/* The comment packet pkt with its AIGC comments removed and, when json
 * is not NULL, one "AIGC=json" added after the others. */
static int new_comments(mark_ctx *ctx, int codec, const mark__buf *pkt,
                        const char *json, size_t json_len, mark__buf *out)
{
    const unsigned char *d = pkt->data;
    comments cm;
    uint32_t kept = 0, i;
    size_t q, at;
    unsigned char n4[4];
    int rc;

    rc = walk_comments(ctx, NULL, codec, d, pkt->len, &cm);
    if (rc < 0)
        return rc;
    rc = mark__buf_put(out, d, cm.list + 4);
    at = cm.list;
    for (i = 0, q = cm.list + 4; rc == MARK_OK && i < cm.count; i++) {
        uint32_t n = le32(d + q);

        if (!mark__is_aigc_comment(d + q + 4, n)) {
            rc = mark__buf_put(out, d + q, 4 + (size_t)n);
            kept++;
        }
        q += 4 + (size_t)n;
    }
    if (rc == MARK_OK && json != NULL) {
        uint32_t n = (uint32_t)(5 + json_len);

        n4[0] = (unsigned char)n;
        n4[1] = (unsigned char)(n >> 8);
        n4[2] = (unsigned char)(n >> 16);
        n4[3] = (unsigned char)(n >> 24);
        rc = mark__buf_put(out, n4, 4);
        if (rc == MARK_OK)
            rc = mark__buf_put(out, "AIGC=", 5);
        if (rc == MARK_OK)
            rc = mark__buf_put(out, json, json_len);
        kept++;
    }
    /* what follows the comments: the framing bit, Opus' extra data */
    if (rc == MARK_OK)
        rc = mark__buf_put(out, d + cm.end, pkt->len - cm.end);
    if (rc < 0)
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    out->data[at] = (unsigned char)kept;
    out->data[at + 1] = (unsigned char)(kept >> 8);
    out->data[at + 2] = (unsigned char)(kept >> 16);
    out->data[at + 3] = (unsigned char)(kept >> 24);
    return MARK_OK;
}

static int put_page(mark__buf *out, const ogg_page *pg)
{
    int rc = mark__buf_put(out, pg->header, (size_t)pg->header_len);

    return rc < 0 ? rc : mark__buf_put(out, pg->body, (size_t)pg->body_len);
}

/* The stream d (scanned into op) with comment as its comment packet:
 * the header packets paged by libogg, the audio pages copied with new
 * sequence numbers and CRCs. */
static int rebuild(mark_ctx *ctx, const unsigned char *d, size_t len,
                   const ogg_priv *op, const mark__buf *comment,
                   mark__buf *out)
{
    ogg_stream_state os;
    ogg_packet pk;
    ogg_page pg;
    uint32_t pages = 0;
    int64_t delta;
    size_t p;
    int i, rc = MARK_OK;

    if (!op->single)
        return mark__err(ctx, MARK_EUNSUPPORTED, "%s with more than one "
                         "logical stream (multiplexed or chained), or audio "
                         "on a header page: the label cannot be written",
                         codec_name(op->codec));
    if (ogg_stream_init(&os, (int)op->serial) != 0)
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    for (i = 0; rc == MARK_OK && i < op->n_headers; i++) {
        const mark__buf *b = i == 1 ? comment : &op->pkt[i];

        memset(&pk, 0, sizeof pk);
        pk.packet = b->data;
        pk.bytes = (long)b->len;
        pk.b_o_s = i == 0;
        pk.granulepos = 0;
        pk.packetno = i;
        if (ogg_stream_packetin(&os, &pk) != 0)
            rc = mark__err(ctx, MARK_ENOMEM, "out of memory");
        /* the identification header alone on the first page; the others
         * end their last page, as audio begins on a fresh one */
        if (i == 0 || i == op->n_headers - 1)
            while (rc == MARK_OK && ogg_stream_flush(&os, &pg) != 0) {
                rc = put_page(out, &pg);
                pages++;
            }
    }
    ogg_stream_clear(&os);
    if (rc < 0)
        return rc == MARK_ENOMEM ? mark__err(ctx, MARK_ENOMEM, "out of "
                                             "memory") : rc;
    delta = (int64_t)pages - (int64_t)op->header_pages;
    for (p = op->audio_at; p < len;) {
        const unsigned char *h = d + p;
        size_t hl = 27 + (size_t)h[26], body = 0, k, at = out->len;
        uint32_t seq = le32(h + 18);

        for (k = 0; k < h[26]; k++)
            body += h[27 + k];
        rc = mark__buf_put(out, h, hl + body);
        if (rc < 0)
            return mark__err(ctx, MARK_ENOMEM, "out of memory");
        seq = (uint32_t)((int64_t)seq + delta);
        out->data[at + 18] = (unsigned char)seq;
        out->data[at + 19] = (unsigned char)(seq >> 8);
        out->data[at + 20] = (unsigned char)(seq >> 16);
        out->data[at + 21] = (unsigned char)(seq >> 24);
        pg.header = out->data + at;
        pg.header_len = (long)hl;
        pg.body = out->data + at + hl;
        pg.body_len = (long)body;
        ogg_page_checksum_set(&pg);
        p += hl + body;
    }
    return MARK_OK;
}

static int ogg_write(mark_media *m, mark__buf *out)
{
    ogg_priv *op = m->priv;
    mark__buf c;
    char *json = NULL;
    size_t json_len = 0;
    int rc;

    if (m->staged == NULL)
        return mark__buf_put(out, m->data, m->len);
    rc = mark_label_to_json(m->staged, MARK_FORM_BARE, &json, &json_len);
    if (rc < 0)
        return rc;
    mark__buf_init(&c, m->ctx);
    rc = new_comments(m->ctx, op->codec, &op->pkt[1], json, json_len, &c);
    if (rc == MARK_OK)
        rc = rebuild(m->ctx, m->data, m->len, op, &c, out);
    mark__buf_free(&c);
    mark_free(m->ctx, json);
    return rc;
}

/* libsndfile's compression level for about the input's bitrate:
 * Vorbis' quality from its nominal bitrate (a stereo-equivalent rate
 * against libvorbis' quality steps), Opus' from its average. */
static double enc_level(const mark_media *m, const ogg_priv *op)
{
    static const double q_kbps[11] = { 64, 80, 96, 112, 128, 160, 192, 224,
                                       256, 320, 500 };
    double kbps, sec = m->info.sample_rate > 0 && m->info.frames > 0
                           ? (double)m->info.frames / m->info.sample_rate
                           : 0;
    int i;

    if (op->codec == C_VORBIS) {
        if (op->nominal == 0 || op->nominal > 2000000 ||
            m->info.channels == 0)
            return -1;
        kbps = op->nominal / 1000.0 * 2 / m->info.channels;
        if (kbps <= q_kbps[0])
            return 1;
        for (i = 1; i < 11; i++)
            if (kbps <= q_kbps[i])
                return 1 - ((i - 1) + (kbps - q_kbps[i - 1]) /
                            (q_kbps[i] - q_kbps[i - 1])) / 10;
        return 0;
    }
    if (sec < 0.5)
        return -1;
    kbps = (double)op->audio_bytes * 8 / sec / 1000;
    kbps = (512 - kbps) / (512 - 6);
    return kbps < 0 ? 0 : kbps > 1 ? 1 : kbps;
}

static int ogg_draw(mark_media *m, mark__pixel_ops *ops, mark__buf *out)
{
    ogg_priv *op = m->priv, *ep;
    mark__sfenc e;
    mark__buf enc, c;
    int rc;

    e.what = codec_name(op->codec);
    e.format = SF_FORMAT_OGG | (op->codec == C_OPUS ? SF_FORMAT_OPUS
                                                    : SF_FORMAT_VORBIS);
    e.level = enc_level(m, op);
    /* libvorbis at the input's own quality loses most of a watermark
     * just embedded (0 of 5 clips found again); two quality steps up it
     * keeps it (5 of 5), for a file about half as large again */
    if (ops->watermark && op->codec == C_VORBIS && e.level >= 0)
        e.level = e.level > WM_QUALITY ? e.level - WM_QUALITY : 0;
    e.bitrate_mode = -1;
    e.count = 0;
    e.frames = e.skip = 0;
    if (!op->single)
        return rebuild(m->ctx, m->data, m->len, op, &op->pkt[1], out);
    ep = mark__calloc(m->ctx, 1, sizeof *ep);
    if (ep == NULL)
        return mark__err(m->ctx, MARK_ENOMEM, "out of memory");
    mark__buf_init(&enc, m->ctx);
    mark__buf_init(&c, m->ctx);
    rc = mark__sf_draw(m, &e, ops, &enc);
    if (rc == MARK_OK)
        rc = scan(m->ctx, NULL, enc.data, enc.len, ep);
    if (rc == MARK_OK && ep->codec != op->codec)
        rc = mark__err(m->ctx, MARK_EBACKEND, "libsndfile wrote another "
                       "codec");
    /* the input's comments (and vendor) over the encoder's */
    if (rc == MARK_OK)
        rc = new_comments(m->ctx, op->codec, &op->pkt[1], NULL, 0, &c);
    if (rc == MARK_OK)
        rc = rebuild(m->ctx, enc.data, enc.len, ep, &c, out);
    mark__buf_free(&enc);
    mark__buf_free(&c);
    priv_free(m->ctx, ep);
    return rc;
}

static int ogg_explicit(const mark_media *m, mark__explicit *res,
                        double edge)
{
    return mark__sf_explicit(m, codec_name(((ogg_priv *)m->priv)->codec),
                             res, edge);
}

static int ogg_pcm(const mark_media *m,
                   int (*take)(void *u, const float *x, size_t frames),
                   void *u)
{
    return mark__sf_pcm(m, codec_name(((ogg_priv *)m->priv)->codec), take,
                        u);
}

static void ogg_uninit(mark_media *m)
{
    priv_free(m->ctx, m->priv);
    m->priv = NULL;
}

const mark__container mark__container_ogg = {
    .name = "ogg", .format = MARK_FORMAT_OGG, .type = MARK_MEDIA_AUDIO,
    .parse = ogg_parse, .write = ogg_write, .uninit = ogg_uninit,
    .draw = ogg_draw, .explicit_check = ogg_explicit, .pcm = ogg_pcm,
};
