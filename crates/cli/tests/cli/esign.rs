//! Electronic signatures made by the card's chip over PC/SC (issue 15): a CMS
//! detached signature that `openssl cms -verify` accepts and a PAdES signed PDF
//! that poppler's `pdfsig` reports valid, both checked by `maina verify` (called
//! from the PC/SC test, with the card attached through vpcd).

use super::{fails, maina, ok, run};
use std::path::Path;

/// A one-page PDF written by hand (a classic cross-reference table).
fn small_pdf() -> Vec<u8> {
    let content = "BT /F1 24 Tf 72 720 Td (A tax return) Tj ET";
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_string(),
        format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

pub fn card_signatures_verify_with_openssl_pdfsig_and_maina(data: &Path, work: &Path) {
    let file = |name: &str| work.join(name).to_string_lossy().into_owned();
    ok(maina(
        data,
        &[
            "pki",
            "root-cert",
            "--ca",
            "sign",
            "--out",
            &file("esign-root.pem"),
        ],
    ));

    // CMS: FILE.p7s by default.
    std::fs::write(file("return.txt"), "a tax return, 令和8年分\n").unwrap();
    let said = ok(maina(
        data,
        &["card", "sign", &file("return.txt"), "--pin", "abc123"],
    ));
    assert!(said.contains("return.txt.p7s"), "{said}");
    let openssl_verify = |content: &str| {
        run(
            "openssl",
            &[
                "cms",
                "-verify",
                "-binary",
                "-content",
                &file(content),
                "-inform",
                "DER",
                "-in",
                &file("return.txt.p7s"),
                "-CAfile",
                &file("esign-root.pem"),
                "-out",
                "/dev/null",
            ],
        )
    };
    let (ok_, text) = openssl_verify("return.txt");
    assert!(ok_ && text.contains("Verification successful"), "{text}");
    let verified = ok(maina(data, &["verify", &file("return.txt")]));
    assert!(
        verified.contains("signature valid (CMS)") && verified.contains("山田 太郎"),
        "{verified}"
    );
    std::fs::write(file("edited.txt"), "a tax return, 令和8年分, edited\n").unwrap();
    let (ok_, text) = openssl_verify("edited.txt");
    assert!(!ok_, "{text}");
    let refused = fails(maina(
        data,
        &[
            "verify",
            &file("edited.txt"),
            "--signature",
            &file("return.txt.p7s"),
        ],
    ));
    assert!(refused.contains("message digest differs"), "{refused}");

    // PAdES: FILE-signed.pdf, checked by pdfsig and maina.
    std::fs::write(file("return.pdf"), small_pdf()).unwrap();
    let said = ok(maina(
        data,
        &[
            "card",
            "sign",
            &file("return.pdf"),
            "--pdf",
            "--pin",
            "abc123",
        ],
    ));
    assert!(said.contains("return-signed.pdf"), "{said}");
    let (ok_, text) = run("pdfsig", &[&file("return-signed.pdf")]);
    assert!(ok_, "{text}");
    assert!(
        text.contains("Signature is Valid.") && text.contains("ETSI.CAdES.detached"),
        "{text}"
    );
    let verified = ok(maina(data, &["verify", &file("return-signed.pdf")]));
    assert!(
        verified.contains("PDF signature valid") && verified.contains("山田 太郎"),
        "{verified}"
    );
    let mut appended = std::fs::read(file("return-signed.pdf")).unwrap();
    appended.extend_from_slice(b"\n% changed after signing\n");
    std::fs::write(file("appended.pdf"), appended).unwrap();
    let refused = fails(maina(data, &["verify", &file("appended.pdf")]));
    assert!(refused.contains("changed after it was signed"), "{refused}");
}

#[test]
fn signature_verifiers_are_added_listed_and_disabled() {
    let dir = super::initialised();
    let data = dir.path();
    let added = ok(maina(
        data,
        &[
            "verifier",
            "add",
            "Example Bank",
            "--sector",
            "bank.example",
            "--follow",
        ],
    ));
    let client_id = super::field(&added, "client_id").trim().to_string();
    assert!(client_id.starts_with("sv-"), "{added}");
    assert!(
        super::field(&added, "client_secret").trim().len() >= 43,
        "{added}"
    );
    let listed = ok(maina(data, &["verifier", "list"]));
    assert!(
        listed.contains(&client_id)
            && listed.contains("Example Bank (follows)")
            && listed.contains("sector bank.example"),
        "{listed}"
    );
    assert!(fails(maina(data, &["verifier", "add", "  "])).contains("name"));
    ok(maina(data, &["verifier", "disable", &client_id]));
    assert!(ok(maina(data, &["verifier", "list"])).contains("(disabled)"));
    fails(maina(data, &["verifier", "disable", "sv-none"]));
}
