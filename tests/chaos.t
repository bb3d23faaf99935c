#!/usr/bin/perl
# make chaos, short and bounded, on a local stack of its own: it passes
# while workers are SIGKILLed, and while Redis and nginx are too
# (TARGETS), writes its report, and fails when another writer makes the
# ledger and the totals disagree. The killer's Redis and nginx crashes one
# by one. Then chaos BACKEND=compose refusing the port this stack holds,
# each backend refusing a kind that is not its own, and make wrk's check.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Crashonly;
use JSON::PP;
use POSIX ();
use Test::More;
use Time::HiRes qw(time sleep);

my $top = $Crashonly::TOP;
my $state = tmp() . '/stack';
my %env = (STATE => $state, PORT => free_port(), REDIS_PORT => free_ports(3),
    SENTINEL_PORT => free_ports(3), WORKER_PORT => free_ports(3), WORKERS => 3);
local @ENV{ keys %env } = values %env;
# STATE named here: the 'local' above is undone before END blocks run.
END {
    local $?;
    system("STATE='$state' '$top/stack/down' >/dev/null 2>&1") if -e "$state/stack.pid";
}

# This file kills Redis: every worker then logs that it lost it, and a
# worker runit restarts before Redis is back (or while it loads its AOF,
# or before its replica is in sync, or before the Sentinels have failed
# over) logs that it could not have it. Those fatal lines are the test's
# own.
expect_log(qr/ level=fatal event=redis_lost error=/,
    qr/ level=fatal event=redis_connect error="Connection refused"$/,
    qr/ level=fatal event=redis_loading error="LOADING /,
    qr/ level=fatal event=redis_noreplicas error="NOREPLICAS /,
    qr/ level=fatal event=redis_readonly error="READONLY /,
    qr/ level=fatal event=redis_not_master role=slave$/);

is(system("'$top/stack/up' >/dev/null"), 0, 'a stack of 3 workers is up');

my $out = tmp() . '/run1';
my $verdict = `DURATION=4 KILL_EVERY=0.5 CONNS=16 OUT=$out '$top/chaos/run' 2>&1`;
is($? >> 8, 0, 'chaos passes while workers are killed') or diag $verdict;
like($verdict, qr/^PASS [\d,]+ hits, 0 lost, 0 doubled, [1-9]\d* workers killed, 0 client-visible errors, p99 [\d.]+ ms$/m,
    'with one verdict line');
like($verdict, qr/^t=  1s .*workers up \d\/3$/m, 'and a progress line a second');
for my $f (qw(summary.md results.json timeseries.csv plot.png plot.svg ledger.tsv)) {
    ok(-s "$out/$f", "the report has $f");
}
my $res = eval { decode_json(do { local $/; open(my $f, '<', "$out/results.json") or die; <$f> }) };
ok($res && $res->{pass} && @{ $res->{kills} } > 0, 'results.json says pass, with the kills');
ok((grep { defined $_->{recovered_ms} } @{ $res->{kills} // [] }) > 0,
    'and how long killed workers took to serve again');

# The killer alone, one kill each: the Redis master, then nginx with its
# workers. Each is back under a new pid, and the stack serves again.
sub slurp { open(my $f, '<', $_[0]) or return ''; local $/; <$f> // '' }
sub pid_of { (slurp("$state/sv/$_[0]/supervise/pid") =~ /(\d+)/)[0] // 0 }
# The Redis node that is master now: redis1 or redis2.
sub master_node {
    for my $i (1 .. 3) {
        my $r = eval { redis_cmd($env{REDIS_PORT} + $i - 1, 'ROLE') };
        return "redis$i" if ref $r && $r->[0] eq 'master';
    }
    return 'none';
}
sub serves_within {
    my ($s) = @_;
    my $until = time + $s;
    while (time < $until) {
        my ($st) = http_get($env{PORT}, '/hits', {}, 1);
        return 1 if ($st // 0) == 200;
        sleep 0.05;
    }
    return 0;
}
for my $kind (qw(redis nginx)) {
    my $service = $kind eq 'redis' ? master_node() : $kind;
    my $old = pid_of($service);
    my @children = $kind eq 'nginx' ? split(' ', slurp("/proc/$old/task/$old/children")) : ();
    my $kills = tmp() . "/kills-$kind.tsv";
    system("TARGETS=$kind '$top/chaos/killer' 1 0.5 $kills");
    my $k = slurp($kills);
    like($k, qr/^\d+\t\d{13}\t$kind\t$service\t$old\n\z/,
        "killer TARGETS=$kind: one kill of $service, pid $old");
    # Dead: gone, or a zombie its new parent has not reaped yet.
    my @alive = grep { slurp("/proc/$_/stat") =~ /^\d+ \(.*\) [^Z]/s } $old, @children;
    ok(!@alive, "the process is dead" . (@children ? ", and its workers (@children)" : ''))
        or diag "alive: @alive";
    ok(serves_within(15), "the stack serves /hits again");
    my $new = pid_of($service);
    ok($new && $new != $old, "$service runs again under runsv, pid $new");
}

# Redis and nginx killed too, beside workers: still nothing lost or doubled,
# and each kind's recovery in the report.
$out = tmp() . '/run-all';
$verdict = `TARGETS=workers,redis,nginx DURATION=6 KILL_EVERY=1.5 CONNS=16 OUT=$out '$top/chaos/run' 2>&1`;
is($? >> 8, 0, 'chaos TARGETS=workers,redis,nginx passes') or diag $verdict;
like($verdict, qr/^PASS [\d,]+ hits, 0 lost, 0 doubled, \d+ workers, \d+ redis and \d+ nginx killed, 0 client-visible errors, p99 [\d.]+ ms$/m,
    'its verdict counts the kills of each kind');
$res = eval { decode_json(do { local $/; open(my $f, '<', "$out/results.json") or die; <$f> }) };
my @k = @{ $res->{kills} // [] };
ok(@k >= 3 && !grep({ $_->{target} !~ /^(w[1-3]|redis[1-3]|nginx)$/ } @k),
    'kills.tsv names the service killed: ' . join(' ', map { $_->{target} } @k));
is(join(' ', grep { my $kind = $_; grep { $_->{kind} eq $kind } @k } qw(workers redis nginx)),
    'workers redis nginx', 'each kind was killed');
ok(!grep({ $_->{kind} ne 'workers' && !defined $_->{recovered_ms} } @k),
    'each Redis and nginx kill has its recovery time');
ok(!grep({ $_->{kind} eq 'redis' && !defined $_->{counting_ms} } @k),
    'and each Redis kill the time to the stack counting again');

# The master destroyed, its data too: the Sentinels fail over, the node
# comes back empty as a replica, and nothing acknowledged is lost.
$out = tmp() . '/run-host';
$verdict = `TARGETS=redis-host DURATION=9 KILL_EVERY=4 CONNS=16 OUT=$out '$top/chaos/run' 2>&1`;
is($? >> 8, 0, 'chaos TARGETS=redis-host passes') or diag $verdict;
like($verdict, qr/^PASS [\d,]+ hits, 0 lost, 0 doubled, [1-9]\d* redis-host killed, 0 client-visible errors/m,
    'with the masters destroyed counted');
$res = eval { decode_json(do { local $/; open(my $f, '<', "$out/results.json") or die; <$f> }) };
@k = @{ $res->{kills} // [] };
ok(@k && !grep({ !defined $_->{failover_ms} || !defined $_->{counting_ms} } @k),
    'each destruction has its failover and its time to counting again: '
    . join(' ', map { ($_->{failover_ms} // '?') . '/' . ($_->{counting_ms} // '?') } @k));
my @roles = map { my $r = eval { redis_cmd($env{REDIS_PORT} + $_, 'ROLE') }; ref $r ? $r->[0] : 'down' } 0 .. 2;
is(join(' ', sort @roles), 'master slave slave', 'a master and two replicas again');

# Each backend has its own kinds (chaos/killer's): a kind of the other's
# is refused at once, with the backend's own list.
my $msg = `BACKEND=compose TARGETS=workers,nginx DURATION=1 '$top/chaos/run' 2>&1`;
is($? >> 8, 2, 'chaos BACKEND=compose refuses TARGETS=workers,nginx') or diag $msg;
like($msg, qr/^chaos: TARGETS=nginx: BACKEND=compose crashes containers,partition,proxy,redis,redis-host,workers$/m,
    'and says which kinds it has');
$msg = `TARGETS=workers,containers DURATION=1 '$top/chaos/run' 2>&1`;
is($? >> 8, 2, 'the local stack refuses TARGETS=containers') or diag $msg;
like($msg, qr/^chaos: TARGETS=containers: BACKEND=local crashes nginx,redis,redis-host,workers$/m,
    'and says which kinds it has');
$msg = `TARGETS=workers,disk DURATION=1 '$top/chaos/run' 2>&1`;
is($? >> 8, 2, 'chaos refuses an unknown target') or diag $msg;
$msg = `TARGETS=disk '$top/chaos/killer' 1 1 /dev/null 2>&1`;
is($? >> 8, 100, 'and so does the killer, with its usage code') or diag $msg;

# Another writer during the run: hits nobody in the ledger asked for. The
# checker must call that out, and chaos must fail.
my $intruder = fork() // die;
if ($intruder == 0) {
    my $until = time + 3;
    http_get($env{PORT}, '/') while time < $until;
    POSIX::_exit(0);    # not exit: END would take the stack down
}
$out = tmp() . '/run2';
$verdict = `DURATION=2 KILL_EVERY=10 CONNS=8 OUT=$out '$top/chaos/run' 2>&1`;
my $rc = $? >> 8;
waitpid($intruder, 0);
is($rc, 1, 'chaos fails when the totals hold hits the ledger did not ask for')
    or diag $verdict;
like($verdict, qr/^FAIL .* [1-9]\d* doubled/m, 'and says they were doubled');

# BACKEND=compose while this local stack holds the port its proxy would
# take: a clear refusal, before anything is built or started.
SKIP: {
    skip 'no Docker engine', 3 if system('timeout 20 docker info >/dev/null 2>&1');
    my $project = "crashonly-test-none-$$";
    ok(http_get($env{PORT}, '/hits'), 'the local stack still answers') or last;
    my $msg = `BACKEND=compose COMPOSE_PROJECT_NAME=$project PROXY_PORT=$env{PORT} DURATION=1 '$top/chaos/run' 2>&1`;
    is($? >> 8, 2, 'chaos BACKEND=compose refuses the port the local stack holds')
        or diag $msg;
    like($msg, qr/^chaos: the local stack \(\Q$state\E\) is up on port $env{PORT}/m,
        'and says so');
    # Had it not refused, the project it started is this test's to remove.
    system("timeout 120 '$top/compose/run' -p $project down -v -t 0 >/dev/null 2>&1")
        if `docker ps -aq --filter label=com.docker.compose.project=$project`;
}

my $wrk = `DURATION=2 KILL_EVERY=0.5 CONNS=16 '$top/chaos/wrk/run' 2>&1`;
is($? >> 8, 0, 'make wrk: the hit delta is within what wrk did') or diag $wrk;
like($wrk, qr/^PASS wrk completed \d+ requests \(\d+ 2xx\), \d+ workers killed; hits delta \d+, must lie in \[\d+, \d+\]$/m,
    'and prints both beside the bound');

done_testing();
