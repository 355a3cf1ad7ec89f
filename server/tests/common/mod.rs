//! `TestApp`: the real server on port 0 with a fresh database per test.
// Each test crate uses a different part of these helpers.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use app::auth::Role;

use server::config::Config;
use server::startup::Application;
use storage::Db;
use storage::entities::scan_job;
use storage::testing::{Backend, TestDb};

pub struct TestApp {
    pub addr: SocketAddr,
    pub db: Db,
    /// The first-admin link the server printed (its database had no admin).
    pub setup_link: Option<String>,
    pub http: reqwest::Client,
    _test_db: TestDb,
    _data_dir: tempfile::TempDir,
}

/// Starts avsweep on a free port; `None` when the backend is unavailable outside CI.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// As [`spawn_app`], with settings changed by `adjust` before the start.
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Option<TestApp> {
    let test_db = TestDb::new(backend).await?;
    let data_dir = tempfile::tempdir().expect("temporary data dir");
    let mut config = Config {
        listen_addr: "127.0.0.1:0".parse().expect("loopback address"),
        database_url: test_db.url.clone(),
        data_dir: data_dir.path().to_owned(),
        site_root: data_dir.path().display().to_string(),
        scan_workers: 1,
        // Tests run several servers in one process: keep each scan's share of descriptors small.
        scan_sockets: 1024,
        dns_servers: Vec::new(),
        auth: server::auth::AuthSettings::default(),
        scan_address_cap: server::config::DEFAULT_SCAN_ADDRESS_CAP,
        scan_rate: None,
        import_max_bytes: server::config::DEFAULT_IMPORT_MAX_BYTES,
        setup_link_minutes: 15,
        tls: None,
    };
    adjust(&mut config);
    let app = Application::build(config).await.expect("the server starts");
    let addr = app.addr();
    let db = app.db().clone();
    let setup_link = app.setup_link().map(str::to_owned);
    tokio::spawn(app.run_until_stopped());
    Some(TestApp {
        addr,
        db,
        setup_link,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client"),
        _test_db: test_db,
        _data_dir: data_dir,
    })
}

/// The password every test account gets.
pub const TEST_PASSWORD: &str = "test password 12345";

/// A browser-like client signed in over HTTP: it keeps the session cookie and
/// sends this server's `Origin` on every request (as browsers do on posts),
/// so it passes the CSRF check.
pub struct SignedIn {
    pub http: reqwest::Client,
    pub username: String,
    pub user_id: i32,
    pub role: Role,
    base: String,
}

impl SignedIn {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GETs a page and returns its body, whatever the status.
    pub async fn get_text(&self, path: &str) -> String {
        let response = self
            .http
            .get(self.url(path))
            .send()
            .await
            .expect("GET answers");
        response.text().await.expect("a readable body")
    }

    /// POSTs a form (a server function call) and returns the response.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .expect("POST answers")
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A client with a cookie jar that sends this server's Origin, not signed in.
    pub fn browser(&self) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::ORIGIN,
            self.origin().parse().expect("a valid Origin header"),
        );
        reqwest::Client::builder()
            .cookie_store(true)
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client")
    }

    /// Creates an account with this role (a fresh name each call) and returns its name.
    pub async fn create_user(&self, role: Role) -> storage::entities::user::Model {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "{}{}",
            role.as_str(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        storage::accounts::create_user(&self.db, &name, TEST_PASSWORD, role.as_str())
            .await
            .expect("create a test account")
    }

    /// Creates an account with `role` and signs it in through `POST /auth/login`.
    pub async fn sign_in(&self, role: Role) -> SignedIn {
        let account = self.create_user(role).await;
        let http = self.browser();
        let response = http
            .post(self.url("/auth/login"))
            .form(&[
                ("username", account.username.as_str()),
                ("password", TEST_PASSWORD),
                ("next", "/"),
            ])
            .send()
            .await
            .expect("the sign-in form answers");
        assert_eq!(response.status(), 303, "sign-in redirects");
        assert_eq!(
            response
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok()),
            Some("/"),
            "signed in as {}",
            account.username
        );
        SignedIn {
            http,
            username: account.username,
            user_id: account.id,
            role,
            base: format!("http://{}", self.addr),
        }
    }

    /// GETs a page and returns its body, whatever the status.
    pub async fn get_text(&self, path: &str) -> String {
        let response = self
            .http
            .get(self.url(path))
            .send()
            .await
            .expect("GET answers");
        response.text().await.expect("a readable body")
    }

    /// Waits until the scan has ended (done, cancelled or failed).
    pub async fn wait_for_scan(&self, scan_id: i32, limit: Duration) -> scan_job::Model {
        let started = Instant::now();
        loop {
            let job = storage::scans::get(&self.db, scan_id)
                .await
                .expect("scan exists");
            if !storage::scans::JobStatus::parse(&job.status).is_some_and(|s| s.is_active()) {
                return job;
            }
            assert!(
                started.elapsed() < limit,
                "scan {scan_id} still {} after {limit:?}",
                job.status
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Runs an async test body against a spawned app once per backend.
#[macro_export]
macro_rules! app_test_on_both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = $crate::common::spawn_app(storage::testing::Backend::Sqlite).await
                        .expect("sqlite is always available");
                    super::$name(app, 1).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some(app) = $crate::common::spawn_app(storage::testing::Backend::Postgres).await else {
                        return;
                    };
                    super::$name(app, 2).await;
                }
            }
        )+
    };
}

/// A client allowed to do everything an admin may.
#[allow(dead_code)] // not every test binary uses it
pub async fn admin_client(app: &TestApp) -> reqwest::Client {
    app.sign_in(app::auth::Role::Admin).await.http
}
