//! What every page template gets: the language, the signed-in user, the CSRF
//! token, the navigation this user may use, and formatting helpers.

use crate::AppState;
use crate::auth::Auth;
use crate::i18n::{self, Lang};
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use wenming_domain::FieldErrors;
use wenming_domain::policy::Action;

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

pub struct PageCtx {
    pub lang: Lang,
    pub path: String,
    pub user_name: Option<String>,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    pub flash: Option<&'static str>,
    pub unread: i64,
    /// The demo city still loading: a line saying how far it is.
    pub loading: Option<String>,
    tz: jiff::tz::TimeZone,
}

impl PageCtx {
    pub fn new(auth: &Auth, state: &AppState) -> Self {
        let mut nav = vec![];
        let items: [(&str, &str, Option<Action>); 16] = [
            ("/", "nav.home", None),
            ("/cockpit", "nav.cockpit", Some(Action::ViewScoring)),
            ("/cases", "nav.cases", Some(Action::ViewCases)),
            ("/tasks", "nav.tasks", Some(Action::ViewTasks)),
            ("/inspect", "nav.inspect", Some(Action::Inspect)),
            ("/sites", "nav.sites", Some(Action::ViewSites)),
            ("/rounds", "nav.rounds", Some(Action::ViewRounds)),
            ("/evidence", "nav.evidence", Some(Action::ViewEvidence)),
            ("/surveys", "nav.surveys", Some(Action::ViewSurveys)),
            ("/ratings", "nav.ratings", Some(Action::ViewRatings)),
            ("/rankings", "nav.rankings", Some(Action::ViewRankings)),
            ("/frameworks", "nav.frameworks", Some(Action::ViewFramework)),
            ("/regions", "nav.regions", Some(Action::ViewRegions)),
            ("/units", "nav.units", Some(Action::ViewUnits)),
            ("/users", "nav.users", Some(Action::ViewUsers)),
            ("/audit", "nav.audit", Some(Action::ViewUsers)),
        ];
        for (href, key, action) in items {
            if action.is_none_or(|a| auth.may(a)) {
                let active = if href == "/" {
                    auth.path == "/"
                } else {
                    auth.path.starts_with(href)
                };
                nav.push(NavItem {
                    href,
                    label: i18n::t(auth.lang, key),
                    active,
                });
            }
        }
        PageCtx {
            lang: auth.lang,
            path: auth.path.clone(),
            user_name: Some(auth.user.display_name.clone()),
            unread: auth.unread,
            csrf: auth.csrf().to_string(),
            nav,
            flash: None,
            tz: state.config.timezone.clone(),
            loading: None,
        }
        .with_loading(state)
    }

    /// Says, on every page, that the demo city is still loading.
    pub fn with_loading(mut self, state: &AppState) -> Self {
        self.loading = state
            .config
            .demo_loading
            .as_ref()
            .and_then(|d| d.progress())
            .map(|n| {
                i18n::fill(
                    self.t("app.demo_loading"),
                    &[
                        ("n", &n.to_string()),
                        ("of", &crate::DemoLoading::PARTS.to_string()),
                    ],
                )
            });
        self
    }

    pub fn anonymous(lang: Lang, path: &str) -> Self {
        PageCtx {
            lang,
            path: path.to_string(),
            user_name: None,
            csrf: String::new(),
            nav: vec![],
            flash: None,
            unread: 0,
            loading: None,
            tz: jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC),
        }
    }

    /// Shows a notice from a `done=` query parameter after a redirect.
    pub fn with_flash(mut self, done: Option<&str>) -> Self {
        self.flash = done
            .map(|d| format!("flash.{d}"))
            .filter(|k| i18n::has(self.lang, k))
            .map(|k| i18n::t(self.lang, &k));
        self
    }

    pub fn t(&self, key: &str) -> &'static str {
        i18n::t(self.lang, key)
    }

    /// The error next to a form field, in words, or empty.
    pub fn ferr(&self, errors: &FieldErrors, field: &str) -> String {
        errors
            .for_field(field)
            .map(|code| crate::i18n::field_message(self.lang, code))
            .unwrap_or_default()
    }

    /// 2026-11-26 15:04 in the deployment's time zone.
    pub fn dt(&self, ts: &jiff::Timestamp) -> String {
        ts.to_zoned_datetime(self.tz.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    }

    pub fn dt_micros(&self, micros: &i64) -> String {
        self.dt(&wenming_store::ts(*micros))
    }

    /// A file's size: "340 KB", "2.1 MB".
    pub fn bytes(&self, n: &i64) -> String {
        let n = *n as f64;
        if n >= 1024.0 * 1024.0 {
            format!("{:.1} MB", n / (1024.0 * 1024.0))
        } else {
            format!("{:.0} KB", (n / 1024.0).ceil())
        }
    }

    pub fn num(&self, n: &i64) -> String {
        thousands(*n)
    }

    /// "共 1,234 条" / "1,234 in total".
    pub fn total(&self, n: &i64) -> String {
        i18n::fill(self.t("common.total"), &[("n", &thousands(*n))])
    }

    /// "超期 3 天" / "3 days overdue".
    pub fn counted_days(&self, n: i64) -> String {
        let key = if n == 1 {
            "case.day_overdue"
        } else {
            "case.days_overdue"
        };
        i18n::fill(self.t(key), &[("n", &n.to_string())])
    }

    /// A message with one placeholder filled.
    pub fn fill1(&self, key: &str, k: &str, v: impl std::fmt::Display) -> String {
        i18n::fill(self.t(key), &[(k, &v.to_string())])
    }

    /// A message with two placeholders filled.
    pub fn fill2(
        &self,
        key: &str,
        k1: &str,
        v1: impl std::fmt::Display,
        k2: &str,
        v2: impl std::fmt::Display,
    ) -> String {
        i18n::fill(self.t(key), &[(k1, &v1.to_string()), (k2, &v2.to_string())])
    }

    /// How long a case has waited for whoever acts next: "3 h", "2 days".
    pub fn waited(&self, since: Option<jiff::Timestamp>) -> String {
        since
            .map(|t| elapsed(self.lang, t, jiff::Timestamp::now()))
            .unwrap_or_default()
    }

    /// A field name from an audit snapshot, in words where we have them.
    pub fn field_label(&self, key: &str) -> String {
        let k = format!("audit_field.{key}");
        if i18n::has(self.lang, &k) {
            self.t(&k).to_string()
        } else {
            key.to_string()
        }
    }

    /// The message `prefix.code`, for enumerations shown by their code.
    pub fn label(&self, prefix: &str, code: &str) -> &'static str {
        self.t(&format!("{prefix}.{code}"))
    }

    /// "下级区域（3）" / "Sub-regions (3)".
    pub fn counted(&self, key: &str, n: impl std::fmt::Display) -> String {
        i18n::fill(
            self.t("common.counted"),
            &[("label", self.t(key)), ("n", &n.to_string())],
        )
    }

    /// A coordinate to six decimals (about 0.1 m), without float noise.
    pub fn coord(&self, v: &f64) -> String {
        format!("{v:.6}")
    }

    /// A snapshot value as a reader would say it.
    pub fn value_label(&self, v: &str) -> String {
        match v {
            "true" => self.t("common.yes").to_string(),
            "false" => self.t("common.no").to_string(),
            other => other.to_string(),
        }
    }

    /// A record type (`unit`, `api_token` ...) in words.
    pub fn entity_label(&self, kind: &str) -> String {
        let k = format!("audit_entity.{kind}");
        if i18n::has(self.lang, &k) {
            self.t(&k).to_string()
        } else {
            kind.to_string()
        }
    }

    pub fn lang_href(&self) -> String {
        format!(
            "/lang?to={}&back={}",
            self.lang.other().code(),
            urlencode(&self.path)
        )
    }

    pub fn opt<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
}

/// Time passed since `since`, in the unit a person would say it in:
/// minutes within the hour, hours within two days, then days.
pub fn elapsed(lang: i18n::Lang, since: jiff::Timestamp, now: jiff::Timestamp) -> String {
    let secs = (now.as_second() - since.as_second()).max(0);
    let (key, n) = if secs < 3600 {
        ("common.waited_minutes", secs / 60)
    } else if secs < 48 * 3600 {
        ("common.waited_hours", secs / 3600)
    } else {
        ("common.waited_days", secs / 86_400)
    };
    i18n::fill(i18n::t(lang, key), &[("n", &n.to_string())])
}

pub fn thousands(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A form page's status: 409 after a lost edit race, 422 with field errors.
pub fn form_status(errors: &FieldErrors, conflict: bool) -> StatusCode {
    if conflict {
        StatusCode::CONFLICT
    } else if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Only local paths are followed after login or a language switch, so a
/// crafted link cannot send a user to another site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_thousands() {
        assert_eq!(super::thousands(1234567), "1,234,567");
        assert_eq!(super::thousands(12), "12");
        assert_eq!(super::thousands(-1000), "-1,000");
    }

    #[test]
    fn next_must_be_local() {
        assert_eq!(super::safe_next(Some("/units?q=1")), "/units?q=1");
        assert_eq!(super::safe_next(Some("//evil.example")), "/");
        assert_eq!(super::safe_next(Some("https://evil.example")), "/");
        assert_eq!(super::safe_next(None), "/");
    }
}
