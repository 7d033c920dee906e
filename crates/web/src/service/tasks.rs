//! Assigning many standards at once: the bulk page and the API read their
//! request into the same fields (the API's names) and share the checks.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::framework::Method;
use wenming_domain::policy::{Permit, may};
use wenming_domain::task::{parse_date, parse_target};
use wenming_store::task::{self, BulkOutcome, Selection};

#[derive(Debug, Default)]
pub struct BulkRequest {
    pub under_code: String,
    pub method: String,
    pub led_by: String,
    pub lead_unit_id: String,
    pub target: String,
    pub deadline: String,
    pub overwrite: bool,
}

/// An id given as text: empty is none, anything else must be an id.
fn optional_id(e: &mut FieldErrors, field: &str, v: &str) -> Option<Uuid> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    Uuid::parse_str(v)
        .map_err(|_| e.add(field, "invalid_choice"))
        .ok()
}

pub async fn bulk_assign(
    state: &AppState,
    auth: &Auth,
    permit: &Permit<may::ManageTasks>,
    framework_id: Uuid,
    r: &BulkRequest,
) -> AppResult<BulkOutcome> {
    let mut e = FieldErrors::new();
    let target = parse_target(&mut e, &r.target);
    let deadline = parse_date(&mut e, "deadline", &r.deadline);
    // A filter that is not understood is refused, never dropped: dropping
    // it would assign more standards than were chosen.
    let method = match r.method.trim() {
        "" => None,
        m => Method::parse(m).or_else(|| {
            e.add("method", "invalid_choice");
            None
        }),
    };
    let led_by = optional_id(&mut e, "led_by", &r.led_by);
    let lead = optional_id(&mut e, "lead_unit_id", &r.lead_unit_id);
    let (Some(target), Some(deadline)) = (target, deadline) else {
        return Err(AppError::Invalid(e));
    };
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    wenming_store::framework::get(&state.store, framework_id).await?;
    let sel = Selection {
        under_code: Some(r.under_code.trim().to_string()).filter(|c| !c.is_empty()),
        method,
        lead_unit: led_by,
    };
    Ok(task::bulk_assign(
        &state.store,
        &auth.ctx(),
        permit,
        framework_id,
        &sel,
        &target,
        deadline,
        lead,
        r.overwrite,
    )
    .await?)
}

/// A task as a row of the decomposition table (任务分解表), its state in
/// the reader's language.
pub fn table_row(
    x: task::Task,
    lang: crate::i18n::Lang,
    day: jiff::civil::Date,
) -> wenming_reports::tasks_xlsx::Row {
    wenming_reports::tasks_xlsx::Row {
        state: crate::i18n::t(lang, &format!("task_state.{}", x.state(day).code())).to_string(),
        code: x.standard_code,
        standard: x.standard_title,
        lead_unit: x.lead_unit.name,
        cooperating: x
            .cooperating
            .into_iter()
            .map(|u| u.name)
            .collect::<Vec<_>>()
            .join("、"),
        responsible: x.responsible.map(|r| r.name).unwrap_or_default(),
        target: x.target,
        deadline: x.deadline.to_string(),
        progress: x.progress,
        latest_note: x.progress_note.unwrap_or_default(),
    }
}
