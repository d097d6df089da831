# fuzz.sh - the fuzz targets replayed without libFuzzer (build/fuzz/replay):
# every saved crash input (tests/fuzz-regress/<target>/) through every
# target, the seeds that fuzz/seeds.sh makes through their own target,
# and all the seeds through verify_any.  A crash, a sanitizer report or a
# leak fails the test (under SANITIZE=address,undefined).
. "$TOP/tests/cli_lib.sh"
R=$TOP/$O/fuzz/replay
[ -x "$R" ] || { echo "no $R: skipped"; exit 77; }

ok sh "$TOP/fuzz/seeds.sh" "$O" seeds
for d in seeds/*; do
    t=$(basename "$d")
    ok "$R" "$t" "$d"
done
ok "$R" verify_any seeds
for d in "$TOP"/tests/fuzz-regress/*/; do
    [ -d "$d" ] && ok "$R" all "$d"
done
done_
