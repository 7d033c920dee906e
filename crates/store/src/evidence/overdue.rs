//! Requirements past their due date and not met: their units are told, once
//! per due date, by the job that warns about overdue cases.

use super::{RequirementFilter, requirements};
use crate::{Store, StoreError};
use serde::Serialize;

/// Tells the accounts of each unit whose requirement of the framework in
/// force passed its due date unmet, and returns how many requirements were
/// told of. Call it under the "escalation" lease; a requirement is claimed
/// in the same transaction as its notifications, so two passes never tell
/// twice.
pub async fn tell_overdue(store: &Store, today: jiff::civil::Date) -> Result<usize, StoreError> {
    // The framework in force, read here: `framework` calls into this
    // module on activation, not the other way round.
    let active: Option<String> =
        sqlx::query_scalar(
            "SELECT id FROM framework WHERE status = 'active' ORDER BY year DESC, updated_at DESC LIMIT 1",
        )
            .fetch_optional(store.reader())
            .await?;
    let Some(fw) = active.as_deref().map(crate::org::parse_uuid).transpose()? else {
        return Ok(0);
    };
    let city = crate::org::whole_city(store).await?;
    let filter = RequirementFilter {
        overdue_only: true,
        ..Default::default()
    };
    let late = requirements(store, &city, fw, &filter, today).await?;
    let mut told = 0;
    for q in late {
        let (Some(due), Some(unit)) = (q.due_on, q.unit_id) else {
            continue;
        };
        let mut tx = store.begin().await?;
        let claimed = sqlx::query(
            "UPDATE evidence_requirement SET overdue_told_on = $1 WHERE id = $2 \
             AND due_on = $1 AND (overdue_told_on IS NULL OR overdue_told_on <> $1)",
        )
        .bind(due.to_string())
        .bind(q.id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            continue;
        }
        #[derive(Serialize)]
        struct Notice<'a> {
            requirement: uuid::Uuid,
            title: String,
            due_on: &'a str,
        }
        let due_text = due.to_string();
        let data = serde_json::to_string(&Notice {
            requirement: q.id,
            title: format!("{} {}", q.standard_code, q.title),
            due_on: &due_text,
        })
        .unwrap_or_default();
        super::tell_unit(&mut tx, unit, "requirement_overdue", &data, None).await?;
        tx.commit().await?;
        told += 1;
    }
    Ok(told)
}
