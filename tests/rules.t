#!/usr/bin/perl
# rules.t: Prometheus's rules (prometheus/rules.yml) are valid (promtool
# check rules), do what they say on made-up series (promtool test rules
# prometheus/rules.test.yml), and those tests can fail: a copy of the
# rules with the crash-loop threshold and the failover window changed
# must fail them. The compose stack's Prometheus configuration is checked
# too. Skips only where promtool cannot be installed (mk/deps prometheus).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Crashonly;
use File::Copy qw(copy);
use Test::More;

my $top = $Crashonly::TOP;
my $dir = "$top/prometheus";

sub have_promtool { system('sh', '-c', 'command -v promtool >/dev/null') == 0 }
if (!have_promtool()) {
    system("$top/mk/deps", 'prometheus');
    if (!have_promtool()) {
        if (($ENV{CI} // '') eq 'true') {
            plan tests => 1;
            fail('promtool: mk/deps prometheus could not install it');
            exit 1;
        }
        plan skip_all => 'no promtool, and mk/deps prometheus could not install it';
    }
}

# Run promtool with @args in $cwd; returns (exit status, output).
sub promtool {
    my ($cwd, @args) = @_;
    my $pid = open(my $out, '-|') // die "fork: $!";
    if ($pid == 0) {
        open(STDERR, '>&', \*STDOUT);
        chdir $cwd or die "chdir $cwd: $!";
        exec 'promtool', @args or exit 127;
    }
    local $/;
    my $text = <$out> // '';
    close $out;
    return ($? >> 8, $text);
}

my ($st, $out) = promtool($dir, 'check', 'rules', 'rules.yml');
is($st, 0, 'promtool check rules rules.yml') or diag($out);
like($out, qr/SUCCESS: \d+ rules found/, 'rules found');

($st, $out) = promtool($dir, 'test', 'rules', 'rules.test.yml');
is($st, 0, 'promtool test rules rules.test.yml') or diag($out);

# The same tests against broken rules must fail, each where it is broken.
my $tmp = tmp();
copy("$dir/rules.test.yml", "$tmp/rules.test.yml") or die "copy: $!";
open(my $in, '<', "$dir/rules.yml") or die "rules.yml: $!";
my $rules = do { local $/; <$in> };
close $in;
(my $broken = $rules) =~ s/worker_restarts:1m >= 5/worker_restarts:1m >= 10/;
$broken =~ s/offset 5s/offset 1s/;
isnt($broken, $rules, 'the broken copy differs');
open(my $o, '>', "$tmp/rules.yml") or die "$tmp/rules.yml: $!";
print $o $broken;
close $o;
($st, $out) = promtool($tmp, 'test', 'rules', 'rules.test.yml');
isnt($st, 0, 'broken rules: promtool test rules fails');
like($out, qr/alertname: WorkerCrashLooping/, '... on the crash loop');
like($out, qr/alertname: RedisFailover/, '... and on the failover');

# The compose stack's configuration, with the rules where it reads them.
open($in, '<', "$dir/compose.yml") or die "compose.yml: $!";
my $conf = do { local $/; <$in> };
close $in;
$conf =~ s{/etc/crashonly/rules\.yml}{$dir/rules.yml} or die 'no rule_files';
open($o, '>', "$tmp/prometheus.yml") or die "$tmp/prometheus.yml: $!";
print $o $conf;
close $o;
($st, $out) = promtool($tmp, 'check', 'config', 'prometheus.yml');
is($st, 0, 'promtool check config: the compose stack\'s') or diag($out);
done_testing();
