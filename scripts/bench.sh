#!/usr/bin/env bash
# scripts/bench.sh: install what is missing, build the benchmarks and run them on this machine.
#
#   scripts/bench.sh [--no-setup] [--quick] [--out DIR] [--build-dir DIR]
#                    [--runners N] [--viewers N] [--push-viewers N] [--adapter-runners N]
#                    [--only LIST]
#
# Runs the engine benchmark (engine_bench), the ingest benchmark with Redis's own rates as its
# reference (ingest_bench), once in each durability mode (local, fsync, replicated), the push benchmark (push_bench) and the whole race: a generated
# 60,000-runner, 12-timing-point marathon played as fast as possible by splitstream-sim with raw
# duplicates while viewers watch (race_bench), fan-out per server CPU-second against a plain
# broadcast server on the npm package `ws` (fanout_bench, 2,000 viewers), and the vendor adapters against the native device
# protocol: one race played as each vendor's hardware (bench/adapters_bench.py, 5,000 runners,
# --adapter-runners), and the stream follower alone (follower_bench: 1,000,000 entries from "0").
# Writes OUT/{machine,engine,ingest,ingest-fsync,ingest-replicated,push,fanout,race,adapters,follower}.json
# and OUT/summary.md (default OUT: bench/results). Each tool starts its own redis-server (and
# `splitstream serve`) on free loopback ports. --quick: smaller runs (a smoke test, not figures).
# --only: a comma list of engine,ingest,push,fanout,race,adapters,follower. Exit status 0 when every run
# said OK.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

usage() {
  sed -n '3,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

SETUP=1
QUICK=0
OUT="$ROOT/bench/results"
BUILD="$ROOT/build-bench"
RUNNERS=60000
VIEWERS=1000
PUSH_VIEWERS=5000
ADAPTER_RUNNERS=5000
ONLY="engine,ingest,push,fanout,race,adapters,follower"
while (($# > 0)); do
  case "$1" in
    --no-setup) SETUP=0 ;;
    --quick) QUICK=1 ;;
    --out) OUT="$(realpath -m "$2")"; shift ;;
    --build-dir) BUILD="$(realpath -m "$2")"; shift ;;
    --runners) RUNNERS="$2"; shift ;;
    --viewers) VIEWERS="$2"; shift ;;
    --push-viewers) PUSH_VIEWERS="$2"; shift ;;
    --adapter-runners) ADAPTER_RUNNERS="$2"; shift ;;
    --only) ONLY="$2"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
for n in "$RUNNERS" "$VIEWERS" "$PUSH_VIEWERS" "$ADAPTER_RUNNERS"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: not a positive number: '$n'" >&2; exit 2; }
done
wants() { [[ ",$ONLY," == *",$1,"* ]]; }

PUSH_RATE=1000
if ((QUICK)); then
  RUNNERS=3000
  VIEWERS=200
  PUSH_VIEWERS=200
  PUSH_RATE=10000
  ADAPTER_RUNNERS=500
fi

if ((SETUP)); then
  bash "$ROOT/scripts/setup.sh"
fi

echo "=== build ($BUILD)"
if [[ ! -f "$BUILD/CMakeCache.txt" ]]; then
  LAUNCHER=()
  if command -v ccache >/dev/null 2>&1; then LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
  cmake -S "$ROOT" -B "$BUILD" -G Ninja "${LAUNCHER[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" -DSPLITSTREAM_WERROR=ON >/dev/null
fi
TARGETS=(splitstream splitstream-sim)
for tool in engine ingest push fanout race follower; do
  if wants "$tool"; then TARGETS+=("${tool}_bench"); fi
done
ninja -C "$BUILD" "${TARGETS[@]}"
BIN="$BUILD/bin"
mkdir -p "$OUT"

# --- the machine --------------------------------------------------------------------------------
json_string() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'; }
CPU="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
CORES="$(nproc)"
MEM_KB="$(sed -n 's/^MemTotal:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/meminfo)"
OS="$(. /etc/os-release && echo "${PRETTY_NAME:-unknown}")"
COMPILER="$(c++ --version | head -n 1)"
REDIS="$(redis-server --version | sed 's/^Redis server v=\([^ ]*\).*/\1/')"
COMMIT="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
LOAD="$(cut -d' ' -f1 /proc/loadavg)"
cat >"$OUT/machine.json" <<EOF
{"date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "commit": "$COMMIT", "cpu": "$(json_string "$CPU")",
 "cores": $CORES, "memory_bytes": $((MEM_KB * 1024)), "os": "$(json_string "$OS")",
 "kernel": "$(uname -r)", "compiler": "$(json_string "$COMPILER")", "redis": "$REDIS",
 "load_average_at_start": $LOAD, "quick": $([[ $QUICK == 1 ]] && echo true || echo false)}
EOF

FAILED=()
run() {
  local name="$1"
  shift
  echo
  echo "=== $name: $*"
  if ! "$@"; then
    FAILED+=("$name")
  fi
}

if wants engine; then
  if ((QUICK)); then
    ENGINE_FILTER="BM_DuplicateRead|BM_StandingsUpdate"
  else
    ENGINE_FILTER="."
  fi
  run engine "$BIN/engine_bench" --benchmark_filter="$ENGINE_FILTER" \
    --benchmark_out="$OUT/engine.json" --benchmark_out_format=json
fi
if wants ingest; then
  INGEST_SIZE=()
  if ((QUICK)); then INGEST_SIZE=(--reads 5000); fi
  # One run per durability mode (docs/redis.md, "Durability"): local is ingest.json.
  run ingest "$BIN/ingest_bench" "${INGEST_SIZE[@]}" --durability local --json "$OUT/ingest.json"
  for mode in fsync replicated; do
    run "ingest-$mode" "$BIN/ingest_bench" "${INGEST_SIZE[@]}" --durability "$mode" \
      --json "$OUT/ingest-$mode.json"
  done
fi
if wants push; then
  run push "$BIN/push_bench" --viewers "$PUSH_VIEWERS" --rate "$PUSH_RATE" --json "$OUT/push.json"
fi
if wants fanout; then
  # The reference server's package (bench/package-lock.json), installed once.
  if [[ ! -d "$ROOT/bench/node_modules/ws" ]]; then
    npm ci --prefix "$ROOT/bench" --no-audit --no-fund
  fi
  FANOUT_SIZE=(--viewers 2000 --reads 1000 --rate 100)
  if ((QUICK)); then FANOUT_SIZE=(--viewers 100 --reads 200 --rate 100); fi
  run fanout "$BIN/fanout_bench" "${FANOUT_SIZE[@]}" --json "$OUT/fanout.json"
fi
if wants race; then
  run race "$BIN/race_bench" --runners "$RUNNERS" --viewers "$VIEWERS" --duplicates 0.05 \
    --json "$OUT/race.json"
fi
if wants adapters; then
  run adapters python3 "$ROOT/bench/adapters_bench.py" --bin "$BIN" --runners "$ADAPTER_RUNNERS" \
    --json "$OUT/adapters.json"
fi

if wants follower; then
  FOLLOWER_ENTRIES=1000000
  if ((QUICK)); then FOLLOWER_ENTRIES=20000; fi
  run follower "$BIN/follower_bench" --entries "$FOLLOWER_ENTRIES" --json "$OUT/follower.json"
fi

echo
echo "=== report"
node "$ROOT/bench/report.mjs" "$OUT" >"$OUT/summary.md"
cat "$OUT/summary.md"
if ((${#FAILED[@]} > 0)); then
  echo "bench.sh: not OK: ${FAILED[*]}" >&2
  exit 1
fi
