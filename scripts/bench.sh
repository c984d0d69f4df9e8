#!/usr/bin/env bash
# Tomoni's benchmarks (not part of CI). Each ends with one line of figures.
#
#   scripts/bench.sh push [sqlite|postgres] [N]    N pushes through the real dispatcher (default 20000)
#   scripts/bench.sh suggestions [sqlite|postgres] [N_SUPPORTERS]
#                                   matchSuggestions latency over HTTP, N supporters (default 2000)
#   scripts/bench.sh watchdog [sqlite|postgres] [--scale F]
#                                   check-in-due push delay for 10000 outings under way, and the
#                                   watchdog's CPU per tick, over a generated 2-year history
#   scripts/bench.sh myday [sqlite|postgres] [--scale F] [--seconds S]
#                                   myDay latency at concurrency 16 (wrk if installed: apt-get install
#                                   wrk), and SQL statements per request, over the same history
#   (--scale F: people and outings times F; the full history is 500000 outings, 3M check-ins)
#
# TOMONI_BENCH_WORKERS=N runs N dispatcher loops instead of the server's default (push.workers).
# The postgres runs need TOMONI_TEST_POSTGRES_URL, a URL that may create databases, e.g.
#   TOMONI_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres scripts/bench.sh push postgres
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ]; then
  sed -n '2,17p' "$0" >&2
  exit 2
fi
case "$1" in
  watchdog | myday)
    cargo build --release --quiet -p tomoni-tests --bin tomoni-outing-bench
    exec target/release/tomoni-outing-bench "$@"
    ;;
esac
cargo build --release --quiet -p tomoni-tests --bin tomoni-bench
exec target/release/tomoni-bench "$@"
