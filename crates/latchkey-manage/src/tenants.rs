//! Tenant management shared by the CLI and the admin API: names, domains and issuers checked,
//! then written to the store (running servers re-route within a poll through the change log),
//! and each change audited.

use crate::audit::{self, Actor};
use crate::keys::{self, MasterKeys, SigningKeyError};
use latchkey_keys::Algorithm;
use latchkey_protocol::TokenProfile;
use latchkey_protocol::assertion::MAX_ASSERTION_LIFETIME;
use latchkey_store::{DEFAULT_TENANT, KeyStatus, Store, StoreError, TenantRecord};
use serde_json::json;
use std::ops::RangeInclusive;

/// Most domains one tenant may have.
pub const MAX_DOMAINS: usize = 50;

/// The longest client assertion lifetime a tenant may allow, in seconds: the ceiling every
/// tenant has, which is also the default (`MAX_ASSERTION_LIFETIME`, one hour).
// The protocol constant is a positive i64 well within u32 (3600), so the cast keeps it.
pub const MAX_TENANT_ASSERTION_LIFETIME: u32 = MAX_ASSERTION_LIFETIME as u32;
/// The shortest: one second (a limit of none would refuse every assertion).
pub const MIN_TENANT_ASSERTION_LIFETIME: u32 = 1;

/// Why a tenant operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    /// A name that is not 1 to 63 lower-case letters, digits, `-` or `_`.
    #[error(
        "tenant name {0:?} is invalid: use 1 to 63 lower-case letters, digits, '-' or '_', starting with a letter or digit"
    )]
    BadName(String),
    /// A domain that is not a host name.
    #[error("{0}")]
    BadDomain(String),
    /// An issuer that is not an http(s) URL.
    #[error(
        "issuer {0:?} is invalid: use an https:// (or http://) URL with a host and no query or fragment"
    )]
    BadIssuer(String),
    /// A tenant other than `default` needs a domain to be reachable.
    #[error("tenant {0:?} needs at least one domain: requests find their tenant by Host")]
    NoDomains(String),
    /// More domains than `MAX_DOMAINS`.
    #[error("a tenant has at most {MAX_DOMAINS} domains")]
    TooManyDomains,
    /// A client assertion lifetime limit outside 1 s to 1 h, in seconds.
    #[error(
        "a max assertion lifetime of {0} s is out of range: give 1s to 1h (the most is 1h, the default)"
    )]
    BadAssertionLifetime(u64),
    /// The `default` tenant cannot be deleted.
    #[error("the default tenant cannot be deleted")]
    DefaultIsPermanent,
    /// No such tenant.
    #[error("no tenant named {0:?}")]
    NotFound(String),
    /// The name or a domain is taken.
    #[error("{0}")]
    Duplicate(String),
    /// The tenant still has apps.
    #[error("{0}")]
    HasApps(String),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
    /// Making the tenant's first signing key failed.
    #[error(transparent)]
    Key(#[from] SigningKeyError),
}

impl TenantError {
    fn from_store(error: StoreError, name: &str) -> TenantError {
        match error {
            StoreError::NotFound(_) => TenantError::NotFound(name.to_owned()),
            StoreError::Duplicate(message) => TenantError::Duplicate(message),
            StoreError::InUse(message) => TenantError::HasApps(message),
            other => TenantError::Store(other),
        }
    }
}

/// Settings for a new tenant.
#[derive(Debug, Clone, Default)]
pub struct NewTenant {
    /// Unique name.
    pub name: String,
    /// Hosts it answers on; the first gives its default issuer.
    pub domains: Vec<String>,
    /// Its issuer, when not `https://FIRST_DOMAIN`.
    pub issuer: Option<String>,
    /// The shape of its tokens, when not the seed's.
    pub token_profile: Option<TokenProfile>,
    /// Whether discovery lists its scopes (default: yes).
    pub publish_scopes: Option<bool>,
    /// The longest lifetime of a client assertion it accepts, in seconds, when shorter than
    /// the default hour.
    pub max_assertion_lifetime: Option<u64>,
}

/// Changes to a tenant.
#[derive(Debug, Clone, Default)]
pub struct TenantChanges {
    /// New domains (replacing the old list).
    pub domains: Option<Vec<String>>,
    /// New issuer (`Some(None)` goes back to the default).
    pub issuer: Option<Option<String>>,
    /// New token profile.
    pub token_profile: Option<TokenProfile>,
    /// Whether discovery lists its scopes.
    pub publish_scopes: Option<bool>,
    /// New longest client assertion lifetime in seconds (`Some(None)` goes back to the
    /// default hour).
    pub max_assertion_lifetime: Option<Option<u64>>,
}

impl TenantChanges {
    /// Whether these changes change nothing.
    pub fn is_empty(&self) -> bool {
        self.domains.is_none()
            && self.issuer.is_none()
            && self.token_profile.is_none()
            && self.publish_scopes.is_none()
            && self.max_assertion_lifetime.is_none()
    }
}

/// Longest tenant name, in bytes (a DNS label's length, so a name can become a host).
pub const MAX_NAME_BYTES: usize = 63;
/// The bytes a tenant name may start with.
const NAME_FIRST: [RangeInclusive<u8>; 2] = [b'a'..=b'z', b'0'..=b'9'];
/// The bytes a tenant name may hold after its first.
const NAME_REST: [RangeInclusive<u8>; 4] = [b'a'..=b'z', b'0'..=b'9', b'-'..=b'-', b'_'..=b'_'];

fn in_class(class: &[RangeInclusive<u8>], byte: u8) -> bool {
    class.iter().any(|range| range.contains(&byte))
}

/// Checks a tenant name.
pub fn check_name(name: &str) -> Result<(), TenantError> {
    let valid = (1..=MAX_NAME_BYTES).contains(&name.len())
        && name
            .bytes()
            .next()
            .is_some_and(|first| in_class(&NAME_FIRST, first))
        && name.bytes().skip(1).all(|byte| in_class(&NAME_REST, byte));
    if valid {
        Ok(())
    } else {
        Err(TenantError::BadName(name.to_owned()))
    }
}

/// The rule `check_name` applies, as an ECMA-262 pattern (for the OpenAPI document).
pub fn name_pattern() -> String {
    let class = |ranges: &[RangeInclusive<u8>]| -> String {
        ranges
            .iter()
            .map(|range| {
                let (start, end) = (char::from(*range.start()), char::from(*range.end()));
                if start == '-' && end == '-' {
                    // A bare '-' would read as a range inside a class.
                    "\\-".to_owned()
                } else if start == end {
                    start.to_string()
                } else {
                    format!("{start}-{end}")
                }
            })
            .collect()
    };
    format!(
        "^[{}][{}]{{0,{}}}$",
        class(&NAME_FIRST),
        class(&NAME_REST),
        MAX_NAME_BYTES - 1
    )
}

/// A domain as stored and matched: lower-case, without a trailing dot. Refuses anything that
/// is not a host name (a port, a scheme, a path, an empty label).
pub fn normalize_domain(text: &str) -> Result<String, TenantError> {
    let domain = text.trim().trim_end_matches('.').to_ascii_lowercase();
    let bad = |why: &str| TenantError::BadDomain(format!("domain {text:?} is invalid: {why}"));
    if domain.contains("://") || domain.contains('/') {
        return Err(bad("give the host name alone, without scheme or path"));
    }
    if domain.contains(':') {
        return Err(bad(
            "give the host name without a port (the port is ignored when routing)",
        ));
    }
    if domain.is_empty() || domain.len() > 253 {
        return Err(bad("a host name has 1 to 253 characters"));
    }
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
    };
    if !domain.split('.').all(label_ok) {
        return Err(bad(
            "use letters, digits and '-' in dot-separated labels, such as auth.example.com",
        ));
    }
    Ok(domain)
}

/// Checks an issuer URL.
pub fn check_issuer(issuer: &str) -> Result<(), TenantError> {
    let rest = issuer
        .strip_prefix("https://")
        .or_else(|| issuer.strip_prefix("http://"));
    let valid = rest.is_some_and(|rest| {
        let host = rest.split('/').next().unwrap_or_default();
        !host.is_empty()
            && !rest.contains(['?', '#'])
            && !rest.chars().any(|c| c.is_whitespace() || c.is_control())
    }) && issuer.len() <= 2048;
    if valid {
        Ok(())
    } else {
        Err(TenantError::BadIssuer(issuer.to_owned()))
    }
}

/// Checks a limit on client assertion lifetimes, in seconds: 1 s to 1 h.
pub fn check_assertion_lifetime(seconds: u64) -> Result<u32, TenantError> {
    u32::try_from(seconds)
        .ok()
        .filter(|seconds| {
            (MIN_TENANT_ASSERTION_LIFETIME..=MAX_TENANT_ASSERTION_LIFETIME).contains(seconds)
        })
        .ok_or(TenantError::BadAssertionLifetime(seconds))
}

/// A tenant's domains as stored: each normalized, duplicates dropped, within the limits.
pub fn normalize_domains(name: &str, domains: &[String]) -> Result<Vec<String>, TenantError> {
    let mut normalized: Vec<String> = Vec::with_capacity(domains.len());
    for domain in domains {
        let domain = normalize_domain(domain)?;
        if !normalized.contains(&domain) {
            normalized.push(domain);
        }
    }
    if normalized.len() > MAX_DOMAINS {
        return Err(TenantError::TooManyDomains);
    }
    if normalized.is_empty() && name != DEFAULT_TENANT {
        return Err(TenantError::NoDomains(name.to_owned()));
    }
    Ok(normalized)
}

fn details(tenant: &TenantRecord) -> serde_json::Value {
    json!({
        "domains": tenant.domains,
        "issuer": tenant.issuer,
        "token_profile": tenant.token_profile,
        "publish_scopes": tenant.publish_scopes,
        "max_assertion_lifetime": tenant.max_assertion_lifetime,
    })
}

/// Creates a tenant with its first signing key, in one transaction: a server that sees the
/// tenant sees its key, so its hosts never answer as another tenant nor without a key, and no
/// server makes keys while it follows changes.
pub async fn create(
    store: &dyn Store,
    master: &MasterKeys,
    new: NewTenant,
    actor: Actor<'_>,
    now: i64,
) -> Result<TenantRecord, TenantError> {
    check_name(&new.name)?;
    if let Some(issuer) = &new.issuer {
        check_issuer(issuer)?;
    }
    let max_assertion_lifetime = new
        .max_assertion_lifetime
        .map(check_assertion_lifetime)
        .transpose()?;
    let tenant = TenantRecord {
        domains: normalize_domains(&new.name, &new.domains)?,
        name: new.name,
        issuer: new.issuer,
        token_profile: new.token_profile.unwrap_or_default(),
        publish_scopes: new.publish_scopes.unwrap_or(true),
        max_assertion_lifetime,
        created_at: now,
        updated_at: now,
    };
    let key = keys::new_key(
        master,
        &tenant.name,
        Algorithm::default(),
        KeyStatus::Active,
        now,
    )
    .await?;
    let event = audit::event(
        actor,
        &tenant.name,
        "tenant.create",
        &tenant.name,
        details(&tenant),
        now,
    );
    store
        .create_tenant(&tenant, Some(&key), Some(&event))
        .await
        .map_err(|error| TenantError::from_store(error, &tenant.name))?;
    Ok(tenant)
}

/// Reads one tenant.
pub async fn show(store: &dyn Store, name: &str) -> Result<TenantRecord, TenantError> {
    store
        .tenant(name)
        .await
        .map_err(TenantError::Store)?
        .ok_or_else(|| TenantError::NotFound(name.to_owned()))
}

/// Changes a tenant's domains, issuer or settings.
pub async fn update(
    store: &dyn Store,
    name: &str,
    changes: &TenantChanges,
    actor: Actor<'_>,
    now: i64,
) -> Result<TenantRecord, TenantError> {
    let mut tenant = show(store, name).await?;
    if let Some(domains) = &changes.domains {
        tenant.domains = normalize_domains(name, domains)?;
    }
    if let Some(issuer) = &changes.issuer {
        if let Some(issuer) = issuer {
            check_issuer(issuer)?;
        }
        tenant.issuer = issuer.clone();
    }
    if let Some(profile) = changes.token_profile {
        tenant.token_profile = profile;
    }
    if let Some(publish) = changes.publish_scopes {
        tenant.publish_scopes = publish;
    }
    if let Some(limit) = changes.max_assertion_lifetime {
        tenant.max_assertion_lifetime = limit.map(check_assertion_lifetime).transpose()?;
    }
    tenant.updated_at = now;
    let event = audit::event(actor, name, "tenant.update", name, details(&tenant), now);
    store
        .update_tenant(&tenant, Some(&event))
        .await
        .map_err(|error| TenantError::from_store(error, name))?;
    Ok(tenant)
}

/// Deletes a tenant; with `force`, its apps, keys and revocations too.
pub async fn delete(
    store: &dyn Store,
    name: &str,
    force: bool,
    actor: Actor<'_>,
    now: i64,
) -> Result<(), TenantError> {
    if name == DEFAULT_TENANT {
        return Err(TenantError::DefaultIsPermanent);
    }
    let event = audit::event(
        actor,
        name,
        "tenant.delete",
        name,
        json!({ "force": force }),
        now,
    );
    store
        .delete_tenant(name, force, Some(&event))
        .await
        .map_err(|error| TenantError::from_store(error, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_pattern_spells_the_rule_check_name_applies() {
        assert_eq!(name_pattern(), "^[a-z0-9][a-z0-9\\-_]{0,62}$");
        for name in ["a", "0-x_y", &"a".repeat(MAX_NAME_BYTES)] {
            assert!(check_name(name).is_ok(), "{name}");
        }
        for name in [
            "",
            "-a",
            "_a",
            "A",
            "a.b",
            "a b",
            &"a".repeat(MAX_NAME_BYTES + 1),
        ] {
            assert!(check_name(name).is_err(), "{name}");
        }
    }

    #[test]
    fn domains_are_lower_case_host_names() {
        assert_eq!(
            normalize_domain("Auth.ACME.test.").unwrap(),
            "auth.acme.test"
        );
        assert_eq!(normalize_domain("127.0.0.1").unwrap(), "127.0.0.1");
        assert_eq!(normalize_domain("localhost").unwrap(), "localhost");
        for bad in [
            "",
            "acme.test:8443",
            "https://acme.test",
            "acme.test/x",
            "a..b",
            "-a.test",
            "a_b.test",
            "a b.test",
        ] {
            assert!(normalize_domain(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_are_short_lower_case_words() {
        for good in ["acme", "acme-eu", "t_1", "9lives"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "Acme", "-acme", "acme corp", "a/b", &"a".repeat(64)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn issuers_are_http_urls_without_query_or_fragment() {
        assert!(check_issuer("https://auth.acme.test").is_ok());
        assert!(check_issuer("http://localhost:8080/tenant").is_ok());
        for bad in [
            "acme.test",
            "ftp://x",
            "https://",
            "https://a?x=1",
            "https://a#f",
            "https://a b",
        ] {
            assert!(check_issuer(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_assertion_lifetime_limit_is_one_second_to_one_hour() {
        assert_eq!(check_assertion_lifetime(1).unwrap(), 1);
        assert_eq!(check_assertion_lifetime(300).unwrap(), 300);
        assert_eq!(check_assertion_lifetime(3_600).unwrap(), 3_600);
        for bad in [0, 3_601, u64::from(u32::MAX) + 1] {
            let refused = check_assertion_lifetime(bad).unwrap_err();
            assert!(refused.to_string().contains("the most is 1h"), "{refused}");
        }
    }

    #[test]
    fn tenants_other_than_default_need_a_domain() {
        assert!(matches!(
            normalize_domains("acme", &[]),
            Err(TenantError::NoDomains(_))
        ));
        assert!(normalize_domains(DEFAULT_TENANT, &[]).unwrap().is_empty());
        assert_eq!(
            normalize_domains("acme", &["A.test".into(), "a.test".into()]).unwrap(),
            ["a.test"]
        );
    }
}
