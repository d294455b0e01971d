//! The arguments of `completions` and `man`, the commands that print this command line itself
//! (shell completion scripts and man pages, generated from the clap definitions).

use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// A shell `latchkey completions` writes a script for.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell whose completion script to print: bash, zsh or fish.
    pub(crate) shell: Shell,
}

#[derive(Debug, Args)]
pub(crate) struct ManArgs {
    /// Write latchkey.1 and a page per subcommand (latchkey-serve.1, latchkey-app-create.1,
    /// ...) into this directory, created if missing, and print each file's path. Without it,
    /// latchkey.1 alone goes to stdout.
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
}
