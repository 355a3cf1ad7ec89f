//! `GET /api/scans/{id}/events`: a scan's progress as server-sent events.
//!
//! Each `progress` event carries the scan's [`ScanProgress`] as JSON; the
//! stream ends with one `done` event once the scan is done, cancelled or
//! failed. Updates are pushed when the worker stores progress (the storage
//! layer's [`JobSignal`]s) and, in case the scan runs in another server on
//! the same database, at least once a second.

use std::convert::Infallible;
use std::time::Duration;

use app::api::ops::ScanProgress;
use app::auth::{Capability, CurrentUser};
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use storage::{Db, JobSignal, StorageError};
use tokio::sync::broadcast;

/// Without a signal, the stream still re-reads the scan this often.
const POLL_EVERY: Duration = Duration::from_secs(1);

pub async fn scan_events(
    State(db): State<Db>,
    user: Option<Extension<CurrentUser>>,
    Path(scan_id): Path<i32>,
) -> Response {
    if let Err(denied) = crate::auth::check(user, Capability::ViewCoverage) {
        return denied.into_response();
    }
    match storage::scans::get(&db, scan_id).await {
        Ok(_) => {}
        Err(StorageError::NotFound { .. }) => {
            return (
                StatusCode::NOT_FOUND,
                format!("There is no scan {scan_id}."),
            )
                .into_response();
        }
        Err(error) => {
            tracing::error!(%error, scan = scan_id, "cannot read a scan for its event stream");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "The database could not answer; try again.",
            )
                .into_response();
        }
    }
    let events = progress_stream(db, scan_id);
    Sse::new(futures::StreamExt::map(events, |update| {
        Ok::<_, Infallible>(to_event(&update))
    }))
    .keep_alive(KeepAlive::default())
    .into_response()
}

/// One update of a scan's progress stream.
#[derive(Clone, Debug, PartialEq)]
pub enum ProgressUpdate {
    Progress(ScanProgress),
    /// The scan ended; the last state it reached.
    Done(ScanProgress),
}

fn to_event(update: &ProgressUpdate) -> Event {
    let (name, progress) = match update {
        ProgressUpdate::Progress(p) => ("progress", p),
        ProgressUpdate::Done(p) => ("done", p),
    };
    let data = serde_json::to_string(progress).unwrap_or_else(|_| "{}".into());
    Event::default().event(name).data(data)
}

/// The scan's state now, then after every change, ending with its final
/// state as [`ProgressUpdate::Done`] (a scan that has already ended gives its
/// state as one progress event, then done). A scan that no longer exists ends the stream.
pub fn progress_stream(db: Db, scan_id: i32) -> impl Stream<Item = ProgressUpdate> {
    struct Follow {
        db: Db,
        signals: broadcast::Receiver<JobSignal>,
        first: bool,
        ended: bool,
        /// The final state of a scan that had ended before the first read.
        ended_with: Option<ScanProgress>,
        last: Option<ScanProgress>,
    }
    let state = Follow {
        signals: db.subscribe(),
        db,
        first: true,
        ended: false,
        ended_with: None,
        last: None,
    };
    futures::stream::unfold(state, move |mut state| async move {
        if state.ended {
            return None;
        }
        if let Some(progress) = state.ended_with.take() {
            state.ended = true;
            return Some((ProgressUpdate::Done(progress), state));
        }
        loop {
            if !state.first {
                // Wait for this scan's signal or the poll interval, whichever comes first.
                let _ = tokio::time::timeout(POLL_EVERY, async {
                    loop {
                        match state.signals.recv().await {
                            Ok(JobSignal::Progress(id) | JobSignal::Finished(id))
                                if id == scan_id =>
                            {
                                return;
                            }
                            Err(broadcast::error::RecvError::Lagged(_)) => return,
                            Err(broadcast::error::RecvError::Closed) => {
                                std::future::pending::<()>().await
                            }
                            Ok(_) => {}
                        }
                    }
                })
                .await;
            }
            let first_read = std::mem::replace(&mut state.first, false);
            let job = match storage::scans::get(&state.db, scan_id).await {
                Ok(job) => job,
                Err(error) => {
                    tracing::warn!(%error, scan = scan_id, "scan event stream ends");
                    return None;
                }
            };
            let progress = app::api::ops::ssr::progress_of(&job, chrono::Utc::now());
            if !progress.is_active() {
                if first_read {
                    // A scan that ended before the client connected still
                    // opens with its state, so every stream reads the same way.
                    state.ended_with = Some(progress.clone());
                    return Some((ProgressUpdate::Progress(progress), state));
                }
                state.ended = true;
                return Some((ProgressUpdate::Done(progress), state));
            }
            // Unchanged counters are not sent again (the rate alone does not count).
            let changed = state.last.as_ref().is_none_or(|last| {
                (
                    last.status.as_str(),
                    last.done_addresses,
                    last.hosts_up,
                    last.protected,
                    last.unprotected,
                    last.unknown,
                    last.out_of_scope,
                ) != (
                    progress.status.as_str(),
                    progress.done_addresses,
                    progress.hosts_up,
                    progress.protected,
                    progress.unprotected,
                    progress.unknown,
                    progress.out_of_scope,
                )
            });
            if changed {
                state.last = Some(progress.clone());
                return Some((ProgressUpdate::Progress(progress), state));
            }
        }
    })
}
