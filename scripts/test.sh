#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole default test suite (what CI runs):
#   1. an AddressSanitizer + UBSan build runs the unit, mutation and CLI tests;
#   2. a release build runs the slower verification and live-egress accuracy tests.
# The dashboard's browser tests (label e2e) run in step 1 against the sanitized server.
# Long soak, fuzz and scale runs are separate: see docs/testing.md.
# Options: --jobs N (default: number of cores).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
jobs="$(nproc)"
while [ $# -gt 0 ]; do
  case "$1" in
    --jobs) jobs="$2"; shift 2 ;;
    *) echo "usage: scripts/test.sh [--jobs N]" >&2; exit 2 ;;
  esac
done

step() { printf '\n== %s\n' "$*"; }

step "asan+ubsan build"
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"
step "unit, mutation and CLI tests (asan+ubsan)"
ctest --preset asan -j "$jobs" -LE "slow|live" --no-tests=error

# The verification suite simulates whole evacuations: it runs optimised. Its target and the
# `vigil` binary (what scripts/demo.sh runs: -O3 may warn where the asan build does not) are
# built here; the benchmarks are not.
step "release build of vigil and the verification tests"
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs" --target verification_tests live_tests vigil
step "verification and live-egress accuracy tests (release)"
ctest --preset release -j 1 -L "slow|live" --no-tests=error
