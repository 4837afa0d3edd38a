//! One module per command group; each has its clap definition and a `run`.

pub mod audit;
pub mod card;
pub mod card_counter;
pub mod card_history;
pub mod card_login;
pub mod card_manufacture;
pub mod card_moving;
pub mod card_reader;
pub mod card_renewal;
pub mod card_suspension;
pub mod demo;
pub mod demo_path;
pub mod import;
pub mod init;
pub mod keys;
pub mod municipality;
pub mod notice;
pub mod number;
pub mod office;
pub mod officer;
pub mod oidc;
pub mod pickup;
pub mod pickup_counter;
pub mod pki;
pub mod resident;
pub mod serve;
pub mod verifier;
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

/// A resident identifier as given on the command line: a resident record code, or
/// `-` to read a My Number from standard input (asked without echo at a
/// terminal). A My Number given as an argument is refused: it would stay in the
/// shell's history and show in `ps` to every user of the machine.
pub fn resident_identifier(raw: &str) -> anyhow::Result<String> {
    if raw == "-" {
        return read_my_number();
    }
    refuse_my_number_argument(raw)?;
    Ok(raw.to_string())
}

/// Refuses an argument that looks like a My Number (twelve digits, separators
/// aside), saying why and what to do instead.
pub fn refuse_my_number_argument(raw: &str) -> anyhow::Result<()> {
    // Digits in any script, as `MyNumber` parses them (full-width too).
    if raw.chars().filter(|c| c.is_numeric()).count() == maina_core::MyNumber::LEN {
        anyhow::bail!(
            "a My Number is not taken as a command-line argument (it would stay in the shell's \
             history and show in `ps`): give `-` instead and type it at the prompt or pipe it \
             on standard input"
        );
    }
    Ok(())
}

/// A My Number from standard input: asked without echo at a terminal, else the
/// first line of what is piped in.
pub fn read_my_number() -> anyhow::Result<String> {
    use std::io::{BufRead, IsTerminal};
    let typed = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("My Number: ")?
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line
    };
    let typed = typed.trim().to_string();
    if typed.is_empty() {
        anyhow::bail!("my_number: nothing was given on standard input");
    }
    Ok(typed)
}
