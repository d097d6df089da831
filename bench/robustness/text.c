/*
 * text.c - `make robustness-text`: the text watermark txt-v1 through what
 * happens to text on its way (normalisation, JSON, a Markdown renderer,
 * re-wrapping, encodings, tools that strip "zero-width" characters,
 * excerpts, edits), over a corpus generated here, reported as Markdown
 * tables.
 *
 *   robustness-text WORKDIR
 *
 * The texts (seeded generator, several languages and kinds, Markdown as
 * an assistant writes it) are marked with mark__txtwm_* and written to
 * WORKDIR/text-work/; each attack is a shell pipeline of ordinary tools
 * (perl's core Unicode::Normalize and JSON::PP, cmark when installed,
 * iconv, fmt) reading the marked file and writing the attacked one, which
 * is then searched with mark__txtwm_detect.  The report also goes to
 * WORKDIR/text-report.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "signal.h"

#define MAX_TEXTS 32

static uint64_t rs = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)((rs >> 11) % n);
}

/* Words of each language; "zh" and "ja" are written without spaces. */
typedef struct lang {
    const char *name;
    int spaced;
    const char *stop;                    /* end of a sentence */
    const char *comma;
    const char *w[24];
} lang;

static const lang langs[] = {
    { "en", 1, ".", ",", { "the", "model", "writes", "a", "short",
      "answer", "about", "rivers", "and", "their", "valleys", "which",
      "carry", "water", "from", "mountains", "to", "sea", "people",
      "built", "towns", "along", "banks", "because" } },
    { "zh", 0, "。", "，", { "人工智能", "模型", "生成", "内容", "河流",
      "山谷", "城市", "发展", "历史", "文化", "我们", "可以", "看到",
      "这个", "问题", "非常", "重要", "因为", "所以", "的", "了", "在",
      "是", "和" } },
    { "ja", 0, "。", "、", { "川", "は", "山", "から", "海", "へ", "水",
      "を", "運び", "ます", "人々", "が", "町", "を", "作り", "ました",
      "土地", "豊か", "な", "ので", "モデル", "答え", "短い", "文章" } },
    { "ko", 1, ".", ",", { "강은", "산에서", "바다로", "물을", "나릅니다",
      "사람들은", "강가에", "마을을", "지었습니다", "땅이", "비옥했기",
      "때문입니다", "모델은", "짧은", "답을", "씁니다", "역사", "문화",
      "도시", "발전", "중요한", "문제", "우리는", "봅니다" } },
    { "ru", 1, ".", ",", { "модель", "пишет", "короткий", "ответ", "о",
      "реках", "и", "долинах", "которые", "несут", "воду", "с", "гор",
      "в", "море", "люди", "строили", "города", "на", "берегах",
      "потому", "что", "земля", "богатая" } },
    { "he", 1, ".", ",", { "המודל", "כותב", "תשובה", "קצרה", "על",
      "נהרות", "ועמקים", "שמובילים", "מים", "מההרים", "אל", "הים",
      "אנשים", "בנו", "ערים", "לאורך", "הגדות", "כי", "האדמה", "הייתה",
      "עשירה", "מאוד", "וגם", "שם" } },
    { "ar", 1, ".", "،", { "النموذج", "يكتب", "إجابة", "قصيرة", "عن",
      "الأنهار", "والوديان", "التي", "تحمل", "الماء", "من", "الجبال",
      "إلى", "البحر", "الناس", "بنوا", "المدن", "على", "الضفاف", "لأن",
      "التربة", "كانت", "غنية", "جدا" } },
};

typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (b->p == NULL)
            exit(99);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void puts_(buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void sentence(buf *b, const lang *l, int words)
{
    int i;

    for (i = 0; i < words; i++) {
        if (i > 0 && l->spaced)
            puts_(b, " ");
        puts_(b, l->w[rnd(24)]);
        if (i % 7 == 6 && i + 1 < words)
            puts_(b, l->comma);
    }
    puts_(b, l->stop);
}

/* Prose: paragraphs of sentences, about `chars` bytes. */
static void prose(buf *b, const lang *l, size_t chars)
{
    size_t end = b->n + chars;

    while (b->n < end) {
        int s, ns = 2 + (int)rnd(4);

        for (s = 0; s < ns; s++) {
            if (s > 0 && l->spaced)
                puts_(b, " ");
            sentence(b, l, 6 + (int)rnd(12));
        }
        puts_(b, "\n\n");
    }
}

/* Markdown as an assistant writes it: headings, lists, code, a table,
 * links, bold, math. */
static void markdown(buf *b, const lang *l, int sections, int code_heavy)
{
    int s;

    for (s = 0; s < sections; s++) {
        puts_(b, "## ");
        sentence(b, l, 3);
        puts_(b, "\n\n");
        prose(b, l, 300);
        puts_(b, "- **");
        sentence(b, l, 2);
        puts_(b, "** ");
        sentence(b, l, 8);
        puts_(b, "\n- ");
        sentence(b, l, 10);
        puts_(b, " See [the docs](https://example.com/docs/page) and "
                 "`make check`.\n\n");
        if (code_heavy || s % 2 == 0)
            puts_(b, "```python\ndef area(r):\n    \"\"\"Area of a circle "
                     "of radius r.\"\"\"\n    return 3.14159 * r * r\n"
                     "```\n\n");
        if (s % 3 == 1)
            puts_(b, "| name | value |\n|---|---|\n| alpha | 1.5 |\n"
                     "| beta | 2.25 |\n\n");
        if (s % 3 == 2)
            puts_(b, "The formula is $E = mc^2$ as usual.\n\n");
        prose(b, l, 200);
    }
}

typedef struct text {
    char name[32];
    buf orig, marked;
    mark_payload p;
    int expect;                          /* a mark is expected */
} text;

static text texts[MAX_TEXTS];
static int n_texts;

static text *add(const char *name, int expect)
{
    text *t = &texts[n_texts++];

    snprintf(t->name, sizeof t->name, "%s", name);
    t->expect = expect;
    return t;
}

static void corpus(void)
{
    text *t;
    size_t i;

    for (i = 0; i < sizeof langs / sizeof *langs; i++) {
        char name[32];

        snprintf(name, sizeof name, "%s-prose", langs[i].name);
        t = add(name, 1);
        prose(&t->orig, &langs[i], 6000);
    }
    t = add("en-short", 1);
    sentence(&t->orig, &langs[0], 14);
    sentence(&t->orig, &langs[0], 12);
    puts_(&t->orig, "\n");
    t = add("zh-short", 1);
    sentence(&t->orig, &langs[1], 10);
    sentence(&t->orig, &langs[1], 8);
    puts_(&t->orig, "\n");
    t = add("en-markdown", 1);
    markdown(&t->orig, &langs[0], 6, 0);
    t = add("zh-markdown", 1);
    markdown(&t->orig, &langs[1], 6, 0);
    t = add("en-code-heavy", 1);
    markdown(&t->orig, &langs[0], 4, 1);
    t = add("mixed-long", 1);
    for (i = 0; i < 8; i++)
        markdown(&t->orig, &langs[i % 2], 3, 0);
}

typedef struct attack {
    const char *name;
    const char *cmd;                     /* sh: stdin marked, stdout out */
    const char *needs;                   /* a program it needs, or NULL */
} attack;

#define PERL "perl -CSD -Mutf8 "
static const attack attacks[] = {
    { "none", "cat", NULL },
    { "NFC", PERL "-MUnicode::Normalize -0777 -pe '$_=NFC($_)'", "perl" },
    { "NFKC", PERL "-MUnicode::Normalize -0777 -pe '$_=NFKC($_)'", "perl" },
    { "JSON round trip (\\u escapes)", PERL "-MJSON::PP -0777 -ne "
      "'my $j=JSON::PP->new->ascii->encode([$_]); "
      "print JSON::PP->new->decode($j)->[0]'", "perl" },
    { "Markdown to HTML (cmark), text of the page", "cmark | " PERL
      "-0777 -pe 's/<[^>]*>//g; s/&lt;/</g; s/&gt;/>/g; s/&quot;/\"/g; "
      "s/&amp;/&/g'", "cmark" },
    { "re-wrapped at 60 columns (fmt)", "fmt -w 60", "fmt" },
    { "white space collapsed", PERL "-pe 's/[ \\t]+/ /g'", "perl" },
    { "CRLF line ends", PERL "-pe 's/\\n/\\r\\n/'", "perl" },
    { "GB18030 and back (iconv)", "iconv -f UTF-8 -t GB18030 | "
      "iconv -f GB18030 -t UTF-8", "iconv" },
    { "GBK, unencodable dropped (iconv -c)", "iconv -c -f UTF-8 -t GBK | "
      "iconv -f GBK -t UTF-8", "iconv" },
    { "zero-width characters stripped (U+200B-200D, 2060, FEFF)",
      PERL "-pe 's/[\\x{200B}-\\x{200D}\\x{2060}\\x{FEFF}]//g'", "perl" },
    { "every default-ignorable stripped", PERL
      "-pe 's/\\p{Default_Ignorable_Code_Point}//g'", "perl" },
    { "a third of the paragraphs deleted", PERL "-00 -ne "
      "'print if $. % 3'", "perl" },
    { "paragraphs shuffled", PERL "-00 -e 'my @p=<STDIN>; srand(7); "
      "for (my $i=@p-1;$i>0;$i--){my $j=int rand($i+1); @p[$i,$j]=@p[$j,$i]} "
      "print @p'", "perl" },
    { "an excerpt of 300 characters (middle)", PERL "-0777 -ne "
      "'my $s=$_; my $v=$s; $v=~s/[\\x{200B}\\x{200C}\\x{2062}-\\x{2064}]//g; "
      "my $m=int(length($v)/2); my ($i,$c)=(0,0); "
      "while($c<$m && $i<length $s){$c++ unless substr($s,$i,1)=~/[\\x{200B}\\x{200C}\\x{2062}-\\x{2064}]/; $i++} "
      "my ($j,$d)=($i,0); while($d<300 && $j<length $s){$d++ unless substr($s,$j,1)=~/[\\x{200B}\\x{200C}\\x{2062}-\\x{2064}]/; $j++} "
      "print substr($s,$i,$j-$i)'", "perl" },
};

static int have(const char *prog)
{
    char cmd[256];

    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
    return system(cmd) == 0;
}

static int write_file(const char *path, const char *p, size_t n)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL)
        return -1;
    if (fwrite(p, 1, n, f) != n) {
        fclose(f);
        return -1;
    }
    return fclose(f);
}

static char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    buf b = { NULL, 0, 0 };
    char tmp[65536];
    size_t k;

    if (f == NULL)
        return NULL;
    put(&b, "", 0);
    while ((k = fread(tmp, 1, sizeof tmp, f)) > 0)
        put(&b, tmp, k);
    fclose(f);
    *n = b.n;
    return b.p;
}

/* Does a character other than ours start at s[i]? */
static int char_at(const char *s, size_t i, size_t n)
{
    unsigned char b = (unsigned char)s[i];

    if ((b & 0xc0) == 0x80)
        return 0;
    if (b == 0xe2 && i + 2 < n) {
        uint32_t u = ((b & 15u) << 12) | ((s[i + 1] & 63u) << 6) |
                     (s[i + 2] & 63u);

        if (mark__txtwm_is_ours(u))
            return 0;
    }
    return 1;
}

/* Characters of s, ours not counted. */
static size_t chars(const char *s, size_t n)
{
    size_t i, c = 0;

    for (i = 0; i < n; i++)
        c += (size_t)char_at(s, i, n);
    return c;
}

int main(int argc, char **argv)
{
    static const size_t lens[] = { 60, 100, 150, 200, 250, 300, 400, 600 };
    char dir[2048], in[8192], out[8192], cmd[20000];
    mark_ctx *ctx;
    mark_key *key;
    FILE *rep;
    size_t a, li;
    int i;

    if (argc != 2) {
        fprintf(stderr, "usage: robustness-text WORKDIR\n");
        return 2;
    }
    snprintf(dir, sizeof dir, "%s/text-work", argv[1]);
    mkdir(argv[1], 0777);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        perror(dir);
        return 1;
    }
    if (mark_ctx_new(&ctx, NULL) != MARK_OK ||
        mark_key_default(ctx, &key) != MARK_OK)
        return 99;
    snprintf(in, sizeof in, "%s/text-report.md", argv[1]);
    rep = fopen(in, "w");
    if (rep == NULL) {
        perror(in);
        return 1;
    }
    corpus();
    for (i = 0; i < n_texts; i++) {
        text *t = &texts[i];
        mark__txtwm *w;
        mark__buf o;
        unsigned j;

        for (j = 0; j < 8; j++)
            t->p.bytes[j] = (unsigned char)rnd(256);
        mark__buf_init(&o, ctx);
        if (mark__txtwm_new(ctx, key, &t->p, &w) != MARK_OK ||
            mark__txtwm_feed(w, t->orig.p, t->orig.n, &o) != MARK_OK ||
            mark__txtwm_finish(w, &o) != MARK_OK)
            return 99;
        mark__txtwm_free(w);
        put(&t->marked, (char *)o.data, o.len);
        mark__buf_free(&o);
        snprintf(in, sizeof in, "%s/%s.md", dir, t->name);
        if (write_file(in, t->marked.p, t->marked.n) != 0) {
            perror(in);
            return 1;
        }
    }

#define OUT(...) do { printf(__VA_ARGS__); fprintf(rep, __VA_ARGS__); } \
                 while (0)
    OUT("## txt-v1 robustness (%d texts)\n\n", n_texts);
    OUT("| text | characters | bytes | marked bytes | growth | copies | "
        "shortest excerpt always found (50 excerpts) |\n"
        "|---|---|---|---|---|---|---|\n");
    for (i = 0; i < n_texts; i++) {
        text *t = &texts[i];
        mark__txtwm_result r;
        size_t shortest = 0;

        mark__txtwm_detect(ctx, key, t->marked.p, t->marked.n, &r);
        for (li = 0; li < sizeof lens / sizeof *lens && !shortest; li++) {
            int e, hit = 0;

            for (e = 0; e < 50; e++) {
                size_t s0 = rnd((uint32_t)t->marked.n), s1, c = 0;

                while (s0 < t->marked.n &&
                       ((unsigned char)t->marked.p[s0] & 0xc0) == 0x80)
                    s0++;
                for (s1 = s0; s1 < t->marked.n && c < lens[li]; s1++)
                    c += (size_t)char_at(t->marked.p, s1, t->marked.n);
                while (s1 < t->marked.n &&
                       ((unsigned char)t->marked.p[s1] & 0xc0) == 0x80)
                    s1++;
                if (c < lens[li]) {
                    hit++;                   /* the text is shorter */
                    continue;
                }
                {
                    mark__txtwm_result x;

                    mark__txtwm_detect(ctx, key, t->marked.p + s0, s1 - s0,
                                       &x);
                    hit += x.found;
                }
            }
            if (hit == 50)
                shortest = lens[li];
        }
        OUT("| %s | %zu | %zu | %zu | %+.0f%% | %zu | ", t->name,
            chars(t->orig.p, t->orig.n), t->orig.n, t->marked.n,
            100.0 * ((double)t->marked.n - (double)t->orig.n) /
                (double)t->orig.n, r.copies);
        if (shortest)
            OUT("%zu |\n", shortest);
        else
            OUT("> %zu |\n", lens[sizeof lens / sizeof *lens - 1]);
    }
    OUT("\n| attack | found (payload right) | partial mark reported | "
        "wrong payload |\n|---|---|---|---|\n");
    for (a = 0; a < sizeof attacks / sizeof *attacks; a++) {
        const attack *at = &attacks[a];
        int found = 0, partial = 0, wrong = 0, n = 0;

        if (at->needs != NULL && !have(at->needs)) {
            OUT("| %s | (%s not installed) | | |\n", at->name, at->needs);
            continue;
        }
        for (i = 0; i < n_texts; i++) {
            text *t = &texts[i];
            mark__txtwm_result r;
            size_t len;
            char *s;

            if (!t->expect)
                continue;
            n++;
            snprintf(in, sizeof in, "%s/%s.md", dir, t->name);
            snprintf(out, sizeof out, "%s/%s.%zu.out", dir, t->name, a);
            snprintf(cmd, sizeof cmd, "(%s) < '%s' > '%s'", at->cmd, in,
                     out);
            if (system(cmd) != 0) {
                fprintf(stderr, "robustness-text: failed: %s\n", cmd);
                continue;
            }
            s = read_file(out, &len);
            if (s == NULL)
                continue;
            mark__txtwm_detect(ctx, key, s, len, &r);
            if (r.found && memcmp(r.payload.bytes, t->p.bytes, 8) == 0)
                found++;
            else if (r.found)
                wrong++;
            else if (r.partial)
                partial++;
            free(s);
        }
        OUT("| %s | %d/%d | %d | %d |\n", at->name, found, n, partial, wrong);
    }
    /* unmarked texts: nothing found */
    {
        int fp = 0;

        for (i = 0; i < n_texts; i++) {
            mark__txtwm_result r;

            mark__txtwm_detect(ctx, key, texts[i].orig.p, texts[i].orig.n,
                               &r);
            fp += r.found;
        }
        OUT("\nFalse positives on the unmarked originals: %d of %d; bound "
            "per decision %.1e.\n", fp, n_texts, MARK__TXTWM_FP_BOUND);
    }
    fclose(rep);
    for (i = 0; i < n_texts; i++) {
        free(texts[i].orig.p);
        free(texts[i].marked.p);
    }
    mark_key_free(key);
    mark_ctx_free(ctx);
    return 0;
}
