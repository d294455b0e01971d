//! `latchkey app federation ...`: the external issuers an app trusts, on the database.

use super::app::read_jwks;
use super::now;
use crate::cli::{ClaimCondition, FederationAddArgs, FederationCommand, FederationRemoveArgs};
use crate::output;
use latchkey_manage::apps::{self, AppError};
use latchkey_manage::audit::Actor;
use latchkey_manage::federations;
use latchkey_manage::views::FederationList;
use latchkey_protocol::federation::{FederationError, FederationRule};
use latchkey_store::Store;
use std::collections::BTreeMap;

pub(crate) async fn run(
    store: &dyn Store,
    tenant: &str,
    command: FederationCommand,
) -> anyhow::Result<()> {
    match command {
        FederationCommand::Add(args) => add(store, tenant, args).await,
        FederationCommand::List(args) => {
            let app = apps::show(store, tenant, &args.id).await?;
            if args.json {
                output::print_json(&FederationList::from(&app));
            } else {
                output::print_federation_table(&app);
            }
            Ok(())
        }
        FederationCommand::Remove(args) => remove(store, tenant, args).await,
    }
}

/// `--claim` flags as conditions; naming one claim twice is refused rather than one winning.
fn conditions(claims: Vec<ClaimCondition>) -> Result<BTreeMap<String, String>, AppError> {
    let mut conditions = BTreeMap::new();
    for ClaimCondition(claim, value) in claims {
        if conditions.contains_key(&claim) {
            return Err(AppError::Federation(FederationError::RepeatedClaim(claim)));
        }
        conditions.insert(claim, value);
    }
    Ok(conditions)
}

async fn add(store: &dyn Store, tenant: &str, args: FederationAddArgs) -> anyhow::Result<()> {
    let rule = FederationRule {
        name: args.name,
        issuer: args.issuer,
        subject: args.subject,
        audience: args.audience,
        claims: conditions(args.claims)?,
        jwks: args.jwks.as_deref().map(read_jwks).transpose()?,
    };
    let name = rule.name.clone();
    let app = federations::add(store, tenant, &args.id, rule, Actor::CLI, now()).await?;
    if args.json {
        output::print_json(&FederationList::from(&app));
    } else {
        outln!(
            "Added federation {name:?} to app {}: tokens from its issuer that match are the app's.",
            app.client_id
        );
        output::print_federation_table(&app);
    }
    Ok(())
}

async fn remove(store: &dyn Store, tenant: &str, args: FederationRemoveArgs) -> anyhow::Result<()> {
    let app = federations::remove(store, tenant, &args.id, &args.name, Actor::CLI, now()).await?;
    if args.json {
        output::print_json(&FederationList::from(&app));
    } else {
        outln!(
            "Removed federation {:?} from app {}: its issuer's tokens are no longer accepted.",
            args.name,
            app.client_id
        );
    }
    Ok(())
}
