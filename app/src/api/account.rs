//! The signed-in person's own account: who am I, password, API tokens.

use leptos::prelude::*;

use crate::auth::CurrentUser;

/// Who is signed in, for the navigation bar. The one server function that
/// answers anonymous callers too (with `None`): it reveals nothing but that.
#[server(endpoint = "account/me")]
pub async fn whoami() -> Result<Option<CurrentUser>, ServerFnError> {
    Ok(crate::auth::ssr::current_user())
}

/// One API token as its owner sees it after creation: never the token itself.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TokenView {
    pub id: i32,
    pub name: String,
    pub prefix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked: bool,
}

/// A freshly created token: `secret` is shown this once.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NewToken {
    pub token: TokenView,
    pub secret: String,
}

#[cfg(feature = "ssr")]
fn token_view(model: storage::entities::api_token::Model) -> TokenView {
    TokenView {
        id: model.id,
        name: model.name,
        prefix: model.prefix,
        created_at: model.created_at.to_rfc3339(),
        last_used_at: model.last_used_at.map(|t| t.to_rfc3339()),
        revoked: model.revoked_at.is_some(),
    }
}

/// Any signed-in role may manage their own tokens (a token has its owner's role).
#[server(endpoint = "account/tokens/list")]
pub async fn list_tokens() -> Result<Vec<TokenView>, ServerFnError> {
    use super::ssr::{db, to_server_error};
    let user = crate::auth::ssr::require(crate::auth::Capability::ViewCoverage)?;
    let db = db()?;
    let tokens = storage::accounts::list_api_tokens(&db, user.id)
        .await
        .map_err(to_server_error)?;
    Ok(tokens.into_iter().map(token_view).collect())
}

#[server(endpoint = "account/tokens/create")]
pub async fn create_token(name: String) -> Result<NewToken, ServerFnError> {
    use super::ssr::{db, to_server_error};
    let user = crate::auth::ssr::require(crate::auth::Capability::ViewCoverage)?;
    let db = db()?;
    let (secret, model) = storage::accounts::create_api_token(&db, user.id, &name)
        .await
        .map_err(to_server_error)?;
    crate::auth::ssr::audit(
        &db,
        &user,
        "token.create",
        &format!("token:{}", model.id),
        serde_json::json!({ "name": model.name, "prefix": model.prefix }),
    )
    .await?;
    Ok(NewToken {
        token: token_view(model),
        secret,
    })
}

#[server(endpoint = "account/tokens/revoke")]
pub async fn revoke_token(token_id: i32) -> Result<TokenView, ServerFnError> {
    use super::ssr::{db, to_server_error};
    let user = crate::auth::ssr::require(crate::auth::Capability::ViewCoverage)?;
    let db = db()?;
    let model = storage::accounts::revoke_api_token(&db, user.id, token_id)
        .await
        .map_err(to_server_error)?;
    crate::auth::ssr::audit(
        &db,
        &user,
        "token.revoke",
        &format!("token:{}", model.id),
        serde_json::json!({ "name": model.name }),
    )
    .await?;
    Ok(token_view(model))
}

/// Changes the caller's password and ends all their sessions (this one too:
/// the page then asks them to sign in again).
#[server(endpoint = "account/password")]
pub async fn change_password(current: String, new: String) -> Result<(), ServerFnError> {
    use super::ssr::{db, to_server_error};
    let user = crate::auth::ssr::require(crate::auth::Capability::ViewCoverage)?;
    let db = db()?;
    storage::accounts::change_password(&db, user.id, &current, &new)
        .await
        .map_err(to_server_error)?;
    crate::auth::ssr::audit(
        &db,
        &user,
        "user.password",
        &format!("user:{}", user.username),
        serde_json::json!({ "sessions_ended": "all" }),
    )
    .await?;
    Ok(())
}
