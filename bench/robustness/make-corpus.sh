#!/bin/sh
# make-corpus.sh DIR - the image corpus of `make robustness` (issue 4).
#
# Generated with ImageMagick 6 from fixed seeds and texts found on any
# Debian build machine, so the corpus is the same on every run, plus a
# few images from installed Debian packages when present (CORPUS.md has
# their licences).  Every file is an 8-bit RGB PNG, 512 to 4096 pixels a
# side.  The name's first word is its kind (photo, art, text, flat,
# shapes, texture, debian); the driver reports failures by kind.
#
# Images are made only when missing: DIR/.stamp holds a checksum of this
# script, and a changed script starts the corpus again.
set -eu

dir=${1:?usage: make-corpus.sh DIR}
CONVERT=${CONVERT:-/usr/bin/convert}
[ -x "$CONVERT" ] || CONVERT=convert

fonts=/usr/share/fonts/truetype/dejavu
SANS=$fonts/DejaVuSans.ttf
BOLD=$fonts/DejaVuSans-Bold.ttf
MONO=$fonts/DejaVuSansMono.ttf
SERIF=$fonts/DejaVuSerif.ttf
CJK=/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
for f in "$SANS" "$BOLD" "$MONO" "$SERIF"; do
    [ -r "$f" ] || { echo "make-corpus: missing font '$f'" \
        "(Debian package fonts-dejavu-core)" >&2; exit 1; }
done
[ -r "$CJK" ] || CJK=$SANS              # CJK lines then show as boxes

# Texts to draw: the GPL (base-files) and a C header (libpng-dev, a build
# dependency); this script itself when either is missing.
PROSE=/usr/share/common-licenses/GPL-3
CODE=/usr/include/png.h
[ -r "$PROSE" ] || PROSE=$0
[ -r "$CODE" ] || CODE=$0

sig="corpus-v1 $(cksum < "$0" | cut -d' ' -f1)"
if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$sig" ] &&
   [ -f "$dir/.complete" ]; then
    echo "make-corpus: '$dir' up to date"
    exit 0
fi
if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" != "$sig" ]; then
    rm -f "$dir"/*.png "$dir/.complete"
fi
mkdir -p "$dir"
echo "$sig" > "$dir/.stamp"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# img NAME ARGS...: convert ARGS into DIR/NAME.png (8-bit RGB), unless
# already there.  Written to a temporary file first: an interrupted run
# leaves no half image behind.
img() {
    name=$1
    shift
    [ -s "$dir/$name.png" ] && return 0
    echo "  $name"
    "$CONVERT" "$@" -alpha off -colorspace sRGB -type TrueColor -depth 8 \
        -strip "PNG24:$tmp/out.png"
    mv "$tmp/out.png" "$dir/$name.png"
}

# --- MVG scenes, written by awk (layout varies with a small LCG, so the
# --- same on every awk) ------------------------------------------------

# A dark code editor: title bar, file tree, gutter, coloured source lines.
mvg_code() {
    awk -v W="$1" -v H="$2" -v MONO="$MONO" -v SANS="$SANS" '
    function q(s) { gsub(/[\\\047"%{}]/, "", s); return s }
    BEGIN {
        printf "viewbox 0 0 %d %d\n", W, H
        printf "fill \047#1e1e1e\047 rectangle 0,0 %d,%d\n", W, H
        printf "fill \047#3c3c3c\047 rectangle 0,0 %d,30\n", W
        printf "fill \047#252526\047 rectangle 0,30 250,%d\n", H
        printf "fill \047#007acc\047 rectangle 0,%d %d,%d\n", H - 22, W, H
        printf "fill \047#2d2d2d\047 rectangle 250,30 %d,62\n", W
        printf "fill \047#1e1e1e\047 rectangle 252,32 420,62\n"
        printf "font \047%s\047 font-size 13\n", SANS
        printf "fill \047#cccccc\047 text 12,20 \047png.h - libpng - Editor\047\n"
        printf "fill \047#ffffff\047 text 270,52 \047png.h\047\n"
        printf "fill \047#ffffff\047 text 10,%d \047main*  Ln 1, Col 1  UTF-8  C\047\n", H - 6
        split("include libmark container core label payload signal visible tests unit api tools samples man bench build docs scripts src", t, " ")
        for (i = 1; i <= 20 && 50 + i * 24 < H - 30; i++)
            printf "fill \047#%s\047 text %d,%d \047%s\047\n",
                   i % 5 == 1 ? "e8e8e8" : "bbbbbb", 18 + (i % 3) * 14,
                   50 + i * 24, t[i]
        printf "font \047%s\047 font-size 15\n", MONO
        y = 86
    }
    {
        if (y > H - 30) exit
        line = $0
        gsub(/\t/, "    ", line)
        line = substr(q(line), 1, int((W - 330) / 9))
        c = "d4d4d4"
        if (line ~ /^#/) c = "c586c0"
        else if (line ~ /\/\*|^ \*/) c = "6a9955"
        else if (line ~ /png_|int |char |void /) c = "9cdcfe"
        else if (line ~ /"|[0-9]/) c = "ce9178"
        printf "fill \047#858585\047 text 262,%d \047%5d\047\n", y, NR
        if (line != "")
            printf "fill \047#%s\047 text 320,%d \047%s\047\n", c, y, line
        y += 20
    }' "$CODE"
}

# A light web page / document: header, navigation, wrapped paragraphs,
# side cards and buttons.
mvg_doc() {
    awk -v W="$1" -v H="$2" -v SANS="$SANS" -v BOLD="$BOLD" '
    function q(s) { gsub(/[\\\047"%{}]/, "", s); return s }
    function flush() {
        if (cur == "" || y > H - 40) { cur = ""; return }
        printf "text 40,%d \047%s\047\n", y, q(cur); y += 22; cur = ""
    }
    BEGIN {
        printf "viewbox 0 0 %d %d\n", W, H
        printf "fill \047#fafafa\047 rectangle 0,0 %d,%d\n", W, H
        printf "fill \047#24292e\047 rectangle 0,0 %d,56\n", W
        printf "font \047%s\047 font-size 22 fill white text 24,36 \047Project documentation\047\n", BOLD
        printf "font \047%s\047 font-size 15\n", SANS
        split("Home Docs Download Issues Community About", nav, " ")
        for (i = 1; i <= 6; i++)
            printf "fill \047#e1e4e8\047 text %d,35 \047%s\047\n", W - 640 + i * 100, nav[i]
        cw = int(W * 0.62)                      # text column
        maxc = int((cw - 60) / 8.2)
        printf "fill white stroke \047#d0d7de\047 rectangle %d,90 %d,%d stroke none\n", cw + 20, W - 30, H - 40
        for (i = 0; i < 6 && 140 + i * 150 < H - 80; i++) {
            yy = 120 + i * 150
            printf "fill \047#%s\047 roundrectangle %d,%d %d,%d 8,8\n",
                   i % 2 ? "ddf4ff" : "fff8c5", cw + 40, yy, W - 50, yy + 120
            printf "font \047%s\047 font-size 17 fill \047#1f2328\047 text %d,%d \047Card %d: release notes\047\n", BOLD, cw + 60, yy + 34, i + 1
            printf "font \047%s\047 font-size 14 fill \047#57606a\047 text %d,%d \047Updated %d days ago by maintainer%d\047\n", SANS, cw + 60, yy + 62, 3 + i * 4, i
            printf "fill \047#2da44e\047 roundrectangle %d,%d %d,%d 6,6\n", cw + 60, yy + 78, cw + 170, yy + 108
            printf "fill white text %d,%d \047Open\047\n", cw + 94, yy + 99
        }
        printf "font \047%s\047 font-size 15 fill \047#1f2328\047\n", SANS
        y = 110; cur = ""; para = 0
    }
    {
        if (y > H - 40) exit
        if ($0 ~ /^[ \t]*$/) {
            flush(); y += 10; para++
            if (para % 7 == 3 && y < H - 80) {
                printf "font \047%s\047 font-size 20 text 40,%d \047Section %d\047 font \047%s\047 font-size 15\n", BOLD, y + 12, para, SANS
                y += 36
            }
            next
        }
        for (i = 1; i <= NF; i++) {
            if (length(cur) + length($i) + 1 > maxc) flush()
            cur = cur == "" ? $i : cur " " $i
        }
    }' "$PROSE"
}

# A spreadsheet: grid, header row and column, numbers.
mvg_sheet() {
    awk -v W="$1" -v H="$2" -v SANS="$SANS" -v BOLD="$BOLD" 'BEGIN {
        printf "viewbox 0 0 %d %d\n", W, H
        printf "fill white rectangle 0,0 %d,%d\n", W, H
        printf "fill \047#217346\047 rectangle 0,0 %d,40\n", W
        printf "font \047%s\047 font-size 18 fill white text 16,27 \047Quarterly figures.xlsx\047\n", BOLD
        printf "fill \047#f3f3f3\047 rectangle 0,40 %d,100\n", W
        printf "fill \047#e6e6e6\047 rectangle 0,100 %d,124\n", W
        printf "fill \047#e6e6e6\047 rectangle 0,100 50,%d\n", H
        printf "font \047%s\047 font-size 13\n", SANS
        split("File Home Insert Layout Formulas Data Review View", m, " ")
        for (i = 1; i <= 8; i++)
            printf "fill \047#333333\047 text %d,76 \047%s\047\n", 20 + (i - 1) * 90, m[i]
        cw = 110; rh = 24; v = 12345
        printf "stroke \047#d4d4d4\047 stroke-width 1\n"
        for (x = 50; x < W; x += cw) printf "line %d,100 %d,%d\n", x, x, H
        for (y = 124; y < H; y += rh) printf "line 0,%d %d,%d\n", y, W, y
        printf "stroke none fill \047#333333\047\n"
        for (c = 0; 50 + c * cw < W; c++)
            printf "text %d,117 \047%c\047\n", 50 + c * cw + 50, 65 + c % 26
        for (r = 0; 124 + r * rh < H; r++) {
            printf "text 12,%d \047%d\047\n", 141 + r * rh, r + 1
            for (c = 0; 50 + c * cw < W - cw; c++) {
                v = (v * 1103 + 12345) % 65536
                if (r % 9 == 0)
                    printf "text %d,%d \047Item %d\047\n", 56 + c * cw, 141 + r * rh, v % 997
                else if (v % 11 != 0)
                    printf "text %d,%d \047%10.2f\047\n", 50 + c * cw + 4, 141 + r * rh, (v % 40000) / 7.0
            }
        }
    }'
}

# A phone chat: status bar, bubbles with Latin and CJK lines.
mvg_chat() {
    awk -v W="$1" -v H="$2" -v SANS="$SANS" -v CJK="$CJK" 'BEGIN {
        n = split("Are we still meeting at six?|会議は六時からです、資料を持ってきてください。|Sure, I will bring the printed report|我们今天晚上七点在车站见面吧|The photos from the trip are online now|사진 잘 받았어요, 고마워요!|Can you send the spreadsheet again?|新しいバージョンを確認しました。問題ありません。|OK see you there|好的，明天见！", msg, "|")
        printf "viewbox 0 0 %d %d\n", W, H
        printf "fill \047#ece5dd\047 rectangle 0,0 %d,%d\n", W, H
        printf "fill \047#075e54\047 rectangle 0,0 %d,110\n", W
        printf "fill \047#cccccc\047 circle 60,68 60,40\n"
        printf "font \047%s\047 font-size 26 fill white text 110,78 \047Family group\047\n", SANS
        printf "fill white rectangle 0,%d %d,%d\n", H - 90, W, H
        printf "fill \047#f0f0f0\047 roundrectangle 20,%d %d,%d 30,30\n", H - 75, W - 100, H - 15
        printf "fill \047#128c7e\047 circle %d,%d %d,%d\n", W - 50, H - 45, W - 50, H - 15
        y = 140; i = 0
        while (y < H - 200) {
            t = msg[i % n + 1]; right = i % 3 == 1
            len = length(t) * (t ~ /^[A-Za-z]/ ? 13 : 14)
            if (len > W - 160) len = W - 160
            x0 = right ? W - 40 - len - 30 : 30
            printf "fill \047#%s\047 roundrectangle %d,%d %d,%d 14,14\n", right ? "dcf8c6" : "ffffff", x0, y, x0 + len + 30, y + 70
            printf "font \047%s\047 font-size 24 fill \047#111111\047 text %d,%d \047%s\047\n", CJK, x0 + 15, y + 36, t
            printf "font \047%s\047 font-size 14 fill \047#888888\047 text %d,%d \04718:%02d\047\n", SANS, x0 + len - 20, y + 62, (i * 7) % 60
            y += 95; i++
        }
    }'
}

# A printed page: serif text, justified by word spacing, two headings.
mvg_page() {
    awk -v W="$1" -v H="$2" -v SERIF="$SERIF" -v BOLD="$BOLD" '
    function q(s) { gsub(/[\\\047"%{}]/, "", s); return s }
    function flush() {
        if (cur != "" && y < H - 160)
            printf "text 150,%d \047%s\047\n", y, q(cur)
        if (cur != "") y += 34
        cur = ""
    }
    BEGIN {
        printf "viewbox 0 0 %d %d\n", W, H
        printf "fill \047#fbf8f0\047 rectangle 0,0 %d,%d\n", W, H
        printf "font \047%s\047 font-size 40 fill \047#111111\047 text 150,220 \047GNU General Public License\047\n", BOLD
        printf "font \047%s\047 font-size 24 fill \047#222222\047\n", SERIF
        y = 300; cur = ""; maxc = int((W - 300) / 12.5)
    }
    NR > 6 {
        if (y > H - 160) exit
        if ($0 ~ /^[ \t]*$/) { flush(); y += 16; next }
        for (i = 1; i <= NF; i++) {
            if (length(cur) + length($i) + 1 > maxc) flush()
            cur = cur == "" ? $i : cur " " $i
        }
    }
    END { printf "font-size 20 text %d,%d \047- 1 -\047\n", W / 2 - 20, H - 80 }' "$PROSE"
}

# A bar chart with axes, grid and labels.
mvg_chart() {
    awk -v W="$1" -v H="$2" -v SANS="$SANS" -v BOLD="$BOLD" 'BEGIN {
        printf "viewbox 0 0 %d %d\n", W, H
        printf "fill white rectangle 0,0 %d,%d\n", W, H
        printf "font \047%s\047 font-size 30 fill \047#222222\047 text 100,60 \047Downloads per month\047\n", BOLD
        printf "font \047%s\047 font-size 16\n", SANS
        x0 = 100; y0 = H - 100; x1 = W - 60; y1 = 110
        printf "stroke \047#dddddd\047 stroke-width 1\n"
        for (k = 0; k <= 8; k++) {
            yy = y0 - k * (y0 - y1) / 8
            printf "line %d,%d %d,%d\n", x0, yy, x1, yy
        }
        printf "stroke none fill \047#555555\047\n"
        for (k = 0; k <= 8; k++)
            printf "text 40,%d \047%d\047\n", y0 - k * (y0 - y1) / 8 + 5, k * 250
        split("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec", mo, " ")
        split("4e79a7 f28e2b e15759 76b7b2 59a14f edc948", col, " ")
        bw = (x1 - x0) / 12; v = 777
        for (k = 0; k < 12; k++) {
            v = (v * 1103 + 12345) % 65536
            hgt = (0.25 + 0.7 * (v % 1000) / 1000) * (y0 - y1)
            printf "fill \047#%s\047 rectangle %d,%d %d,%d\n", col[k % 6 + 1], x0 + k * bw + 10, y0 - hgt, x0 + (k + 1) * bw - 10, y0
            printf "fill \047#333333\047 text %d,%d \047%s\047\n", x0 + k * bw + bw / 2 - 15, y0 + 30, mo[k + 1]
            printf "text %d,%d \047%d\047\n", x0 + k * bw + bw / 2 - 18, y0 - hgt - 10, hgt * 2000 / (y0 - y1)
        }
        printf "stroke \047#222222\047 stroke-width 2 line %d,%d %d,%d line %d,%d %d,%d\n", x0, y0, x1, y0, x0, y0, x0, y1
    }'
}

# scene NAME W H GENERATOR [ARGS...]: draw a generated MVG, then ARGS
scene() {
    sn=$1 sw=$2 sh=$3 sg=$4
    shift 4
    [ -s "$dir/$sn.png" ] && return 0
    "$sg" "$sw" "$sh" > "$tmp/scene.mvg"
    img "$sn" -size "${sw}x$sh" "mvg:$tmp/scene.mvg" "$@"
}

echo "make-corpus: building '$dir'"

# --- photo-like: plasma fractals, blurred, graded, vignetted, with grain
# (the vignette: a radial gradient multiplied in)
img photo-hills-1920x1080 -size 1920x1080 \
    \( gradient:'#6fa8dc'-'#dde8f0' -crop 1920x430+0+0 \) \
    \( -seed 11 plasma:'#3b5e2b'-'#8a7a3a' -resize 1920x650! -blur 0x1.5 \) \
    -append +repage \
    \( -size 1920x1080 radial-gradient:white-'#555555' \) \
    -compose multiply -composite -seed 12 -attenuate 0.4 +noise Gaussian
img photo-plasma-3000x2000 -seed 23 -size 3000x2000 plasma:fractal \
    -blur 0x5 -modulate 100,60 \
    \( -size 3000x2000 radial-gradient:white-'#404040' \) \
    -compose multiply -composite -seed 24 -attenuate 0.5 +noise Gaussian
img photo-wide-4096x2304 -seed 41 -size 4096x2304 plasma:fractal \
    -blur 0x3 -modulate 105,75 -sigmoidal-contrast 3x50% \
    \( -size 4096x2304 radial-gradient:white-'#505050' \) \
    -compose multiply -composite -seed 42 -attenuate 0.3 +noise Gaussian
img photo-portrait-1080x1920 -seed 37 -size 1080x1920 \
    plasma:'#d9a066'-'#5b3a29' -blur 0x12 \
    -fill '#2a1d18' -draw 'ellipse 540,1150 300,520 0,360' \
    -fill '#c99a78' -draw 'ellipse 540,620 190,240 0,360' -blur 0x4 \
    -seed 38 -attenuate 0.6 +noise Gaussian
img photo-night-1920x1080 -seed 51 -size 1920x1080 plasma:fractal \
    -blur 0x6 -evaluate multiply 0.25 \
    -fill '#ffd27f' -draw 'circle 300,700 318,700' \
    -draw 'circle 900,640 914,640' -draw 'circle 1500,720 1526,720' \
    -fill '#9fd0ff' -draw 'circle 1200,300 1206,300' -blur 0x3 \
    -seed 52 -attenuate 0.8 +noise Gaussian
img photo-foliage-2048x1536 -seed 61 -size 2048x1536 \
    plasma:'#1e4d12'-'#a8c94a' -sharpen 0x2 -modulate 95,120 \
    -seed 62 -attenuate 0.3 +noise Gaussian
img photo-sky-1024x768 -size 1024x768 gradient:'#3d7cc9'-'#cfe3f6' \
    \( -seed 71 -size 1024x768 plasma:gray50-gray50 -colorspace Gray \
       -blur 0x16 -auto-level -level 40%,100% \) \
    -compose screen -composite -seed 72 -attenuate 0.2 +noise Gaussian
img photo-phone-1536x2048 -seed 81 -size 1536x2048 plasma:fractal \
    -blur 0x8 -modulate 100,45 \
    -fill '#f0f0f0' -draw 'rectangle 300,900 1236,1500' -blur 0x2 \
    \( -size 1536x2048 radial-gradient:white-'#606060' \) \
    -compose multiply -composite -seed 82 -attenuate 0.5 +noise Gaussian

# --- art-like: swirl, implode, oil paint, charcoal
img art-swirl-1024x1024 -seed 91 -size 1024x1024 plasma:fractal \
    -blur 0x1 -swirl 300
img art-implode-800x600 -seed 92 -size 800x600 plasma:fractal \
    -implode 0.7 -modulate 100,140
img art-oil-1024x768 -seed 93 -size 1024x768 plasma:fractal -blur 0x2 \
    -paint 4
img art-charcoal-1200x1600 -seed 94 -size 1200x1600 plasma:fractal \
    -blur 0x3 -charcoal 2

# --- text-heavy screenshots and a printed page
scene text-code-1920x1080 1920 1080 mvg_code
scene text-web-1280x800 1280 800 mvg_doc
scene text-web-2560x1440 2560 1440 mvg_doc
scene text-sheet-1600x900 1600 900 mvg_sheet
scene text-chat-720x1280 720 1280 mvg_chat
scene text-page-1654x2339 1654 2339 mvg_page -blur 0x0.5 \
    -seed 101 -attenuate 0.3 +noise Gaussian

# --- flat graphics and logos
img flat-logo-512x512 -size 512x512 xc:white \
    -fill '#e4572e' -draw 'circle 256,220 256,70' \
    -fill white -draw 'circle 256,220 256,120' \
    -fill '#29335c' -draw 'polygon 176,300 256,120 336,300' \
    -font "$BOLD" -pointsize 64 -fill '#29335c' \
    -gravity south -annotate +0+40 'AIMARK'
img flat-poster-1920x1080 -size 1920x1080 xc:'#f4d35e' \
    -fill '#0d3b66' -draw 'rectangle 0,0 700,1080' \
    -fill '#ee964b' -draw 'circle 1350,540 1350,200' \
    -fill '#f95738' -draw 'rectangle 1100,800 1920,1080' \
    -font "$BOLD" -pointsize 120 -fill '#faf0ca' \
    -annotate +80+400 'OPEN' -annotate +80+560 'DAY' \
    -pointsize 48 -annotate +80+700 'Saturday 10:00'
scene flat-chart-1200x900 1200 900 mvg_chart

# --- gradients and shapes
img shapes-gradient-1024x768 -size 1024x768 \
    gradient:'#0a3d62'-'#f8c291' \
    -fill '#e55039' -draw 'circle 300,300 300,150' \
    -fill '#4a69bd' -draw 'rectangle 550,200 900,600' \
    -fill '#78e08f' -draw 'polygon 100,700 400,450 700,700' \
    -stroke white -strokewidth 6 -fill none \
    -draw 'roundrectangle 40,40 984,728 30,30'
img shapes-radial-2048x1536 -size 2048x1536 \
    radial-gradient:'#fefefe'-'#2c3e50' \
    -fill '#c0392b80' -draw 'circle 600,500 600,150' \
    -fill '#27ae6080' -draw 'circle 1000,800 1000,400' \
    -fill '#2980b980' -draw 'circle 1400,500 1400,150' \
    -stroke '#111111' -strokewidth 10 -fill none \
    -draw 'ellipse 1024,768 900,600 0,360' \
    -draw 'line 0,1536 2048,0' -draw 'bezier 0,200 800,1500 1300,0 2048,1300'

# --- noise textures
img texture-noise-512x512 -seed 111 -size 512x512 xc:gray50 \
    +noise Random -blur 0x1 -normalize
img texture-clouds-1600x1200 -seed 112 -size 1600x1200 xc:gray50 \
    +noise Random -virtual-pixel tile -blur 0x14 -auto-level \
    +level-colors '#2b1b0e','#e9c46a'
img texture-brushed-800x600 -seed 113 -size 800x600 xc:gray60 \
    +noise Gaussian -motion-blur 0x25+30 -auto-level -modulate 100,0

# --- a meme: photo-like picture with a stroked caption
img photo-meme-1024x1024 -seed 121 -size 1024x1024 plasma:fractal \
    -blur 0x4 -font "$BOLD" -pointsize 84 -fill white -stroke black \
    -strokewidth 4 -gravity north -annotate +0+30 'WHEN THE BUILD' \
    -gravity south -annotate +0+30 'PASSES FIRST TIME'

# --- images from installed Debian packages (CORPUS.md: licences); each
# --- skipped when its package is not installed
deb() {                                    # deb NAME FILE
    if [ -r "$2" ]; then
        img "$1" "$2" -background white -alpha remove
    else
        echo "  $1: '$2' not installed, skipped"
    fi
}
deb debian-valgrind-dh-tree /usr/share/doc/valgrind/html/images/dh-tree.png
deb debian-valgrind-kcachegrind \
    /usr/share/doc/valgrind/html/images/kcachegrind_xtree.png
deb debian-gnupg-overview /usr/share/info/gnupg-module-overview.png
deb debian-adwaita-image-icon \
    /usr/share/icons/Adwaita/512x512/mimetypes/image-x-generic.png

touch "$dir/.complete"
n=0
for f in "$dir"/*.png; do n=$((n + 1)); done
echo "make-corpus: $n images in '$dir'"
