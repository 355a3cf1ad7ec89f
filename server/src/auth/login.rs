//! `POST /auth/login` and `POST /auth/logout`: plain form posts answered with
//! a redirect (post/redirect/get), so they work with and without the browser app.

use app::auth::ClientAddr;
use axum::Extension;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use super::{AuthState, expired_cookie, percent_encode, session_cookie, session_token};

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub next: Option<String>,
}

/// Only a same-site relative path is a place to go after signing in; anything
/// else ("//evil.example", "https://…", "/\\evil") becomes "/".
pub fn safe_next(next: &str) -> String {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\')
        && !next.starts_with("/login")
        && !next.starts_with("/auth/");
    if ok { next.to_owned() } else { "/".to_owned() }
}

fn source_of(client: Option<Extension<ClientAddr>>) -> String {
    client
        .map(|Extension(ClientAddr(ip))| ip.to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn back_to_login(error: &str, next: &str) -> Response {
    Redirect::to(&format!(
        "/login?error={error}&next={}",
        percent_encode(&safe_next(next))
    ))
    .into_response()
}

/// Checks the username and password (throttled per account and per address),
/// starts a session and sends the person where they wanted to go.
pub async fn login(
    State(state): State<AuthState>,
    client: Option<Extension<ClientAddr>>,
    Form(form): Form<LoginForm>,
) -> Response {
    let source = source_of(client);
    let next = form.next.clone().unwrap_or_else(|| "/".to_owned());
    // What the person typed, bounded, for the audit log of failures.
    let typed: String = form.username.trim().chars().take(64).collect();
    let keys = storage::accounts::throttle_keys(&typed, &source);
    let db = &state.db;
    let now = Utc::now();
    let audit = |action: &'static str, detail: serde_json::Value| {
        let typed = typed.clone();
        let source = source.clone();
        async move {
            if let Err(error) = storage::audit::record_from(
                db.conn(),
                &typed,
                Some(&source),
                action,
                &format!("user:{typed}"),
                detail,
            )
            .await
            {
                tracing::error!(%error, action, "writing the audit log failed");
            }
        }
    };

    match storage::accounts::locked_until(db, &keys, now).await {
        Ok(Some(until)) => {
            tracing::warn!(user = %typed, %source, %until, "sign-in refused: throttled");
            audit(
                "login.throttled",
                serde_json::json!({ "locked_until": until.to_rfc3339() }),
            )
            .await;
            return back_to_login("throttled", &next);
        }
        Ok(None) => {}
        Err(error) => return super::unavailable(error),
    }

    match storage::accounts::authenticate(db, &typed, &form.password).await {
        Ok(Some(account)) => {
            if let Err(error) = storage::accounts::clear_failures(db, &keys[0]).await {
                return super::unavailable(error);
            }
            let token = match storage::accounts::create_session(
                db,
                account.id,
                &source,
                state.settings.limits,
            )
            .await
            {
                Ok((token, _)) => token,
                Err(error) => return super::unavailable(error),
            };
            tracing::info!(user = %account.username, %source, "signed in");
            audit("login.success", serde_json::json!({})).await;
            let mut response = Redirect::to(&safe_next(&next)).into_response();
            response
                .headers_mut()
                .insert(header::SET_COOKIE, session_cookie(&token, &state.settings));
            response
        }
        Ok(None) => {
            if let Err(error) = storage::accounts::record_failure(db, &keys, now).await {
                return super::unavailable(error);
            }
            tracing::warn!(user = %typed, %source, "sign-in failed");
            audit("login.failure", serde_json::json!({})).await;
            back_to_login("invalid", &next)
        }
        Err(error) => super::unavailable(error),
    }
}

/// Ends this browser's session and clears the cookie.
pub async fn logout(
    State(state): State<AuthState>,
    client: Option<Extension<ClientAddr>>,
    user: Option<Extension<app::auth::CurrentUser>>,
    headers: HeaderMap,
) -> Response {
    if let Some(token) = session_token(&headers)
        && let Err(error) = storage::accounts::end_session(&state.db, &token).await
    {
        return super::unavailable(error);
    }
    if let Some(Extension(user)) = user {
        let source = source_of(client);
        tracing::info!(user = %user.username, %source, "signed out");
        if let Err(error) = storage::audit::record_from(
            state.db.conn(),
            &user.username,
            Some(&source),
            "logout",
            &format!("user:{}", user.username),
            serde_json::json!({}),
        )
        .await
        {
            tracing::error!(%error, "writing the audit log failed");
        }
    }
    let mut response = Redirect::to("/login").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, expired_cookie(&state.settings));
    response
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_same_site_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next("/subnets/3?tab=gaps"), "/subnets/3?tab=gaps");
        for hostile in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil.example",
            "javascript:alert(1)",
            "/login?next=/",
            "",
        ] {
            assert_eq!(safe_next(hostile), "/", "{hostile}");
        }
    }
}
