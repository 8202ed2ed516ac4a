#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The command-line contract (docs/cli.md): output formats and exit statuses of `vigil`.
# Usage: cli_test.sh VIGIL_BINARY SOURCE_DIR
set -u
vigil="$1"
src="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

check() {  # check NAME EXPECTED_STATUS COMMAND...
  local name="$1" want="$2"
  shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" -eq "$want" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $name: exit $got, expected $want"
    sed 's/^/  stdout: /' "$tmp/out" | head -20
    sed 's/^/  stderr: /' "$tmp/err" | head -20
  fi
}
expect_grep() {  # expect_grep NAME FILE PATTERN
  if grep -qE -- "$3" "$2"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $1: '$3' not found in:"
    sed 's/^/  /' "$2" | head -20
  fi
}

check version 0 "$vigil" --version
expect_grep version-format "$tmp/out" '^vigil [0-9]+\.[0-9]+\.[0-9]+$'

check no-args 2 "$vigil"
check unknown-command 2 "$vigil" frobnicate
check missing-file-arg 2 "$vigil" venue validate
check help 0 "$vigil" venue render --help

for f in "$src"/examples/*.geojson; do
  check "validate $(basename "$f")" 0 "$vigil" venue validate "$f"
  expect_grep "validate-ok $(basename "$f")" "$tmp/out" ': OK \(0 warnings\)$'
  check "info-json $(basename "$f")" 0 "$vigil" venue info --json "$f"
  python3 - "$tmp/out" <<'PY' || { failed=$((failed + 1)); echo "FAIL info-json keys $(basename "$f")"; }
import json, sys
d = json.load(open(sys.argv[1]))
for key in ("levels", "area_m2", "zones", "exits", "sensors"):
    assert key in d, key
assert all({"area_m2", "capacity", "level"} <= set(z) for z in d["zones"].values())
assert all({"width_m", "level"} <= set(e) for e in d["exits"].values())
PY
  check "render $(basename "$f")" 0 "$vigil" venue render "$f" --out "$tmp/plan.svg" --field
  expect_grep "render-svg $(basename "$f")" "$tmp/plan.svg" '^<svg'
done

# Bad input: every problem on stderr as FILE: PATH: message, exit 1.
cat >"$tmp/bad.geojson" <<'JSON'
{ "type": "FeatureCollection",
  "vigil": { "format": "venue", "version": 1, "id": "bad" },
  "features": [
    { "type": "Feature", "properties": { "kind": "area" },
      "geometry": { "type": "Polygon", "coordinates": [[[0,0],[10,0],[10,10],[0,10],[0,0]]] } },
    { "type": "Feature", "properties": { "kind": "exit", "id": "E1" },
      "geometry": { "type": "LineString", "coordinates": [[5,5],[6,5]] } },
    { "type": "Feature", "properties": { "kind": "fountain" },
      "geometry": { "type": "Point", "coordinates": [1,1] } }
  ] }
JSON
check bad-venue 1 "$vigil" venue validate "$tmp/bad.geojson"
expect_grep bad-exit "$tmp/err" 'bad.geojson: features\[1\] \(exit "E1"\): exit is [0-9.]+ m from any area boundary'
expect_grep bad-kind "$tmp/err" 'bad.geojson: features\[2\]: unknown kind "fountain"'
check bad-info 1 "$vigil" venue info "$tmp/bad.geojson"
printf '{ "type": ' >"$tmp/trunc.geojson"
check truncated-json 1 "$vigil" venue validate "$tmp/trunc.geojson"
expect_grep truncated-linecol "$tmp/err" 'trunc.geojson: 1:[0-9]+: invalid JSON'
check missing-file 1 "$vigil" venue validate "$tmp/none.geojson"
check render-missing-level 1 "$vigil" venue render "$src/examples/school.geojson" --level 7 --out "$tmp/x.svg"

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
