#!/bin/sh
# fuzz.t: the libFuzzer target over the request path builds (make
# fuzz-build), and a short run of it (make fuzz, FUZZ_SECONDS, default 10),
# with ASan and UBSan, finds nothing: a crash, leak, sanitizer report or
# broken response check fails test 2 with the fuzzer's report. The run has
# FUZZ_MERGE=0: the tree's corpus is read, never written (test 3).
# Runs from any directory.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
corpus() { find "$top/tests/fuzz/corpus" -type f -exec cksum {} + | sort | cksum; }
# quote: the lines on stdin as TAP comments.
quote() { sed 's/^/# /'; }

echo "1..3"
before=$(corpus)
if out=$(make -s -C "$top" fuzz-build 2>&1); then
    echo "ok 1 - the fuzzer builds"
    built=yes
else
    echo "$out" | tail -n 30 | quote
    echo "not ok 1 - could not build the fuzzer"
    built=no
fi

if [ "$built" = no ]; then
    echo "ok 2 # skip no fuzzer to run"
elif out=$(make -s -C "$top" fuzz FUZZ_MERGE=0 \
    FUZZ_SECONDS="${FUZZ_SECONDS:-10}" 2>&1); then
    echo "ok 2 - fuzzing found nothing:" \
        "$(echo "$out" | grep -a -o 'Done [0-9]* runs in [0-9]* second(s)' | tail -n 1)"
elif echo "$out" | grep -q '^fuzz: FOUND'; then
    # The report: from the first error line to the sanitizer's summary,
    # then where the input is kept.
    echo "$out" | sed -n '/ERROR\|runtime error\|level=fatal/,/^SUMMARY/p' |
        head -n 40 | quote
    echo "$out" | grep -a 'Test unit written\|^fuzz: FOUND' | quote
    echo "not ok 2 - the fuzzer found something"
else
    echo "$out" | tail -n 30 | quote
    echo "not ok 2 - make fuzz failed before fuzzing"
fi

if [ "$(corpus)" = "$before" ]; then
    echo "ok 3 - tests/fuzz/corpus is untouched"
else
    echo "not ok 3 - tests/fuzz/corpus was changed by the test"
fi
