use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::{SubnetRow, list_subnets};
use crate::components::{CoverageBar, ErrorNotice, error_text};
use crate::format;

#[component]
pub fn Overview() -> impl IntoView {
    let subnets = Resource::new(|| (), |_| list_subnets());
    view! {
        <Title text="Overview"/>
        <h1>"Coverage overview"</h1>
        <p class="lede">
            "Each subnet's compliance is the share of answering Windows-class hosts with an AV agent port open. "
            "Hosts whose AV port is filtered are counted as unknown, never as protected."
        </p>
        <Suspense fallback=|| view! { <p class="muted">"Loading subnets…"</p> }>
            {move || Suspend::new(async move {
                match subnets.await {
                    Ok(rows) if rows.is_empty() => view! { <NoSubnetsYet/> }.into_any(),
                    Ok(rows) => view! { <SubnetTable rows/> }.into_any(),
                    Err(e) => view! { <ErrorNotice message=error_text(&e)/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn NoSubnetsYet() -> impl IntoView {
    view! {
        <section class="empty-state">
            <h2>"No subnets yet"</h2>
            <p>
                "avsweep only ever scans subnets an administrator defined. "
                "Add the first one, then press “Scan now” on its page."
            </p>
            <A href="/subnets/new" attr:class="button primary">"Add a subnet"</A>
        </section>
    }
}

#[component]
fn SubnetTable(rows: Vec<SubnetRow>) -> impl IntoView {
    view! {
        <table class="data">
            <caption class="visually-hidden">"Subnets and their coverage"</caption>
            <thead>
                <tr>
                    <th scope="col">"Subnet"</th>
                    <th scope="col">"CIDR"</th>
                    <th scope="col">"Compliance"</th>
                    <th scope="col" class="num">"No AV found"</th>
                    <th scope="col" class="num">"Unknown"</th>
                    <th scope="col">"Last scan"</th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|row| {
                        let href = format!("/subnets/{}", row.id);
                        let status = match (&row.active, &row.last_done) {
                            (Some(active), _) => format!("{} now", active.status),
                            (None, Some(done)) => done
                                .finished_at
                                .as_deref()
                                .map(format::timestamp)
                                .unwrap_or_default(),
                            (None, None) => "never scanned".into(),
                        };
                        let compliance = row.last_done.as_ref().and_then(|s| s.compliance_percent());
                        let scanned = row.last_done.is_some();
                        let unprotected = row.last_done.as_ref().map(|s| s.unprotected);
                        let unknown = row.last_done.as_ref().map(|s| s.unknown);
                        view! {
                            <tr>
                                <th scope="row"><A href=href>{row.name}</A></th>
                                <td class="mono">{row.cidr}</td>
                                <td>
                                    {if scanned {
                                        view! { <CoverageBar percent=compliance/> }.into_any()
                                    } else {
                                        view! { <span class="muted">"—"</span> }.into_any()
                                    }}
                                </td>
                                <td class="num">{unprotected.map(|n| n.to_string()).unwrap_or_else(|| "—".into())}</td>
                                <td class="num">{unknown.map(|n| n.to_string()).unwrap_or_else(|| "—".into())}</td>
                                <td>{status}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
