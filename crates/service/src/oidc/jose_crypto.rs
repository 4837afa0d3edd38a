//! The provider's JOSE signatures through OpenSSL: a `jsonwebtoken`
//! [`CryptoProvider`] for ES256, RS256 and PS256 (every other algorithm goes to
//! the crate's RustCrypto provider). `jsonwebtoken` still builds and parses every
//! token; only the arithmetic moves.
//!
//! Why: the RustCrypto provider parses the PKCS#8 key afresh for every token and
//! derives its public key (a P-256 scalar multiplication) before signing with a
//! second one; measured in `maina bench signin`, the two tokens of a sign-in spent
//! half of the provider's CPU there. OpenSSL's P-256 signs in about 20 µs on this
//! project's 2-core machine.

use jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER as RUST_CRYPTO;
use jsonwebtoken::crypto::{CryptoProvider, JwkUtils, JwtSigner, JwtVerifier};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::signature;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind, EncodingKey};
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey, EcPoint};
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private, Public};
use openssl::rsa::{Padding, Rsa};
use std::sync::Arc;

/// The provider; [`install`] makes it the process's default.
pub static OPENSSL_PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: new_verifier,
    jwk_utils: JwkUtils {
        extract_rsa_public_key_components: RUST_CRYPTO.jwk_utils.extract_rsa_public_key_components,
        extract_ec_public_key_coordinates: RUST_CRYPTO.jwk_utils.extract_ec_public_key_coordinates,
        compute_digest: RUST_CRYPTO.jwk_utils.compute_digest,
    },
};

/// Makes OpenSSL the process's JOSE crypto (once; later calls change nothing).
pub fn install() {
    let _ = OPENSSL_PROVIDER.install_default();
}

fn ssl(_: openssl::error::ErrorStack) -> signature::Error {
    signature::Error::new()
}

/// P-256 (a JWS signature is r ‖ s, 32 bytes each) or RSA with SHA-256.
enum Key<T> {
    P256(EcKey<T>),
    Rsa(PKey<T>, Padding),
}

struct OpenSslSigner(Arc<Key<Private>>, Algorithm);
struct OpenSslVerifier(Key<Public>, Algorithm);

fn rsa_padding(alg: Algorithm) -> Padding {
    if alg == Algorithm::PS256 {
        Padding::PKCS1_PSS
    } else {
        Padding::PKCS1
    }
}

/// The signing keys parsed already, by their DER: OpenSSL 3's decoders take
/// process-wide locks, and parsing the key for every token made the two worker
/// threads queue on them. The provider has a handful of keys (two per rotation).
type ParsedKeys = std::sync::RwLock<Vec<(Vec<u8>, Algorithm, Arc<Key<Private>>)>>;
static PARSED: ParsedKeys = std::sync::RwLock::new(Vec::new());
/// More keys than a provider ever holds at once: the list starts again.
const PARSED_LIMIT: usize = 32;

fn new_signer(
    alg: &Algorithm,
    key: &EncodingKey,
) -> jsonwebtoken::errors::Result<Box<dyn JwtSigner>> {
    let der = key.inner();
    if let Ok(parsed) = PARSED.read() {
        if let Some((_, _, found)) = parsed.iter().find(|(d, a, _)| d == der && a == alg) {
            return Ok(Box::new(OpenSslSigner(found.clone(), *alg)));
        }
    }
    let parsed = Arc::new(match (alg, key.family()) {
        (Algorithm::ES256, AlgorithmFamily::Ec) => PKey::private_key_from_pkcs8(der)
            .and_then(|pkey| pkey.ec_key())
            .ok()
            .filter(|ec| ec.group().curve_name() == Some(Nid::X9_62_PRIME256V1))
            .map(Key::P256)
            .ok_or(ErrorKind::InvalidEcdsaKey)?,
        (Algorithm::RS256 | Algorithm::PS256, AlgorithmFamily::Rsa) => {
            Rsa::private_key_from_der(der)
                .and_then(PKey::from_rsa)
                .map(|pkey| Key::Rsa(pkey, rsa_padding(*alg)))
                .map_err(|e| ErrorKind::InvalidRsaKey(e.to_string()))?
        }
        _ => return (RUST_CRYPTO.signer_factory)(alg, key),
    });
    if let Ok(mut cache) = PARSED.write() {
        if cache.len() >= PARSED_LIMIT {
            cache.clear();
        }
        cache.push((der.to_vec(), *alg, parsed.clone()));
    }
    Ok(Box::new(OpenSslSigner(parsed, *alg)))
}

fn new_verifier(
    alg: &Algorithm,
    key: &DecodingKey,
) -> jsonwebtoken::errors::Result<Box<dyn JwtVerifier>> {
    let invalid = |_| Error::from(ErrorKind::InvalidKeyFormat);
    let parsed = match (alg, key.family(), key.kind()) {
        (Algorithm::ES256, AlgorithmFamily::Ec, DecodingKeyKind::SecretOrDer(point)) => {
            let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).map_err(invalid)?;
            let mut context = BigNumContext::new().map_err(invalid)?;
            let point = EcPoint::from_bytes(&group, point, &mut context)
                .map_err(|_| Error::from(ErrorKind::InvalidEcdsaKey))?;
            Key::P256(
                EcKey::from_public_key(&group, &point)
                    .map_err(|_| Error::from(ErrorKind::InvalidEcdsaKey))?,
            )
        }
        (
            Algorithm::RS256 | Algorithm::PS256,
            AlgorithmFamily::Rsa,
            DecodingKeyKind::RsaModulusExponent { n, e },
        ) => {
            let rsa = Rsa::from_public_components(
                BigNum::from_slice(n).map_err(invalid)?,
                BigNum::from_slice(e).map_err(invalid)?,
            )
            .and_then(PKey::from_rsa)
            .map_err(|e| Error::from(ErrorKind::InvalidRsaKey(e.to_string())))?;
            Key::Rsa(rsa, rsa_padding(*alg))
        }
        (
            Algorithm::RS256 | Algorithm::PS256,
            AlgorithmFamily::Rsa,
            DecodingKeyKind::SecretOrDer(der),
        ) => {
            let rsa = Rsa::public_key_from_der_pkcs1(der)
                .and_then(PKey::from_rsa)
                .map_err(|e| Error::from(ErrorKind::InvalidRsaKey(e.to_string())))?;
            Key::Rsa(rsa, rsa_padding(*alg))
        }
        _ => return (RUST_CRYPTO.verifier_factory)(alg, key),
    };
    Ok(Box::new(OpenSslVerifier(parsed, *alg)))
}

impl signature::Signer<Vec<u8>> for OpenSslSigner {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        match self.0.as_ref() {
            Key::P256(key) => {
                let signature = EcdsaSig::sign(&openssl::sha::sha256(message), key).map_err(ssl)?;
                let mut out = signature.r().to_vec_padded(32).map_err(ssl)?;
                out.extend(signature.s().to_vec_padded(32).map_err(ssl)?);
                Ok(out)
            }
            Key::Rsa(key, padding) => {
                let mut signer =
                    openssl::sign::Signer::new(MessageDigest::sha256(), key).map_err(ssl)?;
                signer.set_rsa_padding(*padding).map_err(ssl)?;
                if *padding == Padding::PKCS1_PSS {
                    signer
                        .set_rsa_pss_saltlen(openssl::sign::RsaPssSaltlen::DIGEST_LENGTH)
                        .map_err(ssl)?;
                }
                signer.sign_oneshot_to_vec(message).map_err(ssl)
            }
        }
    }
}

impl JwtSigner for OpenSslSigner {
    fn algorithm(&self) -> Algorithm {
        self.1
    }
}

impl signature::Verifier<Vec<u8>> for OpenSslVerifier {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        let good = match &self.0 {
            Key::P256(key) => {
                let (Some(r), Some(s)) = (signature.get(..32), signature.get(32..)) else {
                    return Err(signature::Error::new());
                };
                if s.len() != 32 {
                    return Err(signature::Error::new());
                }
                let signature = EcdsaSig::from_private_components(
                    BigNum::from_slice(r).map_err(ssl)?,
                    BigNum::from_slice(s).map_err(ssl)?,
                )
                .map_err(ssl)?;
                signature
                    .verify(&openssl::sha::sha256(message), key)
                    .map_err(ssl)?
            }
            Key::Rsa(key, padding) => {
                let mut verifier =
                    openssl::sign::Verifier::new(MessageDigest::sha256(), key).map_err(ssl)?;
                verifier.set_rsa_padding(*padding).map_err(ssl)?;
                if *padding == Padding::PKCS1_PSS {
                    verifier
                        .set_rsa_pss_saltlen(openssl::sign::RsaPssSaltlen::DIGEST_LENGTH)
                        .map_err(ssl)?;
                }
                verifier.verify_oneshot(signature, message).map_err(ssl)?
            }
        };
        if good {
            Ok(())
        } else {
            Err(signature::Error::new())
        }
    }
}

impl JwtVerifier for OpenSslVerifier {
    fn algorithm(&self) -> Algorithm {
        self.1
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ec_key() -> (EncodingKey, DecodingKey) {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let key = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
        let der = key.private_key_to_pkcs8().unwrap();
        let mut context = BigNumContext::new().unwrap();
        let point = key
            .ec_key()
            .unwrap()
            .public_key()
            .to_bytes(
                &group,
                openssl::ec::PointConversionForm::UNCOMPRESSED,
                &mut context,
            )
            .unwrap();
        let encoding = EncodingKey::from_ec_der(&der);
        let jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&encoding, Algorithm::ES256).unwrap();
        let decoding = DecodingKey::from_jwk(&jwk).unwrap();
        assert!(matches!(decoding.kind(), DecodingKeyKind::SecretOrDer(p) if *p == point));
        (encoding, decoding)
    }

    fn rsa_key() -> (EncodingKey, DecodingKey) {
        let der = Rsa::generate(2048).unwrap().private_key_to_der().unwrap();
        let encoding = EncodingKey::from_rsa_der(&der);
        let jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&encoding, Algorithm::RS256).unwrap();
        (encoding, DecodingKey::from_jwk(&jwk).unwrap())
    }

    /// Each signature of one provider is accepted by the other and a changed
    /// message is refused by both, for every algorithm this provider does.
    #[test]
    fn openssl_and_rustcrypto_accept_each_others_signatures_and_refuse_a_changed_message() {
        let (ec_sign, ec_verify) = ec_key();
        let (rsa_sign, rsa_verify) = rsa_key();
        for (alg, encoding, decoding) in [
            (Algorithm::ES256, &ec_sign, &ec_verify),
            (Algorithm::RS256, &rsa_sign, &rsa_verify),
            (Algorithm::PS256, &rsa_sign, &rsa_verify),
        ] {
            let providers = [&OPENSSL_PROVIDER, &RUST_CRYPTO];
            for signer in providers {
                let signature = (signer.signer_factory)(&alg, encoding)
                    .unwrap()
                    .try_sign(b"header.claims")
                    .unwrap();
                for verifier in providers {
                    let verifier = (verifier.verifier_factory)(&alg, decoding).unwrap();
                    assert!(
                        verifier.verify(b"header.claims", &signature).is_ok(),
                        "{alg:?}"
                    );
                    assert!(
                        verifier.verify(b"header.claimz", &signature).is_err(),
                        "{alg:?}"
                    );
                }
            }
        }
        // A truncated ES256 signature is refused, not a panic.
        let verifier = new_verifier(&Algorithm::ES256, &ec_verify).unwrap();
        assert!(verifier.verify(b"x", &vec![1u8; 40]).is_err());
    }
}
