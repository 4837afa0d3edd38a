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

#[path = "pki/esign.rs"]
mod esign;

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

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// Both hierarchies: roots in `DIR/root`, the rest in `DIR/pki`.
fn hierarchies(dir: &Path) -> Authorities {
    Authorities::create(&dir.join("root"), &dir.join("pki"), Utc::now()).unwrap()
}

/// Writes the chain's files for openssl: KIND-root.pem, KIND-ca.pem, KIND-ocsp.pem.
fn write_chain(d: &Path, authorities: &Authorities) {
    for kind in CaKind::ALL {
        let hierarchy = authorities.get(kind);
        let code = kind.code();
        write(
            d,
            &format!("{code}-root.pem"),
            &hierarchy.root_certificate_pem().unwrap(),
        );
        write(
            d,
            &format!("{code}-ca.pem"),
            &hierarchy.issuing().certificate_pem().unwrap(),
        );
        write(
            d,
            &format!("{code}-ocsp.pem"),
            &pem(hierarchy.responder().certificate_der()),
        );
    }
}

fn verify_with_chain(d: &Path, code: &str, certificate: &str) -> (bool, String) {
    openssl(
        d,
        &[
            "verify",
            "-crl_check",
            "-CAfile",
            &format!("{code}-root.pem"),
            "-untrusted",
            &format!("{code}-ca.pem"),
            "-CRLfile",
            &format!("{code}.crl"),
            certificate,
        ],
    )
}

#[test]
fn the_roots_keys_stay_in_their_own_directory() {
    let dir = tempfile::tempdir().unwrap();
    let authorities = hierarchies(dir.path());
    let files = |sub: &str| -> Vec<String> {
        std::fs::read_dir(dir.path().join(sub))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    let server = files("pki");
    assert!(
        !server
            .iter()
            .any(|f| f.starts_with("root-") && f.ends_with(".key.pem")),
        "{server:?}"
    );
    assert!(server.contains(&"root-auth.pem".to_string()), "{server:?}");
    assert!(
        server.contains(&"ca-sign.key.pem".to_string()),
        "{server:?}"
    );
    assert!(
        server.contains(&"ocsp-auth.key.pem".to_string()),
        "{server:?}"
    );
    let roots = files("root");
    assert!(
        roots.contains(&"root-auth.key.pem".to_string()),
        "{roots:?}"
    );
    assert!(Roots::exist(&dir.path().join("root")));
    // Loading what the server loads reads no root key: the files' owner could
    // remove the roots' directory and the server still starts.
    std::fs::rename(dir.path().join("root"), dir.path().join("offline")).unwrap();
    let reloaded = Authorities::load(&dir.path().join("pki")).unwrap();
    assert_eq!(
        reloaded.auth.issuing().certificate_der(),
        authorities.auth.issuing().certificate_der()
    );
    // A second create refuses to overwrite keys; the roots may not live in the
    // server's directory.
    assert!(Authorities::create(
        &dir.path().join("root2"),
        &dir.path().join("pki"),
        Utc::now()
    )
    .is_err());
    assert!(Authorities::create(
        &dir.path().join("same"),
        &dir.path().join("same"),
        Utc::now()
    )
    .is_err());

    // Renewal: the issuing CA is re-certified by the (offline) root with the same
    // key; the responder gets a new key from its issuing CA.
    let roots = Roots::load(&dir.path().join("offline")).unwrap();
    let pki = dir.path().join("pki");
    let before = reloaded.auth.responder().certificate_der().to_vec();
    roots
        .renew_issuing_ca(&pki, CaKind::Authentication, Utc::now() + Duration::days(1))
        .unwrap();
    Authorities::renew_responder(&pki, CaKind::Authentication, Utc::now()).unwrap();
    let renewed = Authorities::load(&pki).unwrap();
    assert_ne!(
        renewed.auth.issuing().certificate_der(),
        reloaded.auth.issuing().certificate_der()
    );
    assert_eq!(
        renewed.auth.issuing().name(),
        reloaded.auth.issuing().name()
    );
    assert_ne!(
        renewed.auth.responder().certificate_der(),
        before.as_slice()
    );
}

#[test]
fn openssl_verifies_certificates_and_crls_and_reads_ocsp_answers() {
    let dir = tempfile::tempdir().unwrap();
    let authorities = hierarchies(dir.path());
    let card_auth = KeyPair::generate().unwrap();
    let card_sign = KeyPair::generate().unwrap();
    let auth = authorities
        .auth
        .issuing()
        .issue(&request(&card_auth, None))
        .unwrap();
    let sign = authorities
        .sign
        .issuing()
        .issue(&request(&card_sign, Some(facts())))
        .unwrap();
    // The authentication certificate carries none of the four facts, the signature
    // certificate all four.
    assert!(authorities
        .auth
        .issuing()
        .issue(&request(&card_auth, Some(facts())))
        .is_err());
    assert!(authorities
        .sign
        .issuing()
        .issue(&request(&card_sign, None))
        .is_err());

    let d = dir.path();
    write_chain(d, &authorities);
    write(d, "auth.pem", &pem(&auth.der));
    write(d, "sign.pem", &pem(&sign.der));
    let now = Utc::now();
    let empty = authorities
        .auth
        .issuing()
        .crl(&[], 1, now - Duration::minutes(1), now + Duration::days(1))
        .unwrap();
    write(d, "auth.crl", &crl_pem(&empty));
    // Three levels: root (trusted), issuing CA (untrusted), card.
    let (ok, text) = verify_with_chain(d, "auth", "auth.pem");
    assert!(ok && text.contains("auth.pem: OK"), "{text}");
    // The root alone is not enough: the issuing CA is needed.
    let (ok, text) = openssl(d, &["verify", "-CAfile", "auth-root.pem", "auth.pem"]);
    assert!(!ok, "{text}");
    // The issuing CA is a CA below the root.
    let (_, text) = openssl(d, &["x509", "-in", "auth-ca.pem", "-noout", "-text"]);
    assert!(
        text.contains("CA:TRUE, pathlen:0") && text.contains("Root CA"),
        "{text}"
    );

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
        .issuing()
        .crl(
            &revoked,
            2,
            now - Duration::minutes(1),
            now + Duration::days(1),
        )
        .unwrap();
    write(d, "auth.crl", &crl_pem(&crl));
    let (ok, text) = verify_with_chain(d, "auth", "auth.pem");
    assert!(!ok && text.contains("certificate revoked"), "{text}");
    let (_, text) = openssl(d, &["crl", "-in", "auth.crl", "-noout", "-text"]);
    assert!(
        text.contains("Key Compromise") && text.contains(&auth.serial.to_hex()),
        "{text}"
    );

    // The same checks in maina's own verifier, which learns the chain.
    let mut trust = TrustStore::new(
        authorities.auth.root_certificate_der(),
        authorities.sign.root_certificate_der(),
    )
    .unwrap();
    // Without the issuing CA, a card certificate does not chain.
    assert_eq!(
        trust.check_certificate(&auth.der, now).unwrap_err(),
        VerifyError::UnknownIssuer
    );
    // An issuing CA is checked under its root: the other root's is refused as
    // this one's, and a card certificate is not a CA.
    let mut only_auth = TrustStore::new(
        authorities.auth.root_certificate_der(),
        authorities.auth.root_certificate_der(),
    )
    .unwrap();
    assert_eq!(
        only_auth
            .add_issuing_ca(authorities.sign.issuing().certificate_der(), now)
            .unwrap_err(),
        VerifyError::UnknownIssuer
    );
    for kind in CaKind::ALL {
        trust
            .add_issuing_ca(authorities.get(kind).issuing().certificate_der(), now)
            .unwrap();
    }
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
    // A tampered CRL is refused.
    let mut tampered = crl.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert_eq!(
        trust.load_crl(&tampered, now).unwrap_err(),
        VerifyError::BadIssuerSignature
    );
    let sign_crl = authorities
        .sign
        .issuing()
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
}

#[test]
fn a_replayed_older_crl_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let authorities = hierarchies(dir.path());
    let issuing = authorities.auth.issuing();
    let card = KeyPair::generate().unwrap();
    let issued = issuing.issue(&request(&card, None)).unwrap();
    let now = Utc::now();
    let crl = |number: u64, revoked: &[Revocation]| {
        issuing
            .crl(
                revoked,
                number,
                now - Duration::minutes(1),
                now + Duration::days(1),
            )
            .unwrap()
    };
    let revocation = [Revocation {
        serial: issued.serial.clone(),
        revoked_at: now - Duration::seconds(10),
        reason: RevocationReason::LostCard,
    }];
    let old = crl(1, &[]);
    let fresh = crl(2, &revocation);
    let mut trust = trusting_auth_issuer(&authorities, now);
    trust.load_crl(&old, now).unwrap();
    trust.load_crl(&fresh, now).unwrap();
    // The same CRL again is fine; an older one, or another with the same number,
    // would hide the revocation: refused, and the fresh list stays.
    trust.load_crl(&fresh, now).unwrap();
    assert_eq!(
        trust.load_crl(&old, now).unwrap_err(),
        VerifyError::OlderCrl {
            offered: 1,
            loaded: 2
        }
    );
    assert_eq!(
        trust.load_crl(&crl(2, &[]), now).unwrap_err(),
        VerifyError::ConflictingCrl(2)
    );
    assert_eq!(
        trust.check_certificate(&issued.der, now).unwrap_err(),
        VerifyError::Revoked
    );
    trust.load_crl(&crl(3, &revocation), now).unwrap();
}

#[test]
fn a_delta_crl_adds_revocations_and_lifts_holds_on_its_base_and_is_never_a_base() {
    let dir = tempfile::tempdir().unwrap();
    let authorities = hierarchies(dir.path());
    let issuing = authorities.auth.issuing();
    let held_in_base = issuing
        .issue(&request(&KeyPair::generate().unwrap(), None))
        .unwrap();
    let lost_since = issuing
        .issue(&request(&KeyPair::generate().unwrap(), None))
        .unwrap();
    let now = Utc::now();
    let (this_update, next_update) = (now - Duration::minutes(1), now + Duration::days(1));
    let revoked = |issued: &Issued, reason| Revocation {
        serial: issued.serial.clone(),
        revoked_at: now - Duration::seconds(30),
        reason,
    };
    let base = issuing
        .crl(
            &[revoked(&held_in_base, RevocationReason::CertificateHold)],
            1,
            this_update,
            next_update,
        )
        .unwrap();
    let lifted = Lifted {
        serial: held_in_base.serial.clone(),
        lifted_at: now - Duration::seconds(5),
    };
    let delta = |number: u64, base_number: u64, lifts: &[Lifted]| {
        issuing
            .delta_crl(
                &[revoked(&lost_since, RevocationReason::LostCard)],
                lifts,
                number,
                base_number,
                this_update,
                next_update,
            )
            .unwrap()
    };
    let mut trust = trusting_auth_issuer(&authorities, now);
    // Before the fix a delta loaded as "the CRL" replaced the complete list, so the
    // hold in the base was forgotten.
    assert_eq!(
        trust.load_crl(&delta(2, 1, &[]), now).unwrap_err(),
        VerifyError::WrongCrlKind
    );
    assert_eq!(
        trust.load_delta_crl(&delta(2, 1, &[]), now).unwrap_err(),
        VerifyError::NoRevocationList("auth")
    );
    assert_eq!(
        trust.load_delta_crl(&base, now).unwrap_err(),
        VerifyError::WrongCrlKind
    );
    trust.load_crl(&base, now).unwrap();
    assert!(trust.check_certificate(&lost_since.der, now).is_ok());
    // The delta revokes what happened since the base.
    assert_eq!(trust.load_delta_crl(&delta(2, 1, &[]), now).unwrap(), 2);
    assert_eq!(
        trust.check_certificate(&lost_since.der, now).unwrap_err(),
        VerifyError::Revoked
    );
    assert_eq!(
        trust.check_certificate(&held_in_base.der, now).unwrap_err(),
        VerifyError::Revoked
    );
    // The same base again keeps the delta applied; a newer delta lifts the hold.
    trust.load_crl(&base, now).unwrap();
    assert_eq!(
        trust.load_delta_crl(&delta(3, 1, &[lifted]), now).unwrap(),
        1
    );
    assert!(trust.check_certificate(&held_in_base.der, now).is_ok());
    assert_eq!(
        trust.check_certificate(&lost_since.der, now).unwrap_err(),
        VerifyError::Revoked
    );
    // An older delta would bring the hold back: refused.
    assert_eq!(
        trust.load_delta_crl(&delta(2, 1, &[]), now).unwrap_err(),
        VerifyError::OlderCrl {
            offered: 2,
            loaded: 3
        }
    );
    // A delta on a base newer than the one loaded cannot be applied.
    assert_eq!(
        trust.load_delta_crl(&delta(9, 5, &[]), now).unwrap_err(),
        VerifyError::DeltaBaseMissing {
            wanted: 5,
            loaded: 1
        }
    );
}

/// A trust store with both roots and the authentication issuing CA, no CRL yet.
fn trusting_auth_issuer(authorities: &Authorities, now: chrono::DateTime<Utc>) -> TrustStore {
    let mut trust = TrustStore::new(
        authorities.auth.root_certificate_der(),
        authorities.sign.root_certificate_der(),
    )
    .unwrap();
    trust
        .add_issuing_ca(authorities.auth.issuing().certificate_der(), now)
        .unwrap();
    trust
}

/// openssl writes a request about `certs` (pairs of issuer and certificate files).
fn ocsp_request(d: &Path, certs: &[(&str, &str)], out: &str) -> Vec<u8> {
    let mut args = vec!["ocsp"];
    for (issuer, cert) in certs {
        args.extend(["-issuer", issuer, "-cert", cert]);
    }
    args.extend(["-reqout", out]);
    let (ok, text) = openssl(d, &args);
    assert!(ok, "{text}");
    std::fs::read(d.join(out)).unwrap()
}

#[test]
fn ocsp_answers_are_signed_by_the_delegated_responder() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let authorities = hierarchies(d);
    write_chain(d, &authorities);
    let auth = authorities
        .auth
        .issuing()
        .issue(&request(&KeyPair::generate().unwrap(), None))
        .unwrap();
    let sign = authorities
        .sign
        .issuing()
        .issue(&request(&KeyPair::generate().unwrap(), Some(facts())))
        .unwrap();
    write(d, "auth.pem", &pem(&auth.der));
    write(d, "sign.pem", &pem(&sign.der));

    // The responder's certificate: OCSP signing only, no-check, issued by the
    // issuing CA (so it chains to the root).
    let (_, text) = openssl(d, &["x509", "-in", "sign-ocsp.pem", "-noout", "-text"]);
    assert!(
        text.contains("OCSP Signing") && text.contains("OCSP No Check"),
        "{text}"
    );
    let (ok, text) = openssl(
        d,
        &[
            "verify",
            "-CAfile",
            "sign-root.pem",
            "-untrusted",
            "sign-ca.pem",
            "-purpose",
            "ocsphelper",
            "sign-ocsp.pem",
        ],
    );
    assert!(ok, "{text}");

    let request_der = ocsp_request(d, &[("sign-ca.pem", "sign.pem")], "req.der");
    let query = OcspQuery::parse(&request_der, &authorities).unwrap();
    assert_eq!(
        query.subject(),
        Some(&(CaKind::Signature, sign.serial.clone()))
    );
    let now = Utc::now();
    for (state, expected) in [
        (CertState::Good, "sign.pem: good"),
        (
            CertState::Revoked {
                at: now - Duration::seconds(5),
                reason: Some(RevocationReason::FactsChanged),
            },
            "Reason: affiliationChanged",
        ),
        // A revocation without a known reason is still a revocation.
        (
            CertState::Revoked {
                at: now - Duration::seconds(5),
                reason: None,
            },
            "Reason: unspecified",
        ),
    ] {
        let response = query
            .respond(&authorities.sign, &state, now, now + Duration::hours(1))
            .unwrap();
        write(d, "resp.der", &response);
        // Trusting only the root: the response carries the responder's and the
        // issuing CA's certificates.
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
                "sign-root.pem",
                "-cert",
                "sign.pem",
                "-resp_text",
            ],
        );
        assert!(ok, "{text}");
        assert!(
            text.contains("Response verify OK") && text.contains(expected),
            "{text}"
        );
        assert!(
            text.contains(
                "Responder Id: C = JP, O = maina, CN = maina Digital Signature OCSP Responder"
            ),
            "{text}"
        );
    }

    // A request about both hierarchies' certificates at once is refused (RFC
    // 5019: one certificate a request), as is one about two certificates.
    let mixed = ocsp_request(
        d,
        &[("auth-ca.pem", "auth.pem"), ("sign-ca.pem", "sign.pem")],
        "mixed.der",
    );
    assert!(OcspQuery::parse(&mixed, &authorities).is_err());
    assert!(OcspQuery::parse(b"not ocsp", &authorities).is_err());
    // A certificate of another issuer is not ours.
    let other = tempfile::tempdir().unwrap();
    let others = hierarchies(other.path());
    let foreign = OcspQuery::parse(&request_der, &others).unwrap();
    assert_eq!(foreign.subject(), None);
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
