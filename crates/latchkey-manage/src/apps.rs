//! App management: the operations the CLI and the admin API share. Each one validates with the
//! protocol's rules, mints credentials where needed, and writes to the store; running servers
//! pick the write up from the change log.

use crate::audit::{self, Actor};
use crate::revocations;
use latchkey_keys::random;
use latchkey_protocol::client::{
    self, ClientConfigError, ClientType, DEFAULT_TOKEN_TTL, GrantType,
};
use latchkey_protocol::{ClientSecret, Scope};
use latchkey_store::{AppRecord, SecretRecord, Store, StoreError};
use serde_json::{Value, json};

/// Longest accepted app name, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// Why an app operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The settings break a rule.
    #[error(transparent)]
    Invalid(#[from] ClientConfigError),
    /// The name is empty, too long or has control characters.
    #[error("app name must be 1 to {MAX_NAME_CHARS} characters with no control characters")]
    BadName,
    /// No such app in the tenant.
    #[error("no app with client id {0:?} in tenant {1:?}")]
    NotFound(String, String),
    /// The tenant does not exist.
    #[error("no tenant named {0:?}")]
    TenantNotFound(String),
    /// A public app has no secret to rotate.
    #[error("app {0:?} is a public client ({1}) and has no secret")]
    PublicClient(String, ClientType),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

impl AppError {
    fn from_store(error: StoreError, tenant: &str, client_id: &str) -> AppError {
        match error {
            StoreError::NotFound(_) => AppError::NotFound(client_id.to_owned(), tenant.to_owned()),
            other => AppError::Store(other),
        }
    }
}

/// Settings for a new app.
#[derive(Debug, Clone)]
pub struct NewApp {
    /// Tenant to create it in.
    pub tenant: String,
    /// Display name.
    pub name: String,
    /// App type.
    pub app_type: ClientType,
    /// Allowed scopes.
    pub scopes: Vec<Scope>,
    /// Default scopes.
    pub default_scopes: Vec<Scope>,
    /// Grant types; `None` for the type's defaults.
    pub grant_types: Option<Vec<GrantType>>,
    /// Token lifetime; `None` for the default (300 s).
    pub token_ttl: Option<u32>,
    /// Whether it may introspect other apps' tokens.
    pub can_introspect: bool,
    /// Token reuse share in percent; `None` for off.
    pub token_reuse_percent: Option<u8>,
    /// Audiences a token request may name.
    pub audiences: Vec<String>,
    /// Static claims for its tokens, as a JSON object text.
    pub custom_claims: Option<String>,
}

/// Changes to an app; each list given replaces the old one.
#[derive(Debug, Clone, Default)]
pub struct AppChanges {
    /// New name.
    pub name: Option<String>,
    /// New allowed scopes.
    pub scopes: Option<Vec<Scope>>,
    /// New default scopes.
    pub default_scopes: Option<Vec<Scope>>,
    /// New grant types.
    pub grant_types: Option<Vec<GrantType>>,
    /// New token lifetime.
    pub token_ttl: Option<u32>,
    /// Enable or disable.
    pub enabled: Option<bool>,
    /// Grant or withdraw the introspect permission.
    pub can_introspect: Option<bool>,
    /// Revoke every token issued at or before this time.
    pub tokens_revoked_before: Option<i64>,
    /// Turn token reuse on with this share (`Some(Some(percent))`) or off (`Some(None)`).
    pub token_reuse_percent: Option<Option<u8>>,
    /// New allowed audiences.
    pub audiences: Option<Vec<String>>,
    /// New static claims (`Some(None)` removes them).
    pub custom_claims: Option<Option<String>>,
}

fn check_name(name: &str) -> Result<(), AppError> {
    let chars = name.chars().count();
    if chars == 0
        || chars > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
        || name.trim().is_empty()
    {
        return Err(AppError::BadName);
    }
    Ok(())
}

fn dedup<T: PartialEq + Clone>(items: &[T]) -> Vec<T> {
    let mut unique: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        if !unique.contains(item) {
            unique.push(item.clone());
        }
    }
    unique
}

/// Checks an app's settings, and normalizes its custom claims (compact JSON; none for `{}`).
fn validate(app: &mut AppRecord) -> Result<(), AppError> {
    check_name(&app.name)?;
    client::check_audiences(&app.audiences)?;
    if let Some(claims) = &app.custom_claims {
        app.custom_claims = client::normalize_custom_claims(claims)?;
    }
    client::validate_settings(
        app.app_type,
        &app.grant_types,
        &app.scopes,
        &app.default_scopes,
        app.token_ttl,
        app.token_reuse_percent,
    )?;
    Ok(())
}

/// The settings of an app as the audit trail records them (never a secret or its hash).
fn settings(app: &AppRecord) -> Value {
    let strings = |items: &[Scope]| items.iter().map(Scope::to_string).collect::<Vec<_>>();
    json!({
        "name": app.name,
        "type": app.app_type.as_str(),
        "enabled": app.enabled,
        "scopes": strings(&app.scopes),
        "default_scopes": strings(&app.default_scopes),
        "grant_types": app.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "token_ttl": app.token_ttl,
        "introspect": app.can_introspect,
        "token_reuse_percent": app.token_reuse_percent,
        "audiences": app.audiences,
        "tokens_revoked_before": app.tokens_revoked_before,
    })
}

impl AppChanges {
    /// The audit action of this change: enabling, disabling and revoking tokens have their own.
    fn action(&self) -> &'static str {
        // Destructured so that a new setting cannot be forgotten here.
        let AppChanges {
            name,
            scopes,
            default_scopes,
            grant_types,
            token_ttl,
            enabled,
            can_introspect,
            tokens_revoked_before,
            token_reuse_percent,
            audiences,
            custom_claims,
        } = self;
        let settings = name.is_some()
            || scopes.is_some()
            || default_scopes.is_some()
            || grant_types.is_some()
            || token_ttl.is_some()
            || can_introspect.is_some()
            || token_reuse_percent.is_some()
            || audiences.is_some()
            || custom_claims.is_some();
        match (settings, enabled, tokens_revoked_before) {
            (false, Some(true), None) => "app.enable",
            (false, Some(false), None) => "app.disable",
            (false, None, Some(_)) => "token.revoke_all",
            _ => "app.update",
        }
    }
}

/// Creates an app. Returns it and, for confidential apps, its secret: the only time the secret
/// exists outside the client that receives it.
pub async fn create(
    store: &dyn Store,
    new: NewApp,
    actor: Actor<'_>,
    now: i64,
) -> Result<(AppRecord, Option<ClientSecret>), AppError> {
    let secret = new
        .app_type
        .is_confidential()
        .then(|| ClientSecret::new(random::client_secret()));
    let mut app = AppRecord {
        client_id: random::client_id(),
        tenant: new.tenant,
        name: new.name,
        app_type: new.app_type,
        enabled: true,
        scopes: dedup(&new.scopes),
        default_scopes: dedup(&new.default_scopes),
        grant_types: dedup(
            &new.grant_types
                .unwrap_or_else(|| new.app_type.default_grant_types()),
        ),
        token_ttl: new.token_ttl.unwrap_or(DEFAULT_TOKEN_TTL),
        can_introspect: new.can_introspect,
        tokens_revoked_before: None,
        token_reuse_percent: new.token_reuse_percent,
        audiences: dedup(&new.audiences),
        custom_claims: new.custom_claims,
        revision: 1,
        created_at: now,
        updated_at: now,
        secrets: secret
            .iter()
            .map(|secret| SecretRecord {
                hash: secret.hash(),
                created_at: now,
                expires_at: None,
            })
            .collect(),
    };
    validate(&mut app)?;
    store.create_app(&app).await.map_err(|error| match error {
        StoreError::NotFound(_) => AppError::TenantNotFound(app.tenant.clone()),
        other => AppError::Store(other),
    })?;
    audit::record(
        store,
        actor,
        &app.tenant,
        "app.create",
        &app.client_id,
        settings(&app),
        now,
    )
    .await;
    Ok((app, secret))
}

/// Reads one app.
pub async fn show(store: &dyn Store, tenant: &str, client_id: &str) -> Result<AppRecord, AppError> {
    store
        .app(tenant, client_id)
        .await
        .map_err(AppError::Store)?
        .ok_or_else(|| AppError::NotFound(client_id.to_owned(), tenant.to_owned()))
}

/// Applies changes to an app, retrying when a concurrent writer changed it in between.
pub async fn update(
    store: &dyn Store,
    tenant: &str,
    client_id: &str,
    changes: &AppChanges,
    actor: Actor<'_>,
    now: i64,
) -> Result<AppRecord, AppError> {
    let mut attempts = 0;
    loop {
        let mut app = show(store, tenant, client_id).await?;
        if let Some(name) = &changes.name {
            app.name = name.clone();
        }
        if let Some(scopes) = &changes.scopes {
            app.scopes = dedup(scopes);
        }
        if let Some(default_scopes) = &changes.default_scopes {
            app.default_scopes = dedup(default_scopes);
        }
        if let Some(grant_types) = &changes.grant_types {
            app.grant_types = dedup(grant_types);
        }
        if let Some(token_ttl) = changes.token_ttl {
            app.token_ttl = token_ttl;
        }
        if let Some(enabled) = changes.enabled {
            app.enabled = enabled;
        }
        if let Some(can_introspect) = changes.can_introspect {
            app.can_introspect = can_introspect;
        }
        if let Some(token_reuse_percent) = changes.token_reuse_percent {
            app.token_reuse_percent = token_reuse_percent;
        }
        if let Some(audiences) = &changes.audiences {
            app.audiences = dedup(audiences);
        }
        if let Some(custom_claims) = &changes.custom_claims {
            app.custom_claims = custom_claims.clone();
        }
        if let Some(revoked_before) = changes.tokens_revoked_before {
            app.tokens_revoked_before = Some(revoked_before);
        }
        app.updated_at = now;
        validate(&mut app)?;
        match store.update_app(&app).await {
            Ok(()) => {
                app.revision += 1;
                audit::record(
                    store,
                    actor,
                    tenant,
                    changes.action(),
                    client_id,
                    settings(&app),
                    now,
                )
                .await;
                return Ok(app);
            }
            Err(StoreError::ChangedConcurrently(_)) if attempts < 5 => attempts += 1,
            Err(error) => return Err(AppError::from_store(error, tenant, client_id)),
        }
    }
}

/// Disables an app (its token requests get `invalid_client`). The tokens it already holds are
/// refused while it is disabled and become valid again if it is re-enabled, unless
/// `revoke_tokens`, which also revokes them for good through `revocations::revoke_app` (so the
/// revocation is audited as every other one is).
pub async fn disable(
    store: &dyn Store,
    tenant: &str,
    client_id: &str,
    revoke_tokens: bool,
    actor: Actor<'_>,
    now: i64,
) -> Result<AppRecord, AppError> {
    let changes = AppChanges {
        enabled: Some(false),
        ..AppChanges::default()
    };
    // Disabled first: if the revocation then fails, the tokens are already refused, and the
    // same request can be made again.
    let app = update(store, tenant, client_id, &changes, actor, now).await?;
    if revoke_tokens {
        return revocations::revoke_app(store, tenant, client_id, actor, now).await;
    }
    Ok(app)
}

/// What the operator should know about an app just created: this server serves only the
/// client credentials grant (it has no authorization endpoint), so other grant types are
/// recorded but unused, and an app without client credentials can get no token at all.
pub fn warnings(app: &AppRecord) -> Vec<String> {
    let unserved: Vec<&str> = app
        .grant_types
        .iter()
        .filter(|grant| **grant != GrantType::ClientCredentials)
        .map(|grant| grant.as_str())
        .collect();
    let why =
        "this server has no authorization endpoint and serves only the client_credentials grant";
    if !app.grant_types.contains(&GrantType::ClientCredentials) {
        vec![format!(
            "app {:?} ({} app, grant types: {}) can get no token from this server: {why}",
            app.name,
            app.app_type,
            if unserved.is_empty() {
                "none".to_owned()
            } else {
                unserved.join(", ")
            }
        )]
    } else if !unserved.is_empty() {
        vec![format!(
            "app {:?} can get tokens only with client_credentials; its grant types {} are unused: {why}",
            app.name,
            unserved.join(", ")
        )]
    } else {
        Vec::new()
    }
}

/// Deletes an app.
pub async fn delete(
    store: &dyn Store,
    tenant: &str,
    client_id: &str,
    actor: Actor<'_>,
    now: i64,
) -> Result<(), AppError> {
    let app = show(store, tenant, client_id).await?;
    store
        .delete_app(tenant, client_id)
        .await
        .map_err(|error| AppError::from_store(error, tenant, client_id))?;
    audit::record(
        store,
        actor,
        tenant,
        "app.delete",
        client_id,
        json!({ "name": app.name }),
        now,
    )
    .await;
    Ok(())
}

/// Gives an app a new secret. The old one stops working at once, or after `grace_seconds`.
pub async fn rotate_secret(
    store: &dyn Store,
    tenant: &str,
    client_id: &str,
    grace_seconds: Option<u32>,
    actor: Actor<'_>,
    now: i64,
) -> Result<RotatedSecret, AppError> {
    let app = show(store, tenant, client_id).await?;
    if !app.app_type.is_confidential() {
        return Err(AppError::PublicClient(app.client_id, app.app_type));
    }
    let secret = ClientSecret::new(random::client_secret());
    let record = SecretRecord {
        hash: secret.hash(),
        created_at: now,
        expires_at: None,
    };
    let old_expires_at = grace_seconds.map(|grace| now + i64::from(grace));
    store
        .replace_secret(tenant, client_id, record, old_expires_at)
        .await
        .map_err(|error| AppError::from_store(error, tenant, client_id))?;
    audit::record(
        store,
        actor,
        tenant,
        "app.rotate_secret",
        client_id,
        json!({ "grace_seconds": grace_seconds }),
        now,
    )
    .await;
    Ok(RotatedSecret {
        secret,
        previous_expires_at: old_expires_at,
    })
}

/// A new client secret, and until when the previous one still works.
#[derive(Debug)]
pub struct RotatedSecret {
    /// The new secret, shown once.
    pub secret: ClientSecret,
    /// Unix seconds; `None` when the previous secret stopped working at once.
    pub previous_expires_at: Option<i64>,
}
