//! avsweep's scan engine: finds computers that run no antivirus client by
//! TCP-connect-scanning for the ports AV agents listen on.
//!
//! Everything here works without root or raw sockets. A scan is configured by
//! a plain [`ScanConfig`], runs on the current tokio runtime via [`start`], and
//! reports through a [`ScanHandle`] stream of [`ScanEvent`]s. States and
//! reasons follow nmap's connect scan (`nmap -sT`), and [`output`] writes
//! nmap-compatible XML and grepable files plus JSON lines.

// Lets modules that are also compiled on their own (the lab) name this crate as `scanner::`.
extern crate self as scanner;

pub mod catalogue;
mod classify;
mod engine;
mod error;
pub mod import;
pub mod output;
mod permutation;
mod ports;
mod probe;
pub mod rdns;
mod results;
mod targets;
mod timing;

#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "lab")]
pub mod lab;

pub use catalogue::banner_matches;
pub use classify::{PortEvidence, classify};
pub use engine::{BannerProbe, CancelToken, ScanConfig, ScanHandle, start};
pub use error::Error;
pub use permutation::Permutation;
pub use ports::parse_ports;
pub use probe::raise_open_file_limit;
pub use results::{
    Banner, DeviceClass, DeviceGuess, HostReason, HostResult, HostState, PortResult, PortState,
    Progress, Reason, ScanEvent, ScanSummary,
};
pub use targets::TargetSet;
pub use timing::{RttEstimator, Timing, TimingTemplate};

/// Ports whose answers (and banners) tell device classes apart; see [`classify`].
pub const CLASSIFIER_PORTS: &[u16] =
    &[135, 139, 445, 3389, 22, 5900, 548, 3283, 9100, 515, 631, 23];

/// Host-discovery ports used unless the configuration says otherwise.
pub const DEFAULT_DISCOVERY_PORTS: &[u16] = &[80, 443, 445, 135, 22];
