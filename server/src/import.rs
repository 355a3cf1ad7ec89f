//! Importing nmap XML files as finished scans: the HTTP upload
//! (`POST /api/import?subnet_id=N`, the XML as the body) and the command line
//! (`avsweep import FILE --subnet CIDR`). Both refuse oversized files before
//! parsing, and store nothing from a file they refuse.

use std::path::Path;

use app::auth::{Capability, CurrentUser};
use axum::Json;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use scanner::import::{ImportLimits, ImportedScan, parse_nmap_xml};
use serde::Serialize;
use storage::{Db, StorageError};

/// The largest upload, in bytes (`AVSWEEP_IMPORT_MAX_BYTES`).
#[derive(Clone, Copy, Debug)]
pub struct ImportMaxBytes(pub usize);

/// What the upload answers, success or not.
#[derive(Debug, Serialize)]
pub struct ImportAnswer {
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scan_id: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imported: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outside_subnet: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excluded: Option<usize>,
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        Json(ImportAnswer {
            message: message.into(),
            scan_id: None,
            imported: None,
            outside_subnet: None,
            excluded: None,
        }),
    )
        .into_response()
}

/// `POST /api/import?subnet_id=N` with the nmap XML file as the body.
/// Admins and helpdesk (who may run scans) only.
pub async fn upload(
    State(db): State<Db>,
    State(ImportMaxBytes(max_bytes)): State<ImportMaxBytes>,
    RawQuery(query): RawQuery,
    request: Request<Body>,
) -> Response {
    let user = request.extensions().get::<CurrentUser>().cloned();
    let Some(user) = user else {
        return refuse(StatusCode::UNAUTHORIZED, "Sign in to continue.");
    };
    if !user.can(Capability::RunScans) {
        return refuse(
            StatusCode::FORBIDDEN,
            format!(
                "Your role ({}) may not import scans; ask an administrator.",
                user.role.as_str()
            ),
        );
    }
    let subnet_id = match subnet_id_from(query.as_deref()) {
        Ok(id) => id,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, message),
    };
    let body = match axum::body::to_bytes(request.into_body(), max_bytes).await {
        Ok(body) => body,
        Err(_) => return too_large(max_bytes),
    };
    let limits = ImportLimits {
        max_bytes,
        ..ImportLimits::default()
    };
    // Parsing a 20 MB file takes a while: off the async threads.
    let parsed = tokio::task::spawn_blocking(move || parse_nmap_xml(&body, &limits)).await;
    let scan = match parsed {
        Ok(Ok(scan)) => scan,
        Ok(Err(error @ scanner::Error::ImportTooLarge { .. })) => {
            return refuse(StatusCode::PAYLOAD_TOO_LARGE, error.to_string());
        }
        Ok(Err(error)) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, error.to_string()),
        Err(error) => {
            tracing::error!(%error, "the import parser stopped");
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The file could not be read; see the server log.",
            );
        }
    };
    let actor = user.username.clone();
    match storage::imports::import_scan(&db, subnet_id, &actor, &scan).await {
        Ok(outcome) => {
            tracing::info!(scan = outcome.job.id, subnet = subnet_id, user = %actor, imported = outcome.imported, "nmap XML imported");
            (
                StatusCode::OK,
                Json(ImportAnswer {
                    message: outcome.message(),
                    scan_id: Some(outcome.job.id),
                    imported: Some(outcome.imported),
                    outside_subnet: Some(outcome.outside_subnet),
                    excluded: Some(outcome.excluded),
                }),
            )
                .into_response()
        }
        Err(error @ StorageError::Invalid(_)) => {
            refuse(StatusCode::UNPROCESSABLE_ENTITY, error.to_string())
        }
        Err(error @ StorageError::NotFound { .. }) => refuse(
            StatusCode::NOT_FOUND,
            format!("{error}; pick one of the subnets on the overview page."),
        ),
        Err(error) => {
            tracing::error!(%error, "storing an import failed");
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The database could not store the import; see the server log.",
            )
        }
    }
}

pub fn too_large(max_bytes: usize) -> Response {
    refuse(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "The file is larger than {max_bytes} bytes, the import limit (AVSWEEP_IMPORT_MAX_BYTES). Split the scan into smaller files."
        ),
    )
}

fn subnet_id_from(query: Option<&str>) -> Result<i32, String> {
    let wanted = query
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == "subnet_id")
        .map(|(_, value)| value);
    let Some(value) = wanted else {
        return Err("Say which subnet the file scanned: add ?subnet_id=N (the number in the subnet page's address).".into());
    };
    match value.parse::<i32>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(format!(
            "subnet_id “{}” is not a subnet number; use the number in the subnet page's address.",
            value.chars().take(40).collect::<String>()
        )),
    }
}

/// Why a command-line import did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}; check that the file exists and is readable")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    File(#[from] scanner::Error),
    #[error(
        "no subnet {cidr} is defined; add it on the dashboard first (imports only go into subnets an administrator defined)"
    )]
    NoSuchSubnet { cidr: String },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// `avsweep import FILE --subnet CIDR`: reads, checks and stores the file.
pub async fn import_file(
    db: &Db,
    path: &Path,
    subnet_cidr: &str,
    max_bytes: usize,
    actor: &str,
) -> Result<storage::imports::ImportOutcome, ImportError> {
    let read_error = |source| ImportError::Read {
        path: path.display().to_string(),
        source,
    };
    let size = std::fs::metadata(path).map_err(read_error)?.len();
    if size > max_bytes as u64 {
        return Err(scanner::Error::ImportTooLarge {
            size,
            limit: max_bytes as u64,
        }
        .into());
    }
    let bytes = tokio::fs::read(path).await.map_err(read_error)?;
    let limits = ImportLimits {
        max_bytes,
        ..ImportLimits::default()
    };
    let scan: ImportedScan = parse_nmap_xml(&bytes, &limits)?;
    let wanted = storage::subnets::parse_cidr(subnet_cidr)
        .map_err(|message| StorageError::invalid("subnet", message))?;
    let subnet = storage::subnets::list(db)
        .await?
        .into_iter()
        .find(|subnet| storage::subnets::parse_cidr(&subnet.cidr).ok() == Some(wanted))
        .ok_or_else(|| ImportError::NoSuchSubnet {
            cidr: wanted.to_string(),
        })?;
    Ok(storage::imports::import_scan(db, subnet.id, actor, &scan).await?)
}
