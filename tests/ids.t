#!/usr/bin/perl
# chaos/ids on a real redis-server: it reads every id of every
# crashonly:ids:* hash (two schemas', and nothing else), directly and,
# as compose's node user who may read no key, from a copy taken as a
# replica takes one (--sync), which it leaves neither running nor on
# disk; it refuses a replica, a wrong password, and a user who may not
# read the keys without --sync.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Crashonly;
use Test::More;

my $top = $Crashonly::TOP;
my $ids = "$top/chaos/ids";
# The compose stack's users (compose.yml): default may do anything (the
# local stack's), node may replicate and read no key.
my ($pid, $port) = start_redis(args => ['--repl-diskless-sync-delay', '0',
    '--user', 'node', 'on', '>node-pass', '&*', '-@all', '+ping', '+info',
    '+role', '+psync', '+replconf', '+multi', '+exec']);
my %want;
for my $i (0 .. 1999) {
    my $b = $i % 97;
    redis_cmd($port, 'HSETEX', "crashonly:ids:$b", 'EX', 300, 'FIELDS', 1,
        "run-$i", 10 + $i);
    $want{"run-$i\t" . (10 + $i) . "\tcrashonly:ids:$b"} = 1;
}
# The next schema's hash, the same id under the same number; and keys
# that are not ids.
redis_cmd($port, 'HSETEX', 'crashonly:ids:2:7', 'EX', 300, 'FIELDS', 1, 'run-7', 17);
$want{"run-7\t17\tcrashonly:ids:2:7"} = 1;
redis_cmd($port, 'SET', 'crashonly:hits', 2009);
redis_cmd($port, 'HSET', 'crashonly:workers', 'w1', 2009);

# read_ids(ARGS...): (exit code, the lines read but the first, the first)
sub read_ids {
    my $out = tmp() . '/ids-' . rand() . '.tsv';
    my $msg = `@_ '$out' 2>&1`;
    my $rc = $? >> 8;
    open(my $f, '<', $out) or return ($rc, {}, '', $msg);
    my $head = <$f>;
    my %got = map { chomp; $_ => 1 } <$f>;
    return ($rc, \%got, $head // '', $msg);
}

my ($rc, $got, $head, $msg) = read_ids($ids, "127.0.0.1:$port");
is($rc, 0, 'chaos/ids reads a master') or diag $msg;
like($head, qr/^# monotonic_us=\d+$/, 'its first line: when, on the monotonic clock');
is_deeply($got, \%want, 'every id of both schemas, each with its number and hash, and nothing else');
like($msg, qr/^ids: 2001 ids, from 127\.0\.0\.1:$port$/m, 'and says how many');

local $ENV{TMPDIR} = tmp() . '/copies';
mkdir $ENV{TMPDIR};
local $ENV{REDISCLI_AUTH} = 'node-pass';
($rc, $got, $head, $msg) = read_ids($ids, '--user node', "127.0.0.1:$port");
is($rc, 111, 'the node user may not read the keys') or diag $msg;
like($msg, qr/NOPERM/, 'Redis says so');
($rc, $got, $head, $msg) = read_ids($ids, '--user node --sync', "127.0.0.1:$port");
is($rc, 0, 'with --sync it reads a copy') or diag $msg;
is_deeply($got, \%want, 'the same ids');
like($msg, qr/^ids: 2001 ids, from a copy of 127\.0\.0\.1:$port$/m, 'and says it was a copy');
my @left = glob("$ENV{TMPDIR}/*");
is("@left", '', 'the copy is not left on disk');
my @copies = grep { (readlink("/proc/$_/cwd") // '') =~ /chaos-ids/ } map { m{/(\d+)$} } glob('/proc/[0-9]*');
is("@copies", '', 'nor running');
is(redis_cmd($port, 'INFO', 'replication') =~ /connected_slaves:(\d+)/ && $1, '0',
    'the master has no replica left');

$ENV{REDISCLI_AUTH} = 'wrong';
($rc, $got, $head, $msg) = read_ids($ids, '--user node --sync', "127.0.0.1:$port");
is($rc, 111, 'a wrong password fails') or diag $msg;
like($msg, qr/WRONGPASS/, 'saying why');

delete $ENV{REDISCLI_AUTH};
my ($rpid, $rport) = start_redis(args => ['--replicaof', '127.0.0.1', $port]);
($rc, $got, $head, $msg) = read_ids($ids, "127.0.0.1:$rport");
is($rc, 111, 'a replica is refused: the truth is the master\'s') or diag $msg;
like($msg, qr/is not a master: ROLE says slave/, 'saying so');
($rc, $got, $head, $msg) = read_ids($ids);
is($rc, 100, 'bad usage exits 100') or diag $msg;

done_testing();
