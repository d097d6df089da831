# verify.sh - the verifier on every real-world variant, JSON shape, exit
# statuses over several files.
. "$TOP/tests/cli_lib.sh"
F=$FIXTURES

expect 0 "$AIMARK" verify --json "$F"/var-*
lines out 19
has out '"carrier":"exif-usercomment"'
has out '"carrier":"png-ztxt"'
has out '"code":"namespace"'
has out '"code":"duplicate"'
has out '"verdict":"possibly"'
has out '"verdict":"suspected"'
has out '"compliant":false'
has out '"watermark":{"found":false,"payload":null,"checked":true,"scheme":"img-v1"'
has out '"explicit":{"found":false'
# the report keys for one file, in order
"$AIMARK" verify --json "$F/var-png-xmp-attr.png" > one
has one '{"file":'
has one '"format":"png","type":"image","verdict":"generated","metadata":{"found":true,"compliant":true,"labels":[{"carrier":"xmp"'
has one '"form":"bare","fields":{"Label":"1"'
# none + marked: 1; error + none: 3
expect 1 "$AIMARK" verify "$F/var-png-xmp-attr.png" "$F/png-rgb8.png"
printf '\001\002xx' > junk.bin
expect 3 "$AIMARK" verify --json junk.bin "$F/png-rgb8.png"
has out '"verdict":"error"'
has out '"error":"not a recognised media format'
lines out 2
# a recognised but unsupported format is named in the error line
printf 'RIFF\044\0\0\0WAVEfmt ' > snd.wav
expect 3 "$AIMARK" verify --json snd.wav
has out '"format":"wav","verdict":"error"'
# -q prints nothing, --json or not
expect 1 "$AIMARK" verify -q --json "$F/png-rgb8.png"
lines out 0
# human report names problems
expect 0 "$AIMARK" verify "$F/var-png-badlabel.png"
has out "suspected"
has out "label-value"
has out "charset"
# non-UTF-8 file names still give valid JSON lines
cp "$F/png-rgb8.png" "$(printf 'n\377.png')"
expect 1 "$AIMARK" verify --json "$(printf 'n\377.png')"
has out '"file":"n'
done_
