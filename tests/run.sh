#!/bin/sh
# run.sh - run every test: C tests under build/tests, shell tests under
# tests/cli.  Each test exits 0 (pass), 77 (skip) or anything else (fail).
# Fixtures are generated once into a temporary directory by genimg.
# Prints one line per test and a closing "N passed, N failed" line; exits
# non-zero when any test failed.  ONLY="name ..." runs just those tests
# and prints their logs (make corrupt-matrix, make crash-test).
set -u
O=${O:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/aimark-tests.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir "$tmp/fixtures"
if ! "$top/$O/tests/genimg" "$tmp/fixtures"; then
    echo "run.sh: cannot generate fixtures" >&2
    exit 99
fi
export FIXTURES="$tmp/fixtures" AIMARK="$top/$O/aimark" TOP="$top" O
# third-party caches that live as long as the process are not our leaks
export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp:print_suppressions=0"

pass=0 fail=0 skip=0 failed=""
ONLY=${ONLY:-}
run() {
    name=$1; shift
    case " $ONLY " in
    "  ") ;;
    *" $name "*) ;;
    *) return ;;
    esac
    keep=40                              # log lines shown on failure
    [ -z "$ONLY" ] || keep=100000
    export TESTTMP="$tmp/work-$name"
    mkdir -p "$TESTTMP"
    "$@" > "$tmp/$name.log" 2>&1
    rc=$?
    case $rc in
    0) pass=$((pass + 1)); echo "PASS $name" ;;
    77) skip=$((skip + 1)); echo "SKIP $name" ;;
    *) fail=$((fail + 1)); failed="$failed $name"; echo "FAIL $name (exit $rc)"
       sed 's/^/    /' "$tmp/$name.log" | tail -n "$keep" ;;
    esac
    [ -z "$ONLY" ] || [ $rc -ne 0 ] || sed 's/^/    /' "$tmp/$name.log"
}

for t in "$top/$O"/tests/unit/* "$top/$O"/tests/api/*; do
    [ -x "$t" ] || continue
    run "$(basename "$t")" "$t"
done
for t in "$top"/tests/cli/*.sh; do
    run "$(basename "$t" .sh)" sh "$t"
done
echo
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
