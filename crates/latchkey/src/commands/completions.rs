//! `latchkey completions SHELL`: the shell's completion script for every command and flag,
//! generated from the clap definitions, so it cannot drift from them.

use crate::cli::{Cli, CompletionsArgs, Shell};
use clap::CommandFactory;

/// The name the scripts complete, the binary's.
const BIN_NAME: &str = "latchkey";

/// Prints the completion script of `args.shell` on stdout.
pub(crate) fn print(args: &CompletionsArgs) -> anyhow::Result<()> {
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), BIN_NAME, &mut script);
    let script = String::from_utf8(script)?;
    outln!("{}", script.trim_end());
    Ok(())
}
