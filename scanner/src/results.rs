//! What a scan reports.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use serde::{Serialize, Serializer};

use crate::Error;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HostState {
    Up,
    Down,
}

impl HostState {
    /// nmap's spelling in XML (`up`/`down`).
    pub fn as_str(self) -> &'static str {
        match self {
            HostState::Up => "up",
            HostState::Down => "down",
        }
    }
}

/// Why a host is considered up or down (nmap's `status@reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HostReason {
    /// `-Pn`: discovery skipped, every target is up.
    UserSet,
    /// A discovery port accepted the connection.
    SynAck,
    /// A discovery port refused the connection: the host is there.
    ConnRefused,
    /// The host answered an ICMP echo request.
    EchoReply,
    /// Nothing answered.
    NoResponse,
}

impl HostReason {
    pub fn as_str(self) -> &'static str {
        match self {
            HostReason::UserSet => "user-set",
            HostReason::SynAck => "syn-ack",
            HostReason::ConnRefused => "conn-refused",
            HostReason::EchoReply => "echo-reply",
            HostReason::NoResponse => "no-response",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PortState {
    Open,
    Closed,
    Filtered,
}

impl PortState {
    pub fn as_str(self) -> &'static str {
        match self {
            PortState::Open => "open",
            PortState::Closed => "closed",
            PortState::Filtered => "filtered",
        }
    }
}

/// Why a port got its state, spelled as nmap's portreasons.cc does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    SynAck,
    ConnRefused,
    NoResponse,
    HostUnreach,
    NetUnreach,
    AdminProhibited,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::SynAck => "syn-ack",
            Reason::ConnRefused => "conn-refused",
            Reason::NoResponse => "no-response",
            Reason::HostUnreach => "host-unreach",
            Reason::NetUnreach => "net-unreach",
            Reason::AdminProhibited => "admin-prohibited",
        }
    }

    /// The state nmap's connect scan gives a port for this reason.
    pub fn port_state(self) -> PortState {
        match self {
            Reason::SynAck => PortState::Open,
            Reason::ConnRefused => PortState::Closed,
            _ => PortState::Filtered,
        }
    }
}

macro_rules! serialize_as_str {
    ($($kind:ty),*) => {$(
        impl Serialize for $kind {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
        impl fmt::Display for $kind {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}
serialize_as_str!(HostState, HostReason, PortState, Reason, DeviceClass);

/// Bytes a service sent: untrusted, length-capped, not necessarily text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Banner(pub Vec<u8>);

impl Banner {
    /// Printable ASCII as is; `\r`, `\n`, `\t`, `\\` escaped; every other byte as `\xNN`.
    /// The result is plain ASCII, safe to put in XML, a terminal or a log line.
    pub fn lossy_text(&self) -> String {
        let mut text = String::with_capacity(self.0.len());
        for &byte in &self.0 {
            match byte {
                b'\r' => text.push_str("\\r"),
                b'\n' => text.push_str("\\n"),
                b'\t' => text.push_str("\\t"),
                b'\\' => text.push_str("\\\\"),
                0x20..=0x7e => text.push(char::from(byte)),
                other => text.push_str(&format!("\\x{other:02x}")),
            }
        }
        text
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Serialize for Banner {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.lossy_text())
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DeviceClass {
    Windows,
    LinuxUnix,
    MacOs,
    Printer,
    NetworkDevice,
    #[default]
    Unknown,
}

impl DeviceClass {
    pub const ALL: [DeviceClass; 6] = [
        DeviceClass::Windows,
        DeviceClass::LinuxUnix,
        DeviceClass::MacOs,
        DeviceClass::Printer,
        DeviceClass::NetworkDevice,
        DeviceClass::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeviceClass::Windows => "windows",
            DeviceClass::LinuxUnix => "linux-unix",
            DeviceClass::MacOs => "macos",
            DeviceClass::Printer => "printer",
            DeviceClass::NetworkDevice => "network-device",
            DeviceClass::Unknown => "unknown",
        }
    }
}

impl FromStr for DeviceClass {
    type Err = Error;
    fn from_str(value: &str) -> Result<DeviceClass, Error> {
        DeviceClass::ALL
            .into_iter()
            .find(|class| class.as_str().eq_ignore_ascii_case(value.trim()))
            .ok_or_else(|| Error::BadDeviceClass {
                value: value.to_string(),
            })
    }
}

/// A guess at what kind of machine a host is, with the evidence behind it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeviceGuess {
    pub class: DeviceClass,
    /// 0..=100
    pub confidence: u8,
    pub evidence: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PortResult {
    pub port: u16,
    pub state: PortState,
    pub reason: Reason,
    pub banner: Option<Banner>,
    #[serde(serialize_with = "serialize_rtt_micros", rename = "rtt_us")]
    pub rtt: Option<Duration>,
}

fn serialize_rtt_micros<S: Serializer>(
    rtt: &Option<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match rtt {
        Some(rtt) => serializer.serialize_u64(u64::try_from(rtt.as_micros()).unwrap_or(u64::MAX)),
        None => serializer.serialize_none(),
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HostResult {
    /// Position in the scan's permutation (what `--resume-from` counts).
    pub position: u64,
    pub address: IpAddr,
    pub state: HostState,
    pub reason: HostReason,
    /// The configured ports, ascending; empty for hosts found down.
    pub ports: Vec<PortResult>,
    pub device: DeviceGuess,
    /// The PTR name, when name servers were configured and one answered.
    pub dns_name: Option<String>,
}

impl HostResult {
    pub fn port(&self, port: u16) -> Option<&PortResult> {
        self.ports.iter().find(|result| result.port == port)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Progress {
    /// Hosts finished, counting positions skipped by a resume.
    pub done: u64,
    pub total: u64,
    /// Every position below this is finished and emitted: the safe point to resume from.
    pub resume_position: u64,
    pub probes_per_sec: f64,
    pub hosts_per_sec: f64,
    pub eta: Option<Duration>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScanSummary {
    pub hosts_up: u64,
    pub hosts_down: u64,
    /// Hosts finished in this run (positions skipped by a resume are not counted).
    pub total: u64,
    pub elapsed: Duration,
    pub cancelled: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ScanEvent {
    Host(HostResult),
    Progress(Progress),
    Finished(ScanSummary),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossy_text_escapes_everything_unsafe() {
        let banner = Banner(b"SSH-2.0-x\r\n\x00\xff<&>\\".to_vec());
        assert_eq!(banner.lossy_text(), "SSH-2.0-x\\r\\n\\x00\\xff<&>\\\\");
        assert!(banner.lossy_text().is_ascii());
    }

    #[test]
    fn device_class_round_trips_through_text() {
        for class in DeviceClass::ALL {
            assert_eq!(
                class
                    .as_str()
                    .parse::<DeviceClass>()
                    .expect("own spelling parses"),
                class
            );
        }
        assert!("toaster".parse::<DeviceClass>().is_err());
    }

    #[test]
    fn reasons_map_to_nmap_states() {
        assert_eq!(Reason::SynAck.port_state(), PortState::Open);
        assert_eq!(Reason::ConnRefused.port_state(), PortState::Closed);
        for reason in [
            Reason::NoResponse,
            Reason::HostUnreach,
            Reason::NetUnreach,
            Reason::AdminProhibited,
        ] {
            assert_eq!(reason.port_state(), PortState::Filtered);
        }
        assert_eq!(Reason::AdminProhibited.as_str(), "admin-prohibited");
    }
}
