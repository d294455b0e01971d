//! `latchkey token revoke`.

use super::now;
use crate::cli::TokenCommand;
use crate::output;
use anyhow::Context;
use latchkey_protocol::client::MAX_TOKEN_TTL;
use latchkey_server::apps::{self, AppChanges};
use latchkey_store::{DEFAULT_TENANT, RevocationRecord, Store};
use serde_json::json;

pub(crate) async fn run(store: &dyn Store, command: TokenCommand) -> anyhow::Result<()> {
    let TokenCommand::Revoke(args) = command;
    let now = now();
    if let Some(client_id) = args.app {
        let changes = AppChanges {
            tokens_revoked_before: Some(now),
            ..AppChanges::default()
        };
        let app = apps::update(store, DEFAULT_TENANT, &client_id, &changes, now).await?;
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
    // Only the jti is known here, not the token's expiry: keep the record as long as any token
    // can live, plus the clock allowance.
    let record = RevocationRecord {
        jti: jti.clone(),
        tenant: DEFAULT_TENANT.to_owned(),
        client_id: None,
        expires_at: now + i64::from(MAX_TOKEN_TTL) + 60,
        revoked_at: now,
    };
    store
        .revoke_token(&record)
        .await
        .context("could not store the revocation")?;
    if args.json {
        output::print_json(&json!({ "jti": jti, "revoked": true }));
    } else {
        println!("Revoked token {jti}. Running servers refuse it within a second.");
    }
    Ok(())
}
