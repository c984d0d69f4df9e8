//! Health checks and the playground's own files.

use tomoni_tests::spawn_app;

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let healthz = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(healthz.status(), 200);
    assert_eq!(healthz.text().await.unwrap(), "ok");
    let readyz = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(readyz.status(), 200);
    assert_eq!(readyz.text().await.unwrap(), "ready");
}

#[tokio::test]
async fn the_playground_is_served_whole_from_tomoni() {
    let app = spawn_app().await;
    for path in ["/", "/playground"] {
        let page = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let csp = page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        let html = page.text().await.unwrap();
        assert!(
            !html.contains("http://") && !html.contains("https://") && !html.contains("//unpkg"),
            "{html}"
        );
        let scripts: Vec<&str> = html
            .split("src=\"")
            .skip(1)
            .chain(html.split("href=\"").skip(1))
            .filter_map(|rest| rest.split('"').next())
            .filter(|link| !link.starts_with("data:"))
            .collect();
        assert_eq!(scripts.len(), 5, "{scripts:?}");
        for asset in scripts {
            assert!(asset.starts_with("/playground/assets/"), "{asset}");
            let response = app.http.get(app.url(asset)).send().await.unwrap();
            assert_eq!(response.status(), 200, "{asset}");
            let content_type = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_owned();
            let expected = if asset.ends_with(".css") {
                "text/css"
            } else {
                "text/javascript"
            };
            assert!(
                content_type.starts_with(expected),
                "{asset}: {content_type}"
            );
            assert!(
                response.bytes().await.unwrap().len() > 100,
                "{asset} is empty"
            );
        }
    }
}

#[tokio::test]
async fn the_server_stops_when_asked() {
    use std::sync::Arc;
    let database = tomoni_tests::TestDatabase::create().await;
    let settings = tomoni_server::config::Settings {
        listen: ([127, 0, 0, 1], 0).into(),
        data_dir: database.data_dir.clone(),
        database_url: database.url.clone().map(tomoni_server::config::Secret::new),
        ..Default::default()
    };
    let application =
        tomoni_server::Application::build(&settings, Arc::new(tomoni_server::SystemClock))
            .await
            .unwrap();
    let address = application.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(application.run(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    assert_eq!(
        client
            .get(format!("http://{address}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    assert!(
        client
            .get(format!("http://{address}/healthz"))
            .send()
            .await
            .is_err()
    );
}
