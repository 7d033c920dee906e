//! A small builder for queries whose filters depend on the request, keeping
//! placeholders numbered (`$1`, `$2`, ...) as both databases accept them.

use sqlx::Any;
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use wenming_domain::policy::Scope;

#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    Int(i64),
}

#[derive(Debug, Clone, Default)]
pub struct Sql {
    pub text: String,
    args: Vec<Arg>,
}

impl Sql {
    pub fn new(text: &str) -> Self {
        Sql {
            text: text.to_string(),
            args: vec![],
        }
    }
    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }
    /// Adds a bound value and returns its placeholder.
    pub fn arg(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }
    pub fn text_arg(&mut self, s: impl Into<String>) -> String {
        self.arg(Arg::Text(s.into()))
    }
    pub fn int_arg(&mut self, i: i64) -> String {
        self.arg(Arg::Int(i))
    }

    /// Restricts rows to a scope: `region_path` is an SQL expression giving
    /// the row's region path, `unit_id` one giving its unit id (or `None` when
    /// rows have no unit).
    pub fn scope(&mut self, scope: &Scope, region_path: &str, unit_id: Option<&str>) -> &mut Self {
        if scope.is_everything() {
            return self;
        }
        let mut ors = vec![];
        for p in &scope.region_paths {
            let ph = self.text_arg(format!("{}%", like_escape(p)));
            ors.push(format!("{region_path} LIKE {ph} ESCAPE '\\'"));
        }
        if let Some(col) = unit_id {
            for u in &scope.unit_ids {
                let ph = self.text_arg(u.to_string());
                ors.push(format!("{col} = {ph}"));
            }
        }
        if ors.is_empty() {
            self.push(" AND 1 = 0");
        } else {
            self.push(&format!(" AND ({})", ors.join(" OR ")));
        }
        self
    }

    /// The same filters with another select list, e.g. for the total count.
    pub fn with_select(&self, select: &str, replacement: &str) -> Sql {
        Sql {
            text: self.text.replacen(select, replacement, 1),
            args: self.args.clone(),
        }
    }

    pub fn query(&self) -> Query<'_, Any, AnyArguments<'_>> {
        let mut q = sqlx::query(&self.text);
        for a in &self.args {
            q = match a {
                Arg::Text(s) => q.bind(s.as_str()),
                Arg::Int(i) => q.bind(*i),
            };
        }
        q
    }
}

/// `$1, $2, … $n`, for an `IN (…)` list.
pub fn marks(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The ids an `IN (…)` list binds at most in one statement, well inside
/// both databases' limits.
const IDS_AT_ONCE: usize = 500;

/// The rows of `sql` for every id in `ids`, where `{ids}` in `sql` stands
/// for the list of marks: a list longer than one statement binds is asked
/// for in parts, so a GROUP BY may return a group once per part and the
/// caller adds them up.
pub async fn rows_for_ids(
    store: &crate::Store,
    sql: &str,
    ids: &[uuid::Uuid],
) -> Result<Vec<sqlx::any::AnyRow>, crate::StoreError> {
    let mut out = vec![];
    for chunk in ids.chunks(IDS_AT_ONCE) {
        let sql = sql.replace("{ids}", &marks(chunk.len()));
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id.to_string());
        }
        out.extend(q.fetch_all(store.reader()).await?);
    }
    Ok(out)
}

/// `($1, … $cols), ($cols+1, …), …`: the values of a multi-row insert.
pub fn rows(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let row: Vec<String> = (1..=cols).map(|k| format!("${}", r * cols + k)).collect();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// A case-insensitive "contains" pattern for `LOWER(col) LIKE $n ESCAPE '\'`.
pub fn contains_pattern(q: &str) -> String {
    format!("%{}%", like_escape(&q.to_lowercase()))
}

pub fn flag(b: bool) -> i64 {
    i64::from(b)
}
