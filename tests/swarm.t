#!/usr/bin/perl
# swarm.t: the stack on a Docker Swarm of three hosts, each a container
# running its own engine (swarm/up). Brings the swarm up under its own
# name, checks the layout (the two Redis nodes on different hosts, the
# three Sentinels on three, the proxy on every host, the workers spread),
# that redis2 replicates redis1 across hosts and every Sentinel sees the
# other two, counts hits through two different hosts' proxies (a retry
# through the other host counted once), checks the totals in /hits, reads
# every service's log, and removes it all (swarm/down).
# Skips when no Docker engine answers; with CI=true that skip is a failure
# instead. Touches only its own swarm (crashonly-swarm-test-PID).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Crashonly qw(tmp expect_log expect_redis_churn need_docker);
use HTTP::Tiny;
use JSON::PP qw(decode_json);
use POSIX ();
use Test::More;
use Time::HiRes qw(time);

my $top = $Crashonly::TOP;

need_docker();

# A swarm starts every service at once: a worker started before Redis,
# or while the nodes find their roles, exits (112 or 113) and runsv
# starts it again. Nothing else may be fatal.
expect_redis_churn();
expect_log(qr/ level=fatal event=redis_timeout timeout_ms=\d+ pending=\d+$/);

my $name = "crashonly-swarm-test-$$";
$ENV{SWARM_NAME} = $name;
$ENV{SWARM_HOSTS} = 3;
$ENV{WORKERS} = 3;
delete $ENV{PROXY_PORT};
my $main = $$;

# Run CMD (no shell) under a time limit; returns (success, its stdout
# and stderr together).
sub run {
    my ($secs, @cmd) = @_;
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if (!$pid) {
        open(STDERR, '>&', \*STDOUT) and exec 'timeout', $secs, @cmd;
        POSIX::_exit(127);
    }
    my $out = do { local $/; <$fh> } // '';
    close $fh;
    return ($? == 0, $out);
}

# docker ARGS on host N of the swarm; its output.
sub on {
    my ($n, @args) = @_;
    my (undef, $out) = run(60, "$top/swarm/docker", $n, @args);
    return $out;
}

# Every service's log into tmp(), where Crashonly's END reads them.
sub keep_logs {
    mkdir tmp() . '/swarm';
    for my $svc (split ' ', on(1, 'service', 'ls', '--format', '{{.Name}}')) {
        my $log = on(1, 'service', 'logs', '--raw', '--timestamps', $svc);
        open(my $f, '>', tmp() . "/swarm/$svc.log") or next;
        print $f $log;
    }
}

END {
    if ($$ == $main) {
        local $?;
        keep_logs() if system('docker', 'inspect', "$name-h1") >> 8 == 0;
        my $t = time;
        my ($ok, $out) = run(120, "$top/swarm/down");
        diag("swarm/down: $out") unless $ok;
        diag(sprintf('swarm/down took %.1f s', time - $t));
    }
}
$SIG{INT} = $SIG{TERM} = sub { exit 1 };

my $t0 = time;
my ($up, $out) = run(900, "$top/swarm/up");
ok($up, 'swarm/up: three hosts, one swarm, the stack serving') or do {
    diag($out);
    BAIL_OUT('no swarm');
};
diag(sprintf('swarm/up took %.1f s', time - $t0));

# Where each running task is: service => [host, ...].
my %where;
for (split /\n/, on(1, 'service', 'ps', '--filter', 'desired-state=running',
        '--format', '{{.Name}} {{.Node}}', map { "crashonly_$_" }
        qw(redis1 redis2 sentinel1 sentinel2 sentinel3 worker proxy))) {
    my ($task, $node) = split ' ';
    my ($svc) = $task =~ /^crashonly_([a-z0-9]+)\./ or next;
    push @{ $where{$svc} }, $node;
}
my %distinct = map { $_ => 1 } map { @{ $where{$_} // [] } } qw(redis1 redis2);
is(scalar(keys %distinct), 2, 'the Redis nodes on two different hosts')
    or diag(explain(\%where));
%distinct = map { $_ => 1 } map { @{ $where{$_} // [] } } qw(sentinel1 sentinel2 sentinel3);
is(scalar(keys %distinct), 3, 'the Sentinels on three hosts');
is(join(' ', sort @{ $where{proxy} // [] }), 'h1 h2 h3', 'a proxy on every host');
%distinct = map { $_ => 1 } @{ $where{worker} // [] };
is(scalar(keys %distinct), 3, 'the three workers on three hosts');

# Replication across hosts, as the nodes and the Sentinels say.
my $h1 = $where{redis1}[0] // 'h1';
(my $n1 = $h1) =~ s/^h//;
my $c1 = on($n1, 'ps', '-q', '--filter', 'name=crashonly_redis1');
chomp $c1;
my $repl = on($n1, 'exec', $c1, 'redis-cli', '--user', 'node', 'info', 'replication');
like($repl, qr/^slave0:ip=redis2,port=6379,state=online/m,
    "redis1 (on $h1) has redis2 (on $where{redis2}[0]) online as its replica");
my $s1 = $where{sentinel1}[0] // 'h1';
(my $ns = $s1) =~ s/^h//;
my $cs = on($ns, 'ps', '-q', '--filter', 'name=crashonly_sentinel1');
chomp $cs;
my $master = on($ns, 'exec', $cs, 'redis-cli', '-p', '26379', 'sentinel', 'master', 'crashonly');
like($master, qr/^num-other-sentinels\n2$/m, 'sentinel1 sees the other two');
like($master, qr/^num-slaves\n1$/m, 'sentinel1 sees the replica');

# Hits through two hosts' proxies, each with its own key; then every key
# of h1's again through h2: counted once, the same numbers.
my %at;
for my $h (1, 2) {
    my (undef, $p) = run(20, 'docker', 'port', "$name-h$h", '8080/tcp');
    ($at{$h}) = $p =~ /^(\S+)$/m;
}
my $http = HTTP::Tiny->new(timeout => 10);
my $before = eval { decode_json($http->get("http://$at{1}/hits")->{content})->{total} };
ok(defined $before, "/hits through h1 before: $before") or diag('no /hits');
$before //= 0;
my (%number, %workers, @bad);
for my $h (1, 2) {
    for my $k (1 .. 10) {
        my $r = $http->get("http://$at{$h}/",
            { headers => { 'Idempotency-Key' => "swarm-$$-h$h-$k" } });
        push @bad, "h$h $k: $r->{status}" unless $r->{status} == 200;
        $number{"h$h-$k"} = $r->{headers}{'x-hits'};
        $workers{ $r->{headers}{'x-worker'} // '' }++;
    }
}
is(scalar(@bad), 0, '20 hits counted through h1 and h2') or diag("@bad");
my %seen = map { ($_ // '') => 1 } values %number;
is(scalar(keys %seen), 20, 'each hit its own number');
cmp_ok(scalar(keys %workers), '>=', 2, 'answered by more than one worker');
my @moved;
for my $k (1 .. 10) {
    my $r = $http->get("http://$at{2}/",
        { headers => { 'Idempotency-Key' => "swarm-$$-h1-$k" } });
    push @moved, "$k: $r->{status} " . ($r->{headers}{'x-hits'} // '-')
        unless $r->{status} == 200 && ($r->{headers}{'x-hits'} // '') eq $number{"h1-$k"};
}
is(scalar(@moved), 0, "h1's hits retried through h2: the first answers again") or diag("@moved");

# The totals, as each host's proxy reports them: the 20 hits more.
for my $h (1, 2) {
    my $r = $http->get("http://$at{$h}/hits");
    my $hits = eval { decode_json($r->{content}) } // {};
    my $sum = 0;
    $sum += $_ for values %{ $hits->{workers} // {} };
    is($hits->{total}, $before + 20, "/hits through h$h: 20 more");
    is($sum, $hits->{total} // -1, "/hits through h$h: the workers' counts add up");
}

done_testing();
