//! The demo city's case catalogue: classes and subclasses with their
//! deadlines, the standards they file failures of, and the units each class
//! is routed to.

use super::sys;
use crate::{Ctx, Store, StoreError, org};

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
