//! The CMS signature parser (what the signature-verification service and `maina
//! verify` read from anyone): any bytes parse into a signature that carries
//! its signer's certificate, or are refused with a reason; never a
//! panic. The parsed signature's checks run too (they must refuse, not panic).
#![no_main]
use libfuzzer_sys::fuzz_target;
use maina_pki::CmsSignature;

fuzz_target!(|data: &[u8]| {
    match CmsSignature::parse(data) {
        Ok(signature) => {
            assert!(signature.certificate_count >= 1);
            assert!(!signature.signer_certificate.is_empty());
            let _ = signature.check(&[0u8; 32]);
            let _ = signature.check(&signature.message_digest.clone());
        }
        Err(reason) => assert!(!reason.to_string().is_empty()),
    }
});
