#!/bin/sh
# run.sh - fuzz each target for FUZZ_TIME seconds, one after the other
# (`make fuzz` runs it; see the Makefile).
#
#   FUZZ_TIME=60 sh fuzz/run.sh BINDIR WORKDIR "TARGET..."
#
# BINDIR holds the libFuzzer binaries; WORKDIR/seeds/<target> the seeds
# (fuzz/seeds.sh); the corpus grows in WORKDIR/corpus/<target>, crash,
# leak and timeout inputs land in WORKDIR/crashes/<target>/, the log in
# WORKDIR/log/<target>.log.  The saved regression inputs
# (tests/fuzz-regress/<target>) are read too.  One line per target:
# seconds (wall clock, and CPU when GNU time is there), executions,
# executions a second, corpus size, findings; also
# in WORKDIR/summary.txt.  Exits 1 when any target found something.
set -u
bin=$1
work=$2
targets=$3
top=$(cd "$(dirname "$0")/.." && pwd)
time=${FUZZ_TIME:-60}
# third-party caches that live as long as the process are not our leaks
export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
mkdir -p "$work/log"
: > "$work/summary.txt"
bad=0
printf '%-11s %6s %6s %10s %8s %7s %s\n' target seconds cpu execs exec/s \
    corpus findings | tee -a "$work/summary.txt"
for t in $targets; do
    c=$work/corpus/$t
    a=$work/crashes/$t
    mkdir -p "$c" "$a"
    dirs="$c"
    [ -d "$work/seeds/$t" ] && dirs="$dirs $work/seeds/$t"
    [ -d "$top/tests/fuzz-regress/$t" ] && dirs="$dirs $top/tests/fuzz-regress/$t"
    before=$(ls "$a" | wc -l)
    start=$(date +%s)
    # -timeout: one input taking more than 10 s is a finding (a hang);
    # -rss_limit_mb: so is one needing more than 2 GiB
    # CPU seconds (user + system) by GNU time where it is installed:
    # the wall clock overstates the fuzzing on a busy machine
    timer=
    [ -x /usr/bin/time ] && timer="/usr/bin/time -f %U+%S -o $work/log/$t.cpu"
    # shellcheck disable=SC2086
    $timer "$bin/$t" -max_total_time="$time" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$a/" ${FUZZ_ARGS:-} \
        $dirs > "$work/log/$t.log" 2>&1
    rc=$?
    secs=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
        "$work/log/$t.log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' \
        "$work/log/$t.log" | tail -n 1)
    cpu=?
    [ -n "$timer" ] && cpu=$(tail -n 1 "$work/log/$t.cpu" |
        awk -F+ '{ printf "%d", $1 + $2 }')
    n=$(ls "$c" | wc -l)
    found=$(($(ls "$a" | wc -l) - before))
    what=none
    if [ $rc -ne 0 ] || [ $found -gt 0 ]; then
        bad=1
        what="exit $rc, $found new in $a: $(grep -m1 -E \
            'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' \
            "$work/log/$t.log" | cut -c1-100)"
    fi
    printf '%-11s %6s %6s %10s %8s %7s %s\n' "$t" "$secs" "${cpu:-?}" \
        "${execs:-?}" "${rate:-?}" "$n" "$what" | tee -a "$work/summary.txt"
done
exit $bad
