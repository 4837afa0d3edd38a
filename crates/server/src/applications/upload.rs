//! The one reader of the pages' multipart uploads (a photo and form fields).

use axum::extract::Multipart;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;

/// Reads a multipart upload: the `photo` part's bytes and every other part as
/// text. Errors are the answers to send (413 for a part over the body limit, 400
/// for a malformed upload).
pub async fn read_upload(
    mut multipart: Multipart,
) -> Result<(HashMap<String, String>, Vec<u8>), Response> {
    let mut fields = HashMap::new();
    let mut photo = Vec::new();
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                match field.bytes().await {
                    Ok(bytes) if name == "photo" => photo = bytes.to_vec(),
                    Ok(bytes) => {
                        fields.insert(name, String::from_utf8_lossy(&bytes).into_owned());
                    }
                    Err(_) => {
                        return Err((
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "the upload is too large (7 MB at most)",
                        )
                            .into_response())
                    }
                }
            }
            Ok(None) => return Ok((fields, photo)),
            Err(_) => return Err((StatusCode::BAD_REQUEST, "malformed upload").into_response()),
        }
    }
}

/// A checkbox of the form: ticked when its value is `yes`.
pub fn ticked(fields: &HashMap<String, String>, name: &str) -> bool {
    fields.get(name).is_some_and(|v| v == "yes")
}

/// A text field of the form; absent is empty.
pub fn text(fields: &HashMap<String, String>, name: &str) -> String {
    fields.get(name).cloned().unwrap_or_default()
}
