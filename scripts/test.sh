#!/usr/bin/env bash
# scripts/test.sh: install what is missing, build everything and run every test.
#
#   scripts/test.sh [--no-setup]
#
# Steps: setup (scripts/setup.sh), clang-format check, the layering check (scripts/check-layers.py),
# the browser app (scripts/build-web.sh),
# build/ (RelWithDebInfo, -Werror: tests, CLI, benchmarks) + ctest (with the web unit tests and
# the browser tests in Chromium), build-asan/ (AddressSanitizer + UBSan, -Werror, no benchmarks) + ctest,
# fuzz (scripts/fuzz.sh --seconds 15: the libFuzzer targets, built with clang in build-fuzz/).
# The benchmarks are compiled but not run (run build/bin/engine_bench yourself).
# The last line of output is `N passed, N failed`: the tests of both ctest runs, plus one failure
# for each step that failed outside ctest (setup, format, layers, configure, build, fuzz). Exit status 0
# only when everything passed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

usage() {
  sed -n '3,4p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

SETUP=1
while (($# > 0)); do
  case "$1" in
    --no-setup) SETUP=0 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "test.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

JOBS="$(nproc 2>/dev/null || echo 2)"
BUILD="$ROOT/build"
BUILD_ASAN="$ROOT/build-asan"
LOGS=""

PASSED=0       # tests passed, both ctest runs
FAILED=0       # tests failed, both ctest runs, plus failed steps
SUMMARY=()     # one line per step
FORMAT_OFFENDERS=()
DONE=0
COUNTED=0      # 1 when a deliberate early exit has already counted its failure
START=$SECONDS

note() { printf '\n=== %s\n' "$*"; }
record() { SUMMARY+=("$(printf '%-24s %s' "$1" "$2")"); }

finish() {
  local status=$?
  ((DONE)) && return
  DONE=1
  if ((status != 0 && !COUNTED)); then
    # Aborted by an unexpected error (set -e): count it.
    record "(aborted)" "FAILED: unexpected error, exit status $status"
    FAILED=$((FAILED + 1))
  fi
  printf '\n=== Summary (%dm%02ds)\n' $(((SECONDS - START) / 60)) $(((SECONDS - START) % 60))
  printf '%s\n' "${SUMMARY[@]}"
  if ((${#FORMAT_OFFENDERS[@]} > 0)); then
    echo "Not clang-formatted (fix with: clang-format -i FILE...):"
    printf '  %s\n' "${FORMAT_OFFENDERS[@]}"
  fi
  if [[ -n "$LOGS" ]]; then rm -rf "$LOGS"; fi
  echo "$PASSED passed, $FAILED failed"
  if ((FAILED > 0 && status == 0)); then exit 1; fi
}
trap finish EXIT
LOGS="$(mktemp -d "${TMPDIR:-/tmp}/splitstream-test.XXXXXX")"

# --- setup --------------------------------------------------------------------------------------
if ((SETUP)); then
  note "setup"
  if bash "$ROOT/scripts/setup.sh"; then
    record "setup" "ok"
  else
    record "setup" "FAILED (see above)"
    FAILED=$((FAILED + 1))
    COUNTED=1
    exit 1
  fi
fi

# --- format check -------------------------------------------------------------------------------
format_check() {
  note "clang-format --dry-run --Werror (src/ tests/ bench/)"
  if ! command -v clang-format >/dev/null 2>&1; then
    record "format" "FAILED: clang-format not installed"
    FAILED=$((FAILED + 1))
    return
  fi
  local files=()
  mapfile -t files < <(find src tests bench -type f \( -name '*.cpp' -o -name '*.hpp' \) 2>/dev/null | LC_ALL=C sort)
  if clang-format --dry-run --Werror "${files[@]}" >"$LOGS/format.log" 2>&1; then
    echo "${#files[@]} files ok"
    record "format" "ok (${#files[@]} files)"
  else
    mapfile -t FORMAT_OFFENDERS < <(grep -oE '^[^:[:space:]]+:[0-9]+:[0-9]+: (error|warning)' "$LOGS/format.log" | cut -d: -f1 | LC_ALL=C sort -u)
    if ((${#FORMAT_OFFENDERS[@]} == 0)); then
      cat "$LOGS/format.log"
      FORMAT_OFFENDERS=("(clang-format failed; output above)")
    fi
    echo "${#FORMAT_OFFENDERS[@]} of ${#files[@]} files are not clang-formatted:"
    printf '  %s\n' "${FORMAT_OFFENDERS[@]}"
    record "format" "FAILED: ${#FORMAT_OFFENDERS[@]} files not formatted"
    FAILED=$((FAILED + 1))
  fi
}
format_check

# --- layering -----------------------------------------------------------------------------------
# Every #include that points up a layer, by file (the build refuses them too, as a missing header).
note "layers: scripts/check-layers.py"
if python3 "$ROOT/scripts/check-layers.py"; then
  record "layers" "ok"
else
  record "layers" "FAILED: includes that cross the layering (above)"
  FAILED=$((FAILED + 1))
fi

# --- browser app --------------------------------------------------------------------------------
# web/dist (served by splitstream, used by the browser tests) and the browser tests' packages;
# `npm ci` only when a lock file changed. The web unit tests and the browser tests run in ctest.
note "web: scripts/build-web.sh --with-browser-tests"
WEB_START=$SECONDS
if bash "$ROOT/scripts/build-web.sh" --with-browser-tests; then
  record "web: build" "ok ($((SECONDS - WEB_START)) s)"
else
  record "web: build" "FAILED (see above)"
  FAILED=$((FAILED + 1))
fi

# --- builds and tests ---------------------------------------------------------------------------
LAUNCHER=()
if command -v ccache >/dev/null 2>&1; then
  LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

# configure DIR ARGS...: a Ninja build tree; a tree made by another generator is started afresh.
configure() {
  local dir="$1"
  shift
  if [[ -f "$dir/CMakeCache.txt" ]] && ! grep -qx 'CMAKE_GENERATOR:INTERNAL=Ninja' "$dir/CMakeCache.txt"; then
    echo "$dir was not made with Ninja: removing it"
    rm -rf "$dir"
  fi
  cmake -S "$ROOT" -B "$dir" -G Ninja "${LAUNCHER[@]}" -DSPLITSTREAM_WERROR=ON "$@"
}

# Tests at once per tree. The integration tests mostly wait on sockets and child processes: on 2
# cores the normal tree's tests (all but the serial browser and benchmark ones) took 74 s at -j4
# against 121 s at -j2. Under ASan they are bound by the CPU: -j4 gained nothing there.
declare -A CTEST_JOBS=([build]=4 [build-asan]=2)

# run_ctest NAME DIR [ENV...]: runs ctest in DIR and adds its counts to PASSED/FAILED.
run_ctest() {
  local name="$1" dir="$2"
  shift 2
  local junit="$LOGS/$name-junit.xml" status=0 counts p f sk
  env "$@" ctest --test-dir "$dir" --output-on-failure -j "${CTEST_JOBS[$name]:-2}" --timeout 600 --no-tests=error \
    --output-junit "$junit" || status=$?
  counts="$(python3 - "$junit" <<'PY' 2>/dev/null || true
import sys, xml.etree.ElementTree as ET
# As ctest counts: skipped (SKIP_RETURN_CODE, GTEST_SKIP) and disabled tests are neither passed
# nor failed; "Not Run" for another reason (e.g. a missing executable) is a failure.
passed = failed = skipped = 0
for case in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    status = case.get("status", "")
    skip = case.find("skipped")
    if status == "run":
        passed += 1
    elif status == "disabled" or (status == "notrun" and skip is not None
                                  and skip.get("message", "").startswith("SKIP_")):
        skipped += 1
    else:
        failed += 1
print(passed, failed, skipped)
PY
)"
  if [[ -z "$counts" ]]; then
    # No JUnit file (ctest could not run): count the step as one failure.
    record "$name: ctest" "FAILED: ctest exit status $status, no results"
    FAILED=$((FAILED + 1))
    return
  fi
  read -r p f sk <<<"$counts"
  if ((status != 0 && f == 0)); then f=1; fi
  PASSED=$((PASSED + p))
  FAILED=$((FAILED + f))
  local skipped=""
  if ((sk > 0)); then skipped=", $sk skipped"; fi
  if ((f == 0)); then
    record "$name: ctest" "ok ($p passed$skipped)"
  else
    record "$name: ctest" "FAILED ($p passed, $f failed$skipped)"
  fi
}

# build_and_test NAME DIR ENV -- CMAKE_ARGS...
build_and_test() {
  local name="$1" dir="$2" t0
  shift 2
  local envs=()
  while (($# > 0)) && [[ "$1" != "--" ]]; do envs+=("$1"); shift; done
  shift
  note "$name: configure ${dir#"$ROOT"/}/"
  t0=$SECONDS
  if ! configure "$dir" "$@"; then
    record "$name: configure" "FAILED"
    FAILED=$((FAILED + 1))
    return
  fi
  note "$name: build"
  if ! cmake --build "$dir" -j "$JOBS"; then
    record "$name: build" "FAILED"
    FAILED=$((FAILED + 1))
    return
  fi
  record "$name: build" "ok ($((SECONDS - t0)) s)"
  note "$name: ctest"
  t0=$SECONDS
  run_ctest "$name" "$dir" "${envs[@]}"
  SUMMARY[-1]="${SUMMARY[-1]} in $((SECONDS - t0)) s"
}

# -g1 (line tables: stack traces name file and line) compiles a quarter faster than -g.
build_and_test "build" "$BUILD" -- \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" \
  -DSPLITSTREAM_SANITIZE=OFF -DSPLITSTREAM_BUILD_BENCH=ON

# -O0: with ASan and UBSan together GCC 12 takes 2.5 times as long over the Beast session
# coroutines at -O1 as at -O0 (docs/benchmarks.md), and the tests wait on sockets, not the CPU.
# No -DNDEBUG, so assert() is checked too.
build_and_test "build-asan" "$BUILD_ASAN" \
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 -- \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O0 -g1" \
  -DSPLITSTREAM_SANITIZE=ON -DSPLITSTREAM_BUILD_BENCH=OFF

# --- fuzz ---------------------------------------------------------------------------------------
# A short run of each libFuzzer target from its committed seeds: it catches a crash a change
# makes easy to find, not a deep one (run scripts/fuzz.sh --seconds 600 for that).
note "fuzz: scripts/fuzz.sh --seconds 15"
FUZZ_START=$SECONDS
if bash "$ROOT/scripts/fuzz.sh" --seconds 15; then
  record "fuzz" "ok (10 targets, 15 s each; $((SECONDS - FUZZ_START)) s in all)"
else
  record "fuzz" "FAILED (see above; inputs in build-fuzz/artifacts/)"
  FAILED=$((FAILED + 1))
fi

if command -v ccache >/dev/null 2>&1 && [[ "${CI:-}" == true ]]; then
  note "ccache"
  ccache -s | head -n 8 || true
fi

# finish (the EXIT trap) prints the summary and the final `N passed, N failed` line.
