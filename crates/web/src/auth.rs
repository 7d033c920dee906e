//! Who is asking: a session cookie (people) or a bearer token (machines),
//! resolved to the user and the grants the policy decides with.

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use wenming_domain::account::User;
use wenming_domain::policy::{self, Action, Actor, Decision, Permission, Permit, Resource, Scope};
use wenming_store::Ctx;
use wenming_store::accounts::{self, Session};

pub const SESSION_COOKIE: &str = "wm_session";
pub const LANG_COOKIE: &str = "wm_lang";
/// Double-submit token for the login form, before any session exists.
pub const PRE_SESSION_COOKIE: &str = "wm_pre";

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

pub fn set_cookie(name: &str, value: &str, max_age_secs: Option<i64>, secure: bool) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age_secs {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// The language chosen by cookie, else by Accept-Language, else Chinese.
pub fn request_lang(headers: &HeaderMap) -> Lang {
    cookie(headers, LANG_COOKIE)
        .and_then(|c| Lang::parse(&c))
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or(Lang::Zh)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

pub fn has_bearer(headers: &HeaderMap) -> bool {
    bearer(headers).is_some()
}

pub fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Byte comparison whose time does not depend on where inputs differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl FromRequestParts<AppState> for Lang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        Ok(request_lang(&parts.headers))
    }
}

/// A signed-in user. Extracting it answers 401 (API) or redirects to the
/// login page (UI) when nobody is signed in.
#[derive(Clone)]
pub struct Auth {
    pub user: User,
    pub actor: Actor,
    /// None when the request came with an API token.
    pub session: Option<Session>,
    pub lang: Lang,
    pub request_id: Option<String>,
    pub path: String,
    /// Unread notifications, for the page header (0 for API calls).
    pub unread: i64,
}

impl Auth {
    pub fn ctx(&self) -> Ctx {
        Ctx {
            actor_id: Some(self.user.id),
            actor_name: format!("{} ({})", self.user.display_name, self.user.username),
            request_id: self.request_id.clone(),
        }
    }

    /// The rows this user may touch for `action`, or Forbidden.
    pub fn scope(&self, action: Action) -> AppResult<Scope> {
        policy::scope_for(&self.actor, action).ok_or(AppError::Forbidden)
    }

    /// The policy's permit for a write action, or Forbidden. Store writes
    /// take it; it carries the rows the user's grants reach.
    pub fn permit<P: Permission>(&self) -> AppResult<Permit<P>> {
        Permit::of(&self.actor).ok_or(AppError::Forbidden)
    }

    pub fn check(&self, action: Action, resource: Resource<'_>) -> AppResult<()> {
        match policy::decide(&self.actor, action, resource) {
            Decision::Allow => Ok(()),
            Decision::Forbidden => Err(AppError::Forbidden),
            Decision::NotFound => Err(AppError::NotFound),
        }
    }

    pub fn may(&self, action: Action) -> bool {
        self.actor.may(action)
    }

    pub fn csrf(&self) -> &str {
        self.session.as_ref().map_or("", |s| s.csrf_token.as_str())
    }
}

/// A signed-in user whose roles carry the write `P`, with the policy's
/// permit for it. Taken before the body, so that a caller who may not make
/// a write hears 403 before anything about what they sent.
pub struct Can<P> {
    pub auth: Auth,
    pub permit: Permit<P>,
}

impl<P: Permission + Send + Sync> FromRequestParts<AppState> for Can<P> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> AppResult<Self> {
        let auth = Auth::from_request_parts(parts, state).await?;
        let permit = auth.permit::<P>()?;
        Ok(Can { auth, permit })
    }
}

/// The path as the client sent it: nested routers see it without their prefix.
fn full_path(parts: &Parts) -> String {
    parts
        .extensions
        .get::<axum::extract::OriginalUri>()
        .map_or_else(|| parts.uri.path().to_string(), |u| u.0.path().to_string())
}

async fn authenticate(parts: &Parts, state: &AppState) -> AppResult<Option<Auth>> {
    let store = &state.store;
    let (resolved, session) = if let Some(token) = bearer(&parts.headers) {
        match accounts::authenticate_token(store, token).await? {
            Some(r) => (Some(r), None),
            None => return Err(AppError::Unauthorized),
        }
    } else if let Some(c) = cookie(&parts.headers, SESSION_COOKIE) {
        match accounts::lookup_session(store, &c).await? {
            Some(s) => (
                accounts::resolve_actor(store, s.user_id, false).await?,
                Some(s),
            ),
            None => return Ok(None),
        }
    } else {
        return Ok(None);
    };
    let Some((user, actor)) = resolved else {
        return Ok(None);
    };
    // Pages show the count in their header; API calls do not pay for it.
    let unread = if session.is_some() && !full_path(parts).starts_with("/api/") {
        wenming_store::escalation::unread(store, user.id).await?
    } else {
        0
    };
    Ok(Some(Auth {
        unread,
        user,
        actor,
        session,
        lang: request_lang(&parts.headers),
        request_id: request_id(&parts.headers),
        path: full_path(parts),
    }))
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> AppResult<Self> {
        let auth = authenticate(parts, state)
            .await?
            .ok_or(AppError::Unauthorized)?;
        let path = auth.path.as_str();
        let is_api = path.starts_with("/api/");
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        // A read-only token reads: any other method is a change, whatever
        // the handler would have asked the policy (revoking a token, marking
        // a notification read).
        if auth.actor.read_only && !safe {
            return Err(AppError::Forbidden);
        }
        // A browser calling the API with its session cookie must prove the
        // call came from our page.
        if is_api && auth.session.is_some() && !safe {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !same_secret(sent, auth.csrf()) {
                return Err(AppError::Csrf);
            }
        }
        let exempt = [
            "/account",
            "/account/password",
            "/logout",
            "/api/v1/me",
            "/api/v1/me/password",
        ];
        if auth.user.must_change_password && !exempt.contains(&path) {
            return Err(AppError::PasswordChangeRequired);
        }
        Ok(auth)
    }
}

/// The signed-in user, if any, for pages anyone may see (the login page).
pub struct MaybeAuth(pub Option<Auth>);

impl FromRequestParts<AppState> for MaybeAuth {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> AppResult<Self> {
        match authenticate(parts, state).await {
            Ok(a) => Ok(MaybeAuth(a)),
            Err(AppError::Unauthorized) => Ok(MaybeAuth(None)),
            Err(e) => Err(e),
        }
    }
}

impl Auth {
    /// For forms read by hand (multipart uploads): the token must be this
    /// session's.
    pub fn check_csrf(&self, token: &str) -> AppResult<()> {
        if self.session.is_some() && same_secret(token, self.csrf()) {
            Ok(())
        } else {
            Err(AppError::Csrf)
        }
    }
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// A form posted by a signed-in user, accepted only with the session's CSRF
/// token in its `csrf` field.
pub struct CsrfForm<T> {
    pub auth: Auth,
    pub form: T,
}

pub const MAX_FORM_BYTES: usize = 1 << 20;

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &AppState) -> AppResult<Self> {
        let (mut parts, body) = req.into_parts();
        let auth = Auth::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| {
                AppError::Invalid(wenming_domain::FieldErrors::single("form", "too_long"))
            })?;
        let token: CsrfField = serde_urlencoded::from_bytes(&bytes).map_err(|_| AppError::Csrf)?;
        if auth.session.is_none() || !same_secret(&token.csrf, auth.csrf()) {
            return Err(AppError::Csrf);
        }
        let form: T = serde_urlencoded::from_bytes(&bytes).map_err(|_| {
            AppError::Invalid(wenming_domain::FieldErrors::single("form", "malformed"))
        })?;
        Ok(CsrfForm { auth, form })
    }
}

/// At most this many photos come with one form.
pub const MAX_PHOTOS: usize = 9;

/// The file inputs a multipart form may carry: their field name, the cap on
/// each, how many, and the error codes when one is too large or too many.
struct Files {
    field: &'static str,
    cap: usize,
    most: usize,
    too_large: &'static str,
    too_many: &'static str,
}

/// Reads a multipart form: its text fields and its files. A file over the
/// cap stops being kept at the cap (the form comes back with the reason);
/// past twice what the form may carry, the request is cut off.
async fn read_parts(
    mp: &mut axum::extract::Multipart,
    files: Files,
) -> AppResult<(
    Vec<(String, String)>,
    Vec<bytes::Bytes>,
    Option<&'static str>,
)> {
    let malformed = || AppError::Invalid(wenming_domain::FieldErrors::single("form", "malformed"));
    let ceiling = 2 * (files.most * files.cap + MAX_FORM_BYTES);
    let mut read = 0usize;
    let (mut pairs, mut kept, mut error) = (vec![], vec![], None);
    while let Some(mut field) = mp.next_field().await.map_err(|_| malformed())? {
        let name = field.name().unwrap_or("").to_string();
        let is_file = name == files.field;
        let limit = if is_file { files.cap } else { MAX_FORM_BYTES };
        let mut bytes = vec![];
        let mut too_big = false;
        while let Some(chunk) = field.chunk().await.map_err(|_| malformed())? {
            read += chunk.len();
            if read > ceiling {
                return Err(AppError::PayloadTooLarge);
            }
            if too_big || bytes.len() + chunk.len() > limit {
                too_big = true;
                continue;
            }
            bytes.extend_from_slice(&chunk);
        }
        if !is_file {
            if too_big {
                return Err(malformed());
            }
            pairs.push((name, String::from_utf8(bytes).map_err(|_| malformed())?));
        } else if too_big {
            error = Some(files.too_large);
        } else if kept.len() >= files.most {
            error = Some(files.too_many);
        } else if !bytes.is_empty() {
            // An empty file input still sends an empty part.
            kept.push(bytes::Bytes::from(bytes));
        }
    }
    Ok((pairs, kept, error))
}

/// Whether a form was posted as multipart (a file input with a file).
fn is_multipart(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"))
}

/// A multipart form's text fields as `T`, once its CSRF token checks out.
fn checked_form<T: DeserializeOwned>(auth: &Auth, pairs: &[(String, String)]) -> AppResult<T> {
    let malformed = || AppError::Invalid(wenming_domain::FieldErrors::single("form", "malformed"));
    let csrf = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    auth.check_csrf(csrf)?;
    let encoded = serde_urlencoded::to_string(pairs).map_err(|_| malformed())?;
    serde_urlencoded::from_str(&encoded).map_err(|_| malformed())
}

/// A form with one document (`file`), as a material is filed: its fields,
/// the file when one came, and the file's error when it was too large. The
/// CSRF token is checked before anything is kept.
pub struct CsrfUpload<T> {
    pub auth: Auth,
    pub form: T,
    pub file: Option<bytes::Bytes>,
    pub file_error: Option<&'static str>,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfUpload<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &AppState) -> AppResult<Self> {
        let malformed =
            || AppError::Invalid(wenming_domain::FieldErrors::single("form", "malformed"));
        if !is_multipart(&req) {
            // Posted plainly, the form has its fields and no file.
            let f = CsrfForm::<T>::from_request(req, state).await?;
            return Ok(CsrfUpload {
                auth: f.auth,
                form: f.form,
                file: None,
                file_error: None,
            });
        }
        let (mut parts, body) = req.into_parts();
        let auth = Auth::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let mut mp = axum::extract::Multipart::from_request(req, state)
            .await
            .map_err(|_| malformed())?;
        let (pairs, mut files, file_error) = read_parts(
            &mut mp,
            Files {
                field: "file",
                cap: state.config.material_max_bytes,
                most: 1,
                too_large: "material_too_large",
                too_many: "one_file",
            },
        )
        .await?;
        let form: T = checked_form(&auth, &pairs)?;
        Ok(CsrfUpload {
            auth,
            form,
            file: files.pop(),
            file_error,
        })
    }
}

/// A form that may carry photos (a report, a step): its text fields, as
/// `CsrfForm` would read them, and the files sent as `photos` when it is
/// posted as multipart. The CSRF
/// token is checked before anything is kept; a photo over the size cap stops
/// the read at the cap instead of buffering the rest.
pub struct CsrfMultipart<T> {
    pub auth: Auth,
    pub form: T,
    pub photos: Vec<bytes::Bytes>,
    /// Set when a photo was too big or too many came: the field's error.
    pub photo_error: Option<&'static str>,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfMultipart<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &AppState) -> AppResult<Self> {
        if !is_multipart(&req) {
            // A form with no file input posts plainly: same fields, no photos.
            let f = CsrfForm::<T>::from_request(req, state).await?;
            return Ok(CsrfMultipart {
                auth: f.auth,
                form: f.form,
                photos: vec![],
                photo_error: None,
            });
        }
        let (mut parts, body) = req.into_parts();
        let auth = Auth::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let mut mp = axum::extract::Multipart::from_request(req, state)
            .await
            .map_err(|_| {
                AppError::Invalid(wenming_domain::FieldErrors::single("form", "malformed"))
            })?;
        let cap = state.config.photo_rules.max_bytes;
        let (pairs, photos, photo_error) = read_parts(
            &mut mp,
            Files {
                field: "photos",
                cap,
                most: MAX_PHOTOS,
                too_large: "photo_too_large",
                too_many: "too_many_photos",
            },
        )
        .await?;
        let form: T = checked_form(&auth, &pairs)?;
        Ok(CsrfMultipart {
            auth,
            form,
            photos,
            photo_error,
        })
    }
}
