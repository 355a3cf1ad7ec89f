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

/// A relative time ("3 h ago") with the absolute time for machines and on hover.
#[component]
pub fn RelativeTime(moment: crate::api::views::Moment) -> impl IntoView {
    let absolute = format::timestamp(&moment.at);
    view! {
        <time datetime=moment.at title=absolute>{format::age(moment.age_seconds)}</time>
    }
}

/// One point of a [`TrendChart`]: a label for the x axis and a percentage.
#[derive(Clone, Debug, PartialEq)]
pub struct TrendPoint {
    pub label: String,
    pub percent: Option<f64>,
    /// Shown in the table beside the percentage (e.g. "2 unknown").
    pub note: String,
}

/// A compliance line over time, 0–100 %, drawn as SVG by the server, with
/// the same numbers in a table for screen readers and people who prefer one.
#[component]
pub fn TrendChart(title: String, points: Vec<TrendPoint>) -> impl IntoView {
    const WIDTH: f64 = 600.0;
    const HEIGHT: f64 = 180.0;
    const LEFT: f64 = 44.0;
    const RIGHT: f64 = 12.0;
    const TOP: f64 = 10.0;
    const BOTTOM: f64 = 28.0;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let n = points.len();
    let x = move |i: usize| {
        if n <= 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (n - 1) as f64
        }
    };
    let y = move |percent: f64| TOP + plot_h * (1.0 - percent.clamp(0.0, 100.0) / 100.0);
    let line = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.percent.map(|v| format!("{:.1},{:.1}", x(i), y(v))))
        .collect::<Vec<_>>()
        .join(" ");
    let dots = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            p.percent.map(|v| {
                let label = format!("{}: {}", p.label, format::percent(v));
                view! {
                    <circle class="trend-dot" cx=format!("{:.1}", x(i)) cy=format!("{:.1}", y(v)) r="3.5">
                        <title>{label}</title>
                    </circle>
                }
            })
        })
        .collect_view();
    let grid = [0.0, 50.0, 100.0]
        .into_iter()
        .map(|v| {
            let gy = format!("{:.1}", y(v));
            view! {
                <line class="trend-grid" x1=LEFT x2=WIDTH - RIGHT y1=gy.clone() y2=gy.clone()></line>
                <text class="trend-axis" x=LEFT - 6.0 y=gy text-anchor="end" dominant-baseline="middle">
                    {format!("{v:.0} %")}
                </text>
            }
        })
        .collect_view();
    let first_label = points.first().map(|p| p.label.clone()).unwrap_or_default();
    let last_label = if n > 1 {
        points.last().map(|p| p.label.clone()).unwrap_or_default()
    } else {
        String::new()
    };
    let summary = match (
        points.first().and_then(|p| p.percent),
        points.last().and_then(|p| p.percent),
    ) {
        (Some(a), Some(b)) if n > 1 => format!(
            "{title}: from {} to {} over the last {n} scans.",
            format::percent(a),
            format::percent(b)
        ),
        (_, Some(b)) => format!(
            "{title}: {} after the only scan so far.",
            format::percent(b)
        ),
        _ => format!("{title}: no hosts counted yet."),
    };
    let rows = points
        .iter()
        .map(|p| {
            view! {
                <tr>
                    <td>{p.label.clone()}</td>
                    <td class="num">{p.percent.map(format::percent).unwrap_or_else(|| "n/a".into())}</td>
                    <td>{p.note.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <figure class="trend">
            <svg
                class="trend-chart"
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                role="img"
                aria-label=summary.clone()
                preserveAspectRatio="xMidYMid meet"
            >
                {grid}
                <polyline class="trend-line" points=line fill="none"></polyline>
                {dots}
                <text class="trend-axis" x=LEFT y=HEIGHT - 8.0 text-anchor="start">{first_label}</text>
                <text class="trend-axis" x=WIDTH - RIGHT y=HEIGHT - 8.0 text-anchor="end">{last_label}</text>
            </svg>
            <figcaption>{summary}</figcaption>
            <details>
                <summary>"Show the numbers as a table"</summary>
                <table class="data compact">
                    <caption class="visually-hidden">{title}</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Scan"</th>
                            <th scope="col" class="num">"Compliance"</th>
                            <th scope="col">"Notes"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </details>
        </figure>
    }
    .into_any()
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    fn render(view: impl FnOnce() -> AnyView) -> String {
        let owner = Owner::new();
        owner.with(|| view().to_html())
    }

    #[test]
    fn the_trend_chart_has_axis_labels_a_summary_and_a_table() {
        let html = render(|| {
            view! {
                <TrendChart
                    title="Estate compliance".to_owned()
                    points=vec![
                        TrendPoint { label: "2026-11-25 02:00 UTC".into(), percent: Some(50.0), note: "scan 1".into() },
                        TrendPoint { label: "2026-11-26 02:00 UTC".into(), percent: Some(200.0 / 3.0), note: "scan 2".into() },
                    ]
                />
            }
            .into_any()
        });
        assert!(html.contains(r#"role="img""#), "{html}");
        assert!(
            html.contains("Estate compliance: from 50.0 % to 66.7 % over the last 2 scans."),
            "{html}"
        );
        for axis in [
            "0 %",
            "50 %",
            "100 %",
            "2026-11-25 02:00 UTC",
            "2026-11-26 02:00 UTC",
        ] {
            assert!(html.contains(axis), "axis label {axis}: {html}");
        }
        assert_eq!(
            html.matches("<tr>").count(),
            3,
            "a header row and one row per scan"
        );
        assert!(html.contains("<polyline"), "{html}");
    }

    #[test]
    fn relative_times_carry_the_absolute_time() {
        let html = render(|| {
            view! {
                <RelativeTime moment=crate::api::views::Moment {
                    at: "2026-11-26T18:53:20+00:00".into(),
                    age_seconds: 3 * 3600 + 10,
                }/>
            }
            .into_any()
        });
        assert!(
            html.contains(r#"datetime="2026-11-26T18:53:20+00:00""#),
            "{html}"
        );
        assert!(html.contains(r#"title="2026-11-26 18:53 UTC""#), "{html}");
        assert!(html.contains(">3 h ago<"), "{html}");
    }
}
