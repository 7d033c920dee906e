//! `wenming`: runs a city's National Civilized City campaign.

mod backup;
mod config;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use wenming_store::{Store, StoreConfig, demo, redact_url};
use wenming_web::{Application, WebConfig};

#[derive(Parser)]
#[command(
    name = "wenming",
    version,
    about = "Runs a city's National Civilized City campaign (创建全国文明城市)."
)]
struct Cli {
    /// Configuration file (default: ./wenming.toml if present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB (default: SQLite in the data folder).
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    /// Folder for the SQLite database and stored files (default: ./wenming-data).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the web server (pages and the /api/v1 JSON API).
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// The address users reach wenming at, when behind a proxy.
        #[arg(long, value_name = "URL")]
        public_url: Option<String>,
        /// Load the demo city (青岚市) if it is not loaded yet.
        #[arg(long)]
        demo: bool,
    },
    /// Bring the database schema up to date, then exit.
    Migrate,
    /// Load the demo city into a new database, then exit.
    Demo,
    /// Evaluation frameworks (测评体系): import, export, list.
    Framework {
        #[command(subcommand)]
        command: FrameworkCommand,
    },
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// A consistent online backup (database, stored files, manifest), or
    /// `backup verify SRC` to check one.
    Backup(backup::BackupArgs),
    /// Restore a backup into an empty database and files folder (stop the
    /// server first).
    Restore(backup::RestoreArgs),
    /// Account recovery for administrators with shell access.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum FrameworkCommand {
    /// Import a framework from an XLSX table in the official layout, or from a JSON export.
    Import {
        /// The .xlsx or .json file.
        file: PathBuf,
        /// Check the file and print what would change, without saving anything.
        #[arg(long)]
        dry_run: bool,
        /// Add unit names that match no unit to the registry instead of stopping.
        #[arg(long)]
        create_units: bool,
        /// Name, when the table has no settings sheet (default: its title row).
        #[arg(long)]
        name: Option<String>,
        /// Year, when the table has no settings sheet (default: this year).
        #[arg(long)]
        year: Option<i32>,
    },
    /// Export a framework: the active one, or the one named.
    Export {
        #[arg(long, value_enum)]
        format: ExportFormat,
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
        /// Name or id of the framework (default: the active one).
        #[arg(long)]
        framework: Option<String>,
    },
    /// Write an empty XLSX table with drop-downs, to fill in and import.
    Template {
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
    },
    /// List the framework versions.
    List,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    Xlsx,
    Json,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain and report the first broken link (exit 1 if broken).
    Verify,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Set a new random password for a user, lift any lockout, and print it once.
    ResetPassword {
        /// The username.
        username: String,
    },
}

/// Exit 2 for bad usage or configuration, 1 for failures while running.
enum Failure {
    Config(String),
    Runtime(String),
}

fn main() -> ExitCode {
    // One readable line instead of a backtrace dump, should a bug slip through.
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".into());
        eprintln!("wenming: internal error{place}: {what}; please report it");
    }));
    let cli = Cli::parse();
    limit_malloc_arenas();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("wenming: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Config(m)) => {
            eprintln!("wenming: configuration error: {m}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(m)) => {
            eprintln!("wenming: {m}");
            ExitCode::from(1)
        }
    }
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    // Colour only for a person at a terminal; files and collectors get plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

pub(crate) fn open_files(cfg: &config::Config) -> Result<wenming_store::files::Files, Failure> {
    match &cfg.files_bucket {
        Some(bucket) => wenming_store::files::Files::s3(bucket).map_err(Failure::Config),
        None => wenming_store::files::Files::local(&cfg.data_dir.join("files"))
            .map_err(Failure::Runtime),
    }
}

pub(crate) async fn open_store(cfg: &config::Config) -> Result<Store, Failure> {
    if cfg.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(cfg.data_dir.join("files")).map_err(|e| {
            Failure::Runtime(format!(
                "cannot create the data folder {}: {e}",
                cfg.data_dir.display()
            ))
        })?;
    }
    let store = Store::connect(&StoreConfig {
        url: cfg.database_url.clone(),
        max_connections: cfg.max_connections,
        timezone: cfg.timezone.clone(),
    })
    .await
    .map_err(|e| {
        Failure::Runtime(format!(
            "cannot open the database at {}: {e}",
            redact_url(&cfg.database_url)
        ))
    })?;
    store
        .migrate()
        .await
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    // Every command sets the database up as `serve` does (the first
    // administrator aside, whose password only `serve` can show).
    demo::prepare(&store)
        .await
        .map_err(|e| Failure::Runtime(format!("cannot prepare the city region: {e}")))?;
    Ok(store)
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let mut overrides = config::Overrides {
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
        ..Default::default()
    };
    if let Command::Serve {
        listen, public_url, ..
    } = &cli.command
    {
        overrides.listen = listen.clone();
        overrides.public_url = public_url.clone();
    }
    let cfg = config::load(cli.config.as_deref(), &overrides).map_err(|e| Failure::Config(e.0))?;
    init_logging(cfg.json_logs);
    match cli.command {
        Command::Serve {
            demo: load_demo, ..
        } => serve(cfg, load_demo).await,
        Command::Migrate => {
            open_store(&cfg).await?;
            println!(
                "The database schema is up to date (version {}).",
                wenming_store::SCHEMA_VERSION
            );
            Ok(())
        }
        Command::Demo => {
            let store = open_store(&cfg).await?;
            bootstrap(&store).await?;
            load_demo_city(&store, &cfg).await
        }
        Command::Framework { command } => {
            let store = open_store(&cfg).await?;
            framework_command(&store, command).await
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let store = open_store(&cfg).await?;
            let v = wenming_store::audit::verify(&store)
                .await
                .map_err(|e| Failure::Runtime(e.to_string()))?;
            match v.broken {
                None => {
                    println!("The audit log is intact: {} records checked.", v.checked);
                    Ok(())
                }
                Some(b) => Err(Failure::Runtime(format!(
                    "the audit log is broken: {b} ({} records before it are intact)",
                    v.checked
                ))),
            }
        }
        Command::Backup(args) => backup::backup_command(&cfg, args).await,
        Command::Restore(args) => backup::restore_command(&cfg, args).await,
        Command::Admin {
            command: AdminCommand::ResetPassword { username },
        } => {
            let store = open_store(&cfg).await?;
            reset_password(&store, &username).await
        }
    }
}

async fn bootstrap(store: &Store) -> Result<demo::Bootstrap, Failure> {
    let password = std::env::var("WENMING_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty());
    if let Some(p) = &password
        && p.chars().count() < wenming_domain::account::MIN_PASSWORD_CHARS
    {
        return Err(Failure::Config(format!(
            "WENMING_ADMIN_PASSWORD is not valid: a password needs at least {} characters",
            wenming_domain::account::MIN_PASSWORD_CHARS
        )));
    }
    demo::bootstrap(store, password.as_deref())
        .await
        .map_err(|e| Failure::Runtime(format!("cannot prepare the first administrator: {e}")))
}

async fn load_demo_city(store: &Store, cfg: &config::Config) -> Result<(), Failure> {
    load_demo_city_telling(store, cfg, |_| {}, || {}).await
}

/// Loads the demo city, printing each part as it is in and telling `also`.
async fn load_demo_city_telling(
    store: &Store,
    cfg: &config::Config,
    also: impl Fn(demo::DemoPart),
    also_generated: impl Fn(),
) -> Result<(), Failure> {
    let started = std::time::Instant::now();
    let tell = |part: demo::DemoPart| {
        also(part);
        let what = match part {
            demo::DemoPart::City => "the city, its units, people, accounts and framework",
            demo::DemoPart::Cases => "a month of cases with their photos",
            demo::DemoPart::Rounds => "inspection rounds and their findings",
            demo::DemoPart::Evidence => "evidence materials, filed and reviewed",
            demo::DemoPart::Tallies => "the month tallies the metrics read",
        };
        println!("  demo: {what} ({:.1} s)", started.elapsed().as_secs_f64());
    };
    println!("Loading the demo city 青岚市 …");
    let files = open_files(cfg)?;
    match demo::load_all_telling(store, &files, tell).await {
        Ok(demo::DemoOutcome::Loaded) => {}
        Ok(demo::DemoOutcome::AlreadyLoaded) => {
            println!("The demo city is already loaded.");
            return Ok(());
        }
        Err(e) => return Err(Failure::Runtime(format!("cannot load the demo city: {e}"))),
    }
    // What wenming builds from the demo's own records, as the office would
    // on its first day: the workbooks are the web layer's to write.
    let web = WebConfig {
        files,
        timezone: cfg.timezone.clone(),
        ..WebConfig::local(cfg.listen)
    };
    let built = wenming_web::load_demo_materials(store, &web)
        .await
        .map_err(|e| Failure::Runtime(format!("cannot build the demo's materials: {e:?}")))?;
    also_generated();
    println!(
        "  demo: {built} materials built from the records ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
    println!("Loaded the demo city 青岚市.");
    Ok(())
}

/// glibc gives each thread that allocates its own arena, and every SQLite
/// connection runs on a thread of its own: with a dozen arenas, freed memory
/// is spread thin and the resident size grows. Two arenas hold it down
/// (measured: 92 MB → 63 MB under the benchmark's load) at little cost.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called once in
    // main, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

async fn serve(cfg: config::Config, load_demo: bool) -> Result<(), Failure> {
    let store = open_store(&cfg).await?;
    let boot = bootstrap(&store).await?;
    // The demo loads behind the running server (it takes some seconds):
    // pages say how far it is, and it is refused before anything is served
    // if the database holds a real city.
    let demo_loading = if load_demo && !demo::is_loaded(&store).await.unwrap_or(false) {
        demo::check_empty(&store)
            .await
            .map_err(|e| Failure::Runtime(format!("cannot load the demo city: {e}")))?;
        Some(std::sync::Arc::new(wenming_web::DemoLoading::default()))
    } else {
        None
    };
    let web = WebConfig {
        demo_loading: demo_loading.clone(),
        material_max_bytes: cfg.material_max_mb as usize * 1024 * 1024,
        max_http_connections: cfg.http_max_connections as usize,
        header_timeout: std::time::Duration::from_secs(10),
        listen: cfg.listen,
        secure_cookies: cfg
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://")),
        public_url: cfg.public_url.clone(),
        timezone: cfg.timezone.clone(),
        files: open_files(&cfg)?,
        photo_rules: wenming_store::photo::PhotoRules {
            max_bytes: cfg.photo_max_mb as usize * 1024 * 1024,
            far_metres: cfg.photo_far_metres as f64,
            ..Default::default()
        },
    };
    let jobs = wenming_web::jobs::JobConfig {
        escalation: wenming_store::escalation::EscalationPolicy {
            head_after: jiff::SignedDuration::from_hours(cfg.escalate_head_after_hours as i64),
            repeat: jiff::SignedDuration::from_hours(cfg.escalate_repeat_hours as i64),
            webhook: cfg.webhook.is_some(),
        },
        webhook: cfg
            .webhook
            .clone()
            .map(|(url, secret)| wenming_web::jobs::WebhookTarget { url, secret }),
        backup: cfg
            .backup_dir
            .clone()
            .map(|dir| wenming_web::jobs::BackupSchedule {
                dir,
                every: std::time::Duration::from_secs(cfg.backup_every_hours * 3600),
                keep: cfg.backup_keep as usize,
                database_url: cfg.database_url.clone(),
            }),
        ..Default::default()
    };
    wenming_web::jobs::spawn(store.clone(), web.files.clone(), jobs);
    let app = Application::build(store.clone(), web)
        .await
        .map_err(|e| Failure::Runtime(format!("cannot listen on {}: {e}", cfg.listen)))?;
    app.spawn_monthly_snapshots();
    let url = cfg
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}/", app.local_addr()));
    println!("wenming is running at {url}");
    match (&boot.generated_admin_password, boot.created_admin) {
        (Some(p), _) => println!(
            "Sign in as '{}' with the password {p} (shown only now; you will be asked to choose your own).",
            demo::ADMIN_USERNAME
        ),
        (None, true) => println!(
            "Sign in as '{}' with the password from WENMING_ADMIN_PASSWORD.",
            demo::ADMIN_USERNAME
        ),
        (None, false) => println!(
            "Sign in with your account. Lost the administrator's password? Run: wenming admin reset-password {}",
            demo::ADMIN_USERNAME
        ),
    }
    if let Some(progress) = demo_loading {
        let (store, cfg) = (store.clone(), cfg.clone());
        tokio::spawn(async move {
            let tell = |_: demo::DemoPart| progress.part_done();
            match load_demo_city_telling(&store, &cfg, tell, || progress.part_done()).await {
                Ok(()) => println!(
                    "Demo accounts office, inspector (also inspector2, inspector3), unit and leader share the password {}.",
                    demo::DEMO_PASSWORD
                ),
                Err(Failure::Runtime(m) | Failure::Config(m)) => {
                    eprintln!("{m}");
                    std::process::exit(1);
                }
            }
        });
    } else if demo::is_loaded(&store).await.unwrap_or(false) {
        println!(
            "Demo accounts office, inspector (also inspector2, inspector3), unit and leader share the password {}.",
            demo::DEMO_PASSWORD
        );
    }
    app.run_until(shutdown_signal())
        .await
        .map_err(|e| Failure::Runtime(format!("the server stopped: {e}")))?;
    store.close().await;
    Ok(())
}

/// Whoever runs the command line on the server acts as the system, over
/// the whole city.
async fn system_permit<P: wenming_domain::policy::Permission>(
    store: &Store,
) -> Result<wenming_domain::policy::Permit<P>, Failure> {
    let root = wenming_store::org::root_region(store)
        .await
        .map_err(|e| Failure::Runtime(e.to_string()))?
        .ok_or_else(|| Failure::Runtime("the database has no city yet".into()))?;
    Ok(wenming_domain::policy::Permit::system(&root.path))
}

async fn reset_password(store: &Store, username: &str) -> Result<(), Failure> {
    let page = wenming_store::accounts::list_users(store, Some(username), None, 500)
        .await
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    let user = page
        .items
        .into_iter()
        .find(|u| u.username == username.trim().to_ascii_lowercase())
        .ok_or_else(|| Failure::Runtime(format!("there is no user named '{username}'")))?;
    let password = wenming_store::accounts::random_hex(8);
    let ctx = wenming_store::Ctx::system("admin reset-password");
    let permit = system_permit(store).await?;
    wenming_store::accounts::reset_password(store, &ctx, &permit, user.id, &password)
        .await
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    wenming_store::accounts::unlock(store, &ctx, &permit, &user)
        .await
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    println!(
        "New password for '{}': {password} (they must change it at sign-in).",
        user.username
    );
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

fn cli_lang() -> wenming_web::i18n::Lang {
    let l = std::env::var("LC_ALL")
        .or_else(|_| std::env::var("LANG"))
        .unwrap_or_default();
    wenming_web::i18n::Lang::parse(&l).unwrap_or(wenming_web::i18n::Lang::En)
}

/// Every problem on its own line, then one summary sentence as the error.
fn report_problems(problems: &[wenming_domain::framework::Problem]) -> Failure {
    let lang = cli_lang();
    for p in problems {
        eprintln!("  {}", wenming_web::describe_problem(lang, p));
    }
    Failure::Runtime(format!(
        "the framework was not imported: {} problem(s), listed above",
        problems.len()
    ))
}

async fn find_framework(
    store: &Store,
    which: Option<&str>,
) -> Result<wenming_store::framework::FrameworkSummary, Failure> {
    let all = wenming_store::framework::list(store)
        .await
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    let found = match which {
        None => all
            .into_iter()
            .filter(|f| f.status == wenming_domain::framework::FrameworkStatus::Active)
            .max_by_key(|f| f.year),
        Some(w) => all
            .into_iter()
            .find(|f| f.id.to_string() == w || f.name == w),
    };
    found.ok_or_else(|| {
        Failure::Runtime(match which {
            None => "there is no active framework; name one with --framework".into(),
            Some(w) => format!("there is no framework named '{w}'"),
        })
    })
}

async fn framework_command(store: &Store, command: FrameworkCommand) -> Result<(), Failure> {
    use wenming_store::framework;
    match command {
        FrameworkCommand::Import {
            file,
            dry_run,
            create_units,
            name,
            year,
        } => {
            let bytes = std::fs::read(&file)
                .map_err(|e| Failure::Runtime(format!("cannot read {}: {e}", file.display())))?;
            let this_year = jiff::ZonedDateTime::now().year() as i32;
            eprintln!("Reading {} ({} KB)…", file.display(), bytes.len() / 1024);
            let doc = wenming_reports::framework_xlsx::read_upload(
                &bytes,
                name.as_deref().unwrap_or(""),
                year.unwrap_or(this_year),
                &Default::default(),
            )
            .map_err(|p| report_problems(&p))?;
            let plan = match framework::plan(store, &doc).await {
                Ok(p) => p,
                Err(wenming_store::StoreError::Problems(p)) => return Err(report_problems(&p)),
                Err(e) => return Err(Failure::Runtime(e.to_string())),
            };
            println!(
                "{} {} ({}): {} standards, basic {} + featured {} points.",
                if plan.replaces.is_some() {
                    "Replaces the draft"
                } else {
                    "A new framework"
                },
                plan.name,
                plan.year,
                plan.standards,
                plan.basic,
                plan.featured
            );
            if let Some(d) = &plan.diff {
                println!(
                    "Against the draft: {} added, {} removed, {} changed.",
                    d.added.len(),
                    d.removed.len(),
                    d.changed.len()
                );
                for c in &d.added {
                    println!("  + {c}");
                }
                for c in &d.removed {
                    println!("  - {c}");
                }
                for (c, fields) in &d.changed {
                    println!("  ~ {c}: {}", fields.join(", "));
                }
            }
            if !plan.unknown_units.is_empty() {
                println!(
                    "Units not in the registry{}: {}",
                    if create_units {
                        " (will be created)"
                    } else {
                        ""
                    },
                    plan.unknown_units.join("、")
                );
            }
            if dry_run {
                println!("Dry run: nothing was saved.");
                return Ok(());
            }
            if !plan.unknown_units.is_empty() && !create_units {
                return Err(Failure::Runtime("unknown unit names stop the import; fix them, or pass --create-units to add them".into()));
            }
            let ctx = wenming_store::Ctx::system("framework import");
            let show = |done: usize, total: usize| {
                if total >= 500 {
                    eprintln!("  written {done} of {total} nodes");
                }
            };
            let permit = system_permit(store).await?;
            let (id, _) =
                framework::import_with_progress(store, &ctx, &permit, &doc, create_units, &show)
                    .await
                    .map_err(|e| match e {
                        wenming_store::StoreError::Problems(p) => report_problems(&p),
                        e => Failure::Runtime(e.to_string()),
                    })?;
            println!("Imported as a draft: {id}");
            Ok(())
        }
        FrameworkCommand::Export {
            format,
            output,
            framework,
        } => {
            let f = find_framework(store, framework.as_deref()).await?;
            let doc = framework::export(store, f.id)
                .await
                .map_err(|e| Failure::Runtime(e.to_string()))?;
            let bytes = match format {
                ExportFormat::Json => {
                    serde_json::to_vec_pretty(&doc).map_err(|e| Failure::Runtime(e.to_string()))?
                }
                ExportFormat::Xlsx => wenming_reports::framework_xlsx::write(&doc)
                    .map_err(|e| Failure::Runtime(e.to_string()))?,
            };
            std::fs::write(&output, bytes)
                .map_err(|e| Failure::Runtime(format!("cannot write {}: {e}", output.display())))?;
            println!(
                "Wrote {} ({} {}) to {}.",
                f.name,
                f.year,
                f.status.code(),
                output.display()
            );
            Ok(())
        }
        FrameworkCommand::Template { output } => {
            let bytes = wenming_reports::framework_xlsx::template()
                .map_err(|e| Failure::Runtime(e.to_string()))?;
            std::fs::write(&output, bytes)
                .map_err(|e| Failure::Runtime(format!("cannot write {}: {e}", output.display())))?;
            println!("Wrote the template to {}.", output.display());
            Ok(())
        }
        FrameworkCommand::List => {
            for f in framework::list(store)
                .await
                .map_err(|e| Failure::Runtime(e.to_string()))?
            {
                println!(
                    "{}  {}  {:<8} {:>4} standards  {} + {}  {}",
                    f.id,
                    f.year,
                    f.status.code(),
                    f.standards,
                    f.basic,
                    f.featured,
                    f.name
                );
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod documented_commands;
