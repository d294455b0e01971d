//! `latchkey key ...`: signing keys.

use crate::cli::KeyCommand;
use crate::output;
use anyhow::Context;
use latchkey_store::{DEFAULT_TENANT, Store};

pub(crate) async fn run(store: &dyn Store, command: KeyCommand) -> anyhow::Result<()> {
    match command {
        KeyCommand::List(flag) => {
            let keys = store.signing_keys(DEFAULT_TENANT).await.context("could not list signing keys")?;
            if flag.json {
                let list: Vec<_> = keys.iter().map(output::key_json).collect();
                output::print_json(&list);
            } else {
                output::print_key_table(&keys);
            }
            Ok(())
        }
    }
}
