//! The XML must pass nmap's DTD (xmllint) and render with nmap.xsl
//! (xsltproc); the CLI's grepable output must work with `grep open`.
//! The tools are required when CI=true and skipped (with a message) elsewhere.

use std::process::Command;
use std::time::{Duration, SystemTime};

use scanner::lab::collect_scan;
use scanner::output::{OutputFilter, ProductRule, RunInfo, ScanWriter, XmlWriter};
use scanner::{BannerProbe, ScanConfig, TargetSet};
use tokio::io::AsyncWriteExt;

const DTD: &str = "/usr/share/nmap/nmap.dtd";
const XSL: &str = "/usr/share/nmap/nmap.xsl";

fn tool_available(program: &str, file: &str) -> bool {
    let present = Command::new(program).arg("--version").output().is_ok()
        && std::path::Path::new(file).exists();
    if !present {
        if std::env::var("CI").is_ok_and(|value| value == "true") {
            panic!(
                "CI=true but {program} or {file} is missing (apt-get install nmap libxml2-utils xsltproc)"
            );
        }
        eprintln!("skipping: {program} or {file} is missing");
    }
    present
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xml_validates_against_nmap_dtd_and_renders_with_nmap_xsl() {
    if !(tool_available("xmllint", DTD) && tool_available("xsltproc", XSL)) {
        return;
    }
    let listener = tokio::net::TcpListener::bind("127.65.0.3:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            // Hostile banner: markup, quotes, NUL and invalid UTF-8 must still give valid XML.
            let _ = stream.write_all(b"HTTP/1.0 200 OK\r\nServer: McAfee-Agent-HttpSvr/1.0\r\nX: <a href=\"&\">\x00\xff\xfe]]>\r\n\r\n").await;
        }
    });
    let mut config = ScanConfig::new(
        TargetSet::parse("127.65.0.1-4 ::1").expect("targets"),
        vec![port, 2967],
    );
    config.skip_discovery = true;
    config.classify_devices = true;
    config.banners = vec![BannerProbe::send(port, b"GET / HTTP/1.0\r\n\r\n")];
    let (mut hosts, summary) = collect_scan(config).await.expect("scan");
    hosts.sort_by_key(|host| host.address);
    let run = RunInfo {
        args: "avsweep scan -Pn --profile mcafee-agent 127.65.0.1-4 ::1 -- \"quoted\" & <odd>"
            .into(),
        ports: vec![port, 2967],
        started: SystemTime::now() - Duration::from_secs(1),
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("scan.xml");
    let file = std::fs::File::create(&path).expect("create");
    let rule = ProductRule::new(port, "McAfee Agent", r"(?m)^Server: McAfee-Agent-HttpSvr")
        .expect("regex");
    let mut writer = XmlWriter::new(file, OutputFilter::default()).with_products(vec![rule]);
    writer.header(&run).expect("header");
    for host in &hosts {
        writer.host(host).expect("host");
    }
    writer.footer(&run, &summary).expect("footer");
    drop(writer);

    let lint = Command::new("xmllint")
        .args(["--noout", "--dtdvalid", DTD])
        .arg(&path)
        .output()
        .expect("xmllint runs");
    assert!(
        lint.status.success(),
        "DTD validation failed:\n{}",
        String::from_utf8_lossy(&lint.stderr)
    );
    let html = Command::new("xsltproc")
        .arg(XSL)
        .arg(&path)
        .output()
        .expect("xsltproc runs");
    assert!(
        html.status.success(),
        "{}",
        String::from_utf8_lossy(&html.stderr)
    );
    let html = String::from_utf8_lossy(&html.stdout);
    assert!(
        html.contains("127.65.0.3") && html.contains("McAfee Agent"),
        "report lacks the host or product"
    );
    assert!(
        html.contains("5 hosts up") || html.contains("5 hosts"),
        "report lacks the totals"
    );
}

#[test]
fn cli_grepable_to_stdout_works_with_grep_open() {
    let listener = std::net::TcpListener::bind("127.66.0.7:0").expect("bind");
    let port = listener.local_addr().expect("addr").port().to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_avsweep-scan"))
        .args(["-p", &port, "-Pn", "-oG", "-", "127.66.0.0/28"])
        .output()
        .expect("run the CLI");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("utf-8");
    let open: Vec<&str> = text.lines().filter(|line| line.contains("open")).collect();
    assert_eq!(
        open,
        vec![format!("Host: 127.66.0.7 ()\tPorts: {port}/open/tcp/////")]
    );
    assert_eq!(
        text.lines()
            .filter(|line| line.ends_with("Status: Up"))
            .count(),
        16
    );
    assert!(
        text.lines()
            .next()
            .is_some_and(|line| line.starts_with("# Nmap 7.93 scan initiated "))
    );

    let bad = Command::new(env!("CARGO_BIN_EXE_avsweep-scan"))
        .args(["-p", "99999", "127.0.0.1"])
        .output()
        .expect("run");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("99999"));
    drop(listener);
}
