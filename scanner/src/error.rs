use std::path::PathBuf;

/// Everything that can go wrong at the crate boundary. Messages say what was
/// wrong and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "bad target {token:?} (at character {offset}): {problem}; give an IPv4/IPv6 address (192.0.2.7), a CIDR block (192.0.2.0/24, 2001:db8::/120) or an octet range (192.0.2.1-50, 192.0.1-3.*)"
    )]
    BadTarget {
        token: String,
        offset: usize,
        problem: String,
    },
    #[error(
        "the target specification expands to more than {limit} separate address ranges; write it as fewer, larger blocks (CIDR) or split the scan"
    )]
    TooFragmented { limit: usize },
    #[error(
        "bad port specification {token:?}: {problem}; use ports 1-65535 as a list such as 22,80,8000-8100"
    )]
    BadPorts { token: String, problem: String },
    #[error(
        "invalid banner regular expression {pattern:?}: {reason}; fix the pattern (syntax of the Rust regex crate)"
    )]
    BadRegex { pattern: String, reason: String },
    #[error("unknown AV profile {key:?}; known profiles: {known}")]
    UnknownProfile { key: String, known: String },
    #[error(
        "bad device class {value:?}; use one of windows, linux-unix, macos, printer, network-device, unknown"
    )]
    BadDeviceClass { value: String },
    #[error("cannot read {path}: {source}; check that the file exists and is readable")]
    ReadFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "test lab: {step} failed: {detail}; the lab needs root, iproute2 (ip netns) and nftables"
    )]
    Lab { step: String, detail: String },
    #[error(
        "the file is {size} bytes; imports are limited to {limit} bytes. Split the scan into smaller files or raise the limit"
    )]
    ImportTooLarge { size: u64, limit: u64 },
    #[error(
        "cannot import this file ({at}): {problem}. Import nmap XML as written by `nmap -sT -oX file.xml` or `avsweep scan -oX file.xml`"
    )]
    BadImport { at: String, problem: String },
    #[error("{0}; run with --help for the accepted options")]
    Usage(String),
    #[error(
        "writing scan output failed: {0}; check free disk space and that the output path is writable"
    )]
    Output(#[from] std::io::Error),
}
