//! Background work of a running server: overdue escalation, webhook
//! deliveries, the file sweep, rebuilding the month tallies and the
//! planner's statistics. Each pass takes its job's lease first, so with
//! several instances on one database each job runs once.

use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use sha2::Sha256;
use std::time::Duration;
use wenming_store::escalation::{self, EscalationPolicy};
use wenming_store::files::Files;
use wenming_store::{Store, StoreError, jobs, webhook};

/// Where escalations are posted, and the key that signs them.
#[derive(Clone)]
pub struct WebhookTarget {
    pub url: String,
    pub secret: String,
}

impl std::fmt::Debug for WebhookTarget {
    // The secret stays out of logs and debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebhookTarget({})", self.url)
    }
}

#[derive(Debug, Clone)]
pub struct JobConfig {
    pub escalation: EscalationPolicy,
    pub webhook: Option<WebhookTarget>,
    /// How often each job looks for work.
    pub tick: Duration,
    /// How long a staged, never-attached upload is kept.
    pub staged_for_secs: i64,
    pub backup: Option<BackupSchedule>,
}

/// Backups the server takes on its own: one into `dir` whenever the newest
/// there is older than `every`, keeping the newest `keep`. Several
/// instances may share `dir` (they must, to share the files); the lease
/// lets one take each.
#[derive(Debug, Clone)]
pub struct BackupSchedule {
    pub dir: std::path::PathBuf,
    pub every: Duration,
    pub keep: usize,
    /// For pg_dump, on PostgreSQL.
    pub database_url: String,
}

impl Default for JobConfig {
    fn default() -> Self {
        JobConfig {
            escalation: EscalationPolicy::default(),
            webhook: None,
            tick: Duration::from_secs(60),
            staged_for_secs: 86_400,
            backup: None,
        }
    }
}

/// The header value: `sha256=` and the hex HMAC-SHA256, keyed by the shared
/// secret, of `timestamp.body`. The timestamp is signed too so a captured
/// delivery cannot be replayed later as new.
pub fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

/// Sends every delivery due at `now`: a 2xx answer delivers it; anything
/// else (or no answer) schedules a retry with back-off. Returns (delivered,
/// failed).
pub async fn deliver_due(
    store: &Store,
    http: &reqwest::Client,
    target: &WebhookTarget,
    now: Timestamp,
) -> Result<(usize, usize), StoreError> {
    let (mut ok, mut bad) = (0, 0);
    for d in webhook::due(store, now, 50).await? {
        let ts = now.as_second();
        let sent = http
            .post(&target.url)
            .header("content-type", "application/json")
            .header("x-wenming-event", &d.event)
            .header("x-wenming-delivery", d.id.to_string())
            .header("x-wenming-timestamp", ts.to_string())
            .header("x-wenming-signature", sign(&target.secret, ts, &d.payload))
            .body(d.payload.clone())
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => {
                webhook::delivered(store, d.id, now).await?;
                ok += 1;
            }
            Ok(r) => {
                webhook::failed(store, &d, &format!("HTTP {}", r.status().as_u16()), now).await?;
                bad += 1;
            }
            Err(e) => {
                // Without the URL: it may carry a token in its query.
                webhook::failed(store, &d, &e.without_url().to_string(), now).await?;
                bad += 1;
            }
        }
    }
    Ok((ok, bad))
}

/// Runs the jobs until the process ends.
pub fn spawn(store: Store, files: Files, cfg: JobConfig) -> tokio::task::JoinHandle<()> {
    if let Some(b) = cfg.backup.clone() {
        spawn_backups(store.clone(), files.clone(), b);
    }
    tokio::spawn(async move {
        let holder = wenming_domain::new_id().to_string();
        let http = client();
        let lease = SignedDuration::from_secs((cfg.tick.as_secs() as i64).max(30) * 3);
        let mut ticker = tokio::time::interval(cfg.tick);
        let mut ticks: u64 = 0;
        loop {
            ticker.tick().await;
            ticks += 1;
            let now = Timestamp::now();
            if let Err(e) = once(&store, &files, &cfg, &http, &holder, lease, now, ticks).await {
                tracing::warn!(error = %e, "background job pass failed; next tick retries");
            }
        }
    })
}

/// Looks every few minutes whether a backup is due; a backup runs beside
/// the other jobs, which do not wait for it.
fn spawn_backups(store: Store, files: Files, b: BackupSchedule) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let holder = wenming_domain::new_id().to_string();
        let mut ticker = tokio::time::interval(b.every.min(Duration::from_secs(600)));
        // Longer than any backup should take: should this instance die
        // during one, another takes it up after the lease.
        let lease = SignedDuration::from_hours(6);
        loop {
            ticker.tick().await;
            let now = Timestamp::now();
            let due = wenming_store::backup::newest(&b.dir)
                .is_none_or(|t| now.duration_since(t).as_secs() >= b.every.as_secs() as i64);
            if !due {
                continue;
            }
            match jobs::try_lease(&store, "backup", &holder, lease, now).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "backup lease failed; next look retries");
                    continue;
                }
            }
            match wenming_store::backup::scheduled(
                &store,
                &files,
                &b.dir,
                b.keep,
                Some(&b.database_url),
            )
            .await
            {
                Ok(r) => tracing::info!(
                    files = r.manifest.files.len(),
                    copied = r.copied,
                    seconds = r.seconds,
                    missing = r.manifest.missing.len(),
                    "scheduled backup taken"
                ),
                Err(e) => tracing::error!(error = %e, "scheduled backup failed; next look retries"),
            }
            let _ = jobs::release(&store, "backup", &holder).await;
        }
    })
}

#[allow(clippy::too_many_arguments)]
async fn once(
    store: &Store,
    files: &Files,
    cfg: &JobConfig,
    http: &reqwest::Client,
    holder: &str,
    lease: SignedDuration,
    now: Timestamp,
    ticks: u64,
) -> Result<(), StoreError> {
    if jobs::try_lease(store, "escalation", holder, lease, now).await? {
        let pass = escalation::run(store, &cfg.escalation, now).await?;
        if pass.escalated > 0 {
            tracing::info!(
                cases = pass.escalated,
                notifications = pass.notifications,
                deliveries = pass.deliveries,
                "overdue cases escalated"
            );
        }
        let today = now.to_zoned_datetime(store.timezone().clone()).date();
        let told = wenming_store::evidence::tell_overdue(store, today).await?;
        if told > 0 {
            tracing::info!(requirements = told, "units told of overdue materials");
        }
    }
    if let Some(target) = &cfg.webhook
        && jobs::try_lease(store, "webhook", holder, lease, now).await?
    {
        let (ok, bad) = deliver_due(store, http, target, now).await?;
        if ok + bad > 0 {
            tracing::info!(delivered = ok, failed = bad, "webhook deliveries");
        }
    }
    // After a calendar change (or on a database older than the sums) the
    // month tallies are built again; the metrics page computes from the
    // cases meanwhile.
    if !wenming_store::case::tally::is_built(store).await?
        && jobs::try_lease(store, "case_tally", holder, lease, now).await?
    {
        let rows = wenming_store::case::tally::rebuild(store).await?;
        tracing::info!(rows, "month tallies rebuilt");
    }
    // At start and then about hourly: fresh planner statistics (the
    // overdue count, the lists and the projection's reads rely on the
    // planner choosing their indexes; a database never analysed scanned
    // ten million findings for five rounds' worth).
    if ticks % 60 == 1 {
        store.optimize().await?;
    }
    // About hourly: a sweep has little to find.
    if ticks % 60 == 2 && jobs::try_lease(store, "file_sweep", holder, lease, now).await? {
        let removed = wenming_store::photo::sweep(store, files, cfg.staged_for_secs).await?;
        if removed > 0 {
            tracing::info!(files = removed, "unattached files removed");
        }
    }
    Ok(())
}
