//! The card's life after it is made: which state changes are allowed ([`CardState::after`],
//! the one place the rule lives) and the kinds of entry in a card's history
//! ([`CardEventKind`]: every state change and every change of the chip, the
//! certificates or the notes panel is one).

use super::CardState;

/// A change of a card's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum CardTransition {
    /// The bureau ships it, the municipality receives it.
    Ship,
    Receive,
    /// Handed over at the counter or delivered home.
    Activate,
    /// Reported lost or stolen (24/7, helpline or the resident): an active card.
    Suspend,
    /// Found: lifted only at the counter, the card present.
    Lift,
    /// Never collected: keys wiped.
    Destroy,
    /// Abolished (廃止): death, a foreign national's departure, the end of a period
    /// of stay, a reissue handed over, the continued-use deadline missed, a number
    /// change. From any state but the final ones.
    Abolish,
}

impl CardTransition {
    pub fn code(self) -> &'static str {
        match self {
            Self::Ship => "ship",
            Self::Receive => "receive",
            Self::Activate => "activate",
            Self::Suspend => "suspend",
            Self::Lift => "lift",
            Self::Destroy => "destroy",
            Self::Abolish => "abolish",
        }
    }
}

/// A state change the card's state does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the card is {}: it cannot {}", state.code(), transition.code())]
pub struct CardTransitionError {
    pub state: CardState,
    pub transition: CardTransition,
}

impl CardState {
    /// The state after `transition`, or why not.
    pub fn after(self, transition: CardTransition) -> Result<CardState, CardTransitionError> {
        use CardState as S;
        use CardTransition as T;
        let next = match (self, transition) {
            (S::Made, T::Ship) => S::Shipped,
            (S::Shipped, T::Receive) => S::Received,
            (S::Received, T::Activate) => S::Active,
            (S::Active, T::Suspend) => S::Suspended,
            (S::Suspended, T::Lift) => S::Active,
            (S::Made | S::Shipped | S::Received, T::Destroy) => S::Destroyed,
            (S::Made | S::Shipped | S::Received | S::Active | S::Suspended, T::Abolish) => {
                S::Revoked
            }
            _ => {
                return Err(CardTransitionError {
                    state: self,
                    transition,
                })
            }
        };
        Ok(next)
    }

    /// Whether the card's certificates may be good in this state (only an active
    /// card's; a suspended card's authentication certificate is on hold).
    pub fn usable(self) -> bool {
        self == CardState::Active
    }

    /// Whether nothing can happen to the card any more.
    pub fn is_final(self) -> bool {
        matches!(self, CardState::Destroyed | CardState::Revoked)
    }
}

/// What one entry of a card's history records (`card_events.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum CardEventKind {
    /// A state change (the transition names which).
    State(CardTransition),
    /// Certificates revoked without a change of state (a name or address change
    /// revokes the signature certificate).
    CertificatesRevoked,
    /// New certificates issued for the card (at pickup, renewal, after a change).
    CertificatesIssued,
    /// A PIN reset or unblocked at the counter.
    PinReset,
    /// The chip's facts rewritten at the counter (address or name).
    ChipUpdated,
    /// An entry written in the notes panel (追記欄).
    NotesWritten,
    /// The card moved with its holder to another municipality (転入届の特例), and
    /// its continued use confirmed (継続利用).
    MovedOut,
    MovedIn,
    ContinuedUse,
    /// A reissue or renewal was applied for (the new card is linked to this one).
    ReplacementApplied,
    /// An expiry letter (有効期限通知書) was written.
    ExpiryLetter,
}

impl CardEventKind {
    pub const ALL: [CardEventKind; 17] = [
        Self::State(CardTransition::Ship),
        Self::State(CardTransition::Receive),
        Self::State(CardTransition::Activate),
        Self::State(CardTransition::Suspend),
        Self::State(CardTransition::Lift),
        Self::State(CardTransition::Destroy),
        Self::State(CardTransition::Abolish),
        Self::CertificatesRevoked,
        Self::CertificatesIssued,
        Self::PinReset,
        Self::ChipUpdated,
        Self::NotesWritten,
        Self::MovedOut,
        Self::MovedIn,
        Self::ContinuedUse,
        Self::ReplacementApplied,
        Self::ExpiryLetter,
    ];

    /// The stored and displayed name (also the message id suffix: `card-event-…`).
    pub fn code(self) -> &'static str {
        match self {
            Self::State(CardTransition::Ship) => "shipped",
            Self::State(CardTransition::Receive) => "received",
            Self::State(CardTransition::Activate) => "activated",
            Self::State(CardTransition::Suspend) => "suspended",
            Self::State(CardTransition::Lift) => "suspension-lifted",
            Self::State(CardTransition::Destroy) => "destroyed",
            Self::State(CardTransition::Abolish) => "abolished",
            Self::CertificatesRevoked => "certificates-revoked",
            Self::CertificatesIssued => "certificates-issued",
            Self::PinReset => "pin-reset",
            Self::ChipUpdated => "chip-updated",
            Self::NotesWritten => "notes-written",
            Self::MovedOut => "moved-out",
            Self::MovedIn => "moved-in",
            Self::ContinuedUse => "continued-use",
            Self::ReplacementApplied => "replacement-applied",
            Self::ExpiryLetter => "expiry-letter",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.code() == code)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_lost_card_is_suspended_and_lifted_and_an_abolished_one_never_returns() {
        let active = CardState::Received.after(CardTransition::Activate).unwrap();
        let suspended = active.after(CardTransition::Suspend).unwrap();
        assert_eq!(suspended, CardState::Suspended);
        assert!(!suspended.usable());
        assert_eq!(suspended.after(CardTransition::Lift).unwrap(), active);
        let gone = suspended.after(CardTransition::Abolish).unwrap();
        assert!(gone.is_final());
        let refused = gone.after(CardTransition::Lift).unwrap_err();
        assert_eq!(refused.to_string(), "the card is revoked: it cannot lift");
        assert!(active.after(CardTransition::Lift).is_err());
        assert!(active.after(CardTransition::Destroy).is_err());
    }

    #[test]
    fn every_event_kind_has_its_own_code() {
        for kind in CardEventKind::ALL {
            assert_eq!(CardEventKind::from_code(kind.code()), Some(kind));
        }
    }

    proptest! {
        #[test]
        fn nothing_leaves_a_final_state(steps in prop::collection::vec(0usize..7, 0..40)) {
            let all = [
                CardTransition::Ship, CardTransition::Receive, CardTransition::Activate,
                CardTransition::Suspend, CardTransition::Lift, CardTransition::Destroy,
                CardTransition::Abolish,
            ];
            let mut state = CardState::Made;
            for step in steps {
                let transition = all[step];
                match state.after(transition) {
                    Ok(next) => {
                        prop_assert!(!state.is_final());
                        state = next;
                    }
                    Err(error) => prop_assert_eq!(error.state, state),
                }
            }
        }
    }
}
