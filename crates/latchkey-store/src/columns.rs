//! The stored form of record values, shared by every backend: list columns as space-separated
//! text, app types, key statuses, token profiles and change entities by their names, secret
//! hashes as raw bytes, custom claims as JSON object text. A backend owns its SQL and reads a
//! row into these column types; what a stored value means, and which values are corrupt, is
//! decided here once, so two backends cannot read the same row differently.

use crate::{AppRecord, ChangedEntity, KeyStatus, ScannedClient, StoreError, StoreResult};
use latchkey_protocol::client::ClientKeys;
use latchkey_protocol::client::{self, Client, ClientType, GrantTypes};
use latchkey_protocol::federation::FederationRule;
use latchkey_protocol::{AppSettings, RateLimit, Scope, SecretHash, TokenProfile};
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::Arc;

/// A list as its column stores it: the items, space-separated.
pub(crate) fn join<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The space-separated items of a list column, parsed.
pub(crate) fn items<'t, T: FromStr>(
    text: &'t str,
    what: &'static str,
) -> impl Iterator<Item = StoreResult<T>> + 't {
    text.split(' ')
        .filter(|item| !item.is_empty())
        .map(move |item| {
            item.parse()
                .map_err(|_| StoreError::Corrupt(format!("{what} {item:?}")))
        })
}

fn split<T: FromStr>(text: &str, what: &'static str) -> StoreResult<Vec<T>> {
    items(text, what).collect()
}

pub(crate) fn app_type(text: &str) -> StoreResult<ClientType> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("app type {text:?}")))
}

pub(crate) fn token_ttl(ttl: i64) -> StoreResult<u32> {
    u32::try_from(ttl).map_err(|_| StoreError::Corrupt(format!("token ttl {ttl}")))
}

/// A tenant's `max_assertion_lifetime`: seconds, or `NULL` for the default.
pub(crate) fn assertion_lifetime(seconds: Option<i64>) -> StoreResult<Option<u32>> {
    seconds
        .map(|s| {
            u32::try_from(s).map_err(|_| StoreError::Corrupt(format!("assertion lifetime {s}")))
        })
        .transpose()
}

pub(crate) fn reuse_percent(percent: Option<i64>) -> StoreResult<Option<u8>> {
    percent
        .map(|p| u8::try_from(p).map_err(|_| StoreError::Corrupt(format!("token reuse {p}"))))
        .transpose()
}

pub(crate) fn rate_limit(text: Option<&str>) -> StoreResult<Option<RateLimit>> {
    text.map(|text| {
        text.parse()
            .map_err(|_| StoreError::Corrupt(format!("rate limit {text:?}")))
    })
    .transpose()
}

pub(crate) fn federation(text: Option<&str>) -> StoreResult<Vec<FederationRule>> {
    text.map_or(Ok(Vec::new()), |text| {
        latchkey_protocol::federation::rules_from_json(text)
            .ok_or_else(|| StoreError::Corrupt("federation rules".into()))
    })
}

fn scope(item: &str) -> StoreResult<Scope> {
    Scope::parse(item).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn scopes(text: &str) -> StoreResult<Vec<Scope>> {
    text.split(' ')
        .filter(|item| !item.is_empty())
        .map(scope)
        .collect()
}

pub(crate) fn token_profile(text: &str) -> StoreResult<TokenProfile> {
    TokenProfile::parse(text).ok_or_else(|| StoreError::Corrupt(format!("token profile {text:?}")))
}

pub(crate) fn key_status(text: &str) -> StoreResult<KeyStatus> {
    text.parse().map_err(StoreError::Corrupt)
}

pub(crate) fn secret_hash(bytes: &[u8]) -> StoreResult<SecretHash> {
    SecretHash::from_bytes(bytes).ok_or_else(|| StoreError::Corrupt("secret hash length".into()))
}

pub(crate) fn changed_entity(text: &str) -> StoreResult<ChangedEntity> {
    match text {
        "app" => Ok(ChangedEntity::App),
        "key" => Ok(ChangedEntity::Key),
        "tenant" => Ok(ChangedEntity::Tenant),
        "revocation" => Ok(ChangedEntity::Revocation),
        other => Err(StoreError::Corrupt(format!("change entity {other:?}"))),
    }
}

/// The columns an app's settings are stored in, in the order every statement that reads or
/// writes them lists them (`SettingsColumns` holds them in this order too).
pub(crate) const SETTINGS_COLUMNS: [&str; 14] = [
    "app_type",
    "scopes",
    "default_scopes",
    "grant_types",
    "token_ttl",
    "can_introspect",
    "token_reuse_percent",
    "audiences",
    "custom_claims",
    "rate_limit",
    "rate_limit_monitor",
    "jwks",
    "jwks_uri",
    "federation",
];

/// An app's settings as stored: encoded from `AppSettings` (`String` texts) to be bound, or read
/// from a row (texts borrowed in place) to be decoded. Each backend binds and reads these in
/// one helper of its own, shared by create, update and the snapshot scan.
pub(crate) struct SettingsColumns<T> {
    pub(crate) app_type: T,
    pub(crate) scopes: T,
    pub(crate) default_scopes: T,
    pub(crate) grant_types: T,
    pub(crate) token_ttl: i64,
    pub(crate) can_introspect: bool,
    pub(crate) token_reuse_percent: Option<i64>,
    pub(crate) audiences: T,
    pub(crate) custom_claims: Option<T>,
    pub(crate) rate_limit: Option<T>,
    pub(crate) rate_limit_monitor: bool,
    pub(crate) jwks: Option<T>,
    pub(crate) jwks_uri: Option<T>,
    /// The federation rules as a JSON array; NULL for none.
    pub(crate) federation: Option<T>,
}

impl SettingsColumns<String> {
    pub(crate) fn encode(settings: &AppSettings) -> SettingsColumns<String> {
        // Destructured so that a new setting cannot be left unstored.
        let AppSettings {
            app_type,
            scopes,
            default_scopes,
            grant_types,
            token_ttl,
            can_introspect,
            token_reuse_percent,
            audiences,
            custom_claims,
            rate_limit,
            rate_limit_monitor,
            jwks,
            jwks_uri,
            federation,
        } = settings;
        SettingsColumns {
            app_type: app_type.as_str().to_owned(),
            scopes: join(scopes),
            default_scopes: join(default_scopes),
            grant_types: join(grant_types),
            token_ttl: i64::from(*token_ttl),
            can_introspect: *can_introspect,
            token_reuse_percent: token_reuse_percent.map(i64::from),
            audiences: join(audiences),
            custom_claims: custom_claims.clone(),
            rate_limit: rate_limit.map(|limit| limit.to_string()),
            rate_limit_monitor: *rate_limit_monitor,
            jwks: jwks.clone(),
            jwks_uri: jwks_uri.clone(),
            federation: (!federation.is_empty())
                .then(|| latchkey_protocol::federation::rules_to_json(federation)),
        }
    }
}

impl<T: AsRef<str>> SettingsColumns<T> {
    pub(crate) fn decode(&self) -> StoreResult<AppSettings> {
        Ok(AppSettings {
            app_type: app_type(self.app_type.as_ref())?,
            scopes: scopes(self.scopes.as_ref())?,
            default_scopes: scopes(self.default_scopes.as_ref())?,
            grant_types: split(self.grant_types.as_ref(), "grant type")?,
            token_ttl: token_ttl(self.token_ttl)?,
            can_introspect: self.can_introspect,
            token_reuse_percent: reuse_percent(self.token_reuse_percent)?,
            audiences: split(self.audiences.as_ref(), "audience")?,
            custom_claims: self
                .custom_claims
                .as_ref()
                .map(|text| text.as_ref().to_owned()),
            rate_limit: rate_limit(self.rate_limit.as_ref().map(|text| text.as_ref()))?,
            rate_limit_monitor: self.rate_limit_monitor,
            jwks: self.jwks.as_ref().map(|text| text.as_ref().to_owned()),
            jwks_uri: self.jwks_uri.as_ref().map(|text| text.as_ref().to_owned()),
            federation: federation(self.federation.as_ref().map(|text| text.as_ref()))?,
        })
    }
}

/// An app's columns as stored, checked into an `AppRecord` (without its secrets, which live in
/// their own rows) by `into_record`.
pub(crate) struct AppColumns<'r> {
    pub(crate) client_id: &'r str,
    pub(crate) tenant: &'r str,
    pub(crate) name: &'r str,
    pub(crate) enabled: bool,
    pub(crate) settings: SettingsColumns<&'r str>,
    pub(crate) tokens_revoked_before: Option<i64>,
    pub(crate) revision: i64,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}

impl AppColumns<'_> {
    pub(crate) fn into_record(self) -> StoreResult<AppRecord> {
        Ok(AppRecord {
            client_id: self.client_id.to_owned(),
            tenant: self.tenant.to_owned(),
            name: self.name.to_owned(),
            enabled: self.enabled,
            settings: self.settings.decode()?,
            tokens_revoked_before: self.tokens_revoked_before,
            revision: self.revision,
            created_at: self.created_at,
            updated_at: self.updated_at,
            secrets: Vec::new(),
        })
    }
}

/// The columns of an app a snapshot scan reads, borrowed from the row in place: the scan
/// decodes a million of these, and copying each text first would double its work.
pub(crate) struct ClientColumns<'r> {
    pub(crate) client_id: &'r str,
    pub(crate) tenant: &'r str,
    pub(crate) enabled: bool,
    pub(crate) tokens_revoked_before: Option<i64>,
    pub(crate) settings: SettingsColumns<&'r str>,
}

/// Distinct scope lists the decoder remembers; past that, lists are decoded each time.
const MAX_LISTS: usize = 4096;

/// Decodes the apps of one snapshot scan, sharing one copy of each tenant name and each scope
/// text across the scan. Secrets are left empty for the scan to fill in.
#[derive(Default)]
pub(crate) struct ClientDecoder {
    tenants: Vec<Arc<str>>,
    scopes: HashSet<Scope>,
    /// Scope lists decoded so far, by their column text: apps mostly repeat a few lists, and
    /// cloning a decoded one costs a fraction of splitting and looking up each scope again.
    lists: HashMap<Box<str>, Box<[Scope]>, foldhash::fast::RandomState>,
}

impl ClientDecoder {
    pub(crate) fn client(&mut self, columns: &ClientColumns<'_>) -> StoreResult<ScannedClient> {
        let tenant = self.tenant(columns.tenant);
        // The same columns `SettingsColumns::decode` reads, decoded straight into the compact
        // form (and scope lists shared) rather than through `AppSettings`.
        let settings = &columns.settings;
        let client = Client {
            client_id: columns.client_id.to_owned(),
            client_type: app_type(settings.app_type)?,
            enabled: columns.enabled,
            scopes: self.scopes(settings.scopes)?,
            default_scopes: self.scopes(settings.default_scopes)?,
            grant_types: items(settings.grant_types, "grant type")
                .collect::<StoreResult<GrantTypes>>()?,
            token_ttl: token_ttl(settings.token_ttl)?,
            can_introspect: settings.can_introspect,
            tokens_revoked_before: columns.tokens_revoked_before,
            token_reuse_percent: reuse_percent(settings.token_reuse_percent)?,
            audiences: items(settings.audiences, "audience").collect::<StoreResult<_>>()?,
            custom_claims: settings.custom_claims.and_then(client::claims_fragment),
            secrets: Box::default(),
            rate_limit: rate_limit(settings.rate_limit)?,
            rate_limit_monitor: settings.rate_limit_monitor,
            keys: ClientKeys::boxed(
                settings.jwks.map(str::to_owned),
                settings.jwks_uri.map(str::to_owned),
                federation(settings.federation)?,
            ),
        };
        Ok(ScannedClient { tenant, client })
    }

    fn tenant(&mut self, name: &str) -> Arc<str> {
        // A handful of tenants at most: a linear search beats hashing.
        if let Some(tenant) = self.tenants.iter().find(|tenant| ***tenant == *name) {
            return Arc::clone(tenant);
        }
        let tenant: Arc<str> = Arc::from(name);
        self.tenants.push(Arc::clone(&tenant));
        tenant
    }

    fn scopes(&mut self, text: &str) -> StoreResult<Box<[Scope]>> {
        if text.is_empty() {
            return Ok(Box::default());
        }
        if let Some(list) = self.lists.get(text) {
            return Ok(list.clone());
        }
        let list = self.decode_scopes(text)?;
        if self.lists.len() < MAX_LISTS {
            self.lists.insert(text.into(), list.clone());
        }
        Ok(list)
    }

    fn decode_scopes(&mut self, text: &str) -> StoreResult<Box<[Scope]>> {
        text.split(' ')
            .filter(|item| !item.is_empty())
            .map(|item| {
                if let Some(scope) = self.scopes.get(item) {
                    return Ok(scope.clone());
                }
                let scope = scope(item)?;
                self.scopes.insert(scope.clone());
                Ok(scope)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_protocol::client::GrantType;

    fn settings() -> SettingsColumns<&'static str> {
        SettingsColumns {
            app_type: "m2m",
            scopes: "read write",
            default_scopes: "read",
            grant_types: "client_credentials",
            token_ttl: 300,
            can_introspect: false,
            token_reuse_percent: Some(80),
            audiences: "https://api.test urn:orders",
            custom_claims: Some(r#"{"tier":"gold"}"#),
            rate_limit: Some("600/min"),
            rate_limit_monitor: true,
            jwks: None,
            jwks_uri: Some("https://keys.test/jwks"),
            federation: Some(
                r#"[{"name":"ci","issuer":"https://ci.test","subject":"repo:a/b:*","claims":{"ref":"main"}}]"#,
            ),
        }
    }

    fn columns() -> AppColumns<'static> {
        AppColumns {
            client_id: "c1",
            tenant: "default",
            name: "one",
            enabled: true,
            settings: settings(),
            tokens_revoked_before: Some(150),
            revision: 3,
            created_at: 100,
            updated_at: 200,
        }
    }

    fn client_columns() -> ClientColumns<'static> {
        ClientColumns {
            client_id: "c1",
            tenant: "acme",
            enabled: true,
            tokens_revoked_before: None,
            settings: SettingsColumns {
                grant_types: "client_credentials refresh_token",
                can_introspect: true,
                token_reuse_percent: None,
                audiences: "",
                custom_claims: None,
                ..settings()
            },
        }
    }

    fn corrupt<T: std::fmt::Debug>(result: StoreResult<T>) -> String {
        match result {
            Err(StoreError::Corrupt(message)) => message,
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn a_list_reads_back_as_it_was_joined_and_an_empty_column_is_an_empty_list() {
        let scopes = vec![Scope::parse("read").unwrap(), Scope::parse("a:b").unwrap()];
        assert_eq!(join(&scopes), "read a:b");
        assert_eq!(self::scopes(&join(&scopes)).unwrap(), scopes);
        assert_eq!(join::<String>(&[]), "");
        assert!(self::scopes("").unwrap().is_empty());
        assert!(split::<String>("", "audience").unwrap().is_empty());
        // Doubled separators are tolerated, as a hand-edited row might have them.
        assert_eq!(split::<String>(" a  b ", "audience").unwrap(), ["a", "b"]);
    }

    #[test]
    fn app_columns_decode_into_the_record_they_store() {
        let record = columns().into_record().unwrap();
        let settings = &record.settings;
        assert_eq!(
            (
                record.client_id.as_str(),
                settings.app_type,
                record.revision
            ),
            ("c1", ClientType::M2m, 3)
        );
        assert_eq!(
            settings.scopes,
            vec![
                Scope::parse("read").unwrap(),
                Scope::parse("write").unwrap()
            ]
        );
        assert_eq!(settings.grant_types, vec![GrantType::ClientCredentials]);
        assert_eq!(settings.audiences, ["https://api.test", "urn:orders"]);
        assert_eq!(
            (
                settings.token_ttl,
                settings.token_reuse_percent,
                record.tokens_revoked_before
            ),
            (300, Some(80), Some(150))
        );
        assert!(record.secrets.is_empty());
    }

    #[test]
    fn settings_read_back_as_they_were_encoded() {
        let settings = columns().into_record().unwrap().settings;
        let encoded = SettingsColumns::encode(&settings);
        assert_eq!(encoded.scopes, "read write");
        assert_eq!(encoded.decode().unwrap(), settings);
    }

    #[test]
    fn a_value_latchkey_never_writes_is_corrupt_and_named() {
        let with = |change: fn(&mut SettingsColumns<&'static str>)| {
            let mut columns = columns();
            change(&mut columns.settings);
            corrupt(columns.into_record())
        };
        assert_eq!(with(|c| c.app_type = "robot"), "app type \"robot\"");
        assert_eq!(
            with(|c| c.rate_limit = Some("10/week")),
            "rate limit \"10/week\""
        );
        assert_eq!(
            with(|c| c.grant_types = "password"),
            "grant type \"password\""
        );
        assert_eq!(with(|c| c.token_ttl = -1), "token ttl -1");
        assert_eq!(
            with(|c| c.token_reuse_percent = Some(300)),
            "token reuse 300"
        );
        assert!(with(|c| c.scopes = "read \"x").contains("\"x"));
        assert_eq!(corrupt(token_profile("jwt")), "token profile \"jwt\"");
        assert_eq!(corrupt(key_status("lost")), "unknown key status \"lost\"");
        assert_eq!(corrupt(secret_hash(&[1, 2, 3])), "secret hash length");
        assert_eq!(corrupt(changed_entity("user")), "change entity \"user\"");
    }

    #[test]
    fn stored_names_read_back_as_what_wrote_them() {
        for status in [
            KeyStatus::Next,
            KeyStatus::Active,
            KeyStatus::Retiring,
            KeyStatus::Retired,
        ] {
            assert_eq!(key_status(status.as_str()).unwrap(), status);
        }
        for profile in [TokenProfile::Seed, TokenProfile::Rfc9068] {
            assert_eq!(token_profile(profile.as_str()).unwrap(), profile);
        }
        for (text, entity) in [
            ("app", ChangedEntity::App),
            ("key", ChangedEntity::Key),
            ("tenant", ChangedEntity::Tenant),
            ("revocation", ChangedEntity::Revocation),
        ] {
            assert_eq!(changed_entity(text).unwrap(), entity);
        }
        let hash = SecretHash::of("s1");
        assert_eq!(secret_hash(hash.as_bytes()).unwrap(), hash);
    }

    #[test]
    fn the_scan_decoder_shares_tenant_names_and_scope_texts() {
        let mut decoder = ClientDecoder::default();
        let first = decoder.client(&client_columns()).unwrap();
        let second = decoder
            .client(&ClientColumns {
                client_id: "c2",
                settings: SettingsColumns {
                    default_scopes: "write",
                    ..client_columns().settings
                },
                ..client_columns()
            })
            .unwrap();
        assert_eq!(first.client.client_id, "c1");
        assert!(first.client.can_introspect && first.client.secrets.is_empty());
        assert!(first.client.grant_types.contains(GrantType::RefreshToken));
        assert!(Arc::ptr_eq(&first.tenant, &second.tenant));
        let text = |scope: &Scope| scope.as_str().as_ptr();
        assert_eq!(
            text(&first.client.scopes[0]),
            text(&second.client.scopes[0])
        );
        // A scope first seen in another list is still the same copy.
        assert_eq!(
            text(&first.client.scopes[1]),
            text(&second.client.default_scopes[0])
        );
    }

    #[test]
    fn the_scan_decoder_reads_the_app_as_its_record_would_be_read() {
        let columns = columns();
        let borrowed = ClientColumns {
            client_id: columns.client_id,
            tenant: columns.tenant,
            enabled: columns.enabled,
            tokens_revoked_before: columns.tokens_revoked_before,
            settings: settings(),
        };
        let scanned = ClientDecoder::default().client(&borrowed).unwrap();
        assert_eq!(&*scanned.tenant, "default");
        assert_eq!(scanned.client, columns.into_record().unwrap().into_client());
        let odd = ClientColumns {
            settings: SettingsColumns {
                grant_types: "implicit",
                ..settings()
            },
            ..client_columns()
        };
        assert_eq!(
            corrupt(ClientDecoder::default().client(&odd)),
            "grant type \"implicit\""
        );
    }
}
