//! One host: every piece of evidence the newest scan found, what people
//! decided about it, its remediation status and its verdicts over time.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api::views::{
    AcknowledgeHosts, ClearHostOverride, HostEvidence, HostReport, SetHostOverrides, load_host,
};
use crate::components::{ErrorNotice, RelativeTime, VerdictBadge, error_text};

#[component]
pub fn HostPage() -> impl IntoView {
    let params = use_params_map();
    let address = move || params.read().get("address").unwrap_or_default();
    let set_override = ServerAction::<SetHostOverrides>::new();
    let clear = ServerAction::<ClearHostOverride>::new();
    let acknowledge = ServerAction::<AcknowledgeHosts>::new();
    let report = Resource::new(
        move || {
            (
                address(),
                set_override.version().get(),
                clear.version().get(),
                acknowledge.version().get(),
            )
        },
        |(address, ..)| load_host(address),
    );
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading host…"</p> }>
            {move || Suspend::new(async move {
                match report.await {
                    Ok(report) => view! { <HostView report set_override clear acknowledge/> }.into_any(),
                    Err(e) => view! {
                        <Title text="Host"/>
                        <h1>"Host"</h1>
                        <ErrorNotice message=error_text(&e)/>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The message of an action's last failure, if it failed.
fn action_error<T, F>(action: ServerAction<F>) -> impl Fn() -> Option<String> + Copy
where
    T: Clone + Send + Sync + 'static,
    F: leptos::server_fn::ServerFn<Output = T, Error = ServerFnError> + Clone + Sync + 'static,
{
    move || match action.value().get() {
        Some(Err(e)) => Some(error_text(&e)),
        _ => None,
    }
}

#[component]
fn HostView(
    report: HostReport,
    set_override: ServerAction<SetHostOverrides>,
    clear: ServerAction<ClearHostOverride>,
    acknowledge: ServerAction<AcknowledgeHosts>,
) -> impl IntoView {
    let HostReport {
        address,
        dns_name,
        latest,
        current_override,
        decisions,
        remediation,
        timeline,
        device_classes,
    } = report;
    let title = address.clone();
    let subnet_link = latest.as_ref().map(|l| format!("/subnets/{}", l.subnet_id));
    let override_error = action_error(set_override);
    let clear_error = action_error(clear);
    let ack_error = action_error(acknowledge);
    let (reason, set_reason) = signal(String::new());
    let (class, set_class) = signal(String::new());
    let (note, set_note) = signal(String::new());
    let addr_for_override = address.clone();
    let addr_for_clear = address.clone();
    let addr_for_ack = address.clone();
    let is_open = remediation
        .as_ref()
        .map(|r| r.status == "open")
        .unwrap_or(false);
    view! {
        <Title text=title/>
        <div class="page-head">
            <div>
                <h1 class="mono">{address.clone()}</h1>
                <p class="muted">{dns_name.unwrap_or_else(|| "No reverse-DNS name".into())}</p>
            </div>
            <div class="actions">
                {subnet_link.map(|href| view! { <A href=href attr:class="button">"Back to its subnet"</A> })}
            </div>
        </div>
        {match latest {
            Some(evidence) => view! { <Evidence evidence/> }.into_any(),
            None => view! { <p class="notice">"No finished scan has a result for this address."</p> }.into_any(),
        }}
        <section aria-labelledby="override-heading" class="card">
            <h2 id="override-heading">"Override"</h2>
            {match current_override {
                Some(o) => view! {
                    <p data-testid="current-override">
                        {match (o.out_of_scope, o.device_class) {
                            (true, Some(c)) => format!("Out of scope (device class {c})"),
                            (true, None) => "Out of scope".to_owned(),
                            (false, Some(c)) => format!("Device class set to {c}"),
                            (false, None) => "Override".to_owned(),
                        }}
                        {format!(" — “{}”, by {} ", o.reason, o.by)}
                        <RelativeTime moment=o.at/>
                    </p>
                    <button type="button" class="button"
                        disabled=move || clear.pending().get()
                        on:click=move |_| { clear.dispatch(ClearHostOverride { address: addr_for_clear.clone() }); }>
                        "Clear override"
                    </button>
                    <p class="notice error" role="alert" hidden=move || clear_error().is_none()>{clear_error}</p>
                }.into_any(),
                None => view! { <p class="muted">"None: the verdict follows the scan evidence."</p> }.into_any(),
            }}
            <form class="inline-form" on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                let class = class.get();
                set_override.dispatch(SetHostOverrides {
                    addresses: vec![addr_for_override.clone()],
                    out_of_scope: class.is_empty(),
                    device_class: (!class.is_empty()).then_some(class),
                    reason: reason.get(),
                });
            }>
                <div class="field">
                    <label for="host-class">"Change to"</label>
                    <select id="host-class" on:change=move |ev| set_class.set(event_target_value(&ev))>
                        <option value="">"Out of scope"</option>
                        {device_classes.into_iter().map(|c| view! { <option value=c.clone()>{format!("Device class: {c}")}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field grow">
                    <label for="host-reason">"Reason"</label>
                    <input id="host-reason" type="text" required prop:value=reason
                        on:input=move |ev| set_reason.set(event_target_value(&ev))/>
                </div>
                <div class="field actions">
                    <button type="submit" class="button primary" disabled=move || set_override.pending().get()>"Save override"</button>
                </div>
            </form>
            <p class="notice error" role="alert" hidden=move || override_error().is_none()>{override_error}</p>
            <h3>"Decisions about this host"</h3>
            {if decisions.is_empty() {
                view! { <p class="muted">"Nobody has overridden this host."</p> }.into_any()
            } else {
                view! {
                    <ol class="timeline" data-testid="override-history">
                        {decisions.into_iter().map(|d| view! {
                            <li><RelativeTime moment=d.at/>{format!(" — {}: {}", d.actor, d.summary)}</li>
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
        </section>
        <section aria-labelledby="remediation-heading" class="card">
            <h2 id="remediation-heading">"Remediation"</h2>
            {match remediation {
                Some(r) => view! {
                    <p data-testid="remediation-status">
                        <strong>{r.status.clone()}</strong>
                        {r.by.map(|b| format!(" — by {b}"))}
                        {r.note.filter(|n| !n.is_empty()).map(|n| format!(": “{n}”"))}
                        " "
                        {r.changed.map(|m| view! { <RelativeTime moment=m/> })}
                    </p>
                }.into_any(),
                None => view! { <p class="muted">"Never found unprotected, so there is nothing to remediate."</p> }.into_any(),
            }}
            {is_open.then(|| view! {
                <form class="inline-form" on:submit=move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    acknowledge.dispatch(AcknowledgeHosts { addresses: vec![addr_for_ack.clone()], note: note.get() });
                }>
                    <div class="field grow">
                        <label for="ack-note">"Note (ticket, owner)"</label>
                        <input id="ack-note" type="text" required prop:value=note
                            on:input=move |ev| set_note.set(event_target_value(&ev))/>
                    </div>
                    <div class="field actions">
                        <button type="submit" class="button primary" disabled=move || acknowledge.pending().get()>"Acknowledge"</button>
                    </div>
                </form>
            })}
            <p class="notice error" role="alert" hidden=move || ack_error().is_none()>{ack_error}</p>
        </section>
        <section aria-labelledby="timeline-heading">
            <h2 id="timeline-heading">"Verdicts across scans"</h2>
            <table class="data compact" data-testid="host-timeline">
                <caption class="visually-hidden">"Verdict of each scan, newest first"</caption>
                <thead>
                    <tr><th scope="col">"Scan"</th><th scope="col">"Finished"</th><th scope="col">"Verdict"</th><th scope="col">"Device"</th></tr>
                </thead>
                <tbody>
                    {timeline.into_iter().map(|t| view! {
                        <tr>
                            <td class="num">{t.scan_id}</td>
                            <td>{t.finished.map(|m| view! { <RelativeTime moment=m/> })}</td>
                            <td><VerdictBadge verdict=t.verdict/></td>
                            <td>{t.device_class}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
    .into_any()
}

#[component]
fn Evidence(evidence: HostEvidence) -> impl IntoView {
    view! {
        <section aria-labelledby="evidence-heading" class="card">
            <h2 id="evidence-heading">"Evidence from the newest scan"</h2>
            <dl class="facts">
                <div><dt>"Verdict"</dt><dd data-testid="host-verdict"><VerdictBadge verdict=evidence.verdict/></dd></div>
                <div><dt>"Scan"</dt><dd>{format!("#{} ", evidence.scan_id)}{evidence.finished.map(|m| view! { <RelativeTime moment=m/> })}</dd></div>
                <div><dt>"Host state"</dt><dd>{format!("{} ({})", evidence.host_state, evidence.host_reason)}</dd></div>
                <div><dt>"Device class"</dt><dd data-testid="host-device">{format!("{} (confidence {} %)", evidence.device_class, evidence.device_confidence)}</dd></div>
                <div><dt>"Matched profile"</dt><dd>{evidence.matched_profile.unwrap_or_else(|| "none".into())}</dd></div>
            </dl>
            {(!evidence.device_evidence.is_empty()).then(|| view! {
                <h3>"Why this device class"</h3>
                <ul>{evidence.device_evidence.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ul>
            })}
            <table class="data compact" data-testid="host-ports">
                <caption>"Every port probed"</caption>
                <thead>
                    <tr><th scope="col">"Port"</th><th scope="col">"State"</th><th scope="col">"Reason"</th><th scope="col">"Banner"</th></tr>
                </thead>
                <tbody>
                    {evidence.ports.into_iter().map(|p| view! {
                        <tr>
                            <td class="num">{p.port}</td>
                            <td>{p.state}</td>
                            <td>{p.reason}</td>
                            <td class="mono">
                                {match (p.banner_text, p.banner_hex) {
                                    (Some(text), Some(hex)) => view! { <span title=format!("hex: {hex}")>{text}</span> }.into_any(),
                                    _ => view! { <span class="muted">"none"</span> }.into_any(),
                                }}
                            </td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
    .into_any()
}
