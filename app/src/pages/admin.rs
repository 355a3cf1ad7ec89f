//! Setup pages for administrators: subnets and sites, exclusions, vendor
//! profiles (with a one-address test) and schedules.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::ops::{
    AddCustomProfile, AddExclusion, AddSchedule, AddSite, FormOutcome, ProfileTestOutcome,
    RemoveExclusion, SaveSubnet, SetProfileEnabled, SetScheduleEnabled, SetSubnetEnabled,
    TestProfile, list_exclusions, list_schedules, setup_profiles, setup_subnets,
};
use crate::components::{ErrorNotice, VerdictBadge, error_text};

#[component]
fn SetupNav() -> impl IntoView {
    view! {
        <nav class="subnav" aria-label="Setup">
            <A href="/admin/subnets">"Subnets and sites"</A>
            <A href="/admin/exclusions">"Exclusions"</A>
            <A href="/admin/profiles">"Vendor profiles"</A>
            <A href="/admin/schedules">"Schedules"</A>
        </nav>
    }
}

/// A form's outcome message: success, or the error in place.
fn outcome_notice(outcome: Option<Result<FormOutcome, ServerFnError>>) -> AnyView {
    match outcome {
        Some(Ok(FormOutcome::Saved(message))) => {
            view! { <p class="notice success" role="status">{message}</p> }.into_any()
        }
        Some(Ok(FormOutcome::Invalid(_))) => view! {
            <p class="notice error" role="alert">"Please correct the fields marked below."</p>
        }
        .into_any(),
        Some(Err(e)) => {
            view! { <p class="notice error" role="alert">{error_text(&e)}</p> }.into_any()
        }
        None => ().into_any(),
    }
}

/// The message for one field of a form's last outcome.
fn field_message<S>(
    value: S,
    field: &'static str,
) -> impl Fn() -> Option<String> + Copy + Send + Sync + 'static
where
    S: Get<Value = Option<Result<FormOutcome, ServerFnError>>> + Copy + Send + Sync + 'static,
{
    move || match value.get() {
        Some(Ok(outcome)) => outcome.message_for(field),
        _ => None,
    }
}

/// A labelled text input with its help and error lines.
#[component]
fn TextField(
    id: &'static str,
    label: &'static str,
    #[prop(optional)] help: &'static str,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional, into)] value: String,
    /// The form field's name, when it differs from the element id.
    #[prop(optional)]
    name: Option<&'static str>,
    error: impl Fn() -> Option<String> + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id name=name.unwrap_or(id) type="text" placeholder=placeholder value=value autocomplete="off"
                aria-describedby=format!("{id}-help {id}-error")
                aria-invalid=move || error().is_some().to_string()/>
            <p id=format!("{id}-help") class="help">{help}</p>
            <p id=format!("{id}-error") class="field-error" role="alert">{error}</p>
        </div>
    }
}

#[component]
pub fn AdminSubnets() -> impl IntoView {
    let save = ServerAction::<SaveSubnet>::new();
    let edit = ServerAction::<SaveSubnet>::new();
    let add_site = ServerAction::<AddSite>::new();
    let toggle = ServerAction::<SetSubnetEnabled>::new();
    let data = Resource::new(
        move || {
            (
                save.version().get(),
                edit.version().get(),
                add_site.version().get(),
                toggle.version().get(),
            )
        },
        |_| setup_subnets(),
    );
    let value = save.value();
    let site_value = add_site.value();
    view! {
        <Title text="Subnets and sites"/>
        <SetupNav/>
        <h1>"Subnets and sites"</h1>
        <p class="lede">"avsweep scans only subnets defined here. A disabled subnet keeps its history and is not scanned."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading subnets…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(setup) => {
                        let sites = setup.sites.clone();
                        let sites_for_edit = setup.sites.clone();
                        view! {
                            <h2>"Add a subnet"</h2>
                            <ActionForm action=save attr:class="form" attr:novalidate=true attr:id="add-subnet">
                                <TextField id="cidr" label="Subnet (CIDR)" placeholder="10.20.0.0/24"
                                    help="Network address and prefix length." error=field_message(value, "cidr")/>
                                <TextField id="name" label="Name" placeholder="HQ floor 2" error=field_message(value, "name")/>
                                <div class="field">
                                    <label for="site_id">"Site"</label>
                                    <select id="site_id" name="site_id" aria-describedby="site_id-error">
                                        <option value="">"No site"</option>
                                        {sites.iter().map(|s| view! { <option value=s.id.to_string()>{s.name.clone()}</option> }).collect_view()}
                                    </select>
                                    <p id="site_id-error" class="field-error" role="alert">{field_message(value, "site")}</p>
                                </div>
                                <TextField id="tags" label="Tags" placeholder="finance, floor-2"
                                    help="Comma-separated." error=field_message(value, "tags")/>
                                <TextField id="owner_contact" label="Owner contact" placeholder="it-hq@example.org"
                                    help="Who to call about this subnet's unprotected hosts." error=field_message(value, "owner_contact")/>
                                <button type="submit" class="button primary">"Add subnet"</button>
                            </ActionForm>
                            {move || outcome_notice(value.get())}
                            <h2>"Subnets"</h2>
                            {move || outcome_notice(edit.value().get())}
                            {if setup.subnets.is_empty() {
                                view! { <p class="empty-state">"No subnets yet. avsweep ships with none; add the first above."</p> }.into_any()
                            } else {
                                view! {
                                    <table class="data" id="subnet-table">
                                        <thead><tr>
                                            <th scope="col">"Subnet"</th><th scope="col">"Name"</th><th scope="col">"Site"</th>
                                            <th scope="col">"Tags"</th><th scope="col">"Owner"</th><th scope="col">"Scanned"</th>
                                        </tr></thead>
                                        <tbody>
                                            {setup.subnets.into_iter().map(|s| {
                                                let id = s.id;
                                                let enabled = s.enabled;
                                                let cidr_attr = s.cidr.clone();
                                                let editor = view! { <EditSubnet subnet=s.clone() sites=sites_for_edit.clone() action=edit/> };
                                                view! {
                                                    <tr data-cidr=cidr_attr>
                                                        <td class="mono">{s.cidr}</td>
                                                        <td>{s.name}</td>
                                                        <td>{s.site.unwrap_or_else(|| "—".into())}</td>
                                                        <td>{s.tags}</td>
                                                        <td>{s.owner_contact}</td>
                                                        <td>
                                                            <button type="button" class="button"
                                                                aria-pressed=enabled.to_string()
                                                                on:click=move |_| { toggle.dispatch(SetSubnetEnabled { subnet_id: id, enabled: !enabled }); }>
                                                                {if enabled { "Enabled — disable" } else { "Disabled — enable" }}
                                                            </button>
                                                            {editor}
                                                        </td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any()
                            }}
                            <h2>"Sites"</h2>
                            <p class="muted">{if setup.sites.is_empty() { "No sites yet.".to_owned() } else {
                                setup.sites.iter().map(|s| s.name.clone()).collect::<Vec<_>>().join(", ")
                            }}</p>
                            <ActionForm action=add_site attr:class="form" attr:novalidate=true>
                                <TextField id="site-name" name="name" label="New site" placeholder="Berlin office"
                                    error=field_message(site_value, "name")/>
                                <button type="submit" class="button">"Add site"</button>
                            </ActionForm>
                            {move || outcome_notice(site_value.get())}
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorNotice message=error_text(&e)/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// A subnet's site, tags and owner, edited in place.
#[component]
fn EditSubnet(
    subnet: crate::api::ops::SetupSubnet,
    sites: Vec<crate::api::ops::SiteView>,
    action: ServerAction<SaveSubnet>,
) -> impl IntoView {
    let id = subnet.id;
    let field = move |name: &str| format!("subnet-{id}-{name}");
    view! {
        <details class="edit">
            <summary>{format!("Edit {}", subnet.cidr)}</summary>
            <ActionForm action attr:class="form" attr:novalidate=true>
                <input type="hidden" name="subnet_id" value=id.to_string()/>
                <input type="hidden" name="cidr" value=subnet.cidr.clone()/>
                <input type="hidden" name="name" value=subnet.name.clone()/>
                <div class="field">
                    <label for=field("site")>"Site"</label>
                    <select id=field("site") name="site_id">
                        <option value="">"No site"</option>
                        {sites.into_iter().map(|site| {
                            let selected = subnet.site_id == Some(site.id);
                            view! { <option value=site.id.to_string() selected=selected>{site.name}</option> }
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for=field("tags")>"Tags"</label>
                    <input id=field("tags") name="tags" type="text" value=subnet.tags.clone()/>
                </div>
                <div class="field">
                    <label for=field("owner")>"Owner contact"</label>
                    <input id=field("owner") name="owner_contact" type="text" value=subnet.owner_contact.clone()/>
                </div>
                <button type="submit" class="button">"Save"</button>
            </ActionForm>
        </details>
    }
}

#[component]
pub fn AdminExclusions() -> impl IntoView {
    let add = ServerAction::<AddExclusion>::new();
    let remove = ServerAction::<RemoveExclusion>::new();
    let rows = Resource::new(
        move || (add.version().get(), remove.version().get()),
        |_| list_exclusions(),
    );
    let value = add.value();
    view! {
        <Title text="Exclusions"/>
        <SetupNav/>
        <h1>"Exclusions"</h1>
        <p class="lede">"Addresses and ranges here are never probed, and their results are never stored. Scans take the exclusions in force when they are queued."</p>
        <ActionForm action=add attr:class="form" attr:novalidate=true attr:id="add-exclusion">
            <TextField id="target" label="Address or range" placeholder="10.20.0.5 or 10.20.9.0/24"
                error=field_message(value, "target")/>
            <TextField id="reason" label="Reason" placeholder="Fragile PLCs; the vendor forbids scans"
                help="Say why this must never be scanned." error=field_message(value, "reason")/>
            <button type="submit" class="button primary">"Exclude"</button>
        </ActionForm>
        {move || outcome_notice(value.get())}
        {move || remove.value().get().and_then(Result::err).map(|e| view! { <ErrorNotice message=error_text(&e)/> })}
        <Transition fallback=|| view! { <p class="muted">"Loading exclusions…"</p> }>
            {move || Suspend::new(async move {
                match rows.await {
                    Ok(rows) if rows.is_empty() => view! { <p class="empty-state">"Nothing is excluded: every address of every subnet is scanned."</p> }.into_any(),
                    Ok(rows) => view! {
                        <table class="data" id="exclusion-table">
                            <thead><tr><th scope="col">"Range"</th><th scope="col">"Reason"</th><th scope="col">"By"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|row| {
                                    let id = row.id;
                                    let label = format!("Remove the exclusion of {}", row.cidr);
                                    let cidr_attr = row.cidr.clone();
                                    view! {
                                        <tr data-cidr=cidr_attr>
                                            <td class="mono">{row.cidr}</td>
                                            <td>{row.reason}</td>
                                            <td>{row.created_by}</td>
                                            <td><button type="button" class="button" aria-label=label
                                                on:click=move |_| { remove.dispatch(RemoveExclusion { exclusion_id: id }); }>"Remove"</button></td>
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

#[component]
pub fn AdminProfiles() -> impl IntoView {
    let add = ServerAction::<AddCustomProfile>::new();
    let toggle = ServerAction::<SetProfileEnabled>::new();
    let test = ServerAction::<TestProfile>::new();
    let profiles = Resource::new(
        move || (add.version().get(), toggle.version().get()),
        |_| setup_profiles(),
    );
    let value = add.value();
    let test_value = test.value();
    let test_message = move |field: &'static str| {
        move || match test_value.get() {
            Some(Ok(ProfileTestOutcome::Invalid(messages))) => messages
                .into_iter()
                .find(|m| m.field == field)
                .map(|m| m.message),
            _ => None,
        }
    };
    view! {
        <Title text="Vendor profiles"/>
        <SetupNav/>
        <h1>"Vendor profiles"</h1>
        <p class="lede">"Enabled profiles decide which ports a scan probes and what counts as an agent. Agents that listen on no port cannot be seen by a port scan."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading profiles…"</p> }>
            {move || Suspend::new(async move {
                match profiles.await {
                    Ok(rows) => {
                        let keys: Vec<(String, String)> = rows.iter()
                            .filter(|p| !p.listens_on_nothing)
                            .map(|p| (p.key.clone(), format!("{} {}", p.vendor, p.product)))
                            .collect();
                        view! {
                            <table class="data" id="profile-table">
                                <thead><tr><th scope="col">"Vendor"</th><th scope="col">"Product"</th><th scope="col">"Ports"</th><th scope="col">"Banner"</th><th scope="col">"Used in scans"</th></tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|p| {
                                        let key = p.key.clone();
                                        let enabled = p.enabled;
                                        let ports = if p.listens_on_nothing { "listens on nothing".to_owned() }
                                            else if p.ports.is_empty() { "set per site".to_owned() } else { p.ports.clone() };
                                        let control = if p.listens_on_nothing {
                                            view! { <span class="muted">"No: invisible to port scans"</span> }.into_any()
                                        } else {
                                            view! {
                                                <button type="button" class="button" aria-pressed=enabled.to_string()
                                                    on:click=move |_| { toggle.dispatch(SetProfileEnabled { key: key.clone(), enabled: !enabled }); }>
                                                    {if enabled { "Enabled — disable" } else { "Disabled — enable" }}
                                                </button>
                                            }.into_any()
                                        };
                                        view! {
                                            <tr data-profile=p.key.clone()>
                                                <td>{p.vendor}{(!p.builtin).then(|| view! { " " <span class="badge">"custom"</span> })}</td>
                                                <td>{p.product}</td>
                                                <td class="mono">{ports}</td>
                                                <td class="mono">{p.banner_regex.unwrap_or_else(|| "—".into())}</td>
                                                <td>{control}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            {move || toggle.value().get().and_then(Result::err).map(|e| view! { <ErrorNotice message=error_text(&e)/> })}
                            <h2>"Test a profile against one address"</h2>
                            <p class="help">"Only an address inside a defined subnet and outside every exclusion is probed; nothing is stored."</p>
                            <ActionForm action=test attr:class="form" attr:novalidate=true attr:id="test-profile">
                                <div class="field">
                                    <label for="profile_key">"Profile"</label>
                                    <select id="profile_key" name="profile_key">
                                        {keys.into_iter().map(|(key, label)| view! { <option value=key>{label}</option> }).collect_view()}
                                    </select>
                                    <p class="field-error" role="alert">{test_message("profile")}</p>
                                </div>
                                <div class="field">
                                    <label for="address">"Address"</label>
                                    <input id="address" name="address" type="text" placeholder="10.20.0.5" autocomplete="off"
                                        aria-describedby="address-error"/>
                                    <p id="address-error" class="field-error" role="alert">{test_message("address")}</p>
                                </div>
                                <button type="submit" class="button" disabled=move || test.pending().get()>
                                    {move || if test.pending().get() { "Testing…" } else { "Test" }}
                                </button>
                            </ActionForm>
                            {move || match test_value.get() {
                                Some(Ok(ProfileTestOutcome::Tested { address, host_state, ports, verdict })) => view! {
                                    <div class="card" id="test-result" role="status">
                                        <p>{format!("{address} is {host_state}. Verdict: ")}<VerdictBadge verdict/></p>
                                        <table class="data">
                                            <thead><tr><th scope="col">"Port"</th><th scope="col">"State"</th><th scope="col">"Reason"</th><th scope="col">"Banner"</th></tr></thead>
                                            <tbody>
                                                {ports.into_iter().map(|p| view! {
                                                    <tr><td class="num">{p.port}</td><td>{p.state}</td><td>{p.reason}</td>
                                                    <td class="mono">{p.banner.unwrap_or_else(|| "—".into())}</td></tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                }.into_any(),
                                Some(Err(e)) => view! { <ErrorNotice message=error_text(&e)/> }.into_any(),
                                _ => ().into_any(),
                            }}
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorNotice message=error_text(&e)/> }.into_any(),
                }
            })}
        </Transition>
        <h2>"Add a custom profile"</h2>
        <ActionForm action=add attr:class="form" attr:novalidate=true attr:id="add-profile">
            <TextField id="vendor" label="Vendor" placeholder="Acme" error=field_message(value, "vendor")/>
            <TextField id="product" label="Product" placeholder="Endpoint Agent" error=field_message(value, "product")/>
            <TextField id="ports" label="TCP ports" placeholder="4118 or 8192-8194,8080" error=field_message(value, "ports")/>
            <TextField id="banner_regex" label="Banner regex (optional)" placeholder="^ACME"
                help="If set, an open port counts only when its banner matches." error=field_message(value, "banner_regex")/>
            <button type="submit" class="button primary">"Add profile"</button>
        </ActionForm>
        {move || outcome_notice(value.get())}
    }
}

#[component]
pub fn AdminSchedules() -> impl IntoView {
    let add = ServerAction::<AddSchedule>::new();
    let toggle = ServerAction::<SetScheduleEnabled>::new();
    let schedules = Resource::new(
        move || (add.version().get(), toggle.version().get()),
        |_| list_schedules(),
    );
    let subnets = Resource::new(|| (), |_| setup_subnets());
    let value = add.value();
    let name = RwSignal::new(String::new());
    let cron = RwSignal::new("0 2 * * *".to_owned());
    let timezone = RwSignal::new("UTC".to_owned());
    let chosen = RwSignal::new(Vec::<i32>::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        add.dispatch(AddSchedule {
            name: name.get_untracked(),
            cron: cron.get_untracked(),
            timezone: timezone.get_untracked(),
            subnet_ids: chosen.get_untracked(),
        });
    };
    let error = move |field: &'static str| field_message(value, field);
    view! {
        <Title text="Schedules"/>
        <SetupNav/>
        <h1>"Schedules"</h1>
        <p class="lede">"A schedule scans its subnets at the times of a five-field cron expression, read in its time zone."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading schedules…"</p> }>
            {move || Suspend::new(async move {
                match schedules.await {
                    Ok(rows) if rows.is_empty() => view! { <p class="empty-state">"No schedules yet: scans run only when someone starts them."</p> }.into_any(),
                    Ok(rows) => view! {
                        <table class="data" id="schedule-table">
                            <thead><tr><th scope="col">"Name"</th><th scope="col">"When"</th><th scope="col">"Subnets"</th><th scope="col">"Next run (local)"</th><th scope="col">"Active"</th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|s| {
                                    let id = s.id;
                                    let enabled = s.enabled;
                                    let name_attr = s.name.clone();
                                    view! {
                                        <tr data-schedule=name_attr>
                                            <td>{s.name}</td>
                                            <td><span class="mono">{s.cron}</span>" "<span class="muted">{s.timezone}</span></td>
                                            <td class="mono">{s.subnets.join(", ")}</td>
                                            <td>{if enabled { s.next_run_local.unwrap_or_else(|| "never".into()) } else { "paused".into() }}</td>
                                            <td><button type="button" class="button" aria-pressed=enabled.to_string()
                                                on:click=move |_| { toggle.dispatch(SetScheduleEnabled { schedule_id: id, enabled: !enabled }); }>
                                                {if enabled { "Enabled — pause" } else { "Paused — enable" }}
                                            </button></td>
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
        <h2>"Add a schedule"</h2>
        <form class="form" on:submit=submit novalidate id="add-schedule">
            <div class="field">
                <label for="schedule-name">"Name"</label>
                <input id="schedule-name" type="text" placeholder="Nightly HQ" prop:value=name
                    on:input=move |ev| name.set(event_target_value(&ev)) aria-describedby="schedule-name-error"/>
                <p id="schedule-name-error" class="field-error" role="alert">{error("name")}</p>
            </div>
            <div class="field">
                <label for="cron">"Cron expression"</label>
                <input id="cron" type="text" class="mono" prop:value=cron
                    on:input=move |ev| cron.set(event_target_value(&ev)) aria-describedby="cron-help cron-error"/>
                <p id="cron-help" class="help">"minute hour day month weekday; “0 2 * * *” is 02:00 every night."</p>
                <p id="cron-error" class="field-error" role="alert">{error("cron")}</p>
            </div>
            <div class="field">
                <label for="timezone">"Time zone"</label>
                <input id="timezone" type="text" prop:value=timezone
                    on:input=move |ev| timezone.set(event_target_value(&ev)) aria-describedby="timezone-error"/>
                <p id="timezone-error" class="field-error" role="alert">{error("timezone")}</p>
            </div>
            <fieldset class="choices">
                <legend>"Subnets"</legend>
                <Transition fallback=|| "Loading subnets…">
                    {move || Suspend::new(async move {
                        match subnets.await {
                            Ok(setup) if setup.subnets.is_empty() => view! { <p class="muted">"Define a subnet first."</p> }.into_any(),
                            Ok(setup) => setup.subnets.into_iter().map(|s| {
                                let id = s.id;
                                let input_id = format!("schedule-subnet-{id}");
                                view! {
                                    <label class="choice">
                                        <input type="checkbox" id=input_id data-cidr=s.cidr.clone()
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                chosen.update(|list| { list.retain(|x| *x != id); if on { list.push(id); } });
                                            }/>
                                        {format!("{} — {}", s.cidr, s.name)}
                                    </label>
                                }
                            }).collect_view().into_any(),
                            Err(e) => view! { <ErrorNotice message=error_text(&e)/> }.into_any(),
                        }
                    })}
                </Transition>
                <p class="field-error" role="alert">{error("subnets")}</p>
            </fieldset>
            <button type="submit" class="button primary" disabled=move || add.pending().get()>"Add schedule"</button>
        </form>
        {move || outcome_notice(value.get())}
    }
}
