//! `maina audit ...`: the hash-chained audit trail.

use crate::commands::{format_micros, or_placeholder, print_list};
use crate::context::Context;
use anyhow::Result;
use clap::Subcommand;
use maina_core::ResidentCode;

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the whole hash chain: finds any edited, removed or reordered event.
    Verify,
    /// List the audit events about one resident (or all of them).
    Show {
        /// Resident record code.
        #[arg(long)]
        resident: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(context: &Context, command: AuditCommand) -> Result<()> {
    context
        .with_store(async |store| match command {
            AuditCommand::Verify => {
                let report = store.verify_audit().await?;
                match report.problem {
                    None => {
                        println!(
                            "audit trail intact: {} events, every link checked",
                            report.events
                        );
                        Ok(())
                    }
                    Some(problem) => Err(anyhow::anyhow!(
                        "audit trail BROKEN after {} good events: {problem}",
                        report.events
                    )),
                }
            }
            AuditCommand::Show { resident, json } => {
                let key = match resident {
                    Some(code) => {
                        let code: ResidentCode = code.parse()?;
                        Some(store.authority().resident_key(&code)?)
                    }
                    None => None,
                };
                let events = store.audit_events(key).await?;
                print_list(&events, json, |event| {
                    let at = format_micros(event.at, "%Y-%m-%d %H:%M:%S");
                    let municipality = or_placeholder(&event.municipality, "*");
                    format!(
                        "#{:<6} {at}  {} ({}, {municipality})  {}  purpose: {}",
                        event.seq, event.officer, event.role, event.action, event.purpose
                    )
                })
            }
        })
        .await
}
