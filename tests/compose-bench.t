#!/usr/bin/perl
# make bench-compose, tiny and bounded: it runs to the end on the Docker
# engine and what it writes parses; its compose projects are gone after
# it. No figure is asserted: a timed test would only measure the noise.
# Skips when no Docker engine answers (a failure with CI=true).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Crashonly qw(tmp expect_redis_churn need_docker);
use JSON::PP;
use Test::More;

need_docker();

# What this file provokes in its stacks' logs: a new stack, and each of
# the five 'compose stop' and 'start' cycles, restarts the Redis nodes.
expect_redis_churn();

my $out = tmp() . '/bench';
my $log = `BENCH_SECONDS=1 BENCH_ROUNDS=2 BENCH_CONNS=16 BENCH_SAMPLES=2 BENCH_OUT=$out timeout 600 '$Crashonly::TOP/bench/compose' 2>&1`;
is($? >> 8, 0, 'make bench-compose runs to the end') or diag $log;
my $r = eval { decode_json(do { local $/; open(my $f, '<', "$out/results.json") or die; <$f> }) };
ok($r, 'results.json parses') or diag $@;
my $m = $r->{measurements} // {};
for my $name (qw(compose_return_200 compose_stack compose_chaos)) {
    cmp_ok($m->{$name}{rps} // 0, '>', 0, "$name measured");
    is($m->{$name}{rounds}, 2, "$name: in two rounds, the median kept");
}
cmp_ok($m->{compose_stack}{cpu_us}{crashonly} // 0, '>', 0, 'the stack: the workers\' CPU');
cmp_ok($m->{compose_stack}{cpu_us}{'docker-proxy'} // 0, '>', 0, 'and the docker-proxy\'s');
cmp_ok($m->{compose_return_200}{cpu_us}{upstream} // 0, '>', 0, 'the peer: its upstreams\'');
for my $name (qw(compose_kill_to_serving compose_container_kill_to_serving compose_stop)) {
    is($m->{$name}{n}, 2, "$name: 2 samples") or diag explain $m->{$name};
}
is(scalar @{ $r->{targets} // [] }, 6, 'only the compose targets, each with its line');
ok(-s "$out/plot.png" && -s "$out/table.md", 'the plot and the table');
ok((grep { -s } glob("$out/logs/*-stack.log")) && (grep { -s } glob("$out/logs/*-peer.log")),
    'both projects\' logs kept for the scan');
like($log, qr/^\| compose stack \/ its return 200 peer \| [\d.]+ \| >= 0.8 \|/m,
    'and the table is printed');
# The projects, by their logs' names; nothing of them is left.
my @projects = map { m{/([^/]+)\.log$} } glob("$out/logs/*.log");
is(scalar @projects, 2, 'two projects: ' . join(' ', @projects));
is(join('', map { `docker ps -aq --filter label=com.docker.compose.project=$_` } @projects),
    '', 'no container of them is left');
done_testing();
