//! Applying for the card (REFERENCE section 3): the channels, the application's life
//! as a state machine, and the photo rules every channel applies. The labels of the
//! states are *our design* (the real service does not publish its own).

use serde::{Deserialize, Serialize};
use std::fmt;

/// How the application came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    Mail,
    Smartphone,
    Pc,
    PhotoBooth,
    /// At the municipality's counter: a reissue or renewal of a card (issue 13).
    Counter,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Self::Mail,
        Self::Smartphone,
        Self::Pc,
        Self::PhotoBooth,
        Self::Counter,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Mail => "mail",
            Self::Smartphone => "smartphone",
            Self::Pc => "pc",
            Self::PhotoBooth => "photo-booth",
            Self::Counter => "counter",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApplicationStatus {
    /// Received; not yet looked at.
    Received,
    /// An officer of the card bureau is checking it.
    UnderReview,
    /// Sent back to the resident to correct (the reason says what).
    ReturnedForCorrection,
    /// Accepted: the card is being made.
    CardIssuanceInProcess,
    /// Made by the card bureau and shipped to the municipality.
    Shipped,
    /// Received by the municipality (checked against the shipment's manifest); the
    /// issue notice is not yet sent.
    AtMunicipality,
    /// The issue notice (交付通知書) is sent: the card waits at the office.
    ReadyForPickup,
    /// Delivered home instead: the card is in the registered mail.
    PostedToResident,
    /// In the resident's hands (at the counter, or delivered by the post).
    HandedOver,
    /// Never collected: the card was destroyed (keys wiped, the record kept).
    Destroyed,
    /// Withdrawn or refused for good.
    Cancelled,
}

impl ApplicationStatus {
    pub const ALL: [ApplicationStatus; 11] = [
        Self::Received,
        Self::UnderReview,
        Self::ReturnedForCorrection,
        Self::CardIssuanceInProcess,
        Self::Shipped,
        Self::AtMunicipality,
        Self::ReadyForPickup,
        Self::PostedToResident,
        Self::HandedOver,
        Self::Destroyed,
        Self::Cancelled,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::UnderReview => "under-review",
            Self::ReturnedForCorrection => "returned-for-correction",
            Self::CardIssuanceInProcess => "card-issuance-in-process",
            Self::Shipped => "shipped",
            Self::AtMunicipality => "at-municipality",
            Self::ReadyForPickup => "ready-for-pickup",
            Self::PostedToResident => "posted-to-resident",
            Self::HandedOver => "handed-over",
            Self::Destroyed => "destroyed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
}

impl fmt::Display for ApplicationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why an application goes back to the resident (each has a message in the
/// resident's language telling what to do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReturnReason {
    /// Mail: no photo in the envelope.
    PhotoMissing,
    /// The photo does not meet the rules.
    PhotoNotConforming,
    /// The form is incomplete.
    FormIncomplete,
    /// Mail: something else was in the envelope.
    SomethingElseEnclosed,
    /// The details do not match the registry.
    DetailsMismatch,
}

impl ReturnReason {
    pub const ALL: [ReturnReason; 5] = [
        Self::PhotoMissing,
        Self::PhotoNotConforming,
        Self::FormIncomplete,
        Self::SomethingElseEnclosed,
        Self::DetailsMismatch,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::PhotoMissing => "photo-missing",
            Self::PhotoNotConforming => "photo-not-conforming",
            Self::FormIncomplete => "form-incomplete",
            Self::SomethingElseEnclosed => "something-else-enclosed",
            Self::DetailsMismatch => "details-mismatch",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// What happens to an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ApplicationEvent {
    StartReview,
    ReturnForCorrection {
        reason: ReturnReason,
    },
    Resubmit,
    Approve,
    /// The card bureau made the card and shipped it to the municipality.
    Ship,
    /// The municipality checked the card in against the shipment's manifest.
    Receive,
    /// The issue notice was sent.
    NotifyPickup,
    /// Handed over at the counter.
    HandOver,
    /// Sent home by registered mail (applied at the counter, or express issue).
    PostHome,
    /// The post delivered the card home.
    Deliver,
    /// Never collected in time: destroyed.
    Destroy,
    Cancel,
}

impl ApplicationEvent {
    pub fn code(&self) -> &'static str {
        match self {
            Self::StartReview => "start-review",
            Self::ReturnForCorrection { .. } => "return-for-correction",
            Self::Resubmit => "resubmit",
            Self::Approve => "approve",
            Self::Ship => "ship",
            Self::Receive => "receive",
            Self::NotifyPickup => "notify-pickup",
            Self::HandOver => "hand-over",
            Self::PostHome => "post-home",
            Self::Deliver => "deliver",
            Self::Destroy => "destroy",
            Self::Cancel => "cancel",
        }
    }
}

/// A transition the state machine refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an application that is {from} cannot {event}")]
pub struct IllegalTransition {
    pub from: ApplicationStatus,
    pub event: &'static str,
}

impl ApplicationStatus {
    /// The state after `event`, or why not.
    pub fn apply(self, event: &ApplicationEvent) -> Result<Self, IllegalTransition> {
        use ApplicationEvent as E;
        use ApplicationStatus as S;
        let next = match (self, event) {
            (S::Received, E::StartReview) => S::UnderReview,
            (S::Received | S::UnderReview, E::ReturnForCorrection { .. }) => {
                S::ReturnedForCorrection
            }
            (S::ReturnedForCorrection, E::Resubmit) => S::Received,
            (S::UnderReview, E::Approve) => S::CardIssuanceInProcess,
            (S::CardIssuanceInProcess, E::Ship) => S::Shipped,
            (S::Shipped, E::Receive) => S::AtMunicipality,
            (S::AtMunicipality, E::NotifyPickup) => S::ReadyForPickup,
            (S::ReadyForPickup, E::HandOver) => S::HandedOver,
            (S::Shipped | S::AtMunicipality, E::PostHome) => S::PostedToResident,
            (S::PostedToResident, E::Deliver) => S::HandedOver,
            (S::ReadyForPickup, E::Destroy) => S::Destroyed,
            (
                S::Received | S::UnderReview | S::ReturnedForCorrection | S::CardIssuanceInProcess,
                E::Cancel,
            ) => S::Cancelled,
            _ => {
                return Err(IllegalTransition {
                    from: self,
                    event: event.code(),
                })
            }
        };
        Ok(next)
    }

    /// Whether an application in this state is flagged when it has not moved for
    /// [`STUCK_AFTER_DAYS`] days (REFERENCE section 3: the resident should contact the
    /// office).
    pub fn can_be_stuck(self) -> bool {
        self == Self::CardIssuanceInProcess
    }
}

/// Where a notice is, as registered mail (簡易書留) tracks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoticeMail {
    NotPrinted,
    Printed,
    Posted,
    Delivered,
    /// Nobody was in: a notice of attempted delivery was left.
    Absent,
    RedeliveryRequested,
    /// Not collected in time: back at the city office.
    ReturnedToOffice,
}

impl NoticeMail {
    pub const ALL: [NoticeMail; 7] = [
        Self::NotPrinted,
        Self::Printed,
        Self::Posted,
        Self::Delivered,
        Self::Absent,
        Self::RedeliveryRequested,
        Self::ReturnedToOffice,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::NotPrinted => "not-printed",
            Self::Printed => "printed",
            Self::Posted => "posted",
            Self::Delivered => "delivered",
            Self::Absent => "absent",
            Self::RedeliveryRequested => "redelivery-requested",
            Self::ReturnedToOffice => "returned-to-office",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Whether the post can take a notice from `self` to `next`.
    pub fn can_become(self, next: NoticeMail) -> bool {
        use NoticeMail as N;
        matches!(
            (self, next),
            (N::NotPrinted, N::Printed)
                | (N::Printed, N::Posted)
                | (N::Posted | N::RedeliveryRequested, N::Delivered | N::Absent)
                | (N::Absent, N::RedeliveryRequested | N::Delivered | N::ReturnedToOffice)
                | (N::Posted | N::RedeliveryRequested, N::ReturnedToOffice)
                // A notice back at the office is handed over or posted again.
                | (N::ReturnedToOffice, N::Delivered | N::Posted)
        )
    }
}

/// Days after which an application still in card issuance is flagged.
pub const STUCK_AFTER_DAYS: i64 = 30;

mod photo;
pub use photo::*;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_usual_life_of_an_application() {
        use ApplicationEvent as E;
        let mut status = ApplicationStatus::Received;
        for event in [
            E::StartReview,
            E::ReturnForCorrection {
                reason: ReturnReason::PhotoNotConforming,
            },
            E::Resubmit,
            E::StartReview,
            E::Approve,
        ] {
            status = status.apply(&event).unwrap();
        }
        assert_eq!(status, ApplicationStatus::CardIssuanceInProcess);
        assert!(status.can_be_stuck());
        assert_eq!(
            status.apply(&E::StartReview).unwrap_err().to_string(),
            "an application that is card-issuance-in-process cannot start-review"
        );
        let cancelled = status.apply(&E::Cancel).unwrap();
        assert!(cancelled.apply(&E::Cancel).is_err());
        for s in ApplicationStatus::ALL {
            assert_eq!(ApplicationStatus::from_code(s.code()), Some(s));
        }
    }

    #[test]
    fn registered_mail_is_tracked_in_order() {
        use NoticeMail as N;
        let path = [
            N::NotPrinted,
            N::Printed,
            N::Posted,
            N::Absent,
            N::RedeliveryRequested,
            N::Delivered,
        ];
        for pair in path.windows(2) {
            assert!(pair[0].can_become(pair[1]), "{pair:?}");
        }
        assert!(!N::Delivered.can_become(N::Posted));
        assert!(!N::NotPrinted.can_become(N::Delivered));
        assert!(N::Absent.can_become(N::ReturnedToOffice));
        for s in N::ALL {
            assert_eq!(N::from_code(s.code()), Some(s));
        }
    }

    fn any_event() -> impl Strategy<Value = ApplicationEvent> {
        prop_oneof![
            Just(ApplicationEvent::StartReview),
            prop::sample::select(ReturnReason::ALL.to_vec())
                .prop_map(|reason| ApplicationEvent::ReturnForCorrection { reason }),
            Just(ApplicationEvent::Resubmit),
            Just(ApplicationEvent::Approve),
            Just(ApplicationEvent::Ship),
            Just(ApplicationEvent::Receive),
            Just(ApplicationEvent::NotifyPickup),
            Just(ApplicationEvent::HandOver),
            Just(ApplicationEvent::PostHome),
            Just(ApplicationEvent::Deliver),
            Just(ApplicationEvent::Destroy),
            Just(ApplicationEvent::Cancel),
        ]
    }

    proptest! {
        /// Whatever happens: card issuance is reached only through review, nothing
        /// leaves Cancelled, and a refused event leaves the state as it was.
        #[test]
        fn the_state_machine_keeps_its_promises(events in prop::collection::vec(any_event(), 0..40)) {
            let mut status = ApplicationStatus::Received;
            for event in &events {
                match status.apply(event) {
                    Ok(next) => {
                        if next == ApplicationStatus::CardIssuanceInProcess && status != next {
                            prop_assert_eq!(status, ApplicationStatus::UnderReview);
                        }
                        prop_assert_ne!(status, ApplicationStatus::Cancelled);
                        // A card reaches its resident only after it was made, and
                        // nothing follows its hand-over or destruction.
                        if next == ApplicationStatus::HandedOver {
                            prop_assert!(matches!(status, ApplicationStatus::ReadyForPickup | ApplicationStatus::PostedToResident));
                        }
                        prop_assert!(!matches!(status, ApplicationStatus::HandedOver | ApplicationStatus::Destroyed));
                        status = next;
                    }
                    Err(error) => prop_assert_eq!(error.from, status),
                }
            }
        }
    }
}
