//! Backups taken while the server takes reports: restored into an empty
//! database and files store, every report acknowledged before the backup
//! began is there once and every photo byte for byte; a restore refuses a
//! target that is not empty, and verify names the first bad file.

use crate::cases::*;
use crate::helpers::*;
use crate::on_both;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use wenming_store::backup::{self, BackupError};
use wenming_store::files::Files;
use wenming_store::photo::{original_key, synthetic_jpeg};

on_both!(
    a_backup_under_write_load_restores_every_acknowledged_report_and_photo,
    a_restore_refuses_a_target_in_use_and_verify_names_the_bad_file,
    scheduled_backups_share_unchanged_files_and_keep_the_newest,
);

/// An empty database to restore into: a new SQLite file, or a new
/// PostgreSQL database holding the source's schema name (a dump names its
/// schema) — with its URL and a clean-up.
async fn empty_target(app: &TestApp, b: Backend) -> (String, Option<String>) {
    match b {
        Backend::Sqlite => {
            let dir = std::env::temp_dir()
                .join(format!("wenming-restore-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&dir).unwrap();
            (
                format!("sqlite://{}", dir.join("restored.db").display()),
                None,
            )
        }
        Backend::Postgres => {
            let base = postgres_url().unwrap();
            let name = format!(
                "restore_{}_{}",
                std::process::id(),
                uuid::Uuid::new_v4().simple()
            );
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base)
                .await
                .unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .unwrap();
            let (server, _) = base.rsplit_once('/').unwrap();
            let schema = app
                .database_url
                .split("options[search_path]=")
                .nth(1)
                .unwrap();
            (
                format!("{server}/{name}?options[search_path]={schema}"),
                Some(name),
            )
        }
    }
}

async fn drop_target(db: Option<String>) {
    if let Some(name) = db {
        let base = postgres_url().unwrap();
        if let Ok(mut conn) = <sqlx::AnyConnection as sqlx::Connection>::connect(&base).await {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await;
        }
    }
}

/// A report to the server at `addr` (the load's clients outlive no app);
/// its id once acknowledged.
async fn report(
    addr: std::net::SocketAddr,
    token: &str,
    cats: &[wenming_store::case::Category],
    photo: Option<&str>,
) -> Option<String> {
    let call = bearer(&format!("http://{addr}"));
    let r = call(Method::POST, "/cases", token)
        .json(
            &json!({"source": "inspection", "category_id": sub(cats, "0101").id,
            "description": "垃圾桶满溢", "lon": IN_LJ.0, "lat": IN_LJ.1,
            "photo_ids": photo.map(|p| vec![p]).unwrap_or_default()}),
        )
        .send()
        .await
        .ok()?;
    if r.status() != StatusCode::CREATED {
        return None;
    }
    let c: serde_json::Value = r.json().await.ok()?;
    Some(c["id"].as_str()?.to_string())
}

async fn a_backup_under_write_load_restores_every_acknowledged_report_and_photo(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let inspector = app.token("inspector", false).await;
    // Reports with photos, before.
    let mut photos = vec![];
    for i in 0..6 {
        let r = upload_photo(&app, &inspector, synthetic_jpeg(100 + i, None, None)).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let p: serde_json::Value = r.json().await.unwrap();
        let id = p["id"].as_str().unwrap().to_string();
        report(app.addr, &inspector, &cats, Some(&id))
            .await
            .unwrap();
        photos.push(id);
    }
    // Four clients reporting throughout; each acknowledgement noted with
    // when it came back.
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(std::sync::Mutex::new(
        Vec::<(String, std::time::Instant)>::new(),
    ));
    let mut load = vec![];
    for _ in 0..4 {
        let (stop, acked, cats, token) =
            (stop.clone(), acked.clone(), cats.clone(), inspector.clone());
        let app_addr = app.addr;
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if let Some(id) = report(app_addr, &token, &cats, None).await {
                    acked.lock().unwrap().push((id, std::time::Instant::now()));
                }
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let began = std::time::Instant::now();
    let dest =
        std::env::temp_dir().join(format!("wenming-backup-{}", uuid::Uuid::new_v4().simple()));
    let taken = backup::backup(&app.store, &app.files, &dest, Some(&app.database_url))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for l in load {
        l.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let before: Vec<&String> = acked
        .iter()
        .filter(|(_, at)| *at < began)
        .map(|(id, _)| id)
        .collect();
    assert!(
        !before.is_empty(),
        "reports were acknowledged before the backup"
    );
    assert!(
        taken.manifest.missing.is_empty(),
        "{:?}",
        taken.manifest.missing
    );
    backup::verify(&dest).unwrap();
    // Into an empty database and an empty store.
    let (target, db) = empty_target(&app, b).await;
    let files = Files::memory();
    let m = backup::restore(&dest, &target, &files, false)
        .await
        .unwrap();
    let restored = open_store(&target).await;
    let mut present = 0;
    for id in &before {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM case_record WHERE id = $1")
            .bind(id.as_str())
            .fetch_one(restored.reader())
            .await
            .unwrap();
        assert_eq!(n, 1, "acknowledged report {id} restored once");
        present += 1;
    }
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM photo")
        .fetch_all(restored.reader())
        .await
        .unwrap();
    for p in &photos {
        assert!(ids.contains(p), "photo {p} restored");
    }
    for id in &ids {
        let key = original_key(id.parse().unwrap());
        assert_eq!(
            files.get(&key).await.unwrap(),
            app.files.get(&key).await.unwrap(),
            "{key} byte for byte"
        );
    }
    println!(
        "backup under load ({b:?}): {} reports acknowledged, {} before the backup began, all {present} restored once; {} cases in the backup; {} photos byte-identical; {:.2} s",
        acked.len(),
        before.len(),
        m.tables["case_record"],
        ids.len(),
        taken.seconds
    );
    // A second backup into the same folder copies only what is new.
    let again = backup::backup(&app.store, &app.files, &dest, Some(&app.database_url))
        .await
        .unwrap();
    assert_eq!(again.copied, 0, "nothing new since");
    restored.close().await;
    drop_target(db).await;
    let _ = std::fs::remove_dir_all(&dest);
}

async fn a_restore_refuses_a_target_in_use_and_verify_names_the_bad_file(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let inspector = app.token("inspector", false).await;
    let r = upload_photo(&app, &inspector, synthetic_jpeg(7, None, None)).await;
    let p: serde_json::Value = r.json().await.unwrap();
    report(app.addr, &inspector, &cats, p["id"].as_str())
        .await
        .unwrap();
    let dest =
        std::env::temp_dir().join(format!("wenming-backup-{}", uuid::Uuid::new_v4().simple()));
    backup::backup(&app.store, &app.files, &dest, Some(&app.database_url))
        .await
        .unwrap();
    // The running city's own database is not empty: refused, nothing
    // touched.
    let cases_before = app.count("case_record").await;
    let err = backup::restore(&dest, &app.database_url, &Files::memory(), false)
        .await
        .unwrap_err();
    assert!(matches!(err, BackupError::NotEmpty(_)), "{err}");
    assert!(err.to_string().contains("database"), "{err}");
    assert_eq!(app.count("case_record").await, cases_before);
    // Files already there: refused before the database is looked at.
    let err = backup::restore(&dest, &app.database_url, &app.files, false)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("files"), "{err}");
    // One byte changed in a stored photo: verify names that file.
    let m = backup::read_manifest(&dest).unwrap();
    let bad = &m.files[0].key;
    let path = dest.join("files").join(bad);
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xFF;
    std::fs::write(&path, bytes).unwrap();
    let err = backup::verify(&dest).unwrap_err();
    assert!(err.to_string().contains(bad.as_str()), "{err}");
    assert!(err.to_string().contains("SHA-256"), "{err}");
    // And a restore of it stops before writing anything.
    let (target, db) = empty_target(&app, b).await;
    let files = Files::memory();
    assert!(
        backup::restore(&dest, &target, &files, false)
            .await
            .is_err()
    );
    assert!(files.is_empty().await.unwrap());
    drop_target(db).await;
    let _ = std::fs::remove_dir_all(&dest);
}

async fn scheduled_backups_share_unchanged_files_and_keep_the_newest(b: Backend) {
    let app = TestApp::demo(b).await;
    let inspector = app.token("inspector", false).await;
    let r = upload_photo(&app, &inspector, synthetic_jpeg(9, None, None)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let dir = std::env::temp_dir().join(format!(
        "wenming-scheduled-{}",
        uuid::Uuid::new_v4().simple()
    ));
    assert!(
        backup::newest(&dir).is_none(),
        "nothing yet: a backup is due"
    );
    let first = backup::scheduled(&app.store, &app.files, &dir, 2, Some(&app.database_url))
        .await
        .unwrap();
    assert!(first.copied >= 2, "the photo and its thumbnail");
    // Folders are named by the second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let second = backup::scheduled(&app.store, &app.files, &dir, 2, Some(&app.database_url))
        .await
        .unwrap();
    assert_eq!(
        second.copied, 0,
        "the unchanged files come from the backup before"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    backup::scheduled(&app.store, &app.files, &dir, 2, Some(&app.database_url))
        .await
        .unwrap();
    let mut kept: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    kept.sort();
    assert_eq!(kept.len(), 2, "the newest two: {kept:?}");
    for k in &kept {
        backup::verify(k).unwrap();
    }
    let age = jiff::Timestamp::now().duration_since(backup::newest(&dir).unwrap());
    assert!(age.as_secs() < 60, "{age:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
