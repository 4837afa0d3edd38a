//! The signature-verification service for relying parties (署名検証者, issue 15):
//! one JSON endpoint for registered verifiers, authenticated with HTTP Basic
//! (client id and secret); the use case is `Service::verify_signature`.

pub mod api;

/// The largest body the endpoint takes: the content inline (up to 8 MiB, base64)
/// and the signature.
pub const BODY_LIMIT: usize = 12 * 1024 * 1024;
