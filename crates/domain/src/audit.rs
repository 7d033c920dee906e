//! The audit log: every change, hash-chained so that a row edited or deleted
//! behind the application's back is detected.
//!
//! Each record's hash covers its own fields and the previous record's hash.
//! Fields are hashed exactly as stored (before/after as JSON text), with
//! length prefixes so no two field lists hash alike.

use serde::Serialize;
use sha2::{Digest, Sha256};

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Every kind of record the log is kept for; each has its label in both
/// catalogues (`audit_entity.*`), which a test checks.
pub const ENTITY_TYPES: &[&str] = &[
    "region",
    "unit",
    "person",
    "user",
    "api_token",
    "calendar_day",
    "case",
    "category",
    "framework",
    "inspection",
    "inspection_round",
    "round_site",
    "routing_rule",
    "site",
    "site_type",
    "standard",
    "task",
    "evidence_requirement",
    "material",
    "submission",
    "questionnaire",
    "survey_wave",
    "rating_round",
    "rating_comment",
    "score_assessment",
    "score_survey_rule",
    "negative_event",
    "gate_result",
    "annual_result",
    "score_snapshot",
    "ranking_list",
    "ranking_edition",
    "ranking_appeal",
];

/// Every action the log records besides a case's steps
/// (`case::STEP_CODES`), each labelled in both catalogues (`audit_action.*`).
pub const ACTIONS: &[&str] = &[
    "create",
    "update",
    "move",
    "delete",
    "close",
    "progress",
    "reassign",
    "import",
    "reimport",
    "login",
    "set_password",
    "unlock",
    "grant",
    "revoke",
    "escalate",
    "link",
    "accept",
    "return",
    "publish",
    "open",
    "approve",
    "reject",
    "correct",
    "appeal",
    "uphold",
];

/// Whether `action` on `entity_type` is one the log's readers have words for.
pub fn is_labelled(action: &str, entity_type: &str) -> bool {
    ENTITY_TYPES.contains(&entity_type)
        && (ACTIONS.contains(&action) || crate::case::STEP_CODES.contains(&action))
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    pub seq: i64,
    pub id: String,
    /// Microseconds since the Unix epoch, UTC.
    pub at_micros: i64,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub request_id: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRecord {
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        let mut field = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        };
        let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "\u{0}null".into());
        field(self.prev_hash.as_bytes());
        field(&self.seq.to_be_bytes());
        field(self.id.as_bytes());
        field(&self.at_micros.to_be_bytes());
        field(opt(&self.actor_id).as_bytes());
        field(self.actor_name.as_bytes());
        field(opt(&self.request_id).as_bytes());
        field(self.action.as_bytes());
        field(self.entity_type.as_bytes());
        field(self.entity_id.as_bytes());
        field(opt(&self.before_json).as_bytes());
        field(opt(&self.after_json).as_bytes());
        hex::encode(h.finalize())
    }

    /// Fills `prev_hash` and `hash` to extend a chain whose last record has
    /// `prev_hash` and sequence `seq - 1`.
    pub fn seal(mut self, prev_hash: &str) -> Self {
        self.prev_hash = prev_hash.to_string();
        self.hash = self.compute_hash();
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrokenLink {
    /// The record's stored hash does not match its contents: it was edited.
    Altered { seq: i64 },
    /// The record does not point at its predecessor: a record before it was
    /// removed or replaced.
    Unlinked { seq: i64 },
    /// Sequence numbers jump: records were deleted.
    Missing { expected_seq: i64, found_seq: i64 },
    /// The chain ends before the recorded head: its last records were deleted.
    Truncated { last_seq: i64, head_seq: i64 },
}

impl std::fmt::Display for BrokenLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BrokenLink::Altered { seq } => {
                write!(
                    f,
                    "audit record {seq} was altered: its contents no longer match its hash"
                )
            }
            BrokenLink::Unlinked { seq } => write!(
                f,
                "audit record {seq} does not follow from the record before it: an earlier record was replaced"
            ),
            BrokenLink::Missing {
                expected_seq,
                found_seq,
            } => write!(
                f,
                "audit records {expected_seq} to {} are missing: they were deleted",
                found_seq - 1
            ),
            BrokenLink::Truncated { last_seq, head_seq } => write!(
                f,
                "audit records after {last_seq} (up to {head_seq}) are missing: they were deleted"
            ),
        }
    }
}

/// Walks records in sequence order and reports the first broken link.
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
    pub checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.into(),
            checked: 0,
        }
    }
}

impl ChainVerifier {
    pub fn feed(&mut self, r: &AuditRecord) -> Result<(), BrokenLink> {
        if r.seq != self.expected_seq {
            return Err(BrokenLink::Missing {
                expected_seq: self.expected_seq,
                found_seq: r.seq,
            });
        }
        if r.compute_hash() != r.hash {
            return Err(BrokenLink::Altered { seq: r.seq });
        }
        if r.prev_hash != self.prev_hash {
            return Err(BrokenLink::Unlinked { seq: r.seq });
        }
        self.prev_hash = r.hash.clone();
        self.expected_seq += 1;
        self.checked += 1;
        Ok(())
    }

    /// The head row records the last sequence and hash the application wrote.
    pub fn finish(&self, head_seq: i64, head_hash: &str) -> Result<(), BrokenLink> {
        let last = self.expected_seq - 1;
        if last < head_seq {
            return Err(BrokenLink::Truncated {
                last_seq: last,
                head_seq,
            });
        }
        if last == head_seq && self.prev_hash != head_hash {
            return Err(BrokenLink::Altered { seq: last });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut prev = GENESIS_HASH.to_string();
        (1..=n)
            .map(|seq| {
                let r = AuditRecord {
                    seq,
                    id: format!("id{seq}"),
                    at_micros: seq * 1000,
                    actor_id: None,
                    actor_name: "system".into(),
                    request_id: None,
                    action: "update".into(),
                    entity_type: "unit".into(),
                    entity_id: "u1".into(),
                    before_json: Some(format!("{{\"n\":{}}}", seq - 1)),
                    after_json: Some(format!("{{\"n\":{seq}}}")),
                    prev_hash: String::new(),
                    hash: String::new(),
                }
                .seal(&prev);
                prev = r.hash.clone();
                r
            })
            .collect()
    }

    fn verify(rows: &[AuditRecord], head: &AuditRecord) -> Result<(), BrokenLink> {
        let mut v = ChainVerifier::default();
        for r in rows {
            v.feed(r)?;
        }
        v.finish(head.seq, &head.hash)
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify(&c, &c[4]), Ok(()));
    }

    #[test]
    fn an_edited_record_is_found() {
        let mut c = chain(5);
        let head = c[4].clone();
        c[2].after_json = Some("{\"n\":99}".into());
        assert_eq!(verify(&c, &head), Err(BrokenLink::Altered { seq: 3 }));
    }

    #[test]
    fn a_rehashed_edit_breaks_the_next_link() {
        let mut c = chain(5);
        let head = c[4].clone();
        c[2].after_json = Some("{\"n\":99}".into());
        c[2].hash = c[2].compute_hash();
        assert_eq!(verify(&c, &head), Err(BrokenLink::Unlinked { seq: 4 }));
    }

    #[test]
    fn deleted_records_are_found_in_the_middle_and_at_the_end() {
        let c = chain(5);
        let head = c[4].clone();
        let mut gap = c.clone();
        gap.remove(1);
        assert_eq!(
            verify(&gap, &head),
            Err(BrokenLink::Missing {
                expected_seq: 2,
                found_seq: 3
            })
        );
        assert_eq!(
            verify(&c[..3], &head),
            Err(BrokenLink::Truncated {
                last_seq: 3,
                head_seq: 5
            })
        );
    }
}

/// One field that differs between the before and after snapshots.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// Field-by-field differences between two JSON snapshots (objects are
/// flattened with dotted keys), for showing what a change did.
pub fn changes(before: Option<&str>, after: Option<&str>) -> Vec<Change> {
    use serde_json::Value;
    fn flatten(prefix: &str, v: &Value, out: &mut std::collections::BTreeMap<String, String>) {
        match v {
            // A shape on the map (GeoJSON) is one value, not hundreds of
            // coordinates: its kind, its size and a fingerprint, so that a
            // moved boundary shows as changed.
            Value::Object(m) if m.contains_key("type") && m.contains_key("coordinates") => {
                let coords = m["coordinates"].to_string();
                let points = coords.matches('[').count().saturating_sub(1).max(1);
                let digest = Sha256::digest(coords.as_bytes());
                let kind = m["type"].as_str().unwrap_or("shape");
                out.insert(
                    prefix.to_string(),
                    format!("{kind} · {points} · #{:02x}{:02x}", digest[0], digest[1]),
                );
            }
            Value::Object(m) => {
                for (k, v) in m {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    flatten(&key, v, out);
                }
            }
            Value::Null => {
                out.insert(prefix.to_string(), String::new());
            }
            Value::String(s) => {
                out.insert(prefix.to_string(), s.clone());
            }
            other => {
                out.insert(prefix.to_string(), other.to_string());
            }
        }
    }
    let parse = |s: Option<&str>| {
        let mut m = std::collections::BTreeMap::new();
        if let Some(v) = s.and_then(|s| serde_json::from_str::<Value>(s).ok()) {
            // A bare value (a round's status) is the record's `value`.
            let root = if v.is_object() { "" } else { "value" };
            flatten(root, &v, &mut m);
        }
        m
    };
    let (b, a) = (parse(before), parse(after));
    let keys: std::collections::BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    keys.into_iter()
        // Bookkeeping fields that every change touches say nothing to a reader.
        .filter(|k| {
            !matches!(
                k.as_str(),
                "id" | "version" | "created_at" | "updated_at" | "path" | "region_path"
            )
        })
        .filter_map(|k| {
            let (x, y) = (
                b.get(k).cloned().unwrap_or_default(),
                a.get(k).cloned().unwrap_or_default(),
            );
            (x != y).then(|| Change {
                field: k.clone(),
                before: x,
                after: y,
            })
        })
        .collect()
}

#[cfg(test)]
mod change_tests {
    #[test]
    fn lists_only_changed_fields_with_nested_keys() {
        let c = super::changes(
            Some(r#"{"name":"城管局","liaison":{"phone":"1"},"version":1}"#),
            Some(r#"{"name":"城管局","liaison":{"phone":"2"},"version":2}"#),
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].field, "liaison.phone");
        assert_eq!((c[0].before.as_str(), c[0].after.as_str()), ("1", "2"));
        let created = super::changes(None, Some(r#"{"name":"x"}"#));
        assert_eq!(created[0].before, "");
    }
}
