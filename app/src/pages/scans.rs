//! `/scans`: start scans (subnets, profiles, -Pn, timing) with a live count of
//! the addresses they cover, follow running scans live (server-sent events),
//! cancel, and page through the history.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::ScanView;
use crate::api::ops::{
    CancelScanRun, HistoryPage, ScanProgress, StartOutcome, StartScans, load_scan_choices,
    preview_addresses, scan_history,
};
use crate::components::{ErrorNotice, error_text};
use crate::format;

/// The timing templates, with what each means to a person.
const TIMINGS: [(&str, &str); 6] = [
    ("T0", "T0 paranoid: one probe every 5 minutes"),
    ("T1", "T1 sneaky: one probe every 15 s"),
    ("T2", "T2 polite: 2.5 probes/s"),
    ("T3", "T3 normal"),
    ("T4", "T4 aggressive (recommended on a LAN)"),
    ("T5", "T5 insane: short timeouts, may miss slow hosts"),
];

#[component]
pub fn Scans() -> impl IntoView {
    let choices = Resource::new(|| (), |_| load_scan_choices());
    let page = RwSignal::new(1u64);
    // Bumped when a scan starts or ends, so the history is read again.
    let history_version = RwSignal::new(0u32);
    let history = Resource::new(
        move || (page.get(), history_version.get()),
        |(page, _)| scan_history(page),
    );

    view! {
        <Title text="Scans"/>
        <h1>"Scans"</h1>
        <p class="lede">
            "A scan connects to each address's AV agent ports. An open port is evidence of an agent; "
            "a filtered port is unknown, never missing."
        </p>
        <Suspense fallback=|| view! { <p class="muted">"Loading subnets and profiles…"</p> }>
            {move || Suspend::new(async move {
                match choices.await {
                    Ok(choices) if choices.subnets.is_empty() => view! {
                        <div class="empty-state">
                            <p>"No subnets are defined yet, so there is nothing to scan."</p>
                            <a href="/admin/subnets">"Define a subnet under Setup → Subnets"</a>
                        </div>
                    }.into_any(),
                    Ok(choices) if !choices.can_run => view! {
                        <p class="notice">"Your role may view scans but not start them."</p>
                    }.into_any(),
                    Ok(choices) => view! { <StartForm choices history_version/> }.into_any(),
                    Err(e) => view! { <ErrorNotice message=error_text(&e)/> }.into_any(),
                }
            })}
        </Suspense>
        <h2>"Running now"</h2>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match history.await {
                    Ok(data) => {
                        let active: Vec<ScanView> = data
                            .rows
                            .iter()
                            .map(|row| row.scan.clone())
                            .filter(ScanView::is_active)
                            .collect();
                        if active.is_empty() {
                            view! { <p class="muted" id="no-running">"No scan is running."</p> }.into_any()
                        } else {
                            active
                                .into_iter()
                                .map(|scan| view! { <LiveScan scan history_version/> })
                                .collect_view()
                                .into_any()
                        }
                    }
                    Err(e) => view! { <ErrorNotice message=error_text(&e)/> }.into_any(),
                }
            })}
        </Transition>
        <h2>"History"</h2>
        <Transition fallback=|| view! { <p class="muted">"Loading the history…"</p> }>
            {move || Suspend::new(async move {
                match history.await {
                    Ok(data) => view! { <HistoryTable data page/> }.into_any(),
                    Err(e) => view! { <ErrorNotice message=error_text(&e)/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn StartForm(
    choices: crate::api::ops::ScanChoices,
    history_version: RwSignal<u32>,
) -> impl IntoView {
    let subnets = RwSignal::new(Vec::<i32>::new());
    let profiles = RwSignal::new(Vec::<String>::new());
    let skip_discovery = RwSignal::new(false);
    let confirm_large = RwSignal::new(false);
    let timing = RwSignal::new("T4".to_owned());
    let preview = Resource::new(
        move || subnets.get(),
        |ids| async move {
            if ids.is_empty() {
                Ok(0)
            } else {
                preview_addresses(ids).await
            }
        },
    );
    let start = ServerAction::<StartScans>::new();
    Effect::new(move |_| {
        if let Some(Ok(StartOutcome::Started(_))) = start.value().get() {
            history_version.update(|v| *v += 1);
        }
    });
    let message_for = move |field: &'static str| {
        move || match start.value().get() {
            Some(Ok(StartOutcome::Invalid(messages))) => messages
                .into_iter()
                .find(|m| m.field == field)
                .map(|m| m.message),
            _ => None,
        }
    };
    let toggle_subnet = move |id: i32, on: bool| {
        subnets.update(|list| {
            list.retain(|x| *x != id);
            if on {
                list.push(id);
            }
        })
    };
    let toggle_profile = move |key: String, on: bool| {
        profiles.update(|list| {
            list.retain(|x| *x != key);
            if on {
                list.push(key);
            }
        })
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        start.dispatch(StartScans {
            subnet_ids: subnets.get_untracked(),
            profile_keys: profiles.get_untracked(),
            skip_discovery: skip_discovery.get_untracked(),
            timing: timing.get_untracked(),
            confirm_large: confirm_large.get_untracked(),
        });
    };
    view! {
        <form class="form wide" on:submit=submit novalidate>
            <fieldset class="choices" aria-describedby="subnets-error">
                <legend>"Subnets"</legend>
                {choices.subnets.into_iter().map(|s| {
                    let id = s.id;
                    let input_id = format!("subnet-{id}");
                    let label = if s.enabled {
                        format!("{} — {}", s.cidr, s.name)
                    } else {
                        format!("{} — {} (disabled)", s.cidr, s.name)
                    };
                    view! {
                        <label class="choice">
                            <input type="checkbox" id=input_id disabled=!s.enabled
                                data-cidr=s.cidr.clone()
                                on:change=move |ev| toggle_subnet(id, event_target_checked(&ev))/>
                            {label}
                        </label>
                    }
                }).collect_view()}
                <p id="subnets-error" class="field-error" role="alert">{message_for("subnets")}{message_for("subnet")}</p>
            </fieldset>
            <p class="preview" aria-live="polite" id="address-preview">
                <Transition fallback=|| "Counting…">
                    {move || Suspend::new(async move {
                        match preview.await {
                            Ok(0) => "Choose subnets to see how many addresses the scan covers.".to_owned(),
                            Ok(n) => format!(
                                "{} addresses after exclusions",
                                format::count(i64::try_from(n).unwrap_or(i64::MAX))
                            ),
                            Err(e) => error_text(&e),
                        }
                    })}
                </Transition>
            </p>
            <fieldset class="choices" aria-describedby="profiles-help profiles-error">
                <legend>"Vendor profiles"</legend>
                <p id="profiles-help" class="help">"None ticked = every enabled profile."</p>
                {choices.profiles.into_iter().map(|p| {
                    let key = p.key.clone();
                    let input_id = format!("profile-{}", p.key);
                    view! {
                        <label class="choice">
                            <input type="checkbox" id=input_id
                                on:change=move |ev| toggle_profile(key.clone(), event_target_checked(&ev))/>
                            {p.label}
                            <span class="muted mono">{format!(" ports {}", p.ports)}</span>
                        </label>
                    }
                }).collect_view()}
                <p id="profiles-error" class="field-error" role="alert">{message_for("profiles")}</p>
            </fieldset>
            <div class="field">
                <label class="choice" for="skip-discovery">
                    <input type="checkbox" id="skip-discovery"
                        on:change=move |ev| skip_discovery.set(event_target_checked(&ev))/>
                    "Treat all hosts as up (-Pn)"
                </label>
                <p class="help">"Probes every address even when it answers nothing else; slower, finds hosts behind strict firewalls."</p>
            </div>
            <div class="field">
                <label for="timing">"Timing"</label>
                <select id="timing" aria-describedby="timing-error"
                    on:change=move |ev| timing.set(event_target_value(&ev))>
                    {TIMINGS.into_iter().map(|(value, label)| view! {
                        <option value=value selected=value == "T4">{label}</option>
                    }).collect_view()}
                </select>
                <p id="timing-error" class="field-error" role="alert">{message_for("timing")}</p>
            </div>
            <div class="field">
                <label class="choice">
                    <input type="checkbox" id="confirm-large" aria-describedby="confirm_large-error"
                        on:change=move |ev| confirm_large.set(event_target_checked(&ev))/>
                    "I checked the subnets: start even if they exceed the address cap"
                </label>
                <p class="field-error" id="confirm_large-error" role="alert">{message_for("confirm_large")}</p>
            </div>
            <button type="submit" class="button primary" id="start-scan" disabled=move || start.pending().get()>
                {move || if start.pending().get() { "Starting…" } else { "Start scan" }}
            </button>
            {move || match start.value().get() {
                Some(Ok(StartOutcome::Started(scans))) => view! {
                    <p class="notice success" role="status">
                        {format!("{} scan(s) started; progress appears under Running now.", scans.len())}
                    </p>
                }.into_any(),
                Some(Err(e)) => view! { <p class="notice error" role="alert">{error_text(&e)}</p> }.into_any(),
                _ => ().into_any(),
            }}
        </form>
    }
}

fn snapshot(scan: &ScanView) -> ScanProgress {
    ScanProgress {
        id: scan.id,
        status: scan.status.clone(),
        total_addresses: scan.total_addresses,
        done_addresses: scan.done_addresses,
        hosts_up: scan.hosts_up,
        protected: scan.protected,
        unprotected: scan.unprotected,
        unknown: scan.unknown,
        out_of_scope: scan.out_of_scope,
        rate_per_second: None,
        eta_seconds: None,
        error: scan.error.clone(),
    }
}

/// One running scan: the server-rendered snapshot, then live updates.
#[component]
fn LiveScan(scan: ScanView, history_version: RwSignal<u32>) -> impl IntoView {
    let scan_id = scan.id;
    let progress = RwSignal::new(snapshot(&scan));
    let cancel = ServerAction::<CancelScanRun>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |started: Option<()>| {
        if started.is_none() {
            follow(scan_id, progress, move || {
                history_version.try_update(|v| *v += 1);
            });
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = history_version;
    let percent = move || progress.with(ScanProgress::percent);
    view! {
        <section class="card live-scan" aria-labelledby=format!("scan-{scan_id}-title") data-scan=scan_id>
            <h3 id=format!("scan-{scan_id}-title")>{format!("Scan #{scan_id}")}</h3>
            <progress
                max="100"
                value=move || format!("{:.1}", percent())
                aria-label=format!("Scan {scan_id} progress")
            ></progress>
            <p class="progress-line" aria-live="polite">
                <strong class="progress-percent">{move || format!("{:.0} %", percent())}</strong>
                {move || progress.with(|p| format!(
                    " · {} of {} addresses · {}",
                    format::count(p.done_addresses),
                    format::count(p.total_addresses),
                    p.status
                ))}
                {move || progress.with(|p| p.rate_per_second.map(|r| format!(" · {}", format::rate(r))))}
                {move || progress.with(|p| p.eta_seconds.map(|s| format!(" · about {} left", format::duration(s))))}
            </p>
            <dl class="counts">
                <div><dt>"Up"</dt><dd class="count-up">{move || progress.with(|p| p.hosts_up)}</dd></div>
                <div><dt>"Protected"</dt><dd class="count-protected">{move || progress.with(|p| p.protected)}</dd></div>
                <div><dt>"No AV found"</dt><dd class="count-unprotected">{move || progress.with(|p| p.unprotected)}</dd></div>
                <div><dt>"Unknown"</dt><dd>{move || progress.with(|p| p.unknown)}</dd></div>
                <div><dt>"Out of scope"</dt><dd>{move || progress.with(|p| p.out_of_scope)}</dd></div>
            </dl>
            <button type="button" class="button"
                disabled=move || cancel.pending().get() || !progress.with(ScanProgress::is_active)
                on:click=move |_| { cancel.dispatch(CancelScanRun { scan_id }); }>
                {move || if cancel.pending().get() { "Cancelling…" } else { "Cancel scan" }}
            </button>
            {move || match cancel.value().get() {
                Some(Err(e)) => view! { <p class="notice error" role="alert">{error_text(&e)}</p> }.into_any(),
                _ => ().into_any(),
            }}
        </section>
    }
}

/// Subscribes to the scan's server-sent events; closes the stream at "done".
#[cfg(feature = "hydrate")]
fn follow(scan_id: i32, progress: RwSignal<ScanProgress>, on_done: impl Fn() + 'static) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    let Ok(source) = web_sys::EventSource::new(&format!("/api/scans/{scan_id}/events")) else {
        return;
    };
    let read = |event: &web_sys::MessageEvent| {
        event
            .data()
            .as_string()
            .and_then(|text| serde_json::from_str::<ScanProgress>(&text).ok())
    };
    let on_progress =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            if let Some(update) = read(&event) {
                progress.try_set(update);
            }
        });
    let _ =
        source.add_event_listener_with_callback("progress", on_progress.as_ref().unchecked_ref());
    on_progress.forget();
    let closer = source.clone();
    let on_end =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            closer.close();
            if let Some(update) = read(&event) {
                progress.try_set(update);
            }
            on_done();
        });
    let _ = source.add_event_listener_with_callback("done", on_end.as_ref().unchecked_ref());
    on_end.forget();
}

#[component]
fn HistoryTable(data: HistoryPage, page: RwSignal<u64>) -> impl IntoView {
    if data.rows.is_empty() {
        return view! { <p class="empty-state" id="no-history">"No scan has run yet."</p> }
            .into_any();
    }
    let pages = data.total.div_ceil(data.page_size).max(1);
    let current = data.page;
    view! {
        <table class="data" id="scan-history">
            <caption class="visually-hidden">"Scan history, newest first"</caption>
            <thead>
                <tr>
                    <th scope="col">"#"</th>
                    <th scope="col">"Subnet"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Started"</th>
                    <th scope="col" class="num">"Duration"</th>
                    <th scope="col" class="num">"Addresses"</th>
                    <th scope="col" class="num">"Up"</th>
                    <th scope="col" class="num">"Protected"</th>
                    <th scope="col" class="num">"No AV found"</th>
                    <th scope="col" class="num">"Unknown"</th>
                    <th scope="col">"Options"</th>
                </tr>
            </thead>
            <tbody>
                {data.rows.into_iter().map(|row| {
                    let scan = row.scan;
                    let options = format!(
                        "{}{} · by {}",
                        row.timing,
                        if row.skip_discovery { " · -Pn" } else { "" },
                        row.requested_by
                    );
                    view! {
                        <tr data-scan=scan.id data-status=scan.status.clone()>
                            <td class="num">{scan.id}</td>
                            <td><span class="mono">{row.subnet_cidr}</span>" "<span class="muted">{row.subnet_name}</span></td>
                            <td><span class=format!("badge status-{}", scan.status)>{scan.status.clone()}</span>
                                {scan.error.map(|e| view! { <span class="field-error">{format!(" {e}")}</span> })}</td>
                            <td>{format::timestamp(&scan.created_at)}</td>
                            <td class="num">{row.duration_seconds.map(format::duration).unwrap_or_else(|| "—".into())}</td>
                            <td class="num">{format!("{} / {}", format::count(scan.done_addresses), format::count(scan.total_addresses))}</td>
                            <td class="num">{scan.hosts_up}</td>
                            <td class="num">{scan.protected}</td>
                            <td class="num">{scan.unprotected}</td>
                            <td class="num">{scan.unknown}</td>
                            <td class="muted">{options}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <nav class="pager" aria-label="History pages">
            // Braces keep `<=`/`>=` out of the tag syntax.
            <button type="button" class="button" disabled={current <= 1}
                on:click=move |_| { page.set(current.saturating_sub(1).max(1)); }>"Newer"</button>
            <span>{format!("Page {current} of {pages} · {} scans", data.total)}</span>
            <button type="button" class="button" disabled={current >= pages}
                on:click=move |_| { page.set(current + 1); }>"Older"</button>
        </nav>
    }
    .into_any()
}
