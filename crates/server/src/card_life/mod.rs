//! The card's life after pickup (issue 13), API handlers and pages side by side.
//! `chip.rs`: the counter's work on the chip that the console and a PIN pad take
//! part in (the PIN pad opened for a PIN reset, the new PIN from the pad).

pub mod chip;
