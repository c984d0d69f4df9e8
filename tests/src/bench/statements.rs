//! Statements per request, counted in a second run of the benchmark program on the same database
//! that logs sqlx's statements (the server's own tracing set-up, filter `sqlx::query=debug`).

use std::collections::{BTreeMap, HashSet};
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use tomoni_server::config::{LogFormat, LogSettings};
use tomoni_server::{Application, SystemClock};

use super::Running;
use super::scenarios::myday::ask;

const COUNT_BEGIN: &str = "@@tomoni-count begin";
const COUNT_END: &str = "@@tomoni-count end outings=";

/// The second run of `myday`: the server on the same database with sqlx's statement log on
/// (through the server's own tracing set-up, to stderr), requests one at a time between markers.
/// The first run counts the `sqlx::query` lines between each pair of markers. `url` is empty for
/// SQLite in `data_dir`; `list` holds the requests, a token and a body a line.
pub fn count_statements(url: &str, data_dir: &str, list: &str) {
    tomoni_server::telemetry::init(&LogSettings {
        format: LogFormat::Human,
        filter: "warn,sqlx::query=debug".to_owned(),
    })
    .expect("logging");
    super::runtime().block_on(async {
        let mut settings = crate::local_settings(
            PathBuf::from(data_dir),
            (!url.is_empty()).then(|| url.to_owned()),
        );
        // Nothing in the background writes statements into the count.
        settings.safety.watchdog = false;
        settings.push.dispatcher = false;
        let application = Application::build(&settings, Arc::new(SystemClock))
            .await
            .expect("build the application");
        let address = application.local_addr().expect("address");
        let server = Running::start(application);
        // The match-proposal sweep looks once at start, then every 30 seconds.
        tokio::time::sleep(StdDuration::from_secs(1)).await;
        let http = reqwest::Client::new();
        let url = format!("http://{address}/graphql");
        let requests: Vec<(String, String)> = std::fs::read_to_string(list)
            .expect("the requests")
            .lines()
            .filter_map(|line| line.split_once('\t'))
            .map(|(token, body)| (token.to_owned(), body.to_owned()))
            .collect();
        // Once per device first, uncounted: a device's first request may record its use.
        let mut seen = HashSet::new();
        for (token, body) in &requests {
            if seen.insert(token.clone()) {
                ask(&http, &url, token, body).await;
            }
        }
        for (token, body) in &requests {
            eprintln!("{COUNT_BEGIN}");
            let outings = ask(&http, &url, token, body).await;
            eprintln!("{COUNT_END}{outings}");
        }
        let _ = server.stop().await;
    });
}

/// What the counting run saw: per request (outings returned, statements), and per kind of
/// statement (verb and first table) how many and their time in all, in milliseconds.
pub(crate) struct Counted {
    pub(crate) requests: Vec<(usize, usize)>,
    pub(crate) by_statement: BTreeMap<String, (usize, f64)>,
}

/// The line without ANSI colour sequences (`ESC [ … m`).
fn without_colours(line: &str) -> String {
    let mut plain = String::with_capacity(line.len());
    let mut in_sequence = false;
    for character in line.chars() {
        match (in_sequence, character) {
            (false, '\u{1b}') => in_sequence = true,
            (false, other) => plain.push(other),
            (true, 'm') => in_sequence = false,
            (true, _) => {}
        }
    }
    plain
}

/// The verb and first table of a logged statement, e.g. `SELECT outings`.
fn statement_kind(line: &str) -> String {
    let summary = line.split_once("summary=\"").map_or("", |(_, rest)| rest);
    let verb = summary
        .split_whitespace()
        .next()
        .unwrap_or("?")
        .trim_matches('"');
    let table = ["FROM \\\"", "INTO \\\"", "UPDATE \\\""]
        .iter()
        .filter_map(|marker| line.split_once(marker).map(|(_, rest)| rest))
        .filter_map(|rest| rest.split_once("\\\"").map(|(table, _)| table))
        .next()
        .unwrap_or("");
    format!("{verb} {table}").trim().to_owned()
}

/// Runs this program as `count-statements URL DATA_DIR LIST` (its `main` calls
/// [`count_statements`]) and counts what it logs.
pub(crate) fn run_count(url: &str, data_dir: &Path, list: &Path) -> Counted {
    let exe = std::env::current_exe().expect("this program");
    let mut child = std::process::Command::new(exe)
        .arg("count-statements")
        .arg(url)
        .arg(data_dir)
        .arg(list)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the counting run");
    let stderr = child.stderr.take().expect("stderr");
    let mut counts = Vec::new();
    let mut by_statement: BTreeMap<String, (usize, f64)> = BTreeMap::new();
    let mut current: Option<usize> = None;
    for line in std::io::BufReader::new(stderr).lines() {
        let line = without_colours(&line.expect("a line"));
        if line.contains(COUNT_BEGIN) {
            current = Some(0);
        } else if let Some(outings) = line.split_once(COUNT_END).map(|(_, rest)| rest) {
            let outings = outings.trim().parse().expect("outings");
            counts.push((outings, current.take().expect("a begin marker")));
        } else if line.contains("sqlx::query")
            && !line.contains("support_matches")
            && let Some(count) = current.as_mut()
        {
            *count += 1;
            let seconds: f64 = line
                .split_once("elapsed_secs=")
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .and_then(|value| {
                    value
                        .trim_end_matches(|c: char| !c.is_ascii_digit())
                        .parse()
                        .ok()
                })
                .unwrap_or(0.0);
            let entry = by_statement.entry(statement_kind(&line)).or_default();
            entry.0 += 1;
            entry.1 += seconds * 1e3;
        }
    }
    let status = child.wait().expect("the counting run");
    assert!(status.success(), "the counting run failed: {status}");
    Counted {
        requests: counts,
        by_statement,
    }
}
