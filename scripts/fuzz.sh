#!/usr/bin/env bash
# scripts/fuzz.sh: build the libFuzzer targets with clang in build-fuzz/ and run each from its corpus.
#
#   scripts/fuzz.sh [--seconds N] [--build-only] [TARGET...]
#
# Targets (default: all): frame_decoder_fuzz, read_batch_json_fuzz, one per vendor decoder
# parser (impinj_reads_fuzz, ctp01_fsm_fuzz, ...), session_cookie_fuzz, resp_reader_fuzz (Redis
# replies), websocket_fsm_fuzz (a viewer's WebSocket frames) and checkpoint_fuzz (a node's
# checkpoint as Redis holds it); the TARGETS list below. Each runs for N
# seconds (default 20) from tests/fuzz/corpus/<target without _fuzz>/, with ASan and UBSan, as
# many at once as there are cores.
# Inputs that find new coverage go to build-fuzz/corpus/<target>/ (the committed seeds are only
# read); a crashing input is saved as build-fuzz/artifacts/<target>-crash-<sha1> and fails the run.
# Exit status 0 only when every target built and ran without finding anything.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

usage() {
  sed -n '3,4p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

RUN_SECONDS=20
BUILD_ONLY=0
TARGETS=()
while (($# > 0)); do
  case "$1" in
    --seconds)
      [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --seconds needs a number" >&2; exit 2; }
      RUN_SECONDS="$2"
      shift
      ;;
    --build-only) BUILD_ONLY=1 ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "fuzz.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    *) TARGETS+=("$1") ;;
  esac
  shift
done

# Target, then its -max_len: a few dozen frames; a body of a few dozen reads (the JSON targets'
# body limit is 3000 bytes, so some inputs are over it); a vendor session of a few dozen lines; an
# XREAD reply of a few dozen entries.
declare -A MAX_LEN=([frame_decoder_fuzz]=8192 [read_batch_json_fuzz]=4096 [impinj_reads_fuzz]=4096
  [ctp01_fsm_fuzz]=4096 [mylaps_fsm_fuzz]=4096 [raceresult_fsm_fuzz]=4096
  [session_cookie_fuzz]=1024 [resp_reader_fuzz]=4096 [websocket_fsm_fuzz]=4096
  [checkpoint_fuzz]=4096)
if ((${#TARGETS[@]} == 0)); then
  TARGETS=(frame_decoder_fuzz read_batch_json_fuzz impinj_reads_fuzz ctp01_fsm_fuzz mylaps_fsm_fuzz
    raceresult_fsm_fuzz session_cookie_fuzz resp_reader_fuzz websocket_fsm_fuzz checkpoint_fuzz)
fi
for target in "${TARGETS[@]}"; do
  [[ -n "${MAX_LEN[$target]:-}" ]] || { echo "fuzz.sh: unknown target '$target'" >&2; exit 2; }
done

for tool in clang++ cmake ninja; do
  command -v "$tool" >/dev/null 2>&1 || { echo "fuzz.sh: $tool not found (scripts/setup.sh)" >&2; exit 1; }
done

BUILD="$ROOT/build-fuzz"
CLANGXX="$(command -v clang++)"
# A tree made by another generator or compiler cannot be reconfigured in place: start afresh.
if [[ -f "$BUILD/CMakeCache.txt" ]] &&
  ! { grep -qx 'CMAKE_GENERATOR:INTERNAL=Ninja' "$BUILD/CMakeCache.txt" &&
    grep -qx "CMAKE_CXX_COMPILER:FILEPATH=$CLANGXX" "$BUILD/CMakeCache.txt"; }; then
  echo "fuzz.sh: $BUILD was made with another generator or compiler: removing it"
  rm -rf "$BUILD"
fi

LAUNCHER=()
if command -v ccache >/dev/null 2>&1; then LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi

# The whole tree with clang, ASan and UBSan, and libFuzzer's coverage instrumentation
# (fuzzer-no-link) so that the libraries under test guide the fuzzer too. Not
# SPLITSTREAM_SANITIZE: clang 14's -fsanitize=function fails on coroutines ("Cannot represent a
# difference across sections", src/http, src/ingest sessions), and only flags given here can
# turn it off. -O1 -g without -DNDEBUG: assert() is checked.
SANITIZE_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=function"
SANITIZE_FLAGS+=" -fno-sanitize-recover=all -fno-omit-frame-pointer"
echo "=== fuzz: configure ${BUILD#"$ROOT"/}/"
CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -G Ninja "${LAUNCHER[@]}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" \
  "-DCMAKE_CXX_FLAGS=$SANITIZE_FLAGS" -DSPLITSTREAM_SANITIZE=OFF -DSPLITSTREAM_WERROR=ON \
  -DSPLITSTREAM_FUZZ=ON -DSPLITSTREAM_BUILD_TESTS=OFF -DSPLITSTREAM_BUILD_BENCH=OFF >/dev/null

echo "=== fuzz: build ${TARGETS[*]}"
cmake --build "$BUILD" -j "$(nproc 2>/dev/null || echo 2)" --target "${TARGETS[@]}"
((BUILD_ONLY)) && exit 0

mkdir -p "$BUILD/artifacts"
# One target per core at a time (each fuzzer is one process); the reports in the targets' order.
run_target() {
  local target="$1" seeds="$ROOT/tests/fuzz/corpus/${1%_fuzz}" work="$BUILD/corpus/$1"
  local log="$BUILD/$1.log" report="$BUILD/$1.report" status=0 runs rate cov
  mkdir -p "$work"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$BUILD/bin/$target" -max_total_time="$RUN_SECONDS" -max_len="${MAX_LEN[$target]}" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$BUILD/artifacts/$target-" "$work" "$seeds" >"$log" 2>&1 || status=$?
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)"
  cov="$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 || true)"
  if ((status == 0)); then
    echo "$target: ok, ${runs:-?} runs, ${rate:-?} exec/s, ${cov:-cov: ?}, $(find "$work" -type f | wc -l) inputs in ${work#"$ROOT"/}/" >"$report.tmp"
    mv "$report.tmp" "$report"
  else
    # The report (stack, invariant, input) is near the end of libFuzzer's output.
    { tail -n 60 "$log"; echo "$target: FAILED (exit status $status), see $log and $BUILD/artifacts/"; } >"$BUILD/$target.failed"
  fi
}
PARALLEL="$(nproc 2>/dev/null || echo 2)"
for target in "${TARGETS[@]}"; do
  while (($(jobs -rp | wc -l) >= PARALLEL)); do wait -n || true; done
  echo "=== fuzz: $target for ${RUN_SECONDS} s (-max_len=${MAX_LEN[$target]})"
  rm -f "$BUILD/$target.report" "$BUILD/$target.failed"
  run_target "$target" &
done
wait
FAILED=()
for target in "${TARGETS[@]}"; do
  if [[ -f "$BUILD/$target.report" ]]; then
    cat "$BUILD/$target.report"
  else
    cat "$BUILD/$target.failed" 2>/dev/null || echo "$target: FAILED (no report)"
    FAILED+=("$target")
  fi
done
if ((${#FAILED[@]} > 0)); then
  echo "fuzz.sh: found problems in: ${FAILED[*]}"
  exit 1
fi
