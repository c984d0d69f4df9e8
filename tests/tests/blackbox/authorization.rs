//! The authorization matrix: every role × every operation × a target in their own organisation or
//! another one. Expected outcomes are written out here from the program's rules, independently of
//! the code under test: coordinators see and change their organisation, supporters and participants
//! see themselves, and the supporter and participant of an active support match also see each
//! other (see, not change); nobody crosses organisations, and what a viewer may not know exists is
//! NOT_FOUND. The home organisation has one matched pair and one supporter and participant without
//! a match. Fields some viewers may not read (a supporter's profile, the crisis plan and who read
//! it) are null to them; concerns are the participant's and the coordinators'; once the pair's
//! match ends nothing is planned for it; and a revoked device gets nowhere.

use serde_json::{Value, json};
use tomoni_schema::domain::clock::Clock as _;
use tomoni_tests::{TestApp, spawn_app_with};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Coordinator,
    Supporter,
    Participant,
}

const ROLES: [Role; 3] = [Role::Coordinator, Role::Supporter, Role::Participant];

#[derive(Clone, Debug)]
struct Member {
    role: Role,
    home: bool,
    id: String,
    token: String,
    /// A second device, used as the target of revokeDevice so the member's own token keeps working.
    spare_device: String,
    /// The second device's token: once the device is revoked, nothing it sends gets in.
    spare_token: String,
    /// The person this member has an active support match with.
    partner: Option<String>,
}

struct World {
    home_org: String,
    away_org: String,
    members: Vec<Member>,
}

async fn organisation(app: &TestApp, name: &str, home: bool) -> (String, Vec<Member>) {
    let (organisation, coordinator_token) = app.organisation_with_coordinator(name).await;
    let coordinator_id = app
        .graphql(Some(&coordinator_token), "{ viewer { id } }", json!({}))
        .await
        .data()["viewer"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut members = Vec::new();
    // At home, a second supporter and participant: the pair that gets an active match.
    let roles: &[Role] = if home {
        &[
            Role::Coordinator,
            Role::Supporter,
            Role::Participant,
            Role::Supporter,
            Role::Participant,
        ]
    } else {
        &ROLES
    };
    for role in roles.iter().copied() {
        let (id, token) = match role {
            Role::Coordinator => (coordinator_id.clone(), coordinator_token.clone()),
            Role::Supporter | Role::Participant => {
                let graphql_role = if role == Role::Supporter {
                    "SUPPORTER"
                } else {
                    "PARTICIPANT"
                };
                let id = app
                    .create_person(&coordinator_token, graphql_role, &format!("{role:?}"))
                    .await;
                let (token, _) = app.pair(&coordinator_token, &id).await;
                (id, token)
            }
        };
        let (spare_token, spare_device) = app.pair(&coordinator_token, &id).await;
        if role == Role::Participant {
            // A crisis plan to read (or not): the policy decides who sees it, not its absence.
            app.graphql(
                Some(&coordinator_token),
                "mutation($input: UpdateParticipantProfileInput!) { updateParticipantProfile(input: $input) { person { id } } }",
                json!({ "input": { "personId": id, "crisisPlan": "Call the ward office." } }),
            )
            .await
            .data();
        }
        members.push(Member {
            role,
            home,
            id,
            token,
            spare_device,
            spare_token,
            partner: None,
        });
    }
    if home {
        let (supporter, participant) = (members[3].id.clone(), members[4].id.clone());
        let curriculum = app.curriculum(&coordinator_token).await;
        let today = app.today();
        app.complete_modules(
            &coordinator_token,
            &supporter,
            &curriculum.basic_modules,
            &today,
        )
        .await;
        let proposed = app
            .propose(&coordinator_token, &supporter, &participant)
            .await;
        let match_id = proposed.data()["proposeMatch"]["match"]["id"].clone();
        app.match_step(
            &members[3].token,
            "acceptMatch",
            json!({ "matchId": match_id }),
        )
        .await
        .data();
        members[3].partner = Some(participant);
        members[4].partner = Some(supporter);
    }
    (organisation.to_string(), members)
}

async fn world(app: &TestApp) -> World {
    let (home_org, mut members) = organisation(app, "Home hospital", true).await;
    let (away_org, away) = organisation(app, "Away ward office", false).await;
    members.extend(away);
    World {
        home_org,
        away_org,
        members,
    }
}

/// What the rules say: `Ok`, or the error code.
fn expect(allowed: bool, visible: bool) -> &'static str {
    if allowed {
        "OK"
    } else if visible {
        "FORBIDDEN"
    } else {
        "NOT_FOUND"
    }
}

fn outcome(answer: &tomoni_tests::Answer) -> String {
    match answer.error_code() {
        None => "OK".into(),
        Some(code) => code.into(),
    }
}

/// Which organisation a mismatch was in, for its message.
fn which_organisation(same_org: bool) -> &'static str {
    if same_org {
        "own organisation"
    } else {
        "other organisation"
    }
}

#[tokio::test]
async fn every_role_sees_and_changes_exactly_what_the_rules_allow() {
    // The world pairs more devices than the default per-address limit allows in a minute.
    let app = spawn_app_with(|settings| settings.limits.redeem_attempts_per_minute = 100).await;
    let world = world(&app).await;
    let mut mismatches = Vec::new();
    let mut checked = 0;
    // Every operation above, to be sent again from revoked devices at the end.
    let mut revoked_cases: Vec<(&str, &str, Value)> = Vec::new();

    for viewer in world.members.iter().filter(|member| member.home) {
        for target in &world.members {
            let same_org = target.home;
            let is_self = viewer.id == target.id;
            let is_coordinator = viewer.role == Role::Coordinator;
            let matched = viewer.partner.as_deref() == Some(target.id.as_str());
            let visible = same_org && (is_self || is_coordinator || matched);
            let may_edit = same_org && (is_self || is_coordinator);
            let may_manage = same_org && is_coordinator;

            let mut cases: Vec<(&str, &str, Value, String)> = vec![
                (
                    "person",
                    "query($id: ID!) { person(id: $id) { id displayName } }",
                    json!({ "id": target.id }),
                    expect(visible, visible).into(),
                ),
                (
                    "person.devices",
                    "query($id: ID!) { person(id: $id) { devices { nodes { id } } } }",
                    json!({ "id": target.id }),
                    expect(may_edit, visible).into(),
                ),
                (
                    "updatePerson",
                    "mutation($input: UpdatePersonInput!) { updatePerson(input: $input) { person { id } } }",
                    json!({ "input": { "personId": target.id, "displayName": "Renamed" } }),
                    expect(may_edit, visible).into(),
                ),
                (
                    "issuePairingCode",
                    "mutation($input: IssuePairingCodeInput!) { issuePairingCode(input: $input) { pairingCode { code } } }",
                    json!({ "input": { "personId": target.id } }),
                    expect(may_manage, visible).into(),
                ),
                (
                    "revokeDevice",
                    "mutation($input: RevokeDeviceInput!) { revokeDevice(input: $input) { device { id } } }",
                    json!({ "input": { "deviceId": target.spare_device } }),
                    // Someone else's device the viewer may not list is simply not there.
                    expect(may_edit, false).into(),
                ),
            ];
            if target.role == Role::Supporter {
                // Training records: the supporter and coordinators.
                cases.push((
                    "person.training",
                    "query($id: ID!) { person(id: $id) { training { certificates { courseId } } } }",
                    json!({ "id": target.id }),
                    expect(may_edit, visible).into(),
                ));
            }
            match target.role {
                Role::Supporter => cases.push((
                    "updateSupporterProfile",
                    "mutation($input: UpdateSupporterProfileInput!) { updateSupporterProfile(input: $input) { person { id } } }",
                    json!({ "input": { "personId": target.id, "areas": ["Nishi-ku"] } }),
                    expect(may_edit, visible).into(),
                )),
                Role::Participant => cases.push((
                    "updateParticipantProfile",
                    "mutation($input: UpdateParticipantProfileInput!) { updateParticipantProfile(input: $input) { person { id } } }",
                    json!({ "input": { "personId": target.id, "preferences": ["quiet"] } }),
                    expect(may_edit, visible).into(),
                )),
                Role::Coordinator => {}
            }
            // Fields that are null to whoever may not read them (the record itself stays visible).
            let mut guarded: Vec<(&str, &str, &str, bool)> = Vec::new();
            if target.role == Role::Supporter {
                // A supporter's profile: the supporter and coordinators; not another supporter,
                // not their matched participant.
                guarded.push((
                    "person.supporterProfile",
                    "query($id: ID!) { person(id: $id) { supporterProfile { experienceTags } } }",
                    "/person/supporterProfile",
                    may_edit,
                ));
            }
            if target.role == Role::Participant {
                // The crisis plan: the participant and coordinators; a matched supporter only
                // around an outing with them (there is none here).
                guarded.push((
                    "participantProfile.crisisPlan",
                    "query($id: ID!) { person(id: $id) { participantProfile { crisisPlan } } }",
                    "/person/participantProfile/crisisPlan",
                    may_edit,
                ));
                // Who read it: the participant and coordinators.
                guarded.push((
                    "participantProfile.crisisPlanReads",
                    "query($id: ID!) { person(id: $id) { participantProfile { crisisPlanReads { readAt } } } }",
                    "/person/participantProfile/crisisPlanReads",
                    may_edit,
                ));
            }
            for (operation, query, pointer, readable) in guarded {
                let answer = app
                    .graphql(Some(&viewer.token), query, json!({ "id": target.id }))
                    .await;
                checked += 1;
                let actual = match answer.error_code() {
                    Some(code) => code.to_owned(),
                    None if answer.body["data"]
                        .pointer(pointer)
                        .is_some_and(|value| !value.is_null()) =>
                    {
                        "READ".to_owned()
                    }
                    None => "NULL".to_owned(),
                };
                let expected = match (visible, readable) {
                    (false, _) => "NOT_FOUND",
                    (true, true) => "READ",
                    (true, false) => "NULL",
                };
                if actual != expected {
                    mismatches.push(format!(
                        "{:?} → {operation} of {:?} ({}): expected {expected}, got {actual}",
                        viewer.role,
                        target.role,
                        which_organisation(same_org),
                    ));
                }
            }
            for (operation, query, variables, expected) in cases {
                let answer = app
                    .graphql(Some(&viewer.token), query, variables.clone())
                    .await;
                checked += 1;
                let actual = outcome(&answer);
                if actual != expected {
                    mismatches.push(format!(
                        "{:?} → {operation} on {:?} ({}): expected {expected}, got {actual}",
                        viewer.role,
                        target.role,
                        which_organisation(same_org),
                    ));
                }
                // Anonymous requests never get past authentication.
                let anonymous = app.graphql(None, query, variables.clone()).await;
                if outcome(&anonymous) != "UNAUTHENTICATED" {
                    mismatches.push(format!(
                        "anonymous → {operation}: got {}",
                        outcome(&anonymous)
                    ));
                }
                if !revoked_cases.iter().any(|(seen, ..)| *seen == operation) {
                    revoked_cases.push((operation, query, variables));
                }
            }
        }

        // Organisation-level operations.
        let is_coordinator = viewer.role == Role::Coordinator;
        for (org, home) in [(&world.home_org, true), (&world.away_org, false)] {
            let cases = [
                (
                    "organisation",
                    "query($id: ID!) { organisation(id: $id) { id name } }",
                    json!({ "id": org }),
                    expect(home, home),
                ),
                (
                    "updateOrganisation",
                    "mutation($input: UpdateOrganisationInput!) { updateOrganisation(input: $input) { organisation { id } } }",
                    json!({ "input": { "organisationId": org, "name": "Renamed" } }),
                    expect(home && is_coordinator, home),
                ),
            ];
            for (operation, query, variables, expected) in cases {
                let answer = app.graphql(Some(&viewer.token), query, variables).await;
                checked += 1;
                let actual = outcome(&answer);
                if actual != expected {
                    mismatches.push(format!(
                        "{:?} → {operation} ({}): expected {expected}, got {actual}",
                        viewer.role,
                        if home {
                            "own organisation"
                        } else {
                            "other organisation"
                        },
                    ));
                }
            }
        }
        let create = app
            .graphql(
                Some(&viewer.token),
                "mutation($input: CreatePersonInput!) { createPerson(input: $input) { person { id } } }",
                json!({ "input": { "displayName": "New", "role": "PARTICIPANT" } }),
            )
            .await;
        checked += 1;
        let expected = if is_coordinator { "OK" } else { "FORBIDDEN" };
        if outcome(&create) != expected {
            mismatches.push(format!(
                "{:?} → createPerson: expected {expected}, got {}",
                viewer.role,
                outcome(&create)
            ));
        }

        // Concerns: participants raise them, coordinators and the participant read them, and a
        // supporter never does.
        let concern_cases = [
            (
                "raiseConcern",
                "mutation($input: RaiseConcernInput!) { raiseConcern(input: $input) { concern { id } } }",
                json!({ "input": { "text": "I would like to talk about my outings." } }),
                if viewer.role == Role::Participant {
                    "OK"
                } else {
                    "FORBIDDEN"
                },
            ),
            (
                "concerns",
                "{ concerns { nodes { id } } }",
                json!({}),
                if viewer.role == Role::Supporter {
                    "FORBIDDEN"
                } else {
                    "OK"
                },
            ),
        ];
        for (operation, query, variables, expected) in concern_cases {
            let answer = app.graphql(Some(&viewer.token), query, variables).await;
            checked += 1;
            if outcome(&answer) != expected {
                mismatches.push(format!(
                    "{:?} → {operation}: expected {expected}, got {}",
                    viewer.role,
                    outcome(&answer)
                ));
            }
        }

        // Lists hold exactly what the viewer may see.
        let list = app
            .graphql(
                Some(&viewer.token),
                "{ people(first: 100) { nodes { id } } }",
                json!({}),
            )
            .await;
        checked += 1;
        let seen: Vec<&str> = list.data()["people"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|node| node["id"].as_str())
            .collect();
        let away_ids: Vec<&str> = world
            .members
            .iter()
            .filter(|m| !m.home)
            .map(|m| m.id.as_str())
            .collect();
        if seen.iter().any(|id| away_ids.contains(id)) {
            mismatches.push(format!(
                "{:?} → people: sees another organisation",
                viewer.role
            ));
        }
        let mut expected_seen: Vec<&str> = if is_coordinator {
            world
                .members
                .iter()
                .filter(|m| m.home)
                .map(|m| m.id.as_str())
                .collect()
        } else {
            viewer
                .partner
                .iter()
                .map(String::as_str)
                .chain([viewer.id.as_str()])
                .collect()
        };
        expected_seen.sort();
        let mut seen = seen;
        seen.sort();
        if is_coordinator {
            if !expected_seen.iter().all(|id| seen.contains(id)) {
                mismatches
                    .push("Coordinator → people: misses someone of their organisation".into());
            }
        } else if seen != expected_seen {
            mismatches.push(format!(
                "{:?} → people: sees {} people, expected themselves and their match partner",
                viewer.role,
                seen.len()
            ));
        }
    }

    // An ended match ends its supporter's part (item 2): once the home pair's match ends, nothing
    // new is planned for the pair by anyone, and the two no longer see each other.
    let coordinator = &world.members[0];
    let (supporter, participant) = (&world.members[3], &world.members[4]);
    let away_coordinator = world
        .members
        .iter()
        .find(|member| !member.home && member.role == Role::Coordinator)
        .unwrap();
    let the_match = {
        use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
        use tomoni_schema::store::entities::support_matches;
        support_matches::Entity::find()
            .filter(
                support_matches::Column::SupporterId
                    .eq(uuid::Uuid::parse_str(&supporter.id).unwrap()),
            )
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .id
    };
    app.match_step(
        &coordinator.token,
        "endMatch",
        json!({ "matchId": the_match, "reason": "GOALS_REACHED", "closingReflection": "Closed together." }),
    )
    .await
    .data();
    let plan = json!({ "input": {
        "participantId": participant.id, "leadSupporterId": supporter.id,
        "purpose": "SHOPPING", "place": "x",
        "plannedStart": (app.clock.now() + chrono::Duration::days(1)).to_rfc3339(),
        "plannedEnd": (app.clock.now() + chrono::Duration::days(1) + chrono::Duration::hours(1)).to_rfc3339(),
    } });
    let after_the_end: [(&str, &Member, &str, Value, &str); 6] = [
        (
            "planOuting (ended pair)",
            coordinator,
            tomoni_tests::program::PLAN_OUTING,
            plan.clone(),
            "CONFLICT",
        ),
        (
            "planOuting (former supporter's proposal)",
            supporter,
            tomoni_tests::program::PLAN_OUTING,
            plan.clone(),
            "NOT_FOUND",
        ),
        (
            "planOuting",
            participant,
            tomoni_tests::program::PLAN_OUTING,
            plan.clone(),
            "FORBIDDEN",
        ),
        (
            "planOuting",
            away_coordinator,
            tomoni_tests::program::PLAN_OUTING,
            plan,
            "NOT_FOUND",
        ),
        (
            "person (former partner)",
            supporter,
            "query($id: ID!) { person(id: $id) { id } }",
            json!({ "id": participant.id }),
            "NOT_FOUND",
        ),
        (
            "person (former partner)",
            participant,
            "query($id: ID!) { person(id: $id) { id } }",
            json!({ "id": supporter.id }),
            "NOT_FOUND",
        ),
    ];
    for (operation, viewer, query, variables, expected) in after_the_end {
        let answer = app.graphql(Some(&viewer.token), query, variables).await;
        checked += 1;
        if outcome(&answer) != expected {
            mismatches.push(format!(
                "{:?} → {operation} after the match ended: expected {expected}, got {}",
                viewer.role,
                outcome(&answer)
            ));
        }
        if expected == "CONFLICT"
            && answer.body["errors"][0]["extensions"]["reason"] != "MATCH_ENDED"
        {
            mismatches.push(format!(
                "{operation}: reason {}",
                answer.body["errors"][0]["extensions"]["reason"]
            ));
        }
    }

    // Every home member revoked their own spare device above (revokeDevice is theirs to do):
    // from it, every operation is UNAUTHENTICATED, whatever the role.
    for member in world.members.iter().filter(|member| member.home) {
        for (operation, query, variables) in &revoked_cases {
            let answer = app
                .graphql(Some(&member.spare_token), query, variables.clone())
                .await;
            checked += 1;
            if outcome(&answer) != "UNAUTHENTICATED" {
                mismatches.push(format!(
                    "{:?} from a revoked device → {operation}: got {}",
                    member.role,
                    outcome(&answer)
                ));
            }
        }
    }

    assert!(
        mismatches.is_empty(),
        "{} of {checked} checks differ from the rules:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(checked > 60, "the matrix ran {checked} checks");
}
