#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! maina-pki checked by an outside client: `openssl verify -crl_check` and
//! `openssl ocsp` read what maina's authorities issue.

use chrono::{Duration, TimeZone, Utc};
use maina_pki::*;
use std::path::Path;
use std::process::Command;

fn facts() -> HolderFacts {
    HolderFacts {
        name: "山田 太郎".into(),
        address: "東京都千代田区千代田1-1".into(),
        birth_date: "19900401".into(),
        sex: "1".into(),
    }
}

fn request(key: &KeyPair, facts: Option<HolderFacts>) -> CertificateRequest {
    let now = Utc::now();
    CertificateRequest {
        serial: Serial::random().unwrap(),
        public_key_der: key.public_key_der().unwrap(),
        subject_cn: "card 0123456789ABCDEF".into(),
        not_before: now - Duration::minutes(5),
        not_after: now + Duration::days(365 * 5),
        facts,
        ocsp_url: Some("http://127.0.0.1:1/ocsp".into()),
        crl_url: Some("http://127.0.0.1:1/pki/auth.crl".into()),
    }
}

fn pem(der: &[u8]) -> Vec<u8> {
    openssl::x509::X509::from_der(der)
        .unwrap()
        .to_pem()
        .unwrap()
}

fn crl_pem(der: &[u8]) -> Vec<u8> {
    openssl::x509::X509Crl::from_der(der)
        .unwrap()
        .to_pem()
        .unwrap()
}

fn openssl(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn openssl_verifies_certificates_and_crls_and_reads_ocsp_answers() {
    let dir = tempfile::tempdir().unwrap();
    let authorities = Authorities::create(&dir.path().join("pki"), Utc::now()).unwrap();
    // Files survive a reload, and a second create refuses to overwrite a key.
    let reloaded = Authorities::load(&dir.path().join("pki")).unwrap();
    assert_eq!(
        reloaded.auth.certificate_der(),
        authorities.auth.certificate_der()
    );
    assert!(Authorities::create(&dir.path().join("pki"), Utc::now()).is_err());

    let card_auth = KeyPair::generate().unwrap();
    let card_sign = KeyPair::generate().unwrap();
    let auth = authorities.auth.issue(&request(&card_auth, None)).unwrap();
    let sign = authorities
        .sign
        .issue(&request(&card_sign, Some(facts())))
        .unwrap();
    // The authentication certificate carries none of the four facts, the signature
    // certificate all four.
    assert!(authorities
        .auth
        .issue(&request(&card_auth, Some(facts())))
        .is_err());
    assert!(authorities.sign.issue(&request(&card_sign, None)).is_err());

    let d = dir.path();
    std::fs::write(
        d.join("auth-ca.pem"),
        authorities.auth.certificate_pem().unwrap(),
    )
    .unwrap();
    std::fs::write(
        d.join("sign-ca.pem"),
        authorities.sign.certificate_pem().unwrap(),
    )
    .unwrap();
    std::fs::write(d.join("auth.pem"), pem(&auth.der)).unwrap();
    std::fs::write(d.join("sign.pem"), pem(&sign.der)).unwrap();
    let now = Utc::now();
    let empty = authorities
        .auth
        .crl(&[], 1, now - Duration::minutes(1), now + Duration::days(1))
        .unwrap();
    std::fs::write(d.join("auth.crl"), crl_pem(&empty)).unwrap();
    let (ok, text) = openssl(
        d,
        &[
            "verify",
            "-crl_check",
            "-CAfile",
            "auth-ca.pem",
            "-CRLfile",
            "auth.crl",
            "auth.pem",
        ],
    );
    assert!(ok, "{text}");
    assert!(text.contains("auth.pem: OK"), "{text}");

    // The signature certificate carries the facts under the JPKI OIDs, in UTF-8.
    let (_, text) = openssl(d, &["x509", "-in", "sign.pem", "-noout", "-text"]);
    assert!(text.contains("1.2.392.200149.8.5.5.1"), "{text}");
    assert!(text.contains("Non Repudiation"), "{text}");

    // Revoked: openssl says so, and names the reason.
    let revoked = [Revocation {
        serial: auth.serial.clone(),
        revoked_at: now - Duration::seconds(10),
        reason: RevocationReason::LostCard,
    }];
    let crl = authorities
        .auth
        .crl(
            &revoked,
            2,
            now - Duration::minutes(1),
            now + Duration::days(1),
        )
        .unwrap();
    std::fs::write(d.join("auth.crl"), crl_pem(&crl)).unwrap();
    let (ok, text) = openssl(
        d,
        &[
            "verify",
            "-crl_check",
            "-CAfile",
            "auth-ca.pem",
            "-CRLfile",
            "auth.crl",
            "auth.pem",
        ],
    );
    assert!(!ok && text.contains("certificate revoked"), "{text}");
    let (_, text) = openssl(d, &["crl", "-in", "auth.crl", "-noout", "-text"]);
    assert!(
        text.contains("Key Compromise") && text.contains(&auth.serial.to_hex()),
        "{text}"
    );

    // The same checks in maina's own verifier.
    let mut trust = TrustStore::new(
        authorities.auth.certificate_der(),
        authorities.sign.certificate_der(),
    )
    .unwrap();
    assert_eq!(
        trust.check_certificate(&auth.der, now).unwrap_err(),
        VerifyError::NoRevocationList("auth")
    );
    trust.load_crl(&empty, now).unwrap();
    let challenge = b"challenge 42";
    let signature = card_auth
        .sign_digest_info(&digest_info_sha256(&sha256(challenge)))
        .unwrap();
    let valid = trust
        .verify_authentication(&auth.der, challenge, &signature, now)
        .unwrap();
    assert_eq!(valid.kind, CaKind::Authentication);
    assert!(valid.facts.is_none());
    assert_eq!(
        trust
            .verify_authentication(&auth.der, b"other", &signature, now)
            .unwrap_err(),
        VerifyError::BadSignature
    );
    assert!(matches!(
        trust
            .verify_authentication(&auth.der, challenge, &signature, now + Duration::days(3650))
            .unwrap_err(),
        VerifyError::OutsideValidity { .. }
    ));
    trust.load_crl(&crl, now).unwrap();
    assert_eq!(
        trust
            .verify_authentication(&auth.der, challenge, &signature, now)
            .unwrap_err(),
        VerifyError::Revoked
    );
    // A CRL of the other authority, or a tampered one, is refused.
    let mut tampered = crl.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert_eq!(
        trust.load_crl(&tampered, now).unwrap_err(),
        VerifyError::BadIssuerSignature
    );
    let sign_crl = authorities
        .sign
        .crl(&[], 1, now - Duration::minutes(1), now + Duration::days(1))
        .unwrap();
    trust.load_crl(&sign_crl, now).unwrap();
    let document = b"a tax return";
    let doc_signature = card_sign
        .sign_digest_info(&digest_info_sha256(&sha256(document)))
        .unwrap();
    let valid = trust
        .verify_document(&sign.der, document, &doc_signature, now)
        .unwrap();
    assert_eq!(valid.facts, Some(facts()));
    assert!(matches!(
        trust
            .verify_document(&auth.der, document, &doc_signature, now)
            .unwrap_err(),
        VerifyError::Revoked | VerifyError::WrongKind { .. }
    ));

    // OCSP: openssl writes a request, maina answers, openssl checks the answer.
    let (ok, text) = openssl(
        d,
        &[
            "ocsp",
            "-issuer",
            "sign-ca.pem",
            "-cert",
            "sign.pem",
            "-reqout",
            "req.der",
        ],
    );
    assert!(ok, "{text}");
    let query = OcspQuery::parse(&std::fs::read(d.join("req.der")).unwrap(), &authorities).unwrap();
    let subjects: Vec<_> = query.subjects().collect();
    assert_eq!(
        subjects,
        vec![Some(&(CaKind::Signature, sign.serial.clone()))]
    );
    for (state, expected) in [
        (CertState::Good, "sign.pem: good"),
        (
            CertState::Revoked {
                at: now - Duration::seconds(5),
                reason: RevocationReason::FactsChanged,
            },
            "sign.pem: revoked",
        ),
    ] {
        let response = query
            .respond(&authorities, &[state], now, now + Duration::hours(1))
            .unwrap();
        std::fs::write(d.join("resp.der"), response).unwrap();
        let (ok, text) = openssl(
            d,
            &[
                "ocsp",
                "-respin",
                "resp.der",
                "-no_nonce",
                "-issuer",
                "sign-ca.pem",
                "-CAfile",
                "sign-ca.pem",
                "-cert",
                "sign.pem",
            ],
        );
        assert!(ok, "{text}");
        assert!(
            text.contains("Response verify OK") && text.contains(expected),
            "{text}"
        );
    }
    assert!(OcspQuery::parse(b"not ocsp", &authorities).is_err());
}

#[test]
fn serials_and_reasons_round_trip() {
    let serial = Serial::random().unwrap();
    assert_eq!(serial.as_bytes().len(), 16);
    assert!(serial.as_bytes()[0] & 0x80 == 0);
    assert_eq!(Serial::from_hex(&serial.to_hex()).unwrap(), serial);
    assert!(Serial::from_hex("zz").is_err());
    assert!(Serial::from_bytes(&[]).is_err());
    for reason in RevocationReason::ALL {
        assert_eq!(RevocationReason::from_code(reason.code()), Some(reason));
    }
    assert_eq!(CaKind::from_code("sign"), Some(CaKind::Signature));
    let at = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
    assert!(Authority::create(CaKind::Authentication, at, 1).is_ok());
}
