# audio_wm.sh - the aud-v3 watermark through aimark: embedded by default
# in WAV (files, pipes, raw PCM) and FLAC, found by verify and tied to the
# metadata label, kept when re-marking; found again after an MP3
# re-encode and a cut; not found in unmarked audio or under another key.
. "$TOP/tests/cli_lib.sh"
G=$TOP/$O/tests/genwav
GA=$TOP/$O/tests/genaudio
have_ffmpeg=0
command -v ffmpeg > /dev/null 2>&1 && have_ffmpeg=1
WM_FOUND='"watermark":{"found":true'
WM_NONE='"watermark":{"found":false'

ok "$G" sp.wav --content speech --seconds 12
expect 0 "$AIMARK" mark --producer $CODE --produce-id f --json sp.wav -o m.wav
has out '"watermark":{"embedded":true,"scheme":"aud-v3","payload":"'
pay=$(sed 's/.*"scheme":"aud-v3","payload":"\([0-9a-f]*\)".*/\1/' out)
expect 0 "$AIMARK" verify --json m.wav
has out "$WM_FOUND,\"payload\":\"$pay\",\"checked\":true,\"scheme\":\"aud-v3\""
has out '"matches_metadata":true'
has out '"false_positive":1.63'
expect 0 "$AIMARK" verify m.wav
has out "watermark: aud-v3 payload $pay"

# unmarked, another key, no watermark asked for
expect 1 "$AIMARK" verify --json sp.wav
has out "$WM_NONE"
ok "$AIMARK" keygen other.key
expect 0 "$AIMARK" verify --json --key other.key m.wav
has out "$WM_NONE"
expect 0 "$AIMARK" mark --producer $CODE --no-watermark sp.wav -o n.wav
expect 0 "$AIMARK" verify --json n.wav
has out "$WM_NONE"
# a private key: found with it, not with the public one
expect 0 "$AIMARK" mark --producer $CODE --key other.key sp.wav -o k.wav
expect 0 "$AIMARK" verify --json --key other.key k.wav
has out "$WM_FOUND"
expect 0 "$AIMARK" verify --json k.wav
has out "$WM_NONE"
# a payload given: found, and it is not the label's
expect 0 "$AIMARK" mark --producer $CODE --payload 0123456789abcdef sp.wav \
    -o pl.wav
expect 0 "$AIMARK" verify --json pl.wav
has out "$WM_FOUND,\"payload\":\"0123456789abcdef\""
has out '"matches_metadata":false'

# re-marking keeps the watermark there: the samples stay
expect 0 "$AIMARK" mark --producer $CODE --produce-id again --json m.wav \
    -o re.wav
has out '"kept":true'
checks=$((checks + 1))
[ "$(tail -c 200000 m.wav | md5sum)" = "$(tail -c 200000 re.wav | md5sum)" ] ||
    fail "re-marking changed the samples"

# only a file with a label is searched for a watermark to keep: one
# without (watermark only, no metadata) is marked again
expect 0 "$AIMARK" mark --producer $CODE --no-metadata --payload \
    0123456789abcdef sp.wav -o bare.wav
expect 0 "$AIMARK" mark --producer $CODE --json bare.wav -o bare-re.wav
has out '"watermark":{"embedded":true,"scheme":"aud-v3"'

# the attacks of make check: an MP3 re-encode, a cut of the first 1.3 s
if [ $have_ffmpeg = 1 ]; then
    ok ffmpeg -v error -i m.wav -c:a libmp3lame -b:a 128k m.mp3
    ok ffmpeg -v error -i m.mp3 mp3.wav
    expect 0 "$AIMARK" verify --json mp3.wav
    has out "$WM_FOUND,\"payload\":\"$pay\""
    ok ffmpeg -v error -ss 1.3 -i m.wav -c:a pcm_s16le cut.wav
    expect 0 "$AIMARK" verify --json cut.wav
    has out "$WM_FOUND,\"payload\":\"$pay\""
else
    echo "ffmpeg missing: MP3 and cut not tested"
fi

# sample layouts: float, 24-bit, mono 16 kHz, 6 channels (broadband
# content: genwav's "speech" is two narrow resonances, which aud-v3 can
# hardly change, unless clipping to 16 bits spreads it)
for spec in "f32 2 44100" "s24 2 48000" "s16 1 16000" "s16 6 48000"; do
    set -- $spec
    ok "$G" l.wav --content noise --seconds 10 --format $1 --channels $2 \
        --rate $3
    rm -f l-out.wav
    expect 0 "$AIMARK" mark --producer $CODE --audio-label none l.wav \
        -o l-out.wav
    expect 0 "$AIMARK" verify --json l-out.wav
    has out "$WM_FOUND"
    has out "\"sample_rate\":$3,\"channels\":$2"
done

# pipes: WAV in and out, raw PCM in
expect 0 sh -c "cat sp.wav | '$AIMARK' mark --producer $CODE - -o - > p.wav"
expect 0 "$AIMARK" verify --json p.wav
has out "$WM_FOUND"
has out '"matches_metadata":true'
tail -c +45 sp.wav > sp.raw
expect 0 sh -c "cat sp.raw | '$AIMARK' mark --producer $CODE \
    --raw-format s16le --rate 44100 --channels 2 - -o - > r.wav"
expect 0 "$AIMARK" verify --json r.wav
has out "$WM_FOUND"

# verify from a pipe: the samples, read once, go to the rhythm label
# search and to the watermark detector in the same pass
expect 0 sh -c "cat m.wav | '$AIMARK' verify --json -"
has out "$WM_FOUND,\"payload\":\"$pay\""
has out '"kind":"rhythm","text":"short long short short'
expect 0 sh -c "cat k.wav | '$AIMARK' verify --json --key other.key -"
has out "$WM_FOUND"

# FLAC
ok "$GA" sp.wav sp.flac
expect 0 "$AIMARK" mark --producer $CODE sp.flac -o m.flac
expect 0 "$AIMARK" verify --json m.flac
has out "$WM_FOUND"
has out '"matches_metadata":true'

# Ogg Vorbis, Opus, MP3: through the libsndfile pass, and the encoder
# after it (Vorbis two quality steps above the input's, which at its own
# quality would lose most of the mark)
ok "$G" s48.wav --content speech --seconds 12 --rate 48000
ok "$GA" s48.wav sp.opus
ok "$GA" sp.wav sp.mp3
ok "$GA" sp.wav sp.ogg
for ext in opus mp3 ogg; do
    expect 0 "$AIMARK" mark --producer $CODE --produce-id f --json sp.$ext \
        -o lossy.$ext
    has out '"watermark":{"embedded":true,"scheme":"aud-v3"'
    expect 0 "$AIMARK" verify --json lossy.$ext
    has out "$WM_FOUND"
    has out '"matches_metadata":true'
done

# under 2 s: labelled, no watermark, and the report says so
ok "$G" short.wav --content speech --seconds 1.5
expect 0 "$AIMARK" mark --producer $CODE --json short.wav -o short-out.wav
has out '"watermark":{"embedded":false,"note":"audio under 2 seconds"}'

# 8 bits a sample (WAV and FLAC): rounding to 256 levels wipes the mark
# out (a marked 8-bit file of music was not found even unattacked), so
# none is embedded and the report says why
ok "$G" u8.wav --content music --seconds 6 --format u8
expect 0 "$AIMARK" mark --producer $CODE --json u8.wav -o u8-out.wav
has out '"watermark":{"embedded":false,"note":"8-bit samples: rounding'
if command -v sox > /dev/null; then
    ok sox u8.wav -b 8 u8.flac
    expect 0 "$AIMARK" mark --producer $CODE --json u8.flac -o u8-out.flac
    has out '"watermark":{"embedded":false,"note":"8-bit samples: rounding'
fi
done_
