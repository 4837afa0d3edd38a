//! The identity documents a counter accepts, the reasons for a proxy pickup and the
//! old cards surrendered (REFERENCE sections 4 and 7), each with its code.

use serde::{Deserialize, Serialize};

/// An identity document shown at the counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdDocument {
    // Official photo IDs: one is enough.
    DriversLicence,
    DrivingHistoryCertificate,
    Passport,
    ResidenceCard,
    SpecialPermanentResidentCertificate,
    DisabilityCertificate,
    /// A Basic Resident Registration Card with a photo (it is then surrendered).
    BasicResidentRegistrationCardWithPhoto,
    // Other documents (name + birth date or name + address): two are needed.
    HealthInsuranceCard,
    PensionBook,
    PensionCertificate,
    StaffId,
    StudentId,
    BankPassbook,
    /// A photo certified by the head of a care facility or hospital (a proxy's
    /// proof for a holder who cannot come, *muni*).
    FacilityPhotoCertificate,
}

/// How a document counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentClass {
    /// An official photo ID: one proves identity.
    PhotoId,
    /// Another document; `photo` when it bears the holder's photo (not an official
    /// photo ID, but it counts as "a photo" among a proxy's three others).
    Other { photo: bool },
}

impl IdDocument {
    pub const ALL: [IdDocument; 14] = [
        Self::DriversLicence,
        Self::DrivingHistoryCertificate,
        Self::Passport,
        Self::ResidenceCard,
        Self::SpecialPermanentResidentCertificate,
        Self::DisabilityCertificate,
        Self::BasicResidentRegistrationCardWithPhoto,
        Self::HealthInsuranceCard,
        Self::PensionBook,
        Self::PensionCertificate,
        Self::StaffId,
        Self::StudentId,
        Self::BankPassbook,
        Self::FacilityPhotoCertificate,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::DriversLicence => "drivers-licence",
            Self::DrivingHistoryCertificate => "driving-history-certificate",
            Self::Passport => "passport",
            Self::ResidenceCard => "residence-card",
            Self::SpecialPermanentResidentCertificate => "special-permanent-resident-certificate",
            Self::DisabilityCertificate => "disability-certificate",
            Self::BasicResidentRegistrationCardWithPhoto => "basic-resident-registration-card",
            Self::HealthInsuranceCard => "health-insurance-card",
            Self::PensionBook => "pension-book",
            Self::PensionCertificate => "pension-certificate",
            Self::StaffId => "staff-id",
            Self::StudentId => "student-id",
            Self::BankPassbook => "bank-passbook",
            Self::FacilityPhotoCertificate => "facility-photo-certificate",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        let code = code.trim();
        Self::ALL.into_iter().find(|d| d.code() == code)
    }

    pub fn class(self) -> DocumentClass {
        match self {
            Self::DriversLicence
            | Self::DrivingHistoryCertificate
            | Self::Passport
            | Self::ResidenceCard
            | Self::SpecialPermanentResidentCertificate
            | Self::DisabilityCertificate
            | Self::BasicResidentRegistrationCardWithPhoto => DocumentClass::PhotoId,
            Self::StaffId | Self::StudentId | Self::FacilityPhotoCertificate => {
                DocumentClass::Other { photo: true }
            }
            Self::HealthInsuranceCard
            | Self::PensionBook
            | Self::PensionCertificate
            | Self::BankPassbook => DocumentClass::Other { photo: false },
        }
    }

    pub fn is_photo_id(self) -> bool {
        self.class() == DocumentClass::PhotoId
    }
}

/// The unavoidable reasons for which a proxy may collect the card. Being busy at
/// work is not one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProxyReason {
    Age75Plus,
    Under16,
    Illness,
    HospitalStay,
    Disability,
    CareFacility,
    Pregnancy,
    LongStayAbroad,
}

impl ProxyReason {
    pub const ALL: [ProxyReason; 8] = [
        Self::Age75Plus,
        Self::Under16,
        Self::Illness,
        Self::HospitalStay,
        Self::Disability,
        Self::CareFacility,
        Self::Pregnancy,
        Self::LongStayAbroad,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Age75Plus => "age-75-plus",
            Self::Under16 => "under-16",
            Self::Illness => "illness",
            Self::HospitalStay => "hospital-stay",
            Self::Disability => "disability",
            Self::CareFacility => "care-facility",
            Self::Pregnancy => "pregnancy",
            Self::LongStayAbroad => "long-stay-abroad",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        let code = code.trim();
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// An old card the holder gives up at pickup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SurrenderedCard {
    /// 住民基本台帳カード.
    BasicResidentRegistrationCard,
    /// 通知カード (issued until 2020-05-25).
    NotificationCard,
}

impl SurrenderedCard {
    pub const ALL: [SurrenderedCard; 2] =
        [Self::BasicResidentRegistrationCard, Self::NotificationCard];

    pub fn code(self) -> &'static str {
        match self {
            Self::BasicResidentRegistrationCard => "basic-resident-registration-card",
            Self::NotificationCard => "notification-card",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        let code = code.trim();
        Self::ALL.into_iter().find(|c| c.code() == code)
    }
}
