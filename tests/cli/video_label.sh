# video_label.sh - the visible label of videos, measured on the decoded
# output: on the opening frames for at least 2 s of presentation time
# (and on the closing ones with --video-label both), a variable frame
# rate kept frame for frame, upright in its corner on a rotated phone
# video (rotation kept); its record (aimark:VisibleLabel, an MP4 mdta
# key or a Matroska SimpleTag) and verify's check of the opening 2 s:
# found, and not found once the opening was cut off or the label blurred
# or cropped away; of the closing frames when the record has them:
# found, and missing there once the end was cut off or replaced (the record
# kept), nothing looked for at the end of a video labelled at the start
# only; a damaged record; no record without a label.
# The clips are made here with ffmpeg's test source (testsrc2).
. "$TOP/tests/cli_lib.sh"
command -v ffmpeg > /dev/null || { echo "ffmpeg missing: skipped"; exit 77; }
FF="ffmpeg -v error -y"
T="testsrc2=size=320x240"

# One line a frame of $2 (decoded, turned upright as ffmpeg displays
# it): its time and the mean difference of the bottom-right corner (a
# quarter wide, a fifth high) from the same frame of $1.
diffs() {
    ffmpeg -v error -i "$1" -i "$2" -lavfi \
        "[0]crop=iw/4:ih/5:iw*3/4:ih*4/5[a];[1]crop=iw/4:ih/5:iw*3/4:ih*4/5[b];[a][b]blend=all_mode=difference,signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=-" \
        -f null - | paste - - |
        sed 's/.*pts_time:\([-0-9.e]*\).*YAVG=\([0-9.e]*\).*/\1 \2/'
}
# From diffs: the seconds labelled from the first frame, those labelled
# up to the end (the last frame lasting as long as the one before), and
# the frames labelled between the two (a frame is labelled when its
# corner differs by more than 5 levels: 25 to 35 with the label, under 1
# without).
spans() {
    awk '{ t[NR] = $1; on[NR] = $2 > 5 }
    END {
        n = NR; last = t[n] + (t[n] - t[n - 1])
        for (i = 1; i <= n && on[i]; i++) ;
        s = i > n ? last - t[1] : t[i] - t[1]
        for (j = n; j >= i && on[j]; j--) ;
        e = j < n ? last - t[j + 1] : 0
        mid = 0
        for (k = i; k <= j; k++) mid += on[k]
        printf "%.3f %.3f %d\n", s, e, mid
    }'
}
# span_ok FILE MIN_START MIN_END MAX_END: the spans of FILE (from spans)
span_ok() {
    checks=$((checks + 1))
    set -- "$1" "$2" "$3" "$4" $(spans < "$1")
    awk "BEGIN { exit !($5 >= $2 && $6 >= $3 && $6 <= $4 && $7 == 0) }" ||
        fail "label spans in $1: start $5 s, end $6 s, $7 frames between"
}

# the 2 s rule at a constant rate: 3 s labelled, from decoded output
ok $FF -f lavfi -i $T:rate=25 -t 5 -c:v libx264 -pix_fmt yuv420p in.mp4
expect 0 "$AIMARK" mark --producer $CODE --no-watermark in.mp4 -o m.mp4
diffs in.mp4 m.mp4 > d
span_ok d 2.96 0 0
# the record: an mdta key ffprobe shows, with the label's time span
ffprobe -v error -show_entries format_tags -of default=nw=1 m.mp4 > t
has t 'TAG:aimark:VisibleLabel={"v":1,"text":"AI'
has t '"position":"bottom-right"'
has t '"spans":[[0.0,3.0]]'
expect 0 "$AIMARK" verify --json m.mp4
has out '"explicit":{"found":true,"checked":true,"text":"AI'
has out '"meets_rule":true'
has out '"frames_checked":5,"seconds_checked":2.0,"note"'
has out 'found in all 5 frames sampled over the first 2.0 s"'
hasnt out '"end":'
expect 0 "$AIMARK" verify m.mp4
has out 'explicit label: "AI'
has out 'at bottom-right, text 15 px = 6.2% of the shortest side (meets 5%)'

# variable frame rate: 10 frames a second, 30 from 1 s to 2.5 s; the
# output's frame times equal the input's, the label covers 3 s of them
ok $FF -f lavfi -i "$T:rate=30,select='not(mod(n\,3))+between(t\,1\,2.5)'" \
    -t 5 -fps_mode vfr -c:v libx264 -pix_fmt yuv420p vfr.mp4
expect 0 "$AIMARK" mark --producer $CODE --no-watermark vfr.mp4 -o vfr-m.mp4
frame_times() {
    ffprobe -v error -select_streams v -show_entries frame=pts_time \
        -of csv=p=0 "$1"
}
frame_times vfr.mp4 > a
frame_times vfr-m.mp4 > b
ok cmp -s a b
lines b 81
diffs vfr.mp4 vfr-m.mp4 > d
span_ok d 2.96 0 0
expect 0 "$AIMARK" verify --json vfr-m.mp4
has out '"found":true,"checked":true'

# the end too: 3 s at each end of an 8 s clip, none between
ok $FF -f lavfi -i $T:rate=25 -t 8 -c:v libx264 -pix_fmt yuv420p in8.mp4
expect 0 "$AIMARK" mark --producer $CODE --no-watermark --video-label both \
    in8.mp4 -o both.mp4
diffs in8.mp4 both.mp4 > d
span_ok d 2.96 2.96 3.04
ffprobe -v error -show_entries format_tags -of default=nw=1 both.mp4 > t
has t '"spans":[[0.0,3.0],[5.0,8.0]]'
expect 0 "$AIMARK" verify --json both.mp4
has out '"found":true,"checked":true'
has out '"end":{"found":true,"from":5.0,"to":8.0,"score":0.7'
has out '"frames_checked":5,"seconds_checked":2.0}'
expect 0 "$AIMARK" verify both.mp4
has out 'found in all 5 frames sampled over the first 2.0 s, and in all 5 sampled over 2.0 s of the closing frames (from 5.00 s))'
# a record whose closing span runs backwards (written by hand): reported
# as not valid, nothing sought there, the opening still checked
rec=$(sed -n 's/^TAG:aimark:VisibleLabel=//p' t |
    sed 's/"spans":\[\[0.0,3.0\],\[5.0,8.0\]\]/"spans":[[0.0,3.0],[8.0,5.0]]/')
case $rec in *'[8.0,5.0]'*) ;; *) fail "no record to rewrite: $rec" ;; esac
ok $FF -i both.mp4 -c copy -movflags use_metadata_tags -map_metadata 0 \
    -metadata "aimark:VisibleLabel=$rec" both-bad.mp4
expect 0 "$AIMARK" verify --json both-bad.mp4
has out '"explicit":{"found":true,"checked":true'
has out '"end":{"found":false,"from":8.0,"to":5.0,"score":null'
has out "the record's span on the closing frames is not valid"
# the end cut off, the record kept: missing there, while the label is
# found on the opening frames (what the rule asks for)
ok $FF -i both.mp4 -t 2 -c copy -movflags use_metadata_tags -map_metadata 0 \
    both-cut.mp4
expect 0 "$AIMARK" verify --json both-cut.mp4
has out '"explicit":{"found":true,"checked":true'
has out '"meets_rule":true'
has out '"end":{"found":false,"from":5.0,"to":8.0,"score":null,"frames_checked":0,"seconds_checked":0.0}'
expect 0 "$AIMARK" verify both-cut.mp4
has out 'explicit label: "AI生成" at bottom-right, '
has out '(label recorded in the metadata found in all 5 frames sampled over the first 2.0 s; NOT on the closing frames: the record has it from 5.00 s, the video ends at 2.'
# without the metadata label, the opening label alone is a trace
ok $FF -i both-cut.mp4 -c copy -movflags use_metadata_tags -map_metadata 0 \
    -metadata AIGC= both-cut-nl.mp4
expect 0 "$AIMARK" verify --json both-cut-nl.mp4
has out '"verdict":"suspected"'
has out '"explicit":{"found":true,"checked":true'
# the closing frames replaced by unlabelled ones, as long
ok $FF -i both.mp4 -i in8.mp4 -filter_complex \
    "[0:v]trim=0:5[a];[1:v]trim=5:8[b];[a][b]concat=n=2:v=1[v]" -map "[v]" \
    -c:v libx264 -pix_fmt yuv420p -movflags use_metadata_tags -map_metadata 0 \
    both-rep.mp4
expect 0 "$AIMARK" verify --json both-rep.mp4
has out '"explicit":{"found":true,"checked":true'
has out '"end":{"found":false,"from":5.0,"to":8.0,"score":'
has out '"frames_checked":5,"seconds_checked":2.0},"note"'
has out 'NOT on the closing frames: missing from 5 of 5 frames sampled over 2.0 s from 5.00 s (first at 5.00 s)"'
# a closing span under 2 s (a 1.5 s clip): sampled over all of it
ok $FF -f lavfi -i $T:rate=25 -t 1.5 -c:v libx264 -pix_fmt yuv420p s15.mp4
expect 0 "$AIMARK" mark --producer $CODE --no-watermark --video-label both \
    s15.mp4 -o s15-both.mp4
expect 0 "$AIMARK" verify --json s15-both.mp4
has out '"end":{"found":true,"from":0.0,"to":1.52,'
has out '"frames_checked":5,"seconds_checked":1.52}'
# a variable frame rate at the end
expect 0 "$AIMARK" mark --producer $CODE --no-watermark --video-label both \
    vfr.mp4 -o vfr-both.mp4
expect 0 "$AIMARK" verify --json vfr-both.mp4
has out '"end":{"found":true'
# every frame: the record's span runs to the end (null)
expect 0 "$AIMARK" mark --producer $CODE --no-watermark --label-duration all \
    in.mp4 -o every.mp4
ffprobe -v error -show_entries format_tags -of default=nw=1 every.mp4 > t
has t '"spans":[[0.0,null]]'
expect 2 "$AIMARK" mark --producer $CODE --video-label end in8.mp4 -o x.mp4
has err "--video-label wants start or both (the opening frames must carry"
# Matroska from a pipe: the length from its header; a stream written to
# a pipe has none, and the end label is refused
ok $FF -i in8.mp4 -c copy in8.mkv
cat in8.mkv | "$AIMARK" mark --producer $CODE --no-watermark \
    --video-label both - -o - > both.mkv 2> err
checks=$((checks + 1))
[ $? = 0 ] || fail "the end label through a pipe"
diffs in8.mkv both.mkv > d
span_ok d 2.96 2.96 3.04
expect 0 "$AIMARK" verify --json both.mkv
has out '"found":true,"checked":true'
has out '"end":{"found":true,"from":5.0,"to":8.0'
ffmpeg -v error -i in8.mp4 -c copy -f matroska - > live.mkv
expect 3 sh -c "cat live.mkv | '$AIMARK' mark --producer $CODE \
    --video-label both - -o - > x.mkv"
has err "the label on the closing frames needs the video's length"

# a phone video: turned by its display matrix (90, 180 and 270 degrees);
# the label sits upright in the bottom-right corner as displayed (the
# corner as an upright copy marked the same way has it: RMSE 0.10
# against it, 0.29 to 0.35 against the input) and the rotation stays
ok $FF -f lavfi -i $T:rate=25 -t 3 -c:v libx264 -pix_fmt yuv420p base.mp4
rot() { ffprobe -v error -show_entries stream_side_data=rotation \
    -of default=nw=1:nk=1 "$1"; }
corner() {
    ffmpeg -v error -y -ss 1 -i "$1" -frames:v 1 \
        -vf "crop=iw/4:ih/5:iw*3/4:ih*4/5" "$2"
}
rmse() { compare -metric RMSE "$1" "$2" null: 2>&1 | sed 's/.*(\(.*\))/\1/'; }
for r in 90 180 270; do
    ok $FF -i base.mp4 -c copy -metadata:s:v:0 rotate=$r r$r.mp4
    expect 0 "$AIMARK" mark --producer $CODE --no-watermark r$r.mp4 \
        -o mr$r.mp4
    checks=$((checks + 1))
    [ "$(rot mr$r.mp4)" = "$(rot r$r.mp4)" ] && [ -n "$(rot mr$r.mp4)" ] ||
        fail "rotation $r: $(rot r$r.mp4) -> $(rot mr$r.mp4)"
    diffs r$r.mp4 mr$r.mp4 > d
    span_ok d 2.96 0 0
    ok $FF -i r$r.mp4 -c:v libx264 -crf 12 -pix_fmt yuv420p up$r.mp4
    expect 0 "$AIMARK" mark --producer $CODE --no-watermark up$r.mp4 \
        -o mup$r.mp4
    expect 0 "$AIMARK" verify --json mr$r.mp4
    has out '"found":true,"checked":true'
    if command -v compare > /dev/null; then
        corner mr$r.mp4 c-rot.png
        corner mup$r.mp4 c-up.png
        corner r$r.mp4 c-in.png
        a=$(rmse c-rot.png c-up.png)
        b=$(rmse c-rot.png c-in.png)
        checks=$((checks + 1))
        awk "BEGIN { exit !($a * 2 < $b && $b > 0.15) }" ||
            fail "rotation $r: corner against the upright copy $a, against the input $b"
    fi
done
# its frame watermark is in the picture as displayed: found in the marked
# file, after a re-encode that turns the frames upright (ffmpeg's
# default, the matrix dropped) and after one that keeps them as coded
for r in 90 180; do
    expect 0 "$AIMARK" mark --producer $CODE --json r$r.mp4 -o wm$r.mp4
    has out '"embedded":true,"scheme":"vid-v1"'
    P=$(sed 's/.*"payload":"\([0-9a-f]*\)".*/\1/' out)
    ok $FF -i wm$r.mp4 -c:v libx264 -crf 23 wm$r-up.mp4
    ok $FF -noautorotate -i wm$r.mp4 -c:v libx264 -crf 23 wm$r-kept.mp4
    checks=$((checks + 1))
    [ -z "$(rot wm$r-up.mp4)" ] && [ -n "$(rot wm$r-kept.mp4)" ] ||
        fail "rotation $r re-encoded: '$(rot wm$r-up.mp4)' '$(rot wm$r-kept.mp4)'"
    for f in wm$r.mp4 wm$r-up.mp4 wm$r-kept.mp4; do
        expect 0 "$AIMARK" verify --json $f
        has out '"scheme":"vid-v1"'
        has out "\"payload\":\"$P\""
    done
done

# verify finds it missing: the opening 1.5 s cut off (the record kept:
# Matroska keeps every tag), the label blurred, the frames cropped
ok $FF -i m.mp4 -c copy m.mkv
ffprobe -v error -show_entries format_tags -of default=nw=1 m.mkv > t
has t 'TAG:AIMARK:VISIBLELABEL={"v":1'
expect 0 "$AIMARK" verify --json m.mkv
has out '"found":true,"checked":true'
ok $FF -ss 1.5 -i m.mkv -c:v libx264 cut.mkv
ok $FF -i m.mkv -vf "split[a][b];[b]crop=iw/4:ih/5:iw*3/4:ih*4/5,boxblur=6[c];[a][c]overlay=W*3/4:H*4/5" \
    -c:v libx264 blur.mkv
ok $FF -i m.mkv -vf "crop=iw*3/4:ih*3/4:0:0" -c:v libx264 crop.mkv
for f in cut blur crop; do
    expect 0 "$AIMARK" verify --json $f.mkv
    has out '"explicit":{"found":false,"checked":true'
    has out '"meets_rule":false'
done
expect 0 "$AIMARK" verify cut.mkv
has out "explicit label: not found (label recorded in the metadata missing from 2 of 5 frames sampled over the first 2.0 s (first at 1.50 s)"
# WebM: the SimpleTag written by the VP9 re-encode
ok $FF -f lavfi -i $T:rate=25 -t 3 -c:v libvpx-vp9 -b:v 200k w.webm
expect 0 "$AIMARK" mark --producer $CODE --no-watermark w.webm -o mw.webm
expect 0 "$AIMARK" verify --json mw.webm
has out '"found":true,"checked":true'
# a damaged record is reported and left aside
ok $FF -i m.mkv -c copy -metadata 'aimark:VisibleLabel={"v":1,"text"' bad.mkv
expect 0 "$AIMARK" verify --json bad.mkv
has out '"explicit":{"found":false,"checked":false,"note":"the label record in the metadata is damaged"}'
# frames read through a grey copy (10 bits) that grow midway: the copy
# follows the frame size (it was sized for the first frame, and the
# larger ones overflowed it: ASan, valgrind); no metadata label, so
# the verdict is none
ok $FF -f lavfi -i $T:rate=25 -t 0.6 -vf scale=160:120 -c:v libx264 \
    -pix_fmt yuv420p10le g1.mkv
ok $FF -f lavfi -i $T:rate=25 -t 2 -c:v libx264 -pix_fmt yuv420p10le g2.mkv
printf "file 'g1.mkv'\nfile 'g2.mkv'\n" > g.txt
rec=$(ffprobe -v error -show_entries format_tags -of default=nw=1 m.mp4 |
    sed -n 's/^TAG:aimark:VisibleLabel=//p')
ok $FF -f concat -safe 0 -i g.txt -c copy -metadata "aimark:VisibleLabel=$rec" \
    grow.mkv
expect 1 "$AIMARK" verify --json grow.mkv
has out '"checked":true,"text":"AI'
has out '"frames_checked":5'
# no label drawn, no record: the metadata alone (a remux) and
# --no-visible
expect 0 "$AIMARK" mark --producer $CODE --no-visible --no-watermark \
    in.mp4 -o lo.mp4
expect 0 "$AIMARK" mark --producer $CODE --no-visible in.mp4 -o nv.mp4
for f in lo.mp4 nv.mp4; do
    ffprobe -v error -show_entries format_tags -of default=nw=1 $f > t
    hasnt t VisibleLabel
    expect 0 "$AIMARK" verify $f
    has out "explicit label: not checked (no record of a label drawn by this toolkit"
done
# re-marking a labelled video keeps its record, and does not draw the
# label again (drawn twice, the plate darkens the corner by 8 levels)
expect 0 "$AIMARK" mark --producer $CODE --no-visible --no-watermark \
    m.mp4 -o mm.mp4
expect 0 "$AIMARK" verify --json mm.mp4
has out '"found":true,"checked":true'
expect 0 "$AIMARK" mark --producer $CODE --no-watermark m.mp4 -o mm2.mp4
diffs m.mp4 mm2.mp4 > d
checks=$((checks + 1))
[ "$(spans < d)" = "0.000 0.000 0" ] || fail "label drawn twice: $(spans < d)"
expect 0 "$AIMARK" verify --json mm2.mp4
has out '"found":true,"checked":true'
done_
