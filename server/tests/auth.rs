//! Sign-in, sessions, CSRF, API tokens and role checks, over HTTP.

mod common;

use app::auth::Role;
use common::{TEST_PASSWORD, TestApp};
use reqwest::StatusCode;
use storage::accounts::{self, SessionLimits};
use storage::entities::session;
use storage::subnets;

use sea_orm::EntityTrait;

app_test_on_both_backends! {
    anonymous_page_views_go_to_sign_in_but_health_and_assets_stay_public,
    sign_in_sets_a_strict_http_only_cookie_and_sign_out_ends_the_session,
    a_wrong_password_and_an_unknown_user_get_the_same_answer,
    repeated_failures_are_throttled_with_429,
    sign_in_only_follows_same_site_next_paths,
    cross_site_posts_are_refused_and_same_site_posts_accepted,
    api_tokens_work_without_origin_until_revoked,
    server_functions_refuse_anonymous_and_roles_without_the_capability,
    a_disabled_account_is_signed_out_at_once,
    the_setup_link_makes_the_first_admin_once_and_signs_them_in,
}

#[tokio::test]
async fn https_is_served_with_hsts_and_secure_cookies() {
    let Some(tls) = TlsFixture::new() else {
        return;
    };
    let (cert, key) = (tls.cert.clone(), tls.key.clone());
    let Some(app) = common::spawn_app_with(storage::testing::Backend::Sqlite, move |config| {
        config.tls = Some(server::config::TlsFiles { cert, key });
    })
    .await
    else {
        return;
    };
    assert!(
        app.setup_link
            .as_deref()
            .is_some_and(|link| link.starts_with("https://127.0.0.1:")),
        "the setup link names HTTPS: {:?}",
        app.setup_link
    );
    let root = reqwest::Certificate::from_pem(&std::fs::read(&tls.ca).unwrap()).unwrap();
    let https = reqwest::Client::builder()
        .add_root_certificate(root)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("https://{}", app.addr);
    let health = https.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let manager = app.create_user(Role::Manager).await;
    let signed_in = https
        .post(format!("{base}/auth/login"))
        .header("origin", &base)
        .form(&[
            ("username", manager.username.as_str()),
            ("password", TEST_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
    // Plain HTTP on the HTTPS port gets no page.
    let plain = bare_client()
        .get(format!("http://{}/healthz", app.addr))
        .timeout(std::time::Duration::from_secs(15))
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP must not be answered: {plain:?}");
}

/// A test CA and a server certificate for 127.0.0.1 it signed, made with
/// the openssl command (webpki refuses a CA certificate as the server's own).
struct TlsFixture {
    _dir: tempfile::TempDir,
    ca: std::path::PathBuf,
    cert: std::path::PathBuf,
    key: std::path::PathBuf,
}

impl TlsFixture {
    fn new() -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        let openssl = |args: &[&str]| {
            std::process::Command::new("openssl")
                .current_dir(dir.path())
                .args(args)
                .output()
                .is_ok_and(|output| output.status.success())
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        let made = openssl(
            &[
                &["req", "-x509"][..],
                &ec,
                &["-days", "2", "-subj", "/CN=avsweep test CA"],
                &["-keyout", "ca.key", "-out", "ca.pem"],
            ]
            .concat(),
        ) && openssl(
            &[
                &["req", "-x509", "-CA", "ca.pem", "-CAkey", "ca.key"][..],
                &ec,
                &["-days", "2", "-subj", "/CN=127.0.0.1"],
                &["-addext", "subjectAltName=IP:127.0.0.1"],
                &["-addext", "basicConstraints=critical,CA:FALSE"],
                &["-keyout", "key.pem", "-out", "cert.pem"],
            ]
            .concat(),
        );
        if made {
            return Some(Self {
                ca: path("ca.pem"),
                cert: path("cert.pem"),
                key: path("key.pem"),
                _dir: dir,
            });
        }
        assert!(
            std::env::var("CI").is_err(),
            "openssl could not make the test certificates"
        );
        eprintln!("skipped: openssl could not make the test certificates");
        None
    }
}

async fn the_setup_link_makes_the_first_admin_once_and_signs_them_in(app: TestApp, _backend: u8) {
    let link = app
        .setup_link
        .clone()
        .expect("a database without an admin gets a setup link");
    let token = link
        .split_once("/setup?token=")
        .map(|(_, token)| token.to_owned())
        .expect("the link carries its token");
    assert!(
        link.starts_with(&format!("http://{}/setup?token=", app.addr)),
        "{link}"
    );
    assert!(token.len() >= 32, "a long random token: {token}");
    let page = app.browser().get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200, "the setup page is public");

    let setup = |token: String, username: &'static str, again: &'static str| {
        let http = app.browser();
        let url = app.url("/auth/setup");
        async move {
            http.post(url)
                .form(&[
                    ("token", token.as_str()),
                    ("username", username),
                    ("password", "first admin passphrase"),
                    ("password_again", again),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let wrong = setup("0".repeat(64), "alice", "first admin passphrase").await;
    assert!(
        location(&wrong).contains("error=token"),
        "{}",
        location(&wrong)
    );
    let mismatch = setup(token.clone(), "alice", "something else entirely").await;
    assert!(location(&mismatch).contains("error=mismatch"));
    assert_eq!(accounts::active_admin_count(&app.db).await.unwrap(), 0);

    let made = setup(token.clone(), "alice", "first admin passphrase").await;
    assert_eq!(made.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&made), "/");
    let cookie = made.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("avsweep_session="), "{cookie}");
    let alice = accounts::find_by_username(&app.db, "alice")
        .await
        .unwrap()
        .expect("the first admin exists");
    assert_eq!(alice.role, "admin");
    let session = cookie.split(';').next().unwrap().to_owned();
    let home = bare_client()
        .get(app.url("/"))
        .header("cookie", session)
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 200, "the new admin is signed in");
    assert!(home.text().await.unwrap().contains("alice"));

    let again = setup(token, "mallory", "first admin passphrase").await;
    assert!(
        location(&again).contains("error=closed"),
        "{}",
        location(&again)
    );
    assert!(
        accounts::find_by_username(&app.db, "mallory")
            .await
            .unwrap()
            .is_none()
    );
    let audit = storage::audit::list(&app.db, Some("user:alice"), 10)
        .await
        .unwrap();
    assert!(
        audit
            .iter()
            .any(|row| row.action == "user.create_first_admin" && row.actor == "alice"),
        "the audit log records the first admin: {audit:?}"
    );
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// A client with no default headers: each test sets exactly what it sends.
fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn anonymous_page_views_go_to_sign_in_but_health_and_assets_stay_public(
    app: TestApp,
    _backend: u8,
) {
    let http = app.browser();
    for (path, next) in [
        ("/", "/"),
        ("/subnets/3?tab=gaps", "/subnets/3%3Ftab%3Dgaps"),
        ("/profiles", "/profiles"),
    ] {
        let response = http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&response), format!("/login?next={next}"), "{path}");
    }
    let response = http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let response = http.get(app.url("/login")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("<label for=\"username\">Username</label>"),
        "{html}"
    );
    assert!(html.contains("action=\"/auth/login\""), "{html}");
    let response = http.get(app.url("/pkg/avsweep.css")).send().await.unwrap();
    assert_ne!(
        response.status(),
        StatusCode::SEE_OTHER,
        "assets are public"
    );
}

async fn sign_in_sets_a_strict_http_only_cookie_and_sign_out_ends_the_session(
    app: TestApp,
    _backend: u8,
) {
    let account = app.create_user(Role::Helpdesk).await;
    let http = app.browser();
    let response = http
        .post(app.url("/auth/login"))
        .form(&[
            ("username", account.username.to_uppercase().as_str()),
            ("password", TEST_PASSWORD),
            ("next", "/profiles"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/profiles");
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|c| c.to_str().ok())
        .unwrap()
        .to_owned();
    for part in ["avsweep_session=", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(part), "{part} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP by default");
    let token = cookie["avsweep_session=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let sessions = session::Entity::find().all(app.db.conn()).await.unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].token_hash, accounts::token_hash(&token));
    assert_eq!(sessions[0].source, "127.0.0.1");

    let response = http.get(app.url("/profiles")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains(&account.username), "the nav names the user");
    assert!(html.contains("Sign out"));

    let audit = storage::audit::list(&app.db, None, 10).await.unwrap();
    let login = audit.iter().find(|a| a.action == "login.success").unwrap();
    assert_eq!(login.source.as_deref(), Some("127.0.0.1"));

    let response = http.post(app.url("/auth/logout")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login");
    assert!(
        session::Entity::find()
            .all(app.db.conn())
            .await
            .unwrap()
            .is_empty(),
        "the session is gone from the database"
    );
    let response = http.get(app.url("/profiles")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "signed out");
    let response = bare_client()
        .get(app.url("/profiles"))
        .header("cookie", format!("avsweep_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "the old token is worthless"
    );
}

async fn a_wrong_password_and_an_unknown_user_get_the_same_answer(app: TestApp, _backend: u8) {
    let account = app.create_user(Role::Manager).await;
    let http = app.browser();
    let mut locations = Vec::new();
    for (username, password) in [
        (account.username.as_str(), "not the password"),
        ("nobody-here", TEST_PASSWORD),
    ] {
        let response = http
            .post(app.url("/auth/login"))
            .form(&[("username", username), ("password", password)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert!(response.headers().get("set-cookie").is_none());
        locations.push(location(&response));
    }
    assert_eq!(locations[0], locations[1], "no hint which field was wrong");
    let response = http.get(app.url(&locations[0])).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("The username or password is not right"),
        "{html}"
    );
    let audit = storage::audit::list(&app.db, None, 10).await.unwrap();
    let failures: Vec<_> = audit
        .iter()
        .filter(|a| a.action == "login.failure")
        .collect();
    assert_eq!(failures.len(), 2);
    assert!(
        failures
            .iter()
            .all(|a| a.source.as_deref() == Some("127.0.0.1"))
    );
}

async fn repeated_failures_are_throttled_with_429(app: TestApp, _backend: u8) {
    let account = app.create_user(Role::Manager).await;
    let http = app.browser();
    let attempt = |password: &'static str| {
        let http = http.clone();
        let url = app.url("/auth/login");
        let username = account.username.clone();
        async move {
            let response = http
                .post(url)
                .form(&[("username", username.as_str()), ("password", password)])
                .send()
                .await
                .unwrap();
            location(&response)
        }
    };
    for _ in 0..5 {
        assert!(attempt("wrong password").await.contains("error=invalid"));
    }
    let refused = attempt(TEST_PASSWORD).await;
    assert!(
        refused.contains("error=throttled"),
        "even the right password waits: {refused}"
    );
    let response = http.get(app.url(&refused)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Too many failed sign-ins")
    );
    let audit = storage::audit::list(&app.db, None, 20).await.unwrap();
    assert!(audit.iter().any(|a| a.action == "login.throttled"));
}

async fn sign_in_only_follows_same_site_next_paths(app: TestApp, _backend: u8) {
    let account = app.create_user(Role::Manager).await;
    for (next, expected) in [
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/subnets/1", "/subnets/1"),
    ] {
        let response = app
            .browser()
            .post(app.url("/auth/login"))
            .form(&[
                ("username", account.username.as_str()),
                ("password", TEST_PASSWORD),
                ("next", next),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(location(&response), expected, "{next}");
    }
}

async fn cross_site_posts_are_refused_and_same_site_posts_accepted(app: TestApp, _backend: u8) {
    let admin = app.create_user(Role::Admin).await;
    let (token, _) =
        accounts::create_session(&app.db, admin.id, "127.0.0.1", SessionLimits::default())
            .await
            .unwrap();
    let cookie = format!("avsweep_session={token}");
    let post = |origin: Option<(&'static str, String)>, cidr: &'static str| {
        let mut request = bare_client()
            .post(app.url("/api/subnets/add"))
            .header("cookie", cookie.clone())
            .form(&[("cidr", cidr), ("name", "CSRF lab")]);
        if let Some((name, value)) = origin {
            request = request.header(name, value);
        }
        request.send()
    };
    for (origin, label) in [
        (
            Some(("origin", "http://evil.example".to_owned())),
            "another site",
        ),
        (
            Some(("origin", format!("http://{}.evil.example", app.addr))),
            "a look-alike host",
        ),
        (
            Some(("referer", "http://evil.example/form".to_owned())),
            "a foreign referer",
        ),
        (None, "no Origin or Referer at all"),
    ] {
        let response = post(origin, "127.91.0.0/24").await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{label}");
        let body = response.text().await.unwrap();
        assert!(
            body.contains("did not come from avsweep's own pages"),
            "{body}"
        );
    }
    assert!(
        subnets::list(&app.db).await.unwrap().is_empty(),
        "nothing stored"
    );
    // Sign-in itself is protected too (login CSRF).
    let response = bare_client()
        .post(app.url("/auth/login"))
        .header("origin", "http://evil.example")
        .form(&[
            ("username", admin.username.as_str()),
            ("password", TEST_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    let response = post(Some(("origin", app.origin())), "127.91.0.0/24")
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("Created"));
    let response = post(
        Some(("referer", format!("{}/subnets/new", app.origin()))),
        "127.91.1.0/24",
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200, "a same-site Referer is enough");
    assert_eq!(subnets::list(&app.db).await.unwrap().len(), 2);
}

async fn api_tokens_work_without_origin_until_revoked(app: TestApp, _backend: u8) {
    let helpdesk = app.create_user(Role::Helpdesk).await;
    let (token, stored) = accounts::create_api_token(&app.db, helpdesk.id, "script")
        .await
        .unwrap();
    let call = |token: String| {
        bare_client()
            .post(app.url("/api/subnets/list"))
            .header("authorization", format!("Bearer {token}"))
            .send()
    };
    let response = call(token.clone()).await.unwrap();
    assert_eq!(
        response.status(),
        200,
        "no Origin needed: a token is no ambient authority"
    );
    // The token carries its owner's role.
    let response = bare_client()
        .post(app.url("/api/subnets/add"))
        .header("authorization", format!("Bearer {token}"))
        .form(&[("cidr", "127.92.0.0/24"), ("name", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    accounts::revoke_api_token(&app.db, helpdesk.id, stored.id)
        .await
        .unwrap();
    let response = call(token).await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "a revoked token is refused"
    );
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("not valid or was revoked")
    );
    let response = call("avs_made_up".into()).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

async fn server_functions_refuse_anonymous_and_roles_without_the_capability(
    app: TestApp,
    backend: u8,
) {
    let subnet = subnets::create(&app.db, &format!("127.93.{backend}.0/30"), "Roles")
        .await
        .unwrap();
    let response = app
        .browser()
        .post(app.url("/api/subnets/list"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.text().await.unwrap().contains("Sign in"));

    let manager = app.sign_in(Role::Manager).await;
    let subnet_id = subnet.id.to_string();
    let response = manager
        .post_form("/api/scans/start", &[("subnet_id", subnet_id.as_str())])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Your role (manager) may not")
    );
    let response = manager
        .http
        .get(manager.url("/subnets/new"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "the page too");
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("may not open this page")
    );

    let helpdesk = app.sign_in(Role::Helpdesk).await;
    let response = helpdesk
        .post_form("/api/scans/start", &[("subnet_id", subnet_id.as_str())])
        .await;
    assert_eq!(response.status(), 200);
    let audit = storage::audit::list(&app.db, None, 20).await.unwrap();
    let start = audit.iter().find(|a| a.action == "scan.start").unwrap();
    assert_eq!(start.actor, helpdesk.username);
    assert_eq!(start.source.as_deref(), Some("127.0.0.1"));
    let job = storage::scans::active_for_subnet(&app.db, subnet.id)
        .await
        .unwrap();
    if let Some(job) = job {
        let job_id = job.id.to_string();
        let response = helpdesk
            .post_form("/api/scans/cancel", &[("scan_id", job_id.as_str())])
            .await;
        assert_eq!(response.status(), 200);
        let audit = storage::audit::list(&app.db, Some(&format!("scan:{}", job.id)), 20)
            .await
            .unwrap();
        assert!(
            audit
                .iter()
                .any(|a| a.action == "scan.cancel" && a.actor == helpdesk.username)
        );
    }
}

async fn a_disabled_account_is_signed_out_at_once(app: TestApp, _backend: u8) {
    let _admin = app.create_user(Role::Admin).await;
    let manager = app.sign_in(Role::Manager).await;
    assert_eq!(
        manager
            .http
            .get(manager.url("/"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    accounts::set_disabled(&app.db, manager.user_id, true)
        .await
        .unwrap();
    let response = manager.http.get(manager.url("/")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}
