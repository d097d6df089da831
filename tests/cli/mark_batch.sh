# mark_batch.sh - batches: -o DIR, -j, --files-from, failures in a batch.
. "$TOP/tests/cli_lib.sh"
F=$FIXTURES

mkdir o1
expect 0 "$AIMARK" mark -q -j 2 --producer $CODE -o o1 "$F"/png-*.png "$F"/jpeg-*.jpg
n=$(ls o1 | wc -l)
ok test "$n" -eq 19
expect 0 "$AIMARK" verify --json o1/*
lines out 19
hasnt out '"verdict":"none"'
# every file got its own ProduceID
ids=$(grep -o '"ProduceID":"[^"]*"' out | sort -u | wc -l)
ok test "$ids" -eq 19
# a corrupt file in the middle: reported, the others still written
mkdir out2
head -c 500 "$F/jpeg-meta.jpg" > broken.jpg
expect 3 "$AIMARK" mark -j 2 --producer $CODE -o out2 "$F/png-rgb8.png" broken.jpg "$F/jpeg-gray.jpg"
has err "cannot read 'broken.jpg'"
has err "marked 2 of 3 files"
ok test -s out2/png-rgb8.png
ok test -s out2/jpeg-gray.jpg
ok test ! -e out2/broken.jpg
# several inputs need a directory
expect 2 "$AIMARK" mark --producer $CODE -o single.png "$F/png-rgb8.png" "$F/png-gray8.png"
has err "existing directory"
expect 2 "$AIMARK" mark --producer $CODE -o nodir/ "$F/png-rgb8.png"
has err "does not exist"
# two inputs with one name would collide in the output directory
mkdir a b out3
cp "$F/png-rgb8.png" a/x.png
cp "$F/png-gray8.png" b/x.png
expect 2 "$AIMARK" mark --producer $CODE -o out3 a/x.png b/x.png
has err "two inputs would both be written to 'out3/x.png'"
ok test ! -e out3/x.png
# --files-from, from a file and from stdin
ls "$F"/var-*.png > list
mkdir out4 out5
expect 0 "$AIMARK" mark -q --producer $CODE --files-from list -o out4
n=$(ls out4 | wc -l)
ok test "$n" -eq "$(wc -l < list)"
checks=$((checks + 1))
"$AIMARK" mark -q --producer $CODE --files-from - -o out5 < list || fail "files-from -"
n=$(ls out5 | wc -l)
ok test "$n" -eq "$(wc -l < list)"
# a list with corrupt, empty and missing files among good ones, two jobs:
# the good ones marked, each bad one named once, the summary counts them
: > empty.png
head -c 300 "$F/png-rgb8.png" > cut.png
printf '%s\n' "$F/png-rgb8.png" cut.png empty.png nosuch.png broken.jpg \
    "$F/jpeg-gray.jpg" "$F/png-gray8.png" > badlist
mkdir out6
expect 3 "$AIMARK" mark -j 2 --producer $CODE --files-from badlist -o out6
has err "marked 3 of 7 files"
for b in cut.png empty.png nosuch.png broken.jpg; do
    n=$(grep -c "'$b'" err)
    ok test "$n" -eq 1
done
n=$(ls out6 | wc -l)
ok test "$n" -eq 3
ls -a out6 > listing
hasnt listing ".tmp"
# --json: one line per file, the failures with an error
mkdir out7
expect 3 "$AIMARK" mark -j 2 --json --producer $CODE --files-from badlist -o out7
lines out 7
n=$(grep -c '"error"' out)
ok test "$n" -eq 4
# verify goes on past them too
expect 3 "$AIMARK" verify --files-from badlist
n=$(grep -c "^aimark: cannot" err)
ok test "$n" -eq 4
# --produce-id with several inputs is refused
expect 2 "$AIMARK" mark --producer $CODE --produce-id x -o out4 "$F/png-rgb8.png" "$F/png-gray8.png"
done_
