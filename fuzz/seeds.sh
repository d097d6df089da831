#!/bin/sh
# seeds.sh - write the seed corpus of every fuzz target, all made by the
# project itself: the test generators (genimg, genwav, genaudio, gendoc),
# files marked by aimark (labels, XMP, txt-v1, img-v1, aud-v2 in them),
# a few label and Markdown texts written out below, and, when ffmpeg is
# there, two tiny videos from its test sources.  Small on purpose:
# libFuzzer's -max_len follows the largest seed.
#
#   sh fuzz/seeds.sh O OUTDIR    (O: the build dir with aimark and the
#                                 generators; OUTDIR/<target>/ is written)
# Deterministic but for the label's date fields and encoders' versions.
set -eu
O=$1
out=$2
top=$(cd "$(dirname "$0")/.." && pwd)
case $O in /*) ;; *) O=$top/$O ;; esac
A=$O/aimark
G=$O/tests/genwav
GA=$O/tests/genaudio
CODE=001191110102MAD55U9H0F10002
tmp=$(mktemp -d "${TMPDIR:-/tmp}/aimark-seeds.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
# no config or producer from the machine running us
export HOME=$tmp XDG_CONFIG_HOME=$tmp
unset AIMARK_CONFIG AIMARK_PRODUCER 2>/dev/null || true
rm -rf "$out"
for t in png jpeg label_json wav flac ogg mp3 mp4 text imgwm audwm \
         verify_any; do
    mkdir -p "$out/$t"
done
mark() { "$A" mark --producer $CODE --produce-id seed "$@" > /dev/null 2>&1; }

# images: genimg's small files, and two marked (label, XMP, watermark)
mkdir "$tmp/img"
"$O/tests/genimg" "$tmp/img" > /dev/null
for f in "$tmp"/img/*.png; do
    [ "$(wc -c < "$f")" -le 65536 ] && cp "$f" "$out/png/"
done
for f in "$tmp"/img/*.jpg; do
    [ "$(wc -c < "$f")" -le 65536 ] && cp "$f" "$out/jpeg/"
done
# big enough (128 px a side) to carry the img-v1 watermark
if command -v convert > /dev/null; then
    convert -size 160x144 gradient:navy-orange -depth 8 "$tmp/img/grad.png"
    convert "$tmp/img/grad.png" -quality 85 "$tmp/img/grad.jpg"
fi
for f in "$tmp"/img/png-rgb8.png "$tmp"/img/jpeg-baseline.jpg \
         "$tmp"/img/grad.png "$tmp"/img/grad.jpg; do
    [ -f "$f" ] || continue
    b=$(basename "$f")
    case $b in *.png) d=png ;; *) d=jpeg ;; esac
    mark "$f" -o "$tmp/m-$b" && cp "$tmp/m-$b" "$out/$d/"
done

# the luma planes of a marked and an unmarked image: 2 + 2 bytes of
# (width - 1) and (height - 1), then the 8-bit grey samples
if command -v convert > /dev/null; then
    for f in "$tmp"/m-grad.png "$tmp"/img/grad.png; do
        [ -f "$f" ] || continue
        wh=$(identify -format '%w %h' "$f")
        set -- $wh
        [ "$1" -le 384 ] && [ "$2" -le 384 ] || continue
        w=$(($1 - 1)) h=$(($2 - 1))
        { printf "\\$(printf %o $((w & 255)))\\$(printf %o $((w >> 8)))"
          printf "\\$(printf %o $((h & 255)))\\$(printf %o $((h >> 8)))"
          convert "$f" -colorspace gray -depth 8 gray:-
        } > "$out/imgwm/$(basename "$f" .png).luma"
    done
fi

# audio: short WAVs (a label in a chunk of their own, in LIST/INFO, an
# odd layout), then the other formats from them, plain and marked
J='{"AIGC":{"Label":"1","ContentProducer":"'$CODE'","ProduceID":"x"}}'
"$G" "$tmp/a.wav" --rate 8000 --channels 1 --seconds 0.25
"$G" "$tmp/b.wav" --rate 16000 --channels 2 --seconds 0.25 --aigc "$J"
"$G" "$tmp/c.wav" --rate 8000 --channels 1 --seconds 0.25 --info-aigc "$J"
"$G" "$tmp/d.wav" --rate 22050 --channels 3 --format f32 --seconds 0.1
"$G" "$tmp/e.wav" --rate 8000 --channels 1 --seconds 0.25 --truncate 300
"$G" "$tmp/l.wav" --rate 16000 --channels 1 --seconds 6 --content speech
cp "$tmp"/[a-e].wav "$out/wav/"
mark "$tmp/a.wav" -o "$tmp/m-a.wav" && cp "$tmp/m-a.wav" "$out/wav/"
"$GA" "$tmp/a.wav" "$out/flac/a.flac" --title T
"$GA" "$tmp/a.wav" "$out/flac/tags.flac" --tag "AIGC=$J" --padding 64 \
    --application
"$GA" "$tmp/a.wav" "$out/flac/bad.flac" --bad-length
"$GA" "$tmp/a.wav" "$out/ogg/a.ogg" --title T
"$GA" "$tmp/a.wav" "$out/ogg/tags.ogg" --tag "AIGC=$J"
"$GA" "$tmp/a.wav" "$out/ogg/a.opus"
"$GA" "$tmp/a.wav" "$out/mp3/a.mp3" --title T
"$GA" "$tmp/a.wav" "$out/mp3/id3v3.mp3" --id3 3 --txxx "AIGC=$J"
"$GA" "$tmp/a.wav" "$out/mp3/id3v4.mp3" --id3 4 --txxx "AIGC=$J"
for f in flac/a.flac ogg/a.ogg ogg/a.opus mp3/a.mp3; do
    mark "$out/$f" -o "$tmp/m.${f##*.}" && cp "$tmp/m.${f##*.}" "$out/${f%/*}/m-${f#*/}"
done

# audwm: byte 0 = 2 (16 kHz, full search), byte 1 = 0 (mono), then
# 16-bit samples: a marked clip and the same unmarked
if mark "$tmp/l.wav" -o "$tmp/m-l.wav" && command -v sox > /dev/null; then
    for f in l m-l; do
        { printf '\002\000'; sox "$tmp/$f.wav" -t s16 -L -; } \
            > "$out/audwm/$f.pcm"
    done
fi

# video: ffmpeg's test sources, a fraction of a second, 64x48
if command -v ffmpeg > /dev/null; then
    FF="ffmpeg -v error -y -f lavfi -i testsrc=size=64x48:rate=10:duration=0.3"
    FA="-f lavfi -i sine=frequency=440:duration=0.3"
    $FF $FA -c:v libx264 -pix_fmt yuv420p -c:a aac "$tmp/v.mp4" &&
        cp "$tmp/v.mp4" "$out/mp4/"
    $FF -c:v libx264 -pix_fmt yuv420p -movflags +faststart "$tmp/f.mp4" &&
        cp "$tmp/f.mp4" "$out/mp4/"
    # fragmented: an empty moov, then moof/mdat pairs (streaming writers)
    $FF $FA -c:v libx264 -pix_fmt yuv420p -c:a aac -g 1 \
        -movflags frag_keyframe+empty_moov "$tmp/frag.mp4" &&
        cp "$tmp/frag.mp4" "$out/mp4/"
    $FF $FA -c:v libvpx-vp9 -c:a flac "$tmp/v.mkv" && cp "$tmp/v.mkv" "$out/mp4/"
    for f in v.mp4 v.mkv frag.mp4; do
        mark "$tmp/$f" -o "$tmp/m-$f" && cp "$tmp/m-$f" "$out/mp4/"
    done
fi

# labels: the forms and the usual mistakes
l=$out/label_json
printf '%s' "$J" > "$l/wrapped"
printf '{"Label":"1","ContentProducer":"%s","ProduceID":"a","ReservedCode1":"","ContentPropagator":"doubao","PropagateID":"b","ReservedCode2":""}' $CODE > "$l/bare"
printf '{"Label":3,"ContentProducer":"","X":[1,{"y":null}],"Label":"2"}' > "$l/bad"
printf '{"AIGC":"{\"Label\":\"1\"}"}' > "$l/string"
printf '[{"AIGC":{}}]' > "$l/array"

# text: Markdown with and without front matter, plain text; marked
t=$out/text
printf -- '---\ntitle: x\nAIGC:\n  Label: "1"\n  ContentProducer: %s\n---\n# Head\n\nSome words.\n' $CODE > "$t/fm.md"
printf -- '---\r\nAIGC: %s\r\n...\r\nbody\r\n' "$J" > "$t/fm-json.md"
printf -- '---\nkey: [a, b]\n' > "$t/open.md"
i=0 words=""
while [ $i -lt 40 ]; do
    words="$words The quick brown fox jumps over the lazy dog, again and again."
    i=$((i + 1))
done
printf '%s\n\n人工智能生成的内容，用于测试。%s\n' "$words" "$words" > "$tmp/plain.txt"
cp "$tmp/plain.txt" "$t/"
mark "$tmp/plain.txt" -o "$tmp/m-plain.txt" && cp "$tmp/m-plain.txt" "$t/"
printf -- '---\na: b\n---\n%s\n' "$words" > "$tmp/doc.md"
mark "$tmp/doc.md" -o "$tmp/m-doc.md" && cp "$tmp/m-doc.md" "$t/"

# the verifier gets a few of every kind, the documents too
mkdir "$tmp/doc"
"$O/tests/gendoc" "$tmp/doc" > /dev/null
for f in doc.docx none.pdf xmp.pdf both.pdf; do
    [ -f "$tmp/doc/$f" ] && cp "$tmp/doc/$f" "$out/verify_any/"
done
for f in png/m-grad.png png/var-png-itxt-aigc.png jpeg/m-grad.jpg \
         jpeg/var-jpeg-exif-usercomment.jpg wav/m-a.wav flac/m-a.flac \
         ogg/m-a.opus mp3/id3v4.mp3 mp4/m-v.mp4 mp4/m-v.mkv mp4/m-frag.mp4 \
         text/m-plain.txt \
         text/m-doc.md; do
    [ -f "$out/$f" ] && cp "$out/$f" "$out/verify_any/$(echo $f | tr / -)"
done
for t in "$out"/*; do
    printf '%s %s\n' "$(basename "$t")" "$(ls "$t" | wc -l)"
done
