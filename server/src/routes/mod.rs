//! Plain axum routes beside the Leptos app (downloads and the like).

pub mod export;
