//! `maina number ...`: checking a My Number, and changing a resident's after a leak.

use crate::commands::{resident, resident_identifier};
use crate::context::Context;
use anyhow::{bail, Result};
use clap::Subcommand;
use maina_core::MyNumber;
use maina_store::{NumberStatus, Store};

#[derive(Subcommand, Debug)]
pub enum NumberCommand {
    /// Check a My Number's form and check digit (and, with a registry, its status).
    Check {
        /// `-` (or nothing): the number is asked at the prompt or read from standard
        /// input (spaces, hyphens and full-width digits are fine). Never an argument:
        /// it would stay in the shell's history and show in `ps`.
        #[arg(default_value = "-")]
        number: String,
    },
    /// Change a resident's My Number after a leak; the old one is retired for good.
    Change {
        /// Resident record code, or `-` to type or pipe the current My Number.
        resident: String,
        /// Why (kept sealed with the retired number).
        #[arg(long)]
        reason: String,
        #[arg(long)]
        date: Option<String>,
    },
}

pub async fn run(context: &Context, command: NumberCommand) -> Result<()> {
    match command {
        NumberCommand::Check { number } => {
            let number = resident_identifier(&number)?;
            let number: MyNumber = match number.parse() {
                Ok(number) => number,
                Err(error) => bail!("invalid: {error}"),
            };
            println!("valid My Number {}", number.masked());
            // Without a registry the check is of the number's form only.
            if context.key_path().exists() {
                context
                    .with_store(async |store| registry_status(context, store, &number).await)
                    .await?;
            }
            Ok(())
        }
        NumberCommand::Change {
            resident,
            reason,
            date,
        } => {
            context
                .with_store(async |store| {
                    let who = context.who();
                    let service = resident::service(store);
                    let view = service
                        .find_resident(&who, &resident_identifier(&resident)?)
                        .await?;
                    let code = view.resident_code.as_digits();
                    let changed = service
                        .change_number(&who, &code, &reason, date.as_deref())
                        .await?;
                    println!("retired   {}", changed.retired_masked);
                    println!("new       {}", changed.my_number.number());
                    Ok(())
                })
                .await
        }
    }
}

/// Prints what the registry knows of `number`; a look-up that finds a resident is
/// recorded in the access log.
async fn registry_status(context: &Context, store: &Store, number: &MyNumber) -> Result<()> {
    let status = store.lookup_number(number).await?;
    let (resident_key, line) = match &status {
        NumberStatus::Active { resident_key } => {
            (Some(*resident_key), "issued and in use".to_string())
        }
        NumberStatus::Retired {
            resident_key,
            replaced_by,
            ..
        } => (
            Some(*resident_key),
            format!(
                "retired (changed after a leak; replaced by {})",
                replaced_by.masked()
            ),
        ),
        NumberStatus::NotIssued => (None, "not issued by this registry".to_string()),
    };
    if let Some(key) = resident_key {
        store
            .audit(&context.who(), "number-check", Some(key))
            .await?;
    }
    println!("registry: {line}");
    Ok(())
}
