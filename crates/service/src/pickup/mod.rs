//! The municipality's side of a card's path to its resident: the shipment's
//! receipt, the issue notices and the cards never collected, the offices and the
//! appointments residents book with their issue notice.

pub mod appointments;
pub mod ics;
pub mod issue;
pub mod notice_pdf;
pub mod offices;
