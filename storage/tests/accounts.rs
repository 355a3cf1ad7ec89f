//! Accounts, sessions, API tokens and sign-in throttling on SQLite and Postgres.

use chrono::{Duration, SubsecRound, Utc};
use storage::accounts::{self, SessionLimits};
use storage::entities::{audit_log, session, user};
use storage::{Db, StorageError, test_on_both_backends};

use sea_orm::{ConnectionTrait, EntityTrait};

const PASSWORD: &str = "correct horse battery";

test_on_both_backends! {
    usernames_are_unique_ignoring_case,
    passwords_are_stored_as_argon2id_and_checked,
    weak_input_is_refused_with_messages,
    sessions_store_only_a_hash_and_expire,
    api_tokens_work_until_revoked,
    the_last_admin_cannot_be_disabled_or_demoted,
    password_change_signs_out_everywhere,
    repeated_failures_lock_the_account_and_the_address,
    audit_entries_record_where_they_came_from,
}

async fn usernames_are_unique_ignoring_case(db: &Db) {
    let alice = accounts::create_user(db, "Alice", PASSWORD, "admin")
        .await
        .unwrap();
    assert_eq!(alice.username, "Alice");
    let error = accounts::create_user(db, "alice", PASSWORD, "manager")
        .await
        .unwrap_err();
    assert!(error.to_string().contains("is taken"), "{error}");
    let found = accounts::find_by_username(db, "ALICE").await.unwrap();
    assert_eq!(found.map(|u| u.id), Some(alice.id));
}

async fn passwords_are_stored_as_argon2id_and_checked(db: &Db) {
    let bob = accounts::create_user(db, "bob", PASSWORD, "helpdesk")
        .await
        .unwrap();
    assert!(
        bob.password_hash.starts_with("$argon2id$"),
        "{}",
        bob.password_hash
    );
    assert!(!bob.password_hash.contains(PASSWORD));
    let signed_in = accounts::authenticate(db, "BOB", PASSWORD).await.unwrap();
    assert_eq!(signed_in.map(|u| u.id), Some(bob.id));
    assert!(
        accounts::authenticate(db, "bob", "wrong password!!")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        accounts::authenticate(db, "nobody", PASSWORD)
            .await
            .unwrap()
            .is_none()
    );
    accounts::create_user(db, "admin", PASSWORD, "admin")
        .await
        .unwrap();
    accounts::set_disabled(db, bob.id, true).await.unwrap();
    assert!(
        accounts::authenticate(db, "bob", PASSWORD)
            .await
            .unwrap()
            .is_none(),
        "a disabled account cannot sign in"
    );
}

async fn weak_input_is_refused_with_messages(db: &Db) {
    let Err(StorageError::Invalid(errors)) =
        accounts::create_user(db, "bad name!", "short", "root").await
    else {
        panic!("invalid input must be refused");
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["username", "password", "role"]);
    assert!(errors[1].message.contains("at least 12"), "{:?}", errors[1]);
    let error = accounts::create_user(db, "carol.smith", "Carol.Smith", "manager")
        .await
        .unwrap_err();
    assert!(error.to_string().contains("at least"), "{error}");
    let error = accounts::create_user(db, "carol.smith.long", "carol.smith.long", "manager")
        .await
        .unwrap_err();
    assert!(error.to_string().contains("not be the username"), "{error}");
    assert!(
        accounts::list_users(db).await.unwrap().is_empty(),
        "nothing stored"
    );
}

async fn sessions_store_only_a_hash_and_expire(db: &Db) {
    let dana = accounts::create_user(db, "dana", PASSWORD, "manager")
        .await
        .unwrap();
    let limits = SessionLimits::default();
    let (token, stored) = accounts::create_session(db, dana.id, "127.0.0.9", limits)
        .await
        .unwrap();
    assert_eq!(stored.token_hash, accounts::token_hash(&token));
    assert_ne!(stored.token_hash, token);
    assert_eq!(stored.source, "127.0.0.9");
    assert_eq!(stored.expires_at - stored.created_at, Duration::hours(12));
    let resolved = accounts::resolve_session(db, &token, limits).await.unwrap();
    assert_eq!(resolved.map(|u| u.id), Some(dana.id));
    assert!(
        accounts::resolve_session(db, "not a token", limits)
            .await
            .unwrap()
            .is_none()
    );

    // Idle too long: the session is gone, and deleted.
    let idle = Utc::now() - Duration::minutes(31);
    db.conn()
        .execute_unprepared(&format!(
            "UPDATE sessions SET last_seen_at = '{}' WHERE id = {}",
            idle.to_rfc3339(),
            stored.id
        ))
        .await
        .unwrap();
    assert!(
        accounts::resolve_session(db, &token, limits)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        session::Entity::find_by_id(stored.id)
            .one(db.conn())
            .await
            .unwrap()
            .is_none()
    );

    // Past the absolute limit, however recently used.
    let (token, stored) = accounts::create_session(db, dana.id, "127.0.0.9", limits)
        .await
        .unwrap();
    let past = Utc::now() - Duration::seconds(1);
    db.conn()
        .execute_unprepared(&format!(
            "UPDATE sessions SET expires_at = '{}' WHERE id = {}",
            past.to_rfc3339(),
            stored.id
        ))
        .await
        .unwrap();
    assert!(
        accounts::resolve_session(db, &token, limits)
            .await
            .unwrap()
            .is_none()
    );

    let (token, _) = accounts::create_session(db, dana.id, "127.0.0.9", limits)
        .await
        .unwrap();
    accounts::end_session(db, &token).await.unwrap();
    assert!(
        accounts::resolve_session(db, &token, limits)
            .await
            .unwrap()
            .is_none()
    );
}

async fn api_tokens_work_until_revoked(db: &Db) {
    let erin = accounts::create_user(db, "erin", PASSWORD, "helpdesk")
        .await
        .unwrap();
    let (token, stored) = accounts::create_api_token(db, erin.id, "nightly export")
        .await
        .unwrap();
    assert!(token.starts_with("avs_") && token.len() == 68, "{token}");
    assert!(token.starts_with(&stored.prefix));
    assert_eq!(stored.token_hash, accounts::token_hash(&token));
    let user = accounts::resolve_api_token(db, &token).await.unwrap();
    assert_eq!(user.map(|u| u.id), Some(erin.id));
    let listed = accounts::list_api_tokens(db, erin.id).await.unwrap();
    assert!(listed[0].last_used_at.is_some(), "use is recorded");

    let other = accounts::create_user(db, "frank", PASSWORD, "helpdesk")
        .await
        .unwrap();
    assert!(
        accounts::revoke_api_token(db, other.id, stored.id)
            .await
            .is_err(),
        "nobody revokes another person's token"
    );
    let revoked = accounts::revoke_api_token(db, erin.id, stored.id)
        .await
        .unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(
        accounts::resolve_api_token(db, &token)
            .await
            .unwrap()
            .is_none()
    );
    assert!(accounts::create_api_token(db, erin.id, "  ").await.is_err());
}

async fn the_last_admin_cannot_be_disabled_or_demoted(db: &Db) {
    let root = accounts::create_user(db, "gina", PASSWORD, "admin")
        .await
        .unwrap();
    let error = accounts::set_disabled(db, root.id, true).await.unwrap_err();
    assert!(error.to_string().contains("last enabled admin"), "{error}");
    let error = accounts::set_role(db, root.id, "manager")
        .await
        .unwrap_err();
    assert!(error.to_string().contains("last enabled admin"), "{error}");
    let second = accounts::create_user(db, "hank", PASSWORD, "admin")
        .await
        .unwrap();
    accounts::set_role(db, root.id, "manager").await.unwrap();
    assert_eq!(accounts::active_admin_count(db).await.unwrap(), 1);
    assert!(accounts::set_disabled(db, second.id, true).await.is_err());
    assert!(
        accounts::set_role(db, second.id, "superuser")
            .await
            .is_err()
    );
}

async fn password_change_signs_out_everywhere(db: &Db) {
    let ivan = accounts::create_user(db, "ivan", PASSWORD, "manager")
        .await
        .unwrap();
    let limits = SessionLimits::default();
    let (first, _) = accounts::create_session(db, ivan.id, "127.0.0.1", limits)
        .await
        .unwrap();
    let (second, _) = accounts::create_session(db, ivan.id, "127.0.0.2", limits)
        .await
        .unwrap();
    let error = accounts::change_password(db, ivan.id, "not my password", "a brand new password")
        .await
        .unwrap_err();
    assert!(error.to_string().contains("current password"), "{error}");
    accounts::change_password(db, ivan.id, PASSWORD, "a brand new password")
        .await
        .unwrap();
    for token in [first, second] {
        assert!(
            accounts::resolve_session(db, &token, limits)
                .await
                .unwrap()
                .is_none()
        );
    }
    assert!(
        accounts::authenticate(db, "ivan", "a brand new password")
            .await
            .unwrap()
            .is_some()
    );
    let stored = user::Entity::find_by_id(ivan.id)
        .one(db.conn())
        .await
        .unwrap()
        .unwrap();
    assert!(stored.password_changed_at > stored.created_at);
}

async fn repeated_failures_lock_the_account_and_the_address(db: &Db) {
    // Whole seconds: Postgres keeps microseconds, chrono nanoseconds.
    let now = Utc::now().trunc_subsecs(0);
    let keys = accounts::throttle_keys("Judy", "127.0.0.5");
    assert_eq!(
        keys,
        ["user:judy".to_string(), "addr:127.0.0.5".to_string()]
    );
    for _ in 0..4 {
        accounts::record_failure(db, &keys, now).await.unwrap();
    }
    assert_eq!(accounts::locked_until(db, &keys, now).await.unwrap(), None);
    accounts::record_failure(db, &keys, now).await.unwrap();
    let until = accounts::locked_until(db, &keys, now)
        .await
        .unwrap()
        .expect("locked after 5");
    assert_eq!(until - now, Duration::minutes(1));
    // Another account from the same address is locked too (the address key).
    let other = accounts::throttle_keys("kim", "127.0.0.5");
    assert!(
        accounts::locked_until(db, &other, now)
            .await
            .unwrap()
            .is_some()
    );
    for _ in 0..10 {
        accounts::record_failure(db, &keys, now).await.unwrap();
    }
    let until = accounts::locked_until(db, &keys, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        until - now,
        Duration::minutes(15),
        "back-off stops at 15 minutes"
    );
    assert_eq!(
        accounts::locked_until(db, &keys, now + Duration::minutes(16))
            .await
            .unwrap(),
        None
    );
    accounts::clear_failures(db, &keys[0]).await.unwrap();
    assert!(
        accounts::locked_until(db, &keys[..1], now)
            .await
            .unwrap()
            .is_none()
    );
}

async fn audit_entries_record_where_they_came_from(db: &Db) {
    storage::audit::record_from(
        db.conn(),
        "alice",
        Some("127.0.0.7"),
        "user.create",
        "user:bob",
        serde_json::json!({ "role": "manager" }),
    )
    .await
    .unwrap();
    storage::audit::record(
        db.conn(),
        "system",
        "scan.finish",
        "scan:1",
        serde_json::json!({}),
    )
    .await
    .unwrap();
    let rows: Vec<audit_log::Model> = storage::audit::list(db, None, 10).await.unwrap();
    assert_eq!(rows[0].source, None);
    assert_eq!(rows[1].source.as_deref(), Some("127.0.0.7"));
    assert_eq!(rows[1].actor, "alice");
}
