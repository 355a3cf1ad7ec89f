//! Builds the HTTP application and the scan workers from a [`Config`].

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRef, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use storage::Db;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::{self, AuthSettings, AuthState};
use crate::config::Config;
use crate::import::{self, ImportMaxBytes};
use crate::{ServerError, scheduler, worker};

/// Requests slower than this are answered 408 rather than held open.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Request bodies (forms, server function arguments) larger than this are
/// answered 413 before they are read; only the import upload takes more.
pub const REQUEST_BODY_LIMIT: usize = 1024 * 1024;
/// Where nmap XML files are uploaded.
pub const IMPORT_PATH: &str = "/api/import";
/// For responses that set no policy of their own (pages set one with a nonce).
const FALLBACK_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

#[derive(Clone, FromRef)]
struct AppState {
    leptos_options: LeptosOptions,
    db: Db,
    import_max_bytes: ImportMaxBytes,
    scan_policy: app::api::ScanPolicy,
}

/// A bound, not yet serving, avsweep: tests build one on port 0.
pub struct Application {
    listener: TcpListener,
    /// HTTPS settings when `tls_cert`/`tls_key` are set.
    tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    router: Router,
    addr: SocketAddr,
    db: Db,
    shutdown: watch::Sender<bool>,
    workers: Vec<tokio::task::JoinHandle<()>>,
    setup_link: Option<String>,
}

impl Application {
    pub async fn build(config: Config) -> Result<Application, ServerError> {
        let db = Db::open(&config.database_url).await?;
        tracing::info!(database = %storage::redact_url(&config.database_url), "database ready");
        let requeued = storage::scans::recover_interrupted(&db).await?;
        if requeued > 0 {
            tracing::warn!(
                requeued,
                "scans interrupted by the last shutdown will resume"
            );
        }
        // Read before binding: a wrong path fails the start with a clear message.
        let tls = match &config.tls {
            Some(files) => Some(crate::tls::server_config(&files.cert, &files.key)?),
            None => None,
        };
        let listener = TcpListener::bind(config.listen_addr)
            .await
            .map_err(|source| ServerError::Bind {
                addr: config.listen_addr.to_string(),
                source,
            })?;
        let addr = listener.local_addr().map_err(ServerError::Serve)?;
        let leptos_options = LeptosOptions::builder()
            .output_name(crate::routes::assets::output_name())
            .site_root(config.site_root.as_str())
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .build();
        let setup = std::sync::Arc::new(auth::setup::SetupLink::new(config.setup_link_minutes));
        let setup_link = if storage::accounts::active_admin_count(&db).await? == 0 {
            let token = setup.issue().await;
            let link = setup_url(addr, tls.is_some(), &token);
            announce_setup_link(&link, config.setup_link_minutes);
            Some(link)
        } else {
            None
        };
        let router = router(
            AppState {
                leptos_options,
                db: db.clone(),
                import_max_bytes: ImportMaxBytes(config.import_max_bytes),
                scan_policy: app::api::ScanPolicy {
                    address_cap: config.scan_address_cap,
                },
            },
            AuthState {
                db: db.clone(),
                settings: AuthSettings {
                    // A session cookie served over HTTPS never travels in clear.
                    cookie_secure: config.auth.cookie_secure || tls.is_some(),
                    ..config.auth
                },
                setup,
            },
        );
        let router = if tls.is_some() {
            // Browsers that saw HTTPS once never fall back to plain HTTP.
            router.layer(SetResponseHeaderLayer::if_not_present(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000"),
            ))
        } else {
            router
        };
        let (shutdown, shutdown_rx) = watch::channel(false);
        let mut workers: Vec<_> = (0..config.scan_workers)
            .map(|n| {
                tokio::spawn(worker::run(
                    db.clone(),
                    n,
                    worker::ScanSettings {
                        sockets: config.scan_sockets,
                        dns_servers: config.dns_servers.clone(),
                        default_rate: config.scan_rate,
                    },
                    shutdown_rx.clone(),
                ))
            })
            .collect();
        workers.push(tokio::spawn(scheduler::run(
            db.clone(),
            shutdown_rx.clone(),
        )));
        Ok(Application {
            listener,
            tls,
            router,
            addr,
            db,
            shutdown,
            workers,
            setup_link,
        })
    }

    /// The first-admin link printed at start, when the database has no admin.
    pub fn setup_link(&self) -> Option<&str> {
        self.setup_link.as_deref()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Serves until Ctrl-C or SIGTERM, then lets the workers save their progress.
    pub async fn run_until_stopped(self) -> Result<(), ServerError> {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        tracing::info!("avsweep listening on {scheme}://{}", self.addr);
        // The client address reaches the auth layer (audit "from where", throttling).
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let served = match self.tls {
            Some(tls) => {
                use axum::serve::ListenerExt;
                let listener = crate::tls::TlsListener::new(self.listener, tls)
                    .map_err(ServerError::Serve)?
                    // `tap_io` gives the listener axum's ConnectInfo<SocketAddr>.
                    .tap_io(|_| ());
                axum::serve(listener, service)
                    .with_graceful_shutdown(shutdown_signal())
                    .await
            }
            None => {
                axum::serve(self.listener, service)
                    .with_graceful_shutdown(shutdown_signal())
                    .await
            }
        };
        let _ = self.shutdown.send(true);
        for worker in self.workers {
            let _ = worker.await;
        }
        served.map_err(ServerError::Serve)
    }
}

/// `http://host:port/setup?token=…`, with a wildcard listen address shown as
/// this machine's loopback (the link works from here without a time limit).
fn setup_url(addr: SocketAddr, https: bool, token: &str) -> String {
    let host = match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_owned(),
        ip if ip.is_unspecified() => "[::1]".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        std::net::IpAddr::V4(ip) => ip.to_string(),
    };
    let scheme = if https { "https" } else { "http" };
    format!("{scheme}://{host}:{}/setup?token={token}", addr.port())
}

/// To the log and to stderr (what `scripts/start` and `journalctl` show).
fn announce_setup_link(link: &str, remote_minutes: u32) {
    tracing::warn!(%link, "no admin account yet: open the setup link to create the first admin");
    let remote = if remote_minutes == 0 {
        "only from this machine".to_owned()
    } else {
        format!("from this machine until used, from others for {remote_minutes} minutes")
    };
    eprintln!(
        "\n  No admin account yet. Create the first one here (works once; {remote}):\n\n    {link}\n\n  \
         Or on the server: avsweep user add NAME --role admin\n"
    );
}

fn router(state: AppState, auth_state: AuthState) -> Router {
    let routes = generate_route_list(app::App);
    let db = state.db.clone();
    let policy = state.scan_policy.clone();
    let provide_db = move || {
        provide_context(db.clone());
        provide_context(policy.clone());
    };
    let options = state.leptos_options.clone();
    let import_limit = state.import_max_bytes;
    Router::new()
        .route("/healthz", get(health))
        .route(
            "/api/scans/{id}/events",
            get(crate::routes::events::scan_events),
        )
        .route(
            "/subnets/{id}/gaps.csv",
            get(crate::routes::export::subnet_gaps_csv),
        )
        .route(IMPORT_PATH, post(import::upload))
        .leptos_routes_with_context(&state, routes, provide_db.clone(), move || {
            app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(provide_db, app::shell))
        .with_state(state)
        .merge(auth::routes(auth_state.clone()))
        .layer(axum::middleware::from_fn_with_state(
            auth_state,
            auth::authenticate,
        ))
        .layer(axum::middleware::from_fn(server_fn_input_errors_are_400))
        .layer(axum::middleware::from_fn(
            move |request: Request, next: Next| limit_request_body(import_limit, request, next),
        ))
        // Embedded site files (release builds) are public and answer before any session check.
        .layer(axum::middleware::from_fn(
            crate::routes::assets::serve_embedded,
        ))
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("referrer-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(FALLBACK_CSP),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(TraceLayer::new_for_http())
}

/// Reads at most the route's limit of a request body: an announced length
/// over it is refused before reading, a chunked body as soon as it passes it.
/// Everything downstream then gets a body already in memory.
async fn limit_request_body(
    import_limit: ImportMaxBytes,
    request: Request,
    next: Next,
) -> Response {
    let is_import = request.uri().path() == IMPORT_PATH;
    let limit = if is_import {
        import_limit.0
    } else {
        REQUEST_BODY_LIMIT
    };
    let too_large = || {
        if is_import {
            import::too_large(limit)
        } else {
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "The request body is larger than {limit} bytes; no form here needs that much. Shorten the input."
                ),
            )
                .into_response()
        }
    };
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<u64>().ok());
    if announced.is_some_and(|length| length > limit as u64) {
        return too_large();
    }
    let (parts, body) = request.into_parts();
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return (
                StatusCode::BAD_REQUEST,
                "The request body broke off; send it again.",
            )
                .into_response();
        };
        if bytes.len() + chunk.len() > limit {
            // Read (and drop) a bounded overshoot so the client hears the 413
            // instead of a connection reset; anything bigger is cut off.
            let drain = tokio::time::timeout(Duration::from_secs(2), async {
                let mut drained = 0usize;
                while let Some(Ok(chunk)) = stream.next().await {
                    drained += chunk.len();
                    if drained > limit {
                        break;
                    }
                }
            });
            let _ = drain.await;
            return too_large();
        }
        bytes.extend_from_slice(&chunk);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Server functions answer arguments they cannot decode (a malformed form or
/// JSON body, a missing field, a number out of range) with 500; that is the
/// client's mistake, so it becomes 400 with the same message.
async fn server_fn_input_errors_are_400(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key("serverfnerror")
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, REQUEST_BODY_LIMIT).await else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "The server could not answer.",
        )
            .into_response();
    };
    let text = String::from_utf8_lossy(&bytes);
    let Some((kind, detail)) = text.split_once('|') else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    if !matches!(kind, "Args" | "MissingArg" | "Deserialization") {
        return Response::from_parts(parts, Body::from(bytes));
    }
    parts.status = StatusCode::BAD_REQUEST;
    parts.headers.remove(header::CONTENT_LENGTH);
    // Same encoding (the browser half decodes it), with words for people.
    let message = format!(
        "{kind}|The request could not be read: {detail}. Send each field in the form it expects (ids and rates as whole numbers, confirmations as true or false)."
    );
    Response::from_parts(parts, Body::from(message))
}

/// Liveness and database check for load balancers and tests.
async fn health(State(db): State<Db>) -> (StatusCode, &'static str) {
    use storage::DatabaseConnection;
    let conn: &DatabaseConnection = db.conn();
    match conn.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(error) => {
            tracing::error!(%error, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
