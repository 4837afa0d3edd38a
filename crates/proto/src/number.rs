//! The only way a My Number reaches JSON in clear.

use maina_core::MyNumber;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use utoipa::openapi::{ObjectBuilder, RefOr, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

/// A My Number written in clear: 12 digits. Built only from a parsed
/// [`MyNumber`] by [`ClearMyNumber::reveal`], which the reveal use cases call
/// after auditing the reveal; `Debug` stays masked.
#[derive(Clone, PartialEq, Eq)]
pub struct ClearMyNumber(MyNumber);

impl ClearMyNumber {
    /// The number, to be shown in clear (the caller has audited the reveal).
    pub fn reveal(number: &MyNumber) -> Self {
        Self(*number)
    }

    /// The number itself (a client that received one).
    pub fn number(&self) -> &MyNumber {
        &self.0
    }

    /// The 12 digits.
    pub fn as_digits(&self) -> String {
        self.0.as_digits()
    }
}

impl std::fmt::Debug for ClearMyNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClearMyNumber({})", self.0.masked())
    }
}

impl Serialize for ClearMyNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.as_digits())
    }
}

impl<'de> Deserialize<'de> for ClearMyNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        MyNumber::deserialize(deserializer).map(Self)
    }
}

impl PartialSchema for ClearMyNumber {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[0-9]{12}$"))
            .description(Some(
                "A My Number in clear (12 digits); every reveal is audited.",
            ))
            .into()
    }
}

impl ToSchema for ClearMyNumber {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ClearMyNumber")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn writes_the_digits_and_debug_stays_masked() {
        let number: MyNumber = "621498320257".parse().unwrap();
        let clear = ClearMyNumber::reveal(&number);
        assert_eq!(serde_json::to_string(&clear).unwrap(), "\"621498320257\"");
        assert!(!format!("{clear:?}").contains("62149832"));
        let back: ClearMyNumber = serde_json::from_str("\"621498320257\"").unwrap();
        assert_eq!(back, clear);
        assert!(serde_json::from_str::<ClearMyNumber>("\"621498320258\"").is_err());
    }
}
