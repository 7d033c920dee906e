//! The demo city's site types and sites, with sponsor units and site
//! chiefs.

use super::{DISTRICTS, mobile};
use crate::{Ctx, Store, StoreError};
use wenming_domain::policy::Scope;
use wenming_domain::site::Geometry;

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
pub(super) async fn load_sites(
    store: &Store,
    ctx: &Ctx,
    everything: &Scope,
) -> Result<(), StoreError> {
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
