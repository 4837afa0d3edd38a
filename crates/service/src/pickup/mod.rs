//! Pickup: the card's way from the municipality to its holder.

mod counter;
mod home;
mod pinpad;

pub use home::{EXPRESS_FEE_WITHOUT_CERTIFICATES_YEN, EXPRESS_FEE_YEN};
pub use pinpad::{code_hash, PINPAD_MINUTES};
