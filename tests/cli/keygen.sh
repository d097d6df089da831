# keygen.sh - private watermark keys: made once, mode 0600, never
# overwritten, a public id printed.
. "$TOP/tests/cli_lib.sh"

expect 0 "$AIMARK" keygen a.key
ok test "$(stat -c %a a.key)" = 600
has a.key "aimark-key-v1 "
checks=$((checks + 1))
grep -Eq '^[0-9a-f]{16}$' out || fail "no key id printed"
cp a.key keep.key
expect 5 "$AIMARK" keygen a.key
has err "cannot create 'a.key': File exists"
ok cmp -s a.key keep.key
expect 0 "$AIMARK" keygen b.key
ok test "$(cat a.key)" != "$(cat b.key)"
expect 2 "$AIMARK" keygen
expect 2 "$AIMARK" keygen x.key y.key
expect 5 "$AIMARK" keygen /nonexistent/dir/k.key
done_
