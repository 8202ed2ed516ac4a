#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the release binary and runs the built-in demonstration (`vigil demo`): the operations
# server with the dashboard on http://127.0.0.1:8080/, the example concert hall with a gathering
# tonight, a simulated crowd arriving whose virtual sensors post live telemetry, and a sample
# CAP warning after a minute. It prints the URL and an admin and an operator token; stop it
# with Ctrl-C. Options are passed on to `vigil demo` (e.g. --listen 0.0.0.0:8080, --seed 7).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
jobs="$(nproc)"
echo "== building (release)"
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs" --target vigil
echo "== build/release/bin/vigil demo $*"
exec build/release/bin/vigil demo "$@"
