//! The one reader of the pages' multipart uploads (a photo and form fields).

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;

/// A form posted as multipart: the `photo` part's bytes and every other part as
/// text. Refused with 413 for a part over the body limit, 400 for a malformed
/// upload.
pub struct Upload {
    pub fields: HashMap<String, String>,
    pub photo: Vec<u8>,
}

impl Upload {
    /// A text field of the form; absent is empty.
    pub fn text(&self, name: &str) -> String {
        self.fields.get(name).cloned().unwrap_or_default()
    }

    /// A checkbox of the form: ticked when its value is `yes`.
    pub fn ticked(&self, name: &str) -> bool {
        self.fields.get(name).is_some_and(|v| v == "yes")
    }
}

impl<S: Send + Sync> FromRequest<S> for Upload {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let mut multipart = Multipart::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let mut upload = Upload {
            fields: HashMap::new(),
            photo: Vec::new(),
        };
        loop {
            match multipart.next_field().await {
                Ok(Some(field)) => {
                    let name = field.name().unwrap_or_default().to_owned();
                    match field.bytes().await {
                        Ok(bytes) if name == "photo" => upload.photo = bytes.to_vec(),
                        Ok(bytes) => {
                            let text = String::from_utf8_lossy(&bytes).into_owned();
                            upload.fields.insert(name, text);
                        }
                        Err(_) => {
                            let message = "the upload is too large (7 MB at most)";
                            return Err((StatusCode::PAYLOAD_TOO_LARGE, message).into_response());
                        }
                    }
                }
                Ok(None) => return Ok(upload),
                Err(_) => return Err((StatusCode::BAD_REQUEST, "malformed upload").into_response()),
            }
        }
    }
}
