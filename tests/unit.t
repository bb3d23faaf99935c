#!/bin/sh
# unit.t: the C unit tests (tests/unit.c), built by make build/unit.
exec build/unit
