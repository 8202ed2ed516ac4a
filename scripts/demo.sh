#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the release binary and runs the built-in demonstration on the example concert hall:
# validates the venue, draws its plans, and (when the simulation engine is built) simulates
# its evacuation. Results go to out/demo/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
jobs="$(nproc)"
echo "== building (release)"
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs" --target vigil
vigil=build/release/bin/vigil
out=out/demo
mkdir -p "$out"
venue=examples/concert-hall.geojson
echo "== $vigil venue validate $venue"
"$vigil" venue validate "$venue"
"$vigil" venue info "$venue"
for level in 0 1; do
  "$vigil" venue render "$venue" --level "$level" --field --out "$out/concert-hall-level$level.svg"
done
if "$vigil" simulate --help >/dev/null 2>&1 && [ -f examples/concert-hall-evacuation.json ]; then
  echo "== $vigil simulate examples/concert-hall-evacuation.json --out $out/evacuation"
  "$vigil" simulate examples/concert-hall-evacuation.json --out "$out/evacuation"
fi
echo
echo "results are in $(pwd)/$out:"
ls -1 "$out"
