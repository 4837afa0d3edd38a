//! What every feature's handlers share: errors, extractors, the CSRF layer, the
//! security headers, the page language, templates and the console's officer.

pub mod cookies;
pub mod csrf;
pub mod error;
pub mod extract;
pub mod headers;
pub mod i18n;
pub mod officer;
pub mod page;
pub mod templates;

pub use error::{error_status, ApiError};
pub use extract::{ApiQuery, Authenticated, Body, ClientAddress, OnRecord, Reply};
pub use page::{ConsolePage, Page};
