#!/usr/bin/perl
# make bench, tiny and bounded: it runs to the end and what it writes
# parses. No figure is asserted: a timed test would only measure the noise.
use strict;
use warnings;
use lib 'tests/lib';
use Crashonly;
use JSON::PP;
use Test::More;

my $out = tmp() . '/bench';
my $log = `BENCH_SECONDS=1 BENCH_CONNS=16 BENCH_REQUESTS=2000 BENCH_OUT=$out timeout 300 bench/run 2>&1`;
is($? >> 8, 0, 'make bench runs to the end') or diag $log;
my $r = eval { decode_json(do { local $/; open(my $f, '<', "$out/results.json") or die; <$f> }) };
ok($r, 'results.json parses') or diag $@;
my $m = $r->{measurements} // {};
for my $name (qw(nginx_return_200 worker_plain worker_ids worker_ids_durable webdis
                 flask_gunicorn proxy_return_200 stack_fast stack stack_chaos)) {
    cmp_ok($m->{$name}{rps} // 0, '>', 0, "$name measured");
}
ok(($m->{worker_rss}{requests} // 0) >= 2000, 'RSS read after the requests asked for');
ok(defined $m->{exec_to_serving}{median_ms} && defined $m->{kill_to_serving}{median_ms},
    'start-up and restart times');
SKIP: {
    skip 'valgrind cannot run a sanitizer build', 1 if $ENV{SANITIZE};
    ok(($m->{instructions_plain}{per_request} // 0) > 0, 'instructions per request (callgrind)');
}
is(scalar @{ $r->{targets} // [] }, 10, 'every target has its line');
ok(-s "$out/plot.png" && -s "$out/table.md", 'the plot and the table');
like($log, qr/^\| target \| measured \| wanted \|/m, 'and the table is printed');
done_testing();
