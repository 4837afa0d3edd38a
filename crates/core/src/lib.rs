//! maina's pure domain: identifiers, rules and state machines. No I/O, no async.

/// `TryFrom<String>` by the type's `FromStr` (for `#[serde(try_from = "String")]`).
macro_rules! try_from_string {
    ($name:ident) => {
        impl TryFrom<String> for $name {
            type Error = $crate::FieldError;
            fn try_from(s: String) -> Result<Self, $crate::FieldError> {
                s.parse()
            }
        }
    };
}

pub mod application;
pub mod authority;
pub mod card;
pub mod ff1;
pub mod id;
pub mod officer;
pub mod person;
pub mod pickup;
pub mod resident;

pub use authority::NumberAuthority;
pub use id::{
    ApplicationFormId, CardNumber, CorporateNumber, IdError, IssueNoticeNumber, MunicipalityCode,
    MyNumber, ReceiptNumber, ResidentCode,
};
pub use person::FieldError;
