# corrupt.sh - the corrupt-input matrix (tests/corrupt.pl), quick: for
# one small valid file of every format, damaged copies (empty, wrong
# magic, truncated, flipped bytes, lying sizes) end in a clean success or
# a clean failure for verify and mark; `make corrupt-matrix` runs the
# full one.  Then regressions it found.
. "$TOP/tests/cli_lib.sh"
command -v ffmpeg > /dev/null || { echo "ffmpeg missing: skipped"; exit 77; }
G=$TOP/$O/tests/genwav
GA=$TOP/$O/tests/genaudio
FF="ffmpeg -v error -f lavfi -i testsrc2=size=64x48:rate=10 -t 1"

ok "$G" a.wav --seconds 1 --rate 16000 --channels 1
for e in flac ogg opus; do ok "$GA" a.wav a.$e; done
ok "$GA" a.wav a.mp3 --id3 3 --title T
ok $FF -c:v libx264 -pix_fmt yuv420p a.mp4
ok $FF -c:v libx264 -pix_fmt yuv420p a.mov
ok $FF -c:v libvpx-vp9 a.webm
printf '# Title\n\nSome text written by a model, with a few sentences.\n' > a.md
printf 'Plain text written by a model. It has a few sentences in it.\n' > a.txt
mkdir d
ok "$TOP/$O/tests/gendoc" d > /dev/null
ok perl "$TOP/tests/corrupt.pl" "$AIMARK" m ${CORRUPT_FULL:+--full} \
    png="$FIXTURES/png-rgb8.png" jpeg="$FIXTURES/jpeg-meta.jpg" \
    wav=a.wav flac=a.flac ogg=a.ogg opus=a.opus mp3=a.mp3 mp4=a.mp4 \
    mov=a.mov webm=a.webm txt=a.txt md=a.md docx=d/doc.docx \
    xlsx=d/sheet.xlsx pptx=d/slides.pptx pdf=d/none.pdf

# a video whose every frame is damaged was "marked" into a file with an
# empty video track that nothing could read
perl -e 'local $/; my $d = <STDIN>; my $i = index($d, "mdat");
    my $n = unpack("N", substr($d, $i - 4, 4));
    substr($d, $i + 4, $n - 8) = "\xff" x ($n - 8); print $d' < a.mp4 > g.mp4
expect 3 "$AIMARK" mark --producer $CODE g.mp4 -o go.mp4
has err "aimark: cannot mark 'g.mp4': no frame of the video could be decoded"
ok test ! -e go.mp4
# libxml2's message about bad UTF-8 in an XMP packet had a newline inside
perl -e 'local $/; my $d = <STDIN>; my $i = index($d, "</x:xmpmeta");
    substr($d, $i - 80, 1) = "\xc7"; print $d' < "$FIXTURES/jpeg-meta.jpg" > x.jpg
expect 3 "$AIMARK" mark --producer $CODE x.jpg -o xo.jpg
has err "Input is not proper UTF-8, indicate encoding ! Bytes: 0xC7"
lines err 1
done_
