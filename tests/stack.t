#!/usr/bin/perl
# stack.t: the local stack (stack/up: redis, nginx, workers under runit)
# in a temp dir on free ports, through nginx, with workers killed under load.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Crashonly;
use JSON::PP qw(decode_json);
use POSIX qw(:sys_wait_h _exit);
use Test::More;
use Time::HiRes qw(time sleep);

my $top = $Crashonly::TOP;
my $state = tmp() . '/stack';
my $port = free_port();
my $rport = free_ports(2);
my $wport = free_ports(3);
my %env = (STATE => $state, PORT => $port, REDIS_PORT => $rport,
    SENTINEL_PORT => free_ports(3), WORKER_PORT => $wport, WORKERS => 3,
    WORKER_ENV => '');

# Run a stack script with %env plus %more; returns (exit code, output).
sub stack {
    my ($script, %more) = @_;
    my %e = (%env, %more);
    my $cmd = join ' ', map({ "$_='$e{$_}'" } sort keys %e),
        "$top/stack/$script 2>&1";
    my $out = `env $cmd`;
    return ($? >> 8, $out);
}

# stack/down for every STATE this file may have brought up.
my @states = ($state);
END {
    local $?;
    for my $st (@states) {
        system("STATE='$st' '$top/stack/down' >/dev/null 2>&1")
            if -e "$st/stack.pid";
    }
}

# The pids in the process group runsvdir leads (zombies left out).
sub group_pids {
    my ($pgid) = @_;
    my @pids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open(my $f, '<', $stat) or next;
        my $line = <$f> // next;
        my ($pid, $st, $pg) = $line =~ /^(\d+) \(.*\) (\S) \d+ (\d+)/ or next;
        push @pids, $pid if $pg == $pgid && $st ne 'Z';
    }
    return @pids;
}

# True when pid runs (a zombie, killed and not yet reaped, does not).
sub alive {
    my ($pid) = @_;
    open(my $f, '<', "/proc/$pid/stat") or return 0;
    return (<$f> // '') !~ /^\d+ \(.*\) Z/;
}

sub worker_pid {
    my ($i) = @_;
    open(my $f, '<', "$state/sv/w$i/supervise/pid") or return 0;
    my $pid = <$f> // 0;
    chomp $pid;
    return $pid || 0;
}

sub hits {
    my ($st, $h, $body) = http_get($port, '/hits');
    return defined $st && $st == 200 ? decode_json($body) : {};
}

# ---- up -----------------------------------------------------------------
my $t0 = time;
my ($rc, $out) = stack('up');
is($rc, 0, 'stack/up exits 0') or diag($out);
diag(sprintf 'stack/up took %.2f s', time - $t0);
like($out, qr/^up: nginx http:\/\/127\.0\.0\.1:$port\//m, 'stack/up says so');
open(my $pf, '<', "$state/stack.pid");
my $group = <$pf> // 0;
chomp $group;
ok($group > 0 && kill(0, $group), "runsvdir runs (pid $group)");
BAIL_OUT("the stack did not start:\n$out") if $rc != 0;

# ---- counting through nginx ---------------------------------------------
{
    my ($st, $h, $body) = http_get($port, '/readyz');
    is($st, 200, 'nginx /readyz 200');
    my $before = hits()->{total} // 0;
    my (%by, @errors);
    for (1 .. 30) {
        ($st, $h, $body) = http_get($port, '/');
        $by{ defined $st && $st == 200 ? $h->{'x-worker'} : 'error' }++;
        push @errors, $st // 'no answer' if !defined $st || $st != 200;
    }
    is("@errors", '', '30 GETs through nginx: all 200');
    is_deeply([sort keys %by], [qw(w1 w2 w3)],
        'requests spread over all three workers ('
        . join(' ', map { "$_=$by{$_}" } sort keys %by) . ')');
    like($body, qr/^Hello World! I am w[123], seen \d+ times\.\n$/, 'body');
    my $hits = hits();
    is($hits->{total}, $before + 30, 'total rose by 30');
    my $sum = 0;
    $sum += $_ for values %{ $hits->{workers} };
    is($sum, $hits->{total}, 'per-worker totals add up to the total');

    my %n;
    for (1 .. 20) {
        ($st, $h) = http_get($port, '/', { 'X-Request-Id' => 'stack-once' });
        $n{ $h->{'x-hits'} // 'error' }++;
    }
    is(scalar(keys %n), 1, 'one X-Request-Id through nginx counts once');
    is(hits()->{total}, $before + 31, 'total rose by exactly 1 for it');
}

# ---- up twice, ports in use ---------------------------------------------
{
    ($rc, $out) = stack('up');
    is($rc, 0, 'stack/up again: exit 0');
    like($out, qr/already up/, 'stack/up again: says already up');

    my %other = (STATE => tmp() . '/other', REDIS_PORT => free_ports(2),
        SENTINEL_PORT => free_ports(3), WORKER_PORT => free_ports(3));
    push @states, $other{STATE};
    ($rc, $out) = stack('up', %other);
    isnt($rc, 0, 'second stack on the same PORT: non-zero exit');
    like($out, qr/port $port .*in use/, 'second stack: names the port')
        or diag($out);
    ok(!-e "$other{STATE}/stack.pid", 'second stack: started nothing');
}

# ---- workers SIGKILLed under load ---------------------------------------
{
    my $before = hits()->{total};
    my @old = map { worker_pid($_) } 1 .. 3;
    ok(!grep({ !$_ } @old), "worker pids: @old");

    # The killer: w1, w2, w1, w2, each time waiting for runit's new pid,
    # so that one worker is always up. Exits with how many it killed.
    my $killer = fork() // die "fork: $!";
    if ($killer == 0) {
        $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP); # no END blocks here
        my $killed = 0;
        for my $i (1, 2, 1, 2) {
            sleep 0.3;
            my $pid = worker_pid($i);
            $pid > 1 && kill('KILL', $pid) and $killed++; # never kill 0
            my $until = time + 5;
            sleep 0.02 while worker_pid($i) == $pid && time < $until;
            my $p = $wport + $i - 1;
            sleep 0.02 while !wait_ready($p, 0.1) && time < $until;
        }
        sleep 0.3;
        _exit($killed);
    }

    my ($ok, $bad, $errors, $sent) = (0, 0, 0, 0);
    my %codes;
    my $s;
    my $rest = '';
    my $until = time + 30;
    my $killer_st;
    while ((!defined $killer_st || $sent < 2000) && time < $until) {
        $killer_st //= $? >> 8 if waitpid($killer, WNOHANG) == $killer;
        $s //= http_conn($port) or do { $errors++; sleep 0.01; next };
        $sent++;
        if (!syswrite($s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")) {
            $errors++;
            undef $s;
            next;
        }
        my ($st, $h) = read_response($s, 5, \$rest);
        if (!defined $st) {
            $errors++;
            undef $s;
            $rest = '';
            next;
        }
        undef $s if lc($h->{connection} // '') eq 'close'; # keepalive_requests
        if ($st == 200) {
            $ok++;
        } else {
            $bad++;
            $codes{$st}++;
        }
    }
    if (!defined $killer_st) {
        kill 'KILL', $killer;
        waitpid($killer, 0);
    }
    diag("$sent requests during the kills: $ok 200s, $bad others "
        . join(' ', %codes) . ", $errors connection errors");
    is($killer_st, 4, 'four workers were SIGKILLed');
    cmp_ok($sent, '>=', 2000, 'at least 2000 requests were sent');
    is($bad, 0, 'no answer but 200');
    is($errors, 0, 'no connection errors');
    is(hits()->{total}, $before + $ok, 'every 200 counted exactly once');

    my @new = map { worker_pid($_) } 1 .. 3;
    ok($new[0] && $new[0] != $old[0], "w1 restarted by runit ($old[0] -> $new[0])");
    ok($new[1] && $new[1] != $old[1], "w2 restarted by runit ($old[1] -> $new[1])");
    is($new[2], $old[2], 'w3 untouched');
    for my $i (1, 2) {
        my ($st, $h) = http_get($wport + $i - 1, '/');
        is($h->{'x-worker'} // 'none', "w$i", "restarted w$i serves on its port");
    }
}

# ---- down ---------------------------------------------------------------
{
    my @pids = group_pids($group);
    cmp_ok(scalar @pids, '>=', 1 + 2 * 9 + 2 + 3 + 1 + 3,
        'the group holds runsvdir, runsvs and svlogds, two Redis nodes, three '
        . 'Sentinels, nginx, workers (' . scalar(@pids) . ' pids)');
    ($rc, $out) = stack('down');
    is($rc, 0, 'stack/down exits 0');
    my $until = time + 3;
    my @alive;
    do {
        @alive = grep { alive($_) } @pids;
    } while (@alive && time < $until && sleep 0.05);
    is("@alive", '', 'stack/down: none of the stack\'s pids is alive');
    kill 'KILL', @alive; # if down failed, they are still ours to end
    is(http_conn($port, 1), undef, 'nginx port closed');
    ok(!-e "$state/stack.pid", 'stack.pid removed');
}

done_testing();
