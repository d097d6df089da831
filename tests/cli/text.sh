# text.sh - plain text and Markdown: the label line, the front matter
# label (merged, exactly one), BOM and CRLF kept, bad UTF-8 refused,
# other encodings, streaming from a slow writer, and the visible text
# unchanged once the watermark's invisible code points are stripped.
# Fixtures are written here with printf.  Tests that need the real txt-v1
# watermark are in text_wm.sh.
. "$TOP/tests/cli_lib.sh"
LABEL='本内容由人工智能生成'
M() { "$AIMARK" mark --producer $CODE "$@"; }
# the text without the watermark's code points (U+200B, U+200C, U+2062,
# U+2063, U+2064)
strip() { perl -CSD -pe 's/[\x{200B}\x{200C}\x{2062}\x{2063}\x{2064}]//g' "$1"; }
same() {   # same FILE1 FILE2: byte for byte
    checks=$((checks + 1))
    cmp -s "$1" "$2" || { fail "$1 differs from $2"; diff "$1" "$2" | head -8; }
}

# --- plain text in several scripts: the label line, then the text as it was
printf 'The quick brown fox jumps over the lazy dog. It was a sunny day, and\nthe fox was happy.\n\nSecond paragraph: see https://example.com/a?b=c for more.\n' > en.txt
printf '人工智能正在改变世界。这是第一段，讲述了一些事情。\n\n第二段：今天天气很好，我们去公园散步。\n' > zh.txt
printf 'שלום עולם, זהו טקסט בעברית.\nمرحبا بالعالم، هذا نص باللغة العربية.\nMixed: abc שלום 123.\n' > rtl.txt
printf 'Emoji: 😀👍🏽 👨‍👩‍👧 family, flags 🇨🇳🇫🇷, and a ZWJ sequence.\nDone ✅\n' > emoji.txt
for f in en zh rtl emoji; do
    expect 0 M $f.txt
    ok test -s $f.aigc.txt
    { printf '%s\n\n' "$LABEL"; cat $f.txt; } > $f.want
    strip $f.aigc.txt > $f.stripped
    same $f.stripped $f.want
    expect 0 "$AIMARK" verify $f.aigc.txt
    has out "$f.aigc.txt: suspected"
    has out "format: plain text"
    has out "explicit label: \"$LABEL\" at the start"
    expect 1 "$AIMARK" verify $f.txt
    has out "explicit label: not found"
done
# the JSON of mark says that plain text has no metadata carrier
expect 0 M --json -f en.txt
has out '"format":"text","status":"marked"'
has out '"text_label":{"where":"start","text":"本内容由人工智能生成"}'
has out '"metadata":{"written":false'
has out '"watermark":{'
expect 0 "$AIMARK" verify --json en.aigc.txt
has out '"format":"text","type":"text","text":{"bytes":'
has out '"encoding":"UTF-8","line_ends":"LF"}'
has out '"explicit":{"found":true,"checked":true,"kind":"text","text":"本内容由人工智能生成","position":"start","meets_rule":true'
has out '"scheme":"txt-v1"'

# --- where the label goes; re-marking adds no second one
long() { i=0; while [ $i -lt 30 ]; do printf 'Line %d of a long generated answer, with enough words to fill it.\n' $i; i=$((i + 1)); done; }
long > long.txt
expect 0 M --text-label both long.txt -o both.txt
{ printf '%s\n\n' "$LABEL"; cat long.txt; printf '\n%s\n' "$LABEL"; } > both.want
strip both.txt > both.stripped
same both.stripped both.want
expect 0 "$AIMARK" verify --json both.txt
has out '"position":"start+end"'
expect 0 M --text-label end long.txt -o end.txt
expect 0 "$AIMARK" verify --json end.txt
has out '"position":"end"'
expect 0 M --text-label both both.txt -o both2.txt
strip both2.txt > both2.stripped
same both2.stripped both.want
expect 0 M --text-label none --no-watermark long.txt -o none.txt
same none.txt long.txt
expect 0 M --no-visible --no-watermark long.txt -o novis.txt
same novis.txt long.txt
# a last line without a line end gets one before the end label
printf 'no newline at the end' > nonl.txt
expect 0 M --text-label end nonl.txt
strip nonl.aigc.txt > nonl.stripped
printf 'no newline at the end\n\n%s\n' "$LABEL" > nonl.want
same nonl.stripped nonl.want

# --- the label text: both elements, or refused; a bilingual one for English
expect 2 M --label 'AI-generated' en.txt -o x.txt
has err "generation element"
ok test ! -e x.txt
expect 0 M --label 'AI生成 / AI-generated' en.txt -o bi.txt
ok sh -c "head -n 1 bi.txt | grep -q 'AI生成 / AI-generated'"
expect 0 "$AIMARK" verify bi.txt
has out 'explicit label: "AI生成 / AI-generated" at the start'
expect 2 M --text-label middle en.txt -o x.txt

# --- Markdown: front matter created, merged (other lines byte for byte), one AIGC
cat > doc.md <<'EOF'
# A title

Some **bold** text, a [link](https://example.com "title"), and `code`.

```python
def f(x):
    return x * 2  # a comment
```

| Name | Value |
|------|-------|
| a    | 1     |

- item one
- item 二
EOF
expect 0 M doc.md
ok sh -c "head -n 1 doc.aigc.md | grep -qx -- '---'"
has doc.aigc.md 'AIGC:'
has doc.aigc.md '  ContentProducer: "001191110102MAD55U9H0F10002"'
has doc.aigc.md "> $LABEL"
# after the front matter: the blockquote label, a blank line, the text
strip doc.aigc.md | sed '1,/^---$/d' > doc.body
{ printf '> %s\n\n' "$LABEL"; cat doc.md; } > doc.want
same doc.body doc.want
expect 0 "$AIMARK" verify doc.aigc.md
has out "doc.aigc.md: generated"
has out "format: markdown text"
has out "[1] front-matter: YAML front matter 'AIGC', bare JSON"
has out "explicit label: \"$LABEL\" at the start"
cat > fm.md <<'EOF'
---
title: "Release notes"   # keep this comment
tags: [ai, text]
author:
  name: Someone
  email: someone@example.com
date: 2025-09-01
---
Body text.
EOF
expect 0 M --produce-id first-id fm.md
sed -n '2,7p' fm.md > fm.keep
sed -n '2,7p' fm.aigc.md > fm.got
same fm.got fm.keep
ok sh -c "sed -n '8p' fm.aigc.md | grep -qx 'AIGC:'"
# re-marking (a platform) replaces the entry in place: still one
expect 0 "$AIMARK" mark --propagator 001191110108EXAMPLE00820001 fm.aigc.md -o fm2.md
ok test "$(grep -c '^AIGC:' fm2.md)" -eq 1
has fm2.md '  ProduceID: "first-id"'
has fm2.md '  ContentPropagator: "001191110108EXAMPLE00820001"'
# (the old label line is body now, and may take the new watermark's
# invisible code points: the label reads the same)
ok test "$(strip fm2.md | grep -c "^> $LABEL")" -eq 1
sed -n '2,7p' fm2.md > fm2.got
same fm2.got fm.keep
expect 0 "$AIMARK" verify fm2.md
has out "fm2.md: generated"
has out "metadata: 1 label"
# other forms of the entry are read: a flow mapping, JSON in a string
printf -- '---\nAIGC: {Label: "1", ContentProducer: %s, ProduceID: "flow-id", ReservedCode1: "", ContentPropagator: %s, PropagateID: flow-id, ReservedCode2: ""}\n---\nText.\n' $CODE $CODE > flow.md
expect 0 "$AIMARK" verify flow.md
has out "ProduceID          flow-id"
printf -- "---\nAIGC: '{\"Label\":\"2\",\"ContentProducer\":\"%s\",\"ProduceID\":\"json-id\"}'\n---\nText.\n" $CODE > json.md
expect 0 "$AIMARK" verify json.md
has out "json.md: possibly"
has out "ProduceID          json-id"
# two entries: a duplicate; re-marking leaves one
printf -- '---\nAIGC:\n  Label: "1"\n  ContentProducer: "%s"\n  ProduceID: "a"\nx: 1\nAIGC:\n  Label: "1"\n  ContentProducer: "%s"\n  ProduceID: "b"\n---\nText.\n' $CODE $CODE > dup.md
expect 0 "$AIMARK" verify dup.md
has out "metadata: 2 labels"
has out "duplicate"
expect 0 M dup.md
ok test "$(grep -c '^AIGC:' dup.aigc.md)" -eq 1
has dup.aigc.md 'x: 1'
expect 0 "$AIMARK" verify dup.aigc.md
has out "metadata: 1 label"
# --no-metadata leaves the front matter as it was
expect 0 M --no-metadata fm.md -o fm-nometa.md
hasnt fm-nometa.md 'AIGC'
# a .md name makes text Markdown; --format says it for other names
printf 'Plain words.\n' > notes.markdown
expect 0 M notes.markdown
has notes.aigc.markdown 'AIGC:'
printf 'Plain words.\n' > notes.out
expect 0 M --format markdown notes.out -o notes2.md
has notes2.md 'AIGC:'

# a .txt that opens with "---" stays plain: no front matter is added
printf -- '---\nnot front matter\n---\nText.\n' > dashes.txt
expect 0 M dashes.txt
hasnt dashes.aigc.txt 'AIGC'
expect 0 "$AIMARK" verify dashes.aigc.txt
has out "format: plain text"

# --- BOM and CRLF are kept; the label lines take CRLF too
printf '\357\273\277Line one\r\nLine two\r\n' > crlf.txt
expect 0 M crlf.txt
ok sh -c "head -c 3 crlf.aigc.txt | od -An -tx1 | grep -q 'ef bb bf'"
checks=$((checks + 1))
n=$(tr -cd '\n' < crlf.aigc.txt | wc -c); r=$(tr -cd '\r' < crlf.aigc.txt | wc -c)
[ "$n" -eq 4 ] && [ "$r" -eq 4 ] || fail "CRLF: $n LF, $r CR"
{ printf '\357\273\277%s\r\n\r\n' "$LABEL"; printf 'Line one\r\nLine two\r\n'; } > crlf.want
strip crlf.aigc.txt > crlf.stripped
same crlf.stripped crlf.want
expect 0 "$AIMARK" verify crlf.aigc.txt
has out "UTF-8 with BOM, line ends CRLF"
printf -- '---\r\ntitle: x\r\n---\r\nBody\r\n' > crlf.md
expect 0 M crlf.md
checks=$((checks + 1))
[ "$(grep -c "$(printf '[^\r]$')" crlf.aigc.md)" -eq 0 ] || fail "a line without CR in crlf.aigc.md"

# --- not UTF-8: a clear error, exit 3, nothing written
printf 'abc \377 def\n' > bad.txt
expect 3 M bad.txt
has err "aimark: cannot read 'bad.txt': invalid UTF-8 at byte 4 (use --encoding for other encodings)"
ok test ! -e bad.aigc.txt
printf 'caf\351 au lait, and more text after it\n' > latin.txt
expect 3 M latin.txt
has err "invalid UTF-8 at byte 3"
expect 3 "$AIMARK" verify latin.txt
has err "invalid UTF-8 at byte 3"
: > empty.txt
expect 3 M empty.txt
has err "input is empty"
# a pipe that turns bad part way: the error names the byte
checks=$((checks + 1))
printf 'good line\nbad \377 line\n' | M --format text - > piped-bad.txt 2> err
[ $? -eq 3 ] || fail "piped bad UTF-8 not exit 3"
has err "invalid UTF-8 at byte 14"

# --- another encoding: GB18030 in, GB18030 out
command -v iconv > /dev/null || { echo "iconv missing"; exit 77; }
printf '中文文本，第一行。\n第二行：€ 和 ½。\n' > gb.utf8
iconv -f UTF-8 -t GB18030 gb.utf8 > gb.txt
expect 3 M gb.txt
has err "use --encoding"
expect 0 M --encoding GB18030 gb.txt
iconv -f GB18030 -t UTF-8 gb.aigc.txt > gb.back
{ printf '%s\n\n' "$LABEL"; cat gb.utf8; } > gb.want
strip gb.back > gb.stripped
same gb.stripped gb.want
expect 0 "$AIMARK" verify --encoding GB18030 gb.aigc.txt
has out "GB18030, line ends LF"
has out "explicit label: \"$LABEL\""
expect 2 M --encoding NO-SUCH-CODE gb.txt -o x.txt
has err "unknown encoding 'NO-SUCH-CODE'"
# UTF-16 with its byte order mark (Windows' "Unicode"), either byte
# order, from a file or a pipe: read as such without --encoding (FF FE
# was taken for an MPEG frame sync before), written back in the same
# byte order with its mark
for bo in LE BE; do
    case $bo in LE) bom='\377\376' ;; BE) bom='\376\377' ;; esac
    { printf "$bom"; iconv -f UTF-8 -t UTF-16$bo gb.utf8; } > u16$bo.txt
    expect 0 M u16$bo.txt -o u16$bo.aigc.txt
    checks=$((checks + 1))
    [ "$(head -c 2 u16$bo.aigc.txt | od -An -tx1 | tr -d ' ')" = \
      "$(head -c 2 u16$bo.txt | od -An -tx1 | tr -d ' ')" ] ||
        fail "UTF-16$bo: byte order mark not kept"
    tail -c +3 u16$bo.aigc.txt | iconv -f UTF-16$bo -t UTF-8 > u16.back
    strip u16.back > u16.stripped
    same u16.stripped gb.want
    expect 0 "$AIMARK" verify u16$bo.aigc.txt
    has out "UTF-16$bo, line ends LF"
    has out "explicit label: \"$LABEL\""
    M - < u16$bo.txt > u16pipe.txt
    tail -c +3 u16pipe.txt | iconv -f UTF-16$bo -t UTF-8 > u16.back
    strip u16.back > u16.stripped
    same u16.stripped gb.want
done
# an encoding without the label's characters: refused, nothing written
printf 'plain ascii\n' > ascii.txt
expect 3 M --encoding ISO-8859-1 ascii.txt
has err "cannot write the text in ISO-8859-1"
ok test ! -e ascii.aigc.txt

# --- pipes: a slow writer's lines come out as they are written
checks=$((checks + 1))
(printf 'line one\n'; sleep 3; printf 'line two\n') |
    timeout 20 "$AIMARK" mark --producer $CODE --format text --text-label both - > slow.out 2> slow.err &
pid=$!
sleep 1.5
strip slow.out > slow.early
printf '%s\n\nline one\n' "$LABEL" > slow.want
cmp -s slow.early slow.want || { fail "the first line did not come out before the writer finished"; od -c slow.out | head -5; }
wait $pid || fail "slow pipe: exit $?"
strip slow.out > slow.all
printf '%s\n\nline one\nline two\n\n%s\n' "$LABEL" "$LABEL" > slow.want2
same slow.all slow.want2
# Markdown through a pipe: front matter merged, the label after it
cat fm.md | M --format markdown - > piped.md
ok test "$(grep -c '^AIGC:' piped.md)" -eq 1
sed -n '2,7p' piped.md > piped.keep
same piped.keep fm.keep
has piped.md "> $LABEL"
expect 0 "$AIMARK" verify piped.md
has out "piped.md: generated"
# verify reads a piped text whole
checks=$((checks + 1))
cat doc.aigc.md | "$AIMARK" verify --format markdown - > out || fail "verify of a piped text"
has out "<stdin>: generated"
# a piped text that ends with a label is not labelled twice at the end
printf 'Answer.\n\n%s\n' "$LABEL" | M --format text --text-label end - > e2.txt
ok test "$(strip e2.txt | grep -c "$LABEL")" -eq 1
# the text format found in a pipe without --format (16 bytes looked at)
printf 'Some piped words, more than sixteen bytes.\n' | M - > auto.txt
ok sh -c "head -n 1 auto.txt | grep -q '$LABEL'"
done_
