//! Delta CRLs on the relying party's side (RFC 5280 5.2.4 and 6.3.3): a delta is
//! applied on a loaded complete CRL whose number is at least the delta's base and
//! below the delta's own number; its entries revoke, its removeFromCRL entries
//! take a hold off. At national scale the base is re-signed every few minutes and
//! the delta within a second, so a check that ignored the delta would miss the
//! newest revocations.

use crate::verify::{OpenedCrl, TrustStore, VerifyError};
use chrono::{DateTime, Utc};
use der::Decode;
use std::collections::HashSet;
use x509_cert::ext::pkix::CrlReason;

const ID_CE_CRL_REASONS: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("2.5.29.21");

/// A delta CRL applied on a complete one: its number and its entries (serial,
/// whether it is a removeFromCRL).
#[derive(Debug, Clone)]
pub(crate) struct AppliedDelta {
    pub(crate) number: u64,
    entries: Vec<(Vec<u8>, bool)>,
}

impl AppliedDelta {
    pub(crate) fn apply(&self, serials: &mut HashSet<Vec<u8>>) {
        for (serial, removed) in &self.entries {
            if *removed {
                serials.remove(serial);
            } else {
                serials.insert(serial.clone());
            }
        }
    }
}

impl TrustStore {
    /// Checks a delta CRL and applies it on the loaded complete CRL of its issuer;
    /// returns the number of serials then revoked. Refused: a complete CRL
    /// ([`VerifyError::WrongCrlKind`]), a delta on a base newer than the one loaded
    /// ([`VerifyError::DeltaBaseMissing`]), one older than the delta already applied
    /// ([`VerifyError::OlderCrl`]). A delta no newer than the loaded base changes
    /// nothing (the base already says more).
    pub fn load_delta_crl(
        &mut self,
        crl_der: &[u8],
        now: DateTime<Utc>,
    ) -> Result<usize, VerifyError> {
        let OpenedCrl {
            crl,
            issuer,
            number,
            base_number,
            ..
        } = self.open_crl(crl_der, now)?;
        let base_number = base_number.ok_or(VerifyError::WrongCrlKind)?;
        let kind = self
            .anchor(&issuer)
            .map(|anchor| anchor.kind.code())
            .unwrap_or("unknown");
        let loaded = self
            .lists
            .get_mut(&issuer)
            .ok_or(VerifyError::NoRevocationList(kind))?;
        if loaded.number < base_number {
            return Err(VerifyError::DeltaBaseMissing {
                wanted: base_number,
                loaded: loaded.number,
            });
        }
        if number <= loaded.number {
            return Ok(loaded.serials.len());
        }
        if let Some(applied) = &loaded.delta {
            if number < applied.number {
                return Err(VerifyError::OlderCrl {
                    offered: number,
                    loaded: applied.number,
                });
            }
        }
        let mut entries = Vec::new();
        for entry in crl.tbs_cert_list.revoked_certificates.unwrap_or_default() {
            let removed = entry
                .crl_entry_extensions
                .as_deref()
                .unwrap_or(&[])
                .iter()
                .filter(|extension| extension.extn_id == ID_CE_CRL_REASONS)
                .map(|extension| CrlReason::from_der(extension.extn_value.as_bytes()))
                .any(|reason| matches!(reason, Ok(CrlReason::RemoveFromCRL)));
            entries.push((entry.serial_number.as_bytes().to_vec(), removed));
        }
        let delta = AppliedDelta { number, entries };
        delta.apply(&mut loaded.serials);
        loaded.delta = Some(delta);
        Ok(loaded.serials.len())
    }
}
