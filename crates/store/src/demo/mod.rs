//! First start and the demo city (青岚市, made up): a region tree down to grid
//! cells with boundaries, about forty responsible units, and one account per
//! role so a newcomer can look around as each kind of user.

mod cases;
mod catalogue;
mod evidence;
mod framework;
mod rankings;
mod ratings;
mod rounds;
mod scoring;
mod sites;
mod surveys;

/// The demo's questionnaire and its two finished waves (part of `load_all`).
pub use surveys::load as load_surveys;

pub use cases::load_cases;
pub use catalogue::load_catalogue;
pub use framework::demo_framework;
use sites::load_sites;

use crate::files::Files;
use crate::{Ctx, Store, StoreError, accounts, org};
use sqlx::Row;
use wenming_domain::account::{Role, ScopeRef, UserInput};
use wenming_domain::geo::rectangle;
use wenming_domain::org::{
    Contact, PersonInput, Region, RegionInput, RegionLevel, UnitInput, UnitKind,
};
use wenming_domain::policy::{Permission, Permit, Scope};

/// Code of the city region made on first start, until someone renames it.
pub const PLACEHOLDER_CITY_CODE: &str = "CITY";
pub const ADMIN_USERNAME: &str = "admin";
/// Every demo account shares this password; the demo is for looking around.
pub const DEMO_PASSWORD: &str = "qinglan-demo";

pub struct Bootstrap {
    /// Set when this start created the administrator with a random password.
    pub generated_admin_password: Option<String>,
    pub created_admin: bool,
}

async fn setting(store: &Store, key: &str) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT value FROM app_setting WHERE key = $1")
            .bind(key)
            .fetch_optional(store.reader())
            .await?,
    )
}

/// Makes sure the city region exists: every command that opens a database
/// calls it, so a new data folder works from the command line before
/// `serve` has ever run.
/// The system's permit over the whole city, for the demo's seeded writes.
fn sys<P: Permission>(city: &Scope) -> Permit<P> {
    Permit::system(city.region_paths.first().map_or("/", String::as_str))
}

pub async fn prepare(store: &Store) -> Result<Region, StoreError> {
    if let Some(r) = org::root_region(store).await? {
        return Ok(r);
    }
    org::create_region(
        store,
        &Ctx::system("bootstrap"),
        // No city yet: the first region is the root, whose path is "/id/".
        &Permit::system("/"),
        RegionInput {
            parent_id: None,
            level: RegionLevel::City,
            code: PLACEHOLDER_CITY_CODE.into(),
            name: "本市".into(),
            boundary: None,
            population: None,
        },
    )
    .await
}

/// Makes sure a city region and an administrator exist. The administrator's
/// password comes from the caller (WENMING_ADMIN_PASSWORD) or is generated;
/// a generated one must be changed at first login.
pub async fn bootstrap(
    store: &Store,
    admin_password: Option<&str>,
) -> Result<Bootstrap, StoreError> {
    let ctx = Ctx::system("bootstrap");
    let root = prepare(store).await?;
    let city = Scope::everything(&root.path);
    if accounts::user_count(store).await? > 0 {
        return Ok(Bootstrap {
            generated_admin_password: None,
            created_admin: false,
        });
    }
    let (password, generated) = match admin_password {
        Some(p) => (p.to_string(), false),
        None => (accounts::random_hex(8), true),
    };
    let admin = accounts::create_user(
        store,
        &ctx,
        &sys(&city),
        UserInput {
            username: ADMIN_USERNAME.into(),
            display_name: "系统管理员".into(),
            phone: None,
            unit_id: None,
            password: Some(password.clone()),
            active: true,
        },
        generated,
    )
    .await?;
    accounts::add_grant(
        store,
        &ctx,
        &sys(&city),
        admin.id,
        Role::Administrator,
        ScopeRef::Region(root.id),
    )
    .await?;
    Ok(Bootstrap {
        generated_admin_password: generated.then_some(password),
        created_admin: true,
    })
}

#[derive(Debug, PartialEq, Eq)]
pub enum DemoOutcome {
    Loaded,
    AlreadyLoaded,
}

const DISTRICTS: [(&str, &str); 3] = [("LJ", "临江区"), ("FM", "凤鸣区"), ("XQ", "新桥区")];
const STREETS: [[&str; 3]; 3] = [
    ["滨江街道", "望月街道", "柳岸街道"],
    ["凤凰街道", "鸣翠街道", "梧桐街道"],
    ["新桥街道", "长乐街道", "兴业街道"],
];
const COMMUNITY_SUFFIXES: [&str; 3] = ["东苑社区", "南园社区", "西湖社区"];

/// City-level bodies that own standards and fix problems, with the street
/// offices and district bureaus added below.
const CITY_UNITS: [(&str, &str, UnitKind); 22] = [
    ("市委宣传部（市文明办）", "文明办", UnitKind::Department),
    ("市城市管理局", "城管局", UnitKind::Department),
    ("市公安局交通警察支队", "交警支队", UnitKind::Department),
    ("市市场监督管理局", "市场监管局", UnitKind::Department),
    ("市生态环境局", "生态环境局", UnitKind::Department),
    ("市住房和城乡建设局", "住建局", UnitKind::Department),
    ("市交通运输局", "交通局", UnitKind::Department),
    ("市卫生健康委员会", "卫健委", UnitKind::Department),
    ("市教育局", "教育局", UnitKind::Department),
    ("市文化广电旅游局", "文广旅局", UnitKind::Department),
    ("市民政局", "民政局", UnitKind::Department),
    ("市商务局", "商务局", UnitKind::Department),
    ("市自然资源和规划局", "自然资源局", UnitKind::Department),
    ("市水务局", "水务局", UnitKind::Department),
    ("市应急管理局", "应急局", UnitKind::Department),
    ("市园林绿化中心", "园林中心", UnitKind::Department),
    ("市环境卫生管理处", "环卫处", UnitKind::Department),
    ("市政务服务管理办公室", "政务办", UnitKind::Department),
    ("团市委", "团市委", UnitKind::Department),
    ("市公共交通集团有限公司", "公交集团", UnitKind::Enterprise),
    ("市城市建设投资集团", "城投集团", UnitKind::Enterprise),
    ("国网青岚供电公司", "供电公司", UnitKind::Enterprise),
];

const SURNAMES: [&str; 12] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙",
];
const GIVEN: [&str; 12] = [
    "伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "涛", "明",
];

fn person(i: usize) -> String {
    format!(
        "{}{}",
        SURNAMES[i % SURNAMES.len()],
        GIVEN[(i * 7 + 3) % GIVEN.len()]
    )
}

fn mobile(i: usize) -> String {
    format!("139{:08}", 57_000_000 + i * 7919 % 1_000_000)
}

/// The placeholder city of a new database, or why the demo may not load
/// here (a real city is in it).
pub async fn check_empty(store: &Store) -> Result<Region, StoreError> {
    let root = org::root_region(store).await?.ok_or_else(|| {
        StoreError::Corrupt("no city region; start wenming once before loading the demo".into())
    })?;
    let regions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM region")
        .fetch_one(store.reader())
        .await?;
    if root.code != PLACEHOLDER_CITY_CODE || regions > 1 {
        return Err(StoreError::Corrupt(
            "this database already holds a real city; the demo city loads only into a new database"
                .into(),
        ));
    }
    Ok(root)
}

pub async fn load(store: &Store) -> Result<DemoOutcome, StoreError> {
    if setting(store, "demo_loaded").await?.is_some() {
        return Ok(DemoOutcome::AlreadyLoaded);
    }
    let ctx = Ctx::system("demo");
    let root = check_empty(store).await?;
    let everything = Scope::everything(&root.path);
    // The city spans 0.36° square; each level splits its parent in three.
    let (lon0, lat0, span) = (118.60_f64, 31.20_f64, 0.36_f64);
    let city = org::update_region(
        store,
        &ctx,
        &sys(&everything),
        root.id,
        root.version,
        RegionInput {
            parent_id: None,
            level: RegionLevel::City,
            code: "QL".into(),
            name: "青岚市".into(),
            boundary: Some(rectangle(lon0, lat0, lon0 + span, lat0 + span)),
            population: None,
        },
    )
    .await?;
    let mut streets: Vec<Region> = vec![];
    let mut districts: Vec<Region> = vec![];
    // One model community per district gets its residents' committee as a unit.
    let mut model_communities: Vec<Region> = vec![];
    for (d, (dcode, dname)) in DISTRICTS.iter().enumerate() {
        let dw = span / 3.0;
        let dx = lon0 + dw * d as f64;
        let district = region(
            store,
            &ctx,
            &sys(&everything),
            &city,
            RegionLevel::District,
            dcode.to_string(),
            dname,
            (dx, lat0, dx + dw, lat0 + span),
        )
        .await?;
        for (s, sname) in STREETS[d].iter().enumerate() {
            let sh = span / 3.0;
            let sy = lat0 + sh * s as f64;
            let scode = format!("{dcode}{:02}", s + 1);
            let street = region(
                store,
                &ctx,
                &sys(&everything),
                &district,
                RegionLevel::Street,
                scode.clone(),
                sname,
                (dx, sy, dx + dw, sy + sh),
            )
            .await?;
            for (c, csuffix) in COMMUNITY_SUFFIXES.iter().enumerate() {
                let cw = dw / 3.0;
                let cx = dx + cw * c as f64;
                let ccode = format!("{scode}{:02}", c + 1);
                let cname = format!("{}{}", sname.trim_end_matches("街道"), csuffix);
                let community = region(
                    store,
                    &ctx,
                    &sys(&everything),
                    &street,
                    RegionLevel::Community,
                    ccode.clone(),
                    &cname,
                    (cx, sy, cx + cw, sy + sh),
                )
                .await?;
                if s == 0 && c == 0 {
                    model_communities.push(community.clone());
                }
                for g in 0..3 {
                    let gh = sh / 3.0;
                    let gy = sy + gh * g as f64;
                    let gcode = format!("{ccode}{:02}", g + 1);
                    let gname = format!("{}第{}网格", cname.trim_end_matches("社区"), g + 1);
                    region(
                        store,
                        &ctx,
                        &sys(&everything),
                        &community,
                        RegionLevel::Grid,
                        gcode,
                        &gname,
                        (cx, gy, cx + cw, gy + gh),
                    )
                    .await?;
                }
            }
            streets.push(street);
        }
        districts.push(district);
    }

    let mut n = 0usize;
    let mut unit = |name: String, short: Option<String>, kind: UnitKind, region_id| {
        n += 1;
        let i = n;
        let everything = everything.clone();
        let ctx = ctx.clone();
        async move {
            org::create_unit(
                store,
                &ctx,
                &sys(&everything),
                UnitInput {
                    name,
                    short_name: short,
                    kind,
                    region_id,
                    liaison: Contact {
                        name: Some(person(i * 2)),
                        phone: Some(mobile(i * 2)),
                    },
                    head: Contact {
                        name: Some(person(i * 2 + 1)),
                        phone: Some(mobile(i * 2 + 1)),
                    },
                    active: true,
                },
            )
            .await
        }
    };
    let mut city_units = vec![];
    for (name, short, kind) in CITY_UNITS {
        city_units.push(unit(name.into(), Some(short.into()), kind, city.id).await?);
    }
    for district in &districts {
        for (suffix, short) in [
            ("城市管理局", "城管局"),
            ("市场监督管理分局", "市场监管分局"),
        ] {
            unit(
                format!("{}{suffix}", district.name),
                Some(format!("{}{short}", district.name.trim_end_matches('区'))),
                UnitKind::Department,
                district.id,
            )
            .await?;
        }
    }
    for street in &streets {
        unit(
            format!("{}办事处", street.name),
            None,
            UnitKind::StreetOffice,
            street.id,
        )
        .await?;
    }
    for community in &model_communities {
        let stem = community.name.trim_end_matches("社区");
        unit(
            format!("{stem}居民委员会"),
            Some(format!("{stem}居委会")),
            UnitKind::Community,
            community.id,
        )
        .await?;
    }

    const POSTS: [&str; 3] = ["办公室主任", "业务科科长", "创建工作专员"];
    for (i, u) in city_units.iter().enumerate() {
        for (j, post) in POSTS.iter().enumerate() {
            let k = 100 + i * POSTS.len() + j;
            org::create_person(
                store,
                &ctx,
                &sys(&everything),
                u.id,
                PersonInput {
                    name: person(k),
                    title: Some((*post).into()),
                    phone: Some(mobile(k)),
                    active: true,
                },
            )
            .await?;
        }
    }

    let unit_staff_unit = city_units[1].id; // 市城市管理局
    let inspector_district = districts[0].id;
    let people = [
        (
            "office",
            "陈建华",
            Role::Office,
            ScopeRef::Region(city.id),
            Some(city_units[0].id),
        ),
        (
            "inspector",
            "刘晓东",
            Role::Inspector,
            ScopeRef::Region(inspector_district),
            None,
        ),
        (
            "inspector2",
            "孙丽娜",
            Role::Inspector,
            ScopeRef::Region(districts[1].id),
            None,
        ),
        (
            "inspector3",
            "周强",
            Role::Inspector,
            ScopeRef::Region(districts[2].id),
            None,
        ),
        (
            "unit",
            "王丽",
            Role::UnitStaff,
            ScopeRef::Unit(unit_staff_unit),
            Some(unit_staff_unit),
        ),
        (
            "leader",
            "赵国强",
            Role::Leader,
            ScopeRef::Region(city.id),
            None,
        ),
    ];
    for (i, (username, name, role, scope, unit_id)) in people.into_iter().enumerate() {
        let user = accounts::create_user(
            store,
            &ctx,
            &sys(&everything),
            UserInput {
                username: username.into(),
                display_name: name.into(),
                phone: Some(format!("1380000000{}", i + 1)),
                unit_id,
                password: Some(DEMO_PASSWORD.into()),
                active: true,
            },
            false,
        )
        .await?;
        accounts::add_grant(store, &ctx, &sys(&everything), user.id, role, scope).await?;
    }
    let (framework_id, _) =
        crate::framework::import(store, &ctx, &sys(&everything), &demo_framework(), false).await?;
    let f = crate::framework::get(store, framework_id).await?;
    crate::framework::set_status(
        store,
        &ctx,
        &sys(&everything),
        framework_id,
        f.version,
        wenming_domain::framework::FrameworkStatus::Active,
    )
    .await?;
    demo_tasks(store, &ctx, framework_id).await?;
    let mut tx = store.begin().await?;
    sqlx::query("INSERT INTO app_setting (key, value) VALUES ('demo_loaded', $1)")
        .bind(crate::now_micros().to_string())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    load_sites(store, &ctx, &everything).await?;
    // The holidays just entered mark the month tallies for rebuilding.
    crate::case::tally::rebuild(store).await?;
    Ok(DemoOutcome::Loaded)
}

/// Most standards assigned with a mid-2027 deadline; the living
/// environment was due at the end of October 2026, and some units have
/// reported progress, so the task lists show every state.
async fn demo_tasks(store: &Store, ctx: &Ctx, framework_id: uuid::Uuid) -> Result<(), StoreError> {
    use crate::task::{Selection, bulk_assign, list, report_progress};
    let city = crate::org::whole_city(store).await?;
    let date = |y, m, d| jiff::civil::date(y, m, d);
    let living = Selection {
        under_code: Some("5".into()),
        ..Default::default()
    };
    bulk_assign(
        store,
        ctx,
        &sys(&city),
        framework_id,
        &living,
        "2026年10月底前整改到位",
        date(2026, 10, 31),
        None,
        false,
    )
    .await?;
    bulk_assign(
        store,
        ctx,
        &sys(&city),
        framework_id,
        &Selection::default(),
        "达到测评标准要求，台账完整",
        date(2027, 6, 30),
        None,
        false,
    )
    .await?;
    let root = org::root_region(store).await?.ok_or(StoreError::NotFound)?;
    let everything = Scope::everything(&root.path);
    let filter = crate::task::TaskFilter {
        framework_id: Some(framework_id),
        ..Default::default()
    };
    for (i, t) in list(store, &everything, &filter)
        .await?
        .into_iter()
        .enumerate()
    {
        let (percent, note) = match i % 5 {
            0 => (100, "已完成，材料已归档"),
            1 => (60, "正在整改，已完成主要路段"),
            2 => (30, "已制定方案，开始实施"),
            _ => continue,
        };
        report_progress(
            store,
            ctx,
            &sys(&everything),
            t.id,
            t.version,
            percent,
            Some(note.into()),
        )
        .await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn region(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<wenming_domain::policy::may::ManageRegions>,
    parent: &Region,
    level: RegionLevel,
    code: String,
    name: &str,
    (x0, y0, x1, y1): (f64, f64, f64, f64),
) -> Result<Region, StoreError> {
    let round = |v: f64| (v * 1e6).round() / 1e6;
    let population = (level == RegionLevel::Community).then(|| community_population(&code));
    org::create_region(
        store,
        ctx,
        permit,
        RegionInput {
            parent_id: Some(parent.id),
            level,
            code,
            name: name.into(),
            boundary: Some(rectangle(round(x0), round(y0), round(x1), round(y1))),
            population,
        },
    )
    .await
}

/// A community's residents, 6,000 to 14,000, fixed by its code.
fn community_population(code: &str) -> u64 {
    let h = code
        .bytes()
        .fold(2166136261u32, |h, b| (h ^ b as u32).wrapping_mul(16777619));
    6_000 + (h % 8_001) as u64
}

/// Whether the demo is loaded, for the login page's hint.
pub async fn is_loaded(store: &Store) -> Result<bool, StoreError> {
    Ok(setting(store, "demo_loaded").await?.is_some())
}

/// Rows in a table, for tests and diagnostics. Only plain table names are
/// accepted, since a name cannot be a bound parameter.
#[doc(hidden)]
pub async fn row_count(store: &Store, table: &str) -> Result<i64, StoreError> {
    if !table.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
        return Err(StoreError::Corrupt(format!("not a table name: {table}")));
    }
    let row = sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(store.reader())
        .await?;
    Ok(row.try_get(0)?)
}

pub async fn load_all(store: &Store, files: &Files) -> Result<DemoOutcome, StoreError> {
    load_all_telling(store, files, |_| {}).await
}

/// A part of the demo, loaded: said as it finishes, so that whoever waits
/// sees the load move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoPart {
    City,
    Cases,
    Rounds,
    Evidence,
    Tallies,
}

/// As `load_all`, telling `done` each part as it is loaded.
pub async fn load_all_telling(
    store: &Store,
    files: &Files,
    mut done: impl FnMut(DemoPart),
) -> Result<DemoOutcome, StoreError> {
    let outcome = load(store).await?;
    if outcome == DemoOutcome::Loaded {
        done(DemoPart::City);
        load_cases(store, files).await?;
        done(DemoPart::Cases);
        rounds::load(store, files).await?;
        done(DemoPart::Rounds);
        evidence::load(store, files).await?;
        surveys::load(store).await?;
        done(DemoPart::Evidence);
        // The demo's cases are moved back in time after they are made.
        crate::case::tally::rebuild(store).await?;
        done(DemoPart::Tallies);
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use wenming_domain::framework::{Method, standards, validate};

    #[test]
    fn the_demo_framework_is_complete_and_adds_up() {
        let doc = super::demo_framework();
        let t = validate(&doc).unwrap_or_else(|p| panic!("{p:?}"));
        assert!(t.standards >= 100, "{} standards", t.standards);
        assert_eq!((t.basic.0, t.featured.0), (10_000, 2_000));
        assert_eq!(doc.tree.len(), 7, "the seven parts of the 2011 framework");
        let all = standards(&doc);
        for m in Method::ALL {
            assert!(
                all.iter()
                    .any(|(_, s)| s.standard.as_ref().unwrap().methods.contains(m)),
                "{m:?} is used"
            );
        }
        let units: Vec<&str> = super::CITY_UNITS.iter().map(|u| u.0).collect();
        for (_, s) in &all {
            let spec = s.standard.as_ref().unwrap();
            for u in spec.lead_unit.iter().chain(spec.cooperating_units.iter()) {
                assert!(units.contains(&u.as_str()), "{u} is a demo unit");
            }
        }
    }
}
