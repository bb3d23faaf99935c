#!/usr/bin/perl
# swarm/chaos.t (not in tests/: failed 1 of 3 runs, see docs/swarm.md): chaos on the swarm (chaos/run BACKEND=swarm) must PASS:
# one host lost (node: its dockerd SIGKILLed, back 15 s later with its
# disk) and one worker process killed, under load entering at every
# host's proxy; the exact check on the ids the master holds. Brings up
# its own swarm (crashonly-swarm-chaos-PID, swarm/up) and removes it.
# Skips when no Docker engine answers; with CI=true that is a failure.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../tests/lib";
use Crashonly qw(tmp need_docker);
use JSON::PP qw(decode_json);
use Test::More;

my $top = $Crashonly::TOP;
need_docker();

my $name = "crashonly-swarm-chaos-$$";
my $main = $$;
END { system("$top/swarm/down") if $$ == $main && $ENV{SWARM_NAME} }
my $out = tmp() . '/chaos';
%ENV = (%ENV, SWARM_NAME => $name, SWARM_HOSTS => 3, BACKEND => 'swarm',
    TARGETS => 'node,workers', DURATION => 30, KILL_EVERY => 10, CONNS => 8,
    WORKERS => 3, NODE_DOWN_MS => 15000, OUT => $out, STATE => tmp());
delete $ENV{PROXY_PORT};

system("make -s -C $top build/hitload >/dev/null") == 0 or BAIL_OUT('no build/hitload');
my $rc = system("$top/chaos/run >" . tmp() . '/run.out 2>&1') >> 8;
is($rc, 0, 'chaos/run BACKEND=swarm TARGETS=node,workers exits 0 (PASS)')
    or diag(`tail -n 5 ${\ tmp()}/run.out`);
my $results = eval {
    open(my $f, '<', "$out/results.json") or die;
    decode_json(do { local $/; <$f> });
} // {};
ok($results->{pass}, "the verdict: $results->{verdict}") if $results->{verdict};
my %n;
$n{ $_->{kind} }++ for @{ $results->{kills} // [] };
ok(($n{node} // 0) >= 1, 'a host was lost (node)');
ok(($n{workers} // 0) >= 1, 'a worker process was killed (workers)');
my ($node) = grep { $_->{kind} eq 'node' } @{ $results->{kills} // [] };
ok(defined $node && defined $node->{recovered_ms},
    'every worker up again after the host was lost: '
    . ($node->{recovered_ms} // 'not seen') . ' ms');
is(`docker ps -a --filter label=crashonly.swarm=$name --filter status=exited -q`, '',
    'the lost host runs again');
done_testing();
