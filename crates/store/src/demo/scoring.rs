//! What the demo city's office has recorded beside its measured data:
//! assessments of the standards judged by briefing, overall observation
//! or departmental statistics, the minors' evaluation of this year, the
//! official scores of the two years before, and two negative-list events
//! (one inside its twelve months, one just outside), and the monthly
//! snapshots of the months before.

use super::sys;
use crate::scoring::{self as st, AssessmentInput, Statistic};
use crate::{Ctx, Store, StoreError};
use wenming_domain::framework::Method;
use wenming_domain::policy::Scope;

pub async fn load(
    store: &Store,
    ctx: &Ctx,
    city: &Scope,
    today: jiff::civil::Date,
) -> Result<(), StoreError> {
    let Some(fw) = crate::framework::active(store).await? else {
        return Ok(());
    };
    let permit = sys(city);
    let year = i32::from(today.year());
    let shares = [0.92, 0.85, 0.78, 0.95, 0.88, 0.7, 0.9, 0.82];
    let mut k = 0;
    for s in st::standards(store, fw.id).await? {
        for &method in &s.methods {
            let (share, statistic, note) = match method {
                Method::Briefing => (
                    Some(shares[k % shares.len()]),
                    None,
                    "听取汇报：牵头单位汇报工作开展情况，测评组评定",
                ),
                Method::OverallObservation => (
                    Some(shares[(k + 3) % shares.len()]),
                    None,
                    "整体观察：市创建办组织暗访后评定",
                ),
                Method::Statistics => (
                    None,
                    Some(Statistic {
                        value: 11.0 + (k % 5) as f64,
                        threshold: 13.0,
                        higher_better: true,
                    }),
                    "部门统计：注册志愿者占城市常住人口比例（%），门槛 13%",
                ),
                _ => continue,
            };
            k += 1;
            st::record_assessment(
                store,
                ctx,
                &permit,
                &AssessmentInput {
                    standard_id: s.id,
                    year,
                    method,
                    share,
                    statistic,
                    note: note.into(),
                    evidence_url: None,
                    expected_version: None,
                },
            )
            .await?;
        }
    }
    if let Some(gate) = fw.settings.gates.first() {
        let input = st::ScoreInput {
            gate: Some(&gate.name),
            year,
            score: 88.5,
            note: "省文明办年度测评反馈",
        };
        st::record_year_score(store, ctx, &permit, fw.id, input).await?;
    }
    for (y, score) in [(year - 2, 81.6), (year - 1, 84.2)] {
        let input = st::ScoreInput {
            gate: None,
            year: y,
            score,
            note: "中央文明办年度测评通报",
        };
        st::record_year_score(store, ctx, &permit, fw.id, input).await?;
    }
    let months_ago = |m: i64| {
        today
            .checked_sub(jiff::Span::new().months(m))
            .unwrap_or(today)
    };
    let events = [
        (
            "N2",
            months_ago(5),
            "某区学校食堂发生群体性食源性疾病事件，已通报整改",
        ),
        (
            "N1",
            months_ago(15),
            "建筑工地发生较大安全生产事故（已超过追溯期）",
        ),
    ];
    // The monthly snapshots of the five months before, as the job would
    // have kept them; this month's is the job's own, taken at start.
    for (m, score, half) in [
        (5, 77.9, 4.1),
        (4, 78.6, 3.8),
        (3, 80.3, 3.5),
        (2, 79.8, 3.3),
        (1, 81.4, 3.1),
    ] {
        let on = months_ago(m);
        let first = jiff::civil::date(on.year(), on.month(), 1);
        let snap = st::Snapshot {
            id: uuid::Uuid::now_v7(),
            framework_id: fw.id,
            taken_on: first,
            kind: st::SnapshotKind::Monthly,
            score,
            low: score - half,
            high: score + half * 0.8,
            standing: "eligible".into(),
            // Planted history: the figures without the projection behind
            // them, so no standard's trend is measured against it.
            doc: Some(r#"{"demo":true}"#.into()),
        };
        st::take_snapshot(store, ctx, &permit, &snap).await?;
    }
    for (code, on, note) in events {
        if fw.settings.negative_list.iter().any(|r| r.code == code) {
            let input = st::EventInput {
                rule_code: code,
                occurred_on: on,
                note,
            };
            st::record_negative_event(store, ctx, &permit, fw.id, &input, today).await?;
        }
    }
    Ok(())
}
