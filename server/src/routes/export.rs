//! CSV downloads of exactly what a filtered gap list shows, every page of it.

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use app::api::views::GapParams;
use app::auth::{Capability, CurrentUser};
use storage::history::MAX_GAP_PAGE;
use storage::{Db, StorageError};

/// `GET /subnets/:id/gaps.csv?<the gap list's query>`.
pub async fn subnet_gaps_csv(
    State(db): State<Db>,
    Path(subnet_id): Path<i32>,
    Query(params): Query<GapParams>,
    user: Option<Extension<CurrentUser>>,
) -> Response {
    let user = match crate::auth::check(user, Capability::Export) {
        Ok(user) => user,
        Err(denied) => return denied.into_response(),
    };
    match gaps_csv(&db, subnet_id, &params).await {
        Ok(body) => {
            tracing::info!(user = %user.username, subnet = subnet_id, "gap list exported");
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"subnet-{subnet_id}-gaps.csv\""),
                    ),
                ],
                body,
            )
                .into_response()
        }
        Err(StorageError::NotFound { .. }) => (
            StatusCode::NOT_FOUND,
            format!("There is no subnet {subnet_id}."),
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, subnet = subnet_id, "gap export failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The database could not answer; see the server log for details.",
            )
                .into_response()
        }
    }
}

/// The CSV of every gap host the filters in `params` match (paging ignored).
pub async fn gaps_csv(db: &Db, subnet_id: i32, params: &GapParams) -> Result<String, StorageError> {
    let rows = gap_rows(db, subnet_id, params).await?;
    Ok(to_csv(
        &[
            "address",
            "dns_name",
            "verdict",
            "device_class",
            "remediation",
            "ports",
        ],
        &rows,
    ))
}

async fn gap_rows(
    db: &Db,
    subnet_id: i32,
    params: &GapParams,
) -> Result<Vec<Vec<String>>, StorageError> {
    storage::subnets::get(db, subnet_id).await?;
    let mut query = params.to_gap_query();
    query.limit = MAX_GAP_PAGE;
    query.offset = 0;
    let mut rows = Vec::new();
    let mut scan_id = None;
    loop {
        let page = storage::history::gaps(db, subnet_id, &query).await?;
        // A scan finishing mid-export would mix two scans: start over on the new one.
        if scan_id.is_some() && scan_id != page.scan_id {
            rows.clear();
            query.offset = 0;
            scan_id = page.scan_id;
            continue;
        }
        scan_id = page.scan_id;
        let fetched = page.rows.len() as u64;
        for row in page.rows {
            let host = app::api::views::ssr::gap_host(row)?;
            rows.push(vec![
                host.address,
                host.dns_name.unwrap_or_default(),
                host.verdict,
                host.device_class,
                host.remediation.unwrap_or_default(),
                host.ports,
            ]);
        }
        if fetched < query.limit {
            return Ok(rows);
        }
        query.offset += fetched;
    }
}

/// RFC 4180 CSV whose cells a spreadsheet will never run as formulas.
pub fn to_csv(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let line = |cells: &mut dyn Iterator<Item = &str>, out: &mut String| {
        let cells: Vec<String> = cells.map(csv_cell).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    };
    line(&mut header.iter().copied(), &mut out);
    for row in rows {
        line(&mut row.iter().map(String::as_str), &mut out);
    }
    out
}

/// One cell: a leading = + - @ (or tab / carriage return) gets a ' so it
/// stays text; quotes, commas and line breaks are quoted.
pub fn csv_cell(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_like_cells_stay_text() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-2"), "'-2");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("127.0.0.1"), "127.0.0.1");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
    }

    #[test]
    fn rows_end_with_crlf_after_a_header() {
        let csv = to_csv(&["a", "b"], &[vec!["1".into(), "x\ny".into()]]);
        assert_eq!(csv, "a,b\r\n1,\"x\ny\"\r\n");
    }
}
