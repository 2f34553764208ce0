#!/usr/bin/env bash
# deploy/build-release.sh: build splitstream and splitstream-sim and stage a release tree.
#
#   deploy/build-release.sh [--build-dir DIR] [--prefix DIR] [--web-dist DIR]
#
# --build-dir DIR  CMake build tree (default: build-release/). Configured here (Ninja, Release,
#                  no tests, no benchmarks) only when it has no CMakeCache.txt, so an existing
#                  tree such as build/ is used with its own options.
# --prefix DIR     where to stage (default: /opt/splitstream)
# --web-dist DIR   the built browser app (default: web/dist/), staged when it exists
#
# Staged: bin/splitstream, bin/splitstream-sim (stripped), share/splitstream/web (the browser
# app), share/splitstream/events/pyongyang-2025 (the demo event),
# share/splitstream/splitstream.conf.example and share/splitstream/systemd/splitstream.service.
# The Dockerfile's build stage runs this; so does tests/deploy_check.py, on the tree it tests.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="$ROOT/build-release"
PREFIX="/opt/splitstream"
WEB_DIST="$ROOT/web/dist"

usage() { sed -n '3,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while (($# > 0)); do
  case "$1" in
    --build-dir | --prefix | --web-dist)
      if (($# < 2)); then
        echo "build-release.sh: $1 needs a value" >&2
        exit 2
      fi
      case "$1" in
        --build-dir) BUILD_DIR="$2" ;;
        --prefix) PREFIX="$2" ;;
        --web-dist) WEB_DIST="$2" ;;
      esac
      shift
      ;;
    -h | --help) usage; exit 0 ;;
    *) echo "build-release.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
BUILD_DIR="$(realpath -m -- "$BUILD_DIR")"
PREFIX="$(realpath -m -- "$PREFIX")"
WEB_DIST="$(realpath -m -- "$WEB_DIST")"

if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]]; then
  launcher=()
  if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
  echo "build-release.sh: configuring $BUILD_DIR (Release)"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja "${launcher[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DSPLITSTREAM_BUILD_TESTS=OFF -DSPLITSTREAM_BUILD_BENCH=OFF
fi
echo "build-release.sh: building splitstream, splitstream-sim in $BUILD_DIR"
cmake --build "$BUILD_DIR" --target splitstream splitstream-sim -j "$(nproc 2>/dev/null || echo 2)"

SHARE="$PREFIX/share/splitstream"
echo "build-release.sh: staging into $PREFIX"
install -d "$PREFIX/bin" "$SHARE/events" "$SHARE/systemd"
# Stripped: the debug info stays in the build tree, the image and the install stay small.
install -m 0755 -s "$BUILD_DIR/bin/splitstream" "$BUILD_DIR/bin/splitstream-sim" "$PREFIX/bin/"

rm -rf "$SHARE/events/pyongyang-2025"
cp -R "$ROOT/events/pyongyang-2025" "$SHARE/events/pyongyang-2025"
install -m 0644 "$ROOT/deploy/splitstream.conf.example" "$SHARE/splitstream.conf.example"
install -m 0644 "$ROOT/deploy/systemd/splitstream.service" "$SHARE/systemd/splitstream.service"

rm -rf "$SHARE/web"
if [[ -f "$WEB_DIST/index.html" ]]; then
  cp -R "$WEB_DIST" "$SHARE/web"
  echo "build-release.sh: browser app from $WEB_DIST"
else
  echo "build-release.sh: no browser app at $WEB_DIST (scripts/build-web.sh builds it): not staged"
fi
# Readable by the service user whatever the umask of whoever ran this.
chmod -R u+rwX,go+rX,go-w "$PREFIX/bin" "$SHARE"
echo "build-release.sh: staged $PREFIX"
