//! Names: a Japanese national's kanji and kana, a foreign national's passport name
//! with alias and reading; the forms they are searched and matched by, and a change
//! of name.

use super::{clean_text, FieldError};
use serde::{Deserialize, Serialize};
use std::fmt;
use unicode_normalization::UnicodeNormalization;

/// Longest name part we accept (the resident registry's fields are bounded).
const MAX_NAME_CHARS: usize = 100;

fn is_kana(ch: char) -> bool {
    matches!(ch, '\u{3041}'..='\u{3096}' | '\u{30A1}'..='\u{30FA}' | 'ー' | '・' | '゛' | '゜' | 'ヽ' | 'ヾ' | 'ゝ' | 'ゞ' | ' ' | '\u{3000}')
}

fn kana(field: &'static str, raw: &str) -> Result<String, FieldError> {
    let text = clean_text(field, raw, MAX_NAME_CHARS)?;
    if let Some((i, ch)) = text.chars().enumerate().find(|(_, c)| !is_kana(*c)) {
        return Err(FieldError::new(
            field,
            format!(
                "must be written in kana; {ch:?} at position {} is not kana",
                i + 1
            ),
        ));
    }
    Ok(text)
}

fn alphabet(field: &'static str, raw: &str) -> Result<String, FieldError> {
    let text = clean_text(field, raw, MAX_NAME_CHARS)?.to_uppercase();
    if let Some((i, ch)) = text
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_uppercase() || matches!(c, ' ' | '-' | '\'' | ',' | '.')))
    {
        return Err(FieldError::new(
            field,
            format!(
                "must be written in the Latin alphabet as on the passport; {ch:?} at position {} is not",
                i + 1
            ),
        ));
    }
    Ok(text)
}

/// A registered name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Name {
    /// A Japanese national's name: kanji (or kana) and its reading in kana.
    Japanese {
        family: String,
        given: String,
        family_kana: String,
        given_kana: String,
    },
    /// A foreign national's name as on the passport, with an optional registered
    /// alias (通称) and reading.
    Foreign {
        alphabet: String,
        alias: Option<String>,
        kana: Option<String>,
    },
}

impl Name {
    /// A Japanese name from its four parts.
    pub fn japanese(
        family: &str,
        given: &str,
        family_kana: &str,
        given_kana: &str,
    ) -> Result<Self, FieldError> {
        Ok(Self::Japanese {
            family: clean_text("family_name", family, MAX_NAME_CHARS)?,
            given: clean_text("given_name", given, MAX_NAME_CHARS)?,
            family_kana: kana("family_kana", family_kana)?,
            given_kana: kana("given_kana", given_kana)?,
        })
    }

    /// A foreign national's name.
    pub fn foreign(
        alphabet_name: &str,
        alias: Option<&str>,
        name_kana: Option<&str>,
    ) -> Result<Self, FieldError> {
        Ok(Self::Foreign {
            alphabet: alphabet("alphabet_name", alphabet_name)?,
            alias: alias
                .map(|a| clean_text("alias", a, MAX_NAME_CHARS))
                .transpose()?,
            kana: name_kana.map(|k| kana("name_kana", k)).transpose()?,
        })
    }

    /// Every written form of the name, normalised for search (see [`search_form`]).
    pub fn search_forms(&self) -> Vec<String> {
        match self {
            Name::Japanese {
                family,
                given,
                family_kana,
                given_kana,
            } => vec![
                search_form(&format!("{family}{given}")),
                search_form(&format!("{family_kana}{given_kana}")),
            ],
            Name::Foreign {
                alphabet,
                alias,
                kana,
            } => [Some(alphabet), alias.as_ref(), kana.as_ref()]
                .into_iter()
                .flatten()
                .map(|s| search_form(s))
                .collect(),
        }
    }

    /// A key that identifies the name for matching (whitespace-insensitive).
    pub fn matching_key(&self) -> String {
        let joined = match self {
            Name::Japanese { family, given, .. } => format!("{family}{given}"),
            Name::Foreign { alphabet, .. } => alphabet.clone(),
        };
        joined.chars().filter(|c| !c.is_whitespace()).collect()
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Name::Japanese {
                family,
                given,
                family_kana,
                given_kana,
            } => write!(f, "{family} {given} ({family_kana} {given_kana})"),
            Name::Foreign {
                alphabet, alias, ..
            } => match alias {
                Some(alias) => write!(f, "{alphabet} (alias {alias})"),
                None => f.write_str(alphabet),
            },
        }
    }
}

/// Text as compared in searches: NFKC, upper case, no spaces, hiragana as katakana.
pub fn search_form(text: &str) -> String {
    text.nfkc()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            // Hiragana and katakana differ by 0x60 in this range.
            '\u{3041}'..='\u{3096}' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
            other => other,
        })
        .flat_map(char::to_uppercase)
        .collect()
}

/// A change of name: the parts given replace the current ones, the others stay.
/// An empty alias removes the alias.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameChange {
    pub family_name: Option<String>,
    pub given_name: Option<String>,
    pub family_kana: Option<String>,
    pub given_kana: Option<String>,
    pub alphabet_name: Option<String>,
    pub alias: Option<String>,
    pub name_kana: Option<String>,
}

impl NameChange {
    /// The parts only a Japanese national's name has, by field.
    fn japanese_parts(&self) -> [(&'static str, &Option<String>); 4] {
        [
            ("family_name", &self.family_name),
            ("given_name", &self.given_name),
            ("family_kana", &self.family_kana),
            ("given_kana", &self.given_kana),
        ]
    }

    /// The parts only a foreign national's name has, by field.
    fn foreign_parts(&self) -> [(&'static str, &Option<String>); 3] {
        [
            ("alphabet_name", &self.alphabet_name),
            ("alias", &self.alias),
            ("name_kana", &self.name_kana),
        ]
    }
}

/// Refuses the first of `parts` that is given, for `reason`.
fn refuse_given(parts: &[(&'static str, &Option<String>)], reason: &str) -> Result<(), FieldError> {
    match parts.iter().find(|(_, value)| value.is_some()) {
        Some((field, _)) => Err(FieldError::new(field, reason)),
        None => Ok(()),
    }
}

impl Name {
    /// The name after `change`: one rule for the command line, the API and the
    /// console. Parts of the other script are refused, naming the field.
    pub fn changed(&self, change: &NameChange) -> Result<Name, FieldError> {
        let pick = |new: &Option<String>, old: &str| new.clone().unwrap_or_else(|| old.to_string());
        match self {
            Name::Japanese {
                family,
                given,
                family_kana,
                given_kana,
            } => {
                refuse_given(&change.foreign_parts(), "applies only to foreign nationals")?;
                Name::japanese(
                    &pick(&change.family_name, family),
                    &pick(&change.given_name, given),
                    &pick(&change.family_kana, family_kana),
                    &pick(&change.given_kana, given_kana),
                )
            }
            Name::Foreign {
                alphabet,
                alias,
                kana,
            } => {
                refuse_given(
                    &change.japanese_parts(),
                    "applies only to Japanese nationals",
                )?;
                let alias = match &change.alias {
                    Some(new) if new.trim().is_empty() => None,
                    Some(new) => Some(new.clone()),
                    None => alias.clone(),
                };
                let kana = change.name_kana.clone().or_else(|| kana.clone());
                Name::foreign(
                    &pick(&change.alphabet_name, alphabet),
                    alias.as_deref(),
                    kana.as_deref(),
                )
            }
        }
    }
}
