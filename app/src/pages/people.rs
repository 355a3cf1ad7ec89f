use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::admin::{AddUser, SetUserDisabled, SetUserRole, list_users, load_audit};
use crate::auth::Role;
use crate::components::{ErrorNotice, error_text};

/// Accounts and roles (admins only; the server checks ManageUsers).
#[component]
pub fn Users() -> impl IntoView {
    let add = ServerAction::<AddUser>::new();
    let set_role = ServerAction::<SetUserRole>::new();
    let set_disabled = ServerAction::<SetUserDisabled>::new();
    let users = Resource::new(
        move || {
            (
                add.version().get(),
                set_role.version().get(),
                set_disabled.version().get(),
            )
        },
        |_| list_users(),
    );
    let last_error = move || {
        [
            set_role.value().get().and_then(|r| r.err()),
            set_disabled.value().get().and_then(|r| r.err()),
        ]
        .into_iter()
        .flatten()
        .next()
    };
    view! {
        <Title text="Users"/>
        <h1>"Users"</h1>
        <h2>"Add a user"</h2>
        <ActionForm action=add attr:class="form">
            <div class="field">
                <label for="new-username">"Username"</label>
                <input id="new-username" name="username" type="text" required maxlength="64" autocomplete="off"/>
            </div>
            <div class="field">
                <label for="new-password">"Initial password"</label>
                <input id="new-password" name="password" type="password" required minlength="12" autocomplete="new-password"/>
            </div>
            <div class="field">
                <label for="new-role">"Role"</label>
                <select id="new-role" name="role">
                    {Role::ALL.into_iter().map(|r| view! { <option value=r.as_str()>{r.as_str()}</option> }).collect_view()}
                </select>
            </div>
            <button type="submit" class="button primary">"Add user"</button>
        </ActionForm>
        {move || add.value().get().map(|result| match result {
            Ok(user) => view! { <p class="notice success" role="status">{format!("{} was added as {}.", user.username, user.role)}</p> }.into_any(),
            Err(e) => view! { <p class="notice error" role="alert">{error_text(&e)}</p> }.into_any(),
        })}
        {move || last_error().map(|e| view! { <p class="notice error" role="alert">{error_text(&e)}</p> })}
        <h2>"Accounts"</h2>
        <Transition fallback=|| view! { <p class="muted">"Loading users…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(list) => view! {
                        <table class="data" data-testid="user-list">
                            <caption class="visually-hidden">"Accounts and roles"</caption>
                            <thead><tr>
                                <th scope="col">"Username"</th>
                                <th scope="col">"Role"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Actions"</th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|user| {
                                    let id = user.id;
                                    let disabled = user.disabled;
                                    let label = format!("Role of {}", user.username);
                                    view! {
                                        <tr>
                                            <td>{user.username.clone()}</td>
                                            <td>
                                                <select aria-label=label
                                                    on:change=move |ev| { set_role.dispatch(SetUserRole { user_id: id, role: event_target_value(&ev) }); }>
                                                    {Role::ALL.into_iter().map(|r| view! {
                                                        <option value=r.as_str() selected=r.as_str() == user.role>{r.as_str()}</option>
                                                    }).collect_view()}
                                                </select>
                                            </td>
                                            <td>{if disabled { "disabled" } else { "active" }}</td>
                                            <td>
                                                <button type="button" class="button"
                                                    on:click=move |_| { set_disabled.dispatch(SetUserDisabled { user_id: id, disabled: !disabled }); }>
                                                    {format!("{} {}", if disabled { "Enable" } else { "Disable" }, user.username)}
                                                </button>
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

/// The audit log, newest first; filters are query parameters (a plain GET form).
#[component]
pub fn Audit() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).filter(|v| !v.is_empty());
    let entries = Resource::new(
        move || {
            (
                param("actor"),
                param("action"),
                param("from"),
                param("to"),
                param("page").and_then(|p| p.parse::<u64>().ok()),
            )
        },
        |(actor, action, from, to, page)| load_audit(actor, action, from, to, page),
    );
    let page_link = move |delta: i64| {
        let current = param("page")
            .and_then(|p| p.parse::<i64>().ok())
            .unwrap_or(0);
        let mut parts = Vec::new();
        for name in ["actor", "action", "from", "to"] {
            if let Some(value) = param(name) {
                parts.push(format!(
                    "{name}={}",
                    value.replace('&', "%26").replace(' ', "+")
                ));
            }
        }
        parts.push(format!("page={}", (current + delta).max(0)));
        format!("/admin/audit?{}", parts.join("&"))
    };
    view! {
        <Title text="Audit log"/>
        <h1>"Audit log"</h1>
        <p class="lede">"Who changed what, when and from where. Entries can never be changed or deleted."</p>
        <form method="get" action="/admin/audit" class="form filters">
            <div class="field"><label for="f-actor">"Who"</label><input id="f-actor" name="actor" type="text" value=param("actor")/></div>
            <div class="field"><label for="f-action">"Action (e.g. scan.start, or user. for all user changes)"</label><input id="f-action" name="action" type="text" value=param("action")/></div>
            <div class="field"><label for="f-from">"From (day)"</label><input id="f-from" name="from" type="date" value=param("from")/></div>
            <div class="field"><label for="f-to">"To (day)"</label><input id="f-to" name="to" type="date" value=param("to")/></div>
            <button type="submit" class="button primary">"Filter"</button>
        </form>
        <Transition fallback=|| view! { <p class="muted">"Loading the audit log…"</p> }>
            {move || Suspend::new(async move {
                match entries.await {
                    Ok(page) if page.entries.is_empty() => view! { <p class="muted">"No entries match."</p> }.into_any(),
                    Ok(page) => view! {
                        <table class="data" data-testid="audit-list">
                            <caption class="visually-hidden">"Audit log entries, newest first"</caption>
                            <thead><tr>
                                <th scope="col">"When (UTC)"</th>
                                <th scope="col">"Who"</th>
                                <th scope="col">"From"</th>
                                <th scope="col">"Action"</th>
                                <th scope="col">"Subject"</th>
                                <th scope="col">"Detail"</th>
                            </tr></thead>
                            <tbody>
                                {page.entries.into_iter().map(|e| view! {
                                    <tr>
                                        <td>{e.at}</td>
                                        <td>{e.actor}</td>
                                        <td class="mono">{e.source.unwrap_or_else(|| "—".into())}</td>
                                        <td class="mono">{e.action}</td>
                                        <td class="mono">{e.subject}</td>
                                        <td class="mono">{e.detail}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        <nav aria-label="Audit log pages" class="pager">
                            <a href=page_link(-1)>"Newer"</a>
                            " "
                            {page.more.then(|| view! { <a href=page_link(1)>"Older"</a> })}
                        </nav>
                    }.into_any(),
                    Err(e) => view! { <ErrorNotice message=error_text(&e)/> }.into_any(),
                }
            })}
        </Transition>
    }
}
