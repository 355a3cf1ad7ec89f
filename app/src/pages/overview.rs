use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::views::{Counts, OverviewReport, load_overview};
use crate::components::{
    CoverageBar, ErrorNotice, RelativeTime, TrendChart, TrendPoint, error_text,
};
use crate::format;

#[component]
pub fn Overview() -> impl IntoView {
    let report = Resource::new(|| (), |_| load_overview());
    view! {
        <Title text="Overview"/>
        <h1>"Coverage overview"</h1>
        <p class="lede">
            "Compliance is the share of answering Windows-class hosts with an AV agent port open. "
            "Hosts whose AV port is filtered are counted as unknown, never as protected."
        </p>
        <Suspense fallback=|| view! { <p class="muted">"Loading coverage…"</p> }>
            {move || Suspend::new(async move {
                match report.await {
                    Ok(report) if report.subnets_defined == 0 => view! { <NoSubnetsYet/> }.into_any(),
                    Ok(report) => view! { <OverviewView report/> }.into_any(),
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

fn dash_or(n: Option<u64>) -> String {
    n.map(|n| format::count(i64::try_from(n).unwrap_or(i64::MAX)))
        .unwrap_or_else(|| "—".into())
}

#[component]
fn OverviewView(report: OverviewReport) -> impl IntoView {
    let OverviewReport {
        subnets_defined,
        overall,
        trend,
        subnets,
        sites,
        newly_unprotected,
    } = report;
    let compliance = overall.compliance_percent();
    let unscanned = subnets_defined.saturating_sub(subnets.len());
    let points: Vec<TrendPoint> = trend
        .into_iter()
        .map(|p| TrendPoint {
            label: format::timestamp(&p.finished.at),
            percent: p.counts.compliance_percent(),
            note: format!(
                "scan {}: {} without AV, {} unknown",
                p.scan_id, p.counts.unprotected, p.counts.unknown
            ),
        })
        .collect();
    view! {
        <section class="summary" aria-label="Whole estate">
            <div class="kpi">
                <span class="kpi-label">"Compliance, all subnets"</span>
                <span class="kpi-value big" data-testid="overall-compliance">
                    {compliance.map(format::percent).unwrap_or_else(|| "n/a".into())}
                </span>
                <CoverageBar percent=compliance/>
            </div>
            <dl class="counts">
                <div><dt>"Protected"</dt><dd data-testid="overall-protected">{dash_or(Some(overall.protected))}</dd></div>
                <div><dt>"No AV found"</dt><dd data-testid="overall-unprotected">{dash_or(Some(overall.unprotected))}</dd></div>
                <div><dt>"Unknown (filtered)"</dt><dd data-testid="overall-unknown">{dash_or(Some(overall.unknown))}</dd></div>
                <div><dt>"Out of scope"</dt><dd data-testid="overall-out-of-scope">{dash_or(Some(overall.out_of_scope))}</dd></div>
            </dl>
            {(unscanned > 0).then(|| view! {
                <p class="muted">{format!("{unscanned} of {subnets_defined} subnets have not been scanned yet and are not counted.")}</p>
            })}
        </section>
        {(!points.is_empty()).then(|| view! {
            <section aria-labelledby="trend-heading" class="card">
                <h2 id="trend-heading">"Compliance over the last scans"</h2>
                <TrendChart title="Estate compliance".to_owned() points/>
            </section>
        })}
        <section aria-labelledby="new-gaps-heading">
            <h2 id="new-gaps-heading">{format!("Newly unprotected since the last scan ({})", newly_unprotected.len())}</h2>
            {if newly_unprotected.is_empty() {
                view! { <p class="muted">"No host lost its AV agent port since each subnet's previous scan."</p> }.into_any()
            } else {
                view! {
                    <ul class="new-gaps" data-testid="newly-unprotected">
                        {newly_unprotected.into_iter().map(|gap| {
                            let href = format!("/hosts/{}", gap.address);
                            let subnet_href = format!("/subnets/{}", gap.subnet_id);
                            view! {
                                <li>
                                    <A href=href attr:class="mono">{gap.address}</A>
                                    {gap.dns_name.map(|n| format!(" ({n})"))}
                                    " in "
                                    <A href=subnet_href>{gap.subnet_name}</A>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
        {(sites.len() > 1 || sites.iter().any(|s| s.name != "No site")).then(|| view! {
            <section aria-labelledby="sites-heading">
                <h2 id="sites-heading">"Sites, worst first"</h2>
                <table class="data">
                    <caption class="visually-hidden">"Sites and their coverage, worst first"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Site"</th>
                            <th scope="col" class="num">"Subnets"</th>
                            <th scope="col">"Compliance"</th>
                            <th scope="col" class="num">"No AV found"</th>
                            <th scope="col" class="num">"Unknown"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {sites.into_iter().map(|site| view! {
                            <tr>
                                <th scope="row">{site.name}</th>
                                <td class="num">{site.subnets}</td>
                                <td><CoverageBar percent=site.counts.compliance_percent()/></td>
                                <td class="num">{dash_or(Some(site.counts.unprotected))}</td>
                                <td class="num">{dash_or(Some(site.counts.unknown))}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
        })}
        <section aria-labelledby="subnets-heading">
            <h2 id="subnets-heading">"Subnets, worst first"</h2>
            {if subnets.is_empty() {
                view! { <p class="notice">"No subnet has a finished scan yet. Open a subnet and press “Scan now”."</p> }.into_any()
            } else {
                view! { <SubnetTable subnets/> }.into_any()
            }}
        </section>
    }
    .into_any()
}

#[component]
fn SubnetTable(subnets: Vec<crate::api::views::SubnetCoverage>) -> impl IntoView {
    view! {
        <table class="data" data-testid="subnet-table">
            <caption class="visually-hidden">"Subnets and their coverage, worst first"</caption>
            <thead>
                <tr>
                    <th scope="col">"Subnet"</th>
                    <th scope="col">"CIDR"</th>
                    <th scope="col">"Site"</th>
                    <th scope="col">"Compliance"</th>
                    <th scope="col" class="num">"No AV found"</th>
                    <th scope="col" class="num">"Unknown"</th>
                    <th scope="col">"Last scan"</th>
                </tr>
            </thead>
            <tbody>
                {subnets
                    .into_iter()
                    .map(|row| {
                        let href = format!("/subnets/{}", row.id);
                        let Counts { unprotected, unknown, .. } = row.counts.clone();
                        view! {
                            <tr>
                                <th scope="row"><A href=href>{row.name}</A></th>
                                <td class="mono">{row.cidr}</td>
                                <td>{row.site.unwrap_or_else(|| "—".into())}</td>
                                <td><CoverageBar percent=row.counts.compliance_percent()/></td>
                                <td class="num">{dash_or(Some(unprotected))}</td>
                                <td class="num">{dash_or(Some(unknown))}</td>
                                <td><RelativeTime moment=row.last_scan/></td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
