//! Built-in endpoint-protection profiles: which TCP ports a client agent
//! listens on and what it says there (facts and sources in
//! `shared/notes/av-ports.md`).

use regex::bytes::RegexBuilder;

use crate::{Banner, Error};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AvProfile {
    pub key: &'static str,
    pub vendor: &'static str,
    pub product: &'static str,
    /// TCP ports the client listens on (empty for agents that only connect out).
    pub ports: &'static [u16],
    /// Bytes to send after connecting before reading the banner (`None`: just read).
    pub probe: Option<&'static [u8]>,
    /// A byte regex the banner must match for the port to count as this agent.
    pub banner_regex: Option<&'static str>,
    /// The agent connects out only; a port scan cannot see it.
    pub listens_on_nothing: bool,
    /// The port is chosen per site; the user has to give it.
    pub port_configurable: bool,
    pub notes: &'static str,
}

const HTTP_GET: &[u8] = b"GET / HTTP/1.0\r\n\r\n";

static BUILTIN: &[AvProfile] = &[
    AvProfile {
        key: "symantec-sav",
        vendor: "Symantec",
        product: "Symantec AntiVirus Corporate Edition 10.x / Client Security 3.x",
        ports: &[2967],
        probe: None,
        banner_regex: None,
        listens_on_nothing: false,
        port_configurable: true,
        notes: "rtvscan.exe listens on TCP 2967 (Symantec KB TECH101169; nmap-services symantec-av). SEP 11-14 clients listen only when they are Group Update Providers.",
    },
    AvProfile {
        key: "sep-gup",
        vendor: "Symantec / Broadcom",
        product: "Symantec Endpoint Protection Group Update Provider",
        ports: &[2967],
        probe: None,
        banner_regex: None,
        listens_on_nothing: false,
        port_configurable: true,
        notes: "Only SEP clients with the Group Update Provider role listen on 2967; ordinary SEP clients listen on nothing documented.",
    },
    AvProfile {
        key: "mcafee-agent",
        vendor: "McAfee / Trellix",
        product: "McAfee Agent (ePO 4.x/5.x)",
        ports: &[8081],
        probe: Some(HTTP_GET),
        banner_regex: Some(r"(?mi)^Server: McAfee-Agent-HttpSvr"),
        listens_on_nothing: false,
        port_configurable: true,
        notes: "Agent wake-up listener on TCP 8081 answers HTTP with Server: McAfee-Agent-HttpSvr (McAfee KB66797). The SuperAgent's UDP 8082 is not visible to a TCP scan.",
    },
    AvProfile {
        key: "officescan",
        vendor: "Trend Micro",
        product: "OfficeScan / Apex One client",
        ports: &[],
        probe: Some(HTTP_GET),
        banner_regex: Some(r"(?mi)^Server: OfficeScan Client"),
        listens_on_nothing: false,
        port_configurable: true,
        notes: "One TCP port chosen at install (Client_LocalServer_Port in the server's ofcscan.ini); give it with --profile officescan=PORT.",
    },
    AvProfile {
        key: "trend-vbbss",
        vendor: "Trend Micro",
        product: "Worry-Free Business Security Services (VBBSS) agent",
        ports: &[21112],
        probe: None,
        banner_regex: None,
        listens_on_nothing: false,
        port_configurable: false,
        notes: "tmlisten.exe on TCP 21112 (Trend Micro KA-0008353); verified for VBBSS only.",
    },
    AvProfile {
        key: "sophos-rms",
        vendor: "Sophos",
        product: "Sophos Enterprise Console Remote Management System",
        ports: &[8192, 8193, 8194],
        probe: None,
        banner_regex: Some(r"^IOR:"),
        listens_on_nothing: false,
        port_configurable: false,
        notes: "The RMS message router listens on 8192-8194 and answers with an IOR: banner (nmap-services, nmap-service-probes); partly verified.",
    },
    AvProfile {
        key: "bitdefender-relay",
        vendor: "Bitdefender",
        product: "GravityZone endpoint with the Relay role",
        ports: &[7074],
        probe: None,
        banner_regex: None,
        listens_on_nothing: false,
        port_configurable: false,
        notes: "Only endpoints with the Relay role listen on 7074; third-party source, unverified.",
    },
    AvProfile {
        key: "kaspersky-agent",
        vendor: "Kaspersky",
        product: "Kaspersky Network Agent",
        ports: &[],
        probe: None,
        banner_regex: None,
        listens_on_nothing: true,
        port_configurable: false,
        notes: "Listens on UDP 15000 only; no documented TCP listener on plain clients, so a TCP connect scan cannot see it.",
    },
    AvProfile {
        key: "eset-protect",
        vendor: "ESET",
        product: "ESET PROTECT agent",
        ports: &[],
        probe: None,
        banner_regex: None,
        listens_on_nothing: true,
        port_configurable: false,
        notes: "The agent connects out to the server; nothing listens on the client.",
    },
    AvProfile {
        key: "sophos-central",
        vendor: "Sophos",
        product: "Sophos Central / Intercept X",
        ports: &[],
        probe: None,
        banner_regex: None,
        listens_on_nothing: true,
        port_configurable: false,
        notes: "The agent connects out to Sophos Central; nothing listens on the client.",
    },
    AvProfile {
        key: "crowdstrike-falcon",
        vendor: "CrowdStrike",
        product: "Falcon sensor",
        ports: &[],
        probe: None,
        banner_regex: None,
        listens_on_nothing: true,
        port_configurable: false,
        notes: "The sensor connects out to the CrowdStrike cloud; nothing listens on the client.",
    },
    AvProfile {
        key: "microsoft-defender",
        vendor: "Microsoft",
        product: "Microsoft Defender for Endpoint",
        ports: &[],
        probe: None,
        banner_regex: None,
        listens_on_nothing: true,
        port_configurable: false,
        notes: "Defender reports out to Microsoft's cloud; nothing listens on the client.",
    },
];

pub fn builtin() -> &'static [AvProfile] {
    BUILTIN
}

/// The built-in profile with this key (case-insensitive).
pub fn find(key: &str) -> Option<&'static AvProfile> {
    BUILTIN
        .iter()
        .find(|profile| profile.key.eq_ignore_ascii_case(key.trim()))
}

/// Like [`find`], with an error listing the known keys.
pub fn require(key: &str) -> Result<&'static AvProfile, Error> {
    find(key).ok_or_else(|| Error::UnknownProfile {
        key: key.to_string(),
        known: BUILTIN
            .iter()
            .map(|profile| profile.key)
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Size cap on compiled patterns: user-supplied regexes must not eat memory.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Whether `banner` matches `regex` (Rust regex syntax, applied to raw bytes,
/// so non-UTF-8 banners are matched as they are).
pub fn banner_matches(regex: &str, banner: &Banner) -> Result<bool, Error> {
    let compiled = RegexBuilder::new(regex)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|err| Error::BadRegex {
            pattern: regex.to_string(),
            reason: err.to_string(),
        })?;
    Ok(compiled.is_match(banner.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_profiles_exist() {
        let sav = find("symantec-sav").expect("symantec-sav");
        assert_eq!(sav.ports, &[2967]);
        assert!(sav.product.contains("Corporate Edition"));
        assert_eq!(find("mcafee-agent").expect("mcafee").ports, &[8081]);
        assert!(find("officescan").expect("officescan").port_configurable);
        assert_eq!(
            find("sophos-rms").expect("sophos").ports,
            &[8192, 8193, 8194]
        );
        assert_eq!(find("trend-vbbss").expect("vbbss").ports, &[21112]);
        assert_eq!(
            find("bitdefender-relay").expect("bitdefender").ports,
            &[7074]
        );
        for key in [
            "eset-protect",
            "sophos-central",
            "crowdstrike-falcon",
            "microsoft-defender",
        ] {
            let profile = find(key).expect(key);
            assert!(
                profile.listens_on_nothing && profile.ports.is_empty(),
                "{key}"
            );
        }
        assert!(find("SYMANTEC-SAV").is_some());
        assert!(
            require("nope")
                .expect_err("unknown")
                .to_string()
                .contains("symantec-sav")
        );
    }

    #[test]
    fn every_builtin_regex_compiles() {
        for profile in builtin() {
            if let Some(regex) = profile.banner_regex {
                banner_matches(regex, &Banner::default()).expect(profile.key);
            }
        }
    }

    #[test]
    fn banner_regexes_match_what_the_agents_send() {
        let mcafee =
            Banner(b"HTTP/1.1 200 OK\r\nServer: McAfee-Agent-HttpSvr/1.0\r\n\r\n".to_vec());
        let regex = find("mcafee-agent")
            .and_then(|p| p.banner_regex)
            .expect("regex");
        assert!(banner_matches(regex, &mcafee).expect("compiles"));
        assert!(
            !banner_matches(
                regex,
                &Banner(b"HTTP/1.1 200 OK\r\nServer: nginx\r\n".to_vec())
            )
            .expect("compiles")
        );
        let sophos = Banner(b"IOR:010000002600000049444c\xff\xfe".to_vec());
        assert!(banner_matches(r"^IOR:", &sophos).expect("compiles"));
        let office = Banner(b"HTTP/1.0 200 OK\r\nServer: OfficeScan Client\r\n".to_vec());
        let regex = find("officescan")
            .and_then(|p| p.banner_regex)
            .expect("regex");
        assert!(banner_matches(regex, &office).expect("compiles"));
        assert!(matches!(
            banner_matches("(unclosed", &office),
            Err(Error::BadRegex { .. })
        ));
    }
}
