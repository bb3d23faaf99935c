#!/usr/bin/perl
# table: turn bench/run's measurements into the table, the ratios against
# their targets, OUT/results.json, OUT/table.md and OUT/plot.png. A server
# measured in several rounds counts with its median; the table shows the
# spread, and where each request's CPU time went.
# usage: bench/table.pl RESULTS.jsonl OUT   (exit 0; misses are reported)
use strict;
use warnings;
use JSON::PP;

my ($in, $out) = @ARGV;
my (%rounds, %r);
open(my $f, '<', $in) or die "table: $in: $!\n";
while (<$f>) { my $j = decode_json($_); push @{ $rounds{ $j->{name} } }, $j }
close $f;

sub median {
    my @s = sort { $a <=> $b } @_;
    return undef unless @s;
    return @s % 2 ? $s[$#s / 2] : ($s[@s / 2 - 1] + $s[@s / 2]) / 2;
}
# One record per name: each number the median of its rounds.
for my $name (keys %rounds) {
    my @all = @{ $rounds{$name} };
    my %m = %{ $all[0] };
    for my $k (grep { !ref $m{$_} && $m{$_} =~ /^-?[0-9.]+$/ } keys %m) {
        $m{$k} = median(map { $_->{$k} } @all);
    }
    if ($m{cpu_us}) {
        my %keys = map { %{ $_->{cpu_us} // {} } } @all;
        $m{cpu_us} = { map { my $k = $_; ($k => median(map { $_->{cpu_us}{$k} // 0 } @all)) } keys %keys };
    }
    if (@all > 1) {
        my @rps = sort { $a <=> $b } map { $_->{rps} } @all;
        @m{qw(rounds rps_min rps_max)} = (scalar @all, $rps[0], $rps[-1]);
    }
    delete $m{round};
    $r{$name} = \%m;
}

sub rps { $r{ $_[0] } ? $r{ $_[0] }{rps} : undef }
sub ratio { my ($a, $b) = (rps($_[0]), rps($_[1])); defined $a && $b ? $a / $b : undef }

my @rows = map { [$_, rps($_), $r{$_}{p99_us}] } grep { $r{$_} && defined $r{$_}{rps} }
    qw(nginx_return_200 worker_plain worker_ids webdis flask_gunicorn
       redis_incr_p1_fast redis_incr_p16_fast worker_ids_durable
       redis_incr_p1_durable redis_incr_p16_durable proxy_return_200
       stack_fast stack stack_chaos);
my $rss = $r{worker_rss} // {};
my @targets = (
    ['worker direct / nginx return 200', ratio(qw(worker_plain nginx_return_200)), '>=', 1.0],
    ['worker direct / webdis', ratio(qw(worker_plain webdis)), '>=', 2.0],
    ['worker direct / Flask design', ratio(qw(worker_plain flask_gunicorn)), '>=', 20.0],
    ['exactly-once path / plain count', ratio(qw(worker_ids worker_plain)), '>=', 0.8],
    ['durable worker / Redis INCR, durable', ratio(qw(worker_ids_durable redis_incr_p1_durable)), '>=', 0.8],
    ['full stack / nginx to return 200', ratio(qw(stack_fast proxy_return_200)), '>=', 0.9],
    ['stack under chaos / without', ratio(qw(stack_chaos stack)), '>=', 0.9],
    ['p99 under chaos / without', $r{stack_chaos} && $r{stack} && $r{stack}{p99_us}
        ? $r{stack_chaos}{p99_us} / $r{stack}{p99_us} : undef, '<=', 2.0],
    ['worker RSS at 1,000 connections (MB)', defined $rss->{at_1000_conns_kb}
        ? $rss->{at_1000_conns_kb} / 1024 : undef, '<', 5.0],
    ['worker RSS growth over ' . ($rss->{requests} // 0) . ' requests (MB)',
        defined $rss->{after_kb} ? ($rss->{after_kb} - $rss->{before_kb}) / 1024 : undef,
        '<', 1.0],
);

# CPU microseconds a request cost: the server's own processes, Redis
# (where the server uses it), and wrk.
sub cpu {
    my ($name, @comms) = @_;
    my $c = $r{$name}{cpu_us} or return '';
    my $sum = 0;
    $sum += $c->{$_} // 0 for @comms;
    return sprintf '%.0f', $sum;
}
sub server_cpu {
    my $c = $r{ $_[0] }{cpu_us} or return '';
    my $sum = 0;
    $sum += $c->{$_} for grep { $_ ne 'wrk' && $_ ne 'redis-server' } keys %$c;
    return sprintf '%.0f', $sum;
}
my $md = "| server | req/s | rounds: min - max | p99 (ms) | CPU us/req: server | Redis | wrk |\n"
    . "|---|---:|---:|---:|---:|---:|---:|\n";
for (@rows) {
    my ($name, $rps, $p99) = @$_;
    my $m = $r{$name};
    $md .= sprintf "| %s | %.0f | %s | %s | %s | %s | %s |\n", $name, $rps,
        $m->{rounds} ? sprintf('%.0f - %.0f', $m->{rps_min}, $m->{rps_max}) : '',
        defined $p99 ? sprintf('%.2f', $p99 / 1000) : '',
        server_cpu($name), cpu($name, 'redis-server'), cpu($name, 'wrk');
}
my @open = grep { $r{$_} && defined $r{$_}{p99_us} && defined $r{$_}{rate} }
    qw(open_nginx_return_200 open_worker_ids open_webdis open_proxy_return_200 open_stack_fast);
if (@open) {
    $md .= "\n| open loop (hitload) | req/s | p50 (ms) | p99 (ms) | p99.9 (ms) | max (ms) | failed |\n"
        . "|---|---:|---:|---:|---:|---:|---:|\n";
    for (@open) {
        my $m = $r{$_};
        $md .= sprintf "| %s | %.0f | %.2f | %.2f | %.2f | %.2f | %d |\n", s/^open_//r,
            $m->{rate}, map({ $m->{"${_}_us"} / 1000 } qw(p50 p99 p999 max)), $m->{failed};
    }
}
my @split = grep { $r{$_} && $r{$_}{cpu_us} } qw(proxy_return_200 stack_fast stack);
if (@split) {
    my @cols = qw(wrk nginx upstream crashonly redis-server);
    $md .= "\n| CPU us/req | " . join(' | ', @cols, 'the rest', 'all') . " |\n|---|"
        . ('---:|' x (@cols + 2)) . "\n";
    for my $name (@split) {
        my %c = %{ $r{$name}{cpu_us} };
        my ($all, $named) = (0, 0);
        $all += $_ for values %c;
        $named += $c{$_} // 0 for @cols;
        my $rest = $all - $named < 0.5 ? 0 : $all - $named;
        $md .= sprintf "| %s | %s | %.0f | %.0f |\n", $name,
            join(' | ', map { defined $c{$_} ? sprintf('%.0f', $c{$_}) : '' } @cols), $rest, $all;
    }
}
$md .= "\n| target | measured | wanted | |\n|---|---:|---:|---|\n";
my @verdicts;
for (@targets) {
    my ($name, $v, $op, $want) = @$_;
    my $ok = !defined $v ? undef
        : $op eq '>=' ? $v >= $want : $op eq '<=' ? $v <= $want : $v < $want;
    push @verdicts, { name => $name, measured => $v, op => $op, wanted => $want,
        met => defined $ok ? ($ok ? JSON::PP::true : JSON::PP::false) : undef };
    $md .= sprintf "| %s | %s | %s %s | %s |\n", $name,
        defined $v ? sprintf('%.2f', $v) : 'not measured', $op, $want,
        !defined $ok ? '' : $ok ? 'met' : '**missed**';
}
$md .= "\n";
for my $k (qw(exec_to_serving kill_to_serving)) {
    $md .= sprintf "- %s: median %.2f ms, max %.2f ms\n", $k =~ s/_/ /gr,
        $r{$k}{median_ms}, $r{$k}{max_ms} if $r{$k};
}
$md .= sprintf "- instructions per request (callgrind): %d plain, %d with an id\n",
    $r{instructions_plain}{per_request}, $r{instructions_ids}{per_request}
    if $r{instructions_plain} && $r{instructions_ids};
$md .= sprintf "- worker RSS: %d kB at 1 connection, %d kB at 1,000\n",
    $rss->{at_1_conn_kb}, $rss->{at_1000_conns_kb} if defined $rss->{at_1_conn_kb};
print $md;

write_file("$out/table.md", $md);
write_file("$out/results.json", JSON::PP->new->canonical->pretty->encode(
    { measurements => \%r, targets => \@verdicts }));
write_file("$out/rps.dat", join '', map { sprintf "\"%s\" %.0f\n", $_->[0] =~ s/_/ /gr, $_->[1] } @rows);
system('gnuplot', '-e', "set terminal pngcairo size 1000,500; set output '$out/plot.png';"
    . "set style fill solid 0.8; set boxwidth 0.7; set xtics rotate by -30; set bmargin 8; set rmargin 10;"
    . "set ylabel 'requests/s'; set logscale y; set grid ytics; unset key;"
    . "set title 'make bench: requests/s (log scale), one run on one machine';"
    . "plot '$out/rps.dat' using 0:2:xtic(1) with boxes lc rgb '#1f77b4'") == 0
    or warn "table: gnuplot failed\n";

sub write_file { open(my $o, '>', $_[0]) or die "table: $_[0]: $!\n"; print $o $_[1]; close $o }
