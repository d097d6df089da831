# lib.sh - helpers for the CLI tests (sourced).  Each test runs in
# $TESTTMP, with $AIMARK the binary and $FIXTURES the generated images.
set -u
cd "$TESTTMP" || exit 99
CODE=001191110102MAD55U9H0F10002
fails=0
checks=0
# A clean environment: no config or producer from the machine running us.
unset AIMARK_PRODUCER AIMARK_PROPAGATOR AIMARK_CONFIG XDG_CONFIG_HOME
HOME=$TESTTMP/home
mkdir -p "$HOME"
export HOME

fail() { fails=$((fails + 1)); echo "FAIL: $*"; }

# expect STATUS CMD...: run CMD, stdout to ./out, stderr to ./err.
expect() {
    want=$1; shift
    checks=$((checks + 1))
    "$@" > out 2> err
    got=$?
    if [ "$got" != "$want" ]; then
        fail "exit $got, want $want: $*"
        sed 's/^/  stderr: /' err | head -5
    fi
}

# has FILE PATTERN: FILE contains the fixed string PATTERN.
has() {
    checks=$((checks + 1))
    grep -qF -- "$2" "$1" || { fail "'$1' lacks: $2"; sed 's/^/  | /' "$1" | head -8; }
}

hasnt() {
    checks=$((checks + 1))
    ! grep -qF -- "$2" "$1" || fail "'$1' has: $2"
}

lines() {
    checks=$((checks + 1))
    n=$(wc -l < "$1")
    [ "$n" -eq "$2" ] || fail "'$1' has $n lines, want $2"
}

ok() {
    checks=$((checks + 1))
    "$@" || fail "$*"
}

done_() {
    echo "$checks checks, $fails failed"
    [ "$fails" -eq 0 ]
}
