//! Black-box tests of the running server: HTTP in, database and sockets out.
//! Every scan targets 127.0.0.0/8 only; each test uses its own 127.x block
//! (the second number is the backend) so parallel tests never share addresses.

mod common;

use std::time::Duration;

use app::auth::Role;
use common::TestApp;
use storage::scans::{self, JobStatus, ScanOptions};
use storage::subnets;
use tokio::net::TcpListener;

app_test_on_both_backends! {
    health_check_answers_ok,
    pages_render_on_the_server_with_the_hydration_script,
    unknown_pages_answer_404,
    add_subnet_server_fn_validates_input,
    a_scan_finds_the_hosts_without_an_av_port,
    a_running_scan_cancels_within_a_second,
    security_headers_are_set,
}

async fn health_check_answers_ok(app: TestApp, _backend: u8) {
    let response = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ok");
}

async fn pages_render_on_the_server_with_the_hydration_script(app: TestApp, _backend: u8) {
    let manager = app.sign_in(Role::Manager).await;
    let html = manager.get_text("/").await;
    assert!(
        html.contains("No subnets yet"),
        "empty state rendered: {html}"
    );
    assert!(
        html.contains("/pkg/avsweep.js"),
        "hydration script referenced"
    );
    let html = manager.get_text("/profiles").await;
    assert!(
        html.contains("Symantec AntiVirus Corporate Edition"),
        "{html}"
    );
}

async fn unknown_pages_answer_404(app: TestApp, _backend: u8) {
    let manager = app.sign_in(Role::Manager).await;
    let response = manager
        .http
        .get(manager.url("/nothing/here"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("Page not found"));
}

async fn add_subnet_server_fn_validates_input(app: TestApp, _backend: u8) {
    let admin = app.sign_in(Role::Admin).await;
    for (cidr, expected) in [
        ("10.0.0.0/33", "out of range"),
        ("foo", "not a CIDR block"),
        ("10.0.0.0/7", "too large"),
    ] {
        let response = admin
            .post_form("/api/subnets/add", &[("cidr", cidr), ("name", "Bad")])
            .await;
        assert_eq!(
            response.status(),
            200,
            "validation failures are answers, not errors"
        );
        let body = response.text().await.unwrap();
        assert!(
            body.contains("Invalid") && body.contains(expected),
            "{cidr}: {body}"
        );
    }
    assert!(
        subnets::list(&app.db).await.unwrap().is_empty(),
        "nothing stored"
    );

    let response = admin
        .post_form(
            "/api/subnets/add",
            &[("cidr", "127.90.0.0/24"), ("name", "Lab")],
        )
        .await;
    assert!(response.text().await.unwrap().contains("Created"));
    let created = &subnets::list(&app.db).await.unwrap()[0];
    assert_eq!(created.cidr, "127.90.0.0/24");
    let audit = storage::audit::list(&app.db, Some(&format!("subnet:{}", created.id)), 10)
        .await
        .unwrap();
    assert_eq!(audit[0].action, "subnet.create");
    assert_eq!(audit[0].actor, admin.username);
    assert_eq!(audit[0].source.as_deref(), Some("127.0.0.1"), "from where");
}

async fn a_scan_finds_the_hosts_without_an_av_port(app: TestApp, backend: u8) {
    let block = format!("127.78.{backend}");
    let mut listeners = Vec::new();
    for host in [2, 5] {
        listeners.push(
            TcpListener::bind(format!("{block}.{host}:2967"))
                .await
                .unwrap(),
        );
    }
    let subnet = subnets::create(&app.db, &format!("{block}.0/29"), "Lab")
        .await
        .unwrap();
    let job = scans::enqueue(&app.db, subnet.id, ScanOptions::default())
        .await
        .unwrap();
    let job = app.wait_for_scan(job.id, Duration::from_secs(60)).await;
    assert_eq!(job.status, "done", "{:?}", job.error);
    assert_eq!(
        (job.protected, job.unprotected, job.unknown, job.hosts_up),
        (2, 6, 0, 8)
    );
    assert_eq!(job.done_addresses, 8);
    let coverage = scans::coverage_of(&app.db, job.id).await.unwrap();
    assert_eq!(coverage.compliance_percent(), Some(25.0));
    let gaps = scans::hosts_with_verdicts(
        &app.db,
        job.id,
        &[storage::coverage::Verdict::Unprotected],
        100,
        0,
    )
    .await
    .unwrap();
    let addresses: Vec<String> = gaps.into_iter().map(|g| g.address).collect();
    let expected: Vec<String> = [0, 1, 3, 4, 6, 7]
        .iter()
        .map(|h| format!("{block}.{h}"))
        .collect();
    assert_eq!(addresses, expected);
    drop(listeners);
}

async fn a_running_scan_cancels_within_a_second(app: TestApp, backend: u8) {
    // A /16 of loopback addresses keeps the worker busy long enough to cancel it.
    let subnet = subnets::create(&app.db, &format!("127.{}.0.0/16", 80 + backend), "Big")
        .await
        .unwrap();
    let job = scans::enqueue(&app.db, subnet.id, ScanOptions::default())
        .await
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        let current = scans::get(&app.db, job.id).await.unwrap();
        if current.status == "running" && current.done_addresses > 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "scan never started"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let asked = std::time::Instant::now();
    assert_eq!(
        scans::cancel(&app.db, job.id).await.unwrap(),
        JobStatus::Cancelling
    );
    let ended = app.wait_for_scan(job.id, Duration::from_secs(5)).await;
    assert_eq!(ended.status, "cancelled");
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "cancel took {:?}",
        asked.elapsed()
    );
    assert!(ended.done_addresses < 65_536, "stopped before the end");
}

async fn security_headers_are_set(app: TestApp, _backend: u8) {
    let manager = app.sign_in(Role::Manager).await;
    let response = manager.http.get(manager.url("/")).send().await.unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
    assert_eq!(header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(header("referrer-policy").as_deref(), Some("same-origin"));
}
