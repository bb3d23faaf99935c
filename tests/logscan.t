#!/usr/bin/perl
# logscan.t: the log scan that ends every test file (Crashonly.pm's END)
# must fail a file on each kind of alarming line, pass it when the line was
# declared with expect_log, and read only logs. Each case is a small test
# file of its own, run in a child perl; its exit status is what prove sees.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Crashonly;
use Test::More;

# Run a scratch test file whose body is $code (after use Crashonly and
# Test::More). Returns (exit code, everything it printed).
sub scratch {
    my ($code) = @_;
    my $file = tmp() . '/scratch.t';
    open(my $f, '>', $file) or die "$file: $!";
    print $f "use strict; use warnings; use lib '$FindBin::Bin/lib';\n",
        "use Crashonly; use Test::More;\n",
        "sub put { my (\$name, \$text) = \@_; my \$p = tmp() . \"/\$name\";\n",
        "  system('mkdir', '-p', (\$p =~ m{(.*)/})[0]);\n",
        "  open(my \$f, '>', \$p) or die; print \$f \$text; close \$f }\n",
        "$code\nok(1, 'the one test passes'); done_testing();\n";
    close $f;
    my $out = `cd / && '$^X' '$file' 2>&1`;
    return ($? >> 8, $out);
}

my @bad = (
    ['a fatal line in a worker log', 'worker-1.log',
        "level=fatal event=redis_lost error=\"gone\"\n"],
    ['an AddressSanitizer report', 'worker-2.log',
        "==42==ERROR: AddressSanitizer: heap-use-after-free on address 0x1\n"],
    ['a LeakSanitizer report', 'redis-1/log',
        "==42==ERROR: LeakSanitizer: detected memory leaks\n"],
    ['a UBSan report', 'worker-3.log',
        "crashonly/http.c:10:5: runtime error: signed integer overflow\n"],
    ['an nginx [alert] in a stack log', 'stack/log/nginx/current',
        "2024-01-01_00:00:00.00000 2024/01/01 00:00:00 [alert] 7#7: worker exited\n"],
    ['an nginx [emerg] in a rotated stack log', 'stack/log/nginx/@400000.s',
        "[emerg] 7#7: bind() to 127.0.0.1:80 failed (98: Address already in use)\n"],
);
for my $case (@bad) {
    my ($name, $file, $line) = @$case;
    my $q = quotemeta $line;
    my ($rc, $out) = scratch("put('$file', \"$q\");");
    isnt($rc, 0, "$name: the file fails") or diag $out;
    like($out, qr/^#   \Q$file: $line\E/m, "$name: the line is printed");
}

my ($rc, $out) = scratch(q{put('worker-1.log', "level=info event=start\n");});
is($rc, 0, 'a log of ordinary lines passes') or diag $out;

($rc, $out) = scratch(q{expect_log(qr/event=redis_lost/);
    put('worker-1.log', "level=fatal event=redis_lost error=\"gone\"\n");});
is($rc, 0, 'a fatal line the file expects passes') or diag $out;

($rc, $out) = scratch(q{expect_log(qr/event=redis_lost/);
    put('worker-1.log', "level=fatal event=redis_lost\nlevel=fatal event=oom size=9\n");});
isnt($rc, 0, 'an expected line does not let another through') or diag $out;
like($out, qr/^#   worker-1\.log: level=fatal event=oom size=9$/m,
    'and only the other is printed');
unlike($out, qr/redis_lost/, 'not the expected one');

($rc, $out) = scratch(q{put('hitload/closed/stdout', "level=fatal event=x\n");
    put('run1/ledger.tsv', "level=fatal\t[alert]\n");});
is($rc, 0, 'files that are not logs are not read') or diag $out;

($rc, $out) = scratch(q{put('worker-1.log', "level=fatal event=x\n");
    ok(0, 'a failing test');});
is($rc, 1, 'a file that failed a test still fails, with its count') or diag $out;

SKIP: {
    skip 'no build/crashonly: run make', 2
        unless -x "$Crashonly::TOP/build/crashonly";
    ($rc, $out) = scratch(q{my $pid = start_worker(PORT => 'abc');
        Crashonly::wait_exit($pid, 5);});
    isnt($rc, 0, 'a real worker that logs a fatal line fails the file')
        or diag $out;
    like($out, qr/^#   worker-\d+\.log: level=fatal event=config/m,
        'with its line');
}

done_testing();
