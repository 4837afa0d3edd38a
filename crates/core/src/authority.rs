//! The number authority's arithmetic: resident record codes and My Numbers are keyed
//! permutations (FF1) of sequential row keys.
//!
//! Consequences, by construction: numbers are unique (a permutation), they show no
//! order (nobody can tell two residents' registration order), and they cannot be
//! mapped back to the code or the row without the key (Number Act art. 8). The
//! store never needs a random-order index: decrypting a number gives its row key.

use crate::ff1::{DecimalFf1, Ff1Error};
use crate::id::{MyNumber, ResidentCode};

/// Row keys of residents live below this bound (the 10-digit code space).
pub const RESIDENT_KEY_SPACE: u64 = 10_000_000_000;

/// Number keys at or above this bound belong to replacement numbers (issued when a
/// number leaked); below it, a resident's first number has the resident's own row
/// key, so registering a resident writes no separate number row.
pub const REPLACEMENT_NUMBER_BASE: u64 = 50_000_000_000;

/// The end (exclusive) of the My Number key space: 10^11.
pub const NUMBER_KEY_SPACE: u64 = 100_000_000_000;

/// Errors of the authority's arithmetic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorityError {
    #[error("the resident key space (10^10) is exhausted")]
    ResidentSpaceExhausted,
    #[error("the replacement number space is exhausted")]
    NumberSpaceExhausted,
    #[error(transparent)]
    Cipher(#[from] Ff1Error),
}

/// What a number key refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberKey {
    /// A resident's first number: the key is the resident's row key.
    Original { resident_key: u64 },
    /// A number issued later, recorded in the store under this key.
    Replacement { number_key: u64 },
}

/// The keyed permutations of the number authority.
#[derive(Clone, Debug)]
pub struct NumberAuthority {
    my_number: DecimalFf1,
    resident_code: DecimalFf1,
}

impl NumberAuthority {
    /// Builds the authority from its two 256-bit keys (derived from the key file).
    pub fn new(
        my_number_key: &[u8; 32],
        resident_code_key: &[u8; 32],
    ) -> Result<Self, AuthorityError> {
        Ok(Self {
            my_number: DecimalFf1::new(my_number_key, 11)?,
            resident_code: DecimalFf1::new(resident_code_key, 10)?,
        })
    }

    /// The resident record code of the resident with this row key.
    pub fn resident_code(&self, resident_key: u64) -> Result<ResidentCode, AuthorityError> {
        if resident_key >= RESIDENT_KEY_SPACE {
            return Err(AuthorityError::ResidentSpaceExhausted);
        }
        let serial = self.resident_code.encrypt(resident_key)?;
        ResidentCode::from_serial(serial).map_err(|_| AuthorityError::ResidentSpaceExhausted)
    }

    /// The row key behind a resident record code.
    pub fn resident_key(&self, code: &ResidentCode) -> Result<u64, AuthorityError> {
        Ok(self.resident_code.decrypt(code.serial())?)
    }

    /// The My Number with this number key.
    pub fn my_number(&self, number_key: u64) -> Result<MyNumber, AuthorityError> {
        if number_key >= NUMBER_KEY_SPACE {
            return Err(AuthorityError::NumberSpaceExhausted);
        }
        let serial = self.my_number.encrypt(number_key)?;
        MyNumber::from_serial(serial).map_err(|_| AuthorityError::NumberSpaceExhausted)
    }

    /// The number key behind a My Number.
    pub fn number_key(&self, number: &MyNumber) -> Result<u64, AuthorityError> {
        Ok(self.my_number.decrypt(number.serial())?)
    }

    /// Classifies a number key.
    pub fn classify(number_key: u64) -> NumberKey {
        if number_key >= REPLACEMENT_NUMBER_BASE {
            NumberKey::Replacement { number_key }
        } else {
            NumberKey::Original {
                resident_key: number_key,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn authority() -> NumberAuthority {
        NumberAuthority::new(&[7u8; 32], &[9u8; 32]).unwrap()
    }

    #[test]
    fn sequential_keys_give_unique_unordered_valid_numbers() {
        let authority = authority();
        let mut seen = HashSet::new();
        let mut increasing = 0;
        let mut previous = 0;
        for key in 0..10_000u64 {
            let number = authority.my_number(key).unwrap();
            assert!(number.as_digits().parse::<MyNumber>().is_ok());
            assert_eq!(authority.number_key(&number).unwrap(), key);
            assert!(seen.insert(number));
            if number.serial() > previous {
                increasing += 1;
            }
            previous = number.serial();
            let code = authority.resident_code(key).unwrap();
            assert_eq!(authority.resident_key(&code).unwrap(), key);
        }
        // A sequential scheme would be increasing every time; a permutation about half.
        assert!((4_000..6_000).contains(&increasing), "{increasing}");
    }

    #[test]
    fn keys_outside_their_spaces_are_refused() {
        let authority = authority();
        assert_eq!(
            authority.resident_code(RESIDENT_KEY_SPACE),
            Err(AuthorityError::ResidentSpaceExhausted)
        );
        assert_eq!(
            authority.my_number(NUMBER_KEY_SPACE),
            Err(AuthorityError::NumberSpaceExhausted)
        );
        assert_eq!(
            NumberAuthority::classify(REPLACEMENT_NUMBER_BASE),
            NumberKey::Replacement {
                number_key: REPLACEMENT_NUMBER_BASE
            }
        );
    }
}
