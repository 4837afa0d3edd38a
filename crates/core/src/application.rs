//! Applying for the card (REFERENCE section 3): the channels, the application's life
//! as a state machine, and the photo rules every channel applies. The labels of the
//! states are *our design* (the real service does not publish its own).

use chrono::{Months, NaiveDate};
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
}

impl Channel {
    pub const ALL: [Channel; 4] = [Self::Mail, Self::Smartphone, Self::Pc, Self::PhotoBooth];

    pub fn code(self) -> &'static str {
        match self {
            Self::Mail => "mail",
            Self::Smartphone => "smartphone",
            Self::Pc => "pc",
            Self::PhotoBooth => "photo-booth",
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
    /// Withdrawn or refused for good.
    Cancelled,
}

impl ApplicationStatus {
    pub const ALL: [ApplicationStatus; 5] = [
        Self::Received,
        Self::UnderReview,
        Self::ReturnedForCorrection,
        Self::CardIssuanceInProcess,
        Self::Cancelled,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::UnderReview => "under-review",
            Self::ReturnedForCorrection => "returned-for-correction",
            Self::CardIssuanceInProcess => "card-issuance-in-process",
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
    ReturnForCorrection { reason: ReturnReason },
    Resubmit,
    Approve,
    Cancel,
}

impl ApplicationEvent {
    pub fn code(&self) -> &'static str {
        match self {
            Self::StartReview => "start-review",
            Self::ReturnForCorrection { .. } => "return-for-correction",
            Self::Resubmit => "resubmit",
            Self::Approve => "approve",
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

/// The image format of an uploaded or scanned photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoFormat {
    Jpeg,
    Other,
}

/// What the server learnt from a photo file (decoding and face detection happen
/// outside this crate, which does no I/O).
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoFacts {
    pub format: PhotoFormat,
    /// Three colour components (RGB/YCbCr); grey or CMYK is not RGB.
    pub rgb: bool,
    pub bytes: usize,
    pub width: u32,
    pub height: u32,
    /// The date the camera recorded (EXIF), when the file has one.
    pub taken: Option<NaiveDate>,
    /// Faces found: (x, y, width, height) in pixels.
    pub faces: Vec<(u32, u32, u32, u32)>,
}

/// What is wrong with a photo; each has a message telling the resident what to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PhotoProblem {
    NotJpeg,
    NotRgb,
    TooSmallFile,
    TooLargeFile,
    TooFewPixels,
    TooManyPixels,
    WrongRatio,
    NoFace,
    SeveralFaces,
    FaceNotCentred,
    FaceTooSmall,
    FaceTooLarge,
    TooOld,
}

impl PhotoProblem {
    pub fn code(self) -> &'static str {
        match self {
            Self::NotJpeg => "photo-not-jpeg",
            Self::NotRgb => "photo-not-rgb",
            Self::TooSmallFile => "photo-file-too-small",
            Self::TooLargeFile => "photo-file-too-large",
            Self::TooFewPixels => "photo-too-few-pixels",
            Self::TooManyPixels => "photo-too-many-pixels",
            Self::WrongRatio => "photo-wrong-ratio",
            Self::NoFace => "photo-no-face",
            Self::SeveralFaces => "photo-several-faces",
            Self::FaceNotCentred => "photo-face-not-centred",
            Self::FaceTooSmall => "photo-face-too-small",
            Self::FaceTooLarge => "photo-face-too-large",
            Self::TooOld => "photo-too-old",
        }
    }
}

/// The upload rules (REFERENCE section 2) and our tolerances.
pub mod photo_rules {
    pub const MIN_BYTES: usize = 20 * 1024;
    pub const MAX_BYTES: usize = 7 * 1024 * 1024;
    pub const MIN_SIDE: u32 = 480;
    pub const MAX_SIDE: u32 = 6000;
    /// Width : height = 35 : 45, within this relative tolerance *(our design)*.
    pub const RATIO_TOLERANCE: f64 = 0.04;
    /// The face's centre may be this far from the photo's vertical axis, as a share
    /// of the width; and in the upper 25–60% of the height *(our design)*.
    pub const CENTRE_TOLERANCE: f64 = 0.15;
    /// The face box's width as a share of the photo's width *(our design: the rule
    /// asks for a face of 3.2–3.6 cm in a 4.5 cm photo; detectors box less than the
    /// whole head)*.
    pub const MIN_FACE_SHARE: f64 = 0.25;
    pub const MAX_FACE_SHARE: f64 = 0.85;
    /// Months within which the photo must have been taken.
    pub const MAX_AGE_MONTHS: u32 = 6;
}

/// Every problem of a photo (empty when it passes), in a stable order.
pub fn check_photo(facts: &PhotoFacts, today: NaiveDate) -> Vec<PhotoProblem> {
    use photo_rules::*;
    let mut problems = Vec::new();
    if facts.format != PhotoFormat::Jpeg {
        problems.push(PhotoProblem::NotJpeg);
    }
    if !facts.rgb {
        problems.push(PhotoProblem::NotRgb);
    }
    if facts.bytes < MIN_BYTES {
        problems.push(PhotoProblem::TooSmallFile);
    }
    if facts.bytes > MAX_BYTES {
        problems.push(PhotoProblem::TooLargeFile);
    }
    if facts.width < MIN_SIDE || facts.height < MIN_SIDE {
        problems.push(PhotoProblem::TooFewPixels);
    }
    if facts.width > MAX_SIDE || facts.height > MAX_SIDE {
        problems.push(PhotoProblem::TooManyPixels);
    }
    let ratio = f64::from(facts.width) / f64::from(facts.height.max(1));
    let wanted = 35.0 / 45.0;
    if ((ratio - wanted) / wanted).abs() > RATIO_TOLERANCE {
        problems.push(PhotoProblem::WrongRatio);
    }
    match facts.faces.as_slice() {
        [] => problems.push(PhotoProblem::NoFace),
        [(x, y, w, h)] => {
            let width = f64::from(facts.width.max(1));
            let height = f64::from(facts.height.max(1));
            let centre_x = (f64::from(*x) + f64::from(*w) / 2.0) / width;
            let centre_y = (f64::from(*y) + f64::from(*h) / 2.0) / height;
            if (centre_x - 0.5).abs() > CENTRE_TOLERANCE || !(0.25..=0.6).contains(&centre_y) {
                problems.push(PhotoProblem::FaceNotCentred);
            }
            let share = f64::from(*w) / width;
            if share < MIN_FACE_SHARE {
                problems.push(PhotoProblem::FaceTooSmall);
            }
            if share > MAX_FACE_SHARE {
                problems.push(PhotoProblem::FaceTooLarge);
            }
        }
        _ => problems.push(PhotoProblem::SeveralFaces),
    }
    if let Some(taken) = facts.taken {
        let limit = today.checked_sub_months(Months::new(MAX_AGE_MONTHS));
        if limit.is_some_and(|limit| taken < limit) {
            problems.push(PhotoProblem::TooOld);
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn good() -> PhotoFacts {
        PhotoFacts {
            format: PhotoFormat::Jpeg,
            rgb: true,
            bytes: 200_000,
            width: 700,
            height: 900,
            taken: NaiveDate::from_ymd_opt(2026, 10, 1),
            faces: vec![(220, 220, 260, 300)],
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    #[test]
    fn a_conforming_photo_passes_and_each_fault_is_named() {
        assert_eq!(check_photo(&good(), today()), vec![]);
        let with = |change: &dyn Fn(&mut PhotoFacts)| {
            let mut facts = good();
            change(&mut facts);
            check_photo(&facts, today())
        };
        assert_eq!(
            with(&|f| f.format = PhotoFormat::Other),
            vec![PhotoProblem::NotJpeg]
        );
        assert_eq!(with(&|f| f.rgb = false), vec![PhotoProblem::NotRgb]);
        assert_eq!(
            with(&|f| f.bytes = 10_000),
            vec![PhotoProblem::TooSmallFile]
        );
        assert_eq!(
            with(&|f| f.bytes = 8 << 20),
            vec![PhotoProblem::TooLargeFile]
        );
        assert_eq!(with(&|f| f.width = 900), vec![PhotoProblem::WrongRatio]);
        assert_eq!(with(&|f| f.faces.clear()), vec![PhotoProblem::NoFace]);
        assert_eq!(
            with(&|f| f.faces.push((0, 0, 10, 10))),
            vec![PhotoProblem::SeveralFaces]
        );
        assert_eq!(
            with(&|f| f.faces = vec![(0, 220, 260, 300)]),
            vec![PhotoProblem::FaceNotCentred]
        );
        assert_eq!(
            with(&|f| f.faces = vec![(300, 350, 100, 120)]),
            vec![PhotoProblem::FaceTooSmall]
        );
        assert_eq!(
            with(&|f| f.taken = NaiveDate::from_ymd_opt(2026, 5, 1)),
            vec![PhotoProblem::TooOld]
        );
        assert_eq!(with(&|f| f.taken = None), vec![]);
        let tiny = with(&|f| {
            f.width = 350;
            f.height = 450;
            f.faces = vec![(110, 110, 130, 150)];
        });
        assert_eq!(tiny, vec![PhotoProblem::TooFewPixels]);
    }

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
                        status = next;
                    }
                    Err(error) => prop_assert_eq!(error.from, status),
                }
            }
        }
    }
}
