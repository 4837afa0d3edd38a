//! Encryption at rest of personal details: AES-256-GCM, a random 96-bit nonce per
//! value, and the value's place (table, row, version) as associated data, so a sealed
//! value copied to another row does not open.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;

/// Sealing failed or a sealed value does not open with this key at this place.
#[derive(Debug, thiserror::Error)]
#[error("sealed data at {place} does not open with this key (tampered, moved or another key file)")]
pub struct SealError {
    pub place: String,
}

const NONCE_LEN: usize = 12;

/// Seals and opens values with one key.
#[derive(Clone)]
pub struct Sealer {
    cipher: Aes256Gcm,
}

impl Sealer {
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(key.into()),
        }
    }

    /// `nonce || ciphertext+tag` of `plain`, bound to `place`.
    pub fn seal(&self, place: &str, plain: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: place.as_bytes(),
                },
            )
            .map_err(|_| SealError {
                place: place.into(),
            })?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens a value sealed at `place`.
    pub fn open(&self, place: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        let error = || SealError {
            place: place.into(),
        };
        if sealed.len() < NONCE_LEN {
            return Err(error());
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: place.as_bytes(),
                },
            )
            .map_err(|_| error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_at_their_place() {
        let sealer = Sealer::new(&[1u8; 32]);
        let sealed = sealer.seal("residents/1/1", b"Yamada").unwrap();
        assert_eq!(sealer.open("residents/1/1", &sealed).unwrap(), b"Yamada");
        assert!(sealer.open("residents/2/1", &sealed).is_err());
        assert!(Sealer::new(&[2u8; 32])
            .open("residents/1/1", &sealed)
            .is_err());
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert!(sealer.open("residents/1/1", &tampered).is_err());
        assert!(sealer.open("residents/1/1", &[1, 2]).is_err());
    }
}
