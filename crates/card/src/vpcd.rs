//! The card's link to a PC/SC reader through vsmartcard's vpcd: pcscd's "Virtual PCD"
//! driver listens on TCP (port 35963 by default) and the card connects to it. Each
//! frame is a two-byte big-endian length and a payload; a one-byte payload is a
//! control message (0 power off, 1 power on, 2 reset, 4 "send the ATR"), anything
//! longer is a command APDU, answered with the response APDU.
//!
//! Blocking `std::net` I/O: the link carries one APDU at a time, so a thread is all it
//! needs, and the card crate stays free of an async runtime (the CLI runs [`attach`]
//! on a blocking thread).

use crate::{Card, CardError, ATR};
use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// vpcd's default address.
pub const DEFAULT_ADDRESS: &str = "127.0.0.1:35963";

/// How long to wait before connecting again while vpcd is not there.
const RETRY_AFTER: Duration = Duration::from_millis(500);

/// Why a vpcd connection ended.
#[derive(Debug, thiserror::Error)]
pub enum VpcdError {
    #[error("vpcd link: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Card(#[from] CardError),
    #[error("saving the card: {0}")]
    Save(Box<dyn std::error::Error + Send + Sync>),
    #[error("response too long for a vpcd frame: {0} bytes")]
    ResponseTooLong(usize),
}

/// What happens on the link, for the caller to report.
#[derive(Debug)]
pub enum LinkEvent<'a> {
    /// vpcd could not be reached (told once until a connection succeeds).
    Waiting(&'a std::io::Error),
    /// Connected: pcscd now sees the card in its reader.
    Attached,
    /// vpcd closed the connection; connecting again.
    Closed,
    /// The connection failed; connecting again.
    Failed(&'a VpcdError),
}

/// Keeps `card` attached to vpcd at `address`, connecting again whenever the link
/// drops; returns only when a connection cannot be set up or `save` fails. `save`
/// receives the card's content whenever a command changed it (a PIN counter),
/// before the answer leaves; a failed save stops the link unanswered (the card in
/// memory may be stale: another process saved it). `report` hears of the link's
/// events.
pub fn attach<E>(
    card: &mut Card,
    address: &str,
    mut save: impl FnMut(&[u8]) -> Result<(), E>,
    mut report: impl FnMut(LinkEvent<'_>),
) -> Result<Infallible, VpcdError>
where
    E: std::error::Error + Send + Sync + 'static,
{
    let mut announced = false;
    loop {
        let mut stream = match TcpStream::connect(address) {
            Ok(stream) => stream,
            Err(error) => {
                if !announced {
                    report(LinkEvent::Waiting(&error));
                    announced = true;
                }
                std::thread::sleep(RETRY_AFTER);
                continue;
            }
        };
        stream.set_nodelay(true)?;
        report(LinkEvent::Attached);
        announced = false;
        match serve(card, &mut stream, &mut save) {
            Ok(()) => report(LinkEvent::Closed),
            Err(error @ VpcdError::Save(_)) => return Err(error),
            Err(error) => report(LinkEvent::Failed(&error)),
        }
        card.power_off();
    }
}

/// Answers vpcd's frames on one connection until vpcd closes it.
pub fn serve<E>(
    card: &mut Card,
    stream: &mut TcpStream,
    mut save: impl FnMut(&[u8]) -> Result<(), E>,
) -> Result<(), VpcdError>
where
    E: std::error::Error + Send + Sync + 'static,
{
    loop {
        quickack(stream);
        let mut header = [0u8; 2];
        if stream.read_exact(&mut header).is_err() {
            return Ok(());
        }
        let mut payload = vec![0u8; usize::from(u16::from_be_bytes(header))];
        quickack(stream);
        stream.read_exact(&mut payload)?;
        let reply = match payload.as_slice() {
            [0] => {
                card.power_off();
                None
            }
            [1] | [2] => {
                card.power_on();
                None
            }
            // vpcd asks for the ATR when it polls for the card too: answering must
            // not reset the session.
            [4] => Some(ATR.to_vec()),
            [_] => None,
            apdu => {
                let response = card.transmit(apdu);
                // A changed PIN counter is saved before the answer leaves: pulling
                // the card (or killing the process) cannot give back a try.
                if card.is_dirty() {
                    save(&card.to_bytes()?).map_err(|error| VpcdError::Save(Box::new(error)))?;
                    card.mark_saved();
                }
                Some(response)
            }
        };
        if let Some(reply) = reply {
            stream.write_all(&frame(&reply)?)?;
        }
    }
}

/// A vpcd frame: the payload's length (two bytes, big-endian), then the payload, in
/// one buffer so that it leaves in one segment.
fn frame(payload: &[u8]) -> Result<Vec<u8>, VpcdError> {
    let len =
        u16::try_from(payload.len()).map_err(|_| VpcdError::ResponseTooLong(payload.len()))?;
    let mut frame = Vec::with_capacity(payload.len() + 2);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(payload);
    Ok(frame)
}

/// Re-arms TCP_QUICKACK: Debian's vpcd writes a frame's length and body separately,
/// and without an immediate ACK every command waits ~40 ms for the delayed ACK.
/// Best effort: a link without it is only slower.
fn quickack(stream: &TcpStream) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let _ = socket2::SockRef::from(stream).set_tcp_quickack(true);
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = stream;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_is_its_length_then_its_payload() {
        assert_eq!(frame(&[0x90, 0x00]).unwrap(), vec![0, 2, 0x90, 0x00]);
        assert_eq!(frame(&[]).unwrap(), vec![0, 0]);
    }

    #[test]
    fn a_payload_longer_than_a_frame_is_refused() {
        let payload = vec![0u8; usize::from(u16::MAX) + 1];
        assert!(matches!(
            frame(&payload),
            Err(VpcdError::ResponseTooLong(65536))
        ));
    }
}
