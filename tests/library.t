#!/usr/bin/perl
# library.t: the counting library (crashonly/function.lua) through its
# versions, on a real redis-server: a worker loads it only over an older
# one, an upgrade (from crashonly_6, and to a next schema) counts no
# retried id twice whichever version the retry meets, and a count that
# fails half-way leaves nothing written.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Crashonly;
use JSON::PP qw(decode_json);
use Test::More;

my $top = "$FindBin::Bin/..";
my ($redis, $rport) = start_redis();
my $url = "redis://127.0.0.1:$rport";
my @keys = qw(crashonly:hits crashonly:workers crashonly:repeats);

sub slurp { open(my $f, '<', $_[0]) or die "$_[0]: $!"; local $/; scalar <$f> }

# A worker of build $bin ('' for build/crashonly) on a free port; returns
# (pid, port) once it serves.
sub worker {
    my ($bin, $name) = @_;
    my $port = free_port();
    my $pid = start_worker(PORT => $port, BIND => '127.0.0.1',
        WORKER_NAME => $name, REDIS_URL => $url, ($bin ? (-bin => $bin) : ()));
    wait_ready($port, 5) or BAIL_OUT("worker $name did not start:\n" . worker_log($pid));
    return ($pid, $port);
}
sub stop { kill 'KILL', $_[0]; wait_exit($_[0], 2) }
sub hit {
    my ($port, $id) = @_;
    my ($st, $h) = http_get($port, '/', { 'Idempotency-Key' => $id });
    return ($st // 0) == 200 ? $h->{'x-hits'} : "status " . ($st // 'none');
}
# A call as a worker of crashonly_6 makes it: FCALL co_count_6 with its
# keys, worker, seconds, no plain hits, and each id's bucket.
sub count6 {
    my @ids = @_;
    my $r = redis_cmd($rport, 'FCALL', 'co_count_6', 3, @keys, 'w6', 300, 0,
        map { (id_bucket($_), $_) } @ids);
    return ref $r ? [@$r[1 .. $#$r]] : $r;
}
sub version { my $v = redis_cmd($rport, 'FCALL_RO', 'co_version', 0); ref $v ? $v : [0, 0] }
sub total { redis_cmd($rport, 'GET', 'crashonly:hits') // 0 }

# ---- from crashonly_6, the release before one library name ------------
is(redis_cmd($rport, 'FUNCTION', 'LOAD', slurp("$top/bench/crashonly_6.lua")),
    'crashonly_6', 'crashonly_6 loaded, as its workers load it');
my $old = count6('u6-a', 'u6-b');
is_deeply($old, [1, 2], 'its workers count two ids');
is(redis_cmd($rport, 'HGET', 'crashonly:ids:' . id_bucket('u6-a'), 'u6-a'), 1,
    'in its layout (schema 1: crashonly:ids:<bucket>)');

my ($w, $wp) = worker('', 'w7');
like(worker_log($w), qr/event=library version=(\d+) schema=2 mine=\1 loaded=yes/,
    'a new worker loads its library over it');
my $libs = redis_cmd($rport, 'FUNCTION', 'LIST');
is_deeply([sort map { $_->[1] } @$libs], ['crashonly'],
    'crashonly_6 is gone, in the same MULTI');
is(hit($wp, 'u6-a'), 1, 'an id crashonly_6 counted, retried at the new worker: its first number');
is_deeply(count6('u6-b', 'u6-c'), [2, 3],
    "crashonly_6's workers' calls go to the new library: a repeat, and a new id");
is(hit($wp, 'u6-c'), 3, 'which the new worker finds too');
is(total(), 3, 'three ids, three hits');
is(redis_cmd($rport, 'HGET', 'crashonly:schemas', 'now'), 2, 'the ids are now written in schema 2');
my $ttl = redis_cmd($rport, 'HTTL', 'crashonly:schemas', 'FIELDS', 1, 1)->[0];
ok($ttl > 290 && $ttl <= 300,
    "and schema 1 is read on a miss for DEDUPE_SECONDS more ($ttl s)");

# ---- to the next schema, and back: no downgrade -------------------------
is(hit($wp, 'n-a'), 4, 'a hit before the rollout');
my ($n, $np) = worker('next', 'w8');
like(worker_log($n), qr/event=library version=1007 schema=3 mine=1007 loaded=yes/,
    'the next version loads over it');
is(hit($np, 'n-a'), 4, 'a retry that moves to the next version: its first number');
is(hit($np, 'n-b'), 5, 'a new id there');
is(hit($wp, 'n-b'), 5, 'retried at the old worker, which calls the new library: the same');
stop($w);
($w, $wp) = worker('', 'w7');
like(worker_log($w), qr/event=library version=1007 schema=3 mine=7 loaded=no/,
    'an old worker restarted mid-rollout does not downgrade it');
is(version()->[0], 1007, 'the library is still the next version');
is(hit($wp, 'n-a') . ' ' . hit($wp, 'u6-a'), '4 1',
    'ids of two schemas back are found still');
is(total(), 5, 'five ids, five hits');

# A rollback: the library before loaded over it by hand (no worker
# downgrades it), the next version's workers still running.
is(redis_cmd($rport, 'FUNCTION', 'LOAD', 'REPLACE', slurp("$top/crashonly/function.lua")),
    'crashonly', 'rolled back by hand to the library before');
is(hit($np, 'n-b') . ' ' . hit($wp, 'n-b'), '5 5',
    'an id the next schema holds: found by both workers, after the rollback');
is(hit($np, 'r-a'), 6, 'a new id after it');
stop($n);
($n, $np) = worker('next', 'w8');
like(worker_log($n), qr/event=library version=1007 schema=3 mine=1007 loaded=yes/,
    'a worker of the next version restarted: upgrades it again');
is(hit($np, 'r-a') . ' ' . hit($wp, 'n-a') . ' ' . hit($wp, 'u6-c'), '6 4 3',
    'ids of every schema of the last DEDUPE_SECONDS found still');
is(total(), 6, 'six ids, six hits');
stop($_) for $w, $n;

# ---- a count that fails half-way writes nothing --------------------------
# Redis keeps what a function wrote before an error: the library undoes
# its own writes. Each case breaks one key the count writes late.
redis_cmd($rport, 'FUNCTION', 'FLUSH');
redis_cmd($rport, 'FLUSHALL');
redis_cmd($rport, 'FUNCTION', 'LOAD', slurp("$top/crashonly/function.lua"));
my $v = version();
is_deeply($v, [7, 2], 'function.lua as the worker has it: version 7, schema 2');
sub count { redis_cmd($rport, 'FCALL', 'co_count', 3, @keys, 'w', 300, 0,
    map { (id_bucket($_), $_) } @_) }
is_deeply(count('h-1'), [1, 1], 'one id counted');
sub state {
    my @ids = @_;
    return join ' ', total(), redis_cmd($rport, 'HGET', 'crashonly:workers', 'w') // '-',
        map { id_number($rport, $_) // '-' } @ids;
}
# Each case: a call of a new id, a repeat and another new id, whose
# bucket the second case breaks.
my @broken = (
    ['crashonly:workers a string', sub { redis_cmd($rport, 'SET', 'crashonly:workers', 'x') },
        sub { redis_cmd($rport, 'DEL', 'crashonly:workers') }],
    ["the second new id's bucket a string",
        sub { redis_cmd($rport, 'SET', id_key($rport, $_[0]), 'x') },
        sub { redis_cmd($rport, 'DEL', id_key($rport, $_[0])) }],
    ['crashonly:repeats a string', sub { redis_cmd($rport, 'SET', 'crashonly:repeats', 'x') },
        sub { redis_cmd($rport, 'DEL', 'crashonly:repeats') }],
);
for my $i (0 .. $#broken) {
    my ($what, $break, $mend) = @{ $broken[$i] };
    my @ids = ("h-$i-a", 'h-1', "h-$i-b");
    $break->($ids[2]);
    my $before = state(@ids[0, 2]);
    my $r = count(@ids);
    like($r, qr/^-WRONGTYPE/, "$what: the count fails");
    is(state(@ids[0, 2]), $before, "$what: and wrote nothing (total, worker, ids)");
    $mend->($ids[2]);
    my $t = total();
    is_deeply(count(@ids), [$t + 1, $t + 1, 1, $t + 2], "$what: mended, the same call counts");
}

# An ACL that takes away what a count writes with (or undoes with): the
# call is refused before it writes, or undone.
for my $cmd (qw(hincrby hdel)) {
    is(redis_cmd($rport, qw(ACL SETUSER), "no$cmd", qw(on >pw ~crashonly:* -@all
        +fcall +get +incrby +decrby +hincrby +hget +hsetex +hdel), "-$cmd"), 'OK',
        "an ACL user without $cmd");
    my $s = http_conn($rport) or die;
    my @args = ('AUTH', "no$cmd", 'pw');
    print $s '*3' . "\r\n", map { '$' . length($_) . "\r\n$_\r\n" } @args;
    read_resp($s);
    @args = ('FCALL', 'co_count', 3, @keys, 'w', 300, 0, id_bucket('acl-1'), 'acl-1');
    my $before = state('acl-1');
    print $s '*' . @args . "\r\n", map { '$' . length($_) . "\r\n$_\r\n" } @args;
    like(read_resp($s), qr/^-(?:NOPERM|ERR)/, "without $cmd: the count fails");
    is(state('acl-1'), $before, "without $cmd: and wrote nothing");
    close $s;
}

# ---- the broken build counts a retried id again: what the checks catch --
redis_cmd($rport, 'FUNCTION', 'FLUSH');
my ($b, $bp) = worker('broken', 'wb');
my $first = hit($bp, 'br-1');
isnt(hit($bp, 'br-1'), $first, 'build/broken counts a retried id again (test-only)');
stop($b);

done_testing();
