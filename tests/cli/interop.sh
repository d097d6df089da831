# interop.sh - our output read by real tools: exiftool finds the AIGC
# property; ImageMagick (and djpeg / pngcheck) decode the same pixels as
# the input; a label exiftool writes is read by us.
. "$TOP/tests/cli_lib.sh"
F=$FIXTURES
command -v exiftool > /dev/null || { echo "exiftool missing"; exit 77; }
command -v compare > /dev/null || { echo "imagemagick missing"; exit 77; }
CFG=$TOP/tests/exiftool.config

mkdir o
for f in "$F"/png-*.png "$F"/jpeg-*.jpg; do
    expect 0 "$AIMARK" mark --no-visible --producer $CODE \
        --produce-id 'id&<x>' -o o "$f"
done
for f in o/*; do
    base=${f#o/}
    json=$(exiftool -config "$CFG" -s3 -XMP-TC260:AIGC "$f")
    checks=$((checks + 1))
    case $json in
    '{"Label":"1","ContentProducer":"'$CODE'","ProduceID":"id&<x>",'*) ;;
    *) fail "exiftool reads '$json' from $base" ;;
    esac
    warn=$(exiftool -config "$CFG" -s3 -Warning "$f")
    checks=$((checks + 1))
    [ -z "$warn" ] || fail "exiftool warns on $base: $warn"
    # same pixels: ImageMagick counts differing pixels (AE) as 0
    ae=$(compare -metric AE "$F/$base" "$f" null: 2>&1)
    checks=$((checks + 1))
    [ "$ae" = 0 ] || fail "ImageMagick sees $ae changed pixels in $base"
    case $base in
    *.png) ok pngcheck -q "$f" ;;
    *.jpg) checks=$((checks + 1))
           djpeg "$F/$base" > a.pnm 2>/dev/null
           djpeg "$f" > b.pnm 2>/dev/null || fail "djpeg fails on $base"
           cmp -s a.pnm b.pnm || fail "djpeg decodes $base differently" ;;
    esac
done
# existing metadata survives: EXIF, ICC, the other XMP properties
exiftool -a -G1 -s "$F/jpeg-meta.jpg" | grep -v -e FileName -e Directory \
    -e FileSize -e FileModify -e FileAccess -e FileInode -e XMP-TC260 \
    -e ExifToolVersion -e FilePermissions -e XMPToolkit > a.txt
exiftool -a -G1 -s o/jpeg-meta.jpg | grep -v -e FileName -e Directory \
    -e FileSize -e FileModify -e FileAccess -e FileInode -e XMP-TC260 \
    -e ExifToolVersion -e FilePermissions -e XMPToolkit > b.txt
ok cmp -s a.txt b.txt || diff a.txt b.txt | head
exiftool -a -G1 -s o/png-meta.png > c.txt
has c.txt "CreatorTool"
has c.txt "ProfileDescription"
# with the visible label (the default): every viewer decodes the output,
# exiftool still reads the label, and above the label the pixels are the
# input's, bit for bit (for JPEG: above the 16-pixel block row the label
# starts in, less 2 rows for the decoder's chroma smoothing)
mkdir v
for f in "$F"/png-*.png "$F"/jpeg-*.jpg; do
    base=${f##*/}
    expect 0 "$AIMARK" mark --json --producer $CODE -o v "$f"
    ink=$(sed -n 's/.*"ink":\[\([0-9]*\),\([0-9]*\),\([0-9]*\),\([0-9]*\)\].*/\2 \4/p' out)
    iy=${ink% *}; ih=${ink#* }
    top=$(( (iy - ih) / 16 * 16 - 2 ))
    json=$(exiftool -config "$CFG" -s3 -XMP-TC260:AIGC "v/$base")
    checks=$((checks + 1))
    case $json in '{"Label":"1",'*) ;; *) fail "no AIGC in v/$base" ;; esac
    checks=$((checks + 1))
    identify "v/$base" > /dev/null 2>&1 || fail "identify cannot read v/$base"
    geo=$(identify -format '%w %h' "$f")
    w=${geo% *}
    checks=$((checks + 1))
    if [ "$top" -gt 0 ]; then
        crop="${w}x${top}+0+0"
        ae=$(compare -metric AE "$f[$crop]" "v/$base[$crop]" null: 2>&1)
        [ "$ae" = 0 ] || fail "v/$base changed $ae pixels above the label"
    fi
    # and the label area did change
    ae=$(compare -metric AE "$f" "v/$base" null: 2>&1)
    checks=$((checks + 1))
    [ "$ae" != 0 ] || fail "v/$base has no visible label"
    case $base in
    *.png) ok pngcheck -q "v/$base" ;;
    *.jpg) checks=$((checks + 1))
           djpeg "v/$base" > /dev/null 2>&1 || fail "djpeg fails on v/$base" ;;
    esac
done
# a label written by exiftool (another producer) is read by us
cp "$F/jpeg-baseline.jpg" et.jpg
checks=$((checks + 1))
exiftool -config "$CFG" -q -overwrite_original \
    '-XMP-TC260:AIGC={"Label":"1","ContentProducer":"et","ProduceID":"e1","ReservedCode1":"","ContentPropagator":"et","PropagateID":"e1","ReservedCode2":""}' \
    et.jpg || fail "exiftool cannot write"
expect 0 "$AIMARK" verify --json et.jpg
has out '"ProduceID":"e1"'
# and re-marking it leaves one label, which exiftool sees
expect 0 "$AIMARK" mark --producer $CODE --produce-id new-1 et.jpg -o et2.jpg
ok test "$(exiftool -config "$CFG" -s3 -XMP-TC260:AIGC et2.jpg | grep -c new-1)" = 1
expect 0 "$AIMARK" verify --json et2.jpg
hasnt out '"code":"duplicate"'
done_
