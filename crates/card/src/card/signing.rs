//! Signing with a key generated inside the card, once its PIN is verified.

use super::files::FileBody;
use super::pins::PinSlot;
use super::Card;
use crate::apdu::{Command, Response, StatusWord};

impl Card {
    pub(super) fn sign(&mut self, command: &Command<'_>) -> Response {
        if (command.p1, command.p2) != (0x00, 0x80) {
            return Response::status(StatusWord::WRONG_P1P2);
        }
        if command.data.is_empty() || command.data.len() > 245 {
            return Response::status(StatusWord::WRONG_LENGTH);
        }
        let Some(index) = self.session.file else {
            return Response::status(StatusWord::NO_CURRENT_EF);
        };
        let Some(FileBody::Key { pin, .. }) = self.content.files.get(index).map(|f| &f.body) else {
            return Response::status(StatusWord::INCOMPATIBLE_FILE);
        };
        let slot = *pin;
        if !self.session.verified.contains(&slot) {
            return Response::status(StatusWord::SECURITY_NOT_SATISFIED);
        }
        let Some((_, key)) = self.keys.iter().find(|(i, _)| *i == index) else {
            return Response::status(StatusWord::UNKNOWN_ERROR);
        };
        match key.sign_digest_info(command.data) {
            Ok(signature) => {
                if slot == PinSlot::Signature {
                    // The signature key needs a fresh VERIFY before each signature.
                    self.session.verified.retain(|s| *s != PinSlot::Signature);
                }
                Response::ok(signature)
            }
            Err(_) => Response::status(StatusWord::WRONG_DATA),
        }
    }
}
