#!/usr/bin/perl
# startup: exec-to-serving time of a command, RUNS times: from just before
# exec to the first 200 from http://127.0.0.1:PORT/healthz. Prints
# "median max" in milliseconds. The command is SIGKILLed after each run.
# usage: bench/startup.pl RUNS PORT COMMAND...
use strict;
use warnings;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);

my ($runs, $port, @cmd) = @ARGV;
my @ms;
for (1 .. $runs) {
    my $t0 = time;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open(STDOUT, '>', '/dev/null');
        open(STDERR, '>', '/dev/null');
        exec @cmd or exit 111;
    }
    my $ok = 0;
    while (time - $t0 < 5) {
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 1)
            or next;
        print $s "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        my $line = <$s> // '';
        if ($line =~ m{^HTTP/1\.1 200}) { $ok = 1; last }
    } continue { sleep 0.0002 }
    push @ms, (time - $t0) * 1000;
    kill 'KILL', $pid;
    waitpid $pid, 0;
    die "startup: not serving after 5 s\n" unless $ok;
}
@ms = sort { $a <=> $b } @ms;
printf "%.2f %.2f\n", $ms[$#ms / 2], $ms[-1];
