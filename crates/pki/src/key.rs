//! RSA-2048 key pairs and public keys (PKCS#1 v1.5 with SHA-256).

use crate::{PkiError, Result};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private, Public};
use openssl::rsa::{Padding, Rsa};

/// The DER prefix of a SHA-256 DigestInfo (RFC 8017 section 9.2, note 1).
const SHA256_DIGEST_INFO_PREFIX: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// SHA-256 of some bytes.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    openssl::sha::sha256(data)
}

/// The DigestInfo a card signs for a SHA-256 digest.
pub fn digest_info_sha256(digest: &[u8; 32]) -> Vec<u8> {
    let mut info = Vec::with_capacity(51);
    info.extend_from_slice(&SHA256_DIGEST_INFO_PREFIX);
    info.extend_from_slice(digest);
    info
}

/// An RSA-2048 key pair (cloning shares the key: OpenSSL counts references).
#[derive(Clone)]
pub struct KeyPair {
    key: PKey<Private>,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyPair(RSA-2048, ..)")
    }
}

/// The size of every key: RSA-2048, as the card's.
pub const KEY_BITS: u32 = 2048;

impl KeyPair {
    /// A fresh key pair (public exponent 65537).
    pub fn generate() -> Result<Self> {
        Ok(Self {
            key: PKey::from_rsa(Rsa::generate(KEY_BITS)?)?,
        })
    }

    /// From a PKCS#8 DER private key; refuses keys that are not RSA-2048.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        Self::checked(PKey::private_key_from_pkcs8(der)?)
    }

    /// From a PEM private key (PKCS#8 or PKCS#1).
    pub fn from_pem(pem: &[u8]) -> Result<Self> {
        Self::checked(PKey::private_key_from_pem(pem)?)
    }

    fn checked(key: PKey<Private>) -> Result<Self> {
        let rsa = key.rsa()?;
        if rsa.size() * 8 != KEY_BITS {
            return Err(PkiError::Invalid(format!(
                "expected an RSA-{KEY_BITS} key, found {} bits",
                rsa.size() * 8
            )));
        }
        Ok(Self { key })
    }

    /// The private key as PKCS#8 DER (keep it sealed).
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>> {
        Ok(self.key.private_key_to_pkcs8()?)
    }

    /// The private key as PKCS#8 PEM.
    pub fn to_pem(&self) -> Result<Vec<u8>> {
        Ok(self.key.private_key_to_pem_pkcs8()?)
    }

    /// The public key as a SubjectPublicKeyInfo (DER).
    pub fn public_key_der(&self) -> Result<Vec<u8>> {
        Ok(self.key.public_key_to_der()?)
    }

    /// A PKCS#1 v1.5 signature with SHA-256 over `data`.
    pub fn sign_sha256(&self, data: &[u8]) -> Result<Vec<u8>> {
        let mut signer = openssl::sign::Signer::new(MessageDigest::sha256(), &self.key)?;
        signer.update(data)?;
        Ok(signer.sign_to_vec()?)
    }

    /// A PKCS#1 v1.5 signature over a DigestInfo the caller built (what the card's
    /// SIGN command does: the hash was computed off the card). The input must leave
    /// room for the padding (at most 245 bytes for RSA-2048).
    pub fn sign_digest_info(&self, digest_info: &[u8]) -> Result<Vec<u8>> {
        let rsa = self.key.rsa()?;
        let size = usize::try_from(rsa.size()).unwrap_or(256);
        if digest_info.is_empty() || digest_info.len() > size.saturating_sub(11) {
            return Err(PkiError::Invalid(format!(
                "a DigestInfo of {} bytes cannot be signed with an RSA-{KEY_BITS} key",
                digest_info.len()
            )));
        }
        let mut out = vec![0u8; size];
        let written = rsa.private_encrypt(digest_info, &mut out, Padding::PKCS1)?;
        out.truncate(written);
        Ok(out)
    }
}

/// An RSA public key, parsed once for repeated checks.
#[derive(Clone)]
pub struct PublicKey {
    rsa: Rsa<Public>,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PublicKey(RSA)")
    }
}

/// rsaEncryption (PKCS #1).
const RSA_ENCRYPTION: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

impl PublicKey {
    /// From a SubjectPublicKeyInfo (DER). The modulus and exponent are read with the
    /// `der` crate and handed to OpenSSL as numbers: OpenSSL 3's own key decoders
    /// cost ~150 µs a key, more than the signature check itself.
    pub fn from_spki_der(der_bytes: &[u8]) -> Result<Self> {
        use der::{Decode, Reader};
        let spki = spki::SubjectPublicKeyInfoRef::from_der(der_bytes)?;
        if spki.algorithm.oid != RSA_ENCRYPTION {
            return Err(PkiError::Invalid("not an RSA public key".into()));
        }
        let bits = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| PkiError::Invalid("a public key of a partial byte".into()))?;
        let mut reader = der::SliceReader::new(bits)?;
        let (n, e) = reader.sequence(|inner| {
            let n = der::asn1::UintRef::decode(inner)?;
            let e = der::asn1::UintRef::decode(inner)?;
            Ok((n, e))
        })?;
        let rsa = Rsa::from_public_components(
            openssl::bn::BigNum::from_slice(n.as_bytes())?,
            openssl::bn::BigNum::from_slice(e.as_bytes())?,
        )?;
        if rsa.size() * 8 < KEY_BITS {
            return Err(PkiError::Invalid(format!(
                "an RSA key of {} bits is too short",
                rsa.size() * 8
            )));
        }
        Ok(Self { rsa })
    }

    /// The public key of a certificate (DER).
    pub fn from_certificate_der(certificate: &[u8]) -> Result<Self> {
        use der::{Decode, Encode};
        let certificate = x509_cert::Certificate::from_der(certificate)?;
        Self::from_spki_der(
            &certificate
                .tbs_certificate
                .subject_public_key_info
                .to_der()?,
        )
    }

    /// Whether `signature` is a PKCS#1 v1.5 SHA-256 signature of `data` by this key.
    pub fn verify_sha256(&self, data: &[u8], signature: &[u8]) -> bool {
        self.verify_digest_info(&digest_info_sha256(&sha256(data)), signature)
    }

    /// Whether `signature` is a PKCS#1 v1.5 signature of this DigestInfo: the
    /// signature is opened with the public key and the block compared with the
    /// expected encoding (RFC 8017 8.2.2; the values are public, so no constant-time
    /// comparison is needed).
    pub fn verify_digest_info(&self, digest_info: &[u8], signature: &[u8]) -> bool {
        let size = usize::try_from(self.rsa.size()).unwrap_or(0);
        if signature.len() != size {
            return false;
        }
        let mut block = vec![0u8; size];
        match self
            .rsa
            .public_decrypt(signature, &mut block, Padding::PKCS1)
        {
            Ok(len) => block.get(..len) == Some(digest_info),
            Err(_) => false,
        }
    }
}
