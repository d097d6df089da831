# crash.sh - `aimark mark` killed with SIGKILL at moments spread over its
# run (a fixed sequence: k/(N+1) of a reference run's time, k = 1..N, and
# once well after it should have ended): the input never changes, the
# output name holds nothing or the whole output (byte for byte the
# reference run's), an earlier output under that name stays whole or is
# replaced whole (-f, --in-place), and the only thing left behind is the
# documented temporary file .NAME.XXXXXXXXXXXX.tmp, which a kill cannot
# remove and the next run ignores.  CRASH_KILLS sets N (default 3; `make
# crash-test` runs 30).
. "$TOP/tests/cli_lib.sh"
command -v ffmpeg > /dev/null || { echo "ffmpeg missing: skipped"; exit 77; }
N=${CRASH_KILLS:-3}
M="$AIMARK mark -q --producer $CODE --produce-id crash-test"

ok convert -seed 7 -size 1200x900 plasma:fractal -depth 8 in.png
ok "$TOP/$O/tests/genwav" in.wav --seconds 30
ok ffmpeg -v error -f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi \
    -i sine=frequency=440:sample_rate=48000 -t 4 -c:v libx264 \
    -pix_fmt yuv420p -c:a aac in.mp4

ms() { date +%s%3N; }

# temporaries left by a kill: the documented name only; then removed
leftovers() {
    for t in $(ls -A | grep '\.tmp$'); do
        temps=$((temps + 1))
        echo "$t" | grep -Eq '^\.[^/]+\.[0-9a-f]{12}\.tmp$' ||
            fail "unexpected leftover '$t'"
        rm -f -- "$t"
    done
    ls -A | grep -v -e '^in\.' -e '^ref\.' -e '^old\.' -e '^out\.' \
        -e '^ip\.' -e '^err$' -e '^out$' -e '^home$' -e '^stray$' > stray
    [ ! -s stray ] || { fail "stray files: $(cat stray)"; }
}

# killed_run DELAY_MS CMD...: CMD in the background, SIGKILL after DELAY
killed_run() {
    d=$1; shift
    "$@" > /dev/null 2>&1 &
    pid=$!
    sleep "$(awk -v d="$d" 'BEGIN { printf "%.3f", d / 1000 }')"
    kill -9 $pid 2> /dev/null
    wait $pid 2> /dev/null
}

for f in in.png in.wav in.mp4; do
    x=${f#in.}
    sum=$(cksum < $f)
    t0=$(ms)
    ok $M $f -o ref.$x
    T=$(($(ms) - t0))
    cp $f ip.$x
    ok $M --in-place ip.$x
    checks=$((checks + 1))
    cmp -s ip.$x ref.$x || fail "--in-place output differs from -o's"
    cp $f old.$x                         # an earlier "output"
    none=0 whole=0 kept=0 temps=0
    k=1
    while [ $k -le $((N + 1)) ]; do
        # k/(N+1) of the run, then once well past its end
        d=$((k > N ? 2 * T + 100 : T * k / (N + 1)))
        # a new output
        rm -f out.$x
        killed_run $d $M $f -o out.$x
        if [ -e out.$x ]; then
            whole=$((whole + 1))
            ok cmp -s out.$x ref.$x
        else
            none=$((none + 1))
        fi
        # over an earlier output, with -f
        cp old.$x out.$x
        killed_run $d $M -f $f -o out.$x
        checks=$((checks + 1))
        if cmp -s out.$x old.$x; then kept=$((kept + 1))
        elif ! cmp -s out.$x ref.$x; then fail "$f -f at $d ms: damaged"
        fi
        # in place
        cp $f ip.$x
        killed_run $d $M --in-place ip.$x
        checks=$((checks + 1))
        cmp -s ip.$x $f || cmp -s ip.$x ref.$x ||
            fail "$f --in-place at $d ms: damaged"
        checks=$((checks + 1))
        [ "$(cksum < $f)" = "$sum" ] || fail "$f changed"
        leftovers
        k=$((k + 1))
    done
    echo "$f: run $T ms, $((N + 1)) kills each way: new output absent" \
         "$none, whole $whole; -f kept the old $kept; $temps temporaries"
done
# the next run is not troubled by a temporary of the same pattern
touch .out.png.000000000000.tmp
expect 0 $M -f in.png -o out.png
ok cmp -s out.png ref.png
ok test -e .out.png.000000000000.tmp
done_
