//! Materials: files judged by their content, stored once by SHA-256, filed
//! by a unit for one or more of its requirements.

use super::Requirement;
use crate::files::Files;
use crate::org::parse_uuid;
use crate::{Ctx, Store, StoreError, audit, now_micros};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{Row, any::AnyRow};
use uuid::Uuid;
use wenming_domain::evidence::{FileKind, PhotoFlag, SubmissionState};
use wenming_domain::framework::EvidenceType;
use wenming_domain::policy::{Permit, may};

/// What an office document unpacks to at most: a real DOCX or XLSX of
/// evidence is a few megabytes; far more is a zip bomb.
const MAX_UNPACKED: u128 = 256 << 20;

/// What a file is, by its bytes (never its name): a PDF, a Word or Excel
/// document, an OFD, or a photo; anything else is refused with the reason.
/// Office documents are zips: their table of contents must name the parts
/// the format needs and unpack to a sane size.
pub fn sniff(bytes: &[u8]) -> Result<FileKind, &'static str> {
    use wenming_domain::photo::ImageKind;
    if bytes.is_empty() {
        return Err("empty_file");
    }
    if let Some(k) = wenming_domain::photo::sniff(bytes) {
        return Ok(match k {
            ImageKind::Jpeg => FileKind::Jpeg,
            ImageKind::Png => FileKind::Png,
            ImageKind::Webp => FileKind::Webp,
        });
    }
    if bytes.starts_with(b"%PDF-") {
        return Ok(FileKind::Pdf);
    }
    if !bytes.starts_with(b"PK\x03\x04") {
        return Err("not_a_document");
    }
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|_| "not_a_document")?;
    // The sizes the table of contents declares (entries written with a data
    // descriptor, as office suites stream them, declare theirs there too).
    let mut unpacked: u128 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|_| "not_a_document")?;
        unpacked += u128::from(entry.size());
        if unpacked > MAX_UNPACKED {
            return Err("zip_bomb");
        }
    }
    let names: Vec<String> = archive
        .file_names()
        .filter_map(Result::ok)
        .map(|n| n.to_string())
        .collect();
    let has = |n: &str| names.iter().any(|x| x == n);
    if has("[Content_Types].xml") && has("word/document.xml") {
        Ok(FileKind::Docx)
    } else if has("[Content_Types].xml") && has("xl/workbook.xml") {
        Ok(FileKind::Xlsx)
    } else if has("OFD.xml") {
        Ok(FileKind::Ofd)
    } else {
        Err("not_a_document")
    }
}

fn file_key(sha256: &str) -> String {
    format!("materials/{sha256}")
}

/// A filed material, with the requirements it was offered for.
#[derive(Debug, Clone, Serialize)]
pub struct Material {
    pub id: Uuid,
    pub sha256: String,
    pub kind: FileKind,
    pub size: i64,
    pub evidence_type: EvidenceType,
    pub title: String,
    pub doc_date: jiff::civil::Date,
    pub doc_number: Option<String>,
    pub file_name: String,
    pub unit_id: Uuid,
    pub unit_name: String,
    pub uploaded_by: Option<Uuid>,
    /// For a generated material: its source, the data's SHA-256 and time.
    pub generated_from: Option<serde_json::Value>,
    /// For a picture: what the photo checks found when it was filed.
    pub photo_flags: Vec<wenming_domain::evidence::PhotoFlag>,
    pub created_at: jiff::Timestamp,
}

const MATERIAL: &str = "SELECT m.id, m.sha256, f.kind, f.size, m.evidence_type, m.title, m.doc_date, m.doc_number, \
     m.file_name, m.unit_id, u.name AS unit_name, m.uploaded_by, m.generated_from, m.photo_flags, m.created_at \
     FROM material m JOIN evidence_file f ON f.sha256 = m.sha256 JOIN unit u ON u.id = m.unit_id";

fn material_from_row(r: &AnyRow) -> Result<Material, StoreError> {
    let s = |k: &str| -> Result<String, StoreError> { Ok(r.try_get::<String, _>(k)?) };
    let kind = s("kind")?;
    let t = s("evidence_type")?;
    let date = s("doc_date")?;
    Ok(Material {
        id: parse_uuid(&s("id")?)?,
        sha256: s("sha256")?,
        kind: FileKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("file kind {kind}")))?,
        size: r.try_get("size")?,
        evidence_type: EvidenceType::parse(&t)
            .ok_or_else(|| StoreError::Corrupt(format!("evidence type {t}")))?,
        title: s("title")?,
        doc_date: date
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("material date {date}")))?,
        doc_number: r.try_get("doc_number")?,
        file_name: s("file_name")?,
        unit_id: parse_uuid(&s("unit_id")?)?,
        unit_name: s("unit_name")?,
        uploaded_by: r
            .try_get::<Option<String>, _>("uploaded_by")?
            .as_deref()
            .map(parse_uuid)
            .transpose()?,
        generated_from: crate::error::stored_json_opt(
            "material origin",
            r.try_get::<Option<String>, _>("generated_from")?,
        )?,
        photo_flags: crate::error::stored_json_opt(
            "material photo flags",
            r.try_get::<Option<String>, _>("photo_flags")?,
        )?
        .unwrap_or_default(),
        created_at: crate::ts(r.try_get("created_at")?),
    })
}

/// A material offered for one requirement, and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct Submission {
    pub id: Uuid,
    pub requirement_id: Uuid,
    pub material: Material,
    pub state: SubmissionState,
    pub reason: Option<String>,
    pub submitted_at: jiff::Timestamp,
    pub decided_at: Option<jiff::Timestamp>,
    pub decided_by: Option<String>,
    pub version: i64,
}

pub(super) fn submission_from_row(r: &AnyRow) -> Result<Submission, StoreError> {
    let state: String = r.try_get("s_state")?;
    Ok(Submission {
        id: parse_uuid(&r.try_get::<String, _>("s_id")?)?,
        requirement_id: parse_uuid(&r.try_get::<String, _>("s_requirement")?)?,
        material: material_from_row(r)?,
        state: SubmissionState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("submission state {state}")))?,
        reason: r.try_get("s_reason")?,
        submitted_at: crate::ts(r.try_get("s_at")?),
        decided_at: r.try_get::<Option<i64>, _>("s_decided_at")?.map(crate::ts),
        decided_by: r.try_get("s_decided_by")?,
        version: r.try_get("s_version")?,
    })
}

pub(super) fn submission_select() -> String {
    MATERIAL.replacen(
        "SELECT ",
        "SELECT s.id AS s_id, s.requirement_id AS s_requirement, s.state AS s_state, s.reason AS s_reason, \
         s.submitted_at AS s_at, s.decided_at AS s_decided_at, s.version AS s_version, \
         du.display_name AS s_decided_by, ",
        1,
    ) + " JOIN submission s ON s.material_id = m.id LEFT JOIN app_user du ON du.id = s.decided_by"
}

/// The submissions for a requirement, newest first.
pub async fn submissions(
    store: &Store,
    requirement: &Requirement,
) -> Result<Vec<Submission>, StoreError> {
    let rows = sqlx::query(&format!(
        "{} WHERE s.requirement_id = $1 ORDER BY s.submitted_at DESC, s.id",
        submission_select()
    ))
    .bind(requirement.id.to_string())
    .fetch_all(store.reader())
    .await?;
    rows.iter().map(submission_from_row).collect()
}

/// A material by id, if the caller's scope covers its unit.
pub async fn material(
    store: &Store,
    scope: &wenming_domain::policy::Scope,
    id: Uuid,
) -> Result<Material, StoreError> {
    let row = sqlx::query(&format!(
        "{} WHERE m.id = $1",
        MATERIAL.replacen(" FROM ", ", r.path AS region_path FROM ", 1)
            + " JOIN region r ON r.id = u.region_id"
    ))
    .bind(id.to_string())
    .fetch_optional(store.reader())
    .await?
    .ok_or(StoreError::NotFound)?;
    let region_path: String = row.try_get("region_path")?;
    let m = material_from_row(&row)?;
    if scope.is_everything() || scope.covers_unit(m.unit_id, &region_path) {
        Ok(m)
    } else {
        Err(StoreError::NotFound)
    }
}

/// The stored bytes of a material.
pub async fn material_file(files: &Files, m: &Material) -> Result<bytes::Bytes, StoreError> {
    files.get(&file_key(&m.sha256)).await
}

/// What a unit files.
#[derive(Debug, Clone)]
pub struct MaterialInput {
    pub evidence_type: EvidenceType,
    pub title: String,
    pub doc_date: Option<jiff::civil::Date>,
    pub doc_number: Option<String>,
    pub file_name: String,
    /// The requirements it proves; all of one unit.
    pub requirement_ids: Vec<Uuid>,
    /// Made by wenming (JSON): what from, the data's SHA-256 and time.
    pub generated_from: Option<serde_json::Value>,
}

/// What filing did.
#[derive(Debug, Clone, Serialize)]
pub struct Filed {
    pub material: Material,
    /// The same file was on record already (stored once): this unit's
    /// earlier material was linked instead of a second copy.
    pub already_filed: bool,
    /// Requirements it was newly offered for.
    pub linked: Vec<Uuid>,
}

#[derive(Serialize)]
struct FiledAudit<'a> {
    title: &'a str,
    evidence_type: &'static str,
    doc_date: String,
    doc_number: Option<&'a str>,
    sha256: &'a str,
    requirements: &'a [Uuid],
}

/// Files a material for one or more requirements of one unit: the file is
/// judged by its content, stored once by SHA-256 (a second upload of the
/// same file by the same unit links its earlier material, and says so),
/// and offered for review for each requirement, in one transaction. Bytes
/// are written before the rows; a file whose rows never land is swept.
pub async fn file_material(
    store: &Store,
    files: &Files,
    ctx: &Ctx,
    permit: &Permit<may::SubmitEvidence>,
    input: &MaterialInput,
    bytes: bytes::Bytes,
) -> Result<Filed, StoreError> {
    let mut errors = wenming_domain::FieldErrors::new();
    let title = input.title.trim();
    if title.is_empty() {
        errors.add("title", "required");
    } else if title.chars().count() > 200 {
        errors.add("title", "too_long");
    }
    if input.doc_date.is_none() {
        errors.add("doc_date", "required");
    }
    let doc_number = input
        .doc_number
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if doc_number.is_some_and(|n| n.chars().count() > 64) {
        errors.add("doc_number", "too_long");
    }
    if input.requirement_ids.is_empty() {
        errors.add("requirement_ids", "required");
    }
    let kind = match sniff(&bytes) {
        Ok(k) => Some(k),
        Err(code) => {
            errors.add("file", code);
            None
        }
    };
    let (Some(kind), Some(doc_date)) = (kind, input.doc_date) else {
        return Err(StoreError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(StoreError::Invalid(errors));
    }
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(store.timezone().clone())
        .date();
    let mut unit = None;
    for id in &input.requirement_ids {
        let q = super::requirement(store, permit.scope(), *id, today).await?;
        match (unit, q.unit_id) {
            (_, None) => return Err(StoreError::invalid("requirement_ids", "no_unit_yet")),
            (None, Some(u)) => unit = Some(u),
            (Some(a), Some(b)) if a != b => {
                return Err(StoreError::invalid("requirement_ids", "several_units"));
            }
            _ => {}
        }
    }
    let unit = unit.ok_or(StoreError::NotFound)?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let size = bytes.len() as i64;
    // A picture gets the photo checks cases use, judged against the window
    // of the (first) requirement it proves.
    let picture = match kind {
        FileKind::Jpeg | FileKind::Png | FileKind::Webp => {
            let (dhash, taken_at) =
                crate::photo::fingerprint(bytes.clone(), store.timezone()).await?;
            let q =
                super::requirement(store, permit.scope(), input.requirement_ids[0], today).await?;
            let window = super::window(store, q.framework_id, today).await?;
            Some((dhash, taken_at, window))
        }
        _ => None,
    };
    let known: Option<String> =
        sqlx::query_scalar("SELECT sha256 FROM evidence_file WHERE sha256 = $1")
            .bind(&sha256)
            .fetch_optional(store.reader())
            .await?;
    if known.is_none() {
        files.put(&file_key(&sha256), bytes).await?;
    }
    let now = now_micros();
    let mut tx = store.begin().await?;
    if known.is_none() {
        // Two units filing the same new file at once: one row, one file.
        let exists: Option<String> =
            sqlx::query_scalar("SELECT sha256 FROM evidence_file WHERE sha256 = $1")
                .bind(&sha256)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            sqlx::query(
                "INSERT INTO evidence_file (sha256, kind, size, stored_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(&sha256)
            .bind(kind.code())
            .bind(size)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
    }
    let earlier: Option<String> = sqlx::query_scalar(
        "SELECT id FROM material WHERE sha256 = $1 AND unit_id = $2 ORDER BY created_at LIMIT 1",
    )
    .bind(&sha256)
    .bind(unit.to_string())
    .fetch_optional(&mut *tx)
    .await?;
    let (material_id, already_filed) = match earlier {
        Some(id) => (parse_uuid(&id)?, true),
        None => {
            let id = wenming_domain::new_id();
            let flags = match &picture {
                Some((dhash, taken_at, window)) => Some(
                    photo_flags(&mut tx, store, &sha256, *dhash, *taken_at, window, unit).await?,
                ),
                None => None,
            };
            sqlx::query(
                "INSERT INTO material (id, sha256, evidence_type, title, doc_date, doc_number, file_name, \
                 unit_id, uploaded_by, created_at, generated_from, photo_flags) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(id.to_string())
            .bind(&sha256)
            .bind(input.evidence_type.code())
            .bind(title)
            .bind(doc_date.to_string())
            .bind(doc_number)
            .bind(input.file_name.trim())
            .bind(unit.to_string())
            .bind(ctx.actor_id.map(|u| u.to_string()))
            .bind(now)
            .bind(input.generated_from.as_ref().map(|g| g.to_string()))
            .bind(flags.map(|f| serde_json::to_string(&f).unwrap_or_else(|_| "[]".into())))
            .execute(&mut *tx)
            .await?;
            (id, false)
        }
    };
    let mut linked = vec![];
    for q in &input.requirement_ids {
        if offer(&mut tx, ctx, *q, material_id, now).await? {
            linked.push(*q);
        }
    }
    audit::append(
        &mut tx,
        ctx,
        if already_filed { "link" } else { "create" },
        "material",
        &material_id.to_string(),
        None::<&()>,
        Some(&FiledAudit {
            title,
            evidence_type: input.evidence_type.code(),
            doc_date: doc_date.to_string(),
            doc_number,
            sha256: &sha256,
            requirements: &linked,
        }),
    )
    .await?;
    tx.commit().await?;
    let material = material(store, permit.scope(), material_id).await?;
    Ok(Filed {
        material,
        already_filed,
        linked,
    })
}

/// The photo checks on a picture filed as a material: the same picture as a
/// case's photo (the file, or near-identical), the very file filed by
/// another unit, a capture time outside the window.
async fn photo_flags(
    conn: &mut sqlx::AnyConnection,
    store: &Store,
    sha256: &str,
    dhash: u64,
    taken_at: Option<jiff::Timestamp>,
    window: &wenming_domain::evidence::Window,
    unit: Uuid,
) -> Result<Vec<PhotoFlag>, StoreError> {
    let mut flags = vec![];
    let mut cases = vec![];
    for p in crate::photo::look_alikes(conn, None, sha256, dhash, None).await? {
        let Some(case_id) = p.case_id.filter(|c| !cases.contains(c)) else {
            continue;
        };
        cases.push(case_id);
        let number: String = sqlx::query_scalar("SELECT number FROM case_record WHERE id = $1")
            .bind(case_id.to_string())
            .fetch_one(&mut *conn)
            .await?;
        flags.push(PhotoFlag::CasePhoto {
            case_id,
            number,
            same_file: p.sha256 == sha256,
        });
        if cases.len() == 3 {
            break;
        }
    }
    let others: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT u.name FROM material m JOIN unit u ON u.id = m.unit_id \
         WHERE m.sha256 = $1 AND m.unit_id <> $2 ORDER BY u.name LIMIT 3",
    )
    .bind(sha256)
    .bind(unit.to_string())
    .fetch_all(&mut *conn)
    .await?;
    flags.extend(others.into_iter().map(|unit| PhotoFlag::OtherUnit { unit }));
    if let Some(t) = taken_at {
        let taken_on = t.to_zoned_datetime(store.timezone().clone()).date();
        if !window.contains(taken_on) {
            flags.push(PhotoFlag::TakenOutsideWindow { taken_on });
        }
    }
    Ok(flags)
}

/// Offers a material for a requirement (again, after a return). Returns
/// whether anything changed: a pair already waiting or accepted is left.
async fn offer(
    conn: &mut sqlx::AnyConnection,
    ctx: &Ctx,
    requirement: Uuid,
    material: Uuid,
    now: i64,
) -> Result<bool, StoreError> {
    let existing = sqlx::query(
        "SELECT id, state FROM submission WHERE requirement_id = $1 AND material_id = $2",
    )
    .bind(requirement.to_string())
    .bind(material.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    match existing {
        Some(r) => {
            let state: String = r.try_get("state")?;
            if state != SubmissionState::Returned.code() {
                return Ok(false);
            }
            let id: String = r.try_get("id")?;
            sqlx::query(
                "UPDATE submission SET state = 'submitted', reason = NULL, decided_by = NULL, decided_at = NULL, \
                 submitted_by = $1, submitted_at = $2, version = version + 1 WHERE id = $3",
            )
            .bind(ctx.actor_id.map(|u| u.to_string()))
            .bind(now)
            .bind(&id)
            .execute(&mut *conn)
            .await?;
        }
        None => {
            sqlx::query(
                "INSERT INTO submission (id, requirement_id, material_id, state, submitted_by, submitted_at, version, doc_date) \
                 SELECT $1, $2, $3, 'submitted', $4, $5, 1, m.doc_date FROM material m WHERE m.id = $3",
            )
            .bind(wenming_domain::new_id().to_string())
            .bind(requirement.to_string())
            .bind(material.to_string())
            .bind(ctx.actor_id.map(|u| u.to_string()))
            .bind(now)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(true)
}

/// Offers a material already filed for another requirement of its unit.
pub async fn link_material(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::SubmitEvidence>,
    material_id: Uuid,
    requirement_id: Uuid,
) -> Result<bool, StoreError> {
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(store.timezone().clone())
        .date();
    let m = material(store, permit.scope(), material_id).await?;
    let q = super::requirement(store, permit.scope(), requirement_id, today).await?;
    if q.unit_id != Some(m.unit_id) {
        return Err(StoreError::invalid("requirement_id", "another_units"));
    }
    let mut tx = store.begin().await?;
    let changed = offer(&mut tx, ctx, requirement_id, material_id, now_micros()).await?;
    if changed {
        #[derive(Serialize)]
        struct Linked {
            requirement: Uuid,
        }
        audit::append(
            &mut tx,
            ctx,
            "link",
            "material",
            &material_id.to_string(),
            None::<&()>,
            Some(&Linked {
                requirement: requirement_id,
            }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(changed)
}

/// What a search of the archive asks for; every part optional.
#[derive(Debug, Clone, Default)]
pub struct MaterialFilter {
    /// Words of the title or the document number.
    pub words: Option<String>,
    pub unit_id: Option<Uuid>,
    pub evidence_type: Option<EvidenceType>,
    /// Offered for a requirement of this standard.
    pub standard_id: Option<Uuid>,
    /// Dated on or after / on or before.
    pub from: Option<jiff::civil::Date>,
    pub until: Option<jiff::civil::Date>,
    /// Has a submission in this state.
    pub state: Option<SubmissionState>,
    pub limit: i64,
}

/// Materials in scope matching the filter, newest document first. Words
/// are matched with LIKE on the title and document number (Chinese text
/// has no word breaks; at an archive's scale this is quick), behind this
/// one function so it can become full-text search later.
pub async fn search_materials(
    store: &Store,
    scope: &wenming_domain::policy::Scope,
    f: &MaterialFilter,
) -> Result<Vec<Material>, StoreError> {
    let mut sql = crate::sql::Sql::new(&format!(
        "{} JOIN region r ON r.id = u.region_id WHERE 1 = 1",
        MATERIAL
    ));
    sql.scope(scope, "r.path", Some("u.id"));
    if let Some(w) = f.words.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
        let p = sql.text_arg(crate::sql::contains_pattern(w));
        sql.push(&format!(
            " AND (LOWER(m.title) LIKE {p} ESCAPE '\\' OR LOWER(COALESCE(m.doc_number, '')) LIKE {p} ESCAPE '\\')"
        ));
    }
    if let Some(u) = f.unit_id {
        let p = sql.text_arg(u.to_string());
        sql.push(&format!(" AND m.unit_id = {p}"));
    }
    if let Some(t) = f.evidence_type {
        let p = sql.text_arg(t.code());
        sql.push(&format!(" AND m.evidence_type = {p}"));
    }
    if let Some(d) = f.from {
        let p = sql.text_arg(d.to_string());
        sql.push(&format!(" AND m.doc_date >= {p}"));
    }
    if let Some(d) = f.until {
        let p = sql.text_arg(d.to_string());
        sql.push(&format!(" AND m.doc_date <= {p}"));
    }
    match (f.standard_id, f.state) {
        (None, None) => {}
        (standard, state) => {
            let mut cond = String::from(
                " AND EXISTS (SELECT 1 FROM submission s JOIN evidence_requirement q ON q.id = s.requirement_id \
                 WHERE s.material_id = m.id",
            );
            if let Some(st) = standard {
                let p = sql.text_arg(st.to_string());
                cond.push_str(&format!(" AND q.standard_id = {p}"));
            }
            if let Some(st) = state {
                let p = sql.text_arg(st.code());
                cond.push_str(&format!(" AND s.state = {p}"));
            }
            cond.push(')');
            sql.push(&cond);
        }
    }
    let p = sql.int_arg(f.limit.clamp(1, 500));
    sql.push(&format!(
        " ORDER BY m.doc_date DESC, m.created_at DESC, m.id LIMIT {p}"
    ));
    let rows = sql.query().fetch_all(store.reader()).await?;
    rows.iter().map(material_from_row).collect()
}

/// A unit's materials, newest first (to link one to another requirement).
pub async fn unit_materials(store: &Store, unit_id: Uuid) -> Result<Vec<Material>, StoreError> {
    let rows = sqlx::query(&format!(
        "{MATERIAL} WHERE m.unit_id = $1 ORDER BY m.created_at DESC, m.id LIMIT 200"
    ))
    .bind(unit_id.to_string())
    .fetch_all(store.reader())
    .await?;
    rows.iter().map(material_from_row).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        use std::io::Write;
        let mut out = std::io::Cursor::new(vec![]);
        let mut z = zip::ZipWriter::new(&mut out);
        for (name, body) in entries {
            z.start_file(
                *name,
                zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Stored),
            )
            .unwrap();
            z.write_all(body).unwrap();
        }
        z.finish().unwrap();
        out.into_inner()
    }

    #[test]
    fn files_are_judged_by_their_content_not_their_name() {
        assert_eq!(sniff(b"%PDF-1.7 ..."), Ok(FileKind::Pdf));
        assert_eq!(sniff(b""), Err("empty_file"));
        assert_eq!(sniff(b"<html>not a pdf</html>"), Err("not_a_document"));
        assert_eq!(sniff(b"MZ\x90\x00 an executable"), Err("not_a_document"));
        let docx = zip_of(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("word/document.xml", b"<w/>"),
        ]);
        assert_eq!(sniff(&docx), Ok(FileKind::Docx));
        let xlsx = zip_of(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("xl/workbook.xml", b"<x/>"),
        ]);
        assert_eq!(sniff(&xlsx), Ok(FileKind::Xlsx));
        let ofd = zip_of(&[("OFD.xml", b"<ofd/>")]);
        assert_eq!(sniff(&ofd), Ok(FileKind::Ofd));
        // A zip that is no office document.
        let other = zip_of(&[("readme.txt", b"hello")]);
        assert_eq!(sniff(&other), Err("not_a_document"));
        // A "DOCX" whose parts claim to unpack to 2 GB: a bomb, refused
        // before anything is unpacked.
        let mut bomb = docx.clone();
        let claim = 0x7FFF_FFFFu32.to_le_bytes();
        let at = |sig: &[u8], from: usize| {
            bomb.windows(4)
                .skip(from)
                .position(|w| w == sig)
                .map(|p| p + from)
        };
        let local = at(b"PK\x03\x04", 0).unwrap();
        let central = at(b"PK\x01\x02", 0).unwrap();
        bomb[local + 22..local + 26].copy_from_slice(&claim);
        bomb[central + 24..central + 28].copy_from_slice(&claim);
        assert_eq!(sniff(&bomb), Err("zip_bomb"));
    }
}
