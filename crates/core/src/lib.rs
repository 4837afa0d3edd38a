//! maina's pure domain: identifiers, rules and state machines. No I/O, no async.

pub mod application;
pub mod authority;
pub mod card;
pub mod ff1;
pub mod id;
pub mod officer;
pub mod person;
pub mod resident;

pub use authority::NumberAuthority;
pub use id::{
    ApplicationFormId, CorporateNumber, IdError, MunicipalityCode, MyNumber, ReceiptNumber,
    ResidentCode,
};
pub use person::FieldError;
