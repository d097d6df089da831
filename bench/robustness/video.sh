#!/bin/sh
# video.sh - `make robustness-video`: the video watermark (vid-v1 in the
# frames; the soundtrack is left out, so the frames alone are measured)
# after the attacks of issue 6, over 8 generated clips, as a Markdown
# table.
#
#   sh bench/robustness/video.sh AIMARK WORKDIR [SECONDS]
#
# Clips: 1920x1080, 30 fps, SECONDS long (default 6), from ffmpeg's
# sources (a moving test pattern, a zooming fractal, Conway's life, a
# scrolling cellular automaton, moving gradients with grain, a moving
# Sierpinski carpet, colour bars under moving text, an older test
# pattern with noise): varied texture and motion, made the same on every
# run.  Each is marked with `aimark mark` (all marks, as a user would)
# and attacked by ffmpeg (libx264, libx265, libvpx-vp9, scaling, crop,
# frame rate, cuts); `aimark verify --json` must give the payload back.
set -eu
AIMARK=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
DIR=$2
SECS=${3:-6}
mkdir -p "$DIR/video-work"
cd "$DIR/video-work"
FF="ffmpeg -v error -y"
export AIMARK_PRODUCER=001191110102MAD55U9H0F10002
S=1920x1080

clip() {
    name=$1
    src=$2
    [ -s "$name.mp4" ] && return 0
    $FF -f lavfi -i "$src" -t "$SECS" -r 30 -c:v libx264 -preset fast \
        -crf 16 -pix_fmt yuv420p "$name.mp4"
}
clip testsrc2 "testsrc2=size=$S:rate=30"
clip mandelbrot "mandelbrot=size=$S:rate=30"
clip life "life=size=$S:rate=30:mold=10:ratio=0.1:death_color=#202040:life_color=#e0e0a0,boxblur=1"
clip cellauto "cellauto=size=$S:rate=30:rule=110,scale=$S,format=yuv420p"
clip gradients "gradients=size=$S:rate=30:speed=0.02,noise=alls=6:allf=t"
clip sierpinski "sierpinski=size=$S:rate=30"
clip bars "smptehdbars=size=$S:rate=30,drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf:text='generated clip':fontsize=96:fontcolor=white:x=(w-tw)/2+300*sin(t):y=h/3"
clip testsrc "testsrc=size=$S:rate=30,noise=alls=8:allf=t"

ATTACKS="none crf23 crf30 crf35 hevc28 vp9 720p 480p crop80 fps25 trim1.5 excerpt2"
attack() {
    in=$1
    out=$2
    case $3 in
    none) cp "$in" "$out" ;;
    crf23) $FF -i "$in" -an -c:v libx264 -crf 23 "$out" ;;
    crf30) $FF -i "$in" -an -c:v libx264 -crf 30 "$out" ;;
    crf35) $FF -i "$in" -an -c:v libx264 -crf 35 "$out" ;;
    hevc28) $FF -i "$in" -an -c:v libx265 -crf 28 -x265-params log-level=error "$out" ;;
    vp9) $FF -i "$in" -an -c:v libvpx-vp9 -crf 33 -b:v 0 -cpu-used 4 -row-mt 1 "$out" ;;
    720p) $FF -i "$in" -an -vf scale=1280:720 -c:v libx264 -crf 23 "$out" ;;
    480p) $FF -i "$in" -an -vf scale=854:480 -c:v libx264 -crf 23 "$out" ;;
    crop80) $FF -i "$in" -an -vf "crop=iw*0.8:ih*0.8" -c:v libx264 -crf 23 "$out" ;;
    fps25) $FF -i "$in" -an -vf fps=25 -c:v libx264 -crf 23 "$out" ;;
    trim1.5) $FF -ss 1.5 -i "$in" -an -c:v libx264 -crf 23 "$out" ;;
    excerpt2) $FF -ss 3 -i "$in" -t 2 -an -c:v libx264 -crf 23 "$out" ;;
    esac
}

rm -f results.txt
n=0
for c in testsrc2 mandelbrot life cellauto gradients sierpinski bars testsrc; do
    n=$((n + 1))
    "$AIMARK" mark -f --json "$c.mp4" -o "m-$c.mp4" > mark.json
    p=$(sed 's/.*"watermark":{[^}]*"payload":"\([0-9a-f]*\)".*/\1/' mark.json)
    for a in $ATTACKS; do
        attack "m-$c.mp4" "a-$c-$a.mp4" "$a"
        t0=$(date +%s.%N)
        "$AIMARK" verify --json "a-$c-$a.mp4" > v.json || true
        t1=$(date +%s.%N)
        got=$(sed -n 's/.*"watermark":{"found":true,"payload":"\([0-9a-f]*\)".*/\1/p' v.json)
        ok=0
        [ "$got" = "$p" ] && ok=1
        wrong=0
        [ -n "$got" ] && [ "$got" != "$p" ] && wrong=1
        echo "$c $a $ok $wrong $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" >> results.txt
    done
    # unmarked: nothing found
    "$AIMARK" verify --json "$c.mp4" > v.json || true
    grep -q '"watermark":{"found":true' v.json && echo "$c fp 0 1 0" >> results.txt
done
{
    echo "## vid-v1 robustness ($n clips of ${SECS} s, 1080p30, frames only)"
    echo
    echo "| attack | payload recovered | target | wrong payloads | mean verify s |"
    echo "|---|---|---|---|---|"
    for a in $ATTACKS; do
        awk -v a="$a" -v n="$n" '$2 == a { ok += $3; w += $4; t += $5; k++ }
            END { printf "| %s | %d/%d (%.0f%%) | %s | %d | %.2f |\n", a, ok, n,
                  100 * ok / n, a == "none" ? "" : "95%", w, t / k }' results.txt
    done
    fp=$(awk '$2 == "fp"' results.txt | wc -l)
    echo
    echo "False positives on the $n unmarked clips: $fp."
    echo
    echo "Per clip (1 = recovered), attacks in the order above:"
    echo
    for c in testsrc2 mandelbrot life cellauto gradients sierpinski bars testsrc; do
        printf '%s: ' "$c"
        awk -v c="$c" '$1 == c && $2 != "fp" { printf "%s", $3 }' results.txt
        echo
    done
} | tee ../video-report.md
