#!/usr/bin/perl
# make chaos, short and bounded, on a local stack of its own: it passes
# while workers are SIGKILLed, while Redis and nginx are too (TARGETS),
# while the Redis master is destroyed (redis-host), and while workers or
# Redis are paused (SIGSTOP, then SIGCONT), writes its report, and fails
# when another writer makes the ledger and the totals disagree, and when a
# broken front hands an answer out late. The killer's Redis and nginx
# crashes and its pauses one by one. Then chaos BACKEND=compose refusing
# the port this stack holds, each backend refusing a kind that is not its
# own, and make wrk's check.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Crashonly;
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use Test::More;
use Time::HiRes qw(time sleep);

my $top = $Crashonly::TOP;
my $state = tmp() . '/stack';
my %env = (STATE => $state, PORT => free_port(), REDIS_PORT => free_ports(2),
    SENTINEL_PORT => free_ports(3), WORKER_PORT => free_ports(3), WORKERS => 3);
local @ENV{ keys %env } = values %env;
# STATE named here: the 'local' above is undone before END blocks run.
# Only this process: a child forked below must never take the stack down.
my $parent = $$;
END {
    local $?;
    system("STATE='$state' '$top/stack/down' >/dev/null 2>&1")
        if $$ == $parent && -e "$state/stack.pid";
}

# This file kills Redis: every worker then logs that it lost it, and a
# worker runit restarts before Redis is back (or while it loads its AOF,
# or before its replica is in sync, or before the Sentinels have failed
# over) logs that it could not have it. Pausing Redis past
# REDIS_TIMEOUT_MS makes the workers that wait on it exit 113. Those fatal
# lines are the test's own.
expect_log(qr/ level=fatal event=redis_lost error=/,
    qr/ level=fatal event=redis_connect error="Connection refused"$/,
    qr/ level=fatal event=redis_loading error="LOADING /,
    qr/ level=fatal event=redis_noreplicas error="NOREPLICAS /,
    qr/ level=fatal event=redis_readonly error="READONLY /,
    qr/ level=fatal event=redis_not_master role=slave$/,
    qr/ level=fatal event=redis_timeout timeout_ms=2000 pending=\d+$/,
    qr/ level=fatal event=redis_connect_timeout timeout_ms=2000 pending=\d+$/);

is(system("'$top/stack/up' >/dev/null"), 0, 'a stack of 3 workers is up');

my $out = tmp() . '/run1';
my $verdict = `DURATION=4 KILL_EVERY=0.5 CONNS=16 OUT=$out '$top/chaos/run' 2>&1`;
is($? >> 8, 0, 'chaos passes while workers are killed') or diag $verdict;
like($verdict, qr/^PASS [\d,]+ hits, 0 lost, 0 doubled, linearizable, [1-9]\d* workers killed, 0 client-visible errors, \d+ hits\/s, p99 [\d.]+ ms, p99\.9 [\d.]+ ms$/m,
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
    for my $i (1, 2) {
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
    # One turn, at 1 s, and 1 s for it (a kill found past the end is not
    # made: on a loaded machine, finding the victim took 0.75 s).
    system("TARGETS=$kind '$top/chaos/killer' 2 1 $kills");
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

# The killer's pauses alone, one each: the process is stopped, the same
# pid runs again once the pause is over (the killer waits for it), and the
# stack serves.
for my $kind (qw(pause pause-redis)) {
    my $service = $kind eq 'pause' ? 'w\d' : 'redis\d';
    my $kills = tmp() . "/kills-$kind.tsv";
    my $killer = fork() // die;
    if ($killer == 0) {
        { exec 'env', "TARGETS=$kind", "$top/chaos/killer", 1, 0.5, $kills; }
        POSIX::_exit(127);
    }
    # Its line is written once the process is stopped, which stays so for
    # 0.5 s at least: read it as soon as it is there. (A fixed 0.8 s was
    # too short on a loaded machine, where the killer's own start-up and
    # its questions to the Sentinels took longer: seen, twice.)
    my $until = time + 5;
    sleep 0.01 until slurp($kills) =~ /\n\z/ || time > $until;
    my ($svc, $pid, $ms) = slurp($kills) =~ /^\d+\t\d{13}\t$kind\t($service)\t(\d+)\t(\d+)\n\z/;
    ok($pid, "killer TARGETS=$kind: one pause, of " . ($svc // 'nothing')
        . ', ' . ($ms // '?') . ' ms') or diag slurp($kills);
    ok(($ms // 0) >= 500 && ($ms // 0) <= 3000, 'of 0.5 to 3 s');
    is(state_of($pid // 0), 'T', 'the process is stopped');
    waitpid($killer, 0);
    is($? >> 8, 0, 'the killer exits 0 once the pause is over');
    like(state_of($pid // 0), qr/^[RSD]$/, 'and the same process runs again');
    ok(serves_within(15), 'the stack serves /hits again');
    # A Redis master stopped past the Sentinels' 1 s is failed over: the
    # stack goes on once it has a master and a replica again (the old
    # master's fence makes it the new master's replica).
    settled(20) if $kind eq 'pause-redis';
}

# settled(SECONDS): wait until the two nodes are a master and a replica,
# at most SECONDS; true when they are.
sub roles {
    join ' ', sort map { my $r = eval { redis_cmd($env{REDIS_PORT} + $_, 'ROLE') };
        ref $r ? $r->[0] : 'down' } 0, 1;
}
sub settled {
    my $until = time + $_[0];
    sleep 0.2 until roles() eq 'master slave' || time > $until;
    return roles() eq 'master slave';
}

# Redis and nginx killed too, beside workers: still nothing lost or doubled,
# and each kind's recovery in the report. Five turns for three kinds: a
# Redis kill takes every worker down a moment, and the workers' turn
# right after it passes (and is dealt again at the next).
$out = tmp() . '/run-all';
$verdict = `TARGETS=workers,redis,nginx DURATION=9 KILL_EVERY=1.5 CONNS=16 OUT=$out '$top/chaos/run' 2>&1`;
is($? >> 8, 0, 'chaos TARGETS=workers,redis,nginx passes') or diag $verdict;
like($verdict, qr/^PASS [\d,]+ hits, 0 lost, 0 doubled, linearizable, \d+ workers, \d+ redis and \d+ nginx killed, 0 client-visible errors, \d+ hits\/s, p99 [\d.]+ ms, p99\.9 [\d.]+ ms$/m,
    'its verdict counts the kills of each kind');
$res = eval { decode_json(do { local $/; open(my $f, '<', "$out/results.json") or die; <$f> }) };
my @k = @{ $res->{kills} // [] };
ok(@k >= 3 && !grep({ $_->{target} !~ /^(w[1-3]|redis[12]|nginx)$/ } @k),
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
like($verdict, qr/^PASS [\d,]+ hits, 0 lost, 0 doubled, linearizable, [1-9]\d* redis-host killed, 0 client-visible errors/m,
    'with the masters destroyed counted');
$res = eval { decode_json(do { local $/; open(my $f, '<', "$out/results.json") or die; <$f> }) };
@k = @{ $res->{kills} // [] };
ok(@k && !grep({ !defined $_->{failover_ms} || !defined $_->{counting_ms} } @k),
    'each destruction has its failover and its time to counting again: '
    . join(' ', map { ($_->{failover_ms} // '?') . '/' . ($_->{counting_ms} // '?') } @k));
ok(settled(20), 'a master and a replica again: ' . roles());

# Workers paused: nothing lost, doubled or out of order, no client sees
# an error, and no worker restarts (a resumed worker knows it was the one
# that stopped: its watchdog does not blame Redis).
my @pids = map { pid_of("w$_") } 1 .. 3;
$out = tmp() . '/run-pause';
$verdict = `TARGETS=pause DURATION=5 KILL_EVERY=0.7 CONNS=16 OUT=$out '$top/chaos/run' 2>&1`;
is($? >> 8, 0, 'chaos TARGETS=pause passes') or diag $verdict;
like($verdict, qr/^PASS [\d,]+ hits, 0 lost, 0 doubled, linearizable, [1-9]\d* workers paused, 0 client-visible errors, /m,
    'its verdict counts the pauses');
is(join(' ', map { pid_of("w$_") } 1 .. 3), join(' ', @pids),
    'no worker restarted: each resumed and served on');
$res = eval { decode_json(do { local $/; open(my $f, '<', "$out/results.json") or die; <$f> }) };
ok(@{ $res->{kills} // [] } && !grep({ $_->{kind} ne 'pause' || !$_->{pause_ms} } @{ $res->{kills} }),
    'results.json lists each pause and its length');

# Redis paused: workers whose call waits past REDIS_TIMEOUT_MS exit 113
# and are restarted; still nothing lost, doubled or out of order.
$out = tmp() . '/run-pause-redis';
$verdict = `TARGETS=pause-redis DURATION=5 KILL_EVERY=1 CONNS=16 OUT=$out '$top/chaos/run' 2>&1`;
is($? >> 8, 0, 'chaos TARGETS=pause-redis passes') or diag $verdict;
like($verdict, qr/^PASS [\d,]+ hits, 0 lost, 0 doubled, linearizable, [1-9]\d* redis paused, 0 client-visible errors, /m,
    'its verdict counts the pauses');

# Upgrades and rollbacks under load: a worker at a time switched between
# build/crashonly and build/next/crashonly (the next library version and
# id schema), the library with it; nothing lost, doubled or out of order.
# After the run every worker and the library are on build/crashonly.
$out = tmp() . '/run-upgrade';
$verdict = `TARGETS=workers,upgrade DURATION=6 KILL_EVERY=0.5 CONNS=16 OUT=$out '$top/chaos/run' 2>&1`;
is($? >> 8, 0, 'chaos TARGETS=workers,upgrade passes') or diag $verdict;
like($verdict, qr/^PASS [\d,]+ hits, 0 lost, 0 doubled, linearizable, \d+ workers and [1-9]\d* upgrade killed, 0 client-visible errors, /m,
    'its verdict counts the upgrades');
is(join(' ', map { slurp("$state/sv/w$_/run") =~ m{ \Q$top\E/build/crashonly$}m ? 'own' : 'next' } 1 .. 3),
    'own own own', 'every worker back on build/crashonly after it');
is(redis_cmd($env{REDIS_PORT} + (master_node() eq 'redis2'), 'FCALL_RO', 'co_version', 0)->[0], 7,
    'and the library too');
ok(serves_within(5), 'the stack serves');

# A broken worker, test-only (build/broken/crashonly: its library counts
# a retried id again): chaos must fail on what it counted twice.
for my $w (1 .. 3) {
    my $run = slurp("$state/sv/w$w/run");
    $run =~ s{ \Q$top\E/build/crashonly$}{ $top/build/broken/crashonly}m;
    open(my $f, '>', "$state/sv/w$w/run.new") or die;
    print $f $run;
    close $f;
    chmod 0755, "$state/sv/w$w/run.new";
    rename "$state/sv/w$w/run.new", "$state/sv/w$w/run" or die;
    system('sv', 'kill', "$state/sv/w$w") == 0 or die;
}
ok(serves_within(5), 'the stack serves with broken workers');
$out = tmp() . '/run-broken';
$verdict = `TARGETS=workers DURATION=4 KILL_EVERY=0.3 CONNS=16 OUT=$out '$top/chaos/run' 2>&1`;
is($? >> 8, 1, 'chaos fails with workers that count a retried id again') or diag $verdict;
like($verdict, qr/^FAIL .*, [1-9]\d* doubled, /m, 'on what they counted twice');
is(system("STATE='$state' '$top/chaos/killer' --rollback"), 0,
    'the workers and the library rolled back to build/crashonly\'s');
is(join(' ', map { slurp("$state/sv/w$_/run") =~ m{ \Q$top\E/build/crashonly$}m ? 'own' : 'other' } 1 .. 3),
    'own own own', 'every worker\'s run file on build/crashonly again');
ok(serves_within(5), 'the stack serves again');

# A broken front: a proxy before the stack that holds one answer back and
# hands it, later, to a request begun after another request had got a
# larger number (and the held request that later one's answer). Every
# count and total is right, and every number handed out: real time tells,
# and so does Redis, whose ids hold the numbers the other request was
# answered. chaos must fail on linearizable and stored, and nothing else.
my $rc;
my $front = free_port();
my $liar = late_proxy($front, $env{PORT});
$out = tmp() . '/run-late';
$verdict = `PORT=$front TARGETS=workers DURATION=3 KILL_EVERY=10 CONNS=8 OUT=$out '$top/chaos/run' 2>&1`;
$rc = $? >> 8;
kill 'KILL', $liar;
waitpid($liar, 0);
is($rc, 1, 'chaos fails when a late answer is handed out') or diag $verdict;
like($verdict, qr/^FAIL [\d,]+ hits, 0 lost, [1-9]\d* doubled, not linearizable, /m,
    'its verdict: nothing lost, answers Redis does not hold, not linearizable');
my $check = slurp("$out/check.out");
like($check, qr/^FAIL linearizable +\S+ got \d+, first sent at \+[\d.]+ s, after \S+ got \d+ and was answered at \+[\d.]+ s/m,
    'the check names the request and the earlier, larger answer') or diag $check;
like($check, qr/^FAIL stored +[1-9]\d* acknowledged keys hold another number than their answer .*: \S+ was answered \d+ but holds \d+$/m,
    'the exact check names a key whose answer is not the number it holds') or diag $check;
is(scalar(() = $check =~ /^ok /mg), 5, 'and every other check passes') or diag $check;

# Each backend has its own kinds (chaos/killer's): a kind of the other's
# is refused at once, with the backend's own list.
my $msg = `BACKEND=compose TARGETS=workers,nginx DURATION=1 '$top/chaos/run' 2>&1`;
is($? >> 8, 102, 'chaos BACKEND=compose refuses TARGETS=workers,nginx: a bad setting') or diag $msg;
like($msg, qr/^chaos: TARGETS=nginx: BACKEND=compose crashes containers,partition,pause,pause-redis,proxy,redis,redis-host,slow,upgrade,workers$/m,
    'and says which kinds it has');
$msg = `TARGETS=workers,containers DURATION=1 '$top/chaos/run' 2>&1`;
is($? >> 8, 102, 'the local stack refuses TARGETS=containers') or diag $msg;
like($msg, qr/^chaos: TARGETS=containers: BACKEND=local crashes nginx,pause,pause-redis,redis,redis-host,upgrade,workers$/m,
    'and says which kinds it has');
$msg = `TARGETS=slow DURATION=1 '$top/chaos/run' 2>&1`;
like($msg, qr/^chaos: TARGETS=slow: BACKEND=local crashes nginx,pause,pause-redis,redis,redis-host,upgrade,workers$/m,
    'slow links are the compose stack\'s alone') or diag $msg;
$msg = `TARGETS=workers,disk DURATION=1 '$top/chaos/run' 2>&1`;
is($? >> 8, 102, 'chaos refuses an unknown target') or diag $msg;
$msg = `TARGETS=disk '$top/chaos/killer' 1 1 /dev/null 2>&1`;
is($? >> 8, 102, 'and so does the killer, with the same code') or diag $msg;

# The kinds' facts are the killer's alone (--describe), read by the report
# and chaos/run: each kind has them, and a crash its recovery line and
# words; a fault_ function without them is refused.
for my $backend (qw(local compose)) {
    my @kinds = split /\n/, `BACKEND=$backend '$top/chaos/killer' --kinds`;
    my ($head, @rows) = split /\n/, `BACKEND=$backend '$top/chaos/killer' --describe`;
    my @fields = split /\t/, $head;
    my %facts = map { my %f; @f{@fields} = split /\t/, $_, -1; ($f{kind} => \%f) } @rows;
    is_deeply([sort keys %facts], [sort @kinds], "$backend: --describe has every kind");
    my @untimed = grep { $facts{$_}{fault} eq 'kill' && ($facts{$_}{ready} eq ''
        || $facts{$_}{timed} eq '') } @kinds;
    is("@untimed", '', "$backend: every crash has its recovery line and words");
}
mkdir(tmp() . '/chaos');
my $copy = tmp() . '/chaos/killer';
system("sed 's/^# ---- the deck/fault_local_extra() { :; }\\n&/' '$top/chaos/killer' >'$copy' && chmod +x '$copy'"
    . " && cp -r '$top/chaos/faults' '" . tmp() . "/chaos/'") == 0
    or die "cannot copy the killer";
$msg = `'$copy' --kinds 2>&1`;
isnt($? >> 8, 0, 'a fault_ function without its facts: the killer refuses') or diag $msg;
like($msg, qr/fault_local_extra has no facts/, 'and names it');

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
$rc = $? >> 8;
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
    is($? >> 8, 111, 'chaos BACKEND=compose refuses the port the local stack holds')
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

# late_proxy(PORT, UPSTREAM): a front on 127.0.0.1:PORT for the stack at
# UPSTREAM, one upstream connection per client connection, passing
# requests and answers through, but for this: now and then it holds an
# answer that carries X-Hits back; once another connection has sent a
# request since then and had its answer, it gives the held answer to that
# connection's next request, and that request's answer to the held one.
# (A client sends its next request only after the answer before: the
# later request began after a larger number was answered.) Returns the
# pid of the process it runs in.
sub late_proxy {
    my ($port, $up) = @_;
    my $ls = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
        Listen => 64, ReuseAddr => 1) or die "late_proxy: $!";
    my $pid = fork() // die;
    if ($pid) {
        close $ls;
        return $pid;
    }
    # The child ends only by its SIGKILL, or here, never through END.
    eval { serve_late($ls, $up) };
    print STDERR "late_proxy: $@" if $@;
    POSIX::_exit(1);
}

sub serve_late {
    my ($ls, $up) = @_;
    my $sel = IO::Select->new($ls);
    my (%peer, %in, %conn);   # fd => its other end; bytes from upstream
    my ($held, $since) = (undef, 0); # [client, answer], when taken
    my %fresh;                # client fd => a request sent since the hold
    my %ready;                # client fd => that request was answered
    my $last = time;
    my $drop = sub {
        for my $fd (@_) {
            my $s = $conn{$fd} or next;
            undef $held if $held && $held->[0] == $s;
            $sel->remove($s);
            close $s;
            delete $_->{$fd} for \%conn, \%peer, \%in, \%fresh, \%ready;
        }
    };
    while (1) {
        for my $s ($sel->can_read(0.1)) {
            if ($s == $ls) {
                my $c = $ls->accept or next;
                my $u = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                    PeerPort => $up) or do { close $c; next };
                $conn{fileno $c} = $c;
                $conn{fileno $u} = $u;
                $peer{fileno $c} = $u;
                $peer{fileno $u} = $c;
                $in{fileno $u} = '';
                $sel->add($c, $u);
                next;
            }
            # One batch can hold both ends of a pair, the second closed by
            # the first's EOF below.
            my $fd = fileno $s;
            next unless defined $fd && $conn{$fd} && $peer{$fd};
            my $n = sysread($s, my $buf, 65536);
            if (!$n) {
                $drop->($fd, fileno($peer{$fd}) // ());
                next;
            }
            if (!exists $in{$fd}) { # a client's request: pass it on
                $fresh{$fd} = 1 if $held;
                syswrite($peer{$fd}, $buf);
                next;
            }
            $in{$fd} .= $buf;
            my $c = $peer{$fd};
            while ($in{$fd} =~ /\r\n\r\n/) {
                my ($head) = $in{$fd} =~ /^(.*?\r\n\r\n)/s;
                my ($len) = $head =~ /^Content-Length: *(\d+)\r$/mi;
                last if length($in{$fd}) < length($head) + ($len // 0);
                my $answer = substr($in{$fd}, 0, length($head) + ($len // 0), '');
                my $cfd = fileno $c;
                if ($head !~ /^X-Hits:/mi) {
                    syswrite($c, $answer);
                } elsif (!$held && time - $last > 0.3) {
                    ($held, $since) = ([$c, $answer], time);
                    %fresh = %ready = ();
                } elsif ($held && $held->[0] != $c && $ready{$cfd}) {
                    syswrite($c, $held->[1]);
                    syswrite($held->[0], $answer);
                    ($held, $last) = (undef, time);
                } else {
                    $ready{$cfd} = 1 if $fresh{$cfd};
                    syswrite($c, $answer);
                }
            }
        }
        if ($held && time - $since > 1) { # no chance: hand it back as it was
            syswrite($held->[0], $held->[1]);
            ($held, $last) = (undef, time);
        }
    }
}