//! The online channel (smartphone and PC, one responsive flow): step 1 takes the
//! form ID (typed, or from the QR code's URL), the name, an e-mail address and a
//! CAPTCHA answer, and e-mails a one-time link (24 hours, single use); step 2, behind
//! the link, takes the photo (from storage or the phone's camera), the birth date and
//! the two choices, checks the photo, and records the application; step 3 confirms it
//! on the page and by e-mail with the receipt number.

use super::new_receipt;
use crate::{i18n, today, Service};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use maina_core::application::Channel;
use maina_core::officer::Actor;
use maina_core::ApplicationFormId;
use maina_store::{ApplicationDetails, ApplyLink, Mail, NewApplication, StoreError, APPLY_LINK};
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// How long an e-mailed link works.
const LINK_HOURS: i64 = 24;
/// How long a CAPTCHA question may be answered.
const CAPTCHA_SECONDS: u64 = 15 * 60;

/// A CAPTCHA that needs no third party: a small sum, asked in text (readable by
/// screen readers), its answer bound to an expiry by an HMAC under a key made at
/// start-up; each question can be answered once. "Once" is kept on the question's
/// parsed values (expiry and nonce), never on the token's text: `+123` and
/// `0123` spell one question.
pub struct Captcha {
    key: [u8; 32],
    answered: Mutex<HashMap<(u64, u64), Instant>>,
}

impl std::fmt::Debug for Captcha {
    /// Never the key: with it, anyone could sign answers to their own questions.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Captcha").finish_non_exhaustive()
    }
}

impl Default for Captcha {
    fn default() -> Self {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Self {
            key,
            answered: Mutex::new(HashMap::new()),
        }
    }
}

fn now_seconds() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0)
}

impl Captcha {
    fn sign(&self, expires: u64, answer: u32, nonce: u64) -> String {
        // HMAC pads a short key itself.
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&self.key) else {
            return String::new();
        };
        mac.update(format!("{expires}|{nonce}|{answer}").as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// A new question and its token.
    pub fn question(&self) -> (String, String) {
        let mut rng = rand::rngs::OsRng;
        let (a, b) = (rng.gen_range(2..10u32), rng.gen_range(2..10u32));
        let nonce = rng.next_u64();
        let expires = now_seconds() + CAPTCHA_SECONDS;
        let token = format!("{expires}.{nonce}.{}", self.sign(expires, a + b, nonce));
        (format!("{a} + {b}"), token)
    }

    /// Whether `answer` answers the question of `token` (once).
    pub fn check(&self, token: &str, answer: &str) -> bool {
        let mut parts = token.split('.');
        let (Some(expires), Some(nonce), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        let (Ok(expires), Ok(nonce), Ok(answer)) = (
            expires.parse::<u64>(),
            nonce.parse::<u64>(),
            answer.trim().parse::<u32>(),
        ) else {
            return false;
        };
        if expires < now_seconds() {
            return false;
        }
        let expected = self.sign(expires, answer, nonce);
        if expected.is_empty() || !bool::from(expected.as_bytes().ct_eq(signature.as_bytes())) {
            return false;
        }
        let Ok(mut answered) = self.answered.lock() else {
            return false;
        };
        let now = Instant::now();
        answered.retain(|_, at| now.duration_since(*at) < Duration::from_secs(CAPTCHA_SECONDS));
        answered.insert((expires, nonce), now).is_none()
    }
}

fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The answer to a CAPTCHA question, with the question's token.
#[derive(Debug, Clone, Copy)]
pub struct CaptchaAnswer<'a> {
    pub token: &'a str,
    pub answer: &'a str,
}

/// What step 1 was given.
#[derive(Debug, Clone)]
pub struct OnlineStart<'a> {
    pub form_id: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub captcha: CaptchaAnswer<'a>,
    /// The page's language: the e-mail's and, later, the application's.
    pub language: &'static str,
    /// Where residents reach this server (the link in the e-mail starts with it).
    pub public_url: &'a str,
}

/// What step 2 was given, behind the e-mailed link.
#[derive(Debug, Clone)]
pub struct OnlineCompletion<'a> {
    pub token: &'a str,
    pub birth_date: &'a str,
    pub photo: Vec<u8>,
    pub electronic_certificate: bool,
    pub braille: bool,
    /// Sent from a phone (the channel is then "smartphone", else "pc").
    pub mobile: bool,
}

/// Why a step of the online channel was refused; the pages say it in the
/// resident's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnlineRefusal {
    CaptchaWrong,
    /// The name is empty or longer than 100 characters.
    Name,
    Email,
    /// The form ID is malformed, unknown or already used.
    FormUnusable,
    /// The link is used, expired or unknown.
    LinkUnusable,
    BirthDate,
    /// The photo does not conform: the problems' codes.
    Photo(Vec<String>),
    /// Storage failed: try again later.
    Unavailable,
}

/// A refusal of step 2 and the language to say it in (the link's, once known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub language: Option<&'static str>,
    pub reason: OnlineRefusal,
}

/// A recorded online application.
#[derive(Debug, Clone)]
pub struct OnlineDone {
    pub receipt: String,
    pub status: &'static str,
    pub language: &'static str,
}

impl Service {
    /// Step 1: checks the CAPTCHA, the name, the address and the form ID, and
    /// e-mails a one-time link. Every refused try is audited (the address only).
    pub async fn start_online_application(
        &self,
        start: &OnlineStart<'_>,
        address: IpAddr,
    ) -> Result<(), OnlineRefusal> {
        let audit = |outcome: &'static str| {
            self.audit_public_attempt("online application", "online", outcome, address)
        };
        if !self
            .captcha
            .check(start.captcha.token, start.captcha.answer)
        {
            audit("captcha-failed").await;
            return Err(OnlineRefusal::CaptchaWrong);
        }
        let name = start.name.trim();
        let email = start.email.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(OnlineRefusal::Name);
        }
        if email.parse::<lettre::Address>().is_err() {
            return Err(OnlineRefusal::Email);
        }
        let Ok(form_id) = start.form_id.parse::<ApplicationFormId>() else {
            audit("bad-form").await;
            return Err(OnlineRefusal::FormUnusable);
        };
        // A notice's form ID, or an expiry letter's renewal form ID once the renewal
        // is open.
        let usable = match self.store.form_holder(&form_id).await {
            Ok(Some(holder))
                if holder
                    .renews
                    .as_ref()
                    .is_none_or(|card| card.renewal_open(today())) =>
            {
                matches!(self.store.form_in_use(&form_id).await, Ok(false))
            }
            _ => false,
        };
        if !usable {
            audit("unknown-form").await;
            return Err(OnlineRefusal::FormUnusable);
        }
        let mut raw = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
        let link = format!(
            "{}/apply/continue?token={token}",
            start.public_url.trim_end_matches('/')
        );
        let m = |id: &str| self.message(start.language, id);
        let mail = Mail {
            to: email.to_owned(),
            subject: m("apply-title"),
            body: format!(
                "{}\n\n{}\n\n{link}\n\n{}\n",
                m("mail-greeting-link"),
                m("apply-step-2"),
                m("mail-footer")
            ),
        };
        let expires = maina_store::now_micros() + LINK_HOURS * 3600 * 1_000_000;
        let details = ApplyLink {
            form_id,
            name: name.to_owned(),
            email: email.to_owned(),
            language: start.language.to_owned(),
        };
        self.store
            .create_apply_link(&token_hash(&token), &details, expires, &mail)
            .await
            .map_err(|error| {
                tracing::warn!(%error, "could not store an application link");
                OnlineRefusal::Unavailable
            })
    }

    /// The application link behind `token`, while it is usable.
    pub async fn online_link(&self, token: &str) -> Option<ApplyLink> {
        self.store
            .apply_link(&token_hash(token))
            .await
            .ok()
            .flatten()
    }

    /// Step 2: checks the birth date and the photo, then records the application
    /// and spends the link in one transaction; the applicant gets the receipt by
    /// e-mail.
    pub async fn complete_online_application(
        &self,
        completion: OnlineCompletion<'_>,
    ) -> Result<OnlineDone, Refused> {
        let hash = token_hash(completion.token);
        let Some(link) = self.store.apply_link(&hash).await.ok().flatten() else {
            return Err(Refused {
                language: None,
                reason: OnlineRefusal::LinkUnusable,
            });
        };
        let lang = i18n::language(&link.language);
        let refuse = |reason| Refused {
            language: Some(lang),
            reason,
        };
        let birth = super::parse_birth_date(completion.birth_date)
            .map_err(|_| refuse(OnlineRefusal::BirthDate))?;
        let (photo, check) = crate::photo::examine_off_thread(completion.photo, today())
            .await
            .map_err(|_| refuse(OnlineRefusal::Unavailable))?;
        if !check.passed() {
            let codes = check.problems.iter().map(|p| p.code().to_owned()).collect();
            return Err(refuse(OnlineRefusal::Photo(codes)));
        }
        let receipt = new_receipt().map_err(|_| refuse(OnlineRefusal::Unavailable))?;
        let new = NewApplication {
            form_id: link.form_id,
            receipt,
            channel: if completion.mobile {
                Channel::Smartphone
            } else {
                Channel::Pc
            },
            details: ApplicationDetails {
                name: link.name.clone(),
                birth_date: birth,
                email: Some(link.email.clone()),
                language: lang.to_owned(),
                electronic_certificate: completion.electronic_certificate,
                braille: completion.braille,
                receipt: receipt.as_digits(),
            },
            photo: Some(photo),
        };
        // Single use: the link is spent in the transaction that records the
        // application, so a replay racing this request finds it spent, and a
        // failed insert leaves it usable.
        let public = Actor::administrator("public", "online application");
        match self
            .record_application(&new, Some(&hash), &public, true)
            .await
        {
            Ok(record) => Ok(OnlineDone {
                receipt: super::receipt_shown(&record),
                status: record.status.code(),
                language: lang,
            }),
            Err(StoreError::NotFound(APPLY_LINK)) => Err(refuse(OnlineRefusal::LinkUnusable)),
            Err(StoreError::Duplicate(_) | StoreError::NotFound(_)) => {
                Err(refuse(OnlineRefusal::FormUnusable))
            }
            Err(error) => {
                tracing::warn!(%error, "could not record an online application");
                Err(refuse(OnlineRefusal::Unavailable))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_question_is_answered_once_and_the_key_never_shows() {
        let captcha = Captcha::default();
        let (question, token) = captcha.question();
        let sum: u32 = question
            .split(" + ")
            .map(|n| n.parse::<u32>().unwrap())
            .sum();
        assert!(!captcha.check(&token, &(sum + 1).to_string()));
        assert!(captcha.check(&token, &sum.to_string()));
        assert!(!captcha.check(&token, &sum.to_string()), "answered once");
        // The same question spelt otherwise (a sign, leading zeros) is the same
        // question: answered already.
        let (expires, rest) = token.split_once('.').unwrap();
        let (nonce, signature) = rest.split_once('.').unwrap();
        for respelt in [
            format!("+{expires}.{nonce}.{signature}"),
            format!("0{expires}.0{nonce}.{signature}"),
            format!("{expires}.+{nonce}.{signature}"),
        ] {
            assert!(!captcha.check(&respelt, &sum.to_string()), "{respelt}");
        }
        let shown = format!("{captcha:?}");
        assert!(!shown.contains(&format!("{:?}", captcha.key)), "{shown}");
        assert!(!shown.contains(&hex::encode(captcha.key)), "{shown}");
    }
}
