//! `wenming backup`, `wenming backup verify` and `wenming restore`: the
//! commands around `wenming_store::backup`.

use crate::{Failure, config, open_files, open_store};
use clap::Subcommand;
use std::path::PathBuf;
use wenming_store::backup::{self, BackupError};

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupArgs {
    /// The backup folder: created if absent; one holding an earlier backup
    /// gets only the files that are new since.
    #[arg(value_name = "DEST")]
    dest: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<BackupCommand>,
}

#[derive(Subcommand)]
enum BackupCommand {
    /// Check every file of a backup against its manifest.
    Verify {
        #[arg(value_name = "SRC")]
        src: PathBuf,
    },
}

#[derive(clap::Args)]
pub struct RestoreArgs {
    /// The backup folder.
    #[arg(value_name = "SRC")]
    src: PathBuf,
    /// Restore over a database or files that are not empty.
    #[arg(long)]
    force: bool,
}

fn failed(e: BackupError) -> Failure {
    Failure::Runtime(e.to_string())
}

pub async fn backup_command(cfg: &config::Config, args: BackupArgs) -> Result<(), Failure> {
    if let Some(BackupCommand::Verify { src }) = args.command {
        let m = backup::verify(&src).map_err(failed)?;
        println!(
            "The backup is intact: the database and {} files match the manifest (taken {}).",
            m.files.len(),
            m.taken_at
        );
        return Ok(());
    }
    let dest = args
        .dest
        .ok_or_else(|| Failure::Config("name the backup folder: wenming backup DEST".into()))?;
    let store = open_store(cfg).await?;
    let files = open_files(cfg)?;
    let r = backup::backup(&store, &files, &dest, Some(&cfg.database_url))
        .await
        .map_err(failed)?;
    println!(
        "Backed up into {}: the database ({} bytes, {} cases), {} files ({} copied now, {} bytes) in {:.1} s.",
        dest.display(),
        r.manifest.database.bytes,
        r.manifest.tables.get("case_record").copied().unwrap_or(0),
        r.manifest.files.len(),
        r.copied,
        r.copied_bytes,
        r.seconds
    );
    if !r.manifest.missing.is_empty() {
        eprintln!(
            "warning: {} files named by rows were not in the store (first: {})",
            r.manifest.missing.len(),
            r.manifest.missing[0]
        );
    }
    Ok(())
}

pub async fn restore_command(cfg: &config::Config, args: RestoreArgs) -> Result<(), Failure> {
    let files = open_files(cfg)?;
    let m = backup::restore(&args.src, &cfg.database_url, &files, args.force)
        .await
        .map_err(failed)?;
    println!(
        "Restored the backup taken {}: the database and {} files; the row counts match the manifest.",
        m.taken_at,
        m.files.len()
    );
    Ok(())
}
