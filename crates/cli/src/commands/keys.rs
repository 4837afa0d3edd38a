//! `maina keys ...`: the data key's rotation and where it stands.
//!
//! A rotation is a bulk job like `maina resident import`: batches, each committed
//! in one transaction with the job's cursor, so a run killed at any point resumes
//! at its last commit when `maina keys rotate` is run again. The new data key is
//! written into the key file (atomically) before the first batch and seals every
//! new value from then on; the old one stays in the key file, so everything still
//! opens, until no value is sealed with it, and only then is it removed.
//!
//! The stable keys (FF1 numbering, blind indexes, audit chain) do not rotate: see
//! `maina_store::Keys`.

use crate::context::Context;
use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use maina_store::{Keys, SealedCount, Store};
use std::collections::BTreeMap;

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Create a new data key and re-seal every sealed value with it, then retire the
    /// old key. Safe to stop: run it again and it goes on where it stopped.
    Rotate(RotateArgs),
    /// The data keys of the key file and how many sealed values each still seals.
    Status,
}

#[derive(Args, Debug)]
pub struct RotateArgs {
    /// Sealed values per transaction.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    batch: u32,
    /// No progress bar (for logs and scripts).
    #[arg(long)]
    quiet: bool,
    /// Stop after this many batches, as a kill would (to test the resumption).
    #[arg(long, hide = true)]
    stop_after_batches: Option<u64>,
}

/// Sealed values per data key id (`None`: too short to carry one).
fn per_key(counts: &[SealedCount]) -> BTreeMap<Option<u32>, u64> {
    let mut per_key = BTreeMap::new();
    for count in counts {
        *per_key.entry(count.key_id).or_insert(0) += count.values;
    }
    per_key
}

pub async fn run(context: &Context, command: KeysCommand) -> Result<()> {
    match command {
        KeysCommand::Rotate(args) => rotate(context, &args).await,
        KeysCommand::Status => context.with_store(async |store| status(store).await).await,
    }
}

async fn status(store: &Store) -> Result<()> {
    let held = store.data_key_ids();
    let current = held.last().copied().unwrap_or_default();
    let counts = per_key(&store.sealed_key_counts().await?);
    println!("data key {current} seals new values");
    for id in &held {
        let values = counts.get(&Some(*id)).copied().unwrap_or(0);
        println!("data key {id}: {values} sealed values");
    }
    for (id, values) in &counts {
        match id {
            Some(id) if held.contains(id) => {}
            Some(id) => println!("data key {id}: {values} sealed values, NOT in the key file"),
            None => println!("{values} sealed values too short to name a key (corrupt)"),
        }
    }
    if held.len() > 1 {
        println!("a rotation is under way: run `maina keys rotate` to finish it");
    }
    println!("stable keys (never rotated): FF1 numbering, blind indexes, audit chain, key check");
    Ok(())
}

async fn rotate(context: &Context, args: &RotateArgs) -> Result<()> {
    let path = context.key_path();
    context.check_key_files()?;
    let keys = Keys::load(&path)?;
    if keys.data_key_ids().len() > 1 {
        println!(
            "resuming the rotation to data key {}",
            keys.current_data_key_id()
        );
    } else {
        let rotated = keys.with_new_data_key();
        rotated.save(&path)?;
        println!(
            "created data key {} in {}; data key {} stays until every value is re-sealed",
            rotated.current_data_key_id(),
            path.display(),
            keys.current_data_key_id()
        );
    }
    context
        .with_store(async |store| reseal(context, store, args).await)
        .await
}

/// Passes over every sealed value before giving up on values that an older
/// process (a server started before the rotation) keeps sealing with an old key.
const MAX_PASSES: u32 = 3;

async fn reseal(context: &Context, store: &Store, args: &RotateArgs) -> Result<()> {
    let held = store.data_key_ids();
    let target = held.last().copied().unwrap_or_default();
    store
        .audit(&context.who(), &format!("keys.rotate:{target}"), None)
        .await?;
    let total: u64 = store
        .sealed_key_counts()
        .await?
        .iter()
        .map(|c| c.values)
        .sum();
    let progress = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total).with_style(
            ProgressStyle::with_template(
                "{spinner} {bar:40} {pos}/{len} sealed values {msg} ({eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        )
    };
    let mut resealed = 0u64;
    let mut batches = 0u64;
    let mut passes = 1u32;
    loop {
        let step = store.reseal_batch(args.batch).await?;
        batches += 1;
        resealed += step.resealed;
        progress.set_position(step.scanned);
        progress.set_message(format!("{resealed} re-sealed"));
        if step.done {
            let left: u64 = per_key(&store.sealed_key_counts().await?)
                .iter()
                .filter(|(id, _)| **id != Some(target))
                .map(|(_, values)| values)
                .sum();
            if left == 0 {
                break;
            }
            if passes >= MAX_PASSES {
                progress.finish_and_clear();
                bail!(
                    "{left} values are still sealed with an older data key after {passes} passes: \
                     a process started before the rotation (maina serve) still seals with it; \
                     restart it, then run `maina keys rotate` again"
                );
            }
            passes += 1;
            store.reset_reseal().await?;
            continue;
        }
        if args.stop_after_batches == Some(batches) {
            progress.finish_and_clear();
            println!(
                "stopped after {batches} batches ({resealed} values re-sealed): \
                 run `maina keys rotate` again to go on"
            );
            return Ok(());
        }
    }
    progress.finish_and_clear();
    let path = context.key_path();
    Keys::load(&path)?.without_old_data_keys().save(&path)?;
    store.reset_reseal().await?;
    store
        .audit(&context.who(), &format!("keys.rotated:{target}"), None)
        .await?;
    let retired: Vec<String> = held
        .iter()
        .filter(|id| **id != target)
        .map(u32::to_string)
        .collect();
    println!(
        "re-sealed {resealed} values with data key {target} in this run; retired data key {} (removed from {})",
        retired.join(", "),
        path.display()
    );
    Ok(())
}
