//! maina's My Number card chip, as a value: the JPKI application (REFERENCE section 5),
//! the card-information-input-support application and a residence-information
//! application; files, keys generated inside the card, the four PINs with retry limits
//! and lockout, and the session state cleared on reset, power cycle and re-select.
//!
//! The issuer's commands ([`issuer`], *our design*) let the municipal counter reset
//! or unblock a PIN, rewrite the facts and renew the keys and certificates on the
//! same chip: each is encrypted and MACed under the card's own issuer key, bound to
//! the chip's fresh GET CHALLENGE, and answered with a receipt.
//!
//! The card itself knows nothing of how it is reached: [`vpcd`] carries its APDUs to
//! a PC/SC reader through vsmartcard's vpcd (`maina card attach`); tests call
//! [`Card::transmit`] directly.

pub mod apdu;
mod card;
pub mod issuer;
pub mod personalise;
pub mod tlv;
pub mod vpcd;

pub use apdu::{Command, Response, StatusWord};
pub use card::{
    jpki_ef, residence_ef, support_ef, Card, CardError, Certificates, InitialPins, Personalisation,
    PinSlot, PinState, PublicKeys, AID_JPKI, AID_RESIDENCE, AID_SUPPORT, ATR, JPKI_TOKEN,
};
