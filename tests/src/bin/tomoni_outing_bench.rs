//! Outing benchmarks, run by `scripts/bench.sh` (never by the test suite), over one generated
//! history (`tomoni_tests::bench`: the history, then what each scenario measures and prints).
//!
//! `watchdog [sqlite|postgres] [--scale F]`: check-in-due push delay for 10,000 outings under way,
//! and the watchdog's CPU per tick. `myday [sqlite|postgres] [--scale F] [--seconds S]`: myDay
//! latency at concurrency 16, and SQL statements per request. `count-statements URL DATA_DIR LIST`
//! is the second run `myday` starts of this program.

use tomoni_tests::bench::{self, scenarios};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().map(String::as_str);
    if command == Some("count-statements") {
        // The second run of `myday`, started by the first.
        let [url, data_dir, list] = &args[1..] else {
            usage();
        };
        bench::count_statements(url, data_dir, list);
        return;
    }
    let mut db = None;
    let mut scale = 1.0_f64;
    let mut seconds = 30_u64;
    let mut rest = args.iter().skip(1);
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--scale" => {
                scale = rest
                    .next()
                    .and_then(|value| value.parse().ok())
                    .filter(|value: &f64| *value > 0.0 && *value <= 4.0)
                    .unwrap_or_else(|| usage());
            }
            "--seconds" => {
                seconds = rest
                    .next()
                    .and_then(|value| value.parse().ok())
                    .filter(|value| *value > 0)
                    .unwrap_or_else(|| usage());
            }
            name if db.is_none() && !name.starts_with('-') => db = Some(name.to_owned()),
            _ => usage(),
        }
    }
    let db = db.unwrap_or_else(|| "sqlite".to_owned());
    let backend = bench::backend_kind(&db);
    let runtime = bench::runtime();
    match command {
        Some("watchdog") => runtime.block_on(scenarios::watchdog(&db, backend, scale)),
        Some("myday") => runtime.block_on(scenarios::myday(&db, backend, scale, seconds)),
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: tomoni-outing-bench watchdog [sqlite|postgres] [--scale F]\n       tomoni-outing-bench myday [sqlite|postgres] [--scale F] [--seconds S]"
    );
    std::process::exit(2);
}
