//! `latchkey config ...`: the configuration file's own commands.

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Check the configuration file (--config or LATCHKEY_CONFIG) and print the settings
    /// `serve` would run with, each with where it came from (flag, env, file or default),
    /// secrets masked.
    Check(ConfigCheckArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ConfigCheckArgs {
    /// Print JSON: the file and each setting's key, value and source.
    #[arg(long)]
    pub(crate) json: bool,
}
