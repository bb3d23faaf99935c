#!/usr/bin/perl
# compose-metrics.t: Prometheus and the chaos report agree. The compose
# stack with its metrics profile (3 workers), one short chaos run of
# worker process kills (TARGETS=workers, 3 s apart: more than a scrape,
# so no restart falls between two), and its report's Prometheus figures
# (chaos/prom) beside the run's own: each worker's restarts equal its
# kills, and the hits Prometheus saw counted match /hits's growth within
# a scrape of each killed worker's hits, never more. The same report
# without a Prometheus (PROMETHEUS_URL unset, or a port nothing answers)
# says nothing of it; the comparison rejects doctored figures.
# Builds the images as compose.t does (make images, and the profile's
# image), unless WORKER_IMAGE, PROXY_IMAGE and PROMETHEUS_IMAGE name
# images the engine has. Skips when no Docker engine answers; with
# CI=true that skip is a failure instead. Touches only its own project
# (crashonly-metrics-PID) and removes it at the end.
use strict;
use warnings;
use File::Temp;
use FindBin;
use lib "$FindBin::Bin/lib";
use Crashonly qw(free_port tmp expect_log need_docker run_timed compose_down);
use HTTP::Tiny;
use JSON::PP qw(decode_json);
use POSIX ();
use Test::More;
use Time::HiRes qw(time sleep);

my $top = $Crashonly::TOP;

need_docker();

# A worker started while the machine is too busy for its Redis
# connection within REDIS_TIMEOUT_MS exits 113 (compose.t says the same).
expect_log(qr/ level=fatal event=redis_timeout timeout_ms=\d+ pending=\d+$/);

my $project = "crashonly-metrics-$$";
my @compose = ("$top/compose/run", '-p', $project, '--profile', 'metrics');
my ($main, $up) = ($$, 0);

sub run { run_timed(@_) } # CMD under a time limit: (ok, stdout, stderr)

# Down, each service's log kept first under tmp()/compose/ for the scan.
sub down {
    compose_down(\@compose, qw(redis1 redis2 sentinel1 sentinel2 sentinel3 worker proxy
        prometheus));
}
END {
    if ($up && $$ == $main) {
        local $?;
        down();
    }
}
$SIG{INT} = $SIG{TERM} = sub { exit 1 };
$SIG{ALRM} = sub { die "compose-metrics.t: out of time\n" };
alarm 1500;

my @given = grep { $ENV{$_} } qw(WORKER_IMAGE PROXY_IMAGE PROMETHEUS_IMAGE);
if (@given == 3 && system('docker image inspect crashonly-redis '
        . join(' ', map { "'$ENV{$_}'" } @given) . ' >/dev/null 2>&1') == 0) {
    pass("images given: @ENV{@given}");
} else {
    my ($built, $out, $log) = run(1200, 'make', '-s', '-C', $top, 'images');
    ok($built, 'make images') or do { diag($out, $log); BAIL_OUT('no images') };
    ($built, $out, $log) = run(1200, @compose, 'build', '-q', 'prometheus');
    ok($built, "the metrics profile's image") or do { diag($out, $log); BAIL_OUT('no image') };
}
alarm 600;

my $port = free_port();
my $pport = free_port();
$ENV{PROXY_PORT} = "127.0.0.1:$port";
$ENV{PROMETHEUS_PORT} = $pport;
my $prom = "http://127.0.0.1:$pport";
my $http = HTTP::Tiny->new(timeout => 5);
$up = 1;
my ($ok, $out, $err) = run(300, @compose, 'up', '-d', '--no-build', '--scale', 'worker=3');
ok($ok, 'compose --profile metrics up, 3 workers') or do { diag($out, $err); BAIL_OUT('no stack') };

# Prometheus sees the 3 workers, and one scrape of each has come in.
sub query {
    my $r = $http->get("$prom/api/v1/query?" . $http->www_form_urlencode({ query => $_[0] }));
    my $j = $r->{success} ? eval { decode_json($r->{content}) } : undef;
    return $j && $j->{status} eq 'success' ? $j->{data}{result} : undef;
}
my ($seen, $end) = (0, time + 90);
until ($seen == 3 || time > $end) {
    my $r = query('count(up{job="worker"} == 1)');
    $seen = $r && @$r ? $r->[0]{value}[1] : 0;
    sleep 0.5;
}
is($seen, 3, 'Prometheus scrapes the 3 workers');
sleep 2;

my $dir = File::Temp->newdir;
{
    local @ENV{qw(BACKEND TARGETS COMPOSE_PROJECT_NAME STATE OUT DURATION KILL_EVERY CONNS
        PROMETHEUS_URL)}
        = ('compose', 'workers', $project, "$dir", "$dir/run", 12, 3, 16, $prom);
    my ($passed, $verdict, $e) = run(180, "$top/chaos/run");
    ok($passed, 'chaos TARGETS=workers passes') or diag($verdict, $e);
    like($verdict, qr/^PASS .* [1-9]\d* workers killed, 0 client-visible errors/m,
        'with its verdict line');
}
my $res = eval { decode_json(slurp("$dir/run/results.json")) } // {};
my $p = $res->{prometheus};
ok($p, 'results.json has what Prometheus saw') or diag(explain($res->{config}));
like(slurp("$dir/run/summary.md"), qr/^## What Prometheus saw$/m, 'and summary.md too');
my $before = eval { decode_json(slurp("$dir/run/before.json"))->{total} } // 0;
my $after = eval { decode_json(slurp("$dir/run/after.json"))->{total} } // 0;
my @kills = @{ $res->{kills} // [] };
ok(@kills >= 2, scalar(@kills) . ' kills');
my @off = disagree($p, \@kills, $after - $before, $res->{load}{duration_s}, 'say');
ok(!@off, 'Prometheus and the run agree') or diag(join("\n", @off));
diag(sprintf 'kills %d, restarts %d; /hits grew %d, Prometheus counted %d (%d short)',
    scalar @kills, $p->{restarts} // -1, $after - $before, $p->{hits_counted} // -1,
    $after - $before - ($p->{hits_counted} // 0)) if $p;

# The comparison can fail: one kill more than Prometheus saw, and hits
# Prometheus could not have seen, are each rejected.
if ($p) {
    my $extra = [@kills, { %{ $kills[0] } }];
    ok(scalar disagree($p, $extra, $after - $before, $res->{load}{duration_s}),
        'a kill Prometheus did not see is a disagreement');
    ok(scalar disagree($p, \@kills, $after - $before + 100000, $res->{load}{duration_s}),
        'and so are hits it did not count');
    ok(scalar disagree({ %$p, hits_counted => $after - $before + 1 }, \@kills,
        $after - $before, $res->{load}{duration_s}), 'and hits it counted twice');
}

# Without a Prometheus, the report says nothing of it and works as before.
for my $url (undef, 'http://127.0.0.1:' . free_port()) {
    local @ENV{qw(BACKEND COMPOSE_PROJECT_NAME STATE TARGETS KILL_EVERY PROMETHEUS_URL)}
        = ('compose', $project, "$dir", 'workers', 3, $url);
    my ($passed, $verdict, $e) = run(120, "$top/chaos/report", "$dir/run");
    my $what = defined $url ? 'a port where nothing answers' : 'PROMETHEUS_URL unset';
    ok($passed && $verdict =~ /^PASS /, "the report passes with $what") or diag($verdict, $e);
    my $r = eval { decode_json(slurp("$dir/run/results.json")) } // {};
    ok(!exists $r->{prometheus} && slurp("$dir/run/summary.md") !~ /Prometheus/
        && $r->{verdict}, 'and says nothing of Prometheus');
}

# disagree(PROM, KILLS, GREW, SECONDS): how PROM (results.json's
# prometheus) and the run differ, one line each; none when they agree.
# Each worker's restarts must be its kills. Prometheus's hits may fall
# short of /hits's growth (GREW) by what a killed worker counted after
# its last scrape: a scrape interval of the busiest worker's hits per
# kill (its rate over the SECONDS of load, a quarter more for a rate that
# varies), never more, and may not exceed it.
sub disagree {
    my ($prom, $kills, $grew, $seconds) = @_;
    my @off;
    my %k;
    $k{ $_->{target} }++ for @$kills;
    for my $w (@{ $prom->{workers} // [] }) {
        my $want = delete $k{ $w->{target} // '' } // 0;
        push @off, "$w->{target}: $w->{restarts} restarts, $want kills"
            if $w->{restarts} != $want;
    }
    push @off, "$_: $k{$_} kills, not scraped" for sort keys %k;
    my ($busiest) = sort { $b <=> $a } map { $_->{hits_counted} } @{ $prom->{workers} // [] };
    my $short = $grew - ($prom->{hits_counted} // 0);
    my $most = @$kills * ($prom->{scrape_s} // 1) * ($busiest // 0) / ($seconds || 1) * 1.25;
    my $hits = sprintf 'hits: /hits grew %d, Prometheus counted %d: %d short, at most %.0f',
        $grew, $prom->{hits_counted} // 0, $short, $most;
    push @off, $hits if $short < 0 || $short > $most;
    diag($hits) if $_[4];
    return @off;
}

sub slurp { open(my $f, '<', $_[0]) or return ''; local $/; <$f> // '' }

done_testing();
