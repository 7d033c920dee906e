//! First start and the demo city (青岚市, made up): a region tree down to grid
//! cells with boundaries, about forty responsible units, and one account per
//! role so a newcomer can look around as each kind of user.

use crate::files::Files;
use crate::{Ctx, Store, StoreError, accounts, org};
use sqlx::Row;
use wenming_domain::account::{Role, ScopeRef, UserInput};
use wenming_domain::geo::rectangle;
use wenming_domain::org::{
    Contact, PersonInput, Region, RegionInput, RegionLevel, UnitInput, UnitKind,
};
use wenming_domain::policy::{Permission, Permit, Scope};
use wenming_domain::site::Geometry;

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

pub async fn load(store: &Store) -> Result<DemoOutcome, StoreError> {
    if setting(store, "demo_loaded").await?.is_some() {
        return Ok(DemoOutcome::AlreadyLoaded);
    }
    let ctx = Ctx::system("demo");
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
        },
    )
    .await
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

/// The demo framework: the seven parts of the 2011 national framework with
/// indicators and standards of our own wording (`demo/framework.txt`).
pub fn demo_framework() -> wenming_domain::framework::FrameworkDoc {
    use wenming_domain::framework::*;
    let mut tree: Vec<NodeDoc> = vec![];
    for line in include_str!("../demo/framework.txt").lines() {
        let node = |kind, title: &str| NodeDoc {
            kind,
            code: None,
            title: title.trim().to_string(),
            points: None,
            standard: None,
            children: vec![],
        };
        if let Some(t) = line.strip_prefix("== ") {
            if let Some(a) = tree.last_mut() {
                a.children.push(node(NodeKind::Indicator, t));
            }
        } else if let Some(t) = line.strip_prefix("= ") {
            tree.push(node(NodeKind::Aspect, t));
        } else if let Some(t) = line.strip_prefix("- ") {
            let f: Vec<&str> = t.split('|').map(str::trim).collect();
            let featured = f[0].starts_with('★');
            let list = |i: usize| -> Vec<String> {
                f.get(i)
                    .map(|s| parse_list(s, |x| Some(x.to_string())).unwrap_or_default())
                    .unwrap_or_default()
            };
            let points = f
                .get(6)
                .and_then(|p| Points::parse(p))
                .unwrap_or(if featured { Points(200) } else { Points(100) });
            let standard = StandardSpec {
                points,
                methods: parse_list(f[1], Method::parse).expect("demo methods are valid"),
                featured,
                site_types: list(4),
                evidence_types: parse_list(f.get(5).copied().unwrap_or(""), EvidenceType::parse)
                    .expect("demo evidence types are valid"),
                lead_unit: Some(f[2].to_string()).filter(|s| !s.is_empty()),
                cooperating_units: list(3),
                observation: f
                    .get(7)
                    .map(|o| {
                        wenming_domain::site::Observation::parse_text(o)
                            .expect("demo rules are valid")
                    })
                    .filter(|o| *o != wenming_domain::site::Observation::PassFail),
            };
            let mut n = node(NodeKind::Standard, f[0].trim_start_matches('★'));
            n.standard = Some(standard);
            if let Some(ind) = tree.last_mut().and_then(|a| a.children.last_mut()) {
                ind.children.push(n);
            }
        }
    }
    assign_codes(&mut tree);
    let part = |name: &str, w: i64| WeightedPart {
        name: name.into(),
        weight: Points(w * 100),
    };
    let rule = |code: &str, rule: &str, sanction, deduct: Option<i64>| NegativeListRule {
        code: code.into(),
        rule: rule.into(),
        sanction,
        deduct: deduct.map(Points),
        lookback_months: 12,
    };
    FrameworkDoc {
        format: FORMAT.into(),
        name: "青岚市文明城市测评体系（示范）".into(),
        year: 2026,
        status: FrameworkStatus::Draft,
        basic_total: Some(Points(10_000)),
        featured_total: Some(Points(2_000)),
        settings: Settings {
            method_weights: vec![
                part("网上材料申报", 40),
                part("实地测评", 40),
                part("问卷调查", 20),
            ],
            cycle_weights: vec![Points(1_500), Points(2_500), Points(6_000)],
            gates: vec![Gate {
                name: "未成年人思想道德建设测评".into(),
                min_score: Points(8_500),
                weight: Points(2_000),
            }],
            negative_list: vec![
                rule(
                    "N1",
                    "发生在全国造成重大影响的安全生产责任事故",
                    Sanction::DeductPoints,
                    Some(300),
                ),
                rule(
                    "N2",
                    "发生严重危害群众健康的食品药品安全事件",
                    Sanction::DeductPoints,
                    Some(200),
                ),
                rule(
                    "N3",
                    "测评材料弄虚作假、组织群众应付测评",
                    Sanction::StopNomination,
                    None,
                ),
                rule(
                    "N4",
                    "发生严重违背社会公德、影响恶劣的群体性事件",
                    Sanction::Suspend,
                    None,
                ),
            ],
        },
        tree,
    }
}

/// The demo's problem catalogue: (class code, class, [(subclass code,
/// subclass, hours or days, amount, framework standard codes, site types)]).
type Sub = (
    &'static str,
    &'static str,
    &'static str,
    i64,
    &'static [&'static str],
    &'static [&'static str],
);
const CATEGORIES: [(&str, &str, &[Sub]); 13] = [
    (
        "01",
        "市容环境",
        &[
            (
                "0101",
                "道路积存垃圾",
                "hours",
                4,
                &["5.2.1", "5.2.4"],
                &["主次干道", "背街小巷"],
            ),
            (
                "0102",
                "垃圾桶满溢",
                "hours",
                4,
                &["5.2.3"],
                &["居民小区", "公园广场"],
            ),
            (
                "0103",
                "公厕脏乱",
                "hours",
                8,
                &["5.2.2"],
                &["公园广场", "车站"],
            ),
            ("0104", "积水", "hours", 24, &["5.1.1"], &["主次干道"]),
            (
                "0105",
                "病媒生物滋生",
                "days",
                3,
                &["5.2.5"],
                &["农贸市场", "居民小区"],
            ),
        ],
    ),
    (
        "02",
        "五乱治理",
        &[
            (
                "0201",
                "占道经营",
                "hours",
                2,
                &["3.2.5"],
                &["商业大街", "背街小巷"],
            ),
            (
                "0202",
                "乱停乱放",
                "hours",
                2,
                &["5.3.2", "4.4.2"],
                &["主次干道", "公交站点"],
            ),
            (
                "0203",
                "乱搭乱建",
                "days",
                10,
                &["5.1.5"],
                &["居民小区", "背街小巷"],
            ),
            (
                "0204",
                "乱扔乱倒",
                "hours",
                4,
                &["4.4.4"],
                &["公园广场", "商业大街"],
            ),
            (
                "0205",
                "工地围挡渣土不规范",
                "hours",
                24,
                &["5.1.6"],
                &["建筑工地"],
            ),
        ],
    ),
    (
        "03",
        "违规张贴",
        &[
            (
                "0301",
                "牛皮癣广告",
                "hours",
                8,
                &["5.1.3"],
                &["背街小巷", "居民小区"],
            ),
            ("0302", "乱涂乱画", "days", 2, &["5.1.3"], &["主次干道"]),
        ],
    ),
    (
        "04",
        "门前三包",
        &[
            ("0401", "店外经营", "hours", 4, &["5.1.5"], &["商业大街"]),
            (
                "0402",
                "门前卫生不洁",
                "hours",
                4,
                &["5.1.5"],
                &["商业大街"],
            ),
            (
                "0403",
                "店招广告不规范",
                "days",
                5,
                &["5.1.4"],
                &["商业大街"],
            ),
        ],
    ),
    (
        "05",
        "公益宣传",
        &[
            (
                "0501",
                "公益广告缺失破损",
                "days",
                3,
                &["4.1.1", "4.1.2"],
                &["主次干道", "公园广场"],
            ),
            (
                "0502",
                "宣传栏内容过期",
                "days",
                5,
                &["2.2.2"],
                &["公园广场"],
            ),
        ],
    ),
    (
        "06",
        "公共设施",
        &[
            ("0601", "路灯不亮", "days", 2, &["5.1.2"], &["背街小巷"]),
            ("0602", "路面破损", "days", 5, &["5.1.1"], &["主次干道"]),
            (
                "0603",
                "盲道被占或损坏",
                "days",
                3,
                &["5.3.2"],
                &["主次干道"],
            ),
            ("0604", "公交站牌损坏", "days", 3, &["5.3.3"], &["公交站点"]),
        ],
    ),
    (
        "07",
        "交通秩序",
        &[
            (
                "0701",
                "行人闯红灯",
                "hours",
                24,
                &["4.4.1", "4.5.6"],
                &["重要路口"],
            ),
            ("0702", "交通标线不清", "days", 7, &["5.3.1"], &["重要路口"]),
            (
                "0703",
                "候车秩序混乱",
                "hours",
                24,
                &["4.4.3"],
                &["公交站点"],
            ),
            (
                "0704",
                "营运车辆车容不洁",
                "days",
                2,
                &["3.4.2"],
                &["公交站点"],
            ),
        ],
    ),
    (
        "08",
        "市场秩序",
        &[
            (
                "0801",
                "农贸市场脏乱",
                "hours",
                8,
                &["3.2.1"],
                &["农贸市场"],
            ),
            (
                "0802",
                "未明码标价",
                "days",
                2,
                &["3.2.3"],
                &["农贸市场", "商业大街"],
            ),
            ("0803", "公平秤缺失", "days", 2, &["3.2.2"], &["农贸市场"]),
            (
                "0804",
                "经营服务公示缺失",
                "days",
                5,
                &["3.3.2", "3.4.3"],
                &["商业大街"],
            ),
        ],
    ),
    (
        "09",
        "窗口服务",
        &[
            (
                "0901",
                "窗口服务不规范",
                "days",
                1,
                &["1.1.3", "1.2.1", "1.3.4", "3.4.1", "5.5.1"],
                &["政务服务窗口", "医院", "车站"],
            ),
            (
                "0902",
                "无障碍便民设施缺失",
                "days",
                5,
                &["1.2.3"],
                &["政务服务窗口"],
            ),
        ],
    ),
    (
        "10",
        "社区服务",
        &[
            (
                "1001",
                "社区公开与服务缺失",
                "days",
                3,
                &[
                    "2.1.2", "2.2.4", "4.3.3", "5.4.1", "5.4.3", "5.4.4", "5.5.4",
                ],
                &["社区服务中心", "居民小区"],
            ),
            ("1002", "楼道堆物", "hours", 24, &["5.4.2"], &["居民小区"]),
        ],
    ),
    (
        "11",
        "公共安全",
        &[
            (
                "1101",
                "消防通道堵塞",
                "hours",
                4,
                &["2.3.5"],
                &["农贸市场", "文化场馆", "医院"],
            ),
            (
                "1102",
                "监控设施故障",
                "days",
                3,
                &["2.3.3"],
                &["车站", "重要路口"],
            ),
        ],
    ),
    (
        "12",
        "文教卫场所",
        &[
            (
                "1201",
                "场馆未按规定开放",
                "days",
                2,
                &["4.2.2", "4.3.1"],
                &["文化场馆"],
            ),
            (
                "1202",
                "校园周边秩序",
                "hours",
                8,
                &["4.2.1"],
                &["学校周边"],
            ),
            (
                "1203",
                "公共场所吸烟",
                "hours",
                4,
                &["4.4.5"],
                &["医院", "文化场馆"],
            ),
            (
                "1204",
                "志愿服务站点未运行",
                "days",
                2,
                &["4.5.2"],
                &["车站", "公园广场", "医院"],
            ),
        ],
    ),
    (
        "13",
        "园林水务",
        &[
            ("1301", "绿地黄土裸露", "days", 5, &["6.2.2"], &["公园广场"]),
            ("1302", "毁绿占绿", "days", 2, &["6.2.3"], &["主次干道"]),
            ("1303", "黑臭水体", "days", 10, &["6.1.3"], &[]),
        ],
    ),
];

/// Which unit each class goes to by default.
const CLASS_UNITS: [(&str, &str); 13] = [
    ("01", "市环境卫生管理处"),
    ("02", "市城市管理局"),
    ("03", "市城市管理局"),
    ("04", "市城市管理局"),
    ("05", "市委宣传部（市文明办）"),
    ("06", "市住房和城乡建设局"),
    ("07", "市公安局交通警察支队"),
    ("08", "市市场监督管理局"),
    ("09", "市政务服务管理办公室"),
    ("10", "市民政局"),
    ("11", "市应急管理局"),
    ("12", "市文化广电旅游局"),
    ("13", "市园林绿化中心"),
];

/// Categories, routing rules and the 2026-27 holidays.
pub async fn load_catalogue(store: &Store) -> Result<Vec<crate::case::Category>, StoreError> {
    use crate::case::{self, CategoryInput};
    let city = crate::org::whole_city(store).await?;
    use wenming_domain::case::HandlingTime;
    let ctx = Ctx::system("demo");
    let mut subclasses = vec![];
    for (code, name, subs) in CATEGORIES {
        let class = case::create_category(
            store,
            &ctx,
            &sys(&city),
            CategoryInput {
                parent_id: None,
                code: code.into(),
                name: name.into(),
                handling_time: None,
                duplicate_radius_m: None,
                standard_codes: vec![],
                site_types: vec![],
                active: true,
            },
        )
        .await?;
        let unit = CLASS_UNITS
            .iter()
            .find(|c| c.0 == code)
            .map(|c| c.1)
            .unwrap_or("市城市管理局");
        let unit = org::find_unit_by_name(store, unit)
            .await?
            .ok_or(StoreError::NotFound)?;
        case::add_routing_rule(store, &ctx, &sys(&city), Some(class.id), None, unit.id).await?;
        for (scode, sname, kind, amount, standards, sites) in subs.iter() {
            let ht = if *kind == "hours" {
                HandlingTime::Hours(*amount as u32)
            } else {
                HandlingTime::Days(*amount as u32)
            };
            let sub = case::create_category(
                store,
                &ctx,
                &sys(&city),
                CategoryInput {
                    parent_id: Some(class.id),
                    code: (*scode).into(),
                    name: (*sname).into(),
                    handling_time: Some(ht),
                    duplicate_radius_m: Some(50),
                    standard_codes: standards.iter().map(|s| s.to_string()).collect(),
                    site_types: sites.iter().map(|s| s.to_string()).collect(),
                    active: true,
                },
            )
            .await?;
            subclasses.push(sub);
        }
    }
    // In 临江区 illegal posters go to the district's own bureau.
    let district_rules = [("LJ", "临江区城市管理局"), ("FM", "凤鸣区城市管理局")];
    let posters = subclasses.iter().find(|c| c.code == "0301").map(|c| c.id);
    for (code, unit) in district_rules {
        let region: Option<String> = sqlx::query_scalar("SELECT id FROM region WHERE code = $1")
            .bind(code)
            .fetch_optional(store.reader())
            .await?;
        let unit = org::find_unit_by_name(store, unit).await?;
        if let (Some(r), Some(u)) = (region, unit) {
            case::add_routing_rule(
                store,
                &ctx,
                &sys(&city),
                posters,
                Some(crate::org::parse_uuid(&r)?),
                u.id,
            )
            .await?;
        }
    }
    for d in 1..=7 {
        case::set_calendar_day(
            store,
            &ctx,
            &sys(&city),
            jiff::civil::date(2026, 10, d),
            false,
            "国庆节",
        )
        .await?;
    }
    case::set_calendar_day(
        store,
        &ctx,
        &sys(&city),
        jiff::civil::date(2026, 10, 10),
        true,
        "国庆节调休",
    )
    .await?;
    for d in 1..=3 {
        case::set_calendar_day(
            store,
            &ctx,
            &sys(&city),
            jiff::civil::date(2027, 1, d),
            false,
            "元旦",
        )
        .await?;
    }
    Ok(subclasses)
}

/// The catalogue, then a few hundred cases walked through the workflow as
/// far as a pseudo-random draw says, spread over the grid.
pub async fn load_cases(store: &Store, files: &Files) -> Result<usize, StoreError> {
    use crate::case;
    use wenming_domain::case::{Ask, CaseActor, IntakeInput, Source, Step};
    let subclasses = load_catalogue(store).await?;

    // Cases: placed in grid cells, walked through the workflow as far as a
    // pseudo-random draw says, by the demo office and the unit's staff.
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC);
    let everything = crate::org::whole_city(store).await?;
    let rules = crate::photo::PhotoRules::default();
    let office_id: Option<String> =
        sqlx::query_scalar("SELECT id FROM app_user WHERE username = 'office'")
            .fetch_optional(store.reader())
            .await?;
    let inspector_id: Option<String> =
        sqlx::query_scalar("SELECT id FROM app_user WHERE username = 'inspector'")
            .fetch_optional(store.reader())
            .await?;
    let office = CaseActor {
        user_id: office_id
            .as_deref()
            .map(crate::org::parse_uuid)
            .transpose()?
            .unwrap_or_default(),
        office: true,
        verifier: true,
        units: vec![],
        home_unit: None,
    };
    let inspector = CaseActor {
        user_id: inspector_id
            .as_deref()
            .map(crate::org::parse_uuid)
            .transpose()?
            .unwrap_or_default(),
        office: false,
        verifier: true,
        units: vec![],
        home_unit: None,
    };
    let office_ctx = Ctx {
        actor_id: Some(office.user_id),
        actor_name: "陈建华 (office)".into(),
        request_id: None,
    };
    let inspector_ctx = Ctx {
        actor_id: Some(inspector.user_id),
        actor_name: "刘晓东 (inspector)".into(),
        request_id: None,
    };
    let phrases = [
        "群众多次反映，影响通行",
        "督查巡查时发现",
        "市民随手拍上报，附现场描述",
        "12345 热线转来，要求尽快处理",
        "第三方测评暗访发现",
        "位于学校附近，家长意见较大",
    ];
    let sources = [
        Source::Citizen,
        Source::Inspection,
        Source::Inspection,
        Source::Hotline,
        Source::ThirdParty,
        Source::Leader,
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (lon0, lat0, span) = (118.60_f64, 31.20_f64, 0.36_f64);
    let total = 240;
    for i in 0..total {
        let r = next();
        let cat = &subclasses[(r % subclasses.len() as u64) as usize];
        let lon = lon0 + 0.001 + (next() % 10_000) as f64 / 10_000.0 * (span - 0.002);
        let lat = lat0 + 0.001 + (next() % 10_000) as f64 / 10_000.0 * (span - 0.002);
        let point = wenming_domain::geo::Point { lon, lat };
        // A photo of the problem, taken when it was reported.
        let before = demo_photo(store, files, &office_ctx, i as u64, point).await?;
        let input = IntakeInput {
            photo_ids: vec![before],
            client_id: None,
            source: sources[(next() % sources.len() as u64) as usize],
            category_id: cat.id,
            description: format!("{}：{}", cat.name, phrases[i % phrases.len()]),
            point: Some(point),
            address: None,
            reporter_name: None,
            reporter_phone: None,
        };
        let c = case::intake(store, &office_ctx, &sys(&everything), &input, &rules, &tz).await?;
        let stage = next() % 100;
        if stage < 8 {
            continue; // still waiting to be registered
        }
        let act_with =
            |c: &case::Case, actor: &CaseActor, ctx: &Ctx, s: Step, photos: Vec<uuid::Uuid>| {
                let (actor, ctx) = (actor.clone(), ctx.clone());
                let (id, v) = (c.id, c.version);
                let everything = everything.clone();
                let rules = rules.clone();
                async move {
                    let photos = case::StepPhotos {
                        ids: &photos,
                        rules: &rules,
                    };
                    case::step(store, &ctx, &sys(&everything), &actor, id, v, &s, &photos)
                        .await
                        .map_err(|e| match e {
                            case::StepError::Store(e) => e,
                            case::StepError::Refused(r) => {
                                StoreError::Corrupt(format!("demo step refused: {r}"))
                            }
                        })
                }
            };
        let act = |c: &case::Case, actor: &CaseActor, ctx: &Ctx, s: Step| {
            act_with(c, actor, ctx, s, vec![])
        };
        if stage < 11 {
            act(
                &c,
                &office,
                &office_ctx,
                Step::Reject {
                    reason: "不属于城市管理范围".into(),
                },
            )
            .await?;
            continue;
        }
        let c = act(&c, &office, &office_ctx, Step::Register).await?;
        let Some(unit) = c.suggested_unit_id else {
            continue;
        };
        // Deadlines in the demo are days ahead or (for a share) already past.
        let days = if stage % 4 == 0 { 1 } else { 10 };
        let deadline = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * days);
        let c = act(&c, &office, &office_ctx, Step::Dispatch { unit, deadline }).await?;
        if stage < 30 {
            continue; // with the unit
        }
        let staff_id: Option<String> =
            sqlx::query_scalar("SELECT id FROM app_user WHERE unit_id = $1 LIMIT 1")
                .bind(unit.to_string())
                .fetch_optional(store.reader())
                .await?;
        let staff = CaseActor {
            user_id: staff_id
                .as_deref()
                .map(crate::org::parse_uuid)
                .transpose()?
                .unwrap_or_else(|| uuid::Uuid::from_u128(unit.as_u128() ^ 1)),
            office: false,
            verifier: false,
            units: vec![unit],
            home_unit: Some(unit),
        };
        let staff_ctx = Ctx {
            actor_id: Some(staff.user_id),
            actor_name: "责任单位经办人".into(),
            request_id: None,
        };
        if stage < 36 {
            let ask = if stage % 2 == 0 {
                Ask::Extend {
                    until: deadline + jiff::SignedDuration::from_hours(72),
                }
            } else {
                Ask::Park
            };
            act(
                &c,
                &staff,
                &staff_ctx,
                Step::Ask {
                    ask,
                    reason: "需协调相关部门".into(),
                },
            )
            .await?;
            continue;
        }
        // One rectification in twenty-five hands in the problem's own
        // photo as the "after" picture: the verifier sees it flagged.
        let seed = if i % 25 == 7 {
            i as u64
        } else {
            100_000 + i as u64
        };
        let after = demo_photo(store, files, &staff_ctx, seed, point).await?;
        let c = act_with(
            &c,
            &staff,
            &staff_ctx,
            Step::Handle {
                note: "已安排人员现场处置".into(),
            },
            vec![after],
        )
        .await?;
        if stage < 50 {
            continue; // waiting for verification
        }
        if stage < 58 {
            act(
                &c,
                &inspector,
                &inspector_ctx,
                Step::Verify {
                    passed: false,
                    note: "现场复核仍未整改到位".into(),
                },
            )
            .await?;
            continue;
        }
        act(
            &c,
            &inspector,
            &inspector_ctx,
            Step::Verify {
                passed: true,
                note: "复核通过".into(),
            },
        )
        .await?;
    }
    backdate(store).await?;
    Ok(total)
}

/// A generated photo near `point`, taken now, staged by `ctx`'s person.
async fn demo_photo(
    store: &Store,
    files: &Files,
    ctx: &Ctx,
    seed: u64,
    point: wenming_domain::geo::Point,
) -> Result<uuid::Uuid, StoreError> {
    let bytes = crate::photo::synthetic_jpeg(seed, Some(jiff::Timestamp::now()), Some(point));
    let p = crate::photo::stage(
        store,
        files,
        ctx,
        "photos",
        bytes.into(),
        &crate::photo::PhotoRules::default(),
        &jiff::tz::TimeZone::UTC,
    )
    .await?;
    Ok(p.id)
}

/// The demo's cases were all made just now; spread them over the last two
/// months (every time on a case moves by the same amount), so lists, trends
/// and overdue flags look like a working city. Demo data only: real cases
/// are never rewritten.
async fn backdate(store: &Store) -> Result<(), StoreError> {
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM case_record ORDER BY number")
        .fetch_all(store.reader())
        .await?;
    let mut tx = store.begin().await?;
    for (i, id) in ids.iter().enumerate() {
        let shift = ((i * 37) % 60) as i64 * 86_400_000_000;
        sqlx::query(
            "UPDATE case_record SET reported_at = reported_at - $1, registered_at = registered_at - $1, \
             dispatched_at = dispatched_at - $1, handled_at = handled_at - $1, closed_at = closed_at - $1, \
             deadline = deadline - $1, updated_at = updated_at - $1 WHERE id = $2",
        )
        .bind(shift)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE case_event SET at = at - $1 WHERE case_id = $2")
            .bind(shift)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE photo SET taken_at = taken_at - $1, uploaded_at = uploaded_at - $1 WHERE case_id = $2",
        )
        .bind(shift)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Everything the demo has: the city, its framework and tasks, and its
/// cases. (Tests that need no cases load only `load`, which is faster.)
/// Site types as cities list them (the framework's site types name the
/// first fifteen), and how each lies on the map.
const SITE_TYPES: [(&str, &str, Geometry); 30] = [
    ("RD", "主次干道", Geometry::Line),
    ("SC", "商业大街", Geometry::Line),
    ("CR", "重要路口", Geometry::Point),
    ("BL", "背街小巷", Geometry::Line),
    ("FM", "农贸市场", Geometry::Area),
    ("RC", "居民小区", Geometry::Area),
    ("PK", "公园广场", Geometry::Area),
    ("HO", "医院", Geometry::Area),
    ("SS", "学校周边", Geometry::Area),
    ("BS", "公交站点", Geometry::Point),
    ("ST", "车站", Geometry::Area),
    ("GW", "政务服务窗口", Geometry::Point),
    ("CV", "文化场馆", Geometry::Area),
    ("CS", "建筑工地", Geometry::Area),
    ("CC", "社区服务中心", Geometry::Point),
    ("SM", "大型商超", Geometry::Area),
    ("HT", "宾馆酒店", Geometry::Area),
    ("FS", "餐饮街区", Geometry::Line),
    ("IC", "网吧", Geometry::Point),
    ("LB", "图书馆", Geometry::Point),
    ("SP", "体育场馆", Geometry::Area),
    ("SA", "旅游景区", Geometry::Area),
    ("RB", "河道沿岸", Geometry::Line),
    ("PT", "公共厕所", Geometry::Point),
    ("PL", "停车场", Geometry::Area),
    ("BK", "银行网点", Geometry::Point),
    ("VS", "志愿服务站", Geometry::Point),
    ("OC", "老旧小区", Geometry::Area),
    ("UV", "城乡结合部", Geometry::Area),
    ("TC", "游客服务中心", Geometry::Point),
];

/// The site types, and in each district a few sites of the types the
/// framework inspects, each in a community, sponsored by a unit, with a
/// site chief: one transaction.
async fn load_sites(store: &Store, ctx: &Ctx, everything: &Scope) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    let mut types = vec![];
    for (code, name, geometry) in SITE_TYPES {
        types.push(crate::site::create_type_in(&mut tx, ctx, code, name, geometry).await?);
    }
    let communities: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT r.id, r.code, d.code, r.boundary FROM region r JOIN region s ON s.id = r.parent_id \
         JOIN region d ON d.id = s.parent_id WHERE r.level = 'community' ORDER BY r.code",
    )
    .fetch_all(&mut *tx)
    .await?;
    let units: Vec<String> =
        sqlx::query_scalar("SELECT id FROM unit WHERE active = 1 ORDER BY name_key")
            .fetch_all(&mut *tx)
            .await?;
    let streets = [
        "滨江路",
        "望岳路",
        "青岚大道",
        "凤鸣街",
        "新桥路",
        "梧桐巷",
        "兴业路",
        "鸣翠路",
    ];
    let mut n = 0usize;
    for (t, ty) in types.iter().take(15).enumerate() {
        // Three of the commoner kinds in every district, one of the rest.
        let per_district = if t < 6 { 3 } else { 1 };
        for (district, _) in DISTRICTS {
            let in_district: Vec<&(String, String, String, Option<String>)> =
                communities.iter().filter(|c| c.2 == district).collect();
            for k in 0..per_district {
                let Some(c) = in_district.get((t * 2 + k * 3) % in_district.len().max(1)) else {
                    continue;
                };
                let (lon, lat) =
                    c.3.as_deref()
                        .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
                        .and_then(|v| {
                            let ring = v["coordinates"][0].as_array()?.clone();
                            let xs: Vec<f64> = ring.iter().filter_map(|p| p[0].as_f64()).collect();
                            let ys: Vec<f64> = ring.iter().filter_map(|p| p[1].as_f64()).collect();
                            let (x0, x1) = (
                                xs.iter().cloned().fold(f64::MAX, f64::min),
                                xs.iter().cloned().fold(f64::MIN, f64::max),
                            );
                            let (y0, y1) = (
                                ys.iter().cloned().fold(f64::MAX, f64::min),
                                ys.iter().cloned().fold(f64::MIN, f64::max),
                            );
                            // Spread within the community, away from its edges.
                            let f = |i: usize| 0.25 + 0.5 * ((i * 37 % 11) as f64 / 10.0);
                            Some((x0 + (x1 - x0) * f(n), y0 + (y1 - y0) * f(n + 5)))
                        })
                        .unwrap_or((118.61, 31.21));
                let street = streets[(n * 3) % streets.len()];
                let name = match ty.geometry {
                    Geometry::Line => format!("{street}{}段", ["东", "西", "南", "北"][n % 4]),
                    _ => format!(
                        "{}{}",
                        street.trim_end_matches(['路', '街', '巷', '道']),
                        ty.name
                    ),
                };
                let input = wenming_domain::site::SiteInput {
                    code: format!("{district}-{}-{:03}", ty.code, k + 1),
                    type_id: ty.id,
                    name,
                    region_id: c
                        .0
                        .parse()
                        .map_err(|_| StoreError::Corrupt("region id".into()))?,
                    sponsor_unit_id: units
                        .get((n * 7) % units.len().max(1))
                        .and_then(|u| u.parse().ok()),
                    chief: wenming_domain::org::Contact {
                        name: Some(format!(
                            "{}{}",
                            ["王", "李", "张", "刘", "陈", "杨"][n % 6],
                            ["伟", "芳", "敏", "静", "磊", "洋"][(n / 6) % 6]
                        )),
                        phone: Some(mobile(500 + n)),
                    },
                    address: None,
                    point: wenming_domain::geo::Point { lon, lat },
                    active: true,
                    // Roads and lanes as a short line, markets and parks as a
                    // small area, around where an inspector stands.
                    shape: match ty.geometry {
                        Geometry::Line => Some(serde_json::json!({
                            "type": "LineString",
                            "coordinates": [[lon - 0.002, lat], [lon + 0.002, lat + 0.0004]]
                        })),
                        Geometry::Area => Some(wenming_domain::geo::rectangle(
                            lon - 0.0008,
                            lat - 0.0006,
                            lon + 0.0008,
                            lat + 0.0006,
                        )),
                        Geometry::Point => None,
                    },
                };
                crate::site::create_in(&mut tx, ctx, everything, &input).await?;
                n += 1;
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

pub async fn load_all(store: &Store, files: &Files) -> Result<DemoOutcome, StoreError> {
    let outcome = load(store).await?;
    if outcome == DemoOutcome::Loaded {
        load_cases(store, files).await?;
        crate::demo_rounds::load(store, files).await?;
        // The demo's cases are moved back in time after they are made.
        crate::case::tally::rebuild(store).await?;
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
