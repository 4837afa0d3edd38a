//! Identifiers: My Number, resident record code, local government code, Corporate
//! Number and application form ID. Each parses (never trusts) its input, displays in
//! the usual groups, masks itself in `Debug` and logs, and (de)serialises as a plain
//! digit string that is parsed again on the way in.

mod check;
pub(crate) mod digits;

use std::fmt;
use std::str::FromStr;

/// Why a string is not a valid identifier. Every variant names the identifier and
/// what exactly is wrong, so that a resident or an officer can correct it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{what} is empty")]
    Empty { what: &'static str },
    #[error("{what} has the character {character:?} at position {position}: only digits, spaces and hyphens are allowed")]
    InvalidCharacter {
        what: &'static str,
        character: char,
        position: usize,
    },
    #[error("{what} must have {expected} digits, found {found}")]
    WrongLength {
        what: &'static str,
        expected: usize,
        found: usize,
    },
    #[error("{what} has a wrong check digit: expected {expected}, found {found}")]
    CheckDigit {
        what: &'static str,
        expected: u8,
        found: u8,
    },
    #[error("{what}: {reason}")]
    Structure {
        what: &'static str,
        reason: &'static str,
    },
}

/// Defines a fixed-length digit identifier with a check digit.
///
/// `check_at` is the index of the check digit; `check` computes it from the other
/// digits (passed as the array `payload`).
macro_rules! digit_identifier {
    (
        $(#[$meta:meta])*
        $name:ident, $len:literal, $what:literal, groups = $groups:expr,
        check_at = $check_at:expr, payload = $payload:literal, check = $check:expr
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; $len]);

        impl $name {
            /// The number of digits.
            pub const LEN: usize = $len;
            /// What the identifier is called in messages.
            pub const WHAT: &'static str = $what;
            const GROUPS: &'static [usize] = &$groups;

            /// The check digit expected for `payload` (the other digits in order).
            pub fn check_digit_for(payload: &[u8; $payload]) -> u8 {
                ($check)(payload)
            }

            fn payload(digits: &[u8; $len]) -> [u8; $payload] {
                let mut payload = [0u8; $payload];
                let rest = digits
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != $check_at)
                    .map(|(_, d)| *d);
                for (slot, d) in payload.iter_mut().zip(rest) {
                    *slot = d;
                }
                payload
            }

            /// Builds the identifier from its digits without the check digit.
            pub fn from_payload(payload: [u8; $payload]) -> Result<Self, IdError> {
                if payload.iter().any(|d| *d > 9) {
                    return Err(IdError::Structure { what: $what, reason: "digit out of range" });
                }
                let check = Self::check_digit_for(&payload);
                let mut digits = [0u8; $len];
                let mut rest = payload.iter();
                for (i, slot) in digits.iter_mut().enumerate() {
                    *slot = if i == $check_at { check } else { rest.next().copied().unwrap_or(0) };
                }
                Ok(Self(digits))
            }

            /// The digits, check digit included.
            pub fn digits(&self) -> &[u8; $len] {
                &self.0
            }

            /// The plain digit string, without separators.
            pub fn as_digits(&self) -> String {
                digits::to_string(&self.0)
            }

            /// The form for logs and screens that must not show the whole number.
            pub fn masked(&self) -> String {
                digits::masked(&self.0, Self::GROUPS)
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(input: &str) -> Result<Self, IdError> {
                let digits = digits::parse_digits::<$len>(input, $what)?;
                let expected = Self::check_digit_for(&Self::payload(&digits));
                let found = digits.get($check_at).copied().unwrap_or(0);
                if expected != found {
                    return Err(IdError::CheckDigit { what: $what, expected, found });
                }
                Ok(Self(digits))
            }
        }

        impl fmt::Display for $name {
            /// The usual grouped form, in clear: only for the holder's own documents.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&digits::grouped(&self.0, Self::GROUPS))
            }
        }

        impl fmt::Debug for $name {
            /// Masked, so that `{:?}` in a log or a panic message leaks nothing.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.masked())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// Serialises identifiers as their digits. Not `MyNumber`: it has no `Serialize`
/// at all, so that no response, log record or sealed value can carry one in clear by
/// accident (the API's one way is `maina_proto::ClearMyNumber`, after an audited
/// reveal; [`serialize_masked`] writes the masked form).
macro_rules! serialize_as_digits {
    ($($name:ident),*) => {$(
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.as_digits())
            }
        }
    )*};
}

serialize_as_digits!(
    ResidentCode,
    MunicipalityCode,
    CorporateNumber,
    ApplicationFormId,
    ReceiptNumber,
    IssueNoticeNumber,
    CardNumber
);

/// Writes a My Number masked (`**** **** 0257`): for `#[serde(serialize_with)]` on a
/// field that holds one.
pub fn serialize_masked<S: serde::Serializer>(
    number: &MyNumber,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&number.masked())
}

digit_identifier!(
    /// The 12-digit Individual Number (個人番号): 11 digits and a check digit.
    MyNumber, 12, "My Number", groups = [4, 4, 4],
    check_at = 11, payload = 11, check = check::my_number
);

digit_identifier!(
    /// The 11-digit resident record code (住民票コード): 10 digits and a check digit.
    ResidentCode, 11, "resident record code", groups = [4, 4, 3],
    check_at = 10, payload = 10, check = check::resident_code
);

digit_identifier!(
    /// The 6-digit local government code (全国地方公共団体コード).
    MunicipalityCode, 6, "local government code", groups = [6],
    check_at = 5, payload = 5, check = check::municipality
);

digit_identifier!(
    /// The 13-digit Corporate Number (法人番号); its check digit comes first.
    CorporateNumber, 13, "Corporate Number", groups = [1, 4, 4, 4],
    check_at = 0, payload = 12, check = check::corporate
);

digit_identifier!(
    /// The 23-digit application form ID (申請書ID) *(our design)*: the issuing
    /// municipality's 6-digit code, 16 digits from a CSPRNG, and a Damm check digit.
    ApplicationFormId, 23, "application form ID", groups = [6, 4, 4, 4, 4, 1],
    check_at = 22, payload = 22, check = |p: &[u8; 22]| check::damm(p)
);

digit_identifier!(
    /// The 16-digit application receipt number *(our design)*: 15 digits from a CSPRNG
    /// and a Damm check digit. Given on the confirmation; with the birth date it finds
    /// the application's status (the real service accepts only the form ID).
    ReceiptNumber, 16, "receipt number", groups = [4, 4, 4, 4],
    check_at = 15, payload = 15, check = |p: &[u8; 15]| check::damm(p)
);

digit_identifier!(
    /// The 16-digit issue notice number (交付通知書番号) *(our design)*: the
    /// municipality's 6-digit code, 9 digits from a CSPRNG, and a Damm check digit.
    /// Printed on the issue notice and in its QR code; with the birth date it books
    /// the pickup, and the counter finds the card by it.
    IssueNoticeNumber, 16, "issue notice number", groups = [6, 5, 5],
    check_at = 15, payload = 15, check = |p: &[u8; 15]| check::damm(p)
);

digit_identifier!(
    /// The 10-digit card number *(our design)*: the card bureau's 9-digit sequence
    /// and a Damm check digit. Printed on the card's face and listed in shipments'
    /// manifests; it names a card without naming its holder.
    CardNumber, 10, "card number", groups = [5, 5],
    check_at = 9, payload = 9, check = |p: &[u8; 9]| check::damm(p)
);

impl IssueNoticeNumber {
    /// The upper bound (exclusive) of the random part.
    pub const RANDOM_SPACE: u64 = 1_000_000_000;

    /// A notice number for `municipality` from a random value below 10^9 (drawn by
    /// the caller from a CSPRNG).
    pub fn new(municipality: MunicipalityCode, random: u64) -> Result<Self, IdError> {
        let payload =
            municipality_and_random::<9, 15>(municipality, random).ok_or(IdError::Structure {
                what: Self::WHAT,
                reason: "random part above 10^9",
            })?;
        Self::from_payload(payload)
    }

    /// The municipality that issued the notice.
    pub fn municipality(&self) -> Result<MunicipalityCode, IdError> {
        leading_municipality(&self.0)
    }
}

/// The payload of an identifier that starts with a municipality's code and goes on
/// with `R` random digits (`N` = 6 + `R`); `None` if `random` has more digits.
fn municipality_and_random<const R: usize, const N: usize>(
    municipality: MunicipalityCode,
    random: u64,
) -> Option<[u8; N]> {
    let random_digits = digits::from_u64::<R>(random)?;
    let mut payload = [0u8; N];
    for (slot, d) in payload
        .iter_mut()
        .zip(municipality.digits().iter().chain(random_digits.iter()))
    {
        *slot = *d;
    }
    Some(payload)
}

/// The municipality code an identifier's digits start with.
fn leading_municipality(digits_of: &[u8]) -> Result<MunicipalityCode, IdError> {
    digits::to_string(digits_of.get(..6).unwrap_or(&[])).parse()
}

impl CardNumber {
    /// The card number of the bureau's `serial`-th card (below 10^9).
    pub fn from_serial(serial: u64) -> Result<Self, IdError> {
        let payload = digits::from_u64::<9>(serial).ok_or(IdError::Structure {
            what: Self::WHAT,
            reason: "serial above 10^9",
        })?;
        Self::from_payload(payload)
    }
}

impl ReceiptNumber {
    /// The upper bound (exclusive) of the random part.
    pub const RANDOM_SPACE: u64 = 1_000_000_000_000_000;

    /// A receipt number from a random value below 10^15 (drawn by the caller).
    pub fn new(random: u64) -> Result<Self, IdError> {
        let payload = digits::from_u64::<15>(random).ok_or(IdError::Structure {
            what: Self::WHAT,
            reason: "random part above 10^15",
        })?;
        Self::from_payload(payload)
    }
}

impl MyNumber {
    /// The number whose 11 leading digits are `serial` (below 10^11).
    pub fn from_serial(serial: u64) -> Result<Self, IdError> {
        let payload = digits::from_u64::<11>(serial).ok_or(IdError::Structure {
            what: Self::WHAT,
            reason: "serial above 10^11",
        })?;
        Self::from_payload(payload)
    }

    /// The 11 leading digits as an integer.
    pub fn serial(&self) -> u64 {
        digits::to_u64(self.0.get(..11).unwrap_or(&[]))
    }
}

impl ResidentCode {
    /// The code whose 10 leading digits are `serial` (below 10^10).
    pub fn from_serial(serial: u64) -> Result<Self, IdError> {
        let payload = digits::from_u64::<10>(serial).ok_or(IdError::Structure {
            what: Self::WHAT,
            reason: "serial above 10^10",
        })?;
        Self::from_payload(payload)
    }

    /// The 10 leading digits as an integer.
    pub fn serial(&self) -> u64 {
        digits::to_u64(self.0.get(..10).unwrap_or(&[]))
    }
}

impl MunicipalityCode {
    /// The 2-digit prefecture code (01 Hokkaido ... 47 Okinawa).
    pub fn prefecture(&self) -> u8 {
        self.0.first().copied().unwrap_or(0) * 10 + self.0.get(1).copied().unwrap_or(0)
    }
}

impl ApplicationFormId {
    /// The upper bound (exclusive) of the random part.
    pub const RANDOM_SPACE: u64 = 10_000_000_000_000_000;

    /// Builds a form ID for `municipality` from a random value below 10^16, which
    /// the caller draws from a CSPRNG (this crate does no I/O).
    pub fn new(municipality: MunicipalityCode, random: u64) -> Result<Self, IdError> {
        let payload =
            municipality_and_random::<16, 22>(municipality, random).ok_or(IdError::Structure {
                what: Self::WHAT,
                reason: "random part above 10^16",
            })?;
        Self::from_payload(payload)
    }

    /// The issuing municipality, itself checked when the form ID is parsed.
    pub fn municipality(&self) -> Result<MunicipalityCode, IdError> {
        leading_municipality(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: [&str; 6] = [
        "621498320257",
        "123456789018",
        "023456789013",
        "111111111118",
        "000111111111",
        "983205673214",
    ];
    const INVALID: [&str; 6] = [
        "621498320258",
        "123456789010",
        "123456789011",
        "123456789012",
        "123456789019",
        "983205673210",
    ];

    #[test]
    fn issue_notice_and_card_numbers_carry_their_check_digit() {
        let municipality: MunicipalityCode = "131016".parse().unwrap();
        let notice = IssueNoticeNumber::new(municipality, 123_456_789).unwrap();
        assert_eq!(notice.municipality().unwrap(), municipality);
        let text = notice.as_digits();
        assert_eq!(text.parse::<IssueNoticeNumber>().unwrap(), notice);
        let mut wrong = text.into_bytes();
        wrong[10] = if wrong[10] == b'0' { b'1' } else { b'0' };
        assert!(String::from_utf8(wrong)
            .unwrap()
            .parse::<IssueNoticeNumber>()
            .is_err());
        let card = CardNumber::from_serial(42).unwrap();
        assert_eq!(card.as_digits().len(), 10);
        assert!(CardNumber::from_serial(1_000_000_000).is_err());
    }

    #[test]
    fn my_number_reference_vectors() {
        for number in VALID {
            assert!(
                number.parse::<MyNumber>().is_ok(),
                "{number} should be valid"
            );
        }
        for number in INVALID {
            assert!(
                matches!(number.parse::<MyNumber>(), Err(IdError::CheckDigit { .. })),
                "{number} should fail its check digit"
            );
        }
    }

    #[test]
    fn my_number_error_names_expected_check_digit() {
        assert_eq!(
            "621498320258".parse::<MyNumber>(),
            Err(IdError::CheckDigit {
                what: "My Number",
                expected: 7,
                found: 8
            })
        );
    }

    #[test]
    fn my_number_display_mask_debug() {
        let n: MyNumber = "６２１４-９８３２-０２５７".parse().unwrap();
        assert_eq!(n.to_string(), "6214 9832 0257");
        assert_eq!(n.masked(), "**** **** 0257");
        assert_eq!(format!("{n:?}"), "MyNumber(**** **** 0257)");
        // No `Serialize` for a My Number (issue 10): the one helper writes it masked.
        let mut json = Vec::new();
        serialize_masked(&n, &mut serde_json::Serializer::new(&mut json)).unwrap();
        assert_eq!(json, b"\"**** **** 0257\"");
        let back: MyNumber = serde_json::from_str("\"6214 9832 0257\"").unwrap();
        assert_eq!(back, n);
        assert!(serde_json::from_str::<MyNumber>("\"621498320258\"").is_err());
    }

    #[test]
    fn resident_code_sample() {
        assert!("24727059608".parse::<ResidentCode>().is_ok());
        assert!(matches!(
            "24727059609".parse::<ResidentCode>(),
            Err(IdError::CheckDigit { expected: 8, .. })
        ));
    }

    #[test]
    fn municipality_codes() {
        for code in ["131016", "131130", "011002", "011011", "130001"] {
            assert!(code.parse::<MunicipalityCode>().is_ok(), "{code}");
        }
        assert!("131017".parse::<MunicipalityCode>().is_err());
        assert_eq!(
            "131016".parse::<MunicipalityCode>().unwrap().prefecture(),
            13
        );
    }

    #[test]
    fn corporate_numbers() {
        for n in ["5835678256246", "7123456789012"] {
            assert!(n.parse::<CorporateNumber>().is_ok(), "{n}");
        }
        for n in ["2835678256246", "4835678256246", "6123456789012"] {
            assert!(
                matches!(
                    n.parse::<CorporateNumber>(),
                    Err(IdError::CheckDigit { .. })
                ),
                "{n}"
            );
        }
    }

    #[test]
    fn form_id_round_trip_and_municipality() {
        let municipality: MunicipalityCode = "131016".parse().unwrap();
        let id = ApplicationFormId::new(municipality, 1234_5678_9012_3456).unwrap();
        let text = id.as_digits();
        assert_eq!(text.len(), 23);
        assert!(text.starts_with("1310161234567890123456"));
        assert_eq!(text.parse::<ApplicationFormId>().unwrap(), id);
        assert_eq!(id.municipality().unwrap(), municipality);
        assert!(ApplicationFormId::new(municipality, ApplicationFormId::RANDOM_SPACE).is_err());
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(
            "1234".parse::<MyNumber>(),
            Err(IdError::WrongLength {
                what: "My Number",
                expected: 12,
                found: 4
            })
        );
        assert_eq!(
            "  ".parse::<MyNumber>(),
            Err(IdError::Empty { what: "My Number" })
        );
        let err = "6214x8320257".parse::<MyNumber>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "My Number has the character 'x' at position 5: only digits, spaces and hyphens are allowed"
        );
    }
}
