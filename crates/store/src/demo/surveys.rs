//! The demo city's questionnaire and two finished waves over every
//! community: the second better in some communities — in the first one a
//! change beyond the noise, elsewhere changes within it — so that the
//! results page has something true to say.

use super::sys;
use crate::survey::{self as sv, Channel, NewResponse, NewWave, WaveState};
use crate::{Ctx, Store, StoreError};
use std::collections::BTreeMap;
use wenming_domain::framework::{Method, standards};
use wenming_domain::policy::Scope;
use wenming_domain::survey::*;

fn choices(labels: &[&str]) -> Vec<Choice> {
    labels
        .iter()
        .enumerate()
        .map(|(i, l)| Choice {
            code: (i + 1).to_string(),
            label: l.to_string(),
        })
        .collect()
}

fn rate(kind: RateKind, counts: &[&str], excluded: &[&str]) -> Option<RateSpec> {
    Some(RateSpec {
        kind,
        counts: counts.iter().map(|s| s.to_string()).collect(),
        excluded: excluded.iter().map(|s| s.to_string()).collect(),
        keep_excluded: false,
    })
}

/// The demo's questionnaire, in our own words.
pub fn questionnaire(evidenced: &[String]) -> QuestionnaireDoc {
    let q = |code: &str, text: &str, kind, cs: &[&str]| QuestionSpec {
        code: code.into(),
        text: text.into(),
        kind,
        choices: choices(cs),
        required: true,
        groups: vec![],
        rate: None,
        standards: vec![],
    };
    let mut q1 = q(
        "Q1",
        "您知道青岚市正在创建全国文明城市吗？",
        QuestionKind::Single,
        &["知道", "听说过，不太清楚", "不知道"],
    );
    q1.rate = rate(RateKind::Awareness, &["1", "2"], &[]);
    let mut q2 = q(
        "Q2",
        "您支持本市创建文明城市吗？",
        QuestionKind::Single,
        &["支持", "无所谓", "不支持"],
    );
    q2.rate = rate(RateKind::Support, &["1"], &[]);
    q2.standards = evidenced.iter().take(1).cloned().collect();
    let mut q3 = q(
        "Q3",
        "您对所住社区的环境卫生和公共秩序满意吗？",
        QuestionKind::Single,
        &["非常满意", "满意", "一般", "不满意", "说不清"],
    );
    q3.rate = rate(RateKind::Satisfaction, &["1", "2"], &["5"]);
    q3.standards = evidenced.iter().skip(1).take(2).cloned().collect();
    let mut q4 = q(
        "Q4",
        "过去一年，您参加过下列哪些活动？（可多选）",
        QuestionKind::Multiple,
        &[
            "社区清洁日",
            "文明交通劝导",
            "邻里互助志愿服务",
            "都没有参加",
        ],
    );
    q4.rate = rate(RateKind::Participation, &["1", "2", "3"], &[]);
    let mut q5 = q(
        "Q5",
        "您对区政务服务中心办事窗口的服务打几分？（1 分最低，5 分最高）",
        QuestionKind::Scale5,
        &[],
    );
    q5.rate = rate(RateKind::ServiceSatisfaction, &["4", "5"], &[]);
    q5.groups = vec![Group::Residents, Group::Business];
    let mut q6 = q(
        "Q6",
        "学校开展过文明礼仪或志愿服务教育吗？",
        QuestionKind::Single,
        &["开展过", "没有", "不清楚"],
    );
    q6.groups = vec![Group::Students];
    let mut q7 = q(
        "Q7",
        "对创建工作，您还有什么意见或建议？",
        QuestionKind::Text,
        &[],
    );
    q7.required = false;
    QuestionnaireDoc {
        title: "青岚市文明城市创建市民问卷".into(),
        intro: "本问卷匿名填写，约需三分钟，结果只用于改进创建工作。".into(),
        questions: vec![q1, q2, q3, q4, q5, q6, q7],
    }
}

/// The share answering "yes" to a rate, by community index and wave; the
/// second wave is better in some places.
fn truth(community: usize, wave: usize) -> [f64; 4] {
    let base = 0.62 + (community % 7) as f64 * 0.035;
    let lift = match (community, wave) {
        // The first community: a real rise.
        (0, 1) => 0.22,
        // Its neighbour: a small one, within the noise.
        (1, 1) => 0.04,
        (c, 1) if c % 3 == 0 => 0.03,
        _ => 0.0,
    };
    let sat = (base + lift).min(0.97);
    [0.9, 0.86 + lift / 4.0, sat, 0.45 + lift]
}

/// Exactly round(p × n) yes answers among the n, spread evenly.
fn yes(i: usize, n: usize, p: f64) -> bool {
    let k = (p * n as f64).round() as usize;
    (i * k) / n.max(1) != ((i + 1) * k) / n.max(1)
}

pub async fn load(store: &Store) -> Result<(), StoreError> {
    let ctx = Ctx::system("demo");
    let city = crate::org::whole_city(store).await?;
    let root = city.region_paths.first().cloned().unwrap_or_default();
    let everything = Scope::everything(&root);
    let fw = super::demo_framework();
    let evidenced: Vec<String> = standards(&fw)
        .iter()
        .filter(|(_, s)| {
            s.standard
                .as_ref()
                .is_some_and(|x| x.methods.contains(&Method::Survey))
        })
        .filter_map(|(_, s)| s.code.clone())
        .take(3)
        .collect();
    let doc = questionnaire(&evidenced);
    let q = sv::create(store, &ctx, &sys(&everything), &doc).await?;
    let q = sv::publish(store, &ctx, &sys(&everything), q.id, q.version).await?;
    let mut communities: Vec<(uuid::Uuid, String)> = crate::org::list_regions(store, &everything)
        .await?
        .into_iter()
        .filter(|r| r.level == wenming_domain::org::RegionLevel::Community)
        .map(|r| (r.id, r.code))
        .collect();
    communities.sort_by(|a, b| a.1.cmp(&b.1));
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(store.timezone().clone())
        .date();
    let month = |back: i64| {
        let first = today.first_of_month();
        let start = first
            .checked_sub(jiff::Span::new().months(back))
            .unwrap_or(first);
        (start, start.last_of_month())
    };
    for (w, back, name) in [
        (0usize, 2i64, "第一次模拟测评问卷"),
        (1, 1, "第二次模拟测评问卷"),
    ] {
        let (opens_on, closes_on) = month(back);
        let wave = sv::create_wave(
            store,
            &ctx,
            &sys(&everything),
            &NewWave {
                questionnaire_id: q.id,
                name: format!("{}（{}）", name, opens_on.strftime("%Y年%-m月")),
                opens_on,
                closes_on,
                margin_permille: 150,
                min_n: 30,
                clustered: true,
                per_community: true,
                regions: communities.iter().map(|c| c.0).collect(),
            },
        )
        .await?;
        let wave = sv::set_state(
            store,
            &ctx,
            &sys(&everything),
            wave.id,
            wave.version,
            WaveState::Open,
        )
        .await?;
        let quotas = sv::quotas(store, wave.id).await?;
        let mut batch = vec![];
        for (ci, (cid, _)) in communities.iter().enumerate() {
            let strata: Vec<_> = quotas.iter().filter(|x| x.region_id == *cid).collect();
            let n: usize = strata.iter().map(|x| x.target as usize).sum();
            let t = truth(ci, w);
            let mut i = 0;
            for s in strata {
                for _ in 0..s.target {
                    let group = match i % 12 {
                        5 => Group::Business,
                        9 => Group::Students,
                        11 if ci % 4 == 0 => Group::Visitors,
                        _ => Group::Residents,
                    };
                    let mut a = BTreeMap::new();
                    let pick = |y: bool, good: &str, bad: &str| {
                        Answer::Text(if y { good } else { bad }.into())
                    };
                    a.insert(
                        "Q1".into(),
                        pick(yes(i, n, t[0]), if i % 3 == 0 { "2" } else { "1" }, "3"),
                    );
                    a.insert(
                        "Q2".into(),
                        pick(yes(i, n, t[1]), "1", if i % 2 == 0 { "2" } else { "3" }),
                    );
                    // One in twenty-five cannot say: out of the denominator.
                    let q3 = if i % 25 == 24 {
                        "5"
                    } else if yes(i, n, t[2]) {
                        if i % 2 == 0 { "1" } else { "2" }
                    } else if i % 3 == 0 {
                        "4"
                    } else {
                        "3"
                    };
                    a.insert("Q3".into(), Answer::Text(q3.into()));
                    a.insert(
                        "Q4".into(),
                        if yes(i, n, t[3]) {
                            Answer::Choices(if i % 2 == 0 {
                                vec!["1".into()]
                            } else {
                                vec!["1".into(), "3".into()]
                            })
                        } else {
                            Answer::Choices(vec!["4".into()])
                        },
                    );
                    if matches!(group, Group::Residents | Group::Business) {
                        a.insert(
                            "Q5".into(),
                            Answer::Scale(if yes(i, n, t[2] - 0.05) {
                                4 + (i % 2) as u32
                            } else {
                                2 + (i % 2) as u32
                            }),
                        );
                    }
                    if group == Group::Students {
                        a.insert("Q6".into(), Answer::Text("1".into()));
                    }
                    if i % 17 == 3 {
                        a.insert(
                            "Q7".into(),
                            Answer::Text("希望背街小巷的路灯和垃圾清运再跟上一些。".into()),
                        );
                    }
                    batch.push(NewResponse {
                        wave_id: wave.id,
                        region_id: *cid,
                        group,
                        age_band: s.age_band,
                        sex: s.sex,
                        channel: if i % 3 == 0 {
                            Channel::Paper
                        } else {
                            Channel::Interview
                        },
                        answers: a,
                    });
                    i += 1;
                }
            }
        }
        sv::submit_batch(store, &sys(&everything), wave.id, &batch, opens_on).await?;
        // The doors that gave no questionnaire, for the response rates.
        let mut tx = store.begin().await?;
        for (ci, (cid, _)) in communities.iter().enumerate() {
            for (d, n) in [
                ("refusal", 9 + ci % 7),
                ("non_contact", 12 + ci % 5),
                ("partial", ci % 3),
                ("unknown", 4 + ci % 4),
                ("not_eligible", 2 + ci % 3),
            ] {
                sqlx::query(
                    "INSERT INTO survey_contact (wave_id, region_id, disposition, n) VALUES ($1, $2, $3, $4)",
                )
                .bind(wave.id.to_string())
                .bind(cid.to_string())
                .bind(d)
                .bind(n as i64)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        sv::set_state(
            store,
            &ctx,
            &sys(&everything),
            wave.id,
            wave.version,
            WaveState::Closed,
        )
        .await?;
    }
    // The office asks for the results table of the standards the
    // questionnaire evidences; wenming builds it from the waves.
    for code in evidenced.iter().take(2) {
        // The standard and its lead unit, who files what is built for it.
        let row: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT n.id, (SELECT su.unit_id FROM standard_unit su WHERE su.node_id = n.id \
             AND su.role = 'lead') FROM framework_node n JOIN framework f ON f.id = n.framework_id \
             WHERE f.status = 'active' AND n.kind = 'standard' AND n.code = $1",
        )
        .bind(code)
        .fetch_optional(store.reader())
        .await?;
        let Some((standard, lead)) = row else {
            continue;
        };
        let Ok(standard) = standard.parse() else {
            continue;
        };
        crate::evidence::add_requirement(
            store,
            &ctx,
            &sys(&everything),
            standard,
            &crate::evidence::RequirementEdit {
                evidence_type: wenming_domain::framework::EvidenceType::StatisticsTable,
                title: "问卷调查结果统计表".into(),
                needed: 1,
                unit_id: lead.and_then(|u| u.parse().ok()),
                due_on: None,
                source: Some(wenming_domain::evidence::Source::SurveyResults),
            },
        )
        .await?;
    }
    super::ratings::load(store, &ctx, &everything).await?;
    super::scoring::load(store, &ctx, &everything, today).await?;
    super::rankings::load(store, &everything).await?;
    Ok(())
}
