//! A third-party evaluation's results taken in as a round: each row names
//! a place, a standard (by code, by its words, or described), a result and
//! photo files. Rows that match a site and a standard on its checklist
//! become findings (failures open cases); rows that match nothing are kept
//! for someone to map by hand, never dropped. All in one transaction.

use crate::inspection::{self, CheckItem, Intake, Round, Submitter, Writing};
use crate::org::parse_uuid;
use crate::site::Site;
use crate::{Store, StoreError, now_micros, ts};
use serde::Serialize;
use sqlx::Row;
use std::collections::HashMap;
use uuid::Uuid;
use wenming_domain::inspection::{FindingDraft, Judged, RoundInput, parse_result_text};
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

/// How a photo is named in a row and in the zip: its file name (without
/// the zip's folders), case and width folded.
fn photo_key(name: &str) -> String {
    match_key(name.rsplit(['/', '\\']).next().unwrap_or(name))
}

/// The site a row's place names: its code, or its name as written when
/// one site has it.
fn find_site<'a>(sites: &'a [Site], place: &str) -> Option<&'a Site> {
    let key = match_key(place);
    if key.is_empty() {
        return None;
    }
    if let Some(s) = sites.iter().find(|s| match_key(&s.code) == key) {
        return Some(s);
    }
    // Two sites of one name (a road and the lane named after it): a person
    // decides which.
    let named: Vec<&Site> = sites.iter().filter(|s| match_key(&s.name) == key).collect();
    (named.len() == 1).then(|| named[0])
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

/// Takes in a third-party result as a new round of kind third_party.
/// `photos` are the zip's files by name; the rows name them.
#[allow(clippy::too_many_arguments)]
pub async fn import(
    store: &Store,
    files: &crate::files::Files,
    who: &Submitter<'_>,
    input: &RoundInput,
    rows: &[ResultRow],
    photos: &HashMap<String, bytes::Bytes>,
    photo_rules: &crate::photo::PhotoRules,
    tz: &jiff::tz::TimeZone,
) -> Result<Imported, StoreError> {
    if rows.is_empty() {
        return Err(StoreError::invalid("file", "no_rows"));
    }
    let framework_id = crate::framework::active(store)
        .await?
        .ok_or_else(|| StoreError::invalid("kind", "no_active_framework"))?
        .id;
    let city = crate::org::whole_city(store).await?;
    let sites = crate::site::list(store, &city, &Default::default()).await?;
    let standards = inspection::standards_of(store, framework_id).await?;
    let by_name: HashMap<String, &bytes::Bytes> =
        photos.iter().map(|(n, b)| (photo_key(n), b)).collect();

    // Match every row first; nothing is written until all are read.
    let mut matched: Vec<Matched> = vec![];
    let mut unmatched: Vec<Unmatched> = vec![];
    let mut taken: Vec<(Uuid, Uuid)> = vec![];
    for r in rows {
        let reason = (|| {
            let Some(site) = find_site(&sites, &r.place) else {
                return Err("site");
            };
            let list = inspection::checklist_for(&standards, &site.type_code, &site.type_name);
            let Some(item) = find_standard(&list, &r.standard) else {
                return Err("standard");
            };
            let Some(outcome) = parse_result_text(&r.result) else {
                return Err("result");
            };
            if r.photos
                .iter()
                .any(|p| !by_name.contains_key(&photo_key(p)))
            {
                return Err("photo");
            }
            if taken.contains(&(site.id, item.standard_id)) {
                return Err("duplicate");
            }
            Ok((site, item.clone(), outcome))
        })();
        match reason {
            Ok((site, item, outcome)) => {
                taken.push((site.id, item.standard_id));
                matched.push((r, site, item, outcome));
            }
            Err(why) => unmatched.push(Unmatched {
                id: wenming_domain::new_id(),
                row: r.row,
                place: r.place.clone(),
                standard: r.standard.clone(),
                result: r.result.clone(),
                note: r.note.clone(),
                photos: r.photos.clone(),
                reason: why.into(),
            }),
        }
    }

    // Photos are stored first (files cannot join a transaction); if the
    // import then fails they are taken back.
    let mut staged: HashMap<String, Uuid> = HashMap::new();
    let mut staged_ids = vec![];
    for (row, ..) in &matched {
        for p in &row.photos {
            let key = photo_key(p);
            if staged.contains_key(&key) {
                continue;
            }
            let bytes = by_name[&key].clone();
            match crate::photo::stage(store, files, who.ctx, "photos", bytes, photo_rules, tz).await
            {
                Ok(ph) => {
                    staged.insert(key, ph.id);
                    staged_ids.push(ph.id);
                }
                Err(StoreError::Invalid(_)) => {
                    crate::photo::discard(store, files, &staged_ids).await?;
                    return Err(StoreError::invalid(&format!("photos.{p}"), "not_an_image"));
                }
                Err(e) => {
                    crate::photo::discard(store, files, &staged_ids).await?;
                    return Err(e);
                }
            }
        }
    }

    let result = write(
        store,
        who,
        input,
        framework_id,
        &matched,
        &staged,
        &unmatched,
        tz,
        photo_rules,
    )
    .await;
    match result {
        Ok((round_id, findings, cases_opened)) => Ok(Imported {
            round: inspection::get(store, round_id).await?,
            findings,
            cases_opened,
            unmatched,
        }),
        Err(e) => {
            crate::photo::discard(store, files, &staged_ids).await?;
            Err(e)
        }
    }
}

/// A row matched to its site, standard and result.
type Matched<'a> = (&'a ResultRow, &'a Site, CheckItem, Outcome);

#[allow(clippy::too_many_arguments)]
async fn write(
    store: &Store,
    who: &Submitter<'_>,
    input: &RoundInput,
    framework_id: Uuid,
    matched: &[Matched<'_>],
    staged: &HashMap<String, Uuid>,
    unmatched: &[Unmatched],
    tz: &jiff::tz::TimeZone,
    photo_rules: &crate::photo::PhotoRules,
) -> Result<(Uuid, usize, usize), StoreError> {
    let now = now_micros();
    let mut site_order: Vec<&Site> = vec![];
    for (_, site, _, _) in matched {
        if !site_order.iter().any(|s| s.id == site.id) {
            site_order.push(site);
        }
    }
    let assigned: Vec<(Uuid, Assignment)> = site_order
        .iter()
        .map(|s| (s.id, Assignment::NoneEligible))
        .collect();
    let world = Intake::now(store).await?;
    let mut tx = store.begin().await?;
    let seed = 0;
    let round_id =
        inspection::insert_round(&mut tx, who.ctx, input, framework_id, seed, &assigned, now)
            .await?;
    let (mut findings, mut cases) = (0, 0);
    for site in &site_order {
        let drafts: Vec<(FindingDraft, &CheckItem, Judged)> = matched
            .iter()
            .filter(|(_, s, _, _)| s.id == site.id)
            .map(|(row, _, item, outcome)| {
                let recorded = Recorded::plain(*outcome);
                (
                    FindingDraft {
                        id: wenming_domain::new_id(),
                        standard_id: item.standard_id,
                        recorded,
                        note: row.note.clone(),
                        photo_ids: row
                            .photos
                            .iter()
                            .filter_map(|p| staged.get(&photo_key(p)).copied())
                            .collect(),
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
    for u in unmatched {
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
                photos: serde_json::from_str(&photos).unwrap_or_default(),
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
    who: &Submitter<'_>,
    round_id: Uuid,
    unmatched_id: Uuid,
    site_id: Uuid,
    standard_id: Uuid,
    outcome: Option<Outcome>,
    photo_rules: &crate::photo::PhotoRules,
    tz: &jiff::tz::TimeZone,
) -> Result<inspection::Finding, StoreError> {
    let round = inspection::get(store, round_id).await?;
    let row = unmatched(store, round_id)
        .await?
        .into_iter()
        .find(|u| u.id == unmatched_id)
        .ok_or(StoreError::NotFound)?;
    let outcome = match outcome.or_else(|| parse_result_text(&row.result)) {
        Some(o) => o,
        None => return Err(StoreError::invalid("result", "required")),
    };
    let city = crate::org::whole_city(store).await?;
    let site = crate::site::get(store, &city, site_id)
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
        photo_ids: vec![],
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
