//! A subnet's gap list: filters, search, sorting and paging live in the URL
//! query (a plain GET form, so it is linkable and works without JS), the
//! actions work on the selected rows.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::views::{AcknowledgeHosts, GapList, GapParams, SetHostOverrides, load_gaps};
use crate::components::{ErrorNotice, VerdictBadge, error_text};
use crate::format;

/// Lets the gap list tell its page that numbers changed, and keeps the last
/// action's outcome while the page re-renders with the new numbers.
#[derive(Clone, Copy)]
pub struct RefreshSubnet {
    pub refresh: WriteSignal<u32>,
    pub outcome: RwSignal<Option<Result<String, String>>>,
}

fn params_from_query(query: &leptos_router::params::ParamsMap) -> GapParams {
    let text = |key: &str| query.get(key).filter(|v| !v.trim().is_empty());
    GapParams {
        verdict: text("verdict"),
        class: text("class"),
        remediation: text("remediation"),
        q: text("q"),
        sort: text("sort"),
        dir: text("dir"),
        page: query.get("page").and_then(|p| p.parse().ok()),
    }
}

#[component]
pub fn GapSection(subnet_id: i32) -> impl IntoView {
    let query = use_query_map();
    let params = Memo::new(move |_| params_from_query(&query.read()));
    let list = Resource::new(
        move || params.get(),
        move |params| load_gaps(subnet_id, params),
    );
    view! {
        <section aria-labelledby="gaps-heading">
            <h2 id="gaps-heading">"Hosts without an AV agent port open"</h2>
            {move || view! { <GapFilters subnet_id params=params.get()/> }}
            <Transition fallback=|| view! { <p class="muted">"Loading hosts…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(list) => view! { <GapTable subnet_id list params=params.get_untracked()/> }.into_any(),
                        Err(e) => view! { <ErrorNotice message=error_text(&e)/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

fn option(value: &str, label: &str, current: &Option<String>) -> impl IntoView + use<> {
    let selected = current.as_deref() == Some(value);
    view! { <option value=value.to_owned() selected=selected>{label.to_owned()}</option> }
}

#[component]
fn GapFilters(subnet_id: i32, params: GapParams) -> impl IntoView {
    let action = format!("/subnets/{subnet_id}");
    let export = {
        let mut for_export = params.clone();
        for_export.page = None;
        let query = for_export.to_query_string();
        if query.is_empty() {
            format!("/subnets/{subnet_id}/gaps.csv")
        } else {
            format!("/subnets/{subnet_id}/gaps.csv?{query}")
        }
    };
    view! {
        <form method="get" action=action class="filters" role="search" aria-label="Filter the gap list">
            <div class="field">
                <label for="gap-q">"Search address or name"</label>
                <input id="gap-q" name="q" type="search" value=params.q.clone().unwrap_or_default()
                    placeholder="10.1.2. or pc-042"/>
            </div>
            <div class="field">
                <label for="gap-verdict">"Verdict"</label>
                <select id="gap-verdict" name="verdict">
                    <option value="">"No AV found and unknown"</option>
                    {option("unprotected", "No AV found", &params.verdict)}
                    {option("unknown", "Unknown (filtered)", &params.verdict)}
                </select>
            </div>
            <div class="field">
                <label for="gap-class">"Device class"</label>
                <select id="gap-class" name="class">
                    <option value="">"Any"</option>
                    {option("windows", "Windows", &params.class)}
                    {option("unknown", "Unknown", &params.class)}
                </select>
            </div>
            <div class="field">
                <label for="gap-remediation">"Remediation"</label>
                <select id="gap-remediation" name="remediation">
                    <option value="">"Any"</option>
                    {option("open", "Open", &params.remediation)}
                    {option("acknowledged", "Acknowledged", &params.remediation)}
                    {option("fixed", "Fixed", &params.remediation)}
                </select>
            </div>
            <input type="hidden" name="sort" value=params.sort.clone().unwrap_or_default()/>
            <input type="hidden" name="dir" value=params.dir.clone().unwrap_or_default()/>
            <div class="field actions">
                <button type="submit" class="button">"Apply filters"</button>
                <a class="button" href=export rel="external" download="" data-testid="export-csv">"Export CSV"</a>
            </div>
        </form>
    }
    .into_any()
}

/// A link to the same list with other parameters.
fn list_href(subnet_id: i32, params: &GapParams) -> String {
    let query = params.to_query_string();
    if query.is_empty() {
        format!("/subnets/{subnet_id}")
    } else {
        format!("/subnets/{subnet_id}?{query}")
    }
}

#[component]
fn SortHeader(
    subnet_id: i32,
    params: GapParams,
    key: &'static str,
    label: &'static str,
) -> impl IntoView {
    let current = params.sort.as_deref().unwrap_or("address") == key;
    let descending = params.dir.as_deref() == Some("desc");
    let next = GapParams {
        sort: Some(key.to_owned()),
        dir: (current && !descending).then(|| "desc".to_owned()),
        page: None,
        ..params
    };
    let aria_sort = match (current, descending) {
        (false, _) => "none",
        (true, false) => "ascending",
        (true, true) => "descending",
    };
    let arrow = match (current, descending) {
        (false, _) => "",
        (true, false) => " ▲",
        (true, true) => " ▼",
    };
    view! {
        <th scope="col" aria-sort=aria_sort>
            <a href=list_href(subnet_id, &next)>{label}{arrow}</a>
        </th>
    }
}

#[component]
fn GapTable(subnet_id: i32, list: GapList, params: GapParams) -> impl IntoView {
    let GapList {
        total,
        page,
        page_size,
        rows,
        device_classes,
        ..
    } = list;
    let selected = RwSignal::new(Vec::<String>::new());
    let all_on_page: Vec<String> = rows.iter().map(|r| r.address.clone()).collect();
    let pages = total.div_ceil(page_size).max(1);
    let first_shown = if total == 0 {
        0
    } else {
        (page - 1) * page_size + 1
    };
    let last_shown = (page * page_size).min(total);
    let prev = (page > 1).then(|| GapParams {
        page: Some(page - 1),
        ..params.clone()
    });
    let next = (page < pages).then(|| GapParams {
        page: Some(page + 1),
        ..params.clone()
    });
    let toggle_all = {
        let all = all_on_page.clone();
        move |ev: leptos::ev::Event| {
            if event_target_checked(&ev) {
                selected.set(all.clone());
            } else {
                selected.set(Vec::new());
            }
        }
    };
    view! {
        <p class="muted" data-testid="gap-range">
            {if total == 0 {
                "No host matches these filters.".to_owned()
            } else {
                format!("Hosts {first_shown}–{last_shown} of {}", format::count(i64::try_from(total).unwrap_or(i64::MAX)))
            }}
        </p>
        <BulkActions selected device_classes/>
        {(total > 0).then(|| view! {
            <table class="data" data-testid="gap-list">
                <caption class="visually-hidden">"Hosts without an AV agent port open"</caption>
                <thead>
                    <tr>
                        <SortHeader subnet_id params=params.clone() key="address" label="Address"/>
                        <SortHeader subnet_id params=params.clone() key="name" label="Name"/>
                        <th scope="col">"Verdict"</th>
                        <SortHeader subnet_id params=params.clone() key="class" label="Device"/>
                        <th scope="col">"Remediation"</th>
                        <th scope="col">"Ports"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|host| {
                        let address = host.address.clone();
                        let checked_address = address.clone();
                        let toggle_address = address.clone();
                        let href = format!("/hosts/{address}");
                        view! {
                            <tr>
                                <td class="mono"><input
                                        type="checkbox"
                                        class="row-select"
                                        aria-label=format!("Select {address}")
                                        prop:checked=move || selected.read().contains(&checked_address)
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            selected.update(|s| {
                                                s.retain(|a| a != &toggle_address);
                                                if on { s.push(toggle_address.clone()); }
                                            });
                                        }
                                    /><a href=href>{address.clone()}</a></td>
                                <td>{host.dns_name.map(|name| view! { <span class="host-name">{name}</span> })}</td>
                                <td><VerdictBadge verdict=host.verdict/></td>
                                <td>{host.device_class}</td>
                                <td>{host.remediation.unwrap_or_else(|| "—".into())}</td>
                                <td class="mono" title=host.ports>
                                    {host.port_summary}
                                    {host.banner.map(|banner| view! {
                                        <span class="banner" title="What the open port answered (no profile's banner matched)">{banner}</span>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <div class="table-foot">
                <label class="select-all">
                    <input type="checkbox" on:change=toggle_all.clone()/>
                    " Select every host on this page"
                </label>
                <nav class="pager" aria-label="Pages">
                    {prev.map(|p| view! { <a rel="prev" href=list_href(subnet_id, &p)>"← Previous"</a> })}
                    <span>{format!("Page {page} of {pages}")}</span>
                    {next.map(|p| view! { <a rel="next" href=list_href(subnet_id, &p)>"Next →"</a> })}
                </nav>
            </div>
        })}
    }
    .into_any()
}

/// "1 host", "3 hosts".
fn hosts(n: usize) -> String {
    if n == 1 {
        "1 host".to_owned()
    } else {
        format!("{n} hosts")
    }
}

#[component]
fn BulkActions(selected: RwSignal<Vec<String>>, device_classes: Vec<String>) -> impl IntoView {
    let refresh = use_context::<RefreshSubnet>();
    let set_override = ServerAction::<SetHostOverrides>::new();
    let acknowledge = ServerAction::<AcknowledgeHosts>::new();
    let (kind, set_kind) = signal("out-of-scope".to_owned());
    let (class, set_class) = signal(device_classes.first().cloned().unwrap_or_default());
    let (reason, set_reason) = signal(String::new());
    let message = refresh
        .map(|r| r.outcome)
        .unwrap_or_else(|| RwSignal::new(None));

    Effect::new(move |_| {
        let outcome = set_override
            .value()
            .get()
            .map(|r| r.map(|n| format!("Override saved for {}.", hosts(n))))
            .or_else(|| {
                acknowledge
                    .value()
                    .get()
                    .map(|r| r.map(|n| format!("{} acknowledged for remediation.", hosts(n))))
            });
        if let Some(outcome) = outcome {
            let ok = outcome.is_ok();
            message.set(Some(outcome.map_err(|e| error_text(&e))));
            if ok {
                selected.set(Vec::new());
                if let Some(page) = refresh {
                    page.refresh.update(|n| *n += 1);
                }
            }
        }
    });

    let pending = move || set_override.pending().get() || acknowledge.pending().get();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let addresses = selected.get();
        let reason = reason.get();
        match kind.get().as_str() {
            "acknowledge" => {
                acknowledge.dispatch(AcknowledgeHosts {
                    addresses,
                    note: reason,
                });
            }
            "class" => {
                set_override.dispatch(SetHostOverrides {
                    addresses,
                    device_class: Some(class.get()),
                    out_of_scope: false,
                    reason,
                });
            }
            _ => {
                set_override.dispatch(SetHostOverrides {
                    addresses,
                    device_class: None,
                    out_of_scope: true,
                    reason,
                });
            }
        }
    };
    view! {
        <form class="bulk-actions" on:submit=submit aria-label="Act on the selected hosts">
            <div class="field">
                <label for="bulk-kind">"Action"</label>
                <select id="bulk-kind" on:change=move |ev| set_kind.set(event_target_value(&ev))>
                    <option value="out-of-scope">"Mark out of scope"</option>
                    <option value="class">"Set device class"</option>
                    <option value="acknowledge">"Acknowledge for remediation"</option>
                </select>
            </div>
            <div class="field" hidden=move || kind.get() != "class">
                <label for="bulk-class">"Device class"</label>
                <select id="bulk-class" on:change=move |ev| set_class.set(event_target_value(&ev))>
                    {device_classes.into_iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
                </select>
            </div>
            <div class="field grow">
                <label for="bulk-reason">{move || if kind.get() == "acknowledge" { "Note (ticket, owner)" } else { "Reason" }}</label>
                <input id="bulk-reason" type="text" required
                    prop:value=reason
                    on:input=move |ev| set_reason.set(event_target_value(&ev))/>
            </div>
            <div class="field actions">
                <button type="submit" class="button primary" data-testid="bulk-apply"
                    disabled=move || pending() || selected.read().is_empty()>
                    {move || match selected.read().len() {
                        0 => "Select hosts first".to_owned(),
                        1 => "Apply to 1 host".to_owned(),
                        n => format!("Apply to {n} hosts"),
                    }}
                </button>
            </div>
            <p role="status" class=move || match message.get() {
                Some(Ok(_)) => "notice success",
                Some(Err(_)) => "notice error",
                None => "visually-hidden",
            }>
                {move || match message.get() {
                    Some(Ok(text)) | Some(Err(text)) => text,
                    None => String::new(),
                }}
            </p>
        </form>
    }
    .into_any()
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::api::views::GapHostView;

    fn render(view: impl FnOnce() -> AnyView) -> String {
        let owner = Owner::new();
        owner.with(|| view().to_html())
    }

    fn filtered() -> GapParams {
        GapParams {
            verdict: Some("unprotected".into()),
            q: Some("127.1.".into()),
            page: Some(2),
            ..GapParams::default()
        }
    }

    #[test]
    fn the_export_link_keeps_the_filters_but_not_the_page() {
        let html = render(|| view! { <GapFilters subnet_id=7 params=filtered()/> }.into_any());
        assert!(
            html.contains(r#"href="/subnets/7/gaps.csv?verdict=unprotected&amp;q=127.1.""#),
            "{html}"
        );
        assert!(
            html.contains(r#"<option value="unprotected" selected"#),
            "{html}"
        );
        assert!(html.contains(r#"value="127.1.""#), "{html}");
    }

    #[test]
    fn the_table_links_sorting_and_pages_with_the_filters_kept() {
        let list = GapList {
            scan_id: Some(3),
            total: 120,
            page: 2,
            page_size: 50,
            rows: vec![GapHostView {
                address: "127.1.0.9".into(),
                dns_name: Some("pc9.lab".into()),
                verdict: "unprotected".into(),
                device_class: "windows".into(),
                remediation: Some("open".into()),
                ports: "2967/closed (conn-refused), 8081/open (syn-ack)".into(),
                port_summary: "open: 8081 · closed: 2967".into(),
                banner: Some("Server: <script>alert(1)</script>".into()),
            }],
            device_classes: vec!["windows".into(), "printer".into()],
        };
        let html = render(|| view! { <GapTable subnet_id=7 list params=filtered()/> }.into_any());
        assert!(html.contains("Hosts 51–100 of 120"), "{html}");
        assert!(html.contains("Page 2 of 3"), "{html}");
        assert!(
            html.contains(r#"href="/subnets/7?verdict=unprotected&amp;q=127.1.&amp;page=3""#),
            "next page keeps the filters: {html}"
        );
        assert!(
            html.contains(r#"href="/subnets/7?verdict=unprotected&amp;q=127.1.&amp;sort=name""#),
            "sorting starts again at page 1: {html}"
        );
        assert!(html.contains(r#"aria-label="Select 127.1.0.9""#), "{html}");
        assert!(html.contains(r#"href="/hosts/127.1.0.9""#), "{html}");
        assert!(html.contains("open: 8081 · closed: 2967"), "{html}");
        assert!(
            html.contains(r#"title="2967/closed (conn-refused), 8081/open (syn-ack)""#),
            "the reasons are one hover away: {html}"
        );
        assert!(
            html.contains("Server: &lt;script&gt;alert(1)&lt;/script&gt;"),
            "a banner is shown as escaped text: {html}"
        );
        assert!(
            html.contains(r#"<span class="host-name">pc9.lab</span>"#),
            "{html}"
        );
    }
}
