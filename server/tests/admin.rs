//! Account pages and administration through their server functions.

mod common;

use app::auth::Role;
use common::TestApp;
use reqwest::StatusCode;

app_test_on_both_backends! {
    a_token_made_on_the_account_page_works_until_revoked_there,
    changing_the_password_signs_out_everywhere,
    admins_add_users_change_roles_but_never_remove_the_last_admin,
    the_audit_page_filters_and_shows_where_changes_came_from,
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

async fn a_token_made_on_the_account_page_works_until_revoked_there(app: TestApp, _backend: u8) {
    let manager = app.sign_in(Role::Manager).await;
    let response = manager
        .post_form("/api/account/tokens/create", &[("name", "report script")])
        .await;
    assert_eq!(response.status(), 200);
    let created = json(&response.text().await.unwrap());
    let secret = created["secret"].as_str().unwrap().to_owned();
    let id = created["token"]["id"].as_i64().unwrap().to_string();
    let listed = manager.post_form("/api/account/tokens/list", &[]).await;
    let listed = listed.text().await.unwrap();
    assert!(listed.contains("report script"));
    assert!(!listed.contains(&secret), "the secret is shown once only");

    let use_token = || {
        reqwest::Client::new()
            .post(app.url("/api/subnets/list"))
            .bearer_auth(&secret)
            .send()
    };
    assert_eq!(use_token().await.unwrap().status(), 200);
    let response = manager
        .post_form("/api/account/tokens/revoke", &[("token_id", id.as_str())])
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        use_token().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let audit = storage::audit::list(&app.db, Some(&format!("token:{id}")), 10)
        .await
        .unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["token.revoke", "token.create"]);
    assert!(
        audit
            .iter()
            .all(|a| a.source.as_deref() == Some("127.0.0.1"))
    );
}

async fn changing_the_password_signs_out_everywhere(app: TestApp, _backend: u8) {
    let helpdesk = app.sign_in(Role::Helpdesk).await;
    let response = helpdesk
        .post_form(
            "/api/account/password",
            &[("current", "not it at all"), ("new", "a new password 42")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("current password is not right")
    );
    let response = helpdesk
        .post_form(
            "/api/account/password",
            &[("current", common::TEST_PASSWORD), ("new", "short")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("at least 12"));
    let response = helpdesk
        .post_form(
            "/api/account/password",
            &[
                ("current", common::TEST_PASSWORD),
                ("new", "a new password 42"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let response = helpdesk.http.get(helpdesk.url("/")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "signed out");
    assert!(
        storage::accounts::authenticate(&app.db, &helpdesk.username, "a new password 42")
            .await
            .unwrap()
            .is_some()
    );
}

async fn admins_add_users_change_roles_but_never_remove_the_last_admin(app: TestApp, _backend: u8) {
    let admin = app.sign_in(Role::Admin).await;
    let response = admin
        .post_form(
            "/api/admin/users/add",
            &[
                ("username", "Nina"),
                ("password", "nina's password 1"),
                ("role", "helpdesk"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let nina = json(&response.text().await.unwrap());
    let nina_id = nina["id"].as_i64().unwrap().to_string();
    let response = admin
        .post_form(
            "/api/admin/users/add",
            &[
                ("username", "nina"),
                ("password", "nina's password 1"),
                ("role", "manager"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("is taken"));

    let response = admin
        .post_form(
            "/api/admin/users/role",
            &[("user_id", nina_id.as_str()), ("role", "manager")],
        )
        .await;
    assert_eq!(response.status(), 200);
    let me = admin.user_id.to_string();
    for (path, form) in [
        (
            "/api/admin/users/role",
            [("user_id", me.as_str()), ("role", "manager")],
        ),
        (
            "/api/admin/users/disable",
            [("user_id", me.as_str()), ("disabled", "true")],
        ),
    ] {
        let response = admin.post_form(path, &form).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("last enabled admin")
        );
    }
    let html = admin.get_text("/admin/users").await;
    assert!(html.contains("Nina"), "{html}");
    let audit = storage::audit::list(&app.db, Some("user:Nina"), 10)
        .await
        .unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["user.role", "user.create"]);
    assert_eq!(audit[0].actor, admin.username);
}

async fn the_audit_page_filters_and_shows_where_changes_came_from(app: TestApp, backend: u8) {
    let admin = app.sign_in(Role::Admin).await;
    let cidr = format!("127.95.{backend}.0/30");
    admin
        .post_form(
            "/api/subnets/add",
            &[("cidr", cidr.as_str()), ("name", "Audited")],
        )
        .await;
    let response = admin
        .post_form("/api/admin/audit", &[("action", "subnet.create")])
        .await;
    assert_eq!(response.status(), 200);
    let page = json(&response.text().await.unwrap());
    let entries = page["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["actor"], admin.username.as_str());
    assert_eq!(entries[0]["source"], "127.0.0.1");
    let response = admin
        .post_form("/api/admin/audit", &[("action", "login.")])
        .await;
    let page = json(&response.text().await.unwrap());
    assert!(
        page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["action"] == "login.success")
    );
    let response = admin
        .post_form("/api/admin/audit", &[("from", "yesterday")])
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("is not a date"));
    let html = admin.get_text("/admin/audit?action=subnet.create").await;
    assert!(
        html.contains("subnet.create") && html.contains(&cidr),
        "{html}"
    );
}
