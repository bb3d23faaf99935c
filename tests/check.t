#!/usr/bin/perl
# The chaos checker on synthetic histories: it passes good ones and must
# reject each kind of bad one (a lost hit, a doubled hit, a duplicated
# value, a gap, a made-up value, per-worker totals that do not add up).
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Spec;
use File::Temp qw(tempdir);
use Test::More;

# The project's top, from this file's place: it runs from any directory.
my $top = File::Spec->rel2abs(dirname(__FILE__) . '/..');

my $dir = tempdir(CLEANUP => 1);
my $n = 0;

# run(before_total, after_total, [ledger rows], %opt) -> (exit code, output)
# A row is [status, hits]; keys are made up. Workers hold the whole total
# in w1 unless $opt{after_workers} says otherwise.
sub run {
    my ($b, $a, $rows, %opt) = @_;
    my $p = "$dir/" . $n++;
    my $aw = $opt{after_workers} // $a;
    write_file("$p.before", qq({"total":$b,"workers":{"w1":$b}}));
    write_file("$p.after", qq({"total":$a,"workers":{"w1":$aw}}));
    write_file("$p.ledger", join '', map {
        "k$_->[2]\t1\t$_->[0]\t$_->[1]\tw1\t100\n"
    } map { [@{ $rows->[$_] }, $_] } 0 .. $#$rows);
    my $ex = $opt{exclusive} // 1 ? '--exclusive' : '';
    my $out = `$top/chaos/check $ex --json $p.json $p.before $p.after $p.ledger 2>&1`;
    return ($? >> 8, $out);
}

sub write_file {
    open(my $f, '>', $_[0]) or die "$_[0]: $!";
    print $f $_[1];
    close $f;
}

my ($rc, $out);

($rc, $out) = run(10, 13, [[200, 11], [200, 12], [200, 13]]);
is($rc, 0, 'a clean history passes') or diag $out;
like($out, qr/^PASS .*lost 0, doubled 0/m, 'and says so');

($rc, $out) = run(10, 12, [[200, 11], [200, 12], [200, 13]]);
is($rc, 1, 'a lost hit is rejected') or diag $out;
like($out, qr/FAIL total .*1 acknowledged hits lost/, 'named as lost');

($rc, $out) = run(10, 14, [[200, 11], [200, 12], [200, 13]]);
is($rc, 1, 'a doubled hit is rejected') or diag $out;
like($out, qr/FAIL total .*counted twice/, 'named as doubled');

($rc, $out) = run(10, 13, [[200, 11], [200, 11], [200, 12]], exclusive => 0);
is($rc, 1, 'a value given to two keys is rejected') or diag $out;
like($out, qr/FAIL distinct .*value 11/, 'named as a duplicated value');

($rc, $out) = run(10, 14, [[200, 11], [200, 12], [200, 14]]);
is($rc, 1, 'a gap is rejected') or diag $out;
like($out, qr/FAIL values .*a gap/, 'named as a gap');

($rc, $out) = run(10, 13, [[200, 11], [200, 12], [200, 20]]);
is($rc, 1, 'a value outside the run is rejected') or diag $out;
like($out, qr/FAIL values .*value 20 outside 11\.\.13/, 'named as outside');

($rc, $out) = run(10, 13, [[200, 11], [200, 12], [200, 13]],
    after_workers => 12);
is($rc, 1, 'per-worker totals that do not add up are rejected') or diag $out;
like($out, qr/FAIL workers_after/, 'named');

($rc, $out) = run(10, 14, [[200, 11], [200, 12], [200, 14], [0, -1]]);
is($rc, 0, 'an indeterminate key may have been counted') or diag $out;
($rc, $out) = run(10, 13, [[200, 11], [200, 12], [200, 13], [502, -1]]);
is($rc, 0, 'or not') or diag $out;
($rc, $out) = run(10, 15, [[200, 11], [200, 12], [200, 13], [0, -1]]);
is($rc, 1, 'but not twice') or diag $out;

($rc, $out) = run(10, 14, [[200, 11], [200, 12], [200, 13], [400, -1]]);
is($rc, 1, 'a rejected (4xx) key counts nothing') or diag $out;

($rc, $out) = run(10, 12, [[200, 11], [200, 12]]);
my $json = do { local $/; open(my $f, '<', "$dir/" . ($n - 1) . '.json') or die; <$f> };
like($json, qr/"pass" : true/, 'the JSON verdict is written');

($rc, $out) = run(10, 12, [[200, 11], [200, 12], [200, 0]]);
is($rc, 0, 'a 200 with X-Hits 0 acknowledges nothing: the totals hold') or diag $out;
like($out, qr/acknowledged 2, indeterminate 0, rejected 1/, 'it is counted rejected');
($rc, $out) = run(10, 13, [[200, 11], [200, 12], [503, -1], [599, -1]]);
is($rc, 0, 'a final 5xx is indeterminate: it may have been counted') or diag $out;
like($out, qr/indeterminate 2/, 'both counted as indeterminate');

# The report needs the checker's verdict: without one, exit 2 and say so.
mkdir "$dir/empty";
my $msg = `$top/chaos/report $dir/empty 2>&1`;
is($? >> 8, 2, 'chaos/report on a folder with nothing to report: exit 2') or diag $msg;
like($msg, qr/^report: .*hitload\.json/, 'naming what is missing');

write_file("$dir/bad.json", 'not json');
system("$top/chaos/check $dir/bad.json $dir/bad.json $dir/0.ledger 2>/dev/null");
is($? >> 8, 100, 'unreadable input is a usage error, not a pass');

done_testing();
