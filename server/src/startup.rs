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
    router: Router,
    addr: SocketAddr,
    db: Db,
    shutdown: watch::Sender<bool>,
    workers: Vec<tokio::task::JoinHandle<()>>,
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
        let listener = TcpListener::bind(config.listen_addr)
            .await
            .map_err(|source| ServerError::Bind {
                addr: config.listen_addr.to_string(),
                source,
            })?;
        let addr = listener.local_addr().map_err(ServerError::Serve)?;
        let leptos_options = LeptosOptions::builder()
            .output_name("avsweep")
            .site_root(config.site_root.as_str())
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .build();
        let router = router(
            AppState {
                leptos_options,
                db: db.clone(),
                import_max_bytes: ImportMaxBytes(config.import_max_bytes),
                scan_policy: app::api::ScanPolicy {
                    address_cap: config.scan_address_cap,
                },
            },
            config.auth,
        );
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
            router,
            addr,
            db,
            shutdown,
            workers,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Serves until Ctrl-C or SIGTERM, then lets the workers save their progress.
    pub async fn run_until_stopped(self) -> Result<(), ServerError> {
        tracing::info!("avsweep listening on http://{}", self.addr);
        // The client address reaches the auth layer (audit "from where", throttling).
        let served = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await;
        let _ = self.shutdown.send(true);
        for worker in self.workers {
            let _ = worker.await;
        }
        served.map_err(ServerError::Serve)
    }
}

fn router(state: AppState, auth_settings: AuthSettings) -> Router {
    let routes = generate_route_list(app::App);
    let auth_state = AuthState {
        db: state.db.clone(),
        settings: auth_settings,
    };
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
