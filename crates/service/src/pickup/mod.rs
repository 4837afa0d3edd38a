//! Card pickup at the municipality: the offices and the appointments residents
//! book with their issue notice.

pub mod appointments;
pub mod ics;
pub mod offices;
