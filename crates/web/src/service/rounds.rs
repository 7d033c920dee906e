//! Inspection rounds: what the round pages and the API share.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use wenming_domain::policy::{Action, Permit, may};
use wenming_store::inspection::{self, Finding, RoundSite};

/// A site of a round, for those who see rounds or are sent there.
pub async fn visible_round_site(
    state: &AppState,
    auth: &Auth,
    round_id: Uuid,
    site_id: Uuid,
) -> AppResult<RoundSite> {
    // Refused before the lookup, so an id probed by someone who may see no
    // round at all tells them nothing (and page and API answer alike).
    if !auth.may(Action::ViewRounds) && !auth.may(Action::Inspect) {
        return Err(AppError::Forbidden);
    }
    let rs = inspection::round_site(&state.store, round_id, site_id).await?;
    if rs.inspector_id == Some(auth.user.id) || auth.may(Action::ViewRounds) {
        Ok(rs)
    } else {
        Err(AppError::NotFound)
    }
}

#[derive(Deserialize, ToSchema)]
pub struct MapBody {
    pub site_id: Uuid,
    pub standard_id: Uuid,
    /// pass, fail or na; leave out to use the row's own result.
    #[serde(default)]
    pub result: Option<String>,
    /// Photos uploaded first with POST /photos, beside those the import
    /// kept for the row; a failure needs at least one.
    #[serde(default)]
    pub photo_ids: Vec<Uuid>,
}

/// Maps an unmatched row of a third-party import by hand (page and API).
pub async fn map_row(
    state: &AppState,
    auth: &Auth,
    permit: &Permit<may::ManageRounds>,
    id: Uuid,
    row_id: Uuid,
    body: MapBody,
) -> AppResult<Finding> {
    let outcome = match body.result.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(r) => Some(wenming_domain::site::Outcome::parse(r).ok_or_else(|| {
            AppError::Invalid(wenming_domain::FieldErrors::single(
                "result",
                "invalid_choice",
            ))
        })?),
    };
    Ok(wenming_store::third_party::map(
        &state.store,
        &auth.ctx(),
        permit,
        id,
        row_id,
        body.site_id,
        body.standard_id,
        outcome,
        &body.photo_ids,
        &state.config.photo_rules,
        &state.config.timezone,
    )
    .await?)
}
