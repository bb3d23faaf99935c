#!/usr/bin/perl
# requests: send exactly N sequential GET / on one keep-alive connection
# to 127.0.0.1:PORT, each with its own X-Request-Id when PREFIX is given.
# usage: bench/requests.pl N PORT [PREFIX]   (exit 1 on a non-200)
use strict;
use warnings;
use IO::Socket::INET;

my ($n, $port, $prefix) = @ARGV;
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 10)
    or die "requests: connect: $!\n";
for my $i (1 .. $n) {
    my $id = defined $prefix ? "X-Request-Id: $prefix-$i\r\n" : '';
    print $s "GET / HTTP/1.1\r\nHost: x\r\n$id\r\n";
    my ($status, $len) = (<$s> // '', 0);
    while (my $h = <$s>) {
        last if $h eq "\r\n";
        $len = $1 if $h =~ /^Content-Length: (\d+)/i;
    }
    read($s, my $body, $len) if $len;
    die "requests: $status" unless $status =~ m{^HTTP/1\.1 200};
}
