#!/bin/sh
# A short, bounded libFuzzer run over the request path (make fuzz), with
# ASan and UBSan: any crash, leak or broken response check fails it.
set -eu
echo "1..1"
if out=$(make -s fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-10}" 2>&1); then
    echo "ok 1 - $(echo "$out" | grep -a -o 'Done [0-9]* runs in [0-9]* second(s)' | tail -n 1)"
else
    echo "$out" | tail -n 20 | sed 's/^/# /'
    echo "not ok 1 - the fuzzer found something"
fi
