//! A sign-in's path through the store (issue 14): the authorization request with
//! its one-time card challenge, the card's answer, the consent, the code and its
//! redemption with the sign-in recorded. Kept to four short write transactions per
//! sign-in (request, answer, code, redemption + record), each one conditional
//! update, so a replay or a race changes nothing and is told apart.

use crate::backend::{now_micros, to_i64, to_u64, Query, Row};
use crate::{Result, Store, StoreError};
use serde::{de::DeserializeOwned, Serialize};

/// Where an authorization request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestStatus {
    /// Waiting for the card's answer.
    Pending,
    /// The card answered; consent may still be needed.
    Answered,
    /// The resident consented.
    Consented,
    /// A code was issued: the request is spent.
    Used,
}

impl RequestStatus {
    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Answered => "answered",
            Self::Consented => "consented",
            Self::Used => "used",
        }
    }

    fn parse(code: &str) -> Result<Self> {
        Ok(match code {
            "pending" => Self::Pending,
            "answered" => Self::Answered,
            "consented" => Self::Consented,
            "used" => Self::Used,
            other => return Err(StoreError::Corrupt(format!("request status {other:?}"))),
        })
    }
}

/// An authorization request to record.
#[derive(Debug, Clone)]
pub struct NewAuthRequest {
    pub id: String,
    pub challenge_hash: [u8; 32],
    pub browser_hash: [u8; 32],
    pub client_id: String,
    pub redirect_uri: String,
    pub state: String,
    pub nonce: String,
    pub code_challenge: String,
    pub scope: String,
    /// `auth` or `sign`: the card key that must answer.
    pub card_key: String,
    /// Microseconds since the Unix epoch.
    pub expires_at: i64,
}

/// A recorded authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRequest {
    pub id: String,
    pub browser_hash: Vec<u8>,
    pub client_id: String,
    pub redirect_uri: String,
    pub state: String,
    pub nonce: String,
    pub code_challenge: String,
    pub scope: String,
    pub card_key: String,
    pub status: RequestStatus,
    pub created_at: i64,
    pub expires_at: i64,
    pub resident_key: Option<u64>,
    pub serial: Option<String>,
    pub answered_at: Option<i64>,
}

/// The card's answer, checked by the service, to record.
#[derive(Debug, Clone)]
pub struct AnsweredRequest {
    pub resident_key: u64,
    pub serial: String,
}

/// A code's request, read for its redemption.
#[derive(Debug, Clone)]
pub struct CodeGrant {
    pub request: AuthRequest,
    pub expires_at: i64,
    pub used: bool,
}

/// A certificate's holder and status, for the card's answer: no network hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardHolder {
    pub card_id: String,
    /// `auth` or `sign`.
    pub ca: String,
    pub revoked_at: Option<i64>,
    pub reason: Option<String>,
    /// The card's state code (`active`, `suspended`, ...).
    pub card_state: String,
    /// The card's last day (ISO), when it has one.
    pub expires_on: Option<String>,
    pub resident_key: Option<u64>,
}

/// One recorded sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigninRecord {
    pub request_id: String,
    pub client_id: String,
    pub resident_key: u64,
    /// Microseconds since the Unix epoch.
    pub at: i64,
    /// The claims shared, comma-separated.
    pub claims: String,
}

const REQUEST_COLUMNS: &str = "id, browser_hash, client_id, redirect_uri, state, nonce, \
     code_challenge, scope, card_key, status, created_at, expires_at, resident_key, serial, answered_at";

fn request(row: &Row, first: usize) -> Result<AuthRequest> {
    let at = |i: usize| first + i;
    Ok(AuthRequest {
        id: row.text(at(0))?,
        browser_hash: row.bytes(at(1))?,
        client_id: row.text(at(2))?,
        redirect_uri: row.text(at(3))?,
        state: row.text(at(4))?,
        nonce: row.text(at(5))?,
        code_challenge: row.text(at(6))?,
        scope: row.text(at(7))?,
        card_key: row.text(at(8))?,
        status: RequestStatus::parse(&row.text(at(9))?)?,
        created_at: row.int(at(10))?,
        expires_at: row.int(at(11))?,
        resident_key: row.opt_key(at(12))?,
        serial: row.opt_text(at(13))?,
        answered_at: row.opt_int(at(14))?,
    })
}

pub(crate) fn facts_place(request_id: &str) -> String {
    format!("oidc-request/{request_id}/facts")
}

impl Store {
    /// Records an authorization request (one insert).
    pub async fn put_auth_request(&self, new: &NewAuthRequest) -> Result<()> {
        self.write_one(
            &format!(
                "INSERT INTO oidc_requests (id, challenge_hash, browser_hash, client_id, redirect_uri, \
                 state, nonce, code_challenge, scope, card_key, status, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, '{}', $11, $12)",
                RequestStatus::Pending.code()
            ),
            &[
                new.id.as_str().into(),
                new.challenge_hash.to_vec().into(),
                new.browser_hash.to_vec().into(),
                new.client_id.as_str().into(),
                new.redirect_uri.as_str().into(),
                new.state.as_str().into(),
                new.nonce.as_str().into(),
                new.code_challenge.as_str().into(),
                new.scope.as_str().into(),
                new.card_key.as_str().into(),
                now_micros().into(),
                new.expires_at.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// An authorization request by id.
    pub async fn auth_request(&self, id: &str) -> Result<Option<AuthRequest>> {
        self.read_optional(
            &format!("SELECT {REQUEST_COLUMNS} FROM oidc_requests WHERE id = $1"),
            &[id.into()],
        )
        .await?
        .map(|row| request(&row, 0))
        .transpose()
    }

    /// An authorization request by the SHA-256 of its challenge.
    pub async fn auth_request_by_challenge(&self, hash: &[u8; 32]) -> Result<Option<AuthRequest>> {
        self.read_optional(
            &format!("SELECT {REQUEST_COLUMNS} FROM oidc_requests WHERE challenge_hash = $1"),
            &[hash.to_vec().into()],
        )
        .await?
        .map(|row| request(&row, 0))
        .transpose()
    }

    /// Records the card's answer: only a pending, unexpired request with this
    /// challenge moves to `answered` (one conditional update). `facts` (the facts
    /// flow) are sealed with it. Returns `false` when the challenge was already
    /// answered, expired or is not this request's: nothing changed.
    pub async fn answer_auth_request<T: Serialize + ?Sized>(
        &self,
        id: &str,
        challenge_hash: &[u8; 32],
        answer: &AnsweredRequest,
        facts: Option<&T>,
    ) -> Result<bool> {
        let now = now_micros();
        let sealed = facts
            .map(|facts| self.seal_record(&facts_place(id), facts))
            .transpose()?;
        let changed = self
            .write_one(
                "UPDATE oidc_requests SET status = 'answered', resident_key = $1, serial = $2, \
                 facts = $3, answered_at = $4 \
                 WHERE id = $5 AND challenge_hash = $6 AND status = 'pending' AND expires_at > $4",
                &[
                    to_i64(answer.resident_key)?.into(),
                    answer.serial.as_str().into(),
                    sealed.into(),
                    now.into(),
                    id.into(),
                    challenge_hash.to_vec().into(),
                ],
            )
            .await?;
        Ok(changed == 1)
    }

    /// The facts sealed with an answered request (the facts flow).
    pub async fn auth_request_facts<T: DeserializeOwned>(&self, id: &str) -> Result<Option<T>> {
        let row = self
            .read_optional(
                "SELECT facts FROM oidc_requests WHERE id = $1",
                &[id.into()],
            )
            .await?;
        match row.map(|row| row.opt_bytes(0)).transpose()?.flatten() {
            Some(sealed) => Ok(Some(self.open_record(&facts_place(id), &sealed)?)),
            None => Ok(None),
        }
    }

    /// The resident consented on the provider's page: the request moves from
    /// `answered` to `consented` and the consent to the party is recorded (granted
    /// again if it was revoked), in one transaction. `false`: not an answered
    /// request of this resident (nothing changed).
    pub async fn consent_auth_request(
        &self,
        id: &str,
        resident_key: u64,
        client_id: &str,
    ) -> Result<bool> {
        let now = now_micros();
        let key = to_i64(resident_key)?;
        let mut tx = self.pool.begin().await?;
        let changed = tx
            .execute(
                "UPDATE oidc_requests SET status = 'consented' \
                 WHERE id = $1 AND status = 'answered' AND resident_key = $2 AND expires_at > $3",
                &[id.into(), key.into(), now.into()],
            )
            .await?;
        if changed != 1 {
            return Ok(false);
        }
        let updated = tx
            .execute(
                "UPDATE consents SET granted_at = $1, revoked_at = NULL \
                 WHERE resident_key = $2 AND client_id = $3",
                &[now.into(), key.into(), client_id.into()],
            )
            .await?;
        if updated == 0 {
            tx.execute(
                "INSERT INTO consents (resident_key, client_id, granted_at) VALUES ($1, $2, $3)",
                &[key.into(), client_id.into(), now.into()],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Whether the resident's consent to the party stands (granted, not revoked).
    pub async fn has_consent(&self, resident_key: u64, client_id: &str) -> Result<bool> {
        self.reader()
            .await
            .exists(
                "SELECT 1 FROM consents WHERE resident_key = $1 AND client_id = $2 AND revoked_at IS NULL",
                &[to_i64(resident_key)?.into(), client_id.into()],
            )
            .await
    }

    /// Switches a party off for a resident (the portal): the next sign-in at it asks
    /// for consent again. `false` when no standing consent was there.
    pub async fn revoke_consent(&self, resident_key: u64, client_id: &str) -> Result<bool> {
        let changed = self
            .write_one(
                "UPDATE consents SET revoked_at = $1 \
                 WHERE resident_key = $2 AND client_id = $3 AND revoked_at IS NULL",
                &[
                    now_micros().into(),
                    to_i64(resident_key)?.into(),
                    client_id.into(),
                ],
            )
            .await?;
        Ok(changed == 1)
    }

    /// Issues a code for an answered (or consented) request: the request is spent
    /// (`used`) and the code's SHA-256 recorded, in one transaction. `from` lists
    /// the statuses the request may be in. `false`: the request was not in one of
    /// them, or expired (nothing changed).
    pub async fn issue_code(
        &self,
        request_id: &str,
        from: &[RequestStatus],
        code_hash: &[u8; 32],
        code_expires_at: i64,
    ) -> Result<bool> {
        let now = now_micros();
        let statuses = from
            .iter()
            .map(|s| format!("'{}'", s.code()))
            .collect::<Vec<_>>()
            .join(", ");
        if statuses.is_empty() {
            return Ok(false);
        }
        let mut tx = self.pool.begin().await?;
        let changed = tx
            .execute(
                &format!(
                    "UPDATE oidc_requests SET status = 'used' \
                     WHERE id = $1 AND status IN ({statuses}) AND expires_at > $2"
                ),
                &[request_id.into(), now.into()],
            )
            .await?;
        if changed != 1 {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO oidc_codes (code_hash, request_id, expires_at) VALUES ($1, $2, $3)",
            &[
                code_hash.to_vec().into(),
                request_id.into(),
                code_expires_at.into(),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A code's grant (its request), for the token endpoint's checks.
    pub async fn code_grant(&self, code_hash: &[u8; 32]) -> Result<Option<CodeGrant>> {
        let row = self
            .read_optional(
                &format!(
                    "SELECT c.expires_at, c.used_at, {} FROM oidc_codes c \
                     JOIN oidc_requests r ON r.id = c.request_id WHERE c.code_hash = $1",
                    REQUEST_COLUMNS
                        .split(", ")
                        .map(|column| format!("r.{column}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                &[code_hash.to_vec().into()],
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(CodeGrant {
            expires_at: row.int(0)?,
            used: row.opt_int(1)?.is_some(),
            request: request(&row, 2)?,
        }))
    }

    /// Redeems a code once its client and verifier were checked: the code is used
    /// (only if unused and unexpired) and the sign-in recorded, in one transaction.
    /// `false`: used before or expired (nothing changed).
    pub async fn redeem_code(&self, code_hash: &[u8; 32], signin: &SigninRecord) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let changed = tx
            .execute(
                "UPDATE oidc_codes SET used_at = $1 \
                 WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1",
                &[signin.at.into(), code_hash.to_vec().into()],
            )
            .await?;
        if changed != 1 {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO signins (request_id, client_id, resident_key, at, claims) \
             VALUES ($1, $2, $3, $4, $5)",
            &[
                signin.request_id.as_str().into(),
                signin.client_id.as_str().into(),
                to_i64(signin.resident_key)?.into(),
                signin.at.into(),
                signin.claims.as_str().into(),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A resident's sign-ins, newest first.
    pub async fn signins_of(&self, resident_key: u64, limit: u32) -> Result<Vec<SigninRecord>> {
        let rows = self
            .read_all(
                "SELECT request_id, client_id, resident_key, at, claims FROM signins \
                 WHERE resident_key = $1 ORDER BY at DESC LIMIT $2",
                &[to_i64(resident_key)?.into(), i64::from(limit).into()],
            )
            .await?;
        rows.iter()
            .map(|row| {
                Ok(SigninRecord {
                    request_id: row.text(0)?,
                    client_id: row.text(1)?,
                    resident_key: to_u64(row.int(2)?)?,
                    at: row.int(3)?,
                    claims: row.text(4)?,
                })
            })
            .collect()
    }

    /// The holder and status of certificate `serial` of authority `ca` (`auth` or
    /// `sign`): the certificate's revocation, the card's state and end, the
    /// resident. `None`: not a certificate this store issued.
    pub async fn card_holder(&self, ca: &str, serial: &str) -> Result<Option<CardHolder>> {
        let row = self
            .read_optional(
                "SELECT c.card_id, c.ca, c.revoked_at, c.reason, k.status, k.expires_on, k.resident_id \
                 FROM certificates c JOIN cards k ON k.id = c.card_id \
                 WHERE c.serial = $1 AND c.ca = $2",
                &[serial.into(), ca.into()],
            )
            .await?;
        row.map(|row| {
            Ok(CardHolder {
                card_id: row.text(0)?,
                ca: row.text(1)?,
                revoked_at: row.opt_int(2)?,
                reason: row.opt_text(3)?,
                card_state: row.text(4)?,
                expires_on: row.opt_text(5)?,
                resident_key: row.opt_key(6)?,
            })
        })
        .transpose()
    }
}
