use std::time::Duration;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::{CancelScan, ScanView, StartScan, SubnetReport, load_subnet_report};
use crate::components::{CoverageBar, ErrorNotice, error_text};
use crate::format;

/// How often the page asks for fresh numbers while a scan runs.
const POLL_EVERY: Duration = Duration::from_millis(800);

#[component]
pub fn SubnetPage() -> impl IntoView {
    let params = use_params_map();
    let subnet_id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i32>().ok())
    };
    let (refresh, set_refresh) = signal(0u32);
    provide_context(super::gaps::RefreshSubnet {
        refresh: set_refresh,
        outcome: RwSignal::new(None),
    });
    let report = Resource::new(
        move || (subnet_id(), refresh.get()),
        |(id, _)| async move {
            match id {
                Some(id) => load_subnet_report(id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let start = ServerAction::<StartScan>::new();
    let cancel = ServerAction::<CancelScan>::new();

    // Starting or cancelling a scan refreshes the page's numbers at once.
    Effect::new(move |_| {
        start.version().get();
        cancel.version().get();
        set_refresh.update(|n| *n += 1);
    });
    // While a scan is queued or running, poll until it finishes.
    Effect::new(move |_| {
        let active = matches!(
            report.get(),
            Some(Ok(Some(ref r))) if r.subnet.active.is_some()
        );
        if active {
            set_timeout(move || set_refresh.update(|n| *n += 1), POLL_EVERY);
        }
    });

    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading subnet…"</p> }>
            {move || Suspend::new(async move {
                match report.await {
                    Ok(Some(report)) => view! {
                        <SubnetView report start cancel/>
                    }.into_any(),
                    Ok(None) => view! { <super::NotFound/> }.into_any(),
                    Err(e) => view! {
                        <Title text="Subnet"/>
                        <ErrorNotice message=error_text(&e)/>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn SubnetView(
    report: SubnetReport,
    start: ServerAction<StartScan>,
    cancel: ServerAction<CancelScan>,
) -> impl IntoView {
    let SubnetReport {
        subnet, gap_total, ..
    } = report;
    let subnet_id = subnet.id;
    let active = subnet.active.clone();
    let start_error = move || match start.value().get() {
        Some(Err(e)) => Some(error_text(&e)),
        _ => None,
    };
    // Over the address cap the server asks for a confirmation; offer it right there.
    let needs_confirmation =
        move || start_error().is_some_and(|message| message.contains("confirm the large scan"));
    view! {
        <Title text=subnet.name.clone()/>
        <div class="page-head">
            <div>
                <h1>{subnet.name.clone()}</h1>
                <p class="mono muted">{subnet.cidr.clone()}</p>
            </div>
            <div class="actions">
                {match active.clone() {
                    Some(scan) => view! {
                        <button
                            type="button"
                            class="button"
                            disabled=move || cancel.pending().get() || scan.status == "cancelling"
                            on:click=move |_| { cancel.dispatch(CancelScan { scan_id: scan.id }); }
                        >
                            "Cancel scan"
                        </button>
                    }.into_any(),
                    None => view! {
                        <button
                            type="button"
                            class="button primary"
                            data-testid="scan-now"
                            disabled=move || start.pending().get()
                            on:click=move |_| {
                                start.dispatch(StartScan { subnet_id, confirm_large: false, max_rate: None });
                            }
                        >
                            "Scan now"
                        </button>
                        <button
                            type="button"
                            class="button"
                            data-testid="scan-confirm-large"
                            hidden=move || !needs_confirmation()
                            disabled=move || start.pending().get()
                            on:click=move |_| {
                                start.dispatch(StartScan { subnet_id, confirm_large: true, max_rate: None });
                            }
                        >
                            "Scan all addresses anyway"
                        </button>
                    }.into_any(),
                }}
            </div>
        </div>
        <p class="notice error" role="alert" hidden=move || start_error().is_none()>{start_error}</p>
        {active.map(|scan| view! { <ScanProgress scan/> })}
        {match subnet.last_done {
            Some(scan) => view! { <LastScan scan gap_total subnet_id/> }.into_any(),
            None => view! {
                <section class="empty-state">
                    <h2>"Not scanned yet"</h2>
                    <p>"Press “Scan now” to probe every address of this subnet for the enabled vendor profiles' ports."</p>
                </section>
            }.into_any(),
        }}
    }
}

#[component]
fn ScanProgress(scan: ScanView) -> impl IntoView {
    let percent = scan.progress_percent();
    view! {
        <section class="card" aria-live="polite">
            <h2>{format!("Scan {} ({})", scan.id, scan.status)}</h2>
            <progress max="100" value=format!("{percent:.0}") aria-label="Scan progress"></progress>
            <p data-testid="scan-progress">
                {format!(
                    "{} of {} addresses probed · {} hosts up so far",
                    format::count(scan.done_addresses),
                    format::count(scan.total_addresses),
                    scan.hosts_up,
                )}
            </p>
        </section>
    }
}

#[component]
fn LastScan(scan: ScanView, gap_total: i64, subnet_id: i32) -> impl IntoView {
    let compliance = scan.compliance_percent();
    let finished = scan
        .finished_at
        .as_deref()
        .map(format::timestamp)
        .unwrap_or_default();
    view! {
        <section class="summary" aria-label="Last scan">
            <div class="kpi">
                <span class="kpi-label">"Compliance"</span>
                <span class="kpi-value" data-testid="compliance">
                    {compliance.map(format::percent).unwrap_or_else(|| "n/a".into())}
                </span>
                <CoverageBar percent=compliance/>
            </div>
            <dl class="counts">
                <div><dt>"Protected"</dt><dd data-testid="count-protected">{scan.protected}</dd></div>
                <div><dt>"No AV found"</dt><dd data-testid="count-unprotected">{scan.unprotected}</dd></div>
                <div><dt>"Unknown (filtered)"</dt><dd data-testid="count-unknown">{scan.unknown}</dd></div>
                <div><dt>"Out of scope"</dt><dd>{scan.out_of_scope}</dd></div>
                <div><dt>"Hosts up"</dt><dd data-testid="count-up">{scan.hosts_up}</dd></div>
            </dl>
            <p class="muted">
                {format!("Scan {} finished {finished}; ports probed: {}.", scan.id, scan.ports)}
                {scan.error.map(|e| format!(" Note: {e}"))}
            </p>
        </section>
        {if compliance.is_none() && gap_total == 0 {
            view! {
                <p class="notice">
                    "No Windows-class host answered in this scan, so there is nothing to count. "
                    "Check that this subnet is reachable from the avsweep server."
                </p>
            }.into_any()
        } else if gap_total == 0 {
            view! { <p class="notice success">"Every answering host in scope showed an AV agent port."</p> }.into_any()
        } else {
            view! { <super::gaps::GapSection subnet_id/> }.into_any()
        }}
    }
}
