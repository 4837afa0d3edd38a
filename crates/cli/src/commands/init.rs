//! `maina init`: the data directory, its key file, the database and the card
//! authorities.

use crate::commands::pki;
use crate::context::{redact_url, Context};
use anyhow::Result;

pub async fn run(context: &Context) -> Result<()> {
    let store = context.init().await?;
    println!("initialised {}", context.data.display());
    pki::init_authorities(context, &store, None).await?;
    println!(
        "  key file: {} (keep it safe and out of backups of the database)",
        context.key_path().display()
    );
    println!(
        "  audit checkpoint key: {} (signs the audit checkpoints; keep it with the key file)",
        context.checkpoint_key_path().display()
    );
    println!(
        "  database: {} ({})",
        redact_url(&context.db_url()),
        store.backend().name()
    );
    store.close().await;
    Ok(())
}
