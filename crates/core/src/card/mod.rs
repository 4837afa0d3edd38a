//! Rules of the My Number Card that are not about the chip's bytes: its four PINs,
//! its states and revocations here; the validity of the card and its certificates in
//! [`validity`]; the name in Braille in [`braille`] (REFERENCE sections 2, 4 and 7).

pub mod braille;
mod fees;
mod life;
mod renewal;
mod validity;

pub use fees::{FeeError, ReissueFee, ReissueReason, CARD_FEE_YEN, CERTIFICATES_FEE_YEN};
pub use life::{CardEventKind, CardTransition, CardTransitionError};
pub use renewal::{
    check_renewal, renewal_opens, ExpiryEnd, Lookahead, LookaheadError, RenewalTooEarly,
    RENEWAL_WINDOW_MONTHS,
};

pub use validity::{
    age_on, card_expiry, certificate_expiry, certificates_expiry, signature_certificate_allowed,
    StayLimit,
};

use std::fmt;
use zeroize::Zeroizing;

/// The card's four PINs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum PinKind {
    /// Signature-certificate password: 6–16 of A–Z and 0–9 (5 tries).
    Signature,
    /// User-authentication certificate PIN: 4 digits (3 tries).
    Authentication,
    /// Residence-information PIN: 4 digits (3 tries).
    Residence,
    /// Card-information-input-support PIN: 4 digits (3 tries).
    Support,
}

impl PinKind {
    pub const ALL: [PinKind; 4] = [
        PinKind::Authentication,
        PinKind::Signature,
        PinKind::Residence,
        PinKind::Support,
    ];

    /// How many wrong tries lock the PIN.
    pub fn max_tries(self) -> u8 {
        match self {
            PinKind::Signature => 5,
            _ => 3,
        }
    }

    /// The name used on the command line and in messages.
    pub fn code(self) -> &'static str {
        match self {
            PinKind::Signature => "sign",
            PinKind::Authentication => "auth",
            PinKind::Residence => "residence",
            PinKind::Support => "support",
        }
    }

    /// Whether `candidate` has this PIN's shape (what the chip checks before comparing;
    /// a wrongly shaped PIN costs no try).
    pub fn shape_ok(self, candidate: &[u8]) -> bool {
        match self {
            PinKind::Signature => {
                (6..=16).contains(&candidate.len())
                    && candidate
                        .iter()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            }
            _ => candidate.len() == 4 && candidate.iter().all(u8::is_ascii_digit),
        }
    }
}

/// Why a new PIN is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    #[error("the {0} PIN must be exactly 4 digits")]
    FourDigits(&'static str),
    #[error("the signature password must be 6 to 16 characters of A–Z and 0–9")]
    SignatureShape,
    #[error("the signature password needs at least one letter and one digit")]
    SignatureMix,
}

/// A PIN that satisfies its kind's rule; its text is wiped from memory when dropped
/// and never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin {
    kind: PinKind,
    value: Zeroizing<String>,
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pin({}, ****)", self.kind.code())
    }
}

impl Pin {
    /// Parses a PIN to be set. The signature password is upper-cased first, as card
    /// clients do.
    pub fn new(kind: PinKind, text: &str) -> Result<Self, PinError> {
        let value = Zeroizing::new(match kind {
            PinKind::Signature => text.trim().to_ascii_uppercase(),
            _ => text.trim().to_owned(),
        });
        if !kind.shape_ok(value.as_bytes()) {
            return Err(match kind {
                PinKind::Signature => PinError::SignatureShape,
                _ => PinError::FourDigits(kind.code()),
            });
        }
        if kind == PinKind::Signature
            && !(value.bytes().any(|b| b.is_ascii_uppercase())
                && value.bytes().any(|b| b.is_ascii_digit()))
        {
            return Err(PinError::SignatureMix);
        }
        Ok(Self { kind, value })
    }

    pub fn kind(&self) -> PinKind {
        self.kind
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.value.as_bytes()
    }
}

/// Where a card is in its life (`cards.status`). A card made from an application is
/// `Made` at the bureau, `Shipped` in its shipment, `Received` at the municipality,
/// `Active` once handed over (or delivered home); `Suspended` after a loss is
/// reported (lifted back to `Active` only at the counter with the card present); a
/// card never collected is `Destroyed` (its keys wiped, the record kept); `Revoked`
/// is the card abolished (廃止: death, departure of a foreign national, a reissue
/// handed over, the continued-use deadline missed, ...) and ends any of them for
/// good. The transitions are [`CardState::after`] (`life.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum CardState {
    Made,
    Shipped,
    Received,
    Active,
    Suspended,
    Destroyed,
    Revoked,
}

impl CardState {
    pub const ALL: [CardState; 7] = [
        Self::Made,
        Self::Shipped,
        Self::Received,
        Self::Active,
        Self::Suspended,
        Self::Destroyed,
        Self::Revoked,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Made => "made",
            Self::Shipped => "shipped",
            Self::Received => "received",
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Destroyed => "destroyed",
            Self::Revoked => "revoked",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.code() == code)
    }
}

/// Why a card's certificates are revoked (REFERENCE section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum RevocationReason {
    /// The card was reported lost or stolen.
    LostCard,
    /// The card expired or was returned.
    CardEnded,
    /// The holder asked.
    HoldersRequest,
    /// The holder died.
    Death,
    /// The holder's My Number was changed (a new card follows).
    NumberChanged,
    /// The name or address changed (signature certificates only).
    FactsChanged,
    /// The card is suspended (reported lost): the authentication certificate is put
    /// on hold (RFC 5280 certificateHold) and comes back if the card is found.
    CertificateHold,
    /// The holder left Japan (国外転出).
    Departed,
    /// Replaced by a renewed certificate on the same card.
    Renewed,
}

impl RevocationReason {
    pub const ALL: [RevocationReason; 9] = [
        Self::LostCard,
        Self::CardEnded,
        Self::HoldersRequest,
        Self::Death,
        Self::NumberChanged,
        Self::FactsChanged,
        Self::CertificateHold,
        Self::Departed,
        Self::Renewed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::LostCard => "lost-card",
            Self::CardEnded => "card-ended",
            Self::HoldersRequest => "holders-request",
            Self::Death => "death",
            Self::NumberChanged => "number-changed",
            Self::FactsChanged => "facts-changed",
            Self::CertificateHold => "certificate-hold",
            Self::Departed => "departed",
            Self::Renewed => "renewed",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.code() == code)
    }
}

/// Which of a card's certificates a change in the registry revokes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationScope {
    /// Both certificates, and the card with them.
    Card,
    /// The signature certificate only (it carries the four facts; the authentication
    /// certificate does not, and survives).
    SignatureCertificate,
}

/// What a change to the resident record does to the resident's cards: a changed name
/// or address revokes the signature certificate; a death or a changed number, the
/// whole card. Departure and return leave the card as it is.
pub fn revocation_for(
    event: &crate::resident::ResidentEvent,
) -> Option<(RevocationScope, RevocationReason)> {
    use crate::resident::ResidentEvent as E;
    match event {
        E::Moved { .. } | E::AddressChanged { .. } | E::Renamed { .. } => Some((
            RevocationScope::SignatureCertificate,
            RevocationReason::FactsChanged,
        )),
        E::Died { .. } => Some((RevocationScope::Card, RevocationReason::Death)),
        E::NumberChanged { .. } => Some((RevocationScope::Card, RevocationReason::NumberChanged)),
        E::Departed { .. } | E::Returned { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn pins_follow_their_rules() {
        assert!(Pin::new(PinKind::Authentication, "1234").is_ok());
        assert_eq!(
            Pin::new(PinKind::Support, "12a4").unwrap_err(),
            PinError::FourDigits("support")
        );
        assert!(Pin::new(PinKind::Residence, "12345").is_err());
        assert_eq!(
            Pin::new(PinKind::Signature, "abc123").unwrap().as_bytes(),
            b"ABC123"
        );
        assert_eq!(
            Pin::new(PinKind::Signature, "ABCDEF").unwrap_err(),
            PinError::SignatureMix
        );
        assert_eq!(
            Pin::new(PinKind::Signature, "AB12").unwrap_err(),
            PinError::SignatureShape
        );
        assert_eq!(
            Pin::new(PinKind::Signature, "ABC-123").unwrap_err(),
            PinError::SignatureShape
        );
        assert!(
            !format!("{:?}", Pin::new(PinKind::Authentication, "1234").unwrap()).contains("1234")
        );
        assert_eq!(PinKind::Signature.max_tries(), 5);
        assert_eq!(PinKind::Support.max_tries(), 3);
    }
}
