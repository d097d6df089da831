#!/bin/sh
# video.sh - `make bench`, video part: marking a 1080p H.264 clip with all
# marks against a plain decode + re-encode of the same clip with the same
# encoder settings (libx264 CRF 18, preset medium, 20 frames of lookahead
# as aimark sets; the soundtrack AAC at
# the bit rate aimark chooses for it), and the metadata-only remux
# against that re-encode; runs alternate, medians are reported, with the
# peak memory (GNU time's maximum resident set size).
#
#   sh bench/video.sh AIMARK WORKDIR [REPS] [SECONDS]
#
# The clip is made here: ffmpeg's testsrc2 pattern with film-like noise
# (so that the encoder has texture to work on) and a speech-like
# soundtrack from genwav, SECONDS long (default 6).
set -eu
AIMARK=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
DIR=$2
REPS=${3:-3}
SECS=${4:-6}
GENWAV=$(dirname "$AIMARK")/tests/genwav
TIME=/usr/bin/time
mkdir -p "$DIR"
cd "$DIR"
command -v ffmpeg > /dev/null || { echo "video bench: ffmpeg missing"; exit 0; }
[ -x "$TIME" ] || { echo "video bench: GNU time missing"; exit 0; }
if [ ! -s hd.mp4 ] || [ "$(cat hd.secs 2> /dev/null)" != "$SECS" ]; then
    "$GENWAV" hd.wav --content voice --seconds "$SECS" --rate 48000 \
        --channels 2
    ffmpeg -v error -y -f lavfi -i "testsrc2=size=1920x1080:rate=30" \
        -i hd.wav -t "$SECS" -vf "noise=alls=3:allf=t" -c:v libx264 \
        -preset fast -crf 20 -pix_fmt yuv420p -c:a aac -b:a 128k hd.mp4
    echo "$SECS" > hd.secs
fi
export AIMARK_PRODUCER=001191110102MAD55U9H0F10002

# run NAME CMD...: seconds and peak MB appended to NAME.t
run() {
    name=$1
    shift
    "$TIME" -f "%e %M" -o t.tmp "$@" > /dev/null 2> err.tmp ||
        { echo "video bench: $name failed:"; cat err.tmp; exit 1; }
    cat t.tmp >> "$name.t"
}
rm -f ./*.t
i=0
while [ $i -lt "$REPS" ]; do
    run plain ffmpeg -v error -y -i hd.mp4 -map 0 -c:v libx264 -crf 18 \
        -preset medium -rc-lookahead 20 -pix_fmt yuv420p -c:a aac \
        -b:a 192k plain.mp4
    run mark "$AIMARK" mark -f hd.mp4 -o marked.mp4
    run remux "$AIMARK" mark -f --no-visible --no-watermark hd.mp4 \
        -o remux.mp4
    run copy ffmpeg -v error -y -i hd.mp4 -map 0 -c copy copy.mp4
    i=$((i + 1))
done
med() { sort -n "$1.t" | awk '{ t[NR] = $1; m[NR] = $2 }
    END { printf "%.2f %.0f", t[int((NR + 1) / 2)], m[int((NR + 1) / 2)] / 1024 }'; }
set -- $(med plain) $(med mark) $(med remux) $(med copy)
echo
echo "Video: 1080p30 H.264 + AAC, $SECS s, median of $REPS alternating runs"
echo "(seconds wall, both cores; peak resident memory):"
echo
echo "| run | seconds | peak MB | ratio |"
echo "|---|---|---|---|"
echo "| ffmpeg decode + re-encode (x264 CRF 18 medium, lookahead 20, AAC 192k) | $1 | $2 | 1.00 |"
awk -v a="$3" -v b="$1" -v m="$4" 'BEGIN { printf "| aimark mark, all marks | %.2f | %s | %.2fx |\n", a, m, a / b }'
awk -v a="$5" -v b="$1" -v m="$6" 'BEGIN { printf "| aimark mark --no-visible --no-watermark (remux) | %.2f | %s | %.0fx faster than the re-encode |\n", a, m, b / a }'
awk -v a="$7" -v b="$1" -v m="$8" 'BEGIN { printf "| ffmpeg -c copy (remux) | %.2f | %s | %.0fx faster |\n", a, m, b / a }'
"$AIMARK" verify marked.mp4 | grep -E "watermark|metadata:" | sed 's/^ */  check: /'
