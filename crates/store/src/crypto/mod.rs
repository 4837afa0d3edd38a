//! The store's cryptography: the key file and its derived keys, the one sealed
//! format of every table, and the keyed blind indexes.

mod blind_index;
mod keys;
mod rotation;
mod seal;

pub(crate) use blind_index::BlindIndex;
pub use keys::{check_owner_only, create_private_dir, KeyError, Keys};
pub(crate) use keys::{MY_NUMBER_FF1_PURPOSE, RESIDENT_CODE_FF1_PURPOSE};
pub use rotation::{ResealStep, SealedCount};
pub use seal::{SealError, SealFailure, Sealer, FIRST_KEY_ID, SEAL_FORMAT};

use crate::backend::Query;
use crate::{Result, Store, StoreError};
use serde::{de::DeserializeOwned, Serialize};

/// What `Keys::derive` is asked for: each purpose gets an independent key.
pub(crate) const SEAL_KEY_PURPOSE: &str = "maina seal aes-256-gcm";
pub(crate) const BLIND_INDEX_PURPOSE: &str = "maina identity hmac";
pub(crate) const AUDIT_CHAIN_PURPOSE: &str = "maina audit chain";

/// The `meta` rows that say which key file and which sealed format a database has.
const FINGERPRINT_ROW: &str = "key_fingerprint";
const SEAL_FORMAT_ROW: &str = "seal_format";

impl Store {
    /// Seals a value of any table in the one sealed format (see [`Sealer`]). The
    /// plaintext is postcard: compact (a synthetic registration: about 110 bytes
    /// against 360 as JSON), which at national scale is a third of the I/O and of
    /// the disk. The format byte versions this encoding too.
    pub(crate) fn seal_record<T: Serialize + ?Sized>(
        &self,
        place: &str,
        value: &T,
    ) -> Result<Vec<u8>> {
        let plain = zeroize::Zeroizing::new(
            postcard::to_stdvec(value).map_err(|e| StoreError::Corrupt(format!("{place}: {e}")))?,
        );
        Ok(self.sealer.seal(place, &plain)?)
    }

    /// Opens a value sealed by [`Store::seal_record`] at `place`. Every read of
    /// sealed personal data in the store goes through here.
    pub(crate) fn open_record<T: DeserializeOwned>(&self, place: &str, sealed: &[u8]) -> Result<T> {
        let plain = zeroize::Zeroizing::new(self.sealer.open(place, sealed)?);
        postcard::from_bytes(&plain).map_err(|e| StoreError::Corrupt(format!("{place}: {e}")))
    }

    /// Refuses a database sealed with another key file, or in a sealed format this
    /// build does not read, at open rather than at the first read; records both in
    /// a new database.
    pub(crate) async fn check_key_and_seal_format(&self, fingerprint: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let stored = |row: Option<crate::backend::Row>| row.map(|row| row.text(0)).transpose();
        let select = "SELECT value FROM meta WHERE name = $1";
        let key = stored(tx.fetch_optional(select, &[FINGERPRINT_ROW.into()]).await?)?;
        let format = stored(tx.fetch_optional(select, &[SEAL_FORMAT_ROW.into()]).await?)?;
        if let Some(stored) = key.as_ref().filter(|stored| *stored != fingerprint) {
            return Err(StoreError::WrongKey {
                stored: stored.clone(),
                given: fingerprint.into(),
            });
        }
        let insert = "INSERT INTO meta (name, value) VALUES ($1, $2)";
        match format {
            Some(format) if format != SEAL_FORMAT.to_string() => {
                return Err(StoreError::SealFormat { stored: format })
            }
            Some(_) => {}
            // Sealed before the format was recorded: format 1, header-less.
            None if key.is_some() => return Err(StoreError::SealFormat { stored: "1".into() }),
            None => {
                let format = SEAL_FORMAT.to_string();
                tx.execute(insert, &[SEAL_FORMAT_ROW.into(), format.into()])
                    .await?;
            }
        }
        if key.is_none() {
            tx.execute(insert, &[FINGERPRINT_ROW.into(), fingerprint.into()])
                .await?;
        }
        tx.commit().await
    }
}
