#!/usr/bin/env bash
# Runs the browser test of the playground against a built tomoni binary.
#
#   tests/browser/run.sh [path/to/tomoni]      (or TOMONI_BIN=path/to/tomoni tests/browser/run.sh)
#
# Installs Debian's Chromium if it is missing (needs root or sudo), installs playwright-core from
# the lockfile, and runs the test with Node's test runner. Works from any directory.
# Optional: CHROMIUM=/path/to/chromium, SCREENSHOT_DIR=/some/dir for a screenshot of the page.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

TOMONI_BIN="${1:-${TOMONI_BIN:-}}"
if [ -z "$TOMONI_BIN" ]; then
  echo "usage: $0 path/to/tomoni   (or set TOMONI_BIN)" >&2
  exit 2
fi
case "$TOMONI_BIN" in
  /*) ;;
  *) TOMONI_BIN="$PWD/$TOMONI_BIN" ;;
esac
if [ ! -x "$TOMONI_BIN" ]; then
  echo "error: tomoni binary not found or not executable: $TOMONI_BIN" >&2
  exit 2
fi
export TOMONI_BIN

node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "error: Node 20 or newer is needed (found $(node --version))" >&2
  exit 2
fi

# Debian's Chromium, unless another browser was named with CHROMIUM.
if [ -z "${CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null; then
    as_root=(sudo)
  else
    echo "error: /usr/bin/chromium is missing and this user cannot install it (no root, no sudo)" >&2
    exit 2
  fi
  echo "installing Debian's chromium package" >&2
  "${as_root[@]}" apt-get update
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi

(cd "$here" && npm ci --no-audit --no-fund)

node --test "$here/playground.test.mjs"
