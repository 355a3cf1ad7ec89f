use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::list_profiles;
use crate::components::{ErrorNotice, error_text};

#[component]
pub fn Profiles() -> impl IntoView {
    let profiles = Resource::new(|| (), |_| list_profiles());
    view! {
        <Title text="Vendor profiles"/>
        <h1>"Vendor profiles"</h1>
        <p class="lede">
            "A profile names the TCP ports an AV agent listens on. An open port is evidence of an agent, "
            "not proof of a healthy install. Agents that only connect out cannot be seen by a port scan."
        </p>
        <Suspense fallback=|| view! { <p class="muted">"Loading profiles…"</p> }>
            {move || Suspend::new(async move {
                match profiles.await {
                    Ok(rows) => view! {
                        <table class="data">
                            <caption class="visually-hidden">"Vendor port profiles"</caption>
                            <thead>
                                <tr>
                                    <th scope="col">"Vendor"</th>
                                    <th scope="col">"Product"</th>
                                    <th scope="col">"TCP ports"</th>
                                    <th scope="col">"Banner check"</th>
                                    <th scope="col">"Used in scans"</th>
                                    <th scope="col">"Notes"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {rows.into_iter().map(|p| {
                                    let ports = if p.listens_on_nothing {
                                        "listens on nothing".to_owned()
                                    } else if p.ports.is_empty() {
                                        "set per site".to_owned()
                                    } else {
                                        p.ports.clone()
                                    };
                                    let used = if p.listens_on_nothing {
                                        "No: invisible to port scans"
                                    } else if p.enabled {
                                        "Yes"
                                    } else {
                                        "No"
                                    };
                                    view! {
                                        <tr data-profile=p.key.clone()>
                                            <td>{p.vendor}</td>
                                            <td>{p.product}</td>
                                            <td class="mono">{ports}</td>
                                            <td class="mono">{p.banner_regex.unwrap_or_else(|| "—".into())}</td>
                                            <td>{used}</td>
                                            <td class="notes">{p.notes}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <ErrorNotice message=error_text(&e)/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
