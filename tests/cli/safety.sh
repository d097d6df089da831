# safety.sh - nothing is lost: no overwriting, atomic in-place marking,
# no partial output on failure.
. "$TOP/tests/cli_lib.sh"
F=$FIXTURES

cp "$F/png-meta.png" in.png
expect 0 "$AIMARK" mark --producer $CODE in.png -o out.png
cp out.png keep.png
# an existing output is not overwritten without -f
expect 5 "$AIMARK" mark --producer $CODE in.png -o out.png
has err "cannot write 'out.png'"
has err "--force"
ok cmp -s out.png keep.png
expect 0 "$AIMARK" mark -f --producer $CODE in.png -o out.png
ok test -s out.png
# output naming the input itself needs --in-place
expect 5 "$AIMARK" mark -f --producer $CODE in.png -o in.png
has err "--in-place"
ok cmp -s in.png "$F/png-meta.png"
# --in-place replaces atomically and keeps permissions
chmod 640 in.png
expect 0 "$AIMARK" mark --in-place --producer $CODE in.png
expect 0 "$AIMARK" verify -q in.png
ok test "$(stat -c %a in.png)" = 640
expect 2 "$AIMARK" mark --in-place -o x.png --producer $CODE in.png
# an output in a missing directory: exit 5, nothing left behind
expect 5 "$AIMARK" mark --producer $CODE "$F/png-rgb8.png" -o missing/x.png
ok test ! -e missing
# an input that fails leaves no output and no temporary file
head -c 100 "$F/jpeg-meta.jpg" > trunc.jpg
expect 3 "$AIMARK" mark --producer $CODE trunc.jpg -o t.jpg
ok test ! -e t.jpg
ls -a > listing
hasnt listing ".tmp"
# inputs are never modified
ok cmp -s trunc.jpg "$(printf '%s' trunc.jpg)"
sum_before=$(cksum < "$F/jpeg-meta.jpg")
expect 0 "$AIMARK" mark --producer $CODE "$F/jpeg-meta.jpg" -o m.jpg
ok test "$(cksum < "$F/jpeg-meta.jpg")" = "$sum_before"
done_
