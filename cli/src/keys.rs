//! `cryptocache keys add NAME --file FILE`: a new relay API key, printed once; the file
//! keeps only its SHA-256.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use cryptocache_server::auth::KeysFile;

/// Arguments of `keys`.
#[derive(Debug, Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create a key called NAME: prints it once, stores only its hash in FILE.
    Add {
        /// Who the key is for (unique in the file).
        name: String,
        /// The keys file (created if missing).
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        /// Requests allowed per minute.
        #[arg(long, value_name = "N")]
        requests_per_minute: Option<u32>,
        /// Longest range one request may cover, in days.
        #[arg(long, value_name = "DAYS")]
        max_range_days: Option<u32>,
    },
}

/// Runs `keys`.
pub fn run(args: KeysArgs) -> Result<(), String> {
    match args.command {
        KeysCommand::Add { name, file, requests_per_minute, max_range_days } => {
            let mut keys = KeysFile::read(&file, true)?;
            let key = keys.add(&name)?;
            if let Some(entry) = keys.keys.last_mut() {
                entry.requests_per_minute = requests_per_minute;
                entry.max_range_days = max_range_days;
            }
            keys.write(&file)?;
            println!("{key}");
            eprintln!("key {name:?} added to {} (only its hash is stored: keep the key now)", file.display());
            Ok(())
        }
    }
}
