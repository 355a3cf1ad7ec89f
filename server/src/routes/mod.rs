//! Plain axum routes beside the Leptos pages and server functions.

pub mod assets;
pub mod events;
pub mod export;
