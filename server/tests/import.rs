//! nmap XML import: our own `-oX` output and real nmap's agree on every
//! verdict, the command line and the upload store a file as a finished scan
//! of a defined subnet, and hosts outside it or excluded are left out and
//! counted. Loopback only: each test uses its own 127.66.x block.

mod common;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::process::Command;
use std::time::{Duration, SystemTime};

use common::TestApp;
use scanner::import::{ImportLimits, ImportedScan, parse_nmap_xml};
use scanner::lab::collect_scan;
use scanner::output::{OutputFilter, RunInfo, ScanWriter, XmlWriter};
use scanner::{ScanConfig, TargetSet, TimingTemplate};
use storage::coverage::{self, ProfileRule, Verdict};
use storage::scans::HostRecord;
use storage::testing::{Backend, TestDb};
use storage::{exclusions, profiles, subnets};
use tokio::net::TcpListener;

const PORTS: &[u16] = &[2967, 8081];

fn verdicts(scan: &ImportedScan, rules: &[ProfileRule]) -> BTreeMap<IpAddr, Verdict> {
    scan.hosts
        .iter()
        .map(|host| {
            let record = HostRecord::from_result(&host.result);
            let (verdict, _) =
                coverage::verdict(record.up, &record.device_class, &record.ports, rules);
            (host.result.address, verdict)
        })
        .collect()
}

async fn listen_on_2967(addresses: &[&str]) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    for address in addresses {
        let listener = TcpListener::bind(format!("{address}:2967"))
            .await
            .expect("bind a lab listener");
        tasks.push(tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                drop(stream);
            }
        }));
    }
    tasks
}

fn nmap_available() -> bool {
    let present = Command::new("nmap").arg("--version").output().is_ok();
    if !present {
        if std::env::var("CI").is_ok_and(|value| value == "true") {
            panic!("CI=true but nmap is missing (apt-get install nmap)");
        }
        eprintln!("skipping: nmap is not installed");
    }
    present
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_xml_and_real_nmap_xml_import_to_the_same_verdicts() {
    if !nmap_available() {
        return;
    }
    let block = "127.66.4.0/29";
    let _listeners = listen_on_2967(&["127.66.4.1", "127.66.4.2", "127.66.4.6"]).await;

    let mut config = ScanConfig::new(TargetSet::parse(block).expect("targets"), PORTS.to_vec());
    config.skip_discovery = true;
    config.timing = TimingTemplate::T4.timing();
    let (hosts, summary) = collect_scan(config).await.expect("our scan");
    let run = RunInfo {
        args: format!("avsweep scan -sT -Pn -p 2967,8081 -oX - {block}"),
        ports: PORTS.to_vec(),
        started: SystemTime::now() - Duration::from_secs(1),
    };
    let mut writer = XmlWriter::new(Vec::new(), OutputFilter::default());
    writer.header(&run).expect("header");
    for host in &hosts {
        writer.host(host).expect("host");
    }
    writer.footer(&run, &summary).expect("footer");
    let ours = writer.into_inner();

    let nmap = tokio::task::spawn_blocking(move || {
        Command::new("nmap")
            .args([
                "-sT",
                "-Pn",
                "-n",
                "-T4",
                "-p",
                "2967,8081",
                "-oX",
                "-",
                block,
            ])
            .output()
    })
    .await
    .expect("nmap thread")
    .expect("nmap runs");
    assert!(
        nmap.status.success(),
        "{}",
        String::from_utf8_lossy(&nmap.stderr)
    );

    let limits = ImportLimits::default();
    let ours = parse_nmap_xml(&ours, &limits).expect("our XML imports");
    let theirs = parse_nmap_xml(&nmap.stdout, &limits).expect("nmap's XML imports");
    assert_eq!(theirs.scanner, "nmap");
    assert_eq!(ours.ports, PORTS.to_vec());
    assert_eq!(theirs.ports, PORTS.to_vec());

    let test_db = TestDb::new(Backend::Sqlite).await.expect("sqlite");
    let rules = profiles::rules_for_site(&test_db.db, None)
        .await
        .expect("rules");
    let ours = verdicts(&ours, &rules);
    let theirs = verdicts(&theirs, &rules);
    assert_eq!(ours.len(), 8, "{ours:?}");
    assert_eq!(ours, theirs);
    let protected: Vec<String> = ours
        .iter()
        .filter(|(_, verdict)| **verdict == Verdict::Protected)
        .map(|(address, _)| address.to_string())
        .collect();
    assert_eq!(protected, ["127.66.4.1", "127.66.4.2", "127.66.4.6"]);
    assert_eq!(
        ours.values()
            .filter(|v| **v == Verdict::Unprotected)
            .count(),
        5
    );
}

fn nmap_file(addresses: &[&str]) -> String {
    let hosts: String = addresses
        .iter()
        .map(|address| {
            format!(
                r#"<host><status state="up" reason="user-set" reason_ttl="0"/><address addr="{address}" addrtype="ipv4"/><hostnames><hostname name="pc-{address}.example" type="PTR"/></hostnames><ports><port protocol="tcp" portid="2967"><state state="{}" reason="{}" reason_ttl="0"/></port></ports></host>
"#,
                if address.ends_with(".1") { "open" } else { "closed" },
                if address.ends_with(".1") { "syn-ack" } else { "conn-refused" },
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE nmaprun>\n<nmaprun scanner=\"nmap\" args=\"nmap -sT -p 2967\">\n<scaninfo type=\"connect\" protocol=\"tcp\" numservices=\"1\" services=\"2967\"/>\n{hosts}</nmaprun>\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_imports_into_a_defined_subnet_only() {
    let test_db = TestDb::new(Backend::Sqlite).await.expect("sqlite");
    let db = &test_db.db;
    let subnet = subnets::create(db, "127.66.5.0/29", "Imported")
        .await
        .unwrap();
    exclusions::add(db, "test", "127.66.5.3", "fragile")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scan.xml");
    std::fs::write(
        &file,
        nmap_file(&["127.66.5.1", "127.66.5.2", "127.66.5.3", "192.0.2.9"]),
    )
    .unwrap();
    let avsweep = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_avsweep"))
            .args(args)
            .env("DATABASE_URL", &test_db.url)
            .env("AVSWEEP_DATA_DIR", dir.path())
            .env_remove("AVSWEEP_CONFIG")
            .current_dir(dir.path())
            .output()
            .expect("avsweep runs")
    };
    let path = file.to_str().unwrap();

    let before = storage::testing::row_counts(db).await.unwrap();
    let refused = avsweep(&["import", path, "--subnet", "127.66.6.0/29"]);
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("no subnet 127.66.6.0/29 is defined"),
        "{message}"
    );
    let bad = avsweep(&["import", path, "--subnet", "127.66.5.0/33"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("out of range"));
    assert_eq!(
        storage::testing::row_counts(db).await.unwrap(),
        before,
        "nothing stored"
    );

    let imported = avsweep(&["import", path, "--subnet", "127.66.5.0/29"]);
    let stdout = String::from_utf8_lossy(&imported.stdout);
    assert!(
        imported.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    assert!(stdout.contains("Imported 2 hosts"), "{stdout}");
    assert!(
        stdout.contains("ignored 1 outside 127.66.5.0/29 and 1 excluded"),
        "{stdout}"
    );

    let job = storage::scans::latest_done_for_subnet(db, subnet.id)
        .await
        .unwrap()
        .expect("a done scan");
    assert_eq!(job.source, "import");
    assert_eq!((job.protected, job.unprotected), (1, 1));
    assert_eq!(
        job.done_addresses, job.total_addresses,
        "an import is complete: the Scans page shows n / n"
    );
    let stored = storage::scans::hosts_with_verdicts(db, job.id, &Verdict::ALL, 10, 0)
        .await
        .unwrap();
    let names: Vec<Option<String>> = stored.iter().map(|row| row.dns_name.clone()).collect();
    assert_eq!(
        names,
        [
            Some("pc-127.66.5.1.example".to_string()),
            Some("pc-127.66.5.2.example".to_string())
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_file_is_refused_before_it_is_read() {
    let test_db = TestDb::new(Backend::Sqlite).await.expect("sqlite");
    subnets::create(&test_db.db, "127.66.7.0/29", "Big")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.xml");
    std::fs::write(&file, vec![b' '; 4096]).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_avsweep"))
        .args([
            "import",
            file.to_str().unwrap(),
            "--subnet",
            "127.66.7.0/29",
        ])
        .env("DATABASE_URL", &test_db.url)
        .env("AVSWEEP_IMPORT_MAX_BYTES", "1000")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("4096 bytes"), "{message}");
    assert!(message.contains("limited to 1000 bytes"), "{message}");
}

app_test_on_both_backends! {
    an_upload_becomes_a_finished_scan_of_its_subnet,
}

async fn an_upload_becomes_a_finished_scan_of_its_subnet(app: TestApp, backend: u8) {
    let subnet = subnets::create(&app.db, &format!("127.66.{}.0/29", 10 + backend), "Upload")
        .await
        .unwrap();
    let client = common::admin_client(&app).await;
    let inside = format!("127.66.{}.1", 10 + backend);
    let second = format!("127.66.{}.2", 10 + backend);
    let response = client
        .post(app.url(&format!("/api/import?subnet_id={}", subnet.id)))
        .header("content-type", "application/xml")
        .body(nmap_file(&[&inside, &second, "198.51.100.1"]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(answer["imported"], 2, "{answer}");
    assert_eq!(answer["outside_subnet"], 1, "{answer}");
    let scan_id = i32::try_from(answer["scan_id"].as_i64().unwrap()).unwrap();
    let job = storage::scans::get(&app.db, scan_id).await.unwrap();
    assert_eq!(job.status, "done");
    assert_eq!((job.protected, job.unprotected), (1, 1));
    // The subnet page now shows the imported numbers.
    let html = client
        .get(app.url(&format!("/subnets/{}", subnet.id)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&second), "{html}");
    assert!(html.contains(&format!("pc-{second}.example")), "{html}");
}
