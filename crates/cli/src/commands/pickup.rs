//! `maina pickup ...`: the card's way from the municipality to its holder.

use super::pickup_counter;
use crate::context::Context;
use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum PickupCommand {
    /// Hand a card over at the counter: the four PINs are read from standard input
    /// (one per line: auth, sign, residence, support) and set on the chip, the
    /// documents checked, the certificates issued. Prints the card id.
    HandOver(Box<pickup_counter::HandOverArgs>),
}

pub async fn run(context: &Context, command: PickupCommand) -> Result<()> {
    match command {
        PickupCommand::HandOver(args) => pickup_counter::hand_over(context, *args).await,
    }
}
