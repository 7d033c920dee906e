//! The API's shapes. Times are RFC 3339 in UTC.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use wenming_domain::account::{Grant, User};
use wenming_domain::org::{Region, Unit};

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub errors: Vec<ErrorItem>,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorItem {
    /// Stable machine-readable code, e.g. `required`, `not_found`, `conflict`.
    pub code: String,
    /// The problem in the caller's language (Accept-Language).
    pub message: String,
    /// The input field concerned, when there is one.
    pub field: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RegionDto {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    /// city, district, street, community or grid
    pub level: String,
    pub code: String,
    pub name: String,
    #[schema(value_type = Option<Object>)]
    pub boundary: Option<serde_json::Value>,
    /// People living there (census).
    pub population: Option<u64>,
    pub version: i64,
    pub updated_at: String,
}

impl From<Region> for RegionDto {
    fn from(r: Region) -> Self {
        RegionDto {
            id: r.id,
            parent_id: r.parent_id,
            level: r.level.code().into(),
            code: r.code,
            name: r.name,
            boundary: r.boundary,
            population: r.population,
            version: r.version,
            updated_at: r.updated_at.to_string(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct RegionBody {
    pub parent_id: Option<Uuid>,
    pub level: String,
    pub code: String,
    pub name: String,
    /// GeoJSON Polygon or MultiPolygon, WGS-84.
    #[schema(value_type = Option<Object>)]
    pub boundary: Option<serde_json::Value>,
    /// People living there (census), for survey plans and weights.
    #[serde(default)]
    pub population: Option<u64>,
    /// Required on update: the version that was read.
    pub version: Option<i64>,
}

impl RegionBody {
    pub fn form(&self) -> wenming_domain::org::RegionForm {
        wenming_domain::org::RegionForm {
            parent_id: self.parent_id.map(|p| p.to_string()).unwrap_or_default(),
            level: self.level.clone(),
            code: self.code.clone(),
            name: self.name.clone(),
            boundary: self
                .boundary
                .as_ref()
                .map(|b| b.to_string())
                .unwrap_or_default(),
            population: self.population.map(|n| n.to_string()).unwrap_or_default(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PlacementDto {
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub valid_from: String,
    pub valid_to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ContactDto {
    pub name: Option<String>,
    pub phone: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct UnitDto {
    pub id: Uuid,
    pub name: String,
    pub short_name: Option<String>,
    /// department, street_office, community, enterprise or other
    pub kind: String,
    pub region_id: Uuid,
    pub region_name: String,
    pub liaison: ContactDto,
    pub head: ContactDto,
    pub active: bool,
    pub version: i64,
    pub updated_at: String,
}

impl From<Unit> for UnitDto {
    fn from(u: Unit) -> Self {
        UnitDto {
            id: u.id,
            name: u.name,
            short_name: u.short_name,
            kind: u.kind.code().into(),
            region_id: u.region_id,
            region_name: u.region_name,
            liaison: ContactDto {
                name: u.liaison.name,
                phone: u.liaison.phone,
            },
            head: ContactDto {
                name: u.head.name,
                phone: u.head.phone,
            },
            active: u.active,
            version: u.version,
            updated_at: u.updated_at.to_string(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct UnitBody {
    pub name: String,
    pub short_name: Option<String>,
    pub kind: String,
    pub region_id: Uuid,
    pub liaison_name: Option<String>,
    pub liaison_phone: Option<String>,
    pub head_name: Option<String>,
    pub head_phone: Option<String>,
    #[serde(default = "yes")]
    pub active: bool,
    /// Required on update: the version that was read.
    pub version: Option<i64>,
}

/// Serde's default for flags that are on unless said otherwise.
pub(crate) fn yes() -> bool {
    true
}

impl UnitBody {
    pub fn form(&self) -> wenming_domain::org::UnitForm {
        let s = |o: &Option<String>| o.clone().unwrap_or_default();
        wenming_domain::org::UnitForm {
            name: self.name.clone(),
            short_name: s(&self.short_name),
            kind: self.kind.clone(),
            region_id: self.region_id.to_string(),
            liaison_name: s(&self.liaison_name),
            liaison_phone: s(&self.liaison_phone),
            head_name: s(&self.head_name),
            head_phone: s(&self.head_phone),
            active: self.active.then(|| "on".into()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    /// Rows matching the filters, on all pages.
    pub total: i64,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct GrantDto {
    pub id: Uuid,
    pub role: String,
    /// `region` or `unit`
    pub scope_kind: String,
    pub scope_id: Uuid,
    pub scope_name: String,
}

impl From<Grant> for GrantDto {
    fn from(g: Grant) -> Self {
        GrantDto {
            id: g.id,
            role: g.role.code().into(),
            scope_kind: g.scope.kind().into(),
            scope_id: g.scope.id(),
            scope_name: g.scope_name,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UserDto {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub unit_id: Option<Uuid>,
    pub active: bool,
    pub must_change_password: bool,
    pub version: i64,
}

impl From<User> for UserDto {
    fn from(u: User) -> Self {
        UserDto {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            phone: u.phone,
            unit_id: u.unit_id,
            active: u.active,
            must_change_password: u.must_change_password,
            version: u.version,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MeDto {
    pub user: UserDto,
    pub grants: Vec<GrantDto>,
    /// Actions this caller may take at all (rows are further scoped).
    pub may: Vec<String>,
    /// True when authenticated with a read-only token.
    pub read_only: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct UserBody {
    pub username: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub unit_id: Option<Uuid>,
    /// Required on creation; the user must change it at first login.
    pub password: Option<String>,
    #[serde(default = "yes")]
    pub active: bool,
    /// Required on update: the version that was read.
    pub version: Option<i64>,
}

impl UserBody {
    pub fn form(&self) -> wenming_domain::account::UserForm {
        wenming_domain::account::UserForm {
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            phone: self.phone.clone().unwrap_or_default(),
            unit_id: self.unit_id.map(|u| u.to_string()).unwrap_or_default(),
            password: self.password.clone().unwrap_or_default(),
            active: self.active.then(|| "on".into()),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct GrantBody {
    /// administrator, office, inspector, unit_staff or leader
    pub role: String,
    /// `region` (every role but unit_staff) or `unit` (unit_staff)
    pub scope_kind: String,
    pub scope_id: Uuid,
}

#[derive(Serialize, ToSchema)]
pub struct TokenDto {
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    pub read_only: bool,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl From<wenming_store::accounts::ApiToken> for TokenDto {
    fn from(t: wenming_store::accounts::ApiToken) -> Self {
        TokenDto {
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            read_only: t.read_only,
            created_at: t.created_at.to_string(),
            expires_at: t.expires_at.map(|x| x.to_string()),
            last_used_at: t.last_used_at.map(|x| x.to_string()),
            revoked_at: t.revoked_at.map(|x| x.to_string()),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct TokenBody {
    pub name: String,
    #[serde(default)]
    pub read_only: bool,
    /// Days until it expires; absent for no expiry.
    pub valid_days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct NewTokenDto {
    pub token: TokenDto,
    /// The secret, shown this once; only its hash is kept.
    pub secret: String,
}

#[derive(Serialize, ToSchema)]
pub struct AuditDto {
    pub seq: i64,
    pub at: String,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub request_id: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    pub hash: String,
}

impl From<wenming_domain::audit::AuditRecord> for AuditDto {
    fn from(r: wenming_domain::audit::AuditRecord) -> Self {
        let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        AuditDto {
            seq: r.seq,
            at: wenming_store::ts(r.at_micros).to_string(),
            actor_id: r.actor_id,
            actor_name: r.actor_name,
            request_id: r.request_id,
            action: r.action,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            before: parse(r.before_json),
            after: parse(r.after_json),
            hash: r.hash,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct VerifyDto {
    pub intact: bool,
    pub checked: u64,
    /// The first broken link, in words.
    pub problem: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PersonDto {
    pub id: Uuid,
    pub unit_id: Uuid,
    pub name: String,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub active: bool,
    pub version: i64,
}

impl From<wenming_domain::org::Person> for PersonDto {
    fn from(p: wenming_domain::org::Person) -> Self {
        PersonDto {
            id: p.id,
            unit_id: p.unit_id,
            name: p.name,
            title: p.title,
            phone: p.phone,
            active: p.active,
            version: p.version,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct PersonBody {
    pub name: String,
    pub title: Option<String>,
    pub phone: Option<String>,
    #[serde(default = "yes")]
    pub active: bool,
    /// Required on update: the version that was read.
    pub version: Option<i64>,
}

impl PersonBody {
    pub fn form(&self) -> wenming_domain::org::PersonForm {
        wenming_domain::org::PersonForm {
            name: self.name.clone(),
            title: self.title.clone().unwrap_or_default(),
            phone: self.phone.clone().unwrap_or_default(),
            active: self.active.then(|| "on".into()),
        }
    }
}
