#!/bin/sh
# run.sh - run every test: C tests under build/tests, shell tests under
# tests/cli.  Each test exits 0 (pass), 77 (skip) or anything else (fail).
# Fixtures are generated once into a temporary directory by genimg.
# Prints one line per test and a closing "N passed, N failed" line; exits
# non-zero when any test failed.  ONLY="name ..." runs just those tests
# and prints their logs (make corrupt-matrix, make crash-test).  JOBS=N
# runs N tests at a time (default: the CPUs, at most 4).
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

# The tests run JOBS at a time (default: the number of CPUs, at most 4),
# each with its own log and work directory; the results are printed in
# the order of the list.
ONLY=${ONLY:-}
if [ -z "${JOBS:-}" ]; then
    JOBS=$(nproc 2> /dev/null || echo 1)
    [ "$JOBS" -le 4 ] || JOBS=4
fi
: > "$tmp/list"
add() {
    case " $ONLY " in
    "  ") ;;
    *" $1 "*) ;;
    *) return ;;
    esac
    echo "$*" >> "$tmp/list"
}
for t in "$top/$O"/tests/unit/* "$top/$O"/tests/api/*; do
    [ -x "$t" ] || continue
    add "$(basename "$t")" "$t"
done
for t in "$top"/tests/cli/*.sh; do
    add "$(basename "$t" .sh)" sh "$t"
done
# one test: NAME CMD... -> $tmp/NAME.log, and its exit status in NAME.rc
cat > "$tmp/one.sh" << 'EOF'
name=$1
shift
export TESTTMP="$RUN_TMP/work-$name"
mkdir -p "$TESTTMP"
t0=$(date +%s)
"$@" > "$RUN_TMP/$name.log" 2>&1
rc=$?
echo $(( $(date +%s) - t0 )) > "$RUN_TMP/$name.time"
echo $rc > "$RUN_TMP/$name.rc"
EOF
RUN_TMP=$tmp xargs -P "$JOBS" -L 1 sh "$tmp/one.sh" < "$tmp/list"

pass=0 fail=0 skip=0 failed=""
keep=40                                  # log lines shown on failure
[ -z "$ONLY" ] || keep=100000
while read -r name cmd; do
    rc=$(cat "$tmp/$name.rc" 2> /dev/null || echo 99)
    case $rc in
    0) pass=$((pass + 1))
       echo "PASS $name ($(cat "$tmp/$name.time" 2> /dev/null || echo ?) s)" ;;
    77) skip=$((skip + 1)); echo "SKIP $name" ;;
    *) fail=$((fail + 1)); failed="$failed $name"; echo "FAIL $name (exit $rc)"
       sed 's/^/    /' "$tmp/$name.log" | tail -n "$keep" ;;
    esac
    [ -z "$ONLY" ] || [ "$rc" -ne 0 ] || sed 's/^/    /' "$tmp/$name.log"
done < "$tmp/list"
echo
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
