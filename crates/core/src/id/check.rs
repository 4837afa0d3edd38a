//! Check-digit formulas (REFERENCE.md section 1). Each takes the digits the check
//! digit is computed over and returns the expected check digit.

/// My Number: weights 6 5 4 3 2 7 6 5 4 3 2 left to right; 0 if the remainder is
/// at most 1, else 11 - remainder (the MIC ordinance's formula).
pub(crate) fn my_number(payload: &[u8; 11]) -> u8 {
    weighted_mod11(payload, &[6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2])
}

/// Resident record code *(our design)*: the My Number rule over 10 digits.
pub(crate) fn resident_code(payload: &[u8; 10]) -> u8 {
    weighted_mod11(payload, &[5, 4, 3, 2, 7, 6, 5, 4, 3, 2])
}

fn weighted_mod11(payload: &[u8], weights: &[u32]) -> u8 {
    let sum: u32 = payload
        .iter()
        .zip(weights)
        .map(|(d, w)| u32::from(*d) * w)
        .sum();
    let remainder = sum % 11;
    if remainder <= 1 {
        0
    } else {
        // remainder is 2..=10, so the result is 1..=9
        u8::try_from(11 - remainder).unwrap_or(0)
    }
}

/// Local government code: weights 6 5 4 3 2, the ones digit of 11 - (sum mod 11).
pub(crate) fn municipality(payload: &[u8; 5]) -> u8 {
    let sum: u32 = payload
        .iter()
        .zip([6u32, 5, 4, 3, 2])
        .map(|(d, w)| u32::from(*d) * w)
        .sum();
    u8::try_from((11 - sum % 11) % 10).unwrap_or(0)
}

/// Corporate Number: 9 - (sum of Pn*Qn mod 9), Pn the n-th digit from the right of
/// the 12-digit base, Qn 1 for odd n and 2 for even n.
pub(crate) fn corporate(base: &[u8; 12]) -> u8 {
    let sum: u32 = base
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(*d) * if i % 2 == 0 { 1 } else { 2 })
        .sum();
    u8::try_from(9 - sum % 9).unwrap_or(0)
}

/// The Damm algorithm's quasigroup of order 10 (weakly totally anti-symmetric): it
/// catches every single-digit error and every adjacent transposition.
const DAMM: [[u8; 10]; 10] = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
    [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
    [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
    [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

/// Damm check digit of `payload` (digits 0..=9).
pub(crate) fn damm(payload: &[u8]) -> u8 {
    payload.iter().fold(0u8, |interim, d| {
        DAMM.get(usize::from(interim))
            .and_then(|row| row.get(usize::from(*d)))
            .copied()
            .unwrap_or(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damm_known_value() {
        // Wikipedia's worked example: 572 -> check digit 4.
        assert_eq!(damm(&[5, 7, 2]), 4);
        assert_eq!(damm(&[5, 7, 2, 4]), 0);
    }

    #[test]
    fn municipality_codes_checked_by_hand() {
        assert_eq!(municipality(&[1, 3, 1, 0, 1]), 6);
        assert_eq!(municipality(&[1, 3, 1, 1, 3]), 0);
        assert_eq!(municipality(&[0, 1, 1, 0, 0]), 2);
        assert_eq!(municipality(&[0, 1, 1, 0, 1]), 1);
        assert_eq!(municipality(&[1, 3, 0, 0, 0]), 1);
    }
}
