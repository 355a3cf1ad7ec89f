//! Coverage rules: how one host's scan evidence becomes a verdict, and how
//! verdicts add up to a subnet's compliance. Kept pure so it is tested as a table.

use serde::{Deserialize, Serialize};

/// What a scan concluded about one address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// An enabled profile's port is open (and its banner matched, where required).
    Protected,
    /// Up, in scope, every profile port answered closed.
    Unprotected,
    /// Up, in scope, nothing open but some profile port filtered: a firewall hides the answer.
    Unknown,
    /// Not a Windows endpoint (router, printer, Linux, mac) or excluded by a person.
    OutOfScope,
    /// No answer at all; not counted.
    Down,
}

impl Verdict {
    pub const ALL: [Verdict; 5] = [
        Verdict::Protected,
        Verdict::Unprotected,
        Verdict::Unknown,
        Verdict::OutOfScope,
        Verdict::Down,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Protected => "protected",
            Verdict::Unprotected => "unprotected",
            Verdict::Unknown => "unknown",
            Verdict::OutOfScope => "out-of-scope",
            Verdict::Down => "down",
        }
    }

    pub fn parse(text: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == text)
    }
}

/// One probed port as stored with a host result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedPort {
    pub port: u16,
    /// nmap's state: "open", "closed" or "filtered".
    pub state: String,
    /// nmap's reason, e.g. "syn-ack", "conn-refused", "no-response".
    pub reason: String,
    /// The first bytes the service sent, hex-encoded (banners are untrusted bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub banner_hex: Option<String>,
}

impl ObservedPort {
    pub fn banner_bytes(&self) -> Option<Vec<u8>> {
        self.banner_hex.as_deref().and_then(decode_hex)
    }
}

/// An enabled vendor profile, reduced to what a verdict needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileRule {
    pub key: String,
    pub ports: Vec<u16>,
    pub banner_regex: Option<String>,
    /// Bytes to send after connecting so the agent answers with its banner.
    pub probe: Option<Vec<u8>>,
}

/// Every TCP port these profiles listen on, sorted, each once: what a scan probes.
pub fn ports_of(rules: &[ProfileRule]) -> Vec<u16> {
    let mut ports: Vec<u16> = rules.iter().flat_map(|r| r.ports.iter().copied()).collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// A person's correction for one address, reduced to what a verdict needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OverrideRule {
    /// Replaces the scanner's device class.
    pub device_class: Option<String>,
    /// Out of scope whatever the evidence says.
    pub out_of_scope: bool,
}

/// Whether a banner matches a profile's regular expression. A pattern that
/// does not compile matches nothing (profiles are validated when saved).
pub fn banner_matches(pattern: &str, banner: &[u8]) -> bool {
    scanner::catalogue::banner_matches(pattern, &scanner::Banner(banner.to_vec())).unwrap_or(false)
}

/// Device classes that are not Windows endpoints and so need no Windows AV client.
pub fn is_out_of_scope_device(device_class: &str) -> bool {
    matches!(
        device_class,
        "linux-unix" | "macos" | "printer" | "network-device"
    )
}

/// The verdict for one host, and the profile whose evidence made it protected.
pub fn verdict(
    host_up: bool,
    device_class: &str,
    ports: &[ObservedPort],
    profiles: &[ProfileRule],
) -> (Verdict, Option<String>) {
    verdict_with_override(host_up, device_class, ports, profiles, None)
}

/// [`verdict`], after applying a person's override: an out-of-scope override
/// wins over any evidence, a device-class override replaces the scanner's guess.
pub fn verdict_with_override(
    host_up: bool,
    device_class: &str,
    ports: &[ObservedPort],
    profiles: &[ProfileRule],
    person: Option<&OverrideRule>,
) -> (Verdict, Option<String>) {
    if !host_up {
        return (Verdict::Down, None);
    }
    if person.is_some_and(|o| o.out_of_scope) {
        return (Verdict::OutOfScope, None);
    }
    let device_class = person
        .and_then(|o| o.device_class.as_deref())
        .unwrap_or(device_class);
    if is_out_of_scope_device(device_class) {
        return (Verdict::OutOfScope, None);
    }
    let state_of = |port: u16| ports.iter().find(|p| p.port == port);
    for profile in profiles {
        for &port in &profile.ports {
            let Some(observed) = state_of(port) else {
                continue;
            };
            if observed.state != "open" {
                continue;
            }
            let banner_ok = match &profile.banner_regex {
                None => true,
                Some(regex) => observed
                    .banner_bytes()
                    .is_some_and(|bytes| banner_matches(regex, &bytes)),
            };
            if banner_ok {
                return (Verdict::Protected, Some(profile.key.clone()));
            }
        }
    }
    let any_filtered = profiles
        .iter()
        .flat_map(|p| p.ports.iter())
        .any(|&port| state_of(port).is_some_and(|o| o.state == "filtered"));
    if any_filtered {
        (Verdict::Unknown, None)
    } else {
        (Verdict::Unprotected, None)
    }
}

/// Verdict counts for one scan of one subnet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    pub protected: u64,
    pub unprotected: u64,
    pub unknown: u64,
    pub out_of_scope: u64,
    pub down: u64,
}

impl Coverage {
    pub fn add(&mut self, verdict: Verdict, count: u64) {
        match verdict {
            Verdict::Protected => self.protected += count,
            Verdict::Unprotected => self.unprotected += count,
            Verdict::Unknown => self.unknown += count,
            Verdict::OutOfScope => self.out_of_scope += count,
            Verdict::Down => self.down += count,
        }
    }

    /// Hosts whose coverage counts: protected + unprotected + unknown.
    pub fn in_scope(&self) -> u64 {
        self.protected + self.unprotected + self.unknown
    }

    /// protected ÷ (protected + unprotected + unknown), in percent; `None` when
    /// no in-scope host answered (0 % would be a lie).
    pub fn compliance_percent(&self) -> Option<f64> {
        let in_scope = self.in_scope();
        (in_scope > 0).then(|| self.protected as f64 * 100.0 / in_scope as f64)
    }
}

pub fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(port: u16, state: &str, banner: Option<&str>) -> ObservedPort {
        ObservedPort {
            port,
            state: state.into(),
            reason: match state {
                "open" => "syn-ack",
                "closed" => "conn-refused",
                _ => "no-response",
            }
            .into(),
            banner_hex: banner.map(|b| encode_hex(b.as_bytes())),
        }
    }

    fn profiles() -> Vec<ProfileRule> {
        vec![
            ProfileRule {
                key: "symantec-sav".into(),
                ports: vec![2967],
                banner_regex: None,
                probe: None,
            },
            ProfileRule {
                key: "mcafee-agent".into(),
                ports: vec![8081],
                banner_regex: Some("Server: McAfee-Agent-HttpSvr".into()),
                probe: None,
            },
        ]
    }

    #[test]
    fn verdict_table() {
        let mcafee = "HTTP/1.1 200 OK\r\nServer: McAfee-Agent-HttpSvr\r\n\r\n";
        let other_http = "HTTP/1.1 200 OK\r\nServer: nginx\r\n\r\n";
        // (case, host up, device class, observed ports, expected verdict, matched profile)
        type Case = (
            &'static str,
            bool,
            &'static str,
            Vec<ObservedPort>,
            Verdict,
            Option<&'static str>,
        );
        #[rustfmt::skip]
        let table: Vec<Case> = vec![
            ("no answer at all", false, "unknown", vec![], Verdict::Down, None),
            ("SAV port open", true, "windows", vec![port(2967, "open", None), port(8081, "closed", None)], Verdict::Protected, Some("symantec-sav")),
            ("McAfee port open with its banner", true, "windows", vec![port(2967, "closed", None), port(8081, "open", Some(mcafee))], Verdict::Protected, Some("mcafee-agent")),
            ("8081 open but another server answers", true, "windows", vec![port(2967, "closed", None), port(8081, "open", Some(other_http))], Verdict::Unprotected, None),
            ("8081 open, no banner read", true, "windows", vec![port(2967, "closed", None), port(8081, "open", None)], Verdict::Unprotected, None),
            ("every profile port closed", true, "windows", vec![port(2967, "closed", None), port(8081, "closed", None)], Verdict::Unprotected, None),
            ("device unknown, ports closed", true, "unknown", vec![port(2967, "closed", None), port(8081, "closed", None)], Verdict::Unprotected, None),
            ("firewall hides 2967", true, "windows", vec![port(2967, "filtered", None), port(8081, "closed", None)], Verdict::Unknown, None),
            ("open beats filtered", true, "windows", vec![port(2967, "open", None), port(8081, "filtered", None)], Verdict::Protected, Some("symantec-sav")),
            ("printer", true, "printer", vec![port(2967, "closed", None)], Verdict::OutOfScope, None),
            ("linux server", true, "linux-unix", vec![port(2967, "closed", None)], Verdict::OutOfScope, None),
            ("mac", true, "macos", vec![], Verdict::OutOfScope, None),
            ("router", true, "network-device", vec![port(2967, "filtered", None)], Verdict::OutOfScope, None),
        ];
        for (case, up, device, ports, expected, matched) in table {
            let (got, got_profile) = verdict(up, device, &ports, &profiles());
            assert_eq!(got, expected, "{case}");
            assert_eq!(got_profile.as_deref(), matched, "{case}");
        }
    }

    #[test]
    fn overrides_table() {
        let closed = vec![port(2967, "closed", None), port(8081, "closed", None)];
        let open = vec![port(2967, "open", None), port(8081, "closed", None)];
        let out = OverrideRule {
            device_class: None,
            out_of_scope: true,
        };
        let windows = OverrideRule {
            device_class: Some("windows".into()),
            out_of_scope: false,
        };
        let printer = OverrideRule {
            device_class: Some("printer".into()),
            out_of_scope: false,
        };
        #[rustfmt::skip]
        // (case, host up, device class, observed ports, override, expected verdict)
        type Case<'a> = (&'a str, bool, &'a str, &'a Vec<ObservedPort>, &'a OverrideRule, Verdict);
        let table: Vec<Case> = vec![
            (
                "out of scope by a person, though unprotected",
                true,
                "windows",
                &closed,
                &out,
                Verdict::OutOfScope,
            ),
            (
                "out of scope by a person, though protected",
                true,
                "windows",
                &open,
                &out,
                Verdict::OutOfScope,
            ),
            (
                "a person's override does not wake a down host",
                false,
                "windows",
                &closed,
                &out,
                Verdict::Down,
            ),
            (
                "Windows running OpenSSH, corrected to windows",
                true,
                "linux-unix",
                &closed,
                &windows,
                Verdict::Unprotected,
            ),
            (
                "corrected to windows and protected",
                true,
                "linux-unix",
                &open,
                &windows,
                Verdict::Protected,
            ),
            (
                "a kiosk the scanner took for Windows is a printer",
                true,
                "windows",
                &closed,
                &printer,
                Verdict::OutOfScope,
            ),
        ];
        for (case, up, device, ports, person, expected) in table {
            let (got, _) = verdict_with_override(up, device, ports, &profiles(), Some(person));
            assert_eq!(got, expected, "{case}");
        }
    }

    #[test]
    fn compliance_counts_unknown_hosts_in_the_denominator() {
        let mut coverage = Coverage::default();
        coverage.add(Verdict::Protected, 3);
        coverage.add(Verdict::Unprotected, 1);
        coverage.add(Verdict::Unknown, 2);
        coverage.add(Verdict::OutOfScope, 5);
        coverage.add(Verdict::Down, 100);
        assert_eq!(coverage.compliance_percent(), Some(50.0));
    }

    #[test]
    fn compliance_is_absent_when_no_host_counts() {
        let mut coverage = Coverage::default();
        coverage.add(Verdict::Down, 10);
        assert_eq!(coverage.compliance_percent(), None);
    }

    #[test]
    fn hex_round_trips_banner_bytes() {
        let bytes = b"IOR:\x00\xff<script>".to_vec();
        assert_eq!(decode_hex(&encode_hex(&bytes)), Some(bytes));
        assert_eq!(decode_hex("abc"), None);
        assert_eq!(decode_hex("zz"), None);
    }

    #[test]
    fn verdict_names_round_trip() {
        for v in Verdict::ALL {
            assert_eq!(Verdict::parse(v.as_str()), Some(v));
        }
    }
}
