//! A My Number card client. It knows only APDUs: the commands go through a
//! [`Transport`] — PC/SC ([`PcscTransport`]) for a real card in a real reader, or for
//! maina's emulated card behind `vpcd` — so nothing here depends on the emulator.

use std::ffi::CString;

mod support;
pub use support::SupportFiles;

/// The JPKI application's identifier.
pub const AID_JPKI: [u8; 10] = [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01];
/// The card-information-input-support application's identifier.
pub const AID_SUPPORT: [u8; 10] = [0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08];

/// Errors of the client.
#[derive(Debug, thiserror::Error)]
pub enum ReaderError {
    #[error("PC/SC: {0} (is pcscd running, and a reader connected?)")]
    Pcsc(#[from] pcsc::Error),
    #[error("no smart-card reader found")]
    NoReader,
    #[error("no reader named {0:?}")]
    UnknownReader(String),
    #[error("the card answered {status:04X} to {what}")]
    Status { what: &'static str, status: u16 },
    #[error("wrong PIN: {tries_left} tries left")]
    WrongPin { tries_left: u8 },
    #[error("the PIN is blocked: it must be reset at the municipal office")]
    Blocked,
    #[error("the card's answer is malformed: {0}")]
    Malformed(&'static str),
}

pub type Result<T, E = ReaderError> = std::result::Result<T, E>;

/// Something that carries command APDUs to a card and brings back the responses.
pub trait Transport {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>>;
}

/// A card in a PC/SC reader.
pub struct PcscTransport {
    card: pcsc::Card,
    buffer: Vec<u8>,
    /// The reader's name.
    pub reader: String,
}

impl PcscTransport {
    /// The readers PC/SC knows.
    pub fn readers() -> Result<Vec<String>> {
        let context = pcsc::Context::establish(pcsc::Scope::User)?;
        Ok(context
            .list_readers_owned()?
            .into_iter()
            .map(|name| name.to_string_lossy().into_owned())
            .collect())
    }

    /// Connects to the card in the named reader, or in the first reader holding one.
    pub fn connect(reader: Option<&str>) -> Result<Self> {
        let context = pcsc::Context::establish(pcsc::Scope::User)?;
        let readers = context.list_readers_owned().map_err(|error| match error {
            pcsc::Error::NoReadersAvailable => ReaderError::NoReader,
            other => ReaderError::Pcsc(other),
        })?;
        let candidates: Vec<CString> = match reader {
            Some(name) => {
                let found = readers
                    .into_iter()
                    .find(|r| r.to_string_lossy() == name)
                    .ok_or_else(|| ReaderError::UnknownReader(name.to_owned()))?;
                vec![found]
            }
            None => readers,
        };
        let mut last = ReaderError::NoReader;
        for name in candidates {
            match context.connect(&name, pcsc::ShareMode::Shared, pcsc::Protocols::ANY) {
                Ok(card) => {
                    return Ok(Self {
                        card,
                        buffer: vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED],
                        reader: name.to_string_lossy().into_owned(),
                    })
                }
                Err(error) => last = ReaderError::Pcsc(error),
            }
        }
        Err(last)
    }
}

impl Transport for PcscTransport {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>> {
        Ok(self.card.transmit(apdu, &mut self.buffer)?.to_vec())
    }
}

/// A response: data and status word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub data: Vec<u8>,
    pub status: u16,
}

/// Which JPKI key (and its PIN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JpkiKey {
    Authentication,
    Signature,
}

impl JpkiKey {
    fn key_file(self) -> u16 {
        match self {
            Self::Authentication => 0x0017,
            Self::Signature => 0x001A,
        }
    }

    fn pin_file(self) -> u16 {
        match self {
            Self::Authentication => 0x0018,
            Self::Signature => 0x001B,
        }
    }

    /// The certificate file of this key's holder certificate.
    pub fn certificate_file(self) -> u16 {
        match self {
            Self::Authentication => 0x000A,
            Self::Signature => 0x0001,
        }
    }

    /// The certificate file of the issuing authority.
    pub fn ca_certificate_file(self) -> u16 {
        match self {
            Self::Authentication => 0x000B,
            Self::Signature => 0x0002,
        }
    }
}

/// A My Number card, spoken to in APDUs.
pub struct MyNumberCard<T: Transport> {
    transport: T,
}

fn command(cla: u8, ins: u8, p1: u8, p2: u8, data: &[u8], le: Option<u8>) -> Result<Vec<u8>> {
    let lc = u8::try_from(data.len()).map_err(|_| ReaderError::Malformed("command too long"))?;
    let mut apdu = vec![cla, ins, p1, p2];
    if !data.is_empty() {
        apdu.push(lc);
        apdu.extend_from_slice(data);
    }
    if let Some(le) = le {
        apdu.push(le);
    }
    Ok(apdu)
}

impl<T: Transport> MyNumberCard<T> {
    pub fn new(transport: T) -> Self {
        Self { transport }
    }

    /// Sends one APDU and splits the answer.
    pub fn send(&mut self, apdu: &[u8]) -> Result<Answer> {
        let mut response = self.transport.transmit(apdu)?;
        if response.len() < 2 {
            return Err(ReaderError::Malformed(
                "a response shorter than a status word",
            ));
        }
        let sw = response.split_off(response.len() - 2);
        let status = match sw.as_slice() {
            [a, b] => u16::from_be_bytes([*a, *b]),
            _ => return Err(ReaderError::Malformed("status word")),
        };
        Ok(Answer {
            data: response,
            status,
        })
    }

    fn expect_ok(&mut self, what: &'static str, apdu: &[u8]) -> Result<Vec<u8>> {
        let answer = self.send(apdu)?;
        if answer.status != 0x9000 {
            return Err(ReaderError::Status {
                what,
                status: answer.status,
            });
        }
        Ok(answer.data)
    }

    /// Selects an application by its AID (this clears the card's verified PINs).
    pub fn select_application(&mut self, aid: &[u8]) -> Result<()> {
        self.expect_ok(
            "SELECT application",
            &command(0x00, 0xA4, 0x04, 0x0C, aid, None)?,
        )
        .map(drop)
    }

    pub fn select_jpki(&mut self) -> Result<()> {
        self.select_application(&AID_JPKI)
    }

    pub fn select_file(&mut self, fid: u16) -> Result<()> {
        self.expect_ok(
            "SELECT file",
            &command(0x00, 0xA4, 0x02, 0x0C, &fid.to_be_bytes(), None)?,
        )
        .map(drop)
    }

    /// Reads `len` bytes from `offset` of the selected file, 256 at most per command.
    pub fn read_binary(&mut self, offset: usize, len: usize) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            let at = u16::try_from(offset + out.len())
                .map_err(|_| ReaderError::Malformed("offset beyond 32767"))?;
            let want = (len - out.len()).min(256);
            let le = if want == 256 { 0 } else { want as u8 };
            let [hi, lo] = at.to_be_bytes();
            let chunk =
                self.expect_ok("READ BINARY", &command(0x00, 0xB0, hi, lo, &[], Some(le))?)?;
            if chunk.is_empty() {
                break;
            }
            out.extend(chunk);
        }
        Ok(out)
    }

    /// Reads a DER object (a certificate) from a file: its first four bytes give the
    /// length (`30 82 LL LL`).
    pub fn read_der_file(&mut self, fid: u16) -> Result<Vec<u8>> {
        self.select_file(fid)?;
        let head = self.read_binary(0, 4)?;
        let len = match head.as_slice() {
            [0x30, 0x82, hi, lo] => usize::from(u16::from_be_bytes([*hi, *lo])) + 4,
            _ => {
                return Err(ReaderError::Malformed(
                    "not a DER object with a 2-byte length",
                ))
            }
        };
        self.read_binary(0, len)
    }

    /// The tries left of the selected PIN file (`63Cx`, as the real card answers).
    pub fn tries_left(&mut self, pin_file: u16) -> Result<u8> {
        self.select_file(pin_file)?;
        let answer = self.send(&[0x00, 0x20, 0x00, 0x80])?;
        match answer.status {
            s if s & 0xFFF0 == 0x63C0 => Ok((s & 0x0F) as u8),
            0x6983 | 0x6984 => Ok(0),
            status => Err(ReaderError::Status {
                what: "VERIFY (tries left)",
                status,
            }),
        }
    }

    /// Verifies a PIN in a PIN file.
    pub fn verify(&mut self, pin_file: u16, pin: &[u8]) -> Result<()> {
        self.select_file(pin_file)?;
        let answer = self.send(&command(0x00, 0x20, 0x00, 0x80, pin, None)?)?;
        match answer.status {
            0x9000 => Ok(()),
            s if s & 0xFFF0 == 0x63C0 && s & 0x0F == 0 => Err(ReaderError::Blocked),
            s if s & 0xFFF0 == 0x63C0 => Err(ReaderError::WrongPin {
                tries_left: (s & 0x0F) as u8,
            }),
            0x6983 | 0x6984 => Err(ReaderError::Blocked),
            status => Err(ReaderError::Status {
                what: "VERIFY",
                status,
            }),
        }
    }

    /// JPKI: the tries left of a key's PIN.
    pub fn jpki_tries_left(&mut self, key: JpkiKey) -> Result<u8> {
        self.tries_left(key.pin_file())
    }

    /// JPKI: verifies a key's PIN (the signature password is upper-cased, as the
    /// official clients do).
    pub fn jpki_verify(&mut self, key: JpkiKey, pin: &str) -> Result<()> {
        let pin = match key {
            JpkiKey::Signature => pin.trim().to_ascii_uppercase(),
            JpkiKey::Authentication => pin.trim().to_owned(),
        };
        self.verify(key.pin_file(), pin.as_bytes())
    }

    /// JPKI: signs a DigestInfo with a key whose PIN was just verified.
    pub fn jpki_sign(&mut self, key: JpkiKey, digest_info: &[u8]) -> Result<Vec<u8>> {
        self.select_file(key.key_file())?;
        self.expect_ok(
            "SIGN",
            &command(0x80, 0x2A, 0x00, 0x80, digest_info, Some(0))?,
        )
    }

    /// JPKI: the token file's text (`JPKIAPICCTOKEN2` on a My Number card).
    pub fn jpki_token(&mut self) -> Result<String> {
        self.select_file(0x0006)?;
        let bytes = self.read_binary(0, 32)?;
        Ok(String::from_utf8_lossy(&bytes).trim_end().to_owned())
    }
}
