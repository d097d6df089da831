#!/usr/bin/perl
# corrupt.pl - the corrupt-input matrix: damaged copies of one small valid
# file of each format, each given to `aimark verify --json` and to
# `aimark mark -o`, which must end cleanly: success, or failure with a
# documented status, one "aimark: ..." line on stderr, no output and no
# temporary file left, and the input unchanged.  Never a signal, a
# sanitizer report, a hang or partial output.  A damaged file may still
# be marked (a flipped bit in pixel data): then the output must verify.
#
#   perl corrupt.pl AIMARK WORKDIR [--full] FMT=FILE...
#
# Damage: the empty file; wrong magic (first 4 bytes); truncations at
# offsets spread over the file and in its first 64 bytes; byte flips at
# offsets from a fixed-seed generator; size fields of the format (given
# below by offset) set to 0, all ones, 2^31-1, and off by one either way.
# Quick mode (make check) takes fewer of each; --full is `make
# corrupt-matrix`.  Two formats run at once.  Prints one row per format and every bad case; exits
# 1 when there is one.
use strict;
use warnings;

my ($aimark, $work, @args) = @ARGV;
my $full = 0;
@args = grep { $_ eq '--full' ? do { $full = 1; 0 } : 1 } @args;
my $code = '001191110102MAD55U9H0F10002';
my $ntrunc = $full ? 40 : 4;
my $headstep = $full ? 1 : 16;
my $nflip = $full ? 40 : 3;
my $nfields = $full ? 99 : 2;           # size fields per format
my $jobs = 2;                           # formats run at once

# Size fields: [offset, bytes, 'B' big / 'L' little endian], or a pattern
# whose match is followed (at the given distance) by the field.
my %fields = (
    png  => [[8, 4, 'B'], [16, 4, 'B'], [33, 4, 'B']],
    jpeg => [[4, 2, 'B'], [qr/\xff\xc0|\xff\xc2/, 2, 2, 'B'],
             [qr/\xff\xc0|\xff\xc2/, 5, 2, 'B']],
    wav  => [[4, 4, 'L'], [16, 4, 'L'], [qr/data/, 4, 4, 'L']],
    flac => [[5, 3, 'B'], [18, 4, 'B'], [43, 3, "B"]],
    ogg  => [[26, 1, 'B'], [27, 1, 'B']],
    opus => [[26, 1, 'B'], [27, 1, 'B']],
    mp3  => [[6, 4, 'B'], [qr/TIT2/, 4, 4, 'B']],
    mp4  => [[0, 4, 'B'], [qr/moov/, -4, 4, 'B'], [qr/mdat/, -4, 4, 'B'],
             [qr/trak/, -4, 4, 'B']],
    mov  => [[0, 4, 'B'], [qr/moov/, -4, 4, 'B'], [qr/mdat/, -4, 4, 'B']],
    webm => [[4, 1, 'B'], [qr/\x18\x53\x80\x67/, 4, 1, 'B'],
             [qr/\x18\x53\x80\x67/, 5, 4, 'B']],
    docx => [[18, 4, 'L'], [22, 4, 'L'], [26, 2, 'L'], [-6, 4, 'L'],
             [-10, 2, 'L'], [-12, 4, 'L']],
    xlsx => [[18, 4, 'L'], [-6, 4, 'L'], [-12, 4, 'L']],
    pptx => [[18, 4, 'L'], [-6, 4, 'L'], [-12, 4, 'L']],
    pdf  => [[qr/startxref\n/, 0, 3, 'T'], [qr/Length /, 0, 2, 'T']],
    txt  => [],
    md   => [],
);

sub slurp {
    local $/;
    open my $f, "<:raw", $_[0] or die "$_[0]: $!";
    my $s = <$f>;
    return defined $s ? $s : "";
}
sub spew {
    open my $f, '>:raw', $_[0] or die "$_[0]: $!";
    print $f $_[1];
    close $f or die "$_[0]: $!";
}

# The absolute offset of a field spec in $d, or undef.
sub field_at {
    my ($d, $f) = @_;
    if (ref $f->[0]) {
        return undef unless $d =~ $f->[0];
        my $at = $-[0] + $f->[1];
        return $at >= 0 && $at + $f->[2] <= length $d ? $at : undef;
    }
    my $at = $f->[0] < 0 ? length($d) + $f->[0] : $f->[0];
    return $at >= 0 && $at + $f->[1] <= length $d ? $at : undef;
}

sub lies {
    my ($d, $f) = @_;
    my ($n, $e) = ref $f->[0] ? @$f[2, 3] : @$f[1, 2];
    my $at = field_at($d, $f);
    return () unless defined $at;
    my @out;
    if ($e eq 'T') {                     # a decimal number in text
        substr($d, $at) =~ /^(\d+)/ or return ();
        my $len = length $1;
        my @v = (0, $1 + 1, 99999999999);
        push @v, $1 - 1 if $full;
        for my $v (@v) {
            my $c = $d;
            substr($c, $at, $len) = $v;
            push @out, $c;
        }
        return @out;
    }
    my $old = substr($d, $at, $n);
    my $num = 0;
    my @b = unpack 'C*', $old;
    @b = reverse @b if $e eq 'L';
    $num = $num * 256 + $_ for @b;
    my $max = 256**$n - 1;
    my @v = (0, $max, ($num + 1) & $max);
    push @v, $n == 4 ? 0x7fffffff : $max >> 1, ($num - 1) & $max if $full;
    for my $v (@v) {
        my @v;
        my $x = $v;
        for (1 .. $n) { unshift @v, $x & 255; $x >>= 8 }
        @v = reverse @v if $e eq 'L';
        my $c = $d;
        substr($c, $at, $n) = pack 'C*', @v;
        push @out, $c;
    }
    return @out;
}

# A small fixed generator, the same on every perl (srand/rand are not).
my $state;
sub rnd {
    $state = ($state * 1103515245 + 12345) % 2147483648;
    return int($state / 65536) % $_[0];
}

sub cases {
    my ($fmt, $d) = @_;
    my $len = length $d;
    my @c = (['empty', '']);
    my $m = $d;
    substr($m, 0, 4) = 'XYZW' if $len >= 4;
    push @c, ['magic', $m];
    my %seen;
    for my $i (1 .. $ntrunc) {
        my $at = int($len * $i / ($ntrunc + 1));
        push @c, ["cut$at", substr($d, 0, $at)] unless $seen{$at}++;
    }
    for (my $at = 1; $at < 64 && $at < $len; $at += $headstep) {
        push @c, ["cut$at", substr($d, 0, $at)] unless $seen{$at}++;
    }
    $state = length($fmt) * 7919 + $len;
    for (1 .. $nflip) {
        my $at = rnd($len);
        my $x = 1 + rnd(255);
        my $c = $d;
        substr($c, $at, 1) = chr(ord(substr($c, $at, 1)) ^ $x);
        push @c, [sprintf('flip%d^%02x', $at, $x), $c];
    }
    my $k = 0;
    my @f = @{ $fields{$fmt} || [] };
    splice @f, $nfields if @f > $nfields;
    for my $f (@f) {
        my $v = 0;
        push @c, ["size$k." . $v++, $_] for lies($d, $f);
        $k++;
    }
    return @c;
}

# Run a command with a time limit; status, stdout and stderr.
sub run {
    my ($cmd) = @_;
    my $st = system("timeout -s KILL 60 $cmd > stdout 2> stderr");
    return ($st, slurp('stdout'), slurp('stderr'));
}

# What is wrong with one run ('' when nothing).
sub judge {
    my ($st, $err, $okset) = @_;
    return 'hang (killed after 60 s)' if ($st & 127) == 9 || $st >> 8 == 137;
    return 'killed by signal ' . ($st & 127) if $st & 127;
    my $x = $st >> 8;
    return "sanitizer: " . (split /\n/, $err)[0]
        if $err =~ /Sanitizer|runtime error:|LeakSanitizer/;
    return "exit $x" unless grep { $_ == $x } @$okset;
    return '' if $x == 0 || $x == 1;
    my @l = split /\n/, $err;
    return 'failure without a message' unless @l;
    return "failure with " . scalar(@l) . " lines on stderr" if @l != 1;
    return "message not from aimark: $l[0]" unless $l[0] =~ /^aimark: \S/;
    return '';
}

use Cwd qw(abs_path);
$_ =~ s{=(.*)}{"=" . abs_path($1)}e for @args;
mkdir $work;
chdir $work or die "$work: $!";
my (@rows, @bad, @kids);
for my $a (@args) {
    my ($fmt, $file) = split /=/, $a, 2;
    if (@kids >= $jobs) {
        waitpid(shift @kids, 0);
    }
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid) {
        push @kids, $pid;
        next;
    }
    mkdir "w-$fmt";
    chdir "w-$fmt" or die;
    my $d = slurp($file);
    (my $ext = $file) =~ s/.*\.//;
    my ($n, $ok, $fail) = (0, 0, 0);
    for my $c (cases($fmt, $d)) {
        my ($name, $bytes) = @$c;
        my $dir = "c-$fmt";
        system('rm', '-rf', $dir);
        mkdir $dir or die;
        my $in = "$dir/in.$ext";
        spew($in, $bytes);
        my @why;
        my ($st, $out, $err) = run("$aimark verify --json $in");
        my $w = judge($st, $err, [0, 1, 3]);
        push @why, "verify: $w" if $w ne '';
        push @why, 'verify: no JSON line'
            if $w eq '' && $out !~ /^\{"file":.*\}\n\z/;
        ($st, $out, $err) = run("$aimark mark --producer $code -o $dir/out.$ext $in");
        $w = judge($st, $err, [0, 3]);
        push @why, "mark: $w" if $w ne '';
        opendir my $dh, $dir or die;
        my @left = sort grep { !/^\.\.?$/ && $_ ne "in.$ext" } readdir $dh;
        closedir $dh;
        my $marked = !($st & 127) && $st >> 8 == 0;
        if ($marked) {
            push @why, 'mark: success without output'
                unless @left == 1 && $left[0] eq "out.$ext";
            my ($vs) = run("$aimark verify -q $dir/out.$ext");
            push @why, 'mark: output does not verify (exit ' . ($vs >> 8)
                . ')' if $vs != 0;
        } else {
            push @why, "mark: failed but left: @left" if @left;
        }
        push @why, 'input changed' if slurp($in) ne $bytes;
        $n++;
        if (@why) {
            push @bad, "$fmt $name: " . join('; ', @why);
        } elsif ($marked) {
            $ok++;
        } else {
            $fail++;
        }
    }
    system('rm', '-rf', "c-$fmt");
    spew("../r-$fmt", join("\n", "$n $ok $fail", @bad) . "\n");
    exit 0;
}
waitpid($_, 0) for @kids;
for my $a (@args) {
    my ($fmt) = split /=/, $a, 2;
    my ($counts, @b) = split /\n/, slurp("r-$fmt");
    my ($n, $ok, $fail) = split ' ', $counts;
    push @rows, [$fmt, $n, $ok, $fail, $n - $ok - $fail];
    push @bad, @b;
}
printf "%-6s %6s %9s %9s %4s\n", 'format', 'cases', 'marked', 'refused',
    'bad';
printf "%-6s %6d %9d %9d %4d\n", @$_ for @rows;
print "BAD $_\n" for @bad;
exit(@bad ? 1 : 0);
