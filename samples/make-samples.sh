#!/bin/sh
# make-samples.sh - regenerate the sample images in this directory.
#
# Every picture is drawn from scratch by ImageMagick (gradients, plasma
# noise with a fixed seed, simple shapes): no photograph, font or other
# third-party content goes in.  Time stamps are left out, so running the
# script again gives the same bytes with the same ImageMagick version.
#
# Usage: sh samples/make-samples.sh [OUTDIR]     (default: this directory)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
mkdir -p "$out"

# Prefer Debian's ImageMagick 6 binary: another `convert` earlier in PATH
# may be a wrapper or a different program.
if [ -x /usr/bin/convert ]; then
    convert=/usr/bin/convert
elif command -v convert >/dev/null 2>&1; then
    convert=convert
else
    echo "make-samples.sh: ImageMagick's convert is needed (apt-get install imagemagick)" >&2
    exit 1
fi

# No date chunks, no tIME: keeps the output reproducible.
nodate="-define png:exclude-chunks=date,time"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# sunset.png - 320x200 RGB: a sky gradient, a sun, a mountain ridge.
# shellcheck disable=SC2086
"$convert" -size 320x200 gradient:'#ff9a3c-#3b1e6e' \
    -fill '#ffd84d' -draw 'circle 160,150 160,112' \
    -fill '#20183a' \
    -draw 'polygon 0,200 0,165 70,135 140,170 225,118 320,160 320,200' \
    +profile '*' $nodate -depth 8 PNG24:"$out/sunset.png"

# portrait.jpg - 320x240 colour plasma (fixed seed), quality 85, with an
# XMP packet of its own, so marking shows the merge into existing XMP.
cat > "$tmp/portrait.xmp" <<'XMP'
<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/">
   <xmp:CreatorTool>aimark samples/make-samples.sh</xmp:CreatorTool>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">Plasma portrait</rdf:li></rdf:Alt></dc:title>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>
XMP
"$convert" -seed 42 -size 320x240 plasma:fractal -strip \
    -profile "$tmp/portrait.xmp" -quality 85 "$out/portrait.jpg"

# chart.png - 240x160 palette image: four bars on white, with a text
# comment chunk that marking must leave untouched.
# shellcheck disable=SC2086
"$convert" -size 240x160 xc:white \
    -fill '#d0d0d0' -draw 'line 20,140 230,140' -draw 'line 20,10 20,140' \
    -fill '#3465a4' -draw 'rectangle 35,90 65,139' \
    -fill '#f57900' -draw 'rectangle 80,50 110,139' \
    -fill '#4e9a06' -draw 'rectangle 125,70 155,139' \
    -fill '#cc0000' -draw 'rectangle 170,25 200,139' \
    +profile '*' -set comment 'Bar chart drawn by samples/make-samples.sh' \
    $nodate PNG8:"$out/chart.png"

# scan.jpg - 300x400 greyscale "scanned page": bars for lines of text,
# seeded noise, a slight tilt.
"$convert" -size 300x400 gradient:'#f4f4f0-#d8d8d0' -fill '#404040' \
    -draw 'rectangle 30,40 270,52' -draw 'rectangle 30,70 250,78' \
    -draw 'rectangle 30,90 262,98' -draw 'rectangle 30,110 200,118' \
    -draw 'rectangle 30,150 270,158' -draw 'rectangle 30,170 240,178' \
    -draw 'rectangle 30,190 255,198' -draw 'rectangle 30,210 150,218' \
    -draw 'circle 220,320 220,290' \
    -seed 7 -attenuate 0.4 +noise Gaussian \
    -background '#e6e6e0' -rotate 1.5 -gravity center -crop 300x400+0+0 \
    +repage -colorspace Gray -type Grayscale -strip -quality 80 \
    "$out/scan.jpg"

# upload.png - 200x200 RGB that already carries a label the way some
# older writers store it: a PNG text chunk "AIGC" (ImageMagick makes it
# zTXt) with the wrapped JSON form, after the image data.  It stands for
# a file uploaded to a platform: `aimark mark --propagator` keeps its
# production fields, and any re-marking moves the label into XMP.
code=001191110102MAD55U9H0F10002
label='{"AIGC":{"Label":"1","ContentProducer":"'$code'","ProduceID":"sample-upload-0001","ReservedCode1":"","ContentPropagator":"'$code'","PropagateID":"sample-upload-0001","ReservedCode2":""}}'
# shellcheck disable=SC2086
"$convert" -size 200x200 radial-gradient:'#9be7ff-#0b3d91' -fill white \
    -draw 'polygon 100,40 118,85 165,85 127,113 141,158 100,130 59,158 73,113 35,85 82,85' \
    +profile '*' -set AIGC "$label" $nodate -depth 8 PNG24:"$out/upload.png"

for f in sunset.png portrait.jpg chart.png scan.jpg upload.png; do
    size=$(wc -c < "$out/$f")
    if [ "$size" -gt 40960 ]; then
        echo "make-samples.sh: $f is $size bytes, over the 40 KB budget" >&2
        exit 1
    fi
    echo "$out/$f: $size bytes"
done
