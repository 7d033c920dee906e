//! A synthetic deployment for measuring: the demo city (regions, units,
//! accounts, catalogue, framework) and as many cases as asked, spread over
//! a year with realistic shares of states, sources, categories, overdue and
//! rework, each with the events its state implies. Seeded: the same seed
//! gives the same rows. Bulk-loaded in multi-row inserts, many per
//! transaction.
//!
//! Generated cases are measurement data: they have no audit records and no
//! photos, and a database holding real work is refused unless forced.

use sqlx::Row;
use wenming_store::{Ctx, Store, StoreError, demo};

#[derive(Debug, Clone)]
pub struct GenSpec {
    pub cases: u64,
    pub seed: u64,
    /// The end of the generated year; with the seed it fixes every row.
    pub until: jiff::Timestamp,
    /// Write into a database that holds cases not made by the generator.
    pub force: bool,
}

/// Today's start (UTC): the default end of the generated year, so runs on
/// one day with one seed give the same rows.
pub fn today() -> jiff::Timestamp {
    let now = jiff::Timestamp::now();
    jiff::Timestamp::from_second(now.as_second() - now.as_second().rem_euclid(86_400))
        .unwrap_or(now)
}

/// The named sizes of `wenming-bench gen --scale`.
pub fn scale(name: &str) -> Option<u64> {
    match name {
        "district" => Some(50_000),
        "city" => Some(1_000_000),
        "province" => Some(20_000_000),
        _ => None,
    }
}

#[derive(Debug, Clone, Default)]
pub struct GenReport {
    pub cases: u64,
    pub events: u64,
}

/// xorshift64*: small, fast, and the same everywhere for a seed.
struct Rng(u64);

impl Rng {
    fn roll(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.roll() % n.max(1)
    }
    fn unit(&mut self) -> f64 {
        (self.roll() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// An index drawn by integer weights.
    fn pick(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|w| *w as u64).sum();
        let mut r = self.below(total);
        for (i, w) in weights.iter().enumerate() {
            if r < *w as u64 {
                return i;
            }
            r -= *w as u64;
        }
        weights.len() - 1
    }
}

struct Cell {
    id: String,
    min: (f64, f64),
    max: (f64, f64),
}

const HOUR: i64 = 3_600_000_000;
const DAY: i64 = 24 * HOUR;

/// Case rows per INSERT statement and per transaction. Small statements:
/// sqlx looks each parameter up by name in SQLite, which grows with the
/// square of their number (thousands of them spent 80% of the time there).
const ROWS_PER_STATEMENT: usize = 40;
const ROWS_PER_TRANSACTION: usize = 4_000;

/// Refuses a database with real work in it (unless forced), makes sure the
/// demo city is there, and adds `spec.cases` cases. `progress` hears the
/// number written so far.
pub async fn generate(
    store: &Store,
    spec: &GenSpec,
    mut progress: impl FnMut(u64),
) -> Result<GenReport, StoreError> {
    let generated: Option<String> =
        sqlx::query_scalar("SELECT value FROM app_setting WHERE key = 'generated'")
            .fetch_optional(store.reader())
            .await?;
    let cases: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM case_record")
        .fetch_one(store.reader())
        .await?;
    if cases > 0 && generated.is_none() && !spec.force {
        return Err(StoreError::Corrupt(format!(
            "this database holds {cases} real cases; generate into an empty database, or pass --force to add to it"
        )));
    }
    demo::bootstrap(store, None).await?;
    demo::load(store).await.map_err(|e| {
        StoreError::Corrupt(format!(
            "the generator builds on the demo city and could not load it ({e}); use an empty database"
        ))
    })?;
    if wenming_store::case::categories(store).await?.is_empty() {
        demo::load_catalogue(store).await?;
    }
    let world = World::read(store).await?;
    let mut rng = Rng(spec.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let now = spec.until.as_microsecond();
    let year = wenming_store::ts(now)
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .year() as i64;
    let first_number: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(last), 0) FROM case_number WHERE year = $1")
            .bind(year)
            .fetch_one(store.reader())
            .await?;
    // A bulk load: a big page cache for the writer, and durability once at
    // the end rather than at every commit (this process only).
    if store.backend() == wenming_store::Backend::Sqlite {
        crate::baseline::execute(store, "PRAGMA cache_size = -262144").await?;
        crate::baseline::execute(store, "PRAGMA synchronous = NORMAL").await?;
    }
    let season = Season::new(now);
    let mut report = GenReport::default();
    let mut done = 0u64;
    while done < spec.cases {
        let n = (spec.cases - done).min(ROWS_PER_TRANSACTION as u64) as usize;
        let batch: Vec<GenCase> = (0..n)
            .map(|i| {
                let k = done + i as u64;
                let at = season.instant(now, (k as f64 + 0.5) / spec.cases as f64);
                world.case(&mut rng, now, at, year, first_number + k as i64 + 1)
            })
            .collect();
        let mut tx = store.begin().await?;
        for chunk in batch.chunks(ROWS_PER_STATEMENT) {
            insert_cases(&mut tx, chunk, &world).await?;
            report.events += insert_events(&mut tx, chunk, &world).await?;
        }
        tx.commit().await?;
        done += n as u64;
        report.cases = done;
        progress(done);
    }
    let mut tx = store.begin().await?;
    sqlx::query(
        "INSERT INTO case_number (year, last) VALUES ($1, 0) ON CONFLICT (year) DO NOTHING",
    )
    .bind(year)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE case_number SET last = $1 WHERE year = $2")
        .bind(first_number + spec.cases as i64)
        .bind(year)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM app_setting WHERE key = 'generated'")
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO app_setting (key, value) VALUES ('generated', $1)")
        .bind(format!("seed {}", spec.seed))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    if store.backend() == wenming_store::Backend::Sqlite {
        crate::baseline::execute(store, "PRAGMA synchronous = FULL").await?;
        crate::baseline::execute(store, "PRAGMA cache_size = -2000").await?;
    }
    // A running city has already warned about its old overdue cases (the
    // unit's liaison, then its head); their next reminders fall due over
    // the day after the generated year, as they would in steady state,
    // instead of all at the first minute of a server started on it.
    sqlx::query(
        "UPDATE case_record SET escalation_level = 2, escalated_at = deadline + 3600000000, \
         next_escalation_at = $1 + (reported_at % 86400000000) \
         WHERE state IN ('dispatched', 'rework') AND deadline < $2 AND escalation_level = 0",
    )
    .bind(now + 86_400_000_000)
    .bind(now)
    .execute(store.writer())
    .await?;
    wenming_store::case::tally::rebuild(store).await?;
    // Fresh statistics, so the planner knows the tables grew; on PostgreSQL
    // also the visibility map, as after any bulk load, so that index-only
    // scans need not visit the rows (autovacuum would do it later, in the
    // middle of whatever runs next).
    let analyze = match store.backend() {
        wenming_store::Backend::Sqlite => "ANALYZE",
        wenming_store::Backend::Postgres => "VACUUM (ANALYZE)",
    };
    crate::baseline::execute(store, analyze).await?;
    Ok(report)
}

/// Gives the first `n` generated cases that were handled a picture of the
/// problem, taken where and when it was reported, and one of the fix, taken
/// when it was handled: distinct generated pictures with capture time and
/// GPS, stored in `files` and attached to the report and handling events as
/// the case page and the photo API show them. Returns how many photos.
pub async fn photos(
    store: &Store,
    files: &wenming_store::files::Files,
    n: u64,
) -> Result<u64, StoreError> {
    let rows = sqlx::query(
        "SELECT c.id, c.lon, c.lat, c.reported_at, c.handled_at, c.reported_by, c.handled_by, \
         (SELECT e.id FROM case_event e WHERE e.case_id = c.id AND e.step = 'report') AS report_event, \
         (SELECT MAX(e.id) FROM case_event e WHERE e.case_id = c.id AND e.step = 'handle') AS handle_event \
         FROM case_record c WHERE c.handled_at IS NOT NULL AND c.lon IS NOT NULL \
         AND NOT EXISTS (SELECT 1 FROM photo p WHERE p.case_id = c.id) ORDER BY c.number",
    )
    .fetch_all(store.reader())
    .await?;
    let mut made = 0;
    for r in rows.iter().take(n as usize) {
        let id: String = r.try_get("id")?;
        let point = wenming_domain::geo::Point {
            lon: r.try_get("lon")?,
            lat: r.try_get("lat")?,
        };
        let (Some(report_event), Some(handle_event)) = (
            r.try_get::<Option<String>, _>("report_event")?,
            r.try_get::<Option<String>, _>("handle_event")?,
        ) else {
            continue;
        };
        let reporter: Option<String> = r.try_get("reported_by")?;
        let handlers: String = r.try_get("handled_by")?;
        let handler = serde_json::from_str::<Vec<uuid::Uuid>>(&handlers)
            .ok()
            .and_then(|v| v.first().copied());
        let shots = [
            (
                r.try_get::<i64, _>("reported_at")?,
                reporter.as_deref().and_then(|u| u.parse().ok()),
                report_event,
                wenming_domain::photo::PhotoRole::Before,
            ),
            (
                r.try_get::<Option<i64>, _>("handled_at")?
                    .unwrap_or_default(),
                handler,
                handle_event,
                wenming_domain::photo::PhotoRole::After,
            ),
        ];
        for (at, by, event, role) in shots {
            let seed = made * 7_919 + 17;
            let bytes = wenming_store::photo::synthetic_jpeg(
                seed,
                Some(wenming_store::ts(at)),
                Some(point),
            );
            let ctx = Ctx {
                actor_id: by,
                actor_name: "system:gen".into(),
                request_id: None,
            };
            let p = wenming_store::photo::stage(
                store,
                files,
                &ctx,
                "photos",
                bytes.into(),
                &wenming_store::photo::PhotoRules::default(),
                store.timezone(),
            )
            .await?;
            wenming_store::photo::link(store, p.id, &id, &event, role).await?;
            made += 1;
        }
    }
    Ok(made)
}

/// The year behind `now`, with more reports in summer (street vending,
/// litter and night markets) than in winter: the k-th of n cases falls where
/// the season's running total reaches k/n, so cases come out in time order.
struct Season {
    /// Running share of the year's reports at the end of each day, oldest first.
    cumulative: Vec<f64>,
}

impl Season {
    fn new(now: i64) -> Season {
        let start = now - 365 * DAY;
        let weights: Vec<f64> = (0..365)
            .map(|d| {
                let month = wenming_store::ts(start + d * DAY)
                    .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                    .month();
                0.75 + 0.25 * (((month as f64) - 1.0) / 12.0 * std::f64::consts::TAU - 2.2).sin()
            })
            .collect();
        let total: f64 = weights.iter().sum();
        let mut run = 0.0;
        let cumulative = weights
            .iter()
            .map(|w| {
                run += w / total;
                run
            })
            .collect();
        Season { cumulative }
    }

    /// The instant at which a share `q` (0–1) of the year's reports is in.
    fn instant(&self, now: i64, q: f64) -> i64 {
        let day = self.cumulative.partition_point(|c| *c < q).min(364);
        let before = if day == 0 {
            0.0
        } else {
            self.cumulative[day - 1]
        };
        let within = ((q - before) / (self.cumulative[day] - before).max(1e-12)).clamp(0.0, 1.0);
        now - 365 * DAY + day as i64 * DAY + (within * DAY as f64) as i64
    }
}

struct World {
    cells: Vec<Cell>,
    /// (subclass id, its class's index) and the hours to handle it.
    categories: Vec<(String, usize, i64)>,
    units: Vec<String>,
    office: String,
    staff: String,
    inspector: String,
}

impl World {
    async fn read(store: &Store) -> Result<World, StoreError> {
        let mut cells = vec![];
        for r in sqlx::query("SELECT id, boundary FROM region WHERE level = 'grid' AND boundary IS NOT NULL ORDER BY code")
            .fetch_all(store.reader())
            .await?
        {
            let b: String = r.try_get("boundary")?;
            let v: serde_json::Value = serde_json::from_str(&b).unwrap_or_default();
            let pts: Vec<(f64, f64)> = v["coordinates"][0]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| Some((p[0].as_f64()?, p[1].as_f64()?)))
                .collect();
            if pts.is_empty() {
                continue;
            }
            let fold = |f: fn(f64, f64) -> f64, i: usize, start: f64| {
                pts.iter().map(|p| if i == 0 { p.0 } else { p.1 }).fold(start, f)
            };
            cells.push(Cell {
                id: r.try_get("id")?,
                min: (fold(f64::min, 0, f64::MAX), fold(f64::min, 1, f64::MAX)),
                max: (fold(f64::max, 0, f64::MIN), fold(f64::max, 1, f64::MIN)),
            });
        }
        let cats = wenming_store::case::categories(store).await?;
        let classes: Vec<uuid::Uuid> = cats
            .iter()
            .filter(|c| c.parent_id.is_none())
            .map(|c| c.id)
            .collect();
        let categories = cats
            .iter()
            .filter(|c| c.parent_id.is_some() && c.active)
            .map(|c| {
                let class = classes
                    .iter()
                    .position(|k| Some(*k) == c.parent_id)
                    .unwrap_or(0);
                let hours = c
                    .handling_time
                    .map(|h| match h.parts() {
                        (n, "hours") => n,
                        (n, _) => n * 24,
                    })
                    .unwrap_or(72);
                (c.id.to_string(), class, hours)
            })
            .collect();
        let units: Vec<String> =
            sqlx::query_scalar("SELECT id FROM unit WHERE active = 1 ORDER BY name_key")
                .fetch_all(store.reader())
                .await?;
        let user = |name: &'static str| async move {
            let id: Option<String> =
                sqlx::query_scalar("SELECT id FROM app_user WHERE username = $1")
                    .bind(name)
                    .fetch_optional(store.reader())
                    .await?;
            Ok::<String, StoreError>(id.unwrap_or_default())
        };
        let w = World {
            cells,
            categories,
            office: user("office").await?,
            staff: user("unit").await?,
            inspector: user("inspector").await?,
            units,
        };
        if w.cells.is_empty() || w.categories.is_empty() || w.units.is_empty() {
            return Err(StoreError::Corrupt(
                "the demo city has no grid cells, categories or units to generate with".into(),
            ));
        }
        Ok(w)
    }

    fn case(&self, rng: &mut Rng, now: i64, reported_at: i64, year: i64, seq: i64) -> GenCase {
        let cell = &self.cells[rng.below(self.cells.len() as u64) as usize];
        let lon = cell.min.0 + rng.unit() * (cell.max.0 - cell.min.0);
        let lat = cell.min.1 + rng.unit() * (cell.max.1 - cell.min.1);
        let (category, class, hours) =
            &self.categories[rng.below(self.categories.len() as u64) as usize];
        // Each class has a usual unit; a fifth go elsewhere.
        let unit = if rng.below(5) == 0 {
            &self.units[rng.below(self.units.len() as u64) as usize]
        } else {
            &self.units[(class * 7 + 1) % self.units.len()]
        };
        const SOURCES: [(&str, u32); 5] = [
            ("inspection", 40),
            ("public_report", 25),
            ("hotline", 20),
            ("third_party", 10),
            ("leader", 5),
        ];
        let source = SOURCES[rng.pick(&SOURCES.map(|s| s.1))].0;
        let age = now - reported_at;
        // Older cases have had time to close; recent ones are still open.
        let states: [(&str, u32); 10] = if age > 30 * DAY {
            [
                ("closed", 86),
                ("rejected", 4),
                ("voided", 1),
                ("rejected", 2),
                ("parked", 2),
                ("dispatched", 2),
                ("rework", 1),
                ("handled", 1),
                ("dispatched", 1),
                ("registered", 0),
            ]
        } else {
            [
                ("closed", 45),
                ("rejected", 3),
                ("voided", 1),
                ("rejected", 2),
                ("parked", 1),
                ("dispatched", 20),
                ("rework", 4),
                ("handled", 12),
                ("dispatched", 2),
                ("registered", 5),
            ]
        };
        let mut state = states[rng.pick(&states.map(|s| s.1))].0;
        if age < 2 * HOUR && rng.below(2) == 0 {
            state = "reported";
        }
        let registered_at =
            (state != "reported").then(|| reported_at + (rng.below(4 * HOUR as u64) as i64));
        let with_unit = !matches!(
            state,
            "reported" | "registered" | "rejected" | "voided" | "duplicate"
        );
        let dispatched_at = if with_unit {
            registered_at.map(|r| r + rng.below(2 * HOUR as u64) as i64)
        } else {
            None
        };
        let extended = with_unit && rng.below(100) < 5;
        let deadline = dispatched_at.map(|d| d + hours * HOUR + if extended { 3 * DAY } else { 0 });
        let reworks = i64::from(
            state == "rework" || (matches!(state, "closed" | "handled") && rng.below(100) < 8),
        );
        // Most fixes come in on time; the rest up to four days late.
        let handled_at = match (state, dispatched_at, deadline) {
            ("closed" | "handled", Some(d), Some(dl)) => {
                let late = rng.below(100) < 12;
                let t = if late {
                    dl + rng.below(4 * DAY as u64) as i64
                } else {
                    d + ((dl - d) as f64 * rng.unit()) as i64
                };
                Some(t.min(now))
            }
            _ => None,
        };
        let closed_at = match (state, handled_at) {
            ("closed", Some(h)) => Some((h + rng.below(DAY as u64) as i64).min(now)),
            ("rejected" | "voided", _) => registered_at.or(Some(reported_at)),
            _ => None,
        };
        // Time-ordered like UUIDv7 (milliseconds first): cases are made in
        // the order they were reported, so every index is appended to.
        let id = uuid::Uuid::from_u128(
            ((reported_at / 1000) as u128) << 80
                | (rng.roll() as u128) << 16
                | (seq as u128 & 0xFFFF),
        );
        GenCase {
            id,
            number: format!("{year}-{seq:06}"),
            source,
            category: category.clone(),
            lon,
            lat,
            region: cell.id.clone(),
            state,
            unit: with_unit.then(|| unit.clone()),
            suggested: unit.clone(),
            deadline,
            reworks,
            extensions: extended as i64,
            evaluated: (state == "closed" && rng.below(3) == 0) as i64,
            reported_at,
            registered_at,
            dispatched_at,
            handled_at,
            closed_at,
            reporter: if source == "inspection" {
                &self.inspector
            } else {
                &self.office
            }
            .clone(),
        }
    }
}

struct GenCase {
    id: uuid::Uuid,
    number: String,
    source: &'static str,
    category: String,
    lon: f64,
    lat: f64,
    region: String,
    state: &'static str,
    unit: Option<String>,
    suggested: String,
    deadline: Option<i64>,
    reworks: i64,
    extensions: i64,
    evaluated: i64,
    reported_at: i64,
    registered_at: Option<i64>,
    dispatched_at: Option<i64>,
    handled_at: Option<i64>,
    closed_at: Option<i64>,
    reporter: String,
}

const DESCRIPTIONS: [&str; 6] = [
    "路面有垃圾未及时清扫",
    "占道经营影响通行",
    "乱张贴小广告",
    "公益广告破损褪色",
    "非机动车乱停放",
    "门前三包责任未落实",
];

async fn insert_cases(
    tx: &mut sqlx::AnyConnection,
    rows: &[GenCase],
    world: &World,
) -> Result<(), StoreError> {
    const COLS: usize = 24;
    let mut sql = String::from(
        "INSERT INTO case_record (id, number, source, category_id, description, lon, lat, address, region_id, \
         reporter_name, reporter_phone, reported_by, state, unit_id, suggested_unit_id, deadline, pending_ask, \
         before_ask, dispatched_by, handled_by, reworks, extensions, evaluated, duplicate_of, reported_at, \
         registered_at, dispatched_at, handled_at, closed_at, version, updated_at) VALUES ",
    );
    for i in 0..rows.len() {
        let p: Vec<String> = (1..=COLS).map(|k| format!("${}", i * COLS + k)).collect();
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(&format!(
            "({}, {}, {}, {}, {}, {}, {}, NULL, {}, NULL, NULL, {}, {}, {}, {}, {}, NULL, NULL, {}, {}, {}, {}, {}, NULL, {}, {}, {}, {}, {}, {}, {})",
            p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14],
            p[15], p[16], p[17], p[18], p[19], p[20], p[21], p[22], p[23], p[18]
        ));
    }
    let mut q = sqlx::query(&sql);
    for (i, c) in rows.iter().enumerate() {
        // The version counts the steps the case went through.
        let steps = 1
            + c.registered_at.is_some() as i64
            + c.dispatched_at.is_some() as i64
            + c.handled_at.is_some() as i64
            + c.closed_at.is_some() as i64;
        let by = |who: &str, when: bool| {
            if when {
                format!("[\"{who}\"]")
            } else {
                "[]".to_string()
            }
        };
        q = q
            .bind(c.id.to_string())
            .bind(c.number.clone())
            .bind(c.source)
            .bind(c.category.clone())
            .bind(DESCRIPTIONS[i % DESCRIPTIONS.len()])
            .bind(c.lon)
            .bind(c.lat)
            .bind(c.region.clone())
            .bind(c.reporter.clone())
            .bind(c.state)
            .bind(c.unit.clone())
            .bind(c.suggested.clone())
            .bind(c.deadline)
            .bind(by(&world.office, c.dispatched_at.is_some()))
            .bind(by(&world.staff, c.handled_at.is_some()))
            .bind(c.reworks)
            .bind(c.extensions)
            .bind(c.evaluated)
            .bind(c.reported_at)
            .bind(c.registered_at)
            .bind(c.dispatched_at)
            .bind(c.handled_at)
            .bind(c.closed_at)
            .bind(steps);
    }
    q.execute(&mut *tx).await?;
    Ok(())
}

struct GenEvent<'a> {
    id: uuid::Uuid,
    case_id: uuid::Uuid,
    step: &'static str,
    from: Option<&'static str>,
    to: &'static str,
    actor: &'a str,
    at: i64,
}

async fn insert_events(
    tx: &mut sqlx::AnyConnection,
    rows: &[GenCase],
    world: &World,
) -> Result<u64, StoreError> {
    let mut events: Vec<GenEvent> = vec![];
    for c in rows {
        let mut last: Option<&'static str> = None;
        let mut k = 0u128;
        let mut push = |step: &'static str, to: &'static str, actor: &str, at: Option<i64>| {
            let Some(at) = at else { return };
            k += 1;
            events.push(GenEvent {
                // Derived from the case's id, so a seed gives the same rows.
                id: uuid::Uuid::from_u128(c.id.as_u128().wrapping_add(k)),
                case_id: c.id,
                step,
                from: last,
                to,
                actor: match actor {
                    "unit" => &world.staff,
                    "inspector" => &world.inspector,
                    _ => &world.office,
                },
                at,
            });
            last = Some(to);
        };
        push("report", "reported", "office", Some(c.reported_at));
        match c.state {
            "rejected" => push("reject", "rejected", "office", c.closed_at),
            "voided" => push("void", "voided", "office", c.closed_at),
            _ => {
                push("register", "registered", "office", c.registered_at);
                push("dispatch", "dispatched", "office", c.dispatched_at);
                push("handle", "handled", "unit", c.handled_at);
                push("verify", "closed", "inspector", c.closed_at);
            }
        }
    }
    for chunk in events.chunks(ROWS_PER_STATEMENT * 2) {
        let mut sql = String::from(
            "INSERT INTO case_event (id, case_id, step, from_state, to_state, actor_id, actor_name, note, data, at) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * 7;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, 'generated', NULL, NULL, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7
            ));
        }
        let mut q = sqlx::query(&sql);
        for e in chunk {
            q = q
                .bind(e.id.to_string())
                .bind(e.case_id.to_string())
                .bind(e.step)
                .bind(e.from)
                .bind(e.to)
                .bind(e.actor.to_string())
                .bind(e.at);
        }
        q.execute(&mut *tx).await?;
    }
    Ok(events.len() as u64)
}
