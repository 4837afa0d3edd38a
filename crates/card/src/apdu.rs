//! Command APDUs (ISO/IEC 7816-4, short and extended lengths) and status words.

/// A status word (SW1 SW2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusWord(pub u16);

impl StatusWord {
    pub const OK: Self = Self(0x9000);
    pub const WRONG_LENGTH: Self = Self(0x6700);
    pub const INCOMPATIBLE_FILE: Self = Self(0x6981);
    pub const SECURITY_NOT_SATISFIED: Self = Self(0x6982);
    pub const PIN_BLOCKED: Self = Self(0x6983);
    /// No fresh challenge: GET CHALLENGE must come first (issuer commands).
    pub const CONDITIONS_NOT_SATISFIED: Self = Self(0x6985);
    pub const NO_CURRENT_EF: Self = Self(0x6986);
    /// An issuer command whose protection does not check (wrong key, replayed or
    /// altered).
    pub const SECURE_MESSAGING_WRONG: Self = Self(0x6988);
    /// The card holds no issuer key (made before issue 13).
    pub const REFERENCE_NOT_FOUND: Self = Self(0x6A88);
    /// The PIN has not been set yet.
    pub const REFERENCE_DATA_NOT_USABLE: Self = Self(0x6984);
    pub const WRONG_DATA: Self = Self(0x6A80);
    pub const FILE_NOT_FOUND: Self = Self(0x6A82);
    pub const WRONG_P1P2: Self = Self(0x6A86);
    pub const OFFSET_OUTSIDE_FILE: Self = Self(0x6B00);
    pub const INS_NOT_SUPPORTED: Self = Self(0x6D00);
    pub const CLA_NOT_SUPPORTED: Self = Self(0x6E00);
    pub const UNKNOWN_ERROR: Self = Self(0x6F00);

    /// `63Cx`: verification failed or asked, `x` tries left.
    pub fn tries_left(tries: u8) -> Self {
        Self(0x63C0 | u16::from(tries.min(15)))
    }

    pub fn bytes(self) -> [u8; 2] {
        self.0.to_be_bytes()
    }
}

impl std::fmt::Display for StatusWord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04X}", self.0)
    }
}

/// A parsed command APDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command<'a> {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    pub data: &'a [u8],
    /// The expected response length (`Le`), already decoded: `00` is 256 in short form,
    /// `0000` 65536 in extended form. `None` when the command has no Le.
    pub le: Option<usize>,
}

impl<'a> Command<'a> {
    /// Parses the four cases in short and extended form; any length that does not add
    /// up (truncated frames, Lc/Le mismatches) is `6700`.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, StatusWord> {
        let wrong = StatusWord::WRONG_LENGTH;
        let (header, body) = bytes.split_at_checked(4).ok_or(wrong)?;
        let &[cla, ins, p1, p2] = header else {
            return Err(wrong);
        };
        let short_le = |b: u8| if b == 0 { 256 } else { usize::from(b) };
        let long_le = |hi: u8, lo: u8| match u16::from_be_bytes([hi, lo]) {
            0 => 65536,
            n => usize::from(n),
        };
        let (data, le) = match body {
            [] => (&[][..], None),
            [le] => (&[][..], Some(short_le(*le))),
            [0, hi, lo] => (&[][..], Some(long_le(*hi, *lo))),
            [0, hi, lo, rest @ ..] => {
                let lc = usize::from(u16::from_be_bytes([*hi, *lo]));
                if lc == 0 {
                    return Err(wrong);
                }
                match rest.len().checked_sub(lc) {
                    Some(0) => (rest, None),
                    Some(2) => {
                        let (data, le) = rest.split_at(lc);
                        match le {
                            [a, b] => (data, Some(long_le(*a, *b))),
                            _ => return Err(wrong),
                        }
                    }
                    _ => return Err(wrong),
                }
            }
            [0, ..] => return Err(wrong),
            [lc, rest @ ..] => {
                let lc = usize::from(*lc);
                match rest.len().checked_sub(lc) {
                    Some(0) => (rest, None),
                    Some(1) => {
                        let (data, le) = rest.split_at(lc);
                        (data, le.first().map(|b| short_le(*b)))
                    }
                    _ => return Err(wrong),
                }
            }
        };
        Ok(Self {
            cla,
            ins,
            p1,
            p2,
            data,
            le,
        })
    }
}

/// A response APDU: data then the status word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub data: Vec<u8>,
    pub status: StatusWord,
}

impl Response {
    pub fn status(status: StatusWord) -> Self {
        Self {
            data: Vec::new(),
            status,
        }
    }

    pub fn ok(data: Vec<u8>) -> Self {
        Self {
            data,
            status: StatusWord::OK,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.len() + 2);
        out.extend_from_slice(&self.data);
        out.extend_from_slice(&self.status.bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_four_cases_parse() {
        let c = Command::parse(&[0, 0x20, 0, 0x80]).unwrap();
        assert_eq!((c.data.len(), c.le), (0, None));
        let c = Command::parse(&[0, 0xB0, 0, 0, 0]).unwrap();
        assert_eq!(c.le, Some(256));
        let c = Command::parse(&[0, 0xA4, 2, 0x0C, 2, 0, 0x0A]).unwrap();
        assert_eq!((c.data, c.le), (&[0u8, 0x0A][..], None));
        let c = Command::parse(&[0x80, 0x2A, 0, 0x80, 1, 7, 0]).unwrap();
        assert_eq!((c.data, c.le), (&[7u8][..], Some(256)));
        let c = Command::parse(&[0, 0xB0, 0, 0, 0, 0x01, 0x00]).unwrap();
        assert_eq!(c.le, Some(256));
        let c = Command::parse(&[0x80, 0x2A, 0, 0x80, 0, 0, 1, 9, 0, 0]).unwrap();
        assert_eq!((c.data, c.le), (&[9u8][..], Some(65536)));
    }

    #[test]
    fn lengths_that_do_not_add_up_are_6700() {
        for bad in [
            &[][..],
            &[0, 0xA4, 2],
            &[0, 0xA4, 2, 0x0C, 2, 0],
            &[0, 0xA4, 2, 0x0C, 2, 0, 1, 2, 3],
            &[0, 0xB0, 0, 0, 0, 0],
            &[0, 0xB0, 0, 0, 0, 0, 0, 1],
        ] {
            assert_eq!(
                Command::parse(bad),
                Err(StatusWord::WRONG_LENGTH),
                "{bad:02X?}"
            );
        }
    }

    proptest! {
        #[test]
        fn any_bytes_parse_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(command) = Command::parse(&bytes) {
                // What parsed accounts for every byte.
                let le_len = match command.le { None => 0, Some(_) if bytes.len() > 4 && bytes[4] == 0 && bytes.len() >= 7 => if command.data.is_empty() { 3 } else { 2 }, Some(_) => 1 };
                let lc_len = if command.data.is_empty() { 0 } else if bytes[4] == 0 { 3 } else { 1 };
                prop_assert_eq!(4 + lc_len + command.data.len() + le_len, bytes.len());
            }
        }
    }
}
