#!/usr/bin/perl
# make bench, tiny and bounded: it runs to the end and what it writes
# parses. No figure is asserted: a timed test would only measure the noise.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Crashonly;
use JSON::PP;
use Test::More;

my $out = tmp() . '/bench';
my $log = `BENCH_SECONDS=1 BENCH_ROUNDS=2 BENCH_CONNS=16 BENCH_REQUESTS=2000 BENCH_IDS=100000 BENCH_COUNT=300 BENCH_SWEEP=\'8 32\' BENCH_SWEEP_SECONDS=1 BENCH_OUT=$out timeout 420 '$Crashonly::TOP/bench/run' 2>&1`;
is($? >> 8, 0, 'make bench runs to the end') or diag $log;
my $r = eval { decode_json(do { local $/; open(my $f, '<', "$out/results.json") or die; <$f> }) };
ok($r, 'results.json parses') or diag $@;
my $m = $r->{measurements} // {};
for my $name (qw(nginx_return_200 worker_plain worker_ids worker_ids_durable webdis
                 flask_gunicorn proxy_return_200 stack_fast stack_single stack stack_chaos)) {
    cmp_ok($m->{$name}{rps} // 0, '>', 0, "$name measured");
}
is($m->{stack}{rounds}, 2, 'measured in two rounds, the median kept');
for my $name (qw(worker_ids stack_fast proxy_return_200)) {
    my $c = $m->{$name}{cpu_us} // {};
    cmp_ok($c->{wrk} // 0, '>', 0, "$name: wrk's CPU per request");
    cmp_ok(scalar(grep { $_ ne 'wrk' && $c->{$_} > 0 } keys %$c), '>', 0,
        "$name: the servers' CPU per request");
}
cmp_ok($m->{stack_fast}{cpu_us}{crashonly} // 0, '>', 0, 'the stack: the workers\' share');
cmp_ok($m->{proxy_return_200}{cpu_us}{upstream} // 0, '>', 0, 'the peer: the upstream\'s share');
for my $name (qw(open_nginx_return_200 open_worker_ids open_webdis open_proxy_return_200
                 open_stack_fast)) {
    ok(($m->{$name}{answered} // 0) > 0 && ($m->{$name}{p99_us} // 0) > 0,
        "$name: answered, with a p99");
}
ok(($m->{worker_rss}{requests} // 0) >= 2000, 'RSS read after the requests asked for');
for my $v (3, 4, 5, 6, 7) {
    my $i = $m->{"ids_memory_v$v"} // {};
    ok(($i->{bytes_per_id} // 0) > 0 && ($i->{function_us_per_id} // 0) > 0,
        "crashonly_$v: the memory and the Redis time a live id");
}
ok(defined $m->{exec_to_serving}{median_ms} && defined $m->{kill_to_serving}{median_ms},
    'start-up and restart times');
SKIP: {
    skip 'valgrind cannot run a sanitizer build', 14 if $ENV{SANITIZE};
    my %procs = (nginx_return_200 => ['nginx'], worker_plain => [qw(crashonly redis-server)],
        worker_ids => [qw(crashonly redis-server)], webdis => [qw(webdis redis-server)],
        proxy_return_200 => [qw(nginx upstream)],
        stack_path => [qw(nginx crashonly redis-server)],
        stack_replicated_path => [qw(nginx crashonly redis-server replica)]);
    for my $n (sort keys %procs) {
        for my $as ($n, "${n}_x16") {
            my $i = $m->{"instructions_$as"} // {};
            ok(!grep({ ($i->{$_} // 0) <= 0 } @{ $procs{$n} }),
                "$as: instructions a request of each process (callgrind): "
                . join(', ', map { "$_ " . ($i->{$_} // 'none') } @{ $procs{$n} }));
        }
    }
}
# The syscalls, by kind, under load: each server reads and writes at least
# once a request (less for Redis, whose calls carry several hits).
for my $n (qw(nginx_return_200 worker_plain worker_ids webdis proxy_return_200 stack_fast stack)) {
    my $p = $m->{"syscalls_$n"}{per_request} // {};
    my ($server) = grep { $_ ne 'redis-server' && $_ ne 'upstream' } sort keys %$p;
    ok($server && $p->{$server}{all} >= 1, "$n: syscalls a request, "
        . join(', ', map { "$_ " . ($p->{$_}{all} // 0) } sort keys %$p));
}
for my $n (qw(proxy_return_200 stack_fast stack_single stack)) {
    ok(($m->{"peak_${n}_c8"}{rps} // 0) > 0 && ($m->{"peak_${n}_c32"}{rps} // 0) > 0,
        "$n: the sweep measured it at 8 and 32 connections");
}
like($log, qr/^\| sweep: req\/s \(p99 ms\) at connections \| 8 \| 32 \| peak \| at \|/m,
    'the sweep\'s table, with each one\'s peak');
is(scalar @{ $r->{targets} // [] }, 16, 'every target has its line');
ok(-s "$out/plot.png" && -s "$out/table.md", 'the plot and the table');
# The servers' logs stay in OUT/logs, where the log scan at the end reads them.
ok(-s "$out/logs/servers.log" && -s "$out/logs/stack/w1/current",
    'the servers\' and the stacks\' logs are kept for the scan');
like($log, qr/^\| target \| measured \| wanted \|/m, 'and the table is printed');
like($log, qr/^- Redis a live id, .*crashonly_7 .* us in the function; crashonly_6 .*; crashonly_5 .*; crashonly_4 /m,
    'with what a live id costs Redis in each design');
done_testing();
