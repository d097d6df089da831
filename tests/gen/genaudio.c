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
 * (one row of the formats table each; Ogg and MP3 rows can follow).
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
 * Any format:
 *   --truncate N       cut the output to N bytes
 *
 * The samples are copied as integers, so they stay exact when the bits
 * are those of the WAV.  Output is the same on every run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
        else if (strcmp(s, "--tag") == 0) {
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
    if (fmt->major != SF_FORMAT_FLAC &&
        (o.n_tags || o.picture || o.application || o.padding >= 0 ||
         o.no_total || o.bad_length || o.no_vorbis))
        die("--tag, --picture, --application, --padding, --no-total, "
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
    if (trunc >= 0 && truncate(out, trunc) != 0) {
        perror("genaudio");
        return 1;
    }
    return 0;
}
