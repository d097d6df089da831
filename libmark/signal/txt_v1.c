/*
 * txt_v1.c - the text watermark txt-v1.
 *
 * The mark is a sequence of invisible code points.  A copy is the frame
 * marker U+2063 followed by 56 symbols of 2 bits, each one of U+200B,
 * U+200C, U+2062, U+2064: the 112 information bits of the payload (64
 * bits and the 48-bit keyed check of payload.h) XORed with a keyed
 * stream, so that without the key the symbols look random and with a
 * wrong key no copy passes the check.  Copies are identical and follow
 * each other through the text.
 *
 * Why these code points: all five are default-ignorable (no glyph, zero
 * width) and none changes where a line may break or how a neighbour is
 * shaped where they are put (U+200B is a break opportunity where one
 * already is, U+200C attaches to the character before it, U+2062/2063/
 * 2064 break like letters): U+200D (joins emoji, forbids a break after
 * it), U+2060 and U+FEFF (forbid breaks) and the variation selectors
 * (select glyph variants of CJK ideographs) were left out for that.
 * NFC and NFKC keep them; what strips "invisible characters" strips them
 * all, which is why the mark is a durable label, not a robust watermark.
 *
 * Where they go: only in a gap between two characters that does not
 * belong to anything a reader or a program parses:
 *   - after a single space that follows content on the same line, before
 *     a letter (Latin, Greek, Cyrillic, Armenian, Hebrew, Arabic,
 *     Devanagari, Thai, Georgian: a word's first letter has no left
 *     neighbour to join or combine with) or a CJK character: so
 *     never inside a word, a number, a URL or an e-mail address, never at
 *     the start of a line (where Markdown reads block syntax);
 *   - between two CJK characters (ideographs, kana, Hangul), or after CJK
 *     punctuation before one, unless the current token holds "://", "@"
 *     or "www." (a URL with CJK in it);
 *   - never in fenced or indented code, code spans, $ and $$ math,
 *     brackets [...] and link destinations (...), angle brackets <...>,
 *     headings, lines starting with '<' (HTML blocks) or the rest of a
 *     line after "]:" (reference definitions); never next to emoji,
 *     combining marks or joiners, nor inside a word of a joining or
 *     combining script (Arabic, Indic, Thai), which are not in the
 *     classes above.
 * The code points are put before the character that follows the gap, so
 * the embedder decides from what it has already seen and holds nothing
 * back: text streams through with no delay.
 *
 * How many: a credit grows with every character that is not white space
 * and is spent at the gaps, at most 8 code points a gap (16 while the
 * first copy is written), so that a copy takes about 160 characters that
 * are not white space (the first one about 32, for short texts).
 *
 * Detection collects the scheme's code points in order and decodes every
 * whole frame (marker + 56), each run of 56 after a marker whose own
 * marker was lost, and the end of one copy joined to the start of the
 * next (the symbols before the first marker and after the last one): so
 * an excerpt holding 57 of the code points in a row is enough.  Failing
 * those, a vote over all whole frames, symbol by symbol.  At most
 * MARK__TXTWM_TRIES decodes, each passing the 48-bit check by chance
 * with probability 2^-48.
 *
 * Frozen: the symbols, the marker, the frame layout and the whitening
 * stream define txt-v1 (golden vector in tests/unit/test_txtwm.c); the
 * placement rules may improve without a new version, as the detector
 * does not depend on them.
 */
#include <string.h>

#include "signal.h"

#define FRAME 56                         /* data symbols of a copy */
#define COPY (FRAME + 1)                 /* with its marker */
#define ONE 1024                         /* credit of one code point */
#define RATE_FIRST (COPY * ONE / 32)
#define RATE (COPY * ONE / MARK__TXTWM_COPY_CHARS)
#define CAP_FIRST 16
#define CAP 8
#define SYM_MARKER 4

const uint32_t mark__txtwm_symbol[4] = { 0x200b, 0x200c, 0x2062, 0x2064 };

/* UTF-8 of the four symbols and the marker (index 4). */
static const unsigned char sym_utf8[5][3] = {
    { 0xe2, 0x80, 0x8b }, { 0xe2, 0x80, 0x8c }, { 0xe2, 0x81, 0xa2 },
    { 0xe2, 0x81, 0xa4 }, { 0xe2, 0x81, 0xa3 }
};

int mark__txtwm_is_ours(uint32_t u)
{
    return u == MARK__TXTWM_MARKER || u == 0x200b || u == 0x200c ||
           u == 0x2062 || u == 0x2064;
}

/* The symbol of the 3 bytes at p (4: marker), or -1. */
static int sym_at(const unsigned char *p)
{
    if (p[0] != 0xe2)
        return -1;
    if (p[1] == 0x80)
        return p[2] == 0x8b ? 0 : p[2] == 0x8c ? 1 : -1;
    if (p[1] == 0x81)
        return p[2] == 0xa2 ? 2 : p[2] == 0xa4 ? 3
             : p[2] == 0xa3 ? SYM_MARKER : -1;
    return -1;
}

/* The whitening stream: 112 keyed bits. */
static void whitening(const mark_key *key, unsigned char w[MARK__INFO_BITS])
{
    mark__prng r;
    uint32_t v = 0;
    int i;

    mark__prng_init(&r, key, "txt-v1 whitening");
    for (i = 0; i < MARK__INFO_BITS; i++) {
        if (i % 32 == 0)
            v = mark__prng_u32(&r);
        w[i] = (unsigned char)((v >> (i % 32)) & 1);
    }
    mark__prng_wipe(&r);
}

/* The 56 symbols of a copy. */
static void frame_of(const mark_key *key, const mark_payload *p,
                     unsigned char sym[FRAME])
{
    unsigned char b[MARK__INFO_BITS], w[MARK__INFO_BITS];
    int i;

    mark__payload_info(key, p, b);
    whitening(key, w);
    for (i = 0; i < FRAME; i++)
        sym[i] = (unsigned char)(((b[2 * i] ^ w[2 * i]) << 1) |
                                 (b[2 * i + 1] ^ w[2 * i + 1]));
}

/* ------------------------------------------------------------------ */
/* Character classes. */

enum {
    C_OTHER = 0,
    C_SPACE,                             /* U+0020, U+3000 */
    C_WS,                                /* other white space */
    C_NL,                                /* U+000A */
    C_LETTER,                            /* a letter that may begin a word:
                                            Latin, Greek, Cyrillic,
                                            Armenian, Hebrew, Arabic,
                                            Devanagari, Thai, Georgian */
    C_CJK,                               /* ideographs, kana, Hangul */
    C_CJKP                               /* CJK punctuation ending a
                                            phrase */
};

/* Classes of ASCII (values of the enum above: 1 space, 2 other white
 * space, 3 newline, 4 letter). */
static const unsigned char ascii_cls[128] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 2, 2, 2, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 0, 0, 0, 0, 0,
    0, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 0, 0, 0, 0, 0,
};

static int cls_of(uint32_t u)
{
    if (u < 128)
        return ascii_cls[u];
    if (u < 0x0250)
        return u >= 0xc0 && u != 0xd7 && u != 0xf7 ? C_LETTER
             : u == 0x85 ? C_WS : C_OTHER;
    if (u < 0x0590)
        return (u >= 0x0386 && u <= 0x03ff && u != 0x0387) ||
               (u >= 0x0400 && u <= 0x0481) ||
               (u >= 0x048a && u <= 0x052f) ? C_LETTER : C_OTHER;
    if (u < 0x0600)
        return (u >= 0x0531 && u <= 0x0556) ||
               (u >= 0x0561 && u <= 0x0587) ||
               (u >= 0x05d0 && u <= 0x05ea) ? C_LETTER : C_OTHER;
    /* Arabic, Devanagari, Thai, Georgian: letters that begin a word (no
     * marks, no digits).  The code points are joining-transparent or
     * non-joining and bidi-neutral (BN), and a word's first letter has
     * no left neighbour to join anyway */
    if (u < 0x0700)
        return (u >= 0x0621 && u <= 0x064a) ||
               (u >= 0x0671 && u <= 0x06d3) ? C_LETTER : C_OTHER;
    if (u >= 0x0905 && u <= 0x0939)
        return C_LETTER;
    if (u >= 0x0e01 && u <= 0x0e2e)
        return C_LETTER;
    if (u >= 0x10d0 && u <= 0x10fa)
        return C_LETTER;
    if (u >= 0x1e00 && u <= 0x1fff)
        return C_LETTER;
    if ((u >= 0x2000 && u <= 0x200a) || u == 0x2028 || u == 0x2029)
        return C_WS;
    if (u < 0x3000)
        return C_OTHER;
    if (u == 0x3000)
        return C_SPACE;
    if (u == 0x3001 || u == 0x3002 || u == 0x300d || u == 0x300f ||
        u == 0x3011)
        return C_CJKP;
    if ((u >= 0x3041 && u <= 0x3096) || (u >= 0x30a1 && u <= 0x30fa) ||
        u == 0x30fc || (u >= 0x3400 && u <= 0x4dbf) ||
        (u >= 0x4e00 && u <= 0x9fff) || (u >= 0xac00 && u <= 0xd7a3) ||
        (u >= 0x20000 && u <= 0x3134f))
        return C_CJK;
    if (u == 0xff01 || u == 0xff09 || u == 0xff0c || u == 0xff1a ||
        u == 0xff1b || u == 0xff1f)
        return C_CJKP;
    return C_OTHER;
}

/* ------------------------------------------------------------------ */
/* The embedder. */

struct mark__txtwm {
    mark_ctx *ctx;
    unsigned char seq[COPY];             /* marker, then the frame */
    unsigned idx;                        /* next of seq to write */
    size_t copies;
    uint32_t credit;
    unsigned char hold[4];               /* incomplete UTF-8 */
    unsigned hold_len, hold_need;
    /* what came before */
    int pcls, ppcls;                     /* classes of the last two */
    int line_start;                      /* only white space so far */
    int line_content;                    /* non-space seen on the line */
    int indent;
    int line_skip;                       /* nothing more on this line */
    int fence;                           /* 0, or '`' / '~' */
    int fence_len;
    int run_ch, run_len;                 /* a run of ` or $ being read */
    int run_at_start;                    /* ... that began the line */
    int code_span;                       /* backticks that opened one */
    int math_inline, math_block;
    int bracket;                         /* [ depth */
    int paren_url;                       /* ( depth after "](" */
    int angle;
    int just_closed;                     /* the last was ']' */
    int token_nomark;                    /* the token is a URL/address */
    unsigned char tok[3];                /* its last 3 ASCII characters */
    unsigned tok_len;
};

int mark__txtwm_new(mark_ctx *ctx, const mark_key *key,
                    const mark_payload *p, mark__txtwm **out)
{
    mark__txtwm *w;

    *out = NULL;
    w = mark__calloc(ctx, 1, sizeof *w);
    if (w == NULL)
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    w->ctx = ctx;
    w->seq[0] = SYM_MARKER;
    frame_of(key, p, w->seq + 1);
    w->pcls = w->ppcls = C_NL;
    w->line_start = 1;
    *out = w;
    return MARK_OK;
}

void mark__txtwm_free(mark__txtwm *w)
{
    if (w != NULL)
        mark__free(w->ctx, w);
}

size_t mark__txtwm_copies(const mark__txtwm *w)
{
    return w->copies;
}

/* Is the first copy still being written?  (It is spread thicker, for
 * short texts.) */
static int first_copy(const mark__txtwm *w)
{
    return w->copies == 0 || (w->copies == 1 && w->idx != 0);
}

/* The credit of one more character that is not white space. */
static void earn(mark__txtwm *w)
{
    w->credit += first_copy(w) ? RATE_FIRST : RATE;
    if (w->credit > (CAP_FIRST + 1) * ONE)
        w->credit = (CAP_FIRST + 1) * ONE;
}

/* One more ASCII character of the current token. */
static void tok_push(mark__txtwm *w, unsigned char b)
{
    w->tok[0] = w->tok[1];
    w->tok[1] = w->tok[2];
    w->tok[2] = b;
    w->tok_len++;
}

/* A run of ` or $ has ended (the next character is not the same). */
static void end_run(mark__txtwm *w)
{
    int ch = w->run_ch, len = w->run_len, start = w->run_at_start;

    w->run_ch = 0;
    w->run_len = 0;
    w->run_at_start = 0;
    if (ch == '`' || ch == '~') {
        if (start && len >= 3) {
            if (!w->fence) {
                w->fence = ch;
                w->fence_len = len;
            } else if (ch == w->fence && len >= w->fence_len) {
                w->fence = 0;
            }
            w->line_skip = 1;            /* info string, closing line */
            return;
        }
        if (ch == '~' || w->fence || w->line_skip)
            return;
        if (w->code_span == 0)
            w->code_span = len;
        else if (w->code_span == len)
            w->code_span = 0;
        return;
    }
    /* '$' */
    if (w->fence || w->line_skip || w->code_span)
        return;
    if (len >= 2) {
        w->math_block = !w->math_block;
        w->math_inline = 0;
    } else if (!w->math_block) {
        w->math_inline = !w->math_inline;
    }
}

static void new_line(mark__txtwm *w)
{
    if (w->line_start) {
        /* a blank line ends every inline construct */
        w->code_span = 0;
        w->math_inline = 0;
        w->bracket = 0;
        w->paren_url = 0;
    }
    w->angle = 0;
    w->math_inline = 0;
    w->just_closed = 0;
    w->line_start = 1;
    w->line_content = 0;
    w->indent = 0;
    w->line_skip = 0;
    w->token_nomark = 0;
    w->tok_len = 0;
}

/* Take code point u of class c: how many of the mark's code points go
 * before it. */
static unsigned step(mark__txtwm *w, uint32_t u, int c)
{
    unsigned n = 0;

    if (w->run_len && (int)u != w->run_ch)
        end_run(w);
    if (c == C_NL) {
        new_line(w);
        w->ppcls = w->pcls;
        w->pcls = c;
        return 0;
    }
    if (w->line_start) {
        if (c == C_SPACE || c == C_WS) {
            w->indent += u == '\t' ? 4 : 1;
        } else {
            w->line_start = 0;
            if (w->indent >= 4 && !w->fence && !w->math_block)
                w->line_skip = 1;        /* indented code */
            else if (u == '`' || u == '~' || (u == '$' && !w->fence))
                w->run_at_start = 1;
            else if (!w->fence && !w->math_block && (u == '#' || u == '<'))
                w->line_skip = 1;        /* heading, HTML block */
        }
    }
    if (c == C_SPACE || c == C_WS) {
        w->token_nomark = 0;
        w->tok_len = 0;
    } else if (c != C_NL) {
        w->line_content = 1;
        earn(w);
    }
    if (u == '`' || u == '~' || u == '$') {
        if (w->run_len == 0) {
            w->run_ch = (int)u;
            w->run_len = 1;
        } else {
            w->run_len++;
        }
    }
    /* decide the gap before u */
    if ((c == C_LETTER || c == C_CJK) && !w->fence && !w->math_block &&
        !w->line_skip && !w->code_span && !w->math_inline && !w->bracket &&
        !w->paren_url && !w->angle && !w->token_nomark &&
        ((w->pcls == C_SPACE && w->ppcls != C_SPACE && w->ppcls != C_WS &&
          w->ppcls != C_NL) ||
         (c == C_CJK && (w->pcls == C_CJK || w->pcls == C_CJKP)))) {
        unsigned cap = first_copy(w) ? CAP_FIRST : CAP;

        n = w->credit / ONE;
        if (n > cap)
            n = cap;
        w->credit -= n * ONE;
    }
    /* what u opens or closes */
    if (!w->fence && !w->math_block && !w->line_skip && !w->code_span &&
        !w->math_inline && u < 128) {
        int closed = 0;

        switch (u) {
        case '[':
            w->bracket++;
            break;
        case ']':
            if (w->bracket > 0)
                w->bracket--;
            closed = 1;
            break;
        case '(':
            if (w->just_closed || w->paren_url)
                w->paren_url++;
            break;
        case ')':
            if (w->paren_url)
                w->paren_url--;
            break;
        case ':':
            if (w->just_closed)
                w->line_skip = 1;        /* "[label]: destination" */
            break;
        case '<':
            w->angle = 1;
            break;
        case '>':
            w->angle = 0;
            break;
        default:
            break;
        }
        w->just_closed = closed;
    }
    if (c != C_SPACE && c != C_WS && u < 128) {
        /* "://", "@" and "www." make the token a URL or an address */
        if (u == '@' ||
            (u == '/' && w->tok_len >= 2 && w->tok[1] == ':' &&
             w->tok[2] == '/') ||
            (u == '.' && w->tok_len == 3 && (w->tok[0] | 32) == 'w' &&
             (w->tok[1] | 32) == 'w' && (w->tok[2] | 32) == 'w'))
            w->token_nomark = 1;
        tok_push(w, (unsigned char)u);
    } else if (c != C_SPACE && c != C_WS) {
        w->tok_len++;
    }
    w->ppcls = w->pcls;
    w->pcls = c;
    return n;
}

static int put_symbols(mark__txtwm *w, unsigned n, mark__buf *out)
{
    unsigned char b[3 * 2 * COPY];
    size_t len = 0;

    while (n--) {
        memcpy(b + len, sym_utf8[w->seq[w->idx]], 3);
        len += 3;
        if (w->idx == 0)
            w->copies++;
        w->idx = (w->idx + 1) % COPY;
    }
    return mark__buf_put(out, b, len);
}

/* Length of the UTF-8 sequence led by b (1 for a byte that cannot lead
 * one, taken as invalid). */
static unsigned lead_len(unsigned char b)
{
    return b < 0xc2 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : b < 0xf5 ? 4 : 1;
}

/* Decode the sequence of length len at p (all present): the code point,
 * or (uint32_t)-1 when it is invalid (then only its first byte is
 * taken). */
static uint32_t decode(const unsigned char *p, unsigned len)
{
    uint32_t u;
    unsigned i;

    if (len == 1)
        return p[0] < 0x80 ? p[0] : (uint32_t)-1;
    u = p[0] & (0x7f >> len);
    for (i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return (uint32_t)-1;
        u = (u << 6) | (p[i] & 0x3f);
    }
    if ((len == 3 && (u < 0x800 || (u >= 0xd800 && u <= 0xdfff))) ||
        (len == 4 && (u < 0x10000 || u > 0x10ffff)))
        return (uint32_t)-1;
    return u;
}

int mark__txtwm_feed(mark__txtwm *w, const char *text, size_t n,
                     mark__buf *out)
{
    const unsigned char *in = (const unsigned char *)text;
    size_t i = 0, start;
    int rc;

    if (w->hold_len) {
        /* finish the sequence held from the last piece */
        uint32_t u = (uint32_t)-1;
        unsigned k;

        while (w->hold_len < w->hold_need && i < n &&
               (in[i] & 0xc0) == 0x80)
            w->hold[w->hold_len++] = in[i++];
        if (w->hold_len < w->hold_need && i == n)
            return MARK_OK;
        if (w->hold_len == w->hold_need)
            u = decode(w->hold, w->hold_need);
        if (u == (uint32_t)-1) {
            /* invalid: its bytes pass through, each a character of no
             * class */
            for (k = 0; k < w->hold_len; k++)
                step(w, u, C_OTHER);
        } else {
            unsigned m = step(w, u, cls_of(u));

            if (m && (rc = put_symbols(w, m, out)) < 0)
                return rc;
        }
        rc = mark__buf_put(out, w->hold, w->hold_len);
        w->hold_len = 0;
        if (rc < 0)
            return rc;
    }
    start = i;
    while (i < n) {
        unsigned char b = in[i];
        uint32_t u;
        unsigned len, m;
        int c;

        if (b < 0x80) {
            /* runs of plain ASCII letters decide nothing after the
             * first: only the first letter after a space may take a
             * mark */
            c = ascii_cls[b];
            if (c == C_LETTER && w->pcls == C_LETTER && !w->run_len) {
                earn(w);
                tok_push(w, b);
                w->ppcls = C_LETTER;
                i++;
                continue;
            }
            u = b;
            len = 1;
        } else {
            len = lead_len(b);
            if (i + len > n && len > 1) {
                /* incomplete at the end of the piece: hold it, unless
                 * what is there is already invalid */
                size_t k;
                int bad = 0;

                for (k = i + 1; k < n; k++)
                    if ((in[k] & 0xc0) != 0x80)
                        bad = 1;
                if (!bad) {
                    rc = mark__buf_put(out, in + start, i - start);
                    if (rc < 0)
                        return rc;
                    memcpy(w->hold, in + i, n - i);
                    w->hold_len = (unsigned)(n - i);
                    w->hold_need = len;
                    return MARK_OK;
                }
            }
            u = i + len <= n ? decode(in + i, len) : (uint32_t)-1;
            if (u == (uint32_t)-1) {
                len = 1;
                c = C_OTHER;
            } else {
                c = cls_of(u);
            }
        }
        m = step(w, u, c);
        if (m) {
            rc = mark__buf_put(out, in + start, i - start);
            if (rc == MARK_OK)
                rc = put_symbols(w, m, out);
            if (rc < 0)
                return rc;
            start = i;
        }
        i += len;
    }
    return mark__buf_put(out, in + start, n - start);
}

int mark__txtwm_finish(mark__txtwm *w, mark__buf *out)
{
    int rc = MARK_OK;

    if (w->hold_len) {
        /* an incomplete sequence at the very end: passed on as it is */
        rc = mark__buf_put(out, w->hold, w->hold_len);
        w->hold_len = 0;
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* The detector. */

typedef struct decoder {
    const mark_key *key;
    unsigned char w[MARK__INFO_BITS];
    int tries;
    /* payloads that passed and how many frames gave each */
    mark_payload found[8];
    size_t votes[8];
    int n_found;
    unsigned char last[FRAME];           /* the last frame tried */
    int last_ok;                         /* ... and its outcome: 1 passed,
                                            0 failed, -1 none yet */
    int last_slot;
} decoder;

/* Decode one frame of symbols: 1 when its check passes. */
static int try_frame(decoder *d, const unsigned char *sym)
{
    unsigned char b[MARK__INFO_BITS];
    mark_payload p;
    int i, ok;

    if (d->last_ok >= 0 && memcmp(sym, d->last, FRAME) == 0) {
        if (d->last_ok)
            d->votes[d->last_slot]++;
        return d->last_ok;
    }
    if (d->tries >= MARK__TXTWM_TRIES)
        return 0;
    d->tries++;
    for (i = 0; i < FRAME; i++) {
        b[2 * i] = (unsigned char)(((sym[i] >> 1) & 1) ^ d->w[2 * i]);
        b[2 * i + 1] = (unsigned char)((sym[i] & 1) ^ d->w[2 * i + 1]);
    }
    ok = mark__payload_info_check(d->key, b, &p);
    memcpy(d->last, sym, FRAME);
    d->last_ok = ok;
    if (!ok)
        return 0;
    for (i = 0; i < d->n_found; i++)
        if (memcmp(d->found[i].bytes, p.bytes, sizeof p.bytes) == 0)
            break;
    if (i == d->n_found) {
        if (d->n_found == 8)
            return 1;
        d->found[i] = p;
        d->votes[i] = 0;
        d->n_found++;
    }
    d->votes[i]++;
    d->last_slot = i;
    return 1;
}

int mark__txtwm_detect(mark_ctx *ctx, const mark_key *key, const char *text,
                       size_t n, mark__txtwm_result *res)
{
    const unsigned char *p = (const unsigned char *)text, *end = p + n;
    unsigned char *sym = NULL, fr[FRAME];
    size_t ns = 0, cap = 0, i, first = (size_t)-1, last = 0, whole = 0;
    size_t counts[FRAME][4];
    decoder d;
    int k;

    memset(res, 0, sizeof *res);
    memset(&d, 0, sizeof d);
    d.key = key;
    d.last_ok = -1;
    whitening(key, d.w);
    /* the scheme's code points, in order */
    while (p + 3 <= end) {
        const unsigned char *q = memchr(p, 0xe2, (size_t)(end - p));
        int s;

        if (q == NULL || q + 3 > end)
            break;
        s = sym_at(q);
        if (s < 0) {
            p = q + 1;
            continue;
        }
        if (ns == cap) {
            size_t nc = cap ? cap * 2 : 1024;
            unsigned char *t = mark__realloc(ctx, sym, nc);

            if (t == NULL) {
                mark__free(ctx, sym);
                return mark__err(ctx, MARK_ENOMEM, "out of memory");
            }
            sym = t;
            cap = nc;
        }
        sym[ns++] = (unsigned char)s;
        p = q + 3;
    }
    res->symbols = ns;
    memset(counts, 0, sizeof counts);
    /* whole frames: the runs between markers */
    for (i = 0; i < ns; i++) {
        size_t j, len;

        if (sym[i] != SYM_MARKER)
            continue;
        if (first == (size_t)-1)
            first = i;
        last = i;
        for (j = i + 1; j < ns && sym[j] != SYM_MARKER; j++)
            ;
        len = j - i - 1;
        if (j == ns)
            break;                       /* the copy the text cuts */
        if (len % FRAME == 0) {
            size_t o;

            /* len > FRAME: markers were lost between copies */
            for (o = 0; o < len; o += FRAME) {
                size_t t;

                res->copies++;
                whole++;
                if (try_frame(&d, sym + i + 1 + o))
                    res->copies_ok++;
                for (t = 0; t < FRAME; t++)
                    counts[t][sym[i + 1 + o + t]]++;
            }
        } else {
            res->copies++;
            if (len > FRAME) {
                /* a code point added or one marker and some symbols
                 * lost: the first and the last 56 */
                if (try_frame(&d, sym + i + 1) ||
                    try_frame(&d, sym + j - FRAME))
                    res->copies_ok++;
            }
        }
    }
    /* the end of one copy before the first marker and the start of one
     * after the last: together a copy when they add up to 56 */
    if (first != (size_t)-1) {
        size_t head = first, tail = ns - last - 1;

        if (head >= FRAME)
            try_frame(&d, sym + first - FRAME);  /* its marker lost */
        if (tail < FRAME && head > 0 && head < FRAME && head + tail >= FRAME) {
            memcpy(fr, sym + last + 1, tail);
            memcpy(fr + tail, sym + first - (FRAME - tail), FRAME - tail);
            try_frame(&d, fr);
        } else if (tail >= FRAME) {
            try_frame(&d, sym + last + 1);   /* the marker after it lost */
        }
    }
    /* failing all, a vote symbol by symbol over the whole frames */
    if (d.n_found == 0 && whole >= 3) {
        int t;

        for (t = 0; t < FRAME; t++) {
            int best = 0;

            for (k = 1; k < 4; k++)
                if (counts[t][k] > counts[t][best])
                    best = k;
            fr[t] = (unsigned char)best;
        }
        try_frame(&d, fr);
    }
    res->tries = d.tries;
    if (d.n_found > 0) {
        int best = 0;

        for (k = 1; k < d.n_found; k++)
            if (d.votes[k] > d.votes[best])
                best = k;
        res->found = 1;
        res->payload = d.found[best];
        /* the share of the copies seen that came through whole: 1 for
         * an untouched text, less where editing cut into copies */
        res->score = res->copies ? (double)res->copies_ok /
                                   (double)res->copies : 1.0;
        if (res->score > 1)
            res->score = 1;
    } else {
        res->partial = ns > 0;
    }
    mark__free(ctx, sym);
    return MARK_OK;
}

size_t mark__txtwm_strip(const char *text, size_t n, char *out)
{
    const unsigned char *in = (const unsigned char *)text;
    size_t i = 0, o = 0;

    while (i < n) {
        const unsigned char *q = memchr(in + i, 0xe2, n - i);
        size_t j = q ? (size_t)(q - in) : n;

        memmove(out + o, in + i, j - i);
        o += j - i;
        i = j;
        if (i >= n)
            break;
        if (i + 3 <= n && sym_at(in + i) >= 0) {
            i += 3;
        } else {
            out[o++] = (char)in[i++];
        }
    }
    return o;
}
