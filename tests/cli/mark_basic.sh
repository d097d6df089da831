# mark_basic.sh - one file in, one file out; messages and exit statuses.
. "$TOP/tests/cli_lib.sh"
F=$FIXTURES

expect 0 "$AIMARK" mark --producer $CODE "$F/png-rgb8.png" -o a.png
ok test -s a.png
expect 0 "$AIMARK" verify a.png
has out "a.png: generated"
has out "ContentProducer    $CODE"
# the default output name is NAME.aigc.EXT beside the input
cp "$F/jpeg-baseline.jpg" photo.jpg
expect 0 "$AIMARK" mark --producer $CODE photo.jpg
ok test -s photo.aigc.jpg
expect 0 "$AIMARK" verify -q photo.aigc.jpg
ok cmp -s photo.jpg "$F/jpeg-baseline.jpg"     # input untouched
# an explicit ProduceID and Label value
expect 0 "$AIMARK" mark --producer $CODE --produce-id job-42 \
    --label-value 2 "$F/png-gray8.png" -o b.png
expect 0 "$AIMARK" verify --json b.png
has out '"verdict":"possibly"'
has out '"ProduceID":"job-42"'
has out '"PropagateID":"job-42"'
# --json report of mark
expect 0 "$AIMARK" mark --json --producer $CODE "$F/png-rgb8.png" -o c.png
has out '"status":"marked"'
has out '"output":"c.png"'
has out "\"ContentPropagator\":\"$CODE\""
lines out 1
# unmarked file: verify says none, exit 1
expect 1 "$AIMARK" verify "$F/png-rgb8.png"
has out "png-rgb8.png: none"
# missing file: exit 3 and a one-line, git-style message
expect 3 "$AIMARK" verify nope.png
has err "aimark: cannot read 'nope.png': No such file or directory"
lines err 1
expect 3 "$AIMARK" mark --producer $CODE nope.png -o x.png
has err "aimark: cannot read 'nope.png'"
ok test ! -e x.png
# not an image / empty / truncated / unsupported: exit 3, no output
printf 'hello world\n' > text.png
expect 3 "$AIMARK" mark --producer $CODE text.png -o x.png
has err "not a recognised media format"
: > empty.jpg
expect 3 "$AIMARK" mark --producer $CODE empty.jpg -o x.png
has err "input is empty"
head -c 3000 "$F/png-meta.png" > cut.png
expect 3 "$AIMARK" mark --producer $CODE cut.png -o x.png
has err "cut.png"
printf 'RIFF\044\0\0\0WAVEfmt ' > snd.wav
expect 3 "$AIMARK" mark --producer $CODE snd.wav -o x.wav
has err "WAV without a 'fmt ' chunk"
ok test ! -e x.wav
printf '\032\105\337\243\0\0\0\0' > film.mkv
expect 3 "$AIMARK" mark --producer $CODE film.mkv -o x.mkv
has err "Matroska not readable"
ok test ! -e x.mkv
ls -a > listing
hasnt listing ".tmp"
# usage errors: exit 2
expect 2 "$AIMARK"
expect 2 "$AIMARK" frobnicate
has err "'frobnicate' is not an aimark command"
expect 2 "$AIMARK" mark --producer $CODE
has err "no input given"
expect 2 "$AIMARK" mark --bogus x.png
expect 2 "$AIMARK" mark "$F/png-rgb8.png" -o y.png
has err "no producer code"
expect 2 "$AIMARK" mark --producer "has space" "$F/png-rgb8.png" -o y.png
has err "space"
expect 2 "$AIMARK" mark --producer $CODE --label-value 5 "$F/png-rgb8.png" -o y.png
has err "Label"
expect 4 "$AIMARK" mark --producer $CODE --key k "$F/png-rgb8.png" -o y.png
has err "cannot open key file 'k'"
ok test ! -e y.png
expect 0 "$AIMARK" --version
has out "libmark"
expect 0 "$AIMARK" help mark
has out "--producer"
done_
