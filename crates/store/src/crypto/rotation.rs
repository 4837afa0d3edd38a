//! The re-seal job of a data-key rotation: every sealed value of every table is
//! opened with the key its header names and sealed again with the current key, in
//! batches, each in one transaction together with the job's cursor (a `meta` row),
//! so a job killed at any point resumes where its last commit ended.
//!
//! Each update is a compare-and-swap on the old sealed value: a value changed
//! meanwhile by a use case (sealed anew, with the current key) is left alone.
//!
//! A new sealed column must be added to [`sealed_columns`]; the store suite checks
//! that every sealed column it fills is re-sealed.

use super::Sealer;
use crate::applications::{
    apply_link_place, details_place, notice_place, outbox_place, photo_place,
};
use crate::backend::{Query, Row, Value};
use crate::card_life::card_event_place;
use crate::cards::{certificate_place, chip_place};
use crate::manufacture::face_place;
use crate::pickup::issue_notice_place;
use crate::pickup::{handover_place, pinpad_place};
use crate::portal::preference_place;
use crate::registry::{current_place, event_place, number_place, registration_place};
use crate::renewal::{expiry_letter_place, police_place};
use crate::{Result, Store, StoreError};

/// The `meta` row holding the job's cursor.
const CURSOR_ROW: &str = "reseal_cursor";

#[derive(Clone, Copy)]
enum KeyKind {
    Int,
    Text,
    Bytes,
}

/// One sealed column: its table's primary key, the other columns its place needs,
/// and how the place is made from a row (keys, then extras, then the value).
struct SealedColumn {
    table: &'static str,
    column: &'static str,
    keys: &'static [(&'static str, KeyKind)],
    extra: &'static [&'static str],
    place: fn(&Row) -> Result<String>,
}

const ID: &[(&str, KeyKind)] = &[("id", KeyKind::Int)];

/// A sealed column whose place needs only the primary key.
fn column(
    table: &'static str,
    column: &'static str,
    keys: &'static [(&'static str, KeyKind)],
    place: fn(&Row) -> Result<String>,
) -> SealedColumn {
    SealedColumn {
        table,
        column,
        keys,
        extra: &[],
        place,
    }
}

/// Every sealed column of every table.
fn sealed_columns() -> Vec<SealedColumn> {
    vec![
        column("residents", "registration", ID, |row| {
            Ok(registration_place(row.key(0)?))
        }),
        SealedColumn {
            table: "residents",
            column: "current",
            keys: ID,
            extra: &["version"],
            place: |row| Ok(current_place(row.key(0)?, row.key(1)?)),
        },
        column(
            "resident_events",
            "event",
            &[("resident_id", KeyKind::Int), ("version", KeyKind::Int)],
            |row| Ok(event_place(row.key(0)?, row.key(1)?)),
        ),
        column(
            "numbers",
            "retired_reason",
            &[("number_key", KeyKind::Int)],
            |row| Ok(number_place(row.key(0)?)),
        ),
        column(
            "notices",
            "form_id",
            &[("resident_id", KeyKind::Int)],
            |row| Ok(notice_place(row.key(0)?)),
        ),
        column("applications", "details", ID, |row| {
            Ok(details_place(row.key(0)?))
        }),
        column("applications", "photo", ID, |row| {
            Ok(photo_place(row.key(0)?))
        }),
        column(
            "apply_links",
            "details",
            &[("token_hash", KeyKind::Bytes)],
            |row| {
                let hash: [u8; 32] = row
                    .bytes(0)?
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("apply link token hash".into()))?;
                Ok(apply_link_place(&hash))
            },
        ),
        column("outbox", "message", ID, |row| Ok(outbox_place(row.key(0)?))),
        column("cards", "chip", &[("id", KeyKind::Text)], |row| {
            Ok(chip_place(&row.text(0)?))
        }),
        column("cards", "face", &[("id", KeyKind::Text)], |row| {
            Ok(face_place(&row.text(0)?))
        }),
        column("issue_notices", "details", ID, |row| {
            Ok(issue_notice_place(row.key(0)?))
        }),
        column("certificates", "der", &[("serial", KeyKind::Text)], |row| {
            Ok(certificate_place(&row.text(0)?))
        }),
        column(
            "pinpad_sessions",
            "pins",
            &[("code_hash", KeyKind::Bytes)],
            |row| Ok(pinpad_place(&row.bytes(0)?)),
        ),
        column(
            "handovers",
            "checks",
            &[("card_id", KeyKind::Text)],
            |row| Ok(handover_place(&row.text(0)?)),
        ),
        column("cards", "notes", &[("id", KeyKind::Text)], |row| {
            Ok(crate::card_notes::notes_place(&row.text(0)?))
        }),
        column(
            "card_events",
            "details",
            &[("card_id", KeyKind::Text), ("seq", KeyKind::Int)],
            |row| Ok(card_event_place(&row.text(0)?, row.int(1)?)),
        ),
        column(
            "replacements",
            "police",
            &[("application_id", KeyKind::Int)],
            |row| Ok(police_place(row.key(0)?)),
        ),
        column(
            "oidc_keys",
            "private_key",
            &[("kid", KeyKind::Text)],
            |row| Ok(crate::oidc::oidc_key_place(&row.text(0)?)),
        ),
        column("oidc_requests", "facts", &[("id", KeyKind::Text)], |row| {
            Ok(crate::oidc_flow::facts_place(&row.text(0)?))
        }),
        column(
            "expiry_letters",
            "form_id",
            &[
                ("card_id", KeyKind::Text),
                ("ends", KeyKind::Text),
                ("ends_on", KeyKind::Text),
            ],
            |row| {
                Ok(expiry_letter_place(
                    &row.text(0)?,
                    &row.text(1)?,
                    &row.text(2)?,
                ))
            },
        ),
        column(
            "portal_preferences",
            "email",
            &[("resident_key", KeyKind::Int)],
            |row| Ok(preference_place(row.key(0)?)),
        ),
    ]
}

/// How many sealed values of one column one data key seals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedCount {
    pub table: &'static str,
    pub column: &'static str,
    /// `None`: a value too short to carry a key id (corrupt).
    pub key_id: Option<u32>,
    pub values: u64,
}

/// Where the re-seal job stands after one batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResealStep {
    /// The key everything is being re-sealed with.
    pub target_key_id: u32,
    /// Sealed values looked at in this pass so far (all batches, all runs).
    pub scanned: u64,
    /// Values re-sealed by this batch.
    pub resealed: u64,
    /// Every column has been walked.
    pub done: bool,
}

/// The job's cursor: the key it re-seals with, the column it is at, how many
/// values it looked at, and the primary key of the last row done in that column.
#[derive(Debug, Clone, PartialEq)]
struct Cursor {
    target: u32,
    column: usize,
    scanned: u64,
    after: Vec<Value>,
}

impl Cursor {
    fn start(target: u32) -> Self {
        Self {
            target,
            column: 0,
            scanned: 0,
            after: Vec::new(),
        }
    }

    fn encode(&self) -> String {
        let keys: Vec<String> = self
            .after
            .iter()
            .map(|value| match value {
                Value::Int(v) => format!("i{v}"),
                Value::Text(v) => format!("t{}", hex::encode(v)),
                Value::Bytes(v) => format!("b{}", hex::encode(v)),
                Value::NullInt | Value::NullBytes => "n".into(),
            })
            .collect();
        format!(
            "{}|{}|{}|{}",
            self.target,
            self.column,
            self.scanned,
            keys.join(",")
        )
    }

    fn decode(text: &str) -> Result<Self> {
        let corrupt = || StoreError::Corrupt(format!("re-seal cursor {text:?}"));
        let mut parts = text.splitn(4, '|');
        let mut number = || -> Result<u64> {
            parts
                .next()
                .and_then(|part| part.parse().ok())
                .ok_or_else(corrupt)
        };
        let target = u32::try_from(number()?).map_err(|_| corrupt())?;
        let column = usize::try_from(number()?).map_err(|_| corrupt())?;
        let scanned = number()?;
        let keys = parts.next().ok_or_else(corrupt)?;
        let after = keys
            .split(',')
            .filter(|key| !key.is_empty())
            .map(|key| {
                let (kind, body) = key.split_at_checked(1).ok_or_else(corrupt)?;
                let bytes = || hex::decode(body).map_err(|_| corrupt());
                Ok(match kind {
                    "i" => Value::Int(body.parse().map_err(|_| corrupt())?),
                    "t" => Value::Text(String::from_utf8(bytes()?).map_err(|_| corrupt())?),
                    "b" => Value::Bytes(bytes()?),
                    _ => return Err(corrupt()),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            target,
            column,
            scanned,
            after,
        })
    }
}

fn key_value(row: &Row, index: usize, kind: KeyKind) -> Result<Value> {
    Ok(match kind {
        KeyKind::Int => Value::Int(row.int(index)?),
        KeyKind::Text => Value::Text(row.text(index)?),
        KeyKind::Bytes => Value::Bytes(row.bytes(index)?),
    })
}

impl Store {
    /// How many values each data key seals, per sealed column (a full count; the
    /// key id is bytes 2 to 5 of every sealed value).
    pub async fn sealed_key_counts(&self) -> Result<Vec<SealedCount>> {
        let mut counts = Vec::new();
        for sealed in sealed_columns() {
            let rows = self
                .read_all(
                    &format!(
                        "SELECT substr({column}, 1, 5), COUNT(*) FROM {table} \
                         WHERE {column} IS NOT NULL GROUP BY substr({column}, 1, 5)",
                        column = sealed.column,
                        table = sealed.table,
                    ),
                    &[],
                )
                .await?;
            for row in rows {
                counts.push(SealedCount {
                    table: sealed.table,
                    column: sealed.column,
                    key_id: Sealer::key_id(&row.bytes(0)?),
                    values: u64::try_from(row.int(1)?).unwrap_or(0),
                });
            }
        }
        Ok(counts)
    }

    /// The data key ids of the ring this store was opened with (the last seals).
    pub fn data_key_ids(&self) -> Vec<u32> {
        let mut ids = self.sealer.key_ids();
        ids.sort_unstable();
        ids
    }

    /// Re-seals up to `batch` values not sealed with the current data key, after
    /// the job's cursor, and commits them with the cursor moved past them. A cursor
    /// left by a job towards another key is started over.
    pub async fn reseal_batch(&self, batch: u32) -> Result<ResealStep> {
        let target = self.sealer.current_key_id();
        let columns = sealed_columns();
        let mut tx = self.pool.begin().await?;
        let stored = tx
            .fetch_optional(
                "SELECT value FROM meta WHERE name = $1",
                &[CURSOR_ROW.into()],
            )
            .await?;
        let mut cursor = match stored {
            Some(row) => Cursor::decode(&row.text(0)?)?,
            None => Cursor::start(target),
        };
        if cursor.target != target {
            cursor = Cursor::start(target);
        }
        let mut resealed = 0u64;
        while let Some(sealed) = columns.get(cursor.column) {
            let keys: Vec<&str> = sealed.keys.iter().map(|(name, _)| *name).collect();
            let key_list = keys.join(", ");
            let mut select = format!("SELECT {key_list}");
            for extra in sealed.extra {
                select.push_str(&format!(", {extra}"));
            }
            select.push_str(&format!(
                ", {column} FROM {table} WHERE {column} IS NOT NULL",
                column = sealed.column,
                table = sealed.table
            ));
            if !cursor.after.is_empty() {
                let params: Vec<String> = (1..=keys.len()).map(|n| format!("${n}")).collect();
                select.push_str(&format!(" AND ({key_list}) > ({})", params.join(", ")));
            }
            select.push_str(&format!(" ORDER BY {key_list} LIMIT {batch}"));
            let rows = tx.fetch_all(&select, &cursor.after).await?;
            let Some(last) = rows.last() else {
                cursor.column += 1;
                cursor.after.clear();
                continue;
            };
            let value_index = keys.len() + sealed.extra.len();
            let mut update = format!(
                "UPDATE {table} SET {column} = $1 WHERE {column} = $2",
                column = sealed.column,
                table = sealed.table
            );
            for (n, key) in keys.iter().enumerate() {
                update.push_str(&format!(" AND {key} = ${}", n + 3));
            }
            for row in &rows {
                let old = row.bytes(value_index)?;
                let place = (sealed.place)(row)?;
                if let Some(new) = self.sealer.reseal(&place, &old)? {
                    let mut params: Vec<Value> = vec![new.into(), old.into()];
                    for (index, (_, kind)) in sealed.keys.iter().enumerate() {
                        params.push(key_value(row, index, *kind)?);
                    }
                    tx.execute(&update, &params).await?;
                    resealed += 1;
                }
            }
            cursor.after = sealed
                .keys
                .iter()
                .enumerate()
                .map(|(index, (_, kind))| key_value(last, index, *kind))
                .collect::<Result<_>>()?;
            cursor.scanned += rows.len() as u64;
            break;
        }
        let done = cursor.column >= columns.len();
        tx.execute(
            "INSERT INTO meta (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            &[CURSOR_ROW.into(), cursor.encode().into()],
        )
        .await?;
        tx.commit().await?;
        Ok(ResealStep {
            target_key_id: target,
            scanned: cursor.scanned,
            resealed,
            done,
        })
    }

    /// Forgets the job's cursor: the next batch starts a new pass from the first
    /// column (after a finished job, or to sweep values sealed meanwhile by a
    /// process still holding an older key).
    pub async fn reset_reseal(&self) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        tx.execute("DELETE FROM meta WHERE name = $1", &[CURSOR_ROW.into()])
            .await?;
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_survives_its_text_form() {
        let cursor = Cursor {
            target: 3,
            column: 7,
            scanned: 12345,
            after: vec![
                Value::Int(-5),
                Value::Text("A|B,C".into()),
                Value::Bytes(vec![0, 255]),
            ],
        };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        let start = Cursor::start(2);
        assert_eq!(Cursor::decode(&start.encode()).unwrap(), start);
    }
}
