#!/bin/sh
# make-gen-corpus.sh CORPUS DIR - images of the sizes generators write
# (1024x1024, 1792x1024, 1024x1792), made from the corpus of
# make-corpus.sh (CORPUS) by ImageMagick: each picture scaled to cover
# the size and cropped to it about its centre.  At 1024 px a side the
# watermark's work scale changes (full resolution under it, 2 x 2 cells
# from it on), and the main corpus has only two images there; this set
# checks that edge:
#
#     sh bench/robustness/make-corpus.sh build/robustness/corpus
#     sh bench/robustness/make-gen-corpus.sh build/robustness/corpus \
#         build/robustness-gen/corpus
#     build/bench/robustness build/robustness-gen       # and -p 1, -J
set -eu

src=${1:?usage: make-gen-corpus.sh CORPUS DIR}
dir=${2:?usage: make-gen-corpus.sh CORPUS DIR}
CONVERT=${CONVERT:-/usr/bin/convert}
[ -x "$CONVERT" ] || CONVERT=convert
mkdir -p "$dir"
n=0
for spec in photo-hills:1792x1024 photo-night:1792x1024 \
    text-code:1792x1024 flat-poster:1792x1024 photo-portrait:1024x1792 \
    photo-phone:1024x1792 text-page:1024x1792 art-charcoal:1024x1024 \
    texture-clouds:1024x1024 photo-foliage:1792x1024 \
    shapes-radial:1024x1024 text-sheet:1792x1024 photo-plasma:1792x1024 \
    text-web-2560x1440:1024x1024; do
    name=${spec%%:*}
    size=${spec##*:}
    # the first corpus image of that name (text-web has two sizes)
    in=$(ls "$src/$name"*.png 2> /dev/null | head -n 1)
    [ -n "$in" ] || { echo "make-gen-corpus: no '$name' in '$src'" >&2; exit 1; }
    out="$dir/g-$(echo "$name" | sed 's/-[0-9].*//')-$size.png"
    [ -f "$out" ] && { n=$((n + 1)); continue; }
    "$CONVERT" "$in" -resize "$size^" -gravity center -extent "$size" \
        "$out.tmp.png"
    mv "$out.tmp.png" "$out"
    n=$((n + 1))
done
echo "make-gen-corpus: $n images in '$dir'"
