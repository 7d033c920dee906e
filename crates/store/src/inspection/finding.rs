//! Findings: recorded on a phone or by the office, checked, written with
//! their photos; a failure opens a case for the site's sponsor unit.

use super::checklist::*;
use super::get;
use super::sites::*;
use crate::case::{self, Category, ReportWrite};
use crate::org::parse_uuid;
use crate::site::Site;
use crate::sql::{flag, marks};
use crate::{Ctx, Store, StoreError, audit, now_micros, ts};
use serde::Serialize;
use sqlx::{AnyConnection, Row, any::AnyRow};
use std::collections::HashMap;
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::case::{IntakeInput, Source};
use wenming_domain::inspection::{FindingDraft, Judged, RoundKind, check};
use wenming_domain::policy::{Permit, Resource, may};
use wenming_domain::site::{Outcome, Recorded};

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub id: Uuid,
    pub round_id: Uuid,
    pub site_id: Uuid,
    pub standard_id: Uuid,
    pub standard_code: String,
    pub standard_title: String,
    pub outcome: Outcome,
    pub recorded: Recorded,
    pub note: Option<String>,
    pub inspector_name: Option<String>,
    pub observed_at: jiff::Timestamp,
    pub distance_m: Option<f64>,
    pub away: bool,
    /// Recorded by someone whose own unit sponsors the site.
    pub own_unit: bool,
    pub case_id: Option<Uuid>,
    pub case_number: Option<String>,
    pub photo_ids: Vec<Uuid>,
}

impl Finding {
    pub fn outcome_code(&self) -> &'static str {
        self.outcome.code()
    }
}

const FINDING_SELECT: &str = "SELECT f.*, n.code AS standard_code, n.title AS standard_title, \
    u.display_name AS inspector_name, c.number AS case_number FROM finding f \
    JOIN framework_node n ON n.id = f.standard_id LEFT JOIN app_user u ON u.id = f.inspector_id \
    LEFT JOIN case_record c ON c.id = f.case_id";

fn finding_from_row(r: &AnyRow) -> Result<Finding, StoreError> {
    let id: String = r.try_get("id")?;
    let o: String = r.try_get("outcome")?;
    let rec: String = r.try_get("recorded")?;
    Ok(Finding {
        id: parse_uuid(&id)?,
        round_id: parse_uuid(&r.try_get::<String, _>("round_id")?)?,
        site_id: parse_uuid(&r.try_get::<String, _>("site_id")?)?,
        standard_id: parse_uuid(&r.try_get::<String, _>("standard_id")?)?,
        standard_code: r.try_get("standard_code")?,
        standard_title: r.try_get("standard_title")?,
        outcome: Outcome::parse(&o).ok_or_else(|| StoreError::Corrupt(format!("outcome {o}")))?,
        recorded: serde_json::from_str(&rec)
            .map_err(|_| StoreError::Corrupt(format!("finding {id} recorded {rec}")))?,
        note: r.try_get("note")?,
        inspector_name: r.try_get("inspector_name")?,
        observed_at: ts(r.try_get("observed_at")?),
        distance_m: r.try_get("distance_m")?,
        away: r.try_get::<i64, _>("away")? != 0,
        own_unit: r.try_get::<i64, _>("own_unit")? != 0,
        case_id: r
            .try_get::<Option<String>, _>("case_id")?
            .as_deref()
            .map(parse_uuid)
            .transpose()?,
        case_number: r.try_get("case_number")?,
        photo_ids: vec![],
    })
}

async fn with_photos(store: &Store, mut fs: Vec<Finding>) -> Result<Vec<Finding>, StoreError> {
    if fs.is_empty() {
        return Ok(fs);
    }
    let ids: Vec<String> = fs.iter().map(|f| f.id.to_string()).collect();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT id, finding_id FROM photo WHERE finding_id IN ({}) ORDER BY uploaded_at",
            marks(chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id.clone());
        }
        for r in q.fetch_all(store.reader()).await? {
            let fid = parse_uuid(&r.try_get::<String, _>("finding_id")?)?;
            let pid = parse_uuid(&r.try_get::<String, _>("id")?)?;
            if let Some(f) = fs.iter_mut().find(|f| f.id == fid) {
                f.photo_ids.push(pid);
            }
        }
    }
    Ok(fs)
}

/// The findings recorded at one site in one round, by standard.
pub async fn findings(
    store: &Store,
    round_id: Uuid,
    site_id: Uuid,
) -> Result<Vec<Finding>, StoreError> {
    let rows = sqlx::query(&format!(
        "{FINDING_SELECT} WHERE f.round_id = $1 AND f.site_id = $2"
    ))
    .bind(round_id.to_string())
    .bind(site_id.to_string())
    .fetch_all(store.reader())
    .await?;
    let mut fs: Vec<Finding> = rows
        .iter()
        .map(finding_from_row)
        .collect::<Result<_, _>>()?;
    fs.sort_by_key(|a| code_order(&a.standard_code));
    with_photos(store, fs).await
}

/// What a submission did: the findings as stored (new and already there)
/// and how many were new.
#[derive(Debug, Clone, Serialize)]
pub struct Submitted {
    pub findings: Vec<Finding>,
    pub created: usize,
    pub cases_opened: usize,
}

/// Who is submitting: the inspector sent to the site, or the office (which
/// may record for any site of a round, as for a third-party result).
/// Who records findings: an inspector at the sites they were sent to, or
/// the office (for a round, or importing a third party's results) at any
/// site of a round its grant reaches.
pub enum Submitter<'a> {
    Inspector {
        ctx: &'a Ctx,
        permit: &'a Permit<may::Inspect>,
    },
    Office {
        ctx: &'a Ctx,
        permit: &'a Permit<may::ManageRounds>,
    },
}

impl Submitter<'_> {
    pub fn ctx(&self) -> &Ctx {
        match self {
            Submitter::Inspector { ctx, .. } | Submitter::Office { ctx, .. } => ctx,
        }
    }

    /// The account recorded as having made the findings.
    pub fn user_id(&self) -> Option<Uuid> {
        match self {
            Submitter::Inspector { permit, .. } => permit.user_id(),
            Submitter::Office { permit, .. } => permit.user_id(),
        }
    }

    fn may_record_at(&self, rs: &RoundSite) -> bool {
        match self {
            Submitter::Inspector { permit, .. } => {
                rs.inspector_id.is_some() && rs.inspector_id == permit.user_id()
            }
            Submitter::Office { permit, .. } => permit.covers(Resource::Region {
                path: &rs.region_path,
            }),
        }
    }
}

/// The category a failed standard's case is filed under: the active
/// subcategory that names the standard. None names it: the case is
/// registered unclassified and the office chooses (a guess would give a
/// hospital window's problem a street-litter deadline).
fn category_for<'a>(cats: &'a [Category], standard_code: &str) -> Option<&'a Category> {
    cats.iter()
        .filter(|c| c.active && c.parent_id.is_some())
        .find(|c| c.standard_codes.iter().any(|s| s == standard_code))
}

/// Records findings at a site of a round in one transaction. A finding
/// whose id is already stored is left as it is (a device sending again);
/// each new failure opens a case for the site's sponsor unit, linked to it.
pub async fn submit(
    store: &Store,
    who: &Submitter<'_>,
    round_id: Uuid,
    site_id: Uuid,
    drafts: &[FindingDraft],
    photo_rules: &crate::photo::PhotoRules,
    tz: &jiff::tz::TimeZone,
) -> Result<Submitted, StoreError> {
    // Two devices sending the same findings at once: the loser of the race
    // finds the winner's rows on its second try and changes nothing.
    match submit_once(store, who, round_id, site_id, drafts, photo_rules, tz).await {
        Err(e) if e.is_unique_violation() || matches!(e, StoreError::Conflict) => {
            submit_once(store, who, round_id, site_id, drafts, photo_rules, tz).await
        }
        other => other,
    }
}

async fn submit_once(
    store: &Store,
    who: &Submitter<'_>,
    round_id: Uuid,
    site_id: Uuid,
    drafts: &[FindingDraft],
    photo_rules: &crate::photo::PhotoRules,
    tz: &jiff::tz::TimeZone,
) -> Result<Submitted, StoreError> {
    if drafts.is_empty() {
        return Err(StoreError::invalid("findings", "required"));
    }
    if drafts.len() > 200 {
        return Err(StoreError::invalid("findings", "too_many"));
    }
    let round = get(store, round_id).await?;
    let rs = round_site(store, round_id, site_id).await?;
    if !who.may_record_at(&rs) {
        return Err(StoreError::NotFound);
    }
    let city = crate::org::whole_city(store).await?;
    let site = crate::site::get(store, &city, site_id).await?;
    let standards = standards_of(store, round.framework_id).await?;
    let list = checklist_for(&standards, &site.type_code, &site.type_name);
    let now = now_micros();

    // Sent before: the same ids at the same site are left as they are.
    let ids: Vec<String> = drafts.iter().map(|d| d.id.to_string()).collect();
    let sql = format!(
        "SELECT id, round_id, site_id, standard_id FROM finding WHERE id IN ({})",
        marks(ids.len())
    );
    let mut q = sqlx::query(&sql);
    for id in &ids {
        q = q.bind(id.clone());
    }
    let stored: HashMap<String, (String, String, String)> = q
        .fetch_all(store.reader())
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get::<String, _>("id")?,
                (
                    r.try_get("round_id")?,
                    r.try_get("site_id")?,
                    r.try_get("standard_id")?,
                ),
            ))
        })
        .collect::<Result<_, StoreError>>()?;
    let taken: Vec<String> =
        sqlx::query_scalar("SELECT standard_id FROM finding WHERE round_id = $1 AND site_id = $2")
            .bind(round_id.to_string())
            .bind(site_id.to_string())
            .fetch_all(store.reader())
            .await?;

    let mut e = FieldErrors::new();
    let mut fresh = vec![];
    let mut seen_standards = vec![];
    for (i, d) in drafts.iter().enumerate() {
        if let Some((r, s, st)) = stored.get(&d.id.to_string()) {
            if *r != round_id.to_string()
                || *s != site_id.to_string()
                || *st != d.standard_id.to_string()
            {
                e.add(format!("findings[{i}].id"), "duplicate");
            }
            continue;
        }
        if round.status != "open" {
            e.add("round_id", "round_closed");
            break;
        }
        let Some(item) = list.iter().find(|c| c.standard_id == d.standard_id) else {
            e.add(format!("findings[{i}].standard_id"), "not_on_checklist");
            continue;
        };
        if taken.contains(&d.standard_id.to_string()) || seen_standards.contains(&d.standard_id) {
            e.add(format!("findings[{i}].standard_id"), "already_recorded");
            continue;
        }
        seen_standards.push(d.standard_id);
        if let Some(j) = check(&mut e, i, d, item.observation, site.point, ts(now)) {
            fresh.push((d, item, j));
        }
    }
    if !e.is_empty() {
        return Err(StoreError::Invalid(e));
    }

    let mut created = 0;
    let mut cases_opened = 0;
    if !fresh.is_empty() {
        let world = Intake::now(store).await?;
        let mut tx = store.begin().await?;
        (created, cases_opened) = write_findings(
            &mut tx,
            &Writing {
                who,
                round_id,
                kind: round.kind,
                site: &site,
                world: &world,
                photo_rules,
                tz,
                now,
            },
            &fresh,
        )
        .await?;
        tx.commit().await?;
    }
    let all = findings(store, round_id, site_id).await?;
    let wanted: Vec<Uuid> = drafts.iter().map(|d| d.id).collect();
    Ok(Submitted {
        findings: all.into_iter().filter(|f| wanted.contains(&f.id)).collect(),
        created,
        cases_opened,
    })
}

/// What every finding write of a submission (or an import) shares.
pub(crate) struct Writing<'a> {
    pub(crate) who: &'a Submitter<'a>,
    pub(crate) round_id: Uuid,
    pub(crate) kind: RoundKind,
    pub(crate) site: &'a Site,
    pub(crate) world: &'a Intake,
    pub(crate) photo_rules: &'a crate::photo::PhotoRules,
    pub(crate) tz: &'a jiff::tz::TimeZone,
    pub(crate) now: i64,
}

/// Case categories, boundaries and routing rules, read once for a batch of
/// findings whose failures become cases.
pub(crate) struct Intake {
    cats: Vec<Category>,
    world: case::IntakeWorld,
}

impl Intake {
    pub(crate) async fn now(store: &Store) -> Result<Intake, StoreError> {
        Ok(Intake {
            cats: case::categories(store).await?,
            world: case::intake_world_now(store).await?,
        })
    }
}

/// Writes checked findings at one site inside the caller's transaction:
/// the findings, their photos, a case for each failure (for the site's
/// sponsor unit), the site marked inspected, an audit record. Returns how
/// many findings and cases were written.
pub(crate) async fn write_findings(
    tx: &mut AnyConnection,
    w: &Writing<'_>,
    fresh: &[(&FindingDraft, &CheckItem, Judged)],
) -> Result<(usize, usize), StoreError> {
    let (who, round_id, site, now) = (w.who, w.round_id, w.site, w.now);
    let site_id = site.id;
    let source = if w.kind == RoundKind::ThirdParty {
        Source::ThirdParty
    } else {
        Source::Inspection
    };
    let mut created = 0;
    let mut cases_opened = 0;
    let own_unit = match site.sponsor_unit_id {
        Some(unit) => {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM app_user u WHERE u.id = $1 AND (u.unit_id = $2 OR EXISTS \
                 (SELECT 1 FROM role_grant g WHERE g.user_id = u.id AND g.scope_kind = 'unit' AND g.scope_id = $2))",
            )
            .bind(who.user_id().map(|u| u.to_string()))
            .bind(unit.to_string())
            .fetch_one(&mut *tx)
            .await?
                > 0
        }
        None => false,
    };
    for (i, (d, item, j)) in fresh.iter().enumerate() {
        sqlx::query(
            "INSERT INTO finding (id, round_id, site_id, standard_id, outcome, recorded, note, inspector_id, observed_at, \
             lon, lat, distance_m, away, own_unit, case_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, NULL, $15)",
        )
        .bind(d.id.to_string())
        .bind(round_id.to_string())
        .bind(site_id.to_string())
        .bind(d.standard_id.to_string())
        .bind(j.outcome.code())
        .bind(serde_json::to_string(&d.recorded).unwrap_or_default())
        .bind(d.note.as_deref().map(str::trim).filter(|n| !n.is_empty()))
        .bind(who.user_id().map(|u| u.to_string()))
        .bind(d.observed_at.as_microsecond())
        .bind(j.point.map(|p| p.lon))
        .bind(j.point.map(|p| p.lat))
        .bind(j.distance_m)
        .bind(flag(j.away))
        .bind(flag(own_unit))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        for p in &d.photo_ids {
            let n = sqlx::query(
                "UPDATE photo SET finding_id = $1 WHERE id = $2 AND uploaded_by = $3 \
                 AND finding_id IS NULL AND case_id IS NULL",
            )
            .bind(d.id.to_string())
            .bind(p.to_string())
            .bind(who.user_id().map(|u| u.to_string()))
            .execute(&mut *tx)
            .await?;
            if n.rows_affected() != 1 {
                return Err(StoreError::invalid(
                    &format!("findings[{i}].photo_ids"),
                    "invalid_choice",
                ));
            }
        }
        created += 1;
        if j.outcome != Outcome::Fail {
            continue;
        }
        let unclassified;
        let cat = match category_for(&w.world.cats, &item.code) {
            Some(c) => c,
            None => {
                unclassified = case::unclassified(&mut *tx).await?;
                &unclassified
            }
        };
        let description = match d.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => format!("【{}】{} {}：{}", site.name, item.code, item.title, n),
            None => format!("【{}】{} {}", site.name, item.code, item.title),
        };
        let input = IntakeInput {
            client_id: None,
            source,
            category_id: cat.id,
            description: description.chars().take(500).collect(),
            point: Some(site.point),
            address: Some(site.address.clone().unwrap_or_else(|| site.name.clone())),
            reporter_name: None,
            reporter_phone: None,
            photo_ids: d.photo_ids.clone(),
        };
        let planned = case::intake_plan(&w.world.world, &input, cat)?.sent_to(site.sponsor_unit_id);
        let year = case::number_year(now, w.tz);
        let n = case::take_numbers(&mut *tx, year, 1).await?;
        let write = ReportWrite {
            planned: &planned,
            number: case::case_number(year, n),
            ctx: who.ctx(),
            input: &input,
            cat,
            photo_rules: w.photo_rules,
        };
        let case_ids =
            case::intake_write(&mut *tx, &[write], now, &mut audit::Chain::Direct).await?;
        sqlx::query("UPDATE finding SET case_id = $1 WHERE id = $2")
            .bind(case_ids.first().map(|c| c.to_string()))
            .bind(d.id.to_string())
            .execute(&mut *tx)
            .await?;
        cases_opened += 1;
    }
    sqlx::query("UPDATE round_site SET inspected_at = $1 WHERE round_id = $2 AND site_id = $3")
        .bind(now)
        .bind(round_id.to_string())
        .bind(site_id.to_string())
        .execute(&mut *tx)
        .await?;
    #[derive(Serialize)]
    struct Recorded<'a> {
        site: &'a str,
        findings: usize,
        failed: usize,
    }
    audit::created(
        &mut *tx,
        who.ctx(),
        "inspection",
        &format!("{round_id}/{site_id}"),
        &Recorded {
            site: &site.code,
            findings: created,
            failed: cases_opened,
        },
    )
    .await?;
    Ok((created, cases_opened))
}
