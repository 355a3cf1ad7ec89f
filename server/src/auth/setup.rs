//! The first-admin setup link. On a database with no enabled admin the
//! server prints `http://…/setup?token=…` at start; the page behind it
//! creates the first admin and signs them in. The link works once; from this
//! machine (loopback) until it is used, from another machine only for
//! `setup_link_minutes` after the start (an install reached over the network
//! is not left open to whoever finds it first, days later). Only the
//! token's SHA-256 is kept, in memory: a restart prints a new link.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use app::auth::ClientAddr;
use axum::Extension;
use axum::extract::{Form, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use storage::StorageError;
use tokio::sync::Mutex;

use super::{AuthState, session_cookie};

/// The link's state for this process.
#[derive(Debug)]
pub struct SetupLink {
    issued: Mutex<Option<Issued>>,
    remote_window: Duration,
}

#[derive(Debug)]
struct Issued {
    token_hash: String,
    at: Instant,
}

/// Why a setup attempt was turned away; the page explains each code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupRefusal {
    /// No link is open: an admin exists, or it was used.
    Closed,
    /// The token is not the one printed by this server.
    WrongToken,
    /// From another machine, after the window.
    Expired,
}

impl SetupRefusal {
    pub fn code(self) -> &'static str {
        match self {
            SetupRefusal::Closed => "closed",
            SetupRefusal::WrongToken => "token",
            SetupRefusal::Expired => "expired",
        }
    }
}

impl SetupLink {
    /// A link store; `remote_minutes` = 0 accepts the link only from this machine.
    pub fn new(remote_minutes: u32) -> Self {
        Self {
            issued: Mutex::new(None),
            remote_window: Duration::from_secs(u64::from(remote_minutes) * 60),
        }
    }

    /// Opens the link (replacing any earlier one) and returns its secret.
    pub async fn issue(&self) -> String {
        let token = storage::accounts::random_secret();
        *self.issued.lock().await = Some(Issued {
            token_hash: storage::accounts::token_hash(&token),
            at: Instant::now(),
        });
        token
    }

    fn check(
        &self,
        issued: Option<&Issued>,
        token: &str,
        client: Option<IpAddr>,
    ) -> Result<(), SetupRefusal> {
        let issued = issued.ok_or(SetupRefusal::Closed)?;
        // Compared as hashes: equal length, no early exit on the secret itself.
        if storage::accounts::token_hash(token) != issued.token_hash {
            return Err(SetupRefusal::WrongToken);
        }
        let local = client.is_some_and(|ip| ip.is_loopback());
        if !local && issued.at.elapsed() > self.remote_window {
            return Err(SetupRefusal::Expired);
        }
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
pub struct SetupForm {
    pub token: String,
    pub username: String,
    pub password: String,
    pub password_again: String,
}

fn back_to_setup(token: &str, error: &str) -> Response {
    Redirect::to(&format!(
        "/setup?token={}&error={error}",
        super::percent_encode(token)
    ))
    .into_response()
}

/// `POST /auth/setup`: creates the first admin and signs them in.
pub async fn create_first_admin(
    State(state): State<AuthState>,
    client: Option<Extension<ClientAddr>>,
    Form(form): Form<SetupForm>,
) -> Response {
    let client_ip = client.map(|Extension(ClientAddr(ip))| ip);
    let source = client_ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    let token: String = form.token.chars().take(128).collect();
    // Held until the admin exists: two tabs cannot both use one link.
    let mut issued = state.setup.issued.lock().await;
    if let Err(refusal) = state.setup.check(issued.as_ref(), &token, client_ip) {
        tracing::warn!(%source, reason = refusal.code(), "setup link refused");
        return back_to_setup(&token, refusal.code());
    }
    if form.password != form.password_again {
        return back_to_setup(&token, "mismatch");
    }
    let account = match storage::accounts::create_first_admin(
        &state.db,
        &form.username,
        &form.password,
        &source,
    )
    .await
    {
        Ok(account) => account,
        Err(StorageError::Invalid(errors)) => {
            let field = errors.first().map_or("password", |e| e.field.as_str());
            let code = match field {
                "username" => "username",
                "setup" => "closed",
                _ => "password",
            };
            if code == "closed" {
                *issued = None;
            }
            return back_to_setup(&token, code);
        }
        Err(error) => return super::unavailable(error),
    };
    *issued = None;
    drop(issued);
    tracing::info!(user = %account.username, %source, "first admin created from the setup link");
    let session = match storage::accounts::create_session(
        &state.db,
        account.id,
        &source,
        state.settings.limits,
    )
    .await
    {
        Ok((session, _)) => session,
        Err(error) => return super::unavailable(error),
    };
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(&session, &state.settings),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issued(token: &str, age: Duration) -> Issued {
        Issued {
            token_hash: storage::accounts::token_hash(token),
            at: Instant::now().checked_sub(age).unwrap_or_else(Instant::now),
        }
    }

    #[test]
    fn the_link_works_from_this_machine_until_used_and_elsewhere_only_for_its_window() {
        let link = SetupLink::new(15);
        let fresh = issued("s3cret", Duration::ZERO);
        let old = issued("s3cret", Duration::from_secs(16 * 60));
        let loopback: IpAddr = "127.0.0.1".parse().expect("address");
        let remote: IpAddr = "192.0.2.7".parse().expect("address");
        assert_eq!(link.check(Some(&fresh), "s3cret", Some(remote)), Ok(()));
        assert_eq!(link.check(Some(&old), "s3cret", Some(loopback)), Ok(()));
        assert_eq!(
            link.check(Some(&old), "s3cret", Some(remote)),
            Err(SetupRefusal::Expired)
        );
        assert_eq!(
            link.check(Some(&fresh), "guess", Some(loopback)),
            Err(SetupRefusal::WrongToken)
        );
        assert_eq!(
            link.check(None, "s3cret", Some(loopback)),
            Err(SetupRefusal::Closed)
        );
    }

    #[test]
    fn a_zero_window_means_this_machine_only() {
        let link = SetupLink::new(0);
        let fresh = issued("s3cret", Duration::from_secs(1));
        let remote: IpAddr = "192.0.2.7".parse().expect("address");
        assert_eq!(
            link.check(Some(&fresh), "s3cret", Some(remote)),
            Err(SetupRefusal::Expired)
        );
    }
}
