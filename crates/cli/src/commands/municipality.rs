//! `maina municipality ...`.

use crate::context::Context;
use anyhow::{Context as _, Result};
use clap::Subcommand;
use maina_core::MunicipalityCode;
use maina_store::Municipality;

#[derive(Subcommand, Debug)]
pub enum MunicipalityCommand {
    /// Add a municipality (or rename one).
    Add {
        /// The 6-digit local government code, e.g. 131016.
        code: String,
        /// Name in Japanese, e.g. 千代田区.
        #[arg(long)]
        name_ja: String,
        /// Name in English, e.g. "Chiyoda City".
        #[arg(long)]
        name_en: String,
    },
    /// List the municipalities.
    List,
}

pub async fn run(context: &Context, command: MunicipalityCommand) -> Result<()> {
    context
        .with_store(async |store| match command {
            MunicipalityCommand::Add {
                code,
                name_ja,
                name_en,
            } => {
                let code: MunicipalityCode = code.parse().context("code")?;
                let name_ja = maina_core::person::clean_text("name_ja", &name_ja, 100)?;
                let name_en = maina_core::person::clean_text("name_en", &name_en, 100)?;
                store
                    .put_municipality(&Municipality {
                        code,
                        name_ja,
                        name_en,
                    })
                    .await?;
                println!("municipality {} saved", code.as_digits());
                Ok(())
            }
            MunicipalityCommand::List => {
                for m in store.municipalities().await? {
                    println!("{}  {}  {}", m.code.as_digits(), m.name_ja, m.name_en);
                }
                Ok(())
            }
        })
        .await
}
