#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole default test suite (what CI runs):
#   1. an AddressSanitizer + UBSan build runs the unit, mutation and CLI tests;
#   2. a release build runs the slower verification tests and the browser tests.
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
ctest --preset asan -j "$jobs" -LE "slow|live"

step "release build"
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"
step "verification and end-to-end tests (release)"
if ctest --preset release -N -L slow | grep -q "Total Tests: 0"; then
  echo "(no slow tests in this build)"
else
  ctest --preset release -j 1 -L slow
fi
