#!/usr/bin/perl
# netdelay.t: build/netdelay, the compose chaos's slow links, in a network
# namespace of this test's own (removed at the end): an NFQUEUE rule there
# queues what goes to 127.0.0.2 to it. A connect to a closed port there is
# refused as soon as its SYN arrives, so the time to the refusal is the
# SYN's delay: none with no netdelay (the rule's bypass), DELAY with one,
# never at 100 % loss. It exits 0 after -t, printing what it counted; 100
# on bad usage; 111 when the queue is taken. Skips unless root.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Crashonly;
use POSIX ();
use Test::More;
use Time::HiRes qw(time sleep);

my $top = $Crashonly::TOP;
my $bin = "$top/build/netdelay";
plan skip_all => 'needs root (a network namespace of its own)' unless $> == 0;
plan skip_all => 'needs ip and iptables'
    if grep { system("command -v $_ >/dev/null") } qw(ip iptables);
plan skip_all => "no $bin: make build/netdelay" unless -x $bin;

my $ns = "crashonly-netdelay-$$";
my $main = $$;
system('ip', 'netns', 'add', $ns) == 0 or BAIL_OUT("ip netns add $ns");
END { system('ip', 'netns', 'del', $ns) if $$ == $main }
$SIG{INT} = $SIG{TERM} = sub { exit 1 };
system('ip', '-n', $ns, 'link', 'set', 'lo', 'up') == 0 or BAIL_OUT('lo up');
system('ip', 'netns', 'exec', $ns, 'iptables', '-w', '-t', 'mangle', '-A', 'OUTPUT',
    '-d', '127.0.0.2', '-j', 'NFQUEUE', '--queue-num', '13', '--queue-bypass') == 0
    or BAIL_OUT('the NFQUEUE rule');

# connect_ms(): how long a connect to 127.0.0.2:9 took to be refused, in
# ms, from inside the namespace; 'timeout' when nothing came in 700 ms.
sub connect_ms {
    my $out = `ip netns exec $ns perl -MIO::Socket::INET -MTime::HiRes=time -e '
        my \$t = time;
        my \$s = IO::Socket::INET->new(PeerAddr => "127.0.0.2:9", Timeout => 0.7);
        print \$s ? "open" : \$!{ECONNREFUSED} ? sprintf("%.1f", (time - \$t) * 1000) : "timeout";'`;
    return $out;
}

# netdelay([-quiet,] ARGS...): start it in the namespace (with -quiet, its
# stderr to /dev/null); returns a handle on its stdout (read it to its
# end once it has exited) and its pid.
sub netdelay {
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if (!$pid) {
        open(STDERR, '>', '/dev/null') if $_[0] eq '-quiet' && shift;
        { no warnings 'exec'; exec 'ip', 'netns', 'exec', $ns, $bin, @_; }
        POSIX::_exit(127);
    }
    return ($fh, $pid);
}

cmp_ok(connect_ms(), '<', 50, 'no netdelay: the rule lets packets by');

my ($fh, $pid) = netdelay(qw(-q 13 -d 150 -t 2500));
sleep 0.3; # bound by then
my @ms = map { connect_ms() } 1 .. 3;
ok(!grep({ $_ !~ /^[\d.]+$/ || $_ < 140 || $_ > 1000 } @ms),
    "-d 150: each SYN held 150 ms (@ms ms)");
my ($b) = netdelay(qw(-quiet -q 13 -d 1 -t 100));
my $second = do { local $/; <$b> };
close $b;
is($? >> 8, 111, 'a second netdelay on the same queue exits 111');
chomp(my $counts = do { local $/; <$fh> });
close $fh;
is($?, 0, 'it exits 0 after -t');
like($counts, qr/^delayed=([3-9]|\d\d+) dropped=0$/, "and says what it held ($counts)");
cmp_ok(connect_ms(), '<', 50, 'gone: the rule lets packets by again');

($fh, $pid) = netdelay(qw(-q 13 -d 0 -l 100 -t 1500));
sleep 0.3;
is(connect_ms(), 'timeout', '-l 100: no SYN gets through');
chomp($counts = do { local $/; <$fh> });
close $fh;
like($counts, qr/^delayed=0 dropped=[1-9]\d*$/, "every packet dropped ($counts)");

# A SIGTERM ends it at once, with what it holds let go.
($fh, $pid) = netdelay(qw(-q 13 -d 3000 -t 60000));
sleep 0.3;
# ip netns exec execs it: $pid is netdelay's own.
is((readlink("/proc/$pid/exe") // ''), $bin, 'its pid is its own');
defined(my $term = fork) or die "fork: $!";
if (!$term) {
    sleep 0.3;
    kill 'TERM', $pid;
    POSIX::_exit(0);
}
my $refused = connect_ms();
waitpid($term, 0);
chomp($counts = do { local $/; <$fh> });
close $fh;
ok($refused =~ /^[\d.]+$/ && $refused < 1500,
    "SIGTERM: the SYN it held let go at once ($refused ms, not 3000)");
is($?, 0, 'and it exits 0');

for my $bad ([qw(-d 10 -t 100)], [qw(-q 13 -d 10 -j 20 -t 100)],
        [qw(-q 13 -d 10 -l 101 -t 100)], [qw(-q 13 -d 10)], [qw(-q 13 -d 10 -t 100 x)]) {
    system("'$bin' @$bad 2>/dev/null");
    is($? >> 8, 100, "usage: netdelay @$bad exits 100");
}

done_testing();
