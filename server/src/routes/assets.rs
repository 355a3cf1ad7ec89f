//! The web site embedded in a release binary (`cargo xtask dist`): the
//! hydration bundle and style sheet under content-hashed names with a
//! year-long `immutable` cache, the other static files with a day's cache.
//! A development build embeds nothing and serves `site_root` from disk.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_site.rs"));
}

const OUTPUT_NAME: &str = "avsweep";
const PKG_DIR: &str = "pkg";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const ONE_DAY: &str = "public, max-age=86400";

/// Is the site inside this binary?
pub fn is_embedded() -> bool {
    !embedded::FILES.is_empty()
}

/// The stem of the bundle's file names the pages ask for: `avsweep.<hash>`
/// when embedded (a new build never meets a stale cache), else `avsweep`.
pub fn output_name() -> String {
    if is_embedded() {
        format!("{OUTPUT_NAME}.{}", embedded::BUNDLE_HASH)
    } else {
        OUTPUT_NAME.to_owned()
    }
}

/// An embedded file for a request path, with its cache policy.
fn lookup(path: &str) -> Option<(&'static [u8], &'static str)> {
    let relative = path.strip_prefix('/')?;
    if let Some(file) = relative.strip_prefix(&format!("{PKG_DIR}/")) {
        // The bundle answers only to its hashed name.
        let hashed_prefix = format!("{OUTPUT_NAME}.{}.", embedded::BUNDLE_HASH);
        if let Some(extension) = file.strip_prefix(&hashed_prefix) {
            let stored = format!("{PKG_DIR}/{OUTPUT_NAME}.{extension}");
            return find(&stored).map(|bytes| (bytes, IMMUTABLE));
        }
        if file.starts_with(&format!("{OUTPUT_NAME}.")) {
            return None;
        }
        // wasm-bindgen snippets and other files the bundle loads by name.
        return find(relative).map(|bytes| (bytes, IMMUTABLE));
    }
    find(relative).map(|bytes| (bytes, ONE_DAY))
}

fn find(relative: &str) -> Option<&'static [u8]> {
    embedded::FILES
        .iter()
        .find(|(path, _)| *path == relative)
        .map(|(_, bytes)| *bytes)
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Middleware: answers GET/HEAD for embedded files, passes everything else on.
pub async fn serve_embedded(request: Request, next: axum::middleware::Next) -> Response {
    if !is_embedded()
        || !matches!(
            *request.method(),
            axum::http::Method::GET | axum::http::Method::HEAD
        )
    {
        return next.run(request).await;
    }
    let path = request.uri().path().to_owned();
    let Some((bytes, cache)) = lookup(&path) else {
        if path.starts_with(&format!("/{PKG_DIR}/")) {
            return StatusCode::NOT_FOUND.into_response();
        }
        return next.run(request).await;
    };
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&path)),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_cover_the_bundle() {
        assert_eq!(content_type("/pkg/avsweep.1234.wasm"), "application/wasm");
        assert_eq!(
            content_type("/pkg/avsweep.1234.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type("/pkg/avsweep.1234.css"),
            "text/css; charset=utf-8"
        );
        assert_eq!(content_type("/favicon.svg"), "image/svg+xml");
    }

    #[test]
    fn a_development_build_names_the_bundle_plainly() {
        if !is_embedded() {
            assert_eq!(output_name(), "avsweep");
            assert_eq!(lookup("/pkg/avsweep.js"), None);
        }
    }
}
