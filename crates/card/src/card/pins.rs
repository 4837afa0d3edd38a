//! The PINs: their slots and retry limits, the PIN files (compared in constant time),
//! VERIFY and CHANGE REFERENCE DATA (the office's reset of a forgotten PIN is the
//! issuer's RESET RETRY COUNTER, in `issuer.rs`).

use super::files::FileBody;
use super::Card;
use crate::apdu::{Command, Response, StatusWord};
use maina_core::card::{Pin, PinKind};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Which PIN file: the four PINs plus PIN-A.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PinSlot {
    Authentication,
    Signature,
    Residence,
    Support,
    /// The support application's PIN-A (the My Number; 12 digits).
    SupportA,
}

impl PinSlot {
    pub(super) fn pin_kind(self) -> Option<PinKind> {
        self.kind()
    }

    fn kind(self) -> Option<PinKind> {
        match self {
            Self::Authentication => Some(PinKind::Authentication),
            Self::Signature => Some(PinKind::Signature),
            Self::Residence => Some(PinKind::Residence),
            Self::Support => Some(PinKind::Support),
            Self::SupportA => None,
        }
    }

    fn max_tries(self) -> u8 {
        self.kind().map_or(3, PinKind::max_tries)
    }

    fn shape_ok(self, candidate: &[u8]) -> bool {
        match self.kind() {
            Some(kind) => kind.shape_ok(candidate),
            None => candidate.len() == 12 && candidate.iter().all(u8::is_ascii_digit),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::SupportA => "support-a",
            other => other.kind().map_or("", PinKind::code),
        }
    }
}

/// One PIN file: the reference value and the tries left. An empty value is a PIN not
/// yet set (a card fresh from the bureau): VERIFY answers 6984 and CHANGE REFERENCE
/// DATA sets it once without a VERIFY before.
#[derive(Clone, Serialize, Deserialize)]
pub(super) struct PinFile {
    slot: PinSlot,
    value: Zeroizing<Vec<u8>>,
    tries_left: u8,
}

impl PinFile {
    pub(super) fn new(slot: PinSlot, value: &[u8]) -> Self {
        Self {
            slot,
            value: Zeroizing::new(value.to_vec()),
            tries_left: slot.max_tries(),
        }
    }

    pub(super) fn slot(&self) -> PinSlot {
        self.slot
    }

    pub(super) fn is_set(&self) -> bool {
        !self.value.is_empty()
    }

    /// The same PIN with its counter back at the maximum (the issuer's unblock).
    pub(super) fn unblocked(&self) -> Self {
        Self {
            slot: self.slot,
            value: self.value.clone(),
            tries_left: self.slot.max_tries(),
        }
    }

    /// Constant-time comparison: the time taken tells nothing of how much matched.
    fn matches(&self, candidate: &[u8]) -> bool {
        bool::from(subtle::ConstantTimeEq::ct_eq(
            self.value.as_slice(),
            candidate,
        ))
    }
}

/// A PIN's state, for `maina card show`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinState {
    pub slot: PinSlot,
    pub tries_left: u8,
    pub max_tries: u8,
}

impl Card {
    /// The PINs' counters.
    pub fn pin_states(&self) -> Vec<PinState> {
        self.content
            .files
            .iter()
            .filter_map(|file| match &file.body {
                FileBody::Pin(pin) => Some(PinState {
                    slot: pin.slot,
                    tries_left: pin.tries_left,
                    max_tries: pin.slot.max_tries(),
                }),
                _ => None,
            })
            .collect()
    }

    /// Whether every one of the four PINs has been set (a card fresh from the bureau
    /// has none).
    pub fn pins_set(&self) -> bool {
        self.content.files.iter().all(|file| match &file.body {
            FileBody::Pin(pin) => !pin.value.is_empty(),
            _ => true,
        })
    }

    /// Whether this PIN has been set (`false` for a PIN file fresh from the bureau,
    /// and for a slot the card does not have).
    pub fn pin_set(&self, slot: PinSlot) -> bool {
        self.content.files.iter().any(|file| match &file.body {
            FileBody::Pin(pin) => pin.slot == slot && !pin.value.is_empty(),
            _ => false,
        })
    }

    /// The selected PIN file's index, for VERIFY and CHANGE REFERENCE DATA.
    pub(super) fn current_pin_file(&self) -> Option<usize> {
        let index = self.session.file?;
        matches!(self.content.files.get(index)?.body, FileBody::Pin(_)).then_some(index)
    }

    pub(super) fn verify(&mut self, command: &Command<'_>) -> Response {
        if (command.p1, command.p2) != (0x00, 0x80) {
            return Response::status(StatusWord::WRONG_P1P2);
        }
        if command.le.is_some() {
            return Response::status(StatusWord::WRONG_LENGTH);
        }
        let Some(index) = self.current_pin_file() else {
            return Response::status(StatusWord::NO_CURRENT_EF);
        };
        let Some(FileBody::Pin(pin)) = self.content.files.get_mut(index).map(|f| &mut f.body)
        else {
            return Response::status(StatusWord::NO_CURRENT_EF);
        };
        // No data: the number of tries left, always as 63Cx.
        if command.data.is_empty() {
            return Response::status(StatusWord::tries_left(pin.tries_left));
        }
        if pin.value.is_empty() {
            return Response::status(StatusWord::REFERENCE_DATA_NOT_USABLE);
        }
        if pin.tries_left == 0 {
            return Response::status(StatusWord::PIN_BLOCKED);
        }
        if !pin.slot.shape_ok(command.data) {
            // A PIN of the wrong shape is not compared and costs no try.
            return Response::status(StatusWord::WRONG_DATA);
        }
        let slot = pin.slot;
        if pin.matches(command.data) {
            if pin.tries_left != slot.max_tries() {
                pin.tries_left = slot.max_tries();
                self.dirty = true;
            }
            if !self.session.verified.contains(&slot) {
                self.session.verified.push(slot);
            }
            Response::status(StatusWord::OK)
        } else {
            pin.tries_left = pin.tries_left.saturating_sub(1);
            let left = pin.tries_left;
            self.dirty = true;
            self.session.verified.retain(|s| *s != slot);
            Response::status(StatusWord::tries_left(left))
        }
    }

    pub(super) fn change_reference_data(&mut self, command: &Command<'_>) -> Response {
        if (command.p1, command.p2) != (0x01, 0x80) {
            return Response::status(StatusWord::WRONG_P1P2);
        }
        if command.data.is_empty() || command.le.is_some() {
            return Response::status(StatusWord::WRONG_LENGTH);
        }
        let Some(index) = self.current_pin_file() else {
            return Response::status(StatusWord::NO_CURRENT_EF);
        };
        let verified = &self.session.verified;
        let Some(FileBody::Pin(pin)) = self.content.files.get_mut(index).map(|f| &mut f.body)
        else {
            return Response::status(StatusWord::NO_CURRENT_EF);
        };
        let Some(kind) = pin.slot.kind() else {
            // PIN-A is the My Number: it cannot be changed.
            return Response::status(StatusWord::INCOMPATIBLE_FILE);
        };
        // A PIN not yet set is set by its first CHANGE REFERENCE DATA; a set one only
        // after its own VERIFY.
        if !pin.value.is_empty() && !verified.contains(&pin.slot) {
            return Response::status(StatusWord::SECURITY_NOT_SATISFIED);
        }
        let Ok(text) = std::str::from_utf8(command.data) else {
            return Response::status(StatusWord::WRONG_DATA);
        };
        match Pin::new(kind, text) {
            Ok(new) if new.as_bytes() == command.data => {
                *pin = PinFile::new(pin.slot, new.as_bytes());
                self.dirty = true;
                Response::status(StatusWord::OK)
            }
            _ => Response::status(StatusWord::WRONG_DATA),
        }
    }
}
