//! The BER-TLV of the support application's files: private-class tags, UTF-8 text
//! (REFERENCE section 5).

/// A BER length.
fn length(len: usize) -> Vec<u8> {
    match len {
        0..=0x7F => vec![len as u8],
        0x80..=0xFF => vec![0x81, len as u8],
        _ => {
            let [hi, lo] = u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes();
            vec![0x82, hi, lo]
        }
    }
}

/// Tag, length, value.
pub fn encode(tag: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = tag.to_vec();
    out.extend(length(value.len()));
    out.extend_from_slice(value);
    out
}

/// `[PRIVATE 32]` holding header 33, name 34, address 35, birth date 36, sex 37.
pub fn facts(name: &str, address: &str, birth_date: &str, sex: &str) -> Vec<u8> {
    let mut inner = encode(&[0xDF, 0x21], &[0x01]);
    inner.extend(encode(&[0xDF, 0x22], name.as_bytes()));
    inner.extend(encode(&[0xDF, 0x23], address.as_bytes()));
    inner.extend(encode(&[0xDF, 0x24], birth_date.as_bytes()));
    inner.extend(encode(&[0xDF, 0x25], sex.as_bytes()));
    encode(&[0xFF, 0x20], &inner)
}

/// The values under the given one- or two-byte tags in a flat run of TLVs (what a
/// reader of the card does).
pub fn values<'a>(mut bytes: &'a [u8], wanted: &[u8]) -> Option<&'a [u8]> {
    while let Some(&first) = bytes.first() {
        let tag_len = if first & 0x1F == 0x1F { 2 } else { 1 };
        let tag = bytes.get(..tag_len)?;
        let rest = bytes.get(tag_len..)?;
        let (len, skip) = match *rest.first()? {
            n @ 0..=0x7F => (usize::from(n), 1),
            0x81 => (usize::from(*rest.get(1)?), 2),
            0x82 => (
                usize::from(u16::from_be_bytes([*rest.get(1)?, *rest.get(2)?])),
                3,
            ),
            _ => return None,
        };
        let value = rest.get(skip..skip + len)?;
        if tag == wanted {
            return Some(value);
        }
        bytes = rest.get(skip + len..)?;
    }
    None
}
