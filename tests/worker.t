#!/usr/bin/perl
# worker.t: the real worker against a real redis-server, over real HTTP.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Crashonly;
use JSON::PP qw(decode_json);
use POSIX qw(:sys_wait_h);
use Test::More;
use Time::HiRes qw(time sleep);

my ($redis, $rport) = start_redis();
my $url = "redis://127.0.0.1:$rport";

# The fatal lines this file provokes (bad configuration, a taken port, a
# Redis unreachable, refusing, too old, killed or stalled): no alarm in
# the logs.
expect_log(qr/^level=fatal event=config error="(?:PORT: 'abc'|REDIS_URL: )/,
    qr/^level=fatal event=bind bind=127\.0\.0\.1 port=\d+ error="Address already in use"$/,
    qr/^level=fatal event=redis_connect error="Connection refused"$/,
    qr/^level=fatal event=redis_refused command=AUTH error="WRONGPASS /,
    qr/^level=fatal event=redis_refused command=HSETEX error="unknown command" /,
    qr/^level=fatal event=redis_lost error=/,
    qr/^level=fatal event=redis_timeout timeout_ms=300 pending=1$/);

# Timings are printed, and bounded only as a sanity check: this machine is
# shared and has two cores. make bench measures start-up and restart.

# A worker named $name on a free port; returns (pid, port) once it serves.
sub worker {
    my ($name, %env) = @_;
    my $port = free_port();
    my $pid = start_worker(PORT => $port, BIND => '127.0.0.1',
        WORKER_NAME => $name, REDIS_URL => $url, %env);
    wait_ready($port, 5) or BAIL_OUT("worker $name did not start:\n"
        . worker_log($pid));
    return ($pid, $port);
}

sub hits {
    my ($port) = @_;
    my ($st, $h, $body) = http_get($port, '/hits');
    return defined $st && $st == 200 ? decode_json($body) : {};
}

sub wait_status_is {
    my ($pid, $timeout, $want, $name) = @_;
    my $st = wait_exit($pid, $timeout);
    is(status_of($st), $want, $name);
    return $st;
}

# ---- exec to serving ----------------------------------------------------
{
    my $port = free_port();
    my $t0 = time;
    my $pid = start_worker(PORT => $port, BIND => '127.0.0.1',
        WORKER_NAME => 'fast', REDIS_URL => $url);
    my $st;
    while (time - $t0 < 10) {
        ($st) = http_get($port, '/healthz', {}, 1);
        last if defined $st && $st == 200;
        sleep 0.001;
    }
    my $ms = (time - $t0) * 1000;
    diag(sprintf "exec to first 200 from /healthz: %.1f ms", $ms);
    is($st, 200, 'fresh worker answers /healthz');
    cmp_ok($ms, '<', 5000, 'exec to serving under 5 s');
    my $log = worker_log($pid);
    like($log, qr/event=start .*redis=redis:\/\/127\.0\.0\.1:$rport/,
        'start-up line names the Redis');
    like($log, qr/event=ready worker=fast startup_ms=/, 'ready line');
    kill 'KILL', $pid;
    wait_exit($pid, 2);
}

my ($w1, $p1) = worker('w1');
my ($w2, $p2) = worker('w2');

# ---- counting -----------------------------------------------------------
{
    for my $n (1 .. 3) {
        my ($st, $h, $body) = http_get($p1, '/');
        is($st, 200, "GET / $n: 200");
        is($h->{'x-hits'}, $n, "GET / $n: X-Hits $n");
        is($h->{'x-worker'}, 'w1', "GET / $n: X-Worker w1");
        is($body, "Hello World! I am w1, seen $n times.\n", "GET / $n: body");
    }
    my ($st, $h, $body) = http_get($p2, '/', { Accept => 'application/json' });
    is($h->{'content-type'}, 'application/json', 'JSON: Content-Type');
    is_deeply(scalar(eval { decode_json($body) }), { worker => 'w2', hits => 4 },
        'JSON: body from w2, hit 4');
    is(redis_cmd($rport, 'GET', 'crashonly:hits'), 4, 'Redis holds total 4');
}

# ---- at most once per id ------------------------------------------------
for my $header ('Idempotency-Key', 'X-Request-Id') {
    my $id = "id-$header-" . int(rand(1e9));
    my $before = hits($p1)->{total};
    my %n;
    for my $i (1 .. 100) {
        my ($st, $h) = http_get($i % 2 ? $p1 : $p2, '/', { $header => $id });
        $n{ defined $st && $st == 200 ? $h->{'x-hits'} : 'error' }++;
    }
    is_deeply([keys %n], [$before + 1],
        "$header: 100 requests, on two workers, all get n = " . ($before + 1));
    is(hits($p1)->{total}, $before + 1, "$header: total rose by exactly 1");
    my ($kept, $ttl) = id_number($rport, $id);
    is($kept, $before + 1, "$header: the id's number is kept in Redis");
    ok($ttl > 290 && $ttl <= 300,
        "$header: it expires DEDUPE_SECONDS after its first count ($ttl s)");
}
# The ids are spread over ID_BUCKETS small hashes, each a listpack with
# its fields' expiries (an id costs its bytes, not a hash table entry):
# 3,000 ids, and every hash holding them is one.
{
    my $tag = int(rand(1e9));
    my (%keys, $bad);
    for my $i (1 .. 3000) {
        my $id = "lp-$tag-$i";
        my ($st) = http_get($p1, '/', { 'Idempotency-Key' => $id });
        $bad++ unless defined $st && $st == 200;
        $keys{ id_key($rport, $id) } = 1;
    }
    my %enc;
    $enc{ redis_cmd($rport, 'OBJECT', 'ENCODING', $_) // 'none' }++ for keys %keys;
    is_deeply(\%enc, { listpackex => scalar(keys %keys) },
        scalar(keys %keys) . ' buckets for 3,000 ids, each a listpack');
    is($bad, undef, 'and each id counted');
}
{
    my $before = hits($p1)->{total};
    my %n;
    for my $i (1 .. 5) {
        my ($st, $h) = http_get($p1, '/', { 'Idempotency-Key' => "diff-$i" });
        $n{ $h->{'x-hits'} }++ if defined $st;
    }
    is(scalar(keys %n), 5, 'different ids count separately');
    is(hits($p1)->{total}, $before + 5, 'total rose by 5');
}


# ---- one loop pass, one Redis call ---------------------------------------
# The worker is stopped while 30 clients send, so that one loop pass sees
# them all: 10 with the same id, 10 with ids of their own, 10 without.
{
    my $fcalls = sub {
        my $info = redis_cmd($rport, 'INFO', 'commandstats');
        return $info =~ /^cmdstat_fcall:calls=(\d+)/m ? $1 : 0;
    };
    my $tag = int(rand(1e9));
    my @hdr = ((map { { 'Idempotency-Key' => "same-$tag" } } 1 .. 10),
        (map { { 'Idempotency-Key' => "own-$tag-$_" } } 1 .. 10),
        (map { {} } 1 .. 10));
    # Each connection is accepted and served once first, so that all 30
    # requests below are read in one loop pass.
    my @s = map { http_conn($p1) } @hdr;
    for (@s) {
        syswrite($_, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        read_response($_, 5);
    }
    my $before = hits($p1)->{total};
    my $calls = $fcalls->();
    kill 'STOP', $w1;
    # Stopped for real before the first byte, or its epoll_wait may return
    # with the first request alone.
    for (1 .. 500) {
        open(my $f, '<', "/proc/$w1/stat") or last;
        last if (<$f> // '') =~ /^\d+ \(.*\) T /;
        sleep 0.01;
    }
    for my $i (0 .. $#s) {
        my $req = "GET / HTTP/1.1\r\nHost: x\r\n";
        $req .= "$_: $hdr[$i]{$_}\r\n" for keys %{ $hdr[$i] };
        syswrite($s[$i], "$req\r\n");
    }
    kill 'CONT', $w1;
    my @n = map { my ($st, $h) = read_response($_, 5); $h ? $h->{'x-hits'} : 'none' } @s;
    is($fcalls->() - $calls, 1, '30 hits in one loop pass: one Redis call');
    my %same = map { $_ => 1 } @n[0 .. 9];
    is(scalar(keys %same), 1, 'the same id in one call: one number');
    is_deeply([sort { $a <=> $b } keys(%same), @n[10 .. 29]],
        [$before + 1 .. $before + 21],
        'one call: 21 hits, numbered ' . ($before + 1) . ' to ' . ($before + 21));
    is(hits($p1)->{total}, $before + 21, 'total rose by 21');
}

# ---- Redis refuses a count: 503, and the worker serves on ----------------
{
    my $before = hits($p1)->{total};
    is(redis_cmd($rport, qw(CONFIG SET maxmemory 1)), 'OK', 'Redis: maxmemory 1');
    my ($st) = http_get($p1, '/');
    is($st, 503, 'Redis out of memory: a hit gets 503');
    ($st) = http_get($p1, '/', { 'Idempotency-Key' => "oom-$$" });
    is($st, 503, 'Redis out of memory: a hit with an id gets 503');
    is(redis_cmd($rport, qw(CONFIG SET maxmemory 0)), 'OK', 'Redis: maxmemory 0');
    my $h;
    ($st, $h) = http_get($p1, '/', { 'Idempotency-Key' => "oom-$$" });
    is($st, 200, 'then the same id counts');
    is($h->{'x-hits'}, $before + 1, 'with the next number: nothing counted before');
    ok(kill(0, $w1), 'the worker is still running');
}

# ---- /hits with two workers ----------------------------------------------
{
    http_get($p2, '/') for 1 .. 7;
    my $hits = hits($p2);
    my $sum = 0;
    $sum += $_ for values %{ $hits->{workers} };
    is_deeply([sort keys %{ $hits->{workers} }], ['w1', 'w2'],
        '/hits names both workers');
    ok($hits->{total} > 0, "/hits total $hits->{total}");
    is($sum, $hits->{total}, '/hits: per-worker sum equals total');
    is_deeply(hits($p1), $hits, 'both workers see the same totals');
}

# ---- an id is remembered for DEDUPE_SECONDS, then forgotten ------------
# 1 s here: its field expires 1 s after its first count, by Redis's clock.
{
    my ($pid, $port) = worker('short', DEDUPE_SECONDS => 1);
    my $id = 'short-' . int(rand(1e9));
    my $t0 = time;
    my (undef, $h) = http_get($port, '/', { 'Idempotency-Key' => $id });
    my $n = $h->{'x-hits'};
    # Sent well within 1 s of the first, however long the first one took:
    # never a negative sleep.
    my $wait = 0.7 - (time - $t0);
    sleep $wait if $wait > 0;
    (undef, $h) = http_get($port, '/', { 'Idempotency-Key' => $id });
    is($h->{'x-hits'}, $n, 'a repeat within DEDUPE_SECONDS gets the first number');
    $wait = 1.3 - (time - $t0);
    sleep $wait if $wait > 0;
    (undef, $h) = http_get($port, '/', { 'Idempotency-Key' => $id });
    cmp_ok($h->{'x-hits'}, '>', $n, 'after DEDUPE_SECONDS the id counts anew');
    kill 'KILL', $pid;
    wait_exit($pid, 2);
}

# ---- health, errors -----------------------------------------------------
{
    my ($st, $h, $body) = http_get($p1, '/healthz');
    is($st, 200, '/healthz 200');
    is($body, "ok\n", '/healthz body');
    ($st) = http_get($p1, '/readyz');
    is($st, 200, '/readyz 200 while Redis answers');

    ($st, $h) = http_get($p1, '/nope');
    is($st, 404, 'GET /nope: 404');
    my $raw = raw_request($p1, "POST / HTTP/1.1\r\nHost: x\r\n"
        . "Content-Length: 0\r\nConnection: close\r\n\r\n");
    like($raw, qr{^HTTP/1\.1 405 }, 'POST / 405');
    like($raw, qr{\r\nAllow: GET\r\n}, '405 has Allow: GET');

    my $before = hits($p1)->{total};
    ($st) = http_get($p1, '/', { 'Idempotency-Key' => 'bad key!' });
    is($st, 400, 'invalid Idempotency-Key: 400');
    ($st) = http_get($p1, '/', { 'X-Request-Id' => 'x' x 129 });
    is($st, 400, '129-char X-Request-Id: 400');
    is(hits($p1)->{total}, $before, 'invalid ids counted nothing');

    for my $bad ("GARBAGE\r\n\r\n", "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n") {
        (my $name = $bad) =~ s/\r\n/\\r\\n/g;
        $raw = raw_request($p1, $bad);
        like($raw, qr{^HTTP/1\.1 4\d\d }, "'$name': 4xx");
        like($raw, qr{\r\nConnection: close\r\n}, "'$name': Connection: close");
    }
    like(raw_request($p1, "GARBAGE\r\n\r\n"), qr{^HTTP/1\.1 400 },
        'garbage: 400');
    ($st) = http_get($p1, '/');
    is($st, 200, 'worker still serves after bad requests');
    is(wait_exit($w1, 0), undef, 'and it did not exit');
}

# ---- pipelining and keep-alive ------------------------------------------
{
    my $n = hits($p1)->{total};
    my $get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    my $s = http_conn($p1);
    syswrite($s, $get . "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" . $get
        . "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    my $rest = '';
    my @got;
    for (1 .. 4) {
        my ($st, $h, $body) = read_response($s, 3, \$rest);
        push @got, defined $st ? "$st " . ($h->{'x-hits'} // '-') : 'none';
    }
    is_deeply(\@got, ["200 " . ($n + 1), '200 -', "200 " . ($n + 2),
        "200 " . ($n + 3)], 'pipelined: answered in order');
    ok(closed_within($s, 1), 'pipelined: closed after Connection: close');

    $s = http_conn($p2);
    my @st;
    $rest = '';
    for my $path ('/', '/hits', '/healthz', '/readyz', '/nope', '/') {
        syswrite($s, "GET $path HTTP/1.1\r\nHost: x\r\n\r\n");
        my ($st) = read_response($s, 3, \$rest);
        push @st, $st // 'none';
    }
    is_deeply(\@st, [200, 200, 200, 200, 404, 200],
        'keep-alive: six requests on one connection');
    syswrite($s, "GET / HTTP/1.0\r\n\r\n");
    my ($st, $h) = read_response($s, 3, \$rest);
    is($st, 200, 'HTTP/1.0 on the same connection');
    ok(closed_within($s, 1), 'HTTP/1.0 without keep-alive: closed');
}

# ---- signals ------------------------------------------------------------
for my $sig ('TERM', 'INT') {
    my ($pid, $port) = worker("sig$sig");
    my $t0 = time;
    kill $sig, $pid;
    my $st = wait_exit($pid, 5);
    my $ms = (time - $t0) * 1000;
    is(status_of($st), 'signal ' . ($sig eq 'TERM' ? 15 : 2),
        "SIG$sig: died of the signal");
    diag(sprintf "SIG$sig to exit: %.1f ms", $ms);
    cmp_ok($ms, '<', 2000, "SIG$sig: within 2 s");
}

# ---- configuration and start-up faults ----------------------------------
{
    my $pid = start_worker(PORT => 'abc', REDIS_URL => $url);
    wait_status_is($pid, 2, 'exit 102', 'PORT=abc: exit 102');
    my @lines = split /\n/, worker_log($pid);
    is(scalar @lines, 1, 'PORT=abc: exactly one line');
    like($lines[0] // '', qr/event=config error="PORT: 'abc'/,
        'PORT=abc: the line names PORT');

    $pid = start_worker(PORT => free_port(), REDIS_URL => 'http://x');
    wait_status_is($pid, 2, 'exit 102', 'REDIS_URL=http://x: exit 102');
    like(worker_log($pid), qr/REDIS_URL/, 'REDIS_URL named');

    $pid = start_worker(PORT => free_port(), REDIS_URL => $url,
        -args => ['x']);
    wait_status_is($pid, 2, 'exit 100', 'an argument: exit 100');
    like(worker_log($pid), qr/usage/, 'usage line');

    # --constants: NAME=value lines, the home of the numbers the Perl
    # helpers, bench/ids-memory and sv/finish read.
    my @constants = `$Crashonly::TOP/build/crashonly --constants`;
    is($?, 0, '--constants: exit 0');
    is_deeply([grep { !/^[A-Z_]+=\S+\n\z/ } @constants], [],
        '--constants: only NAME=value lines');
    is(constants()->{EXIT_USAGE}, 100, '--constants: EXIT_USAGE as exited');
    ok(constants()->{ID_BUCKETS} > 0 && id_bucket('a') == id_bucket('a')
        && id_bucket('a') < constants()->{ID_BUCKETS},
        '--constants: ID_BUCKETS, which id_bucket takes');

    my $taken = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
        LocalPort => 0, Listen => 5, Proto => 'tcp');
    $pid = start_worker(PORT => $taken->sockport, BIND => '127.0.0.1',
        REDIS_URL => $url);
    wait_status_is($pid, 2, 'exit 111', 'port in use: exit 111');
    like(worker_log($pid), qr/event=bind .*error=/, 'port in use: log line');
    close $taken;

    my $t0 = time;
    $pid = start_worker(PORT => free_port(), BIND => '127.0.0.1',
        REDIS_URL => 'redis://127.0.0.1:' . free_port());
    wait_status_is($pid, 5, 'exit 112', 'Redis unreachable at start: exit 112');
    diag(sprintf 'Redis unreachable, exec to exit: %.1f ms', (time - $t0) * 1000);
    cmp_ok(time - $t0, '<', 5, 'Redis unreachable: within 5 s');
    like(worker_log($pid), qr/event=redis_connect/, 'Redis unreachable: logged');
}

# ---- ACL user -----------------------------------------------------------
{
    is(redis_cmd($rport, qw(ACL SETUSER counter on >pa55word resetkeys
        ~crashonly:* -@all +fcall +fcall_ro +function|load +function|delete
        +multi +exec +ping +auth +get +incrby +decrby +hincrby
        +hgetall +hget +hsetex +hdel +command|info +role)),
        'OK', 'ACL user created');
    my $port = free_port();
    my $pid = start_worker(PORT => $port, BIND => '127.0.0.1',
        WORKER_NAME => 'acl',
        REDIS_URL => "redis://counter:pa55word\@127.0.0.1:$rport");
    ok(wait_ready($port, 5), 'ACL user: worker ready');
    my ($st, $h) = http_get($port, '/', { 'Idempotency-Key' => 'acl-1' });
    is($st, 200, 'ACL user: GET / counts');
    ($st) = http_get($port, '/hits');
    is($st, 200, 'ACL user: /hits');
    ($st) = http_get($port, '/readyz');
    is($st, 200, 'ACL user: /readyz');
    my $log = worker_log($pid);
    unlike($log, qr/pa55word/, 'the password is not logged');
    like($log, qr{redis=redis://counter:\*\*\*\@}, 'the user is');
    kill 'KILL', $pid;
    wait_exit($pid, 2);

    $pid = start_worker(PORT => free_port(), BIND => '127.0.0.1',
        REDIS_URL => "redis://counter:wrong\@127.0.0.1:$rport");
    wait_status_is($pid, 3, 'exit 114', 'wrong password: exit 114');
    like(worker_log($pid), qr/event=redis_refused command=AUTH/,
        'wrong password: logged');
}

# ---- a Redis without HSETEX (before 8.0): exit 114, and why ------------
# Debian 12's own redis-server (7.0), where mk/deps put 8.0 ahead of it.
SKIP: {
    my $old = '/usr/bin/redis-server';
    my ($major) = (-x $old ? `$old --version` : '') =~ / v=(\d+)\./;
    skip "no Redis older than 8.0 at $old", 2 unless defined $major && $major < 8;
    my ($rpid, $rp) = start_redis(bin => $old);
    my $pid = start_worker(PORT => free_port(), BIND => '127.0.0.1',
        REDIS_URL => "redis://127.0.0.1:$rp");
    wait_status_is($pid, 3, 'exit 114', "Redis $major: exit 114");
    like(worker_log($pid),
        qr/event=redis_refused command=HSETEX .*hint="Redis >= 8\.0 needed"/,
        "Redis $major: logged, with the version needed");
    kill 'KILL', $rpid;
    wait_exit($rpid, 2);
}

# ---- Redis lost ---------------------------------------------------------
{
    my ($rpid, $rp) = start_redis();
    my ($pid, $port) = worker('lost', REDIS_URL => "redis://127.0.0.1:$rp");
    my ($st) = http_get($port, '/readyz');
    is($st, 200, 'before: /readyz 200');
    kill 'KILL', $rpid;
    wait_exit($rpid, 2);
    ($st) = http_get($port, '/readyz', {}, 2);
    isnt($st // 'none', 200, 'Redis killed: /readyz is not 200 ('
        . ($st // 'no answer') . ')');
    wait_status_is($pid, 2, 'exit 112', 'Redis killed: exit 112');
    my @fatal = worker_log($pid) =~ /^(level=fatal .*)$/mg;
    is(scalar @fatal, 1, 'Redis killed: one fatal line');
    like($fatal[0] // '', qr/event=redis_lost/, 'Redis killed: redis_lost');
    ok(!defined http_conn($port, 1), 'Redis killed: port closed');
}

# ---- the worker stalled, not Redis ---------------------------------------
# A worker stopped (SIGSTOP) while Redis's reply to it is on its way: on
# SIGCONT its clock has jumped past REDIS_TIMEOUT_MS, but the reply is in
# its socket. It must not blame Redis: it answers, logs the stall, and
# serves on. And when Redis is stalled too, it still exits 113, a whole
# REDIS_TIMEOUT_MS after it runs again.
sub stopped {
    my ($pid) = @_;
    for (1 .. 500) {
        open(my $f, '<', "/proc/$pid/stat") or return 0;
        return 1 if (<$f> // '') =~ /^\d+ \(.*\) T /;
        sleep 0.01;
    }
    return 0;
}
for my $redis_too (0, 1) {
    my ($rpid, $rp) = start_redis();
    my ($pid, $port) = worker('paused', REDIS_TIMEOUT_MS => 300,
        REDIS_URL => "redis://127.0.0.1:$rp");
    my $what = $redis_too ? 'and Redis too' : 'Redis not';
    kill 'STOP', $rpid;
    my $s = http_conn($port);
    syswrite($s, "GET / HTTP/1.1\r\nHost: x\r\nIdempotency-Key: paused-$redis_too\r\n\r\n");
    sleep 0.1;                  # the worker has sent its call to Redis
    kill 'STOP', $pid;
    ok(stopped($pid), "worker stopped ($what)");
    kill 'CONT', $rpid unless $redis_too; # Redis answers into its socket
    sleep 1;                    # over three times REDIS_TIMEOUT_MS
    my $t0 = time;
    kill 'CONT', $pid;
    if (!$redis_too) {
        my ($st, $h) = read_response($s, 3);
        is($st // 'none', 200, 'a worker stopped for 1 s, Redis not: the hit is answered');
        ok(($h->{'x-hits'} // 0) >= 1, 'with its number');
        is(status_of(wait_exit($pid, 1)), 'running', 'and the worker serves on');
        like(worker_log($pid), qr/^level=warn event=stalled ms=\d+ pending=1$/m,
            'it logged that it was the one that stalled');
    } else {
        my $st = wait_exit($pid, 5);
        my $secs = time - $t0;
        is(status_of($st), 'exit 113', 'a worker stopped for 1 s, Redis too: exit 113');
        diag(sprintf 'exit %.2f s after it ran again (REDIS_TIMEOUT_MS 300)', $secs);
        cmp_ok($secs, '>=', 0.25, 'after a whole REDIS_TIMEOUT_MS from when it ran again');
        kill 'CONT', $rpid;
    }
}

# ---- Redis stalled ------------------------------------------------------
for my $busy (1, 0) {
    my ($rpid, $rp) = start_redis();
    my ($pid, $port) = worker('stall', REDIS_TIMEOUT_MS => 300,
        REDIS_URL => "redis://127.0.0.1:$rp");
    my $what = $busy ? 'with a request waiting' : 'idle';
    kill 'STOP', $rpid;
    my $t0 = time;
    my $s;
    if ($busy) {
        $s = http_conn($port);
        syswrite($s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    # REDIS_TIMEOUT_MS=300: about 0.3 s with a request waiting, about
    # 1.3 s idle (the idle ping goes out after 1 s).
    my $st = wait_status_is($pid, 8, 'exit 113',
        "Redis stalled, $what: exit 113");
    my $secs = time - $t0;
    diag(sprintf "Redis stalled, $what: exit after %.2f s", $secs);
    cmp_ok($secs, '<', $busy ? 3 : 5,
        "Redis stalled, $what: within " . ($busy ? 3 : 5) . ' s');
    like(worker_log($pid), qr/event=redis_timeout timeout_ms=300/,
        "Redis stalled, $what: logged");
    kill 'CONT', $rpid;
}

done_testing();
