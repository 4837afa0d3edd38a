//! The municipality's side of a card's path to its resident: the shipment's
//! receipt, the issue notices and the cards never collected, the offices and the
//! appointments residents book with their issue notice; the counter, its PIN pad
//! and delivery home.

pub mod appointments;
mod counter;
mod home;
pub mod ics;
pub mod issue;
pub mod notice_pdf;
pub mod offices;
pub(crate) mod pinpad;

pub use home::{EXPRESS_FEE_WITHOUT_CERTIFICATES_YEN, EXPRESS_FEE_YEN};
/// The choices of the counter's documents form (for the adapters).
pub use maina_core::pickup::identity::{IdDocument, ProxyReason, SurrenderedCard};
pub use pinpad::{code_hash, PINPAD_CODE_TRIES, PINPAD_MINUTES};
