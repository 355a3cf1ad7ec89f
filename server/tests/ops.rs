//! The Scans and Setup pages' server side, black-box: the progress stream,
//! scan options reaching the worker, and access control on every entry.
//! Scans target 127.0.0.0/8 only: blocks inside 127.76.0.0/16, and 127.73.0.0/16 / 127.74.0.0/16.

mod common;

use std::time::Duration;

use common::TestApp;
use futures::StreamExt;
use server::routes::events::{ProgressUpdate, progress_stream};
use storage::scans::{self, JobStatus, ScanOptions};
use storage::subnets;
use tokio::net::TcpListener;

app_test_on_both_backends! {
    the_progress_stream_sends_progress_then_one_done_event,
    a_cancelled_scan_ends_its_stream_as_cancelled,
    scan_options_reach_the_worker,
    the_event_route_refuses_anonymous_callers,
    setup_and_scan_server_fns_refuse_anonymous_callers,
    the_scans_and_setup_pages_explain_a_missing_sign_in,
}

async fn the_progress_stream_sends_progress_then_one_done_event(app: TestApp, backend: u8) {
    let block = format!("127.76.{backend}");
    let _agent = TcpListener::bind(format!("{block}.3:2967")).await.unwrap();
    let subnet = subnets::create(&app.db, &format!("{block}.0/28"), "Lab")
        .await
        .unwrap();
    let job = scans::enqueue(&app.db, subnet.id, ScanOptions::default())
        .await
        .unwrap();
    let updates: Vec<ProgressUpdate> = tokio::time::timeout(
        Duration::from_secs(60),
        progress_stream(app.db.clone(), job.id).collect(),
    )
    .await
    .expect("the stream ends when the scan does");
    let (last, before) = updates.split_last().expect("at least one update");
    let ProgressUpdate::Done(done) = last else {
        panic!("the last update is Done: {updates:?}");
    };
    assert_eq!(done.status, "done");
    assert_eq!(done.done_addresses, 16);
    assert_eq!(done.total_addresses, 16);
    assert_eq!((done.protected, done.unprotected), (1, 15));
    assert!(done.rate_per_second.is_some_and(|r| r > 0.0), "{done:?}");
    assert!(!before.is_empty(), "progress comes before the end");
    assert!(
        before
            .iter()
            .all(|u| matches!(u, ProgressUpdate::Progress(p) if p.is_active())),
        "{before:?}"
    );
    let done_counts: Vec<i64> = before
        .iter()
        .filter_map(|u| match u {
            ProgressUpdate::Progress(p) => Some(p.done_addresses),
            ProgressUpdate::Done(_) => None,
        })
        .collect();
    assert!(
        done_counts.windows(2).all(|w| w[0] <= w[1]),
        "progress only grows: {done_counts:?}"
    );
}

async fn a_cancelled_scan_ends_its_stream_as_cancelled(app: TestApp, backend: u8) {
    let subnet = subnets::create(&app.db, &format!("127.{}.0.0/16", 72 + backend), "Big")
        .await
        .unwrap();
    let job = scans::enqueue(&app.db, subnet.id, ScanOptions::default())
        .await
        .unwrap();
    let mut stream = Box::pin(progress_stream(app.db.clone(), job.id));
    // Wait until the worker reports addresses done, then cancel.
    loop {
        let update = tokio::time::timeout(Duration::from_secs(30), stream.next())
            .await
            .expect("progress arrives")
            .expect("the stream is still open");
        if let ProgressUpdate::Progress(p) = update
            && p.done_addresses > 0
        {
            assert_eq!(p.status, "running");
            assert!(p.eta_seconds.is_some(), "a running scan has an ETA: {p:?}");
            break;
        }
    }
    assert_eq!(
        scans::cancel(&app.db, job.id).await.unwrap(),
        JobStatus::Cancelling
    );
    let last = tokio::time::timeout(Duration::from_secs(5), async {
        let mut last = None;
        while let Some(update) = stream.next().await {
            last = Some(update);
        }
        last
    })
    .await
    .expect("the stream ends soon after a cancel");
    match last {
        Some(ProgressUpdate::Done(p)) => {
            assert_eq!(p.status, "cancelled");
            assert!(p.done_addresses < 65_536);
            assert_eq!(p.eta_seconds, None, "an ended scan has no ETA");
        }
        other => panic!("expected a final Done, got {other:?}"),
    }
}

async fn scan_options_reach_the_worker(app: TestApp, backend: u8) {
    let block = format!("127.76.{}", 20 + backend);
    // An agent on a custom profile's port and one on Symantec's: only the chosen profile counts.
    let _custom = TcpListener::bind(format!("{block}.1:4118")).await.unwrap();
    let _symantec = TcpListener::bind(format!("{block}.2:2967")).await.unwrap();
    let profile = storage::profiles::create_custom(
        &app.db,
        "admin",
        &storage::profiles::NewCustomProfile {
            vendor: "Acme".into(),
            product: "Agent".into(),
            ports: "4118".into(),
            banner_regex: String::new(),
        },
    )
    .await
    .unwrap();
    let subnet = subnets::create(&app.db, &format!("{block}.0/29"), "Lab")
        .await
        .unwrap();
    let options = ScanOptions {
        skip_discovery: true,
        timing: "T5".into(),
        profile_keys: vec![profile.key.clone()],
        requested_by: "alice".into(),
        schedule_id: None,
        ..ScanOptions::default()
    };
    let job = scans::enqueue(&app.db, subnet.id, options).await.unwrap();
    let job = app.wait_for_scan(job.id, Duration::from_secs(60)).await;
    assert_eq!(job.status, "done", "{:?}", job.error);
    assert_eq!(job.ports, "4118");
    assert_eq!(job.protected, 1, "only the Acme host is protected");
    let protected = scans::hosts_with_verdicts(
        &app.db,
        job.id,
        &[storage::coverage::Verdict::Protected],
        10,
        0,
    )
    .await
    .unwrap();
    assert_eq!(protected[0].address, format!("{block}.1"));
    assert_eq!(
        protected[0].matched_profile.as_deref(),
        Some(profile.key.as_str())
    );
}

async fn the_event_route_refuses_anonymous_callers(app: TestApp, _backend: u8) {
    let response = app
        .http
        .get(app.url("/api/scans/1/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.text().await.unwrap().contains("Sign in"));
}

async fn setup_and_scan_server_fns_refuse_anonymous_callers(app: TestApp, _backend: u8) {
    let calls: [(&str, &[(&str, &str)]); 6] = [
        (
            "/api/setup/subnets/save",
            &[
                ("cidr", "127.76.99.0/28"),
                ("name", "X"),
                ("site_id", ""),
                ("tags", ""),
                ("owner_contact", ""),
            ],
        ),
        (
            "/api/setup/exclusions/add",
            &[("target", "127.76.99.1"), ("reason", "fragile")],
        ),
        (
            "/api/setup/profiles/add",
            &[
                ("vendor", "Acme"),
                ("product", "Agent"),
                ("ports", "1234"),
                ("banner_regex", ""),
            ],
        ),
        (
            "/api/setup/schedules/add",
            &[
                ("name", "N"),
                ("cron", "0 2 * * *"),
                ("timezone", "UTC"),
                ("subnet_ids[0]", "1"),
            ],
        ),
        (
            "/api/setup/profiles/test",
            &[("profile_key", "symantec-sav"), ("address", "127.76.99.1")],
        ),
        (
            "/api/ops/start",
            &[
                ("subnet_ids[0]", "1"),
                ("profile_keys[0]", "symantec-sav"),
                ("skip_discovery", "false"),
                ("timing", "T4"),
            ],
        ),
    ];
    for (path, form) in calls {
        let response = app
            .http
            .post(app.url(path))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, 401, "{path}: {body}");
        assert!(body.contains("Sign in"), "{path}: {body}");
    }
    assert!(subnets::list(&app.db).await.unwrap().is_empty());
    assert!(storage::exclusions::list(&app.db).await.unwrap().is_empty());
    assert!(storage::schedules::list(&app.db).await.unwrap().is_empty());
}

async fn the_scans_and_setup_pages_explain_a_missing_sign_in(app: TestApp, _backend: u8) {
    let home = app.get_text("/").await;
    assert!(
        home.contains(r#"href="/scans""#) && home.contains(r#"href="/admin/subnets""#),
        "the main navigation leads to Scans and Setup"
    );
    for (path, heading) in [
        ("/scans", "Scans"),
        ("/admin/subnets", "Subnets and sites"),
        ("/admin/exclusions", "Exclusions"),
        ("/admin/profiles", "Vendor profiles"),
        ("/admin/schedules", "Schedules"),
    ] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        // Without a signed-in user the page still renders, answering 401.
        assert_eq!(response.status(), 401, "{path}");
        let html = response.text().await.unwrap();
        assert!(
            html.contains(&format!("<h1>{heading}</h1>")),
            "{path}: {html}"
        );
        assert!(
            html.contains("Sign in to continue."),
            "{path} explains the refusal in place"
        );
    }
}
