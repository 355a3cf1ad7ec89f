//! The role matrix: every server function and page × anonymous and every
//! role → allowed or denied, on both backends. Denied means 401/403 (or, for
//! an anonymous page view, a redirect to /login); allowed means anything
//! else except a 5xx (a validation 400 or a 404 for a made-up id still
//! proves the request got past the access check). Nothing may answer 5xx.
//!
//! To add a route: add one line to `ROUTES`. `{subnet}` in a path or body
//! becomes the id of a subnet that exists.

mod common;

use app::auth::Role;
use common::TestApp;
use reqwest::StatusCode;

/// Who may: the roles allowed (anonymous is never listed: only `PUBLIC` routes allow it).
#[derive(Clone, Copy)]
enum Who {
    Public,
    Roles(&'static [Role]),
}

const EVERY_ROLE: Who = Who::Roles(&[Role::Admin, Role::Helpdesk, Role::Manager]);
const SCANNERS: Who = Who::Roles(&[Role::Admin, Role::Helpdesk]);
const ADMINS: Who = Who::Roles(&[Role::Admin]);

struct RouteCase {
    method: &'static str,
    path: &'static str,
    /// Form body for POSTs (`key=value&…`).
    body: &'static str,
    who: Who,
}

const fn get(path: &'static str, who: Who) -> RouteCase {
    RouteCase {
        method: "GET",
        path,
        body: "",
        who,
    }
}

const fn post(path: &'static str, body: &'static str, who: Who) -> RouteCase {
    RouteCase {
        method: "POST",
        path,
        body,
        who,
    }
}

const ROUTES: &[RouteCase] = &[
    // Public.
    get("/healthz", Who::Public),
    get("/login", Who::Public),
    // Pages.
    get("/", EVERY_ROLE),
    get("/profiles", EVERY_ROLE),
    get("/subnets/{subnet}", EVERY_ROLE),
    get("/subnets/new", ADMINS),
    get("/account", EVERY_ROLE),
    get("/admin/users", ADMINS),
    get("/admin/audit", ADMINS),
    // Server functions: coverage.
    post("/api/subnets/list", "", EVERY_ROLE),
    post("/api/subnets/report", "subnet_id={subnet}", EVERY_ROLE),
    post("/api/profiles/list", "", EVERY_ROLE),
    post("/api/subnets/add", "cidr=not-a-cidr&name=x", ADMINS),
    post("/api/scans/start", "subnet_id={subnet}", SCANNERS),
    post("/api/scans/cancel", "scan_id=999999", SCANNERS),
    // Server functions: one's own account.
    post("/api/account/tokens/list", "", EVERY_ROLE),
    post("/api/account/tokens/create", "name=matrix", EVERY_ROLE),
    post("/api/account/tokens/revoke", "token_id=999999", EVERY_ROLE),
    post(
        "/api/account/password",
        "current=wrong-password-here&new=another+password+123",
        EVERY_ROLE,
    ),
    // Server functions: administration.
    post("/api/admin/users/list", "", ADMINS),
    post(
        "/api/admin/users/add",
        "username=bad%20name&password=short&role=manager",
        ADMINS,
    ),
    post(
        "/api/admin/users/role",
        "user_id=999999&role=manager",
        ADMINS,
    ),
    post(
        "/api/admin/users/disable",
        "user_id=999999&disabled=true",
        ADMINS,
    ),
    post("/api/admin/audit", "", ADMINS),
    // Coverage views: pages, server functions and the CSV export.
    get("/hosts/127.94.0.1", EVERY_ROLE),
    post("/api/views/overview", "", EVERY_ROLE),
    post(
        "/api/views/gaps",
        "subnet_id={subnet}&params[page]=1",
        EVERY_ROLE,
    ),
    post("/api/views/host", "address=127.94.0.1", EVERY_ROLE),
    post(
        "/api/views/override",
        "addresses[0]=127.94.0.1&out_of_scope=true&reason=printer",
        SCANNERS,
    ),
    post("/api/views/override/clear", "address=127.94.0.1", SCANNERS),
    post(
        "/api/views/acknowledge",
        "addresses[0]=127.94.0.1&note=ticket",
        SCANNERS,
    ),
    get("/subnets/{subnet}/gaps.csv", EVERY_ROLE),
    // Scans: page, server functions, live progress.
    get("/scans", EVERY_ROLE),
    post("/api/ops/scan-choices", "", EVERY_ROLE),
    post("/api/ops/preview", "subnet_ids[0]={subnet}", EVERY_ROLE),
    post("/api/ops/history", "page=1", EVERY_ROLE),
    post("/api/ops/progress", "scan_id=999999", EVERY_ROLE),
    post(
        "/api/ops/start",
        "subnet_ids[0]=999999&skip_discovery=false&timing=T4",
        SCANNERS,
    ),
    post("/api/ops/cancel", "scan_id=999999", SCANNERS),
    get("/api/scans/999999/events", EVERY_ROLE),
    post("/api/import?subnet_id={subnet}", "", SCANNERS),
    // Setup (admins).
    get("/admin/subnets", ADMINS),
    get("/admin/exclusions", ADMINS),
    get("/admin/profiles", ADMINS),
    get("/admin/schedules", ADMINS),
    post("/api/setup/subnets", "", ADMINS),
    post("/api/setup/exclusions", "", ADMINS),
    post("/api/setup/profiles", "", ADMINS),
    post("/api/setup/schedules", "", ADMINS),
    post(
        "/api/setup/subnets/enable",
        "subnet_id={subnet}&enabled=true",
        ADMINS,
    ),
    post("/api/setup/sites/add", "name=", ADMINS),
    post(
        "/api/setup/exclusions/add",
        "target=not-an-address&reason=x",
        ADMINS,
    ),
    post(
        "/api/setup/exclusions/remove",
        "exclusion_id=999999",
        ADMINS,
    ),
    post(
        "/api/setup/profiles/enable",
        "key=no-such-profile&enabled=true",
        ADMINS,
    ),
    post(
        "/api/setup/schedules/enable",
        "schedule_id=999999&enabled=true",
        ADMINS,
    ),
];

app_test_on_both_backends! {
    every_route_allows_exactly_the_roles_in_the_table,
}

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Allowed,
    Denied,
}

async fn every_route_allows_exactly_the_roles_in_the_table(app: TestApp, backend: u8) {
    let subnet = storage::subnets::create(&app.db, &format!("127.94.{backend}.0/30"), "Matrix")
        .await
        .unwrap();
    let subnet_id = subnet.id.to_string();
    let mut callers: Vec<(Option<Role>, reqwest::Client)> = vec![(None, app.browser())];
    for role in Role::ALL {
        callers.push((Some(role), app.sign_in(role).await.http));
    }
    let mut wrong = Vec::new();
    for route in ROUTES {
        let path = route.path.replace("{subnet}", &subnet_id);
        let body = route.body.replace("{subnet}", &subnet_id);
        for (role, http) in &callers {
            let request = match route.method {
                "GET" => http.get(app.url(&path)),
                _ => http
                    .post(app.url(&path))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body.clone()),
            };
            let response = request.send().await.unwrap();
            let status = response.status();
            let to_login = status == StatusCode::SEE_OTHER
                && response
                    .headers()
                    .get("location")
                    .and_then(|l| l.to_str().ok())
                    .is_some_and(|l| l.starts_with("/login"));
            let who = role.map_or("anonymous", Role::as_str);
            assert!(
                !status.is_server_error(),
                "{} {path} as {who}: {status} {}",
                route.method,
                response.text().await.unwrap_or_default()
            );
            let got = if status == StatusCode::UNAUTHORIZED
                || status == StatusCode::FORBIDDEN
                || to_login
            {
                Outcome::Denied
            } else {
                Outcome::Allowed
            };
            let expected = match (route.who, role) {
                (Who::Public, _) => Outcome::Allowed,
                (Who::Roles(_), None) => Outcome::Denied,
                (Who::Roles(roles), Some(role)) if roles.contains(role) => Outcome::Allowed,
                (Who::Roles(_), Some(_)) => Outcome::Denied,
            };
            if got != expected {
                wrong.push(format!(
                    "{} {path} as {who}: expected {expected:?}, got {got:?} ({status})",
                    route.method
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "role matrix mismatches:\n{}",
        wrong.join("\n")
    );
}
