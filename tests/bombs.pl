#!/usr/bin/perl
# bombs.pl - decompression bombs and lying headers, made in code for
# tests/cli/bombs.sh: tiny files that claim (or inflate to) far more than
# they hold.  Some are edits of small valid files the test makes first.
#
#   perl bombs.pl DIR A.flac A.ogg A.mp3 A.mp4 [OPUS.ogg]
#
# Writes into DIR:
#   png-dim.png     IHDR claiming 100000 x 100000
#   png-ztxt.png    a 64x64 PNG with a zTXt inflating to 300 MiB of zeros
#   png-itxt.png    the same in a compressed XMP iTXt
#   jpeg-dim.jpg    SOF0 claiming 65000 x 65000
#   wav-riff.wav    RIFF and data sizes near 4 GiB over 1000 bytes
#   rf64.wav        RF64 whose ds64 claims a 1 TiB data chunk
#   flac-total.flac STREAMINFO's total samples 2^36-1 (16 days at 48 kHz)
#   flac-block.flac a metadata block claiming 16 MiB
#   ogg-granule.ogg the last page's granule position 2^62 (CRC redone)
#   mp3-id3.mp3     an ID3v2 tag claiming 256 MiB before the frames
#   mp4-box.mp4     moov claiming 2^62 bytes (a 64-bit size)
#   mp4-big32.mp4   moov claiming 4 GiB - 16 bytes
#   opus-day.ogg    OPUS.ogg with every page's CRC made right: 5 KB of
#                   Ogg Opus (found by fuzz/ogg.c) whose header does not
#                   say its length and whose tiny packets decode to more
#                   than a day of audio
use strict;
use warnings;
use Compress::Zlib;

my ($dir, $flac, $ogg, $mp3, $mp4, $opus) = @ARGV;
die "usage: bombs.pl DIR A.flac A.ogg A.mp3 A.mp4\n" unless defined $mp4;

sub slurp {
    local $/;
    open my $f, '<:raw', $_[0] or die "$_[0]: $!";
    my $s = <$f>;
    return defined $s ? $s : '';
}
sub spew {
    open my $f, '>:raw', "$dir/$_[0]" or die "$dir/$_[0]: $!";
    print $f $_[1];
    close $f or die "$_[0]: $!";
}

sub chunk {
    my ($type, $data) = @_;
    return pack('N', length $data) . $type . $data
        . pack('N', crc32($type . $data));
}
my $sig = "\x89PNG\r\n\x1a\n";
sub ihdr { chunk('IHDR', pack('NNCCCCC', $_[0], $_[1], 8, 2, 0, 0, 0)) }
my $pixel = chunk('IDAT', compress("\0\0\0\0"));
my $grey = chunk('IDAT', compress(("\0" . ("\x80" x 192)) x 64));
my $iend = chunk('IEND', '');

# 300 MiB of zeros, deflated (about 300 KiB)
sub zeros {
    my ($d) = deflateInit(-Level => 9);
    my $z = '';
    my $mib = "\0" x (1 << 20);
    for (1 .. 300) {
        my ($o) = $d->deflate($mib);
        $z .= $o;
    }
    my ($o) = $d->flush();
    return $z . $o;
}

spew('png-dim.png', $sig . ihdr(100000, 100000) . $pixel . $iend);
my $z = zeros();
spew('png-ztxt.png', $sig . ihdr(64, 64) . chunk('zTXt', "Comment\0\0" . $z)
     . $grey . $iend);
spew('png-itxt.png', $sig . ihdr(64, 64)
     . chunk('iTXt', "XML:com.adobe.xmp\0\1\0\0\0" . $z) . $grey . $iend);

# SOI, SOF0 8 bits 65000 x 65000 three components, EOI
spew('jpeg-dim.jpg', "\xff\xd8\xff\xc0" . pack('nCnnC', 17, 8, 65000, 65000, 3)
     . "\x01\x22\x00\x02\x11\x00\x03\x11\x00\xff\xd9");

my $fmt = 'fmt ' . pack('VvvVVvv', 16, 1, 2, 48000, 192000, 4, 16);
spew('wav-riff.wav', 'RIFF' . pack('V', 0xffffffff) . 'WAVE' . $fmt
     . 'data' . pack('V', 0xfffffff0) . ("\1\0" x 500));
spew('rf64.wav', 'RF64' . pack('V', 0xffffffff) . 'WAVE' . 'ds64'
     . pack('V', 28) . pack('Q<Q<Q<V', (1 << 40) + 100, 1 << 40,
                                 1 << 38, 0)
     . $fmt . 'data' . pack('V', 0xffffffff) . ("\1\0" x 500));

# FLAC: STREAMINFO's last 36 bits before the MD5 are the total samples
my $f = slurp($flac);
my $t = $f;
substr($t, 8 + 13, 5) = pack('C', (ord(substr($t, 21, 1)) & 0xf0) | 0x0f)
    . "\xff\xff\xff\xff";
spew('flac-total.flac', $t);
$t = $f;
substr($t, 43, 3) = "\xff\xff\xff";      # the block after STREAMINFO
spew('flac-block.flac', $t);

# Ogg: the granule position of the last page, and its CRC again
my @crc;
for my $i (0 .. 255) {
    my $r = $i << 24;
    for (1 .. 8) {
        $r = $r & 0x80000000 ? (($r << 1) ^ 0x04c11db7) : $r << 1;
        $r &= 0xffffffff;
    }
    $crc[$i] = $r;
}
sub ogg_crc {
    my $c = 0;
    $c = (($c << 8) & 0xffffffff) ^ $crc[(($c >> 24) ^ $_) & 255]
        for unpack 'C*', $_[0];
    return $c;
}
my $o = slurp($ogg);
my $last = rindex($o, 'OggS');
substr($o, $last + 6, 8) = pack('Q<', 1 << 62);
substr($o, $last + 22, 4) = "\0\0\0\0";
substr($o, $last + 22, 4) = pack('V', ogg_crc(substr($o, $last)));
spew('ogg-granule.ogg', $o);

# ID3v2.3 with the largest syncsafe size, 256 MiB - 1
spew('mp3-id3.mp3', "ID3\3\0\0\x7f\x7f\x7f\x7f" . ("\0" x 64) . slurp($mp3));

# MP4: the moov box's size
my $m = slurp($mp4);
my $at = index($m, 'moov') - 4;
die "no moov in $mp4\n" if $at < 0;
my $b = $m;
substr($b, $at, 8) = pack('N', 1) . 'moov' . pack('Q>', 1 << 62);
spew('mp4-box.mp4', $b);
$b = $m;
substr($b, $at, 4) = pack('N', 0xfffffff0);
spew('mp4-big32.mp4', $b);

# Ogg Opus: every page's CRC made right (the fuzzer's input has them
# wrong: its target fixes them in memory)
if (defined $opus) {
    my $d = slurp($opus);
    my $p = 0;
    while (($p = index($d, 'OggS', $p)) >= 0 && $p + 27 <= length $d) {
        my $ns = ord(substr($d, $p + 26, 1));
        my $len = 27 + $ns;
        last if $p + $len > length $d;
        $len += ord(substr($d, $p + 27 + $_, 1)) for 0 .. $ns - 1;
        last if $p + $len > length $d;
        substr($d, $p + 22, 4) = "\0\0\0\0";
        substr($d, $p + 22, 4) = pack('V', ogg_crc(substr($d, $p, $len)));
        $p += $len;
    }
    spew('opus-day.ogg', $d);
}
