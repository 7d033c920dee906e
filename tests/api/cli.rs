//! The binary itself: exit codes and messages for bad configuration and
//! broken databases.

use std::process::{Command, Output};

fn wenming(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wenming"));
    c.current_dir(dir).args(args);
    for k in [
        "WENMING_DATABASE_URL",
        "WENMING_LISTEN",
        "WENMING_CONFIG",
        "WENMING_DATA_DIR",
        "WENMING_ADMIN_PASSWORD",
        "WENMING_TIMEZONE",
        "WENMING_WEBHOOK_URL",
        "WENMING_WEBHOOK_SECRET",
        "WENMING_PHOTO_MAX_MB",
        "WENMING_FILES_BUCKET",
        "LANG",
        "LC_ALL",
    ] {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("wenming-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn help_lists_the_subcommands() {
    let d = tempdir();
    let o = wenming(&d, &["--help"], &[]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    for sub in ["serve", "migrate", "demo", "audit", "admin"] {
        assert!(out.contains(sub), "--help mentions {sub}");
    }
    assert!(wenming(&d, &["audit", "--help"], &[]).status.success());
    assert_eq!(wenming(&d, &["frobnicate"], &[]).status.code(), Some(2));
}

#[test]
fn bad_configuration_exits_2_naming_the_key() {
    let d = tempdir();
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec!["migrate"],
            vec![("WENMING_DATABASE_URL", "mysql://x")],
            "WENMING_DATABASE_URL",
        ),
        (
            vec!["serve"],
            vec![("WENMING_LISTEN", "eight-thousand")],
            "WENMING_LISTEN",
        ),
        (vec!["serve", "--listen", "nowhere"], vec![], "--listen"),
        (
            vec!["serve"],
            vec![("WENMING_TIMEZONE", "Mars/Olympus")],
            "WENMING_TIMEZONE",
        ),
        (
            vec!["serve", "--public-url", "cc.example"],
            vec![],
            "--public-url",
        ),
        (
            vec!["serve"],
            vec![("WENMING_PHOTO_MAX_MB", "500")],
            "WENMING_PHOTO_MAX_MB",
        ),
        // A webhook is always signed: a URL without its secret is refused.
        (
            vec!["serve"],
            vec![("WENMING_WEBHOOK_URL", "https://sms.example.gov.cn/hook")],
            "WENMING_WEBHOOK_SECRET",
        ),
        (
            vec!["serve"],
            vec![
                ("WENMING_WEBHOOK_URL", "https://sms.example.gov.cn/hook"),
                ("WENMING_WEBHOOK_SECRET", "short"),
            ],
            "WENMING_WEBHOOK_SECRET",
        ),
    ];
    for (args, env, key) in cases {
        let o = wenming(&d, &args, &env);
        assert_eq!(o.status.code(), Some(2), "{args:?} {env:?}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(e.contains(key), "the message names {key}: {e}");
        assert!(!e.contains("short"), "a secret is never echoed: {e}");
        assert_eq!(e.trim().lines().count(), 1, "one sentence: {e}");
    }
    std::fs::write(
        d.join("wenming.toml"),
        "listen = \"127.0.0.1:9\"\nlisen = \"typo\"\n",
    )
    .unwrap();
    let o = wenming(&d, &["migrate"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("lisen"), "{}", stderr(&o));
    std::fs::write(d.join("wenming.toml"), "listen = \"here\"\n").unwrap();
    let o = wenming(&d, &["serve"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("listen in wenming.toml"),
        "{}",
        stderr(&o)
    );
    let o = wenming(&d, &["--config", "missing.toml", "migrate"], &[]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn unusable_databases_exit_1_with_a_clear_message() {
    let d = tempdir();
    let o = wenming(
        &d,
        &["migrate"],
        &[(
            "WENMING_DATABASE_URL",
            "postgres://postgres:secret@127.0.0.1:1/none",
        )],
    );
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("cannot open the database") && !e.contains("secret"),
        "{e}"
    );
    // A schema newer than the binary is refused without touching it.
    assert!(wenming(&d, &["migrate"], &[]).status.success());
    let db = format!("sqlite://{}", d.join("wenming-data/wenming.db").display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = crate::helpers::open_store(&db).await;
        sqlx::query("INSERT INTO schema_migration (version, name, checksum, applied_at) VALUES (99, 'future', '', 0)")
            .execute(store.reader())
            .await
            .unwrap();
        store.close().await;
    });
    let o = wenming(&d, &["serve"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("newer than this wenming"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn audit_verify_reports_a_tampered_log() {
    let d = tempdir();
    assert!(
        wenming(
            &d,
            &["demo"],
            &[("WENMING_ADMIN_PASSWORD", "cli-admin-password")]
        )
        .status
        .success()
    );
    let ok = wenming(&d, &["audit", "verify"], &[]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("intact"));
    let db = format!("sqlite://{}", d.join("wenming-data/wenming.db").display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = crate::helpers::open_store(&db).await;
        sqlx::query("UPDATE audit_log SET actor_name = 'someone else' WHERE seq = 3")
            .execute(store.reader())
            .await
            .unwrap();
        store.close().await;
    });
    let bad = wenming(&d, &["audit", "verify"], &[]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("audit record 3 was altered"),
        "{}",
        stderr(&bad)
    );
    // Loading the demo again changes nothing.
    let again = wenming(&d, &["demo"], &[]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("already loaded"));
}

#[test]
fn frameworks_import_and_export_from_the_command_line() {
    let d = tempdir();
    let env = [("WENMING_ADMIN_PASSWORD", "cli-admin-password")];
    assert!(wenming(&d, &["demo"], &env).status.success());
    let o = wenming(
        &d,
        &[
            "framework",
            "export",
            "--format",
            "json",
            "--output",
            "fw.json",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        wenming(
            &d,
            &[
                "framework",
                "export",
                "--format",
                "xlsx",
                "--output",
                "fw.xlsx"
            ],
            &[]
        )
        .status
        .success()
    );
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("fw.json")).unwrap()).unwrap();
    doc["name"] = "2027年版".into();
    std::fs::write(d.join("next.json"), serde_json::to_vec(&doc).unwrap()).unwrap();
    let dry = wenming(&d, &["framework", "import", "next.json", "--dry-run"], &[]);
    assert!(dry.status.success(), "{}", stderr(&dry));
    let out = String::from_utf8_lossy(&dry.stdout);
    assert!(
        out.contains(&format!("{} standards", crate::helpers::demo_standards()))
            && out.contains("Dry run"),
        "{out}"
    );
    let list = wenming(&d, &["framework", "list"], &[]);
    assert_eq!(
        String::from_utf8_lossy(&list.stdout).lines().count(),
        1,
        "a dry run saves nothing"
    );
    assert!(
        wenming(&d, &["framework", "import", "next.json"], &[])
            .status
            .success()
    );
    let list = wenming(&d, &["framework", "list"], &[]);
    assert_eq!(String::from_utf8_lossy(&list.stdout).lines().count(), 2);
    // The exported table cannot be imported over the active version it came from.
    let again = wenming(
        &d,
        &["framework", "import", "fw.xlsx"],
        &[("LANG", "zh_CN.UTF-8")],
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("同名同年度的测评体系已存在"),
        "{}",
        stderr(&again)
    );
    // A broken file: every problem on its own line, then one sentence.
    std::fs::write(d.join("bad.json"), b"{\"name\": ").unwrap();
    let bad = wenming(&d, &["framework", "import", "bad.json"], &[("LANG", "C")]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("malformed JSON") && stderr(&bad).contains("was not imported"),
        "{}",
        stderr(&bad)
    );
    assert!(
        wenming(&d, &["framework", "template", "--output", "t.xlsx"], &[])
            .status
            .success()
    );
    assert!(std::fs::metadata(d.join("t.xlsx")).unwrap().len() > 1000);
}

#[test]
fn backup_verify_and_restore_from_the_command_line() {
    let d = tempdir();
    let admin = [("WENMING_ADMIN_PASSWORD", "cli-admin-password")];
    assert!(wenming(&d, &["migrate"], &admin).status.success());
    let o = wenming(&d, &["backup", "bk"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Backed up into bk"));
    let o = wenming(&d, &["backup", "verify", "bk"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("intact"));
    // Onto the running city's own data: refused, naming why.
    let o = wenming(&d, &["restore", "bk"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not empty"), "{}", stderr(&o));
    // Into a fresh data folder: restored, counts checked.
    let o = wenming(&d, &["restore", "bk", "--data-dir", "elsewhere"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("row counts match"));
    let o = wenming(&d, &["audit", "verify", "--data-dir", "elsewhere"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    // A missing folder is a clear error, not a panic.
    let o = wenming(&d, &["backup", "verify", "nowhere"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("not a finished backup"),
        "{}",
        stderr(&o)
    );
    let _ = std::fs::remove_dir_all(&d);
}
