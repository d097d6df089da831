#!/bin/sh
# pipe-generator.sh - label a generator's output on its way to disk.
#
# A model that writes its picture to standard output can be piped straight
# into `aimark mark -`, so that no unlabelled file ever exists.
# ImageMagick's plasma noise stands in for the model here; without
# ImageMagick a bundled sample is used instead.
#
# Usage: sh samples/pipe-generator.sh [AIMARK]     (default: build/aimark)
# Writes samples/out/generated.png and prints its verify report as JSON.
set -u

aimark=${1:-build/aimark}
here=$(cd "$(dirname "$0")" && pwd)
out=$here/out
producer=001191110102MAD55U9H0F10002

# A path to the binary keeps working after the cd below.
case $aimark in
/*) ;;
*/*) aimark=$(pwd)/$aimark ;;
esac
case $aimark in
*/*)
    if [ ! -x "$aimark" ]; then
        echo "pipe-generator.sh: '$aimark' is not executable (run make first)" >&2
        exit 1
    fi ;;
esac
mkdir -p "$out" || exit 1

generate() {
    if [ -x /usr/bin/convert ]; then
        /usr/bin/convert -seed 2025 -size 256x256 plasma:fractal png:-
    else
        cat "$here/sunset.png"
    fi
}

cd "$out" || exit 1

echo "\$ generator | aimark mark --producer $producer - -o generated.png"
generate | "$aimark" mark -f --producer "$producer" - -o generated.png
rc=$?
if [ "$rc" -ne 0 ]; then
    echo "pipe-generator.sh: aimark mark failed (exit $rc)" >&2
    exit 1
fi

echo "\$ aimark verify --json generated.png"
"$aimark" verify --json generated.png
rc=$?
if [ "$rc" -ne 0 ]; then
    echo "pipe-generator.sh: aimark verify did not find the label (exit $rc)" >&2
    exit 1
fi
