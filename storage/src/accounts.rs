//! Accounts, sessions, API tokens and failed sign-in throttling.
//!
//! Secrets never reach the database: passwords are argon2id PHC strings;
//! session and API tokens are random 256-bit values of which only the hex
//! SHA-256 is stored, so a copy of the database signs nobody in.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use sha2::{Digest, Sha256};

use crate::entities::{api_token, login_throttle, session, user};
use crate::{Db, FieldError, StorageError};

/// The roles an account may have (the app crate maps them to capabilities).
pub const ROLES: [&str; 3] = ["admin", "helpdesk", "manager"];
pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 256;
pub const MAX_USERNAME_CHARS: usize = 64;
pub const MAX_TOKEN_NAME_CHARS: usize = 80;
/// API tokens start with this, so a leaked one is recognisable in logs and scanners.
pub const API_TOKEN_PREFIX: &str = "avs_";

/// Failed sign-ins allowed per account and per address before a lock.
pub const FAILURES_BEFORE_LOCK: i32 = 5;
/// The first lock; each further failure while counting doubles it, up to [`MAX_LOCK`].
pub const FIRST_LOCK: Duration = Duration::minutes(1);
pub const MAX_LOCK: Duration = Duration::minutes(15);
/// Failures older than this are forgotten.
pub const FAILURE_MEMORY: Duration = Duration::minutes(15);

fn argon2() -> Argon2<'static> {
    // OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// An argon2id PHC string for the password, with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, StorageError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| StorageError::Corrupt(format!("hashing a password failed: {e}")))
}

/// Whether the password matches the stored hash (false for a damaged hash).
pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    match PasswordHash::new(stored_hash) {
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(error) => {
            tracing::error!(%error, "a stored password hash does not parse");
            false
        }
    }
}

/// Spends the same work as a real check, so an unknown username answers as
/// slowly as a wrong password (no account enumeration by timing).
pub fn burn_password_check(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| {
        hash_password("avsweep dummy password for unknown users").unwrap_or_default()
    });
    let _ = verify_password(password, dummy);
}

/// A new random secret: 32 bytes from the OS, hex-encoded.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The stored form of a session or API token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn username_key(username: &str) -> String {
    username.trim().to_lowercase()
}

/// Checks a new username and says what is wrong with it.
pub fn validate_username(username: &str) -> Result<String, FieldError> {
    let name = username.trim();
    if name.is_empty() {
        return Err(FieldError::new("username", "Enter a username."));
    }
    if name.chars().count() > MAX_USERNAME_CHARS {
        return Err(FieldError::new(
            "username",
            format!("A username has at most {MAX_USERNAME_CHARS} characters."),
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')))
    {
        return Err(FieldError::new(
            "username",
            format!("“{bad}” is not allowed in a username; use letters, digits and . _ - @."),
        ));
    }
    Ok(name.to_owned())
}

/// Checks a new password: long enough, not absurdly long, not the username.
pub fn validate_password(username: &str, password: &str) -> Result<(), FieldError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(FieldError::new(
            "password",
            format!("The password needs at least {MIN_PASSWORD_CHARS} characters."),
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(FieldError::new(
            "password",
            format!("The password may have at most {MAX_PASSWORD_CHARS} characters."),
        ));
    }
    if password.trim().to_lowercase() == username_key(username) {
        return Err(FieldError::new(
            "password",
            "The password must not be the username.",
        ));
    }
    Ok(())
}

pub fn validate_role(role: &str) -> Result<(), FieldError> {
    if ROLES.contains(&role) {
        Ok(())
    } else {
        Err(FieldError::new(
            "role",
            format!("“{role}” is not a role; choose admin, helpdesk or manager."),
        ))
    }
}

/// Creates an account. The caller audits it (it knows who did it and from where).
pub async fn create_user(
    db: &Db,
    username: &str,
    password: &str,
    role: &str,
) -> Result<user::Model, StorageError> {
    let mut errors = Vec::new();
    let name = validate_username(username).map_err(|e| errors.push(e)).ok();
    if let Err(e) = validate_password(username, password) {
        errors.push(e);
    }
    if let Err(e) = validate_role(role) {
        errors.push(e);
    }
    let Some(name) = name.filter(|_| errors.is_empty()) else {
        return Err(StorageError::Invalid(errors));
    };
    if find_by_username(db, &name).await?.is_some() {
        return Err(StorageError::invalid(
            "username",
            format!("The username “{name}” is taken (names ignore upper and lower case)."),
        ));
    }
    let now = Utc::now();
    let model = user::ActiveModel {
        username_key: Set(username_key(&name)),
        username: Set(name),
        password_hash: Set(hash_password(password)?),
        role: Set(role.to_owned()),
        disabled: Set(false),
        created_at: Set(now),
        password_changed_at: Set(now),
        ..Default::default()
    };
    Ok(model.insert(db.conn()).await?)
}

/// Creates the first admin from the setup link; refused once any enabled
/// admin exists (the link is for an empty install, not a way back in), and
/// audited with where the browser was.
pub async fn create_first_admin(
    db: &Db,
    username: &str,
    password: &str,
    source: &str,
) -> Result<user::Model, StorageError> {
    if active_admin_count(db).await? > 0 {
        return Err(StorageError::invalid(
            "setup",
            "An admin account exists already: sign in, or ask an admin for an account.",
        ));
    }
    let account = create_user(db, username, password, "admin").await?;
    crate::audit::record_from(
        db.conn(),
        &account.username,
        Some(source),
        "user.create_first_admin",
        &format!("user:{}", account.username),
        serde_json::json!({ "role": "admin", "via": "setup link" }),
    )
    .await?;
    Ok(account)
}

/// The account with this username, ignoring case.
pub async fn find_by_username(
    db: &Db,
    username: &str,
) -> Result<Option<user::Model>, StorageError> {
    Ok(user::Entity::find()
        .filter(user::Column::UsernameKey.eq(username_key(username)))
        .one(db.conn())
        .await?)
}

pub async fn get_user(db: &Db, id: i32) -> Result<user::Model, StorageError> {
    user::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or(StorageError::NotFound {
            what: "user",
            id: i64::from(id),
        })
}

/// Every account, by username.
pub async fn list_users(db: &Db) -> Result<Vec<user::Model>, StorageError> {
    Ok(user::Entity::find()
        .order_by_asc(user::Column::UsernameKey)
        .all(db.conn())
        .await?)
}

/// How many enabled admins exist (the last one may not be disabled or demoted).
pub async fn active_admin_count(db: &Db) -> Result<u64, StorageError> {
    Ok(user::Entity::find()
        .filter(user::Column::Role.eq("admin"))
        .filter(user::Column::Disabled.eq(false))
        .count(db.conn())
        .await?)
}

async fn refuse_removing_last_admin(db: &Db, target: &user::Model) -> Result<(), StorageError> {
    if target.role == "admin" && !target.disabled && active_admin_count(db).await? <= 1 {
        return Err(StorageError::invalid(
            "user",
            format!(
                "“{}” is the last enabled admin; make another admin first.",
                target.username
            ),
        ));
    }
    Ok(())
}

/// Disables (or re-enables) an account; disabling ends its sessions.
pub async fn set_disabled(db: &Db, id: i32, disabled: bool) -> Result<user::Model, StorageError> {
    let target = get_user(db, id).await?;
    if disabled {
        refuse_removing_last_admin(db, &target).await?;
    }
    let mut row: user::ActiveModel = target.into();
    row.disabled = Set(disabled);
    let updated = row.update(db.conn()).await?;
    if disabled {
        end_all_sessions(db.conn(), id).await?;
    }
    Ok(updated)
}

/// Changes an account's role; the last enabled admin keeps theirs.
pub async fn set_role(db: &Db, id: i32, role: &str) -> Result<user::Model, StorageError> {
    validate_role(role).map_err(|e| StorageError::Invalid(vec![e]))?;
    let target = get_user(db, id).await?;
    if role != "admin" {
        refuse_removing_last_admin(db, &target).await?;
    }
    let mut row: user::ActiveModel = target.into();
    row.role = Set(role.to_owned());
    Ok(row.update(db.conn()).await?)
}

/// Sets a new password after checking the current one, and ends every session
/// of the account (the caller signs the person in again if it wants to).
pub async fn change_password(
    db: &Db,
    id: i32,
    current: &str,
    new: &str,
) -> Result<user::Model, StorageError> {
    let account = get_user(db, id).await?;
    if !verify_password(current, &account.password_hash) {
        return Err(StorageError::invalid(
            "current_password",
            "The current password is not right.",
        ));
    }
    validate_password(&account.username, new).map_err(|e| StorageError::Invalid(vec![e]))?;
    if current == new {
        return Err(StorageError::invalid(
            "password",
            "The new password must differ from the current one.",
        ));
    }
    let mut row: user::ActiveModel = account.into();
    row.password_hash = Set(hash_password(new)?);
    row.password_changed_at = Set(Utc::now());
    let updated = row.update(db.conn()).await?;
    end_all_sessions(db.conn(), id).await?;
    Ok(updated)
}

/// Checks a username and password. `None` for an unknown user, a wrong
/// password or a disabled account alike; an unknown user costs the same time.
pub async fn authenticate(
    db: &Db,
    username: &str,
    password: &str,
) -> Result<Option<user::Model>, StorageError> {
    match find_by_username(db, username).await? {
        Some(account) => {
            let hash = account.password_hash.clone();
            let password = password.to_owned();
            let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
                .await
                .unwrap_or(false);
            Ok((ok && !account.disabled).then_some(account))
        }
        None => {
            let password = password.to_owned();
            let _ = tokio::task::spawn_blocking(move || burn_password_check(&password)).await;
            Ok(None)
        }
    }
}

/// How long sessions live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionLimits {
    /// Ends a session nobody used for this long.
    pub idle: Duration,
    /// Ends every session this long after sign-in.
    pub absolute: Duration,
}

impl Default for SessionLimits {
    fn default() -> Self {
        Self {
            idle: Duration::minutes(30),
            absolute: Duration::hours(12),
        }
    }
}

/// Starts a session; returns the token for the cookie (never stored as is).
pub async fn create_session(
    db: &Db,
    user_id: i32,
    source: &str,
    limits: SessionLimits,
) -> Result<(String, session::Model), StorageError> {
    let token = random_secret();
    let now = Utc::now();
    let model = session::ActiveModel {
        token_hash: Set(token_hash(&token)),
        user_id: Set(user_id),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + limits.absolute),
        source: Set(source.to_owned()),
        ..Default::default()
    }
    .insert(db.conn())
    .await?;
    Ok((token, model))
}

/// The account behind a session token, if the session is live and the
/// account enabled; marks the session as just used. Expired sessions are deleted.
pub async fn resolve_session(
    db: &Db,
    token: &str,
    limits: SessionLimits,
) -> Result<Option<user::Model>, StorageError> {
    let Some(found) = session::Entity::find()
        .filter(session::Column::TokenHash.eq(token_hash(token)))
        .one(db.conn())
        .await?
    else {
        return Ok(None);
    };
    let now = Utc::now();
    if now >= found.expires_at || now - found.last_seen_at >= limits.idle {
        session::Entity::delete_by_id(found.id)
            .exec(db.conn())
            .await?;
        return Ok(None);
    }
    let Some(account) = user::Entity::find_by_id(found.user_id)
        .one(db.conn())
        .await?
        .filter(|u| !u.disabled)
    else {
        return Ok(None);
    };
    // Writing on every request would serialise SQLite; a few seconds' precision is enough.
    if now - found.last_seen_at >= Duration::seconds(15) {
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, Expr::value(now))
            .filter(session::Column::Id.eq(found.id))
            .exec(db.conn())
            .await?;
    }
    Ok(Some(account))
}

/// Ends one session (sign out). Unknown tokens are fine.
pub async fn end_session(db: &Db, token: &str) -> Result<(), StorageError> {
    session::Entity::delete_many()
        .filter(session::Column::TokenHash.eq(token_hash(token)))
        .exec(db.conn())
        .await?;
    Ok(())
}

/// Ends every session of an account ("sign out everywhere").
pub async fn end_all_sessions(
    conn: &impl ConnectionTrait,
    user_id: i32,
) -> Result<u64, StorageError> {
    Ok(session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .exec(conn)
        .await?
        .rows_affected)
}

/// Creates an API token; returns the token itself, shown to the person once.
pub async fn create_api_token(
    db: &Db,
    user_id: i32,
    name: &str,
) -> Result<(String, api_token::Model), StorageError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_TOKEN_NAME_CHARS {
        return Err(StorageError::invalid(
            "name",
            format!(
                "Give the token a name of 1 to {MAX_TOKEN_NAME_CHARS} characters, e.g. “nightly export”."
            ),
        ));
    }
    let token = format!("{API_TOKEN_PREFIX}{}", random_secret());
    let model = api_token::ActiveModel {
        user_id: Set(user_id),
        name: Set(name.to_owned()),
        prefix: Set(token.chars().take(API_TOKEN_PREFIX.len() + 6).collect()),
        token_hash: Set(token_hash(&token)),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db.conn())
    .await?;
    Ok((token, model))
}

/// The enabled account behind a live (not revoked) API token; records its use.
pub async fn resolve_api_token(db: &Db, token: &str) -> Result<Option<user::Model>, StorageError> {
    let Some(found) = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(token_hash(token)))
        .filter(api_token::Column::RevokedAt.is_null())
        .one(db.conn())
        .await?
    else {
        return Ok(None);
    };
    let account = user::Entity::find_by_id(found.user_id)
        .one(db.conn())
        .await?
        .filter(|u| !u.disabled);
    if account.is_some() {
        api_token::Entity::update_many()
            .col_expr(api_token::Column::LastUsedAt, Expr::value(Utc::now()))
            .filter(api_token::Column::Id.eq(found.id))
            .exec(db.conn())
            .await?;
    }
    Ok(account)
}

/// One account's tokens, newest first (revoked ones included, marked).
pub async fn list_api_tokens(db: &Db, user_id: i32) -> Result<Vec<api_token::Model>, StorageError> {
    Ok(api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(user_id))
        .order_by_desc(api_token::Column::Id)
        .all(db.conn())
        .await?)
}

/// Revokes one of the account's own tokens.
pub async fn revoke_api_token(
    db: &Db,
    user_id: i32,
    token_id: i32,
) -> Result<api_token::Model, StorageError> {
    let token = api_token::Entity::find_by_id(token_id)
        .filter(api_token::Column::UserId.eq(user_id))
        .one(db.conn())
        .await?
        .ok_or(StorageError::NotFound {
            what: "API token",
            id: i64::from(token_id),
        })?;
    if token.revoked_at.is_some() {
        return Ok(token);
    }
    let mut row: api_token::ActiveModel = token.into();
    row.revoked_at = Set(Some(Utc::now()));
    Ok(row.update(db.conn()).await?)
}

/// Throttle keys for one sign-in attempt: the account and the client address.
pub fn throttle_keys(username: &str, source: &str) -> [String; 2] {
    [
        format!("user:{}", username_key(username)),
        format!("addr:{source}"),
    ]
}

/// Until when sign-ins for any of these keys are refused, if locked now.
pub async fn locked_until(
    db: &Db,
    keys: &[String],
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StorageError> {
    let rows = login_throttle::Entity::find()
        .filter(login_throttle::Column::Key.is_in(keys.iter().cloned()))
        .all(db.conn())
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| row.locked_until)
        .filter(|until| *until > now)
        .max())
}

/// Counts a failed sign-in against each key; from the fifth failure on, a key
/// is locked for one minute, doubling with each further failure up to 15 min.
pub async fn record_failure(
    db: &Db,
    keys: &[String],
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    for key in keys {
        let existing = login_throttle::Entity::find_by_id(key.clone())
            .one(db.conn())
            .await?;
        let failures = match &existing {
            Some(row) if now - row.last_failure_at < FAILURE_MEMORY => row.failures + 1,
            _ => 1,
        };
        let locked_until = (failures >= FAILURES_BEFORE_LOCK).then(|| {
            let doublings = (failures - FAILURES_BEFORE_LOCK).clamp(0, 4) as u32;
            now + (FIRST_LOCK * 2i32.pow(doublings)).min(MAX_LOCK)
        });
        let row = login_throttle::ActiveModel {
            key: Set(key.clone()),
            failures: Set(failures),
            last_failure_at: Set(now),
            locked_until: Set(locked_until),
        };
        if existing.is_some() {
            row.update(db.conn()).await?;
        } else {
            row.insert(db.conn()).await?;
        }
    }
    Ok(())
}

/// Forgets the failures of an account after a successful sign-in (the
/// address keeps its count: one good password must not unlock guessing at others).
pub async fn clear_failures(db: &Db, key: &str) -> Result<(), StorageError> {
    login_throttle::Entity::delete_by_id(key.to_owned())
        .exec(db.conn())
        .await?;
    Ok(())
}
