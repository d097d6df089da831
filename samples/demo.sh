#!/bin/sh
# demo.sh - mark the bundled samples and verify them; run by `make demo`.
#
# Usage: sh samples/demo.sh [AIMARK]     (default: build/aimark)
#
# 1. a generation service labels four images into samples/out/;
# 2. a propagation platform re-publishes upload.png, which already carries
#    a producer's label: the producer's fields stay, the platform's are
#    added, and the label moves from a PNG text chunk into XMP;
# 3. every output is verified (the human report is printed);
# 4. where ImageMagick is installed, the pixels are compared with the
#    originals: marking touches metadata only;
# 5. samples/pipe-generator.sh labels an image on its way out of a
#    generator; a speech generator's raw PCM, a language model's answer
#    and a Markdown file, and a generated video clip are labelled too.
# Exits non-zero when any step fails.
set -u

aimark=${1:-build/aimark}
here=$(cd "$(dirname "$0")" && pwd)
producer=001191110102MAD55U9H0F10002
# a made-up, well-formed code of a propagation service
platform=001191110108EXAMPLE00820001
images="sunset.png portrait.jpg chart.png scan.jpg"

case $aimark in
/*) ;;
*/*) aimark=$(pwd)/$aimark ;;
esac
case $aimark in
*/*)
    if [ ! -x "$aimark" ]; then
        echo "demo.sh: '$aimark' is not executable (run make first)" >&2
        exit 1
    fi ;;
esac

cd "$here" || exit 1
mkdir -p out || exit 1
failed=0

step() {
    echo
    echo "== $*"
}

run() {
    echo "\$ aimark $*"
    "$aimark" "$@"
}

step "a generation service labels its images"
# shellcheck disable=SC2086
if ! run mark -f -j 4 --producer "$producer" -o out/ $images; then
    echo "demo.sh: marking the samples failed" >&2
    failed=1
fi

step "a propagation platform re-publishes an upload"
run verify upload.png || failed=1
if ! run mark -f --propagator "$platform" upload.png -o out/upload.png; then
    echo "demo.sh: marking upload.png as a platform failed" >&2
    failed=1
fi

step "verify the outputs"
outs=
n=0
for f in $images upload.png; do
    outs="$outs out/$f"
    n=$((n + 1))
done
# shellcheck disable=SC2086
if ! run verify $outs; then
    echo "demo.sh: not every output carries a label" >&2
    failed=1
fi
# exactly one label each, without errors, and the visible label found
# shellcheck disable=SC2086
bad=$("$aimark" verify --json $outs | grep -vc '"compliant":true')
if [ "$bad" -ne 0 ]; then
    echo "demo.sh: $bad output(s) not compliant" >&2
    failed=1
fi
# shellcheck disable=SC2086
bad=$("$aimark" verify --json $outs | grep -vc '"explicit":{"found":true')
if [ "$bad" -ne 0 ]; then
    echo "demo.sh: $bad output(s) without their visible label" >&2
    failed=1
fi

same=0
if [ -x /usr/bin/identify ]; then
    step "metadata only (--no-visible --no-watermark): pixels unchanged"
    mkdir -p out/metadata-only
    for f in $images; do
        "$aimark" mark -f -q --no-visible --no-watermark \
            --producer "$producer" "$f" \
            -o "out/metadata-only/$f" || failed=1
        a=$(/usr/bin/identify -format '%#' "$f" 2>/dev/null)
        b=$(/usr/bin/identify -format '%#' "out/metadata-only/$f" \
            2>/dev/null)
        if [ -n "$a" ] && [ "$a" = "$b" ]; then
            echo "$f: pixels unchanged"
            same=$((same + 1))
        else
            echo "demo.sh: $f: pixels differ after metadata-only marking" >&2
            failed=1
        fi
    done
fi

step "a generator piped into aimark"
sh "$here/pipe-generator.sh" "$aimark" || failed=1

# audio: a speech generator's raw PCM (made by the test generator genwav
# beside aimark: a crude vowel synthesiser) labelled and watermarked on
# its way to a WAV file, then verified
audio=0
genwav=$(dirname "$aimark")/tests/genwav
if [ -x "$genwav" ]; then
    step "a speech generator's raw PCM piped into aimark"
    "$genwav" out/tts.wav --content voice --rate 24000 --channels 1 \
        --seconds 8 || failed=1
    echo "\$ tts | aimark mark --raw-format s16le --rate 24000 --channels 1 - -o out/speech.wav"
    if tail -c +45 out/tts.wav | "$aimark" mark -f --producer "$producer" \
        --raw-format s16le --rate 24000 --channels 1 - -o out/speech.wav &&
        run verify out/speech.wav; then
        if "$aimark" verify --json out/speech.wav |
            grep -q '"position":"start"'; then
            audio=1
        else
            echo "demo.sh: no rhythm label found in out/speech.wav" >&2
            failed=1
        fi
    else
        echo "demo.sh: labelling audio failed" >&2
        failed=1
    fi
    rm -f out/tts.wav
fi

# text: a language model's answer streamed through aimark as it is
# written, and a Markdown answer marked as a file (its front matter keeps
# its keys and gains the AIGC entry)
text=0
step "a language model's answer piped into aimark, and a Markdown file"
echo "\$ llm | aimark mark --format text - > out/answer.txt"
if sed -n '/^Rivers/,/^$/p' answer.md | "$aimark" mark --producer "$producer" \
        --format text - > out/answer.txt &&
    run verify out/answer.txt &&
    run mark -f --producer "$producer" answer.md -o out/answer.md &&
    run verify out/answer.md; then
    if "$aimark" verify --json out/answer.md | grep -q '"watermark":{"found":true'; then
        text=2
    else
        echo "demo.sh: no text watermark found in out/answer.md" >&2
        failed=1
    fi
else
    echo "demo.sh: labelling text failed" >&2
    failed=1
fi

# video: a short generated clip (ffmpeg's test pattern and a tone) with
# all three marks, then verified
video=0
if command -v ffmpeg > /dev/null; then
    step "a generated video clip"
    ffmpeg -v error -y -f lavfi -i testsrc2=size=640x360:rate=25 \
        -f lavfi -i sine=frequency=440:sample_rate=48000 -t 4 \
        -c:v libx264 -pix_fmt yuv420p -c:a aac out/clip-in.mp4 || failed=1
    if run mark -f --producer "$producer" out/clip-in.mp4 -o out/clip.mp4 &&
        run verify out/clip.mp4; then
        if "$aimark" verify --json out/clip.mp4 | grep -q '"scheme":"vid-v1"' &&
           "$aimark" verify --json out/clip.mp4 | grep -q '"verdict":"generated"'; then
            video=1
        else
            echo "demo.sh: out/clip.mp4 lacks its marks" >&2
            failed=1
        fi
    else
        echo "demo.sh: labelling the video failed" >&2
        failed=1
    fi
    rm -f out/clip-in.mp4
fi

echo
if [ "$failed" -eq 0 ]; then
    if [ "$same" -gt 0 ]; then
        pix="; metadata-only marking left the pixels of $same unchanged"
    else
        pix=""
    fi
    if [ "$audio" -eq 1 ]; then
        aud=" and 1 generated speech clip"
    else
        aud=""
    fi
    [ "$text" -gt 0 ] && aud="$aud, $text texts"
    [ "$video" -eq 1 ] && aud="$aud, 1 video clip"
    echo "demo: OK - $n samples, 1 generated image$aud labelled in samples/out/, all verified$pix"
    exit 0
fi
echo "demo: FAILED - see the messages above" >&2
exit 1
