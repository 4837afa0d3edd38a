//! `maina audit ...`: the hash-chained audit trail.

use crate::commands::{format_micros, or_placeholder, print_list};
use crate::context::Context;
use anyhow::Result;
use clap::Subcommand;
use maina_core::ResidentCode;
use maina_service::audit_checkpoint::{self, CheckpointWriter};
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the whole hash chain: finds any edited, removed or reordered event;
    /// with --checkpoints, also events removed at its end.
    Verify {
        /// A directory of signed checkpoints (`maina serve`'s audit_checkpoint_dir):
        /// the chain must reach every checkpoint and match it there.
        #[arg(long)]
        checkpoints: Option<PathBuf>,
    },
    /// Append a signed checkpoint of the chain's head now.
    Checkpoint {
        /// The checkpoint directory [default: DATA/audit-checkpoints].
        #[arg(long)]
        dir: Option<PathBuf>,
    },
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
            AuditCommand::Verify { checkpoints } => {
                let report = store.verify_audit().await?;
                if let Some(problem) = report.problem {
                    anyhow::bail!(
                        "audit trail BROKEN after {} good events: {problem}",
                        report.events
                    );
                }
                println!(
                    "audit trail intact: {} events, every link checked",
                    report.events
                );
                if let Some(dir) = checkpoints {
                    let key = audit_checkpoint::load_key(&context.checkpoint_key_path())?;
                    let report =
                        audit_checkpoint::verify(store, &dir, &key.verifying_key()).await?;
                    if let Some(problem) = report.problem {
                        anyhow::bail!("audit trail BROKEN: {problem}");
                    }
                    println!(
                        "audit trail reaches and matches all {} signed checkpoints in {}",
                        report.checked,
                        dir.display()
                    );
                }
                Ok(())
            }
            AuditCommand::Checkpoint { dir } => {
                let dir = dir.unwrap_or_else(|| context.default_checkpoint_dir());
                let writer = CheckpointWriter::open(&context.checkpoint_key_path(), &dir)?;
                let checkpoint = writer.write(store).await?;
                println!(
                    "checkpoint of event {} written to {}",
                    checkpoint.seq,
                    dir.join(audit_checkpoint::CHECKPOINT_FILE).display()
                );
                Ok(())
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
