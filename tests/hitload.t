#!/usr/bin/perl
# hitload.t: build/hitload against a real local stack (stack/up in a temp
# dir, free ports): a short closed-loop and open-loop run whose ledger has
# one line a request, unique keys and distinct numbers, and whose summary
# agrees with it and with /hits; then the runs it must refuse or record as
# failures (a host off loopback, no -d, nobody listening, a 404). Then
# several entry points, without the stack: two real workers on one real
# Redis, a closed port and a listener that never answers; every request
# ends acknowledged on a worker, counted once, each entry's share in the
# summary; and the entry lists it must refuse.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Crashonly;
use JSON::PP qw(decode_json);
use Test::More;

my $top = $Crashonly::TOP;
my $hitload = "$top/build/hitload";
plan skip_all => 'no build/hitload: run make' unless -x $hitload;
plan skip_all => 'no build/crashonly: run make'
    unless -x "$top/build/crashonly";
for my $bin (qw(redis-server nginx runsvdir svlogd curl)) {
    plan skip_all => "$bin is not installed"
        unless grep { -x "$_/$bin" } split /:/, $ENV{PATH};
}

my $dir = tmp() . '/hitload';
mkdir $dir;
my %env = (STATE => "$dir/stack", PORT => free_port(),
    REDIS_PORT => free_ports(2), SENTINEL_PORT => free_ports(3),
    WORKER_PORT => free_ports(2), WORKERS => 2,
    WORKER_ENV => '');
my $envs = join ' ', map { "$_='$env{$_}'" } sort keys %env;
my $url = "http://127.0.0.1:$env{PORT}/";
my $tag = "t$$"; # the run ids: $tag$name

my $up = `env $envs '$top/stack/up' 2>&1`;
my $up_ok = $? == 0;
END {
    local $?;
    system("env $envs '$top/stack/down' >/dev/null 2>&1") if $up_ok;
}
ok($up_ok, 'stack/up in a temp dir') or BAIL_OUT("stack/up failed: $up");

sub slurp {
    open(my $f, '<', $_[0]) or return undef;
    local $/;
    return scalar <$f>;
}

sub total {
    my ($st, undef, $body) = http_get($env{PORT}, '/hits', {}, 5);
    return defined $st && $st == 200 ? decode_json($body)->{total} : undef;
}

# Run hitload with @args and every output in $out/; returns its exit code.
sub hitload {
    my ($out, @args) = @_;
    mkdir $out;
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        open(STDOUT, '>', "$out/stdout") or exit 127;
        open(STDERR, '>', "$out/stderr") or exit 127;
        exec $hitload, '--ledger', "$out/ledger.tsv", '--summary',
            "$out/summary.json", '--series', "$out/series.csv", '--status',
            "$out/status", @args;
        exit 127;
    }
    waitpid($pid, 0);
    return $? >> 8;
}

# The ledger as a list of [key, attempts, status, hits, worker, latency,
# sent, done].
sub ledger {
    my ($file) = @_;
    open(my $f, '<', $file) or return [];
    return [map { chomp; [split /\t/, $_, -1] } <$f>];
}

# A run that must balance: ledger, summary and /hits tell one story.
sub balanced_run {
    my ($name, @args) = @_;
    my $out = "$dir/$name";
    my $before = total();
    is(hitload($out, '--run', "$tag$name", @args, $url), 0,
        "$name: exits 0") or diag(slurp("$out/stderr"));
    my $after = total();
    my $sum = eval { decode_json(slurp("$out/summary.json") // '') };
    ok($sum, "$name: the summary is JSON") or diag($@);
    $sum //= {};
    my $l = ledger("$out/ledger.tsv");
    my (%keys, %hits);
    my ($acked, $zero, $dups, $badline, $badtime) = (0, 0, 0, 0, 0);
    for (@$l) {
        my ($key, $att, $st, $h, $w, $lat, $sent, $done) = @$_;
        $badline++ unless @$_ == 8 && $key =~ /^$tag$name-\d+$/ &&
            $att =~ /^[1-9]\d*$/ && $st =~ /^\d+$/ && $h =~ /^-?\d+$/ &&
            length $w && $lat =~ /^\d+$/ && $sent =~ /^\d+$/ &&
            $done =~ /^\d+$/;
        # The monotonic clock in us: a request ends after it began, and
        # in a closed loop it took no longer than its latency.
        $badtime++ unless ($sent // 0) > 0 && ($done // 0) >= $sent &&
            ($name ne 'closed' || $done - $sent <= $lat + 1000);
        $keys{$key}++;
        if ($st == 200 && $h >= 0) {
            $acked++;
            $dups++ if $hits{$h}++;
        }
        $zero++ if $st == 0;
    }
    ok(@$l > 0, "$name: requests were made (" . @$l . ')');
    is($badline, 0, "$name: every ledger line has eight well-formed fields");
    is($badtime, 0, "$name: each request's first send comes before its end");
    my @ends = map { $_->[7] // 0 } @$l;
    is(scalar(grep { $ends[$_] < $ends[$_ - 1] } 1 .. $#ends), 0,
        "$name: lines in the order the requests ended");
    is(scalar @$l, $sum->{attempted}, "$name: one ledger line a request");
    is(scalar keys %keys, scalar @$l, "$name: every key is unique");
    is($acked, $sum->{acknowledged},
        "$name: acknowledged == ledger lines with 200 and X-Hits");
    is($zero, $sum->{indeterminate}, "$name: indeterminate == status 0");
    is($sum->{acknowledged} + $sum->{indeterminate} + $sum->{rejected},
        $sum->{attempted}, "$name: every request is counted once");
    is($dups, 0, "$name: no X-Hits value was handed out twice");
    ok(defined $sum->{latency_us}{p99} && @{ $sum->{histogram} // [] },
        "$name: latency percentiles and a histogram");
    my $n = 0;
    $n += $_->[1] for @{ $sum->{histogram} // [] };
    is($n, $sum->{acknowledged} + $sum->{rejected},
        "$name: the histogram holds every answered request");
    SKIP: {
        skip "$name: indeterminate requests", 1 if $zero;
        is($after - $before, $acked, "$name: /hits grew by acknowledged");
    }
    my @series = split /\n/, slurp("$out/series.csv") // '';
    is($series[0], 't_ms,answered,retried,failed,p99_us',
        "$name: the series' header");
    my $answered = 0;
    $answered += (split /,/)[1] for @series[1 .. $#series];
    is($answered, $acked, "$name: the series' answered add up");
    like(slurp("$out/status") // '', qr/^\d+\.\d \d+ \d+ \d+ 0 \d+\n$/,
        "$name: the status line");
    like(slurp("$out/stdout") // '', qr/^hitload: .* \d+ acknowledged/,
        "$name: one line on stdout");
    return $sum;
}

my $closed = balanced_run('closed', '-c', 8, '-d', 2);
is($closed->{mode}, 'closed', 'closed: mode');
ok(!defined $closed->{rate}, 'closed: rate is null');
my $open = balanced_run('open', '-c', 16, '-R', 300, '-d', 2);
is($open->{mode}, 'open', 'open: mode');
is($open->{rate}, 300, 'open: rate');
ok($open->{attempted} >= 500 && $open->{attempted} <= 601,
    "open: about 2 s x 300/s started ($open->{attempted})");

# What it must refuse, or record as failed.
is(hitload("$dir/far", '-d', 1, 'http://192.0.2.1:80/'), 100,
    'a host off loopback is refused (exit 100)');
ok(!-e "$dir/far/ledger.tsv", '... before any file is written');
is(hitload("$dir/nod", $url), 100, 'no -d is refused (exit 100)');
is(hitload("$dir/badkey", '-d', 1, '--run', 'a b', $url), 100,
    'a run id that makes a bad key is refused (exit 100)');

my $dead = free_port();
is(hitload("$dir/refused", '-c', 2, '-d', 0.3, '--attempts', 3,
        '--backoff-ms', 1, "http://127.0.0.1:$dead/"), 0,
    'nobody listening: exits 0 all the same');
my $r = eval { decode_json(slurp("$dir/refused/summary.json")) } // {};
ok($r->{attempted} > 0 && $r->{indeterminate} == $r->{attempted} &&
    !$r->{acknowledged}, 'nobody listening: every request indeterminate');
is($r->{errors}{connect}, 3 * $r->{attempted},
    'nobody listening: --attempts connects a request');
is($r->{retries}, 2 * $r->{attempted}, 'nobody listening: retries counted');
my $rl = ledger("$dir/refused/ledger.tsv");
is(scalar(grep { $_->[1] == 3 && $_->[2] == 0 && $_->[3] == -1 &&
    $_->[4] eq '-' } @$rl), scalar @$rl,
    'nobody listening: ledger lines say 3 attempts, status 0, no hits');

is(hitload("$dir/404", '-c', 2, '-d', 0.5, '-n', 20,
        "http://127.0.0.1:$env{PORT}/nope"), 0, 'a 404: exits 0');
$r = eval { decode_json(slurp("$dir/404/summary.json")) } // {};
is_deeply([@$r{qw(attempted rejected acknowledged retries)}],
    [20, 20, 0, 0], 'a 404 is final: 20 rejected, no retries (-n 20)');

# ---- several entry points ------------------------------------------------
# In order: worker 1, a closed port (refused), a listener that reads each
# request, writes down its key and never answers (timeout), worker 2.
# With -c 8 two connections start on each; those on the closed port move
# to the silent one, and those on the silent one to worker 2.
my ($rpid, $rport) = start_redis();
my @wport = map {
    my $port = free_port();
    start_worker(PORT => $port, BIND => '127.0.0.1', WORKER_NAME => "entry$_",
        REDIS_URL => "redis://127.0.0.1:$rport");
    wait_ready($port, 5) or BAIL_OUT("worker entry$_ did not start");
    $port;
} 1, 2;
my $closed_port = free_port();
my $silent_port = free_port();
my $silent_keys = "$dir/silent.keys";
my $silent = <<'PERL';
use IO::Socket::INET;
my ($port, $out) = @ARGV;
my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
    Listen => 128, ReuseAddr => 1) or die "listen: $!";
open(my $f, '>', "$out.tmp") or die "$out: $!";
$f->autoflush(1);
rename("$out.tmp", $out) or die "rename: $!";
my @held; # never answered, never closed
while (my $s = $l->accept) {
    push @held, $s;
    my ($buf, $rin) = ('', '');
    vec($rin, fileno($s), 1) = 1;
    while ($buf !~ /\r\n\r\n/ && select(my $r = $rin, undef, undef, 1)) {
        sysread($s, $buf, 4096, length $buf) or last;
    }
    print $f "$1\n" if $buf =~ /^Idempotency-Key: (\S+)\r$/mi;
}
PERL
Crashonly::spawn('silent', "$dir/silent.out", {}, $^X, '-e', $silent,
    $silent_port, $silent_keys);
for (1 .. 500) { last if -e $silent_keys; select(undef, undef, undef, 0.01) }
ok(-e $silent_keys, 'the silent listener listens');

my @entries = map { "http://127.0.0.1:$_/" }
    $wport[0], $closed_port, $silent_port, $wport[1];
my $eout = "$dir/entries";
is(hitload($eout, '--run', "${tag}entries", '-c', 8, '-d', 2,
        '--timeout-ms', 300, '--backoff-ms', 1, @entries), 0,
    'four entry points: exits 0') or diag(slurp("$eout/stderr"));
my $es = eval { decode_json(slurp("$eout/summary.json") // '') } // {};
my @e = @{ $es->{entries} // [] };
ok($es->{acknowledged} && $es->{acknowledged} == $es->{attempted},
    "every request acknowledged ($es->{acknowledged} of $es->{attempted})");
is_deeply([map { $_->{url} } @e], \@entries,
    'the summary names the entries in order');
is_deeply([map { $_->{address} } @e],
    [map { "127.0.0.1:$_" } $wport[0], $closed_port, $silent_port, $wport[1]],
    '... with their addresses');
ok($e[1]{errors}{connect} >= 2 && !$e[1]{errors}{timeout},
    "the closed port refused ($e[1]{errors}{connect} connects)");
ok($e[2]{errors}{timeout} >= 2 && !$e[2]{errors}{connect},
    "the silent listener timed out ($e[2]{errors}{timeout} attempts)");
is(join(' ', map { $_->{acknowledged} + $_->{indeterminate} + $_->{rejected} }
        @e[1, 2]), '0 0', 'no request ended on those two');
ok($e[0]{acknowledged} > 0 && $e[3]{acknowledged} > 0,
    "both workers' entries have a share ($e[0]{acknowledged}, "
    . "$e[3]{acknowledged})");
is($e[0]{acknowledged} + $e[3]{acknowledged}, $es->{acknowledged},
    '... and the shares add up to the acknowledged');
my (undef, undef, $hb) = http_get($wport[0], '/hits', {}, 5);
my $hits = eval { decode_json($hb // '') } // {};
is($hits->{total}, $es->{acknowledged},
    'Redis counted each acknowledged request once: the total equals them');
is_deeply([@{ $hits->{workers} // {} }{qw(entry1 entry2)}],
    [$e[0]{acknowledged}, $e[3]{acknowledged}],
    "each worker counted its entry's share");
my $el = ledger("$eout/ledger.tsv");
my %line = map { $_->[0] => $_ } @$el;
is(scalar(grep { @$_ == 8 && $_->[2] == 200 } @$el), scalar @$el,
    'the ledger keeps its eight fields, every line a 200');
my %seen;
is(scalar(grep { $seen{$_->[3]}++ } @$el), 0, 'no X-Hits value twice');
my @held = split /\n/, slurp($silent_keys) // '';
ok(@held >= 2, 'the silent listener got requests (' . @held . ')');
is(scalar(grep { my $l = $line{$_};
        $l && $l->[1] >= 2 && $l->[2] == 200 && $l->[4] eq 'entry2' } @held),
    scalar @held, '... each acknowledged later by worker 2, same key, '
    . 'a retry');
like(slurp("$eout/stdout") // '', qr/^hitload: acknowledged by entry point: (?:\S+ \d+, ){3}\S+ \d+$/m,
    'stdout: the acknowledged by entry point');

# Entry lists it must refuse: one line on stderr, exit 100.
for (["a bad second URL", 'htp://x', qr/^hitload: the URL must start with http:\/\/: htp:\/\/x\n\z/],
    ['a second URL off loopback', 'http://192.0.2.1/', qr/^hitload: refusing to load 192\.0\.2\.1: .*\n\z/],
    ['17 URLs', (map { "http://127.0.0.1:$_/" } 1 .. 16), qr/^hitload: more than 16 URLs\n\z/]) {
    my ($what, @more) = @$_;
    my $re = pop @more;
    my $out = "$dir/refuse-" . ($what =~ tr/a-z0-9/_/cr);
    is(hitload($out, '-d', 1, "http://127.0.0.1:$wport[0]/", @more), 100,
        "$what: exit 100");
    like(slurp("$out/stderr") // '', $re, "$what: one line says why");
    ok(!-e "$out/ledger.tsv", "$what: before any file is written");
}

done_testing();
