//! The site register as a spreadsheet: exported with names people read
//! (type, region and sponsor by name), and taken back in the same shape,
//! every bad cell named by row and column, nothing saved unless all rows
//! are right.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::framework::Problem;
use wenming_domain::policy::Action;
use wenming_domain::site::{SiteForm, SiteInput};
use wenming_domain::validation::match_key;
use wenming_store::org;
use wenming_store::site::{self, SiteFilter};

/// (key, header as exported, other header words accepted)
const COLUMNS: &[(&str, &[&str])] = &[
    ("code", &["编号", "点位编号", "code"]),
    ("name", &["名称", "点位名称", "name"]),
    ("type", &["点位类型", "类型", "type"]),
    ("region", &["所在区域", "区域", "社区", "region"]),
    ("sponsor", &["包保单位", "责任单位", "sponsor"]),
    ("chief_name", &["点位长", "chief"]),
    ("chief_phone", &["点位长电话", "电话", "phone"]),
    ("address", &["地址", "address"]),
    ("lon", &["经度", "lon", "longitude"]),
    ("lat", &["纬度", "lat", "latitude"]),
    ("shape", &["线或面", "shape"]),
    ("active", &["在册", "active"]),
];

/// The label of a column, for problem messages.
fn label(lang: Lang, field: &str) -> &'static str {
    let key = match field {
        "type" | "type_id" => "site.type",
        "region" | "region_id" => "site.region",
        "sponsor" | "sponsor_unit_id" => "site.sponsor",
        "code" => "site.code",
        "name" => "site.name",
        "chief_name" => "site.chief_name",
        "chief_phone" => "site.chief_phone",
        "address" => "site.address",
        "lon" => "site.lon",
        "lat" => "site.lat",
        "shape" => "site.shape",
        _ => "site.active",
    };
    crate::i18n::t(lang, key)
}

/// Problems from the store name `row:field`; people read the row and the
/// column's name.
fn localise(lang: Lang, problems: Vec<Problem>) -> Vec<Problem> {
    problems
        .into_iter()
        .map(|p| match p.place.split_once(':') {
            Some((row, field)) => Problem {
                place: crate::i18n::fill(
                    crate::i18n::t(lang, "site.row_place"),
                    &[("row", row), ("column", label(lang, field))],
                ),
                ..p
            },
            None => p,
        })
        .collect()
}

pub async fn export(state: &AppState, auth: &Auth) -> AppResult<Response> {
    use wenming_reports::table_xlsx::{Cell, write};
    let scope = auth.scope(Action::ViewSites)?;
    let sites = site::list(&state.store, &scope, &SiteFilter::default()).await?;
    let rows: Vec<Vec<Cell>> = sites
        .into_iter()
        .map(|s| {
            let text = |v: Option<String>| Cell::Text(v.unwrap_or_default());
            vec![
                Cell::Text(s.code),
                Cell::Text(s.name),
                Cell::Text(s.type_name),
                Cell::Text(s.region_name),
                text(s.sponsor_unit_name),
                text(s.chief_name),
                text(s.chief_phone),
                text(s.address),
                Cell::Number(s.point.lon),
                Cell::Number(s.point.lat),
                text(s.shape.map(|v| v.to_string())),
                Cell::Text(if s.active { "是" } else { "否" }.into()),
            ]
        })
        .collect();
    let widths = [
        12.0, 24.0, 12.0, 16.0, 20.0, 10.0, 14.0, 24.0, 11.0, 11.0, 30.0, 6.0,
    ];
    let header: Vec<(&str, f64)> = COLUMNS
        .iter()
        .zip(widths)
        .map(|((_, words), w)| (words[0], w))
        .collect();
    let t = |k: &str| crate::i18n::t(auth.lang, k);
    let bytes =
        write(t("nav.sites"), t("nav.sites"), &header, &rows).map_err(|_| AppError::Internal)?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"sites.xlsx\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The CSRF token and the file of an upload form (multipart).
pub async fn read_upload(mut multipart: axum::extract::Multipart) -> AppResult<(String, Vec<u8>)> {
    let (mut csrf, mut file) = (String::new(), Vec::new());
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| AppError::Invalid(FieldErrors::single("file", "malformed")))?
    {
        let name = field.name().unwrap_or("").to_string();
        let bytes = field
            .bytes()
            .await
            .map_err(|_| AppError::Invalid(FieldErrors::single("file", "file_too_large")))?;
        match name.as_str() {
            "csrf" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "file" => file = bytes.to_vec(),
            _ => {}
        }
    }
    Ok((csrf, file))
}

/// Reads a sheet of sites and saves them all, or none. Returns (added,
/// changed), or the problems by row and column.
pub async fn import(state: &AppState, auth: &Auth, sheet: Vec<u8>) -> AppResult<(usize, usize)> {
    let scope = auth.scope(Action::ManageSites)?;
    if sheet.is_empty() {
        return Err(AppError::Invalid(FieldErrors::single("file", "required")));
    }
    let records = tokio::task::spawn_blocking(move || {
        wenming_reports::table_read::read(
            &sheet,
            &wenming_reports::workbook::Limits::default(),
            COLUMNS,
            &["code", "name", "type", "region", "lon", "lat"],
            &["address"],
        )
    })
    .await
    .map_err(|_| AppError::Internal)?
    .map_err(AppError::Problems)?;
    let types = site::types(&state.store).await?;
    let regions = org::list_regions(&state.store, &scope).await?;
    let city = org::whole_city(&state.store).await?;
    let units = org::all_units(&state.store, &city, false).await?;
    // A name that means one thing, or nothing (missing or ambiguous).
    fn one<T>(
        items: &[T],
        text: &str,
        keys: impl Fn(&T) -> Vec<String>,
    ) -> Result<Option<Uuid>, &'static str>
    where
        T: HasId,
    {
        let k = match_key(text);
        if k.is_empty() {
            return Ok(None);
        }
        let hits: Vec<&T> = items
            .iter()
            .filter(|i| keys(i).iter().any(|x| match_key(x) == k))
            .collect();
        match hits.len() {
            0 => Err("invalid_choice"),
            1 => Ok(Some(hits[0].id())),
            _ => Err("ambiguous"),
        }
    }
    let mut problems = vec![];
    let mut rows: Vec<(u32, SiteInput)> = vec![];
    let mut seen_codes: Vec<(String, u32)> = vec![];
    for r in &records {
        let mut bad = |field: &str, code: &'static str, detail: &str| {
            problems.push(Problem {
                place: format!("{}:{field}", r.row),
                code,
                detail: detail.to_string(),
            })
        };
        let mut id_of = |field: &str, hit: Result<Option<Uuid>, &'static str>| match hit {
            Ok(v) => v.map(|u| u.to_string()).unwrap_or_default(),
            Err(code) => {
                bad(field, code, r.get(field));
                String::new()
            }
        };
        let type_id = id_of(
            "type",
            one(&types, r.get("type"), |t| {
                vec![t.code.clone(), t.name.clone()]
            }),
        );
        let region_id = id_of(
            "region",
            one(&regions, r.get("region"), |x| {
                vec![x.code.clone(), x.name.clone()]
            }),
        );
        let sponsor = id_of(
            "sponsor",
            one(&units, r.get("sponsor"), |u| vec![u.name.clone()]),
        );
        let active = match r.get("active").trim() {
            "" | "是" | "在册" | "yes" | "true" | "1" => Some("on".to_string()),
            _ => None,
        };
        let form = SiteForm {
            code: r.get("code").into(),
            type_id,
            name: r.get("name").into(),
            region_id,
            sponsor_unit_id: sponsor,
            chief_name: r.get("chief_name").into(),
            chief_phone: r.get("chief_phone").into(),
            address: r.get("address").into(),
            lon: r.get("lon").into(),
            lat: r.get("lat").into(),
            active,
            shape: r.get("shape").into(),
        };
        match form.parse() {
            Ok(input) => {
                if let Some((_, first)) = seen_codes.iter().find(|(c, _)| *c == input.code) {
                    problems.push(Problem {
                        place: format!("{}:code", r.row),
                        code: "duplicate_code",
                        detail: format!("{} = {first}", input.code),
                    });
                } else {
                    seen_codes.push((input.code.clone(), r.row));
                    rows.push((r.row, input));
                }
            }
            Err(e) => {
                for f in e.0 {
                    // Names resolved above already said what was wrong.
                    let field = match f.field.as_str() {
                        "type_id" => "type",
                        "region_id" => "region",
                        "sponsor_unit_id" => "sponsor",
                        other => other,
                    };
                    if !problems
                        .iter()
                        .any(|p| p.place == format!("{}:{field}", r.row))
                    {
                        problems.push(Problem {
                            place: format!("{}:{field}", r.row),
                            code: f.code,
                            detail: r.get(field).to_string(),
                        });
                    }
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(AppError::Problems(localise(auth.lang, problems)));
    }
    match site::import(&state.store, &auth.ctx(), &auth.permit()?, &rows).await {
        Ok(done) => Ok(done),
        Err(wenming_store::StoreError::Problems(p)) => {
            Err(AppError::Problems(localise(auth.lang, p)))
        }
        Err(e) => Err(e.into()),
    }
}

trait HasId {
    fn id(&self) -> Uuid;
}

impl HasId for wenming_domain::site::SiteType {
    fn id(&self) -> Uuid {
        self.id
    }
}

impl HasId for wenming_domain::org::Region {
    fn id(&self) -> Uuid {
        self.id
    }
}

impl HasId for wenming_domain::org::Unit {
    fn id(&self) -> Uuid {
        self.id
    }
}
