//! Authentication by assertion on the request path: a client assertion (`private_key_jwt`,
//! signed with the app's own key, or a workload's identity token that one of the app's
//! federation rules trusts) at the token, introspection and revocation endpoints, and the JWT
//! bearer grant's assertion at the token endpoint.
//!
//! Keys come from the snapshot (an inline JWK Set, keys pinned on a rule, parsed once) or
//! from `RemoteKeys` (a `jwks_uri`, an issuer's discovery), which answers from its cache
//! without IO for a key it knows; the claims rules are `latchkey_protocol::assertion`'s.
//! Every refusal is an `AuthFailure`, which the endpoint turns into `invalid_client` (or
//! `invalid_grant`) and logs: the client is never told which check failed.

mod logins;
mod replay;

use crate::paths;
use crate::registry::{AppKeys, ClientEntry, Snapshot, TenantState, Trust};
use crate::remote_keys::{KeySource, RemoteKeys};
use latchkey_keys::PublicKeySet;
use latchkey_keys::jws::{self, CompactJws};
use latchkey_manage::clock::Clock;
use latchkey_protocol::assertion::{self, Claims};
use latchkey_protocol::client_auth::{Assertion, AuthFailure};
use latchkey_store::Store;
use logins::{Login, LoginAudit};
use replay::ReplayCache;
use std::sync::Arc;

/// What assertion checks keep between requests: remote keys, the replay cache, and when each
/// federated login was last audited.
pub(crate) struct Assertions {
    remote: RemoteKeys,
    replay: ReplayCache,
    logins: LoginAudit,
}

/// A decoded assertion, its claims not yet trusted.
struct Decoded<'a> {
    jws: CompactJws<'a>,
    claims: Claims,
}

fn decode(assertion: &Assertion) -> Result<Decoded<'_>, AuthFailure> {
    let jws = jws::decode(assertion.expose()).ok_or(AuthFailure::MalformedAssertion)?;
    let claims = Claims::parse(&jws.payload).ok_or(AuthFailure::MalformedAssertion)?;
    Ok(Decoded { jws, claims })
}

impl Assertions {
    pub(crate) fn new(clock: Arc<dyn Clock>, store: Arc<dyn Store>) -> Assertions {
        Assertions {
            remote: RemoteKeys::new(clock),
            replay: ReplayCache::default(),
            logins: LoginAudit::new(store),
        }
    }

    /// Authenticates `entry` (the app the request names, if it exists) by a client
    /// assertion: its own `private_key_jwt` when the assertion's issuer is its client id,
    /// else a federated identity token.
    pub(crate) async fn authenticate_client(
        &self,
        tenant: &TenantState,
        entry: Option<&ClientEntry>,
        assertion: &Assertion,
        now: i64,
    ) -> Result<(), AuthFailure> {
        let entry = entry.ok_or(AuthFailure::UnknownClient)?;
        let decoded = decode(assertion)?;
        let keys = entry.keys.as_deref().ok_or(AuthFailure::NoKeys)?;
        let client_id = entry.client.client_id.as_str();
        if decoded.claims.issuer() == Some(client_id) {
            self.private_key_jwt(tenant, client_id, keys, &decoded, now)
                .await?;
        } else {
            self.federated(tenant, entry, keys, &decoded, now).await?;
        }
        enabled(entry)
    }

    /// The JWT bearer grant: the app the external token is, by `client_id` when the request
    /// gives one, else the one app of the tenant whose rules it matches.
    pub(crate) async fn authenticate_grant<'s>(
        &self,
        snapshot: &'s Snapshot,
        tenant: &'s TenantState,
        client_id: Option<&str>,
        assertion: &Assertion,
        now: i64,
    ) -> Result<&'s Arc<ClientEntry>, AuthFailure> {
        let decoded = decode(assertion)?;
        let entry = match client_id {
            Some(client_id) => snapshot
                .client_entry(tenant, client_id)
                .ok_or(AuthFailure::UnknownClient)?,
            None => the_one_trusting(snapshot, tenant, &decoded.claims, now)?,
        };
        let keys = entry.keys.as_deref().ok_or(AuthFailure::NoKeys)?;
        self.federated(tenant, entry, keys, &decoded, now).await?;
        enabled(entry)?;
        Ok(entry)
    }

    async fn private_key_jwt(
        &self,
        tenant: &TenantState,
        client_id: &str,
        keys: &AppKeys,
        decoded: &Decoded<'_>,
        now: i64,
    ) -> Result<(), AuthFailure> {
        if !assertion::client_assertion_type_allowed(decoded.jws.header.typ.as_deref()) {
            return Err(AuthFailure::AssertionType);
        }
        let kid = decoded.jws.header.kid.as_deref();
        let verified = match (&keys.jwks, &keys.jwks_uri) {
            (Some(set), _) => set.verify(&decoded.jws),
            (None, Some(uri)) => self
                .remote_set(KeySource::JwksUri(uri), kid)
                .await?
                .verify(&decoded.jws),
            (None, None) => return Err(AuthFailure::NoKeys),
        };
        if !verified {
            return Err(AuthFailure::BadSignature);
        }
        let replay = assertion::check_client_assertion(
            &decoded.claims,
            client_id,
            (&tenant.issuer, paths::TOKEN),
            // The tenant's own limit, never above the ceiling the replay cache is sized for.
            tenant
                .assertion_lifetime
                .min(assertion::MAX_ASSERTION_LIFETIME),
            now,
        )?;
        if !self.replay.first_use(&tenant.name, client_id, &replay, now) {
            return Err(AuthFailure::ReplayedAssertion);
        }
        Ok(())
    }

    /// Checks an external identity token against the app's trusts of its issuer: the first
    /// whose claims rules it satisfies and whose issuer keys verify it. Audited (at most once
    /// an hour per app, rule and subject).
    async fn federated(
        &self,
        tenant: &TenantState,
        entry: &ClientEntry,
        keys: &AppKeys,
        decoded: &Decoded<'_>,
        now: i64,
    ) -> Result<(), AuthFailure> {
        let issuer = decoded
            .claims
            .issuer()
            .ok_or(AuthFailure::UntrustedIssuer)?;
        let mut refusal = AuthFailure::UntrustedIssuer;
        for trust in keys.trusts_of(issuer) {
            // The claims first: a token that matches no rule costs no key fetch.
            if let Err(reason) =
                assertion::check_federated(&decoded.claims, &trust.rule, &tenant.issuer, now)
            {
                refusal = reason;
                continue;
            }
            if !self.issuer_keys(trust, decoded).await? {
                refusal = AuthFailure::BadSignature;
                continue;
            }
            let subject = decoded.claims.all().get("sub").and_then(|sub| sub.as_str());
            self.logins.record(
                &Login {
                    tenant: &tenant.name,
                    client_id: &entry.client.client_id,
                    rule: &trust.rule.name,
                    issuer,
                    subject: subject.unwrap_or_default(),
                },
                now,
            );
            return Ok(());
        }
        Err(refusal)
    }

    /// Whether the trust's issuer signed the token: with the keys the rule pins, else those
    /// its discovery document names.
    async fn issuer_keys(&self, trust: &Trust, decoded: &Decoded<'_>) -> Result<bool, AuthFailure> {
        match &trust.pinned {
            Some(set) => Ok(set.verify(&decoded.jws)),
            None => {
                let kid = decoded.jws.header.kid.as_deref();
                let set = self
                    .remote_set(KeySource::Issuer(&trust.rule.issuer), kid)
                    .await?;
                Ok(set.verify(&decoded.jws))
            }
        }
    }

    async fn remote_set(
        &self,
        source: KeySource<'_>,
        kid: Option<&str>,
    ) -> Result<Arc<PublicKeySet>, AuthFailure> {
        self.remote.keys(source, kid).await.map_err(|error| {
            tracing::warn!(error = %error, "keys for an assertion could not be had");
            AuthFailure::KeysUnavailable
        })
    }
}

/// A disabled app is refused once its credential checked out, as with a secret.
fn enabled(entry: &ClientEntry) -> Result<(), AuthFailure> {
    if entry.client.enabled {
        Ok(())
    } else {
        Err(AuthFailure::Disabled)
    }
}

/// The one app of `tenant` with a trust the token's claims satisfy (before its signature is
/// checked, which the caller does with that trust's keys). None, or more than one, is a
/// refusal: a token must say which app it is when several trust it.
fn the_one_trusting<'s>(
    snapshot: &'s Snapshot,
    tenant: &'s TenantState,
    claims: &Claims,
    now: i64,
) -> Result<&'s Arc<ClientEntry>, AuthFailure> {
    let issuer = claims.issuer().ok_or(AuthFailure::UntrustedIssuer)?;
    let mut found: Option<&Arc<ClientEntry>> = None;
    for entry in snapshot.federated_clients(tenant) {
        let Some(keys) = entry.keys.as_deref() else {
            continue;
        };
        let trusted = keys.trusts_of(issuer).any(|trust| {
            assertion::check_federated(claims, &trust.rule, &tenant.issuer, now).is_ok()
        });
        if trusted {
            if found.is_some() {
                return Err(AuthFailure::AmbiguousApp);
            }
            found = Some(entry);
        }
    }
    found.ok_or(AuthFailure::NoMatchingRule)
}
