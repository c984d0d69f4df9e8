//! The mobile contract stays true: the committed SDL is what the code builds, the error list is the
//! server's list, and every operation the app sends runs without errors against a seeded server.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;
use tomoni_schema::api::error::{codes, reasons};
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
    let (codes_part, reasons_part) = text
        .split_once("## Domain reasons")
        .expect("errors.md has a Domain reasons section");
    assert_eq!(table_keys(codes_part), codes::ALL.iter().copied().collect());
    assert_eq!(
        table_keys(reasons_part),
        reasons::ALL.iter().copied().collect()
    );
}

/// The first column of a Markdown table whose cells start with a backquoted name.
fn table_keys(markdown: &str) -> BTreeSet<&str> {
    markdown
        .lines()
        .filter(|line| line.starts_with("| `"))
        .filter_map(|line| line.split('`').nth(1))
        .collect()
}

#[tokio::test]
async fn every_operation_of_the_app_runs_against_a_seeded_server() {
    let app = spawn_app().await;
    let (organisation, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let (supporter, participant) = app.supporter_and_participant(&coordinator).await;
    let (_, participant_device) = app.pair(&coordinator, &participant).await;
    let pairing_code = app.issue_code(&coordinator, &supporter).await;
    let receiver = tomoni_tests::push_receiver::PushReceiver::start().await;
    let browser = receiver.subscribe();
    let placeholders = [
        ("{{pushEndpoint}}", browser.endpoint.clone()),
        ("{{pushP256dh}}", browser.p256dh.clone()),
        ("{{pushAuth}}", browser.auth.clone()),
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
        let anonymous = ["RedeemPairingCode", "VapidPublicKey"];
        let token = (!anonymous.contains(&name.as_str())).then_some(coordinator.as_str());
        let answer = app.graphql(token, &document, vars).await;
        assert!(
            answer.body.get("errors").is_none(),
            "{name}: {}",
            answer.body
        );
        assert!(answer.body["data"].is_object(), "{name}: {}", answer.body);
    }
}

#[test]
fn every_push_payload_the_code_builds_matches_its_json_schema() {
    use tomoni_schema::domain::people::Locale;
    use tomoni_schema::notify::Message;
    use uuid::Uuid;

    let dir = contract_dir().join("push");
    let mut files: BTreeSet<String> = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        files.insert(name.trim_end_matches(".schema.json").to_owned());
    }
    let kinds: BTreeSet<String> = Message::KINDS
        .iter()
        .map(|kind| (*kind).to_owned())
        .collect();
    assert_eq!(files, kinds, "one schema per kind in mobile-contract/push/");

    let id = Uuid::now_v7();
    let at = chrono::Utc::now();
    let messages = Message::examples(id, at);
    assert_eq!(
        messages.len(),
        Message::KINDS.len(),
        "every kind is built here"
    );
    for message in messages {
        let schema: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{}.schema.json", message.kind()))).unwrap(),
        )
        .unwrap();
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap();
        for locale in [Locale::Ja, Locale::En] {
            let payload = serde_json::to_value(message.payload(
                Uuid::now_v7(),
                locale,
                chrono_tz::Asia::Tokyo,
            ))
            .unwrap();
            let errors: Vec<String> = validator
                .iter_errors(&payload)
                .map(|error| error.to_string())
                .collect();
            assert!(
                errors.is_empty(),
                "{} ({locale:?}): {errors:?}\n{payload}",
                message.kind()
            );
        }
        // The schema is strict: a field the app does not expect (a name, say) is refused.
        let mut leaky = serde_json::to_value(message.payload(
            Uuid::now_v7(),
            Locale::En,
            chrono_tz::Asia::Tokyo,
        ))
        .unwrap();
        leaky["displayName"] = Value::from("Haruka");
        assert!(!validator.is_valid(&leaky), "{}", message.kind());
    }
}
