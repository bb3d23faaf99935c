# Crashonly/Bucket.pm: an id's bucket, as function_bucket
# (crashonly/function.c) gives it, the one copy of that loop in Perl, for
# tests/lib/Crashonly.pm (id_bucket) and bench/ids-memory: FNV-1a (32
# bits) of the id's bytes, modulo a number of buckets. Its numbers are the
# worker's, as build/crashonly --constants prints them, handed in by the
# caller: loading this starts nothing and reads nothing.
package Crashonly::Bucket;
use strict;
use warnings;
use Exporter 'import';
our @EXPORT_OK = qw(fnv_bucket);

# fnv_bucket(ID, CONSTANTS[, BUCKETS]): ID's bucket of BUCKETS (default
# CONSTANTS->{ID_BUCKETS}); CONSTANTS is --constants' NAME => value.
sub fnv_bucket {
    my ($id, $c, $buckets) = @_;
    my $h = 0 + $c->{FNV_BASIS};
    $h = (($h ^ $_) * $c->{FNV_PRIME}) % 4294967296 for unpack 'C*', $id;
    return $h % ($buckets // $c->{ID_BUCKETS});
}

1;
