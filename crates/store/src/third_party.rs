//! A third-party evaluation's results taken in as a round: each row names
//! a place, a standard (by code, by its words, or described), a result and
//! photo files. Rows that match a site and a standard on its checklist
//! become findings (failures open cases); rows that match nothing are kept
//! for someone to map by hand, never dropped. All in one transaction.

use crate::inspection::{self, CheckItem, Intake, Round, Submitter, Writing};
use crate::org::parse_uuid;
use crate::site::Site;
use crate::{Ctx, Store, StoreError, now_micros, ts};
use serde::Serialize;
use sqlx::Row;
use std::collections::HashMap;
use uuid::Uuid;
use wenming_domain::inspection::{FindingDraft, Judged, ResultWord, RoundInput, read_result};
use wenming_domain::policy::{Permit, may};
use wenming_domain::site::{Assignment, Outcome, Recorded};
use wenming_domain::validation::match_key;

/// One row as the evaluator's spreadsheet gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRow {
    /// The sheet's own row number, for the person checking.
    pub row: u32,
    pub place: String,
    pub standard: String,
    pub result: String,
    pub note: Option<String>,
    pub photos: Vec<String>,
    /// The district or street the evaluator wrote, if any.
    pub area: String,
}

/// A row that matched nothing, and why: site, standard, result, photo or
/// duplicate.
#[derive(Debug, Clone, Serialize)]
pub struct Unmatched {
    pub id: Uuid,
    pub row: u32,
    pub place: String,
    pub standard: String,
    pub result: String,
    pub note: Option<String>,
    pub photos: Vec<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Imported {
    pub round: Round,
    pub findings: usize,
    pub cases_opened: usize,
    pub unmatched: Vec<Unmatched>,
}

/// The photos sent with a result (a zip): the names in it, and each one
/// read only when a row needs it, so that memory holds one photo at a time.
pub trait PhotoSource: Send {
    fn names(&self) -> Vec<String>;
    fn read(
        &mut self,
        name: &str,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<Option<bytes::Bytes>, StoreError>> + Send + '_>>;
}

/// No photos came with the sheet.
pub struct NoPhotos;

impl PhotoSource for NoPhotos {
    fn names(&self) -> Vec<String> {
        vec![]
    }
    fn read(
        &mut self,
        _: &str,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<Option<bytes::Bytes>, StoreError>> + Send + '_>>
    {
        Box::pin(async { Ok(None) })
    }
}

/// A path as written in a sheet or a zip, compared segment by segment with
/// case and width folded.
fn path_key(name: &str) -> Vec<String> {
    name.split(['/', '\\'])
        .filter(|s| !s.is_empty() && *s != ".")
        .map(match_key)
        .collect()
}

/// The zip entry a row's photo names: the path as written (a folder in the
/// zip may hold it), or a bare file name when only one entry has it. Two
/// folders holding the same name leave the row for a person.
fn find_photo<'a>(names: &'a [String], cited: &str) -> Result<&'a str, &'static str> {
    let want = path_key(cited);
    if want.is_empty() {
        return Err("photo");
    }
    let hits: Vec<&String> = names
        .iter()
        .filter(|n| {
            let have = path_key(n);
            have.len() >= want.len() && have[have.len() - want.len()..] == want[..]
        })
        .collect();
    match hits.as_slice() {
        [one] => Ok(one.as_str()),
        [] => Err("photo"),
        _ => Err("photo_ambiguous"),
    }
}

/// A site with the names of the regions it lies in, for a row that gives
/// its district or street.
struct Placed<'a> {
    site: &'a Site,
    areas: Vec<String>,
}

/// The site a row's place names: its code, or its name when one site has
/// it, or one site among those of the district or street the row gives.
fn find_site<'a>(sites: &'a [Placed<'a>], place: &str, area: &str) -> Option<&'a Site> {
    let key = match_key(place);
    if key.is_empty() {
        return None;
    }
    if let Some(s) = sites.iter().find(|s| match_key(&s.site.code) == key) {
        return Some(s.site);
    }
    let named: Vec<&Placed> = sites
        .iter()
        .filter(|s| match_key(&s.site.name) == key)
        .collect();
    if let [one] = named.as_slice() {
        return Some(one.site);
    }
    // Two sites of one name in different districts: the row's district or
    // street (临江区, 临江区望岳街道) tells them apart.
    let area = match_key(area);
    if area.is_empty() {
        return None;
    }
    let within: Vec<&&Placed> = named
        .iter()
        .filter(|s| {
            s.areas
                .iter()
                .any(|a| !a.is_empty() && area.contains(a.as_str()))
        })
        .collect();
    (within.len() == 1).then(|| within[0].site)
}

/// The standard on a checklist a row's words name: its code, its exact
/// words, or else the one standard whose words and the row's contain each
/// other. Two candidates are no match: a person decides.
fn find_standard<'a>(list: &'a [CheckItem], text: &str) -> Option<&'a CheckItem> {
    let key = match_key(text);
    if key.is_empty() {
        return None;
    }
    if let Some(c) = list
        .iter()
        .find(|c| match_key(&c.code) == key || match_key(&c.title) == key)
    {
        return Some(c);
    }
    // "3.2.5 无占道经营" — a code at the start.
    if let Some(code) = text.split_whitespace().next()
        && let Some(c) = list.iter().find(|c| c.code == code)
    {
        return Some(c);
    }
    let near: Vec<&CheckItem> = list
        .iter()
        .filter(|c| {
            let t = match_key(&c.title);
            key.chars().count() >= 4 && (t.contains(&key) || key.contains(&t))
        })
        .collect();
    (near.len() == 1).then(|| near[0])
}

/// A problem at a row of the sheet (`row:field`), as the site workbook's.
fn at_row(row: u32, field: &str, code: &'static str, detail: String) -> StoreError {
    StoreError::Problems(vec![wenming_domain::framework::Problem {
        place: format!("{row}:{field}"),
        code,
        detail,
    }])
}

/// Takes in a third-party result as a new round of kind third_party.
/// `photos` holds the zip's files; the rows name them. `words` are the
/// office's result words (基本合格 …).
#[allow(clippy::too_many_arguments)]
pub async fn import(
    store: &Store,
    files: &crate::files::Files,
    ctx: &Ctx,
    permit: &Permit<may::ManageRounds>,
    input: &RoundInput,
    rows: &[ResultRow],
    photos: &mut dyn PhotoSource,
    words: &[ResultWord],
    photo_rules: &crate::photo::PhotoRules,
    tz: &jiff::tz::TimeZone,
) -> Result<Imported, StoreError> {
    let who = &Submitter::Office { ctx, permit };
    if rows.is_empty() {
        return Err(StoreError::invalid("file", "no_rows"));
    }
    let framework_id = crate::framework::active(store)
        .await?
        .ok_or_else(|| StoreError::invalid("kind", "no_active_framework"))?
        .id;
    // A district office's import matches the sites of its district; the
    // rest are kept unmatched for someone whose grant reaches them.
    let sites = crate::site::list(store, permit.scope(), &Default::default()).await?;
    let regions = crate::org::list_regions(store, permit.scope()).await?;
    let region_name: HashMap<String, String> = regions
        .iter()
        .map(|r| (r.id.to_string(), match_key(&r.name)))
        .collect();
    let placed: Vec<Placed> = sites
        .iter()
        .map(|s| Placed {
            site: s,
            // The city itself (the path's first id) names no district.
            areas: s
                .region_path
                .split('/')
                .filter(|p| !p.is_empty())
                .skip(1)
                .filter_map(|id| region_name.get(id).cloned())
                .collect(),
        })
        .collect();
    let standards = inspection::standards_of(store, framework_id).await?;
    let names = photos.names();

    // Match every row first; nothing is written until all are read.
    let mut matched: Vec<Matched> = vec![];
    let mut unmatched: Vec<(Unmatched, Vec<String>)> = vec![];
    let mut taken: Vec<(Uuid, Uuid)> = vec![];
    for r in rows {
        // The zip entries its photos name, as far as they resolve.
        let mut entries = vec![];
        let mut photo_problem = None;
        for p in &r.photos {
            match find_photo(&names, p) {
                Ok(e) => entries.push(e.to_string()),
                Err(why) => photo_problem = photo_problem.or(Some(why)),
            }
        }
        let reason = (|| {
            let Some(site) = find_site(&placed, &r.place, &r.area) else {
                return Err("site");
            };
            let list = inspection::checklist_for(&standards, &site.type_code, &site.type_name);
            let Some(item) = find_standard(&list, &r.standard) else {
                return Err("standard");
            };
            let Some((outcome, word)) = read_result(&r.result, words) else {
                return Err("result");
            };
            if let Some(why) = photo_problem {
                return Err(why);
            }
            // A failure is shown, as on an inspector's phone.
            if outcome == Outcome::Fail && entries.is_empty() {
                return Err("photo_required");
            }
            if taken.contains(&(site.id, item.standard_id)) {
                return Err("duplicate");
            }
            Ok((site, item.clone(), outcome, word))
        })();
        match reason {
            Ok((site, item, outcome, word)) => {
                taken.push((site.id, item.standard_id));
                matched.push(Match {
                    row: r,
                    site,
                    item,
                    outcome,
                    word,
                    entries,
                });
            }
            Err(why) => unmatched.push((
                Unmatched {
                    id: wenming_domain::new_id(),
                    row: r.row,
                    place: r.place.clone(),
                    standard: r.standard.clone(),
                    result: r.result.clone(),
                    note: r.note.clone(),
                    photos: r.photos.clone(),
                    reason: why.into(),
                },
                entries,
            )),
        }
    }

    // Photos are stored first (files cannot join a transaction), one at a
    // time as the zip is read; if the import then fails they are taken
    // back. A photo two rows name (one picture of two problems) is stored
    // for each, so each finding has its own. Unmatched rows keep theirs
    // until someone maps them.
    let mut staged_ids = vec![];
    let mut matched_photos: Vec<Vec<Uuid>> = vec![];
    let mut held: Vec<Vec<Uuid>> = vec![];
    let wanted: Vec<(u32, &[String], bool)> = matched
        .iter()
        .map(|m| (m.row.row, m.entries.as_slice(), true))
        .chain(unmatched.iter().map(|(u, e)| (u.row, e.as_slice(), false)))
        .collect();
    for (row, entries, is_matched) in wanted {
        let mut ids = vec![];
        for e in entries {
            let staged = match photos.read(e).await {
                Ok(Some(bytes)) => {
                    crate::photo::stage(store, files, who.ctx(), "photos", bytes, photo_rules, tz)
                        .await
                }
                Ok(None) => Err(at_row(row, "photos", "photo", e.clone())),
                Err(e) => Err(e),
            };
            match staged {
                Ok(ph) => {
                    ids.push(ph.id);
                    staged_ids.push(ph.id);
                }
                Err(err) => {
                    crate::photo::discard(store, files, &staged_ids).await?;
                    return Err(match err {
                        StoreError::Invalid(f) => at_row(
                            row,
                            "photos",
                            f.0.first().map_or("not_an_image", |x| x.code),
                            e.clone(),
                        ),
                        StoreError::Problems(p) => StoreError::Problems(
                            p.into_iter()
                                .map(|mut x| {
                                    x.place = format!("{row}:photos");
                                    x
                                })
                                .collect(),
                        ),
                        other => other,
                    });
                }
            }
        }
        if is_matched {
            matched_photos.push(ids);
        } else {
            held.push(ids);
        }
    }

    let result = write(
        store,
        who,
        input,
        framework_id,
        &matched,
        &matched_photos,
        &unmatched,
        &held,
        tz,
        photo_rules,
    )
    .await;
    match result {
        Ok((round_id, findings, cases_opened)) => Ok(Imported {
            round: inspection::get(store, round_id).await?,
            findings,
            cases_opened,
            unmatched: unmatched.into_iter().map(|(u, _)| u).collect(),
        }),
        Err(e) => {
            crate::photo::discard(store, files, &staged_ids).await?;
            Err(e)
        }
    }
}

/// A row matched to its site, standard and result, with the zip entries
/// its photos name.
struct Match<'a> {
    row: &'a ResultRow,
    site: &'a Site,
    item: CheckItem,
    outcome: Outcome,
    /// The office's result word it was read with (基本合格), kept as a note.
    word: Option<&'a str>,
    entries: Vec<String>,
}
type Matched<'a> = Match<'a>;

#[allow(clippy::too_many_arguments)]
async fn write(
    store: &Store,
    who: &Submitter<'_>,
    input: &RoundInput,
    framework_id: Uuid,
    matched: &[Matched<'_>],
    matched_photos: &[Vec<Uuid>],
    unmatched: &[(Unmatched, Vec<String>)],
    held: &[Vec<Uuid>],
    tz: &jiff::tz::TimeZone,
    photo_rules: &crate::photo::PhotoRules,
) -> Result<(Uuid, usize, usize), StoreError> {
    let now = now_micros();
    let mut site_order: Vec<&Site> = vec![];
    for m in matched {
        if !site_order.iter().any(|s| s.id == m.site.id) {
            site_order.push(m.site);
        }
    }
    let assigned: Vec<(Uuid, Assignment)> = site_order
        .iter()
        .map(|s| (s.id, Assignment::NoneEligible))
        .collect();
    let world = Intake::now(store).await?;
    let mut tx = store.begin().await?;
    let seed = 0;
    let round_id = inspection::insert_round(
        &mut tx,
        who.ctx(),
        input,
        framework_id,
        seed,
        &assigned,
        now,
    )
    .await?;
    let (mut findings, mut cases) = (0, 0);
    for site in &site_order {
        let drafts: Vec<(FindingDraft, &CheckItem, Judged)> = matched
            .iter()
            .zip(matched_photos)
            .filter(|(m, _)| m.site.id == site.id)
            .map(|(m, photo_ids)| {
                let (item, outcome) = (&m.item, &m.outcome);
                let recorded = Recorded::plain(*outcome);
                let note = match (m.word, &m.row.note) {
                    (Some(w), Some(n)) => Some(format!("{w}：{n}")),
                    (Some(w), None) => Some(w.to_string()),
                    (None, n) => n.clone(),
                };
                (
                    FindingDraft {
                        id: wenming_domain::new_id(),
                        standard_id: item.standard_id,
                        recorded,
                        note,
                        photo_ids: photo_ids.clone(),
                        observed_at: ts(now),
                        lon: None,
                        lat: None,
                    },
                    item,
                    Judged {
                        outcome: *outcome,
                        point: None,
                        distance_m: None,
                        away: false,
                    },
                )
            })
            .collect();
        let fresh: Vec<(&FindingDraft, &CheckItem, Judged)> =
            drafts.iter().map(|(d, i, j)| (d, *i, j.clone())).collect();
        let (f, c) = inspection::write_findings(
            &mut tx,
            &Writing {
                who,
                round_id,
                kind: input.kind,
                site,
                world: &world,
                photo_rules,
                tz,
                now,
            },
            &fresh,
        )
        .await?;
        findings += f;
        cases += c;
    }
    for ((u, _), photos) in unmatched.iter().zip(held) {
        sqlx::query(
            "INSERT INTO round_unmatched (id, round_id, row_number, place, standard_text, result, note, photo_names, \
             reason, resolved_finding_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10)",
        )
        .bind(u.id.to_string())
        .bind(round_id.to_string())
        .bind(i64::from(u.row))
        .bind(&u.place)
        .bind(&u.standard)
        .bind(&u.result)
        .bind(&u.note)
        .bind(serde_json::to_string(&u.photos).unwrap_or_default())
        .bind(&u.reason)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        // Kept with the row (the sweep leaves them) until it is mapped.
        for p in photos {
            sqlx::query("UPDATE photo SET held_for = $1 WHERE id = $2")
                .bind(u.id.to_string())
                .bind(p.to_string())
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok((round_id, findings, cases))
}

/// The rows of a round that matched nothing and are not mapped yet.
pub async fn unmatched(store: &Store, round_id: Uuid) -> Result<Vec<Unmatched>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, row_number, place, standard_text, result, note, photo_names, reason FROM round_unmatched \
         WHERE round_id = $1 AND resolved_finding_id IS NULL ORDER BY row_number",
    )
    .bind(round_id.to_string())
    .fetch_all(store.reader())
    .await?;
    rows.iter()
        .map(|r| {
            let photos: String = r.try_get("photo_names")?;
            Ok(Unmatched {
                id: parse_uuid(&r.try_get::<String, _>("id")?)?,
                row: r.try_get::<i64, _>("row_number")? as u32,
                place: r.try_get("place")?,
                standard: r.try_get("standard_text")?,
                result: r.try_get("result")?,
                note: r.try_get("note")?,
                photos: crate::error::stored_json("third-party row photos", &photos)?,
                reason: r.try_get("reason")?,
            })
        })
        .collect()
}

/// Maps a row that matched nothing to a site and a standard by hand,
/// recording it as a finding of its round (a failure opens a case, as any
/// does). The row is marked mapped in the same transaction; mapping it again
/// is a conflict.
#[allow(clippy::too_many_arguments)]
pub async fn map(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageRounds>,
    round_id: Uuid,
    unmatched_id: Uuid,
    site_id: Uuid,
    standard_id: Uuid,
    outcome: Option<Outcome>,
    extra_photos: &[Uuid],
    photo_rules: &crate::photo::PhotoRules,
    tz: &jiff::tz::TimeZone,
) -> Result<inspection::Finding, StoreError> {
    let who = &Submitter::Office { ctx, permit };
    let round = inspection::get(store, round_id).await?;
    let row = unmatched(store, round_id)
        .await?
        .into_iter()
        .find(|u| u.id == unmatched_id)
        .ok_or(StoreError::NotFound)?;
    let outcome = match outcome.or_else(|| {
        read_result(
            &row.result,
            &wenming_domain::inspection::default_result_words(),
        )
        .map(|r| r.0)
    }) {
        Some(o) => o,
        None => return Err(StoreError::invalid("result", "required")),
    };
    // The photos the import kept for this row, then any the mapper adds.
    let held: Vec<String> =
        sqlx::query_scalar("SELECT id FROM photo WHERE held_for = $1 ORDER BY uploaded_at, id")
            .bind(unmatched_id.to_string())
            .fetch_all(store.reader())
            .await?;
    let mut photo_ids: Vec<Uuid> = held
        .iter()
        .map(|h| parse_uuid(h))
        .collect::<Result<_, _>>()?;
    photo_ids.extend_from_slice(extra_photos);
    // A failure is shown, whoever records it.
    if outcome == Outcome::Fail && photo_ids.is_empty() {
        return Err(StoreError::invalid("photo_ids", "photo_required"));
    }
    let site = crate::site::get(store, permit.scope(), site_id)
        .await
        .map_err(|_| StoreError::invalid("site_id", "invalid_choice"))?;
    let standards = inspection::standards_of(store, round.framework_id).await?;
    let list = inspection::checklist_for(&standards, &site.type_code, &site.type_name);
    let Some(item) = list.iter().find(|c| c.standard_id == standard_id) else {
        return Err(StoreError::invalid("standard_id", "not_on_checklist"));
    };
    let recorded = Recorded::plain(outcome);
    let now = now_micros();
    let draft = FindingDraft {
        id: wenming_domain::new_id(),
        standard_id,
        recorded,
        note: Some(match &row.note {
            Some(n) => format!("{}（{}）", n, row.standard),
            None => row.standard.clone(),
        }),
        photo_ids: photo_ids.clone(),
        observed_at: ts(now),
        lon: None,
        lat: None,
    };
    let world = Intake::now(store).await?;
    let mut tx = store.begin().await?;
    let taken: Option<String> = sqlx::query_scalar(
        "SELECT id FROM finding WHERE round_id = $1 AND site_id = $2 AND standard_id = $3",
    )
    .bind(round_id.to_string())
    .bind(site_id.to_string())
    .bind(standard_id.to_string())
    .fetch_optional(&mut *tx)
    .await?;
    if taken.is_some() {
        return Err(StoreError::invalid("standard_id", "already_recorded"));
    }
    // The import's photos pass to whoever maps the row, as though they had
    // uploaded them; the finding's audit record names who that was.
    sqlx::query("UPDATE photo SET uploaded_by = $1, held_for = NULL WHERE held_for = $2")
        .bind(who.user_id().map(|u| u.to_string()))
        .bind(unmatched_id.to_string())
        .execute(&mut *tx)
        .await?;
    // The site joins the round's sample if the import had not placed it.
    let placed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM round_site WHERE round_id = $1 AND site_id = $2")
            .bind(round_id.to_string())
            .bind(site_id.to_string())
            .fetch_one(&mut *tx)
            .await?;
    if placed == 0 {
        sqlx::query(
            "INSERT INTO round_site (round_id, site_id, position, inspector_id, inspected_at) \
             SELECT $1, $2, COALESCE(MAX(position), -1) + 1, NULL, NULL FROM round_site WHERE round_id = $1",
        )
        .bind(round_id.to_string())
        .bind(site_id.to_string())
        .execute(&mut *tx)
        .await?;
    }
    inspection::write_findings(
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
        &[(
            &draft,
            item,
            Judged {
                outcome,
                point: None,
                distance_m: None,
                away: false,
            },
        )],
    )
    .await?;
    let marked = sqlx::query(
        "UPDATE round_unmatched SET resolved_finding_id = $1 WHERE id = $2 AND round_id = $3 AND resolved_finding_id IS NULL",
    )
    .bind(draft.id.to_string())
    .bind(unmatched_id.to_string())
    .bind(round_id.to_string())
    .execute(&mut *tx)
    .await?;
    if marked.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    tx.commit().await?;
    inspection::findings(store, round_id, site_id)
        .await?
        .into_iter()
        .find(|f| f.id == draft.id)
        .ok_or(StoreError::NotFound)
}
