# install.sh - make install / uninstall honour PREFIX and DESTDIR, and a
# program builds against the installed header, library and libmark.pc.
. "$TOP/tests/cli_lib.sh"
unset MAKEFLAGS MAKELEVEL MFLAGS
command -v pkg-config > /dev/null || exit 77
root=$TESTTMP/root
san=${SANITIZE:+-fsanitize=$SANITIZE}
pfx=$TESTTMP/prefix
# DESTDIR staging
expect 0 make -s -C "$TOP" O="$O" install DESTDIR="$root" PREFIX=/opt/am
for f in bin/aimark lib/libmark.a lib/libmark.so lib/libmark.so.0 \
         include/mark.h lib/pkgconfig/libmark.pc share/man/man1/aimark.1 \
         share/man/man3/libmark.3; do
    ok test -e "$root/opt/am/$f"
done
has "$root/opt/am/lib/pkgconfig/libmark.pc" "prefix=/opt/am"
expect 0 make -s -C "$TOP" O="$O" uninstall DESTDIR="$root" PREFIX=/opt/am
n=$(find "$root" -type f | wc -l)
ok test "$n" -eq 0
# a real prefix: build the sample program against what was installed
expect 0 make -s -C "$TOP" O="$O" install PREFIX="$pfx"
export PKG_CONFIG_PATH="$pfx/lib/pkgconfig"
checks=$((checks + 1))
# static libmark with shared dependencies: the packages libmark.pc lists
# as Requires.private supply the link flags
deps=$(pkg-config --print-requires-private libmark)
cc -std=c11 $san -o prog "$TOP/samples/code/label_image.c" \
    $(pkg-config --cflags libmark) "$pfx/lib/libmark.a" \
    $(pkg-config --libs $deps) -lm \
    || fail "sample does not build against the installed static library"
checks=$((checks + 1))
cc -std=c11 $san -o prog2 "$TOP/samples/code/label_image.c" \
    $(pkg-config --cflags --libs libmark) \
    || fail "sample does not build against the installed shared library"
expect 0 env LD_LIBRARY_PATH="$pfx/lib" ./prog2 "$FIXTURES/png-rgb8.png" s.png
expect 0 "$pfx/bin/aimark" verify s.png
expect 0 "$pfx/bin/aimark" --version
expect 0 make -s -C "$TOP" O="$O" uninstall PREFIX="$pfx"
ok test ! -e "$pfx/bin/aimark"
ok test ! -e "$pfx/include/mark.h"
done_
