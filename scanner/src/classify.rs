//! Device class from which classifier ports answer and what they say.
//! Every class collects weighted evidence; the best score wins and the
//! confidence drops when another class scored too (e.g. Windows with OpenSSH).

use std::collections::HashMap;

use crate::{Banner, DeviceClass, DeviceGuess};

/// What the classifier saw on one port: open (`true`) or not, and the banner if one was read.
pub struct PortEvidence<'a> {
    pub port: u16,
    pub open: bool,
    pub banner: Option<&'a Banner>,
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window.eq_ignore_ascii_case(needle))
}

const LINUX_DISTRIBUTIONS: &[&str] = &[
    "Debian", "Ubuntu", "Raspbian", "Fedora", "Red Hat", "CentOS", "Alpine", "SUSE", "Arch",
    "FreeBSD", "OpenBSD", "NetBSD",
];

/// Guesses the device class; `evidence` lists every observation that counted.
pub fn classify(observations: &[PortEvidence<'_>]) -> DeviceGuess {
    let mut scores: HashMap<DeviceClass, u32> = HashMap::new();
    let mut evidence = Vec::new();
    let mut add = |class: DeviceClass, weight: u32, why: String| {
        *scores.entry(class).or_default() += weight;
        evidence.push(format!("{why} → {class} (+{weight})"));
    };
    for observation in observations.iter().filter(|o| o.open) {
        let banner = observation.banner.map(|b| b.as_bytes()).unwrap_or_default();
        match observation.port {
            135 => add(DeviceClass::Windows, 40, "135/tcp open (MS RPC)".into()),
            139 => add(
                DeviceClass::Windows,
                20,
                "139/tcp open (NetBIOS session)".into(),
            ),
            445 => add(DeviceClass::Windows, 35, "445/tcp open (SMB)".into()),
            3389 => add(DeviceClass::Windows, 35, "3389/tcp open (RDP)".into()),
            22 => {
                let text = observation
                    .banner
                    .map(Banner::lossy_text)
                    .unwrap_or_default();
                if banner.starts_with(b"SSH-2.0-Cisco-") || banner.starts_with(b"SSH-1.99-Cisco-") {
                    add(
                        DeviceClass::NetworkDevice,
                        70,
                        format!("22/tcp banner {text:?} (Cisco IOS SSH)"),
                    );
                } else if contains(banner, b"OpenSSH_for_Windows") {
                    add(
                        DeviceClass::Windows,
                        40,
                        format!("22/tcp banner {text:?} (Win32-OpenSSH)"),
                    );
                } else if let Some(distribution) = LINUX_DISTRIBUTIONS
                    .iter()
                    .find(|d| contains(banner, d.as_bytes()))
                {
                    add(
                        DeviceClass::LinuxUnix,
                        60,
                        format!("22/tcp banner {text:?} names {distribution}"),
                    );
                } else if contains(banner, b"OpenSSH") {
                    add(
                        DeviceClass::LinuxUnix,
                        25,
                        format!("22/tcp banner {text:?} (OpenSSH without a distribution)"),
                    );
                } else {
                    add(DeviceClass::LinuxUnix, 10, "22/tcp open (SSH)".into());
                }
            }
            // Other VNC servers say nothing about the OS; Apple's answers RFB 003.889.
            5900 if banner.starts_with(b"RFB 003.889") => add(
                DeviceClass::MacOs,
                70,
                "5900/tcp answers RFB 003.889 (Apple Remote Desktop)".into(),
            ),
            548 => add(DeviceClass::MacOs, 40, "548/tcp open (AFP)".into()),
            3283 => add(
                DeviceClass::MacOs,
                40,
                "3283/tcp open (Apple Remote Desktop)".into(),
            ),
            9100 => add(DeviceClass::Printer, 45, "9100/tcp open (JetDirect)".into()),
            515 => add(DeviceClass::Printer, 30, "515/tcp open (LPD)".into()),
            631 => add(DeviceClass::Printer, 25, "631/tcp open (IPP)".into()),
            23 => {
                if contains(banner, b"User Access Verification") {
                    add(
                        DeviceClass::NetworkDevice,
                        70,
                        "23/tcp telnet prompt \"User Access Verification\" (Cisco IOS)".into(),
                    );
                } else {
                    add(
                        DeviceClass::NetworkDevice,
                        20,
                        "23/tcp open (telnet)".into(),
                    );
                }
            }
            _ => {}
        }
    }
    let mut ranked: Vec<(DeviceClass, u32)> = scores.into_iter().collect();
    // Ties break towards the class listed first in DeviceClass::ALL, so results are deterministic.
    ranked.sort_by_key(|&(class, score)| {
        (
            std::cmp::Reverse(score),
            DeviceClass::ALL.iter().position(|c| *c == class),
        )
    });
    let Some(&(best, best_score)) = ranked.first() else {
        return DeviceGuess {
            class: DeviceClass::Unknown,
            confidence: 0,
            evidence: vec!["no classifier port answered open".to_string()],
        };
    };
    let runner_up = ranked.get(1).map(|&(_, score)| score).unwrap_or(0);
    // Strength of the evidence, discounted by the share that points elsewhere.
    let strength = best_score.min(95) as f64;
    let share = best_score as f64 / (best_score + runner_up) as f64;
    DeviceGuess {
        class: best,
        confidence: (strength * share).round().clamp(1.0, 100.0) as u8,
        evidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(port: u16, banner: Option<&Banner>) -> PortEvidence<'_> {
        PortEvidence {
            port,
            open: true,
            banner,
        }
    }

    #[test]
    fn windows_ports() {
        let guess = classify(&[
            open(135, None),
            open(445, None),
            PortEvidence {
                port: 22,
                open: false,
                banner: None,
            },
        ]);
        assert_eq!(guess.class, DeviceClass::Windows);
        assert_eq!(guess.confidence, 75);
        assert_eq!(guess.evidence.len(), 2);
    }

    #[test]
    fn linux_by_distribution_banner() {
        let ssh = Banner(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n".to_vec());
        let guess = classify(&[open(22, Some(&ssh))]);
        assert_eq!(guess.class, DeviceClass::LinuxUnix);
        assert!(guess.evidence[0].contains("Debian"));
    }

    #[test]
    fn windows_with_openssh_weighs_all_evidence() {
        let ssh = Banner(b"SSH-2.0-OpenSSH_for_Windows_8.1\r\n".to_vec());
        let guess = classify(&[open(135, None), open(445, None), open(22, Some(&ssh))]);
        assert_eq!(guess.class, DeviceClass::Windows);
        assert_eq!(guess.confidence, 95);
        // Windows ports plus a Debian banner (e.g. WSL): still Windows, with less confidence.
        let debian = Banner(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n".to_vec());
        let mixed = classify(&[open(135, None), open(445, None), open(22, Some(&debian))]);
        assert_eq!(mixed.class, DeviceClass::Windows);
        assert!(mixed.confidence < 60, "{mixed:?}");
        assert_eq!(mixed.evidence.len(), 3);
    }

    #[test]
    fn mac_printer_network_unknown() {
        let rfb = Banner(b"RFB 003.889\n".to_vec());
        assert_eq!(
            classify(&[open(5900, Some(&rfb))]).class,
            DeviceClass::MacOs
        );
        assert_eq!(
            classify(&[open(9100, None), open(631, None)]).class,
            DeviceClass::Printer
        );
        let telnet = Banner(b"\r\n\r\nUser Access Verification\r\n\r\nUsername: ".to_vec());
        assert_eq!(
            classify(&[open(23, Some(&telnet))]).class,
            DeviceClass::NetworkDevice
        );
        let cisco_ssh = Banner(b"SSH-2.0-Cisco-1.25\r\n".to_vec());
        assert_eq!(
            classify(&[open(22, Some(&cisco_ssh))]).class,
            DeviceClass::NetworkDevice
        );
        let none = classify(&[]);
        assert_eq!((none.class, none.confidence), (DeviceClass::Unknown, 0));
        // A VNC server that is not Apple's says nothing about the OS.
        let plain_vnc = Banner(b"RFB 003.008\n".to_vec());
        assert_eq!(
            classify(&[open(5900, Some(&plain_vnc))]).class,
            DeviceClass::Unknown
        );
    }
}
