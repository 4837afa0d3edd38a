//! `maina officer ...`: the officer accounts.

use crate::context::Context;
use anyhow::{bail, Result};
use clap::Subcommand;
use maina_core::officer::{Role, Username};
use maina_core::MunicipalityCode;
use std::io::{BufRead, IsTerminal};

#[derive(Subcommand, Debug)]
pub enum OfficerCommand {
    /// Add an officer account bound to one municipality.
    Add {
        /// User name: 3-32 of a-z, 0-9, '.', '_', '-'.
        username: String,
        /// registrar | counter | supervisor | auditor | helpline
        #[arg(long)]
        role: String,
        /// The 6-digit code of the officer's municipality.
        #[arg(long)]
        municipality: String,
        /// Read the password from standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the officer accounts.
    List,
    /// Disable an account (its sessions end at once).
    Disable { username: String },
    /// Enable a disabled account.
    Enable { username: String },
    /// Set a new password (also lifts a lockout and ends the account's sessions).
    Passwd {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

/// A new password: from standard input, or asked twice at the terminal.
fn read_password(from_stdin: bool) -> Result<String> {
    if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    let first = rpassword::prompt_password("password: ")?;
    let second = rpassword::prompt_password("again: ")?;
    if first != second {
        bail!("password: the two entries differ");
    }
    Ok(first)
}

pub async fn run(context: &Context, command: OfficerCommand) -> Result<()> {
    context
        .with_store(async |store| {
            let who = context.who();
            match command {
                OfficerCommand::Add {
                    username,
                    role,
                    municipality,
                    password_stdin,
                } => {
                    let username: Username = username.parse()?;
                    let role: Role = role.parse()?;
                    if role == Role::Administrator {
                        bail!("role: administrator is not an officer role");
                    }
                    let municipality: MunicipalityCode = municipality
                        .parse()
                        .map_err(|e| anyhow::anyhow!("municipality: {e}"))?;
                    if !store
                        .municipalities()
                        .await?
                        .iter()
                        .any(|m| m.code == municipality)
                    {
                        bail!("municipality: {} is not a municipality of this registry (maina municipality add)", municipality.as_digits());
                    }
                    let password = read_password(password_stdin)?;
                    let officer = store
                        .add_officer(&username, role, municipality, &password, &who)
                        .await?;
                    println!(
                        "officer {} added: {} of {}",
                        officer.username,
                        officer.role,
                        officer.municipality.as_digits()
                    );
                }
                OfficerCommand::List => {
                    for officer in store.officers().await? {
                        let state = if officer.disabled {
                            "disabled"
                        } else if officer.locked_until > maina_store::now_micros() {
                            "locked"
                        } else {
                            "active"
                        };
                        println!(
                            "{:<20} {:<11} {}  {state}",
                            officer.username,
                            officer.role.as_str(),
                            officer.municipality.as_digits()
                        );
                    }
                }
                OfficerCommand::Disable { username } => {
                    store.set_officer_disabled(&username, true, &who).await?;
                    println!("officer {username} disabled");
                }
                OfficerCommand::Enable { username } => {
                    store.set_officer_disabled(&username, false, &who).await?;
                    println!("officer {username} enabled");
                }
                OfficerCommand::Passwd {
                    username,
                    password_stdin,
                } => {
                    let password = read_password(password_stdin)?;
                    store
                        .set_officer_password(&username, &password, &who)
                        .await?;
                    println!("password of {username} changed");
                }
            }
            Ok(())
        })
        .await
}
