# text_wm.sh - the txt-v1 watermark in text, end to end: found and
# matching the metadata in the marked text, in excerpts of a few hundred
# characters, through a pipe; a cut or damaged mark reported as partial;
# kept when re-marking; the visible text unchanged once stripped.
. "$TOP/tests/cli_lib.sh"
LABEL='本内容由人工智能生成'
M() { "$AIMARK" mark --producer $CODE "$@"; }
strip() { perl -CSD -pe 's/[\x{200B}\x{200C}\x{2062}\x{2063}\x{2064}]//g' "$1"; }
# characters [from, from + n) of a UTF-8 file
excerpt() { perl -CSD -0777 -ne "print substr(\$_, $2, $3)" "$1"; }

# a long mixed text (generated here): English and Chinese paragraphs, a
# code block, links
i=0
{
    printf -- '---\ntitle: "A long answer"\n---\n'
    while [ $i -lt 40 ]; do
        printf 'Paragraph %d explains how the system works, step by step, with plain words and a link to https://example.com/p%d for details.\n\n' $i $i
        printf '第%d段：系统根据输入写出文本，我们需要对这些内容进行标识，以便读者了解其来源。\n\n' $i
        if [ $((i % 10)) -eq 5 ]; then printf '```c\nint main(void) { return %d; }\n```\n\n' $i; fi
        i=$((i + 1))
    done
} > long.md
expect 0 M --json --produce-id wm-test long.md
has out '"watermark":{"embedded":true,"scheme":"txt-v1"'
expect 0 "$AIMARK" verify --json long.aigc.md
has out '"found":true'
has out '"matches_metadata":true'
has out '"partial":false'
payload=$(sed -n 's/.*"watermark":{"found":true,"payload":"\([0-9a-f]*\)".*/\1/p' out)
checks=$((checks + 1))
[ -n "$payload" ] || fail "no payload in the report"
# the visible text is the input with the label line after the front matter
strip long.aigc.md | sed '1,/^---$/d' > body.got
{ printf '> %s\n\n' "$LABEL"; sed '1,/^---$/d' long.md; } > body.want
checks=$((checks + 1))
cmp -s body.got body.want || fail "stripped text differs from the input"
# any excerpt of a few hundred characters carries a copy
for from in 400 1300 2500 4000; do
    excerpt long.aigc.md $from 400 > ex.txt
    expect 0 "$AIMARK" verify --json --format text ex.txt
    has out "\"payload\":\"$payload\""
done
# damaged: every fifth code point of the mark deleted
perl -CSD -0777 -pe 's/([\x{200B}\x{200C}\x{2062}\x{2063}\x{2064}])/(++$n % 5) ? $1 : ""/ge' long.aigc.md > damaged.md
expect 0 "$AIMARK" verify --json damaged.md
has out '"partial":true'
expect 0 "$AIMARK" verify damaged.md
has out "PARTIAL or damaged txt-v1"
# an unmarked text: nothing, not partial
expect 1 "$AIMARK" verify --json long.md
has out '"watermark":{"found":false'
has out '"partial":false'
# re-marking keeps the watermark
expect 0 "$AIMARK" mark --json --propagator 001191110108EXAMPLE00820001 long.aigc.md -o re.md
has out '"kept":true'
expect 0 "$AIMARK" verify --json re.md
has out "\"payload\":\"$payload\""
# through a pipe, as it is written
checks=$((checks + 1))
sed '1,/^---$/d' long.md | M --format text --produce-id wm-test - > piped.txt || fail "pipe"
expect 0 "$AIMARK" verify --json piped.txt
has out "\"payload\":\"$payload\""
strip piped.txt > piped.got
{ printf '%s\n\n' "$LABEL"; sed '1,/^---$/d' long.md; } > piped.want
checks=$((checks + 1))
cmp -s piped.got piped.want || fail "stripped piped text differs"
# plain text: the payload still ties back to the (unwritten) label
sed '1,/^---$/d' long.md > long.txt
expect 0 M --json --produce-id wm-test long.txt
has out "\"payload\":\"$payload\""
# word counts of the visible text unchanged (wc -w, a UTF-8 locale)
checks=$((checks + 1))
[ "$(strip long.aigc.md | LC_ALL=C.UTF-8 wc -w)" = \
  "$(LC_ALL=C.UTF-8 wc -w < long.aigc.md)" ] || fail "word count changed"
done_
