//! The signature-verification service for relying parties (issue 15) over HTTP: a
//! CMS signature checked with its content or the content's SHA-256; tampered
//! content; a certificate from another CA; a certificate revoked because the
//! address changed, with and without the permission to follow the signer to the
//! newest signature certificate (named by the pairwise identifier of a sign-in);
//! an unknown or disabled verifier; malformed input refused with the reason (4xx,
//! never 5xx).

use super::Kit;
use base64::Engine as _;
use chrono::{Duration, Utc};
use maina_core::officer::Actor;
use maina_pki::{
    sha256, sign_detached, CaKind, CertificateRequest, HolderFacts, KeyPair, Serial, SignRequest,
};
use maina_service::signatures::NewVerifier;
use reqwest::StatusCode;
use serde_json::{json, Value};

const DOCUMENT: &[u8] = "a tax return, 令和8年分\n".as_bytes();

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A signature certificate from `issuing` for a fresh key: (key, DER, serial).
fn certificate(issuing: &maina_pki::Authority, address: &str) -> (KeyPair, Vec<u8>, String) {
    let key = KeyPair::generate().unwrap();
    let serial = Serial::random().unwrap();
    let now = Utc::now();
    let issued = issuing
        .issue(&CertificateRequest {
            serial: serial.clone(),
            public_key_der: key.public_key_der().unwrap(),
            subject_cn: "card signature".into(),
            not_before: now - Duration::minutes(5),
            not_after: now + Duration::days(365 * 5),
            facts: Some(HolderFacts {
                name: "山田 太郎".into(),
                address: address.into(),
                birth_date: "19900401".into(),
                sex: "1".into(),
            }),
            ocsp_url: None,
            crl_url: None,
        })
        .unwrap();
    (key, issued.der, serial.to_hex())
}

fn cms(key: &KeyPair, certificate: &[u8], content: &[u8]) -> Vec<u8> {
    sign_detached(
        &SignRequest {
            content_digest: sha256(content),
            signer_certificate: certificate,
            chain: &[],
            signing_time: Some(Utc::now()),
        },
        &mut key.clone(),
    )
    .unwrap()
}

/// A one-page PDF written by hand (a classic cross-reference table).
fn small_pdf() -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ];
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(b"xref\n0 4\n0000000000 65535 f \n");
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    out
}

async fn verifier(kit: &Kit, name: &str, follow: bool) -> (String, String) {
    let created = kit
        .state
        .service()
        .add_signature_verifier(
            &Actor::administrator("setup", "test"),
            &NewVerifier {
                name: name.into(),
                sector: Some("bank.example".into()),
                follow,
            },
        )
        .await
        .unwrap();
    (created.client_id, created.client_secret)
}

async fn verify(kit: &Kit, credentials: (&str, &str), body: Value) -> (StatusCode, Value) {
    let response = kit
        .client
        .post(format!("{}/api/v1/signatures/verify", kit.base))
        .basic_auth(credentials.0, Some(credentials.1))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn relying_parties_verify_signatures_and_follow_a_signer_across_an_address_change() {
    let kit = Kit::start_with_pki().await;
    let service = kit.state.service();
    let authorities = service.authorities.clone().unwrap();
    let setup = Actor::administrator("setup", "test");
    let registrar = kit.login("registrar").await;
    let code = kit.register_yamada(&registrar).await;
    let resident = kit
        .store
        .resident_by_code(&code.parse().unwrap())
        .await
        .unwrap();
    let issuing = authorities.get(CaKind::Signature).issuing();
    let (key, der, serial) = certificate(issuing, "東京都千代田区千代田1-1");
    let record = |serial: &str, der: &[u8]| maina_store::NewCertificate {
        serial: serial.into(),
        ca: "sign".into(),
        not_before: (Utc::now() - Duration::minutes(5)).timestamp(),
        not_after: (Utc::now() + Duration::days(365 * 5)).timestamp(),
        der: der.to_vec(),
    };
    kit.store
        .put_card(
            "00000000000000E1",
            Some(resident.resident_key),
            b"chip",
            &[record(&serial, &der)],
            &setup,
        )
        .await
        .unwrap();
    let (bank, bank_secret) = verifier(&kit, "a bank", true).await;
    let (shop, shop_secret) = verifier(&kit, "a shop", false).await;
    let signature = cms(&key, &der, DOCUMENT);

    // Valid, with the content or with its SHA-256.
    for body in [
        json!({"signature": b64(&signature), "content": b64(DOCUMENT)}),
        json!({"signature": b64(&signature), "content_sha256": hex::encode(sha256(DOCUMENT))}),
    ] {
        let (status, answer) = verify(&kit, (&bank, &bank_secret), body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["valid"], json!(true), "{answer}");
        assert_eq!(answer["good_now"], json!(true));
        assert_eq!(answer["good_at_signing_time"], json!(true));
        assert_eq!(answer["status"], json!("good"));
        assert_eq!(answer["serial"], json!(serial));
        assert_eq!(answer["signer"]["name"], json!("山田 太郎"));
        assert_eq!(answer["signer"]["birthdate"], json!("1990-04-01"));
        assert_eq!(answer["signer"]["gender"], json!("male"));
        assert_eq!(answer["successor"], Value::Null);
    }

    // A signed PDF alone; bytes appended after signing make it not valid.
    let signed =
        maina_pki::sign_pdf(&small_pdf(), &der, &[], Utc::now(), &mut key.clone()).unwrap();
    let (status, answer) = verify(&kit, (&bank, &bank_secret), json!({"pdf": b64(&signed)})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["valid"], json!(true), "{answer}");
    assert_eq!(answer["signing_time"], Value::Null);
    assert_eq!(answer["good_at_signing_time"], Value::Null);
    assert_eq!(answer["good_now"], json!(true));
    let mut appended = signed.clone();
    appended.extend_from_slice(b"\n% changed\n");
    let (status, answer) =
        verify(&kit, (&bank, &bank_secret), json!({"pdf": b64(&appended)})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer["problem"],
        json!("changed-after-signing"),
        "{answer}"
    );

    // Tampered content: an answer, not valid, and why.
    let (status, answer) = verify(
        &kit,
        (&bank, &bank_secret),
        json!({"signature": b64(&signature), "content": b64(b"a tax return, edited\n")}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["valid"], json!(false));
    assert_eq!(answer["problem"], json!("digest-mismatch"));
    assert_eq!(answer["signer"], Value::Null);

    // A certificate of another CA (a look-alike hierarchy).
    let elsewhere = tempfile::tempdir().unwrap();
    let other = maina_pki::Authorities::create(
        &elsewhere.path().join("root"),
        &elsewhere.path().join("pki"),
        Utc::now(),
    )
    .unwrap();
    let (other_key, other_der, _) = certificate(
        other.get(CaKind::Signature).issuing(),
        "東京都千代田区千代田1-1",
    );
    let (status, answer) = verify(
        &kit,
        (&bank, &bank_secret),
        json!({"signature": b64(&cms(&other_key, &other_der, DOCUMENT)), "content": b64(DOCUMENT)}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["valid"], json!(false));
    assert_eq!(answer["problem"], json!("unknown-issuer"));

    // The address changes: the signature certificate is revoked (facts-changed), and
    // a new one is issued on a new card.
    let (status, body) = kit
        .call(
            "POST",
            &format!("/api/v1/residents/{code}/address"),
            Some(&registrar),
            Some(json!({"address": "東京都千代田区丸の内2-2"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, new_der, new_serial) = certificate(issuing, "東京都千代田区丸の内2-2");
    kit.store
        .put_card(
            "00000000000000E2",
            Some(resident.resident_key),
            b"chip",
            &[record(&new_serial, &new_der)],
            &setup,
        )
        .await
        .unwrap();
    let request = json!({"signature": b64(&signature), "content": b64(DOCUMENT)});
    let (status, answer) = verify(&kit, (&bank, &bank_secret), request.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["valid"], json!(true), "{answer}");
    assert_eq!(answer["good_at_signing_time"], json!(true));
    assert_eq!(answer["good_now"], json!(false));
    assert_eq!(answer["status"], json!("revoked"));
    assert_eq!(answer["revocation_reason"], json!("facts-changed"));
    assert_eq!(answer["name_or_address_changed"], json!(true));
    let successor = &answer["successor"];
    assert_eq!(successor["serial"], json!(new_serial), "{answer}");
    assert_eq!(
        successor["sub"],
        json!(kit
            .store
            .pairwise_sub("bank.example", resident.resident_key))
    );
    assert_eq!(successor["certificate"], json!(b64(&new_der)));
    // A party without the permission learns the change, not the new certificate.
    let (status, answer) = verify(&kit, (&shop, &shop_secret), request.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["name_or_address_changed"], json!(true));
    assert_eq!(answer["successor"], Value::Null);

    // Unknown party, wrong secret, disabled party.
    let (status, _) = verify(&kit, ("sv-unknown", "secret"), request.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = verify(&kit, (&bank, "not the secret"), request.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let response = kit
        .client
        .post(format!("{}/api/v1/signatures/verify", kit.base))
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    service
        .disable_signature_verifier(&setup, &shop)
        .await
        .unwrap();
    let (status, _) = verify(&kit, (&shop, &shop_secret), request.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let listed = service.signature_verifiers(&setup).await.unwrap();
    assert!(listed.iter().any(|v| v.client_id == shop && v.disabled));
    assert!(service
        .signature_verifiers(&Actor {
            role: maina_core::officer::Role::Registrar,
            ..setup.clone()
        })
        .await
        .is_err());
}

#[tokio::test]
async fn malformed_signatures_and_content_are_refused_with_the_reason() {
    let kit = Kit::start_with_pki().await;
    let (id, secret) = verifier(&kit, "a bank", false).await;
    let authorities = kit.state.service().authorities.clone().unwrap();
    let (key, der, _) = certificate(
        authorities.get(CaKind::Signature).issuing(),
        "東京都千代田区千代田1-1",
    );
    let good = b64(&cms(&key, &der, DOCUMENT));
    let mut truncated = cms(&key, &der, DOCUMENT);
    truncated.truncate(truncated.len() / 2);
    for (body, field, says) in [
        (
            json!({"signature": "not base64 !", "content": b64(DOCUMENT)}),
            "signature",
            "not base64",
        ),
        (
            json!({"signature": b64(b"not DER"), "content": b64(DOCUMENT)}),
            "signature",
            "not a CMS signature",
        ),
        (
            json!({"signature": b64(&truncated), "content": b64(DOCUMENT)}),
            "signature",
            "not a CMS signature",
        ),
        (json!({"signature": good}), "content", "exactly one"),
        (
            json!({"signature": good, "content": b64(DOCUMENT), "content_sha256": hex::encode(sha256(DOCUMENT))}),
            "content",
            "exactly one",
        ),
        (
            json!({"signature": good, "content_sha256": "abcd"}),
            "content_sha256",
            "64 hexadecimal",
        ),
        (
            json!({"signature": good, "content": "%%%"}),
            "content",
            "not base64",
        ),
        (json!({"pdf": b64(b"not a PDF")}), "pdf", "pdf: PDF"),
        (
            json!({"pdf": b64(&small_pdf())}),
            "pdf",
            "carries no signature",
        ),
        (
            json!({"pdf": b64(&small_pdf()), "content": b64(DOCUMENT)}),
            "pdf",
            "give no content",
        ),
        (
            json!({"signature": good, "pdf": b64(&small_pdf())}),
            "signature",
            "exactly one of signature",
        ),
        (json!({}), "signature", "exactly one of signature"),
    ] {
        let (status, answer) = verify(&kit, (&id, &secret), body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(answer["field"], json!(field), "{answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(says),
            "{answer}"
        );
    }
    // A body that is not the request's shape.
    let (status, answer) = verify(&kit, (&id, &secret), json!({"signature": 5})).await;
    assert!(status.is_client_error(), "{status} {answer}");
}
