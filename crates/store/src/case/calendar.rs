//! The working calendar deadlines count in: the holidays and make-up days
//! on record, and the copy of it kept per store.

use crate::{Ctx, Store, StoreError, audit};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wenming_domain::calendar::Calendar;
use wenming_domain::policy::{Permit, may};

/// The calendar as last read, kept per store. Read again after a minute,
/// so that a holiday entered on another instance is taken up without a
/// restart (that instance also marks the tallies for rebuilding).
#[derive(Default)]
struct Kept(Mutex<Option<(Instant, Arc<Calendar>)>>);

const FRESH: Duration = Duration::from_secs(60);

/// The calendar, from the store's copy when it is fresh.
pub(crate) async fn cached(store: &Store) -> Result<Arc<Calendar>, StoreError> {
    let kept = store.kept::<Kept>();
    if let Some((at, c)) = kept.0.lock().unwrap_or_else(|p| p.into_inner()).as_ref()
        && at.elapsed() < FRESH
    {
        return Ok(c.clone());
    }
    let c = Arc::new(calendar(store, store.timezone().clone()).await?);
    *kept.0.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), c.clone()));
    Ok(c)
}

/// Drops the store's copy: the next reader reads the calendar again.
pub(crate) fn forget(store: &Store) {
    *store
        .kept::<Kept>()
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = None;
}

/// Working hours are counted anew after a calendar change: the month
/// tallies, made with the old calendar, are marked for rebuilding (inside
/// the change's transaction; `tally::is_built` then says no).
async fn tallies_outdated(conn: &mut AnyConnection) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM case_tally_built")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Takes a date off the calendar: it counts as an ordinary weekday or
/// weekend again. Deadlines already set do not move.
pub async fn remove_calendar_day(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageFramework>,
    day: jiff::civil::Date,
) -> Result<(), StoreError> {
    StoreError::unless_city_wide(permit)?;
    let mut tx = store.begin().await?;
    let before: Option<(String, String)> =
        sqlx::query_as("SELECT kind, name FROM calendar_day WHERE day = $1")
            .bind(day.to_string())
            .fetch_optional(&mut *tx)
            .await?;
    let before = before.ok_or(StoreError::NotFound)?;
    sqlx::query("DELETE FROM calendar_day WHERE day = $1")
        .bind(day.to_string())
        .execute(&mut *tx)
        .await?;
    tallies_outdated(&mut tx).await?;
    audit::append(
        &mut tx,
        ctx,
        "delete",
        "calendar_day",
        &day.to_string(),
        Some(&before),
        None::<&()>,
    )
    .await?;
    tx.commit().await?;
    forget(store);
    Ok(())
}

/// The calendar with the holidays and make-up days on record.
pub async fn calendar(store: &Store, tz: jiff::tz::TimeZone) -> Result<Calendar, StoreError> {
    let mut c = Calendar::new(tz);
    for row in sqlx::query("SELECT day, kind FROM calendar_day")
        .fetch_all(store.reader())
        .await?
    {
        let day: String = row.try_get("day")?;
        let kind: String = row.try_get("kind")?;
        let Ok(d) = day.parse() else { continue };
        if kind == "workday" {
            c.makeup_days.insert(d);
        } else {
            c.holidays.insert(d);
        }
    }
    Ok(c)
}

pub async fn set_calendar_day(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageFramework>,
    day: jiff::civil::Date,
    workday: bool,
    name: &str,
) -> Result<(), StoreError> {
    StoreError::unless_city_wide(permit)?;
    let mut tx = store.begin().await?;
    sqlx::query("DELETE FROM calendar_day WHERE day = $1")
        .bind(day.to_string())
        .execute(&mut *tx)
        .await?;
    // Working hours are counted anew: the month tallies are rebuilt.
    tallies_outdated(&mut tx).await?;
    sqlx::query("INSERT INTO calendar_day (day, kind, name) VALUES ($1, $2, $3)")
        .bind(day.to_string())
        .bind(if workday { "workday" } else { "holiday" })
        .bind(name)
        .execute(&mut *tx)
        .await?;
    #[derive(Serialize)]
    struct Day<'a> {
        workday: bool,
        name: &'a str,
    }
    audit::created(
        &mut tx,
        ctx,
        "calendar_day",
        &day.to_string(),
        &Day { workday, name },
    )
    .await?;
    tx.commit().await?;
    forget(store);
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct CalendarDay {
    pub day: String,
    pub workday: bool,
    pub name: String,
}

pub async fn calendar_days(store: &Store) -> Result<Vec<CalendarDay>, StoreError> {
    let rows = sqlx::query("SELECT day, kind, name FROM calendar_day ORDER BY day")
        .fetch_all(store.reader())
        .await?;
    rows.iter()
        .map(|r| {
            let kind: String = r.try_get("kind")?;
            Ok(CalendarDay {
                day: r.try_get("day")?,
                workday: kind == "workday",
                name: r.try_get("name")?,
            })
        })
        .collect()
}
