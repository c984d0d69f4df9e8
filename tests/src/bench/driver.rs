//! Load on the server: `wrk` when it is on the PATH (Debian's package), else tasks of this
//! program over one HTTP client; and the percentiles the benchmarks print.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use serde_json::Value;

/// Requests in flight at once.
pub(crate) const CONCURRENCY: usize = 16;

/// The value below which `percent` of the sorted values lie.
pub(crate) fn percentile(sorted: &[f64], percent: usize) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = (sorted.len() * percent).div_ceil(100).saturating_sub(1);
    sorted[index.min(sorted.len() - 1)]
}

pub(crate) fn sorted(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    values
}

/// One GraphQL request (`body`, JSON) with `token`; returns the answer, after checking it has no
/// errors.
pub(crate) async fn post(http: &reqwest::Client, url: &str, token: &str, body: &str) -> Value {
    let response = http
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("send");
    let status = response.status();
    let answer: Value = response.json().await.expect("a JSON answer");
    assert!(
        status.is_success() && answer.get("errors").is_none(),
        "the request failed: {status} {answer}"
    );
    answer
}

const WRK_SCRIPT: &str = r#"-- Written by tomoni-outing-bench: POSTs the prepared requests in turn.
local prepared = {}
local counter = 0
local threads = {}

function setup(thread)
  thread:set("offset", counter * 7919)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(os.getenv("TOMONI_WRK_REQUESTS")) do
    local tab = line:find("\t", 1, true)
    prepared[#prepared + 1] = wrk.format("POST", "/graphql", {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. line:sub(1, tab - 1),
    }, line:sub(tab + 1))
  end
  position = offset % #prepared
  bad = 0
end

function request()
  position = position % #prepared + 1
  return prepared[position]
end

function response(status, headers, body)
  if status ~= 200 or body:find('"errors"', 1, true) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local bad_total = 0
  for _, thread in ipairs(threads) do
    bad_total = bad_total + thread:get("bad")
  end
  io.write(string.format(
    "TOMONI-WRK requests=%.0f duration_us=%.0f p50_us=%.0f p99_us=%.0f max_us=%.0f connect=%.0f read=%.0f write=%.0f status=%.0f timeout=%.0f bad=%.0f\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout, bad_total))
end
"#;

fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// Load at [`CONCURRENCY`] on the server at `address` for `seconds`, cycling through the prepared
/// requests (token, JSON body); wrk writes its script and list into `dir`.
pub(crate) async fn drive(
    address: SocketAddr,
    dir: &Path,
    requests: Vec<(String, String)>,
    seconds: u64,
) -> Load {
    match find_on_path("wrk") {
        Some(wrk) => {
            let dir = dir.to_owned();
            tokio::task::spawn_blocking(move || {
                load_with_wrk(&wrk, &dir, address, &requests, seconds)
            })
            .await
            .expect("wrk")
        }
        None => {
            load_builtin(
                &format!("http://{address}/graphql"),
                Arc::new(requests),
                seconds,
            )
            .await
        }
    }
}

/// What a load run measured, in milliseconds where not said otherwise.
pub(crate) struct Load {
    pub(crate) generator: &'static str,
    pub(crate) requests: usize,
    pub(crate) seconds: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) max_ms: f64,
    pub(crate) errors: usize,
}

/// `wrk -t2 -c16` for `seconds`, cycling through the prepared requests.
fn load_with_wrk(
    wrk: &Path,
    dir: &Path,
    address: SocketAddr,
    requests: &[(String, String)],
    seconds: u64,
) -> Load {
    let script = dir.join("myday.lua");
    let list = dir.join("myday-requests.tsv");
    std::fs::write(&script, WRK_SCRIPT).expect("write the wrk script");
    let mut lines = String::new();
    for (token, body) in requests {
        let _ = writeln!(lines, "{token}\t{body}");
    }
    std::fs::write(&list, lines).expect("write the requests");
    let output = std::process::Command::new(wrk)
        .args(["-t2", &format!("-c{CONCURRENCY}"), &format!("-d{seconds}s")])
        .args(["--timeout", "10s", "-s"])
        .arg(&script)
        .arg(format!("http://{address}/graphql"))
        .env("TOMONI_WRK_REQUESTS", &list)
        .output()
        .expect("run wrk");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find(|line| line.starts_with("TOMONI-WRK "))
        .unwrap_or_else(|| {
            panic!(
                "wrk said: {stdout} {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    let figures: HashMap<&str, f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (key, value.parse().unwrap_or(f64::NAN)))
        .collect();
    let figure = |key: &str| figures.get(key).copied().unwrap_or(f64::NAN);
    let errors = ["connect", "read", "write", "status", "timeout", "bad"]
        .iter()
        .map(|key| figure(key))
        .sum::<f64>();
    Load {
        generator: "wrk",
        requests: figure("requests") as usize,
        seconds: figure("duration_us") / 1e6,
        p50_ms: figure("p50_us") / 1e3,
        p99_ms: figure("p99_us") / 1e3,
        max_ms: figure("max_us") / 1e3,
        errors: errors as usize,
    }
}

/// 16 tasks of this program over one HTTP client, when wrk is not installed.
async fn load_builtin(url: &str, requests: Arc<Vec<(String, String)>>, seconds: u64) -> Load {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let deadline = started + StdDuration::from_secs(seconds);
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|task| {
            let (http, url, requests) = (http.clone(), url.to_owned(), requests.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut position = task * 7919;
                while Instant::now() < deadline {
                    position = (position + 1) % requests.len();
                    let (token, body) = &requests[position];
                    let sent = Instant::now();
                    post(&http, &url, token, body).await;
                    latencies.push(sent.elapsed().as_secs_f64() * 1e3);
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("load task"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let latencies = sorted(latencies);
    Load {
        generator: "builtin",
        requests: latencies.len(),
        seconds: elapsed,
        p50_ms: percentile(&latencies, 50),
        p99_ms: percentile(&latencies, 99),
        max_ms: latencies.last().copied().unwrap_or(f64::NAN),
        errors: 0,
    }
}
