#!/bin/sh
# unit.t: the C unit tests (tests/unit/), built by make build/unit.
exec "$(dirname "$0")/../build/unit"
