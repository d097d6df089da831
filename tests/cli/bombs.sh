# bombs.sh - decompression bombs and lying headers (made by tests/bombs.pl)
# are refused quickly, in bounded memory, with a clear message; the
# limits can be changed with --limit and the config file.  Time and peak
# RSS are measured by time(1): under 2 s and 200 MB each (the sanitizers
# are slower and map more: 20 s and 1 GB there).
. "$TOP/tests/cli_lib.sh"
command -v ffmpeg > /dev/null || { echo "ffmpeg missing: skipped"; exit 77; }
G=$TOP/$O/tests/genwav
GA=$TOP/$O/tests/genaudio
case $O in
*san*) max_s=20 max_kb=1000000 ;;
*) max_s=2 max_kb=200000 ;;
esac

# bounded STATUS CMD...: as expect, and within the time and memory bounds
bounded() {
    want=$1; shift
    checks=$((checks + 1))
    /usr/bin/time -f "T %e %M" -o tm "$@" > out 2> err
    got=$?
    [ "$got" = "$want" ] || { fail "exit $got, want $want: $*"; head -3 err; }
    set -- $(grep '^T ' tm)
    echo "  $2 s, $3 KB"
    awk -v s="$2" -v k="$3" -v ms=$max_s -v mk=$max_kb \
        'BEGIN { exit !(s < ms && k < mk) }' ||
        fail "$2 s, $3 KB over $max_s s, $max_kb KB"
}

ok "$G" a.wav --seconds 1 --rate 16000 --channels 1
ok "$GA" a.wav a.flac
ok "$GA" a.wav a.ogg
ok "$GA" a.wav a.mp3
ok ffmpeg -v error -f lavfi -i testsrc2=size=64x48:rate=10 -t 1 \
    -c:v libx264 -pix_fmt yuv420p a.mp4
mkdir b
ok perl "$TOP/tests/bombs.pl" b a.flac a.ogg a.mp3 a.mp4 \
    "$TOP/tests/fuzz-regress/ogg/opus-decodes-a-day.ogg"

# refused STATUS FILE MESSAGE: verify and mark both fail with MESSAGE,
# and mark leaves nothing
refused() {
    echo "$2"
    bounded "$1" "$AIMARK" verify "b/$2"
    has err "aimark: cannot read 'b/$2': "
    has err "$3"
    lines err 1
    bounded 3 "$AIMARK" mark --producer $CODE -o o "b/$2"
    has err "aimark: cannot read 'b/$2': "
    has err "$3"
    ok test ! -e o
}
refused 3 png-dim.png "PNG of 100000x100000 pixels exceeds the image size limit"
refused 3 jpeg-dim.jpg "JPEG of 65000x65000 pixels exceeds the image size limit"
refused 3 wav-riff.wav "WAV truncated: the data chunk claims 4294967280 bytes, 1000 are there"
refused 3 rf64.wav "WAV truncated: the data chunk claims 1099511627776 bytes, 1000 are there"
refused 3 flac-total.flac "audio of 4294967 s exceeds the duration limit of 86400 s"
refused 3 flac-block.flac "claims 16777215 bytes"
refused 3 ogg-granule.ogg "exceeds the duration limit of 86400 s"
# no length in the header: stopped by the limit as it decodes
bounded 3 "$AIMARK" verify --limit duration=600 b/opus-day.ogg
has err "Ogg Opus decodes to more than 600 s, the duration limit"
bounded 3 "$AIMARK" mark --limit duration=600 --producer $CODE -o o \
    b/opus-day.ogg
has err "decodes to more than 600 s"
ok test ! -e o
# a FLAC whose STREAMINFO does not say its length (total samples 0, as
# a streaming encoder leaves it): held to the limit as it decodes
ok "$G" l.wav --seconds 3 --rate 16000 --channels 1
ok "$GA" l.wav l.flac
perl -e 'local $/; my $d = <STDIN>;
    substr($d, 21, 5) = pack("C", ord(substr($d, 21, 1)) & 0xf0) . "\0" x 4;
    print $d' < l.flac > b/flac-unknown.flac
bounded 1 "$AIMARK" verify b/flac-unknown.flac
bounded 3 "$AIMARK" verify --limit duration=1 b/flac-unknown.flac
has err "FLAC decodes to more than 1 s, the duration limit"
bounded 3 "$AIMARK" mark --limit duration=1 --producer $CODE -o o \
    b/flac-unknown.flac
has err "FLAC decodes to more than 1 s"
ok test ! -e o
refused 3 mp3-id3.mp3 "the ID3v2 tag at byte 0 claims 268435465 bytes"
cp "$TOP/tests/fuzz-regress/verify_any/frames-65535x65535.mp4" b/huge.mp4
refused 3 huge.mp4 "video of 65535x65535 pixels exceeds the image size limit"
refused 3 mp4-box.mp4 "MP4 is truncated (moov runs past the end)"
refused 3 mp4-big32.mp4 "MP4 is truncated (moov runs past the end)"
# fragmented MP4: a run (moof/traf/trun) that claims 50 million samples,
# once with per-sample fields it has no room for, once with none (the
# tfhd defaults then describe every sample, and libavformat indexed all
# of them: 10 s and 1.6 GB before the duration limit refused the file)
ok ffmpeg -v error -i a.mp4 -c copy -movflags frag_keyframe+empty_moov \
    f.mp4
expect 1 "$AIMARK" verify f.mp4
for fields in keep drop; do
    perl -e 'local $/; my $d = <STDIN>; my $at = index($d, "trun") - 4;
        die "no trun\n" if $at < 0;
        my $fl = unpack("N", substr($d, $at + 8, 4));
        $fl = ($fl & 0xff) | 0x200 if $ARGV[0] eq "keep";
        $fl &= 0xff if $ARGV[0] eq "drop";
        substr($d, $at + 8, 8) = pack("NN", $fl, 50000000);
        print $d' $fields < f.mp4 > b/trun-$fields.mp4
    refused 3 trun-$fields.mp4 "claims 50000000 samples, more than it or the file holds"
done

# 300 MiB of inflated text: an XMP iTXt is read up to the metadata
# limit and no further; a zTXt comment is not inflated at all
bounded 1 "$AIMARK" verify --json b/png-itxt.png
has out "compressed text inflates past the metadata limit of 16777216 bytes"
bounded 3 "$AIMARK" mark --producer $CODE -o o.png b/png-itxt.png
has err "inflates past the metadata limit"
ok test ! -e o.png
bounded 1 "$AIMARK" verify b/png-ztxt.png
bounded 0 "$AIMARK" mark --producer $CODE -o z.png b/png-ztxt.png
expect 0 "$AIMARK" verify -q z.png

# text: a 100 MB file is refused by its size before it is read; a pipe
# as it streams
truncate -s 100M big.txt
bounded 3 "$AIMARK" verify big.txt
has err "text exceeds the limit of 67108864 bytes"
bounded 3 "$AIMARK" mark --producer $CODE big.txt -o t.txt
ok test ! -e t.txt
head -c 3000 /dev/zero | tr '\0' a > a.txt
expect 3 "$AIMARK" mark --producer $CODE --limit text-bytes=2K - -o t.txt < a.txt
has err "text exceeds the limit of 2048 bytes"
ok test ! -e t.txt
expect 0 "$AIMARK" mark --producer $CODE --limit text-bytes=3000 - -o t.txt < a.txt

# JSON nested 3000 deep (jansson stops at 2048): an invalid record (a
# suspected verdict), no crash
deep=$(awk 'BEGIN { for (i = 0; i < 3000; i++) printf "["; }')
ok "$G" deep.wav --seconds 1 --rate 16000 --channels 1 --aigc "$deep"
expect 0 "$AIMARK" verify --json deep.wav
has out "not valid JSON: maximum parsing depth reached"
has out '"verdict":"suspected"'

# --limit, and limit.NAME in the config file (the command line wins)
cp "$FIXTURES/png-rgb8.png" p.png
expect 3 "$AIMARK" verify --limit dimension=8 p.png
has err "exceeds the image size limit"
expect 3 "$AIMARK" verify --limit pixels=1K p.png
expect 3 "$AIMARK" verify --limit input-bytes=100 p.png
ok "$G" three.wav --seconds 3 --rate 16000 --channels 1
expect 3 "$AIMARK" verify --limit duration=2 three.wav
has err "audio of 3 s exceeds the duration limit of 2 s"
expect 1 "$AIMARK" verify --limit duration=3 three.wav
expect 3 "$AIMARK" verify --limit frames=9 a.mp4
has err "video of 10 frames exceeds the limit of 9"
expect 1 "$AIMARK" verify --limit frames=10 a.mp4
# MKV headers do not count frames: counted while marking
ok ffmpeg -v error -i a.mp4 -c copy a.mkv
expect 3 "$AIMARK" mark --producer $CODE --limit frames=5 a.mkv -o m.mkv
has err "video has more than 5 frames (the limit)"
ok test ! -e m.mkv
ls -a > listing
hasnt listing ".tmp"
expect 0 "$AIMARK" mark --producer $CODE --limit frames=10 a.mkv -o m.mkv
printf 'producer = %s\nlimit.duration = 2\n' $CODE > cfg
expect 3 "$AIMARK" mark --config cfg three.wav -o c.wav
has err "duration limit of 2 s"
expect 0 "$AIMARK" mark --config cfg --limit duration=1M three.wav -o c.wav
expect 2 "$AIMARK" verify --limit durations=1 three.wav
has err "unknown limit 'durations' (the limits are input-bytes,"
expect 2 "$AIMARK" verify --limit duration=0 three.wav
has err "limit duration wants a positive integer"
expect 2 "$AIMARK" verify --limit duration three.wav
has err "--limit wants NAME=VALUE, not 'duration'"
expect 2 "$AIMARK" mark --producer $CODE --limit pixels=9999999999G p.png
printf 'limit.pixel = 5\n' > bad
expect 2 "$AIMARK" mark --config bad --producer $CODE p.png
has err "config file 'bad', line 1: bad limit"
done_
