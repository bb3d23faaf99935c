#!/usr/bin/perl
# node.t: redis/node's fence against a stale copy. Two real Redis nodes,
# each started by redis/node, and three real Sentinels. A node's data
# folder stands for its host's disk: renamed aside, it is the copy a node
# leaves behind when its task moves to another host (a swarm starts a
# failed task anew, anywhere); put back, the node starts on that host
# again. Node 1 leaves host B as master (epoch 0), runs on host C, empty,
# as node 2's replica, is promoted there (epoch 2), and moves back to B
# while the Sentinels still name it master: B's copy records epoch 0, so
# it waits for their failover and starts as a replica, and no write
# acknowledged on C is lost. (Started as master on B's copy, as redis/node
# did before its epoch record, it kept only what B had: n was 11 of 33
# acknowledged, since its replica synced from it.) Killed and started
# again on its own disk, a master starts as master at once, as its record
# says; with no record (lost before its fence wrote it) and its one
# replica back empty, no failover can come, and it starts as master on
# the only data there is.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Crashonly;
use IO::Select;
use Test::More;
use Time::HiRes qw(time sleep);

my $top = $Crashonly::TOP;
my $base = free_ports(5);
my @port = ($base, $base + 1);
# The stack's own Sentinels (redis/sentinel: down after 1 s).
my @sentinels = ($base + 2 .. $base + 4);
for my $p (@sentinels) {
    mkdir tmp() . "/sentinel$p";
    Crashonly::spawn("sentinel$p", tmp() . "/sentinel$p/log", {
            DATA => tmp() . "/sentinel$p", PORT => $p, BIND => '127.0.0.1',
            MASTER => "127.0.0.1:$port[0]", REPLICAS => "127.0.0.1:$port[1]" },
        "$top/redis/sentinel");
}
my $sentinels = join ',', map { "127.0.0.1:$_" } @sentinels;

# A node's configuration, as stack/up writes it; its data in dataN.
for my $i (0, 1) {
    mkdir tmp() . "/data$i";
    open(my $f, '>', tmp() . "/node$i.conf") or die $!;
    print $f "bind 127.0.0.1\nport $port[$i]\ndir ", tmp(), "/data$i\n",
        "appendonly yes\nappendfsync always\nsave \"\"\n",
        "min-replicas-to-write 1\nmin-replicas-max-lag 3\n",
        "repl-diskless-sync-delay 0\ndaemonize no\nlogfile \"\"\n";
    close $f;
}

my (@pid, @log);
my $starts = 0;
sub start_node {
    my ($i) = @_;
    $log[$i] = tmp() . '/node' . $i . '-' . ++$starts . '.log';
    $pid[$i] = Crashonly::spawn("node$i", $log[$i], {
            NODE => "127.0.0.1:$port[$i]", PEERS => '127.0.0.1:' . $port[1 - $i],
            SENTINELS => $sentinels, DATA => tmp() . "/data$i" },
        "$top/redis/node", tmp() . "/node$i.conf");
}

# kill_node I [MOVE]: its redis-server SIGKILLed; to MOVE it, its fence
# gone too (it leaves within 0.5 s once redis-server has), so that it
# never writes into the folder put in its data's place. Started again on
# its own disk, a node's old fence ends beside its new one, as under
# runit.
sub kill_node {
    my ($i, $move) = @_;
    my @fence = Crashonly::children($pid[$i]);
    kill 'KILL', $pid[$i];
    waitpid($pid[$i], 0);
    return unless $move;
    my $until = time + 3;
    # A zombie, left for init to reap, runs no more.
    sleep 0.05 while time < $until && grep { state_of($_) !~ /^(?:Z|gone)$/ } @fence;
}

sub log_of { open(my $f, '<', $log[$_[0]]) or return ''; local $/; <$f> }

# The master all three Sentinels name (its index), and their epoch.
sub named {
    my (%seen, $epoch);
    for my $s (@sentinels) {
        my $r = eval { redis_cmd($s, 'SENTINEL', 'master', 'crashonly') };
        return () unless ref $r;
        my %f = @$r;
        $seen{"$f{port}"}++;
        $epoch = $f{'config-epoch'};
    }
    return () unless keys %seen == 1;
    my ($p) = keys %seen;
    return ($p == $port[0] ? 0 : 1, $epoch);
}

sub role { my $r = eval { redis_cmd($port[$_[0]], 'ROLE') }; ref $r ? $r->[0] : '' }

# ack I: a write counted on node I's disk and its replica's (INCR, then
# WAITAOF 1 1): the value (the highest in $acked), or 0 when it was not
# acknowledged.
my $acked = 0;
sub ack {
    my $s = http_conn($port[$_[0]]) or return 0;
    print $s "INCR n\r\nWAITAOF 1 1 2000\r\n";
    my ($got, $sel, $until) = ('', IO::Select->new($s), time + 3);
    while ($got !~ /\*2\r\n:\d+\r\n:\d+\r\n|^-/m && time < $until) {
        $sel->can_read($until - time) && sysread($s, $got, 4096, length $got) or last;
    }
    return 0 unless $got =~ /^:(\d+)\r\n\*2\r\n:1\r\n:1\r\n/;
    $acked = $1 if $1 > $acked;
    return $1;
}
sub ten {
    my ($i) = @_;
    my $n = 0;
    for (1 .. 30) {
        ack($i) or do { sleep 0.2; next };
        last if ++$n == 10;
    }
    return $n == 10;
}
# in_sync I: master I takes a write onto both disks.
sub in_sync { my ($i) = @_; wait_for(15, sub { ack($i) }) }

sub epoch_file { open(my $f, '<', tmp() . "/data$_[0]/master-epoch") or return ''; chomp(my $e = <$f> // ''); $e }

# ---- a new stack ----------------------------------------------------------
start_node($_) for 0, 1;
ok(wait_for(15, sub { role(0) eq 'master' && role(1) eq 'slave' }) && in_sync(0),
    'a new stack: node 1 master, node 2 its replica, in sync');
ok(ten(0), '10 writes acknowledged on both disks');
ok(wait_for(5, sub { epoch_file(0) eq '0' }), 'the master records its epoch beside its data: 0')
    or diag(log_of(0));

# ---- node 1 moves to host C: empty there ------------------------------------
kill_node(0, 'move');
rename(tmp() . '/data0', tmp() . '/data0.B') or die $!;
mkdir tmp() . '/data0';
start_node(0);
ok(wait_for(20, sub { my ($m) = named(); defined $m && $m == 1 && role(0) eq 'slave' }),
    'node 1 on host C, empty: node 2 promoted, node 1 its replica');
like(log_of(0), qr/no data here, and the Sentinels still name this node master/,
    'node 1 waited, empty, for the failover');
ok(in_sync(1) && ten(1), '10 writes acknowledged on node 2 and node 1 (host C)');

# ---- node 2 lost: node 1 promoted on host C ---------------------------------
ok(wait_for(10, sub {
    eval { redis_cmd($port[0], 'CONFIG', 'GET', 'replica-priority')->[1] } eq '100' }),
    'node 1, synced on host C, is promotable');
kill_node(1);
ok(wait_for(20, sub { my ($m) = named(); defined $m && $m == 0 && role(0) eq 'master' }),
    'node 2 lost: node 1 promoted');
my (undef, $epoch) = named();
ok(wait_for(5, sub { epoch_file(0) eq $epoch }), "node 1 records its epoch on host C: $epoch");
start_node(1);
ok(in_sync(0) && ten(0), 'node 2 back as its replica; 10 writes acknowledged');

# ---- node 1 moves back to host B, its stale copy there ----------------------
my $before = $acked;
kill_node(0, 'move');
rename(tmp() . '/data0', tmp() . '/data0.C') or die $!;
rename(tmp() . '/data0.B', tmp() . '/data0') or die $!;
start_node(0);
ok(wait_for(20, sub { my ($m) = named(); defined $m && $m == 1 && role(0) eq 'slave' }),
    'node 1 back on host B: node 2 promoted, node 1 its replica');
like(log_of(0), qr/master at epoch $epoch, and its data records 0: not its latest copy/,
    'node 1 did not start as master on the copy it left on host B');
unlike(log_of(0), qr/starting as master/, 'nor at all');
ok(in_sync(1), 'in sync again');
my $n = eval { redis_cmd($port[1], 'GET', 'n') } // 0;
cmp_ok($n, '>=', $before, "no acknowledged write lost: n is $n, $before acknowledged");
(undef, $epoch) = named();
ok(wait_for(5, sub { epoch_file(1) eq $epoch }), "node 2, promoted, records epoch $epoch");

# ---- killed, started again on its own disk: master at once ------------------
# (Unless the start takes longer than the Sentinels' second: a failover.)
kill_node(1);
start_node(1);
ok(wait_for(10, sub { log_of(1) =~ /master at epoch $epoch, as its data records: starting as master/ }),
    'node 2, killed and started again on its own disk, starts as master at once')
    or diag(log_of(1));
ok(wait_for(20, sub { my ($m) = named(); defined $m && ack($m) }), 'in sync again');
cmp_ok($acked, '>', $n, 'and counting');

# ---- no record, and no other data: the only copy there is -------------------
# The master lost before its fence wrote the record, its replica back
# empty: no failover can come, so it starts as master on its data.
kill_node(0, 'move');
kill_node(1, 'move');
rename(tmp() . '/data0', tmp() . '/data0.D') or die $!;
mkdir tmp() . '/data0';
unlink tmp() . '/data1/master-epoch';
start_node(0);
ok(wait_for(10, sub { role(0) eq 'slave' }), 'node 1 back empty, a replica of node 2, which is down');
start_node(1);
ok(wait_for(15, sub { role(1) eq 'master' }), 'node 2 back with its data and no record: master')
    and like(log_of(1), qr/its data records no epoch, and no other node holds a key: starting as master on it/,
        'on its data, the only data there is');
ok(wait_for(20, sub { ack(1) }), 'node 1 synced from it');
$n = eval { redis_cmd($port[1], 'GET', 'n') } // 0;
cmp_ok($n, '>=', $acked, "nothing lost: n is $n, $acked acknowledged");
done_testing();
