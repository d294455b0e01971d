//! Token revocation by an operator (CLI or admin API), as opposed to `/oauth2/revoke` where a
//! client revokes its own token: one token by its jti, or every token an app holds.

use crate::apps::{self, AppChanges, AppError};
use crate::audit::{self, Actor};
use latchkey_protocol::client::MAX_TOKEN_TTL;
use latchkey_store::{AppRecord, RevocationRecord, Store, StoreError};
use serde_json::json;

/// Revokes one token by its jti. Only the jti is known here, not the token's expiry, so the
/// record is kept as long as any token can live, plus the clock allowance.
pub async fn revoke_jti(
    store: &dyn Store,
    tenant: &str,
    jti: &str,
    actor: Actor<'_>,
    now: i64,
) -> Result<(), StoreError> {
    let record = RevocationRecord {
        jti: jti.to_owned(),
        tenant: tenant.to_owned(),
        client_id: None,
        expires_at: now + i64::from(MAX_TOKEN_TTL) + 60,
        revoked_at: now,
    };
    store.revoke_token(&record).await?;
    audit::record(store, actor, tenant, "token.revoke", jti, json!({}), now).await;
    Ok(())
}

/// Revokes every token issued to an app until now (whole seconds: a token issued later in
/// this same second is revoked too).
pub async fn revoke_app(
    store: &dyn Store,
    tenant: &str,
    client_id: &str,
    actor: Actor<'_>,
    now: i64,
) -> Result<AppRecord, AppError> {
    let changes = AppChanges {
        tokens_revoked_before: Some(now),
        ..AppChanges::default()
    };
    apps::update(store, tenant, client_id, &changes, actor, now).await
}
