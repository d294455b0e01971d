//! `latchkey man [--out DIR]`: man pages in roff, generated from the clap definitions, so they
//! cannot drift from the command line: `latchkey.1` and, with `--out`, one page per subcommand
//! named as man(1) expects (`latchkey-app-create.1` for `latchkey app create`).

use crate::cli::{Cli, ManArgs};
use anyhow::Context;
use clap::CommandFactory;
use clap_mangen::Man;
use std::path::{Path, PathBuf};

/// Prints latchkey.1, or writes every page into `--out` and prints their paths.
pub(crate) fn run(args: &ManArgs) -> anyhow::Result<()> {
    // Built once from the top, so that each subcommand knows its full name (`latchkey app
    // create`) and carries the global options; `help` is clap's, not a command of ours.
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    let Some(dir) = &args.out else {
        let mut page = Vec::new();
        Man::new(command).render(&mut page)?;
        outln!("{}", String::from_utf8(page)?.trim_end());
        return Ok(());
    };
    std::fs::create_dir_all(dir).with_context(|| {
        format!(
            "could not create {}: give --out a directory you can write",
            dir.display()
        )
    })?;
    let mut written = Vec::new();
    write_pages(command, dir, &mut written)
        .with_context(|| format!("could not write the man pages into {}", dir.display()))?;
    for path in written {
        outln!("{}", path.display());
    }
    Ok(())
}

/// Writes the page of `command` and of each subcommand under it (depth first).
fn write_pages(
    command: clap::Command,
    dir: &Path,
    written: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    written.push(Man::new(command.clone()).generate_to(dir)?);
    for subcommand in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        write_pages(subcommand.clone(), dir, written)?;
    }
    Ok(())
}
