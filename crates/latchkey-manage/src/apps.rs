//! App management: the operations the CLI and the admin API share. Each one validates with the
//! protocol's rules, mints credentials where needed, and writes to the store; running servers
//! pick the write up from the change log. An app's federations are changed in `federations`.

use crate::audit::{self, Actor};
use crate::revocations;
use latchkey_keys::{JwksError, PublicKeySet, random};
use latchkey_protocol::app_settings::{self, ClientConfigError};
use latchkey_protocol::client::{ClientType, GrantType};
use latchkey_protocol::federation::{self, FederationError};
use latchkey_protocol::{AppSettings, AppSettingsPatch, ClientSecret, Scope};
use latchkey_store::{AppRecord, AuditEvent, SecretRecord, Store, StoreError};
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
    /// A JWK Set whose shape is right but whose keys latchkey cannot use.
    #[error(transparent)]
    UnusableKeys(JwksError),
    /// A federation rule refused, or one that is not there.
    #[error(transparent)]
    Federation(FederationError),
    /// Removing the secret would leave the app no way to authenticate.
    #[error(
        "app {0:?} would have no way to authenticate without its secret: give it a JWK Set, a JWKS URI or a federation first"
    )]
    NothingToAuthenticateWith(String),
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

/// A new app.
#[derive(Debug, Clone)]
pub struct NewApp {
    /// Tenant to create it in.
    pub tenant: String,
    /// Display name.
    pub name: String,
    /// App type.
    pub app_type: ClientType,
    /// Its settings, over the defaults of its type (`AppSettings::new`).
    pub settings: AppSettingsPatch,
}

/// Changes to an app.
#[derive(Debug, Clone, Default)]
pub struct AppChanges {
    /// New name.
    pub name: Option<String>,
    /// Enable or disable.
    pub enabled: Option<bool>,
    /// Revoke every token issued at or before this time.
    pub tokens_revoked_before: Option<i64>,
    /// New settings.
    pub settings: AppSettingsPatch,
    /// Remove every secret of the app (after the other changes are written); refused unless
    /// the app then still has a way to authenticate (keys or a federation).
    pub remove_secret: bool,
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

/// Checks an app's name and settings.
pub(crate) fn validate(app: &AppRecord) -> Result<(), AppError> {
    check_name(&app.name)?;
    app_settings::validate(&app.settings)?;
    Ok(())
}

/// The settings of an app as the audit trail records them (never a secret or its hash).
fn settings(app: &AppRecord) -> Value {
    let settings = &app.settings;
    let strings = |items: &[Scope]| items.iter().map(Scope::to_string).collect::<Vec<_>>();
    let federations: Vec<&str> = settings
        .federation
        .iter()
        .map(|rule| rule.name.as_str())
        .collect();
    json!({
        "name": app.name,
        "type": settings.app_type.as_str(),
        "enabled": app.enabled,
        "scopes": strings(&settings.scopes),
        "default_scopes": strings(&settings.default_scopes),
        "grant_types": settings.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "token_ttl": settings.token_ttl,
        "introspect": settings.can_introspect,
        "token_reuse_percent": settings.token_reuse_percent,
        "audiences": settings.audiences,
        "rate_limit": settings.rate_limit.map(|limit| limit.to_string()),
        "rate_limit_monitor": settings.rate_limit_monitor,
        "tokens_revoked_before": app.tokens_revoked_before,
        "jwks_kids": settings.jwks.as_deref().map(key_ids),
        "jwks_uri": settings.jwks_uri,
        "federations": federations,
    })
}

/// The `kid` of each key of a compact JWK Set (`null` for a key without one): what the audit
/// trail and `app show` say of an app's keys.
pub fn key_ids(jwks: &str) -> Vec<Option<String>> {
    let set: Value = serde_json::from_str(jwks).unwrap_or(Value::Null);
    set["keys"]
        .as_array()
        .map(|keys| {
            keys.iter()
                .map(|key| key["kid"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Checks a JWK Set an operator gives (an app's own keys, or the keys a federation pins) and
/// returns it as compact JSON: its shape by the protocol's rules, then every key parsed as
/// latchkey will parse it to check a signature, so a key it cannot use is refused when it is
/// stored rather than at login.
pub fn checked_jwks(text: &str) -> Result<String, AppError> {
    let shape = |error| AppError::Invalid(ClientConfigError::Jwks(error));
    PublicKeySet::parse(text).map_err(|error| match error {
        JwksError::Shape(error) => shape(error),
        unusable => AppError::UnusableKeys(unusable),
    })?;
    federation::normalize_jwks(text).map_err(shape)
}

/// `patch` with the JWK Set it sets (if any) checked and made compact.
fn checked_patch(mut patch: AppSettingsPatch) -> Result<AppSettingsPatch, AppError> {
    if let Some(Some(jwks)) = &patch.jwks {
        patch.jwks = Some(Some(checked_jwks(jwks)?));
    }
    Ok(patch)
}

/// Whether the app can prove who it is without a client secret.
pub fn has_keys(settings: &AppSettings) -> bool {
    settings.jwks.is_some() || settings.jwks_uri.is_some() || !settings.federation.is_empty()
}

impl AppChanges {
    /// The audit action of this change: enabling, disabling and revoking tokens have their own.
    fn action(&self) -> &'static str {
        let renamed_or_set = self.name.is_some() || !self.settings.is_empty();
        match (renamed_or_set, self.enabled, self.tokens_revoked_before) {
            (false, Some(true), None) => "app.enable",
            (false, Some(false), None) => "app.disable",
            (false, None, Some(_)) => "token.revoke_all",
            _ => "app.update",
        }
    }

    /// Whether it changes the app record itself (removing the secret is a write of its own).
    fn writes_record(&self) -> bool {
        self.name.is_some()
            || self.enabled.is_some()
            || self.tokens_revoked_before.is_some()
            || !self.settings.is_empty()
    }
}

/// The record of a new app under `client_id`, storing the hash of `secret` (give none for a
/// public app, or one that authenticates with keys), checked: what `create` stores, and what a
/// bulk load of apps whose credentials are known ahead (the benchmark's) builds.
pub fn record(
    new: NewApp,
    client_id: String,
    secret: Option<&ClientSecret>,
    now: i64,
) -> Result<AppRecord, AppError> {
    let app = AppRecord {
        client_id,
        tenant: new.tenant,
        name: new.name,
        enabled: true,
        settings: AppSettings::new(new.app_type).patched(checked_patch(new.settings)?),
        tokens_revoked_before: None,
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
    validate(&app)?;
    Ok(app)
}

/// Creates an app. Returns it and, for confidential apps, its secret: the only time the secret
/// exists outside the client that receives it. An app given a JWK Set or a JWKS URI gets no
/// secret: it proves who it is with its keys (`private_key_jwt`).
pub async fn create(
    store: &dyn Store,
    new: NewApp,
    actor: Actor<'_>,
    now: i64,
) -> Result<(AppRecord, Option<ClientSecret>), AppError> {
    let keyed = matches!(new.settings.jwks, Some(Some(_)))
        || matches!(new.settings.jwks_uri, Some(Some(_)));
    let secret = (new.app_type.is_confidential() && !keyed)
        .then(|| ClientSecret::new(random::client_secret()));
    let app = record(new, random::client_id(), secret.as_ref(), now)?;
    let event = audit::event(
        actor,
        &app.tenant,
        "app.create",
        &app.client_id,
        settings(&app),
        now,
    );
    store
        .create_app(&app, Some(&event))
        .await
        .map_err(|error| match error {
            StoreError::NotFound(_) => AppError::TenantNotFound(app.tenant.clone()),
            other => AppError::Store(other),
        })?;
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

/// Reads an app, lets `change` modify it and name the audit event of the change, and writes it
/// back under the revision it was read at, reading it again (up to five times) when a
/// concurrent writer changed it in between. Returns the record as written.
pub(crate) async fn modify(
    store: &dyn Store,
    tenant: &str,
    client_id: &str,
    now: i64,
    mut change: impl FnMut(&mut AppRecord) -> Result<AuditEvent, AppError>,
) -> Result<AppRecord, AppError> {
    let mut attempts = 0;
    loop {
        let mut app = show(store, tenant, client_id).await?;
        let event = change(&mut app)?;
        app.updated_at = now;
        match store.update_app(&app, Some(&event)).await {
            Ok(()) => {
                app.revision += 1;
                return Ok(app);
            }
            Err(StoreError::ChangedConcurrently(_)) if attempts < 5 => attempts += 1,
            Err(error) => return Err(AppError::from_store(error, tenant, client_id)),
        }
    }
}

/// Applies changes to an app, retrying when a concurrent writer changed it in between. With
/// `remove_secret`, the other changes are written first (so keys given in the same change
/// count), then every secret is removed.
pub async fn update(
    store: &dyn Store,
    tenant: &str,
    client_id: &str,
    changes: &AppChanges,
    actor: Actor<'_>,
    now: i64,
) -> Result<AppRecord, AppError> {
    let patch = checked_patch(changes.settings.clone())?;
    let app = if changes.writes_record() {
        modify(store, tenant, client_id, now, |app| {
            if let Some(name) = &changes.name {
                app.name = name.clone();
            }
            if let Some(enabled) = changes.enabled {
                app.enabled = enabled;
            }
            if let Some(revoked_before) = changes.tokens_revoked_before {
                app.tokens_revoked_before = Some(revoked_before);
            }
            app.settings = app.settings.clone().patched(patch.clone());
            validate(app)?;
            if changes.remove_secret {
                check_keyless(app)?;
            }
            Ok(audit::event(
                actor,
                tenant,
                changes.action(),
                client_id,
                settings(app),
                now,
            ))
        })
        .await?
    } else {
        show(store, tenant, client_id).await?
    };
    if !changes.remove_secret {
        return Ok(app);
    }
    check_keyless(&app)?;
    let event = audit::event(
        actor,
        tenant,
        "app.secret.remove",
        client_id,
        json!({ "name": app.name }),
        now,
    );
    let found = store
        .remove_secrets(tenant, client_id, now, Some(&event))
        .await
        .map_err(|error| AppError::from_store(error, tenant, client_id))?;
    if !found {
        return Err(AppError::NotFound(client_id.to_owned(), tenant.to_owned()));
    }
    show(store, tenant, client_id).await
}

/// Refuses to leave an app without a secret unless it can authenticate otherwise.
fn check_keyless(app: &AppRecord) -> Result<(), AppError> {
    if !app.settings.app_type.is_confidential() {
        return Err(AppError::PublicClient(
            app.client_id.clone(),
            app.settings.app_type,
        ));
    }
    if !has_keys(&app.settings) {
        return Err(AppError::NothingToAuthenticateWith(app.client_id.clone()));
    }
    Ok(())
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
        .settings
        .grant_types
        .iter()
        .filter(|grant| **grant != GrantType::ClientCredentials)
        .map(|grant| grant.as_str())
        .collect();
    let why =
        "this server has no authorization endpoint and serves only the client_credentials grant";
    if !app
        .settings
        .grant_types
        .contains(&GrantType::ClientCredentials)
    {
        vec![format!(
            "app {:?} ({} app, grant types: {}) can get no token from this server: {why}",
            app.name,
            app.settings.app_type,
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
    let event = audit::event(
        actor,
        tenant,
        "app.delete",
        client_id,
        json!({ "name": app.name }),
        now,
    );
    store
        .delete_app(tenant, client_id, Some(&event))
        .await
        .map_err(|error| AppError::from_store(error, tenant, client_id))
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
    if !app.settings.app_type.is_confidential() {
        return Err(AppError::PublicClient(app.client_id, app.settings.app_type));
    }
    let secret = ClientSecret::new(random::client_secret());
    let record = SecretRecord {
        hash: secret.hash(),
        created_at: now,
        expires_at: None,
    };
    let old_expires_at = grace_seconds.map(|grace| now + i64::from(grace));
    let event = audit::event(
        actor,
        tenant,
        "app.rotate_secret",
        client_id,
        json!({ "grace_seconds": grace_seconds }),
        now,
    );
    store
        .replace_secret(tenant, client_id, record, old_expires_at, Some(&event))
        .await
        .map_err(|error| AppError::from_store(error, tenant, client_id))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_keys::{Algorithm, Signer, generate_private_key};

    /// A JWK Set of one new ES256 public key, as JSON text with spaces.
    fn jwks(kid: &str) -> String {
        let pkcs8 = generate_private_key(Algorithm::Es256).unwrap();
        let key = Signer::from_pkcs8(kid, Algorithm::Es256, &pkcs8)
            .unwrap()
            .public_jwk();
        format!(
            "{{ \"keys\": [ {} ] }}",
            serde_json::to_string(&key).unwrap()
        )
    }

    fn new_app(settings: AppSettingsPatch) -> NewApp {
        NewApp {
            tenant: "default".into(),
            name: "app".into(),
            app_type: ClientType::M2m,
            settings,
        }
    }

    #[test]
    fn a_jwks_is_stored_compact_and_its_key_ids_are_read_back() {
        let settings = AppSettingsPatch {
            jwks: Some(Some(jwks("k1"))),
            ..AppSettingsPatch::default()
        };
        let app = record(new_app(settings), "id".into(), None, 0).unwrap();
        let stored = app.settings.jwks.as_deref().unwrap();
        assert!(!stored.contains(' '), "{stored}");
        assert_eq!(key_ids(stored), [Some("k1".to_owned())]);
        assert!(has_keys(&app.settings));
    }

    #[test]
    fn a_jwks_of_the_wrong_shape_or_with_unusable_keys_is_refused() {
        let private = jwks("k").replace("\"kty\"", "\"d\":\"AAAA\",\"kty\"");
        assert!(matches!(
            checked_jwks(&private),
            Err(AppError::Invalid(ClientConfigError::Jwks(
                federation::JwksShapeError::PrivateKey
            )))
        ));
        let bad_point = r#"{"keys":[{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}]}"#;
        assert!(matches!(
            checked_jwks(bad_point),
            Err(AppError::UnusableKeys(_))
        ));
        let settings = AppSettingsPatch {
            jwks: Some(Some(bad_point.into())),
            ..AppSettingsPatch::default()
        };
        assert!(record(new_app(settings), "id".into(), None, 0).is_err());
    }

    #[test]
    fn only_an_app_with_keys_or_a_federation_may_lose_its_secret() {
        let mut app = record(new_app(AppSettingsPatch::default()), "id".into(), None, 0).unwrap();
        assert!(matches!(
            check_keyless(&app),
            Err(AppError::NothingToAuthenticateWith(_))
        ));
        app.settings.jwks_uri = Some("https://keys.example/jwks".into());
        assert!(check_keyless(&app).is_ok());
        app.settings.app_type = ClientType::Spa;
        assert!(matches!(
            check_keyless(&app),
            Err(AppError::PublicClient(..))
        ));
    }

    #[test]
    fn removing_the_secret_alone_writes_no_app_record() {
        let only_secret = AppChanges {
            remove_secret: true,
            ..AppChanges::default()
        };
        assert!(!only_secret.writes_record());
        let with_keys = AppChanges {
            settings: AppSettingsPatch {
                jwks_uri: Some(Some("https://keys.example/jwks".into())),
                ..AppSettingsPatch::default()
            },
            ..only_secret
        };
        assert!(with_keys.writes_record());
        assert_eq!(with_keys.action(), "app.update");
    }
}
