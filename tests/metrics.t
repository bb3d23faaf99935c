#!/usr/bin/perl
# metrics.t: GET /metrics of a real worker against a real redis-server:
# its text parses as Prometheus's format 0.0.4, and its counters move as
# hits, repeats, 404s and refused connections are made; a restart starts
# them from zero with a new process_start_time_seconds.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Crashonly;
use Test::More;
use Time::HiRes qw(time sleep);

my ($redis, $rport) = start_redis();

# Parse the text: { 'name{labels}' => value }, and the families' TYPEs.
# Every line must be a HELP, a TYPE or a sample; one that is none fails
# the parse (it returns undef and says which).
sub parse {
    my ($text) = @_;
    my (%v, %type);
    my $label = qr/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"/;
    for my $line (split /\n/, $text) {
        if ($line =~ /^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* \S/) {
            next;
        } elsif ($line =~ /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/) {
            $type{$1} = $2;
        } elsif ($line =~ /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{$label(?:,$label)*\})?) ([-+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|Inf|NaN))$/) {
            $v{$1} = $2;
        } else {
            diag("not in the format: $line");
            return;
        }
    }
    return (\%v, \%type);
}

# GET /metrics: (values, types, headers), failing the test if it is not
# a 200 in the format.
sub scrape {
    my ($port) = @_;
    my ($st, $h, $body) = http_get($port, '/metrics');
    is($st, 200, 'GET /metrics: 200') or return ({}, {}, {});
    my ($v, $t) = parse($body);
    ok($v, 'every line parses') or return ({}, {}, $h);
    return ($v, $t, $h);
}

# The parser rejects what is not the format: a checker that can fail.
ok(!parse("crashonly_x{route=/} 1\n"), 'parse rejects an unquoted label');
ok(!parse("crashonly_x 1 2 3\n"), 'parse rejects trailing words');

my $port = free_port();
my $pid = start_worker(PORT => $port, BIND => '127.0.0.1', WORKER_NAME => 'm1',
    REDIS_URL => "redis://127.0.0.1:$rport", MAX_CONNS => 3);
my $t0 = time;
wait_ready($port, 5) or BAIL_OUT("worker did not start:\n" . worker_log($pid));

my ($v0, $type, $h) = scrape($port);
like($h->{'content-type'} // '', qr{^text/plain; version=0\.0\.4},
    'Content-Type: text format 0.0.4');
is($type->{crashonly_http_requests_total}, 'counter', 'requests: a counter');
is($type->{crashonly_redis_call_duration_seconds}, 'histogram',
    'call time: a histogram');
is($v0->{crashonly_hits_counted_total}, 0, 'no hit counted yet');
my $start = $v0->{process_start_time_seconds};
ok($start > $t0 - 5 && $start <= time, 'process_start_time_seconds: now')
    or diag("start $start, test began at $t0");
like((grep { /^crashonly_build_info\{/ } keys %$v0)[0] // '',
    qr/^crashonly_build_info\{version="[^"]+",library="\d+",schema="\d+"\}$/,
    'build info: version, library, schema');
for my $name (qw(crashonly_redis_call_hits crashonly_redis_call_duration_seconds
    crashonly_redis_ack_duration_seconds)) {
    is($v0->{"${name}_bucket{le=\"+Inf\"}"}, $v0->{"${name}_count"},
        "$name: +Inf is the count");
}

# Five hits, one of them repeated, and a 404.
my $id = "metrics-$$";
http_get($port, '/') for 1 .. 3;
http_get($port, '/', { 'Idempotency-Key' => $id }) for 1 .. 2;
http_get($port, '/nope');
my ($v) = scrape($port);
is($v->{crashonly_hits_counted_total}, 4, 'four hits counted');
is($v->{crashonly_hits_repeated_total}, 1, 'one repeat');
is($v->{'crashonly_http_requests_total{route="/",code="200"}'}, 5,
    'five 200s of /');
is($v->{'crashonly_http_requests_total{route="other",code="404"}'}, 1,
    'one 404');
is($v->{'crashonly_http_requests_total{route="/metrics",code="200"}'}, 1,
    'the first scrape counted');
is($v->{crashonly_redis_call_hits_sum}, 5, 'the calls held five hits');
ok($v->{crashonly_redis_call_duration_seconds_count} >= 1
        && $v->{crashonly_redis_call_duration_seconds_sum} > 0,
    'the calls were timed');
is($v->{crashonly_connections_open}, 1, 'one connection open: the scrape');

# Past MAX_CONNS (3): three held open, the fourth refused; then one
# closed, for the scrape.
my @held = map { http_conn($port) } 1 .. 3;
sleep 0.2;
like(raw_request($port, '', 1), qr{^HTTP/1\.1 503 }, 'the fourth: 503');
close shift @held;
sleep 0.2;
($v) = scrape($port);
is($v->{'crashonly_connections_refused_total{reason="max_conns"}'}, 1,
    'one refused past MAX_CONNS');
is($v->{crashonly_connections_open}, 3, 'three open: two held, the scrape');
close $_ for @held;

# A crash starts them from zero, with a new start time.
kill 'KILL', $pid;
wait_exit($pid, 2);
$pid = start_worker(PORT => $port, BIND => '127.0.0.1', WORKER_NAME => 'm1',
    REDIS_URL => "redis://127.0.0.1:$rport");
wait_ready($port, 5) or BAIL_OUT("worker did not restart:\n" . worker_log($pid));
($v) = scrape($port);
ok($v->{process_start_time_seconds} > $start,
    'restarted: a later process_start_time_seconds');
is($v->{crashonly_hits_counted_total}, 0, 'restarted: counters from zero');
done_testing();
