use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// What the sign-in page says after a failed attempt. Never which of the two
/// fields was wrong: that would tell a guesser which usernames exist.
pub fn login_error_message(code: &str) -> Option<&'static str> {
    match code {
        "invalid" => Some("The username or password is not right. Check both and try again."),
        "throttled" => Some(
            "Too many failed sign-ins for this account or from this address. Wait a few minutes (at most 15) and try again.",
        ),
        _ => None,
    }
}

/// The sign-in form: a plain HTML form post to `/auth/login`, so it works
/// before (and without) the browser app.
#[component]
pub fn Login() -> impl IntoView {
    let query = use_query_map();
    let error_code = query.read_untracked().get("error").unwrap_or_default();
    let next = query
        .read_untracked()
        .get("next")
        .unwrap_or_else(|| "/".to_owned());
    let message = login_error_message(&error_code);

    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        match error_code.as_str() {
            "invalid" => response.set_status(http::StatusCode::UNAUTHORIZED),
            "throttled" => response.set_status(http::StatusCode::TOO_MANY_REQUESTS),
            _ => {}
        }
    }

    view! {
        <Title text="Sign in"/>
        <section class="signin">
            <h1>"Sign in"</h1>
            <p class="lede">"avsweep shows which computers run no antivirus client. Sign in with the account an administrator gave you."</p>
            {message.map(|text| view! {
                <p id="signin-error" class="notice error" role="alert" data-testid="signin-error">{text}</p>
            })}
            <form class="form" method="post" action="/auth/login">
                <input type="hidden" name="next" value=next/>
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
                        aria-describedby=message.map(|_| "signin-error")
                    />
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input
                        id="password"
                        name="password"
                        type="password"
                        required
                        autocomplete="current-password"
                        maxlength="256"
                    />
                </div>
                <button type="submit" class="button primary">"Sign in"</button>
            </form>
        </section>
    }
}
