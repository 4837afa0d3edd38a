//! Electronic signatures (issue 15): CMS detached signatures that `openssl cms
//! -verify` accepts, PAdES signed PDFs that poppler's `pdfsig` reports valid, and a
//! CMS parser that refuses anything else with a reason and never panics.

use super::*;
use lopdf::{dictionary, Document, Object, Stream};
use proptest::prelude::*;

/// A signature certificate with its key, and the hierarchies' files for openssl.
fn signer(dir: &Path) -> (Authorities, KeyPair, Vec<u8>) {
    let authorities = hierarchies(dir);
    write_chain(dir, &authorities);
    let key = KeyPair::generate().unwrap();
    let issued = authorities
        .get(CaKind::Signature)
        .issuing()
        .issue(&request(&key, Some(facts())))
        .unwrap();
    (authorities, key, issued.der)
}

fn chain(authorities: &Authorities) -> Vec<Vec<u8>> {
    let hierarchy = authorities.get(CaKind::Signature);
    vec![
        hierarchy.issuing().certificate_der().to_vec(),
        hierarchy.root_certificate_der().to_vec(),
    ]
}

/// A one-page PDF, as any producer writes it (an xref table, no signature).
pub fn small_pdf() -> Vec<u8> {
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let content = Stream::new(
        dictionary! {},
        b"BT /F1 24 Tf 72 720 Td (A tax return) Tj ET".to_vec(),
    );
    let content_id = doc.add_object(content);
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "Contents" => content_id,
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => font_id } },
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

#[test]
fn a_cms_signature_verifies_with_openssl_and_refuses_other_content() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (authorities, key, certificate) = signer(d);
    let content = "a tax return\n令和8年分\n".as_bytes();
    // The signer as a closure (as the card over PC/SC is one).
    let mut card = |info: &[u8]| key.sign_digest_info(info);
    let cms = sign_detached(
        &SignRequest {
            content_digest: sha256(content),
            signer_certificate: &certificate,
            chain: &chain(&authorities),
            signing_time: Some(Utc::now()),
        },
        &mut card,
    )
    .unwrap();
    write(d, "doc.txt", content);
    write(d, "doc.txt.p7s", &cms);
    let verify = |content: &str| {
        openssl(
            d,
            &[
                "cms",
                "-verify",
                "-binary",
                "-content",
                content,
                "-inform",
                "DER",
                "-in",
                "doc.txt.p7s",
                "-CAfile",
                "sign-root.pem",
                "-out",
                "/dev/null",
            ],
        )
    };
    let (ok, text) = verify("doc.txt");
    assert!(ok && text.contains("Verification successful"), "{text}");
    // openssl sees the CAdES attributes.
    let (_, printed) = openssl(
        d,
        &[
            "cms",
            "-cmsout",
            "-print",
            "-inform",
            "DER",
            "-in",
            "doc.txt.p7s",
        ],
    );
    for attribute in [
        "contentType",
        "messageDigest",
        "signingTime",
        "id-smime-aa-signingCertificateV2",
    ] {
        assert!(printed.contains(attribute), "{attribute}: {printed}");
    }
    write(d, "edited.txt", b"a tax return, edited\n");
    let (ok, text) = verify("edited.txt");
    assert!(!ok, "{text}");

    // maina parses its own signature back and checks it.
    let parsed = CmsSignature::parse(&cms).unwrap();
    assert_eq!(parsed.signer_certificate, certificate);
    assert!(parsed.signing_certificate_v2 && parsed.signing_time.is_some());
    assert_eq!(parsed.certificate_count, 3);
    parsed.check(&sha256(content)).unwrap();
    assert_eq!(
        parsed.check(&sha256(b"a tax return, edited\n")),
        Err(CmsError::DigestMismatch)
    );
    // A software key that is not the certificate's: the signature is refused.
    let other = KeyPair::generate().unwrap();
    let forged = sign_detached(
        &SignRequest {
            content_digest: sha256(content),
            signer_certificate: &certificate,
            chain: &[],
            signing_time: None,
        },
        &mut other.clone(),
    )
    .unwrap();
    assert_eq!(
        CmsSignature::parse(&forged)
            .unwrap()
            .check(&sha256(content)),
        Err(CmsError::BadSignature)
    );
}

#[test]
fn openssl_made_cms_signatures_parse_and_check() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (_authorities, key, certificate) = signer(d);
    write(d, "doc.txt", b"signed by openssl\n");
    write(d, "signer.pem", &pem(&certificate));
    write(d, "signer.key", &key.to_pem().unwrap());
    let (ok, text) = openssl(
        d,
        &[
            "cms",
            "-sign",
            "-binary",
            "-cades",
            "-md",
            "sha256",
            "-in",
            "doc.txt",
            "-signer",
            "signer.pem",
            "-inkey",
            "signer.key",
            "-outform",
            "DER",
            "-out",
            "doc.p7s",
        ],
    );
    assert!(ok, "{text}");
    let cms = std::fs::read(d.join("doc.p7s")).unwrap();
    let parsed = CmsSignature::parse(&cms).unwrap();
    assert!(parsed.signing_certificate_v2);
    parsed.check(&sha256(b"signed by openssl\n")).unwrap();
    // An attached (not detached) signature is refused with the reason.
    let (ok, text) = openssl(
        d,
        &[
            "cms",
            "-sign",
            "-nodetach",
            "-binary",
            "-in",
            "doc.txt",
            "-signer",
            "signer.pem",
            "-inkey",
            "signer.key",
            "-outform",
            "DER",
            "-out",
            "attached.p7s",
        ],
    );
    assert!(ok, "{text}");
    let attached = std::fs::read(d.join("attached.p7s")).unwrap();
    assert_eq!(
        CmsSignature::parse(&attached).unwrap_err(),
        CmsError::NotDetached
    );
}

#[test]
fn a_pades_signed_pdf_is_valid_in_pdfsig_and_an_appended_change_is_seen() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (authorities, mut key, certificate) = signer(d);
    let pdf = small_pdf();
    let signed = sign_pdf(
        &pdf,
        &certificate,
        &chain(&authorities),
        Utc::now(),
        &mut key,
    )
    .unwrap();
    assert!(
        signed.starts_with(&pdf),
        "an incremental update keeps the original bytes"
    );
    write(d, "signed.pdf", &signed);
    let out = Command::new("pdfsig")
        .arg("signed.pdf")
        .current_dir(d)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("Signature Validation: Signature is Valid."),
        "{text}"
    );
    assert!(text.contains("ETSI.CAdES.detached"), "{text}");
    assert!(text.contains("Total document signed"), "{text}");

    // The fuzzers' seeds (scripts/fuzz-cms.sh), when asked for.
    if let Ok(seeds) = std::env::var("MAINA_FUZZ_SEEDS") {
        let seeds = Path::new(&seeds);
        for (target, bytes) in [("pdf_signature", &signed), ("cms", &found_cms(&signed))] {
            std::fs::create_dir_all(seeds.join(target)).unwrap();
            std::fs::write(seeds.join(target).join("valid"), bytes).unwrap();
        }
    }
    let found = pdf_signatures(&signed).unwrap();
    assert_eq!(found.len(), 1);
    let signature = &found[0];
    assert!(signature.covers_whole_file);
    assert_eq!(signature.sub_filter, "ETSI.CAdES.detached");
    assert!(
        signature.cms.signing_time.is_none(),
        "PAdES has no signing-time"
    );
    assert!(signature.cms.signing_certificate_v2);
    signature.cms.check(&signature.covered_digest).unwrap();

    // Bytes appended after signing: the signature still covers its range, not the file.
    let mut appended = signed.clone();
    appended.extend_from_slice(b"\n% appended\n");
    assert!(!pdf_signatures(&appended).unwrap()[0].covers_whole_file);
    // A byte changed inside the range: the digest no longer matches.
    let mut tampered = signed.clone();
    let at = tampered
        .windows(12)
        .position(|w| w == b"A tax return")
        .unwrap();
    tampered[at] = b'B';
    let found = pdf_signatures(&tampered).unwrap();
    assert_eq!(
        found[0].cms.check(&found[0].covered_digest),
        Err(CmsError::DigestMismatch)
    );
    write(d, "tampered.pdf", &tampered);
    let out = Command::new("pdfsig")
        .arg("tampered.pdf")
        .current_dir(d)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("Signature is Valid."), "{text}");
}

/// The CMS inside a signed PDF (DER, as `/Contents` holds it, without the padding).
fn found_cms(pdf: &[u8]) -> Vec<u8> {
    let at = pdf.windows(9).rposition(|w| w == b"/Contents").unwrap();
    let start = at + pdf[at..].iter().position(|b| *b == b'<').unwrap() + 1;
    let end = start + pdf[start..].iter().position(|b| *b == b'>').unwrap();
    let bytes = hex::decode(&pdf[start..end]).unwrap();
    let len = 4 + usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
    bytes[..len].to_vec()
}

#[test]
fn malformed_cms_is_refused_with_a_reason() {
    assert!(matches!(
        CmsSignature::parse(b"not DER"),
        Err(CmsError::Malformed(_))
    ));
    assert_eq!(
        CmsSignature::parse(&vec![0u8; 300 * 1024]).unwrap_err(),
        CmsError::TooLarge
    );
    // A ContentInfo of another type.
    let data = [
        0x30, 0x0f, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01, 0xa0, 0x02,
        0x04, 0x00,
    ];
    assert_eq!(
        CmsSignature::parse(&data).unwrap_err(),
        CmsError::NotSignedData
    );
}

fn a_valid_signature() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let (authorities, mut key, certificate) = signer(dir.path());
    sign_detached(
        &SignRequest {
            content_digest: sha256(b"x"),
            signer_certificate: &certificate,
            chain: &chain(&authorities),
            signing_time: Some(Utc::now()),
        },
        &mut key,
    )
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn the_cms_parser_never_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = CmsSignature::parse(&bytes);
    }

    #[test]
    fn a_changed_byte_of_a_signature_is_refused_or_still_checks(
        at in 0usize..4096, value in any::<u8>()
    ) {
        static VALID: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        let valid = VALID.get_or_init(a_valid_signature);
        let mut bytes = valid.clone();
        let at = at % bytes.len();
        prop_assume!(bytes[at] != value);
        bytes[at] = value;
        if let Ok(parsed) = CmsSignature::parse(&bytes) {
            // Parsed despite the change (e.g. inside a certificate it does not
            // read): the signature check or the digest must still be sound.
            let _ = parsed.check(&sha256(b"x"));
        }
    }
}
