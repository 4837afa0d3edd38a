//! Keyed blind indexes: HMAC-SHA256 of a value under a key derived from the master
//! key, so a table can be searched by a value it does not store, and cannot be
//! searched without the key file. Each index has its own prefix in the hashed text,
//! so equal values in two indexes do not give equal keys.

use chrono::NaiveDate;
use hmac::{Hmac, Mac};
use maina_core::{ApplicationFormId, MunicipalityCode, ReceiptNumber};
use sha2::Sha256;

/// The keyed HMAC state of every blind index.
pub(crate) struct BlindIndex {
    // Prepared once (at open) and cloned per hash: half the hashing work.
    mac: Hmac<Sha256>,
}

impl BlindIndex {
    /// HMAC pads a key shorter than the hash's block with zeros, so the 64-byte
    /// zero-padded key is the same key, and `KeyInit::new` on a whole block cannot
    /// fail.
    pub(crate) fn new(key: &[u8; 32]) -> Self {
        let mut block_key = [0u8; 64];
        for (slot, byte) in block_key.iter_mut().zip(key.iter()) {
            *slot = *byte;
        }
        Self {
            mac: <Hmac<Sha256> as hmac::digest::KeyInit>::new(&block_key.into()),
        }
    }

    /// The full 256-bit keyed hash: for checks that must not collide.
    pub(crate) fn full(&self, text: &str) -> Vec<u8> {
        let mut mac = self.mac.clone();
        mac.update(text.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// A 64-bit keyed hash: index keys stay small (the index stays in cache at
    /// national scale); every match is confirmed against the sealed record or a
    /// full check.
    pub(crate) fn short(&self, text: &str) -> i64 {
        let hash = self.full(text);
        let mut bytes = [0u8; 8];
        for (slot, byte) in bytes.iter_mut().zip(hash.iter()) {
            *slot = *byte;
        }
        i64::from_be_bytes(bytes)
    }

    /// The identity index key of a foreign national (nationality, passport, birth
    /// date): finds a returning person without storing the passport number.
    pub(crate) fn identity_key(&self, identity: &str) -> i64 {
        self.short(identity)
    }

    /// The search index key of a municipality and a birth date.
    pub(crate) fn birth_key(&self, municipality: &MunicipalityCode, birth_date: NaiveDate) -> i64 {
        self.short(&format!("birth|{}|{birth_date}", municipality.as_digits()))
    }

    /// The look-up key of an application form ID.
    pub(crate) fn form_key(&self, form: &ApplicationFormId) -> i64 {
        self.short(&format!("form|{}", form.as_digits()))
    }

    /// The look-up key of a receipt number.
    pub(crate) fn receipt_key(&self, receipt: &ReceiptNumber) -> i64 {
        self.short(&format!("receipt|{}", receipt.as_digits()))
    }

    /// The check of a form ID together with the applicant's birth date.
    pub(crate) fn form_check(&self, form: &ApplicationFormId, birth: NaiveDate) -> Vec<u8> {
        self.full(&format!("form-birth|{}|{birth}", form.as_digits()))
    }

    /// The look-up key of an issue notice number.
    pub(crate) fn notice_key(&self, notice: &maina_core::IssueNoticeNumber) -> i64 {
        self.short(&format!("notice|{}", notice.as_digits()))
    }

    /// The full keyed hash of an issue notice number with the holder's birth date:
    /// the booking page's one comparison, in constant time.
    pub(crate) fn notice_check(
        &self,
        notice: &maina_core::IssueNoticeNumber,
        birth: NaiveDate,
    ) -> Vec<u8> {
        self.full(&format!("notice-birth|{}|{birth}", notice.as_digits()))
    }

    /// The check of a receipt number together with the applicant's birth date.
    pub(crate) fn receipt_check(&self, receipt: &ReceiptNumber, birth: NaiveDate) -> Vec<u8> {
        self.full(&format!("receipt-birth|{}|{birth}", receipt.as_digits()))
    }
}
