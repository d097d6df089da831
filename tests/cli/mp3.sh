# mp3.sh - MP3: the metadata label (an ID3v2 TXXX frame AIGC) and the
# rhythm label, written and read back; the MPEG frames untouched when
# only the metadata changes, the tag's version and other frames kept,
# labels others wrote (2.3, 2.4, Latin-1, UTF-8, UTF-16) replaced by one,
# other tools reading ours; bad MP3s give one-line errors and no output.
. "$TOP/tests/cli_lib.sh"
G=$TOP/$O/tests/genwav
GA=$TOP/$O/tests/genaudio

labels() {
    "$AIMARK" verify --json "$1" | grep -o '"carrier":"id3v2-txxx"' | wc -l
}
frames() {
    "$AIMARK" verify --json "$1" | sed 's/.*"frames":\([0-9]*\).*/\1/'
}
# audio_sum FILE: checksum of what follows the ID3v2 tag (its size is
# syncsafe at bytes 6-9)
audio_sum() {
    set -- "$1" $(od -An -tu1 -j6 -N4 "$1")
    tail -c +$((($2 << 21 | $3 << 14 | $4 << 7 | $5) + 11)) "$1" | md5sum
}
# id3 FILE: the major version of the ID3v2 tag
id3() { od -An -tu1 -j3 -N1 "$1" | tr -d ' '; }
have_ffmpeg=0
command -v ffmpeg > /dev/null && have_ffmpeg=1
decodes() {
    [ $have_ffmpeg = 1 ] || return 0
    checks=$((checks + 1))
    ffmpeg -v error -i "$1" -f null - > ffd.txt 2>&1
    [ ! -s ffd.txt ] || { fail "ffmpeg complains about $1"; head -3 ffd.txt; }
}

# layouts: MPEG-1 and MPEG-2, stereo and mono; the length is kept to the
# sample (LAME's gapless header)
for spec in "2 44100" "1 22050" "2 48000" "1 16000"; do
    set -- $spec
    name=$1-$2
    ok "$G" in-$name.wav --channels $1 --rate $2 --seconds 3
    ok "$GA" in-$name.wav in-$name.mp3
    expect 0 "$AIMARK" mark --producer $CODE --produce-id $name \
        in-$name.mp3 -o out-$name.mp3
    expect 0 "$AIMARK" verify --json out-$name.mp3
    has out '"format":"mp3"'
    has out '"codec":"mp3"'
    has out '"verdict":"generated"'
    has out '"carrier":"id3v2-txxx","location":"ID3v2.4 TXXX '"'AIGC'"'"'
    has out "\"ProduceID\":\"$name\""
    has out '"kind":"rhythm"'
    has out '"position":"start"'
    has out "\"sample_rate\":$2,\"channels\":$1,\"frames\":$(($2 * 3)),"
    ok test "$(labels out-$name.mp3)" = 1
    ok test "$(id3 out-$name.mp3)" = 4
    decodes out-$name.mp3
    expect 1 "$AIMARK" verify --json in-$name.mp3
    has out '"kind":"rhythm","text":"","position":""'
done
# the bitrate stays about the input's
if command -v ffprobe > /dev/null; then
    a=$(ffprobe -v error -show_entries format=bit_rate -of csv=p=0 \
        in-2-44100.mp3)
    b=$(ffprobe -v error -show_entries format=bit_rate -of csv=p=0 \
        out-2-44100.mp3)
    ok test $((b * 10)) -ge $((a * 7)) -a $((b * 10)) -le $((a * 13))
fi

# where the label goes; the length stays
ok "$G" sp.wav --seconds 8
ok "$GA" sp.wav sp.mp3 --id3 3 --title "A title" --txxx OTHER=kept \
    --id3v1
for where in start end both; do
    expect 0 "$AIMARK" mark --producer $CODE --audio-label $where sp.mp3 \
        -o $where.mp3
    expect 0 "$AIMARK" verify --json $where.mp3
    case $where in
    both) has out '"position":"start+end"' ;;
    *) has out "\"position\":\"$where\"" ;;
    esac
    ok test "$(frames $where.mp3)" = 352800
    ok test "$(id3 $where.mp3)" = 3
    decodes $where.mp3
done
expect 0 "$AIMARK" mark --producer $CODE --audio-label-mix extend \
    --audio-label both sp.mp3 -o xb.mp3
w=$((($(frames xb.mp3) - 352800) / 2))
ok test "$w" -ge 44100 -a "$w" -le 88200
expect 0 "$AIMARK" verify --json xb.mp3
has out '"position":"start+end"'

# metadata only: the frames (and the ID3v1 trailer) byte for byte
for v in 3 4; do
    ok "$GA" sp.wav m$v.mp3 --id3 $v --title "A title" --txxx OTHER=kept \
        --id3v1
    expect 0 "$AIMARK" mark --producer $CODE --produce-id m --no-visible \
        --no-watermark m$v.mp3 -o m$v-out.mp3
    expect 0 "$AIMARK" verify --json m$v-out.mp3
    has out '"ProduceID":"m"'
    has out "\"location\":\"ID3v2.$v TXXX 'AIGC'\""
    has out '"found":false,"checked":true,"kind":"rhythm"'
    ok test "$(id3 m$v-out.mp3)" = $v
    ok test "$(audio_sum m$v.mp3)" = "$(audio_sum m$v-out.mp3)"
    decodes m$v-out.mp3
done
# no tag at all: one is put before the frames, which stay
ok "$GA" sp.wav bare.mp3
expect 0 "$AIMARK" mark --producer $CODE --no-visible --no-watermark \
    bare.mp3 -o bare-out.mp3
ok test "$(id3 bare-out.mp3)" = 4
ok test "$(tail -c +1 bare.mp3 | md5sum)" = "$(audio_sum bare-out.mp3)"

# re-marking replaces the label and adds no second rhythm label (3 s:
# too short for the quick search to find the watermark, so none is asked
# for here; tests/cli/audio_wm.sh has a watermark kept)
expect 0 "$AIMARK" mark --producer $CODE --produce-id again \
    --no-watermark out-2-44100.mp3 -o re.mp3
expect 0 "$AIMARK" verify --json re.mp3
has out '"ProduceID":"again"'
hasnt out '"ProduceID":"2-44100"'
ok test "$(labels re.mp3)" = 1
ok test "$(grep -a -o 'AIGC' re.mp3 | wc -l)" = 1
ok test "$(audio_sum out-2-44100.mp3)" = "$(audio_sum re.mp3)"

# labels others wrote, in every text encoding: read; two reported;
# marking leaves exactly one and keeps the other frames
L1='{"Label":"1","ContentProducer":"P1","ProduceID":"x1"}'
for v in 3 4; do
    for enc in "" --utf16; do
        f=two$v$enc.mp3
        ok "$GA" sp.wav $f --id3 $v $enc --title "A title" \
            --txxx "aigc=$L1" --txxx OTHER=kept --txxx "AIGC=$L1"
        expect 0 "$AIMARK" verify $f
        has out "2 labels (a file must carry exactly one)"
        has out "ID3v2.$v TXXX 'AIGC'"
        expect 0 "$AIMARK" verify --json $f
        has out '"ProduceID":"x1"'
        expect 0 "$AIMARK" mark --propagator $CODE --no-visible $f \
            -o out-$f
        expect 0 "$AIMARK" verify --json out-$f
        has out '"ProduceID":"x1"'
        has out "\"ContentPropagator\":\"$CODE\""
        ok test "$(labels out-$f)" = 1
        ok test "$(id3 out-$f)" = $v
        if command -v ffprobe > /dev/null; then
            ffprobe -v error -show_entries format_tags out-$f > ff.txt 2>&1
            has ff.txt "TAG:title=A title"
            has ff.txt "TAG:OTHER=kept"
            has ff.txt 'TAG:AIGC={"Label":"1","ContentProducer":"P1"'
        fi
    done
done

# real tools read what we write
expect 0 "$AIMARK" mark --producer $CODE --produce-id tools sp.mp3 \
    -o tools.mp3
if command -v ffprobe > /dev/null; then
    ffprobe -v error -show_entries format_tags:stream_tags tools.mp3 > ff.txt
    has ff.txt 'TAG:AIGC={"Label":"1","ContentProducer":"'$CODE'"'
    has ff.txt '"ProduceID":"tools"'
    has ff.txt 'TAG:title=A title'
else
    echo "ffprobe missing: not checked"
fi
if command -v mediainfo > /dev/null; then
    mediainfo tools.mp3 > mi.txt
    has mi.txt '"ProduceID":"tools"'
    has mi.txt 'A title'
else
    echo "mediainfo missing: not checked"
fi
if command -v exiftool > /dev/null; then
    exiftool -s -ID3:all tools.mp3 > ex.txt
    has ex.txt 'UserDefinedText                 : (AIGC) {"Label":"1"'
    has ex.txt '"ProduceID":"tools"'
    has ex.txt 'A title'
else
    echo "exiftool missing: not checked"
fi

# a file ffmpeg wrote (its ID3v2.4 tag and LAME header) is marked too
if [ $have_ffmpeg = 1 ] &&
   ffmpeg -v error -encoders 2> /dev/null | grep -q " libmp3lame "; then
    ffmpeg -v error -y -i sp.wav -c:a libmp3lame -metadata title=T ff.mp3 \
        > /dev/null 2>&1
    expect 0 "$AIMARK" mark --producer $CODE ff.mp3 -o ff-out.mp3
    expect 0 "$AIMARK" verify --json ff-out.mp3
    has out '"position":"start"'
    has out '"carrier":"id3v2-txxx"'
    ok test "$(frames ff-out.mp3)" = 352800
    decodes ff-out.mp3
    ffprobe -v error -show_entries format_tags ff-out.mp3 > ff.txt
    has ff.txt "TAG:title=T"
fi

# stdin to stdout: the same bytes as from the file
expect 0 sh -c "cat sp.mp3 | '$AIMARK' mark --producer $CODE --produce-id p \
    --audio-label both - -o - > p.mp3"
expect 0 "$AIMARK" mark --producer $CODE --produce-id p --audio-label both \
    sp.mp3 -o f.mp3
ok cmp -s p.mp3 f.mp3

# bad input: a clear error, exit 3, nothing written
size=$(wc -c < bare.mp3)
head -c $((size - 100)) bare.mp3 > cut.mp3
expect 3 "$AIMARK" mark --producer $CODE cut.mp3 -o cut-out.mp3
has err "MP3 truncated: frame "
lines err 1
expect 3 "$AIMARK" verify cut.mp3
has err "MP3 truncated: frame "
# a tag claiming more than the file holds
printf 'ID3\4\0\0\177\177\177\177' > big.mp3
cat bare.mp3 >> big.mp3
expect 3 "$AIMARK" mark --producer $CODE big.mp3 -o big-out.mp3
has err "MP3 truncated: the ID3v2 tag at byte 0 claims 268435465 bytes"
lines err 1
# a frame claiming more than its tag holds (TIT2 of 0x7f bytes)
ok "$GA" sp.wav lie.mp3 --id3 4 --title "A title"
printf '\0\0\0\177' | dd of=lie.mp3 bs=1 seek=14 conv=notrunc 2> /dev/null
expect 3 "$AIMARK" mark --producer $CODE lie.mp3 -o lie-out.mp3
has err "ID3v2 frame 'TIT2' claims 127 bytes"
lines err 1
# a size that is not syncsafe
printf 'ID3\3\0\0\0\0\0\377' > sync.mp3
cat bare.mp3 >> sync.mp3
expect 3 "$AIMARK" mark --producer $CODE sync.mp3 -o sync-out.mp3
has err "its size is not a syncsafe integer"
# junk in the middle of the frames
{ head -c 5000 bare.mp3; head -c 300 /dev/zero; tail -c +5001 bare.mp3; } \
    > junk.mp3
expect 3 "$AIMARK" mark --producer $CODE junk.mp3 -o junk-out.mp3
has err "no MPEG frame at byte "
lines err 1
printf 'ID3' > magic.mp3
expect 3 "$AIMARK" mark --producer $CODE magic.mp3 -o magic-out.mp3
has err "MP3 truncated: the ID3v2 tag at byte 0 has 3 of its 10 header bytes"
: > zero.mp3
expect 3 "$AIMARK" mark --producer $CODE zero.mp3 -o zero-out.mp3
has err "input is empty"
for f in cut big lie sync junk magic zero; do ok test ! -e $f-out.mp3; done
ls -a > listing
hasnt listing ".tmp"
done_
