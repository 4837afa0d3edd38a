//! FF1 format-preserving encryption (NIST SP 800-38G) over decimal numbers, with
//! AES-256 and an empty tweak.
//!
//! Why not the `fpe` crate: it is generic over radix and length and goes through
//! arbitrary-precision integers, which costs several microseconds per call; the
//! number authority needs one call per resident at national scale. For decimal
//! strings of at most 18 digits every intermediate value fits in a `u128`, and with
//! an empty tweak the first CBC-MAC block `P` is constant per key and length, so a
//! round is a single AES block. The `fpe` crate stays as the oracle in our tests,
//! together with NIST's published samples.

use aes::cipher::{BlockEncrypt, KeyInit};
use aes::Aes256;
use zeroize::Zeroize;

/// Errors from constructing a cipher.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Ff1Error {
    #[error("FF1 length must be 6..=18 decimal digits, got {0}")]
    Length(u32),
    #[error("value {value} is outside the domain of {digits} decimal digits")]
    OutOfDomain { value: u64, digits: u32 },
}

/// A keyed pseudo-random permutation of `0 .. 10^digits`.
#[derive(Clone)]
pub struct DecimalFf1 {
    cipher: Aes256,
    digits: u32,
    left: u32,
    right: u32,
    /// CIPH_K(P): the CBC-MAC state after the first block, constant for the key.
    p_block: u128,
    /// ceil(ceil(v * log2(10)) / 8): bytes of NUM(B) in Q.
    b: u32,
}

impl std::fmt::Debug for DecimalFf1 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecimalFf1")
            .field("digits", &self.digits)
            .finish_non_exhaustive()
    }
}

const RADIX: u64 = 10;

impl DecimalFf1 {
    /// A permutation of numbers of `digits` decimal digits under a 256-bit key.
    pub fn new(key: &[u8; 32], digits: u32) -> Result<Self, Ff1Error> {
        // NIST requires radix^minlen >= 10^6; u128 arithmetic bounds us at 18 digits.
        if !(6..=18).contains(&digits) {
            return Err(Ff1Error::Length(digits));
        }
        let mut key_copy = *key;
        let cipher = Aes256::new(&key_copy.into());
        key_copy.zeroize();
        let left = digits / 2;
        let right = digits - left;
        let max_right = RADIX.pow(right) - 1;
        let bits = 64 - max_right.leading_zeros();
        let b = bits.div_ceil(8);

        // P = [1,2,1] || radix (3 bytes) || 10 || u mod 256 || n (4 bytes) || t (4
        // bytes, 0 here), as one big-endian 128-bit block.
        let p: u128 = (1u128 << 120)
            | (2u128 << 112)
            | (1u128 << 104)
            | (u128::from(RADIX) << 80)
            | (10u128 << 72)
            | (u128::from(left % 256) << 64)
            | (u128::from(digits) << 32);
        let mut block = p.to_be_bytes().into();
        cipher.encrypt_block(&mut block);
        Ok(Self {
            cipher,
            digits,
            left,
            right,
            p_block: u128::from_be_bytes(block.into()),
            b,
        })
    }

    /// The domain's size, 10^digits.
    pub fn domain(&self) -> u64 {
        RADIX.pow(self.digits)
    }

    /// The round function: the first 8 bytes of PRF(P || Q) as an integer.
    fn round(&self, round: u8, half: u64) -> u64 {
        // Q = 0^(16 - 1 - b) || i || NUM(half) as b bytes; d = 4*ceil(b/4)+4 = 8 for
        // b <= 4, which holds for halves of at most 9 digits (30 bits).
        let q = (u128::from(round) << (8 * self.b)) | u128::from(half);
        let mut block = (self.p_block ^ q).to_be_bytes().into();
        self.cipher.encrypt_block(&mut block);
        (u128::from_be_bytes(block.into()) >> 64) as u64
    }

    fn check(&self, value: u64) -> Result<(), Ff1Error> {
        if value >= self.domain() {
            return Err(Ff1Error::OutOfDomain {
                value,
                digits: self.digits,
            });
        }
        Ok(())
    }

    /// Encrypts `value` (below 10^digits) to another value in the same domain.
    pub fn encrypt(&self, value: u64) -> Result<u64, Ff1Error> {
        self.check(value)?;
        let right_mod = RADIX.pow(self.right);
        let mut a = value / right_mod;
        let mut b = value % right_mod;
        for i in 0u8..10 {
            let m = if i % 2 == 0 { self.left } else { self.right };
            let modulus = u128::from(RADIX.pow(m));
            let y = u128::from(self.round(i, b));
            let c = (u128::from(a) + y) % modulus;
            a = b;
            b = c as u64;
        }
        Ok(a * right_mod + b)
    }

    /// Inverts [`encrypt`](Self::encrypt).
    pub fn decrypt(&self, value: u64) -> Result<u64, Ff1Error> {
        self.check(value)?;
        let right_mod = RADIX.pow(self.right);
        let mut a = value / right_mod;
        let mut b = value % right_mod;
        for i in (0u8..10).rev() {
            let m = if i % 2 == 0 { self.left } else { self.right };
            let modulus = u128::from(RADIX.pow(m));
            let y = u128::from(self.round(i, a)) % modulus;
            let c = (u128::from(b) + modulus - y) % modulus;
            b = a;
            a = c as u64;
        }
        Ok(a * right_mod + b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NIST_KEY_256: [u8; 32] = [
        0x2B, 0x7E, 0x15, 0x16, 0x28, 0xAE, 0xD2, 0xA6, 0xAB, 0xF7, 0x15, 0x88, 0x09, 0xCF, 0x4F,
        0x3C, 0xEF, 0x43, 0x59, 0xD8, 0xD5, 0x80, 0xAA, 0x4F, 0x7F, 0x03, 0x6D, 0x6F, 0x04, 0xFC,
        0x6A, 0x94,
    ];

    #[test]
    fn nist_sp800_38g_sample_7() {
        // FF1-AES256, radix 10, empty tweak: 0123456789 -> 6657667009.
        let ff1 = DecimalFf1::new(&NIST_KEY_256, 10).unwrap();
        assert_eq!(ff1.encrypt(123_456_789).unwrap(), 6_657_667_009);
        assert_eq!(ff1.decrypt(6_657_667_009).unwrap(), 123_456_789);
    }

    #[test]
    fn agrees_with_the_fpe_crate() {
        use fpe::ff1::{FlexibleNumeralString, FF1};
        use rand::Rng;
        let mut rng = rand::thread_rng();
        for digits in [6u32, 10, 11, 12, 17, 18] {
            let key: [u8; 32] = rng.gen();
            let ours = DecimalFf1::new(&key, digits).unwrap();
            let theirs = FF1::<aes::Aes256>::new(&key, 10).unwrap();
            for _ in 0..200 {
                let value = rng.gen_range(0..ours.domain());
                let numerals: Vec<u16> = format!("{value:0width$}", width = digits as usize)
                    .bytes()
                    .map(|b| u16::from(b - b'0'))
                    .collect();
                let expected: Vec<u16> = theirs
                    .encrypt(&[], &FlexibleNumeralString::from(numerals))
                    .unwrap()
                    .into();
                let expected = expected
                    .iter()
                    .fold(0u64, |acc, d| acc * 10 + u64::from(*d));
                let got = ours.encrypt(value).unwrap();
                assert_eq!(got, expected, "digits {digits} value {value}");
                assert_eq!(ours.decrypt(got).unwrap(), value);
            }
        }
    }

    #[test]
    fn refuses_values_outside_the_domain() {
        let ff1 = DecimalFf1::new(&NIST_KEY_256, 11).unwrap();
        assert!(matches!(
            ff1.encrypt(100_000_000_000),
            Err(Ff1Error::OutOfDomain { .. })
        ));
        assert!(matches!(
            DecimalFf1::new(&NIST_KEY_256, 19),
            Err(Ff1Error::Length(19))
        ));
    }
}
