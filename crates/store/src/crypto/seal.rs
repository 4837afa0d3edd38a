//! Encryption at rest of personal details, in one format for every sealed value of
//! every table:
//!
//! ```text
//! byte 0      format (SEAL_FORMAT = 2)
//! bytes 1..5  key id, u32 big-endian: which data key of the ring sealed it
//! bytes 5..17 nonce, 96 bits, random per value
//! bytes 17..  AES-256-GCM ciphertext, then its 16-byte tag
//! ```
//!
//! The associated data is the format byte, the key id and the value's place (table,
//! row, version): a value copied to another row does not open, and neither does one
//! whose format byte or key id was changed.
//!
//! Format 1 was the header-less `nonce || ciphertext+tag` of earlier builds; the
//! database records the format it was sealed in (see `Store::open`).
//!
//! Key rotation: the [`Sealer`] is a ring of data keys by id, one of them current.
//! Values are sealed with the current key; a value is opened with the key its id
//! names. Rotating adds a key with the next id and makes it current
//! ([`Sealer::rotate`]); values sealed before still open with the older key until a
//! re-seal pass ([`Sealer::reseal`], for values whose [`Sealer::key_id`] is not the
//! current one) has rewritten them in place, after which the old key can go.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;

/// The sealed format this build writes and reads.
pub const SEAL_FORMAT: u8 = 2;
/// The id of the first data key (today the only one: derived from the master key).
pub const FIRST_KEY_ID: u32 = 1;

const KEY_ID_LEN: usize = 4;
const HEADER_LEN: usize = 1 + KEY_ID_LEN;
const NONCE_LEN: usize = 12;

/// Why a sealed value does not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealFailure {
    #[error("does not open with this key (tampered, moved or another key file)")]
    DoesNotOpen,
    #[error("is too short to be a sealed value")]
    Truncated,
    #[error("has seal format {0}, this build reads format {SEAL_FORMAT}")]
    UnknownFormat(u8),
    #[error("was sealed with data key {0}, which the key ring does not hold")]
    UnknownKey(u32),
}

/// Sealing failed or a sealed value does not open at this place.
#[derive(Debug, thiserror::Error)]
#[error("sealed data at {place} {failure}")]
pub struct SealError {
    pub place: String,
    pub failure: SealFailure,
}

/// Seals with the current data key and opens with whichever key of the ring a value
/// names.
#[derive(Clone)]
pub struct Sealer {
    current: u32,
    ring: Vec<(u32, Aes256Gcm)>,
}

/// The associated data: the header, then the place.
fn associated_data(header: &[u8], place: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(header.len() + place.len());
    aad.extend_from_slice(header);
    aad.extend_from_slice(place.as_bytes());
    aad
}

impl Sealer {
    /// A ring holding one key, [`FIRST_KEY_ID`], which seals.
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            current: FIRST_KEY_ID,
            ring: vec![(FIRST_KEY_ID, Aes256Gcm::new(key.into()))],
        }
    }

    /// A ring of `(id, key)` pairs in ascending id order; the last one seals. An
    /// empty ring seals nothing and opens nothing.
    pub fn from_ring(keys: &[(u32, zeroize::Zeroizing<[u8; 32]>)]) -> Self {
        let mut sealer = Self {
            current: keys.last().map(|(id, _)| *id).unwrap_or(FIRST_KEY_ID),
            ring: Vec::with_capacity(keys.len()),
        };
        for (id, key) in keys {
            sealer.rotate(*id, key);
        }
        sealer
    }

    /// The ids of the keys the ring holds.
    pub fn key_ids(&self) -> Vec<u32> {
        self.ring.iter().map(|(id, _)| *id).collect()
    }

    /// Adds (or replaces) key `id` and seals with it from now on; the other keys
    /// still open what they sealed.
    pub fn rotate(&mut self, id: u32, key: &[u8; 32]) {
        self.ring.retain(|(held, _)| *held != id);
        self.ring.push((id, Aes256Gcm::new(key.into())));
        self.current = id;
    }

    /// The id of the key that seals.
    pub fn current_key_id(&self) -> u32 {
        self.current
    }

    /// The id of the key that sealed `sealed` (read from its header, not checked).
    pub fn key_id(sealed: &[u8]) -> Option<u32> {
        let id = sealed.get(1..HEADER_LEN)?;
        Some(u32::from_be_bytes(id.try_into().ok()?))
    }

    fn cipher(&self, id: u32) -> Option<&Aes256Gcm> {
        self.ring
            .iter()
            .find(|(held, _)| *held == id)
            .map(|(_, cipher)| cipher)
    }

    /// `format || key id || nonce || ciphertext+tag` of `plain`, bound to `place`.
    pub fn seal(&self, place: &str, plain: &[u8]) -> Result<Vec<u8>, SealError> {
        let error = |failure| SealError {
            place: place.into(),
            failure,
        };
        let cipher = self
            .cipher(self.current)
            .ok_or_else(|| error(SealFailure::UnknownKey(self.current)))?;
        let mut out = Vec::with_capacity(HEADER_LEN + NONCE_LEN + plain.len() + 16);
        out.push(SEAL_FORMAT);
        out.extend_from_slice(&self.current.to_be_bytes());
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        out.extend_from_slice(&nonce);
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: &associated_data(out.get(..HEADER_LEN).unwrap_or(&[]), place),
                },
            )
            .map_err(|_| error(SealFailure::DoesNotOpen))?;
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens a value sealed at `place`, with the key its header names.
    pub fn open(&self, place: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        let error = |failure| SealError {
            place: place.into(),
            failure,
        };
        if sealed.len() < HEADER_LEN + NONCE_LEN {
            return Err(error(SealFailure::Truncated));
        }
        let (header, rest) = sealed.split_at(HEADER_LEN);
        let (nonce, body) = rest.split_at(NONCE_LEN);
        match header.first() {
            Some(&SEAL_FORMAT) => {}
            Some(&other) => return Err(error(SealFailure::UnknownFormat(other))),
            None => return Err(error(SealFailure::Truncated)),
        }
        let id = Self::key_id(sealed).ok_or_else(|| error(SealFailure::Truncated))?;
        let cipher = self
            .cipher(id)
            .ok_or_else(|| error(SealFailure::UnknownKey(id)))?;
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: &associated_data(header, place),
                },
            )
            .map_err(|_| error(SealFailure::DoesNotOpen))
    }

    /// The same value sealed again with the current key (a rotation's re-seal
    /// pass), or `None` when the current key sealed it already.
    pub fn reseal(&self, place: &str, sealed: &[u8]) -> Result<Option<Vec<u8>>, SealError> {
        if Self::key_id(sealed) == Some(self.current) {
            return Ok(None);
        }
        let plain = zeroize::Zeroizing::new(self.open(place, sealed)?);
        self.seal(place, &plain).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(result: Result<Vec<u8>, SealError>) -> SealFailure {
        result.unwrap_err().failure
    }

    #[test]
    fn sealed_values_round_trip_at_their_place() {
        let sealer = Sealer::new(&[1u8; 32]);
        let sealed = sealer.seal("residents/1/1", b"Yamada").unwrap();
        assert_eq!(sealed.first(), Some(&SEAL_FORMAT));
        assert_eq!(Sealer::key_id(&sealed), Some(FIRST_KEY_ID));
        assert_eq!(sealed.len(), HEADER_LEN + NONCE_LEN + 6 + 16);
        assert_eq!(sealer.open("residents/1/1", &sealed).unwrap(), b"Yamada");
    }

    #[test]
    fn a_value_opens_only_at_its_place_and_with_its_key() {
        let sealer = Sealer::new(&[1u8; 32]);
        let sealed = sealer.seal("residents/1/1", b"Yamada").unwrap();
        assert_eq!(
            failure(sealer.open("residents/2/1", &sealed)),
            SealFailure::DoesNotOpen
        );
        assert_eq!(
            failure(Sealer::new(&[2u8; 32]).open("residents/1/1", &sealed)),
            SealFailure::DoesNotOpen
        );
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert_eq!(
            failure(sealer.open("residents/1/1", &tampered)),
            SealFailure::DoesNotOpen
        );
        assert_eq!(
            failure(sealer.open("residents/1/1", &[1, 2])),
            SealFailure::Truncated
        );
    }

    #[test]
    fn a_changed_format_byte_or_key_id_does_not_open() {
        let mut sealer = Sealer::new(&[1u8; 32]);
        // Key 2 holds the same bytes as key 1: only the id in the associated data
        // tells them apart, and that must be enough.
        sealer.rotate(2, &[1u8; 32]);
        let sealed = sealer.seal("outbox/7", b"mail").unwrap();
        let mut format = sealed.clone();
        format[0] = 1;
        assert_eq!(
            failure(sealer.open("outbox/7", &format)),
            SealFailure::UnknownFormat(1)
        );
        let mut key_id = sealed.clone();
        key_id[4] = 1;
        assert_eq!(Sealer::key_id(&key_id), Some(1));
        assert_eq!(
            failure(sealer.open("outbox/7", &key_id)),
            SealFailure::DoesNotOpen
        );
    }

    #[test]
    fn an_unknown_key_id_says_so() {
        let mut newer = Sealer::new(&[1u8; 32]);
        newer.rotate(9, &[9u8; 32]);
        let sealed = newer.seal("card/A/chip", b"chip").unwrap();
        let error = Sealer::new(&[1u8; 32])
            .open("card/A/chip", &sealed)
            .unwrap_err();
        assert_eq!(error.failure, SealFailure::UnknownKey(9));
        assert!(error.to_string().contains("data key 9"), "{error}");
    }

    #[test]
    fn rotation_keeps_old_values_open_and_reseals_them() {
        let mut sealer = Sealer::new(&[1u8; 32]);
        let old = sealer.seal("notice/3/form", b"form").unwrap();
        sealer.rotate(2, &[2u8; 32]);
        assert_eq!(sealer.current_key_id(), 2);
        assert_eq!(sealer.open("notice/3/form", &old).unwrap(), b"form");
        let resealed = sealer.reseal("notice/3/form", &old).unwrap().unwrap();
        assert_eq!(Sealer::key_id(&resealed), Some(2));
        assert_eq!(sealer.reseal("notice/3/form", &resealed).unwrap(), None);
        let mut only_new = Sealer::new(&[0u8; 32]);
        only_new.rotate(2, &[2u8; 32]);
        assert_eq!(only_new.open("notice/3/form", &resealed).unwrap(), b"form");
    }
}
