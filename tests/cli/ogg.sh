# ogg.sh - Ogg Vorbis and Ogg Opus: the metadata label (a Vorbis comment
# AIGC=) and the rhythm label, written and read back; the audio packets
# untouched when only the metadata changes, the other comments kept,
# labels others wrote replaced by one, other tools reading ours; bad Ogg
# files give one-line errors and no output.
. "$TOP/tests/cli_lib.sh"
G=$TOP/$O/tests/genwav
GA=$TOP/$O/tests/genaudio

# labels FILE: how many AIGC comments aimark verify --json reports
labels() {
    "$AIMARK" verify --json "$1" | grep -o '"carrier":"ogg-vorbis-comment"' |
        wc -l
}
# frames FILE: the frame count aimark verify --json reports
frames() {
    "$AIMARK" verify --json "$1" | sed 's/.*"frames":\([0-9]*\).*/\1/'
}
have_ffmpeg=0
command -v ffmpeg > /dev/null && have_ffmpeg=1
# pcm_sum FILE: checksum of the samples ffmpeg decodes
pcm_sum() { ffmpeg -v error -i "$1" -f s16le -acodec pcm_s16le - | md5sum; }
# decodes FILE: ffmpeg decodes all of it without a word
decodes() {
    [ $have_ffmpeg = 1 ] || return 0
    checks=$((checks + 1))
    ffmpeg -v error -i "$1" -f null - > ffd.txt 2>&1
    [ ! -s ffd.txt ] || { fail "ffmpeg complains about $1"; head -3 ffd.txt; }
}

# every codec and layout: the label goes in, the rhythm is found at the
# start, the rate, channels and length stay
for spec in "ogg vorbis 2 44100" "ogg vorbis 1 22050" "ogg vorbis 2 48000" \
            "opus opus 2 48000" "opus opus 1 48000"; do
    set -- $spec
    name=$2-$3-$4
    ok "$G" in-$name.wav --channels $3 --rate $4 --seconds 3
    ok "$GA" in-$name.wav in-$name.$1 --title "A title"
    expect 0 "$AIMARK" mark --producer $CODE --produce-id $name \
        in-$name.$1 -o out-$name.$1
    expect 0 "$AIMARK" verify --json out-$name.$1
    has out '"format":"ogg"'
    has out "\"codec\":\"$2\""
    has out '"verdict":"generated"'
    has out '"carrier":"ogg-vorbis-comment"'
    has out "\"ProduceID\":\"$name\""
    has out '"kind":"rhythm"'
    has out '"position":"start"'
    has out "\"sample_rate\":$4,\"channels\":$3,\"frames\":$(($4 * 3)),"
    ok test "$(labels out-$name.$1)" = 1
    decodes out-$name.$1
    expect 0 "$AIMARK" verify out-$name.$1
    has out "format: ogg $2 audio, $3 channel"
    # the input is untouched and has no rhythm label
    expect 1 "$AIMARK" verify --json in-$name.$1
    has out '"kind":"rhythm","text":"","position":""'
done

# where the label goes; the length stays
ok "$G" sp.wav --seconds 8
ok "$GA" sp.wav sp.ogg --title "A title"
for where in start end both; do
    expect 0 "$AIMARK" mark --producer $CODE --audio-label $where sp.ogg \
        -o $where.ogg
    expect 0 "$AIMARK" verify --json $where.ogg
    case $where in
    both) has out '"position":"start+end"' ;;
    *) has out "\"position\":\"$where\"" ;;
    esac
    ok test "$(frames $where.ogg)" = 352800
    decodes $where.ogg
done
# extend: the length grows by one window (1 to 2 s) per label
expect 0 "$AIMARK" mark --producer $CODE --audio-label-mix extend \
    --audio-label both sp.ogg -o xb.ogg
w=$((($(frames xb.ogg) - 352800) / 2))
ok test "$w" -ge 44100 -a "$w" -le 88200
expect 0 "$AIMARK" verify --json xb.ogg
has out '"position":"start+end"'

# metadata only: the audio packets are the input's (the same samples
# decoded), pages renumbered and their CRCs right (ffmpeg is silent)
for f in sp.ogg in-opus-2-48000.opus; do
    rm -f meta-$f
    expect 0 "$AIMARK" mark --producer $CODE --produce-id m --no-visible \
        --no-watermark $f -o meta-$f
    expect 0 "$AIMARK" verify --json meta-$f
    has out '"verdict":"generated"'
    has out '"ProduceID":"m"'
    has out '"found":false,"checked":true,"kind":"rhythm"'
    ok test "$(frames $f)" = "$(frames meta-$f)"
    decodes meta-$f
    if [ $have_ffmpeg = 1 ]; then
        ok test "$(pcm_sum $f)" = "$(pcm_sum meta-$f)"
    fi
done

# re-marking replaces the label (one AIGC comment) and adds no second
# rhythm label at the start: the samples stay (3 s files: too short for
# the quick search to find the watermark, so none is asked for here;
# tests/cli/audio_wm.sh has a watermark kept)
for f in out-vorbis-2-44100.ogg out-opus-2-48000.opus; do
    expect 0 "$AIMARK" mark --producer $CODE --produce-id again \
        --no-watermark $f -o re-$f
    expect 0 "$AIMARK" verify --json re-$f
    has out '"ProduceID":"again"'
    hasnt out '"ProduceID":"vorbis-2-44100"'
    hasnt out '"ProduceID":"opus-2-48000"'
    ok test "$(labels re-$f)" = 1
    ok test "$(grep -a -o -i 'aigc=' re-$f | wc -l)" = 1
    if [ $have_ffmpeg = 1 ]; then
        ok test "$(pcm_sum $f)" = "$(pcm_sum re-$f)"
    fi
done

# the other comments stay, through the rhythm label and without it
ok "$GA" sp.wav tags.ogg --title "A title" --tag DESCRIPTION=kept
for opt in "" --no-visible; do
    rm -f tags-out.ogg
    expect 0 "$AIMARK" mark --producer $CODE $opt tags.ogg -o tags-out.ogg
    has tags-out.ogg "TITLE=A title"
    has tags-out.ogg "DESCRIPTION=kept"
    has tags-out.ogg 'AIGC={"Label":"1"'
    decodes tags-out.ogg
done

# labels others wrote: any case of the field name is read; two are
# reported; marking leaves exactly one and keeps the rest
L1='{"Label":"1","ContentProducer":"P1","ProduceID":"x1"}'
for ext in ogg opus; do
    src=sp.wav
    [ $ext = opus ] && src=in-opus-2-48000.wav
    ok "$GA" $src lower.$ext --tag "aigc=$L1" --tag DESCRIPTION=kept
    expect 0 "$AIMARK" verify --json lower.$ext
    has out '"carrier":"ogg-vorbis-comment"'
    has out '"ProduceID":"x1"'
    ok "$GA" $src two.$ext --tag "aigc=$L1" --tag DESCRIPTION=kept \
        --tag "AIGC=$L1"
    expect 0 "$AIMARK" verify two.$ext
    has out "2 labels (a file must carry exactly one)"
    expect 0 "$AIMARK" mark --producer $CODE --no-visible two.$ext \
        -o two-out.$ext
    ok test "$(labels two-out.$ext)" = 1
    ok test "$(grep -a -o -i 'aigc=' two-out.$ext | wc -l)" = 1
    has two-out.$ext "DESCRIPTION=kept"
    expect 0 "$AIMARK" verify --json two-out.$ext
    hasnt out '"ProduceID":"x1"'
    # a propagator keeps the production fields of the label it replaces
    expect 0 "$AIMARK" mark --propagator $CODE --no-visible lower.$ext \
        -o prop.$ext
    expect 0 "$AIMARK" verify --json prop.$ext
    has out '"ProduceID":"x1"'
    has out "\"ContentPropagator\":\"$CODE\""
    ok test "$(labels prop.$ext)" = 1
done

# a comment header over several pages (70 kB of comment): paged again
big=$(head -c 70000 /dev/zero | tr '\0' 'x')
ok "$GA" sp.wav big.ogg --tag "DESCRIPTION=$big"
expect 0 "$AIMARK" mark --producer $CODE big.ogg -o big-out.ogg
expect 0 "$AIMARK" verify --json big-out.ogg
has out '"verdict":"generated"'
has out '"position":"start"'
ok test "$(labels big-out.ogg)" = 1
decodes big-out.ogg
expect 0 "$AIMARK" mark --producer $CODE --no-visible big-out.ogg \
    -o big-re.ogg
ok test "$(labels big-re.ogg)" = 1
decodes big-re.ogg

# a chained file (two streams one after the other): the labels of both
# are read; it is not written
ok "$GA" sp.wav other.ogg --tag "aigc=$L1"
cat out-vorbis-2-44100.ogg other.ogg > chain.ogg
expect 0 "$AIMARK" verify --json chain.ogg
has out '"ProduceID":"vorbis-2-44100"'
has out '"ProduceID":"x1"'
expect 3 "$AIMARK" mark --producer $CODE --no-visible chain.ogg \
    -o chain-out.ogg
has err "more than one logical stream (multiplexed or chained)"
lines err 1
ok test ! -e chain-out.ogg

# real tools read what we write
for f in out-vorbis-2-48000.ogg out-opus-2-48000.opus; do
    if command -v ffprobe > /dev/null; then
        ffprobe -v error -show_entries format_tags:stream_tags $f > ff.txt \
            2>&1
        has ff.txt 'TAG:AIGC={"Label":"1","ContentProducer":"'$CODE'"'
        has ff.txt 'TAG:TITLE=A title'
    else
        echo "ffprobe missing: not checked"
    fi
    if command -v mediainfo > /dev/null; then
        mediainfo $f > mi.txt
        has mi.txt '"ProduceID":"'
        has mi.txt 'A title'
    else
        echo "mediainfo missing: not checked"
    fi
    if command -v exiftool > /dev/null; then
        exiftool -s -Vorbis:all $f > ex.txt
        has ex.txt 'Aigc'
        has ex.txt '"ContentProducer":"'$CODE'"'
    else
        echo "exiftool missing: not checked"
    fi
done

# files ffmpeg wrote (its own muxer, Opus from 44.1 kHz) are marked too
if [ $have_ffmpeg = 1 ]; then
    for c in libvorbis:ogg libopus:opus; do
        ffmpeg -v error -encoders 2> /dev/null | grep -q " ${c%:*} " ||
            continue
        ffmpeg -v error -y -i sp.wav -c:a ${c%:*} -metadata title=T \
            ff.${c#*:} > /dev/null 2>&1
        expect 0 "$AIMARK" mark --producer $CODE ff.${c#*:} \
            -o ff-out.${c#*:}
        expect 0 "$AIMARK" verify --json ff-out.${c#*:}
        has out '"position":"start"'
        has out '"carrier":"ogg-vorbis-comment"'
        decodes ff-out.${c#*:}
    done
fi

# stdin to stdout: the same samples as from the file (the stream's
# serial number is the encoder's choice, so not the same bytes)
expect 0 sh -c "cat sp.ogg | '$AIMARK' mark --producer $CODE --produce-id p \
    - -o - > p.ogg"
expect 0 "$AIMARK" verify --json p.ogg
has out '"ProduceID":"p"'
has out '"position":"start"'

# bad input: a clear error, exit 3, nothing written
size=$(wc -c < sp.ogg)
head -c $((size / 2)) sp.ogg > cut.ogg
expect 3 "$AIMARK" mark --producer $CODE cut.ogg -o cut-out.ogg
has err "Ogg truncated: page "
lines err 1
expect 3 "$AIMARK" verify cut.ogg
has err "Ogg truncated: page "
# one byte changed in the audio: the page's CRC no longer holds
cp sp.ogg crc.ogg
printf '\125' | dd of=crc.ogg bs=1 seek=$((size / 2)) conv=notrunc 2> /dev/null
cmp -s sp.ogg crc.ogg || {
    expect 3 "$AIMARK" mark --producer $CODE crc.ogg -o crc-out.ogg
    has err "wrong CRC, the page is corrupt"
    lines err 1
}
# a page cut short inside the file: the next page is not where its
# lacing says
{ head -c 5000 sp.ogg; tail -c +5100 sp.ogg; } > lie.ogg
expect 3 "$AIMARK" mark --producer $CODE lie.ogg -o lie-out.ogg
lines err 1
printf 'OggS' > magic.ogg
expect 3 "$AIMARK" mark --producer $CODE magic.ogg -o magic-out.ogg
has err "Ogg truncated: page 0 at byte 0 has 4 of its 27 header bytes"
: > zero.ogg
expect 3 "$AIMARK" mark --producer $CODE zero.ogg -o zero-out.ogg
has err "input is empty"
for f in cut crc lie magic zero; do ok test ! -e $f-out.ogg; done
ls -a > listing
hasnt listing ".tmp"
done_
