//! Who may do what. The role → capability table lives here, once, and is
//! compiled for both halves: the server enforces it in every server function
//! (`ssr::require`), the browser only uses it to decide which controls to show.

use serde::{Deserialize, Serialize};

/// A person's role. Every account has exactly one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Subnets, sites, exclusions, profiles, schedules, users, audit log.
    Admin,
    /// Runs scans on defined subnets, overrides, remediation status, exports.
    Helpdesk,
    /// Reads dashboards and exports; changes nothing.
    Manager,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Helpdesk, Role::Manager];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Helpdesk => "helpdesk",
            Role::Manager => "manager",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }

    /// The one place that says which role may do what.
    pub fn allows(self, capability: Capability) -> bool {
        use Capability::*;
        match self {
            Role::Admin => true,
            Role::Helpdesk => matches!(
                capability,
                ViewCoverage | Export | RunScans | EditOverrides | EditRemediation
            ),
            Role::Manager => matches!(capability, ViewCoverage | Export),
        }
    }
}

/// Something a request wants to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Capability {
    /// Dashboards, subnet and host pages, scan history, profiles (read).
    ViewCoverage,
    /// CSV / XML / grepable exports of results.
    Export,
    /// Start and cancel scans of subnets an admin defined.
    RunScans,
    /// Mark hosts out of scope, set device classes.
    EditOverrides,
    /// Move hosts through open → acknowledged → fixed.
    EditRemediation,
    /// Subnets, sites, exclusions, vendor profiles, schedules.
    ManageInventory,
    /// Accounts and their roles.
    ManageUsers,
    /// Read the audit log.
    ViewAudit,
}

/// The signed-in person, as the server's authentication layer found them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i32,
    pub username: String,
    pub role: Role,
}

impl CurrentUser {
    pub fn can(&self, capability: Capability) -> bool {
        self.role.allows(capability)
    }
}

/// The address a request came from, as the server's connection saw it. The
/// server's authentication layer puts it into every request's extensions, for
/// the audit log's "from where".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

#[cfg(feature = "ssr")]
pub mod ssr {
    use leptos::prelude::*;

    use super::{Capability, ClientAddr, CurrentUser};

    /// Where this request came from (the client's IP address), if known.
    pub fn client_addr() -> Option<String> {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<ClientAddr>().copied())
            .map(|ClientAddr(ip)| ip.to_string())
    }

    /// Appends an audit entry for what `user` just did, with the client address.
    pub async fn audit(
        db: &storage::Db,
        user: &CurrentUser,
        action: &str,
        subject: &str,
        detail: serde_json::Value,
    ) -> Result<(), ServerFnError> {
        let source = client_addr();
        storage::audit::record_from(
            db.conn(),
            &user.username,
            source.as_deref(),
            action,
            subject,
            detail,
        )
        .await
        .map_err(|error| {
            tracing::error!(%error, action, "writing the audit log failed");
            ServerFnError::new(
                "The change could not be recorded in the audit log; see the server log.",
            )
        })
    }

    /// The user the server's authentication middleware attached to this
    /// request, if any.
    pub fn current_user() -> Option<CurrentUser> {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<CurrentUser>().cloned())
    }

    /// Every server function starts with this: no user → "sign in", a user
    /// whose role lacks the capability → "not allowed".
    pub fn require(capability: Capability) -> Result<CurrentUser, ServerFnError> {
        let Some(user) = current_user() else {
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(http::StatusCode::UNAUTHORIZED);
            }
            return Err(ServerFnError::new("Sign in to continue."));
        };
        if !user.can(capability) {
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(http::StatusCode::FORBIDDEN);
            }
            return Err(ServerFnError::new(format!(
                "Your role ({}) may not do this; ask an administrator.",
                user.role.as_str()
            )));
        }
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managers_read_and_export_but_change_nothing() {
        let manager = Role::Manager;
        assert!(manager.allows(Capability::ViewCoverage));
        assert!(manager.allows(Capability::Export));
        for denied in [
            Capability::RunScans,
            Capability::EditOverrides,
            Capability::EditRemediation,
            Capability::ManageInventory,
            Capability::ManageUsers,
            Capability::ViewAudit,
        ] {
            assert!(!manager.allows(denied), "{denied:?}");
        }
    }

    #[test]
    fn helpdesk_scans_and_triages_but_does_not_administer() {
        let helpdesk = Role::Helpdesk;
        assert!(helpdesk.allows(Capability::RunScans));
        assert!(helpdesk.allows(Capability::EditOverrides));
        assert!(helpdesk.allows(Capability::EditRemediation));
        assert!(!helpdesk.allows(Capability::ManageInventory));
        assert!(!helpdesk.allows(Capability::ManageUsers));
        assert!(!helpdesk.allows(Capability::ViewAudit));
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
