//! avsweep's web UI: pages, components and the server functions they call.
//! Compiled twice: for the server (`ssr`) and for the browser (`hydrate`).

pub mod api;
pub mod auth;
mod components;
mod format;
mod pages;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                // Named after the bundle: a release binary serves `avsweep.<hash>.css`.
                <link
                    rel="stylesheet"
                    id="leptos"
                    href=format!("/{}/{}.css", options.site_pkg_dir, options.output_name)
                />
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The page's Content-Security-Policy: scripts only from this origin or
/// inline with this response's nonce (the hydration script carries it), never
/// `unsafe-inline` or `eval`; WebAssembly may compile. Style attributes (the
/// progress bars' widths) are the one inline thing allowed. No framing.
#[cfg(feature = "ssr")]
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    let Some(nonce) = leptos::nonce::use_nonce() else {
        return;
    };
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    if let Ok(value) = http::HeaderValue::from_str(&content_security_policy(&nonce)) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser: this marks the page as hydrated, so
    // tests (and people debugging) can tell a live page from dead HTML.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    // Who is signed in, for the navigation (the server enforces access on every request).
    let me = Resource::new(|| (), |_| api::account::whoami());

    view! {
        <Title formatter=|page: String| format!("{page} · avsweep")/>
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="topbar">
                <A href="/" attr:class="brand">
                    <span class="brand-mark" aria-hidden="true">"◎"</span>
                    " avsweep"
                </A>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match me.await {
                            Ok(Some(user)) => view! { <MainNav user/> }.into_any(),
                            _ => ().into_any(),
                        }
                    })}
                </Transition>
            </header>
            <main id="main" class="page">
                <Routes fallback=pages::NotFound>
                    <Route path=path!("/") view=pages::Overview/>
                    <Route path=path!("/subnets/new") view=pages::AddSubnet/>
                    <Route path=path!("/subnets/:id") view=pages::SubnetPage/>
                    <Route path=path!("/hosts/:address") view=pages::HostPage/>
                    <Route path=path!("/profiles") view=pages::Profiles/>
                    <Route path=path!("/login") view=pages::Login/>
                    <Route path=path!("/setup") view=pages::Setup/>
                    <Route path=path!("/scans") view=pages::Scans/>
                    <Route path=path!("/admin/subnets") view=pages::AdminSubnets/>
                    <Route path=path!("/admin/exclusions") view=pages::AdminExclusions/>
                    <Route path=path!("/admin/profiles") view=pages::AdminProfiles/>
                    <Route path=path!("/admin/schedules") view=pages::AdminSchedules/>
                    <Route path=path!("/account") view=pages::Account/>
                    <Route path=path!("/admin/users") view=pages::Users/>
                    <Route path=path!("/admin/audit") view=pages::Audit/>
                </Routes>
            </main>
        </Router>
    }
}

/// The main navigation: only the links the user's role can use, who is
/// signed in, and "Sign out".
#[component]
fn MainNav(user: auth::CurrentUser) -> impl IntoView {
    use auth::Capability;
    let can_manage_inventory = user.can(Capability::ManageInventory);
    let can_manage_users = user.can(Capability::ManageUsers);
    let can_view_audit = user.can(Capability::ViewAudit);
    view! {
        <nav aria-label="Main">
            <A href="/">"Overview"</A>
            <Show when=move || can_manage_inventory>
                <A href="/subnets/new">"Add subnet"</A>
            </Show>
            <A href="/profiles">"Vendor profiles"</A>
            <A href="/scans">"Scans"</A>
            <Show when=move || can_manage_inventory>
                <A href="/admin/subnets">"Setup"</A>
            </Show>
            <Show when=move || can_manage_users>
                <A href="/admin/users">"Users"</A>
            </Show>
            <Show when=move || can_view_audit>
                <A href="/admin/audit">"Audit log"</A>
            </Show>
        </nav>
        <div class="account" data-testid="account">
            <A href="/account" attr:class="account-name">{user.username.clone()}</A>
            " "
            <span class="role-badge">{user.role.as_str()}</span>
            <form method="post" action="/auth/logout" class="signout-form">
                <button type="submit" class="button link">"Sign out"</button>
            </form>
        </div>
    }
}
