//! `latchkey tenant ...`: tenants on their own domains.

use super::now;
use crate::cli::TenantCommand;
use crate::output;
use latchkey_manage::audit::Actor;
use latchkey_manage::tenants::{self, NewTenant, TenantChanges};
use latchkey_store::Store;
use serde_json::json;

/// Fails with a pointer to `tenant list` unless the tenant exists (every `--tenant` command
/// checks first, so a typo never reads as "no apps").
pub(crate) async fn require(store: &dyn Store, tenant: &str) -> anyhow::Result<()> {
    tenants::show(store, tenant).await?;
    Ok(())
}

pub(crate) async fn run(
    store: &dyn Store,
    command: TenantCommand,
    master_keys: &super::master_key::MasterKeySource,
) -> anyhow::Result<()> {
    match command {
        TenantCommand::Create(args) => {
            let new = NewTenant {
                name: args.name,
                domains: args.domains,
                issuer: args.issuer,
                token_profile: args.token_profile,
                publish_scopes: args.no_publish_scopes.then_some(false),
                max_assertion_lifetime: args.max_assertion_lifetime,
            };
            let keys = master_keys.resolve(store, false).await?;
            let tenant = tenants::create(store, &keys, new, Actor::CLI, now()).await?;
            if args.json {
                output::print_json(&output::tenant_json(&tenant));
            } else {
                outln!("Created tenant {:?}.", tenant.name);
                output::print_tenant(&tenant);
                outln!("\nRunning servers answer its domains within a second.");
            }
        }
        TenantCommand::List(flag) => {
            let list = store.tenants().await?;
            if flag.json {
                let list: Vec<_> = list.iter().map(output::tenant_json).collect();
                output::print_json(&list);
            } else {
                output::print_tenant_table(&list);
            }
        }
        TenantCommand::Show(args) => {
            let tenant = tenants::show(store, &args.name).await?;
            if args.json {
                output::print_json(&output::tenant_json(&tenant));
            } else {
                output::print_tenant(&tenant);
            }
        }
        TenantCommand::Update(args) => {
            let changes = TenantChanges {
                domains: args.domains,
                issuer: match (args.issuer, args.default_issuer) {
                    (Some(issuer), _) => Some(Some(issuer)),
                    (None, true) => Some(None),
                    (None, false) => None,
                },
                token_profile: args.token_profile,
                publish_scopes: match (args.publish_scopes, args.no_publish_scopes) {
                    (true, _) => Some(true),
                    (false, true) => Some(false),
                    (false, false) => None,
                },
                max_assertion_lifetime: match (
                    args.max_assertion_lifetime,
                    args.default_assertion_lifetime,
                ) {
                    (Some(seconds), _) => Some(Some(seconds)),
                    (None, true) => Some(None),
                    (None, false) => None,
                },
            };
            if changes.is_empty() {
                anyhow::bail!(
                    "nothing to change: give --domain, --issuer, --default-issuer, --token-profile, --publish-scopes, --no-publish-scopes, --max-assertion-lifetime or --default-assertion-lifetime"
                );
            }
            let tenant = tenants::update(store, &args.name, &changes, Actor::CLI, now()).await?;
            if args.json {
                output::print_json(&output::tenant_json(&tenant));
            } else {
                outln!("Updated tenant {:?}.", tenant.name);
                output::print_tenant(&tenant);
            }
        }
        TenantCommand::Delete(args) => {
            tenants::delete(store, &args.name, args.force, Actor::CLI, now()).await?;
            if args.json {
                output::print_json(&json!({ "name": args.name, "deleted": true }));
            } else {
                outln!(
                    "Deleted tenant {:?}. Its domains now reach the default tenant (or 404 with --strict-hosts).",
                    args.name
                );
            }
        }
    }
    Ok(())
}
