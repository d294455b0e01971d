//! `latchkey key ...`: signing keys.

use super::master_key::MasterKeySource;
use super::now;
use crate::cli::KeyCommand;
use crate::output;
use anyhow::Context;
use latchkey_manage::audit::Actor;
use latchkey_manage::keys;
use latchkey_store::{KeyStatus, Store};
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
            let delay = args.activate_in.map_or(0, |delay| delay.as_secs());
            let kid = keys::rotate(
                store,
                &master_keys,
                tenant,
                args.alg,
                delay,
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
            if delay < latchkey_keys::lifecycle::SAFE_ACTIVATION_DELAY_SECONDS {
                eprintln!(
                    "warning: verifiers that cached the JWKS (for up to {} s; jose and PyJWT refetch \
                     an unknown kid at most every 30 s) reject tokens of the new key until they \
                     refetch it. `latchkey key rotate --in 10m` publishes the key first and signs \
                     with it from then on.",
                    latchkey_keys::lifecycle::JWKS_MAX_AGE_SECONDS
                );
            }
            // A key promoted at once may carry the instant of an earlier schedule.
            let activate_at = key.activate_at.filter(|_| key.status == KeyStatus::Next);
            if args.json {
                output::print_json(&json!({
                    "kid": key.kid,
                    "alg": key.alg,
                    "status": key.status.as_str(),
                    "activate_at": activate_at.map(output::timestamp),
                }));
            } else if let Some(at) = activate_at {
                outln!(
                    "Key {} ({}) is published now and signs new tokens from {} on, on every server.",
                    key.kid,
                    key.alg,
                    output::timestamp(at)
                );
                outln!(
                    "Until then the current key signs; it stays in the JWKS until every token it signed has expired."
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
