# pipes.sh - stdin and stdout: a generator piping straight into aimark.
. "$TOP/tests/cli_lib.sh"
F=$FIXTURES

checks=$((checks + 1))
cat "$F/png-rgba8.png" | "$AIMARK" mark --producer $CODE - -o piped.png || fail "stdin to file"
expect 0 "$AIMARK" verify piped.png
checks=$((checks + 1))
cat "$F/jpeg-progressive.jpg" | "$AIMARK" mark --producer $CODE - > piped.jpg || fail "stdin to stdout"
expect 0 "$AIMARK" verify piped.jpg
has out "piped.jpg: generated"
checks=$((checks + 1))
"$AIMARK" mark --producer $CODE "$F/png-gray16.png" -o - > p2.png || fail "file to stdout"
expect 0 "$AIMARK" verify - < p2.png
has out "<stdin>: generated"
# verify of a pipe carrying garbage: exit 3
checks=$((checks + 1))
printf '\001\002garbage' | "$AIMARK" verify - > out 2> err
[ $? -eq 3 ] || fail "verify - of garbage"
has err "cannot read '<stdin>'"
# bad data on stdin writes nothing to stdout
checks=$((checks + 1))
printf '\001\002garbage' | "$AIMARK" mark --producer $CODE - > o.bin 2> err
[ $? -eq 3 ] || fail "mark - of garbage"
ok test ! -s o.bin
# -o - takes one input only, and --json cannot share stdout with it
expect 2 "$AIMARK" mark --producer $CODE -o - "$F/png-rgb8.png" "$F/png-gray8.png"
expect 2 "$AIMARK" mark --json --producer $CODE -o - "$F/png-rgb8.png"
done_
