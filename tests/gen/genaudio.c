/*
 * genaudio.c - turns a WAV made by genwav into another audio format, for
 * test fixtures (only libsndfile is used; no recording or third-party
 * sample goes in):
 *
 *   genaudio IN.wav OUT.EXT [options]
 *
 * The output format follows OUT's extension:
 *   .flac              FLAC, 8, 16 or 24 bits (--bits, default 16)
 *   .wav               WAV, PCM of --bits
 *   .ogg               Ogg Vorbis
 *   .opus              Ogg Opus (the WAV at 8, 12, 16, 24 or 48 kHz)
 *   .mp3               MP3 (MPEG-1/2 layer III, LAME)
 * (one row of the formats table each).
 *
 * Options for every format (libsndfile's string tags):
 *   --bits N           8, 16 or 24
 *   --title T, --artist A, --comment C
 * FLAC only, made by editing the metadata blocks libsndfile wrote:
 *   --tag NAME=VALUE   a Vorbis comment as given (any case, e.g.
 *                      aigc={...}), repeatable
 *   --picture FILE     a PICTURE block (front cover) holding FILE
 *   --application      an APPLICATION block, id "aimk"
 *   --padding N        a PADDING block of N bytes, last
 *   --no-total         STREAMINFO's total samples 0 (unknown)
 *   --bad-length       the VORBIS_COMMENT block claims 9 bytes more
 *   --no-vorbis        no VORBIS_COMMENT block at all
 * Ogg: --tag NAME=VALUE adds a comment to the comment header (the
 * header packets paged again with libogg, the audio pages renumbered).
 * MP3, an ID3v2 tag put before the frames libsndfile wrote:
 *   --id3 V            a tag of version 2.V (3 or 4) holding TIT2 from
 *                      --title and the --txxx frames
 *   --txxx DESC=VALUE  a TXXX frame (Latin-1 in 2.3, UTF-8 in 2.4),
 *                      repeatable
 *   --utf16            the TXXX frames in UTF-16 with a BOM instead
 *   --id3v1            an ID3v1 "TAG" trailer as well
 * Any format:
 *   --truncate N       cut the output to N bytes
 *
 * The samples are copied as integers, so they stay exact when the bits
 * are those of the WAV.  Output is the same on every run (Ogg: but for
 * the stream serial number, which libsndfile draws at random).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ogg/ogg.h>
#include <sndfile.h>

#define MAX_TAGS 16

typedef struct format {
    const char *ext;
    int major;                          /* SF_FORMAT_* container */
    int fixed;                          /* subtype, or 0: from --bits */
} format;

static const format formats[] = {
    { ".flac", SF_FORMAT_FLAC, 0 },
    { ".wav", SF_FORMAT_WAV, 0 },
    { ".ogg", SF_FORMAT_OGG, SF_FORMAT_VORBIS },
    { ".opus", SF_FORMAT_OGG, SF_FORMAT_OPUS },
    { ".mp3", SF_FORMAT_MPEG, SF_FORMAT_MPEG_LAYER_III },
};

typedef struct opts {
    int bits;
    const char *tags[MAX_TAGS];
    int n_tags;
    const char *picture;
    int application;
    long padding;                       /* -1: none */
    int no_total;
    int bad_length;
    int no_vorbis;
    int id3;                            /* 3, 4, or 0: no ID3v2 tag */
    const char *txxx[MAX_TAGS];
    int n_txxx;
    int utf16;
    int id3v1;
    const char *title;
} opts;

static void die(const char *what)
{
    fprintf(stderr, "genaudio: %s\n", what);
    exit(1);
}

static void put24(unsigned char *p, size_t v)
{
    p[0] = (unsigned char)(v >> 16);
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)v;
}

static void put32le(unsigned char *p, size_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static void put32be(unsigned char *p, size_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* A growing byte string. */
typedef struct bytes {
    unsigned char *d;
    size_t len, cap;
} bytes;

static void add(bytes *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->d = realloc(b->d, b->cap);
        if (b->d == NULL)
            die("out of memory");
    }
    memcpy(b->d + b->len, p, n);
    b->len += n;
}

static void add_block(bytes *b, int type, const void *p, size_t n)
{
    unsigned char h[4];

    if (n >= 1u << 24)
        die("metadata block too big");
    h[0] = (unsigned char)type;
    put24(h + 1, n);
    add(b, h, 4);
    add(b, p, n);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *d;
    long n;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0)
        die("cannot read a file");
    d = malloc((size_t)n + 1);
    if (d == NULL || fread(d, 1, (size_t)n, f) != (size_t)n)
        die("cannot read a file");
    fclose(f);
    *len = (size_t)n;
    return d;
}

/* The FLAC libsndfile wrote, its metadata rebuilt: STREAMINFO, the
 * VORBIS_COMMENT with the extra tags, then the blocks asked for. */
static void edit_flac(const char *path, const opts *o)
{
    size_t len, p = 4, audio, vc_at = 0, vc_len = 0, i, hdr[8], vc_hdr;
    unsigned char *d = slurp(path, &len), h[8];
    bytes out = { NULL, 0, 0 }, vc = { NULL, 0, 0 };
    int last = 0, n_blocks = 0;
    uint32_t count;
    FILE *f;

    if (len < 42 || memcmp(d, "fLaC", 4) != 0)
        die("libsndfile wrote no FLAC");
    while (!last) {
        size_t n = (size_t)d[p + 1] << 16 | (size_t)d[p + 2] << 8 | d[p + 3];

        last = d[p] >> 7;
        if ((d[p] & 0x7f) == 4) {
            vc_at = p + 4;
            vc_len = n;
        }
        p += 4 + n;
    }
    audio = p;
    /* the comments: libsndfile's, then ours */
    if (vc_len == 0) {
        static const char vendor[] = "genaudio";

        put32le(h, sizeof vendor - 1);
        add(&vc, h, 4);
        add(&vc, vendor, sizeof vendor - 1);
        put32le(h, 0);
        add(&vc, h, 4);
    } else {
        add(&vc, d + vc_at, vc_len);
    }
    {
        size_t at = 4 + (size_t)(vc.d[0] | vc.d[1] << 8 | vc.d[2] << 16 |
                                 (uint32_t)vc.d[3] << 24);

        count = (uint32_t)(vc.d[at] | vc.d[at + 1] << 8 |
                           vc.d[at + 2] << 16 | (uint32_t)vc.d[at + 3] << 24);
        put32le(vc.d + at, count + (uint32_t)o->n_tags);
    }
    for (i = 0; i < (size_t)o->n_tags; i++) {
        put32le(h, strlen(o->tags[i]));
        add(&vc, h, 4);
        add(&vc, o->tags[i], strlen(o->tags[i]));
    }
    if (o->no_total) {
        /* STREAMINFO's body is at 8: the count's top bits share byte 21 */
        d[8 + 13] &= 0xf0;
        memset(d + 8 + 14, 0, 4);
    }
    add(&out, "fLaC", 4);
    hdr[n_blocks++] = out.len;
    add(&out, d + 4, 4 + 34);           /* STREAMINFO */
    out.d[4] &= 0x7f;
    vc_hdr = out.len;
    if (!o->no_vorbis) {
        hdr[n_blocks++] = out.len;
        add_block(&out, 4, vc.d, vc.len);
    }
    if (o->picture != NULL) {
        size_t plen;
        unsigned char *pic = slurp(o->picture, &plen);
        const char *mime = strstr(o->picture, ".png") ? "image/png"
                                                      : "image/jpeg";
        static const char desc[] = "cover";
        bytes b = { NULL, 0, 0 };

        put32be(h, 3);                  /* front cover */
        add(&b, h, 4);
        put32be(h, strlen(mime));
        add(&b, h, 4);
        add(&b, mime, strlen(mime));
        put32be(h, sizeof desc - 1);
        add(&b, h, 4);
        add(&b, desc, sizeof desc - 1);
        memset(h, 0, 8);
        add(&b, h, 8);                  /* width, height */
        add(&b, h, 8);                  /* depth, colours */
        put32be(h, plen);
        add(&b, h, 4);
        add(&b, pic, plen);
        hdr[n_blocks++] = out.len;
        add_block(&out, 6, b.d, b.len);
        free(b.d);
        free(pic);
    }
    if (o->application) {
        hdr[n_blocks++] = out.len;
        add_block(&out, 2, "aimkgenaudio fixture", 20);
    }
    if (o->padding >= 0) {
        unsigned char *z = calloc(1, (size_t)o->padding + 1);

        hdr[n_blocks++] = out.len;
        add_block(&out, 1, z, (size_t)o->padding);
        free(z);
    }
    out.d[hdr[n_blocks - 1]] |= 0x80;
    if (o->bad_length)
        put24(out.d + vc_hdr + 1, vc.len + 9);
    add(&out, d + audio, len - audio);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(out.d, 1, out.len, f) != out.len ||
        fclose(f) != 0)
        die("cannot write the output");
    free(out.d);
    free(vc.d);
    free(d);
}

static void write_file(const char *path, const bytes *b)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL || fwrite(b->d, 1, b->len, f) != b->len || fclose(f) != 0)
        die("cannot write the output");
}

/* The Ogg libsndfile wrote, the tags added to its comment header. */
static void edit_ogg(const char *path, const opts *o)
{
    size_t len, i;
    unsigned char *d = slurp(path, &len);
    ogg_sync_state sy;
    ogg_stream_state in, out;
    ogg_page pg;
    ogg_packet pk;
    bytes res = { NULL, 0, 0 }, c = { NULL, 0, 0 };
    int n_hdr = 0, want = 0, pages = 0, first = 1;
    long delta = 0;

    ogg_sync_init(&sy);
    memcpy(ogg_sync_buffer(&sy, (long)len), d, len);
    ogg_sync_wrote(&sy, (long)len);
    while (ogg_sync_pageout(&sy, &pg) == 1) {
        if (first) {
            ogg_stream_init(&in, ogg_page_serialno(&pg));
            ogg_stream_init(&out, ogg_page_serialno(&pg));
            want = memcmp(pg.body, "OpusHead", 8) == 0 ? 2 : 3;
            first = 0;
        }
        if (n_hdr < want) {
            ogg_stream_pagein(&in, &pg);
            while (n_hdr < want && ogg_stream_packetout(&in, &pk) == 1) {
                if (n_hdr == 1) {
                    /* vendor, count, comments, then the rest */
                    size_t v = 4 + (size_t)(pk.packet[want == 2 ? 8 : 7] |
                                            pk.packet[want == 2 ? 9 : 8] << 8),
                           at = (want == 2 ? 8 : 7) + v;
                    unsigned char *q = pk.packet + at;
                    uint32_t n = (uint32_t)(q[0] | q[1] << 8 | q[2] << 16) +
                                 (uint32_t)o->n_tags;
                    unsigned char h[4];
                    size_t end = at + 4;

                    for (i = 0; i < (size_t)(q[0] | q[1] << 8); i++)
                        end += 4 + (size_t)(pk.packet[end] |
                                            pk.packet[end + 1] << 8);
                    add(&c, pk.packet, at);
                    put32le(h, n);
                    add(&c, h, 4);
                    add(&c, pk.packet + at + 4, end - at - 4);
                    for (i = 0; i < (size_t)o->n_tags; i++) {
                        put32le(h, strlen(o->tags[i]));
                        add(&c, h, 4);
                        add(&c, o->tags[i], strlen(o->tags[i]));
                    }
                    add(&c, pk.packet + end, (size_t)pk.bytes - end);
                    pk.packet = c.d;
                    pk.bytes = (long)c.len;
                }
                ogg_stream_packetin(&out, &pk);
                if (n_hdr == 0 || n_hdr == want - 1)
                    while (ogg_stream_flush(&out, &pg) != 0) {
                        add(&res, pg.header, (size_t)pg.header_len);
                        add(&res, pg.body, (size_t)pg.body_len);
                        pages++;
                    }
                n_hdr++;
            }
            if (n_hdr == want)
                delta = pages - ogg_page_pageno(&pg) - 1;
            continue;
        }
        {
            size_t at = res.len;
            long seq = ogg_page_pageno(&pg) + delta;

            add(&res, pg.header, (size_t)pg.header_len);
            add(&res, pg.body, (size_t)pg.body_len);
            put32le(res.d + at + 18, (size_t)seq);
            pg.header = res.d + at;
            pg.body = res.d + at + pg.header_len;
            ogg_page_checksum_set(&pg);
        }
    }
    write_file(path, &res);
    ogg_stream_clear(&in);
    ogg_stream_clear(&out);
    ogg_sync_clear(&sy);
    free(res.d);
    free(c.d);
    free(d);
}

static void put_syncsafe(unsigned char *p, size_t v)
{
    p[0] = (unsigned char)(v >> 21 & 0x7f);
    p[1] = (unsigned char)(v >> 14 & 0x7f);
    p[2] = (unsigned char)(v >> 7 & 0x7f);
    p[3] = (unsigned char)(v & 0x7f);
}

static void add_utf16(bytes *b, const char *s, size_t n)
{
    size_t i;

    add(b, "\xff\xfe", 2);
    for (i = 0; i < n; i++) {
        unsigned char w[2] = { (unsigned char)s[i], 0 };

        add(b, w, 2);                   /* ASCII only, as the tests use */
    }
}

static void id3_frame(bytes *t, int v, const char *id, const bytes *body)
{
    unsigned char h[10];

    memcpy(h, id, 4);
    if (v == 4)
        put_syncsafe(h + 4, body->len);
    else
        put32be(h + 4, body->len);
    h[8] = h[9] = 0;
    add(t, h, 10);
    add(t, body->d, body->len);
}

/* The MP3 libsndfile wrote, an ID3v2 tag before it. */
static void edit_mp3(const char *path, const opts *o)
{
    size_t len, i;
    unsigned char *d = slurp(path, &len), h[10] = { 'I', 'D', '3' };
    bytes t = { NULL, 0, 0 }, res = { NULL, 0, 0 };

    for (i = 0; o->id3 && i <= (size_t)o->n_txxx; i++) {
        bytes b = { NULL, 0, 0 };
        const char *s = i == 0 ? o->title : o->txxx[i - 1];
        const char *eq = i == 0 || s == NULL ? NULL : strchr(s, '=');

        if (s == NULL)
            continue;
        if (o->utf16) {
            add(&b, "\x01", 1);
            if (eq != NULL) {
                add_utf16(&b, s, (size_t)(eq - s));
                add(&b, "\0\0", 2);
                s = eq + 1;
            }
            add_utf16(&b, s, strlen(s));
        } else {
            add(&b, o->id3 == 4 ? "\x03" : "\0", 1);
            if (eq != NULL) {
                add(&b, s, (size_t)(eq - s));
                add(&b, "", 1);
                s = eq + 1;
            }
            add(&b, s, strlen(s));
        }
        id3_frame(&t, o->id3, i == 0 ? "TIT2" : "TXXX", &b);
        free(b.d);
    }
    if (o->id3) {
        h[3] = (unsigned char)o->id3;
        h[4] = h[5] = 0;
        add(&t, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);   /* padding */
        put_syncsafe(h + 6, t.len);
        add(&res, h, 10);
        add(&res, t.d, t.len);
    }
    add(&res, d, len);
    if (o->id3v1) {
        unsigned char v1[128];

        memset(v1, 0, sizeof v1);
        memcpy(v1, "TAGgenaudio ID3v1 title", 23);
        add(&res, v1, sizeof v1);
    }
    write_file(path, &res);
    free(t.d);
    free(res.d);
    free(d);
}

int main(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *str[3] = { NULL, NULL, NULL };
    static const int str_type[3] = { SF_STR_TITLE, SF_STR_ARTIST,
                                     SF_STR_COMMENT };
    const format *fmt = NULL;
    opts o;
    long trunc = -1;
    SF_INFO ii, oi;
    SNDFILE *a, *b;
    int buf[4096 * 8], i;
    sf_count_t n;

    memset(&o, 0, sizeof o);
    o.bits = 16;
    o.padding = -1;
    for (i = 1; i < argc; i++) {
        const char *s = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(s, "--application") == 0) o.application = 1;
        else if (strcmp(s, "--no-total") == 0) o.no_total = 1;
        else if (strcmp(s, "--bad-length") == 0) o.bad_length = 1;
        else if (strcmp(s, "--no-vorbis") == 0) o.no_vorbis = 1;
        else if (strcmp(s, "--utf16") == 0) o.utf16 = 1;
        else if (strcmp(s, "--id3v1") == 0) o.id3v1 = 1;
        else if (s[0] == '-' && s[1] == '-' && v == NULL) {
            fprintf(stderr, "genaudio: %s needs a value\n", s);
            return 1;
        } else if (strcmp(s, "--bits") == 0) o.bits = atoi(argv[++i]);
        else if (strcmp(s, "--title") == 0) str[0] = argv[++i];
        else if (strcmp(s, "--artist") == 0) str[1] = argv[++i];
        else if (strcmp(s, "--comment") == 0) str[2] = argv[++i];
        else if (strcmp(s, "--picture") == 0) o.picture = argv[++i];
        else if (strcmp(s, "--padding") == 0) o.padding = atol(argv[++i]);
        else if (strcmp(s, "--truncate") == 0) trunc = atol(argv[++i]);
        else if (strcmp(s, "--id3") == 0) o.id3 = atoi(argv[++i]);
        else if (strcmp(s, "--txxx") == 0) {
            if (o.n_txxx == MAX_TAGS || strchr(argv[i + 1], '=') == NULL)
                die("--txxx wants DESC=VALUE (16 at most)");
            o.txxx[o.n_txxx++] = argv[++i];
        } else if (strcmp(s, "--tag") == 0) {
            if (o.n_tags == MAX_TAGS || strchr(argv[i + 1], '=') == NULL)
                die("--tag wants NAME=VALUE (16 at most)");
            o.tags[o.n_tags++] = argv[++i];
        } else if (in == NULL && s[0] != '-') in = s;
        else if (out == NULL && s[0] != '-') out = s;
        else {
            fprintf(stderr, "genaudio: unknown argument '%s'\n", s);
            return 1;
        }
    }
    if (in == NULL || out == NULL) {
        fprintf(stderr, "usage: genaudio IN.wav OUT.EXT [options] (see the "
                        "source)\n");
        return 1;
    }
    for (i = 0; i < (int)(sizeof formats / sizeof formats[0]); i++) {
        size_t el = strlen(formats[i].ext), ol = strlen(out);

        if (ol > el && strcmp(out + ol - el, formats[i].ext) == 0)
            fmt = &formats[i];
    }
    if (fmt == NULL)
        die("unknown output extension");
    if (o.bits != 8 && o.bits != 16 && o.bits != 24)
        die("--bits wants 8, 16 or 24");
    o.title = str[0];
    if (o.id3 != 0 && o.id3 != 3 && o.id3 != 4)
        die("--id3 wants 3 or 4");
    if (fmt->major != SF_FORMAT_MPEG && (o.id3 || o.n_txxx || o.id3v1))
        die("--id3, --txxx and --id3v1 are for MP3");
    if (fmt->major != SF_FORMAT_FLAC &&
        (o.picture || o.application || o.padding >= 0 ||
         o.no_total || o.bad_length || o.no_vorbis))
        die("--picture, --application, --padding, --no-total, "
            "--bad-length and --no-vorbis are for FLAC");
    if (o.no_vorbis && (o.n_tags || o.bad_length || str[0] || str[1] ||
                        str[2]))
        die("--no-vorbis leaves no place for tags");
    memset(&ii, 0, sizeof ii);
    a = sf_open(in, SFM_READ, &ii);
    if (a == NULL) {
        fprintf(stderr, "genaudio: '%s': %s\n", in, sf_strerror(NULL));
        return 1;
    }
    if (ii.channels > 8)
        die("more than 8 channels");
    memset(&oi, 0, sizeof oi);
    oi.samplerate = ii.samplerate;
    oi.channels = ii.channels;
    oi.format = fmt->major | (fmt->fixed ? fmt->fixed
                              : o.bits == 8 ? (fmt->major == SF_FORMAT_WAV
                                               ? SF_FORMAT_PCM_U8
                                               : SF_FORMAT_PCM_S8)
                              : o.bits == 16 ? SF_FORMAT_PCM_16
                                             : SF_FORMAT_PCM_24);
    b = sf_open(out, SFM_WRITE, &oi);
    if (b == NULL) {
        fprintf(stderr, "genaudio: '%s': %s\n", out, sf_strerror(NULL));
        return 1;
    }
    for (i = 0; i < 3; i++)
        if (str[i] != NULL && sf_set_string(b, str_type[i], str[i]) != 0)
            die("libsndfile cannot set a string tag");
    while ((n = sf_readf_int(a, buf, 4096)) > 0)
        if (sf_writef_int(b, buf, n) != n)
            die("libsndfile cannot write the samples");
    sf_close(a);
    if (sf_close(b) != 0)
        die("libsndfile cannot finish the output");
    if (fmt->major == SF_FORMAT_FLAC)
        edit_flac(out, &o);
    else if (fmt->major == SF_FORMAT_OGG && o.n_tags)
        edit_ogg(out, &o);
    else if (fmt->major == SF_FORMAT_MPEG)
        edit_mp3(out, &o);
    else if (o.n_tags)
        die("--tag is for FLAC and Ogg");
    if (trunc >= 0 && truncate(out, trunc) != 0) {
        perror("genaudio");
        return 1;
    }
    return 0;
}
