//! maina's wire types: every request and response body of the JSON API under
//! `/api/v1`, with its OpenAPI schema. The server answers with these, clients and
//! tests read them back: one definition, so the two cannot drift apart (kanidm's
//! `proto` crate is the model).
//!
//! Privacy by type: a My Number is written in clear only by [`ClearMyNumber`],
//! which only the endpoints that reveal a number use. No other type here can hold
//! one (`maina_core::MyNumber` does not implement `Serialize`), so a response
//! cannot leak it by accident.

/// Declares wire types with the derives every one of them has. A `request`
/// also refuses unknown fields (a misspelt field is an error, never silently
/// ignored); a `response` is read back by clients as it was written. Fields that
/// belong together (the parts of a name) may share a line.
macro_rules! wire {
    ($($(#[$meta:meta])* $kind:ident $name:ident $body:tt)*) => {
        $(wire!(@one $kind $(#[$meta])* $name $body);)*
    };
    (@one request $(#[$meta:meta])* $name:ident $body:tt) => {
        #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(deny_unknown_fields)]
        $(#[$meta])*
        pub struct $name $body
    };
    (@one response $(#[$meta:meta])* $name:ident $body:tt) => {
        #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        $(#[$meta])*
        pub struct $name $body
    };
}

mod applications;
mod appointments;
mod audit;
mod card_life;
mod chip_service;
mod counter;
mod error;
mod moving;
mod number;
mod oidc;
mod portal;
mod renewal;
mod residents;
mod session;
mod shipments;
mod signatures;
mod suspension;

pub use applications::{
    ApplicationEventRequest, ApplicationResponse, BoothApplicationRequest, BoothReceipt,
    MailApplicationRequest, StatusRequest, StatusResponse,
};
pub use appointments::{
    AppointmentResponse, BookRequest, DayListEntry, DayListResponse, DayQuery, DayResponse,
    NoticeKeyRequest, OfficeRequest, OfficeResponse, SlotResponse, SlotsResponse,
};
pub use audit::{AuditEventResponse, AuditQuery};
pub use card_life::{CardCertificateResponse, CardEventResponse, CardHistoryResponse};
pub use chip_service::{
    CertificatesRenewedResponse, ChipUpdateResponse, PinResetOpenRequest, PinResetResponse,
    PinpadResetRequest,
};
pub use counter::{
    CounterCardResponse, CounterFindRequest, HandOverRequest, HandOverResponse, PinpadCodeRequest,
    PinpadCodeResponse, PinpadOpened, PinpadPinsRequest, PinpadPinsResponse,
};
pub use error::ErrorBody;
pub use maina_core::resident::RegistrationForm;
pub use moving::{
    CardMoveResponse, CardNoteResponse, CardNotesRequest, CardNotesResponse, ContinuedUseRequest,
    MoveInRequest, MoveOutRequest,
};
pub use number::ClearMyNumber;
pub use oidc::{
    CardAnswerRequest, CardAnswerResponse, CardChallengeRequest, CardChallengeResponse, OidcError,
    OidcTokenResponse, SigninStatusResponse, TokenForm,
};
pub use portal::{
    AccessEntryResponse, AccessRecordResponse, PortalAddressResponse, PortalApplicationResponse,
    PortalCardResponse, PortalConsentResponse, PortalRecordResponse,
};
pub use renewal::{ReissueRequest, ReissueResponse, RenewalWindowRequest, RenewalWindowResponse};
pub use residents::{
    AddressRequest, DateRequest, HistoryEntryResponse, MoveRequest, NumberChangeRequest,
    NumberChangeResponse, NumberLookup, RegisteredResponse, RenameRequest, ResidentResponse,
    RevealResponse, SearchRequest,
};
pub use session::{LoginRequest, LoginResponse, OfficerInfo};
pub use shipments::{ReceiveShipmentRequest, ShipmentResponse};
pub use signatures::{
    SignatureVerifyRequest, SignatureVerifyResponse, SignerFacts, SignerSuccessor,
};
pub use suspension::{
    CallerResponse, IdentifyCallerRequest, LiftChallengeRequest, LiftChallengeResponse,
    LiftRequest, LostCardRequest, LostCardResponse, SuspendCardRequest, SuspensionResponse,
};
