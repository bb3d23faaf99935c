#!/usr/bin/perl
# restart: kill-to-serving time of a supervised worker, RUNS times: SIGKILL
# the pid in PIDFILE, then time until a new pid answers 200 on
# http://127.0.0.1:PORT/healthz. Prints "median max" in milliseconds.
# usage: bench/restart.pl RUNS PORT PIDFILE
use strict;
use warnings;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);

my ($runs, $port, $pidfile) = @ARGV;
my @ms;
for (1 .. $runs) {
    sleep 1.2; # runit waits 1 s to restart a service that ran less than 1 s
    my $old = slurp($pidfile);
    my $t0 = time;
    kill 'KILL', $old or die "restart: cannot kill $old\n";
    my $ok = 0;
    while (time - $t0 < 5) {
        next if slurp($pidfile) == $old;
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 1)
            or next;
        print $s "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        if ((<$s> // '') =~ m{^HTTP/1\.1 200}) { $ok = 1; last }
    } continue { sleep 0.0002 }
    die "restart: not serving after 5 s\n" unless $ok;
    push @ms, (time - $t0) * 1000;
}
@ms = sort { $a <=> $b } @ms;
printf "%.2f %.2f\n", $ms[$#ms / 2], $ms[-1];

sub slurp { open(my $f, '<', $_[0]) or return 0; my $v = <$f> // 0; chomp $v; $v + 0 }
