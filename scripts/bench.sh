#!/usr/bin/env bash
# Tomoni's benchmarks (not part of CI). Each ends with one line of figures.
#
#   scripts/bench.sh push [sqlite|postgres] [N]    N pushes through the real dispatcher (default 20000)
#
# TOMONI_BENCH_WORKERS=N runs N dispatcher loops instead of the server's default (push.workers).
# The postgres runs need TOMONI_TEST_POSTGRES_URL, a URL that may create databases, e.g.
#   TOMONI_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres scripts/bench.sh push postgres
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ]; then
  sed -n '2,9p' "$0" >&2
  exit 2
fi
cargo build --release --quiet -p tomoni-tests --bin tomoni-bench
exec target/release/tomoni-bench "$@"
