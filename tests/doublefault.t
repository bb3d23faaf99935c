#!/usr/bin/perl
# doublefault.t: two Redis faults that meet, on purpose, on the local
# stack and on the compose stack; nothing counted may be lost.
#
# 300 hits are counted, then some 300 MB of other keys written, so that
# a full sync lasts seconds. The master is destroyed as chaos/killer's
# redis-host does it (data folder emptied, process SIGKILLed); the
# Sentinels fail over, and the destroyed node comes back empty and starts
# its full sync from the new master. While that sync is in progress (the
# test sees it in the node's INFO, and sees the node still empty after),
# the new master's host goes away: its redis-server SIGKILLed with the
# child that streams the sync, and held down (runit: sv once; compose:
# its container's pid 1, the restart policy off until it is started
# again) for 3 s at least, and until the Sentinels name another master
# or 12 s have passed (3 s alone races their retry), then back. Every
# hit counted before must be in crashonly:hits after, on the master the
# Sentinels name, with its replica in sync, and the stack must count
# again. It takes 95 to 150 s on 2 cores, 40-60 s of it each stack's faults.
#
# The compose part skips without a Docker engine (a failure with
# CI=true), as compose.t does; its project is crashonly-df-PID.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Crashonly;
use IO::Socket::INET;
use JSON::PP qw(decode_json);
use POSIX ();
use Test::More;
use Time::HiRes qw(time sleep);

my $top = $Crashonly::TOP;
my $HITS = 300;     # hits counted before the faults
my $PAD_MB = 300;   # MB of other keys: a full sync of seconds
my $HOLD = 3;       # seconds the new master's host stays away, at least
my $AWAY = 12;      # and at most, while the Sentinels name no other

# What the faults make the workers log: each one that loses its master,
# meets it loading, turned replica, or without a replica in sync, exits
# (112) and runsv starts it again; one that waits on a master as it dies
# exits 113.
expect_redis_churn();
expect_log(qr/ level=fatal event=redis_timeout timeout_ms=\d+ pending=\d+$/);

# ---- talking to Redis ----------------------------------------------------

# talk(ADDR, AUTH, [CMD...], ...): send each command on one connection to
# ADDR (host:port), logged in as AUTH ([user, password]) when given;
# returns the replies, in order (errors as '-...' text). Dies when ADDR
# does not answer within 5 s.
sub talk {
    my ($addr, $auth, @cmds) = @_;
    my ($host, $port) = $addr =~ /^(.*):(\d+)$/ or die "talk: '$addr'";
    my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port,
        Proto => 'tcp', Timeout => 2) or die "redis $addr: $!";
    $s->sockopt(SO_RCVTIMEO, pack('l!l!', 5, 0));
    unshift @cmds, ['AUTH', @$auth] if $auth;
    my $out = join '', map { '*' . @$_ . "\r\n" . join('', map { '$' . length($_) . "\r\n$_\r\n" } @$_) } @cmds;
    while (length $out) {
        my $n = syswrite($s, $out) // die "redis $addr: $!";
        substr($out, 0, $n, '');
    }
    my @r = map { Crashonly::read_resp($s) } @cmds;
    close $s;
    shift @r if $auth;
    return @r;
}

# info(ADDR, AUTH): INFO's fields as a hash (keyspace's db0 among them);
# an empty hash when ADDR does not answer.
sub info {
    my ($addr, $auth) = @_;
    my ($r) = eval { talk($addr, $auth, ['INFO', 'everything']) };
    return {} unless defined $r && $r !~ /^-/;
    return { map { /^([^:#]+):(.*?)\r?$/ ? ($1, $2) : () } split /\n/, $r };
}

# The master a majority of the Sentinels name, as host:port, or ''.
sub named {
    my (@sentinels) = @_;
    my %votes;
    for my $s (@sentinels) {
        my ($r) = eval { talk($s, undef, [qw(SENTINEL get-master-addr-by-name crashonly)]) };
        $votes{"$r->[0]:$r->[1]"}++ if ref $r && @$r == 2;
    }
    my ($m) = grep { $votes{$_} > @sentinels / 2 } keys %votes;
    return $m // '';
}

sub slurp { open(my $f, '<', $_[0]) or return ''; local $/; <$f> // '' }

# tree(PID): PID and its descendants.
sub tree {
    my ($pid) = @_;
    return ($pid, map { tree($_) } split ' ', slurp("/proc/$pid/task/$pid/children"));
}

# One MiB of random bytes, written under a key of its own each time:
# Redis compresses each value alone (LZF), and random bytes do not shrink.
my $blob = do {
    open(my $f, '<:raw', '/dev/urandom') or die "/dev/urandom: $!";
    read($f, my $b, 1 << 20) == 1 << 20 or die 'urandom: short read';
    $b;
};

# ---- the scenario, on either stack --------------------------------------
# A stack is a hash: nodes (name => host:port as the Sentinels name it),
# reach (name => host:port the test reaches it at), sentinels, node_auth
# and writer_auth (users), port (the front's), and destroy, crash, back:
# the faults.

# hit(STACK, KEY): GET / with Idempotency-Key KEY until it is answered
# 200, for at most SECONDS (default 60); the status of the last try.
sub hit {
    my ($st, $key, $secs) = @_;
    my $until = time + ($secs // 60);
    my $status = 0;
    while (time < $until) {
        ($status) = http_get($st->{port}, '/', { 'Idempotency-Key' => $key }, 5);
        return 200 if ($status // 0) == 200;
        sleep 0.2;
    }
    return $status // 0;
}

sub total {
    my ($st) = @_;
    my ($status, undef, $body) = http_get($st->{port}, '/hits', {}, 5);
    return ($status // 0) == 200 ? decode_json($body)->{total} : undef;
}

# The name of the node at host:port ADDR, as the Sentinels name it.
sub node_at {
    my ($st, $addr) = @_;
    my ($name) = grep { $st->{nodes}{$_} eq $addr } keys %{ $st->{nodes} };
    return $name // '';
}

sub other { my ($st, $n) = @_; (grep { $_ ne $n } sort keys %{ $st->{nodes} })[0] }

# What a node of the stack says (INFO), and its crashonly:hits.
sub ask_node { my ($st, $node) = @_; info($st->{reach}{$node}, $st->{node_auth}) }
sub hits_on {
    my ($st, $node) = @_;
    my ($r) = eval { talk($st->{reach}{$node}, $st->{writer_auth}, [qw(GET crashonly:hits)]) };
    return $r;
}

# double_fault WHAT STACK: the two faults, then what must hold.
sub double_fault {
    my ($what, $st) = @_;
    my $first = fill_master($what, $st);
    my $t1 = second_fault($what, $st, $first);
    after_faults($what, $st, $t1);
}

# 300 hits, each acknowledged (on both disks), each its own id; then some
# 300 MB of other keys, ten to a round trip, on the master (and so on its
# replica), the replica caught up. Returns the master.
sub fill_master {
    my ($what, $st) = @_;
    my $ok = 0;
    for my $i (1 .. $HITS) {
        $ok++ if hit($st, "df-$what-$$-$i", 20) == 200;
    }
    is($ok, $HITS, "$what: $HITS hits counted");
    my $first = node_at($st, named(@{ $st->{sentinels} }));
    ok($first, "$what: the Sentinels name $first master");
    is(hits_on($st, $first) // 0, $HITS, "$what: crashonly:hits is $HITS on $first");
    my $t0 = time;
    for (my $i = 0; $i < $PAD_MB; $i += 10) {
        my @r = talk($st->{reach}{$first}, $st->{writer_auth},
            map { ['HSETEX', "crashonly:pad:$_", 'FIELDS', 1, 'v', $blob] } $i .. $i + 9);
        my ($bad) = grep { !/^1$/ } @r;
        die "$what: padding: $bad" if $bad;
    }
    my $caught = wait_for(60, sub {
        my $m = ask_node($st, $first);
        ($m->{slave0} // '') =~ /state=online,offset=(\d+)/ && $1 == $m->{master_repl_offset};
    });
    ok($caught, sprintf "$what: %d MB of other keys written, the replica caught up (%.1f s)",
        $PAD_MB, time - $t0);
    return $first;
}

# The master destroyed: the Sentinels fail over to its replica, and the
# node comes back empty and syncs from it; its sync cut: the new master's
# host away for $HOLD s. Returns when the second fault began.
sub second_fault {
    my ($what, $st, $first) = @_;
    my $second = other($st, $first);
    my $t0 = time;
    $st->{destroy}->();
    ok(wait_for(30, sub { named(@{ $st->{sentinels} }) eq $st->{nodes}{$second} }),
        sprintf "$what: $first destroyed, the Sentinels name $second master (%.1f s)", time - $t0);
    my $syncing = wait_for(60, sub {
        my $i = ask_node($st, $first);
        ($i->{master_sync_in_progress} // 0) == 1 && ($i->{loading_loaded_bytes} // 0) > 0 ? $i : undef;
    });
    ok($syncing, sprintf "$what: $first back empty, syncing from $second (%.1f s, %s bytes loaded)",
        time - $t0, $syncing ? $syncing->{loading_loaded_bytes} : '-');
    my $t1 = time;
    $st->{crash}->($second);
    my $cut = wait_for(5, sub { my $i = ask_node($st, $first); %$i && !$i->{master_sync_in_progress} ? $i : undef });
    ok($cut && !grep({ /^db\d+$/ } keys %$cut),
        "$what: $second crashed and held down mid-sync: $first holds no key");
    # Away for $HOLD s at least, and until the Sentinels name another
    # master or have had $AWAY s to (a failover they try while the node
    # is still busy loading finds no good replica, and tries again 4 s
    # on: 3 s alone is a race).
    wait_for($AWAY, sub { time - $t1 >= $HOLD
        && named(@{ $st->{sentinels} }) ne $st->{nodes}{$second} });
    sleep $HOLD - (time - $t1) if time - $t1 < $HOLD;
    diag(sprintf "$what: $second back after %.1f s; the Sentinels name %s", time - $t1,
        node_at($st, named(@{ $st->{sentinels} })) || 'none');
    $st->{back}->($second);
    return $t1;
}

# Settled: the Sentinels name a master, which answers as one, with a
# replica in sync; every hit counted is still counted there, and the
# stack counts again.
sub after_faults {
    my ($what, $st, $t1) = @_;
    my $master;
    my $settled = wait_for(180, sub {
        $master = node_at($st, named(@{ $st->{sentinels} })) or return 0;
        my $m = ask_node($st, $master);
        return 0 unless ($m->{role} // '') eq 'master' && !$m->{loading};
        my $r = ask_node($st, other($st, $master));
        return ($r->{role} // '') eq 'slave' && ($r->{master_link_status} // '') eq 'up'
            && !$r->{master_sync_in_progress} && !$r->{loading};
    });
    ok($settled, sprintf "$what: settled after %.1f s: %s master, %s its replica",
        time - $t1, $master || 'none', $master ? other($st, $master) : 'none');
    is($master ? hits_on($st, $master) : undef, $HITS,
        "$what: crashonly:hits is still $HITS on $master, the master the Sentinels name");
    is(hit($st, "df-$what-$$-after", 90), 200,
        sprintf "$what: the stack counts again (%.1f s after the second fault)", time - $t1);
    is(total($st), $HITS + 1, "$what: GET /hits says " . ($HITS + 1));
}

# ---- the local stack -----------------------------------------------------
my $state = tmp() . '/stack';
my %env = (STATE => $state, PORT => free_port(), REDIS_PORT => free_ports(2),
    SENTINEL_PORT => free_ports(3), WORKER_PORT => free_ports(2), WORKERS => 2);
my $parent = $$;
END {
    local $?;
    system("STATE='$state' '$top/stack/down' >/dev/null 2>&1")
        if $$ == $parent && -e "$state/stack.pid";
}
{
    local @ENV{ keys %env } = values %env;
    is(system("'$top/stack/up' >/dev/null"), 0, 'local: a stack of 2 workers is up');
}
my %local = (
    port => $env{PORT},
    nodes => { map { ("redis$_" => '127.0.0.1:' . ($env{REDIS_PORT} + $_ - 1)) } 1, 2 },
    sentinels => [map { '127.0.0.1:' . ($env{SENTINEL_PORT} + $_) } 0 .. 2],
    destroy => sub {
        my $kills = tmp() . '/kills-local.tsv';
        # One turn, at 1.5 s, and 1.5 s for it: on a loaded machine
        # finding the master and its replica in sync took 0.75 s, and a
        # kill found past the killer's end is not made.
        system("STATE='$state' TARGETS=redis-host '$top/chaos/killer' 3 1.5 '$kills'");
        like(slurp($kills), qr/^\d+\t\d+\tredis-host\tredis\d\t\d+\n\z/,
            'local: chaos/killer destroyed the master');
    },
    # The host away: runsv told not to restart the node (sv once), then
    # its redis-server killed with every process it forked (the child
    # that streams the sync's RDB outlives its parent, and would finish
    # the sync: a host lost takes it too); 'sv up' is the host back.
    crash => sub {
        my $sv = "$state/sv/$_[0]";
        my ($pid) = slurp("$sv/supervise/pid") =~ /(\d+)/;
        system('sv', 'once', $sv) == 0 or die "sv once $sv";
        my @tree = $pid ? tree($pid) : ();
        ok(@tree && kill('KILL', @tree) == @tree,
            "local: $_[0]'s redis-server and its children (@tree) killed, held down");
    },
    back => sub { system('sv', 'up', "$state/sv/$_[0]") == 0 or die "sv up $_[0]" },
);
$local{reach} = $local{nodes};
double_fault('local', \%local);

# ---- the compose stack ---------------------------------------------------
SKIP: {
    if (system('timeout 20 docker info >/dev/null 2>&1') != 0) {
        # CI has an engine: a skip there would hide a broken stack.
        fail('a Docker engine answers (CI=true)') if ($ENV{CI} // '') eq 'true';
        skip 'no Docker engine', 1;
    }
    compose_part();
}

done_testing();

# run(SECONDS, CMD...): (success, stdout) of CMD under a time limit,
# its stderr kept in tmp()/run.err.
sub run {
    my ($secs, @cmd) = @_;
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if (!$pid) {
        open(STDERR, '>>', tmp() . '/run.err');
        { no warnings "exec"; exec "timeout", $secs, @cmd; }
        POSIX::_exit(127);
    }
    my $out = do { local $/; <$fh> } // '';
    close $fh;
    return ($? == 0, $out);
}

sub compose_part {
    my $project = "crashonly-df-$$";
    my @compose = ("$top/compose/run", '-p', $project);
    my ($built) = run(1200, 'make', '-s', '-C', $top, 'images');
    ok($built, 'compose: make images') or return;
    my $port = free_port();
    local $ENV{PROXY_PORT} = "127.0.0.1:$port";
    my $down = sub {
        compose_down(\@compose, qw(redis1 redis2 sentinel1 sentinel2 sentinel3 worker proxy));
    };
    # Down even when a check dies half-way.
    my $guard = bless [sub { $down->() if $$ == $parent }], 'Guard';
    my ($started) = run(300, @compose, 'up', '-d', '--scale', 'worker=2');
    ok($started, "compose: project $project up, 2 workers") or return;
    my $id = sub { (split ' ', (run(30, @compose, 'ps', '-aq', $_[0]))[1])[0] // '' };
    my $ip = sub {
        (run(20, 'docker', 'inspect', '-f',
            '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', $id->($_[0])))[1] =~ s/\s+//gr;
    };
    my %c = (
        port => $port,
        nodes => { map { ($_ => "$_:6379") } qw(redis1 redis2) },
        node_auth => ['node', $ENV{REDIS_NODE_PASSWORD} // 'crashonly-node'],
        writer_auth => ['crashonly', $ENV{REDIS_PASSWORD} // 'crashonly'],
        destroy => sub {
            my $kills = tmp() . '/kills-compose.tsv';
            local @ENV{qw(BACKEND COMPOSE_PROJECT_NAME)} = ('compose', $project);
            # One turn, at 5 s, and 5 s for it: asking the engine takes a
            # while (1.6 s at load 10), and a kill found past the
            # killer's end is not made.
            system("TARGETS=redis-host '$top/chaos/killer' 10 5 '$kills'");
            like(slurp($kills), qr/^\d+\t\d+\tredis-host\t\S+redis\d\S*\t\d+\n\z/,
                'compose: chaos/killer destroyed the master');
        },
        # The host away: the container's restart policy off, its pid 1
        # (tini) killed from the host; started again, policy back on.
        crash => sub {
            my $c = $id->($_[0]);
            run(30, 'docker', 'update', '--restart', 'no', $c);
            my ($pid) = (run(20, 'docker', 'inspect', '-f', '{{.State.Pid}}', $c))[1] =~ /(\d+)/;
            ok($pid && kill('KILL', $pid), "compose: $_[0]'s container (pid $pid) killed, held down");
        },
        back => sub {
            my $c = $id->($_[0]);
            run(60, 'docker', 'start', $c);
            run(30, 'docker', 'update', '--restart', 'always', $c);
        },
    );
    # The nodes by their addresses on the backend network, which the
    # host reaches; the Sentinels name them by service.
    my $deadline = time + 120;
    sleep 0.5 until (http_get($port, '/hits', {}, 2))[0] || time > $deadline;
    $c{sentinels} = [map { $ip->($_) . ':26379' } qw(sentinel1 sentinel2 sentinel3)];
    # A node's address changes when its container restarts: asked anew.
    tie my %reach, 'Reach', $ip;
    $c{reach} = \%reach;
    double_fault('compose', \%c);
}

package Guard;
sub DESTROY { $_[0][0]->() }

# A hash whose values are a container's address now, asked each time.
package Reach;
sub TIEHASH { bless { ip => $_[1] }, $_[0] }
sub FETCH { $_[0]{ip}->($_[1]) . ':6379' }
sub EXISTS { 1 }
