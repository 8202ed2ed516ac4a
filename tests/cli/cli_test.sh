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

# Tokens (offline), serve, replay, audit verify.
data="$tmp/data"
check token-create 0 "$vigil" token create --data "$data" --role admin --name "cli test"
admin="$(tail -n 1 "$tmp/out")"
expect_grep token-alone-on-last-line "$tmp/out" '^vgl_[0-9a-f]{48}$'
expect_grep token-details-on-stderr "$tmp/err" 'created token [0-9a-f]+ \(role admin'
check token-sensor-needs-venue 2 "$vigil" token create --data "$data" --role sensor
check token-bad-role 2 "$vigil" token create --data "$data" --role mayor
check token-create-sensor 0 "$vigil" token create --data "$data" --role sensor --venue riverside-hall
sensor="$(tail -n 1 "$tmp/out")"
check token-list 0 "$vigil" token list --data "$data"
expect_grep token-list-rows "$tmp/out" 'sensor +riverside-hall'
if grep -q "$admin" "$tmp/out"; then failed=$((failed + 1)); echo "FAIL token-list shows a secret"; else passed=$((passed + 1)); fi
check token-revoke-unknown 1 "$vigil" token revoke --data "$data" nosuchid

"$vigil" serve --data "$data" --listen 127.0.0.1:0 >"$tmp/serve.out" 2>"$tmp/serve.err" &
serve_pid=$!
for _ in $(seq 100); do grep -q '^url: ' "$tmp/serve.out" && break; sleep 0.1; done
url="$(sed -n 's/^url: //p' "$tmp/serve.out")"
expect_grep serve-url "$tmp/serve.out" '^url: http://127\.0\.0\.1:[0-9]+/$'
curl -s -o /dev/null -X PUT -H "Authorization: Bearer $admin" \
  --data-binary @"$src/examples/concert-hall.geojson" "${url}api/v1/venues/riverside-hall"
: >"$tmp/rec.ndjson"
for i in 1 2 3 4 5; do
  echo "{\"sensor\":\"lc-E1\",\"seq\":$i,\"ts\":\"2026-01-01T18:00:0${i}Z\",\"in\":2,\"out\":0}" >>"$tmp/rec.ndjson"
done
check replay 0 "$vigil" replay --url "$url" --token "$sensor" --venue riverside-hall "$tmp/rec.ndjson" --speed 0 --keep-times
expect_grep replay-summary "$tmp/out" '^sent 5 readings: 5 accepted, 0 duplicates$'
check replay-again 0 "$vigil" replay --url "$url" --token "$sensor" --venue riverside-hall "$tmp/rec.ndjson" --speed 0 --keep-times
expect_grep replay-idempotent "$tmp/out" '^sent 5 readings: 0 accepted, 5 duplicates$'
# Shifted to now, the same seqs carry new timestamps: new readings (as after a sensor reboot).
check replay-retimed 0 "$vigil" replay --url "$url" --token "$sensor" --venue riverside-hall "$tmp/rec.ndjson" --speed 0
expect_grep replay-retimed-new "$tmp/out" '^sent 5 readings: 5 accepted, 0 duplicates$'
echo '{"sensor":"lc-E1","seq":"x"}' >"$tmp/bad.ndjson"
check replay-bad-line 1 "$vigil" replay --url "$url" --token "$sensor" --venue riverside-hall "$tmp/bad.ndjson"
expect_grep replay-bad-where "$tmp/err" 'bad.ndjson:1: reading.seq'
check replay-wrong-token 1 "$vigil" replay --url "$url" --token vgl_wrong --venue riverside-hall "$tmp/rec.ndjson" --speed 0
expect_grep replay-401 "$tmp/err" 'HTTP 401'
# Tokens made and revoked offline while the server runs take effect on the next request (the
# server caches principals, and every change of a token, by any process, empties that cache).
expect_status() {  # expect_status NAME WANT TOKEN
  local got
  got="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $3" "${url}api/v1/venues")"
  if [ "$got" = "$2" ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL $1: HTTP $got, expected $2"; fi
}
check token-create-while-serving 0 "$vigil" token create --data "$data" --role viewer --name late
viewer="$(tail -n 1 "$tmp/out")"
viewer_id="$(sed -n 's/^created token \([0-9a-f]*\) .*/\1/p' "$tmp/err")"
expect_status viewer-works-at-once 200 "$viewer"
expect_status viewer-works-again 200 "$viewer"
check token-revoke-while-serving 0 "$vigil" token revoke --data "$data" "$viewer_id"
expect_status viewer-refused-at-once 401 "$viewer"
expect_status admin-still-works 200 "$admin"
kill -TERM "$serve_pid"
wait "$serve_pid"
serve_status=$?
if [ "$serve_status" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL serve exit $serve_status on SIGTERM"; fi
check audit-verify 0 "$vigil" audit verify --data "$data"
expect_grep audit-ok "$tmp/out" '^OK [0-9]+ entries'
# An attacker with the file can drop the guard triggers; the chain still tells.
sqlite3 "$data/vigil.db" "DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'someone else' WHERE seq = 2"
check audit-tampered 1 "$vigil" audit verify --data "$data"
expect_grep audit-names-entry "$tmp/out" 'entry 2'

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
