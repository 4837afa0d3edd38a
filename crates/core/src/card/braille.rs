//! The holder's name in Braille, as embossed on the card for residents who ask
//! (REFERENCE section 3): Japanese Braille (点字, kana by sound) for a kana reading,
//! and uncontracted letters for a name in the Latin alphabet. Each cell is a Unicode
//! Braille pattern (U+2800 + dots: dot 1 = bit 0 ... dot 6 = bit 5), which a
//! renderer draws as raised dots.
//!
//! Japanese Braille writes sounds: a voiced kana is the dakuten cell (dot 5) before
//! the plain kana, a p-sound the handakuten cell (dot 6) before it, a contracted
//! sound (きゃ) the yōon cell (dot 4; 4-5 voiced, 4-6 p-sound) before the kana of its
//! consonant and vowel. The kana reading is written as registered: long vowels
//! spelt with う (さとう) are not rewritten to the long-vowel cell, which needs a
//! dictionary; ー is.

/// Why a text cannot be written in Braille.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("braille: {character:?} cannot be written in Braille (give the name's reading in kana or the Latin alphabet)")]
pub struct BrailleError {
    pub character: char,
}

const BLANK: char = '\u{2800}';
/// Dot 5: the next kana is voiced.
const DAKUTEN: char = '\u{2810}';
/// Dot 6: the next kana is a p-sound.
const HANDAKUTEN: char = '\u{2820}';
/// Dot 4: a contracted sound.
const YOON: char = '\u{2808}';
/// Dots 4-5: a voiced contracted sound.
const YOON_DAKUTEN: char = '\u{2818}';
/// Dots 4-6: a contracted p-sound.
const YOON_HANDAKUTEN: char = '\u{2828}';
/// Dots 3-4-5-6: the number sign.
const NUMBER: char = '\u{283c}';

/// The dots of the vowels a, i, u, e, o.
const VOWELS: [&[u8]; 5] = [&[1], &[1, 2], &[1, 4], &[1, 2, 4], &[2, 4]];

/// Katakana rows (the basic kana in order), each with the dots its consonant adds.
const ROWS: [(&str, &[u8]); 9] = [
    ("アイウエオ", &[]),
    ("カキクケコ", &[6]),
    ("サシスセソ", &[5, 6]),
    ("タチツテト", &[3, 5]),
    ("ナニヌネノ", &[3]),
    ("ハヒフヘホ", &[3, 6]),
    ("マミムメモ", &[3, 5, 6]),
    ("ラリルレロ", &[5]),
    ("", &[]),
];

/// The cell of a plain (unvoiced) katakana, if it has one.
fn plain_kana(kana: char) -> Option<char> {
    for (row, consonant) in ROWS {
        if let Some(vowel) = row.chars().position(|c| c == kana) {
            let mut dots: Vec<u8> = VOWELS.get(vowel)?.to_vec();
            dots.extend_from_slice(consonant);
            return Some(dots_cell(&dots));
        }
    }
    let dots: &[u8] = match kana {
        'ヤ' => &[3, 4],
        'ユ' => &[3, 4, 6],
        'ヨ' => &[3, 4, 5],
        'ワ' => &[3],
        'ヰ' => &[2, 3],
        'ヱ' => &[2, 3, 5],
        'ヲ' => &[3, 5],
        'ン' => &[3, 5, 6],
        'ッ' => &[2],
        'ー' => &[2, 5],
        _ => return None,
    };
    Some(dots_cell(dots))
}

fn dots_cell(dots: &[u8]) -> char {
    let bits = dots
        .iter()
        .filter(|d| (1..=6).contains(*d))
        .fold(0u32, |bits, d| bits | 1 << (d - 1));
    char::from_u32(0x2800 + bits).unwrap_or(BLANK)
}

/// A voiced or p-sound katakana as (mark, its plain kana).
fn unvoiced(kana: char) -> Option<(char, char)> {
    const VOICED: &str = "ガギグゲゴザジズゼゾダヂヅデドバビブベボ";
    const PLAIN: &str = "カキクケコサシスセソタチツテトハヒフヘホ";
    const P_SOUND: &str = "パピプペポ";
    if let Some(i) = VOICED.chars().position(|c| c == kana) {
        return PLAIN.chars().nth(i).map(|p| (DAKUTEN, p));
    }
    if let Some(i) = P_SOUND.chars().position(|c| c == kana) {
        return "ハヒフヘホ".chars().nth(i).map(|p| (HANDAKUTEN, p));
    }
    if kana == 'ヴ' {
        return Some((DAKUTEN, 'ウ'));
    }
    None
}

/// Small ャュョ and ァィゥェォ as their full-size kana.
fn full_size(small: char) -> Option<char> {
    const SMALL: &str = "ャュョァィゥェォ";
    const FULL: &str = "ヤユヨアイウエオ";
    SMALL
        .chars()
        .position(|c| c == small)
        .and_then(|i| FULL.chars().nth(i))
}

/// Katakana for hiragana (they differ by 0x60); other characters unchanged.
fn katakana(ch: char) -> char {
    match ch {
        'ぁ'..='ゖ' => char::from_u32(ch as u32 + 0x60).unwrap_or(ch),
        _ => ch,
    }
}

/// Uncontracted letters a–z (the first ten are also the digits 1–0).
const LETTERS: [&[u8]; 26] = [
    &[1],
    &[1, 2],
    &[1, 4],
    &[1, 4, 5],
    &[1, 5],
    &[1, 2, 4],
    &[1, 2, 4, 5],
    &[1, 2, 5],
    &[2, 4],
    &[2, 4, 5],
    &[1, 3],
    &[1, 2, 3],
    &[1, 3, 4],
    &[1, 3, 4, 5],
    &[1, 3, 5],
    &[1, 2, 3, 4],
    &[1, 2, 3, 4, 5],
    &[1, 2, 3, 5],
    &[2, 3, 4],
    &[2, 3, 4, 5],
    &[1, 3, 6],
    &[1, 2, 3, 6],
    &[2, 4, 5, 6],
    &[1, 3, 4, 6],
    &[1, 3, 4, 5, 6],
    &[1, 3, 5, 6],
];

/// The name in Braille. Text already in Braille patterns passes through; spaces
/// become blank cells; kana (hiragana or katakana, full width) and the Latin
/// alphabet are transliterated. Anything else (kanji: give the reading) is refused.
pub fn to_braille(text: &str) -> Result<String, BrailleError> {
    let chars: Vec<char> = text.trim().chars().map(katakana).collect();
    let mut out = String::new();
    let mut in_number = false;
    let mut i = 0;
    while let Some(&ch) = chars.get(i) {
        i += 1;
        let next_small = chars.get(i).copied().and_then(full_size);
        match ch {
            '\u{2800}'..='\u{28ff}' => out.push(ch),
            ' ' | '\u{3000}' | '・' => out.push(BLANK),
            '-' | '‐' => out.push(dots_cell(&[3, 6])),
            '\'' | '’' => out.push(dots_cell(&[3])),
            '.' => out.push(dots_cell(&[2, 5, 6])),
            '0'..='9' => {
                if !in_number {
                    out.push(NUMBER);
                }
                let digit = ch as usize - '0' as usize;
                let index = if digit == 0 { 9 } else { digit - 1 };
                out.push(LETTERS.get(index).map_or(BLANK, |d| dots_cell(d)));
                in_number = true;
                continue;
            }
            'a'..='z' | 'A'..='Z' => {
                let index = ch.to_ascii_lowercase() as usize - 'a' as usize;
                out.push(LETTERS.get(index).map_or(BLANK, |d| dots_cell(d)));
            }
            _ => {
                // A contracted sound: a kana of the i column followed by small ャュョ.
                let (mark, plain) = match unvoiced(ch) {
                    Some((mark, plain)) => (Some(mark), plain),
                    None => (None, ch),
                };
                let contracted = next_small.filter(|s| "ヤユヨ".contains(*s));
                if let (Some(small), true) = (contracted, "キシチニヒミリ".contains(plain)) {
                    i += 1;
                    out.push(match mark {
                        Some(DAKUTEN) => YOON_DAKUTEN,
                        Some(_) => YOON_HANDAKUTEN,
                        None => YOON,
                    });
                    // The consonant's a/u/o kana: キ + ャ → カ, キ + ュ → ク, キ + ョ → コ.
                    let row = ROWS.iter().find(|(row, _)| row.contains(plain));
                    let vowel = match small {
                        'ヤ' => 0,
                        'ユ' => 2,
                        _ => 4,
                    };
                    let base = row.and_then(|(row, _)| row.chars().nth(vowel));
                    out.push(
                        base.and_then(plain_kana)
                            .ok_or(BrailleError { character: ch })?,
                    );
                } else {
                    if let Some(mark) = mark {
                        out.push(mark);
                    }
                    let plain = full_size(plain).unwrap_or(plain);
                    out.push(plain_kana(plain).ok_or(BrailleError { character: ch })?);
                }
            }
        }
        in_number = false;
    }
    Ok(out)
}

/// The raised dots (1–6) of a Braille pattern cell; empty for anything else.
pub fn dots(cell: char) -> Vec<u8> {
    let code = cell as u32;
    if !(0x2800..=0x28ff).contains(&code) {
        return vec![];
    }
    (1..=6u8)
        .filter(|dot| (code - 0x2800) & (1 << (dot - 1)) != 0)
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn kana_are_written_by_sound() {
        // ヤマダ ハナコ: ヤ マ (5)タ ␣ ハ ナ コ
        assert_eq!(to_braille("やまだ はなこ").unwrap(), "⠌⠵⠐⠕⠀⠥⠅⠪");
        assert_eq!(to_braille("ヤマダ　ハナコ").unwrap(), "⠌⠵⠐⠕⠀⠥⠅⠪");
        // キョ = yōon + コ; ジュ = voiced yōon + ス (ジ is シ voiced); ピョ = 4-6 + ホ.
        assert_eq!(to_braille("キョウコ").unwrap(), "⠈⠪⠉⠪");
        assert_eq!(to_braille("ジュン").unwrap(), "⠘⠹⠴");
        assert_eq!(to_braille("ピョン").unwrap(), "⠨⠮⠴");
        assert_eq!(to_braille("サッポロ").unwrap(), "⠱⠂⠠⠮⠚");
        assert_eq!(to_braille("ユーキ").unwrap(), "⠬⠒⠣");
        assert_eq!(dots('⠵'), vec![1, 3, 5, 6]);
    }

    #[test]
    fn latin_names_and_refusals() {
        assert_eq!(to_braille("ANNA LEE").unwrap(), "⠁⠝⠝⠁⠀⠇⠑⠑");
        assert_eq!(to_braille("⠁⠃").unwrap(), "⠁⠃");
        assert_eq!(to_braille("R2").unwrap(), "⠗⠼⠃");
        assert_eq!(
            to_braille("山田").unwrap_err(),
            BrailleError { character: '山' }
        );
    }
}
