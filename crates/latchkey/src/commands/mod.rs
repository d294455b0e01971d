//! One module per command family; each opens the store it needs and prints its result.

mod app;
mod audit;
mod backup;
mod completions;
mod config;
mod db;
mod federation;
mod key;
mod man;
mod master_key;
mod serve;
mod tenant;
mod token;

pub(crate) use audit::Moment;

use crate::cli::{Cli, Command};
use crate::config_file::Resolved;
use anyhow::bail;
use latchkey_store::{Create, Store, StoreError};
use std::sync::Arc;

/// Runs the parsed command; `resolved` is the command line it came from, with the
/// configuration file applied.
pub(crate) async fn run(cli: Cli, resolved: &Resolved) -> anyhow::Result<()> {
    let inline = master_key::InlineKeys::find(resolved.file.as_ref()).map(Arc::new);
    let command = match cli.command {
        Command::MasterKey(crate::cli::MasterKeyCommand::Generate) => {
            outln!("{}", master_key::new_key_text().as_str());
            return Ok(());
        }
        // Reads no database: it checks the file and prints what `serve` would run with.
        Command::Config(crate::cli::ConfigCommand::Check(args)) => {
            return config::check(resolved, &args);
        }
        // Works on the two databases it names, not on --database.
        Command::Db(command) => return db::run(command, cli.master_key_file, inline).await,
        // They copy the database's file, and need no master key.
        Command::Backup(args) => {
            return backup::backup(args, &cli.database, cli.master_key_file.as_deref()).await;
        }
        Command::Restore(args) => {
            return backup::restore(args, &cli.database, cli.master_key_file.as_deref()).await;
        }
        // Print the command line itself, with no database.
        Command::Completions(args) => return completions::print(&args),
        Command::Man(args) => return man::run(&args),
        command => command,
    };
    let master_keys = master_key::MasterKeySource {
        file: cli.master_key_file,
        database_url: cli.database,
        inline,
    };
    // Checked before the database is opened, so that nothing (not even a migration) is
    // written by a command that could not go on.
    master_keys.require_given()?;
    let store = open_store(&master_keys.database_url, creates_deployment(&command)).await?;
    match command {
        Command::Serve(args) => {
            let keys = master_keys.resolve(store.as_ref(), true).await?;
            serve::serve(store, keys, args).await
        }
        Command::Quickstart(args) => {
            let keys = master_keys.resolve(store.as_ref(), true).await?;
            serve::quickstart(store, keys, args).await
        }
        Command::Tenant(command) => tenant::run(store.as_ref(), command, &master_keys).await,
        Command::App(scoped) => app::run(store.as_ref(), &scoped.tenant, scoped.command).await,
        Command::Key(scoped) => {
            key::run(store.as_ref(), &scoped.tenant, scoped.command, &master_keys).await
        }
        Command::Token(scoped) => {
            token::run(store.as_ref(), &scoped.tenant, scoped.command, &master_keys).await
        }
        Command::Audit(command) => audit::run(store.as_ref(), command).await,
        Command::MasterKey(command) => master_key::run(store.as_ref(), command, &master_keys).await,
        Command::Db(_)
        | Command::Backup(_)
        | Command::Restore(_)
        | Command::Config(_)
        | Command::Completions(_)
        | Command::Man(_) => {
            unreachable!(
                "db, backup, restore, config, completions and man return before --database \
                 is opened"
            )
        }
    }
}

/// A database URL fit for messages: any password replaced.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => {
                    format!(
                        "{}{user}:{}{}",
                        &url[..scheme_end + 3],
                        config::MASK,
                        &url[at..]
                    )
                }
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Whether a command may create a database that does not exist yet: the server, and the
/// writes that can start a new deployment. Every other command works on what already exists,
/// so on a mistyped path it says so instead of answering from a new, empty database.
fn creates_deployment(command: &Command) -> Create {
    use crate::cli::{AppCommand, KeyCommand, TenantCommand};
    let creates = match command {
        Command::Serve(_) | Command::Quickstart(_) | Command::Tenant(TenantCommand::Create(_)) => {
            true
        }
        Command::App(scoped) => matches!(scoped.command, AppCommand::Create(_)),
        Command::Key(scoped) => matches!(scoped.command, KeyCommand::Rotate(_)),
        Command::Tenant(_)
        | Command::Token(_)
        | Command::Audit(_)
        | Command::MasterKey(_)
        | Command::Db(_)
        | Command::Backup(_)
        | Command::Restore(_)
        | Command::Config(_)
        | Command::Completions(_)
        | Command::Man(_) => false,
    };
    if creates {
        Create::IfMissing
    } else {
        Create::Never
    }
}

/// The flag (and environment variable) most commands take their database from.
const DATABASE_FLAG: &str = "--database (or LATCHKEY_DATABASE_URL)";

/// Opens the `--database`, with a message that names the cause first and then what to do.
async fn open_store(url: &str, create: Create) -> anyhow::Result<Arc<dyn Store>> {
    open_store_from(url, create, DATABASE_FLAG).await
}

/// Opens the database `flag` gave, with a message that names the cause first and then what
/// to do.
async fn open_store_from(url: &str, create: Create, flag: &str) -> anyhow::Result<Arc<dyn Store>> {
    let error = match latchkey_store::open_with(url, create).await {
        Ok(store) => return Ok(store),
        Err(error) => error,
    };
    match error {
        StoreError::Missing(path) if flag == DATABASE_FLAG => bail!(
            "there is no database at {}: check {flag}, or create one with `latchkey serve`, \
             `latchkey quickstart`, `latchkey tenant create` or `latchkey app create`",
            path.display()
        ),
        StoreError::Missing(path) => {
            bail!("there is no database at {}: check {flag}", path.display())
        }
        StoreError::UnsupportedUrl(_) | StoreError::BadUrl(_) => bail!("{error}: check {flag}"),
        error => bail!(
            "{error} ({}): check {flag}; for SQLite the directory must exist and be writable",
            redact_url(url)
        ),
    }
}

/// Unix seconds now, for records the CLI writes.
pub(crate) fn now() -> i64 {
    use latchkey_manage::clock::Clock;
    latchkey_manage::clock::SystemClock.now()
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_in_database_urls_are_redacted() {
        assert_eq!(redact_url("postgres://u:pw@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("sqlite://latchkey.db"), "sqlite://latchkey.db");
    }
}
