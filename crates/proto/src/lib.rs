//! maina's wire types: every request and response body of the JSON API under
//! `/api/v1`, with its OpenAPI schema. The server answers with these, clients and
//! tests read them back: one definition, so the two cannot drift apart (kanidm's
//! `proto` crate is the model).
//!
//! Privacy by type: a My Number is written in clear only by [`ClearMyNumber`],
//! which only the endpoints that reveal a number use. No other type here can hold
//! one (`maina_core::MyNumber` does not implement `Serialize`), so a response
//! cannot leak it by accident.

mod applications;
mod audit;
mod error;
mod number;
mod residents;
mod session;

pub use applications::{
    ApplicationEventRequest, ApplicationResponse, BoothApplicationRequest, BoothReceipt,
    MailApplicationRequest, StatusRequest, StatusResponse,
};
pub use audit::{AuditEventResponse, AuditQuery};
pub use error::ErrorBody;
pub use maina_core::resident::RegistrationForm;
pub use number::ClearMyNumber;
pub use residents::{
    AddressRequest, DateRequest, HistoryEntryResponse, MoveRequest, NumberChangeRequest,
    NumberChangeResponse, NumberLookup, RegisteredResponse, RenameRequest, ResidentResponse,
    RevealResponse, SearchQuery,
};
pub use session::{LoginRequest, LoginResponse, OfficerInfo};
