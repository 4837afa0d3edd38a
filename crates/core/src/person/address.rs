//! The registered address.

use super::{clean_text, FieldError};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest address we accept.
const MAX_ADDRESS_CHARS: usize = 200;

/// A registered address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Address(String);

impl Address {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        clean_text("address", raw, MAX_ADDRESS_CHARS).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
