use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// What the setup page says after a refused attempt.
pub fn setup_error_message(code: &str) -> Option<&'static str> {
    match code {
        "closed" => Some(
            "This install has an admin already, or the link was used. Sign in, or ask an admin for an account.",
        ),
        "token" => Some(
            "This link is not the one the server printed. Copy the whole link from the server's output (a restart prints a new one).",
        ),
        "expired" => Some(
            "The link has expired for other machines. Open it on the server itself, or restart avsweep for a new link.",
        ),
        "mismatch" => Some("The two passwords differ. Type the same password twice."),
        "username" => Some("Choose a username of up to 64 letters, digits and . _ - @."),
        "password" => Some("Choose a password of at least 12 characters that is not the username."),
        _ => None,
    }
}

/// First run: creates the first admin from the one-time link the server
/// printed. A plain HTML form post to `/auth/setup`, like signing in.
#[component]
pub fn Setup() -> impl IntoView {
    let query = use_query_map();
    let token = query.read_untracked().get("token").unwrap_or_default();
    let error_code = query.read_untracked().get("error").unwrap_or_default();
    let message = setup_error_message(&error_code);
    let has_token = !token.is_empty();

    view! {
        <Title text="Set up avsweep"/>
        <section class="signin">
            <h1>"Create the first admin"</h1>
            <p class="lede">
                "This account can add subnets, people and schedules. The link works once; afterwards sign in as usual."
            </p>
            {message.map(|text| view! {
                <p id="setup-error" class="notice error" role="alert" data-testid="setup-error">{text}</p>
            })}
            {if has_token {
                view! {
                    <form class="form" method="post" action="/auth/setup">
                        <input type="hidden" name="token" value=token/>
                        <div class="field">
                            <label for="username">"Username"</label>
                            <input
                                id="username"
                                name="username"
                                type="text"
                                required
                                autocomplete="username"
                                autocapitalize="none"
                                spellcheck="false"
                                maxlength="64"
                                autofocus
                                aria-describedby=message.map(|_| "setup-error")
                            />
                        </div>
                        <div class="field">
                            <label for="password">"Password"</label>
                            <input
                                id="password"
                                name="password"
                                type="password"
                                required
                                minlength="12"
                                autocomplete="new-password"
                                maxlength="256"
                                aria-describedby="password-hint"
                            />
                            <p id="password-hint" class="help">"At least 12 characters, not the username."</p>
                        </div>
                        <div class="field">
                            <label for="password_again">"Password again"</label>
                            <input
                                id="password_again"
                                name="password_again"
                                type="password"
                                required
                                minlength="12"
                                autocomplete="new-password"
                                maxlength="256"
                            />
                        </div>
                        <button type="submit" class="button primary">"Create admin and sign in"</button>
                    </form>
                }
                    .into_any()
            } else {
                view! {
                    <p class="notice">
                        "Open this page with the link avsweep printed when it started (it ends in "
                        <code>"?token=…"</code>
                        "). Already set up? "
                        <a href="/login">"Sign in"</a>
                        "."
                    </p>
                }
                    .into_any()
            }}
        </section>
    }
}
