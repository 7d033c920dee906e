use wenming_domain::FieldErrors;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Absent, or outside the caller's scope: the two are not told apart.
    #[error("not found")]
    NotFound,
    /// The caller's permit does not reach this write (a district's office
    /// changing what only the city may change).
    #[error("not permitted")]
    Forbidden,
    /// The record changed since the caller read it (optimistic locking).
    #[error("the record was changed by someone else")]
    Conflict,
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// A document (an imported framework, say) with problems at named places.
    #[error("{} problem(s), first: {}", .0.len(), .0.first().map(|p| p.to_string()).unwrap_or_default())]
    Problems(Vec<wenming_domain::framework::Problem>),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{0}")]
    Corrupt(String),
    /// The object store (local folder or bucket) failed.
    #[error("file storage error: {0}")]
    Files(String),
}

impl From<FieldErrors> for StoreError {
    fn from(e: FieldErrors) -> Self {
        StoreError::Invalid(e)
    }
}

/// JSON the store wrote, read back: text that does not parse is corrupt
/// data, named, never a silent default.
pub(crate) fn stored_json<T: serde::de::DeserializeOwned>(
    what: &str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("the stored {what} is not valid JSON: {e}")))
}

/// Optional stored JSON (a NULL column is `None`).
pub(crate) fn stored_json_opt<T: serde::de::DeserializeOwned>(
    what: &str,
    text: Option<String>,
) -> Result<Option<T>, StoreError> {
    text.as_deref().map(|t| stored_json(what, t)).transpose()
}

impl StoreError {
    /// Refuses a write that only a city-wide permit may make.
    pub fn unless_city_wide<P: wenming_domain::policy::Permission>(
        permit: &wenming_domain::policy::Permit<P>,
    ) -> Result<(), StoreError> {
        if permit.is_city_wide() {
            Ok(())
        } else {
            Err(StoreError::Forbidden)
        }
    }

    pub fn invalid(field: &str, code: &'static str) -> Self {
        StoreError::Invalid(FieldErrors::single(field, code))
    }

    /// The database (or the disk under it) has no space left: SQLite's
    /// SQLITE_FULL, PostgreSQL's disk_full (53100), or the OS saying so.
    pub fn is_out_of_space(&self) -> bool {
        let text = match self {
            StoreError::Db(sqlx::Error::Database(d)) => {
                if d.code().as_deref() == Some("53100") || d.code().as_deref() == Some("13") {
                    return true;
                }
                d.message().to_string()
            }
            StoreError::Db(e) => e.to_string(),
            StoreError::Corrupt(m) | StoreError::Files(m) => m.clone(),
            _ => return false,
        };
        let t = text.to_lowercase();
        t.contains("database or disk is full")
            || t.contains("no space left")
            || t.contains("disk full")
    }

    /// A unique constraint tripped; callers map it to the field concerned.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(d)) => {
                d.is_unique_violation() || d.message().contains("UNIQUE constraint failed")
            }
            _ => false,
        }
    }
}
