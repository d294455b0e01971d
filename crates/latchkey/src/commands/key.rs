//! `latchkey key ...`: signing keys.

use super::master_key::MasterKeySource;
use super::now;
use crate::cli::KeyCommand;
use crate::output;
use anyhow::Context;
use latchkey_server::audit::Actor;
use latchkey_server::keys::{self, RotationPolicy};
use latchkey_store::Store;
use serde_json::json;

pub(crate) async fn run(
    store: &dyn Store,
    tenant: &str,
    command: KeyCommand,
    master_keys: &MasterKeySource,
) -> anyhow::Result<()> {
    super::tenant::require(store, tenant).await?;
    match command {
        KeyCommand::List(flag) => {
            let keys = store
                .signing_keys(tenant)
                .await
                .context("could not list signing keys")?;
            if flag.json {
                let list: Vec<_> = keys.iter().map(output::key_json).collect();
                output::print_json(&list);
            } else {
                output::print_key_table(&keys);
            }
            Ok(())
        }
        KeyCommand::Rotate(args) => {
            let master_keys = master_keys.resolve(store, false).await?;
            // Only the clock allowance of the policy matters for a rotation made by hand.
            let policy = RotationPolicy::every_days(0);
            let kid = keys::rotate_now(
                store,
                &master_keys,
                tenant,
                args.alg,
                &policy,
                Actor::CLI,
                now(),
            )
            .await?;
            let key = store
                .signing_keys(tenant)
                .await?
                .into_iter()
                .find(|key| key.kid == kid)
                .context("the new key vanished right after rotation")?;
            if args.json {
                output::print_json(
                    &json!({ "kid": key.kid, "alg": key.alg, "status": key.status.as_str() }),
                );
            } else {
                outln!(
                    "New tokens are now signed with key {} ({}).",
                    key.kid,
                    key.alg
                );
                outln!(
                    "The previous key stays in the JWKS until every token it signed has expired."
                );
            }
            Ok(())
        }
    }
}
