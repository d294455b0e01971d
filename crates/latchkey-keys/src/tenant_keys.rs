//! A tenant's parsed signing keys as a node holds them: the one that signs, the published ones
//! a token may be verified with, and one that starts signing at a set instant.

use crate::Signer;
use latchkey_protocol::introspection::TokenClaims;
use latchkey_store::KeyStatus;
use std::sync::Arc;

/// A tenant's parsed keys: the one that signs, and every one published in the JWKS.
#[derive(Debug, Default, Clone)]
pub struct TenantKeys {
    /// The active key, if the tenant has one.
    pub active: Option<Arc<Signer>>,
    /// Keys published in the JWKS (next, active, retiring), newest first.
    pub published: Vec<Arc<Signer>>,
    /// A published key that starts signing at a set instant (a rotation scheduled ahead).
    pub pending: Option<PendingKey>,
    /// When each published key was made and its stored status, for the metrics' key ages.
    pub lives: Vec<KeyLife>,
}

/// A published key's creation time and stored status.
#[derive(Debug, Clone)]
pub struct KeyLife {
    /// The key's id.
    pub kid: String,
    /// Its status as stored (a `next` key that reached its instant is active here before the
    /// store says so: `status` says which it is now).
    pub stored_status: KeyStatus,
    /// When it was created (unix seconds).
    pub created_at: i64,
}

/// A `next` key with its activation instant.
#[derive(Debug, Clone)]
pub struct PendingKey {
    /// The key (also among the published ones).
    pub signer: Arc<Signer>,
    /// When it starts signing (unix seconds).
    pub activate_at: i64,
}

impl TenantKeys {
    /// Where `life`'s key stands on this node now: the signing key is `active` and the key
    /// waiting for its instant `next`, whatever the store last said; the rest as stored.
    pub fn status(&self, life: &KeyLife) -> KeyStatus {
        let is = |signer: &Arc<Signer>| signer.kid() == life.kid;
        if self.active.as_ref().is_some_and(is) {
            KeyStatus::Active
        } else if self
            .pending
            .as_ref()
            .is_some_and(|pending| is(&pending.signer))
        {
            KeyStatus::Next
        } else if life.stored_status == KeyStatus::Active {
            // Replaced by a pending key that reached its instant: retiring from then on.
            KeyStatus::Retiring
        } else {
            life.stored_status
        }
    }

    /// The published key with this kid.
    pub fn published(&self, kid: &str) -> Option<&Arc<Signer>> {
        self.published.iter().find(|signer| signer.kid() == kid)
    }

    /// The claims of a token signed by one of these published keys, with the key's own
    /// algorithm; `None` for anything else (malformed, unknown or retired key, other algorithm,
    /// bad signature, claims that are not latchkey's).
    pub fn verify(&self, token: &str) -> Option<TokenClaims> {
        let jws = crate::jws::decode(token)?;
        let signer = self.published(jws.header.kid.as_deref()?)?;
        if !signer.verify(&jws) {
            return None;
        }
        TokenClaims::parse(&jws.payload)
    }

    /// Makes the pending key `kid` the signing key if its instant has come; returns whether it
    /// did. The key's tokens verify already: it has been published since it was created.
    pub fn activate(&mut self, kid: &str, now: i64) -> bool {
        match self.pending.take() {
            Some(pending) if pending.signer.kid() == kid && now >= pending.activate_at => {
                self.active = Some(pending.signer);
                true
            }
            other => {
                self.pending = other;
                false
            }
        }
    }
}
