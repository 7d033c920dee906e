//! The demo's published 红黑榜: last month's 民评官 round as a list of
//! departments, drafted by the office, approved by the administrator (a
//! second account), published, and appealed by 市城市管理局 (waiting for
//! the office).

use super::sys;
use crate::ranking as rk;
use crate::{Ctx, Store, StoreError};
use wenming_domain::policy::Scope;
use wenming_domain::ranking::{ListSpec, Subject};

async fn user(store: &Store, name: &str, shown: &str) -> Result<Ctx, StoreError> {
    let id: Option<String> = sqlx::query_scalar("SELECT id FROM app_user WHERE username = $1")
        .bind(name)
        .fetch_optional(store.reader())
        .await?;
    Ok(Ctx {
        actor_id: id.as_deref().map(crate::org::parse_uuid).transpose()?,
        actor_name: shown.into(),
        request_id: None,
    })
}

pub async fn load(store: &Store, city: &Scope) -> Result<(), StoreError> {
    let Some(round) = crate::rating::rounds(store).await?.into_iter().next() else {
        return Ok(());
    };
    let office = user(store, "office", "市创建办").await?;
    let admin = user(store, "admin", "系统管理员").await?;
    let unit = user(store, "unit", "市城市管理局").await?;
    if office.actor_id.is_none() || admin.actor_id.is_none() {
        return Ok(());
    }
    let spec = ListSpec {
        name: format!("{}红黑榜", round.name),
        subject: Subject::UnitRating,
        period_from: round.opens_on,
        period_to: round.closes_on,
        round_kinds: vec![],
        source_id: Some(round.id),
        question: None,
        min_n: round.min_n,
        red: 2,
        black: 2,
        black_below: None,
        public: true,
        appeal_days: 7,
    };
    let entries = rk::rating_entries(store, round.id).await?;
    let manage = sys(city);
    let (_, draft) = rk::create(store, &office, &manage, &spec, entries).await?;
    let approved = rk::approve(store, &admin, &manage, draft.id, draft.version).await?;
    let published = rk::publish(store, &office, &manage, approved.id, approved.version).await?;
    // 市城市管理局 appeals its place, as a unit would.
    let fm: Option<String> = sqlx::query_scalar("SELECT id FROM unit WHERE name = '市城市管理局'")
        .fetch_optional(store.reader())
        .await?;
    if let Some(fm) = fm.as_deref().map(crate::org::parse_uuid).transpose()?
        && published.entries.iter().any(|e| e.subject_id == fm)
    {
        rk::appeal(
            store,
            &unit,
            &sys(city),
            published.id,
            fm,
            "评价期间恰逢夜市整治，部分差评针对的是市场监管事项，请予复核。",
        )
        .await?;
    }
    Ok(())
}
