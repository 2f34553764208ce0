#!/usr/bin/env bash
# scripts/setup.sh: install the Debian 12 packages Splitstream needs, only those that are missing.
#
#   bash scripts/setup.sh          (or: source scripts/setup.sh)
#
# Idempotent: when everything is installed it only checks and returns. It runs `apt-get update`
# and `apt-get install` only when a package is missing, and that needs root. Used by
# scripts/test.sh and scripts/demo.sh.

SPLITSTREAM_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-json1.81-dev
  libprotobuf-dev protobuf-compiler
  libgtest-dev libgmock-dev libbenchmark-dev
  libhiredis-dev redis-server libssl-dev openssl
  redis-sentinel redis-tools  # the fault tests' sentinels and redis-cli (cluster create, TLS)
  python3 python3-jsonschema python3-yaml
  haproxy  # tests/deploy_check.py checks and runs deploy/haproxy.cfg
  clang-format git
  clang libclang-rt-14-dev
  chromium fonts-dejavu-core
)
# Node.js and npm build the browser app and run its tests. Any node >= 18 on PATH will do (a
# NodeSource install, nvm); only when there is none are Debian's packages installed.
if ! command -v node >/dev/null 2>&1; then SPLITSTREAM_PACKAGES+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then SPLITSTREAM_PACKAGES+=(npm); fi

splitstream_setup() {
  local pkg missing=()
  if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: dpkg-query/apt-get not found. This setup supports Debian 12 only." >&2
    echo "setup: install the equivalents of these packages yourself, then pass --no-setup:" >&2
    echo "  ${SPLITSTREAM_PACKAGES[*]}" >&2
    return 1
  fi

  for pkg in "${SPLITSTREAM_PACKAGES[@]}"; do
    if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]]; then
      missing+=("$pkg")
    fi
  done
  if ((${#missing[@]} == 0)); then
    echo "setup: all ${#SPLITSTREAM_PACKAGES[@]} packages are installed"
    return 0
  fi

  echo "setup: missing packages: ${missing[*]}"
  if [[ "$(id -u)" != 0 ]]; then
    echo "setup: installing packages needs root. Run this as root (or with sudo):" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    echo "setup: or install them yourself and pass --no-setup." >&2
    return 1
  fi

  export DEBIAN_FRONTEND=noninteractive
  local apt_opts=(-y -qq -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=300)
  echo "setup: apt-get update"
  if ! apt-get update -qq -o DPkg::Lock::Timeout=300 </dev/null; then
    echo "setup: apt-get update failed" >&2
    return 1
  fi
  echo "setup: apt-get install ${missing[*]}"
  if ! apt-get install "${apt_opts[@]}" --no-install-recommends "${missing[@]}" </dev/null; then
    echo "setup: apt-get install failed for: ${missing[*]}" >&2
    return 1
  fi

  local still=()
  for pkg in "${missing[@]}"; do
    if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]]; then
      still+=("$pkg")
    fi
  done
  if ((${#still[@]} > 0)); then
    echo "setup: still not installed after apt-get: ${still[*]}" >&2
    return 1
  fi
  echo "setup: installed ${missing[*]}"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  splitstream_setup "$@"
else
  splitstream_setup "$@" || return $?
fi
