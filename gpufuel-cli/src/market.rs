//! `gpufuel market …`: market information.

use gpufuel_core::class::class_name;

use crate::{CliResult, connection::Connection};

#[derive(clap::Subcommand)]
pub enum MarketCommand {
    /// Reference prices per GPU class.
    Prices,
}

pub async fn run(connection: &Connection, command: MarketCommand) -> CliResult {
    let MarketCommand::Prices = command;
    for (class, price) in connection.client.prices().await? {
        println!("{:<10} {price}/GPU-s", class_name(class));
    }
    Ok(())
}
