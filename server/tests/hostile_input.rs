//! A catalogue of hostile inputs against the running server: each is refused
//! with a message a person understands, never a 5xx, never a panic (the
//! server keeps answering), and nothing is stored half-way (row counts of
//! every data table are equal before and after). Plus XSS: hostile host names
//! and banners render inert on the server-rendered pages.

mod common;

use std::time::Duration;

use common::TestApp;
use reqwest::header::CONTENT_TYPE;
use storage::scans::{self, HostRecord, ScanOptions};
use storage::subnets;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

app_test_on_both_backends! {
    every_catalogued_hostile_input_is_refused_with_a_message,
    bodies_over_the_limit_are_refused_before_they_are_read,
    hostile_host_names_and_banners_render_inert,
    security_headers_and_a_nonce_csp_are_sent,
}

/// How a request is sent.
#[derive(Clone, Debug)]
enum Body {
    /// application/x-www-form-urlencoded, as Leptos server functions take it.
    Form(Vec<(&'static str, String)>),
    /// Raw bytes with a content type.
    Raw(&'static str, Vec<u8>),
}

/// What a refusal must look like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refusal {
    /// A 4xx status with a non-empty message.
    ClientError,
    /// `subnets/add` answers bad fields as a form outcome (200 with
    /// `Invalid` and per-field messages) so the page can show them next to
    /// the field; nothing is stored.
    FormInvalid,
}

struct Case {
    name: &'static str,
    path: String,
    body: Body,
    refusal: Refusal,
    /// Part of the message the person must see.
    says: &'static str,
}

fn form(pairs: &[(&'static str, &str)]) -> Body {
    Body::Form(pairs.iter().map(|(k, v)| (*k, v.to_string())).collect())
}

fn add_subnet(name: &'static str, cidr: &str, says: &'static str) -> Case {
    Case {
        name,
        path: "/api/subnets/add".into(),
        body: form(&[("cidr", cidr), ("name", "Hostile")]),
        refusal: Refusal::FormInvalid,
        says,
    }
}

fn server_fn(name: &'static str, path: &str, body: Body, says: &'static str) -> Case {
    Case {
        name,
        path: path.into(),
        body,
        refusal: Refusal::ClientError,
        says,
    }
}

fn import(name: &'static str, query: &str, xml: impl Into<Vec<u8>>, says: &'static str) -> Case {
    Case {
        name,
        path: format!("/api/import{query}"),
        body: Body::Raw("application/xml", xml.into()),
        refusal: Refusal::ClientError,
        says,
    }
}

const BILLION_LAUGHS: &str = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<nmaprun scanner="nmap">&lol3;</nmaprun>"#;

const EXTERNAL_ENTITY: &str = r#"<?xml version="1.0"?>
<!DOCTYPE nmaprun [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<nmaprun scanner="nmap" args="&xxe;"></nmaprun>"#;

fn nmap_host(address: &str, port: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><!DOCTYPE nmaprun><nmaprun scanner="nmap" args="nmap -sT"><host><status state="up" reason="user-set" reason_ttl="0"/><address addr="{address}" addrtype="ipv4"/><ports><port protocol="tcp" portid="{port}"><state state="open" reason="syn-ack" reason_ttl="0"/></port></ports></host></nmaprun>"#
    )
}

/// The catalogue. `subnet` is a defined subnet (127.X.1.0/24), `large` one
/// over the address cap.
fn catalogue(subnet: i32, large: i32, backend: u8) -> Vec<Case> {
    let s = subnet.to_string();
    let l = large.to_string();
    let inside = format!("127.{backend}.1.7");
    vec![
        // Bad CIDRs, huge ranges and unicode tricks where a subnet is typed.
        add_subnet("prefix past /32", "10.0.0.0/33", "out of range"),
        add_subnet("not a block at all", "foo", "not a CIDR block"),
        add_subnet("a /7 is too large to scan", "10.0.0.0/7", "too large"),
        add_subnet("the whole internet", "0.0.0.0/0", "too large"),
        add_subnet("all of IPv6", "::/0", "too large"),
        add_subnet("empty", "", "Enter a subnet"),
        add_subnet("negative prefix", "10.0.0.0/-1", "whole number"),
        add_subnet("octet 256", "10.0.0.256/24", "not an IPv4 or IPv6 address"),
        add_subnet("absurd prefix", "10.0.0.0/4294967296", "whole number"),
        add_subnet("RTL override", "10.0.0.0/24\u{202e}", "whole number"),
        add_subnet("zero-width space", "10.0.\u{200b}0.0/24", "not an IPv4"),
        add_subnet(
            "fullwidth digits",
            "\u{ff11}\u{ff10}.0.0.0/24",
            "not an IPv4",
        ),
        add_subnet("ideographic full stop", "10\u{3002}0.0.0/24", "not an IPv4"),
        add_subnet(
            "one dot leader homoglyph",
            "10\u{2024}0.0.0/24",
            "not an IPv4",
        ),
        add_subnet("fullwidth full stop", "10\u{ff0e}0.0.0/24", "not an IPv4"),
        add_subnet(
            "SQL after the block",
            "10.0.0.0/24'; DROP TABLE subnets;--",
            "whole number",
        ),
        add_subnet("SQL tautology", "' OR '1'='1", "not"),
        add_subnet("NUL byte", "10.0.0.0/24\0", "whole number"),
        add_subnet("multicast", "224.0.0.0/24", "multicast"),
        add_subnet("host bits set", "10.0.0.1/24", "did you mean"),
        add_subnet(
            "100 000 characters",
            &"9".repeat(100_000),
            "not a CIDR block",
        ),
        // Scans: ids, flags and rates.
        server_fn(
            "scan id is a word",
            "/api/scans/start",
            form(&[("subnet_id", "abc")]),
            "could not be read",
        ),
        server_fn(
            "scan id past i32",
            "/api/scans/start",
            form(&[("subnet_id", "99999999999")]),
            "could not be read",
        ),
        server_fn(
            "scan id negative",
            "/api/scans/start",
            form(&[("subnet_id", "-1")]),
            "does not exist",
        ),
        server_fn(
            "scan id zero",
            "/api/scans/start",
            form(&[("subnet_id", "0")]),
            "does not exist",
        ),
        server_fn(
            "scan id missing",
            "/api/scans/start",
            form(&[]),
            "subnet_id",
        ),
        server_fn(
            "scan id in exponent form",
            "/api/scans/start",
            form(&[("subnet_id", "1e3")]),
            "could not be read",
        ),
        server_fn(
            "scan id in fullwidth digits",
            "/api/scans/start",
            form(&[("subnet_id", "\u{ff11}")]),
            "could not be read",
        ),
        server_fn(
            "scan id with SQL",
            "/api/scans/start",
            form(&[("subnet_id", "1 OR 1=1")]),
            "could not be read",
        ),
        server_fn(
            "confirmation is not a boolean",
            "/api/scans/start",
            form(&[("subnet_id", &s), ("confirm_large", "maybe")]),
            "could not be read",
        ),
        server_fn(
            "negative rate",
            "/api/scans/start",
            form(&[("subnet_id", &s), ("max_rate", "-5")]),
            "could not be read",
        ),
        server_fn(
            "rate past u32",
            "/api/scans/start",
            form(&[("subnet_id", &s), ("max_rate", "99999999999")]),
            "could not be read",
        ),
        server_fn(
            "rate zero",
            "/api/scans/start",
            form(&[("subnet_id", &s), ("max_rate", "0")]),
            "never finish",
        ),
        server_fn(
            "rate past i32",
            "/api/scans/start",
            form(&[("subnet_id", &s), ("max_rate", "4000000000")]),
            "at most",
        ),
        server_fn(
            "over the address cap, unconfirmed",
            "/api/scans/start",
            form(&[("subnet_id", &l)]),
            "131072 addresses",
        ),
        server_fn(
            "cancel id is a word",
            "/api/scans/cancel",
            form(&[("scan_id", "abc")]),
            "could not be read",
        ),
        server_fn(
            "cancel an unknown scan",
            "/api/scans/cancel",
            form(&[("scan_id", "424242")]),
            "does not exist",
        ),
        server_fn(
            "report of an unknown subnet",
            "/api/subnets/report",
            form(&[("subnet_id", "999999")]),
            "does not exist",
        ),
        server_fn(
            "path traversal as an id",
            "/api/subnets/report",
            form(&[("subnet_id", "../../etc/passwd")]),
            "could not be read",
        ),
        // Malformed bodies.
        server_fn(
            "JSON where a form is expected",
            "/api/scans/start",
            Body::Raw("application/json", br#"{"subnet_id": 1}"#.to_vec()),
            "could not be read",
        ),
        server_fn(
            "truncated JSON",
            "/api/subnets/add",
            Body::Raw(
                "application/json",
                br#"{"cidr": "10.0.0.0/24", "na"#.to_vec(),
            ),
            "could not be read",
        ),
        server_fn(
            "broken percent-encoding",
            "/api/scans/start",
            Body::Raw(
                "application/x-www-form-urlencoded",
                b"subnet_id=%G1%%".to_vec(),
            ),
            "could not be read",
        ),
        server_fn(
            "binary garbage",
            "/api/subnets/add",
            Body::Raw(
                "application/x-www-form-urlencoded",
                vec![0xff, 0xfe, 0x00, 0x80, 0x3d, 0x26],
            ),
            "could not be read",
        ),
        server_fn(
            "unknown server function",
            "/api/no/such/function",
            form(&[("x", "1")]),
            "not found",
        ),
        // nmap XML uploads.
        import(
            "billion laughs",
            &format!("?subnet_id={s}"),
            BILLION_LAUGHS,
            "DOCTYPE",
        ),
        import(
            "external entity",
            &format!("?subnet_id={s}"),
            EXTERNAL_ENTITY,
            "DOCTYPE",
        ),
        import(
            "undeclared entity",
            &format!("?subnet_id={s}"),
            r#"<nmaprun args="&xxe;"/>"#,
            "line 1",
        ),
        import(
            "not XML",
            &format!("?subnet_id={s}"),
            "hello, world",
            "cannot import",
        ),
        import(
            "HTML instead of nmap",
            &format!("?subnet_id={s}"),
            "<html><body>hi</body></html>",
            "not <nmaprun>",
        ),
        import(
            "nested a million deep",
            &format!("?subnet_id={s}"),
            format!("<nmaprun>{}</nmaprun>", "<a>".repeat(200_000)),
            "nested more than",
        ),
        import(
            "empty body",
            &format!("?subnet_id={s}"),
            "",
            "cannot import",
        ),
        import(
            "UTF-16 bytes",
            &format!("?subnet_id={s}"),
            vec![0xff, 0xfe, b'<', 0, b'n', 0],
            "not UTF-8",
        ),
        import(
            "port 0",
            &format!("?subnet_id={s}"),
            nmap_host(&inside, "0"),
            "not a port 1-65535",
        ),
        import(
            "port 65536",
            &format!("?subnet_id={s}"),
            nmap_host(&inside, "65536"),
            "not a port 1-65535",
        ),
        import(
            "address with octet 300",
            &format!("?subnet_id={s}"),
            nmap_host("127.0.0.300", "2967"),
            "not an IP address",
        ),
        import(
            "every host outside the subnet",
            &format!("?subnet_id={s}"),
            nmap_host("192.0.2.1", "2967"),
            "No host in the file lies in",
        ),
        import(
            "no subnet named",
            "",
            nmap_host(&inside, "2967"),
            "subnet_id",
        ),
        import(
            "subnet id is SQL",
            "?subnet_id=1;DROP%20TABLE%20subnets",
            nmap_host(&inside, "2967"),
            "not a subnet number",
        ),
        import(
            "unknown subnet",
            "?subnet_id=987654",
            nmap_host(&inside, "2967"),
            "does not exist",
        ),
    ]
}

async fn send(app: &TestApp, client: &reqwest::Client, case: &Case) -> (u16, String) {
    let request = client.post(app.url(&case.path));
    let request = match &case.body {
        Body::Form(pairs) => request.form(pairs),
        Body::Raw(content_type, bytes) => request
            .header(CONTENT_TYPE, *content_type)
            .body(bytes.clone()),
    };
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}: no answer: {e}", case.name));
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

async fn every_catalogued_hostile_input_is_refused_with_a_message(app: TestApp, backend: u8) {
    let subnet = subnets::create(&app.db, &format!("127.{backend}.1.0/24"), "Target")
        .await
        .unwrap();
    let large = subnets::create(
        &app.db,
        &format!("127.{}.0.0/15", 100 + 2 * backend),
        "Large",
    )
    .await
    .unwrap();
    let client = common::admin_client(&app).await;
    let cases = catalogue(subnet.id, large.id, backend);
    assert!(cases.len() >= 50, "the catalogue has {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let before = storage::testing::row_counts(&app.db).await.unwrap();
        let (status, body) = send(&app, &client, case).await;
        let after = storage::testing::row_counts(&app.db).await.unwrap();
        let refused = match case.refusal {
            Refusal::ClientError => (400..500).contains(&status),
            Refusal::FormInvalid => status == 200 && body.contains("Invalid"),
        };
        if !refused || !body.contains(case.says) || before != after {
            failures.push(format!(
                "{}: {status} {:?} (rows before {before:?}, after {after:?})",
                case.name,
                body.chars().take(300).collect::<String>()
            ));
        }
        // No panic took the server down.
        let health = app.http.get(app.url("/healthz")).send().await;
        assert!(
            health.is_ok_and(|r| r.status() == 200),
            "the server stopped answering after {}",
            case.name
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} hostile inputs were not refused cleanly:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Sends headers announcing `length` bytes, then only a little of it: the
/// server must answer 413 from the announcement, without waiting for the rest.
async fn announce_then_stall(app: &TestApp, path: &str, length: u64) -> String {
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/xml\r\nContent-Length: {length}\r\n\r\n<nmaprun>",
        app.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buffer = [0u8; 4096];
        while let Ok(n) = stream.read(&mut buffer).await {
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buffer[..n]);
            if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.len() > 200 {
                break;
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server waited for a body it will refuse");
    String::from_utf8_lossy(&answer).into_owned()
}

async fn bodies_over_the_limit_are_refused_before_they_are_read(app: TestApp, backend: u8) {
    let subnet = subnets::create(&app.db, &format!("127.{backend}.2.0/24"), "Target")
        .await
        .unwrap();
    let before = storage::testing::row_counts(&app.db).await.unwrap();
    let answer = announce_then_stall(
        &app,
        &format!("/api/import?subnet_id={}", subnet.id),
        100 * 1024 * 1024,
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("import limit"), "{answer}");
    let answer = announce_then_stall(&app, "/api/subnets/add", 2 * 1024 * 1024).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("larger than"), "{answer}");
    // A chunked body announces nothing: it is refused as it passes the limit.
    let chunk = vec![b'a'; 64 * 1024];
    let chunks =
        futures::stream::iter((0..24).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
    let response = app
        .http
        .post(app.url("/api/subnets/add"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 413);
    assert_eq!(storage::testing::row_counts(&app.db).await.unwrap(), before);
}

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "\"><img src=x onerror=alert(1)>";

/// Host names and banners are what other people's machines say about
/// themselves: stored as given, always rendered as text.
async fn hostile_host_names_and_banners_render_inert(app: TestApp, backend: u8) {
    let subnet = subnets::create(&app.db, &format!("127.{backend}.3.0/24"), "XSS")
        .await
        .unwrap();
    let job = scans::enqueue(&app.db, subnet.id, ScanOptions::default())
        .await
        .unwrap();
    // Keep the worker away from it: these results are planted, not scanned.
    scans::cancel(&app.db, job.id).await.unwrap();
    // The worker may have claimed it already: let it let go first, or its
    // own "cancelled" could land after the planted "done".
    app.wait_for_scan(job.id, std::time::Duration::from_secs(10))
        .await;
    let rules = scans::rules_for_job(&app.db, &job).await.unwrap();
    let hostile_port = |banner: &str| storage::coverage::ObservedPort {
        port: 2967,
        state: "closed".into(),
        reason: "conn-refused".into(),
        banner_hex: Some(storage::coverage::encode_hex(banner.as_bytes())),
    };
    let hosts: Vec<HostRecord> = [(1u8, SCRIPT), (2, IMG)]
        .into_iter()
        .map(|(last, payload)| HostRecord {
            position: u64::from(last),
            address: format!("127.{backend}.3.{last}").parse().unwrap(),
            up: true,
            host_reason: "syn-ack".into(),
            device_class: "windows".into(),
            device_confidence: 90,
            device_evidence: vec![payload.to_string()],
            ports: vec![hostile_port(payload)],
            dns_name: Some(format!("{payload}.example")),
        })
        .collect();
    scans::record_hosts(&app.db, job.id, &rules, &hosts)
        .await
        .unwrap();
    scans::finish(&app.db, job.id, scans::JobStatus::Done, None)
        .await
        .unwrap();
    let client = common::admin_client(&app).await;
    for path in ["/".to_string(), format!("/subnets/{}", subnet.id)] {
        let html = client
            .get(app.url(&path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!html.contains(SCRIPT), "{path} renders a live script tag");
        assert!(
            !html.contains("<img src=x"),
            "{path} renders a live img tag"
        );
        if path != "/" {
            // The subnet page shows names and banners: as escaped text.
            assert!(
                html.contains("&lt;script&gt;alert(1)&lt;/script&gt;.example"),
                "{path} does not show the hostile name as text: {html}"
            );
            assert!(
                html.contains("&lt;img src=x onerror=alert(1)&gt;"),
                "{path} does not show the hostile banner as text"
            );
        }
    }
    let stored =
        scans::hosts_with_verdicts(&app.db, job.id, &storage::coverage::Verdict::ALL, 10, 0)
            .await
            .unwrap();
    assert_eq!(
        stored[0].dns_name.as_deref(),
        Some(format!("{SCRIPT}.example").as_str()),
        "stored as given: escaping is the renderer's job"
    );
}

async fn security_headers_and_a_nonce_csp_are_sent(app: TestApp, _backend: u8) {
    let client = common::admin_client(&app).await;
    let page = client.get(app.url("/")).send().await.unwrap();
    let headers = page.headers().clone();
    let html = page.text().await.unwrap();
    let csp = headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .expect("pages send a CSP")
        .to_owned();
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|directive| directive.starts_with("script-src "))
        .expect("a script-src directive");
    assert!(!script_src.contains("unsafe-inline"), "{script_src}");
    assert!(
        !script_src
            .split_whitespace()
            .any(|source| source == "'unsafe-eval'"),
        "{script_src}"
    );
    let nonce = script_src
        .split_whitespace()
        .find_map(|source| source.strip_prefix("'nonce-"))
        .and_then(|rest| rest.strip_suffix('\''))
        .expect("a nonce source");
    assert!(nonce.len() >= 16, "{nonce}");
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script carries the header's nonce"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("object-src 'none'"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "same-origin");
    assert_eq!(headers["x-frame-options"], "DENY");
    // Every response gets a new nonce.
    let again = client.get(app.url("/")).send().await.unwrap();
    let again = again.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_ne!(again, csp, "the nonce changes per response");
    // Non-page responses carry a policy too.
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert!(
        health.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
}
