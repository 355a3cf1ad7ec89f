//! The Scans and Setup pages' server side, black-box: the progress stream,
//! scan options reaching the worker, and access control on every entry.
//! Scans target 127.0.0.0/8 only: blocks inside 127.76.0.0/16, and 127.73.0.0/16 / 127.74.0.0/16.

mod common;

use std::time::Duration;

use app::auth::Role;
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
    admins_open_setup_and_helpdesk_is_kept_out,
    setup_forms_answer_with_a_message_per_field,
    testing_a_profile_probes_only_defined_unexcluded_addresses,
    a_scan_started_over_http_streams_progress_and_done,
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

    // Opened after the scan ended, a stream still reads the same way: its
    // state as progress, then done.
    let late: Vec<ProgressUpdate> = progress_stream(app.db.clone(), job.id).collect().await;
    assert!(
        matches!(
            late.as_slice(),
            [ProgressUpdate::Progress(p), ProgressUpdate::Done(d)] if p == d && d.status == "done"
        ),
        "{late:?}"
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
            .browser()
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

async fn admins_open_setup_and_helpdesk_is_kept_out(app: TestApp, _backend: u8) {
    let admin = app.sign_in(Role::Admin).await;
    let home = admin.get_text("/").await;
    assert!(
        home.contains(r#"href="/scans""#) && home.contains(r#"href="/admin/subnets""#),
        "an admin's navigation leads to Scans and Setup"
    );
    for (path, heading) in SETUP_PAGES.iter().chain([&("/scans", "Scans")]) {
        let response = admin.http.get(admin.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let html = response.text().await.unwrap();
        assert!(html.contains(&format!("<h1>{heading}</h1>")), "{path}");
        assert!(!html.contains("Something went wrong"), "{path}: {html}");
    }
    let helpdesk = app.sign_in(Role::Helpdesk).await;
    let home = helpdesk.get_text("/").await;
    assert!(home.contains(r#"href="/scans""#));
    assert!(
        !home.contains(r#"href="/admin/subnets""#),
        "no Setup link for helpdesk"
    );
    for (path, _) in SETUP_PAGES {
        let response = helpdesk.http.get(helpdesk.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 403, "{path}");
    }
    let response = helpdesk
        .post_form(
            "/api/setup/exclusions/add",
            &[("target", "127.76.99.1"), ("reason", "x")],
        )
        .await;
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("may not"));
    assert!(storage::exclusions::list(&app.db).await.unwrap().is_empty());
    // Helpdesk may run scans, and sees the Scans page.
    let response = helpdesk
        .http
        .get(helpdesk.url("/scans"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

const SETUP_PAGES: [(&str, &str); 4] = [
    ("/admin/subnets", "Subnets and sites"),
    ("/admin/exclusions", "Exclusions"),
    ("/admin/profiles", "Vendor profiles"),
    ("/admin/schedules", "Schedules"),
];

/// (server fn path, form fields, field with the message, words of the message)
type FormCase = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
    &'static str,
);

async fn setup_forms_answer_with_a_message_per_field(app: TestApp, _backend: u8) {
    let admin = app.sign_in(Role::Admin).await;
    let cases: [FormCase; 4] = [
        (
            "/api/setup/subnets/save",
            &[
                ("cidr", "10.0.0.0/33"),
                ("name", "Bad"),
                ("site_id", ""),
                ("tags", ""),
                ("owner_contact", ""),
            ],
            "cidr",
            "out of range",
        ),
        (
            "/api/setup/exclusions/add",
            &[("target", "127.76.99.1/24"), ("reason", "fragile")],
            "target",
            "host bits set",
        ),
        (
            "/api/setup/profiles/add",
            &[
                ("vendor", "Acme"),
                ("product", "Agent"),
                ("ports", "70000"),
                ("banner_regex", ""),
            ],
            "ports",
            "not a TCP port",
        ),
        (
            "/api/setup/schedules/add",
            &[
                ("name", "Nightly"),
                ("cron", "every night"),
                ("timezone", "UTC"),
                ("subnet_ids[0]", "1"),
            ],
            "cron",
            "not a cron expression",
        ),
    ];
    for (path, form, field, message) in cases {
        let response = admin.post_form(path, form).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        // 200, like `subnets/add`: the page shows the message next to the field.
        assert_eq!(status, 200, "{path}: {body}");
        assert!(
            body.contains("Invalid") && body.contains(field) && body.contains(message),
            "{path}: {body}"
        );
    }
    // A good subnet is saved with its details, and the change is audited.
    let response = admin
        .post_form(
            "/api/setup/subnets/save",
            &[
                ("cidr", "127.76.40.0/28"),
                ("name", "Lab"),
                ("site_id", ""),
                ("tags", "Lab, floor-2"),
                ("owner_contact", "it@example.org"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let saved = subnets::list(&app.db).await.unwrap();
    assert_eq!(saved[0].tags, "floor-2,lab");
    assert_eq!(saved[0].owner_contact.as_deref(), Some("it@example.org"));
    let actions: Vec<String> = storage::audit::list(&app.db, None, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.action)
        .collect();
    assert!(actions.contains(&"subnet.create".to_owned()), "{actions:?}");
}

async fn testing_a_profile_probes_only_defined_unexcluded_addresses(app: TestApp, backend: u8) {
    let block = format!("127.76.{}", 50 + backend);
    let _agent = TcpListener::bind(format!("{block}.3:2967")).await.unwrap();
    subnets::create(&app.db, &format!("{block}.0/29"), "Lab")
        .await
        .unwrap();
    storage::exclusions::add(&app.db, "admin", &format!("{block}.4"), "fragile")
        .await
        .unwrap();
    let helpdesk = app.sign_in(Role::Helpdesk).await;
    let test = |address: String| {
        let helpdesk = &helpdesk;
        async move {
            let response = helpdesk
                .post_form(
                    "/api/setup/profiles/test",
                    &[
                        ("profile_key", "symantec-sav"),
                        ("address", address.as_str()),
                    ],
                )
                .await;
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let (status, body) = test("127.76.200.1".into()).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("Invalid") && body.contains("not inside a defined subnet"),
        "{body}"
    );
    let (status, body) = test(format!("{block}.4")).await;
    assert_eq!(status, 200);
    assert!(body.contains("Invalid"), "{body}");
    assert!(body.contains("excluded"), "{body}");
    let (status, body) = test(format!("{block}.3")).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("Tested") && body.contains("open") && body.contains("protected"),
        "{body}"
    );
    let (status, body) = test(format!("{block}.5")).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("closed") && body.contains("unprotected"),
        "{body}"
    );
}

async fn a_scan_started_over_http_streams_progress_and_done(app: TestApp, backend: u8) {
    let block = format!("127.76.{}", 60 + backend);
    let _agent = TcpListener::bind(format!("{block}.1:2967")).await.unwrap();
    let subnet = subnets::create(&app.db, &format!("{block}.0/28"), "Lab")
        .await
        .unwrap();
    let helpdesk = app.sign_in(Role::Helpdesk).await;
    let id = subnet.id.to_string();
    let response = helpdesk
        .post_form(
            "/api/ops/start",
            &[
                ("subnet_ids[0]", id.as_str()),
                ("skip_discovery", "true"),
                ("timing", "T5"),
            ],
        )
        .await;
    let body = response.text().await.unwrap();
    assert!(body.contains("Started"), "{body}");
    let (entries, _) = scans::history(&app.db, 1, 0).await.unwrap();
    let job = &entries[0].job;
    assert_eq!((job.timing.as_str(), job.skip_discovery), ("T5", true));
    assert_eq!(job.requested_by, helpdesk.username);
    let stream = helpdesk
        .http
        .get(helpdesk.url(&format!("/api/scans/{}/events", job.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert!(
        stream.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let text = tokio::time::timeout(Duration::from_secs(60), stream.text())
        .await
        .expect("the stream closes after the done event")
        .unwrap();
    let progress_at = text.find("event: progress").expect("a progress event");
    let done_at = text.find("event: done").expect("a done event");
    assert!(progress_at < done_at, "{text}");
    assert_eq!(text.matches("event: done").count(), 1);
    assert!(text[done_at..].contains(r#""status":"done""#), "{text}");
    assert!(text[done_at..].contains(r#""protected":1"#), "{text}");
}
