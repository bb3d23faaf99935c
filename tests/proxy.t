#!/usr/bin/perl
# proxy.t: nginx (proxy/render's configuration) in front of two real
# workers on one real Redis, and every way nginx retries a request on the
# other worker: the worker stopped (SIGSTOP: nginx's read timeout, sized
# from REDIS_TIMEOUT_MS), and the worker killed while its call to Redis
# waits (a reset). The requests carry no id of their own: the one nginx
# sends (X-Request-Id, its $request_id) must make each count once, even
# when both workers' calls reach Redis. Then what nginx sends a worker
# and what it answers itself.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Crashonly;
use IO::Socket::INET;
use JSON::PP qw(decode_json);
use Test::More;
use Time::HiRes qw(time sleep);

my $top = $Crashonly::TOP;
my ($rpid, $rport) = start_redis();
my $url = "redis://127.0.0.1:$rport";

# stack(NAME, REDIS_TIMEOUT_MS): two workers NAME1, NAME2 with that
# deadline on the one Redis, and nginx before them rendered for it (one
# worker process). Returns (nginx's port, its folder, the workers).
sub stack {
    my ($name, $redis_ms) = @_;
    my @w = map {
        my $port = free_port();
        my $pid = start_worker(PORT => $port, BIND => '127.0.0.1',
            WORKER_NAME => "$name$_", REDIS_URL => $url,
            REDIS_TIMEOUT_MS => $redis_ms);
        wait_ready($port, 5) or BAIL_OUT("worker $name$_ did not start");
        { pid => $pid, port => $port, name => "$name$_" };
    } 1, 2;
    my $pport = free_port();
    my $ndir = tmp() . "/nginx-$name";
    mkdir $ndir;
    system("UPSTREAMS='127.0.0.1:$w[0]{port} 127.0.0.1:$w[1]{port}' "
        . "LISTEN=127.0.0.1:$pport STATE=$ndir WORKER_PROCESSES=1 "
        . "REDIS_TIMEOUT_MS=$redis_ms '$top/proxy/render' > $ndir/nginx.conf") == 0
        or BAIL_OUT('render');
    Crashonly::spawn('nginx', "$ndir/log", {}, 'nginx', '-e', 'stderr',
        '-p', "$ndir/", '-c', "$ndir/nginx.conf");
    wait_ready($pport, 5) or BAIL_OUT('nginx did not start');
    return ($pport, $ndir, @w);
}

sub slurp { open(my $f, '<', $_[0]) or return ''; local $/; <$f> // '' }
sub total {
    my (undef, undef, $b) = http_get($_[0], '/hits');
    return decode_json($b // '{}')->{total};
}
sub stopped {
    for (1 .. 500) { return 1 if state_of($_[0]) eq 'T'; sleep 0.01 }
    return 0;
}
# GET / through nginx on PORT, with no id of the client's: a connection,
# the request sent.
sub hit {
    my $s = http_conn($_[0]) or return;
    syswrite($s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    return $s;
}
# The bytes a worker has sent Redis (its socket's tcp_info, from ss).
sub sent_redis {
    my ($pid) = @_;
    my $ss = `ss -Htnpi '( dport = :$rport )'`;
    return ($ss =~ /pid=$pid,.*\n\s.*\bbytes_sent:(\d+)/)[0] // 0;
}
sub redis_calls {
    my $info = redis_cmd($rport, 'INFO', 'commandstats');
    return ($info =~ /^cmdstat_fcall:calls=(\d+)/m)[0] // 0;
}

# ---- a worker stopped: nginx's read timeout, then the other worker ----
# REDIS_TIMEOUT_MS 400: nginx waits 500 ms on a worker.
{
    my ($pport, $ndir, @w) = stack('t', 400);
    like(slurp("$ndir/nginx.conf"), qr/proxy_read_timeout 500ms;/,
        'render sizes the read timeout from REDIS_TIMEOUT_MS: 400 x 5/4');
    my $before = total($pport);
    kill 'STOP', $w[0]{pid};
    ok(stopped($w[0]{pid}), 't1 stopped');
    # least_conn: t1 has no connection and gets one of the first two, and
    # holds it; the rest go to t2 (and t1 is passed by for fail_timeout).
    my @took;
    my @got = map {
        my $t0 = time;
        my $s = hit($pport);
        my ($st, $h) = read_response($s, 5);
        push @took, time - $t0;
        [$st // 'none', $h->{'x-worker'} // '-', $h->{'x-hits'} // -1];
    } 1 .. 4;
    diag(sprintf 'answered after %s s', join(' ', map { sprintf '%.3f', $_ } @took));
    is(join(' ', map { "$_->[0] $_->[1]" } @got), '200 t2 200 t2 200 t2 200 t2',
        'four hits with t1 stopped: each answered 200 by t2');
    my ($slow) = sort { $b <=> $a } @took;
    cmp_ok($slow, '>=', 0.45, 'one waited out the 500 ms read timeout');
    cmp_ok($slow, '<', 3, 'and not much longer');
    like(slurp("$ndir/log"), qr/upstream timed out .* while reading response header from upstream/,
        'nginx says it timed out on t1');
    is(total($pport) - $before, 4, 'counted 4');
    kill 'CONT', $w[0]{pid};
    sleep 0.5; # t1 reads the request it held, counts it by its id, and
               # answers a connection nginx has closed
    is(total($pport) - $before, 4, 't1 ran again and read what it held: still 4');
    is(status_of(wait_exit($w[0]{pid}, 0)), 'running', 't1 serves on');
    like(worker_log($w[0]{pid}), qr/^level=warn event=stalled /m,
        'and logged that it was the one that stalled');
    my %n = map { $_->[2] => 1 } @got;
    is(scalar(keys %n), 4, 'four distinct numbers');
    # Done with: they would exit 113 when Redis is stopped below.
    for (@w) { kill 'KILL', $_->{pid}; wait_exit($_->{pid}, 2) }
}

# ---- a worker killed while its call waits in Redis: a reset ------------
# REDIS_TIMEOUT_MS 5000: Redis is stopped for less.
{
    my ($pport, $ndir, @w) = stack('k', 5000);
    my $before = total($pport);
    my $calls = redis_calls();
    kill 'STOP', $rpid;
    ok(stopped($rpid), 'Redis stopped');
    # The first request goes to one worker (A), the second, least_conn, to
    # the other (B); each sends its call to Redis before the next step.
    my (@s, @by);
    for my $n (1, 2) {
        my %was = map { $_->{pid} => sent_redis($_->{pid}) } @w;
        push @s, hit($pport);
        my $who;
        for (1 .. 500) {
            # More than a 14-byte PING: a counting call, by a worker
            # that has none of the requests before.
            my %had = map { $_->{pid} // 0 => 1 } @by;
            ($who) = grep { !$had{ $_->{pid} }
                && sent_redis($_->{pid}) > $was{ $_->{pid} } + 14 } @w;
            last if $who;
            sleep 0.01;
        }
        ok($who, "request $n: a worker has it and sent its call"
            . ($who ? " ($who->{name})" : ''));
        push @by, $who // {};
    }
    isnt($by[0]{name} // 'a', $by[1]{name} // 'a', 'each worker has one');
    kill 'KILL', $by[0]{pid};
    is(status_of(wait_exit($by[0]{pid}, 2)), 'signal 9',
        "$by[0]{name} killed, its call in Redis");
    sleep 0.2; # nginx sees the reset and gives its request to the other
    kill 'CONT', $rpid;
    my @got = map { my ($st, $h) = read_response($_, 5); ($st // 'none') . ' ' . ($h->{'x-worker'} // '-') } @s;
    is("@got", "200 $by[1]{name} 200 $by[1]{name}", "both answered 200 by $by[1]{name}");
    my $ran = redis_calls() - $calls;
    is($ran, 3, "Redis ran 3 counting calls: the killed worker's, after it "
        . "died, and the other's two, one of them for the same request");
    is(total($pport) - $before, 2,
        'counted 2: the id nginx sent made the retried request count once');
}

# ---- what nginx sends a worker ------------------------------------------
# A stand-in worker that keeps what it is sent (docs/http.md, the proxy's
# column): nginx's id or the client's, the Host, Via, what it forwards
# and what it answers itself.
{
    my $ls = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
        Listen => 5) or die $!;
    my $fport = $ls->sockport;
    my $p2 = free_port();
    my $fdir = tmp() . '/nginx-fake';
    mkdir $fdir;
    system("UPSTREAMS=127.0.0.1:$fport LISTEN=127.0.0.1:$p2 STATE=$fdir "
        . "WORKER_PROCESSES=1 '$top/proxy/render' > $fdir/nginx.conf") == 0
        or BAIL_OUT('render');
    Crashonly::spawn('nginx', "$fdir/log", {}, 'nginx', '-e', 'stderr',
        '-p', "$fdir/", '-c', "$fdir/nginx.conf");
    for (1 .. 100) { last if http_conn($p2); sleep 0.05 }
    # seen(REQUEST): (what the stand-in got, or '' when nginx sent it
    # nothing within 1 s; what the client got).
    my $seen = sub {
        my ($req) = @_;
        my $s = http_conn($p2) or return ('', '');
        syswrite($s, $req);
        my ($got, $answer) = ('', '');
        my $rin = '';
        vec($rin, fileno($ls), 1) = 1;
        if (select(my $r = $rin, undef, undef, 1)) {
            my $c = $ls->accept;
            while ($got !~ /\r\n\r\n/) { sysread($c, $got, 4096, length $got) or last }
            syswrite($c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
            close $c;
        }
        Crashonly::fill($s, \$answer, time + 1, 20);
        close $s;
        return ($got, $answer);
    };
    my ($r) = $seen->("GET / HTTP/1.1\r\nHost: h.example\r\nConnection: keep-alive\r\n"
        . "X-Any: 1\r\nX-Dup: a\r\nX-Dup: b\r\n\r\n");
    my @ids = $r =~ /^X-Request-Id: *(\S+)\r$/mgi;
    ok(@ids == 1 && $ids[0] =~ /^[0-9a-f]{32}$/, "no id of the client's: nginx's own (@ids)");
    like($r, qr/^GET \/ HTTP\/1\.1\r\n/, 'in HTTP/1.1, its own version (RFC 9112 2.3)');
    like($r, qr/^Host: h\.example\r$/m, "the client's Host");
    unlike($r, qr/^Connection: .*keep-alive/mi, "not the client's Connection");
    like($r, qr/^Via: 1\.1 crashonly\r$/m, 'Via: 1.1 crashonly (RFC 9110 7.6.3)');
    like($r, qr/^X-Any: 1\r$/m, 'a field it does not know, forwarded (RFC 9110 5.1)');
    like($r, qr/^X-Dup: a\r\nX-Dup: b\r$/m, 'lines of one name in their order (RFC 9110 5.3)');
    ($r) = $seen->("GET / HTTP/1.1\r\nHost: h\r\nVia: 1.0 fred\r\n\r\n");
    like($r, qr/^Via: 1\.0 fred, 1\.1 crashonly\r$/m, "the client's Via, itself added");
    ($r) = $seen->("GET / HTTP/1.1\r\nHost: h\r\nX-Request-Id: mine-1\r\n\r\n");
    @ids = $r =~ /^X-Request-Id: *(\S+)\r$/mgi;
    is("@ids", 'mine-1', "the client's X-Request-Id, once");
    ($r) = $seen->("GET / HTTP/1.1\r\nHost: h\r\nConnection: x-request-id\r\n"
        . "X-Request-Id: mine-2\r\n\r\n");
    @ids = $r =~ /^X-Request-Id: *(\S+)\r$/mgi;
    ok(@ids == 1 && $ids[0] =~ /^[0-9a-f]{32}$/,
        "an X-Request-Id the client names in Connection: nginx's own (RFC 9110 7.6.1)");
    ($r) = $seen->("GET / HTTP/1.1\r\nHost: h\r\nIdempotency-Key: k-1\r\n\r\n");
    like($r, qr/^Idempotency-Key: k-1\r$/m, "the client's Idempotency-Key, which the worker prefers");
    ($r) = $seen->("GET / HTTP/1.0\r\n\r\n");
    like($r, qr/^GET \/ HTTP\/1\.1\r\n(?:.*\r\n)*Host: localhost\r$/m,
        'HTTP/1.0 with no Host: sent on as 1.1 with Host: localhost (RFC 9112 3.2)');
    ($r) = $seen->("GET http://a.example/hits HTTP/1.1\r\nHost: b\r\n\r\n");
    like($r, qr/^GET \/hits HTTP\/1\.1\r\n(?:.*\r\n)*Host: a\.example\r$/m,
        "absolute-form: its host, not Host's (RFC 9112 3.2.2)");
    ($r) = $seen->("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        . "3\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n");
    ok($r =~ /^Content-Length: 3\r$/m && $r !~ /^Transfer-Encoding:/mi && $r !~ /X-Trailer/,
        'a chunked body: sent on with a Content-Length, no Transfer-Encoding (RFC 9112 6.3)');
    ($r) = $seen->("OPTIONS / HTTP/1.1\r\nHost: h\r\nMax-Forwards: 5\r\n\r\n");
    like($r, qr/^Max-Forwards: 0\r$/m, 'OPTIONS at Max-Forwards 5: sent on at 0 (RFC 9110 7.6.2)');
    my $a;
    ($r, $a) = $seen->("OPTIONS / HTTP/1.1\r\nHost: h\r\nMax-Forwards: 0\r\n\r\n");
    ok($r eq '' && $a =~ /^HTTP\/1\.1 405 .*\r\nAllow: GET\r\n/s,
        'OPTIONS at Max-Forwards 0: nginx answers itself, 405 with Allow');
    ($r, $a) = $seen->("TRACE / HTTP/1.1\r\nHost: h\r\n\r\n");
    ok($r eq '' && $a =~ /^HTTP\/1\.1 405 .*\r\nAllow: GET\r\n/s,
        "TRACE: nginx's 405, with Allow (RFC 9110 15.5.6)");
}

done_testing();
