# docs.sh - the man pages lint clean, document every option --help lists,
# and their EXAMPLES run as written on the bundled samples.
. "$TOP/tests/cli_lib.sh"
command -v mandoc > /dev/null || { echo "mandoc missing"; exit 77; }
MAN=$TOP/man/aimark.1

for page in "$TOP/man/aimark.1" "$TOP/man/libmark.3"; do
    checks=$((checks + 1))
    mandoc -Tlint -W warning "$page" > lint 2>&1 || true
    [ ! -s lint ] || { fail "mandoc -Tlint $page"; cat lint; }
done
# every option of every command is in the man page, as .It Fl
for cmd in mark verify; do
    "$AIMARK" $cmd --help > help.txt
    for opt in $(grep -o -e '--[a-z][a-z-]*' help.txt | sort -u); do
        checks=$((checks + 1))
        grep -q -e "^\.It Fl .*${opt#-}\( \|$\)" "$MAN" ||
            fail "$cmd option $opt is not described in aimark.1"
    done
done
# the EXAMPLES, in order, in a copy of samples/
mkdir ex
cp "$TOP"/samples/*.png "$TOP"/samples/*.jpg ex/
cd ex || exit 99
PATH=$TOP/$O:/usr/bin:$PATH
export PATH
sed -n 's/^\.Dl \$ //p' "$MAN" | sed -e 's/\\-/-/g' -e 's/\\e/\\/g' > ../examples
n=0
while IFS= read -r line; do
    n=$((n + 1))
    checks=$((checks + 1))
    sh -c "$line" > /dev/null 2> ../ex.err || {
        fail "man example $n: $line"; sed 's/^/  /' ../ex.err; }
done < ../examples
cd ..
checks=$((checks + 1))
[ "$n" -ge 8 ] || fail "only $n examples found in aimark.1"
# the library page's example is the sample program, which builds
checks=$((checks + 1))
grep -q 'mark_media_save_file' "$TOP/man/libmark.3" || fail "libmark.3 example"
# every exported function (the ABI list) is in the library page, as
# .Fn NAME or .Fo NAME
while IFS= read -r sym; do
    case $sym in ''|'#'*) continue ;; esac
    checks=$((checks + 1))
    grep -q -e "^\.F[no] $sym\( \|$\)" "$TOP/man/libmark.3" ||
        fail "$sym is not documented in libmark.3 (no .Fn or .Fo)"
done < "$TOP/tests/symbols.txt"
done_
