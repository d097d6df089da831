#!/bin/sh
# make-audio-corpus.sh DIR - the audio corpus of `make robustness-audio`
# (issue 5).
#
# Speech from espeak-ng (several voices and languages) made less
# synthetic with EQ and a little room reverb, music from SoX's `synth`
# (plucked chords, arpeggios, piano-like decays, a drum pattern from
# noise bursts, a sustained pad, a small band), speech over music,
# speech with long quiet and with digitally silent gaps, and one long
# file (80 s) for the excerpt tests.  SoX runs with -R (its repeatable
# random numbers) and -D (no dither, so digital silence stays zero), so
# the corpus is the same on every run with the same SoX and espeak-ng.
# Every file is a 16-bit PCM WAV, 12 to 80 s; most are 44.1 kHz stereo,
# a few 48 kHz stereo, one 16 kHz mono.  The name's first word is its
# kind (speech, music, mixed, silence, long); AUDIO-CORPUS.md has the
# list and the origins of the texts.
#
# Clips are made only when missing: DIR/.stamp holds a checksum of this
# script, and a changed script starts the corpus again.
set -eu

dir=${1:?usage: make-audio-corpus.sh DIR}
SOX=${SOX:-sox}
ESPEAK=${ESPEAK:-espeak-ng}
for t in "$SOX" "$ESPEAK"; do
    command -v "$t" >/dev/null 2>&1 || {
        echo "make-audio-corpus: '$t' not found (Debian packages sox," \
            "espeak-ng)" >&2
        exit 1
    }
done

# English prose to speak: the GPL (base-files), this script when missing.
PROSE=/usr/share/common-licenses/GPL-3
[ -r "$PROSE" ] || PROSE=$0

sig="audio-corpus-v1 $(cksum < "$0" | cut -d' ' -f1)"
if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$sig" ] &&
   [ -f "$dir/.complete" ]; then
    echo "make-audio-corpus: '$dir' up to date"
    exit 0
fi
if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" != "$sig" ]; then
    rm -f "$dir"/*.wav "$dir/.complete"
fi
mkdir -p "$dir"
echo "$sig" > "$dir/.stamp"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

sx() { "$SOX" -R -D -V1 "$@"; }

# --- building blocks (all into $tmp) -----------------------------------

# say NAME VOICE SPEED PITCH TEXT: espeak-ng speech, 22.05 kHz mono, at
# $tmp/NAME.wav, made a little less synthetic: a gentle EQ, a slight
# room (short reverb, mostly dry) and a high-pass against rumble.
say() {
    "$ESPEAK" -v "$2" -s "$3" -p "$4" -w "$tmp/$1.raw.wav" "$5"
    sx "$tmp/$1.raw.wav" -r 44100 "$tmp/$1.wav" highpass 80 \
        equalizer 200 1q +2 equalizer 3000 1.5q +3 treble -2 8000 \
        reverb 25 50 30 100 5 -6
}

# note NAME RATE DUR SYNTH...: a mono note, $tmp/NAME.wav
note() {
    nn=$1 nr=$2 nd=$3
    shift 3
    sx -r "$nr" -c 1 -n "$tmp/$nn.wav" synth "$nd" "$@"
}

# chord NAME RATE DUR NOTES...: plucked notes mixed, with a slow fade
chord() {
    cn=$1 cr=$2 cd=$3
    shift 3
    cs=""
    for c in "$@"; do cs="$cs pluck $c"; done
    # shellcheck disable=SC2086
    sx -r "$cr" -c $# -n "$tmp/$cn.wav" synth "$cd" $cs remix - \
        fade q 0.005 "$cd" 0.3
}

# hz NOTE: the frequency of a note name (C4 = 261.63 Hz; sharps as C#4)
hz() {
    echo "$1" | awk '{
        n = index("C D EF G A B", substr($1, 1, 1)) - 1
        if (substr($1, 2, 1) == "#") n++
        o = substr($1, length($1), 1) + 0
        printf "%.3f\n", 440 * 2 ^ ((n - 9) / 12 + (o - 4))
    }'
}

# piano NAME RATE DUR NOTE: a struck-string-like tone: a plucked
# fundamental, a sine on it and two partials (the second slightly
# sharp, as a stiff string's), a fast attack and a long decay
piano() {
    f=$(hz "$4")
    sx -r "$2" -c 4 -n "$tmp/$1.wav" synth "$3" pluck "$f" sine "$f" \
        sine "$(echo "$f" | awk '{ print 2.003 * $1 }')" \
        sine "$(echo "$f" | awk '{ print 3.01 * $1 }')" \
        remix 1v0.5,2v0.3,3v0.12,4v0.05 \
        fade l 0.003 "$3" "$(echo "$3" | awk '{ print $1 - 0.02 }')"
}

# stereo OUT LEFT RIGHT: two mono files as one stereo file
stereo() { sx -M "$2" "$3" "$1"; }

# widen IN OUT: mono to stereo, the right channel 11 ms later and a
# little darker, so the two channels differ
widen() {
    sx "$1" "$tmp/w.l.wav" remix 1
    sx "$1" "$tmp/w.r.wav" remix 1 pad 0.011 0 treble -3 reverse \
        trim 0.011 reverse
    stereo "$2" "$tmp/w.l.wav" "$tmp/w.r.wav"
}

# fit IN OUT SECONDS: cut or pad with silence to exactly SECONDS
fit() { sx "$1" "$2" pad 0 "$3" trim 0 "$3"; }

# put NAME IN RATE CHANNELS PEAK-DB: the finished clip, resampled,
# normalised to a peak of PEAK-DB dBFS, 16-bit, into DIR
put() {
    echo "  $1"
    sx "$2" -r "$3" -c "$4" -b 16 "$tmp/out.wav" gain -n "$5"
    mv "$tmp/out.wav" "$dir/$1.wav"
}

# need NAME: whether clip NAME is still to be made
need() { [ ! -s "$dir/$1.wav" ]; }

# --- the texts ---------------------------------------------------------

# English: the GPL's preamble, lines 7 on (base-files)
gpl() { sed -n "$1p" "$PROSE" | tr -s ' \n' '  '; }
EN1=$(gpl 8,22)
EN2=$(gpl 23,40)
# Written for this script:
CMN1="我们今天晚上七点在车站见面吧。明天的天气很好，我们可以去公园散步。\
这个周末你有时间吗？我想请你吃饭，顺便聊聊新的项目。"
CMN2="各位听众朋友，大家好。欢迎收听今天的新闻节目。\
今天上午，市里举行了科技展览会，很多人参观了新的机器人和电动汽车。"
DE1="Guten Morgen und herzlich willkommen. Heute sprechen wir über das \
Wetter in den Bergen, über den Zug nach Berlin und über die neue \
Bibliothek am Marktplatz, die seit Montag geöffnet ist. Am Abend spielt \
das Orchester im Park, der Eintritt ist frei."
FR1="Bonjour à tous. Ce matin, le marché est plein de fruits et de \
légumes. Les enfants jouent dans le parc pendant que les parents \
prennent un café sur la terrasse. Dans l'après-midi, il va pleuvoir un \
peu, alors n'oubliez pas votre parapluie."
ES1="Buenas tardes. El tren sale a las seis y media de la estación \
central. Por favor, lleven sus billetes y no olviden el equipaje."

echo "make-audio-corpus: building '$dir'"

# --- speech ------------------------------------------------------------

if need speech-en-44k; then
    say en1 en-us 165 45 "$EN1"
    widen "$tmp/en1.wav" "$tmp/en1s.wav"
    fit "$tmp/en1s.wav" "$tmp/c.wav" 22
    put speech-en-44k "$tmp/c.wav" 44100 2 -1
fi
if need speech-cmn-44k; then
    say cmn1 cmn+f3 150 55 "$CMN1"
    widen "$tmp/cmn1.wav" "$tmp/cmn1s.wav"
    fit "$tmp/cmn1s.wav" "$tmp/c.wav" 20
    put speech-cmn-44k "$tmp/c.wav" 44100 2 -2
fi
if need speech-cmn-news-44k; then
    say cmn2 cmn 160 40 "$CMN2"
    widen "$tmp/cmn2.wav" "$tmp/cmn2s.wav"
    fit "$tmp/cmn2s.wav" "$tmp/c.wav" 18
    put speech-cmn-news-44k "$tmp/c.wav" 44100 2 -3
fi
if need speech-de-48k; then
    say de1 de+m3 150 40 "$DE1"
    widen "$tmp/de1.wav" "$tmp/de1s.wav"
    fit "$tmp/de1s.wav" "$tmp/c.wav" 15
    put speech-de-48k "$tmp/c.wav" 48000 2 -1
fi
if need speech-fr-16k-mono; then
    say fr1 fr+f2 155 60 "$FR1"
    fit "$tmp/fr1.wav" "$tmp/c.wav" 14
    put speech-fr-16k-mono "$tmp/c.wav" 16000 1 -3
fi

# --- music -------------------------------------------------------------

R=44100
# plucked chords, two bars each of C, Am, F, G (2 s a chord), 16 s
if need music-chords-44k; then
    chord c1 $R 2 C3 E3 G3 C4
    chord c2 $R 2 A2 E3 A3 C4
    chord c3 $R 2 F2 C3 F3 A3
    chord c4 $R 2 G2 D3 G3 B3
    sx "$tmp/c1.wav" "$tmp/c2.wav" "$tmp/c3.wav" "$tmp/c4.wav" \
       "$tmp/c1.wav" "$tmp/c2.wav" "$tmp/c3.wav" "$tmp/c4.wav" \
       "$tmp/ch.wav" reverb 40 50 70
    sx "$tmp/ch.wav" "$tmp/chs.wav" remix 1 1 reverb 30 50 80 100 10 \
        -3 channels 2
    fit "$tmp/chs.wav" "$tmp/c.wav" 16
    put music-chords-44k "$tmp/c.wav" 44100 2 -1
fi

# an arpeggio, eighth notes at 140 bpm over four chords, 18 s
if need music-arpeggio-44k; then
    : > "$tmp/list"
    for ch in "C4 E4 G4 C5" "A3 C4 E4 A4" "F3 A3 C4 F4" "G3 B3 D4 G4"; do
        for rep in 1 2 3 4 5; do
            for n in $ch; do
                [ -s "$tmp/a$n.wav" ] ||
                    note "a$n" $R 0.2143 pluck "$n" fade q 0.003 0.2143 0.05
                echo "$tmp/a$n.wav" >> "$tmp/list"
            done
        done
    done
    # shellcheck disable=SC2046
    sx $(cat "$tmp/list") "$tmp/arp.wav" echo 0.8 0.7 214 0.3 \
        reverb 30
    widen "$tmp/arp.wav" "$tmp/arps.wav"
    fit "$tmp/arps.wav" "$tmp/c.wav" 18
    put music-arpeggio-44k "$tmp/c.wav" 44100 2 -1
fi

# a drum pattern at 120 bpm: kick (a falling sine), snare and hi-hat
# (noise bursts), sixteenth-note steps of 0.125 s; 14 s
drums() {                                  # drums RATE STEPS OUT
    note kick "$1" 0.125 sine 150:45 fade q 0.001 0.125 0.1 gain -2
    note snare "$1" 0.125 whitenoise highpass 900 lowpass 6000 \
        fade q 0.001 0.125 0.11 gain -6
    note hat "$1" 0.04 whitenoise highpass 7000 fade q 0.001 0.04 0.035 \
        pad 0 0.085 gain -12
    note rest "$1" 0.125 sine 100 gain -200
    : > "$tmp/lk"; : > "$tmp/ls"; : > "$tmp/lh"
    s=0
    while [ $s -lt "$2" ]; do
        b=$((s % 16))
        case $b in 0|6|8|10) echo "$tmp/kick.wav";; *) echo "$tmp/rest.wav";;
        esac >> "$tmp/lk"
        case $b in 4|12|15) echo "$tmp/snare.wav";; *) echo "$tmp/rest.wav";;
        esac >> "$tmp/ls"
        case $b in 0|2|4|6|8|10|12|14|7) echo "$tmp/hat.wav";;
                   *) echo "$tmp/rest.wav";; esac >> "$tmp/lh"
        s=$((s + 1))
    done
    # shellcheck disable=SC2046
    sx $(cat "$tmp/lk") "$tmp/dk.wav"
    # shellcheck disable=SC2046
    sx $(cat "$tmp/ls") "$tmp/ds.wav"
    # shellcheck disable=SC2046
    sx $(cat "$tmp/lh") "$tmp/dh.wav"
    sx -m "$tmp/dk.wav" "$tmp/ds.wav" "$tmp/dh.wav" "$3" gain 6 \
        reverb 20 50 30
}
if need music-drums-44k; then
    drums $R 112 "$tmp/dr.wav"
    widen "$tmp/dr.wav" "$tmp/drs.wav"
    fit "$tmp/drs.wav" "$tmp/c.wav" 14
    put music-drums-44k "$tmp/c.wav" 44100 2 -1
fi

# a sustained pad (sawtooth chords, low-passed, chorus, tremolo, long
# reverb), quiet: peak -18 dBFS; 48 kHz, 24 s
if need music-pad-48k; then
    sx -r 48000 -c 4 -n "$tmp/p1.wav" synth 12 sawtooth A2 sawtooth E3 \
        sawtooth A3 sawtooth C4 remix - lowpass 1200 fade h 2 12 3
    sx -r 48000 -c 4 -n "$tmp/p2.wav" synth 12 sawtooth F2 sawtooth C3 \
        sawtooth F3 sawtooth A3 remix - lowpass 1200 fade h 2 12 3
    sx "$tmp/p1.wav" "$tmp/p2.wav" "$tmp/pad.wav" \
        chorus 0.6 0.9 50 0.4 0.25 2 -t tremolo 0.3 30 reverb 80
    sx "$tmp/pad.wav" "$tmp/pads.wav" remix 1 1 reverb 60 50 100 100 20 \
        channels 2
    fit "$tmp/pads.wav" "$tmp/c.wav" 24
    put music-pad-48k "$tmp/c.wav" 48000 2 -18
fi

# piano-like: a slow melody of struck notes with long decays, 20 s
if need music-piano-44k; then
    : > "$tmp/list"
    for n in E4:1 G4:0.5 A4:0.5 C5:1.5 B4:0.5 A4:1 G4:1 E4:2 D4:1 E4:0.5 \
             G4:0.5 A4:1.5 G4:0.5 E4:1 D4:1 C4:3; do
        p=${n%:*} d=${n#*:}
        [ -s "$tmp/p$p$d.wav" ] || piano "p$p$d" $R "$d" "$p"
        echo "$tmp/p$p$d.wav" >> "$tmp/list"
    done
    # shellcheck disable=SC2046
    sx $(cat "$tmp/list") "$tmp/mel.wav"
    chord pb1 $R 4 C3 G3
    chord pb2 $R 4 A2 E3
    chord pb3 $R 4 F2 C3
    chord pb4 $R 5 G2 D3
    sx "$tmp/pb1.wav" "$tmp/pb2.wav" "$tmp/pb3.wav" "$tmp/pb4.wav" \
        "$tmp/pb1.wav" "$tmp/bass.wav" vol 0.5
    sx -m "$tmp/mel.wav" "$tmp/bass.wav" "$tmp/pi.wav" reverb 50 50 90
    widen "$tmp/pi.wav" "$tmp/pis.wav"
    fit "$tmp/pis.wav" "$tmp/c.wav" 20
    put music-piano-44k "$tmp/c.wav" 44100 2 -2
fi

# a small band: drums, a square-wave bass line and plucked chords, 25 s
band() {                                   # band RATE SECONDS OUT
    drums "$1" $(($2 * 8)) "$tmp/bd.wav"
    : > "$tmp/list"
    k=0
    while [ $k -le $(($2 / 4)) ]; do
        for b in C2 C2 C3 C2 A1 A1 A2 A1 F1 F1 F2 F1 G1 G1 G2 B1; do
            [ -s "$tmp/b$b.wav" ] ||
                note "b$b" "$1" 0.25 square "$b" lowpass 600 \
                    fade q 0.005 0.25 0.08 gain -8
            echo "$tmp/b$b.wav" >> "$tmp/list"
        done
        k=$((k + 1))
    done
    # shellcheck disable=SC2046
    sx $(cat "$tmp/list") "$tmp/bb.wav"
    chord bc1 "$1" 1 C3 E3 G3
    chord bc2 "$1" 1 A2 C3 E3
    chord bc3 "$1" 1 F2 A2 C3
    chord bc4 "$1" 1 G2 B2 D3
    : > "$tmp/list"
    k=0
    while [ $k -le $(($2 / 8)) ]; do
        for c in 1 1 2 2 3 3 4 4; do echo "$tmp/bc$c.wav"; done
        k=$((k + 1))
    done >> "$tmp/list"
    # shellcheck disable=SC2046
    sx $(cat "$tmp/list") "$tmp/bch.wav" vol 0.6 reverb 40
    fit "$tmp/bd.wav" "$tmp/bd2.wav" "$2"
    fit "$tmp/bb.wav" "$tmp/bb2.wav" "$2"
    fit "$tmp/bch.wav" "$tmp/bch2.wav" "$2"
    sx -M "$tmp/bd2.wav" "$tmp/bch2.wav" "$tmp/bb2.wav" "$tmp/band3.wav"
    # drums centre, chords left of centre, bass centre
    sx "$tmp/band3.wav" "$3" remix 1v0.5,2v0.7,3v0.6 1v0.5,2v0.3,3v0.6
}
if need music-band-44k; then
    band $R 25 "$tmp/band.wav"
    put music-band-44k "$tmp/band.wav" 44100 2 -1
fi

# --- speech over music -------------------------------------------------

# mixed-podcast: English speech over the plucked chords, 20 s
if need mixed-podcast-44k; then
    say en2 en-gb+m3 170 50 "$EN2"
    fit "$tmp/en2.wav" "$tmp/en2f.wav" 20
    chord mc1 $R 2 C3 E3 G3 C4
    chord mc2 $R 2 A2 E3 A3 C4
    : > "$tmp/list"
    for k in 1 2 3 4 5; do
        echo "$tmp/mc1.wav"; echo "$tmp/mc2.wav"
    done >> "$tmp/list"
    # shellcheck disable=SC2046
    sx $(cat "$tmp/list") "$tmp/bed.wav" reverb 60 vol 0.25
    sx -m "$tmp/en2f.wav" "$tmp/bed.wav" "$tmp/mix.wav"
    widen "$tmp/mix.wav" "$tmp/mixs.wav"
    put mixed-podcast-44k "$tmp/mixs.wav" 44100 2 -1
fi

# mixed-cmn-band: Mandarin news over the band (music ducked), 48 kHz
if need mixed-cmn-band-48k; then
    say cmn3 cmn+m2 165 45 "$CMN2"
    fit "$tmp/cmn3.wav" "$tmp/cmn3f.wav" 18
    band $R 18 "$tmp/band2.wav"
    sx "$tmp/cmn3f.wav" "$tmp/cmn3s.wav" remix 1 1
    sx -m "$tmp/cmn3s.wav" -v 0.35 "$tmp/band2.wav" "$tmp/mix2.wav"
    put mixed-cmn-band-48k "$tmp/mix2.wav" 48000 2 -1
fi

# mixed-de-pad: German speech over the pad
if need mixed-de-pad-44k; then
    say de2 de 160 55 "$DE1"
    fit "$tmp/de2.wav" "$tmp/de2f.wav" 16
    sx -r 44100 -c 3 -n "$tmp/pd.wav" synth 16 sawtooth D3 sawtooth A3 \
        sawtooth F4 remix - lowpass 900 tremolo 0.2 40 reverb 70 vol 0.3
    sx -m "$tmp/de2f.wav" "$tmp/pd.wav" "$tmp/mix3.wav"
    widen "$tmp/mix3.wav" "$tmp/mix3s.wav"
    put mixed-de-pad-44k "$tmp/mix3s.wav" 44100 2 -1
fi

# --- silence-heavy -----------------------------------------------------

# silence-gaps: Spanish phrases with 3 s gaps, all over a faint room
# noise (brown noise at about -66 dBFS), 24 s
if need silence-gaps-44k; then
    say es1 es 150 50 "$ES1"
    sx -r 44100 -c 1 -n "$tmp/z3.wav" trim 0 3
    sx "$tmp/es1.wav" "$tmp/es1a.wav" trim 0 3.2
    sx "$tmp/es1.wav" "$tmp/es1b.wav" trim 3.2 3.6
    sx "$tmp/es1.wav" "$tmp/es1c.wav" trim 6.8
    sx "$tmp/z3.wav" "$tmp/es1a.wav" "$tmp/z3.wav" "$tmp/es1b.wav" \
       "$tmp/z3.wav" "$tmp/es1c.wav" "$tmp/gaps.wav"
    fit "$tmp/gaps.wav" "$tmp/gaps24.wav" 24
    sx -r 44100 -c 1 -n "$tmp/room.wav" synth 24 brownnoise vol 0.0005
    sx -m "$tmp/gaps24.wav" "$tmp/room.wav" "$tmp/gapsr.wav"
    widen "$tmp/gapsr.wav" "$tmp/c.wav"
    put silence-gaps-44k "$tmp/c.wav" 44100 2 -3
fi

# silence-digital: English phrases separated by 2.5 s of digital
# silence (exact zeros), and a silent start and end, 22 s
if need silence-digital-44k; then
    say en3 en-us+f2 160 60 "$EN1"
    sx "$tmp/en3.wav" "$tmp/d1.wav" trim 0 4 fade q 0.01 4 0.2
    sx "$tmp/en3.wav" "$tmp/d2.wav" trim 4 5 fade q 0.01 5 0.2
    sx "$tmp/en3.wav" "$tmp/d3.wav" trim 9 4.5 fade q 0.01 4.5 0.2
    sx -r 44100 -c 1 -n "$tmp/z.wav" trim 0 2.5
    sx -r 44100 -c 1 -n "$tmp/z1.wav" trim 0 1
    sx "$tmp/z1.wav" "$tmp/d1.wav" "$tmp/z.wav" "$tmp/d2.wav" "$tmp/z.wav" \
       "$tmp/d3.wav" "$tmp/z.wav" "$tmp/dig.wav"
    sx "$tmp/dig.wav" "$tmp/digs.wav" remix 1 1
    fit "$tmp/digs.wav" "$tmp/c.wav" 22
    put silence-digital-44k "$tmp/c.wav" 44100 2 -1
fi

# --- the long file -----------------------------------------------------

# long-mix: 80 s, a programme: band intro, English speech over chords,
# the arpeggio, Mandarin speech alone, the piano, German over the pad,
# the band again
if need long-mix-44k; then
    band $R 12 "$tmp/l1.wav"
    say l2 en-us+m1 160 45 "$EN2"
    fit "$tmp/l2.wav" "$tmp/l2f.wav" 14
    chord lc1 $R 2 D3 F3 A3
    chord lc2 $R 2 B2 D3 G3
    : > "$tmp/list"
    for k in 1 2 3 4 5 6 7; do echo "$tmp/lc1.wav"; echo "$tmp/lc2.wav"
    done >> "$tmp/list"
    # shellcheck disable=SC2046
    sx $(cat "$tmp/list") "$tmp/lbed.wav" reverb 50 vol 0.3 trim 0 14
    sx -m "$tmp/l2f.wav" "$tmp/lbed.wav" "$tmp/l2m.wav" remix 1 1
    say l3 cmn+f4 150 50 "$CMN1"
    fit "$tmp/l3.wav" "$tmp/l3f.wav" 14
    sx "$tmp/l3f.wav" "$tmp/l3s.wav" remix 1 1
    # the piano and arpeggio clips, when made above
    for c in music-arpeggio-44k music-piano-44k mixed-de-pad-44k; do
        [ -s "$dir/$c.wav" ] || {
            echo "make-audio-corpus: long-mix needs $c" >&2; exit 1; }
    done
    sx "$dir/music-arpeggio-44k.wav" "$tmp/l4.wav" trim 0 10 vol 0.8
    sx "$dir/music-piano-44k.wav" "$tmp/l5.wav" trim 0 12 vol 0.8
    sx "$dir/mixed-de-pad-44k.wav" "$tmp/l6.wav" trim 0 12 vol 0.8
    band $R 6 "$tmp/l7.wav"
    for f in l1 l2m l3s l7; do
        sx "$tmp/$f.wav" -b 16 "$tmp/$f.16.wav"
    done
    sx "$tmp/l1.16.wav" "$tmp/l2m.16.wav" "$tmp/l4.wav" "$tmp/l3s.16.wav" \
       "$tmp/l5.wav" "$tmp/l6.wav" "$tmp/l7.16.wav" "$tmp/long.wav"
    fit "$tmp/long.wav" "$tmp/c.wav" 80
    put long-mix-44k "$tmp/c.wav" 44100 2 -1
fi

touch "$dir/.complete"
n=0
for f in "$dir"/*.wav; do n=$((n + 1)); done
echo "make-audio-corpus: $n clips in '$dir'"
