#!/usr/bin/env bash
# scripts/build-web.sh: install the browser app's npm packages (when the lock file changed) and
# build it into web/dist/.
#
#   scripts/build-web.sh [--with-browser-tests]
#
# --with-browser-tests  also install tests/browser/'s packages (playwright-core)
#
# `npm ci` runs only when node_modules/ was not installed from the current package-lock.json
# (a stamp file records its checksum), so a second run only rebuilds. Needs node and npm
# (scripts/setup.sh installs them).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BROWSER_TESTS=0
while (($# > 0)); do
  case "$1" in
    --with-browser-tests) BROWSER_TESTS=1 ;;
    -h | --help) sed -n '3,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-web.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done

for tool in node npm protoc; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "build-web.sh: $tool not found (scripts/setup.sh installs it)" >&2
    exit 1
  fi
done

# npm_install DIR: npm ci in DIR unless its node_modules matches its lock file already.
npm_install() {
  local dir="$1" sum stamp
  sum="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  stamp="$dir/node_modules/.splitstream-lock-sha256"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$sum" ]]; then
    echo "build-web.sh: ${dir#"$ROOT"/}/node_modules is up to date"
    return
  fi
  echo "build-web.sh: npm ci in ${dir#"$ROOT"/}"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$sum" >"$stamp"
}

npm_install "$ROOT/web"
if ((BROWSER_TESTS)); then npm_install "$ROOT/tests/browser"; fi
(cd "$ROOT/web" && npm run --silent build)
