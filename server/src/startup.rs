//! Builds the HTTP application and the scan workers from a [`Config`].

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::routing::get;
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
use crate::{ServerError, scheduler, worker};

/// Requests slower than this are answered 408 rather than held open.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, FromRef)]
struct AppState {
    leptos_options: LeptosOptions,
    db: Db,
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
            },
            config.auth,
        );
        let (shutdown, shutdown_rx) = watch::channel(false);
        let mut workers: Vec<_> = (0..config.scan_workers)
            .map(|n| {
                tokio::spawn(worker::run(
                    db.clone(),
                    n,
                    config.scan_sockets,
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
    let provide_db = move || provide_context(db.clone());
    let options = state.leptos_options.clone();
    Router::new()
        .route("/healthz", get(health))
        .route(
            "/subnets/{id}/gaps.csv",
            get(crate::routes::export::subnet_gaps_csv),
        )
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
        .layer(TraceLayer::new_for_http())
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
