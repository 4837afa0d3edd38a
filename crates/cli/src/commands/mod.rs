//! One module per command group; each has its clap definition and a `run`.

pub mod audit;
pub mod card;
pub mod card_reader;
pub mod demo;
pub mod import;
pub mod init;
pub mod keys;
pub mod municipality;
pub mod notice;
pub mod number;
pub mod officer;
pub mod pki;
pub mod resident;
pub mod serve;
pub mod verify;

use std::path::{Path, PathBuf};

/// A time stored as microseconds since 1970, formatted with `pattern` (empty when
/// out of range).
pub fn format_micros(micros: i64, pattern: &str) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|t| t.format(pattern).to_string())
        .unwrap_or_default()
}

/// `text`, or `placeholder` when it is empty (so columns stay aligned).
pub fn or_placeholder<'a>(text: &'a str, placeholder: &'a str) -> &'a str {
    if text.is_empty() {
        placeholder
    } else {
        text
    }
}

/// Prints `items` as one pretty JSON array, or one `line` each.
pub fn print_list<T: serde::Serialize>(
    items: &[T],
    json: bool,
    line: impl Fn(&T) -> String,
) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(items)?);
    } else {
        for item in items {
            println!("{}", line(item));
        }
    }
    Ok(())
}

/// `path` with `suffix` appended to its file name: FILE.sig, FILE.rejects.csv.
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Today in the local time zone (dates of registry events default to it).
pub fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}
