//! Users, role grants, passwords, login throttling, sessions and API tokens.

use crate::org::parse_uuid;
use crate::sql::{Sql, contains_pattern, flag};
use crate::{Ctx, Page, Store, StoreError, audit, now_micros, ts};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row, any::AnyRow};
use std::sync::OnceLock;
use uuid::Uuid;
use wenming_domain::account::{Grant, Role, ScopeRef, User, UserInput, lockout_after};
use wenming_domain::policy::{Actor, ActorGrant, Permit, Reach, may};

mod administrators;
use administrators::{administrator_grants, administrators_remain, guard_administrators};
use wenming_domain::validation::{full_to_half, match_key};

// ------------------------------------------------------------ secrets

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system's random source failed");
    hex::encode(buf)
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Argon2id with the library's defaults (19 MiB, 2 passes), off the async
/// threads because it is deliberately slow.
pub async fn hash_password(password: &str) -> String {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || hash_password_blocking(&password))
        .await
        .expect("password hashing task panicked")
}

fn hash_password_blocking(password: &str) -> String {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system's random source failed");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 accepts any password with default parameters")
        .to_string()
}

async fn verify_password(hash: String, password: &str) -> bool {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// Checked against when no account matches, so that an unknown name costs
/// the same time as a wrong password.
fn dummy_hash() -> String {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| hash_password_blocking("not a real password, only for timing"))
        .clone()
}

// ------------------------------------------------------------ users

const USER_COLUMNS: &str =
    "id, username, display_name, phone, unit_id, active, must_change_password, version, created_at";

fn user_from_row(r: &AnyRow) -> Result<User, StoreError> {
    let id: String = r.try_get("id")?;
    let unit: Option<String> = r.try_get("unit_id")?;
    let active: i64 = r.try_get("active")?;
    let must: i64 = r.try_get("must_change_password")?;
    Ok(User {
        id: parse_uuid(&id)?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        phone: r.try_get("phone")?,
        unit_id: unit.as_deref().map(parse_uuid).transpose()?,
        active: active != 0,
        must_change_password: must != 0,
        version: r.try_get("version")?,
        created_at: ts(r.try_get("created_at")?),
    })
}

async fn user_in_tx(conn: &mut AnyConnection, id: Uuid) -> Result<Option<User>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {USER_COLUMNS} FROM app_user WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(user_from_row).transpose()
}

pub async fn get_user(store: &Store, id: Uuid) -> Result<User, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {USER_COLUMNS} FROM app_user WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(store.reader())
    .await?;
    row.as_ref()
        .map(user_from_row)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

pub async fn user_count(store: &Store) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM app_user")
        .fetch_one(store.reader())
        .await?)
}

/// Users by username, filtered by a fragment of username or display name.
pub async fn list_users(
    store: &Store,
    q: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<User>, StoreError> {
    let mut sql = Sql::new(&format!("SELECT {USER_COLUMNS} FROM app_user WHERE 1 = 1"));
    if let Some(q) = q.filter(|q| !q.trim().is_empty()) {
        let p = sql.text_arg(contains_pattern(q.trim()));
        sql.push(&format!(
            " AND (LOWER(username) LIKE {p} ESCAPE '\\' OR LOWER(display_name) LIKE {p} ESCAPE '\\' OR phone LIKE {p} ESCAPE '\\')"
        ));
    }
    let count = sql.with_select(&format!("SELECT {USER_COLUMNS}"), "SELECT COUNT(*)");
    let total: i64 = count.query().fetch_one(store.reader()).await?.try_get(0)?;
    if let Some(a) = after {
        let p = sql.text_arg(a);
        sql.push(&format!(" AND username > {p}"));
    }
    let limit = limit.clamp(1, 500);
    let p = sql.int_arg(limit + 1);
    sql.push(&format!(" ORDER BY username LIMIT {p}"));
    let rows = sql.query().fetch_all(store.reader()).await?;
    let mut items: Vec<User> = rows.iter().map(user_from_row).collect::<Result<_, _>>()?;
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|u| u.username.clone())
    } else {
        None
    };
    Ok(Page { items, total, next })
}

fn unique_user(e: StoreError) -> StoreError {
    match &e {
        StoreError::Db(sqlx::Error::Database(d)) if e.is_unique_violation() => {
            if d.message().contains("phone") || d.constraint().is_some_and(|c| c.contains("phone"))
            {
                StoreError::invalid("phone", "duplicate")
            } else {
                StoreError::invalid("username", "duplicate")
            }
        }
        _ => e,
    }
}

async fn check_unit_exists(
    conn: &mut AnyConnection,
    unit_id: Option<Uuid>,
) -> Result<(), StoreError> {
    if let Some(u) = unit_id {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM unit WHERE id = $1")
            .bind(u.to_string())
            .fetch_one(&mut *conn)
            .await?;
        if n == 0 {
            return Err(StoreError::invalid("unit_id", "invalid_choice"));
        }
    }
    Ok(())
}

pub async fn create_user(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageUsers>,
    input: UserInput,
    must_change_password: bool,
) -> Result<User, StoreError> {
    StoreError::unless_city_wide(permit)?;
    let password = input
        .password
        .as_deref()
        .ok_or_else(|| StoreError::invalid("password", "required"))?;
    let hash = hash_password(password).await;
    let mut tx = store.begin().await?;
    check_unit_exists(&mut tx, input.unit_id).await?;
    let id = wenming_domain::new_id();
    let now = now_micros();
    sqlx::query(
        "INSERT INTO app_user (id, username, display_name, phone, unit_id, password_hash, active, \
         must_change_password, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9)",
    )
    .bind(id.to_string())
    .bind(&input.username)
    .bind(&input.display_name)
    .bind(&input.phone)
    .bind(input.unit_id.map(|u| u.to_string()))
    .bind(&hash)
    .bind(flag(input.active))
    .bind(flag(must_change_password))
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| unique_user(e.into()))?;
    let user = user_in_tx(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
    audit::created(&mut tx, ctx, "user", &id.to_string(), &user).await?;
    tx.commit().await?;
    Ok(user)
}

pub async fn update_user(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageUsers>,
    id: Uuid,
    expected_version: i64,
    input: UserInput,
) -> Result<User, StoreError> {
    StoreError::unless_city_wide(permit)?;
    if !input.active && Some(id) == permit.user_id() {
        // Locking yourself out leaves nobody to undo it.
        return Err(StoreError::invalid("active", "cannot_deactivate_self"));
    }
    let mut tx = store.begin().await?;
    if !input.active {
        guard_administrators(store, &mut tx).await?;
    }
    let before = user_in_tx(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
    if before.version != expected_version {
        return Err(StoreError::Conflict);
    }
    check_unit_exists(&mut tx, input.unit_id).await?;
    let n = sqlx::query(
        "UPDATE app_user SET username = $1, display_name = $2, phone = $3, unit_id = $4, active = $5, \
         version = version + 1, updated_at = $6 WHERE id = $7 AND version = $8",
    )
    .bind(&input.username)
    .bind(&input.display_name)
    .bind(&input.phone)
    .bind(input.unit_id.map(|u| u.to_string()))
    .bind(flag(input.active))
    .bind(now_micros())
    .bind(id.to_string())
    .bind(expected_version)
    .execute(&mut *tx)
    .await
    .map_err(|e| unique_user(e.into()))?;
    if n.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    if !input.active {
        administrators_remain(&mut tx, "active").await?;
        // A deactivated account is signed out everywhere at once.
        sqlx::query("DELETE FROM user_session WHERE user_id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
    }
    let after = user_in_tx(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
    audit::changed(
        &mut tx,
        ctx,
        "update",
        "user",
        &id.to_string(),
        &before,
        &after,
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// An administrator sets a temporary password, to be changed at the next
/// login; every session of the account ends.
pub async fn reset_password(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageUsers>,
    user_id: Uuid,
    new_password: &str,
) -> Result<(), StoreError> {
    StoreError::unless_city_wide(permit)?;
    set_password(store, ctx, user_id, new_password, true, None).await
}

/// The signed-in user changes their own password (checked against the
/// current one by the caller); `keep_session` is the hash of the session
/// that made the change, which stays signed in while the others end.
pub async fn change_own_password(
    store: &Store,
    ctx: &Ctx,
    user_id: Uuid,
    new_password: &str,
    keep_session: Option<&str>,
) -> Result<(), StoreError> {
    set_password(store, ctx, user_id, new_password, false, keep_session).await
}

/// Sets a new password and ends the user's other sessions.
async fn set_password(
    store: &Store,
    ctx: &Ctx,
    user_id: Uuid,
    new_password: &str,
    must_change: bool,
    keep_session: Option<&str>,
) -> Result<(), StoreError> {
    let hash = hash_password(new_password).await;
    let mut tx = store.begin().await?;
    let n = sqlx::query(
        "UPDATE app_user SET password_hash = $1, must_change_password = $2, version = version + 1, updated_at = $3 WHERE id = $4",
    )
    .bind(&hash)
    .bind(flag(must_change))
    .bind(now_micros())
    .bind(user_id.to_string())
    .execute(&mut *tx)
    .await?;
    if n.rows_affected() != 1 {
        return Err(StoreError::NotFound);
    }
    sqlx::query("DELETE FROM user_session WHERE user_id = $1 AND id_hash <> $2")
        .bind(user_id.to_string())
        .bind(keep_session.unwrap_or(""))
        .execute(&mut *tx)
        .await?;
    #[derive(Serialize)]
    struct PasswordChange {
        must_change_password: bool,
    }
    audit::append(
        &mut tx,
        ctx,
        "set_password",
        "user",
        &user_id.to_string(),
        None::<&()>,
        Some(&PasswordChange {
            must_change_password: must_change,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn check_current_password(
    store: &Store,
    user_id: Uuid,
    password: &str,
) -> Result<bool, StoreError> {
    let hash: Option<String> =
        sqlx::query_scalar("SELECT password_hash FROM app_user WHERE id = $1")
            .bind(user_id.to_string())
            .fetch_optional(store.reader())
            .await?;
    Ok(verify_password(hash.unwrap_or_else(dummy_hash), password).await)
}

// ------------------------------------------------------------ login

#[derive(Debug, Clone, PartialEq)]
pub enum LoginOutcome {
    Success {
        user_id: Uuid,
    },
    /// Wrong password, unknown name, or an inactive account: one answer.
    Invalid,
    Locked {
        until: jiff::Timestamp,
    },
}

/// The name a login attempt is throttled under: usernames fold case, phone
/// numbers fold width and separators, so variants share one counter.
fn login_key(login: &str) -> String {
    let folded: String = login
        .chars()
        .map(full_to_half)
        .filter(|c| !matches!(c, '-' | ' '))
        .collect();
    match_key(&folded)
}

/// The key an account's failures count under, whichever of its names
/// (username, phone) was typed: a lock holds for the account.
fn account_key(user_id: Uuid) -> String {
    format!("user:{user_id}")
}

pub async fn login(store: &Store, login: &str, password: &str) -> Result<LoginOutcome, StoreError> {
    let name = login_key(login);
    let now = now_micros();
    let row = sqlx::query(
        "SELECT id, password_hash, active FROM app_user WHERE username = $1 OR phone = $1 ORDER BY username LIMIT 1",
    )
    .bind(&name)
    .fetch_optional(store.reader())
    .await?;
    let (user_id, hash, active) = match &row {
        Some(r) => {
            let id: String = r.try_get("id")?;
            let active: i64 = r.try_get("active")?;
            (
                Some(parse_uuid(&id)?),
                r.try_get::<String, _>("password_hash")?,
                active != 0,
            )
        }
        None => (None, dummy_hash(), false),
    };
    // A name nobody has is throttled under itself, so unknown names lock
    // exactly as known ones do and cannot be told apart.
    let key = user_id.map_or(name, account_key);
    let locked: Option<Option<i64>> =
        sqlx::query_scalar("SELECT locked_until FROM login_throttle WHERE login_key = $1")
            .bind(&key)
            .fetch_optional(store.reader())
            .await?;
    if let Some(Some(until)) = locked
        && until > now
    {
        return Ok(LoginOutcome::Locked { until: ts(until) });
    }
    let ok = verify_password(hash, password).await;
    let mut tx = store.begin().await?;
    if let (true, true, Some(user_id)) = (ok, active, user_id) {
        sqlx::query("DELETE FROM login_throttle WHERE login_key = $1")
            .bind(&key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        return Ok(LoginOutcome::Success { user_id });
    }
    sqlx::query(
        "INSERT INTO login_throttle (login_key, failures, locked_until, last_failure_at) VALUES ($1, 1, NULL, $2) \
         ON CONFLICT (login_key) DO UPDATE SET failures = login_throttle.failures + 1, last_failure_at = $2",
    )
    .bind(&key)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let failures: i64 =
        sqlx::query_scalar("SELECT failures FROM login_throttle WHERE login_key = $1")
            .bind(&key)
            .fetch_one(&mut *tx)
            .await?;
    let outcome = match lockout_after(failures as u32) {
        Some(wait) => {
            let until = now + wait.as_micros() as i64;
            sqlx::query("UPDATE login_throttle SET locked_until = $1 WHERE login_key = $2")
                .bind(until)
                .bind(&key)
                .execute(&mut *tx)
                .await?;
            LoginOutcome::Locked { until: ts(until) }
        }
        None => LoginOutcome::Invalid,
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Lifts an account's lockout (an administrator's action).
pub async fn unlock(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageUsers>,
    user: &User,
) -> Result<(), StoreError> {
    StoreError::unless_city_wide(permit)?;
    let mut tx = store.begin().await?;
    sqlx::query("DELETE FROM login_throttle WHERE login_key = $1")
        .bind(account_key(user.id))
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        ctx,
        "unlock",
        "user",
        &user.id.to_string(),
        None::<&()>,
        None::<&()>,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ------------------------------------------------------------ sessions

/// Sessions end after this long without a request.
pub const SESSION_IDLE_MICROS: i64 = 12 * 3600 * 1_000_000;

#[derive(Debug, Clone)]
pub struct Session {
    pub id_hash: String,
    pub user_id: Uuid,
    pub csrf_token: String,
}

/// Starts a session; returns the cookie value (only its hash is stored).
pub async fn create_session(
    store: &Store,
    ctx: &Ctx,
    user_id: Uuid,
) -> Result<(String, Session), StoreError> {
    let token = random_hex(32);
    let s = Session {
        id_hash: sha256_hex(&token),
        user_id,
        csrf_token: random_hex(32),
    };
    let now = now_micros();
    let mut tx = store.begin().await?;
    // Sweep sessions that ran out, so the table does not grow without end.
    sqlx::query("DELETE FROM user_session WHERE expires_at < $1")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO user_session (id_hash, user_id, csrf_token, created_at, expires_at, last_seen_at) \
         VALUES ($1, $2, $3, $4, $5, $4)",
    )
    .bind(&s.id_hash)
    .bind(user_id.to_string())
    .bind(&s.csrf_token)
    .bind(now)
    .bind(now + SESSION_IDLE_MICROS)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        ctx,
        "login",
        "user",
        &user_id.to_string(),
        None::<&()>,
        None::<&()>,
    )
    .await?;
    tx.commit().await?;
    Ok((token, s))
}

/// The live session for a cookie value, extending its idle deadline (at most
/// once a minute, to keep reads from turning into writes).
pub async fn lookup_session(store: &Store, token: &str) -> Result<Option<Session>, StoreError> {
    let id_hash = sha256_hex(token);
    let now = now_micros();
    let row = sqlx::query(
        "SELECT s.user_id, s.csrf_token, s.last_seen_at FROM user_session s JOIN app_user u ON u.id = s.user_id \
         WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.active = 1",
    )
    .bind(&id_hash)
    .bind(now)
    .fetch_optional(store.reader())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let last_seen: i64 = row.try_get("last_seen_at")?;
    if now - last_seen > 60_000_000 {
        sqlx::query(
            "UPDATE user_session SET last_seen_at = $1, expires_at = $2 WHERE id_hash = $3",
        )
        .bind(now)
        .bind(now + SESSION_IDLE_MICROS)
        .bind(&id_hash)
        .execute(store.writer())
        .await?;
    }
    let user_id: String = row.try_get("user_id")?;
    Ok(Some(Session {
        id_hash,
        user_id: parse_uuid(&user_id)?,
        csrf_token: row.try_get("csrf_token")?,
    }))
}

pub async fn end_session(store: &Store, id_hash: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM user_session WHERE id_hash = $1 OR expires_at < $2")
        .bind(id_hash)
        .bind(now_micros())
        .execute(store.writer())
        .await?;
    Ok(())
}

// ------------------------------------------------------------ grants and actors

pub async fn grants_of(store: &Store, user_id: Uuid) -> Result<Vec<Grant>, StoreError> {
    let rows = sqlx::query(
        "SELECT g.id, g.user_id, g.role, g.scope_kind, g.scope_id, COALESCE(r.name, un.name, '?') AS scope_name \
         FROM role_grant g LEFT JOIN region r ON g.scope_kind = 'region' AND r.id = g.scope_id \
         LEFT JOIN unit un ON g.scope_kind = 'unit' AND un.id = g.scope_id \
         WHERE g.user_id = $1 ORDER BY g.role, scope_name",
    )
    .bind(user_id.to_string())
    .fetch_all(store.reader())
    .await?;
    rows.iter()
        .map(|r| {
            let id: String = r.try_get("id")?;
            let uid: String = r.try_get("user_id")?;
            let role: String = r.try_get("role")?;
            let kind: String = r.try_get("scope_kind")?;
            let sid: String = r.try_get("scope_id")?;
            Ok(Grant {
                id: parse_uuid(&id)?,
                user_id: parse_uuid(&uid)?,
                role: Role::parse(&role)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown role {role}")))?,
                scope: ScopeRef::from_parts(&kind, parse_uuid(&sid)?)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown scope kind {kind}")))?,
                scope_name: r.try_get("scope_name")?,
            })
        })
        .collect()
}

pub async fn add_grant(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageUsers>,
    user_id: Uuid,
    role: Role,
    scope: ScopeRef,
) -> Result<Grant, StoreError> {
    StoreError::unless_city_wide(permit)?;
    if role.scoped_to_unit() != matches!(scope, ScopeRef::Unit(_)) {
        return Err(StoreError::invalid("scope", "scope_kind_mismatch"));
    }
    let mut tx = store.begin().await?;
    user_in_tx(&mut tx, user_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let table = match scope {
        ScopeRef::Region(_) => "region",
        ScopeRef::Unit(_) => "unit",
    };
    let exists: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE id = $1"))
        .bind(scope.id().to_string())
        .fetch_one(&mut *tx)
        .await?;
    if exists == 0 {
        return Err(StoreError::invalid("scope", "invalid_choice"));
    }
    let id = wenming_domain::new_id();
    sqlx::query(
        "INSERT INTO role_grant (id, user_id, role, scope_kind, scope_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.to_string())
    .bind(user_id.to_string())
    .bind(role.code())
    .bind(scope.kind())
    .bind(scope.id().to_string())
    .bind(now_micros())
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        let e = StoreError::from(e);
        if e.is_unique_violation() { StoreError::invalid("role", "duplicate") } else { e }
    })?;
    #[derive(Serialize)]
    struct G<'a> {
        user_id: Uuid,
        role: &'a str,
        scope: ScopeRef,
    }
    let g = G {
        user_id,
        role: role.code(),
        scope,
    };
    audit::append(
        &mut tx,
        ctx,
        "grant",
        "user",
        &user_id.to_string(),
        None::<&()>,
        Some(&g),
    )
    .await?;
    tx.commit().await?;
    grants_of(store, user_id)
        .await?
        .into_iter()
        .find(|g| g.id == id)
        .ok_or(StoreError::NotFound)
}

pub async fn remove_grant(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageUsers>,
    user_id: Uuid,
    grant_id: Uuid,
) -> Result<(), StoreError> {
    StoreError::unless_city_wide(permit)?;
    let grants = grants_of(store, user_id).await?;
    let g = grants
        .iter()
        .find(|g| g.id == grant_id)
        .ok_or(StoreError::NotFound)?;
    let mut tx = store.begin().await?;
    guard_administrators(store, &mut tx).await?;
    let n = sqlx::query("DELETE FROM role_grant WHERE id = $1 AND user_id = $2")
        .bind(grant_id.to_string())
        .bind(user_id.to_string())
        .execute(&mut *tx)
        .await?;
    if n.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    // Judged after the delete, in the same transaction: another
    // administrator revoking at the same moment waits on the lock above and
    // then sees this one gone.
    if Some(user_id) == permit.user_id() && administrator_grants(&mut tx, user_id).await? == 0 {
        return Err(StoreError::invalid("role", "cannot_remove_own_admin"));
    }
    administrators_remain(&mut tx, "role").await?;
    audit::append(
        &mut tx,
        ctx,
        "revoke",
        "user",
        &user_id.to_string(),
        Some(g),
        None::<&()>,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Everything a request needs to know about who is asking.
pub async fn resolve_actor(
    store: &Store,
    user_id: Uuid,
    read_only: bool,
) -> Result<Option<(User, Actor)>, StoreError> {
    let rows = sqlx::query(&ACTOR_BY_USER)
        .bind(user_id.to_string())
        .fetch_all(store.reader())
        .await?;
    actor_from_rows(&rows, read_only)
}

/// The account and its grants in one query: every request asks this, so
/// it is one round trip, not two.
fn actor_select() -> String {
    let user: Vec<String> = USER_COLUMNS.split(", ").map(|c| format!("u.{c}")).collect();
    format!(
        "SELECT {}, g.role, g.scope_kind, g.scope_id, r.path FROM app_user u \
         LEFT JOIN role_grant g ON g.user_id = u.id \
         LEFT JOIN region r ON g.scope_kind = 'region' AND r.id = g.scope_id",
        user.join(", ")
    )
}

static ACTOR_BY_USER: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{} WHERE u.id = $1", actor_select()));

static ACTOR_BY_TOKEN: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{} JOIN api_token t ON t.user_id = u.id WHERE t.token_hash = $1 \
         AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)",
        actor_select().replacen(
            "SELECT ",
            "SELECT t.id AS token_id, t.read_only, t.last_used_at, ",
            1
        )
    )
});

/// One row per grant (or one with no grant): the active user and what they may do.
fn actor_from_rows(rows: &[AnyRow], read_only: bool) -> Result<Option<(User, Actor)>, StoreError> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let user = user_from_row(first)?;
    if !user.active {
        return Ok(None);
    }
    let mut grants = vec![];
    for r in rows {
        let (Some(role), Some(kind), Some(sid)) = (
            r.try_get::<Option<String>, _>("role")?,
            r.try_get::<Option<String>, _>("scope_kind")?,
            r.try_get::<Option<String>, _>("scope_id")?,
        ) else {
            continue;
        };
        let path: Option<String> = r.try_get("path")?;
        let Some(role) = Role::parse(&role) else {
            continue;
        };
        let id = parse_uuid(&sid)?;
        let reach = match (kind.as_str(), path) {
            ("region", Some(path)) => Reach::Region { id, path },
            ("unit", _) => Reach::Unit { id },
            _ => continue,
        };
        grants.push(ActorGrant { role, reach });
    }
    let actor = Actor {
        user_id: user.id,
        display_name: user.display_name.clone(),
        grants,
        read_only,
    };
    Ok(Some((user, actor)))
}

// ------------------------------------------------------------ API tokens

#[derive(Debug, Clone, Serialize)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    /// The first characters, so a user can tell tokens apart.
    pub prefix: String,
    pub read_only: bool,
    pub created_at: jiff::Timestamp,
    pub expires_at: Option<jiff::Timestamp>,
    pub last_used_at: Option<jiff::Timestamp>,
    pub revoked_at: Option<jiff::Timestamp>,
}

fn token_from_row(r: &AnyRow) -> Result<ApiToken, StoreError> {
    let id: String = r.try_get("id")?;
    let ro: i64 = r.try_get("read_only")?;
    let exp: Option<i64> = r.try_get("expires_at")?;
    let used: Option<i64> = r.try_get("last_used_at")?;
    let rev: Option<i64> = r.try_get("revoked_at")?;
    Ok(ApiToken {
        id: parse_uuid(&id)?,
        name: r.try_get("name")?,
        prefix: r.try_get("prefix")?,
        read_only: ro != 0,
        created_at: ts(r.try_get("created_at")?),
        expires_at: exp.map(ts),
        last_used_at: used.map(ts),
        revoked_at: rev.map(ts),
    })
}

pub async fn list_tokens(store: &Store, user_id: Uuid) -> Result<Vec<ApiToken>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, name, prefix, read_only, created_at, expires_at, last_used_at, revoked_at FROM api_token \
         WHERE user_id = $1 ORDER BY created_at DESC",
    )
    .bind(user_id.to_string())
    .fetch_all(store.reader())
    .await?;
    rows.iter().map(token_from_row).collect()
}

/// Issues a token; the secret is returned once and only its hash is kept.
pub async fn create_token(
    store: &Store,
    ctx: &Ctx,
    user_id: Uuid,
    name: &str,
    read_only: bool,
    valid_days: Option<i64>,
) -> Result<(ApiToken, String), StoreError> {
    let secret = format!("wm_{}", random_hex(24));
    let id = wenming_domain::new_id();
    let now = now_micros();
    let mut tx = store.begin().await?;
    sqlx::query(
        "INSERT INTO api_token (id, user_id, name, token_hash, prefix, read_only, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id.to_string())
    .bind(user_id.to_string())
    .bind(name)
    .bind(sha256_hex(&secret))
    .bind(&secret[..10])
    .bind(flag(read_only))
    .bind(now)
    .bind(valid_days.map(|d| now + d * 86_400_000_000))
    .execute(&mut *tx)
    .await?;
    let row = sqlx::query(
        "SELECT id, name, prefix, read_only, created_at, expires_at, last_used_at, revoked_at FROM api_token WHERE id = $1",
    )
    .bind(id.to_string())
    .fetch_one(&mut *tx)
    .await?;
    let token = token_from_row(&row)?;
    audit::created(&mut tx, ctx, "api_token", &id.to_string(), &token).await?;
    tx.commit().await?;
    Ok((token, secret))
}

pub async fn revoke_token(
    store: &Store,
    ctx: &Ctx,
    user_id: Uuid,
    token_id: Uuid,
) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    let n = sqlx::query("UPDATE api_token SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
        .bind(now_micros())
        .bind(token_id.to_string())
        .bind(user_id.to_string())
        .execute(&mut *tx)
        .await?;
    if n.rows_affected() != 1 {
        return Err(StoreError::NotFound);
    }
    audit::append(
        &mut tx,
        ctx,
        "revoke",
        "api_token",
        &token_id.to_string(),
        None::<&()>,
        None::<&()>,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The user and access level behind a bearer token, if it is live.
pub async fn authenticate_token(
    store: &Store,
    secret: &str,
) -> Result<Option<(User, Actor)>, StoreError> {
    let now = now_micros();
    let rows = sqlx::query(&ACTOR_BY_TOKEN)
        .bind(sha256_hex(secret))
        .bind(now)
        .fetch_all(store.reader())
        .await?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let id: String = r.try_get("token_id")?;
    let ro: i64 = r.try_get("read_only")?;
    let used: Option<i64> = r.try_get("last_used_at")?;
    if used.is_none_or(|u| now - u > 60_000_000) {
        sqlx::query("UPDATE api_token SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(&id)
            .execute(store.writer())
            .await?;
    }
    actor_from_rows(&rows, ro != 0)
}
