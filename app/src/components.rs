//! Small pieces shared by pages.

use leptos::prelude::*;

use crate::format;

/// A horizontal bar with its value written beside it (never colour alone).
#[component]
pub fn CoverageBar(percent: Option<f64>) -> impl IntoView {
    match percent {
        Some(value) => {
            let width = format!("width: {:.1}%", value.clamp(0.0, 100.0));
            let tone = if value >= 95.0 {
                "good"
            } else if value >= 80.0 {
                "warn"
            } else {
                "bad"
            };
            view! {
                <span class="coverage">
                    <span class="bar" aria-hidden="true">
                        <span class=format!("fill {tone}") style=width></span>
                    </span>
                    <span class="coverage-value">{format::percent(value)}</span>
                </span>
            }
            .into_any()
        }
        None => view! { <span class="muted">"no hosts to count"</span> }.into_any(),
    }
}

/// An error from a server function, in place of the content that failed.
#[component]
pub fn ErrorNotice(message: String) -> impl IntoView {
    view! {
        <div class="notice error" role="alert">
            <strong>"Something went wrong. "</strong>
            {message}
        </div>
    }
}

/// The text of a server function error, without the framework's prefix.
pub fn error_text(error: &ServerFnError) -> String {
    match error {
        ServerFnError::ServerError(message) => message.clone(),
        other => other.to_string(),
    }
}

#[component]
pub fn VerdictBadge(verdict: String) -> impl IntoView {
    let label = match verdict.as_str() {
        "protected" => "Protected",
        "unprotected" => "No AV found",
        "unknown" => "Unknown (filtered)",
        "out-of-scope" => "Out of scope",
        "down" => "Down",
        _ => "Unrecognised",
    };
    view! { <span class=format!("badge verdict-{verdict}")>{label}</span> }
}
