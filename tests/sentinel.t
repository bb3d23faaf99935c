#!/usr/bin/perl
# sentinel.t: the worker against a real master, a real replica and three
# real redis-sentinel processes: it finds the master through them, refuses
# what is not a master, and answers a hit only once the hit is on the
# replica's disk too (ACK_REPLICAS, WAITAOF).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Crashonly;
use Test::More;
use Time::HiRes qw(time sleep);

my @durable = (args => ['--appendonly', 'yes', '--appendfsync', 'always']);
my ($mpid, $mport) = start_redis(@durable);
my ($rpid, $rport) = start_redis(args => ['--appendonly', 'yes',
    '--appendfsync', 'always', '--replicaof', '127.0.0.1', $mport]);
# In sync when a write is on the replica's disk within 100 ms: just after
# its sync the replica rewrites its AOF, and acknowledges no fsync.
sub on_both_disks {
    my $s = http_conn($mport) or return 0;
    print $s "SET crashonly:probe 1\r\nWAIT 1 100\r\nWAITAOF 1 1 100\r\n";
    my $got = '';
    my $until = time + 2;
    sysread($s, $got, 4096, length $got) while $got !~ /\*2\r\n:\d+\r\n:\d+\r\n/ && time < $until;
    return $got =~ /\*2\r\n:1\r\n:1\r\n/;
}
my $until = time + 10;
sleep 0.05 until time > $until || on_both_disks();
ok(on_both_disks(), 'a master and its replica, in sync');
my @sentinels = map { (start_sentinel(master => $mport))[1] } 1 .. 3;
my $sentinels = join ',', map { "127.0.0.1:$_" } @sentinels;

# The fatal lines this file provokes on purpose.
expect_log(qr/^level=fatal event=redis_not_master role=slave$/,
    qr/^level=fatal event=sentinel_no_master master=nosuch /,
    qr/^level=fatal event=sentinel_lost master=crashonly answered=0 of=2$/,
    qr/^level=fatal event=config error="REDIS_SENTINELS: /,
    qr/^level=fatal event=redis_readonly error="READONLY /,
    qr/^level=error event=sentinel_unreachable /);

sub worker {
    my (%env) = @_;
    my $port = free_port();
    my $pid = start_worker(PORT => $port, BIND => '127.0.0.1',
        WORKER_NAME => 'ws', %env);
    return ($pid, $port);
}

sub hit {
    my ($port, $key) = @_;
    my ($st, $h) = http_get($port, '/', $key ? { 'Idempotency-Key' => $key } : {}, 5);
    return ($st // 0, $h->{'x-hits'} // -1);
}

# ---- discovery ------------------------------------------------------------
my ($w, $wport) = worker(REDIS_SENTINELS => $sentinels);
ok(wait_ready($wport, 5), 'a worker with REDIS_SENTINELS serves');
like(worker_log($w), qr/event=sentinel_master sentinel=127\.0\.0\.1:\d+ master=crashonly host=127\.0\.0\.1 port=$mport\b/,
    'it asked a Sentinel and found the master');
my ($st, $n) = hit($wport, 'a-1');
is($st, 200, 'it counts');
($st) = http_get($wport, '/readyz');
is($st, 200, '/readyz: 200, the replica online and acknowledging');
is(id_number($rport, 'a-1'), $n,
    'and once answered, the hit is on the replica already');

# Every hit answered only once on the replica: 50 hits, each checked.
my $behind = 0;
my @ms;
for my $i (1 .. 50) {
    my $t0 = time;
    my ($s, $v) = hit($wport, "b-$i");
    push @ms, (time - $t0) * 1000;
    $behind++ unless $s == 200 && (id_number($rport, "b-$i") // '') eq $v;
}
is($behind, 0, '50 hits: each on the replica when answered');
@ms = sort { $a <=> $b } @ms;
diag(sprintf 'a hit acknowledged by the replica: median %.1f ms, max %.1f ms',
    $ms[24], $ms[-1]);
# A replica that reported its fsync only with its once-a-second ACK would
# put every hit near 1 s; the WAIT before the WAITAOF makes it a few ms.
cmp_ok($ms[24], '<', 300, 'no hit waits for the replica\'s once-a-second ACK (median)');

# ---- the replica stopped: nothing is acknowledged -------------------------
# A second worker, whose one write (FUNCTION LOAD) the replica has: a
# repeat through it below writes nothing else, unless the repeat itself
# writes.
my ($w2, $w2port) = worker(REDIS_SENTINELS => $sentinels);
wait_ready($w2port, 5);
$until = time + 10;
sleep 0.05 until time > $until || do {
    my $i = redis_cmd($mport, 'INFO', 'replication');
    my ($mo) = $i =~ /master_repl_offset:(\d+)/;
    $i =~ /slave0:.*offset=(\d+)/ && $1 == $mo;
};
kill 'STOP', $rpid;
my $t0 = time;
($st) = hit($wport, 'c-1');
my $took = time - $t0;
is($st, 503, 'the replica stopped: a hit gets 503, not 200');
cmp_ok($took, '<', 3, sprintf('and it is told within REDIS_TIMEOUT_MS (%.2f s)', $took));
ok(kill(0, $w), 'the worker serves on');
# A repeat of an id the master holds, through the second worker: a call
# that wrote nothing would leave its connection's offset where the replica
# had acknowledged it, and its WAITAOF would answer at once. The repeat
# writes, so its WAITAOF waits for the stopped replica.
($st) = hit($w2port, 'a-1');
is($st, 503, 'a repeat through a connection the replica had caught up with: 503 too');
($st) = http_get($wport, '/readyz');
is($st, 503, '/readyz: 503 once an acknowledgement fell short (the master still lists the replica online)');
kill 'CONT', $rpid;
($st, $n) = hit($wport, 'c-1');
is($st, 200, 'the replica back: the retry with the same key gets 200');
($st) = http_get($wport, '/readyz');
is($st, 200, '/readyz: 200 again once one is acknowledged');
($st, my $again) = hit($w2port, 'c-1');
is($again, $n, 'and its number, from either worker');
kill 'KILL', $w2;
wait_exit($w2, 2);

# ---- what is not a master --------------------------------------------------
my ($bad, $badport) = worker(REDIS_URL => "redis://127.0.0.1:$rport");
is(status_of(wait_exit($bad, 5)), 'exit 112', 'REDIS_URL naming a replica: exit 112');
like(worker_log($bad), qr/event=redis_not_master role=slave/, 'said so');

($bad) = worker(REDIS_SENTINELS => $sentinels, REDIS_MASTER_NAME => 'nosuch');
is(status_of(wait_exit($bad, 5)), 'exit 102', 'a master name no Sentinel knows: exit 102');
like(worker_log($bad), qr/event=sentinel_no_master master=nosuch/, 'said so');

($bad) = worker(REDIS_SENTINELS => '127.0.0.1:' . free_port() . ',127.0.0.1:' . free_port());
is(status_of(wait_exit($bad, 5)), 'exit 112', 'no Sentinel answers: exit 112');
like(worker_log($bad), qr/event=sentinel_lost master=crashonly answered=0 of=2/, 'said so');

($bad) = worker(REDIS_SENTINELS => '127.0.0.1:26379,,x');
is(status_of(wait_exit($bad, 5)), 'exit 102', 'a bad REDIS_SENTINELS: exit 102');
like(worker_log($bad), qr/^level=fatal event=config error="REDIS_SENTINELS: /m,
    'in one line');

# ---- a failover: the master turned replica -------------------------------
# The replica promoted, the old master following it: the worker's next
# write meets READONLY, and it exits for its restart to ask again.
redis_cmd($rport, 'REPLICAOF', 'NO', 'ONE');
# Meanwhile the master has no replica at all: not ready, no hit needed.
my $ready_st;
$until = time + 2;
until ((($ready_st) = http_get($wport, '/readyz'))[0] == 503 || time > $until) { sleep 0.02 }
is($ready_st, 503, '/readyz: 503 while the master has no replica online');
redis_cmd($mport, 'REPLICAOF', '127.0.0.1', $rport);
my ($fst) = hit($wport, 'd-1');
is(status_of(wait_exit($w, 5)), 'exit 112', 'the master turned replica: exit 112');
like(worker_log($w), qr/event=redis_readonly/, 'on READONLY');
isnt($fst, 200, 'and that hit was not acknowledged');

done_testing();
