//! `latchkey token revoke`.

use super::master_key::MasterKeySource;
use super::now;
use crate::cli::TokenCommand;
use crate::output;
use anyhow::Context;
use latchkey_manage::audit::Actor;
use latchkey_manage::revocations::{self, RevokeError};
use latchkey_store::Store;
use serde_json::json;

pub(crate) async fn run(
    store: &dyn Store,
    tenant: &str,
    command: TokenCommand,
    master_keys: &MasterKeySource,
) -> anyhow::Result<()> {
    super::tenant::require(store, tenant).await?;
    let TokenCommand::Revoke(args) = command;
    let now = now();
    if let Some(client_id) = args.app {
        let app = revocations::revoke_app(store, tenant, &client_id, Actor::CLI, now).await?;
        if args.json {
            output::print_json(
                &json!({ "client_id": app.client_id, "tokens_revoked_before": output::timestamp(now) }),
            );
        } else {
            outln!(
                "Revoked every token issued to app {} until now.",
                app.client_id
            );
        }
        return Ok(());
    }
    if let Some(token) = args.token {
        let token = if token == "-" {
            std::io::read_to_string(std::io::stdin())
                .context("could not read the token from stdin")?
        } else {
            token
        };
        let master_keys = master_keys.resolve(store, false).await?;
        let revoked =
            revocations::revoke_token(store, &master_keys, token.trim(), Actor::CLI, now).await?;
        let expires_at = output::timestamp(revoked.expires_at);
        if args.json {
            output::print_json(&json!({
                "jti": revoked.jti,
                "tenant": revoked.tenant,
                "client_id": revoked.client_id,
                "expires_at": expires_at,
                "revoked": true,
            }));
        } else {
            outln!(
                "Revoked token {} of app {} in tenant {}. Running servers refuse it within a \
                 second; the revocation is kept until the token expires at {expires_at}.",
                revoked.jti,
                revoked.client_id,
                revoked.tenant
            );
        }
        return Ok(());
    }
    let jti = args
        .jti
        .context("give a token's jti, --token JWT or --app CLIENT_ID")?;
    let jti = match revocations::revoke_jti(store, tenant, &jti, Actor::CLI, now).await {
        Ok(jti) => jti,
        Err(error @ RevokeError::NotAJti) => {
            anyhow::bail!(
                "{error}: copy the token's jti claim, or give the whole token with --token JWT"
            )
        }
        Err(error) => return Err(error).context("could not store the revocation"),
    };
    if args.json {
        output::print_json(&json!({ "jti": jti, "tenant": tenant, "revoked": true }));
    } else {
        outln!(
            "Tenant {tenant} now refuses a token with jti {jti} (running servers within a second). \
             latchkey keeps no list of the tokens it issued, so it cannot tell whether such a token \
             was issued, or in which tenant; `latchkey token revoke --token JWT` finds a token's \
             tenant and expiry by itself."
        );
    }
    Ok(())
}
