//! `wenming-bench`: measures wenming. Fills a database with a synthetic
//! city (`gen`), drives a running server with one request mix (`load`), and
//! measures the whole benchmark table (`bench`). Kept out of the `wenming`
//! binary so the product holds only the product.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use wenming_store::{Store, StoreConfig, redact_url};

#[derive(Parser)]
#[command(
    name = "wenming-bench",
    version,
    about = "Measures wenming: a synthetic city, the load harness and the benchmark table."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The database `gen` fills, named as `wenming` names it.
#[derive(clap::Args)]
struct Target {
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB (default: SQLite in the data folder).
    #[arg(long, env = "WENMING_DATABASE_URL", value_name = "URL")]
    database_url: Option<String>,
    /// Folder for the SQLite database and stored files.
    #[arg(
        long,
        env = "WENMING_DATA_DIR",
        value_name = "DIR",
        default_value = "wenming-data"
    )]
    data_dir: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Fill a database with a synthetic city (the demo city and many cases),
    /// for measuring. Refuses a database holding real cases unless forced.
    Gen {
        #[command(flatten)]
        target: Target,
        /// district (50,000 cases), city (1,000,000) or province (20,000,000).
        #[arg(long, value_name = "SIZE", conflicts_with = "cases")]
        scale: Option<String>,
        /// An exact number of cases instead of a scale.
        #[arg(long, value_name = "N")]
        cases: Option<u64>,
        /// The same seed gives the same rows.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Add to a database that already holds cases not made by `gen`.
        #[arg(long)]
        force: bool,
        /// Give this many handled cases a generated photo of the problem and
        /// one of the fix (with capture time and GPS), stored like uploads.
        #[arg(long, value_name = "N", default_value_t = 0)]
        photos: u64,
        /// Add daily patrol rounds over every site until about this many
        /// findings exist (the city scale's 10,000,000, say).
        #[arg(long, value_name = "N", default_value_t = 0)]
        findings: u64,
    },
    /// Drive a running wenming on this machine with one request mix and
    /// report throughput and latency.
    Load {
        /// The server, on loopback (http://127.0.0.1:8080).
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// An API token (read-write for intake), from the account page.
        #[arg(long, env = "WENMING_LOAD_TOKEN")]
        token: String,
        #[arg(long, value_enum)]
        mix: wenming_bench::load::Mix,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Stop after this many requests...
        #[arg(long, default_value_t = 10_000)]
        requests: u64,
        /// ...or this many seconds, whichever comes first.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
    },
    /// Fill the evidence archive of a database holding the demo city (after
    /// `wenming demo`): many materials on the framework in force, or a wider
    /// framework put in force first; with `--file-bytes`, real files, then
    /// the raw baseline of copying them into a stored zip. Prints an office
    /// API token for measuring the server.
    Evidence {
        #[command(flatten)]
        target: Target,
        /// Put a framework of this many standards in force first (0: keep).
        #[arg(long, default_value_t = 0)]
        standards: usize,
        #[arg(long, default_value_t = 100_000)]
        materials: u64,
        /// Size of each material's file (0: rows only).
        #[arg(long, default_value_t = 0)]
        file_bytes: usize,
        /// Also print a requirement built from the monthly case statistics
        /// and the raw GROUP BY baseline of its material.
        #[arg(long)]
        statistics: bool,
    },
    /// Time the projection's Monte Carlo: 10,000 draws over 150 standards
    /// and a 78-site panel (no database).
    Projection {
        #[arg(long, default_value_t = 20)]
        runs: usize,
    },
    /// Prepare a database filled by `gen`, `evidence` and `surveys` for the
    /// projection at size (the patrol rounds on the first of each of the
    /// last three months become mock evaluations), print the raw GROUP BYs
    /// over the rows the projection reads and an office API token.
    Scoring {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Hold many half-open connections to a running wenming on this
    /// machine and time /healthz over fresh connections meanwhile.
    Idle {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        #[arg(long, default_value_t = 3000)]
        connections: usize,
        #[arg(long, default_value_t = 500)]
        requests: usize,
    },
    /// Add a wave of the demo's questionnaire over many communities with
    /// many answers to a database holding the demo city, print the raw
    /// GROUP BY baseline of its results and an office API token.
    Surveys {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 1_000_000)]
        answers: u64,
        #[arg(long, default_value_t = 80)]
        communities: usize,
    },
    /// Measure the whole table (generation, raw baselines, the server under
    /// load) on SQLite and, given an admin URL, PostgreSQL; write the
    /// results to a Markdown file.
    Bench {
        #[arg(long, default_value = "district")]
        scale: String,
        #[arg(long, value_name = "N")]
        cases: Option<u64>,
        /// A PostgreSQL URL whose server may create a scratch database
        /// (postgres://postgres@127.0.0.1:5432/postgres).
        #[arg(long, value_name = "URL")]
        postgres: Option<String>,
        #[arg(long, default_value = "docs/benchmarks.md")]
        output: PathBuf,
        /// Seconds per load run.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Where the scratch SQLite databases go.
        #[arg(long, default_value = "target/bench-data")]
        work_dir: PathBuf,
        /// The wenming binary to measure (default: the one beside this binary).
        #[arg(long, value_name = "FILE")]
        server: Option<PathBuf>,
    },
}

/// Exit 2 for bad usage, 1 for failures while running.
enum Failure {
    Config(String),
    Runtime(String),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("wenming-bench: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Config(m)) => {
            eprintln!("wenming-bench: {m}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(m)) => {
            eprintln!("wenming-bench: {m}");
            ExitCode::from(1)
        }
    }
}

/// Opens and migrates the database, with the first administrator made as
/// `wenming serve` makes it (the generator builds on the demo city).
async fn open_store(target: &Target) -> Result<Store, Failure> {
    let url = target
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", target.data_dir.join("wenming.db").display()));
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(target.data_dir.join("files")).map_err(|e| {
            Failure::Runtime(format!(
                "cannot create the data folder {}: {e}",
                target.data_dir.display()
            ))
        })?;
    }
    let store = Store::connect(&StoreConfig {
        url: url.clone(),
        max_connections: 8,
        timezone: wenming_bench::table::default_timezone(),
    })
    .await
    .map_err(|e| {
        Failure::Runtime(format!(
            "cannot open the database at {}: {e}",
            redact_url(&url)
        ))
    })?;
    store
        .migrate()
        .await
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    wenming_store::demo::prepare(&store)
        .await
        .map_err(|e| Failure::Runtime(format!("cannot prepare the city region: {e}")))?;
    wenming_store::demo::bootstrap(&store, None)
        .await
        .map_err(|e| Failure::Runtime(format!("cannot prepare the first administrator: {e}")))?;
    Ok(store)
}

/// A read-write API token of the demo's office account, for measuring.
async fn office_token(store: &Store) -> Result<String, Failure> {
    let office: Option<String> =
        sqlx::query_scalar("SELECT id FROM app_user WHERE username = 'office'")
            .fetch_optional(store.reader())
            .await
            .map_err(|e| Failure::Runtime(e.to_string()))?;
    let office = office
        .and_then(|id| uuid::Uuid::parse_str(&id).ok())
        .ok_or_else(|| Failure::Runtime("no office account: load the demo first".into()))?;
    let (_, secret) = wenming_store::accounts::create_token(
        store,
        &wenming_store::Ctx::system("bench"),
        office,
        "bench",
        false,
        Some(1),
    )
    .await
    .map_err(|e| Failure::Runtime(e.to_string()))?;
    Ok(secret)
}

async fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Gen {
            target,
            scale,
            cases,
            seed,
            force,
            photos,
            findings,
        } => {
            let cases = match (cases, scale.as_deref()) {
                (Some(n), _) => n,
                (None, None) => wenming_bench::generate::scale("district").unwrap_or(50_000),
                (None, Some(s)) => wenming_bench::generate::scale(s).ok_or_else(|| {
                    Failure::Config(format!(
                        "--scale {s} is not valid: expected district, city or province"
                    ))
                })?,
            };
            let store = open_store(&target).await?;
            wenming_bench::table::gen_into(
                &store,
                &wenming_bench::generate::GenSpec {
                    cases,
                    seed,
                    force,
                    until: wenming_bench::generate::today(),
                },
            )
            .await
            .map_err(Failure::Runtime)?;
            if photos > 0 {
                let files = wenming_store::files::Files::local(&target.data_dir.join("files"))
                    .map_err(Failure::Runtime)?;
                let made = wenming_bench::generate::photos(&store, &files, photos)
                    .await
                    .map_err(|e| Failure::Runtime(e.to_string()))?;
                println!("Attached {made} generated photos.");
            }
            if findings > 0 {
                wenming_bench::table::findings_into(&store, findings, seed)
                    .await
                    .map_err(Failure::Runtime)?;
            }
            Ok(())
        }
        Command::Evidence {
            target,
            standards,
            materials,
            file_bytes,
            statistics,
        } => {
            let store = open_store(&target).await?;
            let dir = target.data_dir.join("files");
            let files = wenming_store::files::Files::local(&dir).map_err(Failure::Runtime)?;
            let (framework, keys) = wenming_bench::evidence::fill(
                &store,
                &files,
                &wenming_bench::evidence::FillSpec {
                    standards,
                    materials,
                    file_bytes,
                },
            )
            .await
            .map_err(Failure::Runtime)?;
            println!("framework {framework}");
            if statistics {
                let (id, p50) = wenming_bench::evidence::statistics_baseline(&store, 10)
                    .await
                    .map_err(Failure::Runtime)?;
                println!("statistics_requirement {id}");
                println!("raw statistics GROUP BY month and unit over the window: p50 {p50:.0} ms");
            }
            if !keys.is_empty() {
                let (secs, bytes) = wenming_bench::evidence::stored_zip_copy(&dir, &keys)
                    .map_err(Failure::Runtime)?;
                println!(
                    "raw stored-zip copy into a file: {bytes} bytes in {secs:.2} s ({:.0} MB/s)",
                    bytes as f64 / secs / 1e6
                );
            }
            println!("token {}", office_token(&store).await?);
            Ok(())
        }
        Command::Projection { runs } => {
            let (p50, max, obs) = wenming_bench::projection::monte_carlo(runs.max(1));
            println!(
                "projection Monte Carlo, 10,000 draws, 150 standards, 78 sites, {obs} observations: p50 {p50:.1} ms, max {max:.1} ms (n={runs})"
            );
            Ok(())
        }
        Command::Idle {
            url,
            connections,
            requests,
        } => {
            wenming_bench::load::check_loopback(&url).map_err(Failure::Config)?;
            let addr = url
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .parse::<std::net::SocketAddr>()
                .map_err(|e| Failure::Config(format!("--url {url}: {e}")))?;
            let r = wenming_bench::idle::run(addr, connections.clamp(1, 50_000), requests.max(1))
                .await
                .map_err(Failure::Runtime)?;
            println!(
                "{} connections held half-open ({} closed by the server meanwhile); /healthz over fresh connections: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, {} errors (n={requests})",
                r.held, r.closed_by_server, r.p50_ms, r.p99_ms, r.max_ms, r.errors
            );
            Ok(())
        }
        Command::Scoring { target, runs } => {
            let store = open_store(&target).await?;
            let rounds = wenming_bench::scoring::mark_mock_rounds(&store)
                .await
                .map_err(Failure::Runtime)?;
            let (p50, sizes) = wenming_bench::scoring::raw_ms(&store, runs)
                .await
                .map_err(Failure::Runtime)?;
            println!(
                "counted rounds {rounds}: {} findings; {} open cases behind findings; {} accepted submissions",
                sizes.findings, sizes.open_cases, sizes.submissions
            );
            println!("raw GROUP BYs over the projection's rows: p50 {p50:.0} ms (n={runs})");
            println!("token {}", office_token(&store).await?);
            Ok(())
        }
        Command::Surveys {
            target,
            answers,
            communities,
        } => {
            let store = open_store(&target).await?;
            let wave = wenming_bench::survey::fill(&store, answers, communities)
                .await
                .map_err(Failure::Runtime)?;
            println!("wave {wave}");
            let p50 = wenming_bench::survey::raw_results_ms(&store, wave, 3)
                .await
                .map_err(Failure::Runtime)?;
            println!("raw GROUP BY of the answers, every rate question: p50 {p50:.0} ms");
            let (read, computed) = wenming_bench::survey::parts_ms(&store, wave)
                .await
                .map_err(Failure::Runtime)?;
            println!(
                "without the web stack: tallies read in {read:.0} ms, results computed in {computed:.0} ms"
            );
            // Public intake, against the raw durable insert loop of the
            // same run.
            let raw = wenming_bench::baseline::raw_insert_rate(
                &store,
                std::time::Duration::from_secs(10),
            )
            .await
            .map_err(|e| Failure::Runtime(e.to_string()))?;
            let (rate, refused) = wenming_bench::survey::intake(&store, wave, 64, 20)
                .await
                .map_err(Failure::Runtime)?;
            println!(
                "public intake, 64 phones at once: {rate:.0} answers/s ({refused} refused); raw single-row durable inserts {raw:.0}/s; ratio {:.2}",
                rate / raw
            );
            println!("token {}", office_token(&store).await?);
            Ok(())
        }
        Command::Load {
            url,
            token,
            mix,
            concurrency,
            requests,
            seconds,
        } => {
            wenming_bench::load::check_loopback(&url).map_err(Failure::Config)?;
            let r = wenming_bench::load::run_load(&wenming_bench::load::LoadSpec {
                base: url.trim_end_matches('/').to_string(),
                token,
                mix,
                concurrency: concurrency.clamp(1, 1024),
                max_requests: requests,
                duration: std::time::Duration::from_secs(seconds.clamp(1, 3600)),
            })
            .await
            .map_err(Failure::Runtime)?;
            wenming_bench::load::print_load(mix, concurrency, &r);
            Ok(())
        }
        Command::Bench {
            scale,
            cases,
            postgres,
            output,
            seconds,
            work_dir,
            server,
        } => {
            let cases = match cases {
                Some(n) => n,
                None => wenming_bench::generate::scale(&scale).ok_or_else(|| {
                    Failure::Config(format!(
                        "--scale {scale} is not valid: expected district, city or province"
                    ))
                })?,
            };
            wenming_bench::table::bench(wenming_bench::table::BenchSpec {
                cases,
                // Ten findings a case, as a city's inspection history runs.
                findings: cases * 10,
                seed: 1,
                postgres_admin_url: postgres,
                output,
                duration: std::time::Duration::from_secs(seconds.clamp(2, 600)),
                work_dir,
                server: server.unwrap_or_else(wenming_bench::table::server_beside_me),
            })
            .await
            .map_err(Failure::Runtime)
        }
    }
}
