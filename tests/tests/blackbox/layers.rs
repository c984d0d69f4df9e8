//! The layers' one rule, checked on the source: imports run downward. Nothing under `domain/`,
//! `store/`, `notify/`, `events`, `safety`, `rota_handover` or `jobs/` imports the GraphQL API,
//! `store/` imports none of the layers that write through it (`notify`, `safety`, `jobs`), and
//! `domain/` imports nothing with I/O (no `store`, no `sea_orm`).

use std::path::{Path, PathBuf};

fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn imports_run_downward() {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/src");
    let mut files = Vec::new();
    sources(&schema, &mut files);
    assert!(files.len() > 20, "read {} files", files.len());
    let mut upward = Vec::new();
    for file in files {
        let relative = file
            .strip_prefix(&schema)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&file).unwrap();
        let forbidden: &[&str] = if relative.starts_with("api/") || relative == "lib.rs" {
            &[]
        } else if relative.starts_with("domain/") {
            &["crate::api", "super::api", "crate::store", "sea_orm"]
        } else if relative.starts_with("store/") {
            // The store sits below notifications too: `notify` writes through it.
            &[
                "crate::api",
                "super::api",
                "crate::notify",
                "crate::safety",
                "crate::jobs",
            ]
        } else {
            &["crate::api", "super::api"]
        };
        for (number, line) in text.lines().enumerate() {
            // `use crate::{api, …}` names the module without the `crate::api` text.
            let grouped = !forbidden.is_empty()
                && line.contains("crate::{")
                && line
                    .split(|c: char| !c.is_alphanumeric() && c != '_')
                    .any(|word| word == "api");
            if grouped || forbidden.iter().any(|import| line.contains(import)) {
                upward.push(format!(
                    "schema/src/{relative}:{}: {}",
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that run upward:\n{}",
        upward.join("\n")
    );
}
