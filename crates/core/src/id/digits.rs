//! Normalisation of the digit strings people type: spaces, hyphens and full-width
//! digits are accepted (that is how numbers are written on forms and in Japanese
//! input methods); everything else is refused with the character and its position.

use super::IdError;

/// Characters that separate groups of digits and are dropped.
fn is_separator(ch: char) -> bool {
    ch.is_whitespace() // spaces, the full-width space U+3000, tabs
        || matches!(
        ch,
        '-'
            | '\u{2010}' // hyphen
            | '\u{2011}' // non-breaking hyphen
            | '\u{2012}' // figure dash
            | '\u{2013}' // en dash
            | '\u{2212}' // minus sign
            | '\u{FF0D}' // full-width hyphen-minus
    )
}

/// The value of an ASCII or full-width digit.
fn digit_value(ch: char) -> Option<u8> {
    match ch {
        '0'..='9' => Some(ch as u8 - b'0'),
        '\u{FF10}'..='\u{FF19}' => u8::try_from(ch as u32 - 0xFF10).ok(),
        _ => None,
    }
}

/// Parses `input` into exactly `N` digit values.
///
/// `what` names the identifier in errors. Positions in errors count characters of
/// the input as typed, from 1, so that a person can find the offending character.
pub(crate) fn parse_digits<const N: usize>(
    input: &str,
    what: &'static str,
) -> Result<[u8; N], IdError> {
    let mut digits = [0u8; N];
    let mut count = 0usize;
    for (index, ch) in input.chars().enumerate() {
        if is_separator(ch) {
            continue;
        }
        let Some(value) = digit_value(ch) else {
            return Err(IdError::InvalidCharacter {
                what,
                character: ch,
                position: index + 1,
            });
        };
        if let Some(slot) = digits.get_mut(count) {
            *slot = value;
        }
        count += 1;
    }
    if count == 0 {
        return Err(IdError::Empty { what });
    }
    if count != N {
        return Err(IdError::WrongLength {
            what,
            expected: N,
            found: count,
        });
    }
    Ok(digits)
}

/// The digits as an ASCII string.
pub(crate) fn to_string(digits: &[u8]) -> String {
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

/// The digits as an integer (at most 19 digits fit).
pub(crate) fn to_u64(digits: &[u8]) -> u64 {
    digits.iter().fold(0u64, |acc, d| acc * 10 + u64::from(*d))
}

/// `value` as `N` decimal digits, most significant first; `None` if it does not fit.
pub(crate) fn from_u64<const N: usize>(mut value: u64) -> Option<[u8; N]> {
    let mut digits = [0u8; N];
    for slot in digits.iter_mut().rev() {
        *slot = u8::try_from(value % 10).ok()?;
        value /= 10;
    }
    (value == 0).then_some(digits)
}

/// Groups `digits` by `groups` (e.g. `[4, 4, 4]`), separated by spaces.
pub(crate) fn grouped(digits: &[u8], groups: &[usize]) -> String {
    let mut out = String::with_capacity(digits.len() + groups.len());
    let mut rest = digits;
    for (i, size) in groups.iter().enumerate() {
        let (head, tail) = rest.split_at((*size).min(rest.len()));
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&to_string(head));
        rest = tail;
    }
    out
}

/// Masks all but the last four digits, keeping the grouping: `**** **** 0257`.
pub(crate) fn masked(digits: &[u8], groups: &[usize]) -> String {
    let keep_from = digits.len().saturating_sub(4);
    let mut out = String::with_capacity(digits.len() + groups.len());
    let mut index = 0usize;
    for (i, size) in groups.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        for _ in 0..*size {
            match digits.get(index) {
                Some(d) if index >= keep_from => out.push(char::from(b'0' + d)),
                Some(_) => out.push('*'),
                None => {}
            }
            index += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_separators_and_full_width_digits() {
        assert_eq!(parse_digits::<4>("１2-３ 4", "x"), Ok([1, 2, 3, 4]));
    }

    #[test]
    fn names_the_bad_character_and_its_position() {
        assert_eq!(
            parse_digits::<4>("12a4", "x"),
            Err(IdError::InvalidCharacter {
                what: "x",
                character: 'a',
                position: 3
            })
        );
    }

    #[test]
    fn masks_all_but_the_last_four() {
        assert_eq!(
            masked(&[6, 2, 1, 4, 9, 8, 3, 2, 0, 2, 5, 7], &[4, 4, 4]),
            "**** **** 0257"
        );
    }

    #[test]
    fn from_u64_refuses_overflow() {
        assert_eq!(from_u64::<2>(100), None);
        assert_eq!(from_u64::<3>(42), Some([0, 4, 2]));
    }
}
