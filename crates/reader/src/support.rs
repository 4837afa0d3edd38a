//! The card-information-input-support AP as a client reads it (REFERENCE section 5):
//! the four facts (EF 0002) after the 4-digit PIN, with the issuer's signed digests
//! (EF 0003, *our design*), and GET CHALLENGE for the issuer's commands.

use crate::{MyNumberCard, ReaderError, Result, Transport, AID_SUPPORT};

/// The support AP's PIN file, the My Number file, the facts and the signed digests.
const SUPPORT_PIN: u16 = 0x0011;
const NUMBER_FILE: u16 = 0x0001;
const FACTS_FILE: u16 = 0x0002;
const SIGNED_FACTS_FILE: u16 = 0x0003;

/// The support AP's files as read (BER-TLV, see `maina_card::tlv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportFiles {
    /// EF 0001: the My Number's TLV. Never printed; a client hashes it to check the
    /// issuer's signature.
    pub number: Vec<u8>,
    /// EF 0002: the four facts.
    pub facts: Vec<u8>,
    /// EF 0003, if the issuer wrote it (cards made before have none).
    pub signed: Option<Vec<u8>>,
}

impl<T: Transport> MyNumberCard<T> {
    /// A whole file of unknown length: READ BINARY with Le = 256 until a shorter
    /// answer (or the offset passes the end).
    pub fn read_whole_file(&mut self, fid: u16) -> Result<Vec<u8>> {
        self.select_file(fid)?;
        let mut out = Vec::new();
        loop {
            let at = u16::try_from(out.len())
                .map_err(|_| ReaderError::Malformed("a file beyond 32767 bytes"))?;
            let [hi, lo] = at.to_be_bytes();
            let answer = self.send(&[0x00, 0xB0, hi, lo, 0x00])?;
            match answer.status {
                0x9000 => {
                    let short = answer.data.len() < 256;
                    out.extend(answer.data);
                    if short {
                        return Ok(out);
                    }
                }
                0x6B00 if !out.is_empty() => return Ok(out),
                status => {
                    return Err(ReaderError::Status {
                        what: "READ BINARY",
                        status,
                    })
                }
            }
        }
    }

    /// The support AP's files, after its 4-digit PIN.
    pub fn support_files(&mut self, pin: &str) -> Result<SupportFiles> {
        self.select_application(&AID_SUPPORT)?;
        self.verify(SUPPORT_PIN, pin.trim().as_bytes())?;
        let number = self.read_whole_file(NUMBER_FILE)?;
        let facts = self.read_whole_file(FACTS_FILE)?;
        let signed = match self.read_whole_file(SIGNED_FACTS_FILE) {
            Ok(bytes) => Some(bytes),
            Err(ReaderError::Status { status: 0x6A82, .. }) => None,
            Err(error) => return Err(error),
        };
        Ok(SupportFiles {
            number,
            facts,
            signed,
        })
    }

    /// GET CHALLENGE: 8 random bytes from the chip, spent by the next issuer
    /// command.
    pub fn get_challenge(&mut self) -> Result<Vec<u8>> {
        let answer = self.send(&[0x00, 0x84, 0x00, 0x00, 0x08])?;
        if answer.status != 0x9000 {
            return Err(ReaderError::Status {
                what: "GET CHALLENGE",
                status: answer.status,
            });
        }
        Ok(answer.data)
    }
}
