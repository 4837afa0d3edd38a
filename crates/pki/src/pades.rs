//! PAdES baseline B-B signatures (ETSI EN 319 142-1): an incremental update of the
//! PDF adds a signature field (an invisible widget on the first page, in the
//! catalog's AcroForm) and its signature dictionary (`/SubFilter
//! /ETSI.CAdES.detached`), whose `/Contents` holds a CMS detached signature over the
//! file's bytes except that hex string (`/ByteRange`). The CMS carries
//! signing-certificate-v2 and no signing-time: PAdES puts the time in `/M`.
//!
//! The PDF is read and the update written with `lopdf`; the byte range and the
//! signature are patched into the update's placeholders in place.

use crate::cms::{sign_detached, CmsSignature, DigestSigner, SignRequest};
use crate::key::sha256;
use crate::PkiError;
use chrono::{DateTime, Utc};
use lopdf::{Dictionary, Document, IncrementalDocument, Object, StringFormat};

/// The room kept for the CMS in `/Contents` (bytes; written as twice as many hex
/// digits): a signature with a three-certificate chain is about 5 KB.
const CONTENTS_BYTES: usize = 16 * 1024;
/// A placeholder byte-range number, as wide as any real offset needs.
const PLACEHOLDER: i64 = 9_999_999_999;

fn pdf_error(error: impl std::fmt::Display) -> PkiError {
    PkiError::Invalid(format!("PDF: {error}"))
}

/// Signs a PDF (PAdES B-B): returns the PDF with the signature appended as an
/// incremental update. `chain` holds the CA certificates to include.
pub fn sign_pdf(
    pdf: &[u8],
    signer_certificate: &[u8],
    chain: &[Vec<u8>],
    at: DateTime<Utc>,
    signer: &mut dyn DigestSigner,
) -> Result<Vec<u8>, PkiError> {
    let previous = Document::load_mem(pdf).map_err(pdf_error)?;
    if previous.trailer.get(b"Encrypt").is_ok() {
        return Err(pdf_error("an encrypted PDF cannot be signed here"));
    }
    let catalog_id = previous
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(pdf_error)?;
    let page_id = previous
        .get_pages()
        .values()
        .next()
        .copied()
        .ok_or_else(|| pdf_error("a PDF without pages"))?;
    let mut update = IncrementalDocument::create_from(pdf.to_vec(), previous);
    let document = &mut update.new_document;
    let when = at.format("D:%Y%m%d%H%M%SZ").to_string();
    let mut signature = Dictionary::new();
    signature.set("Type", Object::Name(b"Sig".to_vec()));
    signature.set("Filter", Object::Name(b"Adobe.PPKLite".to_vec()));
    signature.set("SubFilter", Object::Name(b"ETSI.CAdES.detached".to_vec()));
    signature.set(
        "ByteRange",
        Object::Array(vec![
            Object::Integer(0),
            Object::Integer(PLACEHOLDER),
            Object::Integer(PLACEHOLDER),
            Object::Integer(PLACEHOLDER),
        ]),
    );
    signature.set(
        "Contents",
        Object::String(vec![0u8; CONTENTS_BYTES], StringFormat::Hexadecimal),
    );
    signature.set(
        "M",
        Object::String(when.into_bytes(), StringFormat::Literal),
    );
    let signature_id = document.add_object(Object::Dictionary(signature));
    let mut field = Dictionary::new();
    field.set("Type", Object::Name(b"Annot".to_vec()));
    field.set("Subtype", Object::Name(b"Widget".to_vec()));
    field.set("FT", Object::Name(b"Sig".to_vec()));
    field.set(
        "T",
        Object::String(
            format!("Signature{}", signature_id.0).into_bytes(),
            StringFormat::Literal,
        ),
    );
    field.set("V", Object::Reference(signature_id));
    field.set("F", Object::Integer(132));
    field.set(
        "Rect",
        Object::Array(vec![0.into(), 0.into(), 0.into(), 0.into()]),
    );
    field.set("P", Object::Reference(page_id));
    let field_id = document.add_object(Object::Dictionary(field));

    update
        .opt_clone_object_to_new_document(page_id)
        .map_err(pdf_error)?;
    update
        .opt_clone_object_to_new_document(catalog_id)
        .map_err(pdf_error)?;
    let previous = update.get_prev_documents().clone();
    let document = &mut update.new_document;
    let page = document
        .get_object_mut(page_id)
        .and_then(Object::as_dict_mut)
        .map_err(pdf_error)?;
    let mut annotations = match page.get(b"Annots") {
        Ok(Object::Array(items)) => items.clone(),
        Ok(Object::Reference(id)) => previous
            .get_object(*id)
            .and_then(Object::as_array)
            .map_err(pdf_error)?
            .clone(),
        _ => Vec::new(),
    };
    annotations.push(Object::Reference(field_id));
    page.set("Annots", Object::Array(annotations));
    let catalog = document
        .get_object_mut(catalog_id)
        .and_then(Object::as_dict_mut)
        .map_err(pdf_error)?;
    let mut form = match catalog.get(b"AcroForm") {
        Ok(Object::Dictionary(form)) => form.clone(),
        Ok(Object::Reference(id)) => previous
            .get_object(*id)
            .and_then(Object::as_dict)
            .map_err(pdf_error)?
            .clone(),
        _ => Dictionary::new(),
    };
    let mut fields = match form.get(b"Fields") {
        Ok(Object::Array(items)) => items.clone(),
        _ => Vec::new(),
    };
    fields.push(Object::Reference(field_id));
    form.set("Fields", Object::Array(fields));
    form.set("SigFlags", Object::Integer(3));
    catalog.set("AcroForm", Object::Dictionary(form));

    let mut out = Vec::with_capacity(pdf.len() + 2 * CONTENTS_BYTES + 4096);
    update.save_to(&mut out).map_err(pdf_error)?;
    // The placeholders are in the update (after the original bytes).
    let (contents_start, contents_end) = find_contents(&out, pdf.len())?;
    let range = [
        0,
        contents_start,
        contents_end,
        out.len().saturating_sub(contents_end),
    ];
    patch_byte_range(&mut out, pdf.len(), range)?;
    let digest = digest_of_ranges(&out, range)?;
    let cms = sign_detached(
        &SignRequest {
            content_digest: digest,
            signer_certificate,
            chain,
            signing_time: None,
        },
        signer,
    )?;
    let hex_room = (contents_end - contents_start).saturating_sub(2);
    let encoded = hex::encode_upper(&cms);
    if encoded.len() > hex_room {
        return Err(pdf_error("the signature does not fit the room kept for it"));
    }
    let hex_start = contents_start + 1;
    out.get_mut(hex_start..hex_start + encoded.len())
        .ok_or_else(|| pdf_error("the signature's place is out of the file"))?
        .copy_from_slice(encoded.as_bytes());
    Ok(out)
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|at| at + from)
}

/// The `/Contents <00…00>` placeholder's hex string, angle brackets included.
fn find_contents(out: &[u8], from: usize) -> Result<(usize, usize), PkiError> {
    let zeros = vec![b'0'; 2 * CONTENTS_BYTES];
    let mut needle = vec![b'<'];
    needle.extend_from_slice(&zeros);
    needle.push(b'>');
    let start = find(out, &needle, from)
        .ok_or_else(|| pdf_error("the signature placeholder was not written"))?;
    Ok((start, start + needle.len()))
}

fn patch_byte_range(out: &mut [u8], from: usize, range: [usize; 4]) -> Result<(), PkiError> {
    let placeholder = format!("[0 {PLACEHOLDER} {PLACEHOLDER} {PLACEHOLDER}]");
    let start = find(out, placeholder.as_bytes(), from)
        .ok_or_else(|| pdf_error("the byte-range placeholder was not written"))?;
    let text = format!("[{} {} {} {}]", range[0], range[1], range[2], range[3]);
    let padded = format!("{text:<width$}", width = placeholder.len());
    if padded.len() != placeholder.len() {
        return Err(pdf_error("the byte range does not fit its placeholder"));
    }
    out.get_mut(start..start + padded.len())
        .ok_or_else(|| pdf_error("the byte range's place is out of the file"))?
        .copy_from_slice(padded.as_bytes());
    Ok(())
}

fn digest_of_ranges(pdf: &[u8], range: [usize; 4]) -> Result<[u8; 32], PkiError> {
    let [a, b, c, d] = range;
    let first = pdf
        .get(a..a.saturating_add(b))
        .ok_or_else(|| pdf_error("the byte range is outside the file"))?;
    let second = pdf
        .get(c..c.saturating_add(d))
        .ok_or_else(|| pdf_error("the byte range is outside the file"))?;
    let mut signed = Vec::with_capacity(first.len() + second.len());
    signed.extend_from_slice(first);
    signed.extend_from_slice(second);
    Ok(sha256(&signed))
}

/// A signature found in a PDF, with the digest of the bytes its range covers.
#[derive(Debug, Clone)]
pub struct PdfSignature {
    pub cms: CmsSignature,
    pub sub_filter: String,
    pub byte_range: [usize; 4],
    /// SHA-256 of the bytes the range covers.
    pub covered_digest: [u8; 32],
    /// Whether the range covers the whole file but the signature (nothing was
    /// appended after signing).
    pub covers_whole_file: bool,
}

/// The signatures of a signed PDF, in file order. A PDF that does not parse, a
/// signature dictionary without a proper byte range or contents, or a CMS that
/// does not parse is refused with the reason.
pub fn pdf_signatures(pdf: &[u8]) -> Result<Vec<PdfSignature>, PkiError> {
    let document = Document::load_mem(pdf).map_err(pdf_error)?;
    let mut found = Vec::new();
    for object in document.objects.values() {
        let Ok(dictionary) = object.as_dict() else {
            continue;
        };
        let is_signature = dictionary
            .get(b"Type")
            .and_then(Object::as_name)
            .is_ok_and(|name| name == b"Sig")
            && dictionary.get(b"ByteRange").is_ok();
        if !is_signature {
            continue;
        }
        let numbers = dictionary
            .get(b"ByteRange")
            .and_then(Object::as_array)
            .map_err(pdf_error)?
            .iter()
            .map(|n| n.as_i64().ok().and_then(|n| usize::try_from(n).ok()))
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| pdf_error("a /ByteRange of negative or non-integer numbers"))?;
        let byte_range: [usize; 4] = numbers
            .try_into()
            .map_err(|_| pdf_error("a /ByteRange without exactly four numbers"))?;
        let contents = match dictionary.get(b"Contents") {
            Ok(Object::String(bytes, _)) => bytes.clone(),
            _ => return Err(pdf_error("a signature without /Contents")),
        };
        // Trailing zeros pad the room kept; DER says where the CMS ends.
        let cms_len = der_length(&contents).ok_or_else(|| pdf_error("/Contents is not DER"))?;
        let cms = CmsSignature::parse(contents.get(..cms_len).unwrap_or(&contents))
            .map_err(|e| pdf_error(e.to_string()))?;
        let sub_filter = dictionary
            .get(b"SubFilter")
            .and_then(Object::as_name)
            .map(|name| String::from_utf8_lossy(name).into_owned())
            .unwrap_or_default();
        let [a, b, c, d] = byte_range;
        let covered_digest = digest_of_ranges(pdf, byte_range)?;
        // The gap must be exactly the hex string of /Contents.
        let gap_is_contents = pdf.get(a.saturating_add(b)) == Some(&b'<')
            && c.checked_sub(1).and_then(|end| pdf.get(end)) == Some(&b'>');
        found.push(PdfSignature {
            cms,
            sub_filter,
            byte_range,
            covered_digest,
            covers_whole_file: a == 0 && gap_is_contents && c.saturating_add(d) == pdf.len(),
        });
    }
    found.sort_by_key(|signature| signature.byte_range[2]);
    Ok(found)
}

/// The total length of the DER element at the start of `bytes`.
fn der_length(bytes: &[u8]) -> Option<usize> {
    use der::Encode as _;
    let mut reader = der::SliceReader::new(bytes).ok()?;
    let header = <der::Header as der::Decode>::decode(&mut reader).ok()?;
    let header_len = usize::try_from(u32::from(header.encoded_len().ok()?)).ok()?;
    let body = usize::try_from(u32::from(header.length)).ok()?;
    let total = header_len.checked_add(body)?;
    (total <= bytes.len()).then_some(total)
}
