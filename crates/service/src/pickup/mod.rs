//! The municipality's side of a card's path to its resident: the shipment's
//! receipt, the issue notices and the cards never collected.

pub mod issue;
pub mod notice_pdf;
