//! Administration: accounts and roles (ManageUsers), the audit log (ViewAudit).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub id: i32,
    pub username: String,
    pub role: String,
    pub disabled: bool,
    pub created_at: String,
}

#[cfg(feature = "ssr")]
fn user_view(model: storage::entities::user::Model) -> UserView {
    UserView {
        id: model.id,
        username: model.username,
        role: model.role,
        disabled: model.disabled,
        created_at: model.created_at.to_rfc3339(),
    }
}

#[server(endpoint = "admin/users/list")]
pub async fn list_users() -> Result<Vec<UserView>, ServerFnError> {
    use super::ssr::{db, to_server_error};
    crate::auth::ssr::require(crate::auth::Capability::ManageUsers)?;
    let db = db()?;
    let users = storage::accounts::list_users(&db)
        .await
        .map_err(to_server_error)?;
    Ok(users.into_iter().map(user_view).collect())
}

#[server(endpoint = "admin/users/add")]
pub async fn add_user(
    username: String,
    password: String,
    role: String,
) -> Result<UserView, ServerFnError> {
    use super::ssr::{db, to_server_error};
    let admin = crate::auth::ssr::require(crate::auth::Capability::ManageUsers)?;
    let db = db()?;
    let created = storage::accounts::create_user(&db, &username, &password, &role)
        .await
        .map_err(to_server_error)?;
    crate::auth::ssr::audit(
        &db,
        &admin,
        "user.create",
        &format!("user:{}", created.username),
        serde_json::json!({ "role": created.role }),
    )
    .await?;
    Ok(user_view(created))
}

#[server(endpoint = "admin/users/role")]
pub async fn set_user_role(user_id: i32, role: String) -> Result<UserView, ServerFnError> {
    use super::ssr::{db, to_server_error};
    let admin = crate::auth::ssr::require(crate::auth::Capability::ManageUsers)?;
    let db = db()?;
    let before = storage::accounts::get_user(&db, user_id)
        .await
        .map_err(to_server_error)?;
    let updated = storage::accounts::set_role(&db, user_id, &role)
        .await
        .map_err(to_server_error)?;
    crate::auth::ssr::audit(
        &db,
        &admin,
        "user.role",
        &format!("user:{}", updated.username),
        serde_json::json!({ "from": before.role, "to": updated.role }),
    )
    .await?;
    Ok(user_view(updated))
}

#[server(endpoint = "admin/users/disable")]
pub async fn set_user_disabled(user_id: i32, disabled: bool) -> Result<UserView, ServerFnError> {
    use super::ssr::{db, to_server_error};
    let admin = crate::auth::ssr::require(crate::auth::Capability::ManageUsers)?;
    let db = db()?;
    let updated = storage::accounts::set_disabled(&db, user_id, disabled)
        .await
        .map_err(to_server_error)?;
    crate::auth::ssr::audit(
        &db,
        &admin,
        if disabled {
            "user.disable"
        } else {
            "user.enable"
        },
        &format!("user:{}", updated.username),
        serde_json::json!({}),
    )
    .await?;
    Ok(user_view(updated))
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub source: Option<String>,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Whether an older page exists.
    pub more: bool,
}

pub const AUDIT_PAGE_SIZE: u64 = 50;

/// The audit log, newest first, filtered by actor, action and day range
/// (YYYY-MM-DD, UTC, inclusive), one page at a time.
#[server(endpoint = "admin/audit")]
pub async fn load_audit(
    actor: Option<String>,
    action: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<u64>,
) -> Result<AuditPage, ServerFnError> {
    use super::ssr::{db, to_server_error};
    crate::auth::ssr::require(crate::auth::Capability::ViewAudit)?;
    let db = db()?;
    let day =
        |field: &str, text: Option<String>| -> Result<Option<chrono::NaiveDate>, ServerFnError> {
            match text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                None => Ok(None),
                Some(t) => chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| {
                        to_server_error(storage::StorageError::invalid(
                            field,
                            format!("“{t}” is not a date; write YYYY-MM-DD, e.g. 2026-11-27."),
                        ))
                    }),
            }
        };
    let filter = storage::audit::AuditFilter {
        actor: actor.filter(|a| !a.trim().is_empty()),
        action: action.filter(|a| !a.trim().is_empty()),
        from: day("from", from)?,
        to: day("to", to)?,
    };
    let page = page.unwrap_or(0);
    let rows = storage::audit::search(&db, &filter, AUDIT_PAGE_SIZE + 1, page * AUDIT_PAGE_SIZE)
        .await
        .map_err(to_server_error)?;
    let more = rows.len() as u64 > AUDIT_PAGE_SIZE;
    Ok(AuditPage {
        entries: rows
            .into_iter()
            .take(AUDIT_PAGE_SIZE as usize)
            .map(|row| AuditEntry {
                id: row.id,
                at: row.at.to_rfc3339(),
                actor: row.actor,
                action: row.action,
                subject: row.subject,
                source: row.source,
                detail: row.detail.to_string(),
            })
            .collect(),
        more,
    })
}
