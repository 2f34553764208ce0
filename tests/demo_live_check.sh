#!/usr/bin/env bash
# The live part of scripts/demo.sh, as far as a test can follow it: it starts its Redis, the
# server and the simulator; the map page is served and reads flow into the engine; SIGTERM (what
# Ctrl-C amounts to for a script in the background) stops everything it started.
#
#   tests/demo_live_check.sh BUILD_DIR
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="$1"
# Three distinct ports nobody listens on now, below the kernel's ephemeral range.
read -r HTTP_PORT DEVICES_PORT REDIS_PORT < <(python3 "$ROOT/tests/free_port.py" 3)
LOG="$(mktemp)"
fail() {
  echo "FAIL: $*"
  echo "--- demo.sh output:"
  cat "$LOG"
  exit 1
}

bash "$ROOT/scripts/demo.sh" --no-setup --no-web --build-dir "$BUILD_DIR" --speed 300 \
  --port "$HTTP_PORT" --devices-port "$DEVICES_PORT" --redis-port "$REDIS_PORT" >"$LOG" 2>&1 &
DEMO=$!
trap 'kill -TERM $DEMO 2>/dev/null || true; rm -f "$LOG"' EXIT

# get PATH: the body of http://127.0.0.1:HTTP_PORT/PATH, or nothing.
get() {
  python3 -c 'import sys, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode())
except Exception:
    pass' "http://127.0.0.1:$HTTP_PORT$1"
}

# The map page, then reads applied by the engine (the simulator plays them at x300).
for _ in $(seq 300); do
  if get / | grep -q '<title>Splitstream'; then break; fi
  kill -0 "$DEMO" 2>/dev/null || fail "demo.sh exited before serving the map"
  sleep 0.2
done
get / | grep -q '<title>Splitstream' || fail "the map page was not served within 60 s"
applied=0
for _ in $(seq 150); do
  applied="$(get /readyz | python3 -c 'import json, sys, re
try:
    d = json.load(sys.stdin)["checks"]["engine"]["detail"]
    print(re.match(r"(\d+) reads applied", d).group(1))
except Exception:
    print(0)')"
  if ((applied > 100)); then break; fi
  sleep 0.2
done
((applied > 100)) || fail "no reads reached the engine within 30 s (applied: $applied)"
echo "map served, $applied reads applied"

# The officials' correction the demo prints works as printed: bib 1 disqualified, then back.
token_file="$(grep -o 'Bearer \$(cat [^)]*)' "$LOG" | head -n 1 | sed 's/.*cat //; s/)$//')"
[[ -f "$token_file" ]] || fail "demo.sh printed no admin token file (got '$token_file')"
correct() {
  python3 -c 'import sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=sys.argv[3].encode(),
                             headers={"Authorization": "Bearer " + open(sys.argv[2]).read().strip()})
try:
    print(urllib.request.urlopen(req, timeout=5).status)
except Exception as e:
    print(getattr(e, "code", e))' "http://127.0.0.1:$HTTP_PORT/api/v1/admin/corrections" "$token_file" "$1"
}
[[ "$(correct '{"kind":"set_status","bib":"1","status":"dsq"}')" == 201 ]] || fail "the DSQ correction was not applied"
get /api/v1/runners/1 | grep -q RUNNER_STATUS_DSQ || fail "bib 1 is not shown disqualified"
[[ "$(correct '{"kind":"set_status","bib":"1","status":"none"}')" == 201 ]] || fail "the correction back was not applied"
get /metrics | grep -q '^splitstream_corrections_total{kind="set_status"} 2$' || fail "/metrics does not count the corrections"
echo "corrections applied as printed; counted on /metrics"

kill -TERM "$DEMO"
for _ in $(seq 250); do kill -0 "$DEMO" 2>/dev/null || break; sleep 0.1; done
kill -0 "$DEMO" 2>/dev/null && fail "demo.sh still running 25 s after SIGTERM"
wait "$DEMO" || true

# Nothing it started is left: no process with its ports on the command line.
left="$(pgrep -af -- "$HTTP_PORT|$DEVICES_PORT|$REDIS_PORT" | grep -v pgrep || true)"
[[ -z "$left" ]] || fail "processes left behind: $left"
echo "demo.sh stopped; nothing left running"
