//! SQL statements per GraphQL request do not grow with the rows a request returns: "my day" with
//! one outing and with six (members, check-ins and alerts included) costs the same number of
//! statements. Counted with sea-orm's metric callback on a connection to the test's database.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::Duration;
use serde_json::json;
use tomoni_schema::api::{
    ApiConfig, ApiDeps, EventBus, authenticate, build_schema, prepare_request,
};
use tomoni_schema::domain::clock::Clock as _;
use tomoni_tests::{TestApp, spawn_app_with};

const MY_DAY: &str = "query($from: DateTime, $to: DateTime) { myDay(from: $from, to: $to) { id status place members { displayName role } checkIns { nodes { kind madeAt } } latestCheckIn { kind } alerts { nodes { reason status } } } }";

/// Runs one operation in-process as the holder of `token`, on a connection to the test's database
/// that counts SQL statements; returns the statements run after authentication, and the response.
pub(crate) async fn statements_of(
    app: &TestApp,
    token: &str,
    query: &str,
    variables: serde_json::Value,
) -> (usize, async_graphql::Response) {
    let mut db = sea_orm::Database::connect(app.settings.database_url())
        .await
        .unwrap();
    let statements = Arc::new(AtomicUsize::new(0));
    let counter = statements.clone();
    db.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let clock: Arc<tomoni_schema::domain::clock::ManualClock> = Arc::new(app.clock.clone());
    let schema = build_schema(ApiDeps {
        db: db.clone(),
        clock: clock.clone(),
        events: EventBus::new(),
        config: ApiConfig::default(),
    });
    let auth = authenticate(&db, clock.as_ref(), Some(token))
        .await
        .unwrap_or_else(|_| panic!("the token authenticates"));
    let request = async_graphql::Request::new(query)
        .variables(async_graphql::Variables::from_json(variables));
    statements.store(0, Ordering::SeqCst);
    let response = schema
        .execute(prepare_request(request, &schema, auth, None))
        .await;
    (statements.load(Ordering::SeqCst), response)
}

/// Statements one `myDay` request runs as the holder of `token`, and how many outings it returned.
async fn my_day_statements(app: &TestApp, token: &str) -> (usize, usize) {
    let from = app.clock.now() - Duration::hours(1);
    let (count, response) = statements_of(
        app,
        token,
        MY_DAY,
        json!({ "from": from.to_rfc3339(), "to": (from + Duration::days(1)).to_rfc3339() }),
    )
    .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let data = response.data.into_json().unwrap();
    (count, data["myDay"].as_array().unwrap().len())
}

#[tokio::test]
async fn my_day_costs_the_same_statements_for_one_outing_or_many() {
    let app = spawn_app_with(|settings| {
        settings.push.dispatcher = false;
        settings.safety.watchdog = false;
    })
    .await;
    let (_, coordinator) = app.organisation_with_coordinator("Hospital").await;
    let (_, lead, participant) = app.lead_and_participant(&coordinator).await;
    let (lead_token, _) = app.pair(&coordinator, &lead).await;
    app.graphql(
        Some(&coordinator),
        "mutation($input: UpdateProgramSettingsInput!) { updateProgramSettings(input: $input) { settings { weeklyOutingCap } } }",
        json!({ "input": { "weeklyOutingCap": 40, "weeklyHoursCap": 60 } }),
    )
    .await
    .data();

    let first = app
        .plan_outing(&coordinator, &participant, &lead, 1, 60)
        .await;
    let first_id = first.data()["planOuting"]["outing"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (one, returned) = my_day_statements(&app, &lead_token).await;
    assert_eq!(returned, 1);

    // Five more outings, one started with check-ins and an alert.
    for hour in 1..=5 {
        app.plan_outing(&coordinator, &participant, &lead, hour * 90, 60)
            .await
            .data();
    }
    app.clock.advance(Duration::minutes(1));
    app.start_planned(&lead_token, &first_id).await;
    for kind in ["OK", "OK", "NEED_HELP"] {
        app.check_in(&lead_token, &first_id, kind).await.data();
    }
    let (six, returned) = my_day_statements(&app, &lead_token).await;
    assert_eq!(returned, 6);
    eprintln!("myDay: {one} statements for 1 outing, {six} for 6");
    assert_eq!(
        one, six,
        "statements must not grow with the outings returned"
    );
    assert!(six <= 4, "myDay ran {six} statements");
}
