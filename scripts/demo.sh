#!/usr/bin/env bash
# scripts/demo.sh: set up, build and run the Splitstream demo on events/pyongyang-2025.
#
#   scripts/demo.sh [--no-setup] [--no-web] [--build-dir DIR]
#
# --no-setup       skip scripts/setup.sh (the Debian packages are already there)
# --no-web         do not build the browser app (web/dist)
# --build-dir DIR  use DIR/bin/splitstream as it is when it exists (no build); otherwise build
#                  the splitstream target in DIR (default: build/, the tree scripts/test.sh uses)
#
# For now the demo runs the race engine offline over the event's simulated reads and prints the
# standings, and builds the browser app that `splitstream serve` serves. The one-command live
# demo (a simulated race played into the server) comes with the simulator.
set -euo pipefail

ORIG_PWD="$PWD"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  sed -n '3,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

SETUP=1
WEB=1
BUILD_DIR=""
while (($# > 0)); do
  case "$1" in
    --no-setup) SETUP=0 ;;
    --no-web) WEB=0 ;;
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
if ((GIVEN)) && [[ -x "$BIN" ]]; then
  : # an existing build: use it as it is
elif ((GIVEN)) && [[ -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  cmake --build "$BUILD_DIR" --target splitstream
else
  # The same options as scripts/test.sh, so both share build/ without reconfiguring.
  launcher=()
  if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
  echo "Building splitstream in $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja "${launcher[@]}" -DSPLITSTREAM_WERROR=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSPLITSTREAM_SANITIZE=OFF -DSPLITSTREAM_BUILD_BENCH=ON \
    >/dev/null
  cmake --build "$BUILD_DIR" --target splitstream
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

cat <<EOF

The live map and leaderboard: start a Redis and the server on this event, open
http://127.0.0.1:8080/ (map) and http://127.0.0.1:8080/leaderboard, and feed it reads
(docs/device-protocol.md; a simulator that plays a whole race is on its way):
  redis-server --port 6379 --daemonize yes
  printf '%s tok-%s\n' stadium-main stadium-main >tokens.txt   # a line per device of the event
  $BIN serve --event $EVENT --device-tokens-file tokens.txt

Where to look next:
  $BIN --help
      every command and option
  splitstream results ... --format json
      the same standings with every split, pace and read counts
  splitstream results ... --at 2025-04-06T09:30:00+09:00
      the standings as they were at 09:30 local time
  $EVENT/README.md    the demo event: courses, timing points, runners
  docs/event-format.md               how to write an event directory
  docs/architecture.md               how the race engine works
EOF
