//! Authentication for every request: the session cookie or an API token
//! becomes an [`app::auth::CurrentUser`] in the request's extensions (what
//! `app::auth::ssr::require` and [`check`] read), anonymous page views go to
//! the sign-in page, and cross-site state changes are refused (CSRF).
//!
//! Rules, in order:
//! 1. Every request gets a [`ClientAddr`] extension (the audit log's "from where").
//! 2. `Authorization: Bearer <token>`: a live API token, or 401 at once.
//!    Otherwise the `avsweep_session` cookie, if it names a live session.
//! 3. A state-changing request (not GET/HEAD/OPTIONS) without a Bearer token
//!    must come from this site: its `Origin` (or, without one, `Referer`)
//!    must name the host it was sent to, else 403. A Bearer token is not sent
//!    by browsers on their own, so token requests are exempt.
//! 4. Page views (not `/api/…`, not public) need a signed-in user (else a
//!    redirect to `/login?next=…`) whose role may open the page (else 403).

mod login;
mod pages;
pub mod setup;

use std::net::SocketAddr;

use app::auth::{Capability, ClientAddr, CurrentUser, Role};
use axum::Extension;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::post;
use storage::Db;
use storage::accounts::SessionLimits;

pub use login::{login, logout, safe_next};
pub use pages::required_capability;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "avsweep_session";

/// How sessions and their cookie behave (from [`crate::config::Config`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AuthSettings {
    pub limits: SessionLimits,
    /// Adds `Secure` to the cookie: set when avsweep is reached over HTTPS.
    pub cookie_secure: bool,
}

#[derive(Clone)]
pub struct AuthState {
    pub db: Db,
    pub settings: AuthSettings,
    /// The first-admin link (open only on a database without an admin).
    pub setup: std::sync::Arc<setup::SetupLink>,
}

/// The sign-in and sign-out endpoints (plain form posts, so they work before
/// and without the browser app).
pub fn routes(state: AuthState) -> axum::Router {
    axum::Router::new()
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/setup", post(setup::create_first_admin))
        .with_state(state)
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("Sign in to continue.")]
    SignIn,
    #[error("The API token is not valid or was revoked; create a new one on your account page.")]
    BadToken,
    #[error("Your role ({0}) may not do this; ask an administrator.")]
    Role(&'static str),
    #[error(
        "This request did not come from avsweep's own pages (its Origin or Referer names another site), so it was refused. Reload the page and try again."
    )]
    CrossSite,
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        let status = match self {
            Denied::SignIn | Denied::BadToken => StatusCode::UNAUTHORIZED,
            Denied::Role(_) | Denied::CrossSite => StatusCode::FORBIDDEN,
        };
        (status, self.to_string()).into_response()
    }
}

/// For plain axum handlers (downloads, event streams): the signed-in user if
/// their role allows `capability`, else 401 "sign in" or 403 "your role may not".
///
/// ```ignore
/// async fn export(user: Option<Extension<CurrentUser>>) -> Result<String, Denied> {
///     let user = server::auth::check(user, Capability::Export)?;
///     …
/// }
/// ```
pub fn check(
    user: Option<Extension<CurrentUser>>,
    capability: Capability,
) -> Result<CurrentUser, Denied> {
    let Some(Extension(user)) = user else {
        return Err(Denied::SignIn);
    };
    if user.can(capability) {
        Ok(user)
    } else {
        Err(Denied::Role(user.role.as_str()))
    }
}

/// Paths anyone may load: health, static assets, the sign-in page itself.
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/healthz"
            | "/login"
            | "/setup"
            | "/favicon.svg"
            | "/favicon.ico"
            | "/auth/login"
            | "/auth/logout"
            | "/auth/setup"
    ) || path.starts_with("/pkg/")
}

fn is_safe_method(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The middleware; see the module documentation for the rules.
pub async fn authenticate(
    State(state): State<AuthState>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(ConnectInfo(addr)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
        let client = ClientAddr(addr.ip());
        request.extensions_mut().insert(client);
    }
    let path = request.uri().path().to_owned();
    if path.starts_with("/pkg/") || path == "/healthz" {
        return next.run(request).await;
    }

    let bearer = bearer_token(request.headers());
    let user = match &bearer {
        Some(token) => match storage::accounts::resolve_api_token(&state.db, token).await {
            Ok(Some(account)) => current_user(account),
            Ok(None) => return Denied::BadToken.into_response(),
            Err(error) => return unavailable(error),
        },
        None => match session_token(request.headers()) {
            Some(token) => {
                match storage::accounts::resolve_session(&state.db, &token, state.settings.limits)
                    .await
                {
                    Ok(account) => account.and_then(current_user),
                    Err(error) => return unavailable(error),
                }
            }
            None => None,
        },
    };

    if !is_safe_method(request.method()) && bearer.is_none() && !is_same_origin(request.headers()) {
        tracing::warn!(%path, method = %request.method(), "cross-site request refused");
        return Denied::CrossSite.into_response();
    }

    let is_page = !path.starts_with("/api/") && !is_public(&path);
    if is_page && is_safe_method(request.method()) {
        match &user {
            None => {
                let wanted = request
                    .uri()
                    .path_and_query()
                    .map(|pq| pq.as_str().to_owned())
                    .unwrap_or_else(|| path.clone());
                let target = format!("/login?next={}", percent_encode(&safe_next(&wanted)));
                return Redirect::to(&target).into_response();
            }
            Some(user) => {
                let capability = required_capability(&path);
                if !user.can(capability) {
                    return forbidden_page(user.role);
                }
            }
        }
    }

    if let Some(user) = user {
        request.extensions_mut().insert(user);
    }
    next.run(request).await
}

fn current_user(account: storage::entities::user::Model) -> Option<CurrentUser> {
    match Role::parse(&account.role) {
        Some(role) => Some(CurrentUser {
            id: account.id,
            username: account.username,
            role,
        }),
        None => {
            tracing::error!(user = account.id, role = %account.role, "an account has an unknown role; treated as signed out");
            None
        }
    }
}

fn unavailable(error: storage::StorageError) -> Response {
    tracing::error!(%error, "checking the session failed");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "The database could not be reached to check your sign-in; try again shortly.",
    )
        .into_response()
}

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// The session token from the `Cookie` header(s), if any.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty())
}

/// Whether `Origin` (or, without it, `Referer`) names the host the request
/// was sent to. The scheme is not compared: behind a TLS proxy the server
/// sees plain HTTP while the browser says https.
fn is_same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let claimed = headers
        .get(header::ORIGIN)
        .filter(|origin| origin.as_bytes() != b"null")
        .or_else(|| headers.get(header::REFERER))
        .and_then(|value| value.to_str().ok());
    let Some(claimed) = claimed else {
        return false;
    };
    let Some(rest) = claimed
        .strip_prefix("http://")
        .or_else(|| claimed.strip_prefix("https://"))
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    authority.eq_ignore_ascii_case(host)
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The session cookie: HttpOnly, SameSite=Strict, the whole site, `Secure` when configured.
fn session_cookie(token: &str, settings: &AuthSettings) -> HeaderValue {
    let max_age = settings.limits.absolute.num_seconds();
    let secure = if settings.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"
    );
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn expired_cookie(settings: &AuthSettings) -> HeaderValue {
    let secure = if settings.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{secure}");
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A small page for a role that may not open a page (the server's answer,
/// whatever the navigation shows).
fn forbidden_page(role: Role) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Not allowed · avsweep</title>\
         <link rel=\"stylesheet\" href=\"/pkg/avsweep.css\"></head>\
         <body><main id=\"main\" class=\"page\"><h1>Not allowed</h1>\
         <p class=\"notice error\" role=\"alert\">Your role ({}) may not open this page; ask an administrator.</p>\
         <p><a href=\"/\">Back to the overview</a></p></main></body></html>",
        role.as_str()
    );
    (StatusCode::FORBIDDEN, Html(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn same_origin_needs_origin_or_referer_naming_the_host() {
        let host = ("host", "127.0.0.1:3000");
        assert!(is_same_origin(&headers(&[
            host,
            ("origin", "http://127.0.0.1:3000")
        ])));
        assert!(is_same_origin(&headers(&[
            host,
            ("referer", "http://127.0.0.1:3000/subnets/new?x=1")
        ])));
        assert!(!is_same_origin(&headers(&[
            host,
            ("origin", "http://evil.example")
        ])));
        assert!(!is_same_origin(&headers(&[
            host,
            ("origin", "http://127.0.0.1:3000.evil.example")
        ])));
        assert!(!is_same_origin(&headers(&[host, ("origin", "null")])));
        assert!(!is_same_origin(&headers(&[host])), "no proof at all");
    }

    #[test]
    fn finds_the_session_cookie_among_others() {
        let map = headers(&[("cookie", "theme=dark; avsweep_session=abc123; x=y")]);
        assert_eq!(session_token(&map).as_deref(), Some("abc123"));
        assert_eq!(
            session_token(&headers(&[("cookie", "avsweep_session=")])),
            None
        );
    }

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        let map = headers(&[("authorization", "bearer avs_123")]);
        assert_eq!(bearer_token(&map).as_deref(), Some("avs_123"));
        assert_eq!(
            bearer_token(&headers(&[("authorization", "Basic eA==")])),
            None
        );
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_when_configured() {
        let mut settings = AuthSettings::default();
        let cookie = session_cookie("t", &settings);
        let text = cookie.to_str().unwrap();
        assert!(
            text.contains("HttpOnly")
                && text.contains("SameSite=Strict")
                && text.contains("Path=/")
        );
        assert!(!text.contains("Secure"));
        settings.cookie_secure = true;
        assert!(
            session_cookie("t", &settings)
                .to_str()
                .unwrap()
                .ends_with("; Secure")
        );
    }

    #[test]
    fn check_answers_sign_in_or_role_refusal() {
        let manager = CurrentUser {
            id: 1,
            username: "m".into(),
            role: Role::Manager,
        };
        assert_eq!(check(None, Capability::Export), Err(Denied::SignIn));
        assert_eq!(
            check(Some(Extension(manager.clone())), Capability::RunScans),
            Err(Denied::Role("manager"))
        );
        assert_eq!(
            check(Some(Extension(manager.clone())), Capability::Export),
            Ok(manager)
        );
        assert_eq!(Denied::SignIn.into_response().status(), 401);
        assert_eq!(Denied::Role("manager").into_response().status(), 403);
    }
}
