//! Seeds a Postgres database with an enterprise-sized history and measures
//! the dashboard's queries and the result ingest rate.
//!
//!     DATABASE_URL=postgres://root@127.0.0.1:5432/avsweep_bench \
//!         cargo run --release -p storage --bin coverage-bench
//!
//! Seeds 400 subnets × 250 hosts (100 k hosts) × 50 finished scans (5 M host
//! results) unless the database already holds them, then prints p50/p95 of
//! overall and per-subnet compliance, a subnet's gap list (paginated, sorted,
//! filtered) and a host's history, and the ingest rate through
//! `scans::record_hosts` (`--ingest-only` measures just that). Addresses are loopback (127.100.0.0 – 127.101.143.255)
//! and nothing is scanned: no packet leaves the process.

use std::net::{IpAddr, Ipv4Addr};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait};
use storage::coverage::ObservedPort;
use storage::entities::{host_result, subnet};
use storage::history::{self, GapQuery, GapSort};
use storage::scans::{self, HostRecord, ScanOptions};
use storage::{Db, StorageError, profiles, subnets};

const SUBNETS: i64 = 400;
const HOSTS_PER_SUBNET: i64 = 250;
const SCANS: i64 = 50;
const SAMPLES: usize = 200;
const INGEST_HOSTS: u32 = 100_000;
const INGEST_BATCH: usize = 500;

#[tokio::main]
async fn main() -> ExitCode {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!(
            "coverage-bench: set DATABASE_URL to a Postgres database, e.g. postgres://root@127.0.0.1:5432/avsweep_bench (created if missing)"
        );
        return ExitCode::from(2);
    };
    match run(&url).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("coverage-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(url: &str) -> Result<(), StorageError> {
    create_database_if_missing(url).await?;
    let db = Db::open(url).await?;
    if db.conn().get_database_backend() != DatabaseBackend::Postgres {
        return Err(StorageError::invalid(
            "DATABASE_URL",
            "the benchmark seeds with Postgres SQL; give a postgres:// URL",
        ));
    }
    let stored = host_result::Entity::find().count(db.conn()).await?;
    if stored < (SUBNETS * HOSTS_PER_SUBNET * SCANS) as u64 {
        let started = Instant::now();
        seed(&db).await?;
        println!(
            "seeded {} host results in {:.1} s",
            SUBNETS * HOSTS_PER_SUBNET * SCANS,
            started.elapsed().as_secs_f64()
        );
    } else {
        println!("database already seeded ({stored} host results)");
    }
    if std::env::args().any(|a| a == "--ingest-only") {
        return ingest(&db).await;
    }
    let bench_subnets: Vec<subnet::Model> = subnets::list(&db)
        .await?
        .into_iter()
        .filter(|s| s.name.starts_with("Bench "))
        .collect();
    let pick = |i: usize| &bench_subnets[(i * 7919) % bench_subnets.len()];

    report(
        "overall compliance",
        sample(|_| async { history::overall(&db).await.map(|_| ()) }).await?,
    );
    report(
        "per-subnet compliance (all subnets, newest scan)",
        sample(|_| async { history::latest_per_subnet(&db).await.map(|_| ()) }).await?,
    );
    report(
        "one subnet's trend (50 scans)",
        sample(|i| {
            let s = pick(i).id;
            let db = &db;
            async move { history::subnet_trend(db, s, 50).await.map(|_| ()) }
        })
        .await?,
    );
    report(
        "gap list page (address order)",
        sample(|i| {
            let s = pick(i).id;
            let db = &db;
            async move {
                history::gaps(
                    db,
                    s,
                    &GapQuery {
                        limit: 50,
                        offset: (i % 3) as u64 * 50,
                        ..GapQuery::default()
                    },
                )
                .await
                .map(|_| ())
            }
        })
        .await?,
    );
    report(
        "gap list page (filtered by name, sorted by name desc)",
        sample(|i| {
            let s = pick(i).id;
            let db = &db;
            async move {
                let query = GapQuery {
                    search: Some(format!("pc-{}", i % 10)),
                    sort: GapSort::DnsName,
                    descending: true,
                    limit: 25,
                    ..GapQuery::default()
                };
                history::gaps(db, s, &query).await.map(|_| ())
            }
        })
        .await?,
    );
    report(
        "host history (50 scans)",
        sample(|i| {
            let s = pick(i).cidr.clone();
            let db = &db;
            async move {
                let prefix = s.trim_end_matches(".0/24");
                history::host_history(db, &format!("{prefix}.{}", 1 + i % 250), 50)
                    .await
                    .map(|_| ())
            }
        })
        .await?,
    );

    ingest(&db).await
}

async fn create_database_if_missing(url: &str) -> Result<(), StorageError> {
    let Some((server, name)) = url.rsplit_once('/') else {
        return Ok(());
    };
    let name = name.split('?').next().unwrap_or(name);
    if !url.starts_with("postgres") || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Ok(());
    }
    let admin = sea_orm::Database::connect(format!("{server}/postgres")).await?;
    let exists = admin
        .query_one_raw(sea_orm::Statement::from_string(
            DatabaseBackend::Postgres,
            format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
        ))
        .await?
        .is_some();
    if !exists {
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await?;
    }
    Ok(())
}

async fn seed(db: &Db) -> Result<(), StorageError> {
    let conn = db.conn();
    for (what, sql) in [
        ("subnets", format!(
            "INSERT INTO subnets (cidr, name, enabled, created_at, tags) \
             SELECT '127.' || (100 + i / 256) || '.' || (i % 256) || '.0/24', 'Bench ' || lpad(i::text, 3, '0'), true, now(), 'bench' \
             FROM generate_series(0, {last}) i ON CONFLICT DO NOTHING", last = SUBNETS - 1)),
        ("scan jobs", format!(
            "INSERT INTO scan_jobs (subnet_id, status, targets, ports, skip_discovery, timing, seed, resume_position, \
                total_addresses, done_addresses, hosts_up, protected, unprotected, unknown, out_of_scope, created_at, \
                started_at, finished_at, requested_by, excludes) \
             SELECT s.id, 'done', s.cidr, '2967', false, 'T4', r, 256, 256, 256, {hosts}, 0, 0, 0, 0, \
                now() - ({scans} - r) * interval '1 day', now() - ({scans} - r) * interval '1 day', \
                now() - ({scans} - r) * interval '1 day' + interval '5 minutes', 'bench', '' \
             FROM generate_series(0, {last}) r CROSS JOIN subnets s WHERE s.name LIKE 'Bench %' ORDER BY r, s.id",
            hosts = HOSTS_PER_SUBNET, scans = SCANS, last = SCANS - 1)),
        ("host results", format!(
            "INSERT INTO host_results (scan_id, address, sort_key, position, host_state, host_reason, device_class, \
                device_confidence, device_evidence, ports, verdict, matched_profile, dns_name) \
             SELECT j.id, regexp_replace(j.targets, '\\.0/24$', '.' || h), \
                '00000000000000000000ffff' || lpad(to_hex((split_part(j.targets, '.', 2)::bigint << 16) \
                    + (split_part(j.targets, '.', 3)::bigint << 8) + h + (127::bigint << 24)), 8, '0'), \
                h, 'up', 'conn-refused', CASE WHEN v.k = 19 THEN 'printer' ELSE 'windows' END, 80, '[]'::json, \
                CASE WHEN v.k < 15 THEN '[{{\"port\":2967,\"state\":\"open\",\"reason\":\"syn-ack\"}}]' \
                     WHEN v.k = 18 THEN '[{{\"port\":2967,\"state\":\"filtered\",\"reason\":\"no-response\"}}]' \
                     ELSE '[{{\"port\":2967,\"state\":\"closed\",\"reason\":\"conn-refused\"}}]' END::json, \
                CASE WHEN v.k < 15 THEN 'protected' WHEN v.k < 18 THEN 'unprotected' WHEN v.k = 18 THEN 'unknown' ELSE 'out-of-scope' END, \
                CASE WHEN v.k < 15 THEN 'symantec-sav' END, \
                'pc-' || h || '.' || replace(split_part(j.targets, '/', 1), '.', '-') || '.corp.example' \
             FROM scan_jobs j CROSS JOIN generate_series(1, {hosts}) h \
             CROSS JOIN LATERAL (SELECT ((h * 31 + j.seed * 7 + j.subnet_id) % 20)::int AS k) v \
             WHERE j.requested_by = 'bench' ON CONFLICT DO NOTHING", hosts = HOSTS_PER_SUBNET)),
        ("compliance history", "INSERT INTO subnet_scan_stats (scan_id, subnet_id, finished_at, protected, unprotected, unknown, out_of_scope, down, newly_unprotected) \
             SELECT j.id, j.subnet_id, j.finished_at, \
                COUNT(*) FILTER (WHERE r.verdict = 'protected'), COUNT(*) FILTER (WHERE r.verdict = 'unprotected'), \
                COUNT(*) FILTER (WHERE r.verdict = 'unknown'), COUNT(*) FILTER (WHERE r.verdict = 'out-of-scope'), \
                COUNT(*) FILTER (WHERE r.verdict = 'down'), 0 \
             FROM scan_jobs j JOIN host_results r ON r.scan_id = j.id WHERE j.requested_by = 'bench' \
             GROUP BY j.id, j.subnet_id, j.finished_at ON CONFLICT DO NOTHING".to_owned()),
        ("hosts", "INSERT INTO hosts (address, sort_key, subnet_id, dns_name, first_seen_at, last_seen_at, first_scan_id, \
                last_scan_id, last_verdict, remediation_status) \
             SELECT DISTINCT ON (r.address) r.address, r.sort_key, j.subnet_id, r.dns_name, j.finished_at, j.finished_at, \
                r.scan_id, r.scan_id, r.verdict, CASE WHEN r.verdict = 'unprotected' THEN 'open' END \
             FROM host_results r JOIN scan_jobs j ON j.id = r.scan_id WHERE j.requested_by = 'bench' \
             ORDER BY r.address, r.scan_id DESC ON CONFLICT DO NOTHING".to_owned()),
        ("statistics", "ANALYZE".to_owned()),
    ] {
        let started = Instant::now();
        conn.execute_unprepared(&sql).await?;
        println!("  seeded {what} in {:.1} s", started.elapsed().as_secs_f64());
    }
    Ok(())
}

async fn sample<F, Fut>(mut run: F) -> Result<Vec<Duration>, StorageError>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Result<(), StorageError>>,
{
    let mut times = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES {
        let started = Instant::now();
        run(i).await?;
        times.push(started.elapsed());
    }
    Ok(times)
}

fn report(what: &str, mut times: Vec<Duration>) {
    times.sort();
    let at = |q: f64| {
        times[((times.len() as f64 * q).ceil() as usize).saturating_sub(1)].as_secs_f64() * 1000.0
    };
    println!(
        "{what:<55} p50 {:>7.2} ms   p95 {:>7.2} ms   ({} runs)",
        at(0.50),
        at(0.95),
        times.len()
    );
}

async fn ingest(db: &Db) -> Result<(), StorageError> {
    // A fresh /15 of loopback for every run (each run's results stay stored).
    let defined: Vec<String> = subnets::list(db)
        .await?
        .into_iter()
        .map(|s| s.cidr)
        .collect();
    let Some(cidr) = (120..=250)
        .step_by(2)
        .map(|second| format!("127.{second}.0.0/15"))
        .find(|cidr| !defined.contains(cidr))
    else {
        return Err(StorageError::invalid(
            "DATABASE_URL",
            "every ingest range is used: drop the benchmark database and seed it again",
        ));
    };
    let name = format!("Ingest {}", chrono::Utc::now().timestamp());
    let subnet = subnets::create(db, &cidr, &name).await?;
    let job = scans::enqueue(
        db,
        subnet.id,
        ScanOptions {
            requested_by: "bench".into(),
            ..ScanOptions::default()
        },
    )
    .await?;
    scans::claim_next(db).await?;
    let rules = profiles::rules_for_site(db, None).await?;
    let base = match cidr
        .split('/')
        .next()
        .and_then(|a| a.parse::<Ipv4Addr>().ok())
    {
        Some(a) => u32::from(a),
        None => return Err(StorageError::Corrupt(format!("bench CIDR {cidr}"))),
    };
    let hosts: Vec<HostRecord> = (0..INGEST_HOSTS)
        .map(|n| HostRecord {
            position: u64::from(n),
            address: IpAddr::V4(Ipv4Addr::from(base + n)),
            up: true,
            host_reason: "conn-refused".into(),
            device_class: "windows".into(),
            device_confidence: 80,
            device_evidence: vec!["445/tcp open".into()],
            ports: vec![ObservedPort {
                port: 2967,
                state: if n % 5 == 0 { "closed" } else { "open" }.into(),
                reason: "syn-ack".into(),
                banner_hex: None,
            }],
            dns_name: Some(format!("pc-{n}.corp.example")),
        })
        .collect();
    let started = Instant::now();
    for batch in hosts.chunks(INGEST_BATCH) {
        scans::record_hosts(db, job.id, &rules, batch).await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    scans::finish(db, job.id, scans::JobStatus::Done, None).await?;
    let stored = scans::coverage_of(db, job.id).await?;
    println!(
        "ingest through scans::record_hosts, batches of {INGEST_BATCH}: {} host results in {elapsed:.2} s = {:.0} results/s (stored {}, {} unprotected)",
        INGEST_HOSTS,
        f64::from(INGEST_HOSTS) / elapsed,
        stored.protected + stored.unprotected,
        stored.unprotected,
    );
    Ok(())
}
