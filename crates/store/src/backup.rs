//! Online backups and restores of a whole deployment: the database as one
//! consistent snapshot taken while the server runs, every stored file a
//! row names, and a manifest with counts and SHA-256 sums that `verify`
//! checks and `restore` trusts only after checking.
//!
//! The snapshot: SQLite's online backup API copying every page in one
//! step (one read transaction; in WAL mode writers go on); PostgreSQL's `pg_dump` run on a snapshot exported from our own
//! repeatable-read transaction, in which the counts and the file list are
//! read too, so the three agree. Stored files never change once written
//! (photos and packages are named by id, materials by their SHA-256), so a
//! backup into a folder holding an earlier one copies only what is new.

use crate::files::Files;
use crate::{Backend, Store, StoreError};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The tables whose row counts the manifest keeps (and a restore checks).
pub const COUNTED: &[&str] = &[
    "app_user",
    "unit",
    "region",
    "framework_node",
    "case_record",
    "case_event",
    "photo",
    "inspection_round",
    "finding",
    "material",
    "submission",
    "survey_response",
    "audit_log",
];

const MANIFEST: &str = "manifest.json";
const SQLITE_FILE: &str = "wenming.db";
const PG_FILE: &str = "wenming.pgdump";
const FORMAT: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub taken_at: String,
    /// sqlite or postgres.
    pub backend: String,
    pub schema_version: i64,
    pub database: Entry,
    pub tables: BTreeMap<String, i64>,
    pub files: Vec<Entry>,
    /// Files a row named that were gone from the store when copied (the
    /// row was removed since the snapshot, or the store lost them).
    pub missing: Vec<String>,
}

/// A file of the backup: its path under the backup folder's `files/`
/// (for the database, the backup folder itself), size and SHA-256.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Io(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file whose bytes are not those the manifest names.
    #[error("{0} does not match the manifest: {1}")]
    Mismatch(String, String),
    #[error(
        "the target is not empty: {0} (restore only into an empty database and files folder, or pass --force)"
    )]
    NotEmpty(String),
}

impl From<sqlx::Error> for BackupError {
    fn from(e: sqlx::Error) -> Self {
        BackupError::Store(e.into())
    }
}

fn io(what: &str, e: impl std::fmt::Display) -> BackupError {
    BackupError::Io(format!("{what}: {e}"))
}

/// What a backup did.
#[derive(Debug, Clone)]
pub struct Report {
    pub manifest: Manifest,
    /// Files copied this time; the rest were in the folder already.
    pub copied: u64,
    pub copied_bytes: u64,
    pub seconds: f64,
}

/// The keys of every stored file the rows name.
async fn keys(conn: &mut sqlx::AnyConnection) -> Result<Vec<String>, sqlx::Error> {
    let mut out = vec![];
    for id in sqlx::query_scalar::<_, String>("SELECT id FROM photo ORDER BY id")
        .fetch_all(&mut *conn)
        .await?
    {
        out.push(format!("photos/{id}"));
        out.push(format!("thumbs/{id}.jpg"));
    }
    for sha in sqlx::query_scalar::<_, String>("SELECT sha256 FROM evidence_file ORDER BY sha256")
        .fetch_all(&mut *conn)
        .await?
    {
        out.push(format!("materials/{sha}"));
    }
    for id in sqlx::query_scalar::<_, String>(
        "SELECT id FROM package_job WHERE state = 'done' ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        out.push(format!("packages/{id}.zip"));
    }
    Ok(out)
}

async fn counts(conn: &mut sqlx::AnyConnection) -> Result<BTreeMap<String, i64>, sqlx::Error> {
    let mut out = BTreeMap::new();
    for t in COUNTED {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {t}"))
            .fetch_one(&mut *conn)
            .await?;
        out.insert((*t).to_string(), n);
    }
    Ok(out)
}

fn sha256_of(path: &Path) -> Result<(u64, String), BackupError> {
    let mut f = std::fs::File::open(path).map_err(|e| io(&path.display().to_string(), e))?;
    let mut h = Sha256::new();
    let n = std::io::copy(&mut f, &mut h).map_err(|e| io(&path.display().to_string(), e))?;
    Ok((n, hex::encode(h.finalize())))
}

/// Writes `path` whole or not at all: into a neighbour first, synced, then
/// renamed over it.
fn finish(partial: &Path, path: &Path) -> Result<(), BackupError> {
    std::fs::File::open(partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| io(&partial.display().to_string(), e))?;
    std::fs::rename(partial, path).map_err(|e| io(&path.display().to_string(), e))
}

fn partial_of(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".partial");
    PathBuf::from(p)
}

/// Takes a backup into `dest` while the server may be running. `pg_url`
/// is the PostgreSQL URL for `pg_dump` (ignored on SQLite).
pub async fn backup(
    store: &Store,
    files: &Files,
    dest: &Path,
    pg_url: Option<&str>,
) -> Result<Report, BackupError> {
    backup_reusing(store, files, dest, pg_url, None).await
}

/// As `backup`, taking the files an earlier backup folder holds from it
/// (hard links where the file system allows, copies where not) instead
/// of from the store.
pub async fn backup_reusing(
    store: &Store,
    files: &Files,
    dest: &Path,
    pg_url: Option<&str>,
    reuse: Option<&Path>,
) -> Result<Report, BackupError> {
    let started = std::time::Instant::now();
    std::fs::create_dir_all(dest.join("files")).map_err(|e| io(&dest.display().to_string(), e))?;
    // What an earlier backup in this folder, or the one named, holds.
    let here: BTreeMap<String, Entry> = read_manifest(dest)
        .map(|m| m.files.into_iter().map(|e| (e.key.clone(), e)).collect())
        .unwrap_or_default();
    let there: BTreeMap<String, Entry> = reuse
        .and_then(|r| read_manifest(r).ok())
        .map(|m| m.files.into_iter().map(|e| (e.key.clone(), e)).collect())
        .unwrap_or_default();
    let taken_at = jiff::Timestamp::now().to_string();
    let (file, tables, keys) = match store.backend() {
        Backend::Sqlite => {
            let path = dest.join(SQLITE_FILE);
            let partial = partial_of(&path);
            let _ = std::fs::remove_file(&partial);
            let source = sqlite_file(store).await?;
            let into = partial.clone();
            tokio::task::spawn_blocking(move || sqlite_pages(&source, &into))
                .await
                .map_err(|e| io("the database copy", e))?
                .map_err(|e| io("the database copy", e))?;
            finish(&partial, &path)?;
            // Counts and files are those of the snapshot itself.
            let snap = open_one(&format!("sqlite://{}", path.display())).await?;
            let mut conn = snap.reader().acquire().await?;
            let tables = counts(&mut conn).await?;
            let keys = keys(&mut conn).await?;
            drop(conn);
            snap.close().await;
            (SQLITE_FILE, tables, keys)
        }
        Backend::Postgres => {
            let url = pg_url.ok_or_else(|| {
                BackupError::Io("the PostgreSQL URL is needed for pg_dump".into())
            })?;
            let path = dest.join(PG_FILE);
            let partial = partial_of(&path);
            let mut tx = store.begin().await?;
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
            let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
                .fetch_one(&mut *tx)
                .await?;
            let tables = counts(&mut tx).await?;
            let keys = keys(&mut tx).await?;
            let (libpq, schema) = libpq_url(url);
            let mut dump = tokio::process::Command::new("pg_dump");
            dump.arg("--format=custom")
                .arg("--no-owner")
                .arg(format!("--snapshot={snapshot}"));
            if let Some(schema) = &schema {
                dump.arg(format!("--schema={schema}"));
            }
            let out = dump
                .arg("--file")
                .arg(&partial)
                .arg(&libpq)
                .output()
                .await
                .map_err(|e| {
                    io(
                        "pg_dump (install PostgreSQL's client tools, or back the database up with your own means)",
                        e,
                    )
                })?;
            tx.rollback().await?;
            if !out.status.success() {
                return Err(BackupError::Io(format!(
                    "pg_dump failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                )));
            }
            finish(&partial, &path)?;
            (PG_FILE, tables, keys)
        }
    };
    let (bytes, sha256) = sha256_of(&dest.join(file))?;
    let database = Entry {
        key: file.into(),
        bytes,
        sha256,
    };
    let mut entries = vec![];
    let mut missing = vec![];
    let (mut copied, mut copied_bytes) = (0u64, 0u64);
    for key in keys {
        let path = dest.join("files").join(&key);
        if let Some(e) = here.get(&key)
            && std::fs::metadata(&path).is_ok_and(|m| m.len() == e.bytes)
        {
            entries.push(e.clone());
            continue;
        }
        if let (Some(e), Some(from)) = (there.get(&key), reuse) {
            let old = from.join("files").join(&key);
            if std::fs::metadata(&old).is_ok_and(|m| m.len() == e.bytes) {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| io(&dir.display().to_string(), e))?;
                }
                let _ = std::fs::remove_file(&path);
                if std::fs::hard_link(&old, &path).is_err() {
                    std::fs::copy(&old, &path).map_err(|e| io(&path.display().to_string(), e))?;
                }
                entries.push(e.clone());
                continue;
            }
        }
        match copy_out(files, &key, &path).await {
            Ok(e) => {
                copied += 1;
                copied_bytes += e.bytes;
                entries.push(e);
            }
            Err(BackupError::Store(StoreError::NotFound)) => missing.push(key),
            Err(e) => return Err(e),
        }
    }
    let manifest = Manifest {
        format: FORMAT,
        taken_at,
        backend: match store.backend() {
            Backend::Sqlite => "sqlite".into(),
            Backend::Postgres => "postgres".into(),
        },
        schema_version: crate::SCHEMA_VERSION,
        database,
        tables,
        files: entries,
        missing,
    };
    let path = dest.join(MANIFEST);
    let partial = partial_of(&path);
    std::fs::write(
        &partial,
        serde_json::to_vec_pretty(&manifest).map_err(|e| io("manifest", e))?,
    )
    .map_err(|e| io(&partial.display().to_string(), e))?;
    finish(&partial, &path)?;
    Ok(Report {
        manifest,
        copied,
        copied_bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// One connection's store on a database other than the server's (the
/// snapshot, a restore's target); counting and listing need no more.
async fn open_one(url: &str) -> Result<Store, sqlx::Error> {
    Store::connect(&crate::StoreConfig {
        url: url.into(),
        max_connections: 1,
        timezone: jiff::tz::TimeZone::UTC,
    })
    .await
}

/// The file of a SQLite store's main database.
async fn sqlite_file(store: &Store) -> Result<PathBuf, BackupError> {
    let rows: Vec<(i64, String, String)> = sqlx::query_as("PRAGMA database_list")
        .fetch_all(store.reader())
        .await?;
    rows.into_iter()
        .find(|r| r.1 == "main" && !r.2.is_empty())
        .map(|r| PathBuf::from(r.2))
        .ok_or_else(|| BackupError::Io("the database is not in a file".into()))
}

/// Copies a SQLite database page by page with SQLite's own backup API, in
/// a single step: one read transaction sees one state of the database
/// while writers go on in the write-ahead log. As fast as the pages can be
/// read, where `VACUUM INTO` rebuilt every index (155 s against a 12 s
/// copy of a 9 GB database).
fn sqlite_pages(source: &Path, dest: &Path) -> Result<(), String> {
    use libsqlite3_sys as ffi;
    fn open(p: &Path, flags: std::ffi::c_int) -> Result<*mut ffi::sqlite3, String> {
        let name = std::ffi::CString::new(p.to_string_lossy().as_bytes())
            .map_err(|_| format!("{}: a NUL in the path", p.display()))?;
        let mut db = std::ptr::null_mut();
        // SAFETY: a valid C string and an out-pointer; a handle returned
        // on failure is closed here.
        let rc = unsafe { ffi::sqlite3_open_v2(name.as_ptr(), &mut db, flags, std::ptr::null()) };
        if rc != ffi::SQLITE_OK {
            unsafe { ffi::sqlite3_close(db) };
            return Err(format!("cannot open {} (SQLite code {rc})", p.display()));
        }
        Ok(db)
    }
    let src = open(source, ffi::SQLITE_OPEN_READONLY)?;
    let dst = match open(dest, ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE) {
        Ok(d) => d,
        Err(e) => {
            // SAFETY: `src` is an open handle, closed once.
            unsafe { ffi::sqlite3_close(src) };
            return Err(e);
        }
    };
    let main = c"main";
    // SAFETY: both handles are open and used by this thread alone; the
    // backup object is finished before they are closed, each once.
    let rc = unsafe {
        ffi::sqlite3_busy_timeout(src, 10_000);
        // The copy is synced and renamed into place once whole, so its own
        // journal and syncs would only slow it.
        ffi::sqlite3_exec(
            dst,
            c"PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF".as_ptr(),
            None,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
        let b = ffi::sqlite3_backup_init(dst, main.as_ptr(), src, main.as_ptr());
        let rc = if b.is_null() {
            ffi::sqlite3_errcode(dst)
        } else {
            let step = ffi::sqlite3_backup_step(b, -1);
            let done = ffi::sqlite3_backup_finish(b);
            if step == ffi::SQLITE_DONE { done } else { step }
        };
        ffi::sqlite3_close(dst);
        ffi::sqlite3_close(src);
        rc
    };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(format!("SQLite's backup stopped with code {rc}"))
    }
}

/// Copies one stored file into the backup as it streams, hashing it.
async fn copy_out(files: &Files, key: &str, path: &Path) -> Result<Entry, BackupError> {
    let mut stream = files.get_stream(key).await?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io(&dir.display().to_string(), e))?;
    }
    let partial = partial_of(path);
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(&partial).map_err(|e| io(&partial.display().to_string(), e))?,
    );
    let mut h = Sha256::new();
    let mut n = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        h.update(&chunk);
        n += chunk.len() as u64;
        out.write_all(&chunk)
            .map_err(|e| io(&partial.display().to_string(), e))?;
    }
    out.flush()
        .map_err(|e| io(&partial.display().to_string(), e))?;
    drop(out);
    finish(&partial, path)?;
    Ok(Entry {
        key: key.into(),
        bytes: n,
        sha256: hex::encode(h.finalize()),
    })
}

/// A scheduled backup: into a new folder under `dir` named by the time
/// (UTC), its files taken from the newest earlier backup there where it
/// has them; then only the newest `keep` backups are kept. A folder
/// without a manifest (a backup cut short) is never reused, and is
/// removed with the old ones.
pub async fn scheduled(
    store: &Store,
    files: &Files,
    dir: &Path,
    keep: usize,
    pg_url: Option<&str>,
) -> Result<Report, BackupError> {
    std::fs::create_dir_all(dir).map_err(|e| io(&dir.display().to_string(), e))?;
    let mut done: Vec<PathBuf> = backups_in(dir)?;
    let name = jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string();
    let dest = dir.join(&name);
    let reuse = done.last().cloned();
    let report = backup_reusing(store, files, &dest, pg_url, reuse.as_deref()).await?;
    done.push(dest);
    let finished: std::collections::BTreeSet<PathBuf> = done.iter().cloned().collect();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io(&dir.display().to_string(), e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && is_backup_name(p))
        .collect();
    entries.sort();
    let cut = done.len().saturating_sub(keep.max(1));
    let old: Vec<&PathBuf> = done.iter().take(cut).collect();
    for p in entries {
        // Unfinished ones older than the newest finished one are debris.
        let unfinished = !finished.contains(&p) && Some(&p) < done.last();
        if old.contains(&&p) || unfinished {
            let _ = std::fs::remove_dir_all(&p);
        }
    }
    Ok(report)
}

/// When the newest finished scheduled backup under `dir` was taken.
pub fn newest(dir: &Path) -> Option<jiff::Timestamp> {
    let last = backups_in(dir).ok()?.pop()?;
    let name = last.file_name()?.to_str()?;
    jiff::civil::DateTime::strptime("%Y%m%dT%H%M%SZ", name)
        .ok()?
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

fn is_backup_name(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.len() == 16 && n.ends_with('Z') && n.as_bytes()[8] == b'T')
}

/// The finished backups under `dir`, oldest first.
fn backups_in(dir: &Path) -> Result<Vec<PathBuf>, BackupError> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io(&dir.display().to_string(), e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| is_backup_name(p) && p.join(MANIFEST).is_file())
        .collect();
    out.sort();
    Ok(out)
}

pub fn read_manifest(src: &Path) -> Result<Manifest, BackupError> {
    let path = src.join(MANIFEST);
    let bytes = std::fs::read(&path)
        .map_err(|e| io(&format!("{} (not a finished backup)", path.display()), e))?;
    serde_json::from_slice(&bytes).map_err(|e| io(&path.display().to_string(), e))
}

/// Checks every file of a backup against its manifest; the first that
/// differs (or is absent) is named.
pub fn verify(src: &Path) -> Result<Manifest, BackupError> {
    let m = read_manifest(src)?;
    let check = |path: PathBuf, e: &Entry| -> Result<(), BackupError> {
        let name = path.display().to_string();
        let (bytes, sha256) =
            sha256_of(&path).map_err(|_| BackupError::Mismatch(name.clone(), "missing".into()))?;
        if bytes != e.bytes {
            return Err(BackupError::Mismatch(
                name,
                format!("{bytes} bytes, the manifest says {}", e.bytes),
            ));
        }
        if sha256 != e.sha256 {
            return Err(BackupError::Mismatch(
                name,
                format!("SHA-256 {sha256}, the manifest says {}", e.sha256),
            ));
        }
        Ok(())
    };
    check(src.join(&m.database.key), &m.database)?;
    for e in &m.files {
        check(src.join("files").join(&e.key), e)?;
    }
    Ok(m)
}

/// Whether a database holds anything of ours.
pub async fn database_is_empty(store: &Store) -> Result<bool, BackupError> {
    let tables: i64 = match store.backend() {
        Backend::Sqlite => sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .fetch_one(store.reader())
        .await?,
        Backend::Postgres => sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()",
        )
        .fetch_one(store.reader())
        .await?,
    };
    Ok(tables == 0)
}

/// Restores a verified backup: the database into `target_url` (an empty
/// SQLite file's path or PostgreSQL database, unless `force`), then every
/// file into `files` (empty too, unless `force`). Returns the manifest,
/// whose counts the restored database is checked against.
pub async fn restore(
    src: &Path,
    target_url: &str,
    files: &Files,
    force: bool,
) -> Result<Manifest, BackupError> {
    let m = verify(src)?;
    if !force && !files.is_empty().await? {
        return Err(BackupError::NotEmpty(format!(
            "the files ({})",
            files.label()
        )));
    }
    match m.backend.as_str() {
        "sqlite" => {
            let path = sqlite_path(target_url).ok_or_else(|| {
                BackupError::Io(format!(
                    "a SQLite backup restores into a SQLite database, not {}",
                    crate::redact_url(target_url)
                ))
            })?;
            if !force && std::fs::metadata(&path).is_ok_and(|m| m.len() > 0) {
                let existing = open_one(target_url).await?;
                let empty = database_is_empty(&existing).await?;
                existing.close().await;
                if !empty {
                    return Err(BackupError::NotEmpty(format!(
                        "the database {}",
                        path.display()
                    )));
                }
            }
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| io(&dir.display().to_string(), e))?;
            }
            let partial = partial_of(&path);
            std::fs::copy(src.join(SQLITE_FILE), &partial)
                .map_err(|e| io(&partial.display().to_string(), e))?;
            // The old database's journal must not be replayed over the
            // restored one.
            for end in ["-wal", "-shm"] {
                let mut p = path.as_os_str().to_owned();
                p.push(end);
                let _ = std::fs::remove_file(PathBuf::from(p));
            }
            finish(&partial, &path)?;
        }
        _ => {
            let target = open_one(target_url).await?;
            let empty = database_is_empty(&target).await?;
            target.close().await;
            if !empty && !force {
                return Err(BackupError::NotEmpty("the database".into()));
            }
            let mut cmd = tokio::process::Command::new("pg_restore");
            cmd.arg("--no-owner").arg("--exit-on-error");
            if !empty {
                cmd.arg("--clean").arg("--if-exists");
            }
            let out = cmd
                .arg("--dbname")
                .arg(libpq_url(target_url).0)
                .arg(src.join(PG_FILE))
                .output()
                .await
                .map_err(|e| io("pg_restore (install PostgreSQL's client tools)", e))?;
            if !out.status.success() {
                return Err(BackupError::Io(format!(
                    "pg_restore failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                )));
            }
        }
    }
    for e in &m.files {
        let bytes = std::fs::read(src.join("files").join(&e.key)).map_err(|err| io(&e.key, err))?;
        files.put(&e.key, bytes.into()).await?;
    }
    let restored = open_one(target_url).await?;
    let mut conn = restored.reader().acquire().await?;
    let now = counts(&mut conn).await?;
    drop(conn);
    restored.close().await;
    if now != m.tables {
        return Err(BackupError::Mismatch(
            "the restored database".into(),
            format!("counts {now:?}, the manifest says {:?}", m.tables),
        ));
    }
    Ok(m)
}

/// A PostgreSQL URL as libpq's tools read it, and the schema our own
/// `options[search_path]=` names (sqlx's spelling, which they do not know).
fn libpq_url(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None);
    };
    let mut schema = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| match p.strip_prefix("options[search_path]=") {
            Some(s) => {
                schema = Some(s.to_string());
                false
            }
            None => !p.is_empty(),
        })
        .collect();
    let url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (url, schema)
}

/// The file behind a `sqlite:` URL.
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_path("sqlite://data/wenming.db?mode=rwc"),
            Some(PathBuf::from("data/wenming.db"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://x@y/z"), None);
    }

    #[test]
    fn libpq_tools_get_the_schema_apart() {
        assert_eq!(
            libpq_url("postgres://p@h/db?sslmode=disable&options[search_path]=t_1"),
            (
                "postgres://p@h/db?sslmode=disable".into(),
                Some("t_1".into())
            )
        );
        assert_eq!(
            libpq_url("postgres://p@h/db"),
            ("postgres://p@h/db".into(), None)
        );
    }
}
