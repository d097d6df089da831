# video.sh - MP4/MOV and MKV/WebM: the metadata label written by a remux
# (streams copied bit for bit, checked with ffmpeg's streamhash) and read
# back by ffprobe, exiftool and mediainfo; the carriers other producers
# use (iTunes freeform, a bare moov/meta, an XMP uuid box) read, and
# replaced by one on re-marking; rotation, chapters and moov-first kept;
# pipes; the soundtrack's audio watermark found; all marks: the visible
# label on the opening 3 s (measured on the decoded frames), the frame
# watermark and the soundtrack's, each found alone after a re-encode;
# truncated input.
# The clips are made here with ffmpeg's test sources; the other carriers
# are added to ffmpeg's MP4 with a few lines of perl (boxes appended to
# moov, which ffmpeg writes last, so no sample offset moves).
. "$TOP/tests/cli_lib.sh"
command -v ffmpeg > /dev/null || { echo "ffmpeg missing: skipped"; exit 77; }
G=$TOP/$O/tests/genwav
FF="ffmpeg -v error -y"
SRC="-f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine=frequency=440:sample_rate=48000 -t 3"

hash_() { ffmpeg -v error -i "$1" -map 0 -c copy -f streamhash - 2> /dev/null; }
same_streams() {
    checks=$((checks + 1))
    [ "$(hash_ "$1")" = "$(hash_ "$2")" ] && [ -n "$(hash_ "$1")" ] ||
        fail "streams of $1 and $2 differ"
}
carriers() {
    "$AIMARK" verify --json "$1" | grep -o '"carrier":"[^"]*"' | tr '\n' ' '
}
tag() { ffprobe -v error -show_entries format_tags=AIGC -of default=nw=1:nk=1 "$1"; }

ok $FF $SRC -c:v libx264 -pix_fmt yuv420p -c:a aac in.mp4
ok $FF $SRC -c:v libx264 -pix_fmt yuv420p -c:a aac -movflags +faststart fast.mp4
ok $FF $SRC -c:v libx264 -pix_fmt yuv420p -c:a aac -f mov in.mov
ok $FF $SRC -c:v libvpx-vp9 -b:v 200k -c:a libopus in.webm
ok $FF $SRC -c:v libx264 -pix_fmt yuv420p -c:a flac in.mkv
ok $FF -f lavfi -i testsrc2=size=320x240:rate=25 -t 2 -c:v libx264 \
    -pix_fmt yuv420p noaudio.mp4
ok $FF -i noaudio.mp4 -c copy -metadata:s:v:0 rotate=90 rotated.mp4
printf ';FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1500\ntitle=one\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=1500\nEND=3000\ntitle=two\n' > chap.txt
ok $FF -f lavfi -i testsrc2=size=320x240:rate=25 -i chap.txt -map 0 \
    -map_metadata 1 -map_chapters 1 -t 3 -c:v libx264 -pix_fmt yuv420p \
    chapters.mkv

# the metadata label alone: a remux, streams unchanged, one label that
# ffprobe (and exiftool, mediainfo) show
for f in in.mp4 in.mov in.webm in.mkv noaudio.mp4 rotated.mp4 fast.mp4 \
         chapters.mkv; do
    ext=${f##*.}
    expect 0 "$AIMARK" mark --producer $CODE --produce-id id-$f --no-visible \
        --no-watermark "$f" -o "m-$f"
    same_streams "$f" "m-$f"
    tag "m-$f" > t
    has t '"ProduceID":"id-'$f'"'
    expect 0 "$AIMARK" verify --json "m-$f"
    has out '"verdict":"generated"'
    has out '"type":"video"'
    checks=$((checks + 1))
    case $ext in
    mp4|mov) [ "$(carriers "m-$f")" = '"carrier":"mp4-mdta" ' ] ||
        fail "m-$f carriers: $(carriers "m-$f")" ;;
    *) [ "$(carriers "m-$f")" = '"carrier":"mkv-tag" ' ] ||
        fail "m-$f carriers: $(carriers "m-$f")" ;;
    esac
done
expect 1 "$AIMARK" verify in.mp4
has out "format: mp4 video (h264), 320x240"
has out "soundtrack 1 channel at 48000 Hz"
has out "metadata: 0 labels"
has out "watermark: none found (vid-v1 in the frames, aud-v3 in the soundtrack)"
expect 0 "$AIMARK" verify m-in.webm
has out "format: mkv video (vp9)"
# the QuickTime brand stays (a mov stays a mov), WebM stays WebM
checks=$((checks + 1))
[ "$(dd if=m-in.mov bs=1 skip=8 count=4 2> /dev/null)" = "qt  " ] ||
    fail "m-in.mov lost its QuickTime brand"
ffprobe -v error -show_entries format=format_name -of csv=p=0 m-in.webm > t
has t "webm"
# rotation, chapters, moov first
rot() { ffprobe -v error -show_entries stream_side_data=rotation \
    -of default=nw=1:nk=1 "$1"; }
checks=$((checks + 1))
[ "$(rot rotated.mp4)" = 90 ] && [ "$(rot m-rotated.mp4)" = 90 ] ||
    fail "rotation: $(rot rotated.mp4) -> $(rot m-rotated.mp4)"
ffprobe -v error -show_chapters m-chapters.mkv > t
has t "one"
has t "two"
checks=$((checks + 1))
moov=$(grep -boa moov m-fast.mp4 | head -1 | cut -d: -f1)
mdat=$(grep -boa mdat m-fast.mp4 | head -1 | cut -d: -f1)
[ "$moov" -lt "$mdat" ] || fail "moov no longer first in m-fast.mp4"
# a fragmented MP4 in one-frame fragments, 60 s: an empty moov first, the
# 4,600 samples listed only in the moof boxes (the output's moov needs
# more room than the input's), and the last audio packets repeating a
# decoding time (which the muxer refuses unless moved on)
ok $FF -f lavfi -i testsrc2=size=160x120:rate=30 -f lavfi \
    -i sine=frequency=440:sample_rate=48000 -t 60 -c:v libx264 \
    -preset ultrafast -c:a aac -movflags frag_every_frame+empty_moov frag.mp4
expect 0 "$AIMARK" mark --producer $CODE --no-visible --no-watermark \
    frag.mp4 -o m-frag.mp4
same_streams frag.mp4 m-frag.mp4
checks=$((checks + 1))
moov=$(grep -boa moov m-frag.mp4 | head -1 | cut -d: -f1)
mdat=$(grep -boa mdat m-frag.mp4 | head -1 | cut -d: -f1)
[ "$moov" -lt "$mdat" ] || fail "moov not first in m-frag.mp4"
expect 0 "$AIMARK" mark --producer $CODE frag.mp4 -o a-frag.mp4
expect 0 "$AIMARK" verify a-frag.mp4
has out "60.0"
has out 'explicit label: "AI生成" at bottom-right'
if command -v exiftool > /dev/null; then
    exiftool -s -Keys:AIGC m-in.mp4 > t
    has t '"ProduceID":"id-in.mp4"'
fi
if command -v mediainfo > /dev/null; then
    mediainfo m-in.mkv > t
    has t '"ProduceID":"id-in.mkv"'
fi

# re-marking replaces: still one label, the new one
expect 0 "$AIMARK" mark --producer $CODE --produce-id again --no-visible \
    --no-watermark m-in.mp4 -o r-in.mp4
tag r-in.mp4 > t
has t '"ProduceID":"again"'
checks=$((checks + 1))
[ "$(carriers r-in.mp4)" = '"carrier":"mp4-mdta" ' ] || fail "r-in.mp4"
expect 0 "$AIMARK" mark --producer $CODE --produce-id again --no-visible \
    --no-watermark m-in.webm -o r-in.webm
tag r-in.webm > t
has t '"ProduceID":"again"'
checks=$((checks + 1))
[ "$(carriers r-in.webm)" = '"carrier":"mkv-tag" ' ] || fail "r-in.webm"

# other producers' carriers: appended to moov (or after it) by perl
J='{"Label":"1","ContentProducer":"001191110102MAD55U9H0F10002","ProduceID":"other"}'
cat > boxes.pl <<'EOF'
use strict;
my ($in, $out, $kind, $json) = @ARGV;
open my $f, '<:raw', $in or die; local $/; my $d = <$f>; close $f;
sub box { my ($t, $p) = @_; pack('N', 8 + length $p) . $t . $p }
my $data = box('data', pack('N', 1) . "\0\0\0\0" . $json);
my %add = (
    itunes => box('udta', box('meta', "\0\0\0\0" .
        box('hdlr', "\0\0\0\0\0\0\0\0mdirappl" . "\0" x 9) .
        box('ilst', box('----', box('mean', "\0\0\0\0com.apple.iTunes") .
            box('name', "\0\0\0\0AIGC") . $data)))),
    meta => box('meta', "\0\0\0\0" .
        box('hdlr', "\0\0\0\0\0\0\0\0mdta" . "\0" x 13) .
        box('keys', "\0\0\0\0" . pack('N', 1) . pack('N', 12) . 'mdtaAIGC') .
        box('ilst', box(pack('N', 1), $data))),
);
my $xmp = '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>' .
  '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF ' .
  'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' .
  '<rdf:Description rdf:about="" ' .
  'xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/" TC260:AIGC="' .
  ($json =~ s/"/&quot;/gr) . '"/></rdf:RDF></x:xmpmeta><?xpacket end="w"?>';
my $uuid = pack('H*', 'be7acfcb97a942e89c71999491e3afac');
# moov is the last top-level box of ffmpeg's output
my ($pos, $moov) = (0, -1);
while ($pos + 8 <= length $d) {
    my ($sz, $t) = unpack('Na4', substr($d, $pos, 8));
    $moov = $pos if $t eq 'moov';
    last if $sz < 8; $pos += $sz;
}
die "no moov last" if $moov < 0 || $pos != length $d;
if ($kind eq 'xmp') {
    $d .= box('uuid', $uuid . $xmp);
} else {
    for my $k (split /\+/, $kind) {
        my $a = $add{$k};
        substr($d, $moov, 4) = pack('N', unpack('N', substr($d, $moov, 4)) +
                                    length $a);
        $d .= $a;
    }
}
open $f, '>:raw', $out or die; print $f $d; close $f;
EOF
for kind in itunes meta xmp; do
    ok perl boxes.pl in.mp4 v-$kind.mp4 $kind "$J"
    same_streams in.mp4 v-$kind.mp4
    expect 0 "$AIMARK" verify --json v-$kind.mp4
    has out '"ProduceID":"other"'
    has out '"verdict":"generated"'
    expect 0 "$AIMARK" mark --producer $CODE --produce-id mine --no-visible \
        --no-watermark v-$kind.mp4 -o mv-$kind.mp4
    checks=$((checks + 1))
    [ "$(carriers mv-$kind.mp4)" = '"carrier":"mp4-mdta" ' ] ||
        fail "mv-$kind.mp4 carriers: $(carriers mv-$kind.mp4)"
    tag mv-$kind.mp4 > t
    has t '"ProduceID":"mine"'
done
checks=$((checks + 1))
[ "$(carriers v-itunes.mp4)" = '"carrier":"mp4-itunes" ' ] ||
    fail "itunes: $(carriers v-itunes.mp4)"
checks=$((checks + 1))
[ "$(carriers v-meta.mp4)" = '"carrier":"mp4-meta" ' ] ||
    fail "bare meta: $(carriers v-meta.mp4)"
checks=$((checks + 1))
[ "$(carriers v-xmp.mp4)" = '"carrier":"xmp" ' ] ||
    fail "xmp: $(carriers v-xmp.mp4)"
# two labels in one file: both reported, and the duplicate
ok perl boxes.pl m-in.mp4 two.mp4 itunes "$J"
expect 0 "$AIMARK" verify --json two.mp4
has out '"code":"duplicate"'
checks=$((checks + 1))
[ "$(carriers two.mp4)" = '"carrier":"mp4-mdta" "carrier":"mp4-itunes" ' ] ||
    fail "two: $(carriers two.mp4)"

# the soundtrack's watermark: a marked WAV muxed into a video (FLAC in
# Matroska, AAC 192k in MP4) is found there, with its payload
ok "$G" speech.wav --content voice --seconds 8 --rate 48000 --channels 1
expect 0 "$AIMARK" mark --producer $CODE --produce-id snd --no-visible \
    --payload 0123456789abcdef speech.wav -o speech-m.wav
ok $FF -f lavfi -i testsrc2=size=160x120:rate=25 -i speech-m.wav -shortest \
    -c:v libx264 -pix_fmt yuv420p -c:a flac snd.mkv
ok $FF -f lavfi -i testsrc2=size=160x120:rate=25 -i speech-m.wav -shortest \
    -c:v libx264 -pix_fmt yuv420p -c:a aac -b:a 192k snd.mp4
for f in snd.mkv snd.mp4; do
    expect 0 "$AIMARK" verify --json $f
    has out '"scheme":"aud-v3"'
    has out '"payload":"0123456789abcdef"'
    has out '"verdict":"suspected"'
done
expect 0 "$AIMARK" verify snd.mkv
has out "watermark: aud-v3 payload 0123456789abcdef"
expect 1 "$AIMARK" verify --json noaudio.mp4
has out '"scheme":"vid-v1"'

# all marks (the default): the visible label on the opening frames,
# measured on the decoded output (the bottom-right corner against the
# input's: the label there at 0.2, 1.0, 1.9 and 2.8 s, gone at 3.5 and
# 4.5 s), the metadata label, and the watermark in the soundtrack,
# which also survives the soundtrack's re-encoding
ok $FF -f lavfi -i testsrc2=size=640x360:rate=25 -i speech.wav -t 8 \
    -c:v libx264 -pix_fmt yuv420p -c:a aac -b:a 128k lab.mp4
expect 0 "$AIMARK" mark --producer $CODE --produce-id all --json lab.mp4 \
    -o all.mp4
has out '"embedded":true,"scheme":"vid-v1"'
# x264 (preset medium) looks 20 frames ahead, not 40: its settings are
# in the stream's SEI
checks=$((checks + 1))
grep -a -q 'rc_lookahead=20 ' all.mp4 || fail "x264 lookahead not 20"
corner() {
    ffmpeg -v error -y -ss "$2" -i "$1" -frames:v 1 \
        -vf "crop=iw/4:ih/5:iw*3/4:ih*4/5" "$3"
}
rmse() { compare -metric RMSE "$1" "$2" null: 2>&1 | sed 's/.*(\(.*\))/\1/'; }
if command -v compare > /dev/null; then
    for at in 0.2 1.0 1.9 2.8 3.5 4.5; do
        corner lab.mp4 $at c-in.png
        corner all.mp4 $at c-out.png
        d=$(rmse c-in.png c-out.png)
        checks=$((checks + 1))
        case $at in
        3.5|4.5) awk "BEGIN { exit !($d < 0.04) }" ||
                     fail "label still there at $at s (RMSE $d)" ;;
        *) awk "BEGIN { exit !($d > 0.08) }" ||
               fail "no label at $at s (RMSE $d)" ;;
        esac
    done
fi
expect 0 "$AIMARK" verify --json all.mp4
has out '"verdict":"generated"'
has out '"scheme":"vid-v1"'
has out '"matches_metadata":true'
# the frame watermark after a re-encode at CRF 30, a downscale, and in a
# 2 s excerpt after the first 1.5 s, all without the soundtrack; the
# soundtrack's alone without the frames
P=$(sed 's/.*"payload":"\([0-9a-f]*\)".*/\1/' out)
ok $FF -i all.mp4 -an -c:v libx264 -crf 30 a-crf30.mp4
ok $FF -i all.mp4 -an -vf scale=480:270 -c:v libx264 -crf 23 a-small.mp4
ok $FF -ss 1.5 -i all.mp4 -t 2 -an -c:v libx264 -crf 23 a-2s.mp4
ok $FF -i all.mp4 -vn -c:a copy a-sound.m4a
ok $FF -f lavfi -i color=gray:size=160x120:rate=25 -i a-sound.m4a -t 8 \
    -c:v libx264 -pix_fmt yuv420p -c:a copy a-graysound.mp4
for f in a-crf30.mp4 a-small.mp4 a-2s.mp4; do
    expect 0 "$AIMARK" verify --json $f
    has out '"scheme":"vid-v1"'
    has out "\"payload\":\"$P\""
done
expect 0 "$AIMARK" verify --json a-graysound.mp4
has out '"scheme":"aud-v3"'
has out "\"payload\":\"$P\""
# unmarked videos: nothing
for f in in.mp4 in.webm lab.mp4; do
    expect 1 "$AIMARK" verify --json $f
    has out '"found":false,"payload":null'
done
ffprobe -v error -show_entries stream=codec_name -of default=nw=1:nk=1 \
    all.mp4 > t
has t h264
has t aac
# the re-encode's options: a longer label, another encoder, quality
expect 0 "$AIMARK" mark --producer $CODE --label-duration 5 --crf 30 \
    --preset veryfast --no-watermark lab.mp4 -o long.mp4
if command -v compare > /dev/null; then
    corner lab.mp4 4.5 c-in.png
    corner long.mp4 4.5 c-out.png
    d=$(rmse c-in.png c-out.png)
    checks=$((checks + 1))
    awk "BEGIN { exit !($d > 0.08) }" || fail "--label-duration 5: none at 4.5 s"
    corner long.mp4 5.5 c-out.png
    corner lab.mp4 5.5 c-in.png
    d=$(rmse c-in.png c-out.png)
    checks=$((checks + 1))
    awk "BEGIN { exit !($d < 0.06) }" || fail "--label-duration 5: still at 5.5 s"
fi
checks=$((checks + 1))
[ "$(wc -c < long.mp4)" -lt "$(wc -c < all.mp4)" ] ||
    fail "--crf 30 made no smaller file"
expect 0 "$AIMARK" mark --producer $CODE --video-codec libx265 --no-watermark \
    in.mp4 -o hevc.mp4
ok test ! -s err                         # x265 prints nothing either
ffprobe -v error -select_streams v -show_entries stream=codec_name \
    -of default=nw=1:nk=1 hevc.mp4 > t
has t hevc
expect 3 "$AIMARK" mark --producer $CODE --video-codec nosuch in.mp4 -o x.mp4
has err "no video encoder 'nosuch'"
ok test ! -e x.mp4
expect 2 "$AIMARK" mark --producer $CODE --crf 70 in.mp4 -o x.mp4
has err "--crf wants 0 to 63"
expect 2 "$AIMARK" mark --producer $CODE --label-duration 1 in.mp4 -o x.mp4
has err "--label-duration wants seconds, at least 2"
# a single video on a terminal: a progress bar with the time left (a
# pseudo-terminal from script(1))
if command -v script > /dev/null; then
    script -qec "'$AIMARK' mark --producer $CODE -f lab.mp4 -o prog.mp4" \
        /dev/null > tty.txt 2>&1
    has tty.txt "100% ETA"
    ok test -s prog.mp4
fi
# WebM: VP9 and Opus again
ok $FF -f lavfi -i testsrc2=size=320x240:rate=25 -i speech.wav -t 8 \
    -c:v libvpx-vp9 -b:v 200k -c:a libopus lab.webm
expect 0 "$AIMARK" mark --producer $CODE lab.webm -o all.webm
ffprobe -v error -show_entries stream=codec_name -of default=nw=1:nk=1 \
    all.webm > t
has t vp9
has t opus
expect 0 "$AIMARK" verify --json all.webm
has out '"matches_metadata":true'
# audio only in an MP4: the soundtrack carries the watermark
ok $FF -i speech.wav -c:a aac -b:a 128k -f mp4 ao.mp4
expect 0 "$AIMARK" mark --producer $CODE ao.mp4 -o ao-m.mp4
expect 0 "$AIMARK" verify ao-m.mp4
has out "format: mp4, no video stream, 8.00 s, soundtrack 1 channel"
has out "watermark: aud-v3 payload"
has out "matches the metadata label"
# no soundtrack: labelled, the watermark said to be skipped
expect 0 "$AIMARK" mark --producer $CODE --json noaudio.mp4 -o all-na.mp4
has out '"embedded":true,"scheme":"vid-v1"'

# pipes: Matroska streams through; MP4 needs a file
cat in.webm | "$AIMARK" mark --producer $CODE --produce-id pipe --no-visible \
    --no-watermark - -o - > p.webm 2> err
checks=$((checks + 1))
[ $? = 0 ] || fail "webm through a pipe"
same_streams in.webm p.webm
tag p.webm > t
has t '"ProduceID":"pipe"'
cat m-in.webm | "$AIMARK" verify - > out 2> err
has out "mkv-tag: Matroska SimpleTag 'AIGC'"
expect 3 sh -c "cat in.mp4 | '$AIMARK' mark --producer $CODE --no-visible \
    --no-watermark - -o p.mp4"
has err "MP4 cannot be read from a pipe"
ok test ! -e p.mp4

# a float soundtrack with NaN samples (every 100th, written here): the
# soundtrack reader and the marking chain take them as silence (under
# the sanitizers, a NaN reaching a float-to-int conversion stops them)
perl -e 'my $d = ""; for my $i (0 .. 48000 * 3 - 1) {
    $d .= $i % 100 == 7 ? pack("V", 0x7fc00000)
                        : pack("f<", 0.3 * sin($i * 0.05)); }
    print "RIFF", pack("V", 36 + length $d), "WAVEfmt ",
        pack("VvvVVvv", 16, 3, 1, 48000, 192000, 4, 32), "data",
        pack("V", length $d), $d;' > nan.wav
ok $FF -f lavfi -i testsrc2=size=160x120:rate=25 -i nan.wav -t 3 \
    -c:v libx264 -pix_fmt yuv420p -c:a copy nan.mkv
expect 1 "$AIMARK" verify nan.mkv
has out "soundtrack 1 channel at 48000 Hz"
expect 0 "$AIMARK" mark --producer $CODE nan.mkv -o nan-m.mkv
expect 0 "$AIMARK" verify nan-m.mkv
has out "metadata: 1 label"

# all marks on a video with subtitles (SubRip in Matroska, mov_text in
# MP4) and colour tags (BT.709, limited range): the subtitle packets
# are copied as they were, the re-encoded video keeps the tags
printf '1\n00:00:00,500 --> 00:00:02,000\nhello\n\n2\n00:00:02,000 --> 00:00:02,900\nworld\n' > sub.srt
ok $FF $SRC -i sub.srt -map 0 -map 1 -map 2 -t 3 -c:v libx264 -pix_fmt yuv420p \
    -color_primaries bt709 -color_trc bt709 -colorspace bt709 \
    -color_range tv -c:a aac -c:s srt sub.mkv
ok $FF -i sub.mkv -map 0 -c:v copy -c:a copy -c:s mov_text sub.mp4
subs() { ffmpeg -v error -i "$1" -map 0:s -c copy -f streamhash - 2> /dev/null; }
for f in sub.mkv sub.mp4; do
    expect 0 "$AIMARK" mark --producer $CODE $f -o m-$f
    checks=$((checks + 1))
    [ -n "$(subs $f)" ] && [ "$(subs $f)" = "$(subs m-$f)" ] ||
        fail "subtitles of $f changed"
    ffprobe -v error -select_streams v -show_entries \
        stream=color_primaries,color_transfer,color_space,color_range \
        -of default=nw=1 m-$f > t
    has t color_primaries=bt709
    has t color_transfer=bt709
    has t color_space=bt709
    has t color_range=tv
done

# damage: a truncated MP4, a Matroska cut in its header
head -c 60000 in.mp4 > cut.mp4
expect 3 "$AIMARK" verify cut.mp4
has err "MP4 is truncated"
expect 3 "$AIMARK" mark --producer $CODE --no-visible --no-watermark cut.mp4 \
    -o cut-m.mp4
ok test ! -e cut-m.mp4
head -c 40 in.mkv > cut.mkv
expect 3 "$AIMARK" verify cut.mkv
has err "cannot read 'cut.mkv'"
head -c 3000 in.mkv > cut2.mkv
expect 3 "$AIMARK" mark --producer $CODE --no-visible --no-watermark \
    cut2.mkv -o cut2-m.mkv
has err "Matroska is truncated"
ok test ! -e cut2-m.mkv

# a codec this FFmpeg does not know (the sample entry's tag avc1 changed
# to zzzz by perl, same length): marking and remuxing refuse it with its
# tag, and write nothing; verify says why it did not look for the frames'
# watermark
perl -0pe 's/avc1/zzzz/g' noaudio.mp4 > unknown.mp4
expect 3 "$AIMARK" mark --producer $CODE unknown.mp4 -o unknown-m.mp4
has err "the video stream's codec (tag 'zzzz') is unknown to this FFmpeg"
ok test ! -e unknown-m.mp4
expect 3 "$AIMARK" mark --producer $CODE --no-visible --no-watermark \
    unknown.mp4 -o unknown-m.mp4
has err "the video stream's codec (tag 'zzzz') is unknown to this FFmpeg"
ok test ! -e unknown-m.mp4
expect 1 "$AIMARK" verify unknown.mp4
has out "watermark: not checked (no decoder for the video's codec in this FFmpeg)"
done_
