/*
 * genimg - generate the small PNG/JPEG fixtures used by the aimark tests.
 *
 * Every byte is produced here from code and fixed seeds, so the fixtures
 * can be regenerated bit-for-bit and carry no third-party content.
 *
 * Usage: genimg OUTDIR
 */

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <jpeglib.h>

#define IMG_W 64
#define IMG_H 48

/* Large enough for the biggest XMP packet, TIFF blob or ICC profile. */
#define BUF_CAP 8192

#define TC260_NS "http://www.tc260.org.cn/ns/AIGC/1.0/"
/* Namespace used by a known broken writer; readers must not accept it. */
#define BAD_NS "http://ns.adobe.com/xap/1.0/tc/"

#define PRODUCER "001191110102MAD55U9H0F10002"

#define LABEL_BARE                                                      \
    "{\"Label\":\"1\",\"ContentProducer\":\"" PRODUCER "\","            \
    "\"ProduceID\":\"abc-123\",\"ReservedCode1\":\"\","                 \
    "\"ContentPropagator\":\"" PRODUCER "\",\"PropagateID\":\"abc-123\"," \
    "\"ReservedCode2\":\"\"}"
#define LABEL_WRAPPED "{\"AIGC\":" LABEL_BARE "}"

/* Propagation fields deliberately differ from the production ones. */
#define LABEL2_WRAPPED                                                  \
    "{\"AIGC\":{\"Label\":\"2\",\"ContentProducer\":\"" PRODUCER "\","  \
    "\"ProduceID\":\"abc-123\",\"ReservedCode1\":\"\","                 \
    "\"ContentPropagator\":\"doubao\",\"PropagateID\":\"p-9\","         \
    "\"ReservedCode2\":\"\"}}"

/* Breaks several rules at once so validators have something to report. */
#define LABEL_BAD_WRAPPED                                               \
    "{\"AIGC\":{\"Label\":\"7\",\"ContentProducer\":\"\","              \
    "\"ProduceID\":\"x y\",\"Extra\":\"1\"}}"

/* One fixed instant for every timestamp, so output never depends on now. */
#define FIXED_EXIF_TIME "2024:01:02 03:04:05"

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

static const char *g_outdir;

struct buf {
    unsigned char b[BUF_CAP];
    size_t len;
};

_Noreturn static void fail(const char *fmt, ...) PRINTF_LIKE(1, 2);

_Noreturn static void fail(const char *fmt, ...)
{
    va_list ap;

    fputs("genimg: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* ------------------------------------------------------------------ */
/* Byte buffers                                                        */

static void buf_add(struct buf *d, const void *src, size_t n)
{
    /* Keep one spare byte so text users can always NUL-terminate. */
    if (n >= sizeof d->b - d->len)
        fail("internal buffer overflow");
    memcpy(d->b + d->len, src, n);
    d->len += n;
    d->b[d->len] = 0;
}

static void buf_str(struct buf *d, const char *s)
{
    buf_add(d, s, strlen(s));
}

static void buf_printf(struct buf *d, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void buf_printf(struct buf *d, const char *fmt, ...)
{
    va_list ap;
    size_t room = sizeof d->b - d->len;
    int n;

    va_start(ap, fmt);
    n = vsnprintf((char *)d->b + d->len, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room)
        fail("internal buffer overflow");
    d->len += (size_t)n;
}

/*
 * Attribute values need &quot; but element text may keep raw quotes,
 * which is what most real writers emit, so both shapes get exercised.
 */
static void buf_xml_escaped(struct buf *d, const char *s, int in_attr)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': buf_str(d, "&amp;"); break;
        case '<': buf_str(d, "&lt;"); break;
        case '>': buf_str(d, "&gt;"); break;
        case '"':
            if (in_attr)
                buf_str(d, "&quot;");
            else
                buf_add(d, s, 1);
            break;
        default: buf_add(d, s, 1); break;
        }
    }
}

/* ------------------------------------------------------------------ */
/* Pixel content                                                       */

static uint32_t rng_next(uint32_t *s)
{
    uint32_t x = *s;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

/* Seeding from the file name gives each fixture its own texture. */
static uint32_t seed_for(const char *name)
{
    uint32_t h = 2166136261u;

    for (; *name; name++)
        h = (h ^ (unsigned char)*name) * 16777619u;
    return h ? h : 1u;  /* xorshift must never start at zero */
}

/*
 * Returns a 16-bit sample.  Each "plane" follows a different gradient so
 * channel mix-ups show up as visibly wrong images; the noise keeps the
 * encoders from collapsing everything into trivial runs.
 */
static unsigned sample(unsigned x, unsigned y, unsigned plane, uint32_t *rng)
{
    uint32_t gx = x * 65535u / (IMG_W - 1);
    uint32_t gy = y * 65535u / (IMG_H - 1);
    int32_t dx = (int32_t)x - IMG_W / 2;
    int32_t dy = (int32_t)y - IMG_H / 2;
    uint32_t d2 = (uint32_t)(dx * dx + dy * dy);
    /* Soft disc that stays above ~25% so alpha never hides the image. */
    uint32_t disc = 65535u - d2 * 30u;
    int32_t v;

    switch (plane) {
    case 0: v = (int32_t)gx; break;
    case 1: v = (int32_t)gy; break;
    case 2: v = (int32_t)((gx + gy) / 2); break;
    case 3: v = (int32_t)disc; break;
    default: v = (int32_t)(65535u - disc); break;
    }
    v += (int32_t)(rng_next(rng) & 0x1fffu) - 0x1000;
    if (v < 0)
        v = 0;
    if (v > 65535)
        v = 65535;
    return (unsigned)v;
}

/* Which gradient plane feeds each channel of a given layout. */
static const unsigned *plane_map(int color_type, unsigned *nch)
{
    static const unsigned gray[] = { 2 };
    static const unsigned ga[] = { 2, 3 };
    static const unsigned rgba[] = { 0, 1, 2, 3 };

    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY:
    case PNG_COLOR_TYPE_PALETTE:
        *nch = 1;
        return gray;
    case PNG_COLOR_TYPE_GRAY_ALPHA:
        *nch = 2;
        return ga;
    case PNG_COLOR_TYPE_RGB:
        *nch = 3;
        return rgba;
    default:
        *nch = 4;
        return rgba;
    }
}

/* ------------------------------------------------------------------ */
/* Files                                                               */

static FILE *open_out(const char *name, char *path, size_t cap)
{
    FILE *fp;
    int n = snprintf(path, cap, "%s/%s", g_outdir, name);

    if (n < 0 || (size_t)n >= cap)
        fail("output path too long: %s", name);
    fp = fopen(path, "wb");
    if (!fp)
        fail("cannot create %s", path);
    return fp;
}

static void close_out(FILE *fp, const char *path)
{
    int bad = ferror(fp);

    if (fclose(fp) != 0 || bad)
        fail("write error on %s", path);
}

/* ------------------------------------------------------------------ */
/* TIFF / Exif                                                         */

enum { T_ASCII = 2, T_SHORT = 3, T_LONG = 4, T_UNDEF = 7 };

#define TAG_EXIF_IFD 0x8769u

struct tag {
    uint16_t id;
    uint16_t type;
    uint32_t count;     /* for ASCII this includes the trailing NUL */
    uint32_t num;       /* value of a SHORT or LONG */
    const void *bytes;  /* payload of ASCII or UNDEFINED */
};

static void tiff_u16(struct buf *t, int be, size_t at, unsigned v)
{
    if (at + 2 > sizeof t->b)
        fail("TIFF overflow");
    t->b[at + (be ? 0 : 1)] = (unsigned char)(v >> 8);
    t->b[at + (be ? 1 : 0)] = (unsigned char)v;
}

static void tiff_u32(struct buf *t, int be, size_t at, uint32_t v)
{
    int i;

    if (at + 4 > sizeof t->b)
        fail("TIFF overflow");
    for (i = 0; i < 4; i++) {
        unsigned char byte = (unsigned char)(v >> (8 * i));
        t->b[at + (size_t)(be ? 3 - i : i)] = byte;
    }
}

static size_t ifd_size(size_t n)
{
    return 2 + 12 * n + 4;
}

/*
 * Out-of-line values go to *data (an offset from the TIFF header, as the
 * spec requires) and are padded to even offsets because some readers
 * insist on word alignment.
 */
static void tiff_ifd(struct buf *t, int be, size_t at, const struct tag *tags,
                     size_t n, uint32_t exif_at, size_t *data)
{
    size_t i;

    tiff_u16(t, be, at, (unsigned)n);
    for (i = 0; i < n; i++) {
        const struct tag *g = &tags[i];
        size_t e = at + 2 + 12 * i;

        /* Readers may binary-search IFDs, so order is mandatory. */
        if (i > 0 && g->id <= tags[i - 1].id)
            fail("TIFF tags not in ascending order");
        tiff_u16(t, be, e, g->id);
        tiff_u16(t, be, e + 2, g->type);
        tiff_u32(t, be, e + 4, g->count);
        if (g->type == T_SHORT || g->type == T_LONG) {
            if (g->count != 1)
                fail("TIFF numeric arrays are not supported");
            if (g->type == T_SHORT)
                tiff_u16(t, be, e + 8, (unsigned)g->num);
            else
                tiff_u32(t, be, e + 8,
                         g->id == TAG_EXIF_IFD ? exif_at : g->num);
        } else if (g->count <= 4) {
            memcpy(t->b + e + 8, g->bytes, g->count);
        } else {
            if (*data + g->count + 1 > sizeof t->b)
                fail("TIFF overflow");
            memcpy(t->b + *data, g->bytes, g->count);
            tiff_u32(t, be, e + 8, (uint32_t)*data);
            *data += g->count + (g->count & 1u);
        }
    }
    tiff_u32(t, be, at + 2 + 12 * n, 0);  /* no further IFD */
}

/* Lays out header, IFD0, Exif IFD, then the value area, in that order. */
static void build_tiff(struct buf *t, int be, const struct tag *ifd0,
                       size_t n0, const struct tag *exif, size_t n1)
{
    size_t exif_at = 8 + ifd_size(n0);
    size_t data = exif_at + ifd_size(n1);

    memset(t, 0, sizeof *t);
    t->b[0] = t->b[1] = (unsigned char)(be ? 'M' : 'I');
    tiff_u16(t, be, 2, 42);
    tiff_u32(t, be, 4, 8);
    tiff_ifd(t, be, 8, ifd0, n0, (uint32_t)exif_at, &data);
    tiff_ifd(t, be, exif_at, exif, n1, 0, &data);
    t->len = data;
}

#define STR_TAG(id, s) { (id), T_ASCII, (uint32_t)sizeof(s), 0, (s) }

/*
 * Standard Exif skeleton; the UserComment payload (already carrying its
 * 8-byte character-code prefix) is optional.
 */
static void build_exif(struct buf *t, int be, int with_model,
                       const struct buf *comment)
{
    struct tag ifd0[4];
    struct tag exif[3];
    size_t n0 = 0, n1 = 0;
    const struct tag make = STR_TAG(0x010f, "genimg");
    const struct tag model = STR_TAG(0x0110, "Test Generator");
    const struct tag orient = { 0x0112, T_SHORT, 1, 1, NULL };
    const struct tag ptr = { TAG_EXIF_IFD, T_LONG, 1, 0, NULL };
    const struct tag version = { 0x9000, T_UNDEF, 4, 0, "0232" };
    const struct tag when = STR_TAG(0x9003, FIXED_EXIF_TIME);

    ifd0[n0++] = make;
    if (with_model)
        ifd0[n0++] = model;
    ifd0[n0++] = orient;
    ifd0[n0++] = ptr;
    exif[n1++] = version;
    exif[n1++] = when;
    if (comment) {
        struct tag uc = { 0x9286, T_UNDEF, 0, 0, NULL };

        uc.count = (uint32_t)comment->len;
        uc.bytes = comment->b;
        exif[n1++] = uc;
    }
    build_tiff(t, be, ifd0, n0, exif, n1);
}

/* Exif says the first 8 bytes name the character code of UserComment. */
static void user_comment(struct buf *c, const char *text)
{
    memset(c, 0, sizeof *c);
    buf_add(c, "ASCII\0\0\0", 8);
    buf_str(c, text);
}

/* ------------------------------------------------------------------ */
/* ICC profile                                                         */

static void be32_at(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void be16_add(struct buf *d, unsigned v)
{
    unsigned char b[2];

    b[0] = (unsigned char)(v >> 8);
    b[1] = (unsigned char)v;
    buf_add(d, b, 2);
}

static void be32_add(struct buf *d, uint32_t v)
{
    unsigned char b[4];

    be32_at(b, v);
    buf_add(d, b, 4);
}

static uint32_t s15f16(double v)
{
    return (uint32_t)(int32_t)(v * 65536.0 + (v < 0 ? -0.5 : 0.5));
}

static void icc_pad4(struct buf *d)
{
    static const unsigned char zero[3] = { 0, 0, 0 };

    buf_add(d, zero, (4 - d->len % 4) % 4);
}

static void icc_mluc(struct buf *d, const char *s)
{
    size_t n = strlen(s);

    buf_str(d, "mluc");
    be32_add(d, 0);
    be32_add(d, 1);                 /* one record */
    be32_add(d, 12);                /* record size */
    buf_str(d, "enUS");
    be32_add(d, (uint32_t)(2 * n));
    be32_add(d, 28);                /* string offset inside this tag */
    for (; *s; s++)
        be16_add(d, (unsigned char)*s);
}

static void icc_xyz(struct buf *d, double x, double y, double z)
{
    buf_str(d, "XYZ ");
    be32_add(d, 0);
    be32_add(d, s15f16(x));
    be32_add(d, s15f16(y));
    be32_add(d, s15f16(z));
}

static void icc_curv(struct buf *d)
{
    buf_str(d, "curv");
    be32_add(d, 0);
    be32_add(d, 1);
    be16_add(d, 0x0233);            /* gamma 2.2 as u8Fixed8 */
}

/*
 * A small but genuinely usable v4 matrix/TRC display profile (sRGB-like
 * primaries adapted to D50).  libpng validates the header and tag table,
 * so a random blob would be rejected.
 */
static void build_icc(struct buf *d)
{
    enum { NTAGS = 9 };
    static const char sigs[NTAGS][5] = {
        "desc", "cprt", "wtpt", "rXYZ", "gXYZ", "bXYZ",
        "rTRC", "gTRC", "bTRC"
    };
    static const unsigned char date[12] = {
        0x07, 0xe8, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5
    };
    size_t i, table = 132;

    memset(d, 0, sizeof *d);
    d->len = 128;
    be32_at(d->b + 8, 0x04300000u);            /* version 4.3 */
    memcpy(d->b + 12, "mntrRGB XYZ ", 12);
    memcpy(d->b + 24, date, sizeof date);
    memcpy(d->b + 36, "acsp", 4);
    be32_at(d->b + 68, s15f16(0.9642));        /* PCS illuminant D50 */
    be32_at(d->b + 72, s15f16(1.0));
    be32_at(d->b + 76, s15f16(0.8249));
    memcpy(d->b + 80, "gimg", 4);              /* creator */
    be32_add(d, NTAGS);
    d->len += 12 * NTAGS;                      /* table filled in below */

    for (i = 0; i < NTAGS; i++) {
        size_t start = d->len;
        unsigned char *ent = d->b + table + 12 * i;

        switch (i) {
        case 0: icc_mluc(d, "genimg test RGB"); break;
        case 1: icc_mluc(d, "No copyright, generated test data"); break;
        case 2: icc_xyz(d, 0.9642, 1.0, 0.8249); break;
        case 3: icc_xyz(d, 0.4361, 0.2225, 0.0139); break;
        case 4: icc_xyz(d, 0.3851, 0.7169, 0.0971); break;
        case 5: icc_xyz(d, 0.1431, 0.0606, 0.7141); break;
        default: icc_curv(d); break;
        }
        memcpy(ent, sigs[i], 4);
        be32_at(ent + 4, (uint32_t)start);
        be32_at(ent + 8, (uint32_t)(d->len - start));
        /* Tag data must start on 4-byte boundaries. */
        icc_pad4(d);
    }
    be32_at(d->b, (uint32_t)d->len);
}

/* ------------------------------------------------------------------ */
/* XMP                                                                 */

enum xmp_form { XMP_PLAIN, XMP_ELEMENT, XMP_ATTR };

/*
 * dc:creator and xmp:CreatorTool are always present so a metadata merger
 * has existing properties it must keep.
 */
static void build_xmp(struct buf *d, enum xmp_form form, const char *prefix,
                      const char *ns, const char *json)
{
    memset(d, 0, sizeof *d);
    buf_str(d, "<?xpacket begin=\"\xEF\xBB\xBF\" "
               "id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
               "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\" x:xmptk=\"genimg\">\n"
               " <rdf:RDF xmlns:rdf="
               "\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
               "  <rdf:Description rdf:about=\"\"\n"
               "    xmlns:dc=\"http://purl.org/dc/elements/1.1/\"\n"
               "    xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"\n");
    if (form != XMP_PLAIN)
        buf_printf(d, "    xmlns:%s=\"%s\"\n", prefix, ns);
    if (form == XMP_ATTR) {
        buf_printf(d, "    %s:AIGC=\"", prefix);
        buf_xml_escaped(d, json, 1);
        buf_str(d, "\"\n");
    }
    buf_str(d, "    xmp:CreatorTool=\"genimg 1.0\">\n"
               "   <dc:creator>\n"
               "    <rdf:Seq>\n"
               "     <rdf:li>genimg test suite</rdf:li>\n"
               "    </rdf:Seq>\n"
               "   </dc:creator>\n");
    if (form == XMP_ELEMENT) {
        buf_printf(d, "   <%s:AIGC>", prefix);
        buf_xml_escaped(d, json, 0);
        buf_printf(d, "</%s:AIGC>\n", prefix);
    }
    buf_str(d, "  </rdf:Description>\n"
               " </rdf:RDF>\n"
               "</x:xmpmeta>\n"
               "<?xpacket end=\"w\"?>");
}

/* ------------------------------------------------------------------ */
/* PNG                                                                 */

static void png_fail(png_structp png, png_const_charp msg)
{
    (void)png;
    fail("libpng error: %s", msg);
}

/* A dropped chunk would make a fixture silently lie, so warnings abort. */
static void png_warn(png_structp png, png_const_charp msg)
{
    (void)png;
    fail("libpng warning: %s", msg);
}

struct txt {
    int comp;           /* PNG_TEXT_COMPRESSION_* / PNG_ITXT_COMPRESSION_* */
    const char *key;
    const char *text;
};

typedef void (*png_hook)(png_structp png, png_infop info);

struct png_opts {
    int color_type;
    int bit_depth;
    int interlace;
    const struct txt *pre;      /* text chunks placed before IDAT */
    size_t npre;
    const struct txt *post;     /* text chunks placed after IDAT */
    size_t npost;
    png_hook extra;             /* further ancillary chunks */
    size_t zbuf;                /* small value forces several IDATs */
};

#define MAX_TEXT 8

static void set_texts(png_structp png, png_infop info, const struct txt *t,
                      size_t n)
{
    png_text pt[MAX_TEXT];
    size_t i;

    if (n == 0)
        return;
    if (n > MAX_TEXT)
        fail("too many text chunks");
    memset(pt, 0, sizeof pt);
    for (i = 0; i < n; i++) {
        pt[i].compression = t[i].comp;
        pt[i].key = (png_charp)t[i].key;
        pt[i].text = (png_charp)t[i].text;
        pt[i].lang = (png_charp)"";
        pt[i].lang_key = (png_charp)"";
    }
    png_set_text(png, info, pt, (int)n);
}

static void set_palette(png_structp png, png_infop info, int depth)
{
    png_color pal[256];
    png_byte alpha[64];
    int i, n = 1 << depth;

    for (i = 0; i < n; i++) {
        int v = i * 255 / (n - 1);

        pal[i].red = (png_byte)v;
        pal[i].green = (png_byte)(255 - v);
        pal[i].blue = (png_byte)(64 + v / 2);
    }
    png_set_PLTE(png, info, pal, n);
    if (depth == 8) {
        /* Only the low entries fade out: a partial tRNS is the tricky case. */
        for (i = 0; i < 64; i++)
            alpha[i] = (png_byte)(i * 4);
        png_set_tRNS(png, info, alpha, 64, NULL);
    }
}

static void fill_png(unsigned char *img, size_t rowbytes, int color_type,
                     int depth, uint32_t seed)
{
    unsigned nch, x, y, c;
    const unsigned *map = plane_map(color_type, &nch);
    uint32_t rng = seed;

    memset(img, 0, rowbytes * IMG_H);
    for (y = 0; y < IMG_H; y++) {
        unsigned char *row = img + rowbytes * y;
        size_t bit = 0;

        for (x = 0; x < IMG_W; x++) {
            for (c = 0; c < nch; c++) {
                unsigned v = sample(x, y, map[c], &rng);

                if (depth == 16) {
                    row[bit / 8] = (unsigned char)(v >> 8);
                    row[bit / 8 + 1] = (unsigned char)v;
                } else {
                    unsigned q = v >> (16 - depth);
                    unsigned shift = 8 - (unsigned)depth - bit % 8;

                    /* Sub-byte samples pack from the most significant bit. */
                    row[bit / 8] |= (unsigned char)(q << shift);
                }
                bit += (size_t)depth;
            }
        }
    }
}

static void write_png(const char *name, const struct png_opts *o)
{
    char path[4096];
    FILE *fp = open_out(name, path, sizeof path);
    png_structp png;
    png_infop info, end = NULL;
    unsigned nch;
    size_t rowbytes;
    unsigned char *img;
    png_bytep rows[IMG_H];
    int y;

    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL,
                                  png_fail, png_warn);
    if (!png)
        fail("png_create_write_struct failed");
    info = png_create_info_struct(png);
    if (!info)
        fail("png_create_info_struct failed");
    png_init_io(png, fp);
    if (o->zbuf)
        png_set_compression_buffer_size(png, o->zbuf);
    png_set_IHDR(png, info, IMG_W, IMG_H, o->bit_depth, o->color_type,
                 o->interlace, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (o->color_type == PNG_COLOR_TYPE_PALETTE)
        set_palette(png, info, o->bit_depth);
    if (o->extra)
        o->extra(png, info);
    set_texts(png, info, o->pre, o->npre);
    png_write_info(png, info);

    plane_map(o->color_type, &nch);
    rowbytes = ((size_t)IMG_W * nch * (size_t)o->bit_depth + 7) / 8;
    img = malloc(rowbytes * IMG_H);
    if (!img)
        fail("out of memory");
    fill_png(img, rowbytes, o->color_type, o->bit_depth, seed_for(name));
    for (y = 0; y < IMG_H; y++)
        rows[y] = img + rowbytes * (size_t)y;
    /* png_write_image handles Adam7 passes itself. */
    png_write_image(png, rows);

    /* A separate end info is what makes libpng emit chunks after IDAT. */
    if (o->npost) {
        end = png_create_info_struct(png);
        if (!end)
            fail("png_create_info_struct failed");
        set_texts(png, end, o->post, o->npost);
    }
    png_write_end(png, end);
    if (end)
        png_destroy_info_struct(png, &end);
    png_destroy_write_struct(&png, &info);
    free(img);
    close_out(fp, path);
}

static void simple_png(const char *name, int color_type, int depth,
                       int interlace)
{
    struct png_opts o;

    memset(&o, 0, sizeof o);
    o.color_type = color_type;
    o.bit_depth = depth;
    o.interlace = interlace;
    write_png(name, &o);
}

static void gen_png_kinds(void)
{
    const int ni = PNG_INTERLACE_NONE;

    simple_png("png-rgb8.png", PNG_COLOR_TYPE_RGB, 8, ni);
    simple_png("png-rgba8.png", PNG_COLOR_TYPE_RGB_ALPHA, 8, ni);
    simple_png("png-rgb16.png", PNG_COLOR_TYPE_RGB, 16, ni);
    simple_png("png-rgba16.png", PNG_COLOR_TYPE_RGB_ALPHA, 16, ni);
    simple_png("png-gray8.png", PNG_COLOR_TYPE_GRAY, 8, ni);
    simple_png("png-gray16.png", PNG_COLOR_TYPE_GRAY, 16, ni);
    simple_png("png-graya8.png", PNG_COLOR_TYPE_GRAY_ALPHA, 8, ni);
    simple_png("png-palette.png", PNG_COLOR_TYPE_PALETTE, 8, ni);
    simple_png("png-palette4.png", PNG_COLOR_TYPE_PALETTE, 4, ni);
    simple_png("png-interlaced.png", PNG_COLOR_TYPE_RGB, 8,
               PNG_INTERLACE_ADAM7);
    simple_png("png-gray1.png", PNG_COLOR_TYPE_GRAY, 1, ni);
}

/* Chunks that a label writer must carry through byte-for-byte. */
static void png_meta_chunks(png_structp png, png_infop info)
{
    struct buf icc, exif;
    png_time t;

    build_icc(&icc);
    png_set_iCCP(png, info, "genimg RGB", PNG_COMPRESSION_TYPE_BASE,
                 icc.b, (png_uint_32)icc.len);
    png_set_gAMA_fixed(png, info, 45455);
    png_set_pHYs(png, info, 2835, 2835, PNG_RESOLUTION_METER);
    memset(&t, 0, sizeof t);
    t.year = 2024;
    t.month = 1;
    t.day = 2;
    t.hour = 3;
    t.minute = 4;
    t.second = 5;
    png_set_tIME(png, info, &t);
    build_exif(&exif, 0, 0, NULL);
    png_set_eXIf_1(png, info, (png_uint_32)exif.len, exif.b);
}

static const char meta_description[] =
    "This image was generated by genimg for the aimark test suite. "
    "It contains a smooth colour gradient overlaid with pseudo-random "
    "texture from a fixed-seed xorshift generator, so every run produces "
    "identical bytes. The metadata chunks are here to check that tools "
    "which add or rewrite labels keep unrelated chunks intact.";

static void gen_png_meta(void)
{
    struct buf xmp;
    struct png_opts o;
    struct txt t[3];

    build_xmp(&xmp, XMP_PLAIN, NULL, NULL, NULL);
    t[0].comp = PNG_TEXT_COMPRESSION_NONE;
    t[0].key = "Comment";
    t[0].text = "made by genimg";
    t[1].comp = PNG_TEXT_COMPRESSION_zTXt;
    t[1].key = "Description";
    t[1].text = meta_description;
    t[2].comp = PNG_ITXT_COMPRESSION_NONE;
    t[2].key = "XML:com.adobe.xmp";
    t[2].text = (const char *)xmp.b;

    memset(&o, 0, sizeof o);
    o.color_type = PNG_COLOR_TYPE_RGB;
    o.bit_depth = 8;
    o.interlace = PNG_INTERLACE_NONE;
    o.pre = t;
    o.npre = 3;
    o.extra = png_meta_chunks;
    o.zbuf = 1024;
    write_png("png-meta.png", &o);
}

static void labelled_png(const char *name, const struct txt *pre,
                         size_t npre, const struct txt *post, size_t npost)
{
    struct png_opts o;

    memset(&o, 0, sizeof o);
    o.color_type = PNG_COLOR_TYPE_RGB;
    o.bit_depth = 8;
    o.interlace = PNG_INTERLACE_NONE;
    o.pre = pre;
    o.npre = npre;
    o.post = post;
    o.npost = npost;
    write_png(name, &o);
}

static void xmp_png(const char *name, enum xmp_form form, const char *prefix,
                    const char *ns, int comp)
{
    struct buf xmp;
    struct txt t;

    build_xmp(&xmp, form, prefix, ns, LABEL_BARE);
    t.comp = comp;
    t.key = "XML:com.adobe.xmp";
    t.text = (const char *)xmp.b;
    labelled_png(name, &t, 1, NULL, 0);
}

static void text_png(const char *name, int comp, const char *json,
                     int after_idat)
{
    struct txt t;

    t.comp = comp;
    t.key = "AIGC";
    t.text = json;
    if (after_idat)
        labelled_png(name, NULL, 0, &t, 1);
    else
        labelled_png(name, &t, 1, NULL, 0);
}

static void gen_png_variants(void)
{
    const int raw = PNG_ITXT_COMPRESSION_NONE;
    const int plain = PNG_TEXT_COMPRESSION_NONE;
    struct buf xmp;
    struct txt dup[2];

    xmp_png("var-png-xmp-element.png", XMP_ELEMENT, "TC260", TC260_NS, raw);
    xmp_png("var-png-xmp-attr.png", XMP_ATTR, "TC260", TC260_NS, raw);
    xmp_png("var-png-xmp-prefix.png", XMP_ELEMENT, "tc260", TC260_NS, raw);
    xmp_png("var-png-xmp-compressed.png", XMP_ELEMENT, "TC260", TC260_NS,
            PNG_ITXT_COMPRESSION_zTXt);
    xmp_png("var-png-badns.png", XMP_ELEMENT, "TC260", BAD_NS, raw);

    text_png("var-png-text-wrapped.png", plain, LABEL_WRAPPED, 0);
    text_png("var-png-text-bare.png", plain, LABEL_BARE, 0);
    text_png("var-png-ztxt.png", PNG_TEXT_COMPRESSION_zTXt, LABEL_WRAPPED, 0);
    text_png("var-png-itxt-aigc.png", raw, LABEL_WRAPPED, 0);
    text_png("var-png-after-idat.png", plain, LABEL_WRAPPED, 1);
    text_png("var-png-label2.png", plain, LABEL2_WRAPPED, 0);
    text_png("var-png-badlabel.png", plain, LABEL_BAD_WRAPPED, 0);

    build_xmp(&xmp, XMP_ELEMENT, "TC260", TC260_NS, LABEL_BARE);
    dup[0].comp = raw;
    dup[0].key = "XML:com.adobe.xmp";
    dup[0].text = (const char *)xmp.b;
    dup[1].comp = plain;
    dup[1].key = "AIGC";
    dup[1].text = LABEL_WRAPPED;
    labelled_png("var-png-duplicate.png", dup, 2, NULL, 0);
}

/* ------------------------------------------------------------------ */
/* JPEG                                                                */

static void jpeg_fail(j_common_ptr cinfo)
{
    char msg[JMSG_LENGTH_MAX];

    (*cinfo->err->format_message)(cinfo, msg);
    fail("libjpeg error: %s", msg);
}

enum jkind { J_RGB, J_GRAY, J_CMYK };

struct jpeg_opts {
    enum jkind kind;
    int progressive;
    int no_subsample;
    unsigned restart;           /* in MCUs; 0 = none */
};

struct jmarker {
    int code;
    const struct buf *data;
};

static void write_jpeg(const char *name, const struct jpeg_opts *o,
                       const struct jmarker *m, size_t nm)
{
    static const unsigned rgb_map[] = { 0, 1, 2 };
    static const unsigned gray_map[] = { 2 };
    /* K uses the inverted disc so the centre stays light. */
    static const unsigned cmyk_map[] = { 0, 1, 2, 4 };
    char path[4096];
    FILE *fp = open_out(name, path, sizeof path);
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr jerr;
    unsigned char row[IMG_W * 4];
    const unsigned *map;
    unsigned nch, x, c;
    uint32_t rng = seed_for(name);
    size_t i;

    cinfo.err = jpeg_std_error(&jerr);
    jerr.error_exit = jpeg_fail;
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, fp);
    cinfo.image_width = IMG_W;
    cinfo.image_height = IMG_H;
    switch (o->kind) {
    case J_GRAY:
        nch = 1;
        map = gray_map;
        cinfo.in_color_space = JCS_GRAYSCALE;
        break;
    case J_CMYK:
        nch = 4;
        map = cmyk_map;
        cinfo.in_color_space = JCS_CMYK;
        break;
    default:
        nch = 3;
        map = rgb_map;
        cinfo.in_color_space = JCS_RGB;
        break;
    }
    cinfo.input_components = (int)nch;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, 85, TRUE);
    if (o->kind == J_CMYK) {
        /* Plain CMYK makes libjpeg emit the Adobe APP14 marker. */
        jpeg_set_colorspace(&cinfo, JCS_CMYK);
        cinfo.write_Adobe_marker = TRUE;
    } else {
        cinfo.write_JFIF_header = TRUE;
    }
    if (o->no_subsample) {
        cinfo.comp_info[0].h_samp_factor = 1;
        cinfo.comp_info[0].v_samp_factor = 1;
    }
    if (o->progressive)
        jpeg_simple_progression(&cinfo);
    cinfo.restart_interval = o->restart;

    jpeg_start_compress(&cinfo, TRUE);
    /* Markers written here land right after SOI and the JFIF APP0. */
    for (i = 0; i < nm; i++)
        jpeg_write_marker(&cinfo, m[i].code, m[i].data->b,
                          (unsigned)m[i].data->len);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW rp = row;

        for (x = 0; x < IMG_W; x++)
            for (c = 0; c < nch; c++)
                row[x * nch + c] = (unsigned char)
                    (sample(x, cinfo.next_scanline, map[c], &rng) >> 8);
        jpeg_write_scanlines(&cinfo, &rp, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    close_out(fp, path);
}

static void simple_jpeg(const char *name, enum jkind kind, int progressive,
                        int no_subsample, unsigned restart)
{
    struct jpeg_opts o;

    o.kind = kind;
    o.progressive = progressive;
    o.no_subsample = no_subsample;
    o.restart = restart;
    write_jpeg(name, &o, NULL, 0);
}

static void gen_jpeg_kinds(void)
{
    simple_jpeg("jpeg-baseline.jpg", J_RGB, 0, 0, 0);
    simple_jpeg("jpeg-progressive.jpg", J_RGB, 1, 0, 0);
    simple_jpeg("jpeg-gray.jpg", J_GRAY, 0, 0, 0);
    simple_jpeg("jpeg-cmyk.jpg", J_CMYK, 0, 0, 0);
    simple_jpeg("jpeg-444.jpg", J_RGB, 0, 1, 0);
    simple_jpeg("jpeg-restart.jpg", J_RGB, 0, 0, 2);
}

/* APP1 payloads carry a fixed identifier in front of the real data. */
static void app1_exif(struct buf *seg, int be, int with_model,
                      const char *comment)
{
    struct buf tiff, uc;

    if (comment)
        user_comment(&uc, comment);
    build_exif(&tiff, be, with_model, comment ? &uc : NULL);
    memset(seg, 0, sizeof *seg);
    buf_add(seg, "Exif\0\0", 6);
    buf_add(seg, tiff.b, tiff.len);
}

static void app1_xmp(struct buf *seg, enum xmp_form form, const char *json)
{
    struct buf xmp;

    build_xmp(&xmp, form, "TC260", TC260_NS, json);
    memset(seg, 0, sizeof *seg);
    buf_add(seg, "http://ns.adobe.com/xap/1.0/", 29);  /* includes NUL */
    buf_add(seg, xmp.b, xmp.len);
}

static void gen_jpeg_meta(void)
{
    static const unsigned char seq[2] = { 1, 1 };  /* chunk 1 of 1 */
    struct buf exif, icc, iccseg, xmp, com;
    struct jmarker m[5];
    struct jpeg_opts o;

    app1_exif(&exif, 0, 1, "hello world");
    build_icc(&icc);
    memset(&iccseg, 0, sizeof iccseg);
    buf_add(&iccseg, "ICC_PROFILE", 12);                /* includes NUL */
    buf_add(&iccseg, seq, 2);
    buf_add(&iccseg, icc.b, icc.len);
    app1_xmp(&xmp, XMP_PLAIN, NULL);
    memset(&com, 0, sizeof com);
    buf_str(&com, "genimg comment");

    m[0].code = JPEG_APP0 + 1;
    m[0].data = &exif;
    m[1].code = JPEG_APP0 + 2;
    m[1].data = &iccseg;
    m[2].code = JPEG_APP0 + 1;
    m[2].data = &xmp;
    m[3].code = JPEG_COM;
    m[3].data = &com;

    memset(&o, 0, sizeof o);
    o.kind = J_RGB;
    write_jpeg("jpeg-meta.jpg", &o, m, 4);
}

static void labelled_jpeg(const char *name, int progressive,
                          const struct buf *exif, const struct buf *xmp)
{
    struct jmarker m[2];
    struct jpeg_opts o;
    size_t n = 0;

    /* Exif first: some readers only look for it in the first APP1. */
    if (exif) {
        m[n].code = JPEG_APP0 + 1;
        m[n++].data = exif;
    }
    if (xmp) {
        m[n].code = JPEG_APP0 + 1;
        m[n++].data = xmp;
    }
    memset(&o, 0, sizeof o);
    o.kind = J_RGB;
    o.progressive = progressive;
    write_jpeg(name, &o, m, n);
}

static void gen_jpeg_variants(void)
{
    struct buf xmp_el, xmp_attr, exif_ii, exif_mm;

    app1_xmp(&xmp_el, XMP_ELEMENT, LABEL_BARE);
    app1_xmp(&xmp_attr, XMP_ATTR, LABEL_BARE);
    app1_exif(&exif_ii, 0, 0, LABEL_WRAPPED);
    app1_exif(&exif_mm, 1, 0, LABEL_WRAPPED);

    labelled_jpeg("var-jpeg-xmp-element.jpg", 0, NULL, &xmp_el);
    labelled_jpeg("var-jpeg-xmp-attr.jpg", 0, NULL, &xmp_attr);
    labelled_jpeg("var-jpeg-exif-usercomment.jpg", 0, &exif_ii, NULL);
    labelled_jpeg("var-jpeg-exif-usercomment-mm.jpg", 0, &exif_mm, NULL);
    labelled_jpeg("var-jpeg-duplicate.jpg", 0, &exif_ii, &xmp_el);
    labelled_jpeg("var-jpeg-progressive-xmp.jpg", 1, NULL, &xmp_el);
}

/* ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    if (argc != 2)
        fail("usage: genimg OUTDIR");
    g_outdir = argv[1];

    gen_png_kinds();
    gen_png_meta();
    gen_png_variants();
    gen_jpeg_kinds();
    gen_jpeg_meta();
    gen_jpeg_variants();
    return 0;
}
