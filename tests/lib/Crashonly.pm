# Crashonly.pm: what the .t files share: free loopback ports, a temp dir,
# real redis-server and worker processes, and HTTP over raw sockets.
#
# Every process it starts is remembered, and at exit (END) SIGKILLed by
# its pid and reaped: never anything else, never by name.
#
# Then END reads every log under tmp() (the logs section below says which
# files count) as nginx-tests reads its error log: a sanitizer report, a
# worker's level=fatal line or an nginx [alert] or [emerg] fails the test
# file, with the lines printed, unless the file declared it with
# expect_log(qr/.../) because it provokes it on purpose.
#
# Paths are absolute ($TOP is the checkout, found from this file), so a
# .t runs from any directory.
package Crashonly;
use strict;
use warnings;
use Crashonly::Bucket ();
use Cwd qw(abs_path);
use Exporter 'import';
use File::Basename qw(dirname);
use File::Find ();
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX qw(:sys_wait_h _exit);
use Time::HiRes qw(time sleep);

our @EXPORT = qw(free_port free_ports tmp start_redis start_sentinel redis_cmd read_resp constants id_bucket id_key id_number start_worker
  worker_log wait_exit wait_ready http_get raw_request read_response
  http_conn closed_within status_of expect_log expect_redis_churn need_docker run_timed compose_down
  wait_for state_of);

our $TOP = abs_path(dirname(__FILE__) . '/../..');
my $BIN = "$TOP/build/crashonly";
# KEEP_TMP=1 keeps it (logs, ledgers) after the test, and names it.
my $TMP = tempdir('crashonly-test-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{KEEP_TMP});
print STDERR "# files kept in $TMP\n" if $ENV{KEEP_TMP};
my %started; # pid => what, for the processes this file started
my $parent = $$;

sub tmp { $TMP }

# A port nothing listens on now (the kernel's pick).
sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
        Listen => 1, Proto => 'tcp') or die "free_port: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

# n consecutive free ports; returns the first.
sub free_ports {
    my ($n) = @_;
    for (1 .. 200) {
        my $base = 20000 + int(rand(12000)); # below the ephemeral ports
        my @held;
        for my $p ($base .. $base + $n - 1) {
            my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                LocalPort => $p, Listen => 1, Proto => 'tcp') or last;
            push @held, $s;
        }
        my $got = @held;
        close $_ for @held;
        return $base if $got == $n;
    }
    die "free_ports: no $n consecutive free ports";
}

# fork and exec @cmd with %env added, stdout and stderr to $log.
sub spawn {
    my ($what, $log, $env, @cmd) = @_;
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        @ENV{keys %$env} = values %$env;
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>', $log) or _exit(127);
        open(STDERR, '>&', \*STDOUT) or _exit(127);
        { no warnings 'exec'; exec { $cmd[0] } @cmd; }
        _exit(127);
    }
    $started{$pid} = $what;
    return $pid;
}

# A real redis-server on a free port, persisting nothing. Returns
# (pid, port) once it answers PING; dies if it does not within 5 s.
sub start_redis {
    my (%opt) = @_;
    my $port = $opt{port} // free_port();
    my $dir = "$TMP/redis-$port";
    mkdir $dir;
    my $pid = spawn('redis-server', "$dir/log", {}, $opt{bin} // 'redis-server',
        '--port', $port, '--bind', '127.0.0.1', '--dir', $dir,
        '--save', '', '--appendonly', 'no', '--daemonize', 'no',
        @{ $opt{args} // [] });
    my $until = time + 5;
    while (time < $until) {
        my $r = eval { redis_cmd($port, 'PING') };
        return ($pid, $port) if defined $r && $r eq 'PONG';
        sleep 0.01;
    }
    die "redis-server on port $port did not answer; see $dir/log";
}

# A real Sentinel (redis-server --sentinel) on a free port, watching the master at
# 127.0.0.1:$master as $name (default crashonly) with quorum $quorum
# (default 2), down after $down ms (default 1000). Returns (pid, port)
# once it answers PING.
sub start_sentinel {
    my (%opt) = @_;
    my $port = free_port();
    my $dir = "$TMP/sentinel-$port";
    mkdir $dir;
    my $name = $opt{name} // 'crashonly';
    open(my $f, '>', "$dir/sentinel.conf") or die "$dir/sentinel.conf: $!";
    print $f "port $port\nbind 127.0.0.1\ndir $dir\n",
        "sentinel monitor $name 127.0.0.1 $opt{master} ", $opt{quorum} // 2, "\n",
        "sentinel down-after-milliseconds $name ", $opt{down} // 1000, "\n",
        "sentinel failover-timeout $name 10000\n";
    close $f;
    my $pid = spawn('redis-sentinel', "$dir/log", {}, 'redis-server',
        "$dir/sentinel.conf", '--sentinel');
    my $until = time + 5;
    while (time < $until) {
        my $r = eval { redis_cmd($port, 'PING') };
        return ($pid, $port) if defined $r && $r eq 'PONG';
        sleep 0.01;
    }
    die "redis-sentinel on port $port did not answer; see $dir/log";
}

# Send one command to Redis, return its reply: a string, an integer, an
# array ref, or 'ERR ...' text for an error (prefixed with '-').
sub redis_cmd {
    my ($port, @args) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
        Proto => 'tcp', Timeout => 2) or die "redis $port: $!";
    $s->autoflush(1);
    $s->sockopt(SO_RCVTIMEO, pack('l!l!', 2, 0)); # a stalled Redis: 2 s
    print $s '*' . @args . "\r\n",
        map { '$' . length($_) . "\r\n$_\r\n" } @args;
    my $r = read_resp($s);
    close $s;
    return $r;
}

# The worker's constants, as build/crashonly --constants prints them (the
# one home of its exit codes, ID_BUCKETS and FNV's numbers): NAME => value.
my %constants;
sub constants {
    return \%constants if %constants;
    open(my $f, '-|', $BIN, '--constants') or die "$BIN --constants: $!\n";
    %constants = map { /^(\w+)=(.*)$/ ? ($1, $2) : () } <$f>;
    close $f or die "$BIN --constants failed\n";
    return \%constants;
}

# The bucket of id $id, as function_bucket (crashonly/function.c) gives it
# (Crashonly/Bucket.pm): FNV-1a (32 bits) of its bytes, modulo ID_BUCKETS.
sub id_bucket { return Crashonly::Bucket::fnv_bucket($_[0], constants()) }

# The hash that holds id $id in the Redis at $port: its bucket's, in the
# layout of the schema the loaded library says (co_version), as ids_key
# in crashonly/function.lua names it.
sub id_key {
    my ($port, $id) = @_;
    my $v = redis_cmd($port, 'FCALL_RO', 'co_version', 0);
    my $schema = ref $v eq 'ARRAY' ? $v->[1] : 1;
    return 'crashonly:ids:' . ($schema == 1 ? '' : "$schema:") . id_bucket($id);
}

# The number Redis holds for id $id, a field of its bucket's hash, or
# undef; and the seconds left before it expires.
sub id_number {
    my ($port, $id) = @_;
    my $key = id_key($port, $id);
    my $n = redis_cmd($port, 'HGET', $key, $id);
    return $n unless wantarray && defined $n;
    return ($n, redis_cmd($port, 'HTTL', $key, 'FIELDS', 1, $id)->[0]);
}

sub read_resp {
    my ($s) = @_;
    defined(my $line = <$s>) or die "redis: no reply";
    $line =~ s/\r\n$//;
    my ($t, $rest) = (substr($line, 0, 1), substr($line, 1));
    return $rest if $t eq '+' || $t eq ':';
    return "-$rest" if $t eq '-';
    if ($t eq '$') {
        return undef if $rest < 0;
        read($s, my $data, $rest + 2);
        return substr($data, 0, $rest);
    }
    return [map { read_resp($s) } 1 .. $rest] if $t eq '*';
    die "redis: cannot read '$line'";
}

# need_docker: the whole file skipped when no Docker engine answers; a
# failure instead with CI=true, where there is one (a skip there would
# hide a broken stack). For the files that test a stack on the engine.
sub need_docker {
    return if system('timeout 20 docker info >/dev/null 2>&1') == 0;
    require Test::More;
    if (($ENV{CI} // '') eq 'true') {
        Test::More::plan(tests => 1);
        Test::More::fail('a Docker engine answers (CI=true)');
        exit 1;
    }
    Test::More::plan(skip_all => 'no Docker engine');
}

# run_timed(SECONDS, CMD...): CMD under a time limit; (success, stdout,
# stderr).
sub run_timed {
    my ($secs, @cmd) = @_;
    my $err = File::Temp->new;
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if (!$pid) {
        open(STDERR, '>&', $err) and exec 'timeout', $secs, @cmd;
        _exit(127);
    }
    my $out = do { local $/; <$fh> } // '';
    close $fh;
    my $ok = $? == 0;
    seek $err, 0, 0;
    return ($ok, $out, do { local $/; <$err> } // '');
}

# compose_down(COMPOSE, SERVICE...): each service's log kept under
# tmp()/compose/, where the log scan reads it (the containers and their
# logs go with down), then the project down with its volumes. COMPOSE:
# the command, as an array reference (compose/run -p PROJECT ...).
sub compose_down {
    my ($compose, @services) = @_;
    mkdir "$TMP/compose";
    for my $service (@services) {
        my (undef, $log) = run_timed(60, @$compose, 'logs', '--no-color', $service);
        open(my $f, '>', "$TMP/compose/$service.log") or next;
        print $f $log;
    }
    run_timed(120, @$compose, 'down', '-v', '--remove-orphans', '-t', '0');
}

# Start build/crashonly with %env (over this process's environment, with
# the worker's own variables cleared). -args => [...] adds arguments;
# -bin => 'next' or 'broken' starts that test build (build/next/crashonly).
# Returns the pid; its output goes to worker_log($pid).
sub start_worker {
    my (%env) = @_;
    my $args = delete $env{-args} // [];
    my $bin = $BIN;
    $bin = "$TOP/build/$_/crashonly" for grep { defined } delete $env{-bin};
    my %clean = map { $_ => '' } qw(PORT BIND WORKER_NAME REDIS_URL
      DEDUPE_SECONDS REDIS_TIMEOUT_MS IDLE_TIMEOUT_MS HEADER_TIMEOUT_MS
      MAX_CONNS REDIS_SENTINELS REDIS_MASTER_NAME ACK_REPLICAS);
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        @ENV{keys %clean} = values %clean;
        @ENV{keys %env} = values %env;
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>', "$TMP/worker-$$.log") or _exit(127);
        open(STDERR, '>&', \*STDOUT) or _exit(127);
        { no warnings 'exec'; exec { $bin } $bin, @$args; }
        _exit(127);
    }
    $started{$pid} = 'crashonly';
    return $pid;
}

sub worker_log {
    my ($pid) = @_;
    open(my $f, '<', "$TMP/worker-$pid.log") or return '';
    local $/;
    return scalar <$f>;
}

# Wait up to $timeout s for a process we started to end. Returns its wait
# status ($?), or undef if it still runs.
sub wait_exit {
    my ($pid, $timeout) = @_;
    my $until = time + ($timeout // 5);
    while (1) {
        my $r = waitpid($pid, WNOHANG);
        if ($r == $pid) {
            delete $started{$pid};
            return $?;
        }
        return undef if $r < 0 || time >= $until;
        sleep 0.002;
    }
}

# "exit N", "signal N" or "running", for test names and diagnostics.
sub status_of {
    my ($st) = @_;
    return 'running' unless defined $st;
    return 'signal ' . ($st & 127) if $st & 127;
    return 'exit ' . ($st >> 8);
}

# Poll GET /healthz until it is 200; true if it was within $timeout s.
sub wait_ready {
    my ($port, $timeout) = @_;
    my $until = time + ($timeout // 5);
    while (time < $until) {
        my ($st) = http_get($port, '/healthz', {}, 1);
        return 1 if defined $st && $st == 200;
        sleep 0.005;
    }
    return 0;
}

# A connected socket to 127.0.0.1:$port, or undef.
sub http_conn {
    my ($port, $timeout) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
        Proto => 'tcp', Timeout => $timeout // 2) or return undef;
    $s->autoflush(1);
    return $s;
}

# Read bytes into $$buf until it holds $n, or EOF, or the deadline.
sub fill {
    my ($s, $buf, $until, $n) = @_;
    my $rin = '';
    vec($rin, fileno($s), 1) = 1;
    while (!defined $n || length($$buf) < $n) {
        my $left = $until - time;
        return 0 if $left <= 0 || !select(my $r = $rin, undef, undef, $left);
        my $got = sysread($s, $$buf, 65536, length $$buf);
        return 0 unless $got;
    }
    return 1;
}

# Read one response from $s. Returns (status, {lowercased headers}, body),
# or () on EOF, reset or timeout. $$rest carries bytes read past it.
sub read_response {
    my ($s, $timeout, $rest) = @_;
    my $buf = $rest ? $$rest : '';
    my $until = time + ($timeout // 5);
    while ($buf !~ /\r\n\r\n/) {
        my $before = length $buf;
        fill($s, \$buf, $until, $before + 1) or return ();
    }
    my ($head, $after) = split /\r\n\r\n/, $buf, 2;
    my ($status_line, @lines) = split /\r\n/, $head;
    my ($status) = $status_line =~ m{^HTTP/1\.[01] (\d{3}) } or return ();
    my %h;
    for (@lines) {
        my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
        $h{lc $k} = $v;
    }
    my $len = $h{'content-length'} // 0;
    fill($s, \$after, $until, $len) or return () if length($after) < $len;
    $$rest = substr($after, $len) if $rest;
    return ($status, \%h, substr($after, 0, $len));
}

# GET $path on 127.0.0.1:$port on a new connection, closed after.
# Returns (status, {lowercased headers}, body), or () on any failure.
sub http_get {
    my ($port, $path, $headers, $timeout) = @_;
    my $s = http_conn($port, $timeout) or return ();
    my $req = "GET $path HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    $req .= "$_: $headers->{$_}\r\n" for sort keys %{ $headers // {} };
    syswrite($s, "$req\r\n") or return ();
    my @r = read_response($s, $timeout);
    close $s;
    return @r;
}

# True when the server closes $s (EOF, or a reset) within $timeout s,
# with no more bytes before it.
sub closed_within {
    my ($s, $timeout) = @_;
    my $rin = '';
    vec($rin, fileno($s), 1) = 1;
    select(my $r = $rin, undef, undef, $timeout // 1) or return 0;
    my $got = sysread($s, my $buf, 1);
    return !$got;
}

# Send $bytes on a new connection; return all that comes back until the
# server closes it or $timeout s pass ('' if it could not connect).
sub raw_request {
    my ($port, $bytes, $timeout) = @_;
    my $s = http_conn($port) or return '';
    syswrite($s, $bytes);
    my $buf = '';
    fill($s, \$buf, time + ($timeout // 2));
    close $s;
    return $buf;
}

# A test ended by a signal still runs END (like a shell's trap): prove
# killed with ^C must not leave servers behind. A write to a closed socket
# fails with EPIPE instead of killing the test. (Handlers, unlike 'IGNORE',
# are not inherited through exec.)
$SIG{$_} = sub { exit 128 } for qw(INT TERM HUP);
$SIG{PIPE} = sub { };

# wait_for(SECONDS, CODE): CODE until it returns true, every 20 ms; its
# last value.
sub wait_for {
    my ($secs, $code) = @_;
    my $until = time + $secs;
    my $r;
    until (($r = $code->()) || time > $until) { sleep 0.02 }
    return $r;
}

# state_of(PID): the process's state letter (R, S, D, T, Z...), from
# /proc; 'gone' when there is no such process.
sub state_of {
    open(my $f, '<', "/proc/$_[0]/stat") or return 'gone';
    return ((<$f> // '') =~ /^\d+ \(.*\) (\S)/s)[0] // 'gone';
}

sub children {
    open(my $f, '<', "/proc/$_[0]/task/$_[0]/children") or return ();
    return split ' ', (<$f> // '');
}

# ---- logs ----------------------------------------------------------------
# What no log of a server may hold: a sanitizer's report (ASan, LSan,
# UBSan, ...), a worker's fatal line, nginx's worst two levels.
my @alarming = (
    qr/\b(?:Address|Leak|Memory|Thread|UndefinedBehavior)Sanitizer\b/,
    qr/\bruntime error:/,
    qr/\blevel=fatal\b/,
    qr/\[(?:alert|emerg)\]/,
);
my @expected; # what this file said it provokes

# expect_log(qr/.../, ...): lines matching one of these are no alarm in
# this file's logs. Name only what the file itself causes (a killed Redis,
# a bad variable), as narrowly as the line allows.
sub expect_log { push @expected, @_ }

# expect_redis_churn: expect_log for what a compose stack's workers log
# when its Redis nodes restart or the Sentinels fail over under them:
# each worker that loses Redis, or meets a node refusing, loading its
# AOF, turned replica, or a master whose replica is not yet in sync,
# exits (112), and runsv starts it again: the crash-only start.
sub expect_redis_churn {
    expect_log(qr/ level=fatal event=redis_lost error=/,
        qr/ level=fatal event=redis_connect error=/,
        qr/ level=fatal event=redis_connect_timeout timeout_ms=\d+ pending=\d+$/,
        qr/ level=fatal event=redis_loading error="LOADING /,
        qr/ level=fatal event=redis_readonly error="READONLY /,
        qr/ level=fatal event=redis_noreplicas error="NOREPLICAS /,
        qr/ level=fatal event=redis_not_master role=slave$/,
        qr/ level=fatal event=sentinel_lost master=crashonly /);
}

# A server's log: a file named log or *.log (spawn's, start_worker's,
# start_redis's), svlogd's current and rotated @....s files (a stack's
# STATE/log/SERVICE/), and runsvdir's STATE/log/runsvdir. Other files
# under tmp() (hitload's ledger and output, chaos's report, bench's
# results) are what tools wrote, and are not read.
sub is_log {
    my ($path) = @_;
    return $path =~ m{(?:^|/)(?:log|[^/]*\.log|current|\@[0-9a-f]+\.[su])$}
        || $path =~ m{(?:^|/)log/runsvdir$};
}

# The alarming lines of every log under tmp(), as "file: line", in order.
sub log_alarms {
    my @files;
    File::Find::find({ no_chdir => 1, wanted => sub {
        push @files, $_ if -f $_ && is_log(substr($_, length($TMP) + 1));
    } }, $TMP);
    my @found;
    for my $file (sort @files) {
        open(my $f, '<', $file) or next;
        while (my $line = <$f>) {
            next unless grep { $line =~ $_ } @alarming;
            next if grep { $line =~ $_ } @expected;
            chomp $line;
            push @found, substr($file, length($TMP) + 1) . ": $line";
        }
    }
    return @found;
}

END {
    if ($$ == $parent) {
        {
            local $?;
            # Workers first and Redis last: a worker that outlived its
            # Redis would log a fatal redis_lost the test never caused.
            my %rank = (crashonly => 0, 'redis-server' => 2);
            for my $pid (sort { ($rank{ $started{$a} } // 1)
                    <=> ($rank{ $started{$b} } // 1) } keys %started) {
                # With its children: nginx's workers, which outlive a
                # master killed alone and keep its port.
                kill 'KILL', $pid, children($pid);
                waitpid($pid, 0);
            }
        }
        # The test's own END blocks (stack/down) ran before this one: the
        # module was loaded first. So every server is dead and its log whole.
        if (my @found = log_alarms()) {
            my $n = @found;
            splice(@found, 20) if @found > 20;
            print STDERR "# The logs under tmp() hold $n alarming line(s):\n",
                map({ "#   $_\n" } @found),
                $n > 20 ? "#   ...\n" : '',
                "# (expect_log() in the .t names what it provokes on purpose)\n";
            $? ||= 1;
        }
    }
}

1;
