# watermark.sh - the invisible watermark from the command line: embedded
# by default, tied to the metadata, found after resizing and
# recompression, keyed, and absent from unmarked images.
. "$TOP/tests/cli_lib.sh"
IM=/usr/bin/convert

"$IM" -size 800x600 plasma:fractal -seed 11 photo.png
"$IM" photo.png -quality 90 photo.jpg
expect 0 "$AIMARK" mark --json --producer $CODE --produce-id wm-1 photo.png -o a.png
has out '"watermark":{"embedded":true,"scheme":"img-v1","payload":"'
payload=$(sed -n 's/.*"payload":"\([0-9a-f]*\)".*/\1/p' out)
expect 0 "$AIMARK" verify --json a.png
has out "\"watermark\":{\"found\":true,\"payload\":\"$payload\""
has out '"matches_metadata":true'
# marking a marked file again keeps its watermark and says so
expect 0 "$AIMARK" mark --json --producer $CODE a.png -o again.png
has out '"watermark":{"embedded":false,"kept":true'
# JPEG input, then recompressed and shrunk by someone else
expect 0 "$AIMARK" mark --producer $CODE --produce-id wm-2 photo.jpg -o b.jpg
"$IM" b.jpg -resize 70% -quality 75 b2.jpg
expect 0 "$AIMARK" verify --json b2.jpg
has out '"watermark":{"found":true'
# turned a little (the corners filled white), and the payload is the same
"$IM" b.jpg -rotate 2 -quality 85 b3.jpg
expect 0 "$AIMARK" verify --json b3.jpg
has out '"watermark":{"found":true'
payload=$(sed -n 's/.*"payload":"\([0-9a-f]*\)".*/\1/p' out)
"$AIMARK" verify --json b2.jpg > out2
has out2 "\"payload\":\"$payload\""
# quarter turns and mirrors (a platform applying an EXIF Orientation, a
# flip): the fold is tried in its eight ways, the payload the same
for t in "-rotate 90" "-rotate 270" "-flop" "-transverse"; do
    "$IM" b.jpg $t -quality 85 b4.jpg
    expect 0 "$AIMARK" verify --json b4.jpg
    has out "\"watermark\":{\"found\":true,\"payload\":\"$payload\""
done
# a larger JPEG takes the 2 x 2 cell path (coefficients, no pixel plane);
# an odd width, and again after a resize and recompression
"$IM" -size 1301x1100 plasma:fractal -seed 5 -quality 90 big.jpg
expect 0 "$AIMARK" mark --json --no-visible --producer $CODE --produce-id wm-3 big.jpg -o big-m.jpg
has out '"watermark":{"embedded":true'
bigpay=$(sed -n 's/.*"payload":"\([0-9a-f]*\)".*/\1/p' out)
"$IM" big-m.jpg -resize 60% -quality 80 big-m2.jpg
for f in big-m.jpg big-m2.jpg; do
    expect 0 "$AIMARK" verify --json $f
    has out "\"watermark\":{\"found\":true,\"payload\":\"$bigpay\""
done
# metadata stripped: the watermark alone still makes it "suspected"
"$IM" b.jpg -strip stripped.jpg
expect 0 "$AIMARK" verify --json stripped.jpg
has out '"verdict":"suspected"'
has out '"watermark":{"found":true'
# an explicit payload, a private key, and the wrong key
expect 0 "$AIMARK" keygen k1.key
expect 0 "$AIMARK" keygen k2.key
expect 0 "$AIMARK" mark --producer $CODE --key k1.key --payload 0123456789abcdef photo.png -o c.png
expect 0 "$AIMARK" verify --json --key k1.key c.png
has out '"payload":"0123456789abcdef"'
has out '"matches_metadata":false'
expect 0 "$AIMARK" verify --json --key k2.key c.png
has out '"watermark":{"found":false'
expect 0 "$AIMARK" verify --json c.png
has out '"watermark":{"found":false'
# unmarked images: nothing found
expect 1 "$AIMARK" verify --json photo.png photo.jpg
hasnt out '"watermark":{"found":true'
# --no-watermark; bad options
expect 0 "$AIMARK" mark --no-watermark --producer $CODE photo.png -o d.png
expect 0 "$AIMARK" verify --json d.png
has out '"watermark":{"found":false'
expect 2 "$AIMARK" mark --producer $CODE --payload xyz photo.png -o e.png
expect 2 "$AIMARK" mark --producer $CODE --strength 9 photo.png -o e.png
printf 'not a key\n' > bad.key
expect 4 "$AIMARK" mark --producer $CODE --key bad.key photo.png -o e.png
has err "bad key file 'bad.key'"
expect 4 "$AIMARK" verify --key missing.key photo.png
# re-marking does not embed a second time (the XMP records it)
expect 0 "$AIMARK" mark --no-visible --producer $CODE a.png -o a2.png
"$IM" a.png a.ppm; "$IM" a2.png a2.ppm
ok cmp -s a.ppm a2.ppm
# small images: labelled, watermark skipped and said so
"$IM" -size 100x80 plasma:fractal small.png
expect 0 "$AIMARK" mark --json --producer $CODE small.png -o s.png
has out '"watermark":{"embedded":false'
done_
