# documents.sh - DOCX/XLSX/PPTX (docProps/custom.xml property AIGC) and
# PDF (Info /AIGC, the catalog's XMP, earlier revisions): verify reports
# the label, its carrier, the document kind and the verdict; duplicates,
# a value of the wrong type, zip bombs, ZIPs that are not Office
# documents and damaged or password-protected PDFs are reported (one
# line, exit 3, never a crash); marking them is refused and leaves no
# output; exiftool reads the same field.
. "$TOP/tests/cli_lib.sh"
D=$TESTTMP/docs
mkdir -p "$D"
"$TOP/$O/tests/gendoc" "$D" || { echo "gendoc failed"; exit 99; }

# verify_json FILE STATUS: aimark verify --json into ./out
verify_json() {
    expect "$2" "$AIMARK" verify --json "$1"
    lines out 1
}

# Office documents, one per kind: the label, bare or wrapped
verify_json "$D/doc.docx" 0
has out '"format":"zip","type":"text","verdict":"generated","document":{"kind":"docx"}'
has out '"carrier":"ooxml-custom","location":"DOCX docProps/custom.xml property '"'AIGC'"'","form":"bare"'
has out '"ProduceID":"doc(1)"'
has out '"compliant":true'
verify_json "$D/sheet.xlsx" 0
has out '"document":{"kind":"xlsx"}'
has out '"form":"wrapped"'
has out '"verdict":"generated"'
verify_json "$D/slides.pptx" 0
has out '"document":{"kind":"pptx"}'
has out '"carrier":"ooxml-custom"'

# the human report names the kind
expect 0 "$AIMARK" verify "$D/doc.docx"
has out "$D/doc.docx: generated"
has out "  format: zip docx document"
has out "    [1] ooxml-custom: DOCX docProps/custom.xml property 'AIGC', bare JSON"
has out "        ProduceID          doc(1)"
has out "  watermark: not checked (no detector for this format yet)"
has out "  explicit label: not checked (not looked for in documents yet)"

# no custom properties, or none named AIGC: no label
verify_json "$D/doc-none.docx" 1
has out '"verdict":"none"'
has out '"labels":[]'
verify_json "$D/doc-other.docx" 1
has out '"verdict":"none"'

# two AIGC properties (names compared without case): both, a duplicate
verify_json "$D/doc-two.docx" 0
has out "property 'aigc'"
has out '"code":"duplicate"'
has out '"compliant":false'
# a number where a string belongs
verify_json "$D/doc-i4.docx" 0
has out '"form":"invalid"'
has out '"code":"ooxml-type"'
has out '"verdict":"suspected"'

# zip bombs: custom.xml inflating to 20 MiB, honestly declared or under
# a header claiming 100 bytes: refused at the metadata limit
expect 3 "$AIMARK" verify "$D/doc-bomb.docx"
lines err 1
has err "aimark: cannot read '$D/doc-bomb.docx': zip: 'docProps/custom.xml' of 20971520 bytes exceeds the metadata limit"
expect 3 "$AIMARK" verify "$D/doc-liar.docx"
lines err 1
has err "inflates past the metadata limit"
expect 3 "$AIMARK" verify --json "$D/doc-liar.docx"
has out '"format":"zip","verdict":"error"'

# ZIPs that are not Office documents
expect 3 "$AIMARK" verify "$D/plain.zip"
lines err 1
has err "cannot read '$D/plain.zip': zip archive is not an Office Open XML document (no [Content_Types].xml): not supported"
expect 3 "$AIMARK" verify "$D/opc.zip"
has err "zip archive is not a docx, xlsx or pptx document: not supported"

# PDF: bare JSON in a literal string with escapes
verify_json "$D/info.pdf" 0
has out '"format":"pdf","type":"text","verdict":"generated","document":{"pages":1}'
has out '"carrier":"pdf-info","location":"PDF Info /AIGC","form":"bare"'
has out '"Label":"1"'
has out '"ProduceID":"doc(1)"'
has out '"verdict":"generated"'
expect 0 "$AIMARK" verify "$D/info.pdf"
has out "  format: pdf document, 1 page"
has out "    [1] pdf-info: PDF Info /AIGC, bare JSON"
# wrapped, as UTF-16BE in a hex string
verify_json "$D/utf16.pdf" 0
has out '"form":"wrapped"'
has out '"ContentPropagator":"豆包"'
# a name where a string belongs
verify_json "$D/name.pdf" 0
has out '"form":"invalid"'
has out '"code":"pdf-type"'
has out 'PDF Info /AIGC is a name, not a text string'
verify_json "$D/none.pdf" 1
has out '"verdict":"none"'
# the catalog's XMP, alone and beside the Info
verify_json "$D/xmp.pdf" 0
has out '"carrier":"xmp","location":"PDF catalog /Metadata, element TC260:AIGC"'
verify_json "$D/xmp-flate.pdf" 0
has out '"carrier":"xmp","location":"PDF catalog /Metadata, element TC260:AIGC"'
has out '"verdict":"generated"'
verify_json "$D/both.pdf" 0
has out '"code":"duplicate"'

# incremental updates: a changed label leaves two (the one in effect
# first); one carried along unchanged counts once; a removed one stays
verify_json "$D/update.pdf" 0
has out '"labels":[{"carrier":"pdf-info","location":"PDF Info /AIGC","form":"bare","fields":{"Label":"2"'
has out 'of the revision ending at byte'
has out 'changed by a later update'
has out '"code":"duplicate"'
verify_json "$D/update-same.pdf" 0
has out '"compliant":true'
hasnt out 'revision'
verify_json "$D/removed.pdf" 0
has out 'removed by a later update'
has out '"verdict":"generated"'

# what qpdf makes of it: object and cross-reference streams, encryption
if command -v qpdf > /dev/null; then
    qpdf --object-streams=generate "$D/info.pdf" "$D/objstm.pdf"
    ok grep -q '/ObjStm' "$D/objstm.pdf"
    verify_json "$D/objstm.pdf" 0
    has out '"location":"PDF Info /AIGC","form":"bare"'
    has out '"ProduceID":"doc(1)"'
    qpdf --encrypt "" owner 256 -- "$D/utf16.pdf" "$D/enc.pdf"
    verify_json "$D/enc.pdf" 0
    has out '"ContentPropagator":"豆包"'
    qpdf --encrypt user owner 256 -- "$D/info.pdf" "$D/encu.pdf"
    expect 3 "$AIMARK" verify "$D/encu.pdf"
    lines err 1
    has err "pdf: encrypted with a password: its metadata cannot be read"
else
    echo "qpdf not installed: object streams and encryption not tested"
fi

# damaged: truncated anywhere, a one-line error (or what repair saved),
# never a crash
size=$(wc -c < "$D/update.pdf")
for n in 0 1 9 100 400 700 $((size / 2)) $((size - 200)) $((size - 40)) \
         $((size - 6)); do
    head -c "$n" "$D/update.pdf" > "$D/cut.pdf"
    "$AIMARK" verify "$D/cut.pdf" > out 2> err
    st=$?
    checks=$((checks + 1))
    case $st in
    0|1) ;;
    3) [ "$(wc -l < err)" -eq 1 ] || fail "cut at $n: $(cat err)" ;;
    *) fail "cut at $n: exit $st" ;;
    esac
done
# bytes inserted before the objects: every offset is wrong, qpdf
# rebuilds the table, and says so
{ head -c 9 "$D/info.pdf"; printf '%%junk\n'; tail -c +10 "$D/info.pdf"; } \
    > "$D/shifted.pdf"
verify_json "$D/shifted.pdf" 0
has out '"code":"pdf-damaged"'
has out 'the PDF is damaged and was read as repaired'
has out '"ProduceID":"doc(1)"'
head -c 700 "$D/info.pdf" > "$D/cut.pdf"
expect 3 "$AIMARK" verify "$D/cut.pdf"
has err "aimark: cannot read '$D/cut.pdf': pdf: "
size=$(wc -c < "$D/doc.docx")
for n in 4 30 $((size / 2)) $((size - 22)) $((size - 1)); do
    head -c "$n" "$D/doc.docx" > "$D/cut.docx"
    expect 3 "$AIMARK" verify "$D/cut.docx"
    lines err 1
done

# marking is refused, and nothing is written
for f in doc.docx sheet.xlsx info.pdf; do
    expect 3 "$AIMARK" mark --producer "$CODE" "$D/$f" -o "$TESTTMP/m-$f"
    lines err 1
    has err "cannot mark '$D/$f': marking "
    has err "documents is not supported (their labels are read, not written)"
    ok test ! -e "$TESTTMP/m-$f"
done
ls "$D" | grep -F .aigc > out
lines out 0
expect 3 "$AIMARK" mark --producer "$CODE" - < "$D/info.pdf"
lines out 0
has err "cannot mark '<stdin>': marking pdf documents is not supported"
# without the metadata label another mark is refused first (which one
# depends on the media type's marks): one line all the same
expect 3 "$AIMARK" mark --no-metadata --no-watermark "$D/doc.docx" \
    -o "$TESTTMP/m2.docx"
lines err 1
has err "cannot mark '$D/doc.docx': "
ok test ! -e "$TESTTMP/m2.docx"

# stdin reads the same
expect 0 "$AIMARK" verify --json - < "$D/doc.docx"
has out '"document":{"kind":"docx"}'

# interoperability: exiftool reads the field we read
if command -v exiftool > /dev/null; then
    exiftool -s -s -s -AIGC "$D/info.pdf" > out 2> err
    has out '{"Label":"1","ContentProducer":"'"$CODE"'","ProduceID":"doc(1)"'
    exiftool -s -s -s -AIGC "$D/utf16.pdf" > out 2> err
    has out '"ContentPropagator":"豆包"'
    exiftool -s -s -s -AIGC "$D/update.pdf" > out 2> err
    has out '{"Label":"2"'
    if perl -MArchive::Zip -e 1 2> /dev/null; then
        exiftool -s -s -s -AIGC "$D/doc.docx" > out 2> err
        has out '{"Label":"1","ContentProducer":"'"$CODE"'"'
        exiftool -s -s -s -AIGC "$D/sheet.xlsx" > out 2> err
        has out '{"AIGC":{"Label":"1"'
    else
        echo "Archive::Zip not installed: exiftool cannot read DOCX"
    fi
else
    echo "exiftool not installed: interoperability not tested"
fi

done_
