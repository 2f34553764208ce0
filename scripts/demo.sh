#!/usr/bin/env bash
# scripts/demo.sh: set up, build and run the Splitstream demo on events/pyongyang-2025.
#
#   scripts/demo.sh [--no-setup] [--no-web] [--offline] [--build-dir DIR] [--speed X]
#                   [--port N] [--devices-port N] [--redis-port N | --redis URL]
#
# --no-setup         skip scripts/setup.sh (the Debian packages are already there)
# --no-web           do not build the browser app (web/dist)
# --offline          only the offline part: standings computed from the reads file, no server
# --build-dir DIR    use DIR/bin/splitstream as it is when it exists (no build); otherwise build
#                    in DIR (default: build/, the tree scripts/test.sh uses)
# --speed X          play the race at X times real time [90: the six hours in about four minutes]
# --port N           the map and leaderboard (HTTP) [8080]; --devices-port N: devices [7070]
# --redis-port N     the demo's own Redis, started here with its own data directory [6390]
# --redis URL        use this Redis instead of starting one (the race continues from what it
#                    holds for the event)
#
# First the race engine runs offline over the demo event's simulated reads and prints the
# standings. Then the live demo: a Redis with persistence on, `splitstream serve` on the event,
# and `splitstream-sim` playing the same reads to it as the event's ten timing devices would;
# open the printed URLs to watch. Ctrl-C stops everything the script started.
set -euo pipefail

ORIG_PWD="$PWD"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  sed -n '3,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

SETUP=1
WEB=1
LIVE=1
SPEED=90
HTTP_PORT=8080
DEVICES_PORT=7070
REDIS_PORT=6390
REDIS_URL=""

# value OPTION VALUE: VALUE, or an error when it is missing.
value() {
  [[ -n "${2:-}" ]] || { echo "demo.sh: $1 needs a value" >&2; exit 2; }
  printf '%s' "$2"
}
BUILD_DIR=""
while (($# > 0)); do
  case "$1" in
    --no-setup) SETUP=0 ;;
    --no-web) WEB=0 ;;
    --offline) LIVE=0 ;;
    --speed) SPEED="$(value "$1" "${2:-}")"; shift ;;
    --port) HTTP_PORT="$(value "$1" "${2:-}")"; shift ;;
    --devices-port) DEVICES_PORT="$(value "$1" "${2:-}")"; shift ;;
    --redis-port) REDIS_PORT="$(value "$1" "${2:-}")"; shift ;;
    --redis) REDIS_URL="$(value "$1" "${2:-}")"; shift ;;
    --build-dir)
      [[ $# -ge 2 ]] || { echo "demo.sh: --build-dir needs a directory" >&2; exit 2; }
      BUILD_DIR="$2"
      shift
      ;;
    --build-dir=*) BUILD_DIR="${1#--build-dir=}" ;;
    -h | --help) usage; exit 0 ;;
    *) echo "demo.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

cd "$ROOT"
if ((SETUP)); then
  bash "$ROOT/scripts/setup.sh"
fi

# --- the splitstream binary -----------------------------------------------------------------------
GIVEN=0
if [[ -n "$BUILD_DIR" ]]; then
  GIVEN=1
  BUILD_DIR="$(cd "$ORIG_PWD" && realpath -m -- "$BUILD_DIR")"
else
  BUILD_DIR="$ROOT/build"
fi
BIN="$BUILD_DIR/bin/splitstream"
SIM="$BUILD_DIR/bin/splitstream-sim"
if ((GIVEN)) && [[ -x "$BIN" && -x "$SIM" ]]; then
  : # an existing build: use it as it is
elif ((GIVEN)) && [[ -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  cmake --build "$BUILD_DIR" --target splitstream splitstream-sim
else
  # The same options as scripts/test.sh, so both share build/ without reconfiguring.
  launcher=()
  if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
  echo "Building splitstream in $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja "${launcher[@]}" -DSPLITSTREAM_WERROR=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" \
    -DSPLITSTREAM_SANITIZE=OFF -DSPLITSTREAM_BUILD_BENCH=ON >/dev/null
  cmake --build "$BUILD_DIR" --target splitstream splitstream-sim
fi

# --- the browser app ----------------------------------------------------------------------------
if ((WEB)); then
  echo "Building the browser app (web/dist)"
  bash "$ROOT/scripts/build-web.sh"
fi

# --- the demo -----------------------------------------------------------------------------------
EVENT=events/pyongyang-2025
READS=$EVENT/reads.csv
TMP="$(mktemp -d "${TMPDIR:-/tmp}/splitstream-demo.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

show() {
  printf '\n$ splitstream %s\n' "$*"
}

# table CSV TITLE N: the first N rows of a `results --format csv` file as a readable table.
table() {
  python3 - "$1" "$2" "$3" "$EVENT/event.json" <<'PY'
import csv, json, sys

path, title, n, event_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with open(path, newline="", encoding="utf-8") as f:
    rows = list(csv.DictReader(f))
race_id = rows[0]["race"] if rows else ""
rank_by = "gun"
with open(event_path, encoding="utf-8") as f:
    for race in json.load(f)["races"]:
        if race["id"] == race_id:
            rank_by = race.get("rank_by", "gun")
column = rank_by + "_time"
print("\n%s (ranked by %s time)" % (title, rank_by))
print("  %4s  %5s  %-26s  %-7s  %s" % ("Rank", "Bib", "Name", "Country", "Time"))
for r in rows[:n]:
    time = r[column] if r["status"] == "finished" else "%s (%s)" % (r["status"], r["last_split"])
    print("  %4s  %5s  %-26s  %-7s  %s" % (r["rank"], r["bib"], r["name"], r["country"], time))
finished = sum(1 for r in rows if r["status"] == "finished")
if n > 3:
    print("  (%d runners, %d finished)" % (len(rows), finished))
PY
}

echo "Splitstream demo: Pyongyang International Marathon 2025 ($EVENT)"
echo "The reads are a simulated race (see $EVENT/README.md), not real timing data."

show check --event $EVENT
"$BIN" check --event $EVENT

show results --event $EVENT --reads $READS --race marathon --format csv
"$BIN" results --event $EVENT --reads $READS --race marathon --format csv >"$TMP/marathon.csv"
echo "(one line per runner: rank, bib, name, category, status, gun and chip time, gap, every split)"
table "$TMP/marathon.csv" "Marathon, top 10" 10

show results --event $EVENT --reads $READS --race marathon --category F --format csv
"$BIN" results --event $EVENT --reads $READS --race marathon --category F --format csv >"$TMP/women.csv"
table "$TMP/women.csv" "Marathon, women's top 3" 3

printf '\nWinners of the other races\n'
for race in half 10k 5k; do
  "$BIN" results --event $EVENT --reads $READS --race "$race" --format csv >"$TMP/$race.csv"
  python3 - "$TMP/$race.csv" "$EVENT/event.json" <<'PY'
import csv, json, sys

with open(sys.argv[1], newline="", encoding="utf-8") as f:
    rows = [r for r in csv.DictReader(f) if r["status"] == "finished"]
races = {r["id"]: r for r in json.load(open(sys.argv[2], encoding="utf-8"))["races"]}
for gender, label in (("M", "men"), ("F", "women")):
    first = next((r for r in rows if r["gender"] == gender), None)
    if first is None:
        continue
    race = races[first["race"]]
    rank_by = race.get("rank_by", "gun")
    print("  %-14s %-6s %5s  %-26s  %-4s %s (%s time)" % (
        race.get("name", race["id"]), label, first["bib"], first["name"], first["country"],
        first[rank_by + "_time"], rank_by))
PY
done

if ((!LIVE)); then
  cat <<EOF

Where to look next:
  $BIN --help
      every command and option
  $EVENT/README.md    the demo event: courses, timing points, runners
  docs/architecture.md               how a read travels from a mat to the browser
EOF
  exit 0
fi

# --- the live demo ------------------------------------------------------------------------------
# Everything started here is stopped on exit (Ctrl-C included); the temporary directory holds
# the demo's Redis data, device tokens and server log.
PIDS=()
cleanup() {
  local pid
  trap - EXIT INT TERM
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid="${PIDS[i]}"
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    # Up to 15 s each (the server drains within its --drain-timeout), then SIGKILL.
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo; echo "Stopping the demo"; exit 130' INT
trap 'exit 143' TERM

# wait_until WHAT SECONDS COMMAND...: polls COMMAND every 0.2 s.
wait_until() {
  local what="$1" seconds="$2"
  shift 2
  for _ in $(seq $((seconds * 5))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "demo.sh: timed out after ${seconds} s waiting for $what" >&2
  return 1
}
http_ok() {
  python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1"
}

if [[ -z "$REDIS_URL" ]]; then
  mkdir -p "$TMP/redis"
  echo
  echo "Starting Redis on 127.0.0.1:$REDIS_PORT (append-only file in $TMP/redis)"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$TMP/redis" --appendonly yes \
    --save "" --logfile "$TMP/redis/redis.log" &
  PIDS+=($!)
  wait_until "Redis on port $REDIS_PORT" 10 redis-cli -p "$REDIS_PORT" ping ||
    { cat "$TMP/redis/redis.log" >&2; exit 1; }
  REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
fi

# A random token per device, shared by the server and the simulator through this file.
TOKENS="$TMP/device-tokens"
python3 - "$EVENT/event.json" "$TOKENS" <<'PY'
import json, secrets, sys
devices = json.load(open(sys.argv[1], encoding="utf-8"))["devices"]
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for d in devices:
        out.write("%s %s\n" % (d["id"], secrets.token_hex(16)))
PY

# The officials' token for corrections (docs/api.md), random like the devices'.
ADMIN_TOKEN_FILE="$TMP/admin-token"
python3 -c 'import secrets; print(secrets.token_hex(24))' >"$ADMIN_TOKEN_FILE"

echo "Starting splitstream serve (log: $TMP/serve.log)"
"$BIN" serve --event "$EVENT" --redis "$REDIS_URL" --http "127.0.0.1:$HTTP_PORT" \
  --devices "127.0.0.1:$DEVICES_PORT" --device-tokens-file "$TOKENS" \
  --admin-token-file "$ADMIN_TOKEN_FILE" >"$TMP/serve.log" 2>&1 &
PIDS+=($!)
if ! wait_until "the server's /readyz" 20 http_ok "http://127.0.0.1:$HTTP_PORT/readyz"; then
  cat "$TMP/serve.log" >&2
  exit 1
fi

cat <<EOF

  Live map:     http://127.0.0.1:$HTTP_PORT/
  Leaderboard:  http://127.0.0.1:$HTTP_PORT/leaderboard
  Metrics:      http://127.0.0.1:$HTTP_PORT/metrics
  (from another machine, forward the port, e.g. ssh -L $HTTP_PORT:127.0.0.1:$HTTP_PORT this-host)

  As an official (docs/api.md), e.g. the marathon's bib 1 disqualified, then back in the race:
    curl -s -H "Authorization: Bearer \$(cat $ADMIN_TOKEN_FILE)" \\
      http://127.0.0.1:$HTTP_PORT/api/v1/admin/corrections -d '{"kind":"set_status","bib":"1","status":"dsq"}'
    curl -s -H "Authorization: Bearer \$(cat $ADMIN_TOKEN_FILE)" \\
      http://127.0.0.1:$HTTP_PORT/api/v1/admin/corrections -d '{"kind":"set_status","bib":"1","status":"none"}'

Playing the race at x$SPEED with splitstream-sim; Ctrl-C stops everything.
EOF
"$SIM" replay --event "$EVENT" --reads "$READS" --server "127.0.0.1:$DEVICES_PORT" \
  --device-tokens-file "$TOKENS" --speed "$SPEED" &
PIDS+=($!)
SIM_PID=$!
set +e
wait "$SIM_PID"
status=$?
set -e
if ((status != 0)); then
  echo "demo.sh: splitstream-sim exited with status $status (server log: $TMP/serve.log)" >&2
  exit "$status"
fi
echo
echo "The race is over; the pages stay up until Ctrl-C."
while true; do sleep 3600; done
