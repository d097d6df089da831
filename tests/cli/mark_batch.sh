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
# --produce-id with several inputs is refused
expect 2 "$AIMARK" mark --producer $CODE --produce-id x -o out4 "$F/png-rgb8.png" "$F/png-gray8.png"
done_
