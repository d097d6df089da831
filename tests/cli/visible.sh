# visible.sh - the explicit label from the command line: options, errors,
# and the verifier finding it again, also after resizing and recompression.
. "$TOP/tests/cli_lib.sh"
F=$FIXTURES
IM=/usr/bin/convert
DEJAVU=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf

# big enough to resize: a 480x360 photo-like JPEG and a PNG
"$IM" -size 480x360 plasma:fractal -seed 7 -quality 85 photo.jpg 2>/dev/null ||
    "$IM" -size 480x360 gradient:blue-orange -quality 85 photo.jpg
"$IM" -size 400x300 gradient:white-gray photo.png

expect 0 "$AIMARK" mark --json --producer $CODE photo.jpg -o a.jpg
has out '"visible":{"ink":['
expect 0 "$AIMARK" verify a.jpg
has out 'explicit label: "AI生成" at bottom-right'
has out '(meets 5%)'
expect 0 "$AIMARK" verify --json a.jpg
has out '"explicit":{"found":true,"checked":true'
has out '"meets_rule":true'
# the label survives a resize and a recompression
"$IM" a.jpg -resize 50% -quality 70 small.jpg
expect 0 "$AIMARK" verify --json small.jpg
has out '"explicit":{"found":true'
"$IM" a.jpg -quality 40 q40.jpg
expect 0 "$AIMARK" verify --json q40.jpg
has out '"explicit":{"found":true'
# painted over: the record is there, the label is not
"$IM" a.jpg -fill gray -draw 'rectangle 300,280 479,359' covered.jpg
expect 0 "$AIMARK" verify --json covered.jpg
has out '"explicit":{"found":false,"checked":true'
# marking a labelled file again (a platform re-publishing it) does not
# draw a second label; metadata-only marking keeps the label's record
expect 0 "$AIMARK" mark --producer $CODE a.jpg -o a2.jpg
checks=$((checks + 1))
djpeg a.jpg > a.pnm; djpeg a2.jpg > a2.pnm
cmp -s a.pnm a2.pnm || fail "re-marking drew a second label"
expect 0 "$AIMARK" mark --no-visible --producer $CODE a.jpg -o a3.jpg
expect 0 "$AIMARK" verify --json a3.jpg
has out '"explicit":{"found":true'
# other text, position, size and colours
expect 0 "$AIMARK" mark --producer $CODE --label 'AI-generated 人工智能生成' \
    --position top-left --label-height 8% --label-color 202020 \
    --plate-color ffffff --plate-opacity 0.8 photo.png -o b.png
expect 0 "$AIMARK" verify --json b.png
has out '"position":"top-left"'
has out '"text":"AI-generated 人工智能生成"'
ratio=$(sed -n 's/.*"height_ratio":\([0-9.]*\).*/\1/p' out)
checks=$((checks + 1))
awk -v r="$ratio" 'BEGIN { exit !(r >= 0.08) }' || fail "height ratio $ratio < 0.08"
# the element check, and its override
expect 2 "$AIMARK" mark --producer $CODE --label 'AI-generated' photo.png -o c.png
has err "lacks the generation element"
has err "--label-force"
expect 2 "$AIMARK" mark --producer $CODE --label '由AI提供' photo.png -o c.png
expect 0 "$AIMARK" mark --producer $CODE --label 'AI-generated' --label-force photo.png -o c.png
has err "warning: label text lacks"
# bad values and bad fonts: usage errors, nothing written
expect 2 "$AIMARK" mark --producer $CODE --position middle photo.png -o d.png
has err "unknown position 'middle'"
expect 2 "$AIMARK" mark --producer $CODE --label-height 0.04 photo.png -o d.png
has err "5% is the rule's floor"
expect 2 "$AIMARK" mark --producer $CODE --label-color red photo.png -o d.png
expect 2 "$AIMARK" mark --producer $CODE --font /nonexistent.ttf photo.png -o d.png
has err "cannot use font '/nonexistent.ttf'"
if [ -f "$DEJAVU" ]; then
    expect 2 "$AIMARK" mark --producer $CODE --font "$DEJAVU" photo.png -o d.png
    has err "has no glyph for '生'"
fi
ok test ! -e d.png
# visible label only: no metadata label is written, and the verdict is
# "suspected" (a trace without metadata)
expect 0 "$AIMARK" mark --no-metadata photo.png -o e.png
expect 0 "$AIMARK" verify --json e.png
has out '"verdict":"suspected"'
has out '"metadata":{"found":false'
# --no-metadata leaves an existing label alone
expect 0 "$AIMARK" mark --no-metadata a.jpg -o f.jpg
expect 0 "$AIMARK" verify --json f.jpg
has out '"verdict":"generated"'
expect 2 "$AIMARK" mark --no-metadata --no-visible --no-watermark photo.png -o g.png
# every kind of input through the default path decodes afterwards
mkdir k
expect 0 "$AIMARK" mark -q --producer $CODE -o k "$F"/png-*.png "$F"/jpeg-*.jpg
for f in k/*; do
    checks=$((checks + 1))
    identify "$f" > /dev/null 2>&1 || fail "cannot decode $f"
done
expect 0 "$AIMARK" verify --json k/*
hasnt out '"explicit":{"found":false'
# EXIF Orientation (as phones store photos): the label is laid out and
# drawn upright on the picture as displayed, in its bottom-right corner,
# which is another corner as stored (3: top-left, 6: top-right, 8:
# bottom-left), and the verifier finds it there.  The tag is put in by
# perl: an APP1 Exif after SOI with one IFD0 entry.
exif_orient() {
    perl -e 'local $/; my $d = <STDIN>; my $o = $ARGV[0];
        my $tiff = "MM\0*" . pack("N", 8) . pack("n", 1) .
            pack("nnNnn", 0x0112, 3, 1, $o, 0) . pack("N", 0);
        my $app = "Exif\0\0" . $tiff;
        print substr($d, 0, 2), "\xff\xe1", pack("n", length($app) + 2),
            $app, substr($d, 2)' "$2" < "$1"
}
# which corner (tl tr bl br) of two same-size PGMs differs most
corner() {
    perl -e 'sub rd { local $/; open my $f, "<", $_[0] or die; binmode $f;
            my $d = <$f>; $d =~ s/^P5\s+(\d+)\s+(\d+)\s+\d+\s//s or die;
            return ($1, $2, $d) }
        my ($w, $h, $a) = rd($ARGV[0]); my (undef, undef, $b) = rd($ARGV[1]);
        my $s = 60; my %c = (tl => [0, 0], tr => [$w - $s, 0],
            bl => [0, $h - $s], br => [$w - $s, $h - $s]); my ($best, $bv);
        for my $k (sort keys %c) { my ($x0, $y0) = @{$c{$k}}; my $t = 0;
            for my $y ($y0 .. $y0 + $s - 1) { for my $x ($x0 .. $x0 + $s - 1) {
                $t += abs(ord(substr($a, $y * $w + $x, 1)) -
                          ord(substr($b, $y * $w + $x, 1))) } }
            ($best, $bv) = ($k, $t) if !defined $bv || $t > $bv }
        print "$best\n"' "$1" "$2"
}
djpeg -grayscale -pnm photo.jpg > o0.pgm
for ow in 3:tl 6:tr 8:bl 1:br; do
    o=${ow%:*}
    exif_orient photo.jpg $o > o$o.jpg
    expect 0 "$AIMARK" mark --json --producer $CODE --no-watermark o$o.jpg \
        -o mo$o.jpg
    # the ink box of the report is on the picture as displayed: 360 x 480
    # for 6 and 8, whose bottom rows lie below the stored height
    case $o in
    6|8) checks=$((checks + 1))
        y=$(sed -n 's/.*"ink":\[[0-9]*,\([0-9]*\),.*/\1/p' out)
        [ "${y:-0}" -gt 360 ] || fail "orientation $o: ink row $y" ;;
    esac
    expect 0 "$AIMARK" verify --json mo$o.jpg
    has out '"explicit":{"found":true,"checked":true'
    expect 0 "$AIMARK" verify mo$o.jpg
    has out 'explicit label: "AI生成" at bottom-right'
    djpeg -grayscale -pnm mo$o.jpg > mo$o.pgm
    checks=$((checks + 1))
    got=$(corner o0.pgm mo$o.pgm)
    [ "$got" = "${ow#*:}" ] ||
        fail "orientation $o: the label is in corner $got as stored, not ${ow#*:}"
done
done_
