use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use crate::api::{AddSubnet as AddSubnetFn, AddSubnetOutcome};

#[component]
pub fn AddSubnet() -> impl IntoView {
    let add = ServerAction::<AddSubnetFn>::new();
    let outcome = add.value();
    let message_for = move |field: &'static str| {
        move || match outcome.get() {
            Some(Ok(AddSubnetOutcome::Invalid(errors))) => errors
                .into_iter()
                .find(|e| e.field == field)
                .map(|e| e.message),
            _ => None,
        }
    };
    let cidr_error = message_for("cidr");
    let name_error = message_for("name");

    // Once the browser app is live, a new subnet opens its own page.
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(AddSubnetOutcome::Created { id, .. })) = outcome.get() {
            navigate(&format!("/subnets/{id}"), Default::default());
        }
    });

    view! {
        <Title text="Add a subnet"/>
        <h1>"Add a subnet"</h1>
        <p class="lede">
            "avsweep scans only the subnets defined here. The largest allowed is a /8 (IPv4) or a /104 (IPv6)."
        </p>
        <ActionForm action=add attr:class="form" attr:novalidate=true>
            <div class="field">
                <label for="cidr">"Subnet (CIDR)"</label>
                <input
                    id="cidr"
                    name="cidr"
                    type="text"
                    required
                    autocomplete="off"
                    spellcheck="false"
                    placeholder="10.20.0.0/24"
                    aria-describedby="cidr-help cidr-error"
                    aria-invalid=move || cidr_error().is_some().to_string()
                />
                <p id="cidr-help" class="help">"Network address and prefix length, e.g. 10.20.0.0/24."</p>
                <p id="cidr-error" class="field-error" role="alert">{cidr_error}</p>
            </div>
            <div class="field">
                <label for="name">"Name"</label>
                <input
                    id="name"
                    name="name"
                    type="text"
                    required
                    maxlength="80"
                    placeholder="HQ floor 2"
                    aria-describedby="name-error"
                    aria-invalid=move || name_error().is_some().to_string()
                />
                <p id="name-error" class="field-error" role="alert">{name_error}</p>
            </div>
            <button type="submit" class="button primary" disabled=move || add.pending().get()>
                {move || if add.pending().get() { "Adding…" } else { "Add subnet" }}
            </button>
        </ActionForm>
        {move || match outcome.get() {
            Some(Ok(AddSubnetOutcome::Created { id, cidr })) => view! {
                <p class="notice success" role="status">
                    {format!("{cidr} was added. ")}
                    <A href=format!("/subnets/{id}")>"Open the subnet"</A>
                </p>
            }.into_any(),
            Some(Err(e)) => view! {
                <p class="notice error" role="alert">{crate::components::error_text(&e)}</p>
            }.into_any(),
            _ => ().into_any(),
        }}
    }
}
