# flac.sh - FLAC: the metadata label (a Vorbis comment AIGC=) and the
# rhythm label, written and read back for 8-, 16- and 24-bit FLAC; the
# frames untouched when only the metadata changes, the samples outside
# the label's windows unchanged, the other metadata kept, labels others
# wrote replaced by one, other tools reading ours; bad FLACs give one-line
# errors and no output.
. "$TOP/tests/cli_lib.sh"
G=$TOP/$O/tests/genwav
GA=$TOP/$O/tests/genaudio

# blocks FILE: one line per metadata block, "TYPE OFFSET LENGTH" (the
# offset of its body); then "audio OFFSET" for the first frame
blocks() {
    _f=$1 _p=4
    while :; do
        set -- $(od -An -tu1 -j$_p -N4 "$_f")
        [ $# -eq 4 ] || return
        _n=$(($2 * 65536 + $3 * 256 + $4))
        echo "$(($1 % 128)) $((_p + 4)) $_n"
        _p=$((_p + 4 + _n))
        [ "$1" -lt 128 ] || break
    done
    echo "audio $_p"
}
# types FILE: the block types in order, e.g. "0 4 6 2 1"
types() {
    blocks "$1" | awk '$1 != "audio" { printf "%s%s", s, $1; s = " " }'
}
# body FILE TYPE: the bytes of the first block of that type
body() {
    set -- "$1" $(blocks "$1" | awk -v t="$2" '$1 == t { print $2, $3; exit }')
    [ $# -eq 3 ] && tail -c +$(($2 + 1)) "$1" | head -c "$3"
}
# frames_sum FILE: checksum of the audio frames, byte for byte
frames_sum() {
    tail -c +$(($(blocks "$1" | awk '$1 == "audio" { print $2 }') + 1)) "$1" |
        md5sum
}
# bits FILE: bits a sample, from STREAMINFO
bits() {
    set -- $(od -An -tu1 -j20 -N2 "$1")
    echo $(((($1 & 1) << 4 | $2 >> 4) + 1))
}
# frames FILE: the frame count aimark verify --json reports
frames() {
    "$AIMARK" verify --json "$1" | sed 's/.*"frames":\([0-9]*\).*/\1/'
}
# labels FILE: how many AIGC comments aimark verify --json reports
labels() {
    "$AIMARK" verify --json "$1" | grep -o '"carrier":"flac-vorbis-comment"' |
        wc -l
}
# pcm FILE OUT: decoded by ffmpeg, 32-bit (exact for every depth here)
have_ffmpeg=0
command -v ffmpeg > /dev/null && have_ffmpeg=1
pcm() { ffmpeg -v error -i "$1" -f s32le -acodec pcm_s32le -y "$2"; }

# every layout: the label goes in, the rhythm is found at the start, the
# rate, channels, bits and length stay
for spec in "16 2 44100" "16 1 22050" "24 2 48000" "24 1 96000" \
            "8 1 8000" "16 6 48000"; do
    set -- $spec
    name=$1-$2-$3
    f=s$1
    [ $1 = 8 ] && f=u8
    ok "$G" in-$name.wav --format $f --channels $2 --rate $3 --seconds 3
    ok "$GA" in-$name.wav in-$name.flac --bits $1
    expect 0 "$AIMARK" mark --producer $CODE --produce-id $name \
        in-$name.flac -o out-$name.flac
    expect 0 "$AIMARK" verify --json out-$name.flac
    has out '"format":"flac"'
    has out '"verdict":"generated"'
    has out '"carrier":"flac-vorbis-comment"'
    has out "\"ProduceID\":\"$name\""
    has out '"kind":"rhythm"'
    has out '"position":"start"'
    has out "\"sample_rate\":$3,\"channels\":$2,\"frames\":$(($3 * 3)),"
    ok test "$(bits out-$name.flac)" = $1
    ok test "$(labels out-$name.flac)" = 1
    # the input is untouched and has no rhythm label
    expect 1 "$AIMARK" verify --json in-$name.flac
    has out '"kind":"rhythm","text":"","position":""'
done

# where the label goes; the samples outside its windows are the input's
# to the bit (8 s: the windows are under 2 s each)
ok "$G" sp.wav --seconds 8
ok "$GA" sp.wav sp.flac
for where in start end both; do
    expect 0 "$AIMARK" mark --producer $CODE --audio-label $where \
        --no-watermark sp.flac -o $where.flac
    expect 0 "$AIMARK" verify --json $where.flac
    case $where in
    both) has out '"position":"start+end"' ;;
    *) has out "\"position\":\"$where\"" ;;
    esac
    ok test "$(frames $where.flac)" = 352800
done
if [ $have_ffmpeg = 1 ]; then
    s=$((2 * 44100 * 8))                # 2 s of 2 x 32-bit samples
    pcm sp.flac sp.raw
    for where in start end both; do pcm $where.flac $where.raw; done
    ok cmp -s -i $s sp.raw start.raw
    ok cmp -s -n $((6 * 44100 * 8)) sp.raw end.raw
    ok cmp -s -i $s -n $((4 * 44100 * 8)) sp.raw both.raw
    checks=$((checks + 1))
    cmp -s -n $s sp.raw start.raw && fail "no label in the first 2 s"
else
    echo "ffmpeg missing: samples not compared"
fi

# extend: the label before (and after) the content, which follows
# unchanged; the length grows by one window (1 to 2 s) per label
expect 0 "$AIMARK" mark --producer $CODE --audio-label-mix extend --no-watermark sp.flac \
    -o xs.flac
expect 0 "$AIMARK" mark --producer $CODE --audio-label-mix extend --no-watermark \
    --audio-label both sp.flac -o xb.flac
w=$(($(frames xs.flac) - 352800))
ok test "$w" -ge 44100 -a "$w" -le 88200
ok test "$(frames xb.flac)" = $((352800 + 2 * w))
expect 0 "$AIMARK" verify --json xb.flac
has out '"position":"start+end"'
if [ $have_ffmpeg = 1 ]; then
    pcm xs.flac xs.raw
    pcm xb.flac xb.raw
    ok cmp -s -i $((w * 8)):0 xs.raw sp.raw
    ok cmp -s -i $((w * 8)):0 -n $((352800 * 8)) xb.raw sp.raw
fi
# content shorter than the label gets it added, not laid over
ok "$G" short.wav --seconds 0.5
ok "$GA" short.wav short.flac
expect 0 "$AIMARK" mark --producer $CODE short.flac -o short-out.flac
ok test "$(frames short-out.flac)" = $((22050 + w))
expect 0 "$AIMARK" verify --json short-out.flac
has out '"position":"start"'

# metadata only: the frames are copied byte for byte
for opt in "--no-visible --no-watermark" "--audio-label none --no-watermark"; do
    rm -f m.flac
    expect 0 "$AIMARK" mark --producer $CODE --produce-id m $opt sp.flac \
        -o m.flac
    ok test "$(frames_sum sp.flac)" = "$(frames_sum m.flac)"
    expect 0 "$AIMARK" verify --json m.flac
    has out '"verdict":"generated"'
    has out '"ProduceID":"m"'
    has out '"found":false,"checked":true,"kind":"rhythm"'
done
# with room in a PADDING block, the metadata is rewritten in place: the
# same size, the frames where they were
ok "$GA" sp.wav pad.flac --padding 4096
expect 0 "$AIMARK" mark --producer $CODE --no-visible --no-watermark pad.flac -o pad-out.flac
ok test "$(wc -c < pad.flac)" = "$(wc -c < pad-out.flac)"
ok test "$(blocks pad.flac | tail -n 1)" = "$(blocks pad-out.flac | tail -n 1)"
ok test "$(frames_sum pad.flac)" = "$(frames_sum pad-out.flac)"
ok test "$(types pad-out.flac)" = "0 4 1"

# re-marking replaces the label (one AIGC comment) and does not add a
# second rhythm label at the start: the frames stay
# (speech-like 8 s: content the watermark is found in, and kept)
ok "$G" talk.wav --content speech --seconds 8
ok "$GA" talk.wav talk.flac
expect 0 "$AIMARK" mark --producer $CODE talk.flac -o sp-out.flac
expect 0 "$AIMARK" mark --producer $CODE --produce-id again \
    sp-out.flac -o re.flac
expect 0 "$AIMARK" verify --json re.flac
has out '"ProduceID":"again"'
ok test "$(labels re.flac)" = 1
ok test "$(grep -a -o -i 'aigc=' re.flac | wc -l)" = 1
ok test "$(frames_sum sp-out.flac)" = "$(frames_sum re.flac)"

# the other metadata stays: comments, vendor string, PICTURE,
# APPLICATION, PADDING, through the rhythm label and without it
ok "$GA" sp.wav tags.flac --title "A title" --artist Someone \
    --tag DESCRIPTION=kept --picture "$FIXTURES/png-gray8.png" \
    --application --padding 64
ok test "$(types tags.flac)" = "0 4 6 2 1"
for opt in "" --no-visible; do
    rm -f tags-out.flac
    expect 0 "$AIMARK" mark --producer $CODE $opt tags.flac -o tags-out.flac
    ok test "$(types tags-out.flac)" = "0 4 6 2 1"
    for t in 6 2; do
        checks=$((checks + 1))
        [ "$(body tags.flac $t | md5sum)" = \
          "$(body tags-out.flac $t | md5sum)" ] ||
            fail "'$opt': block type $t changed"
    done
    body tags-out.flac 4 > vc.txt
    has vc.txt "title=A title"
    has vc.txt "artist=Someone"
    has vc.txt "DESCRIPTION=kept"
    has vc.txt "AIGC={\"Label\":\"1\""
    # the vendor string (a 4-byte little-endian length first), as
    # libsndfile's libFLAC wrote it
    set -- $(od -An -tu1 -N4 vc.txt)
    n=$((4 + $1 + $2 * 256))
    ok test "$(body tags.flac 4 | head -c $n | md5sum)" = \
            "$(head -c $n vc.txt | md5sum)"
done

# labels others wrote: any case of the field name is read; two are
# reported; marking leaves exactly one and keeps the rest
L1='{"Label":"1","ContentProducer":"P1","ProduceID":"x1"}'
ok "$GA" sp.wav lower.flac --tag "aigc=$L1" --tag DESCRIPTION=kept
expect 0 "$AIMARK" verify --json lower.flac
has out '"carrier":"flac-vorbis-comment"'
has out '"ProduceID":"x1"'
ok "$GA" sp.wav two.flac --tag "aigc=$L1" --tag DESCRIPTION=kept \
    --tag "AIGC=$L1"
expect 0 "$AIMARK" verify two.flac
has out "2 labels (a file must carry exactly one)"
expect 0 "$AIMARK" mark --producer $CODE --no-visible two.flac -o two-out.flac
ok test "$(labels two-out.flac)" = 1
ok test "$(grep -a -o -i 'aigc=' two-out.flac | wc -l)" = 1
expect 0 "$AIMARK" verify --json two-out.flac
hasnt out '"ProduceID":"x1"'
body two-out.flac 4 > vc.txt
has vc.txt "DESCRIPTION=kept"
# a propagator keeps the production fields of the label it replaces
expect 0 "$AIMARK" mark --propagator $CODE --no-visible lower.flac \
    -o prop.flac
expect 0 "$AIMARK" verify --json prop.flac
has out '"ProduceID":"x1"'
has out "\"ContentPropagator\":\"$CODE\""
ok test "$(labels prop.flac)" = 1
# no VORBIS_COMMENT block at all: one is added after STREAMINFO
ok "$GA" sp.wav novc.flac --no-vorbis --padding 16
ok test "$(types novc.flac)" = "0 1"
expect 0 "$AIMARK" mark --producer $CODE --no-visible --no-watermark novc.flac \
    -o novc-out.flac
ok test "$(types novc-out.flac | cut -c1-3)" = "0 4"
ok test "$(labels novc-out.flac)" = 1
ok test "$(frames_sum novc.flac)" = "$(frames_sum novc-out.flac)"
# STREAMINFO without a count: the frames are counted, and the new
# stream's STREAMINFO has it
ok "$GA" sp.wav nototal.flac --no-total
ok test "$(frames nototal.flac)" = 0
expect 0 "$AIMARK" mark --producer $CODE nototal.flac -o nototal-out.flac
ok test "$(frames nototal-out.flac)" = 352800
expect 0 "$AIMARK" verify --json nototal-out.flac
has out '"position":"start"'

# real tools read what we write
expect 0 "$AIMARK" mark --producer $CODE --produce-id tools \
    out-24-2-48000.flac -o tools.flac
if command -v ffprobe > /dev/null; then
    ffprobe -v error -show_format -show_streams tools.flac > ff.txt 2>&1
    has ff.txt 'TAG:AIGC={"Label":"1","ContentProducer":"'$CODE'"'
    has ff.txt '"ProduceID":"tools"'
    has ff.txt "sample_rate=48000"
    has ff.txt "bits_per_raw_sample=24"
    has ff.txt "duration=3.000000"
    ffmpeg -v error -i both.flac -f null - > ffd.txt 2>&1
    lines ffd.txt 0
else
    echo "ffprobe missing: not checked"
fi
if command -v mediainfo > /dev/null; then
    mediainfo tools.flac > mi.txt
    has mi.txt '"ProduceID":"tools"'
else
    echo "mediainfo missing: not checked"
fi
if command -v exiftool > /dev/null; then
    exiftool -s -Vorbis:all tools.flac > ex.txt
    has ex.txt '"ProduceID":"tools"'
else
    echo "exiftool missing: not checked"
fi

# stdin to stdout: the same bytes as from the file
expect 0 sh -c "cat sp.flac | '$AIMARK' mark --producer $CODE --produce-id p \
    --audio-label both - -o - > p.flac"
expect 0 "$AIMARK" mark --producer $CODE --produce-id p --audio-label both \
    sp.flac -o f.flac
ok cmp -s p.flac f.flac

# bad input: a clear error, exit 3, nothing written
ok "$GA" sp.wav cut.flac --truncate 200000
expect 3 "$AIMARK" mark --producer $CODE cut.flac -o cut-out.flac
has err "FLAC truncated or corrupt: "
lines err 1
expect 3 "$AIMARK" verify cut.flac
has err "FLAC truncated or corrupt: "
ok "$GA" sp.wav meta.flac --truncate 30
expect 3 "$AIMARK" mark --producer $CODE meta.flac -o meta-out.flac
has err "FLAC truncated: metadata block 0 (STREAMINFO) claims 34 bytes"
lines err 1
ok "$GA" sp.wav len.flac --bad-length
expect 3 "$AIMARK" mark --producer $CODE --no-visible len.flac -o len-out.flac
has err "a block length is wrong"
lines err 1
ok "$GA" sp.wav len2.flac --bad-length --padding 32
expect 3 "$AIMARK" mark --producer $CODE len2.flac -o len2-out.flac
has err "a block length is wrong"
printf 'fLaC' > magic.flac
expect 3 "$AIMARK" mark --producer $CODE magic.flac -o magic-out.flac
has err "FLAC truncated"
ok test ! -e cut-out.flac
ok test ! -e meta-out.flac
ok test ! -e len-out.flac
ok test ! -e len2-out.flac
ok test ! -e magic-out.flac
ls -a > listing
hasnt listing ".tmp"
done_
