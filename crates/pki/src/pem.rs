//! PEM text (RFC 7468): a DER value in base64 between `-----BEGIN LABEL-----` and
//! `-----END LABEL-----` lines. The detached signatures of `maina card sign` carry a
//! signature block and a certificate block this way, so a person can read the file
//! and `openssl` can take the certificate out of it.

use base64::Engine as _;

/// Why a PEM block could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PemError {
    #[error("no {label} block")]
    Missing { label: String },
    #[error("the {label} block is not valid base64: {source}")]
    Base64 {
        label: String,
        source: base64::DecodeError,
    },
}

/// Base64 lines are 64 characters wide, as RFC 7468 asks of generators.
const LINE_WIDTH: usize = 64;

/// `der` as a PEM block labelled `label`, ending with a newline.
pub fn encode(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    // Base64 text is ASCII, so every chunk is valid UTF-8.
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(LINE_WIDTH)
        .filter_map(|chunk| std::str::from_utf8(chunk).ok())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// The DER value of the first block labelled `label` in `text` (other blocks and
/// text around them are skipped).
pub fn decode(text: &str, label: &str) -> Result<Vec<u8>, PemError> {
    let missing = || PemError::Missing {
        label: label.to_owned(),
    };
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin).ok_or_else(missing)? + begin.len();
    let rest = text.get(start..).ok_or_else(missing)?;
    let body: String = rest
        .get(..rest.find(&end).ok_or_else(missing)?)
        .ok_or_else(missing)?
        .split_whitespace()
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|source| PemError::Base64 {
            label: label.to_owned(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_round_trips_and_its_lines_are_64_wide() {
        let der: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let text = encode("CERTIFICATE", &der);
        assert!(text.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(text.ends_with("-----END CERTIFICATE-----\n"));
        assert!(text.lines().all(|line| line.len() <= 64));
        assert_eq!(decode(&text, "CERTIFICATE").unwrap(), der);
    }

    #[test]
    fn the_block_asked_for_is_found_among_others() {
        let text = format!(
            "{}{}",
            encode("MAINA SIGNATURE", b"signature"),
            encode("CERTIFICATE", b"certificate")
        );
        assert_eq!(decode(&text, "CERTIFICATE").unwrap(), b"certificate");
        assert_eq!(decode(&text, "MAINA SIGNATURE").unwrap(), b"signature");
    }

    #[test]
    fn a_missing_label_is_named() {
        let text = encode("CERTIFICATE", b"x");
        let error = decode(&text, "MAINA SIGNATURE").unwrap_err();
        assert!(matches!(error, PemError::Missing { .. }));
        assert_eq!(error.to_string(), "no MAINA SIGNATURE block");
    }

    /// Why `text` gives no CERTIFICATE block.
    fn certificate_refused(text: &str) -> PemError {
        decode(text, "CERTIFICATE").unwrap_err()
    }

    #[test]
    fn a_block_without_its_end_line_is_missing() {
        let text = "-----BEGIN CERTIFICATE-----\nAAAA\n";
        assert!(matches!(
            certificate_refused(text),
            PemError::Missing { .. }
        ));
    }

    #[test]
    fn bad_base64_is_refused() {
        let text = "-----BEGIN CERTIFICATE-----\n%%%not base64%%%\n-----END CERTIFICATE-----\n";
        assert!(matches!(certificate_refused(text), PemError::Base64 { .. }));
    }
}
