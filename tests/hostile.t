#!/usr/bin/perl
# Hostile input: raw bytes at the worker and through the proxy, each with
# the answer it must get (a status, or a close), and after each one the
# worker still serving everyone else. Then slow, half-closed and reset
# clients, and more clients than the worker's limits.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Crashonly;
use IO::Socket::INET;
use Socket qw(SOL_SOCKET SO_LINGER SHUT_WR);
use Time::HiRes qw(time sleep);
use Test::More;

my (undef, $rport) = start_redis();
my $wport = free_port();
my $wpid = start_worker(PORT => $wport, BIND => '127.0.0.1', WORKER_NAME => 'h1',
    REDIS_URL => "redis://127.0.0.1:$rport", HEADER_TIMEOUT_MS => 1000,
    IDLE_TIMEOUT_MS => 2000, MAX_CONNS => 40);
ok(wait_ready($wport, 5), 'the worker serves') or BAIL_OUT('no worker');

sub alive { my ($s) = http_get($_[0] // $wport, '/healthz'); ($s // 0) == 200 }

# The first status line of what came back, or 'close' for nothing.
sub answer {
    my ($raw) = @_;
    return 'close' if $raw eq '';
    return $raw =~ m{^HTTP/1\.1 (\d{3}) } ? $1 : "junk: " . substr($raw, 0, 40);
}

# Send $bytes on a new connection; the first answer's status, or 'close'
# when the worker closed it with none.
sub first_answer {
    my ($port, $bytes) = @_;
    my $s = http_conn($port) or return 'no connection';
    syswrite($s, $bytes);
    my ($status) = read_response($s, 3);
    close $s;
    return $status // 'close';
}

sub case_is {
    my ($port, $name, $bytes, $want) = @_;
    my $got = first_answer($port, $bytes);
    ok($got eq $want && alive(), "$name: $want, and the worker serves on")
        or diag "got $got";
}

my $get = "GET / HTTP/1.1\r\nHost: x\r\n";
my $long = 'a' x 129;
my @direct = (
    # Request lines and versions.
    ['garbage', "GARBAGE\r\n\r\n", 400],
    ['no path, no version', "GET\r\n\r\n", 400],
    ['lower-case method', "get / HTTP/1.1\r\n\r\n", 400],
    ['unknown method', "FOO / HTTP/1.1\r\n\r\n", 400],
    ['two spaces (RFC 9112 3 lets a server take them)', "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 200],
    ['NUL in the target', "GET /\0 HTTP/1.1\r\n\r\n", 400],
    ['version 9.9', "GET / HTTP/9.9\r\n\r\n", 505],
    ['HTTP/0.9', "GET /\r\n\r\n", 505],
    ['HTTP/2 preface', "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505],
    ['POST /', "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405],
    ['HEAD /', "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", 405],
    ['DELETE /hits', "DELETE /hits HTTP/1.1\r\nHost: x\r\n\r\n", 405],
    ['unknown path', "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404],
    ['a long unknown path', "GET /" . ('x' x 3000) . " HTTP/1.1\r\nHost: x\r\n\r\n", 404],
    ['GET *', "GET * HTTP/1.1\r\nHost: x\r\n\r\n", 404],
    ['an encoded NUL is only text', "GET /%00 HTTP/1.1\r\nHost: x\r\n\r\n", 404],
    ['the query is ignored', "GET /?a=1&b HTTP/1.1\r\nHost: x\r\n\r\n", 200],
    ['oversize request line', "GET /" . ('x' x 5000) . " HTTP/1.1\r\n\r\n", 414],
    # Header lines.
    ['a header line without colon', "${get}Foo\r\n\r\n", 400],
    ['obs-fold', "${get}Foo: a\r\n b\r\n\r\n", 400],
    ['NUL in a value', "${get}Foo: a\0b\r\n\r\n", 400],
    ['a bare CR in a value', "${get}Foo: a\rb\r\n\r\n", 400],
    ['a control byte in a name', "${get}F\x01o: a\r\n\r\n", 400],
    ['space before the colon', "${get}Foo : a\r\n\r\n", 400],
    ['an empty name', "${get}: a\r\n\r\n", 400],
    ['one oversize header', "${get}Foo: " . ('a' x 9000) . "\r\n\r\n", 431],
    ['headers over 8 KiB in all', $get . join('', map { "F$_: " . ('a' x 200) . "\r\n" } 1 .. 45) . "\r\n", 431],
    ['65 header lines', $get . join('', map { "F$_: a\r\n" } 1 .. 65) . "\r\n", 431],
    ['64 header lines, Host one of them', $get . join('', map { "F$_: a\r\n" } 1 .. 63) . "\r\n", 200],
    # Bodies and smuggling.
    ['Content-Length with Transfer-Encoding', "${get}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400],
    ['two Content-Lengths', "${get}Content-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400],
    ['Content-Length: abc', "${get}Content-Length: abc\r\n\r\n", 400],
    ['Content-Length: -1', "${get}Content-Length: -1\r\n\r\n", 400],
    ['a body over 1 KiB', "${get}Content-Length: 2000\r\n\r\n", 413],
    ['Transfer-Encoding: gzip', "${get}Transfer-Encoding: gzip\r\n\r\n", 400],
    ['a bad chunk size', "${get}Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400],
    ['chunks over 1 KiB', "${get}Transfer-Encoding: chunked\r\n\r\n7d0\r\n" . ('a' x 2000) . "\r\n0\r\n\r\n", 413],
    ['a small chunked body on GET', "${get}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 200],
    ['a small body on GET', "${get}Content-Length: 5\r\n\r\nhello", 200],
    # Request ids.
    ['an id with a space', "${get}Idempotency-Key: a b\r\n\r\n", 400],
    ['an id of 129 bytes', "${get}Idempotency-Key: $long\r\n\r\n", 400],
    ['an id of 128 bytes', "${get}Idempotency-Key: " . ('a' x 128) . "\r\n\r\n", 200],
    ['an empty id', "${get}Idempotency-Key: \r\n\r\n", 400],
    ['two ids', "${get}Idempotency-Key: a\r\nIdempotency-Key: b\r\n\r\n", 400],
    ['a bad X-Request-Id beside a good key', "${get}Idempotency-Key: a\r\nX-Request-Id: a/b\r\n\r\n", 400],
    ['an id in UTF-8', "${get}Idempotency-Key: caf\xc3\xa9\r\n\r\n", 400],
    ['an id with a slash', "${get}X-Request-Id: ../../etc\r\n\r\n", 400],
    # RFC 9112 3.2: Host.
    ['no Host in HTTP/1.1', "GET / HTTP/1.1\r\n\r\n", 400],
    ['no Host in HTTP/1.0, which needs none', "GET /healthz HTTP/1.0\r\n\r\n", 200],
    ['two Host lines, the same', "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400],
    ['a Host with a space', "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400],
    ['a Host with a path', "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400],
    ['a Host with a port that is no number', "GET / HTTP/1.1\r\nHost: h:8x\r\n\r\n", 400],
    ['an empty Host', "GET / HTTP/1.1\r\nHost: \r\n\r\n", 400],
    # RFC 9112 2.2, 2.3: line ends and versions.
    ['bare LF line ends', "GET / HTTP/1.1\nHost: x\n\n", 400],
    ['a version that is no version', "GET / HTTP/x.1\r\nHost: x\r\n\r\n", 400],
    ['HTTP/1.2, taken as 1.1', "GET /healthz HTTP/1.2\r\nHost: x\r\n\r\n", 200],
    ['whitespace before the first header', "GET / HTTP/1.1\r\n Host: x\r\n\r\n", 400],
    # RFC 9110 4.2, 7.4, 9.3.6: targets.
    ['an https target on plain TCP', "GET https://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 421],
    ['an http target with an empty host', "GET http:///hits HTTP/1.1\r\nHost: h\r\n\r\n", 400],
    ['CONNECT', "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n", 501],
    # RFC 9112 6, 7: bodies.
    ['HTTP/1.0 with Transfer-Encoding', "GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400],
    ['a chunk extension', "${get}Transfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\n\r\n", 200],
    ['a chunk size past 64 bits', "${get}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n", 400],
    ['a Content-Length past 64 bits', "${get}Content-Length: 99999999999999999999999\r\n\r\n", 400],
    ['a byte past ASCII in a value', "${get}Foo: caf\xc3\xa9\r\n\r\n", 200],
    # RFC 9110 13: preconditions (no entity tags here).
    ['If-Match with a tag', "${get}If-Match: \"t\"\r\n\r\n", 412],
    ['If-None-Match: *', "${get}If-None-Match: *\r\n\r\n", 304],
);
case_is($wport, @$_) for @direct;

# Keep-alive and pipelining.
sub conn_say {
    my ($bytes) = @_;
    my $s = http_conn($wport) or return;
    syswrite($s, $bytes);
    return $s;
}
{
    my $s = conn_say("GET /healthz HTTP/1.0\r\n\r\n");
    my ($st, $h) = read_response($s, 2);
    ok($st == 200 && ($h->{connection} // '') eq 'close' && closed_within($s, 1),
        'HTTP/1.0: answered, then closed');
    $s = conn_say("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    ($st, $h) = read_response($s, 2);
    ok($st == 200 && ($h->{connection} // '') eq 'keep-alive' && !closed_within($s, 0.3),
        'HTTP/1.0 keep-alive: answered and kept open');
    $s = conn_say("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ($st) = read_response($s, 2);
    ok($st == 200 && closed_within($s, 1), 'Connection: close: answered, then closed');

    $s = conn_say(join '', map { "${get}Idempotency-Key: pipe-$$-$_\r\n\r\n" } 1 .. 3);
    my $rest = '';
    my @n = map { my (undef, $hh) = read_response($s, 3, \$rest); $hh->{'x-hits'} // -1 } 1 .. 3;
    ok($n[0] > 0 && $n[1] == $n[0] + 1 && $n[2] == $n[1] + 1, "pipelined: answered in order (@n)");

    $s = conn_say("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nBAD\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    $rest = '';
    my @st = map { my ($x) = read_response($s, 2, \$rest); $x // 'none' } 1 .. 3;
    ok($st[0] == 200 && $st[1] == 400 && $st[2] eq 'none' && alive(),
        "pipelined with a bad one between: 200, 400, then closed (@st)");
}

# What HTTP requires beyond a status (docs/http.md), in the blocks below:
# the closes after bad framing, nothing served after a close, 100
# (Continue), trailers never taken for headers, nothing counted before the
# header section is whole or from a body cut short, no protocol switch,
# preconditions that count nothing, Date and Allow.
sub total { my (undef, undef, $b) = http_get($wport, '/hits'); ($b // '') =~ /"total": *(\d+)/ ? $1 : -1 }

# Bad framing: an answer, then the connection is closed; a body read whole
# is dropped.
{
    for my $c (['Content-Length with Transfer-Encoding', "${get}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"],
        ['two Content-Lengths', "${get}Content-Length: 1\r\nContent-Length: 2\r\n\r\nab"],
        ['an invalid Content-Length', "${get}Content-Length: +5\r\n\r\nhello"],
        ['chunked not the last coding', "${get}Transfer-Encoding: chunked, gzip\r\n\r\n"],
        ['Transfer-Encoding in HTTP/1.0', "GET / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"],
        ['a body over 1 KiB, not read', "${get}Content-Length: 2000\r\n\r\n", 413]) {
        my $s = conn_say($c->[1]);
        my ($st, $h) = read_response($s, 2);
        my $want = $c->[2] // 400;
        # Within 0.5 s: under the 1 s HEADER_TIMEOUT_MS, which would close it too.
        ok(($st // 0) == $want && ($h->{connection} // '') eq 'close' && closed_within($s, 0.5),
            "$c->[0]: $want, then the connection is closed");
    }
    my $s = conn_say("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n"
        . "GET /nope HTTP/1.1\r\n" . "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    my $rest = '';
    my @st = map { my ($x) = read_response($s, 2, \$rest); $x // 'none' } 1, 2;
    is("@st", '200 200', 'a body is read whole and dropped: the next request is the one after it');
}

# Nothing served after a close; 100 (Continue) to HTTP/1.1 alone.
{
    my $n = total();
    my $s = conn_say("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        . "${get}Idempotency-Key: after-close-$$\r\n\r\n");
    my $rest = '';
    my ($st) = read_response($s, 2, \$rest);
    ok(($st // 0) == 200 && closed_within($s, 1) && $rest eq '',
        'Connection: close: answered, closed, the request after it not answered');
    is(total(), $n, 'nor counted');

    $s = conn_say("${get}Idempotency-Key: cont-$$\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    my $raw = '';
    Crashonly::fill($s, \$raw, time + 2, 25);
    is($raw, "HTTP/1.1 100 Continue\r\n\r\n", 'Expect: 100-continue: a 100 before the body');
    syswrite($s, 'hello');
    ($st) = read_response($s, 2);
    is($st // 'none', 200, 'then the body, then the answer');
    $s = conn_say("GET /healthz HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    ok(!closed_within($s, 0.5), 'HTTP/1.0 with Expect: no 100 (the expectation is ignored)');
    syswrite($s, 'hello');
    ($st) = read_response($s, 2);
    is($st // 'none', 200, 'and the body is read and answered');
}

# Trailers are no headers; nothing counted before the header section is
# whole or from a body cut short; no protocol switch.
{
    my @n = map {
        my (undef, $h) = read_response(conn_say("${get}Transfer-Encoding: chunked\r\n\r\n"
            . "0\r\nIdempotency-Key: trailer-$$\r\n\r\n"), 2);
        $h->{'x-hits'} // -1;
    } 1, 2;
    ok($n[0] > 0 && $n[1] > 0 && $n[0] != $n[1],
        "an id in a trailer is not the request's id: two numbers (@n)");

    my $n = total();
    my $s = conn_say("${get}Idempotency-Key: part-$$\r\n");
    sleep 0.3;
    is(total(), $n, 'a header section not yet whole: nothing counted');
    syswrite($s, "\r\n");
    my ($st) = read_response($s, 2);
    ok(($st // 0) == 200 && total() == $n + 1, 'once whole: answered and counted');

    $n = total();
    $s = conn_say("${get}Idempotency-Key: cut-$$\r\nContent-Length: 10\r\n\r\nabc");
    shutdown($s, SHUT_WR);
    ok(closed_within($s, 2), 'a body cut short by a close: closed with no answer');
    is(total(), $n, 'and nothing counted');

    $s = conn_say("${get}Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    my $h;
    ($st, $h) = read_response($s, 2);
    ok(($st // 0) == 200 && ($h->{connection} // '') eq 'close' && !$h->{upgrade}
        && closed_within($s, 1), 'an Upgrade is not taken: 200, no 101, closed');
}

# Preconditions count nothing; Date, Allow, and absolute-form.
{
    my $n = total();
    my ($st) = http_get($wport, '/', { 'If-Match' => '"t"' });
    my ($st2) = http_get($wport, '/', { 'If-None-Match' => '*' });
    ok(($st // 0) == 412 && ($st2 // 0) == 304 && total() == $n,
        "a failed precondition counts nothing ($st, $st2)");

    my (@dated, @undated);
    for my $req ("${get}\r\n", "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n",
        "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", "${get}If-Match: \"t\"\r\n\r\n") {
        my ($code, $hh) = read_response(conn_say($req), 2);
        push @{ ($hh->{date} // '') =~ / GMT$/ ? \@dated : \@undated }, $code // 'none';
    }
    ok(!@undated, "a Date on every 2xx and 4xx (@dated)") or diag "no Date: @undated";
    my $h;
    ($st, $h) = read_response(conn_say("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"), 2);
    ok(($st // 0) == 405 && ($h->{allow} // '') eq 'GET', '405 says Allow: GET');
    my $body;
    ($st, $h, $body) = read_response(conn_say("GET http://a/hits HTTP/1.1\r\nHost: b\r\n\r\n"), 2);
    ok(($st // 0) == 200 && ($body // '') =~ /"total"/, 'absolute-form: its path is served, whatever Host says');
}

# Slow, idle, half-closed and reset clients. The time bounds are loose
# (a shared 2-core machine): each only tells a timeout that fires from one
# that never does (the slow client's bytes take 6.6 s in all).
{
    my $s = conn_say("GET / HTTP/1.1\r\n");
    my $t0 = time;
    my $cut = 0;
    for my $c (split //, "Host: slow\r\nX-A: b\r\n\r\n") {
        last if closed_within($s, 0.3);
        syswrite($s, $c) or do { $cut = 1; last };
    }
    $cut ||= closed_within($s, 2);
    my $took = time - $t0;
    ok($cut && $took < 5 && alive(), sprintf('a byte every 0.3 s is cut at the 1 s header timeout (%.1f s, under 5)', $took));

    $s = http_conn($wport);
    $t0 = time;
    my $closed = closed_within($s, 10);
    $took = time - $t0;
    ok($closed && $took > 1.5 && alive(), sprintf('an idle connection is closed after the 2 s IDLE_TIMEOUT_MS (%.1f s)', $took));

    $s = conn_say("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    shutdown($s, SHUT_WR);
    my ($st) = read_response($s, 2);
    ok(($st // 0) == 200 && alive(), 'half-closed after the request: still answered');

    for my $what (['mid-request', "GET / HTTP/1.1\r\nHos"], ['with a hit pending', "${get}\r\n"]) {
        $s = conn_say($what->[1]);
        setsockopt($s, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
        close $s; # a reset
        ok(alive(), "a reset $what->[0]: the worker serves on");
    }
}

# More clients than MAX_CONNS (40): the rest get 503 or a close, and the
# worker goes on accepting.
{
    # Connections of the cases above, if any, are gone first: one closing
    # during this case would make room for the extra client.
    my $open = sub { scalar(() = `ss -Htn state established '( sport = :$wport )'` =~ /\n/g) };
    for (1 .. 100) { last if $open->() == 0; sleep 0.05 }
    is($open->(), 0, 'no connection to the worker is left over');
    my @held = grep { defined } map { http_conn($wport) } 1 .. 40;
    is(scalar @held, 40, '40 clients connected');
    sleep 0.2;
    my $extra = http_conn($wport);
    my $raw = '';
    if ($extra) { syswrite($extra, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); sysread($extra, $raw, 200) }
    ok(answer($raw // '') =~ /^(503|close)$/, 'past MAX_CONNS: 503 or a close (' . answer($raw // '') . ')');
    close $_ for @held;
    sleep 0.2;
    ok(alive(), 'and when they leave, it serves again');
}

# Past the file descriptors: a worker with 64 of them sheds the rest.
{
    my $port = free_port();
    my $pid = start_worker(PORT => $port, BIND => '127.0.0.1', WORKER_NAME => 'fd',
        REDIS_URL => "redis://127.0.0.1:$rport", -args => []);
    ok(wait_ready($port, 5), 'a second worker serves');
    my $limit = `prlimit --pid $pid --nofile=64:64 2>&1`;
    is($?, 0, 'its descriptors are limited to 64') or diag $limit;
    my @held = grep { defined } map { http_conn($port) } 1 .. 100;
    sleep 0.3;
    my $s = http_conn($port);
    my $raw = '';
    if ($s) { syswrite($s, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); sysread($s, $raw, 200) }
    ok(answer($raw // '') =~ /^(503|close)$/, 'past its descriptors: 503 or a close (' . answer($raw // '') . ')');
    close $_ for @held;
    sleep 0.3;
    ok(alive($port), 'and it never stopped accepting');
    kill 'KILL', $pid;
}

# Through the proxy: nginx in front of the worker, as in both stacks.
my $pport = free_port();
my $ndir = tmp() . '/nginx';
mkdir $ndir;
system("UPSTREAMS=127.0.0.1:$wport LISTEN=127.0.0.1:$pport STATE=$ndir WORKER_PROCESSES=1 "
    . "'$Crashonly::TOP/proxy/render' > $ndir/nginx.conf") == 0 or die 'render';
Crashonly::spawn('nginx', "$ndir/log", {}, 'nginx', '-e', 'stderr', '-p', "$ndir/", '-c', "$ndir/nginx.conf");
ok(wait_ready($pport, 5), 'nginx serves in front of the worker');
my @proxy = (
    ['proxy: garbage', "GARBAGE\r\n\r\n", 400],
    ['proxy: a header line without colon, which nginx drops', "${get}Foo\r\n\r\n", 200],
    ['proxy: NUL in a value', "${get}Foo: a\0b\r\n\r\n", 400],
    ['proxy: an oversize header', "${get}Foo: " . ('a' x 9000) . "\r\n\r\n", 400],
    ['proxy: Content-Length with Transfer-Encoding', "${get}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400],
    ['proxy: a body over 1 KiB', "${get}Content-Length: 2000\r\n\r\n" . ('a' x 2000), 413],
    ['proxy: a bad id', "${get}Idempotency-Key: a b\r\n\r\n", 400],
    ['proxy: POST /', "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405],
    ['proxy: unknown path', "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404],
    ['proxy: version 9.9', "GET / HTTP/9.9\r\n\r\n", 505],
    ['proxy: no Host in HTTP/1.1', "GET / HTTP/1.1\r\n\r\n", 400],
    ['proxy: two Host lines', "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400],
    ['proxy: a Host with a port that is no number', "GET / HTTP/1.1\r\nHost: h:8x\r\n\r\n", 400],
    ['proxy: a Host with userinfo', "GET / HTTP/1.1\r\nHost: u\@h\r\n\r\n", 400],
    ['proxy: bare LF line ends, which nginx takes (RFC 9112 2.2)', "GET /healthz HTTP/1.1\nHost: x\n\n", 200],
    ['proxy: whitespace before the first header', "GET / HTTP/1.1\r\n Host: x\r\n\r\n", 400],
    ['proxy: an https target on plain TCP', "GET https://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 421],
    ['proxy: an ftp target', "GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 421],
    ['proxy: CONNECT', "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n", 400],
    ['proxy: chunked not the last coding', "${get}Transfer-Encoding: chunked, gzip\r\n\r\n", 400],
    ['proxy: HTTP/1.0 with Transfer-Encoding', "GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400],
    ['proxy: If-Match with a tag', "${get}If-Match: \"t\"\r\n\r\n", 412],
    ['proxy: If-None-Match: *', "${get}If-None-Match: *\r\n\r\n", 304],
    ['proxy: HTTP/1.0 with no Host, which needs none', "GET /healthz HTTP/1.0\r\n\r\n", 200],
    ['proxy: space before the colon', "${get}Foo : a\r\n\r\n", 400],
    ['proxy: obs-fold', "${get}Foo: a\r\n b\r\n\r\n", 400],
    ['proxy: oversize request line', "GET /" . ('x' x 9000) . " HTTP/1.1\r\nHost: x\r\n\r\n", 414],
    ['proxy: TRACE', "TRACE / HTTP/1.1\r\nHost: x\r\n\r\n", 405],
);
case_is($pport, @$_) for @proxy;
{
    my $s = http_conn($pport);
    syswrite($s, "${get}Expect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    my $raw = '';
    Crashonly::fill($s, \$raw, time + 2, 25);
    is($raw, "HTTP/1.1 100 Continue\r\n\r\n", 'proxy: Expect: 100-continue: nginx sends the 100');
    syswrite($s, 'hello');
    my ($st) = read_response($s, 2);
    is($st // 'none', 200, 'proxy: then the body, then the answer');
    $s = http_conn($pport);
    syswrite($s, "${get}Transfer-Encoding: chunked, gzip\r\n\r\n");
    ($st, my $h) = read_response($s, 2);
    ok(($st // 0) == 400 && closed_within($s, 1), 'proxy: chunked not last: 400, then closed');
}
for my $port ($wport, $pport) {
    my @k = map { my (undef, $h) = http_get($port, '/', { 'Idempotency-Key' => $_ }); $h->{'x-hits'} // -1 }
        "  ws-$port-$$ \t", "ws-$port-$$";
    ok($k[0] > 0 && $k[0] == $k[1], ($port == $pport ? 'proxy: ' : '')
        . "an id with whitespace around it is that id (RFC 9110 5.5): one number (@k)");
}
my @n = map { my (undef, $h) = http_get($pport, '/', { 'Idempotency-Key' => "via-proxy-$$" }); $h->{'x-hits'} } 1 .. 2;
ok(defined $n[0] && $n[0] == $n[1], "proxy: a repeated key gets the same number (@n)");
is(status_of(wait_exit($wpid, 0)), 'running', 'after all of it, the first worker never died');

done_testing();
