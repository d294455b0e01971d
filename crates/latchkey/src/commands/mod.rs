//! One module per command family; each opens the store it needs and prints its result.

mod app;
mod audit;
mod key;
mod master_key;
mod serve;
mod tenant;
mod token;

pub(crate) use audit::Since;

use crate::cli::{Cli, Command};
use anyhow::Context;
use latchkey_store::Store;
use std::sync::Arc;

/// Runs the parsed command.
pub(crate) async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::MasterKey(crate::cli::MasterKeyCommand::Generate) = cli.command {
        println!("{}", latchkey_keys::master_key::generate_text());
        return Ok(());
    }
    let store = open_store(&cli.database).await?;
    let master_keys =
        |serving| master_key::resolve(cli.master_key_file.clone(), &cli.database, serving);
    match cli.command {
        Command::Serve(args) => serve::serve(store, master_keys(true)?, args, None).await,
        Command::Quickstart(args) => serve::quickstart(store, master_keys(true)?, args).await,
        Command::Tenant(command) => tenant::run(store.as_ref(), command).await,
        Command::App(scoped) => app::run(store.as_ref(), &scoped.tenant, scoped.command).await,
        Command::Key(scoped) => {
            key::run(store.as_ref(), &scoped.tenant, scoped.command, || {
                master_keys(false)
            })
            .await
        }
        Command::Token(scoped) => token::run(store.as_ref(), &scoped.tenant, scoped.command).await,
        Command::Audit(command) => audit::run(store.as_ref(), command).await,
        Command::MasterKey(command) => {
            master_key::run(store.as_ref(), command, cli.master_key_file, &cli.database).await
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
                    format!("{}{user}:[redacted]{}", &url[..scheme_end + 3], &url[at..])
                }
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

async fn open_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    latchkey_store::open(url).await.with_context(|| {
        format!(
            "could not use database {}; check --database (or LATCHKEY_DATABASE_URL): for SQLite the \
             directory must exist and be writable",
            redact_url(url)
        )
    })
}

/// Unix seconds now, for records the CLI writes.
pub(crate) fn now() -> i64 {
    use latchkey_server::Clock;
    latchkey_server::SystemClock.now()
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_in_database_urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:pw@h/db"),
            "postgres://u:[redacted]@h/db"
        );
        assert_eq!(redact_url("sqlite://latchkey.db"), "sqlite://latchkey.db");
    }
}
