//! What the Scans and Setup pages rely on, on SQLite and on Postgres: scan
//! options, the address preview, the history, custom profiles and switches.

use std::time::Duration;

use storage::profiles::{self, NewCustomProfile};
use storage::scans::{self, JobStatus, ScanOptions};
use storage::{Db, JobSignal, StorageError, exclusions, schedules, subnets, test_on_both_backends};

test_on_both_backends! {
    the_preview_counts_addresses_left_after_exclusions,
    a_scan_keeps_its_timing_discovery_and_profiles,
    unknown_timing_or_profile_is_refused_with_a_message,
    a_disabled_subnet_is_not_scanned,
    history_lists_scans_newest_first_a_page_at_a_time,
    progress_and_the_end_of_a_scan_are_signalled,
    a_custom_profile_is_validated_and_stored_enabled,
    profiles_and_schedules_switch_on_and_off,
}

fn field_messages(error: StorageError) -> Vec<(String, String)> {
    match error {
        StorageError::Invalid(errors) => errors.into_iter().map(|e| (e.field, e.message)).collect(),
        other => panic!("expected a validation error, got {other}"),
    }
}

async fn the_preview_counts_addresses_left_after_exclusions(db: &Db) {
    let a = subnets::create(db, "127.78.1.0/28", "A").await.unwrap();
    let b = subnets::create(db, "127.78.2.0/29", "B").await.unwrap();
    let before = scans::preview_addresses(db, &[a.id, b.id]).await.unwrap();
    assert_eq!(
        before,
        scans::preview_addresses(db, &[a.id]).await.unwrap()
            + scans::preview_addresses(db, &[b.id]).await.unwrap()
    );
    exclusions::add(db, "admin", "127.78.1.4/30", "fragile PLCs")
        .await
        .unwrap();
    let after = scans::preview_addresses(db, &[a.id, b.id]).await.unwrap();
    assert_eq!(before - after, 4, "a /30 inside A takes 4 addresses away");
    assert_eq!(
        scans::preview_addresses(db, &[b.id, b.id]).await.unwrap(),
        scans::preview_addresses(db, &[b.id]).await.unwrap(),
        "a subnet chosen twice counts once"
    );
    assert_eq!(scans::preview_addresses(db, &[]).await.unwrap(), 0);
}

async fn a_scan_keeps_its_timing_discovery_and_profiles(db: &Db) {
    let subnet = subnets::create(db, "127.78.3.0/28", "Lab").await.unwrap();
    let job = scans::enqueue(
        db,
        subnet.id,
        ScanOptions {
            skip_discovery: true,
            timing: "T2".into(),
            profile_keys: vec!["mcafee-agent".into()],
            requested_by: "alice".into(),
            schedule_id: None,
            ..ScanOptions::default()
        },
    )
    .await
    .unwrap();
    assert!(job.skip_discovery);
    assert_eq!(job.timing, "T2");
    assert_eq!(job.profile_keys, "mcafee-agent");
    assert_eq!(
        job.ports, "8081",
        "only the chosen profile's port is probed"
    );
    let rules = scans::rules_for_job(db, &job).await.unwrap();
    assert_eq!(
        rules.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
        ["mcafee-agent"],
        "hosts are judged by the chosen profiles only"
    );
    // No choice = every enabled profile.
    scans::cancel(db, job.id).await.unwrap();
    let all = scans::enqueue(db, subnet.id, ScanOptions::default())
        .await
        .unwrap();
    assert!(all.ports.split(',').any(|p| p == "2967"));
    assert!(scans::rules_for_job(db, &all).await.unwrap().len() > 1);
}

async fn unknown_timing_or_profile_is_refused_with_a_message(db: &Db) {
    let subnet = subnets::create(db, "127.78.4.0/28", "Lab").await.unwrap();
    let bad_timing = ScanOptions {
        timing: "T9".into(),
        ..ScanOptions::default()
    };
    let messages = field_messages(scans::enqueue(db, subnet.id, bad_timing).await.unwrap_err());
    assert_eq!(messages[0].0, "timing");
    assert!(messages[0].1.contains("T0 (slowest) to T5"), "{messages:?}");
    // ESET PROTECT listens on nothing: it can never be chosen for a port scan.
    let bad_profile = ScanOptions {
        profile_keys: vec!["eset-protect".into()],
        ..ScanOptions::default()
    };
    let messages = field_messages(
        scans::enqueue(db, subnet.id, bad_profile)
            .await
            .unwrap_err(),
    );
    assert_eq!(messages[0].0, "profiles");
    assert!(messages[0].1.contains("eset-protect"), "{messages:?}");
    let (entries, total) = scans::history(db, 10, 0).await.unwrap();
    assert!(entries.is_empty() && total == 0, "nothing was queued");
}

async fn a_disabled_subnet_is_not_scanned(db: &Db) {
    let subnet = subnets::create(db, "127.78.5.0/28", "Lab").await.unwrap();
    let off = subnets::set_enabled(db, "admin", subnet.id, false)
        .await
        .unwrap();
    assert!(!off.enabled);
    let messages = field_messages(
        scans::enqueue(db, subnet.id, ScanOptions::default())
            .await
            .unwrap_err(),
    );
    assert!(messages[0].1.contains("disabled"), "{messages:?}");
    subnets::set_enabled(db, "admin", subnet.id, true)
        .await
        .unwrap();
    scans::enqueue(db, subnet.id, ScanOptions::default())
        .await
        .unwrap();
    let actions: Vec<String> = storage::audit::list(db, None, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.action)
        .collect();
    assert!(
        actions.contains(&"subnet.disable".to_owned()),
        "{actions:?}"
    );
    assert!(actions.contains(&"subnet.enable".to_owned()), "{actions:?}");
}

async fn history_lists_scans_newest_first_a_page_at_a_time(db: &Db) {
    let mut ids = Vec::new();
    for n in 0..5 {
        let subnet = subnets::create(db, &format!("127.78.{}.0/29", 10 + n), &format!("S{n}"))
            .await
            .unwrap();
        ids.push(
            scans::enqueue(db, subnet.id, ScanOptions::default())
                .await
                .unwrap()
                .id,
        );
    }
    let (first, total) = scans::history(db, 2, 0).await.unwrap();
    assert_eq!(total, 5);
    assert_eq!(
        first.iter().map(|e| e.job.id).collect::<Vec<_>>(),
        [ids[4], ids[3]]
    );
    assert_eq!(first[0].subnet_name, "S4");
    assert_eq!(first[0].subnet_cidr, "127.78.14.0/29");
    let (last, _) = scans::history(db, 2, 4).await.unwrap();
    assert_eq!(last.iter().map(|e| e.job.id).collect::<Vec<_>>(), [ids[0]]);
}

async fn progress_and_the_end_of_a_scan_are_signalled(db: &Db) {
    let subnet = subnets::create(db, "127.78.6.0/28", "Lab").await.unwrap();
    let job = scans::enqueue(db, subnet.id, ScanOptions::default())
        .await
        .unwrap();
    let mut signals = db.subscribe();
    scans::claim_next(db)
        .await
        .unwrap()
        .expect("the job is claimed");
    scans::update_progress(db, job.id, 3, 3).await.unwrap();
    scans::finish(db, job.id, JobStatus::Done, None)
        .await
        .unwrap();
    let mut seen = Vec::new();
    while let Ok(Ok(signal)) =
        tokio::time::timeout(Duration::from_millis(200), signals.recv()).await
    {
        seen.push(signal);
    }
    assert_eq!(
        seen,
        [JobSignal::Progress(job.id), JobSignal::Finished(job.id)]
    );
    // A queued scan cancelled before it ran also ends with a signal.
    let queued = scans::enqueue(db, subnet.id, ScanOptions::default())
        .await
        .unwrap();
    let mut signals = db.subscribe();
    assert_eq!(
        scans::cancel(db, queued.id).await.unwrap(),
        JobStatus::Cancelled
    );
    let mut seen = Vec::new();
    while let Ok(Ok(signal)) =
        tokio::time::timeout(Duration::from_millis(200), signals.recv()).await
    {
        seen.push(signal);
    }
    assert!(seen.contains(&JobSignal::Finished(queued.id)), "{seen:?}");
}

async fn a_custom_profile_is_validated_and_stored_enabled(db: &Db) {
    let messages = field_messages(
        profiles::create_custom(
            db,
            "admin",
            &NewCustomProfile {
                vendor: " ".into(),
                product: "Agent".into(),
                ports: "70000".into(),
                banner_regex: "(unclosed".into(),
            },
        )
        .await
        .unwrap_err(),
    );
    let fields: Vec<&str> = messages.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(fields, ["vendor", "ports", "banner_regex"], "{messages:?}");
    assert!(messages[1].1.contains("not a TCP port"), "{messages:?}");

    let created = profiles::create_custom(
        db,
        "admin",
        &NewCustomProfile {
            vendor: "Acme".into(),
            product: "Endpoint Agent".into(),
            ports: "4119, 4118".into(),
            banner_regex: "^ACME".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(created.key, "custom-acme-endpoint-agent");
    assert_eq!(created.ports, "4118,4119");
    assert!(created.enabled && !created.builtin);
    assert_eq!(created.banner_regex.as_deref(), Some("^ACME"));
    let rules = profiles::enabled_rules(db).await.unwrap();
    assert!(
        rules
            .iter()
            .any(|r| r.key == created.key && r.ports == [4118, 4119])
    );

    let again = profiles::create_custom(
        db,
        "admin",
        &NewCustomProfile {
            vendor: "acme".into(),
            product: "endpoint agent".into(),
            ports: "1".into(),
            banner_regex: String::new(),
        },
    )
    .await
    .unwrap_err();
    assert!(field_messages(again)[0].1.contains("already exists"));
}

async fn profiles_and_schedules_switch_on_and_off(db: &Db) {
    let off = profiles::set_enabled(db, "admin", "symantec-sav", false)
        .await
        .unwrap();
    assert!(!off.enabled);
    assert!(
        !profiles::enabled_rules(db)
            .await
            .unwrap()
            .iter()
            .any(|r| r.key == "symantec-sav")
    );
    let refused = profiles::set_enabled(db, "admin", "crowdstrike-falcon", true)
        .await
        .unwrap_err();
    assert!(field_messages(refused)[0].1.contains("listens on no port"));

    let subnet = subnets::create(db, "127.78.7.0/28", "Lab").await.unwrap();
    let schedule = schedules::create(
        db,
        "admin",
        "Nightly",
        "0 2 * * *",
        "Europe/Berlin",
        &[subnet.id],
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let paused = schedules::set_enabled(db, "admin", schedule.id, false)
        .await
        .unwrap();
    assert!(!paused.enabled);
    assert!(matches!(
        schedules::set_enabled(db, "admin", schedule.id + 99, true).await,
        Err(StorageError::NotFound {
            what: "schedule",
            ..
        })
    ));
}
