//! The mobile contract stays true: the committed SDL is what the code builds, the error list is the
//! server's list, and every operation the app sends runs without errors against a seeded server.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;
use tomoni_schema::api::error::codes;
use tomoni_tests::spawn_app;

fn contract_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../mobile-contract")
}

#[test]
fn the_committed_sdl_is_what_the_code_builds() {
    let path = contract_dir().join("schema.graphql");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let built = tomoni_schema::api::sdl();
    assert!(
        committed == built,
        "mobile-contract/schema.graphql differs from the schema the code builds.\n\
         If the change is intended, update the contract with:\n\n    \
         cargo run -q -p tomoni-server --bin tomoni -- schema print > mobile-contract/schema.graphql\n\n\
         and add a line to mobile-contract/README.md's changelog."
    );
}

#[test]
fn errors_md_lists_exactly_the_codes_the_server_returns() {
    let text = std::fs::read_to_string(contract_dir().join("errors.md")).unwrap();
    let documented: BTreeSet<&str> = text
        .lines()
        .filter(|line| line.starts_with("| `"))
        .filter_map(|line| line.split('`').nth(1))
        .collect();
    let returned: BTreeSet<&str> = codes::ALL.iter().copied().collect();
    assert_eq!(documented, returned);
}

#[tokio::test]
async fn every_operation_of_the_app_runs_against_a_seeded_server() {
    let app = spawn_app().await;
    let (organisation, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let supporter = app.create_person(&coordinator, "SUPPORTER", "Ken").await;
    let participant = app
        .create_person(&coordinator, "PARTICIPANT", "Haruka")
        .await;
    let (_, participant_device) = app.pair(&coordinator, &participant).await;
    let pairing_code = app.issue_code(&coordinator, &supporter).await;
    let placeholders = [
        ("{{organisationId}}", organisation.to_string()),
        ("{{supporterId}}", supporter),
        ("{{participantId}}", participant),
        ("{{participantDeviceId}}", participant_device),
        ("{{pairingCode}}", pairing_code),
    ];

    let dir = contract_dir().join("operations");
    let mut variables_text = std::fs::read_to_string(dir.join("variables.json")).unwrap();
    for (placeholder, value) in &placeholders {
        variables_text = variables_text.replace(placeholder, value);
    }
    let variables: Value = serde_json::from_str(&variables_text).unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "graphql"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    for file in files {
        let name = file.file_stem().unwrap().to_str().unwrap().to_owned();
        let document = std::fs::read_to_string(&file).unwrap();
        let vars = variables
            .get(&name)
            .unwrap_or_else(|| panic!("operations/variables.json has no entry for {name}"))
            .clone();
        let token = (name != "RedeemPairingCode").then_some(coordinator.as_str());
        let answer = app.graphql(token, &document, vars).await;
        assert!(
            answer.body.get("errors").is_none(),
            "{name}: {}",
            answer.body
        );
        assert!(answer.body["data"].is_object(), "{name}: {}", answer.body);
    }
}
