/*
 * test_txtwm.c - the txt-v1 text watermark: the frozen frame (golden
 * digest), the visible text unchanged (stripping the mark gives the
 * input back), the same output however the input is cut into pieces,
 * where the mark may and may not go (code, URLs, addresses, numbers,
 * words, headings, links, math, emoji, right-to-left text), detection
 * from excerpts of several lengths, short texts, damage, a wrong key,
 * and no detection in 1,000 unmarked texts sprinkled with the same
 * invisible code points.
 *
 * The texts are made here from word lists by a seeded generator.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "signal.h"
#include "harness.h"

static mark_ctx *ctx;
static uint64_t rs = 88172645463325252ull;

static uint32_t rnd(uint32_t n)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)((rs >> 11) % n);
}

static const char *const en_words[] = {
    "the", "model", "writes", "a", "short", "answer", "about", "rivers",
    "and", "their", "valleys", "which", "carry", "water", "from",
    "mountains", "to", "sea", "over", "many", "years", "people", "built",
    "towns", "along", "banks", "because", "soil", "was", "rich", "Naïve",
    "café", "Ελλάδα", "Москва", "résumé"
};
static const char *const zh_words[] = {
    "人工智能", "模型", "生成", "内容", "河流", "山谷", "城市", "发展",
    "历史", "文化", "我们", "可以", "看到", "这个", "问题", "非常",
    "重要", "因为", "所以", "的", "了", "在", "是", "和"
};

/* A paragraph of about n words (English) or phrases (Chinese). */
static void para(mark__buf *b, int zh, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        const char *w = zh ? zh_words[rnd(sizeof zh_words / sizeof *zh_words)]
                           : en_words[rnd(sizeof en_words / sizeof *en_words)];

        if (!zh && i > 0)
            mark__buf_put(b, " ", 1);
        mark__buf_put(b, w, strlen(w));
        if (i % 9 == 8)
            mark__buf_put(b, zh ? "，" : ",", zh ? 3 : 1);
    }
    mark__buf_put(b, zh ? "。\n\n" : ".\n\n", zh ? 5 : 3);
}

static void put(mark__buf *b, const char *s)
{
    mark__buf_put(b, s, strlen(s));
}

/* Markdown an assistant could write, with every construct the mark must
 * stay out of; the protected parts are between \x01 and \x02 (taken out
 * before marking, their offsets kept). */
static const char *const protected_md[] = {
    "# A heading with words\n\n",
    "```c\nint main(void) { return printf(\"hello world\"); }\n```\n\n",
    "    indented code line with words\n\n",
    "See `inline code with words` here.\n\n",
    "Visit https://example.com/some/path?q=a+b and more.\n\n",
    "网址是https://例子.中国/人工智能生成内容吗 对\n\n",
    "Mail someone.name@example.com today.\n\n",
    "A [link with words](https://example.org/a b) here.\n\n",
    "[ref label]: https://example.net/ref  \"Title words\"\n\n",
    "Math $a + b = c$ inline and\n\n$$\nx = y + z\n$$\n\n",
    "Emoji 👍 and family 👨‍👩‍👧 here.\n\n",
    "Numbers 3.14159 and 1,000,000 and 第3章.\n\n",
    "<div class=\"note\">html words</div>\n\n",
    "| col one | col two |\n|---|---|\n| cell a | cell b |\n\n",
    "עברית טקסט כאן ושם\n\n",
    "النص العربي هنا وهناك\n\n",
    "- list item one\n- list item two\n\n",
    "> quoted words here\n\n",
};

/* Code points of ours in [p, p + n). */
static size_t ours(const char *p, size_t n)
{
    size_t i, c = 0;

    for (i = 0; i + 3 <= n; i++) {
        const unsigned char *q = (const unsigned char *)p + i;

        if (q[0] == 0xe2 && ((q[1] == 0x80 && (q[2] == 0x8b ||
                                               q[2] == 0x8c)) ||
                             (q[1] == 0x81 && q[2] >= 0xa2 && q[2] <= 0xa4)))
            c++;
    }
    return c;
}

static int embed(const mark_key *k, const mark_payload *p, const char *in,
                 size_t n, size_t piece, mark__buf *out)
{
    mark__txtwm *w;
    size_t i;
    int rc = mark__txtwm_new(ctx, k, p, &w);

    mark__buf_init(out, ctx);
    for (i = 0; rc == MARK_OK && i < n; i += piece)
        rc = mark__txtwm_feed(w, in + i, n - i < piece ? n - i : piece, out);
    if (rc == MARK_OK)
        rc = mark__txtwm_finish(w, out);
    mark__txtwm_free(w);
    return rc;
}

static void test_golden(const mark_key *k)
{
    /* the frame of a fixed payload under the default key: the symbols
     * written for the first copy of a long line of words */
    static const char want[] =
        "ff6bd1bf6646b5e81b894a786aab13252cc484c2482e699908a8ddc2990373d2";
    unsigned char d[32];
    char hex[65];
    mark__buf in, out;
    mark_payload p;
    int i;

    mark_payload_from_hex(&p, "0123456789abcdef");
    mark__buf_init(&in, ctx);
    for (i = 0; i < 200; i++)
        put(&in, "word ");
    CHECK_RC(embed(k, &p, (char *)in.data, in.len, in.len, &out), MARK_OK);
    crypto_generichash(d, sizeof d, out.data, out.len, NULL, 0);
    for (i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", d[i]);
    if (strcmp(hex, want) != 0)
        fprintf(stderr, "golden digest: %s\n", hex);
    CHECK_STR(hex, want);
    mark__buf_free(&in);
    mark__buf_free(&out);
}

int main(void)
{
    static const size_t pieces[] = { 1, 2, 3, 7, 64, 4096 };
    mark_key *k = NULL, *k2 = NULL;
    mark_payload p, q;
    mark__txtwm_result r;
    mark__buf doc, out, alt;
    size_t i, j, n;
    int t, fp = 0;

    if (mark_ctx_new(&ctx, NULL) != MARK_OK)
        return 99;
    if (mark_key_default(ctx, &k) != MARK_OK ||
        mark_key_generate(ctx, &k2) != MARK_OK)
        return 99;
    test_golden(k);
    mark_payload_from_hex(&p, "0123456789abcdef");

    /* a document of everything */
    mark__buf_init(&doc, ctx);
    for (t = 0; t < 6; t++) {
        para(&doc, t & 1, 40);
        put(&doc, protected_md[(size_t)t * 3 % (sizeof protected_md /
                                               sizeof *protected_md)]);
    }
    for (i = 0; i < sizeof protected_md / sizeof *protected_md; i++) {
        para(&doc, (int)(i & 1), 25);
        put(&doc, protected_md[i]);
    }
    CHECK_RC(embed(k, &p, (char *)doc.data, doc.len, doc.len, &out),
             MARK_OK);
    CHECK(out.len > doc.len);
    /* stripping gives the input back, byte for byte */
    {
        char *s = malloc(out.len);
        size_t m = mark__txtwm_strip((char *)out.data, out.len, s);

        CHECK(m == doc.len && memcmp(s, doc.data, m) == 0);
        free(s);
    }
    /* the same output however the input is cut */
    for (j = 0; j < sizeof pieces / sizeof *pieces; j++) {
        CHECK_RC(embed(k, &p, (char *)doc.data, doc.len, pieces[j], &alt),
                 MARK_OK);
        CHECK_MSG(alt.len == out.len &&
                  memcmp(alt.data, out.data, out.len) == 0,
                  "pieces of %zu", pieces[j]);
        mark__buf_free(&alt);
    }
    /* the protected constructs come out untouched */
    for (i = 0; i < sizeof protected_md / sizeof *protected_md; i++) {
        const char *s = protected_md[i];
        const char *hit;
        size_t len = strlen(s);

        /* only the part after the first space of a list item or quote
         * may be marked; every other construct must appear verbatim */
        if (s[0] == '-' || s[0] == '>' || s[0] == '|' ||
            strncmp(s, "Visit", 5) == 0 || strncmp(s, "See", 3) == 0 ||
            strncmp(s, "Mail", 4) == 0 || strncmp(s, "A [", 3) == 0 ||
            strncmp(s, "Math", 4) == 0 || strncmp(s, "Emoji", 5) == 0 ||
            strncmp(s, "Numbers", 7) == 0 || strncmp(s, "עברית", 5) == 0 ||
            strncmp(s, "网址", 6) == 0 || strncmp(s, "النص", 8) == 0)
            continue;
        hit = memmem(out.data, out.len, s, len);
        CHECK_MSG(hit != NULL, "construct %zu marked: %.30s", i, s);
    }
    /* the parts inside those sentences stay whole */
    {
        static const char *const whole[] = {
            "https://example.com/some/path?q=a+b", "`inline code with words`",
            "someone.name@example.com", "(https://example.org/a b)",
            "$a + b = c$", "3.14159", "1,000,000", "👍", "👨‍👩‍👧",
            "[link with words]", "第3章",
            "https://例子.中国/人工智能生成内容吗",
        };

        for (i = 0; i < sizeof whole / sizeof *whole; i++)
            CHECK_MSG(memmem(out.data, out.len, whole[i],
                             strlen(whole[i])) != NULL,
                      "marked inside %s", whole[i]);
    }
    /* every gap used is after a space that follows a non-space, or
     * between CJK characters, and before a letter: look at the
     * neighbours of each run of ours */
    {
        const unsigned char *o = out.data;
        size_t bad = 0, runs = 0;

        for (i = 0; i + 3 <= out.len; i++) {
            size_t e = i;

            if (!ours((const char *)o + i, 3) ||
                (i >= 3 && ours((const char *)o + i - 3, 3)))
                continue;
            while (e + 3 <= out.len && ours((const char *)o + e, 3))
                e += 3;
            runs++;
            if (i == 0 || e >= out.len) {
                bad++;
                continue;
            }
            /* before: a space (not at the line start) or a multi-byte
             * character; after: an ASCII letter or a multi-byte one */
            if (o[i - 1] == ' ') {
                if (i < 2 || o[i - 2] == ' ' || o[i - 2] == '\n')
                    bad++;
            } else if (o[i - 1] < 0x80) {
                bad++;
            }
            if (o[e] < 0x80 && !((o[e] | 32) >= 'a' && (o[e] | 32) <= 'z'))
                bad++;
        }
        CHECK(runs > 50);
        CHECK_MSG(bad == 0, "%zu of %zu gaps in a wrong place", bad, runs);
    }
    /* detection in the whole, and under a wrong key */
    CHECK_RC(mark__txtwm_detect(ctx, k, (char *)out.data, out.len, &r),
             MARK_OK);
    CHECK(r.found && memcmp(r.payload.bytes, p.bytes, 8) == 0);
    CHECK(r.copies >= 10 && r.copies_ok == r.copies && r.score > 0.999);
    CHECK(r.tries >= 1 && r.tries <= 3);
    CHECK_RC(mark__txtwm_detect(ctx, k2, (char *)out.data, out.len, &r),
             MARK_OK);
    CHECK(!r.found && r.partial);
    mark__buf_free(&out);

    /* excerpts: plain English and plain Chinese prose, n characters
     * from a random point (cut at a character boundary) */
    for (t = 0; t < 2; t++) {
        static const size_t lens[] = { 40, 60, 100, 150, 200, 300, 400 };
        mark__buf prose, marked;
        size_t li;

        mark__buf_init(&prose, ctx);
        for (i = 0; i < 60; i++)
            para(&prose, t, 30);
        CHECK_RC(embed(k, &p, (char *)prose.data, prose.len, prose.len,
                       &marked), MARK_OK);
        printf("txt-v1 %s: %zu bytes -> %zu bytes (+%.0f%%)\n",
               t ? "Chinese" : "English", prose.len, marked.len,
               100.0 * (double)(marked.len - prose.len) / (double)prose.len);
        for (li = 0; li < sizeof lens / sizeof *lens; li++) {
            int hit = 0, tries = 200;

            for (j = 0; j < (size_t)tries; j++) {
                size_t a = rnd((uint32_t)(marked.len - 6000)), b, chars = 0;

                while ((marked.data[a] & 0xc0) == 0x80)
                    a++;
                /* n visible characters: our code points do not count */
                for (b = a; b < marked.len && chars < lens[li];) {
                    size_t l = marked.data[b] < 0x80 ? 1
                             : marked.data[b] < 0xe0 ? 2
                             : marked.data[b] < 0xf0 ? 3 : 4;

                    if (!ours((char *)marked.data + b, l < 3 ? 0 : 3))
                        chars++;
                    b += l;
                }
                CHECK_RC(mark__txtwm_detect(ctx, k, (char *)marked.data + a,
                                            b - a, &r), MARK_OK);
                if (r.found) {
                    hit++;
                    CHECK(memcmp(r.payload.bytes, p.bytes, 8) == 0);
                }
            }
            printf("txt-v1 %s excerpts of %zu characters: %d/%d\n",
                   t ? "Chinese" : "English", lens[li], hit, tries);
            if (lens[li] >= (t ? 200u : 300u))
                CHECK_MSG(hit == tries, "%zu characters", lens[li]);
        }
        /* damage: five passages of about 100 bytes edited out */
        {
            mark__buf dmg;
            size_t cut[5];
            int c;

            for (c = 0; c < 5; c++)
                cut[c] = rnd((uint32_t)marked.len - 200);
            mark__buf_init(&dmg, ctx);
            for (i = 0; i < marked.len; i++) {
                int drop = 0;

                for (c = 0; c < 5; c++)
                    if (i >= cut[c] && i < cut[c] + 100)
                        drop = 1;
                /* whole characters only */
                if (drop && (marked.data[i] & 0xc0) != 0x80) {
                    while (i + 1 < marked.len &&
                           (marked.data[i + 1] & 0xc0) == 0x80)
                        i++;
                    continue;
                }
                if (!drop || (marked.data[i] & 0xc0) != 0x80)
                    mark__buf_put(&dmg, marked.data + i, 1);
            }
            CHECK_RC(mark__txtwm_detect(ctx, k, (char *)dmg.data, dmg.len,
                                        &r), MARK_OK);
            CHECK(r.found && memcmp(r.payload.bytes, p.bytes, 8) == 0);
            CHECK(r.copies_ok < r.copies && r.score < 1);
            printf("txt-v1 %s with 5 passages cut: found %d, %zu of %zu "
                   "copies whole, score %.3f\n", t ? "Chinese" : "English",
                   r.found, r.copies_ok, r.copies, r.score);
            mark__buf_free(&dmg);
        }
        mark__buf_free(&prose);
        mark__buf_free(&marked);
    }

    /* short texts carry a whole copy */
    {
        static const char *const shorts[] = {
            "Rivers carry water from the mountains to the sea, and towns "
            "grew along their banks where the soil was rich.",
            "河流把水从山上带到海里，城市沿着河岸发展起来，因为那里的土地肥沃。"
            "人工智能可以回答这个问题。",
        };

        for (i = 0; i < 2; i++) {
            CHECK_RC(embed(k, &p, shorts[i], strlen(shorts[i]),
                           strlen(shorts[i]), &out), MARK_OK);
            CHECK_RC(mark__txtwm_detect(ctx, k, (char *)out.data, out.len,
                                        &r), MARK_OK);
            CHECK_MSG(r.found, "short text %zu (%zu bytes)", i,
                      strlen(shorts[i]));
            mark__buf_free(&out);
        }
    }

    /* invalid UTF-8 passes through; nothing goes next to it */
    {
        static const char bad[] = "abc \xff\xfe def \xe4\xb8 ghi \xed\xa0\x80 "
                                  "jkl \xc0\xaf mno pqr stu vwx yz \xe4";
        char *s;

        for (j = 0; j < sizeof pieces / sizeof *pieces; j++) {
            CHECK_RC(embed(k, &p, bad, sizeof bad - 1, pieces[j], &out),
                     MARK_OK);
            s = malloc(out.len + 1);
            n = mark__txtwm_strip((char *)out.data, out.len, s);
            CHECK(n == sizeof bad - 1 && memcmp(s, bad, n) == 0);
            free(s);
            mark__buf_free(&out);
        }
    }

    /* 1,000 unmarked texts with stray code points of the same kinds: no
     * detection */
    for (t = 0; t < 1000; t++) {
        static const char *const stray[] = { "\xe2\x80\x8b", "\xe2\x80\x8c",
                                             "\xe2\x81\xa2", "\xe2\x81\xa3",
                                             "\xe2\x81\xa4" };
        mark__buf txt;
        int m = (int)rnd(400);

        mark__buf_init(&txt, ctx);
        for (i = 0; i < (size_t)m; i++) {
            put(&txt, en_words[rnd(sizeof en_words / sizeof *en_words)]);
            /* bursts of random code points, sometimes long runs */
            if (rnd(3) == 0) {
                int b = (int)rnd(t % 4 == 0 ? 120 : 8);

                while (b--)
                    put(&txt, stray[rnd(t % 2 ? 5 : 4) + (t % 2 ? 0 : 0)]);
            }
            put(&txt, " ");
        }
        CHECK_RC(mark__txtwm_detect(ctx, k, (char *)txt.data, txt.len, &r),
                 MARK_OK);
        if (r.found)
            fp++;
        mark__buf_free(&txt);
    }
    CHECK_MSG(fp == 0, "%d false positives", fp);
    (void)q;

    mark__buf_free(&doc);
    mark_key_free(k);
    mark_key_free(k2);
    mark_ctx_free(ctx);
    printf("%d checks, %d failed\n", h_checks, h_failed);
    return h_failed ? 1 : 0;
}
