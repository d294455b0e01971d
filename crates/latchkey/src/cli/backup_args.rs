//! The arguments of `backup` and `restore`, the SQLite database's online copy and its way
//! back.

use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub(crate) struct BackupArgs {
    /// The file to write the copy to (refused if it exists, unless --force).
    pub(crate) file: PathBuf,
    /// Replace FILE if it exists: the old file stays whole until the new copy is complete.
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RestoreArgs {
    /// The backup to put back (a file `latchkey backup` wrote).
    pub(crate) file: PathBuf,
    /// Replace the --database file if it exists; refused while a process has it open (stop
    /// every server on it first).
    #[arg(long)]
    pub(crate) force: bool,
}
