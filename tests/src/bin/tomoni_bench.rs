//! Benchmarks, run by `scripts/bench.sh` (never by the test suite): each prints one line of figures
//! (`tomoni_tests::bench::scenarios`: what each measures and prints).
//!
//! `push [sqlite|postgres] [N]`: N pushes through the real dispatcher (default 20,000).
//! `suggestions [sqlite|postgres] [N]`: `matchSuggestions` latency over HTTP for an organisation of
//! N supporters (default 2,000).

#![expect(clippy::expect_used, reason = "a benchmark fails loudly")]

use tomoni_tests::bench::{self, scenarios};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let db = args.get(1).map_or("sqlite", String::as_str).to_owned();
    match args.first().map(String::as_str) {
        Some("push") => {
            let n = args
                .get(2)
                .map_or(Ok(20_000), |n| n.parse())
                .expect("N is a number");
            bench::runtime().block_on(scenarios::push(&db, n));
        }
        Some("suggestions") => {
            let n = args
                .get(2)
                .map_or(Ok(2_000), |n| n.parse())
                .expect("N_SUPPORTERS is a number");
            bench::runtime().block_on(scenarios::suggestions(&db, n));
        }
        _ => {
            eprintln!(
                "usage: tomoni-bench push [sqlite|postgres] [N]\n       tomoni-bench suggestions [sqlite|postgres] [N_SUPPORTERS]"
            );
            std::process::exit(2);
        }
    }
}
