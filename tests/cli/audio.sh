# audio.sh - WAV: the metadata label (an AIGC chunk) and the rhythm label
# (short long short short), written and read back, for every sample
# layout genwav makes; bad WAVs give one-line errors and no output.
. "$TOP/tests/cli_lib.sh"
G=$TOP/$O/tests/genwav

# duration FILE: the "duration" aimark verify --json reports
duration() { "$AIMARK" verify --json "$1" | sed 's/.*"duration":\([0-9.]*\).*/\1/'; }

# every layout: the label goes in, the rhythm is found at the start, the
# length and the fmt chunk stay
for spec in "s16 2 44100" "u8 1 8000" "s24 2 48000" "s32 1 22050" \
            "f32 2 44100" "f64 1 16000" "s16 8 48000" "s24 6 96000"; do
    set -- $spec
    name=$1-$2-$3
    ok "$G" in-$name.wav --format $1 --channels $2 --rate $3 --seconds 3
    expect 0 "$AIMARK" mark --producer $CODE --produce-id $name \
        in-$name.wav -o out-$name.wav
    expect 0 "$AIMARK" verify --json out-$name.wav
    has out '"verdict":"generated"'
    has out '"carrier":"wav-chunk"'
    has out "\"ProduceID\":\"$name\""
    has out '"kind":"rhythm"'
    has out '"position":"start"'
    has out "\"sample_rate\":$3,\"channels\":$2"
    a=$(duration in-$name.wav) b=$(duration out-$name.wav)
    checks=$((checks + 1))
    [ "$a" = "$b" ] || fail "$name: duration $a became $b"
    # the fmt chunk is copied byte for byte (bytes 12..)
    checks=$((checks + 1))
    [ "$(od -An -tx1 -j12 -N24 in-$name.wav)" = \
      "$(od -An -tx1 -j12 -N24 out-$name.wav)" ] || fail "$name: fmt changed"
    # the input is untouched and has no rhythm label
    expect 1 "$AIMARK" verify --json in-$name.wav
    has out '"kind":"rhythm","text":"","position":""'
done

# extensible fmt, RF64, odd chunks that must be kept
ok "$G" ext.wav --extensible --format s24 --extra
expect 0 "$AIMARK" mark --producer $CODE ext.wav -o ext-out.wav
expect 0 "$AIMARK" verify ext-out.wav
has out "rhythm label at 0.1"
ok grep -q "test fixture" ext-out.wav
ok grep -q "cue " ext-out.wav
ok "$G" big.wav --rf64 --format f32
expect 0 "$AIMARK" mark --producer $CODE big.wav -o big-out.wav
ok test "$(head -c 4 big-out.wav)" = RF64
expect 0 "$AIMARK" verify --json big-out.wav
has out '"carrier":"wav-chunk"'

# end, both, extend
ok "$G" sp.wav --content speech --seconds 6
expect 0 "$AIMARK" mark --producer $CODE --audio-label end sp.wav -o e.wav
expect 0 "$AIMARK" verify --json e.wav
has out '"position":"end"'
expect 0 "$AIMARK" mark --producer $CODE --audio-label both sp.wav -o b.wav
expect 0 "$AIMARK" verify --json b.wav
has out '"position":"start+end"'
expect 0 "$AIMARK" mark --producer $CODE --audio-label-mix extend sp.wav \
    -o x.wav
a=$(duration sp.wav) b=$(duration x.wav)
ok awk -v a="$a" -v b="$b" 'BEGIN { exit !(b - a > 1.3 && b - a < 1.5) }'
expect 0 "$AIMARK" verify --json x.wav
has out '"position":"start"'
# the voice label: about 4.4 s of Mandarin, laid over or added
expect 0 "$AIMARK" mark --producer $CODE --audio-label-kind voice \
    --audio-label-mix extend sp.wav -o ve.wav
a=$(duration sp.wav) b=$(duration ve.wav)
ok awk -v a="$a" -v b="$b" 'BEGIN { exit !(b - a > 4.3 && b - a < 5.2) }'
expect 0 "$AIMARK" mark --producer $CODE --audio-label-kind voice sp.wav \
    -o vo.wav
b=$(duration vo.wav)
ok test "$a" = "$b"
expect 2 "$AIMARK" mark --producer $CODE --audio-label-kind song sp.wav \
    -o vx.wav
# content shorter than the label gets it added, not laid over
ok "$G" short.wav --seconds 0.5
expect 0 "$AIMARK" mark --producer $CODE short.wav -o short-out.wav
expect 0 "$AIMARK" verify --json short-out.wav
has out '"position":"start"'

# a rhythm label in the middle is found by verify; marking looks only
# at the ends, and adds its own at the start
if command -v sox > /dev/null; then
    sox sp.wav sp.wav out-s16-2-44100.wav sp.wav sp.wav mid.wav
    expect 0 "$AIMARK" verify --json mid.wav
    has out '"position":"middle"'
    has out 'rhythm label at 12.1'
    expect 0 "$AIMARK" mark --producer $CODE mid.wav -o mid-out.wav
    expect 0 "$AIMARK" verify --json mid-out.wav
    has out '"position":"start+middle"'
fi

# metadata only: the samples are not touched
expect 0 "$AIMARK" mark --producer $CODE --no-visible --no-watermark sp.wav -o m.wav
ok test "$(tail -c 100000 sp.wav | od -An -tx1 | md5sum)" = \
        "$(tail -c 100000 m.wav | od -An -tx1 | md5sum)"
expect 0 "$AIMARK" verify --json m.wav
has out '"verdict":"generated"'
has out '"found":false,"checked":true,"kind":"rhythm"'

# re-marking replaces the label (one chunk) and does not add a second
# rhythm label at the start
# (10 s: long enough for the watermark to be found and kept)
ok "$G" long.wav --content speech --seconds 10
expect 0 "$AIMARK" mark --producer $CODE long.wav -o long-out.wav
expect 0 "$AIMARK" mark --producer $CODE --produce-id again long-out.wav \
    -o re.wav
expect 0 "$AIMARK" verify --json re.wav
has out '"ProduceID":"again"'
ok test "$(grep -c AIGC re.wav)" = 1
ok cmp -s re.wav re.wav
checks=$((checks + 1))
[ "$(tail -c 100000 long-out.wav | md5sum)" = \
  "$(tail -c 100000 re.wav | md5sum)" ] || fail "re-marking changed samples"

# labels others wrote: LIST/INFO AIGC is read; marking drops it, keeps INAM
ok "$G" info.wav --info-aigc '{"Label":"1","ContentProducer":"P1","ProduceID":"x1"}'
expect 0 "$AIMARK" verify --json info.wav
has out '"carrier":"wav-info"'
expect 0 "$AIMARK" mark --producer $CODE --no-visible info.wav -o info-out.wav
expect 0 "$AIMARK" verify --json info-out.wav
hasnt out '"carrier":"wav-info"'
ok grep -q "title" info-out.wav
ok "$G" two.wav --aigc '{"Label":"1","ContentProducer":"P1","ProduceID":"x1"}' \
    --info-aigc '{"Label":"1","ContentProducer":"P1","ProduceID":"x1"}'
expect 0 "$AIMARK" verify two.wav
has out "2 labels (a file must carry exactly one)"

# real tools read what we write: ffprobe, mediainfo (LIST/INFO carrier),
# exiftool (both carriers, with our config naming them), sox (libsndfile's
# cousin) reads the samples
CFG=$TOP/tests/exiftool.config
expect 0 "$AIMARK" mark --producer $CODE --produce-id tools --carrier wav-info \
    sp.wav -o ti.wav
expect 0 "$AIMARK" verify --json ti.wav
has out '"carrier":"wav-info"'
hasnt out '"carrier":"wav-chunk"'
if command -v ffprobe > /dev/null; then
    ffprobe -v error -show_format ti.wav > ff.txt 2>&1
    has ff.txt 'TAG:AIGC={"Label":"1","ContentProducer":"'$CODE'","ProduceID":"tools"'
    ffprobe -v error -show_streams out-s24-2-48000.wav > ff2.txt 2>&1
    has ff2.txt "sample_rate=48000"
    has ff2.txt "duration=3.000000"
else
    echo "ffprobe missing: not checked"
fi
if command -v mediainfo > /dev/null; then
    mediainfo ti.wav > mi.txt
    has mi.txt '"ProduceID":"tools"'
else
    echo "mediainfo missing: not checked"
fi
if command -v exiftool > /dev/null; then
    exiftool -config "$CFG" -s3 -RIFF:AIGCInfo ti.wav > ex.txt
    has ex.txt '"ProduceID":"tools"'
    exiftool -config "$CFG" -s3 -RIFF:AIGC out-u8-1-8000.wav > ex2.txt
    has ex2.txt '"ProduceID":"u8-1-8000"'
else
    echo "exiftool missing: not checked"
fi
if command -v sox > /dev/null; then
    for f in out-*.wav ext-out.wav big-out.wav x.wav ti.wav; do
        checks=$((checks + 1))
        sox "$f" -n stat > /dev/null 2>&1 || fail "sox cannot read $f"
    done
else
    echo "sox missing: not checked"
fi

# bad input: a clear error, exit 3, nothing written
ok "$G" t.wav --truncate 3000
expect 3 "$AIMARK" mark --producer $CODE t.wav -o t-out.wav
has err "WAV truncated: the data chunk claims"
lines err 1
ok "$G" lie.wav --lie
expect 3 "$AIMARK" mark --producer $CODE lie.wav -o lie-out.wav
has err "claims"
ok "$G" z.wav --seconds 0
expect 0 "$AIMARK" mark --producer $CODE z.wav -o z-out.wav
ok test ! -e t-out.wav
ok test ! -e lie-out.wav
# a stream writer's unset size is read to the end of the file
ok "$G" unset.wav --unset-size
expect 0 "$AIMARK" mark --producer $CODE unset.wav -o unset-out.wav
expect 0 "$AIMARK" verify --json unset-out.wav
has out '"position":"start"'
ls -a > listing
hasnt listing ".tmp"
# usage
expect 2 "$AIMARK" mark --producer $CODE --audio-label middle sp.wav -o u.wav
has err "--audio-label wants start, end, both or none"
expect 2 "$AIMARK" mark --producer $CODE --audio-label-mix mix sp.wav -o u.wav
ok test ! -e u.wav
# stdin to stdout: the same bytes as from the file
expect 0 sh -c "cat sp.wav | '$AIMARK' mark --producer $CODE --produce-id p \
    --audio-label both - -o - > p.wav"
expect 0 "$AIMARK" mark --producer $CODE --produce-id p --audio-label both \
    sp.wav -o f.wav
ok cmp -s p.wav f.wav
expect 0 "$AIMARK" verify --json p.wav
has out '"position":"start+end"'
# a stream writer's WAV (sizes unset) through a pipe, to a pipe: the
# sizes stay unset, and readers take the data to the end
expect 0 sh -c "cat unset.wav | '$AIMARK' mark --producer $CODE - -o - > pu.wav"
ok test "$(od -An -tx1 -j4 -N4 pu.wav | tr -d ' ')" = ffffffff
expect 0 "$AIMARK" verify --json pu.wav
has out '"position":"start"'
has out '"duration":3.0'

# verify reads a WAV from a pipe through, and finds its rhythm label
expect 0 sh -c "cat p.wav | '$AIMARK' verify --json - > pv.json"
has pv.json '"position":"start+end"'
expect 0 sh -c "cat pu.wav | '$AIMARK' verify --json - > pv2.json"
has pv2.json '"position":"start"'

# raw PCM from a generator: the samples of sp.wav without their header
tail -c 529200 sp.wav > raw.pcm
expect 0 sh -c "cat raw.pcm | '$AIMARK' mark --producer $CODE \
    --raw-format s16le --rate 44100 --channels 2 - -o - > r.wav"
expect 0 "$AIMARK" verify --json r.wav
has out '"sample_rate":44100,"channels":2,"frames":132300'
has out '"position":"start"'
# to a file, the sizes are patched (the JUNK chunk reserved for RF64 stays)
expect 0 sh -c "cat raw.pcm | '$AIMARK' mark --producer $CODE \
    --raw-format s16le --rate 44100 --channels 2 - -o rf.wav"
ok test "$(od -An -tx1 -j12 -N4 rf.wav | tr -d ' ')" = 4a554e4b
expect 0 "$AIMARK" verify --json rf.wav
has out '"frames":132300'
expect 2 "$AIMARK" mark --producer $CODE --raw-format s16le - -o u.wav
has err "--raw-format needs --rate and --channels"
expect 2 "$AIMARK" mark --producer $CODE --raw-format s16le --rate 8000 \
    --channels 1 sp.wav -o u.wav
has err "describe stdin"
expect 2 "$AIMARK" mark --producer $CODE --raw-format pcm - -o u.wav
ok test ! -e u.wav
# a partial frame at the end of raw input is an error
printf 'abc' > odd.pcm
expect 3 sh -c "'$AIMARK' mark --producer $CODE --raw-format s16le \
    --rate 8000 --channels 2 - -o odd.wav < odd.pcm"
has err "ends inside a frame"
ok test ! -e odd.wav

# constant memory: 400 MB of raw PCM (35 min at 48 kHz stereo) through
# a pipe under a 300 MB address-space cap (not under the sanitizers,
# whose shadow memory needs far more; the shared libraries, FFmpeg's and
# their codecs, and the mapped CJK font take about 200 MB of it)
case $O in
*san*) ;;
*) expect 0 sh -c "ulimit -v 300000; head -c 400000000 /dev/zero |
       '$AIMARK' mark --producer $CODE --raw-format s16le --rate 48000 \
       --channels 2 --audio-label both - -o - | wc -c > n"
   ok test "$(cat n)" -gt 400000000 ;;
esac
done_
