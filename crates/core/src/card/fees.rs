//! What a new card costs (REFERENCE sections 6 and 7): a reissue is ¥800 for the
//! card and ¥200 for the certificates on it; a renewal on expiry and a card whose
//! notes panel (追記欄) is full are free. [`ReissueFee::due`] is the one rule;
//! [`ReissueFee::check_paid`] is what the counter's record of the payment must say.

/// Why a card is replaced by a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ReissueReason {
    /// Lost (or stolen): the card was suspended when the loss was reported.
    Lost,
    /// Broken or worn: the chip or the face no longer reads.
    Damaged,
    /// The notes panel has no room for the next entry (free).
    NotesFull,
    /// The card reaches its end: the renewal, from three months before (free).
    Expiry,
}

impl ReissueReason {
    pub const ALL: [ReissueReason; 4] = [Self::Lost, Self::Damaged, Self::NotesFull, Self::Expiry];

    pub fn code(self) -> &'static str {
        match self {
            Self::Lost => "lost",
            Self::Damaged => "damaged",
            Self::NotesFull => "notes-full",
            Self::Expiry => "expiry",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.code() == code)
    }

    /// The codes, for messages ("one of lost, damaged, ...").
    pub fn codes() -> String {
        Self::ALL.map(Self::code).join(", ")
    }
}

/// The card part of the reissue fee, in yen.
pub const CARD_FEE_YEN: u32 = 800;
/// The certificates part of the reissue fee, in yen (only when certificates are
/// issued on the new card).
pub const CERTIFICATES_FEE_YEN: u32 = 200;

/// The fee of one new card, by part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReissueFee {
    pub card_yen: u32,
    pub certificates_yen: u32,
}

/// Why the counter's record of the payment is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FeeError {
    /// A fee is due and no payment was recorded, or not the amount due.
    #[error("fee missing: ¥{due} is due (card ¥{card}, certificates ¥{certificates}) and ¥{paid} was recorded")]
    Missing {
        due: u32,
        card: u32,
        certificates: u32,
        paid: u32,
    },
    /// Nothing is due (renewal, full notes panel) but a payment was recorded.
    #[error("no fee is due for this reason, but ¥{paid} was recorded")]
    NotDue { paid: u32 },
}

impl ReissueFee {
    /// The fee for a new card replacing one for `reason`, with or without
    /// certificates.
    pub fn due(reason: ReissueReason, with_certificates: bool) -> Self {
        match reason {
            ReissueReason::Expiry | ReissueReason::NotesFull => Self::default(),
            ReissueReason::Lost | ReissueReason::Damaged => Self {
                card_yen: CARD_FEE_YEN,
                certificates_yen: if with_certificates {
                    CERTIFICATES_FEE_YEN
                } else {
                    0
                },
            },
        }
    }

    pub fn total(self) -> u32 {
        self.card_yen + self.certificates_yen
    }

    pub fn is_free(self) -> bool {
        self.total() == 0
    }

    /// Whether `paid` (what the counter recorded it took, `None` for nothing) is
    /// exactly the fee.
    pub fn check_paid(self, paid: Option<u32>) -> Result<(), FeeError> {
        let paid = paid.unwrap_or(0);
        if paid == self.total() {
            Ok(())
        } else if self.is_free() {
            Err(FeeError::NotDue { paid })
        } else {
            Err(FeeError::Missing {
                due: self.total(),
                card: self.card_yen,
                certificates: self.certificates_yen,
                paid,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_lost_card_costs_a_thousand_yen_and_a_renewal_nothing() {
        let lost = ReissueFee::due(ReissueReason::Lost, true);
        assert_eq!(lost.total(), 1_000);
        assert_eq!(ReissueFee::due(ReissueReason::Damaged, false).total(), 800);
        assert!(ReissueFee::due(ReissueReason::Expiry, true).is_free());
        assert!(ReissueFee::due(ReissueReason::NotesFull, true).is_free());
        assert_eq!(lost.check_paid(Some(1_000)), Ok(()));
        let missing = lost.check_paid(None).unwrap_err();
        assert_eq!(
            missing.to_string(),
            "fee missing: ¥1000 is due (card ¥800, certificates ¥200) and ¥0 was recorded"
        );
        assert!(lost.check_paid(Some(800)).is_err());
        assert_eq!(
            ReissueFee::due(ReissueReason::Expiry, true).check_paid(Some(1_000)),
            Err(FeeError::NotDue { paid: 1_000 })
        );
        assert_eq!(ReissueFee::due(ReissueReason::Expiry, true).check_paid(None), Ok(()));
    }

    #[test]
    fn every_reason_has_its_own_code() {
        for reason in ReissueReason::ALL {
            assert_eq!(ReissueReason::from_code(reason.code()), Some(reason));
        }
        assert_eq!(ReissueReason::from_code("stolen"), None);
    }

    proptest! {
        #[test]
        fn only_the_exact_fee_is_accepted(
            reason in 0usize..4,
            with_certificates: bool,
            paid in proptest::option::of(0u32..3_000),
        ) {
            let reason = ReissueReason::ALL[reason];
            let fee = ReissueFee::due(reason, with_certificates);
            let free = matches!(reason, ReissueReason::Expiry | ReissueReason::NotesFull);
            prop_assert_eq!(fee.is_free(), free);
            prop_assert!(fee.total() <= CARD_FEE_YEN + CERTIFICATES_FEE_YEN);
            let accepted = fee.check_paid(paid).is_ok();
            prop_assert_eq!(accepted, paid.unwrap_or(0) == fee.total());
        }
    }
}
