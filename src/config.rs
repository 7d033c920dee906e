//! Configuration: command-line flags, then `WENMING_*` environment
//! variables, then an optional `wenming.toml`, then built-in defaults.
//! Every value is checked at start, and a bad one is reported with the key
//! and where it came from.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub data_dir: Option<String>,
    pub database_url: Option<String>,
    pub listen: Option<String>,
    pub public_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<String>,
    database_url: Option<String>,
    listen: Option<String>,
    public_url: Option<String>,
    timezone: Option<String>,
    log_format: Option<String>,
    max_connections: Option<u32>,
    files_bucket: Option<String>,
    photo_max_mb: Option<u64>,
    material_max_mb: Option<u64>,
    photo_far_metres: Option<u64>,
    webhook_url: Option<String>,
    webhook_secret: Option<String>,
    escalate_head_after_hours: Option<u64>,
    escalate_repeat_hours: Option<u64>,
    backup_dir: Option<String>,
    backup_every_hours: Option<u64>,
    backup_keep: Option<u64>,
    http_max_connections: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub listen: SocketAddr,
    pub public_url: Option<String>,
    pub timezone: jiff::tz::TimeZone,
    pub json_logs: bool,
    pub max_connections: u32,
    /// An S3 bucket for files instead of `data_dir/files`.
    pub files_bucket: Option<String>,
    pub photo_max_mb: u64,
    pub material_max_mb: u64,
    pub photo_far_metres: u64,
    /// Where escalations are posted, and the key they are signed with.
    pub webhook: Option<(String, String)>,
    pub escalate_head_after_hours: u64,
    pub escalate_repeat_hours: u64,
    /// Where the server takes its own backups (none when unset), how often
    /// and how many it keeps.
    pub backup_dir: Option<PathBuf>,
    pub backup_every_hours: u64,
    pub backup_keep: u64,
    pub http_max_connections: u64,
}

#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A value and the place it came from, for error messages.
struct Sourced {
    value: String,
    from: String,
}

fn pick(
    flag: Option<&String>,
    flag_name: &str,
    env_key: &str,
    file: Option<&String>,
    file_key: &str,
) -> Option<Sourced> {
    if let Some(v) = flag {
        return Some(Sourced {
            value: v.clone(),
            from: format!("--{flag_name}"),
        });
    }
    if let Ok(v) = std::env::var(env_key)
        && !v.is_empty()
    {
        return Some(Sourced {
            value: v,
            from: env_key.to_string(),
        });
    }
    file.map(|v| Sourced {
        value: v.clone(),
        from: format!("{file_key} in wenming.toml"),
    })
}

/// A whole number from the environment or the file, within `range`.
fn number(
    env_key: &str,
    file: Option<u64>,
    file_key: &str,
    range: std::ops::RangeInclusive<u64>,
    default: u64,
) -> Result<u64, ConfigError> {
    let file = file.map(|n| n.to_string());
    match pick(None, "", env_key, file.as_ref(), file_key) {
        Some(s) => s
            .value
            .parse::<u64>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                bad(
                    &s,
                    &format!(
                        "expected a number from {} to {}",
                        range.start(),
                        range.end()
                    ),
                )
            }),
        None => Ok(default),
    }
}

fn bad(s: &Sourced, why: &str) -> ConfigError {
    ConfigError(format!("{} = '{}' is not valid: {why}", s.from, s.value))
}

pub fn load(config_file: Option<&Path>, o: &Overrides) -> Result<Config, ConfigError> {
    let explicit = config_file.is_some() || std::env::var("WENMING_CONFIG").is_ok();
    let path = config_file
        .map(Path::to_path_buf)
        .or_else(|| std::env::var("WENMING_CONFIG").ok().map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("wenming.toml"));
    let file: FileConfig = match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).map_err(|e| {
            ConfigError(format!("{} is not valid: {}", path.display(), e.message()))
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => FileConfig::default(),
        Err(e) => {
            return Err(ConfigError(format!(
                "cannot read the configuration file {}: {e}",
                path.display()
            )));
        }
    };

    let data_dir = pick(
        o.data_dir.as_ref(),
        "data-dir",
        "WENMING_DATA_DIR",
        file.data_dir.as_ref(),
        "data_dir",
    )
    .map_or_else(|| PathBuf::from("wenming-data"), |s| PathBuf::from(s.value));

    let database_url = match pick(
        o.database_url.as_ref(),
        "database-url",
        "WENMING_DATABASE_URL",
        file.database_url.as_ref(),
        "database_url",
    ) {
        Some(s) => {
            let ok = s.value.starts_with("sqlite:")
                || s.value.starts_with("postgres://")
                || s.value.starts_with("postgresql://");
            if !ok {
                return Err(ConfigError(format!(
                    "{} is not valid: a database URL starts with sqlite: or postgres://",
                    s.from
                )));
            }
            s.value
        }
        None => format!("sqlite://{}", data_dir.join("wenming.db").display()),
    };

    let listen = match pick(
        o.listen.as_ref(),
        "listen",
        "WENMING_LISTEN",
        file.listen.as_ref(),
        "listen",
    ) {
        Some(s) => s
            .value
            .parse()
            .map_err(|_| bad(&s, "expected an address and port such as 127.0.0.1:8080"))?,
        None => SocketAddr::from(([127, 0, 0, 1], 8080)),
    };

    let public_url = match pick(
        o.public_url.as_ref(),
        "public-url",
        "WENMING_PUBLIC_URL",
        file.public_url.as_ref(),
        "public_url",
    ) {
        Some(s) => {
            let v = s.value.trim_end_matches('/').to_string();
            let host = v
                .strip_prefix("https://")
                .or_else(|| v.strip_prefix("http://"));
            if host.is_none_or(|h| h.is_empty() || h.contains('/')) {
                return Err(bad(
                    &s,
                    "expected an origin such as https://cc.example.gov.cn",
                ));
            }
            Some(v)
        }
        None => None,
    };

    let timezone = match pick(
        None,
        "",
        "WENMING_TIMEZONE",
        file.timezone.as_ref(),
        "timezone",
    ) {
        Some(s) => jiff::tz::TimeZone::get(&s.value)
            .map_err(|_| bad(&s, "expected an IANA time zone such as Asia/Shanghai"))?,
        None => default_timezone(),
    };

    let json_logs = match pick(
        None,
        "",
        "WENMING_LOG_FORMAT",
        file.log_format.as_ref(),
        "log_format",
    ) {
        Some(s) => match s.value.as_str() {
            "json" => true,
            "text" => false,
            _ => return Err(bad(&s, "expected text or json")),
        },
        None => false,
    };

    let max_connections = match std::env::var("WENMING_MAX_CONNECTIONS")
        .ok()
        .filter(|v| !v.is_empty())
    {
        Some(v) => {
            let s = Sourced {
                value: v,
                from: "WENMING_MAX_CONNECTIONS".into(),
            };
            s.value
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=200).contains(n))
                .ok_or_else(|| bad(&s, "expected a number from 1 to 200"))?
        }
        None => match file.max_connections {
            Some(n) if (1..=200).contains(&n) => n,
            Some(n) => {
                return Err(ConfigError(format!(
                    "max_connections in wenming.toml = {n} is not valid: expected a number from 1 to 200"
                )));
            }
            None => 10,
        },
    };

    let files_bucket = pick(
        None,
        "",
        "WENMING_FILES_BUCKET",
        file.files_bucket.as_ref(),
        "files_bucket",
    )
    .map(|s| s.value);
    let photo_max_mb = number(
        "WENMING_PHOTO_MAX_MB",
        file.photo_max_mb,
        "photo_max_mb",
        1..=50,
        10,
    )?;
    let material_max_mb = number(
        "WENMING_MATERIAL_MAX_MB",
        file.material_max_mb,
        "material_max_mb",
        1..=500,
        50,
    )?;
    let photo_far_metres = number(
        "WENMING_PHOTO_FAR_METRES",
        file.photo_far_metres,
        "photo_far_metres",
        10..=5000,
        200,
    )?;
    let escalate_head_after_hours = number(
        "WENMING_ESCALATE_HEAD_AFTER_HOURS",
        file.escalate_head_after_hours,
        "escalate_head_after_hours",
        1..=720,
        24,
    )?;
    let escalate_repeat_hours = number(
        "WENMING_ESCALATE_REPEAT_HOURS",
        file.escalate_repeat_hours,
        "escalate_repeat_hours",
        1..=720,
        24,
    )?;
    let backup_dir = pick(
        None,
        "",
        "WENMING_BACKUP_DIR",
        file.backup_dir.as_ref(),
        "backup_dir",
    )
    .map(|s| PathBuf::from(s.value));
    let backup_every_hours = number(
        "WENMING_BACKUP_EVERY_HOURS",
        file.backup_every_hours,
        "backup_every_hours",
        1..=720,
        24,
    )?;
    let backup_keep = number(
        "WENMING_BACKUP_KEEP",
        file.backup_keep,
        "backup_keep",
        1..=365,
        7,
    )?;
    let http_max_connections = number(
        "WENMING_HTTP_MAX_CONNECTIONS",
        file.http_max_connections,
        "http_max_connections",
        16..=100_000,
        4096,
    )?;
    let webhook_url = pick(
        None,
        "",
        "WENMING_WEBHOOK_URL",
        file.webhook_url.as_ref(),
        "webhook_url",
    );
    let webhook = match webhook_url {
        None => None,
        Some(u) => {
            if !(u.value.starts_with("http://") || u.value.starts_with("https://")) {
                return Err(bad(&u, "expected an http:// or https:// address"));
            }
            let secret = pick(
                None,
                "",
                "WENMING_WEBHOOK_SECRET",
                file.webhook_secret.as_ref(),
                "webhook_secret",
            );
            match secret {
                Some(k) if k.value.len() >= 16 => Some((u.value, k.value)),
                // The key itself is never echoed back.
                Some(k) => {
                    return Err(ConfigError(format!(
                        "{} is not valid: a webhook secret has at least 16 characters",
                        k.from
                    )));
                }
                None => {
                    return Err(ConfigError(format!(
                        "{} is set but WENMING_WEBHOOK_SECRET (or webhook_secret) is not: deliveries are always signed",
                        u.from
                    )));
                }
            }
        }
    };

    Ok(Config {
        files_bucket,
        photo_max_mb,
        material_max_mb,
        photo_far_metres,
        webhook,
        escalate_head_after_hours,
        escalate_repeat_hours,
        backup_dir,
        backup_every_hours,
        backup_keep,
        http_max_connections,
        data_dir,
        database_url,
        listen,
        public_url,
        timezone,
        json_logs,
        max_connections,
    })
}

/// The zone when none is configured: China's one civil time.
pub fn default_timezone() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC)
}

/// The README's configuration table is the configuration: every key of
/// `wenming.toml` and every `WENMING_*` variable read here has its row, and
/// the table names nothing that is not read.
#[cfg(test)]
mod documented_configuration {
    /// The file's keys, as serde knows them: the error for an unknown key
    /// lists every expected one.
    fn file_keys() -> Vec<String> {
        let err = toml::from_str::<super::FileConfig>("no_such_key = 1")
            .expect_err("an unknown key is refused")
            .to_string();
        let list = err
            .split("expected one of")
            .nth(1)
            .expect("serde lists the expected keys");
        list.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    }

    /// The variables the configuration reads (the config file's own name
    /// aside, which the README gives in prose).
    fn variables() -> Vec<String> {
        let mut out = vec![];
        for src in [include_str!("config.rs"), include_str!("main.rs")] {
            let code = src
                .split("#[cfg(test)]")
                .next()
                .expect("the code comes before the tests");
            for part in code.split('"').skip(1).step_by(2) {
                if part.starts_with("WENMING_")
                    && part.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                {
                    out.push(part.to_string());
                }
            }
        }
        out.retain(|v| v != "WENMING_CONFIG");
        out.sort();
        out.dedup();
        out
    }

    /// (file key, variable) of each row of the README's table.
    fn rows() -> Vec<(String, String)> {
        let readme = include_str!("../README.md");
        let table = readme
            .split("## Configuration")
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .expect("the README has a Configuration section");
        let cell = |c: &str| c.trim().trim_matches('`').to_string();
        table
            .lines()
            .filter(|l| l.starts_with('|') && !l.starts_with("|---") && !l.contains("environment"))
            .map(|l| {
                let cells: Vec<&str> = l.split('|').collect();
                (cell(cells[1]), cell(cells[2]))
            })
            .collect()
    }

    #[test]
    fn the_readme_documents_every_key_and_variable_and_no_other() {
        let (keys, vars) = (file_keys(), variables());
        assert!(keys.len() >= 10, "{keys:?}");
        let rows = rows();
        for k in &keys {
            assert!(
                rows.iter().any(|(key, _)| key == k),
                "the README's configuration table has no row for the key `{k}`"
            );
        }
        for v in &vars {
            assert!(
                rows.iter().any(|(_, var)| var == v),
                "the README's configuration table has no row for `{v}`"
            );
        }
        for (key, var) in &rows {
            assert!(
                key.is_empty() || keys.contains(key),
                "the README documents the key `{key}`, which wenming.toml does not take"
            );
            assert!(
                var.is_empty() || vars.contains(var),
                "the README documents `{var}`, which wenming does not read"
            );
        }
    }
}
