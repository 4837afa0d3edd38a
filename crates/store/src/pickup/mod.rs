//! Pickup: the card's way from the municipality to its holder.

mod counter;

pub(crate) use counter::{handover_place, pinpad_place};
pub use counter::{CounterCard, HandOverRecord, PinpadSession};
