//! The card issuer's commands (*our design*, REFERENCE sections 4 and 7: "a blocked
//! PIN is reset at the municipal office"; "a new address is updated on the chip,
//! needs the residence PIN").
//!
//! Each card holds a **per-card issuer key**, written at manufacture and never
//! readable: `K = HMAC-SHA256(master, "maina card issuer key v1" ‖ card id)`, where
//! the master key is derived (HKDF) from a stable key of the key file — so it is
//! outside the database, in every key file, and never rotates (a chip keeps its key
//! ten years); see `maina_store::Store::card_issuer_key`. From `K` two keys are
//! derived: one for AES-256-GCM (commands) and one for HMAC-SHA256 (the chip's
//! receipts). Cards made before this design hold no key: the chip answers `6A88`
//! to every issuer command, and such a card is replaced, not patched.
//!
//! An issuer command (CLA `84`) is only accepted right after the chip's own
//! GET CHALLENGE (`00 84 00 00 08`): its data is `nonce (12) ‖ AES-256-GCM(plaintext)`
//! with the challenge and the command header as associated data. So the counter PC
//! that carries it learns nothing of a new PIN inside, cannot alter it, and cannot
//! send it twice (the challenge is spent by the first try, good or bad). The chip
//! answers a command it carried out with a **receipt**, an HMAC over the challenge,
//! the header, the plaintext's hash and any data it returns, so the issuer knows the
//! chip (not the PC) did it, and that a public key came out of this chip.
//!
//! | command | APDU | plaintext | answer |
//! |---|---|---|---|
//! | GET CHALLENGE | `00 84 00 00 08` | — | 8 random bytes |
//! | RESET RETRY COUNTER (selected PIN file) | `84 2C 00 80` new PIN, `84 2C 03 80` unblock only | PIN code ‖ new PIN | receipt |
//! | UPDATE BINARY (issuer) | `84 D6 00 00` | area ‖ FID ‖ content | receipt |
//! | GENERATE KEY PAIR | `84 46 00 00` | key FID | SubjectPublicKeyInfo ‖ receipt |
//!
//! The facts files (support AP EF 0002 and 0003, residence AP files) are written
//! only while the residence PIN is verified in the session; the certificate files
//! need only the issuer's protection. Refusals are status words and change nothing
//! but spend the challenge.

use crate::apdu::StatusWord;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use maina_core::card::{Pin, PinKind};
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The class byte of the issuer's commands.
pub const CLA_ISSUER: u8 = 0x84;
pub const INS_GET_CHALLENGE: u8 = 0x84;
pub const INS_RESET_RETRY_COUNTER: u8 = 0x2C;
pub const INS_UPDATE_BINARY: u8 = 0xD6;
pub const INS_GENERATE_KEY_PAIR: u8 = 0x46;
/// RESET RETRY COUNTER's P1: a new PIN, or the counter only (unblock).
pub const P1_NEW_PIN: u8 = 0x00;
pub const P1_UNBLOCK: u8 = 0x03;
/// The length of the chip's challenge and of a receipt.
pub const CHALLENGE_LEN: usize = 8;
pub const RECEIPT_LEN: usize = 16;
const NONCE_LEN: usize = 12;

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length: `new_from_slice` cannot fail.
    let Ok(mut mac) = <HmacSha256 as Mac>::new_from_slice(key) else {
        return [0; 32];
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Where an issuer write lands: the chip's applications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Jpki = 1,
    Support = 2,
    Residence = 3,
}

impl Area {
    pub(crate) fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            1 => Some(Self::Jpki),
            2 => Some(Self::Support),
            3 => Some(Self::Residence),
            _ => None,
        }
    }
}

/// The byte that names a PIN inside a RESET RETRY COUNTER.
pub fn pin_code(kind: PinKind) -> u8 {
    match kind {
        PinKind::Authentication => 1,
        PinKind::Signature => 2,
        PinKind::Residence => 3,
        PinKind::Support => 4,
    }
}

/// A card's issuer key.
#[derive(Clone)]
pub struct CardKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for CardKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CardKey(..)")
    }
}

/// Why an issuer command did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssuerError {
    #[error("the card refused the command: {0}")]
    Refused(StatusWord),
    #[error("the card's answer carries no valid receipt")]
    BadReceipt,
    #[error("the card's answer is not a response APDU")]
    Malformed,
}

/// An issuer command built for one challenge, and what its receipt must cover.
#[derive(Debug, Clone)]
pub struct Protected {
    pub apdu: Vec<u8>,
    challenge: [u8; CHALLENGE_LEN],
    header: [u8; 4],
    plaintext_digest: [u8; 32],
}

impl CardKey {
    /// A card's key (the issuer derives it from its master key and the card id:
    /// `maina_store::Store::card_issuer_key`).
    pub fn new(key: [u8; 32]) -> Self {
        Self(Zeroizing::new(key))
    }

    pub(crate) fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(bytes)
            .ok()
            .map(|key| Self(Zeroizing::new(key)))
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.as_slice()
    }

    fn sub_key(&self, label: &[u8]) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(hmac(self.0.as_slice(), &[label]))
    }

    fn aad(challenge: &[u8; CHALLENGE_LEN], header: &[u8; 4]) -> Vec<u8> {
        [&b"maina-issuer-1"[..], challenge, header].concat()
    }

    /// Encrypts and authenticates `plaintext` for one challenge and header.
    fn seal(&self, challenge: &[u8; CHALLENGE_LEN], header: &[u8; 4], plaintext: &[u8]) -> Vec<u8> {
        let key = self.sub_key(b"enc");
        let Ok(cipher) = Aes256Gcm::new_from_slice(key.as_slice()) else {
            return Vec::new();
        };
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &Self::aad(challenge, header),
                },
            )
            .unwrap_or_default();
        [&nonce[..], &sealed].concat()
    }

    /// The plaintext, if `data` was sealed with this key for this challenge and header.
    pub(crate) fn open(
        &self,
        challenge: &[u8; CHALLENGE_LEN],
        header: &[u8; 4],
        data: &[u8],
    ) -> Option<Zeroizing<Vec<u8>>> {
        let (nonce, sealed) = data.split_at_checked(NONCE_LEN)?;
        let key = self.sub_key(b"enc");
        let cipher = Aes256Gcm::new_from_slice(key.as_slice()).ok()?;
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: &Self::aad(challenge, header),
                },
            )
            .ok()
            .map(Zeroizing::new)
    }

    /// The chip's receipt for a command it carried out.
    pub(crate) fn receipt(
        &self,
        challenge: &[u8; CHALLENGE_LEN],
        header: &[u8; 4],
        plaintext_digest: &[u8; 32],
        answer: &[u8],
    ) -> [u8; RECEIPT_LEN] {
        let key = self.sub_key(b"mac");
        let tag = hmac(
            key.as_slice(),
            &[
                b"maina-receipt-1",
                challenge,
                header,
                plaintext_digest,
                answer,
            ],
        );
        let mut out = [0u8; RECEIPT_LEN];
        out.copy_from_slice(tag.get(..RECEIPT_LEN).unwrap_or(&[0; RECEIPT_LEN]));
        out
    }

    pub(crate) fn protect(
        &self,
        challenge: &[u8; CHALLENGE_LEN],
        header: [u8; 4],
        plaintext: &[u8],
    ) -> Protected {
        let data = self.seal(challenge, &header, plaintext);
        Protected {
            apdu: extended_apdu(header, &data),
            challenge: *challenge,
            header,
            plaintext_digest: Sha256::digest(plaintext).into(),
        }
    }

    /// RESET RETRY COUNTER for the selected PIN file of `kind`: a new PIN (the
    /// counter back to its maximum), or `None` to unblock it keeping the PIN.
    pub fn reset_pin(
        &self,
        challenge: &[u8; CHALLENGE_LEN],
        kind: PinKind,
        new: Option<&Pin>,
    ) -> Protected {
        let p1 = if new.is_some() {
            P1_NEW_PIN
        } else {
            P1_UNBLOCK
        };
        let mut plaintext = Zeroizing::new(vec![pin_code(kind)]);
        if let Some(pin) = new {
            plaintext.extend_from_slice(pin.as_bytes());
        }
        self.protect(
            challenge,
            [CLA_ISSUER, INS_RESET_RETRY_COUNTER, p1, 0x80],
            &plaintext,
        )
    }

    /// UPDATE BINARY of a whole file (created when missing, in the allowed list).
    pub fn update_file(
        &self,
        challenge: &[u8; CHALLENGE_LEN],
        area: Area,
        fid: u16,
        content: &[u8],
    ) -> Protected {
        let plaintext = [&[area as u8][..], &fid.to_be_bytes(), content].concat();
        self.protect(challenge, [CLA_ISSUER, INS_UPDATE_BINARY, 0, 0], &plaintext)
    }

    /// GENERATE KEY PAIR for a JPKI key file (`jpki_ef::AUTH_KEY` or `SIGN_KEY`).
    pub fn generate_key(&self, challenge: &[u8; CHALLENGE_LEN], key_fid: u16) -> Protected {
        self.protect(
            challenge,
            [CLA_ISSUER, INS_GENERATE_KEY_PAIR, 0, 0],
            &key_fid.to_be_bytes(),
        )
    }

    /// Checks the chip's response to `command` (status and receipt) and returns the
    /// data before the receipt (a public key for GENERATE KEY PAIR).
    pub fn check(&self, command: &Protected, response: &[u8]) -> Result<Vec<u8>, IssuerError> {
        let [body @ .., hi, lo] = response else {
            return Err(IssuerError::Malformed);
        };
        let status = StatusWord(u16::from_be_bytes([*hi, *lo]));
        if status != StatusWord::OK {
            return Err(IssuerError::Refused(status));
        }
        let (data, receipt) = body
            .split_at_checked(body.len().saturating_sub(RECEIPT_LEN))
            .ok_or(IssuerError::Malformed)?;
        if receipt.len() != RECEIPT_LEN {
            return Err(IssuerError::BadReceipt);
        }
        let expected = self.receipt(
            &command.challenge,
            &command.header,
            &command.plaintext_digest,
            data,
        );
        if bool::from(subtle::ConstantTimeEq::ct_eq(&expected[..], receipt)) {
            Ok(data.to_vec())
        } else {
            Err(IssuerError::BadReceipt)
        }
    }
}

/// An APDU with extended lengths (certificates are longer than 255 bytes) and
/// Le = 0000 (any length back).
fn extended_apdu(header: [u8; 4], data: &[u8]) -> Vec<u8> {
    let lc = u16::try_from(data.len()).unwrap_or(u16::MAX);
    let mut apdu = header.to_vec();
    apdu.push(0);
    apdu.extend_from_slice(&lc.to_be_bytes());
    apdu.extend_from_slice(data);
    apdu.extend_from_slice(&[0, 0]);
    apdu
}

/// The GET CHALLENGE command.
pub const GET_CHALLENGE: [u8; 5] = [0x00, INS_GET_CHALLENGE, 0x00, 0x00, CHALLENGE_LEN as u8];

/// The challenge in a GET CHALLENGE response.
pub fn challenge_of(response: &[u8]) -> Result<[u8; CHALLENGE_LEN], IssuerError> {
    match response {
        [challenge @ .., 0x90, 0x00] => {
            <[u8; CHALLENGE_LEN]>::try_from(challenge).map_err(|_| IssuerError::Malformed)
        }
        [.., hi, lo] => Err(IssuerError::Refused(StatusWord(u16::from_be_bytes([
            *hi, *lo,
        ])))),
        _ => Err(IssuerError::Malformed),
    }
}

/// What the issuer signs over the facts: the SHA-256 of the support AP's EF 0001
/// (the My Number TLV) and EF 0002 (the four facts), as TLVs `DF30` and `DF31`.
pub fn facts_digests(number_file: &[u8], facts_file: &[u8]) -> Vec<u8> {
    let mut out = crate::tlv::encode(&[0xDF, 0x30], &Sha256::digest(number_file));
    out.extend(crate::tlv::encode(
        &[0xDF, 0x31],
        &Sha256::digest(facts_file),
    ));
    out
}

/// The content of the support AP's EF 0003: the digests and the issuer's signature
/// over them (`DF32`, RSA PKCS#1 v1.5 SHA-256 by the authentication issuing CA,
/// whose certificate the chip carries in the JPKI AP's EF 000B).
pub fn signed_facts_file(digests: &[u8], signature: &[u8]) -> Vec<u8> {
    let mut out = digests.to_vec();
    out.extend(crate::tlv::encode(&[0xDF, 0x32], signature));
    out
}

/// Splits EF 0003 into the signed digests and the signature, if it has that shape.
pub fn parse_signed_facts(file: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let number = crate::tlv::values(file, &[0xDF, 0x30])?;
    let facts = crate::tlv::values(file, &[0xDF, 0x31])?;
    let signature = crate::tlv::values(file, &[0xDF, 0x32])?;
    let mut digests = crate::tlv::encode(&[0xDF, 0x30], number);
    digests.extend(crate::tlv::encode(&[0xDF, 0x31], facts));
    Some((digests, signature.to_vec()))
}

/// Whether a file's content has the digest recorded under `tag` in EF 0003.
pub fn digest_matches(file_0003: &[u8], tag: [u8; 2], content: &[u8]) -> bool {
    crate::tlv::values(file_0003, &tag) == Some(Sha256::digest(content).as_slice())
}
