//! The coverage views from outside: access control of their server functions
//! and of the CSV route, and the CSV holding exactly the filtered gap list.

mod common;

use std::net::IpAddr;

use app::api::views::GapParams;
use server::routes::export::gaps_csv;
use storage::coverage::ObservedPort;
use storage::scans::{self, HostRecord, JobStatus, ScanOptions};
use storage::{Db, hosts, profiles, subnets, test_on_both_backends};

use app::auth::Role;
use common::TestApp;

app_test_on_both_backends! {
    a_manager_reads_and_exports_but_cannot_change_overrides,
    helpdesk_marks_hosts_out_of_scope_and_gets_a_400_for_a_missing_reason,
    view_functions_ask_strangers_to_sign_in,
    server_rendered_views_tell_strangers_to_sign_in_instead_of_showing_hosts,
    the_csv_export_asks_strangers_to_sign_in,
}

test_on_both_backends! {
    the_csv_holds_exactly_the_filtered_gap_list,
    csv_cells_cannot_become_spreadsheet_formulas,
}

async fn view_functions_ask_strangers_to_sign_in(app: TestApp, _: u8) {
    let calls: [(&str, &[(&str, &str)]); 4] = [
        ("/api/views/overview", &[]),
        (
            "/api/views/gaps",
            &[("subnet_id", "1"), ("params[page]", "1")],
        ),
        ("/api/views/host", &[("address", "127.0.0.1")]),
        (
            "/api/views/acknowledge",
            &[("addresses[0]", "127.0.0.1"), ("note", "HD-1")],
        ),
    ];
    for (path, form) in calls {
        let response = app
            .http
            .post(app.url(path))
            // Same-site, as a browser would send it: only the missing sign-in is wrong.
            .header("Origin", format!("http://{}", app.addr))
            .form(form)
            .send()
            .await
            .expect("POST answers");
        assert_eq!(response.status(), 401, "{path}");
        let body = response.text().await.unwrap();
        assert!(body.contains("Sign in to continue."), "{path}: {body}");
    }
    let audit = storage::audit::list(&app.db, None, 10).await.unwrap();
    assert!(audit.is_empty(), "nothing was changed: {audit:?}");
}

async fn server_rendered_views_tell_strangers_to_sign_in_instead_of_showing_hosts(
    app: TestApp,
    _: u8,
) {
    // Loopback only: every address of this /30 refuses connects, i.e. is up without an agent.
    let subnet = subnets::create(&app.db, "127.91.4.0/30", "Lab")
        .await
        .unwrap();
    let job = scans::enqueue(&app.db, subnet.id, ScanOptions::default())
        .await
        .unwrap();
    let done = app
        .wait_for_scan(job.id, std::time::Duration::from_secs(60))
        .await;
    assert_eq!(done.status, "done");
    assert!(done.unprotected > 0, "the lab has hosts to hide: {done:?}");

    for path in ["/", "/hosts/127.91.4.1", "/subnets/1"] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_stranger_turned_away(response, path).await;
    }
}

/// A stranger is either sent to the sign-in page or shown the sign-in
/// message (server functions answer 401 behind a page), and sees no evidence.
async fn assert_stranger_turned_away(response: reqwest::Response, path: &str) {
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .map(str::to_owned);
    let body = response.text().await.unwrap();
    let redirected_to_login =
        status.is_redirection() && location.as_deref().is_some_and(|l| l.starts_with("/login"));
    let told_to_sign_in = (status == 200 || status == 401) && body.contains("Sign in");
    assert!(
        redirected_to_login || told_to_sign_in,
        "{path}: {status} {location:?} {body}"
    );
    assert!(!body.contains("2967/closed"), "{path} leaks evidence");
    assert!(!body.contains("address,dns_name"), "{path} leaks the CSV");
}

async fn the_csv_export_asks_strangers_to_sign_in(app: TestApp, _: u8) {
    let subnet = subnets::create(&app.db, "127.91.0.0/30", "Lab")
        .await
        .unwrap();
    let response = app
        .http
        .get(app.url(&format!("/subnets/{}/gaps.csv", subnet.id)))
        .send()
        .await
        .expect("GET answers");
    assert_stranger_turned_away(response, "gaps.csv").await;
}

fn host(address: &str, position: u64, state_2967: &str, dns: Option<&str>) -> HostRecord {
    HostRecord {
        position,
        address: address.parse::<IpAddr>().unwrap(),
        up: true,
        host_reason: "conn-refused".into(),
        device_class: "windows".into(),
        device_confidence: 50,
        device_evidence: vec![],
        ports: vec![ObservedPort {
            port: 2967,
            state: state_2967.into(),
            reason: "conn-refused".into(),
            banner_hex: None,
        }],
        dns_name: dns.map(str::to_owned),
    }
}

async fn scan(db: &Db, subnet_id: i32, hosts: &[HostRecord]) {
    let job = scans::enqueue(db, subnet_id, ScanOptions::default())
        .await
        .unwrap();
    scans::claim_next(db).await.unwrap().expect("queued scan");
    let rules = profiles::enabled_rules(db).await.unwrap();
    scans::record_hosts(db, job.id, &rules, hosts)
        .await
        .unwrap();
    scans::finish(db, job.id, JobStatus::Done, None)
        .await
        .unwrap();
}

async fn the_csv_holds_exactly_the_filtered_gap_list(db: &Db) {
    let subnet = subnets::create(db, "127.91.1.0/24", "Lab").await.unwrap();
    // 1 500 unprotected hosts: more than one storage page, so the export pages through.
    let mut seen: Vec<HostRecord> = (1..=1500u64)
        .map(|n| {
            let address = format!("127.91.{}.{}", 1 + n / 250, n % 250);
            host(&address, n, "closed", None)
        })
        .collect();
    seen.push(host("127.91.9.1", 2000, "open", None));
    seen.push(host("127.91.9.2", 2001, "filtered", Some("odd.lab")));
    scan(db, subnet.id, &seen).await;
    hosts::acknowledge(db, "helen", "127.91.1.5", "HD-3")
        .await
        .unwrap();

    let everything = gaps_csv(db, subnet.id, &GapParams::default())
        .await
        .unwrap();
    let lines: Vec<&str> = everything.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "address,dns_name,verdict,device_class,remediation,ports"
    );
    assert_eq!(
        lines.len(),
        1 + 1501,
        "every unprotected and unknown host, no protected one"
    );
    assert!(!everything.contains("127.91.9.1,"));

    let unknown = gaps_csv(
        db,
        subnet.id,
        &GapParams {
            verdict: Some("unknown".into()),
            page: Some(7),
            ..GapParams::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        unknown,
        "address,dns_name,verdict,device_class,remediation,ports\r\n\
         127.91.9.2,odd.lab,unknown,windows,,2967/filtered (conn-refused)\r\n",
        "the page number of the screen does not limit the export"
    );

    let acknowledged = gaps_csv(
        db,
        subnet.id,
        &GapParams {
            remediation: Some("acknowledged".into()),
            ..GapParams::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        acknowledged.lines().skip(1).collect::<Vec<_>>(),
        ["127.91.1.5,,unprotected,windows,acknowledged,2967/closed (conn-refused)"]
    );
}

async fn csv_cells_cannot_become_spreadsheet_formulas(db: &Db) {
    let subnet = subnets::create(db, "127.91.2.0/29", "Lab").await.unwrap();
    scan(
        db,
        subnet.id,
        &[host(
            "127.91.2.1",
            1,
            "closed",
            Some("=HYPERLINK(\"http://x\",\"y\")"),
        )],
    )
    .await;
    let csv = gaps_csv(db, subnet.id, &GapParams::default())
        .await
        .unwrap();
    let row = csv.lines().nth(1).expect("one host");
    assert!(
        row.starts_with("127.91.2.1,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",unprotected"),
        "{row}"
    );
}

/// Scans a loopback /30 for real: every address (all four: avsweep scans a
/// network's every address) refuses connects, i.e. is up without an agent.
async fn scanned_lab(app: &TestApp, cidr: &str) -> i32 {
    let subnet = subnets::create(&app.db, cidr, "Lab").await.unwrap();
    let job = scans::enqueue(&app.db, subnet.id, ScanOptions::default())
        .await
        .unwrap();
    let done = app
        .wait_for_scan(job.id, std::time::Duration::from_secs(60))
        .await;
    assert_eq!(done.status, "done");
    assert_eq!(done.unprotected, 4, "{done:?}");
    subnet.id
}

async fn a_manager_reads_and_exports_but_cannot_change_overrides(app: TestApp, _: u8) {
    let subnet_id = scanned_lab(&app, "127.91.5.0/30").await;
    let manager = app.sign_in(Role::Manager).await;

    let refused = manager
        .post_form(
            "/api/views/override",
            &[
                ("addresses[0]", "127.91.5.1"),
                ("out_of_scope", "true"),
                ("reason", "not mine to decide"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("manager"));
    assert_eq!(
        hosts::override_for(&app.db, "127.91.5.1").await.unwrap(),
        None
    );
    let acknowledged = manager
        .post_form(
            "/api/views/acknowledge",
            &[("addresses[0]", "127.91.5.1"), ("note", "HD-1")],
        )
        .await;
    assert_eq!(acknowledged.status(), 403);

    let overview = manager.get_text("/").await;
    assert!(
        overview.contains("Newly unprotected since the last scan"),
        "{overview}"
    );
    let host = manager.get_text("/hosts/127.91.5.1").await;
    assert!(
        host.contains("2967"),
        "the host page shows its ports: {host}"
    );

    let csv = manager
        .http
        .get(manager.url(&format!("/subnets/{subnet_id}/gaps.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let body = csv.text().await.unwrap();
    let addresses: Vec<&str> = body
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(
        addresses,
        ["127.91.5.0", "127.91.5.1", "127.91.5.2", "127.91.5.3"],
        "{body}"
    );
}

async fn helpdesk_marks_hosts_out_of_scope_and_gets_a_400_for_a_missing_reason(
    app: TestApp,
    _: u8,
) {
    let subnet_id = scanned_lab(&app, "127.91.6.0/30").await;
    let helpdesk = app.sign_in(Role::Helpdesk).await;

    let missing_reason = helpdesk
        .post_form(
            "/api/views/override",
            &[
                ("addresses[0]", "127.91.6.1"),
                ("out_of_scope", "true"),
                ("reason", " "),
            ],
        )
        .await;
    assert_eq!(missing_reason.status(), 400);
    assert!(missing_reason.text().await.unwrap().contains("Say why"));

    let saved = helpdesk
        .post_form(
            "/api/views/override",
            &[
                ("addresses[0]", "127.91.6.1"),
                ("addresses[1]", "127.91.6.2"),
                ("out_of_scope", "true"),
                ("reason", "lab appliances"),
            ],
        )
        .await;
    assert_eq!(saved.status(), 200, "{:?}", saved.text().await);
    let overall = storage::history::latest_per_subnet(&app.db).await.unwrap();
    let row = overall.iter().find(|r| r.subnet_id == subnet_id).unwrap();
    assert_eq!(
        (row.unprotected, row.out_of_scope),
        (2, 2),
        "the two marked hosts left the count"
    );
    let audit = storage::audit::list(&app.db, Some("host:127.91.6.2"), 5)
        .await
        .unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "override.set" && e.actor == helpdesk.username),
        "{audit:?}"
    );
}
