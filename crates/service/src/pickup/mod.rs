//! Pickup: the card's way from the municipality to its holder.

mod counter;
mod home;
mod pinpad;

pub use home::{EXPRESS_FEE_WITHOUT_CERTIFICATES_YEN, EXPRESS_FEE_YEN};
/// The choices of the counter's documents form (for the adapters).
pub use maina_core::pickup::identity::{IdDocument, ProxyReason, SurrenderedCard};
pub use pinpad::{code_hash, PINPAD_CODE_TRIES, PINPAD_MINUTES};
