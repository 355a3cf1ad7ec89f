//! The signed-in person's own account: who am I, password, API tokens.

use leptos::prelude::*;

use crate::auth::CurrentUser;

/// Who is signed in, for the navigation bar. The one server function that
/// answers anonymous callers too (with `None`): it reveals nothing but that.
#[server(endpoint = "account/me")]
pub async fn whoami() -> Result<Option<CurrentUser>, ServerFnError> {
    Ok(crate::auth::ssr::current_user())
}
