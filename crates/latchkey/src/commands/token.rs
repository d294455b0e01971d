//! `latchkey token revoke`.

use super::now;
use crate::cli::TokenCommand;
use crate::output;
use anyhow::Context;
use latchkey_server::audit::Actor;
use latchkey_server::tokens;
use latchkey_store::Store;
use serde_json::json;

pub(crate) async fn run(
    store: &dyn Store,
    tenant: &str,
    command: TokenCommand,
) -> anyhow::Result<()> {
    super::tenant::require(store, tenant).await?;
    let TokenCommand::Revoke(args) = command;
    let now = now();
    if let Some(client_id) = args.app {
        let app = tokens::revoke_app(store, tenant, &client_id, Actor::CLI, now).await?;
        if args.json {
            output::print_json(
                &json!({ "client_id": app.client_id, "tokens_revoked_before": output::timestamp(now) }),
            );
        } else {
            println!(
                "Revoked every token issued to app {} until now.",
                app.client_id
            );
        }
        return Ok(());
    }
    let jti = args.jti.context("give a token's jti or --app CLIENT_ID")?;
    tokens::revoke_jti(store, tenant, &jti, Actor::CLI, now)
        .await
        .context("could not store the revocation")?;
    if args.json {
        output::print_json(&json!({ "jti": jti, "revoked": true }));
    } else {
        println!("Revoked token {jti}. Running servers refuse it within a second.");
    }
    Ok(())
}
