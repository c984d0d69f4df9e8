//! CPU time: of this process and of the PostgreSQL backends serving the benchmark's database,
//! read from `/proc`; and the machine's load average.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration as StdDuration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

/// User plus system CPU time of a process so far (`self` or a pid).
pub(crate) fn cpu_time(process: &str) -> StdDuration {
    let stat = std::fs::read_to_string(format!("/proc/{process}/stat")).expect("/proc stat");
    let after_name = &stat[stat.rfind(')').expect("stat format") + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    // Linux reports in USER_HZ, 100 per second on every common configuration.
    StdDuration::from_millis(ticks * 10)
}

/// PostgreSQL: the backends serving this database (the server's pool), to read their CPU time.
async fn database_backends(db: &DatabaseConnection) -> Vec<i32> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Vec::new();
    }
    db.query_all_raw(Statement::from_string(
        DbBackend::Postgres,
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()",
    ))
    .await
    .expect("backends")
    .into_iter()
    .filter_map(|row| row.try_get::<i32>("", "pid").ok())
    .collect()
}

/// The CPU time so far of each backend serving this database (none on SQLite).
pub(crate) async fn backends_cpu(db: &DatabaseConnection) -> HashMap<i32, StdDuration> {
    database_backends(db)
        .await
        .iter()
        .filter(|pid| Path::new(&format!("/proc/{pid}/stat")).exists())
        .map(|pid| (*pid, cpu_time(&pid.to_string())))
        .collect()
}

/// The CPU time the backends serving this database used since `before` was read: those opened
/// since count whole, those from before from where they were.
pub(crate) async fn backends_cpu_since(
    db: &DatabaseConnection,
    before: &HashMap<i32, StdDuration>,
) -> StdDuration {
    backends_cpu(db)
        .await
        .iter()
        .map(|(pid, after)| after.saturating_sub(before.get(pid).copied().unwrap_or_default()))
        .sum()
}

/// The one-minute load average: how busy the machine was (2 cores).
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_default()
}
