use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::account::{ChangePassword, CreateToken, RevokeToken, list_tokens};
use crate::components::{ErrorNotice, error_text};

/// The signed-in person's own account: password and API tokens.
#[component]
pub fn Account() -> impl IntoView {
    view! {
        <Title text="Your account"/>
        <h1>"Your account"</h1>
        <PasswordForm/>
        <Tokens/>
    }
}

#[component]
fn PasswordForm() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let outcome = change.value();
    view! {
        <h2>"Change your password"</h2>
        <p class="lede">"At least 12 characters, not your username. Changing it signs you out everywhere, here too."</p>
        <ActionForm action=change attr:class="form">
            <div class="field">
                <label for="current">"Current password"</label>
                <input id="current" name="current" type="password" required autocomplete="current-password"/>
            </div>
            <div class="field">
                <label for="new">"New password"</label>
                <input id="new" name="new" type="password" required minlength="12" autocomplete="new-password"/>
            </div>
            <button type="submit" class="button primary">"Change password"</button>
        </ActionForm>
        {move || match outcome.get() {
            Some(Ok(())) => view! {
                <p class="notice success" role="status">
                    "Your password was changed and every session ended. "
                    <a href="/login">"Sign in again"</a>
                </p>
            }.into_any(),
            Some(Err(e)) => view! { <p class="notice error" role="alert">{error_text(&e)}</p> }.into_any(),
            None => ().into_any(),
        }}
    }
}

#[component]
fn Tokens() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let created = create.value();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_tokens(),
    );
    view! {
        <h2>"API tokens"</h2>
        <p class="lede">
            "For scripts: send " <code>"Authorization: Bearer <token>"</code>
            ". A token can do what your role can. It is shown once; avsweep keeps only a hash."
        </p>
        <ActionForm action=create attr:class="form">
            <div class="field">
                <label for="token-name">"Token name"</label>
                <input id="token-name" name="name" type="text" required maxlength="80" placeholder="nightly export"/>
            </div>
            <button type="submit" class="button primary">"Create token"</button>
        </ActionForm>
        {move || match created.get() {
            Some(Ok(new)) => view! {
                <div class="notice success" role="status">
                    <p>{format!("Token “{}” created. Copy it now; it will not be shown again:", new.token.name)}</p>
                    <p class="secret" data-testid="new-token">{new.secret}</p>
                </div>
            }.into_any(),
            Some(Err(e)) => view! { <p class="notice error" role="alert">{error_text(&e)}</p> }.into_any(),
            None => ().into_any(),
        }}
        <Transition fallback=|| view! { <p class="muted">"Loading tokens…"</p> }>
            {move || Suspend::new(async move {
                match tokens.await {
                    Ok(list) if list.is_empty() => view! { <p class="muted">"No tokens yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="data" data-testid="token-list">
                            <caption class="visually-hidden">"Your API tokens"</caption>
                            <thead><tr>
                                <th scope="col">"Name"</th>
                                <th scope="col">"Starts with"</th>
                                <th scope="col">"Created"</th>
                                <th scope="col">"Last used"</th>
                                <th scope="col">"Status"</th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|token| {
                                    let id = token.id;
                                    view! {
                                        <tr>
                                            <td>{token.name.clone()}</td>
                                            <td class="mono">{format!("{}…", token.prefix)}</td>
                                            <td>{token.created_at.clone()}</td>
                                            <td>{token.last_used_at.clone().unwrap_or_else(|| "never".into())}</td>
                                            <td>
                                                {if token.revoked {
                                                    view! { <span class="badge">"revoked"</span> }.into_any()
                                                } else {
                                                    view! {
                                                        <button type="button" class="button"
                                                            on:click=move |_| { revoke.dispatch(RevokeToken { token_id: id }); }>
                                                            {format!("Revoke {}", token.name)}
                                                        </button>
                                                    }.into_any()
                                                }}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <ErrorNotice message=error_text(&e)/> }.into_any(),
                }
            })}
        </Transition>
    }
}
