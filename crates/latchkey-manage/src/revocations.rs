//! Token revocation by an operator (CLI or admin API), as opposed to `/oauth2/revoke` where a
//! client revokes its own token: one token by its jti, or every token an app holds.

use crate::apps::{self, AppChanges, AppError};
use crate::audit::{self, Actor};
use crate::keys::{self, MasterKeys, SigningKeyError};
use latchkey_keys::random;
use latchkey_protocol::app_settings::MAX_TOKEN_TTL;
use latchkey_store::{AppRecord, RevocationRecord, Store, StoreError};
use serde_json::json;

/// Why a revocation was refused. Messages never repeat the token or jti given (a token pasted
/// where a jti belongs would otherwise end up in a terminal or a log).
#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    /// A jti that is not a UUID: latchkey issues no other kind.
    #[error(
        "the jti given is not a UUID, and every token latchkey issues has one as its jti (such as \
         6f1c0e1a-2b3c-4d5e-8f90-0123456789ab)"
    )]
    NotAJti,
    /// A token that no tenant's published signing keys verify.
    #[error(
        "the token does not verify against the published signing keys of any tenant: it was not \
         issued by this deployment, it was altered, or its signing key has been retired (then it \
         has expired)"
    )]
    NotVerified,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The signing keys could not be opened.
    #[error(transparent)]
    Keys(#[from] SigningKeyError),
}

/// Revokes one token by its jti; returns the jti as stored (a UUID in lower case, as tokens
/// carry it). Only the jti is known here, not the token's expiry, so the record is kept as
/// long as any token can live, plus the clock allowance.
pub async fn revoke_jti(
    store: &dyn Store,
    tenant: &str,
    jti: &str,
    actor: Actor<'_>,
    now: i64,
) -> Result<String, RevokeError> {
    let jti = random::canonical_uuid(jti).ok_or(RevokeError::NotAJti)?;
    let record = RevocationRecord {
        jti,
        tenant: tenant.to_owned(),
        client_id: None,
        expires_at: now + i64::from(MAX_TOKEN_TTL) + 60,
        revoked_at: now,
    };
    keep(store, actor, &record, json!({}), now).await?;
    Ok(record.jti)
}

/// A token revoked by its own text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedToken {
    /// The tenant whose key signed it.
    pub tenant: String,
    /// Its jti.
    pub jti: String,
    /// The app it was issued to.
    pub client_id: String,
    /// Its expiry, which is also when the revocation may be forgotten.
    pub expires_at: i64,
}

/// Revokes a token given whole: it is verified as the token endpoint's tenants would verify it
/// (signature by a published key, with the key's own algorithm), which says its tenant, jti
/// and expiry, so the revocation is kept exactly as long as the token lives.
pub async fn revoke_token(
    store: &dyn Store,
    master_keys: &MasterKeys,
    token: &str,
    actor: Actor<'_>,
    now: i64,
) -> Result<RevokedToken, RevokeError> {
    for tenant in store.tenants().await? {
        let tenant_keys =
            keys::parse_keys(&store.signing_keys(&tenant.name).await?, master_keys, now)?;
        let Some(claims) = tenant_keys.verify(token) else {
            continue;
        };
        let revoked = RevokedToken {
            tenant: tenant.name,
            jti: claims.jti,
            client_id: claims.sub,
            expires_at: claims.exp,
        };
        let record = RevocationRecord {
            jti: revoked.jti.clone(),
            tenant: revoked.tenant.clone(),
            client_id: Some(revoked.client_id.clone()),
            expires_at: revoked.expires_at,
            revoked_at: now,
        };
        let details = json!({ "client_id": revoked.client_id, "expires_at": revoked.expires_at });
        keep(store, actor, &record, details, now).await?;
        return Ok(revoked);
    }
    Err(RevokeError::NotVerified)
}

/// Stores a revocation with its audit event.
async fn keep(
    store: &dyn Store,
    actor: Actor<'_>,
    record: &RevocationRecord,
    details: serde_json::Value,
    now: i64,
) -> Result<(), StoreError> {
    let event = audit::event(
        actor,
        &record.tenant,
        "token.revoke",
        &record.jti,
        details,
        now,
    );
    store.revoke_token(record, Some(&event)).await
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
